"""Build every assignment: the student notebook, the solution notebook and the autograder zip.

For each source ``chapters/assignments/source/<name>.md`` (a MyST notebook in Otter Assign's format)
this writes, under ``<out>/<name>/``:

* ``student/<name>.ipynb``: the notebook to hand out. It is self-contained: its first cell (the
  set-up cell) carries the public tests, the feedback module ``assignment_checks.py`` and the stored
  expected values, writes them into ``<name>_files/`` next to the notebook when they are missing or
  out of date, installs what it needs when it runs on Google Colab, and starts the grader. It holds
  no solution, no hidden test and no reference implementation of what it grades.
* ``autograder/<name>.ipynb``: the solution notebook (the same set-up cell, every answer filled in).
* ``<name>-autograder.zip``: Otter's autograder (all tests, hidden ones included, the hidden
  checks ``autograder_checks.py`` and the ``adamedu`` package as reference), for ``otter run``,
  ``otter grade`` and Gradescope.

Nothing here needs the network or Docker.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat
import yaml

from . import assignment_checks, catalog, probes

__all__ = ["ROOT", "SOURCES", "source_notebook", "source_config", "generate", "autograder_zip",
           "student_notebook", "repository", "student_requirements", "main"]

HERE = Path(__file__).resolve().parent
ASSIGNMENTS_DIR = HERE.parent
ROOT = ASSIGNMENTS_DIR.parents[1]
SOURCES = ASSIGNMENTS_DIR / "source"
DEFAULT_OUT = ROOT / "_build" / "assignments"

#: Otter Assign settings shared by every assignment (the source's config cell adds its own).
OTTER_CONFIG = {
    "requirements": "requirements.txt",
    "files": ["assignment_checks.py", "expected_values.json"],
    "autograder_files": ["autograder_checks.py", "adamedu"],
    "init_cell": False,  # the set-up cell starts the grader (Otter's own needs the notebook file)
    "check_all_cell": True,
    "export_cell": False,  # the submission cell below replaces it (Otter's fails on Colab)
    "generate": {"show_stdout": True, "show_hidden": False, "pdf": False},
    "tests": {"files": True, "ok_format": False},
    "python_version": "3.11",
}

SETUP_TAG = "assignment-setup"

SETUP_SOURCE = '''\
# Set-up: run this cell first (you need not read it). It writes this assignment's public tests
# into the folder {name}_files/ next to the notebook, installs what the notebook needs when it runs
# on Google Colab, and starts the grader.
import base64, importlib.util, io, os, subprocess, sys, zipfile

ASSIGNMENT = "{name}"
NEEDS = {needs}  # module: pip requirement
PACKED = "{packed}"

folder = ASSIGNMENT + "_files"
with zipfile.ZipFile(io.BytesIO(base64.b64decode(PACKED))) as packed:
    for member in packed.namelist():
        target, data = os.path.join(folder, member), packed.read(member)
        if not (os.path.isfile(target) and open(target, "rb").read() == data):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
missing = [req for module, req in NEEDS.items() if importlib.util.find_spec(module) is None]
if missing and "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
    importlib.invalidate_caches()
elif missing:
    raise ModuleNotFoundError("this notebook needs " + ", ".join(missing) + "; install with: "
                              + "pip install " + " ".join(repr(r) for r in missing))
import otter

if not otter.Notebook._grading_mode:  # when graded, the autograder's own copies are used
    sys.path.insert(0, os.path.abspath(folder))
grader = otter.Notebook(ASSIGNMENT + ".ipynb" if os.path.isfile(ASSIGNMENT + ".ipynb") else None,
                        tests_dir=os.path.join(folder, "tests"))'''

SUBMIT_MARKDOWN = """\
## Submitting

Save the notebook (File ▸ Save), then run the cell below. It packs your notebook into a zip file
to hand in (on Gradescope, or as your course asks); the written answers are graded from the same
notebook. On Google Colab, hand in the notebook itself instead: File ▸ Download ▸ Download .ipynb."""

SUBMIT_CODE = """\
import sys

if "google.colab" in sys.modules:
    print("On Colab: use File > Download > Download .ipynb, and hand in that file.")
else:
    grader.export(pdf=False, run_tests=False)"""


# --- Sources --------------------------------------------------------------------------------------

def source_notebook(name: str) -> nbformat.NotebookNode:
    """The source notebook (MyST Markdown through jupytext), with its config cell as written."""
    import jupytext

    path = SOURCES / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"no source for assignment {name!r}: {path}")
    return jupytext.read(path)


def _config_cell(nb) -> tuple[int, dict]:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "raw" and cell.source.lstrip().startswith("# ASSIGNMENT CONFIG"):
            return i, yaml.safe_load(cell.source) or {}
    raise ValueError("the source has no '# ASSIGNMENT CONFIG' raw cell")


def source_config(name: str) -> dict:
    """The source's own assignment config."""
    return _config_cell(source_notebook(name))[1]


def repository() -> tuple[str, str]:
    """The book's repository URL and branch, from ``_config.yml``."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text("utf-8"))
    repo = config.get("repository") or {}
    return str(repo.get("url", "")).rstrip("/"), str(repo.get("branch", "main"))


def student_requirements(name: str) -> list[str]:
    """pip requirements of a student notebook (``adamedu`` from the book's repository)."""
    url, branch = repository()
    return [f"adamedu @ git+{url}@{branch}" if r == "adamedu" else r for r in catalog.by_name(name).requirements]


def _needs(name: str) -> dict:
    url, branch = repository()
    needs = {"otter": catalog.OTTER_REQUIREMENT}
    for module, requirement in catalog.by_name(name).modules.items():
        needs[module] = f"adamedu @ git+{url}@{branch}" if requirement == "adamedu" else requirement
    return needs


def _grading_requirements(name: str) -> list[str]:
    """What the grading image installs besides Otter (the zip ships adamedu itself)."""
    needs = ["numpy>=1.26,<3"]
    modules = catalog.by_name(name).modules
    if "sympy" in modules or "adamedu" in modules:
        needs.append("sympy>=1.12,<2")
    if "adamedu" in modules:
        needs += ["matplotlib>=3.8,<4", "scikit-learn>=1.4,<2"]
    return needs


# --- Staging and Otter Assign ----------------------------------------------------------------------

def stage(name: str, folder: Path) -> Path:
    """Write the source as an Otter notebook into ``folder`` with everything it ships."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = source_notebook(name)
    index, config = _config_cell(nb)
    if config.get("name") != name:
        raise ValueError(f"the config of {name} names the assignment {config.get('name')!r}")
    merged = {**OTTER_CONFIG, **config}
    nb.cells[index].source = "# ASSIGNMENT CONFIG\n" + yaml.safe_dump(merged, sort_keys=False)
    nb.metadata.pop("jupytext", None)
    master = folder / f"{name}.ipynb"
    nbformat.write(nb, master)
    shutil.copy(HERE / "assignment_checks.py", folder / "assignment_checks.py")
    shutil.copy(HERE / "autograder_checks.py", folder / "autograder_checks.py")
    values = probes.stored_values(name)
    public = {k: v for k, v in values.items() if not k.startswith("_reference_")}
    reference = {k.removeprefix("_reference_"): v for k, v in values.items() if k.startswith("_reference_")}
    (folder / "expected_values.json").write_text(json.dumps(assignment_checks.encode(public), sort_keys=True) + "\n", "utf-8")
    (folder / "reference_values.json").write_text(json.dumps(assignment_checks.encode(reference), sort_keys=True) + "\n", "utf-8")
    shutil.copytree(ROOT / "adamedu", folder / "adamedu", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (folder / "requirements.txt").write_text("\n".join(_grading_requirements(name)) + "\n", "utf-8")
    return master


def _packed(files: dict[str, bytes]) -> str:
    """The files as a base64 zip, with fixed timestamps so that a rebuild gives the same text."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[path])
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def setup_cell(name: str, files: dict[str, bytes]) -> nbformat.NotebookNode:
    """The first cell of the student and solution notebooks (see the module docstring)."""
    needs = "{" + ", ".join(f"{k!r}: {v!r}" for k, v in _needs(name).items()) + "}"
    source = SETUP_SOURCE.format(name=name, needs=needs, packed=_packed(files))
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata = {"tags": [SETUP_TAG], "editable": False, "deletable": False,
                     "jupyter": {"source_hidden": True}, "cellView": "form"}
    cell.id = "assignment-setup"
    return cell


#: Otter Assign leaves ``...`` where a block of solution code was; inside a function or method the
#: student notebook raises NotImplementedError there instead, so that an unfinished notebook fails
#: only with that error (never with a confusing one from a function that returned None).
_BLOCK_STUB = re.compile(r"^(\s+)\.\.\.\s*$", re.M)
STUB_LINE = r"\1raise NotImplementedError  # replace this line with your code"


def _finish(path: Path, setup: nbformat.NotebookNode, submit: bool) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if SETUP_TAG not in c.metadata.get("tags", [])]
    if submit:
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.source = _BLOCK_STUB.sub(STUB_LINE, cell.source)
    nb.cells.insert(0, setup)
    if submit:
        markdown = nbformat.v4.new_markdown_cell(SUBMIT_MARKDOWN)
        code = nbformat.v4.new_code_cell(SUBMIT_CODE)
        for i, cell in enumerate((markdown, code)):
            cell.id = f"assignment-submit-{i}"
            cell.metadata = {"editable": False, "deletable": False}
        nb.cells += [markdown, code]
    nb.metadata.setdefault("otter", {})["assignment_name"] = path.stem
    nb.nbformat_minor = max(nb.nbformat_minor, 5)
    for i, cell in enumerate(nb.cells):
        cell.setdefault("id", hashlib.sha1(f"{path.stem}-{i}".encode()).hexdigest()[:8])
    nbformat.validate(nb)
    nbformat.write(nb, path)


def inputs_hash(name: str) -> str:
    """A hash of everything an assignment's build depends on: its source, this tooling, the
    ``adamedu`` package, the repository settings and the Otter version."""
    import otter

    digest = hashlib.sha256()
    tooling = [HERE / f for f in ("assignment_checks.py", "autograder_checks.py", "build.py", "catalog.py", "probes.py")]
    files = [SOURCES / f"{name}.md", *tooling, *sorted((ROOT / "adamedu").rglob("*.py"))]
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(repr((repository(), otter.__version__)).encode())
    return digest.hexdigest()


def generate(name: str, out: Path = DEFAULT_OUT, quiet: bool = True, force: bool = False) -> Path:
    """Build one assignment into ``out/<name>`` and return that folder. An earlier build from the
    same inputs (see :func:`inputs_hash`) is reused unless ``force``."""
    catalog.by_name(name)  # an unknown name fails here
    result = (Path(out) / name).resolve()
    stamp = result / ".inputs"
    key = inputs_hash(name)
    if not force and stamp.is_file() and stamp.read_text() == key and autograder_zip(result).is_file() \
            and student_notebook(result).is_file():
        return result
    if result.exists():
        shutil.rmtree(result)
    with tempfile.TemporaryDirectory(prefix=f"assign-{name}-") as tmp:
        tmp = Path(tmp)
        master = stage(name, tmp / "source")
        otter_out = tmp / "otter"
        cmd = [sys.executable, "-m", "otter", "assign", "--no-run-tests", str(master), str(otter_out)]
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run(cmd, cwd=master.parent, env=env, capture_output=True, text=True)
        if not quiet or proc.returncode != 0:
            sys.stdout.write(proc.stdout)
            sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            raise RuntimeError(f"otter assign failed for {name} (exit code {proc.returncode})")
        student_dir = otter_out / "student"
        files = {f"tests/{p.name}": p.read_bytes() for p in sorted((student_dir / "tests").glob("*.py"))}
        for support in OTTER_CONFIG["files"]:
            files[support] = (student_dir / support).read_bytes()
        setup = setup_cell(name, files)
        (result / "student").mkdir(parents=True)
        (result / "autograder").mkdir()
        shutil.copy(student_dir / f"{name}.ipynb", result / "student" / f"{name}.ipynb")
        _finish(result / "student" / f"{name}.ipynb", setup, submit=True)
        shutil.copy(otter_out / "autograder" / f"{name}.ipynb", result / "autograder" / f"{name}.ipynb")
        _finish(result / "autograder" / f"{name}.ipynb", setup, submit=False)
        (zip_path,) = (otter_out / "autograder").glob("*-autograder_*.zip")
        shutil.copy(zip_path, result / f"{name}-autograder.zip")
        shutil.copy(master.parent / "reference_values.json", result / "reference_values.json")
    stamp.write_text(key)
    return result


def autograder_zip(result: Path) -> Path:
    """The autograder zip in an assignment's output folder."""
    return Path(result) / f"{Path(result).name}-autograder.zip"


def student_notebook(result: Path) -> Path:
    return Path(result) / "student" / f"{Path(result).name}.ipynb"


def packed_files(notebook: Path) -> dict[str, bytes]:
    """The files a student notebook's set-up cell carries (for tests and for inspection)."""
    nb = json.loads(Path(notebook).read_text("utf-8"))
    cell = next(c for c in nb["cells"] if SETUP_TAG in c.get("metadata", {}).get("tags", []))
    source = "".join(cell["source"])
    packed = source.split('PACKED = "', 1)[1].split('"', 1)[0]
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(packed))) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="assignments to build (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    args = parser.parse_args(argv)
    names = args.names or catalog.names()
    unknown = sorted(set(names) - set(catalog.names()))
    if unknown:
        parser.error(f"unknown assignment(s): {', '.join(unknown)}; choose from {catalog.names()}")
    for name in names:
        result = generate(name, args.out, force=args.force)
        print(f"{name}:")
        print(f"   student notebook: {student_notebook(result)}")
        print(f"   solution:         {result / 'autograder' / (name + '.ipynb')}")
        print(f"   autograder zip:   {autograder_zip(result)}")
    return 0
