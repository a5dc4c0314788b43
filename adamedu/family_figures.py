"""The interactive figure of the chapter on Adam's family: Adam, AMSGrad and ADOPT on Reddi's
problem.

Like :mod:`adamedu.widgets`, a data function computes what the figure shows from :mod:`adamedu`
(:func:`adamedu.trace.run` with the optimizers on :class:`adamedu.online.ReddiProblem`), a pure
``draw``/``update`` pair places it on axes, and :func:`reddi_figure` joins them in an
:class:`adamedu.interactive_figure.InteractiveFigure`: live sliders in a notebook, precomputed
frames on the static site.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from adamedu.interactive_figure import Control, InteractiveFigure
from adamedu.online import ReddiProblem
from adamedu.optim import ADOPT, Adam
from adamedu.plots import COLORS, FigureHandle, _line, new_figure
from adamedu.trace import run

__all__ = ["REDDI_STEPS", "REDDI_ORDER", "reddi_data", "draw_reddi", "update_reddi", "reddi_figure"]

REDDI_STEPS = 2000
REDDI_LR = 0.1  # α, used as α/√t (the schedule of the counterexample's theorem)
#: The optimizers of the figure: (class, fixed options), and their colours.
REDDI_RUNS = {"Adam": (Adam, {}), "AMSGrad": (Adam, {"amsgrad": True}), "ADOPT": (ADOPT, {})}
REDDI_ORDER = tuple(REDDI_RUNS)
REDDI_COLORS = {"Adam": COLORS["Adam"], "AMSGrad": "#ff7f0e", "ADOPT": "#17becf"}
REDDI_STYLES = {"Adam": "-", "AMSGrad": "--", "ADOPT": "-."}


@functools.lru_cache(maxsize=128)
def _reddi_path(name: str, C: float, beta1: float, beta2: float, steps: int) -> np.ndarray:
    """Decisions x_1 .. x_{steps+1} of one optimizer, from x_1 = 0 (cached, read-only)."""
    cls, fixed = REDDI_RUNS[name]
    problem = ReddiProblem(C)
    trace = run(
        cls,
        problem,
        steps,
        x0=np.zeros(1),
        record=("params",),
        lr_schedule=lambda t: REDDI_LR / math.sqrt(t),
        project=problem.project,
        lr=REDDI_LR,
        betas=(beta1, beta2),
        **fixed,
    )
    x = trace.params[:, 0].copy()
    x.setflags(write=False)
    return x


def reddi_data(C=3.0, beta2=0.1, beta1=0.0, steps=REDDI_STEPS):
    """Decisions and average regret of Adam, AMSGrad and ADOPT on Reddi et al.'s problem.

    The losses are :math:`f_t(x) = C x` when :math:`t \\bmod 3 = 1` and :math:`-x` otherwise, on
    :math:`[-1, 1]`; the best fixed decision is :math:`x = -1`. Each optimizer uses
    :math:`\\alpha_t = 0.1/\\sqrt t` and projects onto the interval after every step. The average
    regret is divided by :math:`2(C-2)/3`, the average regret of sitting at the worst point
    :math:`x = +1` for ever, so that 1 means "as bad as the worst point" for every ``C``.
    """
    problem = ReddiProblem(C)
    worst = 2 * (C - 2) / 3
    t = np.arange(1, steps + 1)
    x, regret = {}, {}
    for name in REDDI_ORDER:
        path = _reddi_path(name, float(C), float(beta1), float(beta2), int(steps))
        x[name] = path
        regret[name] = problem.regret(path[:-1]) / t / worst
    return {
        "t": t,
        "x": x,
        "regret": regret,
        "C": C,
        "beta1": beta1,
        "beta2": beta2,
        "critical": problem.critical_beta2,
    }


def draw_reddi(data) -> FigureHandle:
    fig, axes = new_figure(2, figsize=(8.6, 3.3), left=0.075, right=0.98, bottom=0.16, wspace=0.28)
    h = FigureHandle(fig, axes)
    steps = len(data["t"])
    ax = axes[0]
    ax.axhline(-1.0, color=COLORS["bound"], lw=0.8, ls=":")
    ax.annotate("optimum x = −1", (1, -1.0), xytext=(4, 4), textcoords="offset points", fontsize=8)
    for name in REDDI_ORDER:
        _line(
            ax,
            f"x_{name}",
            h,
            [],
            [],
            color=REDDI_COLORS[name],
            ls=REDDI_STYLES[name],
            lw=1.4,
            label=name,
        )
    ax.set(
        xscale="log",
        xlim=(1, steps + 1),
        ylim=(-1.08, 1.08),
        xlabel="round t",
        ylabel="decision $x_t$",
        title="decisions",
    )
    ax.legend(loc="upper left", fontsize=8, frameon=True, framealpha=0.9)
    ax = axes[1]
    ax.axhline(0.0, color=COLORS["bound"], lw=0.8, ls=":")
    ax.axhline(1.0, color=COLORS["bound"], lw=0.8, ls=":")
    for name in REDDI_ORDER:
        _line(
            ax,
            f"regret_{name}",
            h,
            [],
            [],
            color=REDDI_COLORS[name],
            ls=REDDI_STYLES[name],
            lw=1.4,
            label=name,
        )
    ax.set(
        xscale="log",
        xlim=(1, steps),
        ylim=(-0.6, 1.6),
        xlabel="round T",
        title="average regret / that of staying at +1",
    )
    update_reddi(h, data)
    return h


def update_reddi(h: FigureHandle, data) -> None:
    t = data["t"]
    for name in REDDI_ORDER:
        x = data["x"][name]
        h.lines[f"x_{name}"].set_data(np.arange(1, len(x) + 1), x)
        h.lines[f"regret_{name}"].set_data(t, data["regret"][name])


def reddi_figure() -> InteractiveFigure:
    """C, β1 and β2 against the decisions and the average regret of Adam, AMSGrad and ADOPT."""
    controls = [
        Control(
            "beta2",
            "β₂",
            "options",
            0.1,
            options=(0.01, 0.04, 0.1, 0.3, 0.5, 0.9, 0.99, 0.999),
            static=(0.01, 0.1, 0.5, 0.999),
        ),
        Control(
            "C",
            "large gradient C",
            "options",
            3.0,
            options=(2.5, 3.0, 5.0, 10.0),
            static=(3.0, 10.0),
        ),
        Control("beta1", "β₁", "options", 0.0, options=(0.0, 0.5, 0.9), static=(0.0, 0.9)),
    ]
    return InteractiveFigure(
        "reddi",
        "Adam, AMSGrad and ADOPT on Reddi et al.'s online problem",
        controls,
        reddi_data,
        draw_reddi,
        update_reddi,
        alt=lambda v: (
            "Left: the decisions x_t of Adam, AMSGrad and ADOPT over 2000 rounds (log "
            f"scale) of Reddi et al.'s problem with C = {v['C']:g}, beta1 = "
            f"{v['beta1']:g} and beta2 = {v['beta2']:g}, with the optimum x = -1 dotted. "
            "Right: their average regret, as a fraction of the average regret of "
            "staying at the worst point +1."
        ),
    )
