r"""Small data sets made in code, seeded, so every chapter and test sees the same numbers.

Each function returns a :class:`Dataset`, a named pair ``(inputs, targets)`` that unpacks like a
tuple. Patterns are rows, as everywhere in lagprop: ``inputs`` has shape (P, n_0) and ``targets``
shape (P, n_N), both float64.

* :func:`xor` -- the four XOR patterns with 0/1 targets, the classic test of a hidden layer of
  sigmoid units (le Cun 1988 uses sigmoid units throughout).
* :func:`parity` -- the n-bit parity problem, XOR's generalisation.
* :func:`sine_regression` -- noisy samples of a sine on an interval, a small 1-D regression.
* :func:`completion_task` -- cues for pattern completion in a small associative memory (the
  recurrent networks of le Cun 1988, section 3.2).
"""

from itertools import product
from typing import NamedTuple

import numpy as np

from dataclasses import dataclass

from ._validate import as_float_array, nonnegative_scalar, positive_int, real_scalar, seed_or_generator

__all__ = ["Dataset", "xor", "parity", "sine_regression", "CompletionTask", "completion_task"]


class Dataset(NamedTuple):
    """Inputs and targets of a data set; unpacks as ``inputs, targets = dataset``.

    Attributes
    ----------
    inputs : ndarray, shape (P, n_0)
    targets : ndarray, shape (P, n_N)
    """

    inputs: np.ndarray
    targets: np.ndarray


def parity(n_bits):
    r"""All :math:`2^n` binary input patterns with their parity as target.

    .. math:: d_p = \Big(\sum_{i=1}^{n} x_{p,i}\Big) \bmod 2, \qquad x_{p,i} \in \{0, 1\}.

    Parameters
    ----------
    n_bits : int
        Number of input bits :math:`n`, from 1 to 16.

    Returns
    -------
    Dataset
        ``inputs`` of shape (2**n_bits, n_bits) with entries 0.0/1.0 in lexicographic order
        (the first bit varies slowest), ``targets`` of shape (2**n_bits, 1) with entries 0.0/1.0.

    Raises
    ------
    TypeError
        If ``n_bits`` is not an integer.
    ValueError
        If ``n_bits`` is below 1 or above 16.
    """
    n_bits = positive_int(n_bits, "n_bits")
    if n_bits > 16:
        raise ValueError(f"`n_bits` must be <= 16 (the set has 2**n_bits patterns), got {n_bits}")
    inputs = np.array(list(product((0.0, 1.0), repeat=n_bits)), dtype=np.float64)
    targets = (inputs.sum(axis=1, keepdims=True) % 2.0).astype(np.float64)
    return Dataset(inputs, targets)


def xor():
    r"""The XOR problem: four binary patterns, target 1 when exactly one input is on.

    .. math:: d = x_1 \oplus x_2 = x_1 + x_2 - 2 x_1 x_2.

    The 0/1 targets suit sigmoid (logistic) output units, as in le Cun (1988); this is
    :func:`parity` with two bits.

    Returns
    -------
    Dataset
        ``inputs`` (4, 2) = [[0, 0], [0, 1], [1, 0], [1, 1]], ``targets`` (4, 1) = [[0], [1], [1], [0]].
    """
    return parity(2)


def sine_regression(n=20, *, noise=0.1, seed=0, low=-np.pi, high=np.pi):
    r"""Noisy samples of a sine: a small one-dimensional regression problem.

    .. math:: x_p \sim \mathcal U(\text{low}, \text{high}), \qquad
              d_p = \sin x_p + \sigma\, \varepsilon_p, \quad \varepsilon_p \sim \mathcal N(0, 1).

    Parameters
    ----------
    n : int
        Number of patterns P, >= 1.
    noise : float, keyword-only
        Standard deviation :math:`\sigma` of the additive Gaussian noise, >= 0.
    seed : int, keyword-only
        Seed of ``numpy.random.default_rng``; the same seed gives the same set.
    low, high : float, keyword-only
        The interval the inputs are drawn from, ``low < high``.

    Returns
    -------
    Dataset
        ``inputs`` (n, 1) sorted in increasing order, ``targets`` (n, 1).

    Raises
    ------
    TypeError
        If ``n`` is not an integer.
    ValueError
        If ``n < 1``, ``noise`` is negative or not finite, or ``low >= high``.
    """
    n = positive_int(n, "n")
    noise = nonnegative_scalar(noise, "noise")
    low, high = real_scalar(low, "low"), real_scalar(high, "high")
    if not low < high:
        raise ValueError(f"`low` and `high` must be finite with low < high, got low={low!r}, high={high!r}")
    rng = seed_or_generator(seed)
    x = np.sort(rng.uniform(low, high, size=n))
    d = np.sin(x) + noise * rng.standard_normal(n)
    return Dataset(x[:, None], d[:, None])


@dataclass(frozen=True)
class CompletionTask:
    """A pattern-completion task: ``patterns`` (M, n) of +-1, cues as external inputs ``U`` (P, n)
    with the hidden units set to 0, targets ``D`` (P, n) = ``amplitude`` times the full pattern,
    ``label`` (P,) the pattern index of each cue and ``hidden`` (P, n) the boolean mask of hidden units."""

    patterns: np.ndarray
    U: np.ndarray
    D: np.ndarray
    label: np.ndarray
    hidden: np.ndarray


def completion_task(n, n_patterns, *, cues_per_pattern=4, n_hidden=None, gain=1.0, amplitude=0.8,
                    seed=0, patterns=None):
    r"""Cues for pattern completion in a small associative memory.

    Random patterns :math:`\xi^\mu \in \{-1, 1\}^n`; each cue shows :math:`\xi^\mu` on all but
    ``n_hidden`` random units and 0 on those: :math:`u = \mathrm{gain}\,(\xi^\mu \odot m)`. The target
    is :math:`d = \mathrm{amplitude}\, \xi^\mu` on every unit, so the hidden units can only be
    filled in through the recurrent weights. Pass the ``patterns`` of another task to draw fresh
    cues of the same memories (a test set).

    Parameters
    ----------
    n : int
        Units, >= 2.
    n_patterns : int
        Memories :math:`M`, >= 1.
    cues_per_pattern : int, keyword-only
    n_hidden : int, keyword-only
        Hidden units per cue, 1 <= n_hidden < n (default n // 3, at least 1).
    gain, amplitude : float, keyword-only
        Finite numbers > 0.
    seed : int or numpy.random.Generator, keyword-only
    patterns : array_like of +-1, shape (n_patterns, n), optional

    Returns
    -------
    CompletionTask

    Raises
    ------
    TypeError, ValueError
        A bad count, scale, seed or ``patterns``, each named.
    """
    n = positive_int(n, "n", minimum=2)
    M = positive_int(n_patterns, "n_patterns")
    per = positive_int(cues_per_pattern, "cues_per_pattern")
    k = max(1, n // 3) if n_hidden is None else positive_int(n_hidden, "n_hidden")
    if k >= n:
        raise ValueError(f"`n_hidden` must be < n = {n}, got {k}")
    gain = real_scalar(gain, "gain", low=0.0, low_open=True)
    amplitude = real_scalar(amplitude, "amplitude", low=0.0, low_open=True)
    rng = seed_or_generator(seed)
    if patterns is None:
        xi = rng.choice([-1.0, 1.0], size=(M, n))
    else:
        xi = as_float_array(patterns, "patterns", ndim=2)
        if xi.shape != (M, n):
            raise ValueError(f"`patterns` must have shape {(M, n)}, got {xi.shape}")
        if not np.all(np.abs(xi) == 1.0):
            raise ValueError("`patterns` must hold only -1 and +1")
    label = np.repeat(np.arange(M), per)
    hidden = np.zeros((M * per, n), dtype=bool)
    for p in range(M * per):
        hidden[p, rng.choice(n, size=k, replace=False)] = True
    U = gain * np.where(hidden, 0.0, xi[label])
    return CompletionTask(patterns=xi, U=U, D=amplitude * xi[label], label=label, hidden=hidden)
