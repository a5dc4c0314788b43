"""Regression checks on the chapters' prose: corrected lessons stay corrected.

Numerical and symbolic claims are checked where they are made, in executed cells of the chapters
(tagged ``check``). A few corrections concern wording that no computation can test (who proved what,
which experiment is left out, what a reader is asked to do first); these tests fail if the wrong
wording returns or the structure that teaches it disappears.
"""

from __future__ import annotations

import pathlib
import re

import pytest

CHAPTERS = pathlib.Path(__file__).resolve().parents[1] / "chapters"
LESSONS = ["gd_to_adam", "adam_algorithm", "bias_correction", "rescaling_invariance", "trust_region", "practice",
           "snr_annealing", "adamax", "failures_and_fixes", "paper_experiments"]


def text(name: str) -> str:
    return (CHAPTERS / f"{name}.md").read_text()


def directives(source: str):
    """(name, argument, options, body) of every top-level directive, fenced with backticks or colons."""
    pattern = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}(?P<arg>[^\n]*)\n(?P<body>.*?)^(?P=fence)\s*$",
                         re.M | re.S)
    for match in pattern.finditer(source):
        body = match["body"]
        options = dict(re.findall(r"^:(\w[\w-]*):\s*(.*)$", body, re.M))
        yield match["name"], match["arg"].strip(), options, body


@pytest.mark.parametrize("name", LESSONS)
def test_every_common_claim_asks_for_a_prediction_before_its_verdict(name):
    blocks = list(directives(text(name)))
    claims = [k for k, (kind, arg, opts, _) in enumerate(blocks) if kind == "admonition" and "claim" in opts.get("class", "")]
    for k in claims:
        _, arg, _, body = blocks[k]
        assert arg.lower().startswith("common claim"), arg
        # The claim itself gives no verdict away ...
        assert not re.search(r"\*\*(true|false|approximate|right|wrong|half right)", body, re.I), arg
        # ... and the next admonition (evidence may come between) is the verdict, closed until opened.
        kind, verdict_title, opts, _ = next(block for block in blocks[k + 1:] if block[0] == "admonition")
        assert verdict_title == "Verdict" and "dropdown" in opts.get("class", ""), arg
    # No claim is left in the old inline form ("A common claim is that ... **False**").
    prose = re.sub(r"^(`{3,}|:{3,})\{admonition\}.*?^\1\s*$", "", text(name), flags=re.M | re.S)
    assert not re.search(r"A common claim is that[^`]*?\*\*(True|False|Approximate|Wrong|Right)", prose, re.S)


def test_chapters_with_common_claims_use_the_block():
    for name in ("trust_region", "snr_annealing", "bias_correction", "adam_algorithm", "rescaling_invariance",
                 "adamax", "failures_and_fixes", "practice"):
        assert sum(1 for kind, _, opts, _ in directives(text(name))
                   if kind == "admonition" and "claim" in opts.get("class", "")) >= 1, name


def test_momentum_is_not_taught_as_useless_on_a_deterministic_ravine():
    source = text("gd_to_adam")
    assert "lr_momentum = 0.3 / b" not in source  # the untuned heavy ball of the old race
    assert "advantage over a\nwell-tuned method that follows the gradient shrinks" not in source
    assert "4 / (np.sqrt(a) + np.sqrt(b)) ** 2" in source  # Polyak's parameters for a quadratic
    assert "deterministic" in source


def test_rmsprop_gets_credit_for_scale_invariance_centring_and_momentum():
    for name in ("gd_to_adam", "adam_algorithm"):
        source = text(name)
        assert "Graves" in source and "centred" in source.lower()
    assert "new are the bias corrections\n({ref}`chap-bias-correction`) and the way the ratio" not in text("gd_to_adam")


def test_amsgrad_proof_is_not_claimed_to_go_through():
    source = text("failures_and_fixes")
    assert "the original proof\ngoes through" not in source and "original proof goes through" not in source
    assert "Tran and Phong (2019)" in source


def test_paper_experiments_keep_their_honesty():
    source = text("paper_experiments")
    assert "prints how long they took" not in source  # no promised timing cell
    assert "Figure 3 is left out" in source
    assert "at least 3x lower mean final loss" not in source
    assert re.search(r"TUNING_SEEDS = \(100, 101, 102\)", source)
    assert "tune_lr(cls, mlp, mlp_steps," in source  # Figure 2 tuned on the full run


def test_trust_region_states_both_readings_and_the_first_step():
    source = text("trust_region")
    assert "Read literally" in source and "Read as the paper's figure" in source
    assert "at $t = 1$ every sequence gives\nexactly 1" in source
    assert "Sparse spikes** stay below the paper's figure: every spike" not in source


def test_introduction_says_what_is_checked():
    source = text("intro")
    assert "Every claim in the text is checked" not in source
