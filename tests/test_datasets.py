"""Tests of lagprop.datasets: shapes, values, determinism, and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lagprop import datasets


def test_xor_values():
    X, D = datasets.xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(D, [[0], [1], [1], [0]])
    assert X.dtype == D.dtype == np.float64
    # the closed form x1 + x2 - 2 x1 x2
    np.testing.assert_array_equal(D[:, 0], X[:, 0] + X[:, 1] - 2 * X[:, 0] * X[:, 1])


def test_dataset_is_a_named_pair():
    ds = datasets.xor()
    inputs, targets = ds
    assert inputs is ds.inputs and targets is ds.targets


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=1, max_value=8))
def test_parity_shapes_and_values(n_bits):
    X, D = datasets.parity(n_bits)
    assert X.shape == (2**n_bits, n_bits) and D.shape == (2**n_bits, 1)
    # every pattern appears once
    assert len({tuple(row) for row in X}) == 2**n_bits
    np.testing.assert_array_equal(D[:, 0], X.sum(axis=1) % 2)
    # parity is balanced
    assert D.sum() == 2 ** (n_bits - 1)


def test_parity_bad_input():
    with pytest.raises(ValueError, match="`n_bits`"):
        datasets.parity(0)
    with pytest.raises(ValueError, match="`n_bits` must be <= 16"):
        datasets.parity(17)
    with pytest.raises(TypeError, match="`n_bits`"):
        datasets.parity(2.5)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=200), st.integers(min_value=0, max_value=2**31))
def test_sine_regression_shapes_and_determinism(n, seed):
    X, D = datasets.sine_regression(n, noise=0.1, seed=seed)
    assert X.shape == (n, 1) and D.shape == (n, 1)
    assert np.all(np.diff(X[:, 0]) >= 0)
    assert np.all((X >= -np.pi) & (X <= np.pi))
    X2, D2 = datasets.sine_regression(n, noise=0.1, seed=seed)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(D, D2)


def test_sine_regression_noise_free_is_sine_and_noise_has_the_right_scale():
    X, D = datasets.sine_regression(50, noise=0.0, seed=3)
    np.testing.assert_allclose(D, np.sin(X), rtol=0, atol=0)
    X, D = datasets.sine_regression(20000, noise=0.3, seed=3)
    assert abs(np.std(D - np.sin(X)) - 0.3) < 0.01


def test_sine_regression_seeds_differ():
    assert not np.array_equal(datasets.sine_regression(10, seed=0).inputs,
                              datasets.sine_regression(10, seed=1).inputs)


def test_sine_regression_bad_input():
    with pytest.raises(ValueError, match="`n`"):
        datasets.sine_regression(0)
    with pytest.raises(ValueError, match="`noise`"):
        datasets.sine_regression(5, noise=-1.0)
    with pytest.raises(ValueError, match="`noise`"):
        datasets.sine_regression(5, noise=float("nan"))
    with pytest.raises(ValueError, match="`low` and `high`"):
        datasets.sine_regression(5, low=1.0, high=1.0)


def test_completion_task_cues_hide_units_and_reuse_patterns():
    task = datasets.completion_task(10, 2, cues_per_pattern=3, n_hidden=3, seed=4)
    assert task.U.shape == (6, 10) and task.D.shape == (6, 10)
    assert np.all(task.U[task.hidden] == 0) and np.all(task.hidden.sum(axis=1) == 3)
    assert np.all(np.abs(task.U[~task.hidden]) == 1)
    np.testing.assert_array_equal(task.D, 0.8 * task.patterns[task.label])
    np.testing.assert_array_equal(task.label, [0, 0, 0, 1, 1, 1])
    again = datasets.completion_task(10, 2, cues_per_pattern=3, n_hidden=3, seed=5, patterns=task.patterns)
    assert np.array_equal(again.patterns, task.patterns) and not np.array_equal(again.hidden, task.hidden)


def test_completion_task_without_hidden_units_shows_the_whole_pattern():
    task = datasets.completion_task(8, 2, n_hidden=0, seed=1)
    assert not task.hidden.any()
    np.testing.assert_array_equal(task.U, task.patterns[task.label])  # gain 1
    # the default hides n // 3 units, at least one
    assert datasets.completion_task(4, 1).hidden.sum(axis=1).tolist() == [1] * 4


def test_every_result_is_an_immutable_named_tuple():
    results = [datasets.xor(), datasets.parity(3), datasets.sine_regression(4),
               datasets.completion_task(6, 2)]
    for r in results:
        assert isinstance(r, tuple) and hasattr(r, "_fields")
        with pytest.raises(AttributeError):
            setattr(r, r._fields[0], None)
    patterns, U, D, label, hidden = results[-1]  # unpacks in the order of its fields
    assert U is results[-1].U and hidden is results[-1].hidden


_BAD_CT = [
    ("n_hidden -1", dict(n=4, n_patterns=1, n_hidden=-1), ValueError,
     "`n_hidden` must be >= 0"),
    ("n_hidden 1.5", dict(n=4, n_patterns=1, n_hidden=1.5), TypeError,
     "`n_hidden` must be an integer"),
    ("seed -1", dict(n=4, n_patterns=1, seed=-1), ValueError, "`seed` must be >= 0"),
    ("n_hidden >= n", dict(n=4, n_patterns=1, n_hidden=4), ValueError, "`n_hidden` must be < n"),
    ("n 1", dict(n=1, n_patterns=1), ValueError, "`n` must be >= 2"),
    ("gain nan", dict(n=4, n_patterns=1, gain=np.nan), ValueError, "`gain` must be a finite number"),
    ("amplitude 0", dict(n=4, n_patterns=1, amplitude=0.0), ValueError, "`amplitude` must be a finite number"),
    ("seed float", dict(n=4, n_patterns=1, seed=0.5), TypeError, "`seed` must be an integer"),
    ("patterns shape", dict(n=4, n_patterns=1, patterns=np.ones((2, 4))), ValueError, r"`patterns` must have shape \(1, 4\)"),
    ("patterns values", dict(n=4, n_patterns=1, patterns=np.full((1, 4), 0.5)), ValueError, "only -1 and \\+1"),
    ("cues 0", dict(n=4, n_patterns=1, cues_per_pattern=0), ValueError, "`cues_per_pattern` must be >= 1"),
]


@pytest.mark.parametrize("kw, exc, match", [c[1:] for c in _BAD_CT], ids=[c[0] for c in _BAD_CT])
def test_completion_task_bad_input(kw, exc, match):
    with pytest.raises(exc, match=match):
        datasets.completion_task(**kw)


@pytest.mark.parametrize("kw, exc, match", [
    (dict(noise=np.nan), ValueError, "`noise` must be a finite number >= 0"),
    (dict(noise=-1.0), ValueError, "`noise` must be a finite number >= 0"),
    (dict(noise=None), TypeError, "`noise` must be a real number"),
    (dict(low=1.0, high=0.0), ValueError, "low < high"),
    (dict(high=np.inf), ValueError, "`high` must be a finite number"),
    (dict(seed=-3), ValueError, "`seed` must be >= 0"),
])
def test_sine_regression_bad_input(kw, exc, match):
    with pytest.raises(exc, match=match):
        datasets.sine_regression(5, **kw)
