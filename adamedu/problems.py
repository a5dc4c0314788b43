"""Test objectives with analytic, vectorised gradients.

Every problem offers the same small interface, which :func:`adamedu.trace.run` and the chapters use:

- ``dim``: number of parameters; ``x0``: the default start (float64, shape ``(dim,)``);
  ``minimizer``: a global minimiser (``None`` when unknown); ``name``: a short label for legends.
- ``loss(x)``: the objective. The 2-D problems and :class:`NoisyQuadratic` are vectorised: ``x`` of
  shape ``(..., dim)`` gives an array of shape ``(...)``, which is what a contour plot over a grid
  needs. ``vectorized_loss`` says whether a problem supports this.
- ``grad(x)``: the exact full gradient, shape ``(dim,)`` (vectorised like ``loss`` where it is).
- ``stochastic_grad(x, rng)``: the gradient an optimizer sees. For deterministic problems it is
  ``grad(x)`` and ``rng`` is not touched; for :class:`NoisyQuadratic` it adds seeded Gaussian noise;
  for the digits problems it is the gradient on a minibatch drawn with ``rng``.

The deterministic 2-D problems are :class:`IllConditionedQuadratic`, :class:`Rosenbrock`,
:class:`Beale` and :class:`Saddle`; the stochastic ones are :class:`NoisyQuadratic`,
:class:`LogisticRegression` and :class:`MLP` (the last two on scikit-learn's bundled 8x8
handwritten digits, which ship with scikit-learn and need no network). :class:`Rescaled` wraps
any problem to rescale its parameters, its loss or its gradients.
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = [
    "Problem",
    "IllConditionedQuadratic",
    "Rosenbrock",
    "Beale",
    "Saddle",
    "NoisyQuadratic",
    "LogisticRegression",
    "MLP",
    "Rescaled",
    "load_digits_split",
]


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"Invalid {name}: {value} (must be a positive finite number)")
    return value


def _start(x0, default, dim: int) -> np.ndarray:
    x = np.array(default if x0 is None else x0, dtype=np.float64).reshape(-1)
    if x.shape != (dim,):
        raise ValueError(f"Invalid x0 shape: {x.shape} (expected ({dim},))")
    return x


class Problem:
    """Base class: a deterministic objective whose ``stochastic_grad`` is its exact gradient."""

    name: str = "problem"
    dim: int
    x0: np.ndarray
    minimizer: np.ndarray | None = None
    vectorized_loss: bool = False

    def loss(self, x):
        raise NotImplementedError

    def grad(self, x):
        raise NotImplementedError

    def stochastic_grad(self, x, rng: np.random.Generator) -> np.ndarray:
        """The gradient an optimizer sees; for a deterministic problem, ``grad(x)`` (``rng`` unused)."""
        return self.grad(x)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} dim={self.dim}>"


# --- 2-D test functions --------------------------------------------------------------------------


class _Problem2D(Problem):
    """A 2-D function given by ``_loss_uv(u, v)`` and ``_grad_uv(u, v)``, vectorised over (..., 2).

    A single point takes a fast path through Python floats: the run helper calls ``grad`` once per
    step, and NumPy's per-call overhead would otherwise dominate.
    """

    dim = 2
    vectorized_loss = True

    def loss(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.shape == (2,):
            u, v = x.tolist()
            return self._loss_uv(u, v)
        return self._loss_uv(x[..., 0], x[..., 1])

    def grad(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.shape == (2,):
            u, v = x.tolist()
            return np.array(self._grad_uv(u, v))
        gu, gv = self._grad_uv(x[..., 0], x[..., 1])
        return np.stack(np.broadcast_arrays(gu, gv), axis=-1)


class IllConditionedQuadratic(_Problem2D):
    r"""The ravine :math:`f = \tfrac12 (a u^2 + b v^2)` with :math:`b = \kappa a`.

    ``(u, v)`` are coordinates along the principal axes. With ``angle = 0`` they are the parameter
    axes, ``f(x, y) = ½(a x² + b y²)``: a long shallow valley along ``x`` (curvature ``a``) with
    steep walls across it (curvature ``b = condition_number · a``). A non-zero ``angle`` (radians)
    rotates the valley, so that its axes no longer line up with the coordinates: then a diagonal
    preconditioner such as Adam's can no longer undo the ill-conditioning.

    Parameters
    ----------
    condition_number : float
        κ = b / a ≥ 1, the ratio of the largest to the smallest curvature.
    curvature : float
        ``a``, the small curvature along the valley floor.
    angle : float
        Rotation of the valley in radians (counter-clockwise).
    x0 : array_like, optional
        Start; by default ``(-4, 1)`` in principal coordinates, rotated with the valley.
    """

    def __init__(self, condition_number: float = 50.0, curvature: float = 1.0, angle: float = 0.0,
                 x0=None):
        self.condition_number = _positive("condition_number", condition_number)
        if self.condition_number < 1:
            raise ValueError(f"Invalid condition_number: {self.condition_number} (must be >= 1)")
        self.a = _positive("curvature", curvature)
        self.b = self.a * self.condition_number
        self.angle = float(angle)
        c, s = math.cos(self.angle), math.sin(self.angle)
        self.rotation = np.array([[c, -s], [s, c]])
        self.hessian = self.rotation @ np.diag([self.a, self.b]) @ self.rotation.T
        self.dim = 2
        self.x0 = _start(x0, self.rotation @ np.array([-4.0, 1.0]), 2)
        self.minimizer = np.zeros(2)
        self.name = f"ill-conditioned quadratic (κ={self.condition_number:g})"
        self._h = tuple(float(h) for h in self.hessian[np.triu_indices(2)])  # h11, h12, h22

    def _loss_uv(self, u, v):
        h11, h12, h22 = self._h
        return 0.5 * (h11 * u * u + h22 * v * v) + h12 * u * v

    def _grad_uv(self, u, v):
        h11, h12, h22 = self._h
        return h11 * u + h12 * v, h12 * u + h22 * v


class Rosenbrock(_Problem2D):
    r"""Rosenbrock's banana valley :math:`f = (a - x)^2 + b (y - x^2)^2`.

    Minimum 0 at ``(a, a²)``; the classic start ``(-1.2, 1)``.
    """

    def __init__(self, a: float = 1.0, b: float = 100.0, x0=None):
        self.a = float(a)
        self.b = _positive("b", b)
        self.dim = 2
        self.x0 = _start(x0, [-1.2, 1.0], 2)
        self.minimizer = np.array([self.a, self.a**2])
        self.name = "Rosenbrock"

    def _loss_uv(self, u, v):
        p, r = self.a - u, v - u * u
        return p * p + self.b * r * r

    def _grad_uv(self, u, v):
        r = v - u * u
        return -2.0 * (self.a - u) - 4.0 * self.b * u * r, 2.0 * self.b * r


class Beale(_Problem2D):
    r"""Beale's function :math:`f = \sum_{k=1}^{3} (c_k - x + x y^k)^2`, ``c = (1.5, 2.25, 2.625)``.

    Minimum 0 at ``(3, 0.5)``; flat plateaus and sharp ridges make it a hard race track. Default
    start ``(1, 1.5)``.
    """

    _c = (1.5, 2.25, 2.625)

    def __init__(self, x0=None):
        self.dim = 2
        self.x0 = _start(x0, [1.0, 1.5], 2)
        self.minimizer = np.array([3.0, 0.5])
        self.name = "Beale"

    def _loss_uv(self, u, v):
        c1, c2, c3 = self._c
        v2 = v * v
        r1, r2, r3 = c1 - u + u * v, c2 - u + u * v2, c3 - u + u * v2 * v
        return r1 * r1 + r2 * r2 + r3 * r3

    def _grad_uv(self, u, v):
        c1, c2, c3 = self._c
        v2 = v * v
        v3 = v2 * v
        r1, r2, r3 = c1 - u + u * v, c2 - u + u * v2, c3 - u + u * v3
        gu = 2.0 * (r1 * (v - 1.0) + r2 * (v2 - 1.0) + r3 * (v3 - 1.0))
        gv = 2.0 * u * (r1 + 2.0 * r2 * v + 3.0 * r3 * v2)
        return gu, gv


class Saddle(_Problem2D):
    r"""A saddle at the origin, :math:`f = \tfrac12 (x^2 - y^2) + \tfrac{\gamma}{4} y^4`.

    Near the origin this is the plain saddle ½(x² − y²): curvature +1 along ``x`` and −1 along
    ``y``. The quartic term (``quartic = γ > 0``) keeps the function bounded below, so that a race
    has a finish line: the two minima are ``(0, ±1/√γ)`` with value ``−1/(4γ)``. ``minimizer``
    is the one with ``y > 0``, where runs from the default start ``(1, 1e-3)`` end (that start
    lies just off the saddle's attracting direction, so the escape speed is what a race
    shows). With ``quartic = 0`` the function is the plain, unbounded saddle and ``minimizer`` is
    ``None``.
    """

    def __init__(self, quartic: float = 1.0, x0=None):
        self.quartic = float(quartic)
        if not (math.isfinite(self.quartic) and self.quartic >= 0):
            raise ValueError(f"Invalid quartic: {self.quartic} (must be >= 0)")
        self.dim = 2
        self.x0 = _start(x0, [1.0, 1e-3], 2)
        self.minimizer = None if self.quartic == 0 else np.array([0.0, 1.0 / math.sqrt(self.quartic)])
        self.name = "saddle" if self.quartic == 0 else "saddle (bounded)"

    def _loss_uv(self, u, v):
        v2 = v * v
        return 0.5 * (u * u - v2) + 0.25 * self.quartic * v2 * v2

    def _grad_uv(self, u, v):
        return 1.0 * u, -v + self.quartic * v * v * v


# --- A noisy quadratic -----------------------------------------------------------------------------


class NoisyQuadratic(Problem):
    r"""The quadratic :math:`f(x) = \tfrac12 \sum_i a_i x_i^2` seen through noisy gradients.

    ``stochastic_grad(x, rng)`` returns :math:`a \odot x + \sigma \xi` with
    :math:`\xi \sim \mathcal N(0, I)` drawn from ``rng``: an unbiased gradient whose noise does not
    shrink near the optimum, the simplest model of minibatch noise. ``loss`` and ``grad`` are the
    exact (expected) objective and gradient, vectorised over leading axes.

    Parameters
    ----------
    curvature : float or array_like
        ``a`` (scalar, or one positive value per coordinate).
    noise : float
        σ ≥ 0, the standard deviation of the gradient noise in every coordinate.
    dim : int
        Number of coordinates.
    x0 : array_like, optional
        Start; by default all ones.
    """

    vectorized_loss = True

    def __init__(self, curvature=1.0, noise: float = 1.0, dim: int = 2, x0=None):
        if int(dim) != dim or dim < 1:
            raise ValueError(f"Invalid dim: {dim} (must be a positive integer)")
        self.dim = int(dim)
        a = np.broadcast_to(np.asarray(curvature, dtype=np.float64), (self.dim,)).copy()
        if not (np.all(np.isfinite(a)) and np.all(a > 0)):
            raise ValueError(f"Invalid curvature: {curvature} (must be positive)")
        self.curvature = a
        self.noise = float(noise)
        if not (math.isfinite(self.noise) and self.noise >= 0):
            raise ValueError(f"Invalid noise: {noise} (must be >= 0)")
        self.x0 = _start(x0, np.ones(self.dim), self.dim)
        self.minimizer = np.zeros(self.dim)
        self.name = f"noisy quadratic (σ={self.noise:g})"

    def loss(self, x):
        x = np.asarray(x, dtype=np.float64)
        return 0.5 * np.sum(self.curvature * x * x, axis=-1)

    def grad(self, x):
        return self.curvature * np.asarray(x, dtype=np.float64)

    def stochastic_grad(self, x, rng: np.random.Generator) -> np.ndarray:
        g = self.grad(x)
        if self.noise:
            g += self.noise * rng.standard_normal(self.dim)
        return g


# --- Handwritten digits: logistic regression and an MLP ------------------------------------------


@functools.lru_cache(maxsize=8)
def _digits_split(test_fraction: float, split_seed: int):
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    data = load_digits()
    X = data.data.astype(np.float64) / 16.0  # pixel intensities 0..16 -> [0, 1]
    y = data.target.astype(np.intp)
    order = np.random.default_rng(split_seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]
    arrays = (X[train], y[train], X[test], y[test])
    for a in arrays:
        a.setflags(write=False)
    return arrays


def load_digits_split(test_fraction: float = 0.25, split_seed: int = 0):
    """scikit-learn's 1,797 8x8 digits, pixels scaled to [0, 1], split by a seeded permutation.

    Returns read-only arrays ``(X_train, y_train, X_test, y_test)``; ``X`` has 64 columns and ``y``
    holds the class labels 0..9.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"Invalid test_fraction: {test_fraction} (must be in (0, 1))")
    return _digits_split(float(test_fraction), int(split_seed))


@functools.lru_cache(maxsize=1)
def _blas_controller():
    from threadpoolctl import ThreadpoolController  # a dependency of scikit-learn

    return ThreadpoolController()


def _one_blas_thread():
    """Context: BLAS on one thread. The digits matrices are small (at most 1347 x 64), so threads
    cost more than they save, and far more on a busy machine (measured: 1.5 ms vs 16 ms per
    full MLP gradient on two loaded cores). Entering the context costs about 12 µs."""
    return _blas_controller().limit(limits=1, user_api="blas")


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


class _DigitsProblem(Problem):
    """Shared data handling: the split, minibatch sampling, and the public batch helpers."""

    n_classes = 10

    def _init_data(self, batch_size, test_fraction, split_seed):
        self.X_train, self.y_train, self.X_test, self.y_test = load_digits_split(test_fraction, split_seed)
        self.n_features = self.X_train.shape[1]
        n = len(self.y_train)
        if batch_size is not None and (int(batch_size) != batch_size or not 1 <= batch_size <= n):
            raise ValueError(f"Invalid batch_size: {batch_size} (must be an integer in [1, {n}] or None)")
        self.batch_size = None if batch_size is None else int(batch_size)

    def sample_batch(self, rng: np.random.Generator) -> np.ndarray:
        """Indices of one minibatch: ``batch_size`` distinct training examples drawn with ``rng``."""
        n = len(self.y_train)
        if self.batch_size is None:
            return np.arange(n)
        return rng.choice(n, size=self.batch_size, replace=False)

    def loss(self, x) -> float:
        """Regularised mean cross-entropy on the whole training set."""
        with _one_blas_thread():
            return self._loss_grad(x, self.X_train, self.y_train, need_grad=False)[0]

    def grad(self, x) -> np.ndarray:
        """Exact gradient of :meth:`loss` (all training examples)."""
        with _one_blas_thread():
            return self._loss_grad(x, self.X_train, self.y_train, need_grad=True)[1]

    def batch_loss(self, x, indices) -> float:
        """Regularised mean cross-entropy on the training examples ``indices``."""
        with _one_blas_thread():
            return self._loss_grad(x, self.X_train[indices], self.y_train[indices], need_grad=False)[0]

    def batch_grad(self, x, indices) -> np.ndarray:
        """Gradient of :meth:`batch_loss`."""
        with _one_blas_thread():
            return self._loss_grad(x, self.X_train[indices], self.y_train[indices], need_grad=True)[1]

    def stochastic_grad(self, x, rng: np.random.Generator) -> np.ndarray:
        """Gradient on a minibatch drawn with ``rng`` (see :meth:`sample_batch`)."""
        return self.batch_grad(x, self.sample_batch(rng))

    def test_loss(self, x) -> float:
        """Mean cross-entropy on the test set (without the regularisation term)."""
        with _one_blas_thread():
            z = self.logits(x, self.X_test)
        return float(-_log_softmax(z)[np.arange(len(self.y_test)), self.y_test].mean())

    def accuracy(self, x, split: str = "test") -> float:
        """Fraction of correctly classified examples on ``split`` (``"train"`` or ``"test"``)."""
        if split not in ("train", "test"):
            raise ValueError(f"Invalid split: {split!r} (must be 'train' or 'test')")
        X, y = (self.X_train, self.y_train) if split == "train" else (self.X_test, self.y_test)
        with _one_blas_thread():
            return float(np.mean(self.logits(x, X).argmax(axis=1) == y))

    def _check(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.dim,):
            raise ValueError(f"Invalid parameter shape: {x.shape} (expected ({self.dim},))")
        return x


class LogisticRegression(_DigitsProblem):
    r"""L2-regularised multinomial logistic regression on the digits (10 classes, 64 pixels).

    Loss: mean softmax cross-entropy of the logits :math:`z = X W + b` plus
    :math:`\tfrac{\lambda}{2}\lVert W\rVert^2` (``l2 = λ``; the biases are not regularised). The
    problem is convex; the default start is all zeros.

    Flat parameter layout (``dim = 64·10 + 10 = 650``): ``W`` of shape ``(64, 10)`` in row-major
    order (``x[:640].reshape(64, 10)``), then ``b`` (``x[640:]``). :meth:`unflatten` returns these
    as views.

    ``stochastic_grad`` uses minibatches of ``batch_size`` distinct training examples drawn with the
    ``rng`` it is given (``batch_size=None``: the full training set). The data are split into
    training and test sets by a permutation seeded with ``split_seed``.
    """

    def __init__(self, l2: float = 1e-4, batch_size: int | None = 128, test_fraction: float = 0.25,
                 split_seed: int = 0, x0=None):
        self.l2 = float(l2)
        if not (math.isfinite(self.l2) and self.l2 >= 0):
            raise ValueError(f"Invalid l2: {l2} (must be >= 0)")
        self._init_data(batch_size, test_fraction, split_seed)
        self.dim = self.n_features * self.n_classes + self.n_classes
        self.x0 = _start(x0, np.zeros(self.dim), self.dim)
        self.minimizer = None
        self.name = "logistic regression (digits)"

    def unflatten(self, x):
        """Views ``(W, b)`` into the flat vector ``x``."""
        k = self.n_features * self.n_classes
        return x[:k].reshape(self.n_features, self.n_classes), x[k:]

    def logits(self, x, X) -> np.ndarray:
        W, b = self.unflatten(self._check(x))
        return X @ W + b

    def _loss_grad(self, x, X, y, need_grad):
        x = self._check(x)
        W, b = self.unflatten(x)
        n = len(y)
        logp = _log_softmax(X @ W + b)
        rows = np.arange(n)
        loss = float(-logp[rows, y].mean() + 0.5 * self.l2 * np.sum(W * W))
        if not need_grad:
            return loss, None
        dz = np.exp(logp)  # softmax probabilities
        dz[rows, y] -= 1.0
        dz /= n
        g = np.empty(self.dim)
        gW, gb = self.unflatten(g)
        np.matmul(X.T, dz, out=gW)
        gW += self.l2 * W
        dz.sum(axis=0, out=gb)
        return loss, g


class MLP(_DigitsProblem):
    r"""A ReLU network with two hidden layers on the digits, with hand-written backpropagation.

    ``64 → hidden[0] → ReLU → hidden[1] → ReLU → 10`` logits, mean softmax cross-entropy, plus
    :math:`\tfrac{\lambda}{2}` times the squared norm of the weight matrices (``l2 = λ``, default 0;
    biases not regularised).

    Flat parameter layout, in this order, each weight matrix row-major with shape
    ``(fan_in, fan_out)``: ``W1 (64, h1)``, ``b1 (h1)``, ``W2 (h1, h2)``, ``b2 (h2)``,
    ``W3 (h2, 10)``, ``b3 (10)``. ``layout`` lists ``(name, shape, slice)`` for each block and
    :meth:`unflatten` returns views. The default start draws each weight from
    :math:`\mathcal N(0, 2/\text{fan\_in})` (He initialisation) with ``default_rng(init_seed)``
    and sets the biases to zero.

    Minibatches and the train/test split work as in :class:`LogisticRegression`.
    """

    def __init__(self, hidden=(32, 32), batch_size: int | None = 128, l2: float = 0.0,
                 test_fraction: float = 0.25, split_seed: int = 0, init_seed: int = 0, x0=None):
        hidden = tuple(hidden)
        if len(hidden) != 2 or any(int(h) != h or h < 1 for h in hidden):
            raise ValueError(f"Invalid hidden: {hidden} (must be two positive layer widths)")
        self.hidden = tuple(int(h) for h in hidden)
        self.l2 = float(l2)
        if not (math.isfinite(self.l2) and self.l2 >= 0):
            raise ValueError(f"Invalid l2: {l2} (must be >= 0)")
        self._init_data(batch_size, test_fraction, split_seed)
        sizes = (self.n_features, *self.hidden, self.n_classes)
        self.layout = []
        offset = 0
        for i in range(3):
            for name, shape in ((f"W{i + 1}", (sizes[i], sizes[i + 1])), (f"b{i + 1}", (sizes[i + 1],))):
                size = math.prod(shape)
                self.layout.append((name, shape, slice(offset, offset + size)))
                offset += size
        self.dim = offset
        self.init_seed = int(init_seed)
        self.x0 = _start(x0, self.init(self.init_seed), self.dim)
        self.minimizer = None
        self.name = f"MLP {self.hidden[0]}-{self.hidden[1]} (digits)"

    def init(self, seed: int = 0) -> np.ndarray:
        """He-initialised weights and zero biases, drawn with ``default_rng(seed)``."""
        rng = np.random.default_rng(seed)
        x = np.zeros(self.dim)
        for name, shape, sl in self.layout:
            if name.startswith("W"):
                x[sl] = rng.standard_normal(math.prod(shape)) * math.sqrt(2.0 / shape[0])
        return x

    def unflatten(self, x):
        """Views ``(W1, b1, W2, b2, W3, b3)`` into the flat vector ``x``."""
        return tuple(x[sl].reshape(shape) for _, shape, sl in self.layout)

    def logits(self, x, X) -> np.ndarray:
        W1, b1, W2, b2, W3, b3 = self.unflatten(self._check(x))
        h1 = np.maximum(X @ W1 + b1, 0.0)
        h2 = np.maximum(h1 @ W2 + b2, 0.0)
        return h2 @ W3 + b3

    def _loss_grad(self, x, X, y, need_grad):
        x = self._check(x)
        W1, b1, W2, b2, W3, b3 = self.unflatten(x)
        n = len(y)
        rows = np.arange(n)
        # forward
        z1 = X @ W1 + b1
        h1 = np.maximum(z1, 0.0)
        z2 = h1 @ W2 + b2
        h2 = np.maximum(z2, 0.0)
        logp = _log_softmax(h2 @ W3 + b3)
        loss = -logp[rows, y].mean()
        if self.l2:
            loss += 0.5 * self.l2 * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))
        if not need_grad:
            return float(loss), None
        # backward: dL/dz for the logits is (softmax - onehot) / n
        g = np.empty(self.dim)
        gW1, gb1, gW2, gb2, gW3, gb3 = self.unflatten(g)
        dz3 = np.exp(logp)
        dz3[rows, y] -= 1.0
        dz3 /= n
        np.matmul(h2.T, dz3, out=gW3)
        dz3.sum(axis=0, out=gb3)
        dz2 = dz3 @ W3.T
        dz2[z2 <= 0] = 0.0
        np.matmul(h1.T, dz2, out=gW2)
        dz2.sum(axis=0, out=gb2)
        dz1 = dz2 @ W2.T
        dz1[z1 <= 0] = 0.0
        np.matmul(X.T, dz1, out=gW1)
        dz1.sum(axis=0, out=gb1)
        if self.l2:
            gW1 += self.l2 * W1
            gW2 += self.l2 * W2
            gW3 += self.l2 * W3
        return float(loss), g


# --- Rescaled views of a problem -------------------------------------------------------------------


def _scale_vector(name: str, scale, dim: int) -> np.ndarray | float:
    s = np.asarray(scale, dtype=np.float64)
    if s.ndim == 0:
        return _positive(name, float(s))
    if s.shape != (dim,) or not (np.all(np.isfinite(s)) and np.all(s > 0)):
        raise ValueError(f"Invalid {name}: must be a positive number or {dim} positive numbers")
    s = s.copy()
    s.setflags(write=False)
    return s


class Rescaled(Problem):
    r"""``problem`` seen through rescaled parameters, a scaled loss, or rescaled gradients.

    Three independent knobs, each a positive number or (``param_scale``, ``grad_scale``) one
    positive factor per coordinate:

    * ``param_scale`` :math:`k`: the reparametrisation :math:`	heta' = k\,	heta` of the same
      model. The objective is :math:`f(	heta'/k)`, so by the chain rule its gradient is
      :math:`
abla f(	heta'/k)/k`: parameters ``k`` times larger, gradients ``k`` times smaller.
      ``x0``, ``minimizer`` and ``init`` are scaled with the parameters; :meth:`original` maps
      back.
    * ``loss_scale`` :math:`c`: the loss :math:`c\,f` and so every gradient times :math:`c`, as
      mixed-precision *loss scaling* does.
    * ``grad_scale`` :math:`D`: the gradients the optimizer sees are multiplied by :math:`D`
      while ``loss`` stays the unscaled objective, so runs compare on one scale. For a number this
      is loss scaling seen from the optimizer's side; for unequal factors it is a diagonally
      rescaled gradient of ``f``, which is not the gradient of any function: exactly the change
      that Adam is invariant to (with :math:`\epsilon = 0`) and gradient descent is not.

    Minibatches are drawn from the same ``rng`` as by ``problem``, so a rescaled run and the
    original see the same data.
    """

    def __init__(self, problem: Problem, param_scale=1.0, loss_scale: float = 1.0, grad_scale=1.0):
        self.problem = problem
        self.dim = problem.dim
        self.param_scale = _scale_vector("param_scale", param_scale, problem.dim)
        self.loss_scale = _positive("loss_scale", loss_scale)
        self.grad_scale = _scale_vector("grad_scale", grad_scale, problem.dim)
        self._numerator = self.loss_scale * self.grad_scale  # gradient = c·D·∇f(θ'/k) / k
        self.x0 = self.param_scale * np.asarray(problem.x0, dtype=np.float64)
        self.minimizer = (None if problem.minimizer is None
                          else self.param_scale * np.asarray(problem.minimizer, dtype=np.float64))
        self.vectorized_loss = getattr(problem, "vectorized_loss", False)
        knobs = [f"{name} {_describe(value)}" for name, value in
                 (("parameters ×", self.param_scale), ("loss ×", self.loss_scale),
                  ("gradients ×", self.grad_scale)) if not np.all(np.asarray(value) == 1.0)]
        self.name = f"{problem.name} ({', '.join(knobs) or 'unscaled'})"

    def original(self, x):
        """The original problem's parameters :math:`\theta = \theta'/k`."""
        return np.asarray(x, dtype=np.float64) / self.param_scale

    def loss(self, x):
        return self.loss_scale * self.problem.loss(self.original(x))

    def grad(self, x):
        return self.problem.grad(self.original(x)) * self._numerator / self.param_scale

    def stochastic_grad(self, x, rng):
        return self.problem.stochastic_grad(self.original(x), rng) * self._numerator / self.param_scale

    def init(self, seed: int = 0) -> np.ndarray:
        """``param_scale`` times the wrapped problem's ``init(seed)`` (or its ``x0``)."""
        base = self.problem.init(seed) if hasattr(self.problem, "init") else self.problem.x0
        return self.param_scale * np.asarray(base, dtype=np.float64)


def _describe(value) -> str:
    value = np.asarray(value)
    return f"{float(value):g}" if value.ndim == 0 else "[" + ", ".join(f"{v:g}" for v in value) + "]"
