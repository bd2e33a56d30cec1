r"""The Lagrange function of a computational graph, and its costate pass (reverse mode).

A graph is a list of named nodes in topological order. Input nodes hold data; every
other node computes its value from nodes declared before it and from named parameters,

.. math:: x_i = \phi_i\big(x_{\mathrm{pa}(i)}, w\big), \qquad i = 1, \dots, m,

and the cost is the squared error on the output nodes, :math:`C = \sum_{o} \sum_p
\lVert D_{o,p} - x_{o,p} \rVert^2`. The Lagrange function of the constrained problem is

.. math:: L(w, x, B) = C(x) + \sum_{i} \big\langle B_i,\;
          x_i - \phi_i(x_{\mathrm{pa}(i)}, w) \big\rangle .

Its stationarity in :math:`B` is the forward pass; in :math:`x` it is the costate pass

.. math:: B_i = -\frac{\partial C}{\partial x_i}\Big|_{\text{direct}}
          + \sum_{c\,:\, i \in \mathrm{pa}(c)}
            \Big(\frac{\partial \phi_c}{\partial x_i}\Big)^{\!\top} B_c ,

run from the last node to the first (reverse-mode differentiation); and the gradient

.. math::

    \frac{\partial C}{\partial w} = -\sum_i \Big(\frac{\partial \phi_i}{\partial w}\Big)^{\!\top} B_i .

The constraint Jacobian :math:`\partial (x_i - \phi_i)/\partial x_j` is unit
lower-triangular in the topological order, so the multipliers exist and are unique. This
is le Cun's (1988) construction for a layered network, carried over to any directed
acyclic graph.

Values are patterns as rows: a node of width ``n`` holds a (P, n) array. The node kinds
are

* ``input(name, width)``: data;
* ``layer(name, parents, weights, *, width, bias=None, activation="identity")``:
  :math:`x = F\big(\sum_j x_{\mathrm{pa}_j} W_j^\top + b\big)` (a parameter name used
  twice is a tied weight);
* ``activation(name, parent, kind)``: :math:`x = F(x_{\mathrm{pa}})` element-wise;
* ``add(name, parents)``: the element-wise sum (residual connections);
* ``mul(name, a, b)``: the element-wise product (gating);
* ``maximum(name, a, b)``: the element-wise maximum, a nonsmooth node (at a tie the
  costate goes to ``a``).

Each kind's three local rules, its evaluation, its transposed (vector-Jacobian) product
and its tangent (Jacobian-vector) product, sit side by side in one table, ``_RULES``.
Checkpointing of chain graphs runs :mod:`lagprop.checkpoint`'s binomial schedule.

References
----------
Y. le Cun, "A theoretical framework for back-propagation", Proceedings of the 1988
Connectionist Models Summer School (1988), 21-28.

A. Griewank, "Achieving logarithmic growth of temporal and spatial complexity in reverse
automatic differentiation", Optimization Methods and Software 1 (1992), 35-54.

A. Griewank and A. Walther, "Algorithm 799: revolve", ACM Transactions on Mathematical
Software 26 (2000), 19-45.
"""

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from . import activations as _act
from ._validate import (
    as_float_array,
    as_patterns,
    check_overflow,
    positive_int,
    positive_scalar,
    seed_or_generator,
)
from .checkpoint import _run, _schedule
from .checkpoint import (
    binomial_advances,
    binomial_capacity,
)  # noqa: F401  (their old home)
from .mlp import check_sizes

__all__ = [
    "Graph",
    "GraphForward",
    "GraphCostate",
    "Checkpointed",
    "Untied",
    "layered",
    "named_params",
]

# --- the local rules of each node kind, side by side (validated arguments)  -----------
#
# eval(node, X, w) -> (x, a): the node's value from its parents' values X and the
#     parameters w, with a the weighted sum of a layer (for its derivative) or None;
# vjp(node, X, a, w, Bi, B, G): add (d phi/d x_p)^T Bi to B[p] for every parent p and
#     -(d phi/d w)^T Bi to G[name] for every parameter the node uses;
# jvp(node, X, a, w, T, dw) -> the node's tangent from its parents' tangents T and dw.


def _layer_eval(node, X, w):
    a = sum(X[p] @ w[W].T for p, W in zip(node.parents, node.weights))
    a = a + w[node.bias] if node.bias is not None else np.array(a, dtype=np.float64)
    return node.act.f(a), a


def _layer_vjp(node, X, a, w, Bi, B, G):
    Y = node.act.df(a) * Bi
    for p, W in zip(node.parents, node.weights):
        B[p] += Y @ w[W]
        G[W] -= Y.T @ X[p]
    if node.bias is not None:
        G[node.bias] -= Y.sum(axis=0)


def _layer_jvp(node, X, a, w, T, dw):
    da = sum(T[p] @ w[W].T + X[p] @ dw[W].T for p, W in zip(node.parents, node.weights))
    if node.bias is not None:
        da = da + dw[node.bias]
    return node.act.df(a) * da


def _activation_eval(node, X, w):
    return node.act.f(X[node.parents[0]]), None


def _activation_vjp(node, X, a, w, Bi, B, G):
    p = node.parents[0]
    B[p] += node.act.df(X[p]) * Bi


def _activation_jvp(node, X, a, w, T, dw):
    p = node.parents[0]
    return node.act.df(X[p]) * T[p]


def _add_eval(node, X, w):
    return sum(X[p] for p in node.parents) + 0.0, None


def _add_vjp(node, X, a, w, Bi, B, G):
    for p in node.parents:
        B[p] += Bi


def _add_jvp(node, X, a, w, T, dw):
    return sum(T[p] for p in node.parents) + 0.0


def _mul_eval(node, X, w):
    pa, pb = node.parents
    return X[pa] * X[pb], None


def _mul_vjp(node, X, a, w, Bi, B, G):
    pa, pb = node.parents
    B[pa] += Bi * X[pb]
    B[pb] += Bi * X[pa]


def _mul_jvp(node, X, a, w, T, dw):
    pa, pb = node.parents
    return T[pa] * X[pb] + X[pa] * T[pb]


def _maximum_eval(node, X, w):
    pa, pb = node.parents
    return np.maximum(X[pa], X[pb]), None


def _maximum_vjp(
    node, X, a, w, Bi, B, G
):  # at a tie the costate goes to the first parent
    pa, pb = node.parents
    first = X[pa] >= X[pb]
    B[pa] += np.where(first, Bi, 0.0)
    B[pb] += np.where(first, 0.0, Bi)


def _maximum_jvp(node, X, a, w, T, dw):
    pa, pb = node.parents
    return np.where(X[pa] >= X[pb], T[pa], T[pb])


class _Rule(NamedTuple):
    kind: str
    eval: Callable
    vjp: Callable
    jvp: Callable


_RULES = {
    r.kind: r
    for r in (
        _Rule("layer", _layer_eval, _layer_vjp, _layer_jvp),
        _Rule("activation", _activation_eval, _activation_vjp, _activation_jvp),
        _Rule("add", _add_eval, _add_vjp, _add_jvp),
        _Rule("mul", _mul_eval, _mul_vjp, _mul_jvp),
        _Rule("maximum", _maximum_eval, _maximum_vjp, _maximum_jvp),
    )
}
_INPUT = _Rule("input", None, None, None)  # data: no rule is ever applied to an input


def _eval(node, X, w):
    return node.rule.eval(node, X, w)


def _output_costate(x, D):
    """The output cost at one output node: ``(C_o, B_o) = (|D - x|^2, 2 (D - x))``."""
    r = D - x
    return float(np.sum(r * r)), 2.0 * r


@dataclass(frozen=True)
class _Node:
    name: str
    rule: _Rule
    width: int
    parents: tuple
    weights: tuple = ()
    bias: str = None
    act: object = None  # an Activation for "layer" and "activation"

    @property
    def kind(self):
        return self.rule.kind


# --- results  -------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphForward:
    """Node values of a forward pass.

    Attributes
    ----------
    X : dict
        ``X[name]``, shape (P, width), for every node (inputs included).
    A : dict
        ``A[name]``, shape (P, width), the weighted sum of every layer node.
    """

    X: dict
    A: dict


@dataclass(frozen=True)
class GraphCostate:
    r"""Multipliers :math:`B_i = -\partial C/\partial x_i` of every node; the gradient.

    Attributes
    ----------
    B : dict
        ``B[name]``, the node's shape (P, width).
    grads : dict
        ``grads[pname]``, :math:`\partial C/\partial w` for each parameter, with its
        shape.
    cost : float
        :math:`C`.
    """

    B: dict
    grads: dict
    cost: float


@dataclass(frozen=True)
class Checkpointed:
    r"""Result of :meth:`Graph.checkpointed_gradient`.

    Attributes
    ----------
    cost : float
    grads : dict
        :math:`\partial C / \partial w` by parameter name, equal to
        :meth:`Graph.gradient`'s.
    advances : int
        Node evaluations that only move a stored state forward (the recomputations).
    taped : int
        Node evaluations immediately followed by that node's costate step: one per node.
    peak_states : int
        The largest number of slots of the checkpoint store occupied at once (the slot
        of the state before the first step included), at most ``checkpoints``.
    """

    cost: float
    grads: dict
    advances: int
    taped: int
    peak_states: int


@dataclass(frozen=True)
class Untied:
    """Result of :meth:`Graph.untie`: a graph with one parameter per use of a tied one.

    Attributes
    ----------
    graph : Graph
        The untied graph (the original is unchanged).
    name : str
        The parameter that was untied.
    copies : tuple of str
        The new names, one per use, in the order of the uses.
    """

    graph: "Graph"
    name: str
    copies: tuple

    def params(self, params):
        """The untied graph's parameters from the tied graph's (each copy: the value).

        Parameters
        ----------
        params : dict
            Parameters of the tied graph.

        Returns
        -------
        dict
            ``params`` without ``name``, with one entry per copy (the same array).

        Raises
        ------
        TypeError
            If ``params`` is not a dict.
        ValueError
            If ``params`` has no entry ``name``.

        References
        ----------
        Y. le Cun, "A theoretical framework for back-propagation", Proceedings of
        the 1988 Connectionist Models Summer School (1988), 21-28,
        section 3.1 (shared weights).
        """
        if not isinstance(params, dict):
            raise TypeError(
                "`params` must be a dict of parameter arrays, got "
                f"{type(params).__name__}"
            )
        if self.name not in params:
            raise ValueError(
                f"`params` must hold the tied parameter {self.name!r}, got "
                f"{list(params)}"
            )
        out = {k: v for k, v in params.items() if k != self.name}
        out.update({c: params[self.name] for c in self.copies})
        return out


def _name(x, what):
    if not isinstance(x, str) or not x:
        raise TypeError(
            f"`{what}` must be a non-empty string, got {type(x).__name__} {x!r}"
        )
    return x


def _names(x, what):
    """One name or a sequence of names, as a tuple."""
    if isinstance(x, str):
        return (x,)
    if not isinstance(x, (list, tuple)):
        raise TypeError(
            f"`{what}` must be a name or a list of names, got {type(x).__name__} {x!r}"
        )
    return tuple(_name(v, what) for v in x)


class Graph:
    r"""A computational graph of named nodes in topological order, and its Lagrangian.

    Nodes are added by the methods below; a node may only read nodes declared before it,
    so the order of declaration is a topological order and the graph is acyclic by
    construction. Parameters are named; their shapes follow from the nodes that use
    them, and a name used by two nodes (or twice in one) is one shared parameter. A call
    that raises leaves the graph as it was: every argument is checked before anything is
    added.

    References
    ----------
    Y. le Cun, "A theoretical framework for back-propagation", Proceedings of the 1988
    Connectionist Models Summer School (1988), 21-28.

    Examples
    --------
    >>> g = Graph()
    >>> g.input("x", 1)
    >>> g.layer("h", "x", "W1", bias="b1", activation="tanh", width=1)
    >>> g.layer("y", "h", "W2", width=1)
    >>> g.output("y")
    >>> g.nodes, g.outputs
    (('x', 'h', 'y'), ('y',))
    """

    def __init__(self):
        self._nodes = []
        self._index = {}
        self._shapes = {}
        self._outputs = ()

    # --- what the graph holds ---------------------------------------------------------

    @property
    def nodes(self):
        """The node names in topological order (a tuple)."""
        return tuple(n.name for n in self._nodes)

    @property
    def outputs(self):
        """The output nodes, in the order they were marked (a tuple)."""
        return self._outputs

    @property
    def param_shapes(self):
        """``{parameter name: shape}`` in order of first use (a copy)."""
        return dict(self._shapes)

    def width(self, name):
        """The width of a node.

        Parameters
        ----------
        name : str
            A node of the graph.

        Returns
        -------
        int

        Raises
        ------
        TypeError
            If ``name`` is not a non-empty string.
        ValueError
            If there is no node ``name``.

        References
        ----------
        Y. le Cun, "A theoretical framework for back-propagation", Proceedings of
        the 1988 Connectionist Models Summer School (1988), 21-28.
        """
        return self._get(name, "name").width

    # --- construction: check everything, then change the graph in one place -----------

    def _get(self, name, what):
        _name(name, what)
        if name not in self._index:
            raise ValueError(
                f"`{what}` must name a node declared before, one of "
                f"{list(self.nodes)}, got {name!r}"
            )
        return self._nodes[self._index[name]]

    def _check_new(self, name):
        """The one check of a new node's name: used by no node and no parameter."""
        _name(name, "name")
        if name in self._index:
            raise ValueError(f"`name` must be new, node {name!r} exists already")
        if name in self._shapes:
            raise ValueError(
                f"`name` {name!r} is a parameter name; nodes and parameters need "
                f"different names"
            )
        return name

    def _check_uses(self, name, uses):
        """Check the parameters ``(argument, pname, shape)`` a new node would use."""
        pending = {}
        for what, pname, shape in uses:
            _name(pname, what)
            if pname in self._index or pname == name:
                raise ValueError(
                    f"`{what}` {pname!r} is a node name; parameters need their "
                    f"own names"
                )
            have = pending.get(pname, self._shapes.get(pname))
            if have is not None and have != shape:
                raise ValueError(
                    f"`{what}` {pname!r} is shared and must keep shape {have}, "
                    f"got {shape}"
                )
            pending[pname] = shape
        return pending

    def _commit(self, node, params=None):
        """Add a checked node and its parameters: the only place the graph changes."""
        self._index[node.name] = len(self._nodes)
        self._nodes.append(node)
        for pname, shape in (params or {}).items():
            self._shapes.setdefault(pname, shape)

    def input(self, name, width):
        """Declare an input node: its value is data, a (P, width) array, not a variable.

        Parameters
        ----------
        name : str
            A new name (no node or parameter has it).
        width : int
            The number of columns, at least 1.

        Raises
        ------
        TypeError
            If ``name`` is not a non-empty string or ``width`` is not an integer.
        ValueError
            If ``name`` is taken or ``width < 1``.

        References
        ----------
        Y. le Cun, "A theoretical framework for back-propagation", Proceedings of
        the 1988 Connectionist Models Summer School (1988), 21-28.
        """
        name = self._check_new(name)
        self._commit(_Node(name, _INPUT, positive_int(width, "width"), ()))

    def layer(self, name, parents, weights, *, width, bias=None, activation="identity"):
        r"""A layer node, :math:`x = F\big(\sum_j x_{\mathrm{pa}_j} W_j^\top + b\big)`.

        ``W_j`` has shape (``width``, :math:`n_{\mathrm{pa}_j}`) and ``b`` shape
        (``width``,). A parameter name that is used already (here or by another node) is
        a tied weight and must keep its shape.

        Parameters
        ----------
        name : str
            A new name (no node or parameter has it).
        parents : str or list of str
            The nodes read, declared before.
        weights : str or list of str
            One weight-matrix name per parent.
        width : int, keyword-only
            The node's width, at least 1 (required).
        bias : str or None, keyword-only
            The bias vector's name, or None for no bias.
        activation : str, keyword-only
            :math:`F`, a name of :mod:`lagprop.activations` (default ``"identity"``:
            a layer node is the affine map unless told otherwise, and a nonlinearity
            may follow it as a node of its own, :meth:`activation`; :func:`layered`
            builds the layered network of the package's API, tanh by default).

        Raises
        ------
        TypeError
            If a name is not a non-empty string, or ``width`` is not an integer.
        ValueError
            If ``name`` is taken, a parent is unknown, ``weights`` does not match
            ``parents`` in number, a parameter name is a node name or changes a shared
            parameter's shape, ``width < 1`` or ``activation`` is unknown.

        References
        ----------
        Y. le Cun, Proceedings of the 1988 Connectionist Models Summer School
        (1988), 21-28.
        """
        _name(name, "name")
        parents = _names(parents, "parents")
        weights = _names(weights, "weights")
        if not parents or len(parents) != len(weights):
            raise ValueError(
                f"`weights` must name one matrix per parent ({len(parents)}), "
                f"got {len(weights)}"
            )
        width = positive_int(width, "width")
        pa = [self._get(p, "parents") for p in parents]
        act = _act.get(activation, argname="activation")
        uses = [("weights", W, (width, p.width)) for W, p in zip(weights, pa)]
        if bias is not None:
            uses.append(("bias", bias, (width,)))
        new = self._check_uses(name, uses)
        self._check_new(name)
        self._commit(
            _Node(name, _RULES["layer"], width, parents, weights, bias, act), new
        )

    def activation(self, name, parent, kind):
        r"""Declare :math:`x = F(x_{\mathrm{pa}})` element-wise, ``kind`` naming F.

        Parameters
        ----------
        name : str
            A new name (no node or parameter has it).
        parent : str
            The node read, declared before.
        kind : str
            :math:`F`, a name of :mod:`lagprop.activations`.

        Raises
        ------
        TypeError
            If a name is not a non-empty string.
        ValueError
            If ``name`` is taken, ``parent`` is unknown or ``kind`` is not an
            activation.

        References
        ----------
        Y. le Cun, "A theoretical framework for back-propagation", Proceedings of
        the 1988 Connectionist Models Summer School (1988), 21-28.
        """
        name = self._check_new(name)
        p = self._get(parent, "parent")
        act = _act.get(kind, argname="kind")
        self._commit(_Node(name, _RULES["activation"], p.width, (parent,), act=act))

    def _same_width(self, name, kind, parents):
        name = self._check_new(name)
        pa = [self._get(p, "parents") for p in parents]
        if len({p.width for p in pa}) != 1:
            raise ValueError(
                f"`parents` of {kind} node {name!r} must have one width, got "
                f"{[p.width for p in pa]}"
            )
        self._commit(_Node(name, _RULES[kind], pa[0].width, tuple(parents)))

    def add(self, name, parents):
        r"""Declare the element-wise sum :math:`x = \sum_j x_{\mathrm{pa}_j}` of nodes.

        Parameters
        ----------
        name : str
            A new name (no node or parameter has it).
        parents : list of str
            At least two nodes of one width, declared before.

        Raises
        ------
        TypeError
            If a name is not a non-empty string.
        ValueError
            If ``name`` is taken, fewer than two parents are given, a parent is unknown
            or the widths differ.

        References
        ----------
        Y. le Cun, "A theoretical framework for back-propagation", Proceedings of
        the 1988 Connectionist Models Summer School (1988), 21-28.
        """
        parents = _names(parents, "parents")
        if len(parents) < 2:
            raise ValueError(
                f"`parents` of an add node must name at least two nodes, "
                f"got {parents}"
            )
        self._same_width(name, "add", parents)

    def mul(self, name, a, b):
        r"""Declare the element-wise product :math:`x = x_a \odot x_b` of two nodes.

        Parameters
        ----------
        name : str
            A new name (no node or parameter has it).
        a, b : str
            Two nodes of one width, declared before.

        Raises
        ------
        TypeError
            If a name is not a non-empty string.
        ValueError
            If ``name`` is taken, a parent is unknown or the widths differ.

        References
        ----------
        Y. le Cun, "A theoretical framework for back-propagation", Proceedings of
        the 1988 Connectionist Models Summer School (1988), 21-28.
        """
        self._same_width(name, "mul", (_name(a, "parents"), _name(b, "parents")))

    def maximum(self, name, a, b):
        r"""Declare the element-wise maximum :math:`x = \max(x_a, x_b)` of two nodes.

        Nonsmooth where :math:`x_a = x_b`; there the costate pass sends the whole
        multiplier to ``a`` (a fixed choice, not a derivative).

        Parameters
        ----------
        name : str
            A new name (no node or parameter has it).
        a, b : str
            Two nodes of one width, declared before.

        Raises
        ------
        TypeError
            If a name is not a non-empty string.
        ValueError
            If ``name`` is taken, a parent is unknown or the widths differ.

        References
        ----------
        Y. le Cun, "A theoretical framework for back-propagation", Proceedings of
        the 1988 Connectionist Models Summer School (1988), 21-28.
        """
        self._same_width(name, "maximum", (_name(a, "parents"), _name(b, "parents")))

    def output(self, *names):
        """Mark computed nodes as outputs: the cost is the squared error on them.

        Parameters
        ----------
        *names : str
            One or more computed nodes, not outputs yet.

        Raises
        ------
        TypeError
            If a name is not a non-empty string.
        ValueError
            If no name is given, or a name is unknown, an input, repeated or an output
            already.

        References
        ----------
        Y. le Cun, "A theoretical framework for back-propagation", Proceedings of
        the 1988 Connectionist Models Summer School (1988), 21-28.
        """
        if not names:
            raise ValueError("`names` must name at least one node, got none")
        for i, n in enumerate(names):
            if self._get(n, "names").rule is _INPUT:
                raise ValueError(f"`names` must be computed nodes, {n!r} is an input")
            if n in self._outputs or n in names[:i]:
                raise ValueError(f"`names`: {n!r} is an output already")
        self._outputs = self._outputs + tuple(names)

    def init_params(self, *, seed=0, scale=1.0):
        r"""Random parameters for this graph, one array per :attr:`param_shapes` entry.

        A weight matrix of shape :math:`(n, n_{\mathrm{in}})` is drawn i.i.d. from
        :math:`\mathcal N(0, \mathrm{scale}^2 / n_{\mathrm{in}})`, as
        :func:`lagprop.mlp.init_params` draws a layer's weights; a bias vector, a weight
        on the constant input 1, from :math:`\mathcal N(0, \mathrm{scale}^2)`. Names are
        drawn in the order of :attr:`param_shapes`, so the same seed gives the same
        parameters.

        Parameters
        ----------
        seed : int or numpy.random.Generator, keyword-only
            Seed of the generator (default 0).
        scale : float, keyword-only
            Gain of the standard deviations (default 1), finite and > 0.

        Returns
        -------
        dict
            ``{name: float64 array of the parameter's shape}``.

        Raises
        ------
        TypeError
            If ``seed`` is not an integer or Generator, or ``scale`` is not a real
            number.
        ValueError
            If ``seed < 0`` or ``scale`` is not finite and > 0.

        References
        ----------
        Y. LeCun, L. Bottou, G. B. Orr and K.-R. Mueller, "Efficient BackProp", in
        *Neural Networks: Tricks of the Trade*, Springer (1998), section 4.6.
        """
        rng = seed_or_generator(seed)
        scale = positive_scalar(scale, "scale")
        return {
            k: rng.normal(0.0, scale / np.sqrt(s[1] if len(s) == 2 else 1), size=s)
            for k, s in self._shapes.items()
        }

    def untie(self, name, *, copies=None):
        """A copy of the graph in which each use of parameter ``name`` has its own name.

        The tie rule of le Cun's section 3.1 reads: the gradient of a shared parameter
        is the sum of the gradients of its copies, ``sum(grads[c] for c in
        untied.copies)`` with the copies all set to the shared value
        (:meth:`Untied.params`).

        Parameters
        ----------
        name : str
            A parameter of the graph.
        copies : sequence of str, optional, keyword-only
            The new names, one per use in topological order (a node using ``name`` for
            two parents counts twice). Default ``name_1``, ``name_2``, ....

        Returns
        -------
        Untied
            ``.graph`` (this graph is unchanged), ``.name`` and ``.copies``.

        Raises
        ------
        TypeError
            If a name is not a non-empty string.
        ValueError
            If ``name`` is not a parameter, or ``copies`` has the wrong length, repeats
            a name or uses a name that a node or another parameter has.

        References
        ----------
        Y. le Cun, Proceedings of the 1988 Connectionist Models Summer School
        (1988), 21-28, section 3.1.
        """
        _name(name, "name")
        if name not in self._shapes:
            raise ValueError(
                f"`name` must be a parameter, one of {list(self._shapes)}, "
                f"got {name!r}"
            )
        n_uses = sum(
            list(n.weights).count(name) + (n.bias == name) for n in self._nodes
        )
        copies = (
            tuple(f"{name}_{k}" for k in range(1, n_uses + 1))
            if copies is None
            else _names(copies, "copies")
        )
        if len(copies) != n_uses or len(set(copies)) != n_uses:
            raise ValueError(
                f"`copies` must be {n_uses} different names (one per use of "
                f"{name!r}), got {list(copies)}"
            )
        taken = [
            c for c in copies if c in self._index or (c in self._shapes and c != name)
        ]
        if taken:
            raise ValueError(
                f"`copies` must be new names, {taken} are taken; pass other "
                f"`copies`"
            )
        fresh = iter(copies)
        g = Graph()
        for node in self._nodes:
            weights = tuple(next(fresh) if W == name else W for W in node.weights)
            bias = next(fresh) if node.bias == name else node.bias
            widths = [self._nodes[self._index[p]].width for p in node.parents]
            uses = {W: (node.width, n) for W, n in zip(weights, widths)}
            if bias is not None:
                uses[bias] = (node.width,)
            g._commit(
                _Node(
                    node.name,
                    node.rule,
                    node.width,
                    node.parents,
                    weights,
                    bias,
                    node.act,
                ),
                uses if node.rule is _RULES["layer"] else None,
            )
        g._outputs = self._outputs
        return Untied(graph=g, name=name, copies=copies)

    # --- validation at the public boundary --------------------------------------------

    def _check_params(self, params, what="params"):
        if not isinstance(params, dict):
            raise TypeError(
                f"`{what}` must be a dict of parameter arrays, got "
                f"{type(params).__name__}"
            )
        missing = [k for k in self._shapes if k not in params]
        extra = [k for k in params if k not in self._shapes]
        if missing or extra:
            raise ValueError(
                f"`{what}` must hold exactly {list(self._shapes)}; missing {missing}, "
                f"unknown {extra}"
            )
        out = {}
        for k, shape in self._shapes.items():
            arr = as_float_array(params[k], f"{what}[{k!r}]")
            if arr.shape != shape:
                raise ValueError(
                    f"`{what}[{k!r}]` must have shape {shape}, got {arr.shape}"
                )
            out[k] = arr
        return out

    def _check_data(self, data, what, names, P=None):
        if not isinstance(data, dict):
            raise TypeError(
                f"`{what}` must be a dict of arrays by node name, got "
                f"{type(data).__name__}"
            )
        if set(data) != set(names):
            raise ValueError(
                f"`{what}` must hold exactly the nodes {list(names)}, got "
                f"{list(data)}"
            )
        out, rows = {}, P
        for n in names:
            arr = as_patterns(
                data[n], f"{what}[{n!r}]", self._nodes[self._index[n]].width
            )
            if rows is not None and arr.shape[0] != rows:
                raise ValueError(
                    f"`{what}[{n!r}]` must have {rows} rows like the "
                    f"{'inputs' if P is not None else 'others'}, got {arr.shape}"
                )
            rows = arr.shape[0]
            out[n] = arr
        return out, rows

    def _input_names(self):
        return [n.name for n in self._nodes if n.rule is _INPUT]

    def _inputs(self, inputs):
        names = self._input_names()
        if not names:
            raise ValueError(
                "the graph has no input node: call `input(name, width)` first"
            )
        return self._check_data(inputs, "inputs", names)

    def _check_ready(self):
        if not self._outputs:
            raise ValueError(
                "the graph has no output: call `output(name)` before evaluating a "
                "cost"
            )

    def _targets(self, targets, P):
        self._check_ready()
        return self._check_data(targets, "targets", self._outputs, P)[0]

    def _check_fwd(self, fwd):
        """A GraphForward of this graph: nodes (P, width), finite; layers' A."""
        if not isinstance(fwd, GraphForward):
            raise TypeError(
                f"`fwd` must be a GraphForward (from Graph.forward), got "
                f"{type(fwd).__name__}"
            )
        nodes = list(self.nodes)
        layers = [n.name for n in self._nodes if n.rule is _RULES["layer"]]
        for what, have, names in (("fwd.X", fwd.X, nodes), ("fwd.A", fwd.A, layers)):
            missing = [n for n in names if not isinstance(have, dict) or n not in have]
            if missing:
                raise ValueError(
                    f"`{what}` must hold every node of {names}, missing {missing}"
                )
        X, P = self._check_data({n: fwd.X[n] for n in nodes}, "fwd.X", nodes)
        A, Pa = self._check_data({n: fwd.A[n] for n in layers}, "fwd.A", layers)
        if layers and Pa != P:
            raise ValueError(f"`fwd.A` must have {P} rows like `fwd.X`, got {Pa}")
        return GraphForward(X=X, A=A), P

    # --- the passes -------------------------------------------------------------------

    def _forward(self, w, X0):
        X, A = dict(X0), {}
        for node in self._nodes:
            if node.rule is not _INPUT:
                X[node.name], a = _eval(node, X, w)
                if a is not None:
                    A[node.name] = a
        return GraphForward(X=X, A=A)

    def _checked_forward(self, w, X0):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            fwd = self._forward(w, X0)
        args = {"params": w.values(), "inputs": X0.values()}
        check_overflow(fwd.X, "the forward pass", **args)
        check_overflow(fwd.A, "the forward pass", **args)
        return fwd

    def _reverse(self, w, fwd, seeds):
        """The costate recursion from the seeds ``B_o`` of the outputs: ``(B, G)``, with
        ``G = -sum_i (d phi_i / d w)^T B_i``."""
        X = fwd.X
        B = {n.name: np.zeros_like(X[n.name]) for n in self._nodes}
        G = {k: np.zeros(s) for k, s in self._shapes.items()}
        for o, seed in seeds.items():
            B[o] += seed
        for node in reversed(self._nodes):
            if node.rule is not _INPUT:
                node.rule.vjp(node, X, fwd.A.get(node.name), w, B[node.name], B, G)
        return B, G

    def _costate(self, w, fwd, D):
        C, seeds = 0.0, {}
        for o in self._outputs:
            c, seeds[o] = _output_costate(fwd.X[o], D[o])
            C += c
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            B, G = self._reverse(w, fwd, seeds)
        args = {
            "params": w.values(),
            "inputs": [fwd.X[n] for n in self._input_names()],
            "targets": D.values(),
        }
        check_overflow([C], "the cost", **args)
        check_overflow(B, "the costate pass", **args)
        check_overflow(G, "the costate pass", **args)
        return GraphCostate(B=B, grads=G, cost=C)

    def _tangent(self, w, fwd, dw, dX0):
        T = {}
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for node in self._nodes:
                if node.rule is _INPUT:
                    T[node.name] = dX0[node.name]
                else:
                    T[node.name] = node.rule.jvp(
                        node, fwd.X, fwd.A.get(node.name), w, T, dw
                    )
        check_overflow(
            T,
            "the tangent pass",
            params=w.values(),
            dparams=dw.values(),
            dinputs=dX0.values(),
        )
        return T

    def forward(self, params, inputs):
        r"""The forward pass, :math:`\partial L/\partial B_i = 0`, node by node.

        .. math:: x_i = \phi_i\big(x_{\mathrm{pa}(i)}, w\big), \qquad i = 1, \dots, m .

        Parameters
        ----------
        params : dict
            One array per parameter name, shapes as in :attr:`param_shapes`.
        inputs : dict
            One (P, width) array per input node (a 1-D array is one pattern).

        Returns
        -------
        GraphForward
            ``X`` of every node, ``A`` of every layer node.

        Raises
        ------
        TypeError
            If ``params`` or ``inputs`` is not a dict, or holds something that is not an
            array of real numbers.
        ValueError
            If a parameter or input is missing, unknown, of the wrong shape or not
            finite, the inputs differ in rows, or a node's value overflows float64.

        References
        ----------
        Y. le Cun, Proceedings of the 1988 Connectionist Models Summer School
        (1988), 21-28.
        """
        w = self._check_params(params)
        X0, _ = self._inputs(inputs)
        return self._checked_forward(w, X0)

    def cost(self, params, inputs, targets):
        r"""The cost :math:`C = \sum_o \sum_p \lVert D_{o,p} - x_{o,p} \rVert^2`.

        Parameters
        ----------
        params : dict
            One array per parameter name.
        inputs : dict
            One (P, width) array per input node.
        targets : dict
            One (P, width) array :math:`D_o` per output node.

        Returns
        -------
        float

        Raises
        ------
        TypeError
            If an argument is not a dict of real arrays.
        ValueError
            As :meth:`forward`; also if the graph has no output, ``targets`` does not
            hold exactly the outputs, their rows differ from the inputs', or the cost
            overflows.

        References
        ----------
        Y. le Cun, "A theoretical framework for back-propagation", Proceedings of
        the 1988 Connectionist Models Summer School (1988), 21-28.
        """
        w = self._check_params(params)
        X0, P = self._inputs(inputs)
        D = self._targets(targets, P)
        X = self._checked_forward(w, X0).X
        with np.errstate(over="ignore", invalid="ignore"):
            C = sum(_output_costate(X[o], D[o])[0] for o in self._outputs)
        check_overflow([C], "the cost", params=w.values(), targets=D.values())
        return C

    def costate(self, params, fwd, targets):
        r"""The costate pass, :math:`\partial L/\partial x_i = 0`, last node first.

        .. math::

            B_i = 2\,[i \in \text{outputs}]\,(D_i - x_i)
                  + \sum_{c:\, i \in \mathrm{pa}(c)}
                    \Big(\frac{\partial\phi_c}{\partial x_i}\Big)^{\!\top} B_c,
            \qquad
            \frac{\partial C}{\partial w} = -\sum_i
                \Big(\frac{\partial\phi_i}{\partial w}\Big)^{\!\top} B_i .

        Parameters
        ----------
        params : dict
            One array per parameter name.
        fwd : GraphForward
            The forward pass at ``params``.
        targets : dict
            One (P, width) array per output node.

        Returns
        -------
        GraphCostate
            ``B`` for every node (input nodes too: minus the gradient in the inputs),
            the parameter gradients, and the cost.

        Raises
        ------
        TypeError
            If ``fwd`` is not a GraphForward, or another argument is not a dict of
            arrays.
        ValueError
            If ``fwd`` misses a node or has the wrong shapes or non-finite values, the
            targets are wrong (see :meth:`cost`), or the pass overflows float64.

        References
        ----------
        Y. le Cun, Proceedings of the 1988 Connectionist Models Summer School
        (1988), 21-28.
        """
        w = self._check_params(params)
        fwd, P = self._check_fwd(fwd)
        D = self._targets(targets, P)
        return self._costate(w, fwd, D)

    def gradient(self, params, inputs, targets):
        r"""The cost and its gradient by one forward and one costate pass.

        .. math:: \frac{\partial C}{\partial w} = -\sum_i
                  \Big(\frac{\partial\phi_i}{\partial w}\Big)^{\!\top} B_i

        with :math:`B` from :meth:`costate`; a tied parameter collects one term per use.

        Parameters
        ----------
        params, inputs, targets : dict
            As in :meth:`cost`.

        Returns
        -------
        C : float
        grads : dict
            :math:`\partial C/\partial w` by parameter name, shapes as ``params``.

        Raises
        ------
        TypeError, ValueError
            As :meth:`cost`; ValueError also if the costate pass overflows float64.

        References
        ----------
        Y. le Cun, Proceedings of the 1988 Connectionist Models Summer School
        (1988), 21-28.
        """
        w = self._check_params(params)
        X0, P = self._inputs(inputs)
        D = self._targets(targets, P)
        co = self._costate(w, self._checked_forward(w, X0), D)
        return co.cost, co.grads

    def tangent(self, params, fwd, dparams):
        r"""The forward linearisation: every node's change for a change ``dparams``.

        .. math:: \dot x_i = \sum_{j \in \mathrm{pa}(i)}
                  \frac{\partial \phi_i}{\partial x_j}\,
                  \dot x_j + \frac{\partial \phi_i}{\partial w}\,\dot w,
                  \qquad \dot x_{\text{input}} = 0 .

        Its transpose is the costate pass (the dot-product test).

        Parameters
        ----------
        params : dict
            One array per parameter name.
        fwd : GraphForward
            The forward pass at ``params``.
        dparams : dict
            The direction :math:`\dot w`, shaped like ``params``.

        Returns
        -------
        dict
            ``{node name: (P, width) array}``.

        Raises
        ------
        TypeError, ValueError
            As :meth:`costate` for ``params`` and ``fwd``; the same checks as ``params``
            for ``dparams``; ValueError if the pass overflows float64.

        References
        ----------
        A. Griewank and A. Walther, *Evaluating Derivatives*, 2nd ed., SIAM (2008),
        ch. 3.
        """
        w = self._check_params(params)
        fwd, _ = self._check_fwd(fwd)
        dw = self._check_params(dparams, "dparams")
        dX0 = {n: np.zeros_like(fwd.X[n]) for n in self._input_names()}
        return self._tangent(w, fwd, dw, dX0)

    def jvp(self, params, inputs, *, dparams=None, dinputs=None):
        r"""Jacobian-vector product of the output map :math:`y(w, x_0) = (x_o)_{o}`.

        .. math:: \dot y_o = \frac{\partial x_o}{\partial w}\,\dot w
                  + \frac{\partial x_o}{\partial x_0}\,\dot x_0 ,

        by one forward pass and one tangent pass (:meth:`tangent`, with the inputs'
        tangents :math:`\dot x_0` instead of zero).

        Parameters
        ----------
        params, inputs : dict
            As in :meth:`forward`.
        dparams : dict, optional, keyword-only
            :math:`\dot w`, shaped like ``params`` (default zero).
        dinputs : dict, optional, keyword-only
            :math:`\dot x_0`, shaped like ``inputs`` (default zero).

        Returns
        -------
        dict
            ``{output name: (P, width) array}``, :math:`\dot y_o`.

        Raises
        ------
        TypeError
            If both directions are None, or an argument is not a dict of real arrays.
        ValueError
            As :meth:`forward`, for ``dparams`` and ``dinputs`` too; also if the graph
            has no output or a pass overflows float64.

        References
        ----------
        A. Griewank and A. Walther, *Evaluating Derivatives*, 2nd ed., SIAM
        (2008), ch. 3.
        """
        w = self._check_params(params)
        X0, P = self._inputs(inputs)
        self._check_ready()
        if dparams is None and dinputs is None:
            raise TypeError(
                "`dparams` and `dinputs` are both None: give at least one direction"
            )
        dw = (
            {k: np.zeros(s) for k, s in self._shapes.items()}
            if dparams is None
            else self._check_params(dparams, "dparams")
        )
        dX0 = (
            {n: np.zeros_like(x) for n, x in X0.items()}
            if dinputs is None
            else self._check_data(dinputs, "dinputs", list(X0), P)[0]
        )
        T = self._tangent(w, self._checked_forward(w, X0), dw, dX0)
        return {o: T[o] for o in self._outputs}

    def vjp(self, params, inputs, cotangents):
        r"""Vector-Jacobian product of the output map :math:`y(w, x_0) = (x_o)_{o}`.

        .. math:: \bar w = \sum_o
                  \Big(\frac{\partial x_o}{\partial w}\Big)^{\!\top} v_o,
                  \qquad
                  \bar x_0 = \sum_o
                  \Big(\frac{\partial x_o}{\partial x_0}\Big)^{\!\top} v_o ,

        by one forward pass and one costate pass seeded with :math:`B_o = v_o` at the
        outputs instead of :math:`2 (D_o - x_o)`: the same recursion as :meth:`costate`,
        which is the product with :math:`v_o = 2 (D_o - x_o)`, up to the sign of
        :math:`\bar w`.

        Parameters
        ----------
        params, inputs : dict
            As in :meth:`forward`.
        cotangents : dict
            :math:`v_o`, one (P, width) array per output node.

        Returns
        -------
        dparams : dict
            :math:`\bar w` by parameter name, shaped like ``params``.
        dinputs : dict
            :math:`\bar x_0` by input name, shaped like ``inputs``.

        Raises
        ------
        TypeError
            If an argument is not a dict of real arrays.
        ValueError
            As :meth:`forward`; also if the graph has no output, ``cotangents`` does not
            hold exactly the outputs with the inputs' rows, or a pass overflows float64.

        References
        ----------
        Y. le Cun, Proceedings of the 1988 Connectionist Models Summer School
        (1988), 21-28.
        A. Griewank and A. Walther, *Evaluating Derivatives*, 2nd ed., SIAM
        (2008), ch. 3.
        """
        w = self._check_params(params)
        X0, P = self._inputs(inputs)
        self._check_ready()
        V = self._check_data(cotangents, "cotangents", self._outputs, P)[0]
        fwd = self._checked_forward(w, X0)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            B, G = self._reverse(w, fwd, V)
        dw = {k: -g for k, g in G.items()}
        dX0 = {n: B[n] for n in X0}
        args = {"params": w.values(), "inputs": X0.values(), "cotangents": V.values()}
        check_overflow(dw, "the costate pass", **args)
        check_overflow(dX0, "the costate pass", **args)
        return dw, dX0

    def lagrange_function(self, params, X, B, targets):
        r"""The Lagrange function at any states ``X`` and multipliers ``B``.

        .. math:: L(w, x, B) = C(x) + \sum_i \big\langle B_i,\;
                  x_i - \phi_i(x_{\mathrm{pa}(i)}, w)\big\rangle .

        Parameters
        ----------
        params : dict
            One array per parameter name.
        X : dict
            A (P, width) array for every node (input nodes hold the inputs).
        B : dict
            A (P, width) array for every computed node (input entries are ignored).
        targets : dict
            One (P, width) array per output node.

        Returns
        -------
        float

        Raises
        ------
        TypeError
            If ``X`` or ``B`` is not a dict, or an entry is not an array of real
            numbers.
        ValueError
            If an entry is missing, of the wrong shape or not finite, the rows differ,
            the targets are wrong (see :meth:`cost`), or the value overflows float64.

        References
        ----------
        Y. le Cun, Proceedings of the 1988 Connectionist Models Summer School
        (1988), 21-28.
        """
        w = self._check_params(params)
        if not isinstance(X, dict) or not isinstance(B, dict):
            raise TypeError(
                f"`X` and `B` must be dicts of arrays by node name, got "
                f"{type(X).__name__} and {type(B).__name__}"
            )
        X0, P = self._inputs({n: X.get(n) for n in self._input_names()})
        comp = [n.name for n in self._nodes if n.rule is not _INPUT]
        Xc = self._check_data({n: X.get(n) for n in comp}, "X", comp, P)[0]
        Bc = self._check_data({n: B.get(n) for n in comp}, "B", comp, P)[0]
        D = self._targets(targets, P)
        Xall = {**X0, **Xc}
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            L = sum(_output_costate(Xall[o], D[o])[0] for o in self._outputs)
            for node in self._nodes:
                if node.rule is not _INPUT:
                    L += float(
                        np.sum(
                            Bc[node.name] * (Xall[node.name] - _eval(node, Xall, w)[0])
                        )
                    )
        check_overflow(
            [L],
            "the Lagrange function",
            params=w.values(),
            X=Xall.values(),
            B=Bc.values(),
        )
        return float(L)

    def constraint_jacobian(self, params, fwd):
        r"""The Jacobian of the constraints :math:`g_i = x_i - \phi_i` in the states.

        Rows and columns are ordered node by node in topological order, each node's (P,
        width) array raveled row-major. The matrix is unit lower-triangular:
        :math:`\partial g_i/\partial x_i = I` and
        :math:`\partial g_i / \partial x_j = 0` for every node :math:`j` after
        :math:`i`; its block :math:`(i, j)` for a parent :math:`j` is
        :math:`-\partial\phi_i/\partial x_j`, built one row at a time from the node's
        transposed product with a unit seed.

        Parameters
        ----------
        params : dict
            One array per parameter name.
        fwd : GraphForward
            The forward pass at ``params``.

        Returns
        -------
        ndarray, shape (m, m)
            :math:`m` the number of computed values, summed over the computed nodes.

        Raises
        ------
        TypeError, ValueError
            As :meth:`costate` for ``params`` and ``fwd``.

        References
        ----------
        Y. le Cun, Proceedings of the 1988 Connectionist Models Summer School
        (1988), 21-28.
        """
        w = self._check_params(params)
        fwd, _ = self._check_fwd(fwd)
        comp = [n for n in self._nodes if n.rule is not _INPUT]
        sizes = [fwd.X[n.name].size for n in comp]
        off = dict(zip([n.name for n in comp], np.concatenate([[0], np.cumsum(sizes)])))
        J = np.eye(int(sum(sizes)))
        G = {k: np.zeros(s) for k, s in self._shapes.items()}
        for node in comp:
            a = fwd.A.get(node.name)
            for r in range(
                fwd.X[node.name].size
            ):  # row r of d phi_i / d x: a unit seed
                seed = np.zeros_like(fwd.X[node.name])
                seed.reshape(-1)[r] = 1.0
                B = {p: np.zeros_like(fwd.X[p]) for p in node.parents}
                node.rule.vjp(node, fwd.X, a, w, seed, B, G)
                for p in node.parents:
                    if p in off:
                        n_p = fwd.X[p].size
                        J[off[node.name] + r, off[p] : off[p] + n_p] -= B[p].reshape(-1)
        check_overflow([J], "the constraint Jacobian", params=w.values())
        return J

    # --- checkpointing ----------------------------------------------------------------

    def checkpointed_gradient(self, params, inputs, targets, *, checkpoints):
        r"""The gradient of a chain graph with at most ``checkpoints`` stored states.

        The computed nodes must form a chain: each reads only input nodes and the
        computed node just before it. The states :math:`x_1, \dots, x_l` are not all
        stored: the sweep keeps at most ``checkpoints`` of them in a store of that many
        slots (the first slot holds the state before the first step), recomputes the
        others from the nearest checkpoint when the costate pass needs them, and places
        the checkpoints so that the recomputations are as few as possible, Griewank's

        .. math:: t(l, s) = r\,l - \binom{s + r}{s + 1}, \qquad
                  r = \min\Big\{ r \ge 0 : \binom{s + r}{s} \ge l \Big\}

        (:func:`lagprop.checkpoint.binomial_advances`). The plan is
        :func:`lagprop.checkpoint.schedule` (revolve's closed-form split); this method
        executes it with :func:`lagprop.checkpoint.reverse_chain`'s slot store, tapes
        each node once and takes its costate step as :meth:`costate` does.

        Parameters
        ----------
        params, inputs, targets : dict
            As in :meth:`gradient`.
        checkpoints : int, keyword-only
            The number of slots :math:`s \ge 1`.

        Returns
        -------
        Checkpointed
            The cost and gradient (equal to :meth:`gradient`'s), the numbers of advances
            and taped steps, and the most slots occupied at once.

        Raises
        ------
        TypeError, ValueError
            As :meth:`gradient`; ValueError also if ``checkpoints < 1`` or the computed
            nodes do not form a chain.

        References
        ----------
        A. Griewank, Optimization Methods and Software 1 (1992), 35-54.
        A. Griewank and A. Walther, ACM Transactions on Mathematical Software 26
        (2000), 19-45.
        """
        s = positive_int(checkpoints, "checkpoints")
        w = self._check_params(params)
        X0, P = self._inputs(inputs)
        D = self._targets(targets, P)
        chain = [n for n in self._nodes if n.rule is not _INPUT]
        for i, node in enumerate(chain):
            prev = chain[i - 1].name if i else None
            bad = [
                p
                for p in node.parents
                if self._nodes[self._index[p]].rule is not _INPUT and p != prev
            ]
            if bad:
                raise ValueError(
                    f"checkpointing needs a chain: node {node.name!r} reads {bad}, "
                    f"not only inputs and the node before it"
                )
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            cost, G, done = _checkpointed(chain, X0, w, D, self._shapes, s, P)
        args = {"params": w.values(), "inputs": X0.values(), "targets": D.values()}
        check_overflow([cost], "the cost", **args)
        check_overflow(G, "the costate pass", **args)
        return Checkpointed(
            cost=cost,
            grads=G,
            advances=done.advances,
            taped=done.taped,
            peak_states=done.peak_states,
        )


def _checkpointed(chain, X0, w, D, shapes, s, P):
    """Run the binomial schedule on a chain of nodes (validated arguments)."""
    l = len(chain)
    s = min(s, l)
    prev = [None] + [n.name for n in chain[:-1]]
    G = {k: np.zeros(sh) for k, sh in shapes.items()}
    state = {
        "C": 0.0,
        "B": np.zeros((P, chain[-1].width)),
    }  # the cost, the costate of x_{i+1}

    def values(i, x):  # the values node i reads: the inputs and the state before it
        X = dict(X0)
        if i:
            X[prev[i]] = x
        return X

    def advance(i, x):
        return _eval(chain[i], values(i, x), w)[0]

    def tape(i, x):
        node = chain[i]
        X = values(i, x)
        X[node.name], a = _eval(node, X, w)
        Bi = state["B"]
        if node.name in D:
            c, Bo = _output_costate(X[node.name], D[node.name])
            state["C"] += c
            Bi = Bi + Bo
        B = {p: np.zeros_like(X[p]) for p in node.parents}
        node.rule.vjp(node, X, a, w, Bi, B, G)
        state["B"] = B[prev[i]] if i else None

    done = _run(_schedule(l, s), s, None, advance, tape)
    return state["C"], G, done


# --- layered networks  ----------------------------------------------------------------


def layered(sizes, *, activation="tanh", output_activation="identity"):
    r"""The graph of an N-layer network in le Cun's notation: nodes ``x0`` .. ``xN``.

    Node ``xk`` is :math:`X(k) = F_k(W(k) X(k-1) + b(k))` with parameters ``Wk``,
    ``bk``; ``xN`` is the output. Use :func:`named_params` to turn a parameter list into
    the dict it takes.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths :math:`(n_0, \dots, n_N)`, at least two entries, all >= 1.
    activation : str, keyword-only
        :math:`F_k` of the hidden layers (default ``"tanh"``).
    output_activation : str, keyword-only
        :math:`F_N` (default ``"identity"``).

    Returns
    -------
    Graph

    Raises
    ------
    TypeError, ValueError
        For bad ``sizes`` (as :func:`lagprop.mlp.check_sizes`) or an unknown activation.

    References
    ----------
    Y. le Cun, "A theoretical framework for back-propagation", Proceedings of
    the 1988 Connectionist Models Summer School (1988), 21-28.
    """
    sizes = check_sizes(sizes)
    g = Graph()
    g.input("x0", sizes[0])
    N = len(sizes) - 1
    for k in range(1, N + 1):
        g.layer(
            f"x{k}",
            f"x{k - 1}",
            f"W{k}",
            bias=f"b{k}",
            width=sizes[k],
            activation=output_activation if k == N else activation,
        )
    g.output(f"x{N}")
    return g


def named_params(params):
    """Name a layered network's parameters as :func:`layered` does.

    Parameters
    ----------
    params : list of (ndarray, ndarray)
        ``[(W_1, b_1), ...]``, the package's layered parameters.

    Returns
    -------
    dict
        ``{"W1": W_1, "b1": b_1, ...}`` (the same arrays).

    Raises
    ------
    TypeError
        If ``params`` is not a list or tuple.
    ValueError
        If an entry is not a pair.

    References
    ----------
    Y. le Cun, "A theoretical framework for back-propagation", Proceedings of
    the 1988 Connectionist Models Summer School (1988), 21-28.
    """
    if not isinstance(params, (list, tuple)):
        raise TypeError(
            f"`params` must be a list of (W_k, b_k) pairs, got {type(params).__name__}"
        )
    out = {}
    for k, pair in enumerate(params, start=1):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(
                f"`params[{k - 1}]` must be a pair (W_{k}, b_{k}), got "
                f"{type(pair).__name__}"
            )
        out[f"W{k}"], out[f"b{k}"] = pair
    return out
