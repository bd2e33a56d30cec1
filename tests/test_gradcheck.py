"""Tests of lagprop.gradcheck: the checkers must accept right answers and reject wrong ones."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagprop import gradcheck, mlp


def _quartic(x):
    return float(np.sum(np.sin(x) * x ** 2) + np.sum(x) ** 3)


def _quartic_grad(x):
    return np.sin(x) * 2 * x + np.cos(x) * x ** 2 + 3 * np.sum(x) ** 2


def test_central_difference_accuracy_and_second_order(rng):
    x = rng.standard_normal((2, 3))
    g = _quartic_grad(x)
    assert gradcheck.relative_error(gradcheck.central_difference(_quartic, x), g) < 1e-8
    hs = np.array([1e-1, 5e-2, 2.5e-2, 1.25e-2])
    errs = [np.max(np.abs(gradcheck.central_difference(_quartic, x, h=h) - g)) for h in hs]
    order = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    assert order == pytest.approx(2.0, abs=0.1)


def test_central_difference_does_not_modify_input():
    x = np.array([1.0, 2.0])
    gradcheck.central_difference(lambda z: float(z @ z), x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_relative_error_properties():
    a = np.array([1.0, -2.0, 4.0])
    assert gradcheck.relative_error(a, a) == 0.0
    assert gradcheck.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert gradcheck.relative_error(a, a + np.array([0, 0, 0.04])) == pytest.approx(0.04 / 4.04)
    assert gradcheck.relative_error(a, 2 * a) == gradcheck.relative_error(2 * a, a) == pytest.approx(0.5)
    nested = [(np.ones((2, 2)), np.ones(2)), (np.ones(1), np.ones(1))]
    assert gradcheck.relative_error(nested, nested) == 0.0
    with pytest.raises(ValueError, match=r"`a` and `b` must have the same number of entries, got 3 and 2"):
        gradcheck.relative_error(a, a[:2])


def test_check_gradient_accepts_right_and_rejects_slightly_wrong(rng):
    x = rng.standard_normal(6)
    g = _quartic_grad(x)
    good = gradcheck.check_gradient(_quartic, g, x)
    assert good and good.ok and good.error < 1e-8 and good.rtol == 1e-7
    for i in range(x.size):
        wrong = g.copy()
        wrong[i] *= 1.0 + 1e-4  # one entry off by 1e-4 relative
        res = gradcheck.check_gradient(_quartic, wrong, x)
        if abs(g[i]) > 0.1 * np.max(np.abs(g)):
            assert not res and res.error > 1e-6


def test_params_central_difference_structure(rng):
    p = mlp.init_params([3, 2, 1], seed=1)
    x = rng.standard_normal((4, 3))

    def f(params):  # linear in the last layer's bias: gradient is exactly P
        (W1, b1), (W2, b2) = params
        return float(np.sum(np.tanh(x @ W1.T + b1) @ W2.T + b2))

    g = gradcheck.params_central_difference(f, p)
    assert [(a.shape, b.shape) for a, b in g] == [(W.shape, b.shape) for W, b in p]
    np.testing.assert_allclose(g[1][1], [4.0], rtol=1e-9)
    np.testing.assert_allclose(g[1][0], np.tanh(x @ p[0][0].T).sum(axis=0)[None, :], rtol=1e-8)


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 6), n=st.integers(1, 6), seed=st.integers(0, 10_000))
def test_property_dot_product_test(m, n, seed):
    M = np.random.default_rng(seed).standard_normal((m, n))
    assert gradcheck.dot_product_test(lambda u: M @ u, lambda v: M.T @ v, (n,), (m,), seed=seed) < 1e-12


def test_dot_product_test_rejects_a_wrong_transpose(rng):
    M = rng.standard_normal((4, 4))
    assert gradcheck.dot_product_test(lambda u: M @ u, lambda v: M.T @ v, (4,), (4,)) < 1e-13
    assert gradcheck.dot_product_test(lambda u: M @ u, lambda v: M @ v, (4,), (4,)) > 1e-2  # not transposed
    E = M.T.copy()
    E[1, 2] += 1e-3
    assert gradcheck.dot_product_test(lambda u: M @ u, lambda v: E @ v, (4,), (4,), trials=5) > 1e-6


def test_bad_step():
    with pytest.raises(ValueError, match=r"`h` must be a finite number > 0, got -0.1"):
        gradcheck.central_difference(_quartic, np.ones(2), h=-0.1)
    with pytest.raises(TypeError, match=r"`h` must be a positive real number"):
        gradcheck.check_gradient(_quartic, np.ones(2), np.ones(2), h="1e-6")
    with pytest.raises(ValueError, match=r"`x` must be finite"):
        gradcheck.central_difference(_quartic, np.array([np.nan, 1.0]))


def test_entrywise_error_catches_a_wrong_small_entry():
    right = np.array([1e3, -2.0, 1e-6])
    wrong = right * np.array([1.0, 1.0, 2.0])            # the small entry off by a factor 2
    assert gradcheck.relative_error(right, wrong) < 1e-9  # relative to the largest: passes
    assert gradcheck.entrywise_error(right, wrong) == pytest.approx(0.5)
    assert gradcheck.entrywise_error(right, wrong, atol=1e-3) == pytest.approx(1e-3)
    assert gradcheck.entrywise_error(right, right) == 0.0
    assert gradcheck.entrywise_error(np.zeros(2), np.zeros(2)) == 0.0
    assert gradcheck.entrywise_error([0.0, 1.0], [1e-9, 1.0]) == 1.0
    assert gradcheck.entrywise_error([0.0, 1.0], [1e-9, 1.0], atol=1e-6) == pytest.approx(1e-3)
    nested = [(np.ones((2, 2)), np.ones(2)), (np.ones(1), None)]
    assert gradcheck.entrywise_error(nested, nested) == 0.0


def test_entrywise_error_on_central_differences(rng):
    x = rng.standard_normal(5)
    g = _quartic_grad(x)
    fd = gradcheck.central_difference(_quartic, x)
    assert gradcheck.entrywise_error(g, fd, atol=1e-6) < 1e-6
    wrong = g.copy()
    i = int(np.argmin(np.abs(g)))
    wrong[i] += 1e-3 * max(abs(g[i]), 1e-6) + 1e-5
    assert gradcheck.entrywise_error(wrong, fd, atol=1e-6) > 1e-5


def test_entrywise_error_bad_arguments():
    with pytest.raises(ValueError, match=r"`atol` must be finite and >= 0, got -1.0"):
        gradcheck.entrywise_error([1.0], [1.0], atol=-1.0)
    with pytest.raises(TypeError, match=r"`atol` must be a real number, got str"):
        gradcheck.entrywise_error([1.0], [1.0], atol="0")
    with pytest.raises(ValueError, match=r"`a` and `b` must have the same number of entries"):
        gradcheck.entrywise_error([1.0, 2.0], [1.0])


def test_jacobian_of_a_linear_and_a_nonlinear_map(rng):
    M = rng.standard_normal((3, 4))
    x = rng.standard_normal(4)
    np.testing.assert_allclose(gradcheck.jacobian(lambda z: M @ z, x), M, rtol=1e-9, atol=1e-10)
    # f(z) = (z0 z1, sin z2): the Jacobian by hand
    J = gradcheck.jacobian(lambda z: np.array([z[0] * z[1], np.sin(z[2])]), x[:3])
    expect = np.array([[x[1], x[0], 0.0], [0.0, 0.0, np.cos(x[2])]])
    np.testing.assert_allclose(J, expect, rtol=1e-8, atol=1e-10)


def test_fitted_order_recovers_a_power_law_and_rejects_bad_sweeps():
    h = np.array([0.1, 0.05, 0.025])
    assert gradcheck.fitted_order(h, 3.0 * h**2) == pytest.approx(2.0, abs=1e-12)
    assert gradcheck.fitted_order(h, 0.5 * h) == pytest.approx(1.0, abs=1e-12)


_BAD = [
    ("cd: f", lambda: gradcheck.central_difference(1.0, [1.0]), TypeError, "`f` must be callable"),
    ("cd: h nan", lambda: gradcheck.central_difference(np.sum, [1.0], h=np.nan), ValueError, "`h` must be a finite number > 0"),
    ("cd: x complex", lambda: gradcheck.central_difference(np.sum, [1j]), TypeError, "`x` must be real"),
    ("cd: f vector", lambda: gradcheck.central_difference(lambda z: z, [1.0, 2.0]), TypeError, "`f` must return a real scalar"),
    ("cd: f nan", lambda: gradcheck.central_difference(lambda z: np.nan, [1.0]), ValueError, "`f` must return a finite value"),
    ("pcd: params", lambda: gradcheck.params_central_difference(lambda p: 0.0, None), ValueError, "`params` must be a non-empty list"),
    ("jac: x 2-D", lambda: gradcheck.jacobian(lambda z: z, np.ones((2, 2))), ValueError, "`x` must be 1-D"),
    ("jac: f nan", lambda: gradcheck.jacobian(lambda z: z * np.nan, np.ones(2)), ValueError, r"`f\(x\)` must be finite"),
    ("jac: h", lambda: gradcheck.jacobian(lambda z: z, np.ones(2), h=-1.0), ValueError, "`h` must be a finite number > 0"),
    ("order: short", lambda: gradcheck.fitted_order([0.1], [0.2]), ValueError, "length >= 2"),
    ("order: negative", lambda: gradcheck.fitted_order([0.1, 0.2], [-1.0, 1.0]), ValueError, "must be > 0"),
    ("order: equal h", lambda: gradcheck.fitted_order([0.1, 0.1], [1.0, 2.0]), ValueError, "two different steps"),
    ("order: nan", lambda: gradcheck.fitted_order([0.1, np.nan], [1.0, 2.0]), ValueError, "`h` must be finite"),
    ("check: rtol", lambda: gradcheck.check_gradient(np.sum, np.ones(2), np.ones(2), rtol=np.nan), ValueError, "`rtol` must be a finite number > 0"),
    ("check: grad shape", lambda: gradcheck.check_gradient(np.sum, np.ones(3), np.ones(2)), ValueError, "`grad` must have the shape of `x`"),
    ("dot: trials 0", lambda: gradcheck.dot_product_test(lambda u: u, lambda v: v, (2,), (2,), trials=0), ValueError, "`trials` must be >= 1"),
    ("dot: shape", lambda: gradcheck.dot_product_test(lambda u: u, lambda v: v, (2,), (3,)), ValueError, "`jvp` must return an array of shape"),
    ("dot: in_shape", lambda: gradcheck.dot_product_test(lambda u: u, lambda v: v, "ab", (2,)), TypeError, "`in_shape` must be a tuple of positive integers"),
    ("dot: vjp", lambda: gradcheck.dot_product_test(lambda u: u, None, (2,), (2,)), TypeError, "`vjp` must be callable"),
    ("rel: a None", lambda: gradcheck.relative_error(None, [1.0]), TypeError, "`a` must be array-like"),
    ("rel: transposed", lambda: gradcheck.relative_error(np.zeros((2, 3)), np.zeros((3, 2))), ValueError,
     r"^`b` must have the shapes of `a`, \(2, 3\), got \(3, 2\): entries are compared in place, never "
     r"broadcast or reshaped$"),
    ("rel: column vs row", lambda: gradcheck.relative_error(np.ones((3, 1)), np.ones((1, 3))), ValueError,
     r"^`b` must have the shapes of `a`, \(3, 1\), got \(1, 3\)"),
    ("rel: params transposed", lambda: gradcheck.relative_error(
        [(np.ones((2, 3)), np.ones(2))], [(np.ones((3, 2)), np.ones(2))]), ValueError,
     r"^`b` must have the shapes of `a`, \[\(2, 3\), \(2,\)\], got \[\(3, 2\), \(2,\)\]"),
    ("rel: count", lambda: gradcheck.relative_error(np.ones(3), np.ones(2)), ValueError,
     r"^`a` and `b` must have the same number of entries, got 3 and 2$"),
    ("rel: b text", lambda: gradcheck.relative_error([1.0], ["1"]), TypeError, r"^`b` must be array-like of real numbers"),
    ("entry: transposed", lambda: gradcheck.entrywise_error(np.ones((2, 3)), np.ones((3, 2))), ValueError,
     r"^`b` must have the shapes of `a`, \(2, 3\), got \(3, 2\)"),
]


def test_relative_error_compares_entries_in_place_and_accepts_flat_forms():
    from lagprop import mlp

    A = np.arange(6.0).reshape(2, 3)
    assert gradcheck.relative_error(A, A.T.copy().T) == 0.0
    # a flat vector stands for any structure of its size: params against flatten(params)
    params = mlp.init_params([3, 4, 2], seed=0)
    theta = mlp.flatten(params)
    assert gradcheck.relative_error(params, theta) == 0.0
    assert gradcheck.relative_error(theta, params) == 0.0
    assert gradcheck.relative_error(A, A.ravel()) == 0.0
    # stacked equal-shaped arrays against the list of them; nested lists of numbers are one array
    assert gradcheck.relative_error([A[0], A[1]], A) == 0.0
    assert gradcheck.relative_error([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], A) == 0.0
    # the distance itself, against a hand computation (max |a - b| over the largest entry)
    B = A.copy()
    B[1, 2] += 0.5
    assert gradcheck.relative_error(A, B) == 0.5 / 5.5
    # None entries (index 0 of a Forward's or Costate's lists) are skipped on both sides
    assert gradcheck.relative_error([None, A], [None, A]) == 0.0



@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD], ids=[c[0] for c in _BAD])
def test_bad_input_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("call", [
    lambda: gradcheck.central_difference(lambda x: float(np.sum(x ** 2)), np.ones(2), h=1e-300),
    lambda: gradcheck.jacobian(lambda x: x ** 2, np.ones(2), h=1e-300),
    lambda: gradcheck.params_central_difference(
        lambda p: float(np.sum(p[0][0] ** 2)), [(np.ones((2, 2)), np.ones(2))], h=1e-300),
    lambda: gradcheck.central_difference(lambda x: float(np.sum(x)), np.array([1e8]), h=1e-5),
])
def test_a_step_below_rounding_is_refused(call):
    with pytest.raises(ValueError, match="`h` must be >= .* rounding"):
        call()


def test_a_step_at_the_floor_still_differentiates():
    x = np.array([3.0])
    g = gradcheck.central_difference(lambda z: float(z[0] ** 2), x, h=1e-4)
    assert abs(g[0] - 6.0) < 1e-8
