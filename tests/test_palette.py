"""adamedu.palette: one style per optimizer, distinguishable by every reader.

Colour-vision deficiencies are simulated with the matrices of Machado, Oliveira & Fernandes (2009)
at full severity; distances are Euclidean in Oklab (Ottosson 2020), where 0.1 is a clearly visible
difference and 0.02 about the smallest one people notice.
"""

import itertools

import numpy as np
import pytest

from adamedu import optim, palette

MACHADO = {
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}
#: The backgrounds of the site's light and dark themes.
WHITE, DARK = "#FFFFFF", "#14181E"


def _linear(hex_color):
    c = np.array([int(hex_color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _oklab(linear_rgb):
    lms = np.cbrt(np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                            [0.2119034982, 0.6806995451, 0.1073969566],
                            [0.0883024619, 0.2817188376, 0.6299787005]]) @ linear_rgb)
    return np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                     [1.9779984951, -2.4285922050, 0.4505937099],
                     [0.0259040371, 0.7827717662, -0.8086757660]]) @ lms


def _seen(hex_color, deficiency=None):
    rgb = _linear(hex_color)
    if deficiency is not None:
        rgb = np.clip(np.array(MACHADO[deficiency]) @ rgb, 0, 1)
    return _oklab(rgb)


def _contrast(a, b):
    la, lb = (float(_linear(c) @ [0.2126, 0.7152, 0.0722]) for c in (a, b))
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def test_every_optimizer_of_the_package_has_a_style():
    for name in optim.__all__:
        cls = getattr(optim, name)
        if isinstance(cls, type) and issubclass(cls, optim.Optimizer) and cls is not optim.Optimizer:
            assert palette.style(cls.__name__) in palette.OPTIMIZERS.values(), cls.__name__
    for name in ("Momentum", "Nesterov", "AMSGrad", "GD", "gradient descent", "SGD + Nesterov"):
        assert palette.style(name) in palette.OPTIMIZERS.values()


def test_no_two_optimizers_look_alike():
    """Each has its own combination; two that share a colour differ in dashes and in marker."""
    styles = list(palette.OPTIMIZERS.values())
    assert len({(s.color, repr(s.linestyle), s.marker) for s in styles}) == len(styles)
    for a, b in itertools.combinations(styles, 2):
        if a.color == b.color:
            assert repr(a.linestyle) != repr(b.linestyle) and a.marker != b.marker, (a.label, b.label)
        assert a.marker != b.marker or a.color != b.color


@pytest.mark.parametrize("deficiency", [None, *MACHADO])
def test_the_optimizer_colours_stay_apart_under_colour_vision_deficiencies(deficiency):
    colors = sorted({s.color for s in palette.OPTIMIZERS.values()})
    assert len(colors) == 6
    for a, b in itertools.combinations(colors, 2):
        distance = float(np.linalg.norm(_seen(a, deficiency) - _seen(b, deficiency)))
        assert distance > 0.05, (deficiency, a, b, distance)


def test_the_optimizer_colours_are_visible_on_both_themes():
    """Okabe-Ito's hues as they are: on white the orange and the sky blue reach only about 2.3:1,
    which the line styles and markers make up for; everything else reaches 3:1 on both themes."""
    for s in palette.OPTIMIZERS.values():
        assert _contrast(s.color, DARK) >= 3.0, s.label
        assert _contrast(s.color, WHITE) >= (2.2 if s.color in ("#E69F00", "#56B4E9") else 3.0), s.label
    assert _contrast(palette.INK, WHITE) == pytest.approx(21.0)
    assert _contrast(palette.MUTED, WHITE) >= 3.0


def test_style_names_and_errors():
    assert palette.style("adam") is palette.style("Adam")
    assert palette.style("heavy ball") is palette.style("Momentum")
    assert palette.style("reference").color == palette.INK
    with pytest.raises(ValueError, match="Invalid figure style name: 'Adamm'"):
        palette.style("Adamm")
    kw = palette.style("AdamW").kwargs(markers=False, linewidth=1.0)
    assert kw["color"] == palette.style("Adam").color and "marker" not in kw and kw["linewidth"] == 1.0


def test_the_colour_cycle_keeps_the_chapters_meaning_of_c0_to_c3():
    cycle = palette.cycle()
    assert cycle[:4] == [palette.style(n).color for n in ("SGD", "RMSprop", "AdaGrad", "Adam")]
    assert palette.rc()["axes.prop_cycle"].by_key()["color"] == cycle
    assert palette.OKABE_ITO["yellow"] not in cycle  # invisible on white
