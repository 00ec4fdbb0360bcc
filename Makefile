# Set-up is idempotent: `make test` and `make serve` install whatever is missing first.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: setup test serve bench clean

# Bytecode of our own modules, even where PYTHONDONTWRITEBYTECODE is set:
# compiling them at every start would cost more than a program's checks.
setup: $(STAMP)
	@$(VENV)/bin/python -m compileall -q pyrona tracer

# (Re)build the venv when pyproject.toml changes or the venv is not Python 3.13.
$(STAMP): pyproject.toml .ci/find-python
	@set -e; py=$$(.ci/find-python); \
	if ! $(VENV)/bin/python -c "import sys; sys.exit(sys.version_info[:2] != (3, 13))" 2>/dev/null; then \
		echo "creating $(VENV) with $$py"; rm -rf $(VENV); "$$py" -m venv $(VENV); \
	fi
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

# pytest exits 5 when it collected no test: that must fail, not pass.
test: setup
	@$(VENV)/bin/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

serve: setup
	@echo "The web app arrives with the tracer and the server (issues 3 and 4)."
	@echo "Until then, run a program under the region runtime:"
	@echo "  $(VENV)/bin/pyrona run sample_programs/<program>.py"

bench: setup
	$(VENV)/bin/python bench/bench_runtime.py
	$(VENV)/bin/python bench/bench_tracer.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
