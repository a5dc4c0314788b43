"""Sphinx extension: the book's figures on the site, sharp, themed, responsive and interactive.

The notebooks' figures carry an export (``application/vnd.adamedu.figure+json``, made by
:mod:`adamedu.figure_export`): vector images of the figure in a wide and a narrow layout and, for an
interactive figure, the lines of every precomputed frame. This extension teaches myst-nb to render
that type, and turns it into HTML:

* the figure as inline SVG, sharp at every pixel density, whose inks and greys are CSS variables
  (``--adamedu-ink``, ``--adamedu-paper``), so that it follows the reader's light or dark theme;
  the optimizers' colours (:mod:`adamedu.palette`) are the same in both;
* the wide layout in a text column, the narrow one (panels stacked) where the figure is less than
  :data:`NARROW_BELOW` pixels wide (a CSS container query: no script needed);
* for an interactive figure, labelled controls and a small script (``figure_assets``) that switches
  among the precomputed frames, offline, without a kernel. Without JavaScript the page shows the
  default frame.

The SVG that matplotlib writes is cleaned for a page: its definitions (glyph shapes, markers, clip
rectangles, all named by a hash of their content) are emitted once per page, its coordinates are
rounded to 0.1 pt, and document-wide side effects (a global ``<style>``, ids) are removed.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

from adamedu.figure_export import AXES_UNITS, FIGURE_MIME, FigureExport, Track

__all__ = ["FigureRenderer", "figure_html", "path_data", "standalone_page", "theme_color", "setup"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

ASSETS = Path(__file__).with_name("figure_assets")
#: Below this width (CSS pixels) a figure shows its narrow layout.
NARROW_BELOW = 600
#: CSS pixels per point.
PX_PER_PT = 4.0 / 3.0
# Attributes whose numbers are rounded.
_NUMERIC = ("d", "x", "y", "width", "height", "transform", "style")
_NUMBER = re.compile(r"-?\d+\.\d+")
_HEX = re.compile(r"#([0-9a-fA-F]{6})\b")


# --- colours ------------------------------------------------------------------------------------


def theme_color(hex_color: str) -> str:
    """A colour as the page draws it: greys become mixtures of the theme's ink and paper.

    Black is ``var(--adamedu-ink)`` (the text colour), white ``var(--adamedu-paper)`` (the
    background) and a grey the mixture of the two in its proportion, so that a figure's ink and
    greys swap with the theme. Other colours (the optimizers') stay as they are.
    """
    value = hex_color.lstrip("#").lower()
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    if not r == g == b:
        return "#" + value
    ink = round(100 * (255 - r) / 255)
    if ink == 100:
        return "var(--adamedu-ink)"
    if ink == 0:
        return "var(--adamedu-paper)"
    return f"color-mix(in srgb, var(--adamedu-ink) {ink}%, var(--adamedu-paper))"


def _themed(text: str) -> str:
    return _HEX.sub(lambda m: theme_color(m.group(0)), text)


# --- SVG ----------------------------------------------------------------------------------------


def _round_numbers(text: str) -> str:
    """Numbers to 0.1 (points, font units: 0.13 CSS px), small ones (scale factors) to 5 digits."""

    def short(match: re.Match) -> str:
        value = float(match.group(0))
        out = f"{value:.1f}" if abs(value) >= 1 else f"{value:.5g}"
        if "." in out and "e" not in out:
            out = out.rstrip("0").rstrip(".")
        return "0" if out in ("-0", "", "0.0") else out

    return _NUMBER.sub(short, text)


def _compact_path(d: str) -> str:
    d = _round_numbers(" ".join(d.split()))
    return re.sub(r" ?([MLQCZz]) ?", r"\1", d)


def _href(element: ET.Element) -> str | None:
    return element.get(f"{{{XLINK_NS}}}href") or element.get("href")


class CleanSvg:
    """Matplotlib's SVG split into its definitions (by id) and its drawing, ready for a page."""

    def __init__(self, svg: str):
        root = ET.fromstring(svg)
        self.width = float(root.get("width", "0").removesuffix("pt"))
        self.height = float(root.get("height", "0").removesuffix("pt"))
        self.defs: dict[str, str] = {}
        parts = []
        for child in list(root):
            tag = child.tag.rsplit("}", 1)[-1]
            if tag in ("metadata", "style"):
                continue
            if tag == "defs":
                self._take_defs(child)
                continue
            parts.append(child)
        for part in parts:
            for defs in part.iter(f"{{{SVG_NS}}}defs"):
                self._take_defs(defs)
            self._strip(part)
        for part in parts:  # empty <defs> left where definitions were taken out
            for parent in part.iter():
                for child in list(parent):
                    if child.tag == f"{{{SVG_NS}}}defs" and len(child) == 0:
                        parent.remove(child)
        self.body = "".join(_serialize(part) for part in parts)

    def _take_defs(self, defs: ET.Element) -> None:
        for child in list(defs):
            ident = child.get("id")
            if ident is None:
                continue
            self._strip(child, keep_id=True)
            self.defs[ident] = _serialize(child)
            defs.remove(child)

    @staticmethod
    def _strip(element: ET.Element, keep_id: bool = False) -> None:
        for i, node in enumerate(element.iter()):
            if "id" in node.attrib and not (keep_id and i == 0):
                del node.attrib["id"]
            for name in _NUMERIC:
                value = node.get(name)
                if value is None:
                    continue
                value = _compact_path(value) if name == "d" else _round_numbers(value)
                if name == "style":
                    value = _themed(value.replace(": ", ":").replace("; ", ";"))
                node.set(name, value)
            for name in ("fill", "stroke"):
                if node.get(name, "").startswith("#"):
                    node.set(name, theme_color(node.get(name)))


def _serialize(element: ET.Element) -> str:
    text = ET.tostring(element, encoding="unicode", short_empty_elements=True)
    text = text.replace(f' xmlns="{SVG_NS}"', "").replace(f' xmlns:xlink="{XLINK_NS}"', "")
    return re.sub(r">\s+<", "><", text)


# --- tracks -------------------------------------------------------------------------------------


def path_data(points: list) -> tuple[str, str]:
    """SVG path data of a track's points (panel units, ``None, None`` at breaks).

    Returns ``(line, dots)``: the polyline in relative moves, and one zero-length segment per
    point (drawn as a dot by a round or square line cap).
    """
    line, dots = [], []
    previous = None
    for i in range(0, len(points), 2):
        x, y = points[i], points[i + 1]
        if x is None:
            previous = None
            continue
        if previous is None:
            line.append(f"M{x} {y}")
        else:
            line.append(f"l{x - previous[0]} {y - previous[1]}")
        dots.append(f"M{x} {y}h0")
        previous = (x, y)
    return "".join(line).replace(" -", "-"), "".join(dots).replace(" -", "-")


def _track_style(track: Track, part: str) -> str:
    color = theme_color(track.color)
    common = f"fill:none;stroke:{color};vector-effect:non-scaling-stroke"
    if track.alpha < 1:
        common += f";stroke-opacity:{track.alpha:g}"
    if part == "line":
        style = f"{common};stroke-width:{track.linewidth * PX_PER_PT:.3g}px;stroke-linejoin:round"
        if track.dashes:
            style += ";stroke-dasharray:" + " ".join(f"{d * PX_PER_PT:.3g}" for d in track.dashes)
        return style
    cap = "square" if track.marker == "s" else "round"
    size = track.markersize * PX_PER_PT * (0.88 if cap == "square" else 1.0)
    return f"{common};stroke-width:{size:.3g}px;stroke-linecap:{cap}"


# --- HTML ---------------------------------------------------------------------------------------


class _Page:
    """What one page has emitted already: definitions and figure ids."""

    def __init__(self):
        self.defs: set[str] = set()
        self.ids: dict[str, int] = {}

    def unique_id(self, payload: str) -> str:
        base = "adamedu-f" + hashlib.sha1(payload.encode("utf-8")).hexdigest()[:8]
        count = self.ids.get(base, 0)
        self.ids[base] = count + 1
        return base if count == 0 else f"{base}-{count}"


def figure_html(export: FigureExport, alt: str = "", page: _Page | None = None,
                uid: str | None = None) -> str:
    """The HTML of one exported figure (see the module docstring)."""
    page = page or _Page()
    payload = json.dumps(export.to_json(), sort_keys=True)
    uid = uid or page.unique_id(payload)
    alt = alt or export.alt or export.title
    interactive = bool(export.controls)
    frame = export.frames[export.default_frame]
    default_bg = frame["background"]

    layouts, defs = {}, {}
    for name, layout in export.layouts.items():
        cleaned = {key: CleanSvg(svg) for key, svg in layout.backgrounds.items()}
        for svg in cleaned.values():
            defs.update(svg.defs)
        layouts[name] = cleaned
    new_defs = [body for ident, body in sorted(defs.items()) if ident not in page.defs]
    page.defs.update(defs)

    # each pool entry as SVG path data, only in the forms its tracks draw (a line, dots or both)
    needs = [[False, False] for _ in export.pool]
    for f in export.frames.values():
        for track, ref in zip(export.tracks, f["tracks"]):
            needs[ref][0] |= track.linewidth > 0
            needs[ref][1] |= bool(track.marker)
    paths = []
    for points, (line, dots) in zip(export.pool, needs):
        d_line, d_dots = path_data(points)
        paths.append((d_line if line else "", d_dots if dots else ""))
    classes = "adamedu-figure"
    classes += " adamedu-interactive" if interactive else ""
    classes += " adamedu-has-narrow" if "narrow" in export.layouts else ""
    parts = [f'<div class="{classes}" id="{uid}">']
    if interactive and export.title:
        parts.append(f'<p class="adamedu-title">{html.escape(export.title)}</p>')
    if interactive:
        parts.append(_controls_html(export, uid))
    if new_defs:
        parts.append('<svg class="adamedu-defs" aria-hidden="true" focusable="false" width="0" '
                     f'height="0"><defs>{"".join(new_defs)}</defs></svg>')
    for name, cleaned in layouts.items():
        layout = export.layouts[name]
        width_px = layout.width * PX_PER_PT
        max_width = width_px * (1.35 if name == "narrow" else 1.0)
        parts.append(f'<div class="adamedu-layout adamedu-{name}" style="max-width:{max_width:.0f}px">'
                     f'<svg class="adamedu-plot" role="img" aria-label="{html.escape(alt)}" '
                     f'viewBox="0 0 {layout.width:g} {layout.height:g}" width="{width_px:.0f}" '
                     f'height="{layout.height * PX_PER_PT:.0f}" '
                     'style="fill:var(--adamedu-ink);stroke-linejoin:round;stroke-linecap:butt">')
        for key, svg in cleaned.items():
            hidden = "" if key == default_bg else ' style="display:none"'
            parts.append(f'<g class="adamedu-bg" data-bg="{key}"{hidden}>{svg.body}</g>')
        if export.tracks:
            parts.append(_tracks_svg(export, layout.panels[default_bg], frame, paths))
        parts.append("</svg></div>")
    if export.readouts:
        readout = frame.get("readout")
        text = export.readouts[readout] if readout is not None else ""
        lines = "".join(f"<span>{html.escape(line)}</span>" for line in text.splitlines())
        parts.append(f'<div class="adamedu-readout" aria-live="polite">{lines}</div>')
    if export.fixed:
        fixed = ", ".join(f"{html.escape(label)} = {html.escape(value)}"
                          for label, value in export.fixed)
        parts.append(f'<p class="adamedu-fixed">Fixed on this page: {fixed}. '
                     "Run the notebook for every control.</p>")
    if interactive:
        parts.append('<script type="application/json" class="adamedu-frames">'
                     + _runtime_json(export, paths, alt).replace("</", "<\\/") + "</script>")
    parts.append("</div>")
    return "".join(parts)


def _controls_html(export: FigureExport, uid: str) -> str:
    items = []
    default = export.default_frame.split("-") if export.default_frame else []
    for i, control in enumerate(export.controls):
        cid = f"{uid}-c{i}"
        index = int(default[i]) if i < len(default) else control.default
        label = html.escape(control.label)
        shown = html.escape(control.labels[index])
        if control.kind == "select":
            options = "".join(f'<option value="{j}"{" selected" if j == index else ""}>'
                              f"{html.escape(text)}</option>"
                              for j, text in enumerate(control.labels))
            field = f'<select id="{cid}" data-control="{i}" disabled>{options}</select>'
            items.append(f'<div class="adamedu-control"><label for="{cid}">{label}</label> '
                         f"{field}</div>")
        elif control.kind == "toggle":
            checked = " checked" if index == 1 else ""
            field = (f'<input type="checkbox" id="{cid}" data-control="{i}"{checked} disabled>')
            items.append(f'<div class="adamedu-control adamedu-toggle">{field} '
                         f'<label for="{cid}">{label}</label></div>')
        else:
            field = (f'<input type="range" id="{cid}" data-control="{i}" min="0" '
                     f'max="{len(control.labels) - 1}" step="1" value="{index}" '
                     f'aria-valuetext="{shown}" disabled>')
            items.append(f'<div class="adamedu-control"><label for="{cid}">{label}</label> '
                         f'{field} <output for="{cid}" id="{cid}-out">{shown}</output></div>')
    return f'<div class="adamedu-controls">{"".join(items)}</div>'


def _tracks_svg(export: FigureExport, panels: list, frame: dict, paths: list) -> str:
    parts = []
    by_panel: dict[tuple[int, bool], list[int]] = {}
    for i, track in enumerate(export.tracks):
        by_panel.setdefault((track.panel, track.clip), []).append(i)
    for (panel, clip), indices in sorted(by_panel.items()):
        x, y, w, h = panels[panel]
        overflow = "" if clip else ' overflow="visible"'
        parts.append(f'<svg class="adamedu-panel" data-panel="{panel}" x="{x:g}" y="{y:g}" '
                     f'width="{w:g}" height="{h:g}" viewBox="0 0 {AXES_UNITS} {AXES_UNITS}" '
                     f'preserveAspectRatio="none"{overflow}>')
        for i in indices:
            track = export.tracks[i]
            line, dots = paths[frame["tracks"][i]]
            if track.linewidth > 0:
                parts.append(f'<path class="adamedu-track" data-track="{i}" data-part="line" '
                             f'd="{line}" style="{_track_style(track, "line")}"/>')
            if track.marker:
                parts.append(f'<path class="adamedu-track" data-track="{i}" data-part="dots" '
                             f'd="{dots}" style="{_track_style(track, "dots")}"/>')
        parts.append("</svg>")
    return "".join(parts)


def _runtime_json(export: FigureExport, paths: list, alt: str) -> str:
    spec = {
        "title": export.title,
        "alt": alt,
        "names": [c.label for c in export.controls],
        "labels": [c.labels for c in export.controls],
        "frames": {key: [f["background"], f["tracks"], f.get("readout")]
                   for key, f in export.frames.items()},
        "paths": paths,
        "readouts": export.readouts,
        "panels": {name: layout.panels for name, layout in export.layouts.items()},
        "default": export.default_frame,
    }
    return json.dumps(spec, separators=(",", ":"), ensure_ascii=False)


def standalone_page(body: str, title: str = "figure") -> str:
    """A complete HTML page around figure HTML, with the figure CSS and script inlined."""
    css = (ASSETS / "adamedu-figures.css").read_text("utf-8")
    js = (ASSETS / "adamedu-figures.js").read_text("utf-8")
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{css}</style></head>"
            f"<body>{body}<script>{js}</script></body></html>")


# --- myst-nb ------------------------------------------------------------------------------------


class FigureRenderer:
    """myst-nb mime-render plugin for :data:`FIGURE_MIME` (see ``MimeRenderPlugin``)."""

    mime_priority_overrides = [("html", FIGURE_MIME, 1), ("dirhtml", FIGURE_MIME, 1),
                               ("singlehtml", FIGURE_MIME, 1)]

    @staticmethod
    def handle_mime(renderer: Any, data: Any, inline: bool):
        if inline or data.mime_type != FIGURE_MIME:
            return None
        try:
            export = FigureExport.from_json(data.content)
        except (TypeError, ValueError, KeyError) as exc:
            renderer.logger.warning(f"Invalid figure export: {exc}", subtype="figure",
                                    line=data.line)
            return []
        options = renderer.renderer.get_cell_level_config(
            "render_image_options", data.cell_metadata, line=data.line)
        page = getattr(renderer, "_adamedu_page", None)
        if page is None:
            page = renderer._adamedu_page = _Page()
        text = figure_html(export, alt=str(options.get("alt", "") or ""), page=page)
        return [nodes.raw("", text, format="html", classes=["output", "adamedu-output"])]


def _register_plugin() -> None:
    """Add :class:`FigureRenderer` to the mime renderers myst-nb loads.

    myst-nb finds such plugins through installed entry points; the book's tooling is not an
    installed package, so the list is extended here (``load_mime_renders`` is read at each use).
    """
    try:
        from myst_nb.core import render
    except ImportError as exc:  # pragma: no cover - the book needs myst-nb
        raise ExtensionError("adamedu_figures needs myst-nb") from exc
    loader = render.load_mime_renders
    if getattr(loader, "adamedu_figures", False):
        return

    def load_mime_renders():
        return [*loader(), FigureRenderer]

    load_mime_renders.adamedu_figures = True
    render.load_mime_renders = load_mime_renders


def _add_assets(app: Sphinx) -> None:
    app.config.html_static_path.append(str(ASSETS))


def setup(app: Sphinx) -> dict:
    _register_plugin()
    app.connect("builder-inited", _add_assets)
    app.add_css_file("adamedu-figures.css")
    app.add_js_file("adamedu-figures.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
