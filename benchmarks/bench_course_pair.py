"""Quality of the ``vgg16-course`` pair (:mod:`stylelab.nets.course_pair`) on photos it never saw.

Prints Markdown tables (the BENCHMARKS.md section) and draws the training loss curves:

* reconstruction at α = 0 (content only) of every shipped decoder: PSNR and SSIM
  (:func:`stylelab.features.evaluation.ssim`) on the course's content photos (``data/content``: never
  trained on), shorter side 256 and 512 px;
* style statistics after AdaIN and WCT (α = 1): Gram distance (:func:`stylelab.features.evaluation.style_distance`,
  relu1_1 … relu5_1 of the same offline VGG-16) from the output to the style, next to the content's;
* PhotoWCT and WCT² on the pair: SSIM of the output to the content.

    python benchmarks/bench_course_pair.py            # tables, data/decoders/vgg16-course-curves.png
    python benchmarks/bench_course_pair.py --sizes 256
    python benchmarks/bench_course_pair.py --probe    # how much colour a linear read-out finds in relu4_1
"""

from __future__ import annotations

import argparse
import math

import torch
import torch.nn.functional as F

from stylelab.nets import course_pair as CP
from stylelab.media import data
from stylelab.features.evaluation import ssim, style_distance
from stylelab.methods.adain import AdaIN
from stylelab.methods.photowct import PhotoWCT
from stylelab.methods.wct import WCT
from stylelab.methods.wct2 import WCT2

PAIRS = (("chelsea", "sunset"), ("mountains", "mosaic"), ("coffee", "brushstrokes"))


def psnr(x: torch.Tensor, y: torch.Tensor) -> float:
    """``10 log10(1 / MSE)`` for images in [0, 1] (``x`` clamped)."""
    return float(-10 * torch.log10(F.mse_loss(x.clamp(0, 1), y)))


def reconstruct(job: str, image: torch.Tensor) -> torch.Tensor:
    """``g(φ(x))`` for the decoder ``job`` of the pair (α = 0: the content only)."""
    with torch.no_grad():
        if job.startswith("wct2_"):
            return CP_model("wct2").reconstruct(image)
        unpool, level = job[:-1], int(job[-1])
        enc = CP.encoder(f"relu{level}_1", photowct=unpool == "max", device="cpu")
        f = enc(image, layers=f"relu{level}_1", switches=unpool == "max")
        dec = CP.decoder(job, "cpu")
        out = dec(f[f"relu{level}_1"], f.switches) if unpool == "max" else dec(f[f"relu{level}_1"])
        return out[..., : image.shape[-2], : image.shape[-1]]


_models: dict = {}


def CP_model(method: str):
    build = {"adain": AdaIN, "wct": WCT, "photowct": PhotoWCT, "wct2": WCT2}[method]
    if method not in _models:
        _models[method] = build.from_official(CP.NAME, device="cpu") if method == "photowct" else \
            build.from_official(weights=CP.NAME, device="cpu")
    return _models[method]


def reconstruction_rows(sizes) -> list[str]:
    jobs = [j for j in CP.manifest().get("decoders", {}) if CP.decoder_path(j).is_file()]
    names = data.names("content")
    rows = ["| decoder | layer | width | steps (crop, batch) | minutes | "
            + " | ".join(f"PSNR {s} px | SSIM {s} px" for s in sizes) + " |",
            "|---|---|---|---|---|" + "---|---|" * len(sizes)]
    for job in jobs:
        m = CP.manifest()["decoders"][job]
        cells = []
        for size in sizes:
            p, s = [], []
            for name in names:
                x = data.load(name, size=size)
                y = reconstruct(job, x)
                p.append(psnr(y, x))
                s.append(float(ssim(y.clamp(0, 1).double(), x.double())))
            cells += [f"{sum(p) / len(p):.1f} dB ({min(p):.1f}–{max(p):.1f})", f"{sum(s) / len(s):.3f}"]
        recipe = f"{m.get('steps_total', m['steps'])} ({m.get('crop', 64)} px, {m['batch']})"
        rows.append(f"| `{m['file']}` | {m['layer']} | 1/{m['width']} ({m['parameters'] / 1e6:.2g} M) | {recipe} | "
                    f"{m['seconds'] / 60:.0f} | " + " | ".join(cells) + " |")
    return rows


def style_rows(size: int) -> list[str]:
    enc = CP.encoder("relu5_1", device="cpu")
    rows = ["| method | content → style | Gram distance content–style | output–style | SSIM output–content |",
            "|---|---|---|---|---|"]
    for method in ("adain", "wct", "photowct", "wct2"):
        if not CP.available(method):
            rows.append(f"| {method} | — | decoder files missing | | |")
            continue
        model = CP_model(method)
        for c_name, s_name in PAIRS:
            c, s = data.load(c_name, size=size), data.load(s_name, size=size)
            with torch.no_grad():
                out = model.stylize(c, s).clamp(0, 1)[..., : c.shape[-2], : c.shape[-1]]
                d_c = float(style_distance(c, s, encoder=enc))
                d_o = float(style_distance(out, s, encoder=enc))
            rows.append(f"| {method} | {c_name} → {s_name} | {d_c:.3g} | {d_o:.3g} | "
                        f"{float(ssim(out.double(), c.double())):.3f} |")
    return rows


def probe_rows(layer: str = "relu4_1", crop: int = 128, per_image: int = 32, ridge: float = 1e2) -> list[str]:
    """How much colour a LINEAR read-out finds in ``layer``: ridge regression from each position's features (its own,
    or its 3×3 neighbourhood's) to the mean colour of the pixels it covers, fitted on the training crops of the
    pair's photos and scored on the held-out course photos (upsampled bilinearly to full size, PSNR at 256 px).
    "low-pass" is the ceiling of that read-out: the photo's own block means, upsampled the same way."""
    from pathlib import Path

    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "train_vgg16_decoders", Path(__file__).resolve().parent.parent / "tools" / "train_vgg16_decoders.py")
    T = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(T)
    enc = CP.encoder(layer, device="cpu")
    images = T.crops(CP.training_photos(Path.home() / ".cache" / "stylelab" / "vgg16-course" / "debs"),
                     per_image, size=crop)
    with torch.no_grad():
        f = torch.cat([enc(images[i:i + 64], layers=layer)[layer] for i in range(0, len(images), 64)])

    def design(g, k):
        u = F.unfold(F.pad(g, (k // 2,) * 4, mode="reflect"), k) if k > 1 else g.flatten(2)
        X = u.transpose(1, 2).reshape(-1, u.shape[1]).double()
        return torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], 1)

    rows = [f"| read-out of {layer} | training crops (block means) | held-out photos, 256 px | low-pass ceiling |",
            "|---|---|---|---|"]
    target = F.adaptive_avg_pool2d(images, f.shape[-2:])  # the mean colour under each position

    def pieces(k):  # the normal equations in pieces of 64 crops: the whole X is 10 GB at k = 3
        for i in range(0, len(f), 64):
            yield design(f[i:i + 64], k), target[i:i + 64].permute(0, 2, 3, 1).reshape(-1, 3).double()

    held_out = []  # (photo, its features, its own block means upsampled: the ceiling)
    for name in data.names("content"):
        x = data.load(name, size=256)
        with torch.no_grad():
            g = enc(x, layers=layer)[layer]
        held_out.append((x, g, F.interpolate(F.adaptive_avg_pool2d(x, g.shape[-2:]), size=x.shape[-2:], mode="bilinear")))
    ceiling = [psnr(low, x) for x, _, low in held_out]
    for k in (1, 3):
        d = f.shape[1] * k * k + 1
        XtX, XtY = torch.zeros(d, d, dtype=torch.double), torch.zeros(d, 3, dtype=torch.double)
        for X, Y in pieces(k):
            XtX += X.T @ X
            XtY += X.T @ Y
        B = torch.linalg.solve(XtX + ridge * torch.eye(d, dtype=torch.double), XtY)
        sse = n = 0.0
        for X, Y in pieces(k):
            sse, n = sse + float(((X @ B - Y) ** 2).sum()), n + Y.numel()
        train = -10 * math.log10(sse / n)
        held = []
        for x, g, _ in held_out:
            P = (design(g, k) @ B).float().view(1, *g.shape[-2:], 3).permute(0, 3, 1, 2)
            held.append(psnr(F.interpolate(P, size=x.shape[-2:], mode="bilinear"), x))
        rows.append(f"| linear, {k}×{k} positions (ridge {ridge:g}) | {train:.1f} dB | "
                    f"{sum(held) / len(held):.1f} dB ({min(held):.1f}–{max(held):.1f}) | "
                    f"{sum(ceiling) / len(ceiling):.1f} dB |")
    return rows


def curves(path) -> None:
    """The training loss (pixel MSE as PSNR on the training crops) of every decoder, from the manifest."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for job, m in CP.manifest().get("decoders", {}).items():
        c = m["curve"]
        ax.plot(c["step"], [-10 * math.log10(v) for v in c["pixel"]], lw=0.8,
                label=f"{job} ({m['layer']}, width 1/{m['width']}; held-out {m.get('held_out_psnr', float('nan')):.1f} dB)")
    ax.set_xlabel("step (recipes in data/decoders/vgg16-course.json: batch, crop, warm start)")
    ax.set_ylabel("training-batch PSNR (dB)")
    ax.set_title("vgg16-course decoders (encoder: offline ImageNet VGG-16, HED)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    p.add_argument("--style-size", type=int, default=256)
    p.add_argument("--probe", action="store_true",
                   help="only the linear read-out of relu4_1's colour (probe_rows): what a decoder can count on")
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.probe:
        print("\n".join(probe_rows()))
        return
    print(f"{CP.label()}\n")
    print("\n".join(reconstruction_rows(args.sizes)) + "\n")
    print("\n".join(style_rows(args.style_size)) + "\n")
    curves(CP.manifest_path().with_name("vgg16-course-curves.png"))


if __name__ == "__main__":
    main()
