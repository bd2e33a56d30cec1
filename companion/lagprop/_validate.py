"""Validation helpers used at the public boundary of lagprop.

Every function here raises ``ValueError`` (or ``TypeError``) whose message names the argument in
backticks, says what was expected and shows what was received.
"""

import numbers

import numpy as np


def _describe(x, limit=60):
    """A one-line description of a received value: an array by its shape and dtype, anything
    else by its type and a repr cut to ``limit`` characters (never a multi-line dump)."""
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__} {short_repr(x, limit)}"


def short_repr(x, limit=60):
    """``repr(x)`` on one line (runs of whitespace collapsed), cut to ``limit`` characters."""
    text = " ".join(repr(x).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def number(x, spec=".4g"):
    """``format(x, spec)`` for a message, with a signed zero printed as 0 (never "-0")."""
    x = float(x)
    text = format(x + 0.0, spec)  # -0.0 + 0.0 == +0.0
    if text.lstrip("-").strip("0.") == "" and text.startswith("-"):
        text = text[1:]  # a tiny negative number rounded to zero by the format
    return text


def as_float_array(x, name, *, ndim=None, allow_1d=False, finite=True):
    """Return ``x`` as a float64 array, checking its dimension and that it is finite.

    With ``allow_1d`` a 1-D array is accepted where ``ndim == 2`` and is promoted to one row.
    Text, None, complex numbers and ragged nested lists raise ``TypeError``.
    """
    if x is None:
        raise TypeError(f"`{name}` must be array-like of real numbers, got None")
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"`{name}` must be array-like of real numbers, got {_describe(x)}") from exc
    if raw.dtype.kind == "c":
        raise TypeError(f"`{name}` must be real, got a complex array of shape {raw.shape}")
    if raw.dtype.kind in "USV" or (raw.dtype.kind == "O" and not all(
            isinstance(e, numbers.Real) for e in raw.ravel())):
        raise TypeError(f"`{name}` must be array-like of real numbers, got "
                        f"{_describe(x)}")
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
    """Return ``x`` as a float64 (P, width) array of patterns as rows; a 1-D array is one pattern.

    A width mismatch reports the shape that was passed (not the promoted one) and, where a 1-D
    array holds several patterns, the ``reshape`` that reads it as rows.
    """
    arr = as_float_array(x, name, ndim=2, allow_1d=True)
    if arr.shape[1] != width:
        cols = f"{width} column{'s' if width != 1 else ''}"
        if np.ndim(x) == 1:  # promoted: report the 1-D shape passed
            hint = ""
            if arr.size % width == 0 and arr.size > width:
                hint = (f"; for {arr.size // width} patterns of {width} "
                        f"value{'s' if width != 1 else ''} pass `{name}.reshape(-1, "
                        f"{width})`")
            raise ValueError(f"`{name}` must have {cols}, one row per pattern (a 1-D "
                             "array is one pattern), got a 1-D array of shape "
                             f"({arr.size},){hint}")
        raise ValueError(f"`{name}` must have {cols} (one row per pattern), got shape "
                         f"{arr.shape}")
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
        raise ValueError(f"`{name}` must be a scalar or have one mass per weight, "
                         f"shape ({m},), got {arr.shape}")
    if np.any(arr <= 0):
        raise ValueError(f"`{name}` must be > 0 for every weight, got min({name}) = "
                         f"{float(arr.min())!r}")
    return arr


def returned_array(value, name, shape=None, *, where=""):
    """Check what a user's callable returned: real, finite numbers (of ``shape`` when given).

    ``name`` names the callable (``grad``); ``where`` says at which call (" at k = 3"). Complex
    results raise ``TypeError`` rather than losing their imaginary part with a warning.
    """
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged
        raise TypeError(f"`{name}` must return real numbers, got "
                        f"{_describe(value)}{where}") from exc
    if raw.dtype.kind == "c":
        raise TypeError(f"`{name}` must return real numbers, got a complex array of "
                        f"shape {raw.shape}{where}")
    if raw.dtype.kind not in "biuf":
        reals = raw.dtype.kind == "O" and all(isinstance(e, numbers.Real) for e in raw.ravel())
        if not reals:
            raise TypeError(f"`{name}` must return real numbers, got "
                            f"{_describe(value)}{where}")
        raw = raw.astype(np.float64)
    arr = np.asarray(raw, dtype=np.float64)
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"`{name}` must return an array of shape {tuple(shape)}, got "
                         f"shape {arr.shape}{where}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` returned non-finite values (nan or inf){where}")
    return arr


def integer_ids(x, name, *, minimum=-1):
    """Return ``x`` as an int64 array of ids >= ``minimum``: integers, or floats holding integer
    values within int64's range (checked before the cast, so nothing is lost or warned about)."""
    a = np.asarray(x)
    if a.dtype.kind in "iu":
        a = a.astype(np.int64)
    elif a.size == 0:
        return a.astype(np.int64)
    elif a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            raise ValueError(f"`{name}` must hold integer ids, got a non-finite value")
        if np.any(a != np.round(a)):
            raise ValueError(f"`{name}` must hold integer ids, got a fractional value")
        if np.any(np.abs(a) >= 2.0 ** 62):
            raise ValueError(f"`{name}` must hold integer ids below 2**62, got "
                             f"{short_repr(float(np.max(np.abs(a))))}")
        a = a.astype(np.int64)
    else:
        raise ValueError(f"`{name}` must hold integer ids, got dtype {a.dtype}")
    if a.size and a.min() < minimum:
        raise ValueError(f"`{name}` ids must be >= {minimum}, got {int(a.min())}")
    return a


def index(x, name, n, *, what="an index", context=""):
    """Return ``x`` (an int or an array of ints) checked to lie in ``0..n-1``.

    ``context`` follows the range in the message (" (the stream has 5 patterns)").
    """
    a = np.asarray(x)
    if a.dtype.kind not in "iu":
        raise TypeError(f"`{name}` must be {what}, an integer in 0..{n - 1}{context}, "
                        f"got {_describe(x)}")
    if a.size and (a.min() < 0 or a.max() >= n):
        bad = a.min() if a.min() < 0 else a.max()
        raise ValueError(f"`{name}` must be {what} in 0..{n - 1}{context}, got "
                         f"{int(bad)}")
    return int(a) if a.ndim == 0 else a


def largest_magnitude(x):
    """The largest ``|entry|`` of an array, a number, or a nested collection of them
    (lists, tuples, dict values); 0 for an empty one."""
    if isinstance(x, dict):
        x = x.values()
    if isinstance(x, (np.ndarray, numbers.Number)):
        a = np.abs(np.asarray(x, dtype=float))
        return float(np.max(a)) if a.size else 0.0
    return max((largest_magnitude(a) for a in x), default=0.0)


def check_overflow(values, what, **named):
    """Raise a ``ValueError`` if a result computed from finite arguments is not finite.

    The package's one overflow check, used after a kernel that ran under
    ``np.errstate(over="ignore", invalid="ignore")`` on finite, validated input: a
    non-finite result there means float64 overflowed, and the caller gets an error that
    names the arguments, with the largest magnitude of each, instead of a silent inf or
    NaN. ``values`` is a sequence of arrays (or numbers), or a dict of them by name, in
    which case the message also says where (``at 'x2'``); ``named`` maps each argument's
    name to its arrays. A finite sum proves an array finite without a boolean
    temporary, so the check costs one reduction per array.
    """
    items = values.items() if isinstance(values, dict) else enumerate(values)
    for key, arr in items:
        with np.errstate(over="ignore", invalid="ignore"):
            total = np.sum(arr)
        if np.isfinite(total) or np.all(np.isfinite(arr)):  # a sum may overflow alone
            continue
        at = f" at {key!r}" if isinstance(values, dict) else ""
        names = [f"`{k}`" for k in named] or ["arguments"]
        names = ", ".join(names[:-1]) + " or " * (len(names) > 1) + names[-1]
        sizes = ", ".join(f"`{k}` {largest_magnitude(v):.3g}" for k, v in named.items())
        sizes = f" (largest magnitudes: {sizes})" if named else ""
        raise ValueError(f"{names} too large for float64: {what} overflows{at}{sizes}; "
                         "rescale them")
