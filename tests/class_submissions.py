"""A generated class of submissions for "Adam from scratch": right, partly wrong, empty and broken.

Used by ``tests/test_grade_class.py`` (a small folder) and runnable on its own for a full class::

    python tests/class_submissions.py OUT_FOLDER [--count 50]

Every submission is made from the built solution or student notebook by an edit a student could
make; :data:`EXPECTED` says what the grader must report for each kind.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "chapters" / "assignments"))

from coursekit import build  # noqa: E402

NAME = "adam_from_scratch"

#: Mistakes in the solution: (text in the solution, replacement). Each edit is one a student makes.
MISTAKES = {
    # The planted mistakes of the course's review, and the diagnosis each must get.
    "power_missing": [("v_hat = v / (1 - beta2**t)", "v_hat = v / (1 - beta2)")],
    "loop_from_zero": [("for t in range(1, steps + 1):", "for t in range(steps):")],
    # Other common ones.
    "eps_inside_sqrt": [("theta_new = theta - lr * m_hat / (np.sqrt(v_hat) + eps)",
                         "theta_new = theta - lr * m_hat / np.sqrt(v_hat + eps)")],
    "no_bias_correction": [("theta_new = theta - lr * m_hat / (np.sqrt(v_hat) + eps)",
                            "theta_new = theta - lr * m_new / (np.sqrt(v_new) + eps)")],
    "gradient_not_squared": [("v_new = beta2 * v + (1 - beta2) * grad**2", "v_new = beta2 * v + (1 - beta2) * grad")],
    "ascent": [("theta_new = theta - lr * m_hat", "theta_new = theta + lr * m_hat")],
    "not_in_place": [("            p[...] = p_new", "            p = p_new")],
    "counter_per_array": [("        self.t += 1\n        beta1, beta2 = self.betas\n        for i, (p, g) in enumerate(zip(self.params, grads)):\n",
                           "        beta1, beta2 = self.betas\n        for i, (p, g) in enumerate(zip(self.params, grads)):\n            self.t += 1\n")],
    "m_hat_as_state": [("    return theta_new, m_new, v_new\n", "    return theta_new, m_hat, v_new\n")],
    "precedence": [("m_hat = m / (1 - beta1**t)", "m_hat = m / (1 - beta1)**t"),
                   ("v_hat = v / (1 - beta2**t)", "v_hat = v / (1 - beta2)**t")],
    "ratio_wrong": [("first_step_ratio = np.abs(theta) / 1e-3", "first_step_ratio = np.abs(theta) / 1e-2")],
    # Right in float64, but np.power(beta1, t) is a np.float64 scalar, which makes float32 inputs float64.
    "float64_promotion": [("m_hat = m / (1 - beta1**t)", "m_hat = m / (1.0 - np.power(beta1, t))")],
}

#: Cells that break the notebook, inserted after the answer to Question 2 (so Question 1-2 can
#: still score, and the later ones must score as the broken state allows).
BROKEN = {
    "infinite_loop": "while True:\n    pass",
    "sleeps_forever": "import time\ntime.sleep(10**6)",
    "calls_exit": "exit()",
    "calls_sys_exit": "import sys\nsys.exit(1)",
    "calls_os_exit": "import os\nos._exit(3)",
    "kills_itself": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    "kills_itself_from_c": "import ctypes\nlibc = ctypes.CDLL(None)\nlibc.kill(libc.getpid(), 9)",
    "ignores_the_alarm": "import ctypes\nctypes.CDLL(None).signal(14, ctypes.c_void_p(1))  # SIGALRM: ignore\nwhile True:\n    pass",
    "deletes_tests": "import shutil\nshutil.rmtree('tests', ignore_errors=True)",
    "deletes_every_file": "import os\nfor top, dirs, files in os.walk('.', topdown=False):\n    for f in files:\n        os.remove(os.path.join(top, f))",
    "memory_bomb": "import numpy as np\nhuge = np.ones(10**10)",
    "floods_output": "for i in range(200000):\n    print('spam', i)",
}

#: Broken answers: the damage stays within the question (and the ones that use it).
BROKEN_ANSWERS = {
    "loop_in_answer": [("    for t in range(1, steps + 1):\n", "    while True:\n        pass\n    for t in range(1, steps + 1):\n")],
    "exit_in_answer": [("        self.t += 1\n", "        self.t += 1\n        exit()\n")],
}

#: For each kind of submission: the autograded score out of 16 the grader must give, and text
#: its feedback must contain (per question).
EXPECTED = {
    "correct": (16, {}),
    "power_missing": (4, {"q2": ["the corrected second moment v_hat is wrong at step t = 2",
                                 "Likely cause: the power t is missing: v_hat = v_t/(1 - beta2) must be v_t/(1 - beta2**t)"],
                          "q3": ["wrong only because it calls `bias_correct` (Question 2)"]}),
    "loop_from_zero": (13, {"q4": ["the path is wrong at row (step) t = 1", "got:      [nan, nan]",
                                   "Likely cause: the step counter starts at t = 0",
                                   "divides by 1 - beta**0 = 0"]}),
    "empty": (0, {"q1": ["not implemented yet"]}),
}


def _replace(nb: dict, edits) -> dict:
    nb = json.loads(json.dumps(nb))
    for old, new in edits:
        hits = 0
        for cell in nb["cells"]:
            source = "".join(cell["source"])
            if old in source:
                cell["source"] = source.replace(old, new)
                hits += 1
        assert hits, f"{old!r} is not in the solution"
    return nb


def _insert_after(nb: dict, marker: str, source: str) -> dict:
    nb = json.loads(json.dumps(nb))
    index = next(i for i, c in enumerate(nb["cells"]) if marker in "".join(c["source"]))
    nb["cells"].insert(index + 1, {"cell_type": "code", "execution_count": None, "id": f"inserted-{len(nb['cells'])}",
                                   "metadata": {}, "outputs": [], "source": source})
    return nb


def kinds(count: int) -> list[str]:
    """A mix of ``count`` kinds: about 20 % right, 40 % partly wrong, 15 % empty, 25 % broken."""
    wrong = list(MISTAKES)
    broken = [f"broken:{k}" for k in BROKEN] + list(BROKEN_ANSWERS)
    base = (["correct", "correct_zip", "correct_reordered"] + wrong + ["empty", "empty_zip", "only_q1"]
            + broken + ["corrupt_json", "zip_without_notebook", "markdown_only"])
    out = []
    while len(out) < count:
        out.extend(base)
    return sorted(out[:count], key=lambda k: (k.startswith("broken") or k in BROKEN_ANSWERS, k))


def make_class(folder: Path, count: int = 50, built: Path | None = None) -> dict[str, str]:
    """Write ``count`` submissions into ``folder``; return {student: kind}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    built = Path(built) if built else build.generate(NAME, folder.parent / "_built_for_class")
    solution = json.loads((built / "autograder" / f"{NAME}.ipynb").read_text())
    student = json.loads(build.student_notebook(built).read_text())
    roster = {}
    for i, kind in enumerate(kinds(count)):
        name = f"student{i + 1:02d}"
        roster[name] = kind
        target = folder / f"{name}.ipynb"
        if kind in ("correct", "correct_zip"):
            nb = solution
        elif kind == "correct_reordered":  # right, written differently
            nb = _replace(solution, [("m_hat = m / (1 - beta1**t)", "m_hat = m * (1.0 / (1 - beta1**t))"),
                                     ("            p[...] = p_new", "            p -= p - p_new")])
        elif kind in MISTAKES:
            nb = _replace(solution, MISTAKES[kind])
        elif kind in BROKEN_ANSWERS:
            nb = _replace(solution, BROKEN_ANSWERS[kind])
        elif kind in ("empty", "empty_zip"):
            nb = student
        elif kind == "only_q1":
            nb = json.loads(json.dumps(student))
            first = next(c for c in nb["cells"] if "def update_moments" in "".join(c["source"]))
            first["source"] = ("def update_moments(m, v, grad, beta1, beta2):\n"
                               "    return beta1 * m + (1 - beta1) * grad, beta2 * v + (1 - beta2) * grad**2\n")
        elif kind.startswith("broken:"):
            nb = _insert_after(solution, "def bias_correct(", BROKEN[kind.split(":", 1)[1]])
        elif kind == "corrupt_json":
            target.write_text('{"cells": [ this is not json')
            continue
        elif kind == "zip_without_notebook":
            with zipfile.ZipFile(folder / f"{name}.zip", "w") as zf:
                zf.writestr("notes.txt", "I forgot the notebook")
            continue
        elif kind == "markdown_only":
            nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "My answers are on paper."}],
                  "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        else:
            raise ValueError(kind)
        if kind.endswith("_zip"):
            with zipfile.ZipFile(folder / f"{name}.zip", "w") as zf:
                zf.writestr(f"{NAME}.ipynb", json.dumps(nb))
                zf.writestr(".OTTER_LOG", b"")
        else:
            target.write_text(json.dumps(nb))
    return roster


def expected_score(kind: str) -> float | None:
    """The autograded score (of 16) a kind must get, where it is fixed by construction."""
    if kind in ("correct", "correct_zip", "correct_reordered"):
        return 16.0
    if kind in ("empty", "empty_zip", "corrupt_json", "zip_without_notebook", "markdown_only"):
        return 0.0
    if kind == "only_q1":
        return 2.0
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args(argv)
    roster = make_class(args.out, args.count)
    (args.out.parent / "roster.json").write_text(json.dumps(roster, indent=1))
    print(f"{len(roster)} submissions in {args.out}; roster in {args.out.parent / 'roster.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
