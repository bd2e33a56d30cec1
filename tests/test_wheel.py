"""The package as a release: sdist and wheel build, and the wheel works alone.

``python -m build`` makes both artefacts; the wheel is installed into a fresh virtual environment
with none of the book's extras, where the package's core computations run.
"""

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


def missing_modules(names):
    """The package's source modules absent from a wheel's file list."""
    return [m for m in ["__init__"] + MODULES if f"lagprop/{m}.py" not in names]


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


@pytest.fixture(scope="module")
def fresh_python(dist, tmp_path_factory):
    """A fresh virtual environment with the wheel (and numpy, scipy) and nothing else."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    wheel = next(dist.glob("lagprop-*.whl"))
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
    return py


def test_wheel_runs_in_a_fresh_environment(fresh_python, tmp_path):
    out = subprocess.run([str(fresh_python), "-c", SMOKE, *MODULES], check=True, capture_output=True,
                         text=True, cwd=tmp_path)
    assert out.stdout.startswith("ok ")


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
                    str(broken)], check=True)
    out = subprocess.run([str(fresh_python), "-c", SMOKE, *MODULES], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode != 0 and "No module named 'lagprop.recurrent'" in out.stderr
