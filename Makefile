# Two commands for a newcomer: `make run` (set up, build, serve) and `make test` (set up, lint, test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
# Front-end libraries from npm (package.json): what serving needs, and with the test tools (axe-core).
NPM_RUN := node_modules/.installed-run
NPM_ALL := node_modules/.installed-all
# --loglevel=http: one line per download, so a long install shows its progress.
NPM_FLAGS := --ignore-scripts --no-audit --no-fund --loglevel=http
HOST ?= $(or $(TREATYGRAPH_HOST),127.0.0.1)
PORT ?= $(or $(TREATYGRAPH_PORT),8000)
LINT_PATHS := $(wildcard src tests bench)

.PHONY: setup system-deps run build test lint format bench clean port-free

# Serving only: the package and its dependencies, no test or benchmark tools.
$(RUN_STAMP): pyproject.toml
	@echo "==> [setup 1/2] Python virtual environment in $(VENV): the service's packages"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --progress-bar on --upgrade pip
	$(BIN)/pip install --progress-bar on -e .
	@touch $@

# Everything: serving, tests (Playwright for the browser tests) and the benchmark.
$(STAMP): pyproject.toml
	@echo "==> Python virtual environment in $(VENV): the service, test and benchmark packages"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar on -e '.[test,bench]'
	@touch $@ $(RUN_STAMP)

# The libraries the pages load (Cytoscape.js, YASGUI, Swagger UI), from the npm registry, into
# node_modules (never into the repository: node_modules/.gitignore ignores it all). Without npm
# the service still serves, without its maps, SPARQL editor and API explorer.
$(NPM_RUN): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  echo "==> [setup 2/2] front-end libraries from npm (Cytoscape.js, YASGUI, Swagger UI)"; \
	  npm ci --omit=dev $(NPM_FLAGS) && printf '*\n' > node_modules/.gitignore && touch $@; \
	else \
	  echo "make: npm not found: pages will have no link maps, SPARQL editor or /docs"; \
	  echo "      (install Node.js and npm: apt-get install nodejs npm, or scripts/system-deps.sh)"; \
	fi

# For the tests: npm comes with the Debian packages the tests use (scripts/system-deps.sh); where
# it cannot be had, the browser tests skip (they say why).
$(NPM_ALL): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || bash scripts/system-deps.sh || true
	@if command -v npm >/dev/null 2>&1; then \
	  echo "==> front-end libraries from npm, with the test tools (axe-core)"; \
	  npm ci $(NPM_FLAGS) && printf '*\n' > node_modules/.gitignore && touch $@ $(NPM_RUN); \
	else \
	  echo "make: npm not found: the browser tests will be skipped"; \
	fi

setup: $(STAMP) $(NPM_ALL)

build: setup
	$(BIN)/treatygraph build

# Serve: only what serving needs; refuses to start (and says so) when the port is taken.
run: $(RUN_STAMP) $(NPM_RUN) port-free
	@echo "==> building the graph into var/store when data/ changed (a few seconds), then serving"
	$(BIN)/treatygraph serve --host $(HOST) --port $(PORT)

port-free: $(RUN_STAMP)
	@$(BIN)/python -c "import socket, sys; s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[1], int(sys.argv[2])))" $(HOST) $(PORT) 2>/dev/null \
	  || { echo "make run: port $(PORT) on $(HOST) is taken (another program, or a service already running);" >&2; \
	       echo "          stop it, or serve on another port: make run PORT=8001" >&2; exit 1; }

lint: setup
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

format: setup
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

# Debian packages the client and browser tests use (roqet, chromium), installed when missing.
system-deps: setup
	@if [ -f scripts/system-deps.sh ]; then bash scripts/system-deps.sh; fi
	@echo "==> SPARQL engines the store tests run against (Oxigraph server, Virtuoso)"
	bash scripts/engines.sh $(BIN)/python

test: lint system-deps
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist .pytest_cache var node_modules
