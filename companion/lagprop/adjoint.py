r"""The costate in continuous time: the adjoint method for continuous-depth networks.

A continuous-depth network moves each pattern's state :math:`x(t) \in \mathbb R^n` by

.. math:: \dot x = f(x, \theta) = F(W x + b), \qquad x(0) = x_0, \qquad 0 \le t \le T,

with :math:`\theta = (W, b)`, ``W`` of shape (n, n), ``b`` of shape (n,), and ``F`` an element-wise
activation. The cost is le Cun's :math:`C = \sum_p \lVert D_p - x_p(T) \rVert^2` (no 1/2).
Multiplying the dynamics by a costate :math:`B(t)` gives the continuous Lagrange function

.. math:: L = C(x(T)) + \int_0^T B(t)^\top \big[\dot x - f(x, \theta)\big]\, dt,

whose stationarity in :math:`x` gives, with le Cun's sign (:math:`B = -\partial C/\partial x`),

.. math::

    B(T) = 2\,(D - x(T)), \qquad \dot B = -J_f(x)^\top B, \qquad
    \frac{\partial C}{\partial \theta} = -\int_0^T \partial_\theta f(x, \theta)^\top B\, dt,

(Pontryagin et al. 1962; Chen et al. 2018 use :math:`a = -B`). With :math:`A = W x + b` and
:math:`Y = \nabla F(A) B` (le Cun's change of variable) the two last formulas read
:math:`\dot B = -W^\top Y` and :math:`\partial C/\partial W = -\int_0^T Y x^\top dt`,
:math:`\partial C/\partial b = -\int_0^T Y dt`.

The Euler discretisation :math:`X(k) = X(k-1) + h F(A(k))`, :math:`A(k) = W X(k-1) + b`,
:math:`h = T/N`, is a residual layered network with shared weights; le Cun's costate recursion
applied to it (:func:`euler_costate`) is

.. math::

    B(N) = 2\,(D - X(N)), \qquad B(k-1) = B(k) + h\, W^\top Y(k), \qquad Y(k) = \nabla F(A(k)) B(k),

and gives the exact gradient of the discrete network ("discretise then optimise",
:func:`euler_backprop`). Stepping the continuous adjoint equation with Euler's method instead
(:func:`euler_adjoint`, "optimise then discretise") evaluates the Jacobian at the other end of
each step; both converge to the continuous gradient at first order in :math:`h`.

Patterns are rows: ``x0`` and ``targets`` have shape (P, n) (a 1-D array is one pattern).
"""

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from . import activations as _act
from ._errors import ConvergenceError
from ._validate import (as_float_array, as_patterns, positive_int, positive_scalar, short_repr,
                        tolerance)
from .gradcheck import fitted_order, relative_error

__all__ = [
    "ODEForward",
    "AdjointResult",
    "EulerForward",
    "EulerCostate",
    "ConvergenceSweep",
    "check_theta",
    "vector_field",
    "odeint_forward",
    "ode_cost",
    "adjoint_gradient",
    "euler_forward",
    "euler_cost",
    "euler_costate",
    "euler_backprop",
    "euler_adjoint",
    "euler_jvp",
    "euler_vjp",
    "convergence_sweep",
    "RK_TABLEAUS",
    "RKForward",
    "partner_tableau",
    "rk_forward",
    "rk_cost",
    "rk_backprop",
    "rk_partner_adjoint",
]


def __dir__():
    return list(__all__)


# ----------------------------------------------------------------------------------------------
# validation


def check_theta(theta, name="theta"):
    """Validate ``theta = (W, b)`` with ``W`` square (n, n) and ``b`` of shape (n,); return float64 arrays.

    Raises
    ------
    ValueError
        If ``theta`` is not a pair, ``W`` is not square, ``b`` does not have n entries, or a value
        is not finite.
    """
    if not isinstance(theta, (tuple, list)) or len(theta) != 2:
        raise ValueError(f"`{name}` must be a pair (W, b), got {type(theta).__name__}"
                         + (f" of length {len(theta)}" if hasattr(theta, "__len__") else ""))
    W = as_float_array(theta[0], f"{name}[0] (W)", ndim=2)
    b = as_float_array(theta[1], f"{name}[1] (b)", ndim=1)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"`{name}[0]` (W) must be square (n, n): the state maps to itself, got shape {W.shape}")
    if b.shape != (W.shape[0],):
        raise ValueError(f"`{name}[1]` (b) must have shape ({W.shape[0]},) to match W, got {b.shape}")
    return W, b


def _check_problem(theta, x0, targets, T):
    W, b = check_theta(theta)
    n = W.shape[0]
    x0 = as_patterns(x0, "x0", n)
    D = as_patterns(targets, "targets", n)
    if D.shape != x0.shape:
        raise ValueError(f"`targets` must have the shape of `x0` {x0.shape}, got {D.shape}")
    T = positive_scalar(T, "T")
    return W, b, x0, D, T


# ----------------------------------------------------------------------------------------------
# continuous time


def vector_field(theta, x, *, activation="tanh"):
    r"""The vector field :math:`f(x, \theta) = F(W x + b)`, row by row.

    Parameters
    ----------
    theta : tuple (W, b)
        ``W`` (n, n), ``b`` (n,).
    x : array_like, shape (P, n) or (n,)
    activation : str, keyword-only

    Returns
    -------
    ndarray, shape (P, n)
    """
    W, b = check_theta(theta)
    x = as_patterns(x, "x", W.shape[0])
    return _act.get(activation).f(x @ W.T + b)


@dataclass(frozen=True)
class ODEForward:
    """A forward solve. ``t`` (M,), ``x`` (M, P, n) at ``t``, ``xT`` (P, n) the state at T, ``nfev``,
    and ``dense``: a callable (scalar) t -> x(t) of shape (P, n) for any t in [0, T]."""

    t: np.ndarray
    x: np.ndarray
    xT: np.ndarray
    nfev: int
    dense: object


def _check_tolerances(rtol, atol):
    """solve_ivp's tolerances: finite and > 0 (a NaN tolerance makes scipy loop for ever)."""
    rtol, atol = tolerance(rtol, "rtol"), tolerance(atol, "atol")
    floor = 100 * np.finfo(float).eps
    if rtol < floor:
        raise ValueError(f"`rtol` must be >= {floor:.3g} (scipy's floor), got {rtol!r}")
    return rtol, atol


def _check_t_eval(t_eval, T, *, decreasing=False):
    t = as_float_array(t_eval, "t_eval", ndim=1)
    steps = np.diff(t)
    if t.size == 0 or np.any(steps >= 0 if decreasing else steps <= 0):
        order = "decreasing (from T to 0)" if decreasing else "increasing"
        raise ValueError(f"`t_eval` must be a non-empty {order} 1-D array of times, got {t.size} value(s)")
    if np.min(t) < 0 or np.max(t) > T:
        raise ValueError(f"`t_eval` must lie in [0, T] = [0, {T!r}], got [{float(np.min(t))!r}, "
                         f"{float(np.max(t))!r}]")
    return t


def _solve(rhs, t_span, z0, t_eval, rtol, atol, what):
    with np.errstate(over="ignore", invalid="ignore"):
        sol = solve_ivp(rhs, t_span, z0, method="DOP853", rtol=rtol, atol=atol, t_eval=t_eval,
                        dense_output=True)
    if not sol.success or not np.all(np.isfinite(sol.y)):
        raise ConvergenceError(f"the {what} solve failed after {sol.nfev} evaluations: "
                               f"{sol.message if not sol.success else 'the state overflowed'}",
                               iterations=int(sol.nfev))
    return sol


def odeint_forward(theta, x0, T, *, activation="tanh", t_eval=None, rtol=1e-12, atol=1e-12):
    r"""Solve :math:`\dot x = F(W x + b)`, :math:`x(0) = x_0` on :math:`[0, T]` with scipy's DOP853.

    .. math:: x(t) = x_0 + \int_0^t F(W x(s) + b)\, ds

    Parameters
    ----------
    theta : tuple (W, b)
        ``W`` (n, n), ``b`` (n,).
    x0 : array_like, shape (P, n) or (n,)
        Initial states, one row per pattern.
    T : float
        Final time (the network's depth), > 0.
    activation : str, keyword-only
    t_eval : array_like or None, keyword-only
        Times in [0, T] at which to store the state; default ``[0, T]``.
    rtol, atol : float, keyword-only
        Tolerances of the solver.

    Returns
    -------
    ODEForward

    Raises
    ------
    ValueError
        Malformed ``theta``, ``x0``, non-positive ``T``, ``rtol``/``atol`` not finite and > 0,
        ``t_eval`` not increasing in [0, T].
    lagprop.ConvergenceError
        If the solver fails or the state overflows.
    """
    W, b = check_theta(theta)
    x0 = as_patterns(x0, "x0", W.shape[0])
    T = positive_scalar(T, "T")
    F = _act.get(activation)
    rtol, atol = _check_tolerances(rtol, atol)
    t_eval = np.array([0.0, T]) if t_eval is None else _check_t_eval(t_eval, T)
    return _odeint_forward(W, b, x0, T, F, t_eval, rtol, atol)


def _odeint_forward(W, b, x0, T, F, t_eval, rtol, atol):
    shape = x0.shape

    def rhs(t, z):
        return F.f(z.reshape(shape) @ W.T + b).ravel()

    sol = _solve(rhs, (0.0, T), x0.ravel(), t_eval, rtol, atol, "forward")
    x = sol.y.T.reshape((-1,) + shape)
    return ODEForward(t=sol.t, x=x, xT=sol.sol(T).reshape(shape), nfev=int(sol.nfev),
                      dense=lambda t: sol.sol(float(t)).reshape(shape))


def ode_cost(theta, x0, targets, T, *, activation="tanh", rtol=1e-12, atol=1e-12):
    r"""The cost :math:`C = \sum_p \lVert D_p - x_p(T) \rVert^2` of the continuous-depth network.

    .. math:: C = \sum_p \lVert D_p - x_p(T) \rVert^2, \qquad \dot x = F(W x + b)

    (:func:`euler_cost` is the same cost of the Euler network.)
    """
    W, b, x0, D, T = _check_problem(theta, x0, targets, T)
    F = _act.get(activation)
    rtol, atol = _check_tolerances(rtol, atol)
    xT = _odeint_forward(W, b, x0, T, F, np.array([0.0, T]), rtol, atol).xT
    return float(np.sum((D - xT) ** 2))


@dataclass(frozen=True)
class AdjointResult:
    r"""Result of :func:`adjoint_gradient`.

    Attributes
    ----------
    cost : float
        :math:`C = \sum_p \lVert D_p - x_p(T) \rVert^2`.
    grad : tuple (ndarray, ndarray)
        :math:`(\partial C/\partial W, \partial C/\partial b)`, shapes (n, n) and (n,).
    B0 : ndarray, shape (P, n)
        The costate at :math:`t = 0`, :math:`B(0) = -\partial C/\partial x_0` (le Cun's sign).
    dC_dx0 : ndarray, shape (P, n)
        :math:`\partial C/\partial x_0 = -B(0)`, the adjoint :math:`a(0)` of Chen et al.
    xT : ndarray, shape (P, n)
        The state at T from the forward solve.
    x0_error : float
        Largest deviation of the state re-integrated backwards from ``x0`` (a check of the
        backward solve).
    nfev : int
        Right-hand-side evaluations of the forward plus the backward solve.
    t, x, B : ndarray or None
        With ``t_eval``: the times (decreasing, from T to 0), the states (M, P, n) and the costates
        (M, P, n) of the backward solve.
    """

    cost: float
    grad: tuple
    B0: np.ndarray
    dC_dx0: np.ndarray
    xT: np.ndarray
    x0_error: float
    nfev: int
    t: np.ndarray = None
    x: np.ndarray = None
    B: np.ndarray = None


def adjoint_gradient(theta, x0, targets, T, *, activation="tanh", t_eval=None, rtol=1e-12, atol=1e-12):
    r"""The gradient of :math:`C` by the continuous costate (adjoint) equation, solved backwards.

    After the forward solve, the augmented state :math:`(x, B, G_W, G_b)` is integrated from
    :math:`t = T` down to :math:`t = 0`:

    .. math::

        \dot x = F(A), \quad \dot B = -W^\top Y, \quad \dot G_W = Y x^\top, \quad \dot G_b = Y,
        \qquad A = W x + b,\ Y = \nabla F(A)\, B,

        x(T) = x_T,\quad B(T) = 2\,(D - x(T)),\quad G(T) = 0,

    and :math:`\partial C/\partial W = G_W(0) = -\int_0^T Y x^\top dt`,
    :math:`\partial C/\partial b = G_b(0)`, :math:`B(0) = -\partial C/\partial x_0`
    (summed over patterns). This is the continuous limit of le Cun's (1988) eqs. (5)-(9); with
    :math:`a = -B` it is the adjoint method of Chen et al. (2018, eqs. 4-5). The state is
    re-integrated backwards (memory independent of the number of steps), as in Chen et al.

    Parameters
    ----------
    theta : tuple (W, b)
        ``W`` (n, n), ``b`` (n,).
    x0 : array_like, shape (P, n) or (n,)
    targets : array_like, shape (P, n) or (n,)
        Desired final states :math:`D`.
    T : float
        Final time, > 0.
    activation : str, keyword-only
    t_eval : array_like or None, keyword-only
        Times in [0, T] (given decreasing, from T to 0) at which to keep ``x`` and ``B``.
    rtol, atol : float, keyword-only
        Tolerances of both solves.

    Returns
    -------
    AdjointResult

    Raises
    ------
    ValueError
        Malformed ``theta``, ``x0``, ``targets`` of another shape, non-positive ``T``.
    lagprop.ConvergenceError
        If a solve fails.
    """
    W, b, x0, D, T = _check_problem(theta, x0, targets, T)
    F = _act.get(activation)
    rtol, atol = _check_tolerances(rtol, atol)
    if t_eval is not None:
        t_eval = _check_t_eval(t_eval, T, decreasing=True)
    P, n = x0.shape
    m = P * n
    fwd = _odeint_forward(W, b, x0, T, F, np.array([0.0, T]), rtol, atol)
    xT = fwd.xT

    def rhs(t, z):
        x = z[:m].reshape(P, n)
        B = z[m:2 * m].reshape(P, n)
        A = x @ W.T + b
        Y = F.df(A) * B
        return np.concatenate([F.f(A).ravel(), -(Y @ W).ravel(), (Y.T @ x).ravel(), Y.sum(axis=0)])

    BT = 2.0 * (D - xT)
    z_T = np.concatenate([xT.ravel(), BT.ravel(), np.zeros(n * n + n)])
    sol = _solve(rhs, (T, 0.0), z_T, t_eval, rtol, atol, "backward (adjoint)")
    z0 = sol.sol(0.0)
    grad = (z0[2 * m:2 * m + n * n].reshape(n, n), z0[2 * m + n * n:].copy())
    B0 = z0[m:2 * m].reshape(P, n)
    extra = {}
    if t_eval is not None:
        extra = dict(t=sol.t, x=sol.y[:m].T.reshape(-1, P, n), B=sol.y[m:2 * m].T.reshape(-1, P, n))
    return AdjointResult(
        cost=float(np.sum((D - xT) ** 2)), grad=grad, B0=B0, dC_dx0=-B0, xT=xT,
        x0_error=float(np.max(np.abs(z0[:m].reshape(P, n) - x0))), nfev=int(fwd.nfev + sol.nfev), **extra)


# ----------------------------------------------------------------------------------------------
# the Euler-discretised network: a residual layered network with shared weights


@dataclass(frozen=True)
class EulerForward:
    """States of the Euler network. ``X[k]`` (P, n) for k = 0..N; ``A[k]`` (P, n), ``A[0] is None``;
    ``h`` the step."""

    X: list
    A: list
    h: float


@dataclass(frozen=True)
class EulerCostate:
    r"""Multipliers of the Euler network, ``B[k]`` (P, n) for k = 0..N
    (:math:`B(0) = -\partial C/\partial X(0)`); :math:`Y(k) = \nabla F(A(k)) B(k)` for k = 1..N,
    ``Y[0] is None``."""

    B: list
    Y: list


def euler_forward(theta, x0, T, *, steps, activation="tanh"):
    r"""The forward pass of the Euler-discretised network (a residual network, weights shared by all layers).

    .. math:: A(k) = W X(k-1) + b, \qquad X(k) = X(k-1) + h\, F(A(k)), \qquad h = T/N,\ k = 1..N.

    Parameters
    ----------
    theta : tuple (W, b)
    x0 : array_like, shape (P, n) or (n,)
    T : float
        Final time, > 0.
    steps : int, keyword-only
        The number of layers N >= 1.
    activation : str, keyword-only

    Returns
    -------
    EulerForward
    """
    W, b = check_theta(theta)
    x0 = as_patterns(x0, "x0", W.shape[0])
    T = positive_scalar(T, "T")
    N = positive_int(steps, "steps")
    return _euler_forward(W, b, x0, T, N, _act.get(activation))


def _euler_forward(W, b, x0, T, N, F):
    h = T / N
    X, A = [x0], [None]
    for k in range(1, N + 1):
        A.append(X[k - 1] @ W.T + b)
        X.append(X[k - 1] + h * F.f(A[k]))
    return EulerForward(X=X, A=A, h=h)


def euler_cost(theta, x0, targets, T, *, steps, activation="tanh"):
    r"""The cost :math:`\sum_p \lVert D_p - X_p(N) \rVert^2` of the Euler network."""
    W, b, x0, D, T = _check_problem(theta, x0, targets, T)
    X = _euler_forward(W, b, x0, T, positive_int(steps, "steps"), _act.get(activation)).X
    return float(np.sum((D - X[-1]) ** 2))


def _costate_from(W, fwd, BN, F):
    N, h = len(fwd.X) - 1, fwd.h
    B = [None] * (N + 1)
    Y = [None] * (N + 1)
    B[N] = BN
    for k in range(N, 0, -1):
        Y[k] = F.df(fwd.A[k]) * B[k]
        B[k - 1] = B[k] + h * (Y[k] @ W)  # row form of B(k) + h W^T Y(k)
    return EulerCostate(B=B, Y=Y)


def _sum_outer(Y, X, h, sign):
    """sign * h * sum_k (Y(k)^T X(k-1), sum_p Y(k)) over k = 1..N."""
    gW = sum(Y[k].T @ X[k - 1] for k in range(1, len(Y)))
    gb = sum(Y[k].sum(axis=0) for k in range(1, len(Y)))
    return sign * h * gW, sign * h * gb


def euler_costate(theta, fwd, targets, *, activation="tanh"):
    r"""le Cun's costate pass on the Euler network: the condition :math:`\partial L/\partial X(k) = 0`.

    The Lagrange function of the residual network is
    :math:`L = C(X(N)) + \sum_k B(k)^\top [X(k) - X(k-1) - h F(W X(k-1) + b)]`; its stationarity in
    :math:`X(N)` and :math:`X(k-1)` gives

    .. math::

        B(N) = 2\,(D - X(N)), \qquad Y(k) = \nabla F(A(k))\, B(k), \qquad
        B(k-1) = B(k) + h\, W^\top Y(k), \quad k = N, \dots, 1.

    The identity path of the residual connection contributes the ``B(k)`` term; the rest is le
    Cun's eq. (6) with the layer map scaled by ``h``. :math:`B(0) = -\partial C/\partial X(0)`.

    Parameters
    ----------
    theta : tuple (W, b)
    fwd : EulerForward
        From :func:`euler_forward` with the same ``theta``.
    targets : array_like, shape (P, n) or (n,)
    activation : str, keyword-only
        The forward pass's activation.

    Returns
    -------
    EulerCostate
    """
    W, b = check_theta(theta)
    fwd = _check_euler_forward(fwd, W)
    D = as_patterns(targets, "targets", W.shape[0])
    if D.shape != fwd.X[-1].shape:
        raise ValueError(f"`targets` must have shape {fwd.X[-1].shape} like the states, got {D.shape}")
    return _costate_from(W, fwd, 2.0 * (D - fwd.X[-1]), _act.get(activation))


def _check_euler_forward(fwd, W):
    """Validate an EulerForward: N+1 states X and N+1 entries A (A[0] None), all (P, n), h > 0."""
    if not isinstance(fwd, EulerForward):
        raise TypeError(f"`fwd` must be an EulerForward (the result of euler_forward), got {type(fwd).__name__}")
    n = W.shape[0]
    if not isinstance(fwd.X, (list, tuple)) or len(fwd.X) < 2:
        raise ValueError(f"`fwd.X` must be a list of N + 1 >= 2 state arrays, got {type(fwd.X).__name__}")
    X = [as_patterns(x, f"fwd.X[{k}]", n) for k, x in enumerate(fwd.X)]
    if not isinstance(fwd.A, (list, tuple)) or len(fwd.A) != len(X):
        raise ValueError(f"`fwd.A` must be a list of {len(X)} entries like `fwd.X`, got "
                         f"{len(fwd.A) if hasattr(fwd.A, '__len__') else type(fwd.A).__name__}")
    A = [None] + [as_patterns(a, f"fwd.A[{k}]", n) for k, a in enumerate(fwd.A) if k > 0]
    for k in range(1, len(X)):
        if X[k].shape != X[0].shape or A[k].shape != X[0].shape:
            raise ValueError(f"`fwd.X[{k}]` and `fwd.A[{k}]` must have shape {X[0].shape}, got "
                             f"{X[k].shape} and {A[k].shape}")
    return EulerForward(X=X, A=A, h=positive_scalar(fwd.h, "fwd.h"))


def euler_backprop(theta, x0, targets, T, *, steps, activation="tanh"):
    r"""Discretise then optimise: the exact gradient of the Euler network by its costate pass.

    .. math::

        \frac{\partial C_h}{\partial W} = -h \sum_{k=1}^{N} Y(k)\, X(k-1)^\top, \qquad
        \frac{\partial C_h}{\partial b} = -h \sum_{k=1}^{N} Y(k)

    (le Cun 1988, optimality condition, summed over the layers that share ``W``), with ``Y`` from
    :func:`euler_costate`.

    Returns
    -------
    C : float
        The Euler network's cost :math:`C_h = \sum_p \lVert D_p - X_p(N) \rVert^2`.
    grad : tuple (ndarray, ndarray)
        :math:`(\partial C_h/\partial W, \partial C_h/\partial b)`.
    B0 : ndarray, shape (P, n)
        :math:`B(0) = -\partial C_h/\partial X(0)`.
    """
    W, b, x0, D, T = _check_problem(theta, x0, targets, T)
    F = _act.get(activation)
    fwd = _euler_forward(W, b, x0, T, positive_int(steps, "steps"), F)
    return _euler_backprop(W, D, fwd, F)


def _euler_backprop(W, D, fwd, F):
    """Discretise then optimise, on validated arguments and an Euler forward pass."""
    co = _costate_from(W, fwd, 2.0 * (D - fwd.X[-1]), F)
    return float(np.sum((D - fwd.X[-1]) ** 2)), _sum_outer(co.Y, fwd.X, fwd.h, -1.0), co.B[0]


def euler_adjoint(theta, x0, targets, T, *, steps, activation="tanh"):
    r"""Optimise then discretise: the continuous adjoint equation stepped backwards with Euler's method.

    With the Euler states :math:`X(k)`, :math:`\tilde A(k) = W X(k) + b` and
    :math:`\tilde Y(k) = \nabla F(\tilde A(k)) B(k)`, Euler's method applied to
    :math:`\dot B = -W^\top Y` from :math:`t_k` down to :math:`t_{k-1}`, and the left-hand
    rectangle rule (from the top) for the parameter integral, give

    .. math::

        B(N) = 2\,(D - X(N)), \qquad B(k-1) = B(k) + h\, W^\top \tilde Y(k), \qquad
        \frac{\partial C}{\partial W} \approx -h \sum_{k=1}^{N} \tilde Y(k)\, X(k)^\top.

    The only difference from :func:`euler_backprop` is where the Jacobian is evaluated: at the
    step's start :math:`X(k-1)` there, at its end :math:`X(k)` here. This is not the gradient of
    any network, but it converges to the continuous gradient at the same first order.

    Returns
    -------
    C : float
        The Euler network's cost.
    grad : tuple (ndarray, ndarray)
    B0 : ndarray, shape (P, n)
    """
    W, b, x0, D, T = _check_problem(theta, x0, targets, T)
    F = _act.get(activation)
    fwd = _euler_forward(W, b, x0, T, positive_int(steps, "steps"), F)
    return _euler_adjoint(W, b, D, fwd, F)


def _euler_adjoint(W, b, D, fwd, F):
    """Optimise then discretise, on validated arguments and an Euler forward pass."""
    X, h = fwd.X, fwd.h
    N = len(X) - 1
    shifted = EulerForward(X=X, A=[None] + [X[k] @ W.T + b for k in range(1, N + 1)], h=h)
    co = _costate_from(W, shifted, 2.0 * (D - X[N]), F)
    gW = -h * sum(co.Y[k].T @ X[k] for k in range(1, N + 1))
    gb = -h * sum(co.Y[k].sum(axis=0) for k in range(1, N + 1))
    return float(np.sum((D - X[N]) ** 2)), (gW, gb), co.B[0]


def euler_jvp(theta, fwd, u0, uW, ub, *, activation="tanh"):
    r"""Tangent (forward-mode) pass of the Euler network: :math:`\delta X(N)` from :math:`(\delta X(0), \delta W, \delta b)`.

    .. math::

        \delta X(k) = \delta X(k-1) + h\, \nabla F(A(k)) \big[W \delta X(k-1) + \delta W X(k-1) + \delta b\big].

    Parameters
    ----------
    theta : tuple (W, b)
    fwd : EulerForward
        The forward pass at which the map is linearised.
    u0 : array_like, shape (P, n)
        :math:`\delta X(0)`.
    uW : array_like, shape (n, n)
        :math:`\delta W`.
    ub : array_like, shape (n,)
        :math:`\delta b`.
    activation : str, keyword-only

    Returns
    -------
    ndarray, shape (P, n)

    Raises
    ------
    TypeError, ValueError
        A malformed ``fwd`` or perturbations of the wrong shapes, each named.
    """
    W, b = check_theta(theta)
    fwd = _check_euler_forward(fwd, W)
    F = _act.get(activation)
    u = as_patterns(u0, "u0", W.shape[0])
    if u.shape != fwd.X[0].shape:
        raise ValueError(f"`u0` must have the shape of the states {fwd.X[0].shape}, got {u.shape}")
    uW, ub = check_theta((uW, ub), "(uW, ub)")
    for k in range(1, len(fwd.X)):
        u = u + fwd.h * F.df(fwd.A[k]) * (u @ W.T + fwd.X[k - 1] @ uW.T + ub)
    return u


def euler_vjp(theta, fwd, v, *, activation="tanh"):
    r"""The costate pass from an arbitrary terminal multiplier :math:`B(N) = v`: the transpose of :func:`euler_jvp`.

    .. math::

        B(k-1) = B(k) + h\, W^\top Y(k), \quad Y(k) = \nabla F(A(k)) B(k); \qquad
        \Big(B(0),\ h \sum_k Y(k) X(k-1)^\top,\ h \sum_k Y(k)\Big).

    Parameters
    ----------
    theta : tuple (W, b)
    fwd : EulerForward
    v : array_like, shape (P, n)
        The terminal multiplier :math:`B(N)`.
    activation : str, keyword-only

    Returns
    -------
    tuple (ndarray (P, n), ndarray (n, n), ndarray (n,))

    Raises
    ------
    TypeError, ValueError
        A malformed ``fwd`` or ``v`` of the wrong shape.
    """
    W, b = check_theta(theta)
    fwd = _check_euler_forward(fwd, W)
    v = as_patterns(v, "v", W.shape[0])
    if v.shape != fwd.X[-1].shape:
        raise ValueError(f"`v` must have the shape of the states {fwd.X[-1].shape}, got {v.shape}")
    co = _costate_from(W, fwd, v, _act.get(activation))
    gW, gb = _sum_outer(co.Y, fwd.X, fwd.h, 1.0)
    return co.B[0], gW, gb


# ----------------------------------------------------------------------------------------------
# convergence as h -> 0


@dataclass(frozen=True)
class ConvergenceSweep:
    r"""Result of :func:`convergence_sweep`.

    ``steps`` and ``h`` (M,); relative errors (M,) against the continuous values: ``state_error``
    of the final state :math:`X(N)` against :math:`x(T)`, ``dto_error`` of the discrete costate gradient, ``otd_error`` of the Euler-stepped
    adjoint gradient, ``gap`` the relative distance between the two; ``order_*`` the fitted orders;
    ``reference`` the :class:`AdjointResult` of the continuous problem.
    """

    steps: np.ndarray
    h: np.ndarray
    state_error: np.ndarray
    dto_error: np.ndarray
    otd_error: np.ndarray
    gap: np.ndarray
    order_state: float
    order_dto: float
    order_otd: float
    reference: AdjointResult


def convergence_sweep(theta, x0, targets, T, steps, *, activation="tanh"):
    r"""Both discrete gradients against the continuous adjoint gradient, over a list of step counts.

    For each :math:`N` in ``steps`` (:math:`h = T/N`) it computes :func:`euler_backprop`
    (discretise then optimise) and :func:`euler_adjoint` (optimise then discretise), their
    :func:`~lagprop.gradcheck.relative_error` against :func:`adjoint_gradient`, and fits the order
    :math:`p` in :math:`\mathrm{err} \approx c\, h^p` (:func:`lagprop.gradcheck.fitted_order`).

    Returns
    -------
    ConvergenceSweep
    """
    W, b, x0, D, T = _check_problem(theta, x0, targets, T)
    steps = np.array([positive_int(s, "steps") for s in steps])
    F = _act.get(activation)
    ref = adjoint_gradient((W, b), x0, D, T, activation=activation)
    rows = []
    for N in steps:
        fwd = _euler_forward(W, b, x0, T, int(N), F)
        XN = fwd.X[-1]
        _, g_d, _ = _euler_backprop(W, D, fwd, F)
        _, g_o, _ = _euler_adjoint(W, b, D, fwd, F)
        rows.append((relative_error(XN, ref.xT), relative_error(list(g_d), list(ref.grad)),
                     relative_error(list(g_o), list(ref.grad)), relative_error(list(g_d), list(g_o))))
    c, d, o, g = (np.array(col) for col in zip(*rows))
    h = T / steps
    return ConvergenceSweep(steps=steps, h=h, state_error=c, dto_error=d, otd_error=o, gap=g,
                 order_state=fitted_order(h, c), order_dto=fitted_order(h, d), order_otd=fitted_order(h, o),
                 reference=ref)


# ----------------------------------------------------------------------------------------------
# explicit Runge-Kutta networks and their adjoint partners (Hager 2000; Sanz-Serna 2016)

#: Butcher tableaux ``(a, b)`` of explicit Runge-Kutta methods, by name.
RK_TABLEAUS = {
    "euler": (np.zeros((1, 1)), np.array([1.0])),
    "heun": (np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([0.5, 0.5])),
    "rk4": (np.array([[0.0, 0.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0],
                      [0.0, 0.5, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]),
            np.array([1.0, 2.0, 2.0, 1.0]) / 6.0),
}


def _check_tableau(tableau):
    if isinstance(tableau, str):
        if tableau not in RK_TABLEAUS:
            raise ValueError(f"`tableau` must be one of {sorted(RK_TABLEAUS)} or a pair (a, b), "
                             f"got {short_repr(tableau)}")
        return RK_TABLEAUS[tableau]
    if not isinstance(tableau, (tuple, list)) or len(tableau) != 2:
        raise ValueError(f"`tableau` must be a name or a pair (a, b), got {type(tableau).__name__}")
    a = as_float_array(tableau[0], "tableau[0] (a)", ndim=2)
    b = as_float_array(tableau[1], "tableau[1] (b)", ndim=1)
    s = b.size
    if a.shape != (s, s):
        raise ValueError(f"`tableau[0]` (a) must have shape ({s}, {s}) to match b, got {a.shape}")
    if np.any(np.triu(a) != 0):
        raise ValueError("`tableau[0]` (a) must be strictly lower triangular (an explicit method), "
                         f"got {a.tolist()}")
    if np.any(b == 0):
        raise ValueError(f"`tableau[1]` (b) must have no zero weight (the partner divides by it), "
                         f"got {b.tolist()}")
    return a, b


def partner_tableau(tableau):
    r"""The costate coefficients that make a Runge-Kutta pair symplectic (Sanz-Serna 2016, Hager 2000).

    .. math:: \bar a_{ij} = b_j - \frac{b_j\, a_{ji}}{b_i}, \qquad \bar b_i = b_i,

    the unique coefficients for which :math:`b_i \bar a_{ij} + b_j a_{ji} - b_i b_j = 0`: the
    partitioned pair (a, b) for the state and (ā, b) for the costate conserves
    :math:`B^\top \delta x` exactly, so optimising then discretising with it reproduces the
    discrete costate of the Runge-Kutta network.

    Parameters
    ----------
    tableau : str or tuple (a, b)
        A name in :data:`RK_TABLEAUS` or an explicit tableau, ``a`` (s, s) strictly lower
        triangular, ``b`` (s,) with no zero entry.

    Returns
    -------
    ndarray, shape (s, s)
        :math:`\bar a`.
    """
    a, b = _check_tableau(tableau)
    return b[None, :] - b[None, :] * a.T / b[:, None]


@dataclass(frozen=True)
class RKForward:
    """States of an explicit Runge-Kutta network: ``X[k]`` (P, n) for k = 0..N, ``stages[k-1]`` the
    list of stage states of step k, ``h`` the step, ``a``, ``b`` the tableau."""

    X: list
    stages: list
    h: float
    a: np.ndarray
    b: np.ndarray


def rk_forward(theta, x0, T, *, steps, tableau, activation="tanh"):
    r"""The forward pass of an explicit Runge-Kutta network (weights shared by all steps).

    .. math::

        X_i = X(k-1) + h \sum_{j<i} a_{ij} K_j, \qquad K_i = F(W X_i + b), \qquad
        X(k) = X(k-1) + h \sum_i b_i K_i .

    Returns
    -------
    RKForward
    """
    W, bias = check_theta(theta)
    X = [as_patterns(x0, "x0", W.shape[0])]
    h = positive_scalar(T, "T") / positive_int(steps, "steps")
    a, b = _check_tableau(tableau)
    F = _act.get(activation)
    stages = []
    for _ in range(int(steps)):
        x, Xs, K = X[-1], [], []
        for i in range(b.size):
            Xi = x + h * sum((a[i, j] * K[j] for j in range(i)), np.zeros_like(x))
            Xs.append(Xi)
            K.append(F.f(Xi @ W.T + bias))
        X.append(x + h * sum(b[i] * K[i] for i in range(b.size)))
        stages.append(Xs)
    return RKForward(X=X, stages=stages, h=h, a=a, b=b)


def rk_cost(theta, x0, targets, T, *, steps, tableau, activation="tanh"):
    r"""The cost :math:`\sum_p \lVert D_p - X_p(N) \rVert^2` of a Runge-Kutta network."""
    W, bias, x0, D, T = _check_problem(theta, x0, targets, T)
    X = rk_forward((W, bias), x0, T, steps=steps, tableau=tableau, activation=activation).X
    return float(np.sum((D - X[-1]) ** 2))


def rk_backprop(theta, x0, targets, T, *, steps, tableau, activation="tanh"):
    r"""Discretise then optimise: le Cun's costate pass through the stages of a Runge-Kutta network.

    With one multiplier per stage, stationarity of the Lagrange function gives, step by step from
    :math:`B(N) = 2 (D - X(N))` and for :math:`i = s, \dots, 1`,

    .. math::

        \bar K_i = h\, b_i\, B(k) + h \sum_{l > i} a_{li} \bar X_l, \qquad
        Y_i = \nabla F(W X_i + b)\, \bar K_i, \qquad \bar X_i = W^\top Y_i, \qquad
        B(k-1) = B(k) + \sum_i \bar X_i,

    and :math:`\partial C_h/\partial W = -\sum_{k, i} Y_i X_i^\top`,
    :math:`\partial C_h/\partial b = -\sum_{k, i} Y_i`: the exact gradient of the network's cost.

    Returns
    -------
    C : float
    grad : tuple (ndarray (n, n), ndarray (n,))
    B0 : ndarray, shape (P, n)
        :math:`-\partial C_h/\partial X(0)`.
    """
    W, bias, x0, D, T = _check_problem(theta, x0, targets, T)
    fwd = rk_forward((W, bias), x0, T, steps=steps, tableau=tableau, activation=activation)
    F, a, b, h = _act.get(activation), fwd.a, fwd.b, fwd.h
    B = 2.0 * (D - fwd.X[-1])
    gW, gb = np.zeros_like(W), np.zeros_like(bias)
    for Xs in reversed(fwd.stages):
        Xbar = [None] * b.size
        for i in range(b.size - 1, -1, -1):
            Kbar = h * b[i] * B + h * sum((a[l, i] * Xbar[l] for l in range(i + 1, b.size)),
                                          np.zeros_like(B))
            Y = F.df(Xs[i] @ W.T + bias) * Kbar
            Xbar[i] = Y @ W
            gW -= Y.T @ Xs[i]
            gb -= Y.sum(axis=0)
        B = B + sum(Xbar)
    return float(np.sum((D - fwd.X[-1]) ** 2)), (gW, gb), B


def rk_partner_adjoint(theta, x0, targets, T, *, steps, tableau, activation="tanh"):
    r"""Optimise then discretise with the symplectic partner: the costate equation stepped by (ā, b).

    The continuous costate equation :math:`\dot B = -J_f(x)^\top B` is stepped backwards with the
    partitioned Runge-Kutta method whose state part is the network's own tableau (a, b) and whose
    costate part is :func:`partner_tableau` (ā, b): for each step, the linear system

    .. math::

        \Lambda_i = B(k-1) + h \sum_j \bar a_{ij} L_j, \qquad L_i = -J_f(X_i)^\top \Lambda_i, \qquad
        B(k) = B(k-1) + h \sum_i b_i L_i

    is solved for :math:`B(k-1)` and the stage slopes :math:`L_i` (``numpy.linalg.solve``, one
    pattern at a time), and the parameter integral
    :math:`\partial C/\partial\theta = -\int_0^T \partial_\theta f^\top B\, dt` is summed with the
    same weights, :math:`-h \sum_{k,i} b_i\, \partial_\theta f(X_i)^\top \Lambda_i`. By Hager (2000)
    and Sanz-Serna (2016) the result equals :func:`rk_backprop` up to rounding.

    Returns
    -------
    C : float
    grad : tuple (ndarray (n, n), ndarray (n,))
    B0 : ndarray, shape (P, n)
    """
    W, bias, x0, D, T = _check_problem(theta, x0, targets, T)
    fwd = rk_forward((W, bias), x0, T, steps=steps, tableau=tableau, activation=activation)
    F, b, h = _act.get(activation), fwd.b, fwd.h
    abar = partner_tableau((fwd.a, b))
    s, (P, n) = b.size, x0.shape
    B = 2.0 * (D - fwd.X[-1])
    gW, gb = np.zeros_like(W), np.zeros_like(bias)
    for Xs in reversed(fwd.stages):
        dF = [F.df(Xs[i] @ W.T + bias) for i in range(s)]
        B_prev = np.empty_like(B)
        for p in range(P):
            Jt = [(dF[i][p][:, None] * W).T for i in range(s)]        # J_f(X_i)^T
            M = np.zeros(((s + 1) * n, (s + 1) * n))
            rhs = np.zeros((s + 1) * n)
            M[:n, :n] = np.eye(n)                                     # B(k-1) + h sum b_i L_i
            for i in range(s):
                M[:n, (i + 1) * n:(i + 2) * n] = h * b[i] * np.eye(n)
            rhs[:n] = B[p]
            for i in range(s):                                        # L_i + J_i^T Lambda_i = 0
                r = slice((i + 1) * n, (i + 2) * n)
                M[r, :n] = Jt[i]
                M[r, r] += np.eye(n)
                for j in range(s):
                    M[r, (j + 1) * n:(j + 2) * n] += h * abar[i, j] * Jt[i]
            z = np.linalg.solve(M, rhs)
            B_prev[p] = z[:n]
            L = z[n:].reshape(s, n)
            for i in range(s):
                Lam = z[:n] + h * (abar[i] @ L)
                Y = dF[i][p] * Lam
                gW -= h * b[i] * np.outer(Y, Xs[i][p])
                gb -= h * b[i] * Y
        B = B_prev
    return float(np.sum((D - fwd.X[-1]) ** 2)), (gW, gb), B

