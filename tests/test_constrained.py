"""Tests of lagprop.constrained.

Every multiplier estimate against the costate pass (an independent computation), the
rates the theory predicts (fitted), the spectral radii of the diagnoses against a
Hessian of L and a constraint Jacobian built from central differences, the defaults on
the chapter's networks and on 200 patterns, training against closed-form least squares,
and bad input."""

import time

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


def _hessian_and_jacobian(params, x, d, fwd, co, **kw):
    """H = d^2 L / dX^2 and J = dg / dX at (forward pass, costate), both by central
    differences of the partials of L (dX, and dB = g)."""
    shapes = [a.shape for a in fwd.X[1:]]
    sizes = [int(np.prod(s)) for s in shapes]

    def partials(z):
        parts = np.split(z, np.cumsum(sizes)[:-1])
        X = [x] + [a.reshape(s) for a, s in zip(parts, shapes)]
        part = lagrangian.lagrange_partials(params, X, co.B, d, **kw)
        return [np.concatenate([a.ravel() for a in dv[1:]])
                for dv in (part.dX, part.dB)]

    z0 = np.concatenate([a.ravel() for a in fwd.X[1:]])
    h, n = 1e-5, z0.size
    cols = [[(p - m) / (2 * h)
             for p, m in zip(partials(z0 + h * e), partials(z0 - h * e))]
            for e in np.eye(n)]
    H = np.column_stack([c[0] for c in cols])
    return 0.5 * (H + H.T), np.column_stack([c[1] for c in cols])


def test_augmented_is_exact_at_a_finite_weight(net):
    params, x, d, fwd, co = net
    r = constrained.multipliers(params, x, d, method="augmented",
                                penalty=10.0, growth=1.0, tol=1e-11)
    norm_B = np.linalg.norm(np.concatenate([b.ravel() for b in r.B[1:]]))
    assert r.residual <= 1e-11 * norm_B and _err(r.B, co) < 1e-9
    assert max(float(np.max(np.abs(r.X[k] - fwd.X[k]))) for k in range(1, 4)) < 1e-10
    assert r.B[0] is None and r.trace.shape == (r.iterations + 1,)


def test_penalty_error_is_order_one_over_rho(net):
    params, x, d, fwd, co = net
    errs = []
    constrained.multipliers(params, x, d, method="penalty", penalty=10.0, growth=10.0,
                            tol=1e-5,
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
    constrained.multipliers(params, x, d, method="penalty", penalty=1e4, growth=10.0,
                            tol=1e-4,
                            callback=lambda j, X, B: seen.setdefault(j, B))
    B = np.concatenate([b.ravel() for b in seen[1][1:]])
    assert np.max(np.abs(1e4 * (B - Bstar) - coef)) < 1e-2 * np.max(np.abs(coef))


def test_penalty_cannot_reach_a_tiny_tolerance(net):
    params, x, d, _, co = net
    seen = []

    def record(j, X, B):
        s = lagrangian.stationarity(params, X, B, d)
        seen.append(np.hypot(s["forward"], s["backward"]))

    with pytest.raises(ConvergenceError, match="quadratic penalty") as info:
        constrained.multipliers(params, x, d, method="penalty", tol=1e-12,
                                callback=record)
    e = info.value
    assert e.iterations > 5 and e.residual > 1e-12 and len(seen) == e.iterations + 1
    # the best iterate, not the last, is attached, with the public function's residual
    assert e.best.residual == pytest.approx(min(seen), rel=1e-12)
    assert min(seen) < seen[-1]
    assert e.best.iterations == int(np.argmin(seen)) < e.iterations
    s = lagrangian.stationarity(params, e.best.X, e.best.B, d)
    residual = np.hypot(s["forward"], s["backward"])
    assert residual == pytest.approx(e.best.residual, rel=1e-12)


def test_penalty_stops_at_penalty_max(net):
    params, x, d, _, _ = net
    with pytest.raises(ConvergenceError, match="penalty_max = 100") as info:
        constrained.multipliers(params, x, d, method="penalty", tol=1e-12,
                                penalty_max=100.0)
    assert info.value.iterations == 3  # penalty = 1, 10, 100 tried


def test_augmented_rate_matches_the_linearised_update(net):
    params, x, d, fwd, co = net
    H, J = _hessian_and_jacobian(params, x, d, fwd, co)
    Ji = np.linalg.inv(J)
    mu = np.linalg.eigvalsh(Ji.T @ H @ Ji)
    for rho in (10.0, 30.0):  # several modes of nearly the same rate: within 15 %
        errs = []

        def record(j, X, B):
            errs.append(np.sqrt(sum(np.sum((B[k] - co.B[k]) ** 2) for k in (1, 2, 3))))

        constrained.multipliers(params, x, d, method="augmented",
                                penalty=rho, growth=1.0, tol=1e-12, callback=record)
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
        constrained.multipliers(params, x, d, method="augmented",
                                penalty=1.0, growth=1.0, max_iter=30)
    assert 10 <= info.value.iterations <= 30
    predicted = np.max(np.abs(mu / (mu + 1.0)))
    assert info.value.spectral_radius == pytest.approx(predicted, rel=1e-6)
    assert info.value.spectral_radius > 1


@pytest.mark.parametrize("activation, output_activation",
                         [("sigmoid", "tanh"), ("tanh", "sigmoid")])
def test_both_radii_use_every_layers_second_derivative(net, activation,
                                                       output_activation):
    """The diagnoses' H and J against central differences, with f'' of two kinds."""
    params, x, d, _, _ = net
    kw = dict(activation=activation, output_activation=output_activation)
    fwd = lagrangian.forward(params, x, **kw)
    co = lagrangian.costate(params, fwd, d, **kw)
    H, J = _hessian_and_jacobian(params, x, d, fwd, co, **kw)
    Ji = np.linalg.inv(J)
    mu = np.linalg.eigvalsh(Ji.T @ H @ Ji)
    with pytest.raises(ConvergenceError, match="augmented Lagrangian") as info:
        constrained.multipliers(params, x, d, method="augmented",
                                penalty=0.5, growth=1.0, max_iter=2, **kw)
    assert info.value.spectral_radius == pytest.approx(np.max(np.abs(mu / (mu + 0.5))),
                                                       rel=1e-6)
    with pytest.raises(ConvergenceError, match="descent-ascent") as info:
        constrained.multipliers(params, x, d, method="saddle", eta=0.3, penalty=1.0,
                                max_iter=3, **kw)
    m = H.shape[0]
    K = np.block([[-(H + J.T @ J), -J.T], [J, np.zeros((m, m))]])
    radius = np.max(np.abs(np.linalg.eigvals(np.eye(2 * m) + 0.3 * K)))
    assert info.value.spectral_radius == pytest.approx(radius, rel=1e-6)


def test_saddle_converges_with_the_augmented_term(net):
    params, x, d, _, co = net
    r = constrained.multipliers(params, x, d, method="saddle", eta=0.2, penalty=2.0,
                                tol=1e-10)
    assert _err(r.B, co) < 1e-8


@pytest.mark.parametrize("activation", ["tanh", "identity"])
def test_plain_descent_ascent_fails_with_the_right_radius(net, activation):
    params, x, d, _, _ = net
    fwd = lagrangian.forward(params, x, activation=activation)
    co = lagrangian.costate(params, fwd, d, activation=activation)
    H, J = (_hessian_and_jacobian(params, x, d, fwd, co) if activation == "tanh"
            else (None, None))
    with pytest.raises(ConvergenceError, match="descent-ascent diverges") as info:
        constrained.multipliers(params, x, d, method="saddle", eta=0.2, penalty=0.0,
                                activation=activation)
    assert info.value.spectral_radius > 1
    if H is not None:
        m = H.shape[0]
        K = np.block([[-H, -J.T], [J, np.zeros((m, m))]])
        radius = np.max(np.abs(np.linalg.eigvals(np.eye(2 * m) + 0.2 * K)))
        assert info.value.spectral_radius == pytest.approx(radius, rel=1e-6)


def test_multipliers_leak_no_warning_when_diverging(net):
    params, x, d, _, _ = net
    with pytest.raises(ConvergenceError):
        constrained.multipliers(params, x, d, method="saddle", eta=3.0, penalty=0.0)


def test_train_one_linear_layer_reaches_least_squares():
    rng = np.random.default_rng(0)
    x, d = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    p0 = mlp.init_params([3, 2], seed=0)
    V = np.linalg.lstsq(np.hstack([x, np.ones((10, 1))]), d, rcond=None)[0]
    kw = dict(activation="identity", output_activation="identity")
    runs = (("admm", 50, {}), ("penalty", 80, {}),
            ("saddle", 3000, dict(eta=0.02, penalty=1.0)))
    for method, steps, opts in runs:
        before = [w.copy() for w, _ in p0]
        p, h = constrained.train(p0, x, d, method=method, steps=steps, **kw, **opts)
        assert all(np.array_equal(w, b) for (w, _), b in zip(p0, before))  # unchanged
        assert np.max(np.abs(p[0][0] - V[:3].T)) < 1e-6
        assert np.max(np.abs(p[0][1] - V[3])) < 1e-6
        assert h.cost.shape == h.constraint_violation.shape == (steps + 1,)
        assert h.method == method
        assert h.cost[0] == pytest.approx(lagrangian.backprop(p0, x, d, **kw)[0])
        assert h.cost[-1] == pytest.approx(lagrangian.backprop(p, x, d, **kw)[0])


@pytest.mark.parametrize("method", ["penalty", "admm", "saddle"])
def test_train_lowers_the_cost_of_xor(method):
    x, d = datasets.xor()
    p0 = mlp.init_params([2, 3, 1], seed=0)
    opts = {"saddle": dict(eta=0.05, penalty=1.0)}.get(method, {})
    steps = 1000 if method == "saddle" else 100
    _, h = constrained.train(p0, x, d, method=method, steps=steps,
                             output_activation="sigmoid", **opts)
    assert h.cost[-1] < 0.95 * h.cost[0] and np.all(np.isfinite(h.cost))


def test_train_saddle_divergence_raises():
    x, d = datasets.sine_regression(20, seed=0)
    p0 = mlp.init_params([1, 8, 1], seed=0)
    with pytest.raises(ConvergenceError, match="diverged") as info:
        constrained.train(p0, x, d, method="saddle", steps=500, eta=0.5)
    assert info.value.iterations >= 1


# --------------------------------------------------------------------------------------
# Defaults that work: every method with its defaults, on the chapter's problems and on
# 200 patterns, converges to le Cun's costate within seconds, or says why within seconds
# --------------------------------------------------------------------------------------

def _problem(sizes, P, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    params = mlp.init_params(sizes, seed=seed, scale=scale)
    x, d = rng.standard_normal((P, sizes[0])), rng.standard_normal((P, sizes[-1]))
    return params, x, d


@pytest.fixture(scope="module")
def patterns200():
    """A 2-8-1 tanh network on 200 random patterns."""
    params, x, d = _problem([2, 8, 1], 200, seed=5)
    co = lagrangian.costate(params, lagrangian.forward(params, x), d)
    return params, x, d, co


_DEFAULT_TOL = {"penalty": 1e-6, "augmented": 1e-10, "saddle": 1e-8}


def _check_defaults(params, x, d, co, method, seconds, **kw):
    start = time.perf_counter()
    r = constrained.multipliers(params, x, d, method=method, **kw)
    elapsed = time.perf_counter() - start
    norm_B = np.sqrt(sum(np.sum(b * b) for b in co.B[1:]))
    s = lagrangian.stationarity(params, r.X, r.B, d, **kw)
    assert np.hypot(s["forward"], s["backward"]) == pytest.approx(r.residual, rel=1e-9)
    assert r.residual <= _DEFAULT_TOL[method] * max(1.0, 1.01 * norm_B)
    # the costate is the independent reference: the error is of the tolerance's order
    assert _err(r.B, co) < 100 * _DEFAULT_TOL[method] * max(1.0, norm_B)
    assert elapsed < seconds, elapsed
    return r


@pytest.mark.parametrize("method", constrained.MULTIPLIER_METHODS)
def test_defaults_converge_on_200_patterns(patterns200, method):
    params, x, d, co = patterns200
    r = _check_defaults(params, x, d, co, method, seconds=15.0)
    assert (r.inner_iterations > 0) == (method != "saddle")


@pytest.mark.parametrize("method", constrained.MULTIPLIER_METHODS)
@pytest.mark.parametrize("activation", ["tanh", "identity"])
def test_defaults_converge_on_the_chapter_networks(net, method, activation):
    params, x, d, _, _ = net
    fwd = lagrangian.forward(params, x, activation=activation)
    co = lagrangian.costate(params, fwd, d, activation=activation)
    _check_defaults(params, x, d, co, method, seconds=15.0, activation=activation)


def test_augmented_default_raises_its_weight_past_the_threshold():
    """Started below 2 rho_bar, the default growth reaches a convergent weight."""
    params, x, d = _problem([2, 8, 8, 1], 40, seed=0, scale=3.0)
    fwd = lagrangian.forward(params, x)
    co = lagrangian.costate(params, fwd, d)
    with pytest.raises(ConvergenceError, match="augmented"):
        constrained.multipliers(params, x, d, method="augmented",
                                penalty=1.0, growth=1.0, max_iter=15)
    r = constrained.multipliers(params, x, d, method="augmented", penalty=1.0)
    assert _err(r.B, co) < 1e-6


def test_saddle_default_fails_fast_on_a_saturated_network():
    """Where the default step is unstable, the error comes within seconds."""
    params, x, d = _problem([2, 8, 8, 1], 200, seed=0, scale=3.0)
    start = time.perf_counter()
    with pytest.raises(ConvergenceError, match="descent-ascent") as info:
        constrained.multipliers(params, x, d, method="saddle")
    assert time.perf_counter() - start < 15.0
    e = info.value
    assert e.spectral_radius > 1 and e.best.residual <= e.best.trace[0]
    assert f"{e.spectral_radius:.5g}" in e.diagnosis


def test_rates_are_printed_with_the_digits_that_matter():
    from lagprop.constrained import _rate
    assert _rate(0.999997) == "0.999997" and _rate(1.0000004) == "1.0000004"
    assert _rate(2.697123) == "2.6971" and _rate(1.0) == "1"
    assert float(_rate(1 - 3e-12)) != 1.0


def test_every_loop_stops_on_stagnation(net):
    """A tolerance below rounding ends in a ConvergenceError long before max_iter."""
    params, x, d, _, _ = net
    cases = (("penalty", {}), ("augmented", {}), ("saddle", dict(eta=0.2, penalty=2.0)))
    for method, kw in cases:
        with pytest.raises(ConvergenceError, match="without progress") as info:
            constrained.multipliers(params, x, d, method=method, tol=1e-18,
                                    max_iter=10**6, **kw)
        assert info.value.iterations < 10**4, method


def test_options_table_documents_every_option():
    for fn, table in ((constrained.multipliers, constrained._MULTIPLIER_OPTIONS),
                      (constrained.train, constrained._TRAIN_OPTIONS)):
        doc = " ".join(fn.__doc__.split())
        assert "<options>" not in doc
        for method, spec in table.items():
            assert f'``"{method}"``' in doc
            for name, (default, _, _) in spec.items():
                assert f"``{name}`` (" in doc and f"default {default:g})" in doc


# --------------------------------------------------------------------------------------
# train: ADMM's ReLU substep, the documented dual update
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["relu", "identity", "tanh"])
def test_admm_entrywise_step_is_the_minimiser(name):
    """Against a brute-force search over a fine grid of a."""
    from lagprop import activations
    from lagprop.constrained import _argmin_entrywise
    rng = np.random.default_rng(1)
    t, m, lam = rng.normal(size=40), rng.normal(size=40), rng.normal(size=40)
    f = activations.get(name)
    a = _argmin_entrywise(f, t, m, 1.0, 0.7, lam, m.copy(), iters=50)
    grid = np.linspace(-8, 8, 160_001)[:, None]
    obj = (t - f.f(grid)) ** 2 + lam * grid + 0.7 * (grid - m) ** 2
    best = grid[np.argmin(obj, axis=0), 0]
    assert np.max(np.abs(a - best)) < 2e-4


def test_admm_trains_a_relu_network():
    x, d = datasets.xor()
    p0 = mlp.init_params([2, 4, 1], seed=0)
    _, h = constrained.train(p0, x, d, method="admm", steps=30, activation="relu")
    assert np.all(np.isfinite(h.cost)) and h.cost[-1] < h.cost[0]


def test_train_saddle_divergence_message_names_eta():
    x, d = datasets.sine_regression(20, seed=0)
    p0 = mlp.init_params([1, 8, 1], seed=0)
    with pytest.raises(ConvergenceError, match="`eta`"):
        constrained.train(p0, x, d, method="saddle", steps=500, eta=0.5)


# --------------------------------------------------------------------------------------
# Bad input: every argument, the error it gets, and the name in the message
# --------------------------------------------------------------------------------------

_MULTIPLIER_BAD = [
    (dict(method="newton"), ValueError, "`method` must be one of"),
    (dict(method=None), TypeError, "`method`"),
    (dict(method=3), TypeError, "`method`"),
    (dict(method="penalty", tol=-1.0), ValueError, "`tol`"),
    (dict(method="penalty", tol=float("nan")), ValueError, "`tol`"),
    (dict(method="penalty", tol="small"), TypeError, "`tol`"),
    (dict(method="penalty", max_iter=0), ValueError, "`max_iter`"),
    (dict(method="augmented", max_iter=2.5), TypeError, "`max_iter`"),
    (dict(method="penalty", growth=1.0), ValueError, "`growth`"),
    (dict(method="penalty", growth=0.5), ValueError, "`growth`"),
    (dict(method="augmented", growth=0.5), ValueError, "`growth`"),
    (dict(method="penalty", penalty_max=0.0), ValueError, "`penalty_max`"),
    (dict(method="augmented", penalty=0.0), ValueError, "`penalty`"),
    (dict(method="augmented", penalty=float("inf")), ValueError, "`penalty`"),
    (dict(method="saddle", eta="big"), TypeError, "`eta`"),
    (dict(method="saddle", eta=0.0), ValueError, "`eta`"),
    (dict(method="saddle", penalty=-1.0), ValueError, "`penalty`"),
    (dict(method="saddle", penalty=True), TypeError, "`penalty`"),
    (dict(method="augmented", eta=0.1), TypeError, "`eta`"),
    (dict(method="saddle", step=0.1), TypeError, "`step`"),
    (dict(method="saddle", growth=2.0), TypeError, "`growth`"),
    (dict(method="saddle", step=None), TypeError, "`step`"),
    (dict(method="saddle", callback=3), TypeError, "`callback`"),
    (dict(method="saddle", activation="cube"), ValueError, "`activation`"),
    (dict(method="saddle", output_activation=None), TypeError, "`output_activation`"),
]


@pytest.mark.parametrize("kwargs, exc, match", _MULTIPLIER_BAD)
def test_multipliers_bad_input(net, kwargs, exc, match):
    params, x, d, _, _ = net
    with pytest.raises(exc, match=match):
        constrained.multipliers(params, x, d, **kwargs)


def _bad_arrays(params, x, d):
    return [
        ((params, x, d[:3]), ValueError, "`targets`"),
        ((params, x[:, :2], d), ValueError, "`inputs`"),
        ((params, x[:0], d[:0]), ValueError, "`inputs` must hold at least one pattern"),
        ((params, np.where(x > 0, np.nan, x), d), ValueError, "`inputs`"),
        ((params, x, np.inf * d), ValueError, "`targets`"),
        ((params, x + 1j, d), TypeError, "`inputs`"),
        ((params, None, d), TypeError, "`inputs`"),
        (([], x, d), ValueError, "`params"),
        ((params[:1], x, d), ValueError, "`targets`"),
    ]


def test_multipliers_bad_arrays(net):
    params, x, d, _, _ = net
    for args, exc, match in _bad_arrays(params, x, d):
        with pytest.raises(exc, match=match):
            constrained.multipliers(*args, method="saddle")


_TRAIN_BAD = [
    (dict(method="backprop", steps=3), ValueError, "`method` must be one of"),
    (dict(method=None, steps=3), TypeError, "`method`"),
    (dict(method="admm", steps=-1), ValueError, "`steps`"),
    (dict(method="admm", steps=1.5), TypeError, "`steps`"),
    (dict(method="admm", steps=3, lr=0.1), TypeError, "`lr`"),
    (dict(method="saddle", steps=3, lr=0.1), TypeError, "`lr`"),
    (dict(method="saddle", steps=3, eta=0.0), ValueError, "`eta`"),
    (dict(method="saddle", steps=3, penalty=-0.5), ValueError, "`penalty`"),
    (dict(method="penalty", steps=3, inner=0), ValueError, "`inner`"),
    (dict(method="penalty", steps=3, growth=0.5), ValueError, "`growth`"),
    (dict(method="penalty", steps=3, growth=1.0), ValueError, "`growth`"),
    (dict(method="penalty", steps=3, penalty_max=-1.0), ValueError, "`penalty_max`"),
    (dict(method="admm", steps=3, beta=0.0), ValueError, "`beta`"),
    (dict(method="admm", steps=3, gamma="x"), TypeError, "`gamma`"),
    (dict(method="admm", steps=3, activation="cube"), ValueError, "`activation`"),
]


@pytest.mark.parametrize("kwargs, exc, match", _TRAIN_BAD)
def test_train_bad_input(net, kwargs, exc, match):
    params, x, d, _, _ = net
    with pytest.raises(exc, match=match):
        constrained.train(params, x, d, **kwargs)


@pytest.mark.parametrize("method", constrained.TRAIN_METHODS)
def test_train_bad_arrays(net, method):
    """No patterns raises (the penalty used to return NaN weights with warnings)."""
    params, x, d, _, _ = net
    for args, exc, match in _bad_arrays(params, x, d):
        with pytest.raises(exc, match=match):
            constrained.train(*args, method=method, steps=2)


@pytest.mark.parametrize("call", [
    lambda p, x, d, **o: constrained.multipliers(p, x, d, method="penalty", **o),
    lambda p, x, d, **o: constrained.multipliers(p, x, d, method="augmented", **o),
    lambda p, x, d, **o: constrained.multipliers(p, x, d, method="saddle", **o),
    lambda p, x, d, **o: constrained.train(p, x, d, method="penalty", steps=1, **o),
    lambda p, x, d, **o: constrained.train(p, x, d, method="saddle", steps=1, **o),
], ids=["multipliers-penalty", "multipliers-augmented", "multipliers-saddle",
        "train-penalty", "train-saddle"])
def test_rho_is_refused_with_a_pointer_to_penalty(net, call):
    """rho is the momentum elsewhere in the package: the penalty weight is `penalty`."""
    params, x, d, _, _ = net
    with pytest.raises(TypeError, match=r"^`rho` is now `penalty`: pass `penalty=` "
                       r".*got `rho=2\.0`$"):
        call(params, x, d, rho=2.0)
    with pytest.raises(TypeError, match=r"^`rho` is now `penalty`"):
        call(params, x, d, rho=2.0, penalty=2.0)


def test_rho_max_is_refused_with_a_pointer_to_penalty_max(net):
    params, x, d, _, _ = net
    calls = (lambda **o: constrained.multipliers(params, x, d, method="penalty", **o),
             lambda **o: constrained.train(params, x, d, method="penalty", steps=1,
                                           **o))
    for call in calls:
        with pytest.raises(TypeError, match=r"^`rho_max` is now `penalty_max`: pass "
                           r"`penalty_max=`"):
            call(rho_max=10.0)
    # a method without a penalty weight lists what it takes
    with pytest.raises(TypeError, match=r"unknown option\(s\) for method 'admm': "
                       r"`rho`"):
        constrained.train(params, x, d, method="admm", steps=1, rho=1.0)
