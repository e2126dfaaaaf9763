# `make run` serves the app with the embedded defaults; `make test` runs the suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTHON ?= python3

.PHONY: install run test lint migrate demo bench-renewal bench-verify bench-numbers worker beat

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput

demo: migrate
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo --port $(PORT)

run: demo
	DEBUG=$${DEBUG:-true} $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(PY) -m pytest $(ARGS)

# ruff, then the layers (import-linter; the contracts are in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench-renewal: migrate
	DEBUG=$${DEBUG:-true} $(PY) manage.py bench_renewal $(ARGS)

bench-numbers: migrate
	DEBUG=$${DEBUG:-true} $(PY) manage.py bench_numbers_list $(ARGS)

bench-verify: migrate
	DEBUG=$${DEBUG:-true} $(PY) manage.py bench_verify $(ARGS)

worker: install
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO
