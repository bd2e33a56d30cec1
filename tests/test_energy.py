"""Tests of lagprop.energy: kinetic energy, the ledger of both trajectory kinds, eq. (8)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from lagprop import dynamics as dy
from lagprop import energy as en


def quadratic_stream(rng, K, m):
    A = rng.normal(size=(K, m, m))
    A = A @ A.transpose(0, 2, 1) / m + np.eye(m)
    b = rng.normal(size=(K, m))
    grad = lambda k, w: A[k] @ w - b[k]  # noqa: E731
    loss = lambda k, w: 0.5 * w @ A[k] @ w - b[k] @ w  # noqa: E731
    return grad, loss


def test_kinetic(rng):
    v, mu = rng.normal(size=(5, 3)), np.array([1.0, 2.0, 0.5])
    assert np.allclose(en.kinetic(v, mu), 0.5 * (v ** 2 * mu).sum(axis=1))
    assert en.kinetic(v[0], 2.0) == pytest.approx(np.sum(v[0] ** 2))
    with pytest.raises(ValueError, match="`mu` must be > 0"):
        en.kinetic(v, [1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="one mass per weight"):
        en.kinetic(v, [1.0, 1.0])


def test_impulse_ledger_constant_and_D_by_quadrature(rng):
    K, m, beta = 6, 3, 1.2
    mu = np.array([0.5, 1.0, 2.0])
    grad, _ = quadratic_stream(rng, K, m)
    times = np.cumsum(rng.uniform(0.3, 1.2, size=K))
    tr = dy.simulate_impulses(grad, times, rng.normal(size=m), v0=rng.normal(size=m), beta=beta, mu=mu)
    t = np.linspace(0, times[-1] + 2, 157)
    L = en.ledger(tr, beta=beta, mu=mu, t=t)
    assert L.drift < 1e-13
    assert np.allclose(L.total, en.kinetic(tr.v0, mu), rtol=1e-13)
    # D(t) against quadrature of 2 beta T over the pieces of the motion
    edges = np.concatenate([[0.0], times, [t[-1]]])
    D_quad = sum(quad(lambda s: 2 * beta * en.kinetic(tr.at(s)[1], mu), a, b, epsabs=1e-13, epsrel=1e-13)[0]
                 for a, b in zip(edges[:-1], edges[1:]))
    assert L.D[-1] == pytest.approx(D_quad, rel=1e-10)


def test_jumps(rng):
    K, m, beta = 5, 2, 0.7
    mu = np.array([0.5, 3.0])
    grad, _ = quadratic_stream(rng, K, m)
    times = np.arange(1.0, K + 1)
    tr = dy.simulate_impulses(grad, times, rng.normal(size=m), beta=beta, mu=mu)
    jumps = en.kinetic_jumps(tr, mu=mu)
    assert np.allclose(jumps, en.kinetic(tr.v_after, mu) - en.kinetic(tr.v_before, mu), rtol=1e-12, atol=1e-15)
    L = en.ledger(tr, beta=beta, mu=mu)  # at the instants, just after each impulse
    assert np.allclose(np.diff(np.concatenate([[0.0], L.W_sup])), -jumps, atol=1e-14)


def test_mollified_ledger_constant(rng):
    K, m, beta = 4, 3, 2.0
    mu = np.array([1.0, 2.0, 0.5])
    grad, _ = quadratic_stream(rng, K, m)
    times = np.array([0.5, 1.3, 2.0, 3.1])
    mt = dy.simulate_mollified(grad, times, rng.normal(size=m), v0=rng.normal(size=m), beta=beta, mu=mu,
                               eps=0.1, t_end=4.0)
    L = en.ledger(mt, beta=beta, mu=mu)
    assert np.allclose(L.T, mt.T, rtol=1e-15)
    assert L.drift < 1e-8
    assert np.ptp(L.total) / abs(L.total[0]) < 1e-8
    L2 = en.ledger(mt, beta=beta, mu=mu, t=np.linspace(0, 4.0, 50))
    assert L2.drift < 1e-7  # dense output is a little less accurate than the steps


def test_mollified_work_tends_to_minus_jumps(rng):
    K, m, beta, mu = 3, 2, 1.0, 1.0
    grad, _ = quadratic_stream(rng, K, m)
    times = np.array([0.5, 1.5, 2.5])
    tr = dy.simulate_impulses(grad, times, np.zeros(m), beta=beta, mu=mu)
    target = -np.cumsum(en.kinetic_jumps(tr, mu=mu))
    errs = []
    for eps in (0.02, 0.002):
        mt = dy.simulate_mollified(grad, times, np.zeros(m), beta=beta, mu=mu, eps=eps)
        _, W = mt.energies_at(times + eps)
        errs.append(np.max(np.abs(W - target)))
    assert errs[1] < errs[0] / 5 and errs[1] < 0.02 * np.max(np.abs(target))


def test_paper_eq8_differs_from_ledger(rng):
    """Eq. (8) puts the loss where the balance has -Delta T_k: not constant in general."""
    K, m, beta, mu = 5, 3, 1.0, 1.0
    grad, loss = quadratic_stream(rng, K, m)
    times = np.arange(1.0, K + 1)
    tr = dy.simulate_impulses(grad, times, rng.normal(size=m), beta=beta, mu=mu)
    E = en.paper_energy(tr, loss, beta=beta, mu=mu)
    L = en.ledger(tr, beta=beta, mu=mu)
    losses = np.array([loss(k, tr.w[k]) for k in range(K)])
    assert np.allclose(E - L.total, np.cumsum(losses + en.kinetic_jumps(tr, mu=mu)), atol=1e-12)
    assert np.max(np.abs(losses + en.kinetic_jumps(tr, mu=mu))) > 1e-2


def test_ledger_bad_input(rng):
    grad, _ = quadratic_stream(rng, 2, 2)
    tr = dy.simulate_impulses(grad, [1.0, 2.0], np.zeros(2), beta=1.0, mu=1.0)
    with pytest.raises(ValueError, match="`beta` = 2.0 differs"):
        en.ledger(tr, beta=2.0, mu=1.0)
    with pytest.raises(ValueError, match=r"^`mu` must be the masses the trajectory was simulated with, "
                       r"1.0, got array\(\[1., 2.\]\)$"):
        en.ledger(tr, beta=1.0, mu=[1.0, 2.0])
    with pytest.raises(ValueError, match="`beta` must be a finite number > 0"):
        en.ledger(tr, beta=-1.0, mu=1.0)
    with pytest.raises(TypeError, match="`traj` must be"):
        en.ledger("trajectory", beta=1.0, mu=1.0)
    with pytest.raises(ValueError, match="`losses` must have one value per instant"):
        en.paper_energy(tr, [1.0], beta=1.0, mu=1.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2 ** 31), m=st.integers(1, 4), K=st.integers(1, 8),
       beta=st.floats(0.05, 30.0), mass=st.floats(0.2, 5.0))
def test_impulse_ledger_property(seed, m, K, beta, mass):
    rng = np.random.default_rng(seed)
    grad, _ = quadratic_stream(rng, K, m)
    times = np.cumsum(rng.uniform(0.1, 2.0, size=K))
    mu = mass * rng.uniform(0.5, 2.0, size=m)
    tr = dy.simulate_impulses(grad, times, rng.normal(size=m), v0=rng.normal(size=m), beta=beta, mu=mu)
    L = en.ledger(tr, beta=beta, mu=mu, t=np.linspace(0, times[-1] + 1, 40))
    assert L.drift < 1e-12
    assert np.all(np.diff(L.D) >= -1e-12 * max(1.0, L.D[-1]))   # dissipation never decreases


def _energy_bad_table():
    from lagprop import dynamics

    tr = dynamics.simulate_impulses(lambda k, w: w - 1, [1.0, 2.0], [0.0], beta=1.0, mu=1.0)
    return [
        ("ledger: beta nan", lambda: en.ledger(tr, beta=np.nan, mu=1.0), ValueError, "`beta` must be a finite number > 0"),
        ("ledger: beta None", lambda: en.ledger(tr, beta=None, mu=1.0), TypeError, "`beta` must be a positive real number"),
        ("ledger: beta differs", lambda: en.ledger(tr, beta=2.0, mu=1.0), ValueError, "differs from the trajectory's beta"),
        ("ledger: mu 0", lambda: en.ledger(tr, beta=1.0, mu=0.0), ValueError, "`mu` must be a finite number > 0"),
        ("ledger: t nan", lambda: en.ledger(tr, beta=1.0, mu=1.0, t=[np.nan]), ValueError, "`t` must be finite"),
        ("ledger: t negative", lambda: en.ledger(tr, beta=1.0, mu=1.0, t=[-1.0]), ValueError, "`t` must be >= 0"),
        ("ledger: t 2-D", lambda: en.ledger(tr, beta=1.0, mu=1.0, t=[[1.0]]), ValueError, "`t` must be a scalar or 1-D"),
        ("ledger: traj", lambda: en.ledger(None, beta=1.0, mu=1.0), TypeError, "`traj` must be an ImpulseTrajectory or MollifiedTrajectory"),
        ("paper: losses nan", lambda: en.paper_energy(tr, lambda k, w: np.nan, beta=1.0, mu=1.0), ValueError,
         r"^`losses` returned non-finite values \(nan or inf\) at k = 0$"),
        ("paper: losses text", lambda: en.paper_energy(tr, "ab", beta=1.0, mu=1.0), TypeError, "`losses` must be array-like"),
        ("paper: losses length", lambda: en.paper_energy(tr, [1.0], beta=1.0, mu=1.0), ValueError, "one value per instant"),
        ("kinetic: complex", lambda: en.kinetic([1j], 1.0), TypeError, "`v` must be real"),
        ("kinetic: mu shape", lambda: en.kinetic([1.0, 2.0], [1.0, 2.0, 3.0]), ValueError, "one mass per weight"),
        ("jumps: traj", lambda: en.kinetic_jumps(None, mu=1.0), TypeError, "`traj` must be an ImpulseTrajectory"),
        ("jumps: mu nan", lambda: en.kinetic_jumps(tr, mu=np.nan), ValueError, "`mu` must be a finite number > 0"),
        ("jumps: mu differs", lambda: en.kinetic_jumps(tr, mu=2.0), ValueError,
         r"^`mu` must be the masses the trajectory was simulated with, 1.0, got 2.0$"),
        ("jumps: mu per weight differs", lambda: en.kinetic_jumps(tr, mu=[3.0]), ValueError,
         r"^`mu` must be the masses the trajectory was simulated with, 1.0, got array\(\[3.\]\)$"),
        ("jumps: mu shape", lambda: en.kinetic_jumps(tr, mu=[1.0, 1.0]), ValueError, r"one mass per weight, shape \(1,\)"),
        ("paper: losses complex", lambda: en.paper_energy(tr, lambda k, w: 1j, beta=1.0, mu=1.0), TypeError,
         r"^`losses` must return real numbers, got a complex array of shape \(\) at k = 0$"),
        ("paper: losses None", lambda: en.paper_energy(tr, lambda k, w: None, beta=1.0, mu=1.0), TypeError,
         r"^`losses` must return real numbers, got NoneType None at k = 0$"),
        ("paper: losses vector", lambda: en.paper_energy(tr, lambda k, w: w, beta=1.0, mu=1.0), ValueError,
         r"^`losses` must return an array of shape \(\), got shape \(1,\) at k = 0$"),
    ]


_EN_BAD = _energy_bad_table()


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _EN_BAD], ids=[c[0] for c in _EN_BAD])
def test_bad_input_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_mollified_ledger_and_paper_energy_at_given_times():
    traj = dy.simulate_mollified(lambda k, w: w - 1.0, [1.0, 2.0], [0.0, 0.5], beta=0.7, mu=2.0,
                                 eps=0.2, t_end=3.0)
    t = np.array([0.5, 1.5, 2.9])
    led = en.ledger(traj, beta=0.7, mu=2.0, t=t)
    D, W = traj.energies_at(t)
    _, v = traj.at(t)
    np.testing.assert_array_equal(led.t, t)
    np.testing.assert_allclose(led.D, D, rtol=1e-14)
    np.testing.assert_allclose(led.W_sup, W, rtol=1e-14)
    np.testing.assert_allclose(led.T, 0.5 * 2.0 * np.sum(v ** 2, axis=1), rtol=1e-14)
    # eq. (8) with the loss values at w(t_k), read from the mollified motion
    def loss(k, w):
        return float(np.sum((w - 1.0) ** 2))
    wk = traj.at(traj.times)[0]
    E = en.paper_energy(traj, loss, beta=0.7, mu=2.0, t=t)
    expect = led.T + led.D + np.array([0.0, loss(0, wk[0]), loss(0, wk[0]) + loss(1, wk[1])])
    np.testing.assert_allclose(E, expect, rtol=1e-12)
    with pytest.raises(ValueError, match="`losses` must be 1-D"):
        en.paper_energy(traj, np.ones((2, 1)), beta=0.7, mu=2.0)


def test_kinetic_jumps_sum_over_the_weights_of_each_instant():
    traj = dy.simulate_impulses(lambda k, w: w - np.array([1.0, -2.0]), [1.0, 2.0, 3.5], [0.0, 0.0],
                                beta=0.5, mu=np.array([1.0, 3.0]))
    mu = np.array([1.0, 3.0])
    by_hand = [sum(g[i] ** 2 / (2 * mu[i]) - g[i] * vb[i] for i in range(2))
               for g, vb in zip(traj.g, traj.v_before)]
    np.testing.assert_allclose(en.kinetic_jumps(traj, mu=mu), by_hand, rtol=1e-13)
    # and they are the jumps of T itself
    T_before, T_after = en.kinetic(traj.v_before, mu), en.kinetic(traj.v_after, mu)
    np.testing.assert_allclose(en.kinetic_jumps(traj, mu=mu), T_after - T_before, rtol=1e-12)


def test_kinetic_jumps_with_the_trajectorys_masses_match_the_velocity_jumps():
    from lagprop import dynamics

    mu = np.array([0.5, 2.0])
    tr = dynamics.simulate_impulses(lambda k, w: w - 1, [1.0, 2.5], [0.3, -0.2], beta=0.8, mu=mu)
    T = lambda v: 0.5 * np.sum(mu * v ** 2, axis=-1)  # noqa: E731
    assert np.allclose(en.kinetic_jumps(tr, mu=mu), T(tr.v_after) - T(tr.v_before), rtol=1e-13, atol=1e-15)
