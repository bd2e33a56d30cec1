"""Tests of lagprop.recurrent: fixed points, the Pineda-Almeida costate, BPTT, stability, EP."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lagprop
from lagprop import datasets, recurrent as rc
from lagprop.gradcheck import central_difference, dot_product_test, jacobian, relative_error


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
    with pytest.raises(lagprop.ConvergenceError) as exc:
        rc.fixed_point(W, u, max_iter=500)
    assert "spectral radius" in exc.value.diagnosis and exc.value.spectral_radius > 1
    fp = rc.relax(W, u, damping=0.3)
    assert np.max(np.abs(fp.x - np.tanh(W @ fp.x + u))) < 1e-11
    co = rc.costate(W, u, fp.x, [0.5], [0], damping=0.3)
    ref = rc.costate(W, u, fp.x, [0.5], [0], method="solve")
    assert relative_error(co.B, ref.B) < 1e-9
    with pytest.raises(lagprop.ConvergenceError) as exc:
        rc.costate(W, u, fp.x, [0.5], [0], max_iter=500)
    assert "not a contraction there: use damping < 1" in exc.value.diagnosis


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


def test_costate_relaxation_is_the_transpose_of_the_fixed_points_tangent():
    # x(u) = F(W x + u) has the tangent J_u = (I - F'(A) W)^{-1} F'(A), measured here by central
    # differences of fixed_point; the costate relaxation with grad C = -b (targets x + b/2 on every
    # unit) returns Y = F'(A) (I - W^T F'(A))^{-1} b, which must be J_u^T b
    W, u, _, _ = contractive(6, 7)
    x = rc.fixed_point(W, u)
    J_u = jacobian(lambda z: rc.fixed_point(W, z), u, h=1e-6)
    every = np.arange(6)

    def vjp(b):
        return rc.costate(W, u, x, x + b / 2, every).Y

    assert dot_product_test(lambda v: J_u @ v, vjp, (6,), (6,)) < 1e-8
    # and a plausible slip, W for W^T in the relaxation, fails the same test
    dF = 1 - np.tanh(W @ x + u) ** 2
    wrong = lambda b: dF * np.linalg.solve(np.eye(6) - W * dF[None, :], b)  # noqa: E731
    assert dot_product_test(lambda v: J_u @ v, wrong, (6,), (6,)) > 1e-3
    s = rc.spectra(W, u, x=x)
    assert np.allclose(np.sort_complex(s.forward), np.sort_complex(s.backward), atol=1e-12)


# --------------------------------------------------------------------- failure diagnosis
def test_unstable_network_raises_with_diagnosis():
    rng = np.random.default_rng(9)
    W = 3.0 * rng.standard_normal((8, 8)) / np.sqrt(8)
    u = rng.standard_normal(8)
    with pytest.raises(lagprop.ConvergenceError) as exc:
        rc.gradient(W, u, [0.1], [0], max_iter=2000)
    assert "spectral radius" in exc.value.diagnosis
    assert exc.value.iterations == 2000 and exc.value.spectral_radius > 1
    assert "damping < 1" in exc.value.diagnosis  # stable in continuous time: the damped relaxation works
    fp = rc.relax(W, u, damping=0.2)
    assert rc.spectra(W, u, x=fp.x).abscissa < 1
    # x = 0 is a fixed point for u = 0, but unstable: the costate relaxation diverges
    with pytest.raises(lagprop.ConvergenceError) as exc:
        rc.gradient(W, np.zeros(8), [0.1], [0])
    assert re.search("spectral radius of the iteration.*unstable", exc.value.diagnosis)
    assert exc.value.spectral_radius == pytest.approx(rc.spectral_radius(W))
    assert exc.value.residual > 1e10


def _bptt_by_hand(W, u, d, out, K, shift=0):
    """K unrolled steps and their reverse pass; shift=1 pairs Y_k with x_k (an index off by one)."""
    xs, As = [np.zeros_like(u)], [None]
    for _ in range(K):
        As.append(W @ xs[-1] + u)
        xs.append(np.tanh(As[-1]))
    B = np.zeros_like(u)
    B[out] = 2 * (d - xs[-1][out])
    g = np.zeros_like(W)
    for k in range(K, 0, -1):
        Y = (1 - np.tanh(As[k]) ** 2) * B
        g -= np.outer(Y, xs[k - 1 + shift])
        B = W.T @ Y
    return g


def test_checker_rejects_plausibly_wrong_gradients():
    W, u, d, out = contractive(5, 9)
    fd = fd_gradient(W, u, d, out)
    _, g = rc.gradient(W, u, d, out, method="solve")
    assert relative_error(g, fd) < 1e-7
    x = rc.fixed_point(W, u)
    dF = 1 - np.tanh(W @ x + u) ** 2
    G = rc.cost_gradient(x, d, out)
    misprint = dF * np.linalg.solve(np.eye(5) - W * dF[None, :], -G)  # W for W^T
    transposed = np.outer(x, rc.costate(W, u, x, d, out, method="solve").Y)  # -(Y x^T)^T, sign kept
    for wrong in (-np.outer(misprint, x), -transposed, g.T):
        assert relative_error(wrong, fd) > 1e-2
    # BPTT over K steps, with the right pairing and with Y_k paired to x_k instead of x_{k-1}
    K = 4
    fd_K = central_difference(lambda Wp: rc.bptt(Wp, u, d, out, steps=K)[0], W, h=1e-6)
    assert relative_error(rc.bptt(W, u, d, out, steps=K)[1], fd_K) < 1e-8
    assert relative_error(_bptt_by_hand(W, u, d, out, K), fd_K) < 1e-8
    assert relative_error(_bptt_by_hand(W, u, d, out, K, shift=1), fd_K) > 1e-2


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


def test_completion_error_counts_only_the_hidden_units():
    task = datasets.completion_task(10, 2, cues_per_pattern=3, n_hidden=3, seed=4)
    assert rc.completion_error(np.zeros((10, 10)), task) == 1.0  # W = 0: x = tanh(u) = 0 on hidden
    # a network that fills in every hidden unit: W = c * sum of outer products (Hebb)
    W = 0.5 * task.patterns.T @ task.patterns / 10
    assert rc.completion_error(W, task) == 0.0
    # wrong signs on the shown units do not count; wrong hidden ones count once each
    flipped = datasets.CompletionTask(patterns=task.patterns, U=-task.U, D=task.D, label=task.label,
                                      hidden=task.hidden)
    x = rc.relax(W, flipped.U[0]).x
    wrong_hidden = np.sum((np.sign(x) != task.patterns[task.label[0]]) & task.hidden[0])
    per_cue = [np.sum((np.sign(rc.relax(W, flipped.U[p]).x) != task.patterns[task.label[p]])
                      & task.hidden[p]) for p in range(6)]
    assert rc.completion_error(W, flipped) == pytest.approx(sum(per_cue) / task.hidden.sum())
    assert wrong_hidden <= 3


def test_training_methods_agree_on_the_completion_task():
    task = datasets.completion_task(10, 2, cues_per_pattern=3, n_hidden=3, seed=4)
    W0 = np.zeros((10, 10))
    kw = dict(lr=0.002, epochs=20)
    a = rc.train(W0, task.U, task.D, np.arange(10), **kw)
    b = rc.train(W0, task.U, task.D, np.arange(10), method="bptt", steps=300, **kw)
    c = rc.train(W0, task.U, task.D, np.arange(10), damping=0.5, **kw)
    d = rc.train(W0, task.U, task.D, np.arange(10), method="auto", **kw)
    assert relative_error(a.W, b.W) < 1e-8 and relative_error(a.W, c.W) < 1e-8
    assert relative_error(a.W, d.W) < 1e-8


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


def test_auto_switches_at_a_quarter_of_an_iteration_per_unit():
    # the constant measured in benchmarks/results.md: relaxation below 0.25 n forward iterations
    assert rc.AUTO_ITERATIONS_PER_UNIT == 0.25
    for n in (8, 40, 400):
        k = int(np.ceil(0.25 * n))
        assert rc.choose_method(n, k - 1) == "relaxation"
        assert rc.choose_method(n, k) == "solve"
    # gradient(method="auto") follows the same rule with the forward pass's own count
    W, u, d, out = contractive(200, 2, radius=0.3)
    it = rc.relax(W, u).iterations
    assert 10 < it < 50 and rc.choose_method(200, it) == "relaxation"
    C_a, g_a = rc.gradient(W, u, d, out, method="auto")
    C_r, g_r = rc.gradient(W, u, d, out, method="relaxation")
    assert C_a == C_r and np.array_equal(g_a, g_r)  # the same computation, not only close


def test_gradient_accepts_the_damping_its_error_recommends():
    W = np.array([[-1.5, 0.5], [-0.5, -1.5]])
    u = np.array([0.3, -0.2])
    with pytest.raises(lagprop.ConvergenceError) as exc:
        rc.gradient(W, u, [0.5], [0], max_iter=500)
    assert "damping < 1" in exc.value.diagnosis
    C, g = rc.gradient(W, u, [0.5], [0], damping=0.3)
    C_s, g_s = rc.gradient(W, u, [0.5], [0], method="solve", damping=0.3)
    fd = central_difference(lambda Wp: rc.cost(rc.relax(Wp, u, damping=0.3).x, [0.5], [0]), W, h=1e-6)
    assert C == pytest.approx(C_s, rel=1e-12)
    assert relative_error(g, g_s) < 1e-9 and relative_error(g, fd) < 1e-7


def test_a_singular_direct_solve_is_a_convergence_error_with_the_diagnosis():
    # identity units, W with eigenvalue 1: I - W^T F'(A) = I - W^T is singular
    W = np.array([[1.0, 0.0], [0.0, 0.5]])
    x = np.zeros(2)
    with pytest.raises(lagprop.ConvergenceError) as exc:
        rc.costate(W, np.zeros(2), x, [0.5], [0], activation="identity", method="solve")
    assert "singular" in exc.value.diagnosis and exc.value.spectral_radius == pytest.approx(1.0)
    assert all(len(line) <= 88 for line in str(exc.value).splitlines())


def test_odes_reject_tolerances_that_would_hang_scipy_and_report_overflow():
    W, u, d, out = contractive(3, 1)
    x = rc.fixed_point(W, u)
    traj = rc.state_ode(W, u, t_end=5.0, t_eval=[0.0, 2.5, 5.0])
    np.testing.assert_array_equal(traj.t, [0.0, 2.5, 5.0])
    # an exponentially growing linear flow overflows float64: an error, not inf
    with pytest.raises(lagprop.ConvergenceError, match="integration"):
        rc.state_ode(800.0 * np.eye(3), u, activation="identity", t_end=1.0, x0=np.ones(3))
    assert rc.costate_ode(W, u, x, d, out, t_end=1.0).y.shape[1] == 3


def test_a_diverging_training_says_so():
    rng = np.random.default_rng(3)
    W0 = 0.1 * rng.standard_normal((3, 3))
    with pytest.raises(lagprop.ConvergenceError, match="diverged|did not converge"):
        rc.train(W0, rng.standard_normal((2, 3)), rng.standard_normal((2, 1)), [0], lr=1e300,
                 epochs=3, activation="identity", method="solve")


_W, _u, _d, _out = contractive(3, 1, m=1)
_x = rc.fixed_point(_W, _u)
_BAD_ALL = [
    ("relax: W complex", lambda: rc.relax(_W + 0j, _u), TypeError, "`W` must be real"),
    ("relax: damping 0", lambda: rc.relax(_W, _u, damping=0.0), ValueError, "`damping` must be a finite number > 0"),
    ("relax: damping nan", lambda: rc.relax(_W, _u, damping=np.nan), ValueError, "`damping`"),
    ("relax: tol nan", lambda: rc.relax(_W, _u, tol=np.nan), ValueError, "`tol` must be a finite number > 0, got nan"),
    ("relax: tol -1", lambda: rc.relax(_W, _u, tol=-1.0), ValueError, "`tol` must be a finite number > 0"),
    ("relax: max_iter float", lambda: rc.relax(_W, _u, max_iter=10.0), TypeError, "`max_iter` must be an integer"),
    ("relax: x0", lambda: rc.relax(_W, _u, x0=np.zeros(2)), ValueError, r"`x0` must have shape \(3,\)"),
    ("relax: activation", lambda: rc.relax(_W, _u, activation=None), TypeError, "`activation` must be a string"),
    ("fixed_point: W None", lambda: rc.fixed_point(None, _u), TypeError, "`W` must be array-like"),
    ("fixed_point: W empty", lambda: rc.fixed_point(np.zeros((0, 0)), _u), ValueError, "non-empty square"),
    ("newton: tol", lambda: rc.newton(_W, _u, tol=0), ValueError, "`tol` must be a finite number > 0"),
    ("costate: method", lambda: rc.costate(_W, _u, _x, _d, _out, method="bptt"), ValueError, "`method` must be one of 'relaxation', 'solve'"),
    ("costate: method None", lambda: rc.costate(_W, _u, _x, _d, _out, method=None), TypeError, "`method` must be one of"),
    ("costate: x nan", lambda: rc.costate(_W, _u, _x * np.nan, _d, _out), ValueError, "`x` must be finite"),
    ("costate: outputs None", lambda: rc.costate(_W, _u, _x, _d, None), ValueError, "`outputs`"),
    ("gradient: damping 2", lambda: rc.gradient(_W, _u, _d, _out, damping=2.0), ValueError, r"`damping` must be in \(0, 1\]"),
    ("gradient: steps float", lambda: rc.gradient(_W, _u, _d, _out, method="bptt", steps=2.5), TypeError, "`steps` must be an integer"),
    ("bptt: steps 0", lambda: rc.bptt(_W, _u, _d, _out, steps=0), ValueError, "`steps` must be >= 1"),
    ("choose: n 0", lambda: rc.choose_method(0, 1), ValueError, "`n` must be >= 1"),
    ("cost: x 2-D", lambda: rc.cost(np.zeros((3, 1)), _d, _out), ValueError, "`x` must be 1-D"),
    ("cost_gradient: targets", lambda: rc.cost_gradient(_x, [1.0, 2.0], _out), ValueError, "one entry per output"),
    ("spectra: x", lambda: rc.spectra(_W, _u, x=np.zeros(4)), ValueError, r"`x` must have shape \(3,\)"),
    ("spectral_radius: shape", lambda: rc.spectral_radius(np.ones((2, 3))), ValueError, "`M` must be a non-empty square"),
    ("spectral_radius: nan", lambda: rc.spectral_radius(np.full((2, 2), np.nan)), ValueError, "`M` must be finite"),
    ("hamiltonian: B", lambda: rc.hamiltonian(_W, _u, _x, np.zeros(2), _d, _out), ValueError, r"`B` must have shape \(3,\)"),
    ("partials: x", lambda: rc.hamiltonian_partials(_W, _u, None, _x, _d, _out), TypeError, "`x` must be array-like"),
    ("state_ode: rtol nan", lambda: rc.state_ode(_W, _u, rtol=np.nan), ValueError, "`rtol` must be a finite number > 0, got nan"),
    ("state_ode: rtol -1", lambda: rc.state_ode(_W, _u, rtol=-1.0), ValueError, "`rtol` must be a finite number > 0"),
    ("state_ode: rtol tiny", lambda: rc.state_ode(_W, _u, rtol=1e-20), ValueError, "`rtol` must be >="),
    ("state_ode: atol nan", lambda: rc.state_ode(_W, _u, atol=np.nan), ValueError, "`atol` must be a finite number > 0"),
    ("state_ode: t_end inf", lambda: rc.state_ode(_W, _u, t_end=np.inf), ValueError, "`t_end` must be a finite number > 0"),
    ("state_ode: tau 0", lambda: rc.state_ode(_W, _u, tau=0.0), ValueError, "`tau` must be a finite number > 0"),
    ("state_ode: t_eval nan", lambda: rc.state_ode(_W, _u, t_eval=[0.0, np.nan]), ValueError, "`t_eval` must be finite"),
    ("state_ode: t_eval order", lambda: rc.state_ode(_W, _u, t_eval=[1.0, 0.5]), ValueError, "`t_eval` must be a non-empty increasing"),
    ("state_ode: t_eval range", lambda: rc.state_ode(_W, _u, t_end=1.0, t_eval=[0.0, 2.0]), ValueError, r"`t_eval` must lie in \[0, t_end\]"),
    ("costate_ode: atol -1", lambda: rc.costate_ode(_W, _u, _x, _d, _out, atol=-1.0), ValueError, "`atol` must be a finite number > 0"),
    ("costate_ode: variable", lambda: rc.costate_ode(_W, _u, _x, _d, _out, variable="X"), ValueError, "`variable` must be one of 'B', 'Y'"),
    ("costate_ode: y0", lambda: rc.costate_ode(_W, _u, _x, _d, _out, y0=np.zeros(1)), ValueError, r"`y0` must have shape \(3,\)"),
    ("train: method", lambda: rc.train(_W, _u[None], _d[None], _out, lr=0.1, epochs=1, method="x"), ValueError, "`method` must be one of"),
    ("train: lr nan", lambda: rc.train(_W, _u[None], _d[None], _out, lr=np.nan, epochs=1), ValueError, "`lr` must be a finite number > 0"),
    ("train: epochs 0", lambda: rc.train(_W, _u[None], _d[None], _out, lr=0.1, epochs=0), ValueError, "`epochs` must be >= 1"),
    ("train: bptt steps", lambda: rc.train(_W, _u[None], _d[None], _out, lr=0.1, epochs=1, method="bptt"), ValueError, "`steps` must be given"),
    ("train: inputs width", lambda: rc.train(_W, np.zeros((2, 2)), _d[None], _out, lr=0.1, epochs=1), ValueError, "`inputs` must have 3 columns"),
    ("completion_error: task", lambda: rc.completion_error(_W, None), TypeError, "`task` must be a datasets.CompletionTask"),
    ("completion_error: W", lambda: rc.completion_error(np.zeros((4, 4)), datasets.completion_task(3, 1, n_hidden=1)), ValueError, r"`W` must be \(3, 3\)"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD_ALL], ids=[c[0] for c in _BAD_ALL])
def test_bad_input_of_every_function_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_diagnoses_name_the_iteration_its_linearisation_and_the_advice():
    W = np.array([[-1.5, 0.5], [-0.5, -1.5]])  # stable in continuous time, rho(J) > 1 at x = 0
    u = np.array([0.3, -0.2])
    with pytest.raises(lagprop.ConvergenceError) as exc:
        rc.fixed_point(W, u, max_iter=300)
    d = exc.value.diagnosis
    assert d.startswith("the fixed-point iteration x <- F(W x + u) did not converge in 300 iterations")
    assert "at the fixed point found by Newton's method the spectral radius" in d
    assert "(of F'(A) W:" in d and "not a contraction there: use damping < 1." in d
    x = rc.relax(W, u, damping=0.3).x
    with pytest.raises(lagprop.ConvergenceError) as exc:
        rc.costate(W, u, x, [0.5], [0], damping=0.9, max_iter=300)
    d, e = exc.value.diagnosis, exc.value
    assert d.startswith("the costate relaxation B <- W^T F'(A) B - grad C damped with h = 0.9 did not")
    assert "(of W^T F'(A):" in d
    # the damped iteration's radius is max |1 - h + h lambda| over the eigenvalues of W^T F'(A)
    lam = np.linalg.eigvals(W.T * (1 - np.tanh(W @ x + u) ** 2)[None, :])
    assert e.spectral_radius == pytest.approx(float(np.max(np.abs(0.1 + 0.9 * lam))), rel=1e-12)
    # unstable in continuous time
    W3 = np.random.default_rng(3).standard_normal((6, 6))
    with pytest.raises(lagprop.ConvergenceError) as exc:
        rc.gradient(W3, np.zeros(6), [0.5], [0])
    assert "unstable even in continuous time (max Re lambda >= 1): no relaxation converges there." \
        in exc.value.diagnosis


def test_a_divergent_linear_relaxation_is_an_error_without_overflow_warnings():
    W = 3.0 * np.eye(2)  # identity units: x <- 3 x + u runs away
    with pytest.raises(lagprop.ConvergenceError) as exc:
        rc.fixed_point(W, np.ones(2), activation="identity")
    assert exc.value.iterations < 300  # stopped at the blow-up, long before max_iter
    assert "spectral radius" in exc.value.diagnosis or "diverged" in exc.value.diagnosis


def test_training_with_damping_and_its_divergence_message():
    W = np.array([[-1.5, 0.5], [-0.5, -1.5]])
    U = np.array([[0.3, -0.2], [0.1, 0.2]])
    with pytest.raises(lagprop.ConvergenceError):
        rc.train(W, U, [[0.5], [0.1]], [0], lr=0.01, epochs=2, max_iter=500)
    tr = rc.train(W, U, [[0.5], [0.1]], [0], lr=0.01, epochs=2, damping=0.3, max_iter=5000)
    assert tr.loss[-1] < tr.loss[0]
    rng = np.random.default_rng(3)
    with pytest.raises(lagprop.ConvergenceError) as exc:
        rc.train(0.1 * rng.standard_normal((3, 3)), rng.standard_normal((2, 3)),
                 1e4 * rng.standard_normal((2, 1)), [0], lr=1e306, epochs=3, activation="identity",
                 method="solve")
    assert exc.value.diagnosis.startswith("training diverged at epoch 1: the weights overflowed")


def test_exact_messages_of_shapes_and_times():
    W, u, d, out = contractive(3, 1, m=1)
    np.testing.assert_array_equal(rc.state_ode(W, u, t_end=2.0, t_eval=[1.0]).t, [1.0])  # one time
    with pytest.raises(ValueError, match=r"^`W` must be 2-D, got an array of shape \(3,\)$"):
        rc.relax(np.ones(3), u)
    with pytest.raises(ValueError, match=r"^`targets` must be 1-D"):
        rc.gradient(W, u, [[0.5]], out)
    with pytest.raises(ValueError, match=r"^`t_eval` must be a non-empty increasing 1-D array of times, "
                                         r"got 2 value\(s\) not increasing$"):
        rc.state_ode(W, u, t_eval=[1.0, 0.5])
    with pytest.raises(ValueError, match=r"^`t_eval` must lie in \[0, t_end\] = \[0, 1.0\], got \[0.0, 2.0\]$"):
        rc.state_ode(W, u, t_end=1.0, t_eval=[0.0, 1.5, 2.0])
    with pytest.raises(ValueError, match=r"^`targets` must have shape \(2, 1\), got \(3, 1\)$"):
        rc.train(W, np.zeros((2, 3)), np.zeros((3, 1)), out, lr=0.1, epochs=1)
    with pytest.raises(ValueError, match=r"^`B` must have shape \(3,\)"):
        rc.hamiltonian_partials(W, u, np.zeros(3), np.zeros(2), d, out)


def test_results_carry_their_counts_and_time_scales():
    W, u, d, out = contractive(4, 5)
    fp = rc.relax(W, u, tol=1e-12)
    assert isinstance(fp.residual, float) and 0.0 <= fp.residual <= 1e-12 * max(1.0, np.max(np.abs(fp.x)))
    co = rc.costate(W, u, fp.x, d, out, method="solve")
    assert co.iterations == 0 and co.residual == 0.0
    # tau rescales time: the flow with tau = 2 at t is the flow with tau = 1 at t / 2
    a = rc.costate_ode(W, u, fp.x, d, out, variable="B", tau=2.0, t_end=4.0, t_eval=[1.0, 4.0])
    b = rc.costate_ode(W, u, fp.x, d, out, variable="B", tau=1.0, t_end=2.0, t_eval=[0.5, 2.0])
    np.testing.assert_array_equal(a.t, [1.0, 4.0])
    np.testing.assert_allclose(a.y, b.y, rtol=1e-8, atol=1e-10)
    s1 = rc.state_ode(W, u, tau=2.0, t_end=4.0, t_eval=[4.0])
    s2 = rc.state_ode(W, u, tau=1.0, t_end=2.0, t_eval=[2.0])
    np.testing.assert_allclose(s1.y, s2.y, rtol=1e-8, atol=1e-10)


def test_no_fixed_point_at_all_is_diagnosed_at_the_last_iterate():
    # relu units, x = max(2 x + 1, 0) has no solution: Newton fails, the radius is that of the
    # iteration at the last iterate, where relu' = 1: rho(F'(A) W) = 2
    with pytest.raises(lagprop.ConvergenceError) as exc:
        rc.fixed_point(2.0 * np.eye(2), np.ones(2), activation="relu")
    e = exc.value
    assert "at the last iterate the spectral radius of the iteration is 2 (of F'(A) W: 2," in e.diagnosis
    assert "No fixed point was located near the last iterate." in e.diagnosis
    assert e.spectral_radius == pytest.approx(2.0) and e.iterations > 0


@pytest.mark.parametrize("call, match", [
    (lambda: rc.relax(0.1 * np.eye(3), np.zeros(2)), r"^`u` must have shape \(3,\) like `W`"),
    (lambda: rc.state_ode(0.1 * np.eye(3), np.zeros(2)), r"^`u` must have shape \(3,\) like `W`"),
    (lambda: rc.train(0.1 * np.eye(3), np.zeros((1, 3)), [[0.1]], [0], lr=0.1, epochs=1, method="bptt", steps=0),
     r"^`steps` must be >= 1"),
])
def test_more_exact_messages(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------- from the survivors of a mutation sample
def test_ode_rtol_floor_is_a_hundred_machine_epsilons():
    W, u, _, _ = contractive(3, 1)
    floor = 100 * np.finfo(float).eps
    with pytest.raises(ValueError, match=r"`rtol` must be >= 2\.22e-14"):
        rc.state_ode(W, u, rtol=0.5 * floor)
    assert rc.state_ode(W, u, rtol=floor, t_end=1.0).y.shape[1] == 3


def test_state_arguments_are_named_in_their_errors():
    W, u, d, out = contractive(3, 1)
    with pytest.raises(ValueError, match=r"`x0` must have shape \(3,\)"):
        rc.newton(W, u, x0=np.zeros(2))
    with pytest.raises(ValueError, match=r"`u` must have shape \(3,\)"):
        rc.spectra(W, np.zeros(2))
    with pytest.raises(ValueError, match=r"`x` must have shape \(3,\)"):
        rc.costate_ode(W, u, np.zeros(2), d, out)


def test_costate_ode_with_a_time_constant_follows_the_matrix_exponential():
    from scipy.linalg import expm
    W, u, d, out = contractive(4, 2)
    x, tau, t = rc.fixed_point(W, u), 2.5, 3.0
    dF = 1.0 - np.tanh(W @ x + u) ** 2
    G = np.zeros(4)
    G[out] = -2.0 * (d - x[out])  # gradient of sum (d - x_out)^2
    # tau dY/dt = M Y - dF * G with M = -I + diag(dF) W^T, Y(0) = 0
    M = -np.eye(4) + dF[:, None] * W.T
    y_star = np.linalg.solve(M, dF * G)
    expected = y_star - expm(M * t / tau) @ y_star
    traj = rc.costate_ode(W, u, x, d, out, tau=tau, t_end=t, t_eval=[t])
    np.testing.assert_allclose(traj.y[-1], expected, rtol=1e-7, atol=1e-9)


def test_training_on_one_pattern_accepts_1d_arrays_and_reports_the_final_cost():
    W, u, d, out = contractive(3, 1, m=1)
    one = rc.train(W, u, d, out, lr=0.1, epochs=2, method="bptt", steps=4)
    two = rc.train(W, u[None, :], d[None, :], out, lr=0.1, epochs=2, method="bptt", steps=4)
    np.testing.assert_array_equal(one.loss, two.loss)
    # the last entry is the cost of 4 unrolled steps from 0 with the final weights, by hand
    x = np.zeros(3)
    for _ in range(4):
        x = np.tanh(one.W @ x + u)
    assert one.loss[-1] == pytest.approx(float(np.sum((d - x[out]) ** 2)), rel=1e-12)


def test_a_diverging_training_reports_the_epoch_and_the_last_cost():
    rng = np.random.default_rng(3)
    W0, U = 0.1 * rng.standard_normal((3, 3)), rng.standard_normal((2, 3))
    D = 10.0 * rng.standard_normal((2, 1))
    with pytest.raises(lagprop.ConvergenceError, match="diverged at epoch 1") as info:
        rc.train(W0, U, D, [0], lr=1e308, epochs=3, activation="identity", method="solve")
    assert info.value.iterations == 1
    x = np.linalg.solve(np.eye(3) - W0, U.T).T
    assert info.value.residual == pytest.approx(float(np.sum((D[:, 0] - x[:, 0]) ** 2)), rel=1e-9)


def test_bptt_with_weights_too_large_for_its_steps_raises_instead_of_nan():
    W, u = 30.0 * np.eye(3), np.ones(3)
    # x_k = sum_j 30^j: finite (and so are C and dC/dW) for 100 steps, beyond float64 at 400
    C, g = rc.bptt(W, u, [0.0], [0], steps=100, activation="identity")
    assert np.isfinite(C) and np.all(np.isfinite(g))
    msg = (r"^back-propagation through time overflowed float64 \(the state at step 210 of 400\): the "
           r"weights `W` \(largest \|W_ij\| = 30\) are too large for `steps` = 400; scale them down or "
           r"unroll fewer steps$")
    with pytest.raises(FloatingPointError, match=msg):
        rc.bptt(W, u, [0.0], [0], steps=400, activation="identity")
    with pytest.raises(FloatingPointError, match=msg):
        rc.gradient(W, u, [0.0], [0], method="bptt", steps=400, activation="identity")
    # 1e308 of both signs: from x_1 = u the sums of the second step overflow (inf - inf is NaN)
    big = np.array([[1e308, 1e308, -1e308]] * 3)
    with pytest.raises(FloatingPointError, match=r"overflowed float64 \(the state at step 2 of 3\)"):
        rc.gradient(big, np.ones(3), [0.0], [0], method="bptt", steps=3, activation="relu")
    # saturating units stay finite: the exact gradient is zero, and no error
    C, g = rc.bptt(1e200 * np.ones((3, 3)), u, [0.0], [0], steps=5)
    assert C == 1.0 and np.all(g == 0.0)


def test_a_convergence_message_never_prints_a_signed_zero():
    lam = np.array([-0.0 + 0.5j, -0.0 - 0.5j, -0.0])
    assert np.signbit(np.max(lam.real))  # the largest real part is -0.0
    e = rc._failure("the relaxation", 10, 1e-3, lam, 1.0, linearisation="F'(A) W")
    assert "max Re lambda = 0)." in e.diagnosis and "= -0" not in e.diagnosis
