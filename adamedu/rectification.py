r"""RAdam's variance rectification (Liu et al., 2020), derived.

Adam divides by :math:`\sqrt{\hat{v}_t}`, an average of few squared gradients in its first steps, so
the *adaptive learning rate* :math:`\psi_t = 1/\sqrt{\hat{v}_t}` is very noisy early on. RAdam
measures how many gradients :math:`\hat{v}_t` effectively averages and scales the step by
:math:`r_t`, so that its variance matches the long-run one.

- :func:`derive_sma_length`: the exponential average of t squared gradients has the same mean
  age as a simple average of :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)` of them,
  :math:`\rho_\infty = 2/(1-\beta_2) - 1`.
- :func:`derive_rectification`: with :math:`\hat{v} \approx \sigma^2\chi^2_\rho/\rho`, the
  variance of :math:`\psi` to first order is :math:`\rho/(2\sigma^2(\rho-2)(\rho-4))` (finite only for
  :math:`\rho > 4`), and :math:`r_t = \sqrt{\operatorname{Var}\psi_\infty/\operatorname{Var}\psi_t}` is
  PyTorch's formula.

Numbers: :func:`sma_length`, :func:`rectification` (0 where RAdam takes un-adapted steps),
:func:`adaptive_lr_spread` (the measured spread of ψ_t over many independent noise sequences,
from :class:`adamedu.optim.Adam`'s own state). Every derivation raises
:class:`adamedu.claims.ClaimError` if an identity it states does not hold.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from adamedu.claims import generic_branch, is_zero, require

__all__ = [
    "SmaLength",
    "Rectification",
    "derive_sma_length",
    "derive_rectification",
    "sma_length",
    "sma_length_limit",
    "rectification",
    "first_rectified_step",
    "exact_psi_variance",
    "approximate_psi_variance",
    "adaptive_lr_spread",
    "linear_warmup",
]

#: PyTorch's RAdam switches to adaptive steps once ρ_t > 5 (the paper: ρ_t > 4).
TORCH_THRESHOLD = 5.0




@dataclass(frozen=True)
class SmaLength:
    """How many gradients Adam's v̂_t effectively averages."""

    ema_mean_age: sp.Expr
    """Σ_{j<t} (1 − β2)β2^j j / (1 − β2^t): the mean age of the squared gradients in v̂_t."""
    rho_t: sp.Expr
    """2·(mean age) + 1: the length of the simple average with the same mean age."""
    rho_inf: sp.Expr
    """2/(1 − β2) − 1."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_sma_length() -> SmaLength:
    """Match the mean age of v̂_t's weights with that of a simple moving average of length ρ."""
    beta = sp.Symbol("beta_2", positive=True)
    t = sp.Symbol("t", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, nonnegative=True)
    weights = (1 - beta) * generic_branch(sp.Sum(beta**j, (j, 0, t - 1)).doit())
    require(is_zero(weights - (1 - beta**t)), "the weights sum to 1 - beta2^t")
    age = sp.simplify((1 - beta) * generic_branch(sp.Sum(beta**j * j, (j, 0, t - 1)).doit()) / (1 - beta**t))
    age_expected = beta / (1 - beta) - t * beta**t / (1 - beta**t)
    require(is_zero(age - age_expected), "mean age beta2/(1 - beta2) - t beta2^t/(1 - beta2^t)")
    # A simple average of the last rho values has ages 0..rho-1, mean (rho - 1)/2.
    rho = sp.Symbol("rho", positive=True)
    (rho_t,) = sp.solve(sp.Eq((rho - 1) / 2, age_expected), rho)
    rho_inf = 2 / (1 - beta) - 1
    require(is_zero(rho_t - (rho_inf - 2 * t * beta**t / (1 - beta**t))), "rho_t = rho_inf - 2 t b^t/(1 - b^t)")
    require(is_zero(rho_t.subs(t, 1) - 1), "one gradient at t = 1")
    rho_t = rho_inf - 2 * t * beta**t / (1 - beta**t)  # the form PyTorch and the paper write
    return SmaLength(ema_mean_age=age_expected, rho_t=rho_t, rho_inf=rho_inf, symbols=dict(beta2=beta, t=t))


@dataclass(frozen=True)
class Rectification:
    """The variance of ψ = 1/√v̂ when v̂ averages ρ squared N(0, σ²) gradients."""

    moment: sp.Expr
    """E[X^s] = 2^s Γ(ρ/2 + s)/Γ(ρ/2) for X ~ χ²_ρ (s > −ρ/2)."""
    mean_psi_squared: sp.Expr
    """E[ψ²] = ρ/((ρ − 2)σ²)."""
    variance_psi_squared: sp.Expr
    """Var[ψ²] = 2ρ²/((ρ − 2)²(ρ − 4)σ⁴)."""
    approximate_variance: sp.Expr
    """Var[ψ] ≈ Var[ψ²]/(4E[ψ²]) = ρ/(2(ρ − 2)(ρ − 4)σ²) (first order in ψ² around its mean)."""
    exact_variance: sp.Expr
    """ρ/((ρ − 2)σ²) − (ρ/σ²)(Γ((ρ − 1)/2)/(√2 Γ(ρ/2)))²."""
    rectification: sp.Expr
    """r = √(Var_∞/Var_ρ) = √((ρ − 4)(ρ − 2)ρ∞/((ρ∞ − 4)(ρ∞ − 2)ρ))."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_rectification() -> Rectification:
    """Moments of a scaled inverse chi-square by integration, the delta method, and r_t."""
    rho, rho_inf, sigma = sp.symbols("rho rho_infty sigma", positive=True)
    x, s = sp.symbols("x s", positive=True)
    # The chi-square density with rho degrees of freedom, integrated against x^s for general s.
    density = x ** (rho / 2 - 1) * sp.exp(-x / 2) / (2 ** (rho / 2) * sp.gamma(rho / 2))
    a = sp.Symbol("a", positive=True)  # a = rho/2 + s > 0
    integral = sp.integrate(x ** (a - 1) * sp.exp(-x / 2), (x, 0, sp.oo))
    require(is_zero(integral - 2**a * sp.gamma(a)), "the Gamma integral")
    moment = sp.gammasimp(2 ** (rho / 2 + s) * sp.gamma(rho / 2 + s) / (2 ** (rho / 2) * sp.gamma(rho / 2)))
    require(is_zero(sp.gammasimp(moment.subs(s, 1)) - rho), "E[X] = rho")

    def E_X(power):
        return sp.gammasimp(moment.subs(s, power))

    # v̂ = σ²X/ρ, ψ² = 1/v̂ = ρ/(σ²X).
    mean_sq = sp.simplify(rho / sigma**2 * E_X(-1))
    require(is_zero(mean_sq - rho / ((rho - 2) * sigma**2)), "E[psi^2] = rho/((rho - 2) sigma^2)")
    var_sq = sp.simplify((rho / sigma**2) ** 2 * E_X(-2) - mean_sq**2)
    require(is_zero(var_sq - 2 * rho**2 / ((rho - 2) ** 2 * (rho - 4) * sigma**4)), "Var[psi^2]")
    # Delta method for ψ = √(ψ²): Var[ψ] ≈ (d√u/du)² Var[ψ²] at u = E[ψ²], i.e. Var[ψ²]/(4E[ψ²]).
    u = sp.Symbol("u", positive=True)
    approx = sp.simplify(sp.diff(sp.sqrt(u), u).subs(u, mean_sq) ** 2 * var_sq)
    require(is_zero(approx - rho / (2 * (rho - 2) * (rho - 4) * sigma**2)), "Var[psi] ~ rho/(2(rho-2)(rho-4) sigma^2)")
    mean_psi = sp.sqrt(rho) / sigma * E_X(-sp.Rational(1, 2))
    exact = mean_sq - mean_psi**2
    r = sp.sqrt(approx.subs(rho, rho_inf) / approx)
    torch_r = sp.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    require(is_zero(r**2 - torch_r**2), "r_t is PyTorch's rectification term")
    require(is_zero(sp.limit(approx * rho, rho, sp.oo) - 1 / (2 * sigma**2)), "Var[psi] ~ 1/(2 rho sigma^2)")
    return Rectification(moment=moment, mean_psi_squared=mean_sq, variance_psi_squared=var_sq,
                         approximate_variance=approx, exact_variance=exact, rectification=torch_r,
                         symbols=dict(rho=rho, rho_inf=rho_inf, sigma=sigma, s=s))


# --- Numbers ----------------------------------------------------------------------------------------


def _check_beta2(beta2):
    if not 0.0 < beta2 < 1.0:
        raise ValueError(f"Invalid beta2: {beta2} (must be in (0, 1))")


def sma_length_limit(beta2: float) -> float:
    """ρ∞ = 2/(1 − β2) − 1."""
    _check_beta2(beta2)
    return 2.0 / (1.0 - beta2) - 1.0


def sma_length(t, beta2: float) -> np.ndarray:
    """ρ_t = ρ∞ − 2tβ2^t/(1 − β2^t) for steps t ≥ 1 (vectorised)."""
    _check_beta2(beta2)
    t = np.asarray(t, dtype=float)
    if np.any(t < 1):
        raise ValueError("Invalid t: steps start at 1")
    power = np.power(beta2, t)
    return sma_length_limit(beta2) - 2.0 * t * power / -np.expm1(t * math.log(beta2))


def rectification(t, beta2: float, threshold: float = TORCH_THRESHOLD) -> np.ndarray:
    """RAdam's r_t where ρ_t > ``threshold`` and 0 where it takes un-adapted momentum steps."""
    rho = sma_length(t, beta2)
    rho_inf = sma_length_limit(beta2)
    if rho_inf <= threshold:  # ρ_t < ρ∞: never adaptive
        return np.zeros_like(rho)
    ok = rho > threshold
    safe = np.where(ok, rho, threshold + 1.0)
    r = np.sqrt((safe - 4) * (safe - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * safe))
    return np.where(ok, r, 0.0)


def first_rectified_step(beta2: float, threshold: float = TORCH_THRESHOLD) -> int:
    """The first step t with ρ_t > ``threshold`` (RAdam's first adaptive step)."""
    if sma_length_limit(beta2) <= threshold:
        raise ValueError(f"Invalid beta2: {beta2} (rho_inf <= {threshold}: RAdam never adapts)")
    t = 1
    while sma_length(t, beta2) <= threshold:
        t += 1
    return t


def approximate_psi_variance(rho, sigma: float = 1.0) -> np.ndarray:
    """ρ/(2(ρ − 2)(ρ − 4)σ²), for ρ > 4."""
    rho = np.asarray(rho, dtype=float)
    return rho / (2 * (rho - 2) * (rho - 4) * sigma**2)


def exact_psi_variance(rho, sigma: float = 1.0) -> np.ndarray:
    """Var[√(ρ/(σ²X))] for X ~ χ²_ρ, ρ > 2 (log-gamma form, stable for large ρ)."""
    rho = np.atleast_1d(np.asarray(rho, dtype=float))
    log_ratio = np.array([math.lgamma((r - 1) / 2) - math.lgamma(r / 2) for r in rho])
    mean_psi_sq = (rho / 2) * np.exp(2 * log_ratio)  # (√ρ Γ((ρ−1)/2)/(√2 Γ(ρ/2)))²
    out = (rho / (rho - 2) - mean_psi_sq) / sigma**2
    return out if out.size > 1 else out[0]


def adaptive_lr_spread(beta2: float, steps: int, replicas: int = 20000, seed: int = 0,
                       noise: float = 1.0) -> np.ndarray:
    r"""Standard deviation over independent runs of :math:`\psi_t = 1/\sqrt{\hat{v}_t}`, t = 1..steps.

    One :class:`adamedu.optim.Adam` updates ``replicas`` coordinates at once; each coordinate sees
    its own N(0, ``noise``²) gradients, so the coordinates are independent runs. v̂_t is read from
    the optimizer's state (``exp_avg_sq``) and bias-corrected.
    """
    from adamedu.optim import Adam

    _check_beta2(beta2)
    rng = np.random.default_rng(seed)
    theta = np.zeros(int(replicas))
    opt = Adam([theta], lr=1e-12, betas=(0.9, beta2))  # a tiny lr: only v̂ matters here
    out = np.empty(int(steps))
    for t in range(1, int(steps) + 1):
        opt.step([noise * rng.standard_normal(theta.size)])
        v_hat = opt.state[0]["exp_avg_sq"] / -math.expm1(t * math.log(beta2))
        out[t - 1] = np.std(1.0 / np.sqrt(v_hat))
    return out


def linear_warmup(t, warmup_steps: float) -> np.ndarray:
    """min(1, t/warmup_steps): the factor of a linear learning-rate warmup."""
    if not warmup_steps > 0:
        raise ValueError(f"Invalid warmup_steps: {warmup_steps} (must be > 0)")
    return np.minimum(1.0, np.asarray(t, dtype=float) / warmup_steps)
