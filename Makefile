# truceline developer commands. Everything installs into ./.venv from PyPI.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-all lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Simulate the built-in scenario, ingest, fuse, judge, report and score (writes demo-out/).
demo: $(STAMP)
	rm -rf demo-out
	$(BIN)/truceline demo --out demo-out

## The test suite (slow tests excluded; `make test-all` runs them too).
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test-all: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

## Performance and accuracy figures as one JSON object (also written to bench-results.json).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --out bench-results.json

clean:
	rm -rf demo-out bench-results.json .pytest_cache .mypy_cache .ruff_cache
