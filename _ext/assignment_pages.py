"""Sphinx extension: the course's assignment pages and their student downloads.

The code lives with the course tooling in ``chapters/assignments/coursekit/pages.py``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "chapters" / "assignments"))

from coursekit.pages import setup  # noqa: E402,F401
