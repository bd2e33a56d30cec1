r"""Energy-based recurrent networks: the Hopfield energy and equilibrium propagation.

A symmetric network of tanh units, :math:`W = W^\top`, relaxes to the stationary points
of the energy :func:`hopfield_energy` (Hopfield 1984). Equilibrium propagation (Scellier
and Bengio 2017) estimates the gradient of the cost from two such relaxations, a free
one and one nudged towards the targets, without a costate pass; its estimate tends to
recurrent back-propagation's (:func:`lagprop.recurrent.gradient`) as the nudging
:math:`\beta \to 0`. Both relaxations use the one fixed-point kernel and diagnosis of
:mod:`lagprop.recurrent`: its private ``_relax_rows`` (the damped relaxation of the
state), ``_iterate`` (the one iteration loop, here with the nudged residual),
``_failure`` and ``_eigvals`` (the diagnosis), and its validation helpers
``_check_problem``, ``_check_W``, ``_check_vector`` and ``_tol_iter``.

The tolerance ``tol`` means what it means in :mod:`lagprop.recurrent` (the same kernel,
the same default 1e-12): a relaxation stops when its residual satisfies :math:`\lVert x
- \tanh(\cdot) \rVert_\infty \le \mathrm{tol} \cdot \max(1, \lVert x \rVert_\infty)`,
which for tanh states (:math:`|x_i| < 1`) is the absolute bound ``tol``.

References
----------
J. J. Hopfield, "Neurons with graded response have collective computational properties
like those of two-state neurons", PNAS 81(10), pp. 3088-3092, 1984; B. Scellier and Y.
Bengio, "Equilibrium propagation: bridging the gap between energy-based models and
backpropagation", Frontiers in Computational Neuroscience 11, 24, 2017; B. Scellier and
Y. Bengio, "Equivalence of equilibrium propagation and recurrent backpropagation",
Neural Computation 31(2), pp. 312-329, 2019.
"""

from dataclasses import dataclass

import numpy as np

from . import activations as _act
from ._validate import positive_scalar
from .recurrent import (
    _check_problem,
    _check_vector,
    _check_W,
    _eigvals,
    _failure,
    _grad_cost,
    _iterate,
    _relax_rows,
    _tol_iter,
)

__all__ = ["EquilibriumPropagation", "hopfield_energy", "equilibrium_propagation"]


@dataclass(frozen=True)
class EquilibriumPropagation:
    """Result of :func:`equilibrium_propagation`.

    Attributes
    ----------
    x_free, x_nudged : ndarray, shape (n,)
        The free fixed point :math:`x^0` and the nudged one :math:`x^\\beta`.
    grad_W : ndarray, shape (n, n)
        The estimate of the (symmetric) weight gradient.
    grad_u : ndarray, shape (n,)
        The estimate of the gradient in the external input.
    free_iterations, nudged_iterations : int
        Iterations of the free relaxation (from zero) and of the nudged one (from
        :math:`x^0`).
    free_residual, nudged_residual : float
        Their last residuals :math:`\\lVert x - \\tanh(\\cdot) \\rVert_\\infty`, as
        :class:`lagprop.recurrent.FixedPoint` reports them.
    """

    x_free: np.ndarray
    x_nudged: np.ndarray
    grad_W: np.ndarray
    grad_u: np.ndarray
    free_iterations: int
    free_residual: float
    nudged_iterations: int
    nudged_residual: float


def _G_tanh(x):
    """Antiderivative of artanh: x artanh(x) + log(1 - x^2) / 2."""
    return x * np.arctanh(x) + 0.5 * np.log1p(-x * x)


def hopfield_energy(W, u, x):
    r"""The Hopfield energy of a symmetric tanh network, stationary at its fixed points.

    .. math::

        E(x) = -\tfrac12 x^\top W x - u^\top x + \sum_i G(x_i), \quad
        G(s) = \int_0^s \operatorname{artanh}
             = s \operatorname{artanh} s + \tfrac12 \log(1 - s^2),

        \nabla E(x) = \operatorname{artanh}(x) - W x - u = 0 \iff x = \tanh(W x + u).

    Parameters
    ----------
    W : array_like, shape (n, n)
        Symmetric weights (to :math:`10^{-12} \max(1, \max |W|)`).
    u : array_like, shape (n,)
        External input.
    x : array_like, shape (n,)
        A state with every :math:`|x_i| < 1` (the range of tanh).

    Returns
    -------
    float
        :math:`E(x)`.

    Raises
    ------
    ValueError
        ``W`` not square or not symmetric, shapes that do not match, non-finite values,
        or an ``x`` outside (-1, 1) (the message shows :math:`\max_i |x_i|`).
    TypeError
        A value that is not a real array.

    References
    ----------
    J. J. Hopfield, "Neurons with graded response have collective computational
    properties like those of two-state neurons", PNAS 81(10), pp. 3088-3092, 1984, eq.
    5.
    """
    W = _require_symmetric(_check_W(W))
    u = _check_vector(u, "u", W.shape[0])
    x = _check_vector(x, "x", W.shape[0])
    if np.any(np.abs(x) >= 1):
        raise ValueError("`x` must lie in (-1, 1) for the tanh energy, got max |x_i| = "
                         f"{float(np.max(np.abs(x)))!r}")
    return float(-0.5 * x @ W @ x - u @ x + np.sum(_G_tanh(x)))


def _require_symmetric(W):
    """Check that a validated square ``W`` is symmetric (to rounding at its scale)."""
    if not np.allclose(W, W.T, rtol=0, atol=1e-12 * max(1.0, float(np.max(np.abs(W))))):
        raise ValueError("`W` must be symmetric for an energy-based network, got "
                         f"max |W - W^T| = {float(np.max(np.abs(W - W.T))):.3e}")
    return W


def equilibrium_propagation(W, u, targets, outputs, *, beta, tol=1e-12,
                            max_iter=100_000):
    r"""Equilibrium propagation's gradient estimate for a symmetric tanh network.

    The estimate of Scellier and Bengio (2017).

    Free phase: :math:`x^0 = \tanh(W x^0 + u)`, a stationary point of :math:`E`
    (:func:`hopfield_energy`). Nudged phase: the stationary point of :math:`E + \beta
    C`,

    .. math:: x^\beta = \tanh\big(W x^\beta + u - \beta \nabla C(x^\beta)\big),

    reached by iterating from :math:`x^0`. Since :math:`\partial E/\partial W =
    -\tfrac12 x x^\top` and :math:`\partial E/\partial u = -x`, the estimates are

    .. math::

        \widehat{\nabla_W C} = -\frac{x^\beta x^{\beta\top} - x^0 x^{0\top}}{2\beta},
        \qquad
        \widehat{\nabla_u C} = -\frac{x^\beta - x^0}{\beta},

    which tend, with an error :math:`O(\beta)`, to the symmetric part of recurrent
    back-propagation's :math:`-Y x^\top` and to :math:`-Y` (Scellier and Bengio 2019).
    The error of the difference quotient from the relaxations' tolerance is about
    :math:`\mathrm{tol} / (\beta \lVert \nabla C \rVert)`, so a nudge :math:`\beta
    \lVert \nabla C(x^0) \rVert_\infty` at or below ``tol`` is refused.

    Parameters
    ----------
    W : array_like, shape (n, n)
        Symmetric weights.
    u : array_like, shape (n,)
        External input.
    targets, outputs : as in :func:`lagprop.recurrent.gradient`
        The desired values and the indices (or boolean mask) of the output units.
    beta : float, keyword-only
        Nudging strength, > 0.
    tol : float, keyword-only
        Relative tolerance of both relaxations, as in :mod:`lagprop.recurrent` (default
        1e-12): stop when :math:`\lVert x - \tanh(\cdot) \rVert_\infty \le \mathrm{tol}
        \max(1, \lVert x \rVert_\infty)`.
    max_iter : int, keyword-only
        Iterations allowed to each relaxation, >= 1.

    Returns
    -------
    EquilibriumPropagation
        The two fixed points, the two estimates, and each relaxation's iterations and
        residual.

    Raises
    ------
    ValueError
        Non-symmetric ``W``, shapes, indices, non-finite input, ``beta``, ``tol`` or
        ``max_iter`` out of range, or a nudge ``beta`` max|grad C(x^0)| at or below
        ``tol`` (the difference quotient would be rounding noise; with grad C(x^0) = 0
        the estimates are exactly zero and no nudge is needed).
    TypeError
        A value of the wrong type.
    lagprop.ConvergenceError
        A phase does not converge (with the spectral radius of the iteration).

    References
    ----------
    B. Scellier and Y. Bengio, "Equilibrium propagation: bridging the gap between
    energy-based models and backpropagation", Frontiers in Computational Neuroscience
    11, 24, 2017; B. Scellier and Y. Bengio, "Equivalence of equilibrium propagation and
    recurrent backpropagation", Neural Computation 31(2), pp. 312-329, 2019.
    """
    W, u, d, idx = _check_problem(W, u, targets, outputs)
    W = _require_symmetric(W)
    beta = positive_scalar(beta, "beta")
    tol, max_iter = _tol_iter(tol, max_iter)
    F = _act.get("tanh")
    X0, _, it0, r0 = _relax_rows(W, u[None, :], F, h=1.0, X0=None, tol=tol,
                                 max_iter=max_iter)
    x0 = X0[0]
    nudge = beta * float(np.max(np.abs(_grad_cost(x0, d, idx))))
    if 0.0 < nudge <= tol * max(1.0, float(np.max(np.abs(x0)))):
        raise ValueError(f"`beta` too small: the nudge beta max|grad C| = {nudge:.3g} "
                         "is at or below the relaxations' tolerance "
                         f"`tol` = {tol:.3g}, so the estimate would be rounding noise; "
                         f"got beta = {beta!r}")
    x, it1, r1 = _nudged_phase(W, u, d, idx, F, beta, x0, tol, max_iter)
    gW = -(np.outer(x, x) - np.outer(x0, x0)) / (2.0 * beta)
    return EquilibriumPropagation(x_free=x0, x_nudged=x, grad_W=gW,
                                  grad_u=-(x - x0) / beta,
                                  free_iterations=int(it0), free_residual=float(r0),
                                  nudged_iterations=int(it1), nudged_residual=float(r1))


def _nudged_phase(W, u, d, idx, F, beta, x0, tol, max_iter):
    r"""The nudged fixed point by recurrent's one iteration kernel, from the free phase.

    Returns ``(x, iterations, residual)``. Its linearisation is
    :math:`F'(A)\,(W - 2\beta P)`, :math:`P` the projection on the output units (the
    Hessian of :math:`C` is :math:`2P`).
    """
    def residual(z):
        return F.f(z @ W.T + u - beta * _grad_cost(z, d, idx)) - z

    X, it, r, ok = _iterate(residual, x0[None, :], h=1.0, tol=tol, scale=1.0,
                            max_iter=max_iter)
    if not ok:
        # linearise where the nudged iteration starts, the free fixed point (the last
        # iterate of a 2-cycle between saturated states would say nothing)
        P = np.zeros(W.shape[0])
        P[idx] = 1.0
        A = W @ x0 + u - beta * _grad_cost(x0, d, idx)
        lam = _eigvals(F.df(A)[:, None] * (W - 2.0 * beta * np.diag(P)))
        rad = float(np.max(np.abs(lam)))
        advice = (" The nudging 2 beta on the output units makes the iteration "
                  "expansive: use a smaller `beta`." if rad >= 1 else
                  " The iteration contracts there: raise `max_iter` or use a smaller "
                  "`beta`.")
        what = "the nudged phase x <- tanh(W x + u - beta grad C(x))"
        raise _failure(what, it, r, lam, 1.0, linearisation="F'(A) (W - 2 beta P_out)",
                       where="at the free fixed point ", advice=advice)
    return X[0], it, r
