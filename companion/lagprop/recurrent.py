r"""Recurrent back-propagation of Pineda and Almeida as a Lagrange problem (le Cun 1988, section 3.2).

A network of :math:`n` units with weights :math:`W` (n, n) and external input :math:`u` (n,)
relaxes by :math:`\tau_x \dot X = F(W X + u) - X` to a fixed point

.. math:: X = F(A), \qquad A = W X + u .

The cost :math:`C = \sum_{i \in \text{out}} (d_i - x_i)^2` is taken at the fixed point. With the
Lagrange function :math:`H = C(X) + B^\top (X - F(W X + u))`, the multiplier that removes the
dependence on :math:`\delta X` solves the linear system

.. math:: (I - W^\top F'(A))\, B = -\nabla C(X), \qquad Y = F'(A) B, \qquad
          \frac{\partial C}{\partial W} = -Y X^\top ,

and :math:`B = -\mathrm{d}C/\mathrm{d}X` is the negative gradient of the cost through the fixed
point. Three ways to :math:`\partial C / \partial W` are offered by :func:`gradient`: the
Pineda-Almeida relaxation (the fixed-point iteration of the linear system), a direct linear solve
(implicit differentiation), and back-propagation through ``steps`` unrolled forward iterations.

Single patterns are 1-D arrays; the internal solvers work on rows (P, n) so that several patterns
relax together (:func:`train`). The paper writes :math:`F(WX)`; the external input :math:`u` is kept.
"""

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import root

from . import activations as _act
from ._errors import ConvergenceError
from ._validate import (as_float_array, as_patterns, choice, number, positive_int, positive_scalar,
                        short_repr, tolerance)

__all__ = [
    "FixedPoint",
    "Costate",
    "Spectra",
    "Trajectory",
    "Training",
    "METHODS",
    "AUTO_ITERATIONS_PER_UNIT",
    "relax",
    "fixed_point",
    "newton",
    "costate",
    "gradient",
    "bptt",
    "choose_method",
    "cost",
    "cost_gradient",
    "spectra",
    "spectral_radius",
    "hamiltonian",
    "hamiltonian_partials",
    "state_ode",
    "costate_ode",
    "train",
    "completion_error",
]


def __dir__():
    return list(__all__)

#: The explicit gradient methods of :func:`gradient` (which also accepts ``"auto"``).
METHODS = ("relaxation", "solve", "bptt")


# ----------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class FixedPoint:
    """Result of :func:`relax`: the state ``x`` (n,), ``A = W x + u``, iterations and last residual."""

    x: np.ndarray
    A: np.ndarray
    iterations: int
    residual: float


@dataclass(frozen=True)
class Costate:
    r"""Result of :func:`costate`: :math:`B = -\mathrm dC/\mathrm dX` (n,), :math:`Y = F'(A) B` (n,),
    iterations (0 for a direct solve) and the last residual of the iteration."""

    B: np.ndarray
    Y: np.ndarray
    iterations: int
    residual: float


@dataclass(frozen=True)
class Spectra:
    r"""Eigenvalues of the linearised forward iteration :math:`J = F'(A) W` and of the backward one
    :math:`J^\top = W^\top F'(A)`, at the state ``x``; ``radius`` is :math:`\rho(J)` and ``abscissa``
    the largest real part :math:`\max \operatorname{Re} \lambda(J)`."""

    x: np.ndarray
    forward: np.ndarray
    backward: np.ndarray
    radius: float
    abscissa: float


@dataclass(frozen=True)
class Trajectory:
    """A trajectory of a continuous-time relaxation: times ``t`` (M,) and states ``y`` (M, n)."""

    t: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Training:
    """Result of :func:`train`: ``W`` after training, ``loss`` (epochs + 1,) and ``W_history``
    (epochs + 1, n, n), the weights before every step and after the last."""

    W: np.ndarray
    loss: np.ndarray
    W_history: np.ndarray


# ------------------------------------------------------------------------------- validation
def _check_W(W):
    W = as_float_array(W, "W", ndim=2)
    if W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise ValueError(f"`W` must be a non-empty square (n, n) matrix, got shape {W.shape}")
    return W


def _check_vector(v, name, n):
    v = as_float_array(v, name, ndim=1)
    if v.shape != (n,):
        raise ValueError(f"`{name}` must have shape ({n},) like `W`, got shape {v.shape}")
    return v


def _check_outputs(outputs, n):
    """Integer indices or a boolean mask of length n -> sorted unique int array."""
    arr = np.asarray(outputs)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"`outputs` as a boolean mask must have shape ({n},), got shape {arr.shape}")
        return np.flatnonzero(arr)
    arr = np.atleast_1d(arr)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"`outputs` must be a non-empty 1-D array of integer indices or a boolean mask, "
                         f"got {short_repr(arr)}")
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"`outputs` must hold indices in [0, {n - 1}], got {arr.tolist()}")
    if np.unique(arr).size != arr.size:
        raise ValueError(f"`outputs` must not repeat an index, got {arr.tolist()}")
    return arr.astype(np.intp)


def _check_targets(targets, idx):
    d = as_float_array(targets, "targets", ndim=1)
    if d.shape != idx.shape:
        raise ValueError(f"`targets` must have one entry per output unit ({idx.size}), got shape {d.shape}")
    return d


def _check_problem(W, u, targets, outputs):
    W = _check_W(W)
    n = W.shape[0]
    u = _check_vector(u, "u", n)
    idx = _check_outputs(outputs, n)
    d = _check_targets(targets, idx)
    return W, u, d, idx


def _tol_iter(tol, max_iter):
    return tolerance(tol, "tol"), positive_int(max_iter, "max_iter")


def _check_method(method, allowed):
    return choice(method, "method", allowed)


def _check_ode(tau, t_end, t_eval, rtol, atol):
    """Validate the arguments passed on to scipy's solve_ivp (NaN tolerances would hang it)."""
    tau, t_end = positive_scalar(tau, "tau"), positive_scalar(t_end, "t_end")
    rtol, atol = tolerance(rtol, "rtol"), tolerance(atol, "atol")
    if rtol < 100 * np.finfo(float).eps:
        raise ValueError(f"`rtol` must be >= {100 * np.finfo(float).eps:.3g} (scipy's floor), got {rtol!r}")
    if t_eval is not None:
        t_eval = as_float_array(t_eval, "t_eval", ndim=1)
        if t_eval.size == 0 or np.any(np.diff(t_eval) <= 0):
            raise ValueError("`t_eval` must be a non-empty increasing 1-D array of times, got "
                             f"{t_eval.size} value(s)" + ("" if t_eval.size == 0 else " not increasing"))
        if t_eval[0] < 0 or t_eval[-1] > t_end:
            raise ValueError(f"`t_eval` must lie in [0, t_end] = [0, {t_end!r}], got "
                             f"[{float(t_eval[0])!r}, {float(t_eval[-1])!r}]")
    return tau, t_end, t_eval, rtol, atol


def _integrate(rhs, t_end, y0, t_eval, rtol, atol, what):
    with np.errstate(over="ignore", invalid="ignore"):
        sol = solve_ivp(rhs, (0.0, t_end), y0, t_eval=t_eval, rtol=rtol, atol=atol)
    if sol.status != 0 or not np.all(np.isfinite(sol.y)):
        raise ConvergenceError(f"the integration of {what} failed before t_end = {t_end!r}: "
                               f"{sol.message} (reached t = {float(sol.t[-1]):.6g})",
                               iterations=int(sol.nfev), residual=np.inf)
    return Trajectory(t=sol.t, y=sol.y.T)


def _damping(damping):
    h = positive_scalar(damping, "damping")
    if h > 1:
        raise ValueError(f"`damping` must be in (0, 1], got {h!r}")
    return h


def spectral_radius(M):
    r"""The spectral radius :math:`\rho(M) = \max_i |\lambda_i(M)|` of a square matrix.

    .. math:: \rho(M) = \max_i |\lambda_i(M)|

    Raises
    ------
    ValueError
        ``M`` not a finite non-empty square matrix.
    """
    M = as_float_array(M, "M", ndim=2)
    if M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError(f"`M` must be a non-empty square matrix, got shape {M.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(M))))


# ------------------------------------------------------------------------- cost and gradient
def _grad_cost(X, D, idx):
    r""":math:`\nabla C = -2 (d - x)` on the output units, zero elsewhere; rows are patterns."""
    g = np.zeros_like(X)
    g[..., idx] = -2.0 * (D - X[..., idx])
    return g


def cost_gradient(x, targets, outputs):
    r"""The gradient of the cost, :math:`\nabla C(x)_i = -2 (d_i - x_i)` for :math:`i \in` ``outputs``, 0 elsewhere.

    Raises
    ------
    ValueError
        Non-finite ``x``, ``outputs`` out of range, ``targets`` not one per output.
    """
    x, d, idx = _check_state_problem(x, targets, outputs)
    return _grad_cost(x, d, idx)


def cost(x, targets, outputs):
    r"""The cost :math:`C = \sum_{i \in \text{out}} (d_i - x_i)^2` of a state ``x`` (n,) (no 1/2).

    Raises
    ------
    ValueError
        Non-finite ``x``, ``outputs`` out of range, ``targets`` not one per output.
    """
    x, d, idx = _check_state_problem(x, targets, outputs)
    return float(np.sum((d - x[idx]) ** 2))


def _check_state_problem(x, targets, outputs):
    """Validate a state ``x`` (n,) with its output indices and targets; returns (x, d, idx)."""
    x = as_float_array(x, "x", ndim=1)
    idx = _check_outputs(outputs, x.size)
    return x, _check_targets(targets, idx), idx


# ------------------------------------------------------------------------------ the kernel
def _iterate(residual, Z, h, tol, scale, max_iter):
    r"""The one fixed-point iteration of the module, on validated arguments.

    :math:`Z \leftarrow Z + h\, R(Z)` until :math:`\lVert R(Z) \rVert_\infty \le \mathrm{tol}
    \max(\mathrm{scale}, \lVert Z \rVert_\infty)`. The state relaxation, the costate relaxation and
    the nudged phase of equilibrium propagation are this loop with three residuals ``R``.
    Returns ``(Z, iterations, last residual, converged)``; a residual beyond 1e100 stops it.
    """
    r, it = np.inf, 0
    with np.errstate(over="ignore", invalid="ignore"):
        for it in range(1, max_iter + 1):
            step = residual(Z)
            r = float(np.max(np.abs(step)))
            if not np.isfinite(r) or r > _BLOWUP:
                return Z, it, r, False
            if r <= tol * max(scale, float(np.max(np.abs(Z)))):
                return Z, it - 1, r, True
            Z = Z + h * step
    return Z, it, r, False


_BLOWUP = 1e100


def _eigvals(J):
    """Eigenvalues of a finite square matrix, or None when it is not finite."""
    if not np.all(np.isfinite(J)):
        return None
    return np.linalg.eigvals(J)


def _failure(what, it, r, lam, h, *, linearisation, where="", advice=None):
    r"""The one diagnosis: a ConvergenceError reporting iterations, residual and spectral radius.

    ``lam`` are the eigenvalues of the linearisation (``linearisation`` names it); the iteration
    :math:`Z \leftarrow (1 - h) Z + h (\dots)` has the eigenvalues :math:`1 - h + h\lambda`.
    """
    if lam is None:
        return ConvergenceError(
            f"{what} diverged after {it} iterations (last residual "
            f"{number(r, '.3e')}){where}; no spectral radius can be computed from a "
            "non-finite state", iterations=it, residual=r,
            spectral_radius=None)
    rho, re = float(np.max(np.abs(lam))), float(np.max(lam.real))
    rad = rho if h == 1.0 else float(np.max(np.abs(1.0 - h + h * lam)))
    if advice is None:
        if re >= 1:
            advice = (" The fixed point is unstable even in continuous time (max Re lambda >= 1): "
                      "no relaxation converges there.")
        elif rad >= 1:
            advice = (" The fixed point is linearly stable in continuous time (max Re lambda < 1) "
                      "but the iteration is not a contraction there: use damping < 1.")
        else:
            advice = " The iteration contracts: raise `max_iter`."
    return ConvergenceError(
        f"{what} did not converge in {it} iterations: last residual "
        f"{number(r, '.3e')}; {where}the spectral radius of the iteration is "
        f"{number(rad)} (of {linearisation}: {number(rho)}, max Re lambda = "
        f"{number(re)}).{advice}", iterations=it, residual=r, spectral_radius=rad)


def _damped(what, h):
    return what if h == 1.0 else f"{what} damped with h = {h:g}"


# ------------------------------------------------------------------------------ forward pass
def _relax_rows(W, U, F, h, X0, tol, max_iter):
    """Damped iteration X <- (1-h) X + h F(X W^T + U) on rows; returns X, A, iterations, residual."""
    X = np.zeros_like(U) if X0 is None else X0.copy()
    X, it, r, ok = _iterate(lambda Z: F.f(Z @ W.T + U) - Z, X, h, tol, 1.0, max_iter)
    if not ok:
        raise _forward_failure(W, U, F, h, X, it, r)
    return X, X @ W.T + U, it, r


def _forward_failure(W, U, F, h, X, it, r):
    """Diagnose a failed forward iteration: locate a fixed point by Newton's method from the last
    iterate and report the spectral radius of the iteration there (or at the last iterate)."""
    what = _damped("the fixed-point iteration x <- F(W x + u)", h)
    with np.errstate(over="ignore", invalid="ignore"):
        if not np.all(np.isfinite(X)):
            return _failure(what, it, r, None, h, linearisation="F'(A) W")
        p = int(np.argmax(np.max(np.abs(F.f(X @ W.T + U) - X), axis=1)))
        try:
            xs = _newton(W, U[p], F, X[p], 1e-10).x
        except ConvergenceError:
            lam = _eigvals(F.df(W @ X[p] + U[p])[:, None] * W)
            return _failure(what, it, r, lam, h, linearisation="F'(A) W",
                            where="at the last iterate ",
                            advice=" No fixed point was located near the last iterate.")
        lam = _eigvals(F.df(W @ xs + U[p])[:, None] * W)
    return _failure(what, it, r, lam, h, linearisation="F'(A) W",
                    where="at the fixed point found by Newton's method ")


def _newton(W, u, F, x0, tol):
    with np.errstate(over="ignore", invalid="ignore"):
        sol = root(lambda z: z - F.f(W @ z + u), x0,
                   jac=lambda z: np.eye(z.size) - F.df(W @ z + u)[:, None] * W,
                   method="hybr", options={"xtol": 1e-14})
        r = float(np.max(np.abs(sol.x - F.f(W @ sol.x + u))))
    if not r <= tol:
        raise ConvergenceError(f"Newton's method did not find a fixed point: last residual {r:.3e}",
                               iterations=int(sol.nfev), residual=r)
    return FixedPoint(x=sol.x, A=W @ sol.x + u, iterations=int(sol.nfev), residual=r)


def newton(W, u, *, activation="tanh", x0=None, tol=1e-10):
    r"""A fixed point :math:`x = F(Wx + u)` found by Newton's method (``scipy.optimize.root``), stable or not.

    .. math:: (I - F'(A) W)\, \delta = -(x - F(A)), \qquad x \leftarrow x + \delta

    Unlike :func:`relax` it can land on a fixed point that no relaxation reaches (an unstable one),
    which is where the costate relaxation's divergence can be shown.

    Parameters
    ----------
    W : array_like, shape (n, n)
    u : array_like, shape (n,)
    x0 : array_like, shape (n,), optional
        Starting guess (default zeros).
    tol : float, keyword-only
        Accept when :math:`\lVert x - F(Wx + u) \rVert_\infty \le` ``tol``.

    Returns
    -------
    FixedPoint

    Raises
    ------
    ValueError
        Shapes or non-finite input.
    lagprop.ConvergenceError
        No fixed point found.
    """
    W = _check_W(W)
    u = _check_vector(u, "u", W.shape[0])
    x0 = np.zeros(W.shape[0]) if x0 is None else _check_vector(x0, "x0", W.shape[0])
    return _newton(W, u, _act.get(activation), x0, positive_scalar(tol, "tol"))


def relax(W, u, *, activation="tanh", damping=1.0, x0=None, tol=1e-12, max_iter=100_000):
    r"""Relax the network to a fixed point by (damped) iteration.

    .. math:: x \leftarrow (1 - h)\, x + h\, F(W x + u)

    With :math:`h = 1` this is the simple iteration :math:`x \leftarrow F(Wx + u)`; it converges
    near a fixed point when the spectral radius :math:`\rho(F'(A) W) < 1`. With :math:`h < 1` it is
    Euler's method for :math:`\tau_x \dot x = F(Wx + u) - x` with step :math:`h \tau_x`, whose
    linearisation has eigenvalues :math:`1 - h(1 - \lambda)`: for small enough :math:`h` it
    converges whenever every eigenvalue of :math:`F'(A) W` has real part below 1, the condition of
    linear stability of the continuous-time fixed point (le Cun 1988, section 3.2).

    Parameters
    ----------
    W : array_like, shape (n, n)
        Recurrent weights, ``W[i, j]`` from unit j to unit i.
    u : array_like, shape (n,)
        External input.
    activation : str, keyword-only
        ``"tanh"``, ``"sigmoid"``, ``"identity"`` or ``"relu"``.
    damping : float in (0, 1], keyword-only
        The step :math:`h`.
    x0 : array_like, shape (n,), optional
        Starting state (default zeros).
    tol : float, keyword-only
        Stop when :math:`\lVert F(Wx + u) - x \rVert_\infty \le \mathrm{tol} \max(1, \lVert x\rVert_\infty)`.
    max_iter : int, keyword-only

    Returns
    -------
    FixedPoint

    Raises
    ------
    ValueError
        Shapes, non-finite input, bad ``damping``.
    lagprop.ConvergenceError
        No convergence in ``max_iter`` iterations; reports the last residual and the spectral radius
        of the iteration at the last iterate.
    """
    W = _check_W(W)
    n = W.shape[0]
    u = _check_vector(u, "u", n)
    F = _act.get(activation)
    h = _damping(damping)
    tol, max_iter = _tol_iter(tol, max_iter)
    X0 = None if x0 is None else _check_vector(x0, "x0", n)[None, :]
    X, A, it, r = _relax_rows(W, u[None, :], F, h, X0, tol, max_iter)
    return FixedPoint(x=X[0], A=A[0], iterations=it, residual=r)


def fixed_point(W, u, *, activation="tanh", tol=1e-12, max_iter=100_000):
    r"""The fixed point :math:`x = F(W x + u)` reached by the simple iteration from :math:`x = 0`.

    .. math:: x_{k+1} = F(W x_k + u), \qquad x_0 = 0

    (le Cun 1988, section 3.2, the fixed point of :math:`\tau_x \dot X = F(WX) - X`, here with the
    external input :math:`u`). For a fixed point that is stable but where the simple iteration is
    not a contraction, use :func:`relax` with ``damping < 1``.

    Parameters
    ----------
    W : array_like, shape (n, n)
    u : array_like, shape (n,)
    activation : str, keyword-only
    tol : float, keyword-only
    max_iter : int, keyword-only

    Returns
    -------
    ndarray, shape (n,)

    Raises
    ------
    ValueError
        Shapes or non-finite input.
    lagprop.ConvergenceError
        With the iterations, last residual and spectral radius of :math:`F'(A) W`.
    """
    return relax(W, u, activation=activation, tol=tol, max_iter=max_iter).x


# ----------------------------------------------------------------------------- costate pass
def _costate_rows(W, A, G, F, h, tol, max_iter):
    """Relaxation B <- (1-h) B + h (W^T F'(A) B - grad C) on rows; returns B, Y, iterations, residual."""
    dF = F.df(A)
    B, it, r, ok = _iterate(lambda Z: (dF * Z) @ W - G - Z, np.zeros_like(G), h, tol,
                            max(1.0, float(np.max(np.abs(G)))), max_iter)
    if not ok:
        lams = [_eigvals(W.T * dF[p][None, :]) for p in range(G.shape[0])]
        worst = max(range(len(lams)), key=lambda p: float(np.max(np.abs(lams[p]))))
        raise _failure(_damped("the costate relaxation B <- W^T F'(A) B - grad C", h), it, r,
                       lams[worst], h, linearisation="W^T F'(A)")
    return B, dF * B, it, r


def _costate_solve(W, A, G, F):
    """Direct solve of (I - W^T F'(A)) B = -grad C on rows; returns B, Y."""
    dF = F.df(A)
    I = np.eye(W.shape[0])
    B = np.empty_like(G)
    for p in range(G.shape[0]):
        M = I - W.T * dF[p][None, :]
        try:
            B[p] = np.linalg.solve(M, -G[p])
        except np.linalg.LinAlgError:
            B[p] = np.nan
        if not np.all(np.isfinite(B[p])):
            lam = np.linalg.eigvals(W.T * dF[p][None, :])
            rho, re = float(np.max(np.abs(lam))), float(np.max(lam.real))
            gap = float(np.min(np.abs(lam - 1.0)))
            raise ConvergenceError(
                "the direct costate solve (I - W^T F'(A)) B = -grad C failed: the "
                "matrix is singular, an eigenvalue of W^T F'(A) lies "
                f"{number(gap, '.3g')} from 1 (spectral radius {number(rho)}, max Re "
                f"lambda = {number(re)}); no costate exists at this fixed point",
                iterations=0, residual=np.inf, spectral_radius=rho)
    return B, dF * B


def costate(W, u, x, targets, outputs, *, activation="tanh", method="relaxation", damping=1.0,
            tol=1e-12, max_iter=100_000):
    r"""The Lagrange multiplier :math:`B` at a fixed point and Almeida's :math:`Y = F'(A) B`.

    .. math::

        (I - W^\top F'(A))\, B = -\nabla C(x), \qquad Y = F'(A)\, B, \qquad
        \nabla C(x)_i = -2 (d_i - x_i) \text{ for } i \in \text{out}, \ 0 \text{ otherwise}.

    ``method="relaxation"`` runs the Pineda-Almeida iteration
    :math:`B \leftarrow (1-h) B + h\,(W^\top F'(A) B - \nabla C)` from :math:`B = 0` (with
    :math:`h = 1`, the discrete form of :math:`\tau_B \dot B = -B + W^\top F'(A) B - \nabla C`);
    it converges exactly when :math:`\rho(W^\top F'(A)) = \rho(F'(A) W) < 1`.
    ``method="solve"`` solves the linear system directly (``numpy.linalg.solve``).

    Parameters
    ----------
    W : array_like, shape (n, n)
    u : array_like, shape (n,)
    x : array_like, shape (n,)
        The fixed point (from :func:`fixed_point` or :func:`relax`).
    targets : array_like, shape (m,)
        Desired values of the output units, aligned with ``outputs``.
    outputs : array_like of int, shape (m,), or bool, shape (n,)
        Indices (or a mask) of the output units.
    activation, method : str, keyword-only
    damping : float in (0, 1], keyword-only
        Step of the relaxation.
    tol, max_iter : keyword-only
        Stop when the change of :math:`B` is at most ``tol`` times its scale.

    Returns
    -------
    Costate

    Raises
    ------
    ValueError
        Shapes, indices out of range, targets not one per output, non-finite input, unknown method.
    lagprop.ConvergenceError
        The relaxation does not converge; reports :math:`\rho(W^\top F'(A))`.
        ``method="solve"`` with a singular :math:`I - W^\top F'(A)` (no costate exists).
    """
    W, u, d, idx = _check_problem(W, u, targets, outputs)
    x = _check_vector(x, "x", W.shape[0])
    F = _act.get(activation)
    method = _check_method(method, ("relaxation", "solve"))
    h = _damping(damping)
    tol, max_iter = _tol_iter(tol, max_iter)
    A = W @ x + u
    G = _grad_cost(x, d, idx)
    if method == "solve":
        B, Y = _costate_solve(W, A[None, :], G[None, :], F)
        return Costate(B=B[0], Y=Y[0], iterations=0, residual=0.0)
    B, Y, it, r = _costate_rows(W, A[None, :], G[None, :], F, h, tol, max_iter)
    return Costate(B=B[0], Y=Y[0], iterations=it, residual=r)


def _bptt_rows(W, U, D, idx, F, K):
    """K unrolled iterations from X = 0 and the reverse pass; returns C (summed), dC/dW.

    Float64 overflow (weights too large for K steps) raises FloatingPointError, not NaN.
    """
    Xs, As = [np.zeros_like(U)], [None]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(K):
            As.append(Xs[-1] @ W.T + U)
            Xs.append(F.f(As[-1]))
        XK = Xs[-1]
        C = float(np.sum((D - XK[:, idx]) ** 2))
        B = -_grad_cost(XK, D, idx)  # B_K = 2 (d - x_K) on the outputs
        dW = np.zeros_like(W)
        for k in range(K, 0, -1):
            Y = F.df(As[k]) * B  # Y_k = F'(A_k) B_k
            dW -= Y.T @ Xs[k - 1]  # dC/dW = -sum_k Y_k x_{k-1}^T
            B = Y @ W  # B_{k-1} = W^T Y_k
    if not (np.isfinite(C) and np.all(np.isfinite(dW))):
        bad = [k for k in range(1, K + 1) if not np.all(np.isfinite(Xs[k]))]
        first = bad[0] if bad else None
        where = (f"the state at step {first}" if first is not None
                 else "the cost or its gradient")
        raise FloatingPointError(
            f"back-propagation through time overflowed float64 ({where} of {K}): the "
            f"weights `W` (largest |W_ij| = {number(np.max(np.abs(W)), '.3g')}) are too "
            f"large for `steps` = {K}; scale them down or unroll fewer steps")
    return C, dW


def bptt(W, u, targets, outputs, *, steps, activation="tanh"):
    r"""Cost and gradient of :math:`K` unrolled forward iterations from :math:`x_0 = 0`.

    .. math::

        x_k = F(A_k),\ A_k = W x_{k-1} + u \ (k = 1..K); \qquad
        B_K = 2 (d - x_K)_{\text{out}},\ Y_k = F'(A_k) B_k,\ B_{k-1} = W^\top Y_k;

        \frac{\partial C(x_K)}{\partial W} = -\sum_{k=1}^{K} Y_k\, x_{k-1}^\top .

    The unrolled network is a layered network whose K layers share one weight matrix (le Cun
    1988, section 3.1); the gradient of the shared matrix is the sum over the layers.

    Returns
    -------
    C : float
        The cost at :math:`x_K`.
    dW : ndarray, shape (n, n)
        The exact gradient of that cost.

    Raises
    ------
    ValueError
        Shapes, indices, targets, non-finite input, ``steps`` < 1.
    """
    W, u, d, idx = _check_problem(W, u, targets, outputs)
    K = positive_int(steps, "steps")
    F = _act.get(activation)
    return _bptt_rows(W, u[None, :], d[None, :], idx, F, K)


def gradient(W, u, targets, outputs, *, activation="tanh", method="relaxation", tol=1e-12,
             max_iter=100_000, steps=None, damping=1.0):
    r"""The cost at the fixed point and its gradient :math:`\partial C/\partial W` (le Cun 1988, section 3.2).

    .. math::

        x = F(W x + u), \qquad (I - W^\top F'(A)) B = -\nabla C(x), \qquad Y = F'(A) B, \qquad
        \frac{\partial C}{\partial W} = -Y x^\top .

    Parameters
    ----------
    W : array_like, shape (n, n)
    u : array_like, shape (n,)
    targets : array_like, shape (m,)
        Aligned with ``outputs``.
    outputs : array_like of int (m,) or bool (n,)
        The output units.
    activation : str, keyword-only
    method : {"relaxation", "solve", "bptt", "auto"}, keyword-only
        ``"relaxation"``: fixed point by :func:`fixed_point`, then the Pineda-Almeida relaxation of
        :math:`B`; ``"solve"``: the same fixed point, then a direct linear solve; ``"auto"``: the
        cheaper of these two exact methods, by :func:`choose_method`;
        ``"bptt"``: :func:`bptt` with ``steps`` unrolled iterations from :math:`x = 0` (then C is
        the cost at :math:`x_K`).
    tol, max_iter : keyword-only
        For the fixed point and the relaxation.
    steps : int, keyword-only
        Required for ``"bptt"``, ignored otherwise.
    damping : float in (0, 1], keyword-only
        Step :math:`h` of both relaxations (see :func:`relax`): with ``damping < 1`` they converge
        wherever the continuous-time fixed point is stable, not only where the simple iteration
        contracts.

    Returns
    -------
    C : float
    dW : ndarray, shape (n, n)

    Raises
    ------
    ValueError
        Shapes, indices out of range, targets not one per output, non-finite input, unknown
        ``method``, ``steps`` missing for ``"bptt"``.
    lagprop.ConvergenceError
        The fixed point or the relaxation does not converge, or ``"solve"`` meets a singular
        system (with the spectral radius).
    """
    W, u, d, idx = _check_problem(W, u, targets, outputs)
    F = _act.get(activation)
    method = _check_method(method, METHODS + ("auto",))
    tol, max_iter = _tol_iter(tol, max_iter)
    h = _damping(damping)
    if method == "bptt":
        if steps is None:
            raise ValueError("`steps` must be given (an int >= 1) for method='bptt', got None")
        return _bptt_rows(W, u[None, :], d[None, :], idx, F, positive_int(steps, "steps"))
    return _batch_gradient(W, u[None, :], d[None, :], idx, F, method, None, tol, max_iter, h)


#: ``choose_method`` picks the relaxation when its predicted iterations are below this times n.
AUTO_ITERATIONS_PER_UNIT = 0.25


def choose_method(n, forward_iterations):
    r"""The cheaper exact costate method for ``n`` units, given the forward pass's iteration count.

    The backward relaxation's iteration matrix :math:`W^\top F'(A)` is the transpose of the forward
    one, :math:`F'(A) W`: same spectral radius, so it needs about as many iterations :math:`k` as the
    forward pass did, at :math:`2n^2` operations each, against about :math:`\tfrac23 n^3` for the
    LU factorisation of the direct solve. The relaxation is chosen when
    :math:`k < c\,n` with :math:`c` = :data:`AUTO_ITERATIONS_PER_UNIT`, a constant measured on this
    implementation (``benchmarks/run.py`` checks the choice stays within 1.2x of the faster method).

    Returns
    -------
    str
        ``"relaxation"`` or ``"solve"``.
    """
    n = positive_int(n, "n")
    k = positive_int(forward_iterations, "forward_iterations", minimum=0)
    return _choose_method(n, k)


def _choose_method(n, k):
    return "relaxation" if k < AUTO_ITERATIONS_PER_UNIT * n else "solve"


# ---------------------------------------------------------------------------------- spectra
def spectra(W, u, *, activation="tanh", x=None):
    r"""Eigenvalues of the forward linearisation :math:`F'(A) W` and the backward :math:`W^\top F'(A)`.

    .. math:: J = F'(A)\, W, \qquad A = W x + u, \qquad \lambda(J^\top) = \lambda(J).

    The simple iterations (forward and backward) converge near ``x`` iff :math:`\rho(J) < 1`; the
    continuous-time relaxations :math:`\tau\dot X = -X + F(WX + u)` and
    :math:`\tau\dot B = -B + J^\top B - \nabla C` are linearly stable iff
    :math:`\max \operatorname{Re} \lambda(J) < 1` (their Jacobians are :math:`J - I` and
    :math:`J^\top - I`).

    Parameters
    ----------
    W : array_like, shape (n, n)
    u : array_like, shape (n,)
    x : array_like, shape (n,), optional
        The state; default :func:`fixed_point` ``(W, u)``.

    Returns
    -------
    Spectra
    """
    W = _check_W(W)
    u = _check_vector(u, "u", W.shape[0])
    F = _act.get(activation)
    if x is None:
        x = _relax_rows(W, u[None, :], F, 1.0, None, 1e-12, 100_000)[0][0]
    else:
        x = _check_vector(x, "x", W.shape[0])
    dF = F.df(W @ x + u)
    fw = np.linalg.eigvals(dF[:, None] * W)
    bw = np.linalg.eigvals(W.T * dF[None, :])
    return Spectra(x=x, forward=fw, backward=bw, radius=float(np.max(np.abs(fw))),
                   abscissa=float(np.max(fw.real)))


# ------------------------------------------------------------------ Hamiltonian (footnote 5)
def hamiltonian(W, u, x, B, targets, outputs, *, activation="tanh"):
    r"""le Cun's function :math:`H = C(X) + B^\top (X - F(WX + u))` at arbitrary ``x`` and ``B`` (n,)."""
    W, u, d, idx = _check_problem(W, u, targets, outputs)
    x, B = _check_vector(x, "x", W.shape[0]), _check_vector(B, "B", W.shape[0])
    F = _act.get(activation)
    return float(np.sum((d - x[idx]) ** 2) + B @ (x - F.f(W @ x + u)))


def hamiltonian_partials(W, u, x, B, targets, outputs, *, activation="tanh"):
    r"""The partial derivatives of :math:`H` (see :func:`hamiltonian`).

    .. math::

        \frac{\partial H}{\partial B} = X - F(A), \qquad
        \frac{\partial H}{\partial X} = \nabla C(X) + B - W^\top F'(A) B, \qquad A = W X + u .

    Returns
    -------
    dH_dx, dH_dB : ndarray, shape (n,)
    """
    W, u, d, idx = _check_problem(W, u, targets, outputs)
    x, B = _check_vector(x, "x", W.shape[0]), _check_vector(B, "B", W.shape[0])
    F = _act.get(activation)
    A = W @ x + u
    return _grad_cost(x, d, idx) + B - W.T @ (F.df(A) * B), x - F.f(A)


# ------------------------------------------------------------------- continuous-time flows
def state_ode(W, u, *, activation="tanh", tau=1.0, t_end=20.0, x0=None, t_eval=None,
              rtol=1e-10, atol=1e-12):
    r"""Integrate the state relaxation with ``scipy.integrate.solve_ivp`` (RK45).

    .. math:: \tau_x \frac{dX}{dt} = F(W X + u) - X

    Returns
    -------
    Trajectory
        ``t`` (M,) and ``y`` (M, n).

    Raises
    ------
    ValueError
        Shapes, non-finite input, ``tau`` or ``t_end`` not a finite number > 0, ``rtol`` or
        ``atol`` not > 0 (or ``rtol`` below scipy's floor), ``t_eval`` not increasing in
        [0, t_end].
    lagprop.ConvergenceError
        The integration fails or overflows.
    """
    W = _check_W(W)
    n = W.shape[0]
    u = _check_vector(u, "u", n)
    F = _act.get(activation)
    tau, t_end, t_eval, rtol, atol = _check_ode(tau, t_end, t_eval, rtol, atol)
    x0 = np.zeros(n) if x0 is None else _check_vector(x0, "x0", n)
    return _integrate(lambda t, x: (F.f(W @ x + u) - x) / tau, t_end, x0, t_eval, rtol, atol,
                      "the state relaxation")


def costate_ode(W, u, x, targets, outputs, *, activation="tanh", tau=1.0, t_end=20.0,
                variable="Y", y0=None, t_eval=None, rtol=1e-10, atol=1e-12):
    r"""Integrate Pineda's costate relaxation at a fixed point ``x`` with ``solve_ivp``.

    .. math::

        \tau_B \frac{dB}{dt} = -B + W^\top F'(A) B - \nabla C, \qquad
        \tau_Y \frac{dY}{dt} = -Y + F'(A) (W^\top Y - \nabla C)

    (le Cun 1988, section 3.2; ``variable`` = ``"B"`` or ``"Y"``). Their fixed points are the
    costate of :func:`costate` and :math:`Y = F'(A) B`.

    Returns
    -------
    Trajectory

    Raises
    ------
    ValueError
        As for :func:`state_ode`, and ``variable`` not ``"B"`` or ``"Y"``.
    lagprop.ConvergenceError
        The integration fails or overflows.
    """
    W, u, d, idx = _check_problem(W, u, targets, outputs)
    n = W.shape[0]
    x = _check_vector(x, "x", n)
    F = _act.get(activation)
    tau, t_end, t_eval, rtol, atol = _check_ode(tau, t_end, t_eval, rtol, atol)
    variable = choice(variable, "variable", ("B", "Y"))
    dF, G = F.df(W @ x + u), _grad_cost(x, d, idx)
    if variable == "B":
        rhs = lambda t, b: (-b + W.T @ (dF * b) - G) / tau  # noqa: E731
    else:
        rhs = lambda t, y: (-y + dF * (W.T @ y - G)) / tau  # noqa: E731
    y0 = np.zeros(n) if y0 is None else _check_vector(y0, "y0", n)
    return _integrate(rhs, t_end, y0, t_eval, rtol, atol, f"the costate relaxation of {variable}")


# ------------------------------------------------------------------------------- training
def _batch_gradient(W, U, D, idx, F, method, steps, tol, max_iter, h=1.0):
    """C and dC/dW summed over the rows (patterns), on validated arguments."""
    if method == "bptt":
        return _bptt_rows(W, U, D, idx, F, steps)
    X, A, it, _ = _relax_rows(W, U, F, h, None, tol, max_iter)
    if method == "auto":
        method = _choose_method(W.shape[0], it)
    G = _grad_cost(X, D, idx)
    if method == "relaxation":
        _, Y, _, _ = _costate_rows(W, A, G, F, h, tol, max_iter)
    else:
        _, Y = _costate_solve(W, A, G, F)
    return float(np.sum((D - X[:, idx]) ** 2)), -(Y.T @ X)


def train(W, inputs, targets, outputs, *, lr, epochs, activation="tanh", method="relaxation",
          steps=None, damping=1.0, tol=1e-10, max_iter=10_000):
    r"""Gradient descent on the summed cost of several patterns (le Cun 1988, the update after eq. 9).

    .. math:: W \leftarrow W - \eta \sum_p \frac{\partial C_p}{\partial W}
              = W + \eta \sum_p Y_p x_p^\top

    Parameters
    ----------
    W : array_like, shape (n, n)
        Initial weights.
    inputs : array_like, shape (P, n)
        External inputs :math:`u_p`, one row per pattern.
    targets : array_like, shape (P, m)
        Desired outputs, aligned with ``outputs``.
    outputs : array_like of int (m,) or bool (n,)
    lr : float, keyword-only
        Step :math:`\eta`.
    epochs : int, keyword-only
    method : {"relaxation", "solve", "bptt", "auto"}, keyword-only
        As in :func:`gradient` (``"auto"`` chooses at every step).
    steps : int, keyword-only
        For ``"bptt"``.
    damping : float in (0, 1], keyword-only
        Step of the forward and costate relaxations (see :func:`relax`); with ``damping < 1`` they
        converge wherever the continuous-time fixed point is stable, not only where the simple
        iteration contracts.

    Returns
    -------
    Training

    Raises
    ------
    ValueError
        Shapes, indices, non-finite input.
    lagprop.ConvergenceError
        If a fixed point or costate fails to converge during training, or the weights diverge.
    """
    W = _check_W(W).copy()
    n = W.shape[0]
    U = as_patterns(inputs, "inputs", n)
    idx = _check_outputs(outputs, n)
    D = as_float_array(targets, "targets", ndim=2, allow_1d=True)
    if D.shape != (U.shape[0], idx.size):
        raise ValueError(f"`targets` must have shape {(U.shape[0], idx.size)}, got {D.shape}")
    method = _check_method(method, METHODS + ("auto",))
    if method == "bptt":
        if steps is None:
            raise ValueError("`steps` must be given (an int >= 1) for method='bptt', got None")
        steps = positive_int(steps, "steps")
    lr, epochs = positive_scalar(lr, "lr"), positive_int(epochs, "epochs")
    tol, max_iter = _tol_iter(tol, max_iter)
    h = _damping(damping)
    F = _act.get(activation)
    loss, hist = [], [W.copy()]
    for epoch in range(epochs):
        C, dW = _batch_gradient(W, U, D, idx, F, method, steps, tol, max_iter, h)
        loss.append(C)
        with np.errstate(over="ignore", invalid="ignore"):
            W = W - lr * dW
        if not np.all(np.isfinite(W)):
            raise ConvergenceError(f"training diverged at epoch {epoch + 1}: the weights overflowed "
                                   f"(last cost {number(C, '.6g')}); use a smaller "
                                   f"`lr` than {lr!r}",
                                   iterations=epoch + 1, residual=C)
        hist.append(W.copy())
    loss.append(_batch_gradient(W, U, D, idx, F, method, steps, tol, max_iter, h)[0])
    return Training(W=W, loss=np.array(loss), W_history=np.array(hist))


# ------------------------------------------------------------------ tasks and measurements
def completion_error(W, task, *, activation="tanh", damping=1.0):
    r"""Fraction of hidden units whose sign at the fixed point differs from the pattern's.

    .. math:: \frac{\#\{(p, i) : i \text{ hidden in cue } p,\ \operatorname{sign} x_{p,i}
              \ne \xi^{\mu(p)}_i\}}{\#\{(p, i) : i \text{ hidden in cue } p\}}

    with :math:`x_p` the fixed point reached by :func:`relax` (with ``damping``) from the cue
    :math:`u_p`. Only the hidden units count: the shown ones are given by the cue.

    Parameters
    ----------
    W : array_like, shape (n, n)
    task : lagprop.datasets.CompletionTask
    activation : str, keyword-only
    damping : float in (0, 1], keyword-only

    Returns
    -------
    float

    Raises
    ------
    TypeError
        ``task`` is not a CompletionTask.
    ValueError
        ``W`` not (n, n) for the task's n units.
    lagprop.ConvergenceError
        A cue does not relax to a fixed point.
    """
    from .datasets import CompletionTask

    if not isinstance(task, CompletionTask):
        raise TypeError(f"`task` must be a datasets.CompletionTask, got {type(task).__name__}")
    W = _check_W(W)
    if W.shape[0] != task.U.shape[1]:
        raise ValueError(f"`W` must be ({task.U.shape[1]}, {task.U.shape[1]}) for the task's units, "
                         f"got shape {W.shape}")
    F = _act.get(activation)
    X = _relax_rows(W, task.U, F, _damping(damping), None, 1e-10, 20_000)[0]
    wrong = np.sign(X) != task.patterns[task.label]
    return float(np.sum(wrong & task.hidden) / np.sum(task.hidden))
