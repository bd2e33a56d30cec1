r"""Back-propagation as the stationarity conditions of a Lagrange function (le Cun 1988).

For an N-layer network with inputs :math:`X(0)`, targets :math:`D` and the cost
:math:`C = \sum_p \lVert D_p - X_p(N) \rVert^2`, le Cun's Lagrange function is

.. math::

    L(W, X, B) = C(X(N)) + \sum_p \sum_{k=1}^{N} B_p(k)^\top \big[ X_p(k) - F_k(W(k) X_p(k-1)) \big].

Its partial derivatives give the three conditions of back-propagation:

* :math:`\partial L / \partial B(k) = 0`: the forward pass :math:`X(k) = F_k(A(k))`;
* :math:`\partial L / \partial X(k) = 0`: the costate (backward) pass
  :math:`B(N) = 2(D - X(N))`, :math:`B(k) = W(k+1)^\top \nabla F_{k+1}(A(k+1)) B(k+1)`;
* :math:`\partial L / \partial W(k) = 0`: the optimality condition
  :math:`\sum_p Y_p(k) X_p(k-1)^\top = 0` with :math:`Y(k) = \nabla F_k(A(k)) B(k)`.

Patterns are rows: ``X[k]`` has shape ``(P, n_k)``. Lists are indexed like the paper, so ``A[0]``,
``B[0]`` and ``Y[0]`` hold ``None``. Biases ``b_k`` are kept explicit (the paper folds them into
``W`` through a constant unit); every formula for ``W(k)`` holds for ``b(k)`` with ``X(k-1)``
replaced by ones.
"""

from dataclasses import dataclass

import numpy as np

from . import activations as _act
from ._validate import as_float_array, positive_int, positive_scalar
from .mlp import check_params

__all__ = [
    "Forward",
    "Costate",
    "LagrangePartials",
    "forward",
    "costate",
    "backprop",
    "cost",
    "lagrange_function",
    "lagrange_partials",
    "stationarity",
    "descent_step",
    "gradient_descent",
]


@dataclass(frozen=True)
class Forward:
    """States of a forward pass. ``X[k]`` (P, n_k) for k = 0..N; ``A[k]`` (P, n_k), ``A[0] is None``."""

    X: list
    A: list


@dataclass(frozen=True)
class Costate:
    r"""Lagrange multipliers of a costate pass, ``B[0] is Y[0] is None``.

    ``B[k]`` (P, n_k) is :math:`B(k) = -\partial C/\partial X(k)`; ``Y[k]`` (P, n_k) is
    :math:`Y(k) = \nabla F_k(A(k)) B(k) = -\partial C/\partial A(k)`.
    """

    B: list
    Y: list


@dataclass(frozen=True)
class LagrangePartials:
    r"""The partial derivatives of :math:`L(W, X, B)` at arbitrary :math:`(W, X, B)`.

    ``dB[k]`` and ``dX[k]`` are (P, n_k) arrays for k = 1..N (index 0 is ``None``: the input is
    not a variable); ``dW`` has the structure of ``params``: ``dW[k-1] == (dL/dW_k, dL/db_k)``.
    """

    dB: list
    dX: list
    dW: list


def _layer_activations(n_layers, activation, output_activation):
    hidden = _act.get(activation, argname="activation")
    out = _act.get(output_activation, argname="output_activation")
    return [None] + [hidden] * (n_layers - 1) + [out]


def _check_patterns(x, name, width):
    arr = as_float_array(x, name, ndim=2, allow_1d=True)
    if arr.shape[1] != width:
        raise ValueError(f"`{name}` must have {width} columns (one row per pattern), got shape {arr.shape}")
    return arr


def _check_targets(targets, params, P):
    D = _check_patterns(targets, "targets", params[-1][0].shape[0])
    if D.shape[0] != P:
        raise ValueError(f"`targets` must have one row per pattern ({P}), got shape {D.shape}")
    return D


def _check_states(X, params, name):
    """Validate a list of N+1 state arrays (index 0 = inputs) against ``params``."""
    N = len(params)
    if not hasattr(X, "__len__") or len(X) != N + 1:
        raise ValueError(f"`{name}` must be a list of {N + 1} arrays (k = 0..{N}), got {type(X).__name__}"
                         + (f" of length {len(X)}" if hasattr(X, "__len__") else ""))
    widths = [params[0][0].shape[1]] + [W.shape[0] for W, _ in params]
    out, P = [], None
    for k in range(N + 1):
        if X[k] is None:
            out.append(None)
            continue
        arr = _check_patterns(X[k], f"{name}[{k}]", widths[k])
        if P is None:
            P = arr.shape[0]
        elif arr.shape[0] != P:
            raise ValueError(f"`{name}[{k}]` must have {P} rows like the others, got shape {arr.shape}")
        out.append(arr)
    return out


def cost(outputs, targets):
    r"""The quadratic cost :math:`C = \sum_p \lVert D_p - X_p(N) \rVert^2` (le Cun 1988, eq. 1; no 1/2)."""
    return float(np.sum((np.asarray(targets) - np.asarray(outputs)) ** 2))


def forward(params, inputs, *, activation="tanh", output_activation="identity"):
    r"""The forward pass, the condition :math:`\partial L/\partial B(k) = 0` (le Cun 1988, eq. 4).

    .. math:: A(k) = W(k) X(k-1) + b(k), \qquad X(k) = F_k(A(k)), \qquad k = 1, \dots, N.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
        ``[(W_1, b_1), ..., (W_N, b_N)]``, ``W_k`` of shape (n_k, n_{k-1}), ``b_k`` of shape (n_k,).
    inputs : array_like, shape (P, n_0) or (n_0,)
        Input patterns as rows; a 1-D array is one pattern.
    activation : str, keyword-only
        Activation of the hidden layers k = 1..N-1 (``"identity"``, ``"tanh"``, ``"sigmoid"``,
        ``"relu"``).
    output_activation : str, keyword-only
        Activation of the output layer N.

    Returns
    -------
    Forward
        ``X`` = [X(0), ..., X(N)] and ``A`` = [None, A(1), ..., A(N)], each (P, n_k).

    Raises
    ------
    ValueError
        Malformed ``params``, ``inputs`` of the wrong width, non-finite values, unknown activation.
    """
    params = check_params(params)
    F = _layer_activations(len(params), activation, output_activation)
    X = [_check_patterns(inputs, "inputs", params[0][0].shape[1])]
    A = [None]
    for k, (W, b) in enumerate(params, start=1):
        A.append(X[k - 1] @ W.T + b)
        X.append(F[k].f(A[k]))
    return Forward(X=X, A=A)


def costate(params, fwd, targets, *, activation="tanh", output_activation="identity"):
    r"""The costate (backward) pass, the condition :math:`\partial L/\partial X(k) = 0` (le Cun 1988, eqs. 5-8).

    .. math::

        B(N) = 2\,(D - X(N)), \qquad B(k) = W(k+1)^\top \nabla F_{k+1}(A(k+1))\, B(k+1),

        Y(k) = \nabla F_k(A(k))\, B(k), \qquad\text{so}\qquad
        Y(N) = 2 \nabla F_N(A(N)) (D - X(N)), \quad Y(k) = \nabla F_k(A(k))\, W(k+1)^\top Y(k+1).

    (The paper prints the Jacobian in the B recursion as :math:`\nabla F_k(A(k+1))` and the range
    of the Y recursion as :math:`[0, n-1]`; the subscript is k+1 and the range 1..N-1.)
    On the constraint surface :math:`B(k) = -\partial C/\partial X(k)` and
    :math:`Y(k) = -\partial C/\partial A(k)`.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
        The network's parameters, as for :func:`forward`.
    fwd : Forward
        The result of :func:`forward` with the same ``params``.
    targets : array_like, shape (P, n_N) or (n_N,)
        Desired outputs :math:`D`, one row per pattern.
    activation, output_activation : str, keyword-only
        As for :func:`forward`; they must be the ones the forward pass used.

    Returns
    -------
    Costate
        ``B`` = [None, B(1), ..., B(N)] and ``Y`` = [None, Y(1), ..., Y(N)], each (P, n_k).
    """
    params = check_params(params)
    if not isinstance(fwd, Forward):
        raise TypeError(f"`fwd` must be a Forward (the result of lagrangian.forward), got {type(fwd).__name__}")
    X = _check_states(fwd.X, params, "fwd.X")
    D = _check_targets(targets, params, X[0].shape[0])
    F = _layer_activations(len(params), activation, output_activation)
    N = len(params)
    B = [None] * (N + 1)
    Y = [None] * (N + 1)
    B[N] = 2.0 * (D - X[N])
    for k in range(N, 0, -1):
        Y[k] = F[k].df(fwd.A[k]) * B[k]
        if k > 1:
            B[k - 1] = Y[k] @ params[k - 1][0]  # row form of W(k)^T Y(k)
    return Costate(B=B, Y=Y)


def _weight_gradients(Y, X):
    """dC/dW_k = -sum_p Y_p(k) X_p(k-1)^T and dC/db_k = -sum_p Y_p(k), for k = 1..N."""
    return [(-(Y[k].T @ X[k - 1]), -Y[k].sum(axis=0)) for k in range(1, len(Y))]


def backprop(params, inputs, targets, *, activation="tanh", output_activation="identity"):
    r"""The cost and its gradient with respect to every parameter, by the costate pass.

    .. math::

        \frac{\partial C}{\partial W(k)} = -\sum_p Y_p(k)\, X_p(k-1)^\top, \qquad
        \frac{\partial C}{\partial b(k)} = -\sum_p Y_p(k)

    (le Cun 1988, the optimality condition and eq. 9), with :math:`Y` from :func:`costate`.

    Returns
    -------
    C : float
        :math:`\sum_p \lVert D_p - X_p(N) \rVert^2`.
    grads : list of (ndarray, ndarray)
        :math:`(\partial C/\partial W_k, \partial C/\partial b_k)`, the structure of ``params``.
    """
    params = check_params(params)
    kw = dict(activation=activation, output_activation=output_activation)
    fwd = forward(params, inputs, **kw)
    co = costate(params, fwd, targets, **kw)
    D = _check_targets(targets, params, fwd.X[0].shape[0])
    return cost(fwd.X[-1], D), _weight_gradients(co.Y, fwd.X)


def lagrange_function(params, X, B, targets, *, activation="tanh", output_activation="identity"):
    r"""le Cun's Lagrange function at arbitrary states and multipliers (le Cun 1988, eq. 3).

    .. math::

        L(W, X, B) = \sum_p \lVert D_p - X_p(N) \rVert^2
        + \sum_p \sum_{k=1}^{N} B_p(k)^\top \big[ X_p(k) - F_k(W(k) X_p(k-1) + b(k)) \big].

    ``X`` need not satisfy the forward equations and ``B`` need not be the costate: this is the
    function whose stationary point back-propagation finds.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
    X : list of N+1 arrays
        States, ``X[0]`` the inputs (P, n_0), ``X[k]`` (P, n_k).
    B : list of N+1 entries
        Multipliers, ``B[0]`` ignored (may be None), ``B[k]`` (P, n_k).
    targets : array_like, shape (P, n_N)

    Returns
    -------
    float
    """
    params = check_params(params)
    X = _check_states(X, params, "X")
    if X[0] is None:
        raise ValueError("`X[0]` must hold the inputs, got None")
    B = _check_states([None] + list(B[1:]) if hasattr(B, "__len__") and len(B) == len(X) else B, params, "B")
    if any(b is None for b in B[1:]):
        raise ValueError("`B[k]` must be an array for every k = 1..N, got None")
    if B[1].shape[0] != X[0].shape[0]:
        raise ValueError(f"`B` must have {X[0].shape[0]} rows like `X`, got {B[1].shape[0]}")
    D = _check_targets(targets, params, X[0].shape[0])
    F = _layer_activations(len(params), activation, output_activation)
    L = cost(X[-1], D)
    for k, (W, b) in enumerate(params, start=1):
        L += float(np.sum(B[k] * (X[k] - F[k].f(X[k - 1] @ W.T + b))))
    return L


def lagrange_partials(params, X, B, targets, *, activation="tanh", output_activation="identity"):
    r"""All partial derivatives of :math:`L(W, X, B)` (see :func:`lagrange_function`).

    .. math::

        \frac{\partial L}{\partial B(k)} = X(k) - F_k(A(k)), \qquad
        \frac{\partial L}{\partial X(N)} = -2 (D - X(N)) + B(N),

        \frac{\partial L}{\partial X(k)} = B(k) - W(k+1)^\top \nabla F_{k+1}(A(k+1)) B(k+1)
        \quad (k < N), \qquad
        \frac{\partial L}{\partial W(k)} = -\sum_p \big[\nabla F_k(A(k)) B_p(k)\big] X_p(k-1)^\top,

    where :math:`A(k) = W(k) X(k-1) + b(k)` is computed from the given ``X``.

    Returns
    -------
    LagrangePartials
    """
    params = check_params(params)
    X = _check_states(X, params, "X")
    B = _check_states([None] + list(B[1:]) if hasattr(B, "__len__") and len(B) == len(X) else B, params, "B")
    D = _check_targets(targets, params, X[0].shape[0])
    F = _layer_activations(len(params), activation, output_activation)
    N = len(params)
    A = [None] + [X[k - 1] @ W.T + b for k, (W, b) in enumerate(params, start=1)]
    FB = [None] + [F[k].df(A[k]) * B[k] for k in range(1, N + 1)]  # grad F_k(A(k)) B(k)
    dB = [None] + [X[k] - F[k].f(A[k]) for k in range(1, N + 1)]
    dX = [None] + [B[k] - FB[k + 1] @ params[k][0] for k in range(1, N)] + [B[N] - 2.0 * (D - X[N])]
    return LagrangePartials(dB=dB, dX=dX, dW=_weight_gradients(FB, X))


def stationarity(params, X, B, targets, *, activation="tanh", output_activation="identity"):
    r"""Norms of the three groups of partial derivatives of :math:`L(W, X, B)`.

    Returns
    -------
    dict
        ``{"forward": ||dL/dB||, "backward": ||dL/dX||, "optimality": ||dL/dW||}``, each the
        Euclidean norm over all layers and patterns (biases counted with the weights). The first
        two vanish on the constraint surface with the costate multipliers; the third vanishes at a
        stationary point of the cost.
    """
    d = lagrange_partials(params, X, B, targets, activation=activation, output_activation=output_activation)

    def norm(arrays):
        return float(np.sqrt(sum(np.sum(a * a) for a in arrays)))

    return {
        "forward": norm(d.dB[1:]),
        "backward": norm(d.dX[1:]),
        "optimality": norm([a for pair in d.dW for a in pair]),
    }


def descent_step(params, inputs, targets, *, lr, activation="tanh", output_activation="identity"):
    r"""One batch gradient step, le Cun's eq. (9).

    .. math:: W(k) \leftarrow W(k) + \lambda \sum_p Y_p(k) X_p(k-1)^\top, \qquad
              b(k) \leftarrow b(k) + \lambda \sum_p Y_p(k).

    Returns
    -------
    C : float
        The cost before the step.
    new_params : list of (ndarray, ndarray)
    """
    lr = positive_scalar(lr, "lr")
    C, grads = backprop(params, inputs, targets, activation=activation, output_activation=output_activation)
    return C, [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(check_params(params), grads)]


def gradient_descent(params, inputs, targets, *, lr, steps, activation="tanh", output_activation="identity"):
    """Repeat :func:`descent_step` ``steps`` times.

    Returns
    -------
    params : list of (ndarray, ndarray)
        The parameters after the last step.
    losses : ndarray, shape (steps + 1,)
        The cost before each step and after the last.
    """
    steps = positive_int(steps, "steps", minimum=0)
    kw = dict(lr=lr, activation=activation, output_activation=output_activation)
    losses = np.empty(steps + 1)
    for i in range(steps):
        losses[i], params = descent_step(params, inputs, targets, **kw)
    fwd = forward(params, inputs, activation=activation, output_activation=output_activation)
    losses[steps] = cost(fwd.X[-1], _check_targets(targets, check_params(params), fwd.X[0].shape[0]))
    return params, losses
