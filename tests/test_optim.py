"""lagprop.optim against steps by hand, the book's heavy-ball motion, textbook Adam."""

import dataclasses

import numpy as np
import pytest

from lagprop import dynamics, optim


def _run(opt, params, grads_seq):
    state = opt.init(params)
    for g in grads_seq:
        params, state = opt.update(g, state, params)
    return params, state


def test_adam_first_two_steps_by_hand():
    opt = optim.Adam(lr=0.1, beta1=0.5, beta2=0.75, eps=1e-8)
    p = [np.array([1.0, -2.0])]
    g1 = np.array([0.4, -3.0])
    state = opt.init(p)
    p1, state = opt.update([g1], state, p)
    # step 1: m = 0.5 g, v = 0.25 g^2; corrected m/0.5 = g, v/0.25 = g^2:
    # the step is lr g/(|g| + eps)
    expect = [1.0 - 0.1 * 0.4 / (0.4 + 1e-8), -2.0 + 0.1 * 3.0 / (3.0 + 1e-8)]
    np.testing.assert_allclose(p1[0], expect, rtol=1e-15)
    g2 = np.array([0.2, 1.0])
    p2, state = opt.update([g2], state, p1)
    # step 2: m = 0.25 g1 + 0.5 g2, v = 0.1875 g1^2 + 0.25 g2^2, c1 = 0.75, c2 = 0.4375
    m = np.array([0.2, -0.25])
    v = np.array([0.1875 * 0.16 + 0.25 * 0.04, 0.1875 * 9.0 + 0.25 * 1.0])
    expect = p1[0] - 0.1 * (m / 0.75) / (np.sqrt(v / 0.4375) + 1e-8)
    np.testing.assert_allclose(p2[0], expect, rtol=1e-14)
    assert state.count == 2
    np.testing.assert_allclose(state.m[0], m, rtol=1e-15)
    np.testing.assert_allclose(state.sqrt_v[0] ** 2, v, rtol=1e-14)
    assert p[0][0] == 1.0  # the input is not modified


def _textbook_adam(p, grads, lr, b1, b2, eps):
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return p


def test_adam_is_textbook_adam_over_many_steps():
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(7)
    grads = [rng.standard_normal(7) * 10.0 ** rng.uniform(-3, 3) for _ in range(50)]
    ours, state = _run(optim.Adam(0.01, beta1=0.8, beta2=0.99, eps=1e-6), p0, grads)
    np.testing.assert_allclose(ours, _textbook_adam(p0, grads, 0.01, 0.8, 0.99, 1e-6),
                               rtol=1e-13)
    assert state.count == 50


@pytest.mark.parametrize("g", [1e-170, 1e-200, 1e200, 1e300, -1e250])
def test_adam_moves_by_about_the_step_at_any_gradient_scale(g):
    # textbook Adam with eps far below |g| moves by lr (exactly lr at t = 1); g*g would
    # underflow (|g| < 1e-154) or overflow (|g| > 1e154)
    opt = optim.Adam(1e-3, eps=1e-320)
    p, state = _run(opt, np.array([2.0, -1.0]), [np.array([g, g])] * 3)
    np.testing.assert_allclose(p, np.array([2.0, -1.0]) - 3e-3 * np.sign(g), rtol=1e-12)
    assert state.count == 3


def test_momentum_by_hand():
    opt = optim.Momentum(lr=0.5, rho=0.9)
    p = [np.array([2.0]), np.array([[1.0, 1.0]])]
    state = opt.init(p)
    p1, state = opt.update([np.array([1.0]), np.array([[0.0, 2.0]])], state, p)
    np.testing.assert_allclose(p1[0], [1.5])
    np.testing.assert_allclose(p1[1], [[1.0, 0.0]])
    p2, state = opt.update([np.array([-1.0]), np.array([[0.0, 0.0]])], state, p1)
    # u = 0.9 * 1 - 1 = -0.1: 1.5 + 0.05; second: u = 1.8, 0 - 0.9
    np.testing.assert_allclose(p2[0], [1.55])
    np.testing.assert_allclose(p2[1], [[1.0, -0.9]])
    assert state.count == 2


def test_momentum_is_the_books_heavy_ball_map():
    # impulses of spacing 0.5 on mu (w'' + beta w') = -grad C, C = w^T Q w / 2:
    # the exact motion at the impulse times, the position-form recursion and Momentum
    # with (lr, rho) = heavy_ball(beta, mu, spacing) give the same iterates
    Q = np.array([[3.0, 0.5], [0.5, 1.0]])
    beta, mu, spacing, n = 2.0, 0.7, 0.5, 30
    lr, rho = dynamics.heavy_ball(beta, mu, spacing)
    w0 = np.array([1.0, -2.0])
    exact = dynamics.simulate_impulses(lambda k, w: Q @ w, spacing * np.arange(n), w0,
                                       beta=beta, mu=mu).w
    positions = dynamics.heavy_ball_positions(lambda k, w: Q @ w, w0, n, lr, rho)
    opt = optim.Momentum(float(lr), rho=rho)
    w, state, ours = w0, opt.init(w0), [w0]
    for _ in range(n - 1):
        w, state = opt.update(Q @ w, state, w)
        ours.append(w)
    np.testing.assert_allclose(ours, positions, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours, exact, rtol=1e-10, atol=1e-13)


def test_adam_minimises_a_quadratic():
    p, _ = _run_fn(optim.Adam(lr=0.05), [np.array([3.0, -1.0])],
                   lambda p: [2.0 * p[0] * np.array([1.0, 10.0])], 2000)
    assert np.max(np.abs(p[0])) < 1e-3


def _run_fn(opt, params, grad, steps):
    state = opt.init(params)
    for _ in range(steps):
        params, state = opt.update(grad(params), state, params)
    return params, state


@pytest.mark.parametrize("opt", [optim.Momentum(0.1, rho=0.5), optim.Adam(0.1)],
                         ids=["momentum", "adam"])
def test_nested_structures_keep_their_shape(opt):
    rng = np.random.default_rng(1)
    pairs = [(rng.standard_normal((3, 2)), rng.standard_normal(3)),
             (rng.standard_normal((1, 3)), rng.standard_normal(1))]
    named = {"W": rng.standard_normal((2, 2)), "layers": [rng.standard_normal(4)]}
    for params in (pairs, named, rng.standard_normal(5)):
        ones = [np.ones(a.shape) for _, a in optim._leaves(params, "p")]
        grads = optim._tree(params, ones)
        new, state = opt.update(grads, opt.init(params), params)
        assert type(new) is type(params)
        got = [(p, a.shape) for p, a in optim._leaves(new, "p")]
        assert got == [(p, a.shape) for p, a in optim._leaves(params, "p")]
        # the same step on every leaf, whatever the nesting: compare with the flat list
        flat = [a for _, a in optim._leaves(params, "p")]
        ref, _ = opt.update([np.ones(a.shape) for a in flat], opt.init(flat), flat)
        for (_, a), r in zip(optim._leaves(new, "p"), ref):
            np.testing.assert_array_equal(a, r)
    assert isinstance(new, np.ndarray)
    assert list(opt.update(named, opt.init(named), named)[0]) == ["W", "layers"]


def test_no_state_is_kept_by_the_optimiser():
    opt = optim.Adam(0.1)
    p = [np.array([1.0, 2.0])]
    g = [np.array([0.5, -0.5])]
    first, _ = opt.update(g, opt.init(p), p)
    _run(opt, p, [g] * 5)  # another run with the same object
    again, _ = opt.update(g, opt.init(p), p)
    np.testing.assert_array_equal(first[0], again[0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        opt.lr = 1.0
    state = opt.init(p)
    with pytest.raises(ValueError, match="read-only"):
        state.m[0][0] = 1.0


def test_a_state_for_other_parameters_is_rejected():
    opt = optim.Momentum(0.1)
    four = [np.zeros(2)] * 4
    state = opt.init(four)
    with pytest.raises(ValueError,
                       match="`state.u` must have the structure of `params`"):
        opt.update([np.zeros(2)] * 6, state, [np.zeros(2)] * 6)
    adam = optim.Adam()
    s3 = adam.init([np.zeros(3)])
    with pytest.raises(ValueError, match=r"`state.m\[0\]` must have shape \(1,\)"):
        adam.update([np.zeros(1)], s3, [np.zeros(1)])
    with pytest.raises(TypeError, match="`state` must be the AdamState"):
        adam.update(four, state, four)


_P = [(np.ones((2, 3)), np.zeros(2))]
_G = [(np.ones((2, 3)), np.zeros(2))]
_ADAM, _MOM = optim.Adam(), optim.Momentum(0.1)


def _adam(grads, state=None, params=_P):
    return _ADAM.update(grads, _ADAM.init(_P) if state is None else state, params)


_BAD = [  # (case, call, error type, message fragment naming the argument)
    ("lr 0", lambda: optim.Adam(lr=0.0), ValueError,
     "`lr` must be a finite number > 0"),
    ("lr nan", lambda: optim.Momentum(np.nan), ValueError,
     "`lr` must be a finite number"),
    ("lr str", lambda: optim.Momentum("0.1"), TypeError,
     "`lr` must be a positive real"),
    ("beta1 1", lambda: optim.Adam(beta1=1.0), ValueError,
     "`beta1` must be a finite number in"),
    ("beta2 -0.1", lambda: optim.Adam(beta2=-0.1), ValueError, "`beta2` must be"),
    ("eps 0", lambda: optim.Adam(eps=0.0), ValueError,
     "`eps` must be a finite number > 0"),
    ("rho -0.1", lambda: optim.Momentum(0.1, rho=-0.1), ValueError,
     r"`rho` must be a finite number in \[0"),
    ("rho 1", lambda: optim.Momentum(0.1, rho=1.0), ValueError, "`rho`"),
    ("momentum kw", lambda: optim.Momentum(0.1, momentum=0.5), TypeError, "momentum"),
    ("init empty", lambda: _ADAM.init([]), ValueError,
     "`params` must hold at least one"),
    ("init None leaf", lambda: _ADAM.init([None]), TypeError, r"`params\[0\]` must be"),
    ("init nan", lambda: _ADAM.init([(np.ones(2), np.array([np.nan]))]), ValueError,
     r"`params\[0\]\[1\]` must be finite"),
    ("init complex", lambda: _ADAM.init(np.ones(2) * 1j), TypeError,
     "`params` must be real"),
    ("grads short", lambda: _adam([]), ValueError,
     "`grads` must have the structure of `params`"),
    ("grads shape", lambda: _adam([(np.ones((3, 2)), np.zeros(2))]), ValueError,
     r"`grads\[0\]\[0\]` must have shape \(2, 3\)"),
    ("grads nan", lambda: _adam([(np.ones((2, 3)), np.array([0, np.nan]))]), ValueError,
     r"`grads\[0\]\[1\]` must be finite"),
    ("params shape", lambda: _adam(_G, params=[(np.ones((2, 2)), np.zeros(2))]),
     ValueError, r"`grads\[0\]\[0\]` must have shape \(2, 2\)"),
    ("state str", lambda: _adam(_G, state="s"), TypeError,
     "`state` must be the AdamState"),
    ("state of the other", lambda: _adam(_G, state=_MOM.init(_P)), TypeError,
     "`state` must be the AdamState"),
    ("overflow", lambda: optim.Momentum(1e308).update(
        [np.array([1e10])], _MOM.init([np.ones(1)]), [np.ones(1)]),
     FloatingPointError, r"overflowed float64 at `params\[0\]`"),
]


@pytest.mark.parametrize("make, exc, match", [c[1:] for c in _BAD],
                         ids=[c[0] for c in _BAD])
def test_bad_input(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
