"""The built site, read as files: self-contained assets, downloads and launch links.

Complements the browser tests (``tests/browser``), which read the same pages in Chromium. Skips
when the site is not built (``jupyter-book build .`` writes ``_build/html``; ``ADAMEDU_SITE``
names another folder).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from chapter_notebooks import SITE, ROOT, _site_extension, chapters

needs_site = pytest.mark.skipif(
    not (SITE / "index.html").is_file(),
    reason=f"the site is not built: no {SITE / 'index.html'} (run jupyter-book build . first)",
)

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text("utf-8"))
REPO = CONFIG["repository"]["url"].rstrip("/")
BRANCH = CONFIG["repository"]["branch"]
ORG_REPO = REPO.removeprefix("https://github.com/")


class _Assets(HTMLParser):
    """Collects what a page loads (scripts, styles, images, frames) and every link."""

    def __init__(self):
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.loads.append(a["src"])
        elif tag == "link" and a.get("href") and {"stylesheet", "preload", "icon", "modulepreload"} & set(
            (a.get("rel") or "").split()
        ):
            self.loads.append(a["href"])
        elif tag in ("img", "iframe", "source", "embed", "audio", "video") and a.get("src"):
            self.loads.append(a["src"])
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])


def parse(path: Path) -> _Assets:
    parser = _Assets()
    parser.feed(path.read_text("utf-8"))
    return parser


def pages() -> list[Path]:
    skip = {"_static", "_sources", "_images"}
    return [p for p in sorted(SITE.rglob("*.html")) if p.relative_to(SITE).parts[0] not in skip]


def built_chapters() -> list[str]:
    return [d for d in chapters() if (SITE / f"{d}.html").is_file()]


@needs_site
@pytest.mark.parametrize("page", [p.relative_to(SITE).as_posix() for p in pages()] or ["-"])
def test_page_loads_only_files_of_the_site(page):
    path = SITE / page
    for url in parse(path).loads:
        parts = urlsplit(url)
        assert parts.scheme in ("", "data") and not parts.netloc, f"{page} loads {url}"
        if parts.scheme == "":
            target = (path.parent / parts.path).resolve()
            assert target.is_file(), f"{page} loads {url}, which is not in the site"


@needs_site
def test_mathjax_3_is_served_from_the_site():
    entry = SITE / "_static" / "mathjax" / "tex-chtml.js"
    assert entry.is_file()
    assert 'VERSION="3.' in entry.read_text("utf-8", errors="replace")
    fonts = list((SITE / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert fonts, "MathJax's CHTML fonts are missing"
    assert not (SITE / "_static" / "mathjax" / "latest.js").exists()  # it would load from a CDN
    pages_with_math = [p for p in pages() if "_static/mathjax/tex-chtml.js" in p.read_text("utf-8")]
    assert pages_with_math, "no page loads the site's MathJax"


@needs_site
@pytest.mark.parametrize("docname", built_chapters() or ["-"])
def test_chapter_offers_its_notebook_and_launch_links(docname):
    if docname == "-":
        pytest.skip("no chapter page is built")
    page = SITE / f"{docname}.html"
    links = parse(page).links
    depth = len(Path(docname).parts) - 1
    download = "../" * depth + f"_sources/{docname}.ipynb"
    assert download in links, f"{docname}: no download link to {download}"
    notebook = json.loads((SITE / "_sources" / f"{docname}.ipynb").read_text("utf-8"))
    ext = _site_extension()
    assert ext.SETUP_CELL_TAG in notebook["cells"][0]["metadata"]["tags"]
    assert f"git+{REPO}@{BRANCH}" in "".join(notebook["cells"][0]["source"])
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"

    colab = (
        f"https://colab.research.google.com/github/{ORG_REPO}/blob/"
        f"{CONFIG['sphinx']['config']['adamedu_pages_branch']}/_sources/{docname}.ipynb"
    )
    binder = f"https://mybinder.org/v2/gh/{ORG_REPO}/{BRANCH}?urlpath=lab/tree/{docname}.md"
    assert colab in links, f"{docname}: no Colab link {colab}"
    assert binder in links, f"{docname}: no Binder link {binder}"
    assert REPO in links
    assert any(link.startswith(f"{REPO}/issues/new") for link in links)


def test_binder_can_open_chapters_as_notebooks():
    requirements = (ROOT / "requirements.txt").read_text("utf-8")
    assert "jupytext" in requirements  # Binder opens the MyST chapters as notebooks through it
    assert "-e ." in requirements.splitlines()  # and installs the package from the checkout
    post_build = ROOT / "postBuild"
    assert "jupytext-config set-default-viewer" in post_build.read_text("utf-8")
    assert post_build.stat().st_mode & 0o111, "postBuild must be executable"
    assert (ROOT / "runtime.txt").read_text("utf-8").strip().startswith("python-3.")


# --- the site extension's pieces, without a build -------------------------------------------


def test_setup_cell_is_added_once_and_first():
    ext = _site_extension()
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": r"# $\hat{m}$"}]}
    once = ext.notebook_with_setup_cell(notebook, "adamedu")
    twice = ext.notebook_with_setup_cell(once, "adamedu")
    assert [c["cell_type"] for c in twice["cells"]] == ["code", "markdown"]
    assert twice["cells"][0]["metadata"]["tags"] == [ext.SETUP_CELL_TAG]
    assert twice["cells"][1]["source"] == r"# $\hat{m}$"
    compile(twice["cells"][0]["source"], "setup-cell", "exec")  # valid Python, no magics


def test_navigation_toggles_get_an_accessible_name():
    from bs4 import BeautifulSoup

    ext = _site_extension()
    soup = BeautifulSoup(
        '<ul><li class="toctree-l1 has-children"><a class="reference internal" href="a.html">'
        "Exercises &amp; assignments</a><details><summary><span class=\"toctree-toggle\" "
        'role="presentation"><i class="fa-solid fa-chevron-down"></i></span></summary>'
        "<ul><li>x</li></ul></details></li></ul>",
        "html.parser",
    )
    ext.label_toctree_toggles(soup)
    assert soup.summary["aria-label"] == "Show or hide the pages of Exercises & assignments"


# --- the reading flow: checks out of the way (``_ext/reading_flow.py``) --------------------------


def _reading_flow():
    _site_extension()  # puts _ext on the path
    import reading_flow

    return reading_flow


def test_a_cell_of_checks_collapses_whole():
    split = _reading_flow().split_checks(
        "moved = np.abs(theta - start)\n"
        "# every coordinate moved by about lr\n"
        "assert np.allclose(moved, 0.3, rtol=0.01), moved\n"
        "np.testing.assert_allclose(theta, expected)\n"
    )
    assert split.lesson == ""
    assert split.claims == 2
    assert split.checks.startswith("moved = np.abs")  # the assignment only the checks read goes too


def test_checks_leave_the_lesson_code_and_keep_their_comment():
    split = _reading_flow().split_checks(
        "trace = run(opt)\n"
        "print(trace.loss[-1])\n"
        "\n"
        "# the loss fell\n"
        "assert trace.loss[-1] < trace.loss[0]\n"
        "\n"
        "plot(trace)\n"
    )
    assert split.lesson == "trace = run(opt)\nprint(trace.loss[-1])\n\nplot(trace)"
    assert split.checks == "# the loss fell\nassert trace.loss[-1] < trace.loss[0]"
    assert split.claims == 1


def test_a_loop_that_only_checks_goes_and_a_loop_that_teaches_stays():
    flow = _reading_flow()
    only_checks = flow.split_checks("for seed in range(20):\n    x = run(seed)\n    assert x < 1\n")
    assert only_checks.lesson == "" and only_checks.claims == 1
    teaching = "for lr in rates:\n    loss = run(lr)\n    assert loss < 1\n    print(lr, loss)\n"
    mixed = flow.split_checks(teaching)
    assert mixed.lesson == "for lr in rates:\n    loss = run(lr)\n    print(lr, loss)"
    assert mixed.checks == teaching.strip()  # a nested check is shown in its context
    assert mixed.claims == 1


def test_values_the_page_reads_later_stay_in_the_lesson():
    flow = _reading_flow()
    source = "best = min(losses)\nassert best < 0.1\n"
    assert flow.split_checks(source).lesson == ""
    assert flow.split_checks(source, names_read_elsewhere={"best"}).lesson == "best = min(losses)"


def test_code_without_checks_or_that_does_not_parse_is_left_alone():
    flow = _reading_flow()
    for source in ("x = 1\nprint(x)", "%timeit f()\nassert True"):
        split = flow.split_checks(source)
        assert (split.lesson, split.checks, split.claims) == (source, "", 0)


# --- the site's pieces, in the built site ---------------------------------------------------------


def _tagged_check_cells(docname: str) -> int:
    text = (ROOT / f"{docname}.md").read_text("utf-8")
    return len(re.findall(r"```\{code-cell\}[^\n]*\n(?::tags: \[[^\]]*\bcheck\b|---\n(?:[^\n]*\n)*?tags:[^\n]*\bcheck\b)", text))


@needs_site
@pytest.mark.parametrize("docname", built_chapters() or ["-"])
def test_chapter_pages_collapse_checks_and_notebooks_keep_them(docname):
    if docname == "-":
        pytest.skip("no chapter page is built")
    page = (SITE / f"{docname}.html").read_text("utf-8")
    notebook = json.loads((SITE / "_sources" / f"{docname}.ipynb").read_text("utf-8"))
    hidden = {"remove-input", "remove-cell", "remove_input", "remove_cell"}  # no source on the page
    code = "\n".join(
        "".join(c["source"]) for c in notebook["cells"]
        if c["cell_type"] == "code" and not hidden & set(c["metadata"].get("tags", []))
    )
    asserts_in_notebook = len(re.findall(r"^\s*assert\b", code, flags=re.MULTILINE))
    markers = page.count('<details class="adamedu-check">')
    if asserts_in_notebook:
        assert markers >= 1, f"{docname}: the notebook checks {asserts_in_notebook} claims, the page shows no ✓"
        assert "checked when it was built" in page
    assert markers >= _tagged_check_cells(docname)


@needs_site
def test_site_has_favicon_print_stylesheet_and_layout():
    index = (SITE / "chapters" / "intro.html").read_text("utf-8")
    assert re.search(r'<link rel="icon" href="[^"]*favicon\.svg"', index)
    for asset in ("adamedu.css", "adamedu-print.css", "adamedu.js"):
        assert f"_static/{asset}" in index
        assert (SITE / "_static" / asset).is_file()
    print_css = (SITE / "_static" / "adamedu-print.css").read_text("utf-8")
    assert "@media print" in print_css and "pre-wrap" in print_css
    assert ".section-number" not in print_css  # chapter and section numbers are printed


@needs_site
def test_home_page_maps_every_chapter_and_summarises_adam():
    home = (SITE / "chapters" / "intro.html").read_text("utf-8")
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text("utf-8"))
    chapters_in_toc = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    start = home.index('class="adamedu-map')
    map_html = home[start : home.index('<section id="adam-on-one-page">', start)]
    for docname in chapters_in_toc:
        assert f'href="{Path(docname).name}.html"' in map_html or f'href="{docname[len("chapters/"):]}.html"' in map_html, docname
    sheet = home.split('<section id="adam-on-one-page">')[1].split("</section>")[0]
    for fact in ("7.27", "weight_decay", "AdamW", "0.999", "1e-8", "lr=1e-3"):
        assert fact in sheet, fact
    assert 'data-adamedu-print="sheet"' in sheet


def _pdf_built() -> bool:
    return (SITE / "adamedu.pdf").is_file()


@needs_site
def test_pdf_edition_is_built_and_offered_on_every_page():
    ext = _site_extension()
    if not _pdf_built():
        if ext.pdf_edition.chromium_path() is None:
            pytest.skip("no Chromium: the build prints no PDF edition here")
        pytest.fail("the site has no adamedu.pdf although Chromium is installed")
    pdf = (SITE / "adamedu.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))  # page objects (not /Pages)
    assert pages >= 3 * len(built_chapters()), f"only {pages} pages"
    # The formulas are typeset by MathJax (its fonts are embedded) and the figures are there.
    assert b"MathJax_Main" in pdf and b"MathJax_Math" in pdf
    assert len(re.findall(rb"/Subtype\s*/Image", pdf)) >= 10
    for docname in built_chapters():
        depth = len(Path(docname).parts) - 1
        assert f'href="{"../" * depth}adamedu.pdf"' in (SITE / f"{docname}.html").read_text("utf-8"), docname


def test_every_exercise_has_a_title():
    untitled = []
    for path in sorted((ROOT / "chapters").rglob("*.md")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if re.match(r"^`{3,}\{exercise\}\s*$", line):
                untitled.append(f"{path.relative_to(ROOT)}:{number}")
    assert untitled == [], f"exercises without a title: {untitled}"
