r"""Landscapes with traps, and the experiment that tests the small-dissipation conjecture.

Frandina et al. (2013, Section 5) conjecture that learning with small dissipation (small
:math:`\beta`) escapes the traps of online gradient descent. By the exact form of their Theorem 3
(:func:`lagprop.dynamics.heavy_ball`), the positions at the supervision instants follow the
heavy-ball recursion (Polyak 1964)

.. math::

    w_{k+1} = w_k - \eta (1 - \rho)\, g_k + \rho\, (w_k - w_{k-1}), \qquad
    \rho = e^{-\beta \Delta}, \quad \eta = \frac{1}{\beta \mu}.

"Small :math:`\beta`" has two readings. At a fixed effective rate :math:`\eta` (the *matched*
reading, :func:`lagprop.dynamics.matched_heavy_ball`) the masses grow as :math:`\beta \to 0`; at
fixed masses (:func:`lagprop.dynamics.fixed_mass_heavy_ball`) the effective rate grows as well.
This module runs the recursion for many seeds at once (seeds are a batch axis) on two landscapes:

* :func:`tilted_double_well`: a 1-D double well presented as a stream of patterns,
  :math:`\bar V_p(w) = \tfrac14 (w^2 - 1)^2 + a_p w`, whose mean tilt puts the global minimum on
  the left and a spurious one on the right;
* the 2-2-1 logistic network on XOR (:func:`xor_grad`, :func:`xor_cost`, the patterns of
  :func:`lagprop.datasets.xor`), whose error surface has the plateaus in which online backprop
  stalls.

:func:`sweep_double_well` and :func:`sweep_xor` return a :class:`MomentumSweep` holding, per seed,
the outcome and whether the start had more potential energy than the barrier. The same seeds
serve every momentum, so the comparison is paired: :func:`mcnemar` (exact, for two momenta),
:func:`cochran_q` (all momenta at once) and :func:`holm` (the correction for many comparisons).
:func:`heavy_ball_stable` and :func:`stationary_variance` are the analytic baseline on a quadratic.
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats

from . import activations, datasets
from ._validate import (as_float_array, index, positive_int, positive_scalar, real_scalar,
                        short_repr)
from .dynamics import fixed_mass_heavy_ball, matched_heavy_ball

__all__ = [
    "wilson_interval",
    "mcnemar",
    "cochran_q",
    "holm",
    "heavy_ball_stable",
    "stationary_variance",
    "DoubleWellStream",
    "tilted_double_well",
    "xor_forward",
    "xor_grad",
    "xor_cost",
    "PairedTests",
    "MomentumSweep",
    "sweep_double_well",
    "sweep_xor",
]


def __dir__():
    return list(__all__)


def wilson_interval(successes, n, z=1.96):
    r"""Wilson's score interval for a binomial proportion (Wilson 1927).

    .. math::

        \frac{\hat p + \frac{z^2}{2n} \pm z \sqrt{\frac{\hat p (1 - \hat p)}{n}
        + \frac{z^2}{4n^2}}}{1 + \frac{z^2}{n}}, \qquad \hat p = \frac{s}{n}.

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
        raise ValueError(f"`successes` must be integers in [0, n] = [0, {n}], got "
                         f"{short_repr(successes)}")
    p = s / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    lo, hi = np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
    if np.ndim(lo) == 0:
        return float(lo), float(hi)
    return lo, hi


# ----------------------------------------------------------------------------------------------
# paired tests: the same seeds serve every momentum


def _outcomes(x, name, ndim):
    arr = np.asarray(x) if x is not None else None
    if arr is None or arr.dtype != bool:
        raise TypeError(f"`{name}` must be a boolean array of outcomes, got "
                        f"{type(x).__name__ if arr is None else arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"`{name}` must be {ndim}-D, got shape {arr.shape}")
    return arr


def mcnemar(a, b):
    r"""McNemar's exact test for paired binary outcomes (McNemar 1947).

    With :math:`n_{10}` pairs where only ``a`` succeeds and :math:`n_{01}` where only ``b``
    does, under the null hypothesis of equal success probabilities the discordant pairs split as
    a fair coin, so the two-sided p-value is that of the exact binomial test,

    .. math::

        p = \min\Big(1,\ 2 \sum_{j=0}^{\min(n_{10}, n_{01})} \binom{n}{j} 2^{-n}\Big), \qquad
        n = n_{10} + n_{01}

    (``scipy.stats.binomtest``; ``p = 1`` when there is no discordant pair).

    Parameters
    ----------
    a, b : array_like of bool, shape (S,)
        Outcomes of the same ``S`` seeds under two settings.

    Returns
    -------
    n10, n01 : int
        Pairs where only ``a``, only ``b`` succeeds.
    p : float
        Two-sided p-value.

    Raises
    ------
    TypeError
        If an argument is not boolean.
    ValueError
        If they are not 1-D of the same length.
    """
    a, b = _outcomes(a, "a", 1), _outcomes(b, "b", 1)
    if a.shape != b.shape:
        raise ValueError(f"`b` must have the shape of `a`, {a.shape}, got {b.shape}")
    n10, n01 = int(np.sum(a & ~b)), int(np.sum(~a & b))
    if n10 + n01 == 0:
        return n10, n01, 1.0
    return n10, n01, float(stats.binomtest(min(n10, n01), n10 + n01, 0.5).pvalue)


def cochran_q(success):
    r"""Cochran's Q test that ``k`` paired settings share one success probability (Cochran 1950).

    With :math:`C_j` the successes of setting :math:`j`, :math:`R_i` those of seed :math:`i` and
    :math:`N` their total,

    .. math::

        Q = (k - 1)\, \frac{k \sum_j C_j^2 - N^2}{k N - \sum_i R_i^2},

    approximately :math:`\chi^2_{k-1}` under the null hypothesis. For ``k = 2`` it is McNemar's
    :math:`(n_{10} - n_{01})^2 / (n_{10} + n_{01})`. Seeds with the same outcome everywhere carry
    no information and cancel; if every seed is such, ``Q = 0`` and ``p = 1``.

    Parameters
    ----------
    success : array_like of bool, shape (k, S)
        Row ``j``: the outcomes of the ``S`` seeds under setting ``j``; ``k >= 2``.

    Returns
    -------
    q, p : float

    Raises
    ------
    TypeError
        If ``success`` is not boolean.
    ValueError
        If it is not 2-D with at least two rows.
    """
    x = _outcomes(success, "success", 2)
    k = x.shape[0]
    if k < 2:
        raise ValueError(f"`success` must have at least two rows (settings), got shape {x.shape}")
    C, R = x.sum(axis=1).astype(float), x.sum(axis=0).astype(float)
    N = C.sum()
    den = k * N - np.sum(R * R)
    if den == 0:
        return 0.0, 1.0
    q = float((k - 1) * (k * np.sum(C * C) - N * N) / den)
    return q, float(stats.chi2.sf(q, k - 1))


def holm(pvalues):
    r"""Holm's step-down adjustment of p-values for multiple comparisons (Holm 1979).

    With the :math:`m` p-values sorted, :math:`p_{(1)} \le \dots \le p_{(m)}`,

    .. math:: \tilde p_{(i)} = \max_{j \le i}\ \min\big(1,\ (m - j + 1)\, p_{(j)}\big),

    returned in the original order; rejecting where :math:`\tilde p < \alpha` controls the
    family-wise error rate at :math:`\alpha`, uniformly more powerful than Bonferroni's
    :math:`m p`.

    Parameters
    ----------
    pvalues : array_like, shape (m,)
        Values in ``[0, 1]``.

    Returns
    -------
    ndarray, shape (m,)

    Raises
    ------
    ValueError
        If ``pvalues`` is not 1-D or holds a value outside ``[0, 1]``.
    """
    p = as_float_array(pvalues, "pvalues", ndim=1)
    if np.any(p < 0) or np.any(p > 1):
        raise ValueError(f"`pvalues` must lie in [0, 1], got {short_repr(pvalues)}")
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


# ----------------------------------------------------------------------------------------------
# the analytic baseline: heavy ball on a quadratic


def heavy_ball_stable(step, momentum, lam):
    r"""Whether heavy ball is stable on the quadratic :math:`V(w) = \tfrac12 \lambda w^2`.

    The map :math:`w_{k+1} = (1 + \rho - s\lambda) w_k - \rho w_{k-1}` has characteristic
    polynomial :math:`z^2 - (1 + \rho - s\lambda) z + \rho`; both roots lie inside the unit circle
    exactly when (Jury's conditions)

    .. math:: 0 \le \rho < 1 \quad\text{and}\quad 0 < s \lambda < 2 (1 + \rho),

    which at the matched step :math:`s = \eta (1 - \rho)` reads
    :math:`0 < \eta (1 - \rho) \lambda < 2 (1 + \rho)`.

    Parameters
    ----------
    step, momentum, lam : float or array_like (broadcast together)
        :math:`s > 0`, :math:`\rho \in [0, 1)`, the curvature :math:`\lambda` (any real).

    Returns
    -------
    bool or ndarray of bool

    Raises
    ------
    ValueError
        If ``step`` is not positive or ``momentum`` is outside ``[0, 1)``.
    """
    s = as_float_array(step, "step")
    rho = as_float_array(momentum, "momentum")
    lam = as_float_array(lam, "lam")
    if np.any(s <= 0):
        raise ValueError(f"`step` must be > 0, got {short_repr(step)}")
    if np.any(rho < 0) or np.any(rho >= 1):
        raise ValueError(f"`momentum` must lie in [0, 1), got {short_repr(momentum)}")
    out = (s * lam > 0) & (s * lam < 2 * (1 + rho))
    return bool(out) if out.ndim == 0 else out


def stationary_variance(step, momentum, lam, sigma):
    r"""Stationary variance of heavy ball on :math:`\tfrac12\lambda w^2` under white gradient noise.

    With gradients :math:`g_k = \lambda w_k + \sigma \xi_k`, :math:`\xi_k` independent with mean 0
    and variance 1, the positions form a stable AR(2) process whose stationary variance is

    .. math::

        \operatorname{Var} w = \frac{(1 + \rho)\, s\, \sigma^2}
                                    {(1 - \rho)\, \lambda\, \big(2 (1 + \rho) - s \lambda\big)} .

    At the matched step :math:`s = \eta(1 - \rho)` this is
    :math:`(1+\rho)\eta\sigma^2 / (\lambda (2(1+\rho) - \eta(1-\rho)\lambda))`, which decreases
    from :math:`\eta\sigma^2/(\lambda(2 - \eta\lambda))` at :math:`\rho = 0` to
    :math:`\eta\sigma^2/(2\lambda)` as :math:`\rho \to 1`; at fixed masses it grows like
    :math:`1/(1-\rho)`.

    Parameters
    ----------
    step, momentum, lam, sigma : float
        :math:`s > 0`, :math:`\rho \in [0, 1)`, :math:`\lambda > 0`, :math:`\sigma \ge 0`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If an argument is out of range or the map is unstable
        (:func:`heavy_ball_stable` is false): then there is no stationary variance.
    """
    s = positive_scalar(step, "step")
    rho = real_scalar(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    lam = positive_scalar(lam, "lam")
    sigma = real_scalar(sigma, "sigma", low=0.0)
    if not s * lam < 2 * (1 + rho):
        raise ValueError(f"unstable: `step` * `lam` = {short_repr(s * lam)} must be < "
                         "2 (1 + `momentum`) = "
                         f"{2 * (1 + rho)!r}; there is no stationary variance")
    return (1 + rho) * s * sigma ** 2 / ((1 - rho) * lam * (2 * (1 + rho) - s * lam))


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

    @property
    def barrier(self):
        """Potential energy at the barrier, :math:`\\bar V(w_b)` of the average potential."""
        return float(self.potential(self.w_barrier))

    def potential(self, w):
        r"""The average potential :math:`\tfrac14 (w^2-1)^2 + \bar a w`."""
        w = as_float_array(w, "w")
        return 0.25 * (w * w - 1) ** 2 + self.tilt * w

    def grad(self, p, w):
        r"""Gradient of pattern ``p``: :math:`w^3 - w + a_p`.

        Parameters
        ----------
        p : int or array of int
            The pattern, ``0 <= p < P`` (``P = a.size``); an array has the shape of ``w``.
        w : float or array_like
            The weight(s), finite.

        Returns
        -------
        ndarray
            The shape of ``w`` (a 0-d array for a scalar).

        Raises
        ------
        ValueError
            ``p`` out of range or of another shape than ``w``; ``w`` not finite.
        TypeError
            ``p`` not an integer, ``w`` not real.
        """
        n = self.a.size
        context = f" (the stream has {n} patterns)"
        p = index(p, "p", n, what="a pattern index", context=context)
        w = as_float_array(w, "w")
        if np.ndim(p) and np.shape(p) != w.shape:
            raise ValueError(f"`p` as an array must have the shape of `w`, {w.shape}, "
                             f"got {np.shape(p)}")
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
    spread = real_scalar(spread, "spread", low=0.0)
    z = np.random.default_rng(positive_int(seed, "seed", minimum=0)).standard_normal(n_patterns)
    z = (z - z.mean()) / z.std()
    roots = np.sort(np.roots([1.0, 0.0, -1.0, tilt]).real)
    return DoubleWellStream(tilt + spread * z, float(roots[0]), float(roots[2]), float(roots[1]))


# ----------------------------------------------------------------------------------------------
# landscape 2: the 2-2-1 logistic network on XOR, parameters flat in a batch

_SIGMOID = activations.get("sigmoid").f


def _xor_units(theta, x):
    th = theta.T                                   # rows: W11 W12 W21 W22 b1 b2 V1 V2 c
    x1, x2 = x[:, 0], x[:, 1]
    h1 = _SIGMOID(th[0] * x1 + th[1] * x2 + th[4])
    h2 = _SIGMOID(th[2] * x1 + th[3] * x2 + th[5])
    return th, x1, x2, h1, h2, _SIGMOID(th[6] * h1 + th[7] * h2 + th[8])


def _check_theta(theta):
    """A batch of B >= 1 flat 2-2-1 networks, shape (B, 9); one network (9,) gets a hint."""
    arr = as_float_array(theta, "theta")
    if arr.ndim != 2 or arr.shape[1] != 9 or arr.shape[0] == 0:
        hint = "; for one network pass `theta[None, :]`" if arr.shape == (9,) else ""
        raise ValueError("`theta` must have shape (B, 9), B >= 1 networks of 9 "
                         f"parameters, got shape {arr.shape}{hint}")
    return arr


def _check_batch(theta, x, d=None):
    theta = _check_theta(theta)
    B = theta.shape[0]
    x = as_float_array(x, "x")
    if x.shape != (B, 2):
        raise ValueError(f"`x` must have shape (B, 2) = ({B}, 2), one input per "
                         f"network, got shape {x.shape}")
    if d is None:
        return theta, x
    d = as_float_array(d, "d")
    if d.shape != (B,):
        raise ValueError(f"`d` must have shape (B,) = ({B},), one target per network, "
                         f"got shape {d.shape}")
    return theta, x, d


def xor_forward(theta, x):
    r"""Hidden and output activity of a batch of 2-2-1 logistic networks.

    .. math:: h = \sigma(W_1 x + b_1), \qquad y = \sigma(W_2 h + b_2).

    Parameters
    ----------
    theta : array_like, shape (B, 9)
        Flat parameters ``[W1 (row-major), b1, W2, b2]`` (``lagprop.mlp.flatten`` order).
    x : array_like, shape (B, 2)
        One input per network.

    Returns
    -------
    h : ndarray, shape (B, 2)
    y : ndarray, shape (B,)

    Raises
    ------
    ValueError
        ``theta`` not of shape (B, 9) with B >= 1, ``x`` not (B, 2), or non-finite values.
    TypeError
        Arguments that are not arrays of real numbers.
    """
    theta, x = _check_batch(theta, x)
    _, _, _, h1, h2, y = _xor_units(theta, x)
    return np.column_stack([h1, h2]), y


def _xor_grad(theta, x, d):
    th, x1, x2, h1, h2, y = _xor_units(theta, x)
    Y2 = 2.0 * (d - y) * y * (1.0 - y)
    Y11 = Y2 * th[6] * h1 * (1.0 - h1)
    Y12 = Y2 * th[7] * h2 * (1.0 - h2)
    return -np.column_stack([Y11 * x1, Y11 * x2, Y12 * x1, Y12 * x2, Y11, Y12,
                             Y2 * h1, Y2 * h2, Y2])


def xor_grad(theta, x, d):
    r"""Gradient of one pattern's cost :math:`(d - y)^2` for a batch of networks (le Cun's costate pass).

    .. math::

        Y_2 = 2 (d - y)\, y (1 - y), \qquad Y_1 = (W_2^\top Y_2) \odot h \odot (1 - h),

    .. math::

        \nabla_{W_k} = -Y_k\, x_{k-1}^\top, \qquad \nabla_{b_k} = -Y_k.

    Shapes: ``theta`` (B, 9), ``x`` (B, 2), ``d`` (B,); returns (B, 9).

    Raises
    ------
    ValueError
        Other shapes, or non-finite values.
    TypeError
        Arguments that are not arrays of real numbers.
    """
    return _xor_grad(*_check_batch(theta, x, d))


def _xor_cost(theta):
    X, D = datasets.xor()
    C = np.zeros(theta.shape[0])
    for x, d in zip(X, D[:, 0]):
        C += (d - _xor_units(theta, np.broadcast_to(x, (theta.shape[0], 2)))[-1]) ** 2
    return C


def xor_cost(theta):
    r"""The total cost :math:`C = \sum_{p=1}^4 (d_p - y_p)^2` of each network, shape (B,).

    The patterns are those of :func:`lagprop.datasets.xor`; ``theta`` has shape (B, 9).

    Raises
    ------
    ValueError
        ``theta`` not of shape (B, 9) with B >= 1, or non-finite values.
    TypeError
        Arguments that are not arrays of real numbers.
    """
    return _xor_cost(_check_theta(theta))


# ----------------------------------------------------------------------------------------------
# the experiment


@dataclass(frozen=True)
class PairedTests:
    r"""Paired comparison of every momentum of a :class:`MomentumSweep` with a reference one.

    Attributes
    ----------
    reference : int
        Index of the reference momentum.
    rho : ndarray, shape (R,)
    n10, n01 : ndarray of int, shape (R,)
        Seeds that succeed only at the reference, only at ``rho`` (0 at the reference).
    p : ndarray, shape (R,)
        Exact McNemar p-values (:func:`mcnemar`); NaN at the reference.
    p_holm : ndarray, shape (R,)
        The same after Holm's correction over the ``R - 1`` comparisons (:func:`holm`).
    q, q_p : float
        Cochran's Q over all ``R`` momenta and its p-value (:func:`cochran_q`).
    """

    reference: int
    rho: np.ndarray
    n10: np.ndarray
    n01: np.ndarray
    p: np.ndarray
    p_holm: np.ndarray
    q: float
    q_p: float

    def table(self):
        """Plain text, one row per momentum, at most 88 characters wide.

        Columns: the momentum; ``n10``, the seeds that succeed at the reference only;
        ``n01``, those that succeed at this momentum only; the exact McNemar p-value; and
        the Holm-corrected one.
        """
        ref = self.rho[self.reference]
        rows = [f"{'rho':>5} {'n10':>8} {'n01':>8} {'exact p':>10} {'Holm p':>8}"]
        for r, rho in enumerate(self.rho):
            if r == self.reference:
                rows.append(f"{rho:5.2f} {'(reference rho = ' + f'{ref:g})':>37}")
                continue
            rows.append(f"{rho:5.2f} {self.n10[r]:8d} {self.n01[r]:8d} {self.p[r]:10.2g} "
                        f"{self.p_holm[r]:8.2g}")
        rows.append(f"Cochran's Q = {self.q:.1f} on {self.rho.size - 1} df, p = {self.q_p:.2g}")
        return "\n".join(rows)


@dataclass(frozen=True)
class MomentumSweep:
    r"""Outcome of a sweep of the momentum :math:`\rho` over the same seeds.

    Attributes
    ----------
    rho : ndarray, shape (R,)
        Momenta :math:`\rho = e^{-\beta\Delta}`.
    step : ndarray, shape (R,)
        The heavy-ball step :math:`s` used at each momentum.
    eta : ndarray, shape (R,)
        The effective rate :math:`\eta = s / (1 - \rho) = 1/(\beta\mu)`: constant in the matched
        reading, growing as :math:`\rho \to 1` in the fixed-mass one.
    reading : str
        ``"matched"`` (fixed effective rate) or ``"fixed mass"``.
    n_seeds : int
    success : ndarray of bool, shape (R, S)
        Whether each run ended converged to the global minimum.
    time : ndarray, shape (R, S)
        Time to converge: the last step (or epoch) at whose end the run was outside the
        convergence region (0 if it never was), so from the next one on it stays converged;
        NaN for failures.
    final : ndarray, shape (R, S)
        The final position (double well) or final total cost (XOR).
    diverged : ndarray of bool, shape (R, S)
        Runs stopped because they left every bounded region (counted as failures).
    start_energy : ndarray, shape (S,)
        Potential energy of each seed's start (at rest): :math:`\bar V(w_0)` of the average
        potential, or the total cost :math:`C(\theta_0)` on XOR.
    barrier : float
        The potential energy of the barrier (double well) or of the stall plateau (XOR).
    unit : str
        What ``time`` counts: "steps" or "epochs".
    budget : int
        The number of steps or epochs each run was given.
    """

    rho: np.ndarray
    step: np.ndarray
    eta: np.ndarray
    reading: str
    n_seeds: int
    success: np.ndarray
    time: np.ndarray
    final: np.ndarray
    diverged: np.ndarray
    start_energy: np.ndarray
    barrier: float
    unit: str
    budget: int

    @property
    def above(self):
        """Seeds whose start has more potential energy than the barrier, shape (S,)."""
        return self.start_energy > self.barrier

    @property
    def successes(self):
        """Number of successful seeds per ``rho``, shape (R,)."""
        return self.success.sum(axis=1)

    @property
    def rate(self):
        """Success rate per ``rho``, shape (R,) (NaN for an empty subset)."""
        return self.successes / self.n_seeds if self.n_seeds else np.full(self.rho.size, np.nan)

    @property
    def interval(self):
        """95 % Wilson interval per ``rho``: ``(lo, hi)``, each shape (R,)."""
        return wilson_interval(self.successes, self.n_seeds)

    def subset(self, seeds):
        """The same sweep restricted to some seeds (a boolean mask or indices over the S seeds)."""
        idx = np.arange(self.n_seeds)[np.asarray(seeds)]
        return MomentumSweep(self.rho, self.step, self.eta, self.reading, int(idx.size),
                             self.success[:, idx], self.time[:, idx], self.final[:, idx],
                             self.diverged[:, idx], self.start_energy[idx], self.barrier, self.unit,
                             self.budget)

    def settled(self, fraction=0.1):
        """Successes that stayed converged over the last ``fraction`` of the budget, shape (R,).

        A run that ends near the global minimum but was still outside the convergence region
        late in the run is wandering between basins rather than settled.
        """
        fraction = real_scalar(fraction, "fraction", low=0.0, high=1.0)
        return np.sum(self.success & (self.time <= (1 - fraction) * self.budget), axis=1)

    def paired(self, reference=0):
        """McNemar against momentum number ``reference``, Holm-corrected, and Cochran's Q."""
        R = self.rho.size
        reference = positive_int(reference, "reference", minimum=0)
        if reference >= R:
            raise ValueError(f"`reference` must be an index below {R}, got {reference}")
        n10, n01, p = np.zeros(R, int), np.zeros(R, int), np.full(R, np.nan)
        for r in range(R):
            if r != reference:
                n10[r], n01[r], p[r] = mcnemar(self.success[reference], self.success[r])
        others = np.arange(R) != reference
        p_holm = np.full(R, np.nan)
        p_holm[others] = holm(p[others])
        q, q_p = cochran_q(self.success)
        return PairedTests(reference, self.rho, n10, n01, p, p_holm, q, q_p)

    def table(self):
        """A plain-text table: momentum, rate, successes, 95 % Wilson interval, median time [IQR].

        At most 88 characters wide.
        """
        lo, hi = self.interval
        q = self.time_quantiles()
        rows = [f"{'rho':>5} {'eta':>6} {'success':>9} {'rate':>5} {'95% Wilson':>14}  "
                f"median {self.unit} [IQR]"]
        for r, rho in enumerate(self.rho):
            t = "-" if np.isnan(q[1, r]) else f"{q[1, r]:.0f} [{q[0, r]:.0f}, {q[2, r]:.0f}]"
            div = int(self.diverged[r].sum())
            t += f"  ({div} diverged)" if div else ""
            rows.append(f"{rho:5.2f} {self.eta[r]:6.3g} {self.successes[r]:4d}/{self.n_seeds:<4d} "
                        f"{self.rate[r]:5.3f} [{lo[r]:.3f}, {hi[r]:.3f}]  {t}")
        return "\n".join(rows)

    def time_quantiles(self, q=(0.25, 0.5, 0.75)):
        """Quantiles of the time to converge over the successful seeds, shape (len(q), R) (NaN if none)."""
        out = np.full((len(q), self.rho.size), np.nan)
        for r in range(self.rho.size):
            t = self.time[r][self.success[r]]
            if t.size:
                out[:, r] = np.quantile(t, q)
        return out


def _setup(rhos, eta, mu, spacing, n_seeds, n_epochs):
    rhos = np.atleast_1d(as_float_array(rhos, "rhos"))
    if rhos.ndim != 1:
        raise ValueError(f"`rhos` must be a 1-D array of momenta, got shape {rhos.shape}")
    if (eta is None) == (mu is None):
        raise ValueError("give exactly one of `eta` (matched reading: fixed effective rate) and "
                         f"`mu` (fixed-mass reading), got eta={short_repr(eta)}, "
                         f"mu={short_repr(mu)}")
    try:
        if eta is not None:
            step, mom = matched_heavy_ball(eta, rhos)
            reading = "matched"
        else:
            step, mom = fixed_mass_heavy_ball(mu, rhos, spacing)
            reading = "fixed mass"
    except ValueError as exc:
        raise ValueError(str(exc).replace("`rho`", "`rhos`")) from exc
    n_seeds = positive_int(n_seeds, "n_seeds")
    n_epochs = positive_int(n_epochs, "n_epochs")
    # batch index b = r * n_seeds + s
    return (rhos, step, step / (1 - mom), reading, n_seeds, n_epochs,
            np.repeat(step, n_seeds), np.repeat(mom, n_seeds))


def sweep_double_well(stream, rhos, *, eta=None, mu=None, spacing=1.0, n_seeds=200, n_epochs=60,
                      tol=0.1, w0_range=None, seed=0):
    r"""Heavy ball on the double-well stream for every momentum in ``rhos`` and ``n_seeds`` seeds.

    .. math::

        w_{k+1} = w_k - s(\rho)\, \big(w_k^3 - w_k + a_{\pi(k)}\big) + \rho\,(w_k - w_{k-1}),
        \qquad w_{-1} = w_0,

    with :math:`s(\rho) = \eta(1-\rho)` if ``eta`` is given (matched reading) or
    :math:`s(\rho) = \Delta(1-\rho)/(\mu(-\ln\rho))` if ``mu`` is given (fixed-mass reading,
    ``rhos`` in ``(0, 1)``). The patterns come in a fresh random order :math:`\pi` every epoch (per
    seed) and :math:`w_0` is uniform in ``w0_range`` (default: the basin of the spurious minimum,
    from the barrier to 2). Seed ``s`` uses the same start and the same orders for every ``rho``
    and either reading. A run succeeds if it ends within ``tol`` of the global minimum; a run
    with :math:`|w| > 10^3` is stopped as diverged.

    Returns
    -------
    MomentumSweep
        ``unit == "steps"``; ``final`` holds the last position; ``start_energy`` is
        :math:`\bar V(w_0)` and ``barrier`` is :math:`\bar V(w_b)`.
    """
    if not isinstance(stream, DoubleWellStream):
        raise TypeError(f"`stream` must be a DoubleWellStream, got {type(stream).__name__}")
    rhos, steps, etas, reading, S, E, step, mom = _setup(rhos, eta, mu, spacing, n_seeds, n_epochs)
    tol = positive_scalar(tol, "tol")
    if w0_range is None:
        lo, hi = stream.w_barrier, 2.0
    else:
        lo, hi = (real_scalar(v, "w0_range") for v in w0_range)
    rng = np.random.default_rng(positive_int(seed, "seed", minimum=0))
    w0 = rng.uniform(lo, hi, S)
    w = np.tile(w0, rhos.size)
    w_prev = w.copy()
    P = stream.a.size
    last_out = np.zeros(w.size)
    dead = np.zeros(w.size, bool)
    k = 0
    for _ in range(E):
        order = np.tile(np.argsort(rng.random((S, P)), axis=1), (rhos.size, 1))
        for j in range(P):
            g = w ** 3 - w + stream.a[order[:, j]]
            new = w - step * g + mom * (w - w_prev)
            dead |= ~(np.abs(new) < 1e3)
            w, w_prev = np.where(dead, w, new), np.where(dead, w_prev, w)
            k += 1
            last_out = np.where(np.abs(w - stream.w_global) >= tol, k, last_out)
    ok = (np.abs(w - stream.w_global) < tol) & ~dead
    time = np.where(ok, last_out, np.nan)
    R = rhos.size
    return MomentumSweep(rhos, steps, etas, reading, S, ok.reshape(R, S), time.reshape(R, S),
                         w.reshape(R, S), dead.reshape(R, S), stream.potential(w0),
                         stream.barrier, "steps", E * P)


def sweep_xor(rhos, *, eta=None, mu=None, spacing=1.0, n_seeds=200, n_epochs=1000, tol=0.1,
              init_scale=1.0, barrier=0.5, seed=0):
    r"""Online heavy ball on the 2-2-1 logistic XOR network for every momentum and seed.

    .. math::

        \theta_{k+1} = \theta_k - s(\rho)\, \nabla_\theta (d_{\pi(k)} - y_{\pi(k)})^2
        + \rho\, (\theta_k - \theta_{k-1}),

    with :math:`s(\rho)` as in :func:`sweep_double_well` (``eta``: matched reading; ``mu``:
    fixed-mass reading), the four patterns of :func:`lagprop.datasets.xor` in a fresh random order
    every epoch (per seed), initial parameters uniform in ``[-init_scale, init_scale]`` (the same
    for every ``rho``). A run succeeds if its total cost :math:`C = \sum_p (d_p - y_p)^2` at the
    end is below ``tol``. ``barrier`` is the cost level against which a start's potential energy
    :math:`C(\theta_0)` is compared (default 1/2, the plateau on which two outputs sit at 1/2).

    Returns
    -------
    MomentumSweep
        ``unit == "epochs"``; ``final`` holds the last total cost.
    """
    rhos, steps, etas, reading, S, E, step, mom = _setup(rhos, eta, mu, spacing, n_seeds, n_epochs)
    tol = positive_scalar(tol, "tol")
    init_scale = positive_scalar(init_scale, "init_scale")
    barrier = real_scalar(barrier, "barrier", low=0.0)
    rng = np.random.default_rng(positive_int(seed, "seed", minimum=0))
    theta0 = rng.uniform(-init_scale, init_scale, (S, 9))
    theta = np.tile(theta0, (rhos.size, 1))
    prev = theta.copy()
    X, D = datasets.xor()
    D = D[:, 0]
    st, mo = step[:, None], mom[:, None]
    last_out = np.zeros(theta.shape[0])
    for e in range(1, E + 1):
        order = np.tile(np.argsort(rng.random((S, 4)), axis=1), (rhos.size, 1))
        for j in range(4):
            p = order[:, j]
            g = _xor_grad(theta, X[p], D[p])
            theta, prev = theta - st * g + mo * (theta - prev), theta
        C = _xor_cost(theta)
        last_out = np.where(~(C < tol), e, last_out)
    ok = C < tol
    time = np.where(ok, last_out, np.nan)
    R = rhos.size
    return MomentumSweep(rhos, steps, etas, reading, S, ok.reshape(R, S), time.reshape(R, S),
                         C.reshape(R, S), np.zeros((R, S), bool), _xor_cost(theta0), barrier,
                         "epochs", E)
