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


# --------------------------------------------------------------------------------------
# The records travel with the package, and every record names date, machine and commit

import json  # noqa: E402

import pytest  # noqa: E402

from lagprop import records  # noqa: E402

PACKAGE_RECORDS = ROOT / "companion" / "lagprop" / "records"
BENCHMARKS = ROOT / "benchmarks"
DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
COMMIT = re.compile(r"[0-9a-f]{7,40}\b")
#: chapters that still read a record from the repository's benchmarks/ (each is switched
#: to lagprop.records.load by its own rewrite; remove it here then, as a test says)
READS_BENCHMARKS = set()


def _files():
    return sorted(p.stem for p in PACKAGE_RECORDS.glob("*.json"))


def provenance_problems(record, where="record"):
    """What a record misses of its date, machine and commit, as a list of sentences.

    A *measurement* is any object of the record with a ``"date"``: it must name a commit
    (a hexadecimal hash, possibly followed by a remark) and a machine, itself or in an
    object that contains it (so a part measured apart from the rest names its own date
    and commit, and may inherit the machine). A record holds at least one measurement.
    """
    problems, found = [], []

    def walk(node, path, inherited):
        if isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]", inherited)
            return
        if not isinstance(node, dict):
            return
        here = dict(inherited)
        if "machine" in node:
            here["machine"] = node["machine"]
        if "commit" in node:
            here["commit"] = node["commit"]
        if "date" in node:
            found.append(path)
            if not (isinstance(node["date"], str) and DATE.search(node["date"])):
                problems.append(f"{where}{path}: date {node['date']!r} is not a date")
            if path.endswith("['machine']") or path.endswith("_machine']"):
                here.setdefault("machine", node)  # the date sits inside the machine
            if not here.get("machine"):
                problems.append(f"{where}{path}: no machine")
            commit = here.get("commit")
            if not (isinstance(commit, str) and COMMIT.match(commit)):
                problems.append(f"{where}{path}: no commit (got {commit!r})")
        for key, value in node.items():
            walk(value, f"{path}[{key!r}]", here)

    walk(record, "", {})
    if not found:
        problems.append(f"{where}: no date, machine and commit anywhere")
    return problems


def test_the_provenance_check_notices_what_is_missing():
    good = {"date": "2026-12-06", "commit": "abc1234 with uncommitted changes",
            "machine": {"cpus": 2}, "part": {"date": "2026-12-07", "commit": "def5678"}}
    assert provenance_problems(good) == []
    inside = {"machine": {"date": "2026-12-06", "commit": "abc1234"}}
    assert provenance_problems(inside) == []
    no_commit = {"date": "2026-12-06", "machine": "vm"}
    assert provenance_problems(no_commit) == ["record: no commit (got None)"]
    unknown = {"date": "2026-12-06", "machine": "vm",
               "commit": "unknown (not a git checkout)"}
    assert len(provenance_problems(unknown)) == 1
    assert provenance_problems({"commit": "abc1234", "machine": "vm"}) == [
        "record: no date, machine and commit anywhere"]
    part = {"date": "2026-12-06", "machine": "vm", "commit": "abc1234",
            "rows": [{"module": "x", "date": "2026-12-07"}]}  # inherits the commit
    assert provenance_problems(part) == []
    no_machine = {"rows": [{"date": "2026-12-07", "commit": "abc1234"}]}
    assert provenance_problems(no_machine) == ["record['rows'][0]: no machine"]


@pytest.mark.parametrize("name", _files())
def test_every_record_names_its_date_machine_and_commit(name):
    rec = json.loads((PACKAGE_RECORDS / f"{name}.json").read_text())
    assert provenance_problems(rec, name) == []


def _measurements(node, inherited=None):
    """(date, commit, machine) of every measurement of a record, as checked above."""
    inherited = inherited or {}
    if isinstance(node, list):
        for item in node:
            yield from _measurements(item, inherited)
    elif isinstance(node, dict):
        here = dict(inherited)
        here.update({k: node[k] for k in ("machine", "commit") if k in node})
        if "date" in node:
            yield node["date"], here["commit"], here.get("machine", node)
        for value in node.values():
            yield from _measurements(value, here)


def _machine_words(machine):
    if isinstance(machine, dict):
        return [str(machine[k]) for k in ("platform",) if k in machine]
    return [machine]


@pytest.mark.parametrize("name", _files())
def test_every_summary_names_the_date_commit_and_machine_of_its_record(name):
    summary = BENCHMARKS / f"{name}.md"
    assert summary.is_file(), f"no benchmarks/{name}.md for the record {name}.json"
    text = summary.read_text()
    for date, commit, machine in _measurements(json.loads(
            (PACKAGE_RECORDS / f"{name}.json").read_text())):
        sha = commit.split()[0]
        assert date in text, (name, date)
        assert re.search(rf"commit `?{sha}\b|\| {sha}\b", text), (name, sha)
        assert all(w in text for w in _machine_words(machine)), (name, machine)


def test_every_summary_has_its_record():
    assert sorted(p.stem for p in BENCHMARKS.glob("*.md")) == _files()


def test_records_live_in_the_package_and_benchmarks_links_to_them():
    # one copy of each record: benchmarks/<name>.json, where present, is a link to it
    for path in BENCHMARKS.glob("*.json"):
        assert path.is_symlink(), f"{path.name} is a copy; records live in the package"
        assert path.resolve() == (PACKAGE_RECORDS / path.name).resolve(), path
    # and a script of benchmarks/ writes each record there
    scripts = "\n".join(p.read_text() for p in BENCHMARKS.glob("*.py"))
    for name in _files():
        assert f'record_path("{name}")' in scripts, f"no script writes {name}"


def test_the_loader_reads_every_record_and_lists_them_when_asked_for_another():
    assert records.names() == _files() and len(_files()) >= 3
    for name in _files():
        text = (PACKAGE_RECORDS / f"{name}.json").read_text()
        assert records.load(name) == json.loads(text)
    with pytest.raises(ValueError, match="`name` must be the name of a record") as err:
        records.load("experiment")
    message = str(err.value)
    assert all(repr(n) in message for n in _files()) and "'experiment'" in message
    with pytest.raises(ValueError, match="'experiments.json'"):
        records.load("experiments.json")
    with pytest.raises(TypeError, match=r"`name`.* got \w*Path"):
        records.load(PACKAGE_RECORDS / "experiments.json")


def test_a_loaded_record_is_a_fresh_object():
    first = records.load("experiments")
    first["seeds"].append(99)
    first["mnist1d"].clear()
    again = records.load("experiments")
    assert 99 not in again["seeds"] and again["mnist1d"]


def _chapter_code(path):
    nb = json.loads(path.read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    return "\n".join(code)


def test_chapters_read_records_through_the_package():
    chapters = sorted((ROOT / "book").rglob("*.ipynb"))
    chapters = [p for p in chapters if "_build" not in p.parts]
    loaded, direct = set(), set()
    for path in chapters:
        code = _chapter_code(path)
        loaded |= set(re.findall(r"records\.load\(\s*[\"'](\w+)[\"']", code))
        if re.search(r"benchmarks.{0,40}\.json", code, re.S):
            direct.add(str(path.relative_to(ROOT)))
    assert {"experiments", "results"} <= loaded <= set(_files())
    assert direct == READS_BENCHMARKS, (
        f"chapters reading a record from benchmarks/ (use lagprop.records.load): "
        f"{sorted(direct - READS_BENCHMARKS)}; switched already, remove from "
        f"READS_BENCHMARKS: {sorted(READS_BENCHMARKS - direct)}")
