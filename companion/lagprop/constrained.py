r"""Other roads to the stationary point: solving the constrained problem directly.

le Cun's Lagrange function (le Cun 1988, eq. 1), summed over patterns,

.. math::

    L(W, X, B) = C(X(N)) + \sum_{k=1}^{N} \big\langle B(k),\, g_k \big\rangle, \qquad
    g_k = X(k) - F_k\big(W(k) X(k-1) + b(k)\big),

is the Lagrangian of the problem :math:`\min C` subject to :math:`g_k = 0`.
Back-propagation solves its stationarity conditions in a fixed order: a forward pass for
:math:`g = 0`, then a costate pass for :math:`B`. The methods here treat the states
:math:`X(k)` as free unknowns and solve the same problem with local, layer-by-layer
updates and no backward pass:

* ``"penalty"``: the quadratic penalty :math:`C + \tfrac{\rho}{2}\sum_k \lVert g_k
  \rVert^2` with a growing weight :math:`\rho`; the multiplier is read off as
  :math:`\rho\, g_k`. In training this is the method of auxiliary coordinates
  (Carreira-Perpinan and Wang 2014).
* ``"augmented"``: the augmented Lagrangian :math:`L_\rho = L + \tfrac{\rho}{2}\sum_k
  \lVert g_k \rVert^2` and the method of multipliers :math:`B \leftarrow B + \rho\, g`
  (Hestenes 1969; Powell 1969); in training, ``"admm"`` splits it into closed-form
  substeps (Taylor et al. 2016).
* ``"saddle"``: descent in the states (and weights) with ascent in the multipliers on
  :math:`L` (Arrow and Hurwicz; Lagrangian propagation, Marra et al. 2020), with the
  augmented term, which is what makes it converge where plain descent-ascent cycles.

Here :math:`\rho` is always the weight of the quadratic penalty, the keyword ``penalty``
(its cap :math:`\rho_{\max}` is ``penalty_max``); in Part II of the book the same letter
is the momentum :math:`e^{-\beta\Delta}` of :func:`lagprop.dynamics.heavy_ball`, a
different quantity, and the keyword is not called ``rho`` for that reason (passing
``rho=`` raises a TypeError that names ``penalty``). :math:`\eta` (``eta``) is a step
size in both.

Patterns are rows and lists are indexed like the paper (``X[0]`` the inputs, ``B[0] is
None``), as in :mod:`lagprop.lagrangian`, whose forward and costate passes are the
reference these methods are compared with, and whose private kernels (``_forward``,
``_costate``, ``_lagrange_partials``) compute every constraint and partial derivative of
:math:`L` used here. The constraint Jacobian and the Hessian of :math:`L` in X, pattern
by pattern, are :mod:`lagprop.curvature`'s (``_pattern_jacobian``,
``_pattern_hessian``), the kernels of its :func:`~lagprop.curvature.constraint_jacobian`
and :func:`~lagprop.curvature.lagrange_hessian` (``wrt="X"``).
"""

import math
import textwrap
from dataclasses import dataclass

import numpy as np

from ._errors import ConvergenceError
from ._validate import (
    as_patterns,
    check_callable,
    choice,
    nonnegative_scalar,
    positive_int,
    positive_scalar,
    real_scalar,
    tolerance,
)
from .curvature import _pattern_hessian, _pattern_jacobian
from .lagrangian import (
    _check_targets,
    _costate,
    _forward,
    _lagrange_partials,
    _layer_activations,
    _second_derivatives,
    cost,
)
from .mlp import check_params

__all__ = ["Multipliers", "History", "MULTIPLIER_METHODS", "TRAIN_METHODS",
           "multipliers", "train"]

#: The methods of :func:`multipliers`.
MULTIPLIER_METHODS = ("penalty", "augmented", "saddle")
#: The methods of :func:`train`.
TRAIN_METHODS = ("penalty", "admm", "saddle")


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
        Outer iterations used (penalty weights tried, multiplier updates, or
        descent-ascent steps).
    residual : float
        :math:`\sqrt{\lVert \partial L/\partial B\rVert^2 + \lVert \partial L/\partial
        X\rVert^2}` at ``(X, B)``: the distance from stationarity of :math:`L` in (X,
        B), an absolute norm over all layers and patterns.
    trace : ndarray, shape (iterations + 1,)
        The same residual at the start and after every iteration.
    inner_iterations : int
        Gauss-Newton steps taken by the inner minimisations over X, summed over the
        outer iterations (``"penalty"``, ``"augmented"``); 0 for ``"saddle"``, which has
        none. Each costs a batched linear solve of size :math:`n_1 + \dots + n_N` per
        pattern.
    """

    X: list
    B: list
    iterations: int
    residual: float
    trace: np.ndarray
    inner_iterations: int = 0


@dataclass(frozen=True)
class History:
    r"""The record of :func:`train`.

    Attributes
    ----------
    cost : ndarray, shape (steps + 1,)
        :math:`C(W)` (a forward pass at the current weights) before the first step and
        after each.
    constraint_violation : ndarray, shape (steps + 1,)
        The norm of the constraint violation of the method's own states,
        :math:`\big(\sum_k \lVert X(k) - F_k(A(k)) \rVert^2\big)^{1/2}` (for ``"admm"``
        also the split :math:`A(k) - W(k) X(k-1) - b(k)`); zero for back-propagation,
        which keeps the states on the constraint surface.
    method : str
        The method that produced it.
    """

    cost: np.ndarray
    constraint_violation: np.ndarray
    method: str


# --------------------------------------------------------------------------------------
# Options: one table per function, used to parse the options and to document them
# --------------------------------------------------------------------------------------

def _above_one(x, name):
    return real_scalar(x, name, low=1.0, low_open=True)


def _at_least_one(x, name):
    return real_scalar(x, name, low=1.0)


#: per method, option -> (default, validator, description)
_MULTIPLIER_OPTIONS = {
    "penalty": {
        "tol": (1e-6, tolerance,
                "relative tolerance, above the float64 floor of about 1e-7"),
        "max_iter": (20, positive_int, "most penalty weights"),
        "penalty": (1.0, positive_scalar, r"first weight :math:`\rho_0`"),
        "growth": (10.0, _above_one, "factor > 1 between weights"),
        "penalty_max": (1e12, positive_scalar,
                        r"largest weight :math:`\rho_{\max}` tried"),
    },
    "augmented": {
        "tol": (1e-10, tolerance, "relative tolerance"),
        "max_iter": (200, positive_int, "most multiplier updates"),
        "penalty": (10.0, positive_scalar, r"first weight :math:`\rho_0`"),
        "growth": (10.0, _at_least_one,
                   r"factor applied to :math:`\rho` after an update that did not cut "
                   "the constraint violation to a quarter; 1 keeps it fixed, as in the "
                   "theorems on the method of multipliers"),
        "penalty_max": (1e8, positive_scalar, r"largest weight :math:`\rho_{\max}`"),
    },
    "saddle": {
        "tol": (1e-8, tolerance, "relative tolerance"),
        "max_iter": (20_000, positive_int, "most descent-ascent steps"),
        "eta": (0.05, positive_scalar, r"step size :math:`\eta`"),
        "penalty": (5.0, nonnegative_scalar,
                    r"weight :math:`\rho` of the augmented term; 0 is plain "
                    "descent-ascent, which cycles"),
    },
}

_TRAIN_OPTIONS = {
    "penalty": {
        "penalty": (1.0, positive_scalar, r"first weight :math:`\rho_0`"),
        "growth": (1.1, _above_one,
                   r"factor > 1 applied to :math:`\rho` after every step"),
        "penalty_max": (1e4, positive_scalar, r"largest weight :math:`\rho_{\max}`"),
        "inner": (2, positive_int, "Gauss-Newton steps per W- and X-step"),
    },
    "admm": {
        "beta": (1.0, positive_scalar,
                 r"weight :math:`\beta` of the split :math:`A = WX + b`"),
        "gamma": (1.0, positive_scalar,
                  r"weight :math:`\gamma` of the split :math:`X = F(A)`"),
    },
    "saddle": {
        "eta": (0.01, positive_scalar, r"step size :math:`\eta`"),
        "penalty": (1.0, nonnegative_scalar,
                    r"weight :math:`\rho` of the augmented term; 0 is plain "
                    "descent-ascent"),
    },
}


#: options renamed: ``rho`` is the momentum elsewhere in the package
_RENAMED = {"rho": "penalty", "rho_max": "penalty_max"}


def _parse_options(table, method, given):
    """The validated options of ``method`` from ``given`` (None: the default)."""
    spec = table[method]
    for old, new in _RENAMED.items():
        if old in given and new in spec:
            raise TypeError(
                f"`{old}` is now `{new}`: pass `{new}=` (rho is also the momentum of "
                f"lagprop.dynamics.heavy_ball, so the penalty weight is called "
                f"`penalty`), got `{old}={given[old]!r}`")
    unknown = sorted(k for k in given if k not in spec)
    if unknown:
        raise TypeError(f"unknown option(s) for method {method!r}: "
                        + ", ".join(f"`{k}`" for k in unknown)
                        + f"; it takes {', '.join(f'`{k}`' for k in spec)}")
    out = {}
    for name, (default, check, _) in spec.items():
        value = given.get(name)
        out[name] = check(default if value is None else value, name)
    return out


def _options_doc(table):
    """numpydoc lines documenting ``table``, indented for a Parameters entry."""
    lines = []
    for method, spec in table.items():
        items = "; ".join(f"``{name}`` ({text}, default {default:g})"
                          for name, (default, _, text) in spec.items())
        lines.append(textwrap.fill(f'``"{method}"``: {items}.', width=88,
                                   initial_indent=" " * 8, subsequent_indent=" " * 8,
                                   break_long_words=False, break_on_hyphens=False))
    return "\n\n".join(lines)


# --------------------------------------------------------------------------------------
# Kernels (validated arguments): constraints, Jacobian, Gauss-Newton on the states
# --------------------------------------------------------------------------------------

def _patterns(x, name, width):
    """Patterns as rows, at least one of them."""
    arr = as_patterns(x, name, width)
    if arr.shape[0] == 0:
        raise ValueError(f"`{name}` must hold at least one pattern (row), got shape "
                         f"{arr.shape}")
    return arr


def _norm(arrays):
    return float(np.sqrt(sum(np.sum(a * a) for a in arrays if a is not None)))


def _constraints(params, F, X):
    """g_k = X(k) - F_k(A(k)) and A(k) = W(k) X(k-1) + b(k), k = 1..N (index 0 is None).

    The ``dB`` of :func:`lagprop.lagrangian._lagrange_partials`, without ``dX`` and
    ``dW``: for the inner loops, which need the constraints alone.
    """
    A = [None] + [X[k - 1] @ W.T + b for k, (W, b) in enumerate(params, start=1)]
    return [None] + [X[k] - F[k].f(A[k]) for k in range(1, len(params) + 1)], A


def _residual(part):
    r"""The stationarity residual of L in (X, B).

    .. math:: \big(\lVert\partial L/\partial B\rVert^2
              + \lVert\partial L/\partial X\rVert^2\big)^{1/2}
    """
    return float(np.hypot(_norm(part.dB[1:]), _norm(part.dX[1:])))


def _gn_residuals(params, F, X, D, s, S):
    r"""Per pattern, :math:`r_p = [X_p(N) - D_p;\ s (g_p + S_p)]`, and A."""
    g, A = _constraints(params, F, X)
    r = [X[-1] - D] + [s * (g[k] if S is None else g[k] + S[k])
                       for k in range(1, len(params) + 1)]
    return np.concatenate(r, axis=1), A


def _gn_jacobian(params, F, A, s):
    r"""Per pattern, :math:`\partial r_p/\partial X_p`: :math:`[0\ I]` over
    :math:`s J_p`."""
    J = s * _pattern_jacobian(params, F, A)
    P, m, _ = J.shape
    nN = params[-1][0].shape[0]
    top = np.zeros((P, nN, m))
    top[:, :, m - nN:] = np.eye(nN)
    return np.concatenate([top, J], axis=1)


def _moved(X, t, step, off):
    return [X[0]] + [X[k] + t[:, None] * step[:, off[k - 1]:off[k]]
                     for k in range(1, len(X))]


def _line_search(params, F, X, D, s, S, step, phi, off):
    r"""Per pattern, the first of :math:`t = 1, 1/2, \dots, 2^{-39}` that does not
    increase :math:`\Phi_p` beyond rounding, and t = 0 where none does (that pattern
    is at its rounding floor). Returns the new states, their residuals, A and
    :math:`\Phi`, and whether any moved.
    """
    t = np.ones(X[0].shape[0])
    for _ in range(40):
        r, _ = _gn_residuals(params, F, _moved(X, t, step, off), D, s, S)
        ok = np.sum(r * r, axis=1) <= phi * (1.0 + 1e-13)
        if ok.all():
            break
        t[~ok] *= 0.5
    t[~ok] = 0.0
    X = _moved(X, t, step, off)
    r, A = _gn_residuals(params, F, X, D, s, S)
    return X, r, A, np.sum(r * r, axis=1), bool(np.any(t > 0))


def _gauss_newton(params, F, X, D, penalty, S, *, tol, max_inner):
    r"""Minimise :math:`\Phi(X) = \lVert X(N) - D\rVert^2
    + \tfrac{\rho}{2}\sum_k \lVert g_k + S_k\rVert^2`.

    Over the states X(1..N), pattern by pattern (the problem separates over patterns),
    by Gauss-Newton steps with a line search. :math:`\nabla\Phi = \partial L/\partial X`
    at the multiplier :math:`B = \rho (g + S)`, so the returned gradient norm is that
    residual. Returns the new states, the gradient norm and the number of steps taken;
    stops when the gradient norm is at most ``tol``, after ``max_inner`` steps, or when
    no step decreases any pattern's :math:`\Phi` (rounding).
    """
    s = np.sqrt(penalty / 2.0)
    off = np.concatenate([[0], np.cumsum([x.shape[1] for x in X[1:]])])
    eye = np.eye(off[-1])
    r, A = _gn_residuals(params, F, X, D, s, S)
    phi = np.sum(r * r, axis=1)
    for it in range(max_inner + 1):
        Jr = _gn_jacobian(params, F, A, s)
        grad = np.einsum("pri,pr->pi", Jr, r)  # J^T r; the gradient of Phi is twice it
        gnorm = 2.0 * float(np.sqrt(np.sum(grad * grad)))
        if gnorm <= tol or it == max_inner:
            return X, gnorm, it
        G = np.einsum("pri,prj->pij", Jr, Jr) + 1e-12 * (1.0 + penalty) * eye
        step = -np.linalg.solve(G, grad[:, :, None])[:, :, 0]
        size = 1.0 + max(np.max(np.abs(x)) for x in X[1:])
        if np.max(np.abs(step)) <= 1e-15 * size:
            return X, gnorm, it  # a step below rounding: stationary to float64
        X, r, A, phi, moved = _line_search(params, F, X, D, s, S, step, phi, off)
        if not moved:
            return X, gnorm, it + 1
    return X, gnorm, max_inner  # pragma: no cover - the loop returns


# --------------------------------------------------------------------------------------
# Multipliers at fixed weights
# --------------------------------------------------------------------------------------

def _rate(r):
    """A spectral radius with the digits that matter (0.999997, not 1)."""
    if not np.isfinite(r) or r == 1.0:
        return f"{r:g}"
    digits = min(17, max(5, 2 - math.floor(math.log10(abs(r - 1.0)))))
    return f"{r:.{digits}g}"


class _Run:
    """The trace of the outer iterations, the best iterate so far and the stop tests.

    The stop test is relative: the residual at most ``tol * max(1, ||B||)``.
    """

    def __init__(self, X, B, res, tol, callback):
        self.tol, self.callback = tol, callback
        self.trace = [res]
        self.j = self.best_j = 0
        self.best = (X, B, res)
        self.inner = 0
        if callback is not None:
            callback(0, X, B)

    def target(self, B):
        return self.tol * max(1.0, _norm(B[1:]))

    def record(self, j, X, B, res):
        """Append iteration j; True when it meets the tolerance."""
        self.j, self.last = j, (X, B)
        self.trace.append(res)
        if res < self.best[2]:
            self.best, self.best_j = (X, B, res), j
        if self.callback is not None:
            self.callback(j, X, B)
        return res <= self.target(B)

    def stalled(self, patience):
        """No new best residual in the last ``patience`` iterations."""
        return self.j - self.best_j >= patience

    def result(self):
        X, B = self.last
        return Multipliers(X=X, B=B, iterations=self.j, residual=self.trace[-1],
                           trace=np.array(self.trace), inner_iterations=self.inner)

    def error(self, message, spectral_radius=None):
        """A ConvergenceError with the best iterate as ``best`` (Multipliers)."""
        X, B, res = self.best
        err = ConvergenceError(
            f"{message}; best residual {res:.3e} (iteration {self.best_j}), against "
            f"tol * max(1, ||B||) = {self.target(B):.3e}; the best iterate is the "
            f"error's `best`", iterations=self.j, residual=self.trace[-1],
            spectral_radius=spectral_radius)
        err.best = Multipliers(X=X, B=B, iterations=self.best_j, residual=res,
                               trace=np.array(self.trace[:self.best_j + 1]),
                               inner_iterations=self.inner)
        return err


def multipliers(params, inputs, targets, *, method, activation="tanh",
                output_activation="identity", tol=None, max_iter=None, callback=None,
                **options):
    r"""At fixed weights, the stationary point of :math:`L` in (X, B), no backward pass.

    The weights are fixed, so the constrained problem :math:`\min_X C(X(N))` subject to
    :math:`g_k(X) = X(k) - F_k(W(k) X(k-1) + b(k)) = 0` has the forward pass as its only
    feasible point and le Cun's costate :math:`B(k) = -\partial C/\partial X(k)` as its
    multiplier. Each method reaches them from the forward pass with :math:`B = 0`:

    ``"penalty"`` minimises :math:`C + \tfrac{\rho_j}{2}\sum_k\lVert g_k\rVert^2` over X
    for :math:`\rho_j = \rho_0\, \mathtt{growth}^j` and reads the multiplier off the
    violation,

    .. math:: B_{\rho}(k) = \rho\, g_k(X_\rho) = B(k) + O(1/\rho);

    ``"augmented"`` (the method of multipliers) minimises :math:`L_\rho(X, B_j) = L(X,
    B_j) + \tfrac{\rho}{2}\sum_k\lVert g_k\rVert^2` over X, then

    .. math:: B_{j+1}(k) = B_j(k) + \rho\, g_k(X_{j+1}),

    and multiplies :math:`\rho` by ``growth`` when an update has not cut
    :math:`\lVert g\rVert` to a quarter (``growth=1``: a fixed weight);

    ``"saddle"`` takes simultaneous steps of size :math:`\eta` down in X and up in B,

    .. math::

        X \leftarrow X - \eta\, \partial_X L(X, B + \rho\, g), \qquad
        B \leftarrow B + \eta\, g(X),

    plain descent-ascent (Arrow-Hurwicz) for :math:`\rho = 0`, and descent on the
    augmented Lagrangian for :math:`\rho > 0`. Here :math:`\rho` is the penalty weight,
    the option ``penalty`` (in Part II of the book :math:`\rho` is the momentum of the
    heavy-ball map, another quantity).

    Every method stops when the stationarity residual (see :class:`Multipliers`) is at
    most ``tol * max(1, ||B||)``, a relative tolerance, or when it has stopped making
    progress.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
        ``[(W_1, b_1), ..., (W_N, b_N)]``, held fixed.
    inputs : array_like, shape (P, n_0) or (n_0,)
        At least one pattern.
    targets : array_like, shape (P, n_N) or (n_N,)
    method : {"penalty", "augmented", "saddle"}, keyword-only
    activation, output_activation : str, keyword-only
        As for :func:`lagprop.lagrangian.forward`.
    tol : float, optional, keyword-only
        Relative tolerance of the stationarity residual; None takes the method's default
        below.
    max_iter : int, optional, keyword-only
        Most outer iterations (penalty weights, multiplier updates, or descent-ascent
        steps); None takes the method's default below.
    callback : callable, optional, keyword-only
        Called as ``callback(j, X, B)`` at the start (j = 0) and after every iteration
        j.
    **options
        Per method, with its defaults (``tol`` and ``max_iter`` included):

<options>

    Returns
    -------
    Multipliers

    Raises
    ------
    TypeError
        A wrong type, ``method`` not a string (None included), or an option the method
        does not take (``rho`` and ``rho_max``, the former names of ``penalty`` and
        ``penalty_max``, included).
    ValueError
        A bad value: an unknown method, shapes that do not match ``params``, no
        patterns, a non-finite array, or an option out of its range.
    ConvergenceError
        No convergence. ``"penalty"``: the weight passed ``penalty_max``, or three
        weights in a row brought no progress (its constraint violation is :math:`\lVert
        B\rVert/\rho`, and the rounding error of :math:`\rho g` grows like :math:`\rho`
        times the machine epsilon); ``"augmented"``: ``max_iter`` updates or ten without
        progress, with the spectral radius of the linearised update at the last weight;
        ``"saddle"``: divergence, ``max_iter`` steps or 2,000 without progress, with the
        spectral radius of the linearised step. The error's ``best`` attribute holds the
        best iterate reached, as :class:`Multipliers`.

    References
    ----------
    le Cun (1988), eqs. 1-8; Hestenes (1969); Powell (1969); Nocedal and Wright (2006),
    Theorems 17.2 and 17.5 (penalty and augmented Lagrangian); Arrow, Hurwicz and Uzawa
    (1958); Marra et al. (2020).
    """
    params = check_params(params)
    method = choice(method, "method", MULTIPLIER_METHODS)
    F = _layer_activations(len(params), activation, output_activation)
    X0 = _patterns(inputs, "inputs", params[0][0].shape[1])
    D = _check_targets(targets, params, X0.shape[0])
    if callback is not None:
        check_callable(callback, "callback")
    opts = _parse_options(_MULTIPLIER_OPTIONS, method,
                          dict(options, tol=tol, max_iter=max_iter))
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported instead
        return _MULTIPLIER_SOLVERS[method](params, F, X0, D, callback, **opts)


multipliers.__doc__ = multipliers.__doc__.replace("<options>",
                                                  _options_doc(_MULTIPLIER_OPTIONS))


def _start(params, F, X0, D, tol, callback):
    X = _forward(params, X0, F).X
    B = [None] + [np.zeros_like(x) for x in X[1:]]
    res = _residual(_lagrange_partials(params, X, B, D, F))
    return X, B, _Run(X, B, res, tol, callback)


def _penalty(params, F, X0, D, callback, *, tol, max_iter, penalty, growth,
             penalty_max):
    X, B, run = _start(params, F, X0, D, tol, callback)
    reason = f"no convergence in max_iter = {max_iter} weights"
    for j in range(1, max_iter + 1):
        if penalty > penalty_max:
            reason = (f"the weight passed penalty_max = {penalty_max:.3g} after "
                      f"{j - 1} weights")
            break
        X, _, n = _gauss_newton(params, F, X, D, penalty, None,
                                tol=0.1 * run.target(B), max_inner=50)
        run.inner += n
        g, _ = _constraints(params, F, X)
        B = [None] + [penalty * gk for gk in g[1:]]
        if run.record(j, X, B, _residual(_lagrange_partials(params, X, B, D, F))):
            return run.result()
        if run.stalled(3):
            reason = f"three weights without progress (up to penalty = {penalty:.3g})"
            break
        penalty *= growth
    raise run.error(
        f"quadratic penalty: {reason}; the constraint violation ||B||/penalty and the "
        f"rounding error of penalty * g (about penalty times machine epsilon) cannot "
        f"both fall below the tolerance in float64: use a larger `tol`, or "
        f"method='augmented' for an exact multiplier")


def _augmented(params, F, X0, D, callback, *, tol, max_iter, penalty, growth,
               penalty_max):
    X, B, run = _start(params, F, X0, D, tol, callback)
    reason, violation = f"no convergence in max_iter = {max_iter} updates", None
    for j in range(1, max_iter + 1):
        S = [None] + [b / penalty for b in B[1:]]
        X, _, n = _gauss_newton(params, F, X, D, penalty, S,
                                tol=0.1 * run.target(B), max_inner=50)
        run.inner += n
        g, _ = _constraints(params, F, X)
        B = [None] + [b + penalty * gk for b, gk in zip(B[1:], g[1:])]
        if run.record(j, X, B, _residual(_lagrange_partials(params, X, B, D, F))):
            return run.result()
        if not np.isfinite(run.trace[-1]):
            reason = f"the residual is not finite after {j} updates"
            break
        if run.stalled(10):
            reason = f"ten updates without progress ({j} in all)"
            break
        last, violation = violation, _norm(g[1:])
        if last is not None and violation > 0.25 * last:
            penalty = min(penalty * growth, penalty_max)
    radius = _augmented_radius(params, F, X0, D, penalty)
    raise run.error(
        f"augmented Lagrangian: {reason} at penalty = {penalty:g}; the multiplier "
        f"update linearised at the stationary point has spectral radius "
        f"{_rate(radius)} (it converges where this is < 1, for penalty above twice the "
        f"modulus of the most negative eigenvalue of J^-T H J^-1, H the Hessian of L "
        f"in X and J the constraint Jacobian): increase `penalty` or `growth`",
        spectral_radius=radius)


def _saddle(params, F, X0, D, callback, *, tol, max_iter, eta, penalty):
    X, B, run = _start(params, F, X0, D, tol, callback)
    N = len(params)
    part = _lagrange_partials(params, X, B, D, F)
    reason = f"does not converge in max_iter = {max_iter} steps"
    for j in range(1, max_iter + 1):
        g = part.dB
        if penalty > 0:
            Bt = [None] + [B[k] + penalty * g[k] for k in range(1, N + 1)]
            part = _lagrange_partials(params, X, Bt, D, F)
        X = [X[0]] + [X[k] - eta * part.dX[k] for k in range(1, N + 1)]
        B = [None] + [B[k] + eta * g[k] for k in range(1, N + 1)]
        part = _lagrange_partials(params, X, B, D, F)
        if run.record(j, X, B, _residual(part)):
            return run.result()
        res = run.trace[-1]
        if not np.isfinite(res) or res > 1e8 * max(run.trace[0], 1.0):
            reason = f"diverges after {j} steps"
            break
        if run.stalled(2000):
            reason = f"does not converge: 2000 steps without progress ({j} in all)"
            break
    radius = _saddle_radius(params, F, X0, D, eta, penalty)
    raise run.error(
        f"descent-ascent {reason} (step size eta = {eta:g}, penalty = {penalty:g}); "
        f"the step linearised at the stationary point has spectral radius "
        f"{_rate(radius)} "
        f"(>= 1: it cycles or spirals out, as plain descent-ascent does where L is "
        f"bilinear in (X, B) or curves the wrong way in X): take a smaller `eta` or a "
        f"larger augmented term `penalty`",
        spectral_radius=radius)


_MULTIPLIER_SOLVERS = {"penalty": _penalty, "augmented": _augmented, "saddle": _saddle}


def _linearisation(params, F, X0, D):
    r"""Per pattern, :math:`H_p = \nabla^2_{XX} L` and :math:`J_p` at the stationary
    point.

    At the forward pass and the costate, for the diagnosis of failures only: the
    per-pattern blocks of :func:`lagprop.curvature.lagrange_hessian` (``wrt="X"``) and
    of :func:`lagprop.curvature.constraint_jacobian`. Returns two arrays (P, m, m),
    m = n_1 + ... + n_N.
    """
    fwd = _forward(params, X0, F)
    B = _costate(params, fwd.X, fwd.A, D, F).B
    d2 = _second_derivatives(F, len(params))
    return (_pattern_hessian(params, fwd.A, B, d2),
            _pattern_jacobian(params, F, fwd.A))


def _augmented_radius(params, F, X0, D, penalty):
    r"""Spectral radius of the linearised multiplier update :math:`M (M + \rho I)^{-1}`.

    With :math:`M = J^{-\top} H J^{-1}`, pattern by pattern.
    """
    H, J = _linearisation(params, F, X0, D)
    Ji = np.linalg.inv(J)
    mu = np.linalg.eigvalsh(np.einsum("pji,pjk,pkl->pil", Ji, H, Ji))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.max(np.abs(mu / (mu + penalty))))


def _saddle_radius(params, F, X0, D, eta, penalty):
    r"""Spectral radius of the linearised descent-ascent step :math:`I + \eta K`."""
    H, J = _linearisation(params, F, X0, D)
    P, m, _ = H.shape
    K = np.zeros((P, 2 * m, 2 * m))
    K[:, :m, :m] = -(H + penalty * np.einsum("pji,pjk->pik", J, J))
    K[:, :m, m:] = -np.transpose(J, (0, 2, 1))
    K[:, m:, :m] = J
    return float(np.max(np.abs(np.linalg.eigvals(np.eye(2 * m) + eta * K))))


# --------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------

def train(params, inputs, targets, *, method, steps, activation="tanh",
          output_activation="identity", **method_options):
    r"""Train the weights by solving the constrained problem directly, no backward pass.

    ``"penalty"`` (the method of auxiliary coordinates, Carreira-Perpinan and Wang 2014)
    alternates on :math:`E_\rho(W, X) = C(X(N)) + \tfrac{\rho}{2}\sum_k \lVert X(k) -
    F_k(W(k) X(k-1) + b(k))\rVert^2`: a W-step (each layer fits its own targets
    :math:`X(k)` from its own inputs :math:`X(k-1)`, a small least-squares problem per
    layer, all layers in parallel, solved by Gauss-Newton steps) and an X-step
    (:math:`\min_X E_\rho`, pattern by pattern), with
    :math:`\rho \leftarrow \min(\mathtt{growth}\, \rho, \rho_{\max})` after every step.

    ``"admm"`` (Taylor et al. 2016) splits :math:`A(k) = W(k) X(k-1) + b(k)` and
    :math:`X(k) = F_k(A(k))` with weights :math:`\beta`, :math:`\gamma` and a multiplier
    :math:`\lambda` on the output split only, and updates layer by layer (for the last
    hidden layer, :math:`A(N)` is replaced by :math:`A(N) + \lambda / (2\beta)`):

    .. math::

        [W(k)\; b(k)] &\leftarrow \arg\min \lVert A(k) - W X(k-1) - b \rVert^2
        \quad\text{(least squares)},\\
        X(k) &\leftarrow (\beta W^\top W + \gamma I)^{-1}\big(\beta W^\top (A(k+1) - b)
        + \gamma F_k(A(k))\big), \quad W = W(k+1)\\
        A(k) &\leftarrow \arg\min_a \gamma \lVert X(k) - F_k(a)\rVert^2
        + \beta \lVert a - W(k) X(k-1) - b(k)\rVert^2 \quad\text{(entry by entry)},\\
        \lambda &\leftarrow \lambda + 2\beta\big(A(N) - W(N) X(N-1) - b(N)\big).

    The entry-by-entry problem is solved in closed form for the identity and the ReLU
    (the better of its two pieces), and by Gauss-Newton steps with step halving from the
    current :math:`A(k)` for other activations (a local minimiser).

    ``"saddle"`` (Lagrangian propagation, Marra et al. 2020) takes simultaneous steps
    :math:`(W, X) \leftarrow (W, X) - \eta\, \partial_{(W,X)} L(W, X, B + \rho g)`,
    :math:`B \leftarrow B + \eta\, g`. Here :math:`\rho` is the penalty weight, the
    option ``penalty`` (in Part II of the book :math:`\rho` is the momentum of the
    heavy-ball map, another quantity).

    Parameters
    ----------
    params : list of (ndarray, ndarray)
        Initial weights (not modified).
    inputs : array_like, shape (P, n_0)
        At least one pattern.
    targets : array_like, shape (P, n_N)
    method : {"penalty", "admm", "saddle"}, keyword-only
        The methods of :func:`multipliers` with the weights free: ``"admm"`` is the
        training form of ``"augmented"``.
    steps : int, keyword-only
        Iterations of the method (>= 0).
    activation, output_activation : str, keyword-only
    **method_options
        Per method, with its defaults:

<options>

    Returns
    -------
    params : list of (ndarray, ndarray)
        The weights after the last step.
    history : History

    Raises
    ------
    TypeError
        A wrong type, ``method`` not a string (None included), or an option the method
        does not take (``rho`` and ``rho_max``, the former names of ``penalty`` and
        ``penalty_max``, included).
    ValueError
        A bad value: an unknown method, shapes that do not match ``params``, no
        patterns, a non-finite array, or an option out of its range (``growth`` must be
        > 1).
    ConvergenceError
        ``"saddle"``: the cost or the constraint violation is no longer finite (or
        passed 1e100): the step diverged.

    References
    ----------
    Carreira-Perpinan and Wang (2014); Taylor et al. (2016); Marra et al. (2020).
    """
    params = check_params(params)
    method = choice(method, "method", TRAIN_METHODS)
    steps = positive_int(steps, "steps", minimum=0)
    F = _layer_activations(len(params), activation, output_activation)
    X0 = _patterns(inputs, "inputs", params[0][0].shape[1])
    D = _check_targets(targets, params, X0.shape[0])
    opts = _parse_options(_TRAIN_OPTIONS, method, method_options)
    params = [(W.copy(), b.copy()) for W, b in params]
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported instead
        return _TRAINERS[method](params, F, X0, D, steps, **opts)


train.__doc__ = train.__doc__.replace("<options>", _options_doc(_TRAIN_OPTIONS))


def _cost_of(params, F, X0, D):
    return cost(_forward(params, X0, F).X[-1], D)


def _fit_layer(W, b, Xin, T, f, iters):
    r"""Gauss-Newton steps on :math:`\min_{W, b} \lVert T - f(X_{in} W^\top + b)
    \rVert^2`.

    Unit by unit.

    Each output unit i is a separate weighted least-squares problem in its row of [W b];
    a step is kept only where it decreases that unit's error.
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


def _violation(params, F, X):
    g, _ = _constraints(params, F, X)
    return _norm(g[1:])


def _train_penalty(params, F, X0, D, steps, *, penalty, growth, penalty_max, inner):
    N = len(params)
    X = _forward(params, X0, F).X
    costs, res = [_cost_of(params, F, X0, D)], [0.0]
    for _ in range(steps):
        # W-step: every layer on its own, in parallel
        params = [_fit_layer(W, b, X[k - 1], X[k], F[k], inner)
                  for k, (W, b) in enumerate(params, start=1)]
        X, _, _ = _gauss_newton(params, F, X, D, penalty, None, tol=0.0,
                                max_inner=inner)
        costs.append(_cost_of(params, F, X0, D))
        res.append(_violation(params, F, X))
        penalty = min(penalty * growth, penalty_max)
    return params, History(cost=np.array(costs), constraint_violation=np.array(res),
                           method="penalty")


def _argmin_entrywise(f, target, m, wt_fit, wt_prox, lam, a0, iters=8):
    r"""Entry by entry, :math:`\min_a w_f (t - f(a))^2 + \lambda a + w_p (a - m)^2`.

    In closed form for the identity and the ReLU (the minimiser on each of its two
    pieces, then the better one); otherwise Gauss-Newton steps with step halving from
    ``a0``.
    """
    if f.name == "identity":
        return (wt_fit * target - 0.5 * lam + wt_prox * m) / (wt_fit + wt_prox)

    def obj(a):
        r = target - f.f(a)
        return wt_fit * r * r + lam * a + wt_prox * (a - m) ** 2

    if f.name == "relu":
        up = (wt_fit * target - 0.5 * lam + wt_prox * m) / (wt_fit + wt_prox)
        up = np.maximum(up, 0.0)
        down = np.minimum(m - 0.5 * lam / wt_prox, 0.0)
        return np.where(obj(up) <= obj(down), up, down)
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


def _train_admm(params, F, X0, D, steps, *, beta, gamma):
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
        # output layer: weights with the multiplier, A(N) with the cost, the multiplier
        W, b = _lstsq_layer(X[N - 1], A[N] + lam / (2.0 * beta))
        params[N - 1] = (W, b)
        m = X[N - 1] @ W.T + b
        A[N] = _argmin_entrywise(F[N], D, m, 1.0, beta, lam, A[N])
        X[N] = F[N].f(A[N])
        lam = lam + 2.0 * beta * (A[N] - m)
        costs.append(_cost_of(params, F, X0, D))
        split = [A[k] - X[k - 1] @ W_.T - b_
                 for k, (W_, b_) in enumerate(params, start=1)]
        act = [X[k] - F[k].f(A[k]) for k in range(1, N)]
        res.append(_norm(split + act))
    return params, History(cost=np.array(costs), constraint_violation=np.array(res),
                           method="admm")


def _train_saddle(params, F, X0, D, steps, *, eta, penalty):
    N = len(params)
    X = _forward(params, X0, F).X
    B = [None] + [np.zeros_like(x) for x in X[1:]]
    costs, res = [_cost_of(params, F, X0, D)], [0.0]
    g, _ = _constraints(params, F, X)
    for _ in range(steps):
        Bt = ([None] + [B[k] + penalty * g[k] for k in range(1, N + 1)]
              if penalty > 0 else B)
        part = _lagrange_partials(params, X, Bt, D, F)
        new = [(W - eta * dW, b - eta * db)
               for (W, b), (dW, db) in zip(params, part.dW)]
        X = [X[0]] + [X[k] - eta * part.dX[k] for k in range(1, N + 1)]
        B = [None] + [B[k] + eta * g[k] for k in range(1, N + 1)]
        params = new
        costs.append(_cost_of(params, F, X0, D))
        g, _ = _constraints(params, F, X)  # the violation now, and the next step's g
        res.append(_norm(g[1:]))
        if not (np.isfinite(costs[-1]) and np.isfinite(res[-1]) and res[-1] < 1e100):
            raise ConvergenceError(
                f"descent-ascent training diverged after {len(costs) - 1} steps (eta = "
                f"{eta:g}, penalty = {penalty:g}); take a smaller `eta` or add the "
                f"augmented term `penalty` > 0", iterations=len(costs) - 1,
                residual=float(res[-1]))
    return params, History(cost=np.array(costs), constraint_violation=np.array(res),
                           method="saddle")


_TRAINERS = {"penalty": _train_penalty, "admm": _train_admm, "saddle": _train_saddle}
