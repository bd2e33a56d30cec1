"""Small corrections to the HTML pages, found by the browser test of the built book.

* Each script is included once per page. With Sphinx 7, sphinx-thebe's inline configuration
  script reaches the page twice, and the second copy throws (a ``const`` declared twice).
* (The colour mode on a first visit is set in ``_config.yml``, ``html_context.default_mode``.)
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # the same file (or inline body: filename None or "") with the same attributes, whatever its priority
        attributes = getattr(js, "attributes", {})
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=1000)  # after every other handler
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
