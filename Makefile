# Set-up is idempotent: `make test` and `make serve` install whatever is missing first.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.installed
SPEEDUPS_STAMP := $(VENV)/.speedups

NPM_STAMP := node_modules/.installed
#: Debian packages the tests and the sandbox need (installed when missing, as root);
#: gcc builds the C loops at install (without it they fall back to pure Python).
SYSTEM_PACKAGES := chromium bubblewrap postgresql gcc
SYSTEM_COMMANDS := chromium bwrap gcc

.PHONY: setup system-packages test serve bench dist clean

# Bytecode of our own modules, even where PYTHONDONTWRITEBYTECODE is set:
# compiling them at every start would cost more than a program's checks.
setup: system-packages $(STAMP) $(NPM_STAMP) $(SPEEDUPS_STAMP)
	@$(VENV)/bin/python -m compileall -q pyrona tracer server

# The tracer's C accelerator (optional: without a compiler the install says so and goes on),
# rebuilt when its source changes.
$(SPEEDUPS_STAMP): $(STAMP) tracer/_speedups.c setup.py
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# Browser libraries (mermaid) from npm, served by our own server.
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NPM_STAMP)

#: PostgreSQL's server binaries are not on PATH on Debian: the tests start a throwaway
#: cluster from them (tests/pg_cluster.py) unless PYRONA_TEST_POSTGRES names a server
POSTGRES_INITDB := /usr/lib/postgresql/*/bin/initdb
system-packages:
	@missing=""; for c in $(SYSTEM_COMMANDS); do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	if [ -z "$$PYRONA_TEST_POSTGRES" ] && ! ls $(POSTGRES_INITDB) >/dev/null 2>&1 \
		&& ! command -v initdb >/dev/null 2>&1; then missing="$$missing initdb"; fi; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian packages: $(SYSTEM_PACKAGES)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
		else \
			echo "error: missing$$missing; install the Debian packages: sudo apt-get install $(SYSTEM_PACKAGES)" >&2; exit 1; \
		fi; \
	fi

# (Re)build the venv when pyproject.toml changes or the venv is not Python 3.13.
$(STAMP): pyproject.toml setup.py pyrona/runtime/_freezewalk.c .ci/find-python
	@set -e; py=$$(.ci/find-python); \
	if ! $(VENV)/bin/python -c "import sys; sys.exit(sys.version_info[:2] != (3, 13))" 2>/dev/null; then \
		echo "creating $(VENV) with $$py"; rm -rf $(VENV); "$$py" -m venv $(VENV); \
	fi
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

# pytest exits 5 when it collected no test: that must fail, not pass.
test: setup system-packages
	@$(VENV)/bin/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

# Serves on 127.0.0.1:8000 (HOST/PORT override), with the sample programs traced.
HOST ?= 127.0.0.1
PORT ?= 8000
serve: setup system-packages
	$(VENV)/bin/pyrona serve --host $(HOST) --port $(PORT) --samples

bench: setup
	$(VENV)/bin/python bench/bench_runtime.py
	$(VENV)/bin/python bench/bench_freeze.py
	$(VENV)/bin/python bench/bench_tracer.py
	$(VENV)/bin/python bench/bench_real_programs.py
	$(VENV)/bin/python bench/bench_viewer.py
	$(VENV)/bin/python bench/bench_server.py

# The wheel, in dist/: `pip install dist/pyrona-*.whl` then `pyrona serve` needs neither
# Node nor this checkout. npm's libraries are installed first because the build copies
# mermaid's bundle into the package (setup.py says why that happens at build time).
dist: $(STAMP) $(NPM_STAMP)
	rm -rf dist build  # (setuptools never empties build/: an old build's files would ship)
	$(VENV)/bin/python -m build --wheel --outdir dist .

clean:
	rm -rf $(VENV) node_modules build dist *.egg-info .pytest_cache .hypothesis
