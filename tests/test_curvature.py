"""Tests of lagprop.curvature: the constraint Jacobian (LICQ), the reduced Hessian of the cost
and the Hessian of L in W at fixed states and multipliers (le Cun 1988, footnote 3)."""

import numpy as np
import pytest

from lagprop import activations, curvature as cv, gradcheck, lagrangian as lg, mlp

ACTS = ["identity", "tanh", "sigmoid"]


def _net(sizes, seed, P=3):
    rng = np.random.default_rng(seed)
    params = mlp.init_params(sizes, seed=rng)
    params = [(W, rng.normal(0.0, 0.3, b.shape)) for W, b in params]
    return params, rng.normal(size=(P, sizes[0])), rng.normal(size=(P, sizes[-1]))


@pytest.mark.parametrize("act", ACTS)
def test_constraint_jacobian_matches_central_differences_and_is_unit_lower_triangular(act):
    params, X0, D = _net([2, 3, 2, 1], 5, P=2)
    kw = dict(activation=act, output_activation=act)
    rng = np.random.default_rng(0)
    X = [X0] + [rng.normal(size=(2, W.shape[0])) for W, _ in params]  # off the surface too
    J = cv.constraint_jacobian(params, X, **kw)
    sizes = [x.size for x in X[1:]]
    offs = np.concatenate([[0], np.cumsum(sizes)])

    def g(z):
        Xs = [X0] + [z[offs[i]:offs[i + 1]].reshape(X[i + 1].shape) for i in range(len(sizes))]
        f = activations.get(act).f
        return np.concatenate([(Xs[k] - f(Xs[k - 1] @ W.T + b)).ravel()
                               for k, (W, b) in enumerate(params, start=1)])

    z = np.concatenate([x.ravel() for x in X[1:]])
    Jfd = np.column_stack([(g(z + 1e-6 * e) - g(z - 1e-6 * e)) / 2e-6 for e in np.eye(z.size)])
    assert gradcheck.relative_error(J, Jfd) < 1e-8
    np.testing.assert_array_equal(np.triu(J, 1), 0.0)
    np.testing.assert_array_equal(np.diag(J), 1.0)
    assert np.linalg.matrix_rank(J) == z.size


def test_backward_pass_is_the_transposed_constraint_solve():
    params, X0, D = _net([2, 3, 3, 2], 9, P=3)
    fwd = lg.forward(params, X0)
    co = lg.costate(params, fwd, D)
    J = cv.constraint_jacobian(params, fwd.X)
    gradC = np.concatenate([np.zeros(x.size) for x in fwd.X[1:-1]] + [(-2.0 * (D - fwd.X[-1])).ravel()])
    B = np.linalg.solve(J.T, -gradC)
    np.testing.assert_allclose(B, np.concatenate([b.ravel() for b in co.B[1:]]), rtol=1e-12, atol=1e-14)


def test_reduced_hessian_of_a_linear_layer_is_the_normal_matrix():
    rng = np.random.default_rng(3)
    X0, D = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    params = mlp.init_params([3, 1], seed=2)
    H = cv.reduced_hessian(params, X0, D, output_activation="identity")
    Xa = np.hstack([X0, np.ones((6, 1))])  # flatten order: W_1 (row-major), then b_1
    np.testing.assert_allclose(H, 2.0 * Xa.T @ Xa, rtol=1e-8, atol=1e-8)


def test_reduced_hessian_matches_second_differences_of_the_cost():
    params, X0, D = _net([2, 3, 1], 4)
    H = cv.reduced_hessian(params, X0, D)
    theta = mlp.flatten(params)

    def C(t):
        return lg.backprop(mlp.unflatten(t, params), X0, D)[0]

    h = 1e-4
    for i, j in [(0, 0), (1, 4), (3, 8), (9, 12)]:
        ei, ej = np.eye(theta.size)[i] * h, np.eye(theta.size)[j] * h
        fd = (C(theta + ei + ej) - C(theta + ei - ej) - C(theta - ei + ej) + C(theta - ei - ej)) / (4 * h * h)
        assert H[i, j] == pytest.approx(fd, rel=1e-5, abs=1e-6)
    np.testing.assert_array_equal(H, H.T)


def test_weight_hessian_of_L_vanishes_for_linear_networks_but_not_the_reduced_one():
    params, X0, D = _net([2, 3, 1], 6)
    kw = dict(activation="identity", output_activation="identity")
    fwd = lg.forward(params, X0, **kw)
    co = lg.costate(params, fwd, D, **kw)
    HL = cv.lagrange_weight_hessian(params, fwd.X, co.B, D, **kw)
    assert np.max(np.abs(HL)) < 1e-8
    assert np.max(np.abs(cv.reduced_hessian(params, X0, D, **kw))) > 1.0


def test_weight_hessian_of_L_matches_second_differences_of_L():
    params, X0, D = _net([2, 3, 2], 8)
    fwd = lg.forward(params, X0)
    co = lg.costate(params, fwd, D)
    HL = cv.lagrange_weight_hessian(params, fwd.X, co.B, D)
    theta = mlp.flatten(params)

    def L(t):
        return lg.lagrange_function(mlp.unflatten(t, params), fwd.X, co.B, D)

    h = 1e-4
    for i, j in [(0, 0), (2, 5), (1, 1)]:
        ei, ej = np.eye(theta.size)[i] * h, np.eye(theta.size)[j] * h
        fd = (L(theta + ei + ej) - L(theta + ei - ej) - L(theta - ei + ej) + L(theta - ei - ej)) / (4 * h * h)
        assert HL[i, j] == pytest.approx(fd, rel=1e-4, abs=1e-6)
    # at fixed X, layers do not interact: the blocks between W_1 and W_2 vanish
    n1 = params[0][0].size + params[0][1].size
    assert np.max(np.abs(HL[:n1, n1:])) < 1e-9


def test_hessian_bad_step():
    params, X0, D = _net([2, 1], 0)
    with pytest.raises(ValueError, match="`h`"):
        cv.reduced_hessian(params, X0, D, h=0.0)
    fwd = lg.forward(params, X0)
    co = lg.costate(params, fwd, D)
    with pytest.raises(ValueError, match="`h`"):
        cv.lagrange_weight_hessian(params, fwd.X, co.B, D, h=-1.0)


def test_constraint_jacobian_bad_input():
    params, X0, D = _net([2, 3, 1], 0)
    with pytest.raises(ValueError, match="`X` must be a list of 3 arrays"):
        cv.constraint_jacobian(params, [X0])
    with pytest.raises(ValueError, match="`X\\[k\\]` must be an array"):
        cv.constraint_jacobian(params, [X0, None, np.zeros((3, 1))])


_P, _X0, _D = _net([2, 3, 1], 0)
_FWD = lg.forward(_P, _X0)
_CO = lg.costate(_P, _FWD, _D)

# (id, call, exception, message) for every public argument
_BAD = [
    ("J: params None", lambda: cv.constraint_jacobian(None, _FWD.X), ValueError, "`params` must be a non-empty list"),
    ("J: X short", lambda: cv.constraint_jacobian(_P, _FWD.X[:2]), ValueError, "`X` must be a list of 3 arrays"),
    ("J: X complex", lambda: cv.constraint_jacobian(_P, [_X0 + 0j] + _FWD.X[1:]), TypeError, r"`X\[0\]` must be real"),
    ("J: X nan", lambda: cv.constraint_jacobian(_P, [_X0, _FWD.X[1] * np.nan, _FWD.X[2]]), ValueError, r"`X\[1\]` must be finite"),
    ("J: activation", lambda: cv.constraint_jacobian(_P, _FWD.X, activation="soft"), ValueError, "`activation` must be one of"),
    ("H: inputs width", lambda: cv.reduced_hessian(_P, _X0[:, :1], _D), ValueError, "`inputs` must have 2 columns"),
    ("H: targets rows", lambda: cv.reduced_hessian(_P, _X0, _D[:1]), ValueError, "`targets` must have one row per pattern"),
    ("H: h nan", lambda: cv.reduced_hessian(_P, _X0, _D, h=np.nan), ValueError, "`h` must be a finite number > 0, got nan"),
    ("H: h str", lambda: cv.reduced_hessian(_P, _X0, _D, h="1e-5"), TypeError, "`h` must be a positive real number"),
    ("HL: B short", lambda: cv.lagrange_weight_hessian(_P, _FWD.X, _CO.B[:2], _D), ValueError, "`B` must be a list of 3 entries"),
    ("HL: B None", lambda: cv.lagrange_weight_hessian(_P, _FWD.X, [None, None, _CO.B[2]], _D), ValueError, r"`B\[k\]` must be an array"),
    ("HL: targets complex", lambda: cv.lagrange_weight_hessian(_P, _FWD.X, _CO.B, _D + 1j), TypeError, "`targets` must be real"),
    ("HL: h 0", lambda: cv.lagrange_weight_hessian(_P, _FWD.X, _CO.B, _D, h=0), ValueError, "`h` must be a finite number > 0"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD], ids=[c[0] for c in _BAD])
def test_bad_input_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
