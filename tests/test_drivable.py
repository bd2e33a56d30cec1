"""Drivable figures: one parameter moved by a slider, in the page, the PDF and the
notebook.

``lagprop.plotting.slider_figure`` draws a figure at every value of a parameter. The
page shows every frame behind an HTML range slider (``book/_static/lagprop.js`` switches
the frames; the browser test ``tests/browser/test_drivable.py`` moves it), the PDF the
frame at the reference value (the ``image/png`` of the same output, which the LaTeX
builder prefers to HTML), and the reader notebook a live ``ipywidgets`` slider: the
``reader-only`` twin of the ``html-only`` figure cell, with the figure's caption after
it.

Checked here: the helper on a small figure (frames that differ, the picture at the
reference value, the accessible slider, the arguments it refuses); the three chapters
(the figure cell, its live twin, the weight of the frames); the reader notebooks when
built; and a small book built with Sphinx's LaTeX builder, which must typeset the
picture and none of the slider.
"""

import base64
import html.parser
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib", reason="the helpers need matplotlib")
matplotlib.use("Agg")

from lagprop import plotting  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import reader_notebooks as rn  # noqa: E402

NOTEBOOKS = ROOT / "_build" / "notebooks"
IN_CI = os.environ.get("CI", "").lower() == "true"
# chapter, figure name, the object its cells display, number of values, reference value
DRIVABLE = [
    ("action/strong-damping", "fig-sd-drive", "damping", 7, "βΔ = 1"),
    ("roads/constrained", "fig-cs-drive", "weights", 6, "ρ = 5"),
    ("roads/computational-graph", "fig-cg-drive", "slots", 7, "slots s = 3"),
    ("action/energy", "fig-en-particles", "particles", 12, "t = 3.1"),
]
FRAMES_KB = 300  # each drivable figure's frames, as the page carries them (base64)


def _line(fig, v):
    ax = fig.subplots()
    ax.plot([0, 1], [0, v])
    ax.set(ylim=(-3, 3), title=f"slope {v:g}")


def _figure(**kw):
    args = dict(value=1.0, label="slope a", alt="A line through the origin",
                name="fig-test", figsize=(3.0, 2.0))
    args.update(kw)
    return plotting.slider_figure(_line, [-2.0, 1.0, 2.0], **args)


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(text):
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def _frames(text):
    return [base64.b64decode(a["src"].split(",", 1)[1]) for t, a in _tags(text)
            if t == "img"]


def _png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


# ----- the helper ---------------------------------------------------------------------

def test_every_value_is_its_own_frame_and_print_gets_the_reference_one():
    fig = _figure()
    data, meta = fig._repr_mimebundle_()
    frames = _frames(data["text/html"])
    assert len(frames) == 3 and len(set(frames)) == 3        # three different pictures
    reference = base64.b64decode(data["image/png"])
    assert reference == fig.png(1.0) and reference != fig.png(2.0)
    # the page's frames are palette PNGs of the same pictures, at twice the pixels
    assert all(_png_size(f) == (600, 400) for f in frames)
    assert _png_size(reference) == (600, 400)
    assert frames[1][25] == 3 and reference[25] in (2, 6)  # palette / RGB(A) colours
    assert meta["image/png"] == {"width": 300, "height": 200}
    assert "slope a = 1" in data["text/plain"]


def test_the_slider_is_labelled_keyboard_operable_and_hidden_without_script():
    text = _figure().html()
    tags = _tags(text)
    (slider,) = [a for t, a in tags if t == "input"]
    assert slider["type"] == "range" and slider["step"] == "1"
    assert (slider["min"], slider["max"], slider["value"]) == ("0", "2", "1")
    assert slider["aria-valuetext"] == "slope a = 1"
    (label,) = [a for t, a in tags if t == "label"]
    assert label["for"] == slider["id"] == "fig-test-slider"
    assert re.search(r'<label for="fig-test-slider">slope a</label>', text)
    control = [a for t, a in tags
               if t == "div" and a.get("class") == "lp-drivable-control"]
    assert control and "hidden" in control[0]              # the script shows it
    imgs = [a for t, a in tags if t == "img"]
    shown = [a for a in imgs if "hidden" not in a]
    assert len(shown) == 1 and shown[0]["data-lp-text"] == "slope a = 1"
    assert all(a["alt"].startswith("A line through the origin (slope a = ")
               for a in imgs)
    assert "<script" not in text and "http" not in text      # no script, no request


def test_each_value_is_drawn_once():
    calls = []

    def draw(fig, v):
        calls.append(v)
        _line(fig, v)

    fig = plotting.slider_figure(draw, [1, 2], value=2, label="a", alt="A line, drawn",
                                 name="f", figsize=(2.0, 1.5))
    fig._repr_mimebundle_()
    fig.png(2, palette=True)
    assert sorted(calls) == [1, 2]


@pytest.mark.parametrize("kw, match", [
    (dict(value=3.0), "`value` must be one of"),
    (dict(name="two words"), "`name` must be"),
    (dict(scale=0), "`scale` must be"),
    (dict(colors=8), "`colors` must be"),
    (dict(label=" "), "`label` must be"),
    (dict(alt=None), "`alt` must be"),
])
def test_bad_arguments_are_refused_by_name(kw, match):
    with pytest.raises(ValueError, match=match):
        _figure(**kw)


def test_values_and_draw_are_checked():
    with pytest.raises(ValueError, match="at least two distinct"):
        plotting.slider_figure(_line, [1.0, 1.0], value=1.0, label="a", alt="A line",
                               name="f")
    with pytest.raises(TypeError, match="`draw` must be callable"):
        plotting.slider_figure("draw", [1.0, 2.0], value=1.0, label="a", alt="A line",
                               name="f")


def test_live_says_what_it_needs_without_widgets(monkeypatch):
    calls = []
    fig = plotting.slider_figure(lambda f, v: calls.append(v), [1, 2], value=2,
                                 label="a", alt="Nothing drawn", name="f")
    monkeypatch.setenv("LAGPROP_STATIC_FIGURES", "1")
    shown = fig.live()
    assert repr(shown) == ("<a live slider over a: run this cell where ipywidgets "
                           "is installed>")
    assert not hasattr(shown, "_repr_mimebundle_") and not calls  # no picture drawn


def test_live_is_a_widget_that_redraws(monkeypatch):
    ipywidgets = pytest.importorskip("ipywidgets")
    monkeypatch.delenv("LAGPROP_STATIC_FIGURES", raising=False)
    fig = _figure()
    box = fig.live()
    slider, picture = box.children
    assert isinstance(slider, ipywidgets.SelectionSlider) and slider.value == 1.0
    assert picture.value == fig.png(1.0)
    slider.value = -2.0
    assert picture.value == fig.png(-2.0) != fig.png(1.0)


# ----- the reader notebook's assembly -------------------------------------------------

def test_the_live_twin_takes_the_figures_picture_and_caption():
    meta = {"mystnb": {"figure": {"name": "fig-x", "caption": "C."}}}
    figure = {"output_type": "display_data", "metadata": {"image/png": {"width": 3}},
              "data": {"text/html": "<div>frames</div>", "image/png": "iVBOR",
                       "text/plain": "<figure>"}}
    text = {"output_type": "stream", "name": "stdout", "text": "no slider\n"}
    cells = [
        {"cell_type": "code", "id": "d", "metadata": {}, "outputs": [],
         "source": "f = 1", "execution_count": 1},
        {"cell_type": "code", "id": "h", "metadata": {"tags": [rn.HTML_ONLY], **meta},
         "outputs": [figure], "source": "f", "execution_count": 2},
        {"cell_type": "code", "id": "r", "metadata": {"tags": [rn.READER_ONLY], **meta},
         "outputs": [text], "source": "f.live()", "execution_count": 3},
        {"cell_type": "code", "id": "n", "metadata": {"tags": [rn.READER_ONLY]},
         "outputs": [text], "source": "other()", "execution_count": 4},
    ]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    rendered = {"markdown": {}, "captions": {"1": "**Figure 3.1** C."}}
    out = rn.convert_notebook(nb, rendered, "book/a/one")
    assert ["".join(c["source"]) for c in out["cells"]] == [
        "f = 1", "f.live()", "![fig-x](attachment:fig-x.png)\n\n**Figure 3.1** C.",
        "other()"]
    assert out["cells"][2]["attachments"] == {"fig-x.png": {"image/png": "iVBOR"}}
    assert out["cells"][1]["outputs"] == out["cells"][3]["outputs"] == [text]


# ----- the chapters -------------------------------------------------------------------

def _chapter(path):
    return json.loads((ROOT / "book" / f"{path}.ipynb").read_text(encoding="utf-8"))


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


@pytest.mark.parametrize("path, name, obj, n, ref", DRIVABLE, ids=lambda x: str(x))
def test_the_chapter_has_the_figure_and_its_live_twin(path, name, obj, n, ref):
    cells = _chapter(path)["cells"]
    (k,) = [i for i, c in enumerate(cells)
            if c["metadata"].get("mystnb", {}).get("figure", {}).get("name") == name
            and rn.HTML_ONLY in c["metadata"].get("tags", [])]
    still, live = cells[k], cells[k + 1]
    assert _source(still).strip() == obj and _source(live).strip() == f"{obj}.live()"
    # nbval skips the live twin: with ipywidgets installed its output is a widget, not the
    # stored line (the build and the stored outputs run with LAGPROP_STATIC_FIGURES)
    assert live["metadata"]["tags"] == [rn.READER_ONLY, "nbval-skip"]
    assert live["metadata"]["mystnb"] == still["metadata"]["mystnb"]
    (out,) = still["outputs"]
    page = "".join(out["data"]["text/html"])
    frames = _frames(page)
    assert len(frames) == n and len(set(frames)) == n
    assert f'aria-valuetext="{ref}"' in page
    assert len(page.encode()) < FRAMES_KB * 1024, f"{name}: {len(page) // 1024} KB"
    assert "image/png" in out["data"]                          # what print shows
    # run without ipywidgets, the live twin stores a line of text: no picture that the
    # PDF would lack, no widget state
    (shown,) = live["outputs"]
    assert set(shown["data"]) == {"text/plain"}
    assert "ipywidgets" in "".join(shown["data"]["text/plain"])


# ----- the reader notebooks (after `make notebooks`) ----------------------------------

_built = NOTEBOOKS.is_dir() and any(NOTEBOOKS.rglob("*.ipynb"))
if not _built and IN_CI:
    raise RuntimeError("no reader notebooks in CI: run `make notebooks` first")


@pytest.mark.skipif(not _built, reason="no reader notebooks (run `make notebooks`)")
@pytest.mark.parametrize("path, name, obj, n, ref", DRIVABLE, ids=lambda x: str(x))
def test_the_reader_notebook_has_the_live_slider(path, name, obj, n, ref):
    text = (NOTEBOOKS / f"{path}.ipynb").read_text(encoding="utf-8")
    cells = json.loads(text)["cells"]
    sources = [_source(c).strip() for c in cells]
    k = sources.index(f"{obj}.live()")
    assert sources.count(obj) == 0                  # the page's figure is not there
    assert any(s.startswith(f"{obj} = lagprop.plotting.slider_figure(") for s in
               (x.split("\n\n\n")[-1] for x in sources[:k]))  # defined before it runs
    caption = sources[k + 1]
    assert cells[k + 1]["cell_type"] == "markdown"
    assert re.search(r"^\*Fig\. \d+\.\d+:\*", caption, flags=re.M)
    assert "slider" in caption
    # before it runs, the picture of the page's figure at the reference value, above
    # the caption; the live cell keeps its own output
    chapter = _chapter(path)["cells"]
    (figure,) = [c for c in chapter if _source(c).strip() == obj]
    png = "".join(figure["outputs"][0]["data"]["image/png"]).strip()
    assert cells[k + 1]["attachments"] == {f"{name}.png": {"image/png": png}}
    assert caption.startswith("![") and f"](attachment:{name}.png)" in caption
    (live,) = [c for c in chapter if _source(c).strip() == f"{obj}.live()"]
    assert cells[k]["outputs"] == live["outputs"]


# ----- print: the LaTeX builder takes the picture -------------------------------------

LATEX_CONF = """
import sys
sys.path.insert(0, {ext!r})
extensions = ["myst_nb", "reader_notebooks"]
nb_execution_mode = "off"
exclude_patterns = ["_build"]
numfig = True
latex_documents = [("index", "small.tex", "Small", "A", "manual")]
"""


def test_the_latex_builder_typesets_the_picture_not_the_slider(tmp_path):
    pytest.importorskip("myst_nb")
    data, meta = _figure()._repr_mimebundle_()
    cell = {"cell_type": "code", "execution_count": 1, "id": "fig", "source": "f",
            "metadata": {"tags": [rn.HTML_ONLY, "remove-input"], "mystnb": {
                "figure": {"name": "fig-test", "caption": "A line at one slope."},
                "image": {"alt": "A line through the origin"}}},
            "outputs": [{"output_type": "display_data", "data": data,
                         "metadata": meta}]}
    live = {"cell_type": "code", "execution_count": 2, "id": "live",
            "source": "f.live()", "metadata": {"tags": [rn.READER_ONLY]},
            "outputs": []}
    nb = {"cells": [{"cell_type": "markdown", "id": "t", "metadata": {},
                     "source": "# Small\n\nText."}, cell, live],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(LATEX_CONF.format(ext=str(ROOT / "book" / "_ext")))
    (src / "_config.yml").write_text(
        "repository:\n  url: https://github.com/org/repo\n")
    (src / "index.ipynb").write_text(json.dumps(nb))
    run = subprocess.run([sys.executable, "-m", "sphinx", "-b", "latex", "-q", str(src),
                          str(tmp_path / "latex")], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    tex = (tmp_path / "latex" / "small.tex").read_text(encoding="utf-8")
    assert re.search(
        r"\\sphinxincludegraphics(\[[^\]]*\])?\{\{?[0-9a-f]+\}?\.png\}", tex)
    assert "A line at one slope." in tex
    assert r"\label{\detokenize{index:fig-test}}" in tex
    assert "lp-drivable" not in tex and "range" not in tex and "live()" not in tex
    pictures = list((tmp_path / "latex").glob("*.png"))
    assert len(pictures) == 1 and pictures[0].read_bytes() == base64.b64decode(
        data["image/png"])
