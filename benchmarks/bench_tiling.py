"""Time and peak memory against resolution, whole image vs tiles, for AdaIN, WCT² and PhotoWCT + smoothing.

    python benchmarks/bench_tiling.py                                   # 512², 1024², 2048×1536, 4000×3000
    python benchmarks/bench_tiling.py --sizes 512 1024 --tile 512 --whole-max 1024 --threads 1
    python benchmarks/bench_tiling.py --methods wct2 --sizes 4000x3000 --tile 1024 --out tiling.png

One process runs every cell side by side: for each method and size, the
whole-image run (up to ``--whole-max`` pixels on the long side, above which
it does not fit a laptop) and the tiled run (``stylelab.tiling.stylize_tiled``,
statistics from a ``--thumbnail`` px thumbnail, ``--tile``/``--overlap``).
PhotoWCT's smoothing (``--smooth``, default the multigrid ``mg``) runs once
at full size after the tiles. Columns: seconds and peak memory added
(``stylelab.metrics.measure``: sampled RSS on CPU), the seam ratio
(:func:`stylelab.tiling.seam_energy`, ≈ 1 when no border shows) and, where
both ran, the relative difference tiled vs whole. A log-log plot of time and
memory against megapixels is written to ``--out``.

Weights are RANDOM (synthetic, official layout): the arithmetic, hence the
time and memory, is that of the pretrained networks; the pictures are not.
"""

from __future__ import annotations

import argparse
import os
import resource

import torch


def _size(text):
    w, _, h = text.lower().partition("x")
    return (int(h or w), int(w))


def _models(names, device):
    from stylelab import weights as W
    from stylelab.methods import adain as A, photowct as P, wct2 as M

    out = {}
    if "adain" in names:
        out["adain"] = A.AdaIN.from_official("random", "random", random=True, device=device)
    if "wct2" in names:
        out["wct2"] = M.WCT2.from_official(M.synthetic_checkpoint("wct2_encoder_cat5", seed=1),
                                           M.synthetic_checkpoint("wct2_decoder_cat5", seed=2), device=device)
    if "photowct" in names:
        out["photowct"] = P.PhotoWCT.from_official(W.synthetic_state_dict("photowct", seed=0), device=device)
    return out


def _plot(rows, methods, out):
    """The log-log plot of seconds and peak memory against megapixels, one line per method and mode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for method in methods:
        for mode, style_ in (("whole", "--"), ("tiles", "-")):
            pts = sorted((r[1][0] * r[1][1] / 1e6, r[3], r[4]) for r in rows if r[0] == method and r[2] == mode)
            if pts:
                mp, sec, mib = zip(*pts)
                axes[0].loglog(mp, sec, style_, marker="o", label=f"{method} ({mode})")
                axes[1].loglog(mp, [v / 1024 for v in mib], style_, marker="o", label=f"{method} ({mode})")
    axes[0].set(xlabel="megapixels", ylabel="seconds", title="time (random weights, CPU)")
    axes[1].set(xlabel="megapixels", ylabel="peak GiB added", title="peak memory")
    axes[1].axhline(8, color="grey", lw=0.8)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


def main(argv=None) -> int:
    from stylelab import data, tiling
    from stylelab.io import resize
    from stylelab.memory import estimate_peak_bytes, format_bytes
    from stylelab.metrics import measure
    from stylelab.smoothing import smooth

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", nargs="+", default=["adain", "wct2", "photowct"], choices=["adain", "wct2", "photowct"])
    ap.add_argument("--sizes", nargs="+", default=["512", "1024", "2048x1536", "4000x3000"])
    ap.add_argument("--tile", type=int, default=1024)
    ap.add_argument("--overlap", type=int, default=64)
    ap.add_argument("--thumbnail", type=int, default=1024)
    ap.add_argument("--whole-max", type=int, default=1024, help="largest long side run whole")
    ap.add_argument("--smooth", default="mg", help="PhotoWCT smoothing mode (default mg; 'none' to skip)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
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
    prep = models["wct2"].prepare_style(style) if "wct2" in models else None
    fns = {
        "adain": lambda x: models["adain"].stylize(x, style)[..., : x.shape[-2], : x.shape[-1]],
        "wct2": lambda x: models["wct2"].stylize(x, prep),
        "photowct": lambda x: models["photowct"].stylize(x, style)[..., : x.shape[-2], : x.shape[-1]].clamp(0, 1),
    }

    def run(method, x, tiled):
        fn = fns[method]
        out = tiling.stylize_tiled(fn, x, tile=args.tile, overlap=args.overlap, thumbnail=args.thumbnail,
                                   progress=False) if tiled else fn(x).float()
        info = None
        if method == "photowct" and args.smooth != "none":
            out, info = smooth(out.clamp(0, 1).double(), x.double(), mode=args.smooth, return_info=True)
            out = out.float()
        return out, info

    print(f"device {device}, threads {torch.get_num_threads()}, RANDOM weights, tile {args.tile}, overlap "
          f"{args.overlap}, thumbnail {args.thumbnail}, photowct smoothing {args.smooth}, "
          f"load average {os.getloadavg()[0]:.1f}")
    head = (f"{'method':>9} {'size':>10} {'MP':>5} {'mode':>6} {'seconds':>8} {'peak MiB':>9} {'seam':>5} {'rel diff':>9}"
            f"  smoothing")
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
                if not tiled and max(hw) > args.whole_max:
                    opts = {"smoothing": args.smooth} if method == "photowct" else {}
                    need = estimate_peak_bytes(method, *hw, **opts)
                    print(f"{method:>9} {hw[1]}x{hw[0]:<5} {hw[0] * hw[1] / 1e6:>5.1f} {mode:>6}  skipped (predicted "
                          f"{format_bytes(need)} by stylelab.memory; --whole-max {args.whole_max})", flush=True)
                    continue
                m = measure(run, method, x, tiled, device=device)
                out, info = m.result
                results[tiled] = out
                boxes = tiling.tile_boxes(*hw, args.tile, args.overlap)
                seam = tiling.seam_energy(out, boxes) if tiled and len(boxes) > 1 else float("nan")
                diff = ""
                if tiled and False in results:
                    diff = f"{((out - results[False]).norm() / results[False].norm()).item():.2e}"
                peak = m.peak_mib or float("nan")
                rows.append((method, hw, mode, m.seconds, peak))
                sm = "" if info is None else (f"  {info.mode} {info.seconds:.1f} s, "
                                               f"{'+'.join(map(str, info.iterations))} it.")
                print(f"{method:>9} {hw[1]}x{hw[0]:<5} {hw[0] * hw[1] / 1e6:>5.1f} {mode:>6} {m.seconds:>8.1f} "
                      f"{peak:>9.0f} {seam:>5.2f} {diff:>9}{sm}", flush=True)
            del results
    print(f"load average at the end {os.getloadavg()[0]:.1f}; this process's peak RSS (model, Python and all) "
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
