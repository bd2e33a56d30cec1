r"""Numerical checks of gradients and of adjoint (costate) passes.

* :func:`central_difference` estimates :math:`\nabla f(x)` by
  :math:`(f(x + h e_i) - f(x - h e_i)) / 2h`, with error :math:`O(h^2)`.
* :func:`dot_product_test` checks that a backward map is the transpose of a forward map:
  :math:`\langle J u, v\rangle = \langle u, J^\top v\rangle` for random :math:`u, v`.
* :func:`relative_error` is the scale-free distance used throughout the tests and the book:
  relative to the largest entry, so entries much smaller than the largest are barely tested.
* :func:`entrywise_error` measures every entry relative to its own size (with an absolute floor),
  so a wrong small entry is caught too.
* :func:`jacobian` estimates the Jacobian of a vector function by the same central differences.
* :func:`check_answer` tells the reader of an exercise whether an answer matches a
  reference, in one printed line, and where it differs when it does not.
* :func:`fitted_order` is the slope :math:`p` of :math:`\log \mathrm{err} = p \log h + c`, the
  observed order of a discretisation.

Every numerical check of the package lives here.
"""

from dataclasses import dataclass

import numpy as np

from ._validate import (_describe, as_float_array, check_callable, nonnegative_scalar,
                        positive_int, positive_scalar, short_repr)
from .mlp import check_params

__all__ = [
    "relative_error",
    "entrywise_error",
    "central_difference",
    "params_central_difference",
    "GradCheck",
    "check_gradient",
    "dot_product_test",
    "jacobian",
    "fitted_order",
    "check_answer",
]


def __dir__():
    return list(__all__)


def relative_error(a, b):
    r"""Relative distance :math:`\lVert a - b\rVert_\infty / \max(\lVert a\rVert_\infty, \lVert b\rVert_\infty)`.

    ``a`` and ``b`` may be arrays or (nested) lists of arrays of matching structure, such as two
    parameter-gradient lists; either may also be the flat 1-D vector of the other (as
    :func:`lagprop.mlp.flatten` makes it). Entries are compared in place: arrays of different
    shapes are never broadcast or reshaped into each other. Returns 0.0 when both are zero.

    Raises
    ------
    ValueError
        ``a`` and ``b`` of different shapes or structures (a (2, 3) array against a (3, 2) one),
        or non-finite values.
    TypeError
        Entries that are not arrays of real numbers.
    """
    fa, fb = _pair(a, b)
    scale = max(np.max(np.abs(fa), initial=0.0), np.max(np.abs(fb), initial=0.0))
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(fa - fb)) / scale)


def entrywise_error(a, b, *, atol=0.0):
    r"""Largest entry-wise relative distance, each entry measured against its own size.

    .. math::

        \max_i \frac{\lvert a_i - b_i\rvert}{\max(\lvert a_i\rvert, \lvert b_i\rvert,
        \mathrm{atol})}

    Unlike :func:`relative_error`, which divides by the largest entry of either argument, this
    tests small entries as strictly as large ones. Entries smaller than ``atol`` are compared
    absolutely (relative to ``atol``): central differences carry an absolute error of order
    ``h**2`` plus rounding, so an exact zero can only be matched to such a floor.

    Parameters
    ----------
    a, b : array_like or (nested) list of arrays
        Of matching structure, as for :func:`relative_error`.
    atol : float, keyword-only
        The absolute floor, >= 0. With ``atol = 0`` a pair of exact zeros counts as equal and a
        zero against a nonzero entry as a relative distance of 1.

    Returns
    -------
    float
    """
    if isinstance(atol, bool) or not isinstance(atol, (int, float, np.floating, np.integer)):
        raise TypeError(f"`atol` must be a real number, got {type(atol).__name__}")
    atol = float(atol)
    if not np.isfinite(atol) or atol < 0.0:
        raise ValueError(f"`atol` must be finite and >= 0, got {atol!r}")
    fa, fb = _pair(a, b)
    scale = np.maximum(np.maximum(np.abs(fa), np.abs(fb)), atol)
    diff = np.abs(fa - fb)
    both_zero = scale == 0.0
    if np.all(both_zero):
        return 0.0
    return float(np.max(diff[~both_zero] / scale[~both_zero]))


def _is_leaf(x):
    """A list or tuple holding no array (at any depth) is one array-like leaf, not a structure."""
    if not isinstance(x, (list, tuple)):
        return True
    return all(e is not None and not isinstance(e, np.ndarray) and _is_leaf(e)
               for e in x)


def _leaves(x, name):
    if _is_leaf(x):
        return [as_float_array(x, name)]
    return [leaf for e in x if e is not None for leaf in _leaves(e, name)]


def _pair(a, b):
    """``a`` and ``b`` flattened, after checking that their entries correspond one to one."""
    la, lb = _leaves(a, "a"), _leaves(b, "b")
    sa, sb = [x.shape for x in la], [x.shape for x in lb]
    na, nb = sum(x.size for x in la), sum(x.size for x in lb)

    def flat_form(leaves, n_other):  # one 1-D (or 0-D) array standing for the other's entries
        return len(leaves) == 1 and leaves[0].ndim <= 1 and leaves[0].size == n_other

    def stacked(leaves, other):  # one array whose rows are the other's equal-shaped arrays
        return (len(leaves) == 1 and leaves[0].ndim >= 1 and len(other) > 1
                and leaves[0].shape == (len(other),) + other[0].shape
                and all(o.shape == other[0].shape for o in other))

    if not (sa == sb or flat_form(la, nb) or flat_form(lb, na) or stacked(la, lb)
            or stacked(lb, la)):
        if na != nb:
            raise ValueError("`a` and `b` must have the same number of entries, got "
                             f"{na} and {nb}")
        raise ValueError(f"`b` must have the shapes of `a`, {short_repr(_shapes(sa))}, "
                         f"got {short_repr(_shapes(sb))}: entries are compared in "
                         "place, never broadcast or reshaped")
    empty = np.zeros(0)
    return (np.concatenate([x.ravel() for x in la] or [empty]),
            np.concatenate([x.ravel() for x in lb] or [empty]))


def _shapes(shapes):
    return shapes[0] if len(shapes) == 1 else shapes


def _step_above_rounding(h, x):
    """``h`` if a central difference at ``x`` with that step is more than rounding noise.

    The floor is 1e4 units of rounding at the scale of ``x`` (the rule of
    ``curvature``'s differences): below it ``x + h`` rounds back to (nearly) ``x`` and the
    quotient returns zeros or noise without saying so.
    """
    floor = 1e4 * np.finfo(float).eps * max(1.0, float(np.max(np.abs(x), initial=0.0)))
    if h < floor:
        raise ValueError(f"`h` must be >= {floor:.3g} (1e4 units of rounding at the scale "
                         f"of `x`): below it a central difference is rounding noise, got {h!r}")
    return h


def central_difference(f, x, *, h=1e-6):
    r"""Central-difference gradient of a scalar function of an array.

    .. math:: \hat g_i = \frac{f(x + h e_i) - f(x - h e_i)}{2h}

    Parameters
    ----------
    f : callable
        ndarray (shape of ``x``) -> float.
    x : array_like
        The point; any shape.
    h : float, keyword-only
        The step, > 0 and at least 1e4 units of rounding at the scale of ``x``.

    Returns
    -------
    ndarray
        The estimate, shape of ``x``.

    Raises
    ------
    ValueError
        A step below rounding (it would return zeros or noise), or ``f`` returning a
        non-finite value.
    TypeError
        ``f`` not callable, or returning something that is not a real scalar.
    """
    check_callable(f, "f")
    h = positive_scalar(h, "h")
    x = as_float_array(x, "x").copy()
    h = _step_above_rounding(h, x)
    g = np.empty_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        xi = flat[i]
        flat[i] = xi + h
        fp = _scalar_value(f(x))
        flat[i] = xi - h
        fm = _scalar_value(f(x))
        flat[i] = xi
        gflat[i] = (fp - fm) / (2.0 * h)
    return g


def _scalar_value(value):
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "biuf":
        raise TypeError(f"`f` must return a real scalar, got {_describe(value)}")
    out = float(arr.reshape(()))
    if not np.isfinite(out):
        raise ValueError("`f` must return a finite value near `x`, got "
                         f"{short_repr(out)}")
    return out


def jacobian(f, x, *, h=1e-6):
    r"""Central-difference Jacobian of a vector function of a 1-D array.

    .. math:: \hat J_{:, i} = \frac{f(x + h e_i) - f(x - h e_i)}{2h}, \qquad \text{error } O(h^2).

    Parameters
    ----------
    f : callable
        ndarray (n,) -> array_like of m real numbers (raveled).
    x : array_like, shape (n,)
    h : float, keyword-only
        The step, > 0.

    Returns
    -------
    ndarray, shape (m, n)

    Raises
    ------
    TypeError
        ``f`` is not callable or returns something that is not real.
    ValueError
        ``x`` not 1-D or not finite, ``h`` not > 0, or ``f`` returns non-finite values or
        outputs of varying length.
    """
    check_callable(f, "f")
    h = positive_scalar(h, "h")
    x = as_float_array(x, "x", ndim=1)
    h = _step_above_rounding(h, x)

    def g(z):
        return np.ravel(as_float_array(f(z), "f(x)"))

    return _jacobian(g, x, h)


def _jacobian(f, x, h):
    """Central-difference Jacobian on validated arguments (``f`` returns 1-D arrays)."""
    n = x.size
    cols = []
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        fp, fm = f(x + e), f(x - e)
        if fp.shape != fm.shape or (cols and fp.shape != cols[0].shape):
            raise ValueError(f"`f` must return outputs of one length, got {fp.shape} and {fm.shape}")
        cols.append((fp - fm) / (2.0 * h))
    return np.stack(cols, axis=1)


def fitted_order(h, err):
    r"""Least-squares slope :math:`p` of :math:`\log \mathrm{err} = p \log h + c` (the observed order).

    A method of order :math:`p` has :math:`\mathrm{err} \approx c\, h^p` as :math:`h \to 0`; the
    slope of the log-log fit over a sweep of step sizes estimates :math:`p`.

    Parameters
    ----------
    h : array_like, shape (M,)
        Step sizes, > 0, M >= 2, not all equal.
    err : array_like, shape (M,)
        The errors at those steps, > 0.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Fewer than two points, shapes that differ, a non-positive or non-finite entry, or all
        ``h`` equal.
    """
    h = as_float_array(h, "h", ndim=1)
    err = as_float_array(err, "err", ndim=1)
    if h.size < 2 or h.shape != err.shape:
        raise ValueError(f"`h` and `err` must be two 1-D arrays of the same length >= 2, "
                         f"got shapes {h.shape} and {err.shape}")
    if np.any(h <= 0) or np.any(err <= 0):
        raise ValueError("`h` and `err` must be > 0 to take logarithms, got a non-positive entry")
    if np.ptp(h) == 0:
        raise ValueError(f"`h` must hold at least two different steps, got all equal to {h[0]!r}")
    return float(np.polyfit(np.log(h), np.log(err), 1)[0])


def params_central_difference(f, params, *, h=1e-6):
    """Central differences of ``f(params)`` with respect to every weight and bias.

    Returns a list of ``(dW_k, db_k)`` with the structure of ``params``.
    """
    check_callable(f, "f")
    h = positive_scalar(h, "h")
    params = [(W.copy(), b.copy()) for W, b in check_params(params)]
    out = []
    for k, (W, b) in enumerate(params):
        def f_W(Wk, k=k, b=b):
            return f(params[:k] + [(Wk, b)] + params[k + 1:])

        def f_b(bk, k=k, W=W):
            return f(params[:k] + [(W, bk)] + params[k + 1:])

        out.append((central_difference(f_W, W, h=h), central_difference(f_b, b, h=h)))
    return out


@dataclass(frozen=True)
class GradCheck:
    """Result of :func:`check_gradient`: ``ok`` when ``error <= rtol``."""

    ok: bool
    error: float
    rtol: float

    def __bool__(self):
        return self.ok


def check_gradient(f, grad, x, *, h=1e-6, rtol=1e-7):
    """Compare an analytic gradient ``grad`` (array like ``x``) of ``f`` at ``x`` with central differences.

    Returns
    -------
    GradCheck
        ``ok`` is True when the :func:`relative_error` is at most ``rtol``.
    """
    rtol = positive_scalar(rtol, "rtol")
    estimate = central_difference(f, x, h=h)
    g = as_float_array(grad, "grad")
    if g.shape != estimate.shape:
        raise ValueError(f"`grad` must have the shape of `x`, {estimate.shape}, got {g.shape}")
    err = relative_error(g, estimate)
    return GradCheck(ok=err <= rtol, error=err, rtol=rtol)


def dot_product_test(jvp, vjp, in_shape, out_shape, *, seed=0, trials=3):
    r"""The dot-product (adjoint) test of a linear map and its claimed transpose.

    For random :math:`u` (``in_shape``) and :math:`v` (``out_shape``) it compares
    :math:`\langle J u, v \rangle` with :math:`\langle u, J^\top v \rangle` and returns the largest
    relative mismatch over ``trials`` draws; an exact transpose gives a few ulps.

    Parameters
    ----------
    jvp : callable
        u -> J u.
    vjp : callable
        v -> J^T v.
    in_shape, out_shape : tuple of int
    seed : int, keyword-only
    trials : int, keyword-only

    Returns
    -------
    float
    """
    check_callable(jvp, "jvp")
    check_callable(vjp, "vjp")
    in_shape = _shape(in_shape, "in_shape")
    out_shape = _shape(out_shape, "out_shape")
    rng = np.random.default_rng(positive_int(seed, "seed", minimum=0))
    trials = positive_int(trials, "trials")
    worst = 0.0
    for _ in range(trials):
        u = rng.standard_normal(in_shape)
        v = rng.standard_normal(out_shape)
        Ju = as_float_array(jvp(u), "jvp(u)")
        JTv = as_float_array(vjp(v), "vjp(v)")
        if Ju.shape != v.shape:
            raise ValueError(f"`jvp` must return an array of shape `out_shape` {out_shape}, "
                             f"got {Ju.shape}")
        if JTv.shape != u.shape:
            raise ValueError(f"`vjp` must return an array of shape `in_shape` {in_shape}, "
                             f"got {JTv.shape}")
        lhs = float(np.sum(Ju * v))
        rhs = float(np.sum(u * JTv))
        worst = max(worst, abs(lhs - rhs) / max(abs(lhs), abs(rhs), np.finfo(float).tiny))
    return worst


def _shape(shape, name):
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        out = tuple(positive_int(n, name) for n in shape)
    except TypeError as exc:
        raise TypeError(f"`{name}` must be a tuple of positive integers, got {_describe(shape)}") from exc
    if not out:
        raise ValueError(f"`{name}` must have at least one dimension, got ()")
    return out


def _answer_leaves(x, path, name):
    """``(path, array)`` for every array of the (nested) list ``x``, in order."""
    if _is_leaf(x):
        return [(path, as_float_array(x, name, finite=False))]
    return [leaf for i, e in enumerate(x)
            for leaf in _answer_leaves(e, f"{path}[{i}]", name)]


def _not_written(x):
    """Is ``x`` (or any part of it) still a placeholder: ``None`` or ``...``?"""
    if x is None or x is Ellipsis:
        return True
    return isinstance(x, (list, tuple)) and any(_not_written(e) for e in x)


def check_answer(answer, expected, *, what, rtol=1e-7, atol=1e-10):
    r"""Tell the reader of an exercise whether an answer is right, in one printed line.

    Every entry is compared in place: the answer :math:`a` is right when, for every
    entry,

    .. math::

        |a_i - e_i| \le \mathrm{atol} + \mathrm{rtol}\,|e_i|,

    with :math:`e` the expected value. The line printed is one of

    * ``right: <what> matches (largest difference 3e-12)``;
    * ``not yet: <what> differs at <where>: got ..., expected ...`` (the first entry
      out of tolerance, with the largest difference), or
      ``not yet: <what> has shape ...`` when the shapes or the structures differ, or
      ``... is not finite``;
    * ``not yet: <what> is not written`` when the answer is still the starter's
      placeholder: ``answer`` is a callable that raises ``NotImplementedError``, or
      the answer is (or holds) ``None`` or ``...``.

    A wrong or missing answer is reported, never raised, so that a notebook whose
    starter cells are not filled in still runs from top to bottom.

    Parameters
    ----------
    answer : array_like, nested list of array_like, or callable
        The reader's answer: an array, a number, a (nested) list or tuple of arrays
        such as a list of ``(W, b)`` gradients; or a callable with no arguments that
        returns one (so that ``NotImplementedError`` from an unfilled starter is
        caught).
    expected : array_like or nested list of array_like
        The reference, computed by the package or by an independent computation; finite
        real numbers.
    what : str
        What the answer is, for the printed line ("the softmax layer's gradient").
    rtol, atol : float, optional
        Relative and absolute tolerances, non-negative (default 1e-7 and 1e-10).

    Returns
    -------
    bool
        True when the answer matches, False otherwise (also when it is not written).

    Raises
    ------
    TypeError
        ``what`` not a string, ``answer`` not callable and not array-like, or
        ``expected`` not array-like.
    ValueError
        ``what`` empty, a negative or non-finite tolerance, or a non-finite
        ``expected``.
    Exception
        Any error other than ``NotImplementedError`` raised by a callable ``answer``
        (a mistake in the reader's code) propagates, with its traceback.

    Examples
    --------
    >>> import numpy as np
    >>> from lagprop import gradcheck
    >>> ok = gradcheck.check_answer(np.array([1.0, 2.0]), [1.0, 2.0], what="x")
    right: x matches (largest difference 0e+00)
    >>> def my_grad():
    ...     raise NotImplementedError  # your code here
    >>> gradcheck.check_answer(my_grad, [1.0], what="the gradient")
    not yet: the gradient is not written
    False
    """
    if not isinstance(what, str):
        raise TypeError(f"`what` must be a string, got {_describe(what)}")
    if not what.strip():
        raise ValueError("`what` must be a non-empty string, got ''")
    rtol = nonnegative_scalar(rtol, "rtol")
    atol = nonnegative_scalar(atol, "atol")
    if _not_written(expected):
        raise TypeError(f"`expected` must be an array or a nested list of arrays, "
                        f"got {_describe(expected)}")
    want = _answer_leaves(expected, "", "expected")
    for _, e in want:
        if not np.all(np.isfinite(e)):
            raise ValueError(f"`expected` must be finite, got {short_repr(e)}")
    if callable(answer):
        try:
            answer = answer()
        except NotImplementedError:
            answer = None
    if _not_written(answer):
        print(f"not yet: {what} is not written")
        return False
    got = _answer_leaves(answer, "", "answer")
    shapes_got, shapes_want = [a.shape for _, a in got], [e.shape for _, e in want]
    if shapes_got != shapes_want:
        print(f"not yet: {what} has shape {short_repr(_shapes(shapes_got))}, expected "
              f"{short_repr(_shapes(shapes_want))}")
        return False
    largest, first = 0.0, None
    for (path, a), (_, e) in zip(got, want):
        if not np.all(np.isfinite(a)):
            i = tuple(int(j) for j in np.argwhere(~np.isfinite(a))[0])
            where = _where(path, i, a.ndim)
            print(f"not yet: {what} is not finite at {where}: got {a[i]}")
            return False
        diff = np.abs(a - e)
        largest = max(largest, float(np.max(diff, initial=0.0)))
        bad = diff > atol + rtol * np.abs(e)
        if first is None and np.any(bad):
            i = tuple(int(j) for j in np.argwhere(bad)[0])
            first = f"{_where(path, i, a.ndim)}: got {a[i]:.6g}, expected {e[i]:.6g}"
    if first is not None:
        print(f"not yet: {what} differs at {first} (largest difference {largest:.1e})")
        return False
    print(f"right: {what} matches (largest difference {largest:.0e})")
    return True


def _where(path, i, ndim):
    """The place of one entry: ``[1][0][2, 3]``, ``[2]`` or ``the value``."""
    index = f"[{', '.join(map(str, i))}]" if ndim else ""
    return path + index or "the value"
