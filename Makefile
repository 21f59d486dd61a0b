# The two commands a new user needs: `make demo` and `make test`.
# `make` creates .venv with Python 3.11 and installs gridplan with all its dependencies once;
# the stamp file makes a second run skip the install unless pyproject.toml changed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: all demo test test-ci test-browser test-full lint format app bench clean sample notebooks lab

all: demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gridplan demo --out out

# A developer's run (about 5 minutes on 2 cores): lint, then every test not marked slow, the
# property tests at a tenth of their budget. CI (.ci/run) runs it and then `make test-ci`.
# Among them the browser tests not marked slow (one app server and one headless chromium per
# worker); they skip when Debian's chromium is not installed.
test: lint
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not slow" --hypothesis-profile=quick

# CI's second run: the slow tests (the longer browser sessions, the PostGIS server, notebooks,
# Dask, real data, exhaustive edit checks) and every property test at its default budget
test-ci: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "slow or property"

# every browser test, slow or not, alone (headless Debian chromium: Playwright drives the app)
test-browser: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m browser

# every test, every hypothesis property at its full budget (10x the examples)
test-full: lint
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --hypothesis-profile=full

# ruff (lint and format) on the whole tree, mypy on the public API modules (pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# apply ruff's formatter and the safe lint fixes
format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

app: $(STAMP)
	$(BIN)/streamlit run app.py --server.address localhost --server.headless true

# re-execute the four example notebooks in place (from notebooks/build_notebooks.py), with outputs
notebooks: $(STAMP)
	$(BIN)/python notebooks/run_notebooks.py

# JupyterLab on notebooks/, bound to 127.0.0.1, no browser (open the URL with the token it prints)
lab: $(STAMP)
	$(BIN)/pip install --quiet -e ".[notebook]"
	bash scripts/lab.sh

bench: $(STAMP)
	$(BIN)/pip install --quiet -e ".[test,bench]"
	@for b in bench/[a-z]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

sample: $(STAMP)
	$(BIN)/gridplan sample --out gridplan/datasets/district

clean:
	rm -rf out .pytest_cache
