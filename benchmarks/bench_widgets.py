"""Latency of the interactive figures, as a notebook sees it, and the cost of their static pages.

Starts a real IPython kernel (jupyter_client, inline matplotlib backend, as a notebook would), builds
every figure's live widget there and drives every control across its range (edges included,
forwards then backwards), timing each change from the new value to the repainted ``Image``
(recompute, move the data into the artists, blit, PNG encode, comm message out), next to what a
plain re-plot (full draw and savefig) of the same figure costs. Then it times ``export()`` (what
the precomputed frames add to a book build) and reports the size of the HTML the book's site makes
of it (``_ext/adamedu_figures.py``) per figure.

    python benchmarks/bench_widgets.py [--points 24]
    ADAMEDU_FIGURE_DENSITY=1 python benchmarks/bench_widgets.py   # images at screen density

Targets (2-core machine): median <= 100 ms and p95 <= 250 ms per change; static page well under
1 MB per figure.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

from jupyter_client.manager import start_new_kernel

EXT = Path(__file__).resolve().parents[1] / "_ext"

KERNEL_CODE = textwrap.dedent(
    """
    %matplotlib inline
    import io, json, sys, time
    import numpy as np
    from adamedu import widgets
    sys.path.insert(0, "EXT_DIR")
    import adamedu_figures

    def _sweep(control, points):
        values = control.reachable_values()
        if len(values) > points:
            idx = np.unique(np.linspace(0, len(values) - 1, points).round().astype(int))
            values = [values[i] for i in idx]
        return values + values[::-1][1:] + [control.default]

    _results = {}
    for _name, _factory in widgets.FACTORIES.items():
        _fig = _factory()
        _fig.widget()
        _times = []
        for _control in _fig.controls:
            _cw = _fig.control_widgets[_control.name]
            for _value in _sweep(_control, POINTS):
                if _cw.value == _value:
                    continue
                _start = time.perf_counter()
                _cw.value = _value  # the observer recomputes and repaints synchronously
                _times.append(time.perf_counter() - _start)
        # for comparison: what a plain re-plot costs (recompute, full draw and savefig)
        _naive = []
        for _value in _sweep(_fig.controls[-1], 6):
            _start = time.perf_counter()
            _fig.set(**{_fig.controls[-1].name: _value})
            _fig.fig.savefig(io.BytesIO(), format="png")
            _naive.append(time.perf_counter() - _start)
        _start = time.perf_counter()
        _export = _fig.export()
        _static_s = time.perf_counter() - _start
        _page = adamedu_figures.figure_html(_export)
        _results[_name] = {
            "times": _times,
            "naive": _naive,
            "static_s": _static_s,
            "html_bytes": len(_page.encode()),
            "frames": len(_export.frames),
            "png_bytes": len(_fig.render_png(fast=True)),
        }
    print("RESULTS" + json.dumps(_results))
    """
)


def run_in_kernel(points: int) -> dict:
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        out = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))

        code = KERNEL_CODE.replace("POINTS", str(points)).replace("EXT_DIR", str(EXT))
        reply = kc.execute_interactive(code, timeout=1800, output_hook=hook)
        text = "".join(out)
        if reply["content"]["status"] != "ok" or "RESULTS" not in text:
            raise RuntimeError(text)
        return json.loads(text.split("RESULTS", 1)[1].strip().splitlines()[0])
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=24,
                        help="values per control across its range (all, if it has fewer)")
    args = parser.parse_args()
    results = run_in_kernel(args.points)
    header = (f"{'figure':<16} {'changes':>7} {'median ms':>9} {'p95 ms':>7} {'max ms':>7} "
              f"{'re-plot ms':>10} "
              f"{'live PNG kB':>11} {'frames':>6} {'export s':>8} {'page kB':>7}")
    print(header)
    print("-" * len(header))
    total_s = total_kb = 0.0
    for name, r in results.items():
        t = np.array(r["times"]) * 1e3
        total_s += r["static_s"]
        total_kb += r["html_bytes"] / 1e3
        print(f"{name:<16} {len(t):>7} {np.median(t):>9.1f} {np.percentile(t, 95):>7.1f} "
              f"{t.max():>7.1f} {np.median(r['naive']) * 1e3:>10.1f} "
              f"{r['png_bytes'] / 1e3:>11.0f} {r['frames']:>6} "
              f"{r['static_s']:>8.2f} {r['html_bytes'] / 1e3:>7.0f}")
    print("-" * len(header))
    print(f"exports of all figures: {total_s:.1f} s of build time, {total_kb:.0f} kB of HTML")
    print("targets: median <= 100 ms, p95 <= 250 ms per change (2 cores); 're-plot' is the median "
          "of a plain recompute + full draw + savefig, for comparison")


if __name__ == "__main__":
    main()
