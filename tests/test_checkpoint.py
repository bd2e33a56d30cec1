"""Tests of lagprop.checkpoint and Graph.checkpointed_gradient.

The binomial schedule, its memory bound (counted with weak references to the states),
its count of advances against a dynamic-programming oracle and Griewank's formula, and
the gradient it gives.
"""

import time
import weakref

import numpy as np
import pytest

from lagprop import checkpoint, graph


def _dp_advances(l_max, s_max):
    """T[s][l], the least advances over every split, by dynamic programming (oracle).

    T(1, s) = 0, T(l, 1) = l (l - 1) / 2, T(l, s) = min_m m + T(l - m, s - 1) + T(m, s):
    written from the recursion of the chapter's theorem, not from the binomial formula.
    """
    T = [[0] * (l_max + 1) for _ in range(s_max + 1)]
    for ln in range(1, l_max + 1):
        T[1][ln] = ln * (ln - 1) // 2
    for s in range(2, s_max + 1):
        for ln in range(2, l_max + 1):
            T[s][ln] = min(m + T[s - 1][ln - m] + T[s][m] for m in range(1, ln))
    return T


def _simulate(actions, l, s):
    """Run a schedule on positions only: check each action and count what it does."""
    slots = [None] * s
    working, advances, reversed_, peak = 0, 0, [], 0  # x_0 is the first working state
    for a in actions:
        assert a.kind in ("advance", "store", "restore", "free", "reverse"), a
        if a.kind == "advance":
            assert working == a.state and a.state < a.stop <= l, a
            advances += a.stop - a.state
            working = a.stop
        elif a.kind == "store":
            assert working == a.state and slots[a.slot] is None, a
            slots[a.slot] = a.state
            peak = max(peak, sum(v is not None for v in slots))
        elif a.kind == "restore":
            assert slots[a.slot] == a.state, a
            working = a.state
        elif a.kind == "free":
            assert slots[a.slot] == a.state, a
            slots[a.slot] = None
        else:
            assert working == a.state, a
            reversed_.append(a.state)
            working = None
    assert reversed_ == list(range(l - 1, -1, -1))  # every step once, last to first
    assert slots == [None] * s  # everything released at the end
    return advances, peak


# --- the plan, without arrays ---------------------------------------------------------


def test_schedule_is_valid_and_optimal_against_the_dp_oracle():
    T = _dp_advances(70, 7)
    for s in range(1, 8):
        for l in range(1, 71):
            advances, peak = _simulate(checkpoint.schedule(l, s), l, min(s, l))
            assert advances == T[s][l], (l, s)
            assert advances == checkpoint.binomial_advances(l, s), (l, s)
            assert peak <= s


def test_the_oracle_would_catch_a_worse_split(monkeypatch):
    """Splitting in the middle is valid but not optimal: the count exceeds the DP's."""
    monkeypatch.setattr(checkpoint, "_split", lambda n, k: n // 2)
    T = _dp_advances(40, 4)
    worse = [
        (l, s)
        for s in (2, 3, 4)
        for l in range(2, 41)
        if _simulate(checkpoint.schedule(l, s), l, s)[0] != T[s][l]
    ]
    assert len(worse) > 20


def test_binomial_count_closed_forms():
    for l in range(1, 30):
        assert checkpoint.binomial_advances(l, 1) == l * (l - 1) // 2
        assert checkpoint.binomial_advances(l, l) == l - 1
    # exactly beta(s, r) steps need r repetitions: r * l - beta(s + 1, r - 1)
    for s in range(1, 6):
        for r in range(1, 6):
            l = checkpoint.binomial_capacity(s, r)
            assert checkpoint.binomial_repetitions(l, s) == r
            assert checkpoint.binomial_repetitions(l + 1, s) == r + 1
            adv = checkpoint.binomial_advances(l, s)
            assert adv == r * l - checkpoint.binomial_capacity(s + 1, r - 1)
            assert checkpoint.binomial_advances(l + 1, s) > adv + r


def test_repetitions_against_a_plain_search():
    for s in range(1, 7):
        for l in range(1, 300):
            r = 0
            while checkpoint.binomial_capacity(s, r) < l:
                r += 1
            assert checkpoint.binomial_repetitions(l, s) == r, (l, s)


def test_huge_chains_are_counted_in_closed_form():
    start = time.perf_counter()
    l = 10**10
    assert checkpoint.binomial_advances(l, 1) == l * (l - 1) // 2
    assert checkpoint.binomial_advances(l, l) == l - 1
    assert checkpoint.binomial_repetitions(l, 1) == l - 1
    r = checkpoint.binomial_repetitions(l, 2)
    assert (
        checkpoint.binomial_capacity(2, r - 1) < l <= checkpoint.binomial_capacity(2, r)
    )
    assert time.perf_counter() - start < 1.0


def test_planning_is_linear_in_the_chain_length():
    """The plan of 10^5 steps has O(l) actions; no step advanced more than r times."""
    l, s = 100_000, 20
    r = checkpoint.binomial_repetitions(l, s)
    counts = np.zeros(l, dtype=np.int64)
    n_actions = 0
    for a in checkpoint.schedule(l, s):
        n_actions += 1
        if a.kind == "advance":
            counts[a.state : a.stop] += 1
    assert n_actions < 6 * l
    assert counts.max() <= r
    assert counts.sum() == checkpoint.binomial_advances(l, s)


# --- execution: the memory bound, counted with weak references ------------------------


class _State:
    """A state object that weak references can follow."""

    def __init__(self, i):
        self.i = i


@pytest.mark.parametrize(
    "l, s", [(1, 1), (7, 1), (30, 3), (200, 3), (120, 5), (50, 50)]
)
def test_reverse_chain_keeps_at_most_s_states_alive(l, s):
    alive, peak, taped = [], [0], []

    def count():
        peak[0] = max(peak[0], sum(r() is not None for r in alive))

    def advance(i, x):
        assert (x is None and i == 0) or x.i == i
        count()
        y = _State(i + 1)
        alive.append(weakref.ref(y))
        return y

    def tape(i, x):
        assert (x is None and i == 0) or x.i == i
        count()
        taped.append(i)

    done = checkpoint.reverse_chain(l, s, None, advance, tape)
    assert taped == list(range(l - 1, -1, -1))
    assert done.taped == l and done.advances == checkpoint.binomial_advances(l, s)
    # the slot of x_0 (None here) counts in peak_states but holds no advanced state
    assert peak[0] <= min(s, l) and done.peak_states <= min(s, l)


def _rnn(T, width=3, n_in=2, every=1):
    g = graph.Graph()
    g.input("u", n_in)
    g.layer("h0", "u", "U", width=width, activation="tanh")
    for t in range(1, T):
        g.layer(
            f"h{t}",
            [f"h{t - 1}", "u"],
            ["W", "U"],
            bias="b",
            activation="tanh",
            width=width,
        )
    g.output(*[f"h{t}" for t in range(T) if (T - 1 - t) % every == 0])
    return g


@pytest.mark.parametrize("T, s", [(30, 3), (200, 3), (50, 5), (10, 1), (13, 40)])
def test_checkpointed_gradient_holds_at_most_s_states(T, s, monkeypatch):
    """Every node value the sweep computes is followed by a weak reference; before each
    evaluation at most s of them may be alive (the stored states and the working one).
    """
    g = _rnn(T, every=4)
    w = g.init_params(seed=T, scale=0.6)
    rng = np.random.default_rng(1)
    u = {"u": rng.standard_normal((2, 2))}
    d = {o: rng.standard_normal((2, 3)) for o in g.outputs}
    alive, peak = [], [0]
    evaluate = graph._eval

    def spy(node, X, w_):
        peak[0] = max(peak[0], sum(r() is not None for r in alive))
        x, a = evaluate(node, X, w_)
        alive.append(weakref.ref(x))
        return x, a

    monkeypatch.setattr(graph, "_eval", spy)
    r = g.checkpointed_gradient(w, u, d, checkpoints=s)
    assert len(alive) == r.advances + r.taped == checkpoint.binomial_advances(T, s) + T
    assert peak[0] <= min(s, T), (peak[0], s)
    assert r.peak_states <= min(s, T)


@pytest.mark.parametrize("T", [1, 2, 5, 13, 30])
@pytest.mark.parametrize("s", [1, 2, 3, 5, 40])
def test_checkpointed_gradient_equals_the_gradient(T, s):
    g = _rnn(T, every=4)
    w = g.init_params(seed=T + s, scale=0.6)
    rng = np.random.default_rng(0)
    u = {"u": rng.standard_normal((3, 2))}
    d = {o: rng.standard_normal((3, 3)) for o in g.outputs}
    C, grads = g.gradient(w, u, d)
    r = g.checkpointed_gradient(w, u, d, checkpoints=s)
    assert r.advances == checkpoint.binomial_advances(T, s)
    assert r.taped == T and r.peak_states <= s
    assert r.cost == pytest.approx(C, rel=1e-13)
    for k in grads:
        np.testing.assert_allclose(r.grads[k], grads[k], rtol=1e-12, atol=1e-13)


def test_checkpointing_needs_a_chain():
    g = graph.Graph()
    g.input("x", 2)
    g.layer("a", "x", "V", width=2)
    g.layer("b", "a", "W", width=2)
    g.add("c", ["a", "b"])
    g.output("c")
    w = g.init_params()
    x, d = {"x": np.ones((1, 2))}, {"c": np.ones((1, 2))}
    with pytest.raises(ValueError, match="checkpointing needs a chain: node 'c' reads"):
        g.checkpointed_gradient(w, x, d, checkpoints=3)
    with pytest.raises(ValueError, match="`checkpoints` must be >= 1, got 0"):
        g.checkpointed_gradient(w, x, d, checkpoints=0)


# --- bad input ------------------------------------------------------------------------


def _ok(i, x):
    return x


BAD = [
    (
        lambda: checkpoint.binomial_advances(0, 2),
        ValueError,
        "`steps` must be >= 1, got 0",
    ),
    (
        lambda: checkpoint.binomial_advances(5, 1.5),
        TypeError,
        "`checkpoints` must be an integer",
    ),
    (
        lambda: checkpoint.binomial_advances(True, 2),
        TypeError,
        "`steps` must be an integer",
    ),
    (
        lambda: checkpoint.binomial_capacity(2, -1),
        ValueError,
        "`repetitions` must be >= 0",
    ),
    (
        lambda: checkpoint.binomial_capacity(0, 1),
        ValueError,
        "`checkpoints` must be >= 1",
    ),
    (
        lambda: checkpoint.binomial_repetitions(3, "2"),
        TypeError,
        "`checkpoints` must be an integer",
    ),
    (lambda: checkpoint.schedule(0, 1), ValueError, "`steps` must be >= 1"),
    (lambda: checkpoint.schedule(3, 0), ValueError, "`checkpoints` must be >= 1"),
    (
        lambda: checkpoint.reverse_chain(3, 1, None, None, _ok),
        TypeError,
        "`advance` must be callable",
    ),
    (
        lambda: checkpoint.reverse_chain(3, 1, None, _ok, 3),
        TypeError,
        "`tape` must be callable",
    ),
    (
        lambda: checkpoint.reverse_chain(3.0, 1, None, _ok, _ok),
        TypeError,
        "`steps` must be an integer",
    ),
]


@pytest.mark.parametrize("call, error, match", BAD)
def test_bad_input_table(call, error, match):
    with pytest.raises(error, match=match.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_old_home_of_the_binomial_count():
    assert graph.binomial_advances is checkpoint.binomial_advances
    assert graph.binomial_capacity is checkpoint.binomial_capacity


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(l=st.integers(1, 3000), s=st.integers(1, 60))
def test_random_schedules_are_valid_and_reach_the_binomial_count(l, s):
    advances, peak = _simulate(checkpoint.schedule(l, s), l, min(s, l))
    assert advances == checkpoint.binomial_advances(l, s)
    assert peak <= min(s, l)
    # the count is least: one slot more never costs more, one slot less never less
    assert checkpoint.binomial_advances(l, s + 1) <= advances
    if s > 1:
        assert checkpoint.binomial_advances(l, s - 1) >= advances
