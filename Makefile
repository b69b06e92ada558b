# Two commands on a fresh machine: `make demo` (the whole pipeline, embedded) and `make test`.
# Each creates the virtual environment and installs what it needs when missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck check schemas bench-gateway bench-pipeline clean demo

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check gateway schemas aexy_stream consumers producers

typecheck: $(STAMP)
	$(VENV)/bin/mypy

check: lint typecheck test

schemas: $(STAMP)
	$(VENV)/bin/aexy-stream schemas export

bench-gateway: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) bench/gateway.py

bench-pipeline: $(STAMP)
	$(PY) bench/pipeline.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

demo: $(STAMP)
	$(VENV)/bin/aexy-stream demo $(DEMO_ARGS)
