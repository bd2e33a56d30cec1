"""The package object itself: `import lagprop` gives the modules, help points to the book."""

import importlib
import pydoc
import subprocess
import sys

import lagprop

from pathlib import Path

# every public module of the package's source (plotting is imported on first use: matplotlib)
MODULES = sorted(p.stem for p in Path(lagprop.__file__).parent.glob("*.py")
                 if not p.stem.startswith("_") and p.stem != "plotting")


def test_import_lagprop_gives_every_module():
    assert {"lagrangian", "graph", "constrained", "classify"} <= set(MODULES)
    for name in MODULES:
        assert getattr(lagprop, name) is importlib.import_module(f"lagprop.{name}")
        assert name in lagprop.__all__
    # in a fresh interpreter too, with nothing imported before
    out = subprocess.run([sys.executable, "-c", "import lagprop; print(lagprop.lagrangian.backprop.__name__)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "backprop"


def test_help_lists_the_modules_and_points_to_the_book():
    text = pydoc.render_doc(lagprop, renderer=pydoc.plaintext)
    assert "The book" in text and "API reference" in text
    for name in MODULES + ["plotting"]:
        assert name in text


def test_every_convergence_error_line_fits_88_columns():
    e = lagprop.ConvergenceError("word " * 60, iterations=3, residual=1.0, spectral_radius=2.0)
    assert all(len(line) <= 88 for line in str(e).splitlines()) and len(str(e).splitlines()) > 1
    assert e.diagnosis == ("word " * 60).strip() and e.iterations == 3 and e.spectral_radius == 2.0


# the modules whose tab completion is limited to their public names (the others: see __all__)
COMPLETED = ["action", "adjoint", "dynamics", "energy", "gradcheck", "lagrangian", "landscapes",
             "mlp", "plotting", "recurrent", "sharing", "supervision"]


def test_tab_completion_shows_the_public_names_only():
    import rlcompleter

    for name in COMPLETED:
        module = importlib.import_module(f"lagprop.{name}")
        assert sorted(dir(module)) == sorted(module.__all__), name
        assert all(hasattr(module, n) for n in module.__all__), name
        # what an interactive `module.<TAB>` offers: no numpy, no validation helpers
        ns = {"m": module}
        completer = rlcompleter.Completer(ns)
        offered, i = set(), 0
        while (match := completer.complete("m.", i)) is not None:
            offered.add(match[2:].split("(")[0])
            i += 1
        internal = {"np", "dataclass", "as_float_array", "check_params", "positive_int", "_forward"}
        assert not offered & (internal - set(module.__all__)), name
        assert offered <= set(module.__all__), (name, offered - set(module.__all__))
    assert "plotting" in dir(lagprop) and "np" not in dir(lagprop)
    assert set(dir(lagprop)) == set(lagprop.__all__) | {"plotting"}
