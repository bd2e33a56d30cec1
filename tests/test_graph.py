"""Tests of lagprop.graph: the Lagrangian of a computational graph, its costate pass."""

import numpy as np
import pytest

from lagprop import gradcheck, graph, lagrangian, mlp
from lagprop.activations import NAMES


def _rand_params(g, seed, scale=1.5):
    return g.init_params(seed=seed, scale=scale)


def _skip_tie_graph():
    """Two tanh layers sharing W, a skip from input to output, a gated branch, a max."""
    g = graph.Graph()
    g.input("x", 3)
    g.layer("h1", "x", "V", bias="c", activation="tanh", width=4)
    g.layer("h2", "h1", "W", bias="b", activation="tanh", width=4)
    g.layer(
        "h3", "h2", "W", bias="b", activation="sigmoid", width=4
    )  # W, b tied with h2
    g.add("r", ["h3", "h1"])  # residual
    g.mul("m", "r", "h2")  # gating
    g.maximum("z", "m", "h1")  # nonsmooth
    g.layer("y", ["z", "x", "h1"], ["U", "S", "T"], bias="e", width=2)  # skips
    g.output("y", "h2")
    return g


def _data(g, P, seed):
    rng = np.random.default_rng(seed + 100)
    x = {
        n: rng.standard_normal((P, g.width(n)))
        for n in g.nodes
        if n in ("x", "x0", "u")
    }
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
        np.testing.assert_allclose(
            co.grads[f"W{k}"], grads[k - 1][0], rtol=1e-13, atol=1e-13
        )
        np.testing.assert_allclose(
            co.grads[f"b{k}"], grads[k - 1][1], rtol=1e-13, atol=1e-13
        )
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
    fd_x = gradcheck.central_difference(
        lambda v: g.cost(w, {"x": v}, d), x["x"], h=1e-6
    )
    co = g.costate(w, fwd, d)
    assert gradcheck.relative_error(co.B["x"], -fd_x) < 1e-7


def _hand_untied():
    """_skip_tie_graph with the two uses of W and b named apart, by hand."""
    u = graph.Graph()
    u.input("x", 3)
    u.layer("h1", "x", "V", bias="c", activation="tanh", width=4)
    u.layer("h2", "h1", "W_1", bias="b_1", activation="tanh", width=4)
    u.layer("h3", "h2", "W_2", bias="b_2", activation="sigmoid", width=4)
    u.add("r", ["h3", "h1"])
    u.mul("m", "r", "h2")
    u.maximum("z", "m", "h1")
    u.layer("y", ["z", "x", "h1"], ["U", "S", "T"], bias="e", width=2)
    u.output("y", "h2")
    return u


def test_untie_gives_the_graph_built_by_hand():
    g = _skip_tie_graph()
    ut = g.untie("W").graph.untie("b")
    u = _hand_untied()
    assert ut.graph.nodes == u.nodes and ut.graph.outputs == u.outputs
    assert ut.graph.param_shapes == u.param_shapes
    assert list(ut.graph.param_shapes) == list(u.param_shapes)  # order of first use
    assert (
        "W" in g.param_shapes and "W_1" not in g.param_shapes
    )  # the original is unchanged
    wu = u.init_params(seed=4)
    x, d = _data(u, 3, 4)
    C1, G1 = ut.graph.gradient(wu, x, d)
    C2, G2 = u.gradient(wu, x, d)
    assert C1 == C2 and all(np.array_equal(G1[k], G2[k]) for k in G2)


def test_tied_gradient_is_sum_over_copies():
    g = _skip_tie_graph()
    w = _rand_params(g, 5)
    x, d = _data(g, 4, 5)
    _, gt = g.gradient(w, x, d)
    for name in ("W", "b"):
        ut = g.untie(name)
        assert ut.copies == (f"{name}_1", f"{name}_2")
        _, gu = ut.graph.gradient(ut.params(w), x, d)
        np.testing.assert_allclose(
            gt[name], sum(gu[c] for c in ut.copies), rtol=1e-13, atol=1e-14
        )
        # and each copy alone is not the tied gradient
        assert np.max(np.abs(gt[name] - gu[ut.copies[0]])) > 1e-3


def test_untie_a_weight_used_twice_by_one_node():
    g = graph.Graph()
    g.input("a", 2)
    g.input("b", 2)
    g.layer("y", ["a", "b"], ["W", "W"], width=2, activation="tanh")
    g.output("y")
    ut = g.untie("W", copies=["Wa", "Wb"])
    assert ut.graph.param_shapes == {"Wa": (2, 2), "Wb": (2, 2)}
    w = g.init_params(seed=1)
    rng = np.random.default_rng(2)
    x = {"a": rng.standard_normal((3, 2)), "b": rng.standard_normal((3, 2))}
    d = {"y": rng.standard_normal((3, 2))}
    _, gt = g.gradient(w, x, d)
    _, gu = ut.graph.gradient(ut.params(w), x, d)
    np.testing.assert_allclose(gt["W"], gu["Wa"] + gu["Wb"], rtol=1e-13, atol=1e-15)


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
        targets = {
            o: fwd.X[o] + 0.5 * p.reshape(fwd.X[o].shape)
            for o, p in zip(g.outputs, parts)
        }
        G = g.costate(w, fwd, targets).grads
        return -np.concatenate([G[k].ravel() for k in keys])

    err = gradcheck.dot_product_test(jvp, vjp, (sum(sizes),), (sum(out_sizes),), seed=2)
    assert err < 1e-12
    # and a deliberately wrong transpose fails it
    bad = gradcheck.dot_product_test(
        jvp, lambda v: 1.01 * vjp(v), (sum(sizes),), (sum(out_sizes),)
    )
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
        assert (
            gradcheck.relative_error(T[n], (plus[n] - minus[n]) / (2 * h)) < 1e-7
            or np.max(np.abs(T[n])) == 0.0
        )


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
    gradC = np.concatenate(
        [(-2.0 * (d[n] - fwd.X[n]) if n in d else 0.0 * fwd.X[n]).ravel() for n in comp]
    )
    B = np.linalg.solve(J.T, -gradC)
    co = g.costate(w, fwd, d)
    np.testing.assert_allclose(
        B, np.concatenate([co.B[n].ravel() for n in comp]), rtol=1e-12, atol=1e-12
    )


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
            lambda v, n=n: g.lagrange_function(w, {**fwd.X, n: v}, co.B, d),
            fwd.X[n],
            h=1e-6,
        )
        assert np.max(np.abs(gX)) < 1e-7 * max(1.0, co.cost), n
    for k in w:  # dL/dw at fixed (X, B) on the surface is dC/dw
        gW = gradcheck.central_difference(
            lambda v, k=k: g.lagrange_function({**w, k: v}, fwd.X, co.B, d),
            w[k],
            h=1e-6,
        )
        assert gradcheck.relative_error(gW, co.grads[k]) < 1e-7, k
    # off the surface L differs from C
    Xr = {**fwd.X, "h2": fwd.X["h2"] + 0.1}
    assert abs(g.lagrange_function(w, Xr, co.B, d) - co.cost) > 1e-6


def test_relu_costate_at_a_kink_is_not_the_derivative():
    """MATH.md's counterexample: relu(u) - relu(-u) = u; the costate pass gives 0."""
    g = graph.Graph()
    g.input("x", 1)
    g.layer("h", "x", "W1", activation="relu", width=2)
    g.layer("y", "h", "W2", width=1)
    g.output("y")
    x, d = {"x": np.ones((1, 1))}, {"y": np.ones((1, 1))}

    def grad_u(u):  # chain rule through the tie W1 = [u, -u]
        _, G = g.gradient(
            {"W1": np.array([[u], [-u]]), "W2": np.array([[1.0, -1.0]])}, x, d
        )
        return G["W1"][0, 0] - G["W1"][1, 0]

    assert grad_u(0.0) == 0.0  # the costate pass
    assert grad_u(0.3) == pytest.approx(-2 * 0.7)  # away from the kink it is right
    # C(u) = (1 - u)^2, so dC/du(0) = -2
    fd = gradcheck.central_difference(
        lambda v: g.cost(
            {"W1": np.array([[v[0]], [-v[0]]]), "W2": np.array([[1.0, -1.0]])}, x, d
        ),
        np.zeros(1),
    )
    assert fd[0] == pytest.approx(-2.0, rel=1e-8)


# --- random graphs (property tests) ---------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _random_graph(seed):
    """A random DAG of every smooth node kind; widths 1-3, ties, several outputs."""
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
            for (
                p
            ) in parents:  # reuse a weight of the right shape half of the time (a tie)
                shape = (width, g.width(p))
                same = [w for w, s in g.param_shapes.items() if s == shape]
                weights.append(same[0] if same and rng.random() < 0.5 else f"W{i}_{p}")
            g.layer(
                name,
                parents,
                weights,
                bias=f"b{i}" if rng.random() < 0.7 else None,
                activation=str(rng.choice(["tanh", "sigmoid", "identity"])),
                width=width,
            )
        elif kind == "activation":
            g.activation(
                name, str(rng.choice(names)), str(rng.choice(["tanh", "sigmoid"]))
            )
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
        fd = gradcheck.central_difference(
            lambda v, k=k: g.cost({**w, k: v}, x, d), w[k]
        )
        assert gradcheck.entrywise_error(co.grads[k], fd, atol=1e-3) < 1e-5, k
    comp = g.nodes[1:]
    J = g.constraint_jacobian(w, fwd)
    assert np.all(np.triu(J, 1) == 0.0) and np.all(np.diag(J) == 1.0)
    gradC = np.concatenate(
        [(-2.0 * (d[n] - fwd.X[n]) if n in d else 0.0 * fwd.X[n]).ravel() for n in comp]
    )
    np.testing.assert_allclose(
        np.concatenate([co.B[n].ravel() for n in comp]),
        np.linalg.solve(J.T, -gradC),
        rtol=1e-10,
        atol=1e-10,
    )


# --- vector-Jacobian and Jacobian-vector products -------------------------------------


def _flat(d, keys):
    return np.concatenate([np.ravel(d[k]) for k in keys])


def test_jvp_matches_central_differences_in_params_and_inputs():
    g = _skip_tie_graph()
    w = _rand_params(g, 21)
    x, _ = _data(g, 3, 21)
    rng = np.random.default_rng(22)
    dw = {k: rng.standard_normal(v.shape) for k, v in w.items()}
    dx = {"x": rng.standard_normal(x["x"].shape)}
    h = 1e-6

    def outputs(t):  # the output map along the line (w + t dw, x + t dx)
        X = g.forward({k: w[k] + t * dw[k] for k in w}, {"x": x["x"] + t * dx["x"]}).X
        return _flat(X, g.outputs)

    fd = (outputs(h) - outputs(-h)) / (2 * h)
    assert (
        gradcheck.relative_error(
            _flat(g.jvp(w, x, dparams=dw, dinputs=dx), g.outputs), fd
        )
        < 1e-7
    )
    # each direction alone
    X = lambda ww, xx: _flat(g.forward(ww, xx).X, g.outputs)  # noqa: E731
    fd_w = (
        X({k: w[k] + h * dw[k] for k in w}, x) - X({k: w[k] - h * dw[k] for k in w}, x)
    ) / (2 * h)
    assert (
        gradcheck.relative_error(_flat(g.jvp(w, x, dparams=dw), g.outputs), fd_w) < 1e-7
    )
    fd_x = (X(w, {"x": x["x"] + h * dx["x"]}) - X(w, {"x": x["x"] - h * dx["x"]})) / (
        2 * h
    )
    assert (
        gradcheck.relative_error(_flat(g.jvp(w, x, dinputs=dx), g.outputs), fd_x) < 1e-7
    )


def test_vjp_matches_central_differences_in_params_and_inputs():
    g = _skip_tie_graph()
    w = _rand_params(g, 23)
    x, _ = _data(g, 3, 23)
    rng = np.random.default_rng(24)
    v = {o: rng.standard_normal((3, g.width(o))) for o in g.outputs}
    vw, vx = g.vjp(w, x, v)
    assert set(vw) == set(w) and set(vx) == {"x"}

    def pairing(ww, xx):  # <v, y(w, x)>
        X = g.forward(ww, xx).X
        return float(sum(np.sum(v[o] * X[o]) for o in g.outputs))

    for k in w:
        fd = gradcheck.central_difference(
            lambda p, k=k: pairing({**w, k: p}, x), w[k], h=1e-6
        )
        assert gradcheck.relative_error(vw[k], fd) < 1e-7, k
    fd = gradcheck.central_difference(lambda p: pairing(w, {"x": p}), x["x"], h=1e-6)
    assert gradcheck.relative_error(vx["x"], fd) < 1e-7


def test_vjp_is_the_transpose_of_jvp():
    g = _skip_tie_graph()
    w = _rand_params(g, 25)
    x, _ = _data(g, 2, 25)
    keys = list(w)
    sizes = [w[k].size for k in keys] + [x["x"].size]
    out = [2 * g.width(o) for o in g.outputs]

    def unpack(t):
        parts = np.split(t, np.cumsum(sizes)[:-1])
        return (
            {k: p.reshape(w[k].shape) for k, p in zip(keys, parts)},
            {"x": parts[-1].reshape(x["x"].shape)},
        )

    def jvp(t):
        dw, dx = unpack(t)
        return _flat(g.jvp(w, x, dparams=dw, dinputs=dx), g.outputs)

    def vjp(u):
        parts = np.split(u, np.cumsum(out)[:-1])
        vw, vx = g.vjp(w, x, {o: p.reshape(2, -1) for o, p in zip(g.outputs, parts)})
        return np.concatenate([_flat(vw, keys), vx["x"].ravel()])

    assert (
        gradcheck.dot_product_test(jvp, vjp, (sum(sizes),), (sum(out),), seed=3) < 1e-12
    )
    assert (
        gradcheck.dot_product_test(
            jvp, lambda u: 1.001 * vjp(u), (sum(sizes),), (sum(out),), seed=3
        )
        > 1e-4
    )


def test_gradient_is_the_vjp_of_the_output_residual():
    """The costate pass is the vjp with v_o = -2 (D_o - x_o), the gradient of C."""
    g = _skip_tie_graph()
    w = _rand_params(g, 26)
    x, d = _data(g, 3, 26)
    X = g.forward(w, x).X
    vw, vx = g.vjp(w, x, {o: -2.0 * (d[o] - X[o]) for o in g.outputs})
    C, G = g.gradient(w, x, d)
    for k in w:
        np.testing.assert_allclose(vw[k], G[k], rtol=1e-13, atol=1e-14)


# --- the node rules -------------------------------------------------------------------


def test_every_node_kind_has_all_three_rules_and_they_agree():
    """For each kind: jvp = central differences of eval, vjp = the transpose of jvp."""
    assert set(graph._RULES) == {"layer", "activation", "add", "mul", "maximum"}
    builders = {
        "layer": lambda g: g.layer(
            "y", ["a", "b"], ["W", "V"], bias="c", width=2, activation="tanh"
        ),
        "activation": lambda g: g.activation("y", "a", "sigmoid"),
        "add": lambda g: g.add("y", ["a", "b"]),
        "mul": lambda g: g.mul("y", "a", "b"),
        "maximum": lambda g: g.maximum("y", "a", "b"),
    }
    assert set(builders) == set(graph._RULES)
    rng = np.random.default_rng(5)
    for kind, build in builders.items():
        g = graph.Graph()
        g.input("a", 3)
        g.input("b", 3)
        build(g)
        g.output("y")
        assert g._nodes[-1].kind == kind
        w = g.init_params(seed=1)
        x = {"a": rng.standard_normal((2, 3)), "b": rng.standard_normal((2, 3))}
        dx = {"a": rng.standard_normal((2, 3)), "b": rng.standard_normal((2, 3))}
        h = 1e-6
        f = lambda t: g.forward(w, {n: x[n] + t * dx[n] for n in x}).X[
            "y"
        ]  # noqa: E731
        J = g.jvp(w, x, dinputs=dx)["y"]
        assert gradcheck.relative_error(J, (f(h) - f(-h)) / (2 * h)) < 1e-7, kind
        v = {"y": rng.standard_normal(J.shape)}
        _, vx = g.vjp(w, x, v)
        lhs, rhs = np.sum(v["y"] * J), sum(np.sum(vx[n] * dx[n]) for n in x)
        assert abs(lhs - rhs) < 1e-12 * max(1.0, abs(lhs)), kind


# --- construction: all or nothing -----------------------------------------------------


def _state(g):
    return g.nodes, g.param_shapes, g.outputs


def _base():
    g = graph.Graph()
    g.input("x", 2)
    g.layer("h", "x", "W", bias="b", width=3, activation="tanh")
    g.activation("a", "h", "sigmoid")
    g.output("h")
    return g


def test_outputs_and_nodes_are_read_only():
    g = _base()
    assert g.outputs == ("h",) and g.nodes == ("x", "h", "a")
    with pytest.raises(AttributeError):
        g.outputs.append("x")
    with pytest.raises(AttributeError):
        g.outputs = ("x",)
    shapes = g.param_shapes
    shapes["Z"] = (1,)
    assert "Z" not in g.param_shapes


def test_init_params_shapes_scale_and_seed():
    g = graph.Graph()
    g.input("x", 400)
    g.layer("h", "x", "W", bias="b", width=300)
    w = g.init_params(seed=3, scale=2.0)
    assert {k: v.shape for k, v in w.items()} == g.param_shapes
    assert all(v.dtype == np.float64 for v in w.values())
    # N(0, scale^2 / fan-in) for the weight, N(0, scale^2) for the bias
    assert np.std(w["W"]) == pytest.approx(2.0 / np.sqrt(400), rel=0.02)
    assert np.std(w["b"]) == pytest.approx(2.0, rel=0.15)
    again = g.init_params(seed=3, scale=2.0)
    assert all(np.array_equal(w[k], again[k]) for k in w)
    assert not np.array_equal(w["W"], g.init_params(seed=4, scale=2.0)["W"])
    assert graph.Graph().init_params() == {}


# --- bad calls: the error each gets, and the graph left as it was -------------------


def _layered_case():
    g = graph.layered([2, 3, 1], activation="identity", output_activation="identity")
    w = graph.named_params(mlp.init_params([2, 3, 1], seed=1, bias=0.1))
    return g, w, {"x0": np.ones((4, 2))}, {"x2": np.zeros((4, 1))}


def _huge(w, factor=1e200):
    return {k: factor * v for k, v in w.items()}


G, W, X, D = _layered_case()
FWD = G.forward(W, X)


def _layered():
    return _layered_case()[0]


def _no_output():
    g = graph.Graph()
    g.input("x", 1)
    g.layer("y", "x", "W", width=1)
    return g


# (what, the graph it is called on, the call, the error, its message): construction
# first (on _base), then evaluation (on a layered graph; W, X, D, FWD are its arguments)
BAD_CALLS = [
    (
        "layer, bad activation",
        _base,
        lambda g: g.layer("k", "x", "W2", bias="b2", width=3, activation="tanhh"),
        ValueError,
        "`activation` must be one of",
    ),
    (
        "layer, existing name",
        _base,
        lambda g: g.layer("h", "x", "W2", width=3),
        ValueError,
        "`name` must be new",
    ),
    (
        "layer, unknown parent",
        _base,
        lambda g: g.layer("k", ["x", "nope"], ["W2", "W3"], width=3),
        ValueError,
        "`parents` must name a node declared before",
    ),
    (
        "layer, tie of another shape",
        _base,
        lambda g: g.layer("k", "h", ["W"], width=3),
        ValueError,
        "is shared and must keep shape",
    ),
    (
        "layer, one name for two shapes",
        _base,
        lambda g: g.layer("k", ["x", "h"], ["Q", "Q"], width=2),
        ValueError,
        "is shared and must keep shape",
    ),
    (
        "layer, bias named like the node",
        _base,
        lambda g: g.layer("k", "x", "W2", bias="k", width=3),
        ValueError,
        "is a node name",
    ),
    (
        "layer, weight named like a node",
        _base,
        lambda g: g.layer("k", "x", "h", width=3),
        ValueError,
        "is a node name",
    ),
    ("layer, no width", _base, lambda g: g.layer("k", "x", "W2"), TypeError, "width"),
    (
        "layer, width 0",
        _base,
        lambda g: g.layer("k", "x", "W2", width=0),
        ValueError,
        "`width` must be >= 1",
    ),
    (
        "layer, weight count",
        _base,
        lambda g: g.layer("k", ["x", "h"], "W2", width=2),
        ValueError,
        "`weights` must name one matrix per parent",
    ),
    (
        "layer, bias not a string",
        _base,
        lambda g: g.layer("k", "x", "W2", bias=3, width=2),
        TypeError,
        "`bias` must be a non-empty string",
    ),
    (
        "activation named like a parameter",
        _base,
        lambda g: g.activation("W", "h", "tanh"),
        ValueError,
        "`name` 'W' is a parameter name",
    ),
    (
        "activation, bad kind",
        _base,
        lambda g: g.activation("k", "h", "swish"),
        ValueError,
        "`kind` must be one of",
    ),
    (
        "add named like a parameter",
        _base,
        lambda g: g.add("b", ["h", "h"]),
        ValueError,
        "is a parameter name",
    ),
    (
        "add, one parent",
        _base,
        lambda g: g.add("k", ["h"]),
        ValueError,
        "at least two nodes",
    ),
    (
        "add, widths",
        _base,
        lambda g: g.add("k", ["h", "x"]),
        ValueError,
        "must have one width",
    ),
    (
        "mul named like a parameter",
        _base,
        lambda g: g.mul("W", "h", "h"),
        ValueError,
        "is a parameter name",
    ),
    (
        "maximum, unknown parent",
        _base,
        lambda g: g.maximum("k", "h", "nope"),
        ValueError,
        "`parents` must name a node declared before",
    ),
    (
        "input named like a parameter",
        _base,
        lambda g: g.input("b", 2),
        ValueError,
        "is a parameter name",
    ),
    (
        "input, bad width",
        _base,
        lambda g: g.input("u", 2.5),
        TypeError,
        "`width` must be an integer",
    ),
    (
        "input, no name",
        _base,
        lambda g: g.input(3, 2),
        TypeError,
        "`name` must be a non-empty string",
    ),
    (
        "output, second name unknown",
        _base,
        lambda g: g.output("a", "nope"),
        ValueError,
        "must name a node declared before",
    ),
    ("output, an input", _base, lambda g: g.output("x"), ValueError, "computed nodes"),
    (
        "output, again",
        _base,
        lambda g: g.output("h"),
        ValueError,
        "is an output already",
    ),
    ("output, nothing", _base, lambda g: g.output(), ValueError, "at least one node"),
    (
        "untie, not a parameter",
        _base,
        lambda g: g.untie("h"),
        ValueError,
        "`name` must be a parameter",
    ),
    (
        "untie, taken copy",
        _base,
        lambda g: g.untie("W", copies=["b"]),
        ValueError,
        "`copies` must be new names",
    ),
    (
        "untie, copy count",
        _base,
        lambda g: g.untie("W", copies=["P", "Q"]),
        ValueError,
        "`copies` must be 1 different names",
    ),
    (
        "input, existing name",
        _base,
        lambda g: g.input("x", 3),
        ValueError,
        "`name` must be new",
    ),
    (
        "layer, fractional width",
        _base,
        lambda g: g.layer("k", "x", "W2", width=2.5),
        TypeError,
        "`width` must be an integer",
    ),
    (
        "forward, weights near 1e200",
        _layered,
        lambda g: g.forward(_huge(W), X),
        ValueError,
        r"^`params` or `inputs` too large for float64: the forward pass overflows at "
        r"'x2' \(largest magnitudes: `params` 9\.21e\+199, `inputs` 1\); rescale them$",
    ),
    (
        "gradient, weights near 1e200",
        _layered,
        lambda g: g.gradient(_huge(W), X, D),
        ValueError,
        "too large for float64: the forward pass overflows",
    ),
    (
        "cost, weights near 1e200",
        _layered,
        lambda g: g.cost(_huge(W), X, D),
        ValueError,
        "too large for float64: the forward pass overflows",
    ),
    (
        "cost, targets near 1e200",
        _layered,
        lambda g: g.cost(W, X, {"x2": np.full((4, 1), 1e200)}),
        ValueError,
        r"too large for float64: the cost overflows \(.*`targets` 1e\+200\)",
    ),
    (
        "checkpointed, weights near 1e200",
        _layered,
        lambda g: g.checkpointed_gradient(_huge(W), X, D, checkpoints=1),
        ValueError,
        r"^`params`, `inputs` or `targets` too large for float64: the cost overflows",
    ),
    (
        "vjp, cotangents near 1e300",
        _layered,
        lambda g: g.vjp(_huge(W, 1e100), X, {"x2": np.full((4, 1), 1e300)}),
        ValueError,
        r"too large for float64: the costate pass overflows at '.*'",
    ),
    (
        "jvp, direction near 1e160",
        _layered,
        lambda g: g.jvp(_huge(W, 1e150), X, dparams=_huge(W, 1e160)),
        ValueError,
        r"too large for float64: the tangent pass overflows at '.*'",
    ),
    (
        "tangent, direction 1e308",
        _layered,
        lambda g: g.tangent(W, FWD, {**W, "W1": np.full((3, 2), 1e308)}),
        ValueError,
        r"too large for float64: the tangent pass overflows at '.*'",
    ),
    (
        "lagrange_function, multipliers near 1e300",
        _layered,
        lambda g: g.lagrange_function(
            W,
            {k: v + 1e10 for k, v in FWD.X.items()},
            {k: np.full_like(v, 1e300) for k, v in FWD.X.items()},
            D,
        ),
        ValueError,
        r"too large for float64: the Lagrange function overflows \(.*`B` 1e\+300\)",
    ),
    (
        "forward, params missing",
        _layered,
        lambda g: g.forward({"W1": W["W1"]}, X),
        ValueError,
        r"`params` must hold exactly \['W1', 'b1', 'W2', 'b2'\]; missing",
    ),
    (
        "forward, params a list",
        _layered,
        lambda g: g.forward([1], X),
        TypeError,
        "`params` must be a dict",
    ),
    (
        "forward, nan weight",
        _layered,
        lambda g: g.forward({**W, "W2": np.full((1, 3), np.nan)}, X),
        ValueError,
        r"`params\['W2'\]` must be finite",
    ),
    (
        "forward, complex input",
        _layered,
        lambda g: g.forward(W, {"x0": np.ones((4, 2)) * 1j}),
        TypeError,
        r"`inputs\['x0'\]` must be real",
    ),
    (
        "forward, 3-D input",
        _layered,
        lambda g: g.forward(W, {"x0": np.ones((1, 4, 2))}),
        ValueError,
        r"`inputs\['x0'\]` must be 2-D",
    ),
    (
        "gradient, targets rows",
        _layered,
        lambda g: g.gradient(W, X, {"x2": np.zeros((3, 1))}),
        ValueError,
        r"`targets\['x2'\]` must have 4 rows like the inputs",
    ),
    (
        "gradient, targets names",
        _layered,
        lambda g: g.gradient(W, X, {"x1": np.zeros((4, 3))}),
        ValueError,
        "`targets` must hold exactly the nodes",
    ),
    (
        "vjp, cotangents width",
        _layered,
        lambda g: g.vjp(W, X, {"x2": np.zeros((4, 2))}),
        ValueError,
        r"`cotangents\['x2'\]` must have 1 column",
    ),
    (
        "vjp, cotangents rows",
        _layered,
        lambda g: g.vjp(W, X, {"x2": np.zeros((5, 1))}),
        ValueError,
        r"`cotangents\['x2'\]` must have 4 rows like the inputs",
    ),
    (
        "jvp, no direction",
        _layered,
        lambda g: g.jvp(W, X),
        TypeError,
        "give at least one direction",
    ),
    (
        "jvp, dinputs shape",
        _layered,
        lambda g: g.jvp(W, X, dinputs={"x0": np.zeros((4, 3))}),
        ValueError,
        r"`dinputs\['x0'\]` must have 2 columns",
    ),
    (
        "jvp, dparams shape",
        _layered,
        lambda g: g.jvp(W, X, dparams={**W, "b1": np.zeros(2)}),
        ValueError,
        r"`dparams\['b1'\]` must have shape \(3,\)",
    ),
    (
        "tangent, dparams a list",
        _layered,
        lambda g: g.tangent(W, FWD, [1.0]),
        TypeError,
        "`dparams` must be a dict",
    ),
    (
        "costate, fwd a dict",
        _layered,
        lambda g: g.costate(W, {"x0": X}, D),
        TypeError,
        "`fwd` must be a GraphForward",
    ),
    (
        "lagrange_function, X a list",
        _layered,
        lambda g: g.lagrange_function(W, [1], {}, D),
        TypeError,
        "`X` and `B` must be dicts",
    ),
    (
        "init_params, scale 0",
        _layered,
        lambda g: g.init_params(scale=0.0),
        ValueError,
        "`scale` must be a finite number > 0",
    ),
    (
        "init_params, seed -1",
        _layered,
        lambda g: g.init_params(seed=-1),
        ValueError,
        "`seed` must be >= 0",
    ),
    (
        "init_params, positional",
        _layered,
        lambda g: g.init_params(1),
        TypeError,
        "positional",
    ),
    (
        "untie params, no tied name",
        _layered,
        lambda g: g.untie("W1").params({"b1": 1}),
        ValueError,
        "`params` must hold the tied parameter 'W1'",
    ),
    (
        "width, unknown node",
        _layered,
        lambda g: g.width("x9"),
        ValueError,
        "`name` must name a node declared before",
    ),
    (
        "named_params, not pairs",
        _layered,
        lambda g: graph.named_params([(1, 2, 3)]),
        ValueError,
        r"`params\[0\]` must be a pair",
    ),
    ("layered, one size", _layered, lambda g: graph.layered([3]), ValueError, "sizes"),
    (
        "forward, weight of another shape",
        _layered,
        lambda g: g.forward({**W, "W1": np.zeros((2, 3))}, X),
        ValueError,
        r"`params\['W1'\]` must have shape \(3, 2\)",
    ),
    (
        "forward, input width",
        _layered,
        lambda g: g.forward(W, {"x0": np.zeros((4, 3))}),
        ValueError,
        r"`inputs\['x0'\]` must have 2 columns",
    ),
    (
        "forward, input names",
        _layered,
        lambda g: g.forward(W, {"x1": np.zeros((4, 3))}),
        ValueError,
        "`inputs` must hold exactly the nodes",
    ),
    (
        "costate, a state of another width",
        _layered,
        lambda g: g.costate(
            W, graph.GraphForward(X={**FWD.X, "x1": np.zeros((4, 2))}, A=FWD.A), D
        ),
        ValueError,
        r"`fwd.X\['x1'\]` must have 3 columns",
    ),
    (
        "tangent, fwd.A empty",
        _layered,
        lambda g: g.tangent(W, graph.GraphForward(X=FWD.X, A={}), W),
        ValueError,
        r"`fwd.A` must hold every node of \['x1', 'x2'\], missing",
    ),
    (
        "constraint_jacobian, an infinite state",
        _layered,
        lambda g: g.constraint_jacobian(
            W, graph.GraphForward(X={**FWD.X, "x2": np.full((4, 1), np.inf)}, A=FWD.A)
        ),
        ValueError,
        r"`fwd.X\['x2'\]` must be finite",
    ),
    (
        "cost, no output",
        _no_output,
        lambda g: g.cost({"W": np.ones((1, 1))}, {"x": np.ones((1, 1))}, {}),
        ValueError,
        "no output",
    ),
]


@pytest.mark.parametrize(
    "what, make, call, error, match", BAD_CALLS, ids=[b[0] for b in BAD_CALLS]
)
def test_a_bad_call_raises_and_leaves_the_graph_unchanged(
    what, make, call, error, match
):
    g = make()
    before = _state(g)
    with pytest.raises(error, match=match):
        call(g)
    assert _state(g) == before
    # and the graph still evaluates with exactly its own parameters
    w = g.init_params(seed=0)
    assert set(w) == set(before[1])
    if g.outputs:
        x = {n: np.ones((1, g.width(n))) for n in g._input_names()}
        C, _ = g.gradient(w, x, {o: np.zeros((1, g.width(o))) for o in g.outputs})
        assert np.isfinite(C)


def test_saturating_layers_at_large_weights_are_finite_not_errors():
    """tanh of a huge but finite sum is 1 with derivative 0: no overflow, no error."""
    g = graph.layered([2, 3, 1], activation="tanh")
    w = graph.named_params(mlp.init_params([2, 3, 1], seed=1))
    w = {**w, "W1": 1e200 * w["W1"]}
    C, G_ = g.gradient(w, {"x0": np.ones((2, 2))}, {"x2": np.zeros((2, 1))})
    assert np.isfinite(C) and all(np.all(np.isfinite(v)) for v in G_.values())
    assert np.all(G_["W1"] == 0.0)
