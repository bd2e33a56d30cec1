"""The reader notebooks: the MyST converter construct by construct, then every generated notebook.

The unit tests feed the converter (``book/_ext/reader_notebooks.py``) small markdown snippets
with a hand-made table of numbers, as the build environment would give it. The tests of the
generated notebooks (``make notebooks`` writes ``_build/notebooks``) check that no MyST-only
markup is left, that the numbers are the ones the HTML pages print, that code cells and their
stored outputs are the chapter's, and that the download and launch buttons serve them.
"""

import json
import os
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

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


def book_data(**changes):
    """A two-chapter book: numbers as the build environment reports them."""
    data = rn.BookData(
        pages_url=PAGES,
        titles={"book/a/one": "Chapter one", "book/a/two": "Chapter two",
                "book/appendix/api": "API reference"},
        secnumbers={"book/a/one": [("", "1"), ("#first-section", "1.1"), ("#deeper", "1.1.1"),
                                   ("#second-section", "1.2")]},
        equations={"eq-a": ("book/a/one", "1.1"), "eq-b": ("book/a/one", "1.2"),
                   "eq-far": ("book/a/two", "2.3")},
        proofs={"thm-a": ("book/a/one", "theorem", "1.1"),
                "theorem-7": ("book/a/one", "theorem", "1.2"),
                "def-a": ("book/a/one", "definition", "1.1"),
                "lem-far": ("book/a/two", "lemma", "2.4")},
        proof_order={"book/a/one": ["thm-a", "theorem-7", "def-a"]},
        exercises={"ex-a": ("book/a/one", "1.1"), "book/a/one-exercise-9": ("book/a/one", "1.2")},
        exercise_order={"book/a/one": ["ex-a", "book/a/one-exercise-9"]},
        figures={"fig-a": ("book/a/one", "figure", "1.1")},
        labels={"sec-first": ("book/a/one", "first-section", "First section"),
                "sec-far": ("book/a/two", "far-away", "Far away"),
                "fig-a": ("book/a/one", "fig-a", "A caption")},
        py_objects={"lagprop.mlp.init_params": ("book/appendix/api", "lagprop.mlp.init_params"),
                    "lagprop.mlp": ("book/appendix/api", "module-lagprop.mlp")},
        numfig_format={"figure": "Fig. %s", "section": "Section %s", "exercise": "Exercise %s",
                       "theorem": "theorem %s"},
        cite=lambda role, target, doc: {"t": "le Cun (1989)", "p": "(le Cun, 1989)"}[role],
        bib_entry=lambda key: f"Entry for {key}.",
    )
    for k, v in changes.items():
        setattr(data, k, v)
    return data


def md(text, data=None, doc="book/a/one"):
    return rn.Converter(data or book_data(), doc).markdown(text)


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


# ----- math --------------------------------------------------------------------------------

def test_math_directive_with_label_becomes_tagged_display_math():
    out = md("Before\n\n```{math}\n:label: eq-b\nx = 1\n```\n\nafter {eq}`eq-b`.")
    assert "$$\nx = 1 \\tag{1.2}\n$$" in out
    assert out.rstrip().endswith("after (1.2).")
    assert_plain(out)


def test_math_directive_without_label_and_colon_fence():
    out = md(":::{math}\na \\\\\nb\n:::")
    assert "$$\n\\begin{split}a \\\\\nb\\end{split}\n$$" in out   # as Sphinx wraps it
    assert "tag" not in out


def test_math_directive_parts_separated_by_blank_lines_are_aligned():
    out = md("```{math}\na = 1\n\nb = 2\n```")
    assert "\\begin{aligned}a = 1\\\\b = 2\\end{aligned}" in out


def test_labelled_dollar_math_gets_its_number_and_inline_double_dollars_stay():
    out = md("$$\ny = 2\n$$ (eq-a)\n\nInline $$z$$ and $$w$$ stay.")
    assert "$$\ny = 2 \\tag{1.1}\n$$" in out
    assert "Inline $$z$$ and $$w$$ stay." in out


def test_math_role_becomes_dollars():
    assert md("The {math}`\\alpha + 1` term.") == "The $\\alpha + 1$ term."


def test_equation_reference_to_another_chapter_links_to_its_page():
    out = md("See {eq}`eq-far`.")
    assert out == f"See [(2.3)]({PAGES}book/a/two.html#equation-eq-far)."


# ----- proofs, exercises, admonitions ---------------------------------------------------

def test_theorem_with_title_label_and_nested_math():
    src = ("````{prf:theorem} The $k$-th claim\n:label: thm-a\n\nIt holds that\n\n"
           "```{math}\n:label: eq-a\nx\n```\n````\n")
    out = md(src)
    assert "**Theorem 1.1** (The $k$-th claim)\n\nIt holds that" in out
    assert "x \\tag{1.1}" in out
    assert_plain(out)


def test_unlabelled_theorem_takes_its_number_in_source_order():
    src = ("```{prf:theorem}\n:label: thm-a\nA.\n```\n\n```{prf:theorem}\nB.\n```\n\n"
           "```{prf:definition} Word\n:label: def-a\nC.\n```")
    out = md(src)
    assert "**Theorem 1.1**\n\nA." in out and "**Theorem 1.2**\n\nB." in out
    assert "**Definition 1.1** (Word)\n\nC." in out


def test_nonumber_theorem_has_no_number():
    out = md("```{prf:remark} Aside\n:nonumber:\nText.\n```", book_data(proof_order={}))
    assert "**Remark** (Aside)\n\nText." in out


def test_proof_is_italic_heading_and_ends_with_a_square():
    out = md("```{prf:proof}\nBy induction.\n\nDone here.\n```")
    assert "*Proof.* By induction.\n\nDone here. $\\square$" in out
    out = md("```{prf:proof}\n$$\nx\n$$\n```")
    assert out.strip().startswith("*Proof.*\n\n$$") and out.strip().endswith("$\\square$")


def test_exercise_and_solution_hidden_in_details():
    src = ("```{exercise}\n:label: ex-a\nDo it.\n```\n\n"
           "````{solution} ex-a\n:class: dropdown\n\nDone, by {eq}`eq-a`.\n\n"
           "```python\nx = 1\n```\n````")
    out = md(src)
    assert "**Exercise 1.1**\n\nDo it." in out
    m = re.search(r"<details><summary>Solution to Exercise 1\.1</summary>\n\n(.*?)\n\n</details>",
                  out, re.S)
    assert m and "Done, by (1.1)." in m.group(1) and "```python\nx = 1\n```" in m.group(1)
    assert "<details open" not in out
    assert_plain(out)


def test_unlabelled_exercise_numbered_in_order():
    out = md("```{exercise}\nOne.\n```\n\n```{exercise} Titled\nTwo.\n```")
    assert "**Exercise 1.1**\n\nOne." in out and "**Exercise 1.2** (Titled)\n\nTwo." in out


@pytest.mark.parametrize("name,title", [("note", "Note"), ("warning", "Warning"),
                                        ("important", "Important"), ("tip", "Tip")])
def test_admonitions_become_block_quotes(name, title):
    out = md(f"```{{{name}}}\nFirst line with $x$.\n\nSecond {{prf:ref}}`thm-a`.\n```")
    assert out.strip() == (f"> **{title}**\n>\n> First line with $x$.\n>\n"
                           "> Second Theorem 1.1.")


def test_titled_admonition_with_class_and_nested_display_math():
    out = md("````{admonition} Erratum\n:class: warning\n\nThe paper prints\n\n"
             "```{math}\nx\n```\n````")
    assert out.strip().startswith("> **Erratum**\n>\n> The paper prints")
    assert "> $$\n> x\n> $$" in out
    assert_plain(out)


def test_epigraph_is_a_block_quote_and_a_container_keeps_its_content():
    out = md("```{epigraph}\nA quote.\n```\n\n```{div} wide\nBody {eq}`eq-a`.\n```")
    assert "> A quote." in out and "Body (1.1)." in out and "wide" not in out
    assert_plain(out)


@pytest.mark.parametrize("src,what", [
    ("```{somethingnew} Heading\nBody.\n```", "directive {somethingnew}"),
    (":::{include} other.md\n:::", "directive {include}"),
    ("```{iframe} https://example.org/fig.html\n```", "directive {iframe}"),
    ("```{list-table}\n* - a\n```", "directive {list-table}"),
    ("A {glue:}`acc` value.", "role {glue:}"),
    ("A {kbd}`x` and {newrole}`y`.", "role {newrole}"),
    ("Inside an admonition:\n\n```{note}\n{newrole}`y`\n```", "role {newrole}"),
])
def test_what_the_converter_cannot_render_is_an_error(src, what):
    with pytest.raises(rn.ConversionError, match=re.escape(what)):
        md(src)


def test_a_role_that_wraps_onto_the_next_line_is_converted():
    out = md("A {eq}`eq-a` and {prf:ref}`the\nclaim <thm-a>`, then\n"
             "{cite:t}`lecun1988\n`\nand text.\n\nNext paragraph.")
    assert out == ("A (1.1) and the\nclaim, then\nle Cun (1989)\nand text.\n\n"
                   "Next paragraph.")


def test_myst_the_converter_did_not_see_fails_the_notebook():
    nb = _nb({"cell_type": "markdown", "id": "m", "metadata": {},
              "source": "Para\nline two\n: not a definition"})
    with pytest.raises(rn.ConversionError, match="MyST left in a reader notebook"):
        rn.convert_notebook(nb, book_data(), "book/a/one")
    assert rn.leftover_myst("A {x}`y`, {{ z }} and\n(lab)=\n```{note}\nN.\n```") == [
        "{x}`y`", "{{ z }}", "(lab)=", "```{"]


def test_myst_inside_code_and_maths_is_not_leftover():
    text = ("Write `{eq}` like this: ``{eq}`label` ``, and $a {b}`c`$ stays.\n\n"
            "````markdown\n```{math}\n:label: x\n```\n{eq}`x`\n````\n\n$$\n{{ x }}\n$$")
    assert rn.leftover_myst(text) == []


# ----- only, glossary, definition lists, dropdowns, substitutions, index -------------

def test_only_keeps_what_the_html_shows_and_drops_the_rest():
    out = md("```{only} html\nOn the web.\n```\n\n```{only} latex\nIn print.\n```\n\n"
             ":::{only} not latex and (html or epub)\nBoth {eq}`eq-a`.\n:::")
    assert "On the web." in out and "In print." not in out and "Both (1.1)." in out
    assert_plain(out)
    latex = book_data(tags=("latex",))
    assert "In print." in md("```{only} latex\nIn print.\n```", latex)


def test_only_left_out_still_counts_its_theorems():
    """The build numbers a theorem in {only} latex too: the next keeps its number."""
    out = md("````{only} latex\n```{prf:theorem}\nPrint only.\n```\n````\n\n"
             "```{prf:theorem}\nB.\n```")
    assert "Print only" not in out and "**Theorem 1.2**\n\nB." in out


def test_glossary_entries_become_bold_terms_with_their_definitions():
    out = md("```{glossary}\n:sorted:\n\ncostate\n  The multiplier $B$ of\n"
             "  a layer.\n\nadjoint\nLagrange multiplier\n  See {term}`costate`.\n\n"
             "  A second paragraph.\n```")
    assert "- **costate**: The multiplier $B$ of\n  a layer." in out
    assert ("- **adjoint**; **Lagrange multiplier**: See costate.\n\n"
            "  A second paragraph." in out)
    assert_plain(out)


def test_definition_lists_become_bold_terms_with_their_definitions():
    out = md("Intro.\n\nCostate\n: The multiplier, see {eq}`eq-a`.\n  Continued.\n\n"
             "Adjoint\n\n: First meaning.\n: Second meaning.\n\nAfter.")
    assert "- **Costate**: The multiplier, see (1.1).\n  Continued." in out
    assert "- **Adjoint**: First meaning.\n\n  Second meaning." in out
    assert out.startswith("Intro.") and out.rstrip().endswith("After.")
    assert_plain(out)


def test_dropdown_keeps_its_title_in_a_closed_details_element():
    out = md("````{dropdown} Why $B$?\nBecause {eq}`eq-a`.\n````\n\n"
             "```{dropdown}\n:open:\nOpen.\n```")
    assert "<details><summary>Why $B$?</summary>\n\nBecause (1.1).\n\n</details>" in out
    assert "<details open>\n\nOpen.\n\n</details>" in out
    assert_plain(out)


def test_substitutions_from_the_config_and_the_page_are_rendered():
    data = book_data(substitutions={"pkg": "`lagprop`", "eqref": "{eq}`eq-a`",
                                    "page": "config"})
    conv = rn.Converter(data, "book/a/one", {"page": "page *own*"})
    out = conv.markdown("Use {{ pkg }} with {{eqref}}; `{{ pkg }}` stays.\n\n"
                        "{{ page }}\n\nUpper: {{ pkg | upper }}.")
    assert out.startswith("Use `lagprop` with (1.1); `{{ pkg }}` stays.")
    assert "\npage *own*\n" in out and "Upper: `LAGPROP`." in out
    with pytest.raises(rn.ConversionError, match="nope"):
        conv.markdown("A {{ nope }}.")


def test_index_entries_are_dropped_and_their_text_kept():
    out = md("```{index} single: costate; multiplier\n```\n\n"
             "The {index}`costate <single: costate>` and {index}`Lagrangian` and "
             "{index}`!adjoint`.")
    assert out.strip() == "The costate and Lagrangian and adjoint."


def test_figure_md_gets_its_number_and_table_its_caption():
    out = md(":::{figure-md} fig-a\n:name: fig-a\n\n![Two curves](img/p.png)\n\n"
             "The *curves*.\n:::")
    assert "![Two curves](img/p.png)\n\n*Fig. 1.1:* The *curves*." in out
    data = book_data(figures={"tab-a": ("book/a/one", "table", "1.2")},
                     numfig_format={"table": "Table %s"})
    out = md("```{table} Costs\n:name: tab-a\n\n| a |\n|---|\n| 1 |\n```", data)
    assert "*Table 1.2:* Costs\n\n| a |" in out


# ----- references --------------------------------------------------------------------------

def test_prf_ref_plain_titled_and_in_another_chapter():
    out = md("{prf:ref}`thm-a`, {prf:ref}`the claim <thm-a>`, {prf:ref}`lem-far`.")
    assert out == (f"Theorem 1.1, the claim, [Lemma 2.4]({PAGES}book/a/two.html#lem-far).")


def test_numref_uses_the_numfig_format_and_explicit_text():
    out = md("{numref}`fig-a`; {numref}`Figure %s <fig-a>`; {numref}`thm-a`; "
             "{numref}`Exercise {number} <ex-a>`; {numref}`sec-first`.")
    assert out == ("Fig. 1.1; Figure 1.1; theorem 1.1; Exercise 1.1; Section 1.1.")


def test_ref_gives_titles_and_numbers():
    out = md("{ref}`sec-first`, {ref}`here <sec-first>`, {ref}`ex-a`, {ref}`sec-far`.")
    assert out == (f"First section, here, Exercise 1.1, [Far away]({PAGES}book/a/two.html#far-away).")


def test_doc_role_links_to_the_page_with_its_title():
    out = md("{doc}`two`, {doc}`the API <../appendix/api>`, {doc}`/book/a/two`.")
    assert out == (f"[Chapter two]({PAGES}book/a/two.html), "
                   f"[the API]({PAGES}book/appendix/api.html), "
                   f"[Chapter two]({PAGES}book/a/two.html).")


def test_api_roles_link_to_the_api_page():
    out = md("{py:obj}`mlp.init_params <lagprop.mlp.init_params>`, "
             "{py:func}`~lagprop.mlp.init_params`, {py:mod}`lagprop.mlp`, {py:obj}`nowhere.x`.")
    api = f"{PAGES}book/appendix/api.html"
    assert out == (f"[`mlp.init_params`]({api}#lagprop.mlp.init_params), "
                   f"[`init_params()`]({api}#lagprop.mlp.init_params), "
                   f"[`lagprop.mlp`]({api}#module-lagprop.mlp), `nowhere.x`.")


def test_citations_as_the_html_shows_them_and_listed_at_the_end():
    conv = rn.Converter(book_data(), "book/a/one")
    assert conv.markdown("{cite:t}`lecun1988` and {cite:p}`lecun1988`.") == (
        "le Cun (1989) and (le Cun, 1989).")
    assert conv.state.cited == ["lecun1988"]
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "{cite:t}`lecun1988`"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    out = rn.convert_notebook(nb, book_data(), "book/a/one")
    assert "".join(out["cells"][-1]["source"]) == "**References**\n\n- Entry for lecun1988."


def test_unknown_labels_are_errors_not_silent_text():
    for src in ("{eq}`nope`", "{prf:ref}`nope`", "{ref}`nope`", "{doc}`nope`",
                "```{math}\n:label: nope\nx\n```"):
        with pytest.raises(rn.ConversionError, match="nope"):
            md(src)


# ----- text that must stay as it is ----------------------------------------------------------

def test_code_fences_inline_code_and_math_are_left_alone():
    src = ("Write `{eq}` like this: ``{eq}`label` ``, and $a {b}`c`$ stays.\n\n"
           "````markdown\n```{math}\n:label: x\n```\n{eq}`x`\n````")
    assert md(src) == src


def test_targets_comments_and_block_breaks_are_dropped():
    out = md("(sec-first)=\n## First section\n\n% a comment\n+++\nText.")
    assert "(sec-first)=" not in out and "comment" not in out and "+++" not in out
    assert "Text." in out


def test_headings_carry_the_html_section_numbers():
    out = md("# Title\n\n## First section\n\n### Deeper\n\n## Second section\n\n## Unknown")
    assert "# 1. Title" in out and "## 1.1. First section" in out
    assert "### 1.1.1. Deeper" in out and "## 1.2. Second section" in out
    assert "## Unknown" in out


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
             _code("plot()", mystnb={"figure": {"caption": "Costs by {eq}`eq-a`", "name": "fig-a"}}))
    out = rn.convert_notebook(nb, book_data(), "book/a/one", title="The Book")
    kinds = [(c["cell_type"], "".join(c["source"])) for c in out["cells"]]
    assert kinds[0][0] == "markdown" and "The Book" in kinds[0][1]
    assert [s for k, s in kinds if k == "code"] == ["shown = 1", "also = 1", "plot()"]
    assert kinds[-1] == ("markdown", "*Fig. 1.1:* Costs by (1.1)")
    assert out["cells"][1]["outputs"] == nb["cells"][2]["outputs"]        # stored outputs kept
    assert len({c["id"] for c in out["cells"]}) == len(out["cells"])       # ids unique (nbformat 4.5)
    assert set(out["metadata"]) == {"kernelspec"}                          # not mystnb
    assert nb["cells"][0]["source"] == "(x)=\n"                            # input untouched


def test_html_only_cells_dropped_reader_only_kept_and_widget_state_kept():
    widgets = {"application/vnd.jupyter.widget-state+json": {"state": {"m1": {}},
                                                             "version_major": 2}}
    nb = _nb(_code("static_figure()", [rn.HTML_ONLY]),
             _code("slider()", [rn.READER_ONLY]),
             {"cell_type": "markdown", "id": "m", "metadata": {"tags": [rn.HTML_ONLY]},
              "source": "Drag nothing: this is a picture."})
    nb["metadata"]["widgets"] = widgets
    out = rn.convert_notebook(nb, book_data(), "book/a/one")
    assert ["".join(c["source"]) for c in out["cells"]] == ["slider()"]
    assert out["metadata"] == {"kernelspec": {"name": "python3"}, "widgets": widgets}


def test_a_reader_only_cell_may_not_hold_a_theorem():
    nb = _nb({"cell_type": "markdown", "id": "m", "source": "```{prf:theorem}\nA.\n```",
              "metadata": {"tags": [rn.READER_ONLY]}})
    with pytest.raises(rn.ConversionError, match="reader-only cell holds a theorem"):
        rn.convert_notebook(nb, book_data(), "book/a/one")


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
    if not NOTEBOOKS.is_dir() or not (BUILD / ".doctrees" / "environment.pickle").is_file():
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
    assert [h.rstrip(".") for h in re.findall(r"^#{1,6} ([\d.]+) ", text, re.M)] == [
        s.rstrip(".") for s in sections]


@built
@pytest.mark.parametrize("doc", CHAPTERS)
def test_solutions_are_hidden_and_one_per_solution_directive(doc):
    source = "".join("".join(c["source"]) for c in json.loads(
        (ROOT / f"{doc}.ipynb").read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "markdown")
    n = len(re.findall(r"^\s*[`:]{3,}\{solution\}", source, re.M))
    text = _markdown(_reader(doc))
    assert len(re.findall(r"^<details><summary>Solution to Exercise [\d.]+</summary>$", text,
                          re.M)) == n
    assert text.count("</details>") == n


@built
def test_citations_and_references_list():
    text = _markdown(_reader("book/lecun/costate"))
    page = (HTML / "book/lecun/costate.html").read_text(encoding="utf-8")
    shown = [re.sub(r"<[^>]+>", "", c).replace("\xa0", " ") for c in re.findall(
        r'<span class="bibtex-citation"[^>]*>(.*?)</span>', page, re.S)]
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


def test_figure_directive_becomes_image_and_numbered_caption():
    out = md("```{figure} images/plot.png\n:name: fig-a\n:alt: Two curves\n\nThe {math}`x` curves.\n```")
    assert "![Two curves](images/plot.png)\n\n*Fig. 1.1:* The $x$ curves." in out
    assert_plain(out)
    assert md("{numref}`FIG-A`") == "Fig. 1.1"   # labels and figure ids differ only in case


def test_directives_and_display_math_inside_list_items_stay_in_the_item():
    out = md("1. First\n\n   ```{math}\n   :label: eq-a\n   x\n   ```\n\n   $$\n   y\n   $$\n2. Next")
    assert "   $$\n   x \\tag{1.1}\n   $$" in out and "   $$\n   y\n   $$" in out
    assert_plain(out)


def test_amsmath_environment_becomes_display_math_and_inline_environments_stay():
    out = md("Text\n\n\\begin{align}\na &= b\n\\end{align}\n\nthe matrix $M =\n"
             "\\begin{pmatrix} 1 \\end{pmatrix}$ here")
    assert "$$\n\\begin{align}\na &= b\n\\end{align}\n$$" in out
    assert "$M =\n\\begin{pmatrix} 1 \\end{pmatrix}$ here" in out


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
    nb = _nb({"cell_type": "markdown", "id": "m", "metadata": {},
              "source": "```{figure} img/p.png\n:alt: A plot\n\nCaption.\n```\n\n"
                        "![remote](https://example.org/x.png) <img src=\"img/p.png\">"})
    (src / "book" / "a" / "one.ipynb").write_text(json.dumps(nb))
    data = book_data(titles={"book/a/one": "Chapter one"})
    written = rn.write_all(data, src, tmp_path / "out")
    assert written == [tmp_path / "out" / "a" / "one.ipynb"]
    assert (tmp_path / "out" / "a" / "img" / "p.png").read_bytes() == b"\x89PNG"
    assert rn.local_images(json.loads(written[0].read_text())) == ["img/p.png", "img/p.png"]


def test_labelled_theorem_or_exercise_unknown_to_the_build_is_an_error():
    with pytest.raises(rn.ConversionError, match="thm-new"):
        md("```{prf:theorem}\n:label: thm-new\nA.\n```")
    with pytest.raises(rn.ConversionError, match="ex-new"):
        md("```{exercise}\n:label: ex-new\nA.\n```")


@built
def test_make_notebooks_regenerates_what_the_html_build_wrote(tmp_path):
    """The command-line form (make notebooks) works from the pickled environment, reproducibly."""
    import shutil

    shutil.copytree(BUILD / ".doctrees", tmp_path / ".doctrees")  # env and doctrees
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
exclude_patterns = ["_build"]
html_title = "Small book"
"""

WIDGET_STATE = {"application/vnd.jupyter.widget-state+json": {
    "state": {"m1": {"model_name": "IntSliderModel",
                     "model_module": "@jupyter-widgets/controls",
                     "model_module_version": "2.0.0", "state": {"value": 3}}},
    "version_major": 2, "version_minor": 0}}


def _small_book(tmp_path, markdown):
    """A one-chapter book (book/a/one.ipynb): these markdown cells, then a widget."""
    src = tmp_path / "src"
    (src / "book" / "a").mkdir(parents=True)
    (src / "conf.py").write_text(CONF.format(ext=str(ROOT / "book" / "_ext")))
    (src / "_config.yml").write_text(
        "repository:\n  url: https://github.com/org/repo\n")
    (src / "index.md").write_text("# Small book\n\n```{toctree}\nbook/a/one\n```\n")
    cells = [{"cell_type": "markdown", "id": f"m{k}", "metadata": {}, "source": text}
             for k, text in enumerate(markdown)]
    widget = _code("slider", [rn.READER_ONLY])
    widget["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {
        "text/plain": ["IntSlider(value=3)"],
        "application/vnd.jupyter.widget-view+json": {
            "model_id": "m1", "version_major": 2, "version_minor": 0}}}]
    still = _code("static_picture", [rn.HTML_ONLY])
    nb = _nb(*cells, _code("install"), widget, still)
    nb["metadata"].update(widgets=WIDGET_STATE, language_info={"name": "python"},
                          myst={"substitutions": {"where": "the page"}})
    (src / "book" / "a" / "one.ipynb").write_text(json.dumps(nb))
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


def test_small_book_with_a_directive_the_converter_cannot_render_fails(tmp_path):
    src = _small_book(tmp_path, ["# One\n\n```{hlist}\n:columns: 2\n\n* a\n* b\n```"])
    run = _sphinx(src, tmp_path / "out")
    assert run.returncode != 0
    assert "directive {hlist} has no reader-notebook rendering" in run.stderr
