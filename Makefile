# The two commands of the README: `make run` and `make test`. Everything else is a helper of theirs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HOST ?= 127.0.0.1
PORT ?= 5000
JIXIAO_INSTANCE ?= instance
export JIXIAO_INSTANCE

.PHONY: run test bench venv install install-test system-deps lint typecheck contracts test-embedded test-real clean

$(VENV)/bin/activate:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11（$(PYTHON)）"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip 'setuptools>=69' wheel >/dev/null

venv: $(VENV)/bin/activate

$(VENV)/.installed: $(VENV)/bin/activate pyproject.toml setup.py
	$(PIP) install -e . >/dev/null
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e '.[test]' >/dev/null
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make run: install, migrate, load the demo province, serve on $(HOST):$(PORT) (embedded mode).
run: install
	$(VENV)/bin/jixiao db upgrade
	$(VENV)/bin/jixiao demo load
	@echo "打开 http://$(HOST):$(PORT)/ ，演示账号见 README（密码 Demo@2026）"
	$(VENV)/bin/jixiao run --host $(HOST) --port $(PORT)

## make test: everything the suite needs (apt packages included), then the whole suite twice —
## embedded and real side by side (scripts/test-both.sh).
test: install-test system-deps lint typecheck contracts
	@bash scripts/test-both.sh

system-deps:
	@bash scripts/ensure-system-deps.sh

## make bench: every benchmark of benchmarks/ on PostgreSQL + Redis + SeaweedFS, one table of them all
## (and benchmarks/results.json); BENCH="api_overhead dashboard" runs some. Not part of make test.
bench: install-test system-deps
	@JIXIAO_BENCH_DEPS=1 bash scripts/ensure-system-deps.sh
	@CI=true bash scripts/ensure-services.sh
	$(PY) -m benchmarks $(BENCH)

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck:
	$(VENV)/bin/mypy platform/core tenants services

contracts:
	@bash scripts/check-contracts.sh

test-embedded:
	JIXIAO_TEST_MODE=embedded $(PY) -m pytest -q -p no:cacheprovider

test-real:
	@bash scripts/ensure-services.sh
	JIXIAO_TEST_MODE=real $(PY) -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
