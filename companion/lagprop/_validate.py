"""Validation helpers used at the public boundary of lagprop.

Every function here raises ``ValueError`` (or ``TypeError``) whose message names the argument in
backticks, says what was expected and shows what was received.
"""

import numbers

import numpy as np


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"


def as_float_array(x, name, *, ndim=None, allow_1d=False, finite=True):
    """Return ``x`` as a float64 array, checking its dimension and that it is finite.

    With ``allow_1d`` a 1-D array is accepted where ``ndim == 2`` and is promoted to one row.
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must be array-like of real numbers, got {_describe(x)}") from exc
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


def positive_scalar(x, name):
    """Return ``x`` as a float, checking that it is a finite positive real number."""
    if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"`{name}` must be a positive real number, got {_describe(x)}")
    value = float(x)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"`{name}` must be a finite number > 0, got {value!r}")
    return value


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
        return positive_scalar(mu.item() if isinstance(mu, np.ndarray) else mu, name)
    arr = as_float_array(mu, name, ndim=1)
    if arr.shape != (m,):
        raise ValueError(f"`{name}` must be a scalar or have one mass per weight, shape ({m},), got {arr.shape}")
    if np.any(arr <= 0):
        raise ValueError(f"`{name}` must be > 0 for every weight, got min({name}) = {float(arr.min())!r}")
    return arr
