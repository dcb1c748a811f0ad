"""Notebook 09's methods beside AdaIN, pixel WCT and WCT²: SSIM (structure kept) and Gram style distance (style taken).

    python benchmarks/bench_after_wct2.py                 # the four photo pairs of the course, 256 px
    python benchmarks/bench_after_wct2.py --size 384 --pairs mountains:sunset

For each photo pair of the course (content, photographic style, both resized to ``--size``
square) every method stylises once; the table gives the mean over the pairs of
SSIM(content, output) (``stylelab.features.evaluation.ssim``: Gaussian window σ = 1.5) and the Gram style
distance (``stylelab.features.evaluation.style_distance``, relu1_1 … relu5_1) on the course's trained
network (``stylelab.course.feature_network``: VGG-19 when installed, else the offline VGG-16,
named in the output) and on the pixels (the colour Gram), plus the seconds of one call.
Network methods run on what ``from_official`` finds, else on the course's **stand-ins**
(``stylelab.course.standin``: decoders trained on the course images for a fixed-seed random encoder,
not the published models) — the header says which. Time and memory against resolution:
``stylelab bench --methods adain efdm wct2 colour-map pixel-efdm pixel-colour-map``.
"""

from __future__ import annotations

import argparse
import time

import torch

from stylelab import course, metrics, weights
from stylelab.features import evaluation
from stylelab.media import data
from stylelab.features import efdm, transforms
from stylelab.course import standin
from stylelab.methods.adain import AdaIN
from stylelab.methods.colour_map import ColourMap
from stylelab.methods.efdm import EFDM
from stylelab.methods.wct2 import WCT2


def _model(cls, name):
    m = cls.from_official(random=True)
    return (m, "published") if m.pretrained else (standin.model(name), "stand-in")


def parse_pair_arguments(description: str):
    """``--size``, ``--pairs content:style …`` (the course photo pairs) and ``--threads``; sets torch's threads."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--pairs", nargs="+", default=["mountains:sunset", "mountains:autumn", "rocket:storm",
                                                   "mountains:night"])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    return args


def measure(methods: dict, pairs, size: int, scores) -> dict:
    """``{name: [(*scores(c, s, out), seconds) per pair]}`` for ``methods`` ``{name: fn(c, s) -> out}`` on the
    ``content:style`` ``pairs`` loaded at ``size`` px square (each ``fn`` timed, without gradients)."""
    rows = {name: [] for name in methods}
    for pair in pairs:
        cname, sname = pair.split(":")
        c = data.load(cname, size=(size, size))
        s = data.load(sname, size=(size, size))
        for name, fn in methods.items():
            t0 = time.perf_counter()
            with torch.no_grad():
                out = fn(c, s)
            dt = time.perf_counter() - t0
            rows[name].append((*scores(c, s, out), dt))
    return rows


def print_means(rows: dict, header: str, formats) -> None:
    """A markdown table of each row's mean over the pairs: ``header`` (``| method | … |``), one format per column."""
    print(header)
    print("|---" * header.count(" | ") + "|---|")
    for name, vals in rows.items():
        means = [sum(v[i] for v in vals) / len(vals) for i in range(len(formats))]
        print(f"| {name} | " + " | ".join(format(m, f) for m, f in zip(means, formats)) + " |")


def main() -> int:
    args = parse_pair_arguments(__doc__.splitlines()[0])
    import warnings

    warnings.filterwarnings("ignore", category=weights.RandomWeightsWarning)
    adain_m, adain_w = _model(AdaIN, "adain")
    wct2_m, wct2_w = _model(WCT2, "wct2")
    vgg = course.feature_network("relu5_1")
    methods = {
        "pixel AdaIN": lambda c, s: transforms.adain(c, s).clamp(0, 1),
        "pixel WCT": lambda c, s: transforms.wct(c, s).clamp(0, 1),
        "pixel WCT, Cholesky": lambda c, s: transforms.wct(c, s, whitening="cholesky").clamp(0, 1),
        "pixel EFDM": lambda c, s: efdm.efdm(c, s),
        "colour map (pixel-WCT thumbnail)": ColourMap.from_official("pixel-wct").stylize,
        f"AdaIN ({adain_w})": lambda c, s: adain_m.stylize(c, s)[..., : c.shape[-2], : c.shape[-1]],
        f"EFDM ({adain_w} AdaIN pair)": EFDM.from_model(adain_m).stylize,
        f"WCT² ({wct2_w})": lambda c, s: wct2_m.stylize(c, s)[..., : c.shape[-2], : c.shape[-1]].clamp(0, 1),
        f"colour map (WCT² {wct2_w} thumbnail)": ColourMap.from_model(wct2_m, "WCT²").stylize,
    }
    methods = {"content itself": lambda c, s: c, "style itself": lambda c, s: s, **methods}
    rows = measure(methods, args.pairs, args.size, lambda c, s, out: (
        evaluation.ssim(c, out).item(), evaluation.style_distance(out, s, encoder=vgg).item(),
        evaluation.style_distance(out, s).item()))
    print(f"# {args.size} px, pairs {', '.join(args.pairs)}; style distance on {vgg.network}; "
          f"{args.threads} thread(s); torch {torch.__version__}")
    print_means(rows, f"| method | SSIM(content, out) ↑ | Gram distance, {vgg.tag} ↓ | Gram distance, pixels ↓ | seconds |",
                (".3f", ".3g", ".3g", ".3f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
