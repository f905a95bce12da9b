# Two entry points, each installs what it needs into .venv first:
#   make run   — chat page + HTTP API over the sample corpus (offline defaults)
#   make test  — the test suite, the eval quality gate included
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test eval bench

$(VENV)/.installed-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

# torch first, pinned: 2.13.0 is the CPU build; an unpinned torch pulls a multi-GB CUDA build.
$(VENV)/.installed-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[st,test]"
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/assistant serve

# The browser test needs Debian's chromium, and CJK fonts for legible screenshots; the
# audit/feedback tests start Debian's PostgreSQL (as .ci/run).
TEST_PACKAGES := chromium fonts-noto-cjk postgresql

test: $(VENV)/.installed-test
	@if command -v chromium >/dev/null 2>&1 && dpkg -s fonts-noto-cjk >/dev/null 2>&1 \
	   && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && apt-get install -y -qq $(TEST_PACKAGES) >/dev/null) || \
	    echo "could not install $(TEST_PACKAGES); the browser/PostgreSQL tests may skip" >&2; \
	else echo "not root: install $(TEST_PACKAGES) for the browser and PostgreSQL tests" >&2; fi
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

eval: $(VENV)/.installed-run
	$(BIN)/assistant eval --out eval/out

bench: $(VENV)/.installed-run
	$(BIN)/assistant bench
