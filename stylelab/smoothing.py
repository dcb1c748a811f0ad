"""Closed-form photorealistic smoothing (FastPhotoStyle's second step) and the guided filter.

Li, Liu, Li, Yang, Kautz, "A Closed-form Solution to Photorealistic Image
Stylization", ECCV 2018. Given the stylised image y and the content image I,
the smoothed image r minimises

    Σ_ij W_ij ‖r_i/√d_i − r_j/√d_j‖² + λ Σ_i ‖r_i − y_i‖²,

with W the matting *affinity* of the content (:func:`stylelab.matting.affinity`,
3×3 windows, ε = 1e-7) and d = W·1 (the number of windows covering each pixel).
The minimiser is, per colour channel,

    r* = (1 − β) (I − β S)⁻¹ y,   S = D^{-1/2} W D^{-1/2},   β = 1/(1 + λ),

and the official code (``photo_smooth.py``) uses β = 0.9999 (λ ≈ 1e-4).

Solvers (``mode``):

* ``"direct"`` — sparse LU/Cholesky of the explicit matrix (SciPy; CPU, float64):
  the reference's method.
* ``"ilu"`` — (CPU) conjugate gradients on the explicit SPD system, preconditioned
  by an incomplete LU factorisation (:func:`solve_ilu`): 10–15 block iterations,
  O(N·fill) memory; the default on CPU.
* ``"mg"`` — (any device) conjugate gradients preconditioned by an aggregation
  multigrid W-cycle (:func:`solve_multigrid`, :mod:`stylelab.multigrid`): the
  matting Laplacian is assembled as a 25-point stencil (no sparse matrix), the
  coarse unknowns are local affine colour models on 4×4 blocks, and every
  level is a Galerkin product. 20–25 iterations to a relative residual of
  1e-6 at 128–512 px, O(N) memory (about 60 float64 numbers per pixel at peak,
  channel by channel above 4 MP), so it is the solver that reaches 12 MP.
* ``"cg"`` — (GPU; any device) preconditioned conjugate gradients on the matrix-free operator
  (:class:`stylelab.matting.MattingLaplacian`), on the input's device. We solve
  the symmetric positive-definite form M z = (1−β) D^{1/2} y with
  M = D − βW = (1−β) D + β L and r = D^{1/2} z. Because 1−β = 1e-4, M is nearly
  singular on locally-affine signals and plain CG needs ~1000 iterations; here
  CG starts from a **coarse-to-fine** guess: the same problem is solved on a
  half-resolution pyramid (recursively, directly at the coarsest level), the
  coarse solution is turned into local affine colour models (a guided filter
  at the coarse level), and those models are upsampled and applied to the
  full-resolution content — so the start already follows the content's edges.
  Jacobi (diagonal) preconditioning does the rest. Measured on CPU this still
  needs several hundred iterations at β = 0.9999 (the coarse problem is only a
  rough guess, max error ~0.1), so it is the GPU path: every step is a few
  box filters, O(N) memory.
* ``"gif"`` — the fast approximation: a colour guided filter
  (He, Sun, Tang, "Guided Image Filtering", ECCV 2010/TPAMI 2013) of y guided by I
  (FastPhotoStyle ``photo_gif.py``: r = 35, ε = 1e-3).
* ``"official"`` — the reference's border rule around an exact solve: y is
  quantised to 8 bits (``mul(255).byte()``, truncation), its 2-pixel border is
  cropped and replaced by edge replication, the content is resized to
  (H−4)×(W−4) and replicate-padded by 2, and the result is cropped by 2 px, so the
  output is **(H−4)×(W−4)** (NVIDIA/FastPhotoStyle ``photo_smooth.py``).
* ``"auto"`` — on CPU: direct up to 96×96 pixels, ILU-CG up to 1024×1024
  (its factor needs ~4.5 GB there), multigrid above; CUDA: multigrid; MPS
  (float32, no float64 eigen-solvers): matrix-free coarse-to-fine CG.

Precision: use float64 on CPU/CUDA for tolerances below ~1e-6. In float32 (and
on MPS, which has no float64) CG reaches a relative residual of about 1e-5;
the default ``tol`` is raised to 1e-5 for float32 inputs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from .device import get_device
from .io import load_image, save_image
from .matting import MattingLaplacian, laplacian, window_counts
from .multigrid import BlockStencil, Multigrid, pcg

__all__ = ["smooth", "guided_filter", "box_mean", "solve_direct", "solve_ilu", "solve_cg", "solve_multigrid", "SmoothInfo", "add_cli"]

MODES = ("auto", "ilu", "mg", "cg", "direct", "official", "gif")


@dataclass
class SmoothInfo:
    """What a solve did: solver, iterations per pyramid level (fine → coarse), final relative residual, seconds."""

    mode: str
    iterations: list[int] = field(default_factory=list)
    residual: float = float("nan")
    seconds: float = 0.0
    converged: bool = True


# ----------------------------------------------------------------------------- helpers
def _as_image(x: torch.Tensor, what: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch tensor of shape (1, 3, H, W), got {type(x).__name__}")
    if x.dim() == 3:
        x = x[None]
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"{what} must have shape (1, 3, H, W) or (3, H, W), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{what} must be a float image in [0, 1]; divide uint8 images by 255")
    return x


def box_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over the (2r+1)² window clipped to the image, (..., H, W) → (..., H, W).

    O(N) for any radius (cumulative sums); near the border the mean is over the
    pixels that exist (the normalisation of He et al.'s guided filter).
    """
    shape = x.shape
    h, w = shape[-2:]
    y = x.reshape(-1, h, w)

    def run(z, dim, n):
        c = torch.cumsum(z, dim=dim)
        c = torch.cat([torch.zeros_like(c.narrow(dim, 0, 1)), c], dim=dim)
        idx = torch.arange(n, device=z.device)
        hi = (idx + radius + 1).clamp(max=n)
        lo = (idx - radius).clamp(min=0)
        return c.index_select(dim, hi) - c.index_select(dim, lo)

    s = run(run(y, 1, h), 2, w)
    ones = torch.ones(1, h, w, dtype=x.dtype, device=x.device)
    cnt = run(run(ones, 1, h), 2, w)
    return (s / cnt).reshape(shape)


def guided_filter(src: torch.Tensor, guide: torch.Tensor, radius: int = 35, eps: float = 1e-3) -> torch.Tensor:
    """Colour guided filter: q_i = ā_iᵀ I_i + b̄_i (He, Sun, Tang, ECCV 2010).

    For every (2r+1)² window k (clipped at the border):
    a_k = (Σ_k + ε I₃)⁻¹ cov_k(I, p), b_k = p̄_k − a_kᵀ μ_k; ā, b̄ are the box means
    of a, b over the windows covering i. Σ_k is the biased window covariance of
    the guide; ε is on the [0, 1] scale.

    Args:
        src: (1, C, H, W) image to filter (each channel separately).
        guide: (1, 3, H, W) guide (the content photo), same H, W.

    Returns:
        (1, C, H, W) tensor, dtype/device of ``src``.
    """
    if src.shape[-2:] != guide.shape[-2:]:
        raise ValueError(f"src {tuple(src.shape)} and guide {tuple(guide.shape)} must have the same height and width")
    if guide.shape[-3] != 3:
        raise ValueError(f"the guide must be RGB (1, 3, H, W), got {tuple(guide.shape)}")
    I = guide[0].to(src.dtype)
    p = src[0]
    mu = box_mean(I, radius)  # (3, H, W)
    pm = box_mean(p, radius)  # (C, H, W)
    cov = box_mean(I[:, None] * I[None, :], radius) - mu[:, None] * mu[None, :]  # (3, 3, H, W)
    cov = cov.permute(2, 3, 0, 1) + eps * torch.eye(3, dtype=I.dtype, device=I.device)
    cip = box_mean(I[None] * p[:, None], radius) - mu[None] * pm[:, None]  # (C, 3, H, W)
    inv = torch.linalg.inv(cov)  # (H, W, 3, 3), once for every channel
    a = torch.einsum("hwij,cjhw->cihw", inv, cip)  # (C, 3, H, W)
    b = pm - (a * mu[None]).sum(1)
    return ((box_mean(a, radius) * I[None]).sum(1) + box_mean(b, radius))[None]


def _local_affine(r: torch.Tensor, I: torch.Tensor, radius: int = 1, eps: float = 1e-4):
    """Coefficients (a (C,3,H,W), b (C,H,W)) of the guided filter of r (C,H,W) by I (3,H,W), already box-averaged."""
    mu = box_mean(I, radius)
    pm = box_mean(r, radius)
    cov = box_mean(I[:, None] * I[None, :], radius) - mu[:, None] * mu[None, :]
    cov = cov.permute(2, 3, 0, 1) + eps * torch.eye(3, dtype=I.dtype, device=I.device)
    cip = box_mean(I[None] * r[:, None], radius) - mu[None] * pm[:, None]
    a = torch.linalg.solve(cov[None], cip.permute(0, 2, 3, 1).unsqueeze(-1)).squeeze(-1).permute(0, 3, 1, 2)
    b = pm - (a * mu[None]).sum(1)
    return box_mean(a, radius), box_mean(b, radius)


# ----------------------------------------------------------------------------- solvers
def _system(content: torch.Tensor, beta: float, eps: float, radius: int):
    op = MattingLaplacian(content, eps=eps, radius=radius)
    d = op.counts
    return op, d


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
    (:func:`stylelab.matting.laplacian`), ILU-factorised with SuperLU
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


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(dim=(-2, -1))


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
    op, d = _system(content.to(y.dtype), beta, eps, radius)
    sq = d.sqrt()
    b = (1 - beta) * sq * y

    def M(v):
        return (1 - beta) * d * v + beta * op.matvec(v)

    pinv = 1.0 / ((1 - beta) * d + beta * op.diagonal())
    z = torch.zeros_like(b) if x0 is None else x0 / sq
    r = b - M(z)
    bn = _dot(b, b).sqrt().clamp_min(torch.finfo(y.dtype).tiny)
    s = pinv * r
    p = s.clone()
    rs = _dot(r, s)
    it = 0
    res = (_dot(r, r).sqrt() / bn).max().item()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_iter, desc="smoothing (CG)", leave=False)
    while res > tol and it < max_iter:
        q = M(p)
        alpha = rs / _dot(p, q).clamp_min(torch.finfo(y.dtype).tiny)
        z = z + alpha[..., None, None] * p
        r = r - alpha[..., None, None] * q
        s = pinv * r
        rs_new = _dot(r, s)
        p = s + (rs_new / rs.clamp_min(torch.finfo(y.dtype).tiny))[..., None, None] * p
        rs = rs_new
        it += 1
        if it % 10 == 0 or it == max_iter:
            res = (_dot(r, r).sqrt() / bn).max().item()
            if bar is not None:
                bar.update(10)
                bar.set_postfix(residual=f"{res:.1e}")
    res = (_dot(r, r).sqrt() / bn).max().item()
    if bar is not None:
        bar.close()
    if info is not None:
        info.iterations.append(it)
        info.residual = res
        info.converged = info.converged and res <= tol
    return sq * z


def solve_multigrid(
    y: torch.Tensor,
    content: torch.Tensor,
    beta: float = 0.9999,
    eps: float = 1e-7,
    radius: int = 1,
    *,
    tol: float | None = None,
    max_iter: int = 200,
    channels_at_once: bool | None = None,
    progress: bool = False,
    info: SmoothInfo | None = None,
) -> torch.Tensor:
    """r = (1−β)(I − βS)⁻¹ y by multigrid-preconditioned CG (any device; float64 on CPU/CUDA).

    Solves the SPD system M z = (1−β) D^{1/2} y, M = (1−β)D + βL, r = D^{1/2} z,
    with M as a (4r+1)² stencil (:meth:`stylelab.matting.MattingLaplacian.stencil`)
    and the preconditioner :class:`stylelab.multigrid.Multigrid` built with the
    near-null-space candidates [1, I_r, I_g, I_b] of the matting Laplacian
    (functions affine in the content's colour). Stops at relative residual
    ``tol`` (default 1e-6 in float64, 1e-5 in float32) per channel.

    Args:
        y: (C, H, W) or (1, C, H, W) stylised channels; content: (1, 3, H, W), same device.
        channels_at_once: solve all channels as one batch (faster) or one after
            the other (a third of the vector memory); default: batch up to 4 MP.
        progress: a progress bar over CG iterations with the residual.
        info: a :class:`SmoothInfo`; iterations (per channel batch) and the
            largest final relative residual are recorded.

    Memory: 25 numbers per pixel for the stencil, 32 (float32) for the
    smoother's block inverses, ~10 for the coarse levels, plus the CG vectors.
    """

    if tol is None:
        tol = 1e-6 if y.dtype == torch.float64 else 1e-5
    shape = y.shape
    yy = y.reshape(-1, *shape[-2:])
    h, w = shape[-2:]
    c = content.reshape(-1, *content.shape[-2:]).to(yy.dtype)
    op = MattingLaplacian(c, eps=eps, radius=radius)
    sten = op.stencil()
    sten.mul_(beta)
    sten[2 * radius, 2 * radius] += (1 - beta) * op.counts
    sq = op.counts.sqrt()
    del op
    A = BlockStencil(sten[:, :, None, None])
    candidates = torch.cat([torch.ones_like(c[:1]), c])[None]  # (1, 4, H, W)
    small = torch.float32 if yy.dtype == torch.float64 else yy.dtype
    mg = Multigrid(A, candidates, smoother_dtype=small)
    if channels_at_once is None:
        channels_at_once = h * w <= 4_000_000
    groups = [slice(0, yy.shape[0])] if channels_at_once else [slice(i, i + 1) for i in range(yy.shape[0])]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_iter * len(groups), desc=f"smoothing (multigrid CG, {mg.describe()})", leave=False)
    out = torch.empty_like(yy)
    worst = 0.0
    for g in groups:
        b = ((1 - beta) * sq * yy[g])[:, None]  # (C, 1, H, W): one unknown per node

        def callback(it, res):
            if bar is not None:
                bar.update(1)
                bar.set_postfix(residual=f"{res:.1e}")

        z, it, res = pcg(A.apply, b, mg, tol=tol, max_iter=max_iter, callback=callback)
        out[g] = sq * z[:, 0]
        worst = max(worst, res)
        if info is not None:
            info.iterations.append(it)
    if bar is not None:
        bar.close()
    if info is not None:
        info.residual = worst
        info.converged = info.converged and worst <= tol
    return out.reshape(shape)


def _down(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True, align_corners=False, recompute_scale_factor=False)


def _solve_pyramid(y, content, beta, eps, radius, tol, max_iter, min_size, info, progress, level=0):
    """Coarse-to-fine CG (module docstring). y: (1, C, H, W); content: (1, 3, H, W)."""
    h, w = y.shape[-2:]
    if min(h, w) < 2 * min_size:
        if y.device.type == "cpu" and y.dtype == torch.float64:
            info.iterations.append(0)
            return solve_direct(y, content, beta, eps, radius)
        return solve_cg(y[0], content, beta, eps, radius, tol=tol, max_iter=20 * max_iter, info=info)[None]
    yc, cc = _down(y), _down(content)
    rc = _solve_pyramid(yc, cc, beta, eps, radius, tol, max_iter, min_size, info, False, level + 1)
    # Upsample z = D^{-1/2} r (the quantity the smoothness term acts on) through local affine colour models.
    dc = torch.as_tensor(window_counts(*rc.shape[-2:], radius), dtype=y.dtype, device=y.device).sqrt()
    df = torch.as_tensor(window_counts(h, w, radius), dtype=y.dtype, device=y.device).sqrt()
    a, b = _local_affine(rc[0] / dc, cc[0].to(rc.dtype))
    a = F.interpolate(a, size=(h, w), mode="bilinear", align_corners=False)
    b = F.interpolate(b[None], size=(h, w), mode="bilinear", align_corners=False)[0]
    x0 = ((a * content[0].to(y.dtype)[None]).sum(1) + b) * df
    return solve_cg(y[0], content, beta, eps, radius, tol=tol, max_iter=max_iter, x0=x0, info=info, progress=progress)[None]


# ----------------------------------------------------------------------------- public
def smooth(
    stylized: torch.Tensor,
    content: torch.Tensor,
    beta: float = 0.9999,
    *,
    mode: str = "auto",
    eps: float = 1e-7,
    radius: int = 1,
    tol: float | None = None,
    max_iter: int = 1000,
    min_size: int = 32,
    gif_radius: int = 35,
    gif_eps: float = 1e-3,
    clamp: bool = True,
    progress: bool = False,
    return_info: bool = False,
):
    """Photorealistic smoothing r* = (1−β)(I − βS)⁻¹ y of a stylised photo (Li et al., ECCV 2018).

    Args:
        stylized: (1, 3, H, W) stylised image y in [0, 1].
        content: (1, 3, H', W') content photo; resized (bilinear, antialiased) to
            H×W if its size differs (the reference does the same).
        beta: β = 1/(1+λ); 0.9999 as in FastPhotoStyle. Must be in (0, 1).
        mode: ``"auto"``, ``"mg"``, ``"ilu"``, ``"cg"``, ``"direct"``, ``"official"`` or ``"gif"``
            (module docstring).
        eps, radius: matting affinity parameters (1e-7, 3×3 windows).
        tol: CG relative-residual tolerance (default: 1e-6 for ``"ilu"``/``"mg"``,
            1e-8 for ``"cg"`` in float64; 1e-5 in float32).
        max_iter: CG iterations per pyramid level.
        min_size: coarsest pyramid level's shorter side (solved directly on CPU float64).
        gif_radius, gif_eps: guided-filter parameters for ``mode="gif"``.
        clamp: clip the result to [0, 1].
        return_info: also return a :class:`SmoothInfo` (iterations, residual, time).

    Returns:
        (1, 3, H, W) tensor on the input's device and dtype — (H−4)×(W−4) in
        ``"official"`` mode — and the info when ``return_info``.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    if not 0.0 < beta < 1.0:
        raise ValueError(f"beta must be in (0, 1) (FastPhotoStyle uses 0.9999), got {beta}")
    y = _as_image(stylized, "stylized")
    c = _as_image(content, "content").to(y.device, y.dtype)
    if y.shape[0] != 1 or c.shape[0] != 1:
        raise ValueError("smooth works on one image at a time; loop over the batch")
    h, w = y.shape[-2:]
    t0 = time.perf_counter()
    info = SmoothInfo(mode=mode)
    if mode == "official":
        if min(h, w) < 9:
            raise ValueError(f"official mode crops 2 px per side; the image must be at least 9×9, got {h}×{w}")
        y = torch.floor((y * 255).clamp(0, 255)) / 255
        y = F.pad(y[..., 2:-2, 2:-2], (2, 2, 2, 2), mode="replicate")
        c = F.interpolate(c, size=(h - 4, w - 4), mode="bilinear", antialias=True, align_corners=False)
        c = F.pad(torch.round(c.clamp(0, 1) * 255) / 255, (2, 2, 2, 2), mode="replicate")
    elif tuple(c.shape[-2:]) != (h, w):
        c = F.interpolate(c, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
    if mode == "gif":
        out = guided_filter(y, c, radius=gif_radius, eps=gif_eps)
    else:
        solver = mode
        if mode in ("auto", "official"):
            if y.device.type == "cpu":
                solver = "direct" if h * w <= 96 * 96 else "ilu" if h * w <= 1024 * 1024 else "mg"
            else:
                solver = "mg" if y.dtype == torch.float64 else "cg"
        info.mode = mode if mode == solver else f"{mode}/{solver}"
        if solver == "direct":
            out = solve_direct(y, c, beta, eps, radius)
            info.iterations.append(0)
            info.residual = 0.0
        elif solver == "ilu":
            out = solve_ilu(y, c, beta, eps, radius, tol=1e-6 if tol is None else tol, info=info)
        elif solver == "mg":
            out = solve_multigrid(y, c, beta, eps, radius, tol=tol, info=info, progress=progress)
        else:
            out = _solve_pyramid(y, c, beta, eps, radius, tol, max_iter, min_size, info, progress)
    if mode == "official":
        out = out[..., 2:-2, 2:-2]
    if clamp:
        out = out.clamp(0, 1)
    info.seconds = time.perf_counter() - t0
    return (out, info) if return_info else out


# ----------------------------------------------------------------------------- CLI
def _cli(args) -> int:

    device = get_device(args.device)
    stylized = load_image(args.stylized, device=device)
    content = load_image(args.content, device=device)
    if device.type != "mps":
        stylized, content = stylized.double(), content.double()
    out, info = smooth(stylized, content, beta=args.beta, mode=args.mode, tol=args.tol, progress=True, return_info=True)
    path = save_image(out.float(), args.output, overwrite=args.overwrite)
    its = "+".join(str(i) for i in info.iterations) or "-"
    print(f"wrote {path} ({out.shape[-1]}×{out.shape[-2]}, {info.mode}, CG iterations {its}, residual {info.residual:.1e}, {info.seconds:.1f} s)")
    return 0


def add_cli(subparsers) -> None:
    """Register ``stylelab smooth STYLIZED CONTENT -o OUT [--mode ...]``."""
    p = subparsers.add_parser("smooth", help="photorealistic smoothing of a stylised photo (FastPhotoStyle step 2)")
    p.add_argument("stylized", help="stylised image file")
    p.add_argument("content", help="content photo file (resized to the stylised image's size)")
    p.add_argument("-o", "--output", required=True, help="output image file")
    p.add_argument("--mode", default="auto", choices=MODES, help="solver (default auto: direct when small on CPU, ILU-CG up to 1 MP, multigrid CG above)")
    p.add_argument("--beta", type=float, default=0.9999, help="β = 1/(1+λ) (default 0.9999)")
    p.add_argument("--tol", type=float, default=None, help="CG relative residual tolerance")
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    p.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    p.set_defaults(func=_cli)
