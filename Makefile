# Two commands on a fresh machine: `make demo` (the whole pipeline, embedded) and `make test`.
# Each creates the virtual environment and installs what it needs when missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: kafka test-kafka-3.9 test test-all lint typecheck check schemas bench-gateway bench-pipeline bench-history clean demo redis

# A venv whose pip does not run (say `python3 -m venv` failed half-way because python3-venv was missing)
# is created again from scratch, rather than failing the same way on every later run.
$(STAMP): pyproject.toml dev/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@$(PY) -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]' -e ./dev
	@touch $(STAMP)

# The Redis tests use 127.0.0.1:6379: redis-server is installed with apt-get when missing (as root on
# Debian: scripts/install-system-packages.sh) and started there when none answers (scripts/ensure-redis.sh).
redis:
	@scripts/install-system-packages.sh
	@scripts/ensure-redis.sh

# Locally `make test` leaves out the tests marked `slow`; with CI set (as `.ci/run` has it), and in
# `make test-all`, every test runs.
test: $(STAMP) redis
	$(PY) -m pytest $(if $(filter-out 0 false,$(CI)),,-m "not slow")

test-all: $(STAMP) redis
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check gateway schemas aexy_stream consumers producers dev

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

# Replays libuv's history from Redis (database 14 of the local Redis, flushed first): see bench/README.md.
bench-history: $(STAMP) redis
	$(PY) bench/history.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

demo: $(STAMP)
	$(VENV)/bin/aexy-stream demo --stay $(DEMO_ARGS)

# Apache Kafka's jars, fetched once from Maven Central into ~/.cache/aexy-stream/kafka (the tests then start it).
kafka: $(STAMP)
	$(PY) -c 'from aexy_dev.broker.kafka import classpath; print("kafka jars in", classpath())'

# The pipeline tests once on the 3.9 line of Apache Kafka (the suite runs on 4.1.1).
test-kafka-3.9: $(STAMP) redis
	AEXY_TEST_BROKER=kafka AEXY_TEST_KAFKA_VERSION=3.9.1 $(PY) -m pytest tests/pipeline tests/test_kafka_broker.py
