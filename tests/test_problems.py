"""Tests for adamedu.problems: analytic gradients against finite differences, shapes, seeding."""

import math

import numpy as np
import pytest

from adamedu import problems as P

TWO_D = [
    P.IllConditionedQuadratic(),
    P.IllConditionedQuadratic(condition_number=20.0, curvature=0.5, angle=0.7),
    P.Rosenbrock(),
    P.Rosenbrock(a=0.5, b=10.0),
    P.Beale(),
    P.Saddle(),
    P.Saddle(quartic=0.0),
]
NOISY = [P.NoisyQuadratic(), P.NoisyQuadratic(curvature=[1.0, 2.0, 5.0, 0.1], noise=0.3, dim=4)]


@pytest.fixture(scope="module")
def logreg():
    return P.LogisticRegression(l2=1e-2)


@pytest.fixture(scope="module")
def mlp():
    return P.MLP(hidden=(12, 9), l2=1e-3)


def central_difference(f, x, h=1e-6):
    g = np.empty_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def directional_difference(f, x, d, h=1e-6):
    return (f(x + h * d) - f(x - h * d)) / (2 * h)


# --- gradients against finite differences ------------------------------------------------------


@pytest.mark.parametrize("problem", TWO_D + NOISY, ids=lambda p: p.name)
def test_small_problem_gradients_match_finite_differences(problem):
    rng = np.random.default_rng(1)
    for _ in range(10):
        x = rng.uniform(-2, 2, problem.dim)
        fd = central_difference(problem.loss, x)
        np.testing.assert_allclose(problem.grad(x), fd, rtol=1e-6, atol=1e-6 * (1 + np.abs(fd).max()))


def test_logistic_regression_gradient_matches_finite_differences(logreg):
    rng = np.random.default_rng(2)
    x = 0.3 * rng.standard_normal(logreg.dim)
    g = logreg.grad(x)
    coords = rng.choice(logreg.dim, 40, replace=False)
    coords[:2] = [0, logreg.dim - 1]  # first weight and last bias
    for i in coords:
        e = np.zeros(logreg.dim)
        e[i] = 1.0
        assert directional_difference(logreg.loss, x, e) == pytest.approx(g[i], rel=1e-5, abs=1e-8)
    for _ in range(5):
        d = rng.standard_normal(logreg.dim)
        assert directional_difference(logreg.loss, x, d) == pytest.approx(g @ d, rel=1e-6)


def test_mlp_gradient_matches_finite_differences(mlp):
    rng = np.random.default_rng(3)
    for seed in range(2):
        x = mlp.init(seed) + 0.05 * rng.standard_normal(mlp.dim)
        x[mlp.layout[1][2]] = 0.1 * rng.standard_normal(mlp.hidden[0])  # non-zero biases
        g = mlp.grad(x)
        # every block is touched: a few coordinates of each, then random directions
        for _, _, sl in mlp.layout:
            for i in rng.integers(sl.start, sl.stop, 4):
                e = np.zeros(mlp.dim)
                e[i] = 1.0
                assert directional_difference(mlp.loss, x, e) == pytest.approx(g[i], rel=1e-4, abs=1e-7)
        for _ in range(5):
            d = rng.standard_normal(mlp.dim)
            assert directional_difference(mlp.loss, x, d) == pytest.approx(g @ d, rel=1e-5)


@pytest.mark.parametrize("name", ["logreg", "mlp"])
def test_minibatch_gradient_matches_finite_differences(name, request):
    problem = request.getfixturevalue(name)
    rng = np.random.default_rng(4)
    x = problem.x0 + 0.1 * rng.standard_normal(problem.dim)
    idx = problem.sample_batch(rng)
    g = problem.batch_grad(x, idx)
    for _ in range(5):
        d = rng.standard_normal(problem.dim)
        fd = directional_difference(lambda z: problem.batch_loss(z, idx), x, d)
        assert fd == pytest.approx(g @ d, rel=1e-5)


@pytest.mark.parametrize("name", ["logreg", "mlp"])
def test_full_batch_gradient_is_mean_of_disjoint_batches(name, request):
    problem = request.getfixturevalue(name)
    x = problem.x0 + 0.05 * np.random.default_rng(5).standard_normal(problem.dim)
    n = len(problem.y_train)
    parts = np.array_split(np.arange(n), 3)
    # the data term is a mean over examples; the L2 term appears once in each batch gradient
    combined = sum(len(p) * problem.batch_grad(x, p) for p in parts) / n
    np.testing.assert_allclose(combined, problem.grad(x), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(problem.batch_grad(x, np.arange(n)), problem.grad(x), rtol=1e-12, atol=1e-15)


# --- known values ----------------------------------------------------------------------------------


@pytest.mark.parametrize("problem", [p for p in TWO_D + NOISY if p.minimizer is not None],
                         ids=lambda p: p.name)
def test_minimizer_is_stationary_and_lowest(problem):
    np.testing.assert_allclose(problem.grad(problem.minimizer), 0.0, atol=1e-12)
    rng = np.random.default_rng(6)
    pts = problem.minimizer + rng.uniform(-1, 1, (200, problem.dim))
    assert np.all(problem.loss(pts) >= problem.loss(problem.minimizer))


def test_known_values():
    assert P.Rosenbrock().loss(np.array([1.0, 1.0])) == 0.0
    assert P.Rosenbrock().loss(np.array([-1.2, 1.0])) == pytest.approx(24.2)
    assert P.Beale().loss(np.array([3.0, 0.5])) == 0.0
    assert P.Saddle().loss(P.Saddle().minimizer) == pytest.approx(-0.25)
    q = P.IllConditionedQuadratic(condition_number=50.0)
    assert q.loss(np.array([1.0, 1.0])) == pytest.approx(25.5)
    np.testing.assert_array_equal(q.hessian, np.diag([1.0, 50.0]))
    # the plain saddle: Hessian diag(1, -1) everywhere
    s = P.Saddle(quartic=0.0)
    np.testing.assert_allclose(s.grad(np.array([0.3, -0.7])), [0.3, 0.7])


def test_rotated_quadratic_has_the_requested_condition_number():
    q = P.IllConditionedQuadratic(condition_number=30.0, curvature=2.0, angle=0.4)
    eig = np.linalg.eigvalsh(q.hessian)
    np.testing.assert_allclose(eig, [2.0, 60.0])
    np.testing.assert_allclose(q.x0, q.rotation @ [-4.0, 1.0])
    assert q.loss(q.x0) == pytest.approx(0.5 * (2.0 * 16 + 60.0 * 1))


def test_logistic_regression_at_zero_is_uniform(logreg):
    assert logreg.loss(logreg.x0) == pytest.approx(math.log(10), rel=1e-12)
    assert logreg.test_loss(logreg.x0) == pytest.approx(math.log(10), rel=1e-12)


# --- shapes and vectorisation ----------------------------------------------------------------------


@pytest.mark.parametrize("problem", TWO_D + [NOISY[0]], ids=lambda p: p.name)
def test_two_d_loss_and_grad_are_vectorised(problem):
    rng = np.random.default_rng(7)
    grid = rng.uniform(-2, 2, (5, 7, 2))
    values = problem.loss(grid)
    grads = problem.grad(grid)
    assert values.shape == (5, 7)
    assert grads.shape == (5, 7, 2)
    for i, j in [(0, 0), (3, 6), (4, 2)]:
        assert values[i, j] == pytest.approx(problem.loss(grid[i, j]), rel=1e-14)
        np.testing.assert_allclose(grads[i, j], problem.grad(grid[i, j]), rtol=1e-14, atol=1e-300)
    x = problem.x0
    assert np.ndim(problem.loss(x)) == 0 and isinstance(float(problem.loss(x)), float)
    assert problem.grad(x).shape == (2,) and problem.grad(x).dtype == np.float64
    assert problem.x0.dtype == np.float64 and problem.x0.shape == (problem.dim,)


def test_meshgrid_contour_shape():
    X, Y = np.meshgrid(np.linspace(-2, 2, 30), np.linspace(-1, 3, 20))
    Z = P.Rosenbrock().loss(np.stack([X, Y], axis=-1))
    assert Z.shape == (20, 30)


@pytest.mark.parametrize("name", ["logreg", "mlp"])
def test_digits_shapes_and_layout(name, request):
    problem = request.getfixturevalue(name)
    assert problem.x0.shape == (problem.dim,)
    assert problem.grad(problem.x0).shape == (problem.dim,)
    assert problem.X_train.shape[1] == 64
    assert len(problem.y_train) + len(problem.y_test) == 1797
    assert set(np.unique(problem.y_test)) == set(range(10))
    assert 0 <= problem.accuracy(problem.x0) <= 1
    with pytest.raises(ValueError, match="Invalid parameter shape"):
        problem.loss(np.zeros(problem.dim + 1))


def test_mlp_layout_is_contiguous_and_unflatten_gives_views(mlp):
    assert [name for name, _, _ in mlp.layout] == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert mlp.layout[0][1] == (64, 12) and mlp.layout[2][1] == (12, 9) and mlp.layout[4][1] == (9, 10)
    stops = [sl.stop for _, _, sl in mlp.layout]
    assert [sl.start for _, _, sl in mlp.layout] == [0] + stops[:-1]
    assert stops[-1] == mlp.dim == 64 * 12 + 12 + 12 * 9 + 9 + 9 * 10 + 10
    x = np.arange(mlp.dim, dtype=float)
    W1, b1, *_ , b3 = mlp.unflatten(x)
    assert W1[0, 1] == 1.0 and W1[1, 0] == 12.0  # row-major (fan_in, fan_out)
    b3[:] = -1.0
    assert np.all(x[-10:] == -1.0)


def test_mlp_init_is_seeded_he_init():
    m = P.MLP(hidden=(200, 100))
    np.testing.assert_array_equal(m.x0, P.MLP(hidden=(200, 100)).x0)
    assert not np.array_equal(m.init(1), m.x0)
    W1, b1, W2, b2, W3, b3 = m.unflatten(m.x0)
    assert np.all(b1 == 0) and np.all(b2 == 0) and np.all(b3 == 0)
    assert W1.std() == pytest.approx(math.sqrt(2 / 64), rel=0.03)
    assert W2.std() == pytest.approx(math.sqrt(2 / 200), rel=0.03)
    # a short full-batch gradient descent run learns something
    x = P.MLP(hidden=(32, 32), batch_size=None).x0.copy()
    m32 = P.MLP(hidden=(32, 32))
    loss0 = m32.loss(x)
    for _ in range(60):
        x -= 0.5 * m32.grad(x)
    assert m32.loss(x) < 0.2 * loss0 and m32.accuracy(x) > 0.85


# --- seeding -----------------------------------------------------------------------------------


def test_deterministic_problems_ignore_rng():
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    for p in TWO_D:
        np.testing.assert_array_equal(p.stochastic_grad(p.x0, rng), p.grad(p.x0))
    assert rng.bit_generator.state == state


def test_noisy_quadratic_noise_is_seeded_and_unbiased():
    p = P.NoisyQuadratic(curvature=[1.0, 3.0, 0.5], noise=2.0, dim=3)
    x = np.array([0.5, -1.0, 2.0])
    a = [p.stochastic_grad(x, np.random.default_rng(11)) for _ in range(2)]
    np.testing.assert_array_equal(a[0], a[1])
    assert not np.array_equal(a[0], p.stochastic_grad(x, np.random.default_rng(12)))
    rng = np.random.default_rng(13)
    draws = np.array([p.stochastic_grad(x, rng) for _ in range(20000)])
    # mean within 5 standard errors of the true gradient, standard deviation close to sigma
    assert np.all(np.abs(draws.mean(axis=0) - p.grad(x)) < 5 * 2.0 / math.sqrt(20000))
    np.testing.assert_allclose(draws.std(axis=0), 2.0, rtol=0.03)
    silent = P.NoisyQuadratic(noise=0.0)
    np.testing.assert_array_equal(silent.stochastic_grad(x[:2], rng), silent.grad(x[:2]))


@pytest.mark.parametrize("name", ["logreg", "mlp"])
def test_minibatches_are_seeded(name, request):
    problem = request.getfixturevalue(name)
    x = problem.x0 + 0.01
    same = [problem.stochastic_grad(x, np.random.default_rng(21)) for _ in range(2)]
    np.testing.assert_array_equal(same[0], same[1])
    assert not np.array_equal(same[0], problem.stochastic_grad(x, np.random.default_rng(22)))
    idx = problem.sample_batch(np.random.default_rng(23))
    assert len(idx) == problem.batch_size == len(np.unique(idx))
    assert idx.min() >= 0 and idx.max() < len(problem.y_train)


def test_full_batch_option():
    p = P.LogisticRegression(batch_size=None)
    x = p.x0 + 0.01
    np.testing.assert_allclose(p.stochastic_grad(x, np.random.default_rng(0)), p.grad(x), rtol=1e-12)


def test_split_is_seeded_and_disjoint():
    a = P.load_digits_split(0.25, 0)
    b = P.load_digits_split(0.25, 1)
    assert not np.array_equal(a[1], b[1])
    assert len(a[3]) == round(0.25 * 1797)
    with pytest.raises(ValueError):
        a[0][0, 0] = 1.0  # read-only, shared between problems


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: P.IllConditionedQuadratic(condition_number=0.5), "condition_number"),
        (lambda: P.IllConditionedQuadratic(condition_number=float("nan")), "condition_number"),
        (lambda: P.IllConditionedQuadratic(curvature=-1.0), "curvature"),
        (lambda: P.Rosenbrock(b=0.0), "b"),
        (lambda: P.Saddle(quartic=-1.0), "quartic"),
        (lambda: P.NoisyQuadratic(noise=-0.1), "noise"),
        (lambda: P.NoisyQuadratic(dim=0), "dim"),
        (lambda: P.NoisyQuadratic(curvature=[1.0, 0.0]), "curvature"),
        (lambda: P.LogisticRegression(l2=-1.0), "l2"),
        (lambda: P.LogisticRegression(batch_size=0), "batch_size"),
        (lambda: P.MLP(hidden=(3,)), "hidden"),
        (lambda: P.Beale(x0=[1.0, 2.0, 3.0]), "x0"),
    ],
)
def test_bad_input_raises_value_error_naming_it(make, name):
    with pytest.raises(ValueError, match=f"Invalid {name}"):
        make()


# --- rescaled views ------------------------------------------------------------------------------


def test_rescaled_gradients():
    base = P.NoisyQuadratic(curvature=[1.0, 4.0], noise=0.5)
    x = np.array([0.3, -0.2])
    s = P.Rescaled(base, grad_scale=[2.0, 0.25])
    np.testing.assert_array_equal(s.grad(x), [2.0, 0.25] * base.grad(x))
    np.testing.assert_array_equal(s.stochastic_grad(x, np.random.default_rng(1)),
                                  [2.0, 0.25] * base.stochastic_grad(x, np.random.default_rng(1)))
    assert s.loss(x) == base.loss(x) and s.dim == 2 and s.vectorized_loss
    # a number c as the gradient scale is the exact gradient of c·f (loss scaling) ...
    c = P.Rescaled(P.Rosenbrock(), grad_scale=3.0)
    fd = central_difference(lambda z: 3.0 * P.Rosenbrock().loss(z), np.array([0.2, 0.7]))
    np.testing.assert_allclose(c.grad(np.array([0.2, 0.7])), fd, rtol=1e-6)
    # ... and the same as loss_scale, which also scales the loss
    ls = P.Rescaled(P.Rosenbrock(), loss_scale=3.0)
    np.testing.assert_array_equal(ls.grad(np.array([0.2, 0.7])), c.grad(np.array([0.2, 0.7])))
    assert ls.loss(np.array([0.2, 0.7])) == 3.0 * P.Rosenbrock().loss(np.array([0.2, 0.7]))
    for bad in ([1.0, -1.0], 0.0, [1.0, 2.0, 3.0], np.nan):
        with pytest.raises(ValueError, match="Invalid grad_scale"):
            P.Rescaled(base, grad_scale=bad)
    with pytest.raises(ValueError, match="Invalid loss_scale"):
        P.Rescaled(base, loss_scale=-1.0)


@pytest.mark.parametrize("k", [10.0, [4.0, 0.5]])
def test_rescaled_parameters_are_a_reparameterisation(k):
    base = P.Rosenbrock()
    s = P.Rescaled(base, param_scale=k)
    rng = np.random.default_rng(8)
    for _ in range(5):
        x = rng.uniform(-2, 2, 2)
        xs = np.asarray(k) * x
        assert s.loss(xs) == pytest.approx(base.loss(x), rel=1e-13)
        np.testing.assert_allclose(s.grad(xs), central_difference(s.loss, xs), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(s.grad(xs), base.grad(x) / np.asarray(k), rtol=1e-13)
    np.testing.assert_allclose(s.original(s.x0), base.x0, rtol=1e-15)
    np.testing.assert_allclose(s.minimizer, np.asarray(k) * base.minimizer)
    assert s.loss(np.stack([s.x0, s.minimizer])).shape == (2,)


def test_rescaled_parameters_stochastic_uses_same_noise():
    base = P.LogisticRegression()
    s = P.Rescaled(base, param_scale=8.0)
    g = s.stochastic_grad(s.x0 + 0.8, np.random.default_rng(5))
    np.testing.assert_array_equal(g, base.stochastic_grad(base.x0 + 0.1, np.random.default_rng(5)) / 8.0)


def test_rescaled_parameters_and_loss_together():
    logreg = P.LogisticRegression(l2=1e-4, batch_size=128)
    scaled = P.Rescaled(logreg, param_scale=4.0, loss_scale=8.0)
    x = np.random.default_rng(0).standard_normal(logreg.dim) * 0.1
    np.testing.assert_allclose(scaled.grad(4.0 * x), 2.0 * logreg.grad(x), rtol=1e-12)
    assert scaled.loss(4.0 * x) == pytest.approx(8.0 * logreg.loss(x))
    g1 = scaled.stochastic_grad(4.0 * x, np.random.default_rng(5))
    g2 = logreg.stochastic_grad(x, np.random.default_rng(5))
    np.testing.assert_allclose(g1, 2.0 * g2, rtol=1e-12)
    for bad in (0.0, -1.0, math.inf):
        with pytest.raises(ValueError, match="param_scale"):
            P.Rescaled(logreg, param_scale=bad)
        with pytest.raises(ValueError, match="loss_scale"):
            P.Rescaled(logreg, loss_scale=bad)
