"""Where the benchmark scripts write their records, and the commit a record measured.

Every script of ``benchmarks/`` writes its record, ``<name>.json``, into the package
(``companion/lagprop/records``, read back with ``lagprop.records.load(name)``), so that
the records the chapters read travel with the wheel; ``benchmarks/<name>.json`` is a
link to that file, kept for the paths that name it. The readable summary,
``benchmarks/<name>.md``, stays here. Every record names the date, the machine and the
commit it measured (``commit()``).
"""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "companion" / "lagprop" / "records"

#: what a measurement depends on: the package, the chapters and the benchmark scripts,
#: not the records themselves (a record written by the last run leaves the tree clean)
_MEASURED = ["companion", "book", "benchmarks",
             ":(exclude)companion/lagprop/records/*.json",
             ":(exclude)benchmarks/*.json", ":(exclude)benchmarks/*.md"]


def record_path(name):
    """The JSON file of the record ``name`` in the package."""
    return RECORDS / f"{name}.json"


def commit(override=None, full=False):
    """The commit the measured tree comes from, marked when the tree differs from it.

    ``override`` (a script's ``--commit``) names the commit of a tree exported without
    ``.git``; without ``.git`` and without it, the result says so and names no commit.
    """
    if override:
        return override
    def git(*args):
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True,
                              text=True, check=True).stdout.strip()

    try:
        sha = git("rev-parse", *([] if full else ["--short"]), "HEAD")
        dirty = git("status", "--porcelain", "--", *_MEASURED)
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return sha + (" with uncommitted changes" if dirty else "")
