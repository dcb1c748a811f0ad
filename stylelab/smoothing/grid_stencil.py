"""Linear operators on an image grid with m unknowns per node: block stencils and their block-Jacobi inverse.

The building blocks of :mod:`stylelab.smoothing.multigrid` (its docstring has the method
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

    ``symmetric=True`` (m = 1, for a symmetric A): only the offsets d = (oy − ρ, ox − ρ) ≥ (0, 0)
    in reading order are stored, (k² + 1)/2 of the k² (13 of 25 for the matting Laplacian: half
    the memory); the others follow from A_{j, j+e} = A_{j+e, j}: coef[−d](j) = coef[d](j − d).
    :meth:`offset_coef` and :meth:`coef_rows` give the full coefficients either way.
    """

    def __init__(self, coef: torch.Tensor, symmetric: bool = False):
        if coef.dim() != 6 or coef.shape[0] != coef.shape[1] or coef.shape[0] % 2 != 1 or coef.shape[2] != coef.shape[3]:
            raise ValueError(f"coef must have shape (k, k, m, m, H, W) with odd k, got {tuple(coef.shape)}")
        if symmetric and coef.shape[2] != 1:
            raise ValueError(f"symmetric storage is for one unknown per node, got m = {coef.shape[2]}")
        self.k, self.m = coef.shape[0], coef.shape[2]
        self.radius = self.k // 2
        self.shape = tuple(coef.shape[-2:])
        self.symmetric = symmetric
        self.dtype, self.device = coef.dtype, coef.device
        if symmetric:  # the upper half: flat offsets k²//2 … k² − 1, contiguous in (k, k) reading order
            self._half = coef.reshape(self.k * self.k, *self.shape)[self.k * self.k // 2:].clone()
            self._columns = self.coef = None
        else:
            self._columns = coef.transpose(2, 3).contiguous()  # (k, k, b, a, H, W): the only copy kept
            self.coef = self._columns.transpose(2, 3)  # a view (no copy when m = 1)

    @classmethod
    def from_upper(cls, upper: torch.Tensor) -> "BlockStencil":
        """The symmetric operator (m = 1) stored by its upper half: ``upper`` is ((k² + 1)/2, H, W),
        the offsets k²//2 … k² − 1 in reading order (e.g. ``MattingLaplacian.stencil(upper=True)``); kept, not copied."""
        k = round((2 * upper.shape[0] - 1) ** 0.5) if upper.dim() == 3 else 0
        if upper.dim() != 3 or k % 2 != 1 or k * k != 2 * upper.shape[0] - 1:
            raise ValueError(f"upper must have shape ((k² + 1)/2, H, W) with odd k, got {tuple(upper.shape)}")
        new = object.__new__(cls)
        new.k, new.m, new.radius, new.shape, new.symmetric = k, 1, k // 2, tuple(upper.shape[-2:]), True
        new.dtype, new.device, new._half, new._columns, new.coef = upper.dtype, upper.device, upper, None, None
        return new

    def _upper(self):
        """(index in the stored half, oy, ox) of every stored offset."""
        k = self.k
        return [(u, *divmod(k * k // 2 + u, k)) for u in range(k * k - k * k // 2)]

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-3:]) != (self.m, *self.shape):
            raise ValueError(f"x has shape {tuple(x.shape)}, the operator acts on (..., {self.m}, {self.shape[0]}, {self.shape[1]})")
        h, w = self.shape
        rho = self.radius
        xp = F.pad(x, (rho, rho, rho, rho))  # zeros outside the grid
        out = torch.zeros_like(x)
        if self.symmetric:
            for u, oy, ox in self._upper():
                c = self._half[u]
                out.addcmul_(c, xp[..., oy:oy + h, ox:ox + w])  # A_{i, i+d} x_{i+d}
                if (oy, ox) != (rho, rho):  # and the mirrored A_{i, i−d} x_{i−d} = coef[d](i − d) x_{i−d}
                    (yo, yi), (xo, xi) = _ranges(rho - oy, h), _ranges(rho - ox, w)
                    out[..., yo, xo].addcmul_(c[yi, xi], x[..., yi, xi])  # in place: no temporary
            return out
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

    def coef_rows(self, y0: int, y1: int) -> torch.Tensor:
        """coef[..., y0:y1, :], shape (k, k, m, m, y1 − y0, W) (a copy when stored symmetric)."""
        if not self.symmetric:
            return self.coef[..., y0:y1, :]
        h, w = self.shape
        rho = self.radius
        out = torch.zeros(self.k, self.k, 1, 1, y1 - y0, w, dtype=self.dtype, device=self.device)
        for u, oy, ox in self._upper():
            out[oy, ox, 0, 0] = self._half[u, y0:y1]
            if (oy, ox) != (rho, rho):  # coef[−d](j) = coef[d](j − d), rows j − dy of the stored half
                dy, dx = oy - rho, ox - rho
                a, b = max(y0, dy), min(y1, h + dy)  # rows j with 0 ≤ j − dy < h
                if a < b:
                    (xo, xi) = _ranges(-dx, w)
                    out[2 * rho - oy, 2 * rho - ox, 0, 0, a - y0:b - y0, xo] = self._half[u, a - dy:b - dy, xi]
        return out

    def offset_coef(self, oy: int, ox: int) -> torch.Tensor:
        """The (m, m, H, W) coefficients of one offset (a copy for a mirrored offset when stored symmetric)."""
        if not self.symmetric:
            return self.coef[oy, ox]
        k, rho = self.k, self.radius
        if oy * k + ox >= k * k // 2:
            return self._half[oy * k + ox - k * k // 2][None, None]
        h, w = self.shape
        u = (k - 1 - oy) * k + (k - 1 - ox) - k * k // 2  # the stored offset d = −e
        dy, dx = rho - oy, rho - ox
        out = torch.zeros(1, 1, h, w, dtype=self.dtype, device=self.device)
        (yo, yi), (xo, xi) = _ranges(-dy, h), _ranges(-dx, w)
        out[0, 0, yo, xo] = self._half[u, yi, xi]
        return out

    def to(self, dtype: torch.dtype) -> "BlockStencil":
        """The same operator with coefficients in ``dtype`` (itself if already)."""
        if dtype == self.dtype:
            return self
        if self.symmetric:
            new = object.__new__(BlockStencil)
            new.__dict__.update(self.__dict__)
            new._half, new.dtype = self._half.to(dtype), dtype
            return new
        return BlockStencil(self.coef.to(dtype))

    def dense(self) -> torch.Tensor:
        """The operator as a dense (H·W·m, H·W·m) matrix, unknown index (y·W + x)·m + a (small grids only)."""
        h, w = self.shape
        n = h * w * self.m
        eye = torch.eye(n, dtype=self.dtype, device=self.device).reshape(n, h, w, self.m).permute(0, 3, 1, 2)
        return self.apply(eye).permute(0, 2, 3, 1).reshape(n, n).T


class BlockJacobi:
    """x ↦ D_B⁻¹ x for the s×s node blocks of A, partition shifted by ``shift`` nodes (both axes).

    D_B holds, per block, the (s²m × s²m) sub-matrix of A on the block's nodes
    (taken from the stencil: entries between nodes closer than the radius);
    nodes of the padding outside the grid get the identity. Inverted once
    (``torch.linalg.inv``; for an A stored by its upper half, whose blocks are SPD, from
    their upper triangles by Cholesky), stored in ``dtype``.

    ``symmetric`` (default: A's own storage, ``A.symmetric``): D_J⁻¹ is symmetric
    when A is, so only its upper triangle is kept, column by column: n(n+1)/2 of
    the n² numbers per block (n = s²m; 136 of 256 for 4×4 blocks, 34 instead of
    64 B/px in float32), and the product uses each stored entry twice.
    """

    def __init__(self, A: BlockStencil, s: int, shift: int = 0, dtype: torch.dtype | None = None,
                 symmetric: bool | None = None):
        h, w = A.shape
        m, rho = A.m, A.radius
        self.s, self.shift, self.shape, self.m = s, shift, (h, w), m
        self.hp, self.wp = -(-(h + shift) // s) * s, -(-(w + shift) // s) * s
        self._pad = (shift, self.wp - w - shift, shift, self.hp - h - shift)
        hb, wb, n = self.hp // s, self.wp // s, s * s * m
        # (n, n, hb, wb), unknown index a·s² + p (p = py·s + px inside the block): the order of pixel_unshuffle
        self.n = n
        self.symmetric = A.symmetric if symmetric is None else bool(symmetric)
        # column q of the inverse from row 0 (symmetric: to row q only) at planes start[q] …
        self._start = [q * (q + 1) // 2 for q in range(n)] if self.symmetric else [q * n for q in range(n)]
        rows = n * (n + 1) // 2 if self.symmetric else n * n
        self.inv = torch.empty(rows, hb, wb, dtype=dtype or A.dtype, device=A.device)
        chunk = max(1, (1 << 21) // (wb * n * n))  # block rows per chunk: bounded temporaries at 12 MP
        # the stored entries as rows of the (n·n, blocks) planar inverse, index p·n + q: column q from row 0
        # (symmetric: to row q only), i.e. the order of self._start
        upper = [(p, q) for q in range(n) for p in range(q + 1 if self.symmetric else n)]
        take = torch.tensor([p * n + q for p, q in upper], device=A.device)
        mirror = torch.tensor([q * n + p for p, q in upper], device=A.device)
        k = A.k
        for r0 in range(0, hb, chunk):
            r1 = min(hb, r0 + chunk)
            y0, y1 = r0 * s - shift, r1 * s - shift  # grid rows of these blocks (outside the grid: padding)
            pad = (*self._pad[:2], max(0, -y0), max(0, y1 - h))
            # the blocks in planar layout (row unknown, column unknown, block row, block column): whole-plane copies
            blk = torch.zeros(m, s * s, m, s * s, r1 - r0, wb, dtype=A.dtype, device=A.device)
            if A.symmetric:  # straight from the stored half: A[i_p, i_q] = half[q − p](i_p) for q ≥ p, mirrored below
                half = F.pad(A._half[:, max(0, y0):min(h, y1)], pad)
                for p in range(s * s):
                    py, px = divmod(p, s)
                    for q in range(p, s * s):
                        qy, qx = divmod(q, s)
                        if abs(qy - py) <= rho and abs(qx - px) <= rho:
                            blk[0, p, 0, q] = half[(qy - py + rho) * k + qx - px + rho - k * k // 2, py::s, px::s]
                del half  # the upper triangle only: the Cholesky factor below reads no other
            else:
                coef = F.pad(A.coef_rows(max(0, y0), min(h, y1)), pad)
                # every offset's coefficients by in-block position: (k, k, m, m, s², block rows, block columns)
                coef = F.pixel_unshuffle(coef.reshape(k * k * m * m, *coef.shape[-2:]), s).reshape(
                    k, k, m, m, s * s, r1 - r0, wb)
                for p in range(s * s):
                    py, px = divmod(p, s)
                    for q in range(s * s):
                        qy, qx = divmod(q, s)
                        if abs(qy - py) <= rho and abs(qx - px) <= rho:
                            blk[:, p, :, q] = coef[qy - py + rho, qx - px + rho, :, :, p]
                del coef
            rows = torch.arange(y0, y1, device=A.device)
            cols = torch.arange(-shift, self.wp - shift, device=A.device)
            inside = ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None, :]
            inside = F.pixel_unshuffle(inside[None].to(blk.dtype), s)  # (s², block rows, block columns)
            blk = blk.reshape(n, n, r1 - r0, wb)
            diag = blk.diagonal(dim1=0, dim2=1)  # (block rows, block columns, n) view: padding nodes get 1
            diag += (1 - inside).repeat(m, 1, 1).permute(1, 2, 0)
            blk = blk.permute(2, 3, 0, 1)  # (block rows, block columns, n, n)
            if A.symmetric:  # SPD blocks (of an SPD A) from their upper triangle: D_J⁻¹ by Cholesky, exactly symmetric
                U, bad = torch.linalg.cholesky_ex(blk, upper=True)
                if not bool(bad.any()):
                    inv = torch.cholesky_inverse(U, upper=True)
                else:  # not positive definite in this precision: the full blocks and LU
                    inv = torch.linalg.inv(blk.triu() + blk.triu(1).transpose(-1, -2))
                del U
            else:
                inv = torch.linalg.inv(blk)
            del blk
            flat = inv.reshape(-1, n * n).T  # (n·n, blocks), index p·n + q
            if self.symmetric and not A.symmetric:  # equal up to rounding: the mean of the two
                self.inv[:, r0:r1] = ((flat[take] + flat[mirror]) * 0.5).reshape(-1, r1 - r0, wb)
            else:
                self.inv[:, r0:r1] = flat[take].reshape(-1, r1 - r0, wb)

    def __call__(self, r: torch.Tensor) -> torch.Tensor:
        s, m = self.s, self.m
        h, w = self.shape
        ru = F.pixel_unshuffle(F.pad(r, self._pad), s)  # (..., m·s², hb, wb): every block's values
        # x_J = D_J⁻¹ r_J for all blocks J at once: n products of whole (..., n, hb, wb) tensors (the small batched
        # matrix products of every block are slower on CPU, and need two copies to lay the blocks out)
        xu = torch.zeros_like(ru)
        for q, at in enumerate(self._start):
            if not self.symmetric:
                xu.addcmul_(self.inv[at:at + self.n], ru[..., q:q + 1, :, :])
                continue
            col = self.inv[at:at + q + 1]  # D_J⁻¹[p, q] for p ≤ q
            xu[..., :q + 1, :, :].addcmul_(col, ru[..., q:q + 1, :, :])  # the upper triangle and the diagonal
            for p in range(q):  # row q left of the diagonal: D_J⁻¹[q, p] = D_J⁻¹[p, q], p < q (in place)
                xu[..., q, :, :].addcmul_(col[p], ru[..., p, :, :])
        x = F.pixel_shuffle(xu, s)
        return x[..., self.shift:self.shift + h, self.shift:self.shift + w]
