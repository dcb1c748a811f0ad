"""Exercises of notebook 09 (after WCT²): EFDM's sort matching, Cholesky whitening, the warping error."""

from __future__ import annotations

import inspect

import numpy as np
import torch

from ...features import efdm as E
from ...media import warping as Wp
from ...features import whitening as Wh
from . import exercise


def _guarded(fallback, answers) -> dict:
    """``fallback=``/``answers=`` where :func:`exercise` takes them (the exercise machinery that switches the
    library's answer off while a student's function is checked); nothing where it does not yet."""
    params = inspect.signature(exercise).parameters
    return {k: v for k, v in (("fallback", fallback), ("answers", answers)) if k in params}


def _feats(seed, c=5, h=4, w=6, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, c, h, w, generator=g, dtype=torch.float64) ** 3 + shift


def _same_histograms(out, content, style):
    got = np.sort(out.reshape(out.shape[0], out.shape[1], -1), -1)
    want = np.sort(style.reshape(style.shape[0], style.shape[1], -1).numpy(), -1)
    if not np.array_equal(got, want):
        raise AssertionError("each channel's sorted values must be exactly the style's sorted values")


@exercise("09.efdm", rtol=0, atol=1e-12, what="matched features", extra=_same_histograms,
          hint="Per channel: order = content.argsort(); put the style's sorted values at those positions "
               "(out[order] = style.sort().values), keeping the content's spatial order.",
          **_guarded(lambda c, s: E.efdm(c, s), (E.efdm, E.quantile_values)))
def _efdm_cases():
    return [(_feats(0), _feats(1, shift=2.0)), (_feats(2, c=3, h=7, w=5), _feats(3, c=3, h=5, w=7))]


def _white(out, f):
    cov = np.cov(out, ddof=1)
    if not np.allclose(cov, np.eye(len(cov)), atol=1e-8):
        raise AssertionError("the whitened features' covariance is not the identity")


def _cholesky_library(f):
    return Wh.whiten(f.view(1, f.shape[0], 1, -1), whitening="cholesky").view(f.shape)


@exercise("09.cholesky_whiten", rtol=1e-8, atol=1e-10, what="whitened features", extra=_white,
          hint="Σ = (F − μ)(F − μ)ᵀ / (N − 1) = L Lᵀ (torch.linalg.cholesky); return L⁻¹ (F − μ) "
               "(torch.linalg.solve_triangular). Σ^{-1/2} (ZCA) also whitens, but it is another rotation.",
          **_guarded(_cholesky_library, (Wh.whiten, Wh.cholesky_factor, Wh.whitening_matrix)))
def _cholesky_cases():
    def feats(seed, c, n):
        g = torch.Generator().manual_seed(seed)
        m = torch.randn(c, c, generator=g, dtype=torch.float64)
        return m @ torch.randn(c, n, generator=g, dtype=torch.float64) + 1.5
    return [(feats(10, 4, 50),), (feats(11, 3, 8),)]


def _library_warping_errors(output, forward, mask):
    """The library's E_warp per frame pair for a flow and mask given as tensors."""
    return Wp.warping_errors(output, Wp.ClipFlow(forward, mask, "given"))


def _warping_cases():
    g = torch.Generator().manual_seed(90)
    T, H, W = 4, 9, 11
    out = torch.rand(T, 3, H, W, generator=g, dtype=torch.float64)
    forward = 1.5 * torch.randn(T - 1, 2, H, W, generator=g, dtype=torch.float64)  # some samples leave the frame
    mask = torch.rand(T - 1, H, W, generator=g) > 0.3
    # edge case: one frame pair of an odd size, no motion, every pixel kept (the error is the plain difference)
    out2 = torch.rand(2, 3, 5, 7, generator=g, dtype=torch.float64)
    still = torch.zeros(1, 2, 5, 7, dtype=torch.float64)
    return [(out, forward, mask), (out2, still, torch.ones(1, 5, 7, dtype=torch.bool))]


@exercise("09.warping_errors", rtol=1e-9, atol=1e-12, what="warping errors",
          hint="Warp frames 1…T−1 back along the flow (stylelab.media.warping.warp gives (warped, inside)); per pair, "
               "sum the squared RGB difference with frame t, keep pixels where mask AND inside, divide by their "
               "count.", **_guarded(_library_warping_errors, (Wp.warping_errors, Wp.warping_error)))
def _warping_cases_registered():
    return _warping_cases()
