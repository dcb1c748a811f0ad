"""The matting Laplacian of Levin, Lischinski and Weiss, sparse and matrix-free.

Closed-form matting (A. Levin, D. Lischinski, Y. Weiss, "A Closed-Form
Solution to Natural Image Matting", TPAMI 2008) assumes that inside every
small window w_k a quantity v (an alpha matte, or one output colour channel)
is an affine function of the colour: v_i ≈ a_kᵀ I_i + b_k. Minimising the
regularised fit error over (a_k, b_k) leaves a quadratic form vᵀ L v with

    L_ij = Σ_{k : i,j ∈ w_k} ( δ_ij − (1 + (I_i − μ_k)ᵀ (Σ_k + ε/|w| I₃)⁻¹ (I_j − μ_k)) / |w| )

where w_k is the (2r+1)×(2r+1) window centred at pixel k, |w| = (2r+1)², μ_k the
window's mean colour and Σ_k its *biased* colour covariance. Only windows that
lie entirely inside the image are used (centres at least r pixels from the
border). L is symmetric, positive semi-definite, and L·1 = 0.

Conventions (the same as pymatting's ``cf_laplacian`` and MarcoForte's
``compute_laplacian``; Levin et al.'s ``getLaplacian1.m``, which DPST ships,
differs only as noted):

* pixel order is **row-major**: index i = y·W + x (Levin's MATLAB code and
  Luan et al.'s DPST use column-major — a permutation);
* ε = 1e-7 by default (LouieYang's TF port of DPST uses 1e-5; on near-flat
  images the difference is large);
* the *affinity* W = diag(n) − L, with n_i the number of windows covering pixel
  i, is what FastPhotoStyle's ``photo_smooth.py`` calls "laplacian"
  (see :func:`affinity`).

Two constructions are provided:

* :func:`laplacian` — an explicit ``scipy.sparse.csr_matrix`` (float64, CPU),
  vectorised over windows; O(N·|w|²) memory.
* :class:`MattingLaplacian` / :func:`laplacian_matvec` — the product L·v
  computed with box filters (the trick of He, Sun and Tang, "Fast Matting Using
  Large Kernel Matting Laplacian Matrices", CVPR 2010) in O(N) memory, on the
  device and dtype of the image (CUDA, MPS, CPU; float64 is unavailable on MPS —
  use float32 there). With v̄_k and (Iv)‾_k the window means,

      a_k = (Σ_k + ε/|w| I)⁻¹ ((Iv)‾_k − μ_k v̄_k),   b_k = v̄_k − a_kᵀ μ_k,
      (L v)_i = n_i v_i − I_iᵀ Σ_{k∋i} a_k − Σ_{k∋i} b_k.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .. import validate as V
from ..memory import check_fits

__all__ = ["laplacian", "affinity", "laplacian_matvec", "MattingLaplacian", "window_counts", "to_hwc"]


def to_hwc(image) -> np.ndarray:
    """An RGB image as an (H, W, 3) float64 NumPy array.

    Accepts a torch tensor of shape (3, H, W) or (1, 3, H, W), or an (H, W, 3)
    NumPy array (pymatting's layout).
    """
    if isinstance(image, torch.Tensor):
        x = V.check_image(image.detach(), "the matting image", batch=1)[0]
        return x.permute(1, 2, 0).to("cpu", torch.float64).numpy()
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) array, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise V.ImageInputError(f"the matting image has dtype {arr.dtype}; pass floats in [0, 1] (uint8: arr / 255)")
    V.check_image(torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1))), "the matting image")
    return arr.astype(np.float64)


def check_params(eps: float, radius: int, h: int | None = None, w: int | None = None) -> None:
    """Raise a ``ValueError`` for a window radius that is not a positive integer, an ``eps`` ≤ 0
    (a flat window has a zero covariance: without ε the system is singular), or an image
    smaller than one window."""
    if isinstance(radius, bool) or not float(radius).is_integer() or radius < 1:
        raise ValueError(f"radius must be a positive integer (1 → 3×3 windows), got {radius!r}")
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive number (it regularises flat windows, whose covariance is 0; "
                         f"the papers use 1e-7), got {eps!r}")
    if h is not None and (h < 2 * radius + 1 or w < 2 * radius + 1):
        raise ValueError(f"image {h}×{w} is smaller than one {2 * radius + 1}×{2 * radius + 1} window; use a larger image or radius=1")


def _check_size(h: int, w: int, radius: int, eps: float = 1e-7) -> None:
    check_params(eps, radius, h, w)


def _check_sparse_memory(h: int, w: int, radius: int) -> None:
    """Refuse (before allocating) a sparse assembly that would not fit: it holds (2r+1)⁴ values per window."""
    check_fits("smooth", h, w, device="cpu", mode="direct", radius=int(radius))


def _window_values(img: np.ndarray, eps: float, radius: int):
    """Per-window pixel indices (K, n) and L-contributions (K, n, n)."""
    h, w, _ = img.shape
    d = 2 * radius + 1
    n = d * d
    idx = np.arange(h * w).reshape(h, w)
    win_idx = np.lib.stride_tricks.sliding_window_view(idx, (d, d)).reshape(-1, n)  # (K, n) row-major windows
    flat = img.reshape(-1, 3)
    x = flat[win_idx]  # (K, n, 3)
    mu = x.mean(axis=1, keepdims=True)
    c = x - mu
    # Elementwise over the 3 colour axes (batched matmuls of tiny matrices are slow).
    cov = np.empty((c.shape[0], 3, 3))
    for i in range(3):
        for j in range(3):
            cov[:, i, j] = (c[:, :, i] * c[:, :, j]).mean(axis=1)
    cov += (eps / n) * np.eye(3)
    inv = np.linalg.inv(cov)
    x_ = sum(c[:, :, j, None] * inv[:, None, j, :] for j in range(3))  # (K, n, 3) = c Δ
    vals = sum(x_[:, :, None, i] * c[:, None, :, i] for i in range(3))  # (K, n, n) = c Δ cᵀ
    vals += 1.0
    vals *= -1.0 / n
    vals += np.eye(n)[None]
    return win_idx, vals


def laplacian(image, eps: float = 1e-7, radius: int = 1):
    """The matting Laplacian L as a sparse (N, N) CSR matrix, N = H·W, float64.

    Equation (Levin et al., TPAMI 2008; module docstring): L = Σ_k (δ_ij −
    (1 + (I_i−μ_k)ᵀ(Σ_k + ε/|w| I)⁻¹(I_j−μ_k))/|w|), windows of side 2r+1 fully
    inside the image, biased Σ_k, pixel index y·W + x (row-major, like
    pymatting's ``cf_laplacian``).

    Args:
        image: (1, 3, H, W) or (3, H, W) tensor, or (H, W, 3) array, values in [0, 1].
        eps: regulariser added to the window covariance (as ε/|w|).
        radius: window radius r (1 → 3×3 windows).

    Returns:
        ``scipy.sparse.csr_matrix`` with duplicate entries summed.

    Example:
        >>> import numpy as np
        >>> img = np.random.default_rng(0).random((5, 6, 3))
        >>> L = laplacian(img)
        >>> L.shape, bool(np.abs(L @ np.ones(30)).max() < 1e-8)  # constants are in its null space
        ((30, 30), True)
        >>> bool(abs(L - L.T).max() < 1e-12)  # symmetric
        True
    """
    import scipy.sparse as sp

    img = to_hwc(image)
    h, w, _ = img.shape
    _check_size(h, w, radius, eps)
    _check_sparse_memory(h, w, radius)
    _, vals = _window_values(img, eps, radius)
    d = 2 * radius + 1
    hk, wk = h - 2 * radius, w - 2 * radius
    vals = vals.reshape(hk, wk, d * d, d * d)
    # Accumulate window pair (a, b) into the band of pixel offset (b − a): a shifted slice add per pair,
    # so no duplicate entries are ever created (O(N·(4r+1)²) memory).
    span = 4 * radius + 1
    band = np.zeros((span, span, h, w))
    for a in range(d * d):
        ay, ax = divmod(a, d)
        for b in range(d * d):
            by, bx = divmod(b, d)
            band[by - ay + 2 * radius, bx - ax + 2 * radius, ay:ay + hk, ax:ax + wk] += vals[:, :, a, b]
    yy, xx = np.divmod(np.arange(h * w), w)
    rows, cols, data = [], [], []
    for oy in range(span):
        for ox in range(span):
            dy, dx = oy - 2 * radius, ox - 2 * radius
            ok = (yy + dy >= 0) & (yy + dy < h) & (xx + dx >= 0) & (xx + dx < w)
            idx = np.nonzero(ok)[0]
            rows.append(idx)
            cols.append(idx + dy * w + dx)
            data.append(band[oy, ox].ravel()[idx])
    L = sp.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(h * w, h * w))
    L.sum_duplicates()
    return L


def window_counts(h: int, w: int, radius: int = 1) -> np.ndarray:
    """(H, W) array: how many full windows of radius r cover each pixel (the degree of the affinity)."""
    _check_size(h, w, radius)

    def one(m):
        i = np.arange(m)
        lo = np.maximum(i - radius, radius)
        hi = np.minimum(i + radius, m - 1 - radius)
        return np.maximum(hi - lo + 1, 0)

    return np.outer(one(h), one(w)).astype(np.float64)


def affinity(image, eps: float = 1e-7, radius: int = 1):
    """The matting affinity W = diag(n) − L (sparse CSR, float64).

    This is the matrix FastPhotoStyle's ``photo_smooth.py`` builds (and calls
    "laplacian"): W_ij = Σ_k (1 + (I_i−μ_k)ᵀ(Σ_k + ε/|w| I)⁻¹(I_j−μ_k))/|w|.
    Each window's rows sum to 1, so W·1 = n (the number of windows covering each
    pixel, :func:`window_counts`). Entries can be negative.
    """
    import scipy.sparse as sp

    img = to_hwc(image)
    h, w, _ = img.shape
    L = laplacian(img, eps=eps, radius=radius)
    return (sp.diags(window_counts(h, w, radius).ravel()) - L).tocsr()


# --------------------------------------------------------------------------- matrix-free
def _box_mean_valid(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over each full window: (..., H, W) → (..., H−2r, W−2r)."""
    shape = x.shape
    y = F.avg_pool2d(x.reshape(-1, 1, shape[-2], shape[-1]), 2 * radius + 1, stride=1)
    return y.reshape(*shape[:-2], y.shape[-2], y.shape[-1])


def _box_sum_adjoint(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Σ over window centres k ∋ i of x_k: (..., H−2r, W−2r) → (..., H, W) (adjoint of the box sum)."""
    d = 2 * radius + 1
    shape = x.shape
    y = F.pad(x.reshape(-1, 1, shape[-2], shape[-1]), (2 * radius,) * 4)
    y = F.avg_pool2d(y, d, stride=1) * (d * d)
    return y.reshape(*shape[:-2], y.shape[-2], y.shape[-1])


class MattingLaplacian:
    """The matting Laplacian of one image as a matrix-free operator v ↦ L v.

    Precomputes, per full window, the mean colour μ_k (3,) and
    Δ_k = (Σ_k + ε/|w| I)⁻¹ (3×3); each product then costs a few box filters,
    O(N) time and memory, on the image's device and dtype (module docstring).

    Args:
        image: (1, 3, H, W) or (3, H, W) tensor in [0, 1]. float64 recommended
            on CPU/CUDA; on MPS use float32 (no float64 there) — the products are
            then accurate to ~1e-6 relative.
        eps, radius: as in :func:`laplacian`.

    ``op @ v`` / ``op.matvec(v)`` accept v of shape (H, W), (C, H, W) or
    (B, C, H, W) (every leading channel independently) and return the same shape.
    """

    def __init__(self, image: torch.Tensor, eps: float = 1e-7, radius: int = 1):
        if not isinstance(image, torch.Tensor):
            image = torch.as_tensor(np.ascontiguousarray(to_hwc(image).transpose(2, 0, 1)))
        image = V.check_image(image, "the matting image", batch=1)[0]
        _, h, w = image.shape
        _check_size(h, w, radius, eps)
        self.image, self.eps, self.radius = image, float(eps), int(radius)
        self.shape = (h, w)
        n = (2 * radius + 1) ** 2
        I = image
        mu = _box_mean_valid(I, radius)  # (3, h', w')
        # Δ_k = (Σ_k + ε/|w| I)⁻¹ plane by plane from Σ = L D Lᵀ (Cholesky without roots; the adjugate's
        # determinant cancels by κ ≈ 1e7 on grey windows): Δ = Mᵀ D⁻¹ M, M = L⁻¹ = [[1,0,0],[−l21,1,0],[m31,−l32,1]]
        ij = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
        prod = _box_mean_valid(torch.stack([I[i] * I[j] for i, j in ij]), radius)  # (6, h', w')
        prod -= torch.stack([mu[i] * mu[j] for i, j in ij])
        prod[[0, 3, 5]] += self.eps / n
        a, b, c, d, e, f = prod
        l21, l31 = b / a, c / a
        d2 = d - b * l21
        l32 = (e - c * l21) / d2
        d3 = f - c * l31 - l32 * l32 * d2
        m31, i1, i2, i3 = l21 * l32 - l31, 1 / a, 1 / d2, 1 / d3
        del prod, a, b, c, d, e, f
        self._delta = delta = torch.empty(3, 3, *i1.shape, dtype=I.dtype, device=I.device)  # (3, 3, h', w')
        torch.mul(m31 * m31, i3, out=delta[0, 0]).addcmul_(l21 * l21, i2).add_(i1)
        torch.mul(m31 * l32, i3, out=delta[0, 1]).neg_().addcmul_(l21, i2, value=-1.0)
        torch.mul(m31, i3, out=delta[0, 2])
        torch.mul(l32 * l32, i3, out=delta[1, 1]).add_(i2)
        torch.mul(l32, i3, out=delta[1, 2]).neg_()
        delta[2, 2] = i3
        delta[1, 0], delta[2, 0], delta[2, 1] = delta[0, 1], delta[0, 2], delta[1, 2]
        self.delta = delta.permute(2, 3, 0, 1)  # (h', w', 3, 3) view: Δ_k of each window
        self.mu = mu
        ones = torch.ones(1, h - 2 * radius, w - 2 * radius, dtype=I.dtype, device=I.device)
        self.counts = _box_sum_adjoint(ones, radius)[0]  # (H, W)

    @property
    def n(self) -> int:
        """N = H·W, the operator's size."""
        return self.shape[0] * self.shape[1]

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        if tuple(v.shape[-2:]) != self.shape:
            raise ValueError(f"v has spatial shape {tuple(v.shape[-2:])}, the Laplacian is for {self.shape}")
        r = self.radius
        vb = _box_mean_valid(v, r)  # (..., h', w')
        ivb = _box_mean_valid(self.image * v.unsqueeze(-3), r)  # (..., 3, h', w')
        rhs = ivb - self.mu * vb.unsqueeze(-3)
        a = torch.einsum("ijhw,...jhw->...ihw", self._delta, rhs)
        b = vb - (a * self.mu).sum(-3)
        sa = _box_sum_adjoint(a, r)  # (..., 3, H, W)
        sb = _box_sum_adjoint(b, r)
        return self.counts * v - (self.image * sa).sum(-3) - sb

    __matmul__ = matvec

    def diagonal(self) -> torch.Tensor:
        """diag(L) as an (H, W) tensor: n_i − Σ_{k∋i}(1 + c_ikᵀ Δ_k c_ik)/|w|."""
        r = self.radius
        n = (2 * r + 1) ** 2
        I = self.image
        # Σ_k c_ᵀΔc = Σ_k (IᵀΔI − 2 IᵀΔμ + μᵀΔμ): expand with box sums of Δ, Δμ, μᵀΔμ.
        D = self._delta  # (3, 3, h', w')
        Dmu = torch.einsum("ijhw,jhw->ihw", D, self.mu)
        muDmu = (self.mu * Dmu).sum(0)
        SD = _box_sum_adjoint(D, r)
        SDmu = _box_sum_adjoint(Dmu, r)
        SmuDmu = _box_sum_adjoint(muDmu, r)
        quad = torch.einsum("ihw,ijhw,jhw->hw", I, SD, I) - 2 * (I * SDmu).sum(0) + SmuDmu
        return self.counts - (self.counts + quad) / n

    def to_sparse(self):
        """The same operator as an explicit SciPy CSR matrix (via :func:`laplacian`)."""
        return laplacian(self.image, eps=self.eps, radius=self.radius)

    def stencil(self, dtype: torch.dtype | None = None, *, upper: bool = False) -> torch.Tensor:
        """L as a variable-coefficient stencil: a (k, k, H, W) tensor, k = 4r + 1.

        ``S[oy, ox, y, x] = L_ij`` with i = (y, x) and j = (y + oy − 2r, x + ox − 2r)
        (zero where j is outside the image), so (L v)_i = Σ_o S[o, i] v_{i+o}.
        Built window by window from the local matrices
        L^k_ab = δ_ab − (1 + c_aᵀ Δ_k c_b)/|w| (c_a = I_a − μ_k) on the image's
        device, in ``dtype`` (default: the image's); 25·N numbers for r = 1
        (the explicit matrix :func:`laplacian` holds the same entries in CSR form).
        Used by the multigrid smoother (:mod:`stylelab.smoothing.multigrid`).

        ``upper=True``: only the offsets o ≥ (2r, 2r) in reading order, as a
        ((k² + 1)/2, H, W) tensor (13·N numbers for r = 1) — the storage of
        ``BlockStencil(symmetric=True)``; L is symmetric, so L_ji = L_ij gives the
        rest. Built directly, without the full stencil (half the peak memory).
        """
        r = self.radius
        d = 2 * r + 1
        n = d * d
        k = 2 * d - 1
        h, w = self.shape
        hk, wk = h - 2 * r, w - 2 * r
        dtype = dtype or self.image.dtype
        I, mu = self.image, self.mu
        delta, half = self._delta, k * k // 2  # Δ (3, 3, h', w'); the stored offsets d ≥ 0: flat indices half … k² − 1
        S = torch.zeros(k * k - half, h, w, dtype=I.dtype, device=I.device)
        pos = [divmod(a, d) for a in range(n)]
        # temporaries allocated once (fresh 100 MB ones per window pair: a third of the time in page faults at 12 MP)
        ca, ua, t = (torch.empty(shape, dtype=I.dtype, device=I.device) for shape in ((3, hk, wk), (3, hk, wk), (hk, wk)))
        for a, (ay, ax) in enumerate(pos):
            torch.sub(I[:, ay:ay + hk, ax:ax + wk], mu, out=ca)  # c_a = I_a − μ_k
            for i in range(3):  # Δ_k c_a (Δ_k is symmetric)
                torch.mul(delta[i, 0], ca[0], out=ua[i])
                ua[i].addcmul_(delta[i, 1], ca[1]).addcmul_(delta[i, 2], ca[2])
            torch.mul(ua[0], mu[0], out=t)  # so that 1 + c_aᵀΔ_k c_b = Σ_i ua_i I_b,i − t
            t.addcmul_(ua[1], mu[1]).addcmul_(ua[2], mu[2]).sub_(1.0)
            ua.mul_(-1.0 / n)  # L^k_ab = δ_ab − (Σ_i ua_i I_b,i − t)/|w|, accumulated straight into S
            t.mul_(1.0 / n)
            for b in range(a, n):  # pixel a couples to pixel b at offset b − a ≥ (0, 0) in reading order
                by, bx = pos[b]
                Ib = I[:, by:by + hk, bx:bx + wk]
                o = S[(by - ay + 2 * r) * k + bx - ax + 2 * r - half, ay:ay + hk, ax:ax + wk]
                o.addcmul_(ua[0], Ib[0]).addcmul_(ua[1], Ib[1]).addcmul_(ua[2], Ib[2]).add_(t)
                if a == b:  # the δ_ab of L^k
                    o += 1.0
        if upper:
            return S.to(dtype)
        full = torch.zeros(k * k, h, w, dtype=dtype, device=I.device)
        full[half:] = S
        for u in range(1, k * k - half):  # L symmetric: S[−e](j) = S[e](j − e)
            ey, ex = divmod(half + u, k)
            ey, ex = ey - 2 * r, ex - 2 * r
            full[half - u, max(0, ey):h + min(0, ey), max(0, ex):w + min(0, ex)] = \
                S[u, max(0, -ey):h - max(0, ey), max(0, -ex):w - max(0, ex)]
        return full.reshape(k, k, h, w)


def laplacian_matvec(image: torch.Tensor, v: torch.Tensor, eps: float = 1e-7, radius: int = 1) -> torch.Tensor:
    """L·v for the matting Laplacian of ``image`` without forming L (box filters, O(N) memory).

    Args:
        image: (1, 3, H, W) or (3, H, W) tensor.
        v: (H, W), (C, H, W) or (B, C, H, W) tensor (each channel separately), or a
            flat (H·W,) vector in row-major order.

    Returns:
        L·v with the shape of ``v``. Equal to ``laplacian(image) @ v.ravel()``.
        Build a :class:`MattingLaplacian` once when multiplying many times.

    Example:
        >>> import numpy as np, torch
        >>> image = torch.rand(3, 5, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        >>> v = torch.rand(5, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        >>> L = laplacian(image.permute(1, 2, 0).numpy())  # the assembled matrix, pixel index y·W + x
        >>> np.allclose(laplacian_matvec(image, v).numpy().ravel(), L @ v.numpy().ravel())
        True
    """
    op = MattingLaplacian(image, eps=eps, radius=radius)
    if v.dim() == 1:
        return op.matvec(v.reshape(op.shape)).reshape(-1)
    return op.matvec(v)
