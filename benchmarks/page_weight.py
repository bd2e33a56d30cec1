"""The weight of each chapter page of the built book: bytes a first visit downloads.

Run from the repository root after ``make book``:
``.venv/bin/python benchmarks/page_weight.py`` (about a minute; needs Chromium and the
``test`` extra's Playwright, as the browser tests do). It writes the record
``page_weight.json`` into the package (``lagprop.records``; see ``provenance.py``) and
``benchmarks/page_weight.md``, shown in the book's benchmarks appendix.

Each chapter page of ``_build/html`` is opened in a fresh headless Chromium profile (an
empty cache) served from a local server, left until the network is idle and MathJax has
typeset the page, and the bodies of every response are summed: the HTML, the scripts and
style sheets, the fonts MathJax loads, the images, and the frames of the figures the
reader can drive. The total is split by kind, with MathJax on its own line since every
page shares it (a second page takes it from the browser's cache). The goal of the book
is a chapter page under about 2 MB.
"""

import argparse
import gzip
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests"))
import provenance  # noqa: E402
from run import describe, machine, toc_chapters  # noqa: E402

OUT_JSON = provenance.record_path("page_weight")  # lagprop.records.load("page_weight")
OUT_MD = ROOT / "benchmarks" / "page_weight.md"
HTML = ROOT / "_build" / "html"
GOAL_MB = 2.0
KINDS = ("mathjax", "images", "scripts", "styles", "fonts", "html")


def kind(url, content_type):
    if "mathjax" in url.lower():
        return "mathjax"
    if content_type.startswith("image/"):
        return "images"
    if "javascript" in content_type or url.endswith(".js"):
        return "scripts"
    if "css" in content_type or url.endswith(".css"):
        return "styles"
    if "font" in content_type or url.endswith((".woff", ".woff2", ".ttf")):
        return "fonts"
    if "html" in content_type:
        return "html"
    return "other"


def weigh(ctx, url):
    sizes, packed = {}, {}
    page = ctx.new_page()

    def on_response(response):
        try:
            body = response.body()
        except Exception:  # a redirect or an aborted request has no body
            return
        k = kind(response.url, response.headers.get("content-type", ""))
        sizes[k] = sizes.get(k, 0) + len(body)
        # what a server that compresses (GitHub Pages, gzip) sends; images stay as they are
        z = len(body) if k == "images" else len(gzip.compress(body, 6))
        packed[k] = packed.get(k, 0) + z

    page.on("response", on_response)
    page.goto(url, wait_until="networkidle")
    page.wait_for_function("() => !window.MathJax || !MathJax.startup || "
                           "MathJax.startup.promise !== undefined", timeout=60_000)
    page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.wait_for_load_state("networkidle")
    page.close()
    return sizes, packed


def markdown(res):
    lines = [describe(res["machine"]), "",
             "Bytes a first visit to each chapter page downloads (an empty cache), "
             "in kB: the total as sent by a server that compresses text (gzip, as "
             "GitHub Pages does), then the uncompressed bytes by kind. MathJax, the "
             "theme's scripts (its icon font, `fontawesome.js`, is about 1.5 MB "
             "uncompressed) and the styles are shared by every page and cached after "
             "the first.", "",
             "| page | sent (gzip) | uncompressed | MathJax | images | scripts | styles "
             "| fonts | HTML |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in res["pages"]:
        s = row["kB"]
        lines.append(f"| `{row['page']}` | **{row['sent_kB']:.0f}** | "
                     f"{row['total_kB']:.0f} | "
                     + " | ".join(f"{s.get(k, 0):.0f}" for k in KINDS)
                     + " |")
    heavy = [r["page"] for r in res["pages"] if r["sent_kB"] > GOAL_MB * 1000]
    lines += ["", f"Goal: under {GOAL_MB:g} MB sent for a chapter. "
              + (f"Above it: {', '.join(f'`{p}`' for p in heavy)}." if heavy
                 else "Every chapter page is under it.")]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commit", help="the commit of an exported tree without .git")
    args = ap.parse_args(argv)
    import chromium

    pages = ["index.html"] + [str(Path(nb).with_suffix(".html"))
                              for nb in toc_chapters()]
    rows = []
    with chromium.serve(HTML) as base:
        for rel in pages:
            with tempfile.TemporaryDirectory() as prof, chromium.context(prof) as ctx:
                sizes, packed = weigh(ctx, f"{base}/{rel}")
            kb = {k: v / 1000 for k, v in sizes.items()}
            sent = sum(packed.values()) / 1000
            rows.append({"page": rel, "sent_kB": sent, "total_kB": sum(kb.values()),
                         "kB": kb})
            print(f"{rel:<40} {sent:8.0f} kB sent, {sum(kb.values()):8.0f} kB")
    res = {"machine": machine(args.commit), "goal_MB": GOAL_MB, "pages": rows}
    OUT_JSON.write_text(json.dumps(res, indent=1) + "\n")
    OUT_MD.write_text(markdown(res))


if __name__ == "__main__":
    main()
