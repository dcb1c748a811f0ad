"""Aggregation multigrid for symmetric stencil operators on an image grid (a CG preconditioner), and PCG.

The operators live in :mod:`stylelab.smoothing.grid_stencil` (block stencils, the block-Jacobi
smoother), the coarse spaces in :mod:`stylelab.smoothing.aggregation` (block bases, Galerkin
products); this module builds the hierarchy, runs the cycle and the outer CG.

Used by the exact photorealistic smoothing (:func:`stylelab.smoothing.smooth`,
``mode="mg"``), whose system M = (1−β)D + βL contains the matting Laplacian L
(:mod:`stylelab.smoothing.matting`). Plain geometric multigrid fails on L: its
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
  damped by ω = min(1, 1.9/λ_max(D_B⁻¹A)) (the larger λ_max of the two
  partitions, each from 10 Lanczos steps: a few power-iteration steps miss
  modes localised on a few blocks, where λ_max reaches 3.6 of its bound 4); ν
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
on MPS): O(N) memory — 25 numbers per pixel for the fine stencil (13 when stored
by its upper half, ``BlockStencil(symmetric=True)``), 2·16 for the smoother's
block inverses (2·8.5 for such a stencil: their upper triangles), 4 for the
interpolation, about 25 for all coarse levels together (the smoothing's
measured total: ``stylelab.memory``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .aggregation import block_basis, galerkin
from .grid_stencil import BlockJacobi, BlockStencil

__all__ = ["Multigrid", "pcg"]


@dataclass
class _Level:
    A: BlockStencil  # the operator in the cycle's dtype
    smoothers: list  # BlockJacobi partitions, applied in order (reverse order after the coarse correction)
    omega: float = 1.0
    Q: torch.Tensor | None = None  # (m, c, f², Hp/f, Wp/f) interpolation from the next level, per in-block position
    f: int = 0


def _colour_bound(radius: int, s: int) -> int:
    """A rigorous bound on λ_max(D_B⁻¹A) for SPD A, s×s blocks and a stencil of ``radius``.

    Blocks whose indices differ by more than c = ⌈radius/s⌉ along an axis do not couple,
    so colouring the blocks by their (row, column) indices modulo c + 1 gives k = (c + 1)²
    colours with no coupling inside a colour: xᵀAx = ‖Σ_j x_j‖²_A ≤ k Σ_j ‖x_j‖²_A = k xᵀD_Bx
    (Cauchy–Schwarz over the colours j). k = 4 for the smoothers here (radius ≤ s).
    """
    return (-(-radius // s) + 1) ** 2


def _lanczos_lambda_max(A: BlockStencil, smoother, steps: int = 10) -> float:
    """An upper estimate of λ_max(D_B⁻¹A), the largest eigenvalue of the smoothed operator.

    ``steps`` Lanczos steps for A v = λ D_B v, run as preconditioned CG on A x = b
    (b random, fixed seed; D_B⁻¹ = ``smoother``), whose coefficients give the
    Lanczos tridiagonal T: T_jj = 1/α_j + β_{j−1}/α_{j−1}, T_{j,j+1} = √β_j/α_j
    (Saad, *Iterative Methods for Sparse Linear Systems*, 2nd ed., §6.7.3). The
    largest Ritz value θ of T is a lower bound that converges much faster than
    power iteration (a Chebyshev polynomial of degree k instead of λᵏ): a mode
    localised on a few blocks, with little weight in the random start, took 20
    power steps to show λ > 3.5 where 6 steps gave 1.9 (a photo upscaled 8× to
    12 MP, whose smoother then diverged and CG broke down). The Ritz pair's
    residual |T_{k,k+1} s_k| is added (an eigenvalue lies within it of θ), and
    the result is capped by the rigorous bound of :func:`_colour_bound` (4 here).
    """
    bound = float(_colour_bound(A.radius, smoother.s))
    g = torch.Generator(device="cpu").manual_seed(0)
    r = (torch.rand((A.m, *A.shape), generator=g, dtype=torch.float64) - 0.5).to(A.device, A.dtype)

    def dot(u, v):  # without a full-size temporary (at 12 MP each one is fresh pages to fault in)
        return float(torch.tensordot(u, v, dims=u.dim()))

    z = smoother(r)
    p, rz = z.contiguous(), float(dot(r, z))
    diag, off, alpha_prev, beta_prev = [], [], None, 0.0
    for _ in range(steps):
        q = A.apply(p)
        pq = dot(p, q)
        if not (pq > 0 and rz > 0):  # not positive definite (or converged exactly): keep what T has
            break
        alpha = rz / pq
        diag.append(1 / alpha + (beta_prev / alpha_prev if alpha_prev else 0.0))
        r.add_(q, alpha=-alpha)
        del q
        z = smoother(r)
        rz_new = dot(r, z)
        beta = rz_new / rz
        off.append(max(beta, 0.0) ** 0.5 / alpha)
        p.mul_(beta).add_(z)  # p = z + βp
        rz, alpha_prev, beta_prev = rz_new, alpha, beta
    if not diag:
        return bound
    k = len(diag)
    T = torch.diag(torch.tensor(diag, dtype=torch.float64))
    if k > 1:
        e = torch.tensor(off[:k - 1], dtype=torch.float64)
        T += torch.diag(e, 1) + torch.diag(e, -1)
    theta, S = torch.linalg.eigh(T)
    return min(bound, float(theta[-1]) + off[k - 1] * float(S[-1, -1].abs()))


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
            stencil is kept, and its products still write vectors in ``dtype``. The
            conversion happens after the hierarchy is built (in A's dtype), so a
            caller can drop A and use :attr:`fine` as its operator: one copy of the
            largest stencil, in ``fine_dtype``.

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
        self.nu, self.cycle, self.w_levels, self.dtype = nu, cycle, w_levels or max_levels, dtype or A.dtype
        self.levels: list[_Level] = []
        self.damped = 0  # how many times damp() was called
        B = candidates.to(A.dtype)
        for depth in range(max_levels):
            level = _Level(A, [])  # in A's dtype while the next level is built from it, then in the cycle's
            self.levels.append(level)
            h, w = A.shape
            f = factors[0] if depth == 0 else factors[-1]
            if h * w * A.m <= coarse_size or min(h, w) < 2 * f:
                break
            level.smoothers = [BlockJacobi(A, f, 0, self.dtype), BlockJacobi(A, f, f // 2, self.dtype)]
            # λ_max in the cycle's dtype (the smoothers' own): a float32 copy of A for the estimate, dropped
            # before the Galerkin product (float64 × float32 products are the slowest; 2.0–2.2× faster at 1024²,
            # the same estimate to 1e-7)
            A_est = A if A.dtype == self.dtype else A.to(self.dtype)
            level.omega = min(1.0, 1.9 / max(_lanczos_lambda_max(A_est, sm) for sm in level.smoothers))
            del A_est
            hp, wp = -(-h // f) * f, -(-w // f) * f
            Q, R, keep = block_basis(F.pad(B, (0, wp - w, 0, hp - h)), f)
            m, c = Q.shape[:2]  # Q (m, c, Hp, Wp) → (m, c, f², Hp/f, Wp/f): position p = py·f + px inside each block
            level.Q, level.f = F.pixel_unshuffle(Q.to(self.dtype), f).unflatten(1, (c, f * f)), f
            A = galerkin(A, Q, f, keep)
            del Q  # (only the cycle's copy is kept)
            if depth:  # the finest level is converted last: its caller holds A until then
                level.A = level.A.to(self.dtype)
            B = R
        for depth, level in enumerate(self.levels):  # the coarsest and the finest (the others are already)
            level.A = level.A.to(self.dtype if depth else fine_dtype or self.dtype)
        # Coarsest level: A is symmetric positive definite (dropped candidates carry an identity), so a
        # dense Cholesky factor does; the pseudo-inverse by eigen-decomposition is the fallback.
        dense = A.dense()
        L, bad = torch.linalg.cholesky_ex(dense)
        if int(bad) == 0:
            self._coarse_inv = torch.cholesky_inverse(L)
        else:
            lam, V = torch.linalg.eigh(dense)
            self._coarse_inv = (V * torch.where(lam > lam[-1] * 1e-13, 1.0 / lam, torch.zeros_like(lam))) @ V.T

    def damp(self, factor: float) -> None:
        """Multiply every level's smoother damping ω by ``factor`` (after a CG breakdown: ω·λ_max ≥ 2 somewhere)."""
        for level in self.levels:
            level.omega *= factor
        self.damped += 1

    @property
    def fine(self) -> BlockStencil:
        """The finest operator, in ``fine_dtype`` (A itself when that is A's dtype)."""
        return self.levels[0].A

    def describe(self) -> str:
        return " → ".join(f"{l.A.shape[0]}×{l.A.shape[1]}×{l.A.m}" for l in self.levels) + f" ({self.cycle}-cycle)"

    def _smooth(self, level: _Level, x: torch.Tensor | None, b: torch.Tensor, reverse: bool) -> torch.Tensor:
        for sm in (level.smoothers[::-1] if reverse else level.smoothers):
            r = b if x is None else b - level.A.apply(x)
            step = sm(r)
            if level.omega != 1.0:
                step *= level.omega
            x = step if x is None else x.add_(step)  # x is the cycle's own vector
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
        (h, w), f, Q = level.A.shape, level.f, level.Q
        (hc, wc), m, c = Q.shape[-2:], level.A.m, Q.shape[1]
        rp = F.pad(b - level.A.apply(x), (0, wc * f - w, 0, hc * f - h))  # the residual, padded to whole blocks
        ru = F.pixel_unshuffle(rp, f).unflatten(-3, (m, f * f))  # (..., m, f², Hc, Wc): each block's values
        del rp
        rc = torch.stack([(Q[:, k] * ru).sum((-4, -3)) for k in range(c)], -3)  # Pᵀr = Σ_block Q(i)ᵀ r(i)
        del ru
        ec = self._cycle(i + 1, rc)
        if self.cycle == "W" and i + 2 < len(self.levels) and i < self.w_levels:  # a second coarse step
            ec = ec + self._cycle(i + 1, rc - self.levels[i + 1].A.apply(ec))
        xu = Q[:, 0] * ec[..., 0, None, None, :, :]  # P ec = Q(i) ec_J(i), block by block: (..., m, f², Hc, Wc)
        for k in range(1, c):
            xu.addcmul_(Q[:, k], ec[..., k, None, None, :, :])
        x += F.pixel_shuffle(xu.flatten(-4, -3), f)[..., :h, :w]
        for _ in range(self.nu):
            x = self._smooth(level, x, b, True)
        return x

    def __call__(self, r: torch.Tensor) -> torch.Tensor:
        return self._cycle(0, r.to(self.dtype)).to(r.dtype)


def pcg(apply_A, b: torch.Tensor, precond, *, x0: torch.Tensor | None = None, tol: float = 1e-8, max_iter: int = 200,
        callback=None, stop=None, block: bool = False):
    """Preconditioned conjugate gradients for several right-hand sides at once.

    Solves A x = b for every leading index of b (..., H, W) independently (own
    step sizes), with the SPD preconditioner ``precond`` (a callable r ↦ z ≈ A⁻¹r):

        α_k = r_kᵀz_k / p_kᵀAp_k,  x_{k+1} = x_k + α_k p_k,  r_{k+1} = r_k − α_k A p_k,
        z_{k+1} = precond(r_{k+1}),  β_k = r_{k+1}ᵀ(z_{k+1} − z_k) / r_kᵀz_k,  p_{k+1} = z_{k+1} + β_k p_k.

    β in this Polak–Ribière form equals the textbook r_{k+1}ᵀz_{k+1}/r_kᵀz_k in exact
    arithmetic (r_{k+1}ᵀz_k = 0) and keeps the convergence when the preconditioner
    is only nearly linear, e.g. a multigrid cycle in float32 (Notay, "Flexible
    conjugate gradients", SIAM J. Sci. Comput. 2000).

    ``block=True``: the right-hand sides b[0], b[1], … (b's first dimension, k of them)
    share one Krylov space (block CG, O'Leary, Linear Algebra Appl. 29, 1980), with
    P_k, R_k, Z_k the N×k blocks and k×k coefficients:

        G_k = P_kᵀAP_k,  α_k = G_k⁺ P_kᵀR_k,  X_{k+1} = X_k + P_k α_k,  R_{k+1} = R_k − AP_k α_k,
        Z_{k+1} = precond(R_{k+1}),  P_{k+1} = Z_{k+1} − P_k G_k⁺ (AP_k)ᵀZ_{k+1}

    (the new directions A-orthogonalised against the last block: the flexible form, as
    above; G⁺ drops directions with eigenvalue below 1e-12 of the largest, so equal or
    dependent right-hand sides do not break it down: Ji & Li, BIT 57, 2017). A mode of
    A that the preconditioner misses (an eigenvalue of precond·A far from the others)
    is found once for all columns: on the smoothing's three colour channels, 15
    iterations instead of 18 at 512² (``benchmarks/bench_smoothing.py``).

    Stops when every relative residual ‖b − A x‖/‖b‖ ≤ ``tol``, or when
    ``stop(x, r, step)`` returns True (``step`` = α_k p_k, the last update),
    or after ``max_iter`` iterations, or on a breakdown (pᵀAp ≤ 0, rᵀz ≤ 0 or a
    non-finite step: A or the preconditioner is not SPD in the arithmetic used),
    keeping the last iterate. ``callback(iteration, residual)`` is called
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
    if block and b.shape[0] > 1 and res > tol:
        it = _block_loop(apply_A, x, r, precond, bn, tol, max_iter, callback, stop)
    elif res > tol:
        z = _fresh(precond(r), r)
        p = z.clone()
        rz = dot(r, z)
        while it < max_iter:  # in place: x, r, p, q and z are the only full-size vectors at 12 MP
            q = apply_A(p)
            pq = dot(p, q)
            if not bool(torch.isfinite(pq).all() and (pq > 0).all() and (rz > 0).all()):
                break  # pᵀAp ≤ 0 or rᵀz ≤ 0: A or the preconditioner is not SPD in this precision; x is the last iterate
            alpha = (rz / pq)[..., None, None]
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
            z = _fresh(precond(r), r)
            rz_new = dot(r, z)
            p.mul_(((rz_new - r_z_old) / rz.clamp_min(tiny))[..., None, None]).add_(z)
            rz = rz_new
    if it:  # the recursively updated residual drifts from the true one: report the true one
        r = b - apply_A(x)
        res = (dot(r, r).sqrt() / bn).max().item()
    return x, it, res


def _fresh(z: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """z, or a copy of it if it shares memory with r (e.g. the identity preconditioner): r is updated in place."""
    return z.clone() if z.data_ptr() == r.data_ptr() else z


def _block_loop(apply_A, x, r, precond, bn, tol, max_iter, callback, stop) -> int:
    """The ``block=True`` iteration of :func:`pcg` (its docstring), in place on x and r; returns the iterations."""
    k = x.shape[0]

    def gram(u, v):  # (k, k): u_iᵀ v_j
        return u.reshape(k, -1) @ v.reshape(k, -1).T

    def times(P, a):  # the block P (k, ...) times a (k, k): column j is Σ_i P_i a_ij
        return (a.T @ P.reshape(k, -1)).reshape(P.shape)

    def pinv(G):  # pseudo-inverse of the symmetric positive semi-definite G
        lam, V = torch.linalg.eigh((G + G.T) / 2)
        keep = lam > 1e-12 * lam[-1].clamp_min(torch.finfo(lam.dtype).tiny)
        return (V * torch.where(keep, 1.0 / lam, torch.zeros_like(lam))) @ V.T

    p = _fresh(precond(r), r)
    it = 0
    while it < max_iter:
        q = apply_A(p)
        G = gram(p, q)
        if not bool(torch.isfinite(G).all()):  # a breakdown (e.g. a preconditioner that returned NaN or inf)
            return it  # x and r stay those of the last step
        Gi = pinv(G)
        a = Gi @ gram(p, r)
        step = times(p, a)
        x += step
        r -= times(q, a)
        it += 1
        res = ((r * r).sum(dim=(-2, -1)).sqrt() / bn).max().item()
        if callback is not None:
            callback(it, res)
        if res <= tol or res != res or (stop is not None and stop(x, r, step)):
            break
        del step
        z = _fresh(precond(r), r)
        p = z - times(p, Gi @ gram(q, z))
        del q, z
    return it
