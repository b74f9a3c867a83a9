"""Plain rules: permissions and roles, passwords, tokens, two-factor codes, client assertions (no I/O)."""
