"""Notebook 09: reference solutions, wrong answers, library oracles."""

import torch

from stylelab import efdm, whitening


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


SOLUTIONS = {"09.efdm": efdm_match, "09.cholesky_whiten": cholesky_whiten}
WRONG = {"09.efdm": efdm_wrong, "09.cholesky_whiten": cholesky_whiten_wrong}
ORACLES = {
    "09.efdm": lambda c, s: efdm.efdm(c, s),
    "09.cholesky_whiten": lambda f: whitening.whiten(f.view(1, f.shape[0], 1, -1), whitening="cholesky").view(f.shape),
}
