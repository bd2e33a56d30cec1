"""The reader's path: each reader notebook run where a reader runs it.

The wheel is built, a fresh virtual environment outside the repository gets only
``lagprop[notebooks]`` (from the wheel), ``ipykernel`` and ``nbclient``, and every reader notebook
of ``_build/notebooks`` is copied into an empty directory of its own and executed there, top to
bottom, with that environment's kernel. The install cell must find the version it pins and do
nothing; every cell must run (within nbclient's 120 s per cell: no hang); ``lagprop`` must come
from the environment, not the repository. Wall-clock times are not asserted here (they depend on
the machine's load); the execution appendix and benchmarks record them.
"""

import json
import os

import pytest

import reader_env as rv

NOTEBOOKS = rv.ROOT / "_build" / "notebooks"
IN_CI = os.environ.get("CI", "").lower() == "true"

_why = None
if rv.SKIP:
    _why = "LAGPROP_SKIP_WHEEL=1 (the test needs the registry)"
elif not any(NOTEBOOKS.rglob("*.ipynb")):
    _why = "no reader notebooks (run `make notebooks`)"
    if IN_CI:
        raise RuntimeError(f"the reader-path test cannot run in CI: {_why}")
pytestmark = pytest.mark.skipif(_why is not None, reason=str(_why))

DRIVER = r'''
import json, pathlib, shutil, sys, tempfile, time, traceback
import nbformat
from nbclient import NotebookClient

WHERE = "import lagprop, sys; print(lagprop.__file__); print(sys.executable)"
report = {}
for src in sys.argv[1:]:
    home = pathlib.Path(tempfile.mkdtemp(prefix="chapter-"))   # an empty directory
    path = home / pathlib.Path(src).name
    shutil.copy(src, path)
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(WHERE))
    start = time.perf_counter()
    entry = {}
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(home)}}).execute()
    except Exception:
        entry["error"] = traceback.format_exc()[-3000:]
    entry["seconds"] = round(time.perf_counter() - start, 1)
    codes = [c for c in nb.cells if c.cell_type == "code"]
    entry["install_outputs"] = codes[0].get("outputs", [])
    entry["where"] = "".join(o.get("text", "") for o in codes[-1].get("outputs", []))
    entry["errors"] = [o.get("ename") for c in codes for o in c.get("outputs", [])
                       if o.get("output_type") == "error"]
    entry["dir"] = sorted(p.name for p in home.iterdir())
    report[src] = entry
json.dump(report, sys.stdout)
'''


@pytest.fixture(scope="module")
def executed():
    python = rv.reader_venv()
    chapters = sorted(NOTEBOOKS.rglob("*.ipynb"))
    scratch = rv.workdir() / "jupyter"
    env = rv.clean_env(JUPYTER_DATA_DIR=str(scratch / "data"), JUPYTER_CONFIG_DIR=str(scratch / "config"),
                       IPYTHONDIR=str(scratch / "ipython"), MPLCONFIGDIR=str(scratch / "mpl"),
                       JUPYTER_PLATFORM_DIRS="1")
    proc = rv.run([python, "-c", DRIVER, *chapters], env=env, timeout=60 * 60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return python, json.loads(proc.stdout)


def test_every_reader_notebook_runs_top_to_bottom_from_the_wheel(executed):
    python, report = executed
    assert len(report) == len(list(NOTEBOOKS.rglob("*.ipynb"))) >= 1
    failed = {src: r.get("error", r["errors"]) for src, r in report.items()
              if "error" in r or r["errors"]}
    assert not failed, failed
    venv = python.parent.parent
    for src, r in report.items():
        module, executable = r["where"].split()
        assert module.startswith(str(venv)) and "site-packages" in module, (src, module)
        assert not module.startswith(str(rv.ROOT)), (src, module)
        assert executable.startswith(str(venv)), (src, executable)


def test_install_cell_skips_when_the_version_is_there(executed):
    _, report = executed
    for src, r in report.items():
        assert r["install_outputs"] == [], (src, r["install_outputs"])
