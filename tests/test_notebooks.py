"""Each chapter's downloadable notebook runs top to bottom in a fresh kernel.

The notebook is the one the site offers (``_sources/<chapter>.ipynb`` of the built site, whose
first cell installs adamedu on Colab and does nothing elsewhere), or, when the site is not built
from the current sources, the same notebook made from the chapter's MyST source.
"""

from __future__ import annotations

import pytest
from chapter_notebooks import (  # noqa: F401 - executed_chapters is a fixture
    _site_extension,
    chapters,
    download_notebook,
    executed_chapters,
    executed_download,
)

CHAPTERS = chapters()


def test_the_book_has_notebook_chapters():
    assert CHAPTERS, "no chapter in _toc.yml is a notebook"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_download_starts_with_the_colab_setup_cell(docname):
    first = download_notebook(docname)["cells"][0]
    ext = _site_extension()
    assert first["cell_type"] == "code"
    assert ext.SETUP_CELL_TAG in first["metadata"]["tags"]
    source = first["source"] if isinstance(first["source"], str) else "".join(first["source"])
    assert '"google.colab" in sys.modules' in source  # harmless anywhere but Colab


@pytest.mark.parametrize("docname", CHAPTERS)
def test_notebook_runs_top_to_bottom_in_a_fresh_kernel(docname, executed_chapters):
    notebook = executed_download(docname)  # fails with the first failing cell's error
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code, f"{docname} has no code cell"
    assert [cell["execution_count"] for cell in code] == list(range(1, len(code) + 1))
    errors = [o for cell in code for o in cell["outputs"] if o["output_type"] == "error"]
    assert errors == []
