"""Previews of references in the built book, hovered in headless Chromium.

Hovering a reference to a theorem, a definition, an equation, a glossary term or a
citation on a chapter page shows a tip with the target's content, typeset by the book's
own MathJax (the extension ``book/_ext/previews.py``, with sphinx-tippy). For one
reference of each kind, found on the first chapter page that has one, and in the light
and the dark colour mode, this checks that the tip shows the target (a theorem's box
and number, the display of an equation, the term and its definition, the entry of the
list of references), that its mathematics is typeset (``mjx-container``, no raw TeX,
no MathJax error), that it copies no id of the page, that it has the page's colours with
readable contrast, that the link is described by it (``aria-describedby`` on a
``role="tooltip"``) and that axe-core finds no serious or critical violation in it. No
request may leave the site: tippy.js, Popper, the tips and MathJax are all served by
the book.

Keyboard focus shows a tip and Escape closes it; on a 390 px phone screen the tip fits
the screen. Each chapter's tips script stays within a size budget. The extension's own
HTML rewriting (glossary groups, equation numbers, no copied ids, anchors that name
their page) is checked on small pieces of HTML, without the browser.

The browser tests need what ``tests/browser/test_book_in_browser.py`` needs (the built
book, Chromium, Playwright; axe-core for the accessibility check) and use its fixtures.
"""

import contextlib
import re
import sys
from pathlib import Path

import pytest

from test_book_in_browser import (  # noqa: F401  (browser and site are fixtures)
    AXE,
    CHAPTERS,
    HTML,
    IN_CI,
    _why,
    browser,
    site,
)

needs_browser = pytest.mark.skipif(_why is not None, reason=str(_why))
EXT = Path(__file__).resolve().parents[2] / "book" / "_ext"

LINK = re.compile(r'<a class="reference internal" href="([^"]+)"[^>]*>(.*?)</a>', re.S)
TAG = re.compile(r"<[^>]+>")


def _is_theorem(href, text):
    return "#" in href and re.match(r"Theorem\s+\d", text)


def _is_definition(href, text):
    return "#" in href and re.match(r"Definition\s+\d", text)


def _is_equation(href, text):
    return "#equation-" in href


def _is_term(href, text):
    return re.search(r"glossary\.html#term-", href)


def _is_citation(href, text):
    return re.search(r"references\.html#.", href)


KINDS = {
    "theorem": _is_theorem,
    "definition": _is_definition,
    "equation": _is_equation,
    "glossary term": _is_term,
    "citation": _is_citation,
}


def _reference(kind):
    """The first chapter page (in the files' order) with a reference of ``kind``."""
    test = KINDS[kind]
    for chapter in CHAPTERS:
        page = HTML / "book" / chapter
        if not page.is_file():
            continue
        article = page.read_text(encoding="utf-8")
        start = article.find("<article")
        for href, inner in LINK.findall(article[start:]):
            text = " ".join(TAG.sub("", inner).split())
            if test(href, text):
                return chapter, href, text
    pytest.fail(f"no chapter page of {HTML} has a reference of kind {kind!r}")


OUTSIDE = """(site) => performance.getEntriesByType('resource').map(e => e.name)
  .filter(u => !u.startsWith(site))"""

# shown, its fade-in over
SHOWN = """(sel) => {
  const link = document.querySelector(sel);
  const tip = link && link._tippy;
  return !!(tip && tip.state.isShown && tip.popper.isConnected &&
            tip.popper.querySelector('.tippy-box[data-state="visible"]'));
}"""
HIDDEN = "(sel) => !document.querySelector(sel)._tippy.state.isVisible"

TYPESET = """(sel) => {
  const box = document.querySelector(sel)._tippy.popper;
  return !box.querySelector('.math') ||
         ['done', 'failed'].includes(box.dataset.lpTypeset);
}"""

TIP = r"""(sel) => {
  const link = document.querySelector(sel);
  const root = link._tippy.popper;
  const box = root.querySelector('.tippy-box');
  const content = root.querySelector('.tippy-content');
  const rgb = c => (c.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
  const channel = v => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const lum = c => {
    const [r, g, b] = rgb(c).map(channel);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const bg = getComputedStyle(box).backgroundColor, fg = getComputedStyle(box).color;
  const hi = Math.max(lum(bg), lum(fg)), lo = Math.min(lum(bg), lum(fg));
  const r = box.getBoundingClientRect();
  const maths = Array.from(content.querySelectorAll('.math'));
  const clone = content.cloneNode(true);
  clone.querySelectorAll('mjx-container, script').forEach(e => e.remove());
  const title = content.querySelector('.admonition-title');
  const text = sel => (content.querySelector(sel) || {}).innerText || '';
  return {
    title: title ? title.innerText.replace(/\s+/g, ' ').trim() : '',
    text: clone.innerText.replace(/\s+/g, ' ').trim(),
    mjx: content.querySelectorAll('mjx-container').length,
    display_mjx: content.querySelectorAll('div.math mjx-container[display="true"]')
      .length,
    untypeset: maths.filter(m => !m.querySelector('mjx-container')).length,
    merror: content.querySelectorAll('mjx-merror').length,
    ids: Array.from(content.querySelectorAll('[id]')).map(e => e.id),
    role: box.getAttribute('role'),
    describedby: link.getAttribute('aria-describedby'),
    root_id: root.id,
    theorem: !!content.querySelector('div.proof.theorem'),
    definition: !!content.querySelector('div.proof.definition'),
    term: text('dl.glossary dt'),
    definition_text: text('dl.glossary dd'),
    citation: text('div.citation'),
    bg_luminance: lum(bg),
    contrast: (hi + 0.05) / (lo + 0.05),
    box: [r.left, r.top, r.right, r.bottom],
    viewport: [document.documentElement.clientWidth, window.innerHeight],
  };
}"""

# the tip only: the hovered link has the theme's hover colour, which is not the tip's
AXE_TIP = """async (sel) => {
  const link = document.querySelector(sel);
  const result = await axe.run({include: [link._tippy.popper]},
                               {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ` +
              v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
}"""

MATHJAX_READY = "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
HAS_TIP = "(s) => { const a = document.querySelector(s); return a && a._tippy; }"


def _open_chapter(browser, site, chapter):
    page = browser.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site}/book/{chapter}", wait_until="load")
    page.wait_for_function(MATHJAX_READY, timeout=20000)
    page.evaluate("() => MathJax.startup.promise")
    return page, requests, errors


def _selector(href):
    return f'article a.reference.internal[href="{href}"]'


def _wait_tips(page, sel):
    page.wait_for_function(HAS_TIP, arg=sel, timeout=20000)


def _wait_typeset(page, sel):
    from playwright.sync_api import TimeoutError as Timeout

    try:
        page.wait_for_function(TYPESET, arg=sel, timeout=20000)
    except Timeout:
        pass  # the formulas left untypeset are reported by the checks


def _show_by_hover(page, sel):
    page.mouse.move(0, 0)
    page.wait_for_function(HIDDEN, arg=sel, timeout=5000)
    page.locator(sel).first.hover()
    page.wait_for_function(SHOWN, arg=sel, timeout=5000)
    _wait_typeset(page, sel)
    page.wait_for_timeout(200)  # the tip takes its place
    return page.evaluate(TIP, sel)


def _set_mode(page, mode):
    page.evaluate("(m) => { document.documentElement.dataset.mode = m; "
                  "document.documentElement.dataset.theme = m; }", mode)
    page.wait_for_timeout(600)  # the theme's colour transitions end


def _check_content(kind, text, tip):
    problems = []
    raw = [t for t in ("\\(", "\\)", "\\[", "\\begin", "$$") if t in tip["text"]]
    if raw:
        problems.append(f"raw TeX {raw} in the tip: {tip['text'][:200]}")
    if tip["untypeset"] or tip["merror"]:
        problems.append(f"{tip['untypeset']} formulas not typeset, "
                        f"{tip['merror']} MathJax errors")
    if tip["ids"]:
        problems.append(f"the tip repeats ids of the page: {tip['ids'][:5]}")
    typeset_box = (f"not the typeset {text}: title {tip['title']!r}, "
                   f"{tip['mjx']} formulas")
    if kind == "theorem":
        if not (tip["theorem"] and tip["title"].startswith(text) and tip["mjx"] > 0):
            problems.append(typeset_box)
    elif kind == "definition":
        if not (tip["definition"] and tip["title"].startswith(text) and tip["mjx"] > 0):
            problems.append(typeset_box)
    elif kind == "equation":
        if tip["display_mjx"] != 1 or text not in tip["text"]:
            problems.append(f"not the one typeset display {text}: {tip['display_mjx']} "
                            f"displays, text {tip['text'][:80]!r}")
    elif kind == "glossary term":
        if not (tip["term"].strip() and len(tip["definition_text"].strip()) > 20):
            problems.append(f"not a term with its definition: {tip['term']!r}, "
                            f"{tip['definition_text'][:80]!r}")
    elif kind == "citation":
        year = re.search(r"\d{4}", text)
        if not (tip["citation"] and year and year.group(0) in tip["citation"]):
            problems.append(f"not the entry cited by {text!r}: "
                            f"{tip['citation'][:120]!r}")
    return problems


def _check_tip(page, sel, tip):
    found = []
    if tip["role"] != "tooltip" or tip["describedby"] != tip["root_id"]:
        found.append(f"the link is not described by its tip: role {tip['role']!r}, "
                     f"aria-describedby {tip['describedby']!r} "
                     f"(tip {tip['root_id']!r})")
    if tip["contrast"] < 4.5:
        found.append(f"text contrast {tip['contrast']:.2f} < 4.5")
    left, top, right, bottom = tip["box"]
    if left < 0 or right > tip["viewport"][0] + 1:
        found.append(f"the tip sticks out of the window: {tip['box']}")
    if AXE is not None:
        found += page.evaluate(AXE_TIP, sel)
    elif IN_CI:
        found.append("axe-core is missing: run `make browser-deps`")
    return found


@needs_browser
@pytest.mark.parametrize("kind", list(KINDS))
def test_hovering_a_reference_previews_its_target(browser, site, kind):
    chapter, href, text = _reference(kind)
    sel = _selector(href)
    page, requests, errors = _open_chapter(browser, site, chapter)
    try:
        _wait_tips(page, sel)
        if AXE is not None:
            page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        problems, luminance = [], {}
        for mode in ("light", "dark"):
            _set_mode(page, mode)
            tip = _show_by_hover(page, sel)
            found = _check_content(kind, text, tip) + _check_tip(page, sel, tip)
            luminance[mode] = tip["bg_luminance"]
            problems += [f"{mode}: {p}" for p in found]
        if not (luminance["light"] > 0.8 and luminance["dark"] < 0.1):
            problems.append(f"the tip does not follow the colour mode: background "
                            f"luminance {luminance}")
        outside = [u for u in requests if not u.startswith((site, "data:"))]
        outside += page.evaluate(OUTSIDE, site)
        assert not outside, f"requests outside the site: {sorted(set(outside))[:5]}"
        assert not errors, f"console errors: {errors}"
        assert not problems, (f"{kind} {text!r} ({href}) on {chapter}: "
                              + "; ".join(problems))
    finally:
        page.close()


@contextlib.contextmanager
def _theorem_reference(browser, site):
    """A chapter page open at a reference to a theorem: (page, the link's selector)."""
    chapter, href, text = _reference("theorem")
    sel = _selector(href)
    page, requests, errors = _open_chapter(browser, site, chapter)
    try:
        yield page, sel
    finally:
        page.close()


@needs_browser
def test_keyboard_focus_shows_a_tip_and_escape_closes_it(browser, site):
    with _theorem_reference(browser, site) as (page, sel):
        _wait_tips(page, sel)
        page.keyboard.press("Tab")  # keyboard modality
        page.focus(sel)
        page.wait_for_function(SHOWN, arg=sel, timeout=5000)
        page.keyboard.press("Escape")
        page.wait_for_function(HIDDEN, arg=sel, timeout=5000)
        focused = page.evaluate(
            "(s) => document.activeElement === document.querySelector(s)", sel)
        assert focused, "Escape closes the tip and leaves the focus on the link"


@needs_browser
def test_a_tip_fits_a_phone_screen(browser, site):
    with _theorem_reference(browser, site) as (page, sel):
        page.set_viewport_size({"width": 390, "height": 844})
        _wait_tips(page, sel)
        page.locator(sel).first.scroll_into_view_if_needed()
        page.focus(sel)
        page.wait_for_function(SHOWN, arg=sel, timeout=5000)
        _wait_typeset(page, sel)
        page.wait_for_timeout(200)
        tip = page.evaluate(TIP, sel)
        left, top, right, bottom = tip["box"]
        assert left >= 0 and right <= 390 + 1, f"wider than the screen: {tip['box']}"
        assert bottom - top <= 844, f"the tip is taller than the screen: {tip['box']}"
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= 390 + 1, f"with the tip the page scrolls sideways ({wide} px)"


TIPS_BUDGET = 160_000  # bytes of one chapter's tips script, uncompressed


@needs_browser
def test_tips_are_served_by_the_site_within_budget():
    """Every chapter loads tippy.js and Popper from the site, and its tips script."""
    sizes = {}
    for chapter in CHAPTERS:
        html = (HTML / "book" / chapter).read_text(encoding="utf-8")
        scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
        remote = [s for s in scripts if re.match(r"(https?:)?//", s)]
        assert not remote, f"{chapter} loads scripts from the network: {remote}"
        names = [s.split("?")[0].rsplit("/", 1)[-1] for s in scripts]
        assert {"popper.min.js", "tippy.min.js"} <= set(names), f"{chapter}: {names}"
        tips = [s for s in scripts if "/_static/tippy/" in s]
        assert len(tips) == 1, f"{chapter}: {tips}"
        path = (HTML / "book" / chapter).parent / tips[0].split("?")[0]
        sizes[chapter] = path.resolve().stat().st_size
    heavy = {c: s for c, s in sizes.items() if s > TIPS_BUDGET}
    assert not heavy, f"tips scripts over {TIPS_BUDGET} bytes: {heavy}"


# ---- The extension's HTML rewriting, without a browser ------------------------------


@pytest.fixture(scope="module")
def previews():
    pytest.importorskip("sphinx_tippy")
    sys.path.insert(0, str(EXT))
    try:
        import previews as module
    finally:
        sys.path.remove(str(EXT))
    return module


def _soup(html):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


GLOSSARY = """<dl class="simple glossary">
<dt id="term-activation">activation<a class="headerlink" href="#term-activation">#</a>
</dt><dt id="term-state">state<a class="headerlink" href="#term-state">#</a></dt>
<dd><p>The value of the units of a layer.</p><p>A second paragraph.</p></dd>
<dt id="term-adjoint">adjoint<a class="headerlink" href="#term-adjoint">#</a></dt>
<dd><p>The derivative of the cost.</p></dd>
</dl>"""


def test_glossary_terms_that_share_a_definition_show_it(previews):
    tips = previews.glossary_tips(_soup(GLOSSARY))
    assert set(tips) == {"term-activation", "term-state", "term-adjoint"}
    for term in ("term-activation", "term-state"):
        tip = _soup(tips[term])
        terms = [dt.get_text(strip=True) for dt in tip.find_all("dt")]
        assert terms == ["activation#", "state#"]
        definition = tip.find("dd").get_text(strip=True)
        assert definition == "The value of the units of a layer."
    adjoint = _soup(tips["term-adjoint"])
    assert [dt.get_text(strip=True) for dt in adjoint.find_all("dt")] == ["adjoint#"]
    assert adjoint.find("dd").get_text(strip=True) == "The derivative of the cost."


def test_a_tip_copies_no_id_heading_link_index_target_or_list_role(previews):
    html = ('<div class="citation" id="id2" role="doc-biblioentry">'
            '<span class="label">[A 1]</span><p id="x">Text '
            '<span class="target" id="index-3"></span>kept '
            '<span class="math">\\(x\\)</span></p>'
            '<a class="headerlink" href="#id2">#</a></div>')
    tip = _soup(previews.clean_tip(html))
    assert not tip.find_all(id=True)
    assert not tip.select("a.headerlink, span.target")
    assert tip.find("div").get("role") is None
    assert tip.get_text() == "[A 1]Text kept \\(x\\)"


def test_a_tip_of_a_drivable_figure_holds_its_shown_frame_only(previews):
    frames = "".join(f'<img src="data:image/png;base64,{k}"'
                     + (" hidden>" if k else ">") for k in range(3))
    html = ('<figure><div class="lp-drivable"><div class="lp-drivable-frames">' + frames
            + '</div><div class="lp-drivable-control" hidden><input type="range"></div>'
            '</div><figcaption>A caption</figcaption></figure>')
    tip = _soup(previews.clean_tip(html))
    assert [img["src"] for img in tip.find_all("img")] == ["data:image/png;base64,0"]
    assert not tip.select("input, div.lp-drivable-control")
    assert tip.find("figcaption").get_text() == "A caption"


def test_a_link_in_a_tip_to_an_anchor_names_its_page(previews):
    html = ('<p>By <a class="reference internal" href="#equation-eq-a">(2.2)</a> and '
            '<a class="reference internal" href="other.html#thm-b">Theorem 1.1</a>'
            '.</p>')
    tip = _soup(previews.clean_tip(html, "costate.html"))
    hrefs = [a["href"] for a in tip.find_all("a")]
    assert hrefs == ["costate.html#equation-eq-a", "other.html#thm-b"]


def test_an_equation_tip_keeps_its_number(previews):
    body = _soup('<p>x</p><div class="math notranslate nohighlight" id="equation-eq-a">'
                 '<span class="eqno">(2.2)<a class="headerlink" href="#equation-eq-a">'
                 '#</a></span>\\[a = b\\]</div>'
                 '<div class="math notranslate nohighlight">\\[c\\]</div>')
    tips = previews.equation_tips(body)
    assert list(tips) == ["equation-eq-a"]
    tip = _soup(previews.clean_tip(tips["equation-eq-a"]))
    assert tip.find("span", class_="eqno").get_text() == "(2.2)"
    assert "\\[a = b\\]" in tip.get_text()
