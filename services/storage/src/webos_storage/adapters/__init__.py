"""Adapters: data sources by technology, the Mongo index and trash, the bus."""
