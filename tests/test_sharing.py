"""Tests of lagprop.sharing: transformed parameter spaces, tied weights, unfolding in time."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagprop import gradcheck, lagrangian, mlp, sharing


def _tied_net(n_in, K, n_filters, n_out, start=0):
    """A convolution layer (tied) followed by a dense layer (untied)."""
    conv = sharing.conv1d_ties(n_in, K, n_filters=n_filters, start=start)
    n_u1 = sharing.n_shared([conv])
    dense = sharing.dense_ties(n_out, conv[0].shape[0], start=n_u1)
    return [conv, dense]


def _cost_of_u(ties, inputs, targets, fixed=None, **kw):
    def C(u):
        out = lagrangian.forward(sharing.expand(u, ties, fixed=fixed), inputs, **kw).X[-1]
        return lagrangian.cost(out, targets)
    return C


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_in=st.integers(3, 9), K=st.integers(1, 3),
       n_filters=st.integers(1, 2), P=st.integers(1, 4))
def test_tied_gradient_matches_central_differences(seed, n_in, K, n_filters, P):
    rng = np.random.default_rng(seed)
    ties = _tied_net(n_in, K, n_filters, 2)
    u = rng.normal(size=sharing.n_shared(ties))
    X, D = rng.normal(size=(P, n_in)), rng.normal(size=(P, 2))
    C, g = sharing.tied_backprop(u, ties, X, D)
    f = _cost_of_u(ties, X, D)
    assert C == pytest.approx(f(u), rel=1e-14)
    assert gradcheck.relative_error(g, gradcheck.central_difference(f, u)) < 1e-7


def test_tied_gradient_with_fixed_weights(rng):
    # a random tie map with repeated ids and fixed entries carrying nonzero values
    sizes = [4, 3, 2]
    params = mlp.init_params(sizes, seed=3)
    ties = [(rng.integers(-1, 5, size=W.shape), rng.integers(-1, 5, size=b.shape)) for W, b in params]
    ties[0][0][0, 0] = 4  # make sure id 4 (the largest) is used
    fixed = mlp.init_params(sizes, seed=4)
    u = rng.normal(size=5)
    X, D = rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    C, g = sharing.tied_backprop(u, ties, X, D, fixed=fixed, activation="sigmoid")
    f = _cost_of_u(ties, X, D, fixed=fixed, activation="sigmoid")
    assert gradcheck.relative_error(g, gradcheck.central_difference(f, u)) < 1e-7


def test_checker_rejects_a_wrong_tied_gradient(rng):
    ties = _tied_net(6, 3, 1, 1)
    u = rng.normal(size=sharing.n_shared(ties))
    X, D = rng.normal(size=(2, 6)), rng.normal(size=(2, 1))
    _, g = sharing.tied_backprop(u, ties, X, D)
    # forgetting the sum over ties (keeping only the first weight of each id) is detected
    grads = lagrangian.backprop(sharing.expand(u, ties), X, D)[1]
    wrong = g.copy()
    wrong[0] = grads[0][0][0, 0]
    assert gradcheck.relative_error(wrong, gradcheck.central_difference(_cost_of_u(ties, X, D), u)) > 1e-3


@pytest.mark.parametrize("n_in,K", [(7, 3), (10, 1), (5, 5), (12, 4)])
def test_conv_as_dense_equals_numpy_correlate(rng, n_in, K):
    tW, tb = sharing.conv1d_ties(n_in, K, bias=False)
    v = rng.normal(size=K)
    W = sharing.expand(v, [(tW, tb)])[0][0]
    x = rng.normal(size=n_in)
    np.testing.assert_allclose(W @ x, np.correlate(x, v, mode="valid"), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(W @ x, np.convolve(x, v[::-1], mode="valid"), rtol=1e-13, atol=1e-14)


def test_conv_filters_and_biases(rng):
    n_in, K, F = 9, 3, 2
    tW, tb = sharing.conv1d_ties(n_in, K, n_filters=F, start=5)
    assert tW.shape == (F * (n_in - K + 1), n_in) and tW.min() == -1
    u = rng.normal(size=5 + F * K + F)
    (W, b), = sharing.expand(u, [(tW, tb)])
    x = rng.normal(size=n_in)
    for f in range(F):
        v, c = u[5 + f * K: 5 + (f + 1) * K], u[5 + F * K + f]
        rows = slice(f * (n_in - K + 1), (f + 1) * (n_in - K + 1))
        np.testing.assert_allclose((W @ x + b)[rows], np.correlate(x, v, "valid") + c, rtol=1e-13)


@pytest.mark.parametrize("steps,act", [(1, "tanh"), (4, "tanh"), (3, "sigmoid")])
def test_unfolded_rnn_forward_and_bptt_gradient(rng, steps, act):
    m, h, o, P = 2, 3, 2, 3
    r = sharing.unfold_rnn(m, h, o, steps, activation=act)
    W_in, W_rec, b = rng.normal(size=(h, m)), 0.6 * rng.normal(size=(h, h)), rng.normal(size=h)
    W_out, c = rng.normal(size=(o, h)), rng.normal(size=o)
    u = r.pack(W_in, W_rec, b, W_out, c)
    xs, D = rng.normal(size=(P, steps, m)), rng.normal(size=(P, o))
    y, _ = sharing.rnn_forward(W_in, W_rec, b, W_out, c, xs, activation=act)
    X = lagrangian.forward(r.params(u), r.inputs(xs), activation=r.activation).X
    np.testing.assert_allclose(X[-1], y, rtol=1e-13, atol=1e-14)
    assert len(X) == steps + 2

    def C(u):
        d = r.unpack(u)
        return lagrangian.cost(sharing.rnn_forward(*d.values(), xs, activation=act)[0], D)

    Cb, g = r.backprop(u, xs, D)
    assert Cb == pytest.approx(C(u), rel=1e-13)
    assert gradcheck.relative_error(g, gradcheck.central_difference(C, u)) < 1e-7
    d = r.unpack(u)
    for name, val in zip(["W_in", "W_rec", "b", "W_out", "c"], [W_in, W_rec, b, W_out, c]):
        np.testing.assert_array_equal(d[name], val)


def test_pullback_with_explicit_jacobian_equals_tied_version(rng):
    ties = _tied_net(7, 3, 2, 2)
    params = sharing.expand(rng.normal(size=sharing.n_shared(ties)), ties)
    grads = [(rng.normal(size=W.shape), rng.normal(size=b.shape)) for W, b in params]
    J = sharing.tie_jacobian(ties)
    np.testing.assert_allclose(sharing.pullback(grads, J), sharing.tied_gradient(grads, ties), rtol=1e-14)
    np.testing.assert_allclose(sharing.pullback(mlp.flatten(grads), J), sharing.tied_gradient(grads, ties),
                               rtol=1e-14)


def test_pullback_through_linear_transform(rng):
    params_U = mlp.init_params([3, 4, 2], seed=1)
    M = [rng.normal(size=(3, 3)), None]
    X, D = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    _, gW = lagrangian.backprop(sharing.linear_transform(params_U, M), X, D)
    gU = sharing.linear_transform_gradient(gW, M)

    def C(params):
        return lagrangian.cost(lagrangian.forward(sharing.linear_transform(params, M), X).X[-1], D)

    assert gradcheck.relative_error(gU, gradcheck.params_central_difference(C, params_U)) < 1e-7
    # the explicit Jacobian of flatten(W) with respect to flatten(U) gives the same numbers
    J = np.zeros((mlp.n_params(params_U), mlp.n_params(params_U)))
    e = np.eye(J.shape[1])
    for q in range(J.shape[1]):
        J[:, q] = mlp.flatten(sharing.linear_transform(mlp.unflatten(e[q], params_U), M))
    np.testing.assert_allclose(sharing.pullback(gW, J), mlp.flatten(gU), rtol=1e-12, atol=1e-14)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_in=st.integers(3, 8), K=st.integers(1, 3))
def test_expand_and_tied_gradient_are_transposes(seed, n_in, K):
    ties = _tied_net(n_in, K, 2, 3)
    like = sharing.expand(np.zeros(sharing.n_shared(ties)), ties)
    n_u, n_w = sharing.n_shared(ties), mlp.n_params(like)
    err = gradcheck.dot_product_test(
        lambda u: mlp.flatten(sharing.expand(u, ties)),
        lambda v: sharing.tied_gradient(mlp.unflatten(v, like), ties),
        (n_u,), (n_w,), seed=seed)
    assert err < 1e-12


def test_dot_product_test_detects_a_wrong_transpose():
    ties = _tied_net(6, 2, 1, 2)
    like = sharing.expand(np.zeros(sharing.n_shared(ties)), ties)
    err = gradcheck.dot_product_test(
        lambda u: mlp.flatten(sharing.expand(u, ties)),
        lambda v: 0.5 * sharing.tied_gradient(mlp.unflatten(v, like), ties),
        (sharing.n_shared(ties),), (mlp.n_params(like),))
    assert err > 0.1


def test_reparametrisation_speeds_up_badly_scaled_least_squares():
    rng = np.random.default_rng(0)
    s = np.array([1.0, 3.0, 10.0])
    X = rng.normal(size=(50, 3)) * s
    D = X @ np.array([[1.0, -0.5, 0.2]]).T / s[None, :].mean() + 0.1 * rng.normal(size=(50, 1))
    W0 = [(np.zeros((1, 3)), np.zeros(1))]
    A = np.hstack([X, np.ones((50, 1))])
    C_star = float(np.sum((D - A @ np.linalg.lstsq(A, D, rcond=None)[0]) ** 2))
    runs = {}
    for label, M in {"plain": [None], "rescaled": [np.diag(1 / s)]}.items():
        Ms = np.eye(4)
        if M[0] is not None:
            Ms[:3, :3] = M[0]
        lr = 1.0 / (2 * np.linalg.eigvalsh((A @ Ms).T @ (A @ Ms)).max())
        _, losses = sharing.reparam_descent(W0, M, X, D, lr=lr, steps=400, output_activation="identity",
                                            activation="identity")
        assert np.all(np.diff(losses) <= 1e-12)
        runs[label] = sharing.iterations_to(losses - C_star, 1e-6 * (losses[0] - C_star))
    assert 0 < runs["rescaled"] < 100
    assert runs["plain"] == -1 or runs["plain"] > 3 * runs["rescaled"]


def test_iterations_to():
    assert sharing.iterations_to([3.0, 2.0, 1.0], 2.0) == 1
    assert sharing.iterations_to([3.0, 2.0], 0.5) == -1


def test_bad_input_raises():
    ties = [sharing.conv1d_ties(5, 2)]
    with pytest.raises(ValueError, match="`kernel_size`"):
        sharing.conv1d_ties(3, 4)
    with pytest.raises(ValueError, match="`n_filters`"):
        sharing.conv1d_ties(5, 2, n_filters=0)
    with pytest.raises(ValueError, match="`u` must have at least 3"):
        sharing.expand(np.zeros(2), ties)
    with pytest.raises(ValueError, match="`ties\\[0\\]` ids must be >= -1"):
        sharing.expand(np.zeros(3), [(np.full((2, 2), -2), np.zeros(2, int))])
    with pytest.raises(ValueError, match=r"^`ties\[0\]` must hold integer ids, got a fractional value$"):
        sharing.n_shared([(np.full((2, 2), 0.5), np.zeros(2, int))])
    with pytest.raises(ValueError, match="`ties` must be a non-empty list"):
        sharing.n_shared([])
    with pytest.raises(ValueError, match="`n_u` must be >= 3"):
        sharing.tied_gradient([(np.zeros((4, 5)), np.zeros(4))], ties, 2)
    with pytest.raises(ValueError, match="`grads` must have the shapes"):
        sharing.tied_gradient([(np.zeros((3, 5)), np.zeros(3))], ties)
    with pytest.raises(ValueError, match="`jacobian` must have 24 rows"):
        sharing.pullback([(np.zeros((4, 5)), np.zeros(4))], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="`fixed` must have the structure"):
        sharing.expand(np.zeros(3), ties, fixed=[(np.zeros((2, 5)), np.zeros(2))])
    with pytest.raises(ValueError, match="`steps`"):
        sharing.unfold_rnn(1, 2, 1, 0)
    with pytest.raises(ValueError, match="`activation`"):
        sharing.unfold_rnn(1, 2, 1, 3, activation="softplus")
    r = sharing.unfold_rnn(2, 2, 1, 3)
    with pytest.raises(ValueError, match="`xs` must have shape"):
        r.inputs(np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match="`W_rec` must have shape"):
        r.pack(np.zeros((2, 2)), np.zeros((3, 3)), np.zeros(2), np.zeros((1, 2)), np.zeros(1))
    with pytest.raises(ValueError, match="`M\\[0\\]` must have shape"):
        sharing.linear_transform(mlp.init_params([3, 2]), [np.eye(2)])
    with pytest.raises(ValueError, match="`M` must be a list of 1"):
        sharing.linear_transform(mlp.init_params([3, 2]), [None, None])
    with pytest.raises(ValueError, match="`lr`"):
        sharing.reparam_descent(mlp.init_params([3, 2]), [None], np.zeros((1, 3)), np.zeros((1, 2)),
                                lr=-1.0, steps=1)


def _sharing_bad_table():
    ties = [sharing.conv1d_ties(5, 2)]
    X, D = np.zeros((2, 5)), np.zeros((2, 4))
    huge = [(np.array([[10**12]]), np.array([-1]))]
    return [
        ("jacobian: huge id", lambda: sharing.tie_jacobian(huge), ValueError, "the dense tie Jacobian would have"),
        ("jacobian: n_u small", lambda: sharing.tie_jacobian(ties, 1), ValueError, "`n_u` must be >= 3"),
        ("jacobian: n_u float", lambda: sharing.tie_jacobian(ties, 3.0), TypeError, "`n_u` must be an integer"),
        ("backprop: u nan", lambda: sharing.tied_backprop(np.full(3, np.nan), ties, X, D), ValueError, "`u` must be finite"),
        ("backprop: u complex", lambda: sharing.tied_backprop(np.zeros(3) + 0j, ties, X, D), TypeError, "`u` must be real"),
        ("backprop: inputs", lambda: sharing.tied_backprop(np.zeros(3), ties, X[:, :2], D), ValueError, "`inputs` must have 5 columns"),
        ("backprop: targets", lambda: sharing.tied_backprop(np.zeros(3), ties, X, D[:1]), ValueError, "`targets` must have one row per pattern"),
        ("backprop: ties", lambda: sharing.tied_backprop(np.zeros(3), None, X, D), ValueError, "`ties` must be a non-empty list"),
        ("backprop: activation", lambda: sharing.tied_backprop(np.zeros(3), ties, X, D, activation=1), TypeError, "`activation` must be a string"),
        ("expand: u 2-D", lambda: sharing.expand(np.zeros((3, 1)), ties), ValueError, "`u` must be 1-D"),
        ("gradient: grads None", lambda: sharing.tied_gradient(None, ties), ValueError, "`grads` must be a non-empty list"),
    ]


_SH_BAD = _sharing_bad_table()


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _SH_BAD], ids=[c[0] for c in _SH_BAD])
def test_bad_input_table(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_tied_backprop_validates_its_ties_once(monkeypatch, rng):
    calls = []
    real = sharing.check_ties
    monkeypatch.setattr(sharing, "check_ties", lambda t, name="ties": calls.append(1) or real(t, name))
    ties = [sharing.conv1d_ties(5, 2), sharing.dense_ties(1, 4, start=3)]
    u = rng.standard_normal(sharing.n_shared(ties))
    calls.clear()
    C, g = sharing.tied_backprop(u, ties, rng.standard_normal((3, 5)), rng.standard_normal((3, 1)))
    assert len(calls) == 1 and np.isfinite(C) and g.shape == u.shape


def test_iterations_to_checks_its_target():
    assert sharing.iterations_to([3.0, 2.0, 1.0], 2.0) == 1 and sharing.iterations_to([3.0], 1.0) == -1
    with pytest.raises(ValueError, match="`target` must be a finite number"):
        sharing.iterations_to([1.0], np.nan)
    with pytest.raises(TypeError, match="`target` must be a real number"):
        sharing.iterations_to([1.0], 1j)


def test_messages_name_every_argument_and_edge_cases_hold():
    ties = [sharing.conv1d_ties(5, 2)]
    assert sharing.dense_ties(2, 3)[0].dtype == np.int64
    assert sharing.iterations_to([np.inf, 2.0, np.nan, 0.5], 1.0) == 3  # non-finite losses are fine
    free = [(np.full((2, 3), -1), np.full(2, -1))]
    assert sharing.tie_jacobian(free, 0).shape == (8, 0)  # nothing shared: n_u = 0 is allowed
    r = sharing.unfold_rnn(2, 2, 1, 3)
    cases = [
        (lambda: sharing.expand(np.zeros(3), ties, fixed=[(np.zeros((4, 5)), np.zeros(3))]), r"^`fixed\[0\]\[1\]` \(b_1\) must have shape"),
        (lambda: sharing.check_ties([(np.zeros((2, 3), int), np.zeros(2, int)), (np.zeros((1, 3), int), np.zeros(1, int))]),
         r"^`ties\[1\]` tie_W must have 2 columns to follow the previous layer, got shape \(1, 3\)$"),
        (lambda: sharing.dense_ties(2, 0), r"^`n_in` must be >= 1"),
        (lambda: sharing.iterations_to(np.ones((2, 2)), 1.0), r"^`losses` must be 1-D"),
        (lambda: sharing.pullback([(np.zeros(3), np.zeros(3))], np.zeros((6, 1))), r"^`grads\[0\]\[0\] \(W_1\)` must be 2-D"),
        (lambda: sharing.rnn_forward(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 1)), np.zeros((1, 2)), np.zeros(1), np.zeros((3, 2))), r"^`b` must be 1-D"),
        (lambda: sharing.rnn_forward(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(2), np.zeros((1, 2)), np.zeros(1), np.full((3, 2), np.nan)), r"^`xs` must be finite"),
        (lambda: sharing.rnn_forward(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(2), np.zeros((1, 2)), np.zeros(1), np.zeros((3, 2)), activation="soft"), r"^`activation` must be one of"),
        (lambda: sharing.unfold_rnn(1, 0, 1, 3), r"^`n_hidden` must be >= 1"),
        (lambda: r.unpack(np.zeros(3)), rf"^`u` must have {r.n_u} entries, got 3$"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()


def test_conv_defaults_bounds_and_id_types(rng):
    x = rng.standard_normal((2, 1, 6))
    k = rng.standard_normal((1, 1, 3))
    b = np.array([0.5])
    by_hand = np.array([[[np.dot(x[p, 0, i:i + 3], k[0, 0]) + 0.5 for i in range(4)]] for p in range(2)])
    np.testing.assert_allclose(sharing.conv1d(x, k, b), by_hand, rtol=1e-13)  # stride 1, no padding
    assert sharing.conv1d_output_length(6, 3) == 4
    assert sharing.conv1d_output_length(3, 5, padding=1) == 1
    with pytest.raises(ValueError):
        sharing.conv1d_output_length(3, 6, padding=1)  # K > n + 2 p
    tW, tb = sharing.dense_ties(2, 3)
    assert np.all(tb >= 0) and tW.dtype == np.int64  # biases are parameters by default
    assert sharing.conv1d_ties(5, 2)[0].dtype == np.int64
    names = [
        (lambda: sharing.conv1d_output_length(0, 1), "`n_in`"),
        (lambda: sharing.conv1d_output_length(3, 0), "`kernel_size`"),
        (lambda: sharing.conv1d_ties(0, 1), "`n_in`"),
        (lambda: sharing.dense_ties(2, 3, start=-1), "`start`"),
        (lambda: sharing.strided_conv1d_ties(5, 2, n_filters=0), "`n_filters`"),
        (lambda: sharing.strided_conv1d_ties(5, 2, start=-1), "`start`"),
        (lambda: sharing.conv1d(x, k[0], b), "`kernels` must be 3-D"),
        (lambda: sharing.conv1d_costate(x, k, np.zeros((2, 4))), "`Y` must be 3-D"),
        (lambda: sharing.linear_transform(None, [None]), "`params_U`"),
        (lambda: sharing.pullback(np.zeros((2, 2)), np.zeros((4, 1))), "`grads` must be 1-D"),
        (lambda: sharing.rnn_forward(np.zeros((2, 2)), np.zeros(2), np.zeros(2), np.zeros((1, 2)), np.zeros(1), np.zeros((3, 2))), "`W_rec` must be 2-D"),
        (lambda: sharing.rnn_forward(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(2), np.zeros(2), np.zeros(1), np.zeros((3, 2))), "`W_out` must be 2-D"),
        (lambda: sharing.rnn_forward(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(2), np.zeros((1, 2)), np.zeros((1, 1)), np.zeros((3, 2))), "`c` must be 1-D"),
        (lambda: sharing.unfold_rnn(2, 2, 1, 3).pack(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(3), np.zeros((1, 2)), np.zeros(1)), "`b`"),
        (lambda: sharing.unfold_rnn(2, 2, 1, 3).pack(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(2), np.zeros((2, 2)), np.zeros(1)), "`W_out`"),
    ]
    for call, match in names:
        with pytest.raises(ValueError, match=match):
            call()


# ------------------------------------------------------- from the survivors of a mutation sample
def test_dense_ties_number_the_biases_after_the_weights_as_int64():
    tW, tb = sharing.dense_ties(2, 3, start=4, bias=True)
    np.testing.assert_array_equal(tW, [[4, 5, 6], [7, 8, 9]])
    np.testing.assert_array_equal(tb, [10, 11])
    assert tW.dtype == np.int64 and tb.dtype == np.int64


def test_unfolded_rnn_output_ties_are_int64():
    rnn = sharing.unfold_rnn(2, 3, 1, 2)
    for tW, tb in rnn.ties:
        assert tW.dtype == np.int64 and tb.dtype == np.int64


def test_a_kernel_longer_than_the_input_is_allowed_when_the_padding_covers_it():
    x = np.array([[[1.0, 2.0, 3.0]]])
    out = sharing.conv1d(x, np.ones((1, 1, 5)), np.array([0.5]), padding=1)
    np.testing.assert_allclose(out, [[[0.0 + 1.0 + 2.0 + 3.0 + 0.0 + 0.5]]])


_BAD_SH = [
    ("conv x 2-D", lambda: sharing.conv1d(np.zeros((4, 5)), np.zeros((1, 1, 2)), np.zeros(1)), r"^`x` must be 3-D"),
    ("conv bias 2-D", lambda: sharing.conv1d(np.zeros((1, 1, 3)), np.ones((1, 1, 2)), np.zeros((1, 1))), r"^`bias` must be 1-D"),
    ("kernel bound", lambda: sharing.conv1d_output_length(3, 8, padding=2), r"n_in \+ 2 \* padding = 7, got 8$"),
    ("ties second layer", lambda: sharing.check_ties([(np.array([[0]]), np.array([1])), "x"]), r"^`ties\[1\]` must be a pair"),
    ("dense n_out", lambda: sharing.dense_ties(0, 3), r"^`n_out` must be >= 1"),
    ("grads_W", lambda: sharing.linear_transform_gradient([np.nan], np.eye(1)), r"^`grads_W\[0\]` must be a pair"),
    ("params_U", lambda: sharing.reparam_descent([np.nan], np.eye(1), np.zeros((1, 1)), np.zeros((1, 1)), lr=0.1, steps=1), r"^`params_U\[0\]` must be a pair"),
    ("pullback jacobian 1-D", lambda: sharing.pullback([(np.ones((1, 1)), np.ones(1))], np.ones(2)), r"^`jacobian` must be 2-D"),
    ("pack c", lambda: sharing.unfold_rnn(2, 3, 1, 2).pack(np.zeros((3, 2)), np.zeros((3, 3)), np.zeros(3), np.zeros((1, 3)), np.zeros(2)), r"^`c` must have shape \(1,\), got \(2,\)$"),
]


@pytest.mark.parametrize("call, match", [c[1:] for c in _BAD_SH], ids=[c[0] for c in _BAD_SH])
def test_more_messages_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_dense_ties_without_bias_mark_every_bias_fixed():
    _, tb = sharing.dense_ties(2, 2, bias=False)
    np.testing.assert_array_equal(tb, [-1, -1])


def test_tied_gradient_has_n_u_entries_even_past_the_last_tie():
    g = sharing.tied_gradient([(np.full((1, 1), 2.5), np.ones(1))], [(np.array([[0]]), np.array([-1]))], n_u=3)
    np.testing.assert_array_equal(g, [2.5, 0.0, 0.0])


def test_conv_helpers_defaults_are_one_filter_and_no_padding():
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal((1, 1, 6)), rng.standard_normal((1, 1, 3))
    Y = rng.standard_normal((1, 1, 4))  # n_in - K + 1 outputs: no padding
    for a, b in zip(sharing.conv1d_costate(x, v, Y), sharing.conv1d_costate(x, v, Y, padding=0)):
        np.testing.assert_array_equal(a, b)
    default, one = sharing.strided_conv1d_ties(5, 2), sharing.strided_conv1d_ties(5, 2, n_filters=1)
    assert len(default) == len(one)
    for a, b in zip(default, one):
        np.testing.assert_array_equal(a, b)


def test_reparam_descent_default_output_is_the_identity():
    rng = np.random.default_rng(1)
    params = [(rng.standard_normal((1, 2)), np.zeros(1))]
    X, T = rng.standard_normal((3, 2)), rng.standard_normal((3, 1))
    a = sharing.reparam_descent(params, [np.eye(2)], X, T, lr=0.1, steps=2)
    b = sharing.reparam_descent(params, [np.eye(2)], X, T, lr=0.1, steps=2, output_activation="identity")
    assert repr(a) == repr(b)


def test_linear_transform_checks_every_layer_after_an_untransformed_one():
    params = [(np.ones((1, 1)), np.ones(1)), (np.ones((1, 1)), np.ones(1))]
    with pytest.raises(ValueError, match=r"^`M\[1\]` must be 2-D"):
        sharing.linear_transform(params, [None, np.ones(1)])
    with pytest.raises(ValueError, match=r"^`M\[0\]` must be 2-D"):
        sharing.linear_transform(params, [np.ones(1), None])


_BAD_SH2 = [
    ("conv channels", lambda: sharing.conv1d(np.zeros((1, 2, 5)), np.zeros((1, 3, 2)), np.zeros(1)), r"^`kernels` must have shape \(F, 2, K\) for `x` with 2 channels"),
    ("tie_b length", lambda: sharing.check_ties([(np.array([[0]]), np.array([1])), (np.array([[2]]), np.array([3, 4]))]), r"^`ties\[1\]` tie_b must have 1 entries, got 2$"),
    ("reparam steps", lambda: sharing.reparam_descent([(np.ones((1, 1)), np.ones(1))], [np.eye(1)], np.zeros((1, 1)), np.zeros((1, 1)), lr=0.1, steps=-1), r"^`steps` must be >= 0"),
    ("unfold n_out", lambda: sharing.unfold_rnn(2, 3, 0, 2), r"^`n_out` must be >= 1"),
    ("inputs xs", lambda: sharing.unfold_rnn(2, 3, 1, 2).inputs(np.full((2, 2), np.nan)), r"^`xs` must be finite"),
    ("rnn W_in 1-D", lambda: sharing.rnn_forward(np.zeros(3), np.zeros((3, 3)), np.zeros(3), np.zeros((1, 3)), np.zeros(1), np.zeros((2, 2))), r"^`W_in` must be 2-D"),
]


@pytest.mark.parametrize("call, match", [c[1:] for c in _BAD_SH2], ids=[c[0] for c in _BAD_SH2])
def test_still_more_messages_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _rnn_args(m=2, h=3, o=1, T=4, seed=0):
    r = np.random.default_rng(seed)
    return dict(W_in=r.normal(size=(h, m)), W_rec=r.normal(size=(h, h)), b=r.normal(size=h),
                W_out=r.normal(size=(o, h)), c=r.normal(size=o)), r.normal(size=(T, m))


def _rnn(xs=None, **changes):
    args, xs0 = _rnn_args()
    args.update(changes)
    return lambda: sharing.rnn_forward(*args.values(), xs0 if xs is None else xs)


_A, _XS = _rnn_args()
_BAD_RNN_TIES = [
    ("rnn b short", _rnn(b=_A["b"][:2]), ValueError,
     r"^`b` must have shape \(3,\) to fit `W_in` of shape \(3, 2\) \(3 hidden units, 2 inputs\), got \(2,\)$"),
    ("rnn W_rec wrong", _rnn(W_rec=_A["W_rec"][:2]), ValueError, r"^`W_rec` must have shape \(3, 3\) to fit `W_in`"),
    ("rnn W_out transposed", _rnn(W_out=_A["W_out"].T), ValueError,
     r"^`W_out` must have shape \(n_out, 3\), one row per output and one column per hidden unit, to fit "
     r"`W_in` of shape \(3, 2\) \(3 hidden units, 2 inputs\), got \(3, 1\); pass W_out.T$"),
    ("rnn W_out wrong width", _rnn(W_out=np.zeros((1, 2))), ValueError, r"^`W_out` must have shape \(n_out, 3\).*got \(1, 2\)$"),
    ("rnn c short", _rnn(c=np.zeros(0)), ValueError,
     r"^`c` must have shape \(1,\), one entry per row of `W_out` of shape \(1, 3\), got \(0,\)$"),
    ("rnn c long", _rnn(c=np.zeros(2)), ValueError, r"^`c` must have shape \(1,\)"),
    ("rnn xs narrow", _rnn(xs=_XS[:, :1]), ValueError, r"^`xs` must have shape \(P, T, 2\) or \(T, 2\), got \(4, 1\)$"),
    ("rnn xs 1-D", _rnn(xs=np.zeros(2)), ValueError, r"^`xs` must have shape \(P, T, 2\) or \(T, 2\), got \(2,\)$"),
    ("rnn xs complex", _rnn(xs=_XS + 0j), TypeError, r"^`xs` must be real"),
    ("ties 1e20", lambda: sharing.check_ties([(np.array([[1e20, 0.0]]), np.array([0.0]))]), ValueError,
     r"^`ties\[0\]` must hold integer ids below 2\*\*62, got 1e\+20$"),
    ("ties inf", lambda: sharing.n_shared([(np.array([[np.inf, 0.0]]), np.array([0.0]))]), ValueError,
     r"^`ties\[0\]` must hold integer ids, got a non-finite value$"),
    ("ties nan", lambda: sharing.expand(np.zeros(2), [(np.array([[np.nan]]), np.array([0.0]))]), ValueError,
     r"^`ties\[0\]` must hold integer ids, got a non-finite value$"),
    ("ties text", lambda: sharing.check_ties([(np.array([["a"]]), np.array([0]))]), ValueError,
     r"^`ties\[0\]` must hold integer ids, got dtype <U1$"),
    ("ties ragged", lambda: sharing.check_ties([([[0, 1], [2]], np.array([0, 0]))]), ValueError,
     r"^`ties\[0\]` must hold a 2-D and a 1-D array of ids, got list \[\[0, 1\], \[2\]\]$"),
    ("ties array", lambda: sharing.check_ties(np.zeros((2, 2), int)), ValueError,
     r"^`ties` must be a non-empty list of \(tie_W, tie_b\) pairs, got an array of shape \(2, 2\)"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD_RNN_TIES], ids=[c[0] for c in _BAD_RNN_TIES])
def test_rnn_forward_and_tie_maps_refuse_what_does_not_fit(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_integer_valued_float_ids_are_the_integer_ids():
    ties = [(np.array([[0.0, 2.0], [-1.0, 1.0]]), np.array([3.0, -1.0]))]
    out = sharing.check_ties(ties)
    assert out[0][0].dtype == np.int64 and out[0][0].tolist() == [[0, 2], [-1, 1]]
    assert sharing.n_shared(ties) == 4


def test_rnn_forward_of_one_sequence_is_the_first_of_a_batch():
    args, xs = _rnn_args(T=5)
    y1, H1 = sharing.rnn_forward(*args.values(), xs)
    yb, Hb = sharing.rnn_forward(*args.values(), np.stack([xs, 2 * xs]))
    assert y1.shape == (1, 1) and np.allclose(y1[0], yb[0], rtol=1e-13, atol=0)
    assert np.allclose(H1[0], Hb[0], rtol=1e-13, atol=0)
    # by hand, independently of the loop: two steps of h_t = tanh(W_rec h + W_in x + b)
    h1 = np.tanh(args["W_in"] @ xs[0] + args["b"])
    h2 = np.tanh(args["W_rec"] @ h1 + args["W_in"] @ xs[1] + args["b"])
    assert np.allclose(H1[0, 2], h2, rtol=1e-14, atol=0)


def test_reparam_descent_with_a_step_far_too_large_stops_like_gradient_descent():
    from lagprop import ConvergenceError, mlp

    params = mlp.init_params([3, 4, 1], seed=0)
    rng = np.random.default_rng(0)
    X, D = rng.normal(size=(8, 3)), 3.0 * np.ones((8, 1))
    with pytest.raises(ConvergenceError) as info:
        sharing.reparam_descent(params, [None, None], X, D, lr=10.0, steps=50)
    e = info.value
    # the costs of single plain steps (M = identity), computed independently
    costs, p = [], params
    for _ in range(e.iterations + 1):
        C, p = lagrangian.descent_step(p, X, D, lr=10.0)
        costs.append(C)
    assert e.residual == pytest.approx(costs[e.iterations], rel=1e-10)
    assert e.residual > 1e6 * costs[0] and max(costs[:e.iterations]) <= 1e6 * costs[0]
    assert f"use a smaller `lr` than {10.0!r}" in e.diagnosis
