"""The book's derivations, each a SymPy computation that checks its own result.

Every ``derive_<name>()`` builds the symbolic expressions, checks the identity it derives (an exact
symbolic simplification, never an evaluation at a few points) and returns what the chapter
displays. Chapters and tests call the same functions, so a false claim fails the build.

A failed check raises :class:`adamedu.claims.ClaimError` (re-exported here), never a bare
``assert``: Python drops ``assert`` statements under ``python -O``, and a derivation must not pass
silently there.
:func:`textbook` lets a chapter display a formula in the order a person writes it while checking
that it equals the derived expression.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from adamedu.claims import ClaimError

__all__ = [
    "ClaimError",
    "textbook",
    "show",
    "EfficientForm",
    "derive_efficient_form",
    "BiasCorrection",
    "derive_bias_correction",
    "step_size_without_bias_correction",
    "AdagradLimit",
    "derive_adagrad_limit",
    "FisherReading",
    "derive_fisher_reading",
    "RescalingInvariance",
    "derive_rescaling_invariance",
    "adam_step_factor",
    "paper_step_bound",
    "worst_case_step_ratio",
    "spike_train_step_ratio",
    "worst_case_gradients",
    "step_ratio",
    "StepBoundDerivation",
    "derive_step_bound",
    "SNRModel",
    "derive_snr_model",
    "SignReading",
    "derive_sign_reading",
    "snr_noise_scale",
    "expected_abs_snr",
    "AdamaxLimit",
    "derive_adamax_limit",
    "adamax_step_ratio_supremum",
]


def _claim(holds, detail=None) -> None:
    """Raise :class:`ClaimError` unless ``holds`` is true; the message names the failing line.

    Like :func:`adamedu.claims.require`, but the claim needs no description: it is the source line
    of the call, read back when (and only when) the check fails.
    """
    if holds:
        return
    caller = inspect.stack(context=1)[1]
    line = (caller.code_context or ["?"])[0].strip()
    where = f"{caller.function} (line {caller.lineno}): {line}"
    raise ClaimError(where if detail is None else f"{where} -- {detail}")


def textbook(written: Callable[[], sp.Expr] | sp.Expr, derived: sp.Expr, *,
             nonnegative: bool = False, where: dict | None = None) -> str:
    """The LaTeX of a hand-written formula, after checking that it equals a derived expression.

    SymPy prints a sum in its own order (``- \\beta^{2} + 1``, ``\\beta^{- i + t}``). A chapter
    instead writes the formula as a person would, as a function that builds it, for example
    ``lambda: (1 - b1) / sp.sqrt(1 - b2)``; it is built unevaluated and printed in the order written.
    Before anything is shown, ``written`` is checked to be equal to ``derived`` (exactly, by
    simplification; with ``nonnegative=True`` through their squares, for square roots whose
    radicands SymPy cannot sign). ``where`` maps abbreviations used in the written form to what they
    stand for (``{q: beta1**2 / beta2}``); they are substituted before the comparison only. A
    display that differs from the derivation raises :class:`ClaimError`, so the book does not build
    with a false formula on the page.
    """
    if callable(written):
        with sp.evaluate(False):
            written = _tidy(written())
    shown = sp.latex(written, order="none")
    evaluated = written.doit() if hasattr(written, "doit") else written
    if where:
        evaluated = evaluated.subs(where)
    derived_value = derived.doit() if hasattr(derived, "doit") else derived
    difference = sp.simplify(evaluated - derived_value)
    if difference != 0 and nonnegative:
        difference = sp.simplify(sp.expand(evaluated**2 - derived_value**2))
        if difference != 0:
            difference = sp.simplify(sp.powsimp(sp.expand_power_base(difference, force=True), force=True))
    if difference != 0:
        raise ClaimError(f"the displayed formula {sp.sstr(written)} differs from the derived "
                         f"{sp.sstr(derived)} by {sp.sstr(difference)}")
    return shown


def _tidy(expr):
    """Flatten nested sums and products and drop factors of 1, keeping the written order.

    Building a formula with evaluation switched off leaves ``(a + b) + c`` nested and a ``1 *``
    in front of a sum's terms, which would print as such.
    """
    if not isinstance(expr, sp.Basic) or expr.is_Atom:
        return expr
    args = [_tidy(arg) for arg in expr.args]
    if expr.is_Add:
        flat = [term for arg in args for term in (arg.args if arg.is_Add else (arg,))]
        return sp.Add(*flat, evaluate=False)
    if expr.is_Mul:
        factors = [f for f in args if f != 1]
        if not factors:
            return sp.Integer(1)
        return factors[0] if len(factors) == 1 else sp.Mul(*factors, evaluate=False)
    if expr.is_Pow:
        return sp.Pow(*args, evaluate=False)
    if isinstance(expr, (sp.Sum, sp.Product)):
        with sp.evaluate(True):  # unevaluated construction would put a factor 1 in front again
            return expr.func(*args)
    return expr.func(*args)


def show(before: str, written: Callable[[], sp.Expr] | sp.Expr, derived: sp.Expr, after: str = "", *,
         nonnegative: bool = False, where: dict | None = None) -> None:
    """Display ``before`` + the checked :func:`textbook` form of ``derived`` + ``after`` as maths.

    ``before`` and ``after`` are LaTeX (the left-hand side and ``=``, a condition, punctuation).
    """
    from IPython.display import Math, display

    display(Math(before + textbook(written, derived, nonnegative=nonnegative, where=where) + after))


# --- The Adam algorithm: the paper's efficient one-line form ----------------------------------


@dataclass(frozen=True)
class EfficientForm:
    """Algorithm 1's last three lines against the paper's reordered, efficient form.

    All expressions use the symbols in ``symbols``; ``t`` is a symbolic step count.
    """

    algorithm1_update: sp.Expr
    """Δ_t = -α·m̂_t/(√v̂_t + ε) written with the raw moments m_t, v_t."""
    step_size_t: sp.Expr
    """α_t = α·√(1−β2^t)/(1−β1^t): the bias corrections folded into one scalar."""
    efficient_update: sp.Expr
    """Δ_t = -α_t·m_t/(√v_t + ε̂), with ε̂ a free symbol."""
    matching_epshat: sp.Expr
    """The unique ε̂ for which the two updates agree: ε·√(1−β2^t)."""
    implied_eps_for_constant_epshat: sp.Expr
    """Holding ε̂ = ε constant is Algorithm 1 with ε replaced by ε/√(1−β2^t)."""
    constant_epshat_ratio: sp.Expr
    """Efficient update with ε̂ = ε divided by Algorithm 1's update, as a function of v̂_t."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_efficient_form() -> EfficientForm:
    """Derive when the paper's one-line form equals Algorithm 1, and what a constant ε̂ changes.

    The bias-correction denominators c1 = 1−β1^t and c2 = 1−β2^t are positive for 0 < β < 1 and
    t ≥ 1; the algebra is done with positive symbols for them and then written in β and t.
    """
    alpha, eps, epshat = sp.symbols(r"alpha epsilon \hat{\epsilon}", positive=True)
    beta1, beta2 = sp.symbols("beta_1 beta_2", positive=True)
    t = sp.Symbol("t", integer=True, positive=True)
    m = sp.Symbol("m_t", real=True, nonzero=True)
    v, vhat = sp.symbols(r"v_t \hat{v}_t", positive=True)
    c1, c2 = sp.symbols("c_1 c_2", positive=True)  # 1 - beta1**t, 1 - beta2**t
    in_betas = {c1: 1 - beta1**t, c2: 1 - beta2**t}

    m_hat, v_hat = m / c1, v / c2
    algorithm1 = -alpha * m_hat / (sp.sqrt(v_hat) + eps)
    alpha_t = alpha * sp.sqrt(c2) / c1
    efficient = -alpha_t * m / (sp.sqrt(v) + epshat)

    # The update is linear-fractional in epshat, so the equation has at most one root.
    roots = sp.solve(sp.Eq(algorithm1, efficient), epshat)
    _claim(roots == [eps * sp.sqrt(c2)], roots)
    _claim(sp.simplify(algorithm1 - efficient.subs(epshat, roots[0])) == 0)

    # A constant epshat = eps is Algorithm 1 run with the larger eps / sqrt(1 - beta2**t).
    implied_eps = eps / sp.sqrt(c2)
    _claim(sp.simplify(efficient.subs(epshat, eps) - algorithm1.subs(eps, implied_eps)) == 0)
    ratio = sp.simplify((efficient.subs(epshat, eps) / algorithm1).subs(v, vhat * c2))
    expected_ratio = (sp.sqrt(vhat) + eps) / (sp.sqrt(vhat) + eps / sp.sqrt(c2))
    _claim(sp.simplify(ratio - expected_ratio) == 0)
    # c2 <= 1, so the constant-epshat step is never the longer one, and equal once c2 -> 1.
    _claim(sp.simplify(expected_ratio.subs(c2, 1) - 1) == 0)

    return EfficientForm(
        algorithm1_update=algorithm1.subs(in_betas),
        step_size_t=alpha_t.subs(in_betas),
        efficient_update=efficient.subs(in_betas),
        matching_epshat=roots[0].subs(in_betas),
        implied_eps_for_constant_epshat=implied_eps.subs(in_betas),
        constant_epshat_ratio=expected_ratio.subs(in_betas),
        symbols=dict(alpha=alpha, eps=eps, epshat=epshat, beta1=beta1, beta2=beta2, t=t, m=m,
                     v=v, vhat=vhat),
    )


# --- Bias correction --------------------------------------------------------------------------


def _ema_closed_form_holds(decay: sp.Expr, term, t: sp.Symbol, i: sp.Symbol,
                           init: sp.Expr = sp.Integer(0)) -> sp.Expr:
    """Return the closed form of an exponential moving average and prove it symbolically.

    The recursion s_t = decay·s_{t−1} + (1−decay)·x_t with s_0 = init unrolls to
    s_t = decay^t·init + Σ_{i=1..t} (1−decay)·decay^(t−i)·x_i. Proved by induction on a symbolic
    t: the closed form gives init at t = 0, and splitting off the last term of the sum turns the
    closed form at t into decay·(closed form at t−1) + (1−decay)·x_t.
    ``term(k)`` is the k-th input x_k (for v_t: ``lambda k: g[k]**2``).
    """
    summand = (1 - decay) * decay ** (t - i) * term(i)

    def closed(n):
        return decay**n * init + sp.Sum(summand.subs(t, n), (i, 1, n))

    _claim(sp.simplify(closed(0).doit() - init) == 0)
    # A sum over 1..t is the sum over 1..t-1 plus the sum over t..t (the last term).
    head = sp.Sum(summand, (i, 1, t - 1))
    last = sp.Sum(summand, (i, t, t))
    _claim(sp.simplify(closed(t) - decay**t * init - head - last) == 0)
    step = decay**t * init + head + last.doit() - decay * closed(t - 1) - (1 - decay) * term(t)
    _claim(sp.simplify(step) == 0)
    return closed(t)


@dataclass(frozen=True)
class BiasCorrection:
    """The initialisation bias of Adam's moment estimates and the correction that removes it."""

    geometric_sum: sp.Expr
    """Σ_{i=1..t} (1−β)·β^(t−i) as an unevaluated sum."""
    geometric_sum_value: sp.Expr
    """Its value for symbolic t: 1 − β^t."""
    v_closed_form: sp.Expr
    """v_t = (1−β2)·Σ β2^(t−i)·g_i², the unrolled recursion with v_0 = 0."""
    expected_v: sp.Expr
    """E[v_t] = E[g²]·(1−β2^t) + ζ, where ζ collects the drift of E[g_i²] away from E[g_t²]."""
    zeta: sp.Expr
    """ζ = (1−β2)·Σ β2^(t−i)·(E[g_i²] − E[g_t²]); it is zero for a stationary second moment."""
    expected_vhat_stationary: sp.Expr
    """E[v̂_t] = E[v_t]/(1−β2^t) with ζ = 0: exactly E[g²]."""
    expected_mhat_stationary: sp.Expr
    """E[m̂_t] with a stationary mean: exactly E[g]."""
    expected_vhat_with_init: sp.Expr
    """E[v̂_t] if v_0 were a non-zero constant v0: biased by β2^t·v0/(1−β2^t)."""
    uncorrected_step_ratio: sp.Expr
    """|Δ_t|/α without bias correction for a constant gradient (ε = 0): (1−β1^t)/√(1−β2^t)."""
    corrected_step_ratio: sp.Expr
    """The same with bias correction: exactly 1."""
    first_step_ratio: sp.Expr
    """uncorrected_step_ratio at t = 1 for any gradient g_1 ≠ 0: (1−β1)/√(1−β2)."""
    near_one_scaled_ratio: sp.Expr
    """lim_{β2→1} √(1−β2)·uncorrected_step_ratio = (1−β1^t)/√t: the ratio grows like 1/√(1−β2)."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_bias_correction() -> BiasCorrection:
    """Derive Adam's initialisation bias and its correction for a symbolic step count t."""
    beta, beta1, beta2 = sp.symbols("beta beta_1 beta_2", positive=True)
    t = sp.Symbol("t", integer=True, positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    g = sp.IndexedBase("g")
    drift = sp.IndexedBase(r"\zeta")  # E[g_i^2] - E[g_t^2]
    second_moment, mean = sp.symbols(r"\mathbb{E}[g^2] \mathbb{E}[g]", positive=True)
    v0 = sp.Symbol("v_0", positive=True)

    # The geometric series, summed by SymPy for symbolic t.
    geometric = sp.Sum((1 - beta) * beta ** (t - i), (i, 1, t))
    geometric_value = sp.summation((1 - beta) * beta ** (t - i), (i, 1, t))
    _claim(sp.simplify(geometric_value - (1 - beta**t)) == 0)

    # v_t unrolled (and, with the same proof, m_t).
    v_closed = _ema_closed_form_holds(beta2, lambda k: g[k] ** 2, t, i)

    # Expectation: linearity moves E inside the sum, E[g_i^2] = E[g_t^2] + zeta_i.
    weight = (1 - beta2) * beta2 ** (t - i)
    expected = sp.Sum(weight * (second_moment + drift[i]), (i, 1, t))
    zeta = sp.Sum(weight * drift[i], (i, 1, t))
    stationary_part = sp.summation(weight * second_moment, (i, 1, t))
    _claim(sp.simplify(expected - sp.Sum(weight * second_moment, (i, 1, t)) - zeta) == 0)
    _claim(sp.simplify(stationary_part - second_moment * (1 - beta2**t)) == 0)
    expected_v = second_moment * (1 - beta2**t) + zeta
    expected_vhat = sp.simplify(stationary_part / (1 - beta2**t))
    _claim(expected_vhat == second_moment)

    weight1 = (1 - beta1) * beta1 ** (t - i)
    expected_m = sp.summation(weight1 * mean, (i, 1, t))
    expected_mhat = sp.simplify(expected_m / (1 - beta1**t))
    _claim(expected_mhat == mean)

    # The correction assumes v_0 = 0: from any other start the estimate stays biased.
    v_with_init = _ema_closed_form_holds(beta2, lambda k: g[k] ** 2, t, i, init=v0)
    expected_with_init = beta2**t * v0 + stationary_part
    _claim(sp.simplify(v_with_init - beta2**t * v0 - v_closed) == 0)
    vhat_with_init = second_moment + beta2**t * v0 / (1 - beta2**t)
    _claim(sp.simplify(expected_with_init / (1 - beta2**t) - vhat_with_init) == 0)

    # Without correction, a constant gradient g > 0 gives m_t = g(1-beta1^t), v_t = g^2(1-beta2^t).
    grad = sp.Symbol("g", positive=True)
    m_t = sp.summation(weight1 * grad, (i, 1, t))
    v_t = sp.summation(weight * grad**2, (i, 1, t))
    uncorrected = sp.simplify(m_t / sp.sqrt(v_t))
    corrected = sp.simplify((m_t / (1 - beta1**t)) / sp.sqrt(v_t / (1 - beta2**t)))
    _claim(sp.simplify(uncorrected - (1 - beta1**t) / sp.sqrt(1 - beta2**t)) == 0)
    _claim(corrected == 1)
    # At t = 1 the gradient cancels whatever its value: m_1/sqrt(v_1) = (1-beta1)/sqrt(1-beta2).
    g1 = sp.Symbol("g_1", real=True, nonzero=True)
    first = uncorrected.subs(t, 1)
    # Both sides are non-negative, so equal squares prove equality.
    _claim(sp.simplify(sp.Abs((1 - beta1) * g1) ** 2 / ((1 - beta2) * g1**2) - first**2) == 0)
    near_one = sp.limit(sp.sqrt(1 - beta2) * uncorrected, beta2, 1)
    _claim(sp.simplify(near_one - (1 - beta1**t) / sp.sqrt(t)) == 0)

    return BiasCorrection(
        geometric_sum=geometric,
        geometric_sum_value=geometric_value,
        v_closed_form=v_closed,
        expected_v=expected_v,
        zeta=zeta,
        expected_vhat_stationary=expected_vhat,
        expected_mhat_stationary=expected_mhat,
        expected_vhat_with_init=vhat_with_init,
        uncorrected_step_ratio=uncorrected,
        corrected_step_ratio=corrected,
        first_step_ratio=first,
        near_one_scaled_ratio=near_one,
        symbols=dict(beta=beta, beta1=beta1, beta2=beta2, t=t, i=i, g=g,
                     second_moment=second_moment, mean=mean, v0=v0, zeta=drift),
    )


def step_size_without_bias_correction(beta1: ArrayLike, beta2: ArrayLike, t: ArrayLike = 1) -> float | np.ndarray:
    """|Δ_t|/α of Adam without bias correction under a constant gradient (ε = 0).

    Equals (1−β1^t)/√(1−β2^t), the expression :func:`derive_bias_correction` derives; at t = 1
    it holds for every non-zero gradient. With bias correction the ratio is exactly 1. ``t`` may
    be an integer or a NumPy array of step counts; ``beta1`` and ``beta2`` may be arrays too
    (they broadcast), as for a map over the (β1, β2) plane.
    """
    beta1, beta2, t = np.asarray(beta1, float), np.asarray(beta2, float), np.asarray(t)
    if not np.all((beta1 >= 0.0) & (beta1 < 1.0)):
        raise ValueError(f"Invalid beta1: {beta1}")
    if not np.all((beta2 >= 0.0) & (beta2 < 1.0)):
        raise ValueError(f"Invalid beta2: {beta2}")
    if not np.all(t >= 1):
        raise ValueError(f"Invalid t: {t}")
    ratio = (1.0 - beta1**t) / np.sqrt(1.0 - beta2**t)
    return float(ratio) if ratio.ndim == 0 else ratio


# --- The limit beta2 -> 1: AdaGrad ------------------------------------------------------------


@dataclass(frozen=True)
class AdagradLimit:
    """Adam as β2 → 1 with bias correction (Kingma & Ba 2015, Section 5).

    The bias-corrected weights of v̂_t tend to 1/t, so v̂_t becomes the plain mean of the squared
    gradients, and Adam with β1 = 0 and the annealed step size α/√t takes AdaGrad's step.
    """

    weight: sp.Expr
    """b_i = (1−β2)·β2^(t−i)/(1−β2^t), the weight of g_i² in v̂_t."""
    weight_limit: sp.Expr
    """lim_{β2→1} b_i = 1/t, the same for every i."""
    uncorrected_weight_limit: sp.Expr
    """lim_{β2→1} (1−β2)·β2^(t−i) = 0: without the correction v_t vanishes."""
    vhat_limit: sp.Expr
    """lim_{β2→1} v̂_t = (1/t)·Σ g_i²."""
    annealed_step: sp.Expr
    """Adam's step with β1 = 0, ε = 0, α_t = α/√t in the limit: α·g_t/√(Σ g_i²), AdaGrad's."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_adagrad_limit() -> AdagradLimit:
    """Derive the paper's remark that AdaGrad is Adam with β1 = 0, β2 → 1 and α_t = α/√t."""
    beta2, alpha = sp.symbols("beta_2 alpha", positive=True)
    t = sp.Symbol("t", integer=True, positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    g = sp.IndexedBase("g", real=True)
    weight = (1 - beta2) * beta2 ** (t - i) / (1 - beta2**t)
    weight_limit = sp.limit(weight, beta2, 1)
    _claim(sp.simplify(weight_limit - 1 / t) == 0)
    # The same from the other side (beta2 = 1 - h, h -> 0+), so the limit is not one-sided luck.
    h = sp.Symbol("h", positive=True)
    _claim(sp.simplify(sp.limit(weight.subs(beta2, 1 - h), h, 0) - 1 / t) == 0)
    uncorrected = sp.limit((1 - beta2) * beta2 ** (t - i), beta2, 1)
    _claim(uncorrected == 0)
    # A finite sum of t terms: the limit passes through the sum.
    vhat = sp.Sum(weight * g[i] ** 2, (i, 1, t))
    vhat_limit = sp.Sum(weight_limit * g[i] ** 2, (i, 1, t))
    _claim(sp.simplify(vhat_limit - sp.Sum(g[i] ** 2, (i, 1, t)) / t) == 0)
    _claim(sp.simplify(vhat.subs(beta2, sp.Rational(1, 2)).subs(t, 3).doit()
                       - sum(sp.Rational(1, 2) ** (3 - k) * g[k] ** 2 for k in (1, 2, 3)) / sp.Rational(7, 4)) == 0)
    # The step with beta1 = 0 (m̂_t = g_t), eps = 0 and the annealed rate alpha/sqrt(t).
    sum_sq = sp.Symbol("S_t", positive=True)  # Σ g_i², positive once some g_i != 0
    g_t = sp.Symbol("g_t", real=True)
    annealed = (alpha / sp.sqrt(t)) * g_t / sp.sqrt(sum_sq / t)
    adagrad = alpha * g_t / sp.sqrt(sum_sq)
    _claim(sp.simplify(annealed - adagrad) == 0)
    return AdagradLimit(
        weight=weight,
        weight_limit=weight_limit,
        uncorrected_weight_limit=uncorrected,
        vhat_limit=vhat_limit,
        annealed_step=adagrad.subs(sum_sq, sp.Sum(g[i] ** 2, (i, 1, t))),
        symbols=dict(beta2=beta2, alpha=alpha, t=t, i=i, g=g, S=sum_sq, g_t=g_t),
    )


# --- What v̂ estimates: a diagonal preconditioner and the Fisher information ---------------------


@dataclass(frozen=True)
class FisherReading:
    """v̂ as an estimate of the Fisher information, worked out on a linear-Gaussian model.

    Model: y = w*·x + e with x ~ N(0, τ²), e ~ N(0, σ²); per-example loss ℓ = (y − w·x)²/(2σ²)
    (the negative log-likelihood up to a constant); the current weight is w = w* + δ.
    """

    per_example_gradient: sp.Expr
    """g = ∂ℓ/∂w = −(y − w·x)·x/σ²."""
    hessian: sp.Expr
    """E[∂²ℓ/∂w²] = τ²/σ², the same at every w (the loss is quadratic in w)."""
    mean_gradient: sp.Expr
    """E[g] = δ·τ²/σ², the full-batch gradient."""
    second_moment: sp.Expr
    """E[g²] = τ²/σ² + 3δ²τ⁴/σ⁴: what v̂ estimates (the empirical Fisher for one example)."""
    excess_over_hessian: sp.Expr
    """E[g²] − E[∂²ℓ] = 3δ²τ⁴/σ⁴: zero only at the optimum δ = 0."""
    adam_step_at_optimum: sp.Expr
    """α·E[g]/√E[g²] near δ = 0 to first order: α·δ·τ/σ, i.e. the gradient divided by √H."""
    newton_step: sp.Expr
    """E[g]/H = δ: the Newton step lands on w* in one step."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_fisher_reading() -> FisherReading:
    """Derive what E[g²] (v̂'s target) is on a linear-Gaussian model, and where it equals curvature."""
    from sympy.stats import E, Normal

    tau, sigma, alpha = sp.symbols("tau sigma alpha", positive=True)
    delta, w_star = sp.symbols("delta w_star", real=True)
    x, e = Normal("x", 0, tau), Normal("e", 0, sigma)
    w = w_star + delta
    y = w_star * x + e
    loss = (y - w * x) ** 2 / (2 * sigma**2)
    w_sym = sp.Symbol("w", real=True)
    grad = sp.diff(loss.subs(w_star + delta, w_sym), w_sym).subs(w_sym, w)
    _claim(sp.simplify(grad - (-(y - w * x) * x / sigma**2)) == 0)
    hessian = sp.simplify(E(sp.diff(((y - w_sym * x) ** 2 / (2 * sigma**2)), w_sym, 2)))
    _claim(sp.simplify(hessian - tau**2 / sigma**2) == 0)
    mean_grad = sp.simplify(E(grad))
    _claim(sp.simplify(mean_grad - delta * tau**2 / sigma**2) == 0)
    second = sp.simplify(E(grad**2))
    _claim(sp.simplify(second - (tau**2 / sigma**2 + 3 * delta**2 * tau**4 / sigma**4)) == 0)
    excess = sp.simplify(second - hessian)
    _claim(sp.simplify(excess - 3 * delta**2 * tau**4 / sigma**4) == 0)
    _claim(excess.subs(delta, 0) == 0)  # at the optimum: E[g²] = Fisher = expected Hessian
    adam_step = sp.series(alpha * mean_grad / sp.sqrt(second), delta, 0, 2).removeO()
    _claim(sp.simplify(adam_step - alpha * delta * tau / sigma) == 0)
    newton = sp.simplify(mean_grad / hessian)
    _claim(newton == delta)
    return FisherReading(
        per_example_gradient=-(sp.Symbol("y") - sp.Symbol("w") * sp.Symbol("x")) * sp.Symbol("x") / sigma**2,
        hessian=hessian, mean_gradient=mean_grad, second_moment=second, excess_over_hessian=excess,
        adam_step_at_optimum=adam_step, newton_step=newton,
        symbols=dict(tau=tau, sigma=sigma, alpha=alpha, delta=delta),
    )


# --- Invariance to gradient rescaling ---------------------------------------------------------


@dataclass(frozen=True)
class RescalingInvariance:
    """Adam's update under g → c·g and g → D·g, with and without ε, and under w' = k·w.

    ``r`` is c·√v̂/ε, the rescaled gradient's RMS in units of ε; ``r1`` is √v̂/ε before rescaling.
    """

    m_closed_form: sp.Expr
    """m_t = (1−β1)·Σ β1^(t−i)·g_i for symbolic t (unevaluated sum)."""
    v_closed_form: sp.Expr
    """v_t = (1−β2)·Σ β2^(t−i)·g_i²."""
    m_factor: sp.Expr
    """m_t(c·g)/m_t(g) = c, for symbolic t (and so for m̂_t)."""
    v_factor: sp.Expr
    """v_t(c·g)/v_t(g) = c², for symbolic t (and so for v̂_t)."""
    update: sp.Expr
    """Δ = −α·m̂/(√v̂ + ε) in terms of the symbols m̂, v̂."""
    scaled_update: sp.Expr
    """Δ with m̂ → c·m̂, v̂ → c²·v̂ (before cancelling c)."""
    update_factor_eps0: sp.Expr
    """Δ(c·g)/Δ(g) with ε = 0: exactly 1 for every c > 0."""
    update_factor_negative_c: sp.Expr
    """The same for c < 0: −1, the step reverses (this is why c > 0 is required)."""
    sequence_length: int
    """n, the number of symbolic gradients g_1..g_n in the explicit check."""
    explicit_update: sp.Expr
    """Δ_n written out in g_1..g_n (ε = 0), the same after g_i → c·g_i."""
    coordinates: int
    """Number of coordinates in the explicit diagonal check."""
    coupling_free: bool
    """True: ∂Δ_j/∂g_{i,k} = 0 for k ≠ j, so each coordinate only sees its own gradients."""
    non_diagonal_matrix: sp.Matrix
    """A positive (but not diagonal) matrix M used as a counterexample."""
    non_diagonal_first_steps: tuple
    """(Δ_1(g)/α, Δ_1(M·g)/α) at t = 1 for g = (1, −2): different, so no invariance under M."""
    ratio_to_invariant: sp.Expr
    """Δ(c·g; ε)/Δ(ε = 0) = r/(1 + r): the exact effect of ε."""
    relative_deviation: sp.Expr
    """1 − r/(1+r) = 1/(1+r): how far the step falls short of the invariant step."""
    ratio_between_scales: sp.Expr
    """Δ(c·g; ε)/Δ(g; ε) = c·(1 + r1)/(1 + c·r1) (r1 = √v̂/ε)."""
    ratio_to_sgd: sp.Expr
    """Δ(c·g; ε) / (−(α/ε)·c·m̂) = 1/(1 + r): for r → 0 Adam is momentum SGD with lr α/ε."""
    r_invariant_within: sp.Expr
    """Smallest r for which the step is within a fraction δ of the invariant step: (1−δ)/δ."""
    r_sgd_within: sp.Expr
    """Largest r for which the step is within δ of SGD with lr α/ε: δ/(1−δ)."""
    series_large_r: sp.Expr
    """r/(1+r) = 1 − 1/r + 1/r² + O(1/r³)."""
    series_small_r: sp.Expr
    """r/(1+r) = r − r² + O(r³)."""
    sgd_update_factor: sp.Expr
    """SGD's Δ(c·g)/Δ(g) = c: no invariance."""
    reparam_gradient_factor: sp.Expr
    """d f(w'/k)/dw' divided by f'(w): 1/k (chain rule)."""
    adam_equivalent_lr: sp.Expr
    """The w'-run (w' = k·w) with lr k·α and eps ε/k is, step for step, the w-run with (α, ε)."""
    adam_equivalent_eps: sp.Expr
    """ε/k (see ``adam_equivalent_lr``)."""
    adam_fixed_eps_implied_eps: sp.Expr
    """The w'-run with lr k·α and the *same* ε is the w-run with eps k·ε."""
    adam_fixed_eps_ratio: sp.Expr
    """Its step divided by the w-run's step: (√v̂ + ε)/(√v̂ + k·ε) (in the w-run's v̂)."""
    sgd_equivalent_lr: sp.Expr
    """The w'-run of SGD with lr k²·α is the w-run with lr α."""
    relu_step_factors: dict
    """Under (w, a) → (k·w, a/k), the B-run's step in A's coordinates over A's step, per
    optimizer and parameter: {'SGD': (1/k², k²), 'Adam': (1/k, k)}; invariance needs (1, 1)."""
    relu_function_change: dict
    """First-order change of f = a·w·x after one step, for parameterisations A and B:
    {'SGD': (δf_A, δf_B), 'Adam': (δf_A, δf_B)} (Adam's first step, ε = 0, residual e > 0)."""
    relu_equal_only_at: dict
    """The k > 0 at which δf_B = δf_A, per optimizer: {1, a/w} for both (k = a/w swaps w and a)."""
    ema_from_start: sp.Expr
    """An EMA y_k = β·y_{k−1} + (1−β)·u with constant input u from y_0: β^k·y_0 + (1−β^k)·u."""
    scale_jump_step_ratio: sp.Expr
    """Steady Adam (constant g, long after the start, ε = 0) whose gradient scale jumps by a factor
    s at k = 0 and is not unscaled: m̂/√v̂ after k steps, (s + (1−s)β1^k)/√(s² + (1−s²)β2^k);
    an unscaled run has 1 throughout."""
    loss_scale_equivalents: dict
    """Adam fed S·g (a fixed scale S that is never divided out) that adds the L2 term λθ itself
    sees S·g + λθ = S·(g + (λ/S)·θ): exactly Adam on g with eps → ε/S and L2 weight decay λ → λ/S
    (lr unchanged); SGD gets lr → S·α."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_rescaling_invariance() -> RescalingInvariance:
    """Derive the invariance of Adam's step to positive diagonal gradient rescaling, and its limits."""
    alpha, eps, beta1, beta2, c, k = sp.symbols("alpha epsilon beta_1 beta_2 c k", positive=True)
    t = sp.Symbol("t", integer=True, positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    g = sp.IndexedBase("g", real=True)
    mhat = sp.Symbol(r"\hat{m}", real=True)
    vhat = sp.Symbol(r"\hat{v}", positive=True)
    r, r1, delta = sp.symbols("r r_1 delta", positive=True)

    # 1. The moments for symbolic t: linear (m) and quadratic (v) in the gradients.
    def m_of(scale):
        return sp.Sum((1 - beta1) * beta1 ** (t - i) * scale * g[i], (i, 1, t))

    def v_of(scale):
        return sp.Sum((1 - beta2) * beta2 ** (t - i) * (scale * g[i]) ** 2, (i, 1, t))

    _claim(sp.simplify(m_of(c) - c * m_of(1)) == 0)
    _claim(sp.simplify(v_of(c) - c**2 * v_of(1)) == 0)
    # The same by induction on the recursions: if m'_{t-1} = c·m_{t-1} then m'_t = c·m_t.
    m_prev, v_prev, g_t = sp.symbols("m_{t-1} v_{t-1} g_t", real=True)
    _claim(sp.expand(beta1 * c * m_prev + (1 - beta1) * c * g_t
                     - c * (beta1 * m_prev + (1 - beta1) * g_t)) == 0)
    _claim(sp.expand(beta2 * c**2 * v_prev + (1 - beta2) * (c * g_t) ** 2
                     - c**2 * (beta2 * v_prev + (1 - beta2) * g_t**2)) == 0)
    # The bias corrections divide both sides by the same c-free numbers: m̂ -> c·m̂, v̂ -> c²·v̂.

    # 2. The update: with eps = 0 the factor c cancels (sqrt(c²·v̂) = c·√v̂ needs c > 0).
    def update(m_, v_, e):
        return -alpha * m_ / (sp.sqrt(v_) + e)

    base = update(mhat, vhat, 0)
    scaled = update(c * mhat, c**2 * vhat, eps)
    factor0 = sp.simplify(scaled.subs(eps, 0) / base)
    _claim(factor0 == 1)
    c_neg = sp.Symbol("c", negative=True)
    factor_neg = sp.simplify(update(c_neg * mhat, c_neg**2 * vhat, 0) / base)
    _claim(factor_neg == -1)

    # 3. Explicitly for n symbolic gradients: the whole step, before any cancelling.
    n = 4
    gs = sp.symbols(f"g_1:{n + 1}", real=True)

    def explicit(seq, e=0):
        m_n = sum((1 - beta1) * beta1 ** (n - j) * seq[j - 1] for j in range(1, n + 1))
        v_n = sum((1 - beta2) * beta2 ** (n - j) * seq[j - 1] ** 2 for j in range(1, n + 1))
        return update(m_n / (1 - beta1**n), v_n / (1 - beta2**n), e)

    explicit_update = explicit(gs)
    _claim(sp.simplify(explicit([c * x for x in gs]) - explicit_update) == 0)

    # 4. Diagonal D: Adam works coordinate by coordinate. With a gradient matrix G (steps x
    # coordinates), coordinate j of the step depends on column j only, so D = diag(d_j) acts on
    # coordinate j as the scalar c = d_j above.
    ncoord, nsteps = 3, 3
    G = sp.Matrix(nsteps, ncoord, lambda a, b: sp.Symbol(f"g_{{{a + 1},{b + 1}}}", real=True))
    d = sp.symbols(f"d_1:{ncoord + 1}", positive=True)

    def adam_vector(Gm):
        out = []
        for j in range(ncoord):
            col = list(Gm[:, j])
            m_n = sum((1 - beta1) * beta1 ** (nsteps - s) * col[s - 1] for s in range(1, nsteps + 1))
            v_n = sum((1 - beta2) * beta2 ** (nsteps - s) * col[s - 1] ** 2 for s in range(1, nsteps + 1))
            out.append(update(m_n / (1 - beta1**nsteps), v_n / (1 - beta2**nsteps), 0))
        return sp.Matrix(out)

    step_vec = adam_vector(G)
    scaled_vec = adam_vector(G * sp.diag(*d))  # row s of G is g_s; g_s -> D g_s scales column j by d_j
    _claim(all(sp.simplify(a_ - b_) == 0 for a_, b_ in zip(scaled_vec, step_vec)))
    coupling_free = all(
        sp.diff(step_vec[j], G[s, kk]) == 0
        for j in range(ncoord) for s in range(nsteps) for kk in range(ncoord) if kk != j
    )
    _claim(coupling_free)

    # A non-diagonal positive matrix breaks it: at t = 1 the step is -alpha·sign(g) per coordinate.
    M = sp.Matrix([[1, 1], [0, 1]])
    g0 = sp.Matrix([1, -2])

    def first_step(vec):
        return sp.Matrix([update(x, x**2, 0) / alpha for x in vec])

    first_g, first_Mg = first_step(g0), first_step(M * g0)
    _claim(first_g == sp.Matrix([-1, 1]) and first_Mg == sp.Matrix([1, 1]))
    _claim(first_g != first_Mg)

    # 5. With eps > 0: compare with the invariant (eps = 0) step; r = c·√v̂/ε.
    ratio_inv = sp.simplify((scaled / base).subs(vhat, (r * eps / c) ** 2))
    _claim(sp.simplify(ratio_inv - r / (1 + r)) == 0)
    deviation = sp.simplify(1 - ratio_inv)
    _claim(sp.simplify(deviation - 1 / (1 + r)) == 0)
    between = sp.simplify((scaled / update(mhat, vhat, eps)).subs(vhat, (r1 * eps) ** 2))
    _claim(sp.simplify(between - c * (1 + r1) / (1 + c * r1)) == 0)
    sgd_like = -(alpha / eps) * c * mhat
    to_sgd = sp.simplify((scaled / sgd_like).subs(vhat, (r * eps / c) ** 2))
    _claim(sp.simplify(to_sgd - 1 / (1 + r)) == 0)
    _claim(sp.limit(ratio_inv, r, sp.oo) == 1 and sp.limit(to_sgd, r, 0) == 1)
    # Thresholds for a tolerance delta in (0, 1): both functions are monotone in r.
    r_inv = sp.solve(sp.Eq(1 / (1 + r), delta), r)
    r_sgd = sp.solve(sp.Eq(r / (1 + r), delta), r)
    _claim(len(r_inv) == 1 and sp.simplify(r_inv[0] - (1 - delta) / delta) == 0)
    _claim(len(r_sgd) == 1 and sp.simplify(r_sgd[0] - delta / (1 - delta)) == 0)
    _claim(sp.diff(r / (1 + r), r).equals(1 / (1 + r) ** 2))  # increasing in r
    big = sp.series(r / (1 + r), r, sp.oo, 3).removeO()
    small = sp.series(r / (1 + r), r, 0, 3).removeO()
    _claim(sp.simplify(big - (1 - 1 / r + 1 / r**2)) == 0)
    _claim(sp.simplify(small - (r - r**2)) == 0)

    # 6. SGD: Δ = -α·g scales with c.
    grad_sym = sp.Symbol("g", real=True, nonzero=True)
    sgd_factor = sp.simplify((-alpha * c * grad_sym) / (-alpha * grad_sym))
    _claim(sgd_factor == c)

    # 7. Parameter scale: w' = k·w, f'(w') = f(w'/k), so the gradient shrinks by k.
    f = sp.Function("f")
    w, wp = sp.symbols("w w'", real=True)
    dfp = sp.diff(f(wp / k), wp).subs(wp, k * w).doit()
    grad_factor = sp.simplify(dfp / sp.diff(f(w), w))
    _claim(grad_factor == 1 / k)
    # Adam on w' with (lr_p, eps_p) sees m̂/k and v̂/k²; its step in w-units is Δw'/k.
    lr_p, eps_p = sp.symbols("alpha' epsilon'", positive=True)
    step_wp_in_w = update(mhat / k, vhat / k**2, eps_p).subs(alpha, lr_p) / k
    step_w = update(mhat, vhat, eps)
    _claim(sp.simplify(step_wp_in_w.subs({lr_p: k * alpha, eps_p: eps / k}) - step_w) == 0)
    sol = sp.solve([sp.Eq(step_wp_in_w.subs(mhat, 1).subs(vhat, 1), step_w.subs(mhat, 1).subs(vhat, 1)),
                    sp.Eq(step_wp_in_w.subs(mhat, 1).subs(vhat, 4), step_w.subs(mhat, 1).subs(vhat, 4))],
                   [lr_p, eps_p], dict=True)
    _claim(sol == [{lr_p: k * alpha, eps_p: eps / k}], sol)  # the only choice that works for all v̂
    fixed = step_wp_in_w.subs({lr_p: k * alpha, eps_p: eps})
    _claim(sp.simplify(fixed - update(mhat, vhat, k * eps)) == 0)
    fixed_ratio = sp.simplify(fixed / step_w)
    _claim(sp.simplify(fixed_ratio - (sp.sqrt(vhat) + eps) / (sp.sqrt(vhat) + k * eps)) == 0)
    # SGD on w' with lr_p: Δw'/k = -lr_p·(g/k)/k.
    sgd_lr = sp.solve(sp.Eq(-lr_p * (grad_sym / k) / k, -alpha * grad_sym), lr_p)
    _claim(sgd_lr == [k**2 * alpha])

    # 8. The "ill-conditioning problem": f = a·relu(w·x) with w·x > 0 is f = a·w·x, and
    # (w, a) -> (k·w, a/k) computes the same function. Loss ½(f − y)², residual e = f − y.
    a_, w_, x_, e_ = sp.symbols("a w x e", positive=True)
    fA = a_ * w_ * x_
    wB, aB = k * w_, a_ / k
    _claim(sp.simplify(aB * wB * x_ - fA) == 0)
    gA = (e_ * a_ * x_, e_ * w_ * x_)  # dL/dw, dL/da in A
    gB = (e_ * aB * x_, e_ * wB * x_)  # in B: dL/dw_B = g_w/k, dL/da_B = k·g_a
    _claim(sp.simplify(gB[0] - gA[0] / k) == 0 and sp.simplify(gB[1] - gA[1] * k) == 0)
    eta = alpha
    steps = {
        "SGD": ((-eta * gA[0], -eta * gA[1]), (-eta * gB[0], -eta * gB[1])),
        # Adam's first step with eps = 0 is -alpha·sign(g) per coordinate, in A and in B alike
        "Adam": (tuple(update(x, x**2, 0) for x in gA), tuple(update(x, x**2, 0) for x in gB)),
    }
    factors, changes, equal_at = {}, {}, {}
    for name, (dA, dB) in steps.items():
        # B's steps in A's coordinates: Δw_B/k and k·Δa_B
        back = (sp.simplify(dB[0] / k / dA[0]), sp.simplify(dB[1] * k / dA[1]))
        factors[name] = back
        dfA = sp.expand(a_ * x_ * dA[0] + w_ * x_ * dA[1])  # ∂f/∂w·Δw + ∂f/∂a·Δa
        dfB = sp.expand(aB * x_ * dB[0] + wB * x_ * dB[1])
        changes[name] = (sp.factor(dfA), sp.factor(dfB))
        equal_at[name] = set(sp.solve(sp.Eq(dfA, dfB), k))
    _claim(factors["SGD"] == (1 / k**2, k**2) and factors["Adam"] == (1 / k, k))
    _claim(equal_at["SGD"] == {1, a_ / w_} and equal_at["Adam"] == {1, a_ / w_})

    # 9. Loss scaling. First an EMA with constant input u from a start y0, by induction on k.
    b, u, y0 = sp.symbols("beta u y_0", positive=True)
    kk = sp.Symbol("k", integer=True, nonnegative=True)
    ema = b**kk * y0 + (1 - b**kk) * u
    _claim(sp.simplify(ema.subs(kk, 0) - y0) == 0)
    _claim(sp.simplify(b * ema.subs(kk, kk - 1) + (1 - b) * u - ema) == 0)
    # Steady state before the jump: m = g, v = g² (constant g > 0, bias corrections ≈ 1).
    sj, gpos = sp.symbols("s g", positive=True)
    m_k = ema.subs({b: beta1, y0: gpos, u: sj * gpos})
    v_k = ema.subs({b: beta2, y0: gpos**2, u: sj**2 * gpos**2})
    jump = sp.simplify(m_k / sp.sqrt(v_k))
    jump_expected = (sj + (1 - sj) * beta1**kk) / sp.sqrt(sj**2 + (1 - sj**2) * beta2**kk)
    _claim(sp.simplify(jump - jump_expected) == 0)
    _claim(sp.simplify(jump_expected.subs(kk, 0) - 1) == 0)
    # A fixed scale S with coupled weight decay: S·g + λθ = S·(g + (λ/S)·θ), and Adam maps a
    # gradient scale S into eps -> eps/S: update(S·m̂, S²·v̂, ε) = update(m̂, v̂, ε/S).
    S_, lam, theta = sp.symbols("S lambda theta", positive=True)
    _claim(sp.simplify(update(S_ * mhat, S_**2 * vhat, eps) - update(mhat, vhat, eps / S_)) == 0)
    gg = sp.Symbol("g", real=True)
    _claim(sp.expand(S_ * gg + lam * theta - S_ * (gg + (lam / S_) * theta)) == 0)
    equivalents = {"lr": alpha, "eps": eps / S_, "weight_decay": lam / S_, "sgd_lr": S_ * alpha}

    return RescalingInvariance(
        m_closed_form=m_of(1),
        v_closed_form=v_of(1),
        m_factor=sp.simplify(m_of(c) / m_of(1)),
        v_factor=sp.simplify(v_of(c) / v_of(1)),
        update=update(mhat, vhat, eps),
        scaled_update=scaled,
        update_factor_eps0=factor0,
        update_factor_negative_c=factor_neg,
        sequence_length=n,
        explicit_update=explicit_update,
        coordinates=ncoord,
        coupling_free=coupling_free,
        non_diagonal_matrix=M,
        non_diagonal_first_steps=(first_g, first_Mg),
        ratio_to_invariant=ratio_inv,
        relative_deviation=deviation,
        ratio_between_scales=between,
        ratio_to_sgd=to_sgd,
        r_invariant_within=r_inv[0],
        r_sgd_within=r_sgd[0],
        series_large_r=big,
        series_small_r=small,
        sgd_update_factor=sgd_factor,
        reparam_gradient_factor=grad_factor,
        adam_equivalent_lr=k * alpha,
        adam_equivalent_eps=eps / k,
        adam_fixed_eps_implied_eps=k * eps,
        adam_fixed_eps_ratio=fixed_ratio,
        sgd_equivalent_lr=sgd_lr[0],
        relu_step_factors=factors,
        relu_function_change=changes,
        relu_equal_only_at=equal_at,
        ema_from_start=ema,
        scale_jump_step_ratio=jump_expected,
        loss_scale_equivalents=equivalents,
        symbols=dict(alpha=alpha, eps=eps, beta1=beta1, beta2=beta2, c=c, k=k, t=t, i=i, g=g,
                     mhat=mhat, vhat=vhat, r=r, r1=r1, delta=delta, a=a_, w=w_, x=x_, e=e_,
                     gradients=gs, d=d, s=sj, steps_after=kk, S=S_, lam=lam),
    )


def adam_step_factor(r: ArrayLike) -> np.ndarray:
    """r/(1 + r): Adam's step with ε > 0 over the ε = 0 step, for r = (gradient RMS)/ε.

    The expression :func:`derive_rescaling_invariance` derives, for NumPy arrays or floats.
    """
    r = np.asarray(r, dtype=float)
    if np.any(r < 0):
        raise ValueError("Invalid r: must be >= 0")
    return r / (1.0 + r)


# --- The step size as a trust region: the paper's bound and the exact supremum ----------------


def _require_betas(beta1: float, beta2: float) -> None:
    for index, (name, value) in enumerate((("beta1", beta1), ("beta2", beta2))):
        if not 0.0 <= value < 1.0:  # also rejects NaN
            raise ValueError(f"Invalid beta parameter at index {index} ({name}): {value}")


def _require_step(t: int) -> None:
    import numbers

    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 1:
        raise ValueError(f"Invalid step t: {t!r} (need an integer t >= 1)")


def _one_minus_power(base: float, t: int) -> float:
    """1 - base**t without cancellation when base is close to 1 (0 <= base)."""
    if base == 0.0:
        return 1.0
    return -math.expm1(t * math.log(base))


@functools.lru_cache(maxsize=None)
def _geometric_series(t):
    """Σ_{k=0}^{t-1} q^k for q != 1, summed by SymPy, as a function of a fresh symbol q."""
    q = sp.Dummy("q", positive=True)
    k = sp.Dummy("k", integer=True, nonnegative=True)
    total = sp.summation(q**k, (k, 0, t - 1))
    if isinstance(total, sp.Piecewise):  # drop the q = 1 branch: every ratio used here is != 1
        branches = {cond: value for value, cond in total.args}
        _claim(all(isinstance(cond, sp.Eq) for cond in branches if cond is not sp.true))
        total = branches[sp.true]
    _claim(sp.simplify(total - (1 - q**t) / (1 - q)) == 0)
    return q, total


def _generic_sum(summand, limits):
    """Σ_{i=1}^{t} of a geometric summand c·ρ^(t-i) (ρ != 1), in closed form.

    The summand is checked to be geometric in t - i (ratio ρ between consecutive terms, first term
    c at i = t); reindexing k = t - i turns the sum into c·Σ_{k<t} ρ^k, which SymPy sums once for a
    generic ratio (summing each summand directly gives the same result, only far more slowly).
    """
    i, lower, t = limits
    _claim(lower == 1)
    first = sp.simplify(summand.subs(i, t))
    ratio = sp.simplify(summand.subs(i, t - 1) / first)
    difference = summand - first * ratio ** (t - i)
    difference = sp.powsimp(sp.expand_power_base(sp.powdenest(difference, force=True), force=True), force=True)
    _claim(sp.simplify(difference) == 0)
    q, series = _geometric_series(t)
    return sp.simplify(first * series.subs(q, ratio))


def _assert_equal_nonnegative(x, y) -> None:
    """Check x == y for two expressions that are non-negative on the domain 0 < beta < 1.

    SymPy cannot see the signs of the radicands, so the square roots are compared through their
    squares; equal squares of two non-negative numbers mean equal numbers.
    """
    _claim(sp.simplify(sp.expand(x**2 - y**2)) == 0 or sp.simplify(x**2 - y**2) == 0)


def paper_step_bound(beta1: float, beta2: float) -> float:
    """The paper's statement on |Δ_t|/α (Kingma & Ba 2015, Section 2.1), as stated.

    ``(1 - beta1) / sqrt(1 - beta2)`` when ``1 - beta1 > sqrt(1 - beta2)``, else 1. The paper
    argues for it in typical cases; :func:`worst_case_step_ratio` gives the exact supremum, which
    is larger whenever ``0 < beta1`` and ``beta1 != beta2``.
    """
    _require_betas(beta1, beta2)
    sparse = (1.0 - beta1) / math.sqrt(1.0 - beta2)
    return sparse if (1.0 - beta1) > math.sqrt(1.0 - beta2) else 1.0


def worst_case_step_ratio(beta1: float, beta2: float, t: int | None = None) -> float:
    """Exact supremum of |m̂_t|/sqrt(v̂_t) over all gradient sequences g_1..g_t (ε = 0).

    With q = beta1²/beta2 the supremum is
    ``(1-beta1)/(1-beta1**t) * sqrt((1-beta2**t)/(1-beta2) * (1-q**t)/(1-q))`` (``t`` in place of
    ``(1-q**t)/(1-q)`` when q = 1); see :func:`derive_step_bound`. ``t=None`` gives the limit
    t → ∞: ``(1-beta1)/sqrt((1-beta2)*(1-q))`` if q < 1, else ``math.inf``.
    """
    _require_betas(beta1, beta2)
    if t is not None:
        _require_step(t)
    if beta2 == 0.0:
        # v̂_t = g_t²: bounded (by 1) only when m̂_t = g_t too, or at the first step.
        return 1.0 if (beta1 == 0.0 or t == 1) else math.inf
    one_minus_q = (beta2 - beta1 * beta1) / beta2
    if t is None:
        if one_minus_q <= 0.0:
            return math.inf
        return (1.0 - beta1) / math.sqrt((1.0 - beta2) * one_minus_q)
    q = beta1 * beta1 / beta2
    try:
        if one_minus_q == 0.0:
            geometric = float(t)
        else:
            geometric = _one_minus_power(q, t) / one_minus_q
    except OverflowError:
        return math.inf
    scale = (1.0 - beta1) / _one_minus_power(beta1, t)
    return scale * math.sqrt(_one_minus_power(beta2, t) / (1.0 - beta2) * geometric)


def spike_train_step_ratio(beta1: float, beta2: float, k: int, t: int | None = None) -> float:
    """|m̂_t|/sqrt(v̂_t) (ε = 0) after k equal gradients at steps t-k+1..t and zeros before them.

    ``(1-beta1**k)/(1-beta1**t) * sqrt((1-beta2**t)/(1-beta2**k))`` (see :func:`derive_step_bound`);
    ``t=None`` gives the limit of a long quiet history, ``(1-beta1**k)/sqrt(1-beta2**k)``. One spike
    (k = 1) is the paper's case of severe sparsity; at the defaults two adjacent spikes give 4.25
    and three 4.95, more than the paper's 3.16.
    """
    _require_betas(beta1, beta2)
    _require_step(k)
    if t is not None:
        _require_step(t)
        if t < k:
            raise ValueError(f"Invalid t: {t} (need t >= k = {k})")
    ratio = _one_minus_power(beta1, k) / math.sqrt(_one_minus_power(beta2, k))
    if t is not None:
        ratio *= math.sqrt(_one_minus_power(beta2, t)) / _one_minus_power(beta1, t)
    return ratio


def worst_case_gradients(beta1: float, beta2: float, t: int) -> np.ndarray:
    """The gradient sequence g_1..g_t (as a float64 array) that attains the supremum at step t.

    g_i = (beta1/beta2)**(t-i): proportional to a_i/b_i, the ratio of the weights of g_i in m̂_t and
    in v̂_t, which is the equality case of the Cauchy-Schwarz inequality. Any positive multiple
    attains it too (Adam is invariant to the scale).
    """
    _require_betas(beta1, beta2)
    _require_step(t)
    if beta2 == 0.0 and beta1 > 0.0 and t > 1:
        raise ValueError("beta2 = 0 with beta1 > 0: the supremum is infinite and not attained")
    if beta2 == 0.0:
        return np.eye(1, t, t - 1).ravel()
    return (beta1 / beta2) ** np.arange(t - 1, -1, -1, dtype=np.float64)


def step_ratio(gradients: ArrayLike, beta1: float, beta2: float) -> np.ndarray:
    """m̂_t/sqrt(v̂_t) (ε = 0) after the gradients g_1..g_t along axis 0, by Adam's recurrences.

    An independent reference for :func:`worst_case_step_ratio` that does not use the weights.
    """
    _require_betas(beta1, beta2)
    g = np.asarray(gradients, dtype=np.float64)
    m = np.zeros(g.shape[1:])
    v = np.zeros(g.shape[1:])
    for g_t in g:
        m = beta1 * m + (1.0 - beta1) * g_t
        v = beta2 * v + (1.0 - beta2) * g_t * g_t
    t = g.shape[0]
    m_hat = m / _one_minus_power(beta1, t)
    v_hat = v / _one_minus_power(beta2, t)
    return m_hat / np.sqrt(v_hat)


@dataclass(frozen=True)
class StepBoundDerivation:
    """The exact supremum of |m̂_t|/sqrt(v̂_t) and the paper's statement, as SymPy objects.

    Every field is an equation (``sp.Eq``) or expression whose correctness
    :func:`derive_step_bound` asserted before returning it.
    """

    weights: sp.Eq  # m̂_t/sqrt(v̂_t) = Σ a_i g_i / sqrt(Σ b_i g_i²)
    a_i: sp.Eq
    b_i: sp.Eq
    weights_sum_to_one: tuple  # (Σ a_i = 1, Σ b_i = 1)
    quadratic: sp.Eq  # Σ b_i (g_i - λ a_i/b_i)² = B - 2λA + λ²C
    quadratic_minimum: sp.Eq  # value at λ = A/C: B - A²/C
    cauchy_schwarz: sp.Expr  # (A/sqrt(B))² <= C as an sp.Le
    attaining_ratio: sp.Eq  # the ratio at g_i = c a_i/b_i equals sqrt(C)
    attaining_gradient: sp.Eq  # a_i/b_i ∝ (beta1/beta2)^(t-i)
    term: sp.Eq  # a_i²/b_i = K_t q^(t-i)
    geometric_sum: sp.Eq  # Σ_{k=0}^{t-1} q^k, Piecewise
    supremum: sp.Eq  # the closed form for q != 1
    supremum_at_equality: sp.Eq  # the closed form for q = 1
    supremum_limit: sp.Eq  # t → ∞ when beta1² < beta2
    below_limit: sp.Eq  # 1 - S_t²/S_∞² times (1 - beta1^t)², a perfect square: S_t <= S_∞
    growth_at_equality: sp.Eq  # lim S_t/sqrt(t) when beta1² = beta2
    growth_above: sp.Eq  # lim S_t / q^(t/2) when beta1² > beta2
    paper_sparse: sp.Eq  # the ratio for a single spike at step t
    paper_sparse_limit: sp.Eq  # its limit: the paper's (1-beta1)/sqrt(1-beta2)
    excess_factor: sp.Eq  # supremum limit / paper's figure
    constant_ratio: sp.Eq  # constant gradients give exactly 1
    spike_train: sp.Eq  # the ratio after k equal spikes ending at step t, zero before
    spike_train_limit: sp.Eq  # its limit t → ∞ (a long quiet history): (1-beta1^k)/sqrt(1-beta2^k)
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_step_bound() -> StepBoundDerivation:
    """Derive the exact supremum of |m̂_t|/sqrt(v̂_t) over gradient sequences (ε = 0).

    Proof, each step asserted: (1) m̂_t/sqrt(v̂_t) = A/sqrt(B) with A = Σ a_i g_i, B = Σ b_i g_i²;
    (2) for every λ, 0 <= Σ b_i (g_i - λ a_i/b_i)² = B - 2λA + λ²C with C = Σ a_i²/b_i; at the
    minimiser λ = A/C this reads 0 <= B - A²/C, i.e. A²/B <= C (Cauchy-Schwarz), with equality iff
    every term vanishes: g_i = λ a_i/b_i; (3) that sequence gives A/sqrt(B) = sqrt(C) exactly, so
    sqrt(C) is the supremum and is attained; (4) C is a geometric sum in q = beta1²/beta2, summed in
    closed form for symbolic t; (5) the limits t → ∞.
    """
    b1, b2 = sp.symbols("beta_1 beta_2", positive=True)
    t = sp.Symbol("t", integer=True, positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    lam = sp.Symbol("lambda", real=True)
    c = sp.Symbol("c", positive=True)
    q = sp.Symbol("q", positive=True)
    g = sp.IndexedBase("g", real=True)
    a = sp.IndexedBase("a", positive=True)
    b = sp.IndexedBase("b", positive=True)

    a_expr = (1 - b1) * b1 ** (t - i) / (1 - b1**t)
    b_expr = (1 - b2) * b2 ** (t - i) / (1 - b2**t)

    # Adam's moments, unrolled and bias-corrected: m̂_t = Σ a_i g_i, v̂_t = Σ b_i g_i².
    m_hat = (1 - b1) * sp.Sum(b1 ** (t - i) * g[i], (i, 1, t)) / (1 - b1**t)
    v_hat = (1 - b2) * sp.Sum(b2 ** (t - i) * g[i] ** 2, (i, 1, t)) / (1 - b2**t)
    _claim(sp.simplify(m_hat - sp.Sum(a_expr * g[i], (i, 1, t))) == 0)
    _claim(sp.simplify(v_hat - sp.Sum(b_expr * g[i] ** 2, (i, 1, t))) == 0)
    sums_to_one = []
    for w in (a_expr, b_expr):
        total = _generic_sum(w, (i, 1, t))
        _claim(sp.simplify(total - 1) == 0)
        sums_to_one.append(sp.Eq(sp.Sum(w, (i, 1, t)), total))

    A = sp.Sum(a[i] * g[i], (i, 1, t))
    B = sp.Sum(b[i] * g[i] ** 2, (i, 1, t))
    C = sp.Sum(a[i] ** 2 / b[i], (i, 1, t))

    # (2) The non-negative quadratic in λ and its minimum.
    squares = sp.Sum(b[i] * (g[i] - lam * a[i] / b[i]) ** 2, (i, 1, t))
    quadratic_rhs = B - 2 * lam * A + lam**2 * C
    _claim(sp.simplify(sp.expand(squares) - quadratic_rhs) == 0)
    Asym, Bsym, Csym = sp.symbols("A B C", positive=True)
    Q = Bsym - 2 * lam * Asym + lam**2 * Csym
    (lam_star,) = sp.solve(sp.diff(Q, lam), lam)
    _claim(sp.simplify(lam_star - Asym / Csym) == 0)
    _claim(sp.diff(Q, lam, 2) == 2 * Csym)  # positive: λ* is the minimiser
    q_min = sp.simplify(Q.subs(lam, lam_star))
    _claim(sp.simplify(q_min - (Bsym - Asym**2 / Csym)) == 0)
    # 0 <= B - A²/C  <=>  A²/B <= C, since B, C > 0.
    _claim(sp.simplify((Bsym - Asym**2 / Csym) * Csym / Bsym - (Csym - Asym**2 / Bsym)) == 0)

    # (3) Equality: g_i = c a_i/b_i attains sqrt(C).
    g_star = c * a[i] / b[i]
    A_star = sp.Sum(a[i] * g_star, (i, 1, t))
    B_star = sp.Sum(b[i] * g_star**2, (i, 1, t))
    _claim(sp.simplify(A_star / sp.sqrt(B_star) - sp.sqrt(C)) == 0)
    kappa = (1 - b1) * (1 - b2**t) / ((1 - b2) * (1 - b1**t))
    gradient_shape = kappa * (b1 / b2) ** (t - i)  # a_i/b_i = kappa_t (beta1/beta2)^(t-i)
    _claim(sp.simplify(sp.powsimp(sp.expand_power_base(a_expr / b_expr - gradient_shape, force=True), force=True)) == 0)

    # (4) C in closed form: a_i²/b_i = K_t q^(t-i), and Σ_{i=1}^t q^(t-i) = Σ_{k=0}^{t-1} q^k.
    K = (1 - b1) ** 2 * (1 - b2**t) / ((1 - b1**t) ** 2 * (1 - b2))
    term_diff = sp.powsimp(sp.expand_power_base(a_expr**2 / b_expr - K * (b1**2 / b2) ** (t - i), force=True), force=True)
    _claim(sp.simplify(term_diff) == 0)
    reindexed = sp.Sum(q ** (t - i), (i, 1, t)).change_index(i, t - i, k)
    _claim(reindexed == sp.Sum(q**k, (k, 0, t - 1)))
    geometric = sp.summation(q**k, (k, 0, t - 1))
    general = (1 - q**t) / (1 - q)
    _claim(isinstance(geometric, sp.Piecewise))
    _claim(sp.simplify(geometric.args[0][0] - t) == 0 and geometric.args[0][1] == sp.Eq(q, 1))
    _claim(sp.simplify(geometric.args[1][0] - general) == 0)
    qv = b1**2 / b2
    S_t = (1 - b1) / (1 - b1**t) * sp.sqrt((1 - b2**t) * (1 - qv**t) / ((1 - b2) * (1 - qv)))
    _claim(sp.simplify(S_t**2 - K * general.subs(q, qv)) == 0)  # S_t = sqrt(C), both >= 0
    S_eq = (1 - b1) / (1 - b1**t) * sp.sqrt((1 - b2**t) * t / (1 - b2))
    _claim(sp.simplify(S_eq**2 - K * t) == 0)

    # (5) Limits. For 0 < β < 1 write β = 1/(1+h), h > 0: β^t → 0. The closed forms are continuous
    # functions F(β1^t, β2^t, q^t) at (0, 0, 0) (the denominators there are 1), so the limit is F(0, 0, 0).
    h = sp.Symbol("h", positive=True)
    _claim(sp.limit((1 + h) ** (-t), t, sp.oo) == 0)
    P1, P2, Pq = sp.symbols("P_1 P_2 P_q", nonnegative=True)
    powers = {b1**t: P1, b2**t: P2}
    S_F = ((1 - b1) / (1 - P1) * sp.sqrt((1 - P2) * (1 - Pq) / ((1 - b2) * (1 - qv))))
    _claim(sp.simplify(S_F.subs(Pq, qv**t).xreplace({P1: b1**t, P2: b2**t}) - S_t) == 0)
    limit_expr = (1 - b1) / sp.sqrt((1 - b2) * (1 - b1**2 / b2))
    _assert_equal_nonnegative(S_F.subs({P1: 0, P2: 0, Pq: 0}), limit_expr)
    # S_t <= S_∞ for every t: S_t²/S_∞² = (1-beta2^t)(1-q^t)/(1-beta1^t)², and with X = beta2^(t/2),
    # Y = q^(t/2) (so beta1^t = XY) the gap (1-XY)² - (1-X²)(1-Y²) is the square (X-Y)².
    ratio_sq = sp.simplify(S_t**2 / limit_expr**2)
    _claim(sp.simplify(ratio_sq - (1 - b2**t) * (1 - qv**t) / (1 - b1**t) ** 2) == 0)
    X, Y = sp.symbols("X Y", positive=True)
    gap = (1 - X * Y) ** 2 - (1 - X**2) * (1 - Y**2)
    _claim(sp.expand(gap - (X - Y) ** 2) == 0)
    _claim(sp.simplify(sp.powsimp((X * Y).subs({X: b2 ** (t / 2), Y: qv ** (t / 2)}), force=True) - b1**t) == 0)
    below_limit = sp.Eq((1 - b1**t) ** 2 - (1 - b2**t) * (1 - q**t), (b2 ** (t / 2) - q ** (t / 2)) ** 2)

    # q = 1: S_t/sqrt(t) = (1-b1)/(1-P1) sqrt((1-P2)/(1-b2)) -> (1-b1)/sqrt(1-b2).
    growth_eq_F = sp.simplify((S_eq / sp.sqrt(t)).xreplace(powers))
    _claim(not growth_eq_F.has(t))
    growth_eq = sp.simplify(growth_eq_F.subs({P1: 0, P2: 0}))
    _assert_equal_nonnegative(growth_eq, (1 - b1) / sp.sqrt(1 - b2))
    # q > 1: S_t² q^(-t) = K (q^(-t) - 1)/(1 - q) with q^(-t) -> 0.
    R = sp.Symbol("R", nonnegative=True)  # R = q^(-t)
    scaled_sq = K.xreplace(powers) * (R - 1) / (1 - q)
    _claim(sp.simplify(scaled_sq.subs(R, q ** (-t)) - K.xreplace(powers) * general / q**t) == 0)
    growth_above = (1 - b1) / sp.sqrt((1 - b2) * (q - 1))
    _claim(sp.simplify(scaled_sq.subs({P1: 0, P2: 0, R: 0}) - growth_above**2) == 0)

    # The paper's case of "severe sparsity": a single non-zero gradient, at step t.
    sparse = (1 - b1) * sp.sqrt(1 - b2**t) / ((1 - b1**t) * sp.sqrt(1 - b2))
    _assert_equal_nonnegative(a_expr.subs(i, t) / sp.sqrt(b_expr.subs(i, t)), sparse)
    paper_figure = (1 - b1) / sp.sqrt(1 - b2)
    sparse_limit = sp.simplify(sparse.xreplace(powers).subs({P1: 0, P2: 0}))
    _assert_equal_nonnegative(sparse_limit, paper_figure)
    excess = 1 / sp.sqrt(1 - b1**2 / b2)
    _assert_equal_nonnegative(limit_expr / paper_figure, excess)

    # A train of k equal spikes g at steps t-k+1..t after zeros: only the last k weights count.
    # With j = t - i, Σ_{j<k} (1-β)β^j = 1 - β^k (the geometric series), so m̂_t = g(1-β1^k)/(1-β1^t)
    # and v̂_t = g²(1-β2^k)/(1-β2^t).
    kk = sp.Symbol("k", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, nonnegative=True)
    spike_g = sp.Symbol("g", positive=True)
    last_k = {}
    for name, beta in (("m", b1), ("v", b2)):
        total = sp.summation((1 - beta) * beta**j, (j, 0, kk - 1))
        if isinstance(total, sp.Piecewise):  # drop the beta = 1 branch (0 < beta < 1)
            total = [value for value, cond in total.args if cond is sp.true or cond == True][0]  # noqa: E712
        _claim(sp.simplify(total - (1 - beta**kk)) == 0)
        last_k[name] = total
    train_m = spike_g * last_k["m"] / (1 - b1**t)
    train_v = spike_g**2 * last_k["v"] / (1 - b2**t)
    train = (1 - b1**kk) / (1 - b1**t) * sp.sqrt((1 - b2**t) / (1 - b2**kk))
    _assert_equal_nonnegative(train_m / sp.sqrt(train_v), train)
    _assert_equal_nonnegative(train.subs(kk, 1), sparse)  # one spike: the paper's case
    P1k, P2k = sp.symbols("P_1 P_2", nonnegative=True)  # beta1^t, beta2^t -> 0 as t -> oo
    train_F = (1 - b1**kk) / (1 - P1k) * sp.sqrt((1 - P2k) / (1 - b2**kk))
    _claim(sp.simplify(train_F.subs({P1k: b1**t, P2k: b2**t}) - train) == 0)
    train_limit = train_F.subs({P1k: 0, P2k: 0})
    _assert_equal_nonnegative(train_limit, (1 - b1**kk) / sp.sqrt(1 - b2**kk))

    # Constant gradients give exactly 1 (Σ a_i = Σ b_i = 1).
    g0 = sp.Symbol("g", positive=True)
    constant = sp.simplify(_generic_sum(a_expr * g0, (i, 1, t)) / sp.sqrt(_generic_sum(b_expr * g0**2, (i, 1, t))))
    _claim(constant == 1)

    ratio_sym = sp.Symbol(r"\frac{\hat{m}_t}{\sqrt{\hat{v}_t}}")
    sup_sym = sp.Symbol(r"S_t")
    return StepBoundDerivation(
        weights=sp.Eq(ratio_sym, A / sp.sqrt(B)),
        a_i=sp.Eq(a[i], a_expr),
        b_i=sp.Eq(b[i], b_expr),
        weights_sum_to_one=tuple(sums_to_one),
        quadratic=sp.Eq(squares, quadratic_rhs),
        quadratic_minimum=sp.Eq(sp.Symbol(r"\min_{\lambda} Q(\lambda)"), Bsym - Asym**2 / Csym),
        cauchy_schwarz=sp.Le(Asym**2 / Bsym, Csym),
        attaining_ratio=sp.Eq(A_star / sp.sqrt(B_star), sp.sqrt(C)),
        attaining_gradient=sp.Eq(a[i] / b[i], gradient_shape),
        term=sp.Eq(a[i] ** 2 / b[i], K * sp.Symbol("q") ** (t - i)),
        geometric_sum=sp.Eq(sp.Sum(q**k, (k, 0, t - 1)), geometric),
        supremum=sp.Eq(sup_sym, S_t),
        supremum_at_equality=sp.Eq(sup_sym, S_eq),
        supremum_limit=sp.Eq(sp.Symbol(r"S_\infty"), limit_expr),
        below_limit=below_limit,
        growth_at_equality=sp.Eq(sp.Symbol(r"\lim_{t\to\infty} S_t/\sqrt{t}"), growth_eq),
        growth_above=sp.Eq(sp.Symbol(r"\lim_{t\to\infty} S_t\,q^{-t/2}"), growth_above),
        paper_sparse=sp.Eq(sp.Symbol(r"\frac{\hat{m}_t}{\sqrt{\hat{v}_t}}\Big|_{\text{spike}}"), sparse),
        paper_sparse_limit=sp.Eq(sp.Symbol(r"\lim_{t\to\infty}\frac{\hat{m}_t}{\sqrt{\hat{v}_t}}\Big|_{\text{spike}}"), sparse_limit),
        excess_factor=sp.Eq(sp.Symbol(r"S_\infty \Big/ \frac{1-\beta_1}{\sqrt{1-\beta_2}}"), excess),
        constant_ratio=sp.Eq(sp.Symbol(r"\frac{\hat{m}_t}{\sqrt{\hat{v}_t}}\Big|_{g_i = g}"), constant),
        spike_train=sp.Eq(sp.Symbol(r"\frac{\hat{m}_t}{\sqrt{\hat{v}_t}}\Big|_{k\ \text{spikes}}"), train),
        spike_train_limit=sp.Eq(sp.Symbol(r"\lim_{t\to\infty}\frac{\hat{m}_t}{\sqrt{\hat{v}_t}}\Big|_{k\ \text{spikes}}"),
                                train_limit),
        symbols={"beta1": b1, "beta2": b2, "t": t, "i": i, "q": q, "k": kk, "a": a, "b": b, "g": g,
                 "supremum": S_t, "supremum_limit": limit_expr, "paper_figure": paper_figure},
    )


# --- Signal-to-noise ratio and automatic annealing --------------------------------------------


@dataclass(frozen=True)
class SNRModel:
    """The noise model g = μ + σξ (μ = a·x held fixed) for the paper's SNR m̂_t/sqrt(v̂_t).

    Every field was asserted by :func:`derive_snr_model`. The model approximates v̂_t by its mean
    μ² + σ² (exact in expectation; its fluctuation is neglected, which needs beta2 close to 1) and
    m̂_t by a normal variable with the exact mean and variance of the EMA.
    """

    var_m_hat: sp.Eq  # Var(m̂_t), symbolic t
    var_m_hat_stationary: sp.Eq  # t → ∞
    var_m_stationary: sp.Eq  # the uncorrected m_t, t → ∞ (the same)
    mean_v: sp.Eq  # E[v_t] = (1 - beta2^t)(μ² + σ²)
    mean_v_hat: sp.Eq  # E[v̂_t] = μ² + σ²
    folded_mean: sp.Eq  # E|Y| for Y ~ N(μ, s²)
    folded_mean_slope: sp.Eq  # d E|Y| / dμ = erf(μ/(sqrt(2) s))
    expected_abs_snr: sp.Eq  # the model's E|m̂/sqrt(v̂)| as a function of r = μ/σ and beta1
    floor: sp.Eq  # r → 0
    ceiling: sp.Eq  # r → ∞
    monotone_numerator: sp.Eq  # sign of d/dr: erf(u) - (2c²/sqrt(π)) u e^(-u²) with u = r/(sqrt(2) c)
    monotone_helper_slope: sp.Eq  # d/du [erf(u) - 2u e^(-u²)/sqrt(π)] = 4u² e^(-u²)/sqrt(π) >= 0
    constant_uncorrected: sp.Eq  # m_t/sqrt(v_t) for a constant gradient g > 0
    constant_corrected: sp.Eq  # m̂_t/sqrt(v̂_t) for a constant gradient g > 0
    pure_noise_second_moment: sp.Eq  # beta1 = 0, μ = 0: E[m̂²]/E[v̂] = 1
    var_g_squared: sp.Eq  # Var(g²) = 4μ²σ² + 2σ⁴ for g ~ N(μ, σ²)
    rel_var_v_hat: sp.Eq  # Var(v̂_t)/E[v̂_t]² in terms of r, symbolic t: the neglected randomness
    rel_var_v_hat_stationary: sp.Eq  # t → ∞
    long_run_variance: sp.Eq  # Σ_k Cov(m̂_t, m̂_(t+k))/σ² over all lags k: exactly 1, for every beta1
    ar1_variance: sp.Eq  # Var(x) of x_(t+1) = ρ x_t - α e_t, e with variance c², correlation β1^|k|
    ar1_white_variance: sp.Eq  # the same driven by white noise of the long-run variance L
    noise_ball_variance: sp.Eq  # Var(x) ≈ ασ/(2a) near the optimum, to leading order in α
    noise_ball_mean_abs: sp.Eq  # E|x| ≈ sqrt(ασ/(πa))
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_snr_model() -> SNRModel:
    """Derive the expected |m̂_t/sqrt(v̂_t)| under g_i = μ + σ ξ_i (ξ_i iid standard normal).

    Steps, each asserted: the mean and variance of the EMA m̂_t for symbolic t and its stationary
    limit σ²(1-beta1)/(1+beta1); E[v̂_t] = μ² + σ²; the folded-normal mean E|N(μ, s²)| by
    integration; the model E|SNR| ≈ E|N(μ, s²)|/sqrt(μ² + σ²) in terms of r = μ/σ; its limits
    (r → 0 and r → ∞) and the proof that it increases with r (the annealing).
    """
    b1, b2 = sp.symbols("beta_1 beta_2", positive=True)
    t = sp.Symbol("t", integer=True, positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    mu = sp.Symbol("mu", real=True)
    sigma, s, r, c, u = sp.symbols("sigma s r c u", positive=True)
    y = sp.Symbol("y", real=True)
    P = sp.Symbol("P", nonnegative=True)  # stands for beta1**t, which → 0 as t → ∞ (0 < beta1 < 1)

    # m̂_t = Σ a_i g_i with Σ a_i = 1: mean μ, variance σ² Σ a_i² for independent ξ_i.
    a_i = (1 - b1) * b1 ** (t - i) / (1 - b1**t)
    _claim(sp.simplify(_generic_sum(a_i, (i, 1, t)) - 1) == 0)
    sum_sq = _generic_sum(a_i**2, (i, 1, t))
    var_m_hat = sigma**2 * (1 - b1) * (1 + b1**t) / ((1 + b1) * (1 - b1**t))
    _claim(sp.simplify(sigma**2 * sum_sq - var_m_hat) == 0)
    stationary = sigma**2 * (1 - b1) / (1 + b1)
    # Continuity in P = beta1**t at P = 0 (the denominators are 1 + beta1 and 1 there).
    var_m_hat_P = sigma**2 * (1 - b1) * (1 + P) / ((1 + b1) * (1 - P))
    _claim(sp.simplify(var_m_hat_P.subs(P, b1**t) - var_m_hat) == 0)
    _claim(sp.simplify(var_m_hat_P.subs(P, 0) - stationary) == 0)
    var_m = sp.simplify(var_m_hat * (1 - b1**t) ** 2)  # the uncorrected EMA m_t = (1 - beta1^t) m̂_t
    var_m_P = sigma**2 * (1 - b1) * (1 - P**2) / (1 + b1)
    _claim(sp.simplify(var_m_P.subs(P, b1**t) - var_m) == 0)
    _claim(sp.simplify(var_m_P.subs(P, 0) - stationary) == 0)

    # v_t = (1 - beta2) Σ beta2^(t-i) g_i², E[g_i²] = μ² + σ².
    mean_v = sp.simplify((mu**2 + sigma**2) * _generic_sum((1 - b2) * b2 ** (t - i), (i, 1, t)))
    _claim(sp.simplify(mean_v - (1 - b2**t) * (mu**2 + sigma**2)) == 0)
    mean_v_hat = sp.simplify(mean_v / (1 - b2**t))
    _claim(sp.simplify(mean_v_hat - (mu**2 + sigma**2)) == 0)

    # The folded-normal mean, by integration.
    pdf = sp.exp(-((y - mu) ** 2) / (2 * s**2)) / sp.sqrt(2 * sp.pi * s**2)
    _claim(sp.simplify(sp.integrate(pdf, (y, -sp.oo, sp.oo)) - 1) == 0)
    integral = sp.integrate(y * pdf, (y, 0, sp.oo)) - sp.integrate(y * pdf, (y, -sp.oo, 0))
    folded = s * sp.sqrt(2 / sp.pi) * sp.exp(-(mu**2) / (2 * s**2)) + mu * sp.erf(mu / (sp.sqrt(2) * s))
    _claim(sp.simplify(sp.expand_func(sp.simplify(integral) - folded).rewrite(sp.erf)) == 0)
    slope = sp.simplify(sp.diff(folded, mu))
    _claim(sp.simplify(slope - sp.erf(mu / (sp.sqrt(2) * s))) == 0)

    # The model in units of σ: μ = rσ, s = cσ with c² = (1 - beta1)/(1 + beta1) (stationary).
    model_r = sp.simplify(folded.subs({mu: r * sigma, s: c * sigma}) / sp.sqrt(r**2 * sigma**2 + sigma**2))
    model = (c * sp.sqrt(2 / sp.pi) * sp.exp(-(r**2) / (2 * c**2)) + r * sp.erf(r / (sp.sqrt(2) * c))) / sp.sqrt(1 + r**2)
    _claim(sp.simplify(model_r - model) == 0)
    c_value = sp.sqrt((1 - b1) / (1 + b1))
    _claim(sp.simplify(c_value**2 * sigma**2 - stationary) == 0)
    floor = sp.limit(model, r, 0)
    _claim(sp.simplify(floor - c * sp.sqrt(2 / sp.pi)) == 0)
    ceiling = sp.limit(model, r, sp.oo)
    _claim(ceiling == 1)

    # Monotone in r: numerator N(r) = folded/σ, N' = erf(r/(sqrt(2)c)); the sign of the derivative of
    # N/sqrt(1+r²) is that of N'(1+r²) - rN = erf(u) - (2c²/sqrt(π)) u e^(-u²), u = r/(sqrt(2)c).
    N = model * sp.sqrt(1 + r**2)
    derivative = sp.diff(model, r)
    sign_part = sp.erf(u) - 2 * c**2 / sp.sqrt(sp.pi) * u * sp.exp(-(u**2))
    _claim(sp.simplify(derivative * (1 + r**2) ** sp.Rational(3, 2) - sign_part.subs(u, r / (sp.sqrt(2) * c))) == 0)
    _claim(sp.simplify(sp.diff(N, r) - sp.erf(r / (sp.sqrt(2) * c))) == 0)
    # erf(u) - (2c²/sqrt(π)) u e^(-u²) >= h(u) := erf(u) - (2/sqrt(π)) u e^(-u²) because c² <= 1
    # (c² = (1-beta1)/(1+beta1)), and h(0) = 0 with h'(u) = 4u² e^(-u²)/sqrt(π) > 0 for u > 0.
    _claim(sp.simplify(1 - c_value**2 - 2 * b1 / (1 + b1)) == 0)
    helper = sp.erf(u) - 2 / sp.sqrt(sp.pi) * u * sp.exp(-(u**2))
    helper_slope = sp.simplify(sp.diff(helper, u))
    _claim(sp.simplify(helper_slope - 4 * u**2 * sp.exp(-(u**2)) / sp.sqrt(sp.pi)) == 0)
    _claim(helper.subs(u, 0) == 0)
    _claim(sp.simplify(sign_part - helper - 2 * (1 - c**2) / sp.sqrt(sp.pi) * u * sp.exp(-(u**2))) == 0)

    # A constant gradient g > 0: without bias correction the ratio is not 1.
    g0 = sp.Symbol("g", positive=True)
    m_const = sp.simplify(g0 * _generic_sum((1 - b1) * b1 ** (t - i), (i, 1, t)))
    v_const = sp.simplify(g0**2 * _generic_sum((1 - b2) * b2 ** (t - i), (i, 1, t)))
    uncorrected = (1 - b1**t) / sp.sqrt(1 - b2**t)
    _assert_equal_nonnegative(m_const / sp.sqrt(v_const), uncorrected)
    corrected = sp.simplify((m_const / (1 - b1**t)) / sp.sqrt(v_const / (1 - b2**t)))
    _claim(corrected == 1)

    # How random is v̂_t? Var(v̂_t) = Var(g²) Σ b_i², the same geometric sum as for m̂_t with beta2.
    moment = [sp.simplify(sp.integrate(y**n * pdf.subs(s, sigma), (y, -sp.oo, sp.oo))) for n in (2, 4)]
    var_g2 = sp.expand(moment[1] - moment[0] ** 2)
    _claim(sp.simplify(var_g2 - (4 * mu**2 * sigma**2 + 2 * sigma**4)) == 0)
    b_i = (1 - b2) * b2 ** (t - i) / (1 - b2**t)
    sum_b_sq = _generic_sum(b_i**2, (i, 1, t))
    _claim(sp.simplify(sum_b_sq - var_m_hat.subs({b1: b2, sigma: 1})) == 0)
    rel_var = sp.simplify(var_g2 * sum_b_sq / (mu**2 + sigma**2) ** 2)
    rel_var_r = (1 - b2) * (1 + b2**t) / ((1 + b2) * (1 - b2**t)) * (2 + 4 * r**2) / (1 + r**2) ** 2
    _claim(sp.simplify(rel_var.subs(mu, r * sigma) - rel_var_r) == 0)
    rel_var_P = (1 - b2) * (1 + P) / ((1 + b2) * (1 - P)) * (2 + 4 * r**2) / (1 + r**2) ** 2
    _claim(sp.simplify(rel_var_P.subs(P, b2**t) - rel_var_r) == 0)
    rel_var_stationary = rel_var_P.subs(P, 0)
    # Its largest value over r is at r = 0: d/dr of (2 + 4r²)/(1 + r²)² is -8r³/(1 + r²)³ <= 0.
    _claim(sp.simplify(sp.diff((2 + 4 * r**2) / (1 + r**2) ** 2, r) + 8 * r**3 / (1 + r**2) ** 3) == 0)

    # The noise ball. Near the optimum (r small) E[m̂/sqrt(v̂) | x] ≈ a x/σ, so
    # x_(t+1) ≈ (1 - αa/σ) x_t - α e_t with e_t = (m̂_t - μ)/σ, a stationary noise with variance c²
    # and autocorrelation beta1^|k| (m̂_(t+k) = beta1^k m̂_t + fresh terms). For small α the iterate
    # averages e over many steps and only the long-run variance L = c² Σ_k beta1^|k| matters.
    k = sp.Symbol("k", integer=True, positive=True)
    tail = sp.summation(b1**k, (k, 1, sp.oo))
    if isinstance(tail, sp.Piecewise):  # the branch for beta1 < 1
        _claim(tail.args[0][1] == (b1 < 1))
        tail = tail.args[0][0]
    long_run = sp.simplify(c_value**2 * (1 + 2 * tail))
    _claim(long_run == 1)
    alpha, a_curv, L = sp.symbols("alpha a L", positive=True)
    rho = 1 - alpha * a_curv / sigma
    var_x_white = alpha**2 * L / (1 - rho**2)  # AR(1) driven by white noise of variance L
    leading = sp.series(var_x_white, alpha, 0, 2).removeO()
    ball_var = alpha * sigma / (2 * a_curv)
    _claim(sp.simplify(leading.subs(L, long_run) - ball_var) == 0)
    # The same without the white-noise shortcut: x = -α Σ_j ρ^j e_(t-j), so
    # Var(x) = α² Σ_j Σ_k ρ^(j+k) Cov(e_(t-j), e_(t-k)) = α² c² Σ_j Σ_k ρ^(j+k) β1^|j-k|. Split into
    # the diagonal j = k and the two mirror halves k = j + d, d >= 1; each is a geometric series.
    rho_s = sp.Symbol("rho", positive=True)  # 0 < ρ < 1 for a small enough α
    jj, dd = sp.Symbol("j", integer=True, nonnegative=True), sp.Symbol("d", integer=True, positive=True)

    def _convergent(total):
        if isinstance(total, sp.Piecewise):  # keep the branch of |ratio| < 1
            total = total.args[0][0]
        return total

    diagonal = _convergent(sp.summation(rho_s ** (2 * jj), (jj, 0, sp.oo)))
    one_side = _convergent(sp.summation((rho_s * b1) ** dd, (dd, 1, sp.oo)))
    _claim(sp.simplify(diagonal - 1 / (1 - rho_s**2)) == 0)
    _claim(sp.simplify(one_side - rho_s * b1 / (1 - rho_s * b1)) == 0)
    ar1_exact = alpha**2 * c**2 * diagonal * (1 + 2 * one_side)
    ar1_closed = alpha**2 * c**2 * (1 + rho_s * b1) / ((1 - rho_s**2) * (1 - rho_s * b1))
    _claim(sp.simplify(ar1_exact - ar1_closed) == 0)
    # Small α: ρ = 1 - αa/σ -> 1, and the exact variance tends to the white-noise one.
    exact_in_alpha = ar1_closed.subs({rho_s: rho, c: c_value})
    _claim(sp.simplify(sp.series(exact_in_alpha, alpha, 0, 2).removeO() - ball_var) == 0)
    _claim(sp.simplify(sp.limit(exact_in_alpha / var_x_white.subs(L, long_run), alpha, 0) - 1) == 0)
    ball_abs = sp.sqrt(2 / sp.pi) * sp.sqrt(ball_var)  # E|x| for a centred normal x
    _claim(sp.simplify(ball_abs**2 - alpha * sigma / (sp.pi * a_curv)) == 0)

    # beta1 = 0, μ = 0: m̂_t = g_t, so E[m̂_t²] / E[v̂_t] = σ²/σ² = 1.
    pure_noise = sp.simplify((var_m_hat.subs(b1, 0) + 0) / mean_v_hat.subs(mu, 0))
    _claim(pure_noise == 1)

    snr_tex = r"\mathbb{E}\left|\frac{\hat{m}_t}{\sqrt{\hat{v}_t}}\right|"
    snr = sp.Symbol(snr_tex)
    return SNRModel(
        var_m_hat=sp.Eq(sp.Symbol(r"\operatorname{Var}(\hat{m}_t)"), var_m_hat),
        var_m_hat_stationary=sp.Eq(sp.Symbol(r"\lim_{t\to\infty}\operatorname{Var}(\hat{m}_t)"), stationary),
        var_m_stationary=sp.Eq(sp.Symbol(r"\lim_{t\to\infty}\operatorname{Var}(m_t)"), stationary),
        mean_v=sp.Eq(sp.Symbol(r"\mathbb{E}[v_{t}]"), (1 - b2**t) * (mu**2 + sigma**2)),
        mean_v_hat=sp.Eq(sp.Symbol(r"\mathbb{E}[\hat{v}_{t}]"), mean_v_hat),
        folded_mean=sp.Eq(sp.Symbol(r"\mathbb{E}|Y|"), folded),
        folded_mean_slope=sp.Eq(sp.Symbol(r"\frac{\partial\,\mathbb{E}|Y|}{\partial\mu}"), slope),
        expected_abs_snr=sp.Eq(snr, model),
        floor=sp.Eq(sp.Symbol(r"\lim_{r\to 0}" + snr_tex), floor),
        ceiling=sp.Eq(sp.Symbol(r"\lim_{r\to\infty}" + snr_tex), ceiling),
        monotone_numerator=sp.Eq(sp.Symbol(r"(1+r^2)^{3/2}\,\frac{d}{dr}" + snr_tex), sign_part),
        monotone_helper_slope=sp.Eq(sp.Derivative(helper, u), helper_slope),
        constant_uncorrected=sp.Eq(sp.Symbol(r"\frac{m_t}{\sqrt{v_t}}\Big|_{g_i = g}"), uncorrected),
        constant_corrected=sp.Eq(sp.Symbol(r"\frac{\hat{m}_t}{\sqrt{\hat{v}_t}}\Big|_{g_i = g}"), corrected),
        pure_noise_second_moment=sp.Eq(
            sp.Symbol(r"\frac{\mathbb{E}[\hat{m}_t^2]}{\mathbb{E}[\hat{v}_t]}\Big|_{\beta_1 = 0,\ \mu = 0}"), pure_noise
        ),
        var_g_squared=sp.Eq(sp.Symbol(r"\operatorname{Var}(g^{2})"), 4 * mu**2 * sigma**2 + 2 * sigma**4),
        rel_var_v_hat=sp.Eq(sp.Symbol(r"\frac{\operatorname{Var}(\hat{v}_t)}{\mathbb{E}[\hat{v}_{t}]^2}"), rel_var_r),
        rel_var_v_hat_stationary=sp.Eq(
            sp.Symbol(r"\lim_{t\to\infty}\frac{\operatorname{Var}(\hat{v}_t)}{\mathbb{E}[\hat{v}_{t}]^2}"), rel_var_stationary
        ),
        long_run_variance=sp.Eq(
            sp.Symbol(r"\frac{1}{\sigma^2}\sum_{k=-\infty}^{\infty}\operatorname{Cov}(\hat{m}_t, \hat{m}_{t+k})"), long_run
        ),
        ar1_variance=sp.Eq(sp.Symbol(r"\operatorname{Var}(x)"), ar1_closed),
        ar1_white_variance=sp.Eq(sp.Symbol(r"\operatorname{Var}(x)_{\text{white}}"), alpha**2 * L / (1 - rho_s**2)),
        noise_ball_variance=sp.Eq(sp.Symbol(r"\operatorname{Var}(x)"), ball_var),
        noise_ball_mean_abs=sp.Eq(sp.Symbol(r"\mathbb{E}|x|"), sp.sqrt(alpha * sigma / (sp.pi * a_curv))),
        symbols={"beta1": b1, "beta2": b2, "t": t, "mu": mu, "sigma": sigma, "s": s, "r": r, "c": c,
                 "alpha": alpha, "a": a_curv, "rho": rho_s, "L": L,
                 "u": u, "c_value": c_value, "model": model},
    )


@dataclass(frozen=True)
class SignReading:
    """Adam's step as sign descent with a variance adaptation (Balles & Hennig, 2018).

    With v̂ = m̂² + ŝ² (ŝ² the variance estimate the two moments imply),
    m̂/√v̂ = sign(m̂)/√(1 + η̂²) where η̂² = ŝ²/m̂² is the estimated relative variance.
    """

    ratio: sp.Expr
    """m̂/√v̂ with v̂ = m̂² + ŝ²."""
    sign_form: sp.Expr
    """sign(m̂)·1/√(1 + ŝ²/m̂²)."""
    factor_in_r: sp.Expr
    """The variance factor with the true moments (m̂ = μ, ŝ = σ, r = μ/σ > 0): r/√(1 + r²)."""
    model_limit: sp.Expr
    """lim_{c→0} of the noise model's E|m̂/√v̂| (β1 → 1): the same r/√(1 + r²)."""
    no_averaging: sp.Expr
    """β1 = β2 = 0 (m̂ = g, v̂ = g²): the step direction is exactly sign(g)."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_sign_reading() -> SignReading:
    """Derive the sign-descent reading of Adam's update and link it to the SNR noise model."""
    m = sp.Symbol(r"\hat{m}", real=True, nonzero=True)
    s_hat = sp.Symbol(r"\hat{s}", nonnegative=True)
    ratio = m / sp.sqrt(m**2 + s_hat**2)
    sign_form = sp.sign(m) / sp.sqrt(1 + s_hat**2 / m**2)
    _claim(sp.simplify(ratio - sign_form) == 0)
    for value in (sp.Symbol("p", positive=True), sp.Symbol("n", negative=True)):  # both signs
        _claim(sp.simplify((ratio - sign_form).subs(m, value)) == 0)
    r, c = sp.symbols("r c", positive=True)
    sigma = sp.Symbol("sigma", positive=True)
    factor = sp.simplify((sign_form / sp.sign(m)).subs({m: r * sigma, s_hat: sigma}))
    _claim(sp.simplify(factor - r / sp.sqrt(1 + r**2)) == 0)
    model = (c * sp.sqrt(2 / sp.pi) * sp.exp(-(r**2) / (2 * c**2)) + r * sp.erf(r / (sp.sqrt(2) * c))) / sp.sqrt(1 + r**2)
    limit = sp.limit(model, c, 0, "+")
    _claim(sp.simplify(limit - factor) == 0)
    g = sp.Symbol("g", real=True, nonzero=True)
    no_averaging = sp.simplify(g / sp.sqrt(g**2))
    _claim(sp.simplify(no_averaging - sp.sign(g)) == 0)
    return SignReading(ratio=ratio, sign_form=sign_form, factor_in_r=factor, model_limit=limit,
                       no_averaging=no_averaging,
                       symbols=dict(m=m, s=s_hat, r=r, c=c, sigma=sigma, g=g))


def snr_noise_scale(beta1: float, t: int | None = None) -> float:
    """c = sd(m̂_t)/σ in the noise model: sqrt((1-beta1)(1+beta1^t)/((1+beta1)(1-beta1^t))).

    ``t=None`` gives the stationary value sqrt((1-beta1)/(1+beta1)).
    """
    _require_betas(beta1, 0.0)
    if t is None:
        return math.sqrt((1.0 - beta1) / (1.0 + beta1))
    _require_step(t)
    power = beta1**t
    return math.sqrt((1.0 - beta1) * (1.0 + power) / ((1.0 + beta1) * _one_minus_power(beta1, t)))


def expected_abs_snr(ratio: ArrayLike, beta1: float, t: int | None = None) -> float | np.ndarray:
    """The noise model's E|m̂_t/sqrt(v̂_t)| for gradients a·x + σξ with r = |a·x|/σ (``ratio``).

    (c sqrt(2/π) exp(-r²/(2c²)) + r erf(r/(sqrt(2) c))) / sqrt(1 + r²), c = :func:`snr_noise_scale`.
    beta2 does not appear: the model replaces v̂_t by its mean μ² + σ², the limit beta2 → 1 (the
    fluctuation of v̂_t changes the result by a relative amount of order 1 - beta2, see the chapter
    on annealing). Accepts scalars or arrays.
    """
    c = snr_noise_scale(beta1, t)
    r = np.abs(np.asarray(ratio, dtype=np.float64))
    erf = np.vectorize(math.erf, otypes=[np.float64])
    value = (c * math.sqrt(2.0 / math.pi) * np.exp(-(r**2) / (2.0 * c * c)) + r * erf(r / (math.sqrt(2.0) * c))) / np.sqrt(
        1.0 + r**2
    )
    return float(value) if value.ndim == 0 else value


# --- AdaMax as the L-infinity limit -----------------------------------------------------------


@dataclass(frozen=True)
class AdamaxLimit:
    """AdaMax's u_t as the p → ∞ limit of Adam's second moment generalised to the L^p norm."""

    lp_closed_form: sp.Expr
    """v_t = (1−β2^p)·Σ β2^(p(t−i))·|g_i|^p: the unrolled L^p recursion (v_0 = 0)."""
    lp_root_factored: sp.Expr
    """v_t^(1/p) = (1−β2^p)^(1/p)·‖(β2^(t−1)|g_1|, …, |g_t|)‖_p."""
    scale_factor_limit: sp.Expr
    """lim_{p→∞} (1−β2^p)^(1/p) = 1."""
    count_factor_limit: sp.Expr
    """lim_{p→∞} n^(1/p) = 1: the upper sandwich factor for a norm of n terms."""
    bias_correction_limit: sp.Expr
    """lim_{p→∞} (1−β2^(pt))^(1/p) = 1: the p-th root of the L^p bias correction vanishes."""
    max_homogeneity: sp.Expr
    """max(β2·x, β2·y) − β2·max(x, y), simplified: 0, the step behind the recursion."""
    recursion: sp.Expr
    """u_t = max(β2·u_{t−1}, |g_t|) as a SymPy equation."""
    step_ratio_supremum: sp.Expr
    """max over gradient sequences of |m̂_t|/u_t: (1−β1)(1−(β1/β2)^t)/((1−β1^t)(1−β1/β2))."""
    step_ratio_supremum_second_step: sp.Expr
    """The supremum at t = 2: (β1 + β2)/(β2(1 + β1)), above 1 whenever β2 < 1."""
    step_ratio_supremum_limit: sp.Expr
    """Its limit t → ∞ for β1 < β2: β2(1−β1)/(β2−β1)."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_adamax_limit() -> AdamaxLimit:
    """Derive AdaMax from Adam's L^p generalisation and the exact bound on its step.

    The limit is a sandwich: for a_1..a_n ≥ 0 with maximum M, M^p ≤ Σ a_i^p ≤ n·M^p, hence
    M ≤ ‖a‖_p ≤ n^(1/p)·M, and for 0 < β2 < 1 and p ≥ 1 also (1−β2)^(1/p) ≤ (1−β2^p)^(1/p) ≤ 1.
    SymPy computes the limits of the outer factors; both are 1, so v_t^(1/p) → max_i a_i.
    """
    p = sp.Symbol("p", positive=True)
    n = sp.Symbol("n", integer=True, positive=True)
    t = sp.Symbol("t", integer=True, positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    beta1, beta2 = sp.symbols("beta_1 beta_2", positive=True)
    g = sp.IndexedBase("g")
    u_t, u_prev = sp.symbols("u_t u_{t-1}", nonnegative=True)
    x, y = sp.symbols("x y", real=True)

    # v_t = beta2^p v_{t-1} + (1 - beta2^p)|g_t|^p unrolls like Adam's v_t.
    decay = beta2**p
    closed = _ema_closed_form_holds(decay, lambda k: sp.Abs(g[k]) ** p, t, i)
    term = (1 - decay) * decay ** (t - i) * sp.Abs(g[i]) ** p
    _claim(sp.simplify(closed - sp.Sum(term, (i, 1, t))) == 0)
    # Each term is (1 - beta2^p) * (beta2^(t-i)|g_i|)^p, so the p-th root factors into a norm.
    weighted = beta2 ** (t - i) * sp.Abs(g[i])
    _claim(sp.simplify(sp.expand_power_base(term - (1 - decay) * weighted**p)) == 0)
    lp_norm = sp.Sum(weighted**p, (i, 1, t)) ** (1 / p)
    root_factored = (1 - decay) ** (1 / p) * lp_norm

    scale_lower = sp.limit((1 - beta2) ** (1 / p), p, sp.oo)  # (1-beta2)^(1/p) <= ...
    _claim(scale_lower == 1)
    kappa = sp.Symbol("kappa", positive=True)  # beta2 = exp(-kappa) with 0 < beta2 < 1
    scale = sp.limit((1 - sp.exp(-kappa * p)) ** (1 / p), p, sp.oo)
    _claim(scale == 1)
    count = sp.limit(n ** (1 / p), p, sp.oo)
    _claim(count == 1)
    # The L^p correction would divide v_t by 1 - beta2^(p t); its p-th root tends to 1.
    correction = sp.limit((1 - sp.exp(-kappa * p * t)) ** (1 / p), p, sp.oo)
    _claim(correction == 1)

    # max over i <= t of beta2^(t-i)|g_i| = max(beta2 * (max over i <= t-1), |g_t|), because a
    # positive factor moves out of a max.
    homogeneity = sp.simplify(
        sp.Max(beta2 * x, beta2 * y).rewrite(sp.Abs) - (beta2 * sp.Max(x, y)).rewrite(sp.Abs)
    )
    _claim(homogeneity == 0)
    recursion = sp.Eq(u_t, sp.Max(beta2 * u_prev, sp.Abs(g[t])))

    # |m_t| <= (1-beta1) sum beta1^(t-i)|g_i| and |g_i| <= u_t / beta2^(t-i); both are equalities
    # for g_i = beta2^(i-t) > 0, so the bound below is attained (not merely an upper bound).
    ratio = sp.Symbol("r", positive=True)  # beta1 / beta2
    geometric = sp.summation((1 - ratio) * ratio ** (t - i), (i, 1, t))
    _claim(sp.simplify(geometric - (1 - ratio**t)) == 0)  # so sum r^(t-i) = (1-r^t)/(1-r), r != 1
    sup_t = (1 - beta1) * (1 - (beta1 / beta2) ** t) / ((1 - beta1**t) * (1 - beta1 / beta2))
    _claim(sp.simplify(
        sup_t - ((1 - beta1) / (1 - beta1**t) * geometric / (1 - ratio)).subs(ratio, beta1 / beta2)
    ) == 0)
    _claim(sp.simplify(sup_t.subs(t, 1) - 1) == 0)
    second = sp.simplify(sup_t.subs(t, 2))
    _claim(sp.simplify(second - (beta1 + beta2) / (beta2 * (1 + beta1))) == 0)
    _claim(sp.simplify(second - 1 - beta1 * (1 - beta2) / (beta2 * (1 + beta1))) == 0)
    # For beta1 < beta2 < 1, beta1^t -> 0 and (beta1/beta2)^t -> 0 as t -> oo.
    bt, rt = sp.symbols("b_t r_t", positive=True)
    sup_in_powers = (1 - beta1) / (1 - bt) * (1 - rt) / (1 - beta1 / beta2)
    _claim(sp.simplify(sup_in_powers.subs({bt: beta1**t, rt: (beta1 / beta2) ** t}) - sup_t) == 0)
    sup_limit = beta2 * (1 - beta1) / (beta2 - beta1)
    _claim(sp.simplify(sup_in_powers.subs({bt: 0, rt: 0}) - sup_limit) == 0)

    return AdamaxLimit(
        lp_closed_form=closed,
        lp_root_factored=root_factored,
        scale_factor_limit=scale,
        count_factor_limit=count,
        bias_correction_limit=correction,
        max_homogeneity=homogeneity,
        recursion=recursion,
        step_ratio_supremum=sup_t,
        step_ratio_supremum_second_step=second,
        step_ratio_supremum_limit=sup_limit,
        symbols=dict(p=p, n=n, t=t, i=i, beta1=beta1, beta2=beta2, g=g, u_t=u_t, u_prev=u_prev),
    )


def adamax_step_ratio_supremum(beta1: float, beta2: float, t: int | None = None) -> float:
    """The exact maximum of |Δ_t|/α for AdaMax (Algorithm 2, ε = 0) over all gradient sequences.

    Equals (1−β1)·Σ_{k=0..t−1} (β1/β2)^k / (1−β1^t) (see :func:`derive_adamax_limit`), attained
    by g_i = β2^(i−t). It is 1 at t = 1 and grows with t. ``t=None`` gives the limit t → ∞:
    β2(1−β1)/(β2−β1) for β1 < β2, ``math.inf`` for β1 ≥ β2.
    """
    if not 0.0 <= beta1 < 1.0:
        raise ValueError(f"Invalid beta1: {beta1}")
    if not 0.0 < beta2 < 1.0:
        raise ValueError(f"Invalid beta2: {beta2}")
    if t is None:
        return beta2 * (1.0 - beta1) / (beta2 - beta1) if beta1 < beta2 else math.inf
    if int(t) != t or t < 1:
        raise ValueError(f"Invalid t: {t}")
    r = beta1 / beta2
    total = math.fsum(r**k for k in range(int(t)))
    return (1.0 - beta1) * total / (1.0 - beta1 ** int(t))

