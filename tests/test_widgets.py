"""adamedu.widgets and adamedu.interactive_figure, headless.

Every factory is built, every control is moved across its range (edges included), and what the
figure's artists hold is compared with an independent call of adamedu (trace.run, theory,
analysis). The static HTML fallback and the choice between live and static display are checked
too; tests/test_widgets_browser.py moves the static sliders in a real browser.
"""

import itertools
import json
import math
import re
import warnings

import numpy as np
import pytest

from adamedu import theory, widgets
from adamedu.analysis import angle_to_steepest_descent
from adamedu.interactive_figure import Control, InteractiveFigure, _artist_pixels, live_frontend
from adamedu.optim import SGD, Adam, RMSprop
from adamedu.plots import running_mean
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
    assert list(fig.handle.lines["m_dots"].get_ydata()) == [raw.m_hat[t - 1, 0], corrected.m_hat[t - 1, 0]]


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
    for name, (cls, extra, scale) in hyper.items():
        with np.errstate(over="ignore", invalid="ignore"):
            trace = run(cls, make(), widgets.RACE_STEPS, on_nonfinite="stop", lr=base[name] * scale, **extra)
        np.testing.assert_allclose(xydata(fig, name), trace.params, rtol=1e-12)
    assert fig.handle.axes[0].get_xlim() == xlim
    assert make().name in fig.handle.axes[0].get_title()


def check_direction(fig, v):
    problem = IllConditionedQuadratic(condition_number=50.0)
    adam = run(Adam, problem, widgets.DIRECTION_STEPS, lr=widgets.DIRECTION_LR["Adam"],
               betas=(v["beta1"], v["beta2"]))
    np.testing.assert_allclose(xydata(fig, "path_Adam"), adam.params, rtol=1e-12)
    np.testing.assert_allclose(ydata(fig, "angle_Adam"),
                               angle_to_steepest_descent(adam.update, adam.grad), rtol=1e-12)
    angles_gd = ydata(fig, "angle_GD")
    assert np.nanmax(angles_gd) < 1e-5  # gradient descent steps along -∇f


CHECKS = {
    "momentum": check_momentum_figure,  # the momentum chapter's figure (tests/test_momentum_figure.py)
    "snr_annealing": check_snr_annealing,
    "step_bounds": check_step_bounds,
    "bias_correction": check_bias_correction,
    "rescaling": check_rescaling,
    "race": check_race,
    "direction": check_direction,
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


# --- the static fallback --------------------------------------------------------------------------


def parse_static(page):
    spec = json.loads(re.search(r'<script type="application/json" class="adamedu-frames">(.*?)</script>',
                                page, re.S).group(1).replace("<\\/", "</"))
    return spec


def decode(points):
    out, x, y, fresh = [], 0, 0, True
    for i in range(0, len(points), 2):
        if points[i] is None:
            out.append(None)
            fresh = True
            continue
        if fresh:
            x, y, fresh = points[i], points[i + 1], False
        else:
            x, y = x + points[i], y + points[i + 1]
        out.append((x / 2, y / 2))
    return out


@pytest.fixture(scope="module")
def static_pages(figures):
    return {name: fig.static_html() for name, fig in figures.items()}


@pytest.mark.parametrize("name", FACTORY_NAMES)
def test_static_html_is_self_contained_and_labelled(name, figures, static_pages):
    page = static_pages[name]
    fig = figures[name]
    img = re.search(r"<img [^>]*>", page).group(0)
    assert re.search(r'src="data:image/png;base64,', img)
    alt = re.search(r'alt="([^"]*)"', img).group(1)
    assert len(alt) > 40
    inputs = re.findall(r'<(input|select) [^>]*id="([^"]+)"', page)
    static_controls = [c for c in fig.controls if c.static]
    assert len(inputs) == len(static_controls) >= 1
    assert any(kind == "input" for kind, _ in inputs)
    for (kind, cid), control in zip(inputs, static_controls):
        assert f'<label for="{cid}">' in page
        if kind == "input":
            tag = re.search(rf'<input [^>]*id="{cid}"[^>]*>', page).group(0)
            assert 'type="range"' in tag and f'max="{len(control.static) - 1}"' in tag
    # nothing external: no URLs, no script files, no require.js
    assert not re.search(r"https?://|src=\"//|<script[^>]*src=|require\(", page)
    assert "<function" not in page and "widget" not in page.lower()
    assert len(page) < 400_000  # page weight per figure (see benchmarks/bench_widgets.py)


@pytest.mark.parametrize("name", FACTORY_NAMES)
def test_static_frames_cover_every_combination_and_match_the_figure(name, figures, static_pages):
    fig = figures[name]
    spec = parse_static(static_pages[name])
    static_controls = [c for c in fig.controls if c.static]
    assert len(spec["frames"]) == math.prod(len(c.static) for c in static_controls)
    assert all(len(f["p"]) == len(fig.handle.moving) and f["b"] in spec["bg"]
               for f in spec["frames"].values())
    # one frame, decoded, is the figure's own artists at those values, in pixels
    combo, values = list(fig.static_frames())[-1]
    fig.set(**values)
    frame = spec["frames"]["-".join(map(str, combo))]
    height = fig.size[1]
    for artist, ref in zip(fig.handle.moving, frame["p"]):
        assert decode(spec["pool"][ref]) == decode(_artist_pixels(artist, height))
        pts = [p for p in decode(spec["pool"][ref]) if p is not None]
        if pts and artist.get_visible():
            xy = artist.get_transform().transform(artist.get_xydata()[-1:])[0]
            if np.all(np.isfinite(xy)) and np.all(np.abs(xy) < 1e5):
                assert pts[-1] == pytest.approx((xy[0], height - xy[1]), abs=0.5)
    fig.set(**{c.name: c.default for c in fig.controls})


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
    bundle = fig._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/png", "text/plain"}
    assert "<function" not in bundle["text/plain"] and "interactive figure" in bundle["text/plain"]
    monkeypatch.setenv("ADAMEDU_FIGURES", "live")
    bundle = fig._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "text/html" not in bundle


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
    assert found[False] == {"text/html", "image/png", "text/plain"}


@pytest.mark.slow  # starts a kernel or a Python process: not in the fast tier
def test_a_headless_notebook_run_stores_html_and_no_widget_state():
    """What the book build does: nbclient executes the cell; the output must be the static HTML."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from adamedu.widgets import step_bounds_figure\n"
                                          "step_bounds_figure()")]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    (output,) = nb.cells[0].outputs
    assert "text/html" in output["data"] and "adamedu-figure" in output["data"]["text/html"]
    assert "application/vnd.jupyter.widget-view+json" not in output["data"]
    assert "widgets" not in nb.metadata  # nothing for the page to embed or load from a CDN


# --- the sentences that introduce the figures in the chapters -------------------------------------


def test_direction_without_momentum_never_goes_uphill_with_momentum_it_does():
    for beta2 in widgets.BETA2_OPTIONS:
        assert np.nanmax(widgets.direction_data(beta1=0.0, beta2=beta2)["angles"]["Adam"]) < 90
    assert np.nanmax(widgets.direction_data(beta1=0.9, beta2=0.999)["angles"]["Adam"]) > 90


def test_bias_correction_first_step_is_alpha_and_uncorrected_one_is_the_derived_ratio():
    for beta1 in (0.0, 0.5, 0.9, 0.99):
        for beta2 in widgets.BETA2_OPTIONS:
            data = widgets.bias_correction_data(beta1=beta1, beta2=beta2)
            assert data["step_corrected"][0] == pytest.approx(1.0, rel=1e-6)
            assert data["step_raw"][0] == pytest.approx(
                theory.step_size_without_bias_correction(beta1, beta2, 1), rel=1e-6)
    # with the defaults the first uncorrected step is more than three times too long
    assert widgets.bias_correction_data()["step_raw"][0] > 3


def test_step_bounds_worst_case_passes_the_papers_stated_bound():
    data = widgets.step_bounds_data(beta1=0.9, beta2=0.99, sequence="worst")
    assert data["ratio"][-1] > data["paper"] * 1.1


def test_rescaling_adam_keeps_its_path_sgd_does_not_and_large_eps_breaks_it():
    # every factor the sliders offer, in both coordinates
    scales = widgets.rescaling_figure().controls[0].reachable_values()
    for sx, sy in itertools.product(scales, scales):
        paths = widgets.rescaling_data(scale_x=sx, scale_y=sy, eps=1e-8)["paths"]
        np.testing.assert_allclose(paths["adam_scaled"], paths["adam"], atol=1e-3)
        if not np.isclose(sx, 1.0) or not np.isclose(sy, 1.0):
            n = min(len(paths["sgd"]), len(paths["sgd_scaled"]))
            assert np.max(np.abs(paths["sgd_scaled"][:n] - paths["sgd"][:n])) > 0.05
    paths = widgets.rescaling_data(scale_x=0.01, scale_y=0.01, eps=0.1)["paths"]
    assert np.max(np.abs(paths["adam_scaled"] - paths["adam"])) > 0.5


def test_snr_annealing_step_follows_the_ratio():
    for noise in (0.3, 1.0, 3.0):
        data = widgets.snr_annealing_data(noise=noise)
        np.testing.assert_allclose(data["step"], data["lr"] * data["snr"], rtol=1e-5)
        # the step shrinks well below α without any schedule
        assert data["step"][-50:].mean() < 0.2 * data["lr"]
    # a small α never reaches the noise within the run: its steps stay close to α
    data = widgets.snr_annealing_data(lr=1e-3)
    assert data["distance"].min() > 0.5 and data["step"][-50:].mean() > 0.8e-3
