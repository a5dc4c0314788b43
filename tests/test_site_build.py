"""The built site, read as files: self-contained assets, downloads and launch links.

Complements the browser tests (``tests/browser``), which read the same pages in Chromium. Skips
when the site is not built (``jupyter-book build .`` writes ``_build/html``; ``ADAMEDU_SITE``
names another folder).
"""

from __future__ import annotations

import json
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
