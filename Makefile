# The template's own tasks. Its test tools live in .venv, made with uv when uv is installed.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null)
PYTEST_ARGS ?=
LINTED := hooks tests local_extensions.py
DEMO_DIR := build
DEMO_SLUG := my-service

.PHONY: help test lint demo clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-6s %s\n", $$1, $$2}'

$(BIN)/python:
ifdef UV
	$(UV) venv --quiet --python $(PYTHON) $(VENV)
else
	$(PYTHON) -m venv $(VENV)
endif

$(VENV)/.installed: requirements-dev.txt | $(BIN)/python
ifdef UV
	$(UV) pip install --quiet --python $(BIN)/python -r requirements-dev.txt
else
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --upgrade
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
endif
	@touch $@

test: $(VENV)/.installed ## Run the template's tests in parallel (PYTEST_ARGS='-m "not slow"' skips the slow ones)
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

lint: $(VENV)/.installed ## ruff check and ruff format --check on hooks/, tests/ and local_extensions.py
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

demo: $(VENV)/.installed ## Bake the default project into build/ and serve it (make run) on 127.0.0.1:8080
	$(BIN)/cookiecutter --no-input --overwrite-if-exists -o $(DEMO_DIR) .
	$(MAKE) -C $(DEMO_DIR)/$(DEMO_SLUG) run

clean: ## Remove build/ and the caches (keeps .venv)
	rm -rf $(DEMO_DIR) .pytest_cache .ruff_cache __pycache__
	find hooks tests -name __pycache__ -type d -prune -exec rm -rf {} +
