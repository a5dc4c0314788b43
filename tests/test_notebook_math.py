"""Every formula of every chapter typesets in a notebook front end, which knows none of the book's
configuration: the chapter's MyST source as JupyterLab opens it through jupytext, the ``.ipynb``
the site offers for download (with the outputs of the build), and the outputs of a fresh run.

Formulas are found as JupyterLab finds them and typeset by a standard MathJax 3 in Node.js (see
``notebook_math.py``); an unknown control sequence (a macro only the site defines), a missing
brace or an unknown environment is an error. Skipped, with the reason, where Node.js is missing.
"""

from __future__ import annotations

import pytest
import yaml
from chapter_notebooks import (  # noqa: F401 - executed_chapters is a fixture
    ROOT,
    chapters,
    download_notebook,
    executed_chapters,
    executed_download,
    source_notebook,
)

import notebook_math as nm

CHAPTERS = chapters()


def _markdown(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _fences(notebook: dict) -> list[str]:
    return [
        f"cell {index}: {fence}"
        for index, cell in enumerate(notebook["cells"], start=1)
        if cell["cell_type"] == "markdown"
        for fence in nm.directive_fences_with_math(_markdown(cell))
    ]


@pytest.fixture(scope="module")
def mathjax():
    reason = nm.why_not_available()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def source_errors(mathjax):
    """Per chapter, the TeX errors of its source opened as a notebook (one MathJax for all)."""
    return nm.tex_errors({d: nm.notebook_formulas(source_notebook(d)) for d in CHAPTERS})[1]


@pytest.fixture(scope="module")
def download_errors(mathjax):
    """Per chapter, the TeX errors of its downloadable notebook, outputs included."""
    return nm.tex_errors({d: nm.notebook_formulas(download_notebook(d)) for d in CHAPTERS})[1]


@pytest.mark.parametrize("docname", CHAPTERS)
def test_source_opened_as_a_notebook_typesets(docname, source_errors):
    assert source_errors[docname] == [], f"{docname} (source through jupytext):\n" + "\n".join(
        source_errors[docname]
    )


@pytest.mark.parametrize("docname", CHAPTERS)
def test_downloaded_notebook_typesets(docname, download_errors):
    assert download_errors[docname] == [], f"{docname} (downloaded .ipynb):\n" + "\n".join(
        download_errors[docname]
    )


@pytest.mark.parametrize("docname", CHAPTERS)
def test_outputs_of_a_fresh_run_typeset(docname, mathjax, executed_chapters):
    formulas = [f for f in nm.notebook_formulas(executed_download(docname)) if "output" in f.where]
    errors = nm.tex_errors({docname: formulas})[1][docname]
    assert errors == [], f"{docname} (outputs of a fresh run):\n" + "\n".join(errors)


@pytest.mark.parametrize("docname", CHAPTERS)
def test_no_formula_hides_in_a_directive_fence(docname):
    """A ```` ```{exercise} ```` fence is a code block in a notebook: its formulas would show as raw
    TeX. Directives whose text holds formulas use colon fences (``:::{exercise}``)."""
    for notebook in (source_notebook(docname), download_notebook(docname)):
        assert _fences(notebook) == [], docname


def test_the_site_defines_no_math_macros():
    """One source of truth for the notation: the chapters' TeX, which every front end reads."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text("utf-8"))
    sphinx = (config.get("sphinx") or {}).get("config") or {}
    for key in ("mathjax3_config", "mathjax_config"):
        assert "macros" not in ((sphinx.get(key) or {}).get("tex") or {}), key


# --- the check itself can fail --------------------------------------------------------------


def test_formulas_are_found_as_jupyterlab_finds_them():
    text = (
        "Cost `$5` and ``a $b$ c`` are code, \\$ is a dollar; $\\hat{m}_t$ and\n\n"
        "$$\n\\frac{a}{b}\n$$\n\n\\begin{align}x &= 1\\end{align}\n\n"
        "```python\nx = '$not$'\n```\n\nan unclosed $x\n\ny$ stays text."
    )
    found = nm.markdown_formulas(text, "t")
    assert [(f.tex, f.display) for f in found] == [
        ("\\hat{m}_t", False),
        ("\n\\frac{a}{b}\n", True),
        ("\\begin{align}x &= 1\\end{align}", True),
    ]


def test_directive_fences_with_formulas_are_found():
    text = "```{exercise}\nShow $x = 1$.\n```\n\n:::{exercise}\nShow $x$.\n:::\n\n```{note}\nno maths\n```\n"
    assert nm.directive_fences_with_math(text) == ["```{exercise}"]


def test_the_typesetter_rejects_what_a_front_end_cannot_show(mathjax):
    good = [nm.Formula("\\hat{m}_t/\\sqrt{\\hat{v}_t}", False, "a"),
            nm.Formula("\\mathbb{E}[g^2] = \\operatorname{SNR}", True, "b"),
            nm.Formula("\\begin{aligned} x &= 1 \\\\ y &= 2 \\end{aligned}", True, "c"),
            nm.Formula("\\boldsymbol{\\theta} \\cancel{x}", False, "d")]  # autoloaded packages
    bad = [nm.Formula("\\mhat_t", False, "e"), nm.Formula("\\frac{1}{", False, "f"),
           nm.Formula("\\begin{nosuchenv} x \\end{nosuchenv}", True, "g"),
           nm.Formula("\\E[g]", False, "h")]
    version, report = nm.tex_errors({"good": good, "bad": bad})
    assert version.startswith("3.")
    assert report["good"] == []
    assert len(report["bad"]) == 4
    assert "Undefined control sequence \\mhat" in report["bad"][0]
