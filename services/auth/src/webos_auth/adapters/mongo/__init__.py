"""Auth's MongoDB collections (`auth_*`), one adapter per subject."""
