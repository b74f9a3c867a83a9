#!/bin/sh
# Build the wheels of one image into OUT: the given workspace packages, the
# workspace libraries they declare (webos-common, webos-modulehost: from
# this checkout, never from an index) and the third-party packages they
# declare, resolved by pip and pinned by requirements/dev.txt. Nothing of
# another package's stack. Runs in docker/Dockerfile's build stage.
set -eu
out=$1
shift
[ "$#" -gt 0 ] || { echo "build-wheels.sh: no package given (--build-arg PACKAGE=…)" >&2; exit 2; }
local_dirs=""
for dir in "$@"; do
  [ -f "$dir/pyproject.toml" ] || { echo "build-wheels.sh: $dir has no pyproject.toml" >&2; exit 2; }
  for lib in webos_common webos_modulehost; do
    name=$(echo "$lib" | tr _ -)
    if grep -q "\"$name\"" "$dir/pyproject.toml"; then
      case " $local_dirs " in *" libs/$lib "*) ;; *) local_dirs="$local_dirs libs/$lib" ;; esac
    fi
  done
done
# shellcheck disable=SC2086 # word splitting of the package lists is intended
pip wheel --no-cache-dir --wheel-dir "$out" -c requirements/dev.txt $local_dirs "$@"
