"""Build the assignments: student notebooks, solution notebooks and autograder zips.

Usage (from the repository root, in the book's environment)::

    python chapters/assignments/build.py                      # all -> _build/assignments/
    python chapters/assignments/build.py adam_from_scratch    # one
    python chapters/assignments/build.py --out DIR

See ``coursekit/build.py`` for what is written where.
"""

from coursekit.build import main

if __name__ == "__main__":
    raise SystemExit(main())
