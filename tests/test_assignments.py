"""The course assignments, built and graded as an instructor would (offline, no Docker).

For every assignment: the student notebook holds no solution, no hidden test and no reference
implementation of what it grades, and runs from an empty folder, failing only with "not
implemented yet"; the solution notebook runs from an empty folder; graded with the class-grading
command, the solution scores full marks, the untouched notebook zero, and planted mistakes get the
intended diagnosis. The model answers' numbers are checked against the reference runs.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("otter", reason="otter-grader is needed to build and grade the assignments")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "chapters" / "assignments"))

from coursekit import build, catalog, grade_class  # noqa: E402
from coursekit import autograder_checks as ag  # noqa: E402

NAMES = catalog.names()

#: What an untouched notebook may fail with: the answer is still a placeholder.
STUB_MESSAGES = ("not implemented yet", "not answered yet")

#: Text of the reference implementations that a student notebook (with the files it writes) must
#: not contain, per assignment: the graded algorithms' references and the autograder's module.
FORBIDDEN = {
    "adam_from_scratch": ["adamedu", "exp_avg_sq", "adam_step_formula", "def reference_adam"],
    "bias_correction_sympy": ["simulate_formula", "def expression_spec"],
    "momentum_quadratic": ["adamedu", "momentum_buffer", "reference_sgd", "iteration_matrix_formula", "rate_formula"],
    "tuning_experiment": ["train_digits", "def scaled_path"],
    "digits_training": ["warmup_cosine_formula", "lr_scheduler", "CosineAnnealing", "train_digits"],
    "amsgrad_counterexample": ["adamedu", "max_exp_avg_sq", "amsgrad_step_formula", "net_move_formula"],
}
AUTOGRADER_ONLY = ["autograder_checks", "The hidden tests' checks", "hidden: true"]

#: Planted mistakes: (text in the solution, replacement, question, feedback the student must see).
PLANTED = {
    "adam_from_scratch": [
        ("v_hat = v / (1 - beta2**t)", "v_hat = v / (1 - beta2)", "q2",
         ["the corrected second moment v_hat is wrong at step t = 2",
          "Likely cause: the power t is missing: v_hat = v_t/(1 - beta2) must be v_t/(1 - beta2**t)"]),
        ("for t in range(1, steps + 1):", "for t in range(steps):", "q4",
         ["the path is wrong at row (step) t = 1", "got:      [nan, nan]",
          "Likely cause: the step counter starts at t = 0", "divides by 1 - beta**0 = 0"]),
    ],
    "bias_correction_sympy": [
        ("m_hats.append(m / (1 - beta1**step))", "m_hats.append(m / (1 - beta1 ** (step + 1)))", "q6",
         ["simulate: m_hat is wrong", "Likely cause: the powers are t + 1"]),
    ],
    "momentum_quadratic": [
        ("    buf_new = momentum * buf + grad\n    return x - lr * buf_new, buf_new",
         "    buf_new = momentum * buf + (1 - momentum) * grad\n    return x - lr * buf_new, buf_new", "q1",
         ["heavy_ball_step: the momentum buffer is wrong at step t = 1",
          "Likely cause: the buffer is an exponential average"]),
    ],
    "tuning_experiment": [
        ("idx = rng.choice(fit_idx, size=BATCH_SIZE, replace=False)\n        opt.step",
         "idx = rng.choice(len(problem.y_train), size=BATCH_SIZE, replace=False)\n        opt.step", "q1",
         ["train: the validation curve is wrong at probe = 1", "Likely cause: the minibatches are drawn from the "
          "whole training set, validation examples included"]),
    ],
    "digits_training": [
        ("return peak_lr * step / warmup_steps", "return peak_lr * (step - 1) / warmup_steps", "q1",
         ["warmup_cosine: the learning rate is wrong at step = 1", "Likely cause: the warmup starts at 0"]),
    ],
    "amsgrad_counterexample": [
        ("v_max_new = np.maximum(v_max, v_new)", "v_max_new = v_new", "q1",
         ["amsgrad_step: the running maximum v_max_t is wrong at step t = 3",
          "Likely cause: the maximum is not taken"]),
    ],
}


@pytest.fixture(scope="session")
def built():
    """Every assignment, built once into the book's build folder (reused when unchanged)."""
    return {name: build.generate(name, ROOT / "_build" / "assignments") for name in NAMES}


def _text(path: Path) -> str:
    return path.read_text("utf-8")


def _edited(nb: dict, old: str, new: str) -> dict:
    """The notebook with ``old`` replaced by ``new`` in the one code cell that holds it."""
    nb = json.loads(json.dumps(nb))
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and old in "".join(c["source"])]
    assert len(cells) == 1, f"{old!r} is in {len(cells)} cells"
    cells[0]["source"] = "".join(cells[0]["source"]).replace(old, new)
    return nb


def _solution_fragments(name: str) -> list[str]:
    """Code a student must not see: lines marked ``# SOLUTION`` and ``# BEGIN/END SOLUTION`` blocks."""
    nb = build.source_notebook(name)
    fragments, inside = [], False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped.startswith("# BEGIN SOLUTION"):
                inside = True
            elif stripped.startswith("# END SOLUTION"):
                inside = False
            elif "# SOLUTION" in stripped:
                code = stripped.split("# SOLUTION")[0].strip()
                rhs = code.split("=", 1)[1].strip() if re.match(r"^[\w, \[\]]+=[^=]", code) else code
                fragments.append(rhs)
            elif inside and len(stripped) > 12:
                fragments.append(stripped)
    given = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return [f for f in fragments if len(f) > 8 and f not in given]


def _test_names(text: str) -> list[str]:
    return re.findall(r"^def (test_\w+)", text, re.M)


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_is_self_contained_and_hides_what_it_grades(built, name):
    notebook = build.student_notebook(built[name])
    text = _text(notebook)
    files = build.packed_files(notebook)
    everything = text + "".join(data.decode("utf-8") for data in files.values())
    leaked = [f for f in _solution_fragments(name) if f in text]
    assert len(_solution_fragments(name)) >= 3 and not leaked, f"solution code in the student notebook: {leaked}"
    assert "**SOLUTION" not in everything and "**RUBRIC" not in everything
    for forbidden in FORBIDDEN[name] + AUTOGRADER_ONLY:
        assert forbidden not in everything, f"{forbidden!r} is in the student notebook or its files"
    assert sorted(files) == sorted(["assignment_checks.py", "expected_values.json"]
                                   + [f"tests/{q['name']}.py" for q in _auto_questions(name)])
    # The public tests are there, the hidden ones only in the autograder.
    import zipfile

    with zipfile.ZipFile(build.autograder_zip(built[name])) as zf:
        autograder_tests = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("tests/"))
        assert "files/autograder_checks.py" in zf.namelist() and "files/adamedu/__init__.py" in zf.namelist()
    public_tests = "".join(files[f].decode() for f in files if f.startswith("tests/"))
    assert _test_names(public_tests) and set(_test_names(public_tests)) < set(_test_names(autograder_tests))
    hidden = set(_test_names(autograder_tests)) - set(_test_names(public_tests))
    assert hidden and not any(t in everything for t in hidden)


def _auto_questions(name):
    from coursekit.pages import questions

    return [q for q in questions(name) if not q["manual"]]


def _execute(notebook: Path, folder: Path, timeout=900):
    """Run a notebook in ``folder`` (copied there alone) and return it executed."""
    import nbformat
    from nbclient import NotebookClient

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / notebook.name
    shutil.copy(notebook, target)
    nb = nbformat.read(target, as_version=4)
    NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def _errors(nb):
    return [(i, o["ename"], o["evalue"]) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.outputs if o["output_type"] == "error"]


def _check_outputs(nb):
    """The text each ``grader.check`` cell shows (Otter displays its result as the cell's value)."""
    def text(output):
        shown = output.get("text") or output.get("data", {}).get("text/plain", "")
        return "".join(shown) if isinstance(shown, list) else shown

    return ["".join(text(o) for o in c.outputs) for c in nb.cells if c.cell_type == "code" and "grader.check" in c.source]


@pytest.mark.parametrize("name", NAMES)
def test_untouched_student_notebook_runs_from_an_empty_folder(built, name, tmp_path):
    nb = _execute(build.student_notebook(built[name]), tmp_path / "empty")
    errors = _errors(nb)
    assert all(kind == "NotImplementedError" for _, kind, _ in errors), errors
    outputs = _check_outputs(nb)
    assert outputs and all("results:" in out for out in outputs)
    for message in re.findall(r"AssertionError: (.*)", "".join(outputs)):
        assert any(stub in message for stub in STUB_MESSAGES), message
    assert (tmp_path / "empty" / f"{name}_files" / "expected_values.json").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_class_grading_gives_the_solution_full_marks_and_names_planted_mistakes(built, name, tmp_path):
    """The solution, the untouched notebook and each planted mistake, graded together in parallel."""
    solution = json.loads(_text(built[name] / "autograder" / f"{name}.ipynb"))
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "solution.ipynb").write_text(json.dumps(solution))
    shutil.copy(build.student_notebook(built[name]), submissions / "untouched.ipynb")
    for k, (old, new, _, _) in enumerate(PLANTED[name]):
        (submissions / f"mistake{k}.ipynb").write_text(json.dumps(_edited(solution, old, new)))
    results = {r.student: r for r in grade_class.grade_class(name, submissions, tmp_path / "results",
                                                             autograder=build.autograder_zip(built[name]),
                                                             progress=lambda line: None)}
    possible = sum(q["points"] for q in _auto_questions(name))
    assert results["solution"].status == "graded" and results["solution"].total == possible, \
        results["solution"].feedback
    untouched = results["untouched"]
    assert untouched.total == 0
    for question, text in untouched.feedback.items():
        for message in re.findall(r"AssertionError: (.*)", text):
            assert any(stub in message for stub in STUB_MESSAGES), (question, message)
    for k, (_, _, question, feedback) in enumerate(PLANTED[name]):
        result = results[f"mistake{k}"]
        score, maximum = result.scores[question]
        assert score < maximum and result.total < possible
        for piece in feedback:
            assert piece in result.feedback[question], f"{piece!r} missing from:\n{result.feedback[question]}"
    rows = (tmp_path / "results" / "grades.csv").read_text().splitlines()
    assert len(rows) == 2 + len(PLANTED[name]) + 1
    assert (tmp_path / "results" / "feedback" / "solution.md").is_file()


def test_a_failure_inherited_from_an_earlier_question_is_reported_as_such(built, tmp_path):
    """Assignment 1 with the power of the correction forgotten: Questions 3-5 say where it comes from."""
    solution = json.loads(_text(built["adam_from_scratch"] / "autograder" / "adam_from_scratch.ipynb"))
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "student.ipynb").write_text(
        json.dumps(_edited(solution, "v_hat = v / (1 - beta2**t)", "v_hat = v / (1 - beta2)")))
    (result,) = grade_class.grade_class("adam_from_scratch", tmp_path / "subs", tmp_path / "out",
                                        autograder=build.autograder_zip(built["adam_from_scratch"]),
                                        progress=lambda line: None)
    assert "adam_step: wrong only because it calls `bias_correct` (Question 2)" in result.feedback["q3"]
    for q in ("q4", "q5"):
        assert "which is wrong only because it calls `bias_correct` (Question 2)" in result.feedback[q]
        assert "Fix Question 2 first" in result.feedback[q]
    assert result.scores["q1"] == (2.0, 2.0) and result.scores["q6"] == (2.0, 2.0)


@pytest.mark.parametrize("name", ["adam_from_scratch", "momentum_quadratic", "amsgrad_counterexample"])
def test_solution_notebook_runs_from_an_empty_folder(built, name, tmp_path):
    nb = _execute(built[name] / "autograder" / f"{name}.ipynb", tmp_path / "empty")
    assert _errors(nb) == []
    assert all("All test cases passed" in out or "results: All" in out for out in _check_outputs(nb))


def test_build_rejects_unknown_names_and_lists_every_source():
    assert sorted(p.stem for p in build.SOURCES.glob("*.md")) == sorted(NAMES)
    with pytest.raises(SystemExit):
        build.main(["no_such_assignment"])


@pytest.mark.parametrize("name", NAMES)
def test_every_hand_graded_question_has_a_rubric_and_the_page_exists(name):
    from coursekit.pages import questions, rubrics

    manual = [q["name"] for q in questions(name) if q["manual"]]
    assert manual, f"{name} has no written question"
    assert [q["name"] for q, _, table in rubrics(name) if table.count("\n|") >= 2] == manual
    page = _text(ROOT / "chapters" / "assignments" / f"{name}.md")
    for directive in ("assignment-summary", "assignment-outline", "assignment-rubrics"):
        assert f"{{{directive}}} {name}" in page
    assert f"file: chapters/assignments/{name}" in _text(ROOT / "_toc.yml")


# --- The model answers state facts: check them -------------------------------------------------------

def test_momentum_model_answer_numbers_hold():
    a, b = 1.0, 50.0
    kappa = b / a
    assert ag.rate_formula(2 / (a + b), 0.0, [a, b]) == pytest.approx(49 / 51)
    assert ag.rate_formula(0.3 / b, 0.9, [a, b]) == pytest.approx(np.sqrt(0.9))  # never below sqrt(mu)
    for lr in np.linspace(0.001, 0.03, 30):  # no step size makes mu = 0.9 faster than sqrt(0.9)
        assert ag.rate_formula(lr, 0.9, [a, b]) >= np.sqrt(0.9) - 1e-12
    alpha, mu = 4 / (np.sqrt(a) + np.sqrt(b)) ** 2, ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    assert ag.rate_formula(alpha, mu, [a, b]) == pytest.approx(0.752, abs=5e-4)
    grad = ag.checks.PROBLEMS["valley"]
    finals = [ag.valley_loss(ag._momentum_loop(grad, (-4.0, 1.0), 60, lr, m, False)[-1])
              for lr, m in ((2 / (a + b), 0.0), (0.3 / b, 0.9), (alpha, mu))]
    assert round(finals[0], 2) == 0.27 and 3e-10 < finals[2] < 5e-10  # "0.27" and "about 4e-10"
    assert 5e8 < finals[0] / finals[2] < 2e9 and finals[1] < finals[0]  # "about 10^9 times smaller"
    assert ag.valley_loss(np.array([-4.0, 1.0])) == 33.0
    floors = [ag.predicted_stationary_loss(lr, m, 1.0, [a, b]) for lr, m in ((0.01, 0.0), (0.001, 0.9), (0.01, 0.9))]
    assert [round(f, 4) for f in floors] == [0.0058, 0.005, 0.0539]


def test_amsgrad_model_answer_numbers_hold():
    C, beta2 = 3.0, 1 / (1 + 3.0**2)
    v, cycle = 0.0, []
    for t in range(1, 301):
        v = beta2 * v + (1 - beta2) * ag.online_gradient(t) ** 2
        cycle.append(v)
    v_c, v_1, v_2 = cycle[-3:]  # after the gradients C, -1, -1
    assert (round(v_c, 1), round(v_1, 1), round(v_2, 1)) == (8.2, 1.7, 1.1)
    steps = np.array([-C / np.sqrt(v_c), 1 / np.sqrt(v_1), 1 / np.sqrt(v_2)])
    assert np.round(np.abs(steps), 2).tolist() == [1.05, 0.76, 0.97] and round(steps.sum(), 2) == 0.68
    amsgrad = np.array([-C, 1.0, 1.0]) / np.sqrt(v_c)
    assert round(abs(amsgrad[1]), 2) == 0.35 and round(amsgrad.sum(), 2) == -0.35
    means = {b2: ag.reference_online(False, 3000, beta2=b2)[-300:].mean() for b2 in (0.3, 0.5)}
    assert means[0.3] > 0.9 and -0.95 < means[0.5] < -0.85  # "fails at 0.3, about -0.91 at 0.5"
    assert ag.net_move_formula(0.472) > 0 > ag.net_move_formula(0.473)  # the boundary about 0.472


def test_bias_correction_model_answer_numbers_hold():
    b = 0.9
    assert round(0.1 / np.sqrt(0.001), 2) == 3.16
    assert round((1 + b) / (1 - b)) == 19 and round(b / (1 - b)) == 9
    assert round((1 + 0.99) / (1 - 0.99)) == 199 and round(0.99 / (1 - 0.99)) == 99
    finite_lag = b / (1 - b) - 40 * b**40 / (1 - b**40)
    assert round(finite_lag, 1) == 8.4
    stderr = 2 * np.sqrt((1 - b) / (1 + b) * (1 - b**80)) / np.sqrt(4000) / (1 - b**40)
    assert round(stderr, 3) == 0.007
    noise = 2.0 * np.random.default_rng(0).standard_normal((4000, 40))
    drift = ag.simulate_formula(0.5 + 0.01 * np.arange(1, 41) + noise, 0.9, 0.99)[1][:, -1].mean() - 0.9
    assert round(drift, 3) == -0.085 and abs(drift + 0.01 * finite_lag) < 2 * stderr


def test_first_assignment_model_answer_numbers_hold():
    eps, g = 1e-8, 1e-6
    assert round(g / (g + eps), 3) == 0.990
    b1 = 0.9  # storing m_hat_1 = g_1 weights g_1 by beta1 / (1 - beta1^2) at t = 2, 1/(1 - beta1) too much
    assert b1 / (1 - b1**2) == pytest.approx(b1 * (1 - b1) / (1 - b1**2) / (1 - b1))


def _reference(built, name):
    from coursekit.assignment_checks import decode

    return decode(json.loads(_text(built[name] / "reference_values.json")))


def _stored(built, name, key):
    from coursekit.assignment_checks import decode

    return decode(json.loads(build.packed_files(build.student_notebook(built[name]))["expected_values.json"]))[key]


def test_tuning_model_answer_numbers_hold(built):
    ref = _reference(built, "tuning_experiment")
    means = np.asarray(ref["tuning_table"]).mean(axis=2)
    assert ref["best_lr"] == [0.1, 0.03]
    assert round(means[1, 3], 3) == 0.167 and round(means[0, 4], 3) == 0.177  # validation means quoted
    final = np.asarray(ref["final_test"])
    assert [round(m, 3) for m in final.mean(axis=1)] == [0.150, 0.155]
    assert [round(s, 3) for s in final.std(axis=1, ddof=1)] == [0.017, 0.010]
    diff = final[1] - final[0]
    assert abs(diff.mean()) < final.std(axis=1, ddof=1).min()  # "smaller than either standard deviation"
    assert (diff > 0).sum() == 4 and (diff < 0).sum() == 1  # "four of five seeds favour beta1 = 0"
    assert round(float(_stored(built, "tuning_experiment", "max_step_ratio")["expected"]), 1) == 1.2
    assert round(float(_stored(built, "tuning_experiment", "worst_step_ratio")["expected"]), 1) == 5.8


def test_digits_model_answer_numbers_hold(built):
    ref = _reference(built, "digits_training")
    assert ref["chosen_lr"] == [0.1, 0.01, 0.03]
    means = np.asarray(ref["tuning_table"]).mean(axis=2).min(axis=1)
    assert [round(m, 3) for m in means] == [0.122, 0.084, 0.063]
    acc = np.asarray(_stored(built, "digits_training", "final_accuracy")["expected"])
    loss = np.asarray(_stored(built, "digits_training", "final_test_loss")["expected"])
    assert round(acc[2].mean(), 3) == 0.979 and round(acc[2].std(ddof=1), 3) == 0.002
    assert round(acc[0].mean(), 3) == round(acc[1].mean(), 3) == 0.969
    assert round(loss[2].mean(), 3) == 0.063 and round(loss[2].std(ddof=1), 3) == 0.006
    lead = acc[2].mean() - max(acc[0].mean(), acc[1].mean())
    assert lead > 3 * acc[2].std(ddof=1)  # "several times its own spread"
    assert np.all(acc[2] >= acc[1]) and np.sum(acc[2] == acc[1]) == 2 and np.all(acc[2] > acc[0])
    assert abs(acc[0].mean() - acc[1].mean()) < min(acc[0].std(ddof=1), acc[1].std(ddof=1))


SITE = ROOT / "_build" / "html"


@pytest.mark.skipif(not (SITE / "chapters" / "assignments" / "index.html").is_file(), reason="the site is not built")
@pytest.mark.parametrize("name", NAMES)
def test_assignment_page_offers_the_student_notebook(built, name):
    """Download, Colab and Binder all lead to the student notebook, never to a page's own notebook."""
    page = (SITE / "chapters" / "assignments" / f"{name}.html").read_text("utf-8")
    links = set(re.findall(r'href="([^"]+)"', page))
    download = f"../../_sources/chapters/assignments/{name}.ipynb"
    assert download in links
    offered = json.loads((SITE / "_sources" / "chapters" / "assignments" / f"{name}.ipynb").read_text("utf-8"))
    assert build.SETUP_TAG in offered["cells"][0]["metadata"]["tags"]
    assert not any("**SOLUTION" in "".join(c["source"]) for c in offered["cells"])
    colab = f"https://colab.research.google.com/github/adamedu/adamedu/blob/gh-pages/_sources/chapters/assignments/{name}.ipynb"
    student = build.student_notebook(built[name]).relative_to(ROOT).as_posix()
    binder = f"https://mybinder.org/v2/gh/adamedu/adamedu/main?urlpath=lab/tree/{student}"
    assert colab in links and binder in links
    assert "python chapters/assignments/build.py" in (ROOT / "postBuild").read_text()  # Binder builds it
    assert "Source:" not in page and "assignment_outline" not in page
    assert "Partial credit" in page and "graded by hand)" in page  # the rubric is on the page


@pytest.mark.skipif(not (SITE / "chapters" / "assignments" / "index.html").is_file(), reason="the site is not built")
@pytest.mark.parametrize("page", ["index", "instructor_guide", "semester_plan"])
def test_course_pages_offer_no_notebook_that_cannot_run(page):
    assert not (SITE / "_sources" / "chapters" / "assignments" / f"{page}.ipynb").exists()
    html = (SITE / "chapters" / "assignments" / f"{page}.html").read_text("utf-8")
    assert "download-notebook-button" not in html and f"{page}.ipynb" not in html
    assert "colab.research.google.com" not in html and "mybinder.org" not in html
