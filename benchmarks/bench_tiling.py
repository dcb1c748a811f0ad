"""Time and peak memory against resolution, whole image vs tiles, for AdaIN, WCT² and PhotoWCT + smoothing.

    python benchmarks/bench_tiling.py                                   # 512², 1024², 2048×1536, 4000×3000
    python benchmarks/bench_tiling.py --sizes 512 1024 --tile 512 --whole-max 1024 --threads 1
    python benchmarks/bench_tiling.py --methods wct2 --sizes 4000x3000 --tile 1024 --out tiling.png

One process runs every cell side by side: for each method and size, the
whole-image run (when ``stylelab.memory`` predicts at most ``--whole-budget``
GB for it; above, it does not fit a laptop) and the tiled run
(``stylelab.tiling.stylize_tiled``, statistics from a ``--thumbnail`` px
thumbnail, ``--tile``/``--overlap``). The style is prepared once per method
(``prepare_style``: encoded and reduced once, as ``stylelab transfer`` does).
PhotoWCT's smoothing (``--smooth``, default the multigrid ``mg``) runs once
at full size after the tiles. Columns: wall and CPU seconds (CPU: every thread
of the process), peak memory added (``stylelab.metrics.measure``: sampled
RSS on CPU) and the process's peak RSS during the cell (RSS before + added;
weights, Python and all), the estimate of ``stylelab.memory`` for the cell, the seam ratio
(:func:`stylelab.tiling.tiles.seam_energy`, ≈ 1 when no border shows) and, where
both ran, the relative difference tiled vs whole. A log-log plot of time and
memory against megapixels is written to ``--out``.

Weights are RANDOM (synthetic, official layout): the arithmetic, hence the
time and memory, is that of the pretrained networks; the pictures are not.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import torch


def _size(text):
    w, _, h = text.lower().partition("x")
    return (int(h or w), int(w))


def _models(names, device):
    from stylelab import weights as W
    from stylelab.methods import adain as A, photowct as P, wct2 as M
    from stylelab.nets import wavenets

    out = {}
    if "adain" in names:
        out["adain"] = A.AdaIN.from_official("random", "random", random=True, device=device)
    if "wct2" in names:
        out["wct2"] = M.WCT2.from_official(wavenets.synthetic_checkpoint("wct2_encoder_cat5", seed=1),
                                           wavenets.synthetic_checkpoint("wct2_decoder_cat5", seed=2), device=device)
    if "photowct" in names:
        out["photowct"] = P.PhotoWCT.from_official(W.synthetic_state_dict("photowct", seed=0), device=device)
    return out


def _plot(rows, methods, out):
    """The log-log plot of seconds and peak memory against megapixels, one line per method and mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for method in methods:
        for mode, style_ in (("whole", "--"), ("tiles", "-")):
            # CPU seconds and the process's peak RSS where recorded (rows of 8), else wall seconds and the peak added
            pts = sorted((r[1][0] * r[1][1] / 1e6, r[5] if len(r) > 5 else r[3], r[6] if len(r) > 6 else r[4])
                         for r in rows if r[0] == method and r[2] == mode)
            if pts:
                mp, sec, mib = zip(*pts)
                axes[0].loglog(mp, sec, style_, marker="o", label=f"{method} ({mode})")
                axes[1].loglog(mp, [v / 1024 for v in mib], style_, marker="o", label=f"{method} ({mode})")
    axes[0].set(xlabel="megapixels", ylabel="CPU seconds", title="time (random weights, CPU, 1 thread)")
    axes[1].set(xlabel="megapixels", ylabel="peak process RSS (GiB)", title="peak memory (line: 8 GB budget)")
    axes[1].axhline(8e9 / 2**30, color="grey", lw=0.8)
    for ax in axes:  # plain numbers on the log axes
        ax.set_xticks([0.25, 0.5, 1, 2, 4, 8, 12])
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[1].set_yticks([0.5, 1, 2, 4, 8])
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


def main(argv=None) -> int:
    from stylelab.media import data
    from stylelab import tiling
    from stylelab.tiling import tiles
    from stylelab.io import resize
    from stylelab.memory import estimate_peak_bytes, format_bytes
    from stylelab.metrics import measure, rss_bytes
    from stylelab.smoothing import smooth

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", nargs="+", default=["adain", "wct2", "photowct"], choices=["adain", "wct2", "photowct"])
    ap.add_argument("--sizes", nargs="+", default=["512", "1024", "2048x1536", "4000x3000"])
    ap.add_argument("--tile", type=int, default=1024)
    ap.add_argument("--overlap", type=int, default=64)
    ap.add_argument("--thumbnail", type=int, default=1024)
    ap.add_argument("--whole-budget", type=float, default=6.0,
                    help="run the whole image when stylelab.memory predicts at most this many GB (default 6)")
    ap.add_argument("--smooth", default="mg", help="PhotoWCT smoothing mode (default mg; 'none' to skip)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--progress", action="store_true", help="a progress bar over the tiles (on stderr)")
    ap.add_argument("--out", default=None, help="log-log plot file (PNG)")
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file")
    ap.add_argument("--plot-from", nargs="+", default=None, metavar="JSON",
                    help="only draw --out from the rows of earlier runs' --json files (runs split by size/method)")
    args = ap.parse_args(argv)
    if args.plot_from:
        import json

        rows = [(r[0], tuple(r[1]), *r[2:]) for f in args.plot_from for r in json.load(open(f))["rows"]]
        _plot(rows, sorted({r[0] for r in rows}), args.out)
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    models = _models(args.methods, device)
    style = data.load("chelsea", size=512, device=device)
    preps = {name: model.prepare_style(style) for name, model in models.items()}  # the style side once per method
    fns = {
        "adain": lambda x: models["adain"].stylize(x, preps["adain"])[..., : x.shape[-2], : x.shape[-1]],
        "wct2": lambda x: models["wct2"].stylize(x, preps["wct2"]),
        "photowct": lambda x: models["photowct"].stylize(x, preps["photowct"])[..., : x.shape[-2], : x.shape[-1]].clamp(0, 1),
    }
    smoothing = None if args.smooth == "none" else args.smooth

    def run(method, x, tiled):
        fn = fns[method]
        c0 = time.process_time()
        out = tiling.stylize_tiled(fn, x, tile=args.tile, overlap=args.overlap, thumbnail=args.thumbnail,
                                   progress=args.progress) if tiled else fn(x).float()
        info = None
        if method == "photowct" and smoothing is not None:
            out, info = smooth(out.clamp(0, 1).double(), x.double(), mode=smoothing, return_info=True)
            out = out.float()
        return out, info, time.process_time() - c0

    def estimate(method, hw, tiled):
        opts = {"smoothing": smoothing} if method == "photowct" else {}
        if tiled:
            opts.update(tile=args.tile, thumbnail=args.thumbnail)
        try:
            return estimate_peak_bytes(method, *hw, style_hw=tuple(style.shape[-2:]), **opts)
        except TypeError:  # an older stylelab.memory without the tile buffers (thumbnail=)
            opts.pop("thumbnail", None)
            return estimate_peak_bytes(method, *hw, style_hw=tuple(style.shape[-2:]), **opts)

    print(f"device {device}, threads {torch.get_num_threads()}, RANDOM weights, tile {args.tile}, overlap "
          f"{args.overlap}, thumbnail {args.thumbnail}, photowct smoothing {args.smooth}, "
          f"load average {os.getloadavg()[0]:.1f}")
    head = (f"{'method':>9} {'size':>10} {'MP':>5} {'mode':>6} {'wall s':>8} {'CPU s':>8} {'added MiB':>9} "
            f"{'proc GiB':>8} {'est GiB':>7} {'seam':>5} {'rel diff':>9}  smoothing")
    print(head)
    print("-" * len(head))
    rows = []
    photo = data.load("astronaut", device=device)
    for text in args.sizes:
        hw = _size(text)
        x = resize(photo, hw).clamp(0, 1)
        for method in args.methods:
            results = {}
            for tiled in (False, True):
                mode = "tiles" if tiled else "whole"
                est = estimate(method, hw, tiled)
                if not tiled and est > args.whole_budget * 1e9:
                    print(f"{method:>9} {hw[1]}x{hw[0]:<5} {hw[0] * hw[1] / 1e6:>5.1f} {mode:>6}  skipped (predicted "
                          f"{format_bytes(est)} by stylelab.memory > --whole-budget {args.whole_budget:g} GB)", flush=True)
                    continue
                rss0 = rss_bytes() or 0
                m = measure(run, method, x, tiled, device=device)
                out, info, cpu = m.result
                results[tiled] = out
                boxes = tiles.tile_boxes(*hw, args.tile, args.overlap)
                seam = tiles.seam_energy(out, boxes) if tiled and len(boxes) > 1 else float("nan")
                diff = ""
                if tiled and False in results:
                    diff = f"{((out - results[False]).norm() / results[False].norm()).item():.2e}"
                peak = m.peak_mib or float("nan")
                proc = (rss0 + (m.peak_bytes or 0)) / 2**20
                rows.append((method, hw, mode, m.seconds, peak, cpu, proc, est / 2**20))
                sm = "" if info is None else (f"  {info.mode} {info.seconds:.1f} s, "
                                               f"{'+'.join(map(str, info.iterations))} it.")
                print(f"{method:>9} {hw[1]}x{hw[0]:<5} {hw[0] * hw[1] / 1e6:>5.1f} {mode:>6} {m.seconds:>8.1f} "
                      f"{cpu:>8.1f} {peak:>9.0f} {proc / 1024:>8.2f} {est / 2**30:>7.2f} {seam:>5.2f} {diff:>9}{sm}",
                      flush=True)
                del out, m
            del results
    # ru_maxrss is the kernel's high-water mark, which PeakMemory resets at every measured cell: since the last
    # cell began, not over the whole run (and so is the maximum /usr/bin/time reports for this process)
    print(f"load average at the end {os.getloadavg()[0]:.1f}; peak RSS since the last cell began "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    if args.json:
        import json

        with open(args.json, "w") as fh:
            json.dump({"argv": argv if argv is not None else __import__("sys").argv[1:], "rows": rows}, fh)
    if args.out:
        _plot(rows, args.methods, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
