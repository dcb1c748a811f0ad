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
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from .guided import local_affine
from .matting import MattingLaplacian, laplacian, window_counts
from .multigrid import Multigrid, pcg
from .grid_stencil import BlockStencil

__all__ = ["SmoothInfo", "solve_affinity", "solve_direct", "solve_ilu", "solve_cg", "solve_multigrid", "solve_pyramid"]

@dataclass
class SmoothInfo:
    """What a solve did: solver, iterations per pyramid level (fine → coarse), final relative residual, seconds.

    ``residual`` is the largest channel's ‖b − M z‖/‖b‖ recomputed from the returned solution (the
    true residual), not CG's recursively updated one, which drifts from it by rounding.
    """

    mode: str
    iterations: list[int] = field(default_factory=list)
    residual: float = float("nan")
    seconds: float = 0.0
    converged: bool = True
    setup_seconds: float = float("nan")  # the multigrid's set-up (stencil, hierarchy), part of ``seconds``

    def summary(self) -> str:
        """One line for the command line: solver, CG iterations (per level or channel), residual, seconds."""
        its = "+".join(str(i) for i in self.iterations) or "-"
        setup = f" (set-up {self.setup_seconds:.1f} s)" if self.setup_seconds == self.setup_seconds else ""
        return f"{self.mode}, CG iterations {its}, residual {self.residual:.1e}, {self.seconds:.1f} s{setup}"



def solve_affinity(W, y: np.ndarray, beta: float = 0.9999) -> np.ndarray:
    """``r = (1−β)(I − β D^{-1/2} W D^{-1/2})^{-1} y`` for an explicit affinity matrix (Li et al., ECCV 2018, Eq. 5).

    Args:
        W: ``(N, N)`` symmetric non-negative affinity, dense NumPy or SciPy sparse;
            ``D = diag(W·1)``.
        y: ``(N,)`` or ``(N, C)`` values to smooth.

    Returns:
        ``r`` with the shape of ``y`` (float64). A sparse direct solve on the CPU:
        the textbook form, for small problems and checks; :func:`smooth` is the
        image-level entry point.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    W = sp.csr_matrix(W, dtype=np.float64)
    d = np.asarray(W.sum(axis=1)).ravel()
    if W.shape[0] != W.shape[1] or np.any(d <= 0):
        raise ValueError("W must be a square affinity matrix whose every row has a positive sum")
    inv_sqrt = sp.diags(1.0 / np.sqrt(d))
    M = (sp.identity(W.shape[0]) - beta * (inv_sqrt @ W @ inv_sqrt)).tocsc()
    y = np.asarray(y, dtype=np.float64)
    return (1 - beta) * np.asarray(spsolve(M, y)).reshape(y.shape)


def solve_direct(y: torch.Tensor, content: torch.Tensor, beta: float = 0.9999, eps: float = 1e-7, radius: int = 1) -> torch.Tensor:
    """r = (1−β)(I − βS)⁻¹ y by a sparse direct solve (SciPy ``factorized``, float64, CPU).

    Args:
        y: (C, H, W) or (1, C, H, W) stylised channels; content: (1, 3, H, W).

    Returns:
        r with the shape, dtype and device of ``y``. Memory grows like N^1.5:
        practical up to about 512×512 on a laptop.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import factorized

    shape = y.shape
    yy = y.reshape(-1, *shape[-2:])
    h, w = shape[-2:]
    L = laplacian(content, eps=eps, radius=radius)
    dvec = window_counts(h, w, radius).ravel()
    M = ((1 - beta) * sp.diags(dvec) + beta * L).tocsc()
    solve = factorized(M)
    sq = np.sqrt(dvec)
    yn = yy.detach().to("cpu", torch.float64).reshape(yy.shape[0], -1).numpy()
    out = np.stack([sq * solve((1 - beta) * sq * c) for c in yn])
    return torch.from_numpy(out).reshape(shape).to(y.device, y.dtype)


def solve_ilu(
    y: torch.Tensor,
    content: torch.Tensor,
    beta: float = 0.9999,
    eps: float = 1e-7,
    radius: int = 1,
    *,
    tol: float = 1e-6,
    drop_tol: float = 1e-4,
    fill_factor: float = 10.0,
    max_iter: int = 500,
    info: SmoothInfo | None = None,
) -> torch.Tensor:
    """r = (1−β)(I − βS)⁻¹ y by CG preconditioned with an incomplete LU factorisation (CPU, float64).

    The SPD system M z = (1−β) D^{1/2} y, M = (1−β)D + βL, is built explicitly
    (:func:`stylelab.smoothing.matting.laplacian`), ILU-factorised with SuperLU
    (``scipy.sparse.linalg.spilu`` in float32, drop tolerance ``drop_tol``,
    symmetric minimum-degree ordering, no pivoting since M is SPD) and solved
    by CG in float64 to a relative residual ``tol`` — a block CG with the colour channels as columns, so each step is
    one sparse product and one pair of triangular solves for all channels. The
    incomplete factor costs O(N·fill) instead of the exact factor's ~N^1.5,
    and 10–15 iterations suffice at β = 0.9999 (1e-6). If the
    preconditioned iteration fails, the factor is redone in float64, then
    with a tenfold smaller drop tolerance, then the exact :func:`solve_direct`
    is used (``info.mode`` says so).
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import spilu

    shape = y.shape
    h, w = shape[-2:]
    yy = y.detach().to("cpu", torch.float64).reshape(-1, h * w).numpy()
    L = laplacian(content, eps=eps, radius=radius)
    dvec = window_counts(h, w, radius).ravel()
    M = ((1 - beta) * sp.diags(dvec) + beta * L).tocsc()
    sq = np.sqrt(dvec)
    # The preconditioner is factorised in float32 (faster, half the memory; CG itself runs in float64 and
    # corrects its rounding); on breakdown retry in float64, then with a smaller drop tolerance.
    for dt, ftype in ((drop_tol, np.float32), (drop_tol, np.float64), (drop_tol / 10, np.float64)):
        try:
            fac = spilu(M.astype(ftype), drop_tol=dt, fill_factor=fill_factor, permc_spec="MMD_AT_PLUS_A",
                        diag_pivot_thresh=0.0, options=dict(SymmetricMode=True))  # SPD: no pivoting needed
        except RuntimeError:
            continue

        class ilu:  # noqa: N801 - a tiny adapter: float64 in, float64 out
            @staticmethod
            def solve(r, fac=fac, ftype=ftype):
                return fac.solve(r.astype(ftype, copy=False)).astype(np.float64, copy=False)
        # Block PCG: every channel is a column; one sparse product and one ILU solve per step for all of them.
        B = ((1 - beta) * sq[:, None] * yy.T).copy()  # (N, C)
        bn = np.maximum(np.linalg.norm(B, axis=0), 1e-300)
        Z = np.zeros_like(B)
        R = B.copy()
        P_ = ilu.solve(R)
        Q_ = P_.copy()
        rz = (R * P_).sum(0)
        it, res = 0, 1.0
        while it < max_iter:
            MQ = M @ Q_
            alpha = rz / np.where((Q_ * MQ).sum(0) == 0, 1e-300, (Q_ * MQ).sum(0))
            Z += alpha * Q_
            R -= alpha * MQ
            it += 1
            res = float((np.linalg.norm(R, axis=0) / bn).max())
            if not np.isfinite(res) or res <= tol:
                break
            P_ = ilu.solve(R)
            rz_new = (R * P_).sum(0)
            Q_ = P_ + (rz_new / np.where(rz == 0, 1e-300, rz)) * Q_
            rz = rz_new
        if np.isfinite(res) and res <= tol:
            if info is not None:
                info.iterations.append(it)
                info.residual = float((np.linalg.norm(B - M @ Z, axis=0) / bn).max())
            out = (sq[:, None] * Z).T
            return torch.from_numpy(np.ascontiguousarray(out)).reshape(shape).to(y.device, y.dtype)
    if info is not None:
        info.iterations.append(0)
        info.residual = 0.0
        info.mode += "→direct"
    return solve_direct(y, content, beta, eps, radius)


def solve_cg(
    y: torch.Tensor,
    content: torch.Tensor,
    beta: float = 0.9999,
    eps: float = 1e-7,
    radius: int = 1,
    *,
    tol: float | None = None,
    max_iter: int = 2000,
    x0: torch.Tensor | None = None,
    progress: bool = False,
    info: SmoothInfo | None = None,
) -> torch.Tensor:
    """r = (1−β)(I − βS)⁻¹ y by Jacobi-preconditioned CG on the matrix-free operator.

    Solves M z = (1−β) D^{1/2} y with M = (1−β)D + βL (symmetric positive
    definite), r = D^{1/2} z; all channels at once, each with its own step sizes.
    Stops when every channel's relative residual ‖M z − b‖/‖b‖ ≤ ``tol``
    (default 1e-8 in float64, 1e-5 in float32) or after ``max_iter`` iterations.

    Args:
        y: (C, H, W) stylised channels on any device; content: (1, 3, H, W) same device.
        x0: optional starting guess for r, shape of ``y``.
        info: a :class:`SmoothInfo` whose ``iterations``/``residual`` are appended to.
    """
    if tol is None:
        tol = 1e-8 if y.dtype == torch.float64 else 1e-5
    op = MattingLaplacian(content.to(y.dtype), eps=eps, radius=radius)
    d = op.counts
    sq = d.sqrt()
    b = (1 - beta) * sq * y

    def M(v):
        return (1 - beta) * d * v + beta * op.matvec(v)

    pinv = 1.0 / ((1 - beta) * d + beta * op.diagonal())
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_iter, desc="smoothing (CG)", leave=False)

    def callback(it, res):
        if bar is not None and (it % 10 == 0 or it == max_iter):
            bar.update(10)
            bar.set_postfix(residual=f"{res:.1e}")

    # the one CG loop (stylelab.smoothing.multigrid.pcg), with the Jacobi preconditioner r ↦ r / diag(M)
    z, it, res = pcg(M, b, lambda r: pinv * r, x0=None if x0 is None else x0 / sq, tol=tol, max_iter=max_iter,
                     callback=callback)
    if bar is not None:
        bar.close()
    if info is not None:
        info.iterations.append(it)
        info.residual = res
        # pcg stopped on its recursive residual ≤ tol before max_iter; res is the true one (may differ by rounding)
        info.converged = info.converged and res == res and (it < max_iter or res <= tol)
    return sq * z


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
        memory_first: the fine stencil built and stored by its upper half (13 of 25
            offsets, the others by symmetry), in float32 only: 52 B/px instead of
            200 + 100, for the CG's products as well as the cycle's, and, by default,
            one channel at a time; default: above 4 MP (``stylelab.memory`` has both
            figures). The CG then solves the system with float32-rounded coefficients,
            whose exact solution differs from the float64 one by ~4e-5 at most
            (measured at 512², against the direct solve), far below ``atol``.
        channels_at_once: solve all channels as one batch (faster) or one after
            the other (a third of the vector memory); default: batch up to 4 MP.
        progress: a progress bar over CG iterations with the residual.
        info: a :class:`SmoothInfo`; iterations (per channel batch) and the
            largest final relative residual are recorded.

    Memory per pixel (float64 CG, float32 cycle): the stencil 25·8 B and its
    float32 copy 25·4 B (above 4 MP, ``memory_first``: 13·4 B for its float32 upper half,
    and the channels are solved one at a time), the smoother's two
    block-inverse partitions 2·16·4 B (``memory_first``: 2·8.5·4 B, the upper
    triangles of the symmetric inverses), the interpolation 4·4 B, the coarse levels
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
    sten = op.stencil(upper=big)  # memory first: the upper half only, built directly
    sten.mul_(beta)
    sten[0 if big else (2 * radius, 2 * radius)] += (1 - beta) * op.counts  # the centre offset
    sq = op.counts.sqrt()
    del op
    A = BlockStencil.from_upper(sten) if big else BlockStencil(sten[:, :, None, None])
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
