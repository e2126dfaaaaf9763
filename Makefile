# `make run` serves the app with the embedded defaults; `make test` runs the suite. `make help` lists the rest.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTHON ?= python3
export PORT

.PHONY: help install run test lint migrate demo prod worker beat bench-renewal bench-verify bench-numbers \
	bench-recordings bench-broadcasts bench-gateway

help:  ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 18

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed  ## create .venv and install the requirements

.env: | install
	DEBUG=true $(PY) manage.py write_dev_env

migrate: install .env  ## apply the migrations (development settings from .env)
	$(PY) manage.py migrate --noinput

demo: migrate  ## seed the demo org, staff user and sandbox connection (idempotent)
	$(PY) manage.py seed_demo --port $(PORT)

run: demo  ## serve on http://127.0.0.1:$(PORT) (uvicorn, ASGI, reloads on change)
	$(VENV)/bin/uvicorn config.asgi:application --host 127.0.0.1 --port $(PORT) --no-access-log --ws-per-message-deflate false \
		--reload $(foreach d,config core orgs providers phones billing webhooks sandbox templates,--reload-dir $(d))

test: install  ## the whole test suite (ARGS="..." for pytest)
	$(PY) -m pytest $(ARGS)

# ruff, then the layers (import-linter; the contracts are in pyproject.toml).
lint: install  ## ruff and the import-linter layers
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

prod: install  ## the production shape (Procfile: web, worker, beat) on the environment's PostgreSQL and Redis
	@test -n "$$DATABASE_URL" -a -n "$$CELERY_BROKER_URL" || { echo "make prod needs DATABASE_URL and CELERY_BROKER_URL (see the README's Production section)" >&2; exit 2; }
	DEBUG=false $(PY) manage.py migrate --noinput
	DEBUG=false $(PY) manage.py collectstatic --noinput -v0
	# The environment decides (settings still read .env for what it leaves unset): honcho does not load .env itself.
	DEBUG=false $(VENV)/bin/honcho -e /dev/null start

worker: install  ## a Celery worker (needs CELERY_BROKER_URL)
	@$(PY) manage.py require_broker
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install  ## Celery beat, exactly one per deployment (needs CELERY_BROKER_URL)
	@$(PY) manage.py require_broker
	$(VENV)/bin/celery -A config beat --loglevel=INFO

bench-renewal: migrate  ## renewal benchmark (see README)
	$(PY) manage.py bench_renewal $(ARGS)

bench-numbers: migrate  ## number listing benchmark (see README)
	$(PY) manage.py bench_numbers_list $(ARGS)

bench-verify: migrate  ## verify benchmark (see README)
	$(PY) manage.py bench_verify $(ARGS)

bench-recordings: migrate  ## recording streaming benchmark (see README)
	$(PY) manage.py bench_recording_stream $(ARGS)
bench-broadcasts: migrate  ## broadcasts benchmark (see README)
	$(PY) manage.py bench_broadcasts $(ARGS)
bench-gateway: migrate  ## media gateway benchmark: concurrent simulated AI calls (see README)
	$(PY) manage.py bench_gateway $(ARGS)
