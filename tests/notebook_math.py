"""The mathematics of a notebook as a notebook front end finds and typesets it.

JupyterLab, Notebook 7 and Colab typeset the TeX in Markdown cells (and in ``text/latex`` and
``text/markdown`` outputs) with MathJax and with none of the book's configuration. This module
finds the formulas the way JupyterLab does (before the Markdown is rendered: code spans and fenced
code are left alone, ``$...$``, ``$$...$$`` and ``\\begin{env}...\\end{env}`` are formulas, a blank
line ends an unclosed one) and typesets them with a standard MathJax 3 in Node.js
(``typeset_tex.js``), using the MathJax the site itself serves (the ``sphinx-mathjax-offline``
wheel), so no network is needed.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: The tokens that start, end or matter inside a formula (JupyterLab's split of the text):
#: dollar delimiters, environments, escaped braces or dollars, braces, runs of line breaks, and
#: the escaped-bracket delimiters \\( \\) \\[ \\].
_SPLIT = re.compile(
    r"(\$\$?|\\(?:begin|end)\{[a-z]*\*?\}|\\[{}$]|[{}]|(?:\n\s*)+|\\\\(?:\(|\)|\[|\]))", re.I
)
#: A fenced code block (backticks or tildes, three or more) with its info string and body.
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=fence)[`~]*[ \t]*$", re.M | re.S)
#: An inline code span on one line (JupyterLab's rule, so ``$`` inside code is never maths).
_CODE_SPAN = re.compile(r"(^|[^\\])(`+)([^\n]*?[^`\n])\2(?!`)", re.M)
#: Placeholder for a dollar sign that sits in code.
_MASKED_DOLLAR = "\x00"


@dataclass(frozen=True)
class Formula:
    """One formula as the front end typesets it: its TeX, display or inline, and where it is."""

    tex: str
    display: bool
    where: str

    def as_json(self) -> dict:
        return {"tex": self.tex, "display": self.display}


def _mask_code(text: str) -> str:
    """``text`` with every ``$`` inside fenced code or a code span replaced by a placeholder."""
    text = _FENCE.sub(lambda m: m.group(0).replace("$", _MASKED_DOLLAR), text)
    return _CODE_SPAN.sub(lambda m: m.group(0).replace("$", _MASKED_DOLLAR), text)


def math_spans(text: str) -> list[str]:
    """The formulas of a Markdown text, with their delimiters, in order (JupyterLab's rules)."""
    blocks = _SPLIT.split(_mask_code(text.replace("\r\n", "\n").replace("\r", "\n")))
    found: list[str] = []
    start = end = last = None
    braces = 0
    i = 1
    while i < len(blocks):
        block = blocks[i]
        if start is not None:
            if block == end:
                if braces:
                    last = i
                else:
                    found.append("".join(blocks[start : i + 1]))
                    start = end = last = None
            elif re.search(r"\n.*\n", block):  # a blank line: the formula was never closed
                if last is not None:
                    found.append("".join(blocks[start : last + 1]))
                    i = last
                start = end = last = None
                braces = 0
            elif block == "{":
                braces += 1
            elif block == "}" and braces:
                braces -= 1
        elif block in ("$", "$$"):
            start, end, braces = i, block, 0
        elif block in ("\\\\(", "\\\\["):
            start, end, braces = i, "\\\\)" if block.endswith("(") else "\\\\]", 0
        elif block[1:6] == "begin":
            start, end, braces = i, "\\end" + block[6:], 0
        i += 2
    if start is not None and last is not None:
        found.append("".join(blocks[start : last + 1]))
    return [span.replace(_MASKED_DOLLAR, "$") for span in found]


def formula(span: str, where: str) -> Formula:
    """The TeX MathJax receives for one delimited span, and whether it is displayed."""
    for left, right, display in (("$$", "$$", True), ("\\\\[", "\\\\]", True), ("\\\\(", "\\\\)", False), ("$", "$", False)):
        if span.startswith(left) and span.endswith(right) and len(span) >= len(left) + len(right):
            return Formula(span[len(left) : len(span) - len(right)], display, where)
    return Formula(span, True, where)  # \begin{env}...\end{env}: the environment itself


def markdown_formulas(text: str, where: str) -> list[Formula]:
    return [formula(span, where) for span in math_spans(text)]


def directive_fences_with_math(text: str) -> list[str]:
    """MyST directive fences (```` ```{name} ````) whose body holds a formula.

    A notebook front end shows such a fence as a code block: the formulas in it are printed as
    raw TeX, never typeset. A colon fence (``:::{name}``) is plain Markdown there.
    """
    found = []
    for match in _FENCE.finditer(text):
        info = match.group("info").strip()
        if info.startswith("{") and math_spans(match.group("body")):
            found.append(f"{match.group('fence')}{info}")
    return found


def _source(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def notebook_formulas(notebook: dict, outputs: bool = True) -> list[Formula]:
    """Every formula of a notebook: its Markdown cells and, if asked, its text/latex and
    text/markdown outputs (the only outputs a front end typesets as TeX)."""
    found: list[Formula] = []
    for index, cell in enumerate(notebook.get("cells", []), start=1):
        if cell.get("cell_type") == "markdown":
            found += markdown_formulas(_source(cell.get("source", "")), f"cell {index} (Markdown)")
        elif cell.get("cell_type") == "code" and outputs:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                for mime in ("text/latex", "text/markdown"):
                    if mime in data:
                        found += markdown_formulas(_source(data[mime]), f"cell {index} ({mime} output)")
    return found


def mathjax_dir() -> Path | None:
    """The MathJax 3 distribution the site serves (from the sphinx-mathjax-offline wheel)."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    return folder if (folder / "node-main.js").is_file() else None


def why_not_available() -> str | None:
    """Why formulas cannot be typeset here (no Node.js, no MathJax), or None."""
    if shutil.which("node") is None:
        return "Node.js is not installed (apt-get install nodejs): the TeX check needs it"
    if mathjax_dir() is None:
        return "MathJax 3 (the sphinx-mathjax-offline package) is not installed"
    return None


def tex_errors(groups: dict[str, list[Formula]]) -> tuple[str, dict[str, list[str]]]:
    """Typeset every group of formulas (one group per notebook) in one Node.js process.

    Returns MathJax's version and, per group, a readable line for each formula MathJax rejects.
    """
    names = list(groups)
    payload = json.dumps([[f.as_json() for f in groups[name]] for name in names])
    result = subprocess.run(
        ["node", str(HERE / "typeset_tex.js"), str(mathjax_dir())],
        input=payload, capture_output=True, text=True, timeout=600, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"typeset_tex.js failed:\n{result.stderr[-3000:]}")
    answer = json.loads(result.stdout)
    report = {}
    for name, errors in zip(names, answer["errors"]):
        report[name] = [
            f"{f.where}: {error}: {'$$' if f.display else '$'}{f.tex.strip()[:160]}"
            for f, error in zip(groups[name], errors)
            if error is not None
        ]
    return answer["version"], report
