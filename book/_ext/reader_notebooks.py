"""Reader notebooks: each chapter as a plain Jupyter notebook, with no MyST left.

The chapters are MyST notebooks: directives (theorems, proofs, exercises, admonitions,
numbered equations), roles (``{eq}``, ``{prf:ref}``, ``{cite:t}``, ``{py:obj}``, ...)
and ``(label)=`` targets, which plain Jupyter, JupyterLab and Colab show as raw text.
This extension writes, at the end of the HTML build, for every chapter,
``_build/notebooks/<path under book/>.ipynb``: the same cells with their stored outputs,
the markdown replaced by what the HTML shows.

The markdown is rendered from the chapter's resolved doctree, inside the HTML build
(Sphinx's ``doctree-resolved`` event; ``reader_markdown`` maps every node type to
Jupyter markdown and fails on any it does not know). By then every reference reads as
the page shows it ("Theorem 2.1", "(2.1)", a section title), citations are
sphinxcontrib-bibtex's own text, ``{only}`` is decided, substitutions are replaced, and
glossaries, definition lists, dropdowns and index entries are nodes. The numbers that
the HTML translator adds when it writes a page (sections, equations, theorems,
exercises, figures, tables) are read from the same tables it uses
(``env.toc_secnumbers``, ``env.toc_fignumbers``), so the reader notebook and the web
page agree:

- display math as ``$$ ... $$`` (numbered equations carry ``\\tag{2.1}``), inline math
  as ``$...$``;
- references as the page prints them; one to another chapter links to its page in the
  HTML book;
- theorems, definitions, ... and exercises as a bold numbered heading and the text;
  proofs as "*Proof.*" and the text closed by a square; admonitions (notes, warnings,
  errata) as block quotes; solutions and dropdowns inside a closed ``<details>``
  element;
- citations as the HTML shows them ("le Cun (1989)", "(le Cun, 1989)"), the works the
  chapter cites listed at its end as the book's reference list shows them, in its order;
- glossaries and definition lists as bullets, each term in bold before its definition;
  figures and tables under their numbered captions; index entries and targets dropped;
- cells tagged ``remove-cell`` or ``html-only`` dropped; every other cell kept, code and
  stored outputs unchanged (taken from the ``.ipynb`` by the cell index MyST-NB puts on
  each code cell); the notebook keeps its kernel and its ipywidgets state
  (``metadata.widgets``), so a stored widget shows without running its cell.

A cell tagged ``reader-only`` is in the reader notebook only: the extension tags it
``remove-cell`` as Sphinx reads the chapter, so MyST-NB leaves it out of the HTML and
the PDF (it still runs). With ``html-only`` on its static twin, a drivable figure is a
live widget in the notebook and a picture on the page; the ``reader-only`` code cell
right after an ``html-only`` figure is followed by the figure's caption (the build
renders only the twin's) under the figure's picture, its ``image/png`` output as an
attachment of that markdown cell: a reader sees the figure before running anything,
and the code cells keep their own outputs. As the build does not read a
``reader-only`` markdown cell, it is copied as it is and may hold no MyST
(``leftover_myst``: an error).

Anything the renderer has no rendering for fails loudly: a node type it does not know
(from a directive, a role or an extension), a block that does not map back to its cell,
or MyST left in a reader notebook. The HTML build reports it as a warning, which fails
the ``-W`` build; nothing is written in silence.

The book's web address is derived from ``_config.yml``'s repository URL
(``https://github.com/<org>/<repo>`` is published at
``https://<org>.github.io/<repo>/``). The extension also makes the page's download
button serve the reader notebook (it replaces the copy of the source in ``_sources/``)
and points the Binder and Colab buttons at the reader notebooks published on the
repository's ``notebooks`` branch (``reader_notebooks_branch``).

The build keeps what it rendered in ``_build/.doctrees/reader_notebooks.json``; without
a new build, ``python book/_ext/reader_notebooks.py [_build]`` writes the reader
notebooks again from it and the chapters' ``.ipynb`` (``make notebooks``).

Why not another mechanism: QuantEcon's ``sphinx-tojupyter`` is a builder of its own (a
second full Sphinx run, with its own conventions for exercises, citations and links); a
rewriter of the MyST source (this module's first form), even one on myst-parser's token
stream, has to number unlabelled theorems and exercises by their position and
re-implement every directive, where the resolved doctree has them done.
"""

from __future__ import annotations

import copy
import json
import os
import posixpath
import re
import shutil
import sys
from pathlib import Path

import reader_markdown  # beside it: book/_ext is on the path (local_extensions)
from docutils import nodes
from reader_markdown import BookData, UnknownNode

BOOK_DIR = "book"  # chapters live under book/; reader notebooks mirror that tree
DEFAULT_BRANCH = "notebooks"
STORE = "reader_notebooks.json"  # in the doctree folder: what the build rendered
# Cell tags: a cell only in the HTML and PDF, or only in the reader notebook.
HTML_ONLY, READER_ONLY = "html-only", "reader-only"
GITHUB = re.compile(r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?")  # org, repo


class ConversionError(ValueError):
    """What the reader notebook cannot show as the HTML does: it would be wrong."""


def pages_url(repo_url, baseurl=""):
    """The GitHub Pages address of a repository (or ``html_baseurl`` when it is set)."""
    if baseurl:
        return baseurl.rstrip("/") + "/"
    m = GITHUB.fullmatch(repo_url or "")
    if not m:
        raise ValueError("`repository.url` must be a GitHub repository URL, got "
                         f"{repo_url!r}")
    return f"https://{m.group(1).lower()}.github.io/{m.group(2)}/"


def _repo_url_from_config(root):
    import yaml

    cfg = yaml.safe_load((Path(root) / "_config.yml").read_text())
    return cfg["repository"]["url"]


INLINE = re.compile(
    r"(?P<role>\{(?P<name>[A-Za-z][\w:+.-]*)\}(?P<tick>`+)(?P<content>.+?)(?P=tick))"
    r"|(?P<code>(?P<ct>`+).+?(?P=ct))"
    r"|(?P<sub>\{\{(?P<expr>.+?)\}\})"
    r"|(?P<dmath>\$\$.+?\$\$)"
    r"|(?P<math>(?<![\\$])\$(?=\S).+?(?<![\s\\])\$)",
    re.S,
)


# MyST that must not survive into a reader notebook's markdown (outside code and maths)
LEFTOVER_BLOCK = re.compile(
    r"^\s*(`{3,}|~{3,}|:{3,})\s*\{"          # a directive fence
    r"|^\s*\([^()\s]+\)=\s*$"                # a (label)= target
    r"|^\s*:[\w-]+:(\s|$)"                   # a directive option
    r"|^ {0,3}[:~] +\S",                      # a definition-list line
    re.M,
)
LEFTOVER_INLINE = re.compile(r"\{[A-Za-z][\w:+.-]*\}`|\{\{")  # a role, a substitution
CODE_FENCE = re.compile(  # a fenced code block (a directive fence is not one)
    r"^(?P<i>[ \t]*)(?P<f>`{3,}|~{3,})(?![ \t]*\{)[^\n]*\n.*?^(?P=i)(?P=f)[ \t]*$",
    re.M | re.S)


def leftover_myst(text):
    """The MyST markup left in converted markdown, outside code and maths: a directive,
    a role, a target, an option, a substitution or a definition list the converter did
    not see (each would show as raw text in Jupyter)."""
    found = []

    def inline(m):  # roles and substitutions are found; code and maths are skipped
        if m.group("role") or m.group("sub"):
            found.append(m.group(0))
        return ""

    text = CODE_FENCE.sub("", text)
    rest = INLINE.sub(inline, text)  # what is left may hold a role never closed
    return (found + [m.group(0).strip() for m in LEFTOVER_BLOCK.finditer(text)]
            + [m.group(0) for m in LEFTOVER_INLINE.finditer(rest)])




def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _as_lines(text):
    lines = text.split("\n")
    return [ln + "\n" for ln in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def _markdown_cell(text):
    return {"cell_type": "markdown", "metadata": {}, "source": _as_lines(text)}




IMAGE = re.compile(r"!\[[^\]]*\]\((?P<md>[^)\s]+)|<img\s[^>]*src=\"(?P<html>[^\"]+)\"")


def local_images(nb):
    """Relative paths of the images the notebook's markdown shows (to copy beside
    it)."""
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for m in IMAGE.finditer(_source(cell)):
                path = m.group("md") or m.group("html")
                local = not re.match(r"^([a-z]+:|/|#)", path)
                if local and ".." not in Path(path).parts:
                    found.append(path)
    return found


def reader_path(outdir, docname):
    return Path(outdir) / (docname[len(BOOK_DIR) + 1:] + ".ipynb")




def _launch_to_reader(app, pagename, templatename, context, doctree):
    """Binder and Colab buttons open the reader notebook on the published branch."""
    if not pagename.startswith(f"{BOOK_DIR}/"):
        return
    repo = (app.config.html_theme_options or {}).get("repository_url", "")
    m = GITHUB.fullmatch(repo)
    if not m:
        return
    org, name = m.groups()
    branch = app.config.reader_notebooks_branch
    path = pagename[len(BOOK_DIR) + 1:] + ".ipynb"
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            url = button.get("url", "")
            if button.get("text") == "Binder" and "/v2/gh/" in url:
                ui = (url.split("?urlpath=", 1)[1].split("/", 1)[0]
                      if "?urlpath=" in url else "tree")
                ui = "lab/tree" if ui == "lab" else ui
                base = url.split("/v2/gh/", 1)[0]
                button["url"] = (f"{base}/v2/gh/{org}/{name}/{branch}"
                                 f"?urlpath={ui}/{path}")
            elif button.get("text") == "Colab" and "/github/" in url:
                base = url.split("/github/", 1)[0]
                button["url"] = f"{base}/github/{org}/{name}/blob/{branch}/{path}"


def hide_reader_only_cells(text):
    """A notebook's JSON with every ``reader-only`` cell also tagged ``remove-cell``,
    which MyST-NB leaves out of the HTML and the PDF (the cells still run); ``text``
    itself when no cell is ``reader-only``."""
    if f'"{READER_ONLY}"' not in text:
        return text
    nb = json.loads(text)
    for cell in nb.get("cells", []):
        tags = cell.get("metadata", {}).get("tags", [])
        if READER_ONLY in tags and "remove-cell" not in tags:
            cell["metadata"]["tags"] = [*tags, "remove-cell"]
    return json.dumps(nb, ensure_ascii=False)




# --------------------------------------------------------------------------------------
# Notebooks
# --------------------------------------------------------------------------------------

def _figure_cell(caption, cell):
    """A markdown cell: the picture of a figure's code cell (its first ``image/png``
    output, attached to the cell), then the caption; the caption alone when the cell
    has no picture."""
    for out in cell.get("outputs", []):
        png = out.get("data", {}).get("image/png")
        if png:
            meta = cell.get("metadata", {}).get("mystnb", {})
            name = (meta.get("figure") or {}).get("name") or "figure"
            alt = " ".join(((meta.get("image") or {}).get("alt") or name).split())
            alt = re.sub(r"[\[\]]", "", alt)
            new = _markdown_cell(f"![{alt}](attachment:{name}.png)\n\n{caption}")
            png = "".join(png) if isinstance(png, list) else png
            new["attachments"] = {f"{name}.png": {"image/png": png.strip()}}
            return new
    return _markdown_cell(caption)


def convert_notebook(nb: dict, rendered: dict, docname: str, title: str = "") -> dict:
    """The reader notebook of one chapter (a new dict; ``nb`` is not changed).

    ``rendered`` is what the build made of the chapter: ``"markdown"`` (cell index ->
    markdown), ``"captions"`` (cell index of a code cell -> the caption to put after
    it),
    ``"references"`` (the entries of the works it cites), ``"page"`` (its address) and
    ``"title"`` (its title).
    """
    markdown = {int(k): v for k, v in rendered.get("markdown", {}).items()}
    captions = {int(k): v for k, v in rendered.get("captions", {}).items()}
    cells, used = [], set()
    twin = None  # an html-only figure: (caption, pictures), for its reader-only twin
    if title:
        cells.append(_markdown_cell(
            f"*{title}*: the runnable form of the chapter "
            f"[{rendered.get('title', '')}]({rendered.get('page', '')}). Run the "
            "cells from the top; the first code cell installs the companion package "
            "`lagprop` when it is missing."))
    for index, cell in enumerate(nb["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        if "remove-cell" in tags or HTML_ONLY in tags:
            if HTML_ONLY in tags:  # the page shows it (rendered), the notebook not
                used.add(index)
                if cell["cell_type"] == "code" and index in captions:
                    twin = captions[index], cell
            continue
        follows_twin, twin = twin, None
        if cell["cell_type"] == "markdown":
            if READER_ONLY in tags:  # the build never read it: as it is, plain markdown
                text = _source(cell).strip("\n")
                left = leftover_myst(text)
                if left:
                    raise ConversionError(
                        f"{docname}: MyST in a {READER_ONLY} markdown cell (the build "
                        f"does not read it): {', '.join(map(repr, left[:3]))}")
            else:
                text = markdown.get(index, "")
                used.add(index)
            text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
            left = leftover_myst(text)
            if left:  # what no node should render to: an error, not raw text
                raise ConversionError(f"{docname}: MyST left in a reader notebook: "
                                      f"{', '.join(map(repr, left[:3]))}")
            if text.strip():
                new = {k: v for k, v in cell.items() if k != "attachments" or v}
                new["source"] = _as_lines(text)
                cells.append(new)
            continue
        if cell["cell_type"] == "raw":
            continue
        cells.append(copy.deepcopy(cell))
        if index in captions:
            used.add(index)
            cells.append(_markdown_cell(captions[index]))
        elif follows_twin and READER_ONLY in tags:  # a drivable figure's live twin
            cells.append(_figure_cell(*follows_twin))
    stray = [k for k in sorted(set(markdown) | set(captions)) if k not in used]
    if stray:  # markdown the page shows that no kept cell of the notebook holds
        raise ConversionError(f"{docname}: rendered markdown for cells {stray} that "
                              "are not markdown cells of the notebook (or are removed)")
    if rendered.get("references"):
        cells.append(_markdown_cell(
            "**References**\n\n" + "\n".join(f"- {e}" for e in rendered["references"])))
    minor = nb.get("nbformat_minor", 4)
    if minor >= 5:  # cell ids are required from nbformat 4.5 on
        for k, cell in enumerate(cells):
            cell.setdefault("id", f"reader-{k}")
    # the kernel, and the state of stored ipywidgets (without it a widget output shows
    # "model not found" until its cell runs again)
    kept = ("kernelspec", "language_info", "widgets")
    meta = {k: v for k, v in nb.get("metadata", {}).items() if k in kept}
    return {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": minor}


def write_all(store: dict, outdir, html_dir=None):
    """Write every chapter's reader notebook from what the build rendered (``store``:
    ``"srcdir"``, ``"title"`` and ``"chapters"``, docname -> see ``convert_notebook``);
    return the paths written."""
    outdir, srcdir = Path(outdir), Path(store["srcdir"])
    if outdir.exists():
        shutil.rmtree(outdir)
    written, errors = [], []
    for doc in sorted(store["chapters"]):
        nb = json.loads((srcdir / f"{doc}.ipynb").read_text(encoding="utf-8"))
        try:
            reader = convert_notebook(nb, store["chapters"][doc], doc,
                                      store.get("title", ""))
        except ConversionError as err:
            errors.append(str(err))
            continue
        path = reader_path(outdir, doc)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(reader, indent=1, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
        for image in local_images(reader):  # images the markdown shows travel with it
            src = srcdir / posixpath.dirname(doc) / image
            if src.is_file():
                (path.parent / image).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, path.parent / image)
        if html_dir is not None:  # the download button serves the reader notebook
            source_copy = Path(html_dir) / "_sources" / f"{doc}.ipynb"
            if source_copy.parent.is_dir():
                source_copy.write_text(text, encoding="utf-8")
        written.append(path)
    if errors:
        raise ConversionError("reader notebooks not written:\n  " + "\n  ".join(errors))
    return written


# --------------------------------------------------------------------------------------
# Sphinx hooks
# --------------------------------------------------------------------------------------

def _source_read(app, docname, source):
    if str(app.env.doc2path(docname)).endswith(".ipynb"):
        source[0] = hide_reader_only_cells(source[0])


def _is_chapter(app, docname):
    return (docname.startswith(f"{BOOK_DIR}/")
            and Path(app.env.doc2path(docname)).suffix == ".ipynb")


def _book_data(app):
    data = getattr(app, "_reader_book_data", None)
    if data is None:
        theme = app.config.html_theme_options or {}
        repo = theme.get("repository_url") or _repo_url_from_config(Path(app.srcdir))
        url = pages_url(repo, app.config.html_baseurl or "")
        data = BookData.from_env(app.env, url)
        app._reader_book_data = data
    return data


def _render(app, doctree, docname):
    """A chapter's markdown (kept on the app until the build has finished); what it
    cannot render is kept as the error to report."""
    rendered = getattr(app, "_reader_rendered", None)
    if rendered is None:
        rendered = app._reader_rendered = {}
    try:
        rendered[docname] = reader_markdown.render(doctree, _book_data(app), docname)
    except UnknownNode as err:
        rendered[docname] = err


def _doctree_resolved(app, doctree, docname):
    if app.builder.format != "html":
        return
    if _is_chapter(app, docname):
        _render(app, doctree, docname)
    _read_bibliography(app, doctree, docname)


def _read_bibliography(app, doctree, docname):
    """The reference-list entries on a page (sphinxcontrib-bibtex's citation nodes),
    kept for the chapters that cite them."""
    if getattr(app, "_reader_bibliography", None) is None:
        app._reader_bibliography = {}
    if next(doctree.findall(nodes.citation), None) is not None:
        app._reader_bibliography[docname] = reader_markdown.bibliography(
            doctree, _book_data(app), docname)


def _references(app, doc, cited):
    """The entries of the works a chapter cites, in the order of the reference list."""
    bib = app._reader_bibliography
    entries = []
    for page, node_id in cited:
        if page not in bib:  # a page this build did not write
            if page not in app.env.all_docs:
                raise ConversionError(f"{doc}: a citation of {page!r}, not a page")
            _read_bibliography(app, app.env.get_and_resolve_doctree(page, app.builder),
                               page)
        if node_id not in bib.get(page, {}):
            raise ConversionError(f"{doc}: a citation of {page}#{node_id}, not an "
                                  "entry of its reference list")
        entries.append((page, *bib[page][node_id]))
    return [text for _page, _k, text in sorted(entries)]


def _write_reader_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    for name in ("_reader_rendered", "_reader_bibliography"):
        if getattr(app, name, None) is None:
            setattr(app, name, {})
    rendered = app._reader_rendered
    docs = sorted(d for d in app.env.found_docs if _is_chapter(app, d))
    for doc in docs:  # not written by this build (unchanged), or by a parallel writer
        if doc not in rendered:
            doctree = app.env.get_and_resolve_doctree(doc, app.builder)
            if doc not in rendered:  # (the event above renders it, when connected)
                _render(app, doctree, doc)
    failed = [str(rendered[d]) for d in docs if isinstance(rendered[d], Exception)]
    data = _book_data(app)
    chapters = {}
    for doc in docs:
        r = rendered[doc]
        if isinstance(r, Exception):
            continue
        try:
            refs = _references(app, doc, r.cited)
        except ConversionError as err:
            failed.append(str(err))
            continue
        chapters[doc] = {"title": app.env.titles[doc].astext(),
                         "page": f"{data.pages_url}{doc}.html",
                         "markdown": {str(k): v for k, v in sorted(r.markdown.items())},
                         "captions": {str(k): v for k, v in sorted(r.captions.items())},
                         "references": refs}
    if failed:  # a warning: under -W the build fails, and says why
        logger.warning("reader notebooks not written:\n  " + "\n  ".join(failed),
                       type="reader_notebooks")
        return
    store = {"srcdir": str(app.srcdir), "title": app.config.html_title,
             "chapters": chapters}
    Path(app.doctreedir, STORE).write_text(
        json.dumps(store, indent=1, ensure_ascii=False, sort_keys=True),
        encoding="utf-8")
    outdir = Path(app.outdir).parent / "notebooks"
    try:
        written = write_all(store, outdir, html_dir=app.outdir)
    except ConversionError as err:
        logger.warning(str(err), type="reader_notebooks")
        return
    logger.info(f"reader notebooks: {len(written)} written to {outdir}")


def setup(app):
    app.add_config_value("reader_notebooks_branch", DEFAULT_BRANCH, "html")
    # the chapters' kernels inherit it: a drivable figure's live twin (a reader-only
    # cell, lagprop.plotting.SliderFigure.live) draws a still, so no page carries
    # widget state (nor the widget scripts it would load)
    os.environ.setdefault("LAGPROP_STATIC_FIGURES", "1")
    app.connect("source-read", _source_read)
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("html-page-context", _launch_to_reader, priority=900)
    app.connect("build-finished", _write_reader_notebooks, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "2.0"}


def main(argv=None):
    """Write the reader notebooks again from what the last HTML build rendered."""
    argv = sys.argv[1:] if argv is None else argv
    build = Path(argv[0] if argv else "_build")
    stored = build / ".doctrees" / STORE
    if not stored.is_file():
        sys.exit(f"no {stored}: build the HTML book first (make book)")
    store = json.loads(stored.read_text(encoding="utf-8"))
    html = build / "html"
    written = write_all(store, build / "notebooks",
                        html_dir=html if html.is_dir() else None)
    print(f"reader notebooks: {len(written)} written to {build / 'notebooks'}")


if __name__ == "__main__":
    main()
