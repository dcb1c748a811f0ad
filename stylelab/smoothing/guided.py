"""The box filter and the colour guided filter (He, Sun, Tang), and local affine colour models.

He, Sun, Tang, "Guided Image Filtering", ECCV 2010 / TPAMI 2013. In every
(2r+1)² window k the output is modelled as an affine function of the guide's
colour, q_i = a_kᵀ I_i + b_k; the least-squares fit with a ridge ε on a_k is

    a_k = (Σ_k + ε I₃)⁻¹ cov_k(I, p),   b_k = p̄_k − a_kᵀ μ_k,

(μ_k, Σ_k the window's mean colour and biased covariance), and the filter
averages the models of the windows that cover a pixel:
q_i = ā_iᵀ I_i + b̄_i. Every mean is a box filter, O(N) for any radius.
FastPhotoStyle's fast smoothing (``photo_gif.py``) is this filter with
r = 35, ε = 1e-3 (:func:`stylelab.smoothing.smooth`, ``mode="gif"``); the
same model with r = 1 turns a coarse solution of the exact smoothing into a
starting guess at full resolution (:func:`local_affine`).
"""

from __future__ import annotations

import torch

from .. import validate as V

__all__ = ["box_mean", "guided_filter", "local_affine"]


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


def _fit(p: torch.Tensor, I: torch.Tensor, radius: int, eps: float):
    """Per-window models (a (C, 3, H, W), b (C, H, W)) of p (C, H, W) on the guide I (3, H, W)."""
    mu = box_mean(I, radius)  # (3, H, W)
    pm = box_mean(p, radius)  # (C, H, W)
    cov = box_mean(I[:, None] * I[None, :], radius) - mu[:, None] * mu[None, :]  # (3, 3, H, W)
    cov = cov.permute(2, 3, 0, 1) + eps * torch.eye(3, dtype=I.dtype, device=I.device)
    cip = box_mean(I[None] * p[:, None], radius) - mu[None] * pm[:, None]  # (C, 3, H, W)
    inv = torch.linalg.inv(cov)  # (H, W, 3, 3), once for every channel
    a = torch.einsum("hwij,cjhw->cihw", inv, cip)
    b = pm - (a * mu[None]).sum(1)
    return a, b


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
    src = V.check_image(src, "src", channels=None, batch=1)
    guide = V.check_image(guide, "guide", batch=1)
    V.check_positive(radius, "the guided filter's radius", integer=True)
    V.check_positive(eps, "the guided filter's eps")
    if src.shape[-2:] != guide.shape[-2:]:
        raise ValueError(f"src {tuple(src.shape)} and guide {tuple(guide.shape)} must have the same height and width")
    I = guide[0].to(src.dtype)
    a, b = _fit(src[0], I, radius, eps)
    return ((box_mean(a, radius) * I[None]).sum(1) + box_mean(b, radius))[None]


def local_affine(r: torch.Tensor, I: torch.Tensor, radius: int = 1, eps: float = 1e-4):
    """The guided filter's averaged models (ā (C, 3, H, W), b̄ (C, H, W)) of r (C, H, W) on the guide I (3, H, W).

    ``(ā * I).sum(1) + b̄`` is the guided filter of r; the models themselves can
    be resampled to another resolution and applied to that resolution's guide
    (the coarse-to-fine start of :func:`stylelab.smoothing.solvers.solve_cg`).
    """
    a, b = _fit(r, I, radius, eps)
    return box_mean(a, radius), box_mean(b, radius)
