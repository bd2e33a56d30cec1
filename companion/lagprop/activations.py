r"""Named activation functions and their derivatives.

le Cun (1988) writes the layer map as :math:`X(k) = F_k(A(k))` with :math:`F_k` applied
unit by unit, and its Jacobian :math:`\nabla F_k(A(k))` is then the diagonal matrix of
the derivatives :math:`f_k'(a_i(k))`. An :class:`Activation` holds :math:`f`, :math:`f'`
and :math:`f''`; the costate pass multiplies by the diagonal, that is, element-wise by
``df(A)``, and the second-order adjoint (:func:`lagprop.lagrangian.hessian_vector`) and
the Hessians of :mod:`lagprop.curvature` also by ``d2f(A)``, the second derivative,
which is the derivative of the diagonal :math:`\nabla F_k` along :math:`\dot A(k)`.

The names are ``"identity"``, ``"tanh"``, ``"sigmoid"`` (the logistic function) and
``"relu"``.
"""

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

__all__ = ["Activation", "get", "second_derivative", "NAMES"]


@dataclass(frozen=True)
class Activation:
    """An element-wise activation :math:`f`, its derivatives :math:`f'` and :math:`f''`.

    Attributes
    ----------
    name : str
        The activation's name, as accepted by :func:`get`.
    f : callable
        ndarray -> ndarray, the activation applied element-wise.
    df : callable
        ndarray -> ndarray, its derivative evaluated element-wise at the same argument.
    d2f : callable or None
        ndarray -> ndarray, its second derivative element-wise, or ``None`` where it is
        not given (a user activation need not give it: only second-order functions ask
        for it, and they raise a ValueError naming the argument, see
        :func:`second_derivative`).
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]
    d2f: Optional[Callable[[np.ndarray], np.ndarray]] = None

    def __call__(self, a):
        return self.f(a)


def _sigmoid(a):
    # exp of a non-positive number never overflows: e = exp(-|a|) in (0, 1]
    a = np.asarray(a, dtype=np.float64)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _dsigmoid(a):
    s = _sigmoid(a)
    return s * (1.0 - s)


def _dtanh(a):
    # 1 - tanh(a)^2, computed in one buffer (large temporaries are costly to allocate)
    t = np.tanh(np.asarray(a, dtype=np.float64))
    if np.ndim(t) == 0:
        return 1.0 - t * t
    np.multiply(t, t, out=t)
    return np.subtract(1.0, t, out=t)


def _d2sigmoid(a):
    # s (1 - s) (1 - 2 s)
    s = _sigmoid(a)
    return s * (1.0 - s) * (1.0 - 2.0 * s)


def _d2tanh(a):
    # -2 t (1 - t^2)
    t = np.tanh(np.asarray(a, dtype=np.float64))
    return -2.0 * t * (1.0 - t * t)


def _ones(a):
    return np.ones(np.shape(a))


def _zeros(a):
    return np.zeros(np.shape(a))


def _identity(a):
    return np.array(a, dtype=np.float64)


def _relu(a):
    return np.maximum(np.asarray(a, dtype=np.float64), 0.0)


def _drelu(a):
    return (np.asarray(a) > 0).astype(np.float64)


_TABLE = {
    "identity": Activation("identity", _identity, _ones, _zeros),
    "tanh": Activation("tanh", np.tanh, _dtanh, _d2tanh),
    "sigmoid": Activation("sigmoid", _sigmoid, _dsigmoid, _d2sigmoid),
    # relu'(0) is taken as 0 (a subgradient) and relu'' = 0: exact away from the kink,
    # where central differences disagree only
    "relu": Activation("relu", _relu, _drelu, _zeros),
}

#: The accepted activation names.
NAMES = tuple(_TABLE)


def get(name, *, argname="activation"):
    """Return the :class:`Activation` called ``name``.

    Parameters
    ----------
    name : str or Activation
        One of :data:`NAMES`; an :class:`Activation` is returned unchanged.
    argname : str
        The argument's name to report in an error message.

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`NAMES`.
    TypeError
        If ``name`` is neither a string nor an :class:`Activation`.

    Notes
    -----
    A user :class:`Activation` is returned wrapped so that every call checks that ``f``
    and ``df`` return finite arrays of the shape of their argument: a ValueError naming
    ``argname`` instead of NaN passing through the network.
    """
    if isinstance(name, Activation):
        if name.name in _TABLE and _TABLE[name.name] is name:
            return name
        return _checked(name, argname)
    if not isinstance(name, str):
        raise TypeError(f"`{argname}` must be a string naming an activation, "
                        f"got {type(name).__name__}")
    try:
        return _TABLE[name]
    except KeyError:
        raise ValueError(f"`{argname}` must be one of {list(NAMES)}, "
                         f"got {name!r}") from None


def _checked(act, argname):
    """Wrap a user Activation: non-finite or misshapen outputs raise a ValueError."""

    def guard(fn, which):
        def call(a):
            with np.errstate(all="ignore"):  # a non-finite result is reported below
                out = np.asarray(fn(a), dtype=np.float64)
            if out.shape != np.shape(a):
                raise ValueError(f"`{argname}`.{which} must return an array of the "
                                 f"shape of its argument {np.shape(a)}, "
                                 f"got {out.shape}")
            if not np.all(np.isfinite(out)):
                raise ValueError(f"`{argname}`.{which} ({act.name!r}) returned "
                                 "non-finite values on finite input")
            return out

        return call

    if not callable(act.f) or not callable(act.df):
        raise TypeError(f"`{argname}` must have callable `f` and `df`, got {act!r:.80}")
    if act.d2f is not None and not callable(act.d2f):
        raise TypeError(f"`{argname}`.d2f must be callable or None, "
                        f"got {type(act.d2f).__name__}")
    d2f = None if act.d2f is None else guard(act.d2f, "d2f")
    return Activation(act.name, guard(act.f, "f"), guard(act.df, "df"), d2f)


def second_derivative(act, argname="activation"):
    """Return :math:`f''` of an :class:`Activation` from :func:`get`, or raise if none.

    Parameters
    ----------
    act : Activation
        As returned by :func:`get`.
    argname : str
        The argument's name to report in an error message.

    Returns
    -------
    callable
        ``act.d2f``.

    Raises
    ------
    ValueError
        If ``act.d2f`` is None (a user activation given without its second derivative).
    """
    if act.d2f is None:
        raise ValueError(f"`{argname}` must have a second derivative for second-order "
                         f"quantities: give `d2f` to Activation({act.name!r}, f, df, "
                         "d2f), got d2f=None")
    return act.d2f
