# The two commands of the quick start: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test setup lint constraints

setup:  ## create .venv with everything (idempotent)
	@bash scripts/setup.sh

demo: setup  ## generate the default project, serve the default model, answer a real request
	$(PY) scripts/demo.py

test: setup  ## the full template test suite
	$(PY) -m pytest tests

lint: setup
	$(PY) -m ruff check extensions hooks tests scripts
	$(PY) -m mypy extensions hooks

constraints:  ## re-pin requirements/constraints.txt from the current .venv
	$(PY) -m pip freeze | grep -v -e '^-e' -e '@ file' -e '^torch==' > requirements/constraints.txt
