"""The book's course tooling: building, checking and grading the assignments (not part of adamedu).

- :mod:`coursekit.catalog`: the assignments, their objectives, times and requirements.
- :mod:`coursekit.assignment_checks`: the feedback of the public tests (handed to students; it holds
  no reference solution, only comparisons with stored values).
- :mod:`coursekit.autograder_checks`: the hidden tests' checks and the probes behind the stored
  values (autograder only).
- :mod:`coursekit.probes`: which stored values each assignment's public tests use.
- :mod:`coursekit.build`: Otter Assign plus the self-contained student notebook.
- :mod:`coursekit.grade_class`: grade a folder of submissions offline, in parallel.
- :mod:`coursekit.written_answers`: the written answers of a submission as a PDF, offline.
- :mod:`coursekit.pages`: the Sphinx directives of the assignment pages.
"""
