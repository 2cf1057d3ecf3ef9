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
	@awk '/^## ---- / { name = $$0; sub(/^## ---- /, "", name); sub(/ -*$$/, "", name); printf "\n%s:\n", name; next } \
		/^\.PHONY: [a-z-]+ +## / { desc = $$0; sub(/^\.PHONY: [a-z-]+ +## /, "", desc); printf "  %-22s %s\n", $$2, desc }' $(MAKEFILE_LIST)

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

.PHONY: down  ## Stop the proxy that `make up` started, letting requests in flight finish
down:
	$(RUN) scripts.proxy down

.PHONY: restart  ## Start a new proxy beside the running one, then drain the old one (after .env or config.yaml changes)
restart:
	$(RUN) scripts.proxy restart

.PHONY: redis  ## Start a local redis-server (loopback, generated password) and set REDIS_URL in .env if empty
redis:
	$(RUN) scripts.redis_server start

.PHONY: proxy  ## Run the proxy in the foreground (debugging; Ctrl-C stops it)
proxy:
	$(RUN) scripts.proxy run

.PHONY: logs  ## Follow the proxy log
logs:
	$(RUN) scripts.proxy logs

.PHONY: demo  ## See the fallback work on simulated upstreams (touches nothing of yours)
demo: install
	$(RUN) scripts.demo

.PHONY: bench  ## Measure the proxy against the direct path on simulated upstreams (JSON=1 for JSON)
bench:
	@$(PYTHON) -m scripts.install >&2
	$(RUN) scripts.bench $(if $(JSON),--json)

## ---- checks against the running proxy -------------------------------------

.PHONY: health  ## Liveness, readiness, upstreams, Bedrock credentials and endpoint (non-zero when unhealthy)
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

.PHONY: print-config  ## The LiteLLM config `make up` runs (config.yaml + .env models and tiers), secrets masked
print-config:
	$(RUN) scripts.print_config

## ---- services and AWS SSO ------------------------------------------

.PHONY: start  ## AWS SSO login when needed, then start the proxy
start:
	$(RUN) scripts.sso_refresh --login-if-needed
	@$(MAKE) --no-print-directory up

.PHONY: status  ## Everything at a glance: proxy, services, credentials, routing
status:
	$(RUN) scripts.status

.PHONY: install-service  ## Install the login service that keeps the proxy running
install-service:
	$(RUN) scripts.service install proxy $(if $(DRY_RUN),--dry-run)

.PHONY: uninstall-service  ## Remove the proxy's login service
uninstall-service:
	$(RUN) scripts.service uninstall proxy $(if $(DRY_RUN),--dry-run)

.PHONY: service-status  ## State of the proxy's login service
service-status:
	$(RUN) scripts.service status proxy

.PHONY: install-sso-refresh  ## Install the AWS SSO refresher (every 4 hours)
install-sso-refresh:
	$(RUN) scripts.service install sso-refresh $(if $(DRY_RUN),--dry-run)

.PHONY: uninstall-sso-refresh  ## Remove the AWS SSO refresher
uninstall-sso-refresh:
	$(RUN) scripts.service uninstall sso-refresh $(if $(DRY_RUN),--dry-run)

.PHONY: sso-refresh-status  ## State of the AWS SSO refresher and the credentials' expiry
sso-refresh-status:
	$(RUN) scripts.service status sso-refresh

.PHONY: install-all  ## Install everything: venv, service, SSO refresher, Claude Code shell setup
install-all:
	@$(MAKE) --no-print-directory install || { echo "error: make install failed: fix the above, then re-run make install-all" >&2; exit 1; }
	@$(MAKE) --no-print-directory install-service || { echo "error: make install-service failed: fix the above, then re-run make install-all" >&2; exit 1; }
	@$(MAKE) --no-print-directory install-sso-refresh || { echo "error: make install-sso-refresh failed: fix the above, then re-run make install-all" >&2; exit 1; }
	@$(MAKE) --no-print-directory configure-claude || { echo "error: make configure-claude failed: fix the above, then re-run make install-all" >&2; exit 1; }
	@echo ">> all installed: open a new shell, then \`make status\`"

.PHONY: uninstall-all  ## Remove services, timers and the Claude Code shell block (keeps .env, config.yaml)
uninstall-all:
	-@$(MAKE) --no-print-directory uninstall-service
	-@$(MAKE) --no-print-directory uninstall-sso-refresh
	-@$(MAKE) --no-print-directory remove-claude
	@echo ">> removed services and shell setup; .env and config.yaml are kept"

## ---- Claude Code integration -----------------------------------------

.PHONY: configure-claude  ## Add the proxy block to your shell profile (SHELLS="zsh bash fish" to choose)
configure-claude:
	$(RUN) scripts.claude_shell configure $(if $(SHELLS),--shells "$(SHELLS)")

.PHONY: update-claude  ## Rewrite the shell block (after the key or port changed)
update-claude:
	$(RUN) scripts.claude_shell update $(if $(SHELLS),--shells "$(SHELLS)")

.PHONY: remove-claude  ## Remove the shell block, restoring your profile as it was
remove-claude:
	$(RUN) scripts.claude_shell remove $(if $(SHELLS),--shells "$(SHELLS)")

.PHONY: show-claude  ## What is configured where, and what this shell has
show-claude:
	$(RUN) scripts.claude_shell show

.PHONY: toggle-claude  ## Switch Claude Code between the proxy and the direct Anthropic API
toggle-claude:
	$(RUN) scripts.claude_shell toggle

.PHONY: test-claude  ## A real request through the proxy the way Claude Code makes it
test-claude:
	$(RUN) scripts.claude_test

## ---- logins and credentials ---------------------------------------------

.PHONY: login-chatgpt  ## Log in to your ChatGPT plan (device code); tokens go under state/auth, never .env
login-chatgpt:
	$(RUN) scripts.login login chatgpt

.PHONY: login-copilot  ## Log in to GitHub Copilot (device code); tokens go under state/auth, never .env
login-copilot:
	$(RUN) scripts.login login copilot

.PHONY: logout  ## Forget a device login: make logout PROVIDER=chatgpt (or copilot)
logout:
	$(RUN) scripts.login logout $(PROVIDER)

.PHONY: auth-status  ## Every credential the toolkit uses: kind, source, expiry (masked)
auth-status:
	$(RUN) scripts.auth_status

.PHONY: admin  ## LiteLLM's admin CLI on the running proxy: make admin ARGS="models list"
admin:
	$(RUN) scripts.admin $(ARGS)

## ---- models ----------------------------------------------------------

.PHONY: update-models  ## Discover Claude models on Anthropic and Bedrock into config.yaml (DRY_RUN=1 to preview)
update-models:
	$(RUN) scripts.models update $(if $(DRY_RUN),--dry-run)

.PHONY: show-models  ## Table of configured models, their Bedrock ids and fallbacks
show-models:
	$(RUN) scripts.models show

## ---- monitoring ------------------------------------------------------

.PHONY: monitoring  ## Start Prometheus (47090) and Grafana (47300) with docker-compose
monitoring:
	$(RUN) scripts.monitoring up

.PHONY: monitoring-down  ## Stop the monitoring stack
monitoring-down:
	$(RUN) scripts.monitoring down

.PHONY: monitoring-clean  ## Stop the monitoring stack and drop its volumes
monitoring-clean:
	$(RUN) scripts.monitoring clean

.PHONY: monitoring-native  ## Prometheus without Docker (foreground), same config and alerts, on 47090
monitoring-native:
	$(RUN) scripts.monitoring native

## ---- housekeeping -----------------------------------------------------------

.PHONY: clean  ## Remove logs and state (never .env, config.yaml or .venv)
clean:
	$(RUN) scripts.clean

.PHONY: check  ## Run the test suite (what CI runs)
check: install
	$(PY) -m pytest $(PYTEST_ARGS)

.PHONY: check-fast  ## The tests that start no proxy or CLI (-m "not e2e"), in well under a minute
check-fast: install
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)
