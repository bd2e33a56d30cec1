"""The reader notebooks: the renderer node type by node type, then every notebook.

The renderer (``book/_ext/reader_markdown.py``) works on Sphinx's resolved doctree, so
its tests build small books with Sphinx (``_small_book``), one of them (``rich``) with
every node type the chapters use, and compare the reader notebook with what the page
shows. The notebook assembly (``book/_ext/reader_notebooks.py``) is tested on hand-made
renderings. The tests of the generated notebooks (the HTML build writes
``_build/notebooks``) check that no MyST-only markup is left, that the numbers are the
ones the HTML pages print, that code cells and their stored outputs are the chapter's,
and that the download and launch buttons serve them.
"""

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import reader_markdown as rm  # noqa: E402
import reader_notebooks as rn  # noqa: E402

BUILD = ROOT / "_build"
NOTEBOOKS = BUILD / "notebooks"
HTML = BUILD / "html"
IN_CI = os.environ.get("CI", "").lower() == "true"
PAGES = "https://lagprop.github.io/backprop-from-lagrangians/"

# What no plain-Jupyter markdown may contain: directive fences, roles, targets, options.
MYST_ONLY = re.compile(
    r"^\s*(`{3,}|~{3,}|:{3,})\s*\{"          # a directive fence
    r"|\{[A-Za-z][\w:+.-]*\}`"               # a role
    r"|^\s*\([^()\s]+\)=\s*$"                # a (label)= target
    r"|^\s*:(label|class|name|nonumber|alt):"  # a directive option
    r"|^\s*:[\w-]+:(\s|$)"                  # any other directive option
    r"|\{prf:|\{eq\}|\{cite"
    r"|\{\{.*?\}\}"                           # a {{ substitution }}
    r"|^ {0,3}[:~] +\S",                      # a definition (deflist) line
    re.M,
)


def assert_plain(text):
    assert not MYST_ONLY.search(text), MYST_ONLY.search(text).group(0)


@pytest.mark.parametrize("raw", [
    "```{note}", ":::{only} html", "A {newrole}`x` b", "(sec-a)=", ":width: 300px",
    "Use {{ pkg }} here", "Term\n: its definition", "{prf:ref}", "{cite:t}",
])
def test_the_structural_check_catches_leftover_myst(raw):
    assert MYST_ONLY.search(raw)


def test_the_structural_check_passes_plain_markdown():
    assert not MYST_ONLY.search("A *b* `c` $d$ and {x} and $\\{a\\}$.\n\n- item: x\n> q")


def test_the_structural_check_catches_leftover_myst_in_converted_markdown():
    assert rn.leftover_myst("A {x}`y`, {{ z }} and\n(lab)=\n```{note}\nN.\n```") == [
        "{x}`y`", "{{ z }}", "(lab)=", "```{"]


def test_myst_inside_code_and_maths_is_not_leftover():
    text = ("Write `{eq}` like this: ``{eq}`label` ``, and $a {b}`c`$ stays.\n\n"
            "````markdown\n```{math}\n:label: x\n```\n{eq}`x`\n````\n\n$$\n{{ x }}\n$$")
    assert rn.leftover_myst(text) == []


def test_display_math_as_mathjax_shows_it():
    assert rm.display_math("x = 1", "1.2") == "$$\nx = 1 \\tag{1.2}\n$$"
    assert rm.display_math("a \\\\\nb") == "$$\n\\begin{split}a \\\\\nb\\end{split}\n$$"
    assert rm.display_math("a = 1\n\nb = 2") == (
        "$$\n\\begin{aligned}a = 1\\\\b = 2\\end{aligned}\n$$")
    assert rm.display_math("\\begin{align}\na\n\\end{align}", nowrap=True) == (
        "$$\n\\begin{align}\na\n\\end{align}\n$$")


def test_text_is_escaped_where_markdown_would_read_it_as_markup():
    assert rm._escape("2*3 and a_b, _x_, `c`, $5, C:\\ and <b> but a < b") == (
        "2\\*3 and a_b, \\_x\\_, \\`c\\`, \\$5, C:\\\\ and &lt;b> but a < b")


def _rendered(markdown=None, captions=None, references=()):
    return {"title": "Chapter one", "page": f"{PAGES}book/a/one.html",
            "markdown": {str(k): v for k, v in (markdown or {}).items()},
            "captions": {str(k): v for k, v in (captions or {}).items()},
            "references": list(references)}


# ----- whole notebooks -----------------------------------------------------------------------

def _nb(*cells, minor=5):
    return {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3"}, "mystnb": {}},
            "nbformat": 4, "nbformat_minor": minor}


def _code(src, tags=(), **meta):
    return {"cell_type": "code", "execution_count": 1, "id": f"c-{abs(hash(src))}",
            "metadata": {"tags": list(tags), **meta}, "outputs": [
                {"output_type": "stream", "name": "stdout", "text": ["ok\n"]}], "source": src}


def test_cells_removed_kept_and_figure_captions_added():
    nb = _nb({"cell_type": "markdown", "id": "m", "metadata": {}, "source": "(x)=\n"},
             _code("hidden = 1", ["remove-cell"]),
             _code("shown = 1", ["hide-input"]),
             _code("also = 1", ["remove-input"]),
             _code("plot()"),
             {"cell_type": "markdown", "id": "n", "metadata": {},
              "source": "Some *MyST*"})
    rendered = _rendered({5: "Some *text*"}, {4: "*Fig. 1.1:* Costs by (1.1)"},
                         ["Entry for lecun1988."])
    out = rn.convert_notebook(nb, rendered, "book/a/one", title="The Book")
    kinds = [(c["cell_type"], "".join(c["source"])) for c in out["cells"]]
    assert kinds[0][0] == "markdown" and "The Book" in kinds[0][1]
    assert f"[Chapter one]({PAGES}book/a/one.html)" in kinds[0][1]
    assert [s for k, s in kinds if k == "code"] == ["shown = 1", "also = 1", "plot()"]
    assert kinds[4:] == [("markdown", "*Fig. 1.1:* Costs by (1.1)"),
                         ("markdown", "Some *text*"),
                         ("markdown", "**References**\n\n- Entry for lecun1988.")]
    assert out["cells"][5]["id"] == "n"                                   # its own cell
    assert out["cells"][1]["outputs"] == nb["cells"][2]["outputs"]        # stored outputs kept
    assert len({c["id"] for c in out["cells"]}) == len(out["cells"])       # ids unique (nbformat 4.5)
    assert set(out["metadata"]) == {"kernelspec"}                          # not mystnb
    assert nb["cells"][0]["source"] == "(x)=\n"                            # input untouched


def test_rendered_markdown_that_no_notebook_cell_holds_is_an_error():
    nb = _nb(_code("a = 1"), _code("b = 1", ["remove-cell"]))
    for rendered in (_rendered({0: "T"}), _rendered({1: "T"}), _rendered({7: "T"})):
        with pytest.raises(rn.ConversionError, match="not markdown cells"):
            rn.convert_notebook(nb, rendered, "book/a/one")


def test_myst_left_in_rendered_markdown_fails_the_notebook():
    nb = _nb({"cell_type": "markdown", "id": "m", "metadata": {}, "source": "x"})
    with pytest.raises(rn.ConversionError, match="MyST left in a reader notebook"):
        rn.convert_notebook(nb, _rendered({0: "Para\n: not a definition"}),
                            "book/a/one")


def test_html_only_cells_dropped_reader_only_kept_and_widget_state_kept():
    widgets = {"application/vnd.jupyter.widget-state+json": {"state": {"m1": {}},
                                                             "version_major": 2}}
    nb = _nb(_code("static_figure()", [rn.HTML_ONLY]),
             _code("slider()", [rn.READER_ONLY]),
             {"cell_type": "markdown", "id": "m", "metadata": {"tags": [rn.HTML_ONLY]},
              "source": "Drag nothing: this is a picture."},
             {"cell_type": "markdown", "id": "r",
              "metadata": {"tags": [rn.READER_ONLY]}, "source": "Drag the *slider*."})
    nb["metadata"]["widgets"] = widgets
    out = rn.convert_notebook(nb, _rendered({2: "Drag nothing: ..."}), "book/a/one")
    assert ["".join(c["source"]) for c in out["cells"]] == [
        "slider()", "Drag the *slider*."]
    assert out["metadata"] == {"kernelspec": {"name": "python3"}, "widgets": widgets}


def test_a_reader_only_markdown_cell_may_hold_no_myst():
    nb = _nb({"cell_type": "markdown", "id": "m", "source": "```{prf:theorem}\nA.\n```",
              "metadata": {"tags": [rn.READER_ONLY]}})
    with pytest.raises(rn.ConversionError, match="MyST in a reader-only markdown cell"):
        rn.convert_notebook(nb, _rendered(), "book/a/one")


def test_reader_only_cells_are_removed_from_the_html_and_pdf_sources():
    nb = _nb(_code("slider()", [rn.READER_ONLY]), _code("plain()"))
    text = json.dumps(nb)
    hidden = json.loads(rn.hide_reader_only_cells(text))
    assert [c["metadata"]["tags"] for c in hidden["cells"]] == [
        [rn.READER_ONLY, "remove-cell"], []]
    plain = json.dumps(_nb(_code("plain()")))
    assert rn.hide_reader_only_cells(plain) is plain   # no reader-only cell: untouched


def test_pages_url_from_the_repository_url():
    assert rn.pages_url("https://github.com/LagProp/backprop-from-lagrangians") == (
        "https://lagprop.github.io/backprop-from-lagrangians/")
    assert rn.pages_url("https://github.com/a/b.git", "https://example.org/book") == (
        "https://example.org/book/")
    with pytest.raises(ValueError, match="repository.url"):
        rn.pages_url("https://gitlab.com/a/b")


# ----- the generated notebooks -----------------------------------------------------------------

def _toc_chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [ch["file"] for part in toc["parts"] for ch in part.get("chapters", [])]
    return [f for f in files if (ROOT / f"{f}.ipynb").is_file()]


def _missing_build():
    if not NOTEBOOKS.is_dir() or not (BUILD / ".doctrees" / rn.STORE).is_file():
        return "no reader notebooks (run `make notebooks`)"
    return None


_why = _missing_build()
if _why and IN_CI:
    raise RuntimeError(f"the reader-notebook tests cannot run in CI: {_why}")
built = pytest.mark.skipif(_why is not None, reason=str(_why))
CHAPTERS = _toc_chapters()


def _reader(doc):
    path = NOTEBOOKS / (doc[len("book/"):] + ".ipynb")
    assert path.is_file(), f"no reader notebook for {doc}"
    return json.loads(path.read_text(encoding="utf-8"))


def _markdown(nb):
    return "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


@built
def test_every_chapter_has_a_reader_notebook_and_nothing_else():
    written = sorted(str(p.relative_to(NOTEBOOKS)) for p in NOTEBOOKS.rglob("*.ipynb"))
    assert written == sorted(doc[len("book/"):] + ".ipynb" for doc in CHAPTERS)


@built
@pytest.mark.parametrize("doc", CHAPTERS)
def test_reader_notebook_holds_no_myst_only_markup(doc):
    text = _markdown(_reader(doc))
    found = [m.group(0) for m in MYST_ONLY.finditer(text)]
    assert not found, found[:5]
    assert ":::" not in text


@built
@pytest.mark.parametrize("doc", CHAPTERS)
def test_reader_notebook_is_a_valid_notebook(doc):
    import nbformat

    path = NOTEBOOKS / (doc[len("book/"):] + ".ipynb")
    nbformat.validate(nbformat.read(path, as_version=4))


@built
@pytest.mark.parametrize("doc", CHAPTERS)
def test_reader_notebook_keeps_the_code_and_its_stored_outputs(doc):
    source = json.loads((ROOT / f"{doc}.ipynb").read_text(encoding="utf-8"))
    kept = [c for c in source["cells"] if c["cell_type"] == "code"
            and not {"remove-cell", rn.HTML_ONLY}
            & set(c.get("metadata", {}).get("tags", []))]
    reader = [c for c in _reader(doc)["cells"] if c["cell_type"] == "code"]
    assert [c["source"] for c in reader] == [c["source"] for c in kept]
    assert [c["outputs"] for c in reader] == [c["outputs"] for c in kept]
    first = "".join(reader[0]["source"])
    assert "pip" in first and "lagprop[notebooks]" in first   # the install cell comes first


def _html_numbers(doc):
    page = (HTML / f"{doc}.html").read_text(encoding="utf-8")
    captions = re.findall(r'caption-number">\s*([A-Z][a-z]+\.? [\d.]+)\s*<', page)
    equations = re.findall(r'class="eqno">\(([\d.]+)\)', page)
    sections = re.findall(r'<h[1-6]><span class="section-number">([\d.]+)\s*</span>', page)
    return captions, equations, sections


@built
@pytest.mark.parametrize("doc", CHAPTERS)
def test_numbers_are_the_ones_the_html_page_prints(doc):
    """Theorems, exercises, equations and sections: the same numbers, in the same order."""
    text = _markdown(_reader(doc))
    captions, equations, sections = _html_numbers(doc)
    assert captions and sections
    heads = re.findall(r"^\*\*((?:[A-Z][a-z]+) [\d.]+)\*\*", text, re.M)
    heads += re.findall(r"^\*((?:Fig\.|Table) [\d.]+):\*", text, re.M)
    assert sorted(heads) == sorted(c for c in captions if not c.startswith("Solution"))
    assert re.findall(r"\\tag\{([\d.]+)\}", text) == equations
    prose = re.sub(r"^(`{3,}).*?^\1", "", text, flags=re.S | re.M)  # not code comments
    assert [h.rstrip(".") for h in re.findall(r"^#{1,6} ([\d.]+) ", prose, re.M)] == [
        s.rstrip(".") for s in sections]


@built
@pytest.mark.parametrize("doc", CHAPTERS)
def test_solutions_are_hidden_and_one_per_solution_directive(doc):
    source = "".join("".join(c["source"]) for c in json.loads(
        (ROOT / f"{doc}.ipynb").read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "markdown")
    n = len(re.findall(r"^\s*[`:]{3,}\{solution\}", source, re.M))
    text = _markdown(_reader(doc))
    summary = r"^<details><summary>Solution to Exercise [\d.]+( \(.+\))?</summary>$"
    assert len(re.findall(summary, text, re.M)) == n   # with the exercise's title
    assert text.count("</details>") == n


@built
def test_citations_and_references_list():
    text = _markdown(_reader("book/lecun/costate"))
    page = (HTML / "book/lecun/costate.html").read_text(encoding="utf-8")
    shown = [re.sub(r"<[^>]+>", "", re.sub(r"</?em>", "*", c)).replace("\xa0", " ")
             for c in re.findall(r'<span class="bibtex-citation"[^>]*>(.*?)</span>',
                                 page, re.S)]  # italics (et al.) as markdown shows them
    text = text.replace("\xa0", " ")
    assert any("le Cun" in c for c in shown)
    assert [c for c in shown if c not in text] == []
    assert "**References**" in text and "A theoretical framework for back" in text


@built
def test_download_button_serves_the_reader_notebook_and_launch_opens_it():
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    org, name = repo.rstrip("/").split("/")[-2:]
    doc = "book/lecun/costate"
    served = (HTML / "_sources" / f"{doc}.ipynb").read_text(encoding="utf-8")
    assert served == (NOTEBOOKS / "lecun" / "costate.ipynb").read_text(encoding="utf-8")
    page = (HTML / f"{doc}.html").read_text(encoding="utf-8")
    assert f"/v2/gh/{org}/{name}/{rn.DEFAULT_BRANCH}?urlpath=tree/lecun/costate.ipynb" in page
    assert f"/github/{org}/{name}/blob/{rn.DEFAULT_BRANCH}/lecun/costate.ipynb" in page


def test_launch_buttons_are_pointed_at_the_reader_notebooks_branch():
    class App:
        class config:
            html_theme_options = {"repository_url": "https://github.com/org/repo"}
            reader_notebooks_branch = "notebooks"

    buttons = [{"text": "Binder", "url": "https://mybinder.org/v2/gh/org/repo/main?urlpath=tree/"
                                         "book/a/one.ipynb"},
               {"text": "Colab", "url": "https://colab.research.google.com/github/org/repo/blob/"
                                        "main/book/a/one.ipynb"}]
    context = {"header_buttons": [{"label": "launch-buttons", "buttons": buttons}]}
    rn._launch_to_reader(App, "book/a/one", "page.html", context, None)
    assert buttons[0]["url"] == "https://mybinder.org/v2/gh/org/repo/notebooks?urlpath=tree/a/one.ipynb"
    assert buttons[1]["url"] == ("https://colab.research.google.com/github/org/repo/blob/"
                                 "notebooks/a/one.ipynb")


def test_images_the_markdown_shows_are_copied_beside_the_reader_notebook(tmp_path):
    src = tmp_path / "src"
    (src / "book" / "a" / "img").mkdir(parents=True)
    (src / "book" / "a" / "img" / "p.png").write_bytes(b"\x89PNG")
    nb = _nb({"cell_type": "markdown", "id": "m", "metadata": {}, "source": "MyST"})
    (src / "book" / "a" / "one.ipynb").write_text(json.dumps(nb))
    rendered = _rendered({0: "![A plot](img/p.png)\n\nCaption.\n\n"
                             "![remote](https://example.org/x.png) "
                             "<img src=\"img/p.png\">"})
    store = {"srcdir": str(src), "title": "", "chapters": {"book/a/one": rendered}}
    written = rn.write_all(store, tmp_path / "out")
    assert written == [tmp_path / "out" / "a" / "one.ipynb"]
    assert (tmp_path / "out" / "a" / "img" / "p.png").read_bytes() == b"\x89PNG"
    assert rn.local_images(json.loads(written[0].read_text())) == ["img/p.png", "img/p.png"]


@built
def test_make_notebooks_regenerates_what_the_html_build_wrote(tmp_path):
    """The command-line form (make notebooks) works from what the build stored,
    reproducibly."""
    shutil.copytree(BUILD / ".doctrees", tmp_path / ".doctrees")  # and rn.STORE
    rn.main([str(tmp_path)])
    again = sorted(p.relative_to(tmp_path / "notebooks") for p in (tmp_path / "notebooks").rglob("*.ipynb"))
    assert again == sorted(p.relative_to(NOTEBOOKS) for p in NOTEBOOKS.rglob("*.ipynb"))
    for rel in again:
        assert (tmp_path / "notebooks" / rel).read_bytes() == (NOTEBOOKS / rel).read_bytes(), rel


# ----- a small book built by Sphinx: the extension inside the HTML build ------------

CONF = """
import sys
sys.path.insert(0, {ext!r})
extensions = ["myst_nb", "sphinx_design", "sphinx_proof", "sphinx_exercise",
              "reader_notebooks"]
nb_execution_mode = "off"
myst_enable_extensions = ["colon_fence", "deflist", "substitution", "dollarmath",
                          "amsmath"]
myst_substitutions = {{"pkg": "`lagprop`"}}
numfig = True
math_numfig = True
exclude_patterns = ["_build"]
html_title = "Small book"
"""

WIDGET_STATE = {"application/vnd.jupyter.widget-state+json": {
    "state": {"m1": {"model_name": "IntSliderModel",
                     "model_module": "@jupyter-widgets/controls",
                     "model_module_version": "2.0.0", "state": {"value": 3}}},
    "version_major": 2, "version_minor": 0}}
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9"
       "awAAAABJRU5ErkJggg==")
SMALL_PAGES = "https://org.github.io/repo/"


def _markdown_cells(texts):
    return [{"cell_type": "markdown", "id": f"m{k}", "metadata": {}, "source": text}
            for k, text in enumerate(texts)]


BIB = """
@article{knuth84, author = {Donald E. Knuth}, title = {Literate Programming},
         journal = {The Computer Journal}, volume = {27}, number = {2},
         pages = {97--111}, year = {1984}}
@book{uncited, author = {No One}, title = {Never Cited}, publisher = {P}, year = {2000}}
"""


def _small_book(tmp_path, markdown, numbered=False, after=(), two=None, bib=False):
    """A book of one chapter (book/a/one.ipynb: these markdown cells, an install cell,
    a reader-only widget, an html-only still, then the cells ``after``), a second
    chapter book/a/two.ipynb when ``two`` (its markdown cells) is given, and a page of
    references when ``bib``."""
    src = tmp_path / "src"
    (src / "book" / "a").mkdir(parents=True)
    conf = CONF.format(ext=str(ROOT / "book" / "_ext"))
    if bib:
        conf += ('extensions.append("sphinxcontrib.bibtex")\n'
                 'bibtex_bibfiles = ["refs.bib"]\n'
                 'bibtex_reference_style = "author_year"\n')
        (src / "refs.bib").write_text(BIB)
        (src / "references.md").write_text(
            "# References\n\n```{bibliography}\n:all:\n```\n")
    (src / "conf.py").write_text(conf)
    (src / "_config.yml").write_text(
        "repository:\n  url: https://github.com/org/repo\n")
    docs = ("book/a/one\n" + ("book/a/two\n" if two else "")
            + ("references\n" if bib else ""))
    (src / "index.md").write_text("# Small book\n\n```{toctree}\n"
                                  + (":numbered:\n" if numbered else "") + docs
                                  + "```\n")
    widget = _code("slider", [rn.READER_ONLY])
    widget["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {
        "text/plain": ["IntSlider(value=3)"],
        "application/vnd.jupyter.widget-view+json": {
            "model_id": "m1", "version_major": 2, "version_minor": 0}}}]
    still = _code("static_picture", [rn.HTML_ONLY])
    nb = _nb(*_markdown_cells(markdown), _code("install"), widget, still, *after)
    nb["metadata"].update(widgets=WIDGET_STATE, language_info={"name": "python"},
                          myst={"substitutions": {"where": "the page"}})
    (src / "book" / "a" / "one.ipynb").write_text(json.dumps(nb))
    if two:
        (src / "book" / "a" / "two.ipynb").write_text(
            json.dumps(_nb(*_markdown_cells(two))))
    return src


def _sphinx(src, out):
    import subprocess

    return subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "-q",
                           str(src), str(out / "html")], capture_output=True, text=True,
                          timeout=300)


def test_small_book_reader_notebook_renders_what_the_html_shows(tmp_path):
    src = _small_book(tmp_path, [
        "# One\n\n{{ pkg }} from {{ where }}.\n\n```{index} single: costate\n```\n\n"
        "The {index}`costate <single: costate; multiplier>` is {term}`costate`.",
        "```{glossary}\ncostate\n  The multiplier $B$.\n```",
        "````{dropdown} Why $B$?\nBecause.\n````",
        "```{only} html\nOn the web.\n```\n\n```{only} latex\nIn print.\n```",
        "```{prf:remark}\n:nonumber:\nR.\n```\n\n"
        "```{prf:theorem}\n:label: thm-x\nA.\n```\n\n```{prf:theorem}\nB.\n```\n\n"
        "```{exercise}\nE.\n```\n\n$$\nx\n$$ (eq-x)\n\n"
        "By {prf:ref}`thm-x` and {eq}`eq-x`.",
    ])
    run = _sphinx(src, tmp_path / "out")
    assert run.returncode == 0, run.stderr
    reader_file = tmp_path / "out" / "notebooks" / "a" / "one.ipynb"
    reader = json.loads(reader_file.read_text())
    text = _markdown(reader)
    assert "`lagprop` from the page." in text
    assert "The costate is costate." in text and "single:" not in text
    assert "- **costate**: The multiplier $B$." in text
    assert "<details><summary>Why $B$?</summary>\n\nBecause.\n\n</details>" in text
    assert "On the web." in text and "In print." not in text
    assert "**Remark**\n\nR.\n\n**Theorem 1**\n\nA.\n\n**Theorem 2**\n\nB." in text
    assert "**Exercise 1**\n\nE." in text and "x \\tag{1}" in text
    assert "By Theorem 1 and (1)." in text
    assert_plain(text)
    code = ["".join(c["source"]) for c in reader["cells"] if c["cell_type"] == "code"]
    assert code == ["install", "slider"]  # html-only cell left out
    assert reader["metadata"]["widgets"] == WIDGET_STATE  # the slider model is there
    page = (tmp_path / "out" / "html" / "book" / "a" / "one.html").read_text()
    assert "static_picture" in page and "slider" not in page  # reader-only: left out
    assert "In print." not in page and "On the web." in page
    served = tmp_path / "out" / "html" / "_sources" / "book" / "a" / "one.ipynb"
    assert served.read_text() == reader_file.read_text()        # the download button
    doctrees = tmp_path / "out" / "html" / ".doctrees"
    stored = json.loads((doctrees / rn.STORE).read_text())
    assert sorted(stored["chapters"]) == ["book/a/one"]
    rn.main([str(tmp_path / "out" / "html")])  # make notebooks: the same, again
    again = tmp_path / "out" / "html" / "notebooks" / "a" / "one.ipynb"
    assert again.read_bytes() == reader_file.read_bytes()


RICH = [
    "# One\n\n(sec-first)=\n## First section\n\n"
    "Text with *emphasis*, **strong**, `code`, $x^2$, H{sub}`2`O, a\n"
    "[link](https://example.org/a) and 2\\*3 stars.\n\n### Deeper\n\n"
    "## Second section\n\n"
    "See {ref}`sec-first`, {ref}`far away <sec-far>`, {doc}`two`, {prf:ref}`lem-far`,\n"
    "{numref}`fig-a`, {numref}`tab-a`, {eq}`eq-a` and {prf:ref}`the claim <thm-a>`.",
    "````{prf:theorem} The $k$-th claim\n:label: thm-a\n\nIt holds that\n\n"
    "```{math}\n:label: eq-a\nx = 1\n```\n````\n\n"
    "```{prf:definition} Word\nC.\n```\n\n"
    "```{prf:proof}\nBy induction.\n\nDone here.\n```",
    "```{exercise} Titled\n:label: ex-a\nDo it.\n```\n\n"
    "````{solution} ex-a\n:class: dropdown\n\nDone, by {eq}`eq-a`.\n\n"
    "```python\nx = 1\n```\n````",
    "```{note}\nFirst line with $x$.\n\nSecond.\n```\n\n"
    "````{admonition} Erratum\n:class: warning\n\n"
    "The paper prints\n\n$$\ny\n$$\n````\n\n"
    "```{epigraph}\nA quote.\n```\n\n```{div} wide\nBody.\n```\n\n"
    "<span class=\"x\">raw</span>",
    "Costate\n: The multiplier.\n  Continued.\n\n"
    "- one\n- two\n\n3. three\n4. four\n\n"
    "```{table} Costs\n:name: tab-a\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n"
    "| `x\\|y` | $u\\|v$ and p\\|q |\n```\n\n"
    "```{figure} pic.png\n:name: fig-a\n:alt: A dot\n\nThe *dot*.\n```\n\n"
    "\\begin{align}\na &= b\n\\end{align}",
    "1. First\n\n   $$\n   z\n   $$ (eq-b)\n2. Next\n\n"
    "```{code-block} python\n:caption: A listing\n:name: code-a\n\nx = 1\n```\n\n"
    "As {cite:t}`knuth84` says {cite:p}`knuth84`.",
]
TWO = ["# Two\n\n(sec-far)=\n## Far away\n\n```{prf:lemma}\n:label: lem-far\nL.\n```"]


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    """A numbered two-chapter book with every node type the chapters use, built once."""
    import base64

    tmp = tmp_path_factory.mktemp("rich")
    plot = _code("plot()", mystnb={"figure": {"caption": "Costs by *layer*",
                                              "name": "fig-plot"}})
    plot["outputs"] = [{"output_type": "display_data", "metadata": {},
                        "data": {"image/png": PNG, "text/plain": ["<Figure>"]}}]
    src = _small_book(tmp, RICH, numbered=True, two=TWO, bib=True,
                      after=[plot, {"cell_type": "markdown", "id": "z", "metadata": {},
                                    "source": "After the plot."},
                             {"cell_type": "markdown", "id": "h",
                              "metadata": {"tags": [rn.HTML_ONLY]},
                              "source": "Only on the page.\n\n<div>raw</div>"}])
    (src / "book" / "a" / "pic.png").write_bytes(base64.b64decode(PNG))
    run = _sphinx(src, tmp / "out")
    assert run.returncode == 0, run.stderr
    reader = json.loads((tmp / "out" / "notebooks" / "a" / "one.ipynb").read_text())
    cells = [(c["cell_type"], "".join(c["source"])) for c in reader["cells"]]
    return {"cells": cells, "text": _markdown(reader), "out": tmp / "out"}


def _cell(rich, k):
    """The reader notebook's markdown of the chapter's k-th markdown cell."""
    return [s for t, s in rich["cells"][1:] if t == "markdown"][k]


def test_rich_headings_carry_the_section_numbers_and_text_its_markup(rich):
    first = _cell(rich, 0)
    assert first.startswith("# 1. One\n\n## 1.1. First section\n\n"
                            "Text with *emphasis*, **strong**, `code`, $x^2$, "
                            "H<sub>2</sub>O, a\n[link](https://example.org/a) and "
                            "2\\*3 stars.\n\n### 1.1.1. Deeper\n\n"
                            "## 1.2. Second section")


def test_rich_references_as_the_page_prints_them(rich):
    two = f"{SMALL_PAGES}book/a/two.html"
    assert _cell(rich, 0).endswith(
        f"See First section, [far away]({two}#sec-far), [Two]({two}), "
        f"[Lemma 2.1]({two}#lem-far),\nFig. 1.1, Table 1.1, (1.1) and the claim.")


def test_rich_theorems_definitions_and_proofs(rich):
    assert _cell(rich, 1) == (
        "**Theorem 1.1** (The $k$-th claim)\n\nIt holds that\n\n"
        "$$\nx = 1 \\tag{1.1}\n$$"
        "\n\n**Definition 1.1** (Word)\n\nC.\n\n"
        "*Proof.* By induction.\n\nDone here. $\\square$")


def test_rich_exercise_and_solution_hidden_in_details(rich):
    assert _cell(rich, 2) == (
        "**Exercise 1.1** (Titled)\n\nDo it.\n\n"
        "<details><summary>Solution to Exercise 1.1 (Titled)</summary>\n\n"
        "Done, by (1.1).\n\n```python\nx = 1\n```\n\n</details>")


def test_rich_admonitions_become_block_quotes(rich):
    assert _cell(rich, 3) == (
        "> **Note**\n>\n> First line with $x$.\n>\n> Second.\n\n"
        "> **Erratum**\n>\n> The paper prints\n>\n> $$\n> y\n> $$\n\n"
        "> A quote.\n\nBody.\n\n<span class=\"x\">raw</span>")


def test_rich_definition_lists_tables_figures_and_amsmath(rich):
    assert _cell(rich, 4) == (
        "- **Costate**: The multiplier.\n  Continued.\n\n- one\n- two\n\n"
        "3. three\n4. four\n\n"
        "*Table 1.1:* Costs\n\n| a | b |\n|---|---:|\n| 1 | 2 |\n"
        "| `x\\|y` | $u\\vert v$ and p\\|q |\n\n"
        "![A dot](pic.png)\n\n*Fig. 1.1:* The *dot*.\n\n"
        "$$\n\\begin{align}\na &= b \\tag{1.2}\n\\end{align}\n$$")


def test_rich_display_math_stays_in_its_list_item_and_listings_are_numbered(rich):
    assert _cell(rich, 5) == (
        "1. First\n\n   $$\n   z \\tag{1.3}\n   $$\n\n2. Next\n\n"
        "*Listing 1.1:* A listing\n\n```python\nx = 1\n```\n\n"
        "As Knuth [1984] says [Knuth, 1984].")  # as the page shows them


def test_rich_code_cells_verbatim_and_figure_captions_after_them(rich):
    cells = rich["cells"]
    code = [k for k, (t, _) in enumerate(cells) if t == "code"]
    assert [cells[k][1] for k in code] == ["install", "slider", "plot()"]
    assert cells[code[-1] + 1:-1] == [("markdown", "*Fig. 1.2:* Costs by *layer*"),
                                      ("markdown", "After the plot.")]
    page = (rich["out"] / "html" / "book" / "a" / "one.html").read_text()
    assert "Only on the page." in page and "<div>raw</div>" in page  # html-only
    assert "Only on the page." not in rich["text"]
    assert_plain(rich["text"])


def test_rich_the_works_cited_listed_at_the_end_as_the_reference_page_has_them(rich):
    kind, text = rich["cells"][-1]
    assert kind == "markdown" and text.startswith("**References**\n\n- ")
    entries = text.split("\n")[2:]
    assert len(entries) == 1 and "Knuth" in entries[0] and "Literate" in entries[0]
    assert "*The Computer Journal*" in entries[0] and "Never Cited" not in text


def test_rich_second_chapter_and_the_stored_rendering(rich):
    two = json.loads((rich["out"] / "notebooks" / "a" / "two.ipynb").read_text())
    assert _markdown(two).endswith(
        "# 2. Two\n\n## 2.1. Far away\n\n**Lemma 2.1**\n\nL.")
    stored = json.loads((rich["out"] / "html" / ".doctrees" / rn.STORE).read_text())
    assert sorted(stored["chapters"]) == ["book/a/one", "book/a/two"]


@pytest.mark.parametrize("markdown,node", [
    ("```{hlist}\n:columns: 2\n\n* a\n* b\n```", "<hlist>"),
    ("```{centered} A line\n```", "<centered>"),
    ("A {download}`/conf.py` here.", "<download_reference>"),
])
def test_small_book_with_a_node_the_renderer_does_not_know_fails(tmp_path, markdown,
                                                                  node):
    src = _small_book(tmp_path, ["# One\n\n" + markdown])
    run = _sphinx(src, tmp_path / "out")
    assert run.returncode != 0
    assert "reader notebooks not written" in run.stderr
    assert f"node {node}" in run.stderr and "no reader-notebook rendering" in run.stderr


# ----- the coding exercises: a starter cell, a check cell, and the check run on the solution ----

STARTER, CHECK = "exercise-starter", "exercise-check"
# chapters whose coding exercise has no starter and check cells yet (Part III is next)
EXERCISES_PENDING = set()  # every chapter has its self-checking exercise


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _exercise_cells(cells):
    """The (starter, check) pairs of a notebook's cells: each check right after its
    starter, and the name the starter defines for the reader (``my_...``)."""
    pairs = []
    for i, cell in enumerate(cells):
        if STARTER in _tags(cell):
            src = "".join(cell["source"])
            names = re.findall(r"^def (my_\w+)\(", src, re.M)
            assert names, f"a starter cell defines no my_... function:\n{src}"
            assert "raise NotImplementedError  # your code here" in src
            nxt = cells[i + 1] if i + 1 < len(cells) else {}
            assert CHECK in _tags(nxt), "a starter cell not followed by its check cell"
            pairs.append((names[-1], cell, nxt))
    n_checks = sum(CHECK in _tags(c) for c in cells)
    assert len(pairs) == n_checks, "a check cell without a starter"
    return pairs


def _whats(src):
    """The ``what=`` strings of the ``check_answer`` calls in ``src``, in order, each
    with its implicitly concatenated parts joined."""
    found = re.findall(r"check_answer\((?:(?!check_answer\()(?:.|\n))*?"
                       r"what=\(?\s*((?:\"[^\"]*\"\s*)+)", src)
    assert found, "a check_answer call without what="
    return ["".join(re.findall(r'"([^"]*)"', f)) for f in found]


def _stdout(cell):
    return "".join("".join(o.get("text", "")) for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


@pytest.mark.parametrize("doc", [d for d in CHAPTERS if d not in EXERCISES_PENDING])
def test_each_chapter_has_a_self_checking_coding_exercise(doc):
    """In the chapter: a reader-only starter and check cell, the check calling
    ``gradcheck.check_answer`` on the reader's function, and its stored output (the
    chapter is executed with the starter unfilled) "not yet: ... is not written"; and a
    hidden cell that runs the same check on the folded solution and asserts "right"."""
    cells = json.loads((ROOT / f"{doc}.ipynb").read_text(encoding="utf-8"))["cells"]
    pairs = _exercise_cells(cells)
    assert pairs, f"{doc}: no starter cell of a coding exercise"
    for name, starter, check in pairs:
        assert rn.READER_ONLY in _tags(starter) and rn.READER_ONLY in _tags(check)
        src = "".join(check["source"])
        assert re.search(rf"check_answer\(\s*lambda:[^\n]*\b{name}\b", src), (
            f"{doc}: the check does not call check_answer on {name}")
        said = _stdout(check)
        assert re.fullmatch(r"not yet: .+ is not written\n", said), said
        what = _whats(src)[0]
        # the same check (the same `what`) on the folded solution: its function, or the
        # results the solution computes when it is not a function
        hidden = [c for c in cells if c["cell_type"] == "code"
                  and "remove-input" in _tags(c)
                  and "check_answer(" in "".join(c["source"])
                  and what in _whats("".join(c["source"]))]
        assert hidden, f"{doc}: no hidden cell runs the check {what!r} on the solution"
        hsrc = "".join(hidden[0]["source"])
        assert 'startswith("right: ")' in hsrc


def test_an_unfilled_starter_and_its_check_print_not_yet_and_run_on(capsys):
    """What a reader notebook does, top to bottom, with every starter unfilled: the
    starters and checks of every chapter run, each check printing "not yet"."""
    from lagprop import gradcheck

    def my_answer(*args):
        raise NotImplementedError  # your code here

    ok = gradcheck.check_answer(lambda: my_answer(1, 2), [[1.0, 2.0]], what="x")
    assert ok is False
    assert capsys.readouterr().out == "not yet: x is not written\n"


@built
@pytest.mark.parametrize("doc", [d for d in CHAPTERS if d not in EXERCISES_PENDING])
def test_reader_notebook_holds_a_starter_and_a_check_the_page_does_not(doc):
    pairs = _exercise_cells(_reader(doc)["cells"])
    assert pairs
    page = (HTML / f"{doc}.html").read_text(encoding="utf-8")
    for name, _, _ in pairs:
        assert name in page                     # the exercise names the starter
    assert "# your code here" not in page       # the page shows no starter cell
