# The two commands of the quick start: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test setup lint constraints tags changelog

setup:  ## create .venv with everything (idempotent)
	@bash scripts/setup.sh

demo: setup  ## generate the default project, serve the default model, answer a real request
	$(PY) scripts/demo.py

test: setup  ## the full template test suite
	$(PY) -m pytest tests

lint: setup
	$(PY) -m ruff check extensions hooks tests scripts
	$(PY) -m mypy extensions hooks

tags:  ## tag each `chore(release): vX.Y.Z` commit (a clone has none); python3 and git only
	python3 scripts/release_tags.py

changelog: setup  ## tags, then CHANGELOG.md by git-cliff (cliff.toml); CHANGELOG_ARGS=--check
	$(PY) scripts/changelog.py $(CHANGELOG_ARGS)

constraints:  ## re-pin requirements/constraints.txt from the current .venv
	$(PY) -m pip freeze | grep -v -e '^-e' -e '@ file' -e '^torch==' > requirements/constraints.txt
