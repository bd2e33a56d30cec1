"""Tests of lagprop.lagrangian.hessian_vector: exact Hessian-vector products by the second-order adjoint."""

import numpy as np
import pytest

from lagprop import curvature, gradcheck, lagrangian, mlp
from lagprop.activations import NAMES


def _problem(sizes, seed, P=4, **kw):
    for s in range(seed, seed + 200):
        rng = np.random.default_rng(s)
        params = mlp.init_params(sizes, seed=rng, scale=1.2, bias=0.2)
        x, d = rng.standard_normal((P, sizes[0])), rng.standard_normal((P, sizes[-1]))
        fwd = lagrangian.forward(params, x, **kw)
        if min(np.min(np.abs(a)) for a in fwd.A[1:]) > 1e-3:  # no weighted sum at a relu kink
            return params, x, d
    raise AssertionError("no kink-free problem found")  # pragma: no cover


def _direction(params, seed):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(W.shape), rng.standard_normal(b.shape)) for W, b in params]


def _grad(params, x, d, kw):
    def g(theta):
        return mlp.flatten(lagrangian.backprop(mlp.unflatten(theta, params), x, d, **kw)[1])
    return g


@pytest.mark.parametrize("activation", NAMES)
@pytest.mark.parametrize("output_activation", ["identity", "tanh", "sigmoid"])
@pytest.mark.parametrize("sizes", [[2, 3], [3, 4, 2], [2, 3, 4, 3, 2]])
def test_matches_central_differences_of_the_gradient(activation, output_activation, sizes):
    kw = dict(activation=activation, output_activation=output_activation)
    params, x, d = _problem(sizes, 3 * len(sizes), **kw)
    v = _direction(params, 1)
    hv = lagrangian.hessian_vector(params, x, d, v, **kw)
    assert [(a.shape, b.shape) for a, b in hv] == [(W.shape, b.shape) for W, b in params]
    g, th, vv, h = _grad(params, x, d, kw), mlp.flatten(params), mlp.flatten(v), 1e-5
    fd = (g(th + h * vv) - g(th - h * vv)) / (2 * h)
    assert gradcheck.relative_error(mlp.flatten(hv), fd) < 1e-7


def _full(params, x, d, kw):
    n = mlp.n_params(params)
    cols = [mlp.flatten(lagrangian.hessian_vector(params, x, d, mlp.unflatten(e, params), **kw))
            for e in np.eye(n)]
    return np.array(cols).T


def test_full_hessian_is_symmetric_and_equals_the_reduced_hessian():
    kw = dict(activation="tanh", output_activation="sigmoid")
    params, x, d = _problem([2, 3, 2], 0, **kw)
    H = _full(params, x, d, kw)
    assert np.max(np.abs(H - H.T)) < 1e-13 * np.max(np.abs(H))
    ref = curvature.reduced_hessian(params, x, d, method="differences", **kw)  # O(h^2)
    assert gradcheck.relative_error(H, ref) < 1e-8


def test_equals_z_transpose_hessian_of_lagrangian_z():
    """Z^T (Hessian of L in (W, X) at the costate B) Z, Z = [I; dX/dW], all by differences."""
    kw = dict(activation="tanh", output_activation="identity")
    params, x, d = _problem([2, 3, 2], 5, P=3, **kw)
    fwd = lagrangian.forward(params, x, **kw)
    B = lagrangian.costate(params, fwd, d, **kw).B
    n, shapes = mlp.n_params(params), [a.shape for a in fwd.X[1:]]
    cuts = np.cumsum([n] + [int(np.prod(s)) for s in shapes])[:-1]

    def split(z):
        parts = np.split(z, cuts)
        return mlp.unflatten(parts[0], params), [x] + [p.reshape(s) for p, s in zip(parts[1:], shapes)]

    def grad_L(z):
        p, X = split(z)
        part = lagrangian.lagrange_partials(p, X, B, d, **kw)
        return np.concatenate([mlp.flatten(part.dW)] + [a.ravel() for a in part.dX[1:]])

    def states(theta):
        return np.concatenate([a.ravel() for a in
                               lagrangian.forward(mlp.unflatten(theta, params), x, **kw).X[1:]])

    z = np.concatenate([mlp.flatten(params)] + [a.ravel() for a in fwd.X[1:]])
    HL = gradcheck.jacobian(grad_L, z, h=1e-5)
    Z = np.vstack([np.eye(n), gradcheck.jacobian(states, mlp.flatten(params), h=1e-6)])
    H = _full(params, x, d, kw)
    assert gradcheck.relative_error(H, Z.T @ (0.5 * (HL + HL.T)) @ Z) < 1e-7


def test_gauss_newton_part_is_the_hessian_at_zero_residual():
    """At targets equal to the outputs the residual term vanishes: H = 2 J^T J."""
    kw = dict(activation="tanh", output_activation="tanh")
    params, x, _ = _problem([2, 3, 2], 9, **kw)
    out = lagrangian.forward(params, x, **kw).X[-1]
    J = gradcheck.jacobian(
        lambda th: lagrangian.forward(mlp.unflatten(th, params), x, **kw).X[-1].ravel(),
        mlp.flatten(params), h=1e-6)
    v = _direction(params, 2)
    hv = mlp.flatten(lagrangian.hessian_vector(params, x, out, v, **kw))
    assert gradcheck.relative_error(hv, 2.0 * J.T @ (J @ mlp.flatten(v))) < 1e-8


def test_one_linear_layer_closed_form():
    """C = sum_p ||d_p - W x_p - b||^2: the Hessian is 2 [x 1]^T [x 1] per output row."""
    rng = np.random.default_rng(0)
    W, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    x, d = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    V, c = rng.standard_normal((2, 3)), rng.standard_normal(2)
    kw = dict(output_activation="identity")
    (hW, hb), = lagrangian.hessian_vector([(W, b)], x, d, [(V, c)], **kw)
    dA = x @ V.T + c                                  # the change of the output
    np.testing.assert_allclose(hW, 2 * dA.T @ x, rtol=1e-13)
    np.testing.assert_allclose(hb, 2 * dA.sum(axis=0), rtol=1e-13)


def test_linear_in_the_direction_and_symmetric():
    kw = dict(activation="sigmoid", output_activation="identity")
    params, x, d = _problem([3, 4, 2], 4, **kw)
    u, w = _direction(params, 5), _direction(params, 6)
    Hu = mlp.flatten(lagrangian.hessian_vector(params, x, d, u, **kw))
    Hw = mlp.flatten(lagrangian.hessian_vector(params, x, d, w, **kw))
    comb = [(2 * a - 3 * c, 2 * b - 3 * e) for (a, b), (c, e) in zip(u, w)]
    Hc = mlp.flatten(lagrangian.hessian_vector(params, x, d, comb, **kw))
    assert gradcheck.relative_error(Hc, 2 * Hu - 3 * Hw) < 1e-13
    assert abs(mlp.flatten(u) @ Hw - mlp.flatten(w) @ Hu) < 1e-12 * abs(mlp.flatten(u) @ Hw)


def test_single_pattern_as_1d():
    params, x, d = _problem([3, 2, 1], 1, P=1)
    v = _direction(params, 0)
    a = lagrangian.hessian_vector(params, x[0], d[0], v)
    b = lagrangian.hessian_vector(params, x, d, v)
    assert gradcheck.relative_error(a, b) == 0.0


def test_validation():
    params, x, d = _problem([3, 2, 1], 1)
    v = _direction(params, 0)
    with pytest.raises(ValueError, match="`v` must have the structure of `params`"):
        lagrangian.hessian_vector(params, x, d, v[:1])
    with pytest.raises(ValueError, match="`v\\[0\\]\\[0\\]` \\(W_1\\) looks transposed"):
        lagrangian.hessian_vector(params, x, d, [(v[0][0].T, v[0][1])] + v[1:])
    wide = [(np.zeros((2, 4)), np.zeros(2)), (np.zeros((1, 2)), np.zeros(1))]
    with pytest.raises(ValueError, match="`v` must have the structure of `params`"):
        lagrangian.hessian_vector(params, x, d, wide)
    with pytest.raises(ValueError, match="v\\[0\\]\\[0\\].*finite"):
        lagrangian.hessian_vector(params, x, d, [(np.full_like(v[0][0], np.nan), v[0][1])] + v[1:])
    with pytest.raises(ValueError, match="`inputs` must have 3 columns"):
        lagrangian.hessian_vector(params, x[:, :2], d, v)
    with pytest.raises(ValueError, match="`targets` must have one row per pattern"):
        lagrangian.hessian_vector(params, x, d[:2], v)
    with pytest.raises(ValueError, match="`activation` must be one of"):
        lagrangian.hessian_vector(params, x, d, v, activation="softplus")
    with pytest.raises(TypeError, match="`output_activation` must be a string naming an activation"):
        lagrangian.hessian_vector(params, x, d, v, output_activation=np.tanh)


def test_the_first_layer_skips_nothing_it_needs():
    """One layer only, and a first layer wider than the rest: the products with dX(0) = 0 that
    the kernel skips change nothing (differences of the gradient, all parameters)."""
    for sizes in ([5, 2], [9, 3, 2]):
        kw = dict(activation="tanh", output_activation="tanh")
        params, x, d = _problem(sizes, 2, P=6, **kw)
        v = _direction(params, 7)
        hv = mlp.flatten(lagrangian.hessian_vector(params, x, d, v, **kw))
        g, th, vv = _grad(params, x, d, kw), mlp.flatten(params), mlp.flatten(v)
        fd = (g(th + 1e-5 * vv) - g(th - 1e-5 * vv)) / 2e-5
        assert gradcheck.relative_error(hv, fd) < 1e-7


def test_does_not_change_its_arguments():
    params, x, d = _problem([3, 4, 2], 1)
    v = _direction(params, 3)
    copies = [[a.copy() for pair in z for a in pair] for z in (params, v)] + [x.copy(), d.copy()]
    lagrangian.hessian_vector(params, x, d, v)
    lagrangian.hessian_vector(params, x, d, v)
    now = [[a for pair in z for a in pair] for z in (params, v)] + [x, d]
    for before, after in zip(copies[:2], now[:2]):
        for a, b in zip(before, after):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(copies[2], x)
    np.testing.assert_array_equal(copies[3], d)


_P, _X, _D = _problem([3, 2, 1], 1)
_V = _direction(_P, 0)
_HUGE = [(W * 1e200, b) for W, b in _P]
_LIN = dict(activation="identity")  # no saturation: the products overflow

# (id, call, exception, message): bad input and input whose products overflow float64
_BAD = [
    ("v None", lambda: lagrangian.hessian_vector(_P, _X, _D, None), TypeError, "`v` must be a list"),
    ("v complex", lambda: lagrangian.hessian_vector(_P, _X, _D, [(_V[0][0] + 1j, _V[0][1])] + _V[1:]),
     TypeError, r"`v\[0\]\[0\].*must be real"),
    ("params huge", lambda: lagrangian.hessian_vector(_HUGE, _X, _D, _V, **_LIN), ValueError,
     r"`params`, `inputs`, `targets` or `v` too large for float64: the Hessian-vector product "
     r"overflows \(largest magnitudes: `params` \d\.\d+e\+\d+, `inputs` \d"),
    ("v huge", lambda: lagrangian.hessian_vector(_P, _X, _D, [(np.full_like(W, 1e308), b) for W, b in _V], **_LIN),
     ValueError, r"overflows .*`v` 1e\+308"),
    ("inputs huge", lambda: lagrangian.hessian_vector(_P, _X * 1e300, _D * 1e300, _V, **_LIN),
     ValueError, r"overflows .*`inputs` \d\.\d+e\+\d+"),
    ("targets inf", lambda: lagrangian.hessian_vector(_P, _X, _D * np.inf, _V), ValueError,
     "`targets` must be finite"),
    ("activation int", lambda: lagrangian.hessian_vector(_P, _X, _D, _V, activation=1), TypeError,
     "`activation` must be a string naming an activation, got int"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD], ids=[c[0] for c in _BAD])
def test_bad_input_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
