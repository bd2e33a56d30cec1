"""Environments outside the repository, as a reader has them (shared by the reader-path tests).

Built once per test session, in a temporary directory outside the repository:

- ``wheel()``: the package's wheel, built from the repository with ``python -m build``;
- ``wheelhouse()``: that wheel and every wheel it needs with the ``notebooks`` extra, plus a
  Jupyter kernel and ``nbclient``, downloaded once from the package index; it stands in for the
  index afterwards (``--no-index --find-links``);
- ``fresh_venv(name)``: a new virtual environment with pip and nothing else;
- ``reader_venv()``: a fresh environment with only ``lagprop[notebooks]`` (from the wheel),
  ``ipykernel`` and ``nbclient`` installed.
"""

import atexit
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = os.environ.get("LAGPROP_SKIP_WHEEL") == "1"  # the wheel tests need the registry


def version():
    """The package's version, read from its source (what the wheel is built with)."""
    text = (ROOT / "companion" / "lagprop" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.M).group(1)


@functools.lru_cache(maxsize=None)
def workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="lagprop-reader-"))
    assert ROOT not in path.parents
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def clean_env(**extra):
    """The environment of a reader's process: nothing of the repository's."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_", "JUPYTER", "CONDA"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(ROOT)))
    env.update({"PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    env.update(extra)
    return env


def run(cmd, **kw):
    kw.setdefault("env", clean_env())
    kw.setdefault("cwd", workdir())
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


@functools.lru_cache(maxsize=None)
def wheel() -> Path:
    out = workdir() / "dist"
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (whl,) = out.glob("lagprop-*.whl")
    return whl


@functools.lru_cache(maxsize=None)
def wheelhouse() -> Path:
    house = workdir() / "wheelhouse"
    house.mkdir()
    shutil.copy(wheel(), house)
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "-d", str(house),
                           f"lagprop[notebooks] @ {wheel().as_uri()}", "ipykernel", "nbclient"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return house


def fresh_venv(name) -> Path:
    """A new virtual environment (with pip); returns its python."""
    path = workdir() / name
    venv.create(path, with_pip=True, clear=True, symlinks=True)
    python = path / "bin" / "python"
    assert run([python, "-c", "import lagprop"]).returncode != 0  # the repository is not visible
    return python


@functools.lru_cache(maxsize=None)
def reader_venv() -> Path:
    python = fresh_venv("reader")
    proc = run([python, "-m", "pip", "install", "-q", "--no-compile", "--no-index",
                "--find-links", wheelhouse(),
                f"lagprop[notebooks]=={version()}", "ipykernel", "nbclient"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    return python


def install_cell(doc=None):
    """The source of the install cell: the first code cell of a chapter."""
    if doc is None:
        import yaml

        toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
        doc = next(ch["file"] for part in toc["parts"] for ch in part.get("chapters", [])
                   if (ROOT / f"{ch['file']}.ipynb").is_file())
    nb = json.loads((ROOT / f"{doc}.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
    return "".join(cell["source"])
