r"""Energy-based recurrent networks: the Hopfield energy and equilibrium propagation.

A symmetric network of tanh units, :math:`W = W^\top`, relaxes to the stationary points of the
energy :func:`hopfield_energy` (Hopfield 1984). Equilibrium propagation (Scellier and Bengio
2017) estimates the gradient of the cost from two such relaxations, a free one and one nudged
towards the targets, without a costate pass; its estimate tends to recurrent back-propagation's
(:func:`lagprop.recurrent.gradient`) as the nudging :math:`\beta \to 0`. Both relaxations use the
one fixed-point kernel and diagnosis of :mod:`lagprop.recurrent`.
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
    """Result of :func:`equilibrium_propagation`: free and nudged fixed points (n,) and the
    estimates of the symmetric weight gradient ``grad_W`` (n, n) and of the input gradient ``grad_u``."""

    x_free: np.ndarray
    x_nudged: np.ndarray
    grad_W: np.ndarray
    grad_u: np.ndarray


def _G_tanh(x):
    """Antiderivative of artanh: x artanh(x) + log(1 - x^2) / 2."""
    return x * np.arctanh(x) + 0.5 * np.log1p(-x * x)


def hopfield_energy(W, u, x):
    r"""The energy of a symmetric tanh network (Hopfield 1984), whose stationary points are the fixed points.

    .. math::

        E(x) = -\tfrac12 x^\top W x - u^\top x + \sum_i G(x_i), \quad
        G(s) = \int_0^s \operatorname{artanh} = s \operatorname{artanh} s + \tfrac12 \log(1 - s^2),

        \nabla E(x) = \operatorname{artanh}(x) - W x - u = 0 \iff x = \tanh(W x + u).

    ``x`` must lie in (-1, 1); ``W`` must be symmetric.
    """
    W = _check_sym(W)
    u = _check_vector(u, "u", W.shape[0])
    x = _check_vector(x, "x", W.shape[0])
    if np.any(np.abs(x) >= 1):
        raise ValueError("`x` must lie in (-1, 1) for the tanh energy")
    return float(-0.5 * x @ W @ x - u @ x + np.sum(_G_tanh(x)))


def _check_sym(W):
    W = _check_W(W)
    if not np.allclose(W, W.T, rtol=0, atol=1e-12 * max(1.0, float(np.max(np.abs(W))))):
        raise ValueError("`W` must be symmetric for an energy-based network, got max |W - W^T| = "
                         f"{float(np.max(np.abs(W - W.T))):.3e}")
    return W


def equilibrium_propagation(W, u, targets, outputs, *, beta, tol=1e-13, max_iter=100_000):
    r"""The equilibrium-propagation estimate of the gradient (Scellier and Bengio 2017) for a symmetric tanh network.

    Free phase: :math:`x^0 = \tanh(W x^0 + u)`, a stationary point of :math:`E`
    (:func:`hopfield_energy`). Nudged phase: the stationary point of :math:`E + \beta C`,

    .. math:: x^\beta = \tanh\big(W x^\beta + u - \beta \nabla C(x^\beta)\big),

    reached by iterating from :math:`x^0`. Since :math:`\partial E/\partial W = -\tfrac12 x x^\top`
    and :math:`\partial E/\partial u = -x`, the estimates are

    .. math::

        \widehat{\nabla_W C} = -\frac{x^\beta x^{\beta\top} - x^0 x^{0\top}}{2\beta}, \qquad
        \widehat{\nabla_u C} = -\frac{x^\beta - x^0}{\beta},

    which tend, with an error :math:`O(\beta)`, to the symmetric part of recurrent back-propagation's
    :math:`-Y x^\top` and to :math:`-Y` (Scellier and Bengio 2019).

    Parameters
    ----------
    W : array_like, shape (n, n), symmetric
    u : array_like, shape (n,)
    targets, outputs : as in :func:`lagprop.recurrent.gradient`
    beta : float, keyword-only
        Nudging strength, > 0.

    Returns
    -------
    EquilibriumPropagation

    Raises
    ------
    ValueError
        Non-symmetric ``W``, shapes, indices, non-finite input, ``beta`` <= 0.
    lagprop.ConvergenceError
        A phase does not converge (with the spectral radius of the iteration).
    """
    W = _check_sym(W)
    W, u, d, idx = _check_problem(W, u, targets, outputs)
    beta = positive_scalar(beta, "beta")
    tol, max_iter = _tol_iter(tol, max_iter)
    F = _act.get("tanh")
    x0 = _relax_rows(W, u[None, :], F, 1.0, None, tol, max_iter)[0][0]
    x = _nudged_phase(W, u, d, idx, F, beta, x0, tol, max_iter)
    gW = -(np.outer(x, x) - np.outer(x0, x0)) / (2.0 * beta)
    return EquilibriumPropagation(x_free=x0, x_nudged=x, grad_W=gW, grad_u=-(x - x0) / beta)


def _nudged_phase(W, u, d, idx, F, beta, x0, tol, max_iter):
    r"""The nudged fixed point by the module's one iteration kernel, from the free phase.

    Its linearisation is :math:`F'(A)\,(W - 2\beta P)`, :math:`P` the projection on the output
    units (the Hessian of :math:`C` is :math:`2P`).
    """
    def residual(z):
        return F.f(z @ W.T + u - beta * _grad_cost(z, d, idx)) - z

    X, it, r, ok = _iterate(residual, x0[None, :], 1.0, tol, 1.0, max_iter)
    if not ok:
        # linearise where the nudged iteration starts, the free fixed point (the last iterate of
        # a 2-cycle between saturated states would say nothing)
        P = np.zeros(W.shape[0])
        P[idx] = 1.0
        A = W @ x0 + u - beta * _grad_cost(x0, d, idx)
        lam = _eigvals(F.df(A)[:, None] * (W - 2.0 * beta * np.diag(P)))
        rad = float(np.max(np.abs(lam)))
        advice = (" The nudging 2 beta on the output units makes the iteration expansive: use a "
                  "smaller `beta`." if rad >= 1 else
                  " The iteration contracts there: raise `max_iter` or use a smaller `beta`.")
        raise _failure("the nudged phase x <- tanh(W x + u - beta grad C(x))", it, r, lam, 1.0,
                       linearisation="F'(A) (W - 2 beta P_out)", where="at the free fixed point ",
                       advice=advice)
    return X[0]
