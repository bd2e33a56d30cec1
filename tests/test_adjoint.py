"""Tests of lagprop.adjoint: the continuous costate and its Euler discretisations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagprop import adjoint as ad
from lagprop.gradcheck import central_difference, dot_product_test, relative_error


def problem(rng, n=3, P=2, scale=0.8):
    W = scale * rng.standard_normal((n, n))
    b = 0.3 * rng.standard_normal(n)
    x0 = rng.standard_normal((P, n))
    D = 0.5 * rng.standard_normal((P, n))
    return (W, b), x0, D


def cd_params(f, theta, h=1e-5):
    W, b = theta
    return [central_difference(lambda Wp: f((Wp, b)), W, h=h), central_difference(lambda bp: f((W, bp)), b, h=h)]


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_adjoint_gradient_matches_central_differences(rng, activation):
    theta, x0, D = problem(rng)
    T = 1.3
    res = ad.adjoint_gradient(theta, x0, D, T, activation=activation)
    num = cd_params(lambda th: ad.ode_cost(th, x0, D, T, activation=activation), theta)
    assert relative_error(list(res.grad), num) < 1e-6
    num_x0 = central_difference(lambda x: ad.ode_cost(theta, x, D, T, activation=activation), x0, h=1e-5)
    assert relative_error(res.dC_dx0, num_x0) < 1e-6
    np.testing.assert_array_equal(res.dC_dx0, -res.B0)
    assert res.x0_error < 1e-9
    assert res.cost == pytest.approx(ad.ode_cost(theta, x0, D, T, activation=activation), rel=1e-12)


def test_checker_rejects_a_slightly_wrong_adjoint_gradient(rng):
    theta, x0, D = problem(rng)
    res = ad.adjoint_gradient(theta, x0, D, 1.0)
    num = cd_params(lambda th: ad.ode_cost(th, x0, D, 1.0), theta)
    wrong = [res.grad[0] * (1 + 1e-4), res.grad[1]]
    assert relative_error(wrong, num) > 1e-6


def test_costate_terminal_condition_and_trajectory(rng):
    theta, x0, D = problem(rng, P=1)
    T = 1.0
    t_eval = np.linspace(T, 0.0, 11)
    res = ad.adjoint_gradient(theta, x0, D, T, t_eval=t_eval)
    np.testing.assert_allclose(res.t, t_eval)
    np.testing.assert_allclose(res.B[0], 2.0 * (D - res.xT), rtol=1e-12, atol=1e-14)
    # B(t) = -dC/dx(t): the cost of the remaining flow from time t
    k = 5
    t = res.t[k]
    num = central_difference(lambda x: ad.ode_cost(theta, x, D, T - t), res.x[k], h=1e-5)
    assert relative_error(-res.B[k], num) < 1e-6


def test_discrete_costate_is_exact_gradient_of_euler_network(rng):
    theta, x0, D = problem(rng)
    T, N = 1.0, 17
    C, grad, B0 = ad.euler_backprop(theta, x0, D, T, steps=N)
    assert C == pytest.approx(ad.euler_cost(theta, x0, D, T, steps=N), rel=1e-15)
    num = cd_params(lambda th: ad.euler_cost(th, x0, D, T, steps=N), theta, h=1e-6)
    assert relative_error(list(grad), num) < 1e-7
    num_x0 = central_difference(lambda x: ad.euler_cost(theta, x, D, T, steps=N), x0, h=1e-6)
    assert relative_error(-B0, num_x0) < 1e-7


def test_euler_adjoint_is_not_the_discrete_gradient(rng):
    theta, x0, D = problem(rng)
    _, g_dto, _ = ad.euler_backprop(theta, x0, D, 1.0, steps=20)
    _, g_otd, _ = ad.euler_adjoint(theta, x0, D, 1.0, steps=20)
    assert relative_error(list(g_dto), list(g_otd)) > 1e-3


def test_dot_product_of_discrete_costate_pass(rng):
    theta, x0, _ = problem(rng, n=4, P=3)
    fwd = ad.euler_forward(theta, x0, 0.9, steps=12)
    n, P = 4, 3
    sizes = [P * n, n * n, n]

    def split(u):
        a, c = sizes[0], sizes[0] + sizes[1]
        return u[:a].reshape(P, n), u[a:c].reshape(n, n), u[c:]

    def jvp(u):
        return ad.euler_jvp(theta, fwd, *split(u))

    def vjp(v):
        B0, gW, gb = ad.euler_vjp(theta, fwd, v)
        return np.concatenate([B0.ravel(), gW.ravel(), gb])

    assert dot_product_test(jvp, vjp, (sum(sizes),), (P, n), seed=1) < 1e-12


def test_costate_pass_equals_vjp_with_cost_terminal(rng):
    theta, x0, D = problem(rng)
    fwd = ad.euler_forward(theta, x0, 1.0, steps=9)
    co = ad.euler_costate(theta, fwd, D)
    B0, gW, gb = ad.euler_vjp(theta, fwd, 2.0 * (D - fwd.X[-1]))
    np.testing.assert_allclose(co.B[0], B0, rtol=1e-14)
    _, grad, _ = ad.euler_backprop(theta, x0, D, 1.0, steps=9)
    np.testing.assert_allclose(grad[0], -gW, rtol=1e-14)
    assert co.Y[0] is None and len(co.B) == 10


def test_both_discrete_gradients_converge_at_first_order(rng):
    theta, x0, D = problem(rng)
    sweep = ad.convergence_sweep(theta, x0, D, 1.0, [20, 40, 80, 160, 320])
    for p in (sweep.order_state, sweep.order_dto, sweep.order_otd):
        assert 0.8 < p < 1.2
    assert np.all(np.diff(sweep.dto_error) < 0) and np.all(np.diff(sweep.otd_error) < 0)
    assert sweep.dto_error[-1] < 1e-2


def test_x0_error_measures_the_backward_reintegration(rng):
    theta, x0, D = problem(rng)
    tight = ad.adjoint_gradient(theta, x0, D, 1.0)
    loose = ad.adjoint_gradient(theta, x0, D, 1.0, rtol=1e-4, atol=1e-6)
    assert 0.0 < tight.x0_error < 1e-9  # re-integrated to near rounding, but not exactly
    assert loose.x0_error > 100 * tight.x0_error  # a looser solve re-integrates less precisely
    # the same number, computed from the stored backward trajectory
    res = ad.adjoint_gradient(theta, x0, D, 1.0, t_eval=[1.0, 0.0], rtol=1e-4, atol=1e-6)
    assert res.x0_error == pytest.approx(float(np.max(np.abs(res.x[-1] - x0))), rel=1e-6)


def test_euler_jvp_and_vjp_are_transposes(rng):
    theta, x0, D = problem(rng)
    W, b = theta
    fwd = ad.euler_forward(theta, x0, 1.0, steps=5)
    n, P = W.shape[0], x0.shape[0]
    m = P * n + n * n + n

    def jvp(z):
        return ad.euler_jvp(theta, fwd, z[:P * n].reshape(P, n), z[P * n:P * n + n * n].reshape(n, n),
                            z[P * n + n * n:]).ravel()

    def vjp(v):
        B0, gW, gb = ad.euler_vjp(theta, fwd, v.reshape(P, n))
        return np.concatenate([B0.ravel(), gW.ravel(), gb])

    assert dot_product_test(jvp, vjp, (m,), (P * n,)) < 1e-12
    # the jvp against central differences of the forward pass in W
    dW = rng.standard_normal((n, n))
    fd = (ad.euler_forward((W + 1e-6 * dW, b), x0, 1.0, steps=5).X[-1]
          - ad.euler_forward((W - 1e-6 * dW, b), x0, 1.0, steps=5).X[-1]) / 2e-6
    got = ad.euler_jvp(theta, fwd, np.zeros_like(x0), dW, np.zeros(n))
    assert relative_error(got, fd) < 1e-8


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), P=st.integers(1, 3), N=st.integers(1, 8), seed=st.integers(0, 10_000))
def test_discrete_costate_property(n, P, N, seed):
    rng = np.random.default_rng(seed)
    theta, x0, D = problem(rng, n=n, P=P)
    _, grad, _ = ad.euler_backprop(theta, x0, D, 0.7, steps=N)
    num = cd_params(lambda th: ad.euler_cost(th, x0, D, 0.7, steps=N), theta, h=1e-6)
    assert relative_error(list(grad), num) < 1e-6


def test_bad_input_raises(rng):
    theta, x0, D = problem(rng)
    W, b = theta
    with pytest.raises(ValueError, match="`theta"):
        ad.adjoint_gradient((W[:, :2], b), x0, D, 1.0)
    with pytest.raises(ValueError, match="`theta"):
        ad.adjoint_gradient((W,), x0, D, 1.0)
    with pytest.raises(ValueError, match=r"`theta\[1\]` \(b\)"):
        ad.adjoint_gradient((W, b[:2]), x0, D, 1.0)
    with pytest.raises(ValueError, match="`x0`"):
        ad.adjoint_gradient(theta, x0[:, :2], D, 1.0)
    with pytest.raises(ValueError, match="`targets`"):
        ad.adjoint_gradient(theta, x0, D[:1], 1.0)
    with pytest.raises(ValueError, match="`T`"):
        ad.adjoint_gradient(theta, x0, D, 0.0)
    with pytest.raises(ValueError, match="`steps`"):
        ad.euler_backprop(theta, x0, D, 1.0, steps=0)
    with pytest.raises(ValueError, match="`x0`"):
        ad.odeint_forward(theta, np.full_like(x0, np.nan), 1.0)
    with pytest.raises(ValueError, match="`activation`"):
        ad.vector_field(theta, x0, activation="softplus")


# ---------------------------------------------------------------------------------------------
# Runge-Kutta networks: the discrete costate and the symplectic-partner adjoint


@pytest.mark.parametrize("tableau", ["euler", "heun", "rk4"])
def test_rk_backprop_is_the_exact_gradient_of_the_rk_network(rng, tableau):
    theta, x0, D = problem(rng)
    C, grad, B0 = ad.rk_backprop(theta, x0, D, 1.0, steps=7, tableau=tableau)
    f = lambda th: ad.rk_cost(th, x0, D, 1.0, steps=7, tableau=tableau)
    assert C == pytest.approx(f(theta), rel=1e-14)
    assert relative_error(list(grad), cd_params(f, theta, h=1e-6)) < 1e-8
    num_x0 = central_difference(lambda x: ad.rk_cost(theta, x, D, 1.0, steps=7, tableau=tableau), x0)
    assert relative_error(-B0, num_x0) < 1e-8


def test_rk_backprop_with_euler_is_euler_backprop(rng):
    theta, x0, D = problem(rng)
    _, g1, B1 = ad.euler_backprop(theta, x0, D, 1.0, steps=12)
    _, g2, B2 = ad.rk_backprop(theta, x0, D, 1.0, steps=12, tableau="euler")
    assert relative_error(list(g1), list(g2)) < 1e-14 and np.max(np.abs(B1 - B2)) < 1e-14


@pytest.mark.parametrize("tableau", ["euler", "heun", "rk4"])
def test_partner_adjoint_equals_discrete_costate(rng, tableau):
    """Optimise-then-discretise with the symplectic partner reproduces discretise-then-optimise."""
    theta, x0, D = problem(rng)
    _, g1, B1 = ad.rk_backprop(theta, x0, D, 1.0, steps=9, tableau=tableau)
    _, g2, B2 = ad.rk_partner_adjoint(theta, x0, D, 1.0, steps=9, tableau=tableau)
    assert relative_error(list(g1), list(g2)) < 1e-13 and np.max(np.abs(B1 - B2)) < 1e-13


def test_partner_tableau_satisfies_the_symplecticity_condition():
    for name in ("euler", "heun", "rk4"):
        a, b = ad.RK_TABLEAUS[name]
        abar = ad.partner_tableau(name)
        cond = b[:, None] * abar + (b[:, None] * a).T - np.outer(b, b)
        assert np.max(np.abs(cond)) < 1e-15
    # a non-partner costate tableau (the state's own) violates it for Heun
    a, b = ad.RK_TABLEAUS["heun"]
    assert np.max(np.abs(b[:, None] * a + (b[:, None] * a).T - np.outer(b, b))) > 0.1


def test_rk_gradients_converge_at_the_method_order(rng):
    theta, x0, D = problem(rng)
    ref = ad.adjoint_gradient(theta, x0, D, 1.0)
    for tableau, order in (("heun", 2), ("rk4", 4)):
        err = [relative_error(list(ad.rk_backprop(theta, x0, D, 1.0, steps=N, tableau=tableau)[1]),
                              list(ref.grad)) for N in (8, 16, 32)]
        assert abs(np.polyfit(np.log(1.0 / np.array([8, 16, 32])), np.log(err), 1)[0] - order) < 0.2


def test_bad_tableau_raises(rng):
    theta, x0, D = problem(rng)
    with pytest.raises(ValueError, match="`tableau` must be one of"):
        ad.rk_backprop(theta, x0, D, 1.0, steps=3, tableau="midpoint-ish")
    with pytest.raises(ValueError, match="strictly lower triangular"):
        ad.rk_forward(theta, x0, 1.0, steps=3, tableau=(np.eye(2), np.array([0.5, 0.5])))
    with pytest.raises(ValueError, match="no zero weight"):
        ad.partner_tableau((np.array([[0.0, 0.0], [0.5, 0.0]]), np.array([0.0, 1.0])))
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        ad.partner_tableau((np.zeros((3, 3)), np.array([0.5, 0.5])))


def _bad_table():
    rng = np.random.default_rng(0)
    theta, x0, D = problem(rng)
    W, b = theta
    fwd = ad.euler_forward(theta, x0, 1.0, steps=3)
    short = ad.EulerForward(X=fwd.X, A=fwd.A[:2], h=fwd.h)
    nan_A = ad.EulerForward(X=fwd.X, A=[None] + [a * np.nan for a in fwd.A[1:]], h=fwd.h)
    zero_h = ad.EulerForward(X=fwd.X, A=fwd.A, h=0.0)
    return [
        ("ode: rtol nan", lambda: ad.odeint_forward(theta, x0, 1.0, rtol=np.nan), ValueError, "`rtol` must be a finite number > 0"),
        ("ode: rtol -1", lambda: ad.odeint_forward(theta, x0, 1.0, rtol=-1.0), ValueError, "`rtol` must be a finite number > 0"),
        ("ode: atol nan", lambda: ad.odeint_forward(theta, x0, 1.0, atol=np.nan), ValueError, "`atol` must be a finite number > 0"),
        ("ode: t_eval nan", lambda: ad.odeint_forward(theta, x0, 1.0, t_eval=[0.0, np.nan]), ValueError, "`t_eval` must be finite"),
        ("ode: t_eval range", lambda: ad.odeint_forward(theta, x0, 1.0, t_eval=[0.0, 2.0]), ValueError, r"`t_eval` must lie in \[0, T\]"),
        ("ode: T inf", lambda: ad.odeint_forward(theta, x0, np.inf), ValueError, "`T` must be a finite number > 0"),
        ("ode: complex", lambda: ad.odeint_forward(theta, x0 + 0j, 1.0), TypeError, "`x0` must be real"),
        ("adjoint: t_eval increasing", lambda: ad.adjoint_gradient(theta, x0, D, 1.0, t_eval=[0.0, 1.0]), ValueError, r"`t_eval` must be a non-empty decreasing"),
        ("adjoint: atol 0", lambda: ad.adjoint_gradient(theta, x0, D, 1.0, atol=0.0), ValueError, "`atol` must be a finite number > 0"),
        ("cost: rtol", lambda: ad.ode_cost(theta, x0, D, 1.0, rtol=np.nan), ValueError, "`rtol`"),
        ("euler: steps float", lambda: ad.euler_forward(theta, x0, 1.0, steps=2.0), TypeError, "`steps` must be an integer"),
        ("euler_cost: steps", lambda: ad.euler_cost(theta, x0, D, 1.0, steps=0), ValueError, "`steps` must be >= 1"),
        ("costate: fwd", lambda: ad.euler_costate(theta, None, D), TypeError, "`fwd` must be an EulerForward"),
        ("costate: A short", lambda: ad.euler_costate(theta, short, D), ValueError, "`fwd.A` must be a list of 4 entries"),
        ("costate: A nan", lambda: ad.euler_costate(theta, nan_A, D), ValueError, r"`fwd.A\[1\]` must be finite"),
        ("costate: h 0", lambda: ad.euler_costate(theta, zero_h, D), ValueError, "`fwd.h` must be a finite number > 0"),
        ("jvp: u0 shape", lambda: ad.euler_jvp(theta, fwd, x0[:1], W, b), ValueError, "`u0` must have the shape of the states"),
        ("jvp: uW shape", lambda: ad.euler_jvp(theta, fwd, x0, W[:2], b), ValueError, r"`\(uW, ub\)\[0\]` \(W\) must be square"),
        ("jvp: ub nan", lambda: ad.euler_jvp(theta, fwd, x0, W, b * np.nan), ValueError, "must be finite"),
        ("jvp: fwd", lambda: ad.euler_jvp(theta, "fwd", x0, W, b), TypeError, "`fwd` must be an EulerForward"),
        ("vjp: v shape", lambda: ad.euler_vjp(theta, fwd, x0[:, :2]), ValueError, "`v` must have 3 columns"),
        ("vjp: A nan", lambda: ad.euler_vjp(theta, nan_A, x0), ValueError, r"`fwd.A\[1\]` must be finite"),
        ("sweep: steps 0", lambda: ad.convergence_sweep(theta, x0, D, 1.0, [0, 2]), ValueError, "`steps` must be >= 1"),
    ]


_BAD = _bad_table()


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD], ids=[c[0] for c in _BAD])
def test_bad_input_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_forward_solve_against_the_closed_form_of_a_linear_flow(rng):
    # identity units: x' = W x + b, so x(t) = e^{W t} x0 + W^{-1} (e^{W t} - I) b
    from scipy.linalg import expm

    theta, x0, _ = problem(rng, scale=0.5)
    W, b = theta
    T = 0.8
    t_eval = np.array([0.0, 0.3, 0.8])
    fwd = ad.odeint_forward(theta, x0, T, activation="identity", t_eval=t_eval)

    def exact(t):
        E = expm(W * t)
        return x0 @ E.T + np.linalg.solve(W, (E - np.eye(3)) @ b)

    np.testing.assert_allclose(fwd.t, t_eval)
    for j, t in enumerate(t_eval):
        np.testing.assert_allclose(fwd.x[j], exact(t), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(fwd.xT, exact(T), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(fwd.dense(0.55), exact(0.55), rtol=1e-9, atol=1e-11)
    assert fwd.dense(0.55).shape == x0.shape and fwd.nfev > 0
    np.testing.assert_allclose(ad.vector_field(theta, x0, activation="tanh"), np.tanh(x0 @ W.T + b),
                               rtol=1e-15)


def test_euler_adjoint_one_step_by_hand(rng):
    theta, x0, D = problem(rng)
    W, b = theta
    h = 0.4
    X1 = x0 + h * np.tanh(x0 @ W.T + b)
    B1 = 2 * (D - X1)
    Y1 = (1 - np.tanh(X1 @ W.T + b) ** 2) * B1  # the Jacobian at the step's end
    C, (gW, gb), B0 = ad.euler_adjoint(theta, x0, D, h, steps=1)
    assert C == pytest.approx(float(np.sum((D - X1) ** 2)), rel=1e-14)
    np.testing.assert_allclose(B0, B1 + h * Y1 @ W, rtol=1e-13)
    np.testing.assert_allclose(gW, -h * Y1.T @ X1, rtol=1e-13)
    np.testing.assert_allclose(gb, -h * Y1.sum(axis=0), rtol=1e-13)


def test_sweep_reference_and_rk_partner_cost(rng):
    theta, x0, D = problem(rng)
    sw = ad.convergence_sweep(theta, x0, D, 1.0, [4, 8])
    assert isinstance(sw.reference, ad.AdjointResult)
    XN = ad.euler_forward(theta, x0, 1.0, steps=4).X[-1]
    assert sw.state_error[0] == pytest.approx(relative_error(XN, sw.reference.xT), rel=1e-12)
    for name in ("euler", "heun"):
        C, _, _ = ad.rk_partner_adjoint(theta, x0, D, 1.0, steps=4, tableau=name)
        assert C == pytest.approx(ad.rk_cost(theta, x0, D, 1.0, steps=4, tableau=name), rel=1e-13)
