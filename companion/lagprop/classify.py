r"""Classification with the costate pass: the softmax cross-entropy and its costate B(N).

Le Cun's Lagrange function holds for any cost of the outputs, not only the quadratic one: with
:math:`C(X(N))` the only change is the boundary condition of the costate,
:math:`B(N) = -\partial C / \partial X(N)`. For a linear output layer whose outputs are the
logits of a softmax and integer labels :math:`y_p`, the mean cross-entropy is

.. math::

    C = -\frac{1}{P} \sum_p \log \sigma(X_p(N))_{y_p}, \qquad
    \sigma(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}, \qquad
    B_p(N) = \frac{1}{P} \big( e_{y_p} - \sigma(X_p(N)) \big),

and the recursion :math:`B(k) = W(k+1)^\top \nabla F_{k+1} B(k+1)` and the weight gradient
:math:`\partial C / \partial W(k) = -\sum_p Y_p(k) X_p(k-1)^\top` are unchanged.

Models (each with ``init(seed)``, ``logits(params, x)``, ``backprop(params, x, labels)`` and
``n_params``; ``params`` is a list of arrays):

* :class:`Dense` -- a layered network (one layer: logistic regression; more: an MLP).
* :class:`ConvNet` -- 1-D convolution layers (:func:`lagprop.sharing.conv1d`) and a dense head.
* :class:`TiedNet` -- any tie map (:mod:`lagprop.sharing`): a dense network whose weights are
  functions of fewer free parameters (locally connected and shared-weight layers).

:func:`train` runs minibatch training with an optimiser of :mod:`lagprop.optim`.
"""

from dataclasses import dataclass

import numpy as np

from . import activations as _act
from ._validate import as_float_array, positive_int, seed_or_generator
from .lagrangian import _forward, _layer_activations, _weight_gradients
from .mlp import check_sizes
from .sharing import (_conv1d, _conv1d_costate, check_ties, conv1d_output_length, expand,
                      n_shared, tied_gradient)

__all__ = [
    "softmax",
    "cross_entropy",
    "cross_entropy_costate",
    "accuracy",
    "Dense",
    "ConvNet",
    "TiedNet",
    "conv2d_ties",
    "History",
    "train",
]


def _check_labels(labels, P, n_classes):
    y = np.asarray(labels)
    if y.shape != (P,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"`labels` must be {P} integers, got {y.dtype} array of shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"`labels` must lie in 0..{n_classes - 1}, got {y.min()}..{y.max()}")
    return y


def _log_softmax(Z):
    Z = Z - Z.max(axis=1, keepdims=True)
    return Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))


def softmax(logits):
    r"""Row-wise softmax :math:`\sigma(z)_i = e^{z_i - \max z} / \sum_j e^{z_j - \max z}`."""
    Z = as_float_array(logits, "logits", ndim=2)
    return np.exp(_log_softmax(Z))


def cross_entropy(logits, labels):
    r"""Mean cross-entropy :math:`C = -\frac1P \sum_p \log \sigma(z_p)_{y_p}` of logits (P, n)."""
    Z = as_float_array(logits, "logits", ndim=2)
    y = _check_labels(labels, Z.shape[0], Z.shape[1])
    return float(-_log_softmax(Z)[np.arange(y.size), y].mean())


def _xent_costate(Z, y):
    P = Z.shape[0]
    B = -np.exp(_log_softmax(Z))
    B[np.arange(P), y] += 1.0
    B /= P
    return B


def cross_entropy_costate(logits, labels):
    r"""The boundary costate of the cross-entropy, :math:`B(N) = -\partial C/\partial X(N)`.

    .. math:: B_p(N) = \frac{1}{P} \big(e_{y_p} - \sigma(X_p(N))\big)

    (le Cun 1988, eq. 3 at k = N, with this cost in place of the quadratic one).
    """
    Z = as_float_array(logits, "logits", ndim=2)
    return _xent_costate(Z, _check_labels(labels, Z.shape[0], Z.shape[1]))


def accuracy(logits, labels):
    """Fraction of patterns whose largest logit is at the label."""
    Z = as_float_array(logits, "logits", ndim=2)
    y = _check_labels(labels, Z.shape[0], Z.shape[1])
    return float(np.mean(np.argmax(Z, axis=1) == y))


def _uniform(rng, fan_in, shape):
    bound = 1.0 / np.sqrt(fan_in)  # PyTorch's default for Linear and Conv1d
    return rng.uniform(-bound, bound, size=shape)


def _dense_costate(params, X, A, BN, F):
    """Costate recursion from a given B(N); returns Y(1..N) as the list [None, Y1, ..., YN]."""
    N = len(params)
    Y = [None] * (N + 1)
    B = BN
    for k in range(N, 0, -1):
        Y[k] = F[k].df(A[k]) * B
        if k > 1:
            B = Y[k] @ params[k - 1][0]
    return Y


class Dense:
    """A layered network with a linear output layer read as logits.

    ``Dense([40, 10])`` is logistic (softmax) regression, ``Dense([40, 100, 100, 10])`` an MLP.
    ``params`` is ``[W_1, b_1, ..., W_N, b_N]``.
    """

    def __init__(self, sizes, activation="relu"):
        self.sizes = check_sizes(sizes)
        self.activation = _act.get(activation).name
        self._F = _layer_activations(len(self.sizes) - 1, activation, "identity")
        self.n_params = sum((a + 1) * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    def init(self, seed=0):
        rng = seed_or_generator(seed)
        out = []
        for a, b in zip(self.sizes[:-1], self.sizes[1:]):
            out += [_uniform(rng, a, (b, a)), _uniform(rng, a, (b,))]
        return out

    def _pairs(self, params):
        return [(params[2 * i], params[2 * i + 1]) for i in range(len(params) // 2)]

    def logits(self, params, x):
        return _forward(self._pairs(params), np.asarray(x, dtype=np.float64), self._F).X[-1]

    def backprop(self, params, x, labels):
        """Cross-entropy and its gradient by the costate pass: ``(C, grads)``."""
        pairs = self._pairs(params)
        fwd = _forward(pairs, np.asarray(x, dtype=np.float64), self._F)
        Z = fwd.X[-1]
        Y = _dense_costate(pairs, fwd.X, fwd.A, _xent_costate(Z, labels), self._F)
        grads = [g for pair in _weight_gradients(Y, fwd.X) for g in pair]
        return float(-_log_softmax(Z)[np.arange(len(labels)), labels].mean()), grads


class ConvNet:
    r"""1-D convolution layers, each followed by the activation, then a linear layer to logits.

    The default is the CNN of the MNIST-1D benchmark (Greydanus 2020): three layers of 25
    channels, kernels 5, 3, 3, stride 2, padding 1, ReLU, then 125 -> 10. Every convolution is
    a tied dense layer (:func:`lagprop.sharing.strided_conv1d_ties`) computed by the fast kernel.
    ``params`` is ``[v_1, c_1, ..., v_L, c_L, W, b]``.
    """

    def __init__(self, n_in=40, n_classes=10, *, channels=(25, 25, 25), kernel_sizes=(5, 3, 3),
                 strides=(2, 2, 2), paddings=(1, 1, 1), activation="relu"):
        self.n_in, self.n_classes = positive_int(n_in, "n_in"), positive_int(n_classes, "n_classes")
        self.channels, self.kernel_sizes = tuple(channels), tuple(kernel_sizes)
        self.strides, self.paddings = tuple(strides), tuple(paddings)
        if not len(self.channels) == len(self.kernel_sizes) == len(self.strides) == len(self.paddings):
            raise ValueError("`channels`, `kernel_sizes`, `strides`, `paddings` must have one entry per layer")
        self.lengths = [self.n_in]
        for K, s, p in zip(self.kernel_sizes, self.strides, self.paddings):
            self.lengths.append(conv1d_output_length(self.lengths[-1], K, stride=s, padding=p))
        self.act = _layer_activations(1, activation, activation)[1]
        C_in = (1,) + self.channels[:-1]
        self.n_flat = self.channels[-1] * self.lengths[-1]
        self.n_params = sum(F * (C * K + 1) for F, C, K in zip(self.channels, C_in, self.kernel_sizes))
        self.n_params += (self.n_flat + 1) * self.n_classes

    def init(self, seed=0):
        rng = seed_or_generator(seed)
        out, C = [], 1
        for F, K in zip(self.channels, self.kernel_sizes):
            out += [_uniform(rng, C * K, (F, C, K)), _uniform(rng, C * K, (F,))]
            C = F
        return out + [_uniform(rng, self.n_flat, (self.n_classes, self.n_flat)),
                      _uniform(rng, self.n_flat, (self.n_classes,))]

    def _forward(self, params, x):
        X = [np.asarray(x, dtype=np.float64)[:, None, :]]
        A, cols = [None], [None]
        for i, (s, p) in enumerate(zip(self.strides, self.paddings)):
            a, c = _conv1d(X[-1], params[2 * i], params[2 * i + 1], s, p)
            A.append(a)
            cols.append(c)
            X.append(self.act.f(a))
        flat = X[-1].reshape(X[-1].shape[0], -1)
        return X, A, cols, flat, flat @ params[-2].T + params[-1]

    def logits(self, params, x):
        return self._forward(params, x)[-1]

    def backprop(self, params, x, labels):
        """Cross-entropy and its gradient by the costate pass: ``(C, grads)``."""
        X, A, cols, flat, Z = self._forward(params, x)
        Y = _xent_costate(Z, labels)  # identity output: Y(N) = B(N)
        grads = [-(Y.T @ flat), -Y.sum(axis=0)]
        B = (Y @ params[-2]).reshape(X[-1].shape)
        for i in range(len(self.channels) - 1, -1, -1):
            Yi = self.act.df(A[i + 1]) * B
            B, gv, gb = _conv1d_costate(X[i].shape, params[2 * i], Yi, cols[i + 1],
                                        self.strides[i], self.paddings[i])
            grads = [gv, gb] + grads
        return float(-_log_softmax(Z)[np.arange(len(labels)), labels].mean()), grads


def conv2d_ties(height, width, kernel, *, n_filters=1, stride=1, shared=True, start=0):
    r"""The tie map of a 2-D layer with square receptive fields (no padding), one-channel input.

    Output unit :math:`(f, r, c)` sees the :math:`k \times k` window at
    :math:`(s r, s c)` of the image (pixel :math:`(i, j)` is input ``i * width + j``). With
    ``shared=True`` its weights are filter :math:`f`'s kernel and bias (a convolution, le Cun
    1989's shared weights); with ``shared=False`` every unit has its own weights
    (a locally connected layer: the same connections, no ties). Weights outside the window are
    not parameters (id -1, value 0).

    Returns
    -------
    tie_W : ndarray of int64, shape (n_filters * H_out * W_out, height * width)
    tie_b : ndarray of int64, shape (n_filters * H_out * W_out,)
    """
    height, width = positive_int(height, "height"), positive_int(width, "width")
    k, s = positive_int(kernel, "kernel"), positive_int(stride, "stride")
    F, start = positive_int(n_filters, "n_filters"), positive_int(start, "start", minimum=0)
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


class TiedNet:
    r"""A layered network given by a tie map: :math:`W = W(U)` (le Cun 1988, section 3.1).

    ``params`` is ``[u]``, one vector of free parameters; the gradient is the costate pass's
    :math:`\partial C/\partial W` summed over the copies of each parameter
    (:func:`lagprop.sharing.tied_gradient`). ``n_params`` counts the free parameters.
    """

    def __init__(self, ties, activation="tanh"):
        self.ties = check_ties(ties)
        self.n_params = n_shared(self.ties)
        self._F = _layer_activations(len(self.ties), activation, "identity")

    def init(self, seed=0):
        rng = seed_or_generator(seed)
        u = np.zeros(self.n_params)
        for tW, tb in self.ties:
            fan_in = np.maximum((tW >= 0).sum(axis=1), 1)
            for t, fan in ((tW, fan_in[:, None] * np.ones_like(tW)), (tb, fan_in)):
                ids = t[t >= 0]
                u[ids] = _uniform(rng, 1.0, ids.size) / np.sqrt(fan[t >= 0])
        return [u]

    def logits(self, params, x):
        return _forward(expand(params[0], self.ties), np.asarray(x, dtype=np.float64), self._F).X[-1]

    def backprop(self, params, x, labels):
        pairs = expand(params[0], self.ties)
        fwd = _forward(pairs, np.asarray(x, dtype=np.float64), self._F)
        Z = fwd.X[-1]
        Y = _dense_costate(pairs, fwd.X, fwd.A, _xent_costate(Z, labels), self._F)
        g = tied_gradient(_weight_gradients(Y, fwd.X), self.ties, self.n_params)
        return float(-_log_softmax(Z)[np.arange(len(labels)), labels].mean()), [g]


@dataclass(frozen=True)
class History:
    """The result of :func:`train`: final ``params``; at each evaluation ``step``, the mean
    ``train_loss`` since the previous one and the ``test_accuracy``."""

    params: list
    step: np.ndarray
    train_loss: np.ndarray
    test_accuracy: np.ndarray


def train(model, data, *, optimizer, steps, batch_size=100, seed=0, eval_every=None, params=None):
    r"""Minibatch training: draw a batch, costate gradient, optimiser step; ``steps`` times.

    Parameters
    ----------
    model : Dense, ConvNet or TiedNet
    data : lagprop.datasets.LabelledSplit
    optimizer : lagprop.optim.Adam or lagprop.optim.Momentum
    steps, batch_size : int
    seed : int, keyword-only
        Seeds the initial parameters and the batches (``numpy.random.default_rng``).
    eval_every : int, optional
        Test accuracy every so many steps (default: only at the end).
    params : list of arrays, optional
        Start here instead of ``model.init(seed)``.

    Returns
    -------
    History
    """
    steps, batch_size = positive_int(steps, "steps"), positive_int(batch_size, "batch_size")
    every = steps if eval_every is None else positive_int(eval_every, "eval_every")
    x = as_float_array(data.x_train, "data.x_train", ndim=2)
    y = _check_labels(data.y_train, x.shape[0], 10**9)
    xt = as_float_array(data.x_test, "data.x_test", ndim=2)
    yt = _check_labels(data.y_test, xt.shape[0], 10**9)
    rng = np.random.default_rng(seed)
    params = model.init(rng) if params is None else [np.array(p, dtype=np.float64) for p in params]
    log_step, log_loss, log_acc, run = [], [], [], []
    for t in range(1, steps + 1):
        idx = rng.choice(x.shape[0], size=min(batch_size, x.shape[0]), replace=False)
        C, grads = model.backprop(params, x[idx], y[idx])
        if not np.isfinite(C):
            raise FloatingPointError(f"the cost became {C} at step {t}: lower the learning rate")
        run.append(C)
        params = optimizer.step(params, grads)
        if t % every == 0 or t == steps:
            log_step.append(t)
            log_loss.append(float(np.mean(run)))
            run = []
            log_acc.append(float(np.mean(np.argmax(model.logits(params, xt), axis=1) == yt)))
    return History(params, np.array(log_step), np.array(log_loss), np.array(log_acc))
