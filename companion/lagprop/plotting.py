"""Figure helpers for the book.

Every helper takes ``ax=None`` (a new figure is made when it is None), draws, and returns the
Axes; none calls ``show``. matplotlib is imported lazily, so the rest of lagprop never needs it
(install it with ``pip install "lagprop[plot]"``).

:func:`book_style` sets the book's figure defaults: an opaque white background (figures read in
the book's dark mode too), the Okabe-Ito colour cycle (distinguishable under the common forms of
colour blindness), label text that stays at least 80 % of the body text where the figure is shown,
and twice the pixels (retina PNGs) for high-density screens.
"""

__all__ = [
    "OKABE_ITO",
    "book_style",
    "axes",
    "colorbar",
    "influence_plot",
    "gradient_cost_plot",
    "tie_map",
    "adjoint_convergence",
    "plot_ledger",
    "success_rates",
    "convergence_times",
    "animation_html",
    "slider_figure",
    "SliderFigure",
]


def __dir__():
    return list(__all__)


#: The Okabe-Ito palette (Okabe and Ito, *Color Universal Design*, 2008), black moved last: a
#: colour cycle that stays distinguishable under deuteranopia, protanopia and tritanopia.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442",
             "#000000")

_STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 200,  # twice the pixels of the screen figure: sharp on a 2x display
    "font.size": 11.0,
    "axes.titlesize": 11.0,
    "axes.labelsize": 11.0,
    "xtick.labelsize": 10.0,
    "ytick.labelsize": 10.0,
    "legend.fontsize": 10.0,
    "image.cmap": "viridis",  # perceptually uniform and colour-blind safe
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}


def _kind(obj, module, cls, name):
    """Check that ``obj`` is a ``lagprop.<module>.<cls>`` (imported here, not at import)."""
    import importlib

    kind = getattr(importlib.import_module(f"lagprop.{module}"), cls)
    if not isinstance(obj, kind):
        raise TypeError(f"`{name}` must be a lagprop.{module}.{cls}, got "
                        f"{type(obj).__name__}")
    return obj


def _series(x, name, m=None):
    """A finite 1-D array (of ``m`` entries when given)."""
    from ._validate import as_float_array

    arr = as_float_array(x, name, ndim=1)
    if m is not None and arr.shape != (m,):
        raise ValueError(f"`{name}` must have shape ({m},) like the x values, got "
                         f"{arr.shape}")
    return arr


def _matplotlib():
    """Import matplotlib, or say how to install it."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - exercised by a test that hides matplotlib
        raise ImportError(
            "lagprop.plotting needs matplotlib: install it with `pip install \"lagprop[plot]\"`"
        ) from exc
    return matplotlib


def _pyplot():
    _matplotlib()
    import matplotlib.pyplot as plt

    return plt


def _retina_inline():
    """Ask IPython's inline backend for retina PNGs (twice the pixels, shown at the same size)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return False
    set_matplotlib_formats("retina")
    return True


def book_style():
    """Apply the book's matplotlib defaults and return them.

    Opaque white background, light grid, the :data:`OKABE_ITO` colour cycle, 11-point labels
    (10-point ticks and legends), figures saved at 200 dpi, and, inside IPython, retina PNG output
    of the inline backend (the PNG holds twice the pixels of its displayed size).

    Returns
    -------
    dict
        The rcParams that were set (``axes.prop_cycle`` included).
    """
    mpl = _matplotlib()
    from cycler import cycler

    style = dict(_STYLE, **{"axes.prop_cycle": cycler(color=list(OKABE_ITO))})
    mpl.rcParams.update(style)
    _retina_inline()
    return style


def axes(ax=None, **subplots_kw):
    """Return ``ax``, or the Axes of a new figure drawn in the book's style when ``ax`` is None."""
    if ax is not None:
        return ax
    plt = _pyplot()
    book_style()
    _, ax = plt.subplots(**subplots_kw)
    return ax


def adjoint_convergence(sweep, ax=None):
    """Log-log plot of a :class:`lagprop.adjoint.Sweep`: the errors of the Euler state, of the
    discrete costate gradient and of the Euler-stepped adjoint gradient against the step h, with a
    slope-one guide. Returns the Axes."""
    import numpy as np

    _kind(sweep, "adjoint", "ConvergenceSweep", "sweep")
    ax = axes(ax)
    h = np.asarray(sweep.h)
    ax.loglog(h, sweep.state_error, "s-", label=f"state $X(N)$ (order {sweep.order_state:.1f})")
    ax.loglog(h, sweep.dto_error, "o-", label=f"discretise then optimise (order {sweep.order_dto:.1f})")
    ax.loglog(h, sweep.otd_error, "^-", label=f"optimise then discretise (order {sweep.order_otd:.1f})")
    guide = sweep.dto_error[0] * h / h[0] / 3.0
    ax.loglog(h, guide, "k:", label="slope 1")
    ax.set_xlabel("step $h = T/N$")
    ax.set_ylabel("relative error")
    ax.legend()
    return ax


def colorbar(mappable, ax=None, *, label=None):
    """Add a colour bar for ``mappable`` (an image or contour set) beside its Axes, with a label.

    Every figure where colour encodes a value needs one; returns the matplotlib Colorbar.
    """
    plt = _pyplot()
    ax = ax if ax is not None else mappable.axes
    bar = plt.colorbar(mappable, ax=ax)
    if label:
        bar.set_label(label)
    return bar


def tie_map(tie, ax=None, *, fixed=None, title=None, annotate=None):
    """Draw a tie map (an integer array of parameter ids, -1 for a fixed weight) as an image.

    Each shared parameter gets its own colour (the :data:`OKABE_ITO` colours for at most eight
    parameters, viridis beyond); fixed weights (id -1) are left blank, except those whose value in
    ``fixed`` (an array of the same shape, optional) is nonzero, which are drawn in grey. With
    ``annotate`` (default: when the array has at most 200 entries) every coloured entry shows its id
    (or its fixed value); without it, a colour bar gives the id of each colour. Used by the chapter
    on transformed parameter spaces (``lagprop.sharing``).
    """
    _matplotlib()
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.ticker import MaxNLocator

    from ._validate import as_float_array, integer_ids

    tie = integer_ids(tie, "tie", minimum=-1)
    if tie.ndim != 2 or tie.size == 0:
        raise ValueError("`tie` must be a non-empty 2-D array of parameter ids, got "
                         f"shape {tie.shape}")
    if fixed is not None:
        fixed = as_float_array(fixed, "fixed")
        if fixed.shape != tie.shape:
            raise ValueError(f"`fixed` must have the shape of `tie`, {tie.shape}, got "
                             f"{fixed.shape}")
    ax = axes(ax)
    n = max(int(tie.max()) + 1, 1)
    if fixed is not None:
        grey = np.ma.masked_where((tie >= 0) | (fixed == 0), np.ones(tie.shape))
        ax.imshow(grey, cmap="Greys", vmin=0, vmax=4, interpolation="nearest", aspect="equal")
    cmap = ListedColormap(list(OKABE_ITO[:n])) if n <= 7 else "viridis"
    image = ax.imshow(np.ma.masked_less(tie, 0), cmap=cmap, vmin=-0.5, vmax=n - 0.5,
                      interpolation="nearest", aspect="equal", alpha=0.75)
    ax.set_xlim(-0.5, tie.shape[1] - 0.5)
    ax.set_ylim(tie.shape[0] - 0.5, -0.5)
    ax.grid(False)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("input unit $j$")
    ax.set_ylabel("output unit $i$")
    if annotate is None:
        annotate = tie.size <= 200
    if annotate:
        for (i, j), q in np.ndenumerate(tie):
            if q >= 0:
                ax.text(j, i, str(q), ha="center", va="center", fontsize=8)
            elif fixed is not None and fixed[i, j] != 0:
                ax.text(j, i, f"{fixed[i, j]:g}", ha="center", va="center", fontsize=8, color="0.3")
    else:
        colorbar(image, ax, label="parameter id")
    if title:
        ax.set_title(title)
    return ax


def influence_plot(eps, actual, predicted, ax=None):
    r"""Log-log plot of a first-order prediction against the actual change, and their gap.

    Draws :math:`|\Delta C|` (actual), :math:`|\langle -B, \delta\rangle|` (predicted), the
    remainder :math:`|\Delta C - \text{predicted}|` and a slope-2 guide, against the size ``eps``.

    Parameters
    ----------
    eps : array_like, shape (M,)
        Perturbation sizes, positive.
    actual, predicted : array_like, shape (M,)
        The measured change of the cost and its first-order prediction.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ValueError
        ``eps`` empty, not 1-D or not positive; ``actual`` or ``predicted`` of another
        length; non-finite values.
    """
    import numpy as np

    eps = _series(eps, "eps")
    if eps.size == 0 or np.any(eps <= 0):
        raise ValueError("`eps` must hold at least one perturbation size, all > 0")
    actual = _series(actual, "actual", eps.size)
    predicted = _series(predicted, "predicted", eps.size)
    ax = axes(ax)
    rem = np.abs(actual - predicted)
    ax.loglog(eps, np.abs(actual), "o", ms=4, label=r"actual $|\Delta C|$")
    ax.loglog(eps, np.abs(predicted), "-", label=r"predicted $|\langle B(k), \delta\rangle|$")
    ax.loglog(eps, rem, "s", ms=4, label="remainder (actual - predicted)")
    i = len(eps) // 2
    ax.loglog(eps, rem[i] * (eps / eps[i]) ** 2, "k:", lw=1, label=r"slope 2 guide")
    ax.set_xlabel(r"perturbation size $\varepsilon = \|\delta\|$")
    ax.set_ylabel("change of the cost")
    ax.legend()
    return ax


def gradient_cost_plot(x, series, *, xlabel, ylabel="cost in forward passes", logx=True, logy=False,
                       ax=None):
    """Plot several cost ratios (given as ``{label: (values, style)}``) against ``x``.

    Parameters
    ----------
    x : array_like, shape (M,)
    series : dict
        ``label -> (values of shape (M,), matplotlib format string)``.
    xlabel, ylabel : str, keyword-only
    logx, logy : bool, keyword-only
        Logarithmic axes.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    TypeError
        ``series`` not a dict of ``(values, style)`` pairs.
    ValueError
        ``x`` not 1-D, or values of another length or not finite.
    """
    x = _series(x, "x")
    if not isinstance(series, dict):
        raise TypeError(f"`series` must be a dict label -> (values, style), got "
                        f"{type(series).__name__}")
    checked = {}
    for label, pair in series.items():
        pair_ok = isinstance(pair, (tuple, list)) and len(pair) == 2
        if not (pair_ok and isinstance(pair[1], str)):
            raise TypeError(f"`series[{label!r}]` must be a pair (values, format string), "
                            f"got {type(pair).__name__}")
        checked[label] = (_series(pair[0], f"series[{label!r}]", x.size), pair[1])
    ax = axes(ax)
    for label, (values, style) in checked.items():
        ax.plot(x, values, style, label=label)
    if logx:
        ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def success_rates(sweeps, labels, ax=None):
    """Success rate against momentum rho for several :class:`lagprop.landscapes.MomentumSweep` objects,
    each with its 95 % Wilson band. The x axis is -log10(1 - rho) (rho = 0, 0.9, 0.99 evenly
    spaced). Returns the Axes."""
    import numpy as np

    sweeps, labels = list(sweeps), list(labels)
    for i, sw in enumerate(sweeps):
        _kind(sw, "landscapes", "MomentumSweep", f"sweeps[{i}]")
    if len(labels) != len(sweeps):
        raise ValueError(f"`labels` must hold one label per sweep ({len(sweeps)}), got "
                         f"{len(labels)}")
    ax = axes(ax)
    for sw, lab in zip(sweeps, labels):
        x = -np.log10(1 - sw.rho + 1e-3)
        lo, hi = sw.interval
        line, = ax.plot(x, sw.rate, "o-", label=lab)
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2)
    ticks = np.array([0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99])
    ax.set_xticks(-np.log10(1 - ticks + 1e-3))
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.set_xlabel(r"momentum $\rho = e^{-\beta\Delta}$ (small dissipation to the right)")
    ax.set_ylabel("success rate (95% Wilson band)")
    ax.set_ylim(0, 1)
    ax.legend()
    return ax


def convergence_times(sweep, ax=None, *, title=None):
    """Box plots of the time to converge of the successful seeds of a
    :class:`lagprop.landscapes.MomentumSweep`, one box per momentum. Returns the Axes."""
    _kind(sweep, "landscapes", "MomentumSweep", "sweep")
    ax = axes(ax)
    data = [sweep.time[r][sweep.success[r]] for r in range(sweep.rho.size)]
    keep = [i for i, d in enumerate(data) if d.size]
    ax.boxplot([data[i] for i in keep], positions=range(len(keep)), widths=0.6, showfliers=True,
               flierprops=dict(markersize=2))
    ax.set_xticks(range(len(keep)))
    ax.set_xticklabels([f"{sweep.rho[i]:g}" for i in keep])
    ax.set_yscale("log")
    ax.set_xlabel(r"momentum $\rho$")
    ax.set_ylabel(f"time to converge ({sweep.unit})")
    if title:
        ax.set_title(title)
    return ax


def plot_ledger(ledger, ax=None, *, instants=None):
    """Draw an energy ledger (:class:`lagprop.energy.Ledger`): T, D, W_sup and their total against time.

    ``instants`` (optional, shape (K,)) marks the supervision instants with thin vertical lines.
    Returns the Axes.
    """
    _kind(ledger, "energy", "Ledger", "ledger")
    if instants is not None:
        instants = _series(instants, "instants")
    ax = axes(ax)
    ax.plot(ledger.t, ledger.T, label="kinetic $T$")
    ax.plot(ledger.t, ledger.D, label="dissipated $D$")
    ax.plot(ledger.t, ledger.W_sup, label=r"work against supervision $W_{\rm sup}$")
    ax.plot(ledger.t, ledger.total, "k--", lw=1, label=r"$T + D + W_{\rm sup}$")
    if instants is not None:
        for tk in instants:
            ax.axvline(tk, color="0.85", lw=0.5, zorder=0)
    ax.set_xlabel("time $t$")
    ax.set_ylabel("energy")
    ax.legend()
    return ax


def animation_html(anim, *, alt=None, scale=2, **to_jshtml_kw):
    """The HTML of a matplotlib animation, for a book that reads offline and on sharp screens.

    ``anim.to_jshtml()`` links Font Awesome from a CDN for its play buttons; this returns the same
    HTML without that stylesheet (the book's theme ships its own copy of the icons), so a page
    holding an animation makes no request outside the site. The frames are drawn with ``scale``
    times the figure's pixels and shown at the figure's size (retina frames), and the frame image
    carries the alt text ``alt``.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
    alt : str, optional
        What the animation shows, for readers who cannot see it (the ``alt`` of its frames).
    scale : int, keyword-only
        Pixels per displayed pixel of each frame, 1 or more (default 2).
    **to_jshtml_kw
        Passed to ``anim.to_jshtml`` (``fps``, ``embed_frames``, ``default_mode``).

    Returns
    -------
    str
    """
    import html as _html
    import re

    mpl = _matplotlib()
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"`scale` must be an integer >= 1, got {scale!r}")
    fig = anim._fig
    dpi = fig.get_dpi()
    width = int(round(fig.get_size_inches()[0] * dpi))
    with mpl.rc_context({"savefig.dpi": dpi * scale}):  # the frames are saved at this density
        page = anim.to_jshtml(**to_jshtml_kw)
    page = re.sub(r"<link[^>]*font-awesome[^>]*>\s*", "", page)
    attrs = f'style="width: {width}px; max-width: 100%; height: auto"'
    if alt:
        attrs += f' alt="{_html.escape(alt, quote=True)}"'
    return re.sub(r"<img\b", f"<img {attrs}", page, count=1)


def slider_figure(draw, values, *, value, label, alt, name, figsize=(6.0, 3.0),
                  scale=2, fmt="{:g}", colors=64):
    """A figure drawn at several values of one parameter, to be driven by a slider.

    ``draw(fig, v)`` draws the figure for the parameter value ``v`` into an empty
    :class:`matplotlib.figure.Figure`. The returned :class:`SliderFigure` shows, in a
    web page, every frame (drawn when it is displayed) behind an HTML range slider that
    needs no kernel (the book's ``lagprop.js`` switches the frames; without the script
    the frame at ``value`` shows); in print, the frame at ``value`` (``image/png``);
    and, through :meth:`SliderFigure.live`, a live ``ipywidgets`` slider in a running
    notebook.

    Parameters
    ----------
    draw : callable
        ``draw(fig, v)``: draws the figure at the value ``v`` into ``fig``; its return
        value is ignored.
    values : sequence of float
        The values the slider offers, at least two, distinct, in the slider's order.
    value : float, keyword-only
        The reference value, one of ``values``: the frame shown first and in print.
    label : str, keyword-only
        The parameter's name in plain text (``"βΔ"``): the slider's accessible label.
    alt : str, keyword-only
        What the figure shows, for readers who cannot see it; each frame's alt text is
        this followed by the value.
    name : str, keyword-only
        A name unique on the page (letters, digits, ``-``, ``_``): the slider's HTML id.
    figsize : tuple of float, keyword-only
        The figure's size in inches, shown at 100 pixels per inch (default
        ``(6.0, 3.0)``).
    scale : int, keyword-only
        Pixels per displayed pixel of each frame, 1 or more (default 2: sharp on a 2x
        screen).
    fmt : str, keyword-only
        How a value is printed (default ``"{:g}"``).
    colors : int, keyword-only
        The page's frames are PNGs with a palette of this many colours, 16 to 256
        (default 64): a line figure loses nothing visible and weighs a third of the
        full-colour PNG.

    Returns
    -------
    SliderFigure

    Raises
    ------
    TypeError
        If ``draw`` is not callable.
    ValueError
        If ``values`` has fewer than two entries, repeats one, or lacks ``value``; if
        ``name`` holds other characters; if ``label`` or ``alt`` is empty; if ``scale``
        or ``colors`` is out of range.
    """
    return SliderFigure(draw, values, value=value, label=label, alt=alt, name=name,
                        figsize=figsize, scale=scale, fmt=fmt, colors=colors)


def _distinct(values):
    values = list(values)
    if len(values) < 2 or len(set(values)) != len(values):
        raise ValueError(
            f"`values` must hold at least two distinct values, got {values!r}")
    return values


class SliderFigure:
    """A figure at several values of one parameter (made by :func:`slider_figure`).

    In IPython it displays as a bundle: ``text/html`` (every frame behind an HTML range
    slider, for web pages), ``image/png`` (the frame at the reference value, for print
    and for front ends that show no HTML) and ``text/plain``. :meth:`live` is the same
    figure with a live ``ipywidgets`` slider.
    """

    def __init__(self, draw, values, *, value, label, alt, name, figsize=(6.0, 3.0),
                 scale=2, fmt="{:g}", colors=64):
        import re

        if not callable(draw):
            raise TypeError(
                f"`draw` must be callable as draw(fig, value), got {draw!r}")
        values = _distinct(values)
        if value not in values:
            raise ValueError(
                f"`value` must be one of `values` {values!r}, got {value!r}")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][\w-]*", name):
            raise ValueError("`name` must be letters, digits, '-' or '_', starting "
                             f"with a letter, got {name!r}")
        if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
            raise ValueError(f"`scale` must be an integer >= 1, got {scale!r}")
        if (isinstance(colors, bool) or not isinstance(colors, int)
                or not 16 <= colors <= 256):
            raise ValueError(
                f"`colors` must be an integer from 16 to 256, got {colors!r}")
        for what, text in (("label", label), ("alt", alt)):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(
                    f"`{what}` must be a non-empty string, got {text!r}")
        self.draw, self.values, self.value = draw, values, value
        self.label, self.alt, self.name = label, alt, name
        self.figsize, self.scale = tuple(figsize), scale
        self.fmt, self.colors = fmt, colors
        self._png = {}

    def text(self, v):
        """The value ``v`` as the slider reads it out: ``"βΔ = 0.2"``."""
        return f"{self.label} = {self.fmt.format(v)}"

    def png(self, v, *, palette=False):
        """The PNG of the figure at ``v`` (bytes); a palette PNG when ``palette``.

        Each value is drawn once; both forms are kept.
        """
        import io

        if (v, False) not in self._png:
            _matplotlib()
            from matplotlib.figure import Figure

            fig = Figure(figsize=self.figsize, dpi=100)  # not pyplot's: none left open
            self.draw(fig, v)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=100 * self.scale, facecolor="white",
                        metadata={"Software": None})
            self._png[v, False] = buf.getvalue()
        if palette and (v, True) not in self._png:
            from PIL import Image

            small = io.BytesIO()
            img = Image.open(io.BytesIO(self._png[v, False])).convert("RGB")
            img.quantize(self.colors, method=Image.Quantize.FASTOCTREE).save(
                small, format="png", optimize=True)
            self._png[v, True] = small.getvalue()
        return self._png[v, palette]

    def _size(self):
        return [int(round(100 * x)) for x in self.figsize]

    def html(self):
        """The page's form: every frame (palette PNGs) behind a range slider (a str)."""
        import base64
        import html as _html

        def esc(s):
            return _html.escape(s, quote=True)

        width, height = self._size()
        ref = self.values.index(self.value)
        imgs = []
        for k, v in enumerate(self.values):
            src = base64.b64encode(self.png(v, palette=True)).decode("ascii")
            imgs.append(
                f'<img src="data:image/png;base64,{src}" alt="{esc(self.alt)} '
                f'({esc(self.text(v))})" data-lp-text="{esc(self.text(v))}" '
                f'width="{width}" height="{height}" style="width: {width}px; '
                f'max-width: 100%; height: auto"' + ("" if k == ref else " hidden")
                + ">")
        slider = f"{self.name}-slider"
        now = esc(self.text(self.value))
        return (
            f'<div class="lp-drivable" id="{self.name}-drivable">'
            f'<div class="lp-drivable-frames">{"".join(imgs)}</div>'
            '<div class="lp-drivable-control" hidden>'
            f'<label for="{slider}">{esc(self.label)}</label>'
            f'<input type="range" id="{slider}" min="0" '
            f'max="{len(self.values) - 1}" step="1" value="{ref}" '
            f'aria-valuetext="{now}">'
            f'<output for="{slider}" aria-hidden="true">{now}</output></div></div>')

    def _repr_mimebundle_(self, include=None, exclude=None):
        import base64

        width, height = self._size()
        png = base64.b64encode(self.png(self.value)).decode("ascii")
        data = {"text/html": self.html(), "image/png": png,
                "text/plain": f"<figure at {self.text(self.value)}; a slider over "
                              f"{len(self.values)} values>"}
        return data, {"image/png": {"width": width, "height": height}}

    def live(self, values=None):
        """The figure with a live ``ipywidgets`` slider (for a running notebook).

        Parameters
        ----------
        values : sequence of float, optional
            The slider's values (default: the figure's); each frame is drawn when the
            slider first reaches it.

        Returns
        -------
        ipywidgets.VBox or object
            The slider above the picture. Without ``ipywidgets``, or with the
            environment variable ``LAGPROP_STATIC_FIGURES`` set (the book's build sets
            it, so that its pages carry no widget state), an object that displays a
            line of text saying so (no picture: the page and the print show the
            figure's own, and a reader notebook shows it under the cell).

        Raises
        ------
        ValueError
            If ``values`` has fewer than two entries or repeats one.
        """
        import os

        values = self.values if values is None else _distinct(values)
        try:
            if os.environ.get("LAGPROP_STATIC_FIGURES"):
                raise ImportError("LAGPROP_STATIC_FIGURES is set")
            import ipywidgets
        except ImportError:
            return _NoSlider(self)
        start = min(values, key=lambda v: abs(v - self.value))
        width, _ = self._size()
        slider = ipywidgets.SelectionSlider(
            options=[(self.fmt.format(v), v) for v in values], value=start,
            description=self.label, continuous_update=False,
            layout=ipywidgets.Layout(width=f"{width}px", max_width="100%"))
        picture = ipywidgets.Image(
            value=self.png(start), format="png",
            layout=ipywidgets.Layout(width=f"{width}px", max_width="100%"))

        def redraw(change):
            picture.value = self.png(change["new"])

        slider.observe(redraw, names="value")
        return ipywidgets.VBox([slider, picture])


class _NoSlider:
    """What :meth:`SliderFigure.live` shows without ``ipywidgets``: one line of text."""

    def __init__(self, figure):
        self.figure = figure

    def __repr__(self):
        return (f"<a live slider over {self.figure.label}: run this cell where "
                "ipywidgets is installed>")
