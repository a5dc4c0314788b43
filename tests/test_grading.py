"""The assignment feedback: right answers pass, and each common mistake is named with its step."""

import numpy as np
import pytest
import sympy as sp

from adamedu import grading


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
    "bias-corrected m_hat is returned as the state": make_step(
        state=lambda m, v, m_hat, v_hat: (m_hat, v)),
    "bias-corrected v_hat is returned as the state": make_step(
        state=lambda m, v, m_hat, v_hat: (m, v_hat)),
}


def paper_efficient_form(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m, v = moments(m, v, grad, beta1, beta2)
    alpha_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    return theta - alpha_t * m / (np.sqrt(v) + eps), m, v


def test_right_answer_passes_public_and_hidden_variants():
    grading.check_adam_step(right)
    grading.check_adam_step(right, shape=(3, 5), steps=8, lr=3e-2, beta1=0.95, beta2=0.99, eps=1e-6, seed=4)
    grading.check_adam_step(right, dtype=np.float32, shape=(2, 3), steps=20, seed=1)
    grading.check_adam_step(right, drive="own", steps=500, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)


@pytest.mark.parametrize("cause", sorted(STEP_MISTAKES))
def test_each_common_mistake_is_named_at_the_first_step(cause):
    # Some mistakes coincide at t = 1 (m_0 = v_0 = 0); later steps must narrow them to one cause.
    finding = grading.diagnose_adam_step(STEP_MISTAKES[cause])
    assert finding is not None
    assert cause in finding.cause, str(finding)
    # At t = 1, (1 - beta)**t = 1 - beta**t and m_hat_1 = g_1: those two can only show at t = 2.
    assert finding.step == (2 if cause in ("operator precedence", "raw gradient") else 1), str(finding)
    assert finding.error > finding.threshold
    with pytest.raises(AssertionError, match="Likely cause"):
        grading.check_adam_step(STEP_MISTAKES[cause])


def test_paper_efficient_form_with_unscaled_eps_is_recognised():
    finding = grading.diagnose_adam_step(paper_efficient_form)
    assert "efficient" in finding.cause
    # With eps rescaled by sqrt(1 - beta2**t) the efficient form is exactly right.
    def rescaled(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return paper_efficient_form(theta, grad, m, v, t, lr, beta1, beta2, eps * np.sqrt(1 - beta2**t))
    assert grading.diagnose_adam_step(rescaled) is None


def test_message_has_part_step_values_error_and_threshold():
    message = str(grading.diagnose_adam_step(STEP_MISTAKES["bias correction left out"]))
    assert message.startswith("adam_step: the parameter update theta_t is wrong at step t = 1")
    for piece in ("expected:", "got:", "relative error", "a correct answer is below 1e-10",
                  "Likely cause: bias correction left out", "Inputs of this call:", "eps = 0.001"):
        assert piece in message


def test_wrong_first_moment_is_blamed_before_the_update():
    finding = grading.diagnose_adam_step(STEP_MISTAKES["(1 - beta1) factor is missing"])
    assert finding.part == "the first moment m_t"


def test_unfinished_and_malformed_functions_get_plain_messages():
    def stub(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        ...

    def partial(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return ..., m, v

    def wrong_signature(theta, grad, t):
        return theta, theta, theta

    def float64_everywhere(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        out = right(theta, grad, m, v, t, lr, beta1, beta2, eps)
        return tuple(np.asarray(a, dtype=np.float64) for a in out)

    assert "not implemented yet" in str(grading.diagnose_adam_step(stub))
    assert "output 0 (theta_new) is Ellipsis" in str(grading.diagnose_adam_step(partial))
    assert "must be callable as adam_step(theta, grad, m, v, t" in str(grading.diagnose_adam_step(wrong_signature))
    assert grading.diagnose_adam_step(float64_everywhere) is None
    assert "keep the dtype" in str(grading.diagnose_adam_step(float64_everywhere, dtype=np.float32))
    assert "not defined as a function" in str(grading.diagnose_adam_step(Ellipsis))


def test_errors_that_only_accumulate_are_caught_in_own_mode():
    # Off by a relative 1e-6 per step in m: invisible at one step in float32, not in a float64 run.
    def drifting(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        theta, m, v = right(theta, grad, m, v, t, lr, beta1, beta2, eps)
        return theta, m * (1 + 1e-6), v

    assert grading.diagnose_adam_step(drifting, dtype=np.float32, threshold=2e-5) is None
    finding = grading.diagnose_adam_step(drifting, drive="own", steps=200)
    assert finding is not None and "drifts" in str(finding)


def test_moments_and_bias_correction_checks():
    grading.check_update_moments(moments)
    grading.check_update_moments(moments, dtype=np.float32, shape=(3, 3), steps=10, beta1=0.5, beta2=0.99)
    finding = grading.diagnose_update_moments(lambda m, v, g, b1, b2: (b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * np.abs(g)))
    assert finding.part == "the second moment v_t" and "|g_t|" in finding.cause and finding.step == 1

    def correct(m, v, t, b1, b2):
        return m / (1 - b1**t), v / (1 - b2**t)

    grading.check_bias_correct(correct)
    cases = {
        "no correction": lambda m, v, t, b1, b2: (m, v),
        "operator precedence": lambda m, v, t, b1, b2: (m / (1 - b1) ** t, v / (1 - b2) ** t),
        "swapped": lambda m, v, t, b1, b2: (m / (1 - b2**t), v / (1 - b1**t)),
        "t + 1": lambda m, v, t, b1, b2: (m / (1 - b1 ** (t + 1)), v / (1 - b2 ** (t + 1))),
    }
    for cause, fn in cases.items():
        finding = grading.diagnose_bias_correct(fn)
        assert cause in finding.cause, str(finding)
        assert finding.step == (2 if cause == "operator precedence" else 1), str(finding)
    finding = grading.diagnose_bias_correct(lambda m, v, t, b1, b2: (m / (1 - b1 ** (t - 1)), v / (1 - b2 ** (t - 1))))
    assert "inf or NaN" in finding.cause or "t - 1" in finding.cause


def test_rel_error_matches_cs231n_definition():
    assert grading.rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert grading.rel_error([1.0], [3.0]) == pytest.approx(0.5)
    assert grading.rel_error([0.0], [0.0]) == 0.0
    assert grading.rel_error([1.0], [np.nan]) == np.inf


def test_number_array_and_monte_carlo_checks():
    grading.check_number("x", 0.1 + 0.2, 0.3)
    with pytest.raises(AssertionError, match="not answered yet"):
        grading.check_number("x", ..., 0.3)
    with pytest.raises(AssertionError, match=r"first at index \(1, 0\)"):
        grading.check_array("a", [[1.0, 2.0], [3.5, 4.0]], [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(AssertionError, match="shape"):
        grading.check_array("a", [1.0, 2.0], [1.0, 2.0, 3.0])
    grading.check_monte_carlo("mean", [0.51, 0.49], [0.5, 0.5], stderr=0.01)
    with pytest.raises(AssertionError, match="standard errors"):
        grading.check_monte_carlo("mean", [0.51, 0.7], [0.5, 0.5], stderr=0.01)


def test_expression_check_is_exact_and_gives_a_counterexample():
    t = sp.Symbol("t", integer=True, positive=True)
    b = sp.Symbol("beta1", positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    g = sp.Symbol("g")
    series = sp.summation((1 - b) * b ** (t - i) * g, (i, 1, t))  # SymPy returns a Piecewise
    grading.check_expression("E[m_t]", series, (1 - b**t) * g)
    with pytest.raises(AssertionError, match="expected 1/10, got 1"):
        grading.check_expression("E[m_t]", g, (1 - b**t) * g, points=[{t: 1, b: sp.Rational(9, 10), g: 1}])
    with pytest.raises(AssertionError, match="predefined beta1"):
        grading.check_expression("E[m_t]", (1 - sp.Symbol("beta1") ** t) * g, (1 - b**t) * g)
    with pytest.raises(AssertionError, match="not answered"):
        grading.check_expression("E[m_t]", ..., (1 - b**t) * g)


# --- AMSGrad ----------------------------------------------------------------------------------------

def make_amsgrad(*, maximum=lambda v_max, v, t, b2: np.maximum(v_max, v), use_max=True):
    def amsgrad_step(theta, grad, m, v, v_max, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        m_new, v_new = moments(m, v, grad, beta1, beta2)
        v_max_new = maximum(v_max, v_new, t, beta2)
        denom_v = v_max_new if use_max else v_new
        step = lr * (m_new / (1 - beta1**t)) / (np.sqrt(denom_v / (1 - beta2**t)) + eps)
        return theta - step, m_new, v_new, v_max_new
    return amsgrad_step


def test_amsgrad_right_answer_passes():
    right_ams = make_amsgrad()
    grading.check_amsgrad_step(right_ams)
    grading.check_amsgrad_step(right_ams, shape=(2, 3), steps=12, lr=1e-2, beta1=0.9, beta2=0.99, eps=1e-8, seed=2)
    grading.check_amsgrad_step(right_ams, dtype=np.float32, steps=10, seed=3)
    grading.check_amsgrad_step(right_ams, drive="own", steps=300, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)


@pytest.mark.parametrize("cause, wrong", [
    ("the maximum is not taken", make_amsgrad(maximum=lambda v_max, v, t, b2: v)),
    ("maximum of the bias-corrected v_hat is stored",
     make_amsgrad(maximum=lambda v_max, v, t, b2: np.maximum(v_max, v / (1 - b2**t)))),
    ("uses v_t instead of the running maximum", make_amsgrad(use_max=False)),
])
def test_amsgrad_mistakes_are_named(cause, wrong):
    finding = grading.diagnose_amsgrad_step(wrong)
    assert finding is not None and cause in finding.cause, str(finding)
    # "min instead of max" gives the same values from step 3 on, but steps 1-2 (where the student
    # was right) rule it out, so a single cause is named.
    assert "one of these" not in finding.cause, str(finding)
    # The probe's gradients shrink after step 2, so the maximum matters from step 3 on.
    assert finding.step == (1 if "bias-corrected" in cause else 3), str(finding)
