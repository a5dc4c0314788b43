"""Generate every assignment's student notebook and autograder with Otter Assign.

Usage (from the repository root, in the book's environment)::

    python chapters/assignments/generate.py                 # all assignments -> _build/assignments/
    python chapters/assignments/generate.py --out DIR       # somewhere else
    python chapters/assignments/generate.py adam_from_scratch --no-run-tests

For each source notebook ``chapters/assignments/source/<name>.ipynb`` this writes
``<out>/<name>/student/<name>.ipynb`` (solutions and hidden tests removed, public tests kept),
``<out>/<name>/autograder/<name>.ipynb`` (the solution notebook with every test) and
``<out>/<name>/autograder/<name>-autograder_<timestamp>.zip`` (for Gradescope and ``otter run``).

Otter Assign only ships files that sit next to the source notebook, so each source is first copied
into a staging folder together with a copy of the ``adamedu`` package (the student folder and the
autograder zip then contain it: nothing needs installing besides NumPy, SciPy, SymPy, Matplotlib
and scikit-learn) and a ``requirements.txt`` for the grading image.  Unless ``--no-run-tests`` is
given, Otter Assign also runs the solution notebook against all tests and stops if one fails.
Nothing here needs the network or Docker.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCES = HERE / "source"
DEFAULT_OUT = ROOT / "_build" / "assignments"

#: What the grading image needs besides Otter itself (Gradescope installs these from the zip).
GRADING_REQUIREMENTS = ["numpy>=1.26,<3", "scipy>=1.11", "sympy>=1.12,<2", "matplotlib>=3.8,<4",
                        "scikit-learn>=1.4,<2"]


def assignment_names() -> list[str]:
    """The assignments, in the order of the book: every ``source/*.ipynb``."""
    order = ["adam_from_scratch", "bias_correction_sympy", "tuning_experiment", "amsgrad_counterexample"]
    found = sorted(p.stem for p in SOURCES.glob("*.ipynb"))
    return [n for n in order if n in found] + [n for n in found if n not in order]


def stage(name: str, folder: pathlib.Path) -> pathlib.Path:
    """Copy the source notebook, the ``adamedu`` package and the requirements into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SOURCES / f"{name}.ipynb", folder / f"{name}.ipynb")
    shutil.copytree(ROOT / "adamedu", folder / "adamedu",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (folder / "requirements.txt").write_text("\n".join(GRADING_REQUIREMENTS) + "\n")
    return folder / f"{name}.ipynb"


def generate(name: str, out: pathlib.Path, run_tests: bool = True, quiet: bool = False) -> pathlib.Path:
    """Run Otter Assign on one assignment; return its output folder ``out/<name>``."""
    result = (out / name).resolve()
    if result.exists():
        shutil.rmtree(result)
    with tempfile.TemporaryDirectory(prefix=f"assign-{name}-") as tmp:
        master = stage(name, pathlib.Path(tmp))
        cmd = [sys.executable, "-m", "otter", "assign", str(master), str(result)]
        if not run_tests:
            cmd.append("--no-run-tests")
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
        if not quiet or proc.returncode != 0:
            sys.stdout.write(proc.stdout)
            sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            raise RuntimeError(f"otter assign failed for {name} (exit code {proc.returncode})")
    return result


def autograder_zip(result: pathlib.Path) -> pathlib.Path:
    """The autograder zip in an assignment's output folder."""
    (zip_path,) = (result / "autograder").glob("*-autograder_*.zip")
    return zip_path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="assignments to generate (default: all)")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("--no-run-tests", action="store_true",
                        help="skip running the solutions against the tests")
    args = parser.parse_args(argv)
    names = args.names or assignment_names()
    unknown = sorted(set(names) - set(assignment_names()))
    if unknown:
        parser.error(f"unknown assignment(s): {', '.join(unknown)}; choose from {assignment_names()}")
    for name in names:
        print(f"== {name}")
        result = generate(name, args.out, run_tests=not args.no_run_tests)
        print(f"   student notebook: {result / 'student' / (name + '.ipynb')}")
        print(f"   autograder zip:   {autograder_zip(result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
