r"""Numerical checks of gradients and of adjoint (costate) passes.

* :func:`central_difference` estimates :math:`\nabla f(x)` by
  :math:`(f(x + h e_i) - f(x - h e_i)) / 2h`, with error :math:`O(h^2)`.
* :func:`dot_product_test` checks that a backward map is the transpose of a forward map:
  :math:`\langle J u, v\rangle = \langle u, J^\top v\rangle` for random :math:`u, v`.
* :func:`relative_error` is the scale-free distance used throughout the tests and the book:
  relative to the largest entry, so entries much smaller than the largest are barely tested.
* :func:`entrywise_error` measures every entry relative to its own size (with an absolute floor),
  so a wrong small entry is caught too.
"""

from dataclasses import dataclass

import numpy as np

from ._validate import as_float_array, positive_scalar

__all__ = [
    "relative_error",
    "entrywise_error",
    "central_difference",
    "params_central_difference",
    "GradCheck",
    "check_gradient",
    "dot_product_test",
]


def relative_error(a, b):
    r"""Relative distance :math:`\lVert a - b\rVert_\infty / \max(\lVert a\rVert_\infty, \lVert b\rVert_\infty)`.

    ``a`` and ``b`` may be arrays or (nested) lists of arrays of matching structure, such as two
    parameter-gradient lists. Returns 0.0 when both are zero.
    """
    fa, fb = _flat(a), _flat(b)
    if fa.shape != fb.shape:
        raise ValueError(f"`a` and `b` must have the same number of entries, got {fa.size} and {fb.size}")
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
    fa, fb = _flat(a), _flat(b)
    if fa.shape != fb.shape:
        raise ValueError("`a` and `b` must have the same number of entries, "
                         f"got {fa.size} and {fb.size}")
    scale = np.maximum(np.maximum(np.abs(fa), np.abs(fb)), atol)
    diff = np.abs(fa - fb)
    both_zero = scale == 0.0
    if np.all(both_zero):
        return 0.0
    return float(np.max(diff[~both_zero] / scale[~both_zero]))


def _flat(x):
    if isinstance(x, (list, tuple)):
        parts = [_flat(e) for e in x if e is not None]
        return np.concatenate(parts) if parts else np.zeros(0)
    return np.ravel(np.asarray(x, dtype=np.float64))


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
        The step, > 0.

    Returns
    -------
    ndarray
        The estimate, shape of ``x``.
    """
    h = positive_scalar(h, "h")
    x = as_float_array(x, "x").copy()
    g = np.empty_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        xi = flat[i]
        flat[i] = xi + h
        fp = float(f(x))
        flat[i] = xi - h
        fm = float(f(x))
        flat[i] = xi
        gflat[i] = (fp - fm) / (2.0 * h)
    return g


def params_central_difference(f, params, *, h=1e-6):
    """Central differences of ``f(params)`` with respect to every weight and bias.

    Returns a list of ``(dW_k, db_k)`` with the structure of ``params``.
    """
    params = [(np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)) for W, b in params]
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
    err = relative_error(grad, central_difference(f, x, h=h))
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
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(trials):
        u = rng.standard_normal(in_shape)
        v = rng.standard_normal(out_shape)
        lhs = float(np.sum(np.asarray(jvp(u)) * v))
        rhs = float(np.sum(u * np.asarray(vjp(v))))
        worst = max(worst, abs(lhs - rhs) / max(abs(lhs), abs(rhs), np.finfo(float).tiny))
    return worst
