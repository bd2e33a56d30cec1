"""The book's chapters as files: what every chapter must hold, checked without executing it.

Execution itself is checked twice elsewhere (the book build and nbval); here are the promises a
reader relies on: every chapter is in the table of contents, opens with the cell that installs
the matching ``lagprop`` when it runs alone (Binder, Colab), checks its own claims with
assertions, states theorems, offers exercises, draws at least one figure, stores clean outputs,
and stays small.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

import lagprop

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = (ROOT / "_toc.yml").read_text()


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _source(cell):
    return "".join(cell["source"])


def test_there_are_chapters():
    assert len(CHAPTERS) >= 4


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_is_in_the_toc(path):
    assert f"file: {path.relative_to(ROOT).with_suffix('').as_posix()}" in TOC


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_first_code_cell_installs_the_matching_package(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    first = _source(code[0])
    url = CONFIG["repository"]["url"]
    assert f'VERSION, REPO = "{lagprop.__version__}", "{url}"' in first, \
        "the install cell must pin this version and the repository of _config.yml"
    assert 'lagprop[notebooks]=={VERSION}' in first and "git+{REPO}@v{VERSION}" in first


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_theorems_exercises_assertions_and_a_figure(path):
    cells = _cells(path)
    md = "\n".join(_source(c) for c in cells if c["cell_type"] == "markdown")
    code = [c for c in cells if c["cell_type"] == "code"]
    assert len(re.findall(r"^# ", md, flags=re.M)) == 1, "exactly one title"
    assert re.search(r"\{prf:(theorem|proposition|lemma)\}", md)
    assert "{exercise}" in md and "{solution}" in md
    assert sum(_source(c).count("assert ") for c in code) >= 3
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert not any("image/svg+xml" in o.get("data", {}) for o in outputs), "SVG is compared byte for byte: use PNG"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_stored_outputs_are_clean(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    assert all(c.get("outputs") is not None for c in code)
    assert not any(o["output_type"] == "error" for c in code for o in c["outputs"])
    counts = [c.get("execution_count") for c in code if _source(c).strip()]
    assert counts == list(range(1, len(counts) + 1)), "executed once, top to bottom, from a fresh kernel"
    meta = json.loads(path.read_text())["metadata"]
    assert "widgets" not in meta
    assert path.stat().st_size < 3_000_000


LINE = 88  # characters: code and printed lines fit the page (and the PDF) without scrolling


def _text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_code_and_printed_lines_fit(path):
    long = []
    for n, cell in enumerate(_cells(path)):
        if cell["cell_type"] != "code":
            continue
        for line in _source(cell).splitlines():
            if len(line) > LINE:
                long.append(f"cell {n} code ({len(line)}): {line[:60]}...")
        for out in cell.get("outputs", []):
            texts = [_text(out.get("text"))] if out["output_type"] == "stream" else \
                    [_text(out.get("data", {}).get("text/plain"))]
            for line in "".join(texts).splitlines():
                if len(line) > LINE:
                    long.append(f"cell {n} output ({len(line)}): {line[:60]}...")
    assert not long, f"{len(long)} lines longer than {LINE} characters:\n" + "\n".join(long[:12])


def _real_alt(alt):
    alt = (alt or "").strip()
    return len(alt) >= 15 and " " in alt and not re.search(r"\.(png|jpe?g|svg)$|[0-9a-f]{32}", alt)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_has_a_caption_and_real_alt_text(path):
    missing = []
    for n, cell in enumerate(_cells(path)):
        if cell["cell_type"] != "code":
            continue
        if not any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
            continue
        mystnb = cell.get("metadata", {}).get("mystnb", {})
        caption = (mystnb.get("figure") or {}).get("caption", "")
        alt = (mystnb.get("image") or {}).get("alt", "")
        if len(caption.strip()) < 15:
            missing.append(f"cell {n}: no caption (mystnb.figure.caption)")
        if not _real_alt(alt):
            missing.append(f"cell {n}: no real alt text (mystnb.image.alt)")
        if not (mystnb.get("figure") or {}).get("name", "").startswith("fig-"):
            missing.append(f"cell {n}: no figure name fig-... (mystnb.figure.name) to reference it")
    assert not missing, "\n".join(missing)


def test_install_story_before_and_after_a_release():
    readme = (ROOT / "README.md").read_text()
    two = readme.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    block = two.split("```bash", 1)[1].split("```", 1)[0]
    assert [line.split()[1] for line in block.strip().splitlines()] == ["book", "test"]
    run = readme.split("## Running a chapter", 1)[1].split("\n## ", 1)[0]
    assert "Before the first release" in run
    assert re.search(r'pip install "[^"]*\[notebooks\]"[^\n]*from a clone', run)
    assert re.search(r'pip install "[^"]*lagprop-[\d.]+-py3-none-any\.whl\[notebooks\]"', run)
    home = (ROOT / "book" / "index.md").read_text()
    assert "lagprop[notebooks]" in home and "lagprop[plot]" not in home


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_only_admonitions_fold(path):
    """sphinx-togglebutton folds `dropdown` boxes by their admonition title; a proof or theorem
    box has none, and the page then throws in the reader's browser."""
    md = "\n".join(_source(c) for c in _cells(path) if c["cell_type"] == "markdown")
    for m in re.finditer(r"^`{3,}\{prf:[a-z]+\}[^\n]*\n((?::[a-z-]+:[^\n]*\n)*)", md, flags=re.M):
        assert "dropdown" not in m.group(1), f"a prf box with class dropdown: {m.group(0)[:60]}"
