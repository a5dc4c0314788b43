"""Grade a folder of submissions offline, in parallel: one CSV and a feedback file per student.

Usage (from the repository root, in the book's environment)::

    python chapters/assignments/grade.py adam_from_scratch submissions/ -o results/

See ``coursekit/grade_class.py`` (or ``--help``) for the options and for how broken submissions
are contained.
"""

from coursekit.grade_class import main

if __name__ == "__main__":
    raise SystemExit(main())
