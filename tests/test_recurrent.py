"""Tests of lagprop.recurrent: fixed points, the Pineda-Almeida costate, BPTT, stability, EP."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lagprop
from lagprop import recurrent as rc
from lagprop.gradcheck import central_difference, dot_product_test, relative_error


def contractive(n, seed, radius=0.6, m=None):
    """A random network with spectral radius `radius` (so rho(F'(A) W) < radius for tanh)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, n))
    W *= radius / rc.spectral_radius(W)
    u = rng.standard_normal(n)
    m = m or max(1, n // 2)
    out = np.sort(rng.choice(n, size=m, replace=False))
    d = rng.uniform(-0.8, 0.8, m)
    return W, u, d, out


def fd_gradient(W, u, d, out, activation="tanh"):
    return central_difference(lambda Wp: rc.cost(rc.fixed_point(Wp, u, activation=activation), d, out),
                              W, h=1e-5)


# ----------------------------------------------------------------------------- fixed point
def test_fixed_point_satisfies_equation_and_matches_ode():
    W, u, _, _ = contractive(6, 1)
    x = rc.fixed_point(W, u)
    assert np.max(np.abs(x - np.tanh(W @ x + u))) < 1e-12
    traj = rc.state_ode(W, u, t_end=60.0)
    assert np.max(np.abs(traj.y[-1] - x)) < 1e-8


def test_damped_relaxation_converges_where_simple_iteration_fails():
    # J = W (u = 0, x = 0) with eigenvalues -1.5 +- 0.5 i: stable in continuous time (Re < 1),
    # but rho > 1, so the simple iteration oscillates away from 0 while the damped one converges
    W = np.array([[-1.5, 0.5], [-0.5, -1.5]])
    s = rc.spectra(W, np.zeros(2), x=np.zeros(2))
    assert s.radius > 1 and s.abscissa < 1
    u = np.array([0.3, -0.2])
    with pytest.raises(lagprop.ConvergenceError, match="spectral radius"):
        rc.fixed_point(W, u, max_iter=500)
    fp = rc.relax(W, u, damping=0.3)
    assert np.max(np.abs(fp.x - np.tanh(W @ fp.x + u))) < 1e-11
    co = rc.costate(W, u, fp.x, [0.5], [0], damping=0.3)
    ref = rc.costate(W, u, fp.x, [0.5], [0], method="solve")
    assert relative_error(co.B, ref.B) < 1e-9
    with pytest.raises(lagprop.ConvergenceError, match="not a contraction: use damping < 1"):
        rc.costate(W, u, fp.x, [0.5], [0], max_iter=500)


# -------------------------------------------------------------------------- three methods
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_three_methods_agree_with_central_differences(activation):
    W, u, d, out = contractive(7, 3)
    C1, g1 = rc.gradient(W, u, d, out, activation=activation, method="relaxation")
    C2, g2 = rc.gradient(W, u, d, out, activation=activation, method="solve")
    C3, g3 = rc.gradient(W, u, d, out, activation=activation, method="bptt", steps=150)
    gfd = fd_gradient(W, u, d, out, activation)
    assert abs(C1 - C2) < 1e-12 and abs(C1 - C3) < 1e-10
    assert relative_error(g1, g2) < 1e-8
    assert relative_error(g1, g3) < 1e-8
    assert relative_error(g2, gfd) < 1e-8


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 9), seed=st.integers(0, 10_000), radius=st.floats(0.1, 0.8))
def test_methods_agree_property(n, seed, radius):
    W, u, d, out = contractive(n, seed, radius)
    _, g1 = rc.gradient(W, u, d, out)
    _, g2 = rc.gradient(W, u, d, out, method="solve")
    _, g3 = rc.gradient(W, u, d, out, method="bptt", steps=200)
    assert relative_error(g1, g2) < 1e-8
    assert relative_error(g1, g3) < 1e-8


def test_bptt_is_exact_gradient_of_unrolled_cost():
    W, u, d, out = contractive(5, 4, radius=1.5)  # need not be contractive for a finite unroll
    K = 6
    C, g = rc.bptt(W, u, d, out, steps=K)

    def cost_K(Wp):
        x = np.zeros(5)
        for _ in range(K):
            x = np.tanh(Wp @ x + u)
        return rc.cost(x, d, out)

    assert abs(C - cost_K(W)) < 1e-14
    assert relative_error(g, central_difference(cost_K, W, h=1e-5)) < 1e-8


def test_bptt_error_rate_matches_spectral_radius():
    W, u, d, out = contractive(8, 5, radius=0.7)
    _, g = rc.gradient(W, u, d, out, method="solve")
    rho = rc.spectra(W, u).radius
    Ks = np.arange(10, 41, 5)
    err = [relative_error(rc.bptt(W, u, d, out, steps=int(K))[1], g) for K in Ks]
    # error ~ K rho^K: fit log(err / K) = K log(rate) + c
    slope = np.polyfit(Ks, np.log(np.array(err) / Ks), 1)[0]
    assert abs(np.exp(slope) - rho) < 0.05


def test_costate_is_negative_gradient_and_ode_limit():
    W, u, d, out = contractive(6, 6)
    x = rc.fixed_point(W, u)
    co = rc.costate(W, u, x, d, out)
    A = W @ x + u
    assert np.allclose(co.Y, (1 - np.tanh(A) ** 2) * co.B, rtol=0, atol=1e-15)
    # B = -dC/dX: perturb the state by an additive input e_i on x = F(Wx + u) + e -> dC/de = -B
    dCde = central_difference(
        lambda e: rc.cost(_fp_shift(W, u, e), d, out), np.zeros(6), h=1e-6)
    assert relative_error(-co.B, dCde) < 1e-8
    for var, ref in (("B", co.B), ("Y", co.Y)):
        traj = rc.costate_ode(W, u, x, d, out, variable=var, t_end=80.0)
        assert relative_error(traj.y[-1], ref) < 1e-8


def _fp_shift(W, u, e):
    x = np.zeros_like(u)
    for _ in range(500):
        x = np.tanh(W @ x + u) + e
    return x


def test_costate_relaxation_operator_is_transpose():
    W, u, _, _ = contractive(6, 7)
    x = rc.fixed_point(W, u)
    dF = 1 - np.tanh(W @ x + u) ** 2
    err = dot_product_test(lambda v: dF * (W @ v), lambda b: W.T @ (dF * b), (6,), (6,))
    assert err < 1e-13
    s = rc.spectra(W, u, x=x)
    assert np.allclose(np.sort_complex(s.forward), np.sort_complex(s.backward), atol=1e-12)


# --------------------------------------------------------------------- failure diagnosis
def test_unstable_network_raises_with_diagnosis():
    rng = np.random.default_rng(9)
    W = 3.0 * rng.standard_normal((8, 8)) / np.sqrt(8)
    u = rng.standard_normal(8)
    with pytest.raises(lagprop.ConvergenceError, match="spectral radius") as exc:
        rc.gradient(W, u, [0.1], [0], max_iter=2000)
    assert exc.value.iterations == 2000 and exc.value.spectral_radius > 1
    assert "damping < 1" in str(exc.value)  # stable in continuous time: the damped relaxation works
    fp = rc.relax(W, u, damping=0.2)
    assert rc.spectra(W, u, x=fp.x).abscissa < 1
    # x = 0 is a fixed point for u = 0, but unstable: the costate relaxation diverges
    with pytest.raises(lagprop.ConvergenceError, match="spectral radius of the iteration.*unstable") as exc:
        rc.gradient(W, np.zeros(8), [0.1], [0])
    assert exc.value.spectral_radius == pytest.approx(rc.spectral_radius(W))
    assert exc.value.residual > 1e10


def test_checker_rejects_wrong_gradient():
    W, u, d, out = contractive(5, 9)
    _, g = rc.gradient(W, u, d, out, method="solve")
    wrong = g.copy()
    wrong[0, 0] *= 1.001
    assert relative_error(wrong, fd_gradient(W, u, d, out)) > 1e-6


# --------------------------------------------------------------------------- Hamiltonian
def test_hamiltonian_partials_and_footnote5():
    W, u, d, out = contractive(5, 10)
    rng = np.random.default_rng(11)
    x, B = rng.uniform(-0.9, 0.9, 5), rng.standard_normal(5)
    Hx, HB = rc.hamiltonian_partials(W, u, x, B, d, out)
    fx = central_difference(lambda z: rc.hamiltonian(W, u, z, B, d, out), x, h=1e-6)
    fB = central_difference(lambda z: rc.hamiltonian(W, u, x, z, d, out), B, h=1e-6)
    assert relative_error(Hx, fx) < 1e-8 and relative_error(HB, fB) < 1e-8
    # the relaxations: dX/dt = -dH/dB and, with F'(A) at this X, dB/dt = -dH/dX
    dF = 1 - np.tanh(W @ x + u) ** 2
    assert np.allclose(np.tanh(W @ x + u) - x, -HB)
    assert np.allclose(-B + W.T @ (dF * B) - rc.cost_gradient(x, d, out), -Hx)


# ---------------------------------------------------------------------------- training
def test_training_decreases_loss_and_methods_agree():
    rng = np.random.default_rng(12)
    n, P = 6, 3
    W0 = 0.1 * rng.standard_normal((n, n))
    U = rng.standard_normal((P, n))
    D = rng.uniform(-0.5, 0.5, (P, 2))
    tr = rc.train(W0, U, D, [4, 5], lr=0.05, epochs=40)
    assert tr.loss[-1] < 0.5 * tr.loss[0]
    assert tr.W_history.shape == (41, n, n) and tr.loss.shape == (41,)
    tr2 = rc.train(W0, U, D, [4, 5], lr=0.05, epochs=40, method="solve")
    assert relative_error(tr.W, tr2.W) < 1e-8
    # one step equals the summed single-pattern gradients
    g = sum(rc.gradient(W0, U[p], D[p], [4, 5], method="solve")[1] for p in range(P))
    assert relative_error(tr.W_history[1], W0 - 0.05 * g) < 1e-9


# ---------------------------------------------------------------- equilibrium propagation
def test_equilibrium_propagation_tends_to_recurrent_backprop():
    rng = np.random.default_rng(13)
    n = 6
    S = rng.standard_normal((n, n))
    S = (S + S.T) / 2
    S *= 0.5 / rc.spectral_radius(S)
    u = rng.standard_normal(n)
    out, d = [4, 5], [0.3, -0.4]
    _, g = rc.gradient(S, u, d, out, method="solve")
    x = rc.fixed_point(S, u)
    Y = rc.costate(S, u, x, d, out, method="solve").Y
    betas = np.array([1e-1, 1e-2, 1e-3])
    errs = []
    for b in betas:
        ep = rc.equilibrium_propagation(S, u, d, out, beta=b)
        errs.append(relative_error(ep.grad_W, (g + g.T) / 2))
        assert relative_error(ep.grad_u, -Y) < 5 * b
    order = np.polyfit(np.log(betas), np.log(errs), 1)[0]
    assert abs(order - 1) < 0.1
    # the free phase is a stationary point of the Hopfield energy
    gE = central_difference(lambda z: rc.hopfield_energy(S, u, z), x, h=1e-6)
    assert np.max(np.abs(gE)) < 1e-8


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(W=np.ones((3, 2))), "square"),
        (dict(u=np.ones(4)), r"`u` must have shape \(3,\)"),
        (dict(outputs=[3]), r"`outputs` must hold indices in \[0, 2\]"),
        (dict(outputs=[-1]), "`outputs` must hold indices"),
        (dict(outputs=[0, 0], targets=[1.0, 1.0]), "must not repeat"),
        (dict(outputs=[0.5]), "integer indices"),
        (dict(outputs=np.array([True, False])), "boolean mask"),
        (dict(targets=[1.0, 2.0]), "one entry per output"),
        (dict(u=np.array([0.0, np.nan, 0.0])), "`u` must be finite"),
        (dict(W=np.full((3, 3), np.inf)), "`W` must be finite"),
        (dict(method="newton"), "`method` must be one of"),
        (dict(method="bptt"), "`steps` must be given"),
        (dict(method="bptt", steps=0), "`steps` must be >= 1"),
    ],
)
def test_bad_input_raises(kwargs, match):
    args = dict(W=0.1 * np.eye(3), u=np.zeros(3), targets=[0.5], outputs=[2])
    args.update(kwargs)
    kw = {k: args.pop(k) for k in ("method", "steps") if k in args}
    with pytest.raises(ValueError, match=match):
        rc.gradient(args["W"], args["u"], args["targets"], args["outputs"], **kw)


def test_bad_input_other_functions():
    W, u = 0.1 * np.eye(3), np.zeros(3)
    with pytest.raises(ValueError, match="`damping` must be in"):
        rc.relax(W, u, damping=1.5)
    with pytest.raises(ValueError, match="symmetric"):
        rc.equilibrium_propagation(np.triu(np.ones((3, 3))), u, [0.1], [0], beta=0.1)
    with pytest.raises(ValueError, match="`targets` must have shape"):
        rc.train(W, np.zeros((2, 3)), np.zeros((3, 1)), [0], lr=0.1, epochs=1)
    with pytest.raises(ValueError, match="`x` must have shape"):
        rc.costate(W, u, np.zeros(2), [0.1], [0])
    with pytest.raises(ValueError, match="`variable`"):
        rc.costate_ode(W, u, np.zeros(3), [0.1], [0], variable="X")


# ----------------------------------------------------------------- helpers of the chapter
def test_newton_finds_unstable_fixed_point_that_relaxation_misses():
    rng = np.random.default_rng(16)
    W = 3.0 * rng.standard_normal((8, 8)) / np.sqrt(8)
    u = rng.standard_normal(8)
    x_relax = rc.relax(W, u, damping=0.2).x
    assert rc.spectra(W, u, x=x_relax).abscissa < 1
    fp = rc.newton(W, u)  # from x = 0 Newton lands on another, unstable, fixed point
    assert fp.residual < 1e-10 and np.max(np.abs(fp.x - x_relax)) > 0.5
    assert rc.spectra(W, u, x=fp.x).abscissa > 1
    with pytest.raises(lagprop.ConvergenceError, match="unstable"):
        rc.costate(W, u, fp.x, [0.2], [1], damping=0.1, max_iter=5000)
    assert np.max(np.abs(fp.x - np.tanh(W @ fp.x + u))) < 1e-10
    # the solve still gives the implicit-function gradient at any fixed point with I - J invertible
    co = rc.costate(W, u, fp.x, [0.2], [1], method="solve")
    dF = 1 - np.tanh(W @ fp.x + u) ** 2
    assert np.allclose(co.B - W.T @ (dF * co.B), -rc.cost_gradient(fp.x, [0.2], [1]))


def test_completion_task_and_training_methods():
    task = rc.completion_task(10, 2, cues_per_pattern=3, n_hidden=3, seed=4)
    assert task.U.shape == (6, 10) and task.D.shape == (6, 10)
    assert np.all(task.U[task.hidden] == 0) and np.all(task.hidden.sum(axis=1) == 3)
    assert np.all(np.abs(task.U[~task.hidden]) == 1)
    again = rc.completion_task(10, 2, cues_per_pattern=3, n_hidden=3, seed=5, patterns=task.patterns)
    assert np.array_equal(again.patterns, task.patterns)
    assert rc.completion_error(np.zeros((10, 10)), task) == 1.0
    W0 = np.zeros((10, 10))
    kw = dict(lr=0.002, epochs=20)
    a = rc.train(W0, task.U, task.D, np.arange(10), **kw)
    b = rc.train(W0, task.U, task.D, np.arange(10), method="bptt", steps=300, **kw)
    c = rc.train(W0, task.U, task.D, np.arange(10), damping=0.5, **kw)
    assert relative_error(a.W, b.W) < 1e-8 and relative_error(a.W, c.W) < 1e-8
    with pytest.raises(ValueError, match="`n_hidden` must be < n"):
        rc.completion_task(4, 1, n_hidden=4)


def test_time_methods_smoke():
    t = rc.time_methods([4, 6], repeats=1)
    assert set(t) == set(rc.METHODS) and all(v.shape == (2,) and np.all(v > 0) for v in t.values())


# ------------------------------------------------------------------------------ method="auto"
def test_auto_gives_the_exact_gradient_and_picks_by_cost():
    rng = np.random.default_rng(11)
    for n in (8, 400):
        W = rng.standard_normal((n, n)) * (0.5 / np.sqrt(n))
        u = rng.standard_normal(n)
        out, d = np.arange(3), np.array([0.2, -0.1, 0.4])
        C_a, g_a = rc.gradient(W, u, d, out, method="auto")
        C_s, g_s = rc.gradient(W, u, d, out, method="solve")
        assert C_a == pytest.approx(C_s, rel=1e-12)
        assert relative_error(g_a, g_s) < 1e-9
    # few iterations per unit favour the relaxation; many favour the direct solve
    assert rc.choose_method(400, 30) == "relaxation"
    assert rc.choose_method(8, 30) == "solve"
    assert rc.choose_method(400, 200) == "solve"
    with pytest.raises(ValueError, match="`forward_iterations`"):
        rc.choose_method(10, -1)
    with pytest.raises(ValueError, match="`method` must be one of .*'auto'"):
        rc.gradient(np.zeros((2, 2)), np.zeros(2), [0.0], [0], method="newton")
