"""Mutation testing of lagprop's core modules with mutmut, one module at a time.

For each module it builds a scratch copy outside the repository (the package and that module's
own tests, ``tests/test_<module>.py``), lets mutmut generate every mutant of the module, and
tests a seeded random sample of them (``--sample``, default 150; 0 tests all) under ``nice`` with
a time limit per module. A mutant is *killed* when a test fails (or times out) with it applied;
the score is killed / (killed + survived) over the sampled mutants that were tested, mutants that
no test reaches counting as survived. A random sample gives an unbiased estimate of the score of
the whole module (its standard error is about 2.5 points at 90% and 150 mutants); mutmut's own
order would test the first functions of the file only. The results (with the surviving mutants'
names, to read with ``mutmut show`` in a ``--keep`` directory) go to the record
``mutation.json`` in the package (``companion/lagprop/records``, read with
``lagprop.records.load("mutation")``) and the table of ``benchmarks/mutation.md``, each
module with the date, the machine and the commit it was measured at.

    python benchmarks/mutation.py [module ...] [--sample 150] [--minutes 10] [--keep DIR]

Slow (minutes per module) and not part of ``make test``: ``make mutation`` runs it.
"""

import argparse
import contextlib
import datetime as _dt
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import provenance

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "companion" / "lagprop"
CORE = ["lagrangian", "recurrent", "dynamics", "energy", "sharing", "action", "adjoint"]
#: tests of a module's functions kept in files of their own (lagrangian.hessian_vector, sharing.conv1d)
EXTRA_TESTS = {"lagrangian": ["test_hessian_vector.py"], "sharing": ["test_conv.py"]}
RESULTS = provenance.record_path("mutation")
TABLE = ROOT / "benchmarks" / "mutation.md"
# the console script, not `python -m mutmut`: the tests must see the same mutmut module
MUTMUT = Path(sys.executable).with_name("mutmut")

PYPROJECT = """\
[tool.mutmut]
source_paths = ["src"]
only_mutate = ["src/lagprop/{module}.py"]
pytest_add_cli_args = ["-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly"]
pytest_add_cli_args_test_selection = ["tests/"]

[tool.pytest.ini_options]
testpaths = ["tests"]
filterwarnings = ["error"]
"""


def machine():
    cpus = os.cpu_count()
    return f"{platform.node()} ({platform.machine()}, {cpus} cores, Python {platform.python_version()})"


def workspace(module, base):
    """A scratch project: src/lagprop/ (a copy) and tests/ with conftest.py and test_<module>.py."""
    ws = Path(base) / module
    if ws.exists():
        shutil.rmtree(ws)
    shutil.copytree(PACKAGE, ws / "src" / "lagprop", ignore=shutil.ignore_patterns("__pycache__"))
    (ws / "tests").mkdir()
    # mutants/src did not exist when mutmut's process started, so the import system cached it as
    # absent and found the installed (editable) lagprop instead: forget both, so that the tests
    # import the mutated copy, first on PYTHONPATH
    # (once per process: mutmut runs several pytest sessions in one process, and test modules
    # imported by the first keep their references)
    purge = ("import importlib\nimport sys\n\nif not getattr(sys, '_lagprop_mutants', False):\n"
             "    sys._lagprop_mutants = True\n"
             "    sys.path_importer_cache.clear()\n    importlib.invalidate_caches()\n"
             "    for _name in [m for m in sys.modules if m.split('.')[0] == 'lagprop']:\n"
             "        del sys.modules[_name]\n\n")
    (ws / "tests" / "conftest.py").write_text(purge + (ROOT / "tests" / "conftest.py").read_text())
    for test in [f"test_{module}.py"] + EXTRA_TESTS.get(module, []):
        shutil.copy(ROOT / "tests" / test, ws / "tests" / test)
    (ws / "pyproject.toml").write_text(PYPROJECT.format(module=module))
    return ws


def mutant_names(ws, module):
    """Every mutant mutmut generated for the module (its mutated copy defines one function each)."""
    text = (ws / "mutants" / "src" / "lagprop" / f"{module}.py").read_text()
    return sorted(set(f"lagprop.{module}.{m}" for m in re.findall(r"def (x\S*?__mutmut_\d+)\(", text)))


def run_module(module, minutes, base, sample, seed):
    ws = workspace(module, base)
    # the mutated copy, not the installed package, must be imported by the tests
    env = dict(os.environ, PYTHONPATH=str(ws / "mutants" / "src"))
    t0 = time.time()
    # a first run only generates the mutants (it stops on a filter that matches none)
    subprocess.run([str(MUTMUT), "run", f"lagprop.{module}.none"], cwd=ws, env=env, capture_output=True,
                   text=True)
    names = mutant_names(ws, module)
    chosen = names if sample is None or sample >= len(names) else \
        sorted(random.Random(seed).sample(names, sample))
    proc = subprocess.run(["nice", "-n", "10", "timeout", str(int(minutes * 60)), str(MUTMUT), "run",
                           "--max-children", "1", *chosen], cwd=ws, env=env, capture_output=True,
                          text=True)
    seconds = time.time() - t0
    listing = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=ws, capture_output=True,
                             text=True).stdout
    status = {}
    for line in listing.splitlines():
        name, _, state = line.strip().rpartition(": ")
        status[name] = state
    got = [status.get(n, "not checked") for n in chosen]
    killed = sum(s in ("killed", "timeout") for s in got)
    survived = sum(s in ("survived", "no tests") for s in got)
    done = killed + survived
    return {
        "module": module,
        "mutants": len(names),
        "sampled": len(chosen),
        "killed": killed,
        "survived": survived,
        "no_tests": sum(s == "no tests" for s in got),
        "not_checked": len(chosen) - done,
        "score": round(killed / done, 4) if done else None,
        "seconds": round(seconds, 1),
        "finished": proc.returncode == 0,
        "survivors": sorted(n for n, s in zip(chosen, got) if s in ("survived", "no tests")),
    }


def table(results):
    lines = [
        "# Mutation scores",
        "",
        "Made by `make mutation` (`python benchmarks/mutation.py`): mutmut over each core module with",
        "that module's own tests only, one module at a time under `nice`, a time limit per module, on",
        "a seeded random sample of the module's mutants. Score = killed / (killed + survived) over the",
        "sampled mutants tested (an unbiased estimate for the module, standard error about 2.5 points",
        "at 90% and 150 mutants); mutants no test reaches count as survived; `not checked` mutants",
        "were left when the time limit stopped the run. Surviving mutants are listed in",
        "the record `mutation.json` (`lagprop.records.load(\"mutation\")`). Tests",
        "written from the survivors of one sample make that sample's score optimistic:",
        "the scores below are measured on a sample drawn with another seed. Each row",
        "names the commit it measured.",
        "",
        "| module | mutants | sampled (seed) | killed | survived | of which no test | not checked | score "
        "| time | date | commit | machine |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(results.values(), key=lambda r: CORE.index(r["module"]) if r["module"] in CORE else 99):
        score = "-" if r["score"] is None else f"{100 * r['score']:.1f}%"
        lines.append(f"| {r['module']} | {r['mutants']} | {r['sampled']} ({r.get('seed', '-')}) "
                     f"| {r['killed']} | {r['survived']} "
                     f"| {r['no_tests']} | {r['not_checked']} | {score} | {r['seconds'] / 60:.1f} min "
                     f"| {r['date']} | {r['commit']} | {r['machine']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", default=CORE)
    ap.add_argument("--minutes", type=float, default=10.0, help="time limit per module")
    ap.add_argument("--sample", type=int, default=150,
                    help="test a seeded random sample of this many mutants per module (0: all)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the sample (the recorded table: 1)")
    ap.add_argument("--keep", metavar="DIR", help="build the scratch projects in DIR and keep them "
                    "(to inspect survivors with `mutmut show`); default: a temporary directory")
    args = ap.parse_args(argv)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
    with (contextlib.nullcontext(args.keep) if args.keep else
          tempfile.TemporaryDirectory(prefix="lagprop-mutation-")) as base:
        for module in args.modules:
            print(f"{module} ...", flush=True)
            measured = provenance.commit()
            r = run_module(module, args.minutes, base, args.sample or None, args.seed)
            r["date"] = _dt.date.today().isoformat()
            r["seed"] = args.seed
            r["machine"] = machine()
            r["commit"] = measured
            results[module] = r
            print(f"  {r['sampled']} of {r['mutants']} mutants: killed {r['killed']}, survived "
                  f"{r['survived']}, not checked {r['not_checked']}, score {r['score']}, "
                  f"{r['seconds']:.0f} s", flush=True)
            RESULTS.write_text(json.dumps(results, indent=1) + "\n")
            TABLE.write_text(table(results))


if __name__ == "__main__":
    main()
