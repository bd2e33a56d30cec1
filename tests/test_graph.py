"""Tests of lagprop.graph: the Lagrange function of a computational graph and its costate pass."""

import numpy as np
import pytest

from lagprop import gradcheck, graph, lagrangian, mlp
from lagprop.activations import NAMES


def _rand_params(g, seed, scale=0.8):
    rng = np.random.default_rng(seed)
    return {k: scale * rng.standard_normal(s) for k, s in g.param_shapes.items()}


def _skip_tie_graph():
    """Two tanh layers sharing W, a skip from the input to the output, a gated branch, a max."""
    g = graph.Graph()
    g.input("x", 3)
    g.layer("h1", "x", "V", bias="c", activation="tanh", width=4)
    g.layer("h2", "h1", "W", bias="b", activation="tanh", width=4)
    g.layer("h3", "h2", "W", bias="b", activation="sigmoid", width=4)   # W, b tied with h2
    g.add("r", ["h3", "h1"])                                              # residual
    g.mul("m", "r", "h2")                                                 # gating
    g.maximum("z", "m", "h1")                                             # nonsmooth
    g.layer("y", ["z", "x", "h1"], ["U", "S", "T"], bias="e", width=2)    # skips
    g.output("y", "h2")
    return g


def _data(g, P, seed):
    rng = np.random.default_rng(seed + 100)
    x = {n: rng.standard_normal((P, g.width(n))) for n in g.nodes if n in ("x", "x0", "u")}
    d = {o: rng.standard_normal((P, g.width(o))) for o in g.outputs}
    return x, d


@pytest.mark.parametrize("activation", NAMES)
@pytest.mark.parametrize("output_activation", ["identity", "sigmoid"])
def test_layered_graph_equals_lagrangian_costate(activation, output_activation):
    sizes = [3, 5, 4, 2]
    kw = dict(activation=activation, output_activation=output_activation)
    params = mlp.init_params(sizes, seed=3, bias=0.2)
    rng = np.random.default_rng(4)
    x, d = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    g = graph.layered(sizes, **kw)
    w = graph.named_params(params)
    co = g.costate(w, g.forward(w, {"x0": x}), {"x3": d})
    fwd = lagrangian.forward(params, x, **kw)
    ref = lagrangian.costate(params, fwd, d, **kw)
    C, grads = lagrangian.backprop(params, x, d, **kw)
    for k in (1, 2, 3):
        np.testing.assert_allclose(co.B[f"x{k}"], ref.B[k], rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(co.grads[f"W{k}"], grads[k - 1][0], rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(co.grads[f"b{k}"], grads[k - 1][1], rtol=1e-13, atol=1e-13)
    assert co.cost == pytest.approx(C, rel=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_with_skips_and_ties_matches_central_differences(seed):
    g = _skip_tie_graph()
    w = _rand_params(g, seed)
    x, d = _data(g, 5, seed)
    fwd = g.forward(w, x)
    assert np.min(np.abs(fwd.X["m"] - fwd.X["h1"])) > 1e-4  # away from the max's kink
    C, grads = g.gradient(w, x, d)
    assert C == pytest.approx(g.cost(w, x, d), rel=1e-14)
    for k in w:
        def f(v, k=k):
            return g.cost({**w, k: v}, x, d)
        fd = gradcheck.central_difference(f, w[k], h=1e-6)
        assert gradcheck.relative_error(grads[k], fd) < 1e-7, k
    # the multiplier of an input node is minus the gradient in that input
    fd_x = gradcheck.central_difference(lambda v: g.cost(w, {"x": v}, d), x["x"], h=1e-6)
    co = g.costate(w, fwd, d)
    assert gradcheck.relative_error(co.B["x"], -fd_x) < 1e-7


def test_tied_gradient_is_sum_over_copies():
    g = _skip_tie_graph()
    w = _rand_params(g, 5)
    x, d = _data(g, 4, 5)
    # untie: the same graph with separate names for the two uses of W and b
    u = graph.Graph()
    u.input("x", 3)
    u.layer("h1", "x", "V", bias="c", activation="tanh", width=4)
    u.layer("h2", "h1", "W_a", bias="b_a", activation="tanh", width=4)
    u.layer("h3", "h2", "W_b", bias="b_b", activation="sigmoid", width=4)
    u.add("r", ["h3", "h1"])
    u.mul("m", "r", "h2")
    u.maximum("z", "m", "h1")
    u.layer("y", ["z", "x", "h1"], ["U", "S", "T"], bias="e", width=2)
    u.output("y", "h2")
    wu = {k: v for k, v in w.items() if k not in ("W", "b")}
    wu.update(W_a=w["W"], W_b=w["W"], b_a=w["b"], b_b=w["b"])
    _, gt = g.gradient(w, x, d)
    _, gu = u.gradient(wu, x, d)
    np.testing.assert_allclose(gt["W"], gu["W_a"] + gu["W_b"], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(gt["b"], gu["b_a"] + gu["b_b"], rtol=1e-13, atol=1e-14)


def test_costate_is_transpose_of_tangent():
    g = _skip_tie_graph()
    w = _rand_params(g, 7)
    x, d = _data(g, 3, 7)
    fwd = g.forward(w, x)
    keys = list(w)
    sizes = [w[k].size for k in keys]

    def unpack(theta):
        parts = np.split(theta, np.cumsum(sizes)[:-1])
        return {k: p.reshape(w[k].shape) for k, p in zip(keys, parts)}

    def jvp(theta):  # parameter direction -> tangents of the outputs
        T = g.tangent(w, fwd, unpack(theta))
        return np.concatenate([T[o].ravel() for o in g.outputs])

    out_sizes = [fwd.X[o].size for o in g.outputs]

    def vjp(v):  # output seeds -> J^T v, through the costate pass with B_o = v
        parts = np.split(v, np.cumsum(out_sizes)[:-1])
        targets = {o: fwd.X[o] + 0.5 * p.reshape(fwd.X[o].shape) for o, p in zip(g.outputs, parts)}
        G = g.costate(w, fwd, targets).grads
        return -np.concatenate([G[k].ravel() for k in keys])

    err = gradcheck.dot_product_test(jvp, vjp, (sum(sizes),), (sum(out_sizes),), seed=2)
    assert err < 1e-12
    # and a deliberately wrong transpose fails it
    bad = gradcheck.dot_product_test(jvp, lambda v: 1.01 * vjp(v), (sum(sizes),), (sum(out_sizes),))
    assert bad > 1e-3


def test_tangent_matches_central_differences():
    g = _skip_tie_graph()
    w = _rand_params(g, 8)
    x, _ = _data(g, 3, 8)
    rng = np.random.default_rng(9)
    dw = {k: rng.standard_normal(v.shape) for k, v in w.items()}
    T = g.tangent(w, g.forward(w, x), dw)
    h = 1e-6
    plus = g.forward({k: w[k] + h * dw[k] for k in w}, x).X
    minus = g.forward({k: w[k] - h * dw[k] for k in w}, x).X
    for n in g.nodes:
        assert gradcheck.relative_error(T[n], (plus[n] - minus[n]) / (2 * h)) < 1e-7 or \
            np.max(np.abs(T[n])) == 0.0


def test_constraint_jacobian_is_unit_lower_triangular_and_gives_the_multipliers():
    g = _skip_tie_graph()
    w = _rand_params(g, 11)
    x, d = _data(g, 2, 11)
    fwd = g.forward(w, x)
    J = g.constraint_jacobian(w, fwd)
    comp = [n for n in g.nodes if n != "x"]
    m = sum(fwd.X[n].size for n in comp)
    assert J.shape == (m, m)
    assert np.all(np.triu(J, 1) == 0.0) and np.all(np.diag(J) == 1.0)
    assert np.linalg.det(J) == pytest.approx(1.0, rel=1e-12)
    # dL/dx = grad C + J^T B = 0: a dense solve gives the costate pass's multipliers
    gradC = np.concatenate([(-2.0 * (d[n] - fwd.X[n]) if n in d else 0.0 * fwd.X[n]).ravel()
                            for n in comp])
    B = np.linalg.solve(J.T, -gradC)
    co = g.costate(w, fwd, d)
    np.testing.assert_allclose(B, np.concatenate([co.B[n].ravel() for n in comp]), rtol=1e-12,
                               atol=1e-12)


def test_lagrange_function_is_stationary_at_the_costate():
    g = _skip_tie_graph()
    w = _rand_params(g, 12)
    x, d = _data(g, 2, 12)
    fwd = g.forward(w, x)
    co = g.costate(w, fwd, d)
    L = g.lagrange_function(w, fwd.X, co.B, d)
    assert L == pytest.approx(co.cost, rel=1e-14)
    for n in g.nodes:
        if n == "x":
            continue
        gX = gradcheck.central_difference(
            lambda v, n=n: g.lagrange_function(w, {**fwd.X, n: v}, co.B, d), fwd.X[n], h=1e-6)
        assert np.max(np.abs(gX)) < 1e-7 * max(1.0, co.cost), n
    for k in w:  # dL/dw at fixed (X, B) on the surface is dC/dw
        gW = gradcheck.central_difference(
            lambda v, k=k: g.lagrange_function({**w, k: v}, fwd.X, co.B, d), w[k], h=1e-6)
        assert gradcheck.relative_error(gW, co.grads[k]) < 1e-7, k
    # off the surface L differs from C
    Xr = {**fwd.X, "h2": fwd.X["h2"] + 0.1}
    assert abs(g.lagrange_function(w, Xr, co.B, d) - co.cost) > 1e-6


def _rnn(T, width=3, n_in=2, every=1):
    g = graph.Graph()
    g.input("u", n_in)
    g.layer("h0", "u", "U", width=width, activation="tanh")
    for t in range(1, T):
        g.layer(f"h{t}", [f"h{t - 1}", "u"], ["W", "U"], bias="b", activation="tanh", width=width)
    g.output(*[f"h{t}" for t in range(T) if (T - 1 - t) % every == 0])
    return g


@pytest.mark.parametrize("T", [1, 2, 5, 13, 30])
@pytest.mark.parametrize("s", [1, 2, 3, 5, 40])
def test_checkpointing_count_is_griewanks_binomial_count(T, s):
    g = _rnn(T, every=4)
    w = _rand_params(g, T + s, scale=0.6)
    rng = np.random.default_rng(0)
    u = {"u": rng.standard_normal((3, 2))}
    d = {o: rng.standard_normal((3, 3)) for o in g.outputs}
    C, grads = g.gradient(w, u, d)
    r = g.checkpointed_gradient(w, u, d, checkpoints=s)
    assert r.advances == graph.binomial_advances(T, s)
    assert r.taped == T and r.peak_states <= s
    assert r.cost == pytest.approx(C, rel=1e-13)
    for k in grads:
        np.testing.assert_allclose(r.grads[k], grads[k], rtol=1e-12, atol=1e-13)


def test_binomial_count_closed_forms():
    for l in range(1, 30):
        assert graph.binomial_advances(l, 1) == l * (l - 1) // 2
        assert graph.binomial_advances(l, l) == l - 1
    # exactly beta(s, r) steps need r repetitions: r * l - beta(s + 1, r - 1)
    for s in range(1, 6):
        for r in range(1, 6):
            l = graph.binomial_capacity(s, r)
            assert graph.binomial_advances(l, s) == r * l - graph.binomial_capacity(s + 1, r - 1)
            assert graph.binomial_advances(l + 1, s) > graph.binomial_advances(l, s) + r


def test_relu_costate_at_a_kink_is_not_the_derivative():
    """MATH.md's counterexample: relu(u) - relu(-u) = u, but the costate pass gives 0 at u = 0."""
    g = graph.Graph()
    g.input("x", 1)
    g.layer("h", "x", "W1", activation="relu", width=2)
    g.layer("y", "h", "W2", width=1)
    g.output("y")
    x, d = {"x": np.ones((1, 1))}, {"y": np.ones((1, 1))}

    def grad_u(u):  # chain rule through the tie W1 = [u, -u]
        _, G = g.gradient({"W1": np.array([[u], [-u]]), "W2": np.array([[1.0, -1.0]])}, x, d)
        return G["W1"][0, 0] - G["W1"][1, 0]

    assert grad_u(0.0) == 0.0                       # the costate pass
    assert grad_u(0.3) == pytest.approx(-2 * 0.7)   # away from the kink it is right
    # C(u) = (1 - u)^2, so dC/du(0) = -2
    fd = gradcheck.central_difference(
        lambda v: g.cost({"W1": np.array([[v[0]], [-v[0]]]), "W2": np.array([[1.0, -1.0]])}, x, d),
        np.zeros(1))
    assert fd[0] == pytest.approx(-2.0, rel=1e-8)


# --- validation ------------------------------------------------------------------------------------

def test_construction_errors():
    g = graph.Graph()
    g.input("x", 2)
    with pytest.raises(ValueError, match="`name` must be new"):
        g.input("x", 3)
    with pytest.raises(ValueError, match="`parents` must name a node declared before"):
        g.layer("h", "nope", "W", width=2)
    with pytest.raises(ValueError, match="`weights` must name one matrix per parent"):
        g.layer("h", ["x", "x"], "W", width=2)
    with pytest.raises(TypeError, match="`width` must be an integer"):
        g.layer("h", "x", "W", width=2.5)
    with pytest.raises(ValueError, match="`activation` must be one of"):
        g.layer("h", "x", "W", width=2, activation="swish")
    g.layer("h", "x", "W", width=2)
    with pytest.raises(ValueError, match="is shared and must keep shape"):
        g.layer("h2", "h", "W", width=3)
    with pytest.raises(ValueError, match="is a node name"):
        g.layer("h3", "h", "h", width=2)
    g.input("v", 3)
    with pytest.raises(ValueError, match="must have one width"):
        g.add("s", ["h", "v"])
    with pytest.raises(ValueError, match="at least two nodes"):
        g.add("s", ["h"])
    with pytest.raises(ValueError, match="computed nodes"):
        g.output("x")
    with pytest.raises(TypeError, match="`name` must be a non-empty string"):
        g.input(3, 2)


def test_evaluation_errors():
    g = graph.layered([2, 3, 1])
    w = graph.named_params(mlp.init_params([2, 3, 1]))
    x, d = {"x0": np.zeros((4, 2))}, {"x2": np.zeros((4, 1))}
    with pytest.raises(ValueError, match="missing \\['b2'\\]"):
        g.forward({k: v for k, v in w.items() if k != "b2"}, x)
    with pytest.raises(ValueError, match="`params\\['W1'\\]` must have shape \\(3, 2\\)"):
        g.forward({**w, "W1": np.zeros((2, 3))}, x)
    with pytest.raises(ValueError, match="`params\\['W1'\\]` must be finite"):
        g.forward({**w, "W1": np.full((3, 2), np.nan)}, x)
    with pytest.raises(TypeError, match="`params` must be a dict"):
        g.forward([1, 2], x)
    with pytest.raises(ValueError, match="`inputs\\['x0'\\]` must have 2 columns"):
        g.forward(w, {"x0": np.zeros((4, 3))})
    with pytest.raises(ValueError, match="`inputs` must hold exactly the nodes"):
        g.forward(w, {"x1": np.zeros((4, 3))})
    with pytest.raises(ValueError, match="`targets` must have 4 rows"):
        g.cost(w, x, {"x2": np.zeros((3, 1))})
    with pytest.raises(TypeError, match="`fwd` must be a GraphForward"):
        g.costate(w, {"x0": x}, d)
    fwd = g.forward(w, x)
    with pytest.raises(ValueError, match="`fwd.X\\['x1'\\]` must have 3 columns"):
        g.costate(w, graph.GraphForward(X={**fwd.X, "x1": np.zeros((4, 2))}, A=fwd.A), d)
    with pytest.raises(ValueError, match="`fwd.A` must hold every node of \\['x1', 'x2'\\], missing"):
        g.tangent(w, graph.GraphForward(X=fwd.X, A={}), w)
    with pytest.raises(ValueError, match="`fwd.X\\['x2'\\]` must be finite"):
        g.constraint_jacobian(w, graph.GraphForward(X={**fwd.X, "x2": np.full((4, 1), np.inf)},
                                                    A=fwd.A))
    with pytest.raises(TypeError, match="`dparams` must be a dict"):
        g.tangent(w, fwd, [1.0])
    h = graph.Graph()
    h.input("x", 1)
    h.layer("y", "x", "W", width=1)
    with pytest.raises(ValueError, match="no output"):
        h.cost({"W": np.ones((1, 1))}, {"x": np.ones((1, 1))}, {})


def test_checkpointing_needs_a_chain():
    g = _skip_tie_graph()
    w = _rand_params(g, 0)
    x, d = _data(g, 2, 0)
    with pytest.raises(ValueError, match="checkpointing needs a chain: node 'r' reads"):
        g.checkpointed_gradient(w, x, d, checkpoints=3)
    with pytest.raises(ValueError, match="`checkpoints` must be >= 1"):
        _rnn(3).checkpointed_gradient({}, {}, {}, checkpoints=0)


def test_binomial_validation():
    with pytest.raises(ValueError, match="`steps` must be >= 1"):
        graph.binomial_advances(0, 2)
    with pytest.raises(TypeError, match="`checkpoints` must be an integer"):
        graph.binomial_advances(5, 1.5)
    with pytest.raises(ValueError, match="`repetitions` must be >= 0"):
        graph.binomial_capacity(2, -1)


# --- random graphs (property tests) ----------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _random_graph(seed):
    """A random DAG of every smooth node kind; widths 1-3, tied weights, several outputs."""
    rng = np.random.default_rng(seed)
    g = graph.Graph()
    g.input("x", int(rng.integers(1, 4)))
    names = ["x"]
    for i in range(int(rng.integers(2, 8))):
        kind = rng.choice(["layer", "layer", "activation", "add", "mul"])
        name = f"n{i}"
        if kind == "layer":
            k = int(rng.integers(1, min(3, len(names)) + 1))
            parents = list(rng.choice(names, size=k, replace=False))
            width = int(rng.integers(1, 4))
            weights = []
            for p in parents:  # reuse a weight of the right shape half of the time (a tie)
                shape = (width, g.width(p))
                same = [w for w, s in g.param_shapes.items() if s == shape]
                weights.append(same[0] if same and rng.random() < 0.5 else f"W{i}_{p}")
            g.layer(name, parents, weights, bias=f"b{i}" if rng.random() < 0.7 else None,
                    activation=str(rng.choice(["tanh", "sigmoid", "identity"])), width=width)
        elif kind == "activation":
            g.activation(name, str(rng.choice(names)), str(rng.choice(["tanh", "sigmoid"])))
        else:
            p = str(rng.choice(names))
            same = [n for n in names if g.width(n) == g.width(p) and n != p]
            if not same:
                g.activation(name, p, "tanh")
            elif kind == "add":
                g.add(name, [p, str(rng.choice(same))])
            else:
                g.mul(name, p, str(rng.choice(same)))
        names.append(name)
    g.output(*sorted({names[-1], str(rng.choice(names[1:]))}))
    return g, rng


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_random_graphs_gradient_and_multipliers(seed):
    g, rng = _random_graph(seed)
    w = {k: 0.8 * rng.standard_normal(s) for k, s in g.param_shapes.items()}
    P = int(rng.integers(1, 4))
    x = {"x": rng.standard_normal((P, g.width("x")))}
    d = {o: rng.standard_normal((P, g.width(o))) for o in g.outputs}
    fwd = g.forward(w, x)
    co = g.costate(w, fwd, d)
    for k in w:
        fd = gradcheck.central_difference(lambda v, k=k: g.cost({**w, k: v}, x, d), w[k])
        assert gradcheck.entrywise_error(co.grads[k], fd, atol=1e-3) < 1e-5, k
    comp = g.nodes[1:]
    J = g.constraint_jacobian(w, fwd)
    assert np.all(np.triu(J, 1) == 0.0) and np.all(np.diag(J) == 1.0)
    gradC = np.concatenate([(-2.0 * (d[n] - fwd.X[n]) if n in d else 0.0 * fwd.X[n]).ravel()
                            for n in comp])
    np.testing.assert_allclose(np.concatenate([co.B[n].ravel() for n in comp]),
                               np.linalg.solve(J.T, -gradC), rtol=1e-10, atol=1e-10)
