# Two commands on a fresh machine: `make test` and (with the stream processor) `make demo`.
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
	@echo "== gateway demo (keyless rules provider); the full Kafka pipeline demo is issue 6"
	$(VENV)/bin/aexy-stream analyze skill_extraction gateway/gateway.py --provider rules --subject aexy-stream
	$(VENV)/bin/aexy-stream analyze code_complexity gateway/limits/budget.py --provider rules --subject aexy-stream
