"""12 MP on the CPU: each method's time against its convolution floor, side by side in one run.

    python benchmarks/bench_12mp.py                          # 4000×3000, AdaIN, WCT², PhotoWCT + smoothing, 1 and 2 threads
    python benchmarks/bench_12mp.py --floors-only            # the floors alone (seconds, nothing at 12 MP)
    python benchmarks/bench_12mp.py --methods wct2 --threads 2 --size 2048x1536

For every (threads, method) a fresh process (so each peak is its own, as ``/usr/bin/time`` would give):

* plans the tiles as ``stylelab transfer --tile auto`` does (:func:`stylelab.tiling.choose_tile` under the
  8 GB budget, a 512 px style, statistics from a 1024 px thumbnail) and reports the **processed area**
  (every tile plus the thumbnail, :func:`stylelab.tiling.tiles.processed_fraction`) over the photo's;
* counts the **multiply-adds of every convolution** the method runs (``torch.utils.flop_counter`` on a
  256² crop: conv MACs per pixel are constant for these fully convolutional networks) times the
  processed pixels, plus the style's one encoding;
* measures the machine's **3×3-convolution rate** with the same thread count, as ``bench_wct2.py
  --count-macs`` does for BENCHMARKS.md at 512 px (one 256 → 256 convolution at 128²), just before the
  run: **floor = conv MACs ÷ that rate**, the least time the convolutions alone can take here;
* runs the method at full size the way the command line does (style prepared once, tiles, PhotoWCT's
  multigrid smoothing once at full size; ``--keep-freed``: the C heap keeps freed memory,
  :func:`stylelab.allocator.keep_freed_memory`, as ``STYLELAB_KEEP_FREED=1 stylelab`` does) and reports
  wall, user and system seconds, minor page faults, the process's peak resident memory (``ru_maxrss``)
  and the load average before and after.

**ratio = wall ÷ floor** (for PhotoWCT the network part only; its smoothing has no convolution floor and
is reported with its set-up). Weights are RANDOM (synthetic, official layout): the arithmetic, hence the
time and memory, is that of the pretrained networks. The content is the course photo *astronaut*
resized to ``--size``. Expected run time on a quiet 2-core CPU: ≈ 2–3 min per AdaIN/WCT² cell and
5–8 min per PhotoWCT cell, about 25 minutes for the default table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("adain", "wct2", "photowct")


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(h or w), int(w)


def _usage() -> dict:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return {"wall": time.perf_counter(), "user": r.ru_utime, "sys": r.ru_stime, "minflt": r.ru_minflt}


def _since(a: dict) -> dict:
    b = _usage()
    return {k: b[k] - a[k] for k in a}


def child(method: str, threads: int, hw: tuple[int, int], keep: bool, run: bool, tile_arg: str) -> dict:
    """One (method, threads) cell in this process; returns its figures."""
    if keep:
        from stylelab.allocator import keep_freed_memory

        keep_freed_memory()
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    sys.path.insert(0, str(ROOT))
    from benchmarks.bench_tiling import _models
    from benchmarks.bench_wct2 import conv_peak_rate
    from stylelab.media import data
    from stylelab import tiling
    from stylelab.io import resize
    from stylelab.smoothing import smooth
    from stylelab.tiling.tiles import processed_fraction, tile_boxes

    torch.set_num_threads(threads)
    dev = torch.device("cpu")
    h, w = hw
    load0 = os.getloadavg()[0]
    model = _models([method], dev)[method]
    style = data.load("chelsea", size=512)
    smoothing = "mg" if method == "photowct" else None
    opts = {"smoothing": smoothing} if method == "photowct" else {}
    if tile_arg == "auto":
        budget, _ = tiling.tile_budget(dev)
        tile, _ = tiling.choose_tile(method, h, w, budget=budget, style_hw=tuple(style.shape[-2:]), thumbnail=1024,
                                     **opts)
    else:
        tile = int(tile_arg)
    boxes = tile_boxes(h, w, tile, 64) if tile else [(0, h, 0, w)]
    frac = processed_fraction(h, w, boxes, 1024)

    def crop(fn):
        return lambda x: fn(x)[..., : x.shape[-2], : x.shape[-1]]

    def count(fn) -> int:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            fn()
        ops = counter.get_flop_counts().get("Global", {})
        return sum(v for k, v in ops.items() if "conv" in str(k)) // 2

    with torch.no_grad():
        prep = model.prepare_style(style)
        fn = crop(lambda x: model.stylize(x, prep))
        probe = torch.rand(1, 3, 256, 256)
        macs = count(lambda: fn(probe)) / 256**2 * frac * h * w + count(lambda: model.prepare_style(style))
        rate = conv_peak_rate(dev) * 1e9
        out = {"method": method, "threads": threads, "size": [h, w], "tile": tile, "tiles": len(boxes),
               "processed": frac, "macs": macs, "rate": rate, "floor": macs / rate, "keep_freed": keep,
               "load_before": load0}
        if not run:
            return out
        content = resize(data.load("astronaut"), hw).clamp(0, 1)
        t0 = _usage()
        prep = model.prepare_style(style)
        fn = crop(lambda x: model.stylize(x, prep))
        y = tiling.stylize_tiled(fn, content, tile=tile or max(h, w), overlap=64, thumbnail=1024, progress=False)
        out["network"] = _since(t0)
        if smoothing:
            y = y.clamp(0, 1).double()
            t1 = _usage()
            y, info = smooth(y, content.double(), mode=smoothing, return_info=True)
            out["smoothing"] = _since(t1)
            out["smoothing_setup"] = info.setup_seconds
            out["smoothing_info"] = info.summary()
        out["total"] = _since(t0)
        out["peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        out["load_after"] = os.getloadavg()[0]
        out["finite"] = bool(torch.isfinite(y).all())
    return out


def table(rows: list[dict]) -> str:
    head = ("| method | threads | tiles | processed / photo | conv TMAC | conv GMAC/s | floor s | wall s | wall / floor "
            "| user + sys s | minor faults | peak GiB | load before → after |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        tiles = f"{r['tiles']} × {r['tile']} px" if r["tile"] else "whole"
        cells = [r["method"], str(r["threads"]), tiles, f"{r['processed']:.2f}", f"{r['macs'] / 1e12:.2f}",
                 f"{r['rate'] / 1e9:.0f}", f"{r['floor']:.0f}"]
        if "total" in r:
            net, tot = r["network"], r["total"]
            wall = f"{tot['wall']:.0f}"
            if "smoothing" in r:
                wall += (f" (network {net['wall']:.0f}, smoothing {r['smoothing']['wall']:.0f}, of which set-up "
                         f"{r['smoothing_setup']:.0f})")
            cells += [wall, f"{net['wall'] / r['floor']:.2f}", f"{tot['user']:.0f} + {tot['sys']:.0f}",
                      f"{tot['minflt'] / 1e6:.1f} M", f"{r['peak_gib']:.2f}",
                      f"{r['load_before']:.1f} → {r['load_after']:.1f}"]
        else:
            cells += ["–"] * 6
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="4000x3000", help="W×H of the photo (default 4000x3000)")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--tile", default="auto", help="tile side, or 'auto' (stylelab transfer --tile auto's choice)")
    ap.add_argument("--floors-only", action="store_true", help="plan, count and measure the rate; no 12 MP run")
    ap.add_argument("--keep-freed", action="store_true",
                    help="the C heap keeps freed memory (stylelab.allocator: fewer page faults, a higher peak)")
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file (never overwritten)")
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "THREADS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    hw = _size(args.size)
    if args.child:
        r = child(args.child[0], int(args.child[1]), hw, args.keep_freed, not args.floors_only, args.tile)
        print("RESULT " + json.dumps(r), flush=True)
        return 0
    if args.json and Path(args.json).exists():
        raise SystemExit(f"{args.json} exists: choose another --json file (results are never overwritten)")
    rows = []
    print(f"{hw[1]}×{hw[0]}, RANDOM weights, heap keeps freed memory: {args.keep_freed}", flush=True)
    for threads in args.threads:
        for method in args.methods:
            cmd = [sys.executable, __file__, "--child", method, str(threads), "--size", args.size, "--tile", args.tile]
            cmd += ["--floors-only"] * args.floors_only + ["--keep-freed"] * args.keep_freed
            env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=str(ROOT))
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            found = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
            if proc.returncode or not found:
                print(f"{method}, {threads} thread(s): failed (exit {proc.returncode})\n{proc.stderr[-2000:]}", flush=True)
                continue
            rows.append(json.loads(found[-1][7:]))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(rows))
    if args.json:
        with open(args.json, "x") as fh:
            json.dump({"argv": sys.argv[1:], "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
