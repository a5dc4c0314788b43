r"""Feedback for the book's assignments: *which* part of an answer is wrong, *where*, and by how much.

A classic gradient-check prints one relative error for a whole update.  The checks here go further.
A student's Adam function is driven step by step from the **reference state**, the
:math:`\theta_{t-1}, m_{t-1}, v_{t-1}` that :class:`adamedu.Adam` itself reaches, so every step is
checked on its own, and within a step the parts are checked in the order the algorithm computes
them: first moment :math:`m_t`, second moment :math:`v_t`, then the new parameters
:math:`\theta_t`.  The first part that differs is reported with

* the step :math:`t` at which it first differs and the inputs of that call,
* the expected and the received values, and the relative error next to the threshold,
* the likely mistake, when the received value matches one from a catalogue of common ones (bias
  correction left out, :math:`\epsilon` inside the square root, ascent instead of descent, the
  bias-corrected :math:`\hat m_t` returned as state, ...).

The probe inputs are chosen so that every catalogued mistake changes the result visibly at the
first step where it can act: gradients whose scales span three orders of magnitude, with a
constant sign per coordinate (no cancellation, so relative errors are meaningful), parameters of
magnitude 1 to 2, :math:`\beta_1 \ne \beta_2` and an :math:`\epsilon` comparable to
:math:`\sqrt{\hat v_t}` for the smallest coordinate.

Every ``check_*`` function returns ``None`` when the answer is right and raises
``AssertionError`` with a readable message otherwise, so a test is one line.  The matching
``diagnose_*`` functions return the :class:`Finding` (or ``None``) instead of raising.

Relative error, as in CS231n: :math:`\max_i |x_i - y_i| / \max(|x_i| + |y_i|, \text{tiny})`.
"""

from __future__ import annotations

import inspect
import math
import textwrap
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = [
    "ADAM_PROBE",
    "Finding",
    "rel_error",
    "threshold_for",
    "probe_inputs",
    "reference_adam",
    "diagnose_update_moments",
    "diagnose_bias_correct",
    "diagnose_adam_step",
    "diagnose_amsgrad_step",
    "check_update_moments",
    "check_bias_correct",
    "check_adam_step",
    "check_amsgrad_step",
    "check_answered",
    "check_array",
    "check_expression",
    "check_monte_carlo",
    "check_number",
    "assignment_questions",
    "assignment_outline",
]

#: Hyperparameters of the public probe.  beta1 != beta2 and 1 - beta1 != sqrt(1 - beta2) keep the
#: catalogued mistakes apart; eps = 1e-3 is comparable to sqrt(v_hat) of the smallest gradients
#: (about 1e-2), so where eps goes changes the step by several per cent.
ADAM_PROBE = dict(lr=0.1, beta1=0.8, beta2=0.9, eps=1e-3)

_SIGNATURES = {
    "update_moments": "update_moments(m, v, grad, beta1, beta2) -> (m_new, v_new)",
    "bias_correct": "bias_correct(m, v, t, beta1, beta2) -> (m_hat, v_hat)",
    "adam_step": "adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps) -> (theta_new, m_new, v_new)",
    "amsgrad_step": "amsgrad_step(theta, grad, m, v, v_max, t, lr, beta1, beta2, eps) -> "
                    "(theta_new, m_new, v_new, v_max_new)",
}


_OUTPUTS = {
    "update_moments": ("m_new", "v_new"),
    "bias_correct": ("m_hat", "v_hat"),
    "adam_step": ("theta_new", "m_new", "v_new"),
    "amsgrad_step": ("theta_new", "m_new", "v_new", "v_max_new"),
}


def rel_error(expected, got) -> float:
    """Largest elementwise relative error ``|x - y| / (|x| + |y|)`` (CS231n's measure).

    Non-finite entries in ``got`` where ``expected`` is finite count as error ``inf``.
    """
    x = np.asarray(expected, dtype=np.float64)
    y = np.asarray(got, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: expected {x.shape}, got {y.shape}")
    if x.size == 0:
        return 0.0
    if not np.all(np.isfinite(y)):
        return math.inf
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.abs(x - y) / np.maximum(np.abs(x) + np.abs(y), np.finfo(np.float64).tiny)
    return float(np.max(err))


def threshold_for(dtype) -> float:
    """Relative-error threshold for a correct implementation in ``dtype``.

    A correct float64 answer that orders the operations differently from the reference differs by
    a few units in the last place (about 1e-16); 1e-10 leaves room for that and for hundreds of
    steps of accumulation, while every catalogued mistake is off by more than 1e-3.  Float32
    rounding is about 6e-8 per operation.
    """
    return 1e-10 if np.dtype(dtype) == np.float64 else 2e-5


@dataclass
class Finding:
    """One wrong part of an answer: where it first differs, by how much, and the likely cause."""

    function: str
    part: str
    step: int | None
    steps: int | None
    expected: object
    got: object
    error: float | None
    threshold: float | None
    cause: str = ""
    inputs: dict = field(default_factory=dict)
    note: str = ""

    def __str__(self) -> str:
        where = f" at step t = {self.step} (of {self.steps} checked)" if self.step is not None else ""
        if self.expected is None:  # the call itself failed: no values to compare
            lines = [f"{self.function}: {self.note}"]
        else:
            lines = [f"{self.function}: {self.part} is wrong{where}."]
            if self.note:
                lines.append(f"  {self.note}")
        if self.expected is not None:
            lines.append(f"  expected: {_fmt(self.expected)}")
            lines.append(f"  got:      {_fmt(self.got)}")
        if self.error is not None:
            lines.append(
                f"  relative error {self.error:.1e} (a correct answer is below {self.threshold:.0e})"
            )
        if self.cause:
            lines.append(textwrap.fill(f"Likely cause: {self.cause}", 80, initial_indent="  ",
                                       subsequent_indent="    ", break_on_hyphens=False))
        if self.inputs:
            lines.append("  Inputs of this call: " + ", ".join(
                f"{k} = {_fmt(v)}" for k, v in self.inputs.items() if not isinstance(v, np.ndarray)))
            lines.extend(f"    {k} = {_fmt(v)}" for k, v in self.inputs.items() if isinstance(v, np.ndarray))
        return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=6, separator=", ", max_line_width=10_000)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


# --- Probe inputs and the reference trajectory ---------------------------------------------------

def probe_inputs(shape=(4,), steps: int = 5, dtype=np.float64, seed: int = 0, burst: bool = False):
    """Starting parameters and a gradient sequence that expose the common Adam mistakes.

    Returns ``(theta0, grads)`` with ``grads`` of shape ``(steps, *shape)``.  Each coordinate has a
    fixed sign and a scale between 1e-2 and 3 (log-spaced), jittered by up to ±50 % per step, so
    moments never cancel and a wrong :math:`\\epsilon` or power of a gradient is visible.  With
    ``burst=True`` the gradients of step 2 are 4 times larger and the later ones 4 times smaller,
    so that :math:`v_t` falls after step 2 and AMSGrad's running maximum differs from it.
    """
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    scale = np.logspace(-2, math.log10(3.0), size)
    rng.shuffle(scale)
    sign = rng.choice([-1.0, 1.0], size=size)
    jitter = 1.0 + 0.5 * rng.uniform(-1.0, 1.0, size=(steps, size))
    if burst:
        jitter[1:2] *= 4.0
        jitter[2:] /= 4.0
    grads = (sign * scale * jitter).reshape((steps, *shape)).astype(dtype)
    theta0 = (rng.choice([-1.0, 1.0], size=size) * rng.uniform(1.0, 2.0, size=size))
    return theta0.reshape(shape).astype(dtype), grads


def reference_adam(theta0, grads, lr, beta1, beta2, eps, amsgrad: bool = False):
    """Run :class:`adamedu.Adam` on the gradient sequence; return ``theta, m, v`` per step.

    Each is an array of shape ``(steps + 1, *theta0.shape)``; row 0 is the start (``m = v = 0``),
    row ``t`` the state after step ``t``, read from ``opt.state`` (``exp_avg``, ``exp_avg_sq``).
    With ``amsgrad=True`` a fourth array holds the running maximum ``max_exp_avg_sq``.
    """
    from adamedu.optim import Adam

    x = np.array(theta0, copy=True)
    opt = Adam([x], lr=lr, betas=(beta1, beta2), eps=eps, amsgrad=amsgrad)
    theta, m, v, v_max = [x.copy()], [np.zeros_like(x)], [np.zeros_like(x)], [np.zeros_like(x)]
    for g in grads:
        opt.step([g])
        theta.append(x.copy())
        m.append(opt.state[0]["exp_avg"].copy())
        v.append(opt.state[0]["exp_avg_sq"].copy())
        if amsgrad:
            v_max.append(opt.state[0]["max_exp_avg_sq"].copy())
    out = (np.array(theta), np.array(m), np.array(v))
    return out + (np.array(v_max),) if amsgrad else out


# --- Catalogues of common mistakes ---------------------------------------------------------------

def _moment_mistakes(m_prev, v_prev, g, t, beta1, beta2, m_t):
    """Known wrong versions of m_t and v_t, each with an explanation."""
    b1, b2 = beta1, beta2
    first = {
        "the (1 - beta1) factor is missing: m_t = beta1*m_{t-1} + g_t":
            b1 * m_prev + g,
        "beta1 and (1 - beta1) are swapped: m_t = (1 - beta1)*m_{t-1} + beta1*g_t":
            (1 - b1) * m_prev + b1 * g,
        "the first moment uses beta2 instead of beta1":
            b2 * m_prev + (1 - b2) * g,
        "the first moment averages the squared gradient; m_t averages g_t itself":
            b1 * m_prev + (1 - b1) * g * g,
        "m is returned unchanged; it must be updated with the new gradient": m_prev,
    }
    second = {
        "the gradient is not squared: v_t = beta2*v_{t-1} + (1 - beta2)*g_t must use g_t**2":
            b2 * v_prev + (1 - b2) * g,
        "|g_t| is averaged instead of g_t**2": b2 * v_prev + (1 - b2) * np.abs(g),
        "the (1 - beta2) factor is missing: v_t = beta2*v_{t-1} + g_t**2":
            b2 * v_prev + g * g,
        "beta2 and (1 - beta2) are swapped: v_t = (1 - beta2)*v_{t-1} + beta2*g_t**2":
            (1 - b2) * v_prev + b2 * g * g,
        "the second moment uses beta1 instead of beta2": b1 * v_prev + (1 - b1) * g * g,
        "v averages the square of the new m_t instead of g_t**2": b2 * v_prev + (1 - b2) * m_t * m_t,
        "v is returned unchanged; it must be updated with the new gradient": v_prev,
    }
    if t is not None:
        v_t = b2 * v_prev + (1 - b2) * g * g
        first["the bias-corrected m_hat is returned as the state; return the raw m_t and apply "
              "the correction only when forming the step"] = m_t / (1 - b1**t)
        second["the bias-corrected v_hat is returned as the state; return the raw v_t and apply "
               "the correction only when forming the step"] = v_t / (1 - b2**t)
        second["sqrt(v_t) is returned as the state; keep v_t itself and take the square root "
               "only when forming the step"] = np.sqrt(v_t)
    return first, second


def _bias_mistakes(m, v, t, beta1, beta2):
    b1, b2 = beta1, beta2
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "no correction: m_hat = m_t / (1 - beta1**t) and v_hat = v_t / (1 - beta2**t)":
                (m, v),
            "the first moment is not corrected: m_hat = m_t / (1 - beta1**t)":
                (m, v / (1 - b2**t)),
            "the second moment is not corrected: v_hat = v_t / (1 - beta2**t)":
                (m / (1 - b1**t), v),
            "the corrections multiply instead of divide": (m * (1 - b1**t), v * (1 - b2**t)),
            "operator precedence: (1 - beta)**t was computed instead of 1 - beta**t":
                (m / (1 - b1) ** t, v / (1 - b2) ** t),
            "beta1 and beta2 are swapped in the corrections": (m / (1 - b2**t), v / (1 - b1**t)),
            "the power is t + 1 instead of t (is the step counter advanced twice?)":
                (m / (1 - b1 ** (t + 1)), v / (1 - b2 ** (t + 1))),
            "the power is t - 1 instead of t (is the step counter advanced after use?)":
                (m / (1 - b1 ** (t - 1)), v / (1 - b2 ** (t - 1))),
            "v_hat is divided by sqrt(1 - beta2**t); the square root belongs to the step, "
            "v_hat = v_t / (1 - beta2**t)": (m / (1 - b1**t), v / np.sqrt(1 - b2**t)),
        }


def _step_mistakes(theta, g, m, v, t, lr, beta1, beta2, eps):
    """Known wrong parameter updates, given the right m_t and v_t."""
    c1, c2 = 1 - beta1**t, 1 - beta2**t
    m_hat, v_hat = m / c1, v / c2
    with np.errstate(divide="ignore", invalid="ignore"):
        right = lr * m_hat / (np.sqrt(v_hat) + eps)
        return {
            "bias correction left out: the step is lr*m_t/(sqrt(v_t) + eps); use "
            "m_hat = m_t/(1 - beta1**t) and v_hat = v_t/(1 - beta2**t)":
                theta - lr * m / (np.sqrt(v) + eps),
            "the first moment is not bias-corrected: use m_hat = m_t/(1 - beta1**t) in the step":
                theta - lr * m / (np.sqrt(v_hat) + eps),
            "the second moment is not bias-corrected: use v_hat = v_t/(1 - beta2**t) in the step":
                theta - lr * m_hat / (np.sqrt(v) + eps),
            "the bias corrections multiply instead of divide":
                theta - lr * m * c1 / (np.sqrt(v * c2) + eps),
            "operator precedence: (1 - beta)**t was used instead of 1 - beta**t":
                theta - lr * (m / (1 - beta1) ** t) / (np.sqrt(v / (1 - beta2) ** t) + eps),
            "the square root of the second-moment correction is missing: the denominator is "
            "sqrt(v_t)/(1 - beta2**t) + eps, it must be sqrt(v_t/(1 - beta2**t)) + eps":
                theta - lr * m_hat / (np.sqrt(v) / c2 + eps),
            "eps is inside the square root: use sqrt(v_hat) + eps, not sqrt(v_hat + eps)":
                theta - lr * m_hat / np.sqrt(v_hat + eps),
            "eps is missing from the denominator: use sqrt(v_hat) + eps":
                theta - lr * m_hat / np.sqrt(v_hat),
            "eps is added to the uncorrected sqrt(v_t) (the paper's 'efficient' ordering with "
            "an unscaled eps); torch.optim.Adam and adamedu.Adam add eps to sqrt(v_hat_t)":
                theta - lr * (math.sqrt(c2) / c1) * m / (np.sqrt(v) + eps),
            "the square root is missing: divide by sqrt(v_hat) + eps, not v_hat + eps":
                theta - lr * m_hat / (v_hat + eps),
            "the step has the wrong sign (gradient ascent): theta_t = theta_{t-1} - lr*...":
                theta + right,
            "the learning rate lr is missing from the step": theta - right / lr,
            "the step uses the raw gradient g_t instead of m_hat":
                theta - lr * g / (np.sqrt(v_hat) + eps),
            "the function returned the step lr*m_hat/(sqrt(v_hat) + eps) instead of the new "
            "parameters theta_{t-1} - step": right,
            "the function returned the change -step instead of the new parameters": -right,
            "the parameters are returned unchanged": theta.copy(),
        }


def _max_mistakes(v_max_prev, v_t, t, beta2):
    """Known wrong versions of AMSGrad's running maximum."""
    c2 = 1 - beta2**t
    return {
        "the maximum is not taken: v_max_t must be max(v_max_{t-1}, v_t), not v_t": v_t,
        "v_max is returned unchanged; it must become max(v_max_{t-1}, v_t)": v_max_prev,
        "the maximum of the bias-corrected v_hat is stored; like torch.optim, keep the maximum "
        "of the raw v_t and bias-correct it when forming the step": np.maximum(v_max_prev, v_t / c2),
        "the minimum is taken instead of the maximum": np.minimum(v_max_prev, v_t),
    }


def _amsgrad_step_mistakes(theta, g, m, v, v_max, t, lr, beta1, beta2, eps):
    """Known wrong AMSGrad parameter updates, given the right m_t, v_t and v_max_t."""
    cat = _step_mistakes(theta, g, m, v_max, t, lr, beta1, beta2, eps)
    c1, c2 = 1 - beta1**t, 1 - beta2**t
    with np.errstate(divide="ignore", invalid="ignore"):
        cat = {
            "the step uses v_t instead of the running maximum v_max_t (that is plain Adam)":
                theta - lr * (m / c1) / (np.sqrt(v / c2) + eps),
            **{k.replace("sqrt(v_t)", "sqrt(v_max_t)").replace("v_hat = v_t/", "v_hat = v_max_t/"): val
               for k, val in cat.items()},
        }
    return cat


def _matches(got, catalogue, threshold):
    """All catalogued causes whose value equals ``got`` (to the threshold)."""
    found = []
    for cause, candidate in catalogue.items():
        pairs = zip(candidate, got) if isinstance(candidate, tuple) else [(candidate, got)]
        if all(np.shape(c) == np.shape(x) and rel_error(c, x) <= threshold for c, x in pairs):
            found.append(cause)
    return found


def _cause_text(causes, got):
    if len(causes) == 1:
        return causes[0]
    if causes:
        return "one of these (they give the same values at every step checked): " + "; or ".join(causes)
    return _nonfinite_cause(got)


# --- Calling a student's function safely ---------------------------------------------------------

class _CallProblem(Exception):
    def __init__(self, finding):
        super().__init__(str(finding))
        self.finding = finding


def _call(name, fn, args, kwargs, n_out, shape, dtype, step, steps, inputs):
    """Call ``fn``; turn every way it can fail to return ``n_out`` arrays into a Finding."""

    def problem(part, note, cause="", show_inputs=True):
        return _CallProblem(Finding(name, part, step, steps, None, None, None, None, cause=cause,
                                    inputs=inputs if show_inputs else {}, note=note))

    if not callable(fn):
        raise problem("the function", f"`{name}` is not defined as a function (it is {fn!r}).",
                      show_inputs=False)
    try:
        inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as exc:
        raise problem("the signature",
                      f"it cannot be called with these arguments ({exc}); "
                      f"it must be callable as {_SIGNATURES.get(name, name)}.") from None
    except ValueError:  # no signature available (a builtin): just call it
        pass
    try:
        with np.errstate(all="ignore"):
            out = fn(*args, **kwargs)
    except NotImplementedError:
        raise problem("the function", "not implemented yet (it raised NotImplementedError).",
                      show_inputs=False)
    except Exception as exc:  # noqa: BLE001 - any error in student code becomes feedback
        placeholder = " (a `...` placeholder is still in the code)" if "ellipsis" in str(exc) else ""
        raise problem("the function",
                      f"calling it at step t = {step} raised {type(exc).__name__}: {exc}{placeholder}")
    if out is None or out is Ellipsis:
        raise problem("the function",
                      f"not implemented yet: it returned {out!r} (is the return statement missing?).",
                      show_inputs=False)
    if not isinstance(out, (tuple, list)) or len(out) != n_out:
        got = f"a {type(out).__name__}" + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
        raise problem("the return value",
                      f"it must return a tuple of {n_out} arrays, {_SIGNATURES.get(name, name)}; "
                      f"it returned {got}.")
    arrays = []
    labels = _OUTPUTS.get(name, ())
    for i, a in enumerate(out):
        label = f"output {i} ({labels[i]})" if i < len(labels) else f"output {i}"
        if a is Ellipsis or a is None:
            raise problem("the return value", f"not finished: {label} is {a!r}.", show_inputs=False)
        a = np.asarray(a)
        if a.shape != tuple(shape):
            raise problem("the return value",
                          f"{label} has shape {a.shape}, expected {tuple(shape)} "
                          "(the shape of the parameters; every operation is elementwise).")
        if not np.issubdtype(a.dtype, np.floating):
            raise problem("the return value", f"{label} has dtype {a.dtype}, expected {np.dtype(dtype)}.")
        if np.dtype(dtype) == np.float32 and a.dtype != np.float32:
            raise problem("the return value",
                          f"{label} has dtype {a.dtype} for float32 inputs; keep the dtype of the "
                          "inputs, as torch.optim does (NumPy promotes float32 to float64 when an "
                          "operand is a float64 array or a np.float64 scalar).")
        arrays.append(a)
    return arrays


def _nonfinite_cause(arr):
    if np.all(np.isfinite(arr)):
        return ""
    return ("the result contains inf or NaN: a division by zero? At t = 1, 1 - beta**(t-1) = 0, "
            "so check that the powers use the current step t (counting from 1).")


# --- Diagnoses -----------------------------------------------------------------------------------

def _diagnose(name, steps, evaluate, threshold):
    """Shared loop: ``evaluate(t)`` returns ``(inputs, parts)``, where ``parts`` lists
    ``(part, expected, got, catalogue_factory)`` in the order the algorithm computes them.

    The first wrong part at the first wrong step is reported.  When several catalogued mistakes
    explain it (at t = 1, m_0 = v_0 = 0 makes some coincide), the later steps narrow the list.
    """
    finding, causes, passed = None, None, []
    for t in range(1, steps + 1):
        try:
            inputs, parts = evaluate(t)
        except _CallProblem as exc:
            return finding or exc.finding
        for part, expected, got, catalogue, note in parts:
            err = rel_error(expected, got)
            if err <= threshold:
                if finding is None and catalogue:
                    passed.append((part, got, catalogue))
                continue
            matched = _matches(got, catalogue(), threshold) if catalogue else []
            if finding is None:
                finding = Finding(name, part, t, steps, expected, got, err, threshold,
                                  inputs=inputs, note=note)
                # A mistake that would already have shown at an earlier, correct step is ruled out.
                earlier = [(g, c()) for p, g, c in passed if p == part]
                consistent = [c for c in matched if all(
                    c not in cat or _matches(g, {c: cat[c]}, threshold) for g, cat in earlier)]
                causes = consistent or matched
            elif part == finding.part and matched:
                narrowed = [c for c in causes if c in matched]
                causes = narrowed or causes
            break
        if finding is not None and (len(causes) <= 1 or t == steps):
            break
    if finding is not None:
        finding.cause = _cause_text(causes, finding.got) or finding.cause
        if not finding.cause and finding.part == "the parameter update theta_t":
            finding.cause = ("none of the common mistakes; compare your step with "
                             "theta_t = theta_{t-1} - lr*m_hat/(sqrt(v_hat) + eps).")
    return finding


def _moment_probe(shape, steps, beta1, beta2, dtype, seed, threshold):
    """The probe gradients and adamedu.Adam's moments after each step, for the moment checks."""
    beta1 = ADAM_PROBE["beta1"] if beta1 is None else beta1
    beta2 = ADAM_PROBE["beta2"] if beta2 is None else beta2
    threshold = threshold_for(dtype) if threshold is None else threshold
    theta0, grads = probe_inputs(shape, steps, dtype, seed)
    _, m_ref, v_ref = reference_adam(theta0, grads, ADAM_PROBE["lr"], beta1, beta2, ADAM_PROBE["eps"])
    return beta1, beta2, threshold, grads, m_ref, v_ref


def diagnose_update_moments(fn: Callable, *, shape=(4,), steps: int = 5, beta1=None, beta2=None,
                            dtype=np.float64, seed: int = 0, threshold=None) -> Finding | None:
    """Check ``update_moments(m, v, grad, beta1, beta2) -> (m_new, v_new)`` against adamedu.Adam."""
    beta1, beta2, threshold, grads, m_ref, v_ref = _moment_probe(shape, steps, beta1, beta2, dtype,
                                                                 seed, threshold)
    name = "update_moments"

    def evaluate(t):
        m_prev, v_prev, g = m_ref[t - 1], v_ref[t - 1], grads[t - 1]
        inputs = dict(m=m_prev, v=v_prev, grad=g, beta1=beta1, beta2=beta2)
        m_new, v_new = _call(name, fn, (m_prev.copy(), v_prev.copy(), g.copy(), beta1, beta2), {},
                             2, shape, dtype, t, steps, inputs)
        cats = lambda: _moment_mistakes(m_prev, v_prev, g, None, beta1, beta2, m_ref[t])  # noqa: E731
        return inputs, [("the first moment m_t", m_ref[t], m_new, lambda: cats()[0], ""),
                        ("the second moment v_t", v_ref[t], v_new, lambda: cats()[1], "")]

    return _diagnose(name, steps, evaluate, threshold)


def diagnose_bias_correct(fn: Callable, *, shape=(4,), steps: int = 5, beta1=None, beta2=None,
                          dtype=np.float64, seed: int = 0, threshold=None) -> Finding | None:
    """Check ``bias_correct(m, v, t, beta1, beta2) -> (m_hat, v_hat)`` on adamedu.Adam's moments."""
    beta1, beta2, threshold, grads, m_ref, v_ref = _moment_probe(shape, steps, beta1, beta2, dtype,
                                                                 seed, threshold)
    name = "bias_correct"

    def evaluate(t):
        m, v = m_ref[t], v_ref[t]
        inputs = dict(m=m, v=v, t=t, beta1=beta1, beta2=beta2)
        m_hat, v_hat = _call(name, fn, (m.copy(), v.copy(), t, beta1, beta2), {},
                             2, shape, dtype, t, steps, inputs)
        cat = _bias_mistakes(m, v, t, beta1, beta2)
        first = lambda: {c: pair[0] for c, pair in cat.items()}  # noqa: E731
        second = lambda: {c: pair[1] for c, pair in cat.items()}  # noqa: E731
        both = _matches((m_hat, v_hat), cat, threshold)
        # Prefer causes that explain both outputs; fall back to those explaining the wrong one.
        pick = lambda one: (lambda: {c: one()[c] for c in (both or one())})  # noqa: E731
        return inputs, [("the corrected first moment m_hat", m / (1 - beta1**t), m_hat, pick(first), ""),
                        ("the corrected second moment v_hat", v / (1 - beta2**t), v_hat, pick(second), "")]

    return _diagnose(name, steps, evaluate, threshold)


def diagnose_adam_step(fn: Callable, *, shape=(4,), steps: int = 5, lr=None, beta1=None,
                       beta2=None, eps=None, dtype=np.float64, seed: int = 0, drive="reference",
                       threshold=None) -> Finding | None:
    """Check ``adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps) -> (theta_new, m_new, v_new)``.

    ``drive="reference"`` (default) feeds each call the state adamedu.Adam reached, so the first
    wrong part and step are pinpointed.  ``drive="own"`` feeds back the student's own outputs, as
    a training loop would, and compares the whole trajectory (catches errors that only accumulate).
    """
    return _diagnose_adam_family(fn, "adam_step", False, shape, steps, lr, beta1, beta2, eps, dtype,
                                 seed, drive, threshold)


def diagnose_amsgrad_step(fn: Callable, *, shape=(4,), steps: int = 6, lr=None, beta1=None,
                          beta2=None, eps=None, dtype=np.float64, seed: int = 0, drive="reference",
                          threshold=None) -> Finding | None:
    """Check ``amsgrad_step(theta, grad, m, v, v_max, t, lr, beta1, beta2, eps)``, which returns
    ``(theta_new, m_new, v_new, v_max_new)``, against ``adamedu.Adam(..., amsgrad=True)``.

    As in torch.optim, the running maximum is kept of the raw :math:`v_t` and bias-corrected in
    the step: :math:`\\theta_t = \\theta_{t-1} - \\alpha \\hat m_t / (\\sqrt{v^{max}_t/(1-\\beta_2^t)}
    + \\epsilon)`.  The probe gradients grow at step 2 and shrink afterwards, so the maximum matters.
    """
    return _diagnose_adam_family(fn, "amsgrad_step", True, shape, steps, lr, beta1, beta2, eps, dtype,
                                 seed, drive, threshold)


def _diagnose_adam_family(fn, name, amsgrad, shape, steps, lr, beta1, beta2, eps, dtype, seed, drive,
                          threshold):
    hp = dict(ADAM_PROBE)
    hp.update({k: v for k, v in dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps).items() if v is not None})
    threshold = threshold_for(dtype) if threshold is None else threshold
    theta0, grads = probe_inputs(shape, steps, dtype, seed, burst=amsgrad)
    ref = reference_adam(theta0, grads, hp["lr"], hp["beta1"], hp["beta2"], hp["eps"], amsgrad=amsgrad)
    theta_ref, m_ref, v_ref = ref[:3]
    vmax_ref = ref[3] if amsgrad else None
    own = [r[0].copy() for r in ref]
    labels = ["the parameters theta_t", "the first moment m_t", "the second moment v_t",
              "the running maximum v_max_t"]

    def evaluate(t):
        prev = own if drive == "own" else [r[t - 1] for r in ref]
        theta_prev, m_prev, v_prev = prev[:3]
        g = grads[t - 1]
        inputs = dict(theta=theta_prev, grad=g, m=m_prev, v=v_prev)
        if amsgrad:
            inputs["v_max"] = prev[3]
        inputs.update(t=t, **hp)
        args = (theta_prev.copy(), g.copy(), m_prev.copy(), v_prev.copy()) + \
            ((prev[3].copy(),) if amsgrad else ()) + (t,)
        outs = _call(name, fn, args, hp, 4 if amsgrad else 3, shape, dtype, t, steps, inputs)
        if drive == "own":
            own[:] = outs
            note = "Driven by your own outputs, the trajectory drifts away from adamedu.Adam's."
            return ({"t": t, **hp},
                    [(labels[k], ref[k][t], outs[k], None, note) for k in range(len(outs))])
        cats = lambda: _moment_mistakes(m_prev, v_prev, g, t, hp["beta1"], hp["beta2"], m_ref[t])  # noqa: E731
        parts = [("the first moment m_t", m_ref[t], outs[1], lambda: cats()[0], ""),
                 ("the second moment v_t", v_ref[t], outs[2], lambda: cats()[1], "")]
        if amsgrad:
            parts.append(("the running maximum v_max_t", vmax_ref[t], outs[3],
                          lambda: _max_mistakes(prev[3], v_ref[t], t, hp["beta2"]), ""))
            step_cat = lambda: _amsgrad_step_mistakes(theta_prev, g, m_ref[t], v_ref[t], vmax_ref[t], t, **hp)  # noqa: E731
            note = "Your m_t, v_t and v_max_t are right; the new parameters are not."
        else:
            step_cat = lambda: _step_mistakes(theta_prev, g, m_ref[t], v_ref[t], t, **hp)  # noqa: E731
            note = "Your m_t and v_t are right; the new parameters are not."
        parts.append(("the parameter update theta_t", theta_ref[t], outs[0], step_cat, note))
        return inputs, parts

    return _diagnose(name, steps, evaluate, threshold)


def _raise(finding):
    if finding is not None:
        raise AssertionError(str(finding))


def check_update_moments(fn, **kwargs) -> None:
    """Raise ``AssertionError`` naming the wrong moment and step; see :func:`diagnose_update_moments`."""
    _raise(diagnose_update_moments(fn, **kwargs))


def check_bias_correct(fn, **kwargs) -> None:
    """Raise ``AssertionError`` naming the wrong correction and step; see :func:`diagnose_bias_correct`."""
    _raise(diagnose_bias_correct(fn, **kwargs))


def check_adam_step(fn, **kwargs) -> None:
    """Raise ``AssertionError`` naming the wrong part and step; see :func:`diagnose_adam_step`."""
    _raise(diagnose_adam_step(fn, **kwargs))


def check_amsgrad_step(fn, **kwargs) -> None:
    """Raise ``AssertionError`` naming the wrong part and step; see :func:`diagnose_amsgrad_step`."""
    _raise(diagnose_amsgrad_step(fn, **kwargs))


# --- Checks for numbers, arrays, expressions and simulations -------------------------------------

def _unanswered(name, value):
    if value is None or value is Ellipsis:
        raise AssertionError(f"{name}: not answered yet (it is {value!r}).")


def check_answered(**answers) -> None:
    """Raise "not answered yet" for the first answer that is still ``...`` or ``None``."""
    for name, value in answers.items():
        _unanswered(name, value)


def check_number(name: str, got, expected: float, threshold: float = 1e-9, hint: str = "",
                 atol: float = 0.0) -> None:
    """Raise unless the number ``got`` matches ``expected`` to relative error ``threshold``
    (or, for quantities that are zero up to rounding, to absolute error ``atol``)."""
    _unanswered(name, got)
    try:
        value = float(got)
    except (TypeError, ValueError):
        raise AssertionError(f"{name}: expected a number, got {type(got).__name__} {got!r}.") from None
    err = rel_error(expected, value)
    if err > threshold and not abs(value - expected) <= atol:
        within = f" or absolute error below {atol:.0e}" if atol else ""
        raise AssertionError(
            f"{name} is wrong.\n  expected: {expected:.10g}\n  got:      {value:.10g}\n"
            f"  relative error {err:.1e} (a correct answer is below {threshold:.0e}{within})"
            + (f"\n  Hint: {hint}" if hint else ""))


def check_array(name: str, got, expected, threshold: float = 1e-9, hint: str = "") -> None:
    """Raise unless ``got`` has ``expected``'s shape and matches it to relative error ``threshold``.

    The message names the first entry (in row-major order) whose error exceeds the threshold.
    """
    _unanswered(name, got)
    expected = np.asarray(expected, dtype=np.float64)
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{name}: expected an array of numbers, got {type(got).__name__}.") from None
    if arr.shape != expected.shape:
        raise AssertionError(f"{name} has shape {arr.shape}, expected {expected.shape}.")
    err = rel_error(expected, arr)
    if err > threshold:
        with np.errstate(invalid="ignore", divide="ignore"):
            each = np.abs(expected - arr) / np.maximum(np.abs(expected) + np.abs(arr), np.finfo(float).tiny)
        bad = np.argwhere(~(each <= threshold))[0]
        idx = tuple(int(i) for i in bad)
        raise AssertionError(
            f"{name} is wrong, first at index {idx if len(idx) > 1 else idx[0]}.\n"
            f"  expected: {expected[idx]:.10g}\n  got:      {arr[idx]:.10g}\n"
            f"  relative error {err:.1e} (a correct answer is below {threshold:.0e})"
            + (f"\n  Hint: {hint}" if hint else ""))


def check_monte_carlo(name: str, got, expected, stderr, z: float = 5.0, hint: str = "") -> None:
    """Raise unless each entry of a simulated average is within ``z`` standard errors of its expectation.

    With ``z = 5`` a correct simulation fails with probability below 1e-6 per entry; a fixed seed
    makes the check deterministic anyway.
    """
    _unanswered(name, got)
    expected = np.asarray(expected, dtype=np.float64)
    stderr = np.broadcast_to(np.asarray(stderr, dtype=np.float64), expected.shape)
    arr = np.asarray(got, dtype=np.float64)
    if arr.shape != expected.shape:
        raise AssertionError(f"{name} has shape {arr.shape}, expected {expected.shape}.")
    score = np.abs(arr - expected) / stderr
    if not np.all(score <= z):
        i = int(np.argmax(~(score <= z)))
        raise AssertionError(
            f"{name} is off by more than {z:g} standard errors, first at index {i}.\n"
            f"  expected: {expected.flat[i]:.6g} ± {stderr.flat[i]:.2g} (one standard error)\n"
            f"  got:      {arr.flat[i]:.6g}  ({score.flat[i]:.1f} standard errors away)"
            + (f"\n  Hint: {hint}" if hint else ""))


def _generic_branch(expr):
    """Replace each Piecewise by its last (otherwise) branch: SymPy's geometric sums carry a
    separate branch for ratio 1 (beta = 1, no averaging), which the derivation excludes."""
    import sympy as sp

    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[-1].expr)


def check_expression(name: str, got, expected, points=None, hint: str = "") -> None:
    """Raise unless the SymPy expression ``got`` equals ``expected`` identically.

    The test is exact: ``simplify(got - expected) == 0`` (after taking the generic branch of any
    Piecewise).  On failure the message gives a point where the two differ (from ``points``, a list
    of substitution dicts, or a default set built from the free symbols), so the student sees a
    concrete counterexample rather than only "wrong".
    """
    import sympy as sp

    _unanswered(name, got)
    try:
        got_expr = sp.sympify(got)
    except (sp.SympifyError, TypeError):
        raise AssertionError(f"{name}: expected a SymPy expression, got {type(got).__name__}.") from None
    expected = sp.sympify(expected)
    got_expr, expected = _generic_branch(got_expr), _generic_branch(expected)
    want = {s.name: s for s in expected.free_symbols}
    for s in got_expr.free_symbols:
        if s.name in want and s != want[s.name]:
            raise AssertionError(
                f"{name} uses a symbol {s.name} that is not the one defined at the top of the "
                f"notebook (a Symbol with other assumptions is a different symbol to SymPy): "
                f"use the predefined {s.name}.")
    extra = sorted(s.name for s in got_expr.free_symbols if s.name not in want)
    if extra:
        raise AssertionError(f"{name} contains symbol(s) {', '.join(extra)} that the answer "
                             f"does not depend on; it should depend only on "
                             f"{', '.join(sorted(want)) or 'no symbols'}.")
    if sp.simplify(got_expr - expected) == 0:
        return
    if points is None:
        base = sorted(expected.free_symbols, key=lambda s: s.name)
        values = [sp.Rational(9, 10), 3, sp.Rational(1, 2), 2, sp.Rational(7, 10)]
        points = [{s: (values[(i + k) % len(values)] if not s.is_integer else 1 + (i + k) % 3)
                   for i, s in enumerate(base)} for k in range(5)]
    for point in points:
        e, g_ = expected.subs(point), got_expr.subs(point)
        if sp.simplify(e - g_) != 0:
            shown = ", ".join(f"{k} = {v}" for k, v in point.items())
            raise AssertionError(
                f"{name} is not identically equal to the expected expression.\n"
                f"  your expression: {got_expr}\n"
                f"  at {shown}: expected {sp.nsimplify(e)}, got {sp.nsimplify(g_)}"
                + (f"\n  Hint: {hint}" if hint else ""))
    raise AssertionError(f"{name} is not identically equal to the expected expression "
                         f"(they agree at the test points but differ elsewhere).\n"
                         f"  your expression: {got_expr}" + (f"\n  Hint: {hint}" if hint else ""))


# --- The student's view of an assignment source, for the book's pages ----------------------------

def _raw_kind(cell) -> str:
    """'config', 'begin question', 'end tests', ... for Otter's raw delimiter cells, else ''."""
    if cell.get("cell_type") != "raw":
        return ""
    first = "".join(cell["source"]).strip().splitlines()[0].strip("# ").lower() if "".join(cell["source"]).strip() else ""
    return "config" if first == "assignment config" else first


def assignment_questions(path) -> list[dict]:
    """The questions of an Otter source notebook: ``[{"name", "points", "manual"}, ...]``."""
    import json

    import yaml

    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    questions = []
    for cell in nb["cells"]:
        if _raw_kind(cell) == "begin question":
            config = yaml.safe_load("".join(cell["source"])) or {}
            questions.append(dict(name=config["name"], points=config.get("points", 1),
                                  manual=bool(config.get("manual", False))))
    return questions


def assignment_outline(path) -> str:
    """Markdown for the page of an assignment: what a student sees, without solutions or tests.

    Prompts are shown as written; solution code cells appear as Otter Assign's own student
    stubs (``otter.assign.solutions.replace_solutions``); solution Markdown (hand-graded
    answers), test cells and the assignment configuration are left out.  Headings become bold
    text, since the page has its own title.
    """
    import json

    from otter.assign.solutions import replace_solutions

    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    parts, block = [], None
    for cell in nb["cells"]:
        kind = _raw_kind(cell)
        if kind:
            if kind in ("begin solution", "begin tests", "begin prompt"):
                block = kind.split()[1]
            elif kind in ("end solution", "end tests", "end prompt"):
                block = None
            continue
        source = "".join(cell["source"])
        if block == "tests" or cell["cell_type"] == "raw":
            continue
        if cell["cell_type"] == "markdown":
            if block == "solution":
                continue
            lines = source.splitlines()
            if not parts and lines and lines[0].startswith("# "):
                lines = lines[1:]  # the notebook's title: the page has its own
            lines = [f"**{ln.lstrip('#').strip()}**" if ln.startswith("#") else ln for ln in lines]
            parts.append("\n".join(lines).strip())
        elif cell["cell_type"] == "code":
            code_lines = source.splitlines()
            if block == "solution":
                code_lines = replace_solutions(code_lines, "python")
            parts.append("```python\n" + "\n".join(code_lines).rstrip() + "\n```")
    return "\n\n".join(p for p in parts if p) + "\n"
