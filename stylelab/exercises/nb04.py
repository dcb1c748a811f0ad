"""Exercises of notebook 04 (WCT): covariance, whitening, the full transform."""

import numpy as np
import torch

from . import exercise


def _feats(seed, c=6, n=40, shift=2.0):
    g = torch.Generator().manual_seed(seed)
    m = torch.randn(c, c, generator=g, dtype=torch.float64)
    return m @ torch.randn(c, n, generator=g, dtype=torch.float64) + shift


@exercise("04.covariance", rtol=1e-8, what="covariance",
          hint="Subtract each channel's mean first, then (F − μ)(F − μ)ᵀ / (N − 1) for F of shape (C, N).")
def _cov_cases():
    return [(_feats(0),)]


def _whitened_is_white(out, f):
    cov = np.cov(out, ddof=1)
    if not np.allclose(cov, np.eye(len(cov)), atol=1e-8):
        raise AssertionError("the whitened features' covariance is not the identity")


@exercise("04.whiten", rtol=1e-6, atol=1e-8, what="whitened features", extra=_whitened_is_white,
          hint="E D^{-1/2} Eᵀ (F − μ), with Σ = E D Eᵀ from torch.linalg.eigh. The result's covariance must be I.")
def _whiten_cases():
    return [(_feats(1),)]


@exercise("04.wct", rtol=1e-6, atol=1e-8, what="WCT output",
          hint="Whiten the content, colour with E_s D_s^{1/2} E_sᵀ, then ADD the style's channel means.")
def _wct_cases():
    return [(_feats(2), _feats(3, n=50, shift=-1.0))]
