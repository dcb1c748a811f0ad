"""CAP-VSTNet's reversible network, untrained against trained: photorealism (matting Laplacian), style, structure.

    python benchmarks/bench_capvst.py                      # the four photo pairs of the course, 256 px
    python benchmarks/bench_capvst.py --size 128 --pairs mountains:sunset

For each held-out photo pair of the course (content, photographic style, both resized to ``--size``
square; none of them a training photo of the shipped network) every method stylises once; the table
gives the mean over the pairs of the matting-Laplacian loss of the output
(:func:`stylelab.methods.capvst.matting_loss`: ``1/(H·W) Σ_k o_kᵀ 𝓛(c) o_k``, lower = more photorealistic),
the Gram style distance on the offline ImageNet VGG-16 (``stylelab.features.evaluation.style_distance``,
relu1_1 … relu5_1; lower = more of the style taken), SSIM(content, output) and the seconds of one call.
Rows: the reversible network at random init (:meth:`CAPVST.untrained`, seed 0), the trained one shipped in
``data/decoders/capvst_reversible.pt``, pixel WCT (ZCA and Cholesky) and PhotoWCT on the course pair
``vgg16-course`` (trained decoders for VGG-16, not the paper's model), without smoothing.
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch

from stylelab import weights
from stylelab.features import evaluation, transforms
from stylelab.media import data
from stylelab.methods.capvst import CAPVST, matting_loss
from stylelab.methods.photowct import PhotoWCT
from stylelab.nets import encoders


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--pairs", nargs="+", default=["mountains:sunset", "mountains:autumn", "rocket:storm",
                                                   "mountains:night"])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=weights.RandomWeightsWarning)
    vgg = encoders.vgg16(last_layer="relu5_1", device="cpu")
    untrained, trained = CAPVST.untrained(0, device="cpu"), CAPVST.from_file(device="cpu")
    photowct = PhotoWCT.from_official("vgg16-course", device="cpu")
    methods = {
        f"CAP-VSTNet, {untrained.tag}": untrained.stylize,
        f"CAP-VSTNet, {trained.tag}": trained.stylize,
        "pixel WCT": lambda c, s: transforms.wct(c, s).clamp(0, 1),
        "pixel WCT, Cholesky": lambda c, s: transforms.wct(c, s, whitening="cholesky").clamp(0, 1),
        "PhotoWCT (vgg16-course, no smoothing)": lambda c, s: photowct.stylize(c, s)[..., :c.shape[-2], :c.shape[-1]].clamp(0, 1),
    }
    rows = {name: [] for name in ["content itself", *methods]}
    for pair in args.pairs:
        cname, sname = pair.split(":")
        c = data.load(cname, size=(args.size, args.size))
        s = data.load(sname, size=(args.size, args.size))
        for name in rows:
            t0 = time.perf_counter()
            with torch.no_grad():
                out = c if name == "content itself" else methods[name](c, s)
            dt = time.perf_counter() - t0
            rows[name].append((matting_loss(out, c).item(), evaluation.style_distance(out, s, encoder=vgg).item(),
                               evaluation.ssim(c, out).item(), dt))
    print(f"# {args.size} px, pairs {', '.join(args.pairs)}; style distance on the offline VGG-16; "
          f"{args.threads} thread(s); torch {torch.__version__}")
    print("| method | matting-Laplacian loss ↓ | Gram distance, VGG-16 ↓ | SSIM(content, out) ↑ | seconds |")
    print("|---|---|---|---|---|")
    for name, vals in rows.items():
        m = [sum(v[i] for v in vals) / len(vals) for i in range(4)]
        print(f"| {name} | {m[0]:.3g} | {m[1]:.3g} | {m[2]:.3f} | {m[3]:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
