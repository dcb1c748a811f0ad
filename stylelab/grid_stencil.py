"""Linear operators on an image grid with m unknowns per node: block stencils and their block-Jacobi inverse.

The building blocks of :mod:`stylelab.multigrid` (its docstring has the method
and the references): :class:`BlockStencil` stores a variable-coefficient
(2ρ+1)² stencil of m×m blocks (the matting Laplacian's 25-point stencil has
m = 1; every Galerkin coarse operator is a 3×3 stencil of 4×4 blocks) and
applies it with shifted slices; :class:`BlockJacobi` inverts its diagonal blocks
on an s×s partition of the nodes (the multigrid's smoother). Both work on any
device and dtype, in O(N) memory, without a sparse matrix.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["BlockStencil", "BlockJacobi"]


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
        # column b of every (m × m) block times the b-th unknown of the shifted neighbour, all rows a at once
        # (in x's dtype, also when the coefficients are float64 and x float32):
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
