# The README's two commands: `make book` (set up, build the book) and `make test` (set up, run every test).
# Everything is installed into a local virtual environment, .venv, from the package registries:
# `make book` installs the package with the `book` extra only; `make test` adds the `test` extra.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
BOOK_STAMP := $(VENV)/.book-stamp

.PHONY: book test setup clean benchmarks dist browser-deps conjecture experiments notebooks \
        notebooks-branch release-check site pdf pdf-deps mutation graphviz-deps

setup: $(STAMP)

# What the book needs (the `book` extra: Jupyter Book, the chapters' imports, MathJax); a venv
# that `make test` set up already has it.
$(BOOK_STAMP): pyproject.toml
	if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then :; else \
	  { [ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV); } && \
	  $(BIN)/python -m pip install --quiet --upgrade pip && \
	  $(BIN)/python -m pip install --quiet -e ".[book]"; fi
	touch $(BOOK_STAMP)

# Everything: the book's extra and the test extra (pytest, Playwright, nbval, build, ...).
$(STAMP): $(BOOK_STAMP)
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	touch $(STAMP)

# Build the HTML book into _build/html, executing every chapter from a clean state.
# Nitpicky, and any warning (broken reference, citation, failing cell) is an error.
# A PDF made before (make pdf) is copied in again, so that the download menu's link keeps working.
book: $(BOOK_STAMP) graphviz-deps
	rm -rf _build/html _build/jupyter_execute _build/.doctrees
	$(BIN)/jupyter-book build . -n -W --keep-going || { \
	  for f in _build/html/reports/*.err.log; do [ -f "$$f" ] && { echo "== $$f"; cat "$$f"; }; done; exit 1; }
	if [ -f _build/latex/book.pdf ]; then cp _build/latex/book.pdf _build/html/book.pdf; fi

# Reader notebooks: every chapter as a plain Jupyter notebook (MyST resolved to what the HTML
# shows), _build/notebooks/<path under book/>.ipynb. The HTML build writes them (extension
# book/_ext/reader_notebooks.py). This target reuses the last book build: it builds the
# book only when there is none, then rewrites the notebooks from what the build rendered
# (_build/.doctrees/reader_notebooks.json; seconds, nothing runs again). After editing a
# chapter, run `make book`.
notebooks: $(STAMP)
	@test -f _build/.doctrees/reader_notebooks.json || $(MAKE) book
	$(BIN)/python book/_ext/reader_notebooks.py _build

# Every test: build the book (which executes every chapter), the reader notebooks and the PDF, then the
# unit tests and every chapter notebook under nbval (stored outputs compared) in one pytest run.
test: $(STAMP) book notebooks pdf browser-deps
	$(BIN)/python -m pytest tests book --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg

# The front page's dependency figure is drawn by Graphviz's dot (sphinx.ext.graphviz, from
# book/_ext/reader_guide.py); install Debian's graphviz when it is missing and we may.
graphviz-deps:
	@command -v dot >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else echo "Graphviz's dot is missing: install the Debian package graphviz"; exit 1; fi; }

# The browser test drives Debian's Chromium; install it when missing and we may (root with apt-get).
# It checks accessibility with axe-core, the npm package, installed into .venv/node (not committed).
AXE := $(VENV)/node/node_modules/axe-core/axe.min.js
browser-deps:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is not at /usr/bin/chromium: the browser test will be skipped (CI installs it)"; fi; }
	@test -f $(AXE) || { \
	  if ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; fi; \
	  if command -v npm >/dev/null; then \
	    npm install --silent --no-save --no-audit --no-fund --prefix $(VENV)/node axe-core@4; \
	  else echo "npm is missing: the accessibility test (axe-core) will be skipped (CI installs it)"; fi; }

# The whole book as one PDF, _build/latex/book.pdf: Jupyter Book's LaTeX builder (XeLaTeX), from
# the chapters' stored outputs (those nbval checks; LAGPROP_PDF_EXECUTE=1 executes them again).
# A copy goes into _build/html (when built) for the pages' download menu.
# It builds in a tree of its own (_build/pdf), so that it never reuses the HTML build's
# environment, whose numbering is the HTML's; the PDF is then copied to _build/latex/book.pdf.
pdf: $(BOOK_STAMP) graphviz-deps pdf-deps
	rm -rf _build/latex _build/pdf
	$(BIN)/jupyter-book build . --builder pdflatex -n -W --keep-going --path-output _build/pdf
	mkdir -p _build/latex && cp _build/pdf/_build/latex/book.pdf _build/pdf/_build/latex/book.log \
	   _build/pdf/_build/latex/book.tex _build/latex/
	test -s _build/latex/book.pdf
	if [ -d _build/html ]; then cp _build/latex/book.pdf _build/html/book.pdf; fi

# TeX Live from Debian's packages when missing and we may (root with apt-get), as for Chromium:
# needspace.sty is in texlive-latex-extra, the index needs xindy, the PDF test reads it with
# pdftotext. Not texlive-fonts-extra (1.4 GiB): the one file the LaTeX class asks of it, bbm.sty,
# is replaced by a two-line stand-in that pdf_book.py writes (\mathbbm as \mathbb).
PDF_DEBS := texlive-latex-recommended texlive-latex-extra texlive-xetex \
            texlive-plain-generic latexmk xindy fonts-freefont-otf fonts-dejavu-core poppler-utils
pdf-deps:
	@{ command -v xelatex && command -v latexmk && command -v xindy && command -v pdftotext \
	   && kpsewhich needspace.sty && fc-list | grep -q "DejaVu Sans Mono"; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_DEBS) >/dev/null; \
	  else echo "TeX Live is missing; install the Debian packages $(PDF_DEBS)"; exit 1; fi; }

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Mutation scores of the core modules (mutmut, one module at a time under nice, at most about
# ten minutes each) into benchmarks/mutation.md; slow, so not part of `make test`.
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet "mutmut>=3.8"
	$(BIN)/python benchmarks/mutation.py

# The small-dissipation conjecture over many landscape draws (about a minute on two cores).
conjecture: $(STAMP)
	nice $(BIN)/python benchmarks/conjecture.py

# The real-data experiments (MNIST-1D's published table, the digits ladder), every model and
# seed, into benchmarks/experiments.{json,md} (about ten minutes on one core; not part of test).
experiments: $(STAMP)
	nice $(BIN)/python benchmarks/experiments.py all

# The release artefacts: sdist and wheel in dist/, checked with twine.
dist: $(STAMP)
	$(BIN)/python -m pip install --quiet build twine
	rm -rf dist
	$(BIN)/python -m build
	$(BIN)/python -m twine check --strict dist/*

# Before publishing a release: the artefacts, and the tag (TAG=v<version>) names the version.
release-check: dist
	@v=$$($(BIN)/python -c 'import lagprop; print(lagprop.__version__)'); \
	  test "$(TAG)" = "v$$v" || { echo "tag '$(TAG)' is not v$$v, the package's version"; exit 1; }

# What the `notebooks` branch holds (the launch buttons open it): reader notebooks and binder/.
notebooks-branch: notebooks
	rm -rf _build/notebooks-branch
	cp -r _build/notebooks _build/notebooks-branch
	cp -r binder _build/notebooks-branch/binder

# The published site (GitHub Pages): the HTML book, with its PDF and the reader notebooks.
site: notebooks pdf
	if [ -f _build/latex/book.pdf ]; then cp _build/latex/book.pdf _build/html/book.pdf; fi
	rm -rf _build/html/notebooks
	cp -r _build/notebooks _build/html/notebooks

clean:
	rm -rf _build dist build .pytest_cache
