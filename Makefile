# Claude gateway: LiteLLM proxy with Anthropic -> Bedrock fallback.
# Each target calls one focused script in scripts/; `make help` lists them.

.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Scripts that need the venv check it exists first, with the fix in one line.
RUN = @test -x $(PY) || { echo "error: no $(VENV): run \`make install\`" >&2; exit 1; }; $(PY) -m

.PHONY: help  ## Show every target with one line of help
help:
	@echo "Usage: make <target>"
	@grep -E '^\.PHONY: [a-z-]+ +## ' $(MAKEFILE_LIST) | \
		sed -E 's/^\.PHONY: ([a-z-]+) +## (.*)/\1\t\2/' | \
		awk -F'\t' '{ printf "  %-22s %s\n", $$1, $$2 }'

## ---- setup ------------------------------------------------------------------

.PHONY: install  ## Create .venv with uv from requirements.lock (no-op when up to date)
install:
	@$(PYTHON) -m scripts.install

.PHONY: generate-key  ## Write a new LITELLM_MASTER_KEY into .env (mode 0600)
generate-key:
	$(RUN) scripts.keys

## ---- proxy lifecycle --------------------------------------------------------

.PHONY: up  ## Start the proxy in the background and wait until it is healthy
up:
	$(RUN) scripts.proxy up

.PHONY: down  ## Stop the proxy that `make up` started
down:
	$(RUN) scripts.proxy down

.PHONY: restart  ## Stop, then start the proxy (after .env or config.yaml changes)
restart:
	$(RUN) scripts.proxy restart

.PHONY: proxy  ## Run the proxy in the foreground (debugging; Ctrl-C stops it)
proxy:
	$(RUN) scripts.proxy run

.PHONY: logs  ## Follow the proxy log
logs:
	$(RUN) scripts.proxy logs

## ---- checks against the running proxy -------------------------------------

.PHONY: health  ## Liveness, readiness, configured upstreams (non-zero when unhealthy)
health:
	$(RUN) scripts.health health

.PHONY: test  ## One real request through the proxy: who answered, how fast
test:
	$(RUN) scripts.health test $(if $(MODEL),--model $(MODEL))

.PHONY: models  ## List the model names the proxy serves
models:
	$(RUN) scripts.health models

.PHONY: info  ## Effective configuration, secrets masked
info:
	$(RUN) scripts.info

## ---- housekeeping -----------------------------------------------------------

.PHONY: clean  ## Remove logs and state (never .env, config.yaml or .venv)
clean:
	$(RUN) scripts.clean

.PHONY: check  ## Run the test suite (what CI runs)
check: install
	$(PY) -m pytest $(PYTEST_ARGS)
