# Two commands on a fresh machine: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
NODE    := node_modules/.package-lock.json
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install build run test clean browser stores

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# Browser libraries of the web pages (cytoscape.js), served by the app from node_modules/: never copied into the repo.
$(NODE): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE)

install: $(STAMP) $(NODE)

# The browser tests drive Debian's chromium: installed here when missing (as root). Where that cannot be done
# they skip with a loud message, except under CI=true, where a missing browser fails them.
browser:
	@test -x /usr/bin/chromium || command -v chromium >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
	  echo "WARNING: chromium is missing and could not be installed: the browser tests will be SKIPPED (they fail under CI=true)"

# The remote-store tests run Debian's Virtuoso (Oxigraph comes from PyPI with the test extra): installed here when
# missing (as root); elsewhere they skip loudly, except under CI=true, where a missing Virtuoso fails them.
stores:
	@command -v virtuoso-t >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource; } || \
	  echo "WARNING: virtuoso-opensource is missing and could not be installed: the Virtuoso tests will be SKIPPED (they fail under CI=true)"

build: install
	$(BIN)/hcc-kg build

run: build
	$(BIN)/hcc-kg serve --host 127.0.0.1 --port 8000

test: install browser stores
	$(BIN)/python -m pytest -q

clean:
	rm -rf build
