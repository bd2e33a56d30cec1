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
* :func:`fitted_order` is the slope :math:`p` of :math:`\log \mathrm{err} = p \log h + c`, the
  observed order of a discretisation.

Every numerical check of the package lives here.
"""

from dataclasses import dataclass

import numpy as np

from ._validate import (_describe, as_float_array, check_callable, positive_int, positive_scalar,
                        short_repr)
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
