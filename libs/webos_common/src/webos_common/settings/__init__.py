"""What an admin configures, read live: the typed client of the settings service, and mail from it."""
