"""The shared validation helpers behind every public function's error messages."""

import numpy as np
import pytest

from lagprop._validate import as_patterns, check_masses


def test_as_patterns_promotes_one_pattern_and_checks_the_width():
    assert as_patterns([1.0, 2.0], "x", 2).shape == (1, 2)
    assert as_patterns(np.zeros((3, 2)), "x", 2).dtype == np.float64
    with pytest.raises(ValueError, match=r"`x` must have 3 columns \(one row per pattern\), got shape \(1, 2\)"):
        as_patterns([1.0, 2.0], "x", 3)
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
