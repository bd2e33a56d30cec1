"""The chapters' install cell, run as a reader runs it: its own source, in fresh environments.

The cases: the book's version and its ``notebooks`` extra are already there (nothing is
installed, nothing printed); the version is missing and the package index has it (a local wheel
directory stands in for the index: ``PIP_NO_INDEX=1``, ``PIP_FIND_LINKS=<dir>``); the version is
there but not the extra's packages (they are installed, or the cell stops); nothing can be
installed (no index, and the repository cannot be reached), where the cell stops the notebook
with one exception whose message gives pip's reason for each source and says how to install by
hand, so that the next cell never fails on a missing module instead.
"""

import pytest

import reader_env as rv

pytestmark = pytest.mark.skipif(rv.SKIP, reason="LAGPROP_SKIP_WHEEL=1 (the test needs the registry)")

# Whatever the cell tries can only come from here: no index, no network for git (and no
# byte-compiling of what it installs, which only costs time here).
OFFLINE = {"PIP_NO_INDEX": "1", "GIT_ALLOW_PROTOCOL": "file", "GIT_TERMINAL_PROMPT": "0",
           "PIP_COMPILE": "0"}  # (PIP_NO_COMPILE=1 would mean the opposite)


def _freeze(python):
    return rv.run([python, "-m", "pip", "freeze", "--all"]).stdout


def test_the_cell_pins_the_package_version():
    cell = rv.install_cell()
    assert f'"{rv.version()}"' in cell and "lagprop[notebooks]" in cell


def test_version_present_skips_and_installs_nothing():
    python = rv.reader_venv()
    empty = rv.workdir() / "empty-index-1"
    empty.mkdir(exist_ok=True)
    before = _freeze(python)
    proc = rv.run([python, "-c", rv.install_cell()],
                  env=rv.clean_env(PIP_FIND_LINKS=str(empty), **OFFLINE))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""   # an install attempt would have failed aloud
    assert _freeze(python) == before


def test_missing_version_installs_from_the_index():
    python = rv.fresh_venv("install-ok")
    proc = rv.run([python, "-c", rv.install_cell()],
                  env=rv.clean_env(PIP_FIND_LINKS=str(rv.wheelhouse()), **OFFLINE))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    check = rv.run([python, "-c", "import lagprop, matplotlib, sympy; print(lagprop.__version__)"])
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == rv.version()
    again = rv.run([python, "-c", rv.install_cell()],
                   env=rv.clean_env(PIP_FIND_LINKS=str(rv.workdir()), **OFFLINE))
    assert again.stdout == "" and again.returncode == 0   # and now it skips


def _stops_with_the_reason(proc):
    """The cell raised one exception that says why and what to do; returns its message."""
    assert proc.returncode != 0 and proc.stdout == "", proc.stdout
    assert proc.stderr.count("Error:") == 1, proc.stderr
    message = proc.stderr[proc.stderr.index("RuntimeError:"):]
    assert f"lagprop {rv.version()} with its `notebooks` extra could not be installed" in message
    # pip's own reason for each source, not a generic line
    assert "from the package index: ERROR: No matching distribution" in message, message
    assert f"from the repository's tag v{rv.version()}: fatal:" in message, message
    assert f"pip install 'lagprop[notebooks]=={rv.version()}'" in message
    assert "[notebooks]'   (before: see the README)" in message
    return message


def test_failed_install_stops_with_one_message_that_says_why():
    python = rv.fresh_venv("install-fails")
    empty = rv.workdir() / "empty-index-2"
    empty.mkdir(exist_ok=True)
    proc = rv.run([python, "-c", rv.install_cell()],
                  env=rv.clean_env(PIP_FIND_LINKS=str(empty), **OFFLINE))
    _stops_with_the_reason(proc)
    assert rv.run([python, "-c", "import lagprop"]).returncode != 0   # nothing half-installed


def test_version_present_without_the_extra_installs_the_extra_or_stops():
    python = rv.fresh_venv("no-extra")
    bare = rv.run([python, "-m", "pip", "install", "-q", "--no-compile", "--no-index",
                   "--find-links", rv.wheelhouse(), f"lagprop=={rv.version()}"])
    assert bare.returncode == 0, bare.stderr[-3000:]
    assert rv.run([python, "-c", "import sympy"]).returncode != 0
    # no index that has the extra's packages: the cell stops, it does not skip
    empty = rv.workdir() / "empty-index-3"
    empty.mkdir(exist_ok=True)
    proc = rv.run([python, "-c", rv.install_cell()],
                  env=rv.clean_env(PIP_FIND_LINKS=str(empty), **OFFLINE))
    _stops_with_the_reason(proc)
    # with them on the index: they are installed, silently
    proc = rv.run([python, "-c", rv.install_cell()],
                  env=rv.clean_env(PIP_FIND_LINKS=str(rv.wheelhouse()), **OFFLINE))
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", proc.stderr
    check = rv.run([python, "-c", "import lagprop, matplotlib, sympy, sklearn, mnist1d"])
    assert check.returncode == 0, check.stderr
