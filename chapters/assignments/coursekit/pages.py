"""The assignment pages of the book: Sphinx directives and the student downloads.

The pages are plain MyST Markdown (no notebook behind them: nothing to download that could not run);
what they show is generated when the book is built, from the built assignments:

* ``{assignment-summary} NAME``: objectives, time, points per question, prerequisites, what to
  install, and the links to the student notebook (download, Colab, Binder);
* ``{assignment-outline} NAME``: the student notebook as students see it (prompts and stubs);
* ``{assignment-rubrics} NAME``: the rubric of every question graded by hand (left out of the
  student edition, which sets ``hide_solutions``);
* ``{assignment-feedback} NAME FUNCTION``: what a check prints for a planted mistake (the content
  lists the edits, one ``old => new`` per line);
* ``{assignment-overview}``: one row per assignment, for the index, the guide and the plan.

Each assignment page's download button and Colab/Binder buttons point at the student notebook,
which the build writes to ``_sources/chapters/assignments/<name>.ipynb`` of the site.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from . import assignment_checks, build, catalog

LOGGER = logging.getLogger(__name__)
PAGES_DIR = "chapters/assignments"
BUILT = build.ROOT / "_build" / "assignments"


# --- Reading the sources and the built notebooks -----------------------------------------------------

def questions(name: str) -> list[dict]:
    """``[{"name", "points", "manual", "title"}]`` for the questions of an assignment's source."""
    found = []
    for cell in build.source_notebook(name).cells:
        if cell.cell_type == "raw" and cell.source.lstrip().startswith("# BEGIN QUESTION"):
            config = yaml.safe_load(cell.source) or {}
            found.append(dict(name=config["name"], points=config.get("points", 1),
                              manual=bool(config.get("manual", False))))
    return found


def rubrics(name: str) -> list[tuple[dict, str, str]]:
    """``(question, prompt, rubric table)`` for every question graded by hand."""
    found, current, prompt = [], None, ""
    for cell in build.source_notebook(name).cells:
        text = cell.source
        if cell.cell_type == "raw" and text.lstrip().startswith("# BEGIN QUESTION"):
            config = yaml.safe_load(text) or {}
            current = config if config.get("manual") else None
            prompt = ""
        elif current is not None and cell.cell_type == "markdown" and not prompt:
            prompt = text
        elif current is not None and cell.cell_type == "markdown" and "**RUBRIC:**" in text:
            found.append((current, prompt, text.split("**RUBRIC:**", 1)[1].strip()))
            current = None
    return found


def built(name: str) -> Path:
    """The built assignment (cached between builds; see :func:`coursekit.build.generate`)."""
    return build.generate(name, BUILT)


def student_outline(name: str) -> str:
    """MyST Markdown of the student notebook as students see it (without the set-up cell's payload)."""
    nb = json.loads(build.student_notebook(built(name)).read_text("utf-8"))
    parts = []
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if build.SETUP_TAG in cell.get("metadata", {}).get("tags", []):
            parts.append("*The first cell sets the notebook up: it writes the public tests next to the notebook, "
                         "installs what is missing on Colab and starts the grader.*")
            continue
        if cell["cell_type"] == "markdown":
            source = re.sub(r"<!--.*?-->", "", source, flags=re.S).strip()
            lines = source.splitlines()
            if not parts and lines and lines[0].startswith("# "):
                lines = lines[1:]  # the notebook's title: the page has its own
            lines = [f"**{ln.lstrip('#').strip()}**" if ln.startswith("#") else ln for ln in lines]
            text = "\n".join(lines).strip()
            if text == "---":
                continue
            parts.append(text)
        elif cell["cell_type"] == "code" and source.strip():
            parts.append("```python\n" + source.rstrip() + "\n```")
    return "\n\n".join(p for p in parts if p) + "\n"


def example_feedback(name: str, function: str, edits: list[tuple[str, str]]) -> str:
    """What the public check of ``function`` prints for the solution with ``edits`` applied.

    The solution notebook's code cells (without the set-up and check cells) are run in a fresh
    namespace with the edits made, and the function is checked against the stored values.
    """
    result = built(name)
    nb = json.loads((result / "autograder" / f"{name}.ipynb").read_text("utf-8"))
    namespace: dict = {"__name__": f"example_{name}"}
    for old, new in edits:
        if not any(old in "".join(c["source"]) for c in nb["cells"]):
            raise ValueError(f"{old!r} is not in the solution of {name}")
    data = result / "expected_values.json"
    _write_expected(name, data)
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or build.SETUP_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if "grader." in source:
            continue
        for old, new in edits:
            source = source.replace(old, new)
        exec(compile(source, f"<{name}>", "exec"), namespace)  # noqa: S102 - the book's own solution
        if function in namespace and callable(namespace[function]):
            break
    finding = assignment_checks.diagnose(function, namespace[function], data)
    if finding is None:
        raise ValueError(f"the edits {edits} leave {function} right")
    return str(finding)


def _write_expected(name: str, path: Path) -> None:
    """The stored values of a built assignment, read back from its student notebook's payload."""
    if not path.is_file():
        packed = build.packed_files(build.student_notebook(built(name)))
        path.write_bytes(packed["expected_values.json"])


# --- Directives -------------------------------------------------------------------------------------

def _links(app, name: str) -> dict:
    """URLs of the student notebook: site-relative download, Colab, Binder."""
    repo_url, branch = build.repository()
    org_repo = repo_url.removeprefix("https://github.com/")
    pages_branch = getattr(app.config, "adamedu_pages_branch", "gh-pages")
    notebook = f"{PAGES_DIR}/{name}.ipynb"
    launch = (app.config.html_theme_options or {}).get("launch_buttons", {})
    colab = str(launch.get("colab_url", "https://colab.research.google.com")).rstrip("/")
    binder = str(launch.get("binderhub_url", "https://mybinder.org")).rstrip("/")
    return {
        "download": f"_sources/{notebook}",
        "colab": f"{colab}/github/{org_repo}/blob/{pages_branch}/_sources/{notebook}",
        "binder": f"{binder}/v2/gh/{org_repo}/{branch}?urlpath=lab/tree/_build/assignments/{name}/student/{name}.ipynb",
    }


def _inputs(name: str | None) -> list[Path]:
    """The files a page generated from assignment ``name`` (or from all, for ``None``) depends on."""
    names = catalog.names() if name is None else [name]
    tooling = sorted(Path(__file__).parent.glob("*.py"))
    package = sorted((build.ROOT / "adamedu").glob("*.py"))
    return [build.SOURCES / f"{n}.md" for n in names] + tooling + package


class _Markdown(SphinxDirective):
    """A directive that renders generated MyST Markdown."""

    def depend_on(self, name: str | None) -> None:
        """Reread the page when the sources or the tooling change, not only its own text."""
        for path in _inputs(name):
            self.env.note_dependency(str(path))

    def render(self, text: str) -> list[nodes.Node]:
        container = nodes.container()
        self.state.nested_parse(StringList(text.splitlines(), source=self.env.docname), self.content_offset, container)
        return container.children


class AssignmentSummary(_Markdown):
    required_arguments = 1

    def run(self):
        name = self.arguments[0]
        self.depend_on(name)
        info = catalog.by_name(name)
        qs = questions(name)
        auto = sum(q["points"] for q in qs if not q["manual"])
        manual = sum(q["points"] for q in qs if q["manual"])
        total = auto + manual
        prerequisites = ", ".join(f"{{ref}}`{label}`" for label in info.prerequisites)
        requirements = " ".join(f"`{r}`" for r in build.student_requirements(name))
        rows = "\n".join(f"| {q['name']} | {q['points']:g} | {'by hand (rubric below)' if q['manual'] else 'autograded'} |"
                         for q in qs)
        objectives = "\n".join(f"- {o}" for o in info.objectives)
        depth = "../" * self.env.docname.count("/")
        links = _links(self.env.app, name)
        text = f"""\
- **Time:** about {info.hours:g} hours for a student who has read the chapters below (the
  complete notebook runs in about {_seconds(info.compute_seconds)}).
- **Points:** {total:g} in {len(qs)} questions: {auto:g} autograded{f', {manual:g} graded by hand' if manual else ''}.
- **Read first:** {prerequisites}.
- **Needs:** Python 3.11 or newer and {requirements} (installed by the notebook itself on Colab).
{'- **Optional:** this assignment extends the course for students who want more.' if info.optional else ''}

**After this assignment a student can**

{objectives}

| Question | Points | Graded |
| --- | --- | --- |
{rows}
"""
        result = self.render(text)
        html = (f'<div class="assignment-downloads">'
                f'<a class="btn btn-primary" href="{depth}{links["download"]}" download="{name}.ipynb">'
                f'Download the student notebook (.ipynb)</a> '
                f'<a class="btn btn-outline-primary" href="{links["colab"]}">Open in Colab</a> '
                f'<a class="btn btn-outline-primary" href="{links["binder"]}">Open on Binder</a></div>')
        note = ("The notebook is all a student needs: its first cell writes the public tests next to it. It holds "
                "no solution and no hidden test, and no reference implementation of what it grades.")
        return [nodes.raw("", html, format="html")] + self.render(note) + result


def _seconds(s: float) -> str:
    return f"{s:.0f} seconds" if s < 90 else f"{s / 60:.0f} minutes"


class AssignmentOutline(_Markdown):
    required_arguments = 1

    def run(self):
        self.depend_on(self.arguments[0])
        return self.render(student_outline(self.arguments[0]))


class AssignmentRubrics(_Markdown):
    required_arguments = 1

    def run(self):
        name = self.arguments[0]
        self.depend_on(name)
        if getattr(self.env.app.config, "hide_solutions", False):
            return self.render("*The rubrics of the questions graded by hand are in the instructors' edition.*")
        parts = []
        for question, prompt, table in rubrics(name):
            title = re.match(r"\*\*(Question \d+)", prompt)
            parts.append(f"**{title.group(1) if title else question['name']}** "
                         f"({question['points']:g} points, graded by hand)\n\n{table}")
        if not parts:
            return self.render("*Every question of this assignment is autograded.*")
        return self.render("\n\n".join(parts))


class AssignmentFeedback(_Markdown):
    required_arguments = 2
    has_content = True

    def run(self):
        name, function = self.arguments
        self.depend_on(name)
        edits = [tuple(part.strip() for part in line.split(" => ", 1)) for line in self.content if " => " in line]
        text = _wrapped(example_feedback(name, function, edits))
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def _wrapped(text: str, width: int = 72) -> str:
    """Long lines of a message folded at spaces for the page, continuation lines indented."""
    import textwrap

    out = []
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        out.extend(textwrap.wrap(line, width, subsequent_indent=" " * (indent + 4), break_long_words=False,
                                 break_on_hyphens=False) or [""])
    return "\n".join(out)


class AssignmentOverview(_Markdown):
    option_spec = {"columns": directives.unchanged}

    def run(self):
        self.depend_on(None)
        rows = ["| Assignment | Students | Time | Points | Read first |", "| --- | --- | --- | --- | --- |"]
        for info in catalog.ASSIGNMENTS:
            qs = questions(info.name)
            auto = sum(q["points"] for q in qs if not q["manual"])
            manual = sum(q["points"] for q in qs if q["manual"])
            points = f"{auto:g} auto" + (f" + {manual:g} by hand" if manual else "")
            title = f"{{ref}}`{info.label}`" + (" (optional)" if info.optional else "")
            goals = info.summary
            reads = ", ".join(f"{{ref}}`{label}`" for label in info.prerequisites)
            rows.append(f"| {title} | {goals} | {info.hours:g} h | {points} | {reads} |")
        return self.render("\n".join(rows))


# --- The student notebook behind each assignment page -----------------------------------------------

def _assignment_of(pagename: str) -> str | None:
    if not pagename.startswith(PAGES_DIR + "/"):
        return None
    name = pagename.rsplit("/", 1)[1]
    return name if name in catalog.names() else None


def _page_buttons(app, pagename, templatename, context, doctree) -> None:
    """On an assignment page: write the student notebook into ``_sources`` and point the download
    and launch buttons at it."""
    name = _assignment_of(pagename)
    if name is None or doctree is None:
        return
    target = Path(app.outdir) / "_sources" / PAGES_DIR / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(build.student_notebook(built(name)), target)
    links = _links(app, name)
    pathto = context["pathto"]
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"] = [
                {"type": "link", "url": f"{pathto('_sources', 1)}/{PAGES_DIR}/{name}.ipynb", "text": ".ipynb",
                 "icon": "fas fa-code", "tooltip": "Download the student notebook", "label": "download-notebook-button"},
                *[b for b in group["buttons"] if b.get("label") == "download-pdf-button"],
            ]
    context["header_buttons"].append({
        "type": "group", "tooltip": "Open the student notebook", "icon": "fas fa-rocket", "label": "launch-buttons",
        "buttons": [
            {"type": "link", "text": "Binder", "tooltip": "Open the student notebook on Binder",
             "icon": "_static/images/logo_binder.svg", "url": links["binder"]},
            {"type": "link", "text": "Colab", "tooltip": "Open the student notebook in Colab",
             "icon": "_static/images/logo_colab.png", "url": links["colab"]},
        ]})


def setup(app):
    app.add_directive("assignment-summary", AssignmentSummary)
    app.add_directive("assignment-outline", AssignmentOutline)
    app.add_directive("assignment-rubrics", AssignmentRubrics)
    app.add_directive("assignment-feedback", AssignmentFeedback)
    app.add_directive("assignment-overview", AssignmentOverview)
    app.connect("html-page-context", _page_buttons, priority=650)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
