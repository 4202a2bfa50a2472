# rmstudy — thin entry points. `make help` lists targets.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.rmstudy-installed
AUDIT   = $(VENV)/audit-tools

.PHONY: all demo test test-fast lab bench audit mutation help clean-venv browser-deps

all: demo ## (default) run the demo cohort into reports/demo

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP) ## create the environment if missing, run the demo cohort into reports/demo
	$(BIN)/rmstudy run data/demo --out reports/demo

test: $(STAMP) browser-deps ## create the environment if missing, run the whole test suite (slow and browser tiers included)
	$(BIN)/python -m pytest

test-fast: $(STAMP) ## the suite without the slow simulation tier
	$(BIN)/python -m pytest -m "not slow"

browser-deps: ## Debian chromium for the browser tier (tests/test_browser.py), skipped when /usr/bin/chromium exists
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y --no-install-recommends chromium)

lab: $(STAMP) ## add JupyterLab (kept out of the run environment) and start it
	$(BIN)/python -m pip install --quiet "jupyterlab==4.6.6"
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP) ## time the demo run against the import floor
	$(BIN)/python benchmarks/run_demo.py

mutation: $(STAMP) ## mutation testing (mutmut) of decisions, multiplicity, privacy (CI's gate), effects, TOST, scoring, reliability, models, narrative; writes benchmarks/mutation.md
	$(BIN)/python tools/mutation.py all --table benchmarks/mutation.md --json benchmarks/out/mutation.json

audit: $(STAMP) ## check requirements.lock for known vulnerabilities: pip-audit, or the stored advisory list (tools/advisories.json) where its service cannot be reached
	test -x $(AUDIT)/bin/pip-audit || { $(PYTHON) -m venv $(AUDIT) && $(AUDIT)/bin/python -m pip install --quiet -r tools/audit-requirements.lock; } || echo "audit: pip-audit could not be installed; the stored advisory list is used"
	$(BIN)/python tools/audit.py $$(test -x $(AUDIT)/bin/pip-audit && echo --pip-audit $(AUDIT)/bin/pip-audit)

clean-venv: ## remove the environment
	rm -rf $(VENV)

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'
