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
    spec = dict(kind="optimizer", function="Adam", signature=SIGNATURES["Adam"], threshold=1e-10,
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
