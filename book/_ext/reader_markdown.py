"""Jupyter markdown from a chapter's resolved doctree (the reader notebooks' markdown).

``reader_notebooks`` calls :func:`render` on each chapter at Sphinx's
``doctree-resolved`` event of the HTML build: references already read "Theorem 2.1" or
"(2.1)", citations are the text sphinxcontrib-bibtex made, ``{only}`` is decided,
substitutions are replaced and glossaries, definition lists and index entries are nodes.
The one thing the HTML translator adds later, when it writes a page, is the numbers of
sections, figures, tables, theorems, exercises and equations; :class:`BookData` reads
them from the same tables it uses (``env.toc_secnumbers``, ``env.toc_fignumbers``).

Every node type has a rendering below (``_block_<type>`` for blocks, ``_inline_<type>``
for text inside a paragraph), chosen by the exact class name: a node type without one,
including one that a new directive or extension brings, raises :class:`UnknownNode`. A
theorem, definition, ... is a bold numbered heading and its text, a proof "*Proof.*" and
its text closed by a square, an admonition a block quote, an exercise a bold numbered
heading, a solution a closed ``<details>`` element, a glossary or definition list
bullets with the terms in bold, a figure its image and numbered caption, a table a pipe
table under its numbered caption, a reference plain text inside the chapter and a link
to the page elsewhere, a citation its text (the chapter's references are listed at its
end), index entries and targets nothing.

MyST-NB gives every block the line ``(cell index + 1) * 10000 + line in the cell`` and
marks each code cell with a container carrying its ``cell_index``: :func:`render`
returns the markdown of each markdown cell by its index, and the caption of each code
cell whose output is a numbered figure. Code cells themselves are taken verbatim from
the ``.ipynb``.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from docutils import nodes

CELL_LINES = 10000  # MyST-NB: line = (cell index + 1) * CELL_LINES + line in the cell

ADMONITION_TITLES = {
    "note": "Note", "warning": "Warning", "important": "Important", "tip": "Tip",
    "hint": "Hint", "caution": "Caution", "attention": "Attention", "danger": "Danger",
    "error": "Error", "seealso": "See also",
}
PROOF_NODES = {  # sphinx-proof's numbered node types (one per counter), and its others
    "axiom_node", "theorem_node", "lemma_node", "algorithm_node", "definition_node",
    "remark_node", "conjecture_node", "corollary_node", "criterion_node",
    "example_node", "property_node", "observation_node", "proposition_node",
    "assumption_node", "notation_node", "unenumerable_node"}
# myst-parser's classes for a column's alignment
ALIGN = {"text-left": ":---", "text-right": "---:", "text-center": ":---:"}
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class UnknownNode(ValueError):
    """A node type (or a form of one) that has no reader-notebook rendering."""


@dataclass
class BookData:
    """What the HTML translator adds when it writes a page: numbers and link targets.

    ``secnumbers``: docname -> {"#anchor" (or "" for the page's title): "2.1"};
    ``fignumbers``: docname -> {figtype: {node id: "2.1"}}; ``figtype``: the std
    domain's ``get_enumerable_node_type`` (node -> figtype or None).
    """

    pages_url: str
    secnumbers: dict = field(default_factory=dict)
    fignumbers: dict = field(default_factory=dict)
    numfig_format: dict = field(default_factory=dict)
    figtype: object = None
    math_numsep: str | None = "."  # None: equations numbered per page (no math_numfig)

    @classmethod
    def from_env(cls, env, pages_url):
        std = env.get_domain("std")
        return cls(
            pages_url=pages_url,
            secnumbers={doc: {a: ".".join(map(str, n)) for a, n in nums.items()}
                        for doc, nums in env.toc_secnumbers.items()},
            fignumbers={doc: {t: {i: ".".join(map(str, n)) for i, n in ids.items()}
                              for t, ids in types.items()}
                        for doc, types in env.toc_fignumbers.items()},
            numfig_format=dict(env.config.numfig_format or {}),
            figtype=std.get_enumerable_node_type,
            math_numsep=(env.config.math_numsep
                         if env.config.math_numfig and env.config.numfig else None),
        )

    def number(self, doc, figtype, node_id):
        return self.fignumbers.get(doc, {}).get(figtype, {}).get(node_id, "")


@dataclass
class Rendered:
    """A chapter's markdown cells by notebook cell index, the captions to put after code
    cells, and the bibliography entries it cites (``(docname, citation id)``, in order
    of first citation)."""

    markdown: dict = field(default_factory=dict)
    captions: dict = field(default_factory=dict)
    cited: list = field(default_factory=list)


def _escape(text, table=False):
    """Plain text as markdown that Jupyter shows as that text (in a table cell, when
    ``table``)."""
    text = text.replace("\\", "\\\\")
    text = re.sub(r"([*`$|])" if table else r"([*`$])", r"\\\1", text)
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    # what would open an HTML tag
    text = re.sub(r"<(?=[A-Za-z][A-Za-z0-9-]*[\s/>]|[/!?])", "&lt;", text)
    return text


def _indent(text, first, rest):
    lines = text.split("\n")
    out = [first + lines[0] if lines[0] else first.rstrip()]
    out += [rest + ln if ln.strip() else "" for ln in lines[1:]]
    return "\n".join(out)


def _quote(text):
    return "\n".join(f"> {ln}" if ln.strip() else ">" for ln in text.split("\n"))


def _fence(text, info=""):
    runs = [len(r) for r in re.findall(r"`{3,}", text)]
    ticks = "`" * max(3, max(runs, default=0) + 1)
    return f"{ticks}{info}\n{text}\n{ticks}"


def _is_running_text(line):
    s = line.strip()
    return bool(s) and not re.match(r"^(\$\$|[-*+>|<#]|\d+[.)]\s|`{3}|~{3}|!\[)", s)


def display_math(body, number="", nowrap=False):
    """``$$ ... $$`` as Sphinx's MathJax output has it (parts, split), with its number
    (an amsmath environment, ``nowrap``, as it is, the number inside it)."""
    tex = body.strip("\n")
    if nowrap:
        if number:
            end = tex.rfind("\\end{")
            if end < 0:
                raise UnknownNode(f"a numbered display without an environment: {tex!r}")
            tex = f"{tex[:end].rstrip()} \\tag{{{number}}}\n{tex[end:]}"
        return f"$$\n{tex}\n$$"
    parts = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    wrapped = [rf"\begin{{split}}{p}\end{{split}}" if r"\\" in p else p for p in parts]
    tex = (r"\begin{aligned}" + r"\\".join(wrapped) + r"\end{aligned}"
           if len(wrapped) > 1 else (wrapped[0] if wrapped else ""))
    if number:
        tex += rf" \tag{{{number}}}"
    return f"$$\n{tex}\n$$"


class Renderer:
    """Markdown of one chapter's resolved doctree."""

    def __init__(self, numbers: BookData, docname: str):
        self.numbers = numbers
        self.doc = docname
        self.rendered = Rendered()

    # --- the page, cell by cell -------------------------------------------------------
    def render(self, doctree) -> Rendered:
        self._cell = 0
        self._table = False  # inside a table cell: "|" escaped
        self._citing = False  # inside a citation (sphinxcontrib-bibtex's text)
        self._walk(doctree.children, 0)
        return self.rendered

    def _cell_of(self, node):
        for n in node.findall(nodes.Element):
            if n.line:
                cell = n.line // CELL_LINES - 1
                if cell < self._cell:  # blocks come in the notebook's order
                    raise UnknownNode(f"{self.doc}: a block of cell {cell} after cell "
                                      f"{self._cell} (line {n.line})")
                self._cell = cell
                return cell
        return self._cell

    def _add(self, cell, text):
        if text.strip():
            md = self.rendered.markdown
            md[cell] = md[cell] + "\n\n" + text if cell in md else text

    def _walk(self, children, level):
        for node in children:
            if type(node) is nodes.section:
                title = node.children[0]
                if not isinstance(title, nodes.title):
                    raise UnknownNode(f"{self.doc}: a section without a title")
                self._add(self._cell_of(title), self._heading(node, title, level + 1))
                self._walk(node.children[1:], level + 1)
            elif (isinstance(node, nodes.container)
                  and node.get("nb_element") == "cell_code"):
                index = int(node["cell_index"])
                self._cell = max(self._cell, index)
                captions = [self._figure_caption(f) for f in node.findall(nodes.figure)]
                captions = [c for c in captions if c]
                if captions:
                    self.rendered.captions[index] = "\n\n".join(captions)
            else:
                self._add(self._cell_of(node), self.block(node))

    def _heading(self, section, title, level):
        anchors = self.numbers.secnumbers.get(self.doc, {})
        anchor = "#" + section["ids"][0] if section["ids"] else ""
        if anchor not in anchors:
            anchor = ""  # the page's title has no anchor
        num = anchors.get(anchor, "")
        text = self.inlines(title)
        return "#" * min(level, 6) + " " + (f"{num}. {text}" if num else text)

    # --- dispatch ---------------------------------------------------------------------
    def block(self, node):
        name = type(node).__name__
        if name in PROOF_NODES:
            return self._proof_like(node)
        method = getattr(self, f"_block_{name}", None)
        if method is None:
            raise UnknownNode(
                f"{self.doc}: node <{name}> (line {node.line}) has no reader-notebook "
                "rendering (add one to book/_ext/reader_markdown.py)")
        return method(node)

    def blocks(self, parent, start=0):
        parts = [self.block(c) for c in parent.children[start:]]
        return "\n\n".join(p for p in parts if p.strip())

    def inline(self, node):
        if isinstance(node, nodes.Text):
            return _escape(node.astext(), self._table)
        name = type(node).__name__
        method = getattr(self, f"_inline_{name}", None)
        if method is None:
            raise UnknownNode(
                f"{self.doc}: inline node <{name}> (line {node.line}) has no "
                "reader-notebook rendering (add one to book/_ext/reader_markdown.py)")
        return method(node)

    def inlines(self, parent):
        return "".join(self.inline(c) for c in parent.children)

    # --- blocks -----------------------------------------------------------------------
    def _block_paragraph(self, node):
        return self.inlines(node)

    def _block_compound(self, node):
        return self.blocks(node)

    def _block_container(self, node):
        if node.get("nb_element"):
            raise UnknownNode(f"{self.doc}: a MyST-NB {node['nb_element']} element "
                              f"(line {node.line}) inside a block")
        if node.get("literal_block"):  # a code block with a caption (a listing)
            return "\n\n".join(self._caption(node, c) if isinstance(c, nodes.caption)
                                 else self.block(c) for c in node.children)
        return self.blocks(node)  # a {div}: its content

    def _block_dropdown_main(self, node):
        """sphinx-design's dropdown (its HTML form): ``<details>`` with its title; the
        icons and the state marker are left out."""
        title = ""
        for child in node.children:
            if type(child).__name__ == "dropdown_title":
                texts = [c for c in child.children if isinstance(c, nodes.inline)
                         and "sd-summary-text" in c["classes"]]
                if len(texts) != 1:
                    raise UnknownNode(f"{self.doc}: a dropdown title of another form")
                if not any(isinstance(c, nodes.raw) for c in texts[0].children):
                    title = self.inlines(texts[0]).strip()  # no title: an icon only
        inner = "\n\n".join(p for p in (self.block(c) for c in node.children
                                         if type(c).__name__ != "dropdown_title")
                             if p.strip())
        tag = "<details open>" if node.get("opened") else "<details>"
        head = f"{tag}<summary>{title}</summary>" if title else tag
        return f"{head}\n\n{inner}\n\n</details>"

    def _block_bullet_list(self, node):
        bullet = node.get("bullet", "-")
        items = [_indent(self.blocks(item), f"{bullet} ", "  ")
                 for item in node.children]
        return self._join_items(node, items)

    def _block_enumerated_list(self, node):
        start, suffix = node.get("start", 1), node.get("suffix", ".")
        items = []
        for k, item in enumerate(node.children):
            marker = f"{start + k}{suffix} "
            items.append(_indent(self.blocks(item), marker, " " * len(marker)))
        return self._join_items(node, items)

    @staticmethod
    def _join_items(node, items):
        tight = all(len(item.children) <= 1 for item in node.children)
        return ("\n" if tight else "\n\n").join(items)

    def _block_literal_block(self, node):
        lang = node.get("language", "")
        lang = "" if lang in ("default", "none", "text") else lang
        return _fence(node.astext().rstrip("\n"), lang)

    def _block_math_block(self, node):
        num = ""
        if node.get("number"):  # as sphinx.util.math.get_node_equation_number
            if self.numbers.math_numsep is None:  # math_numfig off: the page's count
                num = str(node["number"])
            else:
                num = self.numbers.number(self.doc, "displaymath", node["ids"][0])
                num = self.numbers.math_numsep.join(num.rsplit(".", 1))
        return display_math(node.astext(), num, node.get("nowrap", False))

    def _block_block_quote(self, node):
        return _quote(self.blocks(node))

    def _block_attribution(self, node):
        return "— " + self.inlines(node)

    def _admonition(self, node, title):
        inner = self.blocks(node, 1 if node.children and isinstance(
            node[0], nodes.title) else 0)
        head = f"**{title}**\n\n" if title else ""
        return _quote(head + inner)

    def _block_admonition(self, node):
        if "proof" in node["classes"] and isinstance(node.parent, nodes.Element) \
                and type(node.parent).__name__ == "proof_node":
            return self._proof(node)
        title = self.inlines(node[0]) if node.children and isinstance(
            node[0], nodes.title) else ""
        return self._admonition(node, title)

    def _named_admonition(self, node):  # _block_note, _block_warning, ... (below)
        return self._admonition(node, ADMONITION_TITLES[type(node).__name__])

    def _block_topic(self, node):
        return self._block_admonition(node)

    def _block_sidebar(self, node):
        return self._block_admonition(node)

    def _block_figure(self, node):
        parts = []
        for child in node.children:
            if isinstance(child, nodes.caption):
                parts.append(self._caption(node, child))
            elif isinstance(child, nodes.legend):
                parts.append(self.blocks(child))
            else:
                parts.append(self.block(child))
        return "\n\n".join(p for p in parts if p.strip())

    def _caption(self, node, caption):
        text = self.inlines(caption)
        figtype = self.numbers.figtype(node) if self.numbers.figtype else None
        num = self.numbers.number(self.doc, figtype, node["ids"][0]) \
            if figtype and node["ids"] else ""
        if num:
            fmt = self.numbers.numfig_format.get(figtype, figtype.title() + " %s")
            return f"*{fmt % num}:* {text}".rstrip()
        return text

    def _figure_caption(self, figure):
        captions = [c for c in figure.children if isinstance(c, nodes.caption)]
        return self._caption(figure, captions[0]) if captions else ""

    def _block_image(self, node):
        return self._inline_image(node)

    def _block_table(self, node):
        head, rows = "", []
        for child in node.children:
            if isinstance(child, nodes.title):
                head = self._caption(node, child)
            elif isinstance(child, nodes.tgroup):
                rows = self._table_rows(child)
            else:
                raise UnknownNode(f"{self.doc}: <{type(child).__name__}> in a table")
        return (head + "\n\n" if head else "") + "\n".join(rows)

    def _table_rows(self, tgroup):
        out, header = [], None
        for part in tgroup.children:
            if isinstance(part, nodes.colspec):
                continue
            if not isinstance(part, (nodes.thead, nodes.tbody)):
                raise UnknownNode(f"{self.doc}: <{type(part).__name__}> in a table")
            for row in part.children:
                cells = []
                for entry in row.children:
                    if entry.get("morecols") or entry.get("morerows"):
                        raise UnknownNode(f"{self.doc}: a table cell spanning cells")
                    self._table = True
                    try:
                        cells.append(self.blocks(entry).replace("\n", " "))
                    finally:
                        self._table = False
                line = "| " + " | ".join(cells) + " |"
                if header is None:
                    header = len(cells)
                    aligns = [next((ALIGN[c] for c in entry["classes"] if c in ALIGN),
                                   "---") for entry in row.children]
                    out += [line, "|" + "|".join(aligns) + "|"]
                    if isinstance(part, nodes.tbody):  # no header row: an empty one
                        out[-2] = "| " + " | ".join([" "] * len(cells)) + " |"
                        out.append(line)
                else:
                    out.append(line)
        return out

    def _block_glossary(self, node):
        return self.blocks(node)

    def _block_definition_list(self, node):
        entries = []
        for item in node.children:
            terms = [self.inlines(t) for t in item.children
                     if isinstance(t, nodes.term)]
            defs = [self.blocks(d) for d in item.children
                    if isinstance(d, nodes.definition)]
            known = (nodes.term, nodes.definition, nodes.classifier)
            others = [c for c in item.children if not isinstance(c, known)]
            if others:
                raise UnknownNode(f"{self.doc}: <{type(others[0]).__name__}> in a "
                                  "definition list")
            entries.append(self._definition_entry(terms, defs))
        return "\n".join(entries)

    @staticmethod
    def _definition_entry(terms, definitions):
        """A glossary or definition-list entry as a bullet: the terms in bold, then each
        definition (a paragraph after the colon, a block under it)."""
        head = "- " + "; ".join(f"**{t}**" for t in terms)
        out = []
        for n, text in enumerate(definitions):
            lines = text.split("\n")
            if n == 0 and lines and _is_running_text(lines[0]):
                out.append(f"{head}: {lines[0]}")
                lines = lines[1:]
            elif n == 0:
                out += [head, ""]
            else:
                out.append("")
            out += [f"  {ln}" if ln.strip() else "" for ln in lines]
        return "\n".join(out or [head])

    def _block_rubric(self, node):
        return f"**{self.inlines(node)}**"

    def _block_transition(self, node):
        return "---"

    def _block_raw(self, node):
        if node.line is None:  # not the chapter's: an extension's (sphinx-thebe's)
            return ""
        return node.astext() if "html" in node.get("format", "").split() else ""

    def _nothing(self, node):
        return ""

    _block_target = _block_index = _block_comment = _nothing
    _block_substitution_definition = _nothing

    # sphinx-proof
    def _proof_like(self, node):
        realtype = node.get("realtype", "")
        name = realtype.title()
        num = ""
        if type(node).__name__ != "unenumerable_node":
            num = self.numbers.number(self.doc, node["countertype"], node["ids"][0])
            if not num:
                raise UnknownNode(f"{self.doc}: {realtype} {node['ids'][0]!r} has no "
                                  "number")
        title, content = node.children[0], node.children[1:]
        head = f"**{name} {num}**" if num else f"**{name}**"
        extra = self.inlines(title).strip()
        if extra:
            head += f" {extra}"
        inner = "\n\n".join(p for p in (self.blocks(c) for c in content) if p.strip())
        return f"{head}\n\n{inner}" if inner else head

    def _block_proof_node(self, node):
        return self.blocks(node)

    def _proof(self, admonition):
        """*Proof.* and the text, closed by a square (as sphinx-proof's HTML)."""
        body = self.blocks(admonition)  # sphinx-proof put "Proof. " before the text
        if body.startswith("Proof. "):
            body = "*Proof.* " + body[len("Proof. "):]
        elif body.startswith("Proof."):
            body = "*Proof.*" + body[len("Proof."):]
        else:
            body = "*Proof.*\n\n" + body
        last = body.split("\n")[-1]
        if _is_running_text(last) and last != "*Proof.*":
            return body + r" $\square$"
        return body + "\n\n" + r"$\square$"

    # sphinx-exercise
    def _block_exercise_enumerable_node(self, node):
        num = self.numbers.number(self.doc, "exercise", node["ids"][0])
        return self._exercise(node, f"**Exercise {num}**" if num else "**Exercise**")

    def _block_exercise_node(self, node):
        return self._exercise(node, "**Exercise**")

    def _exercise(self, node, head):
        title = node.children[0]
        if not isinstance(title, nodes.title):
            raise UnknownNode(f"{self.doc}: an exercise without its title")
        extra = self.inlines(title).strip()  # " (its argument)"
        if extra:
            head += f" {extra}"
        section = node.children[1:]
        inner = "\n\n".join(p for p in (self._exercise_body(c) for c in section)
                            if p.strip())
        return f"{head}\n\n{inner}" if inner else head

    def _exercise_body(self, node):
        if isinstance(node, nodes.section):
            return self.blocks(node)
        return self.block(node)

    def _block_solution_node(self, node):
        title = node.children[0]
        if not isinstance(title, nodes.title):
            raise UnknownNode(f"{self.doc}: a solution without its title")
        summary = self.inlines(title).strip()
        parts = (self._exercise_body(c) for c in node.children[1:])
        inner = "\n\n".join(p for p in parts if p.strip())
        return f"<details><summary>{summary}</summary>\n\n{inner}\n\n</details>"

    def _block_section(self, node):
        if node.get("ids") == ["proof-content"] or any(
                c.endswith("-content") for c in node["classes"]):
            return self.blocks(node)
        raise UnknownNode(f"{self.doc}: a section inside a block (line {node.line})")

    # --- inline -----------------------------------------------------------------------
    def _inline_emphasis(self, node):
        return f"*{self.inlines(node)}*"

    def _inline_strong(self, node):
        return f"**{self.inlines(node)}**"

    def _inline_literal(self, node):
        text = node.astext().replace("|", "\\|") if self._table else node.astext()
        ticks = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
        pad = " " if text.startswith("`") or text.endswith("`") else ""
        return f"{ticks}{pad}{text}{pad}{ticks}"

    _inline_literal_strong = _inline_literal_emphasis = _inline_literal

    def _inline_math(self, node):
        tex = node.astext()
        if self._table:  # a "|" would split the cell
            tex = tex.replace("|", r"\vert ")
        return f"${tex}$"

    def _inline_inline(self, node):
        if "bibtex-citation" not in node["classes"]:
            return self.inlines(node)
        self._citing = True  # its references: to the reference list
        try:
            return self.inlines(node)
        finally:
            self._citing = False

    def _inline_abbreviation(self, node):
        return self.inlines(node)

    def _inline_subscript(self, node):
        return f"<sub>{self.inlines(node)}</sub>"

    def _inline_superscript(self, node):
        return f"<sup>{self.inlines(node)}</sup>"

    def _inline_raw(self, node):
        return node.astext() if "html" in node.get("format", "").split() else ""

    def _inline_target(self, node):
        return self.inlines(node)

    def _inline_index(self, node):
        return ""

    def _inline_image(self, node):
        uri = node["uri"]
        if not SCHEME.match(uri):  # srcdir-relative: relative to the chapter's folder
            uri = posixpath.relpath(uri, posixpath.dirname(self.doc) or ".")
        return f"![{node.get('alt', '')}]({uri})"

    def _inline_reference(self, node):
        text = self.inlines(node)
        if "refid" in node:
            return text
        uri = node.get("refuri", "")
        if not uri or uri.startswith("#"):
            return text
        if SCHEME.match(uri):
            return uri if node.astext() == uri else f"[{text}]({uri})"
        path, _, anchor = uri.partition("#")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(self.doc), path))
        if target == f"{self.doc}.html":
            return text
        if self._citing:  # the text, as the page shows it; the entry at the end
            if not target.endswith(".html") or not anchor:
                raise UnknownNode(f"{self.doc}: a citation of {uri!r}")
            entry = (target[:-len(".html")], anchor)
            if entry not in self.rendered.cited:
                self.rendered.cited.append(entry)
            return text
        url = self.numbers.pages_url + target + (f"#{anchor}" if anchor else "")
        return f"[{text}]({url})"

    _inline_number_reference = _inline_reference

    def _inline_footnote_reference(self, node):
        return f"<sup>{self.inlines(node)}</sup>"


for _name in ADMONITION_TITLES:
    setattr(Renderer, f"_block_{_name}", Renderer._named_admonition)
del _name


def render(doctree, numbers: BookData, docname: str) -> Rendered:
    """The markdown of a chapter's resolved doctree, by notebook cell (see above)."""
    return Renderer(numbers, docname).render(doctree)


def bibliography(doctree, numbers: BookData, docname: str) -> dict:
    """The entries of the reference lists on a page, ``citation id -> (position,
    markdown)``, as the page shows them (the label left out)."""
    renderer = Renderer(numbers, docname)
    renderer._table = renderer._citing = False
    entries = {}
    for k, citation in enumerate(doctree.findall(nodes.citation)):
        start = 1 if citation.children and isinstance(citation[0], nodes.label) else 0
        text = " ".join(renderer.blocks(citation, start).split())
        for node_id in citation["ids"]:
            entries[node_id] = (k, text)
    return entries
