"""The reader's guide on the front page: the chapters' dependency figure, drawn from the chapters.

Every chapter states what it builds on in one line at its top,

    **Builds on:** {doc}`The costate <costate>`, {doc}`../roads/computational-graph`.

This module reads those lines (and the chapter titles) in the order of ``_toc.yml`` and turns
them into a Graphviz drawing, one cluster per part and one arrow per "builds on". The directive
``chapter-dependencies`` places that drawing on a page, with the options of Sphinx's own
``graphviz`` directive (``caption``, ``alt``, ``align``, ``name``); the HTML shows it as SVG, the
PDF as a vector figure. ``tests/test_reader_guide.py`` uses the same functions to check that every
chapter declares its line and that each one names earlier chapters only, so the figure, the lines
and the order of the book cannot drift apart.
"""

import json
import posixpath
import re
import textwrap
from pathlib import Path

import yaml
from docutils.statemachine import StringList
from sphinx.ext.graphviz import Graphviz

BUILDS_ON = re.compile(r"^\*\*Builds on:\*\*(.*)$", re.M)
DOC_ROLE = re.compile(r"\{doc\}`(?:[^`<]*<)?([^`<>]+)>?`")
TITLE = re.compile(r"^# (.+)$", re.M)

# Okabe-Ito colours, lightened for fills, one per part (the book's palette)
FILLS = ["#cfe6f5", "#fbe3c4", "#cdeee3", "#f6dbe9", "#fff6bf"]
EDGES = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#F0E442"]


def parts(root):
    """The numbered parts of ``_toc.yml`` as ``[(caption, [docname, ...]), ...]``."""
    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text())
    return [(p["caption"], [c["file"] for c in p["chapters"]])
            for p in toc["parts"] if p.get("numbered")]


def chapters(root):
    """The numbered chapters in reading order, as docnames (``book/lecun/costate``)."""
    return [doc for _, docs in parts(root) for doc in docs]


def _markdown(root, docname):
    path = Path(root) / docname
    if path.with_suffix(".ipynb").exists():
        cells = json.loads(path.with_suffix(".ipynb").read_text())["cells"]
        return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.with_suffix(".md").read_text()


def title(root, docname):
    """The chapter's title, its one ``# `` heading."""
    return TITLE.search(_markdown(root, docname)).group(1).strip()


def builds_on(root, docname):
    """The docnames named by the chapter's "Builds on" line; ``None`` when it has no such line."""
    match = BUILDS_ON.search(_markdown(root, docname))
    if match is None:
        return None
    here = posixpath.dirname(docname)
    return [posixpath.normpath(posixpath.join(here, target.strip()))
            for target in DOC_ROLE.findall(match.group(1))]


def dependency_dot(root):
    """Graphviz source of the dependency figure: parts as clusters, "builds on" as arrows."""
    lines = ["digraph chapters {",
             '  graph [rankdir=TB, newrank=true, nodesep=0.3, ranksep=0.3, fontname="Helvetica", '
             'fontsize=15, bgcolor="white", margin=0.1];',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=14, '
             'margin="0.12,0.06", color="#444444"];',
             '  edge [color="#555555", arrowsize=0.7];']
    number = 0
    for i, (caption, docs) in enumerate(parts(root)):
        lines.append(f"  subgraph cluster_{i} {{")
        short = caption.split(".")[0]                      # "Part I"
        lines.append(f'    label="{short}"; labeljust=l; color="{EDGES[i % 5]}"; '
                     'style="rounded";')
        for doc in docs:
            number += 1
            words = f"{number}. {title(root, doc)}".replace('"', "'")
            label = "\\n".join(textwrap.wrap(words, 20))
            lines.append(f'    "{doc}" [label="{label}", fillcolor="{FILLS[i % 5]}"];')
        lines.append("  }")
    for doc in chapters(root):
        for target in builds_on(root, doc) or []:
            lines.append(f'  "{target}" -> "{doc}";')
    # stack the parts: an invisible edge from each part's last chapter to the next part's first
    blocks = [docs for _, docs in parts(root)]
    for before, after in zip(blocks, blocks[1:]):
        lines.append(f'  "{before[-1]}" -> "{after[0]}" [style=invis, weight=10];')
    lines.append("}")
    return "\n".join(lines)


class ChapterDependencies(Graphviz):
    """``chapter-dependencies``: the dependency figure, with the options of ``graphviz``."""

    required_arguments = 0
    optional_arguments = 0
    has_content = False

    def run(self):
        root = Path(self.env.app.confdir)
        for doc in chapters(root):
            for ext in (".ipynb", ".md"):
                if (root / doc).with_suffix(ext).exists():
                    self.env.note_dependency(str((root / doc).with_suffix(ext)))
        self.arguments = []
        self.content = StringList(dependency_dot(root).splitlines(), source="_toc.yml")
        return super().run()


def setup(app):
    app.setup_extension("sphinx.ext.graphviz")
    app.add_directive("chapter-dependencies", ChapterDependencies)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
