"""The reader's guide stays true: every chapter says what it builds on, only earlier chapters are
named, the front page's map lists every chapter in the order of ``_toc.yml``, and the dependency
figure is drawn from exactly those declarations."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import reader_guide  # noqa: E402

CHAPTERS = reader_guide.chapters(ROOT)
INDEX = (ROOT / "book" / "index.md").read_text()


def test_the_book_has_four_parts_and_sixteen_chapters():
    assert [len(docs) for _, docs in reader_guide.parts(ROOT)] == [6, 2, 6, 2]


@pytest.mark.parametrize("doc", CHAPTERS)
def test_chapter_declares_what_it_builds_on(doc):
    named = reader_guide.builds_on(ROOT, doc)
    assert named is not None, f"{doc} has no '**Builds on:**' line"
    if doc != CHAPTERS[0]:
        assert named, f"{doc} names no chapter it builds on"
    earlier = CHAPTERS[:CHAPTERS.index(doc)]
    for target in named:
        assert target in earlier, f"{doc} builds on {target}, which is not an earlier chapter"


def test_the_map_lists_every_chapter_in_order():
    section = INDEX.split("## A map of the book", 1)[1].split("\n## ", 1)[0]
    linked = [f"book/{t}" for t in re.findall(r"\{doc\}`(?:[^`<]*<)?([a-z-]+/[a-z-]+)>?`",
                                              section)]
    assert [doc for doc in linked if not doc.startswith("book/appendix/")] == CHAPTERS
    numbers = [int(n) for n in re.findall(r"^\s*(\d+)\. \{doc\}", section, flags=re.M)]
    assert numbers == list(range(1, len(CHAPTERS) + 1))


def test_the_figure_has_one_arrow_per_declaration_and_one_box_per_chapter():
    dot = reader_guide.dependency_dot(ROOT)
    arrows = set(re.findall(r'"([^"]+)" -> "([^"]+)";', dot))
    declared = {(t, d) for d in CHAPTERS for t in reader_guide.builds_on(ROOT, d) or []}
    assert arrows == declared
    boxes = re.findall(r'^\s+"(book/[^"]+)" \[label="(\d+)\. ', dot, flags=re.M)
    assert [b for b, _ in boxes] == CHAPTERS
    assert [int(n) for _, n in boxes] == list(range(1, len(CHAPTERS) + 1))


def test_a_chapter_that_names_a_later_one_is_caught(tmp_path):
    (tmp_path / "book" / "a").mkdir(parents=True)
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nparts:\n  - caption: P\n    numbered: true\n"
        "    chapters:\n      - file: book/a/one\n      - file: book/a/two\n")
    (tmp_path / "book" / "a" / "one.md").write_text("# One\n\n**Builds on:** {doc}`two`.\n")
    (tmp_path / "book" / "a" / "two.md").write_text("# Two\n\n**Builds on:** {doc}`one`.\n")
    assert reader_guide.builds_on(tmp_path, "book/a/one") == ["book/a/two"]
    order = reader_guide.chapters(tmp_path)
    assert order.index("book/a/two") > order.index("book/a/one")   # a forward reference


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_draws_the_figure():
    out = subprocess.run(["dot", "-Tsvg"], input=reader_guide.dependency_dot(ROOT),
                         capture_output=True, text=True, check=True).stdout
    assert out.count("<g id=\"node") == len(CHAPTERS)


NOTATION = (ROOT / "book" / "appendix" / "notation.md").read_text()


def _labels():
    found = set()
    for path in list((ROOT / "book").rglob("*.ipynb")) + list((ROOT / "book").rglob("*.md")):
        text = path.read_text()
        found |= set(re.findall(r":label: ([A-Za-z0-9_-]+)", text))
        found |= set(re.findall(r"\(([A-Za-z0-9_-]+)\)=", text))
        found |= set(re.findall(r"\$\$ \(([A-Za-z0-9_-]+)\)", text))
    return found


def test_every_notation_row_links_to_a_definition_that_exists():
    labels = _labels()
    docs = {p.relative_to(ROOT / "book").with_suffix("").as_posix()
            for p in (ROOT / "book").rglob("*") if p.suffix in (".ipynb", ".md")}
    rows = [line for line in NOTATION.splitlines()
            if line.startswith("| $") and "defined in" not in line]
    assert len(rows) >= 50
    tables = NOTATION.split("## Letters with more than one meaning")[0]
    for line in (r for r in rows if r in tables):
        where = line.rstrip(" |").rsplit("|", 1)[1]
        refs = re.findall(r"\{(eq|prf:ref)\}`([^`]+)`", where)
        doc_links = re.findall(r"\{doc\}`(?:[^`<]*<)?\.\./([^`>]+)>?`", where)
        assert refs or doc_links, f"no link to a definition: {line[:60]}"
        for _, label in refs:
            assert label in labels, f"{label} is not defined anywhere in the book"
        for doc in doc_links:
            assert doc in docs, f"{doc} is not a page of the book"


def test_notation_covers_every_part():
    for heading in ("## Part I:", "## Part II:", "## Part III:", "## Part IV:"):
        assert heading in NOTATION
    assert r"$Y(k) = \nabla F_k(A(k))^\top B(k)$" in NOTATION       # with its transpose
