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

import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_after_wct2 import measure, parse_pair_arguments, print_means  # noqa: E402
from stylelab import weights  # noqa: E402
from stylelab.features import evaluation, transforms
from stylelab.methods.capvst import CAPVST, matting_loss
from stylelab.methods.photowct import PhotoWCT
from stylelab.nets import encoders


def main() -> int:
    args = parse_pair_arguments(__doc__.splitlines()[0])
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
    methods = {"content itself": lambda c, s: c, **methods}
    rows = measure(methods, args.pairs, args.size, lambda c, s, out: (
        matting_loss(out, c).item(), evaluation.style_distance(out, s, encoder=vgg).item(),
        evaluation.ssim(c, out).item()))
    print(f"# {args.size} px, pairs {', '.join(args.pairs)}; style distance on the offline VGG-16; "
          f"{args.threads} thread(s); torch {torch.__version__}")
    print_means(rows, "| method | matting-Laplacian loss ↓ | Gram distance, VGG-16 ↓ | SSIM(content, out) ↑ | seconds |",
                (".3g", ".3g", ".3f", ".3f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
