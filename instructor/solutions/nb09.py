"""Notebook 09: reference solutions, wrong answers, library oracles."""

import torch

from stylelab.features import efdm, whitening
from stylelab.media import warping


def efdm_match(content_feat, style_feat):
    """EFDM for equal sizes: the i-th smallest content value of each channel becomes the i-th smallest style value."""
    b, c = content_feat.shape[:2]
    x = content_feat.reshape(b, c, -1)
    order = x.argsort(-1)
    values = style_feat.reshape(style_feat.shape[0], c, -1).sort(-1).values.expand(b, -1, -1)
    return torch.zeros_like(x).scatter(-1, order, values).view_as(content_feat)


def efdm_wrong(content_feat, style_feat):
    """Returns the style's sorted values in sorted order: the right histogram, the content's layout lost."""
    b, c = content_feat.shape[:2]
    return style_feat.reshape(style_feat.shape[0], c, -1).sort(-1).values.expand(b, -1, -1).reshape(content_feat.shape)


def cholesky_whiten(f):
    """L⁻¹ (F − μ) with (F − μ)(F − μ)ᵀ / (N − 1) = L Lᵀ, for a (C, N) matrix."""
    xc = f - f.mean(1, keepdim=True)
    lower = torch.linalg.cholesky(xc @ xc.T / (f.shape[1] - 1))
    return torch.linalg.solve_triangular(lower, xc, upper=False)


def cholesky_whiten_wrong(f):
    """ZCA whitening Σ^{-1/2} (F − μ): white too, but a different rotation than Cholesky's."""
    xc = f - f.mean(1, keepdim=True)
    lam, vec = torch.linalg.eigh(xc @ xc.T / (f.shape[1] - 1))
    return vec @ torch.diag(lam.rsqrt()) @ vec.T @ xc


def warping_errors(output, forward, mask):
    """E_warp(O_t, O_{t+1}) = Σ M ‖O_t − O_{t+1}(x + F)‖² / Σ M with M = mask ∧ (x + F inside the frame)."""
    nxt, inside = warping.warp(output[1:], forward)
    m = (mask & inside).to(output.dtype)
    err = (output[:-1] - nxt).pow(2).sum(1)
    return (err * m).flatten(1).sum(1) / m.flatten(1).sum(1)


def warping_errors_wrong(output, forward, mask):
    """Compares frame t with frame t+1 where it is, not where the flow says the point went."""
    m = mask.to(output.dtype)
    err = (output[:-1] - output[1:]).pow(2).sum(1)
    return (err * m).flatten(1).sum(1) / m.flatten(1).sum(1)


SOLUTIONS = {"09.efdm": efdm_match, "09.cholesky_whiten": cholesky_whiten, "09.warping_errors": warping_errors}
WRONG = {"09.efdm": efdm_wrong, "09.cholesky_whiten": cholesky_whiten_wrong, "09.warping_errors": warping_errors_wrong}
ORACLES = {
    "09.efdm": lambda c, s: efdm.efdm(c, s),
    "09.warping_errors": lambda o, f, m: warping.warping_errors(o, warping.ClipFlow(f, m, "given")),
    "09.cholesky_whiten": lambda f: whitening.whiten(f.view(1, f.shape[0], 1, -1), whitening="cholesky").view(f.shape),
}
