"""Build-time benchmark of the book: a clean build and a cached rebuild with nothing changed.

    python benchmarks/bench_build.py [--toc TOC.yml] [--no-strict] [--keep]

The book's sources are copied to a temporary folder first, so both builds see the same files.
The clean build starts from an empty output folder (no execution cache), so every notebook is
executed; the second build reuses that folder and must execute nothing. Both use the project's
command (``jupyter-book build . -W -n --keep-going``); the repository's own ``_build`` is
untouched. Prints a table against the
targets for a 2-core machine (180 s clean, 20 s cached) and the slowest notebooks.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"clean build": 180.0, "cached rebuild (no change)": 20.0}
EXECUTED = re.compile(r"^(?P<path>\S+?): Executed notebook in (?P<seconds>[0-9.]+) seconds")


def jupyter_book() -> list[str]:
    script = Path(sys.executable).with_name("jupyter-book")
    return [str(script)] if script.is_file() else ["jupyter-book"]


def snapshot(target: Path) -> Path:
    """Copy the book's sources, so that both builds see the same files even if the tree changes."""
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "_build", ".pytest_cache", ".hypothesis", "__pycache__", "*.egg-info",
        ".ipynb_checkpoints", "tests", "benchmarks",
    )
    shutil.copytree(ROOT, target, ignore=ignore, symlinks=True)
    return target


def build(book: Path, output: Path, toc: str | None, strict: bool = True) -> tuple[float, int, str]:
    command = [*jupyter_book(), "build", str(book), "--path-output", str(output), "-n", "--keep-going"]
    if strict:
        command.append("-W")
    if toc:
        command += ["--toc", toc]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=book)
    seconds = time.perf_counter() - start
    log = result.stdout + result.stderr
    return seconds, result.returncode, log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--toc", help="build with this table of contents instead of _toc.yml")
    parser.add_argument("--keep", action="store_true", help="keep the output folder and print it")
    parser.add_argument(
        "--no-strict",
        action="store_true",
        help="do not turn warnings into errors (to time a partial book, e.g. with --toc)",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="adamedu-bench-build-"))
    book, output = snapshot(work / "book"), work / "out"
    toc = str(Path(args.toc).resolve()) if args.toc else None
    rows, failed = [], False
    executed: list[tuple[float, str]] = []
    try:
        for label in TARGETS:
            seconds, code, log = build(book, output, toc, strict=not args.no_strict)
            runs = [(float(m["seconds"]), m["path"]) for m in map(EXECUTED.match, log.splitlines()) if m]
            if label == "clean build":
                executed = runs
            rows.append((label, seconds, len(runs), code))
            if code != 0:
                failed = True
                sys.stderr.write(log[-4000:])
                break
    finally:
        if args.keep:
            print(f"sources and output kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    flags = "-n --keep-going" + ("" if args.no_strict else " -W")
    toc = f" --toc {args.toc}" if args.toc else ""
    print(f"\nBook build on {os.cpu_count()} cores (jupyter-book build . {flags}{toc})\n")
    print(f"{'build':<28} {'seconds':>8} {'target':>8} {'notebooks executed':>19}  result")
    for label, seconds, runs, code in rows:
        target = TARGETS[label]
        verdict = "build failed" if code else ("ok" if seconds <= target else "over target")
        print(f"{label:<28} {seconds:8.1f} {target:8.0f} {runs:19d}  {verdict}")
    if executed:
        print("\nslowest notebooks in the clean build:")
        for seconds, path in sorted(executed, reverse=True)[:5]:
            print(f"  {seconds:7.1f} s  {Path(path).relative_to(book) if Path(path).is_relative_to(book) else path}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
