"""Aggregation multigrid for symmetric stencil operators on an image grid (a CG preconditioner).

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
smoother's block inverses, 4 for the interpolation, about 10 for all coarse
levels together.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["BlockStencil", "Multigrid", "pcg"]


def _ranges(d: int, n: int) -> tuple[slice, slice]:
    """Output and input slices of a shift by d along an axis of length n (zero outside)."""
    return slice(max(0, -d), n - max(0, d)), slice(max(0, d), n + min(0, d))


class BlockStencil:
    """A linear operator on an (H, W) grid with m unknowns per node and (2ρ+1)² neighbours.

    ``coef`` has shape (k, k, m, m, H, W), k = 2ρ + 1, and

        (A x)[a, y, x] = Σ_{oy, ox, b} coef[oy, ox, a, b, y, x] · x[b, y + oy − ρ, x + ox − ρ]

    (terms outside the grid are zero). :meth:`apply` takes x of shape
    (..., m, H, W); leading dimensions (e.g. colour channels) are independent.
    """

    def __init__(self, coef: torch.Tensor):
        if coef.dim() != 6 or coef.shape[0] != coef.shape[1] or coef.shape[0] % 2 != 1 or coef.shape[2] != coef.shape[3]:
            raise ValueError(f"coef must have shape (k, k, m, m, H, W) with odd k, got {tuple(coef.shape)}")
        self._columns = coef.transpose(2, 3).contiguous()  # (k, k, b, a, H, W): the only copy kept
        self.coef = self._columns.transpose(2, 3)  # a view (no copy when m = 1)
        self.k, self.m = coef.shape[0], coef.shape[2]
        self.radius = self.k // 2
        self.shape = tuple(coef.shape[-2:])

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-3:]) != (self.m, *self.shape):
            raise ValueError(f"x has shape {tuple(x.shape)}, the operator acts on (..., {self.m}, {self.shape[0]}, {self.shape[1]})")
        h, w = self.shape
        rho = self.radius
        xp = F.pad(x, (rho, rho, rho, rho))  # zeros outside the grid
        out = torch.zeros_like(x)
        # column b of every (m × m) block times the b-th unknown of the shifted neighbour, all rows a at once:
        # k²·m calls on whole (..., m, H, W) tensors (a broadcast einsum over pixels is several times slower)
        for oy in range(self.k):
            for ox in range(self.k):
                xs = xp[..., oy:oy + h, ox:ox + w]
                for b in range(self.m):
                    out.addcmul_(self._columns[oy, ox, b], xs[..., b:b + 1, :, :])
        return out

    __matmul__ = apply

    def to(self, dtype: torch.dtype) -> "BlockStencil":
        """The same operator with coefficients in ``dtype`` (itself if already)."""
        return self if dtype == self.coef.dtype else BlockStencil(self.coef.to(dtype))

    def dense(self) -> torch.Tensor:
        """The operator as a dense (H·W·m, H·W·m) matrix, unknown index (y·W + x)·m + a (small grids only)."""
        h, w = self.shape
        n = h * w * self.m
        eye = torch.eye(n, dtype=self.coef.dtype, device=self.coef.device).reshape(n, h, w, self.m).permute(0, 3, 1, 2)
        return self.apply(eye).permute(0, 2, 3, 1).reshape(n, n).T


def _block_basis(B: torch.Tensor, f: int, rel_tol: float = 1e-9):
    """Orthonormal basis of the candidates on each f×f block.

    B: (m, c, Hp, Wp) candidates (c of them) at every node, Hp, Wp multiples of f.
    Returns Q (m, c, Hp, Wp) with, per block J, the (|J|·m × c) matrix Q_J
    orthonormal on its kept columns (dropped ones are zero), and the coarse
    candidates R (c, c, Hp/f, Wp/f) with B_J = Q_J R_J.
    """
    m, c, hp, wp = B.shape
    hc, wc = hp // f, wp // f
    Bj = B.reshape(m, c, hc, f, wc, f).permute(2, 4, 3, 5, 0, 1).reshape(hc, wc, f * f * m, c)
    G = Bj.transpose(-1, -2) @ Bj  # (hc, wc, c, c)
    lam, V = torch.linalg.eigh(G)
    keep = lam > rel_tol * lam[..., -1:].clamp_min(torch.finfo(lam.dtype).tiny)
    s = torch.where(keep, lam.clamp_min(torch.finfo(lam.dtype).tiny).rsqrt(), torch.zeros_like(lam))
    Qj = Bj @ (V * s[..., None, :])  # (hc, wc, f·f·m, c)
    R = (V * torch.where(keep, lam.clamp_min(0).sqrt(), torch.zeros_like(lam))[..., None, :]).transpose(-1, -2)
    Q = Qj.reshape(hc, wc, f, f, m, c).permute(4, 5, 0, 2, 1, 3).reshape(m, c, hp, wp)
    return Q, R.permute(2, 3, 0, 1), keep.permute(2, 0, 1)


def _galerkin(A: BlockStencil, Q: torch.Tensor, f: int, keep: torch.Tensor) -> BlockStencil:
    """Coarse operator A_c = Pᵀ A P for the block interpolation Q (m, c, Hp, Wp): a radius-1 stencil of c×c blocks.

    The block of A_c coupling aggregate J to J + D (D ∈ {−1, 0, 1}²) is

        A_c[J, J + D] = Σ_d Σ_{i ∈ J, i + d ∈ J + D} Q(i)ᵀ A_d(i) Q(i + d),

    summed over the stencil offsets d; node i at position p inside its block
    reaches block offset D = ⌊(p + d)/f⌋ (per axis), so each (d, D) pair is a
    product over a fixed range of in-block positions. A is symmetric, so only
    D ≥ 0 (in reading order) is summed and A_c[J, J − D] = A_c[J − D, J]ᵀ fills the rest.
    """
    if A.radius > f:
        raise ValueError(f"aggregates of {f}×{f} are too small for a stencil of radius {A.radius}")
    m, c, hp, wp = Q.shape
    h, w = A.shape
    rho = A.radius
    hc, wc = hp // f, wp // f
    coef = A.coef if (hp, wp) == (h, w) else F.pad(A.coef, (0, wp - w, 0, hp - h))
    Qp = F.pad(Q, (rho, rho, rho, rho))  # Q(i + d) for every offset d is a view of Qp (zero outside)
    Qb = Q.reshape(m, c, hc, f, wc, f)  # (unknown, candidate, block row, position, block column, position)
    out = torch.zeros(3, 3, c, c, hc, wc, dtype=Q.dtype, device=Q.device)
    upper = [(Dy, Dx) for Dy in (0, 1) for Dx in (-1, 0, 1) if (Dy, Dx) > (0, -1)]  # (0,0) (0,1) (1,−1) (1,0) (1,1)

    def positions(d, D):  # in-block positions p with ⌊(p + d)/f⌋ = D, as a slice
        ps = [p for p in range(f) if (p + d) // f == D]
        return slice(ps[0], ps[-1] + 1) if ps else None

    for oy in range(A.k):
        for ox in range(A.k):
            dy, dx = oy - rho, ox - rho
            Qs = Qp[..., oy:oy + hp, ox:ox + wp]
            CQ = sum(coef[oy, ox, :, b, None] * Qs[b] for b in range(m))  # (m, c, Hp, Wp): A_d(i) Q(i + d)
            CQ = CQ.reshape(m, c, hc, f, wc, f)
            for Dy, Dx in upper:
                py, px = positions(dy, Dy), positions(dx, Dx)
                if py is None or px is None:
                    continue
                # Σ over unknowns and in-block positions of Q(i)ᵀ [A_d Q(i + d)]: (c, c) per aggregate
                out[Dy + 1, Dx + 1] += torch.einsum("mahpwq,mbhpwq->abhw", Qb[:, :, :, py, :, px], CQ[:, :, :, py, :, px])
    for Dy, Dx in upper[1:]:  # the lower half by symmetry: A_c[J, J − D] = A_c[J − D, J]ᵀ
        (yo, yi), (xo, xi) = _ranges(-Dy, hc), _ranges(-Dx, wc)
        out[1 - Dy, 1 - Dx][..., yo, xo] = out[1 + Dy, 1 + Dx].transpose(0, 1)[..., yi, xi]
    # Unknowns whose basis column was dropped are decoupled: put 1 on their diagonal so the block is invertible.
    diag = out[1, 1].diagonal(dim1=0, dim2=1)  # (hc, wc, c) view
    diag += (~keep).permute(1, 2, 0).to(out.dtype)
    return BlockStencil(out)


class BlockJacobi:
    """x ↦ D_B⁻¹ x for the s×s node blocks of A, partition shifted by ``shift`` nodes (both axes).

    D_B holds, per block, the (s²m × s²m) sub-matrix of A on the block's nodes
    (taken from the stencil: entries between nodes closer than the radius);
    nodes of the padding outside the grid get the identity. Inverted once
    (``torch.linalg.inv``), stored in ``dtype``.
    """

    def __init__(self, A: BlockStencil, s: int, shift: int = 0, dtype: torch.dtype | None = None):
        h, w = A.shape
        m, rho = A.m, A.radius
        self.s, self.shift, self.shape, self.m = s, shift, (h, w), m
        self.hp, self.wp = -(-(h + shift) // s) * s, -(-(w + shift) // s) * s
        self._pad = (shift, self.wp - w - shift, shift, self.hp - h - shift)
        hb, wb, n = self.hp // s, self.wp // s, s * s * m
        self.inv = torch.empty(hb, wb, n, n, dtype=dtype or A.coef.dtype, device=A.coef.device)
        chunk = max(1, (1 << 21) // (wb * n * n))  # block rows per chunk: bounded temporaries at 12 MP
        for r0 in range(0, hb, chunk):
            r1 = min(hb, r0 + chunk)
            y0, y1 = r0 * s - shift, r1 * s - shift  # grid rows of these blocks (outside the grid: padding)
            coef = F.pad(A.coef[..., max(0, y0):min(h, y1), :], (*self._pad[:2], max(0, -y0), max(0, y1 - h)))
            blk = torch.zeros(r1 - r0, wb, s * s, m, s * s, m, dtype=A.coef.dtype, device=A.coef.device)
            for p in range(s * s):
                py, px = divmod(p, s)
                for q in range(s * s):
                    qy, qx = divmod(q, s)
                    if abs(qy - py) <= rho and abs(qx - px) <= rho:
                        blk[:, :, p, :, q, :] = coef[qy - py + rho, qx - px + rho, :, :, py::s, px::s].permute(2, 3, 0, 1)
            blk = blk.reshape(r1 - r0, wb, n, n)
            rows = torch.arange(y0, y1, device=A.coef.device)
            cols = torch.arange(-shift, self.wp - shift, device=A.coef.device)
            inside = ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None, :]
            inside = inside.reshape(r1 - r0, s, wb, s).permute(0, 2, 1, 3).reshape(r1 - r0, wb, s * s, 1)
            outside = (~inside).expand(r1 - r0, wb, s * s, m).reshape(r1 - r0, wb, n).to(blk.dtype)
            self.inv[r0:r1] = torch.linalg.inv(blk + torch.diag_embed(outside))  # padding nodes: identity

    def __call__(self, r: torch.Tensor) -> torch.Tensor:
        s, m = self.s, self.m
        h, w = self.shape
        lead = r.shape[:-3]
        rp = F.pad(r, self._pad)
        hb, wb = self.hp // s, self.wp // s
        rb = rp.reshape(*lead, m, hb, s, wb, s).movedim(-5, -1)  # (..., hb, s, wb, s, m)
        rb = rb.movedim(-3, -4).reshape(-1, hb, wb, s * s * m)
        # one batched (n × n) @ (n × channels) product per block: the leading dimensions become columns
        xb = (self.inv @ rb.movedim(0, -1).to(self.inv.dtype)).to(r.dtype).movedim(-1, 0)
        x = xb.reshape(*lead, hb, wb, s, s, m).movedim(-3, -4).movedim(-1, -5).reshape(*lead, m, self.hp, self.wp)
        return x[..., self.shift:self.shift + h, self.shift:self.shift + w]


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
            stays in A's dtype). ``fine_dtype``: the finest operator's (default
            ``dtype``; A's own dtype keeps no second copy of the largest stencil).

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
            Q, R, keep = _block_basis(F.pad(B, (0, wp - w, 0, hp - h)), f)
            level.Q, level.f = Q.to(self.dtype), f
            A = _galerkin(A, Q, f, keep)
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
        rc = rc.to(self.levels[i + 1].A.coef.dtype)
        ec = self._cycle(i + 1, rc)
        if self.cycle == "W" and i + 2 < len(self.levels) and i < self.w_levels:  # a second coarse step
            ec = ec + self._cycle(i + 1, rc - self.levels[i + 1].A.apply(ec))
        ec = ec.repeat_interleave(f, -2).repeat_interleave(f, -1)
        x = x + (level.Q * ec[..., None, :, :hp, :wp]).sum(-3)[..., :h, :w].to(x.dtype)
        for _ in range(self.nu):
            x = self._smooth(level, x, b, True)
        return x

    def __call__(self, r: torch.Tensor) -> torch.Tensor:
        return self._cycle(0, r.to(self.levels[0].A.coef.dtype)).to(r.dtype)


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
