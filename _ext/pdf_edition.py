"""The PDF edition of the whole book, printed by the system's Chromium when the site is built.

After the HTML build, every page of the book is put, in the order of the table of contents, into
one HTML document (a cover and a table of contents first, each chapter on a new page, links
between pages turned into links within the document), and Chromium prints it with the site's
print stylesheet: the same figures, every formula typeset by the site's MathJax, no buttons or
toggles, code wrapped. The result is ``_build/html/adamedu.pdf``, offered in every page's
download menu. No TeX and no downloaded browser are needed: Playwright drives the Chromium of
the system (``ADAMEDU_CHROMIUM`` names another one).

Without Chromium or Playwright the build says so and goes on without the PDF; ``adamedu_pdf =
False`` (``sphinx: config:`` in ``_config.yml``) turns the edition off. The PDF is printed again
only when the book's pages or the print stylesheet changed.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

PDF_NAME = "adamedu.pdf"
#: The document Chromium prints, written next to the pages (so that their relative links to
#: ``_static`` and ``_images`` hold) and removed afterwards.
PRINT_PAGE = "_pdf_edition.html"
#: Attributes that hold URLs, and those that name ids.
URL_ATTRIBUTES = ("href", "src", "xlink:href", "data")
ID_REFERENCES = ("aria-labelledby", "aria-describedby", "aria-controls", "for")

EDITION_CSS = """
.adamedu-pdf-cover { text-align: center; padding-top: 30vh; break-after: page; }
.adamedu-pdf-cover h1 { font-size: 2.6rem; margin-bottom: 0.5rem; }
.adamedu-pdf-cover p { color: #444; }
.adamedu-pdf-contents { break-after: page; }
.adamedu-pdf-contents ol { list-style: none; padding-left: 0; }
.adamedu-pdf-contents ol ol { padding-left: 1.5rem; }
.adamedu-pdf-contents li { margin: 0.15rem 0; }
.adamedu-pdf-contents .part { font-weight: 600; margin-top: 0.8rem; }
.adamedu-pdf-page { break-before: page; }
body.adamedu-pdf { background: #fff; }
"""


def chromium_path() -> str | None:
    """The system's Chromium (or the browser named by ``ADAMEDU_CHROMIUM``), if there is one."""
    for candidate in (os.environ.get("ADAMEDU_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _doc_id(docname: str) -> str:
    return "doc-" + re.sub(r"[^A-Za-z0-9_-]", "-", docname)


def _is_relative(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith("/")


def _rewrite_page(soup, article, docname: str, docnames: set[str]) -> None:
    """Make one page's article live in the combined document at the site's root (in place)."""
    prefix = _doc_id(docname)
    here = Path(docname).parent
    outputs = set(map(id, article.select(".cell_output, .output")))

    def inside_output(tag) -> bool:
        return any(id(parent) in outputs for parent in tag.parents) or id(tag) in outputs

    for tag in article.find_all(True):
        own = not inside_output(tag)  # figure outputs keep their ids: their scripts use them
        if own and tag.get("id"):
            tag["id"] = f"{prefix}--{tag['id']}"
        for attribute in ID_REFERENCES:
            if own and tag.get(attribute):
                tag[attribute] = " ".join(f"{prefix}--{name}" for name in str(tag[attribute]).split())
        for attribute in URL_ATTRIBUTES:
            url = tag.get(attribute)
            if not isinstance(url, str) or not url or not _is_relative(url):
                continue
            if url.startswith("#"):
                if own:
                    tag[attribute] = f"#{prefix}--{url[1:]}" if len(url) > 1 else f"#{prefix}"
                continue
            parts = urlsplit(url)
            target = os.path.normpath(here / parts.path).replace(os.sep, "/")
            page = target[: -len(".html")] if target.endswith(".html") else None
            if page in docnames:
                anchor = f"{_doc_id(page)}--{parts.fragment}" if parts.fragment else _doc_id(page)
                tag[attribute] = f"#{anchor}"
            else:
                tag[attribute] = target + (f"?{parts.query}" if parts.query else "") + (
                    f"#{parts.fragment}" if parts.fragment else ""
                )


def combined_document(site: Path, order: list[str], parts: list[tuple[str, list[str]]], title: str,
                      author: str) -> str:
    """The whole book as one HTML document, to be saved as ``site/PRINT_PAGE`` and printed."""
    from bs4 import BeautifulSoup

    first = BeautifulSoup((site / f"{order[0]}.html").read_text("utf-8"), "html.parser")
    first_dir = Path(order[0]).parent
    head = []
    for tag in first.head.find_all(["link", "script", "style"]):
        if tag.name == "link" and "stylesheet" not in (tag.get("rel") or []):
            continue
        if tag.name == "script" and not (
            "mathjax" in str(tag.get("src", "")).lower() or "MathJax" in (tag.string or "")
        ):
            continue
        for attribute in ("href", "src"):
            if tag.get(attribute) and _is_relative(tag[attribute]):
                tag[attribute] = os.path.normpath(first_dir / tag[attribute]).replace(os.sep, "/")
        head.append(str(tag))

    docnames = set(order)
    titles = {}
    bodies = []
    for docname in order:
        soup = BeautifulSoup((site / f"{docname}.html").read_text("utf-8"), "html.parser")
        article = soup.select_one("article.bd-article") or soup.select_one("main")
        if article is None:
            continue
        heading = article.find("h1")
        titles[docname] = heading.get_text(" ", strip=True).rstrip("#").strip() if heading else docname
        _rewrite_page(soup, article, docname, docnames)
        bodies.append(
            f'<div class="adamedu-pdf-page" id="{_doc_id(docname)}">{article.decode_contents()}</div>'
        )

    contents = ['<nav class="adamedu-pdf-contents" aria-label="Contents"><h2>Contents</h2><ol>']
    listed = set()
    for caption, docs in parts:
        contents.append(f'<li class="part">{caption}<ol>' if caption else "<li><ol>")
        for docname in docs:
            if docname in titles:
                listed.add(docname)
                contents.append(f'<li><a href="#{_doc_id(docname)}">{titles[docname]}</a></li>')
        contents.append("</ol></li>")
    rest = [d for d in order if d not in listed and d in titles and d != order[0]]
    contents += [f'<li><a href="#{_doc_id(d)}">{titles[d]}</a></li>' for d in rest]
    contents.append("</ol></nav>")

    cover = (
        f'<section class="adamedu-pdf-cover"><h1>{title}</h1><p>{author}</p>'
        "<p>PDF edition of the website, printed on {DATE}.</p></section>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en" data-theme="light" data-mode="light"><head>'
        f'<meta charset="utf-8"><title>{title}</title>{"".join(head)}'
        f"<style>{EDITION_CSS}</style></head>"
        f'<body class="adamedu-pdf"><div class="bd-article-container"><article class="bd-article">'
        f'{cover}{"".join(contents)}{"".join(bodies)}</article></div></body></html>\n'
    )


FOOTER = (
    '<div style="font-size:8px;width:100%;text-align:center;color:#555;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)

WAIT_FOR_PAGE = """async () => {
  for (const img of document.images) { img.loading = "eager"; }
  await Promise.all(Array.from(document.images).map(img => img.decode().catch(() => null)));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  if (document.fonts && document.fonts.ready) { await document.fonts.ready; }
  return {
    math: document.querySelectorAll("mjx-container").length,
    unrendered: Array.from(document.querySelectorAll(".math")).filter(el => !el.querySelector("mjx-container")).length,
    errors: document.querySelectorAll("mjx-merror").length,
    images: document.images.length,
    broken: Array.from(document.images).filter(img => !img.naturalWidth).map(img => img.src),
  };
}"""


def print_pdf(page_file: Path, pdf_file: Path, chromium: str) -> dict:
    """Print ``page_file`` with Chromium into ``pdf_file``; returns what the page held."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            # The site makes no request elsewhere; the edition must not either.
            page.route(
                "**/*",
                lambda route: route.continue_()
                if route.request.url.startswith(("file:", "data:", "blob:", "about:"))
                else route.abort(),
            )
            page.goto(page_file.resolve().as_uri(), wait_until="load", timeout=120_000)
            page.emulate_media(media="print")
            state = page.evaluate(WAIT_FOR_PAGE)
            tmp = pdf_file.with_suffix(".pdf.part")
            page.pdf(
                path=str(tmp),
                format="A4",
                print_background=True,
                display_header_footer=True,
                header_template="<div></div>",
                footer_template=FOOTER,
                margin={"top": "16mm", "bottom": "18mm", "left": "15mm", "right": "15mm"},
                outline=True,
                tagged=True,
            )
            tmp.replace(pdf_file)
        finally:
            browser.close()
    return state


def reading_order(app) -> list[str]:
    """The book's pages in the order of its table of contents (following the "next" links)."""
    relations = app.env.collect_relations()
    order, doc, seen = [], app.config.root_doc, set()
    while doc and doc not in seen:
        seen.add(doc)
        order.append(doc)
        doc = relations.get(doc, [None, None, None])[2]
    return order


def build_edition(site: Path, order: list[str], parts, title: str, author: str, chromium: str,
                  key_file: Path | None = None) -> tuple[Path, dict | None]:
    """Write ``site/PDF_NAME``; skipped (state ``None``) when nothing changed since the last one."""
    document = combined_document(site, order, parts, title, author)
    pdf = site / PDF_NAME
    style = (Path(__file__).parent / "static" / "adamedu-print.css").read_text("utf-8")
    key = hashlib.sha256((document + style).encode()).hexdigest()
    document = document.replace("{DATE}", datetime.date.today().isoformat())
    if key_file is not None and pdf.is_file() and key_file.is_file() and key_file.read_text() == key:
        return pdf, None
    page_file = site / PRINT_PAGE
    page_file.write_text(document, "utf-8")
    try:
        state = print_pdf(page_file, pdf, chromium)
    finally:
        page_file.unlink(missing_ok=True)
    if key_file is not None and not (state["errors"] or state["unrendered"] or state["broken"]):
        key_file.write_text(key)  # a faulty edition is printed again next time
    return pdf, state


def _build_finished(app, exception) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    if exception is not None or app.builder.format != "html" or not app.config.adamedu_pdf:
        return
    chromium = chromium_path()
    try:
        import bs4  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError:
        chromium = None
    if chromium is None:
        logger.info(f"PDF edition not printed: no Chromium or Playwright here (the link to {PDF_NAME} "
                    "will be dead); install chromium, or set ADAMEDU_CHROMIUM")
        return
    from home_page import book_parts

    site = Path(app.outdir)
    key_file = Path(app.doctreedir).parent / "pdf_edition.sha256"
    logger.info("PDF edition: printing the book with Chromium ...")
    title = app.config.html_title or app.config.project
    pdf, state = build_edition(site, reading_order(app), book_parts(app), title,
                               app.config.author, chromium, key_file)
    if state is None:
        logger.info(f"PDF edition: {pdf} is up to date")
        return
    if state["errors"] or state["unrendered"] or state["broken"]:
        logger.warning(f"PDF edition: {state['unrendered']} formulas not typeset, {state['errors']} with "
                       f"errors; images that did not load: {state['broken']}", type="adamedu")
    logger.info(f"PDF edition: {pdf} ({pdf.stat().st_size // 1024} KiB, {state['math']} formulas, "
                f"{state['images']} images)")


def setup(app) -> None:
    app.add_config_value("adamedu_pdf", True, "html")
    # After the site's other build-finished steps: MathJax must be in _static before printing.
    app.connect("build-finished", _build_finished, priority=900)
