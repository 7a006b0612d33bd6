# Avito Service: everything runs from here. `make run` and `make test` are the quick start.
# Python 3.13, the functions' Lambda runtime: python3.13 on the PATH or pyenv's (scripts/find-python says what to install).
PYTHON := $(shell scripts/find-python 2>/dev/null)
VENV := .venv
PY := $(VENV)/bin/python
TOOLS_VENV := .tools-venv
STAMP := $(VENV)/.installed

PORT ?= 3000
WEBHOOK_PORT ?= 3001
MOTO_PORT ?= 4566
WS_PORT ?= 3002
ROLE ?= admin
export PORT WEBHOOK_PORT MOTO_PORT WS_PORT

.PHONY: help venv run demo test lint cfn-lint checkov unit integration e2e openapi check-openapi token invoke bench check-deploy clean browser-deps screenshots sam-local-check sam-env

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt layers/shared/requirements.txt constraints.txt
	@test -n "$(PYTHON)" || { scripts/find-python; exit 1; }
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))'; then echo "$(VENV) is not Python 3.13: recreating it"; rm -rf $(VENV); fi
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

venv: $(STAMP) ## create .venv with the pinned dependencies

run: $(STAMP) ## start the local stack: API :3000, webhook Function URL :3001, WebSocket :3002, moto :4566
	$(PY) -m local_runtime run --template template.yaml

demo: $(STAMP) ## local stack + Avito simulator with a seeded account and chats
	$(PY) -m scripts.demo

test: $(STAMP) lint cfn-lint checkov check-openapi browser-deps ## every check: ruff, cfn-lint, Checkov, OpenAPI up to date, the whole pytest suite
	$(PY) -m pytest -n 2 --dist loadfile

# The console's browser tests drive Debian's Chromium through its chromedriver; installed once when missing.
browser-deps: ## install chromium and chromium-driver with apt when they are missing (the browser tests use them)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		echo "installing chromium and chromium-driver (apt) for the console's browser tests"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq >/dev/null && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 chromium chromium-driver >/dev/null; }

screenshots: $(STAMP) browser-deps ## redo docs/console-*.png (in Russian; --only reviews / people / reports / answering for those views alone)
	$(PY) -m scripts.console_screenshots

lint: $(STAMP) ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check layers functions

cfn-lint: $(STAMP) ## cfn-lint template.yaml
	$(VENV)/bin/cfn-lint template.yaml

# Checkov in a tools venv of its own, like SAM's: it pins boto3 and packaging to versions that clash with both
# the project's and SAM's. Installed once (~40 s from PyPI); a run takes ~15 s on a quiet machine, offline.
CHECKOV_VENV := .checkov-venv
CHECKOV_VERSION := 3.3.30

$(CHECKOV_VENV)/bin/checkov:
	@test -n "$(PYTHON)" || { scripts/find-python; exit 1; }
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

checkov: $(STAMP) $(CHECKOV_VENV)/bin/checkov ## Checkov on the expanded template.yaml, offline, with the reviewed skips (checkov-skips.yaml)
	PYTHONPATH=. $(PY) -m scripts.checkov_check --checkov $(CHECKOV_VENV)/bin/checkov

openapi: $(STAMP) ## regenerate the committed openapi.json from the handlers
	PYTHONPATH=.:layers/shared:functions $(PY) -m scripts.generate_openapi --write

check-openapi: $(STAMP) ## fail when openapi.json is out of date
	PYTHONPATH=.:layers/shared:functions $(PY) -m scripts.generate_openapi --check

token: $(STAMP) ## print a JWT for the local stack: make token ROLE=operator
	@$(PY) -m local_runtime token --role $(ROLE)

invoke: $(STAMP) ## invoke one function of the running stack: make invoke FUNCTION=HealthFunction EVENT=events/health.json
	$(PY) -m local_runtime invoke $(FUNCTION) --event $(EVENT)

bench: $(STAMP) ## run the benchmarks (figures go into the README by hand)
	PYTHONPATH=.:layers/shared:functions $(PY) -m benchmarks.run_all

$(TOOLS_VENV)/bin/sam:
	@test -n "$(PYTHON)" || { scripts/find-python; exit 1; }
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet aws-sam-cli==1.170.0

check-deploy: $(TOOLS_VENV)/bin/sam ## sam validate --lint and sam build (no container) in a separate tools venv
	$(TOOLS_VENV)/bin/sam validate --lint --template template.yaml
	@# sam build looks for python3.13 on the PATH: put the one scripts/find-python found first (pyenv shims may lack it)
	PATH="$(dir $(shell readlink -f $(PYTHON))):$$PATH" $(TOOLS_VENV)/bin/sam build --language-extensions --template template.yaml

SAM_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)

sam-local-check: $(STAMP) $(TOOLS_VENV)/bin/sam ## opt-in, needs root or Docker: every sample event through `sam local invoke` (SAM_CHECK_ARGS="--events docs messenger_send" for some)
	scripts/sam-local-image
	@# --language-extensions: SAM CLI expands Fn::ForEach (template.yaml's per-function log groups and alarms) only when asked
	PATH="$(dir $(PYTHON)):$$PATH" $(TOOLS_VENV)/bin/sam build --language-extensions --template template.yaml --parameter-overrides Architecture=$(SAM_ARCH)
	PYTHONPATH=. $(PY) -m scripts.sam_local_check $(SAM_CHECK_ARGS)

sam-env: $(STAMP) ## regenerate env.local.json (SAM's --env-vars for the local stack) from the template
	PYTHONPATH=. $(PY) -m scripts.sam_local_check --write-env

clean: ## remove build output and caches (keeps .venv)
	rm -rf .aws-sam .pytest_cache .ruff_cache .local
