# The two set-up commands of the README: `make run` and `make test`.
# Both create .venv on first use and reinstall when pyproject.toml changes.
# Recipes are silent (@) so that `make report > report.csv` holds the report only.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA := data
SAMPLE_STORES ?= 1000
HOST ?= $(or $(STOREMON_HOST),127.0.0.1)
PORT ?= $(or $(STOREMON_PORT),5000)

.DEFAULT_GOAL := help
.PHONY: help run report test notebook lint typecheck bench clean

## List the targets and what they do.
help:
	@awk '/^## /{doc = doc substr($$0, 4) " "; next} \
		/^[a-z][a-z-]*:/ && doc {split($$0, t, ":"); printf "  make %-10s %s\n", t[1], doc} \
		{if ($$0 !~ /^## /) doc = ""}' $(MAKEFILE_LIST)
	@echo "  Variables: PORT=$(PORT) HOST=$(HOST) SAMPLE_STORES=$(SAMPLE_STORES) BENCH_ARGS=..."

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip >&2

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	@$(BIN)/python -m pip install -q -e '.[server]' >&2
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@$(BIN)/python -m pip install -q -e '.[server,postgres,test]' >&2
	@touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	@$(BIN)/python -m pip install -q -e '.[server,postgres]' >&2
	@touch $@

$(DATA)/store_status.csv: | $(VENV)/.installed-run
	@$(BIN)/storemon sample --output $(DATA) --stores $(SAMPLE_STORES) --seed 1

## The main job: sample data in data/, then the server on http://HOST:PORT/ over SQLite
## (docs/server.md); Ctrl-C stops it. Another port: make run PORT=8080.
run: $(VENV)/.installed-run $(DATA)/store_status.csv
	@$(BIN)/storemon serve --data-dir $(DATA) --db sqlite:///$(DATA)/storemon.db \
		--host $(HOST) --port $(PORT)

## The report straight from the sample CSV files, on standard output only.
report: $(VENV)/.installed-run $(DATA)/store_status.csv
	@$(BIN)/storemon report --status $(DATA)/store_status.csv \
		--business-hours $(DATA)/business_hours.csv --timezones $(DATA)/timezones.csv

## Every check: lint, format, types, tests (README, "Running every test").
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

## Run docs/notebook.ipynb on a fresh kernel and save its outputs (a test checks that the
## saved outputs are the ones it gives).
notebook: $(VENV)/.installed-test
	@$(BIN)/python -c 'import nbclient, nbformat; \
		notebook = nbformat.read("docs/notebook.ipynb", as_version=4); \
		nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", \
			record_timing=False).execute(); \
		nbformat.write(notebook, "docs/notebook.ipynb")'

## Whole-process benchmarks against the performance goals (docs/benchmarks.md); data sets
## are cached in ~/.cache/storemon-bench. make bench BENCH_ARGS=--quick for a small run.
bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

## Lint and format checks only.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Type checks only (mypy, strict).
typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

## Remove the virtual environment and caches (not data/).
clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
