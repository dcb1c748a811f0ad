"""Aggregation multigrid for symmetric stencil operators on an image grid (a CG preconditioner), and PCG.

The operators live in :mod:`stylelab.grid_stencil` (block stencils, the block-Jacobi
smoother), the coarse spaces in :mod:`stylelab.aggregation` (block bases, Galerkin
products); this module builds the hierarchy, runs the cycle and the outer CG.

Used by the exact photorealistic smoothing (:func:`stylelab.smoothing.smooth`,
``mode="mg"``), whose system M = (1−β)D + βL contains the matting Laplacian L
(:mod:`stylelab.matting`). Plain geometric multigrid fails on L: its
near-null space is not made of smooth functions but of functions that are
*locally affine in the colour* of the photo, v_i ≈ aᵀI_i + b, which follow
every edge and texture. The coarse space here is built from exactly those
functions, as in smoothed-aggregation multigrid (Vaněk, Mandel, Brezina,
"Algebraic multigrid by smoothed aggregation for second and fourth order
elliptic problems", Computing 1996) with the photo's colours as the
near-null-space candidates B = [1, I_r, I_g, I_b]:

* **aggregates** are f×f blocks of grid nodes (f = 4 on the pixel grid, 2 above);
* **interpolation** P maps the 4 coarse unknowns of a block to the fine values
  ``Q_J c_J``, where Q_J (|J|·m × 4) is an orthonormal basis of the candidates
  restricted to block J (``B_J = Q_J R_J``; directions with eigenvalue below
  ``1e-9`` of the block's largest are dropped, e.g. the colour columns of a
  flat block); the next level's candidates are the R_J;
* **coarse operators** are Galerkin products A_c = Pᵀ A P. With f ≥ the
  stencil radius every coarse operator is again a stencil, of radius 1, with
  4×4 blocks (:class:`BlockStencil`), so no sparse matrix is ever formed;
* **smoother**: block Jacobi on the aggregates themselves (the exact inverse
  of each f×f block of A), alternated with the same partition shifted by f/2
  so that block borders move (a multiplicative overlapping-Schwarz sweep),
  damped by ω = min(1, 1.9/λ_max(D_B⁻¹A)) (λ_max by power iteration); ν
  sweeps before the coarse correction and ν in reverse order after it, so the
  cycle is a symmetric positive-definite operator and can precondition CG.
  Point Jacobi is a poor smoother here (the matting Laplacian's off-diagonal
  entries are as large as its diagonal, of both signs): it needs about twice
  the iterations;
* **cycle**: V, or W (two coarse corrections per level, needed by plain
  aggregation: 9–13 CG iterations instead of 27–32 at 128–256 px), optionally
  W on the finest levels only (``w_levels``) where it matters most;
* **coarsest level** (≤ ``coarse_size`` unknowns): dense Cholesky factor.

The hierarchy is built in the operator's dtype (float64 for the smoothing);
the cycle may run in float32 (``dtype``): half the memory traffic, and the
outer CG (:func:`pcg`, in the Polak–Ribière form that tolerates the rounding)
still converges to float64 accuracy. Every step is slicing, elementwise
products and small batched products on the input's device (CPU, CUDA; float32
on MPS): O(N) memory — 25 numbers per pixel for the fine stencil, 2·16 for the
smoother's block inverses, 4 for the interpolation, about 25 for all coarse
levels together (the smoothing's measured total: ``stylelab.memory``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .aggregation import block_basis, galerkin
from .grid_stencil import BlockJacobi, BlockStencil

__all__ = ["BlockStencil", "BlockJacobi", "Multigrid", "pcg"]


@dataclass
class _Level:
    A: BlockStencil  # the operator in the cycle's dtype
    smoothers: list  # BlockJacobi partitions, applied in order (reverse order after the coarse correction)
    omega: float = 1.0
    Q: torch.Tensor | None = None  # (m, c, Hp, Wp) interpolation to this level from the next
    f: int = 0


def _power_lambda_max(A: BlockStencil, smoother, steps: int = 6) -> float:
    """Largest eigenvalue of smoother·A (power iteration from a fixed random vector)."""
    g = torch.Generator(device="cpu").manual_seed(0)
    x = torch.rand((A.m, *A.shape), generator=g, dtype=torch.float64).to(A.coef.device, A.coef.dtype)
    lam = 1.0
    for _ in range(steps):  # x has unit norm after the first step
        y = smoother(A.apply(x))
        lam, x = float(y.norm() / x.norm()), y / y.norm().clamp_min(1e-300)
    return lam


class Multigrid:
    """Multigrid cycle preconditioner for a symmetric positive-definite grid stencil (module docstring).

    Args:
        A: the fine operator (``BlockStencil``, m = 1 on the pixel grid).
        candidates: (m, c, H, W) near-null-space vectors at every node (for the
            matting Laplacian: ones and the three colour channels, c = 4).
        factors: aggregate side of the first coarsening and of the others (4, 2).
        nu: smoothing steps before and after each coarse correction.
        coarse_size: stop coarsening below this many unknowns; that level is solved densely.
        cycle: ``"W"`` (two coarse corrections per level) or ``"V"`` (one).
        w_levels: with ``"W"``, how many levels (from the finest) take the second
            coarse correction; the levels below run V-cycles (default: all). The
            second correction matters most at the first coarsening; deeper down it
            mostly adds small, overhead-bound products.
        dtype: the cycle's dtype (e.g. float32 inside a float64 CG: half the
            memory traffic; the hierarchy is built in A's dtype, the coarsest solve
            stays in A's dtype). ``fine_dtype``: the finest operator's coefficients
            (default ``dtype``); with A's own dtype no second copy of the largest
            stencil is kept, and its products still write vectors in ``dtype``.

    ``mg(r)`` applies one cycle to r (..., m, H, W) and returns an approximation
    of A⁻¹ r (zero initial guess); a symmetric positive-definite linear map
    (up to the rounding of ``dtype``).
    """

    def __init__(self, A: BlockStencil, candidates: torch.Tensor, *, factors=(4, 2), nu: int = 1,
                 coarse_size: int = 1500, max_levels: int = 12, dtype: torch.dtype | None = None,
                 cycle: str = "W", w_levels: int | None = None, fine_dtype: torch.dtype | None = None):
        if candidates.dim() != 4 or candidates.shape[0] != A.m or tuple(candidates.shape[-2:]) != A.shape:
            raise ValueError(f"candidates must have shape ({A.m}, c, {A.shape[0]}, {A.shape[1]}), got {tuple(candidates.shape)}")
        if nu < 1:
            raise ValueError(f"nu must be at least 1, got {nu}")
        if cycle not in ("V", "W"):
            raise ValueError(f"cycle must be 'V' or 'W', got {cycle!r}")
        self.nu, self.cycle, self.w_levels, self.dtype = nu, cycle, w_levels or max_levels, dtype or A.coef.dtype
        self.levels: list[_Level] = []
        B = candidates.to(A.coef.dtype)
        for depth in range(max_levels):
            level = _Level(A.to(self.dtype if depth else fine_dtype or self.dtype), [])
            self.levels.append(level)
            h, w = A.shape
            f = factors[0] if depth == 0 else factors[-1]
            if h * w * A.m <= coarse_size or min(h, w) < 2 * f:
                break
            level.smoothers = [BlockJacobi(A, f, 0, self.dtype), BlockJacobi(A, f, f // 2, self.dtype)]
            level.omega = min(1.0, 1.9 / _power_lambda_max(level.A, level.smoothers[0]))
            hp, wp = -(-h // f) * f, -(-w // f) * f
            Q, R, keep = block_basis(F.pad(B, (0, wp - w, 0, hp - h)), f)
            level.Q, level.f = Q.to(self.dtype), f
            A = galerkin(A, Q, f, keep)
            B = R
        # Coarsest level: A is symmetric positive definite (dropped candidates carry an identity), so a
        # dense Cholesky factor does; the pseudo-inverse by eigen-decomposition is the fallback.
        dense = A.dense()
        L, bad = torch.linalg.cholesky_ex(dense)
        if int(bad) == 0:
            self._coarse_inv = torch.cholesky_inverse(L)
        else:
            lam, V = torch.linalg.eigh(dense)
            self._coarse_inv = (V * torch.where(lam > lam[-1] * 1e-13, 1.0 / lam, torch.zeros_like(lam))) @ V.T

    def describe(self) -> str:
        return " → ".join(f"{l.A.shape[0]}×{l.A.shape[1]}×{l.A.m}" for l in self.levels) + f" ({self.cycle}-cycle)"

    def _smooth(self, level: _Level, x: torch.Tensor | None, b: torch.Tensor, reverse: bool) -> torch.Tensor:
        for sm in (level.smoothers[::-1] if reverse else level.smoothers):
            r = b if x is None else b - level.A.apply(x)
            step = sm(r)
            if level.omega != 1.0:
                step *= level.omega
            x = step if x is None else x + step
        return x

    def _cycle(self, i: int, b: torch.Tensor) -> torch.Tensor:
        level = self.levels[i]
        if i == len(self.levels) - 1:
            lead = b.shape[:-3]
            flat = b.movedim(-3, -1).reshape(*lead, -1).to(self._coarse_inv.dtype)
            x = (flat @ self._coarse_inv).to(b.dtype)
            return x.reshape(*lead, *b.shape[-2:], b.shape[-3]).movedim(-1, -3)
        x = None
        for _ in range(self.nu):
            x = self._smooth(level, x, b, False)
        (h, w), (hp, wp), f = level.A.shape, level.Q.shape[-2:], level.f
        rp = F.pad(b - level.A.apply(x), (0, wp - w, 0, hp - h))  # the residual, padded to whole blocks
        prod = sum(level.Q[k] * rp[..., k, None, :, :] for k in range(level.A.m))  # Q(i)ᵀ r(i): (..., c, Hp, Wp)
        rc = (F.avg_pool2d(prod.reshape(-1, hp, wp), f) * (f * f)).reshape(*prod.shape[:-2], hp // f, wp // f)  # Pᵀr
        ec = self._cycle(i + 1, rc)
        if self.cycle == "W" and i + 2 < len(self.levels) and i < self.w_levels:  # a second coarse step
            ec = ec + self._cycle(i + 1, rc - self.levels[i + 1].A.apply(ec))
        ec = ec.repeat_interleave(f, -2).repeat_interleave(f, -1)
        x = x + (level.Q * ec[..., None, :, :hp, :wp]).sum(-3)[..., :h, :w].to(x.dtype)
        for _ in range(self.nu):
            x = self._smooth(level, x, b, True)
        return x

    def __call__(self, r: torch.Tensor) -> torch.Tensor:
        return self._cycle(0, r.to(self.dtype)).to(r.dtype)


def pcg(apply_A, b: torch.Tensor, precond, *, x0: torch.Tensor | None = None, tol: float = 1e-8, max_iter: int = 200,
        callback=None, stop=None):
    """Preconditioned conjugate gradients for several right-hand sides at once.

    Solves A x = b for every leading index of b (..., H, W) independently (own
    step sizes), with the SPD preconditioner ``precond`` (a callable r ↦ z ≈ A⁻¹r):

        α_k = r_kᵀz_k / p_kᵀAp_k,  x_{k+1} = x_k + α_k p_k,  r_{k+1} = r_k − α_k A p_k,
        z_{k+1} = precond(r_{k+1}),  β_k = r_{k+1}ᵀ(z_{k+1} − z_k) / r_kᵀz_k,  p_{k+1} = z_{k+1} + β_k p_k.

    β in this Polak–Ribière form equals the textbook r_{k+1}ᵀz_{k+1}/r_kᵀz_k in exact
    arithmetic (r_{k+1}ᵀz_k = 0) and keeps the convergence when the preconditioner
    is only nearly linear, e.g. a multigrid cycle in float32 (Notay, "Flexible
    conjugate gradients", SIAM J. Sci. Comput. 2000).

    Stops when every relative residual ‖b − A x‖/‖b‖ ≤ ``tol``, or when
    ``stop(x, r, step)`` returns True (``step`` = α_k p_k, the last update),
    or after ``max_iter`` iterations. ``callback(iteration, residual)`` is called
    after each step. Returns (x, iterations, final relative residual (true, recomputed)).
    """
    tiny = torch.finfo(b.dtype).tiny

    def dot(u, v):
        return (u * v).sum(dim=(-2, -1))

    x = torch.zeros_like(b) if x0 is None else x0.clone()
    r = b - apply_A(x) if x0 is not None else b.clone()
    bn = dot(b, b).sqrt().clamp_min(tiny)
    res = (dot(r, r).sqrt() / bn).max().item()
    it = 0
    if res > tol:
        z = precond(r)
        p = z.clone()
        rz = dot(r, z)
        while it < max_iter:  # in place: x, r, p, q and z are the only full-size vectors at 12 MP
            q = apply_A(p)
            alpha = (rz / dot(p, q).clamp_min(tiny))[..., None, None]
            x.addcmul_(alpha, p)
            r.addcmul_(alpha, q, value=-1.0)
            del q
            it += 1
            res = (dot(r, r).sqrt() / bn).max().item()
            if callback is not None:
                callback(it, res)
            if res <= tol or res != res or (stop is not None and stop(x, r, alpha * p)):
                break
            r_z_old = dot(r, z)
            del z
            z = precond(r)
            rz_new = dot(r, z)
            p.mul_(((rz_new - r_z_old) / rz.clamp_min(tiny))[..., None, None]).add_(z)
            rz = rz_new
    if it:  # the recursively updated residual drifts from the true one: report the true one
        r = b - apply_A(x)
        res = (dot(r, r).sqrt() / bn).max().item()
    return x, it, res
