"""The written answers of submitted notebooks as PDF files, offline, with the system's Chromium.

Usage (from the repository root, in the book's environment)::

    python chapters/assignments/written_answers.py submissions/*.ipynb -o pdfs/

For each notebook (or export zip) this writes ``pdfs/<student>.pdf`` with the notebook's title and
the questions graded by hand (their prompts and the student's answers, the cells between Otter's
``<!-- BEGIN QUESTION -->`` and ``<!-- END QUESTION -->`` markers), ready for a separate
"written answers" assignment on Gradescope or for grading on screen. The HTML is made by nbconvert
and printed by headless Chromium; the formulas are typeset by the MathJax copy that the book's
site also uses (``sphinx-mathjax-offline``), so nothing is fetched from the network and no TeX is
needed. Chromium is looked up as ``$ADAMEDU_CHROMIUM``, then ``chromium``, ``chromium-browser``,
``google-chrome`` on the ``PATH``.
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat

from . import grade_class

__all__ = ["written_part", "to_html", "to_pdf", "chromium", "main"]

BEGIN, END = "<!-- BEGIN QUESTION -->", "<!-- END QUESTION -->"


def chromium() -> str | None:
    """The Chromium (or Chrome) executable to print with, if there is one."""
    if os.environ.get("ADAMEDU_CHROMIUM"):
        return os.environ["ADAMEDU_CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def written_part(nb: nbformat.NotebookNode, student: str = "") -> nbformat.NotebookNode:
    """A notebook with the title cell and the hand-graded questions only (outputs kept)."""
    keep, inside = [], False
    for cell in nb.cells:
        text = cell.source
        if BEGIN in text:
            inside = True
        if not keep and not inside and cell.cell_type == "markdown" and text.lstrip().startswith("# "):
            keep.append(nbformat.v4.new_markdown_cell(text.lstrip().splitlines()[0]))  # the title only
        elif inside:
            cell = nbformat.from_dict(dict(cell))
            if cell.cell_type == "markdown":
                cell.source = text.replace(BEGIN, "").replace(END, "").strip()
            keep.append(cell)
        if END in text:
            inside = False
    if student:
        keep.insert(1 if keep else 0, nbformat.v4.new_markdown_cell(f"**Student:** {html.escape(student)}"))
    out = nbformat.v4.new_notebook(cells=[c for c in keep if c.source.strip()], metadata=nb.metadata)
    return out


def _mathjax_url() -> str | None:
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    entry = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "tex-chtml.js"
    return entry.as_uri() if entry.is_file() else None


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: "DejaVu Serif", Georgia, serif; max-width: 46em; margin: 2em auto; line-height: 1.45; }}
pre {{ background: #f4f4f4; padding: 0.6em; white-space: pre-wrap; font-size: 0.85em; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #999; padding: 0.2em 0.5em; }}
.cell {{ margin-bottom: 1em; }}
</style>
<script>window.MathJax = {{tex: {{inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]],
  displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]], processEscapes: true}}}};</script>
{mathjax}
</head><body>
{cells}
</body></html>
"""


def to_html(nb: nbformat.NotebookNode) -> str:
    """A plain HTML page of the cells: Markdown rendered (formulas left to MathJax), code and its
    text output as preformatted blocks. It loads nothing but the local MathJax."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    cells, title = [], "Written answers"
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            if title == "Written answers" and cell.source.lstrip().startswith("# "):
                title = cell.source.lstrip()[2:].splitlines()[0]
            rendered = re.sub(r'<a class="anchor-link"[^>]*>.*?</a>', "", markdown2html_mistune(cell.source))
            cells.append(f'<div class="cell">{rendered}</div>')
        elif cell.cell_type == "code":
            text = [f"<pre>{html.escape(cell.source)}</pre>"]
            for output in cell.get("outputs", []):
                shown = output.get("text") or output.get("data", {}).get("text/plain", "")
                if shown:
                    text.append(f"<pre>{html.escape(''.join(shown) if isinstance(shown, list) else shown)}</pre>")
            cells.append('<div class="cell">' + "".join(text) + "</div>")
    mathjax = _mathjax_url()
    script = f'<script id="MathJax-script" src="{mathjax}"></script>' if mathjax else ""
    return PAGE.format(title=html.escape(title), mathjax=script, cells="\n".join(cells))


def to_pdf(page: str, target: Path, browser: str | None = None, timeout: float = 60) -> Path:
    """Print an HTML page to ``target`` with headless Chromium (after its scripts have run)."""
    browser = browser or chromium()
    if browser is None:
        raise RuntimeError("no Chromium found: install chromium, or set ADAMEDU_CHROMIUM to a Chromium or Chrome")
    target = Path(target).resolve()
    with tempfile.TemporaryDirectory(prefix="written-") as tmp:
        source = Path(tmp) / "page.html"
        source.write_text(page, "utf-8")
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               f"--user-data-dir={Path(tmp) / 'profile'}", "--allow-file-access-from-files",
               "--run-all-compositor-stages-before-draw", "--virtual-time-budget=15000",
               "--no-pdf-header-footer", f"--print-to-pdf={target}", source.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if not target.is_file() or target.stat().st_size == 0:
        raise RuntimeError(f"Chromium did not write {target}: {proc.stderr[-500:]}")
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", nargs="+", type=Path, help="notebooks or export zips")
    parser.add_argument("-o", "--out", type=Path, required=True, help="folder for the PDF files")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in args.submissions:
        student = path.stem
        try:
            nb = grade_class._read_notebook(path)
            pdf = to_pdf(to_html(written_part(nb, student)), args.out / f"{student}.pdf")
            print(f"{student}: {pdf}")
        except (ValueError, RuntimeError, OSError) as exc:
            failed += 1
            print(f"{student}: not converted ({exc})")
    return 1 if failed else 0
