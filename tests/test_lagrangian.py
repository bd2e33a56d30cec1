"""Tests of lagprop.lagrangian: le Cun's (1988) Lagrange function, forward and costate passes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagprop import ConvergenceError, gradcheck, lagrangian, mlp, supervision
from lagprop.activations import NAMES

H = 1e-6
KINK = 1e-3  # relu networks are drawn until no preactivation is this close to 0 (>> H)


def _problem(sizes, seed, activation="tanh", output_activation="identity", P=4):
    """A random network, inputs and targets; for relu, redraw until no preactivation is near a kink."""
    for s in range(seed, seed + 200):
        rng = np.random.default_rng(s)
        params = mlp.init_params(sizes, seed=rng, scale=1.5, bias=0.0)
        params = [(W, rng.normal(0.0, 0.3, size=b.shape)) for W, b in params]
        x = rng.standard_normal((P, sizes[0]))
        d = rng.standard_normal((P, sizes[-1]))
        if "relu" not in (activation, output_activation):
            return params, x, d
        fwd = lagrangian.forward(params, x, activation=activation, output_activation=output_activation)
        if min(np.min(np.abs(a)) for a in fwd.A[1:]) > KINK:
            return params, x, d
    raise AssertionError("no kink-free relu network found")  # pragma: no cover


def _sizes(depth):
    return [3, 4, 3, 4, 2][: depth] + [2]


# --- the gradient -----------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("activation", NAMES)
@pytest.mark.parametrize("output_activation", ["identity", "sigmoid"])
def test_backprop_matches_central_differences(depth, activation, output_activation):
    kw = dict(activation=activation, output_activation=output_activation)
    params, x, d = _problem(_sizes(depth), 10 * depth, **kw)
    C, grads = lagrangian.backprop(params, x, d, **kw)

    def f(p):
        return lagrangian.cost(lagrangian.forward(p, x, **kw).X[-1], d)

    assert C == pytest.approx(f(params), rel=1e-14)
    fd = gradcheck.params_central_difference(f, params, h=H)
    assert gradcheck.relative_error(grads, fd) < 1e-7
    assert [(g.shape, gb.shape) for g, gb in grads] == [(W.shape, b.shape) for W, b in params]


@pytest.mark.parametrize("activation", NAMES)
def test_costate_is_minus_gradient_of_cost_in_state(activation):
    kw = dict(activation=activation, output_activation="tanh")
    params, x, d = _problem([3, 4, 5, 4, 2], 7, **kw)
    fwd = lagrangian.forward(params, x, **kw)
    co = lagrangian.costate(params, fwd, d, **kw)
    N = len(params)
    for k in range(1, N + 1):
        gX = gradcheck.central_difference(lambda s: lagrangian.cost_from_layer(params, s, k, d, **kw), fwd.X[k], h=H)
        gA = gradcheck.central_difference(
            lambda s: lagrangian.cost_from_preactivation(params, s, k, d, **kw), fwd.A[k], h=H)
        assert gradcheck.relative_error(co.B[k], -gX) < 1e-7, k
        assert gradcheck.relative_error(co.Y[k], -gA) < 1e-7, k
    # boundary condition, eq. (5), and the change of variable Y = grad F(A) B
    np.testing.assert_allclose(co.B[N], 2.0 * (d - fwd.X[N]), rtol=0, atol=0)
    assert co.B[0] is None and co.Y[0] is None and fwd.A[0] is None


def test_cost_from_layer_is_the_cost_on_the_surface():
    params, x, d = _problem([3, 4, 3, 2], 3)
    fwd = lagrangian.forward(params, x)
    C = lagrangian.cost(fwd.X[-1], d)
    for k in range(0, 4):
        assert lagrangian.cost_from_layer(params, fwd.X[k], k, d) == pytest.approx(C, rel=1e-13)
    for k in range(1, 4):
        assert lagrangian.cost_from_preactivation(params, fwd.A[k], k, d) == pytest.approx(C, rel=1e-13)


def _tangent(params, fwd, u, activation):
    """Forward linearisation: a perturbation u of X(1) pushed to X(N)."""
    F = [None] + [activation] * (len(params) - 1) + ["identity"]
    from lagprop.activations import get

    for k in range(2, len(params) + 1):
        u = get(F[k]).df(fwd.A[k]) * (u @ params[k - 1][0].T)
    return u


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_costate_pass_is_the_transpose_of_the_tangent_map(depth):
    params, x, d = _problem([3, 4, 4, 4, 4][: depth] + [2], 5)
    fwd = lagrangian.forward(params, x)

    def vjp(v):  # inject B(N) = v through the targets: D = X(N) + v / 2
        return lagrangian.costate(params, fwd, fwd.X[-1] + 0.5 * v).B[1]

    shape_in, shape_out = fwd.X[1].shape, fwd.X[-1].shape
    err = gradcheck.dot_product_test(lambda u: _tangent(params, fwd, u, "tanh"), vjp, shape_in, shape_out, seed=1)
    assert err < 1e-12
    err = gradcheck.dot_product_test(lambda u: lagrangian.tangent(params, fwd, u, 1)[-1], vjp, shape_in, shape_out)
    assert err < 1e-12


def test_dot_product_test_rejects_the_misprinted_jacobian_and_a_wrong_argument():
    """Eq. (6) as printed, grad F_k(A(k+1)), differs from grad F_{k+1}(A(k+1)) where F_k != F_{k+1}."""
    from lagprop.activations import get

    params, x, d = _problem([3, 4, 4, 4, 4], 5)
    fwd = lagrangian.forward(params, x)  # tanh hidden layers, identity output
    N = len(params)
    F = [None] + [get("tanh")] * (N - 1) + [get("identity")]

    def vjp(jac):
        def back(v):
            B = v
            for k in range(N - 1, 0, -1):
                B = (jac(k) * B) @ params[k][0]  # B(k) = W(k+1)^T [jacobian] B(k+1)
            return B
        return back

    tang = lambda u: lagrangian.tangent(params, fwd, u, 1)[-1]  # noqa: E731
    shapes = (fwd.X[1].shape, fwd.X[-1].shape)
    right = gradcheck.dot_product_test(tang, vjp(lambda k: F[k + 1].df(fwd.A[k + 1])), *shapes, seed=1)
    printed = gradcheck.dot_product_test(tang, vjp(lambda k: F[k].df(fwd.A[k + 1])), *shapes, seed=1)
    wrong_arg = gradcheck.dot_product_test(tang, vjp(lambda k: F[k + 1].df(fwd.A[k])), *shapes, seed=1)
    assert right < 1e-12
    assert printed > 1e-3 and wrong_arg > 1e-3


# --- the Lagrange function --------------------------------------------------------------------


def _random_states(params, x, rng):
    X = [x] + [rng.standard_normal((x.shape[0], W.shape[0])) for W, _ in params]
    B = [None] + [rng.standard_normal((x.shape[0], W.shape[0])) for W, _ in params]
    return X, B


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "identity"])
def test_stationarity_zero_on_surface_nonzero_off(activation, rng):
    kw = dict(activation=activation)
    params, x, d = _problem([3, 5, 4, 2], 11, **kw)
    fwd = lagrangian.forward(params, x, **kw)
    co = lagrangian.costate(params, fwd, d, **kw)
    r = lagrangian.stationarity(params, fwd.X, co.B, d, **kw)
    assert r["forward"] == 0.0
    assert r["backward"] < 1e-13
    C, grads = lagrangian.backprop(params, x, d, **kw)
    gnorm = np.sqrt(sum(np.sum(g ** 2) + np.sum(gb ** 2) for g, gb in grads))
    assert r["optimality"] == pytest.approx(gnorm, rel=1e-12) and gnorm > 1e-3
    X_off = [X.copy() for X in fwd.X]
    X_off[1] += 1e-3 * rng.standard_normal(X_off[1].shape)
    assert lagrangian.stationarity(params, X_off, co.B, d, **kw)["forward"] > 1e-4
    B_off = [None] + [b + 1e-3 * rng.standard_normal(b.shape) for b in co.B[1:]]
    assert lagrangian.stationarity(params, fwd.X, B_off, d, **kw)["backward"] > 1e-4


def test_lagrange_function_equals_cost_on_surface_for_any_multipliers(rng):
    params, x, d = _problem([3, 5, 4, 2], 2)
    fwd = lagrangian.forward(params, x)
    C = lagrangian.cost(fwd.X[-1], d)
    for _ in range(3):
        _, B = _random_states(params, x, rng)
        B = [None] + [100.0 * b for b in B[1:]]
        assert lagrangian.lagrange_function(params, fwd.X, B, d) == pytest.approx(C, rel=1e-12, abs=1e-12)
    X, B = _random_states(params, x, rng)  # off the surface the constraint term counts
    assert abs(lagrangian.lagrange_function(params, X, B, d) - lagrangian.cost(X[-1], d)) > 1e-3


@pytest.mark.parametrize("activation", NAMES)
def test_lagrange_partials_match_central_differences_off_surface(activation, rng):
    kw = dict(activation=activation, output_activation="sigmoid")
    params, x, d = _problem([3, 4, 3, 2], 4)
    X, B = _random_states(params, x, rng)
    if activation == "relu":  # keep every preactivation away from the kink
        A = [None] + [X[k - 1] @ W.T + b for k, (W, b) in enumerate(params, 1)]
        assert min(np.min(np.abs(a)) for a in A[1:]) > KINK
    part = lagrangian.lagrange_partials(params, X, B, d, **kw)
    N = len(params)
    for k in range(1, N + 1):
        def fX(s, k=k):
            return lagrangian.lagrange_function(params, X[:k] + [s] + X[k + 1:], B, d, **kw)

        def fB(s, k=k):
            return lagrangian.lagrange_function(params, X, B[:k] + [s] + B[k + 1:], d, **kw)

        assert gradcheck.relative_error(part.dX[k], gradcheck.central_difference(fX, X[k], h=H)) < 1e-7
        assert gradcheck.relative_error(part.dB[k], gradcheck.central_difference(fB, B[k], h=H)) < 1e-7
    fd = gradcheck.params_central_difference(lambda p: lagrangian.lagrange_function(p, X, B, d, **kw), params, h=H)
    assert gradcheck.relative_error(part.dW, fd) < 1e-7
    assert part.dX[0] is None and part.dB[0] is None


def test_descent_step_decreases_cost():
    params, x, d = _problem([3, 6, 2], 8, P=10)
    C0, new = lagrangian.descent_step(params, x, d, lr=1e-3)
    C1, _ = lagrangian.backprop(new, x, d)
    assert C1 < C0
    _, grads = lagrangian.backprop(params, x, d)
    g2 = sum(np.sum(g ** 2) + np.sum(gb ** 2) for g, gb in grads)
    assert C0 - C1 == pytest.approx(1e-3 * g2, rel=0.05)  # first-order decrease lr * |grad|^2
    _, losses = lagrangian.gradient_descent(params, x, d, lr=1e-2, steps=20)
    assert losses.shape == (21,) and losses[0] == pytest.approx(C0) and np.all(np.diff(losses) < 0)


def test_single_pattern_as_1d():
    params, x, d = _problem([3, 4, 2], 1, P=1)
    C1, g1 = lagrangian.backprop(params, x[0], d[0])
    C2, g2 = lagrangian.backprop(params, x, d)
    assert C1 == C2 and gradcheck.relative_error(g1, g2) == 0.0


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 4), min_size=2, max_size=5), P=st.integers(1, 3),
       seed=st.integers(0, 2**31 - 1))
def test_property_gradient_and_surface(sizes, P, seed):
    params, x, d = _problem(sizes, seed, activation="tanh", P=P)
    C, grads = lagrangian.backprop(params, x, d)
    fd = gradcheck.params_central_difference(lambda p: lagrangian.cost(lagrangian.forward(p, x).X[-1], d), params, h=H)
    assert gradcheck.relative_error(grads, fd) < 1e-6
    fwd = lagrangian.forward(params, x)
    co = lagrangian.costate(params, fwd, d)
    assert lagrangian.lagrange_function(params, fwd.X, co.B, d) == pytest.approx(C, rel=1e-12, abs=1e-14)
    assert [a.shape for a in fwd.X] == [(P, n) for n in sizes]
    assert [b.shape for b in co.B[1:]] == [(P, n) for n in sizes[1:]]


# --- the stage Hamiltonian and the cost of a gradient -----------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3])
def test_hamiltonian_partials_match_central_differences(k, rng):
    params, x, d = _problem([3, 4, 3, 2], 6)
    X, B = _random_states(params, x, rng)
    Hk = lagrangian.hamiltonian(params, X, B, k, output_activation="sigmoid")
    kw = dict(output_activation="sigmoid")

    def val(p=params, Xs=X, Bs=B):
        return lagrangian.hamiltonian(p, Xs, Bs, k, **kw).value

    gB = gradcheck.central_difference(lambda s: val(Bs=B[:k] + [s] + B[k + 1:]), B[k], h=H)
    gX = gradcheck.central_difference(lambda s: val(Xs=X[:k - 1] + [s] + X[k:]), X[k - 1], h=H)
    gW = gradcheck.params_central_difference(lambda p: val(p=p), params, h=H)[k - 1]
    assert gradcheck.relative_error(Hk.dB, gB) < 1e-7
    assert gradcheck.relative_error(Hk.dX, gX) < 1e-7
    assert gradcheck.relative_error([Hk.dW, Hk.db], list(gW)) < 1e-7
    assert Hk.k == k


def test_hamiltonian_identities_on_the_trajectory(rng):
    params, x, d = _problem([3, 5, 4, 2], 9)
    fwd = lagrangian.forward(params, x)
    co = lagrangian.costate(params, fwd, d)
    C, grads = lagrangian.backprop(params, x, d)
    N = len(params)
    for k in range(1, N + 1):
        Hk = lagrangian.hamiltonian(params, fwd, co, k)
        np.testing.assert_array_equal(Hk.dB, fwd.X[k])          # forward pass: X(k) = dH/dB(k)
        if k > 1:
            np.testing.assert_allclose(Hk.dX, co.B[k - 1], rtol=1e-15, atol=1e-15)  # costate: B(k-1) = dH/dX(k-1)
        np.testing.assert_allclose(-Hk.dW, grads[k - 1][0], rtol=1e-14, atol=1e-15)  # dC/dW = -dH/dW
        np.testing.assert_allclose(-Hk.db, grads[k - 1][1], rtol=1e-14, atol=1e-15)
    # L = C + sum_k [B(k).X(k) - H(k)] at any point
    X, B = _random_states(params, x, rng)
    L = lagrangian.lagrange_function(params, X, B, d)
    rhs = lagrangian.cost(X[-1], d) + sum(np.sum(B[k] * X[k]) - lagrangian.hamiltonian(params, X, B, k).value
                                          for k in range(1, N + 1))
    assert L == pytest.approx(rhs, rel=1e-13)


def test_gradient_cost_counts():
    c = lagrangian.gradient_cost([3, 5, 2], n_patterns=4)
    assert (c.forward, c.costate, c.weights, c.elementwise, c.n_params) == (4 * 25, 4 * 10, 4 * 25, 4 * 7, 32)
    assert c.central_difference_ratio == 64
    assert c.n_params == mlp.n_params(mlp.init_params([3, 5, 2]))
    # the backward sweep never costs more than twice the forward products (plus the diagonals) ...
    for sizes in ([100, 100, 100, 100], [784, 256, 256, 10], [10, 1000, 1000, 1000, 1], [5, 1]):
        c = lagrangian.gradient_cost(sizes, 32)
        assert 1.0 <= c.backward_ratio < 2.05 and 2.0 <= c.gradient_ratio < 3.05
    # ... and tends to 2 for deep networks of equal widths (the first layer needs no B(0))
    assert lagrangian.gradient_cost([100] * 11, 8).backward_ratio == pytest.approx(1.9 + 0.01, rel=1e-12)


# --- bad input --------------------------------------------------------------------------------

_P, _X, _D = _problem([3, 4, 2], 0, P=5)
_FWD = lagrangian.forward(_P, _X)
_CO = lagrangian.costate(_P, _FWD, _D)
_W1, _b1 = _P[0]
_W2, _b2 = _P[1]
_BAD = [
    ("inputs width", lambda: lagrangian.forward(_P, np.ones((5, 4))), ValueError, r"`inputs` must have 3 columns"),
    ("inputs 3-D", lambda: lagrangian.forward(_P, np.ones((2, 5, 3))), ValueError, r"`inputs` must be 2-D"),
    ("inputs text", lambda: lagrangian.forward(_P, "abc"), TypeError, r"`inputs` must be array-like"),
    ("inputs nan", lambda: lagrangian.forward(_P, np.full((5, 3), np.nan)), ValueError, r"`inputs` must be finite"),
    ("inputs inf", lambda: lagrangian.backprop(_P, np.full((5, 3), np.inf), _D), ValueError, r"`inputs` must be finite"),
    ("targets width", lambda: lagrangian.backprop(_P, _X, np.ones((5, 3))), ValueError, r"`targets` must have 2 columns"),
    ("targets rows", lambda: lagrangian.backprop(_P, _X, np.ones((4, 2))), ValueError, r"`targets` must have one row per pattern \(5\)"),
    ("targets nan", lambda: lagrangian.backprop(_P, _X, np.full((5, 2), np.nan)), ValueError, r"`targets` must be finite"),
    ("targets inf", lambda: lagrangian.costate(_P, _FWD, np.full((5, 2), -np.inf)), ValueError, r"`targets` must be finite"),
    ("activation", lambda: lagrangian.forward(_P, _X, activation="softmax"), ValueError, r"`activation` must be one of"),
    ("output activation", lambda: lagrangian.backprop(_P, _X, _D, output_activation="foo"), ValueError, r"`output_activation` must be one of"),
    ("activation type", lambda: lagrangian.forward(_P, _X, activation=3), TypeError, r"`activation` must be a string"),
    ("params nan", lambda: lagrangian.forward([(np.full((4, 3), np.nan), _b1), _P[1]], _X), ValueError, r"`params\[0\]\[0\] \(W_1\)` must be finite"),
    ("params inf bias", lambda: lagrangian.backprop([_P[0], (_W2, np.full(2, np.inf))], _X, _D), ValueError, r"`params\[1\]\[1\] \(b_2\)` must be finite"),
    ("params empty", lambda: lagrangian.forward([], _X), ValueError, r"`params` must be a non-empty list"),
    ("params None", lambda: lagrangian.backprop(None, _X, _D), ValueError, r"`params` must be a non-empty list"),
    ("params array", lambda: lagrangian.forward(np.ones((3, 3)), _X), ValueError, r"`params` must be a non-empty list"),
    ("not pairs", lambda: lagrangian.forward([(_W1,), _P[1]], _X), ValueError, r"`params\[0\]` must be a pair"),
    ("triple", lambda: lagrangian.forward([(_W1, _b1, _b1), _P[1]], _X), ValueError, r"`params\[0\]` must be a pair"),
    ("W not 2-D", lambda: lagrangian.forward([(np.ones(3), np.zeros(1))], _X), ValueError, r"`params\[0\]\[0\] \(W_1\)` must be 2-D"),
    ("b wrong length", lambda: lagrangian.forward([(_W1, np.zeros(3)), _P[1]], _X), ValueError, r"`params\[0\]\[1\]` \(b_1\) must have shape \(4,\)"),
    ("no chain", lambda: lagrangian.forward([_P[0], (np.ones((2, 5)), _b2)], _X), ValueError, r"`params\[1\]\[0\]` \(W_2\) must have 4 columns"),
    ("fwd type", lambda: lagrangian.costate(_P, {"X": _FWD.X}, _D), TypeError, r"`fwd` must be a Forward"),
    ("fwd other net", lambda: lagrangian.costate(mlp.init_params([3, 5, 2]), _FWD, _D), ValueError, r"`fwd.X\[1\]` must have 5 columns"),
    ("lr", lambda: lagrangian.descent_step(_P, _X, _D, lr=-1.0), ValueError, r"`lr` must be a finite number > 0"),
    ("lr nan", lambda: lagrangian.descent_step(_P, _X, _D, lr=np.nan), ValueError, r"`lr` must be a finite number > 0"),
    ("steps", lambda: lagrangian.gradient_descent(_P, _X, _D, lr=0.1, steps=-1), ValueError, r"`steps` must be >= 0"),
    ("L: B None", lambda: lagrangian.lagrange_function(_P, _FWD.X, [None, None, None], _D), ValueError, r"`B\[k\]` must be an array"),
    ("L: B rows", lambda: lagrangian.lagrange_function(_P, _FWD.X, [None, np.ones((4, 4)), np.ones((4, 2))], _D), ValueError, r"`B` must have 5 rows"),
    ("L: B nan", lambda: lagrangian.lagrange_function(_P, _FWD.X, [None, np.full((5, 4), np.nan), _CO.B[2]], _D), ValueError, r"`B\[1\]` must be finite"),
    ("L: X length", lambda: lagrangian.lagrange_function(_P, _FWD.X[:2], _CO.B, _D), ValueError, r"`X` must be a list of 3 arrays"),
    ("L: X rows", lambda: lagrangian.lagrange_function(_P, [_X, np.ones((4, 4)), _FWD.X[2]], _CO.B, _D), ValueError, r"`X\[1\]` must have 5 rows"),
    ("L: X0 None", lambda: lagrangian.lagrange_function(_P, [None] + _FWD.X[1:], _CO.B, _D), ValueError, r"`X\[0\]` must hold the inputs"),
    ("dL: B None", lambda: lagrangian.lagrange_partials(_P, _FWD.X, [None, None, None], _D), ValueError, r"`B\[k\]` must be an array"),
    ("dL: B rows", lambda: lagrangian.lagrange_partials(_P, _FWD.X, [None, np.ones((4, 4)), np.ones((4, 2))], _D), ValueError, r"`B` must have 5 rows"),
    ("dL: X0 None", lambda: lagrangian.lagrange_partials(_P, [None] + _FWD.X[1:], _CO.B, _D), ValueError, r"`X\[0\]` must hold the inputs"),
    ("stationarity targets", lambda: lagrangian.stationarity(_P, _FWD.X, _CO.B, np.ones((5, 7))), ValueError, r"`targets` must have 2 columns"),
    ("H: k", lambda: lagrangian.hamiltonian(_P, _FWD, _CO, 3), ValueError, r"`k` must be <= 2"),
    ("H: k zero", lambda: lagrangian.hamiltonian(_P, _FWD, _CO, 0), ValueError, r"`k` must be >= 1"),
    ("H: B rows", lambda: lagrangian.hamiltonian(_P, _FWD.X, [None, np.ones((4, 4)), None], 1), ValueError, r"`B\[1\]` must have 5 rows"),
    ("H: X list", lambda: lagrangian.hamiltonian(_P, _FWD.X[:1], _CO, 1), ValueError, r"`X` must be a list of 3"),
    ("flops sizes", lambda: lagrangian.gradient_cost([3]), ValueError, r"`sizes` needs at least two"),
    ("flops P", lambda: lagrangian.gradient_cost([3, 2], 0), ValueError, r"`n_patterns` must be >= 1"),
    ("inputs complex", lambda: lagrangian.forward(_P, _X + 0j), TypeError, r"`inputs` must be real, got a complex array"),
    ("cost broadcast", lambda: lagrangian.cost([[1.0], [2.0]], [1.0, 2.0]), ValueError, r"`targets` must have the shape of `outputs`"),
    ("cost None", lambda: lagrangian.cost(None, [1.0]), TypeError, r"`outputs` must be array-like"),
    ("costate A nan", lambda: lagrangian.costate(_P, lagrangian.Forward(X=_FWD.X, A=[None] + [a * np.nan for a in _FWD.A[1:]]), _D), ValueError, r"`fwd.A\[1\]` must be finite"),
    ("costate A short", lambda: lagrangian.costate(_P, lagrangian.Forward(X=_FWD.X, A=_FWD.A[:2]), _D), ValueError, r"`fwd.A` must be a list of"),
    ("costate A None", lambda: lagrangian.costate(_P, lagrangian.Forward(X=_FWD.X, A=[None] * len(_FWD.A)), _D), ValueError, r"`fwd.A\[k\]` must be an array"),
    ("tangent A nan", lambda: lagrangian.tangent(_P, lagrangian.Forward(X=_FWD.X, A=[None] + [a * np.nan for a in _FWD.A[1:]]), _FWD.X[0], 0), ValueError, r"`fwd.A\[1\]` must be finite"),
    ("tangent k", lambda: lagrangian.tangent(_P, _FWD, _FWD.X[0], 9), ValueError, r"`k` must be a layer index in 0\.\."),
    ("descent lr nan", lambda: lagrangian.gradient_descent(_P, _X, _D, lr=np.nan, steps=2), ValueError, r"`lr` must be a finite number > 0"),
    ("descent steps", lambda: lagrangian.gradient_descent(_P, _X, _D, lr=0.1, steps=-1), ValueError, r"`steps` must be >= 0"),
    ("descent diverges", lambda: lagrangian.gradient_descent(_P, _X, _D, lr=1e200, steps=5), ConvergenceError, r"gradient descent diverged at step"),
    ("pattern stream", lambda: lagrangian.pattern_gradient(None, _P), TypeError, r"`stream` must be a supervision.Stream"),
    ("pattern k", lambda: lagrangian.pattern_gradient(supervision.stream([1.0], _X[:1], _D[:1]), _P)(3, mlp.flatten(_P)), ValueError, r"`k` must be a pattern index in 0..0"),
    ("pattern w", lambda: lagrangian.pattern_loss(supervision.stream([1.0], _X[:1], _D[:1]), _P)(0, [1.0]), ValueError, r"`w` must have"),
    ("costate A[1] None", lambda: lagrangian.costate(_P, lagrangian.Forward(X=_FWD.X, A=[None, None, _FWD.A[2]]), _D), ValueError, r"`fwd.A\[k\]` must be an array for every k = 1..N"),
    ("L B[1] None", lambda: lagrangian.lagrange_function(_P, _FWD.X, [None, None, _CO.B[2]], _D), ValueError, r"`B\[k\]` must be an array for every k = 1..N"),
    ("L X int", lambda: lagrangian.lagrange_function(_P, 5, _CO.B, _D), ValueError, r"`X` must be a list of 3 arrays \(k = 0..2\), got int$"),
    ("L X short", lambda: lagrangian.lagrange_function(_P, _FWD.X[:2], _CO.B, _D), ValueError, r"got list of length 2$"),
    ("pattern inputs width", lambda: lagrangian.pattern_gradient(supervision.stream([1.0], np.ones((1, 2)), _D[:1]), _P), ValueError, r"`stream.inputs` must have 3 columns"),
    ("pattern like", lambda: lagrangian.pattern_loss(supervision.stream([1.0], _X[:1], _D[:1]), None), ValueError, r"`like` must be a non-empty list"),
    ("pattern w 2-D", lambda: lagrangian.pattern_loss(supervision.stream([1.0], _X[:1], _D[:1]), _P)(0, np.ones((1, 26))), ValueError, r"`w` must be 1-D"),
    ("Ak width", lambda: lagrangian.cost_from_preactivation(_P, np.ones((5, 3)), 1, _D), ValueError, r"`Ak` must have 4 columns"),
    ("H X width", lambda: lagrangian.hamiltonian(_P, [np.ones((5, 2)), None, None], _CO.B, 1), ValueError, r"`X\[0\]` must have 3 columns"),
    ("H B rows", lambda: lagrangian.hamiltonian(_P, _FWD.X, [None, np.ones((2, 4)), None], 1), ValueError, r"`B\[1\]` must have 5 rows like `X\[0\]`"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD], ids=[c[0] for c in _BAD])
def test_bad_input_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --- the cost seen from layer k (le Cun 1988, eqs. 5-8) ----------------------------------------

lg = lagrangian
ACTS = ["identity", "tanh", "sigmoid"]


def _net(sizes, seed, P=3):
    rng = np.random.default_rng(seed)
    params = mlp.init_params(sizes, seed=rng)
    params = [(W, rng.normal(0.0, 0.3, b.shape)) for W, b in params]
    return params, rng.normal(size=(P, sizes[0])), rng.normal(size=(P, sizes[-1]))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.sampled_from(ACTS), st.integers(0, 10_000))
def test_multipliers_are_minus_the_gradients_of_the_cost_from_layer_k(depth, act, seed):
    sizes = [3] + [4] * (depth - 1) + [2]
    params, X0, D = _net(sizes, seed)
    kw = dict(activation=act, output_activation=act)
    fwd = lg.forward(params, X0, **kw)
    co = lg.costate(params, fwd, D, **kw)
    for k in range(1, depth + 1):
        gX = gradcheck.central_difference(lambda x: lg.cost_from_layer(params, x, k, D, **kw), fwd.X[k], h=1e-5)
        gA = gradcheck.central_difference(lambda a: lg.cost_from_preactivation(params, a, k, D, **kw), fwd.A[k], h=1e-5)
        assert gradcheck.relative_error(co.B[k], -gX) < 1e-6
        assert gradcheck.relative_error(co.Y[k], -gA) < 1e-6


def test_cost_from_layer_at_the_ends():
    params, X0, D = _net([3, 4, 2], 1)
    fwd = lg.forward(params, X0)
    C = lg.cost(fwd.X[-1], D)
    assert lg.cost_from_layer(params, X0, 0, D) == pytest.approx(C, rel=1e-14)
    assert lg.cost_from_layer(params, fwd.X[1], 1, D) == pytest.approx(C, rel=1e-14)
    assert lg.cost_from_layer(params, fwd.X[2], 2, D) == pytest.approx(C, rel=1e-14)
    assert lg.cost_from_preactivation(params, fwd.A[2], 2, D) == pytest.approx(C, rel=1e-14)
    # the cost from the output layer ignores the weights
    assert lg.cost_from_layer(params, D, 2, D) == 0.0


def test_cost_from_layer_bad_input():
    params, X0, D = _net([3, 4, 2], 1)
    with pytest.raises(ValueError, match="`k` must be a layer index in 0..2"):
        lg.cost_from_layer(params, X0, 3, D)
    with pytest.raises(ValueError, match="`k` must be a layer index in 1..2"):
        lg.cost_from_preactivation(params, X0, 0, D)
    with pytest.raises(TypeError, match="`k`"):
        lg.cost_from_layer(params, X0, 1.0, D)
    with pytest.raises(ValueError, match="`Xk` must have 4 columns"):
        lg.cost_from_layer(params, X0, 1, D)
    with pytest.raises(ValueError, match="`targets` must have one row per pattern"):
        lg.cost_from_layer(params, X0, 0, D[:2])


def test_pattern_callables_are_the_costate_gradient_of_one_pattern():
    params, X0, D = _net([3, 4, 2], 11, P=3)
    st_ = supervision.stream([1.0, 2.0, 3.0], X0, D)
    grad = lagrangian.pattern_gradient(st_, params)
    loss = lagrangian.pattern_loss(st_, params)
    w = mlp.flatten(params)
    for k in range(3):
        fd = gradcheck.central_difference(lambda z: loss(k, z), w)
        assert gradcheck.relative_error(grad(k, w), fd) < 1e-8
        assert loss(k, w) == pytest.approx(lagrangian.backprop(params, X0[k], D[k])[0], rel=1e-14)


def test_a_diverging_descent_says_so():
    params, X0, D = _net([3, 4, 2], 1)
    with pytest.raises(ConvergenceError, match="diverged") as info:
        lagrangian.gradient_descent(params, X0, D, lr=1e3, steps=200)
    assert info.value.iterations >= 1 and np.isfinite(info.value.residual)


def _backprop_by_hand(params, X0, D, *, transpose_W=False, shift=0):
    """A hand-written costate pass with two plausible slips: W for W^T in the B recursion, and
    Y(k) paired with X(k) instead of X(k-1) in the weight gradient (an index off by one)."""
    X, A = [X0], [None]
    for W, b in params:
        A.append(X[-1] @ W.T + b)
        X.append(np.tanh(A[-1]) if len(A) < len(params) + 1 else A[-1])
    N = len(params)
    B = 2 * (D - X[N])
    grads = [None] * N
    for k in range(N, 0, -1):
        Y = B * (1 - np.tanh(A[k]) ** 2) if k < N else B
        grads[k - 1] = (-Y.T @ X[k - 1 + shift], -Y.sum(axis=0))
        W = params[k - 1][0]
        B = Y @ (W.T if transpose_W else W)
    return grads


def test_the_checker_rejects_plausibly_wrong_implementations():
    params, X0, D = _net([3, 3, 3, 3], 21, P=4)
    fd = gradcheck.params_central_difference(lambda p: lagrangian.backprop(p, X0, D)[0], params)
    right = _backprop_by_hand(params, X0, D)
    assert gradcheck.relative_error(right, lagrangian.backprop(params, X0, D)[1]) < 1e-12
    assert gradcheck.relative_error(right, fd) < 1e-7
    for slip in (dict(transpose_W=True), dict(shift=1)):
        assert gradcheck.relative_error(_backprop_by_hand(params, X0, D, **slip), fd) > 1e-2


def test_descent_diagnoses_divergence_exactly():
    params, X0, D = _net([3, 4, 2], 1)
    D = 1e4 * D  # gradients of order 1e4: a step of 1e306 overflows
    with pytest.raises(ConvergenceError) as info:
        lagrangian.descent_step(params, X0, D, lr=1e306)
    e = info.value
    assert e.iterations == 1 and np.isfinite(e.residual) and "descent_step diverged" in e.diagnosis
    assert f"`lr` = {1e306!r}" in e.diagnosis
    C0, _ = lagrangian.descent_step(params, X0, D, lr=1e-3)
    assert e.residual == pytest.approx(C0, rel=1e-12)  # the cost before the failed step
    # a diverging run reports the step at which the weights overflowed and the last finite cost
    with pytest.raises(ConvergenceError) as info:
        lagrangian.gradient_descent(params, X0, D, lr=1e306, steps=4)
    e = info.value
    assert e.iterations == 1 and "at step 1 of 4" in e.diagnosis and e.residual == pytest.approx(C0)
    # an overflow in one bias alone is caught too
    bad = [(W, b) for W, b in params]
    assert lagrangian._all_finite(bad)
    bad[1] = (bad[1][0], np.array([np.inf, 0.0]))
    assert not lagrangian._all_finite(bad)
    bad = [(W, b) for W, b in params]
    bad[0] = (np.full_like(bad[0][0], np.inf), bad[0][1])
    assert not lagrangian._all_finite(bad)


def test_descent_names_bad_inputs_and_counts_one_pattern_by_default():
    params, X0, D = _net([3, 4, 2], 1)
    with pytest.raises(ValueError, match="`inputs` must have 3 columns"):
        lagrangian.descent_step(params, X0[:, :2], D, lr=0.1)
    with pytest.raises(ValueError, match="`targets` must have one row per pattern"):
        lagrangian.gradient_descent(params, X0, D[:1], lr=0.1, steps=1)
    assert lagrangian.gradient_cost([3, 4, 2]) == lagrangian.gradient_cost([3, 4, 2], 1)
    assert lagrangian.gradient_cost([3, 4, 2]).forward == 3 * 4 + 4 * 2


# --- vector-Jacobian and Jacobian-vector products of the output map ---------------------------


def _vjp_case(sizes, seed, act, out_act, P=3):
    params, X0, _ = _problem(sizes, seed, act, out_act, P=P)
    rng = np.random.default_rng(seed + 100)
    U = rng.standard_normal((P, sizes[-1]))
    V = [(rng.standard_normal(W.shape), rng.standard_normal(b.shape)) for W, b in params]
    dX0 = rng.standard_normal(X0.shape)
    return params, X0, U, V, dX0


@pytest.mark.parametrize("act", NAMES)
@pytest.mark.parametrize("sizes", [[3, 2], [2, 4, 3], [3, 4, 2, 2]])
def test_vjp_matches_central_differences_of_the_projected_outputs(act, sizes):
    params, X0, U, _, _ = _vjp_case(sizes, 11, act, "sigmoid")
    kw = dict(activation=act, output_activation="sigmoid")
    dW, dX0 = lagrangian.vjp(params, X0, U, **kw)

    def phi_params(t):
        return float(np.sum(U * lagrangian.forward(mlp.unflatten(t, params), X0, **kw).X[-1]))

    def phi_inputs(x):
        return float(np.sum(U * lagrangian.forward(params, x.reshape(X0.shape), **kw).X[-1]))

    fd_W = gradcheck.central_difference(phi_params, mlp.flatten(params), h=H)
    fd_X = gradcheck.central_difference(phi_inputs, X0.ravel(), h=H)
    assert gradcheck.relative_error(mlp.flatten(dW), fd_W) < 1e-7
    assert gradcheck.relative_error(dX0.ravel(), fd_X) < 1e-7
    assert dX0.shape == X0.shape


@pytest.mark.parametrize("act", NAMES)
def test_jvp_matches_central_differences_along_the_direction(act):
    params, X0, _, V, dX0 = _vjp_case([3, 4, 2, 2], 5, act, "tanh")
    kw = dict(activation=act, output_activation="tanh")

    def out(s):
        p = [(W + s * a, b + s * c) for (W, b), (a, c) in zip(params, V)]
        return lagrangian.forward(p, X0 + s * dX0, **kw).X[-1]

    Y, dY = lagrangian.jvp(params, X0, V, d_inputs=dX0, **kw)
    np.testing.assert_array_equal(Y, lagrangian.forward(params, X0, **kw).X[-1])
    assert gradcheck.relative_error(dY, (out(H) - out(-H)) / (2 * H)) < 1e-7
    _, dY_W = lagrangian.jvp(params, X0, V, **kw)  # the inputs held fixed

    def out_W(s):
        p = [(W + s * a, b + s * c) for (W, b), (a, c) in zip(params, V)]
        return lagrangian.forward(p, X0, **kw).X[-1]

    assert gradcheck.relative_error(dY_W, (out_W(H) - out_W(-H)) / (2 * H)) < 1e-7
    _, zero = lagrangian.jvp(params, X0, None, **kw)
    np.testing.assert_array_equal(zero, 0.0)


def test_vjp_and_jvp_are_transposes_and_vjp_of_the_residual_is_the_gradient():
    """<U, J w> = <J^T U, w> (the dot-product test), and the cotangent 2 (D - X(N)) pulls back
    to -dC/dW, the gradient of backprop."""
    kw = dict(activation="tanh", output_activation="identity")
    params, X0, U, V, dX0 = _vjp_case([4, 5, 3], 2, "tanh", "identity", P=5)
    _, dY = lagrangian.jvp(params, X0, V, d_inputs=dX0, **kw)
    dW, dX = lagrangian.vjp(params, X0, U, **kw)
    lhs = float(np.sum(U * dY))
    rhs = float(mlp.flatten(dW) @ mlp.flatten(V) + np.sum(dX * dX0))
    assert abs(lhs - rhs) < 1e-13 * max(1.0, abs(lhs))
    D = np.random.default_rng(0).standard_normal(U.shape)
    C, grads = lagrangian.backprop(params, X0, D, **kw)
    residual = 2.0 * (D - lagrangian.forward(params, X0, **kw).X[-1])
    g, _ = lagrangian.vjp(params, X0, residual, **kw)
    assert gradcheck.relative_error(mlp.flatten(g), -mlp.flatten(grads)) < 1e-14


def test_vjp_jvp_one_pattern_as_1d_and_bad_input():
    params, X0, U, V, dX0 = _vjp_case([3, 2], 1, "tanh", "identity", P=1)
    a, b = lagrangian.vjp(params, X0[0], U[0])
    c, e = lagrangian.vjp(params, X0, U)
    assert gradcheck.relative_error(mlp.flatten(a), mlp.flatten(c)) == 0.0 and b.shape == (1, 3)
    huge = [(W * 1e200, b) for W, b in params]
    bad = [
        (lambda: lagrangian.vjp(params, X0, U[:, :1]), ValueError, "`cotangent` must have 2 columns"),
        (lambda: lagrangian.vjp(params, np.vstack([X0, X0]), U), ValueError,
         r"`cotangent` must have one row per pattern \(2\), got shape \(1, 2\)"),
        (lambda: lagrangian.vjp(params, X0, U * np.nan), ValueError, "`cotangent` must be finite"),
        (lambda: lagrangian.jvp(params, X0, V[:0]), ValueError, "`v` must be a non-empty list"),
        (lambda: lagrangian.jvp(params, X0, [(V[0][0].T, V[0][1])]), ValueError, r"`v\[0\]\[1\]`"),
        (lambda: lagrangian.jvp(params, X0, V, d_inputs=dX0[:, :2]), ValueError,
         "`d_inputs` must have 3 columns"),
        (lambda: lagrangian.jvp(params, X0, V, d_inputs=np.vstack([dX0, dX0])), ValueError,
         r"`d_inputs` must have the shape of `inputs`, \(1, 3\), got \(2, 3\)"),
        (lambda: lagrangian.jvp(huge, X0 * 1e200, V, activation="identity",
                                output_activation="identity"), ValueError,
         r"too large for float64: the forward or tangent pass overflows .*`params` \d"),
        (lambda: lagrangian.vjp(huge, X0, U * 1e200, output_activation="identity"), ValueError,
         r"too large for float64: the pullback overflows .*`cotangent` \d"),
    ]
    for call, exc, match in bad:
        with pytest.raises(exc, match=match):
            call()


# --- the internal API: the private kernels other modules call --------------------------------


def test_shared_private_kernels_keep_the_signatures_the_module_docstring_lists():
    """The kernels documented in lagrangian's module docstring as the package's internal API:
    a change of their leading parameters breaks the modules listed there."""
    import inspect

    expected = {
        "_forward": ["params", "X0", "F"],
        "_costate": ["params", "X", "A", "D", "F"],
        "_layer_activations": ["n_layers", "activation", "output_activation"],
        "_weight_gradients": ["Y", "X"],
        "_cost": ["X", "D"],
        "_check_targets": ["targets", "params", "P"],
        "_check_states": ["X", "params", "name"],
        "_check_lagrange_args": ["params", "X", "B", "targets", "activation", "output_activation"],
        "_lagrange_partials": ["params", "X", "B", "D", "F"],
        "_hessian_vector": ["params", "X0", "D", "F", "d2", "V"],
        "_second_derivatives": ["F", "N"],
        "_raise_if_overflowed": ["arrays", "what"],
    }
    for name, leading in expected.items():
        params = list(inspect.signature(getattr(lagrangian, name)).parameters)
        assert params[:len(leading)] == leading, name
        assert f"``{name}(" in lagrangian.__doc__, name


def test_one_dimensional_targets_get_the_shape_passed_and_a_reshape_hint():
    params = mlp.init_params([3, 4, 1], seed=0)
    X = np.ones((8, 3))
    with pytest.raises(ValueError, match=r"^`targets` must have 1 column, one row per pattern \(a 1-D "
                       r"array is one pattern\), got a 1-D array of shape \(8,\); for 8 patterns "
                       r"of 1 value pass `targets.reshape\(-1, 1\)`$"):
        lagrangian.backprop(params, X, np.ones(8))
    # the hint reads the array as rows, and then the call works
    C, _ = lagrangian.backprop(params, X, np.ones(8).reshape(-1, 1))
    assert np.isfinite(C)
    # no hint where no reshape could help
    with pytest.raises(ValueError, match=r"got a 1-D array of shape \(3,\)$"):
        lagrangian.backprop(mlp.init_params([3, 2], seed=0), X[:1], np.ones(3))


def test_a_transposed_weight_is_named_and_a_flat_vector_is_described_in_one_line():
    params = mlp.init_params([3, 4, 1], seed=0)
    X, D = np.ones((8, 3)), np.ones((8, 1))
    swapped = [(params[0][0].T, params[0][1]), params[1]]
    with pytest.raises(ValueError, match=r"^`params\[0\]\[0\]` \(W_1\) looks transposed: .*pass W_1.T$"):
        lagrangian.backprop(swapped, X, D)
    with pytest.raises(ValueError) as info:
        lagrangian.backprop(mlp.flatten(params), X, D)
    assert "\n" not in str(info.value) and "flat array of shape (21,)" in str(info.value)
    assert "mlp.unflatten" in str(info.value)


def test_overflow_of_a_deep_linear_net_raises_naming_the_layer_not_nan():
    N, n = 120, 4
    params = [(1e3 * np.eye(n), np.zeros(n)) for _ in range(N)]
    X, D = np.ones((2, n)), np.zeros((2, n))
    kw = dict(activation="identity")
    # X(k) = 1e3^k: float64 holds 1e306 (k = 102) but not 1e309 (k = 103)
    with pytest.raises(FloatingPointError, match=r"^backprop overflowed float64 in the forward pass at "
                       r"layer 103 of this 120-layer network: the weights `params` \(largest \|W_k\| = "
                       r"1e\+03\) or the `inputs` \(largest \|x\| = 1\) are too large for it; scale them down$"):
        lagrangian.backprop(params, X, D, **kw)
    with pytest.raises(FloatingPointError, match=r"^forward overflowed float64 in the forward pass at layer 103"):
        lagrangian.forward(params, X, **kw)
    # 100 layers: the outputs (1e300) are finite but the costate 2 (D - X) * 1e3^k overflows
    short = params[:100]
    fwd = lagrangian.forward(short, X, **kw)
    assert fwd.X[-1][0, 0] == pytest.approx(1e300, rel=1e-12)
    with pytest.raises(FloatingPointError, match=r"^costate overflowed float64 in the costate pass at layer"):
        lagrangian.costate(short, fwd, D, **kw)
    with pytest.raises(FloatingPointError, match=r"^backprop overflowed float64 in the"):
        lagrangian.backprop(short, X, D, **kw)
    # saturating units keep everything finite: no false alarm, and the gradient is the exact 0
    C, grads = lagrangian.backprop([(1e200 * np.eye(n), np.zeros(n))] * 3, X, D, output_activation="tanh")
    assert np.isfinite(C) and all(np.all(np.isfinite(g)) for pair in grads for g in pair)


def test_gradient_descent_with_a_step_far_too_large_stops_before_the_overflow():
    params = mlp.init_params([3, 4, 1], seed=0)
    rng = np.random.default_rng(0)
    X, D = rng.normal(size=(8, 3)), 3.0 * np.ones((8, 1))
    with pytest.raises(ConvergenceError) as info:
        lagrangian.gradient_descent(params, X, D, lr=10.0, steps=50)
    e = info.value
    # the costs it reports are those of an independent run of single steps
    costs, p = [], params
    for _ in range(e.iterations + 1):
        C, p = lagrangian.descent_step(p, X, D, lr=10.0)
        costs.append(C)
    assert e.iterations < 10 and e.residual == pytest.approx(costs[e.iterations], rel=1e-12)
    assert e.residual > 1e6 * costs[0] and max(costs[:e.iterations]) <= 1e6 * costs[0]
    assert f"use a smaller `lr` than {10.0!r}" in e.diagnosis and "-0" not in e.diagnosis
    assert f"after {e.iterations} of 50 steps the cost grew from {costs[0]:.3g}" in e.diagnosis
    # a step that suits the cost still runs to the end
    _, losses = lagrangian.gradient_descent(params, X, D, lr=0.01, steps=50)
    assert losses.shape == (51,) and losses[-1] < losses[0]


def test_targets_of_one_pattern_for_many_inputs_are_reported_as_passed():
    params = mlp.init_params([3, 4, 2], seed=0)
    with pytest.raises(ValueError, match=r"^`targets` must have one row per pattern \(8\), got a 1-D "
                       r"array of shape \(2,\) \(one pattern\)$"):
        lagrangian.backprop(params, np.ones((8, 3)), np.ones(2))
    with pytest.raises(ValueError, match=r"^`targets` must have one row per pattern \(8\), got shape \(3, 2\)$"):
        lagrangian.backprop(params, np.ones((8, 3)), np.ones((3, 2)))
