"""The package as a release: sdist and wheel build, and the wheel works alone.

``python -m build`` makes both artefacts; the wheel is installed into a fresh virtual environment
with none of the book's extras, where the package's core computations run.
"""

import json
import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    os.environ.get("LAGPROP_SKIP_WHEEL") == "1", reason="LAGPROP_SKIP_WHEEL=1 (the wheel test needs the registry)"
)

#: every module of the package, from the source tree: the wheel must hold and import them all
MODULES = sorted(p.stem for p in (ROOT / "companion" / "lagprop").glob("*.py") if p.stem != "__init__")

SMOKE = r"""
import importlib, sys
import numpy as np, lagprop
from lagprop import mlp, lagrangian, gradcheck
p = mlp.init_params([3, 4, 2], seed=1)
x = np.random.default_rng(0).standard_normal((5, 3)); d = np.ones((5, 2))
C, g = lagrangian.backprop(p, x, d)
num = gradcheck.params_central_difference(lambda q: lagrangian.backprop(q, x, d)[0], p)
assert gradcheck.relative_error(g, num) < 1e-7
for name in sys.argv[1:]:
    if name == "plotting":  # needs the optional matplotlib, absent here: a clear ImportError
        try:
            importlib.import_module("lagprop.plotting")
        except ImportError as exc:
            assert "matplotlib" in str(exc), exc
        continue
    importlib.import_module("lagprop." + name)  # a module missing from the wheel fails here
assert "matplotlib" not in sys.modules
print("ok", lagprop.__version__)
"""


#: the environment of the fresh interpreter: nothing of the caller's PYTHONPATH (which
#: may point into the repository) may stand in for what the wheel installed
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k not in ("PYTHONPATH", "PYTHONHOME")}


def missing_modules(names):
    """The package's source modules absent from a wheel's file list."""
    return [m for m in ["__init__"] + MODULES if f"lagprop/{m}.py" not in names]


#: the records the chapters read (package data of lagprop.records), from the source tree
RECORDS_DIR = ROOT / "companion" / "lagprop" / "records"
RECORDS = sorted(p.name for p in RECORDS_DIR.glob("*.json"))

LOAD_RECORDS = r"""
import json, pathlib, sys
from lagprop import records
assert "site-packages" in records.__file__, records.__file__
assert records.names() == [n[:-5] for n in sys.argv[1:]], records.names()
for name in records.names():
    rec = records.load(name)
    assert isinstance(rec, dict) and rec, name
    print(name, json.dumps(rec, sort_keys=True))
try:
    records.load("nothing")
except ValueError as exc:
    assert "'experiments'" in str(exc), exc
else:
    raise AssertionError("an unknown record was loaded")
"""


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    return out


def test_sdist_and_wheel_are_built(dist):
    import lagprop

    wheels = list(dist.glob("lagprop-*.whl"))
    sdists = list(dist.glob("lagprop-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1
    assert wheels[0].name.startswith(f"lagprop-{lagprop.__version__}-")
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert missing_modules(names) == []
    assert not any(n.startswith(("tests/", "book/")) for n in names)
    with tarfile.open(sdists[0]) as tar:
        assert any(n.endswith("companion/lagprop/lagrangian.py") for n in tar.getnames())
        # a wheel built from the sdist carries the records too
        held = tar.getnames()
        assert all(any(n.endswith(f"companion/lagprop/records/{r}") for n in held)
                   for r in RECORDS)


@pytest.fixture(scope="module")
def fresh_python(dist, tmp_path_factory):
    """A fresh virtual environment with the wheel (and numpy, scipy) and nothing else."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    wheel = next(dist.glob("lagprop-*.whl"))
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], check=True,
                   env=CLEAN_ENV)
    return py


def test_wheel_runs_in_a_fresh_environment(fresh_python, tmp_path):
    out = subprocess.run([str(fresh_python), "-c", SMOKE, *MODULES], check=True, capture_output=True,
                         text=True, cwd=tmp_path, env=CLEAN_ENV)
    assert out.stdout.startswith("ok ")


def test_the_wheel_carries_the_records_and_loads_them_outside_the_repository(
        dist, fresh_python, tmp_path):
    names = zipfile.ZipFile(next(dist.glob("lagprop-*.whl"))).namelist()
    assert "lagprop/records/__init__.py" in names
    assert [n for n in RECORDS if f"lagprop/records/{n}" not in names] == []
    out = subprocess.run([str(fresh_python), "-c", LOAD_RECORDS, *RECORDS],
                         capture_output=True, text=True, cwd=tmp_path, env=CLEAN_ENV)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    for name in RECORDS:  # what the installed wheel reads is the source tree's record
        source = json.loads((RECORDS_DIR / name).read_text())
        assert json.loads(loaded[name[:-5]]) == source, name


def test_a_wheel_without_a_module_is_caught(dist, fresh_python, tmp_path):
    # the same checks on a copy of the wheel with recurrent.py taken out must fail (runs last: it
    # replaces the installed wheel of the module's environment)
    wheel = next(dist.glob("lagprop-*.whl"))
    broken = tmp_path / wheel.name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            if item.filename != "lagprop/recurrent.py":
                dst.writestr(item, src.read(item.filename))
    assert missing_modules(zipfile.ZipFile(broken).namelist()) == ["recurrent"]
    subprocess.run([str(fresh_python), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
                    str(broken)], check=True, env=CLEAN_ENV)
    out = subprocess.run([str(fresh_python), "-c", SMOKE, *MODULES], capture_output=True, text=True,
                         cwd=tmp_path, env=CLEAN_ENV)
    assert out.returncode != 0 and "No module named 'lagprop.recurrent'" in out.stderr
