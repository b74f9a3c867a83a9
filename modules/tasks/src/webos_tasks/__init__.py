"""Tasks: personal task lists with a kanban board, reminders and stats."""

__version__ = "0.1.0"
