"""Reader notebooks as Jupyter shows them, in a real browser.

Two reader notebooks are exported with nbconvert's HTML exporter (the renderer of a notebook's
markdown without any extension) with MathJax 3 served locally (the files of the
``django-static-mathjax`` package, as ``book/_ext/offline_mathjax.py`` finds them) and configured
as JupyterLab configures it (``$...$`` inline, ``$$...$$`` display). Headless Chromium opens them;
the mathematics must be typeset without errors, no raw ``$$``, ``{prf:`` or role markup may be
left in the rendered markdown, theorems carry their numbers, and solutions sit in closed
``<details>`` elements.

Needs ``make notebooks`` and Chromium at ``/usr/bin/chromium``; outside CI a missing piece skips
the module, under ``CI=true`` it is an error.
"""

import os
import shutil
import sys

import pytest

import chromium
import reader_env as rv
from chromium import CHROMIUM

ROOT = rv.ROOT
NOTEBOOKS = ROOT / "_build" / "notebooks"
IN_CI = os.environ.get("CI", "").lower() == "true"
CHOSEN = ["lecun/costate.ipynb", "lecun/recurrent.ipynb"]
MATHJAX_CONFIG = """<script>
window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']],
                        displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
                        processEscapes: true, processEnvironments: true}};
</script>
"""


def _missing():
    if not all((NOTEBOOKS / c).is_file() for c in CHOSEN):
        return "no reader notebooks (run `make notebooks`)"
    if not os.path.isfile(CHROMIUM):
        return f"no Chromium at {CHROMIUM}"
    try:
        import nbconvert  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed"
    return None


_why = _missing()
if _why and IN_CI:
    raise RuntimeError(f"the reader-notebook browser test cannot run in CI: {_why}")
pytestmark = pytest.mark.skipif(_why is not None, reason=str(_why))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import nbconvert

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from offline_mathjax import _es5_folder

    out = tmp_path_factory.mktemp("reader-html")
    shutil.copytree(_es5_folder(), out / "mathjax")
    exporter = nbconvert.HTMLExporter(mathjax_url="mathjax/tex-chtml.js")
    for name in CHOSEN:
        html, _ = exporter.from_filename(str(NOTEBOOKS / name))
        tag = '<script src="mathjax/tex-chtml.js">'
        assert tag in html, "nbconvert no longer loads MathJax from mathjax_url"
        html = html.replace(tag, MATHJAX_CONFIG + tag, 1)
        (out / name.replace("/", "-").replace(".ipynb", ".html")).write_text(html, encoding="utf-8")
    with chromium.serve(out) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium.context(tmp_path_factory.mktemp("chromium-profile")) as ctx:
        yield ctx


MARKDOWN_TEXT = """() => Array.from(document.querySelectorAll('.jp-RenderedMarkdown')).map(m => {
  const c = m.cloneNode(true);
  c.querySelectorAll('pre, code, mjx-container, script, style').forEach(e => e.remove());
  return c.textContent;
}).join('\\n')"""


@pytest.mark.parametrize("name", CHOSEN)
def test_reader_notebook_renders_in_a_browser(browser, site, name):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(f"{site}/{name.replace('/', '-').replace('.ipynb', '.html')}", wait_until="load")
    try:
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=30000)
        page.evaluate("() => MathJax.startup.promise")
        typeset = page.evaluate("() => document.querySelectorAll('mjx-container').length")
        display = page.evaluate("() => document.querySelectorAll('mjx-container[display=\"true\"]').length")
        assert typeset > 50 and display > 5, (typeset, display)
        assert page.evaluate("() => document.querySelectorAll('mjx-merror, [data-mjx-error]').length") == 0
        tagged = page.evaluate("() => document.querySelectorAll('mjx-labels').length")
        assert tagged > 0, "numbered equations are typeset with their numbers"
        text = page.evaluate(MARKDOWN_TEXT)
        for raw in ("$$", "{prf:", "{eq}", "{cite", "{math}", "```{", ":label:", "\\begin", "\\tag"):
            assert raw not in text, f"raw {raw!r} left in the rendered markdown"
        assert "Theorem " in text and "Exercise " in text
        assert "le Cun" in text.replace("\xa0", " ") and "References" in text
        details = page.evaluate("() => Array.from(document.querySelectorAll('details')).map(d => "
                                "[d.open, d.querySelector('summary').textContent, "
                                "d.getBoundingClientRect().height, d.scrollHeight])")
        assert details, "the solutions are in <details> elements"
        assert all(not is_open and summary.startswith("Solution") for is_open, summary, _, _ in details)
        # closed: only the summary line is shown; opening one reveals its typeset content
        first = page.locator("details").first
        closed_height = first.bounding_box()["height"]
        first.locator("summary").click()
        assert page.evaluate("() => document.querySelector('details').open")
        assert first.bounding_box()["height"] > 2 * closed_height
        headings = page.evaluate("() => Array.from(document.querySelectorAll('.jp-RenderedMarkdown h2'))"
                                 ".map(h => h.textContent)")
        assert headings and all(h[0].isdigit() for h in headings), headings[:3]
        assert not errors, errors
    finally:
        page.close()
