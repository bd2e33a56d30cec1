"""The built book as a reader meets it: every chapter opened in headless Chromium.

For each chapter page of ``_build/html`` this checks that the mathematics is typeset by the
locally served MathJax (no raw ``$`` or ``\\begin`` left in the prose), that theorem and proof
boxes are there and numbered, that every image loaded, that the page logs no console error, and
it saves a full-page screenshot under ``_build/screenshots/``. The search page must find a word
that occurs in a chapter, and its snippets show no raw ``\\(...\\)``.

Every page (chapters, appendices, each API page) is then measured at 1280 px and at 390 px:
display equations wider than their box, inline formulas clipped or wider than their line,
images without real alt text or without a caption, controls whose keyboard focus draws no
outline, figures with fewer than twice the pixels of their displayed width, and figures shown so
much narrower than they were drawn that their 11-pt labels fall under 80 % of the body text. At
1280 px every count must be zero; at 390 px a wide display may scroll, but only with the scroll
cue, no inline formula may be clipped, and small figure labels are only reported (a phone shrinks
every multi-panel figure). At both widths no image may be drawn off its own aspect ratio, MathJax
may report no error (``mjx-merror``), and the page itself may not scroll sideways; at 1280 px no
entry of the right-hand contents may be cut off. The general index is measured too. The counts
are written to ``_build/browser-report.json``.

Every page is also checked with axe-core (Deque's WCAG 2 rule engine), in the light and the dark
colour mode: no violation of impact "serious" or "critical". axe-core is not part of the
repository: ``make browser-deps`` installs the npm package into ``.venv/node`` (or point
``LAGPROP_AXE`` at ``axe.min.js``), and the test injects it into each page. MathJax's assistive
MathML (what a screen reader reads of a formula) must be there on every page with mathematics.

It needs the built book (``make book``) and Chromium at ``/usr/bin/chromium`` (Debian's
``chromium`` package, which ``.ci/run`` installs). Outside CI, a missing browser or book skips the
module; under ``CI=true`` it is an error.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

import chromium
from chromium import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("LAGPROP_HTML", ROOT / "_build" / "html"))  # another build to test
SHOTS = HTML.parent / "screenshots"
REPORT = HTML.parent / "browser-report.json"
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
                    for p in (ROOT / "book" / "appendix").rglob("*.md"))
# the general index sits beside book/: its path is relative to book/
PAGES = ["index.html", *CHAPTERS, *APPENDICES, "../genindex.html"]

_AXE_PLACES = [os.environ.get("LAGPROP_AXE", ""),
               ROOT / ".venv" / "node" / "node_modules" / "axe-core" / "axe.min.js",
               ROOT / "node_modules" / "axe-core" / "axe.min.js"]
AXE = next((Path(p) for p in _AXE_PLACES if p and Path(p).is_file()), None)


@pytest.fixture(scope="module")
def site():
    with chromium.serve(HTML) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with chromium.context(profile) as ctx:
        yield ctx
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
            errors_mj = page.evaluate("() => Array.from(document.querySelectorAll('mjx-merror'))"
                                      ".map(e => e.getAttribute('data-mjx-error') || e.textContent)")
            assert not errors_mj, f"MathJax errors: {errors_mj}"
            assistive = page.evaluate("() => document.querySelectorAll('mjx-assistive-mml').length")
            assert assistive >= typeset * 0.9, "formulas must keep MathJax's assistive MathML"
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


def test_root_redirect_logs_no_error(browser, site):
    page, errors = _open(browser, f"{site}/index.html")  # a redirect to book/index.html
    try:
        page.wait_for_url("**/book/index.html", timeout=20000)
        page.wait_for_load_state("load")
        assert not errors, f"console errors: {errors}"   # e.g. a favicon.ico that is not there
    finally:
        page.close()


def test_search_finds_a_chapter_word(browser, site):
    page, errors = _open(browser, f"{site}/search.html?q=costate")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=20000)
        hits = page.evaluate("() => document.querySelectorAll('#search-results ul.search li').length")
        assert hits > 0
        page.wait_for_timeout(2000)  # the results arrive one by one
        titles = page.evaluate("() => Array.from(document.querySelectorAll('#search-results ul.search li > a'))"
                               ".slice(0, 3).map(a => a.textContent)")
        assert any("The costate: what the multipliers mean" in t for t in titles), titles
        snippets = page.evaluate("() => Array.from(document.querySelectorAll('#search-results p.context'))"
                                 ".map(p => p.textContent).join(' | ')")
        assert snippets and "Contents" not in snippets, "snippets show the print-only contents"
        assert not errors, f"console errors: {errors}"
    finally:
        page.close()


# ---- Pages that fit, figures that read, controls that show focus --------------------------------

WIDTHS = (1280, 390)

MEASURE = r"""() => {
  const main = document.querySelector('main') || document.body;
  const short = el => {
    const math = el.closest('div.math, span.math');
    const id = (math && math.id) || (el.closest('[id]') || {}).id || '';
    const tex = math ? (math.querySelector('mjx-assistive-mml') ? '' : '') : '';
    return (id + ' ' + (el.textContent || '').replace(/\s+/g, ' ').slice(0, 60)).trim() + tex;
  };
  const cue = el => el.classList.contains('lp-scrolls') &&
    /gradient/.test(getComputedStyle(el).backgroundImage) &&
    /(auto|scroll)/.test(getComputedStyle(el).overflowX);
  const out = {displays: [], displays_without_cue: [], inline_clipped: [], inline_wide: [],
               images: [], no_caption: [], low_density: [], small_labels: [], code_scrolls: 0};
  // display equations: the typeset formula must fit its box (or scroll, with the cue)
  main.querySelectorAll('div.math').forEach(div => {
    const mjx = div.querySelector('mjx-container[display="true"]') || div;
    const wide = mjx.scrollWidth > mjx.clientWidth + 1 || div.scrollWidth > div.clientWidth + 1 ||
                 mjx.getBoundingClientRect().right > main.getBoundingClientRect().right + 1;
    if (wide) {
      out.displays.push(short(div));
      if (!cue(mjx)) out.displays_without_cue.push(short(div));
    }
  });
  // inline formulas: clipped (cut by a box that does not scroll) or wider than their line
  main.querySelectorAll('span.math').forEach(span => {
    if (span.closest('div.math')) return;
    const mjx = span.querySelector('mjx-container');
    if (!mjx) return;
    const w = mjx.getBoundingClientRect().width;
    const ox = getComputedStyle(span).overflowX;
    const scrolls = /(auto|scroll)/.test(ox);
    if (w > span.clientWidth + 1 && !scrolls && ox !== 'visible') out.inline_clipped.push(short(span));
    const line = (span.closest('p, li, td, dd, dt, div') || span.parentElement).getBoundingClientRect();
    const r = mjx.getBoundingClientRect();
    if (!scrolls && r.right > line.right + 1) out.inline_clipped.push('past its line: ' + short(span));
    if (scrolls && span.scrollWidth > span.clientWidth + 1) out.inline_wide.push(short(span));
  });
  // images: real alt text and a caption (figure outputs); pixels for a 2x screen
  const bodyPx = parseFloat(getComputedStyle(main.querySelector('article p') || main).fontSize);
  main.querySelectorAll('img').forEach(img => {
    if (img.closest('.cell_output, .output, figure, .animation')) {
      const alt = (img.getAttribute('alt') || '').trim();
      const src = (img.getAttribute('src') || '');
      if (alt.length < 10 || /\.(png|jpe?g|gif|svg)$/i.test(alt) || /[0-9a-f]{32}/.test(alt) ||
          src.endsWith(alt) || /^(image|figure|plot|png)$/i.test(alt)) out.images.push(src.slice(-70));
      const inAnimation = !!img.closest('.animation');
      const fig = img.closest('figure');
      if (!inAnimation && !(fig && fig.querySelector('figcaption') &&
                             fig.querySelector('figcaption').textContent.trim().length > 10))
        out.no_caption.push(src.slice(-70));
      const shown = img.getBoundingClientRect().width;
      if (shown > 0 && img.naturalWidth < 1.95 * shown)
        out.low_density.push(`${src.slice(-40)}: ${img.naturalWidth}px shown at ${Math.round(shown)}px`);
      // 11-pt labels of a figure made at 100 dpi are 15.3 px at its 1x width
      if (shown > 0 && img.naturalWidth > 0) {
        const label = 15.28 * shown / (img.naturalWidth / 2);
        if (label < 0.8 * bodyPx) out.small_labels.push(`${src.slice(-40)}: ${label.toFixed(1)}px`);
      }
    }
  });
  main.querySelectorAll('div.highlight pre, .cell_output pre').forEach(pre => {
    if (pre.scrollWidth > pre.clientWidth + 1) out.code_scrolls += 1;
  });
  // every image drawn at its own aspect ratio (2 % tolerance: rounding of small images)
  out.aspect = [];
  document.querySelectorAll('img').forEach(img => {
    const r = img.getBoundingClientRect();
    if (!(r.width > 0 && r.height > 0 && img.naturalWidth > 0 && img.naturalHeight > 0)) return;
    const drawn = r.width / r.height, own = img.naturalWidth / img.naturalHeight;
    if (Math.abs(drawn / own - 1) > 0.02)
      out.aspect.push(`${(img.getAttribute('src') || '').slice(-40)}: drawn ${drawn.toFixed(2)}, own ${own.toFixed(2)}`);
  });
  // MathJax's own error boxes (an unknown macro or environment)
  out.mathjax_errors = Array.from(document.querySelectorAll('mjx-merror'))
    .map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 80));
  // the page itself scrolls sideways: name the outermost elements that stick out
  const vw = document.documentElement.clientWidth;
  out.page_overflow = [];
  if (document.documentElement.scrollWidth > vw + 1) {
    const sticks = el => el.getBoundingClientRect().right > vw + 1;
    document.querySelectorAll('body *').forEach(el => {
      if (out.page_overflow.length >= 6 || !sticks(el)) return;
      if (el.parentElement && el.parentElement !== document.body && sticks(el.parentElement)) return;
      const cls = typeof el.className === 'string' ? el.className.split(' ')[0] : '';
      out.page_overflow.push(`${el.tagName.toLowerCase()}.${cls} to ${Math.round(el.getBoundingClientRect().right)}px`);
    });
    if (!out.page_overflow.length) out.page_overflow.push(`scrollWidth ${document.documentElement.scrollWidth}px`);
  }
  // the right-hand contents: an entry cut off by its box or by the window
  out.toc_clipped = [];
  const side = document.querySelector('.bd-sidebar-secondary');
  if (side && side.getBoundingClientRect().width > 0) {
    const edge = Math.min(vw, side.getBoundingClientRect().right);
    side.querySelectorAll('nav a').forEach(a => {
      const r = a.getBoundingClientRect();
      if (r.width === 0) return;
      if (a.scrollWidth > a.clientWidth + 1 || r.right > edge + 1)
        out.toc_clipped.push(a.textContent.trim().slice(0, 40));
    });
  }
  return out;
}"""

CONTROLS = ("a[href], button, summary, input, select, textarea, [tabindex]:not([tabindex='-1'])")

FOCUS = r"""(selector) => {
  const seen = [];
  const visible = el => {
    const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const all = Array.from(document.querySelectorAll(selector)).filter(visible);
  // the page's controls (header, sidebars, toggles) and the first links of the text
  const chrome = all.filter(el => !el.closest('article') || el.matches('button, summary, [tabindex]'));
  const text = all.filter(el => el.closest('article') && el.matches('a[href]')).slice(0, 25);
  const bad = [];
  for (const el of chrome.concat(text)) {
    el.focus();
    if (document.activeElement !== el) continue;
    const s = getComputedStyle(el);
    const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) ||
                 (s.boxShadow && s.boxShadow !== 'none');
    if (!ring) bad.push((el.getAttribute('aria-label') || el.title || el.textContent || el.tagName)
                          .replace(/\s+/g, ' ').trim().slice(0, 50) + ' <' + el.tagName.toLowerCase() + '>');
    seen.push(el);
  }
  return {checked: seen.length, without_ring: bad};
}"""

_REPORT = {}


@pytest.fixture(scope="module")
def report():
    yield _REPORT
    import json

    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(_REPORT, indent=1, sort_keys=True))


def _measure(browser, site, page_path):
    """Open the page once; measure it at each width of WIDTHS (the viewport is resized)."""
    page, errors = _open(browser, "about:blank")
    found = {}
    try:
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        page.goto(f"{site}/book/{page_path}", wait_until="load")
        if page.evaluate("() => !!document.querySelector('.math')"):
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                   timeout=20000)
            page.evaluate("() => MathJax.startup.promise")
        page.evaluate("() => document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; })")
        page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=20000)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(300)  # the layout settles
            page.evaluate("() => window.lagpropMarkScrollers && window.lagpropMarkScrollers()")
            found[width] = page.evaluate(MEASURE)
            page.keyboard.press("Tab")  # keyboard modality, as a keyboard user has it
            found[width]["focus"] = page.evaluate(FOCUS, CONTROLS)
        return found
    finally:
        page.close()


@pytest.mark.parametrize("page_path", PAGES)
def test_page_fits_and_reads(browser, site, report, page_path):
    found = _measure(browser, site, page_path)
    failures = []
    for width, m in found.items():
        report[f"{width} {page_path}"] = m
        problems = {
            "clipped inline formulas": m["inline_clipped"],
            "images without real alt text": m["images"],
            "figures without a caption": m["no_caption"],
            "controls without a visible focus ring": m["focus"]["without_ring"],
            "figures with fewer than 2x pixels": m["low_density"],
            "images drawn off their aspect ratio": m["aspect"],
            "MathJax errors": m["mathjax_errors"],
            "elements that make the page scroll sideways": m["page_overflow"],
        }
        if width >= 1280:
            problems["entries of the right-hand contents cut off"] = m["toc_clipped"]
            problems["display equations wider than their box"] = m["displays"]
            problems["inline formulas wider than their line"] = m["inline_wide"]
            problems["figures whose labels are under 80 % of body text"] = m["small_labels"]
        else:
            problems["wide displays that scroll without a cue"] = m["displays_without_cue"]
        failures += [f"{width}px: {len(v)} {k}: {v[:4]}" for k, v in problems.items() if v]
    assert not failures, f"{page_path}: " + "; ".join(failures)


def test_search_snippets_show_no_raw_tex(browser, site):
    page, errors = _open(browser, f"{site}/search.html?q=costate")
    try:
        page.wait_for_selector("#search-results ul.search li p.context", timeout=30000)
        page.wait_for_timeout(1500)
        text = page.evaluate("() => document.querySelector('#search-results').innerText")
        assert "\\(" not in text and "\\)" not in text, text[:500]
        assert page.evaluate(r"() => window.lagpropPlainMath('a \\(\\partial L/\\partial B(k)\\) b')") \
            == "a \u2202L/\u2202B(k) b"
    finally:
        page.close()


def test_download_menu_links_the_pdf_and_solution_titles_open(browser, site):
    page, errors = _open(browser, f"{site}/book/{CHAPTERS[0]}")
    try:
        href = page.evaluate("() => (document.querySelector('.dropdown-download-buttons a.lp-book-pdf') "
                             "|| {}).href")
        assert href and href.endswith("/book.pdf"), href
        if (HTML.parent / "latex" / "book.pdf").is_file():  # built: `make book` keeps its copy
            status = page.evaluate("async (u) => (await fetch(u, {method: 'HEAD'})).status", href)
            assert status == 200, f"the download menu's book.pdf answers {status}"
        assert page.evaluate("() => document.querySelectorAll('.solution .admonition-title a').length") == 0
        title = page.locator(".solution.dropdown .admonition-title").first
        box = page.locator(".solution.dropdown").first
        assert "toggle-hidden" in (box.get_attribute("class") or "")
        url = page.url
        title.click()
        page.wait_for_timeout(500)
        assert page.url == url, "a solution title must not jump away"
        assert "toggle-hidden" not in (box.get_attribute("class") or ""), "the title opens the solution"
    finally:
        page.close()


def test_print_wraps_code_and_opens_solutions(browser, site):
    page, errors = _open(browser, f"{site}/book/{CHAPTERS[0]}")
    try:
        page.emulate_media(media="print")
        page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
        wrap = page.evaluate("() => getComputedStyle(document.querySelector('div.highlight pre')).whiteSpace")
        assert wrap == "pre-wrap", wrap
        hidden = page.evaluate(
            "() => Array.from(document.querySelectorAll('.solution section, .solution p:not(.admonition-title)'))"
            ".filter(e => getComputedStyle(e).visibility === 'hidden' || e.getBoundingClientRect().height === 0)"
            ".length")
        assert hidden == 0, f"{hidden} parts of solutions stay hidden in print"
        closed = page.evaluate("() => document.querySelectorAll('details:not([open])').length")
        assert closed == 0, f"{closed} collapsed cells stay closed in print"
    finally:
        page.close()


# ---- Accessibility: axe-core, in both colour modes -------------------------------------------

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}, ${v.nodes.length}): ` +
              v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
}"""


@pytest.mark.parametrize("page_path", PAGES)
def test_page_is_accessible(browser, site, report, page_path):
    if AXE is None:
        if IN_CI:
            pytest.fail("axe-core is missing: run `make browser-deps` (npm install axe-core)")
        pytest.skip("axe-core is missing (make browser-deps, or LAGPROP_AXE=<axe.min.js>)")
    page, errors = _open(browser, f"{site}/book/{page_path}")
    try:
        if page.evaluate("() => !!document.querySelector('.math')"):
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                   timeout=20000)
            page.evaluate("() => MathJax.startup.promise")
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        # colours measured as they settle, not halfway through the theme's transitions
        page.add_style_tag(content="*, *::before, *::after { transition: none !important; "
                                   "animation: none !important; }")
        found = {}
        for mode in ("light", "dark"):
            page.evaluate("(m) => { document.documentElement.dataset.mode = m; "
                          "document.documentElement.dataset.theme = m; }", mode)
            page.wait_for_timeout(500)
            found[mode] = page.evaluate(AXE_RUN)
            report[f"axe {mode} {page_path}"] = found[mode]
        assert not any(found.values()), f"{page_path}: " + "; ".join(
            f"{mode}: {v}" for mode, vs in found.items() for v in vs)
    finally:
        page.close()
