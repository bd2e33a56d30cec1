r"""Supervision in time: the mollifier that spreads one supervised example over a short window.

Frandina et al. (2013) present the supervised pair :math:`(x_k, y_k)` at the instant :math:`t_k`
and smooth the Dirac impulse :math:`\delta(t - t_k)` with the mollifier

.. math::

    \zeta_\varepsilon(\tau) = Z_\varepsilon \exp\!\Big(1 - \frac{\varepsilon^2}{\varepsilon^2 - \tau^2}\Big)
    \quad (|\tau| < \varepsilon), \qquad \zeta_\varepsilon(\tau) = 0 \quad (|\tau| \ge \varepsilon),

with :math:`Z_\varepsilon = 1/(\varepsilon I_1)`,
:math:`I_1 = \int_{-1}^{1} \exp(1 - 1/(1 - s^2))\, ds`, so that it has unit mass.

A *timed stream* (:class:`Stream`) holds the supervised pairs with their instants
:math:`0 \le t_1 < t_2 < \dots < t_K`. Python indexes them from zero: row ``k`` of a stream is the
paper's pair :math:`\kappa = k + 1`.
"""

from dataclasses import dataclass

import numpy as np

from ._validate import as_float_array, positive_scalar, real_scalar, seed_or_generator

__all__ = [
    "I1",
    "EPS_MIN",
    "mollifier",
    "mollifier_normaliser",
    "Stream",
    "check_times",
    "check_windows",
    "stream",
    "even_stream",
    "jittered_stream",
]


def __dir__():
    return list(__all__)

#: :math:`\int_{-1}^{1} \exp(1 - 1/(1-s^2))\,ds`, computed with scipy.integrate.quad (checked in tests).
I1 = 1.2069003224378765




def _smallest_eps():
    e = (1.0 / np.finfo(np.float64).max) / I1  # subnormal, so rounded: walk up to the first
    with np.errstate(over="ignore"):          # whose normaliser is finite
        while not np.isfinite(1.0 / (e * I1)):
            e = np.nextafter(e, np.inf)
        while np.isfinite(1.0 / (np.nextafter(e, 0.0) * I1)):
            e = np.nextafter(e, 0.0)
    return float(e)


#: The smallest half-width whose normaliser :math:`1/(\varepsilon I_1)` is a finite float64
#: (about 4.6e-309).
EPS_MIN = _smallest_eps()


def _check_eps(eps):
    eps = positive_scalar(eps, "eps")
    if eps < EPS_MIN:
        raise ValueError(f"`eps` must be >= {EPS_MIN:.3g} (below it the mollifier's "
                         f"height 1/(eps I1) overflows float64), got {eps!r}")
    return eps


def mollifier_normaliser(eps):
    r"""The constant :math:`Z_\varepsilon = 1/(\varepsilon I_1)` that gives the mollifier unit mass.

    Parameters
    ----------
    eps : float
        Half-width of the support, at least :data:`EPS_MIN` (about 4.6e-309).

    Returns
    -------
    float
        :math:`Z_\varepsilon`, finite.

    Raises
    ------
    ValueError
        If ``eps`` is not a finite number >= :data:`EPS_MIN`.
    TypeError
        If ``eps`` is not a real number.
    """
    return 1.0 / (_check_eps(eps) * I1)


def mollifier(tau, eps):
    r"""The unit-mass mollifier :math:`\zeta_\varepsilon(\tau)` (Frandina et al. 2013, Section 2).

    .. math::

        \zeta_\varepsilon(\tau) = \frac{1}{\varepsilon I_1}
        \exp\!\Big(1 - \frac{\varepsilon^2}{\varepsilon^2 - \tau^2}\Big)\,\mathbb 1(|\tau| < \varepsilon)

    It is infinitely differentiable, vanishes outside :math:`(-\varepsilon, \varepsilon)`,
    integrates to one, and tends weakly to the Dirac delta as :math:`\varepsilon \to 0`.

    Parameters
    ----------
    tau : float or array_like
        Time offsets from the supervision instant.
    eps : float
        Half-width of the support, > 0.

    Returns
    -------
    ndarray
        :math:`\zeta_\varepsilon(\tau)`, the shape of ``tau`` (a 0-d array for scalar input).

    Raises
    ------
    ValueError
        If ``eps`` is not a finite number >= :data:`EPS_MIN` or ``tau`` is not finite.
    TypeError
        If ``tau`` is not real (None, complex, text).
    """
    eps = _check_eps(eps)
    tau = as_float_array(tau, "tau")
    inside = np.abs(tau) < eps  # tested before squaring: no overflow for huge offsets
    s2 = (tau[inside] / eps) ** 2
    out = np.zeros_like(tau)
    out[inside] = np.exp(1.0 - 1.0 / (1.0 - s2)) / (eps * I1)
    return out


def check_times(times, name="times"):
    r"""Return ``times`` as a 1-D float64 array after checking :math:`0 \le t_1 < t_2 < \dots`.

    Raises
    ------
    ValueError
        If ``times`` is not a non-empty 1-D finite array, has a negative entry, or is not strictly
        increasing (the message names the first offending index).
    """
    t = as_float_array(times, name, ndim=1)
    if t.size == 0:
        raise ValueError(f"`{name}` must hold at least one supervision instant, got an empty array")
    if t[0] < 0:
        raise ValueError(f"`{name}` must be >= 0 (the motion starts at t = 0), got {name}[0] = {t[0]!r}")
    bad = np.flatnonzero(np.diff(t) <= 0)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"`{name}` must be strictly increasing, got {name}[{i}] = {t[i]!r} "
                         f">= {name}[{i + 1}] = {t[i + 1]!r}")
    return t


def check_windows(times, eps, name="times"):
    r"""Check that the mollifier windows :math:`(t_k - \varepsilon, t_k + \varepsilon)` fit.

    They must not overlap (:math:`2\varepsilon \le t_{k+1} - t_k`) and the first must start at or
    after :math:`t = 0` (:math:`t_1 \ge \varepsilon`). Returns ``(times, eps)`` validated.

    Raises
    ------
    ValueError
        If ``eps`` is not positive, ``times`` is invalid (see :func:`check_times`), two windows
        overlap, or the first window starts before t = 0.
    """
    t = check_times(times, name)
    eps = _check_eps(eps)
    if t.size > 1:
        gaps = np.diff(t)
        i = int(np.argmin(gaps))
        if 2 * eps > gaps[i]:
            raise ValueError(f"mollifier windows overlap: 2 * `eps` = {2 * eps!r} exceeds the spacing "
                             f"{name}[{i + 1}] - {name}[{i}] = {gaps[i]!r}; take eps <= {gaps[i] / 2!r}")
    if t[0] < eps:
        raise ValueError(f"the first mollifier window starts before t = 0: {name}[0] = {t[0]!r} < `eps` "
                         f"= {eps!r}; present the first pair at t >= eps")
    return t, eps


@dataclass(frozen=True)
class Stream:
    r"""A timed stream of supervised pairs :math:`(t_k, x_k, y_k)`, :math:`k = 0, \dots, K-1`.

    Construct it with :func:`stream`, :func:`even_stream` or :func:`jittered_stream`; the fields
    are validated and converted to float64 on construction.

    Attributes
    ----------
    times : ndarray, shape (K,)
        Instants, strictly increasing and >= 0.
    inputs : ndarray, shape ``(K, n_in)``
        One input pattern per instant.
    targets : ndarray, shape ``(K, n_out)``
        One target per instant.
    """

    times: np.ndarray
    inputs: np.ndarray
    targets: np.ndarray

    def __post_init__(self):
        t = check_times(self.times, "times")
        x = as_float_array(self.inputs, "inputs", ndim=2, allow_1d=False) if np.ndim(self.inputs) == 2 \
            else as_float_array(self.inputs, "inputs", ndim=1)[:, None]
        y = as_float_array(self.targets, "targets", ndim=2) if np.ndim(self.targets) == 2 \
            else as_float_array(self.targets, "targets", ndim=1)[:, None]
        for name, arr in (("inputs", x), ("targets", y)):
            if arr.shape[0] != t.size:
                raise ValueError(f"`{name}` must have one row per instant ({t.size}), got shape {arr.shape}")
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "inputs", x)
        object.__setattr__(self, "targets", y)

    def __len__(self):
        return self.times.size

    @property
    def spacings(self):
        r"""The gaps :math:`\Delta_k = t_{k+1} - t_k`, shape (K-1,)."""
        return np.diff(self.times)


def _count(inputs):
    x = as_float_array(inputs, "inputs")
    if x.ndim not in (1, 2) or x.shape[0] == 0:
        raise ValueError(f"`inputs` must be a non-empty (K,) or (K, n_in) array, got shape {x.shape}")
    return x.shape[0]


def stream(times, inputs, targets):
    """A :class:`Stream` from explicit instants, inputs ``(K, n_in)`` and targets ``(K, n_out)``.

    1-D ``inputs`` or ``targets`` are read as one scalar per instant. Raises ``ValueError`` as
    :func:`check_times` does, or when the row counts disagree.
    """
    return Stream(times, inputs, targets)


def even_stream(inputs, targets, *, spacing, start=None):
    r"""Pairs presented at evenly spaced instants :math:`t_k = \text{start} + k\,\Delta`.

    Parameters
    ----------
    inputs, targets : array_like, shape ``(K, n_in)``, ``(K, n_out)``
        The pairs, in presentation order.
    spacing : float, keyword-only
        :math:`\Delta > 0`.
    start : float, keyword-only
        :math:`t_0`; defaults to ``spacing`` (the first pair arrives one spacing after t = 0).
    """
    spacing = positive_scalar(spacing, "spacing")
    start = spacing if start is None else real_scalar(start, "start", low=0.0)
    K = _count(inputs)
    return Stream(start + spacing * np.arange(K), inputs, targets)


def jittered_stream(inputs, targets, *, spacing, jitter=0.25, seed=0, start=None):
    r"""Pairs at jittered instants :math:`t_k = \text{start} + \Delta\,(k + j\,u_k)`, :math:`u_k \sim U(-1, 1)`.

    With ``0 <= jitter < 0.5`` the instants stay strictly increasing, with gaps between
    :math:`(1 - 2j)\Delta` and :math:`(1 + 2j)\Delta`.

    Parameters
    ----------
    spacing : float, keyword-only
        Mean spacing :math:`\Delta > 0`.
    jitter : float, keyword-only
        :math:`j \in [0, 0.5)`, as a fraction of the spacing.
    seed : int, keyword-only
        Seed of ``numpy.random.default_rng``.
    start : float, keyword-only
        Defaults to ``spacing``.

    Raises
    ------
    ValueError
        If ``jitter`` is outside [0, 0.5) or ``spacing`` is not positive.
    """
    spacing = positive_scalar(spacing, "spacing")
    jitter = real_scalar(jitter, "jitter", low=0.0, high=0.5, high_open=True)
    start = spacing if start is None else real_scalar(start, "start", low=0.0)
    K = _count(inputs)
    u = seed_or_generator(seed).uniform(-1.0, 1.0, size=K)
    return Stream(start + spacing * (np.arange(K) + jitter * u), inputs, targets)

