"""The base class: parameter groups, state dicts, and bad input that raises and changes nothing."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adamedu import optim
from adamedu.optim import SGD, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop
from tests.optim.reference import CONFIGS, DATA, constructor_args, ref

ALL = [SGD, Adagrad, RMSprop, Adam, AdamW, Adamax, NAdam, RAdam]
# one configuration per class that uses every state entry the class has
RICH = {
    SGD: {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    Adagrad: {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
    RMSprop: {"lr": 0.01, "momentum": 0.5, "centered": True},
    Adam: {"lr": 0.02, "amsgrad": True, "weight_decay": 0.1},
    AdamW: {"lr": 0.02, "amsgrad": True},
    Adamax: {"lr": 0.02, "weight_decay": 0.1},
    NAdam: {"lr": 0.02, "decoupled_weight_decay": True, "weight_decay": 0.1},
    RAdam: {"lr": 0.02, "betas": (0.9, 0.7)},
}


def snapshot(opt, groups=True):
    """Bytes of every parameter, every state entry and (optionally) every group option."""
    out = [p.tobytes() for p in opt.params]
    for st_ in opt.state:
        for key in sorted(st_):
            val = st_[key]
            out.append((key, val.tobytes() if isinstance(val, np.ndarray) else repr(val)))
    if groups:
        for group in opt.param_groups:
            out.append(repr(sorted((k, v) for k, v in group.items() if k != "params")))
    return out


def two_params(dtype=np.float64):
    return [np.array(x, dtype=dtype) for x in DATA["x0"]]


def grads_for(params, t=0):
    return ref.gradient(DATA, params, t, False)


# -------------------------------------------------------------------------------------------
# parameter groups
def test_params_as_array_list_or_groups():
    x = np.ones(3)
    assert Adam(x).params[0] is x  # a single array is a one-element list
    opt = Adam([{"params": [x], "lr": 0.5}, {"params": np.zeros(2)}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.1]
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)  # filled in from the defaults
    assert len(opt.params) == 2 and len(opt.state) == 2 and opt.params[0] is x
    assert isinstance(opt.param_groups[0], dict)


def test_add_param_group_and_per_group_options():
    x, y = np.ones(2), np.ones(2)
    opt = SGD([x], lr=0.1)
    opt.add_param_group({"params": [y], "lr": 0.5, "momentum": 0.9})
    opt.step([np.ones(2), np.ones(2)])
    np.testing.assert_allclose(x, 0.9)
    np.testing.assert_allclose(y, 0.5)
    assert "momentum_buffer" in opt.state[1] and "momentum_buffer" not in opt.state[0]


def test_changing_group_lr_is_how_a_schedule_works_and_defaults_do_nothing():
    x, y = np.ones(2), np.ones(2)
    a, b = SGD([x], lr=0.1), SGD([y], lr=0.1)
    a.param_groups[0]["lr"] = 0.2
    b.defaults["lr"] = 0.2  # as in PyTorch, this changes no existing group
    a.step([np.ones(2)])
    b.step([np.ones(2)])
    np.testing.assert_allclose(x, 0.8)
    np.testing.assert_allclose(y, 0.9)


@pytest.mark.parametrize("edit", [
    lambda g: g.__setitem__("lr", -1.0),
    lambda g: g.update(betas=(1.0, 0.9)),
    lambda g: g.__setitem__("eps", "tiny"),
    lambda g: g.__setitem__("amsgrad", "yes"),
    lambda g: g.__setitem__("lr", np.array([0.1, 0.2])),
    lambda g: g.pop("eps"),
    lambda g: g.__setitem__("params", [np.zeros(3)]),
    lambda g: g["params"].append(np.zeros(3)),
])
def test_bad_group_edit_is_refused_before_anything_changes(edit):
    params = two_params()
    opt = Adam(params, lr=0.02, amsgrad=True)
    opt.step(grads_for(params))
    before = snapshot(opt, groups=False)
    edit(opt.param_groups[0])
    with pytest.raises((TypeError, ValueError)):
        opt.step(grads_for(params, 1))
    assert snapshot(opt, groups=False) == before


def test_group_values_are_checked_and_stored_as_numbers():
    x = np.ones(2)
    opt = Adagrad([x], lr=np.array([0.1]))  # a one-element array, as PyTorch takes a tensor
    assert opt.param_groups[0]["lr"] == 0.1 and type(opt.param_groups[0]["lr"]) is float
    opt.param_groups[0]["lr"] = np.array(0.5)
    opt.step([np.ones(2)])
    assert type(opt.param_groups[0]["lr"]) is float
    np.testing.assert_allclose(x, 1 - 0.5)


def test_amsgrad_switched_on_later_gets_its_state():
    x = np.ones(3)
    opt = Adam([x], lr=0.1)
    opt.step([np.ones(3)])
    opt.param_groups[0]["amsgrad"] = True
    opt.step([np.ones(3)])
    assert set(opt.state[0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}


@pytest.mark.parametrize("bad, error, match", [
    (None, TypeError, "list with one gradient per parameter"),
    ((g for g in [np.ones(3)]), TypeError, "got generator"),
    (1.0, TypeError, "got float"),
    ({"a": 1}, TypeError, "got dict"),
])
def test_gradient_container_errors_are_clear(bad, error, match):
    opt = Adam([np.ones(3), np.ones(2)])
    with pytest.raises(error, match=match):
        opt.step(bad)


def test_none_gradient_skips_its_parameter_as_in_torch():
    x, y = np.ones(3), np.ones(2)
    opt = Adam([x, y], lr=0.1)
    opt.step([None, np.ones(2)])
    assert np.array_equal(x, np.ones(3)) and opt.state[0] == {}
    assert opt.state[1]["step"] == 1 and not np.array_equal(y, np.ones(2))


# -------------------------------------------------------------------------------------------
# every error step can raise leaves every array exactly as it was
def _nan(params, grads):
    grads[1].reshape(-1)[-1] = np.nan
    return grads


def _read_only(params, grads):
    params[1].flags.writeable = False
    return grads


def _reshaped(params, grads):
    params[1].shape = (4,)
    return grads


FAULTS = {
    "NaN gradient": (_nan, FloatingPointError),
    "inf gradient": (lambda p, g: [g[0], np.full_like(g[1], np.inf)], FloatingPointError),
    "too few gradients": (lambda p, g: g[:1], ValueError),
    "wrong shape": (lambda p, g: [g[0], g[1].ravel()], ValueError),
    "complex gradient": (lambda p, g: [g[0], g[1] + 1j], TypeError),
    "string gradient": (lambda p, g: [g[0], "1.0"], TypeError),
    "read-only parameter": (_read_only, ValueError),
    "reshaped parameter": (_reshaped, ValueError),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("cls", ALL)
def test_fault_injection_changes_nothing(cls, fault):
    assert_fault_changes_nothing(lambda params: cls(params, **RICH[cls]), two_params, grads_for, fault)


def assert_fault_changes_nothing(make_optimizer, make_params, grads_for, fault):
    """After three good steps, a step with ``fault`` raises and changes nothing, and training then
    goes on exactly as if the bad step had never been attempted (against a twin that never saw it).

    ``make_params()`` gives two parameters whose second is a 2x2 matrix (some faults reshape it).
    """
    inject, error = FAULTS[fault]
    params, twin_params = make_params(), make_params()
    opt, twin = make_optimizer(params), make_optimizer(twin_params)
    for t in range(3):
        opt.step(grads_for(params, t))
        twin.step(grads_for(twin_params, t))
    before = snapshot(opt)
    grads = inject(params, [g.copy() for g in grads_for(params, 3)])
    with pytest.raises(error):
        opt.step(grads)
    params[1].flags.writeable = True
    params[1].shape = (2, 2)
    assert snapshot(opt) == before
    opt.step(grads_for(params, 3))
    twin.step(grads_for(twin_params, 3))
    assert snapshot(opt) == snapshot(twin)


@settings(max_examples=60, deadline=None)
@given(
    cls=st.sampled_from(ALL),
    dtype=st.sampled_from([np.float32, np.float64]),
    which=st.integers(0, 1),
    pos=st.integers(0, 10_000),
    bad=st.sampled_from([math.nan, math.inf, -math.inf]),
    warm=st.integers(0, 3),
)
def test_nonfinite_gradient_anywhere_changes_nothing(cls, dtype, which, pos, bad, warm):
    rng = np.random.default_rng(pos)
    shapes = [(5,), (3, 4)]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    opt = cls(params, **RICH[cls])
    for _ in range(warm):
        opt.step([rng.standard_normal(s).astype(dtype) for s in shapes])
    before = snapshot(opt)
    bad_grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
    bad_grads[which].reshape(-1)[pos % bad_grads[which].size] = bad
    with pytest.raises(FloatingPointError, match=f"gradient {which}"):
        opt.step(bad_grads)
    assert snapshot(opt) == before


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nonfinite_gradient_in_the_last_chunk_of_a_large_parameter(bad):
    n = 3 * optim.CHUNK_BYTES // 8 + 5  # several chunks, updated by several threads
    x = np.linspace(-1, 1, n)
    opt = Adam([x], lr=0.1)
    opt.step([np.ones(n)])
    before = snapshot(opt)
    g = np.ones(n)
    g[-1] = bad
    with pytest.raises(FloatingPointError):
        opt.step([g])
    assert snapshot(opt) == before


@pytest.mark.parametrize("n", [4, 5000])
def test_huge_finite_gradient_is_not_mistaken_for_nonfinite(n):
    # the sum of squares overflows float32, but every entry is finite
    x = np.zeros(n, dtype=np.float32)
    opt = SGD([x], lr=0.1)
    opt.step([np.full(n, 3e38, dtype=np.float32)])
    np.testing.assert_allclose(x, -3e37, rtol=1e-6)


# -------------------------------------------------------------------------------------------
# what is refused when the optimizer is built
@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_, np.complex128, np.float16])
def test_non_float_parameters_refused(cls, dtype):
    with pytest.raises(ValueError, match="float32 or float64"):
        cls([np.zeros(3, dtype=dtype)])
    with pytest.raises(ValueError, match="float32 or float64"):
        cls([np.zeros(2), np.zeros(3, dtype=dtype)])


def test_other_bad_parameter_lists():
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam([])
    with pytest.raises(TypeError, match="NumPy array"):
        Adam([[1.0, 2.0]])
    with pytest.raises(TypeError, match="ordered collection"):
        Adam([{"params": {1, 2}}])
    with pytest.raises(TypeError, match="not a mix"):
        Adam([np.zeros(2), {"params": [np.zeros(2)]}])
    x = np.zeros(3)
    with pytest.raises(ValueError, match="more than once"):
        Adam([x, x])
    with pytest.raises(ValueError, match="more than once"):
        Adam([{"params": [x]}, {"params": [x]}])
    x.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        Adam([x])


def test_parameters_that_share_memory_are_refused():
    y = np.ones(4)
    with pytest.raises(ValueError, match="share memory"):
        SGD([y, y[:]])
    with pytest.raises(ValueError, match="share memory"):
        SGD([y[:3], y[2:]])
    SGD([y[::2], y[1::2]])  # interleaved views share no element: fine
    opt = SGD([y[:2]])
    with pytest.raises(ValueError, match="share memory"):
        opt.add_param_group({"params": [y[1:]]})
    assert len(opt.param_groups) == 1 and len(opt.params) == 1  # the refused group left no trace


def test_matrix_parameters_are_refused_and_matrix_gradients_are_elementwise():
    with pytest.raises(TypeError, match="matrix"):
        Adam([np.matrix([[1.0, 2.0]])])
    x, y = np.ones((1, 2)), np.ones((1, 2))
    a, b = Adam([x], lr=0.1), Adam([y], lr=0.1)
    g = [[0.5, -2.0]]
    a.step([np.matrix(g)])
    b.step([np.array(g)])
    assert np.array_equal(x, y)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"lr": np.array([0.1, 0.2])}, ValueError, "single number"),
    ({"lr": "0.1"}, TypeError, "lr must be a number"),
    ({"lr": True}, TypeError, "bool"),
    ({"lr": math.inf}, ValueError, "Invalid learning rate: inf"),
    ({"betas": 0.9}, TypeError, "pair"),
    ({"betas": (0.9, 0.99, 0.999)}, ValueError, "pair"),
    ({"betas": (0.9, "0.99")}, TypeError, r"betas\[1\] must be a number"),
    ({"amsgrad": 1}, TypeError, "amsgrad must be True or False"),
    ({"weight_decay": None}, TypeError, "weight_decay must be a number"),
])
def test_hyperparameter_types_are_checked_at_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        Adam([np.zeros(2)], **kwargs)


def test_dampening_must_be_a_number_from_the_start():
    with pytest.raises(TypeError, match="dampening must be a number"):
        SGD([np.zeros(2)], momentum=0.9, dampening="0.5")
    x = np.ones(2)
    opt = SGD([x], momentum=0.9)
    opt.step([np.ones(2)])
    opt.param_groups[0]["dampening"] = "0.5"
    before = snapshot(opt, groups=False)
    with pytest.raises(TypeError, match=r"param_groups\[0\]: dampening must be a number"):
        opt.step([np.ones(2)])
    assert snapshot(opt, groups=False) == before


def test_torch_style_tensor_learning_rate_is_accepted():
    torch = pytest.importorskip("torch")
    x, y = np.ones(3), np.ones(3)
    Adagrad([x], lr=torch.tensor(0.01)).step([np.ones(3)])  # float32, as PyTorch makes it
    Adagrad([y], lr=float(np.float32(0.01))).step([np.ones(3)])
    assert np.array_equal(x, y)


# -------------------------------------------------------------------------------------------
# gradients that alias parameters
@pytest.mark.parametrize("cls", [AdamW, NAdam, RAdam, SGD])
def test_gradient_that_is_the_parameter_itself(cls):
    # f(x) = |x|^2 / 2 has grad(x) = x; passing x itself must equal passing a copy
    kw = {"lr": 0.1, "weight_decay": 0.5}
    if cls in (NAdam, RAdam):
        kw["decoupled_weight_decay"] = True
    x, y = np.linspace(1, 2, 5), np.linspace(1, 2, 5)
    a, b = cls([x], **kw), cls([y], **kw)
    for _ in range(5):
        a.step([x])
        b.step([y.copy()])
    assert np.array_equal(x, y)


def test_gradient_that_is_another_parameter():
    # f = x·y: grad_x = y and grad_y = x. Every gradient is read before any parameter moves,
    # as in PyTorch: x = [1, 2] - 0.1 [3, 4], y = [3, 4] - 0.1 [1, 2].
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    SGD([x, y], lr=0.1).step([y, x])
    np.testing.assert_allclose(x, [0.7, 1.6])
    np.testing.assert_allclose(y, [2.9, 3.8])


def test_gradient_dtype_and_layout_are_converted_not_modified():
    x = np.zeros(6, dtype=np.float32)
    y = np.zeros(6, dtype=np.float32)
    g = np.arange(12, dtype=np.float64)[::2].copy()
    g_orig = g.copy()
    Adam([x], lr=0.1, weight_decay=0.1, maximize=True).step([g])
    Adam([y], lr=0.1, weight_decay=0.1, maximize=True).step([np.arange(12.0)[::2]])
    assert np.array_equal(g, g_orig)  # the caller's gradient is never written to
    assert np.array_equal(x, y)


# -------------------------------------------------------------------------------------------
# state dicts
@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("via_pickle", [False, True])
def test_state_dict_round_trip_continues_bitwise(cls, via_pickle):
    groups = [{"params": [0]}, {"params": [1], "lr": 0.01}]
    params = two_params()
    spec, kw = constructor_args(params, {**RICH[cls], "groups": groups})
    opt = cls(spec, **kw)
    for t in range(5):
        opt.step(grads_for(params, t))
    saved = opt.state_dict()
    kept = pickle.dumps(saved)
    saved_params = [p.copy() for p in params]
    if via_pickle:
        saved = pickle.loads(pickle.dumps(saved))
    for t in range(5, 10):  # continue the original
        opt.step(grads_for(params, t))
    assert pickle.dumps(saved) == kept  # the saved dict did not move with the optimizer
    resumed_params = [p.copy() for p in saved_params]
    spec, kw = constructor_args(resumed_params, {**RICH[cls], "groups": groups})
    resumed = cls(spec, **kw)
    resumed.load_state_dict(saved)
    for t in range(5, 10):
        resumed.step(grads_for(resumed_params, t))
    assert snapshot(resumed) == snapshot(opt)


def test_state_dict_layout():
    params = two_params()
    opt = Adam([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}])
    assert opt.state_dict()["state"] == {}
    opt.step([None, np.ones((2, 2))])
    sd = opt.state_dict()
    assert list(sd["state"]) == [1]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert set(sd["state"][1]) == {"step", "exp_avg", "exp_avg_sq"}


@pytest.mark.parametrize("corrupt, match", [
    (lambda sd: sd["param_groups"].pop(), "parameter group"),
    (lambda sd: sd["param_groups"][0]["params"].append(7), "parameter"),
    (lambda sd: sd["param_groups"][0].__setitem__("lr", -1.0), "Invalid learning rate"),
    (lambda sd: sd["state"][1].__setitem__("exp_avg", np.ones(3)), "shape"),
    (lambda sd: sd["state"].__setitem__(9, {"step": 1}), "unknown parameter"),
    (lambda sd: sd["state"][0].__setitem__("step", -2), "invalid step"),
    (lambda sd: sd.pop("state"), "exactly the keys"),
])
def test_bad_state_dict_is_refused_and_changes_nothing(corrupt, match):
    params = two_params()
    opt = Adam([{"params": [params[0]]}, {"params": [params[1]]}], lr=0.02, amsgrad=True)
    opt.step(grads_for(params))
    sd = copy.deepcopy(opt.state_dict())
    opt.step(grads_for(params, 1))
    before = snapshot(opt)
    corrupt(sd)
    with pytest.raises((ValueError, TypeError), match=match):
        opt.load_state_dict(sd)
    assert snapshot(opt) == before


def test_loaded_state_is_cast_to_the_parameters_dtype():
    x64 = np.ones(3)
    a = Adam([x64], lr=0.1)
    a.step([np.ones(3)])
    x32 = np.ones(3, dtype=np.float32)
    b = Adam([x32], lr=0.1)
    b.load_state_dict(a.state_dict())
    assert b.state[0]["exp_avg"].dtype == np.float32 and b.state[0]["step"] == 1


# -------------------------------------------------------------------------------------------
# speed machinery: chunks and threads compute exactly what one call computes
@pytest.mark.parametrize("k", range(0, len(CONFIGS), 7), ids=lambda k: f"{CONFIGS[k]['name']}-{k}")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunked_update_equals_single_call(k, dtype):
    cfg = CONFIGS[k]
    kwargs = {key: v for key, v in cfg["kwargs"].items() if key != "groups"}
    cls = optim.__dict__[cfg["name"]]
    assert_chunked_equals_single_call(lambda params: cls(params, **constructor_args(params, kwargs)[1]), dtype,
                                      steps=3)


def assert_chunked_equals_single_call(make_optimizer, dtype, steps):
    """A parameter of three chunks (updated in chunks, on several threads) ends bitwise where the
    same parameter stored with a stride (not contiguous: always updated in one call) ends."""
    rng = np.random.default_rng(1)
    n = 2 * optim.CHUNK_BYTES // np.dtype(dtype).itemsize + 17  # three chunks
    x = rng.standard_normal(n).astype(dtype)
    storage = np.zeros(2 * n, dtype=dtype)
    storage[::2] = x
    y = storage[::2]
    a, b = make_optimizer([x]), make_optimizer([y])
    for _ in range(steps):
        g = rng.standard_normal(n).astype(dtype)
        a.step([g])
        b.step([g])
    assert np.array_equal(x, y)
    for key in a.state[0]:
        assert np.array_equal(a.state[0][key], b.state[0][key]), key


def test_errstate_reaches_the_worker_threads():
    n = 3 * optim.CHUNK_BYTES // 8
    x = np.full(n, 1e300)
    opt = SGD([x], lr=1.0, weight_decay=1e10)  # g + λθ overflows in every chunk
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError):
            opt.step([np.ones(n)])


def test_moments_are_what_adam_divides():
    x = np.ones(3)
    opt = Adam([x], lr=0.1, betas=(0.8, 0.9))
    with pytest.raises(ValueError, match="no step yet"):
        opt.moments(0)
    g = np.array([1.0, -2.0, 0.5])
    opt.step([g])
    m_hat, v_hat = opt.moments(0)
    np.testing.assert_allclose(m_hat, g, rtol=1e-15)  # one step: m̂ = g, v̂ = g²
    np.testing.assert_allclose(v_hat, g * g, rtol=1e-15)
    with pytest.raises(TypeError, match="SGD keeps no moment estimates"):
        s = SGD([np.ones(2)])
        s.step([np.ones(2)])
        s.moments(0)


def test_repr_lists_every_group():
    text = repr(Adam([{"params": [np.zeros(1)]}, {"params": [np.zeros(1)], "lr": 0.5}]))
    assert "Parameter Group 1" in text and "lr: 0.5" in text and text.startswith("Adam (")
