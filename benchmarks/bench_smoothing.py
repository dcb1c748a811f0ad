"""Closed-form smoothing: stylelab's solvers against the reference's sparse direct solve, side by side.

    python benchmarks/bench_smoothing.py                               # CPU: 256 512 768 1024 px
    python benchmarks/bench_smoothing.py --sizes 256 512 --direct-max 512
    python benchmarks/bench_smoothing.py --sizes 2048x1536 4000x3000 --solvers mg --direct-max 0
    python benchmarks/bench_smoothing.py --sizes 2048 --solvers mg --reference-max 2048   # error at 4 MP
    python benchmarks/bench_smoothing.py --device cuda --sizes 512 1024 2048 4096 --solvers mg cg

Every size runs the chosen solvers on the same pair, in one process:

* ``mg``: multigrid-preconditioned CG (``smooth(mode="mg")``; stops at an estimated
  largest pixel error ``--atol``, default 1e-3, or at relative residual ``--tol``);
* ``ilu``: ILU-preconditioned CG (``mode="ilu"``, residual 1e-6; CPU, up to ``--ilu-max``);
* ``cg``: the matrix-free coarse-to-fine Jacobi CG (``mode="cg"``; slow on CPU);
* ``direct``: SciPy's ``factorized`` on the same matrix (the reference's method,
  up to ``--direct-max`` because its memory grows like N^1.5).

Columns: wall seconds, CPU seconds of this process (``time.process_time``:
on a shared machine the wall time also counts other jobs), CG iterations,
final relative residual, peak memory added
(``stylelab.metrics.measure``: CUDA allocator peak, or sampled RSS on CPU),
and against the direct solve (where it ran) the speed-up, the largest absolute
difference and the relative L2 error ‖r − r_direct‖/‖r_direct‖; above ``--direct-max``,
up to ``--reference-max``, the differences are to a tight multigrid solve ("vs tight":
float64 stencil, relative residual 1e-11: 1.4e-8 from the direct solve at 512²). Sizes are
``N`` (square) or ``WxH``. ``--threads 1`` is what makes timings meaningful on
a CPU shared with other jobs: torch's intra-op threads otherwise spin against
the other processes (on this 2-core machine at load ≈ 20 an ``addcmul_`` took
35 ms with 2 threads and 0.24 ms with 1).
Published figures to beat (FastPhotoStyle, Titan X): 40 s at 512 px, 102 s at
768 px, out of memory at 1024 px.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import torch


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return (int(h or w), int(w))


def _pair(hw, device, dtype):
    """The course photo 'astronaut' at H×W and a synthetic 'stylised' version of it (colours swapped, noise)."""
    from stylelab.media import data
    from stylelab.io import resize

    c = resize(data.load("astronaut", device=device), hw).to(dtype).clamp(0, 1)
    g = torch.Generator(device="cpu").manual_seed(0)
    noise = torch.randn(c.shape, generator=g, dtype=torch.float32).to(device, dtype)
    y = (c.flip(1) * 0.7 + 0.2 + 0.05 * noise).clamp(0, 1)
    return y, c


def main(argv=None) -> int:
    from stylelab import smoothing as S
    from stylelab.device import get_device
    from stylelab.metrics import measure

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["256", "512", "768", "1024"], help="N or WxH")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--solvers", nargs="+", default=["mg", "ilu", "direct"], choices=["mg", "ilu", "cg", "direct"])
    ap.add_argument("--direct-max", type=int, default=512, help="largest side for the direct solve (CPU)")
    ap.add_argument("--ilu-max", type=int, default=1024, help="largest side for the ILU solver")
    ap.add_argument("--reference-max", type=int, default=0,
                    help="above --direct-max and up to this side, compare with a tight multigrid solve instead "
                         "(float64 stencil, all channels at once, relative residual 1e-11; default 0: none)")
    ap.add_argument("--tol", type=float, default=None, help="relative residual of the multigrid CG (default: --atol)")
    ap.add_argument("--atol", type=float, default=None, help="largest pixel error of the multigrid CG (default 1e-3)")
    ap.add_argument("--beta", type=float, default=0.9999)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (1 on a shared CPU)")
    ap.add_argument("--keep-freed", action="store_true",
                    help="the C heap keeps freed memory (stylelab.allocator, STYLELAB_KEEP_FREED=1 for the stylelab "
                         "command); every solver runs under the same policy")
    args = ap.parse_args(argv)
    if args.keep_freed:
        from stylelab.allocator import keep_freed_memory

        keep_freed_memory()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device(args.device)
    dtype = torch.float32 if device.type == "mps" else torch.float64
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"device {device}, threads {torch.get_num_threads()}, heap keeps freed memory {args.keep_freed}, "
          f"beta {args.beta}, dtype {dtype}, "
          f"mg tol {args.tol} atol {args.atol or (1e-3 if args.tol is None else None)}, load average {load:.1f}")
    head = (f"{'size':>10} {'solver':>7} {'seconds':>8} {'cpu s':>7} {'iters':>6} {'residual':>9} {'peak MiB':>9} "
            f"{'speed-up':>8} {'(cpu)':>8} {'max|Δ|':>9} {'rel err':>9}")
    print(head)
    print("-" * len(head))
    for text in args.sizes:
        hw = _size(text)
        y, c = _pair(hw, device, dtype)
        rows, direct = [], None
        for solver in sorted(args.solvers, key=lambda s: s != "direct"):  # direct first: the others compare to it
            if solver == "direct" and (max(hw) > args.direct_max or device.type != "cpu"):
                continue
            if solver == "ilu" and (max(hw) > args.ilu_max or device.type != "cpu"):
                continue
            kw = dict(mode=solver, clamp=False, return_info=True)
            if solver == "mg":
                kw.update(tol=args.tol, atol=args.atol)
            cpu = time.process_time()
            m = measure(S.smooth, y, c, args.beta, device=device, **kw)
            m.cpu = time.process_time() - cpu
            out, info = m.result
            if solver == "direct":
                direct = out
            rows.append((solver, m, out, info))
        tight = None
        if direct is None and max(hw) <= args.reference_max:  # the direct solve is out of reach: a tight solve
            from stylelab.smoothing.solvers import solve_multigrid

            tight = solve_multigrid(y, c, args.beta, tol=1e-11, memory_first=False, channels_at_once=True)
        for solver, m, out, info in rows:
            its = "+".join(str(i) for i in info.iterations) or "-"
            if tight is not None:
                diff = (out - tight).abs().max().item()
                rel = ((out - tight).norm() / tight.norm()).item()
                cmp = f"{'vs tight':>8} {'':>8} {diff:>9.1e} {rel:>9.1e}"
            elif direct is not None and solver != "direct":
                d = next(r[1] for r in rows if r[0] == "direct")
                diff = (out - direct).abs().max().item()
                rel = ((out - direct).norm() / direct.norm()).item()
                cmp = f"{d.seconds / m.seconds:>7.1f}× {d.cpu / m.cpu:>7.1f}× {diff:>9.1e} {rel:>9.1e}"
            else:
                cmp = f"{'':>8} {'':>8} {'':>9} {'':>9}"
            peak = f"{m.peak_mib:>9.0f}" if m.peak_mib is not None else f"{'?':>9}"
            print(f"{hw[1]}x{hw[0]:<5} {solver:>7} {m.seconds:>8.2f} {m.cpu:>7.2f} {its:>6} {info.residual:>9.1e} {peak} {cmp}", flush=True)
        del rows, direct, y, c
    if hasattr(os, "getloadavg"):
        # ru_maxrss is the kernel's high-water mark, which PeakMemory resets at every measured cell: since the last
        # cell began, not over the whole run (and so is the maximum /usr/bin/time reports for this process)
        print(f"load average at the end {os.getloadavg()[0]:.1f}; peak RSS since the last cell began "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
