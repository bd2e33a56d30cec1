"""Tests of lagprop.action: the discretised cognitive action, its gradient, Hessian and integrator."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagprop import action as A
from lagprop.gradcheck import central_difference, fitted_order, relative_error


def _quartic():
    """A non-quadratic, time-dependent potential V = a(t) sum (w^4/4 - w^2)."""

    def a(t):
        return 1.0 + 0.5 * np.sin(t)

    return A.Potential(
        V=lambda t, w: a(t) * float(np.sum(w**4 / 4 - w**2)),
        grad=lambda t, w: a(t) * (w**3 - 2 * w),
        hess=lambda t, w: a(t) * np.diag(3 * w**2 - 2),
    )


def _with_interior(w, x):
    out = np.array(w, dtype=float, copy=True)
    out[1:-1] = x.reshape(out[1:-1].shape)
    return out


@settings(max_examples=25, deadline=None)
@given(n=st.integers(3, 12), m=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_gradient_matches_central_differences(n, m, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n + 1, m))
    kw = dict(t_end=1.7, beta=0.9, mu=rng.uniform(0.5, 2.0, m), potential=_quartic(), t0=0.3)
    g = A.action_gradient(w, **kw)
    fd = central_difference(lambda x: A.discrete_action(_with_interior(w, x), **kw).scaled, w[1:-1])
    assert g.shape == (n - 1, m)
    assert relative_error(g, fd) < 1e-7


def test_gradient_check_rejects_a_wrong_gradient(rng):
    w = rng.standard_normal((9, 2))
    kw = dict(t_end=1.0, beta=1.0, mu=1.0, potential=_quartic())
    g = A.action_gradient(w, **kw)
    fd = central_difference(lambda x: A.discrete_action(_with_interior(w, x), **kw).scaled, w[1:-1])
    g_wrong = g.copy()
    g_wrong[3, 1] *= 1.001
    assert relative_error(g_wrong, fd) > 1e-5


def test_hessian_matches_central_differences_of_gradient(rng):
    n, m = 8, 2
    w = rng.standard_normal((n + 1, m))
    kw = dict(t_end=2.0, beta=1.3, mu=np.array([1.0, 2.0]), potential=_quartic())
    H = A.action_hessian(w, **kw)
    x0 = w[1:-1].ravel()
    rows = [central_difference(lambda x, i=i: A.action_gradient(_with_interior(w, x), **kw).ravel()[i], x0)
            for i in range(x0.size)]
    assert np.allclose(H, H.T)
    assert relative_error(H, np.array(rows)) < 1e-7


def test_el_residual_is_rescaled_gradient(rng):
    n = 10
    w = rng.standard_normal((n + 1, 2))
    kw = dict(t_end=3.0, beta=2.0, mu=1.5, potential=_quartic())
    t = A.time_grid(3.0, n)
    h = 3.0 / n
    g = A.action_gradient(w, **kw)
    r = A.el_residual(w, **kw)
    expected = -g * np.exp(2.0 * (t[-1] - t[1:-1]))[:, None] / h
    assert relative_error(r, expected) < 1e-12


def test_el_residual_converges_to_the_ode_operator():
    # w(t) = sin t: mu (w'' + beta w') + k w = mu(-sin t + beta cos t) + k sin t
    mu, beta, k = 1.3, 0.7, 2.0
    errs, hs = [], []
    for n in (20, 40, 80, 160):
        t = A.time_grid(2.0, n)
        r = A.el_residual(np.sin(t), t_end=2.0, beta=beta, mu=mu, potential=A.quadratic_potential(k))[:, 0]
        ti = t[1:-1]
        errs.append(np.max(np.abs(r - (mu * (-np.sin(ti) + beta * np.cos(ti)) + k * np.sin(ti)))))
        hs.append(2.0 / n)
    assert 1.9 < fitted_order(hs, errs) < 2.1


def test_scaled_action_agrees_with_direct_evaluation(rng):
    n, beta, T, mu = 40, 0.8, 3.0, np.array([1.0, 0.5])
    w = rng.standard_normal((n + 1, 2))
    P = _quartic()
    t = A.time_grid(T, n)
    h = T / n
    tm = 0.5 * (t[1:] + t[:-1])
    kin = np.sum(np.exp(beta * tm) * np.sum(mu * np.diff(w, axis=0) ** 2, axis=1) / (2 * h))
    c = np.ones(n + 1)
    c[[0, -1]] = 0.5
    pot = np.sum(c * h * np.exp(beta * t) * np.array([P.V(tj, wj) for tj, wj in zip(t, w)]))
    res = A.discrete_action(w, t_end=T, beta=beta, mu=mu, potential=P)
    assert res.log_scale == pytest.approx(beta * T)
    assert res.value == pytest.approx(kin - pot, rel=1e-12)


def test_scaled_action_does_not_overflow():
    n, T, beta = 1000, 100.0, 50.0
    t = A.time_grid(T, n)
    w = np.exp(-t / 10)[:, None] * np.ones((1, 3))
    with np.errstate(over="raise", invalid="raise"):
        res = A.discrete_action(w, t_end=T, beta=beta, mu=1.0, potential=A.quadratic_potential(1.0))
        g = A.action_gradient(w, t_end=T, beta=beta, mu=1.0, potential=A.quadratic_potential(1.0))
        A.action_hessian(w, t_end=T, beta=beta, mu=1.0, potential=A.quadratic_potential(1.0))
    assert res.log_scale == pytest.approx(5000.0)
    assert np.isfinite(res.scaled) and np.all(np.isfinite(g))
    assert res.value == np.inf or res.value == -np.inf
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.exp(beta * T))  # the direct factor overflows


def test_second_variation_positive_definite_without_potential(rng):
    w = rng.standard_normal((31, 2))
    for beta in (0.1, 1.0, 10.0):
        ev = A.second_variation_spectrum(w, t_end=5.0, beta=beta, mu=np.array([1.0, 3.0]))
        assert ev.min() > 0
        if beta * 5.0 < 10:  # beyond that the scaled Hessian spans e^{-beta T}: use the weighted form
            H = A.action_hessian(w, t_end=5.0, beta=beta, mu=np.array([1.0, 3.0]))
            np.linalg.cholesky(H)  # raises unless positive definite


def test_second_variation_has_negative_eigenvalues_when_potential_matters():
    n, T, mu, beta = 60, 10.0, 1.0, 0.2
    w = np.zeros(n + 1)
    k_crit = mu * (beta**2 / 4 + np.pi**2 / T**2)
    ev_below = A.second_variation_spectrum(w, t_end=T, beta=beta, mu=mu, potential=A.quadratic_potential(0.9 * k_crit))
    ev_above = A.second_variation_spectrum(w, t_end=T, beta=beta, mu=mu, potential=A.quadratic_potential(4.0))
    assert ev_below.min() > 0
    assert ev_above.min() < 0 < ev_above.max()
    # same inertia as the (scaled) Hessian itself (Sylvester)
    H = A.action_hessian(w, t_end=T, beta=beta, mu=mu, potential=A.quadratic_potential(4.0))
    assert np.sum(np.linalg.eigvalsh(H) < 0) == np.sum(ev_above < 0)
    # closed form on the grid, and its continuous limit
    assert np.allclose(ev_above, A.quadratic_spectrum(4.0, mu=mu, beta=beta, t_end=T, n=n), rtol=1e-10, atol=1e-9)
    assert np.sum(ev_above < 0) == np.sum(A.quadratic_spectrum(4.0, mu=mu, beta=beta, t_end=T) < 0)


def test_integrator_is_stationary_for_its_own_end_points(rng):
    P = _quartic()
    tr = A.el_solve(rng.standard_normal(2), rng.standard_normal(2), n=50, t_end=4.0, beta=0.5, mu=1.0, potential=P)
    g = A.action_gradient(tr.w, t_end=4.0, beta=0.5, mu=1.0, potential=P)
    r = A.el_residual(tr.w, t_end=4.0, beta=0.5, mu=1.0, potential=P)
    assert np.max(np.abs(r)) < 1e-9 * max(1.0, np.max(np.abs(tr.w)))
    assert np.max(np.abs(g)) < 1e-12


def test_integrator_exact_without_potential():
    tr = A.el_solve(1.0, -2.0, n=7, t_end=3.0, beta=1.5, mu=1.0)
    # the increments shrink by exactly e^{-beta h}
    d = np.diff(tr.w[:, 0])
    assert np.allclose(d[1:] / d[:-1], np.exp(-1.5 * 3.0 / 7), rtol=1e-13)


@pytest.mark.parametrize("k,beta", [(4.0, 0.4), (1.0, 3.0), (2.25, 3.0)])
def test_integrator_order_two(k, beta):
    hs, errs = [], []
    for n in (25, 50, 100, 200, 400):
        tr = A.el_solve(1.0, 0.5, n=n, t_end=5.0, beta=beta, mu=1.0, potential=A.quadratic_potential(k))
        exact = A.damped_oscillator(tr.t, 1.0, 0.5, k=k, mu=1.0, beta=beta)
        errs.append(np.max(np.abs(tr.w[:, 0] - exact)))
        hs.append(5.0 / n)
    assert 1.9 < fitted_order(hs, errs) < 2.1


def test_damped_oscillator_solves_the_ode():
    for k, beta in [(4.0, 0.4), (1.0, 3.0), (2.25, 3.0)]:
        t = np.linspace(0, 3, 7)
        h = 1e-4
        w = lambda s: A.damped_oscillator(s, 0.7, -0.2, k=k, mu=1.0, beta=beta)  # noqa: E731
        wdd = (w(t + h) - 2 * w(t) + w(t - h)) / h**2
        wd = (w(t + h) - w(t - h)) / (2 * h)
        assert np.max(np.abs(wdd + beta * wd + k * w(t))) < 1e-5
        assert w(np.array(0.0)) == pytest.approx(0.7)


def test_stream_potential_is_mollified_sum():
    targets = np.array([[1.0, -1.0], [0.5, 2.0]])
    P = A.stream_potential(lambda k, w: 0.5 * float(np.sum((w - targets[k]) ** 2)), [1.0, 2.0], 0.3,
                           grad=lambda k, w: w - targets[k], hess=lambda k, w: np.eye(2))
    w = np.array([0.2, 0.1])
    from lagprop.supervision import mollifier
    z = float(mollifier(0.1, 0.3))
    assert P.V(1.1, w) == pytest.approx(z * 0.5 * np.sum((w - targets[0]) ** 2))
    assert np.allclose(P.grad(2.1, w), z * (w - targets[1]))
    assert np.allclose(P.hess(1.1, w), z * np.eye(2))
    assert P.V(1.5, w) == 0.0 and np.all(P.grad(1.5, w) == 0)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(beta=0.0), "`beta`"),
        (dict(beta=-1.0), "`beta`"),
        (dict(mu=0.0), "`mu`"),
        (dict(mu=np.array([1.0, -1.0])), "`mu`"),
        (dict(mu=np.ones(3)), "`mu`"),
        (dict(t_end=0.0), "`t_end`"),
        (dict(w=np.ones((1, 2))), "`w`"),
        (dict(w=np.ones((2, 2, 2))), "`w`"),
        (dict(w=np.array([[0.0, np.nan], [1.0, 1.0], [2.0, 2.0]])), "`w`"),
        (dict(w=np.array([[0.0, np.inf], [1.0, 1.0], [2.0, 2.0]])), "`w`"),
        (dict(beta=np.inf), "`beta`"),
    ],
)
def test_bad_input(kwargs, match):
    args = dict(w=np.ones((5, 2)), t_end=1.0, beta=1.0, mu=1.0)
    args.update(kwargs)
    w = args.pop("w")
    for f in (A.discrete_action, A.action_gradient, A.action_hessian, A.second_variation_spectrum):
        with pytest.raises(ValueError, match=match):
            f(w, **args)


def test_bad_input_integrator_and_potential():
    with pytest.raises(ValueError, match="`w1`"):
        A.el_integrate([0.0, 1.0], [0.0], n=5, t_end=1.0, beta=1.0, mu=1.0)
    with pytest.raises(ValueError, match="`n`"):
        A.el_integrate([0.0], [0.0], n=0, t_end=1.0, beta=1.0, mu=1.0)
    with pytest.raises(ValueError, match="`beta`"):
        A.el_solve(0.0, 1.0, n=5, t_end=1.0, beta=-2.0, mu=1.0)
    with pytest.raises(ValueError, match="`potential.grad`"):
        bad = A.Potential(V=lambda t, w: 0.0, grad=lambda t, w: np.zeros(3))
        A.action_gradient(np.ones((4, 2)), t_end=1.0, beta=1.0, mu=1.0, potential=bad)
    with pytest.raises(ValueError, match="`potential`"):
        A.action_hessian(np.ones((4, 2)), t_end=1.0, beta=1.0, mu=1.0, potential=A.Potential(lambda t, w: 0.0, lambda t, w: w))
    with pytest.raises(ValueError, match="`k`"):
        A.quadratic_potential(-1.0)
    with pytest.raises(ValueError, match="`eps`"):
        A.stream_potential(lambda k, w: 0.0, [1.0], 0.0)


def test_spectrum_of_uncoupled_weights_is_the_union(rng):
    # two weights without coupling: the dense (m = 2) path must give the union of two m = 1 spectra
    n, T, beta = 20, 3.0, 0.7
    w = np.zeros((n + 1, 2))
    P2 = A.quadratic_potential(np.array([2.0, 5.0]))
    ev2 = A.second_variation_spectrum(w, t_end=T, beta=beta, mu=np.array([1.0, 0.5]), potential=P2)
    ev_a = A.second_variation_spectrum(w[:, :1], t_end=T, beta=beta, mu=1.0, potential=A.quadratic_potential(2.0))
    ev_b = A.second_variation_spectrum(w[:, :1], t_end=T, beta=beta, mu=0.5, potential=A.quadratic_potential(5.0))
    assert np.allclose(ev2, np.sort(np.concatenate([ev_a, ev_b])), rtol=1e-10, atol=1e-10)


def test_large_beta_t_is_computed_in_scaled_form():
    # beta t_end = 5000: e^{beta t} alone would overflow; the scaled action, its gradient, the
    # residual and the spectrum stay finite on a grid fine enough for e^{beta h / 2}
    beta, T, n = 50.0, 100.0, 400
    w = np.linspace(0.0, 1.0, n + 1)
    S = A.discrete_action(w, t_end=T, beta=beta, mu=1.0)
    r = A.el_residual(w, t_end=T, beta=beta, mu=1.0)
    ev = A.second_variation_spectrum(w, t_end=T, beta=beta, mu=1.0)
    q = A.quadratic_spectrum(1.0, mu=1.0, beta=beta, t_end=T, n=n)
    assert np.all(np.isfinite(r)) and np.all(np.isfinite(ev)) and np.all(np.isfinite(q))
    assert np.isfinite(S.scaled) and S.log_scale == pytest.approx(beta * T)
    np.testing.assert_allclose(np.sort(ev), np.sort(q + 1.0), rtol=1e-9)  # V = 0 against k = 1


def _pot(**changes):
    """A good quadratic potential on two weights with one callable replaced."""
    base = dict(V=lambda t, w: 0.5 * float(w @ w), grad=lambda t, w: w, hess=lambda t, w: np.eye(w.size))
    base.update(changes)
    return A.Potential(**base)


_BAD_ACTION = [
    ("residual: coarse", lambda: A.el_residual(np.zeros(3), t_end=100.0, beta=50.0, mu=1.0), ValueError, r"`beta` \* h / 2 = 1250 exceeds 700"),
    ("spectrum: coarse", lambda: A.second_variation_spectrum(np.zeros(3), t_end=100.0, beta=50.0, mu=1.0), ValueError, "overflows float64 on this grid; use n >= 4"),
    ("quadratic: coarse", lambda: A.quadratic_spectrum(1.0, mu=1.0, beta=50.0, t_end=100.0, n=2), ValueError, "`beta` \\* h / 2"),
    ("quadratic: k nan", lambda: A.quadratic_spectrum(np.nan, mu=1.0, beta=1.0, t_end=1.0), ValueError, "`k` must be a finite number"),
    ("quadratic: k None", lambda: A.quadratic_spectrum(None, mu=1.0, beta=1.0, t_end=1.0), TypeError, "`k` must be a real number"),
    ("quadratic: count 0", lambda: A.quadratic_spectrum(1.0, mu=1.0, beta=1.0, t_end=1.0, count=0), ValueError, "`count` must be >= 1"),
    ("time_grid: t0 nan", lambda: A.time_grid(1.0, 4, t0=np.nan), ValueError, "`t0` must be a finite number"),
    ("time_grid: n float", lambda: A.time_grid(1.0, 4.0), TypeError, "`n` must be an integer"),
    ("action: w complex", lambda: A.discrete_action(np.zeros(4) + 0j, t_end=1.0, beta=1.0, mu=1.0), TypeError, "`w` must be real"),
    ("action: potential", lambda: A.discrete_action(np.zeros(4), t_end=1.0, beta=1.0, mu=1.0, potential=3), TypeError, "`potential` must be a lagprop.action.Potential"),
    ("gradient: grad shape", lambda: A.action_gradient(np.ones((4, 2)), t_end=1.0, beta=1.0, mu=1.0, potential=_pot(grad=lambda t, w: np.zeros(3))),
     ValueError, r"^`potential.grad` must return an array of shape \(2,\), got shape \(3,\) at t = 0.333333$"),
    ("gradient: grad complex", lambda: A.action_gradient(np.ones((4, 2)), t_end=1.0, beta=1.0, mu=1.0, potential=_pot(grad=lambda t, w: w + 1j)),
     TypeError, r"^`potential.grad` must return real numbers, got a complex array of shape \(2,\) at t = 0.333333$"),
    ("action: V vector", lambda: A.discrete_action(np.ones((4, 2)), t_end=1.0, beta=1.0, mu=1.0, potential=_pot(V=lambda t, w: w)),
     ValueError, r"^`potential.V` must return an array of shape \(\), got shape \(2,\) at t = 0$"),
    ("action: V nan", lambda: A.discrete_action(np.ones((4, 2)), t_end=1.0, beta=1.0, mu=1.0, potential=_pot(V=lambda t, w: np.nan)),
     ValueError, r"^`potential.V` returned non-finite values \(nan or inf\) at t = 0$"),
    ("action: V text", lambda: A.discrete_action(np.ones((4, 2)), t_end=1.0, beta=1.0, mu=1.0, potential=_pot(V=lambda t, w: "V")),
     TypeError, r"^`potential.V` must return real numbers, got str 'V' at t = 0$"),
    ("hessian: hess shape", lambda: A.action_hessian(np.ones((4, 2)), t_end=1.0, beta=1.0, mu=1.0, potential=_pot(hess=lambda t, w: np.eye(3))),
     ValueError, r"^`potential.hess` must return an array of shape \(2, 2\), got shape \(3, 3\) at t = 0.333333$"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD_ACTION], ids=[c[0] for c in _BAD_ACTION])
def test_bad_input_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("call, exc, match", [
    (lambda: A.damped_oscillator(1.0, np.nan, 0.0, k=1.0, mu=1.0, beta=1.0), ValueError, "`w0` must be a finite number"),
    (lambda: A.damped_oscillator(1.0, 0.0, 1j, k=1.0, mu=1.0, beta=1.0), TypeError, "`v0` must be a real number"),
    (lambda: A.damped_oscillator(1.0, 0.0, 0.0, k=-1.0, mu=1.0, beta=1.0), ValueError, "`k` must be a finite number >= 0"),
    (lambda: A.quadratic_potential([]), ValueError, "`k` must be a scalar or 1-D array"),
])
def test_oscillator_and_potential_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_potentials_with_a_center_and_several_weights_match_central_differences():
    P = A.quadratic_potential(np.array([2.0, 5.0]), center=np.array([0.3, -1.0]))
    w = np.array([1.2, 0.4])
    np.testing.assert_allclose(P.grad(0.0, w), central_difference(lambda z: P.V(0.0, z), w), rtol=1e-8)
    np.testing.assert_allclose(P.grad(0.0, w), [2.0 * 0.9, 5.0 * 1.4], rtol=1e-14)
    S = A.stream_potential(lambda k, z: float(np.sum((z - k) ** 2)), [1.0, 2.0], 0.4,
                           grad=lambda k, z: 2 * (z - k), hess=lambda k, z: 2 * np.eye(z.size))
    t = 1.1
    np.testing.assert_allclose(S.grad(t, w), central_difference(lambda z: S.V(t, z), w), rtol=1e-7)
    assert S.hess(t, w).shape == (2, 2)
    np.testing.assert_allclose(S.hess(t, w), 2 * mollifier_value(t - 1.0, 0.4) * np.eye(2), rtol=1e-12)


def mollifier_value(tau, eps):
    from lagprop.supervision import mollifier

    return float(mollifier(tau, eps))


def test_closed_form_spectrum_integrator_defaults_and_short_grids():
    mu, beta, T, k = 1.5, 3.0, 2.0, 0.7
    lam = A.quadratic_spectrum(k, mu=mu, beta=beta, t_end=T, count=3)
    np.testing.assert_allclose(lam, [mu * (beta ** 2 / 4 + (p * np.pi / T) ** 2) - k for p in (1, 2, 3)],
                               rtol=1e-14)
    tr = A.el_integrate([0.0], [0.1], n=4, t_end=1.0, beta=1.0, mu=1.0)
    np.testing.assert_allclose(tr.t, [0.0, 0.25, 0.5, 0.75, 1.0])
    g = A.action_gradient(np.zeros(3), t_end=1.0, beta=1.0, mu=1.0)  # three points: one interior
    assert g.shape == (1, 1)
    with pytest.raises(ValueError, match=r"^`t0` must be a scalar, got an array of shape \(2,\)$"):
        A.discrete_action(np.zeros(4), t_end=1.0, beta=1.0, mu=1.0, t0=[0.0, 1.0])
    with pytest.raises(ValueError, match=r"^`times` must be 1-D"):
        A.stream_potential(lambda k, z: 0.0, np.ones((2, 1)), 0.1)
    with pytest.raises(ValueError, match=r"^`center` must be finite"):
        A.quadratic_potential(1.0, center=np.nan)
    with pytest.raises(ValueError, match=r"^`n` must be >= 2"):
        A.quadratic_spectrum(1.0, mu=1.0, beta=1.0, t_end=1.0, n=1)
    with pytest.raises(ValueError, match=r"^`t_end` must be a finite number > 0"):
        A.el_solve(0.0, 1.0, n=5, t_end=0.0, beta=1.0, mu=1.0)
    with pytest.raises(ValueError, match=r"`v0`"):
        A.taylor_start(np.zeros(2), np.zeros(3), h=0.1, beta=1.0, mu=1.0)
