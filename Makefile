# The two set-up commands of the README: `make run` and `make test`.
# Both create .venv on first use and reinstall when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA := data
SAMPLE_STORES ?= 1000

.PHONY: run report test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[server]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[server,postgres,test]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[server,postgres]'
	touch $@

$(DATA)/store_status.csv: | $(VENV)/.installed-run
	$(BIN)/storemon sample --output $(DATA) --stores $(SAMPLE_STORES) --seed 1

## The main job: sample data, then the server on http://127.0.0.1:5000 over SQLite
## (docs/server.md); Ctrl-C stops it.
run: $(VENV)/.installed-run $(DATA)/store_status.csv
	$(BIN)/storemon serve --data-dir $(DATA) --db sqlite:///$(DATA)/storemon.db

## The report straight from the sample CSV files, on standard output.
report: $(VENV)/.installed-run $(DATA)/store_status.csv
	$(BIN)/storemon report --status $(DATA)/store_status.csv \
		--business-hours $(DATA)/business_hours.csv --timezones $(DATA)/timezones.csv

## Every check: lint, format, types, tests.
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

## Whole-process benchmarks against the performance goals (docs/benchmarks.md); data sets
## are cached in ~/.cache/storemon-bench. `make bench BENCH_ARGS=--quick` for a small run.
## PostgreSQL is measured too when one answers (BENCH_ARGS=--pg URL, or --no-pg).
bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
