"""lagprop.optim against steps computed by hand."""

import numpy as np
import pytest

from lagprop import optim


def test_adam_first_two_steps_by_hand():
    opt = optim.Adam(lr=0.1, beta1=0.5, beta2=0.75, eps=1e-8)
    p = [np.array([1.0, -2.0])]
    g1 = np.array([0.4, -3.0])
    p1 = opt.step(p, [g1])
    # step 1: m = 0.5 g, v = 0.25 g^2; corrected m/0.5 = g, v/0.25 = g^2: step = lr g/(|g| + eps)
    np.testing.assert_allclose(p1[0], [1.0 - 0.1 * 0.4 / (0.4 + 1e-8), -2.0 + 0.1 * 3.0 / (3.0 + 1e-8)],
                               rtol=1e-15)
    g2 = np.array([0.2, 1.0])
    p2 = opt.step(p1, [g2])
    # step 2, by hand: m = 0.5*0.5*g1 + 0.5*g2, v = 0.75*0.25*g1^2 + 0.25*g2^2, c1 = 0.75, c2 = 0.4375
    m = np.array([0.25 * 0.4 + 0.5 * 0.2, 0.25 * -3.0 + 0.5 * 1.0])  # [0.2, -0.25]
    v = np.array([0.1875 * 0.16 + 0.25 * 0.04, 0.1875 * 9.0 + 0.25 * 1.0])  # [0.04, 1.9375]
    np.testing.assert_allclose(m, [0.2, -0.25])
    expect = p1[0] - 0.1 * (m / 0.75) / (np.sqrt(v / 0.4375) + 1e-8)
    np.testing.assert_allclose(p2[0], expect, rtol=1e-14)
    assert opt.t == 2
    assert p[0][0] == 1.0  # the input is not modified


def test_momentum_by_hand():
    opt = optim.Momentum(lr=0.5, momentum=0.9)
    p = [np.array([2.0]), np.array([[1.0, 1.0]])]
    p1 = opt.step(p, [np.array([1.0]), np.array([[0.0, 2.0]])])
    np.testing.assert_allclose(p1[0], [1.5])
    np.testing.assert_allclose(p1[1], [[1.0, 0.0]])
    p2 = opt.step(p1, [np.array([-1.0]), np.array([[0.0, 0.0]])])
    # u = 0.9 * 1 - 1 = -0.1: 1.5 + 0.05; second: u = 1.8, 0 - 0.9
    np.testing.assert_allclose(p2[0], [1.55])
    np.testing.assert_allclose(p2[1], [[1.0, -0.9]])


def test_adam_minimises_a_quadratic():
    opt = optim.Adam(lr=0.05)
    p = [np.array([3.0, -1.0])]
    for _ in range(2000):
        p = opt.step(p, [2.0 * p[0] * np.array([1.0, 10.0])])
    assert np.max(np.abs(p[0])) < 1e-3


@pytest.mark.parametrize("make, match", [
    (lambda: optim.Adam(lr=0.0), "`lr`"),
    (lambda: optim.Adam(beta1=1.0), "`beta1`"),
    (lambda: optim.Momentum(0.1, momentum=-0.1), "`momentum`"),
    (lambda: optim.Adam().step([np.zeros(2)], [np.zeros(3)]), "`grads\\[0\\]`"),
    (lambda: optim.Adam().step([np.zeros(2)], []), "`grads`"),
])
def test_bad_input(make, match):
    with pytest.raises(ValueError, match=match):
        make()
