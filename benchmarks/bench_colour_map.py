"""``stylelab transfer --method colour-map`` on a 12 MP photo: wall time, CPU time and peak memory of the command.

    python benchmarks/bench_colour_map.py                     # 4000×3000, both bases, 3 repeats, 2 threads
    python benchmarks/bench_colour_map.py --size 6000x4000 --repeats 1 --bases pixel-wct

Each run is the whole command a user types, in a fresh process (``python -m stylelab.cli
transfer --method colour-map PHOTO STYLE -o OUT.jpg``): Python and torch start-up, reading the
JPEG, the thumbnail and its stylisation, the fit, the pass over every pixel and writing the JPEG.
The photo is a course image enlarged to ``--size`` (bicubic, written once as JPEG quality 92).
``resource.getrusage``/``os.wait4`` give each child's CPU time (user + system) and peak resident
memory (``ru_maxrss``: everything the process held — torch's libraries included — at its
peak). A first row runs only the start-up (importing stylelab and its method registry) so the
memory and time the work adds can be read off. WCT² runs with RANDOM weights
(``--random-weights``, synthetic, the official layout): the arithmetic — hence time and memory —
is that of the trained network, the picture is not. The load average is printed: on a shared
machine the wall time is inflated by the other processes, the CPU time much less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h or w)


def run(cmd: list[str], env: dict) -> tuple[float, float, float, int]:
    """``(wall s, cpu s, peak RSS GB, return code)`` of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(err[-2000:], file=sys.stderr)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024 / 1e9, code


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=_size, default=(4000, 3000), help="photo WxH (default 4000x3000 = 12 MP)")
    ap.add_argument("--bases", nargs="+", default=["pixel-wct", "wct2"], help="thumbnail methods (--base)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="OMP/torch threads of each run (default 2: two cores)")
    ap.add_argument("--content", default="mountains")
    ap.add_argument("--style", default="sunset")
    args = ap.parse_args()

    from PIL import Image

    from stylelab.media import data

    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads), STYLELAB_OFFLINE="1")
    w, h = args.size
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo.jpg"
        Image.open(data.path(args.content)).convert("RGB").resize((w, h), Image.BICUBIC).save(photo, quality=92)
        print(f"# {w}×{h} ({w * h / 1e6:.1f} MP) JPEG, style {args.style}; {args.threads} threads, {os.cpu_count()} "
              f"CPUs visible; load average at start {os.getloadavg()[0]:.1f}; torch {_torch_version()}")
        rows = [("start-up only (import stylelab, registry)",
                 [sys.executable, "-c", "import stylelab.cli, stylelab.media.data; stylelab.methods.registry()"])]
        for base in args.bases:
            out = Path(tmp) / f"out-{base}.jpg"
            rows.append((f"colour-map --base {base}", [
                sys.executable, "-m", "stylelab.cli", "transfer", "--method", "colour-map", str(photo),
                str(data.path(args.style)), "-o", str(out), "--base", base, "--overwrite", "--random-weights"]))
        print(f"{'run':<44} {'wall s (median)':>16} {'CPU s (median)':>15} {'peak RSS GB (max)':>18}")
        for name, cmd in rows:
            results = [run(cmd, env) for _ in range(args.repeats)]
            if any(r[3] for r in results):
                print(f"{name:<44} FAILED")
                continue
            print(f"{name:<44} {statistics.median(r[0] for r in results):>16.2f} "
                  f"{statistics.median(r[1] for r in results):>15.2f} {max(r[2] for r in results):>18.3f}")
        print(f"# load average at end {os.getloadavg()[0]:.1f}")
    return 0


def _torch_version() -> str:
    import torch

    return torch.__version__


if __name__ == "__main__":
    sys.exit(main())
