"""Exceptions raised by lagprop."""


class ConvergenceError(RuntimeError):
    """A relaxation or iterative solve did not converge.

    The message reports the iterations used, the last residual and, where it explains the failure,
    the spectral radius of the iteration. The same numbers are kept as attributes.

    Attributes
    ----------
    iterations : int
        Iterations (or steps) taken before giving up.
    residual : float
        The last residual norm.
    spectral_radius : float or None
        Spectral radius of the linearised iteration, where it applies.
    """

    def __init__(self, message, *, iterations=None, residual=None, spectral_radius=None):
        super().__init__(message)
        self.iterations = iterations
        self.residual = residual
        self.spectral_radius = spectral_radius
