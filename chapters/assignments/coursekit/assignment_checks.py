r"""Feedback for the assignments' tests: *which* part of an answer is wrong, *where*, and why.

This module is handed to students with each assignment (it sits next to the public tests), so it
contains no reference solution: it compares a student's answer with **stored** values. When an
assignment is built, the reference solutions compute, for a few fixed probe inputs, the right
outputs and the outputs of common mistakes, and store them in ``expected_values.json`` next to this
file. The hidden tests of the autograder use the same comparisons on values they compute afresh
(other shapes, hyperparameters, dtypes and seeds).

How a function is checked (a *stepwise* probe). The student's function is called once per step
with the inputs the reference reached at that step (so every step is checked on its own) and its
outputs are compared in the order the algorithm computes them, e.g. for an Adam step: the first
moment, the second moment, then the new parameters. The first wrong part is reported with

* the step at which it first differs and the inputs of that call,
* the expected and the received values, and the relative error next to the threshold,
* the likely mistake: a stored common mistake whose values equal the student's at *every* step
  checked (mistakes that coincide at one step, such as "the power t is missing" and "the power is
  t - 1" at t = 2, are told apart by the others).

When the function calls an earlier question's function (``adam_step`` calls ``bias_correct``) and
that one is wrong, the check runs the function again with the right values in place of the earlier
function's, and says whether the failure comes only from the earlier question.

Relative error, as in CS231n: :math:`\max_i |x_i - y_i| / \max(|x_i| + |y_i|, \text{tiny})`.
Every ``check_*`` function returns ``None`` for a right answer and raises ``AssertionError`` with a
readable message otherwise, so a test is one line.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "Finding",
    "rel_error",
    "threshold_for",
    "stored",
    "diagnose",
    "check_stored",
    "check_answered",
    "check_number",
    "check_array",
    "check_monte_carlo",
    "check_expression",
    "check_expression_at_points",
    "encode",
    "decode",
]

#: The stored values of an assignment: written next to this module when the assignment is built.
DATA_FILE = "expected_values.json"


# --- Numbers -------------------------------------------------------------------------------------

def rel_error(expected, got) -> float:
    """Largest elementwise relative error ``|x - y| / (|x| + |y|)`` (CS231n's measure).

    Non-finite entries in ``got`` where ``expected`` is finite count as error ``inf``.
    """
    x = np.asarray(expected, dtype=np.float64)
    y = np.asarray(got, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: expected {x.shape}, got {y.shape}")
    if x.size == 0:
        return 0.0
    if not np.all(np.isfinite(y)):
        return math.inf
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.abs(x - y) / np.maximum(np.abs(x) + np.abs(y), np.finfo(np.float64).tiny)
    return float(np.max(err))


def threshold_for(dtype) -> float:
    """Relative-error threshold for a correct implementation in ``dtype``.

    A correct float64 answer that orders the operations differently from the reference differs by
    a few units in the last place (about 1e-16); 1e-10 leaves room for that and for hundreds of
    steps of accumulation, while every catalogued mistake is off by more than 1e-3. Float32
    rounding is about 6e-8 per operation.
    """
    return 1e-10 if np.dtype(dtype) == np.float64 else 2e-5


def same_values(expected, got, threshold: float) -> bool:
    """Equal up to ``threshold`` in relative error; inf and NaN must sit in the same places.

    All non-finite values count as one kind here: ``m / 0`` gives inf or NaN depending on the
    order of operations, and either is the same mistake.
    """
    x = np.asarray(expected, dtype=np.float64)
    y = np.asarray(got, dtype=np.float64)
    if x.shape != y.shape:
        return False
    finite_x, finite_y = np.isfinite(x), np.isfinite(y)
    if not np.array_equal(finite_x, finite_y):
        return False
    return rel_error(x[finite_x], y[finite_y]) <= threshold


# --- Stored values -------------------------------------------------------------------------------

def encode(value):
    """JSON-ready form of nested dicts, lists, tuples, NumPy arrays and scalars (arrays keep their dtype)."""
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def decode(value):
    """Inverse of :func:`encode`."""
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.array(value["__ndarray__"], dtype=value["dtype"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


@functools.lru_cache(maxsize=4)
def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return decode(json.load(f))


def stored(name: str, path=None) -> dict:
    """The stored probe called ``name`` from ``expected_values.json`` (next to this module)."""
    path = Path(path) if path is not None else Path(__file__).with_name(DATA_FILE)
    if not path.is_file():
        raise AssertionError(f"the file of stored values {path.name} is missing: run the notebook's "
                             "first cell (the set-up cell), which writes it.")
    data = _load(str(path.resolve()))
    if name not in data:
        raise AssertionError(f"no stored values for {name!r}; run the set-up cell again.")
    return data[name]


# --- Findings ------------------------------------------------------------------------------------

@dataclass
class Finding:
    """One wrong part of an answer: where it first differs, by how much, and the likely cause."""

    function: str
    part: str
    step: int | None = None
    steps: int | None = None
    expected: object = None
    got: object = None
    error: float | None = None
    threshold: float | None = None
    cause: str = ""
    inputs: dict = field(default_factory=dict)
    note: str = ""
    step_name: str = "step t"

    def __str__(self) -> str:
        where = (f" at {self.step_name} = {self.step} (of {self.steps} checked)"
                 if self.step is not None else "")
        if self.expected is None:  # no values to compare: the call failed, or a note says it all
            lines = [f"{self.function}: {self.note}" if self.note else f"{self.function}: {self.part}."]
        else:
            lines = [f"{self.function}: {self.part} is wrong{where}."]
            if self.note:
                lines.append(textwrap.indent(self.note, "  "))
            lines.append(f"  expected: {_fmt(self.expected)}")
            lines.append(f"  got:      {_fmt(self.got)}")
        if self.error is not None:
            lines.append(f"  relative error {self.error:.1e} (a correct answer is below {self.threshold:.0e})")
        if self.cause:
            lines.append(f"  Likely cause: {self.cause}")
        if self.inputs:
            scalars = [f"{k} = {_fmt(v)}" for k, v in self.inputs.items() if not _is_array(v)]
            if scalars:
                lines.append("  Inputs of this call: " + ", ".join(scalars))
            lines.extend(f"    {k} = {_fmt(v)}" for k, v in self.inputs.items() if _is_array(v))
        return "\n".join(lines)


def _is_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.ndim > 0


def _fmt(value) -> str:
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return f"{float(value):.6g}"
        if value.size > 12:  # a long path: show where it starts and ends
            return np.array2string(value, precision=6, separator=", ", threshold=12, edgeitems=2,
                                   max_line_width=100)
        return np.array2string(value, precision=6, separator=", ", max_line_width=10_000)
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if callable(value):
        return getattr(value, "__name__", "a function")
    return str(value)


class CallProblem(Exception):
    """The student's function could not be called, or returned something of the wrong kind."""

    def __init__(self, finding: Finding):
        super().__init__(str(finding))
        self.finding = finding


# --- Calling a student's function ----------------------------------------------------------------

def _problem(spec, note, step=None, inputs=None) -> CallProblem:
    return CallProblem(Finding(spec["function"], "the function", step, None, inputs=inputs or {},
                               note=note))


def _call(spec, fn, args, step=None, inputs=None):
    """Call ``fn(*args)``; turn every way it can fail into a :class:`Finding`."""
    name, signature = spec["function"], spec.get("signature", spec["function"])
    if not callable(fn):
        raise _problem(spec, f"`{name}` is not defined as a function (it is {fn!r}).")
    try:
        inspect.signature(fn).bind(*args)
    except TypeError as exc:
        raise _problem(spec, f"it cannot be called with these arguments ({exc}); it must be "
                             f"callable as {signature}.", step, inputs) from None
    except ValueError:  # no signature available (a builtin): just call it
        pass
    where = f" at {spec.get('step_name', 'step t')} = {step}" if step is not None else ""
    try:
        with np.errstate(all="ignore"):
            return fn(*args)
    except NotImplementedError:
        raise _problem(spec, "not implemented yet (it raised NotImplementedError).") from None
    except Exception as exc:  # noqa: BLE001 - any error in student code becomes feedback
        placeholder = " (a `...` placeholder is still in the code)" if "ellipsis" in str(exc).lower() else ""
        raise _problem(spec, f"calling it{where} raised {type(exc).__name__}: {exc}{placeholder}",
                       step, inputs) from None


def _outputs(spec, out, step=None, inputs=None):
    """Check that ``out`` has the outputs ``spec`` promises; return them as arrays."""
    labels = spec["outputs"]
    dtype = np.dtype(spec.get("dtype", "float64"))
    if out is None or out is Ellipsis:
        raise _problem(spec, f"not implemented yet: it returned {out!r} (is the return statement missing?).")
    values = [out] if len(labels) == 1 else out
    if len(labels) > 1 and (not isinstance(out, (tuple, list)) or len(out) != len(labels)):
        got = f"a {type(out).__name__}" + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
        raise _problem(spec, f"it must return a tuple of {len(labels)} values, "
                             f"{spec.get('signature', '')}; it returned {got}.", step, inputs)
    arrays = []
    for i, (label, value) in enumerate(zip(labels, values)):
        what = f"output {i} ({label})" if len(labels) > 1 else "the return value"
        if value is Ellipsis or value is None:
            raise _problem(spec, f"not finished: {what} is {value!r}.")
        try:
            a = np.asarray(value)
        except Exception:  # noqa: BLE001
            raise _problem(spec, f"{what} is not an array of numbers (it is a {type(value).__name__}).") from None
        shape = tuple(spec["shapes"][i]) if "shapes" in spec else tuple(spec.get("shape", a.shape))
        if a.shape != shape:
            raise _problem(spec, f"{what} has shape {a.shape}, expected {shape}"
                                 + (" (the shape of the parameters; every operation is elementwise)"
                                    if shape and len(labels) > 1 else "") + ".", step, inputs)
        if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
            raise _problem(spec, f"{what} has dtype {a.dtype}, expected numbers ({dtype}).", step, inputs)
        if dtype == np.float32 and a.dtype != np.float32:
            raise _problem(spec, f"{what} has dtype {a.dtype} for float32 inputs; keep the dtype of the "
                                 "inputs, as torch.optim does (NumPy promotes float32 to float64 when an "
                                 "operand is a float64 array or a np.float64 scalar).", step, inputs)
        arrays.append(a)
    return arrays


def _nonfinite_cause(values) -> str:
    if all(np.all(np.isfinite(np.asarray(v, dtype=np.float64))) for v in values):
        return ""
    return ("the result contains inf or NaN: a division by zero? The bias correction divides by "
            "1 - beta**t, which is 0 when t = 0: check that the powers use the current step t, "
            "counting from 1.")


def _cause_text(causes, step, matched_here) -> str:
    if len(causes) == 1:
        return causes[0]
    if causes:
        return ("one of these (they give the same values at every step checked): "
                + "; or ".join(causes))
    if len(matched_here) == 1:
        return f"{matched_here[0]} (this matches at step {step}, though not at every step)"
    if matched_here:
        return (f"one of these (they match at step {step}, though not at every step): "
                + "; or ".join(matched_here))
    return ""


# --- Diagnoses -----------------------------------------------------------------------------------

def _diagnose_stepwise(spec, fn) -> Finding | None:
    """A function called once per step with the reference state; see the module docstring."""
    threshold = spec["threshold"]
    calls = spec["calls"]
    step_name = spec.get("step_name", "step t")
    results, problem = [], None
    for call in calls:
        args = [value for _, value in call["args"]]
        inputs = dict(call["args"])
        try:
            out = _call(spec, fn, [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args],
                        call["step"], inputs)
            results.append(_outputs(spec, out, call["step"], inputs))
        except CallProblem as exc:
            problem = exc.finding
            break
    for k, outs in enumerate(results):
        call = calls[k]
        for index, label, note in spec["parts"]:
            expected = call["expected"][index]
            if same_values(expected, outs[index], threshold):
                continue
            mistakes = call.get("mistakes", {}).get(str(index), {})

            def value_of(cause, c):
                return c.get("mistakes", {}).get(str(index), {}).get(cause, c["expected"][index])

            consistent = [cause for cause in mistakes
                          if all(same_values(value_of(cause, c), o[index], threshold)
                                 for c, o in zip(calls, results))]
            here = [cause for cause, value in mistakes.items() if same_values(value, outs[index], threshold)]
            cause = (_cause_text(consistent, call["step"], here) or _nonfinite_cause([outs[index]])
                     or spec.get("unexplained", {}).get(str(index), ""))
            return Finding(spec["function"], label, call["step"], len(calls), expected, outs[index],
                           rel_error(expected, outs[index]), threshold, cause=cause,
                           inputs=dict(call["args"]), note=note, step_name=step_name)
    return problem


def _diagnose_run(spec, fn) -> Finding | None:
    """A function that runs a whole loop and returns a path; compared row by row."""
    problem = spec.get("problem") or {}
    args = [PROBLEMS[problem["name"]] if name == problem.get("arg") else value for name, value in spec["args"]]
    scalars = {k: v for k, v in spec["args"] if k != problem.get("arg") and not callable(v)}
    outs = _outputs(spec, _call(spec, fn, [np.array(a, copy=True) if isinstance(a, np.ndarray) else a
                                           for a in args], inputs=scalars), inputs=scalars)
    return _path_finding(spec, outs[spec.get("compare", 0)], first_row=0, inputs=scalars)


def _path_finding(spec, path, first_row, inputs) -> Finding | None:
    """Compare a whole path with the stored one, row by row: the first wrong row, and the stored
    mistakes whose paths equal the student's everywhere (or up to that row)."""
    threshold, expected = spec["threshold"], spec["expected"]
    rows = [r for r in range(len(expected)) if not same_values(expected[r], path[r], threshold)]
    if not rows:
        return None
    r = rows[0]
    mistakes = spec.get("mistakes", {})
    consistent = [c for c, p in mistakes.items() if same_values(p, path, threshold)]
    here = [c for c, p in mistakes.items() if same_values(p[: r + 1], path[: r + 1], threshold)]
    cause = (_cause_text(consistent, r + first_row, here) or _nonfinite_cause([path[r]])
             or spec.get("unexplained", {}).get("0", ""))
    return Finding(spec["function"], spec.get("row_label", "the path"), r + first_row, len(expected) - 1 + first_row,
                   expected[r], path[r], rel_error(expected[r], path[r]), threshold, cause=cause,
                   inputs=inputs, note=spec.get("row_note", ""), step_name=spec.get("step_name", "step t"))


def _diagnose_optimizer(spec, cls) -> Finding | None:
    """An optimizer class: built on copies of stored parameters, stepped with stored gradients."""
    name = spec["function"]
    kwargs = spec["kwargs"]
    shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    if not (isinstance(cls, type) or callable(cls)):
        raise _problem(spec, f"`{name}` is not defined as a class (it is {cls!r}).")
    params = [np.array(p, copy=True) for p in spec["params"]]
    try:
        with np.errstate(all="ignore"):
            opt = cls(params, **kwargs)
    except NotImplementedError:
        raise _problem(spec, "not implemented yet (it raised NotImplementedError).") from None
    except Exception as exc:  # noqa: BLE001
        raise _problem(spec, f"{name}(params, {shown}) raised {type(exc).__name__}: {exc}") from None
    if not callable(getattr(opt, "step", None)):
        raise _problem(spec, f"{name} objects need a method step(grads).")
    path = []
    for t, grads in enumerate(spec["grads"], start=1):
        before = [p.copy() for p in params]
        try:
            with np.errstate(all="ignore"):
                opt.step([np.array(g, copy=True) for g in grads])
        except NotImplementedError:
            raise _problem(spec, "step is not implemented yet (it raised NotImplementedError).") from None
        except Exception as exc:  # noqa: BLE001
            raise _problem(spec, f"step {t} raised {type(exc).__name__}: {exc}") from None
        if t == 1 and all(np.array_equal(b, p, equal_nan=True) for b, p in zip(before, params)):
            if not vars(opt):
                raise _problem(spec, "not implemented yet: the optimizer keeps no state and changes nothing.")
            return Finding(name, "the parameters", note=(
                "after opt.step(grads) the parameter arrays passed to the constructor have not changed: "
                "update them in place (p -= ..., or p[...] = ...), as torch.optim does; returning new "
                "arrays or rebinding a name does not change the caller's arrays."))
        path.append(np.concatenate([p.ravel() for p in params]).astype(np.float64))
    return _path_finding(spec, np.array(path), first_row=1, inputs={"kwargs": shown})


_KINDS = {"stepwise": _diagnose_stepwise, "run": _diagnose_run, "optimizer": _diagnose_optimizer}


# --- Earlier questions: is a failure only inherited? ---------------------------------------------

def _globals_of(obj) -> dict | None:
    """The module namespace a student's function or class was defined in (the notebook's)."""
    if isinstance(obj, type):
        for member in vars(obj).values():
            if inspect.isfunction(member):
                return member.__globals__
        return None
    fn = inspect.unwrap(obj) if callable(obj) else None
    return getattr(fn, "__globals__", None)


def _oracle(helper: dict, fallback):
    """A stand-in for an earlier question's function that returns the stored right outputs for the
    calls the reference makes, and defers to the student's own function for any other call."""
    threshold = helper.get("threshold", 1e-10)
    params = helper["params"]

    try:  # arguments the caller leaves out take the defaults of the student's own function
        defaults = {k: p.default for k, p in inspect.signature(fallback).parameters.items()
                    if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        defaults = {}

    def right_answer(*args, **kwargs):
        right_answer.calls += 1
        bound = dict(defaults)
        bound.update(zip(params, args))
        bound.update(kwargs)
        for call in helper["calls"]:
            if all(p in bound and _same_input(value, bound[p], threshold) for p, value in call["args"]):
                result = call["result"]
                dtype = next((np.asarray(bound[p]).dtype for p, v in call["args"]
                              if isinstance(v, np.ndarray)), None)
                copy = [np.array(r, dtype=dtype) if isinstance(r, np.ndarray) else r for r in result]
                return tuple(copy) if len(copy) > 1 else copy[0]
        return fallback(*args, **kwargs)

    right_answer.__name__ = getattr(fallback, "__name__", "helper")
    right_answer.calls = 0
    return right_answer


def _same_input(stored_value, given, threshold) -> bool:
    if isinstance(stored_value, np.ndarray):
        try:
            return same_values(stored_value, np.asarray(given, dtype=np.float64), threshold)
        except (TypeError, ValueError):
            return False
    if isinstance(stored_value, float):
        try:
            return math.isclose(stored_value, float(given), rel_tol=1e-12, abs_tol=0.0)
        except (TypeError, ValueError):
            return False
    return stored_value == given


@contextlib.contextmanager
def _patched(namespace: dict, replacements: dict):
    saved = {k: namespace[k] for k in replacements if k in namespace}
    namespace.update(replacements)
    try:
        yield
    finally:
        for k in replacements:
            if k in saved:
                namespace[k] = saved[k]
            else:
                namespace.pop(k, None)


def _resolve(spec_or_name, data_path=None):
    return stored(spec_or_name, data_path) if isinstance(spec_or_name, str) else spec_or_name


def diagnose(spec, obj, data_path=None) -> Finding | None:
    """Check ``obj`` (a function or class) against a probe ``spec``; ``None`` if it is right.

    If it is wrong and it calls the functions of earlier questions (``spec["helpers"]``), each of
    those is checked on its own probe; the wrong ones are replaced by their right answers and the
    check is repeated, to tell an inherited failure from a mistake of its own.
    """
    spec = _resolve(spec, data_path)
    try:
        finding = _KINDS[spec["kind"]](spec, obj)
    except CallProblem as exc:
        finding = exc.finding
    if finding is None:
        return None
    namespace = _globals_of(obj)
    if not namespace or finding.note.startswith(("not implemented", "not finished")):
        return finding
    wrong = {}
    for name, helper in (spec.get("helpers") or {}).items():
        own = namespace.get(name)
        if not callable(own):
            continue
        helper_finding = diagnose(helper["spec"], own, data_path)
        if helper_finding is not None:
            wrong[name] = (helper, helper_finding, own)
    if not wrong:
        return finding
    oracles = {name: _oracle(helper, own) for name, (helper, _, own) in wrong.items()}
    with _patched(namespace, oracles):
        try:
            again = _KINDS[spec["kind"]](spec, obj)
        except CallProblem as exc:
            again = exc.finding
    called = {name for name, oracle in oracles.items() if oracle.calls}
    if not called:  # it does not use the earlier functions: their mistakes are not its
        return finding
    wrong = {name: w for name, w in wrong.items() if name in called}
    names = " and ".join(f"`{name}` ({helper['question']})" for name, (helper, _, _) in wrong.items())
    chain = "".join(f", which is wrong only because it calls {f.chain}" for _, f, _ in wrong.values()
                    if getattr(f, "chain", ""))
    roots = [getattr(f, "root", f) for _, f, _ in wrong.values()]
    first_fix = " and ".join(getattr(f, "first_fix", helper["question"]) for helper, f, _ in wrong.values())
    reports = "\n".join(textwrap.indent(str(root), "    ") for root in roots)
    replaced = " and ".join(f"`{n}`" for n in wrong)
    if again is None:
        inherited = Finding(spec["function"], "inherited", note=(
            f"wrong only because it calls {names}{chain}: with the "
            f"right {replaced} in its place, your {spec['function']} passes. Fix {first_fix} first; "
            f"then this check passes too. That check says:\n{reports}"))
        inherited.chain = names + chain
        inherited.root = roots[0] if len(roots) == 1 else inherited
        inherited.first_fix = first_fix
        return inherited
    again.note = (again.note + "\n" if again.note else "") + (
        f"(It also calls {names}{chain}, which {'fails its own check' if len(wrong) == 1 else 'fail their own checks'}: "
        f"fix {first_fix} first. The values "
        f"above use the right {replaced} in its place, so what is left is a mistake in "
        f"{spec['function']} itself.)")
    return again


def check_stored(name: str, obj, data_path=None, symbols=None) -> None:
    """Raise ``AssertionError`` naming the wrong part, step and likely cause (see :func:`diagnose`).

    Stored values (``kind="value"``) are compared with :func:`check_array`; stored SymPy answers
    (``kind="expression"``) are evaluated at the stored points, with the notebook's ``symbols``.
    """
    _unanswered(name, obj)
    spec = stored(name, data_path)
    if spec["kind"] == "value":
        check_array(name, obj, spec["expected"], spec["threshold"], spec.get("hint", ""))
        return
    if spec["kind"] == "expression":
        check_expression_at_points(name, obj, symbols or {}, spec["points"], spec.get("hint", ""))
        return
    finding = diagnose(spec, obj, data_path)
    if finding is not None:
        raise AssertionError(str(finding))


# --- Checks for numbers, arrays, expressions and simulations -------------------------------------

def _unanswered(name, value):
    if value is None or value is Ellipsis:
        raise AssertionError(f"{name}: not answered yet (it is {value!r}).")


def check_answered(**answers) -> None:
    """Raise "not answered yet" for the first answer that is still ``...`` or ``None``."""
    for name, value in answers.items():
        _unanswered(name, value)


def check_number(name: str, got, expected: float, threshold: float = 1e-9, hint: str = "",
                 atol: float = 0.0) -> None:
    """Raise unless the number ``got`` matches ``expected`` to relative error ``threshold``
    (or, for quantities that are zero up to rounding, to absolute error ``atol``)."""
    _unanswered(name, got)
    try:
        value = float(got)
    except (TypeError, ValueError):
        raise AssertionError(f"{name}: expected a number, got {type(got).__name__} {got!r}.") from None
    err = rel_error(expected, value)
    if err > threshold and not abs(value - expected) <= atol:
        within = f" or absolute error below {atol:.0e}" if atol else ""
        raise AssertionError(
            f"{name} is wrong.\n  expected: {expected:.10g}\n  got:      {value:.10g}\n"
            f"  relative error {err:.1e} (a correct answer is below {threshold:.0e}{within})"
            + (f"\n  Hint: {hint}" if hint else ""))


def check_array(name: str, got, expected, threshold: float = 1e-9, hint: str = "") -> None:
    """Raise unless ``got`` has ``expected``'s shape and matches it to relative error ``threshold``.

    The message names the first entry (in row-major order) whose error exceeds the threshold.
    """
    _unanswered(name, got)
    expected = np.asarray(expected, dtype=np.float64)
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{name}: expected an array of numbers, got {type(got).__name__}.") from None
    if arr.shape != expected.shape:
        raise AssertionError(f"{name} has shape {arr.shape}, expected {expected.shape}.")
    err = rel_error(expected, arr)
    if err > threshold:
        with np.errstate(invalid="ignore", divide="ignore"):
            each = np.abs(expected - arr) / np.maximum(np.abs(expected) + np.abs(arr), np.finfo(float).tiny)
        idx = tuple(int(i) for i in np.argwhere(~(each <= threshold))[0])
        raise AssertionError(
            f"{name} is wrong, first at index {idx if len(idx) > 1 else idx[0]}.\n"
            f"  expected: {expected[idx]:.10g}\n  got:      {arr[idx]:.10g}\n"
            f"  relative error {err:.1e} (a correct answer is below {threshold:.0e})"
            + (f"\n  Hint: {hint}" if hint else ""))


def check_monte_carlo(name: str, got, expected, stderr, z: float = 5.0, hint: str = "") -> None:
    """Raise unless each entry of a simulated average is within ``z`` standard errors of its expectation.

    With ``z = 5`` a correct simulation fails with probability below 1e-6 per entry; a fixed seed
    makes the check deterministic anyway.
    """
    _unanswered(name, got)
    expected = np.asarray(expected, dtype=np.float64)
    stderr = np.broadcast_to(np.asarray(stderr, dtype=np.float64), expected.shape)
    arr = np.asarray(got, dtype=np.float64)
    if arr.shape != expected.shape:
        raise AssertionError(f"{name} has shape {arr.shape}, expected {expected.shape}.")
    score = np.abs(arr - expected) / stderr
    if not np.all(score <= z):
        i = int(np.argmax(~(score <= z)))
        raise AssertionError(
            f"{name} is off by more than {z:g} standard errors, first at index {i}.\n"
            f"  expected: {expected.flat[i]:.6g} ± {stderr.flat[i]:.2g} (one standard error)\n"
            f"  got:      {arr.flat[i]:.6g}  ({score.flat[i]:.1f} standard errors away)"
            + (f"\n  Hint: {hint}" if hint else ""))


def _generic_branch(expr):
    """Replace each Piecewise by its branch for 0 < beta < 1, the case the derivations treat.

    SymPy's finite geometric sums carry a separate branch for ratio 1 (``Eq(beta, 1)``, no
    averaging), and its infinite sums an unevaluated ``Sum`` for ratio 1 or more: the branch kept is
    the first one that is neither.
    """
    import sympy as sp

    def pick(piecewise):
        for branch in piecewise.args:
            if not isinstance(branch.cond, sp.Eq) and not branch.expr.has(sp.Sum) and not (
                    isinstance(branch.cond, sp.Or) and any(isinstance(c, sp.Eq) for c in branch.cond.args)):
                return branch.expr
        return piecewise.args[-1].expr

    return expr.replace(lambda e: isinstance(e, sp.Piecewise), pick)


def _as_expression(name, got):
    import sympy as sp

    _unanswered(name, got)
    try:
        return _generic_branch(sp.sympify(got))
    except (sp.SympifyError, TypeError):
        raise AssertionError(f"{name}: expected a SymPy expression, got {type(got).__name__}.") from None


def _check_symbols(name, got_expr, allowed: dict):
    """Every free symbol of the answer must be one of the predefined ``allowed`` (by name)."""
    for s in got_expr.free_symbols:
        if s.name in allowed and s != allowed[s.name]:
            raise AssertionError(
                f"{name} uses a symbol {s.name} that is not the one defined at the top of the "
                f"notebook (a Symbol with other assumptions is a different symbol to SymPy): "
                f"use the predefined {s.name}.")
    extra = sorted(s.name for s in got_expr.free_symbols if s.name not in allowed)
    if extra:
        raise AssertionError(f"{name} contains symbol(s) {', '.join(extra)} that the answer does "
                             f"not depend on; it may depend only on {', '.join(sorted(allowed)) or 'no symbols'}.")


def check_expression(name: str, got, expected, points=None, hint: str = "") -> None:
    """Raise unless the SymPy expression ``got`` equals ``expected`` identically.

    The test is exact: ``simplify(got - expected) == 0`` (after taking the generic branch of any
    Piecewise). On failure the message gives a point where the two differ.
    """
    import sympy as sp

    got_expr = _as_expression(name, got)
    expected = _generic_branch(sp.sympify(expected))
    _check_symbols(name, got_expr, {s.name: s for s in expected.free_symbols})
    if sp.simplify(got_expr - expected) == 0:
        return
    if points is None:
        base = sorted(expected.free_symbols, key=lambda s: s.name)
        values = [sp.Rational(9, 10), 3, sp.Rational(1, 2), 2, sp.Rational(7, 10)]
        points = [{s: (values[(i + k) % len(values)] if not s.is_integer else 1 + (i + k) % 3)
                   for i, s in enumerate(base)} for k in range(5)]
    for point in points:
        e, g_ = expected.subs(point), got_expr.subs(point)
        if sp.simplify(e - g_) != 0:
            shown = ", ".join(f"{k} = {v}" for k, v in point.items())
            raise AssertionError(
                f"{name} is not identically equal to the expected expression.\n"
                f"  your expression: {got_expr}\n"
                f"  at {shown}: expected {sp.nsimplify(e)}, got {sp.nsimplify(g_)}"
                + (f"\n  Hint: {hint}" if hint else ""))
    raise AssertionError(f"{name} is not identically equal to the expected expression "
                         f"(they agree at the test points but differ elsewhere).\n"
                         f"  your expression: {got_expr}" + (f"\n  Hint: {hint}" if hint else ""))


def check_expression_at_points(name: str, got, symbols: dict, points: list, hint: str = "",
                               threshold: float = 1e-12) -> None:
    """Raise unless the SymPy expression ``got`` takes the stored values at the stored points.

    ``symbols`` maps names to the notebook's predefined symbols; ``points`` is a list of
    ``(substitutions by name, expected value)``. The public tests use this (the expected
    expression itself is not handed out); the hidden tests check the identity exactly.
    """
    import sympy as sp

    got_expr = _as_expression(name, got)
    _check_symbols(name, got_expr, symbols)
    for values, expected in points:
        point = {symbols[k]: sp.nsimplify(v) for k, v in values.items()}
        try:
            value = complex(sp.N(got_expr.subs(point).doit(), 30))
        except (TypeError, ValueError):
            raise AssertionError(f"{name} does not evaluate to a number at "
                                 f"{', '.join(f'{k} = {v}' for k, v in values.items())}; "
                                 f"it gives {got_expr.subs(point)}.") from None
        if abs(value.imag) > 1e-12 or rel_error(expected, value.real) > threshold:
            shown = ", ".join(f"{k} = {sp.nsimplify(v)}" for k, v in values.items())
            raise AssertionError(
                f"{name} is wrong.\n  your expression: {got_expr}\n"
                f"  at {shown}: expected {expected:.10g}, yours gives {value.real:.10g}"
                + (f"\n  Hint: {hint}" if hint else ""))


# --- Probe problems used by stored run checks -----------------------------------------------------

def _rosenbrock_grad(x):
    x = np.asarray(x, dtype=np.float64)
    return np.array([-2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] ** 2), 200.0 * (x[1] - x[0] ** 2)])


def _valley_grad(x):
    """Gradient of f = (x**2 + 50 y**2) / 2, the book's ill-conditioned quadratic."""
    x = np.asarray(x, dtype=np.float64)
    return np.array([1.0, 50.0]) * x


#: Gradient functions that stored run probes pass to the student's loop (``spec["problem"]``).
PROBLEMS = {"rosenbrock": _rosenbrock_grad, "valley": _valley_grad}
