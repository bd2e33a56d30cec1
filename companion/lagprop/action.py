r"""The cognitive action of Frandina et al. (2013), discretised on a uniform time grid.

A trajectory of the weights :math:`w(t) \in \mathbb R^m` on :math:`[t_0, t_0 + T]` has the action

.. math::

    S[w] = \int_{t_0}^{t_0+T} e^{\beta t}\Big(\tfrac12 \sum_i \mu_i \dot w_i^2 - V(t, w)\Big)\,dt ,

whose Euler-Lagrange equation is :math:`\mu_i(\ddot w_i + \beta \dot w_i) + \partial V/\partial w_i = 0`
(Frandina et al. 2013, eq. (2) and Theorem 1). On the grid :math:`t_j = t_0 + j h`,
:math:`h = T/n`, with positions ``w[j]`` :math:`= w_j`, the discrete action is

.. math::

    S_h = \sum_{j=0}^{n-1} e^{\beta t_{j+1/2}}\, \frac{h}{2}\sum_i \mu_i
          \Big(\frac{w_{j+1,i} - w_{j,i}}{h}\Big)^2
          - \sum_{j=0}^{n} c_j\, h\, e^{\beta t_j} V(t_j, w_j),
    \qquad c_0 = c_n = \tfrac12,\ c_j = 1 \text{ otherwise},

(midpoint weights for the kinetic term, the trapezoidal rule for the potential).

**Scaling convention.** The factor :math:`e^{\beta t}` overflows a double as soon as
:math:`\beta t > 709` (:math:`\beta = 10`, :math:`t = 100` gives :math:`e^{1000}`). Every quantity
here that carries the factor is returned multiplied by :math:`e^{-\beta t_n}`, :math:`t_n` the end
of the grid: the action as :class:`ScaledAction` ``(log_scale, scaled)`` with
:math:`S_h = e^{\text{log\_scale}}\cdot\text{scaled}` and ``log_scale`` :math:`= \beta t_n`, and its
gradient and Hessian in the same units. All factors that are then evaluated are
:math:`e^{\beta (t - t_n)} \le 1`, so nothing overflows (early terms may underflow to zero, which
is their correct relative size).

The potential is a :class:`Potential`: callables ``V(t, w)``, ``grad(t, w)``, ``hess(t, w)`` for a
single time and a single point ``w`` of shape ``(m,)``. :func:`quadratic_potential` and
:func:`stream_potential` (the mollified supervision stream
:math:`V(t, w) = \sum_k \zeta_\varepsilon(t - t_k)\,\bar V_k(w)`) build common ones.
"""

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import scipy.linalg

from ._validate import (as_float_array, check_masses, positive_int, positive_scalar, real_scalar,
                        returned_array, short_repr)
from .supervision import mollifier

__all__ = [
    "Potential",
    "quadratic_potential",
    "stream_potential",
    "ScaledAction",
    "time_grid",
    "discrete_action",
    "action_gradient",
    "el_residual",
    "action_hessian",
    "second_variation_spectrum",
    "quadratic_spectrum",
    "VariationalTrajectory",
    "taylor_start",
    "el_integrate",
    "el_solve",
    "damped_oscillator",
]


def __dir__():
    return list(__all__)


# ----------------------------------------------------------------------------------------------
# potentials


@dataclass(frozen=True)
class Potential:
    r"""A time-dependent potential :math:`V(t, w)` with its gradient and Hessian in ``w``.

    Attributes
    ----------
    V : callable
        ``V(t, w) -> float`` for a scalar time ``t`` and ``w`` of shape ``(m,)``.
    grad : callable
        ``grad(t, w) -> ndarray (m,)``, :math:`\nabla_w V(t, w)`.
    hess : callable or None
        ``hess(t, w) -> ndarray (m, m)``, :math:`\nabla_w^2 V(t, w)`; needed only for the second
        variation.
    """

    V: Callable
    grad: Callable
    hess: Optional[Callable] = None


def quadratic_potential(k, center=0.0):
    r"""The potential :math:`V(w) = \tfrac12 \sum_i k_i (w_i - c_i)^2` (no time dependence).

    Parameters
    ----------
    k : float or array_like (m,)
        Stiffness, >= 0 (a scalar applies to every coordinate).
    center : float or array_like (m,)
        The minimiser :math:`c`.

    Returns
    -------
    Potential

    Raises
    ------
    ValueError
        If ``k`` is negative or not finite, or ``center`` is not finite.
    """
    k = as_float_array(k, "k")
    if k.ndim > 1 or k.size == 0 or np.any(k < 0):
        raise ValueError("`k` must be a scalar or 1-D array of numbers >= 0, got "
                         f"{short_repr(k)}")
    c = as_float_array(center, "center")

    def V(t, w):
        return 0.5 * float(np.sum(k * (w - c) ** 2))

    def grad(t, w):
        return k * (w - c) * np.ones_like(w)

    def hess(t, w):
        return np.diag(k * np.ones_like(w))

    return Potential(V, grad, hess)


def stream_potential(Vbar, times, eps, grad=None, hess=None):
    r"""The potential of a timed supervision stream, spread in time by the mollifier.

    .. math::

        V(t, w) = \sum_{k} \zeta_\varepsilon(t - t_k)\, \bar V(k, w)

    (Frandina et al. 2013, Section 2). Only the examples with :math:`|t - t_k| < \varepsilon` are
    evaluated.

    Parameters
    ----------
    Vbar : callable
        ``Vbar(k, w) -> float``, the loss of example ``k`` (0-based) at weights ``w`` (m,).
    times : array_like (K,)
        Presentation instants :math:`t_k`, finite.
    eps : float
        Half-width of the mollifier, > 0.
    grad, hess : callable, optional
        ``grad(k, w) -> (m,)`` and ``hess(k, w) -> (m, m)``, derivatives of ``Vbar(k, .)``.

    Returns
    -------
    Potential

    Raises
    ------
    ValueError
        If ``times`` is not a finite 1-D array or ``eps`` is not positive.
    """
    times = as_float_array(times, "times", ndim=1)
    eps = positive_scalar(eps, "eps")

    def _sum(f, t, w, zero):
        zeta = mollifier(t - times, eps)
        out = zero
        for kk in np.flatnonzero(zeta):
            out = out + zeta[kk] * f(int(kk), w)
        return out

    def V(t, w):
        return float(_sum(Vbar, t, w, 0.0))

    gradV = None if grad is None else (lambda t, w: _sum(grad, t, w, np.zeros(np.shape(w))))
    hessV = None if hess is None else (lambda t, w: _sum(hess, t, w, np.zeros((np.size(w),) * 2)))
    return Potential(V, gradV, hessV)


# ----------------------------------------------------------------------------------------------
# the discrete action


@dataclass(frozen=True)
class ScaledAction:
    r"""An action stored as :math:`S = e^{\text{log\_scale}} \cdot \text{scaled}`.

    ``log_scale`` is :math:`\beta t_n` (the end of the grid) so that ``scaled`` is finite.
    ``value`` multiplies out (it may be ``inf`` when the action itself exceeds a double).
    """

    log_scale: float
    scaled: float

    @property
    def value(self):
        with np.errstate(over="ignore"):
            return float(self.scaled * np.exp(self.log_scale))


def time_grid(t_end, n, t0=0.0):
    """The uniform grid ``t0 + j * t_end / n``, j = 0..n, of shape (n+1,)."""
    t_end = positive_scalar(t_end, "t_end")
    n = positive_int(n, "n")
    return real_scalar(t0, "t0") + t_end * np.arange(n + 1) / n


def _setup(w, t_end, beta, mu, t0, min_points):
    w = as_float_array(w, "w")
    if w.ndim == 1:
        w = w[:, None]
    if w.ndim != 2 or w.shape[0] < min_points or w.shape[1] < 1:
        raise ValueError(
            f"`w` must have shape (n+1, m) with n+1 >= {min_points} grid points, got an array of "
            f"shape {w.shape}"
        )
    t_end = positive_scalar(t_end, "t_end")
    beta = positive_scalar(beta, "beta")
    mu = check_masses(mu, w.shape[1])
    t0 = as_float_array(t0, "t0")
    if t0.ndim != 0:
        raise ValueError(f"`t0` must be a scalar, got an array of shape {t0.shape}")
    n = w.shape[0] - 1
    t = float(t0) + t_end * np.arange(n + 1) / n
    return w, t, t_end / n, beta, mu


#: the largest beta h / 2 for which e^{beta h / 2} / h^2 stays far inside float64
_MAX_HALF_STEP_EXPONENT = 700.0


def _check_half_step(beta, h, t_end):
    """The residual and the weighted spectrum carry e^{beta h/2}: refuse grids where it overflows."""
    if beta * h / 2 > _MAX_HALF_STEP_EXPONENT:
        n_min = int(np.ceil(beta * t_end / (2 * _MAX_HALF_STEP_EXPONENT)))
        raise ValueError(f"`beta` * h / 2 = {beta * h / 2:.6g} exceeds {_MAX_HALF_STEP_EXPONENT:g} "
                         f"(h = t_end / n = {h:.6g}): e^(beta h / 2) overflows float64 on this grid; "
                         f"use n >= {n_min} steps")


def _check_potential(potential, need):
    if potential is None:
        return None
    if not isinstance(potential, Potential):
        raise TypeError(f"`potential` must be a lagprop.action.Potential or None, got {type(potential).__name__}")
    for attr in need:
        if getattr(potential, attr) is None:
            raise ValueError(f"`potential` must provide `{attr}` here, got None")
    return potential


def _eval(potential, attr, t, w, shape):
    value = getattr(potential, attr)(float(t), w.copy())
    return returned_array(value, f"potential.{attr}", shape, where=f" at t = {float(t):.6g}")


def discrete_action(w, *, t_end, beta, mu, potential=None, t0=0.0):
    r"""The discretised cognitive action, in scaled form.

    .. math::

        e^{-\beta t_n} S_h = \sum_{j=0}^{n-1} e^{\beta (t_{j+1/2} - t_n)} \frac{1}{2h}\sum_i \mu_i
        (w_{j+1,i} - w_{j,i})^2 - \sum_{j=0}^{n} c_j\, h\, e^{\beta (t_j - t_n)} V(t_j, w_j)

    (Frandina et al. 2013, eq. (2) with :math:`T` from eq. (1)).

    Parameters
    ----------
    w : array_like (n+1, m)
        Positions on the grid :math:`t_j = t_0 + j\,t_{end}/n` (a 1-D array is one weight, m = 1).
    t_end : float
        Length :math:`T` of the horizon, > 0.
    beta : float
        Dissipation :math:`\beta`, > 0.
    mu : float or array_like (m,)
        Masses, > 0.
    potential : Potential, optional
        :math:`V(t, w)`; ``None`` means :math:`V = 0`.
    t0 : float
        Start of the grid.

    Returns
    -------
    ScaledAction
        ``log_scale`` :math:`= \beta t_n` and ``scaled`` :math:`= e^{-\beta t_n} S_h`.

    Raises
    ------
    ValueError
        If ``w`` is not (n+1, m) with n >= 1 or not finite, or ``t_end``, ``beta``, ``mu`` are not
        positive, or the potential returns a bad value.
    """
    w, t, h, beta, mu = _setup(w, t_end, beta, mu, t0, 2)
    potential = _check_potential(potential, ("V",))
    tn = t[-1]
    tmid = 0.5 * (t[1:] + t[:-1])
    kin = np.exp(beta * (tmid - tn)) * np.sum(mu * np.diff(w, axis=0) ** 2, axis=1) / (2 * h)
    total = float(np.sum(kin))
    if potential is not None:
        c = np.ones(len(t))
        c[0] = c[-1] = 0.5
        Vs = np.array([_eval(potential, "V", tj, wj, ()) for tj, wj in zip(t, w)])
        total -= float(np.sum(c * h * np.exp(beta * (t - tn)) * Vs))
    return ScaledAction(float(beta * tn), total)


def action_gradient(w, *, t_end, beta, mu, potential=None, t0=0.0):
    r"""Gradient of the scaled discrete action with respect to the interior points.

    .. math::

        e^{-\beta t_n}\frac{\partial S_h}{\partial w_j}
        &= e^{-\beta t_n}\Big[\frac{\mu}{h}\big(e^{\beta t_{j-1/2}}(w_j - w_{j-1})
           - e^{\beta t_{j+1/2}}(w_{j+1} - w_j)\big) \\
        &\qquad - h\, e^{\beta t_j}\nabla V(t_j, w_j)\Big], \quad j = 1, \dots, n-1 .

    Setting it to zero is the discrete Euler-Lagrange equation (see :func:`el_residual`).

    Parameters
    ----------
    w, t_end, beta, mu, potential, t0
        As in :func:`discrete_action`; ``w`` needs n >= 2, ``potential`` needs ``grad``.

    Returns
    -------
    ndarray (n-1, m)
        Row ``j-1`` is the derivative with respect to ``w[j]``, in the units of
        ``discrete_action(...).scaled``.

    Raises
    ------
    ValueError
        As :func:`discrete_action`.
    """
    w, t, h, beta, mu = _setup(w, t_end, beta, mu, t0, 3)
    potential = _check_potential(potential, ("grad",))
    tn = t[-1]
    tmid = 0.5 * (t[1:] + t[:-1])
    flux = (np.exp(beta * (tmid - tn)))[:, None] * mu * np.diff(w, axis=0) / h  # (n, m)
    g = flux[:-1] - flux[1:]
    if potential is not None:
        m = w.shape[1]
        gV = np.array([_eval(potential, "grad", t[j], w[j], (m,)) for j in range(1, len(t) - 1)])
        g = g - h * np.exp(beta * (t[1:-1] - tn))[:, None] * gV
    return g


def el_residual(w, *, t_end, beta, mu, potential=None, t0=0.0):
    r"""The discrete Euler-Lagrange residual at the interior points, free of the factor :math:`e^{\beta t}`.

    .. math::

        r_j = -\frac{1}{h e^{\beta t_j}}\frac{\partial S_h}{\partial w_j}
            = \mu\,\frac{e^{\beta h/2}(w_{j+1} - w_j) - e^{-\beta h/2}(w_j - w_{j-1})}{h^2}
              + \nabla V(t_j, w_j),

    a second-order approximation of :math:`\mu(\ddot w + \beta \dot w) + \nabla V` (Frandina et al.
    2013, eq. (3)).

    Returns
    -------
    ndarray (n-1, m)

    Raises
    ------
    ValueError
        As :func:`action_gradient`.
    """
    w, t, h, beta, mu = _setup(w, t_end, beta, mu, t0, 3)
    _check_half_step(beta, h, t[-1] - t[0])
    potential = _check_potential(potential, ("grad",))
    d = np.diff(w, axis=0)
    r = mu * (np.exp(beta * h / 2) * d[1:] - np.exp(-beta * h / 2) * d[:-1]) / h**2
    if potential is not None:
        m = w.shape[1]
        r = r + np.array([_eval(potential, "grad", t[j], w[j], (m,)) for j in range(1, len(t) - 1)])
    return r


def _hess_blocks(w, t, potential):
    m = w.shape[1]
    if potential is None:
        return np.zeros((len(t) - 2, m, m))
    blocks = np.array([_eval(potential, "hess", t[j], w[j], (m, m)) for j in range(1, len(t) - 1)])
    return 0.5 * (blocks + np.transpose(blocks, (0, 2, 1)))


def action_hessian(w, *, t_end, beta, mu, potential=None, t0=0.0):
    r"""Second variation of the scaled discrete action: its Hessian in the interior points.

    .. math::

        e^{-\beta t_n} H, \quad
        H_{jj} &= \frac{e^{\beta t_{j-1/2}} + e^{\beta t_{j+1/2}}}{h}\,\mathrm{diag}(\mu)
                 - h\, e^{\beta t_j}\nabla^2 V(t_j, w_j), \\
        H_{j,j+1} &= H_{j+1,j} = -\frac{e^{\beta t_{j+1/2}}}{h}\,\mathrm{diag}(\mu).

    Parameters
    ----------
    w, t_end, beta, mu, potential, t0
        As in :func:`action_gradient`; ``potential`` needs ``hess``.

    Returns
    -------
    ndarray ((n-1) m, (n-1) m)
        Symmetric; the index of coordinate ``i`` of ``w[j]`` is ``(j - 1) * m + i``.

    Raises
    ------
    ValueError
        As :func:`discrete_action`.
    """
    w, t, h, beta, mu = _setup(w, t_end, beta, mu, t0, 3)
    potential = _check_potential(potential, ("hess",))
    n1, m = len(t) - 2, w.shape[1]
    tn = t[-1]
    e_mid = np.exp(beta * (0.5 * (t[1:] + t[:-1]) - tn))  # (n,)
    M = np.diag(mu * np.ones(m))
    H = np.zeros((n1 * m, n1 * m))
    blocks = _hess_blocks(w, t, potential)
    for a in range(n1):
        j = a + 1
        sl = slice(a * m, (a + 1) * m)
        H[sl, sl] = (e_mid[j - 1] + e_mid[j]) / h * M - h * np.exp(beta * (t[j] - tn)) * blocks[a]
        if a + 1 < n1:
            nx = slice((a + 1) * m, (a + 2) * m)
            H[sl, nx] = H[nx, sl] = -e_mid[j] / h * M
    return H


def second_variation_spectrum(w, *, t_end, beta, mu, potential=None, t0=0.0):
    r"""Eigenvalues of the second variation, in the weighted form that never overflows.

    With :math:`D = \mathrm{diag}(h e^{\beta t_j})` the matrix :math:`A = D^{-1/2} H D^{-1/2}` is
    congruent to the Hessian :math:`H` of :func:`action_hessian`, so it has the same numbers of
    positive, zero and negative eigenvalues (Sylvester's law of inertia); its blocks are

    .. math::

        A_{jj} = \frac{2\cosh(\beta h/2)}{h^2}\,\mathrm{diag}(\mu) - \nabla^2 V(t_j, w_j), \qquad
        A_{j,j\pm 1} = -\frac{1}{h^2}\,\mathrm{diag}(\mu),

    the discretisation of the operator :math:`\eta \mapsto -\mu(\ddot\eta + \beta\dot\eta) - \nabla^2 V\,\eta`
    with :math:`\eta = 0` at both ends.

    Returns
    -------
    ndarray ((n-1) m,)
        The eigenvalues of :math:`A`, ascending.

    Raises
    ------
    ValueError
        As :func:`action_hessian`.
    """
    w, t, h, beta, mu = _setup(w, t_end, beta, mu, t0, 3)
    _check_half_step(beta, h, t[-1] - t[0])
    potential = _check_potential(potential, ("hess",))
    n1, m = len(t) - 2, w.shape[1]
    blocks = _hess_blocks(w, t, potential)
    if m == 1:  # symmetric tridiagonal: LAPACK's dedicated solver
        mu1 = float(np.ravel(mu)[0])
        diag = 2 * mu1 * np.cosh(beta * h / 2) / h**2 - blocks[:, 0, 0]
        return scipy.linalg.eigvalsh_tridiagonal(diag, np.full(n1 - 1, -mu1 / h**2))
    M = np.diag(mu * np.ones(m))
    A = np.zeros((n1 * m, n1 * m))
    for a in range(n1):
        sl = slice(a * m, (a + 1) * m)
        A[sl, sl] = 2 * np.cosh(beta * h / 2) / h**2 * M - blocks[a]
        if a + 1 < n1:
            nx = slice((a + 1) * m, (a + 2) * m)
            A[sl, nx] = A[nx, sl] = -M / h**2
    return np.linalg.eigvalsh(A)


def quadratic_spectrum(k, *, mu, beta, t_end, n=None, count=20):
    r"""Closed-form spectrum of the second variation for :math:`V = \tfrac12 k w^2`, one weight.

    .. math::

        \lambda_p = \mu\Big(\frac{\beta^2}{4} + \frac{p^2\pi^2}{T^2}\Big) - k \quad (p = 1, 2, \dots)

    for the continuous problem, and with ``n`` given, for the grid of :func:`second_variation_spectrum`,

    .. math::

        \lambda_p^{(h)} = \frac{\mu}{h^2}\Big(2\cosh\frac{\beta h}{2} - 2\cos\frac{p\pi}{n}\Big) - k,
        \quad p = 1, \dots, n-1 .

    Returns the ``n - 1`` grid values, or the first ``count`` continuous ones when ``n`` is None,
    ascending.

    Raises
    ------
    ValueError
        A non-finite ``k``, non-positive ``mu``, ``beta`` or ``t_end``, ``n < 2``, or a grid so
        coarse that :math:`e^{\beta h/2}` overflows.
    """
    k = real_scalar(k, "k")
    mu = positive_scalar(mu, "mu")
    beta = positive_scalar(beta, "beta")
    t_end = positive_scalar(t_end, "t_end")
    if n is None:
        p = np.arange(1, positive_int(count, "count") + 1)
        return mu * (beta**2 / 4 + (p * np.pi / t_end) ** 2) - k
    n = positive_int(n, "n", minimum=2)
    h = t_end / n
    _check_half_step(beta, h, t_end)
    p = np.arange(1, n)
    return mu / h**2 * (2 * np.cosh(beta * h / 2) - 2 * np.cos(p * np.pi / n)) - k


# ----------------------------------------------------------------------------------------------
# the variational integrator


@dataclass(frozen=True)
class VariationalTrajectory:
    """Output of :func:`el_integrate`: grid times ``t`` (n+1,) and positions ``w`` (n+1, m)."""

    t: np.ndarray
    w: np.ndarray


def el_integrate(w0, w1, *, n, t_end, beta, mu, potential=None, t0=0.0):
    r"""Solve the discrete Euler-Lagrange equations forward from the first two points.

    Setting :func:`action_gradient` to zero at ``w[j]`` and solving for ``w[j+1]``:

    .. math::

        w_{j+1} = w_j + e^{-\beta h}(w_j - w_{j-1}) - \frac{h^2 e^{-\beta h/2}}{\mu}\,\nabla V(t_j, w_j),

    a two-step (variational) integrator of :math:`\mu(\ddot w + \beta\dot w) + \nabla V = 0`
    (Frandina et al. 2013, eq. (3)); its momentum factor :math:`e^{-\beta h}` never overflows.

    Parameters
    ----------
    w0, w1 : array_like (m,)
        Positions at :math:`t_0` and :math:`t_0 + h`.
    n : int
        Number of steps, >= 1; :math:`h = t_{end}/n`.
    t_end, beta, mu, potential, t0
        As in :func:`discrete_action` (``potential`` needs ``grad``).

    Returns
    -------
    VariationalTrajectory

    Raises
    ------
    ValueError
        On bad shapes, non-finite or non-positive parameters.
    """
    w0 = as_float_array(w0, "w0")
    w1 = as_float_array(w1, "w1")
    if w0.ndim == 0:
        w0 = w0[None]
    if w1.ndim == 0:
        w1 = w1[None]
    if w0.ndim != 1 or w1.shape != w0.shape:
        raise ValueError(f"`w0` and `w1` must be 1-D of the same shape, got {w0.shape} and {w1.shape}")
    n = positive_int(n, "n")
    _, t, h, beta, mu = _setup(np.zeros((n + 1, w0.size)), t_end, beta, mu, t0, 2)
    potential = _check_potential(potential, ("grad",))
    m = w0.size
    w = np.empty((n + 1, m))
    w[0], w[1] = w0, w1
    rho, c = np.exp(-beta * h), h**2 * np.exp(-beta * h / 2) / mu
    for j in range(1, n):
        step = w[j] + rho * (w[j] - w[j - 1])
        if potential is not None:
            step = step - c * _eval(potential, "grad", t[j], w[j], (m,))
        w[j + 1] = step
    return VariationalTrajectory(t, w)


def taylor_start(w0, v0, *, h, beta, mu, potential=None, t0=0.0):
    r"""Second point of the grid from Cauchy data, by Taylor expansion to second order.

    .. math::

        w_1 = w_0 + h v_0 + \frac{h^2}{2}\Big(-\beta v_0 - \frac{1}{\mu}\nabla V(t_0, w_0)\Big)

    (local error :math:`O(h^3)`, which keeps :func:`el_integrate` second order).
    """
    w0 = np.atleast_1d(as_float_array(w0, "w0"))
    v0 = np.atleast_1d(as_float_array(v0, "v0"))
    if w0.ndim != 1 or v0.shape != w0.shape:
        raise ValueError(f"`w0` and `v0` must be 1-D of the same shape, got {w0.shape} and {v0.shape}")
    h = positive_scalar(h, "h")
    beta = positive_scalar(beta, "beta")
    mu = check_masses(mu, w0.size)
    potential = _check_potential(potential, ("grad",))
    acc = -beta * v0
    if potential is not None:
        acc = acc - _eval(potential, "grad", float(t0), w0, w0.shape) / mu
    return w0 + h * v0 + 0.5 * h**2 * acc


def el_solve(w0, v0, *, n, t_end, beta, mu, potential=None, t0=0.0):
    """:func:`el_integrate` started from Cauchy data ``(w0, v0)`` with :func:`taylor_start`."""
    n = positive_int(n, "n")
    t_end = positive_scalar(t_end, "t_end")
    w1 = taylor_start(w0, v0, h=t_end / n, beta=beta, mu=mu, potential=potential, t0=t0)
    return el_integrate(w0, w1, n=n, t_end=t_end, beta=beta, mu=mu, potential=potential, t0=t0)


def damped_oscillator(t, w0, v0, *, k, mu, beta):
    r"""Exact solution of :math:`\mu(\ddot w + \beta\dot w) + k w = 0` with :math:`w(0) = w_0`, :math:`\dot w(0) = v_0`.

    .. math::

        w(t) = e^{-\beta t/2}\Big(w_0\, C(t) + \big(v_0 + \tfrac{\beta}{2} w_0\big) S(t)\Big),
        \quad \omega^2 = \frac{k}{\mu} - \frac{\beta^2}{4},

    with :math:`C = \cos\omega t`, :math:`S = \sin(\omega t)/\omega` (under-damped),
    :math:`\cosh`/:math:`\sinh` with :math:`|\omega|` (over-damped), :math:`C = 1, S = t` (critical).
    Scalars ``w0, v0, k, mu`` (use one call per weight).

    Returns
    -------
    ndarray, shape of ``t``
    """
    t = as_float_array(t, "t")
    w0, v0 = real_scalar(w0, "w0"), real_scalar(v0, "v0")
    k = real_scalar(k, "k", low=0.0)
    mu = positive_scalar(mu, "mu")
    beta = positive_scalar(beta, "beta")
    om2 = k / mu - beta**2 / 4
    if om2 > 0:
        om = np.sqrt(om2)
        C, S = np.cos(om * t), np.sin(om * t) / om
    elif om2 < 0:  # written with e^{(+-om - beta/2) t}, both exponents <= 0: no overflow
        om = np.sqrt(-om2)
        ep, em = np.exp((om - beta / 2) * t), np.exp((-om - beta / 2) * t)
        return w0 * (ep + em) / 2 + (v0 + beta * w0 / 2) * (ep - em) / (2 * om)
    else:
        C, S = np.ones_like(t), t
    return np.exp(-beta * t / 2) * (w0 * C + (v0 + beta * w0 / 2) * S)

