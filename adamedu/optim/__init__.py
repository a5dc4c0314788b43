r"""NumPy optimizers with PyTorch's names, defaults, parameter groups and numerics.

Eight classes mirror :mod:`torch.optim`: :class:`SGD`, :class:`Adagrad`, :class:`RMSprop`,
:class:`Adam`, :class:`AdamW`, :class:`Adamax`, :class:`NAdam` and :class:`RAdam`. Each one is
written once, in its own module, as the algorithm reads on paper (one line of code per line of
the algorithm, the paper's names beside it), and follows PyTorch's single-tensor code path closely
enough that float64 trajectories agree with PyTorch to about 1e-15 over hundreds of steps (the
tests check this against trajectories produced by PyTorch itself).

Usage::

    x = np.array([1.0, -2.0])
    opt = Adam([x], lr=0.1)
    for _ in range(100):
        opt.step([grad(x)])                    # x is updated in place
    opt.param_groups[0]["lr"] = 0.01           # a schedule changes the learning rate

Parameters are NumPy arrays of dtype float32 or float64, updated **in place**; ``step`` takes one
gradient per parameter, in order. Everything is checked before anything changes (see
:class:`Optimizer`), and a parameter larger than :data:`CHUNK_BYTES` is updated in cache-sized
chunks over a few threads, which is where the speed comes from, the same for every algorithm.

Adam's family, each written the same way: :class:`Adadelta`, :class:`Adafactor` and
:class:`Muon` as ``torch.optim`` (float64 agreement about 1e-15), and :class:`Lion`,
:class:`Yogi`, :class:`AdaBelief`, :class:`ADOPT` and :class:`ScheduleFreeAdamW` as optax 0.2.8
(which PyTorch does not have), with optax's defaults.

Teaching extras (off by default, so that the defaults behave exactly as PyTorch's):
``Adam(..., bias_correction=False)``; ``track_updates=True`` (after each step
``opt.last_update[i]`` is :math:`\Delta_t = \theta_t - \theta_{t-1}` and ``opt.last_step_size[i]``
the per-coordinate step size each class documents); :meth:`Optimizer.moments`.
"""

from adamedu.optim.adabelief import AdaBelief
from adamedu.optim.adadelta import Adadelta
from adamedu.optim.adafactor import Adafactor
from adamedu.optim.adagrad import Adagrad
from adamedu.optim.adam import Adam, AdamW
from adamedu.optim.adamax import Adamax
from adamedu.optim.adopt import ADOPT
from adamedu.optim.lion import Lion
from adamedu.optim.muon import Muon
from adamedu.optim.nadam import NAdam
from adamedu.optim.optimizer import CHUNK_BYTES, THREADS, Optimizer
from adamedu.optim.radam import RAdam
from adamedu.optim.rmsprop import RMSprop
from adamedu.optim.schedule_free import ScheduleFreeAdamW
from adamedu.optim.sgd import SGD
from adamedu.optim.yogi import Yogi

__all__ = [
    "CHUNK_BYTES",
    "THREADS",
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "RAdam",
    # Adam's family: Adadelta, Adafactor and Muon as torch.optim; the others as optax
    "Adadelta",
    "Adafactor",
    "Muon",
    "Lion",
    "Yogi",
    "AdaBelief",
    "ADOPT",
    "ScheduleFreeAdamW",
]
