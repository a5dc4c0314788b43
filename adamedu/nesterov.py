r"""Nesterov momentum: its two written forms, its rate on a quadratic, and Nesterov inside Adam.

- :func:`derive_lookahead_equivalence`: Sutskever et al.'s form (the gradient taken at the
  look-ahead point :math:`\theta + \mu v`) and PyTorch's ``SGD(nesterov=True)`` are the same
  algorithm; PyTorch's parameters *are* the look-ahead points.
- :func:`derive_nesterov_quadratic`: on one eigenmode of a quadratic, the characteristic polynomial
  :math:`\sigma^2 - (1+\mu)(1-\alpha\lambda)\sigma + \mu(1-\alpha\lambda)`, and the rate
  :math:`1 - 1/\sqrt\kappa` with :math:`\alpha = 1/\lambda_n`, :math:`\mu = (\sqrt\kappa-1)/(\sqrt\kappa+1)`.
- :func:`derive_nadam_direction`: PyTorch's ``NAdam`` with a constant momentum schedule steps along
  Adam's bias-corrected momentum *one step ahead*, up to the bias correction of the current
  gradient's share.

Every derivation raises :class:`adamedu.claims.ClaimError` if an identity it states does not hold.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from adamedu.claims import is_zero, require
from adamedu.problems import Problem

__all__ = [
    "Lookahead",
    "NesterovQuadratic",
    "NadamDirection",
    "derive_lookahead_equivalence",
    "derive_nesterov_quadratic",
    "derive_nadam_direction",
    "nesterov_mode_rate",
    "nadam_momentum_schedule",
    "nadam_half_way_step",
    "HeavyBallCounterexample",
]



@dataclass(frozen=True)
class Lookahead:
    """The change of variables that turns Sutskever's Nesterov step into PyTorch's."""

    sutskever_velocity: sp.Expr
    """v_t = μ v_{t−1} − α ∇f(θ_{t−1} + μ v_{t−1})."""
    pytorch_buffer: sp.Expr
    """b_t = μ b_{t−1} + ∇f(φ_{t−1})."""
    pytorch_params: sp.Expr
    """φ_t = φ_{t−1} − α (∇f(φ_{t−1}) + μ b_t)."""
    substitution: dict
    """φ = θ + μ v (the look-ahead point) and b = −v/α."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_lookahead_equivalence() -> Lookahead:
    """Check that φ_t = θ_t + μ v_t and b_t = −v_t/α map one recursion onto the other, for any f."""
    alpha, mu = sp.symbols("alpha mu", positive=True)
    theta_prev, v_prev = sp.symbols(r"\theta_{t-1} v_{t-1}", real=True)
    G = sp.Symbol(r"\nabla f(\theta_{t-1} + \mu v_{t-1})", real=True)  # any gradient value
    # Sutskever et al. (2013).
    v = mu * v_prev - alpha * G
    theta = theta_prev + v
    # PyTorch, in the variables phi = theta + mu*v and b = -v/alpha.
    phi_prev = theta_prev + mu * v_prev
    b_prev = -v_prev / alpha
    b = mu * b_prev + G  # the gradient PyTorch evaluates is at its own parameters phi_{t-1}
    phi = phi_prev - alpha * (G + mu * b)
    require(is_zero(b - (-v / alpha)), "the buffer is -v/alpha after the step too")
    require(is_zero(phi - (theta + mu * v)), "the parameters are the look-ahead point after the step too")
    B, Phi = sp.symbols(r"b_{t-1} \varphi_{t-1}", real=True)
    return Lookahead(
        sutskever_velocity=v,
        pytorch_buffer=mu * B + sp.Symbol(r"\nabla f(\varphi_{t-1})"),
        pytorch_params=Phi - alpha * (sp.Symbol(r"\nabla f(\varphi_{t-1})") + mu * sp.Symbol("b_t")),
        substitution={"phi": phi_prev, "b": b_prev},
        symbols=dict(alpha=alpha, mu=mu),
    )


@dataclass(frozen=True)
class NesterovQuadratic:
    """Nesterov momentum on one eigenmode of a quadratic."""

    matrix: sp.Matrix
    """One PyTorch Nesterov step on the mode's state (b, x)."""
    characteristic_polynomial: sp.Expr
    """σ² − (1 + μ)(1 − αλ)σ + μ(1 − αλ)."""
    standard_lr: sp.Expr
    """1/λn."""
    standard_momentum: sp.Expr
    """(√κ − 1)/(√κ + 1)."""
    rate: sp.Expr
    """1 − 1/√κ, the rate with the standard parameters."""
    heavy_ball_gap: sp.Expr
    """(1 − 1/√κ) − (√κ − 1)/(√κ + 1) > 0: tuned heavy ball is faster on a quadratic."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_nesterov_quadratic() -> NesterovQuadratic:
    """The rate of Nesterov momentum on a quadratic with its standard strongly convex parameters."""
    alpha, mu, lam, kappa, q = sp.symbols("alpha mu lambda kappa q", positive=True)
    sigma = sp.Symbol("sigma")
    # b' = μb + λx;  x' = x − α(λx + μb') = x − α(λx + μ(μb + λx)).
    M = sp.Matrix([[mu, lam], [-alpha * mu**2, 1 - alpha * lam - alpha * mu * lam]])
    poly = sp.expand(M.charpoly(sigma).as_expr())
    target = sp.expand(sigma**2 - (1 + mu) * (1 - alpha * lam) * sigma + mu * (1 - alpha * lam))
    require(is_zero(poly - target), "Nesterov's characteristic polynomial")
    # Standard parameters for eigenvalues in [λn/κ, λn]: α = 1/λn, μ = (√κ − 1)/(√κ + 1). With
    # q = 1 − αλ in [0, 1 − 1/κ] the polynomial is σ² − (1 + μ)qσ + μq, whose discriminant
    # q((1 + μ)²q − 4μ) is ≤ 0 exactly for q ≤ 4μ/(1 + μ)², which equals 1 − 1/κ.
    mu_std = (sp.sqrt(kappa) - 1) / (sp.sqrt(kappa) + 1)
    require(is_zero(4 * mu_std / (1 + mu_std) ** 2 - (1 - 1 / kappa)),
            "4 mu/(1 + mu)^2 = 1 - 1/kappa: every mode is complex or critical")
    # Then |σ|² = μq, largest at the slowest mode q = 1 − 1/κ, where it is (1 − 1/√κ)².
    rate = sp.sqrt(sp.simplify(mu_std * (1 - 1 / kappa)))
    rate = sp.simplify(rate)
    require(is_zero(rate**2 - (1 - 1 / sp.sqrt(kappa)) ** 2), "rate = 1 - 1/sqrt(kappa)")
    hb_rate = (sp.sqrt(kappa) - 1) / (sp.sqrt(kappa) + 1)
    gap = sp.simplify((1 - 1 / sp.sqrt(kappa)) - hb_rate)
    require(is_zero(gap - (sp.sqrt(kappa) - 1) / (sp.sqrt(kappa) * (sp.sqrt(kappa) + 1))),
            "the gap to heavy ball is (sqrt(kappa) - 1)/(sqrt(kappa)(sqrt(kappa) + 1)) >= 0")
    return NesterovQuadratic(matrix=M, characteristic_polynomial=target, standard_lr=1 / sp.Symbol("lambda_n"),
                             standard_momentum=mu_std, rate=1 - 1 / sp.sqrt(kappa), heavy_ball_gap=gap,
                             symbols=dict(alpha=alpha, mu=mu, lam=lam, kappa=kappa, sigma=sigma, q=q))


def nesterov_mode_rate(lr: float, momentum: float, eigenvalues) -> np.ndarray:
    """Spectral radius of one Nesterov step for each eigenvalue λ (vectorised)."""
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"Invalid lr: {lr} (must be a positive finite number)")
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"Invalid momentum: {momentum} (must be in [0, 1))")
    q = 1.0 - lr * np.asarray(eigenvalues, dtype=float)
    trace, det = (1.0 + momentum) * q, momentum * q
    disc = trace**2 - 4.0 * det
    root = np.sqrt(np.abs(disc))
    real = 0.5 * np.maximum(np.abs(trace + root), np.abs(trace - root))
    return np.where(disc >= 0, real, np.sqrt(np.abs(det)))


class HeavyBallCounterexample(Problem):
    r"""Lessard, Recht and Packard's (2016) function on which tuned heavy ball never converges.

    A 1-D piecewise quadratic, smooth (:math:`L = 25`) and strongly convex (:math:`\ell = 1`):
    :math:`f(x) = \tfrac{25}{2}x^2` for :math:`x < 1`, :math:`\tfrac12 x^2 + 24x - 12` for
    :math:`1 \le x < 2`, :math:`\tfrac{25}{2}x^2 - 24x + 36` for :math:`x \ge 2`. Heavy ball with
    the parameters that are optimal for quadratics with κ = 25 (α = 1/9, β = 4/9) falls into a
    cycle of period 3 from starts such as 3.3; Nesterov's method with α = 1/L converges.
    """

    dim = 1
    name = "Lessard-Recht-Packard function"

    def __init__(self, x0=3.3):
        self.x0 = np.array([float(x0)])
        self.minimizer = np.zeros(1)

    def loss(self, x):
        u = float(np.asarray(x, dtype=float).reshape(-1)[0])
        if u < 1:
            return 12.5 * u * u
        if u < 2:
            return 0.5 * u * u + 24 * u - 12
        return 12.5 * u * u - 24 * u + 36

    def grad(self, x):
        u = float(np.asarray(x, dtype=float).reshape(-1)[0])
        if u < 1:
            return np.array([25 * u])
        if u < 2:
            return np.array([u + 24])
        return np.array([25 * u - 24])


# --- Nesterov inside Adam -----------------------------------------------------------------------


@dataclass(frozen=True)
class NadamDirection:
    """PyTorch's NAdam direction with a constant momentum μ_t = β1, against Adam's look-ahead."""

    nadam: sp.Expr
    """(1 − β1)/(1 − β1^t) g_t + β1/(1 − β1^{t+1}) m_t (PyTorch's two coefficients, μ_t = β1)."""
    lookahead: sp.Expr
    """m̂_{t+1} if g_{t+1} were g_t: (β1 m_t + (1 − β1) g_t)/(1 − β1^{t+1})."""
    difference: sp.Expr
    """nadam − lookahead = (1 − β1)g_t (1/(1 − β1^t) − 1/(1 − β1^{t+1})), which vanishes as t grows."""
    long_run: sp.Expr
    """β1 m_t + (1 − β1) g_t: both directions for large t."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_nadam_direction() -> NadamDirection:
    """Compare NAdam's step direction with Adam's bias-corrected momentum one step ahead."""
    b1 = sp.Symbol("beta_1", positive=True)
    t = sp.Symbol("t", positive=True, integer=True)
    g, m = sp.symbols("g_t m_t", real=True)
    # PyTorch's coefficients with mu_t = mu_{t+1} = beta1: mu_product_t = beta1^t.
    nadam = (1 - b1) / (1 - b1**t) * g + b1 / (1 - b1 ** (t + 1)) * m
    lookahead = (b1 * m + (1 - b1) * g) / (1 - b1 ** (t + 1))
    diff = sp.simplify(nadam - lookahead)
    expected = (1 - b1) * g * (1 / (1 - b1**t) - 1 / (1 - b1 ** (t + 1)))
    require(is_zero(diff - expected), "NAdam differs from the look-ahead only in the g_t term's correction")
    long_run = b1 * m + (1 - b1) * g
    for expr in (nadam, lookahead):
        limit = expr.subs(b1**t, 0).subs(b1 ** (t + 1), 0)
        require(is_zero(sp.expand(limit) - sp.expand(long_run)), "both tend to beta1 m_t + (1 - beta1) g_t")
    return NadamDirection(nadam=nadam, lookahead=lookahead, difference=expected, long_run=long_run,
                          symbols=dict(beta1=b1, t=t, g=g, m=m))


def nadam_momentum_schedule(beta1: float, momentum_decay: float, t) -> np.ndarray:
    r"""NAdam's :math:`\mu_t = \beta_1(1 - \tfrac12\, 0.96^{t\psi})` (Dozat's schedule, ``psi`` = ``momentum_decay``)."""
    if not 0.0 <= beta1 < 1.0:
        raise ValueError(f"Invalid beta1: {beta1} (must be in [0, 1))")
    if not momentum_decay >= 0.0:
        raise ValueError(f"Invalid momentum_decay: {momentum_decay} (must be >= 0)")
    t = np.asarray(t, dtype=float)
    return beta1 * (1.0 - 0.5 * np.power(0.96, t * momentum_decay))


def nadam_half_way_step(momentum_decay: float) -> float:
    """The step at which NAdam's μ_t is half way from β1/2 to β1 (0.96^{tψ} = 1/2)."""
    if not momentum_decay > 0.0:
        raise ValueError(f"Invalid momentum_decay: {momentum_decay} (must be > 0)")
    return math.log(0.5) / (momentum_decay * math.log(0.96))
