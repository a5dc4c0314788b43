"""Sphinx extension for the student edition: every exercise solution is removed from the site.

sphinx-exercise's own ``hide_solutions = True`` removes ``{solution}`` directives, but with the
*gated* form (``{solution-start}`` ... ``{solution-end}``) it only drops the start marker: the
solution's text and code cells, which sit between the two markers, would stay on the page, and the
HTML writer fails on the orphaned end marker (sphinx-exercise 1.x). With this extension loaded and
``hide_solutions = True``:

* a gated solution is removed from the start marker to its end marker, content included, before
  sphinx-exercise merges gated directives;
* the downloadable notebooks (``_sources/**/*.ipynb``, written from the executed notebooks) lose
  the same cells and the ``{solution}`` blocks of their Markdown cells.

``tools/student_edition.py`` loads this extension, builds the site and then checks that no
solution text is left in it. Without ``hide_solutions`` the extension does nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform

from sphinx_exercise.directive import SolutionStartDirective
from sphinx_exercise.nodes import solution_end_node


class hidden_solution_start(nodes.Element):
    """Marks where a hidden gated solution begins; removed with everything up to its end marker."""


class StudentSolutionStart(SolutionStartDirective):
    def run(self):
        result = super().run()  # keeps sphinx-exercise's bookkeeping of gated directives
        if self.env.app.config.hide_solutions:
            return [hidden_solution_start()]
        return result


class RemoveHiddenSolutions(SphinxTransform):
    """Delete each hidden gated solution: its start marker, its content and its end marker."""

    default_priority = 5  # after sphinx-exercise checks the structure (1), before it merges (10)

    def apply(self, **kwargs) -> None:
        for marker in list(self.document.findall(hidden_solution_start)):
            parent = marker.parent
            start = parent.index(marker)
            for end in range(start + 1, len(parent.children)):
                if isinstance(parent.children[end], solution_end_node):
                    break
            else:
                raise ExtensionError(f"{self.env.docname}: solution-start without solution-end")
            for child in parent.children[start:end + 1]:
                parent.remove(child)


# --- the downloadable notebooks --------------------------------------------------------------

_GATED_START = re.compile(r"^(`{3,}|~{3,})\{solution-start\}", re.MULTILINE)
_GATED_END = re.compile(r"^(`{3,}|~{3,})\{solution-end\}[^\n]*\n(?:\1[ \t]*(?:\n|$))?", re.MULTILINE)
_SOLUTION_BLOCK = re.compile(r"^(`{3,}|~{3,})\{solution\}.*?^\1[ \t]*$\n?", re.MULTILINE | re.DOTALL)


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def strip_solutions_from_notebook(notebook: dict) -> dict:
    """A copy of ``notebook`` without gated solutions and ``{solution}`` blocks."""
    cells, hiding = [], False
    for cell in notebook.get("cells", []):
        text = _source(cell)
        if cell.get("cell_type") == "markdown":
            kept = ""
            while text:
                if hiding:
                    end = _GATED_END.search(text)
                    if end is None:
                        text = ""
                        break
                    text, hiding = text[end.end():], False
                else:
                    start = _GATED_START.search(text)
                    if start is None:
                        kept += text
                        break
                    kept += text[:start.start()]
                    text, hiding = text[start.start():], True
            kept = _SOLUTION_BLOCK.sub("", kept)
            if kept.strip():
                cells.append(dict(cell, source=kept))
        elif not hiding:
            cells.append(cell)
    return dict(notebook, cells=cells)


def _strip_downloads(app: Sphinx, exception) -> None:
    if exception is not None or not app.config.hide_solutions:
        return
    for path in Path(app.outdir).glob("_sources/**/*.ipynb"):
        notebook = json.loads(path.read_text("utf-8"))
        stripped = strip_solutions_from_notebook(notebook)
        if stripped != notebook:
            path.write_text(json.dumps(stripped, indent=1, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_exercise")
    app.add_node(hidden_solution_start)
    app.add_directive("solution-start", StudentSolutionStart, override=True)
    app.add_transform(RemoveHiddenSolutions)
    app.connect("build-finished", _strip_downloads, priority=900)  # after the notebooks are written
    return {"parallel_read_safe": True, "parallel_write_safe": True}
