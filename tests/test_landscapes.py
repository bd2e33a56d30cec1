"""Tests of lagprop.landscapes: Wilson intervals, the XOR gradient, the double-well stream and the sweeps."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagprop import dynamics, gradcheck, lagrangian, landscapes, mlp


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


def test_wilson_bad_input():
    with pytest.raises(ValueError, match="`successes`"):
        landscapes.wilson_interval(11, 10)
    with pytest.raises(ValueError, match="`n`"):
        landscapes.wilson_interval(0, 0)


def test_matched_heavy_ball_and_cognitive_parameters():
    step, mom = landscapes.matched_heavy_ball(0.3, np.array([0.0, 0.9]))
    np.testing.assert_allclose(step / (1 - mom), 0.3)
    beta, mu = landscapes.cognitive_parameters(0.3, 0.9, spacing=2.0)
    s2, m2 = dynamics.heavy_ball(beta, mu, 2.0)
    assert s2 == pytest.approx(0.3 * 0.1) and m2 == pytest.approx(0.9)
    with pytest.raises(ValueError, match="`rho`"):
        landscapes.matched_heavy_ball(0.3, 1.0)
    with pytest.raises(ValueError, match="`eta`"):
        landscapes.matched_heavy_ball(-1.0, 0.5)


def test_xor_grad_matches_costate_pass_and_central_differences(rng):
    X, D = landscapes.xor_patterns()
    theta = rng.standard_normal((4, 9))
    g = landscapes.xor_grad(theta, X, D)
    like = mlp.init_params([2, 2, 1])
    for b in range(4):
        params = mlp.unflatten(theta[b], like)
        _, grads = lagrangian.backprop(params, X[b:b + 1], D[b:b + 1, None], activation="sigmoid",
                                       output_activation="sigmoid")
        assert gradcheck.relative_error(g[b], mlp.flatten(grads)) < 1e-12

        def f(t, b=b):
            return float(((D[b] - landscapes.xor_forward(t[None], X[b:b + 1])[1]) ** 2)[0])

        assert gradcheck.relative_error(g[b], gradcheck.central_difference(f, theta[b])) < 1e-7


def test_xor_cost_is_sum_of_pattern_costs(rng):
    theta = rng.standard_normal((3, 9))
    X, D = landscapes.xor_patterns()
    like = mlp.init_params([2, 2, 1])
    for b in range(3):
        fwd = lagrangian.forward(mlp.unflatten(theta[b], like), X, activation="sigmoid",
                                 output_activation="sigmoid")
        assert landscapes.xor_cost(theta)[b] == pytest.approx(np.sum((D - fwd.X[-1][:, 0]) ** 2), rel=1e-13)


def test_double_well_stationary_points():
    s = landscapes.tilted_double_well(0.25, n_patterns=10, spread=0.5, seed=3)
    assert s.tilt == pytest.approx(0.25, abs=1e-14)
    assert s.a.std() == pytest.approx(0.5)
    for w in (s.w_global, s.w_barrier, s.w_spurious):
        assert abs(w ** 3 - w + s.tilt) < 1e-12
    assert s.w_global < s.w_barrier < s.w_spurious
    assert s.potential(s.w_global) < s.potential(s.w_spurious)
    with pytest.raises(ValueError, match="`tilt`"):
        landscapes.tilted_double_well(0.5)


def test_sweep_double_well_matches_scalar_heavy_ball():
    s = landscapes.tilted_double_well(0.25, n_patterns=5, spread=1.0, seed=1)
    rhos = np.array([0.0, 0.9])
    r = landscapes.sweep_double_well(s, rhos, eta=0.1, n_seeds=3, n_epochs=4, seed=7)
    # replay seed 0 with the same generator draws
    rng = np.random.default_rng(7)
    w0 = rng.uniform(s.w_barrier, 2.0, 3)[0]
    orders = [np.argsort(rng.random((3, 5)), axis=1)[0] for _ in range(4)]
    seq = np.concatenate(orders)
    for i, rho in enumerate(rhos):
        step, mom = landscapes.matched_heavy_ball(0.1, rho)
        w = dynamics.heavy_ball_positions(lambda k, w: s.grad(seq[k], w), [w0], 21, float(step), float(mom))
        assert r.final[i, 0] == pytest.approx(w[-1, 0], rel=1e-13)


def test_heavy_ball_is_the_impulsive_motion():
    s = landscapes.tilted_double_well(0.25, n_patterns=5, seed=2)
    beta, mu = landscapes.cognitive_parameters(0.1, 0.95, spacing=0.5)
    times = 0.5 * np.arange(30)
    grad = lambda k, w: s.grad(k % 5, w)  # noqa: E731
    traj = dynamics.simulate_impulses(grad, times, [1.5], beta=beta, mu=mu)
    hb = dynamics.heavy_ball_positions(grad, [1.5], 30, 0.1 * 0.05, 0.95)
    np.testing.assert_allclose(traj.w, hb, rtol=1e-12, atol=1e-13)


def test_sweep_result_fields_and_success_definition():
    rhos = np.array([0.0, 0.9])
    r = landscapes.sweep_xor(rhos, eta=2.0, n_seeds=20, n_epochs=50, seed=1)
    assert r.success.shape == (2, 20) and r.unit == "epochs"
    np.testing.assert_array_equal(r.success, r.final < 0.1)
    assert np.all(np.isnan(r.time[~r.success])) and np.all(r.time[r.success] <= 50)
    lo, hi = r.interval
    assert np.all(lo <= r.rate) and np.all(r.rate <= hi)
    with pytest.raises(ValueError, match="`rhos`"):
        landscapes.sweep_xor([0.5, 1.2], n_seeds=2, n_epochs=1)
    with pytest.raises(TypeError, match="`stream`"):
        landscapes.sweep_double_well(None, [0.0])


def test_xor_has_trapped_runs_for_plain_gradient_descent():
    # the landscape must actually trap online gradient descent for some seeds (else it tests nothing)
    r = landscapes.sweep_xor([0.0], eta=2.0, n_seeds=100, n_epochs=300, seed=0)
    assert 0.05 < r.rate[0] < 0.95


def test_phase_volume_factor_is_rho_to_the_m(rng):
    X, D = landscapes.xor_patterns()
    grad = lambda th: landscapes.xor_grad(th[None], X[1:2], D[1:2])[0]  # noqa: E731
    w, w_prev = rng.standard_normal(9), rng.standard_normal(9)
    for rho in (0.5, 0.9):
        det = landscapes.phase_volume_factor(grad, w, w_prev, 2.0 * (1 - rho), rho)
        assert det == pytest.approx(rho ** 9, rel=1e-6)


def test_table_lists_every_rho():
    s = landscapes.tilted_double_well(0.25, n_patterns=5)
    r = landscapes.sweep_double_well(s, [0.0, 0.5], n_seeds=10, n_epochs=5)
    lines = r.table().splitlines()
    assert len(lines) == 3 and lines[1].split()[0] == "0.00"


def test_plot_helpers_return_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lagprop import plotting

    s = landscapes.tilted_double_well(0.25, n_patterns=5)
    r = landscapes.sweep_double_well(s, [0.0, 0.9], n_seeds=20, n_epochs=20)
    ax = plotting.success_rates([r], ["well"])
    assert len(ax.lines) == 1
    ax2 = plotting.convergence_times(r)
    assert ax2.get_yscale() == "log"
    plt.close("all")
