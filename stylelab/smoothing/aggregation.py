"""Aggregation for the multigrid of :mod:`stylelab.smoothing.multigrid`: block bases of the candidates and Galerkin products.

On each f×f aggregate the near-null-space candidates (for the matting
Laplacian: 1 and the photo's three colours) are orthonormalised
(:func:`block_basis`), which defines the interpolation P; the coarse operator
Pᵀ A P is again a block stencil (:func:`galerkin`), so the hierarchy is built
from slices and small batched products, without a sparse matrix
(Vaněk, Mandel, Brezina, Computing 1996, the smoothed-aggregation paper the
multigrid module cites).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .grid_stencil import BlockStencil, _ranges

__all__ = ["block_basis", "galerkin"]


def block_basis(B: torch.Tensor, f: int, rel_tol: float = 1e-9):
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


def galerkin(A: BlockStencil, Q: torch.Tensor, f: int, keep: torch.Tensor, rows: int | None = None) -> BlockStencil:
    """Coarse operator A_c = Pᵀ A P for the block interpolation Q (m, c, Hp, Wp): a radius-1 stencil of c×c blocks.

    The block of A_c coupling aggregate J to J + D (D ∈ {−1, 0, 1}²) is

        A_c[J, J + D] = Σ_d Σ_{i ∈ J, i + d ∈ J + D} Q(i)ᵀ A_d(i) Q(i + d),

    summed over the stencil offsets d; node i at position p inside its block
    reaches block offset D = ⌊(p + d)/f⌋ (per axis), so each (d, D) pair is a
    product over a fixed range of in-block positions. A is symmetric, so only
    D ≥ 0 (in reading order) is summed and A_c[J, J − D] = A_c[J − D, J]ᵀ fills the rest.
    An A stored by its upper half (the matting stencil) is read through its stored offsets
    only, on per-position planes (:func:`_galerkin_half`: 4.5× faster at 1024² than the
    products over all 25 offsets, the same A_c to 1e-14).
    Computed ``rows`` block rows at a time (default: about 2^21 numbers per temporary).
    """
    if A.radius > f:
        raise ValueError(f"aggregates of {f}×{f} are too small for a stencil of radius {A.radius}")
    m, c, hp, wp = Q.shape
    h, w = A.shape
    rho = A.radius
    hc, wc = hp // f, wp // f
    # out[D][a, b] is stored transposed (b, a): the layout BlockStencil keeps, so it makes no copy of it
    out = torch.zeros(3, 3, c, c, hc, wc, dtype=Q.dtype, device=Q.device).transpose(2, 3)
    upper = [(Dy, Dx) for Dy in (0, 1) for Dx in (-1, 0, 1) if (Dy, Dx) > (0, -1)]  # (0,0) (0,1) (1,−1) (1,0) (1,1)
    if A.symmetric:
        _galerkin_half(A, Q, f, out, rows)
    else:
        _galerkin_full(A, Q, f, out, upper, rows)
    for Dy, Dx in upper[1:]:  # the lower half by symmetry: A_c[J, J − D] = A_c[J − D, J]ᵀ
        (yo, yi), (xo, xi) = _ranges(-Dy, hc), _ranges(-Dx, wc)
        out[1 - Dy, 1 - Dx][..., yo, xo] = out[1 + Dy, 1 + Dx].transpose(0, 1)[..., yi, xi]
    # Unknowns whose basis column was dropped are decoupled: put 1 on their diagonal so the block is invertible.
    diag = out[1, 1].diagonal(dim1=0, dim2=1)  # (hc, wc, c) view
    diag += (~keep).permute(1, 2, 0).to(out.dtype)
    return BlockStencil(out)


def _galerkin_half(A: BlockStencil, Q: torch.Tensor, f: int, out: torch.Tensor, rows: int | None) -> None:
    """The upper blocks of Pᵀ A P (into ``out``) for A stored by its upper half (m = 1), from the stored offsets only.

    With F[D](J) = Σ_{d ≥ 0} Σ_{i ∈ J, i + d ∈ J + D} Q(i)ᵀ A_d(i) Q(i + d) (the stored offsets) and G[D] the
    same sum over d > 0, symmetry gives A_c[J, J + D] = F[D](J) + G[−D](J + D)ᵀ; an offset d > 0 reaches
    −D only for D = (0, 0) and (0, 1). Every node is taken at its in-block position p on
    ``pixel_unshuffle`` planes, one plane per (block row, block column): T[D, p'] = Σ Q(i)ᵀ A_d(i) over the
    (d, p) with p + d at position p' of block J + D, then F[D] = Σ_p' T[D, p'] Q(J + D, p')ᵀ.
    """
    c, hp, wp = Q.shape[1:]
    h, w = A.shape
    k, rho = A.k, A.radius
    hc, wc = hp // f, wp // f
    chunk = rows or max(1, (1 << 21) // (f * wp * 8))
    stored = [(u, oy - rho, ox - rho) for u, oy, ox in A._upper()]
    for J0 in range(0, hc, chunk):
        J1 = min(hc, J0 + chunk)
        R, y0, y1 = J1 - J0, J0 * f, J1 * f
        # Q on these block rows, one block row below and one block column each side (zeros outside)
        qh = F.pad(Q[0, :, y0:min(hp, y1 + f)], (f, f, 0, y1 + f - min(hp, y1 + f)))
        QU = F.pixel_unshuffle(qh, f).reshape(c, f * f, R + 1, wc + 2)
        del qh
        half = A._half[:, y0:min(h, y1)]
        half = F.pad(half, (0, wp - w, 0, y1 - y0 - half.shape[-2]))
        HU = F.pixel_unshuffle(half, f).reshape(len(stored), f * f, R, wc)
        del half
        T = {}  # (D, d > 0, p') → (c, R, wc): Σ Q_a(i) A_d(i) over the (d, p) that land on p' of block J + D
        for u, dy, dx in stored:
            for p in range(f * f):
                py, px = divmod(p, f)
                (Dy, qy), (Dx, qx) = divmod(py + dy, f), divmod(px + dx, f)
                key = ((Dy, Dx), u > 0, qy * f + qx)
                term = (QU[:, p, :R, 1:wc + 1], HU[u, p])
                if key in T:
                    T[key].addcmul_(*term)
                else:
                    T[key] = torch.mul(*term)
        del HU
        G0 = torch.zeros(c, c, R, wc, dtype=Q.dtype, device=Q.device)  # G[(0, 0)] (d > 0), transposed into A_c[J, J]
        Gl = torch.zeros(c, c, R, wc, dtype=Q.dtype, device=Q.device)  # G[(0, −1)](J)
        for ((Dy, Dx), positive, q), t in T.items():
            Qt = QU[None, :, q, Dy:Dy + R, 1 + Dx:1 + Dx + wc]  # Q_b(J + D, p'): (1, c, R, wc)
            if (Dy, Dx) == (0, -1):  # a term of A_c[J − (0, 1), J]ᵀ
                Gl.addcmul_(t[:, None], Qt)
                continue
            dest = out[Dy + 1, Dx + 1, :, :, J0:J1]
            dest.addcmul_(t[:, None], Qt)
            if (Dy, Dx) == (0, 0) and positive:
                G0.addcmul_(t[:, None], Qt)
        del T, QU
        out[1, 1, :, :, J0:J1] += G0.transpose(0, 1)  # A_c[J, J] = F[0] + G[0]ᵀ
        out[1, 2, :, :, J0:J1, :wc - 1] += Gl[..., 1:].transpose(0, 1)  # A_c[J, J + (0, 1)] += G[(0, −1)](J + (0, 1))ᵀ


def _galerkin_full(A: BlockStencil, Q: torch.Tensor, f: int, out: torch.Tensor, upper, rows: int | None) -> None:
    """The upper blocks of Pᵀ A P (into ``out``) from the full coefficients of every offset (any m)."""
    m, c, hp, wp = Q.shape
    h, w = A.shape
    rho = A.radius
    hc, wc = hp // f, wp // f

    def positions(d, D):  # in-block positions p with ⌊(p + d)/f⌋ = D, as a slice
        ps = [p for p in range(f) if (p + d) // f == D]
        return slice(ps[0], ps[-1] + 1) if ps else None

    # By block rows J0 … J1 − 1: the temporaries (products, padded copies) stay ~2^21 numbers at 12 MP.
    chunk = rows or max(1, (1 << 21) // (max(m * c, A.k * A.k * m * m) * f * wp))
    for J0 in range(0, hc, chunk):
        J1 = min(hc, J0 + chunk)
        y0, y1 = J0 * f, J1 * f
        # Q(i + d) for every offset d is a view of Qh (rows y0 − ρ … y1 + ρ, zero outside the grid)
        a, b = max(0, y0 - rho), min(hp, y1 + rho)
        Qh = F.pad(Q[..., a:b, :], (rho, rho, rho - (y0 - a), rho - (b - y1)))
        Qb = Q[..., y0:y1, :].reshape(m, c, J1 - J0, f, wc, f)  # (unknown, candidate, block row, pos., block col., pos.)
        coef_all = A.coef_rows(y0, min(h, y1))  # (k, k, m, m, rows, W), padded to whole blocks
        if (y1 - y0, wp) != tuple(coef_all.shape[-2:]):
            coef_all = F.pad(coef_all, (0, wp - w, 0, y1 - y0 - coef_all.shape[-2]))
        for oy in range(A.k):
            for ox in range(A.k):
                dy, dx = oy - rho, ox - rho
                Qs = Qh[..., oy:oy + y1 - y0, ox:ox + wp]
                coef = coef_all[oy, ox]
                CQ = coef[:, 0, None] * Qs[0]  # (m, c, rows, Wp): A_d(i) Q(i + d)
                for u in range(1, m):
                    CQ.addcmul_(coef[:, u, None], Qs[u])
                CQ = CQ.reshape(m, c, J1 - J0, f, wc, f)
                for Dy, Dx in upper:
                    py, px = positions(dy, Dy), positions(dx, Dx)
                    if py is None or px is None:
                        continue
                    # Σ over unknowns and in-block positions of Q(i)ᵀ [A_d Q(i + d)]: (c, c) per aggregate
                    out[Dy + 1, Dx + 1, ..., J0:J1, :] += torch.einsum(
                        "mahpwq,mbhpwq->abhw", Qb[:, :, :, py, :, px], CQ[:, :, :, py, :, px])
