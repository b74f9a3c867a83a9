"""webos_common's tests use the fixtures of the webos pytest plugin."""
