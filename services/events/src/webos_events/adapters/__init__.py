"""Adapters: MongoDB (collections, the event log's batched writer), NATS live push, the catalogue's sources."""
