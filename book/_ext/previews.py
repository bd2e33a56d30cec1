"""Previews where the reader stands: hovering a reference shows what it points to.

A reference to a theorem or definition (``{prf:ref}``), an equation (``{eq}``), a
glossary term (``{term}``), a citation (``{cite}``), a section or another page shows
its target in a tip, typeset by the book's own MathJax, so that the reader need not jump
away and back. The tips are made at build time by sphinx-tippy: each page gets a small
script (``_static/tippy/<page>.*.js``) holding the HTML of the targets its links point
to, so a static site serves them, offline.

What this extension adds to sphinx-tippy:

* tippy.js and Popper come from the site itself (``_static/previews/``, vendored, MIT),
  never a CDN; no tip is fetched from the network at build time (Wikipedia, DOI and Read
  the Docs tips are off);
* only the article's links get a tip (not the sidebars' contents);
* a glossary term that shares its definition with the next terms (several ``dt`` before
  one ``dd``) shows that definition; a citation shows its entry of the list of
  references; an equation keeps its number (sphinx-tippy drops it), which also names the
  tip for a screen reader;
* the tips' HTML is cleaned: no ``id`` (a copy must not repeat the page's ids), no "#"
  heading links, no index targets, no list roles out of their list, and a link to an
  anchor of the target's page names that page;
* pages with references load MathJax, which typesets a tip when it is first shown
  (``_static/previews.js``), with the look of the page in both colour modes
  (``_static/previews.css``).

The tips are the reader's on hover and on keyboard focus (the link is described by the
tip, ``aria-describedby``), they stay while the pointer moves onto them, and Escape
closes them; on a touch screen a long press shows one and a tap follows the link. The
LaTeX build is untouched.
"""

import posixpath
from pathlib import Path

import sphinx_tippy
from bs4 import BeautifulSoup

STATIC = Path(__file__).resolve().parents[1] / "_static"
# loaded (deferred) before each page's tips script, in this order: tippy needs Popper
VENDORED = ("previews/popper.min.js", "previews/tippy.min.js")
# what a tip copies whole: sphinx-tippy's default, and a citation's entry
TIP_SELECTOR = ("figure, table, img, p, aside, div.admonition, "
                "div.literal-block-wrapper, div.citation")
PROPS = {
    "placement": "bottom-start",  # below the link, or above it when there is no room
    "maxWidth": 560,
    "interactive": True,  # the pointer may move onto the tip (to scroll a long one)
    "theme": "lagprop",  # _static/previews.css: the page's colours, light or dark
    "delay": [250, 150],  # no flicker while the pointer crosses the text
}
# written by sphinx-tippy into the site's root even with its network tips off
CACHES = ("tippy_wiki_cache.json", "tippy_doi_cache.json", "tippy_rtd_cache.json")
# roles that are right only inside the list they came from
LIST_ROLES = {"listitem", "doc-biblioentry"}


def _configure(app, config):
    path = str(STATIC)
    if path not in config.html_static_path:
        config.html_static_path.append(path)
    config.tippy_js = VENDORED
    config.tippy_enable_wikitips = False
    config.tippy_enable_doitips = False
    config.tippy_rtd_urls = []
    config.tippy_enable_mathjax = False  # _static/previews.js typesets a shown tip
    config.tippy_anchor_parent_selector = "article.bd-article"
    config.tippy_tip_selector = TIP_SELECTOR
    config.tippy_props = dict(PROPS, **(config.tippy_props or {}))


def clean_tip(html, page_file=None):
    """A tip's HTML without what must not be copied: ids, heading links, index targets,
    and the hidden frames and the slider of a drivable figure (a tip shows its one frame).

    With ``page_file`` (the target page's file name, ``costate.html``), a link to an
    anchor of that page (``#equation-...``) names the page, so that it still leads there
    from a tip shown on another page (sphinx-tippy makes such names relative to where
    the tip is shown).
    """
    soup = BeautifulSoup(html, "html.parser")
    for link in soup.select("a.headerlink"):
        link.decompose()
    for target in soup.select("span.target"):
        if not target.get_text(strip=True):
            target.decompose()
    for figure in soup.select("div.lp-drivable"):  # a drivable figure: its shown frame only
        for img in figure.select("div.lp-drivable-frames img[hidden]"):
            img.decompose()
        for control in figure.select("div.lp-drivable-control"):
            control.decompose()
    for tag in soup.find_all(True):
        tag.attrs.pop("id", None)
        if tag.get("role") in LIST_ROLES:
            del tag["role"]
    if page_file:
        for link in soup.select('a[href^="#"]'):
            link["href"] = page_file + link["href"]
    return str(soup)


def glossary_tips(body):
    """``{term id: html}``: each glossary term, with the terms of its definition."""
    tips = {}
    for dl in body.select("dl.glossary"):
        group = []
        for child in dl.find_all(["dt", "dd"], recursive=False):
            if child.name == "dt":
                group.append(child)
                continue
            first = child.find(["p", "div", "ul", "ol"], recursive=False)
            terms = "".join(str(dt) for dt in group)
            html = f"{terms}<dd>{first if first else ''}</dd>"
            for dt in group:
                if dt.get("id"):
                    tips[str(dt["id"])] = f'<dl class="simple glossary">{html}</dl>'
            group = []
    return tips


def equation_tips(body):
    """``{equation id: html}``: a numbered display with its number (which names it)."""
    return {str(div["id"]): str(div) for div in body.select("div.math[id]")}


def _tips_of_page(config, body):
    tips = _SPHINX_TIPPY_TIPS(config, body)
    tips.update(glossary_tips(body))
    tips.update(equation_tips(body))
    page = _PAGE["name"]
    page_file = posixpath.basename(page) + ".html" if page else None
    return {key: clean_tip(html, page_file) for key, html in tips.items()}


_SPHINX_TIPPY_TIPS = sphinx_tippy.create_id_to_tip_html
_PAGE = {"name": None}  # the page whose tips sphinx-tippy is collecting


def _remember_page(app, pagename, templatename, context, doctree):
    _PAGE["name"] = pagename if doctree is not None else None


def _mathjax_for_tips(app, pagename, templatename, context, doctree):
    """A page whose text links somewhere loads MathJax: its tips may hold formulas."""
    body = context.get("body") or ""
    if doctree is None or 'class="reference internal' not in body:
        return
    domain = app.env.get_domain("math")
    domain.data["has_equations"][pagename] = True


def _remove_caches(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for name in CACHES:
        (Path(app.outdir) / name).unlink(missing_ok=True)


def setup(app):
    app.setup_extension("sphinx_tippy")
    sphinx_tippy.create_id_to_tip_html = _tips_of_page
    app.connect("config-inited", _configure)
    # before sphinx-tippy collects the page's tips (priority 450)
    app.connect("html-page-context", _remember_page, priority=440)
    # before sphinx.ext.mathjax decides (priority 500) whether the page loads MathJax
    app.connect("html-page-context", _mathjax_for_tips, priority=450)
    app.connect("build-finished", _remove_caches, priority=600)  # after sphinx-tippy's
    # after tippy.js (added by sphinx-tippy for each page, priority 500), deferred too
    app.add_js_file("previews.js", priority=600, loading_method="defer")
    app.add_css_file("previews.css", priority=900)
    # sphinx-tippy gathers every page's tips in one process before writing them
    return {"parallel_read_safe": True, "parallel_write_safe": False, "version": "1.0"}
