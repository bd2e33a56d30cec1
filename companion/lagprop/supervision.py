r"""Supervision in time: the mollifier that spreads one supervised example over a short window.

Frandina et al. (2013) present the supervised pair :math:`(x_k, y_k)` at the instant :math:`t_k`
and smooth the Dirac impulse :math:`\delta(t - t_k)` with the mollifier

.. math::

    \zeta_\varepsilon(\tau) = Z_\varepsilon \exp\!\Big(1 - \frac{\varepsilon^2}{\varepsilon^2 - \tau^2}\Big)
    \quad (|\tau| < \varepsilon), \qquad \zeta_\varepsilon(\tau) = 0 \quad (|\tau| \ge \varepsilon),

with :math:`Z_\varepsilon = 1/(\varepsilon I_1)`,
:math:`I_1 = \int_{-1}^{1} \exp(1 - 1/(1 - s^2))\, ds`, so that it has unit mass.
"""

import numpy as np

from ._validate import positive_scalar

__all__ = ["I1", "mollifier", "mollifier_normaliser"]

#: :math:`\int_{-1}^{1} \exp(1 - 1/(1-s^2))\,ds`, computed with scipy.integrate.quad (checked in tests).
I1 = 1.2069003224378765


def mollifier_normaliser(eps):
    r"""The constant :math:`Z_\varepsilon = 1/(\varepsilon I_1)` that gives the mollifier unit mass."""
    return 1.0 / (positive_scalar(eps, "eps") * I1)


def mollifier(tau, eps):
    r"""The unit-mass mollifier :math:`\zeta_\varepsilon(\tau)` (Frandina et al. 2013, Section 2).

    .. math::

        \zeta_\varepsilon(\tau) = \frac{1}{\varepsilon I_1}
        \exp\!\Big(1 - \frac{\varepsilon^2}{\varepsilon^2 - \tau^2}\Big)\,\mathbb 1(|\tau| < \varepsilon)

    It is infinitely differentiable, vanishes outside :math:`(-\varepsilon, \varepsilon)`,
    integrates to one, and tends weakly to the Dirac delta as :math:`\varepsilon \to 0`.

    Parameters
    ----------
    tau : float or array_like
        Time offsets from the supervision instant.
    eps : float
        Half-width of the support, > 0.

    Returns
    -------
    ndarray
        :math:`\zeta_\varepsilon(\tau)`, the shape of ``tau`` (a 0-d array for scalar input).

    Raises
    ------
    ValueError
        If ``eps`` is not a finite positive number.
    """
    eps = positive_scalar(eps, "eps")
    tau = np.asarray(tau, dtype=np.float64)
    s2 = (tau / eps) ** 2
    inside = s2 < 1.0
    out = np.zeros_like(tau)
    out[inside] = np.exp(1.0 - 1.0 / (1.0 - s2[inside])) / (eps * I1)
    return out
