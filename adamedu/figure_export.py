"""A figure as data for displays without a kernel: vector images and precomputed frames.

A notebook shows a matplotlib figure as a PNG image. A page that no kernel stands behind (the
book's site, built from executed notebooks) can do better with the same figure: draw it as vector
graphics, sharp on every screen, in the reader's colour theme, and with its panels stacked on a
phone. :func:`export_figure` describes a figure for such a display as a :class:`FigureExport`:

- one or two **layouts**: ``"wide"`` (the figure as drawn) and ``"narrow"`` (the same axes
  stacked in one column, fonts at least 9 pt), each an SVG image and the position of every panel;
- for an interactive figure (:meth:`adamedu.interactive_figure.InteractiveFigure.export`), the
  **controls**, the **tracks** (the lines that follow the controls, with their colour, width,
  dashes and marker) and, for every combination of the controls' static values, a **frame**: the
  points of each track in the coordinates of its panel (0 to :data:`AXES_UNITS` across, y down),
  which are the same in both layouts, and the background image the frame goes with.

A notebook output carries the export as JSON under the MIME type :data:`FIGURE_MIME`, next to the
usual ``image/png``. Jupyter does not know the type and shows the PNG; the book's site turns the
export into HTML (see the book's ``_ext`` folder). :func:`register_formatter` makes IPython attach
the export to every matplotlib figure a notebook shows when no live frontend is attached.
"""

from __future__ import annotations

import io
import pickle
import re
import sys
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec

__all__ = [
    "FIGURE_MIME",
    "AXES_UNITS",
    "Layout",
    "Track",
    "ControlExport",
    "FigureExport",
    "export_figure",
    "narrow_copy",
    "figure_svg",
    "rasterize_heavy",
    "panel_boxes",
    "svg_size",
    "track_of",
    "track_points",
    "simplify",
    "register_formatter",
]

#: The MIME type of an exported figure in a notebook output (JSON).
FIGURE_MIME = "application/vnd.adamedu.figure+json"
#: Format version of :meth:`FigureExport.to_json`.
VERSION = 1
#: A panel is this many units wide and high in a track's coordinates.
AXES_UNITS = 10_000
#: Smallest font sizes, in points, of an exported figure's two layouts.
MIN_FONT = {"wide": 8.0, "narrow": 9.0}
#: Width of the narrow layout and the height range of its panels, in inches.
NARROW_WIDTH = 3.75
NARROW_PANEL = (2.0, 3.0)
# Moving artists are drawn as lines and round or square dots.
_MARKERS = {"o": "o", ".": "o", "s": "s"}
_NO_MARKER = (None, "None", "none", "", " ")


@dataclass(frozen=True)
class Layout:
    """One arrangement of a figure: its size in points, its panels and its background images.

    ``backgrounds``: background key -> SVG of the figure without its tracks; ``panels``: background
    key -> ``(x, y, width, height)`` of each panel in points from the top left corner (a panel
    with equal scales on its axes changes its shape with the function it shows).
    """

    width: float
    height: float
    panels: list
    backgrounds: dict


@dataclass(frozen=True)
class Track:
    """The look of one line that follows the controls (a matplotlib ``Line2D``).

    ``panel``: index into the layout's panels; ``color``: hex; ``linewidth``, ``dashes`` and
    ``markersize`` in points (``dashes`` None for a solid line, ``linewidth`` 0 for markers
    only); ``marker``: ``"o"``, ``"s"`` or None; ``clip``: whether the panel clips it.
    """

    panel: int
    color: str
    alpha: float = 1.0
    linewidth: float = 1.0
    dashes: list | None = None
    marker: str | None = None
    markersize: float = 0.0
    clip: bool = True


@dataclass(frozen=True)
class ControlExport:
    """A control as the static display offers it: the labels of its values and the default.

    ``kind``: ``"range"`` (a slider), ``"select"`` (a drop-down) or ``"toggle"`` (a check box).
    """

    name: str
    label: str
    kind: str
    labels: list
    default: int


@dataclass
class FigureExport:
    """A figure for a display without a kernel (see the module docstring).

    ``frames`` maps ``"i-j-..."`` (the index of each control's value) to ``{"background": key,
    "tracks": [pool index of each track's points], "readout": index into ``readouts`` or
    None}``; ``pool`` holds each distinct list of points once: ``[x0, y0, x1, y1, ...]`` in panel
    units, with ``None, None`` where the line breaks.
    """

    layouts: dict
    title: str = ""
    alt: str = ""
    controls: list = field(default_factory=list)
    fixed: list = field(default_factory=list)
    tracks: list = field(default_factory=list)
    frames: dict = field(default_factory=dict)
    pool: list = field(default_factory=list)
    readouts: list = field(default_factory=list)
    default_frame: str = ""

    def to_json(self) -> dict:
        """A JSON-compatible dict (the payload of :data:`FIGURE_MIME`)."""
        data = asdict(self)
        data["version"] = VERSION
        return data

    @classmethod
    def from_json(cls, data: dict) -> "FigureExport":
        """The inverse of :meth:`to_json`; refuses a payload of another version."""
        if data.get("version") != VERSION:
            raise ValueError(f"Invalid figure export version: {data.get('version')!r} "
                             f"(this adamedu reads version {VERSION})")
        data = {k: v for k, v in data.items() if k != "version"}
        data["layouts"] = {name: Layout(**layout) for name, layout in data["layouts"].items()}
        data["controls"] = [ControlExport(**c) for c in data.get("controls", [])]
        data["tracks"] = [Track(**t) for t in data.get("tracks", [])]
        data["fixed"] = [tuple(f) for f in data.get("fixed", [])]
        return cls(**data)


# --- images -------------------------------------------------------------------------------------


#: Pixels per inch of the parts of a vector image that are drawn as pixels (twice a screen's).
RASTER_DPI = 200
#: A collection with more elements than this is drawn as pixels: a mesh of thousands of cells
#: weighs megabytes as vector shapes and shows seams between them.
RASTER_ABOVE = 1000


def rasterize_heavy(fig: Figure) -> None:
    """Mark images, meshes and collections of many elements to be drawn as pixels (in place)."""
    from matplotlib.collections import Collection, QuadMesh
    from matplotlib.image import AxesImage

    for artist in fig.findobj(lambda a: isinstance(a, (Collection, AxesImage))):
        many = isinstance(artist, Collection) and max(
            len(artist.get_paths()), len(artist.get_offsets())) > RASTER_ABOVE
        if isinstance(artist, (QuadMesh, AxesImage)) or many:
            artist.set_rasterized(True)


def figure_svg(fig: Figure, tight: bool = False, hidden=()) -> str:
    """The figure as SVG text, the same bytes in every run; ``hidden`` artists are left out.

    Artists marked rasterized (see :func:`rasterize_heavy`) are drawn at :data:`RASTER_DPI`.
    """
    saved = [(artist, artist.get_visible()) for artist in hidden]
    for artist, _ in saved:
        artist.set_visible(False)
    buffer = io.StringIO()
    try:
        with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "adamedu",
                                    "svg.id": None}):
            fig.savefig(buffer, format="svg", metadata={"Date": None}, dpi=RASTER_DPI,
                        bbox_inches="tight" if tight else None, pad_inches=0.05)
    finally:
        for artist, visible in saved:
            artist.set_visible(visible)
    return buffer.getvalue()


def panel_boxes(fig: Figure) -> list:
    """``(x, y, width, height)`` of each axes in points from the top left (after a draw)."""
    width, height = (float(v) * 72.0 for v in fig.get_size_inches())
    boxes = []
    for ax in fig.axes:
        box = ax.get_position()
        boxes.append([round(box.x0 * width, 3), round((1.0 - box.y1) * height, 3),
                      round(box.width * width, 3), round(box.height * height, 3)])
    return boxes


def _min_font(fig: Figure, size: float) -> None:
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        if text.get_text() and text.get_fontsize() < size:
            text.set_fontsize(size)
    for ax in fig.axes:  # tick labels are made at draw time from the axis' settings
        for axis in (ax.xaxis, ax.yaxis):
            for which in ("major", "minor"):
                ticks = axis.get_major_ticks() if which == "major" else axis.get_minor_ticks()
                if ticks and ticks[0].label1.get_fontsize() < size:
                    axis.set_tick_params(which=which, labelsize=size)


def _copy(fig: Figure) -> Figure | None:
    """A copy of ``fig`` that pyplot does not know (so that a notebook never shows it)."""
    try:
        copy = pickle.loads(pickle.dumps(fig))
    except Exception:  # e.g. a formatter built from a lambda: export the figure as it is
        return None
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # unpickling a pyplot figure opens it in pyplot again: close it there
        pyplot.close(copy)
    return copy


def _relayout(fig: Figure) -> None:
    if all(ax.get_subplotspec() is not None for ax in fig.axes):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "not compatible with tight_layout": keep as is
            fig.tight_layout()


def narrow_copy(fig: Figure, width: float = NARROW_WIDTH) -> Figure | None:
    """A copy of a grid-of-panels figure with its panels stacked in one column ``width`` wide.

    Each panel keeps about its height (within :data:`NARROW_PANEL`); fonts are at least 9 pt.
    None for a figure whose axes are not all grid panels (an inset, a colour bar), or that cannot
    be copied.
    """
    copy = _copy(fig)
    if copy is None or not copy.axes:
        return None
    if any(ax.get_subplotspec() is None for ax in copy.axes):
        return None
    specs = [ax.get_subplotspec() for ax in copy.axes]
    grid = specs[0].get_gridspec()
    if any(s.get_gridspec() is not grid for s in specs):
        return None
    nrows, ncols = grid.get_geometry()
    # one row per cell of the grid, in reading order; a twin axes stays with its panel
    cells = sorted({(s.rowspan.start, s.colspan.start) for s in specs})
    fig_width, fig_height = copy.get_size_inches()
    panel_height = min(max(fig_height / nrows, NARROW_PANEL[0]), NARROW_PANEL[1])
    n = len(cells)
    stacked = GridSpec(n, 1, figure=copy)
    for ax, spec in zip(copy.axes, specs):
        ax.set_subplotspec(stacked[cells.index((spec.rowspan.start, spec.colspan.start)), 0])
        # panels that shared a row or column hid inner tick labels: stacked, each needs its own
        ax.tick_params(labelbottom=True)
        if ax.yaxis.get_label_position() == "left":
            ax.tick_params(labelleft=True)
    copy.set_size_inches(width, n * (panel_height + 0.45) + 0.2)
    _min_font(copy, MIN_FONT["narrow"])
    _wrap_titles(copy)
    _relayout(copy)
    _fit_legends(copy)
    return copy


def _fit_legends(fig: Figure) -> None:
    """A legend in several columns that is wider than its panel goes into one column."""
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None and legend.get_window_extent().width > ax.get_window_extent().width:
            legend.set_ncols(1)


def _wrap_titles(fig: Figure) -> None:
    """Titles and axis labels wrap at the figure's edge instead of widening the image."""
    texts = [fig._suptitle] if getattr(fig, "_suptitle", None) is not None else []
    for ax in fig.axes:
        texts += [getattr(ax, name, None) for name in ("title", "_left_title", "_right_title")]
        texts += [ax.xaxis.label, ax.yaxis.label]
    for text in texts:
        if text is not None and text.get_text():
            text.set_wrap(True)


def svg_size(svg: str) -> tuple[float, float]:
    """Width and height in points of an SVG image written by matplotlib."""
    match = re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"[^>]*\bheight="([\d.]+)pt"', svg)
    if match is None:
        raise ValueError("Invalid SVG: no width and height in points")
    return float(match.group(1)), float(match.group(2))


def _layout(fig: Figure, backgrounds: dict) -> Layout:
    width, height = svg_size(next(iter(backgrounds.values())))
    return Layout(width=width, height=height, panels={key: panel_boxes(fig) for key in backgrounds},
                  backgrounds=backgrounds)


def export_figure(fig: Figure, narrow: bool = True) -> FigureExport:
    """A static figure as vector images: the figure (fonts at least 8 pt) and its narrow copy.

    The figure itself is left as it is. The images are cropped to what is drawn.
    """
    wide = _copy(fig)
    if wide is not None:
        _min_font(wide, MIN_FONT["wide"])
        rasterize_heavy(wide)
        _relayout(wide)
    else:
        wide = fig
    layouts = {"wide": _layout(wide, {"0": figure_svg(wide, tight=True)})}
    if narrow:
        copy = narrow_copy(fig)
        if copy is not None:
            rasterize_heavy(copy)
            layouts["narrow"] = _layout(copy, {"0": figure_svg(copy, tight=True)})
    return FigureExport(layouts=layouts, frames={"": {"background": "0", "tracks": [],
                                                      "readout": None}}, default_frame="")


# --- tracks -------------------------------------------------------------------------------------


def track_of(artist, fig: Figure) -> Track:
    """The look of a moving ``Line2D`` of ``fig`` (whose panels are ``fig.axes``)."""
    from matplotlib.colors import to_hex, to_rgba

    if artist.axes is None or artist.axes not in fig.axes:
        raise ValueError(f"Invalid moving artist {artist!r}: it must belong to a panel of the figure")
    rgba = to_rgba(artist.get_color(), artist.get_alpha())
    linestyle = artist.get_linestyle()
    linewidth = 0.0 if linestyle in _NO_MARKER else float(artist.get_linewidth())
    dashes = None
    offset_dashes = getattr(artist, "_dash_pattern", (0, None))  # scaled by the width, in points
    if linewidth and offset_dashes[1]:
        dashes = [round(float(d), 3) for d in offset_dashes[1]]
    marker = artist.get_marker()
    if marker in _NO_MARKER:
        marker_kind, size = None, 0.0
    elif marker in _MARKERS:
        marker_kind, size = _MARKERS[marker], float(artist.get_markersize())
        if to_hex(to_rgba(artist.get_markerfacecolor())) != to_hex(rgba):
            raise ValueError(f"Invalid moving artist {artist!r}: its markers must be filled with "
                             "its line colour")
    else:
        raise ValueError(f"Invalid marker of a moving artist: {marker!r} "
                         f"(choose from {sorted(_MARKERS)})")
    return Track(panel=fig.axes.index(artist.axes), color=to_hex(rgba), alpha=round(rgba[3], 3),
                 linewidth=round(linewidth, 3), dashes=dashes, marker=marker_kind,
                 markersize=round(size, 3), clip=bool(artist.get_clip_on()))


def simplify(points: np.ndarray, tolerance: float) -> np.ndarray:
    """The points (n, 2) of a line that looks the same to within ``tolerance``.

    Matplotlib's own path simplification (the one its renderers use on screen): points that
    deviate less than ``tolerance`` from the line through their neighbours are dropped; the first
    and last points are kept.
    """
    from matplotlib.path import Path

    if len(points) <= 2 or tolerance <= 0:
        return points
    scale = 0.5 / tolerance  # the threshold must lie in [0, 1]: scale the points instead
    with matplotlib.rc_context({"path.simplify_threshold": 0.5}):
        path = Path(points * scale)
        path.should_simplify = True
        cleaned = path.cleaned(simplify=True)
    keep = cleaned.codes != Path.STOP
    vertices = cleaned.vertices[keep] / scale
    if not np.array_equal(vertices[-1], points[-1]):
        vertices = np.vstack([vertices, points[-1]])
    return vertices


#: Lines are simplified to within this many panel units: half a pixel on a panel 800 pixels wide.
TOLERANCE = 6.0


def track_points(artist, tolerance: float = TOLERANCE) -> list:
    """A ``Line2D``'s points in its panel's units (0 to :data:`AXES_UNITS`, y down), flat.

    Non-finite points (a diverged run, a zero on a log axis) break the line: ``None, None``. A
    line without markers is simplified to within ``tolerance`` units (:func:`simplify`); every
    marker is kept.
    """
    if not artist.get_visible():
        return []
    xy = np.asarray(artist.get_xydata(), dtype=float)
    if xy.size == 0:
        return []
    with np.errstate(all="ignore"):
        display = artist.get_transform().transform(xy)
        frac = artist.axes.transAxes.inverted().transform(display)
        units = np.column_stack([frac[:, 0], 1.0 - frac[:, 1]]) * AXES_UNITS
    finite = np.all(np.isfinite(units), axis=1)
    if artist.get_marker() not in _NO_MARKER:
        tolerance = 0.0
    out: list = []
    start = 0
    while start < len(units):  # each run of finite points is one piece of line
        if not finite[start]:
            start += 1
            continue
        stop = start
        while stop < len(units) and finite[stop]:
            stop += 1
        piece = np.clip(units[start:stop], -1e6, 1e6)
        kept = np.rint(simplify(piece, tolerance)).astype(np.int64)
        if out:
            out.extend((None, None))
        out.extend(int(v) for v in kept.ravel())
        start = stop
    return out


# --- display in IPython -------------------------------------------------------------------------


def _figure_bundle(fig: Figure, include=None, exclude=None):
    from adamedu.interactive_figure import live_frontend

    if live_frontend() or not fig.axes:
        return None
    if include is not None and FIGURE_MIME not in include:
        return None
    if exclude is not None and FIGURE_MIME in exclude:
        return None
    return {FIGURE_MIME: export_figure(fig).to_json()}


def register_formatter(shell: Any) -> None:
    """Make ``shell`` (IPython) add :data:`FIGURE_MIME` to the display of every figure.

    Only when no live frontend is attached (see
    :func:`adamedu.interactive_figure.live_frontend`): the book's build, a test run, a grader.
    The usual PNG is shown as before; Jupyter ignores the extra type.
    """
    formatter = shell.display_formatter.mimebundle_formatter
    formatter.for_type(Figure, _figure_bundle)

