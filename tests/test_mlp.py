"""Tests of lagprop.mlp: parameter lists in le Cun's layer notation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagprop import mlp


def test_init_params_shapes_seed_and_scale():
    p = mlp.init_params([4, 3, 2], seed=5, bias=0.25)
    assert [(W.shape, b.shape) for W, b in p] == [((3, 4), (3,)), ((2, 3), (2,))]
    assert all(W.dtype == np.float64 and b.dtype == np.float64 for W, b in p)
    assert all(np.all(b == 0.25) for _, b in p)
    q = mlp.init_params([4, 3, 2], seed=5, bias=0.25)
    assert all(np.array_equal(W1, W2) for (W1, _), (W2, _) in zip(p, q))
    r = mlp.init_params([4, 3, 2], seed=6)
    assert not np.array_equal(p[0][0], r[0][0])
    big = mlp.init_params([400, 500], seed=0, scale=2.0)[0][0]
    assert np.std(big) == pytest.approx(2.0 / np.sqrt(400), rel=0.02)  # variance scale^2 / n_in
    g = np.random.default_rng(3)
    assert mlp.init_params([2, 2], seed=g)[0][0].shape == (2, 2)


def test_sizes_n_params():
    p = mlp.init_params([5, 4, 3, 1])
    assert mlp.sizes_of(p) == [5, 4, 3, 1]
    assert mlp.n_params(p) == 5 * 4 + 4 + 4 * 3 + 3 + 3 * 1 + 1


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5), seed=st.integers(0, 10_000))
def test_property_flatten_unflatten_roundtrip(sizes, seed):
    p = mlp.init_params(sizes, seed=seed, bias=0.1)
    theta = mlp.flatten(p)
    assert theta.shape == (mlp.n_params(p),)
    q = mlp.unflatten(theta, p)
    assert all(np.array_equal(W, V) and np.array_equal(b, c) for (W, b), (V, c) in zip(p, q))
    np.testing.assert_array_equal(mlp.flatten(q), theta)
    # order: W_1 row-major, then b_1, then W_2, ...
    np.testing.assert_array_equal(theta[: p[0][0].size], p[0][0].ravel())


def test_check_params_accepts_lists_and_converts():
    p = mlp.check_params([[[[1, 2], [3, 4]], [0, 0]]])
    assert p[0][0].dtype == np.float64 and p[0][0].shape == (2, 2)


_W, _b = np.ones((4, 3)), np.zeros(4)
_BAD = [
    ("empty", [], ValueError, r"`params` must be a non-empty list"),
    ("None", None, ValueError, r"`params` must be a non-empty list"),
    ("array", np.ones((2, 2)), ValueError, r"`params` must be a non-empty list"),
    ("not a pair", [_W], ValueError, r"`params\[0\]` must be a pair \(W_1, b_1\), got an array of shape \(4, 3\)"),
    ("single", [(_W,)], ValueError, r"`params\[0\]` must be a pair"),
    ("triple", [(_W, _b, _b)], ValueError, r"`params\[0\]` must be a pair"),
    ("W 1-D", [(np.ones(3), np.zeros(1))], ValueError, r"`params\[0\]\[0\] \(W_1\)` must be 2-D"),
    ("W 3-D", [(np.ones((1, 2, 3)), np.zeros(1))], ValueError, r"`params\[0\]\[0\] \(W_1\)` must be 2-D"),
    ("b 2-D", [(_W, np.zeros((4, 1)))], ValueError, r"`params\[0\]\[1\] \(b_1\)` must be 1-D"),
    ("b length, last layer", [(_W, np.zeros(3))], ValueError,
     r"`params\[0\]\[0\]` \(W_1\) of shape \(4, 3\) and `params\[0\]\[1\]` \(b_1\) of shape \(3,\) "
     r"disagree: W_k has shape \(n_k, n_\{k-1\}\).*if W_1 is transposed pass W_1.T, else give b_1 shape \(4,\)"),
    ("b length", [(_W, np.zeros(3)), (np.ones((1, 4)), np.zeros(1))], ValueError,
     r"`params\[0\]\[1\]` \(b_1\) must have shape \(4,\) to match W_1 of shape \(4, 3\)"),
    ("b length 5", [(_W, np.zeros(5))], ValueError, r"`params\[0\]\[1\]` \(b_1\) must have shape \(4,\)"),
    ("W_1 transposed", [(_W.T, _b), (np.ones((1, 4)), np.zeros(1))], ValueError,
     r"^`params\[0\]\[0\]` \(W_1\) looks transposed: W_k has shape \(n_k, n_\{k-1\}\), one row per "
     r"unit of layer k, so \(4, 3\) here, got shape \(3, 4\); pass W_1.T$"),
    ("W_2 transposed", [(_W, _b), (np.ones((4, 2)), np.zeros(2))], ValueError,
     r"`params\[1\]\[0\]` \(W_2\) of shape \(4, 2\) and `params\[1\]\[1\]` \(b_2\).*pass W_2.T"),
    ("flat vector", np.arange(21.0), ValueError,
     r"^`params` must be a list of \(W_k, b_k\) pairs, got a flat array of shape \(21,\); use "
     r"mlp.unflatten\(theta, like\) to split a parameter vector$"),
    ("long list", [0.5] * 100, ValueError, r"^`params\[0\]` must be a pair \(W_1, b_1\), got float 0.5$"),
    ("chain", [(_W, _b), (np.ones((2, 5)), np.zeros(2))], ValueError, r"`params\[1\]\[0\]` \(W_2\) must have 4 columns"),
    ("nan W", [(np.full((4, 3), np.nan), _b)], ValueError, r"`params\[0\]\[0\] \(W_1\)` must be finite"),
    ("inf b", [(_W, np.array([0, 0, np.inf, 0]))], ValueError, r"`params\[0\]\[1\] \(b_1\)` must be finite, got 1"),
    ("text", [(_W, "abcd")], TypeError, r"`params\[0\]\[1\] \(b_1\)` must be array-like"),
]


@pytest.mark.parametrize("params, exc, match", [c[1:] for c in _BAD], ids=[c[0] for c in _BAD])
def test_check_params_rejects(params, exc, match):
    with pytest.raises(exc, match=match):
        mlp.check_params(params)


def test_bad_sizes_and_theta():
    with pytest.raises(ValueError, match=r"`sizes` needs at least two widths"):
        mlp.init_params([3])
    with pytest.raises(ValueError, match=r"`sizes` must be >= 1, got 0"):
        mlp.init_params([3, 0])
    with pytest.raises(TypeError, match=r"`sizes` must be a sequence of positive integers"):
        mlp.init_params([3, 2.5])
    p = mlp.init_params([2, 2])
    with pytest.raises(ValueError, match=r"`theta` must have 6 entries"):
        mlp.unflatten(np.zeros(5), p)
    with pytest.raises(ValueError, match=r"`theta` must be finite"):
        mlp.unflatten(np.full(6, np.nan), p)


def test_list_parameters_are_accepted_everywhere_check_params_accepts_them():
    params = [([[1.0, 2.0]], [0.5])]
    assert mlp.n_params(params) == 3
    np.testing.assert_array_equal(mlp.flatten(params), [1.0, 2.0, 0.5])
    (W, b), = mlp.unflatten([3.0, 4.0, 5.0], params)
    np.testing.assert_array_equal(W, [[3.0, 4.0]])
    np.testing.assert_array_equal(b, [5.0])


_BAD_ARGS = [
    ("init: scale nan", lambda: mlp.init_params([2, 1], scale=np.nan), ValueError, "`scale` must be a finite number > 0, got nan"),
    ("init: scale 0", lambda: mlp.init_params([2, 1], scale=0), ValueError, "`scale` must be a finite number > 0"),
    ("init: bias inf", lambda: mlp.init_params([2, 1], bias=np.inf), ValueError, "`bias` must be a finite number"),
    ("init: bias str", lambda: mlp.init_params([2, 1], bias="0"), TypeError, "`bias` must be a real number"),
    ("init: seed float", lambda: mlp.init_params([2, 1], seed=1.5), TypeError, "`seed` must be an integer"),
    ("init: seed negative", lambda: mlp.init_params([2, 1], seed=-1), ValueError, "`seed` must be >= 0"),
    ("init: sizes None", lambda: mlp.init_params(None), TypeError, "`sizes` must be a sequence of positive integers"),
    ("n_params: None", lambda: mlp.n_params(None), ValueError, "`params` must be a non-empty list"),
    ("flatten: W 1-D", lambda: mlp.flatten([([1.0], [1.0])]), ValueError, r"`params\[0\]\[0\] \(W_1\)` must be 2-D"),
    ("flatten: empty W", lambda: mlp.flatten([(np.zeros((0, 2)), np.zeros(0))]), ValueError, "at least one row and column"),
    ("unflatten: like", lambda: mlp.unflatten([1.0], None), ValueError, "`like` must be a non-empty list"),
    ("unflatten: complex", lambda: mlp.unflatten([1j, 0, 0], [([[1.0, 2.0]], [0.5])]), TypeError, "`theta` must be real"),
    ("unflatten: length", lambda: mlp.unflatten([1.0], [([[1.0, 2.0]], [0.5])]), ValueError, "`theta` must have 3 entries"),
    ("sizes_of: pair", lambda: mlp.sizes_of([np.zeros((2, 2))]), ValueError, r"`params\[0\]` must be a pair"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD_ARGS], ids=[c[0] for c in _BAD_ARGS])
def test_bad_arguments_raise_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
