r"""Curvature of the Lagrange function: constraint Jacobians, Hessians, null space.

The constraints of le Cun's problem are
:math:`g_k = X(k) - F_k(W(k) X(k-1) + b(k)) = 0`, k = 1..N, and its Lagrange function is
:math:`L(W, X, B) = C(X(N)) + \sum_k B(k)^\top g_k`
(:func:`lagprop.lagrangian.lagrange_function`). This module holds the objects of the
second-order theory of that problem, all exact (closed forms and the second-order
adjoint of :func:`lagprop.lagrangian.hessian_vector`), with central differences only as
a check:

* :func:`constraint_jacobian`: :math:`\partial g / \partial X` (unit lower-triangular,
  so the constraints are linearly independent, LICQ, everywhere),
  :math:`\partial g / \partial W`, or both;
* :func:`null_space_basis`:
  :math:`Z = [I;\ -(\partial g/\partial X)^{-1} \partial g/\partial W]`, whose columns
  span the null space of :math:`\partial g/\partial (W, X)`; on the constraint surface
  its lower block is :math:`dX/dW`;
* :func:`lagrange_hessian`: the Hessian of :math:`L` in :math:`(W, X)`, in :math:`W` or
  in :math:`X` at fixed multipliers, block by block in closed form;
* :func:`reduced_hessian`: the Hessian
  :math:`\nabla^2_W C(W) = Z^\top \nabla^2_{(W,X)} L\, Z` of the cost on the constraint
  surface, the object of the second-order conditions (footnote 3), from one exact
  Hessian-vector product per parameter;
* :func:`lagrange_weight_hessian`: the Hessian of :math:`L` in :math:`W` alone at fixed
  states and multipliers, which is *not* that Hessian.

Variables are ordered as :func:`lagprop.mlp.flatten` orders the parameters (``W_1``
row-major, ``b_1``, ``W_2``, ...), then the states :math:`X(1), \dots, X(N)`, each the
row-major ravel of its (P, n_k) array (layer by layer, and within a layer pattern by
pattern). The inputs :math:`X(0)` are data, not variables.

.. rubric:: Internal API

The X blocks separate over patterns. Two private kernels build them pattern by pattern,
as arrays (P, m, m) with :math:`m = n_1 + \dots + n_N`, from validated arguments;
:func:`constraint_jacobian` and :func:`lagrange_hessian` place them in the state order
above, and :mod:`lagprop.constrained` uses them as they are (its Gauss-Newton steps and
its diagnoses). Changing their leading parameters (checked by
``tests/test_curvature.py``) means changing that caller too.

* ``_pattern_jacobian(params, F, A)`` -> :math:`\partial g_p/\partial X_p`. Used by
  constrained.
* ``_pattern_hessian(params, A, B, d2)`` -> :math:`\nabla^2_{X_p X_p} L`, ``d2[k]``
  being :math:`f_k''`. Used by constrained.

References
----------
Y. le Cun, "A theoretical framework for back-propagation", Proceedings of the 1988
Connectionist Models Summer School, pp. 21-28, 1988 (footnote 3: the second-order
conditions); J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer,
2006, sections 12.4-12.5 (second-order conditions, the reduced Hessian) and 16.1
(null-space bases); B. A. Pearlmutter, "Fast exact multiplication by the Hessian",
Neural Computation 6(1), pp. 147-160, 1994.
"""

import numpy as np

from ._validate import as_patterns, choice, positive_scalar
from .gradcheck import _jacobian
from .lagrangian import (
    _check_lagrange_args,
    _check_states,
    _check_targets,
    _costate,
    _forward,
    _hessian_vector,
    _lagrange_partials,
    _layer_activations,
    _raise_if_overflowed,
    _second_derivatives,
    _weight_gradients,
)
from .mlp import _flatten, _unflatten, check_params

__all__ = [
    "constraint_jacobian",
    "null_space_basis",
    "lagrange_hessian",
    "reduced_hessian",
    "lagrange_weight_hessian",
]

_WRT = ("X", "W", "WX")
_METHODS = ("exact", "differences")


# --------------------------------------------------------------------------------------
# Validation and layout
# --------------------------------------------------------------------------------------

def _check_full_states(X, params):
    X = _check_states(X, params, "X")
    if any(x is None for x in X):
        raise ValueError(f"`X[k]` must be an array for every k = 0..N, got None at "
                         f"k = {[x is None for x in X].index(True)}")
    return X


def _layout(params, P):
    """Offsets of each layer's parameters and states in the flat variable vector."""
    n_par = [W.size + b.size for W, b in params]
    p_off = np.concatenate([[0], np.cumsum(n_par)]).astype(int)
    widths = [P * W.shape[0] for W, _ in params]
    s_off = np.concatenate([[0], np.cumsum(widths)]).astype(int)
    return p_off, s_off


def _param_index(W, start):
    """``idx[i, j]``: flat index of W[i, j] (j < n_prev) and of b[i] (j = n_prev)."""
    n_k, n_prev = W.shape
    idx = np.empty((n_k, n_prev + 1), dtype=int)
    idx[:, :n_prev] = start + np.arange(n_k * n_prev).reshape(n_k, n_prev)
    idx[:, n_prev] = start + n_k * n_prev + np.arange(n_k)
    return idx


def _preactivations(params, X):
    return [None] + [X[k - 1] @ W.T + b for k, (W, b) in enumerate(params, start=1)]


def _difference_step(h, theta, method):
    """A difference step; for ``method="differences"``, one above rounding."""
    h = positive_scalar(h, "h")
    if method != "differences":
        return h
    floor = 1e4 * np.finfo(float).eps * max(1.0, float(np.max(np.abs(theta))))
    if h < floor:
        raise ValueError(f"`h` must be >= {floor:.3g} (1e4 units of rounding at the "
                         "parameters' scale): below it a central difference is "
                         f"rounding noise, got {h!r}")
    return h


# --------------------------------------------------------------------------------------
# Per-pattern blocks (the internal API shared with constrained)
# --------------------------------------------------------------------------------------

def _pattern_offsets(params):
    """Offsets of X(1), ..., X(N) in one pattern's states; ``m = n_1 + ... + n_N``."""
    return np.concatenate([[0], np.cumsum([W.shape[0] for W, _ in params])]).astype(int)


def _pattern_jacobian(params, F, A):
    r"""Per pattern, the constraint Jacobian :math:`J_p = \partial g_p/\partial X_p`.

    Identity blocks on the diagonal and :math:`-\nabla F_k(A_p(k))\, W(k)` below them
    (:math:`k \ge 2`), one pattern's states ordered layer by layer. Returns an array
    (P, m, m), :math:`m = n_1 + \dots + n_N`; :func:`_pattern_index` places it in
    the package's state order.
    """
    off = _pattern_offsets(params)
    J = np.zeros((A[1].shape[0], off[-1], off[-1]))
    J[:] = np.eye(off[-1])
    for k in range(2, len(params) + 1):
        block = -F[k].df(A[k])[:, :, None] * params[k - 1][0]  # (P, n_k, n_{k-1})
        J[:, off[k - 1]:off[k], off[k - 2]:off[k - 1]] = block
    return J


def _pattern_hessian(params, A, B, d2):
    r"""Per pattern, :math:`H_p = \nabla^2_{X_p X_p} L` at multipliers B, exactly.

    .. math::

        H_p = 2 I \text{ on the } X_p(N) \text{ block}, \qquad
        H_{p,\, X(k-1) X(k-1)} = -W(k)^\top \operatorname{diag}\big(B_p(k) \odot
        f_k''(A_p(k))\big) W(k), \quad k = 2, \dots, N,

    zero elsewhere (``d2[k]`` is :math:`f_k''`). Returns an array (P, m, m), ordered as
    :func:`_pattern_jacobian`.
    """
    N, P = len(params), A[1].shape[0]
    off = _pattern_offsets(params)
    H = np.zeros((P, off[-1], off[-1]))
    H[:, off[N - 1]:, off[N - 1]:] = 2.0 * np.eye(off[N] - off[N - 1])
    for k in range(2, N + 1):
        W, blk = params[k - 1][0], slice(off[k - 2], off[k - 1])
        H[:, blk, blk] = -np.einsum("ia,pi,ib->pab", W, B[k] * d2[k](A[k]), W)
    return H


def _pattern_index(params, P):
    """``idx[p, q]``: where state q of pattern p sits in the package's state order.

    Layer by layer and, within a layer, pattern by pattern (the module docstring); an
    int array (P, m). A (P, m, m) array of per-pattern blocks goes to
    ``M[idx[:, :, None], idx[:, None, :]]``, zero between patterns.
    """
    _, s_off = _layout(params, P)
    return np.hstack([s_off[k] + np.arange(P)[:, None] * W.shape[0]
                      + np.arange(W.shape[0]) for k, (W, _) in enumerate(params)])


# --------------------------------------------------------------------------------------
# Constraint Jacobians and the null-space basis
# --------------------------------------------------------------------------------------

def constraint_jacobian(params, X, *, wrt="X", activation="tanh",
                        output_activation="identity"):
    r"""Jacobian of the constraints :math:`g_k = X(k) - F_k(W(k) X(k-1) + b(k))`.

    .. math::

        \frac{\partial g_k}{\partial X(k)} = I, \qquad
        \frac{\partial g_k}{\partial X(k-1)} = -\nabla F_k(A(k))\, W(k) \quad (k \ge 2),

        \frac{\partial g_{k,p,i}}{\partial W_{ij}(k)}
            = -f_k'(a_{p,i}(k))\, x_{p,j}(k-1), \qquad
        \frac{\partial g_{k,p,i}}{\partial b_i(k)} = -f_k'(a_{p,i}(k)),

    all other blocks zero. In the states the matrix is block unit lower-triangular, so
    its determinant is 1 and the constraints are linearly independent (LICQ) at every
    point. Constraints are ordered like the states (layer by layer, pattern by pattern);
    parameters as :func:`lagprop.mlp.flatten` orders them. The input X(0) is data, not a
    variable.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
        ``[(W_1, b_1), ..., (W_N, b_N)]``.
    X : list of N+1 arrays
        States, ``X[0]`` the inputs (P, n_0); they need not satisfy the forward
        equations.
    wrt : {"X", "W", "WX"}, keyword-only
        Differentiate in the states (default), the parameters, or both (parameters
        first).
    activation, output_activation : str or Activation, keyword-only
        As for :func:`lagprop.lagrangian.forward`.

    Returns
    -------
    ndarray, shape (m, m), (m, n) or (m, n + m)
        With :math:`m = P \sum_{k=1}^N n_k` constraints and n parameters.

    Raises
    ------
    ValueError
        Malformed ``params`` or ``X``, non-finite values, an unknown ``wrt`` or
        activation.
    TypeError
        A value of the wrong type.

    References
    ----------
    Y. le Cun, "A theoretical framework for back-propagation", 1988, eq. 1 (the
    constraints) and section 2 (their Lagrange multipliers).
    """
    params = check_params(params)
    X = _check_full_states(X, params)
    wrt = choice(wrt, "wrt", _WRT)
    F = _layer_activations(len(params), activation, output_activation)
    parts = {"X": lambda: _jacobian_X(params, X, F),
             "W": lambda: _jacobian_W(params, X, F)}
    # entries are f'(A) times one weight or one state: finite for finite input (f' is
    # bounded for the named activations and checked for user ones)
    with np.errstate(over="ignore", invalid="ignore"):  # A may overflow, not f'(A)
        return np.hstack([parts[w]() for w in ("W", "X") if w in wrt])


def _jacobian_X(params, X, F):
    idx = _pattern_index(params, X[0].shape[0])
    J = np.zeros((idx.size, idx.size))
    J[idx[:, :, None], idx[:, None, :]] = _pattern_jacobian(
        params, F, _preactivations(params, X))
    return J


def _jacobian_W(params, X, F):
    P = X[0].shape[0]
    p_off, s_off = _layout(params, P)
    J = np.zeros((s_off[-1], p_off[-1]))
    for k, (W, b) in enumerate(params, start=1):
        dF = F[k].df(X[k - 1] @ W.T + b)  # (P, n_k)
        Xa = np.hstack([X[k - 1], np.ones((P, 1))])  # (P, n_prev + 1): bias column last
        idx = _param_index(W, p_off[k - 1])
        rows = s_off[k - 1] + np.arange(P)[:, None] * W.shape[0] + np.arange(W.shape[0])
        J[rows[:, :, None], idx[None, :, :]] = -dF[:, :, None] * Xa[:, None, :]
    return J


def null_space_basis(params, X, *, activation="tanh", output_activation="identity"):
    r"""A basis of the null space of the linearised constraints, :math:`Z = [I; dX/dW]`.

    The constraints :math:`g(W, X) = 0` linearised at :math:`(W, X)` are
    :math:`\partial_W g\, \delta W + \partial_X g\, \delta X = 0`; since
    :math:`\partial_X g` is unit lower-triangular, every :math:`\delta W` has exactly
    one :math:`\delta X`, found by forward substitution (the tangent of the forward
    pass),

    .. math::

        \delta X(k) = \nabla F_k(A(k)) \big[ W(k)\, \delta X(k-1) + \delta W(k)\, X(k-1)
        + \delta b(k) \big], \qquad \delta X(0) = 0,

    so the columns of :math:`Z = [I;\ -(\partial_X g)^{-1} \partial_W g]` span that null
    space. On the constraint surface (``X`` a forward pass) the lower block is the
    Jacobian of the states in the weights, and :math:`\nabla^2_W C = Z^\top
    \nabla^2_{(W, X)} L\, Z` at the costate (:func:`lagrange_hessian`,
    :func:`reduced_hessian`).

    Parameters
    ----------
    params : list of (ndarray, ndarray)
    X : list of N+1 arrays
        States, ``X[0]`` the inputs (P, n_0); they need not satisfy the forward
        equations.
    activation, output_activation : str or Activation, keyword-only

    Returns
    -------
    ndarray, shape (n + m, n)
        Parameters first, then the states, as in :func:`constraint_jacobian` with
        ``wrt="WX"``.

    Raises
    ------
    ValueError
        Malformed ``params`` or ``X``, non-finite values, an unknown activation, or
        entries that overflow float64.
    TypeError
        A value of the wrong type.

    References
    ----------
    J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., 2006, section 16.2
    (null-space methods).
    """
    params = check_params(params)
    X = _check_full_states(X, params)
    F = _layer_activations(len(params), activation, output_activation)
    with np.errstate(over="ignore", invalid="ignore"):
        Z = _null_space_basis(params, X, F)
    _raise_if_overflowed([Z], "the null-space basis", params=params, X=X)
    return Z


def _null_space_basis(params, X, F):
    P = X[0].shape[0]
    p_off, s_off = _layout(params, P)
    n = int(p_off[-1])
    T = None  # dX(0)/dtheta = 0
    blocks = [np.eye(n)]
    for k, (W, b) in enumerate(params, start=1):
        Tk = np.zeros((P, W.shape[0], n)) if k == 1 else np.einsum("il,pln->pin", W, T)
        idx = _param_index(W, p_off[k - 1])
        Xa = np.hstack([X[k - 1], np.ones((P, 1))])
        rows = np.arange(W.shape[0])
        Tk[:, rows[:, None], idx] += Xa[:, None, :]
        Tk *= F[k].df(X[k - 1] @ W.T + b)[:, :, None]
        blocks.append(Tk.reshape(P * W.shape[0], n))
        T = Tk
    return np.vstack(blocks)


# --------------------------------------------------------------------------------------
# Hessians of L and of C
# --------------------------------------------------------------------------------------

def lagrange_hessian(params, X, B, targets, *, wrt="WX", activation="tanh",
                     output_activation="identity"):
    r"""The Hessian of :math:`L(W, X, B)` in parameters and states at fixed B, exactly.

    With :math:`A(k) = W(k) X(k-1) + b(k)`, :math:`c(k) = B(k) \odot f_k''(A(k))` and
    :math:`y(k) = B(k) \odot f_k'(A(k))` (row p for pattern p), the blocks are

    .. math::

        \frac{\partial^2 L}{\partial W_{ij}(k)\, \partial W_{ij'}(k)}
            = -\sum_p c_{p,i}(k)\, \tilde x_{p,j}\, \tilde x_{p,j'}, \qquad
        \tilde x_p = [X_p(k-1), 1] \quad (\text{the bias as a last column}),

        \frac{\partial^2 L}{\partial X_p(k-1)^2}
            = -W(k)^\top \operatorname{diag}(c_p(k))\, W(k)
            \ (k \ge 2), \qquad
        \frac{\partial^2 L}{\partial X_p(N)^2} = 2 I,

        \frac{\partial^2 L}{\partial W_{ij}(k)\, \partial x_{p,l}(k-1)}
            = -c_{p,i}(k)\, \tilde x_{p,j}\, W_{il}(k)

        \qquad\qquad - y_{p,i}(k)\, \delta_{jl} \quad (k \ge 2),

    and zero elsewhere: :math:`L` is linear in :math:`X(k)` apart from the stage
    :math:`k+1` and the cost. The W block is block-diagonal by layer; the X block is
    block-diagonal by pattern. At the costate of a forward pass, :math:`Z^\top H Z` is
    the reduced Hessian (:func:`null_space_basis`, :func:`reduced_hessian`).

    Parameters
    ----------
    params : list of (ndarray, ndarray)
    X, B : lists of N+1 arrays (or a Forward and a Costate)
        States (``X[0]`` the inputs) and multipliers (``B[0]`` ignored), arbitrary.
    targets : array_like, shape (P, n_N)
    wrt : {"WX", "W", "X"}, keyword-only
        The Hessian in the parameters and states (default; parameters first), in the
        parameters alone (as :func:`lagrange_weight_hessian`), or in the states alone.
    activation, output_activation : str or Activation, keyword-only
        As for :func:`lagprop.lagrangian.forward`; their second derivatives ``d2f`` are
        used.

    Returns
    -------
    ndarray, shape (n + m, n + m), (n, n) or (m, m)
        Symmetric.

    Raises
    ------
    ValueError
        Malformed arguments, non-finite values, an unknown ``wrt`` or activation, a user
        activation without ``d2f``, or entries that overflow float64.
    TypeError
        A value of the wrong type.

    References
    ----------
    Y. le Cun, "A theoretical framework for back-propagation", 1988, eq. 1 and footnote
    3; J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., 2006, section
    12.5.
    """
    params, X, B, D, F = _check_lagrange_args(params, X, B, targets, activation,
                                              output_activation)
    wrt = choice(wrt, "wrt", _WRT)
    d2 = _second_derivatives(F, len(params))
    with np.errstate(over="ignore", invalid="ignore"):
        H = _lagrange_hessian(params, X, B, F, d2, wrt)
    _raise_if_overflowed([H], "the Hessian of L", params=params, X=X[1:], B=B[1:])
    return H


def _lagrange_hessian(params, X, B, F, d2, wrt):
    P = X[0].shape[0]
    p_off, s_off = _layout(params, P)
    n, m = int(p_off[-1]), int(s_off[-1])
    H = np.zeros((n + m, n + m))
    A = _preactivations(params, X)
    for k, (W, _) in enumerate(params, start=1):
        n_k, n_prev = W.shape
        c = B[k] * d2[k](A[k])  # (P, n_k)
        Xa = np.hstack([X[k - 1], np.ones((P, 1))])
        idx = _param_index(W, p_off[k - 1])
        H[idx[:, :, None], idx[:, None, :]] = -np.einsum("pi,pj,pl->ijl", c, Xa, Xa)
        if k == 1:
            continue  # X(0) is data
        # the columns of X_p(k-1), (P, n_prev)
        cols = n + s_off[k - 2] + np.arange(P)[:, None] * n_prev + np.arange(n_prev)
        y = B[k] * F[k].df(A[k])
        WX = -np.einsum("pi,pj,il->pijl", c, Xa, W)  # (P, n_k, n_prev + 1, n_prev)
        WX[:, :, np.arange(n_prev), np.arange(n_prev)] -= y[:, :, None]
        r = idx[None, :, :, None]
        cc = cols[:, None, None, :]
        H[r, cc] = WX
        H[cc, r] = WX
    i = n + _pattern_index(params, P)  # the X block
    H[i[:, :, None], i[:, None, :]] = _pattern_hessian(params, A, B, d2)
    sel = {"WX": slice(0, n + m), "W": slice(0, n), "X": slice(n, n + m)}[wrt]
    H = H[sel, sel]
    return 0.5 * (H + H.T)  # the einsum blocks are symmetric only to rounding


def reduced_hessian(params, inputs, targets, *, method="exact", h=1e-5,
                    activation="tanh", output_activation="identity"):
    r"""The Hessian of the cost on the constraint surface, :math:`\nabla^2_W C(W)`.

    On the constraint surface the states are functions of the weights, :math:`X = X(W)`,
    and :math:`C(W) = L(W, X(W), B)`. Its Hessian (the *reduced* Hessian of the Lagrange
    function, :math:`Z^\top \nabla^2_{(W,X)} L\, Z` at the costate,
    :func:`null_space_basis`) is the object of the second-order conditions (le Cun 1988,
    footnote 3): positive semi-definite at a local minimum (necessary), positive
    definite at a stationary point (sufficient).

    ``method="exact"`` (default) assembles it column by column from exact Hessian-vector
    products (:func:`lagprop.lagrangian.hessian_vector`, the second-order adjoint),
    :math:`H e_i`, one per parameter. ``method="differences"`` is the check: central
    differences of the costate gradient of :func:`lagprop.lagrangian.backprop`,

    .. math:: H_{:, i} = \frac{g(\theta + h e_i) - g(\theta - h e_i)}{2h},

    with error :math:`O(h^2)` plus rounding :math:`O(\epsilon / h)`. Either is
    symmetrised, :math:`H \leftarrow \tfrac12 (H + H^\top)` (the exact columns are
    symmetric to rounding). Parameters are ordered as :func:`lagprop.mlp.flatten` orders
    them.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
    inputs : array_like, shape (P, n_0)
    targets : array_like, shape (P, n_N)
    method : {"exact", "differences"}, keyword-only
    h : float, keyword-only
        Difference step for ``method="differences"``, > 0 and at least :math:`10^4
        \epsilon \max(1, \max_i |\theta_i|)` (below it the difference is rounding
        noise); ignored by the exact method, which checks only that it is a positive
        number.
    activation, output_activation : str or Activation, keyword-only

    Returns
    -------
    ndarray, shape (n, n)
        Symmetric, with n the number of parameters.

    Raises
    ------
    ValueError
        Bad ``params``, ``inputs``, ``targets``, ``method`` or ``h`` (including a step
        below rounding), a user activation without ``d2f`` (exact method), or entries
        that overflow float64.
    TypeError
        A value of the wrong type.

    References
    ----------
    Y. le Cun, "A theoretical framework for back-propagation", 1988, footnote 3; B. A.
    Pearlmutter, "Fast exact multiplication by the Hessian", Neural Computation 6(1),
    pp. 147-160, 1994.
    """
    params = check_params(params)
    method = choice(method, "method", _METHODS)
    theta = _flatten(params)
    h = _difference_step(h, theta, method)
    F = _layer_activations(len(params), activation, output_activation)
    X0 = as_patterns(inputs, "inputs", params[0][0].shape[1])
    D = _check_targets(targets, params, X0.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        if method == "exact":
            d2 = _second_derivatives(F, len(params))
            H = np.array([_flatten(_hessian_vector(params, X0, D, F, d2,
                                                   _unflatten(e, params)))
                          for e in np.eye(theta.size)]).T
        else:
            def g(t):
                p = _unflatten(t, params)
                fwd = _forward(p, X0, F)
                co = _costate(p, fwd.X, fwd.A, D, F)
                return _flatten(_weight_gradients(co.Y, fwd.X))

            H = _jacobian(g, theta, h)
        H = 0.5 * (H + H.T)
    _raise_if_overflowed([H], "the Hessian of C", params=params, inputs=X0, targets=D)
    return H


def lagrange_weight_hessian(params, X, B, targets, *, method="exact", h=1e-5,
                            activation="tanh", output_activation="identity"):
    r"""The Hessian of :math:`L(W, X, B)` in the weights alone, at fixed X and B.

    .. math::

        \big[\nabla^2_{WW} L\big]_{ij}
            = \frac{\partial^2 L(W, X, B)}{\partial w_i\, \partial w_j}
        \Big|_{X, B \text{ fixed}}, \qquad
        \frac{\partial^2 L}{\partial W_{ij}(k)\, \partial W_{ij'}(k)}
            = -\sum_p B_{p,i}(k)\, f_k''(a_{p,i}(k))\, \tilde x_{p,j}\, \tilde x_{p,j'},

    with :math:`\tilde x_p = [X_p(k-1), 1]` (the bias as a last column): block-diagonal
    by layer and, within a layer, by output unit (``method="exact"``, the default; the W
    block of :func:`lagrange_hessian`). ``method="differences"`` is the check: central
    differences of :math:`\partial L/\partial W` from
    :func:`lagprop.lagrangian.lagrange_partials`, symmetrised.

    This is *not* the Hessian of the cost: holding X fixed ignores how the states move
    with the weights, so the Gauss-Newton part of the curvature is missing (for a linear
    network it is identically zero), and it can be indefinite at a minimum of the cost.
    It is computed to contrast it with :func:`reduced_hessian` (le Cun 1988, footnote
    3).

    Parameters
    ----------
    params : list of (ndarray, ndarray)
    X, B : lists of N+1 arrays (or a Forward and a Costate)
        States (``X[0]`` the inputs) and multipliers (``B[0]`` ignored).
    targets : array_like, shape (P, n_N)
    method : {"exact", "differences"}, keyword-only
    h : float, keyword-only
        Difference step for ``method="differences"``, as for :func:`reduced_hessian`.
    activation, output_activation : str or Activation, keyword-only

    Returns
    -------
    ndarray, shape (n, n)
        Symmetric.

    Raises
    ------
    ValueError
        Malformed arguments, non-finite values, an unknown ``method`` or activation, a
        step below rounding, a user activation without ``d2f`` (exact method), or
        entries that overflow float64.
    TypeError
        A value of the wrong type.

    References
    ----------
    Y. le Cun, "A theoretical framework for back-propagation", 1988, footnote 3.
    """
    params, X, B, D, F = _check_lagrange_args(params, X, B, targets, activation,
                                              output_activation)
    method = choice(method, "method", _METHODS)
    theta = _flatten(params)
    h = _difference_step(h, theta, method)
    with np.errstate(over="ignore", invalid="ignore"):
        if method == "exact":
            d2 = _second_derivatives(F, len(params))
            H = _lagrange_hessian(params, X, B, F, d2, "W")
        else:
            def g(t):
                dW = _lagrange_partials(_unflatten(t, params), X, B, D, F).dW
                return _flatten(dW)

            H = _jacobian(g, theta, h)
            H = 0.5 * (H + H.T)
    _raise_if_overflowed([H], "the Hessian of L", params=params, X=X[1:], B=B[1:])
    return H

