"""Build the student edition of the book: the same site with every exercise solution removed.

Usage (from the repository root, in the project's environment)::

    python tools/student_edition.py                    # site in _build/student/_build/html
    python tools/student_edition.py --path-output DIR  # site in DIR/_build/html
    python tools/student_edition.py --toc my_toc.yml   # only the pages listed in my_toc.yml

The command derives a configuration from ``_config.yml`` (so the two editions never drift apart),
adding ``hide_solutions = True`` (sphinx-exercise), the ``_ext/student_solutions.py`` extension
(which also removes the *gated* solutions and strips the downloadable notebooks), no copied page
sources, and "(student edition)" in the title. It writes that configuration to
``<path-output>/_config_student.yml``, runs ``jupyter-book build --config ... -W -n --keep-going``,
and then scans every page and notebook of the built site for the text of each solution in the
book's sources. It exits non-zero if the build fails or any solution text is found.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXTENSION_DIR = ROOT / "_ext"

# --- configuration -----------------------------------------------------------------------------


def student_config(config: dict, book_root: Path = ROOT) -> dict:
    """The student edition's Jupyter Book configuration, derived from the book's ``config``."""
    cfg = copy.deepcopy(config)
    cfg["title"] = f"{cfg.get('title', 'Book')} (student edition)"
    sphinx = cfg.setdefault("sphinx", {})
    # The configuration file is written elsewhere, and Jupyter Book resolves local extension paths
    # relative to it: make them absolute.
    local = {name: str((book_root / path).resolve()) for name, path in (sphinx.get("local_extensions") or {}).items()}
    local["student_solutions"] = str(EXTENSION_DIR)
    sphinx["local_extensions"] = local
    conf = sphinx.setdefault("config", {})
    conf["hide_solutions"] = True
    conf["html_copy_source"] = False  # the page sources contain the solutions
    return cfg


# --- finding solution text -----------------------------------------------------------------------

_FENCE = re.compile(r"^(`{3,}|~{3,})\{([\w-]+)\}")
_MARKUP = set("$`*_{}[]\\|<>")


def _normalise(text: str) -> str:
    return " ".join(text.split())


def solution_snippets(markdown: str, min_code: int = 20, min_prose: int = 30) -> list[str]:
    """Distinctive lines of every solution in a MyST page: its code lines and its plain prose.

    Gated solutions (``{solution-start}`` .. ``{solution-end}``) and ``{solution}`` blocks count.
    Prose lines with Markdown or math markup are skipped, since the rendered page spells them
    differently; code lines are kept verbatim (whitespace normalised). Lines that also occur outside
    the solutions of the page are dropped: they are not solution content.
    """
    snippets, outside = _split_solutions(markdown, min_code, min_prose)
    return [s for s in snippets if s not in outside]


def _split_solutions(markdown: str, min_code: int, min_prose: int) -> tuple[list[str], str]:
    """(snippets of the solutions, normalised text of everything outside them)."""
    outside_lines: list[str] = []
    snippets: list[str] = []
    inside_gated = False
    block_fence = None  # fence of an open {solution} block
    code_fence = None  # fence of an open code cell inside a solution
    for line in markdown.splitlines():
        stripped = line.strip()
        match = _FENCE.match(stripped)
        in_solution = inside_gated or block_fence is not None
        if match and match.group(2) == "solution-start":
            inside_gated = True
            continue
        if match and match.group(2) == "solution-end":
            inside_gated = False
            continue
        if match and match.group(2) == "solution" and not in_solution:
            block_fence = match.group(1)
            continue
        if not in_solution:
            outside_lines.append(stripped)
            continue
        if code_fence is None and match and match.group(2) == "code-cell":
            code_fence = match.group(1)
            continue
        if code_fence is not None:
            if stripped == code_fence:
                code_fence = None
            elif len(stripped) >= min_code and not stripped.startswith(("#", ":")):
                snippets.append(_normalise(stripped))
            continue
        if block_fence is not None and stripped == block_fence:
            block_fence = None
            continue
        if stripped.startswith(("```", "~~~", ":")) or len(stripped) < min_prose:
            continue
        if not (_MARKUP & set(stripped)):
            snippets.append(_normalise(stripped))
    return snippets, _normalise("\n".join(outside_lines))


def _page_text(path: Path) -> str:
    raw = path.read_text("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        cells = json.loads(raw).get("cells", [])
        return _normalise("\n".join("".join(c.get("source", "")) for c in cells))
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.DOTALL | re.IGNORECASE)
    return _normalise(html.unescape(re.sub(r"<[^>]+>", "", raw)))


def find_leaks(site_dir: Path, snippets: list[str]) -> list[tuple[str, str]]:
    """``(file, snippet)`` for every snippet found in a page or notebook of ``site_dir``.

    A ``solution`` admonition left in a page counts as a leak too (snippet ``<solution node>``).
    """
    leaks = []
    for path in sorted(site_dir.rglob("*")):
        if path.suffix not in (".html", ".ipynb", ".md", ".txt") or not path.is_file():
            continue
        if path.suffix == ".html" and re.search(r'class="[^"]*\bsolution\b', path.read_text("utf-8", errors="replace")):
            leaks.append((str(path.relative_to(site_dir)), "<solution node>"))
        text = _page_text(path)
        leaks.extend((str(path.relative_to(site_dir)), s) for s in snippets if s in text)
    return leaks


def book_snippets(book_root: Path = ROOT, toc_file: Path | None = None) -> list[str]:
    """Solution snippets of every page listed in the book's ``_toc.yml`` (or in ``toc_file``)."""
    toc = yaml.safe_load((toc_file or book_root / "_toc.yml").read_text("utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("chapters"))
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    snippets, outside = [], []
    for name in files:
        path = book_root / (name if name.endswith(".md") else f"{name}.md")
        if path.is_file():
            found, text = _split_solutions(path.read_text("utf-8"), 20, 30)
            snippets.extend(found)
            outside.append(text)
    outside_text = "\n".join(outside)
    return sorted(s for s in set(snippets) if s not in outside_text)


# --- the command -------------------------------------------------------------------------------


def build(book_root: Path, path_output: Path, extra_args=()) -> Path:
    """Build the student edition of the book in ``book_root``; returns the HTML directory."""
    config = yaml.safe_load((book_root / "_config.yml").read_text("utf-8"))
    path_output.mkdir(parents=True, exist_ok=True)
    config_file = path_output / "_config_student.yml"
    config_file.write_text(yaml.safe_dump(student_config(config, book_root), sort_keys=False), "utf-8")
    executable = Path(sys.executable).parent / "jupyter-book"
    command = [str(executable) if executable.is_file() else "jupyter-book", "build", str(book_root), "--config",
               str(config_file), "--path-output", str(path_output), "-W", "-n", "--keep-going", *extra_args]
    subprocess.run(command, check=True)
    return path_output / "_build" / "html"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", type=Path, default=ROOT, help="book root (default: this repository)")
    parser.add_argument("--path-output", type=Path, default=None,
                        help="output folder (default: <book>/_build/student); HTML in <output>/_build/html")
    parser.add_argument("--toc", type=Path, default=None,
                        help="a table of contents to build instead of <book>/_toc.yml (e.g. a few pages)")
    args = parser.parse_args(argv)
    book = args.book.resolve()
    out = (args.path_output or book / "_build" / "student").resolve()
    status = 0
    extra = ("--toc", str(args.toc.resolve())) if args.toc else ()
    try:
        site = build(book, out, extra)
    except subprocess.CalledProcessError as error:
        print(f"student edition: the build failed ({error.returncode}); checking what was built",
              file=sys.stderr)
        site, status = out / "_build" / "html", 1
    if not site.is_dir():
        print(f"student edition: nothing was built in {site}", file=sys.stderr)
        return 1
    snippets = book_snippets(book, args.toc.resolve() if args.toc else None)
    leaks = find_leaks(site, snippets)
    for file, snippet in leaks:
        print(f"solution text left in {file}: {snippet[:80]!r}", file=sys.stderr)
    if leaks:
        return 1
    print(f"student edition: {site} (checked {len(snippets)} solution snippets: none left)")
    return status


if __name__ == "__main__":
    sys.exit(main())
