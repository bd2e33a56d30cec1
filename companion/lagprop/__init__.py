"""lagprop: the companion package of *Backpropagation from Lagrangians*.

Back-propagation as the stationarity conditions of a Lagrange function (le Cun 1988) and online
back-propagation as a least-action principle (Frandina, Gori, Lippi, Maggini and Melacci 2013),
in small NumPy functions whose names follow the papers' symbols.
"""

__version__ = "0.2.0"

from ._errors import ConvergenceError  # noqa: E402

__all__ = ["ConvergenceError", "__version__"]
