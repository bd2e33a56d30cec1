"""``gradcheck.check_answer``: the check cells of the chapters' coding exercises.

Its verdict is compared with ``np.allclose`` (the same rule, computed by numpy), its
printed line with what a reader must read, and a starter cell that is not filled in
(``raise NotImplementedError``) must print "not yet" and never raise.
"""

import numpy as np
import pytest

from lagprop import gradcheck


def said(capsys):
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # one line, always
    return out.strip()


def test_a_right_answer_says_right_and_the_largest_difference(capsys):
    e = [(np.arange(6.0).reshape(2, 3), np.ones(2))]
    a = [(e[0][0] + 3e-12, e[0][1].copy())]
    assert gradcheck.check_answer(a, e, what="the gradient") is True
    assert said(capsys) == "right: the gradient matches (largest difference 3e-12)"


def test_a_wrong_entry_is_named_with_what_was_got_and_expected(capsys):
    e = [(np.zeros((2, 3)), np.zeros(2)), (np.zeros((1, 2)), np.zeros(1))]
    a = [(np.zeros((2, 3)), np.zeros(2)), (np.array([[0.0, 0.25]]), np.zeros(1))]
    assert gradcheck.check_answer(a, e, what="the gradient") is False
    assert said(capsys) == ("not yet: the gradient differs at [1][0][0, 1]: got 0.25, "
                            "expected 0 (largest difference 2.5e-01)")


def test_a_wrong_number_is_named_as_the_value(capsys):
    assert gradcheck.check_answer(2.5, 2.0, what="the step") is False
    assert said(capsys).startswith("not yet: the step differs at the value: got 2.5")


@pytest.mark.parametrize("seed", range(5))
def test_the_verdict_is_numpys_allclose(seed, capsys):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((4, 5))
    a = e + rng.choice([0.0, 1e-9, 1e-5], size=e.shape) * rng.standard_normal(e.shape)
    got = gradcheck.check_answer(a, e, what="x", rtol=1e-6, atol=1e-8)
    assert got == np.allclose(a, e, rtol=1e-6, atol=1e-8)
    assert said(capsys).startswith("right:" if got else "not yet:")


def test_a_transposed_answer_is_a_shape_not_a_broadcast(capsys):
    assert gradcheck.check_answer(np.ones((3, 2)), np.ones((2, 3)), what="W") is False
    assert said(capsys) == "not yet: W has shape (3, 2), expected (2, 3)"
    short = [np.ones(2)]
    assert gradcheck.check_answer(short, [np.ones(2), np.ones(1)], what="g") is False
    assert "has shape" in said(capsys)


def test_a_non_finite_answer_is_not_yet(capsys):
    nan = np.array([1.0, np.nan])
    assert gradcheck.check_answer(nan, np.ones(2), what="x") is False
    assert said(capsys) == "not yet: x is not finite at [1]: got nan"


def test_an_unfilled_starter_prints_not_yet_and_does_not_raise(capsys):
    def my_backward(params):
        """The starter: signature and docstring, no body."""
        raise NotImplementedError  # your code here

    assert gradcheck.check_answer(lambda: my_backward(None), np.ones(2),
                                  what="the gradient") is False
    assert said(capsys) == "not yet: the gradient is not written"


@pytest.mark.parametrize("placeholder", [None, ..., [np.ones(2), None], (..., 1.0)])
def test_a_placeholder_value_is_not_written(placeholder, capsys):
    assert gradcheck.check_answer(placeholder, [np.ones(2), 1.0], what="g") is False
    assert said(capsys) == "not yet: g is not written"


def test_a_mistake_in_the_readers_code_propagates():
    def broken():
        return np.ones(2) @ np.ones(3)

    with pytest.raises(ValueError):
        gradcheck.check_answer(broken, np.ones(2), what="x")


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(what=3), TypeError, "`what` must be a string, got int"),
    (dict(what="  "), ValueError, "`what` must be a non-empty string"),
    (dict(what="x", rtol=-1.0), ValueError, "rtol"),
    (dict(what="x", atol=np.nan), ValueError, "atol"),
])
def test_arguments_are_validated(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        gradcheck.check_answer(1.0, 1.0, **kwargs)


@pytest.mark.parametrize("expected, exc", [
    (None, TypeError), (np.array([1.0, np.inf]), ValueError),
    ("abc", (TypeError, ValueError)),
])
def test_a_bad_reference_is_an_error(expected, exc):
    with pytest.raises(exc):
        gradcheck.check_answer(1.0, expected, what="x")
