# blueprints: `make synth` and `make test` set themselves up on a fresh machine
# (Python 3.13 or newer, Node.js with npm, make) and are no-ops for the set-up when current.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYENV_ROOT ?= $(HOME)/.pyenv
# The Lambda handlers' Python (blueprints.constructs.common.PYTHON_RUNTIME; tests/test_runtimes.py keeps them equal).
LAMBDA_PYTHON := 3.14
# .venv runs every test that imports handler code, so it is built on the runtime's Python, else the closest
# older one installed (pyenv or PATH). The same .venv runs the constructs' tests: one run, no second copy.
PYTHON ?= $(or $(firstword $(foreach v,$(LAMBDA_PYTHON) 3.13,$(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/$(v).*/bin/python))) $(shell command -v python$(v)))),python3)
PYTHON_MINOR := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV := .venv
# The pinned Node.js and aws-cdk CLI from node_modules come first, for jsii too.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
CDK_FLAGS := --version-reporting false --path-metadata false --asset-metadata false --no-notices --ci

.PHONY: setup synth test test-emr lint typecheck cfn-lint checkov diff bench snapshot-update clean airflow-venvs

setup: $(VENV)/.installed-$(PYTHON_MINOR) node_modules/.installed

# The stamp names the Python minor version, so a .venv built on another Python is rebuilt.
$(VENV)/.installed-$(PYTHON_MINOR): requirements.txt requirements-dev.txt
	@if [ -x $(VENV)/bin/python ] && [ "$$($(VENV)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$(PYTHON_MINOR)" ]; then \
		echo "$(VENV) runs another Python than $(PYTHON) ($(PYTHON_MINOR)): rebuilding it"; rm -rf $(VENV); fi
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/python -m pip install --progress-bar off --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed*
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## airflow-venvs: a real Airflow per major version for tests/airflow, each in its own venv (cached like .venv)
AIRFLOW2_PYTHON ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.11.*/bin/python))),python3.11)
AIRFLOW3_PYTHON ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.12.*/bin/python))),python3.12)
airflow-venvs: .venv-airflow2/.installed .venv-airflow3/.installed

.venv-airflow%/.installed: requirements-airflow%.txt
	@test -x .venv-airflow$*/bin/python || $(AIRFLOW$*_PYTHON) -m venv .venv-airflow$*
	.venv-airflow$*/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	@touch $@

## .venv-emr: the EMR runtime for the Spark job and its contract (cached like .venv): CPython 3.9, which EMR 7.x
## runs PySpark on, and pyspark pinned to the default release's Spark (requirements-emr-runtime.txt)
EMR_PYTHON ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.9.*/bin/python))),python3.9)

.venv-emr/.installed: requirements-emr-runtime.txt
	@test -x .venv-emr/bin/python || $(EMR_PYTHON) -m venv .venv-emr
	.venv-emr/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	.venv-emr/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	@touch $@

## test-emr: the syntax gate, then tests/jobs and the contract tests on the EMR runtime
test-emr: .venv-emr/.installed
	.venv-emr/bin/python tools/emr_runtime_gate.py
	.venv-emr/bin/python -m pytest tests/jobs tests/contracts/test_emr_reconciliation_request.py

## synth: every example stack, with the AwsSolutions and Serverless nag packs, into cdk.out/
synth: setup
	@rm -rf cdk.out
	cdk synth --quiet $(CDK_FLAGS)
	@python tools/synth_report.py cdk.out

## test: pytest (snapshots included; tests/jobs run in test-emr only), the EMR runtime's tests, ruff, mypy, cfn-lint, checkov
test: synth airflow-venvs
	python -m pytest -n 2 --dist loadgroup
	$(MAKE) --no-print-directory test-emr
	$(MAKE) --no-print-directory lint typecheck cfn-lint checkov

lint: setup
	ruff check .
	ruff format --check .

typecheck: setup
	mypy
	@# Each handler folder is its own import root in Lambda, so it is checked as one, against the standard library
	@# of the runtime's Python (the tests run on the closest one installed, which may still have what 3.14 removed).
	@for dir in blueprints/lambdas/*/; do \
		[ -f "$$dir/index.py" ] || continue; \
		(cd "$$dir" && mypy --explicit-package-bases --config-file $(CURDIR)/pyproject.toml --python-version $(LAMBDA_PYTHON) \
			--cache-dir $(CURDIR)/.mypy_cache/handlers .) || exit 1; \
	done
	@# Each job folder is its own import root too. A contract shared by a handler and a job (blueprints/contracts)
	@# is found through mypy_path (pyproject.toml) and checked once, in the package run above.
	@for dir in blueprints/jobs/*/; do \
		[ -d "$$dir" ] || continue; \
		(cd "$$dir" && mypy --explicit-package-bases --config-file $(CURDIR)/pyproject.toml \
			--cache-dir $(CURDIR)/.mypy_cache/jobs .) || exit 1; \
	done

cfn-lint: setup
	@# The MWAA DR pair's backup_restore templates are linted by tests/stacks (they are synthesized there).
	cfn-lint --ignore-checks W3005 -- cdk.out/*.template.json

## .venv-checkov: checkov in a venv of its own (its pins of boto3 and others are not the project's)
CHECKOV_PYTHON ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.12.*/bin/python))),python3.12)
.venv-checkov/.installed: requirements-checkov.txt
	@test -x .venv-checkov/bin/python || $(CHECKOV_PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	@touch $@

## checkov: the second scanner over every synthesized template; a finding fails unless its resource skips it
## with a reason (Metadata.checkov.skip, written with the matching cdk-nag acknowledgment); reads cdk.out, as cfn-lint does
## The example variants (MWAA backup_restore, unified API with CloudFront) are not in cdk.out; their snapshots are
## (tests/stacks/test_example_stacks.py VARIANTS proves them current)
VARIANT_SNAPSHOTS = $(wildcard tests/stacks/__snapshots__/test_example_stacks/test_variant_template*.json)
checkov: setup .venv-checkov/.installed
	.venv-checkov/bin/python tools/checkov_gate.py cdk.out $(foreach f,$(VARIANT_SNAPSHOTS),'$(f)')

## diff: cdk diff of every example stack against its committed template; non-zero on drift
diff: synth
	python tools/diff_templates.py cdk.out

## bench: the benchmarks, each printing its figures
bench: setup
	@for script in benchmarks/*.py; do echo "== $$script"; python "$$script"; done

## snapshot-update: accept template changes (commit them with a message that says why)
snapshot-update: setup
	python -m pytest tests/stacks --snapshot-update

clean:
	rm -rf cdk.out cdk.out.masked cdk.out.backup_restore .mypy_cache .pytest_cache .ruff_cache build dist *.egg-info
