r"""Landscapes with spurious minima, and the experiment that tests the small-dissipation conjecture.

Frandina et al. (2013, Section 5) conjecture that learning with small dissipation (small
:math:`\beta`) escapes the traps of online gradient descent. By the exact form of their Theorem 3
(see :func:`lagprop.dynamics.heavy_ball`), the positions at the supervision instants follow the
heavy-ball recursion (Polyak 1964)

.. math::

    w_{k+1} = w_k - \eta (1 - \rho)\, g_k + \rho\, (w_k - w_{k-1}), \qquad
    \rho = e^{-\beta \Delta}, \quad \eta = \frac{1}{\beta \mu},

so small :math:`\beta` is momentum :math:`\rho` near one at a fixed effective step
:math:`\eta` (the step on a slowly varying gradient, :math:`\eta(1-\rho)/(1-\rho)`). This module
runs that recursion for many seeds at once (seeds are a batch axis) on two landscapes:

* :func:`tilted_double_well`: a 1-D double well presented as a stream of patterns,
  :math:`\bar V_p(w) = \tfrac14 (w^2 - 1)^2 + a_p w`, whose mean tilt puts the global minimum on
  the left and a spurious one on the right;
* the 2-2-1 logistic network on XOR (:func:`xor_patterns`, :func:`xor_grad`), whose error
  surface has the plateaus and saddles in which online backprop is known to get stuck.

:func:`sweep_double_well` and :func:`sweep_xor` return a :class:`Sweep` with success counts,
Wilson intervals (:func:`wilson_interval`, Wilson 1927) and times to converge.
"""

from dataclasses import dataclass

import numpy as np

from ._validate import as_float_array, positive_int, positive_scalar

__all__ = [
    "wilson_interval",
    "matched_heavy_ball",
    "cognitive_parameters",
    "DoubleWellStream",
    "tilted_double_well",
    "xor_patterns",
    "xor_forward",
    "xor_grad",
    "xor_cost",
    "Sweep",
    "sweep_double_well",
    "sweep_xor",
    "phase_volume_factor",
]


def wilson_interval(successes, n, z=1.96):
    r"""Wilson's score interval for a binomial proportion (Wilson 1927).

    .. math::

        \frac{\hat p + \frac{z^2}{2n} \pm z \sqrt{\frac{\hat p (1 - \hat p)}{n} + \frac{z^2}{4n^2}}}
             {1 + \frac{z^2}{n}}, \qquad \hat p = \frac{s}{n}.

    Parameters
    ----------
    successes : int or array_like of int
        Number of successes :math:`s`, ``0 <= s <= n``.
    n : int
        Number of trials, >= 1.
    z : float
        Normal quantile (1.96 for a 95 % interval).

    Returns
    -------
    lo, hi : float or ndarray
        The interval's ends, shaped like ``successes``.

    Raises
    ------
    ValueError
        If ``n < 1``, ``z <= 0`` or a count lies outside ``[0, n]``.
    """
    n = positive_int(n, "n")
    z = positive_scalar(z, "z")
    s = as_float_array(successes, "successes")
    if np.any(s < 0) or np.any(s > n) or np.any(s != np.round(s)):
        raise ValueError(f"`successes` must be integers in [0, n] = [0, {n}], got {successes!r}")
    p = s / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    lo, hi = np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
    if np.ndim(lo) == 0:
        return float(lo), float(hi)
    return lo, hi


def _check_rho(rho, name="rho"):
    rho = as_float_array(rho, name)
    if np.any(rho < 0) or np.any(rho >= 1):
        raise ValueError(f"`{name}` must lie in [0, 1), got {rho!r}")
    return rho


def matched_heavy_ball(eta, rho):
    r"""Step and momentum of heavy ball at a matched effective step :math:`\eta`.

    .. math:: s = \eta (1 - \rho), \qquad m = \rho, \qquad \frac{s}{1 - m} = \eta.

    ``rho = 0`` is plain online gradient descent with rate :math:`\eta`. ``rho`` may be an array;
    the result is shaped like it.

    Raises
    ------
    ValueError
        If ``eta <= 0`` or ``rho`` is outside ``[0, 1)``.
    """
    eta = positive_scalar(eta, "eta")
    rho = _check_rho(rho)
    return eta * (1 - rho), rho


def cognitive_parameters(eta, rho, spacing=1.0):
    r"""The damping and mass of the cognitive dynamics that give momentum ``rho`` and step ``eta``.

    .. math:: \beta = -\frac{\ln \rho}{\Delta}, \qquad \mu = \frac{1}{\beta \eta}

    (inverting :func:`lagprop.dynamics.heavy_ball`). Requires ``0 < rho < 1``.

    Returns
    -------
    beta, mu : float
    """
    eta = positive_scalar(eta, "eta")
    spacing = positive_scalar(spacing, "spacing")
    rho = float(_check_rho(rho))
    if rho == 0:
        raise ValueError("`rho` must be > 0 here: rho = 0 is the limit beta -> infinity")
    beta = -np.log(rho) / spacing
    return beta, 1.0 / (beta * eta)


# ----------------------------------------------------------------------------------------------
# landscape 1: the tilted double well as a stream


@dataclass(frozen=True)
class DoubleWellStream:
    r"""A stream of 1-D patterns :math:`\bar V_p(w) = \tfrac14 (w^2-1)^2 + a_p w`.

    Attributes
    ----------
    a : ndarray, shape (P,)
        The pattern tilts; their mean is the tilt of the average potential.
    w_global, w_spurious, w_barrier : float
        Stationary points of the average potential: global minimum (left), spurious minimum
        (right) and the maximum between them.
    """

    a: np.ndarray
    w_global: float
    w_spurious: float
    w_barrier: float

    @property
    def tilt(self):
        """Mean tilt :math:`\\bar a`."""
        return float(self.a.mean())

    def potential(self, w):
        r"""The average potential :math:`\tfrac14 (w^2-1)^2 + \bar a w`."""
        w = np.asarray(w, dtype=np.float64)
        return 0.25 * (w * w - 1) ** 2 + self.tilt * w

    def grad(self, p, w):
        r"""Gradient of pattern ``p``: :math:`w^3 - w + a_p` (``p`` an int or int array like ``w``)."""
        w = np.asarray(w, dtype=np.float64)
        return w ** 3 - w + self.a[p]


def tilted_double_well(tilt=0.25, *, n_patterns=20, spread=1.0, seed=0):
    r"""A tilted double well presented as ``n_patterns`` patterns with tilts :math:`a_p`.

    .. math::

        \bar V_p(w) = \tfrac14 (w^2 - 1)^2 + a_p w, \qquad
        \frac1P \sum_p \bar V_p(w) = \tfrac14 (w^2 - 1)^2 + \bar a\, w,

    with :math:`a_p = \bar a + \sigma z_p`, the :math:`z_p` standard normal, centred and scaled to
    unit sample variance (so the mean tilt is exactly ``tilt``). For ``0 < tilt < 2/(3 sqrt 3)``
    the average potential has a global minimum at :math:`w < 0` and a spurious one at :math:`w > 0`.

    Raises
    ------
    ValueError
        If ``tilt`` is not in ``(0, 2/(3 sqrt 3))`` or ``spread < 0``.
    """
    tilt = positive_scalar(tilt, "tilt")
    if tilt >= 2 / (3 * np.sqrt(3)):
        raise ValueError(f"`tilt` must be < 2/(3 sqrt 3) = 0.3849 for two minima, got {tilt!r}")
    n_patterns = positive_int(n_patterns, "n_patterns", minimum=2)
    spread = float(spread)
    if not np.isfinite(spread) or spread < 0:
        raise ValueError(f"`spread` must be a finite number >= 0, got {spread!r}")
    z = np.random.default_rng(seed).standard_normal(n_patterns)
    z = (z - z.mean()) / z.std()
    roots = np.sort(np.roots([1.0, 0.0, -1.0, tilt]).real)
    return DoubleWellStream(tilt + spread * z, float(roots[0]), float(roots[2]), float(roots[1]))


# ----------------------------------------------------------------------------------------------
# landscape 2: the 2-2-1 logistic network on XOR, parameters flat in a batch


def xor_patterns():
    """The four XOR patterns: inputs (4, 2) and targets (4,)."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([0.0, 1.0, 1.0, 0.0])


def _sig(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def xor_forward(theta, x):
    r"""Hidden and output activity of a batch of 2-2-1 logistic networks.

    .. math:: h = \sigma(W_1 x + b_1), \qquad y = \sigma(W_2 h + b_2).

    Parameters
    ----------
    theta : ndarray, shape (B, 9)
        Flat parameters ``[W1 (row-major), b1, W2, b2]`` (``lagprop.mlp.flatten`` order).
    x : ndarray, shape (B, 2)
        One input per network.

    Returns
    -------
    h : ndarray, shape (B, 2)
    y : ndarray, shape (B,)
    """
    th = theta.T                                   # rows: W11 W12 W21 W22 b1 b2 V1 V2 c
    x1, x2 = x[:, 0], x[:, 1]
    h1 = _sig(th[0] * x1 + th[1] * x2 + th[4])
    h2 = _sig(th[2] * x1 + th[3] * x2 + th[5])
    return np.column_stack([h1, h2]), _sig(th[6] * h1 + th[7] * h2 + th[8])


def xor_grad(theta, x, d):
    r"""Gradient of one pattern's cost :math:`(d - y)^2` for a batch of networks (le Cun's costate pass).

    .. math::

        Y_2 = 2 (d - y)\, y (1 - y), \qquad Y_1 = (W_2^\top Y_2) \odot h \odot (1 - h), \qquad
        \nabla_{W_k} = -Y_k\, x_{k-1}^\top, \quad \nabla_{b_k} = -Y_k.

    Shapes: ``theta`` (B, 9), ``x`` (B, 2), ``d`` (B,); returns (B, 9).
    """
    th = theta.T
    x1, x2 = x[:, 0], x[:, 1]
    h1 = _sig(th[0] * x1 + th[1] * x2 + th[4])
    h2 = _sig(th[2] * x1 + th[3] * x2 + th[5])
    y = _sig(th[6] * h1 + th[7] * h2 + th[8])
    Y2 = 2.0 * (d - y) * y * (1.0 - y)
    Y11 = Y2 * th[6] * h1 * (1.0 - h1)
    Y12 = Y2 * th[7] * h2 * (1.0 - h2)
    return -np.column_stack([Y11 * x1, Y11 * x2, Y12 * x1, Y12 * x2, Y11, Y12, Y2 * h1, Y2 * h2, Y2])


def xor_cost(theta):
    r"""The total cost :math:`C = \sum_{p=1}^4 (d_p - y_p)^2` of each network in the batch, shape (B,)."""
    X, D = xor_patterns()
    B = theta.shape[0]
    C = np.zeros(B)
    for x, d in zip(X, D):
        _, y = xor_forward(theta, np.broadcast_to(x, (B, 2)))
        C += (d - y) ** 2
    return C


# ----------------------------------------------------------------------------------------------
# the experiment


@dataclass(frozen=True)
class Sweep:
    r"""Outcome of a sweep of the momentum at a matched effective step.

    Attributes
    ----------
    rho : ndarray, shape (R,)
        Momenta :math:`\rho = e^{-\beta\Delta}`.
    eta : float
        The effective step (the same for every ``rho``).
    n_seeds : int
    success : ndarray of bool, shape (R, S)
        Whether each run ended converged to the global minimum.
    time : ndarray, shape (R, S)
        Time to converge (the first step, or epoch, after which the run stays converged); NaN
        for failures.
    final : ndarray, shape (R, S)
        The final position (double well) or final total cost (XOR).
    unit : str
        What ``time`` counts: "steps" or "epochs".
    """

    rho: np.ndarray
    eta: float
    n_seeds: int
    success: np.ndarray
    time: np.ndarray
    final: np.ndarray
    unit: str

    @property
    def successes(self):
        """Number of successful seeds per ``rho``, shape (R,)."""
        return self.success.sum(axis=1)

    @property
    def rate(self):
        """Success rate per ``rho``, shape (R,)."""
        return self.successes / self.n_seeds

    @property
    def interval(self):
        """95 % Wilson interval per ``rho``: ``(lo, hi)``, each shape (R,)."""
        return wilson_interval(self.successes, self.n_seeds)

    def table(self):
        """A plain-text table: momentum, successes, rate, 95 % Wilson interval, median time [quartiles]."""
        lo, hi = self.interval
        q = self.time_quantiles()
        rows = [f"{'rho':>6} {'success':>9} {'rate':>6} {'95% Wilson':>15}   median {self.unit} [IQR]"]
        for r, rho in enumerate(self.rho):
            t = "-" if np.isnan(q[1, r]) else f"{q[1, r]:.0f} [{q[0, r]:.0f}, {q[2, r]:.0f}]"
            rows.append(f"{rho:6.2f} {self.successes[r]:4d}/{self.n_seeds:<4d} {self.rate[r]:6.3f} "
                        f"[{lo[r]:.3f}, {hi[r]:.3f}]   {t}")
        return "\n".join(rows)

    def time_quantiles(self, q=(0.25, 0.5, 0.75)):
        """Quantiles of the time to converge over the successful seeds, shape (len(q), R) (NaN if none)."""
        out = np.full((len(q), self.rho.size), np.nan)
        for r in range(self.rho.size):
            t = self.time[r][self.success[r]]
            if t.size:
                out[:, r] = np.quantile(t, q)
        return out


def _setup(rhos, eta, n_seeds, n_epochs):
    rhos = np.atleast_1d(_check_rho(rhos, "rhos"))
    if rhos.ndim != 1:
        raise ValueError(f"`rhos` must be a 1-D array of momenta, got shape {rhos.shape}")
    eta = positive_scalar(eta, "eta")
    n_seeds = positive_int(n_seeds, "n_seeds")
    n_epochs = positive_int(n_epochs, "n_epochs")
    step, mom = matched_heavy_ball(eta, rhos)
    # batch index b = r * n_seeds + s
    return rhos, eta, n_seeds, n_epochs, np.repeat(step, n_seeds), np.repeat(mom, n_seeds)


def sweep_double_well(stream, rhos, *, eta=0.1, n_seeds=200, n_epochs=60, tol=0.1, w0_range=None,
                      seed=0):
    r"""Heavy ball on the double-well stream for every momentum in ``rhos`` and ``n_seeds`` seeds.

    .. math::

        w_{k+1} = w_k - \eta (1 - \rho)\, \big(w_k^3 - w_k + a_{\pi(k)}\big) + \rho\,(w_k - w_{k-1}),
        \qquad w_{-1} = w_0,

    with the patterns presented in a fresh random order :math:`\pi` every epoch (per seed) and
    :math:`w_0` uniform in ``w0_range`` (default: the basin of the spurious minimum, from the
    barrier to 2). Seed ``s`` uses the same start and the same orders for every ``rho``. A run
    succeeds if it ends within ``tol`` of the global minimum; its time to converge is the first
    step after which it stays there.

    Returns
    -------
    Sweep
        ``unit == "steps"``; ``final`` holds the last position.
    """
    if not isinstance(stream, DoubleWellStream):
        raise TypeError(f"`stream` must be a DoubleWellStream, got {type(stream).__name__}")
    rhos, eta, S, E, step, mom = _setup(rhos, eta, n_seeds, n_epochs)
    tol = positive_scalar(tol, "tol")
    lo, hi = (stream.w_barrier, 2.0) if w0_range is None else map(float, w0_range)
    rng = np.random.default_rng(seed)
    w = np.tile(rng.uniform(lo, hi, S), rhos.size)
    w_prev = w.copy()
    P = stream.a.size
    last_out = np.zeros(w.size)
    k = 0
    for _ in range(E):
        order = np.tile(np.argsort(rng.random((S, P)), axis=1), (rhos.size, 1))
        for j in range(P):
            g = w ** 3 - w + stream.a[order[:, j]]
            w, w_prev = w - step * g + mom * (w - w_prev), w
            k += 1
            last_out = np.where(np.abs(w - stream.w_global) >= tol, k, last_out)
    ok = np.abs(w - stream.w_global) < tol
    time = np.where(ok, last_out, np.nan)
    R = rhos.size
    return Sweep(rhos, eta, S, ok.reshape(R, S), time.reshape(R, S), w.reshape(R, S), "steps")


def sweep_xor(rhos, *, eta=2.0, n_seeds=200, n_epochs=1000, tol=0.1, init_scale=1.0, seed=0):
    r"""Online heavy ball on the 2-2-1 logistic XOR network for every momentum and seed.

    .. math::

        \theta_{k+1} = \theta_k - \eta (1 - \rho)\, \nabla_\theta (d_{\pi(k)} - y_{\pi(k)})^2
        + \rho\, (\theta_k - \theta_{k-1}),

    the four patterns in a fresh random order every epoch (per seed), initial parameters uniform
    in ``[-init_scale, init_scale]`` (the same for every ``rho``). A run succeeds if its total
    cost :math:`C = \sum_p (d_p - y_p)^2` at the end is below ``tol``; its time to converge is the
    first epoch after which :math:`C` stays below ``tol``.

    Returns
    -------
    Sweep
        ``unit == "epochs"``; ``final`` holds the last total cost.
    """
    rhos, eta, S, E, step, mom = _setup(rhos, eta, n_seeds, n_epochs)
    tol = positive_scalar(tol, "tol")
    init_scale = positive_scalar(init_scale, "init_scale")
    rng = np.random.default_rng(seed)
    theta = np.tile(rng.uniform(-init_scale, init_scale, (S, 9)), (rhos.size, 1))
    prev = theta.copy()
    X, D = xor_patterns()
    st, mo = step[:, None], mom[:, None]
    last_out = np.zeros(theta.shape[0])
    for e in range(1, E + 1):
        order = np.tile(np.argsort(rng.random((S, 4)), axis=1), (rhos.size, 1))
        for j in range(4):
            p = order[:, j]
            g = xor_grad(theta, X[p], D[p])
            theta, prev = theta - st * g + mo * (theta - prev), theta
        C = xor_cost(theta)
        last_out = np.where(~(C < tol), e, last_out)
    ok = C < tol
    time = np.where(ok, last_out, np.nan)
    R = rhos.size
    return Sweep(rhos, eta, S, ok.reshape(R, S), time.reshape(R, S), C.reshape(R, S), "epochs")


def phase_volume_factor(grad, w, w_prev, step, momentum, *, h=1e-6):
    r"""Determinant of the Jacobian of one heavy-ball step in the phase variables :math:`(w_k, w_{k-1})`.

    .. math::

        \Phi(w_k, w_{k-1}) = \big(w_k - s\, \nabla V(w_k) + \rho (w_k - w_{k-1}),\ w_k\big), \qquad
        \det D\Phi = \det \begin{pmatrix} (1 + \rho) I - s H & -\rho I \\ I & 0 \end{pmatrix} = \rho^m,

    whatever the Hessian :math:`H`: each step shrinks phase-space volume by the same factor as the
    exact damped flow over one spacing, :math:`e^{-m \beta \Delta}` (the conformal symplectic
    property, Franca et al. 2020). Computed here by central differences of the map.

    Parameters
    ----------
    grad : callable ``w -> ndarray`` (m,)
    w, w_prev : array_like, shape (m,)
    step, momentum : float
    h : float
        Difference step.

    Returns
    -------
    float
    """
    w = as_float_array(w, "w", ndim=1)
    w_prev = as_float_array(w_prev, "w_prev", ndim=1)
    m = w.size
    z0 = np.concatenate([w, w_prev])

    def phi(z):
        a, b = z[:m], z[m:]
        return np.concatenate([a - step * np.asarray(grad(a)) + momentum * (a - b), a])

    J = np.empty((2 * m, 2 * m))
    for j in range(2 * m):
        e = np.zeros(2 * m)
        e[j] = h
        J[:, j] = (phi(z0 + e) - phi(z0 - e)) / (2 * h)
    return float(np.linalg.det(J))
