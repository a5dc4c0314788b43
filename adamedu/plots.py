"""The book's figures as pure matplotlib functions: ``draw_*`` builds a figure from data and
``update_*`` moves new data into the artists of a figure ``draw_*`` built.

Nothing here computes optimizer quantities: the data come from :mod:`adamedu` (see
:mod:`adamedu.widgets`, which assembles them) as the small dataclasses below, and these functions
only place them on axes. Every ``draw_*`` returns a :class:`FigureHandle` whose ``lines`` are the
artists that ``update_*`` changes; axis limits are fixed when the figure is drawn, so moving data
never rescales an axis (the figure does not jump) and an interactive display may repaint only the
moving artists.

Every ``draw_*`` takes a ``layout``: ``"wide"`` puts the panels side by side for a text column
(about 760 CSS pixels), ``"narrow"`` stacks them for a phone (about 360 pixels), so that labels keep
their size on a small screen. Colours, line styles and markers come from :mod:`adamedu.palette`.

The ``draw_*`` figures are :class:`matplotlib.figure.Figure` objects made without pyplot, so that an
interactive figure never leaves a stray static copy in a notebook. The ``plot_*`` functions are for
the chapters' static figures and use pyplot like the rest of a chapter's plotting code.
:func:`use_book_style` gives a chapter's own figures the book's look.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from adamedu import palette
from adamedu.palette import style

__all__ = [
    "LAYOUTS",
    "FigureHandle",
    "book_style",
    "use_book_style",
    "new_figure",
    "format_number",
    "human_log_axis",
    "contour_panel",
    "fill_box",
    "running_mean",
    "plot_race",
    "plot_angles",
    "SnrAnnealingData",
    "StepBoundsData",
    "BiasCorrectionData",
    "RescalingData",
    "RaceData",
    "DirectionData",
    "AdamStepData",
    "CounterexampleData",
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
    "draw_adam_step",
    "update_adam_step",
    "draw_counterexample",
    "update_counterexample",
]

#: The two arrangements of a figure's panels.
LAYOUTS = ("wide", "narrow")
#: Figure widths in inches. Vector output is 96 CSS pixels per inch: 7.9 in is the width of the
#: book's text column, 3.75 in the column of a 390-pixel phone.
WIDE_WIDTH = 7.9
NARROW_WIDTH = 3.75
# Margins around panels, in inches: room for tick labels (left), the x label (bottom), the
# title (top) and the gaps between panels.
_LEFT, _RIGHT, _BOTTOM, _TOP = 0.58, 0.14, 0.46, 0.30
_HGAP, _VGAP = 0.62, 0.80


@dataclass
class FigureHandle:
    """A figure, its axes, and the named artists that follow the data."""

    fig: Figure
    axes: list
    lines: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    layout: str = "wide"

    @property
    def moving(self) -> list:
        return list(self.lines.values())


# --- style and layout ---------------------------------------------------------------------------


@contextlib.contextmanager
def book_style() -> Iterator[None]:
    """Within this block, new figures get the book's matplotlib settings (:func:`palette.rc`)."""
    with matplotlib.rc_context(palette.rc()):
        yield


def use_book_style() -> None:
    """Give every figure made from now on the book's look: call once at the top of a notebook.

    Sets the book's matplotlib settings (:func:`adamedu.palette.rc`: the colour-blind-safe colour
    cycle, font sizes, numbers for people) and, in IPython, shows figures as PNG images at twice the
    screen's pixel density. When the notebook runs without a live frontend (the book's build), each
    figure also carries the vector form the book's site shows (see :mod:`adamedu.figure_export`).
    """
    matplotlib.rcParams.update(palette.rc())
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipywidgets
        return
    shell = get_ipython()
    if shell is None:
        return
    from adamedu import figure_export

    try:  # the inline backend of IPython kernels (it comes with IPython)
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # pragma: no cover
        pass
    else:
        set_matplotlib_formats("retina")
    figure_export.register_formatter(shell)


def new_figure(n_panels: int = 1, layout: str = "wide", height: float = 2.9,
               panel_heights: Sequence[float] | None = None,
               widths: Sequence[float] | None = None, dpi: int = 100, top_space: float = 0.0):
    """A figure with ``n_panels`` axes at fixed positions (no layout engine: artists stay put).

    ``"wide"``: the panels side by side in a figure :data:`WIDE_WIDTH` inches wide and ``height``
    high, their widths in the ratios ``widths``. ``"narrow"``: the panels stacked in a figure
    :data:`NARROW_WIDTH` wide, each ``panel_heights[i]`` inches high (2.3 by default).
    ``top_space`` inches are left free above the panels (for a legend of the whole figure).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"Invalid layout: {layout!r} (choose from {LAYOUTS})")
    if int(n_panels) != n_panels or n_panels < 1:
        raise ValueError(f"Invalid n_panels: {n_panels} (must be a positive integer)")
    if layout == "wide":
        ratios = np.asarray(widths if widths is not None else [1.0] * n_panels, dtype=float)
        usable = WIDE_WIDTH - _LEFT - _RIGHT - _HGAP * (n_panels - 1)
        fig = Figure(figsize=(WIDE_WIDTH, height + top_space), dpi=dpi)
        left = _LEFT
        boxes = []
        for w in usable * ratios / ratios.sum():
            boxes.append((left, _BOTTOM, w, height - _BOTTOM - _TOP))
            left += w + _HGAP
    else:
        heights = list(panel_heights if panel_heights is not None else [2.3] * n_panels)
        if len(heights) != n_panels:
            raise ValueError(f"Invalid panel_heights: {len(heights)} values for {n_panels} panels")
        total = sum(h + _BOTTOM + _TOP for h in heights)
        fig = Figure(figsize=(NARROW_WIDTH, total + top_space), dpi=dpi)
        boxes = []
        top = total
        for h in heights:
            top -= _TOP + h
            boxes.append((_LEFT, top, NARROW_WIDTH - _LEFT - _RIGHT, h))
            top -= _BOTTOM
    width, fig_height = fig.get_size_inches()
    axes = [fig.add_axes((x / width, y / fig_height, w / width, h / fig_height))
            for x, y, w, h in boxes]
    return fig, axes


def format_number(x: float, digits: int = 2) -> str:
    """A number as a person writes it: ``0.1``, ``0.999``, ``0.0032``, ``250``, ``10⁻⁸``, ``3×10⁻⁸``.

    A number with a short exact form (up to 6 significant digits) is written exactly; any other is
    rounded to ``digits`` significant digits.
    """
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    for exact in range(digits, 7):
        if math.isclose(float(f"{x:.{exact - 1}e}"), x, rel_tol=1e-9):
            digits = exact
            break
    exponent = math.floor(math.log10(abs(x)) + 1e-12)
    if -4 <= exponent < 5:
        decimals = max(0, digits - 1 - exponent)
        text = f"{x:.{decimals}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        return text.replace("-", "−")
    mantissa = x / 10.0**exponent
    power = "10" + str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    if abs(abs(mantissa) - 1) < 10.0 ** -(digits + 1):
        return ("−" if mantissa < 0 else "") + power
    return f"{mantissa:.{max(digits - 1, 0)}f}".rstrip("0").rstrip(".") + "×" + power


def _log_label(x: float, pos=None) -> str:
    if x <= 0:
        return ""
    exponent = round(math.log10(x))
    if not math.isclose(x, 10.0**exponent, rel_tol=1e-6):
        return ""
    if -2 <= exponent <= 3:
        return format_number(x)
    return rf"$10^{{{exponent}}}$"


def human_log_axis(ax: Axes, which: str = "y") -> None:
    """Label a logarithmic axis with 0.01, 0.1, 1, 10, 100, 1000 and powers of ten beyond."""
    for axis in ([ax.xaxis] if which == "x" else [ax.yaxis] if which == "y"
                 else [ax.xaxis, ax.yaxis]):
        axis.set_major_locator(LogLocator(base=10, numticks=8))
        axis.set_major_formatter(FuncFormatter(_log_label))
        axis.set_minor_formatter(NullFormatter())


def _legend(ax: Axes, **kwargs):
    options = {"loc": "best", "handlelength": 2.6, "borderaxespad": 0.3}
    options.update(kwargs)
    return ax.legend(**options)


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


def fill_box(ax: Axes, xlim, ylim) -> tuple[tuple, tuple]:
    """``xlim`` and ``ylim`` widened about their centres so that both axes of ``ax`` have the same
    scale in its present box (the box stays as it is, the view grows)."""
    box = ax.get_position()
    fig_w, fig_h = ax.get_figure().get_size_inches()
    box_aspect = (box.width * fig_w) / (box.height * fig_h)
    (x0, x1), (y0, y1) = xlim, ylim
    dx, dy = x1 - x0, y1 - y0
    if dx / dy < box_aspect:
        grow = (dy * box_aspect - dx) / 2
        x0, x1 = x0 - grow, x1 + grow
    else:
        grow = (dx / box_aspect - dy) / 2
        y0, y1 = y0 - grow, y1 + grow
    return (x0, x1), (y0, y1)


def contour_panel(ax: Axes, loss: Callable, xlim, ylim, levels=None, n: int = 160,
                  log: bool = True, equal: bool | str = True):
    """Contour lines of ``loss`` (vectorised over (..., 2)) over a grid, in the muted ink.

    With ``equal`` both axes have the same scale, so that a gradient is drawn perpendicular to its
    contour line: ``True`` widens the view to fill the axes' present box (:func:`fill_box`, for
    figures with fixed panels), ``"datalim"`` lets matplotlib widen it when the figure is drawn
    (for figures laid out later); the contours cover the wider view either way. Returns the
    contour set.
    """
    if equal is True:
        xlim, ylim = fill_box(ax, xlim, ylim)
    grid_x, grid_y = xlim, ylim
    if equal == "datalim":  # the view may grow to either side when the figure is drawn
        dx, dy = xlim[1] - xlim[0], ylim[1] - ylim[0]
        span = max(dx, dy)
        grid_x = (xlim[0] - span, xlim[1] + span)
        grid_y = (ylim[0] - span, ylim[1] + span)
        n = int(n * 1.6)
    x = np.linspace(*grid_x, n)
    y = np.linspace(*grid_y, n)
    grid = np.stack(np.meshgrid(x, y), axis=-1)
    z = np.asarray(loss(grid), dtype=float)
    if levels is None:
        if log:
            inside = (grid[..., 0] >= xlim[0]) & (grid[..., 0] <= xlim[1]) & \
                     (grid[..., 1] >= ylim[0]) & (grid[..., 1] <= ylim[1])
            view = z[inside] if np.any(inside) else z
            zmin = float(np.min(z))
            offset = -zmin + 1e-3 * (float(np.ptp(view)) + 1e-12)
            levels = np.geomspace(float(view.min()) + offset, float(view.max()) + offset, 16)
            z = z + offset
        else:
            levels = 16
    cs = ax.contour(x, y, z, levels=levels, colors=palette.MUTED, linewidths=0.6, alpha=0.8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    if equal == "datalim":
        ax.set_aspect("equal", adjustable="datalim")
    return cs


def _narrow_heights(height: float, widths: Sequence[float], equal: Sequence[bool],
                    other: float = 2.2) -> list:
    """Panel heights of a narrow layout in which each ``equal`` panel keeps its wide box's shape.

    Panels with equal scales on both axes widen their view to fill their box; the same shape in
    both layouts gives the same view, so that a frame's lines fit both.
    """
    ratios = np.asarray(widths, dtype=float)
    usable = WIDE_WIDTH - _LEFT - _RIGHT - _HGAP * (len(ratios) - 1)
    wide_w = usable * ratios / ratios.sum()
    wide_h = height - _BOTTOM - _TOP
    narrow_w = NARROW_WIDTH - _LEFT - _RIGHT
    return [narrow_w * wide_h / w if eq else other for w, eq in zip(wide_w, equal)]


def _line(ax: Axes, name: str, handle: FigureHandle, *args, **kwargs) -> Line2D:
    (line,) = ax.plot(*args, **kwargs)
    handle.lines[name] = line
    return line


def _cursor(ax: Axes, name: str, handle: FigureHandle) -> Line2D:
    """A vertical line at step t across the whole panel (x in data, y in axes coordinates)."""
    return _line(ax, name, handle, [1, 1], [0, 1], transform=ax.get_xaxis_transform(),
                 **style("cursor").kwargs())


def _dots(ax: Axes, name: str, handle: FigureHandle, color: str = palette.INK) -> Line2D:
    return _line(ax, name, handle, [], [], linestyle="none", marker="o", markersize=5.5,
                 color=color, zorder=5)


# --- 1. SNR-based annealing -----------------------------------------------------------------------


@dataclass(frozen=True)
class SnrAnnealingData:
    """Adam on a noisy quadratic; every curve is a mean over the coordinates.

    ``t``: steps 1..T; ``distance``: mean |x − x*| at steps 0..T; ``snr``: mean |m̂/√v̂| per
    step; ``step``: mean |Δ_t| per step; ``lr``: the learning rate α; ``window``: the running
    mean's length.
    """

    t: np.ndarray
    distance: np.ndarray
    snr: np.ndarray
    step: np.ndarray
    lr: float
    window: int


def draw_snr_annealing(data: SnrAnnealingData, layout: str = "wide") -> FigureHandle:
    with book_style():
        fig, axes = new_figure(3, layout, height=2.9)
        h = FigureHandle(fig, axes, layout=layout)
        steps = len(data.t)
        adam = style("Adam").kwargs(markers=False)
        ax = axes[0]
        _line(ax, "distance", h, np.arange(steps + 1), data.distance, **adam)
        ax.set(yscale="log", xlim=(0, steps), ylim=(1e-3, 3.0), xlabel="step t",
               title=r"mean distance $|x - x^\star|$")
        ax = axes[1]
        _line(ax, "snr_raw", h, data.t, data.snr, **dict(adam, linewidth=0.6, alpha=0.35),
              label="each step")
        _line(ax, "snr_mean", h, data.t, running_mean(data.snr, data.window), **adam,
              label=f"mean of last {data.window}")
        ax.set(yscale="log", xlim=(1, steps), ylim=(1e-3, 10.0), xlabel="step t",
               title=r"mean $|\hat m_t / \sqrt{\hat v_t}|$")
        _legend(ax, loc="lower left")
        ax = axes[2]
        _line(ax, "step_mean", h, data.t, running_mean(data.step, data.window), **adam,
              label=rf"$|\Delta_t|$, mean of last {data.window}")
        _line(ax, "lr", h, [1, steps], [data.lr, data.lr], **style("reference").kwargs(),
              label=r"learning rate $\alpha$")
        ax.set(yscale="log", xlim=(1, steps), ylim=(1e-6, 0.3), xlabel="step t",
               title=r"mean step size $|\Delta_t|$")
        _legend(ax, loc="lower left")
        for ax in axes:
            human_log_axis(ax, "y")
    return h


def update_snr_annealing(h: FigureHandle, data: SnrAnnealingData) -> None:
    L = h.lines
    L["distance"].set_data(np.arange(len(data.t) + 1), data.distance)
    L["snr_raw"].set_data(data.t, data.snr)
    L["snr_mean"].set_data(data.t, running_mean(data.snr, data.window))
    L["step_mean"].set_data(data.t, running_mean(data.step, data.window))
    L["lr"].set_data([1, len(data.t)], [data.lr, data.lr])


# --- 2. Trust-region step bounds --------------------------------------------------------------


@dataclass(frozen=True)
class StepBoundsData:
    """Adam's step on a 1-D gradient sequence against the bounds on it.

    ``t``: steps 1..T; ``gradients``: the sequence g_t fed to Adam; ``ratio``: |Δ_t|/α;
    ``supremum``: the exact supremum of |Δ_t|/α over all sequences at each t; ``paper``: the
    bound the paper states.
    """

    t: np.ndarray
    gradients: np.ndarray
    ratio: np.ndarray
    supremum: np.ndarray
    paper: float


def draw_step_bounds(data: StepBoundsData, layout: str = "wide") -> FigureHandle:
    with book_style():
        fig, axes = new_figure(2, layout, height=3.0, widths=(1, 1.25),
                               panel_heights=(2.0, 2.6))
        h = FigureHandle(fig, axes, layout=layout)
        steps = len(data.t)
        ax = axes[0]
        _line(ax, "gradients", h, data.t, data.gradients,
              **style("data").kwargs(markersize=3, label="$g_t$"))
        ax.set(xlim=(0, steps + 1), ylim=(-1.15, 1.15), xlabel="step t",
               title="gradient sequence $g_t$")
        ax = axes[1]
        _line(ax, "ratio", h, data.t, data.ratio,
              **style("Adam").kwargs(markersize=3, linewidth=1.0), label=r"Adam's $|\Delta_t|/\alpha$")
        _line(ax, "supremum", h, data.t, data.supremum, **style("theory").kwargs(linewidth=1.8),
              label="largest possible at step t")
        _line(ax, "paper", h, [0, steps + 1], [data.paper] * 2, **style("reference").kwargs(),
              label="the paper's stated bound")
        ax.set(yscale="log", xlim=(0, steps + 1), ylim=(1e-3, 1e2), xlabel="step t",
               title=r"step over learning rate, $|\Delta_t|/\alpha$")
        human_log_axis(ax, "y")
        _legend(ax, loc="lower right")
    return h


def update_step_bounds(h: FigureHandle, data: StepBoundsData) -> None:
    h.lines["gradients"].set_data(data.t, data.gradients)
    h.lines["ratio"].set_data(data.t, data.ratio)
    h.lines["supremum"].set_data(data.t, data.supremum)
    h.lines["paper"].set_data([0, len(data.t) + 1], [data.paper] * 2)


# --- 3. Bias correction -------------------------------------------------------------------------


@dataclass(frozen=True)
class BiasCorrectionData:
    """Adam with and without bias correction on one noisy gradient sequence.

    ``t``: steps 1..T; ``m_raw``, ``v_raw``: the moving averages m_t, v_t; ``m_hat``, ``v_hat``:
    their corrected values; ``step_raw``, ``step_corrected``: |Δ_t|/α without and with the
    correction; ``mean``, ``second_moment``: E[g] and E[g²] of the sequence; ``cursor``: the step
    t the figure marks.
    """

    t: np.ndarray
    m_raw: np.ndarray
    m_hat: np.ndarray
    v_raw: np.ndarray
    v_hat: np.ndarray
    step_raw: np.ndarray
    step_corrected: np.ndarray
    mean: float
    second_moment: float
    cursor: int


def draw_bias_correction(data: BiasCorrectionData, layout: str = "wide") -> FigureHandle:
    with book_style():
        fig, axes = new_figure(3, layout, height=2.9)
        h = FigureHandle(fig, axes, layout=layout)
        steps = len(data.t)
        raw = style("uncorrected").kwargs(markers=False)
        corrected = style("Adam").kwargs(markers=False)
        panels = [("m", "first moment", data.mean, r"$E[g]$"),
                  ("v", "second moment", data.second_moment, r"$E[g^2]$")]
        for ax, (key, title, truth, truth_label) in zip(axes[:2], panels):
            ax.axhline(truth, **style("reference").kwargs(), label=truth_label)
            _line(ax, f"{key}_raw", h, data.t, getattr(data, f"{key}_raw"), **raw,
                  label=f"${key}_t$, raw")
            _line(ax, f"{key}_hat", h, data.t, getattr(data, f"{key}_hat"), **corrected,
                  label=rf"$\hat {key}_t$, corrected")
            ax.set(xscale="log", xlim=(1, steps), ylim=(0.0, 1.6 * truth), xlabel="step t",
                   title=title)
            human_log_axis(ax, "x")
            _legend(ax, loc="lower right")
        ax = axes[2]
        ax.axhline(1.0, **style("reference").kwargs())
        _line(ax, "step_raw", h, data.t, data.step_raw, **raw, label="without correction")
        _line(ax, "step_corrected", h, data.t, data.step_corrected, **corrected,
              label="with correction")
        ax.set(xscale="log", yscale="log", xlim=(1, steps), ylim=(1e-2, 1e1), xlabel="step t",
               title=r"step size $|\Delta_t|/\alpha$")
        human_log_axis(ax, "both")
        _legend(ax, loc="lower right")
        for i, ax in enumerate(axes):
            _cursor(ax, f"cursor{i}", h)
        for ax, key in zip(axes, ("m", "v", "step")):  # the values at step t, in their colours
            _dots(ax, f"{key}_raw_dot", h, color=style("uncorrected").color)
            _dots(ax, f"{key}_hat_dot", h, color=style("Adam").color)
        update_bias_correction(h, data)
    return h


def update_bias_correction(h: FigureHandle, data: BiasCorrectionData) -> None:
    L = h.lines
    for key in ("m_raw", "m_hat", "v_raw", "v_hat", "step_raw", "step_corrected"):
        L[key].set_data(data.t, getattr(data, key))
    c = int(data.cursor)
    i = c - 1
    for j in range(3):
        L[f"cursor{j}"].set_data([c, c], [0, 1])
    for key, raw, corrected in (("m", data.m_raw, data.m_hat), ("v", data.v_raw, data.v_hat),
                                ("step", data.step_raw, data.step_corrected)):
        L[f"{key}_raw_dot"].set_data([c], [raw[i]])
        L[f"{key}_hat_dot"].set_data([c], [corrected[i]])


# --- 4. Rescaling invariance ----------------------------------------------------------------------


@dataclass(frozen=True)
class RescalingData:
    """Paths on a 2-D function with gradients as they are and rescaled per coordinate.

    ``loss``: the function (vectorised over (..., 2)); ``xlim``, ``ylim``: the view; ``start``:
    the common start; ``paths``: ``"adam"``, ``"adam_scaled"``, ``"sgd"``, ``"sgd_scaled"`` ->
    (n, 2) parameters.
    """

    loss: Callable
    xlim: tuple
    ylim: tuple
    start: np.ndarray
    paths: dict


def draw_rescaling(data: RescalingData, layout: str = "wide") -> FigureHandle:
    with book_style():
        fig, axes = new_figure(2, layout, height=2.75,
                               panel_heights=_narrow_heights(2.75, (1, 1), (True, True)))
        h = FigureHandle(fig, axes, layout=layout)
        for ax, name in zip(axes, ("Adam", "SGD")):
            contour_panel(ax, data.loss, data.xlim, data.ylim)
            key = name.lower()
            _line(ax, key, h, *data.paths[key].T,
                  **style(name).kwargs(markersize=2.5, linestyle="-"),
                  label="gradients as they are")
            _line(ax, key + "_scaled", h, *data.paths[key + "_scaled"].T,
                  **style("theory").kwargs(linewidth=1.1, linestyle=(0, (3.0, 2.0))),
                  label="gradients rescaled")
            ax.plot(*data.start, **style("start").kwargs())
            ax.set(xlabel="x", ylabel="y", title=f"{name}")
            _legend(ax, loc="upper right")
    return h


def update_rescaling(h: FigureHandle, data: RescalingData) -> None:
    for key, path in data.paths.items():
        h.lines[key].set_data(path[:, 0], path[:, 1])


# --- 5. Optimizer race -----------------------------------------------------------------------


@dataclass(frozen=True)
class RaceData:
    """Several optimizers from one start on a 2-D test function.

    ``problem_key``: which function (the contours are redrawn when it changes); ``title``;
    ``loss``: the function, vectorised over (..., 2); ``xlim``, ``ylim``: the view; ``start``;
    ``minimizer`` (or None); ``paths``: optimizer name -> (n, 2) parameters; ``gaps``: optimizer
    name -> f(x_t) − f* for t = 0..n−1 (or f(x_t) where f has no minimum); ``gap_limits``: the
    range of the loss panel; ``log_gap``: whether that panel is logarithmic; ``lr``: optimizer
    name -> the learning rate it ran with.
    """

    problem_key: str
    title: str
    loss: Callable
    xlim: tuple
    ylim: tuple
    start: np.ndarray
    minimizer: np.ndarray | None
    paths: dict
    gaps: dict
    gap_limits: tuple
    log_gap: bool
    lr: dict


RACE_ORDER = ("SGD", "Momentum", "RMSprop", "Adam")


def draw_race(data: RaceData, layout: str = "wide") -> FigureHandle:
    with book_style():
        top = 0.3 if layout == "wide" else 0.5
        fig, axes = new_figure(2, layout, height=3.3, widths=(1.35, 1), top_space=top,
                               panel_heights=_narrow_heights(3.3, (1.35, 1), (True, False)))
        h = FigureHandle(fig, axes, layout=layout)
        ax_path, ax_loss = axes
        for name in RACE_ORDER:
            s = style(name)
            _line(ax_path, name, h, *data.paths[name].T, **s.kwargs(markers=False), label=s.label)
            _line(ax_loss, f"loss_{name}", h, np.arange(len(data.gaps[name])), data.gaps[name],
                  **s.kwargs(markers=False))
        (h.extra["start"],) = ax_path.plot([], [], zorder=5, **style("start").kwargs())
        (h.extra["goal"],) = ax_path.plot([], [], zorder=5, **style("optimum").kwargs())
        ax_path.set(xlabel="x", ylabel="y")
        ax_loss.set(xlabel="step t")
        width, height = fig.get_size_inches()
        fig.legend(handles=[h.lines[n] for n in RACE_ORDER], loc="upper left",
                   bbox_to_anchor=(0.04 / width, 1.0), ncols=4 if layout == "wide" else 2,
                   frameon=False, handlelength=2.6, columnspacing=1.4)
        h.extra["problem_key"] = None
        update_race(h, data)
    return h


def update_race(h: FigureHandle, data: RaceData) -> None:
    ax, ax_loss = h.axes
    if h.extra.get("problem_key") != data.problem_key:
        with book_style():
            if h.extra.get("contours") is not None:
                h.extra["contours"].remove()
            h.extra["contours"] = contour_panel(ax, data.loss, data.xlim, data.ylim)
            ax.set_title(data.title)
            # start and goal belong to the function: they move only with it (not animated)
            h.extra["start"].set_data([data.start[0]], [data.start[1]])
            goal = data.minimizer
            h.extra["goal"].set_data([] if goal is None else [goal[0]],
                                     [] if goal is None else [goal[1]])
            steps = max(len(g) for g in data.gaps.values()) - 1
            ax_loss.set_xlim(0, steps)
            ax_loss.set_yscale("log" if data.log_gap else "linear")
            ax_loss.set_ylim(*data.gap_limits)
            if data.log_gap:
                human_log_axis(ax_loss, "y")
            ax_loss.set_title(r"$f(x_t) - f^\star$" if data.log_gap else r"$f(x_t)$")
        h.extra["problem_key"] = data.problem_key
    for name in RACE_ORDER:
        path = data.paths[name]
        h.lines[name].set_data(path[:, 0], path[:, 1])
        gap = data.gaps[name]
        h.lines[f"loss_{name}"].set_data(np.arange(len(gap)), gap)


# --- 6. Direction against steepest descent ----------------------------------------------------


@dataclass(frozen=True)
class DirectionData:
    """Gradient descent and Adam on a 2-D function, and each step's angle to −∇f.

    ``loss``, ``xlim``, ``ylim``, ``start`` as in :class:`RescalingData`; ``paths``: ``"GD"``,
    ``"Adam"`` -> (n, 2); ``angles``: the same keys -> degrees per step.
    """

    loss: Callable
    xlim: tuple
    ylim: tuple
    start: np.ndarray
    paths: dict
    angles: dict


def draw_direction(data: DirectionData, layout: str = "wide") -> FigureHandle:
    with book_style():
        fig, axes = new_figure(2, layout, height=2.8,
                               panel_heights=_narrow_heights(2.8, (1, 1), (True, False)))
        h = FigureHandle(fig, axes, layout=layout)
        ax = axes[0]
        contour_panel(ax, data.loss, data.xlim, data.ylim)
        _line(ax, "path_GD", h, *data.paths["GD"].T, **style("GD").kwargs(markersize=2.5),
              label="gradient descent")
        _line(ax, "path_Adam", h, *data.paths["Adam"].T, **style("Adam").kwargs(markersize=2.5),
              label="Adam")
        ax.plot(*data.start, **style("start").kwargs())
        ax.set(xlabel="x", ylabel="y", title="paths along the ravine")
        _legend(ax, loc="upper right")
        ax = axes[1]
        steps = len(data.angles["Adam"])
        t = np.arange(1, steps + 1)
        ax.axhline(90.0, **style("reference").kwargs(linestyle=":"))
        ax.text(1, 93, "above 90°: uphill", ha="left", va="bottom", fontsize=8.5,
                color=palette.INK)
        _line(ax, "angle_GD", h, t, np.zeros(steps), **style("GD").kwargs(markers=False),
              label="gradient descent")
        _line(ax, "angle_Adam", h, t, data.angles["Adam"], **style("Adam").kwargs(markersize=2.5),
              label="Adam")
        ax.set(xlim=(0, steps + 1), ylim=(-3, 180), yticks=[0, 45, 90, 135, 180],
               xlabel="step t", title=r"angle of $\Delta_t$ to $-\nabla f$ (degrees)")
        _legend(ax, loc="upper left")
        update_direction(h, data)
    return h


def update_direction(h: FigureHandle, data: DirectionData) -> None:
    for name in ("GD", "Adam"):
        path = data.paths[name]
        h.lines[f"path_{name}"].set_data(path[:, 0], path[:, 1])
    t = np.arange(1, len(data.angles["Adam"]) + 1)
    h.lines["angle_GD"].set_data(t, data.angles["GD"])
    h.lines["angle_Adam"].set_data(t, data.angles["Adam"])


# --- 7. Anatomy of one Adam step --------------------------------------------------------------


@dataclass(frozen=True)
class AdamStepData:
    """Adam's quantities for one coordinate at every step of a gradient sequence.

    ``t``: steps 1..T; ``g``: the gradients; ``m``, ``v``: the moving averages; ``m_hat``,
    ``v_hat``: their bias-corrected values; ``step``: Δ_t/α (signed); ``cursor``: the step t
    the figure dissects; ``limits``: the y ranges of the three panels (``"m"``, ``"v"``,
    ``"step"``), fixed per sequence so that the figure does not jump.
    """

    t: np.ndarray
    g: np.ndarray
    m: np.ndarray
    v: np.ndarray
    m_hat: np.ndarray
    v_hat: np.ndarray
    step: np.ndarray
    cursor: int
    beta1: float
    beta2: float
    eps: float
    sequence: str
    limits: dict


def draw_adam_step(data: AdamStepData, layout: str = "wide") -> FigureHandle:
    with book_style():
        fig, axes = new_figure(3, layout, height=3.0)
        h = FigureHandle(fig, axes, layout=layout)
        steps = len(data.t)
        raw = style("uncorrected").kwargs(markers=False, linewidth=1.4)
        corrected = style("Adam").kwargs(markers=False)
        given = style("data").kwargs(linestyle="none", markersize=3.5)
        ax = axes[0]
        ax.axhline(0.0, color=palette.MUTED, linewidth=0.6)
        _line(ax, "g", h, data.t, data.g, **given, label="$g_t$")
        _line(ax, "m", h, data.t, data.m, **raw, label="$m_t$")
        _line(ax, "m_hat", h, data.t, data.m_hat, **corrected, label=r"$\hat m_t$")
        ax.set(xlim=(0.5, steps + 0.5), ylim=data.limits["m"], xlabel="step t",
               title=r"gradient and first moment")
        _legend(ax, loc="lower right", ncols=3, columnspacing=1.0, handlelength=1.8)
        ax = axes[1]
        _line(ax, "g2", h, data.t, data.g**2, **given, label="$g_t^2$")
        _line(ax, "v", h, data.t, data.v, **raw, label="$v_t$")
        _line(ax, "v_hat", h, data.t, data.v_hat, **corrected, label=r"$\hat v_t$")
        ax.set(xlim=(0.5, steps + 0.5), ylim=data.limits["v"], xlabel="step t",
               title="second moment")
        _legend(ax, loc="upper right", ncols=3, columnspacing=1.0, handlelength=1.8)
        ax = axes[2]
        ax.axhline(0.0, color=palette.MUTED, linewidth=0.6)
        for level in (-1.0, 1.0):
            ax.axhline(level, **style("reference").kwargs())
        _line(ax, "step", h, data.t, data.step,
              **style("Adam").kwargs(markersize=3.5, linewidth=0.9),
              label=r"$\Delta_t/\alpha$")
        ax.set(xlim=(0.5, steps + 0.5), ylim=data.limits["step"], xlabel="step t",
               title=r"step $\Delta_t = -\alpha\,\hat m_t/(\sqrt{\hat v_t}+\epsilon)$")
        _legend(ax, loc="lower right")
        for i, ax in enumerate(axes):
            _cursor(ax, f"cursor{i}", h)
        # the values at step t, each in its line's colour
        for ax, names in ((axes[0], ("g", "m", "m_hat")), (axes[1], ("g2", "v", "v_hat"))):
            for name, role in zip(names, ("data", "uncorrected", "Adam")):
                _dots(ax, f"{name}_dot", h, color=style(role).color)
        _dots(axes[2], "step_dot", h, color=style("Adam").color)
        update_adam_step(h, data)
    return h


def update_adam_step(h: FigureHandle, data: AdamStepData) -> None:
    L = h.lines
    if h.extra.get("sequence") != data.sequence:  # another sequence: its own fixed ranges
        for ax, key in zip(h.axes, ("m", "v", "step")):
            ax.set_ylim(*data.limits[key])
        h.extra["sequence"] = data.sequence
    L["g"].set_data(data.t, data.g)
    L["g2"].set_data(data.t, data.g**2)
    for key in ("m", "m_hat", "v", "v_hat", "step"):
        L[key].set_data(data.t, getattr(data, key))
    c = int(data.cursor)
    i = c - 1
    for j in range(3):
        L[f"cursor{j}"].set_data([c, c], [0, 1])
    for name, values in (("g", data.g), ("m", data.m), ("m_hat", data.m_hat), ("g2", data.g**2),
                         ("v", data.v), ("v_hat", data.v_hat), ("step", data.step)):
        L[f"{name}_dot"].set_data([c], [values[i]])


# --- 8. Reddi et al.'s counterexample -----------------------------------------------------------


@dataclass(frozen=True)
class CounterexampleData:
    """Adam or AMSGrad on the online problem of Reddi, Kale & Kumar (2018), from two starts.

    ``x``: start -> the decisions at the steps ``t_decision``; ``average_regret``: start -> R_t/t
    at the steps ``t_regret``; ``step_size``: the effective step size η_t at the steps ``t_step``;
    ``final_x``: start -> the last decision; ``method``: ``"Adam"`` or ``"AMSGrad"`` (which of the
    two ran); ``C``, ``beta2``; ``limit``: 2(C − 2)/3, the average regret of staying at x = +1;
    ``steps``: the length of the run.
    """

    t_decision: np.ndarray
    x: dict
    t_regret: np.ndarray
    average_regret: dict
    t_step: np.ndarray
    step_size: np.ndarray
    final_x: dict
    method: str
    C: float
    beta2: float
    limit: float
    steps: int


def draw_counterexample(data: CounterexampleData, layout: str = "wide") -> FigureHandle:
    with book_style():
        fig, axes = new_figure(3, layout, height=3.0, panel_heights=(2.1, 2.1, 2.1))
        h = FigureHandle(fig, axes, layout=layout)
        starts = list(data.x)
        for method in ("Adam", "AMSGrad"):
            s = style(method)
            for j, x0 in enumerate(starts):
                thin = {"linewidth": 1.0, "alpha": 0.8} if j else {}
                label = f"{s.label}, $x_1 = {x0:g}$"
                _line(axes[0], f"x_{method}_{j}", h, [], [], **s.kwargs(markers=False, **thin),
                      label=label)
                _line(axes[1], f"regret_{method}_{j}", h, [], [],
                      **s.kwargs(markers=False, **thin))
            # one of the two runs shows at a time: round dots for both (moving lines allow them)
            _line(axes[2], f"eta_{method}", h, [], [], **s.kwargs(marker="o", markersize=3.5),
                  label=s.label)
        ax = axes[0]
        ax.axhline(-1.0, **style("reference").kwargs(), label="optimum $x^\\star = -1$")
        ax.set(xscale="log", xlim=(1, data.steps), ylim=(-1.1, 1.1), xlabel="step t",
               title="decision $x_t$")
        human_log_axis(ax, "x")
        ax = axes[1]
        _line(ax, "limit", h, [1, data.steps], [data.limit] * 2, **style("reference").kwargs(),
              label=r"$2(C-2)/3$, staying at $+1$")
        ax.set(xscale="log", yscale="log", xlim=(1, data.steps), ylim=(1e-3, 20.0),
               xlabel="step t", title="average regret $R_t/t$")
        human_log_axis(ax, "both")
        _legend(ax, loc="lower left")
        ax = axes[2]
        ax.set(yscale="log", xlim=(0.5, len(data.t_step) + 0.5), ylim=(1e-3, 0.3),
               xlabel="step t", title=r"step size $\eta_t = \gamma_t/(\sqrt{\hat v_t}+\epsilon)$")
        human_log_axis(ax, "y")
        h.extra["method"] = None
        update_counterexample(h, data)
    return h


def update_counterexample(h: FigureHandle, data: CounterexampleData) -> None:
    L = h.lines
    if h.extra.get("method") != data.method:  # the legends name the method that ran
        with book_style():
            for ax in (h.axes[0], h.axes[2]):
                if ax.get_legend() is not None:
                    ax.get_legend().remove()
            shown = [L[f"x_{data.method}_{j}"] for j in range(len(data.x))]
            ref = [line for line in h.axes[0].get_lines() if line not in L.values()]
            _legend(h.axes[0], handles=shown + ref, loc="upper left", fontsize=8.5)
            _legend(h.axes[2], handles=[L[f"eta_{data.method}"]], loc="upper right")
        h.extra["method"] = data.method
    for method in ("Adam", "AMSGrad"):
        active = method == data.method
        for j, x0 in enumerate(data.x):
            L[f"x_{method}_{j}"].set_data(data.t_decision if active else [],
                                          data.x[x0] if active else [])
            L[f"regret_{method}_{j}"].set_data(data.t_regret if active else [],
                                               data.average_regret[x0] if active else [])
        L[f"eta_{method}"].set_data(data.t_step if active else [],
                                    data.step_size if active else [])
    L["limit"].set_data([1, data.steps], [data.limit] * 2)


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


def plot_race(problem, runs: dict, xlim=None, ylim=None, figsize=(WIDE_WIDTH, 3.4)):
    """Paths on the contours of a 2-D ``problem`` (left, equal scales) and loss against step.

    ``runs`` maps an optimizer's name (``"Adam"``, ``"gradient descent"``, ...; its style comes
    from :mod:`adamedu.palette`) to a :class:`adamedu.trace.Trace` that recorded ``params`` and
    ``loss``. The plot range covers every path unless ``xlim``/``ylim`` are given. Paths that
    run on top of each other stay visible: each method has its own dash pattern, and the wider
    ones are drawn underneath.
    """
    import matplotlib.pyplot as plt

    with book_style():
        fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=figsize, dpi=100,
                                               gridspec_kw={"width_ratios": [1.3, 1]})
        auto_x, auto_y = _path_limits(problem, [trace.params for trace in runs.values()])
        contour_panel(ax_path, problem.loss, xlim or auto_x, ylim or auto_y, equal="datalim")
        styles = {label: style(label) for label in runs}
        order = sorted(runs, key=lambda label: -styles[label].linewidth)  # wide lines first
        for rank, label in enumerate(order):
            trace, s = runs[label], styles[label]
            every = max(len(trace.params) // 12, 1)
            ax_path.plot(trace.params[:, 0], trace.params[:, 1], zorder=2 + rank * 0.1,
                         markevery=(rank * every // max(len(runs), 1), every),
                         **s.kwargs(markersize=4, label=label))
            ax_loss.plot(np.arange(len(trace.loss)), trace.loss, zorder=2 + rank * 0.1,
                         **s.kwargs(markers=False, label=label))
        ax_path.plot(*problem.x0, zorder=5, **style("start").kwargs())
        if getattr(problem, "minimizer", None) is not None:
            ax_path.plot(*problem.minimizer, zorder=5, **style("optimum").kwargs())
        ax_path.set(xlabel="x", ylabel="y", title="paths from the same start")
        positive = all(np.all(np.asarray(trace.loss) > 0) for trace in runs.values())
        ax_loss.set(yscale="log" if positive else "linear", xlabel="step t",
                    title=r"loss $f(x_t)$")
        if positive:
            human_log_axis(ax_loss, "y")
        handles, labels = ax_path.get_legend_handles_labels()
        by_label = dict(zip(labels, handles))
        # the curves fall from the top left: the legend goes below them
        ax_loss.legend([by_label[k] for k in runs], list(runs), loc="lower left", handlelength=3.0)
        fig.tight_layout()
    return fig


def plot_angles(angles: dict, figsize=(WIDE_WIDTH, 3.0)):
    """Angle (degrees) between each step and −∇f against the step, one line per entry.

    ``angles`` maps a legend label to a per-step array, such as
    :func:`adamedu.analysis.angle_to_steepest_descent` returns. The dotted line marks 90°: above
    it a step goes uphill to first order. Labels that name an optimizer get its style.
    """
    import matplotlib.pyplot as plt

    with book_style():
        fig, ax = plt.subplots(figsize=figsize, dpi=100)
        for i, (label, values) in enumerate(angles.items()):
            values = np.asarray(values, dtype=float)
            try:
                kw = style(label.split(",")[0]).kwargs(markers=False)
            except ValueError:
                kw = {"color": f"C{i}"}
            if any(kw.get("color") == line.get_color() for line in ax.get_lines()):
                kw = dict(kw, linestyle=(0, (4.0, 1.6)), linewidth=1.3)  # same method, new setting
            ax.plot(np.arange(1, len(values) + 1), values, label=label, **kw)
        ax.axhline(90.0, **style("reference").kwargs(linestyle=":"))
        ax.set(ylim=(0, 180), yticks=[0, 45, 90, 135, 180], xlabel="step t", ylabel="degrees",
               title=r"angle between the step $\Delta_t$ and $-\nabla f$")
        ax.legend(loc="best")
        fig.tight_layout()
    return fig
