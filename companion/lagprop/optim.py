r"""First-order optimisers on lists of parameter arrays: SGD with momentum and Adam.

The costate pass gives :math:`g = \partial C / \partial \theta`; these rules turn a sequence
of such gradients into steps. Parameters and gradients are lists of float64 arrays of matching
shapes (any nesting flattened by the caller); each ``step`` returns new arrays and keeps its
own state (velocity, moment estimates).

* :class:`Momentum` -- heavy-ball SGD (Polyak 1964), as in PyTorch:
  :math:`u \leftarrow \mu u + g`, :math:`\theta \leftarrow \theta - \eta u`.
* :class:`Adam` -- Kingma and Ba (2015), with bias-corrected moment estimates.
"""

import numpy as np

from ._validate import as_float_array, positive_scalar, real_scalar

__all__ = ["Momentum", "Adam"]


def _check_lists(params, grads):
    if not isinstance(params, (list, tuple)) or not isinstance(grads, (list, tuple)):
        raise TypeError(f"`params` and `grads` must be lists of arrays, got {type(params).__name__} "
                        f"and {type(grads).__name__}")
    if len(params) != len(grads):
        raise ValueError(f"`grads` must have {len(params)} arrays like `params`, got {len(grads)}")
    P = [as_float_array(p, f"params[{i}]") for i, p in enumerate(params)]
    G = [as_float_array(g, f"grads[{i}]") for i, g in enumerate(grads)]
    for i, (p, g) in enumerate(zip(P, G)):
        if p.shape != g.shape:
            raise ValueError(f"`grads[{i}]` must have shape {p.shape}, got {g.shape}")
    return P, G


class Momentum:
    r"""Stochastic gradient descent with (heavy-ball) momentum.

    .. math:: u_t = \mu\, u_{t-1} + g_t, \qquad \theta_t = \theta_{t-1} - \eta\, u_t,
              \qquad u_0 = 0.

    Parameters
    ----------
    lr : float
        Step size :math:`\eta > 0`.
    momentum : float
        :math:`\mu \in [0, 1)`; 0 is plain gradient descent.
    """

    def __init__(self, lr, momentum=0.9):
        self.lr = positive_scalar(lr, "lr")
        self.momentum = real_scalar(momentum, "momentum", low=0.0, high=1.0, high_open=True)
        self._u = None

    def step(self, params, grads):
        """One step: returns the new parameters (a list of new arrays)."""
        P, G = _check_lists(params, grads)
        if self._u is None:
            self._u = [np.zeros_like(g) for g in G]
        self._u = [self.momentum * u + g for u, g in zip(self._u, G)]
        return [p - self.lr * u for p, u in zip(P, self._u)]


class Adam:
    r"""Adam (Kingma and Ba 2015, Algorithm 1).

    .. math::

        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2,

        \theta_t = \theta_{t-1} - \eta\, \frac{m_t / (1 - \beta_1^t)}
        {\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}, \qquad m_0 = v_0 = 0.

    Parameters
    ----------
    lr : float
        :math:`\eta > 0`.
    beta1, beta2 : float
        Decay rates in [0, 1).
    eps : float
        :math:`\epsilon > 0`.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = positive_scalar(lr, "lr")
        self.beta1 = real_scalar(beta1, "beta1", low=0.0, high=1.0, high_open=True)
        self.beta2 = real_scalar(beta2, "beta2", low=0.0, high=1.0, high_open=True)
        self.eps = positive_scalar(eps, "eps")
        self.t = 0
        self._m = self._v = None

    def step(self, params, grads):
        """One step: returns the new parameters (a list of new arrays)."""
        P, G = _check_lists(params, grads)
        if self._m is None:
            self._m = [np.zeros_like(g) for g in G]
            self._v = [np.zeros_like(g) for g in G]
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        out = []
        for i, (p, g) in enumerate(zip(P, G)):
            self._m[i] = b1 * self._m[i] + (1.0 - b1) * g
            self._v[i] = b2 * self._v[i] + (1.0 - b2) * g * g
            out.append(p - self.lr * (self._m[i] / c1) / (np.sqrt(self._v[i] / c2) + self.eps))
        return out
