r"""Back-propagation as the stationarity conditions of a Lagrange function (le Cun).

For an N-layer network with inputs :math:`X(0)`, targets :math:`D` and the cost
:math:`C = \sum_p \lVert D_p - X_p(N) \rVert^2`, le Cun's Lagrange function is

.. math::

    L(W, X, B) = C(X(N))
        + \sum_p \sum_{k=1}^{N} B_p(k)^\top \big[ X_p(k) - F_k(W(k) X_p(k-1)) \big].

Its partial derivatives give the three conditions of back-propagation:

* :math:`\partial L / \partial B(k) = 0`: the forward pass :math:`X(k) = F_k(A(k))`;
* :math:`\partial L / \partial X(k) = 0`: the costate (backward) pass
  :math:`B(N) = 2(D - X(N))`, :math:`B(k) = W(k+1)^\top \nabla F_{k+1}(A(k+1)) B(k+1)`;
* :math:`\partial L / \partial W(k) = 0`: the optimality condition
  :math:`\sum_p Y_p(k) X_p(k-1)^\top = 0` with :math:`Y(k) = \nabla F_k(A(k)) B(k)`.

Patterns are rows: ``X[k]`` has shape ``(P, n_k)``. Lists are indexed like the paper,
so ``A[0]``, ``B[0]`` and ``Y[0]`` hold ``None``. Biases ``b_k`` are kept explicit (the
paper folds them into ``W`` through a constant unit); every formula for ``W(k)`` holds
for ``b(k)`` with ``X(k-1)`` replaced by ones.

Beyond the three conditions the module holds their linearisations: :func:`tangent` and
:func:`jvp` (the tangent of the forward pass, a Jacobian-vector product of the output
map), :func:`vjp` (the costate pass with any boundary condition, a vector-Jacobian
product) and :func:`hessian_vector` (the tangent of all three conditions, exact
Hessian-vector products).

.. rubric:: Internal API

Public functions validate their arguments once and then call private kernels on
validated arguments. The kernels below are shared with other modules of the package,
which import them; changing one of their signatures (the leading parameters are checked
by ``tests/test_lagrangian.py``) means changing those callers too.

* ``_layer_activations(n_layers, activation, output_activation)`` ->
  ``[None, F_1, ..., F_N]`` of :class:`~lagprop.activations.Activation`. Used by
  classify, constrained, curvature, sharing.
* ``_forward(params, X0, F)`` -> :class:`Forward`. Used by classify, constrained,
  curvature, sharing.
* ``_costate(params, X, A, D, F)`` -> :class:`Costate`, with
  :math:`B(N) = 2(D - X(N))`. Used by constrained, curvature, sharing.
* ``_weight_gradients(Y, X)`` -> ``[(dC/dW_k, dC/db_k)]``. Used by classify, curvature,
  sharing.
* ``_cost(X, D)`` -> :math:`\sum_p \lVert D_p - X_p \rVert^2`. Used by sharing.
* ``_check_targets(targets, params, P)`` -> ``D`` (P, n_N). Used by curvature, sharing.
* ``_check_states(X, params, name)`` -> a list of N+1 arrays. Used by curvature.
* ``_check_lagrange_args(params, X, B, targets, activation, output_activation)``: the
  validation of every function of :math:`L` at arbitrary X and B. Used by curvature.
* ``_lagrange_partials(params, X, B, D, F)`` -> :class:`LagrangePartials`. Used by
  curvature.
* ``_hessian_vector(params, X0, D, F, d2, V)``, ``d2[k]`` being :math:`f_k''`. Used by
  curvature.
* ``_second_derivatives(F, N)`` -> ``[None, f_1'', ..., f_N'']``, or a ValueError
  naming the activation that has none. Used by curvature and constrained.
* ``_raise_if_overflowed(arrays, what, **named)``: a ValueError naming the arguments
  when finite input overflowed float64. Used by curvature.

The tests (``tests/test_conv.py``) call ``_forward``, ``_costate`` and
``_layer_activations`` too.

References
----------
Y. le Cun, "A theoretical framework for back-propagation", Proceedings of the 1988
Connectionist Models Summer School, pp. 21-28, 1988; B. A. Pearlmutter, "Fast exact
multiplication by the Hessian", Neural Computation 6(1), pp. 147-160, 1994.
"""

from dataclasses import dataclass

import numpy as np

from . import activations as _act
from ._errors import ConvergenceError
from ._validate import (as_float_array, as_patterns, check_overflow, number, positive_int,
                        positive_scalar)
from .mlp import _flatten, _unflatten, check_params, check_sizes

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
    "cost_from_layer",
    "cost_from_preactivation",
    "tangent",
    "Hamiltonian",
    "hamiltonian",
    "GradientCost",
    "gradient_cost",
    "pattern_gradient",
    "pattern_loss",
]


def __dir__():
    return list(__all__)


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


def _check_targets(targets, params, P):
    D = as_patterns(targets, "targets", params[-1][0].shape[0])
    if D.shape[0] != P:
        got = (f"a 1-D array of shape {np.shape(targets)} (one pattern)"
               if np.ndim(targets) == 1 else f"shape {D.shape}")
        raise ValueError(f"`targets` must have one row per pattern ({P}), got {got}")
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
        arr = as_patterns(X[k], f"{name}[{k}]", widths[k])
        if P is None:
            P = arr.shape[0]
        elif arr.shape[0] != P:
            raise ValueError(f"`{name}[{k}]` must have {P} rows like the others, got shape {arr.shape}")
        out.append(arr)
    return out


def _overflow_message(call, where, params, X0):
    big = max(float(np.max(np.abs(W))) for W, _ in params)
    big_x = np.max(np.abs(X0), initial=0.0)
    return (f"{call} overflowed float64 {where} of this {len(params)}-layer network: "
            f"the weights `params` (largest |W_k| = {number(big, '.3g')}) or the "
            f"`inputs` (largest |x| = {number(big_x, '.3g')}) are too large for it; "
            "scale them down")


def _first_overflow(fwd, co=None):
    """Where a pass first left float64's range: 'in the forward pass at layer k' or the like."""
    for k in range(1, len(fwd.X)):
        if not (np.all(np.isfinite(fwd.A[k])) and np.all(np.isfinite(fwd.X[k]))):
            return f"in the forward pass at layer {k}"
    for k in range(len(fwd.X) - 1, 0, -1):
        if co is not None and not (np.all(np.isfinite(co.B[k]))
                                   and np.all(np.isfinite(co.Y[k]))):
            return f"in the costate pass at layer {k}"
    return "in the cost or the gradient"


def _checked_forward(params, X0, F, call):
    """:func:`_forward` with float64 overflow reported as ``FloatingPointError`` (not inf/NaN)."""
    with np.errstate(over="ignore", invalid="ignore"):
        fwd = _forward(params, X0, F)
    if not all(np.all(np.isfinite(a)) for a in fwd.A[1:] + fwd.X[1:]):
        where = _first_overflow(fwd)
        raise FloatingPointError(_overflow_message(call, where, params, X0))
    return fwd


def _checked_costate(params, fwd, D, F, call):
    """:func:`_costate` with float64 overflow reported as ``FloatingPointError`` (not inf/NaN)."""
    with np.errstate(over="ignore", invalid="ignore"):
        co = _costate(params, fwd.X, fwd.A, D, F)
    if not all(np.all(np.isfinite(a)) for a in co.B[1:] + co.Y[1:]):
        where = _first_overflow(fwd, co)
        raise FloatingPointError(_overflow_message(call, where, params, fwd.X[0]))
    return co


def cost(outputs, targets):
    r"""The quadratic cost :math:`C = \sum_p \lVert D_p - X_p(N) \rVert^2` (le Cun 1988, eq. 1).

    .. math:: C = \sum_p \lVert D_p - X_p(N) \rVert^2 \qquad \text{(the first term of eq. 1; no 1/2)}

    Parameters
    ----------
    outputs : array_like, shape (P, n_N) or (n_N,)
        The network's outputs :math:`X(N)`.
    targets : array_like, the shape of ``outputs``
        The desired outputs :math:`D`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Shapes that differ (no broadcasting) or non-finite values.
    """
    X = as_float_array(outputs, "outputs")
    D = as_float_array(targets, "targets")
    if X.shape != D.shape:
        raise ValueError(f"`targets` must have the shape of `outputs`, {X.shape}, got {D.shape}")
    return _cost(X, D)


def _cost(X, D):
    return float(np.sum((D - X) ** 2))


def forward(params, inputs, *, activation="tanh", output_activation="identity"):
    r"""The forward pass, the condition :math:`\partial L/\partial B(k) = 0` (le Cun 1988, eq. 2).

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
    FloatingPointError
        A state overflows float64; the message names the layer.
    """
    params = check_params(params)
    F = _layer_activations(len(params), activation, output_activation)
    X0 = as_patterns(inputs, "inputs", params[0][0].shape[1])
    return _checked_forward(params, X0, F, "forward")


def _forward(params, X0, F):
    """The forward pass on validated arguments (``F`` from :func:`_layer_activations`)."""
    X, A = [X0], [None]
    for k, (W, b) in enumerate(params, start=1):
        Ak = X[k - 1] @ W.T
        Ak += b  # in place: one (P, n_k) buffer per layer
        A.append(Ak)
        X.append(F[k].f(Ak))
    return Forward(X=X, A=A)


def costate(params, fwd, targets, *, activation="tanh", output_activation="identity"):
    r"""The costate (backward) pass, the condition :math:`\partial L/\partial X(k) = 0` (le Cun 1988, eq. 3, made explicit in eqs. 5-8).

    .. math::

        B(N) &= 2\,(D - X(N)), \\
        B(k) &= W(k+1)^\top \nabla F_{k+1}(A(k+1))\, B(k+1), \\
        Y(k) &= \nabla F_k(A(k))\, B(k),

    so that :math:`Y(N) = 2 \nabla F_N(A(N))\, (D - X(N))` and
    :math:`Y(k) = \nabla F_k(A(k))\, W(k+1)^\top Y(k+1)` for :math:`k < N`.

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

    Raises
    ------
    ValueError
        Malformed ``params``, a ``fwd`` that does not fit them, ``targets`` of the wrong shape.
    TypeError
        ``fwd`` is not a :class:`Forward`.
    FloatingPointError
        A multiplier overflows float64; the message names the layer.
    """
    params = check_params(params)
    X, A = _check_forward(fwd, params)
    D = _check_targets(targets, params, X[0].shape[0])
    F = _layer_activations(len(params), activation, output_activation)
    return _checked_costate(params, Forward(X=X, A=A), D, F, "costate")


def _check_forward(fwd, params):
    """Validate a Forward against ``params``: every X[k] and A[k] present, finite, (P, n_k)."""
    if not isinstance(fwd, Forward):
        raise TypeError(f"`fwd` must be a Forward (the result of lagrangian.forward), got {type(fwd).__name__}")
    X = _check_states(fwd.X, params, "fwd.X")
    if any(x is None for x in X):
        raise ValueError("`fwd.X[k]` must be an array for every k = 0..N, got None")
    A = _check_states(fwd.A, params, "fwd.A")
    if any(a is None for a in A[1:]):
        raise ValueError("`fwd.A[k]` must be an array for every k = 1..N, got None")
    if A[1].shape[0] != X[0].shape[0]:
        raise ValueError(f"`fwd.A` must have {X[0].shape[0]} rows like `fwd.X`, got {A[1].shape[0]}")
    return X, [None] + A[1:]


def _costate(params, X, A, D, F, *, BN=None):
    r"""The costate pass on validated arguments.

    ``BN`` is the boundary condition :math:`B(N) = -\partial C/\partial X(N)`; the default
    ``None`` means the quadratic cost's :math:`2 (D - X(N))`. Any other cost of the outputs
    changes only this argument (``lagprop.classify`` passes the cross-entropy's, with
    ``D=None``); the recursion is the same.
    """
    N = len(params)
    B = [None] * (N + 1)
    Y = [None] * (N + 1)
    B[N] = 2.0 * (D - X[N]) if BN is None else BN
    for k in range(N, 0, -1):
        Yk = F[k].df(A[k])  # a fresh array: scale it in place by B(k)
        Y[k] = np.multiply(Yk, B[k], out=Yk)
        if k > 1:
            B[k - 1] = Y[k] @ params[k - 1][0]  # row form of W(k)^T Y(k)
    return Costate(B=B, Y=Y)


def tangent(params, fwd, delta, k, *, activation="tanh", output_activation="identity"):
    r"""The forward linearisation (tangent map): a perturbation of :math:`X(k)` pushed to the output.

    .. math::

        \delta X(k) = \delta, \qquad
        \delta X(j) = \nabla F_j(A(j))\, W(j)\, \delta X(j-1), \quad j = k+1, \dots, N.

    Its transpose is the costate recursion :math:`B(j-1) = W(j)^\top \nabla F_j(A(j)) B(j)`
    (le Cun 1988, eq. 6), so :math:`\langle B(j), \delta X(j) \rangle` is the same for every
    :math:`j \ge k`.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
    fwd : Forward
        The forward pass at which the map is linearised.
    delta : array_like, shape (P, n_k)
        The perturbation of :math:`X(k)`.
    k : int
        The layer perturbed, 0 <= k <= N.
    activation, output_activation : str, keyword-only

    Returns
    -------
    list
        ``[None] * k + [dX(k), ..., dX(N)]``, each (P, n_j).

    Raises
    ------
    ValueError, TypeError
        Bad ``k``, ``fwd`` or ``delta``.
    """
    params = check_params(params)
    X, A = _check_forward(fwd, params)
    N = len(params)
    k = _check_layer_index(k, N, low=0)
    d = as_patterns(delta, "delta", X[k].shape[1])
    if d.shape != X[k].shape:
        raise ValueError(f"`delta` must have the shape of X[{k}], {X[k].shape}, got {d.shape}")
    F = _layer_activations(N, activation, output_activation)
    return _tangent(params, A, d, k, F)


def _tangent(params, A, d, k, F):
    """The tangent pass on validated arguments."""
    out = [None] * k + [d]
    for j in range(k + 1, len(params) + 1):
        out.append(F[j].df(A[j]) * (out[-1] @ params[j - 1][0].T))
    return out


def _weight_gradients(Y, X):
    """dC/dW_k = -sum_p Y_p(k) X_p(k-1)^T and dC/db_k = -sum_p Y_p(k), for k = 1..N."""
    grads = []
    for k in range(1, len(Y)):
        gW = Y[k].T @ X[k - 1]
        np.negative(gW, out=gW)  # in place: no second (n_k, n_{k-1}) array
        grads.append((gW, -Y[k].sum(axis=0)))
    return grads


def backprop(params, inputs, targets, *, activation="tanh", output_activation="identity"):
    r"""The cost and its gradient with respect to every parameter, by the costate pass.

    .. math::

        \frac{\partial C}{\partial W(k)} = -\sum_p Y_p(k)\, X_p(k-1)^\top, \qquad
        \frac{\partial C}{\partial b(k)} = -\sum_p Y_p(k)

    (le Cun 1988, the optimality condition, eq. 4, and the update eq. 9), with :math:`Y` from
    :func:`costate` after :func:`forward`.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
        ``[(W_1, b_1), ..., (W_N, b_N)]``, ``W_k`` of shape (n_k, n_{k-1}) (one row per unit of
        layer k), ``b_k`` of shape (n_k,); :func:`lagprop.mlp.init_params` makes them.
    inputs : array_like, shape (P, n_0) or (n_0,)
        Input patterns as rows; a 1-D array is one pattern.
    targets : array_like, shape (P, n_N) or (n_N,)
        Desired outputs :math:`D`, one row per pattern. For P patterns of one output each pass
        shape (P, 1) (``y.reshape(-1, 1)``): a 1-D array is one pattern.
    activation : str, keyword-only
        Activation of the hidden layers (``"identity"``, ``"tanh"``, ``"sigmoid"``, ``"relu"``).
    output_activation : str, keyword-only
        Activation of the output layer N.

    Returns
    -------
    C : float
        :math:`\sum_p \lVert D_p - X_p(N) \rVert^2`.
    grads : list of (ndarray, ndarray)
        :math:`(\partial C/\partial W_k, \partial C/\partial b_k)`, the structure of ``params``.

    Raises
    ------
    ValueError
        Malformed ``params`` (the message names a transposed ``W_k``), ``inputs`` or ``targets``
        of the wrong width or pattern count, non-finite values, an unknown activation.
    TypeError
        Arguments that are not arrays of real numbers.
    FloatingPointError
        The passes overflow float64 (weights or inputs far too large for the depth); the
        message names the layer.
    """
    params = check_params(params)
    F = _layer_activations(len(params), activation, output_activation)
    X0 = as_patterns(inputs, "inputs", params[0][0].shape[1])
    D = _check_targets(targets, params, X0.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        fwd = _forward(params, X0, F)
        co = _costate(params, fwd.X, fwd.A, D, F)
        C, grads = _cost(fwd.X[-1], D), _weight_gradients(co.Y, fwd.X)
    if not (np.isfinite(C) and all(np.all(np.isfinite(g)) for pair in grads for g in pair)):
        where = _first_overflow(fwd, co)
        raise FloatingPointError(_overflow_message("backprop", where, params, X0))
    return C, grads


def lagrange_function(params, X, B, targets, *, activation="tanh", output_activation="identity"):
    r"""le Cun's Lagrange function at arbitrary states and multipliers (le Cun 1988, eq. 1, summed over patterns).

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
    params, X, B, D, F = _check_lagrange_args(params, X, B, targets, activation, output_activation)
    return _lagrange_function(params, X, B, D, F)


def _check_lagrange_args(params, X, B, targets, activation, output_activation):
    """The validation shared by every function of L(W, X, B) at arbitrary X and B."""
    params = check_params(params)
    if isinstance(X, Forward):
        X = X.X
    if isinstance(B, Costate):
        B = B.B
    X = _check_states(X, params, "X")
    if X[0] is None:
        raise ValueError("`X[0]` must hold the inputs, got None")
    if any(x is None for x in X):
        raise ValueError(f"`X[k]` must be an array for every k = 0..N, got None at "
                         f"k = {[x is None for x in X].index(True)}")
    if not isinstance(B, (list, tuple)) or len(B) != len(X):
        raise ValueError(f"`B` must be a list of {len(X)} entries (B[0] ignored), "
                         f"got {type(B).__name__}" + (f" of length {len(B)}" if hasattr(B, "__len__") else ""))
    B = _check_states([None] + list(B[1:]), params, "B")
    if any(b is None for b in B[1:]):
        raise ValueError("`B[k]` must be an array for every k = 1..N, got None")
    if B[1].shape[0] != X[0].shape[0]:
        raise ValueError(f"`B` must have {X[0].shape[0]} rows like `X`, got {B[1].shape[0]}")
    D = _check_targets(targets, params, X[0].shape[0])
    F = _layer_activations(len(params), activation, output_activation)
    return params, X, B, D, F


def _lagrange_function(params, X, B, D, F):
    L = _cost(X[-1], D)
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
    params, X, B, D, F = _check_lagrange_args(params, X, B, targets, activation, output_activation)
    return _lagrange_partials(params, X, B, D, F)


def _lagrange_partials(params, X, B, D, F):
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
    d = _lagrange_partials(*_check_lagrange_args(params, X, B, targets, activation, output_activation))

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

    Raises
    ------
    ValueError
        Bad ``params``, ``inputs``, ``targets`` or ``lr``.
    lagprop.ConvergenceError
        The step overflows (a learning rate far too large for this cost).
    """
    params, X0, D, F, lr = _check_descent(params, inputs, targets, lr, activation, output_activation)
    C, new = _descent_step(params, X0, D, F, lr)
    if not _all_finite(new):
        raise ConvergenceError(f"descent_step diverged: the step with `lr` = {lr!r} from a cost of "
                               f"{C:.6g} overflows; use a smaller `lr`", iterations=1, residual=C)
    return C, new


def _check_descent(params, inputs, targets, lr, activation, output_activation):
    params = check_params(params)
    lr = positive_scalar(lr, "lr")
    F = _layer_activations(len(params), activation, output_activation)
    X0 = as_patterns(inputs, "inputs", params[0][0].shape[1])
    D = _check_targets(targets, params, X0.shape[0])
    return params, X0, D, F, lr


def _descent_step(params, X0, D, F, lr):
    with np.errstate(over="ignore", invalid="ignore"):
        fwd = _forward(params, X0, F)
        co = _costate(params, fwd.X, fwd.A, D, F)
        grads = _weight_gradients(co.Y, fwd.X)
        C = _cost(fwd.X[-1], D)
        return C, [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(params, grads)]


def _all_finite(params):
    return all(np.all(np.isfinite(W)) and np.all(np.isfinite(b)) for W, b in params)


# gradient_descent stops with a ConvergenceError once the cost exceeds this multiple of its
# starting value: descent with a step that suits the cost never gets there
_DIVERGENCE = 1e6


def gradient_descent(params, inputs, targets, *, lr, steps, activation="tanh", output_activation="identity"):
    """Repeat :func:`descent_step` ``steps`` times.

    Returns
    -------
    params : list of (ndarray, ndarray)
        The parameters after the last step.
    losses : ndarray, shape (steps + 1,)
        The cost before each step and after the last.

    Raises
    ------
    ValueError
        Bad arguments (as for :func:`descent_step`, and ``steps`` an integer >= 0).
    lagprop.ConvergenceError
        The iteration diverged: the cost grew to more than a million times its
        starting value, or the cost or a weight overflowed. The message gives the step, the
        costs and ``lr``.
    """
    params, X0, D, F, lr = _check_descent(params, inputs, targets, lr, activation, output_activation)
    steps = positive_int(steps, "steps", minimum=0)
    losses = np.empty(steps + 1)
    for i in range(steps):
        losses[i], new = _descent_step(params, X0, D, F, lr)
        if not (np.isfinite(losses[i]) and _all_finite(new)):
            last = losses[i - 1] if i else losses[0]
            raise ConvergenceError(
                f"gradient descent diverged at step {i + 1} of {steps}: the weights "
                f"overflowed (last finite cost {number(last, '.6g')}); use a smaller "
                f"`lr` than {lr!r}",
                iterations=i + 1, residual=float(last))
        if losses[i] > _DIVERGENCE * losses[0]:
            raise _grown(losses, i, steps, lr)
        params = new
    with np.errstate(over="ignore", invalid="ignore"):
        losses[steps] = _cost(_forward(params, X0, F).X[-1], D)
    if not np.isfinite(losses[steps]):
        raise ConvergenceError("gradient descent diverged: the final cost overflowed "
                               f"after {steps} steps; use a smaller `lr` than {lr!r}",
                               iterations=steps,
                               residual=float(losses[steps - 1]))
    if losses[steps] > _DIVERGENCE * losses[0]:
        raise _grown(losses, steps, steps, lr)
    return params, losses


def _grown(losses, i, steps, lr):
    return ConvergenceError(
        f"gradient descent diverged: after {i} of {steps} steps the cost grew from "
        f"{number(losses[0], '.3g')} to {number(losses[i], '.3g')}, more than a "
        f"million times its start; use a smaller `lr` than {lr!r}", iterations=i,
        residual=float(losses[i]))


# --- The costate as influence function, the stage Hamiltonian, the cost of a gradient ---------


@dataclass(frozen=True)
class Hamiltonian:
    r"""Bryson and Ho's stage Hamiltonian :math:`H(k) = \sum_p B_p(k)^\top F_k(W(k) X_p(k-1) + b(k))`.

    Attributes
    ----------
    k : int
        The stage (layer), 1..N.
    value : float
        :math:`H(k)`, summed over the patterns.
    dB : ndarray, shape (P, n_k)
        :math:`\partial H(k)/\partial B(k) = F_k(A(k))` (the forward map).
    dX : ndarray, shape (P, n_{k-1})
        :math:`\partial H(k)/\partial X(k-1) = W(k)^\top \nabla F_k(A(k)) B(k)` (the costate map).
    dW : ndarray, shape (n_k, n_{k-1})
        :math:`\partial H(k)/\partial W(k) = \sum_p Y_p(k) X_p(k-1)^\top`.
    db : ndarray, shape (n_k,)
        :math:`\partial H(k)/\partial b(k) = \sum_p Y_p(k)`.
    """

    k: int
    value: float
    dB: np.ndarray
    dX: np.ndarray
    dW: np.ndarray
    db: np.ndarray


def hamiltonian(params, X, B, k, *, activation="tanh", output_activation="identity"):
    r"""The stage Hamiltonian of Bryson and Ho (le Cun 1988, section 2.2.4) and its partials.

    .. math::

        H(k) = \sum_p B_p(k)^\top F_k\big(W(k) X_p(k-1) + b(k)\big),

        \frac{\partial H(k)}{\partial B(k)} = F_k(A(k)), \qquad
        \frac{\partial H(k)}{\partial X(k-1)} = W(k)^\top \nabla F_k(A(k)) B(k), \qquad
        \frac{\partial H(k)}{\partial W(k)} = \sum_p Y_p(k) X_p(k-1)^\top,

    with :math:`A(k) = W(k) X(k-1) + b(k)` and :math:`Y(k) = \nabla F_k(A(k)) B(k)`. In the
    multistage control reading (state X, control W, costate B) the forward pass is
    :math:`X(k) = \partial H(k)/\partial B(k)`, the costate recursion is
    :math:`B(k-1) = \partial H(k)/\partial X(k-1)` and the optimality condition is
    :math:`\partial H(k)/\partial W(k) = 0`; since
    :math:`L = C + \sum_k [B(k)^\top X(k) - H(k)]`, the gradient of the cost is
    :math:`\partial C/\partial W(k) = -\partial H(k)/\partial W(k)` on the constraint surface.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
    X : Forward or list of N+1 arrays
        States; only ``X[k-1]`` (P, n_{k-1}) is used. A :class:`Forward` is read through ``.X``.
    B : Costate or list of N+1 entries
        Multipliers; only ``B[k]`` (P, n_k) is used. A :class:`Costate` is read through ``.B``.
    k : int
        The stage, 1 <= k <= N.
    activation, output_activation : str, keyword-only

    Returns
    -------
    Hamiltonian

    Raises
    ------
    ValueError
        Bad ``k``, shapes that do not match ``params``, or non-finite values.
    """
    params = check_params(params)
    N = len(params)
    k = positive_int(k, "k", minimum=1)
    if k > N:
        raise ValueError(f"`k` must be <= {N} (the number of layers), got {k}")
    X = X.X if isinstance(X, Forward) else X
    B = B.B if isinstance(B, Costate) else B
    for name, seq in (("X", X), ("B", B)):
        if not hasattr(seq, "__len__") or len(seq) != N + 1:
            raise ValueError(f"`{name}` must be a list of {N + 1} entries (k = 0..{N}), got {type(seq).__name__}")
    W, b = params[k - 1]
    Xk1 = as_patterns(X[k - 1], f"X[{k - 1}]", W.shape[1])
    Bk = as_patterns(B[k], f"B[{k}]", W.shape[0])
    if Bk.shape[0] != Xk1.shape[0]:
        raise ValueError(f"`B[{k}]` must have {Xk1.shape[0]} rows like `X[{k - 1}]`, got shape {Bk.shape}")
    Fk = _layer_activations(N, activation, output_activation)[k]
    A = Xk1 @ W.T + b
    FA = Fk.f(A)
    Y = Fk.df(A) * Bk
    return Hamiltonian(k=k, value=float(np.sum(Bk * FA)), dB=FA, dX=Y @ W, dW=Y.T @ Xk1, db=Y.sum(axis=0))


@dataclass(frozen=True)
class GradientCost:
    r"""Multiply-add counts of one gradient evaluation (see :func:`gradient_cost`).

    Attributes
    ----------
    forward : int
        :math:`P \sum_{k=1}^N n_k n_{k-1}`, the matrix products of the forward pass.
    costate : int
        :math:`P \sum_{k=2}^{N} n_k n_{k-1}`, the products :math:`W(k)^\top Y(k)` of the B recursion.
    weights : int
        :math:`P \sum_{k=1}^{N} n_k n_{k-1}`, the outer products :math:`\sum_p Y_p(k) X_p(k-1)^\top`.
    elementwise : int
        :math:`P \sum_k n_k`, the products :math:`\nabla F_k(A(k)) B(k)` (a diagonal times a vector).
    n_params : int
        The number of weights and biases.
    """

    forward: int
    costate: int
    weights: int
    elementwise: int
    n_params: int

    @property
    def backward(self):
        """Multiply-adds of the whole backward sweep: costate, weight gradients and diagonals."""
        return self.costate + self.weights + self.elementwise

    @property
    def backward_ratio(self):
        """Backward multiply-adds over forward multiply-adds (at most 2 plus the diagonals)."""
        return self.backward / self.forward

    @property
    def gradient_ratio(self):
        """Forward plus backward over forward: the cost of C and its gradient in units of C."""
        return (self.forward + self.backward) / self.forward

    @property
    def central_difference_ratio(self):
        """Central differences need 2 forward passes per parameter: ``2 * n_params`` in units of C."""
        return 2 * self.n_params


def gradient_cost(sizes, n_patterns=1):
    r"""Count the multiply-adds of a forward pass and of the costate pass that follows it.

    .. math::

        \text{forward} = P \sum_{k=1}^N n_k n_{k-1}, \qquad
        \text{backward} = P \Big( \sum_{k=2}^{N} n_k n_{k-1} + \sum_{k=1}^{N} n_k n_{k-1}
        + \sum_{k=1}^N n_k \Big),

    so the backward sweep costs less than twice the forward matrix products plus a diagonal term
    (the cheap-gradient principle of reverse-mode differentiation), while central differences cost
    :math:`2 \times` (number of parameters) forward passes.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths :math:`(n_0, \dots, n_N)`, at least two entries, all >= 1.
    n_patterns : int
        The number of patterns :math:`P`, >= 1.

    Returns
    -------
    GradientCost

    Raises
    ------
    ValueError, TypeError
        Bad ``sizes`` or ``n_patterns``.
    """
    P = positive_int(n_patterns, "n_patterns")
    sizes = check_sizes(sizes)
    prods = [a * b for a, b in zip(sizes[1:], sizes[:-1])]
    return GradientCost(
        forward=P * sum(prods),
        costate=P * sum(prods[1:]),
        weights=P * sum(prods),
        elementwise=P * sum(sizes[1:]),
        n_params=sum(prods) + sum(sizes[1:]),
    )



# --------------------------------------------------------------------------------------------
# The cost seen from inside the network
# --------------------------------------------------------------------------------------------

def _check_layer_index(k, N, *, low):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"`k` must be an integer layer index, got {type(k).__name__} {k!r}")
    if not low <= k <= N:
        raise ValueError(f"`k` must be a layer index in {low}..{N} for this {N}-layer network, got {int(k)}")
    return int(k)


def _propagate(params, F, X, start):
    """Run layers start+1..N on the state X(start); return X(N)."""
    for j in range(start + 1, len(params) + 1):
        W, b = params[j - 1]
        X = F[j].f(X @ W.T + b)
    return X


def cost_from_layer(params, Xk, k, targets, *, activation="tanh", output_activation="identity"):
    r"""The cost as a function of the state of layer ``k``, through the layers downstream of it.

    .. math::

        C_k(X(k)) = \sum_p \big\lVert D_p - (\Phi_N \circ \cdots \circ \Phi_{k+1})(X_p(k)) \big\rVert^2,
        \qquad \Phi_j(x) = F_j(W(j) x + b(j)).

    On the constraint surface the multiplier is its negative gradient,
    :math:`B(k) = -\partial C_k/\partial X(k)` (le Cun 1988, eqs. 5-6), which central differences
    of this function check.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
        ``[(W_1, b_1), ..., (W_N, b_N)]``.
    Xk : array_like, shape (P, n_k) or (n_k,)
        A state of layer ``k`` (any value, not necessarily produced by a forward pass).
    k : int
        The layer, 0..N (``k = 0``: the cost as a function of the inputs; ``k = N``: of the outputs).
    targets : array_like, shape (P, n_N)
    activation, output_activation : str, keyword-only
        As for :func:`forward`.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``k`` is not an integer.
    ValueError
        If ``k`` is out of range, or ``Xk`` / ``targets`` have the wrong shape.
    """
    params = check_params(params)
    N = len(params)
    k = _check_layer_index(k, N, low=0)
    widths = [params[0][0].shape[1]] + [W.shape[0] for W, _ in params]
    X = as_patterns(Xk, "Xk", widths[k])
    D = _check_targets(targets, params, X.shape[0])
    F = _layer_activations(N, activation, output_activation)
    return _cost(_propagate(params, F, X, k), D)


def cost_from_preactivation(params, Ak, k, targets, *, activation="tanh", output_activation="identity"):
    r"""The cost as a function of the weighted sums :math:`A(k)` of layer ``k`` (k = 1..N).

    .. math:: \tilde C_k(A(k)) = C_k\big(F_k(A(k))\big),

    with :math:`C_k` of :func:`cost_from_layer`. On the constraint surface
    :math:`Y(k) = -\partial \tilde C_k / \partial A(k)` (le Cun 1988, eqs. 7-8).

    Parameters
    ----------
    params : list of (ndarray, ndarray)
    Ak : array_like, shape (P, n_k) or (n_k,)
    k : int
        The layer, 1..N.
    targets : array_like, shape (P, n_N)
    activation, output_activation : str, keyword-only

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        As for :func:`cost_from_layer` (here ``k = 0`` is out of range: the input has no A(0)).
    """
    params = check_params(params)
    N = len(params)
    k = _check_layer_index(k, N, low=1)
    A = as_patterns(Ak, "Ak", params[k - 1][0].shape[0])
    D = _check_targets(targets, params, A.shape[0])
    F = _layer_activations(N, activation, output_activation)
    return _cost(_propagate(params, F, F[k].f(A), k), D)


# --------------------------------------------------------------------------------------------
# One pattern at a time: the per-pattern loss and gradient that drive the cognitive dynamics
# --------------------------------------------------------------------------------------------

def _check_stream(stream, like, activation, output_activation):
    from .supervision import Stream

    if not isinstance(stream, Stream):
        raise TypeError(f"`stream` must be a supervision.Stream, got {type(stream).__name__}")
    like = check_params(like, "like")
    F = _layer_activations(len(like), activation, output_activation)
    X0 = as_patterns(stream.inputs, "stream.inputs", like[0][0].shape[1])
    D = as_patterns(stream.targets, "stream.targets", like[-1][0].shape[0])
    if D.shape[0] != X0.shape[0]:
        raise ValueError(f"`stream.targets` must have one row per input ({X0.shape[0]}), got {D.shape}")
    n = sum(W.size + b.size for W, b in like)
    K = X0.shape[0]

    def check(k, w):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < K:
            raise ValueError(f"`k` must be a pattern index in 0..{K - 1}, got {k!r}")
        w = as_float_array(w, "w", ndim=1)
        if w.size != n:
            raise ValueError(f"`w` must have {n} entries (the parameters of `like`), got {w.size}")
        return int(k), _unflatten(w, like)

    return X0, D, F, check


def pattern_gradient(stream, like, *, activation="tanh", output_activation="identity"):
    r"""The per-pattern gradient :math:`g_k(w) = \nabla_w \bar V_k(w)` of a layered network as a callable.

    .. math:: g_k(w) = \nabla_w \lVert y_k - f(x_k, w) \rVert^2

    Returns ``grad(k, w)`` for :func:`lagprop.dynamics.simulate_impulses`: ``w`` is the flat
    parameter vector (:func:`lagprop.mlp.flatten` order, shaped like ``like``), and the gradient
    is computed by the costate pass (:func:`backprop`) on pattern ``k`` (row ``k`` of the
    :class:`~lagprop.supervision.Stream`) alone.

    Raises
    ------
    TypeError, ValueError
        ``stream`` not a Stream, ``like`` not a parameter list, or widths that do not match; the
        callable raises ValueError for a bad ``k`` or ``w``.
    """
    X0, D, F, check = _check_stream(stream, like, activation, output_activation)

    def grad(k, w):
        k, params = check(k, w)
        fwd = _forward(params, X0[k:k + 1], F)
        co = _costate(params, fwd.X, fwd.A, D[k:k + 1], F)
        return _flatten(_weight_gradients(co.Y, fwd.X))

    return grad


def pattern_loss(stream, like, *, activation="tanh", output_activation="identity"):
    r"""The per-pattern loss :math:`\bar V_k(w) = \lVert y_k - f(x_k, w) \rVert^2` as a callable ``loss(k, w)``.

    Arguments as for :func:`pattern_gradient`.
    """
    X0, D, F, check = _check_stream(stream, like, activation, output_activation)

    def loss(k, w):
        k, params = check(k, w)
        return _cost(_forward(params, X0[k:k + 1], F).X[-1], D[k:k + 1])

    return loss



# --------------------------------------------------------------------------------------
# First-order products of the output map, and second order by the second-order adjoint
# --------------------------------------------------------------------------------------

def _check_direction(v, params, name):
    """A direction with the structure and shapes of ``params``; None is zero."""
    if v is None:
        return None
    V = check_params(v, name)
    if [(W.shape, b.shape) for W, b in V] != [(W.shape, b.shape) for W, b in params]:
        raise ValueError(f"`{name}` must have the structure of `params`, shapes "
                         f"{[(W.shape, b.shape) for W, b in params]}, got "
                         f"{[(W.shape, b.shape) for W, b in V]}")
    return V


def _raise_if_overflowed(arrays, what, **named):
    """Finite arguments whose result overflowed float64: a ValueError, not silent NaN.

    ``named`` maps each argument's name to its arrays (or list of pairs); the message
    shows the largest magnitude of each. The check is the package's one mechanism,
    ``_validate.check_overflow``.
    """
    check_overflow(arrays, what, **named)


def jvp(params, inputs, v, *, d_inputs=None, activation="tanh",
        output_activation="identity"):
    r"""Jacobian-vector product of the output map: the outputs and their change.

    The output map is :math:`X(N) = \Phi(W, X(0))`. Its pushforward (forward mode) of a
    direction :math:`(V, \dot X(0))` is the tangent of the forward pass (le Cun 1988,
    eq. 2),

    .. math::

        \dot A(k) = \dot X(k-1)\, W(k)^\top + X(k-1)\, V(k)^\top + \dot b(k), \qquad
        \dot X(k) = \nabla F_k(A(k))\, \dot A(k), \qquad k = 1, \dots, N,

    in row form (patterns are rows), and the result is :math:`\dot X(N) =
    \partial_W \Phi\, V + \partial_{X(0)} \Phi\, \dot X(0)`.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
        ``[(W_1, b_1), ..., (W_N, b_N)]``.
    inputs : array_like, shape (P, n_0) or (n_0,)
        The inputs :math:`X(0)`.
    v : list of (ndarray, ndarray) or None
        The direction :math:`V = [(V_1, \dot b_1), \dots]` of the parameters, the
        structure of ``params``; None for the zero direction.
    d_inputs : array_like, shape of ``inputs``, optional, keyword-only
        The direction :math:`\dot X(0)` of the inputs; None (default) for zero.
    activation, output_activation : str or Activation, keyword-only
        As for :func:`forward`.

    Returns
    -------
    outputs : ndarray, shape (P, n_N)
        :math:`X(N)`.
    d_outputs : ndarray, shape (P, n_N)
        :math:`\dot X(N)`.

    Raises
    ------
    ValueError
        Malformed ``params``, ``inputs``, ``v`` or ``d_inputs``, non-finite values, an
        unknown activation, or a result that overflows float64.
    TypeError
        A value of the wrong type.

    See Also
    --------
    vjp : the transpose,
        :math:`\langle \bar X(N), \dot X(N) \rangle = \langle \bar W, V \rangle
        + \langle \bar X(0), \dot X(0) \rangle`.
    tangent : the same recursion started from a perturbation of one layer.

    References
    ----------
    Y. le Cun, "A theoretical framework for back-propagation", Proceedings of the 1988
    Connectionist Models Summer School, pp. 21-28, 1988; A. Griewank and A. Walther,
    *Evaluating Derivatives*, 2nd ed., SIAM, 2008, ch. 3 (the tangent mode).
    """
    params = check_params(params)
    V = _check_direction(v, params, "v")
    F = _layer_activations(len(params), activation, output_activation)
    X0 = as_patterns(inputs, "inputs", params[0][0].shape[1])
    dX0 = None
    if d_inputs is not None:
        dX0 = as_patterns(d_inputs, "d_inputs", X0.shape[1])
        if dX0.shape != X0.shape:
            raise ValueError(f"`d_inputs` must have the shape of `inputs`, {X0.shape}, "
                             f"got {dX0.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        X, dX = _jvp(params, X0, F, V, dX0)
    _raise_if_overflowed([X, dX], "the forward or tangent pass", params=params,
                         inputs=X0,
                         **({} if V is None else {"v": V}),
                         **({} if dX0 is None else {"d_inputs": dX0}))
    return X, dX


def _jvp(params, X0, F, V, dX0):
    """The forward and tangent passes on validated arguments: X(N) and its tangent."""
    X, dX = X0, dX0
    for k, (W, b) in enumerate(params, start=1):
        A = X @ W.T
        A += b
        dA = None if dX is None else dX @ W.T
        if V is not None:
            Vk, ck = V[k - 1]
            term = X @ Vk.T
            term += ck
            dA = term if dA is None else np.add(dA, term, out=dA)
        X = F[k].f(A)
        dX = None if dA is None else np.multiply(F[k].df(A), dA, out=dA)
    return X, (np.zeros_like(X) if dX is None else dX)


def vjp(params, inputs, cotangent, *, activation="tanh", output_activation="identity"):
    r"""Vector-Jacobian product of the output map: an output cotangent pulled back.

    For the output map :math:`X(N) = \Phi(W, X(0))` and a cotangent :math:`\bar X(N)`
    (one row per pattern), the pullback is the costate pass with the boundary condition
    :math:`B(N) = \bar X(N)` in place of le Cun's :math:`2(D - X(N))` (eqs. 5-8):

    .. math::

        B(N) = \bar X(N), \qquad Y(k) = \nabla F_k(A(k))\, B(k), \qquad
        B(k-1) = W(k)^\top Y(k), \quad k = N, \dots, 1,

        \bar W(k) = \sum_p Y_p(k)\, X_p(k-1)^\top, \qquad \bar b(k) = \sum_p Y_p(k),
        \qquad
        \bar X(0) = B(0),

    so that :math:`\langle \bar X(N), \dot X(N) \rangle = \sum_k \langle \bar W(k), V(k)
    \rangle + \langle \bar b(k), \dot b(k) \rangle + \langle \bar X(0), \dot X(0)
    \rangle` for every direction (:func:`jvp`). With :math:`\bar X(N) = 2(D - X(N))` the
    result is :math:`-\partial C/\partial W`, the gradient of :func:`backprop` with its
    sign changed.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
        ``[(W_1, b_1), ..., (W_N, b_N)]``.
    inputs : array_like, shape (P, n_0) or (n_0,)
        The inputs :math:`X(0)`.
    cotangent : array_like, shape (P, n_N) or (n_N,)
        :math:`\bar X(N)`, one row per pattern.
    activation, output_activation : str or Activation, keyword-only
        As for :func:`forward`.

    Returns
    -------
    d_params : list of (ndarray, ndarray)
        :math:`(\bar W(k), \bar b(k))`, the structure of ``params``.
    d_inputs : ndarray, shape (P, n_0)
        :math:`\bar X(0)`.

    Raises
    ------
    ValueError
        Malformed ``params``, ``inputs`` or ``cotangent``, non-finite values, an unknown
        activation, or a result that overflows float64.
    TypeError
        A value of the wrong type.

    References
    ----------
    Y. le Cun, "A theoretical framework for back-propagation", Proceedings of the 1988
    Connectionist Models Summer School, pp. 21-28, 1988; A. Griewank and A. Walther,
    *Evaluating Derivatives*, 2nd ed., SIAM, 2008, ch. 3 (the reverse mode).
    """
    params = check_params(params)
    F = _layer_activations(len(params), activation, output_activation)
    X0 = as_patterns(inputs, "inputs", params[0][0].shape[1])
    U = as_patterns(cotangent, "cotangent", params[-1][0].shape[0])
    if U.shape[0] != X0.shape[0]:
        raise ValueError(f"`cotangent` must have one row per pattern ({X0.shape[0]}), "
                         f"got shape {U.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        fwd = _forward(params, X0, F)
        grads, B0 = _vjp(params, fwd.X, fwd.A, U, F)
    _raise_if_overflowed([B0] + [a for pair in grads for a in pair], "the pullback",
                         params=params, inputs=X0, cotangent=U)
    return grads, B0


def _vjp(params, X, A, U, F):
    """The pullback of ``U`` on validated arguments: ([(W_bar, b_bar)], X(0)_bar)."""
    B, out = U, [None] * len(params)
    for k in range(len(params), 0, -1):
        Y = F[k].df(A[k])
        np.multiply(Y, B, out=Y)
        out[k - 1] = (Y.T @ X[k - 1], Y.sum(axis=0))
        B = Y @ params[k - 1][0]
    return out, B


def hessian_vector(params, inputs, targets, v, *, activation="tanh",
                   output_activation="identity"):
    r"""The Hessian of the cost times a direction, exactly, by the second-order adjoint.

    To get :math:`(\nabla^2_W C)\,V`, differentiate the three stationarity conditions
    of :math:`L` (forward pass, costate pass, gradient) along the direction :math:`V` of
    the weights (the :math:`\mathcal{R}\{\cdot\}` operator of Pearlmutter 1994): a
    tangent pass through the forward pass,

    .. math::

        \dot A(k) = \dot X(k-1) W(k)^\top + X(k-1) V(k)^\top + \dot b(k), \qquad
        \dot X(k) = \nabla F_k(A(k))\, \dot A(k), \qquad \dot X(0) = 0,

    then the tangent of the costate pass, run backwards beside it,

    .. math::

        \dot B(N) = -2\, \dot X(N), \qquad
        \dot Y(k) = \nabla^2 F_k(A(k))\, \dot A(k)\, B(k)
            + \nabla F_k(A(k))\, \dot B(k), \qquad
        \dot B(k-1) = \dot Y(k) W(k) + Y(k) V(k),

    and the tangent of the gradient :math:`\partial C/\partial W(k) = -\sum_p Y_p(k)
    X_p(k-1)^\top` (le Cun 1988, eq. 4),

    .. math::

        (\nabla^2 C\, V)_{W(k)}
            = -\sum_p \big[\dot Y_p(k) X_p(k-1)^\top + Y_p(k) \dot X_p(k-1)^\top\big],
        \qquad (\nabla^2 C\, V)_{b(k)} = -\sum_p \dot Y_p(k).

    The cost is one forward, one tangent and two backward sweeps: about two gradient
    evaluations, with no difference step. Since :math:`\dot X(0) = 0`, the products with
    :math:`\dot X(0)` in the first layer are skipped, and :math:`\nabla F_k(A(k))` is
    evaluated once per layer for the three sweeps that use it.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
        ``[(W_1, b_1), ..., (W_N, b_N)]``.
    inputs : array_like, shape (P, n_0) or (n_0,)
    targets : array_like, shape (P, n_N) or (n_N,)
    v : list of (ndarray, ndarray)
        The direction :math:`V`, with the structure and shapes of ``params``.
    activation, output_activation : str or Activation, keyword-only
        As for :func:`forward`; the activation's second derivative
        ``d2f`` is used (every named activation has one;
        ``"relu"`` uses :math:`f'' = 0`, exact wherever no weighted sum is at 0).

    Returns
    -------
    list of (ndarray, ndarray)
        :math:`\nabla^2_W C\, V` with the structure of ``params``.

    Raises
    ------
    ValueError
        Malformed ``params``, ``inputs``, ``targets`` or ``v``; an unknown activation or
        a user :class:`~lagprop.activations.Activation` without ``d2f``; a product that
        overflows float64 (weights far too large), instead of NaN.
    TypeError
        A value or an activation of the wrong type.

    References
    ----------
    Y. le Cun, "A theoretical framework for back-propagation", Proceedings of the 1988
    Connectionist Models Summer School, pp. 21-28, 1988; B. A. Pearlmutter, "Fast exact
    multiplication by the Hessian", Neural Computation 6(1), pp. 147-160, 1994.
    """
    params = check_params(params)
    V = _check_direction(v, params, "v")
    if V is None:
        raise TypeError("`v` must be a list of (V_k, c_k) pairs like `params`, "
                        "got None")
    F = _layer_activations(len(params), activation, output_activation)
    d2 = _second_derivatives(F, len(params))
    X0 = as_patterns(inputs, "inputs", params[0][0].shape[1])
    D = _check_targets(targets, params, X0.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        out = _hessian_vector(params, X0, D, F, d2, V)
    _raise_if_overflowed([a for pair in out for a in pair],
                         "the Hessian-vector product",
                         params=params, inputs=X0, targets=D, v=V)
    return out


def _second_derivatives(F, N):
    """``[None, f_1'', ..., f_N'']``, or a ValueError naming the activation without."""
    names = ["activation"] * (N - 1) + ["output_activation"]
    return [None] + [_act.second_derivative(F[k], names[k - 1])
                     for k in range(1, N + 1)]


def _hessian_vector(params, X0, D, F, d2, V):
    r"""The second-order adjoint on validated arguments (``d2[k]`` is f_k'').

    One forward sweep keeps :math:`\nabla F_k(A(k))` and the tangents; one backward
    sweep runs the costate and its tangent together. :math:`\dot X(0) = 0` drops two
    products of the first (often the widest) layer. Temporaries are scaled in place.
    """
    N = len(params)
    X, A, dF, dA, dX = [X0], [None], [None], [None], [None]
    for k in range(1, N + 1):  # the forward pass and its tangent
        (W, b), (Vk, ck) = params[k - 1], V[k - 1]
        Ak = X[k - 1] @ W.T
        Ak += b
        dAk = X[k - 1] @ Vk.T
        dAk += ck
        if k > 1:
            dAk += dX[k - 1] @ W.T
        A.append(Ak)
        X.append(F[k].f(Ak))
        dF.append(F[k].df(Ak))
        dA.append(dAk)
        dX.append(dF[k] * dAk)
    B = D - X[N]
    B *= 2.0
    dB = dX[N] * -2.0
    out = [None] * N
    for k in range(N, 0, -1):  # the costate pass and its tangent
        Wk, Vk = params[k - 1][0], V[k - 1][0]
        Y = dF[k] * B
        dY = d2[k](A[k])
        dY *= dA[k]
        dY *= B
        dF[k] *= dB  # dF[k] is not needed again: it becomes grad F_k dB(k)
        dY += dF[k]
        gW = dY.T @ X[k - 1]
        if k > 1:
            gW += Y.T @ dX[k - 1]
        np.negative(gW, out=gW)
        out[k - 1] = (gW, -dY.sum(axis=0))
        if k > 1:
            B = Y @ Wk
            dB = dY @ Wk
            dB += Y @ Vk
    return out


__all__ += ["jvp", "vjp", "hessian_vector"]
