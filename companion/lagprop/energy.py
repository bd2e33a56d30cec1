r"""The energy balance of the learning dynamics (Frandina et al. 2013, Section 4), done carefully.

Multiplying :math:`\mu_i(\ddot w_i + \beta \dot w_i) = -F_i(t)` by :math:`\dot w_i` and summing
gives :math:`\dot T + 2\beta T + F \cdot \dot w = 0`, so with

.. math::

    T = \tfrac12 \sum_i \mu_i \dot w_i^2, \qquad
    D(t) = \int_0^t 2\beta\, T\, d\theta, \qquad
    W_{\rm sup}(t) = \int_0^t F \cdot \dot w\, d\theta, \qquad
    F(t) = \sum_k \zeta_\varepsilon(t - t_k)\, \nabla \bar V_k(w(t)),

the total :math:`E = T + D + W_{\rm sup}` is constant. For impulsive supervision the kinetic
energy jumps at :math:`t_k` by

.. math::

    \Delta T_k = \sum_i \Big( \frac{g_{ik}^2}{2\mu_i} - g_{ik}\, v_{ik}^- \Big),

and :math:`W_{\rm sup}` jumps by :math:`-\Delta T_k` (the limit of the mollified work as
:math:`\varepsilon \to 0`). The paper's eq. (8) puts the loss value :math:`\bar V_k` in place
of :math:`-\Delta T_k`; :func:`paper_energy` evaluates that expression so the two can be compared.
"""

from dataclasses import dataclass

import numpy as np

from ._validate import (as_float_array, check_masses, positive_scalar, returned_array,
                        short_repr)
from .dynamics import ImpulseTrajectory, MollifiedTrajectory

__all__ = ["Ledger", "kinetic", "kinetic_jumps", "ledger", "paper_energy"]


def __dir__():
    return list(__all__)


@dataclass(frozen=True)
class Ledger:
    r"""The energy ledger of a trajectory at times ``t``.

    Attributes
    ----------
    t : ndarray, shape (n,)
    T : ndarray, shape (n,)
        Kinetic energy :math:`\tfrac12 \sum_i \mu_i \dot w_i^2`.
    D : ndarray, shape (n,)
        Energy dissipated since t = 0, :math:`\int_0^t 2\beta T`.
    W_sup : ndarray, shape (n,)
        Work done against the supervision since t = 0.
    total : ndarray, shape (n,)
        :math:`T + D + W_{\rm sup}`, constant (equal to :math:`T(0)`) along an exact solution.
    """

    t: np.ndarray
    T: np.ndarray
    D: np.ndarray
    W_sup: np.ndarray
    total: np.ndarray

    @property
    def drift(self):
        """Largest relative departure of ``total`` from its first value.

        The departure is scaled by the largest of ``abs(T(0))`` and ``max(T)``.
        """
        scale = max(abs(self.total[0]), float(np.max(np.abs(self.T))), np.finfo(float).tiny)
        return float(np.max(np.abs(self.total - self.total[0])) / scale)


def kinetic(v, mu):
    r"""Kinetic energy :math:`T = \tfrac12 \sum_i \mu_i v_i^2` over the last axis (Frandina et al. 2013, eq. 1).

    Parameters
    ----------
    v : array_like, shape (..., m)
        Velocities.
    mu : float or array_like, shape (m,)
        Masses, > 0.

    Returns
    -------
    ndarray, shape (...)
        (a 0-d array for a single velocity vector).

    Raises
    ------
    ValueError
        If ``mu`` is not positive or does not match the last axis of ``v``.
    """
    v = np.atleast_1d(as_float_array(v, "v"))
    mu = check_masses(mu, v.shape[-1])
    return 0.5 * np.sum(mu * v ** 2, axis=-1)


def _check_same_mu(traj, mu):
    """``mu`` checked as masses and against those the trajectory was simulated with."""
    m = traj.w0.size
    mu = check_masses(mu, m)
    same = np.allclose(np.broadcast_to(mu, (m,)), np.broadcast_to(traj.mu, (m,)), rtol=1e-14,
                       atol=0)
    if not same:
        raise ValueError("`mu` must be the masses the trajectory was simulated with, "
                         f"{short_repr(traj.mu)}, got {short_repr(mu)}")
    return mu


def _check_same(traj, beta, mu):
    beta = positive_scalar(beta, "beta")
    mu = _check_same_mu(traj, mu)
    if not np.isclose(beta, traj.beta, rtol=1e-14, atol=0):
        raise ValueError(f"`beta` = {beta!r} differs from the trajectory's beta = {traj.beta!r}")
    return beta, mu


def kinetic_jumps(traj, *, mu):
    r"""The kinetic-energy jumps :math:`\Delta T_k = T(t_k^+) - T(t_k^-)` of an impulsive trajectory.

    .. math:: \Delta T_k = \sum_i \Big( \frac{g_{ik}^2}{2\mu_i} - g_{ik}\, v_{ik}^- \Big)

    Parameters
    ----------
    traj : ImpulseTrajectory
    mu : float or array_like, shape (m,), keyword-only

    Returns
    -------
    ndarray, shape (K,)

    Raises
    ------
    TypeError
        If ``traj`` is not an :class:`~lagprop.dynamics.ImpulseTrajectory`.
    ValueError
        If ``mu`` is not positive or differs from the masses the trajectory was simulated with
        (as for :func:`ledger`).
    """
    if not isinstance(traj, ImpulseTrajectory):
        raise TypeError(f"`traj` must be an ImpulseTrajectory, got {type(traj).__name__}")
    mu = _check_same_mu(traj, mu)
    return np.sum(traj.g ** 2 / (2 * mu) - traj.g * traj.v_before, axis=-1)


def _impulse_ledger(traj, beta, mu, t):
    if t is None:
        t = traj.times
    t = np.atleast_1d(as_float_array(t, "t"))
    _, v = traj.at(t)
    T = kinetic(v, mu)
    jumps = kinetic_jumps(traj, mu=mu)
    # D at the instants: free decay of T over each gap dissipates T_start (1 - e^{-2 beta gap})
    gaps = np.diff(np.concatenate([[0.0], traj.times]))
    T_start = np.concatenate([[kinetic(traj.v0, mu)], kinetic(traj.v_after, mu)[:-1]])
    D_at = np.cumsum(T_start * -np.expm1(-2 * beta * gaps))  # D(t_k), shape (K,)
    idx = np.searchsorted(traj.times, t, side="right") - 1
    before = idx < 0
    ic = np.where(before, 0, idx)
    t_ref = np.where(before, 0.0, traj.times[ic])
    D_ref = np.where(before, 0.0, D_at[ic])
    T_ref = np.where(before, kinetic(traj.v0, mu), kinetic(traj.v_after, mu)[ic])
    D = D_ref + T_ref * -np.expm1(-2 * beta * (t - t_ref))
    W = np.where(before, 0.0, -np.cumsum(jumps)[ic])
    return Ledger(t, T, D, W, T + D + W)


def ledger(traj, *, beta, mu, t=None):
    r"""The energy ledger :math:`T`, :math:`D`, :math:`W_{\rm sup}` and their sum along a trajectory.

    .. math::

        T + D + W_{\rm sup} = T(0), \qquad D(t) = \int_0^t 2\beta T\, d\theta, \qquad
        W_{\rm sup}(t) = \sum_k \int_0^t \zeta(\theta - t_k)\, \nabla \bar V_k(w) \cdot \dot w\, d\theta

    (Frandina et al. 2013, Section 4, corrected). For an :class:`~lagprop.dynamics.ImpulseTrajectory`
    everything is in closed form: :math:`T + D` is constant between impulses and
    :math:`W_{\rm sup}` drops by :math:`\Delta T_k` (:func:`kinetic_jumps`) at each one; values at
    :math:`t = t_k` are taken just after the impulse. For a
    :class:`~lagprop.dynamics.MollifiedTrajectory`, :math:`D` and :math:`W_{\rm sup}` are the
    states integrated alongside the motion.

    Parameters
    ----------
    traj : ImpulseTrajectory or MollifiedTrajectory
    beta : float, keyword-only
        Must equal the trajectory's damping.
    mu : float or array_like, shape (m,), keyword-only
        Must equal the trajectory's masses.
    t : array_like, shape (n,), keyword-only
        Times; default the trajectory's own (``traj.times`` for impulsive, ``traj.t`` for mollified).

    Returns
    -------
    Ledger

    Raises
    ------
    TypeError
        If ``traj`` is not one of the two trajectory kinds.
    ValueError
        If ``beta`` or ``mu`` is not positive or differs from the trajectory's, or ``t`` is out of range.
    """
    if not isinstance(traj, (ImpulseTrajectory, MollifiedTrajectory)):
        raise TypeError(f"`traj` must be an ImpulseTrajectory or MollifiedTrajectory, got {type(traj).__name__}")
    beta, mu = _check_same(traj, beta, mu)
    if isinstance(traj, ImpulseTrajectory):
        return _impulse_ledger(traj, beta, mu, t)
    if t is None:
        t, v, D, W = traj.t, traj.v, traj.D, traj.W_sup
    else:
        t = np.atleast_1d(as_float_array(t, "t"))
        _, v = traj.at(t)
        D, W = traj.energies_at(t)
    T = kinetic(v, mu)
    return Ledger(np.asarray(t), T, D, W, T + D + W)


def paper_energy(traj, losses, *, beta, mu, t=None):
    r"""The paper's eq. (8), :math:`E(t) = T(t) + D(t) + \sum_{t_k \le t} \bar V_k`, for comparison.

    Frandina et al. (2013, eq. 8) claim this is constant between supervisions and grows by the
    loss :math:`\bar V_k` at each one. The exact balance (:func:`ledger`) has
    :math:`-\Delta T_k` where eq. (8) has :math:`\bar V_k`; they differ in general.

    Parameters
    ----------
    traj : ImpulseTrajectory or MollifiedTrajectory
    losses : array_like, shape (K,), or callable ``(k, w) -> float``
        The loss values :math:`\bar V_k(w(t_k))`, or a function evaluated at :math:`w(t_k)`.
    beta, mu, t
        As in :func:`ledger`.

    Returns
    -------
    ndarray, shape (n,)
    """
    led = ledger(traj, beta=beta, mu=mu, t=t)
    if callable(losses):
        w_k = traj.w if isinstance(traj, ImpulseTrajectory) else traj.at(traj.times)[0]
        losses = np.array([returned_array(losses(k, w_k[k].copy()), "losses", (),
                                          where=f" at k = {k}")
                           for k in range(traj.times.size)])
    losses = as_float_array(losses, "losses", ndim=1)
    if losses.shape != traj.times.shape:
        raise ValueError(f"`losses` must have one value per instant ({traj.times.size}), got shape {losses.shape}")
    on = (led.t[:, None] >= traj.times[None, :]).astype(np.float64)
    return led.T + led.D + on @ losses
