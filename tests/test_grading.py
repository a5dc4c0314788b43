"""The assignments' feedback: right answers pass, and each common mistake is named with its step.

The checks live with the course tooling (``chapters/assignments/coursekit``): ``assignment_checks``
(handed to students, no reference inside) compares answers with stored probes; ``autograder_checks``
builds the probes from the reference implementations. Probes are built live here.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "chapters" / "assignments"))

from coursekit import assignment_checks as checks  # noqa: E402
from coursekit import autograder_checks as ag  # noqa: E402


def diagnose(spec, fn):
    return checks.diagnose(spec, fn)


# --- Student-style implementations: one right, many wrong in one place each ----------------------

def moments(m, v, g, b1, b2):
    return b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g


def make_step(*, moment=moments, correct=lambda m, v, t, b1, b2: (m / (1 - b1**t), v / (1 - b2**t)),
              denom=lambda v_hat, eps: np.sqrt(v_hat) + eps, direction=lambda m_hat, g: m_hat,
              finish=lambda theta, step: theta - step, lr_factor=True, state=None):
    def adam_step(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        m_new, v_new = moment(m, v, grad, beta1, beta2)
        m_hat, v_hat = correct(m_new, v_new, t, beta1, beta2)
        step = (lr if lr_factor else 1.0) * direction(m_hat, grad) / denom(v_hat, eps)
        out_m, out_v = (m_new, v_new) if state is None else state(m_new, v_new, m_hat, v_hat)
        return finish(theta, step), out_m, out_v
    return adam_step


right = make_step()

STEP_MISTAKES = {
    "bias correction left out": make_step(correct=lambda m, v, t, b1, b2: (m, v)),
    "first moment is not bias-corrected": make_step(correct=lambda m, v, t, b1, b2: (m, v / (1 - b2**t))),
    "second moment is not bias-corrected": make_step(correct=lambda m, v, t, b1, b2: (m / (1 - b1**t), v)),
    "operator precedence": make_step(correct=lambda m, v, t, b1, b2: (m / (1 - b1) ** t, v / (1 - b2) ** t)),
    "eps is inside the square root": make_step(denom=lambda v_hat, eps: np.sqrt(v_hat + eps)),
    "eps is missing": make_step(denom=lambda v_hat, eps: np.sqrt(v_hat)),
    "square root is missing": make_step(denom=lambda v_hat, eps: v_hat + eps),
    "wrong sign": make_step(finish=lambda theta, step: theta + step),
    "learning rate lr is missing": make_step(lr_factor=False),
    "raw gradient": make_step(direction=lambda m_hat, g: g),
    "returned the step": make_step(finish=lambda theta, step: step),
    "beta1 and (1 - beta1) are swapped": make_step(
        moment=lambda m, v, g, b1, b2: ((1 - b1) * m + b1 * g, b2 * v + (1 - b2) * g * g)),
    "(1 - beta1) factor is missing": make_step(
        moment=lambda m, v, g, b1, b2: (b1 * m + g, b2 * v + (1 - b2) * g * g)),
    "gradient is not squared": make_step(
        moment=lambda m, v, g, b1, b2: (b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g)),
    "second moment uses beta1": make_step(
        moment=lambda m, v, g, b1, b2: (b1 * m + (1 - b1) * g, b1 * v + (1 - b1) * g * g)),
    "bias-corrected m_hat is returned as the state": make_step(state=lambda m, v, m_hat, v_hat: (m_hat, v)),
    "bias-corrected v_hat is returned as the state": make_step(state=lambda m, v, m_hat, v_hat: (m, v_hat)),
}


def paper_efficient_form(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m, v = moments(m, v, grad, beta1, beta2)
    alpha_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    return theta - alpha_t * m / (np.sqrt(v) + eps), m, v


def test_right_answer_passes_public_and_hidden_variants():
    assert diagnose(ag.adam_step_spec(), right) is None
    ag.check_adam_step(right, shape=(3, 5), steps=8, lr=3e-2, beta1=0.95, beta2=0.99, eps=1e-6, seed=4, questions={})
    ag.check_adam_step(right, dtype=np.float32, shape=(2, 3), steps=20, seed=1, questions={})
    ag.check_adam_step(right, drive="own", steps=500, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, questions={})


@pytest.mark.parametrize("cause", sorted(STEP_MISTAKES))
def test_each_common_mistake_is_named_at_the_first_step(cause):
    finding = diagnose(ag.adam_step_spec(), STEP_MISTAKES[cause])
    assert finding is not None
    assert cause in finding.cause, str(finding)
    assert "one of these" not in finding.cause, str(finding)
    # At t = 1, (1 - beta)**t = 1 - beta**t and m_hat_1 = g_1: those two can only show at t = 2;
    # the state mistakes change the returned moments, which are checked before the parameters.
    assert finding.step == (2 if cause in ("operator precedence", "raw gradient") else 1), str(finding)
    assert finding.error > finding.threshold
    with pytest.raises(AssertionError, match="Likely cause"):
        ag.check_adam_step(STEP_MISTAKES[cause], questions={})


def test_paper_efficient_form_with_unscaled_eps_is_recognised():
    assert "efficient" in diagnose(ag.adam_step_spec(), paper_efficient_form).cause

    def rescaled(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return paper_efficient_form(theta, grad, m, v, t, lr, beta1, beta2, eps * np.sqrt(1 - beta2**t))

    assert diagnose(ag.adam_step_spec(), rescaled) is None


def test_message_has_part_step_values_error_and_threshold():
    message = str(diagnose(ag.adam_step_spec(), STEP_MISTAKES["bias correction left out"]))
    assert message.startswith("adam_step: the parameter update theta_t is wrong at step t = 1")
    for piece in ("expected:", "got:", "relative error", "a correct answer is below 1e-10",
                  "Likely cause: bias correction left out", "Inputs of this call:", "eps = 0.001"):
        assert piece in message


def test_unfinished_and_malformed_functions_get_plain_messages():
    def stub(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        raise NotImplementedError

    def returns_none(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        pass

    def partial(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return ..., m, v

    def wrong_signature(theta, grad, t):
        return theta, theta, theta

    def float64_everywhere(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return tuple(np.asarray(a, dtype=np.float64) for a in right(theta, grad, m, v, t, lr, beta1, beta2, eps))

    spec = ag.adam_step_spec()
    assert "not implemented yet (it raised NotImplementedError)" in str(diagnose(spec, stub))
    assert "not implemented yet: it returned None" in str(diagnose(spec, returns_none))
    assert "output 0 (theta_new) is Ellipsis" in str(diagnose(spec, partial))
    assert "must be callable as adam_step(theta, grad, m, v, t" in str(diagnose(spec, wrong_signature))
    assert diagnose(spec, float64_everywhere) is None
    assert "keep the dtype" in str(diagnose(ag.adam_step_spec(dtype=np.float32), float64_everywhere))
    assert "not defined as a function" in str(diagnose(spec, Ellipsis))


def test_errors_that_only_accumulate_are_caught_when_driven_by_own_outputs():
    # v off by a relative 1e-12 per step: invisible in one step, 1000 times larger after the
    # second moment's memory of 1 / (1 - beta2) = 1000 steps.
    def drifting(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        theta, m, v = right(theta, grad, m, v, t, lr, beta1, beta2, eps)
        return theta, m, v * (1 + 1e-12)

    assert diagnose(ag.adam_step_spec(beta2=0.999), drifting) is None
    with pytest.raises(AssertionError, match="drifts away"):
        ag.check_adam_step(drifting, drive="own", steps=3000, beta2=0.999, questions={})


# --- The planted mistakes of the course review -----------------------------------------------------

def test_a_forgotten_power_is_named_as_such_not_as_t_minus_1():
    """v/(1 - beta2): right at t = 1, equal to "power t - 1" at t = 2; the other steps decide."""
    finding = diagnose(ag.bias_correct_spec(), lambda m, v, t, b1, b2: (m / (1 - b1**t), v / (1 - b2)))
    assert finding.part == "the corrected second moment v_hat" and finding.step == 2
    assert finding.cause.startswith("the power t is missing: v_hat = v_t/(1 - beta2)"), finding.cause
    finding = diagnose(ag.bias_correct_spec(),
                       lambda m, v, t, b1, b2: (m / (1 - b1 ** (t - 1)), v / (1 - b2 ** (t - 1))))
    assert finding.step == 1 and "the power is t - 1" in finding.cause, str(finding)


def _notebook(source: str) -> dict:
    """Functions defined as in a notebook: one shared namespace, as Otter passes them to tests."""
    namespace = {"np": np}
    exec(source, namespace)  # noqa: S102 - test code
    return namespace


SOLUTION = '''
def update_moments(m, v, grad, beta1, beta2):
    return beta1 * m + (1 - beta1) * grad, beta2 * v + (1 - beta2) * grad**2

def bias_correct(m, v, t, beta1, beta2):
    return m / (1 - beta1**t), v / (1 - beta2**t)

def adam_step(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m, v = update_moments(m, v, grad, beta1, beta2)
    m_hat, v_hat = bias_correct(m, v, t, beta1, beta2)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v

def run_adam(grad_fn, x0, steps, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    x = np.array(x0, dtype=float)
    m, v = np.zeros_like(x), np.zeros_like(x)
    path = [x.copy()]
    for t in range(1, steps + 1):
        x, m, v = adam_step(x, grad_fn(x), m, v, t, lr, beta1, beta2, eps)
        path.append(x.copy())
    return np.array(path)

class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = list(params), lr, betas, eps, 0
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]

    def step(self, grads):
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, grads)):
            p_new, self.m[i], self.v[i] = adam_step(p, g, self.m[i], self.v[i], self.t, self.lr, *self.betas, self.eps)
            p[...] = p_new
'''


def _specs():
    questions = ag._adam_step_helpers(ag.ADAM_QUESTIONS, live=True)
    step = ag.adam_step_spec(helpers=questions)
    helper = {"adam_step": "Question 3", "adam_step_spec": step}
    return step, ag.run_adam_spec(helpers=helper), ag.adam_class_spec(helpers=helper)


def test_the_solution_passes_every_probe():
    nb = _notebook(SOLUTION)
    step, run, cls = _specs()
    assert diagnose(step, nb["adam_step"]) is None
    assert diagnose(run, nb["run_adam"]) is None
    assert diagnose(cls, nb["Adam"]) is None


def test_a_failure_inherited_from_an_earlier_question_says_so():
    nb = _notebook(SOLUTION.replace("v / (1 - beta2**t)", "v / (1 - beta2)"))
    step, run, cls = _specs()
    message = str(diagnose(step, nb["adam_step"]))
    assert message.startswith("adam_step: wrong only because it calls `bias_correct` (Question 2)"), message
    assert "your adam_step passes. Fix Question 2 first" in message
    assert "the power t is missing" in message
    for spec, name in ((run, "run_adam"), (cls, "Adam")):
        message = str(diagnose(spec, nb[name]))
        assert "wrong only because it calls `adam_step` (Question 3), which is wrong only because it calls " \
               "`bias_correct` (Question 2)" in message, message
        assert "Fix Question 2 first" in message


def test_an_own_mistake_is_told_apart_from_an_inherited_one():
    nb = _notebook(SOLUTION.replace("v / (1 - beta2**t)", "v / (1 - beta2)")
                   .replace("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)"))
    finding = diagnose(_specs()[0], nb["adam_step"])
    assert "eps is inside the square root" in finding.cause, str(finding)
    assert "It also calls `bias_correct` (Question 2)" in finding.note


def test_a_loop_that_starts_at_zero_gets_the_division_by_zero_named():
    nb = _notebook(SOLUTION.replace("for t in range(1, steps + 1):", "for t in range(steps):"))
    finding = diagnose(_specs()[1], nb["run_adam"])
    assert finding.step == 1 and "starts at t = 0" in finding.cause and "1 - beta**0 = 0" in finding.cause
    assert "got:      [nan, nan]" in str(finding)


@pytest.mark.parametrize("edits, cause", [
    ([("        self.t += 1\n", ""), (", eps, 0\n", ", eps, 1\n")], "the step counter is never advanced"),
    ([("        self.t += 1\n", "")], "the step counter starts at t = 0"),
    ([("self.t += 1\n        for i, (p, g) in enumerate(zip(self.params, grads)):\n",
       "for i, (p, g) in enumerate(zip(self.params, grads)):\n            self.t += 1\n")],
     "advanced once per parameter array"),
    ([("*self.betas", "*self.betas[::-1]")], "used the other way round"),
])
def test_optimizer_class_mistakes_are_named(edits, cause):
    source = SOLUTION
    for old, new in edits:
        assert old in source
        source = source.replace(old, new)
    finding = diagnose(ag.adam_class_spec(), _notebook(source)["Adam"])
    assert cause in finding.cause, str(finding)


def test_an_optimizer_that_does_not_update_in_place_is_told_so():
    nb = _notebook(SOLUTION.replace("p[...] = p_new", "p = p_new"))
    assert "update them in place" in str(diagnose(ag.adam_class_spec(), nb["Adam"]))


def test_a_function_that_does_not_call_the_earlier_one_is_not_blamed_on_it():
    nb = _notebook(SOLUTION.replace("v / (1 - beta2**t)", "v / (1 - beta2)"))
    own = _notebook("def adam_step(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
                    "    m = beta1 * m + (1 - beta1) * grad\n    v = beta2 * v + (1 - beta2) * grad**2\n"
                    "    return theta - lr * m / (np.sqrt(v) + eps), m, v\n")
    own["bias_correct"] = nb["bias_correct"]  # wrong, but adam_step does not use it
    finding = diagnose(_specs()[0], own["adam_step"])
    assert "bias correction left out" in finding.cause and "bias_correct" not in finding.note


# --- Other assignments' probes ---------------------------------------------------------------------

def test_amsgrad_mistakes_are_named():
    def make(maximum=lambda v_max, v, t, b2: np.maximum(v_max, v), use_max=True):
        def amsgrad_step(theta, grad, m, v, v_max, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
            m_new, v_new = moments(m, v, grad, beta1, beta2)
            v_max_new = maximum(v_max, v_new, t, beta2)
            denom_v = v_max_new if use_max else v_new
            return theta - lr * (m_new / (1 - beta1**t)) / (np.sqrt(denom_v / (1 - beta2**t)) + eps), m_new, v_new, v_max_new
        return amsgrad_step

    spec = ag.amsgrad_step_spec()
    assert diagnose(spec, make()) is None
    ag.check_amsgrad_step(make(), drive="own", steps=300)
    for cause, wrong, step in (("the maximum is not taken", make(maximum=lambda v_max, v, t, b2: v), 3),
                               ("maximum of the bias-corrected v_hat is stored",
                                make(maximum=lambda v_max, v, t, b2: np.maximum(v_max, v / (1 - b2**t))), 1),
                               ("uses v_t instead of the running maximum", make(use_max=False), 3)):
        finding = diagnose(spec, wrong)
        assert cause in finding.cause and "one of these" not in finding.cause and finding.step == step, str(finding)


@pytest.mark.parametrize("variant", sorted(ag.SCHEDULE_MISTAKES))
def test_each_schedule_mistake_is_named(variant):
    def schedule(step, total_steps, warmup_steps, peak_lr, final_lr=0.0):
        return ag.warmup_cosine_formula(step, total_steps, warmup_steps, peak_lr, final_lr, variant)

    finding = diagnose(ag.warmup_cosine_spec(), schedule)
    assert finding.cause == ag.SCHEDULE_MISTAKES[variant], str(finding)
    assert diagnose(ag.warmup_cosine_spec(), lambda *a: ag.warmup_cosine_formula(*a)) is None


def test_momentum_mistakes_are_named():
    def ema(x, grad, buf, lr, momentum):
        buf = momentum * buf + (1 - momentum) * grad
        return x - lr * buf, buf

    def heavy(x, grad, buf, lr, momentum):
        buf = momentum * buf + grad
        return x - lr * buf, buf

    assert diagnose(ag.momentum_step_spec(False), heavy) is None
    assert "exponential average" in diagnose(ag.momentum_step_spec(False), ema).cause
    assert "that is heavy-ball momentum" in diagnose(ag.momentum_step_spec(True), heavy).cause


def test_noise_floor_prediction_matches_simulation_within_standard_errors():
    """The formula the momentum assignment gives students, checked over ten seeds."""
    for lr, mu in ((0.01, 0.0), (0.001, 0.9), (0.01, 0.9)):
        runs = [ag.noisy_stationary_loss(lr, mu, 1.0, [seed], 20000, 2000) for seed in range(10)]
        error = np.std(runs, ddof=1) / np.sqrt(len(runs))
        assert abs(np.mean(runs) - ag.predicted_stationary_loss(lr, mu, 1.0, [1.0, 50.0])) < 4 * error


# --- Numbers, arrays, simulations and expressions --------------------------------------------------

def test_rel_error_matches_cs231n_definition():
    assert checks.rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert checks.rel_error([1.0], [3.0]) == pytest.approx(0.5)
    assert checks.rel_error([0.0], [0.0]) == 0.0
    assert checks.rel_error([1.0], [np.nan]) == np.inf


def test_same_values_treats_inf_and_nan_as_one_kind():
    assert checks.same_values([np.inf, 1.0], [np.nan, 1.0], 1e-12)
    assert not checks.same_values([np.inf, 1.0], [1.0, 1.0], 1e-12)


def test_number_array_and_monte_carlo_checks():
    checks.check_number("x", 0.1 + 0.2, 0.3)
    with pytest.raises(AssertionError, match="not answered yet"):
        checks.check_number("x", ..., 0.3)
    with pytest.raises(AssertionError, match=r"first at index \(1, 0\)"):
        checks.check_array("a", [[1.0, 2.0], [3.5, 4.0]], [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(AssertionError, match="shape"):
        checks.check_array("a", [1.0, 2.0], [1.0, 2.0, 3.0])
    checks.check_monte_carlo("mean", [0.51, 0.49], [0.5, 0.5], stderr=0.01)
    with pytest.raises(AssertionError, match="standard errors"):
        checks.check_monte_carlo("mean", [0.51, 0.7], [0.5, 0.5], stderr=0.01)


def test_expression_checks_exact_and_at_points():
    t = sp.Symbol("t", integer=True, positive=True)
    b = sp.Symbol("beta1", positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    g = sp.Symbol("g")
    series = sp.summation((1 - b) * b ** (t - i) * g, (i, 1, t))  # SymPy returns a Piecewise
    checks.check_expression("E[m_t]", series, (1 - b**t) * g)
    with pytest.raises(AssertionError, match="expected 1/10, got 1"):
        checks.check_expression("E[m_t]", g, (1 - b**t) * g, points=[{t: 1, b: sp.Rational(9, 10), g: 1}])
    with pytest.raises(AssertionError, match="predefined beta1"):
        checks.check_expression("E[m_t]", (1 - sp.Symbol("beta1") ** t) * g, (1 - b**t) * g)
    # An infinite sum's Piecewise: the branch for beta < 1 is the one compared.
    lag = sp.simplify(sp.summation((1 - b) * b**k * k, (k, 0, sp.oo)))
    checks.check_expression("lag", lag, b / (1 - b))
    spec = ag.expression_spec(b / (1 - b), [dict(beta1=0.9), dict(beta1=0.5)])
    checks.check_expression_at_points("lag", lag, {"beta1": b}, spec["points"])
    with pytest.raises(AssertionError, match="at beta1 = 9/10: expected 9, yours gives 0.9"):
        checks.check_expression_at_points("lag", b, {"beta1": b}, spec["points"])


def test_encoding_round_trips_arrays_and_non_finite_values():
    import json

    value = {"a": np.array([1.0, np.inf, np.nan], dtype=np.float32), "b": [np.float64(2.5), None]}
    back = checks.decode(json.loads(json.dumps(checks.encode(value))))
    assert back["a"].dtype == np.float32 and np.isinf(back["a"][1]) and np.isnan(back["a"][2])
    assert back["b"] == [2.5, None]
