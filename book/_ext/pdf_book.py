"""The PDF edition: what Jupyter Book's LaTeX builder needs for this book.

``make pdf`` runs ``jupyter-book build . --builder pdflatex`` (XeLaTeX, see ``_config.yml``);
this extension, active only for the LaTeX builder:

* typesets the stored outputs of the chapters (the outputs ``nbval`` checks against a fresh run)
  instead of executing every chapter a second time; ``LAGPROP_PDF_EXECUTE=1`` executes them;
* numbers theorems, exercises and figures by chapter (``Theorem 3.2``), as the HTML pages do
  (with parts as the top level the LaTeX builder would otherwise prefix the section as well);
* loads ``mathtools`` (``psmallmatrix``, ``\\coloneqq``) before ``unicode-math``;
* replaces the text stand-in of an interactive output (``<IPython.core.display.HTML object>``,
  what an animation leaves for LaTeX) by a sentence that points to the HTML edition.

Solutions (sphinx-exercise, ``:class: dropdown``) are printed in full where they stand: the LaTeX
writer ignores the dropdown class.
"""

import os
import re

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

_STAND_IN = re.compile(r"^<IPython\.core\.display\.\w+ object>$")


def _latex_packages(app, config):
    # read by the LaTeX builder when it is made, before builder-inited; other builders ignore it
    elements = dict(config.latex_elements or {})
    extra = elements.get("extrapackages", "")
    if "mathtools" not in extra:
        elements["extrapackages"] = extra + "\n\\usepackage{mathtools}\n"
    config.latex_elements = elements


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
    app.connect("env-check-consistency", _latex_depth)
    app.add_post_transform(InteractiveStandIns)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
