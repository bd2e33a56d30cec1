"""Prose a learner can follow: short sentences and no long runs of unbroken text.

Issue 17 of the learner's edition sets two measurable limits for every chapter: fewer than
8 % of its sentences longer than 35 words, and no run of about 350 words of prose without a
display, table, figure, list, heading or visible code between. This module measures both on
the markdown of each chapter of ``_toc.yml``: maths counts as one word, a role such as
{term}`x <y>` as its text, list items as sentences of their own, fenced code and maths
blocks as breaks, and the prose inside theorem, exercise and admonition boxes as prose.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LONG_WORDS, LONG_SHARE, RUN_WORDS = 35, 0.08, 350
SKIP = ("math", "code-cell", "code", "code-block", "glossary", "list-table", "figure",
        "image", "chapter-dependencies", "include")


def chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part.get("chapters", [])]
    return [f for f in files if (ROOT / f"{f}.ipynb").exists()]


def _prose(md):
    """The markdown with fenced code and maths blocks turned into breaks, directive fences
    and option lines dropped, inline maths as one word and roles as their text."""
    out, closing = [], None
    for line in md.split("\n"):
        if closing is not None:
            if line.strip() == closing:
                closing = None
            continue
        fence = re.match(r"^\s*(`{3,}|:{3,})\s*(\{([^}]*)\})?\s*(\S*)", line)
        if fence and fence.group(1):
            plain_code = fence.group(2) is None and fence.group(4)
            if plain_code or (fence.group(3) or "") in SKIP:
                closing = fence.group(1)
            out.append("\n<BREAK>\n")
            continue
        if re.match(r"^\s*:[a-z-]+:", line):
            continue
        out.append(line)
    md = "\n".join(out)
    md = re.sub(r"\$\$.*?\$\$", "\n\n<BREAK>\n\n", md, flags=re.S)
    md = re.sub(r"\$[^$]+\$", " X ", md)
    return re.sub(r"\{[a-z:]+\}`([^`<]*)(<[^>]*>)?`", r"\1", md)


def _sentences(block):
    items = re.split(r"\n\s*(?:[-*]|\d+\.)\s+", "\n" + block)
    for item in items:
        text = re.sub(r"\s+", " ", item)
        text = re.sub(r"\b(e\.g|i\.e|cf|etc|vs|al)\.", r"\1", text)
        yield from (s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(])", text) if s.strip())


def measure(path):
    """(number of sentences, those over LONG_WORDS words, longest run in words)."""
    nb = json.loads(path.read_text())
    n = long = run = longest = 0
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] != "markdown":
            if "remove-cell" not in tags:
                run = 0  # a figure or visible code breaks a run
            continue
        for block in re.split(r"\n\s*\n", _prose("".join(cell["source"]))):
            b = block.strip()
            if not b or b.startswith(("#", "|", "<BREAK>", "(")):
                run = 0
                continue
            run += len(b.split())
            longest = max(longest, run)
            for s in _sentences(b):
                n += 1
                long += len(s.split()) > LONG_WORDS
    return n, long, longest


@pytest.mark.parametrize("chapter", chapters(), ids=lambda c: c.split("/")[-1])
def test_sentences_are_short_and_runs_are_broken(chapter):
    n, long, longest = measure(ROOT / f"{chapter}.ipynb")
    assert n > 50, (chapter, n)  # the measure read the chapter's prose
    assert long / n < LONG_SHARE, f"{long} of {n} sentences over {LONG_WORDS} words"
    assert longest < RUN_WORDS, f"a run of {longest} words without a break"


def test_the_measure_sees_long_sentences_and_runs(tmp_path):
    words = " ".join(["Word"] * 40)
    cell = {"cell_type": "markdown", "metadata": {},
            "source": [f"{words}. Short one. " * 5 + "\n\n" + "$x$ and more. " * 30]}
    nb = tmp_path / "x.ipynb"
    nb.write_text(json.dumps({"cells": [cell]}))
    n, long, longest = measure(nb)
    assert long == 5 and n == 40 and longest == 5 * 42 + 30 * 3
