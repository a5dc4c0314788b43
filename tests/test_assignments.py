"""The course assignments: generated with Otter Assign, graded with ``otter run`` (no Docker, offline).

For every assignment: the student notebook carries no solution and no hidden test; the reference
solution scores 100 %; the untouched student notebook scores less and fails only with the
"not finished" messages; and a deliberately wrong solution receives the intended feedback.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("otter", reason="otter-grader is needed to build and grade the assignments")

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = ROOT / "chapters" / "assignments" / "source"

_spec = importlib.util.spec_from_file_location("assignments_generate", ROOT / "chapters" / "assignments" / "generate.py")
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)

NAMES = ["adam_from_scratch", "bias_correction_sympy", "tuning_experiment", "amsgrad_counterexample"]

# The messages an untouched student notebook may fail with: the answer is still a placeholder.
STUB_MESSAGES = ("not implemented yet", "not finished", "not answered yet")

# One deliberate mistake per assignment: (question, text in the solution, replacement, feedback
# the student must see for that question).
WRONG = {
    "adam_from_scratch": (
        "q3",
        "theta_new = theta - lr * m_hat / (np.sqrt(v_hat) + eps)",
        "theta_new = theta - lr * m_new / (np.sqrt(v_new) + eps)",
        ["adam_step: the parameter update theta_t is wrong at step t = 1 (of 5 checked).",
         "Your m_t and v_t are right; the new parameters are not.",
         "relative error", "(a correct answer is below 1e-10)",
         "Likely cause: bias correction left out"],
    ),
    "bias_correction_sympy": (
        "q5",
        "m_hat_sum.append((m / (1 - b1**step)).mean())",
        "m_hat_sum.append(m.mean())",
        ["m_hat_mean is off by more than 5 standard errors, first at index 0.",
         "expected: 0.5 ±", "Hint: m_hat_t = m_t / (1 - beta1**t)"],
    ),
    "amsgrad_counterexample": (
        "q1",
        "v_max_new = np.maximum(v_max, v_new)",
        "v_max_new = v_new",
        ["amsgrad_step: the running maximum v_max_t is wrong at step t = 3 (of 6 checked).",
         "Likely cause: the maximum is not taken"],
    ),
    "tuning_experiment": (
        "q3",
        "opt.step([c * problem.grad(x)])",
        "opt.step([problem.grad(x)])",
        ["gap_sgd is wrong.", "expected: 1", "got:      0",
         "Hint: SGD's path changes completely"],
    ),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every assignment generated once (Otter's own solution run is skipped: we grade below)."""
    out = tmp_path_factory.mktemp("assignments")
    return {name: generate.generate(name, out, run_tests=False, quiet=True) for name in NAMES}


def grade(notebook: pathlib.Path, autograder: pathlib.Path, out: pathlib.Path) -> dict:
    """``otter run`` on one notebook; returns {question: (score, max_score, output)}."""
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "otter", "run", "-a", str(autograder), "-o", str(out),
                           "--no-logo", str(notebook)], capture_output=True, text=True, cwd=out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((out / "results.json").read_text())
    return {t["name"]: (t.get("score"), t.get("max_score"), t["output"]) for t in results["tests"]
            if t["name"] != "Public Tests"}


def total(scores: dict) -> float:
    return sum(s for s, _, _ in scores.values()) / sum(m for _, m, _ in scores.values())


def solution_fragments(nb: dict) -> list[str]:
    """Code a student must not see: lines marked ``# SOLUTION`` and ``# BEGIN/END SOLUTION`` blocks."""
    fragments, inside = [], False
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for line in "".join(cell["source"]).splitlines():
            stripped = line.strip()
            if stripped.startswith("# BEGIN SOLUTION"):
                inside = True
            elif stripped.startswith("# END SOLUTION"):
                inside = False
            elif stripped.endswith("# SOLUTION"):
                code = stripped[: -len("# SOLUTION")].strip()
                rhs = code.split("=", 1)[1].strip() if re.match(r"^[\w, \[\]]+=[^=]", code) else code
                fragments.append(rhs)
            elif inside and len(stripped) > 12:
                fragments.append(stripped)
    # Text that the prompts themselves give away (e.g. "start from `x = np.zeros(1)`") is no leak.
    given = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return [f for f in fragments if len(f) > 8 and f not in given]


def _test_definitions(text):
    return [m.group(1) for m in re.finditer(r"^def (test_\w+)", text, re.M)]


def source_tests(nb: dict) -> tuple[list[str], list[str]]:
    """Names of the public and of the hidden test functions in a source notebook."""
    public, hidden, in_tests = [], [], False
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "raw":
            in_tests = {"# BEGIN TESTS": True, "# END TESTS": False}.get(text.strip(), in_tests)
            continue
        if in_tests and cell["cell_type"] == "code":
            (hidden if "hidden: true" in text else public).extend(_test_definitions(text))
    return public, hidden


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_has_no_solution_and_no_hidden_test(built, name):
    source = json.loads((SOURCES / f"{name}.ipynb").read_text())
    student_text = (built[name] / "student" / f"{name}.ipynb").read_text()
    fragments = solution_fragments(source)
    assert len(fragments) >= 3
    leaked = [f for f in fragments if f in student_text]
    assert not leaked, f"solution code in the student notebook: {leaked}"
    assert "**SOLUTION" not in student_text
    # Every stub is valid Python, so an untouched notebook runs from top to bottom.
    import ast

    for cell in json.loads(student_text)["cells"]:
        if cell["cell_type"] == "code":
            ast.parse("".join(cell["source"]))
    public, hidden = source_tests(source)
    assert public and hidden
    for test in public:
        assert test in student_text, f"public test {test} missing from the student notebook"
    for test in hidden:
        assert test not in student_text, f"hidden test {test} leaked into the student notebook"
    # The autograder keeps every test.
    autograder_zip = generate.autograder_zip(built[name])
    import zipfile

    with zipfile.ZipFile(autograder_zip) as zf:
        tests_text = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("tests/"))
    for test in public + hidden:
        assert test in tests_text


@pytest.mark.parametrize("name", NAMES)
def test_reference_solution_scores_full_marks(built, name, tmp_path):
    scores = grade(built[name] / "autograder" / f"{name}.ipynb", generate.autograder_zip(built[name]), tmp_path)
    failed = {q: out for q, (s, m, out) in scores.items() if s != m}
    assert not failed, failed
    assert total(scores) == 1.0


@pytest.mark.parametrize("name", NAMES)
def test_untouched_student_notebook_fails_only_with_stub_messages(built, name, tmp_path):
    scores = grade(built[name] / "student" / f"{name}.ipynb", generate.autograder_zip(built[name]), tmp_path)
    assert total(scores) < 1.0
    for question, (score, max_score, output) in scores.items():
        assert score == 0, (question, output)
        errors = re.findall(r"^\s*(\w+Error): (.*)$", output, re.M)
        assert errors, (question, output)
        for kind, message in errors:
            assert kind == "AssertionError", (question, kind, message)
            assert any(stub in message for stub in STUB_MESSAGES), (question, message)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_solution_gets_the_intended_feedback(built, name, tmp_path):
    question, right, wrong, feedback = WRONG[name]
    solution = built[name] / "autograder" / f"{name}.ipynb"
    text = solution.read_text()
    assert json.dumps(right)[1:-1] in text
    submission = tmp_path / f"{name}.ipynb"
    submission.write_text(text.replace(json.dumps(right)[1:-1], json.dumps(wrong)[1:-1]))
    scores = grade(submission, generate.autograder_zip(built[name]), tmp_path / "out")
    score, max_score, output = scores[question]
    assert score < max_score
    for piece in feedback:
        assert piece in output, f"{piece!r} missing from the feedback:\n{output}"
    assert total(scores) < 1.0


def test_generate_lists_every_source_and_rejects_unknown_names(capsys):
    assert generate.assignment_names() == NAMES
    assert sorted(p.stem for p in SOURCES.glob("*.ipynb")) == sorted(NAMES)
    with pytest.raises(SystemExit):
        generate.main(["no_such_assignment"])


@pytest.mark.parametrize("name", NAMES)
def test_sources_are_committed_without_outputs(name):
    nb = json.loads((SOURCES / f"{name}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("name", NAMES)
def test_page_outline_shows_prompts_and_stubs_but_no_solution(name):
    from adamedu.grading import assignment_outline, assignment_questions

    source = json.loads((SOURCES / f"{name}.ipynb").read_text())
    outline = assignment_outline(SOURCES / f"{name}.ipynb")
    for fragment in solution_fragments(source):
        assert fragment not in outline, fragment
    assert "SOLUTION" not in outline and "BEGIN TESTS" not in outline and "def test_" not in outline
    for question in assignment_questions(SOURCES / f"{name}.ipynb"):
        number = question["name"][1:]
        assert f"**Question {number} ({question['points']} point" in outline
    assert "..." in outline  # the stubs students fill in


@pytest.mark.parametrize("name", NAMES)
def test_page_states_the_true_points(name):
    """"**Points:** 14 in six questions: 12 autograded ..., 2 graded by hand" must match the source."""
    from adamedu.grading import assignment_questions

    questions = assignment_questions(SOURCES / f"{name}.ipynb")
    page = (ROOT / "chapters" / "assignments" / f"{name}.md").read_text()
    match = re.search(r"\*\*Points:\*\* (\d+) in (\w+) questions(?:: (\d+) autograded.*?, (\d+) graded by hand)?", page)
    assert match, "the page must state its points"
    words = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
    assert int(match.group(1)) == sum(q["points"] for q in questions)
    assert words[match.group(2)] == len(questions)
    manual = sum(q["points"] for q in questions if q["manual"])
    if match.group(3):
        assert int(match.group(3)) == sum(q["points"] for q in questions) - manual
        assert int(match.group(4)) == manual
    else:
        assert manual == 0 and "all autograded" in page


def test_instructor_solution_claims_hold():
    """The hand-graded model answers of the tuning assignment state facts; check them."""
    import adamedu
    from adamedu import theory

    problem = adamedu.problems.IllConditionedQuadratic(condition_number=50.0)
    lrs = np.logspace(-3, 0, 7)
    final = np.array([adamedu.run(adamedu.Adam, problem, 60, lr=lr).loss[-1] for lr in lrs])
    best = lrs[np.argmin(final)]
    assert 0.2 < best < 0.4  # "the best rate (about 0.3)"
    assert np.all(final[:4] > 100 * final.min())  # rates 1e-3 .. 10**-1.5 are far worse
    for lr in lrs[:4]:  # "after 60 steps the iterate has moved at most 60 lr" per coordinate
        path = adamedu.run(adamedu.Adam, problem, 60, lr=lr).params
        assert np.all(np.abs(path[-1] - path[0]) <= 60 * lr * (1 + 1e-9))
    beta1s, beta2s = [0.0, 0.5, 0.9, 0.99], [0.9, 0.99, 0.999]
    grid = np.array([[adamedu.run(adamedu.Adam, problem, 60, lr=best, betas=(b1, b2)).loss[-1] for b2 in beta2s]
                     for b1 in beta1s])
    i, j = np.unravel_index(np.argmin(grid), grid.shape)
    assert beta1s[i] <= 0.5 and beta2s[j] == 0.99  # little momentum, beta2 = 0.99 best
    assert np.argmax(grid.min(axis=1)) == 3  # beta1 = 0.99 worst
    assert grid[:2, 0].min() > grid[:2, 1].max()  # beta2 = 0.9 hurts
    worst = theory.worst_case_step_ratio(0.9, 0.999, 1000)
    assert 5.7 < worst < 5.9 and worst > theory.paper_step_bound(0.9, 0.999) == pytest.approx(0.1 / 0.001**0.5)
    trace = adamedu.run(adamedu.Adam, problem, 60, lr=best)
    assert np.max(np.abs(trace.update)) / best <= theory.paper_step_bound(0.9, 0.999)


def test_amsgrad_model_answer_numbers_hold():
    """The model answer of the AMSGrad assignment quotes the cycle of v_t and the step sizes."""
    import adamedu

    C, beta2 = 3.0, 1 / (1 + 3.0**2)
    assert beta2 == pytest.approx(0.1)
    v, cycle = 0.0, []
    for t in range(1, 301):
        g = C if t % 3 == 1 else -1.0
        v = beta2 * v + (1 - beta2) * g * g
        if t > 294:
            cycle.append(v)
    v_c, v_1, v_2 = cycle[-3:]  # after the gradients C, -1, -1
    assert (round(v_c, 1), round(v_1, 1), round(v_2, 1)) == (8.2, 1.7, 1.1)
    steps = np.array([-C / np.sqrt(v_c), 1 / np.sqrt(v_1), 1 / np.sqrt(v_2)])
    assert np.round(np.abs(steps), 2).tolist() == [1.05, 0.76, 0.97]
    assert round(steps.sum(), 2) == 0.68  # net move towards +1 per cycle, in units of alpha_t
    amsgrad = np.array([-C, 1.0, 1.0]) / np.sqrt(v_c)
    assert round(abs(amsgrad[1]), 2) == 0.35 and round(amsgrad.sum(), 2) == -0.35
    # With beta2 = 0.99 plain Adam finds x* = -1 too.
    x = np.zeros(1)
    opt = adamedu.Adam([x], lr=0.5, betas=(0.0, 0.99))
    for t in range(1, 3001):
        opt.param_groups[0]["lr"] = 0.5 / np.sqrt(t)
        opt.step([np.array([C if t % 3 == 1 else -1.0])])
        np.clip(x, -1.0, 1.0, out=x)
    assert x[0] < -0.9
