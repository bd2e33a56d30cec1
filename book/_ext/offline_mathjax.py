"""Serve MathJax from the built site, so the book typesets its mathematics with no network.

The MathJax 3 distribution (its ``es5`` folder) comes from a PyPI wheel that ships it as static
files (``django-static-mathjax``, no dependencies). At the end of an HTML build the folder is
copied to ``_static/mathjax`` and ``mathjax_path`` points at it.

MathJax also loads the ``mathtools`` TeX package (``psmallmatrix``, ``\\coloneqq``), as the PDF
does (``pdf_book.py``): without it such a formula shows an "Unknown environment" error box. The
assistive MathML that MathJax adds for screen readers stays on (its default).
"""

import importlib.util
import shutil
from pathlib import Path

MATHJAX_ENTRY = "mathjax/tex-chtml.js"


def _es5_folder():
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the MathJax files are missing: install the book's extras (pip install -e '.[book]')")
    es5 = Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise RuntimeError(f"no MathJax es5 build at {es5}")
    return es5


TEX_PACKAGES = ["mathtools"]  # loaded from _static/mathjax/input/tex/extensions/


def _use_local_mathjax(app, config):
    es5 = _es5_folder()  # fail early, with a clear message, if the files are not installed
    config.mathjax_path = MATHJAX_ENTRY
    for name in TEX_PACKAGES:
        if not (es5 / "input" / "tex" / "extensions" / f"{name}.js").is_file():
            raise RuntimeError(f"the MathJax TeX extension {name!r} is missing from {es5}")
    mj = dict(config.mathjax3_config or {})
    loader = dict(mj.get("loader", {}))
    loader["load"] = list(loader.get("load", [])) + [
        f"[tex]/{n}" for n in TEX_PACKAGES if f"[tex]/{n}" not in loader.get("load", [])]
    tex = dict(mj.get("tex", {}))
    packages = tex.get("packages", {"[+]": []})
    if isinstance(packages, dict):
        packages = dict(packages)
        packages["[+]"] = list(packages.get("[+]", [])) + [
            n for n in TEX_PACKAGES if n not in packages.get("[+]", [])]
    else:
        packages = list(packages) + [n for n in TEX_PACKAGES if n not in packages]
    tex["packages"] = packages
    mj.update(loader=loader, tex=tex)
    config.mathjax3_config = mj


def _copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    shutil.copytree(_es5_folder(), target, dirs_exist_ok=True)


def setup(app):
    app.connect("config-inited", _use_local_mathjax, priority=900)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
