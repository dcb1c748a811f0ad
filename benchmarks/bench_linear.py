"""The linear transform (Li et al., CVPR 2019) against exact WCT: covariance match on held-out pairs, and time.

    python benchmarks/bench_linear.py                       # train (CPU budget), evaluate, time
    python benchmarks/bench_linear.py --steps 20 --json rows.json

1. Training goes through the command itself, ``stylelab train --method linear FOLDER``
   (:func:`stylelab.cli.main`, i.e. :func:`stylelab.train.fit` on :class:`stylelab.methods.linear.LinearLoss`),
   on a folder of links to the course's **content photos and textures** (:data:`TRAIN`). A ``--steps 0``
   run first saves the initial transform; a copy of that file is resumed to ``--steps``, so the
   untrained and the trained transform start from the same weights.
2. Evaluation on **held-out pairs** that training never saw: each photographic style image as content,
   each artistic style image as style (:data:`HELD_OUT_CONTENT` × :data:`HELD_OUT_STYLE`, 16 pairs),
   both resized to ``--eval-size`` square, features at relu3_1 of the course's stand-in encoder
   (:func:`stylelab.course.standin.random_encoder`: fixed-seed random VGG-19, not the published one).
   Per pair and transform, on float64 copies of the outputs::

       covariance error  e_Σ   = ‖Σ(out) − Σ(F_s)‖_F / ‖Σ(F_s)‖_F           (stylelab.methods.linear.covariance_error)
       distance to WCT   d_WCT = ‖out − WCT(F_c, F_s)‖_F / ‖WCT(F_c, F_s)‖_F    (exact preset, float64)

   for the trained and the untrained transform, the content itself (identity), AdaIN (per-channel mean and
   standard deviation only, :func:`stylelab.features.transforms.adain`) and exact WCT (0 up to rounding: the
   check). The same on the training images paired as the loss pairs them (image ``i`` styled as ``i + 1``).
3. Seconds of one transfer at relu3_1 (features given) for ``--time-sizes`` px images: the linear
   transform (two small CNNs, an ``r × r`` product, no eigen-problem) beside WCT's two eigen-decompositions
   (exact preset in float64, and the official float32 preset), median of ``--repeats`` runs, same process.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stylelab.cli import main as stylelab_main  # noqa: E402
from stylelab.course import standin  # noqa: E402
from stylelab.features import transforms  # noqa: E402
from stylelab.media import data  # noqa: E402
from stylelab.methods import linear  # noqa: E402

#: Training images (course names): the content photos and the textures.
TRAIN = ("astronaut", "chelsea", "coffee", "mountains", "rocket", "brick", "grass", "gravel", "meadow")
#: Held-out pairs: every photographic style image as content, styled as every artistic one.
HELD_OUT_CONTENT = ("autumn", "night", "storm", "sunset")
HELD_OUT_STYLE = ("brushstrokes", "elephants", "mosaic", "pointillism")
METRICS = ("covariance_error", "wct_distance")


def train_folder(names, dest: Path) -> Path:
    """``dest`` holding a link (a copy where links fail) to each course image in ``names``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = data.path(name)
        target = dest / f"{name}{src.suffix}"
        if not target.exists():
            try:
                target.symlink_to(src)
            except OSError:
                shutil.copy(src, target)
    return dest


def train(folder, checkpoint: Path, steps: int, *, size: int = 128, resize: int = 256, batch_size: int = 8,
          lr: float = 1e-2, lr_decay: float = 5e-5, rank: int = 16, wct_weight: float = 1.0, seed: int = 0,
          init: Path | None = None) -> float:
    """``stylelab train --method linear folder`` to ``steps`` (resuming ``init``, copied to ``checkpoint``,
    when given); returns the seconds it took."""
    if init is not None:
        shutil.copy(init, checkpoint)
    argv = ["train", "--method", "linear", str(folder), "--steps", str(steps), "--seed", str(seed),
            "--checkpoint", str(checkpoint), "--size", str(size), "--resize", str(resize),
            "--batch-size", str(batch_size), "--lr", str(lr), "--lr-decay", str(lr_decay),
            "--rank", str(rank), "--wct-weight", str(wct_weight), "--save-every", str(max(steps, 1))]
    t0 = time.perf_counter()
    if stylelab_main(argv) != 0:
        raise RuntimeError(f"stylelab {' '.join(argv)} failed")
    return time.perf_counter() - t0


def load_transform(checkpoint) -> linear.LinearTransform:
    """The transform saved by ``stylelab train --method linear`` (the path ``stylelab transfer`` reads it by)."""
    return linear.LinearStyle.from_file(checkpoint, device="cpu").transform


def features(encoder, names, size: int) -> dict[str, torch.Tensor]:
    """relu3_1 features of course images resized to ``size × size``."""
    with torch.no_grad():
        return {n: encoder(data.load(n, size=(size, size)), layers=linear.LAYER)[linear.LAYER] for n in names}


def evaluate(candidates: dict, pairs: dict) -> list[dict]:
    """One row per (candidate, pair): ``covariance_error`` and ``wct_distance`` (module docstring).

    ``candidates``: name → ``f(content_feat, style_feat) -> out``; ``pairs``: name → ``(F_c, F_s)``,
    ``(1, C, H, W)`` each. Exact WCT (float64) is the reference for ``wct_distance``.
    """
    rows = []
    for pair, (fc, fs) in pairs.items():
        with torch.no_grad():
            ref = transforms.wct(fc.double(), fs.double(), preset="exact")
            for name, f in candidates.items():
                out = f(fc, fs).double()
                rows.append({"method": name, "pair": pair,
                             "covariance_error": linear.covariance_error(out, fs.double()).item(),
                             "wct_distance": ((out - ref).norm() / ref.norm()).item()})
    return rows


def candidates(trained, untrained) -> dict:
    return {"linear, trained": trained, "linear, untrained": untrained,
            "identity (content)": lambda c, s: c, "AdaIN (mean, std)": transforms.adain,
            "exact WCT": lambda c, s: transforms.wct(c.double(), s.double(), preset="exact")}


def summary(rows: list[dict]) -> list[dict]:
    """Mean and max over the pairs, per method (in the order the methods first appear)."""
    out = []
    for name in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == name]
        row = {"method": name, "pairs": len(mine)}
        for m in METRICS:
            row[f"{m}_mean"] = statistics.fmean(r[m] for r in mine)
            row[f"{m}_max"] = max(r[m] for r in mine)
        out.append(row)
    return out


def timing(transform, encoder, sizes, repeats: int) -> list[dict]:
    """Median seconds of one transfer at relu3_1 (features given) per image size."""
    rows = []
    fns = {"linear (matrix predicted)": transform,
           "WCT exact (float64 eigh ×2)": lambda c, s: transforms.wct(c, s, preset="exact"),
           "WCT official (float32 eigh ×2)": lambda c, s: transforms.wct(c, s, preset="official_wct")}
    for size in sizes:
        fc = features(encoder, [HELD_OUT_CONTENT[0]], size)[HELD_OUT_CONTENT[0]]
        fs = features(encoder, [HELD_OUT_STYLE[0]], size)[HELD_OUT_STYLE[0]]
        for name, f in fns.items():
            times = []
            with torch.no_grad():
                f(fc, fs)  # warm-up
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    f(fc, fs)
                    times.append(time.perf_counter() - t0)
            rows.append({"size": size, "features": f"{fc.shape[1]}×{fc.shape[2]}×{fc.shape[3]}", "method": name,
                         "seconds": statistics.median(times)})
    return rows


def _print_summary(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    print("| transform | pairs | covariance error, mean | max | distance to exact WCT, mean | max |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['method']} | {r['pairs']} | {r['covariance_error_mean']:.3g} | {r['covariance_error_max']:.3g} "
              f"| {r['wct_distance_mean']:.3g} | {r['wct_distance_max']:.3g} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=450, help="training steps (the CPU budget; default 450)")
    ap.add_argument("--size", type=int, default=128, help="training crop side (default 128)")
    ap.add_argument("--resize", type=int, default=256, help="shorter side before the crop (default 256)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--wct-weight", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-size", type=int, default=256, help="held-out images resized to this square (default 256)")
    ap.add_argument("--time-sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=None, help="where the folder and checkpoints go (default: a temporary one)")
    ap.add_argument("--json", type=Path, default=None, help="write all rows as JSON here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_linear_"))
    folder = train_folder(TRAIN, work / "train")
    opts = dict(size=args.size, resize=args.resize, batch_size=args.batch_size, lr=args.lr, rank=args.rank,
                wct_weight=args.wct_weight, seed=args.seed)
    train(folder, work / "init.ckpt", 0, **opts)
    seconds = train(folder, work / "trained.ckpt", args.steps, init=work / "init.ckpt", **opts)
    trained, untrained = load_transform(work / "trained.ckpt"), load_transform(work / "init.ckpt")
    history = torch.load(work / "trained.ckpt", map_location="cpu", weights_only=False)["history"]

    encoder = standin.random_encoder(linear.LAYER)
    held = features(encoder, HELD_OUT_CONTENT + HELD_OUT_STYLE, args.eval_size)
    held_pairs = {f"{c}:{s}": (held[c], held[s]) for c in HELD_OUT_CONTENT for s in HELD_OUT_STYLE}
    seen = features(encoder, TRAIN, args.eval_size)
    seen_pairs = {f"{a}:{b}": (seen[a], seen[b]) for a, b in zip(TRAIN, TRAIN[1:] + TRAIN[:1])}
    rows = evaluate(candidates(trained, untrained), held_pairs)
    seen_rows = evaluate(candidates(trained, untrained), seen_pairs)
    times = timing(trained, encoder, args.time_sizes, args.repeats)

    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    print(f"\n# {now}; {platform.machine()} {os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"{args.threads} thread(s); torch {torch.__version__}; encoder: {standin.LABEL}, relu3_1")
    print(f"# training: `stylelab train --method linear` on {', '.join(TRAIN)}: {args.steps} steps, batch "
          f"{args.batch_size}, {args.size} px crops of {args.resize} px, lr {args.lr}, rank {args.rank}, "
          f"λ {args.wct_weight}: {seconds:.0f} s")
    hist = " → ".join(f"{s}: {c:.3f}" for s, c in zip(history["step"], history["covariance"])
                      if s in (1, history["step"][-1]) or s % max(1, args.steps // 6) == 0)
    print(f"# training-batch covariance error (steps: value): {hist}")
    _print_summary(f"Held-out pairs ({'/'.join(HELD_OUT_CONTENT)} × {'/'.join(HELD_OUT_STYLE)}), "
                   f"{args.eval_size} px:", summary(rows))
    _print_summary(f"Training images, i styled as i + 1, {args.eval_size} px:", summary(seen_rows))
    print("\nSeconds per transfer at relu3_1 (features given; median of", args.repeats, "runs):")
    print("| image | features | " + " | ".join(dict.fromkeys(t["method"] for t in times)) + " |")
    print("|---|---|" + "---:|" * len(dict.fromkeys(t["method"] for t in times)))
    for size in args.time_sizes:
        mine = [t for t in times if t["size"] == size]
        print(f"| {size} px | {mine[0]['features']} | " + " | ".join(f"{t['seconds']:.4f}" for t in mine) + " |")
    if args.json:
        args.json.write_text(json.dumps({"argv": sys.argv[1:] if argv is None else list(argv), "date": now,
                                         "train_seconds": seconds, "history": history, "held_out": rows,
                                         "seen": seen_rows, "timing": times}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
