r"""Gradient descent and heavy-ball momentum on a quadratic, one eigenmode at a time.

On :math:`f(\theta) = \tfrac12 (\theta-\theta^*)^\top A\,(\theta-\theta^*)` with
:math:`A = Q \Lambda Q^\top` (eigenvalues :math:`\lambda_1 \le \dots \le \lambda_n`, condition number
:math:`\kappa = \lambda_n/\lambda_1`), both methods act on each eigen-coordinate
:math:`x_i = q_i^\top(\theta - \theta^*)` separately. This module derives, with SymPy, what the
momentum chapter states:

- :func:`derive_decoupling`: in the eigenbasis the iteration matrices become diagonal (gradient
  descent) or block-diagonal with one 2x2 block per eigenvalue (heavy ball);
- :func:`derive_gradient_descent`: the best learning rate :math:`2/(\lambda_1+\lambda_n)` and the
  rate :math:`(\kappa-1)/(\kappa+1)`;
- :func:`derive_heavy_ball`: the 2x2 block, its eigenvalues, critical damping, the stability limit,
  the best :math:`\alpha` and :math:`\mu` and the rate :math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)`.

Heavy ball is written as PyTorch's ``SGD(momentum=μ)`` runs it:
:math:`b_t = \mu b_{t-1} + \nabla f(\theta_{t-1})`, :math:`\theta_t = \theta_{t-1} - \alpha b_t`,
:math:`b_0 = 0` (Goh's *Why Momentum Really Works* writes the same with :math:`z` and :math:`\beta`).

The numerical helpers (:func:`heavy_ball_mode_rate`, :func:`optimal_heavy_ball`, ...) evaluate the
same formulas with NumPy for figures and checks. Every derivation raises
:class:`adamedu.claims.ClaimError` if an identity it states does not hold.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy as sp

from adamedu.claims import is_zero, require

__all__ = [
    "Decoupling",
    "GradientDescentRate",
    "HeavyBall",
    "derive_decoupling",
    "derive_gradient_descent",
    "derive_heavy_ball",
    "gradient_descent_rate",
    "heavy_ball_mode_rate",
    "heavy_ball_rate",
    "heavy_ball_matrix",
    "damping",
    "optimal_gradient_descent",
    "optimal_heavy_ball",
    "eigenmodes",
    "mode_errors",
]



# --- The eigen-decomposition ------------------------------------------------------------------


@dataclass(frozen=True)
class Decoupling:
    """Gradient descent and heavy ball on a 2-D quadratic, before and after the change of basis."""

    hessian: sp.Matrix
    """A = Q diag(λ1, λ2) Qᵀ with Q the rotation by φ."""
    gd_matrix: sp.Matrix
    """I − αA: one gradient-descent step maps the error θ − θ* to (I − αA)(θ − θ*)."""
    gd_matrix_eigenbasis: sp.Matrix
    """Qᵀ(I − αA)Q = diag(1 − αλ1, 1 − αλ2)."""
    heavy_ball_matrix: sp.Matrix
    """The 4x4 map of the state (b, θ − θ*) for one heavy-ball step."""
    heavy_ball_matrix_eigenbasis: sp.Matrix
    """The same map in the coordinates (y1, x1, y2, x2), y = Qᵀb, x = Qᵀ(θ − θ*): block-diagonal."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_decoupling() -> Decoupling:
    """Show that the eigenvectors of A decouple both methods into independent 1-D (or 2x2) problems."""
    alpha, mu, lam1, lam2 = sp.symbols("alpha mu lambda_1 lambda_2", positive=True)
    phi = sp.Symbol("phi", real=True)
    Q = sp.Matrix([[sp.cos(phi), -sp.sin(phi)], [sp.sin(phi), sp.cos(phi)]])
    require(is_zero(Q.T * Q - sp.eye(2)), "the rotation Q is orthogonal")
    Lam = sp.diag(lam1, lam2)
    A = Q * Lam * Q.T
    I2 = sp.eye(2)

    gd = I2 - alpha * A
    gd_eig = sp.simplify(Q.T * gd * Q)
    require(is_zero(gd_eig - sp.diag(1 - alpha * lam1, 1 - alpha * lam2)),
            "Q^T (I - alpha A) Q = diag(1 - alpha lambda_i)")

    # Heavy ball on the state (b, e), e = θ − θ*: b' = μb + Ae, e' = e − αb' = −αμb + (I − αA)e.
    hb = sp.BlockMatrix([[mu * I2, A], [-alpha * mu * I2, I2 - alpha * A]]).as_explicit()
    T = sp.diag(Q, Q)
    hb_rotated = sp.simplify(T.T * hb * T)
    # Reorder the coordinates (y1, y2, x1, x2) -> (y1, x1, y2, x2): one 2x2 block per eigenvalue.
    P = sp.Matrix([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
    hb_eig = sp.simplify(P * hb_rotated * P.T)
    blocks = sp.diag(*(sp.Matrix([[mu, lam], [-alpha * mu, 1 - alpha * lam]]) for lam in (lam1, lam2)))
    require(is_zero(hb_eig - blocks), "heavy ball is block-diagonal in the eigenbasis")
    return Decoupling(hessian=A, gd_matrix=gd, gd_matrix_eigenbasis=gd_eig, heavy_ball_matrix=hb,
                      heavy_ball_matrix_eigenbasis=hb_eig,
                      symbols=dict(alpha=alpha, mu=mu, lam1=lam1, lam2=lam2, phi=phi, Q=Q))


# --- Gradient descent -------------------------------------------------------------------------


@dataclass(frozen=True)
class GradientDescentRate:
    """The best constant learning rate of gradient descent on a quadratic and its rate."""

    mode_factor: sp.Expr
    """1 − αλ: one step multiplies the error in the eigen-direction of λ by this factor."""
    optimal_lr: sp.Expr
    """2/(λ1 + λn), where the slowest and the fastest mode shrink equally fast."""
    optimal_rate: sp.Expr
    """(κ − 1)/(κ + 1), the rate at the optimal learning rate."""
    steps_per_e_fold: sp.Expr
    """κ/2: the number of steps that shrink the error by a factor e, to leading order in κ."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_gradient_descent() -> GradientDescentRate:
    r"""The rate :math:`\max_i |1 - \alpha\lambda_i|` is smallest at :math:`\alpha = 2/(\lambda_1+\lambda_n)`."""
    alpha, lam, lam1, lamn, kappa = sp.symbols("alpha lambda lambda_1 lambda_n kappa", positive=True)
    factor = 1 - alpha * lam
    # |1 − αλ| is largest at an end of the spectrum: for small α at λ1 (factor 1 − αλ1, falling in
    # α), for large α at λn (factor αλn − 1, rising in α). The best α makes them equal.
    slow, fast = factor.subs(lam, lam1), -factor.subs(lam, lamn)
    require(sp.diff(slow, alpha).is_negative and sp.diff(fast, alpha).is_positive,
            "the slow mode's factor falls and the fast mode's rises with alpha")
    (alpha_star,) = sp.solve(sp.Eq(slow, fast), alpha)
    require(is_zero(alpha_star - 2 / (lam1 + lamn)), "alpha* = 2/(lambda_1 + lambda_n)")
    rate = sp.simplify(slow.subs(alpha, alpha_star).subs(lamn, kappa * lam1))
    require(is_zero(rate - (kappa - 1) / (kappa + 1)), "rate = (kappa - 1)/(kappa + 1)")
    e_fold = sp.limit(-1 / sp.log(rate) / kappa, kappa, sp.oo)
    require(e_fold == sp.Rational(1, 2), "about kappa/2 steps per e-fold")
    return GradientDescentRate(mode_factor=factor, optimal_lr=alpha_star, optimal_rate=rate,
                               steps_per_e_fold=kappa / 2,
                               symbols=dict(alpha=alpha, lam=lam, lam1=lam1, lamn=lamn, kappa=kappa))


# --- Heavy ball -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeavyBall:
    """Heavy-ball momentum on one eigenmode, and its best parameters for a spectrum [λ1, λn]."""

    matrix: sp.Matrix
    """R = [[μ, λ], [−αμ, 1 − αλ]], acting on the mode's state (y, x)."""
    characteristic_polynomial: sp.Expr
    """σ² − (1 + μ − αλ)σ + μ, in the symbol σ."""
    roots: tuple
    """The two eigenvalues σ of R."""
    discriminant: sp.Expr
    """(1 + μ − αλ)² − 4μ: the roots are complex (the mode oscillates) when it is negative."""
    complex_modulus: sp.Expr
    """√μ, the modulus of both roots when they are complex."""
    critical_momentum: sp.Expr
    """(1 − √(αλ))²: the momentum at which the roots meet (critical damping), for αλ < 1."""
    critical_rate: sp.Expr
    """1 − √(αλ), the double root at critical damping."""
    stability_limit: sp.Expr
    """2(1 + μ): the mode converges for 0 < αλ < 2(1 + μ)."""
    optimal_lr: sp.Expr
    """(2/(√λ1 + √λn))²."""
    optimal_momentum: sp.Expr
    """((√κ − 1)/(√κ + 1))²."""
    optimal_rate: sp.Expr
    """(√κ − 1)/(√κ + 1)."""
    steps_per_e_fold: sp.Expr
    """√κ/2 to leading order (gradient descent needs κ/2)."""
    symbols: dict


@functools.lru_cache(maxsize=None)
def derive_heavy_ball() -> HeavyBall:
    """Derive the rate of heavy ball on a quadratic and its optimal parameters (Polyak, 1964)."""
    alpha, mu, lam, lam1, lamn, kappa = sp.symbols("alpha mu lambda lambda_1 lambda_n kappa",
                                                     positive=True)
    sigma = sp.Symbol("sigma")
    R = sp.Matrix([[mu, lam], [-alpha * mu, 1 - alpha * lam]])
    # R is the mode's block of derive_decoupling(): check it against that derivation.
    dec = derive_decoupling()
    block = dec.heavy_ball_matrix_eigenbasis[:2, :2].subs(
        {dec.symbols["alpha"]: alpha, dec.symbols["mu"]: mu, dec.symbols["lam1"]: lam})
    require(is_zero(block - R), "R is the eigenmode block of heavy ball")

    poly = sp.expand(R.charpoly(sigma).as_expr())
    require(is_zero(poly - (sigma**2 - (1 + mu - alpha * lam) * sigma + mu)),
            "characteristic polynomial sigma^2 - (1 + mu - alpha lambda) sigma + mu")
    roots = tuple(sp.solve(poly, sigma))
    require(len(roots) == 2, "two roots")
    require(is_zero(roots[0] * roots[1] - mu) and is_zero(R.det() - mu), "the roots multiply to mu")
    disc = sp.discriminant(poly, sigma)
    require(is_zero(disc - ((1 + mu - alpha * lam) ** 2 - 4 * mu)), "discriminant")
    # Complex roots are conjugate, so each has modulus² = their product = μ.
    modulus = sp.sqrt(mu)

    # Critical damping: the discriminant vanishes. As an equation in μ it has the two roots
    # (1 ± √(αλ))²; the one below 1 (for αλ < 1) is (1 − √(αλ))².
    s = sp.Symbol("s", positive=True)  # s = √(αλ)
    crit = sp.solve(sp.Eq(disc.subs(alpha, s**2 / lam), 0), mu)
    require({sp.expand(c) for c in crit} == {sp.expand((1 - s) ** 2), sp.expand((1 + s) ** 2)},
            "the discriminant vanishes at mu = (1 -+ sqrt(alpha lambda))^2")
    critical_mu = (1 - s) ** 2
    double_root = sp.simplify(((1 + mu - alpha * lam) / 2).subs(alpha, s**2 / lam).subs(mu, critical_mu))
    require(is_zero(double_root - (1 - s)), "critical damping: the double root is 1 - sqrt(alpha lambda)")
    require(is_zero(double_root**2 - critical_mu), "... which equals sqrt(mu)")

    # Stability (Jury's test for a monic quadratic with constant term μ < 1): p(1) > 0 and p(−1) > 0.
    require(is_zero(poly.subs(sigma, 1) - alpha * lam), "p(1) = alpha lambda > 0")
    p_minus = sp.expand(poly.subs(sigma, -1))
    require(is_zero(p_minus - (2 + 2 * mu - alpha * lam)), "p(-1) = 2(1 + mu) - alpha lambda")

    # The best (α, μ): every rate is at least √μ (the larger of two roots whose product is μ), and
    # it equals √μ exactly for the modes in the complex (or critical) band
    # (1 − √μ)² ≤ αλ ≤ (1 + √μ)². The smallest μ that fits the whole spectrum puts λ1 on the lower
    # edge and λn on the upper edge: √(αλ1) = 1 − √μ and √(αλn) = 1 + √μ, linear in (√α, √μ).
    ra, rb = sp.symbols("r_alpha r_mu", positive=True)  # √α, √μ
    sol = sp.solve([sp.Eq(ra * sp.sqrt(lam1), 1 - rb), sp.Eq(ra * sp.sqrt(lamn), 1 + rb)], [ra, rb], dict=True)
    require(len(sol) == 1, "one solution for (sqrt(alpha), sqrt(mu))")
    alpha_star = sp.simplify(sol[0][ra] ** 2)
    require(is_zero(alpha_star - (2 / (sp.sqrt(lam1) + sp.sqrt(lamn))) ** 2),
            "alpha* = (2/(sqrt(lambda_1) + sqrt(lambda_n)))^2")
    in_kappa = {lamn: kappa * lam1}
    rate = sp.simplify(sol[0][rb].subs(in_kappa))
    target_rate = (sp.sqrt(kappa) - 1) / (sp.sqrt(kappa) + 1)
    require(is_zero(rate - target_rate), "rate = (sqrt(kappa) - 1)/(sqrt(kappa) + 1)")
    mu_star = target_rate**2
    # At (α*, μ*) both ends are exactly critically damped.
    for end in (lam1, kappa * lam1):
        d = disc.subs({alpha: alpha_star.subs(in_kappa), mu: mu_star, lam: end})
        require(is_zero(d), "both ends of the spectrum are critically damped at the optimum")
    # Heavy ball beats the best gradient descent for every κ > 1: the difference of the rates
    # is 2√κ(√κ − 1)/((κ + 1)(√κ + 1)) > 0.
    gd_rate = derive_gradient_descent().optimal_rate.subs(derive_gradient_descent().symbols["kappa"], kappa)
    gap = sp.factor(sp.simplify(gd_rate - target_rate))
    require(is_zero(gap - 2 * sp.sqrt(kappa) * (sp.sqrt(kappa) - 1) / ((kappa + 1) * (sp.sqrt(kappa) + 1))),
            "the rate gap to gradient descent")
    e_fold = sp.limit(-1 / sp.log(target_rate) / sp.sqrt(kappa), kappa, sp.oo)
    require(e_fold == sp.Rational(1, 2), "about sqrt(kappa)/2 steps per e-fold")

    return HeavyBall(
        matrix=R, characteristic_polynomial=poly, roots=roots, discriminant=disc,
        complex_modulus=modulus, critical_momentum=(1 - sp.sqrt(alpha * lam)) ** 2,
        critical_rate=1 - sp.sqrt(alpha * lam), stability_limit=2 * (1 + mu),
        optimal_lr=alpha_star, optimal_momentum=mu_star, optimal_rate=target_rate,
        steps_per_e_fold=sp.sqrt(kappa) / 2,
        symbols=dict(alpha=alpha, mu=mu, lam=lam, lam1=lam1, lamn=lamn, kappa=kappa, sigma=sigma),
    )


# --- Numbers ------------------------------------------------------------------------------------


def _check_lr_momentum(lr, momentum):
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"Invalid lr: {lr} (must be a positive finite number)")
    if not (0.0 <= momentum < 1.0):
        raise ValueError(f"Invalid momentum: {momentum} (must be in [0, 1))")


def gradient_descent_rate(lr: float, eigenvalues) -> float:
    r"""Rate :math:`\max_i |1 - \alpha\lambda_i|` of gradient descent: the error shrinks by it per step."""
    _check_lr_momentum(lr, 0.0)
    lam = np.asarray(eigenvalues, dtype=float)
    return float(np.max(np.abs(1.0 - lr * lam)))


def heavy_ball_matrix(lr: float, momentum: float, eigenvalue: float) -> np.ndarray:
    """R = [[μ, λ], [−αμ, 1 − αλ]]: one heavy-ball step on the mode's state (y, x)."""
    return np.array([[momentum, eigenvalue], [-lr * momentum, 1.0 - lr * eigenvalue]], dtype=float)


def heavy_ball_mode_rate(lr: float, momentum: float, eigenvalues) -> np.ndarray:
    """Spectral radius of R for each eigenvalue λ (vectorised): the mode's rate per step."""
    _check_lr_momentum(lr, momentum)
    lam = np.asarray(eigenvalues, dtype=float)
    trace = 1.0 + momentum - lr * lam
    disc = trace**2 - 4.0 * momentum
    root = np.sqrt(np.abs(disc))
    real = 0.5 * np.maximum(np.abs(trace + root), np.abs(trace - root))
    return np.where(disc >= 0, real, np.sqrt(momentum))


def heavy_ball_rate(lr: float, momentum: float, eigenvalues) -> float:
    """The largest mode rate: the rate of heavy ball on a quadratic with these eigenvalues."""
    return float(np.max(heavy_ball_mode_rate(lr, momentum, eigenvalues)))


def damping(lr: float, momentum: float, eigenvalue: float, tol: float = 1e-12) -> str:
    """How one mode behaves: ``"overdamped"``, ``"critical"``, ``"underdamped"`` or ``"unstable"``.

    Overdamped: two real positive roots, the mode creeps to 0 without crossing it. Underdamped:
    complex roots, it spirals in at rate √μ. Real negative roots (αλ > (1 + √μ)²) flip the sign at
    every step; they are reported as ``"overdamped"`` too when stable, as in gradient descent
    with a large step.
    """
    _check_lr_momentum(lr, momentum)
    if heavy_ball_mode_rate(lr, momentum, eigenvalue) >= 1.0:
        return "unstable"
    disc = (1.0 + momentum - lr * eigenvalue) ** 2 - 4.0 * momentum
    if abs(disc) <= tol:
        return "critical"
    return "underdamped" if disc < 0 else "overdamped"


def _check_spectrum(lam_min, lam_max):
    if not (0 < lam_min <= lam_max and np.isfinite(lam_max)):
        raise ValueError(f"Invalid spectrum: [{lam_min}, {lam_max}] (need 0 < lam_min <= lam_max)")


def optimal_gradient_descent(lam_min: float, lam_max: float) -> tuple[float, float]:
    """(learning rate, rate) of the best gradient descent for eigenvalues in [lam_min, lam_max]."""
    _check_spectrum(lam_min, lam_max)
    kappa = lam_max / lam_min
    return 2.0 / (lam_min + lam_max), (kappa - 1.0) / (kappa + 1.0)


def optimal_heavy_ball(lam_min: float, lam_max: float) -> tuple[float, float, float]:
    """(learning rate, momentum, rate) of the best heavy ball for eigenvalues in [lam_min, lam_max]."""
    _check_spectrum(lam_min, lam_max)
    root_kappa = np.sqrt(lam_max / lam_min)
    rate = (root_kappa - 1.0) / (root_kappa + 1.0)
    return float((2.0 / (np.sqrt(lam_min) + np.sqrt(lam_max))) ** 2), float(rate**2), float(rate)


def eigenmodes(problem) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors (columns) of a quadratic problem's ``hessian``."""
    hessian = getattr(problem, "hessian", None)
    if hessian is None:
        raise ValueError(f"Invalid problem: {problem!r} has no hessian (not a quadratic)")
    values, vectors = np.linalg.eigh(np.asarray(hessian, dtype=float))
    # Fix each eigenvector's sign so that its largest entry is positive (eigh leaves it open).
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(vectors.shape[1])])
    return values, vectors * signs


def mode_errors(problem, params) -> np.ndarray:
    r"""The error in each eigen-direction, :math:`x_{t,i} = q_i^\top(\theta_t - \theta^*)`, row by row."""
    _, vectors = eigenmodes(problem)
    return (np.asarray(params, dtype=float) - problem.minimizer) @ vectors
