# Bedside. README commands: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: help setup run test bench

help:
	@echo "make setup   install system packages, .venv, Python deps and models (idempotent)"
	@echo "make run     setup, then serve on http://\$$HOST:\$$PORT (default $(HOST):$(PORT))"
	@echo "make test    setup, then run the test suite (scripts/test.sh; ARGS='-k x' to pass pytest args)"
	@echo "make bench   setup, then run every eval/bench/*.py; fails when any missed a target"

setup:
	@bash scripts/setup.sh

run: setup
	$(VENV)/bin/bedside serve --host "$(HOST)" --port "$(PORT)"

test: setup
	@bash scripts/test.sh $(ARGS)

bench: setup
	@shopt -s nullglob; files=(eval/bench/*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "[bench] no eval/bench/*.py yet; nothing to run"; exit 0; fi; \
	missed=(); for f in "$${files[@]}"; do \
		echo "[bench] $$f"; \
		$(PY) "$$f" || missed+=("$$f"); \
	done; \
	if [ $${#missed[@]} -gt 0 ]; then echo "[bench] a target was missed (or the run failed) in: $${missed[*]}" >&2; exit 1; fi; \
	echo "[bench] every target met"
