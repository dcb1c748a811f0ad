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
content statistics with ``--momentum``); both are then also blended along the
input's motion (:func:`stylelab.media.warping.blend_along_flow`, ``--blend`` β, its own
Lucas–Kanade flow, contrast kept). Printed per row: the warping error
``E_warp`` (Lai et al. 2018; flow measured once on the input by TV-L1, occlusions
by the forward–backward check: :mod:`stylelab.media.warping`), its change against the
naive row, the Gram style distance to the style image (mean over the frames,
VGG features from :func:`stylelab.course.feature_network`) and its change, the
SSIM to the naive per-frame output and to the row's own unblended output (what
the blend changed), the sharpness (mean absolute gradient over the naive
output's) and the seconds per frame (the blend's flow included). The networks are the course's stand-ins (:mod:`stylelab.course.standin`: a
fixed-seed random VGG-19 encoder with decoders trained on the course images),
unless the published weights are installed; every line and the figure say which.
"""

from __future__ import annotations

import argparse
import json
import os
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


def frame_fn(name: str, m, style: torch.Tensor, alpha: float = 1.0):
    if name == "wct":
        return lambda f: m.stylize(f, style, alpha=alpha)  # 5 levels, preset official_wct (Li et al. 2017)
    if name == "adain":
        prep = m.prepare_style(style)
        return lambda f: m.stylize(f, prep, alpha=alpha)[..., : f.shape[-2], : f.shape[-1]]
    prep = m.prepare_style(style)
    return lambda f: m.stylize(f, prep, alpha=alpha)


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
    p.add_argument("--blend", type=float, nargs="+", default=[warping.DEFAULT_BLEND],
                   help="β of blend_along_flow, one row set per value (0: no blend rows)")
    p.add_argument("--alphas", type=float, nargs="*", default=[],
                   help="also run the naive per-frame transfer at these α < 1 (less style): the curve that tells what "
                        "per-frame transfer gives at each style distance, against which every stabilised row is "
                        "compared at its own style distance ('at the same style distance')")
    p.add_argument("--clips", nargs="+", default=["pan+zoom", "pan+object"], choices=["pan+zoom", "pan+object"])
    p.add_argument("--json", type=Path, default=None, help="write the rows as JSON here")
    p.add_argument("--plot-from", type=Path, default=None, help="only redraw the figure (--out) from a --json file")
    args = p.parse_args(argv)
    if args.plot_from:
        rows = json.loads(args.plot_from.read_text())
        args.frames = rows[0]["frames"]
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
        if clip_name not in args.clips:
            continue
        t0 = time.perf_counter()
        flow = warping.clip_flow(clip, method=args.flow)
        print(f"\n{clip_name}: {clip.shape[0]} frames {clip.shape[-2]}×{clip.shape[-1]}, flow {args.flow} "
              f"{time.perf_counter() - t0:.0f} s, pixels kept {flow.coverage:.1%}, "
              f"E_warp(input) = {warping.warping_error(clip, flow):.5f}; load {_load()}", flush=True)
        for name in args.methods:
            m, label = model(name)
            fn = frame_fn(name, m, style)
            base = {}
            for momentum in (None, args.momentum):
                t0, c0 = time.perf_counter(), time.process_time()
                with torch.no_grad():
                    out = video.stylize_frames(fn, clip, progress=False, momentum=momentum)
                base[momentum] = (out, time.perf_counter() - t0, time.process_time() - c0)
            variants = [(mom, None) for mom in base] + [(mom, b) for b in args.blend if b for mom in base]
            for momentum, blend in variants:
                out, wall, cpu = base[momentum]
                if blend:
                    t0, c0 = time.perf_counter(), time.process_time()
                    out = warping.blend_along_flow(out, clip, weight=blend)
                    wall, cpu = wall + time.perf_counter() - t0, cpu + time.process_time() - c0
                rows.append(measure(out, base[None][0], base[momentum][0], flow, style, enc, rows) | {
                    "clip": clip_name, "method": name, "network": label, "momentum": momentum, "blend": blend,
                    "s_per_frame": wall / clip.shape[0], "cpu_s_per_frame": cpu / clip.shape[0],
                    "frames": clip.shape[0], "size": list(clip.shape[-2:]), "load": _load()})
                examples[(clip_name, name, momentum, blend)] = out
                r = rows[-1]
                tag = ("naive" if momentum is None else f"EMA m={momentum}") + (f" + blend β={blend}" if blend else "")
                ch = "" if r["change"] is None else f" ({r['change']:+.1%})"
                print(f"  {name:6s} {tag:24s} E_warp {r['e_warp']:.5f}{ch}  style distance {r['style_distance']:.4g} "
                      f"({r['style_change']:+.1%})  SSIM to naive {r['ssim_naive']:.3f}, to unblended "
                      f"{r['ssim_unblended']:.3f}  sharpness {r['sharpness']:.3f}  {r['s_per_frame']:.2f} s/frame "
                      f"({r['cpu_s_per_frame']:.2f} CPU)  [{label}]", flush=True)
            for alpha in sorted((a for a in args.alphas if 0 < a < 1), reverse=True):
                t0, c0 = time.perf_counter(), time.process_time()
                with torch.no_grad():
                    out = video.stylize_frames(frame_fn(name, m, style, alpha), clip, progress=False)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                rows.append(measure(out, base[None][0], out, flow, style, enc, rows) | {
                    "clip": clip_name, "method": name, "network": label, "momentum": None, "blend": None,
                    "alpha": alpha, "s_per_frame": wall / clip.shape[0], "cpu_s_per_frame": cpu / clip.shape[0],
                    "frames": clip.shape[0], "size": list(clip.shape[-2:]), "load": _load()})
                r = rows[-1]
                print(f"  {name:6s} {'naive α=' + format(alpha, 'g'):24s} E_warp {r['e_warp']:.5f} ({r['change']:+.1%})  "
                      f"style distance {r['style_distance']:.4g} ({r['style_change']:+.1%})", flush=True)
            if args.alphas:
                same_style_distance(rows, clip_name, name)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if args.out:
        plot(rows, examples, args, enc)
    return 0


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def _is_naive(r) -> bool:
    """Per frame, no statistics average, no blend, full style (α = 1)."""
    return r["momentum"] is None and not r["blend"] and r.get("alpha", 1.0) == 1.0


def _since_naive(rows) -> int:
    """How many rows were appended after the last naive row."""
    k = 0
    while not _is_naive(rows[-1 - k]):
        k += 1
    return k


def same_style_distance(rows, clip_name: str, method: str) -> None:
    """Each stabilised row's E_warp against per-frame transfer *at the same style distance*: the per-frame rows at
    α = 1 and α < 1 form a curve E_warp(style distance), interpolated linearly at the row's style distance
    (``matched_change``; ``None`` outside the curve's range). Printed, and stored in the rows."""
    sel = [r for r in rows if r["clip"] == clip_name and r["method"] == method]
    curve = sorted((r["style_distance"], r["e_warp"]) for r in sel if r["momentum"] is None and not r["blend"])
    print(f"  {method}: against per-frame transfer at the same style distance (α from 1 down to "
          f"{min(r.get('alpha', 1.0) for r in sel):g}; style distances {curve[0][0]:.4g} … {curve[-1][0]:.4g}):")
    for r in sel:
        if r["momentum"] is None and not r["blend"]:
            continue
        sd, r["matched_change"] = r["style_distance"], None
        for (s0, e0), (s1, e1) in zip(curve, curve[1:]):
            if s0 <= sd <= s1:
                e_naive = e0 + (e1 - e0) * (sd - s0) / (s1 - s0) if s1 > s0 else e0
                r["matched_change"] = r["e_warp"] / e_naive - 1
                r["matched_naive"] = e_naive
        what = ("per frame" if r["momentum"] is None else f"EMA m={r['momentum']}") + (
            f" + blend β={r['blend']}" if r["blend"] else "")
        if r["matched_change"] is None:
            print(f"    {what:28s} style distance {sd:.4g}: outside the per-frame curve (add smaller --alphas)")
        else:
            print(f"    {what:28s} style distance {sd:.4g}: E_warp {r['e_warp']:.5f} against {r['matched_naive']:.5f} "
                  f"per frame at that style distance: {r['matched_change']:+.1%}", flush=True)


def _sharpness(x: torch.Tensor) -> float:
    """Mean absolute difference of neighbouring pixels (rows and columns)."""
    return float((x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., 1:] - x[..., :-1]).abs().mean())


def measure(out, naive, unblended, flow, style, enc, rows) -> dict:
    """The figures of one row (module docstring); changes are against the clip's naive row (the first of ``rows``
    for this clip and method, or ``out`` itself)."""
    e = warping.warping_error(out, flow)
    with torch.no_grad():
        sd = float(evaluation.style_distance(out, style, enc).mean())
    e0, sd0 = (e, sd) if out is naive else (rows[-1 - _since_naive(rows)]["e_warp"],
                                             rows[-1 - _since_naive(rows)]["style_distance"])
    clamp = out.clamp(0, 1)
    return {"e_warp": e, "change": None if out is naive else e / e0 - 1, "style_distance": sd,
            "style_change": sd / sd0 - 1, "ssim_naive": float(evaluation.ssim(clamp, naive).mean()),
            "ssim_unblended": float(evaluation.ssim(clamp, unblended).mean()),
            "sharpness": _sharpness(out) / _sharpness(naive)}


def _variant(r) -> str:
    tag = "per frame" if r["momentum"] is None else f"EMA m={r['momentum']}"
    return tag + (f"\n+ flow blend β={r['blend']}" if r.get("blend") else "")


def plot(rows, examples, args, enc) -> None:
    """Per clip: E_warp against the style-distance change of every variant (one curve per method and
    statistics, β along it), and the last frames of the naive and the steadiest variant of the first method
    (frames only when computed, not with ``--plot-from``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clips_ = list(dict.fromkeys(r["clip"] for r in rows))
    with_frames = bool(examples)
    fig, axes = plt.subplots(len(clips_), 3 if with_frames else 1, figsize=(13 if with_frames else 7, 3.4 * len(clips_)),
                             squeeze=False, gridspec_kw={"width_ratios": [2.2, 1, 1]} if with_frames else None)
    colours = ["tab:red", "tab:blue", "tab:orange", "tab:green"]
    for row_axes, c in zip(axes, clips_):
        ax = row_axes[0]
        sel = [r for r in rows if r["clip"] == c]
        k = 0
        for m in dict.fromkeys(r["method"] for r in sel):  # one curve per method and statistics: β grows along it
            for mom in dict.fromkeys(r["momentum"] for r in sel if r["method"] == m):
                pts = sorted((r for r in sel if r["method"] == m and r["momentum"] == mom
                              and r.get("alpha", 1.0) == 1.0), key=lambda r: r.get("blend") or 0)
                ax.plot([100 * r["style_change"] for r in pts], [r["e_warp"] for r in pts], "o-",
                        color=colours[k % 4], label=f"{m.upper()}, {'per frame' if mom is None else f'EMA m={mom}'}")
                for r in pts:
                    ax.annotate(f"β={r['blend']}" if r.get("blend") else "no blend",
                                (100 * r["style_change"], r["e_warp"]), fontsize=6, xytext=(4, 3),
                                textcoords="offset points")
                k += 1
        for m in dict.fromkeys(r["method"] for r in sel):  # per frame with less style (α < 1): the iso-style reference
            pts = sorted((r for r in sel if r["method"] == m and r["momentum"] is None and not r.get("blend")),
                         key=lambda r: r["style_change"])
            if len(pts) > 1:
                ax.plot([100 * r["style_change"] for r in pts], [r["e_warp"] for r in pts], "s--", color="grey",
                        ms=3, lw=0.9, label=f"{m.upper()}, per frame, α = 1 … {min(r.get('alpha', 1.0) for r in pts):g}")
                for r in pts:
                    if r.get("alpha", 1.0) < 1:
                        ax.annotate(f"α={r['alpha']:g}", (100 * r["style_change"], r["e_warp"]), fontsize=6,
                                    xytext=(4, -8), textcoords="offset points", color="grey")
        naive = next(r for r in sel if _is_naive(r))
        ax.axhline(0.7 * naive["e_warp"], color="grey", lw=0.8, ls="--")
        ax.axvspan(-5, 5, color="grey", alpha=0.12)
        ax.text(5.5, 0.7 * naive["e_warp"], "−30 % of per-frame E_warp at α = 1", fontsize=6, va="bottom")
        if any(r.get("matched_change") is not None for r in sel):
            ax.text(0.99, 0.02, "a row is compared with the grey curve at its own style distance\n(per frame with less "
                    "style: the same style distance, BENCHMARKS.md)", transform=ax.transAxes, fontsize=6,
                    ha="right", va="bottom", color="dimgrey")
        ax.set_xlabel("style distance change against per-frame output (%)")
        ax.set_ylabel("warping error E_warp")
        ax.legend(fontsize=7)
        ax.set_title(f"{c}: {sel[0]['frames']} frames {sel[0]['size'][0]}×{sel[0]['size'][1]}", fontsize=9)
        if with_frames:
            first = sel[0]["method"]
            best = min((r for r in sel if r["method"] == first and r.get("alpha", 1.0) == 1.0), key=lambda r: r["e_warp"])
            for a, key, what in ((row_axes[1], (c, first, None, None), "per frame"),
                                 (row_axes[2], (c, first, best["momentum"], best["blend"]), _variant(best))):
                a.imshow(torch.cat([examples[key][-2], examples[key][-1]], -1).clamp(0, 1).permute(1, 2, 0))
                a.set_title(f"{first.upper()}, {what.replace(chr(10), ' ')}: last two frames", fontsize=7)
                a.axis("off")
    nets = sorted({r["network"] for r in rows})
    fig.suptitle("Flicker along the input's TV-L1 flow (lower is steadier); the blend uses its own Lucas–Kanade "
                 "flow. Networks: " + "; ".join(nets), fontsize=7, wrap=True)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    sys.exit(main())
