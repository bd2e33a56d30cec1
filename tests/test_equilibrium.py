"""Tests of lagprop.equilibrium: the Hopfield energy and equilibrium propagation."""

import numpy as np
import pytest

import lagprop
from lagprop import equilibrium as eq, recurrent as rc
from lagprop.gradcheck import central_difference, relative_error


def symmetric(n, seed, radius=0.5, u_scale=1.0):
    rng = np.random.default_rng(seed)
    S = rng.standard_normal((n, n))
    S = (S + S.T) / 2
    S *= radius / rc.spectral_radius(S)
    return S, u_scale * rng.standard_normal(n)


def test_equilibrium_propagation_tends_to_recurrent_backprop():
    S, u = symmetric(6, 13)
    out, d = [4, 5], [0.3, -0.4]
    _, g = rc.gradient(S, u, d, out, method="solve")
    x = rc.fixed_point(S, u)
    Y = rc.costate(S, u, x, d, out, method="solve").Y
    betas = np.array([1e-1, 1e-2, 1e-3])
    errs = []
    for b in betas:
        ep = eq.equilibrium_propagation(S, u, d, out, beta=b)
        errs.append(relative_error(ep.grad_W, (g + g.T) / 2))
        assert relative_error(ep.grad_u, -Y) < 5 * b
        assert np.max(np.abs(ep.x_free - x)) < 1e-12
        # the nudged state is the fixed point of the nudged map, checked directly
        grad_C = np.zeros(6)
        grad_C[out] = -2 * (np.asarray(d) - ep.x_nudged[out])
        nudged = np.tanh(S @ ep.x_nudged + u - b * grad_C)
        assert np.max(np.abs(nudged - ep.x_nudged)) < 1e-12
    order = np.polyfit(np.log(betas), np.log(errs), 1)[0]
    assert abs(order - 1) < 0.1


def test_the_free_phase_is_a_stationary_point_of_the_energy():
    S, u = symmetric(6, 13)
    x = rc.fixed_point(S, u)
    gE = central_difference(lambda z: eq.hopfield_energy(S, u, z), x, h=1e-6)
    assert np.max(np.abs(gE)) < 1e-8
    # and a non-stationary point is not: the gradient is artanh(x) - W x - u, by hand
    z = 0.5 * x
    gz = central_difference(lambda v: eq.hopfield_energy(S, u, v), z, h=1e-6)
    np.testing.assert_allclose(gz, np.arctanh(z) - S @ z - u, rtol=1e-7, atol=1e-9)


def test_a_nudged_phase_that_cannot_converge_reports_the_spectral_radius():
    S, u = symmetric(6, 13, u_scale=0.1)
    with pytest.raises(lagprop.ConvergenceError) as exc:
        eq.equilibrium_propagation(S, u, [0.3, -0.4], [4, 5], beta=0.5, max_iter=2000)
    e = exc.value
    assert e.iterations == 2000 and e.spectral_radius > 1
    assert "spectral radius" in e.diagnosis and "smaller `beta`" in e.diagnosis
    assert all(len(line) <= 88 for line in str(e).splitlines())


_S, _u = symmetric(3, 1)
_BAD = [
    ("E: W not symmetric", lambda: eq.hopfield_energy(np.triu(np.ones((3, 3))), _u, np.zeros(3)), ValueError, "`W` must be symmetric"),
    ("E: x outside", lambda: eq.hopfield_energy(_S, _u, np.array([0.0, -1.5, 0.2])), ValueError,
     r"`x` must lie in \(-1, 1\) for the tanh energy, got max \|x_i\| = 1\.5"),
    ("E: W not square", lambda: eq.hopfield_energy(np.ones((2, 3)), _u, np.zeros(3)), ValueError,
     r"`W` must be a non-empty square \(n, n\) matrix, got shape \(2, 3\)"),
    ("E: u shape", lambda: eq.hopfield_energy(_S, np.ones(2), np.zeros(3)), ValueError, r"`u` must have shape \(3,\)"),
    ("E: x complex", lambda: eq.hopfield_energy(_S, _u, np.zeros(3) + 0j), TypeError, "`x` must be real"),
    ("EP: not symmetric", lambda: eq.equilibrium_propagation(np.triu(np.ones((3, 3))), _u, [0.1], [0], beta=0.1), ValueError, "symmetric"),
    ("EP: beta 0", lambda: eq.equilibrium_propagation(_S, _u, [0.1], [0], beta=0.0), ValueError, "`beta` must be a finite number > 0"),
    ("EP: beta nan", lambda: eq.equilibrium_propagation(_S, _u, [0.1], [0], beta=np.nan), ValueError, "`beta` must be a finite number > 0"),
    ("EP: beta None", lambda: eq.equilibrium_propagation(_S, _u, [0.1], [0], beta=None), TypeError, "`beta` must be a positive real number"),
    ("EP: tol nan", lambda: eq.equilibrium_propagation(_S, _u, [0.1], [0], beta=0.1, tol=np.nan), ValueError, "`tol` must be a finite number > 0"),
    ("EP: beta below rounding", lambda: eq.equilibrium_propagation(_S, _u, [0.1], [0], beta=1e-300),
     ValueError, r"`beta` too small: the nudge beta max\|grad C\| = .* at or below the relaxations' "
     r"tolerance `tol` = 1e-12, .* got beta = 1e-300"),
    ("EP: beta below tol", lambda: eq.equilibrium_propagation(_S, _u, [0.1], [0], beta=1e-9, tol=1e-8),
     ValueError, "`beta` too small"),
    ("EP: max_iter", lambda: eq.equilibrium_propagation(_S, _u, [0.1], [0], beta=0.1, max_iter=0), ValueError, "`max_iter` must be >= 1"),
    ("EP: outputs", lambda: eq.equilibrium_propagation(_S, _u, [0.1], [5], beta=0.1), ValueError, "`outputs` must hold indices"),
    ("EP: targets", lambda: eq.equilibrium_propagation(_S, _u, [0.1, 0.2], [0], beta=0.1), ValueError, "`targets` must have one entry per output"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD], ids=[c[0] for c in _BAD])
def test_bad_input_raises_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_the_result_reports_both_relaxations_and_the_tolerance_is_recurrents():
    import inspect

    S, u = symmetric(6, 13)
    out, d = [4, 5], [0.3, -0.4]
    ep = eq.equilibrium_propagation(S, u, d, out, beta=1e-2)
    fp = rc.relax(S, u)  # recurrent's relaxation from zero: the same kernel and tolerance
    assert ep.free_iterations == fp.iterations and ep.free_residual == fp.residual
    assert ep.free_residual <= 1e-12 and ep.nudged_residual <= 1e-12
    assert 0 < ep.nudged_iterations < 10_000 and isinstance(ep.nudged_iterations, int)
    # the nudged residual is the one reported, recomputed here from x_nudged
    grad_C = np.zeros(6)
    grad_C[out] = -2 * (np.asarray(d) - ep.x_nudged[out])
    assert np.max(np.abs(np.tanh(S @ ep.x_nudged + u - 1e-2 * grad_C) - ep.x_nudged)) <= 1e-12
    tol_eq = inspect.signature(eq.equilibrium_propagation).parameters["tol"].default
    assert tol_eq == inspect.signature(rc.fixed_point).parameters["tol"].default == 1e-12


def test_targets_already_met_need_no_nudge_and_give_a_zero_estimate():
    S, u = symmetric(4, 3)
    x = rc.fixed_point(S, u)
    ep = eq.equilibrium_propagation(S, u, x[[1, 2]], [1, 2], beta=1e-300)  # grad C(x0) = 0
    assert np.all(ep.grad_W == 0.0) and np.all(ep.grad_u == 0.0)
