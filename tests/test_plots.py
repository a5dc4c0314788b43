"""adamedu.plots: draw_* put the given data on the axes, update_* move new data in place, in both
layouts; the static helpers and the book style."""

from dataclasses import replace

import numpy as np
import pytest

from adamedu import plots
from adamedu.problems import IllConditionedQuadratic


def test_running_mean_matches_a_direct_window_mean():
    rng = np.random.default_rng(0)
    values = rng.standard_normal(57)
    expected = [values[max(0, i + 1 - 5): i + 1].mean() for i in range(len(values))]
    np.testing.assert_allclose(plots.running_mean(values, 5), expected, rtol=1e-12)


def _limits(handle):
    return [(ax.get_xlim(), ax.get_ylim()) for ax in handle.axes]


def _snr(seed, steps=40):
    rng = np.random.default_rng(seed)
    return plots.SnrAnnealingData(
        t=np.arange(1, steps + 1), distance=rng.uniform(0.01, 1, steps + 1),
        snr=rng.uniform(0.01, 1, steps), step=rng.uniform(1e-4, 1e-2, steps),
        lr=10.0 ** rng.uniform(-3, -1), window=5)


@pytest.mark.parametrize("layout", plots.LAYOUTS)
def test_snr_annealing_draws_and_updates_its_data_in_place(layout):
    first, second = _snr(0), _snr(1)
    h = plots.draw_snr_annealing(first, layout=layout)
    limits = _limits(h)
    lines = dict(h.lines)
    plots.update_snr_annealing(h, second)
    assert h.lines == lines  # the same artists, not new ones
    assert _limits(h) == limits  # fixed axes: the figure does not jump
    np.testing.assert_array_equal(h.lines["distance"].get_ydata(), second.distance)
    np.testing.assert_array_equal(h.lines["snr_raw"].get_ydata(), second.snr)
    np.testing.assert_allclose(h.lines["snr_mean"].get_ydata(), plots.running_mean(second.snr, 5))
    np.testing.assert_allclose(h.lines["step_mean"].get_ydata(), plots.running_mean(second.step, 5))
    assert list(h.lines["lr"].get_ydata()) == [second.lr] * 2


def test_step_bounds_plot_shows_ratio_supremum_and_paper_bound():
    t = np.arange(1, 21)
    data = plots.StepBoundsData(t=t, gradients=np.ones(20), ratio=np.full(20, 0.5),
                                supremum=np.linspace(1, 3, 20), paper=2.5)
    h = plots.draw_step_bounds(data)
    new = replace(data, ratio=np.full(20, 0.25), supremum=np.linspace(1, 4, 20), paper=1.0)
    plots.update_step_bounds(h, new)
    np.testing.assert_array_equal(h.lines["ratio"].get_ydata(), new.ratio)
    np.testing.assert_array_equal(h.lines["supremum"].get_ydata(), new.supremum)
    assert list(h.lines["paper"].get_ydata()) == [1.0, 1.0]


def test_bias_correction_cursor_marks_the_values_at_step_t():
    steps = 30
    t = np.arange(1, steps + 1)
    data = plots.BiasCorrectionData(
        t=t, m_raw=t / 100.0, m_hat=np.ones(steps), v_raw=t / 50.0, v_hat=np.full(steps, 1.25),
        step_raw=t / 10.0, step_corrected=np.ones(steps), mean=1.0, second_moment=1.25, cursor=3)
    h = plots.draw_bias_correction(data)
    plots.update_bias_correction(h, replace(data, cursor=7))
    assert list(h.lines["cursor0"].get_xdata()) == [7, 7]
    assert list(h.lines["m_raw_dot"].get_ydata()) == [0.07]
    assert list(h.lines["m_hat_dot"].get_ydata()) == [1.0]
    assert list(h.lines["step_raw_dot"].get_ydata()) == [0.7]
    assert list(h.lines["step_hat_dot"].get_ydata()) == [1.0]


def test_path_figures_hold_the_paths_they_are_given():
    problem = IllConditionedQuadratic()
    rng = np.random.default_rng(3)
    paths = {k: rng.standard_normal((11, 2)) for k in ("adam", "adam_scaled", "sgd", "sgd_scaled")}
    data = plots.RescalingData(loss=problem.loss, xlim=(-5, 2), ylim=(-2, 2), start=problem.x0,
                               paths=paths)
    h = plots.draw_rescaling(data)
    assert h.axes[0].get_xlim() == (-5, 2)
    new = {k: v + 1 for k, v in paths.items()}
    plots.update_rescaling(h, replace(data, paths=new))
    for key, path in new.items():
        np.testing.assert_array_equal(h.lines[key].get_xydata(), path)


def _race(key="a", xlim=(-1, 1), ylim=(-1, 1), title="A", minimizer=(0.0, 0.0), shift=0.0):
    problem = IllConditionedQuadratic()
    paths = {name: np.zeros((5, 2)) + shift for name in plots.RACE_ORDER}
    gaps = {name: np.geomspace(10, 1e-3, 5) for name in plots.RACE_ORDER}
    return plots.RaceData(problem_key=key, title=title, loss=problem.loss, xlim=xlim, ylim=ylim,
                          start=problem.x0, minimizer=minimizer, paths=paths, gaps=gaps,
                          gap_limits=(1e-8, 100.0), log_gap=True, lr={})


def test_race_redraws_contours_only_when_the_function_changes():
    h = plots.draw_race(_race())
    contours = h.extra["contours"]
    plots.update_race(h, _race(shift=0.5))
    assert h.extra["contours"] is contours
    np.testing.assert_array_equal(h.lines["Adam"].get_xydata(), np.full((5, 2), 0.5))
    np.testing.assert_array_equal(h.lines["loss_Adam"].get_ydata(), np.geomspace(10, 1e-3, 5))
    plots.update_race(h, _race(key="b", xlim=(-3, 3), title="B", minimizer=None))
    assert h.extra["contours"] is not contours
    assert h.axes[0].get_xlim() == (-3, 3) and h.axes[0].get_title(loc="left") == "B"
    assert len(h.extra["goal"].get_xdata()) == 0


def test_path_panels_have_equal_scales_and_the_same_view_in_both_layouts():
    """A frame's lines are stored in panel units, so both layouts must show the same view."""
    wide, narrow = (plots.draw_race(_race(xlim=(-4.6, 1.4), ylim=(-1.6, 1.6)), layout=layout)
                    for layout in plots.LAYOUTS)
    for h in (wide, narrow):
        ax = h.axes[0]
        box = ax.get_position()
        width, height = h.fig.get_size_inches()
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        assert (x1 - x0) / (y1 - y0) == pytest.approx(box.width * width / (box.height * height))
    assert wide.axes[0].get_xlim() == pytest.approx(narrow.axes[0].get_xlim())
    assert wide.axes[0].get_ylim() == pytest.approx(narrow.axes[0].get_ylim())


def test_direction_plot_holds_angles():
    problem = IllConditionedQuadratic()
    data = plots.DirectionData(
        loss=problem.loss, xlim=(-5, 2), ylim=(-2, 2), start=problem.x0,
        paths={"GD": np.zeros((4, 2)), "Adam": np.ones((4, 2))},
        angles={"GD": np.zeros(3), "Adam": np.array([10.0, 20.0, 30.0])})
    h = plots.draw_direction(data)
    np.testing.assert_array_equal(h.lines["angle_Adam"].get_ydata(), [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(h.lines["angle_Adam"].get_xdata(), [1, 2, 3])


@pytest.mark.parametrize("ncols", [1, 3])
def test_new_figure_has_fixed_margins_and_no_layout_engine(ncols):
    fig, axes = plots.new_figure(ncols)
    assert len(axes) == ncols
    assert fig.get_layout_engine() is None


def test_narrow_layout_stacks_the_panels_in_a_phone_wide_figure():
    fig, axes = plots.new_figure(3, layout="narrow", panel_heights=(2.0, 2.0, 2.5))
    assert fig.get_size_inches()[0] == plots.NARROW_WIDTH
    boxes = [ax.get_position() for ax in axes]
    assert all(b.x0 == boxes[0].x0 and b.width == boxes[0].width for b in boxes)
    assert boxes[0].y0 > boxes[1].y1 and boxes[1].y0 > boxes[2].y1  # top to bottom, no overlap
    with pytest.raises(ValueError, match="layout"):
        plots.new_figure(2, layout="tall")


@pytest.mark.parametrize("value, text", [(0.1, "0.1"), (0.999, "0.999"), (10**-2.5, "0.0032"),
                                         (1e-8, "10⁻⁸"), (3e-8, "3×10⁻⁸"), (1.0, "1"),
                                         (250.0, "250"), (-0.5, "−0.5"), (1e5, "10⁵")])
def test_numbers_are_formatted_for_people(value, text):
    assert plots.format_number(value) == text


def test_log_axes_read_in_decimals_near_one_and_powers_of_ten_beyond():
    fig, (ax,) = plots.new_figure(1)
    ax.set(yscale="log", ylim=(1e-6, 1e4))
    plots.human_log_axis(ax, "y")
    formatter = ax.yaxis.get_major_formatter()
    assert [formatter(v) for v in (0.01, 0.1, 1.0, 10.0, 1000.0)] == ["0.01", "0.1", "1", "10", "1000"]
    assert formatter(1e-6) == "$10^{-6}$" and formatter(3e-6) == ""


def test_book_style_applies_the_palette_and_leaves_the_global_settings_alone():
    import matplotlib

    from adamedu import palette

    before = matplotlib.rcParams["axes.prop_cycle"]
    with plots.book_style():
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
        assert colors[3].lower() == palette.style("Adam").color.lower()
        assert colors[0].lower() == palette.style("SGD").color.lower()
    assert matplotlib.rcParams["axes.prop_cycle"] == before


def test_running_mean_works_along_the_first_axis():
    values = np.arange(12.0).reshape(6, 2)
    out = plots.running_mean(values, 3)
    np.testing.assert_allclose(out[:, 1], plots.running_mean(values[:, 1], 3))
    with pytest.raises(ValueError):
        plots.running_mean(values, 0)


def test_plot_race_draws_every_path_and_loss_curve():
    import matplotlib.pyplot as plt

    import adamedu

    ravine = IllConditionedQuadratic()
    runs = {"GD": adamedu.run(adamedu.SGD, ravine, 30, lr=0.03),
            "Adam": adamedu.run(adamedu.Adam, ravine, 30, lr=0.1)}
    fig = plots.plot_race(ravine, runs)
    ax_path, ax_loss = fig.axes
    paths = [line.get_xydata() for line in ax_path.get_lines() if len(line.get_xdata()) == 31]
    np.testing.assert_array_equal(paths[0], runs["GD"].params)
    np.testing.assert_array_equal(paths[1], runs["Adam"].params)
    np.testing.assert_array_equal(ax_loss.get_lines()[1].get_ydata(), runs["Adam"].loss)
    x0, x1 = ax_path.get_xlim()
    assert x0 < -4 and x1 > 0  # the whole of every path is in view
    assert ax_loss.get_yscale() == "log"
    plt.close(fig)


def test_plot_angles_plots_each_series_against_the_step():
    import matplotlib.pyplot as plt

    fig = plots.plot_angles({"a": [10.0, 95.0, 20.0], "b": [0.0, 0.0, 0.0]})
    (ax,) = fig.axes
    first = ax.get_lines()[0]
    np.testing.assert_array_equal(first.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(first.get_ydata(), [10.0, 95.0, 20.0])
    plt.close(fig)
