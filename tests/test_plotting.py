"""The figure helpers: Axes returned, opaque backgrounds, a colour-blind-safe palette, retina
output, colour bars, offline animations, and a clear message when matplotlib is missing."""

import subprocess
import sys

import pytest

matplotlib = pytest.importorskip("matplotlib", reason="the figure helpers need matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import animation  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from lagprop import plotting  # noqa: E402


def test_book_style_gives_opaque_figures():
    style = plotting.book_style()
    assert style["figure.facecolor"] == "white" and not style["savefig.transparent"]
    assert matplotlib.rcParams["figure.facecolor"] == "white"


def test_book_style_cycles_through_the_okabe_ito_colours():
    plotting.book_style()
    cycle = [to_rgb(c["color"]) for c in matplotlib.rcParams["axes.prop_cycle"]]
    assert cycle == [to_rgb(c) for c in plotting.OKABE_ITO]
    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1])
    assert to_rgb(line.get_color()) == to_rgb("#0072B2")
    plt.close(fig)


def test_book_style_doubles_the_saved_pixels_and_keeps_labels_legible():
    plotting.book_style()
    assert matplotlib.rcParams["savefig.dpi"] == 2 * matplotlib.rcParams["figure.dpi"]
    fig, ax = plt.subplots(figsize=(2, 1))
    from io import BytesIO

    buf = BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    width = int.from_bytes(buf.getvalue()[16:20], "big")  # the PNG header's IHDR width
    assert width == 2 * 2 * matplotlib.rcParams["figure.dpi"]
    # label text (in px at the figure's 1x size) at least 80 % of a 16 px body text
    for key in ("font.size", "xtick.labelsize", "ytick.labelsize", "legend.fontsize"):
        size = matplotlib.rcParams[key]
        assert float(size) * matplotlib.rcParams["figure.dpi"] / 72 >= 0.8 * 16, key


def test_book_style_asks_ipython_for_retina_pngs():
    pytest.importorskip("IPython")
    pytest.importorskip("matplotlib_inline")
    code = (
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\n"
        "from lagprop import plotting\n"
        "plotting.book_style()\n"
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots(figsize=(2, 1), dpi=100)\nax.plot([0, 1])\n"
        "png, meta = ip.display_formatter.formatters['image/png'].lookup(fig)(fig)\n"
        "png = png if isinstance(png, bytes) else __import__('base64').b64decode(png)\n"
        "print(int.from_bytes(png[16:20], 'big'), meta['width'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"MPLBACKEND": "Agg", "PATH": ""}, timeout=120)
    assert out.returncode == 0, out.stderr
    pixels, shown = map(int, out.stdout.split()[-2:])
    assert abs(pixels - 2 * shown) <= 2 and shown > 100, "twice the pixels of the displayed width"


def test_book_style_outside_ipython_does_not_start_a_shell():
    code = ("from lagprop import plotting\nplotting.book_style()\n"
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "print(InteractiveShell.initialized())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"MPLBACKEND": "Agg", "PATH": ""}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_axes_returns_the_given_axes_or_a_new_one():
    fig, ax = plt.subplots()
    assert plotting.axes(ax) is ax
    new = plotting.axes()
    assert new is not ax and new.figure.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    plt.close("all")


def test_tie_map_adds_a_colour_bar_when_ids_are_not_written():
    tie = np.arange(30 * 30).reshape(30, 30) % 12
    ax = plotting.tie_map(tie)
    assert len(ax.figure.axes) == 2, "the colour bar is a second Axes"
    assert ax.figure.axes[1].get_ylabel() == "parameter id"
    plt.close("all")
    small = plotting.tie_map(np.array([[0, 1, -1], [1, 2, 0]]))
    assert len(small.figure.axes) == 1 and len(small.texts) == 5, "ids written, no colour bar"
    plt.close("all")


def test_colorbar_is_labelled():
    fig, ax = plt.subplots()
    image = ax.imshow(np.eye(3))
    bar = plotting.colorbar(image, label="output")
    assert bar.ax.get_ylabel() == "output" and len(fig.axes) == 2
    plt.close(fig)


def test_animation_html_makes_no_request_outside_the_page():
    fig, ax = plt.subplots(figsize=(1, 1), dpi=20)
    (line,) = ax.plot([0, 1], [0, 1])
    anim = animation.FuncAnimation(fig, lambda j: line.set_ydata([0, j]), frames=3)
    raw = anim.to_jshtml()
    html = plotting.animation_html(anim)
    plt.close(fig)
    assert "font-awesome" in raw  # what matplotlib does: a CDN stylesheet for the buttons
    assert "font-awesome" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html and "<img" in html


def test_without_matplotlib_the_message_says_what_to_install():
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None\n"  # an import of it now raises ImportError
        "import lagprop, lagprop.plotting as p\n"
        "try:\n"
        "    p.book_style()\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'pip install "lagprop[plot]"' in out.stdout


def test_animation_frames_have_twice_the_pixels_and_alt_text():
    import base64
    import re

    fig, ax = plt.subplots(figsize=(2, 1), dpi=50)
    (line,) = ax.plot([0, 1], [0, 1])
    anim = animation.FuncAnimation(fig, lambda j: line.set_ydata([0, j]), frames=2)
    html = plotting.animation_html(anim, alt="a line that tilts", default_mode="once")
    assert fig.get_dpi() == 50, "the figure is left as it was"
    plt.close(fig)
    assert 'alt="a line that tilts"' in html and "width: 100px" in html
    frame = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html.replace("\\n", ""))
    png = base64.b64decode(frame.group(1))
    assert int.from_bytes(png[16:20], "big") == 200, "frames hold twice the displayed pixels"
    with pytest.raises(ValueError, match="`scale`"):
        plotting.animation_html(anim, scale=0)


_E, _A = np.array([1e-3, 1e-2, 1e-1]), np.array([1e-6, 1e-4, 1e-2])
_BAD_PLOTS = [
    ("tie 1-D", lambda: plotting.tie_map(np.arange(3)), ValueError,
     r"^`tie` must be a non-empty 2-D array of parameter ids, got shape \(3,\)$"),
    ("tie fractional", lambda: plotting.tie_map(np.array([[0.5, 1.0]])), ValueError,
     r"^`tie` must hold integer ids, got a fractional value$"),
    ("tie below -1", lambda: plotting.tie_map(np.array([[0, -2]])), ValueError, r"^`tie` ids must be >= -1, got -2$"),
    ("tie huge", lambda: plotting.tie_map(np.array([[1e20]])), ValueError, r"^`tie` must hold integer ids below 2\*\*62"),
    ("fixed shape", lambda: plotting.tie_map(np.zeros((2, 2), int), fixed=np.zeros((2, 3))), ValueError,
     r"^`fixed` must have the shape of `tie`, \(2, 2\), got \(2, 3\)$"),
    ("influence eps 0", lambda: plotting.influence_plot([0.0, 1.0], [1.0, 1.0], [1.0, 1.0]), ValueError,
     r"^`eps` must hold at least one perturbation size, all > 0$"),
    ("influence length", lambda: plotting.influence_plot(_E, _A[:2], _A), ValueError,
     r"^`actual` must have shape \(3,\) like the x values, got \(2,\)$"),
    ("influence nan", lambda: plotting.influence_plot(_E, _A, [np.nan, 1.0, 1.0]), ValueError, r"^`predicted` must be finite"),
    ("cost series dict", lambda: plotting.gradient_cost_plot([1, 2], [([1, 2], "o-")], xlabel="n"), TypeError,
     r"^`series` must be a dict label -> \(values, style\), got list$"),
    ("cost series pair", lambda: plotting.gradient_cost_plot([1, 2], {"a": [1, 2]}, xlabel="n"), TypeError,
     r"^`series\['a'\]` must be a pair \(values, format string\), got list$"),
    ("cost series length", lambda: plotting.gradient_cost_plot([1, 2], {"a": ([1, 2, 3], "o-")}, xlabel="n"),
     ValueError, r"^`series\['a'\]` must have shape \(2,\) like the x values, got \(3,\)$"),
    ("ledger kind", lambda: plotting.plot_ledger({"t": [0.0]}), TypeError, r"^`ledger` must be a lagprop.energy.Ledger, got dict$"),
    ("sweep kind", lambda: plotting.convergence_times(None), TypeError,
     r"^`sweep` must be a lagprop.landscapes.MomentumSweep, got NoneType$"),
    ("sweeps kind", lambda: plotting.success_rates([1], ["a"]), TypeError,
     r"^`sweeps\[0\]` must be a lagprop.landscapes.MomentumSweep, got int$"),
    ("adjoint kind", lambda: plotting.adjoint_convergence("sweep"), TypeError,
     r"^`sweep` must be a lagprop.adjoint.ConvergenceSweep, got str$"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in _BAD_PLOTS], ids=[c[0] for c in _BAD_PLOTS])
def test_bad_input_raises_before_drawing(call, exc, match):
    before = plt.get_fignums()
    with pytest.raises(exc, match=match):
        call()
    assert plt.get_fignums() == before, "no figure is left behind by a refused call"


def test_success_rates_needs_one_label_per_sweep():
    from lagprop import landscapes

    stream = landscapes.tilted_double_well(0.25, n_patterns=5)
    sweep = landscapes.sweep_double_well(stream, [0.0, 0.5], eta=0.1, n_seeds=4, n_epochs=3)
    with pytest.raises(ValueError, match=r"^`labels` must hold one label per sweep \(1\), got 2$"):
        plotting.success_rates([sweep], ["a", "b"])
    ax = plotting.success_rates([sweep], ["a"])
    assert len(ax.lines) == 1
    plt.close("all")
