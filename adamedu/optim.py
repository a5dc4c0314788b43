r"""NumPy optimizers with PyTorch's names, defaults and numerics.

Eight classes mirror :mod:`torch.optim`: :class:`SGD`, :class:`Adagrad`, :class:`RMSprop`,
:class:`Adam`, :class:`AdamW`, :class:`Adamax`, :class:`NAdam` and :class:`RAdam`.  Each one
follows the *single-tensor* code path of ``torch.optim`` (``foreach=False``) operation by
operation, so float64 trajectories agree with PyTorch to about 1e-12 relative over hundreds of
steps (the tests check this against fixtures produced by PyTorch itself).  Remaining differences
are rounding: PyTorch's vectorised CPU kernels use fused multiply-adds, which NumPy cannot.

Usage::

    x = np.array([1.0, -2.0])
    opt = Adam([x], lr=0.1)
    for _ in range(100):
        opt.step([grad(x)])       # x is updated in place

Parameters are NumPy arrays of dtype float32 or float64 that the optimizer updates **in place**;
``step`` takes one gradient per parameter, in the same order and with the same shapes.  Before
anything changes, ``step`` checks every gradient: a wrong count or shape raises ``ValueError`` and
a NaN or infinite entry raises ``FloatingPointError``, leaving parameters and state exactly as
they were.

Memory: each algorithm is written once, as a kernel of in-place NumPy operations
(``out=`` arguments) that works on whatever slice it is handed.  Parameters that fit in one
cache-sized chunk (:data:`CHUNK_BYTES` per array) are updated in a single call; larger contiguous
parameters are updated chunk by chunk so that the handful of passes over each slice stay in
cache.  The scratch space is at most two buffers of one chunk (for small parameters: of the
parameter's size), allocated once and reused, never a parameter-sized temporary per step.  The
exceptions are gradients that need converting (other dtype, non-contiguous: one converted copy)
and non-contiguous parameters (updated in one call with two parameter-sized scratch buffers).

Teaching extras (not in PyTorch, off by default so the defaults behave exactly like PyTorch):

* ``Adam(..., bias_correction=False)`` drops both bias corrections.
* ``track_updates=True``: after each step, ``opt.last_update[i]`` is the change
  :math:`\Delta_t = \theta_t - \theta_{t-1}` of parameter ``i`` (computed as the difference of the
  arrays after and before the step) and ``opt.last_step_size[i]`` the per-coordinate effective
  step size :math:`\eta_t \ge 0`.  Each class documents which direction :math:`d_t` it scales, so
  that :math:`\Delta_t = -\eta_t \odot d_t` (plus, for decoupled weight decay, the decay term).
  Both are fresh arrays each step (safe to keep) and ``None`` before the first step.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "CHUNK_BYTES",
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "RAdam",
]

#: Bytes of each array handled per chunk.  256 KiB keeps the five arrays one chunk of an Adam
#: step touches (parameter, gradient, two moments, scratch) near the size of a typical L2 cache;
#: 128 KiB to 2 MiB all ran within about 15% of each other in ``benchmarks/bench_adam_step.py``,
#: while unchunked passes over 4M float32 parameters were about 1.5x slower.  Parameters with at
#: most this many bytes are updated in a single call.
CHUNK_BYTES = 1 << 18

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_SMALL = 1024  # gradients up to this size are checked with np.isfinite directly


def _effective_grad(p, g, s, weight_decay, maximize):
    r"""Return the gradient the algorithm uses, writing into scratch ``s`` only if it must.

    PyTorch: ``if maximize: g <- -g``; ``if lambda != 0: g <- g + lambda * theta`` (L2 penalty
    folded into the gradient).  The caller's gradient is never modified.
    """
    if weight_decay != 0:
        np.multiply(p, weight_decay, out=s)
        if maximize:
            np.subtract(s, g, out=s)  # -g + lambda*theta
        else:
            np.add(s, g, out=s)  # g + lambda*theta
        return s
    if maximize:
        return np.negative(g, out=s)
    return g


def _lerp(m, g, weight, t):
    """``m <- m + weight * (g - m)``: PyTorch's ``lerp_`` for weight < 0.5 (``t`` is scratch)."""
    np.subtract(g, m, out=t)
    t *= weight
    m += t


class Optimizer:
    """Base class: parameter and gradient validation, state, chunked in-place stepping.

    Attributes: ``params`` (the list of arrays updated in place), ``defaults`` (the
    hyperparameters, read at every step: assigning ``opt.defaults["lr"]`` between steps acts
    like changing ``param_groups[0]["lr"]`` in PyTorch, e.g. for a schedule; the value is not
    re-validated, and the other entries should be left alone), ``state`` (one dict per
    parameter, PyTorch's state names), ``track_updates``, ``last_update`` and
    ``last_step_size`` (see the module docstring).

    Subclasses define ``_array_names`` (the array-valued state entries their kernel updates, in
    the kernel's argument order), ``_coefficients(state, p)`` (advances the scalar state and returns
    the step's scalars), ``_kernel(k, p, g, s, t, eta, *arrays)`` (the algorithm, in place, on
    one slice; ``s`` and ``t`` are scratch slices; ``eta`` is ``None`` or receives the effective
    step size) and, if their state needs more than zeros, ``_init_state(p)``.
    """

    _array_names: tuple[str, ...] = ()

    def __init__(self, params, defaults, track_updates=False):
        if isinstance(params, np.ndarray):
            params = [params]
        elif not isinstance(params, (list, tuple)):
            params = list(params)
        if len(params) == 0:
            raise ValueError("optimizer got an empty parameter list")
        seen = set()
        for i, p in enumerate(params):
            if not isinstance(p, np.ndarray):
                raise TypeError(
                    f"parameter {i} must be a NumPy array of dtype float32 or float64, "
                    f"got {type(p).__name__}"
                )
            if p.dtype not in _FLOAT_DTYPES:
                raise ValueError(
                    f"parameter {i} has dtype {p.dtype}; the optimizer updates parameters in "
                    "place, so they must be float32 or float64 arrays (use "
                    "x.astype(np.float64))"
                )
            if not p.flags.writeable:
                raise ValueError(f"parameter {i} is a read-only array")
            if id(p) in seen:
                raise ValueError(f"parameter {i} appears more than once in the parameter list")
            seen.add(id(p))
        self.params = list(params)
        self.defaults = dict(defaults)
        self.track_updates = bool(track_updates)
        self.state = [self._init_state(p) for p in self.params]
        self.last_update = None
        self.last_step_size = None
        # Scratch space: two buffers shaped like the parameter for parameters that fit in one
        # chunk, otherwise two chunk-sized buffers shared by all parameters of the same dtype.
        self._scratch = []
        chunk_bufs = {}
        for p in self.params:
            n_chunk = max(1, CHUNK_BYTES // p.itemsize)
            if p.size <= n_chunk or not p.flags.c_contiguous:
                self._scratch.append((np.empty_like(p), np.empty_like(p), 0))
            else:
                if p.dtype not in chunk_bufs:
                    chunk_bufs[p.dtype] = (np.empty(n_chunk, p.dtype), np.empty(n_chunk, p.dtype))
                s, t = chunk_bufs[p.dtype]
                self._scratch.append((s, t, n_chunk))

    # -- hooks for subclasses -------------------------------------------------------------
    def _init_state(self, p):
        state = {"step": 0}
        for name in self._array_names:
            state[name] = np.zeros_like(p)
        return state

    def _coefficients(self, state, p):  # pragma: no cover - abstract
        raise NotImplementedError

    def _kernel(self, k, p, g, s, t, eta, *arrays):  # pragma: no cover - abstract
        raise NotImplementedError

    def _arrays(self, state):
        return [state[name] for name in self._array_names]

    # -- public API -----------------------------------------------------------------------
    def step(self, grads):
        """Update every parameter in place from its gradient (a list, same order and shapes).

        Raises ``ValueError`` for a wrong number of gradients or a wrong shape and
        ``FloatingPointError`` for a NaN or infinite gradient entry; in both cases nothing has
        changed (parameters, state, step counts).
        """
        grads = self._checked_grads(grads)
        track = self.track_updates
        if track:
            updates, step_sizes = [], []
        for p, g, state, (s, t, n_chunk) in zip(self.params, grads, self.state, self._scratch):
            k = self._coefficients(state, p)
            arrays = self._arrays(state)
            if track:
                before = p.copy()
                eta = np.empty_like(p)
            else:
                eta = None
            if n_chunk == 0:
                self._kernel(k, p, g, s, t, eta, *arrays)
            else:
                pf, gf = p.reshape(-1), g.reshape(-1)
                af = [a.reshape(-1) for a in arrays]
                ef = None if eta is None else eta.reshape(-1)
                n = pf.size
                for lo in range(0, n, n_chunk):
                    hi = min(lo + n_chunk, n)
                    m = hi - lo
                    self._kernel(
                        k,
                        pf[lo:hi],
                        gf[lo:hi],
                        s[:m],
                        t[:m],
                        None if ef is None else ef[lo:hi],
                        *[a[lo:hi] for a in af],
                    )
            if track:
                updates.append(np.subtract(p, before, out=before))
                step_sizes.append(eta)
        if track:
            self.last_update = updates
            self.last_step_size = step_sizes

    def _checked_grads(self, grads):
        params = self.params
        if isinstance(grads, np.ndarray):
            grads = [grads]
        if len(grads) != len(params):
            raise ValueError(
                f"expected {len(params)} gradient(s), one per parameter, got {len(grads)}"
            )
        out = []
        for i, (p, g) in enumerate(zip(params, grads)):
            if type(g) is not np.ndarray:
                g = np.asarray(g)
            if g.shape != p.shape:
                raise ValueError(
                    f"gradient {i} has shape {g.shape} but parameter {i} has shape {p.shape}"
                )
            if g.dtype != p.dtype or (not g.flags.c_contiguous and p.flags.c_contiguous):
                if g.dtype.kind not in "fiu":
                    raise ValueError(f"gradient {i} has unsupported dtype {g.dtype}")
                g = np.ascontiguousarray(g, dtype=p.dtype)
            elif np.may_share_memory(g, p):
                g = g.copy()  # e.g. grad(x) = x: the kernel must not see the gradient change
            if g.size <= _SMALL:
                finite = np.isfinite(g).all()
            else:
                # One fast pass: a sum of squares is finite only if every entry is finite; if it
                # is not (NaN, inf, or mere overflow of large finite values) an exact check
                # decides.
                gf = g.reshape(-1) if g.flags.c_contiguous else g.ravel()
                with np.errstate(over="ignore", invalid="ignore"):
                    finite = math.isfinite(np.dot(gf, gf)) or np.isfinite(g).all()
            if not finite:
                raise FloatingPointError(
                    f"gradient {i} contains NaN or infinite values; parameters and optimizer "
                    "state were left unchanged"
                )
            out.append(g)
        return out

    def __repr__(self):
        hp = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({hp})"


def _check_lr(lr):
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_eps(eps):
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")


def _check_betas(betas):
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    return (float(betas[0]), float(betas[1]))


def _check_weight_decay(weight_decay):
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


# ===========================================================================================
class SGD(Optimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    Algorithm (PyTorch's documentation; :math:`\gamma` = ``lr``, :math:`\mu` = ``momentum``,
    :math:`\tau` = ``dampening``, :math:`\lambda` = ``weight_decay``)::

        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})            (-grad if maximize)
            if lambda != 0:  g_t <- g_t + lambda * theta_{t-1}
            if mu != 0:
                b_t <- g_t                          if t = 1
                b_t <- mu * b_{t-1} + (1 - tau) * g_t   otherwise
                g_t <- g_t + mu * b_t  if nesterov  else  g_t <- b_t
            theta_t <- theta_{t-1} - gamma * g_t

    Differences from the literature: Sutskever et al. (2013) write momentum as a velocity
    :math:`v \leftarrow \mu v - \gamma g`, :math:`\theta \leftarrow \theta + v`; this equals
    PyTorch's form only while ``lr`` is constant (PyTorch multiplies the whole buffer by the
    current ``lr``).  The first buffer is the gradient itself, not :math:`(1-\tau) g_1`.
    PyTorch's Nesterov variant is the "look-ahead" reformulation used by Bengio et al. (2013).

    State: ``momentum_buffer`` (created at the first step, only when ``momentum != 0``).

    Step size (``track_updates``): :math:`\eta_t = \gamma` in every coordinate and the
    direction is the final :math:`g_t` of the algorithm above (the momentum buffer, or the
    Nesterov combination), so :math:`\Delta_t = -\gamma\, g_t`.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
        track_updates=False,
    ):
        _check_lr(lr)
        if not 0.0 <= momentum:  # (PyTorch's test, momentum < 0, lets NaN through)
            raise ValueError(f"Invalid momentum value: {momentum}")
        _check_weight_decay(weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=bool(nesterov),
            maximize=bool(maximize),
        )
        super().__init__(params, defaults, track_updates)

    def _init_state(self, p):
        return {}

    def _arrays(self, state):
        return [state["momentum_buffer"]] if "momentum_buffer" in state else []

    def _coefficients(self, state, p):
        d = self.defaults
        first = False
        if d["momentum"] != 0 and "momentum_buffer" not in state:
            # The buffer's storage; the kernel fills it with g_1 (PyTorch: clone of g_1).
            state["momentum_buffer"] = np.empty_like(p)
            first = True
        return (
            d["lr"],
            d["momentum"],
            d["dampening"],
            d["weight_decay"],
            d["nesterov"],
            d["maximize"],
            first,
        )

    def _kernel(self, k, p, g, s, t, eta, buf=None):
        lr, momentum, dampening, weight_decay, nesterov, maximize, first = k
        g = _effective_grad(p, g, s, weight_decay, maximize)  # g <- g + lambda*theta
        if momentum != 0:
            if first:
                np.copyto(buf, g)  # b_1 <- g_1
            else:
                buf *= momentum  # b_t <- mu*b_{t-1} + (1 - tau)*g_t
                if dampening == 0:
                    buf += g
                else:
                    np.multiply(g, 1 - dampening, out=t)
                    buf += t
            if nesterov:
                np.multiply(buf, momentum, out=t)  # g_t <- g_t + mu*b_t
                g = np.add(g, t, out=t)
            else:
                g = buf  # g_t <- b_t
        np.multiply(g, lr, out=t)  # theta_t <- theta_{t-1} - gamma*g_t
        p -= t
        if eta is not None:
            eta.fill(lr)


# ===========================================================================================
class Adagrad(Optimizer):
    r"""AdaGrad (Duchi, Hazan and Singer, 2011), as ``torch.optim.Adagrad``.

    Algorithm (PyTorch's documentation; :math:`\gamma` = ``lr``, :math:`\eta` = ``lr_decay``,
    :math:`\lambda` = ``weight_decay``, :math:`\tau` = ``initial_accumulator_value``)::

        state_sum_0 <- tau
        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})            (-grad if maximize)
            gamma_t <- gamma / (1 + (t - 1) * eta)
            if lambda != 0:  g_t <- g_t + lambda * theta_{t-1}
            state_sum_t <- state_sum_{t-1} + g_t^2
            theta_t <- theta_{t-1} - gamma_t * g_t / (sqrt(state_sum_t) + eps)

    Differences from the paper: the paper's diagonal AdaGrad divides by
    :math:`\delta + \sqrt{\sum g^2}` with no learning-rate decay; ``lr_decay`` and
    ``initial_accumulator_value`` are PyTorch additions (``eps`` plays the role of
    :math:`\delta`, added outside the square root).

    State: ``step`` (int), ``sum``.

    Step size (``track_updates``): :math:`\eta_t = \gamma_t / (\sqrt{\mathrm{sum}_t} + \epsilon)`,
    direction :math:`g_t` (after weight decay / maximize), :math:`\Delta_t = -\eta_t \odot g_t`.
    """

    _array_names = ("sum",)

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        *,
        maximize=False,
        track_updates=False,
    ):
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        _check_weight_decay(weight_decay)
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}"
            )
        _check_eps(eps)
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=bool(maximize),
        )
        super().__init__(params, defaults, track_updates)

    def _init_state(self, p):
        # state_sum_0 <- tau
        return {"step": 0, "sum": np.full_like(p, self.defaults["initial_accumulator_value"])}

    def _coefficients(self, state, p):
        d = self.defaults
        state["step"] += 1
        step = state["step"]
        clr = d["lr"] / (1 + (step - 1) * d["lr_decay"])  # gamma_t <- gamma/(1 + (t-1)eta)
        return clr, d["weight_decay"], d["eps"], d["maximize"]

    def _kernel(self, k, p, g, s, t, eta, state_sum):
        clr, weight_decay, eps, maximize = k
        g = _effective_grad(p, g, s, weight_decay, maximize)  # g <- g + lambda*theta
        np.multiply(g, g, out=t)  # state_sum_t <- state_sum_{t-1} + g_t^2
        state_sum += t
        np.sqrt(state_sum, out=t)  # std <- sqrt(state_sum_t) + eps
        t += eps
        if eta is not None:
            np.divide(clr, t, out=eta)
        np.divide(g, t, out=t)  # theta_t <- theta_{t-1} - gamma_t * g_t / std
        t *= clr
        p -= t


# ===========================================================================================
class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012, lecture 6e), as ``torch.optim.RMSprop``.

    Algorithm (PyTorch's documentation; :math:`\gamma` = ``lr``, :math:`\alpha` = ``alpha``,
    :math:`\mu` = ``momentum``, :math:`\lambda` = ``weight_decay``)::

        v_0 <- 0, b_0 <- 0, g^ave_0 <- 0
        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})            (-grad if maximize)
            if lambda != 0:  g_t <- g_t + lambda * theta_{t-1}
            v_t <- alpha * v_{t-1} + (1 - alpha) * g_t^2
            v~_t <- v_t
            if centered:
                g^ave_t <- alpha * g^ave_{t-1} + (1 - alpha) * g_t
                v~_t <- v_t - (g^ave_t)^2
            if mu > 0:
                b_t <- mu * b_{t-1} + g_t / (sqrt(v~_t) + eps)
                theta_t <- theta_{t-1} - gamma * b_t
            else:
                theta_t <- theta_{t-1} - gamma * g_t / (sqrt(v~_t) + eps)

    Differences from the lecture: the lecture gives no ``eps`` and no bias correction (there is
    none here either, so early steps divide by a :math:`\sqrt{v_t}` that is biased towards
    zero); ``centered`` is Graves' (2013) variant; ``eps`` is added outside the square root.

    State: ``step`` (int), ``square_avg``, plus ``momentum_buffer`` if ``momentum > 0`` and
    ``grad_avg`` if ``centered``.

    Step size (``track_updates``): without momentum :math:`\eta_t = \gamma/(\sqrt{\tilde v_t} +
    \epsilon)` with direction :math:`g_t`; with momentum :math:`\eta_t = \gamma` with direction
    :math:`b_t` (the buffer already holds the normalised gradients).
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        *,
        maximize=False,
        track_updates=False,
    ):
        _check_lr(lr)
        _check_eps(eps)
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        _check_weight_decay(weight_decay)
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=bool(centered),
            maximize=bool(maximize),
        )
        names = ["square_avg"]
        if momentum > 0:
            names.append("momentum_buffer")
        if centered:
            names.append("grad_avg")
        self._array_names = tuple(names)
        super().__init__(params, defaults, track_updates)

    def _coefficients(self, state, p):
        d = self.defaults
        state["step"] += 1
        return (
            d["lr"],
            d["alpha"],
            d["eps"],
            d["weight_decay"],
            d["momentum"],
            d["centered"],
            d["maximize"],
        )

    def _kernel(self, k, p, g, s, t, eta, square_avg, *rest):
        lr, alpha, eps, weight_decay, momentum, centered, maximize = k
        g = _effective_grad(p, g, s, weight_decay, maximize)  # g <- g + lambda*theta
        square_avg *= alpha  # v_t <- alpha*v_{t-1} + (1 - alpha)*g_t^2
        np.multiply(g, 1 - alpha, out=t)
        t *= g
        square_avg += t
        if centered:
            grad_avg = rest[-1]
            _lerp(grad_avg, g, 1 - alpha, t)  # g^ave_t <- alpha*g^ave_{t-1} + (1-alpha)*g_t
            np.multiply(grad_avg, grad_avg, out=t)  # v~_t <- v_t - (g^ave_t)^2
            np.subtract(square_avg, t, out=t)
            np.sqrt(t, out=t)
        else:
            np.sqrt(square_avg, out=t)
        t += eps  # avg <- sqrt(v~_t) + eps
        if momentum > 0:
            buf = rest[0]
            buf *= momentum  # b_t <- mu*b_{t-1} + g_t/avg
            np.divide(g, t, out=t)
            buf += t
            np.multiply(buf, lr, out=t)  # theta_t <- theta_{t-1} - gamma*b_t
            p -= t
            if eta is not None:
                eta.fill(lr)
        else:
            if eta is not None:
                np.divide(lr, t, out=eta)
            np.divide(g, t, out=t)  # theta_t <- theta_{t-1} - gamma*g_t/avg
            t *= lr
            p -= t


# ===========================================================================================
class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015), as ``torch.optim.Adam``.

    Algorithm (PyTorch's documentation; :math:`\gamma` = ``lr``, :math:`\lambda` =
    ``weight_decay``)::

        m_0 <- 0, v_0 <- 0, v^max_0 <- 0
        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})            (-grad if maximize)
            if lambda != 0:
                decoupled (AdamW):  theta_{t-1} <- theta_{t-1} * (1 - gamma * lambda)
                otherwise:          g_t <- g_t + lambda * theta_{t-1}
            m_t <- beta1 * m_{t-1} + (1 - beta1) * g_t
            v_t <- beta2 * v_{t-1} + (1 - beta2) * g_t^2
            mhat_t <- m_t / (1 - beta1^t)
            if amsgrad:
                v^max_t <- max(v^max_{t-1}, v_t)
                vhat_t <- v^max_t / (1 - beta2^t)
            else:
                vhat_t <- v_t / (1 - beta2^t)
            theta_t <- theta_{t-1} - gamma * mhat_t / (sqrt(vhat_t) + eps)

    This class evaluates the last line in the paper's "more efficient" order (Kingma and Ba,
    end of Sec. 2), which saves one pass over the parameters::

        alpha_t <- gamma * sqrt(1 - beta2^t) / (1 - beta1^t)
        eps_hat <- eps * sqrt(1 - beta2^t)
        theta_t <- theta_{t-1} - alpha_t * m_t / (sqrt(v_t) + eps_hat)

    With this choice of ``eps_hat`` the two forms are algebraically identical; they differ only
    in rounding (PyTorch computes ``sqrt(v_t)/sqrt(1-beta2^t) + eps``), well below 1e-12 of the
    trajectory in the tests.

    Differences from the papers:

    * ``eps`` is added to :math:`\sqrt{\hat v_t}` outside the square root, exactly as in the
      paper's Algorithm 1.  Implementations that use the efficient form with a *constant*
      :math:`\hat\epsilon` (TensorFlow/Keras' ``epsilon``) behave differently: the two agree
      only if :math:`\hat\epsilon = \epsilon\sqrt{1-\beta_2^t}`, which changes with
      :math:`t`.
    * ``amsgrad``: PyTorch keeps the running maximum of the *raw* :math:`v_t` and divides it by
      the current :math:`1-\beta_2^t` afterwards (not the maximum of the bias-corrected
      :math:`\hat v_t`, which would differ).  Reddi et al. (2018) use no bias correction at
      all, for :math:`m_t` or :math:`v_t`.
    * ``weight_decay`` (without ``decoupled_weight_decay``) is an L2 penalty added to the
      gradient, so it is rescaled by :math:`\sqrt{\hat v_t}` like the loss gradient; see
      :class:`AdamW` for the decoupled version.
    * ``bias_correction=False`` (a teaching extra, not in PyTorch) sets both
      :math:`1-\beta_1^t` and :math:`1-\beta_2^t` to 1, the paper's bias-correction experiment.

    State: ``step`` (int), ``exp_avg`` (:math:`m_t`), ``exp_avg_sq`` (:math:`v_t`), and
    ``max_exp_avg_sq`` (:math:`v^{max}_t`) if ``amsgrad``.

    Step size (``track_updates``): :math:`\eta_t = \alpha_t/(\sqrt{v_t} + \hat\epsilon) =
    \dfrac{\gamma/(1-\beta_1^t)}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}` (with
    :math:`v^{max}_t` for AMSGrad; both corrections are 1 without bias correction), direction
    :math:`m_t`:
    :math:`\Delta_t = -\eta_t \odot m_t = -\gamma\,\hat m_t/(\sqrt{\hat v_t}+\epsilon)`; with
    decoupled weight decay :math:`\Delta_t = -\gamma\lambda\,\theta_{t-1} - \eta_t \odot m_t`.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        maximize=False,
        decoupled_weight_decay=False,
        bias_correction=True,
        track_updates=False,
    ):
        _check_lr(lr)
        _check_eps(eps)
        betas = _check_betas(betas)
        _check_weight_decay(weight_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=bool(amsgrad),
            maximize=bool(maximize),
            decoupled_weight_decay=bool(decoupled_weight_decay),
            bias_correction=bool(bias_correction),
        )
        self._array_names = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())
        super().__init__(params, defaults, track_updates)

    def _coefficients(self, state, p):
        d = self.defaults
        beta1, beta2 = d["betas"]
        state["step"] += 1
        step = state["step"]
        if d.get("bias_correction", True):
            bias_correction1 = 1 - beta1**step
            bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        else:
            bias_correction1 = bias_correction2_sqrt = 1.0
        return (
            d["lr"],
            beta1,
            beta2,
            d["weight_decay"],
            d.get("decoupled_weight_decay", True),
            d["maximize"],
            d["eps"] * bias_correction2_sqrt,  # eps_hat
            d["lr"] * bias_correction2_sqrt / bias_correction1,  # alpha_t
        )

    def _kernel(self, k, p, g, s, t, eta, exp_avg, exp_avg_sq, max_exp_avg_sq=None):
        lr, beta1, beta2, wd, decoupled, maximize, eps_hat, alpha_t = k
        if wd != 0 and decoupled:
            p *= 1 - lr * wd  # theta_{t-1} <- theta_{t-1}(1 - gamma*lambda)
            wd = 0
        g = _effective_grad(p, g, s, wd, maximize)  # g_t <- g_t + lambda*theta_{t-1}
        _lerp(exp_avg, g, 1 - beta1, t)  # m_t <- beta1*m_{t-1} + (1 - beta1)*g_t
        np.multiply(g, 1 - beta2, out=t)  # v_t <- beta2*v_{t-1} + (1 - beta2)*g_t^2
        t *= g
        exp_avg_sq *= beta2
        exp_avg_sq += t
        if max_exp_avg_sq is not None:
            np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)  # v^max_t
            exp_avg_sq = max_exp_avg_sq
        np.sqrt(exp_avg_sq, out=t)  # theta_t <- theta_{t-1} - alpha_t*m_t/(sqrt(v_t) + eps_hat)
        t += eps_hat
        if eta is not None:
            np.divide(alpha_t, t, out=eta)
        np.divide(exp_avg, t, out=t)
        t *= alpha_t
        p -= t


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as ``torch.optim.AdamW``.

    Identical to :class:`Adam` with ``decoupled_weight_decay=True`` and default
    ``weight_decay=1e-2``: before the Adam step the parameters shrink,
    :math:`\theta_{t-1} \leftarrow \theta_{t-1}(1-\gamma\lambda)`, instead of
    :math:`\lambda\theta` being added to the gradient.

    Difference from the paper: the paper decays by :math:`\eta_t\lambda\theta` where
    :math:`\eta_t` is the schedule multiplier, independent of the base learning rate
    :math:`\alpha`; PyTorch multiplies by the learning rate :math:`\gamma`, so changing ``lr``
    also changes the effective decay.

    Step size (``track_updates``): as :class:`Adam`;
    :math:`\Delta_t = -\gamma\lambda\,\theta_{t-1} - \eta_t \odot m_t`, where
    :math:`\theta_{t-1}` is the parameter before the step.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
        track_updates=False,
    ):
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
            track_updates=track_updates,
        )
        # PyTorch's AdamW has neither of these arguments; it always decouples.
        del self.defaults["bias_correction"], self.defaults["decoupled_weight_decay"]


# ===========================================================================================
class Adamax(Optimizer):
    r"""AdaMax, the infinity-norm variant of Adam (Kingma and Ba, 2015, Sec. 7.1), as
    ``torch.optim.Adamax``.

    Algorithm (PyTorch's documentation)::

        m_0 <- 0, u_0 <- 0
        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})            (-grad if maximize)
            if lambda != 0:  g_t <- g_t + lambda * theta_{t-1}
            m_t <- beta1 * m_{t-1} + (1 - beta1) * g_t
            u_t <- max(beta2 * u_{t-1}, |g_t| + eps)
            theta_t <- theta_{t-1} - gamma * m_t / ((1 - beta1^t) * u_t)

    Difference from the paper: the paper's :math:`u_t = \max(\beta_2 u_{t-1}, |g_t|)` has no
    ``eps``; PyTorch adds ``eps`` *inside* the maximum (so :math:`u_t \ge \epsilon`), not to
    :math:`u_t` afterwards.

    State: ``step`` (int), ``exp_avg`` (:math:`m_t`), ``exp_inf`` (:math:`u_t`).

    Step size (``track_updates``): :math:`\eta_t = \gamma / ((1-\beta_1^t)\,u_t)`, direction
    :math:`m_t`, :math:`\Delta_t = -\eta_t \odot m_t`.
    """

    _array_names = ("exp_avg", "exp_inf")

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        *,
        maximize=False,
        track_updates=False,
    ):
        _check_lr(lr)
        _check_eps(eps)
        betas = _check_betas(betas)
        _check_weight_decay(weight_decay)
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=bool(maximize)
        )
        super().__init__(params, defaults, track_updates)

    def _coefficients(self, state, p):
        d = self.defaults
        beta1, beta2 = d["betas"]
        state["step"] += 1
        clr = d["lr"] / (1 - beta1 ** state["step"])
        return beta1, beta2, d["eps"], d["weight_decay"], d["maximize"], clr

    def _kernel(self, k, p, g, s, t, eta, exp_avg, exp_inf):
        beta1, beta2, eps, weight_decay, maximize, clr = k
        g = _effective_grad(p, g, s, weight_decay, maximize)  # g <- g + lambda*theta
        _lerp(exp_avg, g, 1 - beta1, t)  # m_t <- beta1*m_{t-1} + (1 - beta1)*g_t
        exp_inf *= beta2  # u_t <- max(beta2*u_{t-1}, |g_t| + eps)
        np.abs(g, out=t)
        t += eps
        np.maximum(exp_inf, t, out=exp_inf)
        if eta is not None:
            np.divide(clr, exp_inf, out=eta)
        np.divide(exp_avg, exp_inf, out=t)  # theta_t <- theta_{t-1} - gamma/(1-beta1^t)*m_t/u_t
        t *= clr
        p -= t


# ===========================================================================================
class NAdam(Optimizer):
    r"""Adam with Nesterov momentum (Dozat, 2016), as ``torch.optim.NAdam``.

    Algorithm (PyTorch's documentation; :math:`\psi` = ``momentum_decay``)::

        m_0 <- 0, v_0 <- 0, mu_product_0 <- 1
        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})            (-grad if maximize)
            if lambda != 0:
                decoupled:  theta_{t-1} <- theta_{t-1} * (1 - gamma * lambda)
                otherwise:  g_t <- g_t + lambda * theta_{t-1}
            mu_t     <- beta1 * (1 - 0.5 * 0.96^(t * psi))
            mu_{t+1} <- beta1 * (1 - 0.5 * 0.96^((t + 1) * psi))
            mu_product_t <- mu_product_{t-1} * mu_t          (= prod_{i<=t} mu_i)
            m_t <- beta1 * m_{t-1} + (1 - beta1) * g_t
            v_t <- beta2 * v_{t-1} + (1 - beta2) * g_t^2
            denom <- sqrt(v_t / (1 - beta2^t)) + eps
            theta_t <- theta_{t-1} - gamma * (1 - mu_t) / (1 - mu_product_t) * g_t / denom
                                   - gamma * mu_{t+1} / (1 - mu_product_t * mu_{t+1}) * m_t / denom

    Differences from the paper: Dozat's EMA uses the scheduled :math:`\mu_t`
    (:math:`m_t = \mu_t m_{t-1} + (1-\mu_t) g_t`); PyTorch keeps the constant :math:`\beta_1` in
    the EMA and uses the schedule only in the two update coefficients.  The schedule
    :math:`\mu_t = \beta_1(1 - \tfrac12 0.96^{t\psi})` is the one from Dozat's report.
    PyTorch stores ``mu_product`` (and ``step``) as tensors of the default dtype, float32 unless
    ``torch.set_default_dtype(torch.float64)``; here it is a Python float (float64), which is
    what PyTorch computes under a float64 default dtype.

    State: ``step`` (int), ``mu_product`` (float), ``exp_avg``, ``exp_avg_sq``.

    Step size (``track_updates``): :math:`\eta_t = \gamma/(\sqrt{v_t/(1-\beta_2^t)}+\epsilon)`,
    direction :math:`d_t = \frac{1-\mu_t}{1-\prod_{i\le t}\mu_i} g_t +
    \frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i} m_t`, so :math:`\Delta_t = -\eta_t\odot d_t`
    (minus :math:`\gamma\lambda\theta_{t-1}` with decoupled weight decay).
    """

    _array_names = ("exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
        *,
        maximize=False,
        track_updates=False,
    ):
        _check_lr(lr)
        _check_eps(eps)
        betas = _check_betas(betas)
        _check_weight_decay(weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=bool(decoupled_weight_decay),
            maximize=bool(maximize),
        )
        super().__init__(params, defaults, track_updates)

    def _init_state(self, p):
        return {
            "step": 0,
            "mu_product": 1.0,
            "exp_avg": np.zeros_like(p),
            "exp_avg_sq": np.zeros_like(p),
        }

    def _coefficients(self, state, p):
        d = self.defaults
        lr = d["lr"]
        beta1, beta2 = d["betas"]
        psi = d["momentum_decay"]
        state["step"] += 1
        step = state["step"]
        bias_correction2 = 1 - beta2**step
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * psi)))  # mu_t
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * psi)))  # mu_{t+1}
        state["mu_product"] *= mu  # mu_product_t <- mu_product_{t-1} * mu_t
        mu_product = state["mu_product"]
        mu_product_next = mu_product * mu_next
        return (
            lr,
            beta1,
            beta2,
            d["eps"],
            d["weight_decay"],
            d["decoupled_weight_decay"],
            d["maximize"],
            bias_correction2,
            lr * (1.0 - mu) / (1.0 - mu_product),  # coefficient of g_t / denom
            (lr * mu_next) / (1.0 - mu_product_next),  # coefficient of m_t / denom
        )

    def _kernel(self, k, p, g, s, t, eta, exp_avg, exp_avg_sq):
        lr, beta1, beta2, eps, wd, decoupled, maximize, bc2, c_grad, c_avg = k
        if wd != 0 and decoupled:
            p *= 1 - lr * wd  # theta_{t-1} <- theta_{t-1}(1 - gamma*lambda)
            wd = 0
        g = _effective_grad(p, g, s, wd, maximize)  # g_t <- g_t + lambda*theta_{t-1}
        _lerp(exp_avg, g, 1 - beta1, t)  # m_t <- beta1*m_{t-1} + (1 - beta1)*g_t
        np.multiply(g, 1 - beta2, out=t)  # v_t <- beta2*v_{t-1} + (1 - beta2)*g_t^2
        t *= g
        exp_avg_sq *= beta2
        exp_avg_sq += t
        np.divide(exp_avg_sq, bc2, out=t)  # denom <- sqrt(v_t/(1 - beta2^t)) + eps
        np.sqrt(t, out=t)
        t += eps
        if eta is not None:
            np.divide(lr, t, out=eta)
        np.divide(g, t, out=s)  # theta <- theta - gamma*(1 - mu_t)/(1 - mu_product_t) * g_t/denom
        s *= c_grad
        p -= s
        np.divide(exp_avg, t, out=t)  # ... - gamma*mu_{t+1}/(1 - mu_product_{t+1}) * m_t/denom
        t *= c_avg
        p -= t


# ===========================================================================================
class RAdam(Optimizer):
    r"""Rectified Adam (Liu et al., 2020), as ``torch.optim.RAdam``.

    Algorithm (PyTorch's documentation)::

        m_0 <- 0, v_0 <- 0, rho_inf <- 2 / (1 - beta2) - 1
        for t = 1, 2, ...
            g_t <- grad f_t(theta_{t-1})            (-grad if maximize)
            if lambda != 0:
                decoupled:  theta_{t-1} <- theta_{t-1} * (1 - gamma * lambda)
                otherwise:  g_t <- g_t + lambda * theta_{t-1}
            m_t <- beta1 * m_{t-1} + (1 - beta1) * g_t
            v_t <- beta2 * v_{t-1} + (1 - beta2) * g_t^2
            mhat_t <- m_t / (1 - beta1^t)
            rho_t <- rho_inf - 2 t beta2^t / (1 - beta2^t)
            if rho_t > 5:
                l_t <- sqrt(1 - beta2^t) / (sqrt(v_t) + eps)
                r_t <- sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                theta_t <- theta_{t-1} - gamma * mhat_t * r_t * l_t
            else:
                theta_t <- theta_{t-1} - gamma * mhat_t

    Differences from the paper: the paper switches to the adaptive step when
    :math:`\rho_t > 4` (where :math:`r_t` is defined); PyTorch uses :math:`\rho_t > 5`.  With
    the default :math:`\beta_2 = 0.999`, :math:`\rho_t > 5` first holds at step 6, so steps 1 to 5
    are plain momentum SGD with bias correction.  The paper's
    :math:`l_t = \sqrt{(1-\beta_2^t)/v_t}` has no ``eps``.

    State: ``step`` (int), ``exp_avg``, ``exp_avg_sq``.

    Step size (``track_updates``): direction :math:`m_t`;
    :math:`\eta_t = \gamma r_t l_t / (1-\beta_1^t)` when :math:`\rho_t > 5`, else
    :math:`\eta_t = \gamma/(1-\beta_1^t)` in every coordinate;
    :math:`\Delta_t = -\eta_t \odot m_t` (minus :math:`\gamma\lambda\theta_{t-1}` with decoupled
    weight decay).
    """

    _array_names = ("exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        decoupled_weight_decay=False,
        *,
        maximize=False,
        track_updates=False,
    ):
        _check_lr(lr)
        _check_eps(eps)
        betas = _check_betas(betas)
        _check_weight_decay(weight_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=bool(decoupled_weight_decay),
            maximize=bool(maximize),
        )
        super().__init__(params, defaults, track_updates)

    def _coefficients(self, state, p):
        d = self.defaults
        beta1, beta2 = d["betas"]
        state["step"] += 1
        step = state["step"]
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            rect = (
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            ) ** 0.5
        else:
            rect = None
        return (
            d["lr"],
            beta1,
            beta2,
            d["eps"],
            d["weight_decay"],
            d["decoupled_weight_decay"],
            d["maximize"],
            bias_correction1,
            bias_correction2**0.5,
            rect,
        )

    def _kernel(self, k, p, g, s, t, eta, exp_avg, exp_avg_sq):
        lr, beta1, beta2, eps, wd, decoupled, maximize, bc1, bc2_sqrt, rect = k
        if wd != 0 and decoupled:
            p *= 1 - lr * wd  # theta_{t-1} <- theta_{t-1}(1 - gamma*lambda)
            wd = 0
        g = _effective_grad(p, g, s, wd, maximize)  # g_t <- g_t + lambda*theta_{t-1}
        _lerp(exp_avg, g, 1 - beta1, t)  # m_t <- beta1*m_{t-1} + (1 - beta1)*g_t
        np.multiply(g, 1 - beta2, out=t)  # v_t <- beta2*v_{t-1} + (1 - beta2)*g_t^2
        t *= g
        exp_avg_sq *= beta2
        exp_avg_sq += t
        np.divide(exp_avg, bc1, out=s)  # mhat_t <- m_t/(1 - beta1^t), times gamma
        s *= lr
        if rect is not None:  # rho_t > 5
            np.sqrt(exp_avg_sq, out=t)  # l_t <- sqrt(1 - beta2^t)/(sqrt(v_t) + eps)
            t += eps
            np.divide(bc2_sqrt, t, out=t)
            if eta is not None:
                np.multiply(t, lr / bc1 * rect, out=eta)
            s *= t  # theta_t <- theta_{t-1} - gamma*mhat_t*l_t*r_t
            s *= rect
        elif eta is not None:
            eta.fill(lr / bc1)
        p -= s  # (otherwise theta_t <- theta_{t-1} - gamma*mhat_t)
