r"""Small data sets made in code, seeded, so every chapter and test sees the same numbers.

Each function returns a :class:`Dataset`, a named pair ``(inputs, targets)`` that unpacks like a
tuple. Patterns are rows, as everywhere in lagprop: ``inputs`` has shape (P, n_0) and ``targets``
shape (P, n_N), both float64.

* :func:`xor` -- the four XOR patterns with 0/1 targets, the classic test of a hidden layer of
  sigmoid units (le Cun 1988 uses sigmoid units throughout).
* :func:`parity` -- the n-bit parity problem, XOR's generalisation.
* :func:`sine_regression` -- noisy samples of a sine on an interval, a small 1-D regression.
"""

from itertools import product
from typing import NamedTuple

import numpy as np

from ._validate import positive_int

__all__ = ["Dataset", "xor", "parity", "sine_regression"]


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
    noise = float(noise)
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"`noise` must be a finite number >= 0, got {noise!r}")
    low, high = float(low), float(high)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"`low` and `high` must be finite with low < high, got low={low!r}, high={high!r}")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(low, high, size=n))
    d = np.sin(x) + noise * rng.standard_normal(n)
    return Dataset(x[:, None], d[:, None])
