# The README's two commands: `make book` (set up, build the book) and `make test` (set up, run every test).
# Everything is installed into a local virtual environment, .venv, from the package registries.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: book test setup clean benchmarks dist

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
test: book
	$(BIN)/python -m pytest tests book --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/run.py

dist: $(STAMP)
	$(BIN)/python -m pip install --quiet build
	$(BIN)/python -m build

clean:
	rm -rf _build dist build .pytest_cache
