"""The benchmark record covers the book as it is: every chapter of ``_toc.yml`` and a commit.

``benchmarks/results.md`` is written by ``benchmarks/run.py`` and shown by the benchmarks
appendix. It is a record, not a measurement made by the tests, so it goes stale when chapters
are added; these tests fail when that happens.
"""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "benchmarks" / "results.md"


def _toc_notebooks():
    """Every file of ``_toc.yml`` that is a notebook, read from the YAML without run.py."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load((ROOT / "_toc.yml").read_text()))
    return sorted(f + ".ipynb" for f in found if (ROOT / (f + ".ipynb")).is_file())


def _execution_section(text):
    """The "Executing the book" section of the record (up to the next heading)."""
    match = re.search(r"^## Executing the book\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, "the record has no section '## Executing the book'"
    return match.group(1)


def _missing_chapters(text, chapters):
    """The chapters without a row in the record's execution table."""
    rows = set(re.findall(r"^\| `([^`]+\.ipynb)` \|", _execution_section(text), re.M))
    return [c for c in chapters if c not in rows]


def test_execution_record_has_every_chapter_of_the_toc_and_its_commit():
    chapters = _toc_notebooks()
    assert len(chapters) >= 15, chapters
    text = RECORD.read_text()
    missing = _missing_chapters(text, chapters)
    assert not missing, f"benchmarks/results.md has no execution time for {missing}; " \
                        "re-run `python benchmarks/run.py --book-only`"
    assert re.search(r"at commit [0-9a-f]{7,40}\b", _execution_section(text)), \
        "the execution table does not name the commit it measured"
    # every record in the file says which commit it measured (or that none was recorded)
    for sentence in re.findall(r"Recorded on [^\n]*", text):
        assert " at commit " in sentence, sentence


def test_the_check_notices_a_missing_chapter():
    chapters = _toc_notebooks()
    text = RECORD.read_text()
    dropped = chapters[len(chapters) // 2]
    cut = re.sub(rf"^\| `{re.escape(dropped)}` \|[^\n]*\n", "", text, flags=re.M)
    assert cut != text
    assert _missing_chapters(cut, chapters) == [dropped]
