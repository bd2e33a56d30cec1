"""The drivable figures of the built book, driven in headless Chromium.

Each chapter page with a figure from ``lagprop.plotting.slider_figure`` shows one frame
and a range slider under it (``book/_static/lagprop.js`` reveals the slider and switches
the frames). Here the slider is moved with the keyboard (arrows, Home, End) and by
setting its value as a pointer does: every position must show exactly one picture, a
different one for each value, with its alt text and the value read out (``aria-
valuetext``); the slider has a label, shows a focus ring, and axe-core finds no serious
violation in the figure. The page with its frames and pictures must stay under 2 MB.

Same requirements as ``test_book_in_browser.py`` (the built book, Chromium, Playwright),
whose fixtures it uses.
"""

import re

import pytest

from test_book_in_browser import AXE, AXE_RUN, HTML, _open, browser, site  # noqa: F401

# page, figure name, number of frames, the reference value as the slider reads it out
DRIVABLE = [
    ("action/strong-damping.html", "fig-sd-drive", 7, "βΔ = 1"),
    ("roads/constrained.html", "fig-cs-drive", 6, "ρ = 5"),
    ("roads/computational-graph.html", "fig-cg-drive", 7, "slots s = 3"),
    ("action/energy.html", "fig-en-particles", 12, "t = 3.1"),
]
PAGE_MB = 2.0

STATE = """(name) => {
  const box = document.getElementById(name + '-drivable');
  const slider = document.getElementById(name + '-slider');
  const shown = Array.from(box.querySelectorAll('.lp-drivable-frames img'))
    .filter(i => !i.hidden && i.getBoundingClientRect().width > 0);
  return {value: slider.value, text: slider.getAttribute('aria-valuetext'),
          output: box.querySelector('output').textContent,
          shown: shown.map(i => ({src: i.src.slice(-120), alt: i.alt,
                                  natural: i.naturalWidth,
                                  width: i.getBoundingClientRect().width}))};
}"""


def _state(page, name):
    s = page.evaluate(STATE, name)
    assert len(s["shown"]) == 1, f"{name}: {len(s['shown'])} pictures shown at once"
    img = s["shown"][0]
    assert img["natural"] >= 1.95 * img["width"] > 0, img       # sharp on a 2x screen
    assert img["alt"].endswith(f"({s['text']})") and s["output"] == s["text"]
    return s


@pytest.mark.parametrize("page_path, name, n, reference", DRIVABLE,
                         ids=[d[1] for d in DRIVABLE])
def test_the_slider_drives_the_picture(browser, site, page_path, name, n, reference):
    page, errors = _open(browser, f"{site}/book/{page_path}")
    try:
        slider = page.locator(f"#{name}-slider")
        assert slider.is_visible(), "the script shows the slider"
        figure = page.evaluate(
            "(n) => { const f = document.getElementById(n + '-drivable')"
            ".closest('figure');"
            " return f && f.querySelector('figcaption').textContent; }", name)
        assert figure and re.match(r"Fig\. \d+\.\d+ ", figure.strip()), figure
        label = page.evaluate("(n) => Array.from(document.getElementById(n + '-slider')"
                              ".labels).map(l => l.textContent).join(' ')", name)
        assert label.strip(), "the slider has a label"
        start = _state(page, name)
        assert start["text"] == reference

        slider.focus()
        page.keyboard.press("ArrowRight")
        moved = _state(page, name)
        assert int(moved["value"]) == int(start["value"]) + 1
        assert moved["shown"][0]["src"] != start["shown"][0]["src"], "no new picture"
        assert moved["text"] != start["text"]
        ring = page.evaluate("(n) => { const s = getComputedStyle("
                             "document.getElementById(n + '-slider'));"
                             " return s.outlineStyle !== 'none' && "
                             "parseFloat(s.outlineWidth) >= 2; }", name)
        assert ring, "keyboard focus draws a ring on the slider"
        page.keyboard.press("Home")
        assert _state(page, name)["value"] == "0"
        page.keyboard.press("End")
        assert _state(page, name)["value"] == str(n - 1)

        pictures = set()
        for k in range(n):  # as a pointer sets it
            slider.fill(str(k))
            s = _state(page, name)
            assert s["value"] == str(k)
            pictures.add(s["shown"][0]["src"])
        assert len(pictures) == n, "every value has its own picture"
        assert not errors, f"console errors: {errors}"
    finally:
        page.close()


@pytest.mark.parametrize("page_path, name", [d[:2] for d in DRIVABLE],
                         ids=[d[1] for d in DRIVABLE])
def test_the_figure_is_accessible(browser, site, page_path, name):
    if AXE is None:
        pytest.skip("axe-core is missing (make browser-deps, or LAGPROP_AXE=<axe.js>)")
    page, errors = _open(browser, f"{site}/book/{page_path}")
    try:
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        page.locator(f"#{name}-slider").focus()
        page.keyboard.press("ArrowLeft")
        run = AXE_RUN.replace("axe.run(document", f"axe.run('#{name}-drivable'")
        found = page.evaluate(run)
        assert not found, f"{name}: {found}"
    finally:
        page.close()


@pytest.mark.parametrize("page_path", [d[0] for d in DRIVABLE])
def test_the_page_stays_light(browser, site, page_path):
    page, errors = _open(browser, f"{site}/book/{page_path}")
    try:
        page.evaluate("() => document.querySelectorAll('img').forEach(i => { "
                      "i.loading = 'eager'; })")
        page.wait_for_function(
            "() => Array.from(document.images).every(i => i.complete)", timeout=20000)
        images = page.evaluate(
            "() => performance.getEntriesByType('resource')"
            ".filter(r => r.initiatorType === 'img')"
            ".reduce((a, r) => a + (r.encodedBodySize || 0), 0)")
        html = (HTML / "book" / page_path).stat().st_size
        total = (html + images) / 2**20
        assert total < PAGE_MB, (
            f"{page_path}: {total:.2f} MB (HTML {html / 2**20:.2f} MB)")
    finally:
        page.close()
