"""Every gateway path the shell calls, in one place (the services' APIs)."""

ME = "/api/auth/me"
SSO_CONFIG = "/api/auth/sso/config"
SSO_LOGIN = "/api/auth/sso/login"
REGISTER = "/api/auth/register"
VERIFY_EMAIL = "/api/auth/verify-email"
FORGOT_PATH = "/api/auth/password/forgot"
RESET_PATH = "/api/auth/password/reset"
USERS = "/api/auth/users"
ROLES = "/api/auth/roles"
ACCESS_REQUESTS = "/api/auth/access-requests"  # pending; POST {id}/approve (roles) or {id}/deny

SETTINGS_SCHEMAS = "/api/settings/schemas"
SYSTEM_SETTINGS = "/api/settings/system/{section}"
MODULE_SETTINGS = "/api/settings/modules/{module}"
MODULE_ENABLED = "/api/settings/modules/{module}/enabled"  # the admin's module switch
SHELL_SETTINGS = "/api/settings/modules/shell"  # brand name and colours (module layer of `shell`)
MY_SHELL_SETTINGS = "/api/settings/me/shell"  # the person's theme: light, dark or system
MY_MODULE_SETTINGS = "/api/settings/me/{module}"  # a module's settings as in force for the person

NOTIFICATIONS = "/api/events/notifications"
NOTIFICATIONS_UNREAD = "/api/events/notifications/unread-count"
NOTIFICATION_READ = "/api/events/notifications/{id}/read"
NOTIFICATIONS_READ_ALL = "/api/events/notifications/read-all"
EVENT_LOG = "/api/events/events"
RECORD_HISTORY = "/api/events/events/records/{id}"  # a record's audit trail
DEAD_LETTERS = "/api/events/dead-letters"
DEAD_LETTER_REPLAY = "/api/events/dead-letters/{id}/replay"
MODULE_SAGAS = "/api/{module}/admin/sagas"  # a module host's saga runs; GET {id}, POST {id}/retry|compensate

LOG_SUBJECT = "webos.logs.>"

STORAGE_SOURCES = "/api/storage/sources"
STORAGE_FILES = "/api/storage/files"  # GET list, DELETE to the trash (`?urn=`)
STORAGE_CONTENT = "/api/storage/files/content"  # PUT raw upload, GET download (`?urn=`)
STORAGE_MKDIR = "/api/storage/files/mkdir"
STORAGE_MOVE = "/api/storage/files/move"
STORAGE_TAGS = "/api/storage/files/tags"
STORAGE_SEARCH = "/api/storage/search"
STORAGE_TRASH = "/api/storage/trash"
STORAGE_RESTORE = "/api/storage/trash/{id}/restore"
STORAGE_SHARES = "/api/storage/shares"  # signed links; `/api/storage/shares/<token>` needs no sign-in

OAUTH_CONSENT = "/api/auth/oauth/consent"  # GET what an app asks (the authorize query); POST {allow}
OAUTH_CLIENTS = "/api/auth/oauth/clients"  # admins: the apps that sign in with WebOS
MY_APPS = "/api/auth/me/apps"  # the apps a person allowed; DELETE {client_id} revokes
