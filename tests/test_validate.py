"""The shared validation helpers behind every public function's error messages."""

import numpy as np
import pytest

from lagprop._validate import as_patterns, check_masses


def test_as_patterns_promotes_one_pattern_and_checks_the_width():
    assert as_patterns([1.0, 2.0], "x", 2).shape == (1, 2)
    assert as_patterns(np.zeros((3, 2)), "x", 2).dtype == np.float64
    with pytest.raises(ValueError, match=r"^`x` must have 3 columns, one row per pattern \(a 1-D array is "
                       r"one pattern\), got a 1-D array of shape \(2,\)$"):
        as_patterns([1.0, 2.0], "x", 3)
    with pytest.raises(ValueError, match=r"`x` must have 3 columns \(one row per pattern\), got shape \(4, 2\)"):
        as_patterns(np.zeros((4, 2)), "x", 3)
    with pytest.raises(ValueError, match="`x` must be finite"):
        as_patterns([[np.nan, 1.0]], "x", 2)


def test_check_masses_takes_a_scalar_or_one_mass_per_weight():
    assert check_masses(2, 3) == 2.0 and check_masses(np.array(0.5), 3) == 0.5
    assert np.array_equal(check_masses([1, 2, 3], 3), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="`mu` must be a finite number > 0, got 0.0"):
        check_masses(0.0, 3)
    with pytest.raises(ValueError, match=r"`mu` must be > 0 for every weight, got min\(mu\) = -1.0"):
        check_masses([1.0, -1.0, 1.0], 3)
    with pytest.raises(ValueError, match="one mass per weight, shape \\(3,\\), got \\(2,\\)"):
        check_masses([1.0, 1.0], 3)
    with pytest.raises(TypeError, match="`mu` must be a positive real number"):
        check_masses(True, 3)


def test_describe_and_short_repr_stay_on_one_short_line():
    from lagprop._validate import _describe, short_repr

    text = _describe([np.arange(50.0).reshape(10, 5)] * 3)
    assert "\n" not in text and len(text) <= 70 and text.startswith("list [array(")
    assert short_repr("x" * 100, 20) == "'" + "x" * 16 + "..."
    assert _describe(np.ones((2, 3))) == "an array of shape (2, 3) and dtype float64"


def test_number_never_prints_a_signed_zero():
    from lagprop._validate import number

    assert number(-0.0) == "0" and number(0.0) == "0"
    assert number(-1e-9, ".2f") == "0.00" and number(-0.004, ".2f") == "-0.00"[1:]
    assert number(-1e-9) == "-1e-09" and number(-2.5) == "-2.5" and number(3.14159) == "3.142"


_BAD_RETURNS = [
    ("complex", 1j * np.ones(2), TypeError, r"^`g` must return real numbers, got a complex array of shape \(2,\) at k = 1$"),
    ("text", "ab", TypeError, r"^`g` must return real numbers, got str 'ab' at k = 1$"),
    ("None", None, TypeError, r"^`g` must return real numbers, got NoneType None at k = 1$"),
    ("ragged", [[1.0], [1.0, 2.0]], TypeError, r"^`g` must return real numbers, got list"),
    ("object None", np.array([1.0, None], dtype=object), TypeError, r"must return real numbers"),
    ("shape", np.ones(3), ValueError, r"^`g` must return an array of shape \(2,\), got shape \(3,\) at k = 1$"),
    ("nan", [np.nan, 1.0], ValueError, r"^`g` returned non-finite values \(nan or inf\) at k = 1$"),
]


@pytest.mark.parametrize("value, exc, match", [c[1:] for c in _BAD_RETURNS], ids=[c[0] for c in _BAD_RETURNS])
def test_returned_array_rejects(value, exc, match):
    from lagprop._validate import returned_array

    with pytest.raises(exc, match=match):
        returned_array(value, "g", (2,), where=" at k = 1")


def test_returned_array_accepts_real_numbers_of_any_kind():
    from fractions import Fraction

    from lagprop._validate import returned_array

    out = returned_array(np.array([Fraction(1, 2), 2], dtype=object), "g", (2,))
    assert out.dtype == np.float64 and out.tolist() == [0.5, 2.0]
    assert returned_array([True, 3], "g").tolist() == [1.0, 3.0]


@pytest.mark.parametrize("ids, match", [
    ([1e20, 0.0], r"^`t` must hold integer ids below 2\*\*62, got 1e\+20$"),
    ([np.inf, 0.0], r"^`t` must hold integer ids, got a non-finite value$"),
    ([np.nan], r"^`t` must hold integer ids, got a non-finite value$"),
    ([1.5], r"^`t` must hold integer ids, got a fractional value$"),
    (["a"], r"^`t` must hold integer ids, got dtype <U1$"),
    ([-2], r"^`t` ids must be >= -1, got -2$"),
])
def test_integer_ids_rejects_without_a_cast_warning(ids, match):
    from lagprop._validate import integer_ids

    with pytest.raises(ValueError, match=match):
        integer_ids(np.array(ids), "t")


def test_integer_ids_accepts_integer_valued_floats():
    from lagprop._validate import integer_ids

    out = integer_ids(np.array([[2.0, -1.0]]), "t")
    assert out.dtype == np.int64 and out.tolist() == [[2, -1]]
    assert integer_ids(np.zeros((0, 3)), "t").shape == (0, 3)


def test_index_checks_type_and_range():
    from lagprop._validate import index

    assert index(np.int64(4), "p", 5) == 4 and index([0, 4], "p", 5).tolist() == [0, 4]
    with pytest.raises(ValueError, match=r"^`p` must be an index in 0..4, got 6$"):
        index(6, "p", 5)
    with pytest.raises(ValueError, match=r"^`p` must be an index in 0..4, got -1$"):
        index([-1, 2], "p", 5)
    with pytest.raises(TypeError, match=r"^`p` must be an index, an integer in 0..4, got float 1.5$"):
        index(1.5, "p", 5)
    with pytest.raises(TypeError, match=r"got bool True"):
        index(True, "p", 5)


def test_text_is_not_a_number():
    from lagprop._validate import as_float_array

    for bad in (["1.5"], "2", np.array(["1"]), np.array([1.0, "x"], dtype=object)):
        with pytest.raises(TypeError, match=r"`x` must be array-like of real numbers"):
            as_float_array(bad, "x")


def test_check_overflow_names_the_arguments_their_sizes_and_where():
    from lagprop._validate import check_overflow

    big = np.array([1e308, 1e308])  # finite, but its sum overflows: no error
    check_overflow([np.ones(2), 3.0, big, np.zeros(0)], "the pass", x=big)
    check_overflow({"h": big}, "the pass", x=big)
    with pytest.raises(ValueError, match=r"^`x` too large for float64: the pass "
                       r"overflows \(largest magnitudes: `x` 1e\+308\); rescale them$"):
        check_overflow([np.ones(2), np.array([np.inf])], "the pass", x=big)
    # by name: where it overflowed; several arguments, nested, and a NaN
    with pytest.raises(ValueError, match=r"^`W`, `x` or `y` too large for float64: the "
                       r"pass overflows at 'h2' \(largest magnitudes: `W` 3, `x` 2, "
                       r"`y` 0\)"):
        check_overflow({"h1": np.ones(2), "h2": np.array([np.nan])}, "the pass",
                       W=[(np.array([-3.0]), np.ones(1))], x={"a": 2.0}, y=[])
