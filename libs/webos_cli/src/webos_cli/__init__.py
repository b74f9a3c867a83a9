"""The `webos` command line: launcher, status, logs."""
