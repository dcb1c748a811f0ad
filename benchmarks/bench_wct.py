"""WCT on relu4_1 features: eigh against SVD, float32 against float64.

    .venv/bin/python benchmarks/bench_wct.py                      # CPU, 512 and 1024 px
    .venv/bin/python benchmarks/bench_wct.py --device cuda --sizes 512 1024 2048
    .venv/bin/python benchmarks/bench_wct.py --encode             # real (random-weight) VGG features

The features are those of ``relu4_1`` for a content and a style image of the
given shorter side: 512 channels × (side/8)² positions (4096 at 512 px,
16384 at 1024 px). By default they are synthetic (ReLU of correlated Gaussians,
with a few dead channels as in real ReLU features) so the encoder's cost does
not enter the timing; ``--encode`` uses the normalised VGG on random images.

Rows, measured side by side in one run on the same inputs: every combination
of ``method`` ∈ {eigh, svd} and ``compute_dtype`` ∈ {float32, float64} of
:func:`stylelab.features.transforms.wct` (preset ``exact`` regularisation, i.e. the
covariance, decomposition and products dominate). Reported: the median time of
``--repeat`` runs after a warm-up, the speed-up against ``svd/float64``
(PytorchWCT's choice) and the error of the output covariance relative to the
float64 eigh result (‖Cov(out) − Cov(ref)‖/‖Cov(ref)‖) so speed is never
bought with a silently wrong answer.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stylelab.features import transforms as T  # noqa: E402
from stylelab.features import linalg
from stylelab.device import describe, get_device  # noqa: E402
from stylelab.metrics import measure  # noqa: E402


def synthetic_relu4_1(side: int, seed: int, device) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    h = w = max(1, side // 8)
    mix = torch.randn(512, 64, generator=g) / 8  # correlated channels (rank-64 structure + noise)
    x = mix @ torch.randn(64, h * w, generator=g) + 0.3 * torch.randn(512, h * w, generator=g)
    x = torch.relu(x + 0.2)
    x[:8] = 0  # dead channels, as in real ReLU features
    return x.view(1, 512, h, w).to(device)


def encoded_relu4_1(side: int, seed: int, device) -> torch.Tensor:
    from stylelab.nets.encoders import normalised_vgg19

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = normalised_vgg19(weights="random", last_layer="relu4_1", device=device)
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(1, 3, side, side, generator=g).to(device)
    with torch.no_grad():
        return enc(img)["relu4_1"]


def timed(fn, device, repeat: int) -> tuple[float, torch.Tensor]:
    """Median seconds of ``repeat`` calls after one warm-up, and the output (:func:`stylelab.metrics.measure`)."""
    m = measure(fn, device=device, repeat=repeat, warmup=1)
    return m.seconds, m.result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[512, 1024], help="image shorter sides (px)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, mps (default cpu)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--encode", action="store_true", help="use random-weight VGG features instead of synthetic ones")
    args = p.parse_args(argv)
    device = get_device(args.device)
    dtypes = [torch.float32] + ([torch.float64] if device.type != "mps" else [])
    make = encoded_relu4_1 if args.encode else synthetic_relu4_1
    print(f"WCT on relu4_1 features — {describe(device)}, torch {torch.__version__}, median of {args.repeat}")
    header = f"{'image':>6} {'positions':>9} {'method':>6} {'dtype':>8} {'time (ms)':>10} {'vs svd/f64':>10} {'cov err':>9}"
    print(header)
    print("-" * len(header))
    for side in args.sizes:
        cf, sf = make(side, 0, device), make(side, 1, device)
        rows = {}
        for method in ("eigh", "svd"):
            for dt in dtypes:
                fn = lambda m=method, d=dt: T.wct(cf, sf, preset="exact", method=m, compute_dtype=d)  # noqa: E731
                rows[(method, dt)] = timed(fn, device, args.repeat)
        ref_cov = linalg.covariance(rows[("eigh", dtypes[-1])][1].double())[0]
        base = rows.get(("svd", torch.float64), rows[("svd", dtypes[-1])])[0]
        for (method, dt), (sec, out) in rows.items():
            err = float((linalg.covariance(out.double())[0] - ref_cov).norm() / ref_cov.norm())
            print(f"{side:>6} {cf.shape[2] * cf.shape[3]:>9} {method:>6} {str(dt).split('.')[-1]:>8} "
                  f"{sec * 1e3:>10.1f} {base / sec:>9.2f}× {err:>9.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
