"""The built book as a reader meets it: every chapter opened in headless Chromium.

For each chapter page of ``_build/html`` this checks that the mathematics is typeset by the
locally served MathJax (no raw ``$`` or ``\\begin`` left in the prose), that theorem and proof
boxes are there and numbered, that every image loaded, that the page logs no console error, and
it saves a full-page screenshot under ``_build/screenshots/``. The search page must find a word
that occurs in a chapter.

It needs the built book (``make book``) and Chromium at ``/usr/bin/chromium`` (Debian's
``chromium`` package, which ``.ci/run`` installs). Outside CI, a missing browser or book skips the
module; under ``CI=true`` it is an error.
"""

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("LAGPROP_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic",
]
IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing():
    if not (HTML / "book" / "index.html").is_file():
        return "the book is not built (run `make book`)"
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


_why = _missing()
if _why and IN_CI:
    raise RuntimeError(f"browser test cannot run in CI: {_why}")
pytestmark = pytest.mark.skipif(_why is not None, reason=str(_why))

CHAPTERS = sorted(
    p.relative_to(ROOT / "book").with_suffix(".html").as_posix()
    for p in (ROOT / "book").rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)
APPENDICES = sorted(p.relative_to(ROOT / "book").with_suffix(".html").as_posix()
                    for p in (ROOT / "book" / "appendix").glob("*.md"))
PAGES = ["index.html", *CHAPTERS, *APPENDICES]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    handler = functools.partial(_Quiet, directory=str(HTML))
    # threaded: the browser keeps connections open, and one open connection must not block the next page
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


def _open(browser, url):
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(url, wait_until="load")
    return page, errors


PROSE_TEXT = """() => {
  const main = document.querySelector('main') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, .cell_input, .cell_output, mjx-container, script, style, .MathJax')
       .forEach(e => e.remove());
  return clone.innerText;
}"""


@pytest.mark.parametrize("page_path", PAGES)
def test_chapter_renders(browser, site, page_path):
    page, errors = _open(browser, f"{site}/book/{page_path}")
    try:
        has_math = page.evaluate("() => !!document.querySelector('.math, span.math, div.math')")
        if has_math:
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
            page.evaluate("() => MathJax.startup.promise")
            typeset = page.evaluate("() => document.querySelectorAll('mjx-container').length")
            assert typeset > 0, "the page has mathematics but MathJax typeset none of it"
            src = page.evaluate("() => Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s))")
            assert src and all(s.startswith(site) for s in src), f"MathJax must be served by the book itself, got {src}"
        text = page.evaluate(PROSE_TEXT)
        assert "\\begin" not in text, "raw LaTeX environment left in the prose"
        assert not re.search(r"\$[^$\s][^$]*\$", text), "raw dollar math left in the prose"

        if page_path in CHAPTERS:
            titles = page.evaluate(
                "() => Array.from(document.querySelectorAll('div.proof.theorem, div.theorem.admonition, "
                "div.proof.lemma, div.proof.proposition, div.proof.corollary'))"
                ".map(d => (d.querySelector('.admonition-title') || d).innerText)"
            )
            assert titles, "a chapter states its results as numbered theorems"
            assert all(re.search(r"\b(Theorem|Lemma|Proposition|Corollary)\s+\d", t) for t in titles), titles
            proofs = page.evaluate("() => document.querySelectorAll('div.proof.admonition#proof, "
                                   "div.proof.admonition[id^=proof]').length")
            assert proofs >= 1, "a chapter proves what it states"
            assert page.evaluate("() => document.querySelectorAll('div.exercise.admonition').length") >= 1

        page.evaluate("() => document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; })")
        page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=20000)
        broken = page.evaluate(
            "() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )
        assert not broken, f"images that did not load: {broken}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / (page_path.replace("/", "__").removesuffix(".html") + ".png")), full_page=True)
        assert not errors, f"console errors: {errors}"
    finally:
        page.close()


def test_search_finds_a_chapter_word(browser, site):
    page, errors = _open(browser, f"{site}/search.html?q=costate")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=20000)
        hits = page.evaluate("() => document.querySelectorAll('#search-results ul.search li').length")
        assert hits > 0
        assert not errors, f"console errors: {errors}"
    finally:
        page.close()
