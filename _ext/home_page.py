"""The home page's map of the book: every part of the table of contents with its chapters.

In a page::

    ```{chapter-map}
    chapters/notation: The symbols, and their names in adamedu and PyTorch.
    chapters/gd_to_adam: Adam built from gradient descent, one idea at a time.
    ```

draws one box per part of ``_toc.yml`` (its caption), each listing the part's chapters with their
numbers and titles, linked, and the line given for the chapter, if any. The map is made from the
table of contents when the page is written, so a chapter added to the book appears on it.
"""

from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)


class chapter_map(nodes.General, nodes.Element):
    """Placeholder for the map, filled in when the page is written."""


class ChapterMapDirective(Directive):
    has_content = True

    def run(self):
        blurbs = {}
        for line in self.content:
            if not line.strip():
                continue
            docname, _, blurb = line.partition(":")
            blurbs[docname.strip()] = blurb.strip()
        return [chapter_map(blurbs=blurbs)]


def book_parts(app: Sphinx) -> list[tuple[str, list[str]]]:
    """``[(part caption, [docnames])]`` in the order of the table of contents."""
    env = app.env
    site_map = getattr(env, "external_site_map", None)
    root = app.config.root_doc
    parts: list[tuple[str, list[str]]] = []
    if site_map is not None and root in site_map:
        for tree in site_map[root].subtrees:
            docs = [item for item in tree.items if isinstance(item, str) and item in env.found_docs]
            parts.append((tree.caption or "", docs))
    return parts


def _title(env, docname: str) -> str:
    title = env.titles.get(docname)
    return title.astext() if title is not None else docname


def _fill(app: Sphinx, doctree: nodes.document, fromdocname: str) -> None:
    env = app.env
    for placeholder in list(doctree.findall(chapter_map)):
        blurbs: dict = placeholder["blurbs"]
        unknown = set(blurbs) - set(env.found_docs)
        if unknown:
            LOGGER.warning(f"chapter-map: no such page: {sorted(unknown)}", location=placeholder)
        box = nodes.container(classes=["adamedu-map"])
        for caption, docnames in book_parts(app):
            part = nodes.container(classes=["adamedu-map-part"])
            if caption:
                part += nodes.rubric(caption, caption)
            items = nodes.bullet_list()
            for docname in docnames:
                number = env.toc_secnumbers.get(docname, {}).get("")
                line = nodes.paragraph()
                link = nodes.reference(
                    "", "", internal=True, refuri=app.builder.get_relative_uri(fromdocname, docname)
                )
                if number:
                    label = ".".join(map(str, number))
                    link += nodes.inline(label, label, classes=["adamedu-map-number"])
                title = _title(env, docname)
                link += nodes.Text(title)
                line += link
                if blurbs.get(docname):
                    line += nodes.inline(blurbs[docname], blurbs[docname], classes=["adamedu-map-blurb"])
                items += nodes.list_item("", line)
            part += items
            box += part
        placeholder.replace_self(box)


def setup(app: Sphinx) -> None:
    app.add_node(chapter_map)
    app.add_directive("chapter-map", ChapterMapDirective)
    app.connect("doctree-resolved", _fill)
