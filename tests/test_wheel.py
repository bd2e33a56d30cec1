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

SMOKE = r"""
import numpy as np, lagprop
from lagprop import mlp, lagrangian, gradcheck
p = mlp.init_params([3, 4, 2], seed=1)
x = np.random.default_rng(0).standard_normal((5, 3)); d = np.ones((5, 2))
C, g = lagrangian.backprop(p, x, d)
num = gradcheck.params_central_difference(lambda q: lagrangian.backprop(q, x, d)[0], p)
assert gradcheck.relative_error(g, num) < 1e-7
import importlib, sys
for name in ("dynamics", "recurrent", "supervision", "energy", "action", "sharing", "adjoint"):
    try:
        importlib.import_module("lagprop." + name)
    except ModuleNotFoundError as exc:
        if exc.name != "lagprop." + name:
            raise
assert "matplotlib" not in sys.modules
print("ok", lagprop.__version__)
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
    assert "lagprop/lagrangian.py" in names
    assert not any(n.startswith(("tests/", "book/")) for n in names)
    with tarfile.open(sdists[0]) as tar:
        assert any(n.endswith("companion/lagprop/lagrangian.py") for n in tar.getnames())


def test_wheel_runs_in_a_fresh_environment(dist, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    wheel = next(dist.glob("lagprop-*.whl"))
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
    out = subprocess.run([str(py), "-c", SMOKE], check=True, capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.startswith("ok ")
