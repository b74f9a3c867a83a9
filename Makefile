# WebOS — the two commands: `make up` (the whole platform on this machine)
# and `make test` (lint + the whole suite). Both install what they need.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
PKG_FILES := $(wildcard libs/*/pyproject.toml services/*/pyproject.toml modules/*/pyproject.toml)
# every package's sources (the module template holds only templates)
TYPED := $(filter-out modules/template/src,$(wildcard libs/*/src services/*/src modules/*/src))

.PHONY: install up down status logs test lint unit bench chaos clean

$(STAMP): requirements/dev.txt scripts/bootstrap.sh $(PKG_FILES)
	./scripts/bootstrap.sh
	touch $(STAMP)

install: $(STAMP)

# On a fresh state `make up` loads the demo company (`webos demo load`): `make up WEBOS_DEMO=0` skips it.
WEBOS_DEMO ?= 1
up: install
	WEBOS_DEMO=$(WEBOS_DEMO) $(BIN)/webos up

down:
	@if [ -x $(BIN)/webos ]; then $(BIN)/webos down; else echo "nothing to stop"; fi

status: install
	$(BIN)/webos status

logs: install
	$(BIN)/webos logs

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy $(TYPED)
	$(BIN)/lint-imports

test: install lint
	./scripts/bootstrap.sh --browser
	$(BIN)/pytest --durations=30 $(PYTEST_ARGS)

# Fault drill: a cluster of its own (`webos up --cluster`), three full rounds of `webos chaos`
# (every fault, the checker's line per round), then down. `make test` runs one short round.
CHAOS_ARGS := --state-dir .webos-chaos --base-port 9400
chaos: install
	WEBOS_RATE_LIMIT_USER=1000/second $(BIN)/webos up --cluster $(CHAOS_ARGS) --timeout 180  # one admin writes it all
	$(BIN)/webos chaos $(CHAOS_ARGS) --rounds 3; rc=$$?; $(BIN)/webos down $(CHAOS_ARGS); exit $$rc

# Fast loop while coding: the tests that start no MongoDB, NATS, S3, platform or
# browser (the `integration` mark is set by webos_common.testing); no lint. The
# folders it marks whole (its INTEGRATION_DIRS) are not even collected.
unit: install
	$(BIN)/pytest -x -q -m "not integration and not browser" \
	  --ignore=tests/e2e --ignore=tests/operate --ignore=tests/integration $(PYTEST_ARGS)

requirements/dev.txt: requirements/base.in requirements/dev.in
	$(BIN)/uv pip compile requirements/dev.in -o requirements/dev.txt --python-version 3.11 \
	  --no-header --no-emit-index-url --no-annotate

bench: install
	./scripts/bootstrap.sh --bench
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean: down
	rm -rf .webos
