"""Tests of lagprop.landscapes: intervals and paired tests, the quadratic baseline, the XOR network,
the double-well stream and the momentum sweeps in both readings."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lagprop import datasets, dynamics, gradcheck, lagrangian, landscapes, mlp


# ----------------------------------------------------------------------------------------------
# intervals and paired tests, against hand computations and scipy's exact binomial

def test_wilson_known_values():
    # 50 of 100 at 95 %: the tabulated Wilson interval (0.4038, 0.5962)
    lo, hi = landscapes.wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=5e-5) and hi == pytest.approx(0.5962, abs=5e-5)
    # 0 of 10: lower end 0, upper end z^2 / (n + z^2)
    lo, hi = landscapes.wilson_interval(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-15) and hi == pytest.approx(1.96 ** 2 / (10 + 1.96 ** 2))
    lo, hi = landscapes.wilson_interval(np.array([0, 10]), 10)
    assert lo.shape == (2,) and hi[1] == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 500), frac=st.floats(0, 1), z=st.floats(0.5, 3.0))
def test_wilson_contains_estimate_and_is_symmetric(n, frac, z):
    s = int(round(frac * n))
    lo, hi = landscapes.wilson_interval(s, n, z)
    assert 0 <= lo <= s / n + 1e-12 and s / n - 1e-12 <= hi <= 1
    lo2, hi2 = landscapes.wilson_interval(n - s, n, z)
    assert lo2 == pytest.approx(1 - hi, abs=1e-12) and hi2 == pytest.approx(1 - lo, abs=1e-12)


def test_mcnemar_by_hand():
    # 1 pair where only a succeeds, 7 where only b does, 2 concordant: n = 8 discordant pairs,
    # P(X <= 1) = (1 + 8) / 256 under Binomial(8, 1/2), two-sided p = 18/256
    a = np.array([1, 0, 0, 0, 0, 0, 0, 0, 1, 0], bool)
    b = np.array([0, 1, 1, 1, 1, 1, 1, 1, 1, 0], bool)
    n10, n01, p = landscapes.mcnemar(a, b)
    assert (n10, n01) == (1, 7) and p == pytest.approx(18 / 256, rel=1e-12)
    assert landscapes.mcnemar(a, a) == (0, 0, 1.0)
    # symmetric: 4 against 4 is no evidence at all
    assert landscapes.mcnemar(np.r_[np.ones(4, bool), np.zeros(4, bool)],
                              np.r_[np.zeros(4, bool), np.ones(4, bool)])[2] == pytest.approx(1.0)


@settings(max_examples=30, deadline=None)
@given(n10=st.integers(0, 60), n01=st.integers(0, 60), same=st.integers(0, 20))
def test_mcnemar_is_the_exact_binomial_tail(n10, n01, same):
    a = np.r_[np.ones(n10, bool), np.zeros(n01, bool), np.ones(same, bool)]
    b = np.r_[np.zeros(n10, bool), np.ones(n01, bool), np.ones(same, bool)]
    _, _, p = landscapes.mcnemar(a, b)
    n = n10 + n01
    expect = 1.0 if n == 0 else min(1.0, 2 * stats.binom.cdf(min(n10, n01), n, 0.5))
    assert p == pytest.approx(expect, rel=1e-10, abs=1e-300)


def test_cochran_q_by_hand():
    # three settings (rows), six seeds (columns); C = (5, 3, 1), N = 9, sum R_i^2 = 19:
    # Q = 2 (3 * 35 - 81) / (27 - 19) = 6, and a chi-square with 2 df has sf(6) = e^{-3}
    x = np.array([[1, 1, 1, 0, 1, 1],
                  [1, 1, 0, 0, 1, 0],
                  [1, 0, 0, 0, 0, 0]], bool)
    q, p = landscapes.cochran_q(x)
    assert q == pytest.approx(6.0, rel=1e-14) and p == pytest.approx(np.exp(-3.0), rel=1e-12)
    assert landscapes.cochran_q(np.ones((3, 5), bool)) == (0.0, 1.0)


def test_cochran_q_with_two_settings_is_mcnemars_chi_square(rng):
    x = rng.random((2, 300)) < np.array([[0.4], [0.6]])
    n10, n01, _ = landscapes.mcnemar(x[0], x[1])
    q, p = landscapes.cochran_q(x)
    assert q == pytest.approx((n10 - n01) ** 2 / (n10 + n01), rel=1e-12)
    assert p == pytest.approx(stats.chi2.sf((n10 - n01) ** 2 / (n10 + n01), 1), rel=1e-12)


def test_holm_by_hand_and_against_bonferroni():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> running max
    adj = landscapes.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adj, [0.03, 0.06, 0.06, 0.02], rtol=1e-14)
    p = np.random.default_rng(1).random(7) ** 3
    adj = landscapes.holm(p)
    assert np.all(adj >= p - 1e-15) and np.all(adj <= np.minimum(1, 7 * p) + 1e-15)
    assert landscapes.holm([0.9, 0.8]).tolist() == [1.0, 1.0]


# ----------------------------------------------------------------------------------------------
# the quadratic baseline, against iterating the map and against simulation

def _decays(step, rho, lam, n=3000):
    # iterate w_{k+1} = (1 + rho - s lam) w_k - rho w_{k-1} from w_0 = w_{-1} = 1
    w, w_prev = np.ones_like(step * rho * lam), np.ones_like(step * rho * lam)
    for _ in range(n):
        w, w_prev = (1 + rho - step * lam) * w - rho * w_prev, w
        w = np.clip(w, -1e6, 1e6)
    return np.abs(w) < 1e-3


def test_stability_condition_agrees_with_iterating_the_map():
    eta_lam = np.linspace(-0.5, 60.0, 241)[:, None]
    rho = np.array([0.0, 0.5, 0.8, 0.9, 0.95])[None, :]
    step = 1.0 * (1 - rho)                       # eta = 1, lam = eta_lam
    stable = landscapes.heavy_ball_stable(step + 0 * eta_lam, rho + 0 * eta_lam, eta_lam)
    # away from the boundary (where decay is too slow to see), the condition is the iteration
    bound = 2 * (1 + rho) / (1 - rho)
    far = (np.abs(eta_lam - bound) > 0.3) & (np.abs(eta_lam) > 0.3)
    assert np.array_equal(stable[far], _decays(step, rho, eta_lam)[far])
    assert stable.any() and (~stable).any()


def test_stationary_variance_agrees_with_simulation():
    rng = np.random.default_rng(5)
    lam, sigma = 2.0, 0.7
    for step, rho in ((0.2, 0.0), (0.02, 0.9), (0.5, 0.6)):
        v = landscapes.stationary_variance(step, rho, lam, sigma)
        w, w_prev = np.zeros(4000), np.zeros(4000)
        for _ in range(3000):                   # burn-in: many relaxation times
            g = lam * w + sigma * rng.standard_normal(w.size)
            w, w_prev = w - step * g + rho * (w - w_prev), w
        # 4000 independent chains: the sample variance has relative s.e. sqrt(2/4000) = 2.2 %
        assert np.var(w) == pytest.approx(v, rel=0.1)
    with pytest.raises(ValueError, match="unstable"):
        landscapes.stationary_variance(2.0, 0.0, 1.5, 1.0)


# ----------------------------------------------------------------------------------------------
# the XOR network

def test_xor_grad_matches_costate_pass_and_central_differences(rng):
    X, D = datasets.xor()
    theta = rng.standard_normal((4, 9))
    g = landscapes.xor_grad(theta, X, D[:, 0])
    like = mlp.init_params([2, 2, 1])
    for b in range(4):
        params = mlp.unflatten(theta[b], like)
        _, grads = lagrangian.backprop(params, X[b:b + 1], D[b:b + 1], activation="sigmoid",
                                       output_activation="sigmoid")
        assert gradcheck.relative_error(g[b], mlp.flatten(grads)) < 1e-12

        def f(t, b=b):
            return float(((D[b, 0] - landscapes.xor_forward(t[None], X[b:b + 1])[1]) ** 2)[0])

        assert gradcheck.relative_error(g[b], gradcheck.central_difference(f, theta[b])) < 1e-7


def test_xor_cost_is_sum_of_pattern_costs(rng):
    theta = rng.standard_normal((3, 9))
    X, D = datasets.xor()
    like = mlp.init_params([2, 2, 1])
    for b in range(3):
        fwd = lagrangian.forward(mlp.unflatten(theta[b], like), X, activation="sigmoid",
                                 output_activation="sigmoid")
        assert landscapes.xor_cost(theta)[b] == pytest.approx(np.sum((D - fwd.X[-1]) ** 2), rel=1e-13)


# ----------------------------------------------------------------------------------------------
# the double well and the sweeps

def test_double_well_stationary_points():
    s = landscapes.tilted_double_well(0.25, n_patterns=10, spread=0.5, seed=3)
    assert s.tilt == pytest.approx(0.25, abs=1e-14)
    assert s.a.std() == pytest.approx(0.5)
    for w in (s.w_global, s.w_barrier, s.w_spurious):
        assert abs(w ** 3 - w + s.tilt) < 1e-12
    assert s.w_global < s.w_barrier < s.w_spurious
    assert s.potential(s.w_global) < s.potential(s.w_spurious) < s.barrier
    # the barrier is the maximum of the average potential between the two minima
    grid = np.linspace(s.w_global, s.w_spurious, 2001)
    assert s.barrier == pytest.approx(s.potential(grid).max(), abs=1e-6)


def _replay(s, w0, seq, rho, step, tol, n):
    w = dynamics.heavy_ball_positions(lambda k, w: s.grad(seq[k], w), [w0], n + 1, float(step),
                                      float(rho))[:, 0]
    outside = np.flatnonzero(np.abs(w - s.w_global) >= tol)
    return w, (outside.max() if outside.size else 0)


def test_sweep_double_well_replays_scalar_heavy_ball_in_both_readings():
    s = landscapes.tilted_double_well(0.25, n_patterns=5, spread=1.0, seed=1)
    rng = np.random.default_rng(7)
    w0 = rng.uniform(s.w_barrier, 2.0, 3)
    seq = np.concatenate([np.argsort(rng.random((3, 5)), axis=1)[0] for _ in range(40)])
    for kw, rhos in (({"eta": 0.3}, [0.0, 0.9]), ({"mu": 4.0, "spacing": 0.5}, [0.5, 0.9])):
        r = landscapes.sweep_double_well(s, rhos, n_seeds=3, n_epochs=40, tol=0.5, seed=7, **kw)
        for i, rho in enumerate(rhos):
            if "eta" in kw:
                step = 0.3 * (1 - rho)
            else:                                # the impulsive motion at beta, mu itself
                beta = -np.log(rho) / 0.5
                pad = np.r_[seq, 0]               # the last impulse acts after the last position
                traj = dynamics.simulate_impulses(lambda k, w: s.grad(pad[k], w),
                                                  0.5 * np.arange(201), [w0[0]], beta=beta, mu=4.0)
                step = (1 - rho) / (beta * 4.0)
            w, last = _replay(s, w0[0], seq, rho, step, 0.5, 200)
            if "mu" in kw:
                # the map is chaotic here: rounding grows, so compare the first 30 instants
                np.testing.assert_allclose(traj.w[:31, 0], w[:31], rtol=1e-10, atol=1e-12)
            assert r.final[i, 0] == pytest.approx(w[-1], rel=1e-12)
            assert r.success[i, 0] == (abs(w[-1] - s.w_global) < 0.5)
            if r.success[i, 0]:
                assert r.time[i, 0] == last       # the last step outside, as documented
        assert r.reading == ("matched" if "eta" in kw else "fixed mass")
        np.testing.assert_allclose(r.start_energy, s.potential(w0), rtol=1e-14)


def test_fixed_mass_effective_rate_grows_and_matched_is_constant():
    s = landscapes.tilted_double_well(0.25, n_patterns=5)
    rhos = np.array([0.5, 0.9, 0.99])
    fm = landscapes.sweep_double_well(s, rhos, mu=2.0, n_seeds=4, n_epochs=2)
    np.testing.assert_allclose(fm.eta, 1.0 / (-np.log(rhos) * 2.0), rtol=1e-14)
    assert np.all(np.diff(fm.eta) > 0)
    mt = landscapes.sweep_double_well(s, rhos, eta=0.2, n_seeds=4, n_epochs=2)
    np.testing.assert_allclose(mt.eta, 0.2, rtol=1e-14)
    with pytest.raises(ValueError, match="exactly one of `eta`"):
        landscapes.sweep_double_well(s, rhos, n_seeds=4, n_epochs=2)
    with pytest.raises(ValueError, match="`rhos`"):
        landscapes.sweep_double_well(s, [0.0, 0.5], mu=1.0, n_seeds=2, n_epochs=1)


def test_diverging_runs_stop_quietly_and_fail():
    s = landscapes.tilted_double_well(0.25, n_patterns=5)
    r = landscapes.sweep_double_well(s, [0.5], eta=3.0, n_seeds=20, n_epochs=5)
    assert r.diverged.all() and not r.success.any() and np.all(np.isfinite(r.final))


def test_paired_tests_count_discordant_seeds_and_subsets_split():
    r = landscapes.sweep_xor([0.0, 0.5, 0.95], eta=2.0, n_seeds=40, n_epochs=80, seed=3)
    t = r.paired(reference=0)
    for i in (1, 2):
        assert t.n10[i] == np.sum(r.success[0] & ~r.success[i])
        assert t.n01[i] == np.sum(~r.success[0] & r.success[i])
    assert np.isnan(t.p[0]) and np.all(t.p_holm[1:] >= t.p[1:])
    assert (t.q, t.q_p) == landscapes.cochran_q(r.success)
    hi, lo = r.subset(r.above), r.subset(~r.above)
    assert hi.n_seeds + lo.n_seeds == 40
    np.testing.assert_array_equal(hi.successes + lo.successes, r.successes)
    assert all(len(line) <= 88 for line in r.table().splitlines() + t.table().splitlines())


def test_sweep_result_fields_and_success_definition():
    rhos = np.array([0.0, 0.9])
    r = landscapes.sweep_xor(rhos, eta=2.0, n_seeds=20, n_epochs=50, seed=1)
    assert r.success.shape == (2, 20) and r.unit == "epochs"
    np.testing.assert_array_equal(r.success, r.final < 0.1)
    assert np.all(np.isnan(r.time[~r.success])) and np.all(r.time[r.success] <= 50)
    lo, hi = r.interval
    assert np.all(lo <= r.rate) and np.all(r.rate <= hi)
    th0 = np.random.default_rng(1).uniform(-1, 1, (20, 9))
    np.testing.assert_allclose(r.start_energy, landscapes.xor_cost(th0), rtol=1e-14)


def test_xor_has_trapped_runs_for_plain_gradient_descent():
    # the landscape must actually trap online gradient descent for some seeds (else it tests nothing)
    r = landscapes.sweep_xor([0.0], eta=2.0, n_seeds=100, n_epochs=300, seed=0)
    assert 0.05 < r.rate[0] < 0.95


def test_table_lists_every_rho():
    s = landscapes.tilted_double_well(0.25, n_patterns=5)
    r = landscapes.sweep_double_well(s, [0.0, 0.5], eta=0.1, n_seeds=10, n_epochs=5)
    lines = r.table().splitlines()
    assert len(lines) == 3 and lines[1].split()[0] == "0.00"


BAD = [
    (landscapes.wilson_interval, (11, 10), ValueError, "`successes`"),
    (landscapes.wilson_interval, (0, 0), ValueError, "`n`"),
    (landscapes.mcnemar, ([1, 0], [1, 0]), TypeError, "`a`"),
    (landscapes.mcnemar, (np.ones(2, bool), np.ones(3, bool)), ValueError, "`b`"),
    (landscapes.cochran_q, (np.ones((1, 4), bool),), ValueError, "`success`"),
    (landscapes.holm, ([0.5, 1.5],), ValueError, "`pvalues`"),
    (landscapes.holm, ([0.5, np.nan],), ValueError, "`pvalues`"),
    (landscapes.heavy_ball_stable, (0.0, 0.5, 1.0), ValueError, "`step`"),
    (landscapes.heavy_ball_stable, (0.1, 1.0, 1.0), ValueError, "`momentum`"),
    (landscapes.stationary_variance, (0.1, 0.5, -1.0, 1.0), ValueError, "`lam`"),
    (landscapes.stationary_variance, (0.1, 0.5, 1.0, np.nan), ValueError, "`sigma`"),
    (landscapes.tilted_double_well, (0.5,), ValueError, "`tilt`"),
    (landscapes.xor_grad, (np.zeros((2, 8)), np.zeros((2, 2)), np.zeros(2)), ValueError, "`theta`"),
    (landscapes.xor_grad, (np.zeros((2, 9)), np.zeros((3, 2)), np.zeros(2)), ValueError, "`x`"),
    (landscapes.xor_cost, (np.full((2, 9), np.nan),), ValueError, "`theta`"),
    (landscapes.sweep_double_well, (None, [0.0]), TypeError, "`stream`"),
]


@pytest.mark.parametrize("f, args, exc, match", BAD, ids=lambda x: getattr(x, "__name__", None))
def test_bad_input(f, args, exc, match):
    with pytest.raises(exc, match=match):
        f(*args)


def test_sweep_bad_input():
    with pytest.raises(ValueError, match="`rhos`"):
        landscapes.sweep_xor([0.5, 1.2], eta=1.0, n_seeds=2, n_epochs=1)
    with pytest.raises(ValueError, match="`reference`"):
        landscapes.sweep_xor([0.0, 0.5], eta=1.0, n_seeds=2, n_epochs=1).paired(reference=2)


def test_plot_helpers_return_axes():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lagprop import plotting

    s = landscapes.tilted_double_well(0.25, n_patterns=5)
    r = landscapes.sweep_double_well(s, [0.0, 0.9], eta=0.1, n_seeds=20, n_epochs=20)
    ax = plotting.success_rates([r], ["well"])
    assert len(ax.lines) == 1
    ax2 = plotting.convergence_times(r)
    assert ax2.get_yscale() == "log"
    plt.close("all")


def test_sweep_xor_replays_one_network_at_a_time_in_both_readings():
    # an independent replay: le Cun's costate pass (lagrangian.backprop) on one network, the
    # same generator draws, the heavy-ball recursion written out
    like = mlp.init_params([2, 2, 1])
    X, D = datasets.xor()
    for kw, rhos in (({"eta": 2.0}, [0.0, 0.9]), ({"mu": 0.7}, [0.5, 0.95])):
        r = landscapes.sweep_xor(rhos, n_seeds=2, n_epochs=10, seed=11, **kw)
        rng = np.random.default_rng(11)
        theta0 = rng.uniform(-1.0, 1.0, (2, 9))
        orders = [np.argsort(rng.random((2, 4)), axis=1) for _ in range(10)]
        for i, rho in enumerate(rhos):
            step = kw["eta"] * (1 - rho) if "eta" in kw else (1 - rho) / (-np.log(rho) * 0.7)
            for s in range(2):
                th, prev = theta0[s].copy(), theta0[s].copy()
                for order in orders:
                    for p in order[s]:
                        _, g = lagrangian.backprop(mlp.unflatten(th, like), X[p:p + 1],
                                                   D[p:p + 1], activation="sigmoid",
                                                   output_activation="sigmoid")
                        th, prev = th - step * mlp.flatten(g) + rho * (th - prev), th
                cost = landscapes.xor_cost(th[None])[0]
                assert r.final[i, s] == pytest.approx(cost, rel=1e-9, abs=1e-12)


def test_settled_counts_successes_converged_over_the_end_of_the_budget():
    s = landscapes.tilted_double_well(0.25, n_patterns=20, seed=0)
    r = landscapes.sweep_double_well(s, [0.5, 0.99], mu=14.427, n_seeds=60, n_epochs=20,
                                     tol=0.5)
    assert r.budget == 400
    np.testing.assert_array_equal(r.settled(0.0), r.successes)
    late = np.nan_to_num(r.time, nan=np.inf) > 0.9 * 400
    np.testing.assert_array_equal(r.settled(0.1), np.sum(r.success & ~late, axis=1))
    # at fixed mass and rho = 0.99 the runs are still hopping between the wells at the end
    assert r.successes[1] > 0 and r.settled(0.1)[1] < r.successes[1]


_STREAM = landscapes.tilted_double_well(0.25, n_patterns=5)
_TH, _X = np.zeros((2, 9)), np.zeros((2, 2))
BAD_SHAPES = [
    ("grad p past the end", lambda: _STREAM.grad(6, 0.5), ValueError,
     r"^`p` must be a pattern index in 0..4 \(the stream has 5 patterns\), got 6$"),
    ("grad p negative", lambda: _STREAM.grad(np.array([0, -1]), np.zeros(2)), ValueError,
     r"^`p` must be a pattern index in 0..4 \(the stream has 5 patterns\), got -1$"),
    ("grad p float", lambda: _STREAM.grad(1.5, 0.5), TypeError,
     r"^`p` must be a pattern index, an integer in 0..4 \(the stream has 5 patterns\), got float 1.5$"),
    ("grad p shape", lambda: _STREAM.grad(np.array([0, 1, 2]), np.zeros(2)), ValueError,
     r"^`p` as an array must have the shape of `w`, \(2,\), got \(3,\)$"),
    ("grad w nan", lambda: _STREAM.grad(0, np.nan), ValueError, r"^`w` must be finite"),
    ("potential w text", lambda: _STREAM.potential("a"), TypeError, r"^`w` must be array-like of real numbers"),
    ("forward one network", lambda: landscapes.xor_forward(np.zeros(9), [0.0, 1.0]), ValueError,
     r"^`theta` must have shape \(B, 9\), B >= 1 networks of 9 parameters, got shape \(9,\); for one "
     r"network pass `theta\[None, :\]`$"),
    ("forward no network", lambda: landscapes.xor_forward(np.zeros((0, 9)), np.zeros((0, 2))), ValueError,
     r"^`theta` must have shape \(B, 9\), B >= 1 networks of 9 parameters, got shape \(0, 9\)$"),
    ("forward 3-D", lambda: landscapes.xor_forward(np.zeros((1, 1, 9)), np.zeros((1, 2))), ValueError,
     r"got shape \(1, 1, 9\)$"),
    ("forward x 1-D", lambda: landscapes.xor_forward(np.zeros((1, 9)), [0.0, 1.0]), ValueError,
     r"^`x` must have shape \(B, 2\) = \(1, 2\), one input per network, got shape \(2,\)$"),
    ("forward x ragged", lambda: landscapes.xor_forward(_TH, [[0.0, 1.0], [1.0]]), TypeError,
     r"^`x` must be array-like of real numbers, got list \[\[0.0, 1.0\], \[1.0\]\]$"),
    ("forward theta text", lambda: landscapes.xor_forward([["1"] * 9], [[0, 1]]), TypeError,
     r"^`theta` must be array-like of real numbers"),
    ("grad d 2-D", lambda: landscapes.xor_grad(_TH, _X, np.zeros((2, 1))), ValueError,
     r"^`d` must have shape \(B,\) = \(2,\), one target per network, got shape \(2, 1\)$"),
    ("cost list of 8", lambda: landscapes.xor_cost([[0.0] * 8]), ValueError,
     r"^`theta` must have shape \(B, 9\), B >= 1 networks of 9 parameters, got shape \(1, 8\)$"),
    ("cost ragged", lambda: landscapes.xor_cost([[0.0] * 9, [0.0] * 8]), TypeError,
     r"^`theta` must be array-like of real numbers, got list"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in BAD_SHAPES], ids=[c[0] for c in BAD_SHAPES])
def test_bad_shapes_raise_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_double_well_gradient_is_the_derivative_of_its_pattern_potential():
    p, w = np.array([0, 4, 2]), np.array([-1.3, 0.2, 0.9])
    h = 1e-6
    V = lambda w: 0.25 * (w * w - 1) ** 2 + _STREAM.a[p] * w  # noqa: E731
    assert np.allclose(_STREAM.grad(p, w), (V(w + h) - V(w - h)) / (2 * h), rtol=1e-8, atol=1e-9)
    assert _STREAM.grad(np.int64(4), 0.5).shape == ()
