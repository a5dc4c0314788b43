"""The momentum chapter's interactive figure: heavy ball on a rotated ravine, mode by mode.

Sliders for the learning rate α and the momentum μ move three panels:

1. (top left) the iterates of ``SGD(lr=α, momentum=μ)`` on the contours of a rotated quadratic with
   eigenvalues 1 and 49 (κ = 49, so that √κ = 7 and the best parameters are round numbers), with
   the two eigen-directions drawn through the minimum;
2. (bottom) the error in each eigen-direction, |x_{t,i}|, against the step, with the rate ρ_i^t that the
   theory predicts for that mode (dotted);
3. (top right) the rate of a mode as a function of its eigenvalue λ, for heavy ball at (α, μ) and for gradient
   descent at the same α, with the two eigenvalues of the ravine marked.

The numbers come from :func:`adamedu.trace.run` and :mod:`adamedu.momentum`; :func:`draw` and
:func:`update` only place them on axes, and :func:`momentum_figure` joins them in an
:class:`adamedu.interactive_figure.InteractiveFigure`.
"""

from __future__ import annotations

import functools

import numpy as np
from matplotlib.figure import Figure

from adamedu import momentum
from adamedu.interactive_figure import Control, InteractiveFigure
from adamedu.optim import SGD
from adamedu.plots import FigureHandle, contour_panel
from adamedu.problems import IllConditionedQuadratic
from adamedu.trace import run

__all__ = ["PROBLEM", "STEPS", "momentum_data", "draw", "update", "momentum_figure"]

STEPS = 100
CONDITION_NUMBER = 49.0
ANGLE = np.pi / 6
#: The figure's ravine: eigenvalues 1 and 49, valley rotated by 30°.
PROBLEM = {"condition_number": CONDITION_NUMBER, "angle": ANGLE}
XLIM, YLIM = (-5.2, 2.6), (-3.4, 2.2)
LAMBDA_AXIS = np.linspace(0.0, 60.0, 241)

# Until the shared palette lands: heavy ball in the momentum colour of adamedu.plots, gradient
# descent in the SGD colour, the two modes in an orange/blue pair that stays apart for colour-blind
# readers.
COLORS = {"heavy ball": "#2ca02c", "gradient descent": "#1f77b4", "slow mode": "#e66100",
          "fast mode": "#5d3a9b", "reference": "#444444"}


@functools.lru_cache(maxsize=1)
def _problem():
    return IllConditionedQuadratic(**PROBLEM)


def _envelope(errors, rates):
    """C_i ρ_i^t with the smallest C_i that keeps it above the mode's error at every step shown."""
    t = np.arange(len(errors))[:, None]
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        powers = rates[None, :] ** t
        scale = np.nanmax(np.where(powers > 0, errors / powers, 0.0), axis=0)
        return scale[None, :] * powers


def momentum_data(lr=0.0625, mu=0.5625, steps=STEPS):
    """Heavy ball's path, its per-mode errors and the per-eigenvalue rates at (``lr``, ``mu``)."""
    problem = _problem()
    with np.errstate(over="ignore", invalid="ignore"):  # an unstable setting diverges: stop there
        trace = run(SGD, problem, steps, record=("params",), on_nonfinite="stop", lr=lr,
                    momentum=mu)
    eigenvalues, vectors = momentum.eigenmodes(problem)
    errors = np.abs(momentum.mode_errors(problem, trace.params))
    rates = momentum.heavy_ball_mode_rate(lr, mu, eigenvalues)
    t = np.arange(len(trace.params))
    return {
        "loss": problem.loss, "start": problem.x0, "minimizer": problem.minimizer,
        "eigenvalues": eigenvalues, "eigenvectors": vectors,
        "path": trace.params, "t": t, "errors": errors,
        "predicted": _envelope(errors, rates),
        "rates": rates,
        "lambda": LAMBDA_AXIS,
        "rate_heavy_ball": momentum.heavy_ball_mode_rate(lr, mu, LAMBDA_AXIS),
        "rate_gradient_descent": np.abs(1.0 - lr * LAMBDA_AXIS),
        "lr": lr, "momentum": mu, "steps": steps,
    }


def draw(data) -> FigureHandle:
    """Three panels: path on the contours, rate against eigenvalue, error per eigen-direction."""
    # Two rows (path and rates on top, the modes below): narrow enough to stay legible on a phone.
    fig = Figure(figsize=(7.2, 6.0), dpi=100)
    axes = [fig.add_axes(box) for box in ((0.085, 0.57, 0.40, 0.37), (0.085, 0.08, 0.895, 0.36),
                                          (0.585, 0.57, 0.395, 0.37))]
    h = FigureHandle(fig, axes)
    ax = axes[0]
    contour_panel(ax, data["loss"], XLIM, YLIM)
    for i, (name, style) in enumerate((("slow mode", "-"), ("fast mode", "-"))):
        q = data["eigenvectors"][:, i]
        ax.plot([-6 * q[0], 6 * q[0]], [-6 * q[1], 6 * q[1]], color=COLORS[name], lw=0.9, ls=":")
    ax.plot(*data["start"], marker="s", color="#111111", ms=5)
    (h.lines["path"],) = ax.plot([], [], color=COLORS["heavy ball"], lw=1.2, marker="o", ms=2)
    ax.set(xlim=XLIM, ylim=YLIM, xlabel=r"$\theta_1$", ylabel=r"$\theta_2$", aspect="equal",
           title="iterates (dotted: eigen-directions)")
    ax.title.set_fontsize(10)

    ax = axes[1]
    for i, name in enumerate(("slow mode", "fast mode")):
        lam = data["eigenvalues"][i]
        (h.lines[f"error{i}"],) = ax.plot([], [], color=COLORS[name], lw=1.4,
                                          label=rf"$|x_{{t,{i + 1}}}|$, $\lambda_{i + 1} = {lam:g}$")
        (h.lines[f"predicted{i}"],) = ax.plot([], [], color=COLORS[name], lw=1.0, ls=":")
    ax.set(yscale="log", xlim=(0, data["steps"]), ylim=(1e-12, 1e3), xlabel="step t",
           title=r"error per eigen-direction (dotted: $C\rho_i^t$)")
    ax.title.set_fontsize(10)
    ax.legend(loc="lower left", fontsize=8, frameon=True, framealpha=0.9)

    ax = axes[2]
    ax.axhline(1.0, color=COLORS["reference"], lw=0.8, ls="--")
    (h.lines["rate_gd"],) = ax.plot([], [], color=COLORS["gradient descent"], lw=1.2, ls="--",
                                    label=r"gradient descent, $|1-\alpha\lambda|$")
    (h.lines["rate_hb"],) = ax.plot([], [], color=COLORS["heavy ball"], lw=1.8, label="heavy ball")
    for i, name in enumerate(("slow mode", "fast mode")):
        (h.lines[f"mode{i}"],) = ax.plot([], [], ls="none", marker="o", ms=6, color=COLORS[name])
    ax.set(xlim=(0, LAMBDA_AXIS[-1]), ylim=(0, 1.6), xlabel=r"eigenvalue $\lambda$",
           title="rate per step of a mode")
    ax.title.set_fontsize(10)
    ax.legend(loc="upper left", fontsize=8, frameon=True, framealpha=0.9)
    update(h, data)
    return h


def update(h: FigureHandle, data) -> None:
    """Move new data into the artists :func:`draw` made."""
    L = h.lines
    L["path"].set_data(data["path"][:, 0], data["path"][:, 1])
    t = data["t"]
    for i in range(2):
        L[f"error{i}"].set_data(t, data["errors"][:, i])
        L[f"predicted{i}"].set_data(t, data["predicted"][:, i])
    L["rate_hb"].set_data(data["lambda"], data["rate_heavy_ball"])
    L["rate_gd"].set_data(data["lambda"], data["rate_gradient_descent"])
    for i in range(2):
        L[f"mode{i}"].set_data(data["eigenvalues"][i:i + 1], data["rates"][i:i + 1])


# The live sliders: α in steps of 0.0025 and μ in steps of 0.0025, so that the optimal
# α* = 1/16 and μ* = 9/16 for κ = 49 are reachable; the static page offers a grid through them.
LR_OPTIONS = tuple(round(0.0025 * k, 4) for k in range(1, 35))  # 0.0025 ... 0.085
MOMENTUM_OPTIONS = tuple(round(0.0025 * k, 4) for k in range(0, 397))  # 0 ... 0.99


def momentum_figure() -> InteractiveFigure:
    """α and μ against heavy ball's path, its per-mode errors and the rate of every mode."""
    controls = [
        Control("lr", "learning rate α", "options", 0.0625, options=LR_OPTIONS,
                static=(0.01, 0.02, 0.03, 0.04, 0.05, 0.0625, 0.075), fmt="{:g}"),
        Control("mu", "momentum μ", "options", 0.5625, options=MOMENTUM_OPTIONS,
                static=(0.0, 0.25, 0.5, 0.5625, 0.75, 0.9, 0.97), fmt="{:g}"),
    ]
    return InteractiveFigure(
        "momentum", "Heavy ball on a ravine with eigenvalues 1 and 49, mode by mode", controls,
        momentum_data, draw, update,
        alt=lambda v: (f"Heavy-ball momentum with learning rate {v['lr']:g} and momentum "
                       f"{v['mu']:g} on a ravine rotated by 30 degrees with eigenvalues 1 "
                       "and 49. Top left: the iterates on the contour lines, with the two "
                       "eigen-directions dotted. Top right: the rate per step of a mode against its "
                       "eigenvalue for heavy ball and for gradient descent at the same learning "
                       "rate; dots mark the two eigenvalues of the ravine. Bottom: the error along "
                       "each eigen-direction against the step on a log scale, with the predicted "
                       "rate as dotted lines."))
