"""The figure helpers: Axes returned, opaque backgrounds, offline animations."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import animation  # noqa: E402

from lagprop import plotting  # noqa: E402


def test_book_style_gives_opaque_figures():
    style = plotting.book_style()
    assert style["figure.facecolor"] == "white" and not style["savefig.transparent"]
    assert matplotlib.rcParams["figure.facecolor"] == "white"


def test_axes_returns_the_given_axes_or_a_new_one():
    fig, ax = plt.subplots()
    assert plotting.axes(ax) is ax
    new = plotting.axes()
    assert new is not ax and new.figure.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    plt.close("all")


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
