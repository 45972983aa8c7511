# Two commands matter: `make test` (creates the virtualenv itself) and `make up` (pulumi up of a stack).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= dev
STATE_DIR ?= $(CURDIR)/.pulumi-state
export PULUMI_BACKEND_URL ?= file://$(STATE_DIR)

.PHONY: venv test app plan policy up destroy

$(VENV)/.installed: requirements.txt requirements-dev.txt policies/requirements.txt app/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

test: venv
	$(PY) -m pytest

# The web app in local mode (SQLite) on http://127.0.0.1:8000; SEED_USERS and DJANGO_ADMIN_PASSWORD are honoured.
app: venv
	$(PY) app/manage.py migrate --noinput
	$(PY) app/manage.py collectstatic --noinput -v 0
	$(PY) app/manage.py seed
	$(PY) app/manage.py runserver 127.0.0.1:8000

# Offline plan of a stack: resource tree, policy report, hourly cost and modeled deploy time (no cloud needed).
plan: venv
	$(PY) -m planner --stack $(STACK) $(if $(JSON),--json $(JSON))

# The policy pack over every resource a stack declares, under mocks (no cloud, no CLI); fails on a mandatory violation.
policy: venv
	$(PY) -m policies.fraud_policies.evaluate --stack $(STACK)

# Deploy a stack with the local file backend (set PULUMI_BACKEND_URL to use another state store).
up:
	mkdir -p $(STATE_DIR)
	pulumi stack select --create $(STACK)
	pulumi up --stack $(STACK)

destroy:
	pulumi destroy --stack $(STACK)
