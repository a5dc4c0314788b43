"""Colours, line styles and markers of the book's figures: one fixed style per optimizer.

The colours are Okabe and Ito's palette for colour-blind readers (*Color Universal Design*, 2008),
which stays distinguishable under deuteranopia, protanopia and tritanopia. Its yellow is left out:
on white it is almost invisible. Colour is never the only cue: each optimizer also has its own line
style and marker, so two methods that share a colour (a method and its variant, such as Adam and
AdamW) still look different, in print and to every reader.

``style("Adam")`` gives the style of an optimizer (or of a role such as ``"reference"``), and
``style("Adam").kwargs()`` the keyword arguments for :meth:`matplotlib.axes.Axes.plot`. The
matplotlib settings every figure of the book uses (this palette as the colour cycle, font sizes,
numbers formatted for people) are :func:`rc`; :func:`adamedu.plots.use_book_style` applies them.

Black is the colour of text, axes and reference lines ("ink"); greys are mixtures of ink and the
white paper. The book's site draws figures in the reader's colour theme by exchanging ink and paper,
so the optimizer colours below are the same in light and dark mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "OKABE_ITO",
    "INK",
    "MUTED",
    "PAPER",
    "Style",
    "OPTIMIZERS",
    "ROLES",
    "style",
    "cycle",
    "rc",
]

#: Okabe and Ito's colours for colour-blind readers (the palette's black is :data:`INK`).
OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}

#: Text, axes and reference lines.
INK = "#000000"
#: Secondary ink: contours, grid lines, data that only sets the scene (gradients, samples).
MUTED = "#8C8C8C"
#: The background.
PAPER = "#FFFFFF"

# Dash patterns (in units of the line width, as matplotlib scales them).
_DASHED = (0, (4.0, 1.6))
_LONG_DASHED = (0, (7.0, 2.0))
_DASH_DOT = (0, (5.0, 1.5, 1.2, 1.5))
_DOTTED = (0, (1.2, 1.4))


@dataclass(frozen=True)
class Style:
    """How one optimizer (or one role, such as a reference line) is drawn."""

    label: str
    color: str
    linestyle: Any = "-"
    marker: str = ""
    linewidth: float = 1.6
    extra: dict = field(default_factory=dict)

    def kwargs(self, markers: bool = True, **overrides) -> dict:
        """Keyword arguments for ``Axes.plot``; ``markers=False`` leaves the marker out."""
        kw = {"color": self.color, "linestyle": self.linestyle, "linewidth": self.linewidth,
              **self.extra}
        if markers and self.marker:
            kw["marker"] = self.marker
        kw.update(overrides)
        return kw


#: Every optimizer of the book: colour, line style, marker. Variants share their method's colour
#: and differ in line style and marker (AdamW and Adam, Nesterov and heavy-ball momentum).
OPTIMIZERS: dict[str, Style] = {
    "SGD": Style("SGD", OKABE_ITO["blue"], "-", "o"),
    "Momentum": Style("SGD with momentum", OKABE_ITO["bluish green"], _DASHED, "s"),
    "Nesterov": Style("SGD with Nesterov momentum", OKABE_ITO["bluish green"], _DASH_DOT, "v"),
    "AdaGrad": Style("AdaGrad", OKABE_ITO["orange"], _LONG_DASHED, "^", linewidth=2.4),
    "RMSprop": Style("RMSprop", OKABE_ITO["reddish purple"], _DASH_DOT, "D"),
    "Adam": Style("Adam", OKABE_ITO["vermillion"], "-", "o"),
    "AMSGrad": Style("AMSGrad", OKABE_ITO["sky blue"], _DASHED, "P"),
    "AdamW": Style("AdamW", OKABE_ITO["vermillion"], _DASHED, "s"),
    "Adamax": Style("Adamax", OKABE_ITO["orange"], _DASH_DOT, "<"),
    "NAdam": Style("NAdam", OKABE_ITO["bluish green"], _DOTTED, ">"),
    "RAdam": Style("RAdam", OKABE_ITO["reddish purple"], _DASHED, "h"),
    # the wider family: a fix of Adam shares a colour with a relative and differs in dashes and
    # marker from every optimizer of that colour
    "ADOPT": Style("ADOPT", OKABE_ITO["bluish green"], _LONG_DASHED, "X"),
    "AdaBelief": Style("AdaBelief", OKABE_ITO["reddish purple"], _LONG_DASHED, "*"),
    "Yogi": Style("Yogi", OKABE_ITO["orange"], _DASHED, "p"),
    "Adadelta": Style("Adadelta", OKABE_ITO["orange"], _DOTTED, "d"),
    "Adafactor": Style("Adafactor", OKABE_ITO["vermillion"], _DOTTED, "*"),
    "Lion": Style("Lion", OKABE_ITO["blue"], _DASHED, "d"),
    "Muon": Style("Muon", OKABE_ITO["blue"], _DASH_DOT, "H"),
    "ScheduleFreeAdamW": Style("schedule-free AdamW", OKABE_ITO["sky blue"], _DOTTED, "8"),
}

#: Other names readers and chapters use for the same methods.
_ALIASES = {
    "gd": "SGD",
    "gradient descent": "SGD",
    "sgd": "SGD",
    "momentum": "Momentum",
    "heavy ball": "Momentum",
    "sgd with momentum": "Momentum",
    "nesterov": "Nesterov",
    "sgd + nesterov": "Nesterov",
    "sgd with nesterov momentum": "Nesterov",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "amsgrad": "AMSGrad",
    "adamw": "AdamW",
    "adamax": "Adamax",
    "nadam": "NAdam",
    "radam": "RAdam",
    "adopt": "ADOPT",
    "adabelief": "AdaBelief",
    "yogi": "Yogi",
    "adadelta": "Adadelta",
    "adafactor": "Adafactor",
    "lion": "Lion",
    "muon": "Muon",
    "schedule-free adamw": "ScheduleFreeAdamW",
    "schedulefreeadamw": "ScheduleFreeAdamW",
}

#: Roles that are not optimizers.
ROLES: dict[str, Style] = {
    # a bound, limit or target value drawn for comparison
    "reference": Style("reference", INK, _DASHED, "", linewidth=1.0),
    # a derived (exact) curve
    "theory": Style("theory", INK, "-", "", linewidth=1.4),
    # scene-setting data: the gradients fed to an optimizer, samples, contours
    "data": Style("data", MUTED, "-", "o", linewidth=0.8),
    # the uncorrected (raw) moving averages m_t, v_t next to Adam's corrected ones
    "uncorrected": Style("without bias correction", OKABE_ITO["sky blue"], _DASHED, "s"),
    # the cursor that marks one step t
    "cursor": Style("step t", MUTED, "-", "", linewidth=0.9),
    "start": Style("start", INK, "none", "s", extra={"markersize": 6}),
    "optimum": Style("optimum", INK, "none", "*", extra={"markersize": 11}),
}


def style(name: str) -> Style:
    """The style of an optimizer (``"Adam"``, ``"SGD + Nesterov"``, ...) or of a role.

    Names are matched without regard to case, with the usual aliases (``"GD"`` is SGD,
    ``"heavy ball"`` is momentum).
    """
    if name in OPTIMIZERS:
        return OPTIMIZERS[name]
    if name in ROLES:
        return ROLES[name]
    key = _ALIASES.get(str(name).strip().lower())
    if key is None:
        known = sorted(OPTIMIZERS) + sorted(ROLES)
        raise ValueError(f"Invalid figure style name: {name!r} (choose from {known})")
    return OPTIMIZERS[key]


def cycle() -> list[str]:
    """The colour cycle ``C0``, ``C1``, ...: SGD, RMSprop, AdaGrad, Adam, momentum, AMSGrad, ink.

    In this order ``"C3"`` is Adam's colour and ``"C0"`` SGD's, as in the chapters' code.
    """
    return [OPTIMIZERS[name].color for name in ("SGD", "RMSprop", "AdaGrad", "Adam", "Momentum",
                                                 "AMSGrad")] + [INK]


def rc() -> dict[str, Any]:
    """The matplotlib settings of every figure in the book."""
    from matplotlib.rcsetup import cycler  # matplotlib's own (validated) cycler

    return {
        "axes.prop_cycle": cycler(color=cycle()),
        "figure.dpi": 100,
        "savefig.dpi": "figure",
        "figure.facecolor": PAPER,
        "axes.facecolor": PAPER,
        "savefig.facecolor": PAPER,
        "text.color": INK,
        "axes.edgecolor": INK,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "font.size": 10.0,
        "axes.titlesize": 10.0,
        "axes.labelsize": 10.0,
        "xtick.labelsize": 9.0,
        "ytick.labelsize": 9.0,
        "legend.fontsize": 9.0,
        "legend.frameon": True,
        "legend.framealpha": 0.85,
        "legend.facecolor": PAPER,
        "legend.edgecolor": "#D9D9D9",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlelocation": "left",
        "lines.linewidth": 1.6,
        "lines.markersize": 4.0,
        "image.cmap": "viridis",
        # Numbers for people: 0.01 to 100 in decimals on log axes, powers of ten beyond, and
        # "×10⁻⁴" rather than "1e-4" where an axis needs a multiplier.
        "axes.formatter.min_exponent": 3,
        "axes.formatter.use_mathtext": True,
        "axes.formatter.useoffset": False,
        # Vector output for the site: text drawn as shapes (no font needed) and the same ids and
        # bytes in every run.
        "svg.fonttype": "path",
        "svg.hashsalt": "adamedu",
    }
