"""adamedu.widgets and adamedu.interactive_figure, headless.

Every factory is built, every control is moved across its range (edges included), and what the
figure's artists hold is compared with an independent call of adamedu (trace.run, online.run_online,
theory, analysis). The export for displays without a kernel (every frame of the static controls)
and the choice between live and static display are checked too; tests/test_widgets_static.py
checks the site's HTML of the export and tests/test_widgets_browser.py moves its sliders in a real
browser.
"""

import itertools
import math
import re
import warnings

import numpy as np
import pytest

from adamedu import theory, widgets
from adamedu.analysis import angle_to_steepest_descent
from adamedu.figure_export import AXES_UNITS, FIGURE_MIME, track_points
from adamedu.interactive_figure import Control, InteractiveFigure, live_frontend
from adamedu.online import ReddiProblem, run_online
from adamedu.optim import SGD, Adam, RMSprop
from adamedu.plots import format_number, running_mean
from adamedu.problems import IllConditionedQuadratic, NoisyQuadratic
from adamedu.trace import run
from test_momentum_figure import check_momentum_figure

FACTORY_NAMES = list(widgets.FACTORIES)


def sweep(control: Control, points: int = 6) -> list:
    """Values across a control's range: both edges, the default and evenly spaced ones between."""
    values = control.reachable_values()
    if len(values) <= points + 2:
        return values
    picks = {0, len(values) - 1, *np.linspace(0, len(values) - 1, points).round().astype(int)}
    chosen = [values[i] for i in sorted(picks)]
    return chosen + [control.default]


@pytest.fixture(scope="module")
def figures():
    return {name: factory() for name, factory in widgets.FACTORIES.items()}


def ydata(fig, name):
    return np.asarray(fig.handle.lines[name].get_ydata(), dtype=float)


def xydata(fig, name):
    return np.asarray(fig.handle.lines[name].get_xydata(), dtype=float)


# --- checks of the plotted data against adamedu, one per figure ---------------------------------


def check_snr_annealing(fig, v):
    problem = NoisyQuadratic(curvature=10.0, noise=v["noise"], dim=20)
    trace = run(Adam, problem, widgets.SNR_STEPS, lr=v["lr"], betas=(v["beta1"], v["beta2"]))
    np.testing.assert_allclose(ydata(fig, "distance"), np.abs(trace.params).mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(ydata(fig, "snr_raw"), np.abs(trace.snr).mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(ydata(fig, "step_mean"),
                               running_mean(np.abs(trace.update).mean(axis=1), 20), rtol=1e-12)
    np.testing.assert_allclose(ydata(fig, "lr"), [v["lr"]] * 2)
    assert np.all(np.isfinite(ydata(fig, "step_mean")))


def check_step_bounds(fig, v):
    b1, b2 = v["beta1"], v["beta2"]
    steps = widgets.BOUND_STEPS
    ratio, sup = ydata(fig, "ratio"), ydata(fig, "supremum")
    np.testing.assert_allclose(sup, [theory.worst_case_step_ratio(b1, b2, t) for t in range(1, steps + 1)])
    assert ydata(fig, "paper")[0] == theory.paper_step_bound(b1, b2)
    # no sequence beats the exact supremum ...
    assert np.all(ratio <= sup * (1 + 1e-9))
    g = ydata(fig, "gradients")
    if v["sequence"] == "worst":  # ... and the worst case attains it at the last step
        assert ratio[-1] == pytest.approx(sup[-1], rel=1e-9)
        np.testing.assert_allclose(g, theory.worst_case_gradients(b1, b2, steps) /
                                   np.max(theory.worst_case_gradients(b1, b2, steps)))
    elif v["sequence"] == "constant":  # bias-corrected Adam steps exactly α on a constant gradient
        np.testing.assert_allclose(ratio, 1.0, rtol=1e-9)
    # the ratios agree with the theory module's own reference recurrences
    t = 17
    expected = abs(theory.step_ratio(g[:t, None], b1, b2)[0]) if np.any(g[:t] != 0) else 0.0
    if np.isfinite(expected):
        assert ratio[t - 1] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def check_bias_correction(fig, v):
    b1, b2, t = v["beta1"], v["beta2"], v["t"]
    steps = widgets.BIAS_STEPS
    g = 1.0 + 0.5 * np.random.default_rng(0).standard_normal(steps)

    class Seq:
        dim, x0, minimizer, name = 1, np.zeros(1), None, "seq"

        def __init__(self):
            self.it = iter(g)

        def loss(self, x):
            return 0.0

        def stochastic_grad(self, x, rng):
            return np.array([next(self.it)])

    corrected = run(Adam, Seq(), steps, lr=1e-3, betas=(b1, b2))
    raw = run(Adam, Seq(), steps, lr=1e-3, betas=(b1, b2), bias_correction=False)
    np.testing.assert_allclose(ydata(fig, "m_hat"), corrected.m_hat[:, 0], rtol=1e-12)
    np.testing.assert_allclose(ydata(fig, "v_hat"), corrected.v_hat[:, 0], rtol=1e-12)
    np.testing.assert_allclose(ydata(fig, "m_raw"), raw.m_hat[:, 0], rtol=1e-12)
    np.testing.assert_allclose(ydata(fig, "step_raw"), np.abs(raw.update[:, 0]) / 1e-3, rtol=1e-9)
    k = np.arange(1, steps + 1)  # raw and corrected moments differ by exactly the correction
    np.testing.assert_allclose(ydata(fig, "m_raw"), ydata(fig, "m_hat") * -np.expm1(k * np.log(b1))
                               if b1 > 0 else ydata(fig, "m_hat"), rtol=1e-9, atol=1e-15)
    assert list(fig.handle.lines["cursor0"].get_xdata()) == [t, t]
    assert list(fig.handle.lines["m_raw_dot"].get_ydata()) == [raw.m_hat[t - 1, 0]]
    assert list(fig.handle.lines["m_hat_dot"].get_ydata()) == [corrected.m_hat[t - 1, 0]]


def check_rescaling(fig, v):
    problem = IllConditionedQuadratic(condition_number=50.0)
    adam = run(Adam, problem, widgets.RESCALE_STEPS, lr=widgets.RESCALE_LR["Adam"], eps=v["eps"])
    sgd = run(SGD, problem, widgets.RESCALE_STEPS, lr=widgets.RESCALE_LR["SGD"])
    np.testing.assert_allclose(xydata(fig, "adam"), adam.params, rtol=1e-12)
    np.testing.assert_allclose(xydata(fig, "sgd"), sgd.params, rtol=1e-12)
    scaled = xydata(fig, "adam_scaled")
    if v["eps"] <= 1e-8 and min(v["scale_x"], v["scale_y"]) >= 0.01:
        # invariance: with ε negligible against the rescaled gradients Adam's path barely moves
        np.testing.assert_allclose(scaled, adam.params, atol=1e-3)
    sgd_scaled = xydata(fig, "sgd_scaled")
    if v["scale_x"] == v["scale_y"] == 1.0:
        np.testing.assert_allclose(sgd_scaled, sgd.params, rtol=1e-12)
    else:  # SGD is not invariant: its first step is the rescaled gradient step
        g = problem.grad(problem.x0) * [v["scale_x"], v["scale_y"]]
        np.testing.assert_allclose(sgd_scaled[1], problem.x0 - widgets.RESCALE_LR["SGD"] * g, rtol=1e-12)


def check_race(fig, v):
    make, xlim, ylim, base = widgets.RACE_PROBLEMS[v["problem"]]
    hyper = {"SGD": (SGD, {}, v["sgd_scale"]), "Momentum": (SGD, {"momentum": 0.9}, v["sgd_scale"]),
             "RMSprop": (RMSprop, {}, v["adaptive_scale"]), "Adam": (Adam, {}, v["adaptive_scale"])}
    best = make().loss(make().minimizer)
    for name, (cls, extra, scale) in hyper.items():
        with np.errstate(over="ignore", invalid="ignore"):
            trace = run(cls, make(), widgets.RACE_STEPS, on_nonfinite="stop", lr=base[name] * scale, **extra)
        np.testing.assert_allclose(xydata(fig, name), trace.params, rtol=1e-12)
        np.testing.assert_allclose(ydata(fig, f"loss_{name}"), trace.loss - best, rtol=1e-12, atol=1e-15)
    # equal scales on both axes: the view holds the function's range, widened to fill the panel
    ax = fig.handle.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 <= xlim[0] and x1 >= xlim[1] and y0 <= ylim[0] and y1 >= ylim[1]
    assert (x0, x1) == pytest.approx(xlim) or (y0, y1) == pytest.approx(ylim)
    box = ax.get_position()
    width, height = fig.fig.get_size_inches()
    assert (x1 - x0) / (y1 - y0) == pytest.approx(box.width * width / (box.height * height), rel=1e-9)
    assert make().name in ax.get_title(loc="left")


def check_direction(fig, v):
    problem = IllConditionedQuadratic(condition_number=50.0)
    adam = run(Adam, problem, widgets.DIRECTION_STEPS, lr=widgets.DIRECTION_LR["Adam"],
               betas=(v["beta1"], v["beta2"]))
    np.testing.assert_allclose(xydata(fig, "path_Adam"), adam.params, rtol=1e-12)
    np.testing.assert_allclose(ydata(fig, "angle_Adam"),
                               angle_to_steepest_descent(adam.update, adam.grad), rtol=1e-12)
    angles_gd = ydata(fig, "angle_GD")
    assert np.nanmax(angles_gd) < 1e-5  # gradient descent steps along -∇f


class _Sequence:
    """An independent gradient feed for trace.run: the figure's sequence, one value per step."""

    dim, minimizer, name = 1, None, "sequence"

    def __init__(self, g):
        self.x0 = np.zeros(1)
        self.it = iter(np.asarray(g, dtype=float))

    def loss(self, x):
        return 0.0

    def stochastic_grad(self, x, rng):
        return np.array([next(self.it)])


def check_adam_step(fig, v):
    b1, b2, t = v["beta1"], v["beta2"], v["t"]
    g = widgets.step_sequence(v["sequence"])
    steps = len(g)
    kw = dict(lr=1e-3, betas=(b1, b2), eps=1e-8)
    corrected = run(Adam, _Sequence(g), steps, **kw)
    raw = run(Adam, _Sequence(g), steps, bias_correction=False, **kw)
    np.testing.assert_array_equal(ydata(fig, "g"), g)
    np.testing.assert_allclose(ydata(fig, "g2"), g**2, rtol=1e-15)
    np.testing.assert_allclose(ydata(fig, "m_hat"), corrected.m_hat[:, 0], rtol=1e-12)
    np.testing.assert_allclose(ydata(fig, "v_hat"), corrected.v_hat[:, 0], rtol=1e-12)
    # without the correction Adam's own m̂ and v̂ are the raw moving averages m_t and v_t
    np.testing.assert_allclose(ydata(fig, "m"), raw.m_hat[:, 0], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(ydata(fig, "v"), raw.v_hat[:, 0], rtol=1e-9, atol=1e-18)
    np.testing.assert_allclose(ydata(fig, "step"), corrected.update[:, 0] / 1e-3, rtol=1e-9)
    for name, series in (("g", g), ("m_hat", corrected.m_hat[:, 0]), ("step", corrected.update[:, 0] / 1e-3)):
        assert list(fig.handle.lines[f"{name}_dot"].get_xdata()) == [t]
        assert fig.handle.lines[f"{name}_dot"].get_ydata()[0] == pytest.approx(series[t - 1], rel=1e-9)
    # every plotted value stays inside its panel for every reachable beta
    for ax, names in zip(fig.handle.axes, (("g", "m", "m_hat"), ("g2", "v", "v_hat"), ("step",))):
        low, high = ax.get_ylim()
        for name in names:
            assert np.all((ydata(fig, name) >= low) & (ydata(fig, name) <= high)), name
    # the readout repeats the step with the same numbers
    text = fig.readout_text()
    assert f"= {format_number(corrected.update[t - 1, 0] / 1e-3, 3)} α" in text
    assert f"= {format_number(corrected.m_hat[t - 1, 0], 3)}" in text


def check_counterexample(fig, v):
    C, b2, ams = v["C"], v["beta2"], v["amsgrad"]
    trace = run_online(Adam, ReddiProblem(C), widgets.COUNTER_STEPS, x0=[-1.0, 0.0], lr=0.1,
                       betas=(0.0, b2), amsgrad=ams)
    active, idle = ("AMSGrad", "Adam") if ams else ("Adam", "AMSGrad")
    t = np.arange(1, widgets.COUNTER_STEPS + 1)
    for j in range(2):
        line = fig.handle.lines[f"x_{active}_{j}"]
        np.testing.assert_array_equal(line.get_xdata(), t[t % 3 == 1])
        np.testing.assert_allclose(line.get_ydata(), trace.x[:-1, j][t % 3 == 1], rtol=1e-12)
        regret = fig.handle.lines[f"regret_{active}_{j}"]
        np.testing.assert_allclose(regret.get_ydata(), trace.average_regret[:, j][t % 3 == 0], rtol=1e-12)
        assert len(fig.handle.lines[f"x_{idle}_{j}"].get_xdata()) == 0  # the other method is hidden
    np.testing.assert_allclose(ydata(fig, f"eta_{active}"), trace.step_size[:30, 0], rtol=1e-12)
    assert ydata(fig, "limit")[0] == pytest.approx(2 * (C - 2) / 3)
    text = fig.readout_text()
    assert format_number(1 / (1 + C**2), 3) in text and active in text


CHECKS = {
    "momentum": check_momentum_figure,  # the momentum chapter's figure (tests/test_momentum_figure.py)
    "snr_annealing": check_snr_annealing,
    "step_bounds": check_step_bounds,
    "bias_correction": check_bias_correction,
    "rescaling": check_rescaling,
    "race": check_race,
    "direction": check_direction,
    "adam_step": check_adam_step,
    "counterexample": check_counterexample,
}


@pytest.mark.parametrize("name", FACTORY_NAMES)
def test_every_control_across_its_range_plots_what_adamedu_computes(name, figures):
    fig = figures[name]
    defaults = {c.name: c.default for c in fig.controls}
    CHECKS[name](fig, fig.values)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may reach the page
        for control in fig.controls:
            for value in sweep(control):
                fig.set(**{control.name: value})
                CHECKS[name](fig, fig.values)
            fig.set(**defaults)
        # every combination of the controls' edges (e.g. β1 = 0.99 with the smallest β2)
        edges = [(c.reachable_values()[0], c.reachable_values()[-1]) for c in fig.controls]
        for combo in itertools.product(*edges):
            fig.set(**{c.name: v for c, v in zip(fig.controls, combo)})
            CHECKS[name](fig, fig.values)
            assert fig.render_rgba().shape[2] == 4
    fig.set(**defaults)


@pytest.mark.parametrize("name", FACTORY_NAMES)
def test_controls_cannot_reach_invalid_values(name, figures):
    for control in figures[name].controls:
        values = control.reachable_values()
        if control.name.startswith("beta"):
            assert all(0.0 <= b < 1.0 for b in values)
        if control.kind == "log":
            assert all(x > 0 for x in values)
        if control.name == "beta1":
            assert values[0] == 0.0  # β1 = 0 is offered and works (checked in the sweep)
        if control.name == "eps":
            assert min(values) <= 1e-12


@pytest.mark.parametrize("name", FACTORY_NAMES)
def test_live_widget_repaints_the_same_image_in_place(name, figures):
    fig = figures[name]
    box = fig.widget()
    assert fig.widget() is box
    image = fig.image
    width, height = fig.size
    assert (str(image.width), str(image.height)) == (str(width), str(height))
    for control in fig.controls:
        cw = fig.control_widgets[control.name]
        values = control.reachable_values()
        if control.kind in ("float", "int"):
            assert cw.min <= cw.value <= cw.max
        if control.kind == "log":  # the slider's min and max are exponents
            assert cw.base**cw.min <= cw.value * (1 + 1e-12) and cw.value <= cw.base**cw.max * (1 + 1e-12)
        before = image.value
        target = values[0] if values[-1] == control.default else values[-1]
        cw.value = target
        assert fig.values[control.name] == target
        assert image.value != before and image.value[:8] == b"\x89PNG\r\n\x1a\n"
        cw.value = control.default
    assert fig.image is image  # repainted, never replaced


def test_live_widget_shows_an_error_instead_of_dying():
    def compute(x):
        if x > 1:
            raise ValueError("x too large")
        return {"x": x}

    from adamedu import plots

    def draw(data):
        fig, axes = plots.new_figure(1)
        h = plots.FigureHandle(fig, axes)
        (h.lines["x"],) = axes[0].plot([0, 1], [0, data["x"]])
        return h

    def update(h, data):
        h.lines["x"].set_data([0, 1], [0, data["x"]])

    fig = InteractiveFigure("t", "t", [Control("x", "x", "float", 0.5, low=0.0, high=2.0, step=0.5)],
                            compute, draw, update, alt=lambda v: "a line")
    with pytest.raises(ValueError):
        fig.control_widgets["x"].value = 2.0
    assert "x too large" in fig._status.value


# --- the export for displays without a kernel -----------------------------------------------------


@pytest.fixture(scope="module")
def exports(figures):
    return {name: fig.export() for name, fig in figures.items()}


@pytest.mark.slow  # exports every figure's frames: not in the fast tier
@pytest.mark.parametrize("name", FACTORY_NAMES)
def test_export_covers_every_combination_of_the_static_controls(name, figures, exports):
    fig, export = figures[name], exports[name]
    static_controls = [c for c in fig.controls if c.static]
    assert len(export.frames) == math.prod(len(c.static) for c in static_controls)
    assert [c.labels for c in export.controls] == [[c.label_of(v) for v in c.static]
                                                  for c in static_controls]
    assert {label for label, _ in export.fixed} == {c.label for c in fig.controls if not c.static}
    assert len(export.alt) > 40
    for layout in ("wide", "narrow"):
        backgrounds = export.layouts[layout].backgrounds
        assert all(f["background"] in backgrounds for f in export.frames.values())
        assert all(len(boxes) == len(fig.fig.axes) for boxes in export.layouts[layout].panels.values())
    assert all(len(f["tracks"]) == len(export.tracks) == len(fig.handle.moving)
               for f in export.frames.values())
    # one background per value of the controls that redraw it, none for the others
    redraw = [c for c in fig.controls if c.redraws_background]
    assert len(export.layouts["wide"].backgrounds) == math.prod(len(c.static) for c in redraw)


@pytest.mark.slow  # exports every figure's frames: not in the fast tier
@pytest.mark.parametrize("name", FACTORY_NAMES)
def test_export_frames_match_the_figure(name, figures, exports):
    fig, export = figures[name], exports[name]
    for combo, values in [*list(fig.static_frames())[-1:], *list(fig.static_frames())[:1]]:
        fig.set(**values)
        frame = export.frames["-".join(map(str, combo))]
        for artist, ref in zip(fig.handle.moving, frame["tracks"]):
            points = export.pool[ref]
            assert points == track_points(artist)
            xy = artist.get_xydata()
            if len(points) and artist.get_visible():
                # the last point is the artist's last data point in its panel's units (y down)
                frac = artist.axes.transAxes.inverted().transform(
                    artist.get_transform().transform(xy[-1:]))[0]
                if np.all(np.isfinite(frac)) and np.all(np.abs(frac) < 50):
                    expected = (frac[0] * AXES_UNITS, (1 - frac[1]) * AXES_UNITS)
                    assert points[-2:] == pytest.approx(expected, abs=0.5)
        if frame["readout"] is not None:
            assert export.readouts[frame["readout"]] == fig.readout_text()
    fig.set(**{c.name: c.default for c in fig.controls})


# --- the site's HTML of the export (_ext/adamedu_figures.py) ------------------------------------


def _site_figures():
    """The book's figure extension (in the book's tooling, not in the package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "_ext" / "adamedu_figures.py"
    spec = importlib.util.spec_from_file_location("adamedu_figures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SITE = _site_figures()


@pytest.fixture(scope="module")
def static_pages(exports):
    return {name: SITE.figure_html(export) for name, export in exports.items()}


def _outside_json(page):
    return re.sub(r'<script type="application/json".*?</script>', "", page, flags=re.S)


@pytest.mark.slow  # exports every figure's frames: not in the fast tier
@pytest.mark.parametrize("name", FACTORY_NAMES)
def test_static_html_is_self_contained_and_labelled(name, figures, static_pages):
    page = static_pages[name]
    fig = figures[name]
    plots = re.findall(r'<svg class="adamedu-plot" role="img" aria-label="([^"]*)"', page)
    assert len(plots) == 2  # the wide and the narrow layout, each described
    assert all(len(alt) > 40 for alt in plots)
    inputs = re.findall(r'<(input|select) [^>]*id="([^"]+)"', page)
    static_controls = [c for c in fig.controls if c.static]
    assert len(inputs) == len(static_controls) >= 1
    assert any(kind == "input" for kind, _ in inputs)
    for (kind, cid), control in zip(inputs, static_controls):
        assert f'<label for="{cid}">' in page
        if kind == "input" and control.kind != "toggle":
            tag = re.search(rf'<input [^>]*id="{cid}"[^>]*>', page).group(0)
            assert 'type="range"' in tag and f'max="{len(control.static) - 1}"' in tag
    # nothing external: no URLs, no script files, no require.js, no raster images
    assert not re.search(r"https?://|src=\"//|<script[^>]*src=|require\(", page)
    assert "<img" not in page and "<image" not in page
    assert "<function" not in page and "widget" not in page.lower()
    assert len(page) < 400_000  # page weight per figure (see benchmarks/bench_widgets.py)


@pytest.mark.slow  # exports every figure's frames: not in the fast tier
@pytest.mark.parametrize("name", FACTORY_NAMES)
def test_static_html_shows_the_default_frame_without_a_script(name, exports, static_pages):
    export, page = exports[name], static_pages[name]
    frame = export.frames[export.default_frame]
    wide = page[page.index('class="adamedu-layout adamedu-wide"'):page.index("adamedu-layout adamedu-narrow")]
    drawn = re.findall(r'<path class="adamedu-track" data-track="(\d+)" data-part="(\w+)" d="([^"]*)"', wide)
    assert len({int(i) for i, _, _ in drawn}) == len(export.tracks)
    for index, part, d in drawn:
        line, dots = SITE.path_data(export.pool[frame["tracks"][int(index)]])
        assert d == (dots if part == "dots" else line)
    shown = re.findall(r'<g class="adamedu-bg" data-bg="(\w+)"(?! style="display:none")', wide)
    assert shown == [frame["background"]]


@pytest.mark.slow  # exports every figure's frames: not in the fast tier
@pytest.mark.parametrize("name", FACTORY_NAMES)
def test_static_html_draws_ink_and_greys_in_the_theme_colours(name, static_pages):
    """Greys are mixtures of the theme's ink and paper, so the figure follows light and dark mode."""
    page = _outside_json(static_pages[name])
    for value in re.findall(r"#([0-9a-fA-F]{6})\b", page):
        assert len({value[0:2], value[2:4], value[4:6]}) > 1, f"grey #{value} is not themed"
    assert "var(--adamedu-ink)" in page and "var(--adamedu-paper)" in page
    assert "<style" not in page  # matplotlib's global '*' rule must not reach the page


@pytest.mark.slow  # exports every figure's frames: not in the fast tier
def test_a_page_defines_each_shape_once_and_every_reference_resolves(exports):
    page = SITE._Page()
    html = "".join(SITE.figure_html(exports[name], page=page) for name in ("race", "direction"))
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)) > 50
    refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', html))
    assert refs and refs <= set(ids)
    again = SITE.figure_html(exports["direction"], page=page)  # glyphs and ticks: all known
    assert "adamedu-defs" not in again


@pytest.mark.parametrize("points", [[0, 10_000, 5000, 0, None, None, 10_000, 7500], [3, 4], []])
def test_track_path_data_round_trips(points):
    line, dots = SITE.path_data(points)
    decoded, x, y = [], 0, 0
    for command, a, b in re.findall(r"([Ml])(-?\d+)[ ]?(-?\d+)", line):
        if command == "M":
            if decoded:
                decoded += [None, None]
            x, y = int(a), int(b)
        else:
            x, y = x + int(a), y + int(b)
        decoded += [x, y]
    assert decoded == points
    assert dots.count("h0") == sum(1 for v in points[::2] if v is not None)


def test_myst_nb_renders_the_figure_type_on_html_pages_only():
    from myst_nb.core import render

    SITE._register_plugin()
    SITE._register_plugin()  # once only
    plugins = render.load_mime_renders()
    assert plugins.count(SITE.FigureRenderer) == 1
    assert render.get_mime_priority("html", [])[0] == FIGURE_MIME
    assert FIGURE_MIME not in render.get_mime_priority("latex", [])


def test_control_rejects_unreachable_values():
    with pytest.raises(ValueError):
        Control("b", "b", "float", 0.5, low=0.0, high=0.9, step=0.1, static=(0.0, 0.95))
    with pytest.raises(ValueError):
        Control("b", "b", "float", 0.5, low=0.0, high=0.9, step=0.1, static=(0.0, 0.9))  # no default
    with pytest.raises(ValueError):
        Control("b", "b", "slider", 0.5)


def test_display_is_static_without_a_live_frontend(monkeypatch, figures):
    fig = figures["direction"]
    monkeypatch.setenv("ADAMEDU_FIGURES", "auto")
    assert not live_frontend()  # plain Python: no kernel
    bundle, metadata = fig._repr_mimebundle_()
    assert set(bundle) == {FIGURE_MIME, "image/png", "text/plain"}
    assert "<function" not in bundle["text/plain"] and "interactive figure" in bundle["text/plain"]
    assert metadata["image/png"] == {"width": fig.size[0], "height": fig.size[1]}
    monkeypatch.setenv("ADAMEDU_FIGURES", "live")
    bundle = fig._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and FIGURE_MIME not in bundle


@pytest.mark.slow  # starts a kernel or a Python process: not in the fast tier
def test_in_a_kernel_the_frontend_decides_between_widget_and_html():
    """JupyterLab and Notebook send execute requests that allow stdin; headless runners do not."""
    manager = pytest.importorskip("jupyter_client.manager")
    km, kc = manager.start_new_kernel(kernel_name="python3")
    try:
        kc.execute_interactive("from adamedu.widgets import direction_figure", timeout=60)
        found = {}
        for allow_stdin in (True, False):
            outputs = []
            reply = kc.execute_interactive("direction_figure()", allow_stdin=allow_stdin, timeout=120,
                                           output_hook=outputs.append)
            assert reply["content"]["status"] == "ok"
            (data,) = [m["content"]["data"] for m in outputs
                       if m["msg_type"] in ("execute_result", "display_data")]
            found[allow_stdin] = set(data)
            assert not [m for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert found[True] == {"application/vnd.jupyter.widget-view+json", "text/plain"}
    assert found[False] == {FIGURE_MIME, "image/png", "text/plain"}


@pytest.mark.slow  # starts a kernel or a Python process: not in the fast tier
def test_a_headless_notebook_run_stores_the_export_and_no_widget_state():
    """What the book build does: nbclient executes the cell; the output must be the export."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from adamedu.widgets import step_bounds_figure\n"
                                          "step_bounds_figure()")]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    (output,) = nb.cells[0].outputs
    assert FIGURE_MIME in output["data"] and output["data"][FIGURE_MIME]["frames"]
    assert "application/vnd.jupyter.widget-view+json" not in output["data"]
    assert "widgets" not in nb.metadata  # nothing for the page to embed or load from a CDN


# --- the sentences that introduce the figures in the chapters -------------------------------------


def test_direction_without_momentum_never_goes_uphill_with_momentum_it_does():
    for beta2 in widgets.BETA2_OPTIONS:
        assert np.nanmax(widgets.direction_data(beta1=0.0, beta2=beta2).angles["Adam"]) < 90
    assert np.nanmax(widgets.direction_data(beta1=0.9, beta2=0.999).angles["Adam"]) > 90


def test_bias_correction_first_step_is_alpha_and_uncorrected_one_is_the_derived_ratio():
    for beta1 in (0.0, 0.5, 0.9, 0.99):
        for beta2 in widgets.BETA2_OPTIONS:
            data = widgets.bias_correction_data(beta1=beta1, beta2=beta2)
            assert data.step_corrected[0] == pytest.approx(1.0, rel=1e-6)
            assert data.step_raw[0] == pytest.approx(
                theory.step_size_without_bias_correction(beta1, beta2, 1), rel=1e-6)
    # with the defaults the first uncorrected step is more than three times too long
    assert widgets.bias_correction_data().step_raw[0] > 3


def test_step_bounds_worst_case_passes_the_papers_stated_bound():
    data = widgets.step_bounds_data(beta1=0.9, beta2=0.99, sequence="worst")
    assert data.ratio[-1] > data.paper * 1.1


def test_rescaling_adam_keeps_its_path_sgd_does_not_and_large_eps_breaks_it():
    # every factor the sliders offer, in both coordinates
    scales = widgets.rescaling_figure().controls[0].reachable_values()
    for sx, sy in itertools.product(scales, scales):
        paths = widgets.rescaling_data(scale_x=sx, scale_y=sy, eps=1e-8).paths
        np.testing.assert_allclose(paths["adam_scaled"], paths["adam"], atol=1e-3)
        if not np.isclose(sx, 1.0) or not np.isclose(sy, 1.0):
            n = min(len(paths["sgd"]), len(paths["sgd_scaled"]))
            assert np.max(np.abs(paths["sgd_scaled"][:n] - paths["sgd"][:n])) > 0.05
    paths = widgets.rescaling_data(scale_x=0.01, scale_y=0.01, eps=0.1).paths
    assert np.max(np.abs(paths["adam_scaled"] - paths["adam"])) > 0.5


def test_snr_annealing_step_follows_the_ratio():
    for noise in (0.3, 1.0, 3.0):
        data = widgets.snr_annealing_data(noise=noise)
        np.testing.assert_allclose(data.step, data.lr * data.snr, rtol=1e-5)
        # the step shrinks well below α without any schedule
        assert data.step[-50:].mean() < 0.2 * data.lr
    # a small α never reaches the noise within the run: its steps stay close to α
    data = widgets.snr_annealing_data(lr=1e-3)
    assert data.distance.min() > 0.5 and data.step[-50:].mean() > 0.8e-3
