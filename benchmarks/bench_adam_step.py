"""Time Adam: one step at sizes 1e4 to 4e6, and 10,000 steps on a 2-D problem.

Usage::

    python benchmarks/bench_adam_step.py             # sizes 1e4, 1e5, 1e6, 4e6 (float32)
    python benchmarks/bench_adam_step.py --quick     # fewer repetitions
    python benchmarks/bench_adam_step.py --torch-threads 1   # PyTorch single-threaded

Table 1, one step: adamedu vs a textbook NumPy Adam (CS231n's) vs ``torch.optim.Adam`` (foreach
and fused, when PyTorch is installed). For every size the implementations are timed in
interleaved rounds (one step of each per round), so a change in machine load affects them alike;
the table reports the median and minimum step time, the ratio to torch's foreach Adam, and the
peak extra memory one step allocates (``tracemalloc``, which sees NumPy's allocations, not
PyTorch's). adamedu updates a large parameter in chunks of ``adamedu.optim.CHUNK_BYTES`` on
``adamedu.optim.THREADS`` threads (PyTorch's thread count is printed too).

Table 2, 10,000 Adam steps on the 2-D Rosenbrock problem: ``adamedu.run`` recording everything
(the default), recording the parameters only, and the bare ``opt.step`` loop, again interleaved.

Targets: at most 1.5x torch's foreach Adam at 4M parameters; 10,000 steps of a 2-D run in at most
0.15 s. This is a benchmark, not a test: it prints, it does not assert.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import adamedu  # noqa: E402

# Interleaved rounds put adamedu's step right after PyTorch's. PyTorch's OpenMP threads spin
# (busy-wait) for a while after each parallel loop by default, taking the cores from whatever runs
# next: measured after a spinning PyTorch, adamedu's 4M step took 13.5 ms instead of 10.6 ms.
# Passive waiting keeps the comparison fair (it costs PyTorch about 8 % at 4M parameters here); set
# OMP_WAIT_POLICY yourself to measure otherwise. It must be set before PyTorch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:  # PyTorch is optional
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8


class CS231nAdam:
    """Adam as written in the CS231n lecture notes: clear, and one new array per operation."""

    def __init__(self, x, lr=LR, beta1=BETA1, beta2=BETA2, eps=EPS):
        self.x, self.lr, self.beta1, self.beta2, self.eps = x, lr, beta1, beta2, eps
        self.m = np.zeros_like(x)
        self.v = np.zeros_like(x)
        self.t = 0

    def step(self, dx):
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * dx
        mt = self.m / (1 - self.beta1**self.t)
        self.v = self.beta2 * self.v + (1 - self.beta2) * (dx**2)
        vt = self.v / (1 - self.beta2**self.t)
        self.x += -self.lr * mt / (np.sqrt(vt) + self.eps)


def make_impls(n, rng):
    """Return {name: (step_callable, scratch_bytes or None, is_numpy)} for size n."""
    g = rng.standard_normal(n).astype(np.float32)
    impls = {}

    x1 = rng.standard_normal(n).astype(np.float32)
    opt = adamedu.Adam([x1], lr=LR)
    impls["adamedu"] = (lambda: opt.step([g]), 0, True)

    x2 = rng.standard_normal(n).astype(np.float32)
    ref = CS231nAdam(x2)
    impls["cs231n numpy"] = (lambda: ref.step(g), 0, True)

    if torch is not None:
        for flavour in ("foreach", "fused"):
            p = torch.tensor(rng.standard_normal(n).astype(np.float32), requires_grad=True)
            p.grad = torch.from_numpy(g)
            kw = {"foreach": True} if flavour == "foreach" else {"fused": True}
            try:
                topt = torch.optim.Adam([p], lr=LR, **kw)
                topt.step()
            except (RuntimeError, ValueError) as err:  # fused needs a supported device/build
                print(f"# torch {flavour} unavailable: {err}")
                continue
            impls[f"torch {flavour}"] = (topt.step, None, False)
    return impls


def peak_extra_bytes(step):
    """Peak bytes allocated (through tracemalloc-visible allocators) during one call."""
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


def fmt_bytes(b):
    if b is None:
        return "n/a"
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= scale:
            return f"{b / scale:.1f} {unit}"
    return f"{b} B"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument(
        "--sizes", type=float, nargs="*", default=[1e4, 1e5, 1e6, 4e6], help="parameter counts"
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="call torch.set_num_threads(N) first (default: leave PyTorch's default)",
    )
    args = parser.parse_args(argv)
    if args.torch_threads is not None and torch is not None:
        torch.set_num_threads(args.torch_threads)

    rng = np.random.default_rng(0)
    rounds_note = ("times are medians and minima over interleaved rounds; "
                   f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
    try:
        rounds_note += f"; load average {os.getloadavg()[0]:.2f} at start"
    except OSError:  # pragma: no cover - not available everywhere
        pass
    threads = torch.get_num_threads() if torch is not None else None
    print(
        f"# Adam step, float32 | numpy {np.__version__}"
        + (f" | torch {torch.__version__}, torch.get_num_threads() = {threads}" if torch else "")
        + f" | {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}"
        + f" | adamedu CHUNK_BYTES = {adamedu.optim.CHUNK_BYTES}, THREADS = {adamedu.optim.THREADS}"
    )
    print(f"# {rounds_note}.")
    header = (
        f"{'params':>9} | {'implementation':<14} | {'median ms':>9} | {'min ms':>8} |"
        f" {'vs torch foreach':>16} | {'peak extra (1 step)':>19}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        n = int(size)
        impls = make_impls(n, rng)
        for step, _, _ in impls.values():  # warm up (first-touch of state, thread pools)
            for _ in range(3):
                step()
        budget = 1.0 if args.quick else 3.0  # seconds of timing per size, all implementations
        t0 = time.perf_counter()
        for step, _, _ in impls.values():
            step()
        one_round = time.perf_counter() - t0
        rounds = int(min(200, max(7, budget / max(one_round, 1e-9))))
        times = {name: [] for name in impls}
        for _ in range(rounds):
            for name, (step, _, _) in impls.items():
                t0 = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - t0)
        med = {name: statistics.median(ts) for name, ts in times.items()}
        best = {name: min(ts) for name, ts in times.items()}
        ref = med.get("torch foreach")
        ref_best = best.get("torch foreach")
        for name, (step, _, is_numpy) in impls.items():
            ratio = f"{med[name] / ref:.2f}x ({best[name] / ref_best:.2f}x)" if ref else "n/a"
            peak = peak_extra_bytes(step) if is_numpy else None
            peak_s = fmt_bytes(peak) if is_numpy else "n/a"
            if is_numpy and peak is not None:
                peak_s += f" ({peak / (4 * n):.2f} P)"
            print(
                f"{n:>9,} | {name:<14} | {med[name] * 1e3:>9.3f} | {best[name] * 1e3:>8.3f} |"
                f" {ratio:>16} | {peak_s:>19}"
            )
        print("-" * len(header))
    print("# Ratio: medians (in parentheses: minima, less sensitive to other load on the machine).")
    print("# P = one parameter-sized float32 array. 'peak extra' is measured with tracemalloc;")
    print("# PyTorch's allocations are invisible to it (n/a).")
    print()
    two_d_table(rounds=3 if args.quick else 9)


def two_d_table(rounds: int, steps: int = 10_000) -> None:
    """10,000 Adam steps on the 2-D Rosenbrock problem, three ways, interleaved."""
    problem = adamedu.problems.Rosenbrock()

    def bare_loop():
        x = problem.x0.copy()
        opt = adamedu.Adam([x], lr=LR)
        for _ in range(steps):
            opt.step([problem.grad(x)])

    ways = {
        "adamedu.run, record everything": lambda: adamedu.run(adamedu.Adam, problem, steps, lr=LR),
        "adamedu.run, record params": lambda: adamedu.run(adamedu.Adam, problem, steps, lr=LR,
                                                          record=("params",)),
        "bare opt.step loop": bare_loop,
    }
    times = {name: [] for name in ways}
    for _ in range(rounds):
        for name, fn in ways.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    print(f"# {steps:,} Adam steps on the 2-D Rosenbrock problem ({rounds} interleaved rounds)")
    print(f"{'way':<32} | {'median s':>8} | {'min s':>7} | {'us per step':>11}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<32} | {med:>8.3f} | {min(ts):>7.3f} | {med / steps * 1e6:>11.1f}")


if __name__ == "__main__":
    main()
