"""Validation helpers used at the public boundary of lagprop.

Every function here raises ``ValueError`` (or ``TypeError``) whose message names the argument in
backticks, says what was expected and shows what was received.
"""

import numbers

import numpy as np


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    text = repr(x)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(x).__name__} {text}"


def as_float_array(x, name, *, ndim=None, allow_1d=False, finite=True):
    """Return ``x`` as a float64 array, checking its dimension and that it is finite.

    With ``allow_1d`` a 1-D array is accepted where ``ndim == 2`` and is promoted to one row.
    """
    if x is None:
        raise TypeError(f"`{name}` must be array-like of real numbers, got None")
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"`{name}` must be array-like of real numbers, got {_describe(x)}") from exc
    if raw.dtype.kind == "c":
        raise TypeError(f"`{name}` must be real, got a complex array of shape {raw.shape}")
    if raw.dtype.kind not in "biuf":
        try:
            raw = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"`{name}` must be array-like of real numbers, got {_describe(x)}") from exc
    arr = np.asarray(raw, dtype=np.float64)
    if ndim is not None:
        if allow_1d and ndim == 2 and arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != ndim:
            raise ValueError(f"`{name}` must be {ndim}-D, got an array of shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"`{name}` must be finite, got {bad} non-finite value(s) (nan or inf)")
    return arr


def as_patterns(x, name, width):
    """Return ``x`` as a float64 (P, width) array of patterns as rows; a 1-D array is one pattern."""
    arr = as_float_array(x, name, ndim=2, allow_1d=True)
    if arr.shape[1] != width:
        raise ValueError(f"`{name}` must have {width} columns (one row per pattern), got shape {arr.shape}")
    return arr


def _real(x, name, what):
    if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iuf":
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"`{name}` must be {what}, got {_describe(x)}")
    return float(x)


def positive_scalar(x, name):
    """Return ``x`` as a float, checking that it is a finite positive real number."""
    value = _real(x, name, "a positive real number")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"`{name}` must be a finite number > 0, got {value!r}")
    return value


def real_scalar(x, name, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``x`` as a finite float, checking it against optional bounds.

    ``low``/``high`` are inclusive unless ``low_open``/``high_open``; the message states the
    interval.
    """
    value = _real(x, name, "a real number")
    lo = "" if low is None else ("(" if low_open else "[") + f"{low!r}"
    hi = "" if high is None else f"{high!r}" + (")" if high_open else "]")
    bad = not np.isfinite(value)
    if low is not None:
        bad = bad or (value <= low if low_open else value < low)
    if high is not None:
        bad = bad or (value >= high if high_open else value > high)
    if bad:
        if low is not None and high is not None:
            where = f"in {lo}, {hi}"
        elif low is not None:
            where = f"{'>' if low_open else '>='} {low!r}"
        elif high is not None:
            where = f"{'<' if high_open else '<='} {high!r}"
        else:
            where = "finite"
        raise ValueError(f"`{name}` must be a finite number {where}, got {value!r}".replace(
            "finite number finite", "finite number"))
    return value


def nonnegative_scalar(x, name):
    """Return ``x`` as a float, checking that it is a finite real number >= 0."""
    return real_scalar(x, name, low=0.0)


def tolerance(x, name):
    """A solver tolerance: a finite float > 0 (NaN would make a comparison never succeed)."""
    return positive_scalar(x, name)


def choice(x, name, options):
    """Return ``x`` if it is one of the strings ``options``; else a ValueError listing them."""
    if not isinstance(x, str):
        raise TypeError(f"`{name}` must be one of {', '.join(map(repr, options))}, got {_describe(x)}")
    if x not in options:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, options))}, got {x!r}")
    return x


def seed_or_generator(seed, name="seed"):
    """A numpy Generator from an integer seed >= 0 or a Generator (used as it is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(positive_int(seed, name, minimum=0))


def check_callable(f, name):
    """Check that ``f`` is callable."""
    if not callable(f):
        raise TypeError(f"`{name}` must be callable, got {_describe(f)}")
    return f


def positive_int(x, name, *, minimum=1):
    """Return ``x`` as an int, checking that it is an integer no smaller than ``minimum``."""
    if isinstance(x, bool) or not isinstance(x, (numbers.Integral, np.integer)):
        raise TypeError(f"`{name}` must be an integer, got {_describe(x)}")
    if x < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {int(x)}")
    return int(x)


def check_masses(mu, m, name="mu"):
    """Masses: a positive scalar (returned as float) or one positive mass per weight, shape (m,)."""
    if np.ndim(mu) == 0:
        return positive_scalar(mu, name)
    arr = as_float_array(mu, name, ndim=1)
    if arr.shape != (m,):
        raise ValueError(f"`{name}` must be a scalar or have one mass per weight, shape ({m},), got {arr.shape}")
    if np.any(arr <= 0):
        raise ValueError(f"`{name}` must be > 0 for every weight, got min({name}) = {float(arr.min())!r}")
    return arr
