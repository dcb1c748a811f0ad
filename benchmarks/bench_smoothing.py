"""Closed-form smoothing: stylelab's solvers against the reference's sparse direct solve, side by side.

    python benchmarks/bench_smoothing.py                     # CPU: 256 512 768 1024 px
    python benchmarks/bench_smoothing.py --sizes 256 512 --direct-max 512
    python benchmarks/bench_smoothing.py --device cuda --sizes 512 1024 2048 4096

On CPU, "stylelab" is ``smooth(mode="auto")`` = ILU-preconditioned CG (float64);
"direct" is SciPy's ``factorized`` on the same matrix (the reference's method,
run only up to ``--direct-max`` px because its memory grows like N^1.5).
On a GPU, "stylelab" is the matrix-free coarse-to-fine CG with peak GPU memory.
Published figures to beat (FastPhotoStyle, Titan X): 40 s at 512 px, 102 s at
768 px, out of memory at 1024 px.
"""

from __future__ import annotations

import argparse
import resource

import torch


def _pair(size: int, device, dtype):
    from stylelab import data

    c = data.load("astronaut", size=size, device=device).to(dtype)
    g = torch.Generator(device="cpu").manual_seed(0)
    noise = torch.randn(c.shape, generator=g, dtype=torch.float64).to(device, dtype)
    y = (c.flip(1) * 0.7 + 0.2 + 0.05 * noise).clamp(0, 1)
    return y, c


def _timed(fn, device):
    from stylelab.metrics import measure

    m = measure(fn, device=device)
    return m.result, m.seconds


def main(argv=None) -> int:
    from stylelab import smoothing as S
    from stylelab.device import get_device

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 768, 1024])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--direct-max", type=int, default=512, help="largest size for the direct solve (CPU)")
    ap.add_argument("--beta", type=float, default=0.9999)
    args = ap.parse_args(argv)
    device = get_device(args.device)
    dtype = torch.float32 if device.type == "mps" else torch.float64
    print(f"device {device}, threads {torch.get_num_threads()}, beta {args.beta}, dtype {dtype}")
    head = f"{'size':>6} {'pixels':>9} {'stylelab s':>10} {'solver':>10} {'iters':>8} {'residual':>9} {'direct s':>9} {'speed-up':>8} {'max|Δ|':>9} {'gif s':>7} {'peak MB':>9}"
    print(head)
    print("-" * len(head))
    for size in args.sizes:
        y, c = _pair(size, device, dtype)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        (out, info), t_ours = _timed(lambda: S.smooth(y, c, args.beta, clamp=False, return_info=True), device)
        if device.type == "cuda":
            peak = torch.cuda.max_memory_allocated(device) / 2**20
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process peak so far
        _, t_gif = _timed(lambda: S.smooth(y, c, mode="gif"), device)
        t_direct, diff = float("nan"), float("nan")
        if size <= args.direct_max:
            direct, t_direct = _timed(lambda: S.solve_direct(y, c, args.beta), device)
            diff = (out - direct).abs().max().item()
        its = "+".join(str(i) for i in info.iterations)
        print(f"{size:>6} {y.shape[-1] * y.shape[-2]:>9} {t_ours:>10.2f} {info.mode:>10} {its:>8} {info.residual:>9.1e} "
              f"{t_direct:>9.2f} {t_direct / t_ours:>7.1f}× {diff:>9.1e} {t_gif:>7.2f} {peak:>9.0f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
