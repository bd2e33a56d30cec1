r"""Classification by the costate pass: the softmax cross-entropy and its costate B(N).

Le Cun's Lagrange function holds for any cost of the outputs, not only the quadratic
one: with :math:`C(X(N))` the only change is the boundary condition of the costate,
:math:`B(N) = -\partial C / \partial X(N)`. For a linear output layer whose outputs are
the logits of a softmax and integer labels :math:`y_p`, the mean cross-entropy is

.. math::

    C = -\frac{1}{P} \sum_p \log \sigma(X_p(N))_{y_p}, \qquad
    \sigma(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}, \qquad
    B_p(N) = \frac{1}{P} \big( e_{y_p} - \sigma(X_p(N)) \big),

and the recursion :math:`B(k) = W(k+1)^\top \nabla F_{k+1} B(k+1)` and the weight
gradient :math:`\partial C / \partial W(k) = -\sum_p Y_p(k) X_p(k-1)^\top` are
unchanged. The code says the same: :class:`Dense` and :class:`TiedNet` call the
package's one costate kernel, ``lagrangian._costate``, with this boundary condition in
place of the quadratic one.

Models (each with ``n_in``, ``n_classes``, ``n_params``, ``activation``, and the methods
``init(seed)``, ``logits(params, x)`` and ``backprop(params, x, labels)``):

* :class:`Dense`: a layered network (one layer: logistic regression; more: an MLP).
  ``params`` is the package's list of pairs ``[(W_1, b_1), ..., (W_N, b_N)]``.
* :class:`ConvNet`: 1-D convolution layers (:func:`lagprop.sharing.conv1d`) and a dense
  head; ``params`` is ``[(v_1, c_1), ..., (v_L, c_L), (W, b)]``, one pair per layer.
* :class:`TiedNet`: any tie map (:mod:`lagprop.sharing`): a dense network whose weights
  are functions of fewer free parameters; ``params`` is the vector ``u`` of free
  parameters.

The hidden activation of every model defaults to ReLU, one default for the three
(``activation="relu"``): these are the models of the MNIST-1D benchmark (Greydanus
2020), whose networks are ReLU networks, and the real-data chapter and
``benchmarks/experiments.py`` use them with it. The functions of
:mod:`lagprop.lagrangian` keep le Cun's tanh as their default (the package's stable
API); pass ``activation="tanh"`` for le Cun's networks of 1989, as the chapter does for
its tied networks.

``logits`` and ``backprop`` validate their arguments against the model (widths, pattern
counts, integer labels in ``[0, n_classes)``, the structure and shapes of ``params``,
finite values) and then call private kernels. :func:`train` runs minibatch training with
an optimiser of :mod:`lagprop.optim` and returns ``(params, TrainingLog)``.

References
----------
le Cun (1988), "A theoretical framework for back-propagation", eqs. 1-9 and section 3.1;
le Cun et al. (1989), "Backpropagation applied to handwritten zip code recognition";
Greydanus (2020), "Scaling down deep learning" (MNIST-1D and its models).
"""

from dataclasses import dataclass

import numpy as np

from . import activations as _act
from ._errors import ConvergenceError
from ._validate import as_float_array, as_patterns, positive_int, seed_or_generator
from .lagrangian import _costate, _forward, _layer_activations, _weight_gradients
from .mlp import check_params, check_sizes
from .sharing import (_conv1d, _conv1d_costate, check_ties, conv1d_output_length,
                      expand, n_shared, tied_gradient)

__all__ = [
    "softmax",
    "cross_entropy",
    "cross_entropy_costate",
    "accuracy",
    "Dense",
    "ConvNet",
    "TiedNet",
    "conv2d_ties",
    "TrainingLog",
    "train",
]

#: The hidden activation every model takes by default (the module docstring says why).
_ACTIVATION = "relu"


# ---------------------------------------------------------------------------- the cost
def _check_logits(logits):
    Z = as_float_array(logits, "logits", ndim=2)
    if Z.shape[0] == 0 or Z.shape[1] == 0:
        raise ValueError(f"`logits` must hold at least one pattern and one class, got "
                         f"shape {Z.shape}")
    return Z


def _check_labels(labels, P, n_classes, name="labels"):
    """Integer labels, one per pattern, in ``[0, n_classes)``."""
    y = np.asarray(labels)
    if y.dtype.kind not in "iu" or y.shape != (P,):
        raise ValueError(f"`{name}` must be {P} integers (one per pattern), got a "
                         f"{y.dtype} array of shape {y.shape}")
    if P == 0:
        raise ValueError(f"`{name}` must hold at least one label, got none")
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"`{name}` must lie in 0..{n_classes - 1} ({n_classes} "
                         f"classes), got {y.min()}..{y.max()}")
    return y.astype(np.int64, copy=False)


def _log_softmax(Z):
    with np.errstate(over="ignore"):  # logits of +-1e308: a difference of -inf is exact
        Z = Z - Z.max(axis=1, keepdims=True)
    return Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))


def _cross_entropy(Z, y):
    """Mean cross-entropy of logits Z (P, n) and its costate B(N), from one softmax."""
    P = y.size
    logp = _log_softmax(Z)
    C = -float(logp[np.arange(P), y].mean())
    BN = np.exp(logp)
    np.negative(BN, out=BN)
    BN[np.arange(P), y] += 1.0
    BN /= P
    return C, BN


def softmax(logits):
    r"""Row-wise softmax, computed from the largest logit of each row.

    .. math:: \sigma(z)_i = \frac{e^{z_i - \max_j z_j}}{\sum_j e^{z_j - \max_j z_j}}

    Parameters
    ----------
    logits : array_like, shape (P, n)
        Finite logits, one row per pattern (P >= 1, n >= 1).

    Returns
    -------
    ndarray, shape (P, n)
        Each row is a probability vector.

    Raises
    ------
    TypeError, ValueError
        ``logits`` not a finite real 2-D array with at least one row and column.
    """
    return np.exp(_log_softmax(_check_logits(logits)))


def cross_entropy(logits, labels):
    r"""The mean cross-entropy of logits and integer labels.

    .. math:: C = -\frac1P \sum_{p=1}^{P} \log \sigma(z_p)_{y_p}

    Parameters
    ----------
    logits : array_like, shape (P, n)
        Finite logits :math:`z_p`, one row per pattern (P >= 1).
    labels : array_like of int, shape (P,)
        Classes :math:`y_p \in \{0, \dots, n-1\}`.

    Returns
    -------
    float
        :math:`C` (``inf`` only when a label's probability is below the smallest
        double).

    Raises
    ------
    TypeError, ValueError
        Bad ``logits`` (see :func:`softmax`); ``labels`` not P integers in ``[0, n)``.
    """
    Z = _check_logits(logits)
    return _cross_entropy(Z, _check_labels(labels, Z.shape[0], Z.shape[1]))[0]


def cross_entropy_costate(logits, labels):
    r"""The cross-entropy's boundary costate, :math:`B(N) = -\partial C/\partial X(N)`.

    .. math:: B_p(N) = \frac{1}{P} \big(e_{y_p} - \sigma(X_p(N))\big)

    (le Cun 1988, eq. 3 at k = N, with this cost in place of the quadratic one.)

    Parameters
    ----------
    logits, labels
        As for :func:`cross_entropy`.

    Returns
    -------
    ndarray, shape (P, n)

    Raises
    ------
    TypeError, ValueError
        As for :func:`cross_entropy`.
    """
    Z = _check_logits(logits)
    return _cross_entropy(Z, _check_labels(labels, Z.shape[0], Z.shape[1]))[1]


def accuracy(logits, labels):
    """The fraction of patterns whose largest logit is at the label (first of a tie).

    Parameters
    ----------
    logits, labels
        As for :func:`cross_entropy`.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    TypeError, ValueError
        As for :func:`cross_entropy`.
    """
    Z = _check_logits(logits)
    y = _check_labels(labels, Z.shape[0], Z.shape[1])
    return float(np.mean(np.argmax(Z, axis=1) == y))


# ---------------------------------------------------------------------------- models
def _uniform(rng, fan_in, shape):
    bound = 1.0 / np.sqrt(fan_in)  # PyTorch's default for Linear and Conv1d
    return rng.uniform(-bound, bound, size=shape)


def _check_pair(pair, name, shapes):
    """A pair of finite arrays of the given shapes, as a tuple of float64 arrays."""
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        got = type(pair).__name__
        if hasattr(pair, "__len__"):
            got += f" of length {len(pair)}"
        raise ValueError(f"`{name}` must be a pair of arrays with shapes {shapes[0]} "
                         f"and {shapes[1]}, got {got}")
    out = []
    for i, (a, shape) in enumerate(zip(pair, shapes)):
        arr = as_float_array(a, f"{name}[{i}]")
        if arr.shape != shape:
            raise ValueError(f"`{name}[{i}]` must have shape {shape}, got {arr.shape}")
        out.append(arr)
    return tuple(out)


def _check_list(params, n, what):
    if isinstance(params, np.ndarray) or not isinstance(params, (list, tuple)) \
            or len(params) != n:
        got = (f"{type(params).__name__} of length {len(params)}"
               if isinstance(params, (list, tuple)) else type(params).__name__)
        raise ValueError(f"`params` must be a list of {n} pairs ({what}), got {got}")


class _Classifier:
    """What the three models share: validation at the boundary, then private kernels.

    A model defines ``n_in``, ``n_classes``, ``_check_params``, ``_logits`` and
    ``_backprop``.
    """

    def _check_x(self, x):
        X = as_patterns(x, "x", self.n_in)
        if X.shape[0] == 0:
            raise ValueError(f"`x` must hold at least one pattern, got shape {X.shape}")
        return X

    def logits(self, params, x):
        r"""The outputs :math:`X(N)` of the last (linear) layer, read as logits.

        Parameters
        ----------
        params
            The model's parameters (see the class).
        x : array_like, shape (P, n_in) or (n_in,)
            Finite inputs, one row per pattern (a 1-D array is one pattern).

        Returns
        -------
        ndarray, shape (P, n_classes)

        Raises
        ------
        TypeError, ValueError
            ``params`` not of the model's structure and shapes, or not finite; ``x`` of
            the wrong width, empty, or not finite.
        FloatingPointError
            If finite but huge weights or inputs overflow the logits.
        """
        params, X = self._check_params(params), self._check_x(x)
        Z = self._logits(params, X)
        _finite_or_raise(Z, "logits")
        return Z

    def backprop(self, params, x, labels):
        r"""The mean cross-entropy and its gradient, by the costate pass.

        .. math::

            B(N) = \tfrac1P \big(e_{y} - \sigma(X(N))\big), \qquad
            B(k) = W(k+1)^\top \nabla F_{k+1}(A(k+1))\, B(k+1),

            \frac{\partial C}{\partial W(k)} = -\sum_p Y_p(k)\, X_p(k-1)^\top, \qquad
            Y(k) = \nabla F_k(A(k))\, B(k)

        (le Cun 1988, eqs. 3-4, with the cross-entropy's boundary condition). For shared
        weights the gradient of each free parameter is the sum over its copies (section
        3.1).

        Parameters
        ----------
        params
            The model's parameters (see the class).
        x : array_like, shape (P, n_in) or (n_in,)
            Finite inputs, one row per pattern.
        labels : array_like of int, shape (P,)
            Classes in ``[0, n_classes)``.

        Returns
        -------
        C : float
            The mean cross-entropy.
        grads
            :math:`\partial C/\partial\,\mathrm{params}`, with the structure of
            ``params``.

        Raises
        ------
        TypeError, ValueError
            As for :meth:`logits`; ``labels`` not P integers in ``[0, n_classes)``.
        FloatingPointError
            If finite but huge weights or inputs overflow the cost or the gradient.
        """
        params, X = self._check_params(params), self._check_x(x)
        y = _check_labels(labels, X.shape[0], self.n_classes)
        C, grads = self._backprop(params, X, y)
        _finite_or_raise(np.array([C]), "cost")
        for g in _leaves(grads):
            _finite_or_raise(g, "gradient")
        return C, grads


def _leaves(tree):
    if isinstance(tree, (list, tuple)):
        return [leaf for node in tree for leaf in _leaves(node)]
    return [tree]


def _finite_or_raise(a, what):
    if not np.all(np.isfinite(a)):
        raise FloatingPointError(
            f"the {what} overflowed float64: `params` or `x` are finite but too large "
            f"(max |value| {np.max(np.abs(np.nan_to_num(a, nan=np.inf))):.3g})")


class Dense(_Classifier):
    r"""A layered network with a linear output layer read as logits.

    ``Dense([40, 10])`` is logistic (softmax) regression, ``Dense([40, 100, 100, 10])``
    an MLP. :math:`X(k) = F(W(k) X(k-1) + b(k))` for the hidden layers and :math:`X(N) =
    W(N) X(N-1) + b(N)`, the logits.

    Parameters
    ----------
    sizes : sequence of int
        Widths :math:`n_0, \dots, n_N` (at least two, each >= 1); :math:`n_N` is the
        number of classes.
    activation : str or Activation
        The hidden layers' :math:`F` (default ``"relu"``, the models' one default: the
        MNIST-1D benchmark's).

    Attributes
    ----------
    sizes : list of int
    n_in, n_classes : int
        :math:`n_0` and :math:`n_N`.
    n_params : int
        :math:`\sum_k (n_{k-1} + 1)\, n_k`.
    activation : str
        The hidden activation's name.

    Raises
    ------
    TypeError, ValueError
        A bad ``sizes`` or ``activation``.

    Notes
    -----
    ``params`` is the package's list of pairs ``[(W_1, b_1), ..., (W_N, b_N)]``,
    ``W_k.shape == (n_k, n_{k-1})``, as for :func:`lagprop.lagrangian.backprop`.
    """

    logits = _Classifier.logits  # in the class's own namespace: on its API page
    backprop = _Classifier.backprop

    def __init__(self, sizes, activation=_ACTIVATION):
        self.sizes = check_sizes(sizes)
        self.n_in, self.n_classes = self.sizes[0], self.sizes[-1]
        self._F = _layer_activations(len(self.sizes) - 1, activation, "identity")
        self.activation = _act.get(activation, argname="activation").name
        pairs = zip(self.sizes[:-1], self.sizes[1:])
        self.n_params = sum((a + 1) * b for a, b in pairs)

    def init(self, seed=0):
        """Parameters drawn uniformly in :math:`\\pm 1/\\sqrt{n_{k-1}}` (as PyTorch).

        Parameters
        ----------
        seed : int or numpy.random.Generator

        Returns
        -------
        list of (ndarray, ndarray)

        Raises
        ------
        TypeError, ValueError
            A ``seed`` that is neither an integer >= 0 nor a ``numpy.random.Generator``.
        """
        rng = seed_or_generator(seed)
        return [(_uniform(rng, a, (b, a)), _uniform(rng, a, (b,)))
                for a, b in zip(self.sizes[:-1], self.sizes[1:])]

    def _check_params(self, params):
        _check_list(params, len(self.sizes) - 1, f"(W_k, b_k) for sizes {self.sizes}")
        P = check_params(params)
        widths = [P[0][0].shape[1]] + [W.shape[0] for W, _ in P]
        if widths != self.sizes:
            raise ValueError(f"`params` must have the widths {self.sizes} of the "
                             f"model, got {widths}")
        return P

    def _logits(self, params, X):
        with np.errstate(over="ignore", invalid="ignore"):
            return _forward(params, X, self._F).X[-1]

    def _backprop(self, params, X, y):
        with np.errstate(over="ignore", invalid="ignore"):
            fwd = _forward(params, X, self._F)
            C, BN = _cross_entropy(fwd.X[-1], y)
            co = _costate(params, fwd.X, fwd.A, None, self._F, BN=BN)
            return C, _weight_gradients(co.Y, fwd.X)


class ConvNet(_Classifier):
    r"""1-D convolution layers, each followed by the activation, then a linear layer.

    The default is the CNN of the MNIST-1D benchmark (Greydanus 2020): three layers of
    25 channels, kernels 5, 3, 3, stride 2, padding 1, ReLU, then 125 -> 10. Every
    convolution is a tied dense layer (:func:`lagprop.sharing.strided_conv1d_ties`)
    computed by the fast kernel.

    Parameters
    ----------
    n_in : int
        Input length (one channel).
    n_classes : int
        Number of classes, >= 1.
    channels, kernel_sizes, strides : sequence of int, keyword-only
        Per convolution layer, each >= 1.
    paddings : sequence of int, keyword-only
        Zero padding per layer, each >= 0.
    activation : str or Activation, keyword-only
        After every convolution (default ``"relu"``, the models' one default).

    Attributes
    ----------
    n_in, n_classes, n_params : int
    lengths : list of int
        The signal length after each layer, ``lengths[0] == n_in``.
    activation : str

    Raises
    ------
    TypeError, ValueError
        A count that is not an integer, a channel count, kernel size or stride below 1,
        a padding below 0, lists of unequal lengths, or a kernel longer than its padded
        input.

    Notes
    -----
    ``params`` is one pair per layer, ``[(v_1, c_1), ..., (v_L, c_L), (W, b)]``, with
    kernels ``v_l`` (F, C, K), biases ``c_l`` (F,), and the head ``W``
    (n_classes, F_L n_L), ``b``.
    """

    logits = _Classifier.logits  # in the class's own namespace: on its API page
    backprop = _Classifier.backprop

    def __init__(self, n_in=40, n_classes=10, *, channels=(25, 25, 25),
                 kernel_sizes=(5, 3, 3), strides=(2, 2, 2), paddings=(1, 1, 1),
                 activation=_ACTIVATION):
        self.n_in = positive_int(n_in, "n_in")
        self.n_classes = positive_int(n_classes, "n_classes")
        self.channels = _int_tuple(channels, "channels", 1)
        self.kernel_sizes = _int_tuple(kernel_sizes, "kernel_sizes", 1)
        self.strides = _int_tuple(strides, "strides", 1)
        self.paddings = _int_tuple(paddings, "paddings", 0)
        lens = {len(self.channels), len(self.kernel_sizes), len(self.strides),
                len(self.paddings)}
        if len(lens) != 1 or 0 in lens:
            raise ValueError(
                "`channels`, `kernel_sizes`, `strides`, `paddings` must have one entry "
                f"per layer (at least one), got lengths {len(self.channels)}, "
                f"{len(self.kernel_sizes)}, {len(self.strides)}, {len(self.paddings)}")
        self.lengths = [self.n_in]
        for K, s, p in zip(self.kernel_sizes, self.strides, self.paddings):
            n_out = conv1d_output_length(self.lengths[-1], K, stride=s, padding=p)
            self.lengths.append(n_out)
        self._act = _act.get(activation, argname="activation")
        self.activation = self._act.name
        C_in = (1,) + self.channels[:-1]
        self._shapes = [((F, C, K), (F,))
                        for F, C, K in zip(self.channels, C_in, self.kernel_sizes)]
        self.n_flat = self.channels[-1] * self.lengths[-1]
        self._shapes.append(((self.n_classes, self.n_flat), (self.n_classes,)))
        self.n_params = sum(int(np.prod(a)) + int(np.prod(b)) for a, b in self._shapes)

    def init(self, seed=0):
        """Parameters drawn uniformly in :math:`\\pm 1/\\sqrt{\\text{fan-in}}`.

        Parameters
        ----------
        seed : int or numpy.random.Generator

        Returns
        -------
        list of (ndarray, ndarray)

        Raises
        ------
        TypeError, ValueError
            A ``seed`` that is neither an integer >= 0 nor a ``numpy.random.Generator``.
        """
        rng = seed_or_generator(seed)
        out = []
        for w_shape, b_shape in self._shapes:
            fan_in = int(np.prod(w_shape[1:]))
            out.append((_uniform(rng, fan_in, w_shape), _uniform(rng, fan_in, b_shape)))
        return out

    def _check_params(self, params):
        _check_list(params, len(self._shapes),
                    "(kernel, bias) per convolution, then (W, b)")
        return [_check_pair(pair, f"params[{i}]", shapes)
                for i, (pair, shapes) in enumerate(zip(params, self._shapes))]

    def _forward(self, params, X0):
        X, A, cols = [X0[:, None, :]], [None], [None]
        for (v, c), s, p in zip(params[:-1], self.strides, self.paddings):
            a, col = _conv1d(X[-1], v, c, s, p)
            A.append(a)
            cols.append(col)
            X.append(self._act.f(a))
        flat = X[-1].reshape(X[-1].shape[0], -1)
        W, b = params[-1]
        return X, A, cols, flat, flat @ W.T + b

    def _logits(self, params, X):
        with np.errstate(over="ignore", invalid="ignore"):
            return self._forward(params, X)[-1]

    def _backprop(self, params, X0, y):
        with np.errstate(over="ignore", invalid="ignore"):
            X, A, cols, flat, Z = self._forward(params, X0)
            C, Y = _cross_entropy(Z, y)  # identity output: Y(N) = B(N)
            W = params[-1][0]
            grads = [(-(Y.T @ flat), -Y.sum(axis=0))]
            B = (Y @ W).reshape(X[-1].shape)
            for i in range(len(self.channels) - 1, -1, -1):
                Yi = self._act.df(A[i + 1]) * B
                B, gv, gb = _conv1d_costate(X[i].shape, params[i][0], Yi, cols[i + 1],
                                            self.strides[i], self.paddings[i])
                grads.insert(0, (gv, gb))
            return C, grads


def _int_tuple(values, name, minimum):
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"`{name}` must be a sequence of integers, got "
                        f"{type(values).__name__}")
    return tuple(positive_int(v, f"{name}[{i}]", minimum=minimum)
                 for i, v in enumerate(values))


def conv2d_ties(height, width, kernel, *, n_filters=1, stride=1, shared=True, start=0):
    r"""The tie map of a 2-D layer of square receptive fields on a one-channel image.

    Output unit :math:`(f, r, c)` sees the :math:`k \times k` window at :math:`(s r, s
    c)` of the image (pixel :math:`(i, j)` is input ``i * width + j``). With
    ``shared=True`` its weights are filter :math:`f`'s kernel and bias (a convolution,
    le Cun 1989's shared weights); with ``shared=False`` every unit has its own weights
    (a locally connected layer: the same connections, no ties). Weights outside the
    window are not parameters (id -1, value 0).

    Parameters
    ----------
    height, width : int
        Image size, >= 1.
    kernel : int
        Window side :math:`k`, 1 <= k <= min(height, width).
    n_filters, stride : int, keyword-only
        >= 1.
    shared : bool, keyword-only
    start : int, keyword-only
        The first parameter id, >= 0.

    Returns
    -------
    tie_W : ndarray of int64, shape (n_filters * H_out * W_out, height * width)
    tie_b : ndarray of int64, shape (n_filters * H_out * W_out,)

    Raises
    ------
    TypeError, ValueError
        A count that is not an integer in its range.

    References
    ----------
    le Cun et al. (1989), "Backpropagation applied to handwritten zip code recognition"
    (local and shared-weight layers on images).
    """
    height, width = positive_int(height, "height"), positive_int(width, "width")
    k, s = positive_int(kernel, "kernel"), positive_int(stride, "stride")
    F = positive_int(n_filters, "n_filters")
    start = positive_int(start, "start", minimum=0)
    if k > min(height, width):
        raise ValueError(f"`kernel` must be <= {min(height, width)}, got {k}")
    Ho, Wo = (height - k) // s + 1, (width - k) // s + 1
    tW = np.full((F * Ho * Wo, height * width), -1, dtype=np.int64)
    tb = np.full(F * Ho * Wo, -1, dtype=np.int64)
    nxt = start
    for f in range(F):
        for r in range(Ho):
            for c in range(Wo):
                row = (f * Ho + r) * Wo + c
                for i in range(k):
                    for j in range(k):
                        col = (s * r + i) * width + s * c + j
                        if shared:
                            tW[row, col] = start + (f * k + i) * k + j
                        else:
                            tW[row, col] = nxt
                            nxt += 1
                if shared:
                    tb[row] = start + F * k * k + f
                else:
                    tb[row] = nxt
                    nxt += 1
    return tW, tb


class TiedNet(_Classifier):
    r"""A layered network given by a tie map: :math:`W = W(U)` (le Cun 1988, sec. 3.1).

    The gradient is the costate pass's :math:`\partial C/\partial W` summed over the
    copies of each free parameter (:func:`lagprop.sharing.tied_gradient`).

    Parameters
    ----------
    ties : list of (ndarray, ndarray)
        The tie map (:mod:`lagprop.sharing`), one pair per layer.
    activation : str or Activation
        The hidden layers' :math:`F` (default ``"relu"``, the models' one default; le
        Cun's networks of 1989 take ``"tanh"``); the last layer is linear.

    Attributes
    ----------
    n_in, n_classes : int
        The widths of the first and the last layer.
    n_params : int
        The number of free parameters.
    activation : str

    Raises
    ------
    TypeError, ValueError
        A bad tie map or activation.

    Notes
    -----
    ``params`` is the vector ``u`` of free parameters, shape (n_params,), as in
    :func:`lagprop.sharing.expand`.
    """

    logits = _Classifier.logits  # in the class's own namespace: on its API page
    backprop = _Classifier.backprop

    def __init__(self, ties, activation=_ACTIVATION):
        self.ties = check_ties(ties)
        self.n_params = n_shared(self.ties)
        self.n_in, self.n_classes = self.ties[0][0].shape[1], self.ties[-1][0].shape[0]
        self._F = _layer_activations(len(self.ties), activation, "identity")
        self.activation = _act.get(activation, argname="activation").name

    def init(self, seed=0):
        """Free parameters drawn uniformly in :math:`\\pm 1/\\sqrt{\\text{fan-in}}`.

        The fan-in is that of the unit that uses the parameter (the last use, for a
        shared one).

        Parameters
        ----------
        seed : int or numpy.random.Generator

        Returns
        -------
        ndarray, shape (n_params,)

        Raises
        ------
        TypeError, ValueError
            A ``seed`` that is neither an integer >= 0 nor a ``numpy.random.Generator``.
        """
        rng = seed_or_generator(seed)
        u = np.zeros(self.n_params)
        for tW, tb in self.ties:
            fan_in = np.maximum((tW >= 0).sum(axis=1), 1)
            for t, fan in ((tW, fan_in[:, None] * np.ones_like(tW)), (tb, fan_in)):
                ids = t[t >= 0]
                u[ids] = _uniform(rng, 1.0, ids.size) / np.sqrt(fan[t >= 0])
        return u

    def _check_params(self, params):
        u = as_float_array(params, "params")
        if u.shape != (self.n_params,):
            n = self.n_params
            raise ValueError(f"`params` must be the vector u of the {n} free "
                             f"parameters, shape ({n},), got shape {u.shape}")
        return u

    def _logits(self, u, X):
        with np.errstate(over="ignore", invalid="ignore"):
            return _forward(expand(u, self.ties), X, self._F).X[-1]

    def _backprop(self, u, X, y):
        pairs = expand(u, self.ties)
        with np.errstate(over="ignore", invalid="ignore"):
            fwd = _forward(pairs, X, self._F)
            C, BN = _cross_entropy(fwd.X[-1], y)
            co = _costate(pairs, fwd.X, fwd.A, None, self._F, BN=BN)
            grads = _weight_gradients(co.Y, fwd.X)
        return C, tied_gradient(grads, self.ties, self.n_params)


# ---------------------------------------------------------------------------- training
@dataclass(frozen=True)
class TrainingLog:
    """The record of :func:`train`, one entry per evaluation.

    Attributes
    ----------
    iteration : ndarray of int
        The number of optimiser steps taken at each evaluation.
    train_loss : ndarray
        The mean minibatch cross-entropy over the steps since the previous evaluation.
    test_accuracy : ndarray
        The accuracy on ``data.x_test`` after those steps.
    """

    iteration: np.ndarray
    train_loss: np.ndarray
    test_accuracy: np.ndarray


def _split(data, model):
    names = ("x_train", "y_train", "x_test", "y_test")
    if not all(hasattr(data, n) for n in names):
        raise TypeError(f"`data` must have x_train, y_train, x_test and y_test (a "
                        f"lagprop.datasets.LabelledSplit), got {type(data).__name__}")
    out = []
    for part in ("train", "test"):
        x = as_patterns(getattr(data, f"x_{part}"), f"data.x_{part}", model.n_in)
        if x.shape[0] == 0:
            raise ValueError(f"`data.x_{part}` must hold at least one pattern, got "
                             f"none")
        y = _check_labels(getattr(data, f"y_{part}"), x.shape[0], model.n_classes,
                          f"data.y_{part}")
        out += [x, y]
    return out


def train(model, data, *, optimizer, steps, batch_size=100, seed=0, eval_every=None,
          params=None):
    r"""Minibatch training: a batch, its costate gradient, an optimiser step; repeated.

    At step :math:`t` a batch :math:`\mathcal B_t` of ``batch_size`` training patterns
    is drawn without replacement, and

    .. math::

        \theta_t = \mathrm{update}\big(
            \nabla_\theta C_{\mathcal B_t}(\theta_{t-1})\big),

    with :math:`C_{\mathcal B}` the mean cross-entropy on the batch and its gradient
    from the costate pass (:meth:`Dense.backprop`). The optimiser's state is made afresh
    by ``optimizer.init`` at the start, so one optimiser can serve many runs.

    Parameters
    ----------
    model : Dense, ConvNet or TiedNet
    data : lagprop.datasets.LabelledSplit
        ``x_train`` (P, n_in), integer ``y_train`` in ``[0, model.n_classes)``, and the
        same for the test set.
    optimizer : lagprop.optim.Adam or lagprop.optim.Momentum, keyword-only
        Anything with ``init(params)`` and ``update(grads, state, params)``.
    steps : int, keyword-only
        Optimiser steps, >= 1.
    batch_size : int, keyword-only
        Patterns per step (at most the training set), >= 1.
    seed : int or numpy.random.Generator, keyword-only
        One generator draws the initial parameters (unless ``params`` is given) and then
        the batches; so the batches depend on whether ``params`` is given.
    eval_every : int, optional, keyword-only
        Evaluate every so many steps (default: only after the last).
    params : optional, keyword-only
        Start here instead of ``model.init(seed)``; the model's structure, finite.

    Returns
    -------
    params
        The parameters after the last step, with the model's structure.
    log : TrainingLog
        Training loss and test accuracy at each evaluation.

    Raises
    ------
    TypeError, ValueError
        A bad argument, named: ``model`` not a classifier of this module, ``data`` whose
        widths or labels do not fit the model, a starting ``params`` of the wrong
        structure or not finite, a count below 1, an ``optimizer`` without
        ``init``/``update``.
    lagprop.ConvergenceError
        If training diverges: the cost or the parameters overflow. The message gives the
        step and the last cost; ``iterations`` and ``residual`` hold them.

    References
    ----------
    le Cun (1988), eq. 9 (the weight update from the costate's gradient); Greydanus
    (2020) for the MNIST-1D training set-up (Adam, steps of 1e-2, batches of 100).
    """
    if not isinstance(model, _Classifier):
        raise TypeError(f"`model` must be a classify.Dense, ConvNet or TiedNet, got "
                        f"{type(model).__name__}")
    if not (callable(getattr(optimizer, "init", None))
            and callable(getattr(optimizer, "update", None))):
        raise TypeError(f"`optimizer` must have init(params) and "
                        f"update(grads, state, params) (lagprop.optim), got "
                        f"{type(optimizer).__name__}")
    steps = positive_int(steps, "steps")
    batch_size = positive_int(batch_size, "batch_size")
    every = steps if eval_every is None else positive_int(eval_every, "eval_every")
    x, y, xt, yt = _split(data, model)
    rng = seed_or_generator(seed)
    params = model.init(rng) if params is None else model._check_params(params)
    state = optimizer.init(params)
    log_t, log_loss, log_acc, run = [], [], [], []
    batch = min(batch_size, x.shape[0])
    for t in range(1, steps + 1):
        idx = rng.choice(x.shape[0], size=batch, replace=False)
        C, grads = model._backprop(params, x[idx], y[idx])
        if not np.isfinite(C):
            _diverged(t, steps, C, run)
        run.append(C)
        try:
            params, state = optimizer.update(grads, state, params)
        except (FloatingPointError, ValueError) as exc:  # a step that overflowed
            _diverged(t, steps, C, run, exc)
        if t % every == 0 or t == steps:
            log_t.append(t)
            log_loss.append(float(np.mean(run)))
            run = []
            Z = model._logits(params, xt)
            log_acc.append(float(np.mean(np.argmax(Z, axis=1) == yt)))
    return params, TrainingLog(np.array(log_t), np.array(log_loss), np.array(log_acc))


def _diverged(t, steps, C, run, cause=None):
    what = (f"the minibatch cost became {C}" if cause is None
            else f"the step failed ({cause})")
    if run:
        hint = f"the last finite cost was {run[-1]:.6g}; try a smaller learning rate"
        last = run[-1]
    else:
        hint = "no finite cost before it: the starting `params` are too large"
        last = float(C)
    raise ConvergenceError(f"training diverged at step {t} of {steps}: {what}; {hint}",
                           iterations=t, residual=float(last)) from cause
