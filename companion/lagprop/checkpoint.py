r"""Binomial checkpointing: reversing a chain of steps with a fixed number of states.

A chain :math:`x_{i+1} = \phi_i(x_i)`, :math:`i = 0, \dots, l - 1`, is reversed when the
costate step of every :math:`\phi_i` has been taken, from the last step to the first;
the costate step of :math:`\phi_i` needs the state :math:`x_i` before it. Storing every
state costs :math:`l` states of memory. With :math:`s` *slots* (one of them holding
:math:`x_0`), the states that are not stored are recomputed from the nearest stored one.
The number of those recomputations (*advances*) is least for Griewank's binomial
schedule (Griewank 1992),

.. math:: t(l, s) = r\,l - \binom{s + r}{s + 1}, \qquad
          r = \min\Big\{ r \ge 0 : \binom{s + r}{s} \ge l \Big\},

and this module computes that schedule in closed form, as Griewank and Walther's
*revolve* does (Griewank & Walther 2000): each split of a range of :math:`n` steps with
:math:`k` free slots is read off binomial coefficients, so planning a chain costs time
linear in :math:`l` and memory linear in :math:`s`.

The module keeps planning and execution apart:

* :func:`schedule` is the plan, a stream of :class:`Action` (advance, store, restore,
  free, reverse) that involves no arrays and can be checked by itself;
* :func:`reverse_chain` executes a plan with two callables, one that advances a state
  and one that tapes a step and takes its costate step. It keeps the checkpoints in an
  explicit
  list of :math:`s` slots (revolve's snapshot array), so no more than :math:`s` stored
  states and one working state are alive at any time, and it reports the largest number
  of occupied slots.

:meth:`lagprop.graph.Graph.checkpointed_gradient` runs it on a chain graph.

References
----------
A. Griewank, "Achieving logarithmic growth of temporal and spatial complexity in reverse
automatic differentiation", Optimization Methods and Software 1 (1992), 35-54.

A. Griewank and A. Walther, "Algorithm 799: revolve: an implementation of checkpointing
for the reverse or adjoint mode of computational differentiation", ACM Transactions on
Mathematical Software 26 (2000), 19-45.
"""

from dataclasses import dataclass
from math import comb
from typing import NamedTuple

from ._validate import check_callable, positive_int

__all__ = [
    "Action",
    "Reversal",
    "schedule",
    "reverse_chain",
    "binomial_capacity",
    "binomial_repetitions",
    "binomial_advances",
]

_KINDS = ("advance", "store", "restore", "free", "reverse")


class Action(NamedTuple):
    r"""One action of a checkpointing schedule (states :math:`x_0, \dots, x_l`).

    Attributes
    ----------
    kind : str
        ``"advance"``: compute :math:`x_{\mathrm{stop}}` from the working state
        :math:`x_{\mathrm{state}}` by evaluating steps ``state``, ..., ``stop - 1``
        (each an advance); ``"store"``: copy the working state
        :math:`x_{\mathrm{state}}` into ``slot``; ``"restore"``: make the state in
        ``slot`` (which is :math:`x_{\mathrm{state}}`) the working state; ``"free"``:
        empty ``slot``, which held :math:`x_{\mathrm{state}}`; ``"reverse"``: evaluate
        step ``state`` once more from the working state (taping it) and take its costate
        step.
    state : int
        The index of the state the action starts from or concerns.
    stop : int or None
        For ``"advance"``, the index of the state reached; ``None`` otherwise.
    slot : int or None
        For ``"store"``, ``"restore"`` and ``"free"``, the slot in ``0 .. s - 1``;
        ``None`` otherwise.
    """

    kind: str
    state: int
    stop: "int | None" = None
    slot: "int | None" = None


@dataclass(frozen=True)
class Reversal:
    """What one execution of a schedule did (:func:`reverse_chain`).

    Attributes
    ----------
    advances : int
        Step evaluations that only move a state forward (the recomputations).
    taped : int
        Step evaluations immediately followed by that step's costate step: one per step.
    peak_states : int
        The largest number of slots occupied at once, counted in the slot store (the
        slot of :math:`x_0` included); at most ``checkpoints``.
    """

    advances: int
    taped: int
    peak_states: int


# --- the binomial count  --------------------------------------------------------------


def _beta(s, r):
    r""":math:`\beta(s, r) = \binom{s + r}{s}`, and 0 for :math:`r < 0`."""
    return comb(s + r, s) if r >= 0 else 0


def _repetitions(l, s):
    r"""The least :math:`r \ge 0` with :math:`\beta(s, r) \ge l`, by bisection."""
    if l <= 1:
        return 0
    if s == 1:
        return l - 1  # beta(1, r) = r + 1
    hi = 1
    while _beta(s, hi) < l:
        hi *= 2
    lo = hi // 2  # beta(s, lo) < l <= beta(s, hi), or lo = 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _beta(s, mid) >= l:
            hi = mid
        else:
            lo = mid
    return hi if _beta(s, lo) < l else lo


def _advances(l, s):
    r = _repetitions(l, s)
    return r * l - comb(s + r, s + 1)


def binomial_capacity(checkpoints, repetitions):
    r"""The longest chain that ``checkpoints`` slots reverse, ``repetitions`` given.

    That is, with each step advanced at most ``repetitions`` times:

    .. math:: \beta(s, r) = \binom{s + r}{s}

    (Griewank 1992, Proposition 1). An advance is an evaluation of a step that only
    moves a state forward; the evaluation that precedes each step's costate step is not
    counted.

    Parameters
    ----------
    checkpoints : int
        The number of slots :math:`s \ge 1` for stored states, the one of :math:`x_0`
        included.
    repetitions : int
        The most advances of any one step, :math:`r \ge 0`.

    Returns
    -------
    int
        :math:`\beta(s, r)`, exactly (a Python integer).

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If ``checkpoints < 1`` or ``repetitions < 0``.

    References
    ----------
    A. Griewank, Optimization Methods and Software 1 (1992), 35-54.
    """
    s = positive_int(checkpoints, "checkpoints")
    r = positive_int(repetitions, "repetitions", minimum=0)
    return _beta(s, r)


def binomial_repetitions(steps, checkpoints):
    r"""The repetition number: the least :math:`r` with :math:`\beta(s, r) \ge l`.

    .. math:: r(l, s) = \min\Big\{ r \ge 0 : \binom{s + r}{s} \ge l \Big\}

    With :math:`s` slots no step of an optimal schedule is advanced more than :math:`r`
    times (Griewank 1992). Found by doubling and bisection on :math:`r`, so long chains
    cost a few binomial coefficients (with one slot, :math:`r = l - 1` directly).

    Parameters
    ----------
    steps : int
        The chain length :math:`l \ge 1`.
    checkpoints : int
        The number of slots :math:`s \ge 1`.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If an argument is below 1.

    References
    ----------
    A. Griewank, Optimization Methods and Software 1 (1992), 35-54.
    """
    l = positive_int(steps, "steps")
    s = positive_int(checkpoints, "checkpoints")
    return _repetitions(l, s)


def binomial_advances(steps, checkpoints):
    r"""Griewank's least number of advances to reverse a chain with a number of slots.

    .. math:: t(l, s) = r\,l - \binom{s + r}{s + 1}, \qquad
              r = \min\Big\{ r \ge 0 : \binom{s + r}{s} \ge l \Big\},

    counting the evaluations that only advance a state, not the :math:`l` evaluations
    that precede each step's costate step (Griewank 1992). With one slot it is
    :math:`l(l-1)/2`; with :math:`s \ge l - 1` slots it is :math:`l - 1`. A closed form:
    :math:`r` comes from :func:`binomial_repetitions`, so very long chains
    (:math:`l = 10^{10}`) cost no loop over the steps.

    Parameters
    ----------
    steps : int
        The chain length :math:`l \ge 1`.
    checkpoints : int
        The number of slots :math:`s \ge 1`, the one of :math:`x_0` included.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If an argument is below 1.

    References
    ----------
    A. Griewank, Optimization Methods and Software 1 (1992), 35-54.
    """
    l = positive_int(steps, "steps")
    s = positive_int(checkpoints, "checkpoints")
    return _advances(l, s)


# --- planning  ------------------------------------------------------------------------


def _split(n, k):
    r"""The first state to store when reversing ``n >= 2`` steps with ``k >= 2`` slots.

    With :math:`r = r(n, k)`, any :math:`m` with
    :math:`\beta(k, r-2) \le m \le \beta(k, r-1)` and
    :math:`\beta(k-1, r-1) \le n - m \le \beta(k-1, r)` is optimal: the left part then
    needs :math:`r - 1` repetitions with :math:`k` slots and the right part :math:`r`
    with :math:`k - 1`, and :math:`m + t(n - m, k - 1) + t(m, k) = t(n, k)` by Pascal's
    rule. The smallest such :math:`m` is taken.
    """
    r = _repetitions(n, k)
    return max(1, _beta(k, r - 2), n - _beta(k - 1, r))


def _schedule(l, s):
    """The binomial schedule of ``l`` steps with ``s`` slots (validated arguments).

    The stored positions form a stack: the top slot is the base of the range being
    reversed, ``fine`` its end, and the free slots are those above the top.
    """
    yield Action("store", 0, slot=0)
    slots = [0]  # positions held by slots 0 .. len(slots) - 1
    fine = l  # steps fine .. l - 1 are reversed
    working = 0  # the position of the working state (None: no state)
    while slots:
        top = len(slots) - 1
        capo = slots[top]
        if capo == fine:  # the range of the top slot is reversed: release it
            slots.pop()
            yield Action("free", capo, None, top)
            continue
        n, k = fine - capo, s - top  # steps left, free slots counting the top one
        if working != capo:
            yield Action("restore", capo, None, top)
        if n == 1:
            yield Action("reverse", capo)
        elif k == 1:  # no slot to spare: advance from the top slot to the last step
            yield Action("advance", capo, fine - 1)
            yield Action("reverse", fine - 1)
        else:
            m = capo + _split(n, k)
            yield Action("advance", capo, m)
            yield Action("store", m, None, top + 1)
            slots.append(m)
            working = m
            continue
        fine -= 1
        working = None


def schedule(steps, checkpoints):
    r"""The binomial checkpointing schedule of a chain, as a stream of :class:`Action`.

    The schedule stores :math:`x_0` in slot 0, then reverses the steps
    :math:`l - 1, \dots, 0` with at most ``checkpoints`` slots occupied, using the least
    number of advances, :func:`binomial_advances`. A range of :math:`n` steps whose
    first state is in the top slot, with :math:`k` slots to use, is reversed by
    reversing its last step (:math:`n = 1`), by advancing from the top slot to each step
    in turn (:math:`k = 1`), or by advancing :math:`m` steps, storing that state,
    reversing the :math:`n - m` steps after it with :math:`k - 1` slots, freeing the
    slot and reversing the first :math:`m` steps with :math:`k` slots. The split
    :math:`m` is read off binomial coefficients (revolve's closed form), so the whole
    plan costs time linear in :math:`l`, memory linear in :math:`s`, and no array.

    Parameters
    ----------
    steps : int
        The chain length :math:`l \ge 1`.
    checkpoints : int
        The number of slots :math:`s \ge 1`, the one of :math:`x_0` included; more than
        :math:`l` are never used.

    Returns
    -------
    iterator of Action
        Lazily generated; :func:`reverse_chain` executes it.

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If an argument is below 1.

    References
    ----------
    A. Griewank, Optimization Methods and Software 1 (1992), 35-54.
    A. Griewank and A. Walther, ACM Transactions on Mathematical Software 26 (2000),
    19-45.

    Examples
    --------
    >>> [a.state for a in schedule(3, 2) if a.kind == "reverse"]
    [2, 1, 0]
    >>> sum(a.stop - a.state for a in schedule(3, 2) if a.kind == "advance")
    2
    """
    l = positive_int(steps, "steps")
    s = positive_int(checkpoints, "checkpoints")
    return _schedule(l, min(s, l))


# --- execution  -----------------------------------------------------------------------

_EMPTY = object()  # the content of a free slot


def _run(actions, s, x0, advance, tape):
    """Execute ``actions`` with a store of ``s`` slots (validated arguments)."""
    store = [_EMPTY] * s
    x = x0  # the working state
    advances = taped = occupied = peak = 0
    for act in actions:
        kind = act.kind
        if kind == "advance":
            for i in range(act.state, act.stop):
                x = advance(i, x)
            advances += act.stop - act.state
        elif kind == "reverse":
            tape(act.state, x)
            taped += 1
            x = _EMPTY  # the taped state is not kept
        elif kind == "restore":
            x = store[act.slot]
        elif kind == "store":
            store[act.slot] = x
            occupied += 1
            peak = max(peak, occupied)
        else:  # "free"
            store[act.slot] = _EMPTY
            occupied -= 1
    return Reversal(advances=advances, taped=taped, peak_states=peak)


def reverse_chain(steps, checkpoints, x0, advance, tape):
    r"""Reverse a chain with binomial checkpointing: execute :func:`schedule` on states.

    ``advance(i, x_i)`` must return :math:`x_{i+1} = \phi_i(x_i)` without changing
    ``x_i``; ``tape(i, x_i)`` is called once for every step, in the order
    :math:`i = l-1, \dots, 0`, with the state before that step: it evaluates the step
    again and takes its costate step (the caller keeps the costate between calls, for
    example in a closure). The stored states live in a list of ``checkpoints`` slots
    (revolve's snapshot array) and nowhere else, so at any call of ``advance`` or
    ``tape`` at most ``checkpoints`` stored states and the working state are alive.

    Parameters
    ----------
    steps : int
        The chain length :math:`l \ge 1`.
    checkpoints : int
        The number of slots :math:`s \ge 1`, the one of ``x0`` included.
    x0 : object
        The state before the first step (any object; ``None`` is allowed).
    advance : callable
        ``advance(i, x_i) -> x_{i+1}``.
    tape : callable
        ``tape(i, x_i)``; its return value is ignored.

    Returns
    -------
    Reversal
        The numbers of advances and taped steps, and the most slots occupied at once:
        ``advances == binomial_advances(steps, checkpoints)``, ``taped == steps``.

    Raises
    ------
    TypeError
        If ``steps`` or ``checkpoints`` is not an integer, or ``advance`` or ``tape`` is
        not callable.
    ValueError
        If ``steps`` or ``checkpoints`` is below 1.

    References
    ----------
    A. Griewank and A. Walther, ACM Transactions on Mathematical Software 26 (2000),
    19-45.
    """
    l = positive_int(steps, "steps")
    s = min(positive_int(checkpoints, "checkpoints"), l)
    check_callable(advance, "advance")
    check_callable(tape, "tape")
    return _run(_schedule(l, s), s, x0, advance, tape)
