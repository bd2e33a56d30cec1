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


def _docstrings(module):
    import inspect

    yield module.__name__, module.__doc__
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            yield f"{module.__name__}.{name}", obj.__doc__
        if inspect.isclass(obj):
            for key, value in vars(obj).items():
                if isinstance(value, property):
                    value = value.fget
                if not key.startswith("_") and callable(value):
                    yield f"{module.__name__}.{name}.{key}", value.__doc__


def test_no_maths_in_the_api_pages_has_a_multi_letter_subscript():
    """What the API pages typeset as maths (inline, displays, and the shapes they turn into maths)
    holds no ``n_out``-like subscript, which would read as n_o times ut."""
    import inspect
    import re

    sys.path.insert(0, str(Path(__file__).parents[1] / "book" / "_ext"))
    try:
        import api_pages
    finally:
        sys.path.pop(0)
    bad = re.compile(r"(?<![\\A-Za-z])[A-Za-z]+_[A-Za-z][A-Za-z0-9]+")
    found = []
    for name in COMPLETED:
        module = importlib.import_module(f"lagprop.{name}")
        for where, doc in _docstrings(module):
            if not doc:
                continue
            lines = inspect.cleandoc(doc).split("\n")
            api_pages._shapes_as_math(None, None, None, None, None, lines)
            maths, in_display = re.findall(r":math:`([^`]*)`", "\n".join(lines)), False
            for line in lines:
                if line.strip().startswith(".. math::"):
                    in_display = True
                    maths.append(line.strip()[9:])
                elif in_display and (not line.strip() or line.startswith(" ")):
                    maths.append(line)
                else:
                    in_display = False
            found += [(where, m.group(0)) for tex in maths for m in bad.finditer(tex)]
    assert found == []
    # the check itself catches the defect it is for
    lines = ["W : ndarray, shape (n_out, n_in)"]
    api_pages._shapes_as_math(None, None, None, None, None, lines)
    assert bad.search(re.findall(r":math:`([^`]*)`", lines[0])[0])
