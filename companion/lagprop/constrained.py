r"""Other roads to the stationary point: solving the constrained problem directly.

le Cun's Lagrange function (le Cun 1988, eq. 1), summed over patterns,

.. math::

    L(W, X, B) = C(X(N)) + \sum_{k=1}^{N} \big\langle B(k),\, g_k \big\rangle, \qquad
    g_k = X(k) - F_k\big(W(k) X(k-1) + b(k)\big),

is the Lagrangian of the problem :math:`\min C` subject to :math:`g_k = 0`. Back-propagation
solves its stationarity conditions in a fixed order: a forward pass for :math:`g = 0`, then a
costate pass for :math:`B`. The methods here treat the states :math:`X(k)` as free unknowns and
solve the same problem with local, layer-by-layer updates and no backward pass:

* ``"penalty"``: the quadratic penalty :math:`C + \tfrac{\rho}{2}\sum_k \lVert g_k \rVert^2` with
  a growing weight :math:`\rho`; the multiplier is read off as :math:`\rho\, g_k`. In training this is
  the method of auxiliary coordinates (Carreira-Perpinan and Wang 2014).
* ``"augmented"``: the augmented Lagrangian
  :math:`L_\rho = L + \tfrac{\rho}{2}\sum_k \lVert g_k \rVert^2` and the method of multipliers
  :math:`B \leftarrow B + \rho\, g` at a fixed, finite :math:`\rho`; in training, ``"admm"`` splits it
  into closed-form substeps (Taylor et al. 2016).
* ``"saddle"``: descent in the states (and weights) with ascent in the multipliers on :math:`L`
  (Arrow and Hurwicz; Lagrangian propagation, Marra et al. 2020), optionally with the augmented
  term, which is what makes it converge where plain descent-ascent cycles.

Patterns are rows and lists are indexed like the paper (``X[0]`` the inputs, ``B[0] is None``), as
in :mod:`lagprop.lagrangian`, whose forward and costate passes are the reference these methods are
compared with.
"""

from dataclasses import dataclass

import numpy as np

from ._errors import ConvergenceError
from ._validate import as_patterns, positive_int, positive_scalar
from .lagrangian import _forward, _layer_activations, cost
from .mlp import check_params

__all__ = ["Multipliers", "History", "MULTIPLIER_METHODS", "TRAIN_METHODS", "multipliers",
           "train"]

#: The methods of :func:`multipliers`.
MULTIPLIER_METHODS = ("penalty", "augmented", "saddle")
#: The methods of :func:`train`.
TRAIN_METHODS = ("penalty", "admm", "saddle")

_RHO_MAX = 1e12  # the penalty weight beyond which rounding in rho * g dominates any float64 result


@dataclass(frozen=True)
class Multipliers:
    r"""States and multipliers found by :func:`multipliers`.

    Attributes
    ----------
    X : list of ndarray
        ``[X(0), ..., X(N)]``, each (P, n_k); ``X[0]`` is the input.
    B : list
        ``[None, B(1), ..., B(N)]``, each (P, n_k): the method's multiplier estimate.
    iterations : int
        Outer iterations used (penalty weights tried, multiplier updates, or descent-ascent steps).
    residual : float
        :math:`\sqrt{\lVert \partial L/\partial B\rVert^2 + \lVert \partial L/\partial X\rVert^2}` at
        ``(X, B)``: the distance from stationarity of :math:`L` in (X, B).
    trace : ndarray, shape (iterations + 1,)
        The same residual at the start and after every iteration.
    """

    X: list
    B: list
    iterations: int
    residual: float
    trace: np.ndarray


@dataclass(frozen=True)
class History:
    r"""The record of :func:`train`.

    Attributes
    ----------
    cost : ndarray, shape (steps + 1,)
        :math:`C(W)` (a forward pass at the current weights) before the first step and after each.
    residual : ndarray, shape (steps + 1,)
        The norm of the constraint violation of the method's own states,
        :math:`\big(\sum_k \lVert X(k) - F_k(A(k)) \rVert^2\big)^{1/2}` (for ``"admm"`` also the split
        :math:`A(k) - W(k) X(k-1) - b(k)`); zero for back-propagation, which keeps
        the states on the constraint surface.
    method : str
        The method that produced it.
    """

    cost: np.ndarray
    residual: np.ndarray
    method: str


# --------------------------------------------------------------------------------------------
# Kernels (validated arguments): constraints, partial derivatives of L, Gauss-Newton on states
# --------------------------------------------------------------------------------------------

def _pre(params, X):
    """A(k) = W(k) X(k-1) + b(k) for k = 1..N, from the given states."""
    return [None] + [X[k - 1] @ W.T + b for k, (W, b) in enumerate(params, start=1)]


def _g(params, F, X):
    """The constraints g_k = X(k) - F_k(A(k)) and the A(k) they were computed from."""
    A = _pre(params, X)
    return [None] + [X[k] - F[k].f(A[k]) for k in range(1, len(params) + 1)], A


def _norm(arrays):
    return float(np.sqrt(sum(np.sum(a * a) for a in arrays if a is not None)))


def _dL_dX(params, F, X, A, B, D):
    r"""dL/dX(k) = B(k) - W(k+1)^T F'(A(k+1)) B(k+1), and dL/dX(N) = B(N) - 2 (D - X(N))."""
    N = len(params)
    Y = [None] + [F[k].df(A[k]) * B[k] for k in range(1, N + 1)]
    dX = [None] + [B[k] - Y[k + 1] @ params[k][0] for k in range(1, N)]
    dX.append(B[N] - 2.0 * (D - X[N]))
    return dX, Y


def _stationarity(params, F, X, B, D):
    g, A = _g(params, F, X)
    dX, _ = _dL_dX(params, F, X, A, B, D)
    return float(np.hypot(_norm(g[1:]), _norm(dX[1:])))


def _gauss_newton(params, F, X, D, rho, S, *, tol, max_inner):
    r"""Minimise :math:`\Phi(X) = \lVert X(N) - D\rVert^2 + \tfrac{\rho}{2}\sum_k \lVert g_k + S_k\rVert^2`.

    Over the states X(1..N), pattern by pattern (the problem separates over patterns), by
    Gauss-Newton steps with a line search. :math:`\nabla\Phi = \partial L/\partial X` at the
    multiplier :math:`B = \rho (g + S)`, so the returned gradient norm is that residual.
    Returns the new states, the gradient norm and the number of steps; stops when the gradient
    norm is below ``tol`` or when no step decreases any pattern's Phi (rounding).
    """
    N = len(params)
    P = X[0].shape[0]
    widths = [x.shape[1] for x in X[1:]]
    off = np.concatenate([[0], np.cumsum(widths)])
    m, nN = int(off[-1]), widths[-1]
    s = np.sqrt(rho / 2.0)
    X = [x.copy() for x in X]

    def residuals(Xs):
        g, A = _g(params, F, Xs)
        r = [Xs[N] - D] + [s * (g[k] + S[k]) if S is not None else s * g[k] for k in range(1, N + 1)]
        return np.concatenate(r, axis=1), A

    r, A = residuals(X)
    phi = np.sum(r * r, axis=1)
    eye = np.eye(m)
    for it in range(max_inner + 1):
        J = np.zeros((P, nN + m, m))
        J[:, :nN, off[N - 1]:off[N]] = np.eye(nN)
        for k in range(1, N + 1):
            rows = slice(nN + off[k - 1], nN + off[k])
            J[:, rows, off[k - 1]:off[k]] = s * np.eye(widths[k - 1])
            if k >= 2:
                J[:, rows, off[k - 2]:off[k - 1]] = -s * F[k].df(A[k])[:, :, None] * params[k - 1][0]
        grad = np.einsum("pri,pr->pi", J, r)  # J^T r; the gradient of Phi is twice this
        gnorm = 2.0 * float(np.sqrt(np.sum(grad * grad)))
        if gnorm <= tol or it == max_inner:
            return X, gnorm, it
        G = np.einsum("pri,prj->pij", J, J) + 1e-12 * (1.0 + rho) * eye
        step = -np.linalg.solve(G, grad[:, :, None])[:, :, 0]
        if np.max(np.abs(step)) <= 1e-15 * (1.0 + max(np.max(np.abs(x)) for x in X[1:])):
            return X, gnorm, it  # the step is below rounding: as stationary as float64 allows
        t = np.ones(P)
        active = np.ones(P, dtype=bool)
        for _ in range(40):
            trial = [X[0]] + [X[k] + t[:, None] * step[:, off[k - 1]:off[k]] for k in range(1, N + 1)]
            r_t, A_t = residuals(trial)
            phi_t = np.sum(r_t * r_t, axis=1)
            ok = phi_t <= phi * (1.0 + 1e-13)  # no increase beyond rounding: near the minimum
            # Phi changes by |grad|^2, below its rounding once |grad| < sqrt(eps): accept there
            bad = active & ~ok
            if not bad.any():
                break
            t[bad] *= 0.5
        t[~ok] = 0.0  # no decrease at the smallest step: this pattern is at its rounding floor
        if not np.any(t > 0):
            return X, gnorm, it
        X = [X[0]] + [X[k] + t[:, None] * step[:, off[k - 1]:off[k]] for k in range(1, N + 1)]
        r, A = residuals(X)
        phi = np.sum(r * r, axis=1)
    return X, gnorm, max_inner  # pragma: no cover - the loop returns


# --------------------------------------------------------------------------------------------
# Multipliers at fixed weights
# --------------------------------------------------------------------------------------------

def _option(options, name, default, check):
    value = options.pop(name, default)
    return check(value, name)


def _nonneg_scalar(x, name):
    if x == 0:
        return 0.0
    return positive_scalar(x, name)


def _above_one(x, name):
    x = positive_scalar(x, name)
    if x <= 1.0:
        raise ValueError(f"`{name}` must be > 1 (the factor the weight grows by), got {x!r}")
    return x


def _no_more(options, method):
    if options:
        raise TypeError(f"unknown option(s) for method {method!r}: "
                        + ", ".join(f"`{k}`" for k in sorted(options)))


def multipliers(params, inputs, targets, *, method, activation="tanh", output_activation="identity",
                tol=1e-10, max_iter=10_000, callback=None, **options):
    r"""At fixed weights, the stationary point of :math:`L` in (X, B) without a backward pass.

    The weights are fixed, so the constrained problem :math:`\min_X C(X(N))` subject to
    :math:`g_k(X) = X(k) - F_k(W(k) X(k-1) + b(k)) = 0` has the forward pass as its only feasible
    point and le Cun's costate :math:`B(k) = -\partial C/\partial X(k)` as its multiplier. Each
    method reaches them from the forward pass with :math:`B = 0`:

    ``"penalty"`` minimises :math:`C + \tfrac{\rho_j}{2}\sum_k\lVert g_k\rVert^2` over X for
    :math:`\rho_j = \rho\,\gamma^j` and reads the multiplier off the violation,

    .. math:: B_{\rho}(k) = \rho\, g_k(X_\rho) = B(k) + O(1/\rho);

    ``"augmented"`` (the method of multipliers) minimises :math:`L_\rho(X, B_j) = L(X, B_j)
    + \tfrac{\rho}{2}\sum_k\lVert g_k\rVert^2` over X at a fixed :math:`\rho`, then

    .. math:: B_{j+1}(k) = B_j(k) + \rho\, g_k(X_{j+1});

    ``"saddle"`` takes simultaneous steps of size :math:`\eta` down in X and up in B,

    .. math::

        X \leftarrow X - \eta\, \partial_X L(X, B + \rho\, g), \qquad
        B \leftarrow B + \eta\, g(X),

    plain descent-ascent (Arrow-Hurwicz) for :math:`\rho = 0`, and descent on the augmented
    Lagrangian for :math:`\rho > 0`.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
        ``[(W_1, b_1), ..., (W_N, b_N)]``, held fixed.
    inputs : array_like, shape (P, n_0) or (n_0,)
    targets : array_like, shape (P, n_N) or (n_N,)
    method : {"penalty", "augmented", "saddle"}, keyword-only
    activation, output_activation : str, keyword-only
        As for :func:`lagprop.lagrangian.forward`.
    tol : float, keyword-only
        Stop when the stationarity residual (see :class:`Multipliers`) is at most ``tol``.
    max_iter : int, keyword-only
        Most outer iterations (penalty weights, multiplier updates, or descent-ascent steps).
    callback : callable, optional, keyword-only
        Called as ``callback(j, X, B)`` at the start (j = 0) and after every iteration j.
    **options
        ``"penalty"``: ``rho`` (first weight, default 1.0), ``growth`` (:math:`\gamma` > 1,
        default 10.0). ``"augmented"``: ``rho`` (default 10.0). ``"saddle"``: ``step``
        (:math:`\eta`, default 0.05), ``rho`` (the augmented term, default 0.0: plain
        descent-ascent).

    Returns
    -------
    Multipliers

    Raises
    ------
    ValueError, TypeError
        Bad arguments or an option the method does not take.
    ConvergenceError
        ``"penalty"``: the weight passed :math:`10^{12}` before the residual reached ``tol`` (its
        constraint violation is :math:`\lVert B\rVert/\rho`, and the rounding error of
        :math:`\rho g` grows like :math:`\rho` times the machine epsilon); ``"augmented"``: no
        convergence in ``max_iter`` updates (``rho`` below the threshold of local convergence);
        ``"saddle"``: no convergence in ``max_iter`` steps, or divergence, with the rate of growth
        of the residual (an estimate of the spectral radius of the linearised iteration).

    References
    ----------
    le Cun (1988), eqs. 1-8; Nocedal and Wright (2006), Theorems 17.2 and 17.5 (penalty and
    augmented Lagrangian); Arrow, Hurwicz and Uzawa (1958); Marra et al. (2020).
    """
    params = check_params(params)
    if not isinstance(method, str) or method not in MULTIPLIER_METHODS:
        raise ValueError(f"`method` must be one of {list(MULTIPLIER_METHODS)}, got {method!r}")
    F = _layer_activations(len(params), activation, output_activation)
    X0 = as_patterns(inputs, "inputs", params[0][0].shape[1])
    D = as_patterns(targets, "targets", params[-1][0].shape[0])
    if D.shape[0] != X0.shape[0]:
        raise ValueError(f"`targets` must have one row per pattern ({X0.shape[0]}), got shape {D.shape}")
    tol = positive_scalar(tol, "tol")
    max_iter = positive_int(max_iter, "max_iter")
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable or None, got {type(callback).__name__}")
    options = dict(options)
    if method == "penalty":
        rho = _option(options, "rho", 1.0, positive_scalar)
        growth = _option(options, "growth", 10.0, _above_one)
        _no_more(options, method)
        return _penalty(params, F, X0, D, rho, growth, tol, max_iter, callback)
    if method == "augmented":
        rho = _option(options, "rho", 10.0, positive_scalar)
        _no_more(options, method)
        return _augmented(params, F, X0, D, rho, tol, max_iter, callback)
    step = _option(options, "step", 0.05, positive_scalar)
    rho = _option(options, "rho", 0.0, _nonneg_scalar)
    _no_more(options, method)
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, not warned
        return _saddle(params, F, X0, D, step, rho, tol, max_iter, callback)


def _start(params, F, X0, D, callback):
    X = _forward(params, X0, F).X
    B = [None] + [np.zeros_like(x) for x in X[1:]]
    if callback is not None:
        callback(0, X, B)
    return X, B, [_stationarity(params, F, X, B, D)]


def _penalty(params, F, X0, D, rho, growth, tol, max_iter, callback):
    X, B, trace = _start(params, F, X0, D, callback)
    for j in range(1, max_iter + 1):
        if rho > _RHO_MAX:
            raise ConvergenceError(
                f"quadratic penalty: the weight passed rho = {_RHO_MAX:.0e} after {j - 1} weights with "
                f"residual {trace[-1]:.3e} > tol = {tol:.1e}; the constraint violation ||B||/rho and "
                f"the rounding error of rho * g (about rho times machine epsilon) cannot both fall "
                f"below tol in float64: use method='augmented' for an exact multiplier",
                iterations=j - 1, residual=trace[-1])
        X, _, _ = _gauss_newton(params, F, X, D, rho, None, tol=0.1 * tol, max_inner=100)
        g, _ = _g(params, F, X)
        B = [None] + [rho * gk for gk in g[1:]]
        trace.append(_stationarity(params, F, X, B, D))
        if callback is not None:
            callback(j, X, B)
        if trace[-1] <= tol:
            return Multipliers(X=X, B=B, iterations=j, residual=trace[-1], trace=np.array(trace))
        rho *= growth
    raise ConvergenceError(
        f"quadratic penalty: no convergence in max_iter = {max_iter} weights (last rho = "
        f"{rho / growth:.3e}), residual {trace[-1]:.3e} > tol = {tol:.1e}",
        iterations=max_iter, residual=trace[-1])


def _augmented(params, F, X0, D, rho, tol, max_iter, callback):
    X, B, trace = _start(params, F, X0, D, callback)
    for j in range(1, max_iter + 1):
        S = [None] + [b / rho for b in B[1:]]
        X, _, _ = _gauss_newton(params, F, X, D, rho, S, tol=0.1 * tol, max_inner=100)
        g, _ = _g(params, F, X)
        B = [None] + [b + rho * gk for b, gk in zip(B[1:], g[1:])]
        trace.append(_stationarity(params, F, X, B, D))
        if callback is not None:
            callback(j, X, B)
        if not np.isfinite(trace[-1]):
            break
        if trace[-1] <= tol:
            return Multipliers(X=X, B=B, iterations=j, residual=trace[-1], trace=np.array(trace))
    radius = _augmented_radius(params, F, X0, D, rho)
    raise ConvergenceError(
        f"augmented Lagrangian: no convergence in {len(trace) - 1} multiplier updates at rho = "
        f"{rho:g}, residual {trace[-1]:.3e} > tol = {tol:.1e}; the multiplier update linearised at "
        f"the stationary point has spectral radius {radius:.4g} (it converges where this is < 1, "
        f"for rho above twice the modulus of the most negative eigenvalue of J^-T H J^-1, H the "
        f"Hessian of L in X and J the constraint Jacobian): increase `rho`",
        iterations=len(trace) - 1, residual=trace[-1], spectral_radius=radius)


def _saddle(params, F, X0, D, step, rho, tol, max_iter, callback):
    X, B, trace = _start(params, F, X0, D, callback)
    N = len(params)
    for j in range(1, max_iter + 1):
        g, A = _g(params, F, X)
        Bt = [None] + [B[k] + rho * g[k] for k in range(1, N + 1)] if rho > 0 else B
        dX, _ = _dL_dX(params, F, X, A, Bt, D)
        X = [X[0]] + [X[k] - step * dX[k] for k in range(1, N + 1)]
        B = [None] + [B[k] + step * g[k] for k in range(1, N + 1)]
        trace.append(_stationarity(params, F, X, B, D))
        if callback is not None:
            callback(j, X, B)
        if trace[-1] <= tol:
            return Multipliers(X=X, B=B, iterations=j, residual=trace[-1], trace=np.array(trace))
        if not np.isfinite(trace[-1]) or trace[-1] > 1e8 * max(trace[0], 1.0):
            break
    radius = _saddle_radius(params, F, X0, D, step, rho)
    grew = not np.isfinite(trace[-1]) or trace[-1] > trace[0]
    raise ConvergenceError(
        f"descent-ascent {'diverges' if grew else 'does not converge'}: {len(trace) - 1} steps of "
        f"size {step:g} (rho = {rho:g}), residual {trace[-1]:.3e} > tol = {tol:.1e}; the step "
        f"linearised at the stationary point has spectral radius {radius:.6g} (>= 1: it cycles or "
        f"spirals out, as plain descent-ascent does where L is bilinear in (X, B) or curves the "
        f"wrong way in X): take a smaller `step` or add the augmented term `rho` > 0",
        iterations=len(trace) - 1, residual=trace[-1], spectral_radius=radius)


def _linearisation(params, F, X0, D):
    r"""Per pattern, the Hessian :math:`H_p = \nabla^2_{XX} L` and the constraint Jacobian :math:`J_p`.

    At the stationary point (the forward pass and the costate), for the diagnosis of failures
    only. The second derivative of each activation is a central difference of its first
    (step 1e-5, error about 1e-10). Returns two arrays (P, m, m), m = n_1 + ... + n_N.
    """
    from .lagrangian import _costate

    fwd = _forward(params, X0, F)
    B = _costate(params, fwd.X, fwd.A, D, F).B
    N, P = len(params), X0.shape[0]
    widths = [W.shape[0] for W, _ in params]
    off = np.concatenate([[0], np.cumsum(widths)])
    m = int(off[-1])
    H = np.zeros((P, m, m))
    J = np.zeros((P, m, m))
    J[:] = np.eye(m)
    H[:, off[N - 1]:off[N], off[N - 1]:off[N]] = 2.0 * np.eye(widths[-1])
    for k in range(2, N + 1):
        W, A = params[k - 1][0], fwd.A[k]
        d2 = (F[k].df(A + 1e-5) - F[k].df(A - 1e-5)) / 2e-5
        blk = slice(off[k - 2], off[k - 1])
        H[:, blk, blk] -= np.einsum("ia,pi,ib->pab", W, B[k] * d2, W)
        J[:, off[k - 1]:off[k], blk] = -F[k].df(A)[:, :, None] * W
    return H, J


def _augmented_radius(params, F, X0, D, rho):
    r"""Spectral radius of the linearised multiplier update :math:`M (M + \rho I)^{-1}`.

    With :math:`M = J^{-\top} H J^{-1}`, pattern by pattern.
    """
    H, J = _linearisation(params, F, X0, D)
    Ji = np.linalg.inv(J)
    mu = np.linalg.eigvalsh(np.einsum("pji,pjk,pkl->pil", Ji, H, Ji))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.max(np.abs(mu / (mu + rho))))


def _saddle_radius(params, F, X0, D, step, rho):
    r"""Spectral radius of the linearised descent-ascent step :math:`I + \eta K`."""
    H, J = _linearisation(params, F, X0, D)
    P, m, _ = H.shape
    K = np.zeros((P, 2 * m, 2 * m))
    K[:, :m, :m] = -(H + rho * np.einsum("pji,pjk->pik", J, J))
    K[:, :m, m:] = -np.transpose(J, (0, 2, 1))
    K[:, m:, :m] = J
    return float(np.max(np.abs(np.linalg.eigvals(np.eye(2 * m) + step * K))))


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------

def train(params, inputs, targets, *, method, steps, activation="tanh", output_activation="identity",
          **method_options):
    r"""Train the weights by solving the constrained problem directly, with no backward pass.

    ``"penalty"`` (the method of auxiliary coordinates, Carreira-Perpinan and Wang 2014) alternates
    on :math:`E_\rho(W, X) = C(X(N)) + \tfrac{\rho}{2}\sum_k \lVert X(k) - F_k(W(k) X(k-1) +
    b(k))\rVert^2`: a W-step (each layer fits its own targets :math:`X(k)` from its own inputs
    :math:`X(k-1)`, a small least-squares problem per layer, all layers in parallel, solved by
    Gauss-Newton steps) and an X-step (:math:`\min_X E_\rho`, pattern by pattern), with
    :math:`\rho \leftarrow \gamma \rho` after every step.

    ``"admm"`` (Taylor et al. 2016) splits :math:`A(k) = W(k) X(k-1) + b(k)` and
    :math:`X(k) = F_k(A(k))` with weights :math:`\beta`, :math:`\gamma` and a multiplier
    :math:`\lambda` on the output split only, and updates in closed form per layer (for the last
    hidden layer, :math:`A(N)` is replaced by :math:`A(N) + \lambda / (2\beta)`):

    .. math::

        [W(k)\; b(k)] &\leftarrow \arg\min \lVert A(k) - W X(k-1) - b \rVert^2
        \quad\text{(least squares)},\\
        X(k) &\leftarrow (\beta W^\top W + \gamma I)^{-1}\big(\beta W^\top (A(k+1) - b)
        + \gamma F_k(A(k))\big), \quad W = W(k+1)\\
        A(k) &\leftarrow \arg\min_a \gamma \lVert X(k) - F_k(a)\rVert^2
        + \beta \lVert a - W(k) X(k-1) - b(k)\rVert^2 \quad\text{(entry by entry)},\\
        \lambda &\leftarrow \lambda + \beta\big(A(N) - W(N) X(N-1) - b(N)\big).

    ``"saddle"`` (Lagrangian propagation, Marra et al. 2020) takes simultaneous steps
    :math:`(W, X) \leftarrow (W, X) - \eta\, \partial_{(W,X)} L(W, X, B + \rho g)`,
    :math:`B \leftarrow B + \eta\, g`.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
        Initial weights (not modified).
    inputs : array_like, shape (P, n_0)
    targets : array_like, shape (P, n_N)
    method : {"penalty", "admm", "saddle"}, keyword-only
    steps : int, keyword-only
        Iterations of the method (>= 0).
    activation, output_activation : str, keyword-only
    **method_options
        ``"penalty"``: ``rho`` (default 1.0), ``growth`` (default 1.1), ``rho_max`` (default
        1e4), ``inner`` (Gauss-Newton steps per W- and X-step, default 2). ``"admm"``: ``beta``
        (default 1.0), ``gamma`` (default 1.0). ``"saddle"``: ``lr`` (:math:`\eta`, default 0.01),
        ``rho`` (default 0.0).

    Returns
    -------
    params : list of (ndarray, ndarray)
        The weights after the last step.
    history : History

    Raises
    ------
    ValueError, TypeError
        Bad arguments, an unknown method or option; ``"admm"`` needs an identity, tanh or sigmoid
        hidden activation (the A-step is solved entry by entry).

    References
    ----------
    Carreira-Perpinan and Wang (2014); Taylor et al. (2016); Marra et al. (2020).
    """
    params = check_params(params)
    if not isinstance(method, str) or method not in TRAIN_METHODS:
        raise ValueError(f"`method` must be one of {list(TRAIN_METHODS)}, got {method!r}")
    steps = positive_int(steps, "steps", minimum=0)
    F = _layer_activations(len(params), activation, output_activation)
    X0 = as_patterns(inputs, "inputs", params[0][0].shape[1])
    D = as_patterns(targets, "targets", params[-1][0].shape[0])
    if D.shape[0] != X0.shape[0]:
        raise ValueError(f"`targets` must have one row per pattern ({X0.shape[0]}), got shape {D.shape}")
    opts = dict(method_options)
    params = [(W.copy(), b.copy()) for W, b in params]
    if method == "penalty":
        rho = _option(opts, "rho", 1.0, positive_scalar)
        growth = _option(opts, "growth", 1.1, positive_scalar)
        rho_max = _option(opts, "rho_max", 1e4, positive_scalar)
        inner = _option(opts, "inner", 2, positive_int)
        _no_more(opts, method)
        return _train_penalty(params, F, X0, D, steps, rho, growth, rho_max, inner)
    if method == "admm":
        beta = _option(opts, "beta", 1.0, positive_scalar)
        gamma = _option(opts, "gamma", 1.0, positive_scalar)
        _no_more(opts, method)
        return _train_admm(params, F, X0, D, steps, beta, gamma)
    lr = _option(opts, "lr", 0.01, positive_scalar)
    rho = _option(opts, "rho", 0.0, _nonneg_scalar)
    _no_more(opts, method)
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported, not warned
        return _train_saddle(params, F, X0, D, steps, lr, rho)


def _cost_of(params, F, X0, D):
    return cost(_forward(params, X0, F).X[-1], D)


def _fit_layer(W, b, Xin, T, f, iters):
    r"""Gauss-Newton steps on :math:`\min_{W, b} \lVert T - f(X_{in} W^\top + b)\rVert^2`, unit by unit.

    Each output unit i is a separate weighted least-squares problem in its row of [W b]; a step is
    kept only where it decreases that unit's error.
    """
    Z = np.hstack([Xin, np.ones((Xin.shape[0], 1))])
    V = np.hstack([W, b[:, None]])  # (n_k, n_{k-1} + 1)
    lam = 1e-8 * (1.0 + np.sum(Z * Z) / Z.shape[0])
    for _ in range(iters):
        A = Z @ V.T
        R = T - f.f(A)
        err = np.sum(R * R, axis=0)
        dF = f.df(A)
        for i in range(V.shape[0]):
            Ji = Z * dF[:, i:i + 1]
            dv = np.linalg.solve(Ji.T @ Ji + lam * np.eye(Z.shape[1]), Ji.T @ R[:, i])
            for _ in range(20):
                new = V[i] + dv
                ri = T[:, i] - f.f(Z @ new)
                if ri @ ri <= err[i]:
                    V[i] = new
                    break
                dv *= 0.5
    return V[:, :-1].copy(), V[:, -1].copy()


def _constraint_norm(params, F, X):
    g, _ = _g(params, F, X)
    return _norm(g[1:])


def _train_penalty(params, F, X0, D, steps, rho, growth, rho_max, inner):
    N = len(params)
    X = _forward(params, X0, F).X
    costs, res = [_cost_of(params, F, X0, D)], [0.0]
    for _ in range(steps):
        params = [_fit_layer(params[k - 1][0], params[k - 1][1], X[k - 1], X[k], F[k], inner)
                  for k in range(1, N + 1)]  # W-step: every layer on its own, in parallel
        X, _, _ = _gauss_newton(params, F, X, D, rho, None, tol=0.0, max_inner=inner)  # X-step
        costs.append(_cost_of(params, F, X0, D))
        res.append(_constraint_norm(params, F, X))
        rho = min(rho * growth, rho_max)
    return params, History(cost=np.array(costs), residual=np.array(res), method="penalty")


def _argmin_entrywise(f, target, m, wt_fit, wt_prox, lam, a0, iters=8):
    r"""Entry by entry, :math:`\min_a w_f (t - f(a))^2 + \lambda a + w_p (a - m)^2`.

    Gauss-Newton steps with step halving from ``a0``; for the identity the minimiser is closed form.
    """
    if f.name == "identity":
        return (wt_fit * target - 0.5 * lam + wt_prox * m) / (wt_fit + wt_prox)

    def obj(a):
        r = target - f.f(a)
        return wt_fit * r * r + lam * a + wt_prox * (a - m) ** 2

    a = a0.copy()
    val = obj(a)
    for _ in range(iters):
        fa, da = f.f(a), f.df(a)
        grad = -2.0 * wt_fit * (target - fa) * da + lam + 2.0 * wt_prox * (a - m)
        step = -grad / (2.0 * wt_fit * da * da + 2.0 * wt_prox)
        t = np.ones_like(a)
        for _ in range(20):
            new = obj(a + t * step)
            bad = new > val
            if not bad.any():
                break
            t[bad] *= 0.5
        t[new > val] = 0.0
        a = a + t * step
        val = obj(a)
    return a


def _lstsq_layer(Xin, A):
    Z = np.hstack([Xin, np.ones((Xin.shape[0], 1))])
    V = np.linalg.lstsq(Z, A, rcond=None)[0].T
    return V[:, :-1].copy(), V[:, -1].copy()


def _train_admm(params, F, X0, D, steps, beta, gamma):
    N = len(params)
    fwd = _forward(params, X0, F)
    X, A = list(fwd.X), list(fwd.A)
    lam = np.zeros_like(A[N])
    costs, res = [_cost_of(params, F, X0, D)], [0.0]
    for _ in range(steps):
        for k in range(1, N):
            W, b = _lstsq_layer(X[k - 1], A[k])
            params[k - 1] = (W, b)
            W1, b1 = params[k]
            M = beta * W1.T @ W1 + gamma * np.eye(W1.shape[1])
            above = A[k + 1] - b1 + (lam / (2.0 * beta) if k + 1 == N else 0.0)
            X[k] = np.linalg.solve(M, (beta * above @ W1 + gamma * F[k].f(A[k])).T).T
            m = X[k - 1] @ W.T + b
            A[k] = _argmin_entrywise(F[k], X[k], m, gamma, beta, 0.0, A[k])
        # output layer: its weights with the multiplier, then A(N) with the cost, then the multiplier
        W, b = _lstsq_layer(X[N - 1], A[N] + lam / (2.0 * beta))
        params[N - 1] = (W, b)
        m = X[N - 1] @ W.T + b
        A[N] = _argmin_entrywise(F[N], D, m, 1.0, beta, lam, A[N])
        X[N] = F[N].f(A[N])
        lam = lam + 2.0 * beta * (A[N] - m)
        costs.append(_cost_of(params, F, X0, D))
        split = [A[k] - X[k - 1] @ W_.T - b_ for k, (W_, b_) in enumerate(params, start=1)]
        act = [X[k] - F[k].f(A[k]) for k in range(1, N)]
        res.append(_norm(split + act))
    return params, History(cost=np.array(costs), residual=np.array(res), method="admm")


def _train_saddle(params, F, X0, D, steps, lr, rho):
    N = len(params)
    X = _forward(params, X0, F).X
    B = [None] + [np.zeros_like(x) for x in X[1:]]
    costs, res = [_cost_of(params, F, X0, D)], [0.0]
    for _ in range(steps):
        g, A = _g(params, F, X)
        Bt = [None] + [B[k] + rho * g[k] for k in range(1, N + 1)] if rho > 0 else B
        dX, Y = _dL_dX(params, F, X, A, Bt, D)
        new = [(W + lr * (Y[k].T @ X[k - 1]), b + lr * Y[k].sum(axis=0))
               for k, (W, b) in enumerate(params, start=1)]  # dL/dW(k) = -sum_p Y_p(k) X_p(k-1)^T
        X = [X[0]] + [X[k] - lr * dX[k] for k in range(1, N + 1)]
        B = [None] + [B[k] + lr * g[k] for k in range(1, N + 1)]
        params = new
        costs.append(_cost_of(params, F, X0, D))
        res.append(_constraint_norm(params, F, X))
        if not (np.isfinite(costs[-1]) and np.isfinite(res[-1]) and res[-1] < 1e100):
            raise ConvergenceError(
                f"descent-ascent training diverged after {len(costs) - 1} steps (lr = {lr:g}, rho = "
                f"{rho:g}); take a smaller `lr` or add the augmented term `rho` > 0",
                iterations=len(costs) - 1, residual=float(res[-1]))
    return params, History(cost=np.array(costs), residual=np.array(res), method="saddle")
