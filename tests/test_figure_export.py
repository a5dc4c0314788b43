"""adamedu.figure_export: a figure as vector layouts and tracks for displays without a kernel."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from adamedu import figure_export as fx  # noqa: E402
from adamedu import plots  # noqa: E402


def _grid_figure():
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), dpi=100, sharey=True)
    for i, ax in enumerate(axes):
        ax.plot(np.arange(10), np.arange(10) ** 2 + i, label=f"line {i}")
        ax.set(yscale="log", xlabel="step t", title=f"panel {i}")
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def test_export_of_a_figure_has_a_wide_and_a_stacked_narrow_layout_and_leaves_it_alone():
    fig = _grid_figure()
    positions = [ax.get_position().bounds for ax in fig.axes]
    sizes = [t.get_fontsize() for t in fig.axes[0].get_legend().get_texts()]
    open_figures = plt.get_fignums()
    export = fx.export_figure(fig)
    assert plt.get_fignums() == open_figures  # no copy left open for a notebook to show
    assert set(export.layouts) == {"wide", "narrow"}
    wide, narrow = export.layouts["wide"], export.layouts["narrow"]
    assert narrow.width <= fx.NARROW_WIDTH * 72 + 1 < wide.width
    assert narrow.height > wide.height  # the panels are stacked
    assert all(svg.startswith("<?xml") and "<svg" in svg for svg in wide.backgrounds.values())
    assert [ax.get_position().bounds for ax in fig.axes] == positions  # the figure is untouched
    assert [t.get_fontsize() for t in fig.axes[0].get_legend().get_texts()] == sizes
    plt.close(fig)


def test_narrow_copy_stacks_panels_in_order_with_readable_fonts_and_all_tick_labels():
    fig = _grid_figure()
    copy = fx.narrow_copy(fig)
    first, second = copy.axes
    assert first.get_position().y0 > second.get_position().y1  # first panel on top
    assert first.get_title() == "panel 0" and second.get_title() == "panel 1"
    texts = [t for t in copy.findobj(matplotlib.text.Text) if t.get_text()]
    assert min(t.get_fontsize() for t in texts) >= fx.MIN_FONT["narrow"]
    # the second panel shared its y axis with the first: stacked, it shows its own labels
    copy.canvas.draw()
    assert any(label.get_visible() and label.get_text() for label in second.get_yticklabels())
    plt.close(fig)


def test_figures_that_are_not_a_grid_of_panels_get_no_narrow_layout():
    fig = Figure(figsize=(6, 3))
    fig.add_axes((0.1, 0.1, 0.8, 0.8))
    fig.add_axes((0.6, 0.6, 0.2, 0.2))  # an inset
    assert fx.narrow_copy(fig) is None
    assert set(fx.export_figure(fig).layouts) == {"wide"}


def test_svg_is_the_same_in_every_run_and_can_leave_artists_out():
    fig = _grid_figure()
    line = fig.axes[0].get_lines()[0]
    first, second = fx.figure_svg(fig), fx.figure_svg(fig)
    assert first == second and "dc:date" not in first
    without = fx.figure_svg(fig, hidden=[line])
    assert len(without) < len(first) and line.get_visible()
    plt.close(fig)


def test_track_points_are_in_panel_units_with_y_down_and_breaks_at_gaps():
    fig, (ax,) = plots.new_figure(1)
    ax.set(xlim=(0, 10), ylim=(0, 1))
    (line,) = ax.plot([0, 5, np.nan, 10], [0, 1, 0.5, 0.25], marker="o")
    points = fx.track_points(line)
    assert points == [0, fx.AXES_UNITS, 5000, 0, None, None, fx.AXES_UNITS, 7500]
    (log_line,) = ax.plot([1, 2], [0.5, 0.5])
    ax.set_yscale("log")
    ax.set_ylim(0.1, 10)
    assert fx.track_points(log_line)[1] == pytest.approx(fx.AXES_UNITS * (1 - np.log10(5) / 2), abs=1)


def test_simplified_lines_stay_within_the_tolerance_and_markers_are_all_kept():
    x = np.linspace(0, 10_000, 3000)
    y = 5000 + 2000 * np.sin(x / 800)
    kept = fx.simplify(np.column_stack([x, y]), 3.0)
    assert len(kept) < 300 and tuple(kept[0]) == (0, 5000) and kept[-1, 0] == 10_000
    assert np.max(np.abs(np.interp(x, kept[:, 0], kept[:, 1]) - y)) <= 3.0 * 1.2
    fig, (ax,) = plots.new_figure(1)
    ax.set(xlim=(0, 1), ylim=(-1, 1))
    (dots,) = ax.plot(np.linspace(0, 1, 500), np.sin(np.linspace(0, 1, 500)), "o")
    assert len(fx.track_points(dots)) == 1000


def test_tracks_take_the_look_of_their_lines_and_refuse_markers_a_page_cannot_draw():
    fig, axes = plots.new_figure(2)
    (line,) = axes[1].plot([0, 1], [0, 1], color="#D55E00", lw=2.0, ls="--", alpha=0.5)
    track = fx.track_of(line, fig)
    assert (track.panel, track.color, track.alpha, track.linewidth) == (1, "#d55e00", 0.5, 2.0)
    assert track.dashes and track.marker is None and track.clip
    (dots,) = axes[0].plot([0], [0], ls="none", marker="s", ms=6, color="k")
    assert (fx.track_of(dots, fig).linewidth, fx.track_of(dots, fig).marker) == (0.0, "s")
    (stars,) = axes[0].plot([0], [0], marker="*")
    with pytest.raises(ValueError, match="Invalid marker"):
        fx.track_of(stars, fig)


def test_export_survives_json_and_refuses_another_version():
    import json

    export = fx.export_figure(_grid_figure())
    data = json.loads(json.dumps(export.to_json()))
    again = fx.FigureExport.from_json(data)
    assert again.layouts["wide"].backgrounds == export.layouts["wide"].backgrounds
    with pytest.raises(ValueError, match="version"):
        fx.FigureExport.from_json(dict(data, version=99))
    plt.close("all")


def test_the_formatter_adds_the_export_to_figures_only_without_a_live_frontend(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    shell = InteractiveShell.instance()
    set_matplotlib_formats("png")  # what the inline backend sets up in a kernel
    fx.register_formatter(shell)
    fig = _grid_figure()
    monkeypatch.setenv("ADAMEDU_FIGURES", "static")
    data, _ = shell.display_formatter.format(fig)
    assert fx.FIGURE_MIME in data and "image/png" in data
    monkeypatch.setenv("ADAMEDU_FIGURES", "live")
    data, _ = shell.display_formatter.format(fig)
    assert fx.FIGURE_MIME not in data and "image/png" in data
    plt.close(fig)


def test_meshes_and_crowded_collections_are_drawn_as_pixels_the_rest_as_shapes():
    """A 100 x 100 mesh as 10,000 vector cells weighs megabytes and shows seams between cells."""
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
    ax.pcolormesh(np.random.default_rng(0).random((100, 100)))
    ax.scatter(*np.random.default_rng(1).random((2, 50)))  # a few points stay shapes
    svg = fx.export_figure(fig).layouts["wide"].backgrounds["0"]
    assert svg.count("<image") == 1 and len(svg) < 300_000
    assert not fig.axes[0].collections[0].get_rasterized()  # on a copy: the figure is untouched
    plt.close(fig)


def test_a_long_title_wraps_in_the_narrow_layout_instead_of_shrinking_the_figure():
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
    ax.semilogx([0.01, 1, 10], [1, 2, 3])
    ax.set_title("noise model (lines) and simulation with adamedu.Adam (dots, ±4 SE), "
                 r"$\beta_2 = 0.999$", fontsize=8)
    narrow = fx.export_figure(fig).layouts["narrow"]
    assert narrow.width <= fx.NARROW_WIDTH * 72 + 1
    plt.close(fig)


def test_a_twin_axes_stays_with_its_panel_when_the_panels_are_stacked():
    fig, axes = plt.subplots(2, 2, figsize=(8, 4), dpi=100, sharex=True, sharey=True)
    twin = axes[1, 1].twinx()
    copy = fx.narrow_copy(fig)
    boxes = [ax.get_position().bounds for ax in copy.axes]
    assert len(set(boxes)) == 4  # four panels, one row each
    assert boxes[-1] == boxes[3]  # the twin shares the last panel's box
    heights = [b[3] for b in boxes]
    assert min(heights) > 0.15  # every panel keeps a readable height
    plt.close(fig)
    assert twin is not None
