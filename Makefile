# The README's two commands: `make book` (set up, build the book) and `make test` (set up, run every test).
# Everything is installed into a local virtual environment, .venv, from the package registries.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: book test setup clean benchmarks dist browser-deps

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	touch $(STAMP)

# Build the HTML book into _build/html, executing every chapter from a clean state.
# Nitpicky, and any warning (broken reference, citation, failing cell) is an error.
book: $(STAMP)
	rm -rf _build/html _build/jupyter_execute _build/.doctrees
	$(BIN)/jupyter-book build . -n -W --keep-going || { \
	  for f in _build/html/reports/*.err.log; do [ -f "$$f" ] && { echo "== $$f"; cat "$$f"; }; done; exit 1; }

# Every test: build the book (which executes every chapter), then the unit tests and every
# chapter notebook under nbval (stored outputs compared) in one pytest run.
test: book browser-deps
	$(BIN)/python -m pytest tests book --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg

# The browser test drives Debian's Chromium; install it when missing and we may (root with apt-get).
browser-deps:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is not at /usr/bin/chromium: the browser test will be skipped (CI installs it)"; fi; }

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/run.py

dist: $(STAMP)
	$(BIN)/python -m pip install --quiet build
	$(BIN)/python -m build

clean:
	rm -rf _build dist build .pytest_cache
