"""Scheduled jobs: none yet (payments and reservations are driven by the workflow and the bus)."""
