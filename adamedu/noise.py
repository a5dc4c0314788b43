r"""Stochastic gradients: where the noise comes from, what it does to SGD, what averaging does to it.

Derivations (SymPy; each raises :class:`adamedu.claims.ClaimError` if an identity it states fails):

- :func:`derive_minibatch_variance`: a minibatch of :math:`B` distinct examples out of :math:`N`
  gives an unbiased gradient whose variance is :math:`\frac{\sigma_1^2}{B}\frac{N-B}{N-1}`.
- :func:`derive_sgd_noise_ball`: on :math:`f = \tfrac12\lambda x^2` with gradient noise of variance
  :math:`\sigma^2`, constant-step SGD settles at :math:`\mathbb{E}[x^2] = \alpha\sigma^2/(\lambda(2-\alpha\lambda))`.
- :func:`derive_ema_noise`: an exponential moving average of white noise has variance
  :math:`\frac{1-\beta}{1+\beta}\sigma^2` and lags :math:`\beta/(1-\beta)` steps behind.
- :func:`derive_momentum_noise_ball`: heavy ball's stationary :math:`\mathbb{E}[x^2]`, equal to that of SGD
  with the effective step :math:`\alpha/(1-\mu)` to first order in :math:`\alpha`.

Numbers: :func:`per_example_gradients` and :func:`minibatch_noise` for the digits problems, and
:func:`expected_loss` (the exact expected loss of SGD or heavy ball on a noisy diagonal quadratic,
step by step, from the second-moment recursion).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy as sp

from adamedu.claims import generic_branch, is_zero, require

__all__ = [
    "MinibatchVariance",
    "NoiseBall",
    "EmaNoise",
    "MomentumNoiseBall",
    "derive_minibatch_variance",
    "derive_sgd_noise_ball",
    "derive_ema_noise",
    "derive_momentum_noise_ball",
    "minibatch_noise_factor",
    "per_example_gradients",
    "minibatch_noise",
    "expected_loss",
]




# --- Minibatches ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MinibatchVariance:
    """Mean and variance of the gradient of a minibatch drawn without replacement."""

    mean_weight: sp.Expr
    """E[I_i]/B = 1/N: each example's gradient enters the mean with weight 1/N (unbiased)."""
    variance: sp.Expr
    """Var(g_B) = σ1²/B · (N − B)/(N − 1), per coordinate, σ1² the per-example variance."""
    finite_population_factor: sp.Expr
    """(N − B)/(N − 1): 1 for B = 1, 0 for the full batch B = N."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_minibatch_variance() -> MinibatchVariance:
    r"""Write :math:`g_B = \frac1B\sum_i I_i g_i` with :math:`I_i = 1` if example i is drawn.

    Drawing B of N without replacement: :math:`\mathbb{E}[I_i] = B/N`,
    :math:`\mathbb{E}[I_i I_j] = B(B-1)/(N(N-1))` for i ≠ j. With :math:`d_i = g_i - \bar g`
    (:math:`\sum_i d_i = 0`, :math:`\sum_i d_i^2 = N\sigma_1^2`),
    :math:`\operatorname{Var}(g_B) = \frac{1}{B^2}\big(\operatorname{Var}(I)\sum_i d_i^2 +
    \operatorname{Cov}(I_i, I_j)\sum_{i\ne j} d_i d_j\big)` and :math:`\sum_{i\ne j} d_i d_j = -\sum_i d_i^2`.
    """
    N, B, s1 = sp.symbols("N B sigma_1", positive=True)
    p = B / N
    var_I = p * (1 - p)
    cov_I = B * (B - 1) / (N * (N - 1)) - p**2
    sum_d2 = N * s1**2
    variance = sp.simplify((var_I * sum_d2 + cov_I * (-sum_d2)) / B**2)
    factor = (N - B) / (N - 1)
    require(is_zero(variance - s1**2 / B * factor), "Var(g_B) = sigma_1^2/B (N - B)/(N - 1)")
    require(is_zero(variance.subs(B, 1) - s1**2), "one example: the per-example variance")
    require(is_zero(variance.subs(B, N)), "the full batch has no noise")
    require(is_zero(sp.limit(variance * B, N, sp.oo) - s1**2), "sampling from a huge set: sigma_1^2/B")
    return MinibatchVariance(mean_weight=p / B, variance=variance, finite_population_factor=factor,
                             symbols=dict(N=N, B=B, sigma1=s1))


def minibatch_noise_factor(batch_size: int, n: int) -> float:
    """(1/B)(N − B)/(N − 1): the minibatch variance as a fraction of the per-example variance."""
    if not (int(n) == n and n >= 2 and int(batch_size) == batch_size and 1 <= batch_size <= n):
        raise ValueError(f"Invalid batch_size {batch_size} for n = {n} (need integers 1 <= B <= N, N >= 2)")
    return (n - batch_size) / (batch_size * (n - 1))


def per_example_gradients(problem, x) -> np.ndarray:
    """The gradient of every training example's loss at ``x``, shape (N, dim) (digits problems)."""
    n = len(problem.y_train)
    return np.stack([problem.batch_grad(x, [i]) for i in range(n)])


def minibatch_noise(problem, x, batch_size: int, per_example=None) -> float:
    r"""Exact :math:`\mathbb{E}\lVert g_B - \nabla f\rVert^2` for a digits problem's minibatches at ``x``.

    The regulariser's gradient is the same in every minibatch, so only the data term is noisy;
    ``per_example`` may pass :func:`per_example_gradients` to reuse them.
    """
    grads = per_example_gradients(problem, x) if per_example is None else np.asarray(per_example)
    spread = float(np.mean(np.sum((grads - grads.mean(axis=0)) ** 2, axis=1)))  # σ1², summed
    return spread * minibatch_noise_factor(batch_size, len(grads))


# --- SGD's noise ball ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoiseBall:
    """Constant-step SGD on f = ½λx² with gradient λx + σξ (ξ standard normal, independent)."""

    second_moment: sp.Expr
    """E[x_k²] = r^k x0² + α²σ²(1 − r^k)/(1 − r), r = (1 − αλ)²."""
    stationary: sp.Expr
    """lim E[x_k²] = ασ²/(λ(2 − αλ)) for 0 < αλ < 2."""
    stationary_loss: sp.Expr
    """lim E[f(x_k)] = ασ²/(2(2 − αλ)): proportional to α, independent of λ to first order."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_sgd_noise_ball() -> NoiseBall:
    """Solve the recursion E[x_{k+1}²] = (1 − αλ)² E[x_k²] + α²σ² (induction on a symbolic k)."""
    alpha, lam, sigma, x0 = sp.symbols("alpha lambda sigma x_0", positive=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    r = (1 - alpha * lam) ** 2

    def closed(n):
        return r**n * x0**2 + alpha**2 * sigma**2 * (1 - r**n) / (1 - r)

    require(is_zero(closed(0) - x0**2), "E[x_0^2] = x_0^2")
    require(is_zero(closed(k + 1) - (r * closed(k) + alpha**2 * sigma**2)), "the closed form solves the recursion")
    stationary = sp.simplify(alpha**2 * sigma**2 / (1 - r))
    require(is_zero(stationary - alpha * sigma**2 / (lam * (2 - alpha * lam))), "stationary E[x^2]")
    loss = sp.simplify(lam * stationary / 2)
    require(is_zero(loss - alpha * sigma**2 / (2 * (2 - alpha * lam))), "stationary E[f]")
    require(is_zero(sp.series(loss, alpha, 0, 2).removeO() - alpha * sigma**2 / 4),
            "to first order the floor is alpha sigma^2/4")
    return NoiseBall(second_moment=closed(k), stationary=stationary, stationary_loss=loss,
                     symbols=dict(alpha=alpha, lam=lam, sigma=sigma, x0=x0, k=k))


# --- Averaging the gradient ------------------------------------------------------------------------


@dataclass(frozen=True)
class EmaNoise:
    """m_t = βm_{t−1} + (1 − β)ξ_t from m_0 = 0, ξ_t independent with variance σ²."""

    variance: sp.Expr
    """Var(m_t) = σ²(1 − β)(1 − β^{2t})/(1 + β)."""
    stationary: sp.Expr
    """σ²(1 − β)/(1 + β)."""
    corrected_variance: sp.Expr
    """Var(m_t/(1 − β^t)) = σ²(1 − β)(1 + β^t)/((1 + β)(1 − β^t))."""
    lag: sp.Expr
    """β/(1 − β): the mean age (in steps) of the gradients in m_t as t → ∞."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_ema_noise() -> EmaNoise:
    beta = sp.Symbol("beta", positive=True)
    sigma = sp.Symbol("sigma", positive=True)
    t = sp.Symbol("t", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, nonnegative=True)
    # m_t = Σ_{j<t} (1 − β)β^j ξ_{t−j}: independent terms, so the variances add.
    variance = (1 - beta) ** 2 * sigma**2 * generic_branch(sp.Sum(beta ** (2 * j), (j, 0, t - 1)).doit())
    expected = sigma**2 * (1 - beta) * (1 - beta ** (2 * t)) / (1 + beta)
    require(is_zero(variance - expected), "Var(m_t) = sigma^2 (1 - beta)(1 - beta^(2t))/(1 + beta)")
    stationary = sigma**2 * (1 - beta) / (1 + beta)
    require(is_zero(expected.subs(beta ** (2 * t), 0) - stationary), "stationary variance")
    corrected = sp.simplify(expected / (1 - beta**t) ** 2)
    corrected_expected = sigma**2 * (1 - beta) * (1 + beta**t) / ((1 + beta) * (1 - beta**t))
    require(is_zero(corrected - corrected_expected), "variance of the bias-corrected average")
    require(is_zero(corrected_expected.subs(t, 1) - sigma**2), "at t = 1 the corrected average is g_1")
    # The infinite sum converges for beta < 1: keep SymPy's convergent branch.
    lag = (1 - beta) * generic_branch(sp.Sum(beta**j * j, (j, 0, sp.oo)).doit())
    require(is_zero(lag - beta / (1 - beta)), "mean age beta/(1 - beta)")
    return EmaNoise(variance=expected, stationary=stationary, corrected_variance=corrected_expected,
                    lag=beta / (1 - beta), symbols=dict(beta=beta, sigma=sigma, t=t))


@dataclass(frozen=True)
class MomentumNoiseBall:
    """Heavy ball (PyTorch's form) on f = ½λx² with gradient noise σξ: the stationary spread."""

    stationary: sp.Expr
    """E[x²] = ασ²(1 + μ)/(λ(1 − μ)(2(1 + μ) − αλ))."""
    sgd_same_effective_step: sp.Expr
    """SGD's E[x²] with the step α/(1 − μ): ασ²/(λ(2(1 − μ) − αλ))."""
    first_order: sp.Expr
    """ασ²/(2λ(1 − μ)): the first-order term, the same for both."""
    difference: sp.Expr
    """SGD's minus heavy ball's: positive and of second order in α."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_momentum_noise_ball() -> MomentumNoiseBall:
    """Solve the stationary Lyapunov equation P = M P Mᵀ + c cᵀ of the state (b, x)."""
    alpha, mu, lam, sigma = sp.symbols("alpha mu lambda sigma", positive=True)
    # b' = μb + λx + σξ;  x' = x − αb' = −αμ b + (1 − αλ)x − ασξ.
    M = sp.Matrix([[mu, lam], [-alpha * mu, 1 - alpha * lam]])
    c = sp.Matrix([sigma, -alpha * sigma])
    pbb, pbx, pxx = sp.symbols("p_bb p_bx p_xx", real=True)
    P = sp.Matrix([[pbb, pbx], [pbx, pxx]])
    equations = list(P - (M * P * M.T + c * c.T))
    sol = sp.solve([equations[0], equations[1], equations[3]], [pbb, pbx, pxx], dict=True)
    require(len(sol) == 1, "one stationary covariance")
    var_x = sp.factor(sp.simplify(sol[0][pxx]))
    expected = alpha * sigma**2 * (1 + mu) / (lam * (1 - mu) * (2 * (1 + mu) - alpha * lam))
    require(is_zero(var_x - expected), "heavy ball's stationary E[x^2]")
    require(is_zero(expected.subs(mu, 0) - derive_sgd_noise_ball().stationary.subs(
        {derive_sgd_noise_ball().symbols[k]: v for k, v in (("alpha", alpha), ("lam", lam), ("sigma", sigma))})),
        "mu = 0 gives SGD's noise ball")
    a_eff = alpha / (1 - mu)
    sgd = sp.simplify(a_eff * sigma**2 / (lam * (2 - a_eff * lam)))
    require(is_zero(sgd - alpha * sigma**2 / (lam * (2 * (1 - mu) - alpha * lam))), "SGD at alpha/(1 - mu)")
    first = alpha * sigma**2 / (2 * lam * (1 - mu))
    for expr in (expected, sgd):
        require(is_zero(sp.series(expr, alpha, 0, 2).removeO() - first), "same first-order term")
    diff = sp.factor(sp.simplify(sgd - expected))
    lead = sp.series(diff, alpha, 0, 3).removeO()
    expected_lead = alpha**2 * sigma**2 * mu / (2 * (1 - mu) ** 2 * (1 + mu))
    require(is_zero(lead - expected_lead), "the difference starts at second order in alpha, with a positive sign")
    return MomentumNoiseBall(stationary=expected, sgd_same_effective_step=sgd, first_order=first,
                             difference=diff, symbols=dict(alpha=alpha, mu=mu, lam=lam, sigma=sigma))


# --- Exact expected loss on a noisy diagonal quadratic ------------------------------------------


def expected_loss(lr, momentum, eigenvalues, noise: float, x0, steps: int, schedule=None) -> np.ndarray:
    r"""E[f(θ_k)] for k = 0..steps of heavy ball (``momentum = 0``: SGD) on a noisy diagonal quadratic.

    The problem is :class:`adamedu.problems.NoisyQuadratic`: :math:`f = \tfrac12\sum_i\lambda_i x_i^2`,
    gradient :math:`\lambda\odot x + \sigma\xi`. Each coordinate's state (b, x) evolves linearly,
    so its second moments follow P' = M P Mᵀ + c cᵀ exactly (no sampling). The buffer starts at 0,
    so the first step is −α g_1 as in PyTorch.

    ``lr`` and ``momentum`` broadcast against each other (a grid of settings); the result has their
    broadcast shape plus a last axis of length ``steps + 1``. ``schedule`` (optional, length
    ``steps``) multiplies the learning rate at each step; PyTorch's buffer keeps its value when the
    learning rate changes, and so does this recursion.
    """
    lam = np.asarray(eigenvalues, dtype=float).reshape(-1)
    x0 = np.broadcast_to(np.asarray(x0, dtype=float), lam.shape)
    if int(steps) != steps or steps < 0:
        raise ValueError(f"Invalid steps: {steps} (must be a non-negative integer)")
    lr, beta = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(momentum, dtype=float))
    if not (np.all(np.isfinite(lr)) and np.all(lr > 0)):
        raise ValueError("Invalid lr: every learning rate must be positive and finite")
    if not (np.all(beta >= 0.0) and np.all(beta < 1.0)):
        raise ValueError("Invalid momentum: must be in [0, 1)")
    factors = np.ones(int(steps)) if schedule is None else np.asarray(schedule, dtype=float)
    if factors.shape != (int(steps),) or not np.all(factors > 0):
        raise ValueError(f"Invalid schedule: need {int(steps)} positive factors")
    a0 = lr[..., None]  # (..., 1) against the coordinates (d,)
    b = beta[..., None]
    s2 = float(noise) ** 2
    # Second moments per setting and coordinate: E[b²], E[bx], E[x²].
    shape = lr.shape + lam.shape
    bb, bx, xx = np.zeros(shape), np.zeros(shape), np.broadcast_to(x0**2, shape).copy()
    out = np.empty(lr.shape + (int(steps) + 1,))
    out[..., 0] = 0.5 * np.sum(lam * xx, axis=-1)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, int(steps) + 1):
            a = a0 * factors[k - 1]
            # b' = βb + λx + σξ;  x' = x − a b'.
            nbb = b**2 * bb + 2 * b * lam * bx + lam**2 * xx + s2
            cross = b * bx + lam * xx  # E[b' x]
            nbx = cross - a * nbb  # E[b' x'] = E[b' x] − a E[b'²]
            nxx = xx - 2 * a * cross + a**2 * nbb
            bb, bx, xx = nbb, nbx, nxx
            out[..., k] = 0.5 * np.sum(lam * xx, axis=-1)
    return out
