"""The book's interactive figures: one factory per figure, callable with no arguments.

Each factory returns an :class:`adamedu.interactive_figure.InteractiveFigure`. In JupyterLab or
Notebook 7 it displays as live ipywidgets controls above the figure; on the static site (and in any
headless run) as the default figure with HTML sliders that switch among precomputed frames. The
numbers come from :mod:`adamedu` (``trace.run`` with the optimizers and problems, ``theory``,
``analysis``); the drawing from :mod:`adamedu.plots`. This module only moves one into the other.

Every factory also exposes its pieces for tests and other uses: ``<name>_data(**values)`` computes
what the figure shows.
"""

from __future__ import annotations

import functools

import numpy as np

from adamedu import plots, theory
from adamedu.analysis import angle_to_steepest_descent
from adamedu.interactive_figure import Control, InteractiveFigure
from adamedu.momentum_figure import momentum_figure
from adamedu.optim import SGD, Adam, RMSprop
from adamedu.problems import Beale, IllConditionedQuadratic, NoisyQuadratic, Rescaled, Rosenbrock, Saddle
from adamedu.trace import run

__all__ = [
    "snr_annealing_figure",
    "step_bounds_figure",
    "bias_correction_figure",
    "rescaling_figure",
    "race_figure",
    "direction_figure",
    "snr_annealing_data",
    "step_bounds_data",
    "bias_correction_data",
    "rescaling_data",
    "race_data",
    "direction_data",
    "FACTORIES",
]

# β2 values offered by every figure: a slider over these cannot reach 1.
BETA2_OPTIONS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999)


def _beta1(static=(0.0, 0.5, 0.9, 0.99), default=0.9) -> Control:
    return Control("beta1", "β₁", "float", default, low=0.0, high=0.99, step=0.01, static=static)


def _beta2(static=(0.9, 0.99, 0.999), default=0.999) -> Control:
    return Control("beta2", "β₂", "options", default, options=BETA2_OPTIONS, static=static)


class _GradientSequence:
    """A 'problem' whose optimizer sees a fixed sequence of gradients, whatever the parameters.

    It lets :func:`adamedu.trace.run` feed Adam the sequences of the step-size and bias-correction
    figures. Each instance serves one run.
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
    return ", ".join(f"{names[k]} = {v:g}" if isinstance(v, float) else f"{names[k]} = {v}"
                     for k, v in values.items())


# --- 1. SNR-based annealing -----------------------------------------------------------------------

SNR_STEPS = 300
SNR_PROBLEM = {"curvature": 10.0, "dim": 20}  # the chapter's a = 10, fewer coordinates and steps


def snr_annealing_data(noise=1.0, beta1=0.9, beta2=0.999, lr=1e-2, steps=SNR_STEPS, seed=0):
    """Adam on the noisy quadratic (a = 10, 20 coordinates from x = 1), gradient noise σ = ``noise``.

    Every curve is a mean over the coordinates: |x|, |m̂/√v̂| and |Δ_t|.
    """
    problem = NoisyQuadratic(noise=noise, **SNR_PROBLEM)
    trace = run(Adam, problem, steps, seed=seed, record=("params", "update", "snr"), lr=lr,
                betas=(beta1, beta2))
    return {
        "t": np.arange(1, steps + 1),
        "distance": np.abs(trace.params - problem.minimizer).mean(axis=1),
        "snr": np.abs(trace.snr).mean(axis=1),
        "step": np.abs(trace.update).mean(axis=1),
        "lr": lr,
        "window": 20,
    }


def snr_annealing_figure() -> InteractiveFigure:
    """Noise level, β1, β2 and lr against distance to the optimum, |m̂/√v̂| and |Δ_t|."""
    controls = [
        Control("noise", "gradient noise σ", "options", 1.0,
                options=(0.0, 0.1, 0.3, 1.0, 3.0, 10.0), static=(0.0, 0.3, 1.0, 3.0, 10.0)),
        Control("lr", "learning rate α", "log", 1e-2, low=-4.0, high=-0.5, step=0.25,
                static=(1e-3, 10**-2.5, 1e-2, 10**-1.5, 1e-1), fmt="{:.2g}"),
        _beta1(static=()),
        _beta2(static=()),
    ]
    names = {"noise": "σ", "lr": "α", "beta1": "β1", "beta2": "β2"}
    return InteractiveFigure(
        "snr-annealing", "Adam on a noisy quadratic: the step anneals as the signal fades", controls,
        snr_annealing_data, plots.draw_snr_annealing, plots.update_snr_annealing,
        alt=lambda v: ("Three panels against iteration for Adam on the noisy quadratic with "
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


def step_bounds_data(beta1=0.9, beta2=0.999, sequence="sparse", steps=BOUND_STEPS, lr=1e-3):
    """|Δ_t|/α of Adam on a gradient sequence, the paper's stated bound and the exact supremum.

    Adam runs with ε = 1e-300, far below every √v̂ the sequences produce, so that its steps are
    the ε = 0 steps of the theory, except that a step after nothing but zero gradients is 0
    rather than 0/0.
    """
    g = gradient_sequence(sequence, beta1, beta2, steps)
    trace = run(Adam, _GradientSequence(g), steps, record=("update",), lr=lr, betas=(beta1, beta2),
                eps=1e-300)
    t = np.arange(1, steps + 1)
    return {
        "t": t,
        "gradients": g,
        "ratio": np.abs(trace.update[:, 0]) / lr,
        "supremum": np.array([theory.worst_case_step_ratio(beta1, beta2, int(k)) for k in t]),
        "paper": theory.paper_step_bound(beta1, beta2),
    }


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
                         seed=0, lr=1e-3):
    """Adam with and without bias correction on the noisy constant gradient g_t = mean + noise·ξ_t.

    The runs depend on the β's only, so moving t reuses them (cached).
    """
    if not 1 <= t <= steps:
        raise ValueError(f"Invalid t: {t} (must be in [1, {steps}])")
    data = dict(_bias_correction_runs(float(beta1), float(beta2), int(steps), float(mean),
                                      float(noise), int(seed), float(lr)))
    data.update(mean=mean, second_moment=mean**2 + noise**2, cursor=int(t))
    return data


def bias_correction_figure() -> InteractiveFigure:
    """β1, β2 and a step t against raw and corrected moments and the first updates' sizes."""
    controls = [
        _beta1(),
        _beta2(),
        Control("t", "step t", "int", 10, low=1, high=BIAS_STEPS, step=1,
                static=(1, 2, 5, 10, 30, 100, 500), fmt="{:d}"),
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


def rescaling_data(scale_x=10.0, scale_y=0.1, eps=1e-8, steps=RESCALE_STEPS):
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
    return {"loss": problem.loss, "xlim": (-4.6, 1.4), "ylim": (-1.6, 1.6), "start": problem.x0,
            "paths": paths}


def rescaling_figure() -> InteractiveFigure:
    """Per-coordinate gradient scale factors and ε against Adam's and SGD's paths, overlaid."""
    scale_static = (0.01, 0.1, 1.0, 10.0, 100.0)
    controls = [
        Control("scale_x", "scale of ∂f/∂x", "log", 10.0, low=-2.0, high=2.0, step=0.25,
                static=scale_static, fmt="{:.3g}"),
        Control("scale_y", "scale of ∂f/∂y", "log", 0.1, low=-2.0, high=2.0, step=0.25,
                static=scale_static, fmt="{:.3g}"),
        Control("eps", "ε", "log", 1e-8, low=-12.0, high=0.0, step=1.0, static=(1e-8, 1e-3, 1e-1),
                fmt="{:.0e}"),
    ]
    names = {"scale_x": "scale of ∂f/∂x", "scale_y": "scale of ∂f/∂y", "eps": "ε"}
    return InteractiveFigure(
        "rescaling", "Rescaled gradients: Adam's path stays, SGD's changes", controls,
        rescaling_data, plots.draw_rescaling, plots.update_rescaling,
        alt=lambda v: ("Two contour plots of the ravine f = ½(x² + 50y²). Left: Adam's path with "
                       "the gradients as they are (solid) and rescaled (dashed); right: the same "
                       f"for SGD; {_values_text(v, names)}."))


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


@functools.lru_cache(maxsize=256)
def _race_path(problem, optimizer, lr, steps):
    """One racer's path (cached: moving one learning rate leaves the other racers' paths)."""
    cls, fixed = RACE_OPTIMIZERS[optimizer]
    with np.errstate(over="ignore", invalid="ignore"):  # a too-large rate diverges: the run stops
        params = run(cls, RACE_PROBLEMS[problem][0](), steps, record=("params",),
                     on_nonfinite="stop", lr=lr, **fixed).params
    params.setflags(write=False)
    return params


def race_data(problem="quadratic", sgd_scale=1.0, adaptive_scale=1.0, steps=RACE_STEPS):
    """SGD, SGD with momentum 0.9, RMSprop and Adam on one 2-D test function, same start.

    Each optimizer's learning rate is its tuned rate for that function (``RACE_PROBLEMS``) times
    ``sgd_scale`` (SGD and momentum) or ``adaptive_scale`` (RMSprop and Adam).
    """
    make, xlim, ylim, base = RACE_PROBLEMS[problem]
    fn = make()
    lr = {"SGD": base["SGD"] * sgd_scale, "Momentum": base["Momentum"] * sgd_scale,
          "RMSprop": base["RMSprop"] * adaptive_scale, "Adam": base["Adam"] * adaptive_scale}
    paths = {name: _race_path(problem, name, float(lr[name]), int(steps)) for name in RACE_OPTIMIZERS}
    title = f"{fn.name}, {steps} steps"
    return {"problem_key": problem, "loss": fn.loss, "xlim": xlim, "ylim": ylim, "start": fn.x0,
            "minimizer": fn.minimizer, "paths": paths, "lr": lr, "title": title}


def race_figure() -> InteractiveFigure:
    """A 2-D test function and learning-rate scales against each optimizer's path on the contours."""
    scale_static = (0.1, 10**-0.5, 1.0, 10**0.5, 10.0)
    controls = [
        Control("problem", "test function", "choice", "quadratic", options=RACE_CHOICES,
                static=tuple(v for _, v in RACE_CHOICES), redraws_background=True),
        Control("sgd_scale", "SGD and momentum lr ×", "log", 1.0, low=-1.0, high=1.0, step=0.25,
                static=scale_static, fmt="{:.2g}"),
        Control("adaptive_scale", "RMSprop and Adam lr ×", "log", 1.0, low=-1.0, high=1.0,
                step=0.25, static=scale_static, fmt="{:.2g}"),
    ]
    return InteractiveFigure(
        "race", "Optimizer race on 2-D test functions", controls, race_data, plots.draw_race,
        plots.update_race,
        alt=lambda v: (f"Contour plot of the {dict((b, a) for a, b in RACE_CHOICES)[v['problem']]} "
                       "function with the paths of SGD, SGD with momentum, RMSprop and Adam from "
                       f"the same start, learning rates × {v['sgd_scale']:g} (SGD, momentum) and "
                       f"× {v['adaptive_scale']:g} (RMSprop, Adam) of their tuned values."))


# --- 6. Direction against steepest descent ----------------------------------------------------

DIRECTION_STEPS = 60
DIRECTION_LR = {"GD": 0.03, "Adam": 0.1}


def direction_data(beta1=0.9, beta2=0.999, steps=DIRECTION_STEPS):
    """Paths of gradient descent and Adam along the ravine, and each step's angle to −∇f."""
    problem = IllConditionedQuadratic(condition_number=50.0)
    record = ("params", "grad", "update")
    gd = run(SGD, problem, steps, record=record, lr=DIRECTION_LR["GD"])
    adam = run(Adam, problem, steps, record=record, lr=DIRECTION_LR["Adam"], betas=(beta1, beta2))
    return {
        "loss": problem.loss, "xlim": (-4.6, 1.4), "ylim": (-1.6, 1.6), "start": problem.x0,
        "paths": {"GD": gd.params, "Adam": adam.params},
        "angles": {"GD": angle_to_steepest_descent(gd.update, gd.grad),
                   "Adam": angle_to_steepest_descent(adam.update, adam.grad)},
    }


def direction_figure() -> InteractiveFigure:
    """β1 and β2 against the angle between Adam's step and the steepest-descent direction."""
    controls = [_beta1(), _beta2(static=(0.5, 0.9, 0.99, 0.999, 0.9999))]
    names = {"beta1": "β1", "beta2": "β2"}
    return InteractiveFigure(
        "direction", "Adam's step against steepest descent along a ravine", controls,
        direction_data, plots.draw_direction, plots.update_direction,
        alt=lambda v: ("Left: paths of gradient descent and Adam on the ravine f = ½(x² + 50y²); "
                       "right: the angle in degrees between each step and the negative gradient "
                       f"(0 for gradient descent), for Adam with {_values_text(v, names)}."))


#: name -> factory, in the order of the book.
FACTORIES = {
    "momentum": momentum_figure,
    "snr_annealing": snr_annealing_figure,
    "step_bounds": step_bounds_figure,
    "bias_correction": bias_correction_figure,
    "rescaling": rescaling_figure,
    "race": race_figure,
    "direction": direction_figure,
}
