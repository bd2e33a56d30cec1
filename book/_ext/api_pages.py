"""The API reference: one page per module of ``lagprop``, each opening with a summary table.

Two directives, used by ``book/appendix/api.md`` and ``book/appendix/api/<module>.md``:

``{lagprop-modules}``
    A table of every public module of the package (found by ``pkgutil``), each linked to its page
    with the first line of its docstring. A module without a page is a build warning (an error
    under ``-W``) that names the file to add.

``{lagprop-module} lagprop.<name>``
    The module's docstring, a table of its public names (``__all__``, in source order) with the
    first sentence of each docstring, then every name documented by autodoc.

A new module therefore needs one file, ``book/appendix/api/<name>.md``::

    # `lagprop.<name>`

    ```{lagprop-module} lagprop.<name>
    ```

and nothing else: ``_toc.yml`` takes the folder by a glob.

Shapes in numpydoc types (``shape (P, n_{k-1})``) are typeset as mathematics, so the subscripts
read as subscripts rather than as raw TeX.
"""

import importlib
import inspect
import pkgutil
import re

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx.util import logging

logger = logging.getLogger(__name__)

PACKAGE = "lagprop"
PAGES = "book/appendix/api"


def public_modules():
    """Names of the public modules of the package, sorted."""
    package = importlib.import_module(PACKAGE)
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))


_ABBREVIATIONS = {"al", "eq", "eqs", "e.g", "i.e", "cf", "resp", "sec", "fig", "vs", "approx"}


def _summary(obj):
    """The first sentence (first paragraph, up to the first full stop) of a docstring, one line."""
    doc = inspect.getdoc(obj) or ""
    para = []
    for line in doc.splitlines():
        if not line.strip():
            break
        para.append(line.strip())
    text = " ".join(para)
    # stop at the first full stop that ends a sentence outside inline markup
    literal, parens, out = 0, 0, []
    for i, ch in enumerate(text):
        out.append(ch)
        if ch == "`":
            literal ^= 1
        elif not literal and ch in "()":
            parens += 1 if ch == "(" else -1
        elif ch == "." and not literal and parens <= 0 and (i + 1 == len(text) or text[i + 1] == " "):
            word = re.split(r"[\s(]", text[:i])[-1].lower()
            if word not in _ABBREVIATIONS:
                break
    return "".join(out).strip() or "(no summary)"


def _members(module):
    """Public names of ``module`` (its ``__all__``), in the order they appear in the source."""
    names = list(getattr(module, "__all__", None) or
                 [n for n, v in vars(module).items()
                  if not n.startswith("_") and getattr(v, "__module__", None) == module.__name__])
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return names

    def where(name):
        m = re.search(rf"^(?:def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*[:=]", source, re.M)
        return m.start() if m else len(source) + names.index(name)

    return sorted(names, key=where)


def _kind(obj):
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return "exception"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def _table(rows, header):
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 35 65", "   :class: api-summary", ""]
    lines += [f"   * - {header[0]}", f"     - {header[1]}"]
    for left, right in rows:
        lines += [f"   * - {left}", f"     - {right}"]
    return lines + [""]


class _RstDirective(Directive):
    def _parse(self, lines):
        node = nodes.container(classes=["api-page"])
        source = self.state_machine.get_source_and_line(self.lineno)[0]
        if not str(source).endswith(".rst"):  # a MyST page: hand the generated text to docutils
            lines = ["````{eval-rst}", *lines, "````"]
        self.state.nested_parse(StringList(lines, source=source), self.content_offset, node)
        return node.children


class ModuleIndex(_RstDirective):
    """The table of the package's modules."""

    has_content = False

    def run(self):
        env = self.state.document.settings.env
        rows = []
        for name in public_modules():
            module = importlib.import_module(f"{PACKAGE}.{name}")
            docname = f"{PAGES}/{name}"
            if docname not in env.found_docs:
                logger.warning(f"module {PACKAGE}.{name} has no API page: add {docname}.md "
                               f"holding the directive {{lagprop-module}} {PACKAGE}.{name}",
                               location=(env.docname, self.lineno))
                link = f"``{PACKAGE}.{name}``"
            else:
                link = f":doc:`{PACKAGE}.{name} </{docname}>`"
            rows.append((link, _summary(module)))
        return self._parse(_table(rows, ("module", "what it holds")))


class ModulePage(_RstDirective):
    """A module's docstring, the summary table of its names, and every name documented."""

    required_arguments = 1
    option_spec = {"no-table": directives.flag}

    @staticmethod
    def _describe(module, name):
        obj = getattr(module, name)
        if _kind(obj) != "data":
            return _summary(obj)
        # a module constant: its ``#:`` comment, not the docstring of its type
        try:
            from sphinx.pycode import ModuleAnalyzer

            doc = ModuleAnalyzer.for_module(module.__name__).find_attr_docs().get(("", name))
        except Exception:  # noqa: BLE001 - no source: fall back on the type
            doc = None
        if doc:
            return _summary(type("_", (), {"__doc__": "\n".join(doc)}))
        return f"A constant (``{type(obj).__name__}``)."

    def run(self):
        modname = self.arguments[0]
        module = importlib.import_module(modname)
        names = _members(module)
        lines = [f".. automodule:: {modname}", "   :no-members:", ""]
        if "no-table" not in self.options and names:
            rows = [(f":py:obj:`~{modname}.{n}`", self._describe(module, n)) for n in names]
            lines += [".. rubric:: Summary", ""] + _table(rows, ("name", "summary"))
        lines += [f".. currentmodule:: {modname}", ""]
        for n in names:
            kind = _kind(getattr(module, n))
            lines += [f".. auto{kind}:: {n}"]
            if kind in ("class", "exception"):
                lines += ["   :members:"]
            lines += [""]
        return self._parse(lines)


# a tuple of sizes such as (P, n_{k-1}) or (n_k,), holding at least one subscript
_ITEM = r"[A-Za-z0-9+\-]+(?:_(?:\{[^{}`]*\}|[A-Za-z0-9]+))?"
_SHAPE = re.compile(rf"(?<![`\w\\])\(({_ITEM}(?:, ?{_ITEM})*,?)\)")


def _shape_sub(text):
    return _SHAPE.sub(lambda m: f":math:`({m.group(1)})`" if "_" in m.group(1) else m.group(0), text)


LONG_DISPLAY = 80  # characters of TeX: a longer one-line display is stacked at its \qquad


def _stack(paragraph):
    """One paragraph of a display: stacked at its \\qquad separators when long."""
    body = [b for b in paragraph if b.strip()]
    tex = " ".join(b.strip() for b in body)
    if (not body or len(tex) <= LONG_DISPLAY or "\\qquad" not in tex
            or any(t in tex for t in ("\\\\", "&", "\\begin", "\\end"))):
        return paragraph
    pad = " " * (len(body[0]) - len(body[0].lstrip()))
    # "A \qquad\text{so}\qquad B": the word opens the next line
    tex = re.sub(r"\\qquad\s*(\\text\{[^{}]*\})\s*\\qquad", r"\\qquad \1\\ ", tex)
    parts = [p.strip() for p in re.split(r"\\qquad\b", tex) if p.strip()]
    return [f"{pad}&{p} \\\\" for p in parts[:-1]] + [f"{pad}&{parts[-1]}"]


def _stack_displays(lines):
    """A ``.. math::`` paragraph of one long line, ``A, \\qquad B, \\qquad C``, becomes the
    stacked lines ``&A, \\\\ &B, \\\\ &C`` (Sphinx typesets a paragraph holding ``\\\\`` as
    ``split``), so a docstring's chain of equations fits the API page instead of running past it."""
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        stripped = line.lstrip()
        i += 1
        if not stripped.startswith(".. math::") or stripped[len(".. math::"):].strip():
            continue
        indent = len(line) - len(stripped)
        block = []
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
            block.append(lines[i])
            i += 1
        paragraph = []
        for b in block + [""]:
            if b.strip() and not b.strip().startswith(":"):
                paragraph.append(b)
                continue
            if paragraph:
                out += _stack(paragraph)
                paragraph = []
            out.append(b)
        out.pop()  # the sentinel
    return out


def _shapes_as_math(app, what, name, obj, options, lines):
    """``shape (P, n_{k-1})`` -> ``shape :math:`(P, n_{k-1})``` outside math and literals; long
    one-line displays stacked (:func:`_stack_displays`)."""
    lines[:] = _stack_displays(lines)
    in_math, indent = False, 0
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if in_math:
            if stripped and len(line) - len(stripped) <= indent:
                in_math = False
            else:
                continue
        if stripped.startswith(".. math::"):
            in_math, indent = True, len(line) - len(stripped)
            continue
        if ":math:`" in line:
            # leave lines that already hold inline math alone where a shape sits inside it
            parts = re.split(r"(:math:`[^`]*`)", line)
            lines[i] = "".join(p if p.startswith(":math:") else _shape_sub(p) for p in parts)
        else:
            lines[i] = _shape_sub(line)


def setup(app):
    app.add_directive("lagprop-modules", ModuleIndex)
    app.add_directive("lagprop-module", ModulePage)
    app.connect("autodoc-process-docstring", _shapes_as_math, priority=400)  # before napoleon
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
