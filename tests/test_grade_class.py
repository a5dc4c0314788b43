"""Grading a class offline: one command, a folder in, a CSV and feedback out, hostile notebooks contained.

A small generated class of "Adam from scratch" (a 50-submission class is made the same way with
``python tests/class_submissions.py``): right, partly wrong, empty and broken submissions, graded
in parallel with short time limits.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("otter", reason="otter-grader is needed to grade")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "chapters" / "assignments"))
sys.path.insert(0, str(ROOT / "tests"))

import class_submissions  # noqa: E402
from coursekit import build, grade_class, written_answers  # noqa: E402

NAME = "adam_from_scratch"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    built = build.generate(NAME, ROOT / "_build" / "assignments")
    kinds = ["correct", "correct_zip", "power_missing", "loop_from_zero", "empty", "broken:infinite_loop",
             "broken:kills_itself_from_c", "corrupt_json", "zip_without_notebook"]
    original = class_submissions.kinds
    class_submissions.kinds = lambda count: kinds
    try:
        roster = class_submissions.make_class(folder / "submissions", len(kinds), built=built)
    finally:
        class_submissions.kinds = original
    # One more: a notebook whose extra cells exit, delete every file and loop inside an answer.
    solution = json.loads((built / "autograder" / f"{NAME}.ipynb").read_text())
    nb = class_submissions._insert_after(solution, "def bias_correct(", class_submissions.BROKEN["calls_exit"])
    nb = class_submissions._insert_after(nb, "def bias_correct(", class_submissions.BROKEN["deletes_every_file"])
    nb = class_submissions._replace(nb, class_submissions.BROKEN_ANSWERS["loop_in_answer"])
    (folder / "submissions" / "hostile.ipynb").write_text(json.dumps(nb))
    roster["hostile"] = "hostile"
    results = grade_class.grade_class(NAME, folder / "submissions", folder / "results", jobs=2,
                                      autograder=build.autograder_zip(built), cell_timeout=8, timeout=120,
                                      progress=lambda line: None)
    return roster, {r.student: r for r in results}, folder / "results"


def test_every_submission_gets_a_row_and_a_feedback_file(graded):
    roster, results, out = graded
    assert set(results) == set(roster)
    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["student"] for r in rows) == sorted(roster)
    assert list(rows[0])[:9] == ["student", "status", "q1", "q2", "q3", "q4", "q5", "q6", "autograded"]
    assert "q7 (by hand, max 4)" in rows[0]
    for student in roster:
        assert (out / "feedback" / f"{student}.md").is_file()


def test_scores_match_what_each_submission_deserves(graded):
    roster, results, _ = graded
    for student, kind in roster.items():
        expected = class_submissions.expected_score(kind)
        if expected is not None:
            assert results[student].total == expected, (student, kind, results[student].notes)
    by_kind = {kind: results[s] for s, kind in roster.items()}
    assert by_kind["power_missing"].total == 4  # only Questions 1 and 6 survive a wrong bias_correct
    assert by_kind["loop_from_zero"].total == 13  # only Question 4 (3 points) is lost
    assert by_kind["correct_zip"].status == "graded"


def test_planted_mistakes_get_their_diagnosis_in_the_feedback(graded):
    roster, results, out = graded
    for kind in ("power_missing", "loop_from_zero"):
        student = next(s for s, k in roster.items() if k == kind)
        text = (out / "feedback" / f"{student}.md").read_text()
        for question, pieces in class_submissions.EXPECTED[kind][1].items():
            for piece in pieces:
                assert piece in text, (kind, question, piece)


def test_broken_and_hostile_submissions_are_contained(graded):
    roster, results, _ = graded
    by_kind = {kind: results[s] for s, kind in roster.items()}
    loop = by_kind["broken:infinite_loop"]
    assert loop.total == 16 and any("ran for more than 8 s" in n for n in loop.notes)
    killed = by_kind["broken:kills_itself_from_c"]
    assert killed.status == "contained" and killed.total == 16
    assert any("was skipped" in n and "stopped" in n for n in killed.notes)
    hostile = results["hostile"]
    assert hostile.scores["q4"][0] == 0 and hostile.total == 13, hostile.notes  # the endless run_adam
    notes = " ".join(hostile.notes)
    assert "tried to end or signal the Python process" in notes and "the grader restored them" in notes
    assert "TimeoutError" in hostile.feedback["q4"]
    for kind in ("corrupt_json", "zip_without_notebook"):
        assert by_kind[kind].status == "unreadable" and by_kind[kind].total == 0
        assert by_kind[kind].notes[0].startswith("The submission could not be graded")


def test_public_feedback_only_leaves_the_hidden_messages_out(graded):
    roster, results, _ = graded
    student = next(s for s, k in roster.items() if k == "power_missing")
    from coursekit import catalog, pages

    text = grade_class.feedback_text(results[student], pages.questions(NAME), catalog.by_name(NAME), public_only=True)
    assert "check_bias_correct(" not in text and "hidden tests' messages left out" in text
    assert "the power t is missing" in text


@pytest.mark.skipif(written_answers.chromium() is None, reason="no Chromium to print with")
def test_written_answers_become_a_pdf_offline(tmp_path):
    built = build.generate(NAME, ROOT / "_build" / "assignments")
    nb = json.loads(build.student_notebook(built).read_text())
    for cell in nb["cells"]:
        if "otter_answer_cell" in cell["metadata"].get("tags", []):
            cell["source"] = "The first step is $\\alpha\\, g_1/(|g_1| + \\epsilon)$. WRITTENANSWER42"
    submission = tmp_path / "alice.ipynb"
    submission.write_text(json.dumps(nb))
    page = written_answers.to_html(written_answers.written_part(grade_class._read_notebook(submission), "alice"))
    assert "WRITTENANSWER42" in page and "Question 7" in page and "def update_moments" not in page
    assert "https://" not in page.split("<body>")[0]  # nothing loaded from the network
    assert written_answers.main([str(submission), "-o", str(tmp_path / "pdfs")]) == 0
    pdf = tmp_path / "pdfs" / "alice.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        import subprocess

        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "WRITTENANSWER42" in text and "Question 7" in text and "alice" in text
        assert "$\\alpha" not in text  # the formula was typeset, not left as TeX


def _graders_left() -> list[int]:
    """Processes still carrying a grading's mark (see ``grade_class._kill_group``)."""
    left = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if any(v.startswith(b"COURSEKIT_RUN=") for v in (entry / "environ").read_bytes().split(b"\0")):
                left.append(int(entry.name))
        except OSError:
            continue
    return left


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds processes through /proc")
def test_grading_leaves_no_process_behind(graded):
    assert _graders_left() == []


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds processes through /proc")
def test_a_kernel_in_a_session_of_its_own_is_stopped_with_its_grader():
    """Jupyter starts kernels with a session of their own: stopping the grader's group misses them."""
    import subprocess
    import time

    kernel = ("import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'while True: pass'], "
              "start_new_session=True); import time; time.sleep(60)")
    mark = "test-" + str(time.time_ns())
    env = dict(grade_class.os.environ, COURSEKIT_RUN=mark)
    proc = subprocess.Popen([sys.executable, "-c", kernel], env=env, start_new_session=True)
    deadline = time.monotonic() + 10
    while len(grade_class._marked_processes(mark)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(grade_class._marked_processes(mark)) == 2  # the grader and its "kernel"
    grade_class._kill_group(proc, mark)
    time.sleep(0.2)
    alive = [pid for pid in grade_class._marked_processes(mark)
             if (Path("/proc") / str(pid) / "stat").read_text().split()[2] != "Z"]
    assert alive == []
