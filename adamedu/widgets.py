"""The book's interactive figures: one factory per figure, callable with no arguments.

Each factory returns an :class:`adamedu.interactive_figure.InteractiveFigure`. In JupyterLab or
Notebook 7 it displays as live ipywidgets controls above the figure; on the book's site (and in
any headless run) as the default figure with sliders over precomputed frames. The numbers come
from :mod:`adamedu` (``trace.run`` with the optimizers and problems, ``online.run_online``,
``theory``, ``analysis``); the drawing from :mod:`adamedu.plots`. This module only moves one into
the other.

Every factory also exposes its pieces for tests and other uses: ``<name>_data(**values)`` computes
what the figure shows, as one of the dataclasses of :mod:`adamedu.plots`.
"""

from __future__ import annotations

import functools

import numpy as np

from adamedu import plots, theory
from adamedu.analysis import angle_to_steepest_descent
from adamedu.interactive_figure import Control, InteractiveFigure
from adamedu.momentum_figure import momentum_figure
from adamedu.online import ReddiProblem, run_online
from adamedu.optim import SGD, Adam, RMSprop
from adamedu.plots import (
    AdamStepData,
    BiasCorrectionData,
    CounterexampleData,
    DirectionData,
    RaceData,
    RescalingData,
    SnrAnnealingData,
    StepBoundsData,
    format_number,
)
from adamedu.problems import Beale, IllConditionedQuadratic, NoisyQuadratic, Rescaled, Rosenbrock, Saddle
from adamedu.trace import run

__all__ = [
    "snr_annealing_figure",
    "step_bounds_figure",
    "bias_correction_figure",
    "rescaling_figure",
    "race_figure",
    "direction_figure",
    "adam_step_figure",
    "counterexample_figure",
    "snr_annealing_data",
    "step_bounds_data",
    "bias_correction_data",
    "rescaling_data",
    "race_data",
    "direction_data",
    "adam_step_data",
    "adam_step_readout",
    "counterexample_data",
    "gradient_sequence",
    "step_sequence",
    "FACTORIES",
    "BETA2_OPTIONS",
]

# β2 values offered by every figure: a slider over these cannot reach 1.
BETA2_OPTIONS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999)


def _beta1(static=(0.0, 0.5, 0.9, 0.99), default=0.9) -> Control:
    return Control("beta1", "β₁", "float", default, low=0.0, high=0.99, step=0.01, static=static)


def _beta2(static=(0.9, 0.99, 0.999), default=0.999) -> Control:
    return Control("beta2", "β₂", "options", default, options=BETA2_OPTIONS, static=static)


class _GradientSequence:
    """A 'problem' whose optimizer sees a fixed sequence of gradients, whatever the parameters.

    It lets :func:`adamedu.trace.run` feed Adam the sequences of the step-size, bias-correction
    and one-step figures. Each instance serves one run.
    """

    name = "gradient sequence"

    def __init__(self, gradients):
        self.gradients = np.asarray(gradients, dtype=np.float64).reshape(len(gradients), -1)
        self.dim = self.gradients.shape[1]
        self.x0 = np.zeros(self.dim)
        self.minimizer = None
        self._next = iter(self.gradients)

    def loss(self, x):
        return 0.0

    def stochastic_grad(self, x, rng):
        return next(self._next).copy()


def _values_text(values: dict, names: dict) -> str:
    return ", ".join(f"{names[k]} = {format_number(v)}" if isinstance(v, float) else
                     f"{names[k]} = {v}" for k, v in values.items())


# --- 1. SNR-based annealing -----------------------------------------------------------------------

SNR_STEPS = 300
SNR_PROBLEM = {"curvature": 10.0, "dim": 20}  # the chapter's a = 10, fewer coordinates and steps


def snr_annealing_data(noise=1.0, beta1=0.9, beta2=0.999, lr=1e-2, steps=SNR_STEPS,
                       seed=0) -> SnrAnnealingData:
    """Adam on the noisy quadratic (a = 10, 20 coordinates from x = 1), gradient noise σ = ``noise``.

    Every curve is a mean over the coordinates: |x|, |m̂/√v̂| and |Δ_t|.
    """
    problem = NoisyQuadratic(noise=noise, **SNR_PROBLEM)
    trace = run(Adam, problem, steps, seed=seed, record=("params", "update", "snr"), lr=lr,
                betas=(beta1, beta2))
    return SnrAnnealingData(
        t=np.arange(1, steps + 1),
        distance=np.abs(trace.params - problem.minimizer).mean(axis=1),
        snr=np.abs(trace.snr).mean(axis=1),
        step=np.abs(trace.update).mean(axis=1),
        lr=lr,
        window=20,
    )


def snr_annealing_figure() -> InteractiveFigure:
    """Noise level, β1, β2 and lr against distance to the optimum, |m̂/√v̂| and |Δ_t|."""
    controls = [
        Control("noise", "gradient noise σ", "options", 1.0,
                options=(0.0, 0.1, 0.3, 1.0, 3.0, 10.0), static=(0.0, 0.3, 1.0, 3.0, 10.0)),
        Control("lr", "learning rate α", "log", 1e-2, low=-4.0, high=-0.5, step=0.25,
                static=(1e-3, 10**-2.5, 1e-2, 10**-1.5, 1e-1)),
        _beta1(static=()),
        _beta2(static=()),
    ]
    names = {"noise": "σ", "lr": "α", "beta1": "β1", "beta2": "β2"}
    return InteractiveFigure(
        "snr-annealing", "Adam on a noisy quadratic: the step anneals as the signal fades", controls,
        snr_annealing_data, plots.draw_snr_annealing, plots.update_snr_annealing,
        alt=lambda v: ("Three panels against the step t for Adam on the noisy quadratic with "
                       f"{_values_text(v, names)}: the mean distance |x| to the optimum, the mean "
                       "ratio |m̂/√v̂| (per step and running mean) and the mean step size |Δ| "
                       "with the learning rate as a dashed line."))


# --- 2. Trust-region step bounds --------------------------------------------------------------

BOUND_STEPS = 60
SEQUENCES = (("constant", "constant"), ("random sign", "random sign"),
             ("sparse spikes", "sparse"), ("worst case for the last step", "worst"))


def gradient_sequence(kind: str, beta1: float, beta2: float, steps: int = BOUND_STEPS, seed: int = 0):
    """The 1-D gradient sequences of the step-bound figure, scaled to a largest |g| of 1."""
    if kind == "constant":
        g = np.ones(steps)
    elif kind == "random sign":
        g = np.random.default_rng(seed).choice([-1.0, 1.0], size=steps)
    elif kind == "sparse":
        g = np.where(np.arange(steps) % 10 == 0, 1.0, 0.0)
    elif kind == "worst":
        g = theory.worst_case_gradients(beta1, beta2, steps)
    else:
        raise ValueError(f"Invalid sequence: {kind!r}")
    return g / np.max(np.abs(g))


def step_bounds_data(beta1=0.9, beta2=0.999, sequence="sparse", steps=BOUND_STEPS,
                     lr=1e-3) -> StepBoundsData:
    """|Δ_t|/α of Adam on a gradient sequence, the paper's stated bound and the exact supremum.

    Adam runs with ε = 1e-300, far below every √v̂ the sequences produce, so that its steps are
    the ε = 0 steps of the theory, except that a step after nothing but zero gradients is 0
    rather than 0/0.
    """
    g = gradient_sequence(sequence, beta1, beta2, steps)
    trace = run(Adam, _GradientSequence(g), steps, record=("update",), lr=lr, betas=(beta1, beta2),
                eps=1e-300)
    t = np.arange(1, steps + 1)
    return StepBoundsData(
        t=t,
        gradients=g,
        ratio=np.abs(trace.update[:, 0]) / lr,
        supremum=np.array([theory.worst_case_step_ratio(beta1, beta2, int(k)) for k in t]),
        paper=theory.paper_step_bound(beta1, beta2),
    )


def step_bounds_figure() -> InteractiveFigure:
    """β1, β2 and the gradient sequence against |Δ_t|/α, the paper's stated bound, the supremum."""
    controls = [
        _beta1(),
        _beta2(static=(0.5, 0.9, 0.99, 0.999)),
        Control("sequence", "gradient sequence", "choice", "sparse", options=SEQUENCES,
                static=tuple(v for _, v in SEQUENCES)),
    ]
    names = {"beta1": "β1", "beta2": "β2", "sequence": "sequence"}
    return InteractiveFigure(
        "step-bounds", "Adam's step against the paper's stated bound and the exact supremum",
        controls, step_bounds_data, plots.draw_step_bounds, plots.update_step_bounds,
        alt=lambda v: (f"Left: the gradient sequence ({v['sequence']}). Right, on a log scale "
                       f"against the step t, for {_values_text(v, names)}: Adam's |Δ_t|/α, the "
                       "exact supremum over all sequences at step t, and the paper's stated bound "
                       "as a dashed line."))


# --- 3. Bias correction -------------------------------------------------------------------------

BIAS_STEPS = 500


@functools.lru_cache(maxsize=64)
def _bias_correction_runs(beta1, beta2, steps, mean, noise, seed, lr):
    g = mean + noise * np.random.default_rng(seed).standard_normal(steps)
    kw = dict(record=("update", "m_hat", "v_hat"), lr=lr, betas=(beta1, beta2))
    corrected = run(Adam, _GradientSequence(g), steps, **kw)
    raw = run(Adam, _GradientSequence(g), steps, bias_correction=False, **kw)
    arrays = {
        "t": np.arange(1, steps + 1),
        "m_raw": raw.m_hat[:, 0],  # without bias correction the trace's m̂ is the raw m
        "m_hat": corrected.m_hat[:, 0],
        "v_raw": raw.v_hat[:, 0],
        "v_hat": corrected.v_hat[:, 0],
        "step_raw": np.abs(raw.update[:, 0]) / lr,
        "step_corrected": np.abs(corrected.update[:, 0]) / lr,
    }
    for a in arrays.values():
        a.setflags(write=False)  # cached and shared between calls
    return arrays


def bias_correction_data(beta1=0.9, beta2=0.999, t=10, steps=BIAS_STEPS, mean=1.0, noise=0.5,
                         seed=0, lr=1e-3) -> BiasCorrectionData:
    """Adam with and without bias correction on the noisy constant gradient g_t = mean + noise·ξ_t.

    The runs depend on the β's only, so moving t reuses them (cached).
    """
    if not 1 <= t <= steps:
        raise ValueError(f"Invalid t: {t} (must be in [1, {steps}])")
    runs = _bias_correction_runs(float(beta1), float(beta2), int(steps), float(mean),
                                 float(noise), int(seed), float(lr))
    return BiasCorrectionData(**runs, mean=mean, second_moment=mean**2 + noise**2, cursor=int(t))


def bias_correction_figure() -> InteractiveFigure:
    """β1, β2 and a step t against raw and corrected moments and the first updates' sizes."""
    controls = [
        _beta1(),
        _beta2(),
        Control("t", "step t", "int", 10, low=1, high=BIAS_STEPS, step=1,
                static=(1, 2, 5, 10, 30, 100, 500)),
    ]
    names = {"beta1": "β1", "beta2": "β2", "t": "t"}
    return InteractiveFigure(
        "bias-correction", "Bias correction of a noisy constant gradient (E[g] = 1, σ = 0.5)",
        controls, bias_correction_data, plots.draw_bias_correction, plots.update_bias_correction,
        alt=lambda v: (f"Three panels on a logarithmic step axis for {_values_text(v, names)}: "
                       "the raw and bias-corrected first moment against E[g], the raw and corrected "
                       "second moment against E[g²], and |Δ_t|/α with and without the correction; "
                       "a vertical line marks step t."))


# --- 4. Rescaling invariance ----------------------------------------------------------------------

RESCALE_STEPS = 80
RESCALE_LR = {"Adam": 0.1, "SGD": 0.03}


def rescaling_data(scale_x=10.0, scale_y=0.1, eps=1e-8, steps=RESCALE_STEPS) -> RescalingData:
    """Adam and SGD on the ravine, with gradients as they are and multiplied by (scale_x, scale_y)."""
    problem = IllConditionedQuadratic(condition_number=50.0)
    scaled = Rescaled(problem, grad_scale=[scale_x, scale_y])
    common = dict(record=("params",), on_nonfinite="stop")
    with np.errstate(over="ignore", invalid="ignore"):  # SGD may diverge: the run then stops
        paths = {
            "adam": run(Adam, problem, steps, lr=RESCALE_LR["Adam"], eps=eps, **common).params,
            "adam_scaled": run(Adam, scaled, steps, lr=RESCALE_LR["Adam"], eps=eps, **common).params,
            "sgd": run(SGD, problem, steps, lr=RESCALE_LR["SGD"], **common).params,
            "sgd_scaled": run(SGD, scaled, steps, lr=RESCALE_LR["SGD"], **common).params,
        }
    return RescalingData(loss=problem.loss, xlim=(-4.6, 1.4), ylim=(-1.6, 1.6), start=problem.x0,
                         paths=paths)


def rescaling_figure() -> InteractiveFigure:
    """Per-coordinate gradient scale factors and ε against Adam's and SGD's paths, overlaid."""
    scale_static = (0.01, 0.1, 1.0, 10.0, 100.0)
    controls = [
        Control("scale_x", "scale of ∂f/∂x", "log", 10.0, low=-2.0, high=2.0, step=0.25,
                static=scale_static),
        Control("scale_y", "scale of ∂f/∂y", "log", 0.1, low=-2.0, high=2.0, step=0.25,
                static=scale_static),
        Control("eps", "ε", "log", 1e-8, low=-12.0, high=0.0, step=1.0, static=(1e-8, 1e-3, 1e-1)),
    ]
    names = {"scale_x": "scale of ∂f/∂x", "scale_y": "scale of ∂f/∂y", "eps": "ε"}
    return InteractiveFigure(
        "rescaling", "Rescaled gradients: Adam's path stays, SGD's changes", controls,
        rescaling_data, plots.draw_rescaling, plots.update_rescaling,
        alt=lambda v: ("Two contour plots of the ravine f = ½(x² + 50y²) with equal scales on "
                       "both axes. Left: Adam's path with the gradients as they are (solid) and "
                       "rescaled (dashed); right: the same for SGD; "
                       f"{_values_text(v, names)}."))


# --- 5. Optimizer race -----------------------------------------------------------------------

RACE_STEPS = 300
RACE_PROBLEMS = {
    # key: (constructor, xlim, ylim, tuned learning rates at ×1)
    "quadratic": (lambda: IllConditionedQuadratic(condition_number=50.0), (-4.6, 1.4), (-1.6, 1.6),
                  {"SGD": 0.03, "Momentum": 0.003, "RMSprop": 0.01, "Adam": 0.05}),
    "rosenbrock": (Rosenbrock, (-2.0, 2.0), (-1.0, 3.0),
                   {"SGD": 2e-3, "Momentum": 1e-3, "RMSprop": 0.01, "Adam": 0.1}),
    "beale": (Beale, (-0.5, 4.5), (-1.5, 2.5),
              {"SGD": 0.01, "Momentum": 1e-3, "RMSprop": 0.01, "Adam": 0.03}),
    "saddle": (Saddle, (-1.5, 1.5), (-1.5, 1.5),
               {"SGD": 0.01, "Momentum": 1e-3, "RMSprop": 3e-3, "Adam": 3e-3}),
}
RACE_OPTIMIZERS = {  # name -> (class, fixed hyperparameters)
    "SGD": (SGD, {}),
    "Momentum": (SGD, {"momentum": 0.9}),
    "RMSprop": (RMSprop, {}),
    "Adam": (Adam, {}),
}
RACE_CHOICES = (("ill-conditioned quadratic", "quadratic"), ("Rosenbrock", "rosenbrock"),
                ("Beale", "beale"), ("saddle", "saddle"))
#: The loss panel shows f(x_t) − f* from this floor up.
RACE_GAP_FLOOR = 1e-8


@functools.lru_cache(maxsize=256)
def _race_run(problem, optimizer, lr, steps):
    """One racer's path and loss (cached: moving one learning rate leaves the other racers)."""
    cls, fixed = RACE_OPTIMIZERS[optimizer]
    with np.errstate(over="ignore", invalid="ignore"):  # a too-large rate diverges: the run stops
        trace = run(cls, RACE_PROBLEMS[problem][0](), steps, record=("params", "loss"),
                    on_nonfinite="stop", lr=lr, **fixed)
    trace.params.setflags(write=False)
    trace.loss.setflags(write=False)
    return trace.params, trace.loss


def race_data(problem="quadratic", sgd_scale=1.0, adaptive_scale=1.0,
              steps=RACE_STEPS) -> RaceData:
    """SGD, SGD with momentum 0.9, RMSprop and Adam on one 2-D test function, same start.

    Each optimizer's learning rate is its tuned rate for that function (``RACE_PROBLEMS``) times
    ``sgd_scale`` (SGD and momentum) or ``adaptive_scale`` (RMSprop and Adam). The loss panel
    shows f(x_t) − f*, the distance to the function's minimum value.
    """
    make, xlim, ylim, base = RACE_PROBLEMS[problem]
    fn = make()
    lr = {"SGD": base["SGD"] * sgd_scale, "Momentum": base["Momentum"] * sgd_scale,
          "RMSprop": base["RMSprop"] * adaptive_scale, "Adam": base["Adam"] * adaptive_scale}
    runs = {name: _race_run(problem, name, float(lr[name]), int(steps)) for name in RACE_OPTIMIZERS}
    best = float(fn.loss(fn.minimizer))
    start_gap = float(fn.loss(fn.x0)) - best
    return RaceData(
        problem_key=problem, title=f"{fn.name}, {steps} steps", loss=fn.loss, xlim=xlim,
        ylim=ylim, start=fn.x0, minimizer=fn.minimizer,
        paths={name: params for name, (params, _) in runs.items()},
        gaps={name: loss - best for name, (_, loss) in runs.items()},
        gap_limits=(RACE_GAP_FLOOR, 30.0 * start_gap), log_gap=True, lr=lr)


def race_figure() -> InteractiveFigure:
    """A 2-D test function and learning-rate scales against each optimizer's path and loss."""
    scale_static = (0.1, 10**-0.5, 1.0, 10**0.5, 10.0)
    controls = [
        Control("problem", "test function", "choice", "quadratic", options=RACE_CHOICES,
                static=tuple(v for _, v in RACE_CHOICES), redraws_background=True),
        Control("sgd_scale", "SGD and momentum lr ×", "log", 1.0, low=-1.0, high=1.0, step=0.25,
                static=scale_static),
        Control("adaptive_scale", "RMSprop and Adam lr ×", "log", 1.0, low=-1.0, high=1.0,
                step=0.25, static=scale_static),
    ]
    return InteractiveFigure(
        "race", "Optimizer race on 2-D test functions", controls, race_data, plots.draw_race,
        plots.update_race,
        alt=lambda v: (f"Left, a contour plot of the {dict((b, a) for a, b in RACE_CHOICES)[v['problem']]} "
                       "function with equal scales on both axes and the paths of SGD, SGD with "
                       "momentum, RMSprop and Adam from the same start; right, each one's loss "
                       "above the minimum against the step on a log scale. Learning rates × "
                       f"{format_number(v['sgd_scale'])} (SGD, momentum) and × "
                       f"{format_number(v['adaptive_scale'])} (RMSprop, Adam) of their tuned "
                       "values."))


# --- 6. Direction against steepest descent ----------------------------------------------------

DIRECTION_STEPS = 60
DIRECTION_LR = {"GD": 0.03, "Adam": 0.1}


def direction_data(beta1=0.9, beta2=0.999, steps=DIRECTION_STEPS) -> DirectionData:
    """Paths of gradient descent and Adam along the ravine, and each step's angle to −∇f."""
    problem = IllConditionedQuadratic(condition_number=50.0)
    record = ("params", "grad", "update")
    gd = run(SGD, problem, steps, record=record, lr=DIRECTION_LR["GD"])
    adam = run(Adam, problem, steps, record=record, lr=DIRECTION_LR["Adam"], betas=(beta1, beta2))
    return DirectionData(
        loss=problem.loss, xlim=(-4.6, 1.4), ylim=(-1.6, 1.6), start=problem.x0,
        paths={"GD": gd.params, "Adam": adam.params},
        angles={"GD": angle_to_steepest_descent(gd.update, gd.grad),
                "Adam": angle_to_steepest_descent(adam.update, adam.grad)},
    )


def direction_figure() -> InteractiveFigure:
    """β1 and β2 against the angle between Adam's step and the steepest-descent direction."""
    controls = [_beta1(), _beta2(static=(0.5, 0.9, 0.99, 0.999, 0.9999))]
    names = {"beta1": "β1", "beta2": "β2"}
    return InteractiveFigure(
        "direction", "Adam's step against steepest descent along a ravine", controls,
        direction_data, plots.draw_direction, plots.update_direction,
        alt=lambda v: ("Left: paths of gradient descent and Adam on the ravine f = ½(x² + 50y²), "
                       "equal scales on both axes; right: the angle in degrees between each step "
                       "and the negative gradient (0 for gradient descent), for Adam with "
                       f"{_values_text(v, names)}."))


# --- 7. Anatomy of one Adam step --------------------------------------------------------------

STEP_STEPS = 30
STEP_LR = 1e-3
STEP_EPS = 1e-8
STEP_SEQUENCES = (("constant", "constant"), ("noisy, mean 1", "noisy"),
                  ("alternating sign", "alternating"), ("one large gradient", "spike"))


def step_sequence(kind: str, steps: int = STEP_STEPS, seed: int = 0) -> np.ndarray:
    """The gradient sequences of the one-step figure, for one coordinate.

    ``"constant"``: g = 1; ``"noisy"``: 1 + 0.5·ξ with standard normal ξ; ``"alternating"``:
    +1, −1, +1, ...; ``"spike"``: 0.1 everywhere except g = 3 at step 10.
    """
    t = np.arange(1, steps + 1)
    if kind == "constant":
        return np.ones(steps)
    if kind == "noisy":
        return 1.0 + 0.5 * np.random.default_rng(seed).standard_normal(steps)
    if kind == "alternating":
        return np.where(t % 2 == 1, 1.0, -1.0)
    if kind == "spike":
        return np.where(t == 10, 3.0, 0.1)
    raise ValueError(f"Invalid sequence: {kind!r} (choose from {[v for _, v in STEP_SEQUENCES]})")


@functools.lru_cache(maxsize=128)
def _adam_step_run(sequence, beta1, beta2, steps):
    g = step_sequence(sequence, steps)
    trace = run(Adam, _GradientSequence(g), steps, record=("grad", "update", "m_hat", "v_hat"),
                lr=STEP_LR, betas=(beta1, beta2), eps=STEP_EPS)
    t = np.arange(1, steps + 1)
    arrays = {
        "t": t,
        "g": trace.grad[:, 0],
        # m_t and v_t before the correction: m̂ and v̂ times 1 − β^t, the correction undone
        "m": trace.m_hat[:, 0] * -np.expm1(t * np.log(beta1)) if beta1 > 0 else trace.m_hat[:, 0],
        "v": trace.v_hat[:, 0] * -np.expm1(t * np.log(beta2)),
        "m_hat": trace.m_hat[:, 0],
        "v_hat": trace.v_hat[:, 0],
        "step": trace.update[:, 0] / STEP_LR,
    }
    for a in arrays.values():
        a.setflags(write=False)
    return arrays


def _padded(lo: float, hi: float, pad: float = 0.12) -> tuple:
    span = hi - lo
    return (lo - pad * span, hi + pad * span)


@functools.lru_cache(maxsize=16)
def _adam_step_limits(sequence: str, steps: int) -> dict:
    """Panel ranges for a sequence that hold every reachable β1 and β2 (the axes never jump).

    m_t, m̂_t lie between 0 and the gradients' extremes, v_t, v̂_t between 0 and the largest g²;
    the step's range comes from runs over the β grid the sliders offer.
    """
    g = step_sequence(sequence, steps)
    largest = 1.0
    for beta1 in _beta1().reachable_values()[::3] + [0.99]:
        for beta2 in BETA2_OPTIONS:
            data = _adam_step_run(sequence, float(beta1), float(beta2), steps)
            largest = max(largest, float(np.max(np.abs(data["step"]))))
    return {"m": _padded(min(0.0, g.min()), max(0.0, g.max())),
            "v": _padded(0.0, float(np.max(g**2)), 0.08),
            "step": _padded(-largest, largest, 0.1)}


def adam_step_data(sequence="noisy", t=10, beta1=0.9, beta2=0.999,
                   steps=STEP_STEPS) -> AdamStepData:
    """Adam's g_t, m_t, v_t, m̂_t, v̂_t and Δ_t/α for one coordinate, from ``adamedu.Adam``.

    Adam runs with α = 10⁻³ and ε = 10⁻⁸ on :func:`step_sequence`; m_t and v_t are its bias-
    corrected moments times 1 − β1^t and 1 − β2^t.
    """
    if not 1 <= t <= steps:
        raise ValueError(f"Invalid t: {t} (must be in [1, {steps}])")
    arrays = _adam_step_run(sequence, float(beta1), float(beta2), int(steps))
    return AdamStepData(**arrays, cursor=int(t), beta1=float(beta1), beta2=float(beta2),
                        eps=STEP_EPS, sequence=sequence,
                        limits=_adam_step_limits(sequence, int(steps)))


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def adam_step_readout(data: AdamStepData) -> str:
    """The arithmetic of step t with the figure's numbers, one line per line of the algorithm."""
    t = int(data.cursor)
    i = t - 1
    n = lambda x: format_number(x, 3)  # noqa: E731 - a local shorthand
    s, p = str(t).translate(_SUB), str(t - 1).translate(_SUB)
    power = str(t).translate(_SUP)
    b1, b2 = n(data.beta1), n(data.beta2)
    m_prev = data.m[i - 1] if t > 1 else 0.0
    v_prev = data.v[i - 1] if t > 1 else 0.0
    return "\n".join([
        f"step t = {t}: gradient g{s} = {n(data.g[i])}",
        f"m{s} = β₁·m{p} + (1 − β₁)·g{s} = {b1} × {n(m_prev)} + {n(1 - data.beta1)} × "
        f"{n(data.g[i])} = {n(data.m[i])}",
        f"m̂{s} = m{s} / (1 − β₁{power}) = {n(data.m_hat[i])}",
        f"v{s} = β₂·v{p} + (1 − β₂)·g{s}² = {b2} × {n(v_prev)} + {n(1 - data.beta2)} × "
        f"{n(data.g[i] ** 2)} = {n(data.v[i])}",
        f"v̂{s} = v{s} / (1 − β₂{power}) = {n(data.v_hat[i])}",
        f"Δ{s} = −α·m̂{s} / (√v̂{s} + ε) = {n(data.step[i])} α",
    ])


def adam_step_figure() -> InteractiveFigure:
    """A step t and a gradient sequence against g_t, m_t, v_t, m̂_t, v̂_t and Δ_t of one coordinate."""
    controls = [
        Control("t", "step t", "int", 10, low=1, high=STEP_STEPS, step=1,
                static=tuple(range(1, STEP_STEPS + 1))),
        Control("sequence", "gradients", "choice", "noisy", options=STEP_SEQUENCES,
                static=tuple(v for _, v in STEP_SEQUENCES), redraws_background=True),
        _beta1(static=(0.0, 0.9)),
        _beta2(static=()),
    ]
    labels = {v: k for k, v in STEP_SEQUENCES}
    return InteractiveFigure(
        "adam-step", "Anatomy of one Adam step", controls, adam_step_data, plots.draw_adam_step,
        plots.update_adam_step, readout=adam_step_readout,
        alt=lambda v: (f"Three panels over {STEP_STEPS} steps of Adam on one coordinate with "
                       f"{labels[v['sequence']]} gradients, β1 = {format_number(v['beta1'])} and "
                       f"β2 = {format_number(v['beta2'])}: the gradients g_t with m_t and m̂_t, "
                       "the squared gradients with v_t and v̂_t, and the step Δ_t/α; a vertical "
                       f"line and dots mark step t = {v['t']}."))


# --- 8. Reddi et al.'s counterexample -----------------------------------------------------------

COUNTER_STEPS = 3000
COUNTER_LR = 0.1
COUNTER_STARTS = (-1.0, 0.0)
COUNTER_C = (2.5, 3.0, 4.0, 6.0, 10.0)
COUNTER_BETA2 = (0.01, 0.03, 0.1, 0.3, 0.5, 0.9, 0.99, 0.999)
#: The step-size panel shows the first steps, where the pattern of every period is visible.
COUNTER_ETA_STEPS = 30


@functools.lru_cache(maxsize=128)
def _counterexample_run(C, beta2, amsgrad, steps):
    return run_online(Adam, ReddiProblem(C), steps, x0=list(COUNTER_STARTS), lr=COUNTER_LR,
                      betas=(0.0, beta2), amsgrad=amsgrad)


def counterexample_data(C=3.0, beta2=0.1, amsgrad=False,
                        steps=COUNTER_STEPS) -> CounterexampleData:
    """Adam (or AMSGrad) with β1 = 0 and γ_t = 0.1/√t on Reddi et al.'s problem, two starts.

    From :func:`adamedu.online.run_online`, for the starts x_1 = −1 (the optimum) and x_1 = 0:
    the decision at the start of every period of three steps (t = 1, 4, 7, ...), the average
    regret R_t/t after every whole period (t = 3, 6, 9, ...), and the effective step size
    η_t = γ_t/(√v̂_t + ε) of the first :data:`COUNTER_ETA_STEPS` steps (the same from both
    starts: the gradients do not depend on x).
    """
    trace = _counterexample_run(float(C), float(beta2), bool(amsgrad), int(steps))
    starts = list(COUNTER_STARTS)
    t = np.arange(1, steps + 1)
    period_start, period_end = t[t % 3 == 1], t[t % 3 == 0]
    return CounterexampleData(
        t_decision=period_start,
        x={x0: trace.x[period_start - 1, j] for j, x0 in enumerate(starts)},
        t_regret=period_end,
        average_regret={x0: trace.average_regret[period_end - 1, j]
                        for j, x0 in enumerate(starts)},
        t_step=t[:COUNTER_ETA_STEPS],
        step_size=trace.step_size[:COUNTER_ETA_STEPS, 0],
        final_x={x0: float(trace.x[-1, j]) for j, x0 in enumerate(starts)},
        method="AMSGrad" if amsgrad else "Adam", C=float(C), beta2=float(beta2),
        limit=2.0 * (float(C) - 2.0) / 3.0, steps=int(steps))


def counterexample_figure() -> InteractiveFigure:
    """β2, C and AMSGrad on or off against the decisions, the average regret and the step sizes."""
    controls = [
        Control("beta2", "β₂", "options", 0.1, options=COUNTER_BETA2,
                static=(0.01, 0.1, 0.3, 0.9, 0.999)),
        Control("C", "large gradient C", "options", 3.0, options=COUNTER_C,
                static=(2.5, 3.0, 6.0, 10.0)),
        Control("amsgrad", "AMSGrad (keep the largest v)", "toggle", False, static=(False, True),
                redraws_background=True),
    ]
    return InteractiveFigure(
        "counterexample", "Reddi et al.'s counterexample: Adam drifts to the worst decision",
        controls, counterexample_data, plots.draw_counterexample, plots.update_counterexample,
        readout=lambda d: (f"C = {format_number(d.C)}: the counterexample's β₂ = 1/(1 + C²) = "
                           f"{format_number(1 / (1 + d.C**2), 3)}; here β₂ = "
                           f"{format_number(d.beta2)}. After {d.steps} steps {d.method} is at "
                           f"x = {format_number(d.final_x[COUNTER_STARTS[0]], 3)} from the "
                           f"optimum −1 and at x = {format_number(d.final_x[COUNTER_STARTS[1]], 3)} "
                           "from 0."),
        alt=lambda v: ("Three panels over 3000 steps of the online problem of Reddi et al. with "
                       f"C = {format_number(v['C'])}, β1 = 0 and β2 = {format_number(v['beta2'])}, "
                       f"for {'AMSGrad' if v['amsgrad'] else 'Adam'} from the starts −1 and 0: "
                       "the decision x_t on a log step axis with the optimum −1 marked, the "
                       "average regret R_t/t with the limit 2(C − 2)/3 of staying at +1, and the "
                       f"effective step size η_t over the first {COUNTER_ETA_STEPS} steps."))


#: name -> factory, in the order of the book.
FACTORIES = {
    "momentum": momentum_figure,
    "snr_annealing": snr_annealing_figure,
    "step_bounds": step_bounds_figure,
    "bias_correction": bias_correction_figure,
    "rescaling": rescaling_figure,
    "race": race_figure,
    "direction": direction_figure,
    "adam_step": adam_step_figure,
    "counterexample": counterexample_figure,
}
