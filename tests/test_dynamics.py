"""Tests of lagprop.dynamics: exact impulses, mollified forcing, heavy-ball map."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from lagprop import dynamics as dy
from lagprop.supervision import mollifier


def quadratic_stream(rng, K, m):
    """Per-pattern quadratic losses V_k(w) = 1/2 w^T A_k w - b_k^T w, gradients A_k w - b_k."""
    A = rng.normal(size=(K, m, m))
    A = A @ A.transpose(0, 2, 1) / m + np.eye(m)
    b = rng.normal(size=(K, m))
    return lambda k, w: A[k] @ w - b[k]


def tanh_stream(rng, K, m):
    """A non-quadratic stream: gradient of (y_k - tanh(x_k . w))^2."""
    X = rng.normal(size=(K, m))
    y = rng.uniform(-0.8, 0.8, size=K)

    def grad(k, w):
        f = np.tanh(X[k] @ w)
        return -2 * (y[k] - f) * (1 - f ** 2) * X[k]

    return grad


# ---------------------------------------------------------------------------------------------
# exact impulsive solution vs heavy ball


@pytest.mark.parametrize("beta,spacing", [(0.3, 1.0), (2.0, 0.5), (10.0, 1.0), (80.0, 1.0)])
def test_equal_spacing_is_heavy_ball(rng, beta, spacing):
    K, m, mu = 30, 4, 0.7
    grad = tanh_stream(rng, K, m)
    times = spacing * np.arange(1, K + 1)
    tr = dy.simulate_impulses(grad, times, rng.normal(size=m), beta=beta, mu=mu)
    step, rho = dy.heavy_ball(beta, mu, spacing)
    assert step == pytest.approx((1 - np.exp(-beta * spacing)) / (beta * mu), rel=1e-15)
    assert rho == pytest.approx(np.exp(-beta * spacing), rel=1e-15)
    hb = dy.heavy_ball_positions(grad, tr.w[0], K, step, rho)
    assert np.max(np.abs(hb - tr.w)) < 1e-12


def test_pytorch_sgd_form_equals_heavy_ball(rng):
    """buf = rho buf + g; w -= lr buf (dampening 0, first buf = g) is the same recursion."""
    K, m, beta, mu, spacing = 25, 3, 1.5, 2.0, 0.8
    grad = tanh_stream(rng, K, m)
    lr, rho = dy.heavy_ball(beta, mu, spacing)
    w, buf, out = rng.normal(size=m), None, []
    w_start = w.copy()
    for k in range(K):
        out.append(w.copy())
        g = grad(k, w)
        buf = g.copy() if buf is None else rho * buf + g
        w = w - lr * buf
    hb = dy.heavy_ball_positions(grad, w_start, K, lr, rho)
    assert np.max(np.abs(hb - np.array(out))) < 1e-12


def test_unequal_spacing_coefficients(rng):
    K, m, beta = 25, 3, 1.3
    grad = tanh_stream(rng, K, m)
    times = np.cumsum(rng.uniform(0.2, 2.0, size=K))
    mu = np.array([1.0, 2.0, 4.0])
    tr = dy.simulate_impulses(grad, times, rng.normal(size=m), beta=beta, mu=mu)
    steps, momenta = dy.heavy_ball_coefficients(times, beta=beta, mu=mu)
    assert steps.shape == (K - 1, m) and momenta.shape == (K - 1,)
    hb = dy.heavy_ball_positions(grad, tr.w[0], K, steps, momenta)
    assert np.max(np.abs(hb - tr.w)) < 1e-12
    # equal spacings reduce to (eta (1 - rho), rho)
    s, mo = dy.heavy_ball_coefficients(0.7 * np.arange(1, 6), beta=beta, mu=2.0)
    step, rho = dy.heavy_ball(beta, 2.0, 0.7)
    assert np.allclose(s, step, rtol=1e-14) and np.allclose(mo[1:], rho, rtol=1e-14) and mo[0] == 0


def test_per_weight_masses_equal_spacing(rng):
    K, m, beta = 20, 4, 3.0
    grad = tanh_stream(rng, K, m)
    mu = np.array([0.5, 1.0, 5.0, 2.5])
    tr = dy.simulate_impulses(grad, np.arange(1.0, K + 1), np.zeros(m), beta=beta, mu=mu)
    step, rho = dy.heavy_ball(beta, mu, 1.0)
    assert step.shape == (m,)
    hb = dy.heavy_ball_positions(grad, tr.w[0], K, step, rho)
    assert np.max(np.abs(hb - tr.w)) < 1e-12


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2 ** 31), m=st.integers(1, 5), K=st.integers(2, 15),
       beta=st.floats(0.05, 50.0), mass=st.floats(0.5, 10.0))
def test_heavy_ball_property(seed, m, K, beta, mass):
    rng = np.random.default_rng(seed)
    grad = tanh_stream(rng, K, m)
    times = np.cumsum(rng.uniform(0.1, 2.0, size=K))
    tr = dy.simulate_impulses(grad, times, rng.normal(size=m), beta=beta, mu=mass)
    steps, momenta = dy.heavy_ball_coefficients(times, beta=beta, mu=mass)
    hb = dy.heavy_ball_positions(grad, tr.w[0], K, steps, momenta)
    assert np.max(np.abs(hb - tr.w)) < 1e-12 * max(1.0, np.max(np.abs(tr.w)))


def test_velocity_jump_and_continuity(rng):
    K, m, beta, mu = 6, 3, 1.0, 2.0
    grad = quadratic_stream(rng, K, m)
    times = np.arange(1.0, K + 1)
    tr = dy.simulate_impulses(grad, times, rng.normal(size=m), beta=beta, mu=mu, v0=rng.normal(size=m))
    assert np.allclose(tr.v_after - tr.v_before, -tr.g / mu, atol=1e-15)
    w_left, v_left = tr.at(times - 1e-12)
    w_at, v_at = tr.at(times)
    assert np.allclose(w_left, w_at, atol=1e-10)
    assert np.allclose(v_left, tr.v_before, atol=1e-10) and np.allclose(v_at, tr.v_after, atol=1e-15)


def test_free_motion_solves_the_ode(rng):
    """Free motion against a tight numerical integration of w'' + beta w' = 0."""
    beta, w, v = 1.7, rng.normal(size=2), rng.normal(size=2)
    sol = solve_ivp(lambda t, y: np.concatenate([y[2:], -beta * y[2:]]), (0, 3.0),
                    np.concatenate([w, v]), rtol=1e-12, atol=1e-14, method="DOP853")
    ws, vs = dy._free_motion(w, v, 3.0, beta=beta)
    assert np.allclose(ws, sol.y[:2, -1], atol=1e-10) and np.allclose(vs, sol.y[2:, -1], atol=1e-10)


def test_no_overflow_for_large_beta_t(rng):
    grad = quadratic_stream(rng, 3, 2)
    tr = dy.simulate_impulses(grad, [100.0, 200.0, 300.0], np.ones(2), beta=50.0, mu=1.0)
    w, v = tr.at(np.array([0.0, 150.0, 1e6]))
    assert np.all(np.isfinite(w)) and np.all(np.isfinite(v))
    assert np.allclose(tr.w[0], 1.0)  # starting from rest nothing moves before the first impulse


# ---------------------------------------------------------------------------------------------
# closed forms


def test_single_impulse_closed_form(rng):
    m, beta, mu, t1 = 3, 4.0, np.array([1.0, 0.5, 2.0]), 0.75
    g = rng.normal(size=m)
    tr = dy.simulate_impulses(lambda k, w: g, [t1], np.zeros(m), beta=beta, mu=mu)
    t = np.linspace(0.0, 5.0, 201)
    w_sim, v_sim = tr.at(t)
    w_cf, v_cf = dy.impulse_response(t, t1, g, beta=beta, mu=mu)
    assert np.max(np.abs(w_sim - w_cf)) < 1e-14 and np.max(np.abs(v_sim - v_cf)) < 1e-14
    # limit -eta g and the e^{-5} gap at t - t1 = 5/beta
    eta = 1 / (beta * mu)
    w5, _ = dy.impulse_response(t1 + 5 / beta, t1, g, beta=beta, mu=mu)
    assert np.allclose(np.abs(w5 + eta * g) / np.abs(eta * g), np.exp(-5), rtol=1e-12)


@pytest.mark.parametrize("v0_zero", [True, False])
def test_theorem2_identity(rng, v0_zero):
    """w' + beta w = w'(0) + beta w(0) - (1/mu) sum_k g_k 1(t - t_k)."""
    K, m, beta = 8, 3, 2.5
    mu = np.array([1.0, 0.3, 4.0])
    grad = tanh_stream(rng, K, m)
    times = np.cumsum(rng.uniform(0.2, 1.5, size=K))
    w0 = np.zeros(m) if v0_zero else rng.normal(size=m)
    v0 = None if v0_zero else rng.normal(size=m)
    tr = dy.simulate_impulses(grad, times, w0, beta=beta, mu=mu, v0=v0)
    t = np.sort(np.concatenate([np.linspace(0, times[-1] + 2, 300), times]))
    w, v = tr.at(t)
    const = 0.0 if v0_zero else tr.v0 + beta * tr.w0
    assert np.max(np.abs(v + beta * w - const - dy.step_forcing(tr, t))) < 1e-12


def test_theorem2_identity_mollified_limit(rng):
    """Along the mollified solution, w' + beta w + (1/mu) int sum zeta g = 0 from rest; at
    the end of the windows it approaches the step forcing as eps -> 0."""
    K, m, beta, mu = 3, 2, 1.0, 1.0
    grad = quadratic_stream(rng, K, m)
    times = np.array([0.5, 1.5, 2.5])
    tr = dy.simulate_impulses(grad, times, np.zeros(m), beta=beta, mu=mu)
    mt = dy.simulate_mollified(grad, times, np.zeros(m), beta=beta, mu=mu, eps=0.005, t_end=3.0)
    w, v = mt.at(3.0)
    assert np.max(np.abs(v + beta * w - dy.step_forcing(tr, 3.0))) < 0.05


# ---------------------------------------------------------------------------------------------
# mollified solution


def test_mollified_matches_direct_integration(rng):
    """Against a single solve_ivp over the whole interval with max_step well below eps."""
    K, m, beta, mu, eps = 3, 2, 1.5, 0.8, 0.1
    grad = quadratic_stream(rng, K, m)
    times = np.array([0.4, 1.0, 1.7])

    def rhs(t, y):
        F = sum(mollifier(t - tk, eps) * grad(k, y[:m]) for k, tk in enumerate(times))
        return np.concatenate([y[m:], -beta * y[m:] - F / mu])

    y0 = np.concatenate([rng.normal(size=m), rng.normal(size=m)])
    ref = solve_ivp(rhs, (0, 2.5), y0, method="DOP853", rtol=1e-12, atol=1e-13, max_step=eps / 10)
    mt = dy.simulate_mollified(grad, times, y0[:m], v0=y0[m:], beta=beta, mu=mu, eps=eps, t_end=2.5)
    assert np.allclose(mt.w[-1], ref.y[:m, -1], atol=1e-8) and np.allclose(mt.v[-1], ref.y[m:, -1], atol=1e-8)
    assert mt.t[0] == 0.0 and mt.t[-1] == 2.5 and np.all(np.diff(mt.t) > 0)


def test_mollified_converges_first_order(rng):
    K, m, beta = 4, 3, 2.0
    mu = np.array([1.0, 2.0, 0.5])
    grad = quadratic_stream(rng, K, m)
    times = np.array([0.5, 1.3, 2.0, 3.1])
    w0, v0 = rng.normal(size=m), rng.normal(size=m)
    tr = dy.simulate_impulses(grad, times, w0, v0=v0, beta=beta, mu=mu)
    eps_list = np.array([0.02, 0.01, 0.005, 0.0025])
    errs = []
    for eps in eps_list:
        mt = dy.simulate_mollified(grad, times, w0, v0=v0, beta=beta, mu=mu, eps=eps, t_end=4.0)
        errs.append(np.max(np.abs(mt.w[-1] - tr.at(4.0)[0])))
    slope = np.polyfit(np.log(eps_list), np.log(errs), 1)[0]
    assert 0.8 < slope < 1.2, slope


def test_mollified_at_agrees_with_samples(rng):
    grad = quadratic_stream(rng, 2, 2)
    mt = dy.simulate_mollified(grad, [0.5, 1.5], np.ones(2), beta=1.0, mu=1.0, eps=0.2, t_end=2.0)
    w, v = mt.at(mt.t)
    assert np.allclose(w, mt.w, atol=1e-12) and np.allclose(v, mt.v, atol=1e-12)
    with pytest.raises(ValueError, match="`t` must lie in"):
        mt.at(2.5)


# ---------------------------------------------------------------------------------------------
# bad input


def good_grad(k, w):
    return w - 1.0


@pytest.mark.parametrize("kw,match", [
    (dict(beta=0.0), "`beta` must be a finite number > 0"),
    (dict(beta=-1.0), "`beta` must be a finite number > 0"),
    (dict(mu=0.0), "`mu` must be a finite number > 0"),
    (dict(mu=[1.0, -1.0]), r"`mu` must be > 0 for every weight"),
    (dict(mu=[1.0, 1.0, 1.0]), r"`mu` must be a scalar or have one mass per weight"),
    (dict(times=[1.0, 1.0]), "`times` must be strictly increasing"),
    (dict(times=[2.0, 1.0]), "`times` must be strictly increasing"),
    (dict(times=[-1.0, 1.0]), r"`times` must be >= 0"),
    (dict(times=[]), "at least one supervision instant"),
    (dict(v0=[1.0]), "`v0` must have the shape of `w0`"),
])
@pytest.mark.parametrize("sim", ["impulses", "mollified"])
def test_bad_input(kw, match, sim):
    args = dict(beta=1.0, mu=1.0, times=[1.0, 2.0], v0=None)
    args.update(kw)
    times = args.pop("times")
    if sim == "impulses":
        with pytest.raises(ValueError, match=match):
            dy.simulate_impulses(good_grad, times, np.zeros(2), **args)
    else:
        with pytest.raises(ValueError, match=match):
            dy.simulate_mollified(good_grad, times, np.zeros(2), eps=0.1, **args)


@pytest.mark.parametrize("eps,times,match", [
    (0.0, [1.0, 2.0], "`eps` must be a finite number > 0"),
    (0.6, [1.0, 2.0], "mollifier windows overlap"),
    (0.2, [0.1, 2.0], "first mollifier window starts before t = 0"),
])
def test_bad_mollifier_windows(eps, times, match):
    with pytest.raises(ValueError, match=match):
        dy.simulate_mollified(good_grad, times, np.zeros(2), beta=1.0, mu=1.0, eps=eps)


def test_bad_t_end():
    with pytest.raises(ValueError, match="`t_end` must be >= the end of the last window"):
        dy.simulate_mollified(good_grad, [1.0], np.zeros(2), beta=1.0, mu=1.0, eps=0.1, t_end=1.05)


@pytest.mark.parametrize("bad,exc,match", [
    (lambda k, w: np.zeros(3), ValueError,
     r"^`grad` must return an array of shape \(2,\), got shape \(3,\) at k = 0$"),
    (lambda k, w: np.full(2, np.nan), ValueError, r"^`grad` returned non-finite values \(nan or inf\) at k = 0$"),
    (lambda k, w: np.full(2, np.inf) if k == 1 else w, ValueError, "non-finite values .* at k = 1$"),
    (lambda k, w: w * (1 + 1j), TypeError,
     r"^`grad` must return real numbers, got a complex array of shape \(2,\) at k = 0$"),
    (lambda k, w: w + 0j, TypeError, r"got a complex array"),  # even with zero imaginary part
    (lambda k, w: None, TypeError, r"^`grad` must return real numbers, got NoneType None at k = 0$"),
    (lambda k, w: ["a", "b"], TypeError, r"^`grad` must return real numbers, got list \['a', 'b'\] at k = 0$"),
    (lambda k, w: [[1.0], [1.0, 2.0]], TypeError, r"^`grad` must return real numbers, got list"),
])
def test_bad_gradient(bad, exc, match):
    with pytest.raises(exc, match=match):
        dy.simulate_impulses(bad, [1.0, 2.0], np.zeros(2), beta=1.0, mu=1.0)
    with pytest.raises(exc, match=match):
        dy.simulate_mollified(bad, [1.0, 2.0], np.zeros(2), beta=1.0, mu=1.0, eps=0.1)
    with pytest.raises(exc, match=match):
        dy.heavy_ball_positions(bad, np.zeros(2), 3, 0.1, 0.5)
    if "k = 1" in match:
        return  # phase_volume_factor calls grad(w) without an index
    with pytest.raises(exc, match=match.replace(" at k = 0", "").rstrip("$")):
        dy.phase_volume_factor(lambda w: bad(0, w), np.zeros(2), np.zeros(2), 0.1, 0.5)


def test_bad_heavy_ball_args():
    with pytest.raises(ValueError, match="`spacing` must be a finite number > 0"):
        dy.heavy_ball(1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="`beta` must be a finite number > 0"):
        dy.heavy_ball(0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="`step` as a 1-D array must hold one step per weight"):
        dy.heavy_ball_positions(good_grad, np.zeros(2), 4, np.ones(3), 0.5)
    with pytest.raises(ValueError, match="`momentum` must be a scalar or have n-1 = 3 entries"):
        dy.heavy_ball_positions(good_grad, np.zeros(2), 4, 0.1, np.ones(2))
    with pytest.raises(ValueError, match="`t` must be >= 0"):
        dy.simulate_impulses(good_grad, [1.0], np.zeros(2), beta=1.0, mu=1.0).at(-0.1)


def test_wrong_coefficients_are_detected(rng):
    """The comparison can fail: momentum rho_{k-1} (instead of m_k) or step eta misses the motion."""
    K, m, beta, mu = 20, 3, 1.0, 2.0
    grad = tanh_stream(rng, K, m)
    times = np.cumsum(rng.uniform(0.3, 2.0, size=K))
    tr = dy.simulate_impulses(grad, times, rng.normal(size=m), beta=beta, mu=mu)
    steps, momenta = dy.heavy_ball_coefficients(times, beta=beta, mu=mu)
    rho = np.exp(-beta * np.diff(times))
    naive = dy.heavy_ball_positions(grad, tr.w[0], K, steps, np.r_[0.0, rho[:-1]])
    sgd = dy.heavy_ball_positions(grad, tr.w[0], K, 1 / (beta * mu), 0.0)
    assert np.max(np.abs(naive - tr.w)) > 1e-6 and np.max(np.abs(sgd - tr.w)) > 1e-3


def test_unequal_spacings_are_pytorch_with_shifted_momentum(rng):
    """Unequal spacings: the motion is a per-step momentum-buffer recursion (PyTorch's SGD form)
    with momentum rho_{k-1} and rate eta (1 - rho_k), and its buffer is -mu v_k^+; with m_k as the
    buffer's momentum it is not."""
    K, m, beta = 25, 3, 0.8
    mu = np.array([1.5, 2.0, 3.0])
    grad = tanh_stream(rng, K, m)
    times = np.cumsum(rng.uniform(0.3, 2.0, size=K))
    tr = dy.simulate_impulses(grad, times, rng.normal(size=m), beta=beta, mu=mu)
    rho = np.exp(-beta * np.diff(times))
    _, m_k = dy.heavy_ball_coefficients(times, beta=beta, mu=mu)

    def buffered(momentum):          # written out step by step, as torch.optim.SGD does it
        w, buf, out, bufs = tr.w[0].copy(), np.zeros(m), [tr.w[0].copy()], []
        for k in range(K - 1):
            buf = momentum[k] * buf + grad(k, w)
            w = w - (1 - rho[k]) / (beta * mu) * buf
            out.append(w.copy())
            bufs.append(buf.copy())
        return np.array(out), np.array(bufs)

    W, bufs = buffered(np.r_[0.0, rho[:-1]])
    assert np.max(np.abs(W - tr.w)) < 1e-12
    assert np.max(np.abs(bufs + mu * tr.v_after[:-1])) < 1e-12
    W_wrong, _ = buffered(m_k)
    assert np.max(np.abs(W_wrong - tr.w)) > 1e-3


# the heavy-ball helpers of the small-dissipation experiment (moved here from landscapes)

def test_matched_and_fixed_mass_heavy_ball_invert_heavy_ball():
    from lagprop import dynamics as _dy

    step, mom = _dy.matched_heavy_ball(0.3, np.array([0.0, 0.9]))
    np.testing.assert_allclose(step / (1 - mom), 0.3)
    beta, mu = _dy.cognitive_parameters(0.3, 0.9, spacing=2.0)
    s2, m2 = _dy.heavy_ball(beta, mu, 2.0)
    assert s2 == pytest.approx(0.3 * 0.1) and m2 == pytest.approx(0.9)
    # fixed mass: the step of the exact map at the damping that gives each rho
    rhos = np.array([0.3, 0.9, 0.999])
    s3, m3 = _dy.fixed_mass_heavy_ball(2.5, rhos, spacing=0.5)
    for r, s in zip(rhos, s3):
        assert s == pytest.approx(_dy.heavy_ball(-np.log(r) / 0.5, 2.5, 0.5)[0], rel=1e-13)
    assert s3[-1] == pytest.approx(0.5 / 2.5, rel=1e-3)          # -> Delta / mu as rho -> 1
    for f, args, match in ((_dy.matched_heavy_ball, (0.3, 1.0), "`rho`"),
                           (_dy.matched_heavy_ball, (-1.0, 0.5), "`eta`"),
                           (_dy.fixed_mass_heavy_ball, (1.0, 0.0), "`rho`"),
                           (_dy.cognitive_parameters, (1.0, 0.0), "`rho`")):
        with pytest.raises(ValueError, match=match):
            f(*args)


def test_phase_volume_factor_is_rho_to_the_m(rng):
    from lagprop import datasets as _ds
    from lagprop import dynamics as _dy
    from lagprop import landscapes as _ls

    X, D = _ds.xor()
    grad = lambda th: _ls.xor_grad(th[None], X[1:2], D[1, :])[0]  # noqa: E731
    w, w_prev = rng.standard_normal(9), rng.standard_normal(9)
    for rho in (0.5, 0.9):
        det = _dy.phase_volume_factor(grad, w, w_prev, 2.0 * (1 - rho), rho)
        assert det == pytest.approx(rho ** 9, rel=1e-6)
    with pytest.raises(TypeError, match="`grad`"):
        _dy.phase_volume_factor(None, w, w_prev, 0.1, 0.5)


def _grad0(k, w):
    return np.zeros_like(w)


_BAD_DY = [
    ("impulses: grad", lambda: dy.simulate_impulses(None, [1.0], [0.0], beta=1.0, mu=1.0), TypeError, "`grad` must be callable"),
    ("impulses: beta 0", lambda: dy.simulate_impulses(_grad0, [1.0], [0.0], beta=0.0, mu=1.0), ValueError, "`beta` must be a finite number > 0"),
    ("impulses: beta nan", lambda: dy.simulate_impulses(_grad0, [1.0], [0.0], beta=np.nan, mu=1.0), ValueError, "`beta`"),
    ("impulses: w0 complex", lambda: dy.simulate_impulses(_grad0, [1.0], [0j], beta=1.0, mu=1.0), TypeError, "`w0` must be real"),
    ("impulses: grad nan", lambda: dy.simulate_impulses(lambda k, w: w * np.nan, [1.0], [0.0], beta=1.0, mu=1.0), ValueError, "`grad` returned non-finite"),
    ("mollified: rtol nan", lambda: dy.simulate_mollified(_grad0, [1.0], [0.0], beta=1.0, mu=1.0, eps=0.1, rtol=np.nan), ValueError, "`rtol` must be a finite number > 0"),
    ("mollified: atol -1", lambda: dy.simulate_mollified(_grad0, [1.0], [0.0], beta=1.0, mu=1.0, eps=0.1, atol=-1.0), ValueError, "`atol` must be a finite number > 0"),
    ("mollified: t_end inf", lambda: dy.simulate_mollified(_grad0, [1.0], [0.0], beta=1.0, mu=1.0, eps=0.1, t_end=np.inf), ValueError, "`t_end` must be a finite number"),
    ("mollified: t_end early", lambda: dy.simulate_mollified(_grad0, [1.0], [0.0], beta=1.0, mu=1.0, eps=0.1, t_end=0.5), ValueError, "`t_end` must be >= the end of the last window"),
    ("mollified: eps nan", lambda: dy.simulate_mollified(_grad0, [1.0], [0.0], beta=1.0, mu=1.0, eps=np.nan), ValueError, "`eps` must be a finite number > 0"),
    ("mollified: grad", lambda: dy.simulate_mollified(3, [1.0], [0.0], beta=1.0, mu=1.0, eps=0.1), TypeError, "`grad` must be callable"),
    ("response: t1 nan", lambda: dy.impulse_response([1.0], np.nan, 1.0, beta=1.0, mu=1.0), ValueError, "`t1` must be a finite number"),
    ("response: w0 shape", lambda: dy.impulse_response([1.0], 0.0, [1.0, 2.0], beta=1.0, mu=1.0, w0=[1.0, 2.0, 3.0]), ValueError, "`w0` must be a scalar or have the shape of `g`"),
    ("forcing: traj", lambda: dy.step_forcing(None, 1.0), TypeError, "`traj` must be an ImpulseTrajectory"),
    ("heavy_ball: spacing", lambda: dy.heavy_ball(1.0, 1.0, 0.0), ValueError, "`spacing` must be a finite number > 0"),
    ("heavy_ball: mu nan", lambda: dy.heavy_ball(1.0, np.nan, 1.0), ValueError, "`mu`"),
    ("positions: grad", lambda: dy.heavy_ball_positions("g", [0.0], 3, 0.1, 0.5), TypeError, "`grad` must be callable"),
    ("positions: n 0", lambda: dy.heavy_ball_positions(_grad0, [0.0], 0, 0.1, 0.5), ValueError, "`n` must be >= 1"),
    ("positions: momentum nan", lambda: dy.heavy_ball_positions(_grad0, [0.0], 3, 0.1, np.nan), ValueError, "`momentum` must be finite"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD_DY], ids=[c[0] for c in _BAD_DY])
def test_bad_input_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_free_motion_dissipation_is_the_integral_of_2_beta_T():
    # between windows D grows by int 2 beta T dt; check it against quadrature of the stored v
    from scipy.integrate import trapezoid

    traj = dy.simulate_mollified(lambda k, w: w - 1.0, [1.0], [0.0], beta=0.7, mu=2.0, eps=0.2,
                                 t_end=6.0)
    t = np.linspace(1.2, 6.0, 4001)
    _, v = traj.at(t)
    D, W = traj.energies_at(t)
    T = 0.5 * 2.0 * v[:, 0] ** 2
    np.testing.assert_allclose(D[-1] - D[0], trapezoid(2 * 0.7 * T, t), rtol=1e-6)
    assert np.all(W == W[0])  # no work against the supervision outside the window


def test_mollified_work_against_the_supervision_is_the_integral_of_F_dot_v():
    # W_sup(t) = int zeta(theta - t_k) grad(w) . v dtheta, here by quadrature of the stored motion
    from scipy.integrate import trapezoid

    beta, mu, eps, tk = 0.7, 2.0, 0.2, 1.0
    traj = dy.simulate_mollified(lambda k, w: w - 1.0, [tk], [0.0], beta=beta, mu=mu, eps=eps, t_end=3.0)
    t = np.linspace(tk - eps, tk + eps, 20001)
    w, v = traj.at(t)
    F = mollifier(t - tk, eps) * (w[:, 0] - 1.0)
    _, W = traj.energies_at(t)
    np.testing.assert_allclose(W[-1] - W[0], trapezoid(F * v[:, 0], t), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(traj.W_sup[-1], W[-1], rtol=1e-9)
    D, Ws = traj.energies_at(2.0)
    assert np.ndim(D) == 0 and np.ndim(Ws) == 0 and Ws == pytest.approx(W[-1], rel=1e-9)


_BAD_DY2 = [
    ("grad returns text", lambda: dy.simulate_impulses(lambda k, w: "g", [1.0], [0.0], beta=1.0, mu=1.0), TypeError, r"^`grad` must return real numbers, got str 'g' at k = 0$"),
    ("w0 2-D", lambda: dy.simulate_impulses(_grad0, [1.0], np.zeros((2, 2)), beta=1.0, mu=1.0), ValueError, r"^`w0` must be a scalar or 1-D array of weights, got shape \(2, 2\)$"),
    ("response g 2-D", lambda: dy.impulse_response([1.0], 0.0, np.ones((2, 2)), beta=1.0, mu=1.0), ValueError, r"^`g` must be a scalar or 1-D array"),
    ("response t nan", lambda: dy.impulse_response([np.nan], 0.0, 1.0, beta=1.0, mu=1.0), ValueError, r"^`t` must be finite"),
    ("forcing t nan", lambda: dy.step_forcing(dy.simulate_impulses(_grad0, [1.0], [0.0], beta=1.0, mu=1.0), np.nan), ValueError, r"^`t` must be finite"),
    ("at t nan", lambda: dy.simulate_mollified(_grad0, [1.0], [0.0], beta=1.0, mu=1.0, eps=0.1).at(np.nan), ValueError, r"^`t` must be finite"),
    ("rtol floor", lambda: dy.simulate_mollified(_grad0, [1.0], [0.0], beta=1.0, mu=1.0, eps=0.1, rtol=1e-20), ValueError, r"^`rtol` must be >= 2.22e-14 \(scipy's floor\)"),
    ("momentum shape", lambda: dy.heavy_ball_positions(_grad0, [0.0], 3, 0.1, [0.5, 0.5, 0.5]), ValueError, r"^`momentum` must be a scalar or have n-1 = 2 entries"),
    ("momentum 2-D", lambda: dy.heavy_ball_positions(_grad0, [0.0], 3, 0.1, np.ones((2, 1))), ValueError, r"^`momentum` must be 1-D"),
    ("cognitive eta", lambda: dy.cognitive_parameters(np.nan, 0.5), ValueError, r"^`eta` must be a finite number > 0"),
    ("cognitive spacing", lambda: dy.cognitive_parameters(0.1, 0.5, spacing=0.0), ValueError, r"^`spacing` must be a finite number > 0"),
    ("fixed mass spacing", lambda: dy.fixed_mass_heavy_ball(1.0, 0.5, spacing=-1.0), ValueError, r"^`spacing` must be a finite number > 0"),
    ("phase h", lambda: dy.phase_volume_factor(lambda w: w, np.zeros(2), np.zeros(2), 0.1, 0.5, h=0.0), ValueError, r"^`h` must be a finite number > 0"),
    ("phase w", lambda: dy.phase_volume_factor(lambda w: w, np.zeros((2, 2)), np.zeros(2), 0.1, 0.5), ValueError, r"^`w` must be 1-D"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD_DY2], ids=[c[0] for c in _BAD_DY2])
def test_exact_messages_name_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_fixed_mass_reading_defaults_to_unit_spacing():
    assert dy.fixed_mass_heavy_ball(2.0, 0.5) == dy.fixed_mass_heavy_ball(2.0, 0.5, 1.0)
    assert dy.fixed_mass_heavy_ball(2.0, 0.5) != dy.fixed_mass_heavy_ball(2.0, 0.5, 2.0)


# ------------------------------------------------------- from the survivors of a mutation sample
_BAD_DY3 = [
    ("step shape", lambda: dy.heavy_ball_positions(lambda w: 0 * w, [0.0, 0.0], 4, np.ones((2, 2)), 0.5), ValueError, r"^`step` must be a scalar, \(m,\) = \(2,\), or \(n-1, 1\) / \(n-1, m\) = \(3, 2\), got shape \(2, 2\)$"),
    ("matched rho 1", lambda: dy.matched_heavy_ball(0.1, 1.0), ValueError, r"^`rho` must lie in \[0, 1\)"),
    ("fixed mass rho 0", lambda: dy.fixed_mass_heavy_ball(1.0, 0.0), ValueError, r"^`rho` must lie in \(0, 1\)"),
    ("cognitive rho 1.5", lambda: dy.cognitive_parameters(0.1, 1.5), ValueError, r"^`rho` must be a finite number in \(0\.0, 1\.0\)"),
    ("fixed mass mu", lambda: dy.fixed_mass_heavy_ball(-1.0, 0.5), ValueError, r"^`mu` must be a finite number > 0"),
    ("response beta", lambda: dy.impulse_response([1.0], 0.0, 1.0, beta=-1.0, mu=1.0), ValueError, r"^`beta` must be a finite number > 0"),
    ("v0 nan", lambda: dy.simulate_impulses(_grad0, [1.0], [0.0], beta=1.0, mu=1.0, v0=[np.nan]), ValueError, r"^`v0` must be finite"),
    ("impulse at t nan", lambda: dy.simulate_impulses(_grad0, [1.0], [0.0], beta=1.0, mu=1.0).at(np.nan), ValueError, r"^`t` must be finite"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD_DY3], ids=[c[0] for c in _BAD_DY3])
def test_more_messages_name_the_argument_and_the_bound(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_cognitive_parameters_accept_rho_just_below_one():
    assert np.all(np.isfinite(dy.cognitive_parameters(0.1, 0.999)))


def test_mollified_accepts_rtol_at_scipys_floor_and_t_at_its_end(rng):
    grad = quadratic_stream(rng, 1, 1)
    floor = 100 * np.finfo(float).eps
    mt = dy.simulate_mollified(grad, [0.5], [0.0], beta=1.0, mu=1.0, eps=0.2, t_end=2.0, rtol=floor)
    w, v = mt.at(mt.t_end)
    np.testing.assert_allclose(w, mt.w[-1], atol=1e-12)
    np.testing.assert_allclose(v, mt.v[-1], atol=1e-12)
