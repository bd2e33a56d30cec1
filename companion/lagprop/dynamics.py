r"""The cognitive-action dynamics of Frandina et al. (2013): impulses, mollified forcing, heavy ball.

The Euler-Lagrange equation of the cognitive action (Frandina et al. 2013, Theorem 1, eq. 3) is

.. math::

    \mu_i\,(\ddot w_i + \beta \dot w_i) = -\sum_k \zeta(t - t_k)\, \partial_{w_i} \bar V_k(w(t)),

with :math:`\zeta = \delta` (impulsive supervision) or :math:`\zeta = \zeta_\varepsilon` (the
mollifier of :mod:`lagprop.supervision`). Between supervisions the motion is free and solved in
closed form,

.. math::

    v(t) = v(s)\, e^{-\beta (t - s)}, \qquad
    w(t) = w(s) + v(s)\, \frac{1 - e^{-\beta (t - s)}}{\beta},

and an impulse at :math:`t_k` leaves :math:`w` continuous and makes the velocity jump,
:math:`v_k^+ = v_k^- - g_k / \mu` with :math:`g_k = \nabla \bar V_k(w(t_k))`. Sampling at the
instants gives the exact heavy-ball recursion (Polyak 1964)

.. math::

    w_{k+1} = w_k - \eta (1 - \rho_k)\, g_k + \frac{\rho_{k-1} (1 - \rho_k)}{1 - \rho_{k-1}}\,(w_k - w_{k-1}),
    \qquad \rho_k = e^{-\beta (t_{k+1} - t_k)}, \quad \eta = \frac{1}{\beta \mu},

which for equal spacings is step :math:`\eta (1 - \rho)` and momentum :math:`\rho`.

Only :math:`e^{-\beta s}` with :math:`s \ge 0` is ever evaluated (and :math:`1 - e^{-\beta s}`
through ``expm1``), so nothing overflows for large :math:`\beta t`. Gradient callables take
``(k, w)`` with ``k`` the 0-based index into ``times`` (the paper's :math:`\kappa = k + 1`) and
``w`` of shape (m,), and return an array of shape (m,).
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from ._errors import ConvergenceError
from ._validate import (as_float_array, check_callable, check_masses, positive_int, positive_scalar,
                        real_scalar, returned_array, short_repr, tolerance)
from .supervision import check_times, check_windows, mollifier

__all__ = [
    "ImpulseTrajectory",
    "MollifiedTrajectory",
    "simulate_impulses",
    "simulate_mollified",
    "impulse_response",
    "step_forcing",
    "heavy_ball",
    "heavy_ball_coefficients",
    "heavy_ball_positions",
    "matched_heavy_ball",
    "fixed_mass_heavy_ball",
    "cognitive_parameters",
    "phase_volume_factor",
]


def __dir__():
    return list(__all__)


# ----------------------------------------------------------------------------------------------
# validation helpers


def _check_state(w0, v0):
    w0 = np.atleast_1d(as_float_array(w0, "w0"))
    if w0.ndim != 1:
        raise ValueError(f"`w0` must be a scalar or 1-D array of weights, got shape {w0.shape}")
    if v0 is None:
        v0 = np.zeros_like(w0)
    else:
        v0 = np.atleast_1d(as_float_array(v0, "v0"))
        if v0.shape != w0.shape:
            raise ValueError(f"`v0` must have the shape of `w0` {w0.shape}, got {v0.shape}")
    return w0, v0


def _call_grad(grad, k, w):
    """``grad(k, w)`` checked: real, finite and shaped like ``w`` (complex is an error)."""
    g = returned_array(grad(k, w.copy()), "grad", w.shape, where=f" at k = {k}")
    return g


def _decay(beta, s):
    """(e^{-beta s}, (1 - e^{-beta s}) / beta) for s >= 0, without cancellation."""
    s = np.asarray(s, dtype=np.float64)
    return np.exp(-beta * s), -np.expm1(-beta * s) / beta


def _free_motion(w, v, s, *, beta):
    r"""Free motion of :math:`\ddot w + \beta \dot w = 0` over an elapsed time ``s >= 0``.

    .. math:: w(s) = w + v\,\frac{1 - e^{-\beta s}}{\beta}, \qquad v(s) = v\, e^{-\beta s}.

    ``w`` and ``v`` have shape (m,); ``s`` is a scalar or (n,) array; the result has shape (m,)
    or (n, m).
    """
    s = np.asarray(s, dtype=np.float64)
    decay, reach = _decay(beta, s)
    return w + np.multiply.outer(reach, v), np.multiply.outer(decay, v)


def _free_state(y0, s, beta, mu, m):
    r"""The state (w, v, D, W_sup) at elapsed times ``s`` (n,) of free motion from ``y0``.

    The one free-decay formula: :math:`v` decays as :math:`e^{-\beta s}`, so the kinetic energy
    :math:`T_0` is dissipated as :math:`D = D_0 + T_0 (1 - e^{-2\beta s})`, and no work is done
    against the supervision outside its windows.
    """
    w, v = _free_motion(y0[:m], y0[m:2 * m], s, beta=beta)
    T0 = 0.5 * np.sum(mu * y0[m:2 * m] ** 2)
    D = y0[2 * m] + T0 * (-np.expm1(-2 * beta * np.asarray(s, dtype=np.float64)))
    return np.column_stack([w, v, D, np.full(np.size(s), y0[2 * m + 1])])


@dataclass(frozen=True)
class _FreeSegment:
    """Free motion on [start, end] from the state ``y0`` = (w, v, D, W_sup) at ``start``."""

    start: float
    end: float
    y0: np.ndarray


@dataclass(frozen=True)
class _WindowSegment:
    """A supervision window [start, end], integrated by solve_ivp; ``dense`` is its dense output."""

    start: float
    end: float
    dense: object


# ----------------------------------------------------------------------------------------------
# the impulsive (exact) solution


@dataclass(frozen=True)
class ImpulseTrajectory:
    r"""The exact solution of :math:`\mu(\ddot w + \beta \dot w) = -\sum_k g_k\, \delta(t - t_k)`.

    Use :meth:`at` for the state at any time.

    Attributes
    ----------
    times : ndarray, shape (K,)
        Supervision instants :math:`t_k`.
    w : ndarray, shape (K, m)
        Positions :math:`w(t_k)` (continuous at an impulse).
    v_before, v_after : ndarray, shape (K, m)
        Velocities just before and just after each impulse, :math:`v_k^\pm`.
    g : ndarray, shape (K, m)
        The gradients :math:`g_k = \nabla \bar V_k(w(t_k))` that produced the impulses.
    w0, v0 : ndarray, shape (m,)
        The state at :math:`t = 0`.
    beta : float
        Damping :math:`\beta`.
    mu : float or ndarray, shape (m,)
        Masses.
    """

    times: np.ndarray
    w: np.ndarray
    v_before: np.ndarray
    v_after: np.ndarray
    g: np.ndarray
    w0: np.ndarray
    v0: np.ndarray
    beta: float
    mu: object

    def at(self, t):
        r"""The exact state :math:`(w(t), \dot w(t))` at time(s) ``t >= 0``.

        The velocity is right-continuous: at :math:`t = t_k` it is :math:`v_k^+`.

        Parameters
        ----------
        t : float or array_like, shape (n,)

        Returns
        -------
        w, v : ndarray, shape (m,) for scalar ``t``, (n, m) otherwise.

        Raises
        ------
        ValueError
            If a time is negative or not finite.
        """
        scalar = np.ndim(t) == 0
        t = np.atleast_1d(as_float_array(t, "t"))
        if t.ndim != 1:
            raise ValueError(f"`t` must be a scalar or 1-D array, got shape {t.shape}")
        if np.any(t < 0):
            raise ValueError(f"`t` must be >= 0 (the motion starts at t = 0), got min(t) = {t.min()!r}")
        idx = np.searchsorted(self.times, t, side="right") - 1  # last impulse with t_k <= t
        before = idx < 0
        ic = np.where(before, 0, idx)
        t_ref = np.where(before, 0.0, self.times[ic])
        w_ref = np.where(before[:, None], self.w0, self.w[ic])
        v_ref = np.where(before[:, None], self.v0, self.v_after[ic])
        decay, reach = _decay(self.beta, t - t_ref)
        w = w_ref + reach[:, None] * v_ref
        v = decay[:, None] * v_ref
        return (w[0], v[0]) if scalar else (w, v)


def simulate_impulses(grad, times, w0, *, beta, mu, v0=None):
    r"""The exact motion under impulsive supervision (Frandina et al. 2013, eqs. 3-4).

    .. math::

        \mu_i (\ddot w_i + \beta \dot w_i) = -\sum_k g_{ik}\, \delta(t - t_k), \qquad
        g_k = \nabla \bar V_k(w(t_k)),

    solved in closed form: free motion between the instants, and at each :math:`t_k` the jump
    :math:`v_k^+ = v_k^- - g_k/\mu` with :math:`w` continuous.

    Parameters
    ----------
    grad : callable ``(k, w) -> ndarray``
        Gradient of the k-th pattern's loss at ``w`` (shape (m,)); k is 0-based.
    times : array_like, shape (K,)
        Supervision instants, strictly increasing, >= 0.
    w0 : array_like, shape (m,)
        Weights at t = 0 (a scalar is one weight).
    beta : float, keyword-only
        Damping, > 0.
    mu : float or array_like, shape (m,), keyword-only
        Masses, > 0 (one per weight or shared).
    v0 : array_like, shape (m,), keyword-only
        Velocity at t = 0; default zero (rest).

    Returns
    -------
    ImpulseTrajectory
        ``.times``, ``.w``, ``.v_before``, ``.v_after``, ``.g`` and the exact ``.at(t)``.

    Raises
    ------
    ValueError
        For ``beta <= 0``, ``mu <= 0``, invalid ``times`` (negative, not strictly increasing), or a
        ``grad`` returning the wrong shape or non-finite values.
    TypeError
        If ``grad`` is not callable or returns complex or non-numeric values.
    """
    check_callable(grad, "grad")
    beta = positive_scalar(beta, "beta")
    times = check_times(times)
    w, v = _check_state(w0, v0)
    mu = check_masses(mu, w.size)
    w0c, v0c = w.copy(), v.copy()
    K, m = times.size, w.size
    W, Vb, Va, G = (np.empty((K, m)) for _ in range(4))
    t_prev = 0.0
    for k in range(K):
        w, v = _free_motion(w, v, times[k] - t_prev, beta=beta)
        g = _call_grad(grad, k, w)
        W[k], Vb[k], G[k] = w, v, g
        v = v - g / mu
        Va[k] = v
        t_prev = times[k]
    return ImpulseTrajectory(times=times, w=W, v_before=Vb, v_after=Va, g=G, w0=w0c, v0=v0c,
                             beta=beta, mu=mu)


def impulse_response(t, t1, g, *, beta, mu, w0=0.0):
    r"""The response to one impulse from rest (Frandina et al. 2013, after Theorem 2).

    .. math::

        w(t) = w_0 - \frac{g}{\beta \mu}\big(1 - e^{-\beta (t - t_1)}\big)\,\mathbb 1(t - t_1), \qquad
        \dot w(t) = -\frac{g}{\mu} e^{-\beta (t - t_1)}\, \mathbb 1(t - t_1),

    which tends to :math:`w_0 - \eta g` with :math:`\eta = 1/(\beta\mu)`.

    Parameters
    ----------
    t : float or array_like, shape (n,)
    t1 : float
        Instant of the impulse.
    g : float or array_like, shape (m,)
        The gradient delivered by the impulse.
    beta, mu : float or (m,), keyword-only
    w0 : float or array_like, shape (m,), keyword-only

    Returns
    -------
    w, v : ndarray, shape ``np.shape(t) + np.shape(g)``
    """
    beta = positive_scalar(beta, "beta")
    g = as_float_array(g, "g")
    if g.ndim > 1:
        raise ValueError(f"`g` must be a scalar or 1-D array of weights, got shape {g.shape}")
    mu = check_masses(mu, g.size)
    t = as_float_array(t, "t")
    t1 = real_scalar(t1, "t1")
    w0 = as_float_array(w0, "w0")
    if w0.shape not in ((), g.shape):
        raise ValueError(f"`w0` must be a scalar or have the shape of `g` {g.shape}, got {w0.shape}")
    s = np.maximum(t - t1, 0.0)
    decay, reach = _decay(beta, s)
    on = (t >= t1).astype(np.float64)
    w = w0 - np.multiply.outer(reach * on, g / mu)
    v = -np.multiply.outer(decay * on, g / mu)
    return w, v


def step_forcing(traj, t):
    r"""The right-hand side of Theorem 2 (Frandina et al. 2013, eq. 4) along a trajectory.

    .. math:: -\frac{1}{\mu} \sum_k g_k\, \mathbb 1(t - t_k) \qquad (\mathbb 1(0) = 1),

    using the gradients ``traj.g`` actually delivered. From rest this equals
    :math:`\dot w + \beta w`; in general :math:`\dot w + \beta w` equals it plus
    :math:`\dot w(0) + \beta w(0)`.

    Returns an array of shape (m,) for scalar ``t``, (n, m) otherwise.
    """
    if not isinstance(traj, ImpulseTrajectory):
        raise TypeError(f"`traj` must be an ImpulseTrajectory (from simulate_impulses), got {type(traj).__name__}")
    scalar = np.ndim(t) == 0
    t = np.atleast_1d(as_float_array(t, "t"))
    if t.ndim != 1:
        raise ValueError(f"`t` must be a scalar or 1-D array of times, got shape {t.shape}")
    on = (t[:, None] >= traj.times[None, :]).astype(np.float64)
    out = -(on @ traj.g) / traj.mu
    return out[0] if scalar else out


# ----------------------------------------------------------------------------------------------
# the mollified solution


@dataclass(frozen=True)
class MollifiedTrajectory:
    r"""The solution of :math:`\mu(\ddot w + \beta \dot w) = -\sum_k \zeta_\varepsilon(t - t_k) \nabla\bar V_k(w)`.

    :math:`T + D + W_{\rm sup}` is constant along the exact solution. Use :meth:`at` (and
    :meth:`energies_at`) for the state at any time in :math:`[0, t_{\rm end}]`.

    Attributes
    ----------
    t : ndarray, shape (M,)
        Output times: the solver's steps inside each window :math:`[t_k - \varepsilon, t_k + \varepsilon]`
        and evenly spaced points of the closed-form free motion between windows.
    w, v : ndarray, shape (M, m)
        Positions and velocities at ``t``.
    D : ndarray, shape (M,)
        Dissipated energy :math:`D(t) = \int_0^t 2\beta T\, d\theta`.
    W_sup : ndarray, shape (M,)
        Work against the supervision
        :math:`W_{\rm sup}(t) = \sum_k \int_0^t \zeta_\varepsilon(\theta - t_k)\, \nabla \bar V_k(w) \cdot \dot w\, d\theta`.
    times : ndarray, shape (K,)
        Supervision instants.
    eps, beta : float
    mu : float or ndarray, shape (m,)
    w0, v0 : ndarray, shape (m,)
        The state at t = 0.
    """

    t: np.ndarray
    w: np.ndarray
    v: np.ndarray
    D: np.ndarray
    W_sup: np.ndarray
    times: np.ndarray
    eps: float
    beta: float
    mu: object
    w0: np.ndarray
    v0: np.ndarray
    _segments: list = field(repr=False, default_factory=list)

    @property
    def T(self):
        r"""Kinetic energy :math:`\tfrac12 \sum_i \mu_i \dot w_i^2` at ``t``, shape (M,)."""
        return 0.5 * np.sum(self.mu * self.v ** 2, axis=-1)

    @property
    def t_end(self):
        """The last time of the solution."""
        return float(self.t[-1])

    def _full(self, t):
        t = np.atleast_1d(as_float_array(t, "t"))
        if t.ndim != 1:
            raise ValueError(f"`t` must be a scalar or 1-D array, got shape {t.shape}")
        if np.any(t < 0) or np.any(t > self.t_end * (1 + 1e-14)):
            raise ValueError(f"`t` must lie in [0, {self.t_end!r}], got [{t.min()!r}, {t.max()!r}]")
        m = self.w0.size
        starts = np.array([seg.start for seg in self._segments])
        idx = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(starts) - 1)
        out = np.empty((t.size, 2 * m + 2))
        for j in np.unique(idx):
            sel = idx == j
            seg = self._segments[j]
            if isinstance(seg, _FreeSegment):
                out[sel] = _free_state(seg.y0, t[sel] - seg.start, self.beta, self.mu, m)
            else:
                out[sel] = seg.dense(t[sel]).T
        return out

    def at(self, t):
        r"""The state :math:`(w(t), \dot w(t))` at time(s) ``t`` in :math:`[0, t_{\rm end}]`.

        Closed form between windows, the solver's dense output (DOP853) inside them. Shapes as
        :meth:`ImpulseTrajectory.at`.
        """
        scalar = np.ndim(t) == 0
        y = self._full(t)
        m = self.w0.size
        w, v = y[:, :m], y[:, m:2 * m]
        return (w[0], v[0]) if scalar else (w, v)

    def energies_at(self, t):
        """``(D, W_sup)`` at time(s) ``t``, each of shape (n,) (or scalars for scalar ``t``)."""
        scalar = np.ndim(t) == 0
        y = self._full(t)
        m = self.w0.size
        D, W = y[:, 2 * m], y[:, 2 * m + 1]
        return (D[0], W[0]) if scalar else (D, W)


def simulate_mollified(grad, times, w0, *, beta, mu, eps, v0=None, rtol=1e-10, atol=1e-12, t_end=None):
    r"""The motion under mollified supervision, integrated window by window (Frandina et al. 2013, eq. 3).

    .. math::

        \mu_i (\ddot w_i + \beta \dot w_i) = -\sum_k \zeta_\varepsilon(t - t_k)\, \partial_{w_i} \bar V_k(w(t)),

    with the energy terms carried as extra states,

    .. math::

        \dot D = 2\beta T = \beta \sum_i \mu_i \dot w_i^2, \qquad
        \dot W_{\rm sup} = \sum_k \zeta_\varepsilon(t - t_k)\, \nabla \bar V_k(w) \cdot \dot w,

    so that :math:`T + D + W_{\rm sup}` is constant. Inside each window
    :math:`[t_k - \varepsilon, t_k + \varepsilon]` (only one pattern is active there)
    ``scipy.integrate.solve_ivp`` with DOP853 integrates the system; between windows the free
    motion is evaluated in closed form. Because every window is its own integration interval, no
    solver step can jump over a supervision.

    Parameters
    ----------
    grad, times, w0, beta, mu, v0
        As in :func:`simulate_impulses`.
    eps : float, keyword-only
        Half-width of the mollifier, > 0, with :math:`2\varepsilon \le t_{k+1} - t_k` and
        :math:`t_1 \ge \varepsilon`.
    rtol, atol : float, keyword-only
        Tolerances of ``solve_ivp``.
    t_end : float, keyword-only
        Final time; default :math:`t_K + \varepsilon` (the end of the last window). Must be at
        least that.

    Returns
    -------
    MollifiedTrajectory

    Raises
    ------
    ValueError
        For non-positive ``beta``, ``mu`` or ``eps``; invalid ``times``; overlapping windows
        (:math:`2\varepsilon` larger than a spacing) or a first window starting before t = 0;
        ``t_end`` before the end of the last window; ``grad`` returning the wrong shape or
        non-finite values.
    TypeError
        If ``grad`` is not callable or returns complex or non-numeric values.
    RuntimeError
        If ``solve_ivp`` fails inside a window.
    """
    check_callable(grad, "grad")
    beta = positive_scalar(beta, "beta")
    times, eps = check_windows(times, eps)
    w, v = _check_state(w0, v0)
    m = w.size
    mu = check_masses(mu, m)
    rtol, atol = tolerance(rtol, "rtol"), tolerance(atol, "atol")
    if rtol < 100 * np.finfo(float).eps:
        raise ValueError(f"`rtol` must be >= {100 * np.finfo(float).eps:.3g} (scipy's floor), got {rtol!r}")
    last = times[-1] + eps
    t_end = last if t_end is None else real_scalar(t_end, "t_end")
    if not t_end >= last:
        raise ValueError(f"`t_end` must be >= the end of the last window t_K + eps = {last!r}, got {t_end!r}")
    n_free = 16

    y = np.concatenate([w, v, [0.0, 0.0]])
    segs, T_out, Y_out = [], [], []

    def free(a, b, y):
        s = np.linspace(0.0, b - a, n_free + 1)
        Yf = _free_state(y, s, beta, mu, m)
        segs.append(_FreeSegment(start=a, end=b, y0=y.copy()))
        T_out.append(a + s)
        Y_out.append(Yf)
        return Yf[-1].copy()

    t_prev = 0.0
    for k, tk in enumerate(times):
        a, b = tk - eps, tk + eps
        y = free(t_prev, a, y) if a > t_prev else y

        def rhs(t, y, k=k, tk=tk):
            wk, vk = y[:m], y[m:2 * m]
            F = mollifier(t - tk, eps) * _call_grad(grad, k, wk)
            dv = -beta * vk - F / mu
            return np.concatenate([vk, dv, [beta * np.sum(mu * vk ** 2), F @ vk]])

        with np.errstate(over="ignore", invalid="ignore"):
            sol = solve_ivp(rhs, (a, b), y, method="DOP853", rtol=rtol, atol=atol, dense_output=True)
        if not sol.success or not np.all(np.isfinite(sol.y)):
            raise ConvergenceError(f"solve_ivp failed in the window of k = {k}: "
                                   f"{sol.message if sol.success is False else 'the state overflowed'}",
                                   iterations=int(sol.nfev))
        segs.append(_WindowSegment(start=a, end=b, dense=sol.sol))
        T_out.append(sol.t)
        Y_out.append(sol.y.T)
        y = sol.y[:, -1].copy()
        t_prev = b
    if t_end > t_prev:
        free(t_prev, t_end, y)

    t_all = np.concatenate(T_out)
    Y_all = np.concatenate(Y_out)
    keep = np.concatenate([[True], np.diff(t_all) > 0])  # drop repeated segment boundaries
    t_all, Y_all = t_all[keep], Y_all[keep]
    return MollifiedTrajectory(t=t_all, w=Y_all[:, :m], v=Y_all[:, m:2 * m], D=Y_all[:, 2 * m],
                               W_sup=Y_all[:, 2 * m + 1], times=times, eps=eps, beta=beta, mu=mu,
                               w0=w.copy(), v0=v.copy(), _segments=segs)


# ----------------------------------------------------------------------------------------------
# the heavy-ball map


def heavy_ball(beta, mu, spacing):
    r"""Step and momentum of the exact discrete map for equally spaced impulses (Theorem 3, exact form).

    .. math::

        w_{k+1} = w_k - \eta (1 - \rho)\, g_k + \rho\, (w_k - w_{k-1}), \qquad
        \eta = \frac{1}{\beta \mu}, \quad \rho = e^{-\beta \Delta}.

    Parameters
    ----------
    beta : float
        Damping, > 0.
    mu : float or array_like, shape (m,)
        Masses, > 0 (an array gives a per-weight step).
    spacing : float
        :math:`\Delta = t_{k+1} - t_k > 0`.

    Returns
    -------
    step : float or ndarray, shape (m,)
        :math:`\eta (1 - \rho)`.
    momentum : float
        :math:`\rho`.

    Raises
    ------
    ValueError
        If ``beta``, ``mu`` or ``spacing`` is not positive.
    """
    beta = positive_scalar(beta, "beta")
    spacing = positive_scalar(spacing, "spacing")
    mu = check_masses(mu, np.size(mu))
    rho = float(np.exp(-beta * spacing))
    return -np.expm1(-beta * spacing) / (beta * mu), rho


def heavy_ball_coefficients(times, *, beta, mu):
    r"""Per-step coefficients of the exact discrete map for arbitrary spacings.

    With :math:`\Delta_k = t_{k+1} - t_k` and :math:`\rho_k = e^{-\beta \Delta_k}`, the positions
    :math:`w_k = w(t_k)` of the impulsive motion from rest obey

    .. math::

        w_{k+1} = w_k - s_k\, g_k + m_k\, (w_k - w_{k-1}), \qquad
        s_k = \eta (1 - \rho_k), \qquad
        m_k = \frac{\rho_{k-1} (1 - \rho_k)}{1 - \rho_{k-1}} \quad (k \ge 1), \qquad m_0 = 0.

    Parameters
    ----------
    times : array_like, shape (K,)
        Strictly increasing instants, >= 0.
    beta : float, keyword-only
    mu : float or array_like, shape (m,), keyword-only

    Returns
    -------
    steps : ndarray, shape (K-1, 1) for scalar ``mu``, (K-1, m) for per-weight masses
        :math:`s_k`, ready for :func:`heavy_ball_positions`.
    momenta : ndarray, shape (K-1,)
        :math:`m_k` (the first is 0: the motion starts from rest).
    """
    beta = positive_scalar(beta, "beta")
    times = check_times(times)
    mu = check_masses(mu, np.size(mu))
    bd = beta * np.diff(times)
    rho, one_minus = np.exp(-bd), -np.expm1(-bd)
    momenta = np.zeros(bd.size)
    momenta[1:] = rho[:-1] * one_minus[1:] / one_minus[:-1]
    steps = one_minus[:, None] / (beta * np.atleast_1d(mu))[None, :]
    return steps, momenta


def heavy_ball_positions(grad, w0, n, step, momentum):
    r"""Run the heavy-ball recursion (Polyak 1964) from rest for ``n`` positions.

    .. math::

        w_{k+1} = w_k - s_k\, g_k + m_k\, (w_k - w_{k-1}), \qquad g_k = \text{grad}(k, w_k), \qquad w_{-1} = w_0.

    With constant coefficients this is PyTorch's ``SGD(lr=s, momentum=m, dampening=0)``
    update. With per-step coefficients it is not: that update keeps a buffer
    :math:`b_k = m'_k b_{k-1} + g_k` and steps :math:`w_{k+1} = w_k - \ell_k b_k`, which is
    the recursion above with :math:`s_k = \ell_k` and :math:`m_k = m'_k \ell_k / \ell_{k-1}`.
    The impulsive motion with unequal spacings (coefficients of
    :func:`heavy_ball_coefficients`) is therefore PyTorch's update with momentum
    :math:`\rho_{k-1}` and learning rate :math:`\eta (1 - \rho_k)` at step :math:`k`, whose
    buffer is :math:`b_k = -\mu v_k^+`; with momentum :math:`m_k` it is off.

    Parameters
    ----------
    grad : callable ``(k, w) -> ndarray``
    w0 : array_like, shape (m,)
        The first position (:math:`w(t_1)` of the continuous motion).
    n : int
        Number of positions to return, >= 1.
    step : float, array (m,) (per weight), or array (n-1, 1) / (n-1, m) (per step)
        :math:`s_k`.
    momentum : float or array (n-1,)
        :math:`m_k`.

    Returns
    -------
    ndarray, shape (n, m)
        :math:`w_0, \dots, w_{n-1}`.

    Raises
    ------
    ValueError
        If the coefficient shapes do not fit, or ``grad`` returns the wrong shape or non-finite values.
    TypeError
        If ``grad`` is not callable or returns complex or non-numeric values.
    """
    check_callable(grad, "grad")
    w, _ = _check_state(w0, None)
    n = positive_int(n, "n")
    m = w.size
    step = as_float_array(step, "step")
    if step.ndim <= 1:
        if step.ndim == 1 and step.shape != (m,):
            raise ValueError(f"`step` as a 1-D array must hold one step per weight, shape ({m},), got "
                             f"{step.shape}; give per-step steps as shape (n-1, 1)")
        step = np.broadcast_to(step, (max(n - 1, 0), m))
    elif step.ndim != 2 or step.shape[0] != n - 1 or step.shape[1] not in (1, m):
        raise ValueError(f"`step` must be a scalar, (m,) = ({m},), or (n-1, 1) / (n-1, m) = ({n - 1}, {m}), "
                         f"got shape {step.shape}")
    momentum = np.broadcast_to(as_float_array(momentum, "momentum"), (n - 1,)) if np.ndim(momentum) == 0 \
        else as_float_array(momentum, "momentum", ndim=1)
    if momentum.shape != (n - 1,):
        raise ValueError(f"`momentum` must be a scalar or have n-1 = {n - 1} entries, got shape {momentum.shape}")
    out = np.empty((n, m))
    out[0] = w
    w_prev = w
    for k in range(n - 1):
        g = _call_grad(grad, k, w)
        w, w_prev = w - step[k] * g + momentum[k] * (w - w_prev), w
        out[k + 1] = w
    return out


def _check_rho(rho, name="rho", *, allow_zero=True):
    rho = as_float_array(rho, name)
    low_ok = (rho >= 0) if allow_zero else (rho > 0)
    if not np.all(low_ok & (rho < 1)):
        interval = "[0, 1)" if allow_zero else "(0, 1)"
        raise ValueError(f"`{name}` must lie in {interval}, got {short_repr(rho)}")
    return rho


def matched_heavy_ball(eta, rho):
    r"""Step and momentum of heavy ball at a fixed effective rate :math:`\eta` (masses grow as rho -> 1).

    .. math:: s = \eta (1 - \rho), \qquad m = \rho, \qquad \frac{s}{1 - m} = \eta = \frac{1}{\beta\mu}.

    The matched reading of the small-dissipation limit: at fixed :math:`\eta` the mass
    :math:`\mu = 1/(\beta\eta)` grows as :math:`\beta \to 0`. ``rho = 0`` is plain online gradient
    descent with rate :math:`\eta`. ``rho`` may be an array; the result is shaped like it.

    Raises
    ------
    ValueError
        If ``eta <= 0`` or ``rho`` is outside ``[0, 1)``.
    """
    eta = positive_scalar(eta, "eta")
    rho = _check_rho(rho)
    return eta * (1 - rho), rho


def fixed_mass_heavy_ball(mu, rho, spacing=1.0):
    r"""Step and momentum of heavy ball at fixed masses, the damping set by ``rho`` (Theorem 3, exact).

    .. math::

        \beta = -\frac{\ln \rho}{\Delta}, \qquad
        s = \frac{1 - \rho}{\beta \mu} = \frac{\Delta\,(1 - \rho)}{\mu\,(-\ln \rho)}, \qquad m = \rho .

    The fixed-mass reading of the small-dissipation limit: as :math:`\beta \to 0` the step tends to
    :math:`\Delta/\mu` while the effective rate :math:`\eta = 1/(\beta\mu)` grows without bound.
    This is :func:`heavy_ball` with :math:`\beta` computed from :math:`\rho`.

    Parameters
    ----------
    mu : float
        The mass, > 0.
    rho : float or array_like
        Momenta in ``(0, 1)``.
    spacing : float
        :math:`\Delta > 0`.

    Returns
    -------
    step, momentum : ndarray (shaped like ``rho``)

    Raises
    ------
    ValueError
        If ``mu`` or ``spacing`` is not positive or ``rho`` is outside ``(0, 1)``.
    """
    mu = positive_scalar(mu, "mu")
    spacing = positive_scalar(spacing, "spacing")
    rho = _check_rho(rho, allow_zero=False)
    beta = -np.log(rho) / spacing
    return (1 - rho) / (beta * mu), rho


def cognitive_parameters(eta, rho, spacing=1.0):
    r"""The damping and mass of the cognitive dynamics that give momentum ``rho`` and rate ``eta``.

    .. math:: \beta = -\frac{\ln \rho}{\Delta}, \qquad \mu = \frac{1}{\beta \eta}

    (inverting :func:`heavy_ball`). Requires ``0 < rho < 1``.

    Returns
    -------
    beta, mu : float

    Raises
    ------
    ValueError
        If ``eta`` or ``spacing`` is not positive or ``rho`` is not a number in ``(0, 1)``.
    """
    eta = positive_scalar(eta, "eta")
    spacing = positive_scalar(spacing, "spacing")
    rho = real_scalar(rho, "rho", low=0.0, high=1.0, low_open=True, high_open=True)
    beta = -np.log(rho) / spacing
    return beta, 1.0 / (beta * eta)


def phase_volume_factor(grad, w, w_prev, step, momentum, *, h=1e-6):
    r"""Determinant of the Jacobian of one heavy-ball step in the phase variables :math:`(w_k, w_{k-1})`.

    .. math::

        \Phi(w_k, w_{k-1}) = \big(w_k - s\, \nabla V(w_k) + \rho (w_k - w_{k-1}),\ w_k\big),

    .. math::

        \det D\Phi = \det \begin{pmatrix} (1 + \rho) I - s H & -\rho I \\ I & 0 \end{pmatrix}
        = \rho^m,

    whatever the Hessian :math:`H`: each step shrinks phase-space volume by the same factor as the
    exact damped flow over one spacing, :math:`e^{-m \beta \Delta}` (the conformal symplectic
    property, Franca et al. 2020). Computed here by central differences of the map, so it checks
    the formula rather than restating it.

    Parameters
    ----------
    grad : callable ``w -> ndarray`` (m,)
    w, w_prev : array_like, shape (m,)
    step, momentum : float
    h : float
        Difference step, > 0.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``w`` and ``w_prev`` differ in shape, a coefficient is not finite, ``h <= 0``, or
        ``grad`` returns other than one finite value per weight.
    TypeError
        If ``grad`` is not callable or returns complex or non-numeric values.
    """
    check_callable(grad, "grad")
    w = as_float_array(w, "w", ndim=1)
    w_prev = as_float_array(w_prev, "w_prev", ndim=1)
    if w_prev.shape != w.shape:
        raise ValueError(f"`w_prev` must have the shape of `w`, {w.shape}, got {w_prev.shape}")
    step = real_scalar(step, "step")
    momentum = real_scalar(momentum, "momentum")
    h = positive_scalar(h, "h")
    m = w.size
    z0 = np.concatenate([w, w_prev])

    per_weight = " (one entry per weight of `w`)"

    def phi(z):
        a, b = z[:m], z[m:]
        g = returned_array(grad(a.copy()), "grad", (m,), where=per_weight)
        return np.concatenate([a - step * g + momentum * (a - b), a])

    J = np.empty((2 * m, 2 * m))
    for j in range(2 * m):
        e = np.zeros(2 * m)
        e[j] = h
        J[:, j] = (phi(z0 + e) - phi(z0 - e)) / (2 * h)
    return float(np.linalg.det(J))
