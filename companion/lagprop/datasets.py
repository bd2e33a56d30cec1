r"""Small data sets made in code, seeded, so every chapter and test sees the same data.

Patterns are rows, as everywhere in lagprop, and every array is float64 (labels int64).
The results are named tuples: immutable, read by name, and unpacked like tuples.

* :func:`xor`, :func:`parity` and :func:`sine_regression` return a :class:`Dataset`, the
  pair ``(inputs, targets)`` with ``inputs`` (P, n_0) and ``targets`` (P, n_N):

  * :func:`xor`: the four XOR patterns with 0/1 targets, the classic test of a hidden
    layer of sigmoid units (le Cun 1988 uses sigmoid units throughout);
  * :func:`parity`: the n-bit parity problem, XOR's generalisation;
  * :func:`sine_regression`: noisy samples of a sine on an interval, a small 1-D
    regression.

* :func:`completion_task` returns a :class:`CompletionTask`: cues for pattern completion
  in a small associative memory (the recurrent networks of le Cun 1988, section 3.2).
* :func:`mnist1d` and :func:`digits` return a :class:`LabelledSplit` (training and test
  sets with integer labels) of real data: MNIST-1D made by its own package's generator,
  and scikit-learn's bundled 8 x 8 handwritten digits. Nothing is downloaded.
"""

import functools
from itertools import product
from typing import NamedTuple

import numpy as np

from ._validate import (as_float_array, nonnegative_scalar, positive_int, real_scalar,
                        seed_or_generator)

__all__ = ["Dataset", "xor", "parity", "sine_regression", "CompletionTask",
           "completion_task", "LabelledSplit", "mnist1d", "digits"]


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

    .. math:: d_p = \Big(\sum_{i=1}^{n} x_{p,i}\Big) \bmod 2, \qquad
              x_{p,i} \in \{0, 1\}.

    Parameters
    ----------
    n_bits : int
        Number of input bits :math:`n`, from 1 to 16.

    Returns
    -------
    Dataset
        ``inputs`` of shape (2**n_bits, n_bits) with entries 0.0/1.0 in lexicographic
        order (the first bit varies slowest), ``targets`` of shape (2**n_bits, 1) with
        entries 0.0/1.0.

    Raises
    ------
    TypeError
        If ``n_bits`` is not an integer.
    ValueError
        If ``n_bits`` is below 1 or above 16.
    """
    n_bits = positive_int(n_bits, "n_bits")
    if n_bits > 16:
        raise ValueError(f"`n_bits` must be <= 16 (the set has 2**n_bits patterns), "
                         f"got {n_bits}")
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
        ``inputs`` (4, 2) = [[0, 0], [0, 1], [1, 0], [1, 1]],
        ``targets`` (4, 1) = [[0], [1], [1], [0]].
    """
    return parity(2)


def sine_regression(n=20, *, noise=0.1, seed=0, low=-np.pi, high=np.pi):
    r"""Noisy samples of a sine: a small one-dimensional regression problem.

    .. math:: x_p \sim \mathcal U(\text{low}, \text{high}), \qquad
              d_p = \sin x_p + \sigma\, \varepsilon_p, \quad
              \varepsilon_p \sim \mathcal N(0, 1).

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
        raise ValueError(f"`low` and `high` must be finite with low < high, got "
                         f"low={low!r}, high={high!r}")
    rng = seed_or_generator(seed)
    x = np.sort(rng.uniform(low, high, size=n))
    d = np.sin(x) + noise * rng.standard_normal(n)
    return Dataset(x[:, None], d[:, None])


class CompletionTask(NamedTuple):
    """A pattern-completion task.

    Attributes
    ----------
    patterns : ndarray, shape (M, n)
        The memories, entries +-1.
    U : ndarray, shape (P, n)
        The cues as external inputs, with the hidden units set to 0.
    D : ndarray, shape (P, n)
        The targets, ``amplitude`` times the full pattern.
    label : ndarray of int, shape (P,)
        The pattern index of each cue.
    hidden : ndarray of bool, shape (P, n)
        The mask of the hidden units of each cue.
    """

    patterns: np.ndarray
    U: np.ndarray
    D: np.ndarray
    label: np.ndarray
    hidden: np.ndarray


def completion_task(n, n_patterns, *, cues_per_pattern=4, n_hidden=None, gain=1.0,
                    amplitude=0.8, seed=0, patterns=None):
    r"""Cues for pattern completion in a small associative memory.

    Random patterns :math:`\xi^\mu \in \{-1, 1\}^n`; each cue shows :math:`\xi^\mu` on
    all but ``n_hidden`` random units and 0 on those:
    :math:`u = \mathrm{gain}\,(\xi^\mu \odot m)`. The target is
    :math:`d = \mathrm{amplitude}\, \xi^\mu` on every unit, so the hidden units can only
    be filled in through the recurrent weights. Pass the ``patterns`` of another task to
    draw fresh cues of the same memories (a test set).

    Parameters
    ----------
    n : int
        Units, >= 2.
    n_patterns : int
        Memories :math:`M`, >= 1.
    cues_per_pattern : int, keyword-only
    n_hidden : int, keyword-only
        Hidden units per cue, 0 <= n_hidden < n (default n // 3, at least 1); 0 shows
        the whole pattern.
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
    k = (max(1, n // 3) if n_hidden is None
         else positive_int(n_hidden, "n_hidden", minimum=0))
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
    return CompletionTask(patterns=xi, U=U, D=amplitude * xi[label], label=label,
                          hidden=hidden)


# ---------------------------------------------------------------------------- real data
class LabelledSplit(NamedTuple):
    """A classification data set split into training and test sets.

    Attributes
    ----------
    x_train : ndarray of float64, shape (P_train, n_0)
    y_train : ndarray of int64, shape (P_train,)
        Class labels 0..9.
    x_test : ndarray of float64, shape (P_test, n_0)
    y_test : ndarray of int64, shape (P_test,)
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def mnist1d(*, seed=42, shuffle=False):
    r"""MNIST-1D (Greydanus 2020): ten 1-D digit templates, transformed, of length 40.

    The data are made locally by the ``mnist1d`` package's own generator
    (``mnist1d.data.make_dataset``) with its default arguments: 5,000 sequences, 80% for
    training, length 40, the whole set centred and scaled to unit standard deviation,

    .. math:: x \leftarrow (x - \bar x) / \sigma_x .

    Nothing is downloaded. The generator seeds NumPy's and the ``random`` module's
    global generators; their states are saved before and restored after, so the caller's
    random streams are not disturbed.

    Parameters
    ----------
    seed : int, keyword-only
        The generator's seed, 0 <= seed < 2**32 (its default 42 gives the published data
        set).
    shuffle : bool, keyword-only
        Apply one fixed permutation of the 40 positions to every sequence (the
        generator's ``shuffle_seq``, drawn after the samples under the same seed): the
        "shuffled" MNIST-1D, which keeps every value and destroys the spatial order.

    Returns
    -------
    LabelledSplit
        ``x_train`` (4000, 40), ``y_train`` (4000,), ``x_test`` (1000, 40), ``y_test``
        (1000,).

    Raises
    ------
    TypeError
        If ``seed`` is not an integer or ``shuffle`` not a bool.
    ValueError
        If ``seed`` is negative or not below 2**32 (the range of NumPy's legacy
        seeding).
    ModuleNotFoundError
        If the ``mnist1d`` package is not installed (``pip install mnist1d``).

    Notes
    -----
    The tests check a SHA-256 digest of the default split (values rounded to 1e-6)
    against that of the published ``mnist1d_data.pkl``, and a recorded digest of the
    shuffled split, so a change of the ``mnist1d`` generator cannot pass unnoticed.

    References
    ----------
    Greydanus (2020), "Scaling down deep learning", arXiv:2011.14439.
    """
    seed = positive_int(seed, "seed", minimum=0)
    if seed >= 2**32:
        raise ValueError(f"`seed` must be < 2**32, got {seed}")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"`shuffle` must be a bool, got {type(shuffle).__name__}")
    x, y, xt, yt, perm = _mnist1d_cached(seed)
    if shuffle:
        x, xt = x[:, perm], xt[:, perm]
    return LabelledSplit(x.copy(), y.copy(), xt.copy(), yt.copy())


@functools.lru_cache(maxsize=4)
def _mnist1d_cached(seed):
    """The generator's unshuffled data, and the permutation its ``shuffle_seq`` draws.

    With ``shuffle_seq`` the generator draws ``np.random.permutation(40)`` right after
    the samples, before the (permutation-invariant) centring and scaling; drawing it at
    the same point of the same stream gives its shuffled set exactly (the tests compare
    bit for bit). Takes several seconds, hence the cache; the caller copies.
    """
    import random

    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = seed
    args.shuffle_seq = False
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
        perm = np.random.permutation(args.final_seq_length)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return (np.asarray(data["x"], dtype=np.float64),
            np.asarray(data["y"], dtype=np.int64),
            np.asarray(data["x_test"], dtype=np.float64),
            np.asarray(data["y_test"], dtype=np.int64),
            perm)


def digits(*, n_train=1000, seed=0):
    r"""scikit-learn's bundled handwritten digits: 1,797 images of 8 x 8 pixels.

    The images (``sklearn.datasets.load_digits``, part of scikit-learn, no download)
    have pixel values 0..16; they are scaled to :math:`x / 8 - 1 \in [-1, 1]` (le Cun
    1989 scales his images to the same range) and flattened row by row to 64 inputs. A
    permutation drawn from ``numpy.random.default_rng(seed)`` splits them into
    ``n_train`` training and ``1797 - n_train`` test images.

    Parameters
    ----------
    n_train : int, keyword-only
        Training images, 10 <= n_train <= 1787.
    seed : int or numpy.random.Generator, keyword-only
        Seed of the split.

    Returns
    -------
    LabelledSplit
        ``x_train`` (n_train, 64), ``y_train`` (n_train,), ``x_test`` (1797 - n_train,
        64), ``y_test`` (1797 - n_train,); pixel (r, c) is column ``8 * r + c``.

    Raises
    ------
    TypeError, ValueError
        A bad ``n_train`` or ``seed``, named.
    ModuleNotFoundError
        If scikit-learn is not installed (``pip install scikit-learn``).
    """
    n_train = positive_int(n_train, "n_train", minimum=10)
    if n_train > 1787:
        raise ValueError(f"`n_train` must be <= 1787 (1797 images, 10 kept for the "
                         f"test), got {n_train}")
    rng = seed_or_generator(seed)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float64) / 8.0 - 1.0
    y = np.asarray(bunch.target, dtype=np.int64)
    order = rng.permutation(y.size)
    tr, te = order[:n_train], order[n_train:]
    return LabelledSplit(x[tr], y[tr], x[te], y[te])

