"""adamedu.momentum_figure: what the momentum figure plots is what adamedu computes.

``check_momentum_figure`` is also the momentum figure's entry in tests/test_widgets.py, which moves
every control of every registered figure across its range.
"""

from __future__ import annotations

import numpy as np
import pytest

from adamedu import momentum, momentum_figure, widgets
from adamedu.optim import SGD
from adamedu.problems import IllConditionedQuadratic
from adamedu.trace import run


def check_momentum_figure(fig, v):
    lines = fig.handle.lines
    problem = IllConditionedQuadratic(**momentum_figure.PROBLEM)
    with np.errstate(over="ignore", invalid="ignore"):
        trace = run(SGD, problem, momentum_figure.STEPS, on_nonfinite="stop", lr=v["lr"], momentum=v["mu"])
    np.testing.assert_allclose(lines["path"].get_xydata(), trace.params, rtol=1e-12)
    _, vectors = np.linalg.eigh(problem.hessian)
    errors = np.abs(trace.params @ vectors)  # the minimizer is 0; |·| removes eigh's sign choice
    for i in range(2):
        np.testing.assert_allclose(lines[f"error{i}"].get_ydata(), errors[:, i], rtol=1e-9, atol=1e-300)
        # the dotted envelope C ρ^t lies on or above the error and touches it somewhere
        envelope = np.asarray(lines[f"predicted{i}"].get_ydata(), dtype=float)
        finite = np.isfinite(envelope) & (envelope > 0)
        assert np.all(errors[finite, i] <= envelope[finite] * (1 + 1e-9))
        assert np.any(np.isclose(errors[finite, i], envelope[finite], rtol=1e-9))
    lam = np.asarray(lines["rate_hb"].get_xdata())
    expected = [max(abs(np.linalg.eigvals(momentum.heavy_ball_matrix(v["lr"], v["mu"], x)))) for x in lam[::20]]
    np.testing.assert_allclose(lines["rate_hb"].get_ydata()[::20], expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(lines["rate_gd"].get_ydata(), np.abs(1 - v["lr"] * lam), rtol=1e-12)
    assert list(lines["mode1"].get_xdata()) == pytest.approx([49.0])


def test_default_is_the_optimal_setting_and_converges_fastest():
    lr, mu, rate = momentum.optimal_heavy_ball(1.0, 49.0)
    fig = momentum_figure.momentum_figure()
    assert (fig.values["lr"], fig.values["mu"]) == (lr, mu) == (0.0625, 0.5625)
    check_momentum_figure(fig, fig.values)
    best = momentum_figure.momentum_data()["errors"][-1].max()
    for control in fig.controls:  # every other static setting ends farther from the minimum
        for value in control.static:
            if value != control.default:
                data = momentum_figure.momentum_data(**{**fig.values, control.name: value})
                assert data["errors"][-1].max() > best


def test_registered_with_the_book_figures():
    assert widgets.FACTORIES["momentum"] is momentum_figure.momentum_figure


def test_static_page_stays_light():
    page = momentum_figure.momentum_figure().static_html()
    assert len(page) < 400_000
