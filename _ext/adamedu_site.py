"""Sphinx extension that makes the HTML book self-contained and launchable.

* MathJax 3 is served from the site itself. Its files come from the ``sphinx-mathjax-offline``
  wheel (installed by ``requirements.txt``) and are copied into ``_static/mathjax`` of the build;
  nothing is fetched from a CDN, so the book reads the same in a classroom without internet.
* Embedded-widget JavaScript that myst-nb would load from a CDN is switched off (the static
  figures on the site work without a kernel; live widgets run in Jupyter).
* Every notebook page gets a downloadable ``.ipynb`` (``_sources/<page>.ipynb``): the executed
  notebook with a first cell that installs :mod:`adamedu` on Google Colab and, anywhere else
  without the package, stops with one sentence on how to install it. The Colab launch button
  opens that very file from the published site's branch. The package's address and the launch
  buttons both come from the ``repository`` section of ``_config.yml``.
* The reading layout (``static/adamedu.css``, ``static/adamedu.js``), the print stylesheet
  (``static/adamedu-print.css``) and the favicon; checks collapsed out of the reading flow
  (``reading_flow.py``); the home page's map of the chapters (``home_page.py``); the PDF edition
  of the whole book (``pdf_edition.py``), offered in every page's download menu.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

# The extension's other modules live next to it (Jupyter Book puts this folder on the path;
# tests that load this file directly do not).
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import home_page  # noqa: E402
import pdf_edition  # noqa: E402
import reading_flow  # noqa: E402

LOGGER = logging.getLogger(__name__)

#: Where MathJax lives inside the built site's ``_static`` folder.
MATHJAX_DIR = "mathjax"
MATHJAX_ENTRY = "tex-chtml.js"
#: Files of the MathJax distribution never needed by the site (``latest.js`` loads MathJax from a
#: CDN; ``node-main.js`` is for Node.js).
MATHJAX_SKIP = {"latest.js", "node-main.js"}
#: The site's own stylesheets, script and favicon.
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Templates that replace two of the theme's buttons (accessible names; see their comments).
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: The tag that marks the set-up cell, so it is added once and can be recognised by tests.
SETUP_CELL_TAG = "adamedu-setup"
#: The set-up cell, first in every downloadable notebook. ``{requirement}`` is the pip requirement
#: of the package, built from the ``repository`` section of ``_config.yml``.
SETUP_CELL_SOURCE = """\
# Set-up: this notebook uses the book's adamedu package. On Google Colab this cell installs it;
# anywhere else it does nothing when adamedu is installed, and says how to install it when not.
import importlib.util
import sys

ADAMEDU = "{requirement}"
if importlib.util.find_spec("adamedu") is None:
    if "google.colab" in sys.modules:
        import subprocess

        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", ADAMEDU], check=True)
        importlib.invalidate_caches()
    else:
        raise ModuleNotFoundError(
            f'This notebook needs the adamedu package: run  %pip install "{ADAMEDU}"  in a cell, '
            "then restart the kernel and run the notebook again."
        )"""


def mathjax_source_dir() -> Path:
    """The folder of MathJax 3 components shipped by the ``sphinx-mathjax-offline`` wheel."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(
            "MathJax 3 is served from the site itself, but the package that ships it is missing: "
            "install it with `pip install -r requirements.txt` (sphinx-mathjax-offline)."
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax"
    if not (folder / MATHJAX_ENTRY).is_file():
        raise ExtensionError(f"MathJax entry point {MATHJAX_ENTRY} not found in {folder}")
    return folder


def _configure(app: Sphinx, config: Any) -> None:
    # Serve MathJax from ``_static`` unless the book explicitly points somewhere local.
    path = str(config.mathjax_path or "")
    if not path or "://" in path or path.startswith("//"):
        config.mathjax_path = f"{MATHJAX_DIR}/{MATHJAX_ENTRY}"
    # myst-nb would load require.js and the widget manager from CDNs on pages with widget state.
    config.nb_ipywidgets_js = {}
    # No third-party analytics, whatever the theme's defaults are.
    options = dict(config.html_theme_options or {})
    options["analytics"] = {}
    # A definite colour mode (the theme logs a console error for an empty one); light is the mode
    # the figures and the accessibility checks are made for, and readers can still switch.
    config.html_theme_options = options
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "light")
    config.html_context = context
    static = list(config.html_static_path or [])
    if str(STATIC_DIR) not in static:
        static.append(str(STATIC_DIR))
    config.html_static_path = static
    templates = list(config.templates_path or [])
    if str(TEMPLATES_DIR) not in templates:
        config.templates_path = [str(TEMPLATES_DIR), *templates]
    if not config.html_favicon:
        config.html_favicon = str(STATIC_DIR / "favicon.svg")


def _is_thebe_asset(asset: Any) -> bool:
    body = str(getattr(asset, "attributes", {}).get("body", "") or "")
    filename = str(getattr(asset, "filename", "") or asset)
    return "THEBE_JS_URL" in body or "sphinx-thebe" in filename


def _drop_thebe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Live code via Thebe is off; drop its scripts, which name a CDN and are added twice."""
    if (app.config.html_theme_options or {}).get("launch_buttons", {}).get("thebe"):
        return
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not _is_thebe_asset(asset)]


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = mathjax_source_dir()
    target = Path(app.outdir) / "_static" / MATHJAX_DIR
    for file in sorted(source.rglob("*")):
        if file.is_dir() or file.name in MATHJAX_SKIP:
            continue
        dest = target / file.relative_to(source)
        if dest.is_file() and dest.stat().st_size == file.stat().st_size:
            continue  # already there from an earlier build (the package's files never change)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, dest)


def label_toctree_toggles(soup: Any) -> None:
    """Give the navigation's expand/collapse toggles an accessible name (in place).

    The theme's toggle of a page with sub-pages is a ``<summary>`` holding only an icon, which
    screen readers announce without a name (axe-core: summary-name, serious).
    """
    for summary in soup.select("summary"):
        if summary.get("aria-label") or summary.get_text(strip=True):
            continue
        if summary.select_one(".toctree-toggle") is None:
            continue
        item = summary.find_parent("li")
        link = item.find("a", recursive=False) if item is not None else None
        title = link.get_text(" ", strip=True) if link is not None else ""
        summary["aria-label"] = (
            f"Show or hide the pages of {title}" if title else "Show or hide the pages"
        )


def _accessible_navigation(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    generate = context.get("generate_toctree_html")
    if generate is None or getattr(generate, "adamedu_labelled", False):
        return

    def generate_toctree_html(kind: str, *args, **kwargs):
        result = generate(kind, *args, **kwargs)
        if isinstance(result, str):
            from bs4 import BeautifulSoup

            soup = BeautifulSoup(result, "html.parser")
            label_toctree_toggles(soup)
            return type(result)(str(soup))
        if hasattr(result, "select"):  # the theme's BeautifulSoup tree
            label_toctree_toggles(result)
        return result

    generate_toctree_html.adamedu_labelled = True
    context["generate_toctree_html"] = generate_toctree_html


def visit_hidden_code(self, node) -> None:
    """myst-nb's "Show code cell source" toggle, named by its visible text.

    myst-nb labels the ``<summary>`` "Toggle hidden content", which is not the text a sighted
    reader sees and speaks to voice control (axe-core: label-content-name-mismatch). Without the
    label the summary is named by its visible line, "Show code cell source".
    """
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n')
    for state, prompt in (("collapsed", node["prompt_show"]), ("expanded", node["prompt_hide"])):
        self.body.append(f'<p class="{state} admonition-title">{_escape(prompt)}</p>\n')
    self.body.append("</summary>\n")


def depart_hidden_code(self, node) -> None:
    self.body.append("</details>\n")


def _escape(text: str) -> str:
    import html

    return html.escape(text, quote=False)


#: Punctuation that belongs to the formula before it (and brackets to the formula after them).
_TRAILING = re.compile(r"^[.,;:!?)\]\u2019\u201d]+")
_LEADING = re.compile(r"[(\[\u2018\u201c]+$")


class KeepPunctuationWithMath(SphinxPostTransform):
    """Keep ``$x$.`` together: a line never starts with the full stop after a formula.

    MathJax draws inline maths as an unbreakable box, so a browser may break the line between the
    formula and the comma after it. The formula and the punctuation around it go into one
    ``<span class="adamedu-nowrap">`` (see adamedu.css).
    """

    default_priority = 400
    formats = ("html",)

    def run(self, **kwargs) -> None:
        for math in list(self.document.findall(nodes.math)):
            parent = math.parent
            if parent is None or isinstance(parent, nodes.inline) and "adamedu-nowrap" in parent["classes"]:
                continue
            index = parent.index(math)
            after = parent[index + 1] if index + 1 < len(parent) else None
            before = parent[index - 1] if index > 0 else None
            tail = _TRAILING.match(after.astext()) if isinstance(after, nodes.Text) else None
            head = _LEADING.search(before.astext()) if isinstance(before, nodes.Text) else None
            if not tail and not head:
                continue
            group = nodes.inline(classes=["adamedu-nowrap"])
            # Indices, not parent.replace(): Text nodes compare equal to any equal string.
            if head:
                parent[index - 1] = nodes.Text(before.astext()[: head.start()])
                group += nodes.Text(head.group(0))
            if tail:
                parent[index + 1] = nodes.Text(after.astext()[tail.end():])
            parent[index] = group
            group += math
            if tail:
                group += nodes.Text(tail.group(0))


def _link_pdf_edition(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Offer the PDF edition of the whole book in the page's download menu."""
    if not app.config.adamedu_pdf:
        return
    url = context["pathto"](pdf_edition.PDF_NAME, 1)
    button = {
        "type": "link",
        "url": url,
        "text": "Book (PDF)",
        "tooltip": "Download the whole book as one PDF",
        "icon": "fas fa-book",
        "label": "download-book-pdf-button",
    }
    for group in context.get("header_buttons", []):
        if group.get("type") == "group" and group.get("icon") == "fas fa-download":
            for other in group["buttons"]:
                if other.get("label") == "download-pdf-button":  # the theme's window.print()
                    other["text"] = "Print page"
            group["buttons"].append(button)
            return


def _report_failed_execution(app: Sphinx, exception: Exception | None) -> None:
    """Save the traceback of a notebook that stopped the build in ``reports/<page>.err.log``.

    myst-nb writes these reports only when a failing notebook does not stop the build; with
    ``nb_execution_raise_on_error`` the first failure ends it, and this keeps its report too.
    """
    if exception is None or type(exception).__name__ != "ExecutionError":
        return
    source = Path(str(exception.args[0] if exception.args else ""))
    try:
        docname = app.env.path2doc(str(source)) or source.stem
    except Exception:  # pragma: no cover - defensive: never hide the original error
        docname = source.stem
    cause = exception.__cause__ or exception
    report = Path(app.outdir) / "reports" / f"{docname}.err.log"
    report.parent.mkdir(parents=True, exist_ok=True)
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(cause))  # no terminal colour codes in the file
    report.write_text(f"{source}\n\n{text}\n", encoding="utf-8")
    LOGGER.info(f"execution report saved in {report}")


def _repository(app: Sphinx) -> tuple[str, str]:
    options = app.config.html_theme_options or {}
    url = str(options.get("repository_url", "")).rstrip("/")
    branch = str(options.get("repository_branch", "") or "main")
    return url, branch


def notebook_with_setup_cell(notebook: dict, requirement: str) -> dict:
    """Return ``notebook`` with the set-up cell as its first cell (added once)."""
    cells = [
        cell
        for cell in notebook.get("cells", [])
        if SETUP_CELL_TAG not in cell.get("metadata", {}).get("tags", [])
    ]
    setup = {
        "cell_type": "code",
        "execution_count": None,
        "id": "adamedu-setup",
        "metadata": {"tags": [SETUP_CELL_TAG]},
        "outputs": [],
        "source": SETUP_CELL_SOURCE.replace("{requirement}", requirement),
    }
    result = dict(notebook)
    result["cells"] = [setup, *cells]
    result.setdefault("nbformat", 4)
    if result.get("nbformat_minor", 0) < 5:
        result["nbformat_minor"] = 5  # cell ids need nbformat 4.5
    return result


#: MyST a notebook front end would show as raw text: a target line ``(label)=``, directives, and
#: the roles ``{ref}``, ``{numref}``, ``{doc}`` (shown as the title they point to) and ``{math}``.
_TARGET_LINE = re.compile(r"^\([\w.:-]+\)=[ \t]*(\n|$)", re.M)
_XREF_ROLE = re.compile(r"\{(ref|numref|doc)\}`([^`]*)`")
_MATH_ROLE = re.compile(r"\{math\}`([^`]*)`")


#: A directive in a markdown cell: its fence (backticks or colons), name, argument, option lines
#: and body. A longer fence can hold shorter ones, so bodies are converted in turn.
_DIRECTIVE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>[^\n]*)\n"
    r"(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)"
    r"(?P<body>.*?)^(?P=fence)[ \t]*(?:\n|$)",
    re.M | re.S,
)
#: What each directive shows in a notebook above its body (none: the body alone; the site's chapter
#: map has no body a notebook could use).
_DIRECTIVE_HEADINGS = {
    "exercise": "**Exercise: {arg}**", "solution": "**Solution**", "solution-start": "**Solution**",
    "admonition": "**{arg}**", "note": "**Note.**", "tip": "**Tip.**", "warning": "**Warning.**",
    "important": "**Important.**", "seealso": "**See also.**", "grid-item-card": "**{arg}**",
}
_DROPPED_DIRECTIVES = {"chapter-map", "solution-end"}


def _plain_directive(match: re.Match) -> str:
    name, arg = match["name"], match["arg"].strip()
    if name in _DROPPED_DIRECTIVES:
        return ""
    body = _DIRECTIVE.sub(_plain_directive, match["body"]).strip("\n")
    heading = _DIRECTIVE_HEADINGS.get(name, "").format(arg=arg).replace("**Exercise: **", "**Exercise**")
    return "\n\n".join(part for part in (heading, body) if part) + "\n"


def readable_markdown(text: str, titles: dict[str, str]) -> str:
    """``text`` with the site-only MyST of a markdown cell made readable in any notebook.

    Targets are dropped; a directive becomes its body under a bold heading (an exercise, an
    admonition's title) with its options dropped; a cross-reference becomes its own text
    (``{ref}`text <label>```), "the figure" for a numbered figure, or else the title it points to,
    in italics (``titles`` maps labels to titles); ``{math}`x``` becomes ``$x$``.
    """
    def xref(match: re.Match) -> str:
        role, content = match[1], match[2]
        explicit = re.fullmatch(r"(.*?)\s*<([^<>]+)>", content, re.S)
        if explicit:
            return explicit[1]
        label = content.strip()
        if role == "numref" or label.lower().startswith("fig-"):
            return "the figure"  # a numbered figure: its caption is no name, and it is in the notebook
        return f"*{titles.get(label.lower(), label)}*"

    text = _TARGET_LINE.sub("", text)
    text = _DIRECTIVE.sub(_plain_directive, text)
    text = _MATH_ROLE.sub(lambda match: f"${match[1]}$", text)
    return _XREF_ROLE.sub(xref, text)


def notebook_with_readable_markdown(notebook: dict, titles: dict[str, str]) -> dict:
    """``notebook`` with :func:`readable_markdown` applied to every markdown cell."""
    cells = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            source = source if isinstance(source, str) else "".join(source)
            cell = dict(cell, source=readable_markdown(source, titles))
        cells.append(cell)
    return dict(notebook, cells=cells)


def _label_titles(app: Sphinx) -> dict[str, str]:
    """Every label of the book and the title of what it points to (sections and chapters)."""
    titles = {}
    for label, (docname, _, title) in app.env.get_domain("std").labels.items():
        titles[label] = title or str(app.env.titles.get(docname, nodes.Text(label)).astext())
    return titles


def _readable_downloads(app: Sphinx, exception: Exception | None) -> None:
    """Rewrite the chapters' downloads with :func:`readable_markdown`, once the build is done.

    Last of all, because the student edition finds the solutions it removes from these notebooks
    by their MyST markers (``_ext/student_solutions.py``).
    """
    if exception is not None:
        return
    titles = _label_titles(app)
    for name in sorted(getattr(app.env, "adamedu_downloads", ())):
        path = Path(name)
        if not path.is_file():
            continue
        notebook = json.loads(path.read_text("utf-8"))
        readable = notebook_with_readable_markdown(notebook, titles)
        if readable != notebook:
            path.write_text(json.dumps(readable, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                            "utf-8")


def _executed_notebook(app: Sphinx, path: Path) -> dict:
    """The notebook myst-nb wrote for a page, with its outputs.

    When myst-nb takes a notebook's outputs from the execution cache it renders them but writes
    the notebook without them; the outputs are then merged in from the cache here.
    """
    notebook = json.loads(path.read_text("utf-8"))
    config = getattr(app.env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache":
        return notebook
    if not config.execution_cache_path:
        return notebook
    cache_path = Path(str(config.execution_cache_path))
    if not (cache_path / "global.db").is_file():  # read an existing cache, never create one
        return notebook
    import nbformat
    from jupyter_cache import get_cache

    try:
        _, merged = get_cache(str(cache_path)).merge_match_into_notebook(
            nbformat.reads(json.dumps(notebook), as_version=4)
        )
    except KeyError:  # not in the cache: the written notebook is all there is
        return notebook
    return json.loads(nbformat.writes(merged))


def _is_notebook_page(app: Sphinx, pagename: str) -> bool:
    return "kernelspec" in app.env.metadata.get(pagename, {})


def _write_notebook(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Write ``_sources/<page>.ipynb`` with the set-up cell and point Colab at it."""
    if doctree is None or not _is_notebook_page(app, pagename):
        return
    outdir = Path(app.outdir)
    executed = outdir.parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        LOGGER.warning(f"no notebook for {pagename} in {executed.parent}", type="adamedu")
        return
    repo_url, branch = _repository(app)
    requirement = f"adamedu @ git+{repo_url}@{branch}" if repo_url else "adamedu"
    notebook = notebook_with_setup_cell(_executed_notebook(app, executed), requirement)
    text = json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    target = outdir / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.is_file() or target.read_text("utf-8") != text:
        target.write_text(text, "utf-8")
    app.env.adamedu_downloads = getattr(app.env, "adamedu_downloads", set()) | {str(target)}
    context["ipynb_source"] = f"{pagename}.ipynb"

    # The Colab button: Colab opens notebooks from GitHub, so it opens the published copy of this
    # file on the branch the site is deployed from.
    pages_branch = app.config.adamedu_pages_branch
    colab = (app.config.html_theme_options or {}).get("launch_buttons", {}).get("colab_url", "")
    if not (repo_url.startswith("https://github.com/") and colab):
        return
    org_repo = repo_url.removeprefix("https://github.com/")
    colab_url = f"{colab.rstrip('/')}/github/{org_repo}/blob/{pages_branch}/_sources/{pagename}.ipynb"
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if group.get("type") == "group" else []:
            if button.get("text") == "Colab":
                button["url"] = colab_url


def setup(app: Sphinx) -> dict:
    app.add_config_value("adamedu_pages_branch", "gh-pages", "html")
    app.connect("config-inited", _configure, priority=900)
    app.add_css_file("adamedu.css")
    app.add_css_file("adamedu-print.css")
    app.add_js_file("adamedu.js", loading_method="defer")
    from myst_nb.sphinx_ import HideCodeCellNode

    app.add_node(HideCodeCellNode, override=True, html=(visit_hidden_code, depart_hidden_code))
    reading_flow.setup(app)
    app.add_post_transform(KeepPunctuationWithMath)
    home_page.setup(app)
    pdf_edition.setup(app)
    app.connect("html-page-context", _link_pdf_edition, priority=600)
    # After the theme's launch and download buttons (priority 501) are in the context.
    app.connect("html-page-context", _write_notebook, priority=600)
    app.connect("html-page-context", _drop_thebe, priority=600)
    app.connect("html-page-context", _accessible_navigation, priority=600)
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _readable_downloads, priority=950)  # after the student edition's
    app.connect("build-finished", _report_failed_execution)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
