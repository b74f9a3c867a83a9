"""Every gateway path the shell calls, in one place (the services' APIs)."""

LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
LOGOUT = "/api/auth/logout"
ME = "/api/auth/me"
USERS = "/api/auth/users"
ROLES = "/api/auth/roles"

SYSTEM_SETTINGS = "/api/settings/system"
SYSTEM_SETTINGS_SCHEMA = "/api/settings/system/schema"
MODULE_SETTINGS = "/api/settings/modules/{module}"

NOTIFICATIONS = "/api/events/notifications"
NOTIFICATIONS_UNREAD = "/api/events/notifications/unread-count"
NOTIFICATION_READ = "/api/events/notifications/{id}/read"
NOTIFICATIONS_READ_ALL = "/api/events/notifications/read-all"
EVENT_LOG = "/api/events/events"
DEAD_LETTERS = "/api/events/dead-letters"
DEAD_LETTER_REPLAY = "/api/events/dead-letters/{id}/replay"

LOG_SUBJECT = "webos.logs.>"
