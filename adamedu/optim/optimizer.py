r"""The base class of every optimizer: parameter groups, checks, state, and where speed comes from.

An optimizer subclass writes its algorithm once, as NumPy expressions that read like the paper
(see :class:`adamedu.optim.Adam`). This class does everything around it, the same way for all:

* **Parameter groups**, as in PyTorch: ``opt.param_groups`` is a list of dicts, each with
  ``"params"`` (the arrays it updates in place) and its hyperparameters. A schedule changes a
  learning rate with ``opt.param_groups[0]["lr"] = 0.01``; the new value is checked before the next
  step uses it. (``opt.defaults`` only fills in options missing from a group when it is added.)
* **Checks first, then changes.** :meth:`Optimizer.step` checks everything that could go wrong
  (gradients, hyperparameters, parameters) before any array changes, so a step that raises
  leaves every parameter and every state array exactly as it was.
* **State** per parameter, with PyTorch's names: ``opt.state[i]`` for the i-th parameter (all
  groups, in order), created at the parameter's first step; :meth:`state_dict` and
  :meth:`load_state_dict` in PyTorch's layout.
* **Speed.** A parameter larger than :data:`CHUNK_BYTES` is updated in cache-sized chunks, spread
  over a few threads (NumPy releases the GIL inside its loops), so the temporaries that the
  readable expressions create stay small and in cache. An algorithm whose update is not
  elementwise sets ``elementwise = False`` and always sees whole parameters.

What a subclass defines:

``hyperparameters``
    ``{name: check}`` for every option (checks from :mod:`adamedu.optim.hyperparameters`).
``_init_state(p, **options)``
    The state of a parameter before its first step (e.g. :math:`m_0 = v_0 = 0`).
``_begin_step(p, state, **options)``
    Advances the scalar state once per step (by default ``state["step"] += 1``) and returns extra
    keyword arguments for ``_update`` (NAdam's :math:`\mu_t`, for example).
``_update(p, g, state, **options)``
    The algorithm: changes ``p`` and the state's arrays **in place**, elementwise. It may run on a
    chunk of a parameter (then ``p``, ``g`` and the state's arrays are matching slices); it must
    not add entries to ``state``.
``_check_options(options)`` (optional)
    Checks between options (SGD: Nesterov needs momentum).
``_moments(state, **options)`` and ``_step_size(p, state, **options)`` (optional)
    The bias-corrected moment estimates (:meth:`moments`) and the per-coordinate step size
    (``track_updates``).
"""

from __future__ import annotations

import contextvars
import itertools
import math
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import numpy as np

from adamedu.optim.hyperparameters import Check, flag

__all__ = ["CHUNK_BYTES", "THREADS", "Optimizer", "ParamGroup"]

#: Bytes of each array that one call of an algorithm's update handles. Parameters up to this size
#: are updated in one call; larger ones in chunks of this size, so that the few temporaries each
#: NumPy expression creates stay in the processor's cache. 512 KiB (128k float32 numbers) was the
#: fastest of 64 KiB to 2 MiB in ``benchmarks/bench_adam_step.py``.
CHUNK_BYTES = 1 << 19

#: Threads that share the chunks of one large parameter.
THREADS = max(1, min(4, os.cpu_count() or 1))

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0


def _thread_pool() -> ThreadPoolExecutor:
    """The worker threads for chunked updates, created once per process (and again after a fork)."""
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():
        _pool = ThreadPoolExecutor(max_workers=THREADS - 1, thread_name_prefix="adamedu")
        _pool_pid = os.getpid()
    return _pool


def _all_finite(g: np.ndarray) -> bool:
    """Whether every entry of a contiguous float array is finite, without a floating-point warning.

    Large arrays: one fast sum of squares, and the exact test only when that sum is not finite (a
    NaN or inf entry, or mere overflow).
    """
    flat = g if g.ndim == 1 else g.reshape(-1)
    if flat.size <= 4096:
        return bool(np.isfinite(flat).all())
    with np.errstate(over="ignore", invalid="ignore"):
        return math.isfinite(flat.dot(flat)) or bool(np.isfinite(flat).all())


def _same_arrays(current: Sequence[Any], known: tuple[np.ndarray, ...]) -> bool:
    """Whether a group's ``params`` still holds exactly the arrays it was built with."""
    if len(current) != len(known):
        return False
    for a, b in zip(current, known):
        if a is not b:
            return False
    return True


def _aliases(g: np.ndarray, params: list[np.ndarray]) -> bool:
    """Whether ``g`` may share memory with any parameter (then updating one would change it)."""
    if g.base is None:  # g owns its memory: only g itself or a view of it can overlap it
        for q in params:
            if q is g or q.base is g:
                return True
        return False
    for q in params:
        if np.may_share_memory(g, q):
            return True
    return False


class ParamGroup(dict):
    """A parameter group: a dict that notes when it is edited, so the next step checks it again.

    Every way of changing a dict (``group["lr"] = 0.01``, ``update``, ``del``, ...) sets
    ``edited``; :meth:`Optimizer.step` then checks the group's values before using them.
    """

    __slots__ = ("edited",)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.edited = True

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self.edited = True

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self.edited = True

    def __ior__(self, other: Any) -> ParamGroup:
        self.update(other)
        return self

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self.edited = True

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self.edited = True
        return super().setdefault(key, default)

    def pop(self, *args: Any) -> Any:
        self.edited = True
        return super().pop(*args)

    def popitem(self) -> tuple[Any, Any]:
        self.edited = True
        return super().popitem()

    def clear(self) -> None:
        super().clear()
        self.edited = True


class Optimizer:
    """Base class of the optimizers in :mod:`adamedu.optim` (see the module docstring).

    Attributes: ``param_groups`` (list of dicts), ``defaults`` (the constructor's options),
    ``state`` (one dict per parameter, in the order of :attr:`params`), ``track_updates``, and
    with it ``last_update`` (the change :math:`\\Delta_t = \\theta_t - \\theta_{t-1}` of each
    parameter at the last step) and ``last_step_size`` (the per-coordinate step size the class
    documents), both ``None`` before the first step and for parameters the step skipped.
    """

    hyperparameters: ClassVar[dict[str, Check]] = {}
    elementwise: ClassVar[bool] = True
    _custom_begin_step: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        cls._custom_begin_step = cls._begin_step is not Optimizer._begin_step

    def __init__(self, params: Any, defaults: dict[str, Any], *, track_updates: bool = False):
        self.defaults = self._checked_options(defaults)
        self.track_updates = flag("track_updates", track_updates)
        self.param_groups: list[ParamGroup] = []
        self.state: list[dict[str, Any]] = []
        self.last_update: list[np.ndarray | None] | None = None
        self.last_step_size: list[np.ndarray | None] | None = None
        self._params: list[np.ndarray] = []  # every parameter, in group order
        self._layout: list[tuple[tuple[int, ...], np.dtype]] = []  # their shapes and dtypes
        self._group_of: list[int] = []  # the group of each parameter
        self._groups: list[tuple[ParamGroup, tuple, dict]] = []  # (group, its arrays, options)
        for group in self._as_groups(params):
            self.add_param_group(group)

    # -- building ------------------------------------------------------------------------------
    @staticmethod
    def _as_groups(params: Any) -> list[dict[str, Any]]:
        if isinstance(params, np.ndarray):
            return [{"params": [params]}]
        if isinstance(params, (set, frozenset, dict)) or not isinstance(params, Iterable):
            raise TypeError(
                "params must be an array, a list of arrays, or a list of dicts (parameter "
                f"groups), got {type(params).__name__}"
            )
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        if all(isinstance(p, dict) for p in params):
            return params
        if any(isinstance(p, dict) for p in params):
            raise TypeError("params must be all arrays or all dicts (parameter groups), not a mix")
        return [{"params": params}]

    def _checked_param(self, p: Any, where: str) -> np.ndarray:
        if not isinstance(p, np.ndarray):
            raise TypeError(
                f"{where} must be a NumPy array of dtype float32 or float64, got {type(p).__name__}"
            )
        if type(p) is not np.ndarray and not isinstance(p, np.memmap):
            raise TypeError(
                f"{where} is a {type(p).__name__}, whose arithmetic differs from an array's "
                "(np.matrix multiplies as matrices); pass a plain array: x = np.asarray(x)"
            )
        if p.dtype not in _FLOAT_DTYPES:
            raise ValueError(
                f"{where} has dtype {p.dtype}; the optimizer updates parameters in place, so they "
                "must be float32 or float64 arrays (use x.astype(np.float64))"
            )
        if not p.flags.writeable:
            raise ValueError(f"{where} is a read-only array")
        return p

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing options come from ``defaults``).

        Everything is checked first: a refused group changes nothing. The group is stored as a
        :class:`ParamGroup` (a dict), in ``opt.param_groups``.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs a 'params' entry (its list of arrays)")
        params = param_group["params"]
        if isinstance(params, np.ndarray):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "parameters must be in an ordered collection (a list), not a set, so that "
                "their order (and opt.state[i]) is the same in every run"
            )
        else:
            params = list(params)
        first = len(self._params)
        for k, p in enumerate(params):
            self._checked_param(p, f"parameter {first + k}")
        for k, p in enumerate(params):
            for j, q in enumerate(itertools.chain(self._params, params[:k])):
                if p is q:
                    raise ValueError(
                        f"parameter {first + k} appears more than once (it is parameter {j})"
                    )
                if np.shares_memory(p, q):
                    raise ValueError(
                        f"parameters {j} and {first + k} share memory (views of one array); an "
                        "update of one would change the other: pass each array once"
                    )
        group = ParamGroup(self.defaults)
        group.update({k: v for k, v in param_group.items() if k != "params"})
        options = self._checked_options(group)
        # Accepted: from here on nothing raises.
        group.update(options, params=params)
        group.edited = False
        self.param_groups.append(group)
        self._groups.append((group, tuple(params), options))
        gi = len(self.param_groups) - 1
        for p in params:
            self._params.append(p)
            self._layout.append((p.shape, p.dtype))
            self._group_of.append(gi)
            self.state.append({})

    def _checked_options(self, values: dict[str, Any]) -> dict[str, Any]:
        """The class's options from ``values``, each checked, as the values to compute with."""
        options = {}
        for name, check in self.hyperparameters.items():
            if name not in values:
                raise ValueError(f"a parameter group has no value for {name!r}")
            options[name] = check(name, values[name])
        self._check_options(options)
        return options

    def _check_options(self, options: dict[str, Any]) -> None:
        """Checks that involve several options (none by default)."""

    # -- the hooks an algorithm defines --------------------------------------------------------
    def _init_state(self, p: np.ndarray, **options: Any) -> dict[str, Any]:
        return {"step": 0}

    def _begin_step(self, p: np.ndarray, state: dict[str, Any], **options: Any) -> dict[str, Any]:
        state["step"] += 1
        return {}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                **options: Any) -> None:
        raise NotImplementedError  # pragma: no cover - every optimizer defines it

    def _moments(self, state: dict[str, Any], **options: Any) -> tuple[np.ndarray, np.ndarray]:
        raise TypeError(f"{type(self).__name__} keeps no moment estimates")

    def _step_size(self, p: np.ndarray, state: dict[str, Any], **options: Any) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover

    # -- stepping ------------------------------------------------------------------------------
    @property
    def params(self) -> list[np.ndarray]:
        """Every parameter, in the order of ``opt.state`` (group by group)."""
        return list(self._params)

    def step(self, grads: Sequence[np.ndarray | None] | np.ndarray) -> None:
        """Update every parameter in place from its gradient.

        ``grads`` holds one gradient per parameter, in the order of :attr:`params` (a single
        array is accepted when there is one parameter). A ``None`` gradient skips its parameter,
        as PyTorch skips a parameter whose ``.grad`` is None. Everything is checked before any
        array changes: a wrong container, count, shape or dtype raises ``TypeError`` or
        ``ValueError``, a NaN or infinite gradient ``FloatingPointError``, a hyperparameter edited
        to a bad value ``TypeError`` or ``ValueError``; parameters and state are then unchanged.
        """
        options = self._group_options()
        grads = self._checked_grads(grads)  # and the parameters they update
        # Everything is checked: from here on the step only computes.
        begin_step = self._begin_step if self._custom_begin_step else None
        track = self.track_updates
        if track:
            updates: list[np.ndarray | None] = [None] * len(grads)
            step_sizes: list[np.ndarray | None] = [None] * len(grads)
        for i, p in enumerate(self._params):
            g = grads[i]
            if g is None:
                continue
            state = self.state[i]
            opts = options[self._group_of[i]]
            if not state:
                state.update(self._init_state(p, **opts))
            if begin_step is None:
                state["step"] += 1
                run_opts = opts
            else:
                extra = begin_step(p, state, **opts)
                run_opts = {**opts, **extra} if extra else opts
            if track:
                before = p.copy()
            if p.nbytes <= CHUNK_BYTES or not self.elementwise or not p.flags.c_contiguous:
                self._update(p, g, state, **run_opts)
            else:
                self._update_in_chunks(p, g, state, run_opts)
            if track:
                updates[i] = np.subtract(p, before, out=before)
                step_sizes[i] = self._step_size(p, state, **opts)
        if track:
            self.last_update, self.last_step_size = updates, step_sizes

    def _group_options(self) -> list[dict[str, Any]]:
        """Each group's checked options; a group is checked again only after it was edited."""
        groups = self.param_groups
        if len(groups) != len(self._groups):
            raise ValueError(
                "param_groups changed length; add groups with opt.add_param_group(group)"
            )
        out = []
        recheck = []
        for gi, (group, (known, params, options)) in enumerate(zip(groups, self._groups)):
            current = group.get("params") if isinstance(group, dict) else None
            if (group is not known or group.edited or current is None
                    or not _same_arrays(current, params)):
                recheck.append(gi)
                if not isinstance(group, dict) or current is None:
                    raise TypeError(f"param_groups[{gi}] is not a parameter group with 'params'")
                if not _same_arrays(current, params):
                    raise ValueError(
                        f"the parameters of param_groups[{gi}] changed after it was added; add "
                        "new parameters with opt.add_param_group(...)"
                    )
                try:
                    options = self._checked_options(group)
                except (TypeError, ValueError) as err:
                    raise type(err)(f"param_groups[{gi}]: {err}") from None
            out.append(options)
        # Accepted: keep the checked values (stored back in canonical form: 0.1, not array(0.1)),
        # and give existing state any entries the new options need (e.g. amsgrad switched on).
        for gi in recheck:
            group = groups[gi]
            if not isinstance(group, ParamGroup):
                group = groups[gi] = ParamGroup(group)
            group.update(out[gi])
            group.edited = False
            self._groups[gi] = (group, tuple(group["params"]), out[gi])
            for i, p in enumerate(self._params):
                state = self.state[i]
                if self._group_of[i] == gi and state:
                    for key, value in self._init_state(p, **out[gi]).items():
                        state.setdefault(key, value)
        return out

    def _checked_grads(self, grads: Any) -> list[np.ndarray | None]:
        params = self._params
        if isinstance(grads, np.ndarray):
            if len(params) != 1:
                raise TypeError(
                    f"step() takes a list with one gradient per parameter ({len(params)} "
                    "parameters), got a single array"
                )
            grads = [grads]
        elif not isinstance(grads, (list, tuple)):
            raise TypeError(
                "step() takes a list with one gradient per parameter, got "
                f"{type(grads).__name__}; for one parameter x write opt.step([grad])"
            )
        if len(grads) != len(params):
            raise ValueError(
                f"expected {len(params)} gradient(s), one per parameter, got {len(grads)}"
            )
        out: list[np.ndarray | None] = []
        for i, (p, g, layout) in enumerate(zip(params, grads, self._layout)):
            if g is None:
                out.append(None)
                continue
            if (type(g) is np.ndarray and g.dtype is p.dtype and g.shape == p.shape
                    and g.flags.c_contiguous):  # the usual case, checked quickly
                if _aliases(g, params):
                    g = g.copy()  # grad(x) = x, or f = x·y: a moving parameter must not change it
            else:
                g = self._converted_grad(i, p, g)
            if not _all_finite(g):
                raise FloatingPointError(
                    f"gradient {i} contains NaN or infinite values; parameters and optimizer "
                    "state were left unchanged"
                )
            if not p.flags.writeable:
                raise ValueError(f"parameter {i} is read-only now (its writeable flag was cleared)")
            if p.shape != layout[0] or p.dtype != layout[1]:
                raise ValueError(
                    f"parameter {i} changed from shape {layout[0]}, dtype {layout[1]} to "
                    f"{p.shape}, {p.dtype} after it was added"
                )
            out.append(g)
        return out

    def _converted_grad(self, i: int, p: np.ndarray, g: Any) -> np.ndarray:
        """Gradient ``i`` as a contiguous array of its parameter's dtype, or a clear error."""
        if type(g) is not np.ndarray:
            if isinstance(g, np.ndarray):
                g = g.view(np.ndarray)  # np.matrix and friends: plain elementwise arithmetic
            else:
                try:
                    g = np.asarray(g)
                except Exception as err:  # noqa: BLE001
                    raise TypeError(f"gradient {i} is not an array of numbers: {err}") from None
        if g.dtype.kind not in "fiu":
            raise TypeError(f"gradient {i} has dtype {g.dtype}; gradients must be real numbers")
        if g.shape != p.shape:
            raise ValueError(
                f"gradient {i} has shape {g.shape} but parameter {i} has shape {p.shape}"
            )
        if g.dtype != p.dtype or not g.flags.c_contiguous:
            return np.ascontiguousarray(g, dtype=p.dtype)  # a new array, aliasing nothing
        return g.copy() if _aliases(g, self._params) else g

    def _update_in_chunks(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                          options: dict) -> None:
        """Run the algorithm on a large parameter in chunks, spread over a few threads."""
        n_chunk = CHUNK_BYTES // p.itemsize
        flat = {k: v.reshape(-1) for k, v in state.items()
                if isinstance(v, np.ndarray) and v.shape == p.shape}
        scalars = {k: v for k, v in state.items() if k not in flat}
        p_flat, g_flat = p.reshape(-1), g.reshape(-1)
        starts = range(0, p.size, n_chunk)

        def update_chunks(chunk_starts: Sequence[int]) -> None:
            for lo in chunk_starts:
                part = dict(scalars)
                for k, v in flat.items():
                    part[k] = v[lo:lo + n_chunk]
                self._update(p_flat[lo:lo + n_chunk], g_flat[lo:lo + n_chunk], part, **options)

        workers = min(THREADS, len(starts))
        if workers == 1:
            update_chunks(starts)
            return
        share = -(-len(starts) // workers)
        parts = [starts[k * share:(k + 1) * share] for k in range(workers)]
        pool = _thread_pool()
        # Each worker sees this thread's NumPy settings (np.errstate) through a copied context.
        futures = [pool.submit(contextvars.copy_context().run, update_chunks, part)
                   for part in parts[1:]]
        update_chunks(parts[0])
        for future in futures:
            future.result()

    # -- reading the state ---------------------------------------------------------------------
    def moments(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """The bias-corrected moment estimates :math:`(\\hat m_t, \\hat v_t)` of parameter ``i``.

        New arrays, computed from the state as the class documents (for Adam exactly the two
        quantities its update divides). ``TypeError`` for optimizers without moment estimates,
        ``ValueError`` before the parameter's first step.
        """
        if type(self)._moments is Optimizer._moments:
            raise TypeError(f"{type(self).__name__} keeps no moment estimates")
        state = self.state[i]
        if not state:
            raise ValueError(f"parameter {i} has taken no step yet: it has no moment estimates")
        return self._moments(state, **self._groups[self._group_of[i]][2])

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, as copies (later steps do not change it).

        ``{"state": {i: {...}}, "param_groups": [{..., "params": [i, ...]}]}``, where ``i`` is a
        parameter's index in :attr:`params`; only parameters that have taken a step have state.
        (PyTorch returns references to its state tensors; here later steps leave a saved
        state dict alone, so no ``copy.deepcopy`` is needed.)
        """
        state = {
            i: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in st.items()}
            for i, st in enumerate(self.state) if st
        }
        groups, first = [], 0
        for group in self.param_groups:
            saved = {k: v for k, v in group.items() if k != "params"}
            saved["params"] = list(range(first, first + len(group["params"])))
            first += len(group["params"])
            groups.append(saved)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict` (of an optimizer of the same class and layout).

        Everything is checked first (group sizes, options, state shapes); arrays are copied and
        cast to their parameter's dtype. Steps after the load continue exactly as they would
        have from where the state dict was saved.
        """
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("a state dict has exactly the keys 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter group(s), the optimizer "
                f"has {len(self.param_groups)}"
            )
        index: dict[Any, int] = {}
        new_groups = []
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            ids = saved.get("params", [])
            if len(ids) != len(group["params"]):
                raise ValueError(
                    f"loaded state dict's group {gi} has {len(ids)} parameter(s), the "
                    f"optimizer's has {len(group['params'])}"
                )
            first = sum(len(g["params"]) for g in self.param_groups[:gi])
            index.update({k: first + j for j, k in enumerate(ids)})
            try:
                options = self._checked_options(saved)
            except (TypeError, ValueError) as err:
                raise type(err)(f"loaded state dict, group {gi}: {err}") from None
            new_group = ParamGroup({k: v for k, v in saved.items() if k != "params"})
            new_group.update(options, params=group["params"])
            new_group.edited = False
            new_groups.append((new_group, options))
        new_state: list[dict[str, Any]] = [{} for _ in self._params]
        for key, entries in state_dict["state"].items():
            if key not in index:
                raise ValueError(f"loaded state dict has state for unknown parameter {key!r}")
            i = index[key]
            new_state[i] = self._checked_state(i, entries)
        # Accepted: replace.
        self.param_groups[:] = [group for group, _ in new_groups]
        self._groups = [(group, tuple(group["params"]), options) for group, options in new_groups]
        self.state[:] = new_state

    def _checked_state(self, i: int, entries: dict[str, Any]) -> dict[str, Any]:
        """Copies of a parameter's loaded state, cast to its dtype; arrays must match its shape."""
        p = self._params[i]
        out: dict[str, Any] = {}
        for k, v in entries.items():
            if k == "step":
                step = float(np.asarray(v))
                if not (step >= 0 and step == int(step)):
                    raise ValueError(f"loaded state of parameter {i}: invalid step {v!r}")
                out[k] = int(step)
            elif isinstance(v, (np.ndarray, list)) or hasattr(v, "__array__"):
                a = np.array(v, dtype=p.dtype, order="C")
                if a.shape != p.shape and self.elementwise:
                    raise ValueError(
                        f"loaded state {k!r} of parameter {i} has shape {a.shape}, the parameter "
                        f"has shape {p.shape}"
                    )
                out[k] = a
            else:
                out[k] = float(v)
        return out

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for gi, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {gi}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)
