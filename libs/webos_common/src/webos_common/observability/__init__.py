"""One line per event, one trace per request: logging, the NATS log sink, tracing, metrics."""
