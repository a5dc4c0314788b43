"""The book's one run loop: :func:`run` drives an optimizer on a problem and returns a :class:`Trace`.

Every experiment in the book goes through :func:`run`: the 2-D races, the minibatch training of
the experiment chapters (:func:`adamedu.experiments.train` records its loss curve with it) and the
online counterexample (:func:`adamedu.online.run_online` adds the projection and the decaying step
size). So seeding, learning-rate schedules and what counts as divergence are defined once, here.

A trace holds one row per step (``params`` and ``loss`` have an extra row 0 for the start). For
optimizers that keep moment estimates (the Adam family) it also holds the bias-corrected
estimates m̂ and v̂ after each step, as the optimizer itself reports them through
:meth:`adamedu.optim.Optimizer.moments` (each class documents what they are: for Adam and AdamW
exactly the two quantities its update divides, with AMSGrad's running maximum and without bias
correction when it is switched off; for NAdam and RAdam the bias-corrected moments, which their
steps combine differently; for Adamax m̂ and u², so that √v̂ = u is what its step divides by), and
``snr`` = m̂/√v̂ coordinate by coordinate (0 where v̂ = 0). For other optimizers these three fields
are None. With ``maximize=True`` the moments are those of −g, as the optimizer stores them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adamedu import optim

__all__ = ["Trace", "run", "FIELDS"]

FIELDS = ("params", "loss", "grad", "update", "m_hat", "v_hat", "snr", "lr", "step_size")
_MOMENTS = ("m_hat", "v_hat", "snr")
_PER_STEP = ("grad", "update", "m_hat", "v_hat", "snr", "step_size")


@dataclass
class Trace:
    """The record of one run: NumPy arrays, None where not recorded.

    ``at``: the step counts at which ``params`` and ``loss`` were recorded (by default every step
    0..steps, so row t is after step t and row 0 the start). ``params`` (len(at), dim); ``loss``
    (len(at),), the problem's ``loss`` (for stochastic problems the exact, full objective, not the
    minibatch loss) or the ``metric`` given to :func:`run`. One row per step (row t−1 for step t):
    ``grad``, the gradient the optimizer received; ``update``, Δ_t = θ_t − θ_{t−1}; ``m_hat``,
    ``v_hat``, ``snr`` (see the module docstring); ``lr``, the learning rate of step t;
    ``step_size``, the per-coordinate step size η_t the optimizer class documents. ``final``:
    the parameters at the end of the run (always kept).
    """

    params: np.ndarray | None
    loss: np.ndarray | None
    grad: np.ndarray | None
    update: np.ndarray | None
    m_hat: np.ndarray | None
    v_hat: np.ndarray | None
    snr: np.ndarray | None
    lr: np.ndarray | None = None
    step_size: np.ndarray | None = None
    at: np.ndarray | None = None
    final: np.ndarray | None = None
    optimizer: str = ""
    hyperparameters: dict = field(default_factory=dict)
    problem: str = ""
    seed: int = 0
    steps: int = 0
    diverged: bool = False

    @property
    def label(self) -> str:
        """A short legend entry such as ``Adam(lr=0.1)``."""
        hp = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in self.hyperparameters.items())
        return f"{self.optimizer}({hp})"


def _keeps_moments(opt: optim.Optimizer) -> bool:
    """Whether the optimizer reports moment estimates (its class defines them)."""
    return type(opt)._moments is not optim.Optimizer._moments


def _record_steps(record_at: Iterable[int] | None, steps: int) -> np.ndarray:
    if record_at is None:
        return np.arange(steps + 1)
    at = np.asarray(record_at, dtype=int).reshape(-1)
    if at.size == 0 or np.any(np.diff(at) <= 0) or at[0] < 0 or at[-1] > steps:
        raise ValueError("Invalid record_at: must be increasing step counts within [0, steps]")
    return at


def run(optimizer_cls: Callable[..., optim.Optimizer], problem: Any, steps: int, x0=None,
        seed: int = 0, record: Iterable[str] | str | None = None, *,
        record_at: Iterable[int] | None = None, metric: Callable[[np.ndarray], float] | None = None,
        lr_schedule: Callable[[int], float] | None = None,
        project: Callable[[np.ndarray], Any] | None = None, on_nonfinite: str = "raise",
        **hyperparameters: Any) -> Trace:
    """Run ``optimizer_cls([x], **hyperparameters)`` on ``problem`` for ``steps`` steps.

    ``x`` starts as a float64 copy of ``x0``, else ``problem.init(seed)`` if the problem has
    one (the MLP's random initialisation), else ``problem.x0``. At step t = 1..steps the optimizer
    receives ``problem.stochastic_grad(x, rng)`` with ``rng = numpy.random.default_rng(seed)``
    (an online problem defines ``gradient_at(x, t)`` instead), so a run is reproducible from its
    seed. Hyperparameters not given keep the optimizer's own defaults.

    Parameters
    ----------
    record : iterable of str, optional
        Which of ``FIELDS`` to keep (default: all but ``step_size``; the moment fields only for
        optimizers that keep moment estimates). Only what is recorded is allocated, once, before
        the loop: ``record=("loss",)`` keeps a long run of a large model cheap.
    record_at : iterable of int, optional
        The step counts (increasing, within 0..steps) at which ``params`` and ``loss`` are
        recorded; default every step.
    metric : callable, optional
        ``metric(x) -> float`` recorded as ``loss`` instead of ``problem.loss``.
    lr_schedule : callable, optional
        ``lr_schedule(t)`` is the learning rate of step t, set in every parameter group
        (``group["lr"]``) before the step.
    project : callable, optional
        Called as ``project(x)`` after every step to put ``x`` back into the feasible set, in place.
    on_nonfinite : ``"raise"`` or ``"stop"``
        What to do when the run diverges, i.e. the optimizer refuses a non-finite gradient
        (``FloatingPointError``): re-raise, or end the run there and return the trace truncated
        to the steps taken, with ``diverged=True`` (useful for learning-rate sweeps). A run whose
        parameters end non-finite is marked diverged as well.
    """
    if int(steps) != steps or steps < 0:
        raise ValueError(f"Invalid steps: {steps} (must be a non-negative integer)")
    steps = int(steps)
    if on_nonfinite not in ("raise", "stop"):
        raise ValueError(f"Invalid on_nonfinite: {on_nonfinite!r} (must be 'raise' or 'stop')")
    default = [f for f in FIELDS if f != "step_size"]
    wanted = set(default if record is None else ((record,) if isinstance(record, str) else record))
    unknown = wanted - set(FIELDS)
    if unknown:
        raise ValueError(f"Invalid record: {sorted(unknown)} (choose from {FIELDS})")
    at = _record_steps(record_at, steps)

    if x0 is None:
        x0 = problem.init(seed) if hasattr(problem, "init") else problem.x0
    x = np.array(x0, dtype=np.float64, ndmin=1)  # always a copy
    dim = getattr(problem, "dim", None)
    if dim is not None and x.shape != (dim,):
        raise ValueError(f"Invalid x0 shape: {x.shape} (expected ({dim},))")
    shape = x.shape
    if "step_size" in wanted:
        hyperparameters.setdefault("track_updates", True)
    opt = optimizer_cls([x], **hyperparameters)
    moments = opt.moments if wanted & set(_MOMENTS) and _keeps_moments(opt) else None
    if moments is None:
        wanted -= set(_MOMENTS)
    rng = np.random.default_rng(seed)

    def rows(n: int, name: str) -> np.ndarray | None:
        return np.empty((n,) + shape) if name in wanted else None

    params = rows(len(at), "params")
    grads, update = rows(steps, "grad"), rows(steps, "update")
    m_hat, v_hat, snr = rows(steps, "m_hat"), rows(steps, "v_hat"), rows(steps, "snr")
    step_size = rows(steps, "step_size")
    lrs = np.empty(steps) if "lr" in wanted else None
    # The loss of a vectorised problem is computed in one call from the recorded params after the
    # loop; otherwise at each recorded step (a metric is always called per step).
    loss_fn = problem.loss if metric is None else metric
    loss_after = ("loss" in wanted and params is not None and metric is None
                  and getattr(problem, "vectorized_loss", False))
    loss = np.full(len(at), np.inf) if "loss" in wanted else None
    k = 0  # next row of params/loss
    if at[0] == 0:
        if params is not None:
            params[0] = x
        if loss is not None and not loss_after:
            loss[0] = loss_fn(x)
        k = 1
    prev = np.empty(shape) if update is not None else None
    gradient_at = getattr(problem, "gradient_at", None)
    stochastic_grad = problem.stochastic_grad if gradient_at is None else None
    groups = opt.param_groups
    step = opt.step

    taken = steps
    for t in range(1, steps + 1):
        g = stochastic_grad(x, rng) if gradient_at is None else gradient_at(x, t)
        if lr_schedule is not None:
            lr = lr_schedule(t)
            for group in groups:
                group["lr"] = lr
        if prev is not None:
            prev[...] = x
        try:
            step([g])
        except FloatingPointError:
            if on_nonfinite == "raise":
                raise
            taken = t - 1
            break
        if project is not None:
            project(x)
        if lrs is not None:
            lrs[t - 1] = groups[0]["lr"]
        if grads is not None:
            grads[t - 1] = g
        if prev is not None:
            np.subtract(x, prev, out=update[t - 1])
        if step_size is not None:
            step_size[t - 1] = opt.last_step_size[0]
        if moments is not None:
            m_now, v_now = moments(0)
            if m_hat is not None:
                m_hat[t - 1] = m_now
            if v_hat is not None:
                v_hat[t - 1] = v_now
            if snr is not None and (m_hat is None or v_hat is None):
                np.sqrt(v_now, out=snr[t - 1])  # m̂/√v̂, left at 0 where v̂ = 0
                np.divide(m_now, snr[t - 1], out=snr[t - 1], where=snr[t - 1] > 0)
        if k < len(at) and at[k] == t:
            if params is not None:
                params[k] = x
            if loss is not None and not loss_after:
                loss[k] = loss_fn(x)
            k += 1

    diverged = taken < steps or not bool(np.all(np.isfinite(x)))
    if taken < steps:
        recorded = int(np.searchsorted(at, taken, side="right"))
        params = None if params is None else params[:recorded]
        if not loss_after and loss is not None:
            loss = loss[:recorded]
        grads, update, m_hat, v_hat, snr, step_size = (
            None if a is None else a[:taken] for a in (grads, update, m_hat, v_hat, snr, step_size))
        lrs = None if lrs is None else lrs[:taken]
        at = at[:recorded]
    if loss_after:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run's loss may be inf
            loss = np.asarray(problem.loss(params), dtype=np.float64)
    if snr is not None and m_hat is not None and v_hat is not None:  # m̂/√v̂, 0 where v̂ = 0
        np.sqrt(v_hat, out=snr)
        np.divide(m_hat, snr, out=snr, where=snr > 0)
    return Trace(params=params, loss=loss, grad=grads, update=update, m_hat=m_hat, v_hat=v_hat,
                 snr=snr, lr=lrs, step_size=step_size, at=at, final=x.copy(),
                 optimizer=getattr(optimizer_cls, "__name__", type(opt).__name__),
                 hyperparameters={k2: v for k2, v in hyperparameters.items() if k2 != "track_updates"},
                 problem=getattr(problem, "name", ""), seed=seed, steps=taken, diverged=diverged)
