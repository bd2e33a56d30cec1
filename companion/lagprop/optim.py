r"""First-order optimisers as pure functions of their state: heavy-ball momentum, Adam.

The costate pass gives the gradient :math:`g = \partial C / \partial \theta`; an
optimiser turns a sequence of such gradients into steps. Each optimiser here is an
immutable object holding only its hyperparameters. Its state is a separate value, made
and returned explicitly, as in optax:

.. code-block:: python

    opt = optim.Adam(lr=1e-2)
    state = opt.init(params)
    for ...:
        params, state = opt.update(grads, state, params)

**Why pure, and not bound at construction as in** ``torch.optim``. In lagprop parameters
are NumPy arrays in and new arrays out; nothing is updated in place, so there are no
long-lived parameter objects to bind state to. A state that is a value cannot leak from
one training run into the next (:func:`lagprop.classify.train` calls ``init`` at its
start, so one optimiser can serve many runs), and it can be printed, copied and
compared. Every ``update`` checks that ``grads``, ``state`` and ``params`` have the same
structure and the same shapes, so a state made for other parameters raises a
``ValueError`` instead of being applied.

**Parameters are trees.** ``params`` may be any nesting of lists, tuples and dicts whose
leaves are arrays (a *pytree*, as in JAX and optax): the pairs ``[(W_1, b_1), ...]`` of
a layered network (``API.md``), a dict by name, or a single array. ``update`` returns
the same structure.

* :class:`Momentum`: the heavy-ball map (Polyak 1964) in PyTorch's form,
  :math:`u \leftarrow \rho\, u + g`, :math:`\theta \leftarrow \theta - \ell\, u`. It is
  the book's exact discrete form of the strong-damping dynamics: with
  ``lr, rho = lagprop.dynamics.heavy_ball(beta, mu, spacing)``, its iterates are the
  positions of the impulsive motion at the impulse times
  (:func:`lagprop.dynamics.heavy_ball`,
  :func:`lagprop.dynamics.heavy_ball_positions`).
* :class:`Adam`: Kingma and Ba (2015), with bias-corrected moment estimates, computed so
  that gradients of any magnitude (1e-170 or 1e200) give the textbook step.

References
----------
Polyak (1964), "Some methods of speeding up the convergence of iteration methods";
Kingma and Ba (2015), "Adam: a method for stochastic optimization"; optax's
``GradientTransformation`` (``init(params)``, ``update(grads, state, params)``) for the
pure form.
"""

from dataclasses import dataclass, field

import numpy as np

from ._validate import as_float_array, positive_scalar, real_scalar

__all__ = ["Momentum", "MomentumState", "Adam", "AdamState"]


# ---------------------------------------------------------------------------- trees
def _leaves(tree, name, path=""):
    """The leaves of a tree as ``[(path, array)]``, depth first, dict keys sorted.

    Lists and tuples (named tuples included) and dicts are nodes; anything else is a
    leaf and is checked to be a finite real array.
    """
    if isinstance(tree, dict):
        out = []
        for key in sorted(tree, key=repr):
            out += _leaves(tree[key], name, f"{path}[{key!r}]")
        return out
    if isinstance(tree, (list, tuple)):
        out = []
        for i, node in enumerate(tree):
            out += _leaves(node, name, f"{path}[{i}]")
        return out
    return [(path, as_float_array(tree, f"{name}{path}"))]


def _rebuild(like, values):
    """A tree shaped like ``like``, with the leaves taken in order from ``values``."""
    if isinstance(like, dict):
        built = {key: _rebuild(like[key], values) for key in sorted(like, key=repr)}
        return {key: built[key] for key in like}
    if isinstance(like, (list, tuple)):
        children = [_rebuild(node, values) for node in like]
        if isinstance(like, list):
            return children
        return type(like)(*children) if hasattr(like, "_fields") else tuple(children)
    return next(values)


def _check_like(leaves, name, ref, ref_name):
    """Check that ``leaves`` has the paths and shapes of ``ref``; return the arrays."""
    paths = [p for p, _ in leaves]
    ref_paths = [p for p, _ in ref]
    if paths != ref_paths:
        raise ValueError(
            f"`{name}` must have the structure of `{ref_name}` ({len(ref)} arrays at "
            f"{_show(ref_paths)}), got {len(leaves)} arrays at {_show(paths)}")
    for (p, a), (_, r) in zip(leaves, ref):
        if a.shape != r.shape:
            raise ValueError(f"`{name}{p}` must have shape {r.shape} like "
                             f"`{ref_name}{p}`, got {a.shape}")
    return [a for _, a in leaves]


def _tree(like, arrays):
    return _rebuild(like, iter(arrays))


def _show(paths, n=4):
    shown = ", ".join(p or "(root)" for p in paths[:n])
    return shown + (", ..." if len(paths) > n else "")


def _check_params(params):
    leaves = _leaves(params, "params")
    if not leaves:
        raise ValueError(f"`params` must hold at least one array, got {params!r:.60}")
    return leaves


def _check_step(grads, state, params, state_type, fields):
    """Validate one update; return the leaves of params, grads and each state field."""
    ref = _check_params(params)
    G = _check_like(_leaves(grads, "grads"), "grads", ref, "params")
    if not isinstance(state, state_type):
        raise TypeError(f"`state` must be the {state_type.__name__} that "
                        f"`init(params)` returns, got {type(state).__name__}")
    S = [_check_like(_leaves(getattr(state, f), f"state.{f}"), f"state.{f}", ref,
                     "params") for f in fields]
    return [p for p, _ in ref], [a for _, a in ref], G, S


def _finite_or_raise(arrays, paths, hint):
    """Raise if a new array (parameters or state, leaf by leaf) is not finite."""
    for i, a in enumerate(arrays):
        if not np.all(np.isfinite(a)):
            where = paths[i % len(paths)]
            raise FloatingPointError(
                f"the step overflowed float64 at `params{where}` ({hint}); the arguments "
                f"are finite but too large for this step")


def _read_only(arrays):
    for a in arrays:
        a.setflags(write=False)
    return arrays


# ---------------------------------------------------------------------------- momentum
@dataclass(frozen=True)
class MomentumState:
    r"""The state of :class:`Momentum` after ``count`` updates.

    Attributes
    ----------
    count : int
        Updates applied so far.
    u : tree of ndarray
        The velocity buffer :math:`u` (read-only arrays), with the structure of
        ``params``.
    """

    count: int
    u: object = field(repr=False)


@dataclass(frozen=True)
class Momentum:
    r"""Gradient descent with heavy-ball momentum, the book's exact discrete map.

    .. math::

        u_t = \rho\, u_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \ell\, u_t,
        \qquad u_0 = 0,

    that is :math:`\theta_{t} = \theta_{t-1} - \ell\, g_t + \rho\,(\theta_{t-1} -
    \theta_{t-2})` (PyTorch's ``SGD(lr, momentum=rho, dampening=0)``). For impulses of
    spacing :math:`\Delta` on the damped motion :math:`\mu(\ddot w + \beta \dot w) =
    -g`, the positions at the impulse times obey this map with :math:`\rho =
    e^{-\beta\Delta}` and :math:`\ell = \eta(1 - \rho)`, :math:`\eta = 1/(\beta\mu)`:
    the pair ``(lr, rho) = lagprop.dynamics.heavy_ball(beta, mu, spacing)``.

    Parameters
    ----------
    lr : float
        The step :math:`\ell > 0` (the book's :math:`\eta(1-\rho)`).
    rho : float
        The momentum coefficient :math:`\rho \in [0, 1)`; 0 is plain gradient descent.

    Raises
    ------
    TypeError
        If ``lr`` or ``rho`` is not a real number.
    ValueError
        If ``lr`` is not finite and > 0, or ``rho`` not in [0, 1).

    See Also
    --------
    lagprop.dynamics.heavy_ball : ``(lr, rho)`` from the damping, mass and spacing.
    lagprop.dynamics.heavy_ball_positions : the same recursion in position form.

    References
    ----------
    Polyak (1964), "Some methods of speeding up the convergence of iteration methods".
    """

    lr: float
    rho: float = 0.9

    def __post_init__(self):
        object.__setattr__(self, "lr", positive_scalar(self.lr, "lr"))
        object.__setattr__(self, "rho", real_scalar(self.rho, "rho", low=0.0, high=1.0,
                                                    high_open=True))

    def init(self, params):
        """The state before the first update: :math:`u_0 = 0` for every array.

        Parameters
        ----------
        params : tree of array_like
            Lists, tuples and dicts of finite real arrays (at least one).

        Returns
        -------
        MomentumState
            ``count = 0`` and zero velocities with the structure of ``params``.

        Raises
        ------
        TypeError, ValueError
            A leaf of ``params`` that is not a finite real array (named by its path), or
            no array at all.
        """
        ref = _check_params(params)
        zeros = _read_only([np.zeros(a.shape) for _, a in ref])
        return MomentumState(0, _tree(params, zeros))

    def update(self, grads, state, params):
        r"""One step: :math:`u \leftarrow \rho u + g`, then
        :math:`\theta \leftarrow \theta - \ell u`.

        Parameters
        ----------
        grads : tree of array_like
            :math:`\partial C/\partial\theta`, with the structure and shapes of
            ``params``.
        state : MomentumState
            From :meth:`init` or the previous ``update``, for parameters of this
            structure.
        params : tree of array_like
            The current parameters :math:`\theta_{t-1}` (not modified).

        Returns
        -------
        params : tree of ndarray
            :math:`\theta_t`, new arrays with the structure of ``params``.
        state : MomentumState
            The state after this step.

        Raises
        ------
        TypeError
            If ``state`` is not a :class:`MomentumState`, or a leaf is not a real array.
        ValueError
            If ``grads`` or the state's arrays do not have the structure and shapes of
            ``params`` (the message names the first mismatch), or a value is not finite.
        FloatingPointError
            If the step overflows float64 (finite but huge ``lr`` or gradients).
        """
        paths, P, G, (U,) = _check_step(grads, state, params, MomentumState, ("u",))
        with np.errstate(over="ignore", invalid="ignore"):
            U = [self.rho * u + g for u, g in zip(U, G)]
            new = [p - self.lr * u for p, u in zip(P, U)]
        _finite_or_raise(U + new, paths, f"lr={self.lr!r}")
        state = MomentumState(state.count + 1, _tree(params, _read_only(U)))
        return _tree(params, new), state


# ---------------------------------------------------------------------------- Adam
@dataclass(frozen=True)
class AdamState:
    r"""The state of :class:`Adam` after ``count`` updates.

    Attributes
    ----------
    count : int
        Updates applied so far, :math:`t`.
    m : tree of ndarray
        The first-moment estimate :math:`m_t` (read-only arrays), structured like
        ``params``.
    sqrt_v : tree of ndarray
        The square root :math:`\sqrt{v_t}` of the second-moment estimate. It is kept
        instead of :math:`v_t` because :math:`g^2` underflows for :math:`|g| <
        10^{-154}` and overflows for :math:`|g| > 10^{154}`, while :math:`\sqrt{v_t}` is
        as representable as :math:`g`.
    """

    count: int
    m: object = field(repr=False)
    sqrt_v: object = field(repr=False)


@dataclass(frozen=True)
class Adam:
    r"""Adam (Kingma and Ba 2015, Algorithm 1).

    .. math::

        m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2, \qquad m_0 = v_0 = 0,

        \theta_t = \theta_{t-1} - \ell\, \frac{m_t / (1 - \beta_1^t)}
        {\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}.

    The state keeps :math:`s_t = \sqrt{v_t}`, updated as :math:`s_t =
    \operatorname{hypot}(\sqrt{\beta_2}\, s_{t-1}, \sqrt{1-\beta_2}\, g_t)`, and the
    step is evaluated as :math:`\ell\, \frac{\sqrt{c_2}}{c_1}\, m_t / (s_t +
    \epsilon\sqrt{c_2})` with :math:`c_i = 1 - \beta_i^t`: the same number, but no
    square of a gradient is ever formed, so a gradient of 1e-170 or of 1e200 moves a
    weight by about :math:`\ell`, as the formula says, instead of underflowing or
    overflowing.

    Parameters
    ----------
    lr : float
        The step :math:`\ell > 0`.
    beta1, beta2 : float
        Decay rates :math:`\beta_1, \beta_2 \in [0, 1)` of the moment estimates.
    eps : float
        :math:`\epsilon > 0`.

    Raises
    ------
    TypeError
        If a hyperparameter is not a real number.
    ValueError
        If ``lr`` or ``eps`` is not finite and > 0, or ``beta1``/``beta2`` not in [0,
        1).

    References
    ----------
    Kingma and Ba (2015), "Adam: a method for stochastic optimization", Algorithm 1.
    """

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self):
        object.__setattr__(self, "lr", positive_scalar(self.lr, "lr"))
        for name in ("beta1", "beta2"):
            value = real_scalar(getattr(self, name), name, low=0.0, high=1.0,
                                high_open=True)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "eps", positive_scalar(self.eps, "eps"))

    def init(self, params):
        """The state before the first update: :math:`t = 0`, :math:`m_0 = v_0 = 0`.

        Parameters
        ----------
        params : tree of array_like
            Lists, tuples and dicts of finite real arrays (at least one).

        Returns
        -------
        AdamState

        Raises
        ------
        TypeError, ValueError
            A leaf of ``params`` that is not a finite real array (named by its path), or
            no array at all.
        """
        ref = _check_params(params)
        m = _read_only([np.zeros(a.shape) for _, a in ref])
        s = _read_only([np.zeros(a.shape) for _, a in ref])
        return AdamState(0, _tree(params, m), _tree(params, s))

    def update(self, grads, state, params):
        r"""One Adam step.

        Parameters
        ----------
        grads : tree of array_like
            :math:`\partial C/\partial\theta`, with the structure and shapes of
            ``params``.
        state : AdamState
            From :meth:`init` or the previous ``update``, for parameters of this
            structure.
        params : tree of array_like
            The current parameters :math:`\theta_{t-1}` (not modified).

        Returns
        -------
        params : tree of ndarray
            :math:`\theta_t`, new arrays with the structure of ``params``.
        state : AdamState
            The state after this step (``count`` one more).

        Raises
        ------
        TypeError
            If ``state`` is not an :class:`AdamState`, or a leaf is not a real array.
        ValueError
            If ``grads`` or the state's arrays do not have the structure and shapes of
            ``params`` (the message names the first mismatch), or a value is not finite.
        FloatingPointError
            If the new parameters overflow float64 (a huge ``lr`` or parameters near the
            largest double).
        """
        paths, P, G, (M, S) = _check_step(grads, state, params, AdamState,
                                          ("m", "sqrt_v"))
        t = state.count + 1
        b1, b2 = self.beta1, self.beta2
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        r2, r12 = np.sqrt(b2), np.sqrt(1.0 - b2)
        scale, floor = self.lr * np.sqrt(c2) / c1, self.eps * np.sqrt(c2)
        new = []
        with np.errstate(over="ignore", invalid="ignore"):
            M = [b1 * m + (1.0 - b1) * g for m, g in zip(M, G)]
            S = [np.hypot(r2 * s, r12 * g) for s, g in zip(S, G)]
            for p, m, s in zip(P, M, S):
                den = s + floor
                ratio = np.divide(m, den, out=np.zeros_like(m), where=den > 0)
                new.append(p - scale * ratio)
        _finite_or_raise(M + S + new, paths, f"lr={self.lr!r}")
        return _tree(params, new), AdamState(t, _tree(params, _read_only(M)),
                                             _tree(params, _read_only(S)))
