"""The book's figures as pure matplotlib functions: ``draw_*`` builds a figure from data and
``update_*`` moves new data into the artists of a figure ``draw_*`` built.

Nothing here computes optimizer quantities: the data come from :mod:`adamedu` (see
:mod:`adamedu.widgets`, which assembles them), and these functions only place them on axes. Every
``draw_*`` returns a :class:`FigureHandle` whose ``moving`` list holds the artists that ``update_*``
changes; axis limits are fixed when the figure is drawn, so moving data never rescales an axis
(the figure does not jump) and an interactive display may repaint only the moving artists.

The ``draw_*`` figures (those of :mod:`adamedu.widgets`) are :class:`matplotlib.figure.Figure`
objects made without pyplot, so that an interactive figure never leaves a stray static copy in a
notebook. The ``plot_*`` functions are for the chapters' static figures and use pyplot like the
rest of a chapter's plotting code (show with ``plt.show()`` or glue them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = [
    "FigureHandle",
    "new_figure",
    "contour_panel",
    "running_mean",
    "plot_race",
    "plot_angles",
    "draw_snr_annealing",
    "update_snr_annealing",
    "draw_step_bounds",
    "update_step_bounds",
    "draw_bias_correction",
    "update_bias_correction",
    "draw_rescaling",
    "update_rescaling",
    "draw_race",
    "update_race",
    "draw_direction",
    "update_direction",
    "COLORS",
]

#: One colour per optimizer, used the same way in every figure.
COLORS = {
    "SGD": "#1f77b4",
    "Momentum": "#2ca02c",
    "RMSprop": "#9467bd",
    "Adam": "#d62728",
    "bound": "#444444",
    "supremum": "#ff7f0e",
}


@dataclass
class FigureHandle:
    """A figure, its axes, and the named artists that follow the data."""

    fig: Figure
    axes: list
    lines: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def moving(self) -> list:
        return list(self.lines.values())


def new_figure(ncols: int, figsize=(8.0, 3.2), dpi: int = 100, left=0.07, right=0.98, bottom=0.17,
               top=0.88, wspace=0.3):
    """A figure with ``ncols`` panels and fixed margins (no layout engine: artists stay put)."""
    fig = Figure(figsize=figsize, dpi=dpi)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top, wspace=wspace)
    return fig, axes


def running_mean(values, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each index along axis 0 (fewer at the start).

    For display: it smooths a noisy per-step curve without shifting it forward in time.
    """
    if int(window) != window or window < 1:
        raise ValueError(f"Invalid window: {window} (must be a positive integer)")
    values = np.asarray(values, dtype=float)
    csum = np.concatenate([np.zeros((1,) + values.shape[1:]), np.cumsum(values, axis=0)])
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - int(window), 0)
    count = (idx - lo).reshape((-1,) + (1,) * (values.ndim - 1))
    return (csum[idx] - csum[lo]) / count


def contour_panel(ax, loss, xlim, ylim, levels=None, n: int = 160, log: bool = True):
    """Filled-line contours of ``loss`` (vectorised over (..., 2)) over a grid; returns the set."""
    x = np.linspace(*xlim, n)
    y = np.linspace(*ylim, n)
    grid = np.stack(np.meshgrid(x, y), axis=-1)
    z = np.asarray(loss(grid), dtype=float)
    if levels is None:
        if log:
            zmin = float(np.min(z))
            shifted = z - zmin + 1e-3 * (np.ptp(z) + 1e-12)
            levels = np.geomspace(shifted.min(), shifted.max(), 16)
            z = shifted
        else:
            levels = 16
    cs = ax.contour(x, y, z, levels=levels, cmap="Greys_r", linewidths=0.7, alpha=0.7)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return cs


def _line(ax, name, handle, *args, **kwargs) -> Line2D:
    (line,) = ax.plot(*args, **kwargs)
    handle.lines[name] = line
    return line


# --- 1. SNR-based annealing -----------------------------------------------------------------------
# data: t (steps,), distance (steps+1,) mean |x - x*|, snr (steps,) |m̂/√v̂| averaged over coordinates,
#       step (steps,) |Δ_t| averaged over coordinates, lr (float), window (int)


def draw_snr_annealing(data) -> FigureHandle:
    fig, axes = new_figure(3, figsize=(9.0, 3.1), left=0.065, wspace=0.34)
    h = FigureHandle(fig, axes)
    t = data["t"]
    steps = len(t)
    ax = axes[0]
    _line(ax, "distance", h, np.arange(steps + 1), data["distance"], color=COLORS["Adam"], lw=1.4)
    ax.set(yscale="log", xlim=(0, steps), ylim=(1e-3, 3.0), xlabel="iteration t",
           title="mean distance |x| to the optimum")
    ax = axes[1]
    _line(ax, "snr_raw", h, t, data["snr"], color=COLORS["Adam"], lw=0.6, alpha=0.3)
    _line(ax, "snr_mean", h, t, running_mean(data["snr"], data["window"]), color=COLORS["Adam"],
          lw=1.6, label=f"mean of last {data['window']}")
    ax.set(yscale="log", xlim=(1, steps), ylim=(1e-3, 10.0), xlabel="iteration t",
           title=r"mean $|\hat m_t / \sqrt{\hat v_t}|$")
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    ax = axes[2]
    _line(ax, "step_mean", h, t, running_mean(data["step"], data["window"]), color=COLORS["Adam"],
          lw=1.6, label=r"$|\Delta_t|$, mean of last %d" % data["window"])
    _line(ax, "lr", h, [1, steps], [data["lr"], data["lr"]], color=COLORS["bound"], lw=1.0,
          ls="--", label=r"learning rate $\alpha$")
    ax.set(yscale="log", xlim=(1, steps), ylim=(1e-6, 0.3), xlabel="iteration t",
           title=r"mean step size $|\Delta_t|$")
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    return h


def update_snr_annealing(h: FigureHandle, data) -> None:
    t = data["t"]
    L = h.lines
    L["distance"].set_data(np.arange(len(t) + 1), data["distance"])
    L["snr_raw"].set_data(t, data["snr"])
    L["snr_mean"].set_data(t, running_mean(data["snr"], data["window"]))
    L["step_mean"].set_data(t, running_mean(data["step"], data["window"]))
    L["lr"].set_data([1, len(t)], [data["lr"], data["lr"]])


# --- 2. Trust-region step bounds --------------------------------------------------------------
# data: t (steps,), ratio (steps,) |Δ_t|/α, supremum (steps,) exact sup at each t,
#       paper (float) the paper's stated bound, gradients (steps,) the sequence fed to Adam


def draw_step_bounds(data) -> FigureHandle:
    fig, axes = new_figure(2, figsize=(8.4, 3.2), left=0.07, wspace=0.28)
    h = FigureHandle(fig, axes)
    t = data["t"]
    steps = len(t)
    ax = axes[0]
    _line(ax, "gradients", h, t, data["gradients"], color=COLORS["SGD"], lw=0.9, marker="o", ms=2.5)
    ax.set(xlim=(0, steps + 1), ylim=(-1.15, 1.15), xlabel="step t", title="gradient sequence $g_t$")
    ax = axes[1]
    _line(ax, "ratio", h, t, data["ratio"], color=COLORS["Adam"], lw=1.0, marker="o", ms=2.5,
          label=r"Adam: $|\Delta_t|/\alpha$")
    _line(ax, "supremum", h, t, data["supremum"], color=COLORS["supremum"], lw=1.8,
          label="exact supremum at step t")
    _line(ax, "paper", h, [0, steps + 1], [data["paper"]] * 2, color=COLORS["bound"], lw=1.2,
          ls="--", label="the paper's stated bound")
    ax.set(yscale="log", xlim=(0, steps + 1), ylim=(1e-3, 1e2), xlabel="step t",
           title=r"step size over learning rate, $|\Delta_t|/\alpha$")
    ax.legend(loc="lower right", fontsize=8, frameon=True, framealpha=0.9)
    return h


def update_step_bounds(h: FigureHandle, data) -> None:
    t = data["t"]
    h.lines["gradients"].set_data(t, data["gradients"])
    h.lines["ratio"].set_data(t, data["ratio"])
    h.lines["supremum"].set_data(t, data["supremum"])
    h.lines["paper"].set_data([0, len(t) + 1], [data["paper"]] * 2)


# --- 3. Bias correction -------------------------------------------------------------------------
# data: t (steps,), m_raw, m_hat, v_raw, v_hat (steps,), step_corrected, step_raw (steps,) |Δ|/α,
#       mean (E[g]), second_moment (E[g²]), cursor (int step)


def draw_bias_correction(data) -> FigureHandle:
    fig, axes = new_figure(3, figsize=(9.0, 3.1), left=0.06, wspace=0.32)
    h = FigureHandle(fig, axes)
    t = data["t"]
    steps = len(t)
    panels = [
        ("m", r"first moment", data["mean"], (0.0, 1.6 * data["mean"]), "linear"),
        ("v", r"second moment", data["second_moment"], (0.0, 1.6 * data["second_moment"]), "linear"),
    ]
    for ax, (key, title, truth, ylim, scale) in zip(axes[:2], panels):
        ax.axhline(truth, color=COLORS["bound"], lw=1.0, ls="--",
                   label=r"$E[g]$" if key == "m" else r"$E[g^2]$")
        _line(ax, f"{key}_raw", h, t, data[f"{key}_raw"], color=COLORS["SGD"], lw=1.3,
              label=f"${key}_t$ (raw)")
        _line(ax, f"{key}_hat", h, t, data[f"{key}_hat"], color=COLORS["Adam"], lw=1.3,
              label=rf"$\hat {key}_t$ (corrected)")
        ax.set(xscale="log", yscale=scale, xlim=(1, steps), ylim=ylim, xlabel="step t", title=title)
        ax.legend(loc="lower right", fontsize=8, frameon=True, framealpha=0.9)
    ax = axes[2]
    ax.axhline(1.0, color=COLORS["bound"], lw=1.0, ls="--")
    _line(ax, "step_raw", h, t, data["step_raw"], color=COLORS["SGD"], lw=1.3, label="without correction")
    _line(ax, "step_corrected", h, t, data["step_corrected"], color=COLORS["Adam"], lw=1.3,
          label="with correction")
    ax.set(xscale="log", yscale="log", xlim=(1, steps), ylim=(1e-2, 1e1), xlabel="step t",
           title=r"step size $|\Delta_t|/\alpha$")
    ax.legend(loc="lower right", fontsize=8, frameon=True, framealpha=0.9)
    for i, ax in enumerate(axes):
        _line(ax, f"cursor{i}", h, [1, 1], [0, 1], color="#777777", lw=0.8,
              transform=ax.get_xaxis_transform())
    _line(axes[0], "m_dots", h, [], [], ls="none", marker="o", ms=5, color="#222222")
    _line(axes[1], "v_dots", h, [], [], ls="none", marker="o", ms=5, color="#222222")
    _line(axes[2], "step_dots", h, [], [], ls="none", marker="o", ms=5, color="#222222")
    update_bias_correction(h, data)
    return h


def update_bias_correction(h: FigureHandle, data) -> None:
    t = data["t"]
    L = h.lines
    for key in ("m_raw", "m_hat", "v_raw", "v_hat", "step_raw", "step_corrected"):
        L[key].set_data(t, data[key])
    c = int(data["cursor"])
    i = c - 1
    for j in range(3):
        L[f"cursor{j}"].set_data([c, c], [0, 1])
    L["m_dots"].set_data([c, c], [data["m_raw"][i], data["m_hat"][i]])
    L["v_dots"].set_data([c, c], [data["v_raw"][i], data["v_hat"][i]])
    L["step_dots"].set_data([c, c], [data["step_raw"][i], data["step_corrected"][i]])


# --- 4. Rescaling invariance ----------------------------------------------------------------------
# data: loss (vectorised callable), xlim, ylim, start (2,), paths: dict with keys
#       adam, adam_scaled, sgd, sgd_scaled -> (n, 2) arrays of parameters


def draw_rescaling(data) -> FigureHandle:
    fig, axes = new_figure(2, figsize=(8.4, 3.3), left=0.08, bottom=0.15, wspace=0.25)
    h = FigureHandle(fig, axes)
    for ax, name in zip(axes, ("Adam", "SGD")):
        contour_panel(ax, data["loss"], data["xlim"], data["ylim"])
        key = name.lower()
        _line(ax, key, h, *data["paths"][key].T, color=COLORS[name], lw=1.4, marker="o", ms=2,
              label=f"{name}, gradients as they are")
        _line(ax, key + "_scaled", h, *data["paths"][key + "_scaled"].T, color="#111111", lw=1.2,
              ls="--", label=f"{name}, rescaled gradients")
        ax.plot(*data["start"], marker="s", color="#111111", ms=5)
        ax.set(xlabel="x", ylabel="y", title=f"{name}: before and after rescaling")
        ax.legend(loc="upper right", fontsize=8, frameon=True, framealpha=0.9)
    return h


def update_rescaling(h: FigureHandle, data) -> None:
    for key, path in data["paths"].items():
        h.lines[key].set_data(path[:, 0], path[:, 1])


# --- 5. Optimizer race -----------------------------------------------------------------------
# data: problem_key (str), loss (vectorised callable), xlim, ylim, start (2,), minimizer (2,) or
#       None, paths: dict optimizer name -> (n, 2) parameters, labels: name -> legend text

RACE_ORDER = ("SGD", "Momentum", "RMSprop", "Adam")


def draw_race(data) -> FigureHandle:
    fig, axes = new_figure(1, figsize=(6.4, 4.4), left=0.1, right=0.72, bottom=0.12, top=0.92)
    h = FigureHandle(fig, axes)
    ax = axes[0]
    for name in RACE_ORDER:
        _line(ax, name, h, *data["paths"][name].T, color=COLORS[name], lw=1.5, label=name)
    (h.extra["start"],) = ax.plot([], [], ls="none", marker="s", ms=6, color="#111111", zorder=5)
    (h.extra["goal"],) = ax.plot([], [], ls="none", marker="*", ms=12, color="#e6b800", zorder=5)
    ax.set(xlabel="x", ylabel="y")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, frameon=False)
    h.extra["problem_key"] = None
    update_race(h, data)
    return h


def update_race(h: FigureHandle, data) -> None:
    ax = h.axes[0]
    if h.extra.get("problem_key") != data["problem_key"]:
        if h.extra.get("contours") is not None:
            h.extra["contours"].remove()
        h.extra["contours"] = contour_panel(ax, data["loss"], data["xlim"], data["ylim"])
        ax.set_title(data["title"], fontsize=10)
        # start and goal belong to the function: they move only with it (not animated)
        h.extra["start"].set_data([data["start"][0]], [data["start"][1]])
        goal = data["minimizer"]
        h.extra["goal"].set_data([] if goal is None else [goal[0]], [] if goal is None else [goal[1]])
        h.extra["problem_key"] = data["problem_key"]
    for name in RACE_ORDER:
        path = data["paths"][name]
        h.lines[name].set_data(path[:, 0], path[:, 1])


# --- 6. Direction against steepest descent ----------------------------------------------------
# data: loss, xlim, ylim, start, paths: {"GD": (n,2), "Adam": (n,2)},
#       angles: {"Adam": (steps,), "Momentum": (steps,)} degrees per step


def draw_direction(data) -> FigureHandle:
    fig, axes = new_figure(2, figsize=(8.6, 3.3), left=0.075, bottom=0.15, wspace=0.27)
    h = FigureHandle(fig, axes)
    ax = axes[0]
    contour_panel(ax, data["loss"], data["xlim"], data["ylim"])
    _line(ax, "path_GD", h, *data["paths"]["GD"].T, color=COLORS["SGD"], lw=1.2, marker="o", ms=2,
          label="gradient descent")
    _line(ax, "path_Adam", h, *data["paths"]["Adam"].T, color=COLORS["Adam"], lw=1.2, marker="o",
          ms=2, label="Adam")
    ax.plot(*data["start"], marker="s", color="#111111", ms=5)
    ax.set(xlabel="x", ylabel="y", title="paths along the ravine")
    ax.legend(loc="upper right", fontsize=8, frameon=True, framealpha=0.9)
    ax = axes[1]
    steps = len(data["angles"]["Adam"])
    t = np.arange(1, steps + 1)
    ax.axhline(90.0, color=COLORS["bound"], lw=0.8, ls=":")
    _line(ax, "angle_GD", h, t, np.zeros(steps), color=COLORS["SGD"], lw=1.2, label="gradient descent")
    _line(ax, "angle_Adam", h, t, data["angles"]["Adam"], color=COLORS["Adam"], lw=1.2, marker="o",
          ms=2, label="Adam")
    ax.set(xlim=(0, steps + 1), ylim=(-3, 180), yticks=[0, 30, 60, 90, 120, 150, 180],
           xlabel="step t", title=r"angle between $\Delta_t$ and $-\nabla f$ (degrees)")
    ax.legend(loc="upper right", fontsize=8, frameon=True, framealpha=0.9)
    update_direction(h, data)
    return h


def update_direction(h: FigureHandle, data) -> None:
    for name in ("GD", "Adam"):
        path = data["paths"][name]
        h.lines[f"path_{name}"].set_data(path[:, 0], path[:, 1])
    steps = len(data["angles"]["Adam"])
    t = np.arange(1, steps + 1)
    h.lines["angle_GD"].set_data(t, data["angles"]["GD"])
    h.lines["angle_Adam"].set_data(t, data["angles"]["Adam"])


# --- Static figures for the chapters (pyplot) ---------------------------------------------------


def _path_limits(problem, paths, pad: float = 0.08):
    points = [np.asarray(problem.x0, dtype=float)[None, :]]
    if getattr(problem, "minimizer", None) is not None:
        points.append(np.asarray(problem.minimizer, dtype=float)[None, :])
    points += [p[np.all(np.isfinite(p), axis=1)] for p in paths]
    allp = np.concatenate(points)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = np.maximum(hi - lo, 1e-9)
    return (lo[0] - pad * span[0], hi[0] + pad * span[0]), (lo[1] - pad * span[1], hi[1] + pad * span[1])


def plot_race(problem, runs: dict, xlim=None, ylim=None, figsize=(9.0, 3.4)):
    """Paths on the contours of a 2-D ``problem`` (left) and loss against step (right).

    ``runs`` maps a legend label to a :class:`adamedu.trace.Trace` that recorded ``params`` and
    ``loss``. The plot range covers every path unless ``xlim``/``ylim`` are given.
    """
    import matplotlib.pyplot as plt

    fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=figsize, dpi=100,
                                           gridspec_kw={"width_ratios": [1.25, 1]})
    auto_x, auto_y = _path_limits(problem, [trace.params for trace in runs.values()])
    contour_panel(ax_path, problem.loss, xlim or auto_x, ylim or auto_y)
    for i, (label, trace) in enumerate(runs.items()):
        color = f"C{i}"
        ax_path.plot(trace.params[:, 0], trace.params[:, 1], color=color, lw=1.3, marker="o", ms=1.8,
                     label=label)
        ax_loss.plot(np.arange(len(trace.loss)), trace.loss, color=color, lw=1.4, label=label)
    ax_path.plot(*problem.x0, marker="s", color="#111111", ms=5)
    if getattr(problem, "minimizer", None) is not None:
        ax_path.plot(*problem.minimizer, marker="*", color="#e6b800", ms=11)
    ax_path.set(xlabel="x", ylabel="y", title="paths from the same start")
    positive = all(np.all(np.asarray(trace.loss) > 0) for trace in runs.values())
    ax_loss.set(yscale="log" if positive else "linear", xlabel="step t", title=r"loss $f(x_t)$")
    ax_loss.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_angles(angles: dict, figsize=(8.0, 3.2)):
    """Angle (degrees) between each step and −∇f against the step, one line per entry.

    ``angles`` maps a legend label to a per-step array, such as
    :func:`adamedu.analysis.angle_to_steepest_descent` returns. The dotted line marks 90°: above
    it a step goes uphill to first order.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize, dpi=100)
    for i, (label, values) in enumerate(angles.items()):
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, color=f"C{i}", lw=1.3, label=label)
    ax.axhline(90.0, color=COLORS["bound"], lw=0.9, ls=":")
    ax.set(ylim=(0, 180), yticks=[0, 30, 60, 90, 120, 150, 180], xlabel="step t",
           ylabel="degrees", title=r"angle between the step $\Delta_t$ and $-\nabla f$")
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
