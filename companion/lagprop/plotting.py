"""Figure helpers for the book.

Every helper takes ``ax=None`` (a new figure is made when it is None), draws, and returns the
Axes; none calls ``show``. matplotlib is imported lazily, so the rest of lagprop never needs it.
Figures get an opaque white background so they read in the book's dark mode too.
"""

__all__ = ["book_style", "axes"]

_STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}


def book_style():
    """Apply the book's matplotlib defaults (opaque white background, light grid) and return them."""
    import matplotlib as mpl

    mpl.rcParams.update(_STYLE)
    return dict(_STYLE)


def axes(ax=None, **subplots_kw):
    """Return ``ax``, or the Axes of a new figure drawn in the book's style when ``ax`` is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    book_style()
    _, ax = plt.subplots(**subplots_kw)
    return ax
