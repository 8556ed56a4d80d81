# Two commands for a newcomer: `make run` (set up, build, serve) and `make test` (set up, lint, test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LINT_PATHS := $(wildcard src tests bench)

.PHONY: setup system-deps run build test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

setup: $(STAMP)

build: setup
	$(BIN)/treatygraph build

run: setup
	$(BIN)/treatygraph serve

lint: setup
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

format: setup
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

# Debian packages the client and browser tests use (roqet, chromium), installed when missing.
system-deps:
	@if [ -f scripts/system-deps.sh ]; then bash scripts/system-deps.sh; fi

test: lint system-deps
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist .pytest_cache var
