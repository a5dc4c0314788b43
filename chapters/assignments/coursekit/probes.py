"""The stored values of each assignment's public tests, computed from the references at build time.

``stored_values(name)`` returns a dict of probes (see :mod:`assignment_checks`), written to
``expected_values.json`` and handed to students with the public tests. Nothing here is handed out.
"""

from __future__ import annotations

import numpy as np

from . import autograder_checks as ag

__all__ = ["stored_values"]


def _value(expected, threshold=1e-9, hint=""):
    return dict(kind="value", expected=np.asarray(expected, dtype=np.float64), threshold=threshold, hint=hint)


def _adam_from_scratch():
    from adamedu import Adam

    theta = np.zeros(4)
    Adam([theta]).step([np.array([1e-6, 1e-3, 1.0, 1e3])])
    return {
        "update_moments": ag.update_moments_spec(),
        "bias_correct": ag.bias_correct_spec(),
        "adam_step": ag.adam_step_spec(helpers=ag._adam_step_helpers(ag.ADAM_QUESTIONS)),
        "run_adam": ag.run_adam_spec(helpers={"adam_step": "Question 3"}),
        "Adam": ag.adam_class_spec(helpers={"adam_step": "Question 3"}),
        "first_step_ratio": _value(np.abs(theta) / 1e-3, hint="one entry per coordinate: |theta_1 - theta_0| / lr"),
    }


_BUILDERS = {
    "adam_from_scratch": _adam_from_scratch,
}


def stored_values(name: str) -> dict:
    """The probes of assignment ``name`` (an empty dict for an assignment without stored probes)."""
    builder = _BUILDERS.get(name)
    return builder() if builder else {}
