"""Drive an optimizer on a problem and record what happens: :func:`run` returns a :class:`Trace`.

A trace holds one row per step (``params`` and ``loss`` have an extra row 0 for the start). For the
Adam family it also holds the bias-corrected moment estimates the optimizer divided, read from the
optimizer's own state after each step (the update itself is never recomputed here).

What m̂ and v̂ mean for each member of the Adam family, with t the step count, ``m`` =
``exp_avg`` and ``v`` = ``exp_avg_sq`` from the optimizer's state (PyTorch's names):

- ``Adam`` and ``AdamW``: m̂ = m/(1−β1^t) and v̂ = v/(1−β2^t), exactly the quantities of the
  update Δ = −lr·m̂/(√v̂ + eps) (before weight decay). With ``amsgrad=True``, v̂ uses the running
  maximum ``max_exp_avg_sq`` as the update does. With ``Adam(..., bias_correction=False)``,
  m̂ = m and v̂ = v, again what the update divides.
- ``NAdam`` and ``RAdam``: the same bias-corrected moments m/(1−β1^t) and v/(1−β2^t). They are
  the optimizer's estimates of E[g] and E[g²], but not literally the ratio its step uses: NAdam
  mixes m and the current gradient with its momentum schedule, and RAdam multiplies by its
  rectification term (and uses no v̂ at all in its first steps).
- ``Adamax``: m̂ = m/(1−β1^t) and v̂ = u², where u = ``exp_inf`` is the infinity-norm estimate the
  step divides by (in PyTorch's form it already contains eps), so that √v̂ = u and
  ``snr`` = m̂/u is exactly the step divided by −lr.

In every case ``snr`` = m̂/√v̂ coordinate by coordinate (0 where v̂ = 0, which only happens while a
coordinate has seen nothing but zero gradients). For other optimizers these three fields are None.
With ``maximize=True`` the moments are those of −g, as the optimizer stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from adamedu import optim

__all__ = ["Trace", "run", "FIELDS"]

FIELDS = ("params", "loss", "grad", "update", "m_hat", "v_hat", "snr")
_MOMENTS = ("m_hat", "v_hat", "snr")


@dataclass
class Trace:
    """The record of one run: NumPy arrays with one row per step, None where not recorded.

    ``params`` (steps+1, dim), row 0 = start; ``loss`` (steps+1,), the problem's ``loss`` (for the
    stochastic problems the exact, full objective, not the minibatch loss); ``grad`` (steps, dim),
    the gradient the optimizer received at step t (row t−1); ``update`` (steps, dim),
    Δ_t = θ_t − θ_{t−1}; ``m_hat``, ``v_hat``, ``snr`` (steps, dim) for the Adam family (see the
    module docstring), after step t.
    """

    params: np.ndarray | None
    loss: np.ndarray | None
    grad: np.ndarray | None
    update: np.ndarray | None
    m_hat: np.ndarray | None
    v_hat: np.ndarray | None
    snr: np.ndarray | None
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


def _moment_reader(opt):
    """A function ``read(state) -> (m, m_divisor, v_source, v_divisor)`` or None.

    It returns the arrays stored in the optimizer's state together with the bias-correction
    divisors (m̂ = m/m_divisor, v̂ = v_source/v_divisor), so that the caller writes m̂ and v̂
    straight into its preallocated rows. For Adamax ``v_divisor`` is None: ``v_source`` is the
    infinity-norm estimate u and v̂ = u².
    """
    if isinstance(opt, optim.Adamax):
        beta1 = opt.defaults["betas"][0]

        def read(state):
            return state["exp_avg"], 1.0 - beta1 ** state["step"], state["exp_inf"], None

        return read
    if isinstance(opt, (optim.Adam, optim.AdamW, optim.NAdam, optim.RAdam)):
        beta1, beta2 = opt.defaults["betas"]
        corrected = opt.defaults.get("bias_correction", True)
        v_key = "max_exp_avg_sq" if opt.defaults.get("amsgrad", False) else "exp_avg_sq"

        def read(state):
            t = state["step"]
            if corrected:
                return state["exp_avg"], 1.0 - beta1**t, state[v_key], 1.0 - beta2**t
            return state["exp_avg"], 1.0, state[v_key], 1.0

        return read
    return None


def run(optimizer_cls, problem, steps: int, x0=None, seed: int = 0, record=None,
        on_nonfinite: str = "raise", **hyperparameters) -> Trace:
    """Run ``optimizer_cls([x], **hyperparameters)`` on ``problem`` for ``steps`` steps.

    ``x`` starts as a float64 copy of ``problem.x0`` (or of ``x0``); at step t = 1..steps the
    optimizer receives ``problem.stochastic_grad(x, rng)`` with ``rng = numpy.random.default_rng(seed)``,
    so a run is reproducible from its seed.

    Parameters
    ----------
    optimizer_cls : callable
        An ``adamedu.optim`` class, or anything called as ``optimizer_cls([x], **hyperparameters)``.
    record : iterable of str, optional
        Which of ``FIELDS`` to keep (default: all; the moment fields only for the Adam family).
        Only what is recorded is allocated, once, before the loop: ``record=("loss",)`` keeps a long
        run of a large model cheap.
    on_nonfinite : ``"raise"`` or ``"stop"``
        What to do when the optimizer refuses a non-finite gradient (``FloatingPointError``):
        re-raise, or end the run there and return the trace truncated to the steps taken, with
        ``diverged=True`` (useful for learning-rate sweeps).
    """
    if int(steps) != steps or steps < 0:
        raise ValueError(f"Invalid steps: {steps} (must be a non-negative integer)")
    steps = int(steps)
    if on_nonfinite not in ("raise", "stop"):
        raise ValueError(f"Invalid on_nonfinite: {on_nonfinite!r} (must be 'raise' or 'stop')")
    wanted = set(FIELDS if record is None else ((record,) if isinstance(record, str) else record))
    unknown = wanted - set(FIELDS)
    if unknown:
        raise ValueError(f"Invalid record: {sorted(unknown)} (choose from {FIELDS})")

    x = np.array(problem.x0 if x0 is None else x0, dtype=np.float64)  # always a copy
    if x.shape != (problem.dim,):
        raise ValueError(f"Invalid x0 shape: {x.shape} (expected ({problem.dim},))")
    opt = optimizer_cls([x], **hyperparameters)
    reader = _moment_reader(opt) if wanted & set(_MOMENTS) else None
    if reader is None:
        wanted -= set(_MOMENTS)
    rng = np.random.default_rng(seed)
    dim = problem.dim

    def rows(n, name):
        return np.empty((n, dim)) if name in wanted else None

    params = rows(steps + 1, "params")
    grads = rows(steps, "grad")
    update = rows(steps, "update")
    m_hat, v_hat, snr = rows(steps, "m_hat"), rows(steps, "v_hat"), rows(steps, "snr")
    # the loss of a vectorised problem is computed in one call from params after the loop
    loss_after = "loss" in wanted and params is not None and getattr(problem, "vectorized_loss", False)
    loss = np.empty(steps + 1) if "loss" in wanted else None
    if loss is not None and not loss_after:
        loss[0] = problem.loss(x)
    if params is not None:
        params[0] = x
    prev = np.empty(dim) if update is not None and params is None else None  # one scratch row
    m_tmp = np.empty(dim) if snr is not None and m_hat is None else None
    v_tmp = np.empty(dim) if snr is not None and v_hat is None else None
    stochastic_grad = problem.stochastic_grad
    step = opt.step

    taken = steps
    for t in range(1, steps + 1):
        g = stochastic_grad(x, rng)
        if prev is not None:
            prev[:] = x
        try:
            step([g])
        except FloatingPointError:
            if on_nonfinite == "raise":
                raise
            taken = t - 1
            break
        if params is not None:
            params[t] = x
        if grads is not None:
            grads[t - 1] = g
        if prev is not None:
            np.subtract(x, prev, out=update[t - 1])
        if loss is not None and not loss_after:
            loss[t] = problem.loss(x)
        if reader is not None:
            m_src, m_div, v_src, v_div = reader(opt.state[0])
            m_out = m_hat[t - 1] if m_hat is not None else m_tmp
            v_out = v_hat[t - 1] if v_hat is not None else v_tmp
            if m_out is not None:
                np.divide(m_src, m_div, out=m_out)
            if v_out is not None:
                if v_div is None:  # Adamax: v̂ = u²
                    np.multiply(v_src, v_src, out=v_out)
                else:
                    np.divide(v_src, v_div, out=v_out)
            if snr is not None and (m_hat is None or v_hat is None):
                # m̂/√v̂, left at 0 where v̂ = 0
                np.sqrt(v_out, out=snr[t - 1])
                np.divide(m_out, snr[t - 1], out=snr[t - 1], where=snr[t - 1] > 0)

    diverged = taken < steps
    if diverged:
        params = None if params is None else params[: taken + 1]
        loss = None if loss is None else loss[: taken + 1]
        grads, update, m_hat, v_hat, snr = (None if a is None else a[:taken]
                                            for a in (grads, update, m_hat, v_hat, snr))
    if loss_after:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run's loss may be inf
            loss[:] = problem.loss(params)
    if update is not None and prev is None:
        np.subtract(params[1:], params[:-1], out=update)
    if snr is not None and m_hat is not None and v_hat is not None:  # m̂/√v̂, 0 where v̂ = 0
        np.sqrt(v_hat, out=snr)
        np.divide(m_hat, snr, out=snr, where=snr > 0)
    return Trace(params=params, loss=loss, grad=grads, update=update, m_hat=m_hat, v_hat=v_hat,
                 snr=snr, optimizer=getattr(optimizer_cls, "__name__", type(opt).__name__),
                 hyperparameters=dict(hyperparameters), problem=getattr(problem, "name", ""),
                 seed=seed, steps=taken, diverged=diverged)
