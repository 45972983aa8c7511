# Two commands matter: `make test` (creates the virtualenv itself) and `make up` (preflight, then pulumi up of a stack).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# flink/ runs on local Apache Flink from its own virtualenv: PyFlink's pins (grpcio, dill) conflict with pulumi's.
FLINK_VENV ?= .venv-flink
FLINK_PY := $(FLINK_VENV)/bin/python
STACK ?= dev
STATE_DIR ?= $(CURDIR)/.pulumi-state
export PULUMI_BACKEND_URL ?= file://$(STATE_DIR)

.PHONY: venv flink-venv test flink-test flink-bench app plan prices demo policy preflight up destroy e2e

$(VENV)/.installed: requirements.txt requirements-dev.txt policies/requirements.txt app/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

$(FLINK_VENV)/.installed: requirements-flink.txt
	python3 -m venv $(FLINK_VENV)
	$(FLINK_PY) -m pip install -q --upgrade pip
	$(FLINK_PY) -m pip install -q -r requirements-flink.txt
	touch $@

flink-venv: $(FLINK_VENV)/.installed

# The Flink venv has no pytest-django, so pytest.ini's DJANGO_SETTINGS_MODULE is an unknown key there: not a problem.
FLINK_PYTEST_ARGS := --confcutdir=tests/flink -W ignore::pytest.PytestConfigWarning tests/flink

test: venv flink-venv
	$(PY) -m pytest --ignore=tests/flink
	$(FLINK_PY) -m pytest $(FLINK_PYTEST_ARGS)

# Only the statements of flink/ on local Apache Flink (needs java 17 on PATH or JAVA_HOME).
flink-test: flink-venv
	$(FLINK_PY) -m pytest $(FLINK_PYTEST_ARGS)

# Throughput and detection latency of flink/ on local Flink (prints figures; takes a few minutes).
flink-bench: flink-venv
	$(FLINK_PY) bench/flink_bench.py

# The web app in local mode (SQLite) on http://127.0.0.1:8000; SEED_USERS and DJANGO_ADMIN_PASSWORD are honoured.
app: venv
	$(PY) app/manage.py migrate --noinput
	$(PY) app/manage.py collectstatic --noinput -v 0
	$(PY) app/manage.py seed
	$(PY) app/manage.py runserver 127.0.0.1:8000

# Offline plan of a stack: resource tree, policy report, hourly cost and modeled deploy time (no cloud needed).
plan: venv
	$(PY) -m planner --stack $(STACK) $(if $(JSON),--json $(JSON))

# Fill the UNKNOWN regional rates of planner/prices.yaml (for the stack's aws:region, or REGION=) from AWS's Price
# List Query API and `confluent billing price list`: needs AWS credentials and `confluent login`; without them it
# says which rates stay UNKNOWN and changes nothing. REFRESH=1 reads the filled rates again; STRICT=1 fails while
# a rate stays UNKNOWN.
prices: venv
	$(PY) -m planner.update_prices --stack $(STACK) $(if $(REGION),--region $(REGION)) $(if $(REFRESH),--refresh) $(if $(STRICT),--strict)

# The pipeline on this machine: the app on SQLite, flink/ on local Apache Flink fed by the app's change feed,
# flags shown on the page at http://127.0.0.1:$(PORT)/. Ctrl-C stops everything it started.
PORT ?= 8000
demo: venv flink-venv
	$(PY) -m localdemo --port $(PORT) --flink-python $(FLINK_PY)

# The policy pack over every resource a stack declares, under mocks (no cloud, no CLI); fails on a mandatory violation.
policy: venv
	$(PY) -m policies.fraud_policies.evaluate --stack $(STACK)

# What `up` (FOR=destroy: `destroy`) needs from this machine and the stack config, all problems at once;
# `up` and `destroy` run it first. PREFLIGHT=skip skips it (and says so).
FOR ?= up
preflight: venv
	mkdir -p $(STATE_DIR)
	$(PY) -m preflight --stack $(STACK) --for $(FOR)

# Deploy a stack with the local file backend (set PULUMI_BACKEND_URL to use another state store).
up: venv
	mkdir -p $(STATE_DIR)
	$(PY) -m preflight --stack $(STACK) --for up
	pulumi stack select --create $(STACK)
	pulumi up --stack $(STACK)

destroy: venv
	mkdir -p $(STATE_DIR)
	$(PY) -m preflight --stack $(STACK) --for destroy
	pulumi destroy --stack $(STACK)

# Proof on a real account: a throw-away dev stack up, the four scenarios flagged, destroyed, nothing left
# (about an hour; see the README). Without the Pulumi CLI, AWS credentials or CONFLUENT_CLOUD_API_KEY/SECRET it
# says what is missing and exits 0. Its state goes to a temporary folder unless PULUMI_BACKEND_URL is set by you
# (not this Makefile's default for `make up`).
e2e: venv
	$(if $(filter file,$(origin PULUMI_BACKEND_URL)),env -u PULUMI_BACKEND_URL) $(PY) -m e2e
