"""The errata appendix names, for every entry, the chapter cells that check it: each named cell
must exist in the named chapter, and at least one of them must assert something, so that the
build fails if the corrected statement is false."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ERRATA = (ROOT / "book" / "appendix" / "errata.md").read_text()
ENTRIES = re.findall(r"^\(([a-z0-9-]+)\)=\n(\*\*.*?)(?=\n\(|\n## |\Z)", ERRATA, flags=re.M | re.S)


def _cells(doc):
    path = (ROOT / "book" / doc.replace("../", "")).with_suffix(".ipynb")
    return {c["id"]: "".join(c["source"]) for c in json.loads(path.read_text())["cells"]}


def test_the_appendix_has_entries():
    assert len(ENTRIES) >= 25


@pytest.mark.parametrize("label, text", ENTRIES, ids=[e[0] for e in ENTRIES])
def test_entry_names_cells_that_exist_and_assert(label, text):
    checked = text.split("*Checked in*", 1)
    assert len(checked) == 2, f"{label}: no 'Checked in'"
    docs = re.findall(r"\{doc\}`(\.\./[a-z-]+/[a-z-]+)`", checked[1])
    assert docs, f"{label}: names no chapter"
    cells = {}
    for doc in docs:
        cells.update(_cells(doc))
    quoted = re.findall(r"(?<![}`])`([0-9a-z]+(?:-[0-9a-z]+)*)`", checked[1])  # not roles
    named = [c for c in quoted
             if c in cells or re.fullmatch(r"[0-9a-f]{8}(-check)?|[a-z]+(-[a-z0-9]+)+", c)]
    assert named, f"{label}: names no cell"
    for cell in named:
        assert cell in cells, f"{label}: cell {cell} is not in {docs}"
    assert any(re.search(r"^\s*assert ", cells[c], flags=re.M) for c in named), \
        f"{label}: none of {named} asserts anything"
