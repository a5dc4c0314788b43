"""adamedu: the NumPy code behind the book *Adam, explained*.

- :mod:`adamedu.optim`: SGD, Adagrad, RMSprop, Adam, AdamW, Adamax, NAdam and RAdam with
  PyTorch's names, defaults and numerics, and Adam's family (Adadelta, Adafactor, Muon, Lion,
  Yogi, AdaBelief, ADOPT, ScheduleFreeAdamW).
- :mod:`adamedu.lr_scheduler`: PyTorch's learning-rate schedulers.
- :mod:`adamedu.problems`: test objectives with analytic gradients.
- :mod:`adamedu.trace`: :func:`run` drives an optimizer on a problem and records a trace.
- :mod:`adamedu.theory`: the book's SymPy derivations, each asserting its own result.
- :mod:`adamedu.plots` and :mod:`adamedu.widgets`: the book's figures, static and interactive.
"""

from adamedu.optim import (
    ADOPT,
    SGD,
    AdaBelief,
    Adadelta,
    Adafactor,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Lion,
    Muon,
    NAdam,
    Optimizer,
    RAdam,
    RMSprop,
    ScheduleFreeAdamW,
    Yogi,
)
from adamedu import problems
from adamedu.trace import Trace, run

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Adadelta",
    "Adafactor",
    "Muon",
    "Lion",
    "Yogi",
    "AdaBelief",
    "ADOPT",
    "ScheduleFreeAdamW",
    "Trace",
    "problems",
    "run",
]

__version__ = "0.1.0"
