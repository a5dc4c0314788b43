"""Regenerate ``constraints.txt``: the exact version of every package the book installs.

``requirements.txt`` says what the book needs (with ranges) and applies ``constraints.txt``
(``-c constraints.txt``), so the Quick start, CI, the Pages workflow and Binder all install the
same versions. To move to newer releases:

    python3 tools/lock_requirements.py        # resolves requirements.txt afresh in a new venv

It installs ``requirements.txt`` without the lock into a temporary virtual environment, with the
Python that runs it (the version of ``runtime.txt`` is what Binder and the Pages workflow use;
check that the result installs on the oldest Python the book supports, 3.11), and writes what
got installed, setuptools and wheel included. The
two theme lines at the top of ``constraints.txt`` are kept as they are: edit them by hand to
change the site's theme, then run this script to bring the rest in line.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
CONSTRAINTS = ROOT / "constraints.txt"
#: Pinned by hand (the site's look): kept as written in constraints.txt.
THEMES = ("sphinx-book-theme", "pydata-sphinx-theme")

HEADER = """\
# The exact version of every package the book's build and tests install: requirements.txt
# applies this file (-c constraints.txt), so the README's Quick start, CI, the Pages workflow and
# Binder build the same environment. Regenerate with `python3 tools/lock_requirements.py`.
#
# The site's theme: edit these two lines together to change it (the script keeps them).
"""


def _name(line: str) -> str:
    return re.split(r"[=<>!~ ;\[]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")


def theme_pins() -> list[str]:
    if not CONSTRAINTS.is_file():
        return []
    return [line.strip() for line in CONSTRAINTS.read_text("utf-8").splitlines()
            if line.strip() and not line.startswith("#") and _name(line) in THEMES]


def resolve() -> list[str]:
    """``pip freeze`` of a fresh environment with requirements.txt installed (the themes pinned)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        venv = tmp_path / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / "bin" / "python"
        # The newest build tools, as a Python without a bundled setuptools (3.12+) would get them.
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "setuptools", "wheel"],
                       check=True)
        requirements = tmp_path / "requirements.txt"
        lines = []
        for line in REQUIREMENTS.read_text("utf-8").splitlines():
            if line.strip().startswith("-c "):
                continue  # resolve afresh
            if line.strip() in ("-e .", "."):
                line = f"-e {ROOT}"
            lines.append(line)
        requirements.write_text("\n".join(lines + theme_pins()) + "\n", "utf-8")
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)], check=True)
        frozen = subprocess.run([str(python), "-m", "pip", "freeze", "--all", "--exclude-editable"],
                                check=True, capture_output=True, text=True).stdout
    return [line for line in frozen.splitlines()
            if "==" in line and not line.startswith("#") and _name(line) != "pip"]


def main() -> None:
    pins = resolve()
    themes = [p for p in pins if _name(p) in THEMES]
    rest = sorted((p for p in pins if _name(p) not in THEMES), key=_name)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    text = (HEADER + "\n".join(sorted(themes, key=_name)) + "\n\n"
            + f"# Everything else (resolved with Python {python}).\n" + "\n".join(rest) + "\n")
    CONSTRAINTS.write_text(text, "utf-8")
    print(f"wrote {CONSTRAINTS.relative_to(ROOT)}: {len(pins)} packages")


if __name__ == "__main__":
    main()
