"""Tests of lagprop.activations: the named element-wise maps F and their derivatives."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lagprop import activations, gradcheck


@pytest.mark.parametrize("name", activations.NAMES)
def test_derivative_matches_central_differences(name, rng):
    a = rng.uniform(-3.0, 3.0, size=50)
    a = a[np.abs(a) > 1e-3]  # away from relu's kink
    act = activations.get(name)
    fd = (act.f(a + 1e-6) - act.f(a - 1e-6)) / 2e-6
    assert gradcheck.relative_error(act.df(a), fd) < 1e-8
    assert act.f(a).dtype == np.float64 and act.df(a).shape == a.shape


def test_closed_forms():
    a = np.array([-2.0, 0.0, 0.5, 3.0])
    get = activations.get
    np.testing.assert_array_equal(get("identity").f(a), a)
    np.testing.assert_array_equal(get("identity").df(a), np.ones(4))
    np.testing.assert_allclose(get("sigmoid").f(a), 1.0 / (1.0 + np.exp(-a)), rtol=1e-15)
    np.testing.assert_allclose(get("sigmoid").df(np.zeros(1)), [0.25], rtol=0)
    np.testing.assert_allclose(get("tanh").df(a), 1.0 / np.cosh(a) ** 2, rtol=1e-14)
    np.testing.assert_array_equal(get("relu").f(a), [0.0, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(get("relu").df(a), [0.0, 0.0, 1.0, 1.0])  # relu'(0) taken as 0
    assert get("tanh")(np.zeros(2)).tolist() == [0.0, 0.0]  # an Activation is callable


def test_sigmoid_is_stable_for_large_arguments():
    a = np.array([-1000.0, -50.0, 50.0, 1000.0])
    s = activations.get("sigmoid")
    out = s.f(a)  # RuntimeWarnings from lagprop are errors (pyproject filterwarnings)
    assert np.all(np.isfinite(out)) and out[0] == 0.0 and out[-1] == 1.0
    assert np.all(np.isfinite(s.df(a))) and np.all(s.df(a) >= 0)


@settings(max_examples=25, deadline=None)
@given(a=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=5),
                    elements=st.floats(-30, 30, allow_nan=False)))
def test_property_shapes_and_ranges(a):
    for name in activations.NAMES:
        act = activations.get(name)
        assert act.f(a).shape == a.shape and act.df(a).shape == a.shape
    s = activations.get("sigmoid").f(a)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(activations.get("sigmoid").f(-a), 1.0 - s, atol=1e-15)
    np.testing.assert_allclose(activations.get("tanh").f(a), 2.0 * activations.get("sigmoid").f(2.0 * a) - 1.0,
                               atol=1e-14)


def test_get_returns_activation_unchanged_and_names():
    act = activations.get("tanh")
    assert activations.get(act) is act and act.name == "tanh"
    assert set(activations.NAMES) == {"identity", "tanh", "sigmoid", "relu"}


def test_bad_names():
    with pytest.raises(ValueError, match=r"`activation` must be one of .*got 'softmax'"):
        activations.get("softmax")
    with pytest.raises(ValueError, match=r"`output_activation` must be one of"):
        activations.get("Tanh", argname="output_activation")
    with pytest.raises(TypeError, match=r"`activation` must be a string naming an activation, got NoneType"):
        activations.get(None)


@pytest.mark.parametrize("name", activations.NAMES)
def test_every_activation_takes_lists_and_scalars(name):
    act = activations.get(name)
    np.testing.assert_allclose(act.f([-1.0, 0.5]), act.f(np.array([-1.0, 0.5])))
    assert np.shape(act.f(0.5)) == () and np.shape(act.df(0.5)) == ()
    np.testing.assert_allclose(act.df([0.5]), act.df(np.array([0.5])))


def test_a_user_activation_returning_nan_is_caught_at_the_boundary():
    bad = activations.Activation("log", np.log, lambda a: 1.0 / a)
    act = activations.get(bad)
    np.testing.assert_allclose(act.f(np.array([1.0, np.e])), [0.0, 1.0])
    with pytest.raises(ValueError, match=r"`activation`.f \('log'\) returned non-finite values"):
        act.f(np.array([-1.0]))
    short = activations.Activation("short", lambda a: a[:1], lambda a: a)
    with pytest.raises(ValueError, match=r"`output_activation`.f must return an array of the shape"):
        activations.get(short, argname="output_activation").f(np.ones(2))
    from lagprop import lagrangian, mlp
    with pytest.raises(ValueError, match="returned non-finite values"):
        lagrangian.forward(mlp.init_params([1, 2, 1]), [[-5.0]], activation=bad)


@pytest.mark.parametrize("name", activations.NAMES)
def test_second_derivative_matches_central_differences_of_the_first(name, rng):
    a = rng.uniform(-4.0, 4.0, size=60)
    a = a[np.abs(a) > 1e-3]  # away from relu's kink
    act = activations.get(name)
    fd = (act.df(a + 1e-5) - act.df(a - 1e-5)) / 2e-5
    d2 = act.d2f(a)
    assert d2.shape == a.shape and d2.dtype == np.float64
    assert np.max(np.abs(d2 - fd)) < 1e-8 * max(1.0, np.max(np.abs(fd)))
    assert activations.second_derivative(act) is act.d2f


def test_second_derivative_closed_forms_and_large_arguments():
    get = activations.get
    a = np.array([-800.0, -2.0, 0.0, 0.7, 800.0])
    np.testing.assert_allclose(get("tanh").d2f(a[1:4]), -2.0 * np.sinh(a[1:4]) / np.cosh(a[1:4]) ** 3,
                               rtol=1e-13)
    assert np.max(np.abs(get("tanh").d2f(a[[0, 4]]))) < 1e-300  # -2 sinh/cosh^3 underflows
    s = 1.0 / (1.0 + np.exp(-a[1:4]))
    np.testing.assert_allclose(get("sigmoid").d2f(a[1:4]), s * (1 - s) * (1 - 2 * s), rtol=1e-13)
    assert np.all(np.isfinite(get("sigmoid").d2f(a)))  # no overflow warning at +-800
    np.testing.assert_array_equal(get("identity").d2f(a), 0.0)
    np.testing.assert_array_equal(get("relu").d2f(a), 0.0)


def test_a_user_activation_without_d2f_is_named_where_second_order_needs_it():
    from lagprop import curvature, lagrangian, mlp

    soft = activations.Activation("softplus", lambda a: np.logaddexp(0.0, a),
                                  lambda a: 1.0 / (1.0 + np.exp(-a)))
    assert soft.d2f is None and activations.get(soft).d2f is None
    params = mlp.init_params([2, 3, 1], seed=0)
    x, d = np.ones((2, 2)), np.zeros((2, 1))
    lagrangian.backprop(params, x, d, activation=soft)  # first order needs no d2f
    with pytest.raises(ValueError, match=r"`activation` must have a second derivative.*"
                                         r"Activation\('softplus', f, df, d2f\), got d2f=None"):
        lagrangian.hessian_vector(params, x, d, params, activation=soft)
    with pytest.raises(ValueError, match=r"`output_activation` must have a second derivative"):
        curvature.reduced_hessian(params, x, d, output_activation=soft)
    with pytest.raises(TypeError, match=r"`activation`.d2f must be callable or None, got int"):
        activations.get(activations.Activation("k", np.tanh, np.tanh, 3))


def test_a_user_activation_with_d2f_drives_the_exact_hessian():
    """softplus with f'' = s(1-s): the Hessian-vector product matches differences of the
    gradient, and a d2f returning NaN is caught like f and df."""
    from lagprop import gradcheck, lagrangian, mlp

    def sig(a):
        return 1.0 / (1.0 + np.exp(-a))

    soft = activations.Activation("softplus", lambda a: np.logaddexp(0.0, a), sig,
                                  lambda a: sig(a) * (1.0 - sig(a)))
    rng = np.random.default_rng(1)
    params = mlp.init_params([2, 3, 2], seed=rng, bias=0.3)
    x, d = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    v = [(rng.standard_normal(W.shape), rng.standard_normal(b.shape)) for W, b in params]
    hv = mlp.flatten(lagrangian.hessian_vector(params, x, d, v, activation=soft))

    def g(t):
        return mlp.flatten(lagrangian.backprop(mlp.unflatten(t, params), x, d, activation=soft)[1])

    t, u = mlp.flatten(params), mlp.flatten(v)
    fd = (g(t + 1e-5 * u) - g(t - 1e-5 * u)) / 2e-5
    assert gradcheck.relative_error(hv, fd) < 1e-8
    bad = activations.Activation("softplus", soft.f, soft.df, lambda a: np.log(a))
    with pytest.raises(ValueError, match=r"`activation`.d2f \('softplus'\) returned non-finite"):
        lagrangian.hessian_vector(params, x, d, v, activation=bad)
