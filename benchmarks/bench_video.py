"""Flicker of per-frame transfer, naive against stabilised: the warping error along optical flow.

    .venv/bin/python benchmarks/bench_video.py                         # 48 frames, 96×128, WCT/AdaIN/WCT²
    .venv/bin/python benchmarks/bench_video.py --frames 12 --methods wct   # a quick look

Two synthetic clips that exist offline, made from the course photos by
:func:`stylelab.media.video.camera_frames`:

* ``pan+zoom``: a camera panning (0.2, 0.7) px per frame and zooming 0.3 % per
  frame over ``data/content/mountains.jpg``;
* ``pan+object``: the same camera with a disc cut from ``chelsea.jpg`` moving on
  its own (1, −2.5) px per frame (independent motion, occlusions at its rim).

For every method, each clip is stylised frame by frame (the style prepared once)
naively and stabilised (:class:`stylelab.media.video.TemporalStatistics`, EMA of the
content statistics with ``--momentum``). Printed per row: the warping error
``E_warp`` (Lai et al. 2018; flow measured once on the input by TV-L1, occlusions
by the forward–backward check: :mod:`stylelab.media.warping`), its change against the
naive row, the Gram style distance to the style image (mean over the frames,
VGG features from :func:`stylelab.course.feature_network`) and the seconds per
frame. The networks are the course's stand-ins (:mod:`stylelab.course.standin`: a
fixed-seed random VGG-19 encoder with decoders trained on the course images),
unless the published weights are installed; every line and the figure say which.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stylelab import course
from stylelab.media import data, video, warping
from stylelab.features import evaluation
from stylelab.course import standin  # noqa: E402
from stylelab.methods.adain import AdaIN  # noqa: E402
from stylelab.methods.wct import WCT  # noqa: E402
from stylelab.methods.wct2 import WCT2  # noqa: E402


def clips(n: int, size: tuple[int, int]) -> dict[str, torch.Tensor]:
    img = data.load("mountains", size=400)
    k = size[0] // 3  # the object: a disc a third of the frame's height across
    sprite = data.load("chelsea", size=k)[..., :k, :k]
    return {"pan+zoom": video.camera_frames(img, n_frames=n, size=size),
            "pan+object": video.camera_frames(img, n_frames=n, size=size, sprite=sprite)}


def model(name: str):
    """The published network when its weights are installed, else the course's stand-in; and its label."""
    cls = {"wct": WCT, "adain": AdaIN, "wct2": WCT2}[name]
    try:
        m = cls.from_official(download=False) if name != "wct2" else cls.from_official(download=False)
        if m.pretrained:
            return m, f"{cls.__name__} (published weights)"
    except Exception:  # noqa: BLE001 - missing weights: the stand-in below
        pass
    return standin.model(name), f"{cls.__name__} stand-in ({standin.LABEL})"


def frame_fn(name: str, m, style: torch.Tensor):
    if name == "wct":
        return lambda f: m.stylize(f, style, alpha=1.0)  # 5 levels, preset official_wct (Li et al. 2017)
    if name == "adain":
        prep = m.prepare_style(style)
        return lambda f: m.stylize(f, prep)[..., : f.shape[-2], : f.shape[-1]]
    prep = m.prepare_style(style)
    return lambda f: m.stylize(f, prep)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--size", type=int, nargs=2, default=(96, 128), metavar=("H", "W"))
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--methods", nargs="+", default=["wct", "adain", "wct2"], choices=["wct", "adain", "wct2"])
    p.add_argument("--flow", choices=warping.FLOW_METHODS, default="tvl1")
    p.add_argument("--style", default="mosaic")
    p.add_argument("--style-size", type=int, default=128, help="shorter side of the style image (default 128)")
    p.add_argument("--out", type=Path, default=None, help="write the figure (PNG) here")
    p.add_argument("--json", type=Path, default=None, help="write the rows as JSON here")
    p.add_argument("--plot-from", type=Path, default=None, help="only redraw the figure (--out) from a --json file")
    args = p.parse_args(argv)
    if args.plot_from:
        rows = json.loads(args.plot_from.read_text())
        args.frames, args.momentum = rows[0]["frames"], next(r["momentum"] for r in rows if r["momentum"] is not None)
        plot(rows, None, args, None)
        return 0
    torch.set_num_threads(1)
    torch.manual_seed(0)

    style = data.load(args.style, size=args.style_size)
    enc = course.feature_network("relu5_1")
    print(f"style distance: {enc.tag if hasattr(enc, 'tag') else type(enc).__name__}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread")
    rows, examples = [], {}
    for clip_name, clip in clips(args.frames, tuple(args.size)).items():
        t0 = time.perf_counter()
        flow = warping.clip_flow(clip, method=args.flow)
        print(f"\n{clip_name}: {clip.shape[0]} frames {clip.shape[-2]}×{clip.shape[-1]}, flow {args.flow} "
              f"{time.perf_counter() - t0:.0f} s, pixels kept {flow.coverage:.1%}, "
              f"E_warp(input) = {warping.warping_error(clip, flow):.5f}")
        for name in args.methods:
            m, label = model(name)
            fn = frame_fn(name, m, style)
            naive = None
            for momentum in (None, args.momentum):
                t0 = time.perf_counter()
                with torch.no_grad():
                    out = video.stylize_frames(fn, clip, progress=False, momentum=momentum)
                sec = (time.perf_counter() - t0) / clip.shape[0]
                e = warping.warping_error(out, flow)
                with torch.no_grad():
                    sd = float(evaluation.style_distance(out, style, enc).mean())
                naive = e if momentum is None else naive
                row = {"clip": clip_name, "method": name, "network": label, "momentum": momentum, "e_warp": e,
                       "change": None if momentum is None else e / naive - 1, "style_distance": sd,
                       "s_per_frame": sec, "frames": clip.shape[0], "size": list(clip.shape[-2:])}
                rows.append(row)
                examples[(clip_name, name, momentum)] = out
                tag = "naive" if momentum is None else f"EMA m={momentum}"
                ch = "" if momentum is None else f" ({row['change']:+.1%})"
                print(f"  {name:6s} {tag:12s} E_warp {e:.5f}{ch}  style distance {sd:.4g}  {sec:.2f} s/frame  [{label}]")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if args.out:
        plot(rows, examples, args, enc)
    return 0


def plot(rows, examples, args, enc) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clips_ = list(dict.fromkeys(r["clip"] for r in rows))
    methods_ = list(dict.fromkeys(r["method"] for r in rows))
    fig, axes = plt.subplots(1, len(clips_), figsize=(5 * len(clips_), 3.6), squeeze=False)
    for ax, c in zip(axes[0], clips_):
        xs = range(len(methods_))
        for k, (mom, colour) in enumerate(((None, "tab:red"), (args.momentum, "tab:blue"))):
            vals = [next(r["e_warp"] for r in rows if r["clip"] == c and r["method"] == m and r["momentum"] == mom)
                    for m in methods_]
            ax.bar([x + 0.38 * k for x in xs], vals, width=0.36, color=colour,
                   label="per frame" if mom is None else f"stabilised (EMA m={mom})")
        ax.set_xticks([x + 0.19 for x in xs], [m.upper() for m in methods_])
        ax.set_ylabel("warping error E_warp (log scale)")
        ax.set_yscale("log")
        ax.set_title(f"{c}: {args.frames} frames")
        ax.legend(fontsize=8)
    nets = sorted({r["network"] for r in rows})
    fig.suptitle("Flicker along the input's TV-L1 flow. Networks: " + "; ".join(nets), fontsize=7, wrap=True)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    sys.exit(main())
