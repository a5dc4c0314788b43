"""Grade a whole class offline: a folder of submissions in, one CSV and a feedback file per student out.

Usage (from the repository root, in the book's environment)::

    python chapters/assignments/grade.py adam_from_scratch submissions/ -o results/

``submissions/`` holds one submission per student: a notebook (``alice.ipynb``), the zip that the
notebook's submission cell writes (``alice.zip``), or a folder named after the student holding
either. Each is graded with ``otter run`` against the assignment's autograder (public and hidden
tests), in parallel on the machine's cores, and the command writes

* ``results/grades.csv``: one row per student with the score of every autograded question, the
  total, a column for each question graded by hand (left empty), the status and the time taken;
* ``results/feedback/<student>.md``: the student's score per question with every failing test's
  message (hidden tests included, marked; ``--public-feedback-only`` leaves them out).

Broken or hostile submissions are contained, and score zero only on what they break:

* the grader inserts a first cell (:data:`GUARD_SOURCE`) that limits every cell to
  ``--cell-timeout`` seconds (the cell stops with a TimeoutError and the notebook goes on), refuses
  to end the Python process (``exit()``, ``quit()``, ``os._exit``, ``os.kill``) and restores the
  grading files (tests, checks) after any cell that deletes or changes them;
* each submission runs in its own folder, in its own process group, with a memory limit and a
  time limit for the whole submission; a submission that still stops the grader (a kernel killed
  from C code, a loop the time limit cannot interrupt) is graded again with the cell that stopped
  it replaced by an error, up to three times.

This contains accidents and common tricks. It is not a sandbox: a submission runs as the user who
runs the grader. For untrusted classes use ``otter grade`` (Docker) or Gradescope, as the
instructor guide explains.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import build, catalog

__all__ = ["Result", "grade_submission", "grade_class", "main", "GUARD_SOURCE", "find_submissions"]

GUARD_TAG = "grader-guard"

#: The first cell of every graded notebook. It reads its settings from environment variables set
#: by the grader, so the submission cannot change them before it runs.
GUARD_SOURCE = r'''# Inserted by the grader, not part of the submission: per-cell time limit, no exit, grading
# files restored after every cell.
def _grader_guard():
    import builtins, hashlib, os, signal
    limit = int(os.environ.get("COURSEKIT_CELL_TIMEOUT", "120"))
    log_path = os.environ.get("COURSEKIT_GUARD_LOG", "")
    kept = {}
    for top, dirs, files in os.walk("."):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        for name in files:
            path = os.path.join(top, name)
            if not name.endswith(".ipynb") and os.path.getsize(path) < 5_000_000:
                with open(path, "rb") as f:
                    kept[path] = f.read()
    set_alarm, set_handler = signal.alarm, signal.signal
    current = [""]

    def log(event, cell=None):
        if log_path:
            with open(log_path, "a") as f:
                f.write(f"{event}\t{hashlib.sha1((current[0] if cell is None else cell).encode()).hexdigest()}\n")

    def on_alarm(signum, frame):
        set_alarm(limit)  # the statements after this one get their own limit
        log("timeout")
        raise TimeoutError(f"stopped by the grader: this cell ran for more than {limit} s")

    def before(info):
        current[0] = info.raw_cell
        log("start")
        set_alarm(limit)

    def after(result):
        set_alarm(0)
        for path, data in kept.items():
            try:
                same = os.path.isfile(path) and open(path, "rb").read() == data
            except OSError:
                same = False
            if not same:
                os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
                with open(path, "wb") as f:
                    f.write(data)
                log("restored " + path, result.info.raw_cell)
        log("end", result.info.raw_cell)

    def refuse(*args, **kwargs):
        log("refused")
        raise RuntimeError("stopped by the grader: a submission may not end or signal the Python "
                           "process (exit, quit, os._exit, os.kill, changing the time limit)")

    set_handler(signal.SIGALRM, on_alarm)
    shell = get_ipython()
    shell.events.register("pre_run_cell", before)
    shell.events.register("post_run_cell", after)
    shell.ask_exit = refuse
    builtins.exit = builtins.quit = shell.user_ns["exit"] = shell.user_ns["quit"] = refuse
    os._exit = os.abort = os.kill = os.killpg = refuse
    signal.alarm = signal.setitimer = refuse
    signal.signal = lambda sig, handler: refuse() if sig == signal.SIGALRM else set_handler(sig, handler)


_grader_guard()
del _grader_guard'''

#: Longest feedback text kept per question (a runaway print in a test cannot fill the disk).
MAX_FEEDBACK = 20_000


@dataclass
class Result:
    """The grading of one submission."""

    student: str
    submission: str
    status: str = "graded"  # graded | contained | unreadable | failed
    scores: dict = field(default_factory=dict)  # question -> (score, max)
    feedback: dict = field(default_factory=dict)  # question -> text
    notes: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return sum(s for s, _ in self.scores.values())


# --- Submissions ---------------------------------------------------------------------------------

def find_submissions(folder: Path) -> list[tuple[str, Path]]:
    """``(student, path)`` for every notebook, zip, or student folder holding one, in ``folder``."""
    found = []
    for entry in sorted(Path(folder).iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            inside = sorted(p for p in entry.iterdir() if p.suffix in (".ipynb", ".zip") and not p.name.startswith("."))
            found.append((entry.name, inside[0] if len(inside) == 1 else entry))
        elif entry.suffix in (".ipynb", ".zip"):
            found.append((entry.stem, entry))
    return found


def _read_notebook(path: Path) -> nbformat.NotebookNode:
    """The submitted notebook; raises ValueError with a reason a student can act on."""
    if path.is_dir():
        raise ValueError(f"the folder {path.name} must hold exactly one .ipynb or .zip file")
    if path.suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.endswith(".ipynb") and not n.startswith("__MACOSX")
                         and "/." not in n and "checkpoint" not in n]
                if len(names) != 1:
                    raise ValueError(f"the zip file must hold exactly one notebook; it holds {len(names)}")
                text = zf.read(names[0]).decode("utf-8")
        except zipfile.BadZipFile:
            raise ValueError("the file is not a valid zip file") from None
    else:
        text = path.read_text("utf-8", errors="replace")
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - any parse error is the submission's
        raise ValueError(f"the notebook cannot be read ({type(exc).__name__}: {str(exc)[:200]})") from None


def guarded(nb: nbformat.NotebookNode, assignment: str, skipped: dict) -> nbformat.NotebookNode:
    """A copy of the submission with the guard cell first and the ``skipped`` cells (index ->
    reason) replaced by an error; earlier guard cells (never a student's) are dropped."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.cells = [c for c in nb.cells if GUARD_TAG not in c.get("metadata", {}).get("tags", [])]
    for index, reason in skipped.items():
        nb.cells[index].source = f"raise RuntimeError({reason!r})"
        nb.cells[index].outputs = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    guard = nbformat.v4.new_code_cell(GUARD_SOURCE)
    guard.metadata = {"tags": [GUARD_TAG]}
    nb.cells.insert(0, guard)
    nb.metadata.setdefault("otter", {})["assignment_name"] = assignment
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
    return nb


def _cell_index_by_hash(nb) -> dict:
    return {hashlib.sha1(c.source.encode()).hexdigest(): i for i, c in enumerate(nb.cells)}


def _culprit(log_path: Path, nb) -> int | None:
    """The cell that was running when the grading stopped: started, never ended."""
    if not log_path.is_file():
        return None
    open_cells = []
    for line in log_path.read_text(errors="replace").splitlines():
        event, _, digest = line.partition("\t")
        if event == "start":
            open_cells.append(digest)
        elif event == "end" and open_cells:
            open_cells.pop()
    if not open_cells:
        return None
    return _cell_index_by_hash(nb).get(open_cells[-1])


def _events(log_path: Path, nb) -> dict[int, dict]:
    """What the guard logged per cell (index in ``nb``): files restored, time-outs, refusals."""
    found: dict[int, dict] = {}
    if log_path.is_file():
        index = _cell_index_by_hash(nb)
        for line in log_path.read_text(errors="replace").splitlines():
            event, _, digest = line.partition("\t")
            if digest not in index or event in ("start", "end"):
                continue
            record = found.setdefault(index[digest], {"restored": [], "timeout": 0, "refused": 0})
            if event.startswith("restored "):
                record["restored"].append(event.removeprefix("restored ").removeprefix("./"))
            elif event in ("timeout", "refused"):
                record[event] += 1
    return found


def _notes(events: dict[int, dict], cell_timeout: int) -> list[str]:
    notes = []
    for index, record in sorted(events.items()):
        where = "the grader's final check" if index == 0 else f"Cell {index}"
        if record["timeout"]:
            notes.append(f"{where} ran for more than {cell_timeout} s and was stopped (TimeoutError); "
                         "the notebook went on.")
        if record["refused"]:
            notes.append(f"{where} tried to end or signal the Python process (exit, quit, os._exit, os.kill); "
                         "the grader refused and the notebook went on.")
        if record["restored"]:
            files = sorted(set(record["restored"]))
            shown = ", ".join(files[:4]) + (f" and {len(files) - 4} more" if len(files) > 4 else "")
            notes.append(f"{where} deleted or changed {len(files)} grading file(s) ({shown}); "
                         "the grader restored them.")
    return notes


# --- One submission --------------------------------------------------------------------------------

#: Runs a command with a memory limit and no core dumps (a launcher rather than ``preexec_fn``,
#: which is unsafe while other threads run).
_LAUNCHER = """import os, resource, sys
limit = int(sys.argv[1])
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"""


def _run_otter(notebook: Path, autograder: Path, workdir: Path, env: dict, timeout: float,
               memory_bytes: int) -> tuple[dict | None, str]:
    """``otter run`` in its own process group; returns (results.json or None, reason)."""
    out = workdir / "out"
    out.mkdir(exist_ok=True)
    cmd = [sys.executable, "-c", _LAUNCHER, str(memory_bytes), "-m", "otter", "run", "-a", str(autograder),
           "-o", str(out), "--no-logo", str(notebook)]
    with open(workdir / "otter.log", "wb") as log:
        mark = uuid.uuid4().hex
        proc = subprocess.Popen(cmd, cwd=workdir, env=dict(env, COURSEKIT_RUN=mark), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc, mark)
            return None, f"the whole submission ran for more than {timeout:.0f} s"
    _kill_group(proc, mark)  # a kernel left behind
    results = out / "results.json"
    if proc.returncode == 0 and results.is_file():
        return json.loads(results.read_text()), ""
    tail = (workdir / "otter.log").read_text(errors="replace")[-2000:]
    reason = "the Python process running the notebook stopped" if "DeadKernel" in tail or "died" in tail \
        else f"the grader stopped with an error ({_last_error(tail)})"
    return None, reason


def _kill_group(proc, mark: str):
    """Stop ``otter run`` and everything it started, kernels included.

    Jupyter starts each kernel in a session of its own, so killing the process group of ``otter
    run`` would leave a kernel stuck in a student's endless loop running for ever. Every process of
    one grading carries the run's ``COURSEKIT_RUN`` mark in its environment; the mark finds them.
    """
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
    _kill_marked(mark)


def _marked_processes(mark: str) -> list[int]:
    """Process ids whose environment holds ``COURSEKIT_RUN=mark`` (Linux's /proc; elsewhere none)."""
    needle = f"COURSEKIT_RUN={mark}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except (OSError, ValueError):
            continue  # gone, or not ours to read
    return found


def _kill_marked(mark: str) -> None:
    for _ in range(20):  # a process may start another while we look: look again until none is left
        pids = [pid for pid in _marked_processes(mark) if pid != os.getpid()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.05)


def _last_error(text: str) -> str:
    errors = re.findall(r"^(\w+(?:Error|Exception)[^\n]*)", text, re.M)
    return errors[-1][:200] if errors else "see otter.log"


def grade_submission(student: str, path: Path, assignment: str, autograder: Path, workroot: Path,
                     cell_timeout: int, timeout: int, memory_gb: float = 4.0, retries: int = 3) -> Result:
    """Grade one submission in ``workroot/<student>``; never raises for the submission's faults."""
    started = time.monotonic()
    result = Result(student, str(path))
    workdir = workroot / re.sub(r"[^\w.-]", "_", student)
    if workdir.exists():
        shutil.rmtree(workdir)
    (workdir / "home").mkdir(parents=True)
    (workdir / "tmp").mkdir()
    try:
        submitted = _read_notebook(path)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        result.status = "unreadable"
        result.notes.append(f"The submission could not be graded: {exc}.")
        result.seconds = time.monotonic() - started
        return result
    env = dict(os.environ, HOME=str(workdir / "home"), TMPDIR=str(workdir / "tmp"),
               COURSEKIT_CELL_TIMEOUT=str(cell_timeout), COURSEKIT_GUARD_LOG=str(workdir / "guard.log"),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1",
               MPLBACKEND="Agg")
    env.pop("PYTHONPATH", None)
    skipped: dict[int, str] = {}
    reasons = []
    for _ in range(retries + 1):
        nb = guarded(submitted, assignment, skipped)
        notebook = workdir / f"{assignment}.ipynb"
        nbformat.write(nb, notebook)
        (workdir / "guard.log").unlink(missing_ok=True)
        data, reason = _run_otter(notebook, autograder, workdir, env, timeout, int(memory_gb * 2**30))
        if data is not None:
            break
        culprit = _culprit(workdir / "guard.log", nb)
        reasons.append(reason)
        if culprit is None or culprit == 0:
            break
        original = culprit - 1  # the guard cell is cell 0
        skipped[original] = (f"the grader skipped this cell: while it ran, {reason}. Questions that "
                             "need what it computes score zero.")
    result.notes += _notes(_events(workdir / "guard.log", nb), cell_timeout)
    for index, why in sorted(skipped.items()):
        result.notes.append(f"Cell {index + 1} was skipped: {why.removeprefix('the grader skipped this cell: ')}")
    if data is None:
        result.status = "failed"
        result.notes.append(f"The notebook could not be graded: {reasons[-1] if reasons else 'unknown error'}. "
                            "Every question scores zero.")
    else:
        result.status = "contained" if skipped else "graded"
        for test in data["tests"]:
            if test.get("max_score") is None:
                continue  # Otter's summary of the public tests
            result.scores[test["name"]] = (float(test.get("score") or 0.0), float(test["max_score"]))
            result.feedback[test["name"]] = test.get("output", "")[:MAX_FEEDBACK]
    result.seconds = time.monotonic() - started
    return result


# --- A class ---------------------------------------------------------------------------------------

def grade_class(assignment: str, submissions: Path, out: Path, jobs: int | None = None,
                autograder: Path | None = None, cell_timeout: int | None = None, timeout: int | None = None,
                memory_gb: float = 4.0, public_feedback_only: bool = False, progress=print) -> list[Result]:
    """Grade every submission in ``submissions`` into ``out`` (see the module docstring)."""
    info = catalog.by_name(assignment)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if autograder is None:
        autograder = build.autograder_zip(build.generate(assignment, out / "autograder"))
    autograder = Path(autograder).resolve()
    source = build.source_notebook(assignment)
    questions = _questions(source)
    found = find_submissions(Path(submissions))
    jobs = jobs or os.cpu_count() or 1
    workroot = Path(tempfile.mkdtemp(prefix="grading-", dir=out))
    results = []
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(grade_submission, student, path, assignment, autograder, workroot,
                                   cell_timeout or info.cell_timeout, timeout or info.submission_timeout,
                                   memory_gb): student for student, path in found}
            for future in as_completed(futures):
                result = future.result()
                results.append(result)
                progress(f"{len(results):3d}/{len(found)}  {result.student:<24} {result.status:<10} "
                         f"{result.total:g}/{sum(q['points'] for q in questions if not q['manual']):g} "
                         f"({result.seconds:.0f} s)")
    finally:
        shutil.rmtree(workroot, ignore_errors=True)
    results.sort(key=lambda r: r.student)
    write_csv(out / "grades.csv", results, questions)
    (out / "feedback").mkdir(exist_ok=True)
    for result in results:
        (out / "feedback" / f"{result.student}.md").write_text(
            feedback_text(result, questions, info, public_feedback_only), "utf-8")
    return results


def _questions(source) -> list[dict]:
    import yaml

    found = []
    for cell in source.cells:
        if cell.cell_type == "raw" and cell.source.lstrip().startswith("# BEGIN QUESTION"):
            config = yaml.safe_load(cell.source) or {}
            found.append(dict(name=config["name"], points=config.get("points", 1),
                              manual=bool(config.get("manual", False))))
    return found


def write_csv(path: Path, results: list[Result], questions: list[dict]) -> None:
    auto = [q for q in questions if not q["manual"]]
    manual = [q for q in questions if q["manual"]]
    possible = sum(q["points"] for q in auto)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "status", *[q["name"] for q in auto], "autograded", "autograded_max",
                         *[f"{q['name']} (by hand, max {q['points']})" for q in manual], "seconds", "notes"])
        for r in results:
            writer.writerow([r.student, r.status, *[_fmt(r.scores.get(q["name"], (0.0, 0))[0]) for q in auto],
                             _fmt(r.total), _fmt(possible), *["" for _ in manual], f"{r.seconds:.1f}",
                             " ".join(r.notes)])


def _fmt(x: float) -> str:
    return f"{x:g}"


_HIDDEN_RESULT = re.compile(r"^    (q\w+) - (\d+) result:", re.M)


def feedback_text(result: Result, questions: list[dict], info, public_only: bool = False) -> str:
    auto = [q for q in questions if not q["manual"]]
    possible = sum(q["points"] for q in auto)
    lines = [f"# {info.title}: feedback for {result.student}", "",
             f"Autograded score: **{result.total:g} / {possible:g}**"
             + (" (written answers are graded by hand)" if any(q["manual"] for q in questions) else ""), ""]
    if result.notes:
        lines += ["**Notes from the grader**", ""] + [f"- {n}" for n in result.notes] + [""]
    for q in questions:
        if q["manual"]:
            lines += [f"## {q['name']} ({q['points']} points, graded by hand)", ""]
            continue
        score, _ = result.scores.get(q["name"], (0.0, q["points"]))
        lines += [f"## {q['name']}: {score:g} / {q['points']:g}", ""]
        text = result.feedback.get(q["name"], "")
        if score < q["points"] and text:
            if public_only:
                text = _public_part(text)
            lines += ["```text", text.strip(), "```", ""]
        elif score < q["points"]:
            lines += ["No test output: the question's tests did not run (see the notes above).", ""]
    return "\n".join(lines) + "\n"


def _public_part(text: str) -> str:
    """Only the first test case of each question's output (the public one)."""
    parts = _HIDDEN_RESULT.split(text)
    if len(parts) < 4:
        return text
    head, kept = parts[0], []
    for i in range(1, len(parts), 3):
        if parts[i + 1] == "1":
            kept.append(f"    {parts[i]} - 1 result:{parts[i + 2]}")
    return head + "".join(kept) + "\n(hidden tests' messages left out)"


def summary(results: list[Result], questions: list[dict]) -> str:
    possible = sum(q["points"] for q in questions if not q["manual"])
    by_status = {}
    for r in results:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    totals = sorted(r.total for r in results)
    full = sum(1 for t in totals if t == possible)
    zero = sum(1 for t in totals if t == 0)
    mean = sum(totals) / len(totals) if totals else 0.0
    return (f"{len(results)} submissions: " + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
            + f"; autograded score mean {mean:.2f} / {possible:g}, {full} full marks, {zero} zero; "
            f"slowest {max((r.seconds for r in results), default=0):.0f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", choices=catalog.names())
    parser.add_argument("submissions", type=Path, help="folder of submitted notebooks, zips or student folders")
    parser.add_argument("-o", "--out", type=Path, required=True, help="folder for grades.csv and feedback/")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="submissions graded at once (default: all cores)")
    parser.add_argument("--autograder", type=Path, help="an autograder zip (default: build it from the source)")
    parser.add_argument("--cell-timeout", type=int, help="seconds one cell may run (default: per assignment)")
    parser.add_argument("--timeout", type=int, help="seconds one submission may take (default: per assignment)")
    parser.add_argument("--memory-gb", type=float, default=4.0, help="memory limit per submission (default: 4)")
    parser.add_argument("--public-feedback-only", action="store_true",
                        help="leave the hidden tests' messages out of the feedback files")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    results = grade_class(args.assignment, args.submissions, args.out, args.jobs, args.autograder,
                          args.cell_timeout, args.timeout, args.memory_gb, args.public_feedback_only)
    questions = _questions(build.source_notebook(args.assignment))
    print(summary(results, questions))
    print(f"grades:   {args.out / 'grades.csv'}")
    print(f"feedback: {args.out / 'feedback'}/")
    return 0
