"""Two executions of every chapter give identical text outputs.

The first execution is the build's own (the outputs in the site's downloadable notebook) when the
site is built from the current sources, otherwise a run in a fresh kernel; the second is the run
of ``test_notebooks.py`` (shared, so each notebook runs once more, not twice). Text means streams,
errors and every ``text/*`` or JSON result (images and widget model ids excluded): a printed
number, a table or a figure's HTML that changes between two runs is an unseeded or
order-dependent computation.
"""

from __future__ import annotations

import pytest
from chapter_notebooks import (  # noqa: F401 - executed_chapters is a fixture
    built_notebook,
    chapters,
    download_notebook,
    execute,
    executed_chapters,
    executed_download,
    text_outputs,
)


@pytest.mark.parametrize("docname", chapters())
def test_two_executions_give_identical_text_outputs(docname, executed_chapters):
    first = built_notebook(docname)
    where = "the build"
    if first is None:
        first = execute(download_notebook(docname), docname)
        where = "a first run"
    second = executed_download(docname)
    a, b = text_outputs(first), text_outputs(second)
    assert len(a) == len(b), f"{docname}: the two runs have different code cells (edited in between?)"
    for index, (out_a, out_b) in enumerate(zip(a, b)):
        assert out_a == out_b, (
            f"{docname}: code cell {index + 1} printed different text in {where} and in a second "
            "run (unseeded randomness? a stale execution cache: rebuild?)"
        )
