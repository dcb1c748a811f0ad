"""Exercises of notebook 04 (WCT): covariance, whitening, the full transform."""

import numpy as np
import torch

from ...features import linalg, whitening
from ...features import transforms as T
from . import exercise


def _feats(seed, c=6, n=40, shift=2.0):
    g = torch.Generator().manual_seed(seed)
    m = torch.randn(c, c, generator=g, dtype=torch.float64)
    return m @ torch.randn(c, n, generator=g, dtype=torch.float64) + shift


def _wct_library(content, style):
    """WCT of ``(C, N)`` feature matrices with the library (preset ``exact``)."""
    c = T.wct(content.view(1, content.shape[0], 1, -1), style.view(1, style.shape[0], 1, -1), preset="exact")
    return c[0].reshape(content.shape)


@exercise("04.covariance", fallback=linalg.covariance, answers=(linalg.covariance,), rtol=1e-8, what="covariance",
          hint="Subtract each channel's mean first, then (F − μ)(F − μ)ᵀ / (N − 1) for F of shape (C, N).")
def _cov_cases():
    return [(_feats(0),), (_feats(4, c=5, n=3),)]  # edge: fewer positions than channels (rank 2)


def _whitened_is_white(out, f):
    cov = np.cov(out, ddof=1)
    if not np.allclose(cov, np.eye(len(cov)), atol=1e-8):
        raise AssertionError("the whitened features' covariance is not the identity")


@exercise("04.whiten", answers=(whitening.whiten, whitening.whitening_matrix, whitening.wct_matrix),
          fallback=lambda f: whitening.whiten(f.view(1, f.shape[0], 1, -1), eig_threshold=0.0).view(f.shape),
          rtol=1e-6, atol=1e-8, what="whitened features", extra=_whitened_is_white,
          hint="E D^{-1/2} Eᵀ (F − μ), with Σ = E D Eᵀ from torch.linalg.eigh. The result's covariance must be I.")
def _whiten_cases():
    return [(_feats(1),), (_feats(5, c=3, n=5),)]  # edge: an odd number of positions, barely above C


@exercise("04.wct", fallback=_wct_library, atol=1e-6,
          answers=(T.wct, whitening.whiten, whitening.colour, whitening.whitening_matrix, whitening.colouring_matrix,
                   whitening.wct_matrix), rtol=1e-6, what="WCT output",
          hint="Whiten the content, colour with E_s D_s^{1/2} E_sᵀ, then ADD the style's channel means. A style with "
               "fewer positions than channels has zero eigenvalues that round to −1e-16: clamp them at 0 before the root.")
def _wct_cases():
    return [(_feats(2), _feats(3, n=50, shift=-1.0)), (_feats(6), _feats(7, n=4))]  # edge: a rank-3 style covariance
