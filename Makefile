# newsflow: `make run` and `make test` set themselves up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck check bench train clean

install: $(STAMP)

# pip is upgraded first: older pips fail to resolve trafilatura's lxml extras.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: install
	$(BIN)/python -m newsflow.demo

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy services shared newsflow tests benchmarks

check: lint typecheck test

# Speed and quality figures for docs/benchmarks.md (reads ../shared/data at run time).
bench: install
	$(BIN)/python -m benchmarks.fetcher
	$(BIN)/python -m benchmarks.extraction
	$(BIN)/python -m benchmarks.classifier
	$(BIN)/python -m benchmarks.storage
	$(BIN)/python -m benchmarks.pipeline

# Reproduces the shipped topic model from ../shared/data/topics.
train: install
	$(BIN)/python -m services.classifier.train

clean:
	rm -rf $(VENV) .newsflow .pytest_cache .mypy_cache .ruff_cache
