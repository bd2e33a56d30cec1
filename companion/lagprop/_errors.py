"""Exceptions raised by lagprop."""

import textwrap


class ConvergenceError(RuntimeError):
    """A relaxation or iterative solve did not converge.

    The message reports the iterations used, the last residual and, where it explains the failure,
    the spectral radius of the iteration. The same numbers are kept as attributes. The message is
    wrapped to lines of at most 88 characters so that it prints readably; ``diagnosis`` holds it on
    one line.

    Attributes
    ----------
    iterations : int
        Iterations (or steps) taken before giving up.
    residual : float
        The last residual norm.
    spectral_radius : float or None
        Spectral radius of the linearised iteration, where it applies.
    diagnosis : str
        The message on one line.
    """

    def __init__(self, message, *, iterations=None, residual=None, spectral_radius=None):
        #: the message on one line (``str(error)`` is the same text wrapped at 88 columns)
        self.diagnosis = " ".join(str(message).split())
        super().__init__(_wrap(self.diagnosis))
        self.iterations = iterations
        self.residual = residual
        self.spectral_radius = spectral_radius


def _wrap(text, width=88):
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=False,
                                    break_on_hyphens=False)) or text
