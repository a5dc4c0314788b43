"""adamedu.family_figures: the Reddi figure plots what adamedu computes, live and static."""

from __future__ import annotations

import itertools
import math
import re
import warnings

import numpy as np
import pytest

from adamedu import family_figures as ff
from adamedu.interactive_figure import _artist_pixels
from adamedu.online import ReddiProblem
from adamedu.optim import ADOPT, Adam
from adamedu.trace import run
from tests.test_widgets import decode, parse_static, sweep


@pytest.fixture(scope="module")
def figure():
    return ff.reddi_figure()


def independent_path(cls, C, beta1, beta2, **options):
    """The decisions of one optimizer, computed here without the figure's code."""
    problem = ReddiProblem(C)
    x = np.zeros(1)
    opt = cls([x], lr=0.1, betas=(beta1, beta2), **options)
    out = [0.0]
    for t in range(1, ff.REDDI_STEPS + 1):
        opt.param_groups[0]["lr"] = 0.1 / math.sqrt(t)
        opt.step([np.array([float(problem.grad(t))])])
        problem.project(x)
        out.append(x[0])
    return np.array(out)


def check(fig, values):
    data = ff.reddi_data(**values)
    problem = ReddiProblem(values["C"])
    worst = 2 * (values["C"] - 2) / 3
    for name in ff.REDDI_ORDER:
        x = np.asarray(fig.handle.lines[f"x_{name}"].get_ydata(), dtype=float)
        np.testing.assert_array_equal(x, data["x"][name])
        regret = np.asarray(fig.handle.lines[f"regret_{name}"].get_ydata(), dtype=float)
        T = np.arange(1, ff.REDDI_STEPS + 1)
        np.testing.assert_allclose(regret, problem.regret(x[:-1]) / T / worst, rtol=1e-12)
        assert np.all((x >= -1) & (x <= 1))


@pytest.mark.parametrize("C, beta1, beta2", [(3.0, 0.0, 0.1), (10.0, 0.9, 0.999), (2.5, 0.5, 0.01)])
def test_paths_are_the_optimizers_own(C, beta1, beta2):
    data = ff.reddi_data(C=C, beta1=beta1, beta2=beta2)
    np.testing.assert_allclose(
        data["x"]["Adam"], independent_path(Adam, C, beta1, beta2), rtol=1e-13, atol=1e-15
    )
    np.testing.assert_allclose(
        data["x"]["AMSGrad"],
        independent_path(Adam, C, beta1, beta2, amsgrad=True),
        rtol=1e-13,
        atol=1e-15,
    )
    np.testing.assert_allclose(
        data["x"]["ADOPT"], independent_path(ADOPT, C, beta1, beta2), rtol=1e-13, atol=1e-15
    )
    assert data["critical"] == pytest.approx(1 / (1 + C**2))


def test_the_counterexample_and_its_fix():
    data = ff.reddi_data(C=3.0, beta2=0.1, beta1=0.0)  # the critical beta2
    assert data["x"]["Adam"][-1] > 0.99 and data["regret"]["Adam"][-1] > 0.9  # stuck at +1
    assert data["x"]["ADOPT"][-1] < -0.99 and data["regret"]["ADOPT"][-1] < 0.1
    assert data["x"]["AMSGrad"][-1] < -0.99


@pytest.mark.slow  # renders every control over its range: not in the fast tier
def test_every_control_across_its_range_plots_what_adamedu_computes(figure):
    defaults = {c.name: c.default for c in figure.controls}
    check(figure, figure.values)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for control in figure.controls:
            for value in sweep(control):
                figure.set(**{control.name: value})
                check(figure, figure.values)
            figure.set(**defaults)
        edges = [(c.reachable_values()[0], c.reachable_values()[-1]) for c in figure.controls]
        for combo in itertools.product(*edges):
            figure.set(**{c.name: v for c, v in zip(figure.controls, combo)})
            check(figure, figure.values)
            assert figure.render_rgba().shape[2] == 4
    figure.set(**defaults)


def test_controls_offer_only_valid_values(figure):
    by_name = {c.name: c for c in figure.controls}
    assert all(0 <= b < 1 for b in by_name["beta2"].reachable_values())
    assert all(0 <= b < 1 for b in by_name["beta1"].reachable_values())
    assert all(c > 2 for c in by_name["C"].reachable_values())  # Reddi's problem needs C > 2
    assert 0.1 in by_name["beta2"].static  # the critical beta2 of the default C = 3


def test_static_page_is_self_contained_and_has_every_frame(figure):
    page = figure.static_html()
    assert not re.search(r"https?://|<script[^>]*src=|require\(", page)
    alt = re.search(r'<img [^>]*alt="([^"]*)"', page).group(1)
    assert "Reddi" in alt and "C = 3" in alt
    spec = parse_static(page)
    static_controls = [c for c in figure.controls if c.static]
    assert len(spec["frames"]) == math.prod(len(c.static) for c in static_controls) == 16
    combo, values = list(figure.static_frames())[-1]
    figure.set(**values)
    frame = spec["frames"]["-".join(map(str, combo))]
    height = figure.size[1]
    for artist, ref in zip(figure.handle.moving, frame["p"]):
        assert decode(spec["pool"][ref]) == decode(_artist_pixels(artist, height))
    figure.set(**{c.name: c.default for c in figure.controls})
    assert len(page) < 400_000


def test_live_widget_repaints_the_same_image_when_a_slider_moves(figure):
    box = figure.widget()
    assert figure.widget() is box
    image = figure.image
    for control in figure.controls:
        widget = figure.control_widgets[control.name]
        values = control.reachable_values()
        target = values[0] if values[-1] == control.default else values[-1]
        before = image.value
        widget.value = target
        assert figure.values[control.name] == target
        assert image.value != before and image.value[:8] == b"\x89PNG\r\n\x1a\n"
        check(figure, figure.values)
        widget.value = control.default
    assert figure.image is image
