r"""Named activation functions and their derivatives.

le Cun (1988) writes the layer map as :math:`X(k) = F_k(A(k))` with :math:`F_k` applied unit by
unit, and its Jacobian :math:`\nabla F_k(A(k))` is then the diagonal matrix of the derivatives
:math:`f_k'(a_i(k))`. An :class:`Activation` holds the pair :math:`(f, f')`; the costate pass
multiplies by the diagonal, that is, element-wise by ``df(A)``.

The names are ``"identity"``, ``"tanh"``, ``"sigmoid"`` (the logistic function) and ``"relu"``.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Activation", "get", "NAMES"]


@dataclass(frozen=True)
class Activation:
    """An element-wise activation :math:`f` and its derivative :math:`f'`.

    Attributes
    ----------
    name : str
        The activation's name, as accepted by :func:`get`.
    f : callable
        ndarray -> ndarray, the activation applied element-wise.
    df : callable
        ndarray -> ndarray, its derivative evaluated element-wise at the same argument.
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]

    def __call__(self, a):
        return self.f(a)


def _sigmoid(a):
    # exp of a non-positive number never overflows: split by sign
    out = np.empty_like(a, dtype=np.float64)
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    ea = np.exp(a[~pos])
    out[~pos] = ea / (1.0 + ea)
    return out


def _dsigmoid(a):
    s = _sigmoid(a)
    return s * (1.0 - s)


def _dtanh(a):
    # 1 - tanh(a)^2, computed in one buffer (large temporaries are costly to allocate)
    t = np.tanh(a)
    np.multiply(t, t, out=t)
    return np.subtract(1.0, t, out=t)


_TABLE = {
    "identity": Activation("identity", lambda a: np.array(a, dtype=np.float64), np.ones_like),
    "tanh": Activation("tanh", np.tanh, _dtanh),
    "sigmoid": Activation("sigmoid", _sigmoid, _dsigmoid),
    # relu'(0) is taken as 0 (a subgradient); central differences disagree only exactly at a kink
    "relu": Activation("relu", lambda a: np.maximum(a, 0.0), lambda a: (a > 0).astype(np.float64)),
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
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"`{argname}` must be a string naming an activation, got {type(name).__name__}")
    try:
        return _TABLE[name]
    except KeyError:
        raise ValueError(f"`{argname}` must be one of {list(NAMES)}, got {name!r}") from None
