"""Tests of lagprop.constrained: every multiplier estimate against the costate pass (an
independent computation), the rates the theory predicts (fitted), the spectral radii of the
diagnoses against a Hessian of L built from central differences, training against closed-form
least squares, and bad input."""

import numpy as np
import pytest

from lagprop import ConvergenceError, constrained, curvature, datasets, lagrangian, mlp


@pytest.fixture(scope="module")
def net():
    rng = np.random.default_rng(0)
    params = mlp.init_params([3, 4, 4, 2], seed=1, bias=0.1)
    x, d = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    fwd = lagrangian.forward(params, x)
    return params, x, d, fwd, lagrangian.costate(params, fwd, d)


def _err(B, co):
    return max(float(np.max(np.abs(B[k] - co.B[k]))) for k in range(1, len(co.B)))


def _hessian_and_jacobian(params, x, d, fwd, co):
    """H = d^2 L / dX^2 at (forward pass, costate) by central differences of dL/dX, and J."""
    shapes = [a.shape for a in fwd.X[1:]]
    sizes = [int(np.prod(s)) for s in shapes]

    def dLdX(z):
        X = [x] + [a.reshape(s) for a, s in zip(np.split(z, np.cumsum(sizes)[:-1]), shapes)]
        return np.concatenate([a.ravel() for a in lagrangian.lagrange_partials(params, X, co.B, d).dX[1:]])

    z0 = np.concatenate([a.ravel() for a in fwd.X[1:]])
    h, n = 1e-5, z0.size
    H = np.column_stack([(dLdX(z0 + h * e) - dLdX(z0 - h * e)) / (2 * h) for e in np.eye(n)])
    return 0.5 * (H + H.T), curvature.constraint_jacobian(params, fwd.X)


def test_augmented_is_exact_at_a_finite_weight(net):
    params, x, d, fwd, co = net
    r = constrained.multipliers(params, x, d, method="augmented", rho=10.0)
    assert r.residual <= 1e-10 and _err(r.B, co) < 1e-9
    assert max(float(np.max(np.abs(r.X[k] - fwd.X[k]))) for k in range(1, 4)) < 1e-10
    assert r.B[0] is None and r.trace.shape == (r.iterations + 1,)


def test_penalty_error_is_order_one_over_rho(net):
    params, x, d, fwd, co = net
    errs = []
    constrained.multipliers(params, x, d, method="penalty", rho=10.0, growth=10.0, tol=1e-5,
                            callback=lambda j, X, B: errs.append(_err(B, co)))
    rho = 10.0 ** np.arange(1, len(errs))
    e = np.array(errs[1:])
    keep = (rho >= 1e2) & (rho <= 1e6)
    slope = np.polyfit(np.log(rho[keep]), np.log(e[keep]), 1)[0]
    assert abs(slope + 1.0) < 0.02, slope


def test_penalty_leading_error_is_minus_M_Bstar_over_rho(net):
    params, x, d, fwd, co = net
    H, J = _hessian_and_jacobian(params, x, d, fwd, co)
    Ji = np.linalg.inv(J)
    Bstar = np.concatenate([b.ravel() for b in co.B[1:]])
    coef = -(Ji.T @ H @ Ji) @ Bstar
    seen = {}
    constrained.multipliers(params, x, d, method="penalty", rho=1e4, growth=10.0, tol=1e-4,
                            callback=lambda j, X, B: seen.setdefault(j, B))
    B = np.concatenate([b.ravel() for b in seen[1][1:]])
    assert np.max(np.abs(1e4 * (B - Bstar) - coef)) < 1e-2 * np.max(np.abs(coef))


def test_penalty_cannot_reach_a_tiny_tolerance(net):
    params, x, d, _, _ = net
    with pytest.raises(ConvergenceError, match="rho = 1e\\+12") as info:
        constrained.multipliers(params, x, d, method="penalty", tol=1e-12)
    assert info.value.iterations > 5 and info.value.residual > 1e-12


def test_augmented_rate_matches_the_linearised_update(net):
    params, x, d, fwd, co = net
    H, J = _hessian_and_jacobian(params, x, d, fwd, co)
    Ji = np.linalg.inv(J)
    mu = np.linalg.eigvalsh(Ji.T @ H @ Ji)
    for rho in (10.0, 30.0):  # several modes of nearly the same rate: within 15 %
        errs = []
        constrained.multipliers(params, x, d, method="augmented", rho=rho, tol=1e-11,
                                callback=lambda j, X, B: errs.append(
                                    np.sqrt(sum(np.sum((B[k] - co.B[k]) ** 2) for k in range(1, 4)))))
        e = np.array(errs)
        tail = e[(e > 1e-8) & (e < 1e-2)]
        rate = np.exp(np.polyfit(np.arange(tail.size), np.log(tail), 1)[0])
        assert rate == pytest.approx(np.max(np.abs(mu / (mu + rho))), rel=0.15), rho


def test_augmented_below_threshold_raises_with_radius(net):
    params, x, d, fwd, co = net
    H, J = _hessian_and_jacobian(params, x, d, fwd, co)
    Ji = np.linalg.inv(J)
    mu = np.linalg.eigvalsh(Ji.T @ H @ Ji)
    with pytest.raises(ConvergenceError, match="augmented Lagrangian") as info:
        constrained.multipliers(params, x, d, method="augmented", rho=1.0, max_iter=30)
    assert info.value.iterations == 30
    assert info.value.spectral_radius == pytest.approx(np.max(np.abs(mu / (mu + 1.0))), rel=1e-6)
    assert info.value.spectral_radius > 1


def test_saddle_converges_with_the_augmented_term(net):
    params, x, d, _, co = net
    r = constrained.multipliers(params, x, d, method="saddle", step=0.2, rho=2.0, tol=1e-9)
    assert _err(r.B, co) < 1e-8


@pytest.mark.parametrize("activation", ["tanh", "identity"])
def test_plain_descent_ascent_fails_with_the_right_radius(net, activation):
    params, x, d, _, _ = net
    fwd = lagrangian.forward(params, x, activation=activation)
    co = lagrangian.costate(params, fwd, d, activation=activation)
    H, J = _hessian_and_jacobian(params, x, d, fwd, co) if activation == "tanh" else (None, None)
    with pytest.raises(ConvergenceError, match="descent-ascent diverges") as info:
        constrained.multipliers(params, x, d, method="saddle", step=0.2, activation=activation)
    assert info.value.spectral_radius > 1
    if H is not None:
        m = H.shape[0]
        K = np.block([[-H, -J.T], [J, np.zeros((m, m))]])
        radius = np.max(np.abs(np.linalg.eigvals(np.eye(2 * m) + 0.2 * K)))
        assert info.value.spectral_radius == pytest.approx(radius, rel=1e-6)


def test_multipliers_leak_no_warning_when_diverging(net):
    params, x, d, _, _ = net
    with pytest.raises(ConvergenceError):
        constrained.multipliers(params, x, d, method="saddle", step=3.0)


def test_train_one_linear_layer_reaches_least_squares():
    rng = np.random.default_rng(0)
    x, d = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    p0 = mlp.init_params([3, 2], seed=0)
    V = np.linalg.lstsq(np.hstack([x, np.ones((10, 1))]), d, rcond=None)[0]
    kw = dict(activation="identity", output_activation="identity")
    for method, steps, opts in (("admm", 50, {}), ("penalty", 80, {}), ("saddle", 3000,
                                                                         dict(lr=0.02, rho=1.0))):
        before = [w.copy() for w, _ in p0]
        p, h = constrained.train(p0, x, d, method=method, steps=steps, **kw, **opts)
        assert all(np.array_equal(w, b) for (w, _), b in zip(p0, before)), "params not modified"
        assert np.max(np.abs(p[0][0] - V[:3].T)) < 1e-6 and np.max(np.abs(p[0][1] - V[3])) < 1e-6
        assert h.cost.shape == h.residual.shape == (steps + 1,) and h.method == method
        assert h.cost[0] == pytest.approx(lagrangian.backprop(p0, x, d, **kw)[0])
        assert h.cost[-1] == pytest.approx(lagrangian.backprop(p, x, d, **kw)[0])


@pytest.mark.parametrize("method", ["penalty", "admm", "saddle"])
def test_train_lowers_the_cost_of_xor(method):
    x, d = datasets.xor()
    p0 = mlp.init_params([2, 3, 1], seed=0)
    opts = {"saddle": dict(lr=0.05, rho=1.0)}.get(method, {})
    steps = 1000 if method == "saddle" else 100
    _, h = constrained.train(p0, x, d, method=method, steps=steps, output_activation="sigmoid", **opts)
    assert h.cost[-1] < 0.95 * h.cost[0] and np.all(np.isfinite(h.cost))


def test_train_saddle_divergence_raises():
    x, d = datasets.sine_regression(20, seed=0)
    p0 = mlp.init_params([1, 8, 1], seed=0)
    with pytest.raises(ConvergenceError, match="diverged") as info:
        constrained.train(p0, x, d, method="saddle", steps=500, lr=0.5)
    assert info.value.iterations >= 1


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(method="newton"), ValueError, "`method`"),
    (dict(method="penalty", tol=-1.0), ValueError, "`tol`"),
    (dict(method="penalty", max_iter=0), ValueError, "`max_iter`"),
    (dict(method="penalty", growth=1.0), ValueError, "`growth`"),
    (dict(method="augmented", rho=0.0), ValueError, "`rho`"),
    (dict(method="saddle", step="big"), TypeError, "`step`"),
    (dict(method="saddle", rho=-1.0), ValueError, "`rho`"),
    (dict(method="augmented", step=0.1), TypeError, "`step`"),
    (dict(method="saddle", callback=3), TypeError, "`callback`"),
    (dict(method="saddle", activation="cube"), ValueError, "`activation`"),
])
def test_multipliers_bad_input(net, kwargs, exc, match):
    params, x, d, _, _ = net
    with pytest.raises(exc, match=match):
        constrained.multipliers(params, x, d, **kwargs)


def test_multipliers_bad_arrays(net):
    params, x, d, _, _ = net
    with pytest.raises(ValueError, match="`targets`"):
        constrained.multipliers(params, x, d[:3], method="saddle")
    with pytest.raises(ValueError, match="`inputs`"):
        constrained.multipliers(params, x[:, :2], d, method="saddle")
    with pytest.raises(ValueError, match="`params"):
        constrained.multipliers([], x, d, method="saddle")


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(method="backprop", steps=3), ValueError, "`method`"),
    (dict(method="admm", steps=-1), ValueError, "`steps`"),
    (dict(method="admm", steps=1.5), TypeError, "`steps`"),
    (dict(method="admm", steps=3, lr=0.1), TypeError, "`lr`"),
    (dict(method="saddle", steps=3, lr=0.0), ValueError, "`lr`"),
    (dict(method="penalty", steps=3, inner=0), ValueError, "`inner`"),
])
def test_train_bad_input(net, kwargs, exc, match):
    params, x, d, _, _ = net
    with pytest.raises(exc, match=match):
        constrained.train(params, x, d, **kwargs)
