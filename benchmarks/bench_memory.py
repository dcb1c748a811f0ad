"""Estimated against measured peak memory of every method (stylelab.memory).

    python benchmarks/bench_memory.py [--sizes 256,512] [--quick]

Each cell runs in a fresh subprocess (so one cell's allocator cache does not
hide the next one's peak) on the CPU with random weights: the peak resident
memory added by building the model and stylising one pair
(:class:`stylelab.metrics.PeakMemory`), against
:func:`stylelab.memory.estimate_peak_bytes` for the same sizes. The ratio must
stay within :data:`stylelab.memory.FACTOR` either way (tests/test_memory.py
checks a few cells; BENCHMARKS.md holds the table).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: (method key, content side, style side, extra options) measured by default.
CELLS = [
    ("adain", 256, 256), ("adain", 512, 64), ("adain", 64, 512), ("adain", 768, 64),
    ("wct", 256, 256), ("wct", 512, 64), ("wct", 64, 512), ("wct", 768, 64),
    ("photowct", 256, 256), ("photowct", 512, 64), ("photowct", 64, 512), ("photowct", 768, 64),
    ("wct2", 256, 256), ("wct2", 512, 64), ("wct2", 64, 512), ("wct2", 768, 64),
    ("gatys", 128, 128), ("gatys", 256, 64), ("gatys", 384, 64),
    ("dpst", 128, 128), ("dpst", 256, 64), ("dpst", 384, 64),
    ("smooth:direct", 128, 128), ("smooth:direct", 256, 256), ("smooth:direct", 384, 384),
    ("smooth:ilu", 128, 128), ("smooth:ilu", 256, 256), ("smooth:ilu", 384, 384),
    ("smooth:gif", 256, 256), ("smooth:gif", 512, 512),
    ("smooth:mg", 512, 512), ("smooth:mg", 1024, 1024), ("smooth:mg", 1536, 1536), ("smooth:mg", 2560, 2560),
]
QUICK = [("adain", 256, 256), ("wct2", 256, 64), ("smooth:ilu", 192, 192)]
STEPS = 5  # optimisation methods: loss evaluations per run (the L-BFGS history holds min(history, steps))

_CHILD = r"""
import json, os, sys, warnings
warnings.simplefilter("ignore")
import torch
torch.set_num_threads(int(os.environ.get("STYLELAB_BENCH_THREADS", "2")))
from stylelab import bench
from stylelab.metrics import PeakMemory
key, size, ssize, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
if key.startswith("smooth:"):
    from stylelab import smoothing
    c, s, _ = bench.inputs(size, dtype=torch.float64)
    with PeakMemory("cpu", interval=0.001) as pm:
        smoothing.smooth(s, c, mode=key.split(":")[1])
else:
    c, _, _ = bench.inputs(size)
    _, s, _ = bench.inputs(ssize)
    with PeakMemory("cpu", interval=0.001) as pm:
        runner = bench.load(key, "cpu", random_weights=True, iterations=steps)
        runner.fn(c, s)
print(json.dumps({"peak": pm.peak_bytes, "how": pm.method}))
"""


def measure(key: str, size: int, ssize: int, steps: int = STEPS) -> int:
    """Peak bytes added by one run of ``key`` in a fresh subprocess."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STYLELAB_RANDOM_WEIGHTS": "1", "STYLELAB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-c", _CHILD, key, str(size), str(ssize), str(steps)],
                       capture_output=True, text=True, env=env, timeout=1800)
    if r.returncode != 0:
        raise RuntimeError(f"{key} {size}: {r.stderr[-2000:]}")
    return int(json.loads(r.stdout.strip().splitlines()[-1])["peak"])


def estimate(key: str, size: int, ssize: int, steps: int = STEPS) -> int:
    from stylelab import memory

    if key.startswith("smooth:"):
        return memory.estimate_peak_bytes("smooth", size, size, mode=key.split(":")[1], device="cpu")
    return memory.estimate_peak_bytes(key, size, size, style_hw=(ssize, ssize), steps=steps)


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from stylelab import memory

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three cells only")
    parser.add_argument("--only", default=None, help="only the cells of this method key, e.g. smooth:mg")
    args = parser.parse_args(argv)
    cells = QUICK if args.quick else CELLS
    if args.only:
        cells = [cell for cell in cells if cell[0] == args.only]
    print(f"load average {os.getloadavg()[0]:.1f}; CPU, random weights, float32 (smooth: float64); "
          f"{STEPS} evaluations for the optimisation methods")
    print(f"| method | content | style | estimate | measured | estimate / measured |\n|---|---|---|---|---|---|")
    worst = 1.0
    for key, size, ssize in cells:
        est, got = estimate(key, size, ssize), measure(key, size, ssize)
        ratio = est / got
        worst = max(worst, ratio, 1 / ratio)
        print(f"| {key} | {size}² | {ssize}² | {memory.format_bytes(est)} | {memory.format_bytes(got)} | {ratio:.2f} |",
              flush=True)
    print(f"\nworst factor {worst:.2f} (stated: {memory.FACTOR})")
    return 0 if worst <= memory.FACTOR else 1


if __name__ == "__main__":
    sys.exit(main())
