"""Solvers of the closed-form smoothing system (Li et al., ECCV 2018), one per ``smooth`` mode.

Every solver computes, per colour channel, r = (1 − β)(I − βS)⁻¹ y with
S = D^{-1/2} W D^{-1/2} (W the matting affinity of the content, D = diag(W·1)).
The iterative ones solve the equivalent symmetric positive-definite system

    M z = (1 − β) D^{1/2} y,   M = D − βW = (1 − β) D + β L,   r = D^{1/2} z,

with L = D − W the matting Laplacian (:mod:`stylelab.smoothing.matting`). Which one to
use when, and what each costs, is in :mod:`stylelab.smoothing`'s docstring;
:func:`stylelab.smoothing.smooth` is the image-level entry point.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from .guided import local_affine
from .matting import MattingLaplacian, window_counts
from .multigrid import Multigrid, pcg
from .grid_stencil import BlockStencil
from ._sparse import SmoothInfo, solve_affinity, solve_cg, solve_direct, solve_ilu

__all__ = [
    "SmoothInfo", "solve_affinity", "solve_direct", "solve_ilu", "solve_cg", "solve_multigrid",
    "solve_pyramid",
]

def solve_multigrid(
    y: torch.Tensor,
    content: torch.Tensor,
    beta: float = 0.9999,
    eps: float = 1e-7,
    radius: int = 1,
    *,
    tol: float | None = None,
    atol: float | None = None,
    max_iter: int = 200,
    channels_at_once: bool | None = None,
    memory_first: bool | None = None,
    progress: bool = False,
    info: SmoothInfo | None = None,
) -> torch.Tensor:
    """r = (1−β)(I − βS)⁻¹ y by multigrid-preconditioned CG (any device; float64 on CPU/CUDA).

    Solves the SPD system M z = (1−β) D^{1/2} y, M = (1−β)D + βL, r = D^{1/2} z,
    with M as a (4r+1)² stencil (:meth:`stylelab.smoothing.matting.MattingLaplacian.stencil`)
    in the CG's dtype and the preconditioner :class:`stylelab.smoothing.multigrid.Multigrid`
    (one cycle in float32: W at the finest level, V below) built with the
    near-null-space candidates [1, I_r, I_g, I_b] of the matting Laplacian
    (functions affine in the content's colour).

    Stopping. ``tol``: every channel's relative residual ‖b − Mz‖/‖b‖ ≤ tol.
    ``atol`` (the default, 1e-3, when neither is given): the largest absolute
    error of r, estimated from the CG updates u_k = max_i |√d_i α_k p_k,i| as
    u_k · max(2, ρ/(1 − ρ)) ≤ atol/2, ρ the updates' mean rate of decrease
    over the last three steps.
    Why not a residual: M has eigenvalues down to (1−β)·min d = 1e-4, so the
    same relative residual means a larger error on larger images (measured:
    max error ≈ 0.15, 0.5, 3 × the relative residual at 128, 256, 512 px), and
    the rigorous bound ‖r − r*‖₂ ≤ ‖D^{-1/2}(b − Mz)‖₂/(1−β) (from M ⪰ (1−β)D)
    is a 2-norm over all pixels, hundreds of times too pessimistic for the
    largest pixel error. CG's error is the sum of its remaining updates,
    e_k = Σ_{j>k} α_j p_j, which shrink about geometrically, so the error is
    about u_k ρ/(1 − ρ): 1–2 times the last update when ρ = 0.5–0.7 (the block
    CG over three channels), up to 5 times when one channel alone converges
    slowly (ρ ≈ 0.85 at 512², measured: error 9.2e-4 where u_k·3 was 1e-3, the
    rule before the rate was estimated). An error plateau that the updates do
    not show stays possible: ``tests/test_multigrid.py`` checks
    max|r − r_direct| ≤ atol against SciPy's direct solve, and
    ``benchmarks/bench_smoothing.py`` prints it (``--reference-max``: against a
    tight solve where the direct one does not fit).

    Args:
        y: (C, H, W) or (1, C, H, W) stylised channels; content: (1, 3, H, W), same device.
        memory_first: the fine stencil (always built and stored by its upper half, 13 of 25
            offsets, the others by symmetry) kept in float32 only: 52 B/px instead of
            104 + 52, for the CG's products as well as the cycle's, and, by default,
            one channel at a time; default: above 4 MP (``stylelab.memory`` has both
            figures). The CG then solves the system with float32-rounded coefficients,
            whose exact solution differs from the float64 one by ~4e-5 at most
            (measured at 512², against the direct solve), far below ``atol``.
        channels_at_once: solve all channels as one batch (faster) or one after
            the other (a third of the vector memory); default: batch up to 4 MP.
        progress: a progress bar over CG iterations with the residual.
        info: a :class:`SmoothInfo`; iterations (per channel batch) and the
            largest final relative residual are recorded.

    Memory per pixel (float64 CG, float32 cycle): the stencil's upper half 13·8 B and its
    float32 copy 13·4 B (above 4 MP, ``memory_first``: 13·4 B for its float32 upper half,
    and the channels are solved one at a time), the smoother's two
    block-inverse partitions by the upper triangles of the symmetric inverses
    2·8.5·4 B, the interpolation 4·4 B, the coarse levels
    ≈ 100 B, and the CG vectors (5 per channel, 8 B each); ``stylelab.memory``
    holds the measured total.
    """
    if tol is None and atol is None:
        atol = 1e-3
    t0 = time.perf_counter()
    shape = y.shape
    yy = y.reshape(-1, *shape[-2:])
    h, w = shape[-2:]
    c = content.reshape(-1, *content.shape[-2:]).to(yy.dtype)
    op = MattingLaplacian(c, eps=eps, radius=radius)
    big = h * w > 4_000_000 if memory_first is None else memory_first
    # M stored by its upper half (13 of 25 offsets, built directly): the Galerkin product and the block inverses
    # read the stored offsets only, and a product costs the same as with the full stencil
    sten = op.stencil(upper=True)
    sten.mul_(beta)
    sten[0] += (1 - beta) * op.counts  # the centre offset
    sq = op.counts.sqrt()
    del op
    A = BlockStencil.from_upper(sten)
    del sten
    small = torch.float32 if yy.dtype == torch.float64 else yy.dtype
    # candidates (1, 4, H, W): 1 and the content's colours; the finest level's stencil in float32 for the cycle
    mg = Multigrid(A, torch.cat([torch.ones_like(c[:1]), c])[None], dtype=small, cycle="W", w_levels=1,
                   fine_dtype=small)
    if big:  # the float32 half stencil is the only copy kept: CG's products use it too (memory_first above)
        A = mg.fine
    del c
    if info is not None:
        info.setup_seconds = time.perf_counter() - t0
    if channels_at_once is None:
        channels_at_once = not big
    groups = [slice(0, yy.shape[0])] if channels_at_once else [slice(i, i + 1) for i in range(yy.shape[0])]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        # no total: CG stops on its error estimate, typically after 10–20 of the max_iter iterations per channel
        # group, so a bar out of max_iter would show a far too long remaining time
        bar = tqdm(total=None, desc=f"smoothing (multigrid CG, {mg.describe()})", unit="it", leave=False)
    out = torch.empty_like(yy)
    worst, done = 0.0, True
    for g in groups:
        b = ((1 - beta) * sq * yy[g])[:, None]  # (C, 1, H, W): one unknown per node
        small_update, updates = [False], []

        def callback(it, res):
            if bar is not None:
                bar.update(1)
                n = yy.shape[0]
                bar.set_postfix(channel=f"{g.start + 1}/{n}" if g.stop - g.start == 1 else f"all {n}",
                                residual=f"{res:.1e}")

        def stop(x, r, step):  # the error estimate of the docstring, in units of r, per channel
            if atol is None:
                return False
            updates.append((sq * step).abs().amax(dim=(-3, -2, -1)))
            small_update[0] = bool((2 * _tail_estimate(updates) <= atol).all())
            return small_update[0]

        z, used = None, 0
        while True:
            z, it, res = pcg(A.apply, b, mg, x0=z, tol=0.0 if tol is None else tol, max_iter=max_iter - used,
                             callback=callback, stop=stop, block=True)
            used += it
            reached = small_update[0] or res <= (0.0 if tol is None else tol)  # (0: solved exactly, e.g. b = 0)
            if reached or used >= max_iter or mg.damped >= _MAX_DAMPING:
                break
            # CG broke down (rᵀz ≤ 0 or pᵀMp ≤ 0): the cycle is not positive definite, e.g. a smoother that
            # diverges on a mode that λ_max's Lanczos estimate missed (ω·λ_max ≥ 2; a 6-step power iteration
            # missed λ_max = 3.6 on an 8× upscaled photo at 12 MP, 1.9 estimated). Halve every level's damping and
            # go on from the last iterate.
            mg.damp(0.5)
            updates.clear()
        out[g] = sq * z[:, 0]
        worst = max(worst, res)
        done = done and reached
        if info is not None:
            info.iterations.append(used)
    if bar is not None:
        bar.close()
    if info is not None:
        info.residual = worst
        info.converged = info.converged and done
        if mg.damped:
            info.mode += f" (smoother damping halved {mg.damped}× after CG breakdowns)"
    return out.reshape(shape)


#: How many times solve_multigrid halves the smoother's damping after a CG breakdown before it gives up.
_MAX_DAMPING = 4


def _tail_estimate(updates: list[torch.Tensor], span: int = 3) -> torch.Tensor:
    """CG's remaining error from its last updates u_k (max-norms, per channel): u_k · max(2, ρ/(1 − ρ)).

    The updates shrink about geometrically, u_{k+j} ≈ ρ^j u_k, so the rest of the
    series Σ_{j≥1} u_{k+j} is about u_k ρ/(1 − ρ); ρ is the mean rate over the last
    ``span`` steps, capped at 0.95 (at least 2 u_k, also before there is a rate).
    """
    u = updates[-1]
    if len(updates) < 2:
        return 2 * u
    m = min(span, len(updates) - 1)
    tiny = torch.finfo(u.dtype).tiny
    rho = (u.clamp_min(tiny) / updates[-1 - m].clamp_min(tiny)) ** (1.0 / m)
    rho = rho.clamp(max=0.95)
    return u * torch.maximum(rho / (1 - rho), torch.full_like(rho, 2.0))


def _down(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True, align_corners=False, recompute_scale_factor=False)


def solve_pyramid(y, content, beta, eps, radius, tol, max_iter, min_size, info, progress, level=0):
    """Coarse-to-fine CG (``smooth(mode="cg")``, :mod:`stylelab.smoothing`): y (1, C, H, W), content (1, 3, H, W).

    The same problem is solved on a half-resolution pyramid (directly at the
    coarsest level on CPU in float64, by CG elsewhere); each coarse solution
    z = D^{-1/2} r is turned into local affine colour models
    (:func:`stylelab.smoothing.guided.local_affine`), upsampled, applied to the finer
    content, and used as CG's starting guess there.
    """
    h, w = y.shape[-2:]
    if min(h, w) < 2 * min_size:
        if y.device.type == "cpu" and y.dtype == torch.float64:
            info.iterations.append(0)
            return solve_direct(y, content, beta, eps, radius)
        return solve_cg(y[0], content, beta, eps, radius, tol=tol, max_iter=20 * max_iter, info=info)[None]
    yc, cc = _down(y), _down(content)
    rc = solve_pyramid(yc, cc, beta, eps, radius, tol, max_iter, min_size, info, False, level + 1)
    # Upsample z = D^{-1/2} r (the quantity the smoothness term acts on) through local affine colour models.
    dc = torch.as_tensor(window_counts(*rc.shape[-2:], radius), dtype=y.dtype, device=y.device).sqrt()
    df = torch.as_tensor(window_counts(h, w, radius), dtype=y.dtype, device=y.device).sqrt()
    a, b = local_affine(rc[0] / dc, cc[0].to(rc.dtype))
    a = F.interpolate(a, size=(h, w), mode="bilinear", align_corners=False)
    b = F.interpolate(b[None], size=(h, w), mode="bilinear", align_corners=False)[0]
    x0 = ((a * content[0].to(y.dtype)[None]).sum(1) + b) * df
    return solve_cg(y[0], content, beta, eps, radius, tol=tol, max_iter=max_iter, x0=x0, info=info, progress=progress)[None]
