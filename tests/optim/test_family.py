"""Adam's family in adamedu.optim: parity with PyTorch and optax, bad input, the algorithms' laws."""

from __future__ import annotations

import importlib.util
import inspect
import json
import math
import os
import pickle

import numpy as np
import pytest

from adamedu import optim
from adamedu.optim import (
    ADOPT,
    AdaBelief,
    Adadelta,
    Adafactor,
    Lion,
    Muon,
    ScheduleFreeAdamW,
    Yogi,
)
from adamedu.optim.muon import newton_schulz
from tests.optim.test_optimizer import (
    FAULTS,
    assert_chunked_equals_single_call,
    assert_fault_changes_nothing,
    snapshot,
)

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "make_family_reference", os.path.join(HERE, "..", "fixtures", "make_family_reference.py")
)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

SOURCES = ("torch", "optax")
FIXTURE = {src: np.load(ref.FIXTURES[src]) for src in SOURCES}
META = {src: json.loads(str(FIXTURE[src]["meta"])) for src in SOURCES}
DATA = {src: {k: FIXTURE[src][k] for k in ("A", "c", "z0", "noise")} for src in SOURCES}
CASES = [(src, k) for src in SOURCES for k in range(len(META[src]["configs"]))]
IDS = [f"{src}-{META[src]['configs'][k]['name']}-{k}" for src, k in CASES]
TORCH_CLASSES = [Adadelta, Adafactor, Muon]
OPTAX_CLASSES = [Lion, Yogi, AdaBelief, ADOPT, ScheduleFreeAdamW]
FAMILY = TORCH_CLASSES + OPTAX_CLASSES

# Tolerances, as the largest difference over the run divided by how far the run moves (the
# largest |θ_t − θ_0|). PyTorch: the same operations in float64, differing in the last bits only
# (fused multiply-adds, reduction order in norms and matrix products); observed about 1e-15.
# optax: the same formulas, but XLA may reorder and fuse them, and the schedule-free averaging
# amplifies rounding (x is recovered from y and z by dividing by β1); observed at most 5e-14. An
# algorithmic difference (a bias correction, where ε goes, a clipping bound, an off-by-one step)
# shows up at 1e-4 or more.
RTOL = {"torch": 1e-12, "optax": 1e-10}


def tuples(kwargs):
    """Fixture kwargs (JSON lists) as constructor arguments (tuples where the API has tuples)."""
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in kwargs.items()}


def run_family(name, kwargs, src, steps=None, dtype=np.float64, data=None):
    """Run adamedu on the fixture problem: (rows at every step, optimizer, eval rows or None)."""
    data = DATA[src] if data is None else data
    steps = META[src]["steps"] if steps is None else steps
    shapes = ref.MATRICES if name == "Muon" else ref.SHAPES
    params = [p.astype(dtype) for p in ref.start(data, shapes)]
    spec, kw = ref.param_spec(params, kwargs)
    opt = getattr(optim, name)(spec, **tuples(kw))
    maximize = kwargs.get("maximize", False)
    order = [next(i for i, q in enumerate(params) if q is p) for p in opt.params]  # group order
    rows, evals = [ref.flat(params)], [ref.flat(params)]
    for t in range(steps):
        grads = ref.gradient(data, params, t, maximize)
        opt.step([grads[i].astype(dtype) for i in order])
        rows.append(ref.flat(params))
        if name == "ScheduleFreeAdamW":
            evals.append(ref.flat(opt.eval_params()))  # (no groups in these configurations)
    return np.array(rows), opt, (np.array(evals) if name == "ScheduleFreeAdamW" else None)


def error_over_motion(ours, theirs):
    """max |ours − theirs| divided by how far the reference run moves, max |θ_t − θ_0|."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    return float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs - theirs[0])))


# -------------------------------------------------------------------------------------------
# (a) parity with the committed references
def test_fixtures_cover_every_class_option_and_groups_of_shapes():
    assert META["torch"]["version"].startswith("2.13")
    assert META["optax"]["version"].startswith("optax 0.2.8")
    for src, classes in (("torch", TORCH_CLASSES), ("optax", OPTAX_CLASSES)):
        configs = META[src]["configs"]
        assert {c["name"] for c in configs} == {cls.__name__ for cls in classes}
        assert json.loads(json.dumps(ref.CONFIGS[src])) == [
            [c["name"], c["kwargs"], json.loads(json.dumps(shapes))]
            for c, (_, _, shapes) in zip(configs, ref.CONFIGS[src])
        ]
        options = {(c["name"], k) for c in configs for k in c["kwargs"]}
        for cls in classes:
            assert any(c["name"] == cls.__name__ and not c["kwargs"] for c in configs)  # defaults
            for option in cls.hyperparameters:
                if option in ("lr", "maximize", "initial_accumulator_value") and src == "optax":
                    continue  # maximize is not in optax (checked below), nor is Yogi's v0 option
                assert (cls.__name__, option) in options or option == "lr", (cls.__name__, option)
        assert os.path.getsize(ref.FIXTURES[src]) < 600_000
    for cls in TORCH_CLASSES:  # several parameter groups with different options
        assert any(
            c["name"] == cls.__name__ and "groups" in c["kwargs"] for c in META["torch"]["configs"]
        )
    assert META["torch"]["steps"] == META["optax"]["steps"] == 200


@pytest.mark.parametrize("src, k", CASES, ids=IDS)
def test_matches_reference_fixture(src, k):
    cfg = META[src]["configs"][k]
    rows, opt, evals = run_family(cfg["name"], cfg["kwargs"], src)
    recorded = META[src]["recorded"]
    theirs = FIXTURE[src][f"c{k}_traj"]
    assert theirs.shape == (len(recorded), rows.shape[1]) and recorded[-1] == 200
    # the run must move far more than the tolerance, or matching would prove nothing
    assert np.max(np.abs(theirs - theirs[0])) > 1e-2
    err = error_over_motion(rows[recorded], theirs)
    assert err <= RTOL[src], f"{err:.2e}"
    if evals is not None:  # schedule-free: the evaluation parameters x too
        assert error_over_motion(evals[recorded], FIXTURE[src][f"c{k}_eval"]) <= RTOL[src]
    # final state: the same names (PyTorch's, or optax's translated) and values
    keys = {(i, key) for i, key in cfg["state_keys"]}
    if src == "torch":
        assert keys == {(i, key) for i, st in enumerate(opt.state) for key in st}
    for i, key in keys:
        expected = FIXTURE[src][f"c{k}_p{i}_{key}"]
        got = np.asarray(opt.state[i][key], dtype=np.float64)
        if key == "step":
            assert got == expected == 200
        else:
            scale = np.max(np.abs(expected))
            assert np.max(np.abs(got - expected)) <= 1e3 * RTOL[src] * scale, key


@pytest.mark.parametrize("k", [k for k, c in enumerate(ref.TORCH_CONFIGS) if c[0] == "Muon"])
def test_muon_is_pytorchs_up_to_bfloat16_rounding(k):
    # PyTorch's Muon runs Newton-Schulz in bfloat16 (8 significant bits, relative rounding
    # 2^-9 ~ 2e-3 per operation); adamedu runs it in float64. The trajectories then agree to a
    # few times bfloat16's rounding, and no better: the bfloat16 run is measurably different.
    cfg = META["torch"]["configs"][k]
    rows, _, _ = run_family(cfg["name"], cfg["kwargs"], "torch")
    err = error_over_motion(rows[META["torch"]["recorded"]], FIXTURE["torch"][f"c{k}_traj_bf16"])
    assert 1e-5 < err < 1e-2


@pytest.mark.parametrize(
    "k", [k for k, c in enumerate(ref.OPTAX_CONFIGS) if c[1].get("warmup_steps", 0) > 0]
)
def test_schedule_free_warmup_is_optaxs_up_to_its_float32_schedule(k):
    # optax evaluates the warmup schedule in float32 (an int32 step count divided by an int):
    # the learning rate then carries float32 rounding, relative 6e-8, and so does the run.
    cfg = META["optax"]["configs"][k]
    rows, _, _ = run_family(cfg["name"], cfg["kwargs"], "optax")
    err = error_over_motion(
        rows[META["optax"]["recorded"]], FIXTURE["optax"][f"c{k}_traj_f32warmup"]
    )
    assert 1e-12 < err < 1e-6


def parity_table():
    """Error over motion for every configuration (printed by ``__main__``)."""
    out = []
    for src, k in CASES:
        cfg = META[src]["configs"][k]
        rows, _, evals = run_family(cfg["name"], cfg["kwargs"], src)
        recorded = META[src]["recorded"]
        err = error_over_motion(rows[recorded], FIXTURE[src][f"c{k}_traj"])
        if evals is not None:
            err = max(err, error_over_motion(evals[recorded], FIXTURE[src][f"c{k}_eval"]))
        out.append((src, cfg["name"], cfg["kwargs"], err))
    return out


# -------------------------------------------------------------------------------------------
# (b) live comparisons, when the reference library is installed
@pytest.mark.parametrize("k", range(len(ref.TORCH_CONFIGS)), ids=[c[0] for c in ref.TORCH_CONFIGS])
def test_live_against_torch(k):
    pytest.importorskip("torch")
    name, kwargs, shapes = ref.TORCH_CONFIGS[k]
    data = ref.problem_data()
    theirs, _ = ref.torch_trajectory(name, kwargs, shapes, data, steps=60)
    ours, _, _ = run_family(name, json.loads(json.dumps(kwargs)), "torch", steps=60, data=data)
    assert error_over_motion(ours, theirs) <= RTOL["torch"]


@pytest.mark.parametrize("k", range(len(ref.OPTAX_CONFIGS)), ids=[c[0] for c in ref.OPTAX_CONFIGS])
def test_live_against_optax(k):
    pytest.importorskip("optax")
    name, kwargs, shapes = ref.OPTAX_CONFIGS[k]
    data = ref.problem_data()
    theirs, evals, _ = ref.optax_trajectory(name, kwargs, shapes, data, steps=60)
    ours, _, our_evals = run_family(
        name, json.loads(json.dumps(kwargs)), "optax", steps=60, data=data
    )
    assert error_over_motion(ours, theirs) <= RTOL["optax"]
    if evals is not None:
        assert error_over_motion(our_evals, evals) <= RTOL["optax"]


@pytest.mark.parametrize("cls", TORCH_CLASSES)
def test_signature_and_defaults_match_torch(cls):
    torch = pytest.importorskip("torch")
    theirs = inspect.signature(getattr(torch.optim, cls.__name__).__init__).parameters
    ours = inspect.signature(cls.__init__).parameters
    torch_only = {"foreach", "fused", "capturable", "differentiable"}
    assert set(theirs) - torch_only == set(ours)
    for name in set(ours) - {"self", "params"}:
        assert ours[name].default == theirs[name].default, name


# optax's defaults, by adamedu's names (optax has no default learning rate except for
# schedule_free_adamw; the brief of each class fixes one, see its docstring)
OPTAX_DEFAULTS = {
    Lion: (dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=1e-3), "lion"),
    Yogi: (dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-3), "yogi"),
    AdaBelief: (dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-16, eps_root=1e-16), "adabelief"),
    ADOPT: (
        dict(lr=1e-3, betas=(0.9, 0.9999), eps=1e-6, use_clipping=True, nesterov=False),
        "contrib.adopt",
    ),
    ScheduleFreeAdamW: (
        dict(
            lr=0.0025,
            betas=(0.9, 0.999),
            eps=1e-8,
            warmup_steps=0,
            weight_decay=0.0,
            weight_lr_power=2.0,
        ),
        "contrib.schedule_free_adamw",
    ),
}
OPTAX_NAMES = {"lr": "learning_rate", "betas": ("b1", "b2")}


@pytest.mark.parametrize("cls", OPTAX_CLASSES)
def test_defaults_are_the_documented_ones(cls):
    expected, _ = OPTAX_DEFAULTS[cls]
    sig = inspect.signature(cls.__init__).parameters
    for name, value in expected.items():
        assert sig[name].default == value, name
    assert sig["maximize"].default is False


@pytest.mark.parametrize("cls", OPTAX_CLASSES)
def test_defaults_match_optax(cls):
    optax = pytest.importorskip("optax")
    expected, path = OPTAX_DEFAULTS[cls]
    fn = optax
    for part in path.split("."):
        fn = getattr(fn, part)
    theirs = inspect.signature(fn).parameters
    for name, value in expected.items():
        if name == "betas":
            assert (theirs["b1"].default, theirs["b2"].default) == value
        elif name == "lr":
            default = theirs["learning_rate"].default
            assert default is inspect.Parameter.empty or default == value
        elif name == "warmup_steps":
            assert theirs["warmup_steps"].default is None  # optax's None is adamedu's 0
        else:
            assert theirs[name].default == value, name


# -------------------------------------------------------------------------------------------
# (c) bad input: the same behaviour as the other optimizers, PyTorch's messages
BAD = [
    (Adadelta, {"lr": -1.0}, ValueError, "Invalid learning rate: -1.0"),
    (Adadelta, {"rho": 1.5}, ValueError, "Invalid rho value: 1.5"),
    (Adadelta, {"eps": -1e-6}, ValueError, "Invalid epsilon value: -1e-06"),
    (Adadelta, {"weight_decay": -0.1}, ValueError, "Invalid weight_decay value: -0.1"),
    (Adafactor, {"lr": -1.0}, ValueError, "Learning rate should be >= 0 but is: -1.0"),
    (Adafactor, {"beta2_decay": 0.8}, ValueError, "beta2_decay should be <= 0 but is: 0.8"),
    (Adafactor, {"eps": (-1.0, 1e-3)}, ValueError, "epsilon1 should be >= 0 but is: -1.0"),
    (Adafactor, {"eps": (None, -1e-3)}, ValueError, "epsilon2 should be >= 0 but is: -0.001"),
    (Adafactor, {"d": 0.5}, ValueError, "Clipping threshold d should be >= 1 but is: 0.5"),
    (Adafactor, {"weight_decay": -0.1}, ValueError, "weight_decay should be >= 0 but is: -0.1"),
    (Muon, {"lr": -1.0}, ValueError, "Learning rate should be >= 0 but is: -1.0"),
    (Muon, {"momentum": -0.5}, ValueError, "momentum should be >= 0 but is: -0.5"),
    (Muon, {"weight_decay": -0.1}, ValueError, "weight decay should be >= 0 but is: -0.1"),
    (
        Muon,
        {"adjust_lr_fn": "sqrt"},
        ValueError,
        "Adjust learning rate function sqrt is not supported",
    ),
    (Lion, {"lr": -1.0}, ValueError, "Invalid learning rate: -1.0"),
    (Lion, {"betas": (1.0, 0.99)}, ValueError, "Invalid beta parameter at index 0: 1.0"),
    (Lion, {"weight_decay": -1.0}, ValueError, "Invalid weight_decay value: -1.0"),
    (Yogi, {"eps": -1.0}, ValueError, "Invalid epsilon value: -1.0"),
    (Yogi, {"initial_accumulator_value": -1.0}, ValueError, "Invalid initial_accumulator_value"),
    (AdaBelief, {"betas": (0.9, 1.0)}, ValueError, "Invalid beta parameter at index 1: 1.0"),
    (AdaBelief, {"eps_root": -1.0}, ValueError, "Invalid eps_root value: -1.0"),
    (ADOPT, {"lr": math.nan}, ValueError, "Invalid learning rate: nan"),
    (ADOPT, {"use_clipping": 1}, TypeError, "use_clipping must be True or False"),
    (ScheduleFreeAdamW, {"betas": (0.0, 0.999)}, ValueError, "needs beta1 > 0"),
    (ScheduleFreeAdamW, {"warmup_steps": -1}, ValueError, "Invalid warmup_steps value: -1"),
    (ScheduleFreeAdamW, {"warmup_steps": 2.5}, TypeError, "warmup_steps must be an integer"),
    (ScheduleFreeAdamW, {"weight_lr_power": -2.0}, ValueError, "Invalid weight_lr_power value"),
]


def matrices(dtype=np.float64):
    rng = np.random.default_rng(3)
    return [rng.standard_normal((3, 2)).astype(dtype), rng.standard_normal((2, 2)).astype(dtype)]


def vector_and_matrix(dtype=np.float64):
    rng = np.random.default_rng(3)
    return [rng.standard_normal(3).astype(dtype), rng.standard_normal((2, 2)).astype(dtype)]


def params_for(cls, dtype=np.float64):
    return matrices(dtype) if cls is Muon else vector_and_matrix(dtype)


@pytest.mark.parametrize(
    "cls, kwargs, error, match", BAD, ids=[f"{c.__name__}-{kw}" for c, kw, _, _ in BAD]
)
def test_bad_hyperparameter(cls, kwargs, error, match):
    with pytest.raises(error, match=match.replace("(", r"\(").replace(")", r"\)")):
        cls(params_for(cls), **kwargs)
    # the same value set later in a group is refused at the next step, which changes nothing
    opt = cls(params_for(cls))
    opt.step([np.ones_like(p) for p in opt.params])
    before = snapshot(opt, groups=False)
    for key, value in kwargs.items():
        opt.param_groups[0][key] = value
    with pytest.raises(error, match=match.replace("(", r"\(").replace(")", r"\)")):
        opt.step([np.ones_like(p) for p in opt.params])
    assert snapshot(opt, groups=False) == before


@pytest.mark.parametrize(
    "cls, kwargs, error, match",
    [b for b in BAD if b[0] in TORCH_CLASSES and b[2] is ValueError],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_bad_hyperparameter_message_is_torchs(cls, kwargs, error, match):
    torch = pytest.importorskip("torch")
    shape = (2, 2)
    with pytest.raises(ValueError, match=match.replace("(", r"\(").replace(")", r"\)")):
        getattr(torch.optim, cls.__name__)([torch.zeros(shape, requires_grad=True)], **kwargs)


def test_muon_refuses_parameters_that_are_not_matrices():
    with pytest.raises(ValueError, match=r"Muon only supports 2D parameters.*\(3,\)"):
        Muon([np.zeros(3)])
    opt = Muon([np.zeros((2, 2))])
    with pytest.raises(ValueError, match="2D"):
        opt.add_param_group({"params": [np.zeros((2, 2, 2))]})
    assert len(opt.param_groups) == 1


RICH = {
    Adadelta: {"lr": 0.5, "weight_decay": 0.1},
    Adafactor: {"lr": 0.05, "weight_decay": 0.1},
    Muon: {"lr": 0.02},
    Lion: {"lr": 0.01, "weight_decay": 0.1},
    Yogi: {"lr": 0.05},
    AdaBelief: {"lr": 0.02},
    ADOPT: {"lr": 0.01, "nesterov": True},
    ScheduleFreeAdamW: {"lr": 0.02, "warmup_steps": 3, "weight_decay": 0.01},
}


def gradients(params, t):
    rng = np.random.default_rng(100 + t)
    return [rng.standard_normal(p.shape).astype(p.dtype) + p for p in params]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("cls", FAMILY)
def test_fault_injection_changes_nothing(cls, fault):
    assert_fault_changes_nothing(lambda params: cls(params, **RICH[cls]), lambda: params_for(cls), gradients, fault)


@pytest.mark.parametrize("cls", FAMILY)
@pytest.mark.parametrize("dtype", [np.int64, np.complex128, np.float16])
def test_non_float_parameters_refused(cls, dtype):
    with pytest.raises(ValueError, match="float32 or float64"):
        cls([np.zeros((2, 2), dtype=dtype)])


@pytest.mark.parametrize("cls", FAMILY)
def test_state_dict_round_trip_continues_bitwise(cls):
    def build(params):
        return cls([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.003}], **RICH[cls])

    params = params_for(cls)
    opt = build(params)
    for t in range(4):
        opt.step(gradients(params, t))
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    saved_params = [p.copy() for p in params]
    for t in range(4, 8):
        opt.step(gradients(params, t))
    resumed = build(saved_params)
    resumed.load_state_dict(saved)
    for t in range(4, 8):
        resumed.step(gradients(saved_params, t))
    assert snapshot(resumed) == snapshot(opt)


@pytest.mark.parametrize("cls", [c for c in FAMILY if c.elementwise])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunked_update_equals_single_call(cls, dtype):
    assert_chunked_equals_single_call(lambda params: cls(params, **RICH[cls]), dtype, steps=4)


@pytest.mark.parametrize("cls", [c for c in FAMILY if "maximize" in c.hyperparameters])
def test_maximize_is_descent_on_the_negated_gradient(cls):
    up, down = params_for(cls), params_for(cls)
    a, b = cls(up, maximize=True, **RICH[cls]), cls(down, **RICH[cls])
    for t in range(6):
        a.step(gradients(up, t))
        b.step([-g for g in gradients(down, t)])
    assert all(np.array_equal(p, q) for p, q in zip(up, down))


@pytest.mark.parametrize("cls", FAMILY)
def test_groups_are_two_optimizers_in_one(cls):
    both = params_for(cls)
    first, second = params_for(cls)[:1], params_for(cls)[1:]
    extra = {"weight_decay": 0.05} if "weight_decay" in cls.hyperparameters else {}
    opt = cls([{"params": [both[0]]}, {"params": [both[1]], "lr": 0.003, **extra}], **RICH[cls])
    a = cls(first, **RICH[cls])
    b = cls(second, **{**RICH[cls], "lr": 0.003, **extra})
    for t in range(5):
        g = gradients(both, t)
        opt.step(g)
        a.step(g[:1])
        b.step(g[1:])
    assert np.array_equal(both[0], first[0]) and np.array_equal(both[1], second[0])


# -------------------------------------------------------------------------------------------
# (d) the laws the docstrings state
def test_lion_moves_every_coordinate_by_exactly_lr():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1000)
    opt = Lion([x], lr=0.01, weight_decay=0.0)
    for _ in range(5):
        before = x.copy()
        opt.step([rng.standard_normal(1000) * 10.0 ** rng.uniform(-6, 3, 1000)])
        np.testing.assert_allclose(np.abs(x - before), 0.01, rtol=1e-12)


def test_yogi_v_moves_by_a_fixed_fraction_of_g_squared():
    v0 = 1.0
    for g2, direction in ((0.25, -1), (4.0, +1)):
        x = np.zeros(1)
        opt = Yogi([x], betas=(0.9, 0.99), initial_accumulator_value=v0)
        opt.step([np.array([math.sqrt(g2)])])
        assert opt.state[0]["exp_avg_sq"][0] == pytest.approx(v0 + direction * 0.01 * g2, rel=1e-15)


def test_adabelief_divides_by_the_surprise():
    # A constant gradient is perfectly predicted after a while: s_t -> eps_root sums, tiny, and
    # AdaBelief's step then exceeds Adam's (which divides by |g|).
    x = np.zeros(1)
    opt = AdaBelief([x], lr=0.01, eps=1e-8, eps_root=0.0)
    for _ in range(200):
        before = x.copy()
        opt.step([np.array([1.0])])
    assert abs(x[0] - before[0]) > 3 * 0.01  # Adam's step would be 0.01


def test_adopt_first_step_only_sets_v():
    x = np.ones(3)
    opt = ADOPT([x], lr=0.1)
    opt.step([np.array([1.0, -2.0, 3.0])])
    assert np.array_equal(x, np.ones(3))
    assert np.array_equal(opt.state[0]["exp_avg_sq"], [1.0, 4.0, 9.0])
    opt.step([np.array([100.0, 0.0, 0.0])])  # clipped to +-1 at the first update
    np.testing.assert_allclose(x, [1 - 0.1 * 0.1 * 1.0, 1.0, 1.0], rtol=1e-15)


def test_schedule_free_without_warmup_averages_z_uniformly():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(4)
    opt = ScheduleFreeAdamW([y], lr=0.05)
    zs = []
    for _ in range(30):
        opt.step([rng.standard_normal(4) + y])
        zs.append(opt.state[0]["z"].copy())
    np.testing.assert_allclose(opt.eval_params()[0], np.mean(zs, axis=0), rtol=1e-12, atol=1e-14)
    beta1 = 0.9
    np.testing.assert_allclose(y, beta1 * np.mean(zs, axis=0) + (1 - beta1) * zs[-1], rtol=1e-12)


def test_schedule_free_warmup_zero_is_no_warmup():
    a, b = np.ones(3), np.ones(3)
    oa, ob = ScheduleFreeAdamW([a], warmup_steps=0), ScheduleFreeAdamW(
        [b], warmup_steps=0, lr=0.0025
    )
    for t in range(3):
        oa.step([np.full(3, t + 1.0)])
        ob.step([np.full(3, t + 1.0)])
    assert np.array_equal(a, b) and not np.array_equal(a, np.ones(3))


@pytest.mark.parametrize("shape", [(3, 3), (8, 3), (3, 8), (40, 20)])
def test_newton_schulz_maps_each_singular_value_and_keeps_the_vectors(shape):
    rng = np.random.default_rng(sum(shape))
    G = rng.standard_normal(shape) @ np.diag(np.geomspace(1, 100, shape[1]))
    O = newton_schulz(G)
    U, s, Vt = np.linalg.svd(G, full_matrices=False)
    inside = U.T @ O @ Vt.T  # diagonal: O has G's singular vectors
    np.testing.assert_allclose(inside, np.diag(np.diag(inside)), atol=1e-12)
    a, b, c = optim.muon.NS_COEFFICIENTS
    x = s / np.linalg.norm(G)  # each singular value goes through the scalar polynomial
    for _ in range(5):
        x = a * x + b * x**3 + c * x**5
    np.testing.assert_allclose(np.diag(inside), x, rtol=1e-10, atol=1e-13)


def test_newton_schulz_squeezes_every_singular_value_above_three_per_mille():
    a, b, c = optim.muon.NS_COEFFICIENTS
    x = np.geomspace(3e-3, 1, 200_001)  # singular values relative to the Frobenius norm
    y = x.copy()
    for _ in range(5):
        y = a * y + b * y**3 + c * y**5
    assert 0.68 < y.min() and y.max() < 1.21  # the band the docstring states
    assert (a * 1e-3 + b * 1e-9 + c * 1e-15) > 3e-3  # and smaller ones grow (by about a per step)


def test_muon_update_has_the_documented_scale():
    for shape, fn, ratio in (
        ((6, 3), None, math.sqrt(2)),
        ((3, 6), None, 1.0),
        ((6, 3), "match_rms_adamw", 0.2 * math.sqrt(6)),
    ):
        W = np.zeros(shape)
        opt = Muon([W], lr=0.1, weight_decay=0.0, nesterov=False, momentum=0.0, adjust_lr_fn=fn)
        g = np.random.default_rng(0).standard_normal(shape)
        opt.step([g])
        np.testing.assert_allclose(W, -0.1 * ratio * newton_schulz(g), rtol=1e-14)


def test_adafactor_state_is_factored_for_matrices_and_tensors():
    params = [np.ones(5), np.ones((4, 3)), np.ones((2, 4, 3)), np.ones(())]
    opt = Adafactor(params)
    opt.step([np.ones_like(p) for p in params])
    assert set(opt.state[0]) == {"step", "variance"} and opt.state[0]["variance"].shape == (5,)
    assert opt.state[1]["row_var"].shape == (4, 1) and opt.state[1]["col_var"].shape == (1, 3)
    assert opt.state[2]["row_var"].shape == (2, 4, 1) and opt.state[2]["col_var"].shape == (2, 1, 3)
    assert opt.state[3]["variance"].shape == ()


def test_adafactor_factored_estimate_is_exact_for_rank_one_squares():
    # When G^2 is itself rank one (g_ij = a_i b_j), R C / mean(R) reproduces it exactly.
    a, b = np.array([1.0, 2.0, 3.0]), np.array([0.5, 4.0])
    W = np.zeros((3, 2))
    opt = Adafactor([W], lr=0.01, eps=(0.0, 1e-3))
    opt.step([np.outer(a, b)])
    R, C = opt.state[0]["row_var"], opt.state[0]["col_var"]
    np.testing.assert_allclose(R @ C / R.mean(), np.outer(a, b) ** 2, rtol=1e-14)


if __name__ == "__main__":  # print the parity table
    print(f"{'reference':9} {'optimizer':18} {'max error / motion':>18}  configuration")
    for src, name, kwargs, err in parity_table():
        print(f"{src:9} {name:18} {err:18.1e}  {kwargs or 'defaults'}")
