"""Tests of the additions to lagprop.lagrangian: the cost seen from layer k, the constraint
Jacobian, the reduced Hessian and the weight Hessian of L at fixed states."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagprop import gradcheck, lagrangian as lg, mlp

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


@pytest.mark.parametrize("act", ACTS)
def test_constraint_jacobian_matches_central_differences_and_is_unit_lower_triangular(act):
    params, X0, D = _net([2, 3, 2, 1], 5, P=2)
    kw = dict(activation=act, output_activation=act)
    rng = np.random.default_rng(0)
    X = [X0] + [rng.normal(size=(2, W.shape[0])) for W, _ in params]  # off the surface too
    J = lg.constraint_jacobian(params, X, **kw)
    sizes = [x.size for x in X[1:]]
    offs = np.concatenate([[0], np.cumsum(sizes)])

    def g(z):
        Xs = [X0] + [z[offs[i]:offs[i + 1]].reshape(X[i + 1].shape) for i in range(len(sizes))]
        F = lg._layer_activations(len(params), act, act)
        return np.concatenate([(Xs[k] - F[k].f(Xs[k - 1] @ W.T + b)).ravel()
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
    J = lg.constraint_jacobian(params, fwd.X)
    gradC = np.concatenate([np.zeros(x.size) for x in fwd.X[1:-1]] + [(-2.0 * (D - fwd.X[-1])).ravel()])
    B = np.linalg.solve(J.T, -gradC)
    np.testing.assert_allclose(B, np.concatenate([b.ravel() for b in co.B[1:]]), rtol=1e-12, atol=1e-14)


def test_reduced_hessian_of_a_linear_layer_is_the_normal_matrix():
    rng = np.random.default_rng(3)
    X0, D = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    params = mlp.init_params([3, 1], seed=2)
    H = lg.reduced_hessian(params, X0, D, output_activation="identity")
    Xa = np.hstack([X0, np.ones((6, 1))])  # flatten order: W_1 (row-major), then b_1
    np.testing.assert_allclose(H, 2.0 * Xa.T @ Xa, rtol=1e-8, atol=1e-8)


def test_reduced_hessian_matches_second_differences_of_the_cost():
    params, X0, D = _net([2, 3, 1], 4)
    H = lg.reduced_hessian(params, X0, D)
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
    HL = lg.lagrange_weight_hessian(params, fwd.X, co.B, D, **kw)
    assert np.max(np.abs(HL)) < 1e-8
    assert np.max(np.abs(lg.reduced_hessian(params, X0, D, **kw))) > 1.0


def test_weight_hessian_of_L_matches_second_differences_of_L():
    params, X0, D = _net([2, 3, 2], 8)
    fwd = lg.forward(params, X0)
    co = lg.costate(params, fwd, D)
    HL = lg.lagrange_weight_hessian(params, fwd.X, co.B, D)
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
        lg.reduced_hessian(params, X0, D, h=0.0)
    fwd = lg.forward(params, X0)
    co = lg.costate(params, fwd, D)
    with pytest.raises(ValueError, match="`h`"):
        lg.lagrange_weight_hessian(params, fwd.X, co.B, D, h=-1.0)


def test_constraint_jacobian_bad_input():
    params, X0, D = _net([2, 3, 1], 0)
    with pytest.raises(ValueError, match="`X` must be a list of 3 arrays"):
        lg.constraint_jacobian(params, [X0])
    with pytest.raises(ValueError, match="`X\\[k\\]` must be an array"):
        lg.constraint_jacobian(params, [X0, None, np.zeros((3, 1))])
