"""Tests of lagprop.supervision: the mollifier and timed streams."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from lagprop import supervision as sv


def test_I1_by_quadrature():
    val, _ = quad(lambda s: np.exp(1 - 1 / (1 - s ** 2)), -1, 1, epsabs=1e-13, epsrel=1e-13, limit=200)
    assert sv.I1 == pytest.approx(val, rel=1e-13)


@pytest.mark.parametrize("eps", [1e-3, 0.1, 1.0, 7.5])
def test_mollifier_unit_mass_and_support(eps):
    mass, _ = quad(lambda t: float(sv.mollifier(t, eps)), -eps, eps, epsabs=1e-13, epsrel=1e-12)
    assert mass == pytest.approx(1.0, rel=1e-10)
    assert np.all(sv.mollifier(np.array([-eps, eps, 2 * eps, -3 * eps]), eps) == 0)
    assert float(sv.mollifier(0.0, eps)) == pytest.approx(1 / (eps * sv.I1))


def test_mollifier_tends_to_delta():
    f = np.cos
    errs = [abs(quad(lambda t: float(sv.mollifier(t, e)) * f(t), -e, e, epsabs=1e-14)[0] - f(0.0))
            for e in (0.1, 0.01)]
    assert errs[1] < errs[0] / 50  # second order for a symmetric kernel


def test_even_and_jittered_streams(rng):
    X, Y = rng.normal(size=(6, 2)), rng.normal(size=(6, 1))
    s = sv.even_stream(X, Y, spacing=0.5)
    assert np.allclose(s.times, 0.5 * np.arange(1, 7)) and len(s) == 6
    assert np.allclose(s.spacings, 0.5)
    j = sv.jittered_stream(X, Y, spacing=1.0, jitter=0.4, seed=3)
    assert np.all(np.diff(j.times) > 0.2 - 1e-12) and np.all(np.diff(j.times) < 1.8 + 1e-12)
    assert np.array_equal(j.times, sv.jittered_stream(X, Y, spacing=1.0, jitter=0.4, seed=3).times)
    s1 = sv.stream([0.0, 1.0, 3.0], [1.0, 2.0, 3.0], [0.0, 1.0, 0.0])
    assert s1.inputs.shape == (3, 1) and s1.targets.shape == (3, 1)
    with pytest.raises(Exception):
        s1.times = np.zeros(3)  # frozen


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2 ** 31), K=st.integers(1, 40), jitter=st.floats(0.0, 0.49),
       spacing=st.floats(1e-3, 1e3))
def test_jittered_increasing(seed, K, jitter, spacing):
    s = sv.jittered_stream(np.zeros((K, 1)), np.zeros((K, 1)), spacing=spacing, jitter=jitter, seed=seed)
    assert np.all(np.diff(s.times) > 0) and s.times[0] >= 0


def test_mollifier_normaliser_gives_unit_mass_by_independent_quadrature():
    for eps in (0.05, 0.5, 3.0):
        bump, _ = quad(lambda t: np.exp(1 - eps ** 2 / (eps ** 2 - t ** 2)), -eps, eps, epsabs=1e-14,
                       epsrel=1e-13, limit=200)
        assert sv.mollifier_normaliser(eps) * bump == pytest.approx(1.0, rel=1e-11)
        assert float(sv.mollifier(0.0, eps)) == pytest.approx(sv.mollifier_normaliser(eps), rel=1e-15)


def test_mollifier_far_away_is_zero_without_overflow():
    np.testing.assert_array_equal(sv.mollifier([1e200, -1e300], 1e-3), [0.0, 0.0])


@pytest.mark.parametrize("call,match", [
    (lambda: sv.stream([1.0, 1.0], [0, 0], [0, 0]), "`times` must be strictly increasing"),
    (lambda: sv.stream([-0.5, 1.0], [0, 0], [0, 0]), r"`times` must be >= 0"),
    (lambda: sv.stream([0.5, 1.0], [0, 0, 0], [0, 0]), "`inputs` must have one row per instant"),
    (lambda: sv.stream([0.5, np.nan], [0, 0], [0, 0]), "`times` must be finite"),
    (lambda: sv.even_stream(np.zeros((2, 1)), np.zeros((2, 1)), spacing=0.0), "`spacing` must be"),
    (lambda: sv.jittered_stream(np.zeros((2, 1)), np.zeros((2, 1)), spacing=1.0, jitter=0.5), "`jitter` must be"),
    (lambda: sv.check_windows([1.0, 1.5], 0.3), "mollifier windows overlap"),
    (lambda: sv.check_windows([0.1, 1.5], 0.3), "first mollifier window starts before t = 0"),
    (lambda: sv.mollifier(0.0, -1.0), "`eps` must be a finite number > 0"),
    (lambda: sv.mollifier(np.nan, 1.0), "`tau` must be finite"),
    (lambda: sv.mollifier(0.0, np.nan), "`eps` must be a finite number > 0"),
    (lambda: sv.mollifier_normaliser(0.0), "`eps` must be a finite number > 0"),
    (lambda: sv.jittered_stream(np.zeros((2, 1)), np.zeros((2, 1)), spacing=1.0, jitter=np.nan), r"`jitter` must be a finite number in \[0.0, 0.5\)"),
    (lambda: sv.jittered_stream(np.zeros((2, 1)), np.zeros((2, 1)), spacing=1.0, seed=-1), "`seed` must be >= 0"),
    (lambda: sv.even_stream(np.zeros((2, 1)), np.zeros((2, 1)), spacing=1.0, start=np.nan), "`start` must be a finite number >= 0"),
    (lambda: sv.even_stream(np.zeros((0, 1)), np.zeros((0, 1)), spacing=1.0), "`inputs` must be a non-empty"),
    (lambda: sv.check_times([]), "at least one supervision instant"),
    (lambda: sv.mollifier_normaliser(1e-320),
     r"^`eps` must be >= 4.61e-309 \(below it the mollifier's height 1/\(eps I1\) overflows float64\), got 1e-320$"),
    (lambda: sv.mollifier(0.0, 5e-324), r"^`eps` must be >= 4.61e-309"),
    (lambda: sv.check_windows([1.0], 1e-320), r"^`eps` must be >= 4.61e-309"),
    (lambda: sv.mollifier_normaliser(np.inf), r"^`eps` must be a finite number > 0, got inf$"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call,match", [
    (lambda: sv.mollifier(None, 1.0), "`tau` must be array-like of real numbers, got None"),
    (lambda: sv.mollifier(1j, 1.0), "`tau` must be real"),
    (lambda: sv.mollifier(0.0, None), "`eps` must be a positive real number"),
    (lambda: sv.even_stream(None, None, spacing=1.0), "`inputs` must be array-like"),
    (lambda: sv.jittered_stream(np.zeros((2, 1)), np.zeros((2, 1)), spacing=1.0, jitter="0.1"), "`jitter` must be a real number"),
])
def test_bad_types(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_the_smallest_eps_has_a_finite_normaliser_and_its_predecessor_does_not():
    Z = sv.mollifier_normaliser(sv.EPS_MIN)
    assert np.isfinite(Z) and Z > 1e308
    with np.errstate(over="ignore"):
        assert not np.isfinite(1.0 / (np.nextafter(sv.EPS_MIN, 0.0) * sv.I1))
    assert np.isfinite(sv.mollifier([0.0, sv.EPS_MIN / 2], sv.EPS_MIN)).all()
    # the normaliser is 1/(eps I1) down there as well: its product with eps I1 is one
    assert Z * (sv.EPS_MIN * sv.I1) == pytest.approx(1.0, rel=1e-12)
