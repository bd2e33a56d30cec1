r"""The Lagrange function of a computational graph, and its costate pass (reverse mode).

A graph is a list of named nodes in topological order. Input nodes hold data; every other node
computes its value from nodes declared before it and from named parameters,

.. math:: x_i = \phi_i\big(x_{\mathrm{pa}(i)}, w\big), \qquad i = 1, \dots, m,

and the cost is the squared error on the output nodes, :math:`C = \sum_{o} \sum_p
\lVert D_{o,p} - x_{o,p} \rVert^2`. The Lagrange function of the constrained problem is

.. math:: L(w, x, B) = C(x) + \sum_{i} \big\langle B_i,\; x_i - \phi_i(x_{\mathrm{pa}(i)}, w) \big\rangle .

Its stationarity in :math:`B` is the forward pass; in :math:`x` it is the costate pass

.. math:: B_i = -\frac{\partial C}{\partial x_i}\Big|_{\text{direct}}
          + \sum_{c\,:\, i \in \mathrm{pa}(c)} \Big(\frac{\partial \phi_c}{\partial x_i}\Big)^{\!\top} B_c ,

run from the last node to the first (reverse-mode differentiation); and
:math:`\partial C/\partial w = -\sum_i (\partial \phi_i / \partial w)^\top B_i`. The constraint
Jacobian :math:`\partial (x_i - \phi_i)/\partial x_j` is unit lower-triangular in the topological
order, so the multipliers exist and are unique. This is le Cun's (1988) construction for a
layered network, carried over to any directed acyclic graph.

Values are patterns as rows: a node of width ``n`` holds a (P, n) array. The node kinds are

* ``input(name, width)``: data;
* ``layer(name, parents, weights, bias=None, activation="identity")``:
  :math:`x = F\big(\sum_j x_{\mathrm{pa}_j} W_j^\top + b\big)` (a parameter name used twice is a
  tied weight);
* ``activation(name, parent, kind)``: :math:`x = F(x_{\mathrm{pa}})` element-wise;
* ``add(name, parents)``: the element-wise sum (residual connections);
* ``mul(name, a, b)``: the element-wise product (gating);
* ``maximum(name, a, b)``: the element-wise maximum, a nonsmooth node (at a tie the costate goes
  to ``a``).
"""

from dataclasses import dataclass
from math import comb

import numpy as np

from . import activations as _act
from ._validate import as_float_array, as_patterns, positive_int
from .mlp import check_sizes

__all__ = [
    "Graph",
    "GraphForward",
    "GraphCostate",
    "Checkpointed",
    "layered",
    "named_params",
    "binomial_capacity",
    "binomial_advances",
]


@dataclass(frozen=True)
class _Node:
    name: str
    kind: str  # "input", "layer", "activation", "add", "mul", "maximum"
    width: int
    parents: tuple
    weights: tuple = ()
    bias: str = None
    act: object = None  # an Activation for "layer" and "activation"


@dataclass(frozen=True)
class GraphForward:
    """Node values of a forward pass: ``X[name]`` (P, width); ``A[name]`` the weighted sum of a layer."""

    X: dict
    A: dict


@dataclass(frozen=True)
class GraphCostate:
    r"""Multipliers :math:`B_i = -\partial C/\partial x_i` of every node (inputs included) and the gradient.

    ``B[name]`` has the node's shape (P, width); ``grads[pname]`` is :math:`\partial C/\partial w`
    for each parameter, with its shape; ``cost`` is :math:`C`.
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
        :math:`\partial C / \partial w` by parameter name, equal to :meth:`Graph.gradient`.
    advances : int
        Node evaluations that only move a stored state forward (the recomputations).
    taped : int
        Node evaluations immediately followed by that node's costate step: one per node.
    peak_states : int
        The largest number of checkpointed states held at once (at most ``checkpoints``).
    """

    cost: float
    grads: dict
    advances: int
    taped: int
    peak_states: int


def _name(x, what):
    if not isinstance(x, str) or not x:
        raise TypeError(f"`{what}` must be a non-empty string, got {type(x).__name__} {x!r}")
    return x


class Graph:
    r"""A computational graph of named nodes in topological order, with its Lagrange function.

    Nodes are added by the methods below; a node may only read nodes declared before it, so the
    order of declaration is a topological order and the graph is acyclic by construction.
    Parameters are named; their shapes follow from the nodes that use them, and a name used by two
    nodes (or twice in one) is one shared parameter.

    Examples
    --------
    >>> g = Graph()
    >>> g.input("x", 1)
    >>> g.layer("h", "x", "W1", bias="b1", activation="tanh", width=1)
    >>> g.layer("y", "h", "W2", width=1)
    >>> g.output("y")
    """

    def __init__(self):
        self._nodes = []
        self._index = {}
        self._shapes = {}
        self.outputs = []

    # --- construction ------------------------------------------------------------------------

    @property
    def nodes(self):
        """The node names in topological order."""
        return [n.name for n in self._nodes]

    @property
    def param_shapes(self):
        """``{parameter name: shape}`` in order of first use."""
        return dict(self._shapes)

    def width(self, name):
        """The width of node ``name``."""
        return self._get(name, "name").width

    def _get(self, name, what):
        _name(name, what)
        if name not in self._index:
            raise ValueError(f"`{what}` must name a node declared before, one of {self.nodes}, got {name!r}")
        return self._nodes[self._index[name]]

    def _add(self, node):
        if node.name in self._index:
            raise ValueError(f"`name` must be new, node {node.name!r} exists already")
        self._index[node.name] = len(self._nodes)
        self._nodes.append(node)

    def _param(self, pname, shape, what):
        _name(pname, what)
        if pname in self._index:
            raise ValueError(f"`{what}` {pname!r} is a node name; parameters need their own names")
        have = self._shapes.get(pname)
        if have is not None and have != shape:
            raise ValueError(f"`{what}` {pname!r} is shared and must keep shape {have}, got {shape}")
        self._shapes[pname] = shape

    def input(self, name, width):
        """Declare an input node of the given width (its value is data, not a variable)."""
        _name(name, "name")
        if name in self._shapes:
            raise ValueError(f"`name` {name!r} is a parameter name")
        self._add(_Node(name, "input", positive_int(width, "width"), ()))

    def layer(self, name, parents, weights, *, bias=None, activation="identity", width=None):
        r"""Declare :math:`x = F\big(\sum_j x_{\mathrm{pa}_j} W_j^\top + b\big)`; ``W_j`` has shape (width, n_{pa_j})."""
        _name(name, "name")
        parents = (parents,) if isinstance(parents, str) else tuple(parents)
        weights = (weights,) if isinstance(weights, str) else tuple(weights)
        if not parents or len(parents) != len(weights):
            raise ValueError(f"`weights` must name one matrix per parent ({len(parents)}), got {len(weights)}")
        width = positive_int(width, "width")
        pa = [self._get(p, "parents") for p in parents]
        if name in self._shapes:
            raise ValueError(f"`name` {name!r} is a parameter name")
        for p, w in zip(pa, weights):
            self._param(w, (width, p.width), "weights")
        if bias is not None:
            self._param(bias, (width,), "bias")
        act = _act.get(activation, argname="activation")
        self._add(_Node(name, "layer", width, parents, weights, bias, act))

    def activation(self, name, parent, kind):
        """Declare :math:`x = F(x_{\\mathrm{pa}})` element-wise, ``kind`` an activation name."""
        p = self._get(parent, "parent")
        self._add(_Node(_name(name, "name"), "activation", p.width, (parent,),
                        act=_act.get(kind, argname="kind")))

    def _same_width(self, name, kind, parents):
        pa = [self._get(p, "parents") for p in parents]
        if len({p.width for p in pa}) != 1:
            raise ValueError(f"`parents` of {kind} node {name!r} must have one width, got "
                             f"{[p.width for p in pa]}")
        self._add(_Node(_name(name, "name"), kind, pa[0].width, tuple(parents)))

    def add(self, name, parents):
        """Declare the element-wise sum of two or more nodes of one width."""
        parents = tuple(parents) if not isinstance(parents, str) else (parents,)
        if len(parents) < 2:
            raise ValueError(f"`parents` of an add node must name at least two nodes, got {parents}")
        self._same_width(name, "add", parents)

    def mul(self, name, a, b):
        """Declare the element-wise product of two nodes of one width."""
        self._same_width(name, "mul", (a, b))

    def maximum(self, name, a, b):
        """Declare the element-wise maximum of two nodes of one width (the costate goes to ``a`` at ties)."""
        self._same_width(name, "maximum", (a, b))

    def output(self, *names):
        """Mark nodes as outputs: the cost is the squared error on them."""
        for n in names:
            node = self._get(n, "names")
            if node.kind == "input":
                raise ValueError(f"`names` must be computed nodes, {n!r} is an input")
            if n in self.outputs:
                raise ValueError(f"`names`: {n!r} is an output already")
            self.outputs.append(n)

    # --- validation at the public boundary -----------------------------------------------------

    def _check_params(self, params):
        if not isinstance(params, dict):
            raise TypeError(f"`params` must be a dict of parameter arrays, got {type(params).__name__}")
        missing = [k for k in self._shapes if k not in params]
        extra = [k for k in params if k not in self._shapes]
        if missing or extra:
            raise ValueError(f"`params` must hold exactly {list(self._shapes)}; missing {missing}, "
                             f"unknown {extra}")
        out = {}
        for k, shape in self._shapes.items():
            arr = as_float_array(params[k], f"params[{k!r}]")
            if arr.shape != shape:
                raise ValueError(f"`params[{k!r}]` must have shape {shape}, got {arr.shape}")
            out[k] = arr
        return out

    def _check_data(self, data, what, names):
        if not isinstance(data, dict):
            raise TypeError(f"`{what}` must be a dict of arrays by node name, got {type(data).__name__}")
        if set(data) != set(names):
            raise ValueError(f"`{what}` must hold exactly the nodes {list(names)}, got {list(data)}")
        out, P = {}, None
        for n in names:
            arr = as_patterns(data[n], f"{what}[{n!r}]", self._nodes[self._index[n]].width)
            if P is not None and arr.shape[0] != P:
                raise ValueError(f"`{what}[{n!r}]` must have {P} rows like the others, got {arr.shape}")
            P = arr.shape[0]
            out[n] = arr
        return out, P

    def _check_ready(self):
        if not self.outputs:
            raise ValueError("the graph has no output: call `output(name)` before evaluating a cost")

    def _inputs(self, inputs):
        names = [n.name for n in self._nodes if n.kind == "input"]
        if not names:
            raise ValueError("the graph has no input node")
        return self._check_data(inputs, "inputs", names)

    def _targets(self, targets, P):
        self._check_ready()
        D, Pd = self._check_data(targets, "targets", self.outputs)
        if Pd != P:
            raise ValueError(f"`targets` must have {P} rows like the inputs, got {Pd}")
        return D

    def _check_fwd(self, fwd):
        """A GraphForward of this graph: every node (P, width) and finite, every layer's sum."""
        if not isinstance(fwd, GraphForward):
            raise TypeError(f"`fwd` must be a GraphForward (from Graph.forward), got {type(fwd).__name__}")
        layers = [n.name for n in self._nodes if n.kind == "layer"]
        for what, have, names in (("fwd.X", fwd.X, self.nodes), ("fwd.A", fwd.A, layers)):
            missing = [n for n in names if not isinstance(have, dict) or n not in have]
            if missing:
                raise ValueError(f"`{what}` must hold every node of {names}, missing {missing}")
        X, P = self._check_data({n: fwd.X[n] for n in self.nodes}, "fwd.X", self.nodes)
        A, Pa = self._check_data({n: fwd.A[n] for n in layers}, "fwd.A", layers)
        if layers and Pa != P:
            raise ValueError(f"`fwd.A` must have {P} rows like `fwd.X`, got {Pa}")
        return GraphForward(X=X, A=A), P

    # --- the passes -------------------------------------------------------------------------------

    def forward(self, params, inputs):
        r"""The forward pass, :math:`\partial L/\partial B_i = 0`: every node from its parents, in order.

        Parameters
        ----------
        params : dict
            One array per parameter name, shapes as in :attr:`param_shapes`.
        inputs : dict
            One (P, width) array per input node (a 1-D array is one pattern).

        Returns
        -------
        GraphForward
        """
        w = self._check_params(params)
        X0, _ = self._inputs(inputs)
        return self._forward(w, X0)

    def _forward(self, w, X0):
        X, A = dict(X0), {}
        for node in self._nodes:
            if node.kind != "input":
                X[node.name], a = _eval(node, X, w)
                if a is not None:
                    A[node.name] = a
        return GraphForward(X=X, A=A)

    def cost(self, params, inputs, targets):
        r""":math:`C = \sum_o \sum_p \lVert D_{o,p} - x_{o,p} \rVert^2` over the output nodes."""
        w = self._check_params(params)
        X0, P = self._inputs(inputs)
        D = self._targets(targets, P)
        X = self._forward(w, X0).X
        return float(sum(np.sum((D[o] - X[o]) ** 2) for o in self.outputs))

    def costate(self, params, fwd, targets):
        r"""The costate pass, :math:`\partial L/\partial x_i = 0`, from the last node to the first.

        .. math::

            B_i = 2\,[i \in \text{outputs}]\,(D_i - x_i)
                  + \sum_{c:\, i \in \mathrm{pa}(c)} \Big(\frac{\partial\phi_c}{\partial x_i}\Big)^{\!\top} B_c,
            \qquad
            \frac{\partial C}{\partial w} = -\sum_i \Big(\frac{\partial\phi_i}{\partial w}\Big)^{\!\top} B_i .

        Parameters
        ----------
        params : dict
        fwd : GraphForward
            The forward pass at ``params``.
        targets : dict
            One (P, width) array per output node.

        Returns
        -------
        GraphCostate
            ``B`` for every node (input nodes too: minus the gradient in the inputs), the
            parameter gradients, and the cost.
        """
        w = self._check_params(params)
        fwd, P = self._check_fwd(fwd)
        D = self._targets(targets, P)
        return self._costate(w, fwd, D)

    def _costate(self, w, fwd, D):
        X = fwd.X
        B = {n.name: np.zeros_like(X[n.name]) for n in self._nodes}
        G = {k: np.zeros(s) for k, s in self._shapes.items()}
        C = 0.0
        for o in self.outputs:
            r = D[o] - X[o]
            C += float(np.sum(r * r))
            B[o] += 2.0 * r
        for node in reversed(self._nodes):
            if node.kind != "input":
                _vjp(node, X, fwd.A.get(node.name), w, B, G)
        return GraphCostate(B=B, grads=G, cost=C)

    def gradient(self, params, inputs, targets):
        """The cost and its gradient by one forward and one costate pass: ``(C, grads)``."""
        w = self._check_params(params)
        X0, P = self._inputs(inputs)
        D = self._targets(targets, P)
        co = self._costate(w, self._forward(w, X0), D)
        return co.cost, co.grads

    def tangent(self, params, fwd, dparams):
        r"""The forward linearisation: the change of every node for a change ``dparams`` of the parameters.

        .. math:: \dot x_i = \sum_{j \in \mathrm{pa}(i)} \frac{\partial \phi_i}{\partial x_j}\,\dot x_j
                  + \frac{\partial \phi_i}{\partial w}\,\dot w, \qquad \dot x_{\text{input}} = 0 .

        Its transpose is the costate pass (the dot-product test).

        Returns
        -------
        dict
            ``{node name: (P, width) array}``.
        """
        w = self._check_params(params)
        fwd, _ = self._check_fwd(fwd)
        if not isinstance(dparams, dict):
            raise TypeError(f"`dparams` must be a dict like `params`, got {type(dparams).__name__}")
        dw = self._check_params(dparams)
        T = {}
        for node in self._nodes:
            if node.kind == "input":
                T[node.name] = np.zeros_like(fwd.X[node.name])
            else:
                T[node.name] = _jvp(node, fwd.X, fwd.A.get(node.name), w, T, dw)
        return T

    def lagrange_function(self, params, X, B, targets):
        r""":math:`L(w, x, B) = C(x) + \sum_i \langle B_i, x_i - \phi_i(x_{\mathrm{pa}(i)}, w)\rangle` at any ``X``, ``B``.

        ``X`` and ``B`` are dicts by node name (``B`` of the computed nodes; input entries of
        ``B`` are ignored).
        """
        w = self._check_params(params)
        if not isinstance(X, dict) or not isinstance(B, dict):
            raise TypeError("`X` and `B` must be dicts of arrays by node name")
        X0, P = self._inputs({n.name: X.get(n.name) for n in self._nodes if n.kind == "input"})
        comp = [n.name for n in self._nodes if n.kind != "input"]
        Xc, Pc = self._check_data({n: X.get(n) for n in comp}, "X", comp)
        Bc, Pb = self._check_data({n: B.get(n) for n in comp}, "B", comp)
        if Pc != P or Pb != P:
            raise ValueError(f"`X` and `B` must have {P} rows like the inputs")
        D = self._targets(targets, P)
        Xall = {**X0, **Xc}
        L = float(sum(np.sum((D[o] - Xall[o]) ** 2) for o in self.outputs))
        for node in self._nodes:
            if node.kind != "input":
                L += float(np.sum(Bc[node.name] * (Xall[node.name] - _eval(node, Xall, w)[0])))
        return L

    def constraint_jacobian(self, params, fwd):
        r"""The Jacobian of the constraints :math:`g_i = x_i - \phi_i` in the computed nodes' values.

        Rows and columns are ordered node by node in topological order, each node's (P, width)
        array raveled row-major. The matrix is unit lower-triangular: :math:`\partial g_i/\partial
        x_i = I` and :math:`\partial g_i / \partial x_j = 0` for every node :math:`j` after :math:`i`.

        Returns
        -------
        ndarray, shape (m, m)
        """
        w = self._check_params(params)
        fwd, _ = self._check_fwd(fwd)
        comp = [n for n in self._nodes if n.kind != "input"]
        sizes = [fwd.X[n.name].size for n in comp]
        off = dict(zip([n.name for n in comp], np.concatenate([[0], np.cumsum(sizes)])))
        J = np.eye(int(sum(sizes)))
        for node in comp:
            for r in range(fwd.X[node.name].size):  # row r of d phi_i / d x, one unit seed at a time
                B = {n.name: np.zeros_like(fwd.X[n.name]) for n in self._nodes}
                B[node.name].reshape(-1)[r] = 1.0
                _vjp(node, fwd.X, fwd.A.get(node.name), w, B, {k: np.zeros(s) for k, s in self._shapes.items()})
                for p in node.parents:
                    if p in off:
                        n_p = fwd.X[p].size
                        J[off[node.name] + r, off[p]:off[p] + n_p] -= B[p].reshape(-1)
        return J

    # --- checkpointing ------------------------------------------------------------------------------

    def checkpointed_gradient(self, params, inputs, targets, *, checkpoints):
        r"""The gradient of a chain graph with at most ``checkpoints`` stored states (binomial checkpointing).

        The computed nodes must form a chain: each reads only input nodes and the computed node
        just before it. The states :math:`x_1, \dots, x_l` are not all stored: the sweep keeps at
        most ``checkpoints`` of them (the first slot holds the state before the first step),
        recomputes the others from the nearest checkpoint when the costate pass needs them, and
        places the checkpoints so that the recomputations are as few as possible. Their number
        is Griewank's :math:`t(l, s) = r\,l - \binom{s + r}{s + 1}` with :math:`r` the least
        integer such that :math:`\binom{s + r}{s} \ge l` (see :func:`binomial_advances`); the
        schedule here is found by dynamic programming over the splits, so the count it reports is
        an independent check of that formula.

        Returns
        -------
        Checkpointed
        """
        s = positive_int(checkpoints, "checkpoints")
        w = self._check_params(params)
        X0, P = self._inputs(inputs)
        D = self._targets(targets, P)
        chain = [n for n in self._nodes if n.kind != "input"]
        for i, node in enumerate(chain):
            prev = chain[i - 1].name if i else None
            bad = [p for p in node.parents if self._nodes[self._index[p]].kind != "input" and p != prev]
            if bad:
                raise ValueError(f"checkpointing needs a chain: node {node.name!r} reads {bad}, "
                                 f"not only inputs and the node before it")
        return _Reverse(chain, X0, w, D, self.outputs, self._shapes).run(s)


class _Reverse:
    """Binomial checkpointing of a chain: advance, store, tape, reverse (validated arguments)."""

    def __init__(self, chain, X0, w, D, outputs, shapes):
        self.chain, self.X0, self.w, self.D, self.outputs = chain, X0, w, D, set(outputs)
        self.G = {k: np.zeros(s) for k, s in shapes.items()}
        self.advances = self.taped = 0
        self.stored = self.peak = 0
        self.cost = 0.0

    def _step(self, i, x_prev):
        """Evaluate chain node i (0-based) from the state before it; returns (x_i, a_i)."""
        node = self.chain[i]
        X = dict(self.X0)
        if i:
            X[self.chain[i - 1].name] = x_prev
        return _eval(node, X, self.w)

    def _advance(self, i, j, x):  # state after step i-1 -> state after step j-1
        for k in range(i, j):
            x = self._step(k, x)[0]
            self.advances += 1
        return x

    def _tape_and_reverse(self, i, x_prev, Bbar):
        node = self.chain[i]
        x, a = self._step(i, x_prev)
        self.taped += 1
        if node.name in self.outputs:
            r = self.D[node.name] - x
            self.cost += float(np.sum(r * r))
            Bbar = Bbar + 2.0 * r
        X = dict(self.X0)
        X[node.name] = x
        B = {node.name: Bbar}
        if i:
            X[self.chain[i - 1].name] = x_prev
            B[self.chain[i - 1].name] = np.zeros_like(x_prev)
        for p in node.parents:
            B.setdefault(p, np.zeros_like(X[p]))
        _vjp(node, X, a, self.w, B, self.G)
        return B[self.chain[i - 1].name] if i else None

    def _reverse(self, i, j, x_i, s, Bbar):
        """Reverse steps i..j-1 given the stored state before step i and s slots (one holds it)."""
        l = j - i
        if l == 1:
            return self._tape_and_reverse(i, x_i, Bbar)
        if s == 1:
            for k in range(j - 1, i - 1, -1):
                Bbar = self._tape_and_reverse(k, self._advance(i, k, x_i), Bbar)
            return Bbar
        m = self.plan[s][l]
        x_m = self._advance(i, i + m, x_i)
        self.stored += 1
        self.peak = max(self.peak, self.stored)
        Bbar = self._reverse(i + m, j, x_m, s - 1, Bbar)
        self.stored -= 1
        return self._reverse(i, i + m, x_i, s, Bbar)

    def run(self, s):
        l = len(self.chain)
        s = min(s, l)  # more slots than steps are never used
        self.plan = _split_table(l, s)
        self.stored = self.peak = 1  # the slot of the state before the first step
        x0 = None
        last = self.chain[-1]
        Bbar = np.zeros((next(iter(self.X0.values())).shape[0], last.width))
        self._reverse(0, l, x0, s, Bbar)
        return Checkpointed(cost=self.cost, grads=self.G, advances=self.advances,
                            taped=self.taped, peak_states=self.peak)


def _split_table(l_max, s_max):
    """plan[s][l]: the first split m minimising m + T(l - m, s - 1) + T(m, s) (dynamic programming)."""
    T = [[0] * (l_max + 1) for _ in range(s_max + 1)]
    plan = [[0] * (l_max + 1) for _ in range(s_max + 1)]
    for ln in range(1, l_max + 1):
        T[1][ln] = ln * (ln - 1) // 2
    for s in range(2, s_max + 1):
        for ln in range(2, l_max + 1):
            best = min(range(1, ln), key=lambda m: m + T[s - 1][ln - m] + T[s][m])
            plan[s][ln], T[s][ln] = best, best + T[s - 1][ln - best] + T[s][best]
    return plan


# --- local rules of each node kind (validated arguments) -------------------------------------------

def _eval(node, X, w):
    if node.kind == "layer":
        a = sum(X[p] @ w[W].T for p, W in zip(node.parents, node.weights))
        a = a + w[node.bias] if node.bias is not None else np.array(a, dtype=np.float64)
        return node.act.f(a), a
    if node.kind == "activation":
        return node.act.f(X[node.parents[0]]), None
    if node.kind == "add":
        return sum(X[p] for p in node.parents) + 0.0, None
    a, b = X[node.parents[0]], X[node.parents[1]]
    return (a * b, None) if node.kind == "mul" else (np.maximum(a, b), None)


def _vjp(node, X, a, w, B, G):
    """Add (d phi/d x_pa)^T B_node to the parents' B and -(d phi/d w)^T B_node to G."""
    Bi = B[node.name]
    if node.kind == "layer":
        Y = node.act.df(a) * Bi
        for p, W in zip(node.parents, node.weights):
            B[p] += Y @ w[W]
            G[W] -= Y.T @ X[p]
        if node.bias is not None:
            G[node.bias] -= Y.sum(axis=0)
    elif node.kind == "activation":
        B[node.parents[0]] += node.act.df(X[node.parents[0]]) * Bi
    elif node.kind == "add":
        for p in node.parents:
            B[p] += Bi
    elif node.kind == "mul":
        pa, pb = node.parents
        B[pa] += Bi * X[pb]
        B[pb] += Bi * X[pa]
    else:  # maximum: the costate goes to the first parent at a tie
        pa, pb = node.parents
        first = X[pa] >= X[pb]
        B[pa] += np.where(first, Bi, 0.0)
        B[pb] += np.where(first, 0.0, Bi)


def _jvp(node, X, a, w, T, dw):
    if node.kind == "layer":
        da = sum(T[p] @ w[W].T + X[p] @ dw[W].T for p, W in zip(node.parents, node.weights))
        if node.bias is not None:
            da = da + dw[node.bias]
        return node.act.df(a) * da
    if node.kind == "activation":
        return node.act.df(X[node.parents[0]]) * T[node.parents[0]]
    if node.kind == "add":
        return sum(T[p] for p in node.parents) + 0.0
    pa, pb = node.parents
    if node.kind == "mul":
        return T[pa] * X[pb] + X[pa] * T[pb]
    return np.where(X[pa] >= X[pb], T[pa], T[pb])


# --- layered networks and the binomial count ----------------------------------------------------------

def layered(sizes, *, activation="tanh", output_activation="identity"):
    r"""The graph of an N-layer network in le Cun's notation: nodes ``x0`` (input), ``x1``..``xN``.

    Node ``xk`` is :math:`X(k) = F_k(W(k) X(k-1) + b(k))` with parameters ``Wk``, ``bk``; ``xN``
    is the output. Use :func:`named_params` to turn a parameter list into the dict it takes.
    """
    sizes = check_sizes(sizes)
    g = Graph()
    g.input("x0", sizes[0])
    N = len(sizes) - 1
    for k in range(1, N + 1):
        g.layer(f"x{k}", f"x{k - 1}", f"W{k}", bias=f"b{k}", width=sizes[k],
                activation=output_activation if k == N else activation)
    g.output(f"x{N}")
    return g


def named_params(params):
    """``[(W_1, b_1), ...]`` -> ``{"W1": W_1, "b1": b_1, ...}``, the names of :func:`layered`."""
    if not isinstance(params, (list, tuple)):
        raise TypeError(f"`params` must be a list of (W_k, b_k) pairs, got {type(params).__name__}")
    out = {}
    for k, pair in enumerate(params, start=1):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(f"`params[{k - 1}]` must be a pair (W_{k}, b_{k}), got {type(pair).__name__}")
        out[f"W{k}"], out[f"b{k}"] = pair
    return out


def binomial_capacity(checkpoints, repetitions):
    r"""The most steps a chain can have and be reversed with ``checkpoints`` slots and each step
    evaluated at most ``repetitions`` times beyond its taping: :math:`\beta(s, r) = \binom{s + r}{s}`
    (Griewank 1992)."""
    s = positive_int(checkpoints, "checkpoints")
    r = positive_int(repetitions, "repetitions", minimum=0)
    return comb(s + r, s)


def binomial_advances(steps, checkpoints):
    r"""Griewank's minimal number of recomputed steps to reverse a chain of ``steps`` with ``checkpoints`` slots.

    .. math:: t(l, s) = r\,l - \binom{s + r}{s + 1}, \qquad
              r = \min\Big\{ r \ge 0 : \binom{s + r}{s} \ge l \Big\},

    counting the forward steps that only advance a state, not the :math:`l` evaluations that
    precede each step's costate (Griewank 1992). With one slot it is
    :math:`l(l-1)/2`; with :math:`s \ge l - 1` slots it is :math:`l - 1`.
    """
    l = positive_int(steps, "steps")
    s = positive_int(checkpoints, "checkpoints")
    r = 0
    while comb(s + r, s) < l:
        r += 1
    return r * l - comb(s + r, s + 1)
