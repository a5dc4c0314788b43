r"""The hidden tests' checks, and the probes behind every stored value. Autograder only.

Students never receive this module: it holds the reference implementations (through
:mod:`adamedu`, which matches ``torch.optim``) and the catalogues of common mistakes. It serves
twice:

* when an assignment is built, the ``*_spec`` functions compute the public probes (inputs, right
  outputs and the outputs of each catalogued mistake), which are stored in
  ``expected_values.json`` for the public tests (:mod:`assignment_checks` compares against them);
* in the autograder, the ``check_*`` functions build the same kind of probe afresh with other
  shapes, hyperparameters, dtypes and seeds, and run the same diagnosis on it, so a hidden test's
  feedback is as precise as a public one's.

A probe is a plain dict (a *spec*); see :mod:`assignment_checks` for its fields.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np


def _public_checks():
    """:mod:`assignment_checks` from this folder, loaded by path under a private name: a module of
    the same name elsewhere on ``sys.path`` (say, in a student's folder) is never used here."""
    name = "_coursekit_public_checks"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("assignment_checks.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


checks = _public_checks()
threshold_for = checks.threshold_for

#: Hyperparameters of the public Adam probe. beta1 != beta2 and 1 - beta1 != sqrt(1 - beta2) keep the
#: catalogued mistakes apart; eps = 1e-3 is comparable to sqrt(v_hat) of the smallest gradients
#: (about 1e-2), so where eps goes changes the step by several per cent.
ADAM_PROBE = dict(lr=0.1, beta1=0.8, beta2=0.9, eps=1e-3)


def _raise(finding):
    if finding is not None:
        raise AssertionError(str(finding))


def _stepwise(function, signature, outputs, parts, calls, dtype, shape, threshold=None, **extra):
    spec = dict(kind="stepwise", function=function, signature=signature, outputs=outputs, parts=parts,
                calls=calls, dtype=str(np.dtype(dtype)), shape=list(shape),
                threshold=threshold_for(dtype) if threshold is None else threshold)
    spec.update(extra)
    return spec


def _helper(question, spec, calls, threshold=1e-10):
    """An earlier question's function called by the one checked: its own probe and the calls the
    reference makes to it (``[{"args": [[name, value], ...], "result": [...]}]``)."""
    return dict(question=question, spec=spec, params=[name for name, _ in calls[0]["args"]],
                calls=calls, threshold=threshold)


# --- Adam: probe inputs and the reference trajectory ---------------------------------------------

def probe_inputs(shape=(4,), steps: int = 5, dtype=np.float64, seed: int = 0, burst: bool = False):
    """Starting parameters and a gradient sequence that expose the common Adam mistakes.

    Returns ``(theta0, grads)`` with ``grads`` of shape ``(steps, *shape)``. Each coordinate has a
    fixed sign and a scale between 1e-2 and 3 (log-spaced), jittered by up to ±50 % per step, so
    moments never cancel and a wrong :math:`\\epsilon` or power of a gradient is visible. With
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
    theta0 = rng.choice([-1.0, 1.0], size=size) * rng.uniform(1.0, 2.0, size=size)
    return theta0.reshape(shape).astype(dtype), grads


def reference_adam(theta0, grads, lr, beta1, beta2, eps, amsgrad: bool = False):
    """Run :class:`adamedu.Adam` on the gradient sequence; return ``theta, m, v`` per step.

    Each is an array of shape ``(steps + 1, *theta0.shape)``; row 0 is the start (``m = v = 0``),
    row ``t`` the state after step ``t``, read from ``opt.state`` (``exp_avg``, ``exp_avg_sq``).
    With ``amsgrad=True`` a fourth array holds the running maximum ``max_exp_avg_sq``.
    """
    from adamedu import Adam

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


def adam_step_formula(theta, grad, m, v, t, lr, beta1, beta2, eps):
    """Adam's Algorithm 1 as one pure function (the loop probes use it for their mistake variants)."""
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


# --- Adam: catalogues of common mistakes ---------------------------------------------------------

def moment_mistakes(m_prev, v_prev, g, t, beta1, beta2, m_t):
    """Known wrong versions of m_t and v_t, each with an explanation."""
    b1, b2 = beta1, beta2
    first = {
        "the (1 - beta1) factor is missing: m_t = beta1*m_{t-1} + g_t": b1 * m_prev + g,
        "beta1 and (1 - beta1) are swapped: m_t = (1 - beta1)*m_{t-1} + beta1*g_t": (1 - b1) * m_prev + b1 * g,
        "the first moment uses beta2 instead of beta1": b2 * m_prev + (1 - b2) * g,
        "the first moment averages the squared gradient; m_t averages g_t itself": b1 * m_prev + (1 - b1) * g * g,
        "m is returned unchanged; it must be updated with the new gradient": m_prev,
    }
    second = {
        "the gradient is not squared: v_t = beta2*v_{t-1} + (1 - beta2)*g_t must use g_t**2":
            b2 * v_prev + (1 - b2) * g,
        "|g_t| is averaged instead of g_t**2": b2 * v_prev + (1 - b2) * np.abs(g),
        "the (1 - beta2) factor is missing: v_t = beta2*v_{t-1} + g_t**2": b2 * v_prev + g * g,
        "beta2 and (1 - beta2) are swapped: v_t = (1 - beta2)*v_{t-1} + beta2*g_t**2": (1 - b2) * v_prev + b2 * g * g,
        "the second moment uses beta1 instead of beta2": b1 * v_prev + (1 - b1) * g * g,
        "v averages the square of the new m_t instead of g_t**2": b2 * v_prev + (1 - b2) * m_t * m_t,
        "v is returned unchanged; it must be updated with the new gradient": v_prev,
    }
    if t is not None:
        v_t = b2 * v_prev + (1 - b2) * g * g
        with np.errstate(divide="ignore", invalid="ignore"):
            first["the bias-corrected m_hat is returned as the state; return the raw m_t and apply "
                  "the correction only when forming the step"] = m_t / (1 - b1**t)
            second["the bias-corrected v_hat is returned as the state; return the raw v_t and apply "
                   "the correction only when forming the step"] = v_t / (1 - b2**t)
            second["sqrt(v_t) is returned as the state; keep v_t itself and take the square root "
                   "only when forming the step"] = np.sqrt(v_t)
    return first, second


def correction_mistakes(x, t, beta, other_beta, moment: str):
    """Known wrong bias corrections of one moment (``moment`` is "m" or "v")."""
    b, hat, raw = ("beta1", "m_hat", "m_t") if moment == "m" else ("beta2", "v_hat", "v_t")
    with np.errstate(divide="ignore", invalid="ignore"):
        found = {
            f"no correction: {hat} = {raw}/(1 - {b}**t), not {raw} itself": x,
            f"the power t is missing: {hat} = {raw}/(1 - {b}) must be {raw}/(1 - {b}**t)": x / (1 - beta),
            f"the power is t - 1 instead of t in 1 - {b}**t (is the step counter advanced after use?)":
                x / (1 - beta ** (t - 1)),
            f"the power is t + 1 instead of t in 1 - {b}**t (is the step counter advanced twice?)":
                x / (1 - beta ** (t + 1)),
            f"operator precedence: (1 - {b})**t was computed instead of 1 - {b}**t": x / (1 - beta) ** t,
            f"the correction multiplies instead of divides: {hat} = {raw}/(1 - {b}**t)": x * (1 - beta**t),
            f"the wrong beta: {hat} must be divided by 1 - {b}**t (beta1 and beta2 are swapped)":
                x / (1 - other_beta**t),
            f"the fraction is upside down: {hat} = {raw}/(1 - {b}**t)": (1 - beta**t) / x,
        }
        if moment == "v":
            found["v_hat is divided by sqrt(1 - beta2**t); the square root belongs to the step, "
                  "v_hat = v_t/(1 - beta2**t)"] = x / np.sqrt(1 - beta**t)
    return found


def step_mistakes(theta, g, m, v, t, lr, beta1, beta2, eps):
    """Known wrong parameter updates, given the right m_t and v_t."""
    c1, c2 = 1 - beta1**t, 1 - beta2**t
    m_hat, v_hat = m / c1, v / c2
    with np.errstate(divide="ignore", invalid="ignore"):
        right = lr * m_hat / (np.sqrt(v_hat) + eps)
        return {
            "bias correction left out: the step is lr*m_t/(sqrt(v_t) + eps); use "
            "m_hat = m_t/(1 - beta1**t) and v_hat = v_t/(1 - beta2**t)": theta - lr * m / (np.sqrt(v) + eps),
            "the first moment is not bias-corrected: use m_hat = m_t/(1 - beta1**t) in the step":
                theta - lr * m / (np.sqrt(v_hat) + eps),
            "the second moment is not bias-corrected: use v_hat = v_t/(1 - beta2**t) in the step":
                theta - lr * m_hat / (np.sqrt(v) + eps),
            "the bias corrections multiply instead of divide": theta - lr * m * c1 / (np.sqrt(v * c2) + eps),
            "operator precedence: (1 - beta)**t was used instead of 1 - beta**t":
                theta - lr * (m / (1 - beta1) ** t) / (np.sqrt(v / (1 - beta2) ** t) + eps),
            "the square root of the second-moment correction is missing: the denominator is "
            "sqrt(v_t)/(1 - beta2**t) + eps, it must be sqrt(v_t/(1 - beta2**t)) + eps":
                theta - lr * m_hat / (np.sqrt(v) / c2 + eps),
            "eps is inside the square root: use sqrt(v_hat) + eps, not sqrt(v_hat + eps)":
                theta - lr * m_hat / np.sqrt(v_hat + eps),
            "eps is missing from the denominator: use sqrt(v_hat) + eps": theta - lr * m_hat / np.sqrt(v_hat),
            "eps is added to the uncorrected sqrt(v_t) (the paper's 'efficient' ordering with an "
            "unscaled eps); torch.optim.Adam adds eps to sqrt(v_hat_t)":
                theta - lr * (math.sqrt(c2) / c1) * m / (np.sqrt(v) + eps),
            "the square root is missing: divide by sqrt(v_hat) + eps, not v_hat + eps":
                theta - lr * m_hat / (v_hat + eps),
            "the step has the wrong sign (gradient ascent): theta_t = theta_{t-1} - lr*...": theta + right,
            "the learning rate lr is missing from the step": theta - right / lr,
            "the step uses the raw gradient g_t instead of m_hat": theta - lr * g / (np.sqrt(v_hat) + eps),
            "the function returned the step lr*m_hat/(sqrt(v_hat) + eps) instead of the new "
            "parameters theta_{t-1} - step": right,
            "the function returned the change -step instead of the new parameters": -right,
            "the parameters are returned unchanged": theta.copy(),
        }


def max_mistakes(v_max_prev, v_t, t, beta2):
    """Known wrong versions of AMSGrad's running maximum."""
    c2 = 1 - beta2**t
    return {
        "the maximum is not taken: v_max_t must be max(v_max_{t-1}, v_t), not v_t": v_t,
        "v_max is returned unchanged; it must become max(v_max_{t-1}, v_t)": v_max_prev,
        "the maximum of the bias-corrected v_hat is stored; like torch.optim, keep the maximum "
        "of the raw v_t and bias-correct it when forming the step": np.maximum(v_max_prev, v_t / c2),
        "the minimum is taken instead of the maximum": np.minimum(v_max_prev, v_t),
    }


def amsgrad_step_mistakes(theta, g, m, v, v_max, t, lr, beta1, beta2, eps):
    """Known wrong AMSGrad parameter updates, given the right m_t, v_t and v_max_t."""
    catalogue = step_mistakes(theta, g, m, v_max, t, lr, beta1, beta2, eps)
    c1, c2 = 1 - beta1**t, 1 - beta2**t
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "the step uses v_t instead of the running maximum v_max_t (that is plain Adam)":
                theta - lr * (m / c1) / (np.sqrt(v / c2) + eps),
            **{k.replace("sqrt(v_t)", "sqrt(v_max_t)").replace("v_hat = v_t/", "v_hat = v_max_t/"): val
               for k, val in catalogue.items()},
        }


# --- Adam: the probes ----------------------------------------------------------------------------

SIGNATURES = {
    "update_moments": "update_moments(m, v, grad, beta1, beta2) -> (m_new, v_new)",
    "bias_correct": "bias_correct(m, v, t, beta1, beta2) -> (m_hat, v_hat)",
    "adam_step": "adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps) -> (theta_new, m_new, v_new)",
    "amsgrad_step": "amsgrad_step(theta, grad, m, v, v_max, t, lr, beta1, beta2, eps) -> "
                    "(theta_new, m_new, v_new, v_max_new)",
    "run_adam": "run_adam(grad_fn, x0, steps, lr, beta1, beta2, eps) -> path of shape (steps + 1, len(x0))",
    "Adam": "Adam(params, lr, betas, eps) with a method step(grads)",
}


def _hp(lr=None, beta1=None, beta2=None, eps=None):
    hp = dict(ADAM_PROBE)
    hp.update({k: v for k, v in dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps).items() if v is not None})
    return hp


def update_moments_spec(shape=(4,), steps=5, beta1=None, beta2=None, dtype=np.float64, seed=0):
    """Probe of ``update_moments`` on the states adamedu.Adam reaches."""
    hp = _hp(beta1=beta1, beta2=beta2)
    theta0, grads = probe_inputs(shape, steps, dtype, seed)
    _, m_ref, v_ref = reference_adam(theta0, grads, **hp)
    calls = []
    for t in range(1, steps + 1):
        first, second = moment_mistakes(m_ref[t - 1], v_ref[t - 1], grads[t - 1], None, hp["beta1"],
                                        hp["beta2"], m_ref[t])
        calls.append(dict(step=t, args=[["m", m_ref[t - 1]], ["v", v_ref[t - 1]], ["grad", grads[t - 1]],
                                        ["beta1", hp["beta1"]], ["beta2", hp["beta2"]]],
                          expected=[m_ref[t], v_ref[t]], mistakes={"0": first, "1": second}))
    return _stepwise("update_moments", SIGNATURES["update_moments"], ["m_new", "v_new"],
                     [[0, "the first moment m_t", ""], [1, "the second moment v_t", ""]], calls, dtype, shape)


def bias_correct_spec(shape=(4,), steps=5, beta1=None, beta2=None, dtype=np.float64, seed=0):
    """Probe of ``bias_correct`` on the raw moments adamedu.Adam reaches."""
    hp = _hp(beta1=beta1, beta2=beta2)
    b1, b2 = hp["beta1"], hp["beta2"]
    theta0, grads = probe_inputs(shape, steps, dtype, seed)
    _, m_ref, v_ref = reference_adam(theta0, grads, **hp)
    calls = []
    for t in range(1, steps + 1):
        m, v = m_ref[t], v_ref[t]
        calls.append(dict(step=t, args=[["m", m], ["v", v], ["t", t], ["beta1", b1], ["beta2", b2]],
                          expected=[m / (1 - b1**t), v / (1 - b2**t)],
                          mistakes={"0": correction_mistakes(m, t, b1, b2, "m"),
                                    "1": correction_mistakes(v, t, b2, b1, "v")}))
    return _stepwise("bias_correct", SIGNATURES["bias_correct"], ["m_hat", "v_hat"],
                     [[0, "the corrected first moment m_hat", ""], [1, "the corrected second moment v_hat", ""]],
                     calls, dtype, shape)


def _adam_family_spec(name, amsgrad, shape, steps, hp, dtype, seed, helpers):
    theta0, grads = probe_inputs(shape, steps, dtype, seed, burst=amsgrad)
    ref = reference_adam(theta0, grads, amsgrad=amsgrad, **hp)
    theta_ref, m_ref, v_ref = ref[:3]
    calls, moment_calls, correction_calls = [], [], []
    for t in range(1, steps + 1):
        g = grads[t - 1]
        args = [["theta", theta_ref[t - 1]], ["grad", g], ["m", m_ref[t - 1]], ["v", v_ref[t - 1]]]
        first, second = moment_mistakes(m_ref[t - 1], v_ref[t - 1], g, t, hp["beta1"], hp["beta2"], m_ref[t])
        mistakes = {"1": first, "2": second}
        expected = [theta_ref[t], m_ref[t], v_ref[t]]
        if amsgrad:
            vmax_ref = ref[3]
            args.append(["v_max", vmax_ref[t - 1]])
            expected.append(vmax_ref[t])
            mistakes["3"] = max_mistakes(vmax_ref[t - 1], v_ref[t], t, hp["beta2"])
            mistakes["0"] = amsgrad_step_mistakes(theta_ref[t - 1], g, m_ref[t], v_ref[t], vmax_ref[t], t, **hp)
        else:
            mistakes["0"] = step_mistakes(theta_ref[t - 1], g, m_ref[t], v_ref[t], t, **hp)
        args += [["t", t], ["lr", hp["lr"]], ["beta1", hp["beta1"]], ["beta2", hp["beta2"]], ["eps", hp["eps"]]]
        calls.append(dict(step=t, args=args, expected=expected, mistakes=mistakes))
        b1, b2 = hp["beta1"], hp["beta2"]
        moment_calls.append(dict(args=[["m", m_ref[t - 1]], ["v", v_ref[t - 1]], ["grad", g], ["beta1", b1],
                                       ["beta2", b2]], result=[m_ref[t], v_ref[t]]))
        correction_calls.append(dict(args=[["m", m_ref[t]], ["v", v_ref[t]], ["t", t], ["beta1", b1],
                                           ["beta2", b2]], result=[m_ref[t] / (1 - b1**t), v_ref[t] / (1 - b2**t)]))
    parts = [[1, "the first moment m_t", ""], [2, "the second moment v_t", ""]]
    if amsgrad:
        parts.append([3, "the running maximum v_max_t", ""])
        parts.append([0, "the parameter update theta_t", "Your m_t, v_t and v_max_t are right; the new parameters are not."])
        outputs = ["theta_new", "m_new", "v_new", "v_max_new"]
        unexplained = ("none of the common mistakes; compare your step with "
                       "theta_t = theta_{t-1} - lr*m_hat/(sqrt(v_max_t/(1 - beta2**t)) + eps).")
    else:
        parts.append([0, "the parameter update theta_t", "Your m_t and v_t are right; the new parameters are not."])
        outputs = ["theta_new", "m_new", "v_new"]
        unexplained = ("none of the common mistakes; compare your step with "
                       "theta_t = theta_{t-1} - lr*m_hat/(sqrt(v_hat) + eps).")
    threshold = threshold_for(dtype)
    spec_helpers = {}
    if helpers:
        for helper_name, question, helper_spec, helper_calls in (
                ("update_moments", helpers.get("update_moments"), "update_moments", moment_calls),
                ("bias_correct", helpers.get("bias_correct"), "bias_correct", correction_calls)):
            if question:
                live = helpers.get("live")
                own = (live[helper_name] if live else helper_spec)
                spec_helpers[helper_name] = _helper(question, own, helper_calls, threshold)
    return _stepwise(name, SIGNATURES[name], outputs, parts, calls, dtype, shape,
                     unexplained={"0": unexplained}, helpers=spec_helpers)


def adam_step_spec(shape=(4,), steps=5, lr=None, beta1=None, beta2=None, eps=None, dtype=np.float64, seed=0,
                   helpers=None):
    """Probe of ``adam_step`` driven by adamedu.Adam's states. ``helpers`` maps the earlier
    questions' function names to their question labels (``{"bias_correct": "Question 2"}``)."""
    return _adam_family_spec("adam_step", False, shape, steps, _hp(lr, beta1, beta2, eps), dtype, seed, helpers)


def amsgrad_step_spec(shape=(4,), steps=6, lr=None, beta1=None, beta2=None, eps=None, dtype=np.float64, seed=0):
    """Probe of ``amsgrad_step`` against ``adamedu.Adam(..., amsgrad=True)``; the gradients grow at
    step 2 and shrink afterwards, so that the maximum matters."""
    return _adam_family_spec("amsgrad_step", True, shape, steps, _hp(lr, beta1, beta2, eps), dtype, seed, None)


# --- Adam: loops ---------------------------------------------------------------------------------

def _adam_loop(grad_fn, x0, steps, lr, beta1, beta2, eps, variant=None, record=None):
    """The loop ``run_adam`` should be, and its common mistakes (``variant``)."""
    x = np.array(x0, dtype=np.float64)
    m, v = np.zeros_like(x), np.zeros_like(x)
    path = [x.copy()]
    counter = {"t0": 0, "t2": 2}.get(variant, 1)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            t = 1 if variant == "t_fixed" else counter
            if variant == "reset":
                m, v = np.zeros_like(x), np.zeros_like(x)
            g = grad_fn(x0 if variant == "grad_at_start" else x)
            new = adam_step_formula(x, g, m, v, t, lr, beta1, beta2, eps)
            if record is not None:
                record.append(dict(args=[["theta", x.copy()], ["grad", g.copy()], ["m", m.copy()], ["v", v.copy()],
                                         ["t", t], ["lr", lr], ["beta1", beta1], ["beta2", beta2], ["eps", eps]],
                                   result=[a.copy() for a in new]))
            x, m, v = new
            path.append(x.copy())
            counter += 1
    return np.array(path)


LOOP_MISTAKES = {
    "t0": "the step counter starts at t = 0: at the first step the bias correction divides by "
          "1 - beta**0 = 0, which gives inf and NaN. Count the steps t = 1, 2, ..., steps "
          "(for example `for t in range(1, steps + 1)`).",
    "t2": "the step counter starts at t = 2 (is it advanced before it is first used?): count the steps "
          "t = 1, 2, ..., steps.",
    "t_fixed": "the step counter is never advanced: every call uses t = 1, so the bias correction of "
               "the first step is applied at every step.",
    "reset": "the moments m and v are reset to zero at every step: carry them from one step to the next.",
    "grad_at_start": "the gradient is always taken at the start x0: take it at the current parameters.",
}


def run_adam_spec(problem="rosenbrock", x0=(-1.2, 1.0), steps=30, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8,
                  grad_fn=None, helpers=None):
    """Probe of ``run_adam(grad_fn, x0, steps, lr, beta1, beta2, eps)``: the whole path against
    ``adamedu.Adam`` driven by the same gradients, with the loop mistakes as catalogue."""
    from adamedu import Adam

    grad_fn = checks.PROBLEMS[problem] if grad_fn is None else grad_fn
    x0 = np.array(x0, dtype=np.float64)
    x = x0.copy()
    opt = Adam([x], lr=lr, betas=(beta1, beta2), eps=eps)
    expected = [x.copy()]
    for _ in range(steps):
        opt.step([grad_fn(x)])
        expected.append(x.copy())
    record = []
    _adam_loop(grad_fn, x0, steps, lr, beta1, beta2, eps, record=record)
    mistakes = {cause: _adam_loop(grad_fn, x0, steps, lr, beta1, beta2, eps, variant)
                for variant, cause in LOOP_MISTAKES.items()}
    spec = dict(kind="run", function="run_adam", signature=SIGNATURES["run_adam"], outputs=["path"],
                shape=[steps + 1, len(x0)], dtype="float64", threshold=1e-9, expected=np.array(expected),
                mistakes=mistakes, row_label="the path", step_name="row (step) t",
                row_note="Row t of the path holds the parameters after step t; row 0 is the start.",
                args=[["grad_fn", grad_fn], ["x0", x0], ["steps", steps], ["lr", lr], ["beta1", beta1],
                      ["beta2", beta2], ["eps", eps]])
    if problem is not None and grad_fn is checks.PROBLEMS.get(problem):
        spec["problem"] = {"arg": "grad_fn", "name": problem}
        spec["args"][0][1] = problem
    if helpers:
        spec["helpers"] = {"adam_step": _helper(helpers["adam_step"], helpers.get("adam_step_spec", "adam_step"), record)}
    return spec


def _adam_class_run(params0, grads, lr, betas, eps, variant=None, record=None):
    """Adam over several parameter arrays, the way the ``Adam`` class should do it, or with a mistake."""
    params = [np.array(p, dtype=np.float64) for p in params0]
    state = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    b1, b2 = (betas[1], betas[0]) if variant == "betas_swapped" else betas
    lr = 1e-3 if variant == "lr_ignored" else lr
    t = 0 if variant == "t0" else 1
    path = []
    with np.errstate(all="ignore"):
        for step_grads in grads:
            for i, (p, g) in enumerate(zip(params, step_grads)):
                m, v = state[i]
                if record is not None:
                    record.append(dict(args=[["theta", p.copy()], ["grad", np.array(g, dtype=np.float64)],
                                             ["m", m.copy()], ["v", v.copy()], ["t", t], ["lr", lr],
                                             ["beta1", b1], ["beta2", b2], ["eps", eps]], result=None))
                new_p, m, v = adam_step_formula(p, g, m, v, t, lr, b1, b2, eps)
                if record is not None:
                    record[-1]["result"] = [new_p.copy(), m.copy(), v.copy()]
                if variant == "m_hat_state":
                    m = m / (1 - b1**t)
                params[i] = new_p
                state[i] = (m, v)
                if variant == "t_per_parameter":
                    t += 1
            if variant not in ("t_fixed", "t_per_parameter"):
                t += 1
            path.append(np.concatenate([p.ravel() for p in params]))
    return np.array(path)


CLASS_MISTAKES = {
    "t0": "the step counter starts at t = 0: the first step divides by 1 - beta**0 = 0. Start it at 1.",
    "t_fixed": "the step counter is never advanced: every step uses t = 1.",
    "t_per_parameter": "the step counter is advanced once per parameter array instead of once per call "
                       "of step: all the arrays share one step count t, advanced once per step.",
    "betas_swapped": "betas = (beta1, beta2) are used the other way round.",
    "lr_ignored": "the learning rate passed to the constructor is ignored (lr = 1e-3 is used).",
    "m_hat_state": "the bias-corrected m_hat is kept as the state; keep the raw m_t.",
}


def adam_class_spec(shapes=((3,), (2, 2)), steps=6, lr=0.1, betas=(0.8, 0.9), eps=1e-3, seed=0, helpers=None):
    """Probe of the optimizer class ``Adam(params, lr, betas, eps)`` with ``step(grads)``: two
    parameter arrays of different shapes, stepped with stored gradients, against adamedu.Adam."""
    from adamedu import Adam

    params0, grads_per_param = [], []
    for k, shape in enumerate(shapes):
        theta0, grads = probe_inputs(shape, steps, np.float64, seed + k, burst=(k == 1))
        params0.append(theta0)
        grads_per_param.append(grads)
    grads = [[grads_per_param[k][s] for k in range(len(shapes))] for s in range(steps)]
    params = [p.copy() for p in params0]
    opt = Adam(params, lr=lr, betas=betas, eps=eps)
    expected = []
    for step_grads in grads:
        opt.step([g.copy() for g in step_grads])
        expected.append(np.concatenate([p.ravel() for p in params]))
    record = []
    _adam_class_run(params0, grads, lr, betas, eps, record=record)
    spec = dict(kind="optimizer", function="Adam", signature=SIGNATURES["Adam"], threshold=1e-10, step_name="step",
                params=params0, grads=grads, kwargs=dict(lr=lr, betas=list(betas), eps=eps),
                expected=np.array(expected),
                mistakes={cause: _adam_class_run(params0, grads, lr, betas, eps, variant)
                          for variant, cause in CLASS_MISTAKES.items()},
                row_label="the parameters (all arrays, flattened and joined)",
                row_note="The optimizer was built with two parameter arrays of shapes "
                         + " and ".join(str(tuple(s)) for s in shapes) + ".")
    spec["kwargs"]["betas"] = tuple(betas)
    if helpers:
        spec["helpers"] = {"adam_step": _helper(helpers["adam_step"], helpers.get("adam_step_spec", "adam_step"), record)}
    return spec


# --- Adam: hidden checks -------------------------------------------------------------------------

#: The questions of "Adam from scratch" whose functions later ones call (for "fails only because ...").
ADAM_QUESTIONS = {"update_moments": "Question 1", "bias_correct": "Question 2", "adam_step": "Question 3"}


def _adam_step_helpers(questions, live=None, **kwargs):
    """``helpers`` for :func:`adam_step_spec`: the stored probes (``live=None``) or fresh ones."""
    helpers = {k: v for k, v in questions.items() if k in ("update_moments", "bias_correct")}
    if helpers and live:
        moment_kwargs = {k: v for k, v in kwargs.items() if k in ("shape", "beta1", "beta2", "dtype", "seed")}
        helpers["live"] = {"update_moments": update_moments_spec(**moment_kwargs),
                           "bias_correct": bias_correct_spec(**moment_kwargs)}
    return helpers or None


def _own_drive(name, fn, steps, **kwargs):
    """Feed ``fn`` its own outputs, as a training loop does; compare the trajectory with the
    reference and report the first step where it drifts beyond the threshold."""
    amsgrad = name == "amsgrad_step"
    hp = _hp(kwargs.get("lr"), kwargs.get("beta1"), kwargs.get("beta2"), kwargs.get("eps"))
    dtype = kwargs.get("dtype", np.float64)
    shape = kwargs.get("shape", (4,))
    theta0, grads = probe_inputs(shape, steps, dtype, kwargs.get("seed", 0), burst=amsgrad)
    ref = reference_adam(theta0, grads, amsgrad=amsgrad, **hp)
    state = [r[0].copy() for r in ref]
    threshold = threshold_for(dtype)
    spec = (amsgrad_step_spec if amsgrad else adam_step_spec)(shape=shape, steps=1, dtype=dtype, **hp)
    labels = ["the parameters theta_t", "the first moment m_t", "the second moment v_t", "the running maximum v_max_t"]
    for t in range(1, steps + 1):
        args = [state[0].copy(), grads[t - 1].copy(), state[1].copy(), state[2].copy()]
        if amsgrad:
            args.append(state[3].copy())
        args += [t, hp["lr"], hp["beta1"], hp["beta2"], hp["eps"]]
        try:
            state = checks._outputs(spec, checks._call(spec, fn, args, t), t)
        except checks.CallProblem as exc:
            return exc.finding
        for k, out in enumerate(state):
            if not checks.same_values(ref[k][t], out, threshold):
                return checks.Finding(name, labels[k], t, steps, ref[k][t], out, checks.rel_error(ref[k][t], out),
                                      threshold, note="Driven by its own outputs, as in a training loop, the "
                                      "trajectory drifts away from the reference's (adamedu.Adam, which matches "
                                      "torch.optim.Adam).")
    return None


def check_update_moments(fn, **kwargs) -> None:
    """Hidden test: ``update_moments`` on another probe (shape, betas, dtype, seed)."""
    _raise(checks.diagnose(update_moments_spec(**kwargs), fn))


def check_bias_correct(fn, **kwargs) -> None:
    _raise(checks.diagnose(bias_correct_spec(**kwargs), fn))


def check_adam_step(fn, drive="reference", steps=5, questions=ADAM_QUESTIONS, **kwargs) -> None:
    """Hidden test of ``adam_step``: driven by the reference states (each step on its own), or, with
    ``drive="own"``, first on the short probe and then by its own outputs over ``steps`` steps,
    which catches errors that only accumulate."""
    if drive == "own":
        _raise(checks.diagnose(adam_step_spec(helpers=_adam_step_helpers(questions, live=True)), fn))
        _raise(_own_drive("adam_step", fn, steps, **kwargs))
        return
    helpers = _adam_step_helpers(questions, live=True, **kwargs)
    _raise(checks.diagnose(adam_step_spec(steps=steps, helpers=helpers, **kwargs), fn))


def check_amsgrad_step(fn, drive="reference", steps=6, **kwargs) -> None:
    if drive == "own":
        _raise(checks.diagnose(amsgrad_step_spec(), fn))
        _raise(_own_drive("amsgrad_step", fn, steps, **kwargs))
        return
    _raise(checks.diagnose(amsgrad_step_spec(steps=steps, **kwargs), fn))


def _adam_step_helper(questions):
    if "adam_step" not in questions:
        return None
    return {"adam_step": questions["adam_step"],
            "adam_step_spec": adam_step_spec(helpers=_adam_step_helpers(questions, live=True))}


def check_run_adam(fn, questions=ADAM_QUESTIONS, **kwargs) -> None:
    """Hidden test of ``run_adam`` on another problem, start and hyperparameters."""
    _raise(checks.diagnose(run_adam_spec(helpers=_adam_step_helper(questions), **kwargs), fn))


def check_adam_class(cls, questions=ADAM_QUESTIONS, **kwargs) -> None:
    """Hidden test of the ``Adam`` class with more arrays, steps and other hyperparameters."""
    _raise(checks.diagnose(adam_class_spec(helpers=_adam_step_helper(questions), **kwargs), cls))


# --- AMSGrad on the online counterexample of Reddi et al. ---------------------------------------

def amsgrad_step_formula(theta, grad, m, v, v_max, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    v_max = np.maximum(v_max, v)
    theta = theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v_max / (1 - beta2**t)) + eps)
    return theta, m, v, v_max


def online_gradient(t, C=3.0):
    """The gradient of f_t on Reddi et al.'s problem: C x when t mod 3 = 1, else -x."""
    return C if t % 3 == 1 else -1.0


def reference_online(keep_max, T, C=3.0, alpha=0.5, beta2=None, eps=1e-8):
    """Points x_0 .. x_{T-1} of adamedu.Adam (amsgrad=keep_max) with lr = alpha/sqrt(t), beta1 = 0,
    projected onto [-1, 1] after every step."""
    from adamedu import Adam
    from adamedu.experiments import set_lr

    beta2 = 1 / (1 + C**2) if beta2 is None else beta2
    x = np.zeros(1)
    opt = Adam([x], lr=alpha, betas=(0.0, beta2), eps=eps, amsgrad=keep_max)
    points = []
    for t in range(1, T + 1):
        points.append(x[0])
        set_lr(opt, alpha / math.sqrt(t))
        opt.step([np.array([online_gradient(t, C)])])
        np.clip(x, -1.0, 1.0, out=x)
    return np.array(points)


def _online_loop(keep_max, T, C, alpha, beta2, eps=1e-8, variant=None, record=None):
    """The loop ``run_online`` should be, and its common mistakes (``variant``)."""
    x, m, v, v_max = np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1)
    points = []
    for t in range(1, T + 1):
        if variant != "after":
            points.append(x[0])
        g = np.array([online_gradient(t, C)])
        lr = alpha if variant == "constant_lr" else alpha / math.sqrt(t)
        given_max = v_max if (keep_max or variant == "ignores_flag") and variant != "reset_max" else np.zeros(1)
        args = [["theta", x.copy()], ["grad", g], ["m", m.copy()], ["v", v.copy()], ["v_max", given_max.copy()],
                ["t", t], ["lr", lr], ["beta1", 0.0], ["beta2", beta2], ["eps", eps]]
        x, m, v, v_max = amsgrad_step_formula(x, g, m, v, given_max, t, lr, 0.0, beta2, eps)
        if record is not None:
            record.append(dict(args=args, result=[x.copy(), m.copy(), v.copy(), v_max.copy()]))
        if variant != "no_projection":
            x = np.clip(x, -1.0, 1.0)
        if variant == "after":
            points.append(x[0])
    return np.array(points)


ONLINE_MISTAKES = {
    "no_projection": "the point is not projected back onto [-1, 1] after each step: use np.clip(x, -1, 1).",
    "constant_lr": "the learning rate does not decay: use lr = alpha / sqrt(t) at step t.",
    "after": "the points are recorded after each step: record x_{t-1}, the point at which the gradient "
             "of step t is taken (x_0 = 0 first).",
    "ignores_flag": "keep_max=False still passes the running maximum: pass np.zeros(1) as v_max for Adam.",
}


def run_online_spec(T=30, C=3.0, alpha=0.5, beta2=None, keep_max=True, helpers=None):
    """Probe of ``run_online(keep_max, T)`` (``C`` and ``alpha`` from the notebook)."""
    beta2 = 1 / (1 + C**2) if beta2 is None else beta2
    record = []
    _online_loop(keep_max, T, C, alpha, beta2, record=record)
    mistakes = {cause: _online_loop(keep_max, T, C, alpha, beta2, variant=variant)
                for variant, cause in ONLINE_MISTAKES.items()}
    if keep_max:  # with the flag ignored the two runs coincide; that mistake shows in Adam's run only
        mistakes.pop(ONLINE_MISTAKES["ignores_flag"])
        mistakes["keep_max=True is ignored: pass the running maximum v_max of the previous step to "
                 "amsgrad_step"] = _online_loop(False, T, C, alpha, beta2)
    spec = dict(kind="run", function="run_online", signature="run_online(keep_max, T, beta2) -> points of shape (T,)",
                outputs=["points"], shape=[T], dtype="float64", threshold=1e-9,
                expected=reference_online(keep_max, T, C, alpha, beta2), mistakes=mistakes,
                row_label="the point x_t", step_name="index t",
                row_note="Entry t of the result is x_t, the point at which the gradient of step t + 1 is taken.",
                args=[["keep_max", keep_max], ["T", T], ["beta2", beta2]])
    if helpers:
        spec["helpers"] = {"amsgrad_step": _helper(helpers, "amsgrad_step", record)}
    return spec


def check_run_online(fn, T=3000, C=3.0, alpha=0.5, beta2=None) -> None:
    """Hidden test: both runs over ``T`` steps against adamedu.Adam."""
    for keep_max in (False, True):
        _raise(checks.diagnose(run_online_spec(T, C, alpha, beta2, keep_max), fn))


def net_move_formula(beta2, C=3.0, cycles=200, variant=None):
    """The move of one late cycle of Adam on the counterexample, in units of the step size."""
    v, last = 0.0, []
    for k in range(3 * cycles):
        g = C if k % 3 == 0 else -1.0
        v = beta2 * v + (1 - beta2) * g * g
        last = (last + [v])[-3:]
    v_c, v_1, v_2 = last
    if variant == "no_sqrt":
        return -C / v_c + 1 / v_1 + 1 / v_2
    if variant == "sign":
        return C / math.sqrt(v_c) - 1 / math.sqrt(v_1) - 1 / math.sqrt(v_2)
    if variant == "rotated":  # the cycle read from the wrong step: v_C is not the value after g = C
        v_1, v_2, v_c = last
    if variant == "squared_gradient_in_step":
        return -C * C / math.sqrt(v_c) + 1 / math.sqrt(v_1) + 1 / math.sqrt(v_2)
    return -C / math.sqrt(v_c) + 1 / math.sqrt(v_1) + 1 / math.sqrt(v_2)


NET_MOVE_MISTAKES = {
    "no_sqrt": "the steps divide by v instead of sqrt(v): the step is g/sqrt(v).",
    "sign": "the sign is reversed: a move towards +1 (the worst point) must be positive.",
    "rotated": "the three values of v are matched to the wrong gradients: v_C is the value right after "
               "the gradient C (the first step of each cycle).",
    "squared_gradient_in_step": "the step uses g**2 in the numerator; it is g/sqrt(v).",
}


def net_move_spec(beta2s=(0.1, 0.3, 0.6, 0.9), C=3.0):
    calls = [dict(step=k + 1, args=[["beta2", b]], expected=[np.array(net_move_formula(b, C))],
                  mistakes={"0": {cause: np.array(net_move_formula(b, C, variant=v))
                                  for v, cause in NET_MOVE_MISTAKES.items()}})
             for k, b in enumerate(beta2s)]
    return _stepwise("net_move", "net_move(beta2) -> float", ["the net move"], [[0, "the net move", ""]],
                     calls, np.float64, (), threshold=1e-9, step_name="probe")


def check_net_move(fn, beta2s=(0.15, 0.45, 0.6, 0.8)) -> None:
    _raise(checks.diagnose(net_move_spec(beta2s), fn))


# --- Momentum: heavy ball and Nesterov on a quadratic -------------------------------------------

MOMENTUM_PROBE = dict(lr=0.1, momentum=0.8)


def reference_sgd(theta0, grads, lr, momentum, nesterov=False):
    """:class:`adamedu.SGD` with momentum (torch.optim.SGD's conventions) on a gradient sequence:
    ``theta`` and ``momentum_buffer`` after each step (row 0: the start, buffer zero)."""
    from adamedu import SGD

    x = np.array(theta0, copy=True)
    opt = SGD([x], lr=lr, momentum=momentum, nesterov=nesterov)
    theta, buf = [x.copy()], [np.zeros_like(x)]
    for g in grads:
        opt.step([g])
        theta.append(x.copy())
        buf.append(opt.state[0]["momentum_buffer"].copy())
    return np.array(theta), np.array(buf)


def heavy_ball_mistakes(x, g, buf, lr, mu, nesterov):
    right_buf = mu * buf + g
    found = {
        "the buffer is an exponential average, buf = mu*buf + (1 - mu)*g (that is Adam's m_t); "
        "torch.optim.SGD adds the whole gradient: buf = mu*buf + g":
            (x - lr * ((mu * buf + (1 - mu) * g) if not nesterov else g + mu * (mu * buf + (1 - mu) * g)),
             mu * buf + (1 - mu) * g),
        "the learning rate is inside the buffer (buf = mu*buf + lr*g, x -= buf): the same path for a "
        "constant lr, but torch.optim.SGD keeps buf = mu*buf + g and multiplies by lr in the step, so "
        "that a change of lr acts at once": (x - (mu * buf + lr * g), mu * buf + lr * g),
        "the step uses the old buffer: update buf = mu*buf + g first, then step with the new one":
            (x - lr * (buf if not nesterov else g + mu * buf), right_buf),
        "no momentum: the step is plain gradient descent, x - lr*g": (x - lr * g, right_buf),
        "the step has the wrong sign (ascent): x_new = x - lr*...":
            (x + lr * (right_buf if not nesterov else g + mu * right_buf), right_buf),
        "the buffer is not updated (it must become mu*buf + g)": (x - lr * (right_buf if not nesterov else g + mu * right_buf), buf),
    }
    if nesterov:
        found["that is heavy-ball momentum (x - lr*buf); Nesterov steps along g + mu*buf with the new buffer"] = (
            x - lr * right_buf, right_buf)
    else:
        found["that is Nesterov's step (x - lr*(g + mu*buf)); heavy ball steps along the new buffer itself"] = (
            x - lr * (g + mu * right_buf), right_buf)
    return found


def momentum_step_spec(nesterov=False, shape=(4,), steps=5, lr=None, momentum=None, dtype=np.float64, seed=0):
    """Probe of ``heavy_ball_step`` (or ``nesterov_step``) driven by adamedu.SGD's states."""
    lr = MOMENTUM_PROBE["lr"] if lr is None else lr
    mu = MOMENTUM_PROBE["momentum"] if momentum is None else momentum
    name = "nesterov_step" if nesterov else "heavy_ball_step"
    theta0, grads = probe_inputs(shape, steps, dtype, seed)
    theta, buf = reference_sgd(theta0, grads, lr, mu, nesterov)
    calls = []
    for t in range(1, steps + 1):
        g = grads[t - 1]
        found = heavy_ball_mistakes(theta[t - 1], g, buf[t - 1], lr, mu, nesterov)
        calls.append(dict(step=t, args=[["x", theta[t - 1]], ["grad", g], ["buf", buf[t - 1]], ["lr", lr],
                                        ["momentum", mu]],
                          expected=[theta[t], buf[t]],
                          mistakes={"1": {c: v[1] for c, v in found.items()}, "0": {c: v[0] for c, v in found.items()}}))
    note = "Your buffer is right; the new parameters are not."
    return _stepwise(name, f"{name}(x, grad, buf, lr, momentum) -> (x_new, buf_new)", ["x_new", "buf_new"],
                     [[1, "the momentum buffer", ""], [0, "the new parameters x", note]], calls, dtype, shape,
                     unexplained={"0": "none of the common mistakes; compare with torch.optim.SGD: buf = mu*buf + g, "
                                       + ("x = x - lr*(g + mu*buf)." if nesterov else "x = x - lr*buf.")})


def _momentum_loop(grad_fn, x0, steps, lr, mu, nesterov, variant=None, record=None):
    x = np.array(x0, dtype=np.float64)
    buf = np.zeros_like(x)
    path = [x.copy()]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            if variant == "reset":
                buf = np.zeros_like(x)
            g = grad_fn(x0 if variant == "grad_at_start" else x)
            new_buf = mu * buf + g
            new_x = x - lr * ((g + mu * new_buf) if nesterov else new_buf)
            if record is not None:
                record.append(dict(args=[["x", x.copy()], ["grad", g.copy()], ["buf", buf.copy()], ["lr", lr],
                                         ["momentum", mu]], result=[new_x.copy(), new_buf.copy()]))
            x, buf = new_x, new_buf
            path.append(x.copy())
    return np.array(path)


MOMENTUM_LOOP_MISTAKES = {
    "reset": "the buffer is reset to zero at every step: carry it from one step to the next.",
    "grad_at_start": "the gradient is always taken at the start x0: take it at the current point.",
}


def run_momentum_spec(nesterov=False, problem="valley", x0=(-4.0, 1.0), steps=30, lr=0.02, momentum=0.9,
                      grad_fn=None, helpers=None):
    """Probe of ``run_momentum(grad_fn, x0, steps, lr, momentum, nesterov)`` against adamedu.SGD."""
    from adamedu import SGD

    grad_fn = checks.PROBLEMS[problem] if grad_fn is None else grad_fn
    x0 = np.array(x0, dtype=np.float64)
    x = x0.copy()
    opt = SGD([x], lr=lr, momentum=momentum, nesterov=nesterov)
    expected = [x.copy()]
    for _ in range(steps):
        opt.step([grad_fn(x)])
        expected.append(x.copy())
    record = []
    _momentum_loop(grad_fn, x0, steps, lr, momentum, nesterov, record=record)
    mistakes = {cause: _momentum_loop(grad_fn, x0, steps, lr, momentum, nesterov, v)
                for v, cause in MOMENTUM_LOOP_MISTAKES.items()}
    mistakes["nesterov=True is ignored: with nesterov=True use nesterov_step" if nesterov else
             "nesterov=False still takes Nesterov's step: use heavy_ball_step"] = \
        _momentum_loop(grad_fn, x0, steps, lr, momentum, not nesterov)
    spec = dict(kind="run", function="run_momentum",
                signature="run_momentum(grad_fn, x0, steps, lr, momentum, nesterov=False) -> path (steps + 1, len(x0))",
                outputs=["path"], shape=[steps + 1, len(x0)], dtype="float64", threshold=1e-9,
                expected=np.array(expected), mistakes=mistakes, row_label="the path", step_name="row (step) t",
                row_note="Row t of the path holds the parameters after step t; row 0 is the start.",
                args=[["grad_fn", problem], ["x0", x0], ["steps", steps], ["lr", lr], ["momentum", momentum],
                      ["nesterov", nesterov]], problem={"arg": "grad_fn", "name": problem})
    if grad_fn is not checks.PROBLEMS.get(problem):
        spec.pop("problem")
        spec["args"][0][1] = grad_fn
    if helpers:
        step = "nesterov_step" if nesterov else "heavy_ball_step"
        own = helpers.get(step + "_spec", step)
        spec["helpers"] = {step: _helper(helpers[step], own, record)}
    return spec


def iteration_matrix_formula(lr, momentum, curvature, variant=None):
    a = 1 + momentum - lr * curvature
    if variant == "transposed":
        return np.array([[a, 1.0], [-momentum, 0.0]])
    if variant == "no_momentum_on_diagonal":
        return np.array([[1 - lr * curvature, -momentum], [1.0, 0.0]])
    if variant == "plus_momentum":
        return np.array([[a, momentum], [1.0, 0.0]])
    if variant == "rows_swapped":
        return np.array([[1.0, 0.0], [a, -momentum]])
    return np.array([[a, -momentum], [1.0, 0.0]])


MATRIX_MISTAKES = {
    "transposed": "the matrix is transposed: row 1 gives x_{t+1} = (1 + mu - lr*lam) x_t - mu x_{t-1}, row 2 gives x_t = x_t.",
    "no_momentum_on_diagonal": "the top-left entry is missing + mu: x_{t+1} = x_t - lr*lam*x_t + mu*(x_t - x_{t-1}).",
    "plus_momentum": "the top-right entry has the wrong sign: the momentum term mu*(x_t - x_{t-1}) gives -mu for x_{t-1}.",
    "rows_swapped": "the rows are swapped: the first row must give x_{t+1}, the second x_t.",
}


def iteration_matrix_spec(points=((0.02, 0.9, 1.0), (0.02, 0.9, 50.0), (0.05, 0.5, 10.0), (0.1, 0.0, 3.0))):
    calls = [dict(step=k + 1, args=[["lr", lr], ["momentum", mu], ["curvature", lam]],
                  expected=[iteration_matrix_formula(lr, mu, lam)],
                  mistakes={"0": {c: iteration_matrix_formula(lr, mu, lam, v) for v, c in MATRIX_MISTAKES.items()}})
             for k, (lr, mu, lam) in enumerate(points)]
    return _stepwise("iteration_matrix", "iteration_matrix(lr, momentum, curvature) -> 2x2 array",
                     ["the matrix"], [[0, "the iteration matrix", ""]], calls, np.float64, (2, 2), threshold=1e-12,
                     step_name="probe")


def rate_formula(lr, momentum, curvatures, variant=None):
    values = []
    for lam in curvatures:
        eig = np.linalg.eigvals(iteration_matrix_formula(lr, momentum, lam))
        values.append(np.max(eig.real) if variant == "real_part" else np.max(np.abs(eig)))
    if variant == "min":
        return float(np.min(values))
    if variant == "largest_curvature_only":
        return float(values[int(np.argmax(curvatures))])
    return float(np.max(values))


RATE_MISTAKES = {
    "real_part": "the largest real part of the eigenvalues is taken; the rate is the largest modulus |eig| "
                 "(with momentum the eigenvalues are complex).",
    "min": "the minimum over the curvatures is taken; the slowest direction sets the rate: take the maximum.",
    "largest_curvature_only": "only the largest curvature is used; every curvature counts (the smallest is "
                              "often the slowest).",
}


def rate_spec(points=((0.02, 0.9, (1.0, 50.0)), (0.0392156862745098, 0.0, (1.0, 50.0)),
                      (0.06, 0.5, (1.0, 50.0)), (0.01, 0.3, (2.0, 5.0, 20.0)))):
    calls = [dict(step=k + 1, args=[["lr", lr], ["momentum", mu], ["curvatures", list(lams)]],
                  expected=[np.array(rate_formula(lr, mu, lams))],
                  mistakes={"0": {c: np.array(rate_formula(lr, mu, lams, v)) for v, c in RATE_MISTAKES.items()}})
             for k, (lr, mu, lams) in enumerate(points)]
    return _stepwise("rate", "rate(lr, momentum, curvatures) -> float", ["the rate"], [[0, "the rate", ""]],
                     calls, np.float64, (), threshold=1e-10, step_name="probe",
                     helpers={})


VALLEY = dict(a=1.0, b=50.0, x0=(-4.0, 1.0))


def valley_loss(x):
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * (VALLEY["a"] * x[..., 0] ** 2 + VALLEY["b"] * x[..., 1] ** 2)


def noisy_stationary_loss(lr, momentum, sigma, seeds, steps, burn_in, variant=None):
    """Mean over seeds of the average valley loss over steps burn_in+1 .. steps of heavy ball with
    gradient noise sigma*N(0, I), started at the minimum (the reference for the noise question)."""
    curv = np.array([VALLEY["a"], VALLEY["b"]])
    means = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        x, buf = np.zeros(2), np.zeros(2)
        losses = []
        for t in range(1, steps + 1):
            noise = rng.standard_normal(2)
            if variant == "same_noise":
                noise = np.full(2, noise[0])
            g = curv * x + sigma * noise
            buf = momentum * buf + g
            x = x - lr * buf
            losses.append(0.5 * np.sum(curv * x * x))
        window = losses if variant == "with_burn_in" else losses[burn_in:]
        means.append(np.mean(window))
    return float(np.mean(means))


NOISE_MISTAKES = {
    "same_noise": "both coordinates get the same noise draw: draw rng.standard_normal(2), one per coordinate.",
    "with_burn_in": "the average includes the burn-in steps: average the losses after step burn_in only.",
}


def stationary_loss_spec(points=((0.01, 0.0), (0.001, 0.9)), sigma=1.0, seeds=(0, 1), steps=400, burn_in=200):
    calls = [dict(step=k + 1, args=[["lr", lr], ["momentum", mu], ["sigma", sigma], ["seeds", list(seeds)],
                                    ["steps", steps], ["burn_in", burn_in]],
                  expected=[np.array(noisy_stationary_loss(lr, mu, sigma, seeds, steps, burn_in))],
                  mistakes={"0": {c: np.array(noisy_stationary_loss(lr, mu, sigma, seeds, steps, burn_in, v))
                                  for v, c in NOISE_MISTAKES.items()}})
             for k, (lr, mu) in enumerate(points)]
    return _stepwise("stationary_loss", "stationary_loss(lr, momentum, sigma, seeds, steps, burn_in) -> float",
                     ["the average loss"], [[0, "the average loss", ""]], calls, np.float64, (), threshold=1e-9,
                     step_name="probe",
                     unexplained={"0": "none of the common mistakes: start at x = 0 with a zero buffer, draw the "
                                       "noise with rng = np.random.default_rng(seed) once per step (two numbers), "
                                       "and use heavy_ball_step's update."})


def predicted_stationary_loss(lr, momentum, sigma, curvatures):
    """Expected loss of heavy ball at stationarity: the sum over coordinates of
    (1 + mu) lr sigma^2 / (2 (1 - mu) (2 (1 + mu) - lr lam))."""
    lam = np.asarray(curvatures, dtype=np.float64)
    return float(np.sum((1 + momentum) * lr * sigma**2 / (2 * (1 - momentum) * (2 * (1 + momentum) - lr * lam))))


def check_momentum_step(fn, nesterov=False, **kwargs) -> None:
    _raise(checks.diagnose(momentum_step_spec(nesterov, **kwargs), fn))


def check_run_momentum(fn, nesterov=False, **kwargs) -> None:
    step = "nesterov_step" if nesterov else "heavy_ball_step"
    helpers = {step: "Question 1", step + "_spec": momentum_step_spec(nesterov)}
    _raise(checks.diagnose(run_momentum_spec(nesterov, helpers=helpers, **kwargs), fn))


def check_iteration_matrix(fn, points) -> None:
    _raise(checks.diagnose(iteration_matrix_spec(points), fn))


def check_rate(fn, points) -> None:
    _raise(checks.diagnose(rate_spec(points), fn))


def check_stationary_loss(fn, points, sigma=1.0, seeds=(3, 4, 5), steps=300, burn_in=100) -> None:
    _raise(checks.diagnose(stationary_loss_spec(points, sigma, seeds, steps, burn_in), fn))


# --- The bias correction: expressions and the simulation -----------------------------------------

def expression_spec(expr, points, hint=""):
    """A SymPy answer checked at ``points`` (dicts by symbol name) against ``expr``'s values."""
    import sympy as sp

    names = {s.name: s for s in expr.free_symbols}
    stored_points = []
    for values in points:
        subs = {names[k]: sp.nsimplify(v) for k, v in values.items() if k in names}
        stored_points.append([{k: float(v) for k, v in values.items() if k in names},
                              float(sp.N(checks._generic_branch(expr).subs(subs), 30))])
    return dict(kind="expression", points=stored_points, hint=hint)


def simulate_formula(grads, beta1, beta2, variant=None):
    m = np.zeros(grads.shape[0])
    v = np.zeros(grads.shape[0])
    ms, m_hats, v_hats = [], [], []
    with np.errstate(all="ignore"):
        for step in range(1, grads.shape[1] + 1):
            g = grads[:, step - 1]
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * (g if variant == "v_not_squared" else g**2)
            power = {"power_from_zero": step - 1, "power_plus_one": step + 1}.get(variant, step)
            ms.append(m)
            m_hats.append(m if variant == "no_correction" else m / (1 - beta1**power))
            v_hats.append(v if variant == "no_correction" else v / (1 - beta2**power))
    return np.stack(ms, axis=1), np.stack(m_hats, axis=1), np.stack(v_hats, axis=1)


SIMULATE_MISTAKES = {
    "no_correction": "the averages are not bias-corrected: m_hat = m_t/(1 - beta1**t), v_hat = v_t/(1 - beta2**t).",
    "power_from_zero": "the powers start at t = 0 (column j is step t = j + 1): 1 - beta**0 = 0 divides by zero.",
    "power_plus_one": "the powers are t + 1: column j holds step t = j + 1, corrected with 1 - beta**t.",
    "v_not_squared": "v averages g instead of g**2.",
}


def simulate_spec(n_runs=3, T=5, beta1=0.8, beta2=0.9, seed=0):
    rng = np.random.default_rng(seed)
    grads = 0.5 + 2.0 * rng.standard_normal((n_runs, T))
    right = simulate_formula(grads, beta1, beta2)
    wrong = {c: simulate_formula(grads, beta1, beta2, v) for v, c in SIMULATE_MISTAKES.items()}
    call = dict(step=1, args=[["grads", grads], ["beta1", beta1], ["beta2", beta2]], expected=list(right),
                mistakes={str(j): {c: w[j] for c, w in wrong.items()} for j in range(3)})
    return _stepwise("simulate", "simulate(grads, beta1, beta2) -> (m, m_hat, v_hat), each (n_runs, T)",
                     ["m", "m_hat", "v_hat"], [[0, "m", ""], [1, "m_hat", ""], [2, "v_hat", ""]], [call],
                     np.float64, (n_runs, T), threshold=1e-12, step_name="probe")


# --- Training on the digits: the tuning protocol ---------------------------------------------------

def split_indices(n, val_fraction=0.2, seed=0):
    """(fit, validation) indices of the training set: a seeded permutation, both sorted."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(val_fraction * n))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def warmup_cosine_formula(step, total_steps, warmup_steps, peak_lr, final_lr=0.0, variant=None):
    """The learning rate of update ``step`` (1-based): linear warmup to ``peak_lr`` over
    ``warmup_steps`` updates, then a half cosine from ``peak_lr`` down to ``final_lr`` at
    ``total_steps``."""
    if step <= warmup_steps and variant != "no_warmup":
        if variant == "warmup_from_zero":
            return peak_lr * (step - 1) / warmup_steps
        return peak_lr * step / warmup_steps
    span = total_steps if variant == "decay_over_total" else total_steps - warmup_steps
    done = step if variant == "decay_over_total" else step - warmup_steps
    if variant == "decay_late":
        done -= 1
    progress = min(max(done / span, 0.0), 1.0)
    if variant == "linear_decay":
        return final_lr + (peak_lr - final_lr) * (1 - progress)
    if variant == "final_ignored":
        return peak_lr * (1 + math.cos(math.pi * progress)) / 2
    if variant == "no_half":
        return final_lr + (peak_lr - final_lr) * (1 + math.cos(math.pi * progress))
    if variant == "cosine_up":
        return final_lr + (peak_lr - final_lr) * (1 - math.cos(math.pi * progress)) / 2
    if variant == "degrees":
        return final_lr + (peak_lr - final_lr) * (1 + math.cos(180 * progress)) / 2
    return final_lr + (peak_lr - final_lr) * (1 + math.cos(math.pi * progress)) / 2


SCHEDULE_MISTAKES = {
    "warmup_from_zero": "the warmup starts at 0: the first update would not move the parameters. Use "
                        "peak_lr * step / warmup_steps, which reaches peak_lr at step = warmup_steps.",
    "no_warmup": "there is no warmup: for step <= warmup_steps the rate rises linearly to peak_lr.",
    "decay_over_total": "the cosine runs over all total_steps; it must start after the warmup and span "
                        "total_steps - warmup_steps updates.",
    "decay_late": "the cosine starts one update late: after the warmup, progress = (step - warmup_steps) / "
                  "(total_steps - warmup_steps).",
    "linear_decay": "the decay is linear; it must follow a half cosine, (1 + cos(pi * progress)) / 2.",
    "final_ignored": "final_lr is ignored: the cosine must end at final_lr, not at 0.",
    "no_half": "the factor 1/2 is missing: (1 + cos(pi * progress)) / 2 runs from 1 to 0.",
    "cosine_up": "the cosine rises instead of falling: use (1 + cos(pi * progress)) / 2.",
    "degrees": "the cosine is given degrees: math.cos and np.cos take radians, use pi * progress.",
}


def warmup_cosine_spec(total_steps=12, warmup_steps=3, peak_lr=0.1, final_lr=0.01):
    calls = []
    for step in range(1, total_steps + 1):
        args = [["step", step], ["total_steps", total_steps], ["warmup_steps", warmup_steps],
                ["peak_lr", peak_lr], ["final_lr", final_lr]]
        calls.append(dict(step=step, args=args,
                          expected=[np.array(warmup_cosine_formula(step, total_steps, warmup_steps, peak_lr, final_lr))],
                          mistakes={"0": {c: np.array(warmup_cosine_formula(step, total_steps, warmup_steps, peak_lr,
                                                                            final_lr, v))
                                          for v, c in SCHEDULE_MISTAKES.items()}}))
    return _stepwise("warmup_cosine", "warmup_cosine(step, total_steps, warmup_steps, peak_lr, final_lr) -> float",
                     ["the learning rate"], [[0, "the learning rate", ""]], calls, np.float64, (), threshold=1e-12,
                     step_name="step")


def check_warmup_cosine(fn, **kwargs) -> None:
    _raise(checks.diagnose(warmup_cosine_spec(**kwargs), fn))


_PROBLEMS = {}


def digits_problem(kind):
    """The problems of the two digits assignments (built once): "logreg" or "mlp"."""
    if kind not in _PROBLEMS:
        from adamedu import problems

        _PROBLEMS[kind] = (problems.LogisticRegression(batch_size=32) if kind == "logreg"
                           else problems.MLP(hidden=(32, 32), batch_size=64))
    return _PROBLEMS[kind]


TRAINING_MISTAKES = {
    "all_train": "the minibatches are drawn from the whole training set, validation examples included: "
                 "draw them from fit_idx only (rng.choice(fit_idx, ...)), or the validation loss is no "
                 "longer a fair estimate.",
    "test_set": "the curve is measured on the test set; tune on the validation set (val_idx) and keep the "
                "test set for the final report.",
    "rng_in_loop": "a new random generator is made at every step, so every step sees the same minibatch: "
                   "make rng = np.random.default_rng(seed) once, before the loop.",
    "full_batch": "the gradient is computed on all of fit_idx at every step: use a minibatch of BATCH_SIZE.",
    "betas_default": "beta1 is not passed to the optimizer: use betas=(beta1, 0.999).",
    "schedule_after": "the learning rate of update t is set after that update: set it before opt.step.",
    "no_schedule": "the schedule is not applied: set the learning rate of every update with warmup_cosine.",
    "init_fixed": "the start does not depend on the seed: start at problem.init(seed).",
}


def train_digits(kind, optimizer, lr, seed, steps, eval_every, beta1=0.9, warmup=0, weight_decay=0.0,
                 variant=None, batch_size=None):
    """The reference training run of the two digits assignments; returns (x, curve).

    ``curve[j]`` is the validation loss after ``j * eval_every`` updates. "logreg": Adam with
    betas ``(beta1, 0.999)`` at a constant ``lr`` from zeros. "mlp": ``optimizer`` in "sgd" (heavy
    ball, momentum 0.9), "adam", "adamw" (with ``weight_decay``), the learning rate of update t set to
    ``warmup_cosine(t, steps, warmup, lr, 0.0)`` before it, from ``problem.init(seed)``.
    """
    from adamedu import SGD, Adam, AdamW
    from adamedu.experiments import set_lr

    problem = digits_problem(kind)
    fit, val = split_indices(len(problem.y_train))
    batch = problem.batch_size if batch_size is None else batch_size
    if kind == "logreg":
        x = problem.x0.copy()
        opt = Adam([x], lr=lr, betas=(0.9 if variant == "betas_default" else beta1, 0.999))
    else:
        x = problem.init(0 if variant == "init_fixed" else seed)
        opt = {"sgd": lambda: SGD([x], lr=lr, momentum=0.9), "adam": lambda: Adam([x], lr=lr),
               "adamw": lambda: AdamW([x], lr=lr, weight_decay=weight_decay)}[optimizer]()
    rng = np.random.default_rng(seed)

    def measure():
        return problem.test_loss(x) if variant == "test_set" else problem.batch_loss(x, val)

    curve = [measure()]
    with np.errstate(all="ignore"):
        for step in range(1, steps + 1):
            if kind == "mlp" and variant not in ("no_schedule", "schedule_after"):
                set_lr(opt, warmup_cosine_formula(step, steps, warmup, lr, 0.0))
            if variant == "rng_in_loop":
                rng = np.random.default_rng(seed)
            if variant == "all_train":
                idx = rng.choice(len(problem.y_train), size=batch, replace=False)
            elif variant == "full_batch":
                idx = fit
            else:
                idx = rng.choice(fit, size=batch, replace=False)
            opt.step([problem.batch_grad(x, idx)])
            if kind == "mlp" and variant == "schedule_after":
                set_lr(opt, warmup_cosine_formula(min(step + 1, steps), steps, warmup, lr, 0.0))
            if step % eval_every == 0:
                curve.append(measure())
    return x, np.array(curve)


LOGREG_MISTAKES = ("all_train", "test_set", "rng_in_loop", "full_batch", "betas_default")


def train_logreg_spec(configs=((0.01, 0.9, 0, 50), (0.1, 0.0, 1, 50)), eval_every=25):
    """Probe of ``train(lr, beta1, seed, steps)`` of "Tuning Adam honestly": the validation curve."""
    dim = digits_problem("logreg").dim
    calls = []
    for k, (lr, b1, seed, steps) in enumerate(configs):
        _, curve = train_digits("logreg", "adam", lr, seed, steps, eval_every, beta1=b1)
        mistakes = {TRAINING_MISTAKES[v]: train_digits("logreg", "adam", lr, seed, steps, eval_every, beta1=b1,
                                                       variant=v)[1] for v in LOGREG_MISTAKES}
        calls.append(dict(step=k + 1, args=[["lr", lr], ["beta1", b1], ["seed", seed], ["steps", steps]],
                          expected=[None, curve], mistakes={"1": mistakes}))
    shapes = [[dim], [len(calls[0]["expected"][1])]]
    spec = _stepwise("train", "train(lr, beta1, seed, steps) -> (x, curve)", ["x", "curve"],
                     [[1, "the validation curve", "Entry j is the validation loss after j * EVAL_EVERY steps."]],
                     calls, np.float64, (), threshold=1e-9, step_name="probe")
    spec["shapes"] = shapes  # every call of one probe has the same run length
    return spec


def check_train_logreg(fn, configs, eval_every=25) -> None:
    for config in configs:  # one probe per run length, so that every probe has one curve shape
        _raise(checks.diagnose(train_logreg_spec((config,), eval_every), fn))


LOGREG_LRS = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]
LOGREG_BETA1S = [0.0, 0.9]


def check_logreg_table(table, best_lr, cells=((0, 0, 1), (1, 3, 0), (0, 5, 1), (1, 4, 1))) -> None:
    """Hidden test: a few entries of the tuning table recomputed with the reference."""
    table = np.asarray(table, dtype=float)
    for b, j, s in cells:
        expected = train_digits("logreg", "adam", LOGREG_LRS[j], s, 300, 25, beta1=LOGREG_BETA1S[b])[1][-1]
        checks.check_number(f"tuning_table[{b}, {j}, {s}] (beta1 = {LOGREG_BETA1S[b]}, lr = {LOGREG_LRS[j]}, "
                            f"seed {s})", table[b, j, s], expected, threshold=1e-9)


def check_logreg_final(final_test, best_lr, cells=((0, 0), (1, 4))) -> None:
    """Hidden test: entries of the final evaluation recomputed at the student's own best_lr."""
    problem = digits_problem("logreg")
    final_test = np.asarray(final_test, dtype=float)
    seeds = [100, 101, 102, 103, 104]
    for b, k in cells:
        x, _ = train_digits("logreg", "adam", float(best_lr[b]), seeds[k], 300, 25, beta1=LOGREG_BETA1S[b])
        checks.check_number(f"final_test[{b}, {k}]", final_test[b, k], problem.test_loss(x), threshold=1e-9,
                            hint="train at best_lr with the evaluation seed, then problem.test_loss(x)")


def scaled_path(optimizer_cls, c, steps, **hp):
    from adamedu import problems

    valley = problems.IllConditionedQuadratic(condition_number=50.0)
    x = np.array(valley.x0, dtype=np.float64)
    opt = optimizer_cls([x], **hp)
    path = [x.copy()]
    for _ in range(steps):
        opt.step([c * valley.grad(x)])
        path.append(x.copy())
    return np.array(path)


def check_run_scaled(fn) -> None:
    from adamedu import SGD, Adam

    c = np.array([1e3, 1e-3])
    for cls, hp in ((Adam, dict(lr=0.3)), (Adam, dict(lr=0.05, betas=(0.5, 0.99))), (SGD, dict(lr=1e-5))):
        checks.check_array(f"run_scaled({cls.__name__}, c, 60, **{hp})", fn(cls, c, 60, **hp),
                           scaled_path(cls, c, 60, **hp), threshold=1e-12,
                           hint="row 0 is the start; pass c * valley.grad(x) to opt.step")


MLP_GRIDS = {"sgd": [0.01, 0.03, 0.1, 0.3], "adam": [1e-3, 3e-3, 1e-2, 3e-2], "adamw": [3e-3, 1e-2, 3e-2, 1e-1]}
MLP_SETTINGS = dict(steps=600, warmup=60, eval_every=100, weight_decay=0.05)
MLP_MISTAKES = ("all_train", "test_set", "rng_in_loop", "full_batch", "schedule_after", "no_schedule", "init_fixed")


def _mlp(optimizer, lr, seed, steps, warmup, eval_every, variant=None):
    return train_digits("mlp", optimizer, lr, seed, steps, eval_every, warmup=warmup,
                        weight_decay=MLP_SETTINGS["weight_decay"], variant=variant)


def train_mlp_spec(configs=(("sgd", 0.1, 0, 40, 10), ("adam", 3e-3, 1, 40, 10), ("adamw", 1e-2, 2, 40, 10)),
                   eval_every=20, question="Question 1"):
    """Probe of ``train(optimizer, lr, seed, steps, warmup, eval_every)`` of "Training a network on
    real data": the validation curve, with the schedule of Question 1 as an earlier question."""
    dim = digits_problem("mlp").dim
    calls, schedule_calls = [], []
    for k, (name, lr, seed, steps, warmup) in enumerate(configs):
        _, curve = _mlp(name, lr, seed, steps, warmup, eval_every)
        mistakes = {TRAINING_MISTAKES[v]: _mlp(name, lr, seed, steps, warmup, eval_every, v)[1] for v in MLP_MISTAKES}
        calls.append(dict(step=k + 1, args=[["optimizer", name], ["lr", lr], ["seed", seed], ["steps", steps],
                                            ["warmup", warmup], ["eval_every", eval_every]],
                          expected=[None, curve], mistakes={"1": mistakes}))
        schedule_calls += [dict(args=[["step", t], ["total_steps", steps], ["warmup_steps", warmup], ["peak_lr", lr],
                                      ["final_lr", 0.0]],
                                result=[np.array(warmup_cosine_formula(t, steps, warmup, lr, 0.0))])
                           for t in range(1, steps + 1)]
    spec = _stepwise("train", "train(optimizer, lr, seed, steps, warmup, eval_every) -> (x, curve)", ["x", "curve"],
                     [[1, "the validation curve", "Entry j is the validation loss after j * eval_every updates."]],
                     calls, np.float64, (), threshold=1e-9, step_name="probe")
    spec["shapes"] = [[dim], [len(calls[0]["expected"][1])]]
    spec["helpers"] = {"warmup_cosine": _helper(question, "warmup_cosine" if question else warmup_cosine_spec(),
                                                schedule_calls, threshold=1e-12)}
    return spec


def check_train_mlp(fn, configs, eval_every) -> None:
    spec = train_mlp_spec(configs, eval_every)
    spec["helpers"]["warmup_cosine"]["spec"] = warmup_cosine_spec()
    _raise(checks.diagnose(spec, fn))


def check_mlp_table(table, cells=((0, 1, 0), (1, 2, 1), (2, 3, 0))) -> None:
    """Hidden test: entries of the tuning table (optimizer, lr, seed) recomputed with the reference."""
    table = np.asarray(table, dtype=float)
    names = list(MLP_GRIDS)
    settings = MLP_SETTINGS
    for o, j, s in cells:
        name, lr = names[o], MLP_GRIDS[names[o]][j]
        expected = _mlp(name, lr, s, settings["steps"], settings["warmup"], settings["eval_every"])[1][-1]
        checks.check_number(f"tuning_table[{o}, {j}, {s}] ({name}, lr = {lr}, seed {s})", table[o, j, s], expected,
                            threshold=1e-9)


def check_mlp_final(final_accuracy, chosen_lr, cells=((0, 0), (1, 2), (2, 4))) -> None:
    problem = digits_problem("mlp")
    final_accuracy = np.asarray(final_accuracy, dtype=float)
    names = list(MLP_GRIDS)
    settings = MLP_SETTINGS
    for o, k in cells:
        x, _ = _mlp(names[o], float(chosen_lr[o]), 100 + k, settings["steps"], settings["warmup"], settings["eval_every"])
        checks.check_number(f"final_accuracy[{o}, {k}]", final_accuracy[o, k], problem.accuracy(x), threshold=1e-12,
                            hint="train at the chosen lr with seed 100 + k, then problem.accuracy(x)")
