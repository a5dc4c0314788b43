r"""Learning-rate schedules with PyTorch's names, arguments and numbers.

Fifteen classes mirror :mod:`torch.optim.lr_scheduler`: :class:`LambdaLR`,
:class:`MultiplicativeLR`, :class:`StepLR`, :class:`MultiStepLR`, :class:`ConstantLR`,
:class:`LinearLR`, :class:`ExponentialLR`, :class:`PolynomialLR`, :class:`CosineAnnealingLR`,
:class:`CosineAnnealingWarmRestarts`, :class:`CyclicLR`, :class:`OneCycleLR`,
:class:`SequentialLR`, :class:`ChainedScheduler` and :class:`ReduceLROnPlateau`.  They work on
any optimizer with a ``param_groups`` list (every optimizer of :mod:`adamedu`): a schedule sets
``group["lr"]`` of every parameter group, and the cycling schedules also set ``group["momentum"]``
(SGD-like optimizers) or the first entry of ``group["betas"]`` (Adam-like ones).

Usage, exactly as in PyTorch::

    opt = Adam([w], lr=1e-3)
    sched = CosineAnnealingLR(opt, T_max=100)
    for t in range(100):
        opt.step([grad(w)])
        sched.step()              # after the optimizer's step, once per step (or epoch)

Conventions shared by every class (PyTorch's):

* Constructing a scheduler stores each group's starting learning rate as ``group["initial_lr"]``
  (unless it is already there), sets ``last_epoch = 0`` and writes the schedule's first value
  into the groups: the learning rate used by the *first* optimizer step is :math:`\eta_0`.
* Each :meth:`LRScheduler.step` advances ``last_epoch`` by one and writes :math:`\eta_t` with
  :math:`t` = ``last_epoch``.  Calling it before the first ``opt.step`` skips :math:`\eta_0`; a
  warning says so, as in PyTorch.
* Most schedules are *chainable*: they compute the new rate from the group's current ``lr``
  (multiplicatively), so two schedules stacked with :class:`ChainedScheduler` multiply.  The
  docstrings give the closed form each recursion follows, :math:`\eta_t` as a function of
  :math:`t` and the base rate :math:`\eta_{\mathrm{base}}` (``initial_lr``).  The recursions are
  PyTorch's, evaluated in the same order, so the numbers agree with PyTorch's to the last bit or
  nearly (the tests allow 1e-12 relative) even where a recursion drifts from its closed form.
* One deliberate difference: a rate that a recursion leaves below zero by a rounding residue
  (at most 1e-12 of the base rate; ``LinearLR(end_factor=0)`` ends at about -1e-18) is written as
  exactly 0, because adamedu's optimizers refuse negative learning rates.
* ``resume``: ``last_epoch=k`` continues a schedule at step ``k`` (each group must already hold
  ``initial_lr``); :meth:`LRScheduler.state_dict` / :meth:`LRScheduler.load_state_dict` save and
  restore everything but the optimizer.
"""

from __future__ import annotations

import math
import types
import warnings
import weakref
from bisect import bisect_right
from collections import Counter
from functools import partial, wraps

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "MultiplicativeLR",
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "OneCycleLR",
    "SequentialLR",
    "ChainedScheduler",
    "ReduceLROnPlateau",
]

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` is deprecated (as in PyTorch): call "
    "`scheduler.step()` without it.  With an epoch the closed form of the schedule is used "
    "instead of the chainable recursion, where the schedule has one."
)


# -- helpers ---------------------------------------------------------------------------------
def _check_optimizer(optimizer):
    if not isinstance(getattr(optimizer, "param_groups", None), list):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _format_param(name, optimizer, param):
    """One value per parameter group: a list of the right length, or a scalar repeated."""
    if isinstance(param, (list, tuple)):
        if len(param) != len(optimizer.param_groups):
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. "
                f"{name} has {len(param)} values, param_groups has "
                f"{len(optimizer.param_groups)}."
            )
        return list(param)
    return [param] * len(optimizer.param_groups)


def _group_values(optimizer, key):
    return [group[key] for group in optimizer.param_groups]


#: A computed rate below zero by at most this fraction of the group's base rate is rounding, and is
#: written as 0 (see :func:`_write_lrs`).
ROUNDING_ZERO = 1e-12


def _write_lrs(optimizer, values):
    """Write one learning rate per group; rounding residues below zero become exactly 0.

    PyTorch's recursions can end a schedule that should reach zero a few units in the last place
    *below* zero (``LinearLR(end_factor=0)`` ends at about -1e-18 times the base rate). PyTorch's
    optimizers accept that; adamedu's refuse a negative learning rate, so such a residue is written
    as 0.0. A rate that is negative by more than ``ROUNDING_ZERO`` times the base rate is written
    as it is (and the optimizer's next step refuses it).
    """
    groups = optimizer.param_groups
    if len(values) != len(groups):
        raise ValueError(f"expected {len(groups)} learning rates, got {len(values)}")
    for group, lr in zip(groups, values):
        if lr < 0 and -lr <= ROUNDING_ZERO * abs(group.get("initial_lr", 0.0)):
            lr = 0.0
        group["lr"] = lr


def _set_momentum(group, momentum, use_beta1):
    """Cycle the momentum: ``betas[0]`` for Adam-like optimizers, ``momentum`` for SGD-like."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _mark_optimizer_steps(optimizer):
    """Wrap ``optimizer.step`` so that it records that it ran (PyTorch does the same).

    :meth:`LRScheduler.step` uses the record to warn when the schedule is stepped before the
    optimizer, which would skip the schedule's first value.
    """
    step = optimizer.step
    if getattr(step, "_wrapped_by_lr_sched", False):
        return
    func = getattr(step, "__func__", None)
    if func is None:  # not a bound method: leave it alone
        return
    opt_ref = weakref.ref(optimizer)

    @wraps(func)
    def wrapper(*args, **kwargs):
        opt = opt_ref()
        opt._opt_called = True
        return func.__get__(opt, opt.__class__)(*args, **kwargs)

    wrapper._wrapped_by_lr_sched = True
    try:
        optimizer.step = wrapper
    except AttributeError:  # an optimizer without instance attributes: no warning then
        pass


class _Flag:
    """Context manager that sets a boolean attribute of a scheduler for its duration."""

    def __init__(self, scheduler, name):
        self.scheduler, self.name = scheduler, name

    def __enter__(self):
        setattr(self.scheduler, self.name, True)

    def __exit__(self, *exc):
        setattr(self.scheduler, self.name, False)


def _warn_get_lr_called_within_step(scheduler):
    if not scheduler._get_lr_called_within_step:
        warnings.warn(
            "To get the last learning rate computed by the scheduler, please use "
            "`get_last_lr()`.",
            UserWarning,
            stacklevel=3,
        )


def _state_dict_without(scheduler, *names):
    return {k: v for k, v in scheduler.__dict__.items() if k not in ("optimizer", *names)}


def _callables_state(functions):
    """What ``state_dict`` keeps of user callables: the ``__dict__`` of callable objects only."""
    return [None if isinstance(fn, types.FunctionType) else fn.__dict__.copy() for fn in functions]


# -- base class ------------------------------------------------------------------------------
class LRScheduler:
    """Base class: stores ``initial_lr``, counts ``last_epoch`` and writes each group's ``lr``.

    Subclasses define :meth:`get_lr` (the new rate of every group, usually computed from the
    current one) and, where PyTorch has one, ``_get_closed_form_lr`` (used by the deprecated
    ``step(epoch)``).
    """

    _get_lr_called_within_step = False
    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when "
                        "resuming scheduler with last_epoch >= 0 (load the optimizer's state "
                        "first, or start a fresh run with last_epoch=-1)"
                    )
        self.base_lrs = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        _mark_optimizer_steps(optimizer)
        self._initial_step()

    def _initial_step(self):
        """Write the schedule's value for ``last_epoch + 1`` (normally :math:`\\eta_0`)."""
        self._step_count = 0
        with _Flag(self, "_is_initial"):
            self.step()

    def get_lr(self):  # pragma: no cover - abstract
        """The learning rate of every group at step ``last_epoch`` (use :meth:`get_last_lr`)."""
        raise NotImplementedError

    def get_last_lr(self):
        """The learning rates the last :meth:`step` wrote, one per parameter group."""
        return self._last_lr

    def step(self, epoch=None):
        """Advance the schedule by one step and write the new learning rates into the groups."""
        if self._step_count == 1:
            if not getattr(self.optimizer.step, "_wrapped_by_lr_sched", False):
                warnings.warn(
                    "Seems like `optimizer.step()` has been overridden after learning rate "
                    "scheduler initialization. Please, make sure to call `optimizer.step()` "
                    "before `lr_scheduler.step()`.",
                    UserWarning,
                    stacklevel=2,
                )
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn(
                    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
                    "Call them in the opposite order: `optimizer.step()` before "
                    "`lr_scheduler.step()`.  Failure to do this will skip the first value "
                    "of the learning rate schedule.",
                    UserWarning,
                    stacklevel=2,
                )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        with _Flag(self, "_get_lr_called_within_step"):
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                if hasattr(self, "_get_closed_form_lr"):
                    values = self._get_closed_form_lr()
                else:
                    values = self.get_lr()
        _write_lrs(self.optimizer, values)
        self._last_lr = _group_values(self.optimizer, "lr")

    def state_dict(self):
        """Every attribute of the scheduler except the optimizer (PyTorch's layout)."""
        return _state_dict_without(self)

    def load_state_dict(self, state_dict):
        """Restore the attributes saved by :meth:`state_dict`."""
        self.__dict__.update(state_dict)

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch})"


# -- schedules defined by user functions -----------------------------------------------------
class _UserFunctions:
    """State handling of the schedules that take user functions (``lr_lambda``)."""

    def _set_lambdas(self, optimizer, lr_lambda):
        if not isinstance(lr_lambda, (list, tuple)):
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        else:
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(
                    f"Expected {len(optimizer.param_groups)} lr_lambdas, but got "
                    f"{len(lr_lambda)}"
                )
            self.lr_lambdas = list(lr_lambda)

    def state_dict(self):
        """As :meth:`LRScheduler.state_dict`; saves callable objects' attributes, not functions."""
        state = _state_dict_without(self, "lr_lambdas")
        state["lr_lambdas"] = _callables_state(self.lr_lambdas)
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        lr_lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, lr_lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class LambdaLR(_UserFunctions, LRScheduler):
    r"""The base rate times a function of the step.

    :math:`\eta_t = \eta_{\mathrm{base}}\,\lambda(t)`.

    ``lr_lambda`` is one function of the step count, or a list with one per parameter group.
    Linear warmup over :math:`w` steps, for example, is ``lambda t: min(1.0, (t + 1) / w)``.
    Not chainable: the value depends only on :math:`t` and ``initial_lr``.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        self._set_lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        # eta_t = eta_base * lambda(t)
        return [
            base_lr * lmbda(self.last_epoch)
            for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs)
        ]


class MultiplicativeLR(_UserFunctions, LRScheduler):
    r"""Multiply the current rate by a function of the step: :math:`\eta_t = \eta_{t-1}\lambda(t)`.

    So :math:`\eta_t = \eta_{\mathrm{base}} \prod_{s=1}^{t} \lambda(s)`.  ``lr_lambda``: one
    function, or one per parameter group.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        self._set_lambdas(optimizer, lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        # eta_t = eta_{t-1} * lambda(t)
        return [
            group["lr"] * lmbda(self.last_epoch)
            for lmbda, group in zip(self.lr_lambdas, self.optimizer.param_groups)
        ]


# -- step decays -----------------------------------------------------------------------------
class StepLR(LRScheduler):
    r"""Decay by ``gamma`` every ``step_size`` steps.

    :math:`\eta_t = \eta_{\mathrm{base}}\,\gamma^{\lfloor t/s \rfloor}` (:math:`s` = ``step_size``).
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [
            base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs
        ]


class MultiStepLR(LRScheduler):
    r"""Decay by ``gamma`` at each milestone.

    :math:`\eta_t = \eta_{\mathrm{base}}\,\gamma^{\#\{m_i \le t\}}` for milestones :math:`m_i`.

    A milestone listed twice decays twice.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if self.last_epoch not in self.milestones:
            return _group_values(self.optimizer, "lr")
        return [
            group["lr"] * self.gamma ** self.milestones[self.last_epoch]
            for group in self.optimizer.param_groups
        ]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return [
            base_lr * self.gamma ** bisect_right(milestones, self.last_epoch)
            for base_lr in self.base_lrs
        ]


class ConstantLR(LRScheduler):
    r"""A reduced rate for the first steps: :math:`\eta_t = \eta_{\mathrm{base}}\,f` for
    :math:`t < T`, then :math:`\eta_{\mathrm{base}}` (:math:`f` = ``factor``, :math:`T` =
    ``total_iters``)."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [
            base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
            for base_lr in self.base_lrs
        ]


class LinearLR(LRScheduler):
    r"""A linear ramp of the multiplier from ``start_factor`` to ``end_factor``.

    .. math::
        \eta_t = \eta_{\mathrm{base}}\Bigl(f_0 + (f_1 - f_0)\,\frac{\min(t, T)}{T}\Bigr).

    With the defaults (:math:`f_0 = 1/3`, :math:`f_1 = 1`) this is a linear *warmup*.  The
    recursion multiplies the current rate by the ratio of consecutive multipliers,
    :math:`1 + (f_1 - f_0)/(T f_0 + (t-1)(f_1 - f_0))`.
    """

    def __init__(
        self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1
    ):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or "
                "equal to 1."
            )
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_values(self.optimizer, "lr")
        f0, f1, T, t = self.start_factor, self.end_factor, self.total_iters, self.last_epoch
        ratio = 1.0 + (f1 - f0) / (T * f0 + (t - 1) * (f1 - f0))
        return [group["lr"] * ratio for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        f0, f1, T = self.start_factor, self.end_factor, self.total_iters
        return [
            base_lr * (f0 + (f1 - f0) * min(T, self.last_epoch) / T) for base_lr in self.base_lrs
        ]


class ExponentialLR(LRScheduler):
    r"""Decay by ``gamma`` every step: :math:`\eta_t = \eta_{\mathrm{base}}\,\gamma^t`."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    r"""Polynomial decay to zero in ``total_iters`` steps:
    :math:`\eta_t = \eta_{\mathrm{base}}\,(1 - \min(t, T)/T)^p` (:math:`p` = ``power``;
    ``power=1`` is a linear decay)."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_values(self.optimizer, "lr")
        T, t = self.total_iters, self.last_epoch
        decay_factor = ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power
        return [group["lr"] * decay_factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        T = self.total_iters
        return [
            base_lr * (1.0 - min(T, self.last_epoch) / T) ** self.power for base_lr in self.base_lrs
        ]


# -- cosine schedules ------------------------------------------------------------------------
class CosineAnnealingLR(LRScheduler):
    r"""Half a cosine from the base rate down to ``eta_min`` in ``T_max`` steps (SGDR, no restarts).

    .. math::
        \eta_t = \eta_{\min} + \tfrac12(\eta_{\mathrm{base}} - \eta_{\min})
                 \Bigl(1 + \cos\frac{\pi t}{T_{\max}}\Bigr).

    Past :math:`T_{\max}` the cosine continues: the rate climbs back up, reaching the base rate at
    :math:`2T_{\max}` (it is periodic, not clamped).  PyTorch computes it recursively from the
    current rate,
    :math:`\eta_t = \eta_{\min} + (\eta_{t-1} - \eta_{\min})\,
    \frac{1 + \cos(\pi t/T_{\max})}{1 + \cos(\pi (t-1)/T_{\max})}`, with a special case at the
    bottom of each period where that ratio would be 0/0; so it composes with other schedules
    (:class:`ChainedScheduler`) and follows a rate changed by hand, at the price of rounding
    drift from the closed form.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        groups = self.optimizer.param_groups
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        if self._step_count == 1 and t > 0:  # resumed: start from the closed form
            return [
                eta_min + (base_lr - eta_min) * (1 + math.cos(t * math.pi / T)) / 2
                for base_lr in self.base_lrs
            ]
        if (t - 1 - T) % (2 * T) == 0:  # leaving the bottom of a period (ratio 0/0)
            return [
                group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base_lr, group in zip(self.base_lrs, groups)
            ]
        return [
            (1 + math.cos(math.pi * t / T))
            / (1 + math.cos(math.pi * (t - 1) / T))
            * (group["lr"] - eta_min)
            + eta_min
            for group in groups
        ]

    def _get_closed_form_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        return [
            eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T)) / 2
            for base_lr in self.base_lrs
        ]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts (SGDR, Loshchilov and Hutter, 2017).

    .. math::
        \eta_t = \eta_{\min} + \tfrac12(\eta_{\mathrm{base}} - \eta_{\min})
                 \Bigl(1 + \cos\frac{\pi T_{\mathrm{cur}}}{T_i}\Bigr),

    where :math:`T_{\mathrm{cur}}` counts the steps since the last restart and the period
    :math:`T_i` starts at ``T_0`` and is multiplied by ``T_mult`` at each restart.  When
    :math:`T_{\mathrm{cur}}` reaches :math:`T_i` the rate jumps back to the base rate.
    ``step(epoch)`` accepts a fractional epoch (e.g. ``epoch + i / iters_per_epoch``) without a
    deprecation warning, as in PyTorch.  Not chainable.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(
                f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}"
            )
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        return [
            self.eta_min
            + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
            for base_lr in self.base_lrs
        ]

    def step(self, epoch=None):
        """Advance by one step, or jump to ``epoch`` (which may be fractional)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:  # restart
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    # restarts so far: n with T_0 (T_mult^n - 1)/(T_mult - 1) <= epoch
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** (n)
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        with _Flag(self, "_get_lr_called_within_step"):
            values = self.get_lr()
        _write_lrs(self.optimizer, values)
        self._last_lr = _group_values(self.optimizer, "lr")


# -- cycles ----------------------------------------------------------------------------------
def _setup_momentum_cycling(scheduler, optimizer, base_momentum, max_momentum, last_epoch):
    """Shared by :class:`CyclicLR` and :class:`OneCycleLR`: start each group at ``max_momentum``."""
    defaults = getattr(optimizer, "defaults", {})
    if "momentum" not in defaults and "betas" not in defaults:
        raise ValueError(
            "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"
        )
    scheduler.use_beta1 = "betas" in defaults
    base_momentums = _format_param("base_momentum", optimizer, base_momentum)
    max_momentums = _format_param("max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for m_momentum, b_momentum, group in zip(
            max_momentums, base_momentums, optimizer.param_groups
        ):
            _set_momentum(group, m_momentum, scheduler.use_beta1)
            group["max_momentum"] = m_momentum
            group["base_momentum"] = b_momentum
    return base_momentums, max_momentums


class CyclicLR(LRScheduler):
    r"""Cyclical learning rates (Smith, 2017): a triangle wave between ``base_lr`` and ``max_lr``.

    With :math:`s_u` = ``step_size_up``, :math:`s_d` = ``step_size_down`` and the cycle
    :math:`c = \lfloor 1 + t/(s_u + s_d) \rfloor`, the position in the cycle
    :math:`x = 1 + t/(s_u + s_d) - c \in [0, 1)` gives the height
    :math:`h = x / r` while rising (:math:`x \le r = s_u/(s_u+s_d)`), :math:`h = (1-x)/(1-r)`
    while falling, and

    .. math::
        \eta_t = \eta_{\mathrm{base}} + (\eta_{\max} - \eta_{\mathrm{base}})\,h\,\sigma,
        \qquad
        \mu_t = \mu_{\max} - (\mu_{\max} - \mu_{\mathrm{base}})\,h\,\sigma,

    where the amplitude scale :math:`\sigma` is 1 (``"triangular"``), :math:`2^{1-c}`
    (``"triangular2"``: halved every cycle), :math:`\gamma^t` (``"exp_range"``) or
    ``scale_fn`` of :math:`c` or :math:`t` (``scale_mode``).  With ``cycle_momentum`` the
    momentum (SGD's ``momentum`` or Adam's :math:`\beta_1`) moves opposite to the rate.
    Not chainable.  The constructor sets every group's ``lr`` to ``base_lr``.
    """

    def __init__(
        self,
        optimizer,
        base_lr,
        max_lr,
        step_size_up=2000,
        step_size_down=None,
        mode="triangular",
        gamma=1.0,
        scale_fn=None,
        scale_mode="cycle",
        cycle_momentum=True,
        base_momentum=0.8,
        max_momentum=0.9,
        last_epoch=-1,
    ):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        base_lrs = _format_param("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = _format_param("max_lr", optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ["triangular", "triangular2", "exp_range"] and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.base_momentums, self.max_momentums = _setup_momentum_cycling(
                self, optimizer, base_momentum, max_momentum, last_epoch
            )
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        if self._scale_fn_custom is not None:
            return
        if self.mode == "triangular":
            self._scale_fn_ref = self._triangular_scale_fn
            self.scale_mode = "cycle"
        elif self.mode == "triangular2":
            self._scale_fn_ref = self._triangular2_scale_fn
            self.scale_mode = "cycle"
        elif self.mode == "exp_range":
            self._scale_fn_ref = partial(self._exp_range_scale_fn, self.gamma)
            self.scale_mode = "iterations"

    def scale_fn(self, x):
        """The amplitude scale :math:`\\sigma` at cycle or iteration ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return self._scale_fn_ref(x)

    @staticmethod
    def _triangular_scale_fn(x):
        return 1.0

    @staticmethod
    def _triangular2_scale_fn(x):
        return 1 / (2.0 ** (x - 1))

    @staticmethod
    def _exp_range_scale_fn(gamma, x):
        return gamma**x

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio  # rising
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)  # falling
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [
            base_lr + (max_lr - base_lr) * scale_factor * scale
            for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)
        ]
        if self.cycle_momentum:
            for group, base_m, max_m in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums
            ):
                momentum = max_m - (max_m - base_m) * scale_factor * scale
                _set_momentum(group, momentum, self.use_beta1)
        return lrs

    def state_dict(self):
        """As :meth:`LRScheduler.state_dict`; saves a custom ``scale_fn`` if it is a callable object."""
        state = _state_dict_without(self, "_scale_fn_ref", "_scale_fn_custom")
        state["_scale_fn_custom"] = (
            _callables_state([self._scale_fn_custom])[0]
            if self._scale_fn_custom is not None
            else None
        )
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        fn = state.pop("_scale_fn_custom")
        self.__dict__.update(state)
        if fn is not None:
            self._scale_fn_custom.__dict__.update(fn)
        self._init_scale_fn()


class OneCycleLR(LRScheduler):
    r"""The 1cycle policy (Smith and Topin, 2019): up to ``max_lr``, then far below the start.

    The rate starts at :math:`\eta_{\max}/d` (:math:`d` = ``div_factor``), rises to
    :math:`\eta_{\max}` over the first ``pct_start`` of ``total_steps`` and then falls to
    :math:`\eta_{\max}/(d\,d_f)` (:math:`d_f` = ``final_div_factor``) at the last step.  Each
    phase interpolates from its start value :math:`a` to its end value :math:`b` with the
    fraction :math:`p` of the phase done, by half a cosine (``"cos"``),
    :math:`b + \tfrac12(a - b)(1 + \cos \pi p)`, or linearly, :math:`a + (b - a)p`.  With
    ``cycle_momentum`` the momentum (or :math:`\beta_1`) moves the opposite way, between
    ``max_momentum`` and ``base_momentum``.  ``three_phase=True`` is the paper's version: up,
    down to the start value symmetrically, then a final decay.  Not chainable; stepping past
    ``total_steps`` raises ``ValueError``.
    """

    def __init__(
        self,
        optimizer,
        max_lr,
        total_steps=None,
        epochs=None,
        steps_per_epoch=None,
        pct_start=0.3,
        anneal_strategy="cos",
        cycle_momentum=True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
        last_epoch=-1,
    ):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(
                    f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}"
                )
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")

        # Each phase ends at step end_step and moves from the group's start_* to its end_* value.
        warm_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                dict(end_step=warm_end, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=float(2 * pct_start * self.total_steps) - 2, start_lr="max_lr",
                     end_lr="initial_lr", start_momentum="base_momentum",
                     end_momentum="max_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum"),
            ]  # fmt: skip
        else:
            self._schedule_phases = [
                dict(end_step=warm_end, start_lr="initial_lr", end_lr="max_lr",
                     start_momentum="max_momentum", end_momentum="base_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
            ]  # fmt: skip

        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self._anneal_func_type = anneal_strategy

        max_lrs = _format_param("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, group_max_lr in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = group_max_lr / div_factor
                group["max_lr"] = group_max_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            _setup_momentum_cycling(self, optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _anneal_func(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return self._annealing_cos(start, end, pct)
        return self._annealing_linear(start, end, pct)

    @staticmethod
    def _annealing_cos(start, end, pct):
        """Half a cosine from ``start`` (pct = 0) to ``end`` (pct = 1)."""
        cos_out = math.cos(math.pi * pct) + 1
        return end + (start - end) / 2.0 * cos_out

    @staticmethod
    def _annealing_linear(start, end, pct):
        """A straight line from ``start`` (pct = 0) to ``end`` (pct = 1)."""
        return (end - start) * pct + start

    def get_lr(self):
        _warn_get_lr_called_within_step(self)
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(
                f"Tried to step {step_num} times. The specified number of total steps is "
                f"{self.total_steps}"
            )
        lrs = []
        last = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == last:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lrs.append(
                        self._anneal_func(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    )
                    if self.cycle_momentum:
                        momentum = self._anneal_func(
                            group[phase["start_momentum"]], group[phase["end_momentum"]], pct
                        )
                        _set_momentum(group, momentum, self.use_beta1)
                    break
                start_step = phase["end_step"]
        return lrs


# -- combinations ----------------------------------------------------------------------------
def _check_schedulers(owner, optimizer, schedulers):
    for i, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{owner} at index {i} should have `optimizer` as its attribute.")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(
                f"{owner} does not support `ReduceLROnPlateau` scheduler as it requires "
                "additional kwargs to be specified when calling `step`, but got one at index "
                f"{i} in the given schedulers sequence."
            )
        if optimizer is not scheduler.optimizer:
            raise ValueError(
                f"{owner} expects all schedulers to belong to the same optimizer, but got "
                f"scheduler {type(scheduler).__name__} at index {i} with a different optimizer."
            )


class _Combination:
    """``state_dict`` handling of schedulers made of other schedulers."""

    def state_dict(self):
        """As :meth:`LRScheduler.state_dict`, with each inner scheduler's state dict."""
        state = _state_dict_without(self, "_schedulers")
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        inner = state.pop("_schedulers")
        self.__dict__.update(state)
        for scheduler, saved in zip(self._schedulers, inner):
            scheduler.load_state_dict(saved)


class SequentialLR(_Combination, LRScheduler):
    r"""Run schedulers one after another: ``schedulers[i]`` from ``milestones[i-1]`` on.

    Warmup then cosine, for example::

        warmup = LinearLR(opt, start_factor=0.01, total_iters=w)
        cosine = CosineAnnealingLR(opt, T_max=T - w)
        sched = SequentialLR(opt, [warmup, cosine], milestones=[w])

    At a milestone the next scheduler restarts from its step 0 (``last_epoch = 0``, closed
    form), from the groups' ``initial_lr``.
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) < 1:
            raise ValueError(
                f"{type(self).__name__} expects at least one scheduler, but got no scheduler."
            )
        _check_schedulers(type(self).__name__, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more "
                f"than the number of milestone points, but got number of schedulers "
                f"{len(schedulers)} and the number of milestones to be equal to {len(milestones)}"
            )
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # Constructing the inner schedulers stepped each of them once: undo that, and start
        # only the scheduler meant to run at step 0.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = schedulers[idx].get_last_lr()

    def recursive_undo(self, sched=None):
        """Move ``last_epoch`` of every (nested) inner scheduler back by one."""
        scheds = self if sched is None else sched
        if hasattr(scheds, "_schedulers"):
            for s in scheds._schedulers:
                self.recursive_undo(s)
        elif hasattr(scheds, "last_epoch"):
            scheds.last_epoch -= 1

    def step(self):
        """Step the scheduler whose turn it is (restarting it at its milestone)."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Combination, LRScheduler):
    r"""Step several schedulers together, each one acting on the rate the previous one left.

    For chainable schedulers the multipliers multiply: ``ChainedScheduler([ConstantLR(opt,
    factor=0.1, total_iters=2), ExponentialLR(opt, gamma=0.9)])`` gives
    :math:`\eta_t = \eta_{\mathrm{base}}\,0.9^t` times 0.1 for :math:`t < 2`.
    """

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError(
                f"{type(self).__name__} expects at least one scheduler to be chained, but got "
                "no scheduler."
            )
        optimizer = optimizer or schedulers[0].optimizer
        _check_schedulers(type(self).__name__, optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = _group_values(self._schedulers[-1].optimizer, "lr")

    def step(self):
        """Step every scheduler, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = _group_values(self._schedulers[-1].optimizer, "lr")


# -- driven by a metric ----------------------------------------------------------------------
class ReduceLROnPlateau(LRScheduler):
    r"""Multiply the rate by ``factor`` when a metric has stopped improving for ``patience`` steps.

    ``step(metric)`` takes the monitored value (e.g. the validation loss).  A value counts as an
    improvement over the best so far if it beats it by more than ``threshold`` (relative:
    ``best * (1 - threshold)`` in ``"min"`` mode; absolute: ``best - threshold``).  After more
    than ``patience`` steps without improvement every group's rate becomes
    :math:`\max(\eta\,f, \eta_{\min})` (unchanged if that moves it by at most ``eps``), and
    the count pauses for ``cooldown`` steps.
    """

    def __init__(
        self,
        optimizer,
        mode="min",
        factor=0.1,
        patience=10,
        threshold=1e-4,
        threshold_mode="rel",
        cooldown=0,
        min_lr=0,
        eps=1e-8,
    ):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.factor = factor
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(
                    f"expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}"
                )
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _group_values(optimizer, "lr")
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None):
        """Record the metric's new value and reduce the rates if it has stalled."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr(epoch)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _group_values(self.optimizer, "lr")

    def _reduce_lr(self, epoch):
        if len(self.optimizer.param_groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    "The number of param groups in the `optimizer` "
                    f"({len(self.optimizer.param_groups)}) differs from when "
                    f"`ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), usually due to "
                    "a new param group being added to the optimizer. Please modify the "
                    "`min_lrs` field to match the length of the `optimizer` param groups."
                )
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)
        for i, group in enumerate(self.optimizer.param_groups):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    @property
    def in_cooldown(self):
        """Whether the scheduler is waiting out its cooldown after a reduction."""
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold  # max, abs

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in {"min", "max"}:
            raise ValueError("mode " + mode + " is unknown!")
        if threshold_mode not in {"rel", "abs"}:
            raise ValueError("threshold mode " + threshold_mode + " is unknown!")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._init_is_better(
            mode=self.mode, threshold=self.threshold, threshold_mode=self.threshold_mode
        )
