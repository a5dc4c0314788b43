"""Each chapter's downloadable notebook runs top to bottom in a fresh kernel.

The notebook is the one the site offers (``_sources/<chapter>.ipynb`` of the built site, whose
first cell installs adamedu on Colab, does nothing where adamedu is installed, and elsewhere stops
with one sentence on how to install it), or, when the site is not built from the current sources,
the same notebook made from the chapter's MyST source.
"""

from __future__ import annotations

import re

import pytest
from chapter_notebooks import (  # noqa: F401 - executed_chapters is a fixture
    _site_extension,
    built_notebook,
    chapters,
    download_notebook,
    executed_chapters,
    executed_download,
)

CHAPTERS = chapters()


def test_the_book_has_notebook_chapters():
    assert CHAPTERS, "no chapter in _toc.yml is a notebook"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_download_starts_with_the_setup_cell(docname):
    first = download_notebook(docname)["cells"][0]
    ext = _site_extension()
    assert first["cell_type"] == "code"
    assert ext.SETUP_CELL_TAG in first["metadata"]["tags"]
    source = first["source"] if isinstance(first["source"], str) else "".join(first["source"])
    assert source.startswith(ext.SETUP_CELL_SOURCE.split("{requirement}")[0])


REQUIREMENT = "adamedu @ git+https://example.org/course/adamedu@main"


def _run_setup_cell(monkeypatch, *, installed: bool, colab: bool) -> list:
    """Run the set-up cell as a kernel would, with or without adamedu, on Colab or not."""
    import importlib.util
    import subprocess
    import sys
    import types

    ext = _site_extension()
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: (real_find_spec(name, *a) if installed or name != "adamedu" else None),
    )
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    calls: list = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append((a, k)))
    source = ext.SETUP_CELL_SOURCE.replace("{requirement}", REQUIREMENT)
    exec(compile(source, "setup-cell", "exec"), {})
    return calls


def test_setup_cell_without_adamedu_says_in_one_sentence_how_to_install_it(monkeypatch):
    with pytest.raises(ModuleNotFoundError) as raised:
        _run_setup_cell(monkeypatch, installed=False, colab=False)
    message = str(raised.value)
    assert f'%pip install "{REQUIREMENT}"' in message
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence
    assert "restart the kernel" in message


def test_setup_cell_installs_adamedu_on_colab(monkeypatch):
    calls = _run_setup_cell(monkeypatch, installed=False, colab=True)
    assert len(calls) == 1
    command = calls[0][0][0]
    assert command[1:] == ["-m", "pip", "install", "--quiet", REQUIREMENT]


@pytest.mark.parametrize("colab", [False, True])
def test_setup_cell_does_nothing_where_adamedu_is_installed(monkeypatch, colab):
    assert _run_setup_cell(monkeypatch, installed=True, colab=colab) == []


@pytest.mark.parametrize("docname", CHAPTERS)
def test_notebook_runs_top_to_bottom_in_a_fresh_kernel(docname, executed_chapters):
    notebook = executed_download(docname)  # fails with the first failing cell's error
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code, f"{docname} has no code cell"
    assert [cell["execution_count"] for cell in code] == list(range(1, len(code) + 1))
    errors = [o for cell in code for o in cell["outputs"] if o["output_type"] == "error"]
    assert errors == []


def test_markdown_of_a_download_has_no_site_only_myst():
    """A target line or a cross-reference role would show as raw text in JupyterLab or Colab."""
    ext = _site_extension()
    text = ("(chap-x)=\n# Title\n\nSee {ref}`chap-noise`, {ref}`the noise chapter <chap-noise>`, "
            "{numref}`Figure <fig-a>`, {numref}`fig-b` and {math}`\\alpha`.\n(sec-y)=\n")
    titles = {"chap-noise": "Noisy gradients", "fig-b": "A caption with |\\Delta_t| in TeX"}
    assert ext.readable_markdown(text, titles) == (
        "# Title\n\nSee *Noisy gradients*, the noise chapter, Figure, the figure and $\\alpha$.\n")
    directives = (":::{exercise} Twice as fast\n:label: ex-a\n\nShow $x = 1$.\n:::\n\n"
                  "```{solution-start} ex-a\n:class: dropdown\n```\n\n"
                  "::::{admonition} Verdict\n:class: dropdown\n\n:::{glue:figure} fig\n:alt: A.\n\nCaption.\n:::\n::::\n")
    assert ext.readable_markdown(directives, {}) == (
        "**Exercise: Twice as fast**\n\nShow $x = 1$.\n\n**Solution**\n\n**Verdict**\n\nCaption.\n")
    built = [built_notebook(d) for d in chapters()]
    if not any(built):
        pytest.skip("the site is not built from these sources: only the conversion was checked")
    for docname, notebook in zip(chapters(), built):
        if notebook is None:
            continue
        markdown = "\n".join(
            c["source"] if isinstance(c["source"], str) else "".join(c["source"])
            for c in notebook["cells"] if c["cell_type"] == "markdown")
        assert not re.search(r"^\([\w.:-]+\)=\s*$|\{(ref|numref|doc|math)\}`|^(:::|```)\{", markdown, re.M), docname
