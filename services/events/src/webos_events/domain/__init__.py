"""Plain Python: what an event, a notification and a dead letter are; the AsyncAPI
catalogue; who may read a record's history."""
