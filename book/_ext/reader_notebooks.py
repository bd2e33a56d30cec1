"""Reader notebooks: each chapter as a plain Jupyter notebook that renders without extensions.

The chapters are MyST notebooks: directives (theorems, proofs, exercises, admonitions, numbered
equations), roles (``{eq}``, ``{prf:ref}``, ``{cite:t}``, ``{py:obj}``, ...) and ``(label)=``
targets, which plain Jupyter, JupyterLab and Colab show as raw text. At the end of the HTML build
this extension writes, for every chapter, ``_build/notebooks/<path under book/>.ipynb``: the same
cells with their stored outputs, the markdown rewritten with what the HTML shows. Every number
(section, equation, theorem, exercise, figure) and every citation label is read from the build
environment, so the reader notebook and the web page agree:

- display math as ``$$ ... $$`` (numbered equations carry ``\\tag{2.1}``), ``{math}`` roles as ``$...$``;
- references as "Theorem 2.1", "(2.1)", "Exercise 2.3", "Fig. 2.1", section titles; a reference to
  another chapter links to its page in the HTML book;
- theorems, definitions, ... and exercises as a bold numbered heading and the text; proofs as
  "*Proof.*" and the text; admonitions (notes, warnings, errata) as block quotes;
- solutions inside a closed ``<details>`` element;
- citations as the HTML shows them ("le Cun (1989)", "(le Cun, 1989)"), the chapter's references
  listed at its end;
- API roles as links to the book's API pages;
- ``{only}`` blocks kept or left out as the HTML build resolves their expression;
- glossaries and definition lists as bullets, each term in bold before its definition;
  dropdowns as ``<details>`` with their title; ``{{ substitutions }}`` rendered as
  myst-parser renders them (Jinja2, the config's ``myst_substitutions`` and the page's
  own);
- index entries (``{index}`` directives) dropped on purpose, ``{index}`` roles as their
  text;
- cells tagged ``remove-cell`` or ``html-only`` dropped; every other cell kept, code and
  stored outputs unchanged; the notebook keeps its kernel and its ipywidgets state
  (``metadata.widgets``), so a stored widget shows without running its cell.

A cell tagged ``reader-only`` is in the reader notebook only: the extension tags it
``remove-cell`` as Sphinx reads the chapter, so MyST-NB leaves it out of the HTML and
the PDF (it still runs). With ``html-only`` on its static twin, a drivable figure is a
live widget in the notebook and a picture on the page. Such cells should hold no
numbered object (theorem, exercise, labelled equation): the build does not number what
it does not read.

Anything the converter has no rendering for fails loudly: a directive or role outside
its allowlist (``DIRECTIVES``, ``ROLES``), an unknown label, an undefined substitution,
and any MyST still in the converted markdown (``leftover_myst``: what the line-based
reader did not see). The HTML build reports it as a warning, which fails the ``-W``
build; nothing is written in silence.

The book's web address is derived from ``_config.yml``'s repository URL
(``https://github.com/<org>/<repo>`` is published at
``https://<org>.github.io/<repo>/``). The extension also makes the page's download
button serve the reader notebook (it replaces the copy of the source in ``_sources/``)
and points the Binder and Colab buttons at the reader notebooks published on the
repository's ``notebooks`` branch (``reader_notebooks_branch``).

Without a new build, ``python book/_ext/reader_notebooks.py [_build]`` regenerates the
reader notebooks from the environment that the last HTML build pickled (``make
notebooks``).

The mechanism is a rewriter of the chapters' MyST source, numbered from the build
environment. QuantEcon's ``sphinx-tojupyter`` is a builder of its own (a second full
Sphinx run, with its own conventions for exercises, citations and links), but a
``doctree-resolved`` handler inside this HTML build would see every number, reference
and citation already resolved, ``{only}`` already decided, and glossary and index
entries as nodes. That is the better mechanism: the rewriter numbers unlabelled theorems
and exercises by their position, which holds only while it reads the source as Sphinx
does.
"""

from __future__ import annotations

import copy
import json
import posixpath
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

BOOK_DIR = "book"  # chapters live under book/; reader notebooks mirror that tree
DEFAULT_BRANCH = "notebooks"

ADMONITIONS = {
    "note": "Note", "warning": "Warning", "important": "Important", "tip": "Tip",
    "hint": "Hint", "caution": "Caution", "attention": "Attention", "danger": "Danger",
    "error": "Error", "seealso": "See also", "margin": "", "sidebar": "", "epigraph": "",
    "topic": "", "admonition": "",
}
PROOF_TYPES = {"theorem", "lemma", "definition", "proposition", "corollary", "remark",
               "conjecture", "example", "property", "observation", "criterion",
               "assumption", "axiom", "notation", "algorithm"}
# markup only: the content is kept
CONTAINERS = {"div", "container", "cssclass", "rst-class"}
# index entries have no place in a notebook: dropped on purpose
DROPPED = {"bibliography", "toctree", "tableofcontents", "contents", "index"}
# Every directive the converter renders; any other is an error (a warning: -W fails).
DIRECTIVES = ({"math", "prf:proof", "exercise", "solution", "exercise-start",
               "exercise-end", "solution-start", "solution-end", "figure", "figure-md",
               "image", "code-block", "code", "sourcecode", "raw", "table", "only",
               "glossary", "dropdown"}
              | {f"prf:{t}" for t in PROOF_TYPES} | set(ADMONITIONS) | CONTAINERS
              | DROPPED)
PY_ROLES = {"py:obj", "py:func", "py:class", "py:mod", "py:meth", "py:attr", "py:data",
            "py:exc", "py:const", "py:function", "py:method", "py:module", "py:attribute",
            "obj", "func", "class", "mod", "meth", "attr", "data", "exc", "const"}
LITERAL_ROLES = {"code", "literal", "file", "command", "kbd", "samp", "envvar",
                 "program"}
# Every role the converter renders (and the ``cite:`` family); any other is an error.
ROLES = (PY_ROLES | LITERAL_ROLES
         | {"math", "eq", "prf:ref", "numref", "ref", "doc", "cite", "sup", "sub",
            "abbr", "download", "term", "index", "emphasis", "strong", "subscript",
            "superscript"})
# The tags an ``{only}`` expression sees in the HTML build (Sphinx's Builder adds them).
HTML_TAGS = ("html", "format_html", "builder_html")
# Cell tags: a cell only in the HTML and PDF, or only in the reader notebook.
HTML_ONLY, READER_ONLY = "html-only", "reader-only"


# ------------------------------------------------------------------------------------------
# What the HTML shows, as plain data (built from the Sphinx environment, or by hand in tests)
# ------------------------------------------------------------------------------------------

@dataclass
class BookData:
    """Numbers, titles and link targets of the built book.

    Numbers are strings as the HTML prints them ("2.1"); labels map to ``(docname, ...)``.
    """

    pages_url: str                                   # https://<org>.github.io/<repo>/
    titles: dict = field(default_factory=dict)       # docname -> title
    secnumbers: dict = field(default_factory=dict)   # docname -> [(anchor, "2.1"), ...] in order
    equations: dict = field(default_factory=dict)    # label -> (docname, "2.1")
    proofs: dict = field(default_factory=dict)       # label -> (docname, realtype, "2.1" or "")
    proof_order: dict = field(default_factory=dict)  # docname -> [label, ...] in source order
    exercises: dict = field(default_factory=dict)    # label -> (docname, "2.1" or "")
    exercise_order: dict = field(default_factory=dict)  # docname -> [label, ...]
    figures: dict = field(default_factory=dict)      # label -> (docname, figtype, "2.1")
    labels: dict = field(default_factory=dict)       # label -> (docname, anchor, title)
    py_objects: dict = field(default_factory=dict)   # dotted name -> (docname, anchor)
    numfig_format: dict = field(default_factory=dict)
    substitutions: dict = field(default_factory=dict)  # the config's myst_substitutions
    tags: tuple = HTML_TAGS                          # what {only} expressions see
    cite: Callable | None = None       # (role, target, docname) -> text as the HTML shows it
    bib_entry: Callable | None = None  # key -> markdown of the reference list entry

    def figure(self, label):
        """(docname, figtype, number) of a figure, table or listing label, or None."""
        if not label:
            return None
        return self.figures.get(label) or self.figures.get(label.lower())

    def page(self, docname, anchor=""):
        return f"{self.pages_url}{docname}.html" + (f"#{anchor}" if anchor else "")

    def _read_doctree(self, doc, doctree, number):
        """Equations, theorems (sphinx-proof) and exercises (sphinx-exercise) of one
        page, numbered by ``number(doc, figtype, node_id)`` (unnumbered ones get "")."""
        from docutils import nodes

        for node in doctree.findall(nodes.Element):
            label = node.get("label")
            if not label:
                continue
            if isinstance(node, nodes.math_block) and node["ids"]:
                num = number(doc, "displaymath", node["ids"][0])
                self.equations[label] = (doc, num)
            elif "realtype" in node and "countertype" in node:  # sphinx-proof's
                num = number(doc, node["countertype"], label)
                self.proofs[label] = (doc, node["realtype"], num)
                self.proof_order.setdefault(doc, []).append(label)
            elif node.get("type") == "exercise" and node.get("docname") == doc:
                self.exercises[label] = (doc, number(doc, "exercise", label))
                self.exercise_order.setdefault(doc, []).append(label)

    @classmethod
    def from_env(cls, env, reference_style=None):
        """Read everything from a Sphinx ``BuildEnvironment`` after an HTML build.

        ``reference_style`` is sphinxcontrib-bibtex's referencing style object (the cite
        domain's); without it the style named by ``bibtex_reference_style`` is instantiated.
        Equations, theorems and exercises are read from each page's doctree (the nodes
        carry their labels and kinds), in the order the build parsed them.
        """
        config = env.config
        theme = getattr(config, "html_theme_options", {}) or {}
        repo_url = theme.get("repository_url") or _repo_url_from_config(Path(env.srcdir))
        data = cls(pages_url=pages_url(repo_url, getattr(config, "html_baseurl", "")))
        data.numfig_format = dict(config.numfig_format or {})
        data.substitutions = dict(getattr(config, "myst_substitutions", None) or {})
        data.titles = {doc: node.astext() for doc, node in env.titles.items()}
        data.secnumbers = {doc: [(a, ".".join(map(str, n))) for a, n in nums.items()]
                           for doc, nums in env.toc_secnumbers.items()}
        fignums = env.toc_fignumbers

        def number(doc, figtype, node_id):
            ids = fignums.get(doc, {}).get(figtype, {})
            n = ids.get(node_id) or ids.get(node_id.lower())  # docutils ids are lower case
            return ".".join(map(str, n)) if n else ""

        for doc in sorted(env.all_docs):
            data._read_doctree(doc, env.get_doctree(doc), number)
        for doc, types in fignums.items():
            for figtype, ids in types.items():
                if figtype in ("figure", "table", "code-block"):
                    for node_id, n in ids.items():
                        data.figures[node_id] = (doc, figtype, ".".join(map(str, n)))
        for label, (doc, anchor, title) in env.domaindata["std"]["labels"].items():
            data.labels[label] = (doc, anchor, str(title))
        for name, entry in env.domaindata["py"]["objects"].items():
            data.py_objects[name] = (entry[0], entry[1])
        if "cite" in env.domaindata:
            data.cite, data.bib_entry = _citation_formatters(env, reference_style)
        return data


GITHUB = re.compile(r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?")  # org, repo


def pages_url(repo_url, baseurl=""):
    """The GitHub Pages address of a repository (or ``html_baseurl`` when it is set)."""
    if baseurl:
        return baseurl.rstrip("/") + "/"
    m = GITHUB.fullmatch(repo_url or "")
    if not m:
        raise ValueError(f"`repository.url` must be a GitHub repository URL, got {repo_url!r}")
    return f"https://{m.group(1).lower()}.github.io/{m.group(2)}/"


def _repo_url_from_config(root):
    import yaml

    cfg = yaml.safe_load((Path(root) / "_config.yml").read_text())
    return cfg["repository"]["url"]


class _RelativeBuilder:
    """Enough of a builder for sphinxcontrib-bibtex's reference nodes (only their text is used)."""

    name = "html"

    def get_relative_uri(self, fromdocname, todocname):
        return ""


def _citation_formatters(env, style=None):
    """Citation labels and reference-list entries formatted by sphinxcontrib-bibtex's own style."""
    import pybtex.plugin
    import pybtex_docutils
    from sphinxcontrib.bibtex.plugin import find_plugin
    from sphinxcontrib.bibtex.citation_target import parse_citation_targets
    from sphinxcontrib.bibtex.domain import SphinxReferenceInfo
    from sphinxcontrib.bibtex.style.referencing import format_references

    if style is None:
        style = find_plugin("sphinxcontrib.bibtex.style.referencing",
                            env.config.bibtex_reference_style)()
    citations, position = {}, {}
    for cit in env.domaindata["cite"]["citations"]:
        citations.setdefault(cit.key, cit)
        position.setdefault(cit.key, len(position))
    backend = pybtex_docutils.Backend()
    markdown = pybtex.plugin.find_plugin("pybtex.backends", "markdown")()

    def cite(role, target, docname):
        refs = []  # in the bibliography's order, as the cite domain resolves them
        for tgt in sorted(parse_citation_targets(target), key=lambda t: position.get(t.key, -1)):
            cit = citations.get(tgt.key)
            if cit is None:
                raise KeyError(f"unknown citation key {tgt.key!r} in {docname}")
            info = SphinxReferenceInfo(builder=_RelativeBuilder(), fromdocname=docname,
                                       todocname=cit.bibliography_key.docname,
                                       citation_id=cit.citation_id, title=None,
                                       pre_text=tgt.pre, post_text=tgt.post)
            refs.append((cit.entry, cit.formatted_entry, info))
        nodes = format_references(style, role, refs).render(backend)
        return "".join(n.astext() for n in nodes)

    def bib_entry(key):
        return " ".join(citations[key].formatted_entry.text.render(markdown).split())

    return cite, bib_entry


# ------------------------------------------------------------------------------------------
# Markdown conversion
# ------------------------------------------------------------------------------------------

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,}|:{3,})\s*(?P<info>.*?)\s*$")
AMSMATH = re.compile(r"^\s*\\begin\{((?:equation|multline|gather|align|alignat|flalign|eqnarray)"
                     r"\*?)\}")
TARGET = re.compile(r"^\s*\(([^()\s]+)\)=\s*$")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
DOLLAR_BLOCK = re.compile(r"^\$\$(?P<body>.*?)\$\$\s*(?:\((?P<label>[^()\s]+)\))?\s*$", re.S)
INLINE = re.compile(
    r"(?P<role>\{(?P<name>[A-Za-z][\w:+.-]*)\}(?P<tick>`+)(?P<content>.+?)(?P=tick))"
    r"|(?P<code>(?P<ct>`+).+?(?P=ct))"
    r"|(?P<sub>\{\{(?P<expr>.+?)\}\})"
    r"|(?P<dmath>\$\$.+?\$\$)"
    r"|(?P<math>(?<![\\$])\$(?=\S).+?(?<![\s\\])\$)",
    re.S,
)
BLOCK_SUB = re.compile(r"^\s*\{\{(?P<expr>.+?)\}\}\s*$")
DEFINITION = re.compile(r"^(?P<indent> {0,3})[:~](?P<gap> +)(?P<text>\S.*)$")
TITLED = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


def _dollar_block(text):
    """A display-math block ``$$ ... $$`` (optionally ``(label)``), not two inline ones."""
    m = DOLLAR_BLOCK.match(text)
    return m if m and "$$" not in m.group("body") else None


ROLE_START = re.compile(r"\{[A-Za-z][\w:+.-]*\}`")


def _unclosed_role(text):
    """Whether ``text`` opens a role whose closing backticks are not in it."""
    return bool(ROLE_START.search(INLINE.sub("", text)))


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


def _definition_entry(terms, definitions):
    """A glossary or definition-list entry as a bullet: the terms in bold, then each
    definition (a paragraph after the colon, a block under it, indented into the
    item)."""
    head = "- " + "; ".join(f"**{t}**" for t in terms)
    out = []
    for n, text in enumerate(definitions):
        lines = text.split("\n")
        if n == 0 and lines and _is_paragraph(lines[0]):
            out.append(f"{head}: {lines[0]}")
            lines = lines[1:]
        elif n == 0:
            out += [head, ""]
        else:
            out.append("")
        out += [f"  {ln}" if ln.strip() else "" for ln in lines]
    return (out or [head]) + [""]


def _is_paragraph(line):
    """Whether a markdown line is running text (so a word may be put before or after it)."""
    s = line.strip()
    return bool(s) and not re.match(r"^(\$\$|[-*+>|<#]|\d+[.)]\s|`{3}|~{3}|!\[)", s)


def _slug(text):
    """The anchor docutils gives a section with this title."""
    from docutils.nodes import make_id

    plain = re.sub(r"\[([^]]*)\]\([^)]*\)", r"\1", text)
    return make_id(re.sub(r"[`*_$\\]", "", plain))


class ConversionError(ValueError):
    """A reference the build does not know: the reader notebook would be wrong."""


@dataclass
class _State:
    docname: str
    proof_index: int = 0
    exercise_index: int = 0
    heading_index: int = 0
    cited: list = field(default_factory=list)


class Converter:
    """Rewrite one chapter's MyST markdown as plain Jupyter markdown."""

    def __init__(self, data: BookData, docname: str, substitutions=None):
        self.data = data
        self.state = _State(docname)
        self.sections = data.secnumbers.get(docname, [])
        # the page's substitutions take priority over the config's (as in myst-parser)
        self.substitutions = {**data.substitutions, **(substitutions or {})}
        self._depth = 0  # of substitutions inside substitutions

    # --- helpers -----------------------------------------------------------------------------
    @property
    def doc(self):
        return self.state.docname

    def _link(self, text, docname, anchor=""):
        """Text for a reference: plain inside this chapter, a link to the page elsewhere."""
        if docname == self.doc:
            return text
        return f"[{text}]({self.data.page(docname, anchor)})"

    def _resolve_doc(self, target):
        target = target.strip()
        if target.startswith("/"):
            return posixpath.normpath(target.lstrip("/"))
        return posixpath.normpath(posixpath.join(posixpath.dirname(self.doc), target))

    # --- inline ------------------------------------------------------------------------------
    def inline(self, text):
        out, pos = [], 0
        for m in INLINE.finditer(text):
            out.append(text[pos:m.start()])
            if m.group("role"):
                out.append(self.role(m.group("name"), m.group("content")))
            elif m.group("sub"):
                out.append(self.substitute(m.group("expr"), inline=True))
            else:
                out.append(m.group(0))
            pos = m.end()
        out.append(text[pos:])
        return "".join(out)

    def substitute(self, expr, inline):
        """A ``{{ expression }}`` rendered as myst-parser does it (Jinja2, undefined
        names an error), then converted like any other markdown."""
        import jinja2

        if self._depth > 10:
            raise ConversionError(
                f"{self.doc}: substitutions nested too deep at {expr!r}")
        env = jinja2.Environment(undefined=jinja2.StrictUndefined)
        try:
            text = env.from_string("{{" + expr + "}}").render(self.substitutions)
        except Exception as err:  # what myst-parser reports as a substitution warning
            raise ConversionError(
                f"{self.doc}: substitution {{{{{expr}}}}}: {err}") from None
        self._depth += 1
        try:
            return self.inline(text) if inline else self.markdown(text, top=False)
        finally:
            self._depth -= 1

    def role(self, name, content):
        if name not in ROLES and not name.startswith("cite:"):
            raise ConversionError(
                f"{self.doc}: role {{{name}}} has no reader-notebook rendering (add "
                "one to book/_ext/reader_notebooks.py, or write the text without it)")
        title, target = None, content.strip()
        m = TITLED.match(content.strip())
        if m and name != "math" and name != "cite" and not name.startswith("cite:"):
            title, target = m.group("title").strip(), m.group("target").strip()
        d = self.data
        if name == "math":
            return f"${content}$"
        if name == "eq":
            if target not in d.equations:
                raise ConversionError(f"{self.doc}: unknown equation label {target!r}")
            doc, num = d.equations[target]
            if not num:
                raise ConversionError(f"{self.doc}: equation {target!r} has no number")
            return self._link(title or f"({num})", doc, f"equation-{target}")
        if name == "prf:ref":
            return self._ref_number(target, title, numref=False)
        if name == "numref":
            return self._ref_number(target, title, numref=True)
        if name == "ref":
            return self._ref(target, title)
        if name == "doc":
            docname = self._resolve_doc(target)
            if title is None:
                if docname not in d.titles:
                    raise ConversionError(f"{self.doc}: unknown document {target!r}")
                title = d.titles[docname]
            return self._link(title, docname)
        if name == "cite" or name.startswith("cite:"):
            role = "p" if name == "cite" else name.split(":", 1)[1]
            for key in re.split(r"\s*,\s*", content.strip()):
                key = re.sub(r"^\{[^}]*\}|\{[^}]*\}$", "", key).strip()
                if key and key not in self.state.cited:
                    self.state.cited.append(key)
            if d.cite is None:
                raise ConversionError(f"{self.doc}: citation {content!r} without a bibliography")
            return d.cite(role, content.strip(), self.doc)
        if name in PY_ROLES:
            return self._py(name, target, title)
        if name in ("sup", "sub"):
            return f"<{name}>{content}</{name}>"
        if name in ("code", "literal", "file", "command", "kbd", "samp", "envvar", "program"):
            return f"`{content}`"
        if name == "abbr":
            return re.sub(r"\s*\(.*\)\s*$", "", content)
        if name == "download":
            return f"[{title or target}]({d.page(self._resolve_doc(target)).rsplit('.html', 1)[0]})"
        if name == "index":  # the text as the page shows it; the entry has no place
            return title if title is not None else target.lstrip("!")
        if name in ("emphasis", "strong"):
            return {"emphasis": f"*{content}*", "strong": f"**{content}**"}[name]
        if name in ("subscript", "superscript"):
            return f"<{name[:3]}>{content}</{name[:3]}>"
        return title or target  # term: the word itself, as the page shows it

    def _number_text(self, target, numref, title):
        """(docname, anchor, default text) of a numbered object, or None."""
        d = self.data
        fmt = d.numfig_format
        if target in d.proofs:
            doc, realtype, num = d.proofs[target]
            kind = fmt.get(realtype, realtype + " %s") if numref else realtype.title() + " %s"
            return doc, target, num, kind
        if target in d.exercises:
            doc, num = d.exercises[target]
            return doc, target, num, fmt.get("exercise", "Exercise %s")
        if d.figure(target):
            doc, figtype, num = d.figure(target)
            anchor = d.labels.get(target, (doc, target))[1]
            return doc, anchor, num, fmt.get(figtype, figtype.title() + " %s")
        if target in d.equations:
            doc, num = d.equations[target]
            return doc, f"equation-{target}", num, "(%s)"
        if target in d.labels:
            doc, anchor, _title = d.labels[target]
            num = dict(d.secnumbers.get(doc, [])).get(f"#{anchor}" if anchor else "", "")
            return doc, anchor, num, fmt.get("section", "Section %s")
        return None

    def _ref_number(self, target, title, numref):
        found = self._number_text(target, numref, title)
        if found is None:
            raise ConversionError(f"{self.doc}: unknown reference target {target!r}")
        doc, anchor, num, kind = found
        if title is not None:
            text = title.replace("%s", num).replace("{number}", num)
            if "{name}" in text:
                text = text.replace("{name}", self.data.labels.get(target, ("", "", ""))[2])
        else:
            text = (kind % num).strip() if "%s" in kind else f"{kind} {num}".strip()
        return self._link(text, doc, anchor)

    def _ref(self, target, title):
        d = self.data
        if title is None and (target in d.proofs or target in d.exercises):
            return self._ref_number(target, None, numref=False)
        if target not in d.labels:
            if target in d.proofs or target in d.exercises or target in d.equations:
                return self._ref_number(target, title, numref=False)
            raise ConversionError(f"{self.doc}: unknown reference target {target!r}")
        doc, anchor, sectname = d.labels[target]
        return self._link(title or sectname, doc, anchor)

    def _py(self, name, target, title):
        shown = title
        short = target.startswith("~")
        target = target.lstrip("~.")
        if shown is None:
            shown = target.rsplit(".", 1)[-1] if short else target
            if name in ("py:func", "func", "py:meth", "meth", "py:function", "py:method"):
                shown += "()"
        entry = self.data.py_objects.get(target) or self.data.py_objects.get(f"lagprop.{target}")
        if entry is None:
            return f"`{shown}`"
        doc, anchor = entry
        return f"[`{shown}`]({self.data.page(doc, anchor)})"

    # --- blocks ------------------------------------------------------------------------------
    def markdown(self, text, top=True):
        lines = text.split("\n")
        out, i = [], 0
        while i < len(lines):
            line = lines[i]
            fm = FENCE.match(line)
            if fm:
                j = self._fence_end(lines, i, fm)
                info = fm.group("info")
                if info.startswith("{") and "}" in info:
                    name = info[1:info.index("}")].strip()
                    arg = info[info.index("}") + 1:].strip()
                    indent = fm.group("indent")  # e.g. inside a list item: keep it there
                    body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip()
                            for ln in lines[i + 1:j]]
                    res = "\n".join(self.directive(name, arg, body)).split("\n")
                    out += ["", *[indent + r if r.strip() else "" for r in res], ""]
                else:
                    out += lines[i:j + 1]
                i = j + 1
                continue
            if TARGET.match(line) or line.startswith("%") or line.strip() == "+++":
                i += 1
                continue
            if line.lstrip().startswith("$$"):
                j = i
                while j < len(lines) and not _dollar_block("\n".join(lines[i:j + 1]).strip()):
                    j += 1
                if j < len(lines):
                    indent = line[:len(line) - len(line.lstrip())]
                    block = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip()
                             for ln in lines[i:j + 1]]
                    res = self.dollar_block("\n".join(block).strip())
                    out += [indent + r if r.strip() else "" for r in res]
                    i = j + 1
                    continue
            m = AMSMATH.match(line)  # an amsmath environment as a block of its own
            if m and (i == 0 or not lines[i - 1].strip()):
                end = f"\\end{{{m.group(1)}}}"
                j = i
                while j < len(lines) and end not in lines[j]:
                    j += 1
                out += ["$$", *lines[i:j + 1], "$$"]
                i = j + 1
                continue
            sm = BLOCK_SUB.match(line)
            if sm and (i == 0 or not lines[i - 1].strip()):  # a substitution as a block
                out += ["", self.substitute(sm.group("expr"), inline=False), ""]
                i += 1
                continue
            dm = DEFINITION.match(line)
            term = self._term_index(out) if dm else None
            if term is not None:
                i = self.definition_list(lines, i, out, term)
                continue
            hm = HEADING.match(line)
            if hm and top:
                out.append(self.heading(hm.group(1), hm.group(2)))
                i += 1
                continue
            j = i  # a role wrapping onto the next lines of its paragraph: read them too
            while (_unclosed_role("\n".join(lines[i:j + 1])) and j + 1 < len(lines)
                   and lines[j + 1].strip()):
                j += 1
            out.append(self.inline("\n".join(lines[i:j + 1])))
            i = j + 1
        return "\n".join(out)

    @staticmethod
    def _term_index(out):
        """Index in ``out`` of the term a ``: definition`` line defines (the line of
        running text before it, or before one blank line), or None if there is none."""
        k = len(out) - 1
        if k >= 0 and not out[k].strip():
            k -= 1
        if k < 0 or not _is_paragraph(out[k]) or out[k].startswith(" " * 4):
            return None
        if k > 0 and out[k - 1].strip() and not out[k - 1].startswith("- **"):
            return None  # the last line of a paragraph, not a term
        return k

    def definition_list(self, lines, i, out, k):
        """A definition list (myst's ``deflist``): each term with its definitions, from
        line ``i`` on; the term is ``out[k]``. Returns the index of the next line."""
        term = out[k].strip()
        del out[k:]
        items = []
        while i < len(lines):
            dm = DEFINITION.match(lines[i])
            if not dm:
                break
            width = len(dm.group("indent")) + 1 + len(dm.group("gap"))
            body, i = [dm.group("text")], i + 1
            while i < len(lines):  # continuation: indented lines, or blanks before them
                if lines[i].strip() and lines[i].startswith(" " * min(width, 2)):
                    body.append(lines[i][width:] if lines[i].startswith(" " * width)
                                else lines[i].lstrip())
                elif (not lines[i].strip() and i + 1 < len(lines)
                      and lines[i + 1].startswith("  ")):
                    body.append("")
                else:
                    break
                i += 1
            items.append(self.markdown("\n".join(body), top=False).strip("\n"))
            j = i  # the next definition of the same term, after at most one blank line
            if j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and DEFINITION.match(lines[j]):
                i = j
        out += _definition_entry([term], items)
        return i

    @staticmethod
    def _fence_end(lines, i, fm):
        """Index of the closing fence line (len(lines) when the fence runs to the end)."""
        char, n = fm.group("fence")[0], len(fm.group("fence"))
        close = re.compile(rf"^ {{0,3}}{re.escape(char)}{{{n},}}\s*$")
        for j in range(i + 1, len(lines)):
            if close.match(lines[j]):
                return j
        return len(lines)

    def heading(self, hashes, text):
        """A section heading with the number the HTML prints before it."""
        text = self.inline(text)
        num, st = "", self.state
        anchors = [a for a, _ in self.sections]
        slug = "#" + _slug(text)
        if slug in anchors[st.heading_index:]:  # resynchronise on the section's own anchor
            st.heading_index = anchors.index(slug, st.heading_index)
        if st.heading_index < len(self.sections):
            num = self.sections[st.heading_index][1]
        st.heading_index += 1
        if not num:
            return f"{hashes} {text}"
        return f"{hashes} {num}. {text}"

    def dollar_block(self, block):
        m = _dollar_block(block)
        body, label = m.group("body").strip("\n"), m.group("label")
        return self.display_math(body, label)

    def display_math(self, body, label=None):
        """``$$ ... $$`` as Sphinx's MathJax output has it (parts, split), with its number."""
        parts = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
        wrapped = [rf"\begin{{split}}{p}\end{{split}}" if r"\\" in p else p for p in parts]
        tex = (r"\begin{aligned}" + r"\\".join(wrapped) + r"\end{aligned}"
               if len(wrapped) > 1 else (wrapped[0] if wrapped else ""))
        if label:
            if label not in self.data.equations:
                raise ConversionError(f"{self.doc}: unknown equation label {label!r}")
            num = self.data.equations[label][1]
            if num:
                tex += rf" \tag{{{num}}}"
        return ["", "$$", tex, "$$", ""]

    @staticmethod
    def _options(body):
        opts, k = {}, 0
        if body and body[0].strip() == "---":
            end = next((j for j in range(1, len(body)) if body[j].strip() == "---"), None)
            if end is not None:
                import yaml

                opts = {str(a): ("" if b is None else str(b))
                        for a, b in (yaml.safe_load("\n".join(body[1:end])) or {}).items()}
                k = end + 1
        while k < len(body):
            m = re.match(r"^\s*:([\w-]+):\s*(.*)$", body[k])
            if not m:
                break
            opts[m.group(1)] = m.group(2).strip()
            k += 1
        while k < len(body) and not body[k].strip():
            k += 1
        return opts, body[k:]

    def directive(self, name, arg, body):
        if name not in DIRECTIVES:
            raise ConversionError(
                f"{self.doc}: directive {{{name}}} has no reader-notebook rendering "
                "(add one to book/_ext/reader_notebooks.py, or write the text without "
                "it)")
        if name == "glossary":  # its content is a term list, not options and markdown
            return self.glossary(body)
        opts, content = self._options(body)
        text = "\n".join(content)
        d = self.data
        if name == "only":
            return self.only(arg, text)
        if name == "dropdown":
            title = self.inline(arg) if arg else ""
            inner = self.markdown(text, top=False).strip("\n")
            tag = "<details open>" if "open" in opts else "<details>"
            head = f"{tag}<summary>{title}</summary>" if title else tag
            return [head, "", inner, "", "</details>"]
        if name == "figure-md":
            return self.figure_md(opts, text)
        if name == "math":
            return self.display_math("\n".join([arg, text]).strip("\n") if arg else text,
                                     opts.get("label"))
        if name == "prf:proof":
            return self.proof(arg, text)
        if name.startswith("prf:"):
            return self.proof_like(name[4:], arg, opts, text)
        if name == "exercise":
            return self.exercise(arg, opts, text)
        if name == "solution":
            target = arg.strip()
            num = d.exercises.get(target, ("", ""))[1]
            summary = f"Solution to Exercise {num}" if num else "Solution"
            inner = self.markdown(text, top=False).strip("\n")
            return [f"<details><summary>{summary}</summary>", "", inner, "", "</details>"]
        if name in ("exercise-start", "exercise-end", "solution-start", "solution-end"):
            return self.gated(name, arg, opts)
        if name in ADMONITIONS:
            title = self.inline(arg) if arg else ADMONITIONS[name]
            inner = self.markdown(text, top=False).strip("\n")
            quoted = [f"> {ln}" if ln.strip() else ">" for ln in inner.split("\n")]
            return ([f"> **{title}**", ">"] if title else []) + quoted
        if name in ("figure", "image"):
            alt = opts.get("alt", "")
            caption = self.markdown(text, top=False).strip() if name == "figure" else ""
            label = opts.get("name")
            if d.figure(label):
                fmt = d.numfig_format.get("figure", "Fig. %s")
                caption = f"*{fmt % d.figure(label)[2]}:* {caption}".rstrip()
            return [f"![{alt}]({arg})", "", caption] if caption else [f"![{alt}]({arg})"]
        if name in ("code-block", "code", "sourcecode", "code-cell"):
            return [f"```{arg}", *content, "```"]
        if name in ("raw",):
            return content if arg.strip() == "html" else []
        if name in DROPPED:
            return []
        if name == "table":
            caption = self.inline(arg)
            table = d.figure(opts.get("name"))
            if table:  # numbered as the HTML numbers it
                fmt = d.numfig_format.get("table", "Table %s")
                head = f"*{fmt % table[2]}:* {caption}"
            else:
                head = f"*{caption}*" if caption else ""
            body = self.markdown(text, top=False)
            return ([head.rstrip(), ""] if head else []) + [body]
        return [self.markdown(text, top=False)]  # a container: its content, no markup

    def only(self, expression, text):
        """``{only}``: the content when the expression holds for the HTML build, else
        nothing.

        Content left out is still read, so that the theorems and exercises in it (which
        the build numbers, whatever the expression) keep the ones after it on their
        numbers."""
        from sphinx.util.tags import Tags

        try:
            keep = Tags(list(self.data.tags)).eval_condition(expression)
        except Exception as err:
            raise ConversionError(
                f"{self.doc}: {{only}} {expression!r}: {err}") from None
        if keep:
            return [self.markdown(text, top=False)]
        saved = (list(self.state.cited), self.state.heading_index)
        self.markdown(text, top=False)
        self.state.cited, self.state.heading_index = saved
        return []

    def glossary(self, body):
        """``{glossary}``: each entry as a bullet, its terms in bold, then its
        definition."""
        k = 0  # options (:sorted:) change nothing here
        while k < len(body) and re.match(r"^\s*:([\w-]+):", body[k]):
            k += 1
        out, terms, definition = [], [], []

        def flush():
            if terms:
                indent = min((len(ln) - len(ln.lstrip())
                              for ln in definition if ln.strip()), default=0)
                text = "\n".join(ln[indent:] for ln in definition).strip("\n")
                out.extend(_definition_entry(terms, [self.markdown(text, top=False)]))

        for line in body[k:]:
            if line.strip() and not line[0].isspace():
                if definition:
                    flush()
                    terms, definition = [], []
                terms.append(self.inline(line.strip()))
            elif terms:
                definition.append(line)
        flush()
        return out

    def figure_md(self, opts, text):
        """``{figure-md}``: its first paragraph is the figure, the rest the caption."""
        blocks = re.split(r"\n\s*\n", text.strip(), maxsplit=1)
        image = self.markdown(blocks[0], top=False).strip()
        caption = self.markdown(blocks[1], top=False).strip() if len(blocks) > 1 else ""
        fig = self.data.figure(opts.get("name"))
        if fig:
            fmt = self.data.numfig_format.get("figure", "Fig. %s")
            caption = f"*{fmt % fig[2]}:* {caption}".rstrip()
        return [image, "", caption] if caption else [image]

    def _label(self, kind, opts, known, what):
        """The label of the next ``kind`` ("proof" or "exercise") directive: its own, or the
        one the build saw at this position of the document."""
        order = getattr(self.data, f"{kind}_order").get(self.doc, [])
        index = getattr(self.state, f"{kind}_index")
        setattr(self.state, f"{kind}_index", index + 1)
        label = opts.get("label") or (order[index] if index < len(order) else None)
        if opts.get("label") and label not in known:
            raise ConversionError(f"{self.doc}: unknown {what} label {label!r}")
        return label

    def proof_like(self, realtype, arg, opts, text):
        d = self.data
        label = self._label("proof", opts, d.proofs, realtype)
        num = d.proofs.get(label, ("", realtype, ""))[2] if "nonumber" not in opts else ""
        head = f"**{realtype.title()} {num}**" if num else f"**{realtype.title()}**"
        if arg:
            head += f" ({self.inline(arg)})"
        inner = self.markdown(text, top=False).strip("\n")
        return [head, "", inner]

    def proof(self, arg, text):
        """*Proof.* and the text, closed by a square (as sphinx-proof's HTML)."""
        head = "*Proof.*" + (f" ({self.inline(arg)})" if arg else "")
        lines = self.markdown(text, top=False).strip("\n").split("\n")
        if not any(ln.strip() for ln in lines):
            return [head]
        if _is_paragraph(lines[0]):
            lines[0] = f"{head} {lines[0]}"
        else:
            lines = [head, ""] + lines
        if _is_paragraph(lines[-1]) and lines[-1] != head:
            lines[-1] += r" $\square$"
        else:
            lines += ["", r"$\square$"]
        return lines

    def exercise(self, arg, opts, text):
        d = self.data
        label = self._label("exercise", opts, d.exercises, "exercise")
        num = d.exercises.get(label, ("", ""))[1] if "nonumber" not in opts else ""
        head = f"**Exercise {num}**" if num else "**Exercise**"
        if arg:
            head += f" ({self.inline(arg)})"
        return [head, "", self.markdown(text, top=False).strip("\n")]

    def gated(self, name, arg, opts):
        """Gated exercises and solutions span cells; the heading is all that can be written."""
        if name == "exercise-start":
            return self.exercise(arg, opts, "")
        if name == "solution-start":
            num = self.data.exercises.get(arg.strip(), ("", ""))[1]
            return [f"**Solution to Exercise {num}**" if num else "**Solution**"]
        return []


# ------------------------------------------------------------------------------------------
# Notebooks
# ------------------------------------------------------------------------------------------

def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _as_lines(text):
    lines = text.split("\n")
    return [ln + "\n" for ln in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def _markdown_cell(text):
    return {"cell_type": "markdown", "metadata": {}, "source": _as_lines(text)}


def convert_notebook(nb: dict, data: BookData, docname: str, title: str = "") -> dict:
    """The reader notebook of one chapter (a new dict; ``nb`` is not changed)."""
    meta_in = nb.get("metadata", {})
    subs = {**(meta_in.get("substitutions") or {}),
            **((meta_in.get("myst") or {}).get("substitutions") or {})}
    conv = Converter(data, docname, subs)
    cells = []
    if title:
        chapter = data.titles.get(docname, "")
        cells.append(_markdown_cell(
            f"*{title}*: the runnable form of the chapter "
            f"[{chapter}]({data.page(docname)}). Run the cells from the top; the first code "
            "cell installs the companion package `lagprop` when it is missing."))
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if "remove-cell" in tags or HTML_ONLY in tags:
            continue
        if cell["cell_type"] == "markdown":
            before = (conv.state.proof_index, conv.state.exercise_index)
            text = re.sub(r"\n{3,}", "\n\n", conv.markdown(_source(cell))).strip("\n")
            if READER_ONLY in tags and before != (conv.state.proof_index,
                                                  conv.state.exercise_index):
                raise ConversionError(  # the build, which never reads it, numbers none
                    f"{docname}: a {READER_ONLY} cell holds a theorem or an exercise")
            left = leftover_myst(text)
            if left:  # what the converter did not see: an error, not raw text
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
        fig = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
        if fig.get("caption"):
            label = fig.get("name", "")
            caption = conv.inline(fig["caption"])
            if data.figure(label):
                fmt = data.numfig_format.get("figure", "Fig. %s")
                caption = f"*{fmt % data.figure(label)[2]}:* {caption}"
            cells.append(_markdown_cell(caption))
    if conv.state.cited and data.bib_entry is not None:
        keys = sorted(conv.state.cited, key=lambda k: data.cite("t", k, docname).lower())
        entries = [data.bib_entry(k) for k in keys]
        cells.append(_markdown_cell("**References**\n\n" + "\n".join(f"- {e}" for e in entries)))
    minor = nb.get("nbformat_minor", 4)
    if minor >= 5:  # cell ids are required from nbformat 4.5 on
        for k, cell in enumerate(cells):
            cell.setdefault("id", f"reader-{k}")
    # the kernel, and the state of stored ipywidgets (without it a widget output shows
    # "model not found" until its cell runs again)
    kept = ("kernelspec", "language_info", "widgets")
    meta = {k: v for k, v in meta_in.items() if k in kept}
    return {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": minor}


IMAGE = re.compile(r"!\[[^\]]*\]\((?P<md>[^)\s]+)|<img\s[^>]*src=\"(?P<html>[^\"]+)\"")


def local_images(nb):
    """Relative paths of the images the notebook's markdown shows (to copy beside it)."""
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for m in IMAGE.finditer(_source(cell)):
                path = m.group("md") or m.group("html")
                if not re.match(r"^([a-z]+:|/|#)", path) and ".." not in Path(path).parts:
                    found.append(path)
    return found


def chapters(srcdir, data_titles):
    """Docnames of the chapters (the notebooks under book/ that the build read)."""
    root = Path(srcdir)
    return sorted(doc for doc in data_titles
                  if doc.startswith(f"{BOOK_DIR}/") and (root / f"{doc}.ipynb").is_file())


def reader_path(outdir, docname):
    return Path(outdir) / (docname[len(BOOK_DIR) + 1:] + ".ipynb")


def write_all(data: BookData, srcdir, outdir, title="", html_dir=None):
    """Write every chapter's reader notebook; return the paths written."""
    outdir = Path(outdir)
    if outdir.exists():
        shutil.rmtree(outdir)
    written, errors = [], []
    for doc in chapters(srcdir, data.titles):
        nb = json.loads((Path(srcdir) / f"{doc}.ipynb").read_text(encoding="utf-8"))
        try:
            reader = convert_notebook(nb, data, doc, title)
        except ConversionError as err:
            errors.append(str(err))
            continue
        path = reader_path(outdir, doc)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(reader, indent=1, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
        for image in local_images(reader):  # images the markdown shows travel with it
            src = Path(srcdir) / posixpath.dirname(doc) / image
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


# ------------------------------------------------------------------------------------------
# Sphinx hooks
# ------------------------------------------------------------------------------------------

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
                ui = url.split("?urlpath=", 1)[1].split("/", 1)[0] if "?urlpath=" in url else "tree"
                ui = "lab/tree" if ui == "lab" else ui
                base = url.split("/v2/gh/", 1)[0]
                button["url"] = f"{base}/v2/gh/{org}/{name}/{branch}?urlpath={ui}/{path}"
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


def _source_read(app, docname, source):
    if str(app.env.doc2path(docname)).endswith(".ipynb"):
        source[0] = hide_reader_only_cells(source[0])


def _write_reader_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    cite = app.env.domains.get("cite")  # sphinxcontrib-bibtex, when the book cites
    style = getattr(cite, "reference_style", None)
    data = BookData.from_env(app.env, style)
    data.tags = tuple(sorted(set(HTML_TAGS) | set(app.tags)))  # and the build's -t tags
    outdir = Path(app.outdir).parent / "notebooks"
    try:
        written = write_all(data, app.srcdir, outdir, title=app.config.html_title,
                            html_dir=app.outdir)
    except ConversionError as err:  # a warning: under -W the build fails, and says why
        logger.warning(str(err), type="reader_notebooks")
        return
    logger.info(f"reader notebooks: {len(written)} written to {outdir}")


def setup(app):
    app.add_config_value("reader_notebooks_branch", DEFAULT_BRANCH, "html")
    app.connect("source-read", _source_read)
    app.connect("html-page-context", _launch_to_reader, priority=900)
    app.connect("build-finished", _write_reader_notebooks, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}


def _import_local_extensions(root):
    """Import the book's local Sphinx extensions (``_config.yml``), for what they register."""
    import importlib

    import yaml

    cfg = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    for name, folder in ((cfg.get("sphinx") or {}).get("local_extensions") or {}).items():
        path = str(root / folder)
        if path not in sys.path:
            sys.path.insert(0, path)
        importlib.import_module(name)


def main(argv=None):
    """Regenerate the reader notebooks from the last HTML build's pickled environment."""
    import pickle

    argv = sys.argv[1:] if argv is None else argv
    build = Path(argv[0] if argv else "_build")
    pickled = build / ".doctrees" / "environment.pickle"
    if not pickled.is_file():
        sys.exit(f"no {pickled}: build the HTML book first (make book)")
    with open(pickled, "rb") as f:
        env = pickle.load(f)
    env.doctreedir = pickled.parent  # the pages' doctrees beside it
    _import_local_extensions(Path(env.srcdir))  # they may register citation styles
    data = BookData.from_env(env)
    html = build / "html"
    written = write_all(data, env.srcdir, build / "notebooks", title=env.config.html_title,
                        html_dir=html if html.is_dir() else None)
    print(f"reader notebooks: {len(written)} written to {build / 'notebooks'}")


if __name__ == "__main__":
    main()
