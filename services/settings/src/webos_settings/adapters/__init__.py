"""Technology-named implementations: MongoDB storage, event publishing."""
