# Two commands matter: `make test` (creates the virtualenv itself) and `make up` (pulumi up of a stack).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= dev
STATE_DIR ?= $(CURDIR)/.pulumi-state
export PULUMI_BACKEND_URL ?= file://$(STATE_DIR)

.PHONY: venv test up destroy

$(VENV)/.installed: requirements.txt requirements-dev.txt policies/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

test: venv
	$(PY) -m pytest

# Deploy a stack with the local file backend (set PULUMI_BACKEND_URL to use another state store).
up:
	mkdir -p $(STATE_DIR)
	pulumi stack select --create $(STACK)
	pulumi up --stack $(STACK)

destroy:
	pulumi destroy --stack $(STACK)
