"""The command line of benchmarks/experiments.py: one short run prints test_accuracy last."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "experiments.py"

pytest.importorskip("mnist1d")
pytest.importorskip("sklearn")


@pytest.mark.parametrize("args", [["mnist1d", "--model", "logistic", "--steps", "30"],
                                  ["digits", "--model", "shared", "--steps", "30"]])
def test_one_run_prints_test_accuracy_last(args):
    out = subprocess.run([sys.executable, str(SCRIPT), *args, "--seed", "3"], capture_output=True,
                         text=True, check=True, timeout=300).stdout.strip().splitlines()
    m = re.fullmatch(r"test_accuracy=(0\.\d{4}|1\.0000)", out[-1])
    assert m, out[-1]
    assert float(m.group(1)) > 0.15  # better than chance (0.1) after a few steps


def test_model_must_fit_the_task():
    r = subprocess.run([sys.executable, str(SCRIPT), "digits", "--model", "cnn"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "--model must be one of" in r.stderr
