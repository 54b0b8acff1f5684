# The template's own tasks. Its test tools live in .venv, made with uv when uv is installed, at
# the exact versions (and hashes) of requirements-dev.lock.txt, which `make lock` compiles from
# the bounds in requirements-dev.txt.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null)
PYTEST_ARGS ?=
TOOLS := requirements-dev.txt
TOOLS_LOCK := requirements-dev.lock.txt
# `make lock LOCK_ARGS=--upgrade` moves every pin to the newest version the bounds allow.
LOCK_ARGS ?=
LINTED := hooks tests local_extensions.py
DEMO_DIR := build
DEMO_SLUG := my-service

.PHONY: help test lint lock demo clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-6s %s\n", $$1, $$2}'

$(BIN)/python:
ifdef UV
	$(UV) venv --quiet --python $(PYTHON) $(VENV)
else
	$(PYTHON) -m venv $(VENV)
endif

$(VENV)/.installed: $(TOOLS_LOCK) | $(BIN)/python
ifdef UV
	$(UV) pip sync --quiet --python $(BIN)/python $(TOOLS_LOCK)
else
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --upgrade
	$(BIN)/python -m pip install --quiet --require-hashes -r $(TOOLS_LOCK)
endif
	@touch $@

test: $(VENV)/.installed ## Run the template's tests in parallel (PYTEST_ARGS='-m "not slow"' skips the slow ones)
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

lint: $(VENV)/.installed ## ruff check and ruff format --check on hooks/, tests/ and local_extensions.py
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

# One lock for every Python CI runs the tools on: resolved for 3.11 and up, with the markers of
# any package that differs by Python or platform.
lock: ## Pin the tools of requirements-dev.txt, with hashes, in requirements-dev.lock.txt (needs uv)
	@test -n "$(UV)" || { echo "error: make lock needs uv: https://docs.astral.sh/uv/"; exit 1; }
	$(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes $(LOCK_ARGS) $(TOOLS) -o $(TOOLS_LOCK)

demo: $(VENV)/.installed ## Bake the default project into build/ and serve it (make run) on 127.0.0.1:8080
	$(BIN)/cookiecutter --no-input --overwrite-if-exists -o $(DEMO_DIR) .
	$(MAKE) -C $(DEMO_DIR)/$(DEMO_SLUG) run

clean: ## Remove build/ and the caches (keeps .venv)
	rm -rf $(DEMO_DIR) .pytest_cache .ruff_cache __pycache__
	find hooks tests -name __pycache__ -type d -prune -exec rm -rf {} +
