r"""Curvature of the Lagrange function: the constraint Jacobian and the two Hessians (le Cun 1988).

The constraints of le Cun's problem are :math:`g_k = X(k) - F_k(W(k) X(k-1) + b(k)) = 0`,
k = 1..N. This module holds the objects of the second-order theory of that problem:

* :func:`constraint_jacobian`: :math:`\partial g / \partial X`, unit lower-triangular, so the
  constraints are linearly independent (LICQ) everywhere;
* :func:`reduced_hessian`: the Hessian :math:`\nabla^2_W C(W)` of the cost on the constraint
  surface, the object of the second-order conditions (footnote 3);
* :func:`lagrange_weight_hessian`: the Hessian of :math:`L(W, X, B)` in :math:`W` alone at fixed
  states and multipliers, which is *not* that Hessian.

The two Hessians are estimated by central differences of exact gradients
(:func:`lagprop.gradcheck.jacobian`); :func:`lagprop.lagrangian.hessian_vector` computes
Hessian-vector products exactly by the second-order adjoint.
"""

import numpy as np

from ._validate import as_patterns, positive_scalar
from .gradcheck import _jacobian
from .lagrangian import (
    _check_lagrange_args,
    _check_states,
    _check_targets,
    _costate,
    _forward,
    _lagrange_partials,
    _layer_activations,
    _weight_gradients,
)
from .mlp import _flatten, _unflatten, check_params

__all__ = ["constraint_jacobian", "reduced_hessian", "lagrange_weight_hessian"]


def constraint_jacobian(params, X, *, activation="tanh", output_activation="identity"):
    r"""Jacobian of the constraints :math:`g_k = X(k) - F_k(W(k) X(k-1) + b(k))` with respect to the states.

    .. math::

        \frac{\partial g_k}{\partial X(k)} = I, \qquad
        \frac{\partial g_k}{\partial X(k-1)} = -\nabla F_k(A(k))\, W(k) \quad (k \ge 2),

    all other blocks zero: the matrix is block unit lower-triangular, so its determinant is 1 and
    the constraints are linearly independent (LICQ) at every point. Variables and constraints are
    ordered layer by layer (k = 1..N), and within a layer pattern by pattern (the row-major
    ravel of the (P, n_k) array). The input X(0) is data, not a variable.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
    X : list of N+1 arrays
        States, ``X[0]`` the inputs (P, n_0); they need not satisfy the forward equations.
    activation, output_activation : str, keyword-only

    Returns
    -------
    ndarray, shape (m, m)
        With :math:`m = P \sum_{k=1}^N n_k`.
    """
    params = check_params(params)
    X = _check_states(X, params, "X")
    if any(x is None for x in X):
        raise ValueError("`X[k]` must be an array for every k = 0..N, got None")
    F = _layer_activations(len(params), activation, output_activation)
    P, N = X[0].shape[0], len(params)
    sizes = [P * x.shape[1] for x in X[1:]]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    J = np.eye(offsets[-1])
    for k in range(2, N + 1):
        W, b = params[k - 1]
        dF = F[k].df(X[k - 1] @ W.T + b)  # (P, n_k)
        n_k, n_prev = W.shape
        for p in range(P):
            r = offsets[k - 1] + p * n_k
            c = offsets[k - 2] + p * n_prev
            J[r:r + n_k, c:c + n_prev] = -dF[p][:, None] * W
    return J


def _symmetric_jacobian(grad_flat, theta, h):
    """Central-difference Jacobian of a gradient map, symmetrised: a Hessian estimate."""
    H = _jacobian(grad_flat, theta, h)
    return 0.5 * (H + H.T)


def reduced_hessian(params, inputs, targets, *, h=1e-5, activation="tanh", output_activation="identity"):
    r"""The Hessian of the cost restricted to the constraint surface, :math:`\nabla^2_W C(W)`.

    On the constraint surface the states are functions of the weights, :math:`X = X(W)`, and
    :math:`C(W) = L(W, X(W), B)`. Its Hessian (the *reduced* Hessian of the Lagrange function) is
    the object of the second-order conditions (le Cun 1988, footnote 3): positive semi-definite
    at a local minimum (necessary), positive definite at a stationary point (sufficient). It is
    computed here by central differences of the costate gradient of :func:`lagprop.lagrangian.backprop`,

    .. math:: H_{:, i} = \frac{g(\theta + h e_i) - g(\theta - h e_i)}{2h}, \qquad
              H \leftarrow \tfrac12 (H + H^\top),

    with error :math:`O(h^2)`. Parameters are ordered as :func:`lagprop.mlp.flatten` orders them.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
    inputs : array_like, shape (P, n_0)
    targets : array_like, shape (P, n_N)
    h : float, keyword-only
        Difference step, > 0.
    activation, output_activation : str, keyword-only

    Returns
    -------
    ndarray, shape (n, n)
        Symmetric, with n the number of parameters.

    Raises
    ------
    ValueError
        Bad ``params``, ``inputs``, ``targets`` or ``h``.
    """
    params = check_params(params)
    h = positive_scalar(h, "h")
    F = _layer_activations(len(params), activation, output_activation)
    X0 = as_patterns(inputs, "inputs", params[0][0].shape[1])
    D = _check_targets(targets, params, X0.shape[0])

    def g(theta):
        p = _unflatten(theta, params)
        fwd = _forward(p, X0, F)
        return _flatten(_weight_gradients(_costate(p, fwd.X, fwd.A, D, F).Y, fwd.X))

    return _symmetric_jacobian(g, _flatten(params), h)


def lagrange_weight_hessian(params, X, B, targets, *, h=1e-5, activation="tanh",
                            output_activation="identity"):
    r"""The Hessian of :math:`L(W, X, B)` in the weights alone, at fixed states and multipliers.

    .. math:: \big[\nabla^2_{WW} L\big]_{ij} = \frac{\partial^2 L(W, X, B)}{\partial w_i\, \partial w_j}
              \Big|_{X, B \text{ fixed}},

    by central differences of :math:`\partial L/\partial W` from :func:`lagprop.lagrangian.lagrange_partials`.
    This is *not* the Hessian of the cost: holding X fixed ignores how the states move with the
    weights, so the Gauss-Newton part of the curvature is missing (for a linear network it is
    identically zero), and it can be indefinite at a minimum of the cost. It is computed to
    contrast it with :func:`reduced_hessian` (le Cun 1988, footnote 3).

    Parameters
    ----------
    params : list of (ndarray, ndarray)
    X, B : lists of N+1 arrays
        States (``X[0]`` the inputs) and multipliers (``B[0]`` ignored).
    targets : array_like, shape (P, n_N)
    h : float, keyword-only
    activation, output_activation : str, keyword-only

    Returns
    -------
    ndarray, shape (n, n)
    """
    params, X, B, D, F = _check_lagrange_args(params, X, B, targets, activation, output_activation)
    h = positive_scalar(h, "h")

    def g(theta):
        return _flatten(_lagrange_partials(_unflatten(theta, params), X, B, D, F).dW)

    return _symmetric_jacobian(g, _flatten(params), h)
