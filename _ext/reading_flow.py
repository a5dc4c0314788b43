"""Verification out of the reading flow: the site shows the lesson, the notebook keeps the checks.

Every claim of the book is asserted by the code that builds it, and those asserts are for the
build, not for the reader. On the HTML site:

* a code cell tagged ``check`` (the book's convention for a cell whose job is verification) and
  an untagged cell whose statements are all checks collapse, input and output, into a one-line
  marker, ``✓ 3 claims checked when this page was built``, that opens on click;
* in a cell that teaches *and* checks, the checking statements (``assert``, ``assert_*`` calls,
  loops of them, and assignments only they read) leave the displayed code and move into the same
  kind of marker right below the cell;
* the page says under its title how many claims its cells checked.

Only the page changes: the notebooks (``_sources/*.ipynb``, Binder, Colab) keep every check where
the author wrote it, and the build still fails when one does not hold.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

CHECK_TAG = "check"
#: Calls that print or draw: a statement making one teaches something and stays visible.
SHOWING_CALLS = {"print", "display", "show", "plot", "imshow", "savefig", "Markdown", "Math"}


@dataclass(frozen=True)
class CheckSplit:
    """A cell's source split into what the reader sees and what only checks it."""

    lesson: str  # the code left in the reading flow ("" when the whole cell checks)
    checks: str  # the checking statements, with the comments written just above them
    claims: int  # how many claims they check: assert statements and assert_* calls


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _is_assert_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _call_name(node).startswith("assert")


def count_claims(tree: ast.AST) -> int:
    """Assert statements and ``assert_*(...)`` calls (``np.testing.assert_allclose``) in ``tree``."""
    return sum(isinstance(n, ast.Assert) or _is_assert_call(n) for n in ast.walk(tree))


def _shows_something(statement: ast.stmt) -> bool:
    return any(
        isinstance(n, ast.Call) and _call_name(n) in SHOWING_CALLS for n in ast.walk(statement)
    )


def _statement_lists(node: ast.AST):
    """Every list of statements in ``node``: a module's body, a loop's body and ``else`` ..."""
    for name in ("body", "orelse", "finalbody"):
        block = getattr(node, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            yield block
    for handler in getattr(node, "handlers", []) or []:
        yield handler.body
    for case in getattr(node, "cases", []) or []:
        yield case.body


def _children(statement: ast.stmt) -> list[ast.stmt]:
    return [s for block in _statement_lists(statement) for s in block]


def _is_leaf_check(statement: ast.stmt) -> bool:
    """An ``assert`` or an ``assert_*(...)`` call."""
    if isinstance(statement, ast.Assert):
        return True
    return isinstance(statement, ast.Expr) and _is_assert_call(statement.value)


_ASSIGNMENTS = (ast.Assign, ast.AugAssign, ast.AnnAssign)
_COMPOUND = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try)


def _bound_names(statement: ast.stmt) -> set[str]:
    return {
        n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }


def _read_names(statement: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _own_reads(statement: ast.stmt) -> set[str]:
    """Names a statement reads itself: for a loop or ``if``, those of its header only."""
    if isinstance(statement, _COMPOUND):
        parts = [getattr(statement, name, None) for name in ("iter", "test", "target", "items")]
        names: set[str] = set()
        for part in parts:
            for item in part if isinstance(part, list) else [part]:
                if item is not None:
                    names |= _read_names(item)
        return names
    return _read_names(statement)


def _mark_checks(tree: ast.Module, names_read_elsewhere: set[str] | frozenset) -> set[int]:
    """The ids of the statements of ``tree`` that only check (see :func:`split_checks`)."""
    statements = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    marked = {id(s) for s in statements if _is_leaf_check(s)}
    if not marked:
        return marked
    changed = True
    while changed:
        changed = False
        # A loop, ``if`` or ``with`` whose every statement checks is a check.
        for statement in statements:
            if id(statement) in marked or not isinstance(statement, _COMPOUND):
                continue
            inner = _children(statement)
            if inner and all(id(s) in marked for s in inner) and not _shows_something(statement):
                marked.add(id(statement))
                changed = True
        # An assignment whose names only checks read goes with them.
        lesson_reads = set(names_read_elsewhere)
        for statement in statements:
            if id(statement) not in marked and not _inside(statement, marked, tree):
                lesson_reads |= _own_reads(statement)
        for block in [tree.body] + [b for s in statements for b in _statement_lists(s)]:
            for index, statement in enumerate(block):
                if id(statement) in marked or not isinstance(statement, _ASSIGNMENTS):
                    continue
                if _shows_something(statement):
                    continue
                names = _bound_names(statement)
                later_checks = [s for s in block[index + 1 :] if id(s) in marked]
                if names and not names & lesson_reads and any(
                    names & _read_names(s) for s in later_checks
                ):
                    marked.add(id(statement))
                    changed = True
    return marked


def _inside(statement: ast.stmt, marked: set[int], tree: ast.Module) -> bool:
    """Whether ``statement`` lies within a marked statement."""
    for other in ast.walk(tree):
        if id(other) in marked and other is not statement and isinstance(other, ast.stmt):
            if any(child is statement for child in ast.walk(other)):
                return True
    return False


def split_checks(source: str, names_read_elsewhere: set[str] | frozenset = frozenset()) -> CheckSplit:
    """Split a code cell into lesson and checks.

    Checks are ``assert`` statements and ``assert_*(...)`` calls, at any depth; a loop, ``if`` or
    ``with`` made only of checks; and an assignment whose names are read only by the checks after
    it (not by the cell's other code, nor by the names in ``names_read_elsewhere``, what the
    page's other cells read). The comment lines right above a check go with it. When a check sat
    inside code that stays (a loop that also prints), ``checks`` is the whole cell, so that the
    check is read in its context. Code that does not parse (IPython magics) stays as it is.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return CheckSplit(source, "", 0)
    marked = _mark_checks(tree, names_read_elsewhere)
    if not marked:
        return CheckSplit(source, "", 0)
    outermost = [
        s for s in ast.walk(tree)
        if isinstance(s, ast.stmt) and id(s) in marked and not _inside(s, marked, tree)
    ]
    lines = source.splitlines()
    removed = [False] * len(lines)
    for statement in outermost:
        first = statement.lineno - 1
        for line in range(first, statement.end_lineno):
            removed[line] = True
        above = first - 1  # the comment written right above it belongs to it
        while above >= 0 and lines[above].lstrip().startswith("#"):
            removed[above] = True
            above -= 1
    # A removed block between two blank lines takes one of them along.
    for line in range(1, len(lines) - 1):
        if removed[line] and not removed[line + 1] and not lines[line + 1].strip():
            start = line
            while start > 0 and removed[start - 1]:
                start -= 1
            if start > 0 and not lines[start - 1].strip():
                removed[line + 1] = True
    lesson = [text for text, gone in zip(lines, removed) if not gone]
    moved = [text for text, gone in zip(lines, removed) if gone]
    nested = any(statement not in tree.body for statement in outermost)
    claims = sum(count_claims(s) for s in outermost)
    checks = source if nested and any(t.strip() for t in lesson) else _tidy(moved)
    return CheckSplit(_tidy(lesson), _tidy(checks.splitlines()), claims)


def _tidy(lines: list[str]) -> str:
    """Join lines, with no leading or trailing blank lines and no runs of blank lines."""
    text = "\n".join(lines)
    text = re.sub(r"\n([ \t]*\n){3,}", "\n\n\n", text)
    return text.strip("\n")


def claims_phrase(claims: int) -> str:
    return "1 claim" if claims == 1 else f"{claims} claims"


# --- the site ----------------------------------------------------------------------------------


class checked_claims(nodes.General, nodes.Element):
    """A collapsed block of checks: ``<details>`` whose summary says how many claims they check."""


class checks_summary(nodes.General, nodes.Element):
    """The page's line under its title: how many claims its cells checked."""


def visit_checked_claims(self, node: checked_claims) -> None:
    self.body.append('<details class="adamedu-check">\n<summary>')
    self.body.append('<span class="adamedu-check-mark" aria-hidden="true">✓</span> ')
    claims = node["claims"]  # 0: a cell tagged check that calls a checker and asserts nothing itself
    line = f"{claims_phrase(claims)} checked at build time" if claims else "Checks run at build time"
    self.body.append(f"{line}</summary>\n")


def depart_checked_claims(self, node: checked_claims) -> None:
    self.body.append("</details>\n")


def visit_checks_summary(self, node: checks_summary) -> None:
    self.body.append(
        '<p class="adamedu-checks-summary"><span class="adamedu-check-mark" aria-hidden="true">'
        f'✓</span> {claims_phrase(node["claims"])} on this page checked when it was built'
        '<span class="adamedu-screen-only">: open a ✓ line to see the code that checks them</span>.'
        "</p>\n"
    )
    raise nodes.SkipNode


def _tags(cell: nodes.Element) -> list[str]:
    return list((cell.get("cell_metadata") or {}).get("tags", []) or [])


def _source_block(cell: nodes.Element) -> nodes.literal_block | None:
    for child in cell.children:
        if isinstance(child, nodes.container) and child.get("nb_element") == "cell_code_source":
            blocks = list(child.findall(nodes.literal_block))
            return blocks[0] if blocks else None
    return None


def _checks_block(code: str, like: nodes.literal_block) -> nodes.container:
    block = nodes.literal_block(code, code, language=like.get("language", "ipython3"))
    block["classes"] = list(like.get("classes", []))
    source = nodes.container(nb_element="cell_code_source", classes=["cell_input"])
    source += block
    return nodes.container("", source, nb_element="cell_code", classes=["cell", "adamedu-check-cell"])


class CollapseChecks(SphinxPostTransform):
    """Moves every check of a page into collapsed ``✓`` markers (HTML only)."""

    default_priority = 190  # before myst-nb wraps hidden inputs (199)
    formats = ("html",)

    def run(self, **kwargs) -> None:
        cells = [
            node
            for node in self.document.findall(nodes.container)
            if node.get("nb_element") == "cell_code"
        ]
        sources = {id(cell): _source_block(cell) for cell in cells}
        total = 0
        for cell in cells:
            block = sources[id(cell)]
            if block is None or cell.parent is None:
                continue
            code = block.astext()
            elsewhere: set[str] = set()
            for other in cells:
                other_block = sources[id(other)]
                if other is not cell and other_block is not None:
                    elsewhere |= _names_read(other_block.astext())
            if CHECK_TAG in _tags(cell):
                split = CheckSplit("", code, count_claims_in(code))
            else:
                split = split_checks(code, elsewhere)
                if not split.checks:
                    continue
            total += split.claims
            marker = checked_claims(claims=split.claims)
            parent = cell.parent
            if not split.lesson:  # the whole cell checks: input and output go into the marker
                cell.attributes.pop("hide_mode", None)
                parent.replace(cell, marker)
                marker += cell
            else:
                block.children = [nodes.Text(split.lesson)]
                block.rawsource = split.lesson
                marker += _checks_block(split.checks, block)
                parent.insert(parent.index(cell) + 1, marker)
        if total:
            self._add_summary(total)

    def _add_summary(self, claims: int) -> None:
        for section in self.document.findall(nodes.section):
            title = next(iter(section.findall(nodes.title)), None)
            if title is not None and title.parent is section:
                section.insert(section.index(title) + 1, checks_summary(claims=claims))
                return


def _names_read(code: str) -> set[str]:
    try:
        return _read_names(ast.parse(code))
    except SyntaxError:
        return set()


def count_claims_in(code: str) -> int:
    try:
        return count_claims(ast.parse(code))
    except SyntaxError:
        return len(re.findall(r"^\s*assert\b", code, flags=re.MULTILINE))


def setup(app: Sphinx) -> None:
    app.add_node(checked_claims, html=(visit_checked_claims, depart_checked_claims))
    app.add_node(checks_summary, html=(visit_checks_summary, None))
    app.add_post_transform(CollapseChecks)
