"""Use cases: the event log, notifications, dead letters, mail digests, the event catalogue."""
