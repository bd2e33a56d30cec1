"""Small corrections to the HTML pages, found by the browser test of the built book.

* Each script is included once per page. With Sphinx 7, sphinx-thebe's inline configuration
  script reaches the page twice, and the second copy throws (a ``const`` declared twice).
* No page loads what it does not use: sphinx-thebe (the book has no live-code button) and, on
  every page but the search page, Sphinx's search tools and the 0.2 MB search index (the theme
  loads them for a search-as-you-type that is off; the search box opens the search page).
* The icons: the theme ships Font Awesome as a 1.5 MB script with every icon; the site gets a
  script of its own (``_static/scripts/fontawesome.js``, a few kB) with only the icons its pages
  use, drawn as the theme expects (inline ``svg.svg-inline--fa``), hidden from screen readers.
* A multi-line signature on the API pages (``python_maximum_signature_line_length``) is a
  ``<dl>`` of ``<dd>`` items without a ``<dt>``, which is not a definition list: it is marked as
  the list it is (``role="list"``, ``role="listitem"``).
* The bibliography's entries are list items (``role="listitem"``) of their ``role="list"``.
* The root ``index.html`` (a redirect to the first page) names the favicon, so that the browser
  does not ask for a missing ``/favicon.ico``.
* (The colour mode on a first visit is set in ``_config.yml``, ``html_context.default_mode``.)
"""

import json
import re
from pathlib import Path

# scripts and stylesheets no page needs
UNUSED = ("sphinx-thebe.js", "sphinx-thebe.css")
# loaded by the theme's template on every page, needed only on the search page
SEARCH_ONLY = re.compile(
    r'[ \t]*<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|'
    r'searchindex\.js)"></script>\n?')
# Sphinx's search appends the summary of each hit, and throws when a hit's page yields none
# (makeSearchSummary returns null): an empty summary instead
GUARD = ("<script>if (typeof Search !== 'undefined') { const lpSummary = Search.makeSearchSummary; "
         "Search.makeSearchSummary = (...a) => lpSummary(...a) || "
         "document.createElement('span'); }</script>")
SIGNATURE_LIST = re.compile(r'<dl>(\s*<dd><em class="sig-param">)')
SIGNATURE_ITEM = '<dd><em class="sig-param">'

# Font Awesome icons the pages use: the theme's header and sidebars, the download and launch
# menus, lagprop.js (fa-book), matplotlib's animation controls (Font Awesome 4 names)
ICONS = {
    "fas": ["magnifying-glass", "bars", "list", "sun", "moon", "circle-half-stroke", "expand",
            "chevron-down", "chevron-right", "arrow-up", "file-pdf", "file", "download",
            "angle-right", "angle-left", "outdent", "indent", "rocket", "book", "xmark",
            "forward-step", "backward-step", "plus", "minus", "play", "pause", "forward-fast",
            "backward-fast", "compress", "code", "copy", "check", "circle-info",
            "triangle-exclamation", "circle-exclamation", "arrow-up-right-from-square"],
    "fab": ["github", "python"],
}
_ICON = re.compile(
    r'(?:"([\w-]+)"|\b([A-Za-z_]\w*)):\[(\d+),(\d+),\[([^\]]*)\],"(\w+)",("[^"]*")\]')
_PACK = re.compile(r'\b\w\("(fa[bsr])",\s*\w+\)')


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    for key in ("script_files", "css_files"):
        files = context.get(key)
        if not files:
            continue
        seen, unique = set(), []
        for item in files:
            name = str(getattr(item, "filename", item) or "")
            if name.split("?")[0].endswith(UNUSED):
                continue
            # the same file (or inline body: filename None or "") with the same attributes,
            # whatever its priority
            attributes = getattr(item, "attributes", {})
            ident = (name, tuple(sorted((k, str(v)) for k, v in attributes.items())))
            if ident not in seen:
                seen.add(ident)
                unique.append(item)
        context[key] = unique
    body = context.get("body")
    if body and SIGNATURE_ITEM in body:
        body = SIGNATURE_LIST.sub(r'<dl role="list">\1', body)
        body = body.replace(SIGNATURE_ITEM, '<dd role="listitem"><em class="sig-param">')
    if body and 'role="doc-biblioentry"' in body:
        # docutils' citation list is role="list", its entries role="doc-biblioentry", a role
        # that is not a list item (deprecated in ARIA 1.3): they are list items
        body = body.replace('role="doc-biblioentry"', 'role="listitem"')
    if body is not None:
        context["body"] = body


def font_awesome_subset(source, icons=ICONS):
    """The icons of ``icons`` ({pack: [names]}) from the theme's Font Awesome script.

    Returns ``{"fa-<pack>": {name: [width, height, path]}}``, aliases included (``search`` for
    ``magnifying-glass``, ``step-forward`` for ``forward-step``).
    """
    packs, start = {}, 0
    for call in _PACK.finditer(source):
        packs.setdefault(call.group(1), source[start:call.start()])
        start = call.end()
    found = {}
    for pack, names in icons.items():
        table = {}
        for m in _ICON.finditer(packs.get(pack, "")):
            name = m.group(1) or m.group(2)
            if name in names:
                entry = [int(m.group(3)), int(m.group(4)), json.loads(m.group(7))]
                aliases = [a for a in re.findall(r'"([\w-]+)"', m.group(5))]
                for alias in [name, *aliases]:
                    table[alias] = entry
        missing = sorted(set(names) - set(table))
        if missing:
            raise RuntimeError(f"Font Awesome icons not found in the theme's script: {missing}")
        found[pack] = table
    return found


ICON_SCRIPT = """/* Font Awesome Free icons (CC BY 4.0, https://fontawesome.com/license/free): only the
   ones this site uses, drawn as inline SVG like the theme's full script (1.5 MB) does. */
(function () {
  "use strict";
  var ICONS = %(icons)s;
  var PACKS = {"fa-solid": "fas", "fas": "fas", "fa": "fas", "fa-brands": "fab", "fab": "fab"};
  var NS = "http://www.w3.org/2000/svg";
  var css = document.createElement("style");
  css.textContent = "svg.svg-inline--fa{display:inline-block;height:1em;overflow:visible;" +
    "vertical-align:-.125em;box-sizing:content-box}svg.svg-inline--fa.fa-lg{height:1.25em;" +
    "vertical-align:-.2em}svg.svg-inline--fa.fa-flip-horizontal{transform:scale(-1,1)}";
  document.head.appendChild(css);
  function draw(el) {
    var pack = "fas", name = null;
    el.classList.forEach(function (c) {
      if (PACKS[c]) pack = PACKS[c];
      else if (c.indexOf("fa-") === 0 && c !== "fa-lg" && c !== "fa-fw" && c !== "fa-flip-horizontal") name = c.slice(3);
    });
    var icon = name && ICONS[pack] && ICONS[pack][name];
    if (!icon) return;
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + icon[0] + " " + icon[1]);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", el.getAttribute("class") + " svg-inline--fa");
    for (var i = 0; i < el.attributes.length; i++) {
      var a = el.attributes[i];
      if (a.name !== "class" && a.name !== "title") svg.setAttribute(a.name, a.value);
    }
    if (el.title && !el.closest("button, a")) svg.setAttribute("aria-label", el.title);
    var path = document.createElementNS(NS, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", icon[2]);
    svg.appendChild(path);
    el.replaceWith(svg);
  }
  function drawAll(root) {
    (root || document).querySelectorAll("i[class*='fa-'], span[class*='fa-']").forEach(draw);
  }
  function start() {
    drawAll();
    new MutationObserver(function (changes) {
      changes.forEach(function (c) {
        c.addedNodes.forEach(function (n) {
          if (n.nodeType !== 1) return;
          if (n.matches("i[class*='fa-'], span[class*='fa-']")) draw(n); else drawAll(n);
        });
      });
    }).observe(document.body, {childList: true, subtree: true});
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
"""


def _icons(outdir):
    script = Path(outdir) / "_static" / "scripts" / "fontawesome.js"
    if not script.is_file():
        return
    source = script.read_text(encoding="utf-8")
    if source.startswith("/* Font Awesome Free icons (CC BY 4.0"):
        return  # already the subset (an incremental build)
    icons = font_awesome_subset(source)
    script.write_text(ICON_SCRIPT % {"icons": json.dumps(icons, separators=(",", ":"))},
                      encoding="utf-8")
    for extra in (".map",):
        Path(str(script) + extra).unlink(missing_ok=True)


def _finish(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    _icons(out)
    search = out / "search.html"
    if search.is_file():
        text = search.read_text(encoding="utf-8")
        if GUARD not in text:
            new = re.sub(r'(<script src="[^"]*_static/searchtools\.js[^"]*"></script>)',
                         lambda m: m.group(1) + "\n" + GUARD, text, count=1)
            search.write_text(new, encoding="utf-8")
    for page in out.rglob("*.html"):
        if page.name == "search.html" and page.parent == out:
            continue
        text = page.read_text(encoding="utf-8")
        new = SEARCH_ONLY.sub("", text)
        if page.parent == out and page.name == "index.html" and 'rel="icon"' not in new:
            favicon = "_static/" + Path(app.config.html_favicon or "favicon.png").name
            if (out / favicon).is_file():
                new = f'<link rel="icon" href="{favicon}">\n' + new
        if new != text:
            page.write_text(new, encoding="utf-8")


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=1000)  # after every other handler
    app.connect("build-finished", _finish, priority=900)  # after the root redirect is written
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
