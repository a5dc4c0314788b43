"""The book's chapters as notebooks: which they are, their downloadable ``.ipynb``, and runs of it.

Shared by ``test_notebooks.py`` (each downloadable notebook runs top to bottom in a fresh kernel)
and ``test_reproducible_build.py`` (a second execution gives the build's text outputs exactly).
Each notebook is executed at most once per test session: both tests use the same run.
"""

from __future__ import annotations

import functools
import importlib.util
import multiprocessing
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
#: The built site, as in the browser tests (``ADAMEDU_SITE`` overrides ``_build/html``).
SITE = Path(os.environ.get("ADAMEDU_SITE", ROOT / "_build" / "html")).resolve()
#: Output types that are not text, or that hold per-run identifiers (a widget's model id).
NON_TEXT_MIME = ("image/", "application/vnd.jupyter.widget-view+json", "application/pdf")


@functools.lru_cache(maxsize=1)
def _site_extension():
    """The book's Sphinx extension module (it adds the set-up cell to the downloads)."""
    spec = importlib.util.spec_from_file_location("adamedu_site", ROOT / "_ext" / "adamedu_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _toc_files(entry) -> list[str]:
    found = []
    if isinstance(entry, dict):
        for key in ("root", "file"):
            if isinstance(entry.get(key), str):
                found.append(entry[key])
        for key in ("parts", "chapters", "sections"):
            for child in entry.get(key) or []:
                found.extend(_toc_files(child))
    return found


def chapters() -> list[str]:
    """Docnames (e.g. ``chapters/notation``) of the pages in ``_toc.yml`` that are notebooks."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text("utf-8"))
    names = []
    for docname in _toc_files(toc):
        docname = docname.removesuffix(".md").removesuffix(".ipynb")
        source = ROOT / f"{docname}.md"
        if source.is_file() and "kernelspec:" in source.read_text("utf-8").split("\n---", 1)[0]:
            names.append(docname)
    return names


def source_notebook(docname: str) -> dict:
    """The chapter's MyST source read as a notebook (no outputs)."""
    import jupytext

    notebook = jupytext.read(ROOT / f"{docname}.md")
    return json.loads(jupytext.writes(notebook, fmt="ipynb"))


def code_sources(notebook: dict) -> list[str]:
    ext = _site_extension()
    return [
        "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        and ext.SETUP_CELL_TAG not in cell.get("metadata", {}).get("tags", [])
    ]


def built_notebook(docname: str) -> dict | None:
    """The notebook the built site offers for download, if built from the current source."""
    path = SITE / "_sources" / f"{docname}.ipynb"
    if not path.is_file():
        return None
    notebook = json.loads(path.read_text("utf-8"))
    if code_sources(notebook) != code_sources(source_notebook(docname)):
        return None  # the site was built from another version of the chapter
    return notebook


def download_notebook(docname: str) -> dict:
    """What a reader downloads: the built site's ``.ipynb``, or the same made from the source."""
    notebook = built_notebook(docname)
    if notebook is None:
        ext = _site_extension()
        notebook = ext.notebook_with_setup_cell(source_notebook(docname), "adamedu")
    return notebook


def execute(notebook: dict, docname: str) -> dict:
    """Run ``notebook`` top to bottom in a fresh kernel, in the chapter's folder, as the build does."""
    import nbformat
    from nbclient import NotebookClient

    node = nbformat.reads(json.dumps(notebook), as_version=4)  # also joins multi-line sources
    for cell in node.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = NotebookClient(
        node,
        timeout=300,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str((ROOT / docname).parent)}},
    )
    client.execute()
    return json.loads(nbformat.writes(node))


def _run_download(docname: str) -> tuple[str | None, str | None]:
    """Worker: (executed notebook as JSON, None) or (None, the error's text)."""
    try:
        return json.dumps(execute(download_notebook(docname), docname)), None
    except Exception as exc:  # reported by the test that asks for this chapter
        return None, f"{type(exc).__name__}: {exc}"


_RUNS: dict[str, tuple[str | None, str | None]] = {}


def run_downloads(docnames) -> None:
    """Execute these chapters' downloadable notebooks, two at a time (one kernel per core)."""
    todo = sorted(set(docnames) - set(_RUNS))
    if len(todo) <= 1:
        _RUNS.update({d: _run_download(d) for d in todo})
        return
    workers = max(1, min(2, os.cpu_count() or 1, len(todo)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for docname, result in zip(todo, pool.map(_run_download, todo)):
            _RUNS[docname] = result


def executed_download(docname: str) -> dict:
    """The downloadable notebook after a run in a fresh kernel (run once per session)."""
    run_downloads([docname])
    text, error = _RUNS[docname]
    if error is not None:
        raise AssertionError(f"{docname} failed in a fresh kernel:\n{error}")
    return json.loads(text)


@pytest.fixture(scope="session")
def executed_chapters(request):
    """Runs, up front and in parallel, the chapters that the selected tests will ask for."""
    wanted = {
        item.callspec.params["docname"]
        for item in request.session.items
        if "executed_chapters" in getattr(item, "fixturenames", ())
        and "docname" in getattr(getattr(item, "callspec", None), "params", {})
    }
    run_downloads(wanted)


def text_outputs(notebook: dict) -> list[list[tuple]]:
    """Per code cell (the set-up cell excluded), its outputs reduced to their text."""
    ext = _site_extension()
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        if ext.SETUP_CELL_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        texts = []
        for output in cell.get("outputs", []):
            kind = output["output_type"]
            if kind == "stream":
                # Consecutive writes to one stream are one text (the build merges them).
                if texts and texts[-1][:2] == (kind, output["name"]):
                    texts[-1] = (kind, output["name"], texts[-1][2] + _text(output["text"]))
                else:
                    texts.append((kind, output["name"], _text(output["text"])))
            elif kind == "error":
                texts.append((kind, output["ename"], output["evalue"]))
            else:
                for mime, value in sorted(output.get("data", {}).items()):
                    if not mime.startswith(NON_TEXT_MIME):
                        texts.append((kind, mime, _text(value)))
        cells.append(texts)
    return cells


def _text(value) -> str:
    if isinstance(value, list):
        return "".join(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)
