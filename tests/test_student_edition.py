"""The student edition hides every solution: tested on a one-page book built with the real config.

Building the whole book twice would take minutes, so a small book in a temporary folder uses the
project's ``_config.yml`` turned into the student configuration by ``tools/student_edition.py``;
its one page has a gated solution with a code cell and a plain ``{solution}`` block. A control
build with sphinx-exercise's ``hide_solutions`` alone shows what the extension is needed for.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("student_edition", ROOT / "tools" / "student_edition.py")
student_edition = importlib.util.module_from_spec(spec)
spec.loader.exec_module(student_edition)
sys.path.insert(0, str(ROOT / "_ext"))
import student_solutions  # noqa: E402

PAGE = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

(page-exercises)=
# Exercises only

Some text that every edition shows, with a computed value:

```{code-cell} ipython3
print("visible output 4417")
```

```{exercise}
:label: ex-one

Compute the sum of the first ten odd numbers.
```

```{solution-start} ex-one
:class: dropdown
```

The gated solution prose sentence nobody else writes.

```{code-cell} ipython3
gated_solution_total = sum(range(1, 20, 2))
print("gated solution output", gated_solution_total * 7919)
```

```{solution-end}
```

```{exercise}
:label: ex-two

State the answer of the second exercise.
```

```{solution} ex-two
:class: dropdown

The plain solution block sentence that must vanish.
```

Text after the exercises that stays in both editions.

```{assignment-rubrics} adam_from_scratch
```
"""

SECRETS = ("gated solution prose sentence", "gated_solution_total", str(100 * 7919),
           "plain solution block sentence",
           "callers hold references to the arrays")  # an assignment's rubric: the instructors' edition only
PUBLIC = ("Compute the sum of the first ten odd numbers", "State the answer of the second exercise",
          "visible output 4417", "Text after the exercises", "graded by hand are in the instructors")


def _book(tmp_path: Path) -> Path:
    book = tmp_path / "book"
    book.mkdir()
    (book / "page.md").write_text(PAGE, "utf-8")
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n", "utf-8")
    return book


def _build(book: Path, config: dict, out: Path) -> Path:
    config_file = out / "_config_test.yml"
    out.mkdir(parents=True)
    config_file.write_text(yaml.safe_dump(config), "utf-8")
    executable = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run([str(executable), "build", str(book), "--config", str(config_file),
                             "--path-output", str(out), "-W", "-n", "--keep-going"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "_build" / "html"


def _site_text(site: Path) -> str:
    return "\n".join(student_edition._page_text(p) for p in site.rglob("*") if p.suffix in (".html", ".ipynb"))


@pytest.fixture(scope="module")
def book_and_config(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("student")
    config = yaml.safe_load((ROOT / "_config.yml").read_text("utf-8"))
    return tmp, _book(tmp), config


def test_student_edition_has_no_solution_content(book_and_config):
    tmp, book, config = book_and_config
    site = _build(book, student_edition.student_config(config, ROOT), tmp / "student")
    text = _site_text(site)
    for secret in SECRETS:
        assert secret not in text, secret
    for public in PUBLIC:
        assert public in student_edition._page_text(site / "page.html"), public
    snippets = student_edition.solution_snippets(PAGE)
    assert any("gated_solution_total" in s for s in snippets)
    assert student_edition.find_leaks(site, snippets) == []
    # the downloadable notebook, when the site offers one, keeps the exercises and loses the solutions
    for notebook in site.glob("_sources/**/*.ipynb"):
        cells = "".join("".join(c["source"]) for c in json.loads(notebook.read_text("utf-8"))["cells"])
        assert "Compute the sum of the first ten odd numbers" in cells
        assert not any(secret in cells for secret in SECRETS)


def test_hide_solutions_alone_cannot_build_gated_solutions(book_and_config):
    """Without the extension, sphinx-exercise drops only the start marker of a gated solution; the
    HTML writer then meets the orphaned end marker and the build fails."""
    tmp, book, config = book_and_config
    config = dict(config, sphinx=dict(config.get("sphinx", {})))
    config["sphinx"]["config"] = dict(config["sphinx"].get("config", {}), hide_solutions=True)
    config["sphinx"]["local_extensions"] = {
        name: str((ROOT / path).resolve()) for name, path in (config["sphinx"].get("local_extensions") or {}).items()
    }
    with pytest.raises(AssertionError, match="solution_end_node"):
        _build(book, config, tmp / "control")


def test_strip_solutions_from_notebook():
    md = lambda text: {"cell_type": "markdown", "metadata": {}, "source": text}
    code = lambda text: {"cell_type": "code", "metadata": {}, "source": text, "outputs": [], "execution_count": None}
    notebook = {"cells": [
        md("Intro\n\n```{exercise}\n:label: e\n\nDo it.\n```\n\n```{solution-start} e\n:class: dropdown\n```\n\nSecret prose."),
        code("secret_code = 1"),
        md("```{solution-end}\n```\n\nAfter."),
        md("```{solution} e\nHidden block.\n```\nKept line."),
        code("public_code = 2"),
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    stripped = student_solutions.strip_solutions_from_notebook(notebook)
    sources = ["".join(c["source"]) for c in stripped["cells"]]
    joined = "\n".join(sources)
    assert "Do it." in joined and "After." in joined and "Kept line." in joined and "public_code" in joined
    assert "Secret prose" not in joined and "secret_code" not in joined and "Hidden block" not in joined
    assert "solution-start" not in joined and "solution-end" not in joined


def test_solution_snippets_skip_markup_and_keep_code():
    text = ("```{solution-start} e\n:class: dropdown\n```\n\nA plain sentence that is long enough to count here.\n"
            "A sentence with $math$ that is long enough to be skipped.\n\n"
            "```{code-cell} ipython3\nvalue_of_the_solution = 42  # comment\n```\n\n```{solution-end}\n```\n"
            "Outside the solution, a plain sentence that is long enough.\n")
    snippets = student_edition.solution_snippets(text)
    assert snippets == ["A plain sentence that is long enough to count here.",
                        "value_of_the_solution = 42 # comment"]


def test_student_config_derives_from_the_book_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text("utf-8"))
    student = student_edition.student_config(config, ROOT)
    assert student["sphinx"]["config"]["hide_solutions"] is True
    assert "student_solutions" in student["sphinx"]["local_extensions"]
    assert all(Path(p).is_absolute() and Path(p).is_dir() for p in student["sphinx"]["local_extensions"].values())
    # everything else is the book's configuration, unchanged
    for key in set(config) - {"title", "sphinx"}:
        assert student[key] == config[key]
    assert "hide_solutions" not in config.get("sphinx", {}).get("config", {})
