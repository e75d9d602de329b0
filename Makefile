# Lawline: `make run` starts the whole product, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=

.PHONY: install run test lint format bench messages clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

run: install  ## web + sockets on :8000, Celery worker and beat, demo data
	$(PY) -m config.devstack run

test: install  ## the whole suite, on real PostgreSQL and Redis (embedded ones when unset)
	$(PY) -m config.devstack test $(ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install  ## BENCH=full for the long profile
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
		|| echo "bench: no wrk (apt-get install wrk); HTTP load falls back to a slower Python client"
	$(PY) -m tests.bench.run $(if $(BENCH),--profile $(BENCH),)

messages: install  ## refresh and compile translations of every app
	$(PY) scripts/messages.py

clean:
	rm -rf .devdata .bench
