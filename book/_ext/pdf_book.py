"""The PDF edition: what Jupyter Book's LaTeX builder needs for this book.

``make pdf`` runs ``jupyter-book build . --builder pdflatex`` (XeLaTeX, see ``_config.yml``);
this extension, active only for the LaTeX builder:

* typesets the stored outputs of the chapters (the outputs ``nbval`` checks against a fresh run)
  instead of executing every chapter a second time; ``LAGPROP_PDF_EXECUTE=1`` executes them;
* numbers theorems, exercises and figures by chapter (``Theorem 3.2``), as the HTML pages do
  (with parts as the top level the LaTeX builder would otherwise prefix the section as well);
* loads ``mathtools`` (``psmallmatrix``, ``\\coloneqq``) before ``unicode-math``;
* replaces the text stand-in of an interactive output (``<IPython.core.display.HTML object>``,
  what an animation leaves for LaTeX) by a sentence that points to the HTML edition;
* writes a stand-in ``bbm.sty`` (``\\mathbbm`` as ``\\mathbb``) beside the ``.tex``: the
  class of sphinx-jupyterbook-latex loads ``bbm``, whose only source in Debian is the 1.4 GiB
  ``texlive-fonts-extra``, for macros this book does not use;
* sets code and outputs in DejaVu Sans Mono at the size at which an 88-character line (the
  book's limit) fits the text width, instead of the thin FreeMono that wraps them;
* keeps a box's title with its first lines (``needspace``), and flushes pending figures before a
  solution (``\\FloatBarrier``), so that no figure lands inside one;
* sets proofs as plain text opening with *Proof.* instead of boxes with an empty title bar;
* prints the part titles once in the contents ("I  Back-propagation ...", not "I  Part I. ...");
* sets table cells ragged right instead of justified (narrow cells had wide gaps);
* puts the package's version on the title page.

Solutions (sphinx-exercise, ``:class: dropdown``) are printed in full where they stand: the LaTeX
writer ignores the dropdown class.
"""

import os
import re
from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

_STAND_IN = re.compile(r"^<IPython\.core\.display\.\w+ object>$")
_PART = re.compile(r"^Part [IVXLC]+\.\s+")
CODE_CHARACTERS = 88  # the book's longest code line; code is set at the size that fits it

BBM_STAND_IN = r"""\NeedsTeXFormat{LaTeX2e}
\ProvidesPackage{bbm}[2026/01/01 stand-in written by pdf_book.py]
\RequirePackage{amssymb}
\providecommand{\mathbbm}[1]{\mathbb{#1}}
\providecommand{\mathbbmss}[1]{\mathbb{#1}}
\providecommand{\mathbbmtt}[1]{\mathbb{#1}}
"""

FONTS = r"""
\setmainfont{FreeSerif}[Extension=.otf, UprightFont=*, ItalicFont=*Italic,
  BoldFont=*Bold, BoldItalicFont=*BoldItalic]
\setsansfont{FreeSans}[Extension=.otf, UprightFont=*, ItalicFont=*Oblique,
  BoldFont=*Bold, BoldItalicFont=*BoldOblique]
\setmonofont{DejaVu Sans Mono}[Scale=MatchLowercase]
"""

PREAMBLE = r"""
%% pdf_book.py: code at the size that fits %(chars)d characters on a line
\makeatletter
\newlength\lp@char
\newlength\lp@code
\AtBeginDocument{%%
  \settowidth{\lp@char}{\normalsize\ttfamily 0}%%
  \lp@code=\dimexpr \f@size pt * \numexpr\dimexpr\linewidth-30pt\relax\relax
    / \numexpr %(chars)d*\numexpr\dimexpr\lp@char\relax\relax\relax\relax
  \ifdim\lp@code>\dimexpr\f@size pt\relax \lp@code=\dimexpr\f@size pt\relax\fi
  \typeout{pdf_book: code at \the\lp@code\space (text width \the\linewidth)}%%
  \fvset{fontsize=\fontsize{\strip@pt\lp@code}{\strip@pt\dimexpr1.2\lp@code\relax}\selectfont}%%
}
%% a box's title stays with its first lines; before a solution, pending figures are set, so that
%% none floats into it (\lpbeforesolution, written by the solution's LaTeX visitor)
\let\lp@admonition\sphinxadmonition
\let\endlp@admonition\endsphinxadmonition
\renewenvironment{sphinxadmonition}[2]{%%
  \ifinner\else\needspace{6\baselineskip}\fi
  \begin{lp@admonition}{#1}{#2}}{\end{lp@admonition}}
\newcommand\lpbeforesolution{\ifinner\else\FloatBarrier\fi}
%% table cells ragged right, not justified: no wide gaps in narrow cells ("0.65 ms \pm 0.01")
\newcolumntype{T}{L}
\setlength{\tymin}{54pt}%% tabulary narrows no column below this ("0.65 ms \pm 0.01" fits)
%% tables a size smaller, so that four columns with code and references fit the text width
\AddToHook{env/tabulary/begin}{\small}
\makeatother
"""


def _version(app):
    init = Path(app.confdir) / "companion" / "lagprop" / "__init__.py"
    m = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', init.read_text(encoding="utf-8"), re.M)
    return m.group(1) if m else ""


def _latex_packages(app, config):
    # read by the LaTeX builder when it is made, before builder-inited; other builders ignore it
    elements = dict(config.latex_elements or {})
    extra = elements.get("extrapackages", "")
    if "mathtools" not in extra:
        extra += "\n\\usepackage{mathtools}\n"
    if "needspace" not in extra:
        extra += "\\usepackage{needspace}\n\\usepackage{placeins}\n"
    elements["extrapackages"] = extra
    elements.setdefault("fontpkg", FONTS)
    if "pdf_book.py: code" not in elements.get("preamble", ""):
        elements["preamble"] = elements.get("preamble", "") + PREAMBLE % {"chars": CODE_CHARACTERS}
    config.latex_elements = elements


def _latex_extras(app):
    if app.builder.format != "latex":
        return
    Path(app.outdir).mkdir(parents=True, exist_ok=True)
    (Path(app.outdir) / "bbm.sty").write_text(BBM_STAND_IN, encoding="utf-8")
    if not app.config.release:  # the title page: "Release 0.2.0"
        app.config.release = _version(app)
        context = getattr(app.builder, "context", None)
        if isinstance(context, dict):  # made when the builder was (before builder-inited)
            context["release"] = app.config.release
    _solutions_flush_figures(app)


def _solutions_flush_figures(app):
    try:
        from sphinx_exercise import nodes as ex
    except ImportError:
        return
    visit, depart = ex.visit_solution_node, ex.depart_solution_node

    def visit_solution(self, node):
        self.body.append("\n\\lpbeforesolution\n")
        visit(self, node)

    app.add_node(ex.solution_node, override=True, latex=(visit_solution, depart))


def _stored_outputs(app):
    # before MyST-NB reads its configuration (builder-inited, default priority)
    if app.builder.format == "latex" and os.environ.get("LAGPROP_PDF_EXECUTE") != "1":
        app.config.nb_execution_mode = "off"


def _chapter_numbers(app):
    # After sphinx-jupyterbook-latex, which sets 2 when the toc's captions become parts: that
    # depth counts the part for LaTeX's own counters (figures, equations: "Fig. 3.2"), but Sphinx
    # numbers theorems and exercises from the toc, where it would add the section ("3.1.2").
    if app.builder.format == "latex":
        app.lagprop_latex_depth = app.config.numfig_secnum_depth
        app.config.numfig_secnum_depth = 1


def _latex_depth(app, env):
    # the toc's numbers are assigned (env-get-updated, before this); the writer reads it again
    depth = getattr(app, "lagprop_latex_depth", None)
    if depth is not None:
        app.config.numfig_secnum_depth = depth


class PartTitlesAndProofs(SphinxPostTransform):
    """The PDF's parts and proofs: titles the LaTeX class already says, said once.

    A part's title is the toc caption ("Part I. Back-propagation ..."), to which LaTeX adds its
    own number: "Part I. " is dropped. A proof is an admonition whose title is empty in LaTeX
    (its text opens with "Proof."): it becomes a plain block that opens with "Proof." in italics.
    """

    default_priority = 990  # after sphinx-jupyterbook-latex has made the parts
    formats = ("latex",)

    def run(self, **kwargs):
        for section in list(self.document.findall(nodes.section)):
            title = section.next_node(nodes.title)
            if title is not None and title.parent is section and _PART.match(title.astext()):
                text = _PART.sub("", title.astext())
                title.replace_self(nodes.title(text, text))
        for box in list(self.document.findall(nodes.Element)):
            classes = box.get("classes", [])
            if "proof" not in classes or not isinstance(box, nodes.admonition):
                continue
            title = box.next_node(nodes.title)
            if title is not None and title.parent is box and title.astext().strip() in ("", "Proof"):
                title.parent.remove(title)
            first = box.next_node(nodes.paragraph)
            lead = first[0] if first is not None and len(first) else None
            if isinstance(lead, nodes.Text) and lead.astext().startswith("Proof."):
                rest = lead.astext()[len("Proof."):]
                first.replace(lead, nodes.emphasis("Proof.", "Proof."))
                first.insert(1, nodes.Text(rest))
            block = nodes.container("", *box.children, ids=list(box["ids"]),
                                    classes=["lp-proof"])
            box.replace_self(block)


class InteractiveStandIns(SphinxPostTransform):
    """``<IPython.core.display.HTML object>`` in the PDF -> a pointer to the HTML edition."""

    default_priority = 400
    formats = ("latex",)

    def run(self, **kwargs):
        for block in list(self.document.findall(nodes.literal_block)):
            if _STAND_IN.match(block.astext().strip()):
                note = nodes.paragraph(
                    text="(An interactive output, an animation: the HTML edition of the book "
                         "plays it.)")
                note["classes"].append("interactive-stand-in")
                block.replace_self(note)


def setup(app):
    app.connect("config-inited", _latex_packages, priority=100)
    app.connect("builder-inited", _stored_outputs, priority=100)
    app.connect("builder-inited", _chapter_numbers, priority=900)
    app.connect("builder-inited", _latex_extras, priority=950)
    app.connect("env-check-consistency", _latex_depth)
    app.add_post_transform(InteractiveStandIns)
    app.add_post_transform(PartTitlesAndProofs)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
