"""The chapters' install cell, run as a reader runs it: its own source, in fresh environments.

The three cases: the book's version is already there (nothing is installed, nothing printed);
it is missing and the package index has it (a local wheel directory stands in for the index:
``PIP_NO_INDEX=1``, ``PIP_FIND_LINKS=<dir>``); it is missing and cannot be installed (no index,
and the repository cannot be reached), where the cell prints one short message that says how to
install by hand, and no traceback.
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


def test_failed_install_prints_one_short_message_and_no_traceback():
    python = rv.fresh_venv("install-fails")
    empty = rv.workdir() / "empty-index-2"
    empty.mkdir(exist_ok=True)
    proc = rv.run([python, "-c", rv.install_cell()],
                  env=rv.clean_env(PIP_FIND_LINKS=str(empty), **OFFLINE))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Traceback" not in out and "Error" not in out and proc.stderr == ""
    lines = proc.stdout.strip().splitlines()
    assert 1 <= len(lines) <= 3, lines
    assert lines[0].startswith(f"Could not install lagprop {rv.version()}")
    assert f"pip install 'lagprop[notebooks]=={rv.version()}'" in proc.stdout
    assert rv.run([python, "-c", "import lagprop"]).returncode != 0   # nothing half-installed
