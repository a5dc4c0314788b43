"""The written answers of submitted notebooks as PDF files, offline (system Chromium, no TeX).

Usage (from the repository root, in the book's environment)::

    python chapters/assignments/written_answers.py submissions/*.ipynb -o pdfs/

See ``coursekit/written_answers.py``.
"""

from coursekit.written_answers import main

if __name__ == "__main__":
    raise SystemExit(main())
