r"""Transformed parameter spaces :math:`W = W(U)` (le Cun 1988, section 3.1).

The weights of a layered network need not be the variables of the search. When they are functions
:math:`w_{ij}(k) = w_{ij}(k)(U)` of a vector :math:`U = (u_1, \dots, u_r)`, the cost
:math:`C(U) = C(W(U))` has the gradient

.. math::

    \frac{\partial C}{\partial u_q} = \sum_{i,j,k} \frac{\partial C}{\partial w_{ij}(k)}
    \frac{\partial w_{ij}(k)}{\partial u_q}
    = -\sum_{i,j,k} \sum_p y_{p,i}(k)\, x_{p,j}(k-1)\, \frac{\partial w_{ij}(k)}{\partial u_q},

so back-propagation (:func:`lagprop.lagrangian.backprop`) followed by one multiplication by the
transposed Jacobian :math:`(\partial W / \partial U)^\top` gives it (:func:`pullback`).

Tied weights
    A *tie map* has the structure of ``params``: a list of pairs ``(tie_W, tie_b)`` of integer
    arrays with the shapes of ``(W_k, b_k)``. An entry ``q >= 0`` says the weight is the shared
    parameter ``u[q]``; ``-1`` says the weight is not a parameter and keeps a fixed value (zero
    unless ``fixed`` says otherwise). Then :math:`W = W_{\mathrm{fixed}} + E u` with a 0/1 matrix
    :math:`E`, and the gradient of a shared parameter is the sum of the gradients of the weights
    that share it (:func:`expand`, :func:`tied_gradient`, :func:`tied_backprop`).
Convolution
    :func:`conv1d_ties` writes a 1-D convolution (valid, stride 1) as a dense layer with tied
    weights.
Unfolding in time
    :func:`unfold_rnn` writes a discrete-time recurrent network run for ``steps`` steps as a
    layered network whose layers share their weights: back-propagation through time.
Linear reparametrisation
    :func:`linear_transform` sets :math:`W_k = U_k M_k` for fixed matrices :math:`M_k` (for
    example :math:`M = S^{-1}`, a rescaling of badly scaled inputs); its gradient is
    :math:`\partial_{U_k} C = (\partial_{W_k} C)\, M_k^\top`
    (:func:`linear_transform_gradient`, :func:`reparam_descent`).
"""

from dataclasses import dataclass

import numpy as np

from . import activations as _act
from ._validate import (_describe, as_float_array, as_patterns, integer_ids, positive_int,
                        positive_scalar, real_scalar)
from .lagrangian import (
    _DIVERGENCE,
    _check_targets,
    _cost,
    _costate,
    _forward,
    _grown,
    _layer_activations,
    _weight_gradients,
    backprop,
    cost,
    forward,
)
from .mlp import _flatten, check_params, flatten

__all__ = [
    "pullback",
    "check_ties",
    "n_shared",
    "dense_ties",
    "conv1d_ties",
    "expand",
    "tied_gradient",
    "tie_jacobian",
    "tied_backprop",
    "UnfoldedRNN",
    "unfold_rnn",
    "rnn_forward",
    "linear_transform",
    "linear_transform_gradient",
    "reparam_descent",
    "iterations_to",
]


def __dir__():
    return list(__all__)


# ----------------------------------------------------------------------------- the chain rule
def pullback(grads, jacobian):
    r"""The chain rule through :math:`W = W(U)`: the gradient with respect to :math:`U`.

    .. math::

        \frac{\partial C}{\partial u_q} = \sum_{i,j,k} \frac{\partial C}{\partial w_{ij}(k)}
        \frac{\partial w_{ij}(k)}{\partial u_q}, \qquad
        \nabla_U C = J^\top \nabla_W C, \quad J = \frac{\partial\, \mathrm{flatten}(W)}{\partial U}

    (le Cun 1988, section 3.1, the update rule for weight functions).

    Parameters
    ----------
    grads : list of (ndarray, ndarray) or array_like, shape (n,)
        :math:`\partial C / \partial W`, either with the structure of ``params`` or already
        flattened in the order of :func:`lagprop.mlp.flatten` (W_1, b_1, W_2, b_2, ...).
    jacobian : array_like, shape (n, r)
        :math:`\partial w / \partial u`, row ``i`` for the i-th flattened weight, column ``q`` for
        :math:`u_q`.

    Returns
    -------
    ndarray, shape (r,)

    Raises
    ------
    ValueError
        If ``jacobian`` is not 2-D or its row count differs from the number of weights.
    """
    g = flatten(check_params(grads, "grads")) if isinstance(grads, (list, tuple)) else \
        as_float_array(grads, "grads", ndim=1)
    J = as_float_array(jacobian, "jacobian", ndim=2)
    if J.shape[0] != g.size:
        raise ValueError(f"`jacobian` must have {g.size} rows (one per weight), got shape {J.shape}")
    return J.T @ g


# ----------------------------------------------------------------------------- tie maps
def check_ties(ties, name="ties"):
    """Validate a tie map and return it as a list of pairs of int64 arrays.

    Raises
    ------
    ValueError
        If ``ties`` is not a non-empty list of pairs ``(tie_W, tie_b)`` with ``tie_W`` 2-D and
        ``tie_b`` 1-D of ``tie_W.shape[0]`` entries, if consecutive layers do not chain, or if an
        entry is not an integer >= -1 (floats holding integers below 2**62 are accepted; NaN, inf,
        fractions and larger values are not).
    """
    if isinstance(ties, np.ndarray) or not hasattr(ties, "__len__") or len(ties) == 0:
        raise ValueError(f"`{name}` must be a non-empty list of (tie_W, tie_b) pairs, "
                         f"got {_describe(ties)}")
    out = []
    for k, layer in enumerate(ties, start=1):
        if not isinstance(layer, (tuple, list)) or len(layer) != 2:
            raise ValueError(f"`{name}[{k - 1}]` must be a pair (tie_W, tie_b), got "
                             f"{_describe(layer)}")
        arrs = []
        for part, nd in zip(layer, (2, 1)):
            try:
                a = np.asarray(part)
            except (TypeError, ValueError) as exc:  # ragged
                raise ValueError(f"`{name}[{k - 1}]` must hold a 2-D and a 1-D array "
                                 "of ids, got "
                                 f"{_describe(part)}") from exc
            if a.ndim != nd:
                raise ValueError(f"`{name}[{k - 1}]` must hold a 2-D and a 1-D array, got shape {a.shape}")
            arrs.append(integer_ids(a, f"{name}[{k - 1}]", minimum=-1))
        tW, tb = arrs
        if tb.shape[0] != tW.shape[0]:
            raise ValueError(f"`{name}[{k - 1}]` tie_b must have {tW.shape[0]} entries, got {tb.shape[0]}")
        if out and tW.shape[1] != out[-1][0].shape[0]:
            raise ValueError(
                f"`{name}[{k - 1}]` tie_W must have {out[-1][0].shape[0]} columns to follow the previous "
                f"layer, got shape {tW.shape}"
            )
        out.append((tW, tb))
    return out


def n_shared(ties):
    """The number of shared parameters, one more than the largest id in the tie map."""
    return _n_shared(check_ties(ties))


def _n_shared(ties):
    return int(max(max(tW.max(initial=-1), tb.max(initial=-1)) for tW, tb in ties)) + 1


def _check_n_u(n_u, ties):
    need = _n_shared(ties)
    n_u = need if n_u is None else positive_int(n_u, "n_u", minimum=0)
    if n_u < need:
        raise ValueError(f"`n_u` must be >= {need} (largest id in `ties` + 1), got {n_u}")
    return n_u


def _tie_ids(ties):
    return np.concatenate([np.concatenate([tW.ravel(), tb.ravel()]) for tW, tb in ties])


def dense_ties(n_out, n_in, *, start=0, bias=True):
    r"""The tie map of an ordinary dense layer: every weight its own parameter.

    Ids run from ``start`` row by row over :math:`W` (shape ``(n_out, n_in)``), then over :math:`b`
    (or the bias is fixed, id -1, when ``bias`` is False).

    Returns
    -------
    tie_W : ndarray of int64, shape ``(n_out, n_in)``
    tie_b : ndarray of int64, shape ``(n_out,)``
    """
    n_out, n_in = positive_int(n_out, "n_out"), positive_int(n_in, "n_in")
    start = positive_int(start, "start", minimum=0)
    tW = start + np.arange(n_out * n_in, dtype=np.int64).reshape(n_out, n_in)
    tb = start + n_out * n_in + np.arange(n_out, dtype=np.int64) if bias else np.full(n_out, -1, np.int64)
    return tW, tb


def conv1d_ties(n_in, kernel_size, *, n_filters=1, start=0, bias=True):
    r"""A 1-D convolution (valid, stride 1) written as a dense layer with tied weights.

    With kernels :math:`v^{(f)}` of length :math:`K` the layer computes, for every filter
    :math:`f` and position :math:`i = 0, \dots, n_{in} - K`,

    .. math::

        a_{f, i} = \sum_{j=0}^{K-1} v^{(f)}_j\, x_{i+j} + c_f, \qquad
        w_{(f, i),\, i+j} = v^{(f)}_j, \quad \text{all other weights } 0,

    i.e. a cross-correlation (``np.correlate(x, v, "valid")``, or ``np.convolve(x, v[::-1],
    "valid")``). Kernel entry :math:`v^{(f)}_j` has id ``start + f*K + j``, and the bias of filter
    :math:`f` has id ``start + n_filters*K + f``. Outputs are ordered filter by filter.

    Parameters
    ----------
    n_in : int
        Length of the input signal.
    kernel_size : int
        :math:`K`, between 1 and ``n_in``.
    n_filters : int, keyword-only
        Number of kernels (output channels).
    start : int, keyword-only
        The first id, to place this layer's parameters after those of other layers.
    bias : bool, keyword-only
        One shared bias per filter (True) or none (biases fixed, id -1).

    Returns
    -------
    tie_W : ndarray of int64, shape (n_filters * (n_in - K + 1), n_in)
    tie_b : ndarray of int64, shape (n_filters * (n_in - K + 1),)

    Raises
    ------
    ValueError
        If ``kernel_size`` exceeds ``n_in`` or an argument is not a positive integer.
    """
    n_in, K = positive_int(n_in, "n_in"), positive_int(kernel_size, "kernel_size")
    n_filters = positive_int(n_filters, "n_filters")
    start = positive_int(start, "start", minimum=0)
    if K > n_in:
        raise ValueError(f"`kernel_size` must be <= `n_in` ({n_in}), got {K}")
    n_pos = n_in - K + 1
    tW = np.full((n_filters * n_pos, n_in), -1, dtype=np.int64)
    tb = np.full(n_filters * n_pos, -1, dtype=np.int64)
    i = np.arange(n_pos)
    for f in range(n_filters):
        rows = f * n_pos + i
        for j in range(K):
            tW[rows, i + j] = start + f * K + j
        if bias:
            tb[rows] = start + n_filters * K + f
    return tW, tb


def _check_fixed(fixed, ties):
    if fixed is None:
        return [(np.zeros(tW.shape), np.zeros(tb.shape)) for tW, tb in ties]
    fixed = check_params(fixed, "fixed")
    if len(fixed) != len(ties) or any(F.shape != t.shape for (FW, Fb), (tW, tb) in zip(fixed, ties)
                                      for F, t in ((FW, tW), (Fb, tb))):
        raise ValueError(
            f"`fixed` must have the structure of `ties` (shapes {[(t[0].shape, t[1].shape) for t in ties]}), "
            f"got {[(F[0].shape, F[1].shape) for F in fixed]}"
        )
    return fixed


def expand(u, ties, *, fixed=None):
    r"""The weights :math:`W(U)` of a tie map: :math:`w = u_{\mathrm{tie}(w)}`, or the fixed value.

    .. math:: w_{ij}(k) = \begin{cases} u_q & \mathrm{tie}_{ij}(k) = q \ge 0 \\
              \mathrm{fixed}_{ij}(k) & \mathrm{tie}_{ij}(k) = -1 \end{cases}

    Parameters
    ----------
    u : array_like, shape (r,)
        The shared parameters; ``r`` must exceed every id in ``ties``.
    ties : list of (ndarray, ndarray)
        The tie map (see the module docstring).
    fixed : list of (ndarray, ndarray), optional, keyword-only
        Values of the weights whose id is -1 (read only there); zeros by default.

    Returns
    -------
    list of (ndarray, ndarray)
        ``params`` with ``params[k-1] == (W_k, b_k)``.

    Raises
    ------
    ValueError
        If ``u`` is too short for the ids, or ``ties`` / ``fixed`` are malformed.
    """
    ties = check_ties(ties)
    u = _check_u(u, ties)
    return _expand(u, ties, _check_fixed(fixed, ties))


def _check_u(u, ties):
    u = as_float_array(u, "u", ndim=1)
    need = _n_shared(ties)
    if u.size < need:
        raise ValueError(f"`u` must have at least {need} entries (largest id in `ties` + 1), got {u.size}")
    return u


def _expand(u, ties, fixed):
    """W(U) on validated arguments."""
    ext = np.append(u, 0.0)  # id -1 reads the appended 0

    def one(t, F):
        return np.where(t >= 0, ext[t], F)

    return [(one(tW, FW), one(tb, Fb)) for (tW, tb), (FW, Fb) in zip(ties, fixed)]


def tied_gradient(grads, ties, n_u=None):
    r"""The gradient of a shared parameter: the sum over the weights that share it.

    .. math:: \frac{\partial C}{\partial u_q} = \sum_{(i,j,k):\ \mathrm{tie}_{ij}(k) = q}
              \frac{\partial C}{\partial w_{ij}(k)}

    (le Cun 1988, section 3.1). This is :func:`pullback` with the 0/1 Jacobian of :func:`expand`,
    computed with ``np.bincount`` instead of a matrix; weights with id -1 contribute nothing.

    Parameters
    ----------
    grads : list of (ndarray, ndarray)
        :math:`\partial C/\partial W`, with the structure of ``ties``.
    ties : list of (ndarray, ndarray)
    n_u : int, optional
        Length of the result (default: :func:`n_shared`), at least :func:`n_shared`.

    Returns
    -------
    ndarray, shape (n_u,)

    Raises
    ------
    ValueError
        If ``grads`` does not match ``ties`` or ``n_u`` is too small.
    """
    ties = check_ties(ties)
    n_u = _check_n_u(n_u, ties)
    grads = check_params(grads, "grads")
    shapes_g = [(g[0].shape, g[1].shape) for g in grads]
    shapes_t = [(t[0].shape, t[1].shape) for t in ties]
    if shapes_g != shapes_t:
        raise ValueError(f"`grads` must have the shapes of `ties` {shapes_t}, got {shapes_g}")
    return _tied_gradient(grads, ties, n_u)


def _tied_gradient(grads, ties, n_u):
    """The sum over ties on validated arguments."""
    ids = _tie_ids(ties)
    g = _flatten(grads)
    keep = ids >= 0
    return np.bincount(ids[keep], weights=g[keep], minlength=n_u)


#: The largest dense matrix :func:`tie_jacobian` builds (it is meant for checks on small nets).
MAX_DENSE_ENTRIES = 10**8


def tie_jacobian(ties, n_u=None):
    r"""The Jacobian :math:`\partial\, \mathrm{flatten}(W) / \partial u` of :func:`expand` as a dense 0/1 matrix.

    Row order follows :func:`lagprop.mlp.flatten`. Meant for checks on small networks
    (``pullback(grads, tie_jacobian(ties))`` equals ``tied_gradient(grads, ties)``).

    Returns
    -------
    ndarray, shape (number of weights, n_u)

    Raises
    ------
    ValueError
        A malformed tie map, ``n_u`` too small, or a matrix beyond ``MAX_DENSE_ENTRIES``
        entries (a huge id would otherwise exhaust the memory).
    """
    ties = check_ties(ties)
    n_u = _check_n_u(n_u, ties)
    ids = _tie_ids(ties)
    if ids.size * n_u > MAX_DENSE_ENTRIES:
        raise ValueError(f"the dense tie Jacobian would have {ids.size} x {n_u} = {ids.size * n_u:.3g} "
                         f"entries (more than {MAX_DENSE_ENTRIES:.0e}): `ties` holds an id of "
                         f"{n_u - 1}; use tied_gradient, which never forms it")
    J = np.zeros((ids.size, n_u))
    rows = np.flatnonzero(ids >= 0)
    J[rows, ids[rows]] = 1.0
    return J


def tied_backprop(u, ties, inputs, targets, *, fixed=None, activation="tanh", output_activation="identity"):
    r"""Cost and gradient with respect to the shared parameters of a tied network.

    .. math:: C(U) = \sum_p \lVert D_p - X_p(N) \rVert^2 \text{ with } W = W(U), \qquad
              \nabla_U C = E^\top \nabla_W C

    :math:`\nabla_W C` comes from the costate pass (:func:`lagprop.lagrangian.backprop`) and the
    sum over ties from :func:`tied_gradient`.

    Parameters
    ----------
    u : array_like, shape (r,)
    ties : list of (ndarray, ndarray)
    inputs : array_like, shape (P, n_0)
    targets : array_like, shape (P, n_N)
    fixed : list of (ndarray, ndarray), optional, keyword-only
    activation, output_activation : str or Activation, keyword-only
        As for :func:`lagprop.lagrangian.forward`.

    Returns
    -------
    C : float
    grad_u : ndarray, shape (r,)

    Raises
    ------
    ValueError, TypeError
        As for :func:`expand` and :func:`lagprop.lagrangian.backprop`.
    """
    ties = check_ties(ties)  # validated once; the kernels below validate nothing
    u = _check_u(u, ties)
    params = _expand(u, ties, _check_fixed(fixed, ties))
    F = _layer_activations(len(params), activation, output_activation)
    X0 = as_patterns(inputs, "inputs", params[0][0].shape[1])
    D = _check_targets(targets, params, X0.shape[0])
    fwd = _forward(params, X0, F)
    grads = _weight_gradients(_costate(params, fwd.X, fwd.A, D, F).Y, fwd.X)
    return _cost(fwd.X[-1], D), _tied_gradient(grads, ties, u.size)


# ----------------------------------------------------------------------------- unfolding in time
def _rnn_layout(m, h, o):
    """The one layout of ``u`` for an RNN: name -> ids of its entries, shaped like the
    parameter, in the order of :meth:`UnfoldedRNN.pack`, each flattened row by row."""
    shapes = {"W_in": (h, m), "W_rec": (h, h), "b": (h,), "W_out": (o, h), "c": (o,)}
    layout, start = {}, 0
    for name, shape in shapes.items():
        n = int(np.prod(shape))
        layout[name] = start + np.arange(n, dtype=np.int64).reshape(shape)
        start += n
    return layout


def _carry(n_hidden, act):
    """Activation: ``act`` on the first ``n_hidden`` units of a layer, identity on the rest."""

    def f(a):
        out = np.array(a, dtype=np.float64)
        out[..., :n_hidden] = act.f(out[..., :n_hidden])
        return out

    def df(a):
        out = np.ones_like(np.asarray(a, dtype=np.float64))
        out[..., :n_hidden] = act.df(np.asarray(a, dtype=np.float64)[..., :n_hidden])
        return out

    return _act.Activation(f"{act.name} on {n_hidden} units, identity on the carried inputs", f, df)


@dataclass(frozen=True)
class UnfoldedRNN:
    r"""A recurrent network unfolded in time as a layered network with shared weights.

    The recurrent network (:func:`rnn_forward`) is

    .. math::

        h_0 = 0, \qquad h_t = f(W_{\mathrm{rec}} h_{t-1} + W_{\mathrm{in}} x_t + b), \quad
        t = 1, \dots, T, \qquad y = W_{\mathrm{out}} h_T + c.

    Its unfolding has N = T + 1 layers. Layer 0 holds the whole input sequence
    :math:`(x_1, \dots, x_T)`; layer :math:`t \le T` holds :math:`h_t` followed by the inputs not
    yet consumed, :math:`(x_{t+1}, \dots, x_T)`, which are copied forward by fixed unit weights
    through identity units; layer T+1 is the output :math:`y`. Every layer :math:`t \le T` uses the
    same :math:`W_{\mathrm{in}}, W_{\mathrm{rec}}, b`: back-propagation on the unfolded network,
    followed by the sum over ties, is back-propagation through time.

    Attributes
    ----------
    n_in, n_hidden, n_out, steps : int
    ties : list of (ndarray, ndarray)
        Ids of the shared parameters ``u = pack(W_in, W_rec, b, W_out, c)``.
    fixed : list of (ndarray, ndarray)
        The fixed weights: 1 on the copy connections, 0 elsewhere.
    activation : Activation
        ``f`` on the hidden units of a layer, identity on the carried inputs; pass it as
        ``activation=`` to :func:`lagprop.lagrangian.backprop` or :func:`tied_backprop`.
    """

    n_in: int
    n_hidden: int
    n_out: int
    steps: int
    ties: list
    fixed: list
    activation: _act.Activation

    @property
    def n_u(self):
        """Number of shared parameters."""
        layout = _rnn_layout(self.n_in, self.n_hidden, self.n_out)
        return sum(ids.size for ids in layout.values())

    def pack(self, W_in, W_rec, b, W_out, c):
        """The parameter vector ``u`` (W_in, W_rec, b, W_out, c, each flattened row by row)."""
        layout = _rnn_layout(self.n_in, self.n_hidden, self.n_out)
        given = {"W_in": W_in, "W_rec": W_rec, "b": b, "W_out": W_out, "c": c}
        out = []
        for name, ids in layout.items():
            a, shape = as_float_array(given[name], name), ids.shape
            if a.shape != shape:
                raise ValueError(f"`{name}` must have shape {shape}, got {a.shape}")
            out.append(a.ravel())
        return np.concatenate(out)

    def unpack(self, u):
        """Inverse of :meth:`pack`: the dict ``{"W_in", "W_rec", "b", "W_out", "c"}``."""
        u = as_float_array(u, "u", ndim=1)
        if u.size != self.n_u:
            raise ValueError(f"`u` must have {self.n_u} entries, got {u.size}")
        layout = _rnn_layout(self.n_in, self.n_hidden, self.n_out)
        # contiguous slices (views of u, as before), read off the layout
        return {name: u[ids.flat[0]:ids.flat[0] + ids.size].reshape(ids.shape)
                for name, ids in layout.items()}

    def params(self, u):
        """The layered parameters :math:`W(U)` of the unfolded network."""
        return expand(u, self.ties, fixed=self.fixed)

    def inputs(self, xs):
        """Sequences ``xs`` of shape ``(P, T, n_in)`` (or ``(T, n_in)``) as layer-0 rows of
        shape ``(P, T*n_in)``."""
        xs = as_float_array(xs, "xs")
        if xs.ndim == 2:
            xs = xs[None]
        if xs.ndim != 3 or xs.shape[1:] != (self.steps, self.n_in):
            raise ValueError(f"`xs` must have shape (P, {self.steps}, {self.n_in}), got {xs.shape}")
        return xs.reshape(xs.shape[0], -1)

    def backprop(self, u, xs, targets):
        """Cost and gradient with respect to ``u`` by back-propagation through time.

        Returns
        -------
        C : float
        grad_u : ndarray, shape (n_u,)
        """
        return tied_backprop(u, self.ties, self.inputs(xs), targets, fixed=self.fixed,
                             activation=self.activation, output_activation="identity")


def unfold_rnn(n_in, n_hidden, n_out, steps, *, activation="tanh"):
    r"""Unfold a recurrent network over ``steps`` time steps into a tied layered network.

    The layers of the unfolding hold

    .. math::

        X(0) &= (x_1, \dots, x_T), \\
        X(t) &= (h_t, x_{t+1}, \dots, x_T), \quad 1 \le t \le T, \\
        X(T+1) &= y,

    and its weight matrices are (the middle one for :math:`1 < t \le T`)

    .. math::

        W(1) &= \begin{pmatrix} W_{\mathrm{in}} & 0 \\ 0 & \mathrm{Id} \end{pmatrix}, \\
        W(t) &= \begin{pmatrix} W_{\mathrm{rec}} & W_{\mathrm{in}} & 0 \\
                 0 & 0 & \mathrm{Id} \end{pmatrix}, \\
        W(T+1) &= W_{\mathrm{out}}.

    The blocks :math:`W_{\mathrm{in}}, W_{\mathrm{rec}}` (and the bias :math:`b`) carry the same
    ids in every layer; the identity blocks and zeros are fixed (id -1). See
    :class:`UnfoldedRNN` (the result) and :func:`rnn_forward` (the recurrent network itself).
    Rumelhart, Hinton and Williams (1986); Werbos (1990); le Cun (1988), section 3.1.

    Parameters
    ----------
    n_in : int
        Width of each input :math:`x_t`, >= 1.
    n_hidden : int
        Number of hidden units, the width of :math:`h_t`, >= 1.
    n_out : int
        Width of the output :math:`y`, read once from :math:`h_T`, >= 1.
    steps : int
        :math:`T`, the number of time steps, >= 1.
    activation : str, keyword-only
        The hidden units' :math:`f`.

    Returns
    -------
    UnfoldedRNN

    Raises
    ------
    ValueError
        If a width or ``steps`` is not a positive integer, or ``activation`` is unknown.
    """
    m, h = positive_int(n_in, "n_in"), positive_int(n_hidden, "n_hidden")
    o, T = positive_int(n_out, "n_out"), positive_int(steps, "steps")
    act = _act.get(activation, argname="activation")
    layout = _rnn_layout(m, h, o)
    id_in, id_rec, id_b = layout["W_in"], layout["W_rec"], layout["b"]
    id_out, id_c = layout["W_out"], layout["c"]
    ties, fixed = [], []
    for t in range(1, T + 1):
        n_prev = (h if t > 1 else 0) + m * (T - t + 1)  # width of X(t-1)
        n_next = h + m * (T - t)                        # width of X(t)
        tW = np.full((n_next, n_prev), -1, dtype=np.int64)
        FW = np.zeros((n_next, n_prev))
        off = h if t > 1 else 0                          # column where x_t starts in X(t-1)
        if t > 1:
            tW[:h, :h] = id_rec
        tW[:h, off:off + m] = id_in
        FW[h:, off + m:] = np.eye(m * (T - t))           # carry x_{t+1..T}
        tb = np.full(n_next, -1, dtype=np.int64)
        tb[:h] = id_b
        ties.append((tW, tb))
        fixed.append((FW, np.zeros(n_next)))
    ties.append((id_out.astype(np.int64), id_c.astype(np.int64)))
    fixed.append((np.zeros((o, h)), np.zeros(o)))
    return UnfoldedRNN(m, h, o, T, ties, fixed, _carry(h, act))


def rnn_forward(W_in, W_rec, b, W_out, c, xs, *, activation="tanh"):
    r"""Run the recurrent network of :class:`UnfoldedRNN` directly, step by step.

    .. math::

        h_0 = 0, \qquad
        h_t = f(W_{\mathrm{rec}} h_{t-1} + W_{\mathrm{in}} x_t + b), \qquad
        y = W_{\mathrm{out}} h_T + c.

    Below, ``m``, ``h`` and ``o`` are the widths of :math:`x_t`, :math:`h_t` and :math:`y`.

    Parameters
    ----------
    W_in : array_like, shape ``(h, m)``
        Input weights :math:`W_{\mathrm{in}}`, one row per hidden unit.
    W_rec : array_like, shape ``(h, h)``
        Recurrent weights :math:`W_{\mathrm{rec}}`, from :math:`h_{t-1}` to :math:`h_t`.
    b : array_like, shape ``(h,)``
        Hidden bias :math:`b`.
    W_out : array_like, shape ``(o, h)``
        Output weights :math:`W_{\mathrm{out}}`, read from the last hidden state.
    c : array_like, shape ``(o,)``
        Output bias :math:`c`.
    xs : array_like, shape ``(P, T, m)`` or ``(T, m)``
        P input sequences of T steps (one sequence if 2-D).
    activation : str, keyword-only
        The hidden units' :math:`f`.

    Returns
    -------
    y : ndarray, shape ``(P, o)``
    H : ndarray, shape ``(P, T + 1, h)``
        The hidden states :math:`h_0, \dots, h_T`.

    Raises
    ------
    ValueError
        Shapes that do not fit together (the message names the array and the shape it needs),
        non-finite values, an unknown activation.
    TypeError
        Arrays that are not real numbers.
    """
    f = _act.get(activation, argname="activation").f
    W_in = as_float_array(W_in, "W_in", ndim=2)
    h, m = W_in.shape
    W_rec = as_float_array(W_rec, "W_rec", ndim=2)
    b = as_float_array(b, "b", ndim=1)
    W_out = as_float_array(W_out, "W_out", ndim=2)
    c = as_float_array(c, "c", ndim=1)
    fits = f"to fit `W_in` of shape {(h, m)} ({h} hidden units, {m} inputs)"
    for arr, what, shape in ((W_rec, "W_rec", (h, h)), (b, "b", (h,))):
        if arr.shape != shape:
            raise ValueError(f"`{what}` must have shape {shape} {fits}, got {arr.shape}")
    if W_out.shape[1] != h:
        transposed = W_out.shape[0] == h and W_out.shape[1] == c.size
        hint = "; pass W_out.T" if transposed else ""
        raise ValueError(f"`W_out` must have shape (n_out, {h}), one row per output "
                         f"and one column per hidden unit, {fits}, got "
                         f"{W_out.shape}{hint}")
    if c.shape != (W_out.shape[0],):
        raise ValueError(f"`c` must have shape ({W_out.shape[0]},), one entry per row "
                         f"of `W_out` of shape {W_out.shape}, got {c.shape}")
    xs = as_float_array(xs, "xs")
    if xs.ndim not in (2, 3) or xs.shape[-1] != m:
        raise ValueError(f"`xs` must have shape (P, T, {m}) or (T, {m}), got {xs.shape}")
    xs = xs[None] if xs.ndim == 2 else xs
    P, T, _ = xs.shape
    H = np.zeros((P, T + 1, W_rec.shape[0]))
    for t in range(1, T + 1):
        H[:, t] = f(H[:, t - 1] @ W_rec.T + xs[:, t - 1] @ W_in.T + b)
    return H[:, T] @ W_out.T + c, H


# ----------------------------------------------------------------------------- reparametrisation
def _check_transform(M, params, name="M"):
    if not hasattr(M, "__len__") or isinstance(M, np.ndarray) or len(M) != len(params):
        raise ValueError(f"`{name}` must be a list of {len(params)} matrices (or None), one per layer")
    out = []
    for k, (m, (W, _)) in enumerate(zip(M, params)):
        if m is None:
            out.append(None)
            continue
        m = as_float_array(m, f"{name}[{k}]", ndim=2)
        if m.shape != (W.shape[1], W.shape[1]):
            raise ValueError(f"`{name}[{k}]` must have shape {(W.shape[1], W.shape[1])}, got {m.shape}")
        out.append(m)
    return out


def linear_transform(params_U, M):
    r"""The weights of a linear reparametrisation :math:`W_k = U_k M_k` (biases unchanged).

    .. math:: W_k = U_k M_k, \qquad b_k = c_k

    With :math:`M_1 = S^{-1}`, :math:`S = \mathrm{diag}(s)` the input scales, the first layer
    sees the rescaled inputs :math:`S^{-1} x`; with :math:`M_1 = \Sigma^{-1/2}` it sees whitened
    inputs. le Cun (1988), section 3.1 (transformations that improve the geometry of the search).

    Parameters
    ----------
    params_U : list of (ndarray, ndarray)
        :math:`(U_k, c_k)`, shapes of :math:`(W_k, b_k)`.
    M : list of (ndarray or None)
        One (n_{k-1}, n_{k-1}) matrix per layer, None for the identity.

    Returns
    -------
    list of (ndarray, ndarray)
        The parameters :math:`(W_k, b_k)`.
    """
    params_U = check_params(params_U, "params_U")
    M = _check_transform(M, params_U)
    return [(U if m is None else U @ m, c.copy()) for (U, c), m in zip(params_U, M)]


def linear_transform_gradient(grads_W, M):
    r"""The chain rule through :func:`linear_transform`.

    .. math:: \frac{\partial C}{\partial U_k} = \frac{\partial C}{\partial W_k} M_k^\top, \qquad
              \frac{\partial C}{\partial c_k} = \frac{\partial C}{\partial b_k}

    Returns
    -------
    list of (ndarray, ndarray)
        The gradient with respect to :math:`(U_k, c_k)`.
    """
    grads_W = check_params(grads_W, "grads_W")
    M = _check_transform(M, grads_W)
    return [(g if m is None else g @ m.T, gb.copy()) for (g, gb), m in zip(grads_W, M)]


def reparam_descent(params_U, M, inputs, targets, *, lr, steps, activation="tanh",
                    output_activation="identity"):
    r"""Gradient descent in the transformed space :math:`U` of :func:`linear_transform`.

    .. math:: U_k \leftarrow U_k - \lambda \frac{\partial C}{\partial W_k} M_k^\top

    With every ``M[k]`` None this is plain gradient descent on :math:`W`.

    Returns
    -------
    params_U : list of (ndarray, ndarray)
        After the last step.
    losses : ndarray, shape (steps + 1,)
        The cost before each step and after the last.

    Raises
    ------
    ValueError
        Bad arguments (as for :func:`linear_transform` and
        :func:`lagprop.lagrangian.gradient_descent`).
    lagprop.ConvergenceError
        The iteration diverged: the cost grew to more than a million times its starting
        value, as :func:`lagprop.lagrangian.gradient_descent` stops; the message names
        ``lr``.
    FloatingPointError
        A step overflowed float64 before that (see :func:`lagprop.lagrangian.backprop`).
    """
    lr = positive_scalar(lr, "lr")
    steps = positive_int(steps, "steps", minimum=0)
    params_U = check_params(params_U, "params_U")
    M = _check_transform(M, params_U)
    kw = dict(activation=activation, output_activation=output_activation)
    losses = np.empty(steps + 1)
    for i in range(steps):
        losses[i], gW = backprop(linear_transform(params_U, M), inputs, targets, **kw)
        if losses[i] > _DIVERGENCE * losses[0]:
            raise _grown(losses, i, steps, lr)
        gU = linear_transform_gradient(gW, M)
        params_U = [(U - lr * g, c - lr * gc) for (U, c), (g, gc) in zip(params_U, gU)]
    fwd = forward(linear_transform(params_U, M), inputs, **kw)
    losses[steps] = cost(fwd.X[-1], _check_targets(targets, params_U, fwd.X[0].shape[0]))
    if losses[steps] > _DIVERGENCE * losses[0]:
        raise _grown(losses, steps, steps, lr)
    return params_U, losses


def iterations_to(losses, target):
    """The first index ``i`` with ``losses[i] <= target``, or -1 if there is none.

    Raises
    ------
    ValueError
        If ``losses`` is not 1-D.
    """
    losses = as_float_array(losses, "losses", ndim=1, finite=False)
    target = real_scalar(target, "target")
    hit = np.flatnonzero(losses <= target)
    return int(hit[0]) if hit.size else -1


# ----------------------------------------------------------------------------- fast convolution
def conv1d_output_length(n_in, kernel_size, *, stride=1, padding=0):
    r"""Output length of a 1-D convolution: :math:`\lfloor (n + 2p - K)/s \rfloor + 1`.

    Raises
    ------
    ValueError
        If the padded input is shorter than the kernel, or an argument is out of range.
    """
    n_in, K = positive_int(n_in, "n_in"), positive_int(kernel_size, "kernel_size")
    s, p = positive_int(stride, "stride"), positive_int(padding, "padding", minimum=0)
    if K > n_in + 2 * p:
        raise ValueError(f"`kernel_size` must be <= n_in + 2 * padding = {n_in + 2 * p}, got {K}")
    return (n_in + 2 * p - K) // s + 1


def strided_conv1d_ties(n_in, kernel_size, *, in_channels=1, n_filters=1, stride=1, padding=0,
                        start=0, bias=True):
    r"""The tie map of a 1-D convolution with channels, stride and zero padding.

    The specification of :func:`conv1d` as a dense layer with tied weights. The input is
    ``in_channels`` signals of length :math:`n` laid end to end (entry ``c * n + l``); the
    output is filter by filter (entry ``f * n_out + i``). With the zero-padded input
    :math:`\tilde x_{c, m} = x_{c, m - p}` (zero outside :math:`0 \le m - p < n`),

    .. math::

        a_{f, i} = \sum_{c, j} v_{f, c, j}\, \tilde x_{c,\, s i + j} + b_f, \qquad
        w_{(f, i),\, (c,\, s i + j - p)} = v_{f, c, j},

    and a weight that would read a padding zero does not exist (the padding is not a unit of
    the network). Kernel entry :math:`v_{f,c,j}` has id ``start + (f*C + c)*K + j``, the bias
    of filter :math:`f` has id ``start + F*C*K + f``. With the defaults it is
    :func:`conv1d_ties`.

    Returns
    -------
    tie_W : ndarray of int64, shape (n_filters * n_out, in_channels * n_in)
    tie_b : ndarray of int64, shape (n_filters * n_out,)
    """
    n_out = conv1d_output_length(n_in, kernel_size, stride=stride, padding=padding)
    K, C = int(kernel_size), positive_int(in_channels, "in_channels")
    F, start = positive_int(n_filters, "n_filters"), positive_int(start, "start", minimum=0)
    tW = np.full((F * n_out, C * n_in), -1, dtype=np.int64)
    tb = np.full(F * n_out, -1, dtype=np.int64)
    for f in range(F):
        for i in range(n_out):
            for c in range(C):
                for j in range(K):
                    m = stride * i + j - padding
                    if 0 <= m < n_in:
                        tW[f * n_out + i, c * n_in + m] = start + (f * C + c) * K + j
            if bias:
                tb[f * n_out + i] = start + F * C * K + f
    return tW, tb


def _check_conv(x, kernels, stride, padding):
    x = as_float_array(x, "x", ndim=3)
    v = as_float_array(kernels, "kernels", ndim=3)
    if v.shape[1] != x.shape[1]:
        raise ValueError(f"`kernels` must have shape (F, {x.shape[1]}, K) for `x` with "
                         f"{x.shape[1]} channels, got {v.shape}")
    conv1d_output_length(x.shape[2], v.shape[2], stride=stride, padding=padding)
    return x, v, int(stride), int(padding)


def _im2col(x, K, stride, padding):
    """(P, C, n) -> (P, n_out, C*K): row (p, i) holds the padded window of output i."""
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    win = np.lib.stride_tricks.sliding_window_view(x, K, axis=2)[:, :, ::stride, :]
    P, C, n_out, _ = win.shape
    return win.transpose(0, 2, 1, 3).reshape(P, n_out, C * K)


def _conv1d(x, v, b, stride, padding):
    """Pre-activations (P, F, n_out) by im2col and one matrix product."""
    F, C, K = v.shape
    cols = _im2col(x, K, stride, padding)
    P, n_out, _ = cols.shape
    A = (cols.reshape(P * n_out, C * K) @ v.reshape(F, C * K).T).reshape(P, n_out, F)
    A += b  # one matrix product for every pattern and window, not one per pattern
    return A.transpose(0, 2, 1), cols


def _conv1d_costate(x_shape, v, Y, cols, stride, padding):
    """B of the input (P, C, n), dC/dv (F, C, K), dC/db (F,) from Y (P, F, n_out)."""
    F, C, K = v.shape
    P, _, n = x_shape
    n_out = Y.shape[2]
    Y2 = Y.transpose(0, 2, 1).reshape(P * n_out, F)  # rows (p, i), as the rows of cols
    gv = -(Y2.T @ cols.reshape(P * n_out, C * K)).reshape(F, C, K)
    gb = -Y2.sum(axis=0)
    dcols = (Y2 @ v.reshape(F, C * K)).reshape(P, n_out, C, K)
    Bp = np.zeros((P, C, n + 2 * padding))
    stop = stride * (n_out - 1) + 1
    for j in range(K):  # col2im: scatter the windows back, one kernel offset at a time
        Bp[:, :, j:j + stop:stride] += dcols[:, :, :, j].transpose(0, 2, 1)
    return Bp[:, :, padding:padding + n], gv, gb


def conv1d(x, kernels, bias, *, stride=1, padding=0):
    r"""A 1-D convolution layer's pre-activations, by im2col and one matrix product.

    .. math::

        A_{p, f, i} = \sum_{c=0}^{C-1} \sum_{j=0}^{K-1} v_{f, c, j}\, \tilde x_{p, c,\, s i + j}
        + b_f, \qquad i = 0, \dots, n_{out} - 1,

    with :math:`\tilde x` the input zero-padded by :math:`p` on each side (a cross-correlation,
    like ``np.correlate``). It is the dense layer :math:`A(k) = W(k) X(k-1) + b(k)` of le Cun
    (1988, eq. 2) with the tied weights of :func:`strided_conv1d_ties`, computed without
    forming :math:`W`: the windows of the input become the rows of a matrix, and one product
    with the kernels gives every output.

    Parameters
    ----------
    x : array_like, shape (P, C, n)
        P patterns of C channels of length n.
    kernels : array_like, shape (F, C, K)
    bias : array_like, shape (F,)
    stride, padding : int, keyword-only
        :math:`s \ge 1` and :math:`p \ge 0`.

    Returns
    -------
    ndarray, shape ``(P, F, n_out)``
        :math:`n_{out}` = :func:`conv1d_output_length`.

    Raises
    ------
    ValueError
        Shapes that do not fit, non-finite values, a bad stride or padding.
    """
    x, v, s, p = _check_conv(x, kernels, stride, padding)
    b = as_float_array(bias, "bias", ndim=1)
    if b.shape != (v.shape[0],):
        raise ValueError(f"`bias` must have shape ({v.shape[0]},), got {b.shape}")
    return _conv1d(x, v, b, s, p)[0]


def conv1d_costate(x, kernels, Y, *, stride=1, padding=0):
    r"""The costate pass through a convolution layer and the gradient of its shared weights.

    With :math:`Y(k)` of the layer's outputs (:math:`Y = -\partial C/\partial A`), the costate
    of its input and the gradients are those of the tied dense layer (le Cun 1988, eqs. 3-4 and
    section 3.1):

    .. math::

        B(k-1) = W(k)^\top Y(k), \qquad
        \frac{\partial C}{\partial v_{f,c,j}} = -\sum_{p, i} Y_{p,f,i}\, \tilde x_{p,c,\, s i + j},
        \qquad \frac{\partial C}{\partial b_f} = -\sum_{p,i} Y_{p,f,i},

    the gradient of a shared weight being the sum over its copies. :math:`W^\top Y` is a
    transposed convolution, computed by one matrix product and a scatter of the windows
    (col2im).

    Parameters
    ----------
    x : array_like, shape (P, C, n)
        The layer's input, as given to :func:`conv1d`.
    kernels : array_like, shape (F, C, K)
    Y : array_like, shape ``(P, F, n_out)``
    stride, padding : int, keyword-only

    Returns
    -------
    B : ndarray, shape (P, C, n)
    grad_kernels : ndarray, shape (F, C, K)
    grad_bias : ndarray, shape (F,)
    """
    x, v, s, p = _check_conv(x, kernels, stride, padding)
    n_out = conv1d_output_length(x.shape[2], v.shape[2], stride=s, padding=p)
    Y = as_float_array(Y, "Y", ndim=3)
    if Y.shape != (x.shape[0], v.shape[0], n_out):
        raise ValueError(f"`Y` must have shape {(x.shape[0], v.shape[0], n_out)}, got {Y.shape}")
    return _conv1d_costate(x.shape, v, Y, _im2col(x, v.shape[2], s, p), s, p)


__all__ += ["conv1d_output_length", "strided_conv1d_ties", "conv1d", "conv1d_costate"]
