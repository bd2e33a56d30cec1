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


# --- exact Hessians of L, the null-space basis, and the exact reduced Hessian -----------------


def _z_layout(params, X):
    n = mlp.n_params(params)
    shapes = [x.shape for x in X[1:]]
    cuts = np.cumsum([n] + [int(np.prod(s)) for s in shapes])[:-1]

    def split(z):
        parts = np.split(z, cuts)
        return mlp.unflatten(parts[0], params), [X[0]] + [q.reshape(s) for q, s in zip(parts[1:], shapes)]

    z = np.concatenate([mlp.flatten(params)] + [x.ravel() for x in X[1:]])
    return n, z, split


def _off_surface(sizes, seed, P=3):
    params, X0, D = _net(sizes, seed, P=P)
    rng = np.random.default_rng(seed + 1)
    X = [X0] + [rng.normal(size=(P, W.shape[0])) for W, _ in params]
    B = [None] + [rng.normal(size=(P, W.shape[0])) for W, _ in params]
    return params, X, B, D


@pytest.mark.parametrize("act, out", [("tanh", "identity"), ("sigmoid", "tanh"), ("tanh", "sigmoid")])
def test_lagrange_hessian_matches_central_differences_of_the_partials(act, out):
    kw = dict(activation=act, output_activation=out)
    params, X, B, D = _off_surface([2, 3, 4, 2], 3)
    n, z, split = _z_layout(params, X)

    def grad_L(zz):
        q = lg.lagrange_partials(*split(zz), B, D, **kw)
        return np.concatenate([mlp.flatten(q.dW)] + [a.ravel() for a in q.dX[1:]])

    fd = gradcheck.jacobian(grad_L, z, h=1e-5)
    H = cv.lagrange_hessian(params, X, B, D, **kw)
    assert H.shape == (z.size, z.size)
    assert gradcheck.relative_error(H, fd) < 1e-8
    np.testing.assert_array_equal(H, H.T)
    np.testing.assert_array_equal(cv.lagrange_hessian(params, X, B, D, wrt="W", **kw), H[:n, :n])
    np.testing.assert_array_equal(cv.lagrange_hessian(params, X, B, D, wrt="X", **kw), H[n:, n:])
    np.testing.assert_array_equal(cv.lagrange_weight_hessian(params, X, B, D, **kw), H[:n, :n])


def test_lagrange_weight_hessian_exact_against_its_differences_option():
    params, X, B, D = _off_surface([3, 4, 2], 7, P=5)
    exact = cv.lagrange_weight_hessian(params, X, B, D)
    fd = cv.lagrange_weight_hessian(params, X, B, D, method="differences", h=1e-5)
    assert gradcheck.relative_error(exact, fd) < 1e-8
    # block-diagonal by output unit within a layer: W_1[0, :] does not meet W_1[1, :]
    assert np.all(exact[0:3, 3:6] == 0.0) and np.any(exact[0:3, 0:3] != 0.0)


def test_null_space_basis_spans_the_linearised_constraints_and_is_dX_dW_on_the_surface():
    kw = dict(activation="sigmoid", output_activation="tanh")
    params, X, _, _ = _off_surface([2, 3, 2, 2], 4)
    n, z, split = _z_layout(params, X)
    Z = cv.null_space_basis(params, X, **kw)
    J = cv.constraint_jacobian(params, X, wrt="WX", **kw)
    assert Z.shape == (z.size, n) and J.shape == (z.size - n, z.size)
    np.testing.assert_array_equal(Z[:n], np.eye(n))
    assert np.max(np.abs(J @ Z)) < 1e-14 * max(1.0, np.max(np.abs(J)))

    def g(zz):
        p, Xs = split(zz)
        F = [None] + [activations.get(kw["activation"])] * (len(p) - 1) + [activations.get(kw["output_activation"])]
        return np.concatenate([(Xs[k] - F[k].f(Xs[k - 1] @ W.T + b)).ravel() for k, (W, b) in enumerate(p, 1)])

    assert gradcheck.relative_error(J, gradcheck.jacobian(g, z, h=1e-6)) < 1e-8
    np.testing.assert_array_equal(cv.constraint_jacobian(params, X, wrt="X", **kw), J[:, n:])
    np.testing.assert_array_equal(cv.constraint_jacobian(params, X, wrt="W", **kw), J[:, :n])
    fwd = lg.forward(params, X[0], **kw)
    Zs = cv.null_space_basis(params, fwd.X, **kw)

    def states(t):
        return np.concatenate([a.ravel() for a in lg.forward(mlp.unflatten(t, params), X[0], **kw).X[1:]])

    assert gradcheck.relative_error(Zs[n:], gradcheck.jacobian(states, mlp.flatten(params), h=1e-6)) < 1e-8


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "identity"])
def test_reduced_hessian_exact_is_the_projected_hessian_of_L_and_the_differences(act):
    """Three algorithms: exact Hessian-vector products (the default), Z^T H_L Z from closed
    forms at the costate, and central differences of the gradient."""
    kw = dict(activation=act, output_activation="tanh")
    params, X0, D = _net([2, 3, 2], 12, P=4)
    H = cv.reduced_hessian(params, X0, D, **kw)
    fwd = lg.forward(params, X0, **kw)
    B = lg.costate(params, fwd, D, **kw).B
    Z = cv.null_space_basis(params, fwd.X, **kw)
    HL = cv.lagrange_hessian(params, fwd.X, B, D, **kw)
    assert gradcheck.relative_error(H, Z.T @ HL @ Z) < 1e-13
    fd = cv.reduced_hessian(params, X0, D, method="differences", **kw)
    assert gradcheck.relative_error(H, fd) < 1e-8
    np.testing.assert_array_equal(H, H.T)


_HUGE = [(W * 1e200, b) for W, b in _P]
_CANCEL = [(np.ones((1, 2)), np.zeros(1)), (np.full((1, 1), 1e200), np.zeros(1))]
_LIN = dict(activation="identity", output_activation="identity")

_BAD_2 = [
    ("J: wrt", lambda: cv.constraint_jacobian(_P, _FWD.X, wrt="B"), ValueError,
     "`wrt` must be one of 'X', 'W', 'WX', got 'B'"),
    ("Z: X short", lambda: cv.null_space_basis(_P, _FWD.X[:1]), ValueError, "`X` must be a list of 3 arrays"),
    ("Z: X None", lambda: cv.null_space_basis(_P, [_X0, None, _FWD.X[2]]), ValueError,
     r"`X\[k\]` must be an array for every k = 0..N, got None at k = 1"),
    ("HL: wrt", lambda: cv.lagrange_hessian(_P, _FWD.X, _CO.B, _D, wrt="XW"), ValueError, "`wrt` must be one of"),
    ("HL: huge", lambda: cv.lagrange_hessian([(W * 1e-10, b) for W, b in _P], [x * 1e10 for x in _FWD.X],
                                             [None] + [b * 1e300 for b in _CO.B[1:]], _D,
                                             activation="sigmoid", output_activation="sigmoid"),
     ValueError, r"too large for float64: the Hessian of L overflows .*`B` \d\.\d+e\+\d+\)"),
    ("Z: huge", lambda: cv.null_space_basis(_CANCEL, [np.full((1, 2), 1e200), np.ones((1, 1)),
                                                     np.ones((1, 1))], **_LIN),
     ValueError, r"too large for float64: the null-space basis overflows"),
    ("H: method", lambda: cv.reduced_hessian(_P, _X0, _D, method="newton"), ValueError,
     "`method` must be one of 'exact', 'differences', got 'newton'"),
    ("H: h below rounding", lambda: cv.reduced_hessian(_P, _X0, _D, method="differences", h=1e-300),
     ValueError, r"`h` must be >= 2\.2\d*e-12 .* below it a central difference is rounding noise, got 1e-300"),
    ("H: h below rounding, scaled", lambda: cv.reduced_hessian([(W * 1e6, b) for W, b in _P], _X0, _D,
                                                               h=1e-8, method="differences"),
     ValueError, r"`h` must be >= \d\.\d+e-06"),
    ("H: huge", lambda: cv.reduced_hessian(_HUGE, _X0, _D, **_LIN), ValueError,
     r"too large for float64: the Hessian of C overflows"),
    ("H: huge, differences", lambda: cv.reduced_hessian(_HUGE, _X0, _D, method="differences", h=1e190, **_LIN),
     ValueError, r"too large for float64: the Hessian of C overflows"),
    ("HW: method", lambda: cv.lagrange_weight_hessian(_P, _FWD.X, _CO.B, _D, method=1), TypeError,
     "`method` must be one of 'exact', 'differences', got int 1"),
    ("HW: h below rounding", lambda: cv.lagrange_weight_hessian(_P, _FWD.X, _CO.B, _D, h=1e-300,
                                                                method="differences"),
     ValueError, "`h` must be >="),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD_2], ids=[c[0] for c in _BAD_2])
def test_bad_input_of_the_exact_functions_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_the_exact_method_ignores_a_tiny_step_and_the_floor_scales_with_the_parameters():
    exact = cv.reduced_hessian(_P, _X0, _D, h=1e-300)
    np.testing.assert_array_equal(exact, cv.reduced_hessian(_P, _X0, _D))
    fd = cv.reduced_hessian(_P, _X0, _D, method="differences", h=3e-12)  # just above the floor
    assert np.all(np.isfinite(fd))


def test_constraint_jacobian_of_huge_weights_stays_finite():
    """Its entries are f'(A) times one weight or state: tanh saturates (f' -> 0), so weights and
    states of 1e200 give finite entries, not NaN, and nothing to raise about."""
    J = cv.constraint_jacobian(_HUGE, [x * 1e200 for x in _FWD.X], wrt="WX")
    assert np.all(np.isfinite(J)) and np.max(np.abs(J)) > 0


def test_shared_per_pattern_kernels_keep_the_signatures_the_module_docstring_lists():
    """The kernels constrained calls: a change of their leading parameters breaks it."""
    import inspect

    expected = {"_pattern_jacobian": ["params", "F", "A"],
                "_pattern_hessian": ["params", "A", "B", "d2"]}
    for name, leading in expected.items():
        params = list(inspect.signature(getattr(cv, name)).parameters)
        assert params[:len(leading)] == leading, name
        assert f"``{name}(" in cv.__doc__, name


def test_per_pattern_kernels_are_the_blocks_of_the_public_matrices():
    """Pattern p's blocks, read from the public matrices at that pattern's states: the
    placement in the state order, by offsets written out by hand."""
    params, x, d = _net([3, 4, 5, 2], seed=4, P=3)
    kw = dict(activation="sigmoid", output_activation="tanh")
    fwd = lg.forward(params, x, **kw)
    co = lg.costate(params, fwd, d, **kw)
    F = lg._layer_activations(3, "sigmoid", "tanh")
    Jp = cv._pattern_jacobian(params, F, fwd.A)
    Hp = cv._pattern_hessian(params, fwd.A, co.B, lg._second_derivatives(F, 3))
    J = cv.constraint_jacobian(params, fwd.X, **kw)
    H = cv.lagrange_hessian(params, fwd.X, co.B, d, wrt="X", **kw)
    for p in range(3):  # X_p(k) starts at 3 (n_1 + ... + n_{k-1}) + p n_k: 0, 12, 27
        rows = np.concatenate([p * 4 + np.arange(4), 12 + p * 5 + np.arange(5),
                               27 + p * 2 + np.arange(2)])
        np.testing.assert_array_equal(Jp[p], J[np.ix_(rows, rows)])
        np.testing.assert_allclose(Hp[p], H[np.ix_(rows, rows)], rtol=0, atol=1e-15)
