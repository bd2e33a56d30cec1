"""The book's own stylesheet and script (``book/_static/lagprop.css`` and ``lagprop.js``).

They correct what the browser test of the built book found in the theme: inline formulas that
are clipped, wide displays and code that scroll without a cue, keyboard focus that is invisible,
solution titles that jump away instead of opening the solution, raw TeX in search snippets,
printing that cuts code and hides solutions, and long signatures on the API pages (which also
break over lines: ``python_maximum_signature_line_length``). The download menu gains a link to
the whole book as a PDF (``make pdf``). Search ranks a page whose title holds the query above
API objects that share the word (``_static/search_scorer.js``).
"""

from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "_static"
SIGNATURE_LINE = 72  # characters: longer signatures put one parameter on a line


def _static(app, config):
    path = str(STATIC)
    if path not in config.html_static_path:
        config.html_static_path.append(path)
    if not config.html_search_scorer:  # titles that hold the query rank first
        config.html_search_scorer = str(STATIC / "search_scorer.js")
    if not config.python_maximum_signature_line_length:
        config.python_maximum_signature_line_length = SIGNATURE_LINE


def setup(app):
    app.connect("config-inited", _static)
    app.add_css_file("lagprop.css", priority=900)  # after the theme's stylesheets
    app.add_js_file("lagprop.js", priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
