"""Exercises of notebook 04 (WCT): covariance, whitening, the full transform."""

import numpy as np
import torch

from ..transforms import wct
from . import assert_close, exercise


def _feats(seed, c=6, n=40, shift=2.0):
    g = torch.Generator().manual_seed(seed)
    m = torch.randn(c, c, generator=g, dtype=torch.float64)
    return m @ torch.randn(c, n, generator=g, dtype=torch.float64) + shift


# ---------------------------------------------------------------- 04.covariance
def _cov_solution(f):
    centred = f - f.mean(dim=1, keepdim=True)
    return centred @ centred.T / (f.shape[1] - 1)


def _cov_wrong(f):
    return f @ f.T / (f.shape[1] - 1)  # forgot to centre


@exercise("04.covariance", solution=_cov_solution, wrong=_cov_wrong,
          hint="Subtract each channel's mean first, then (F − μ)(F − μ)ᵀ / (N − 1) for F of shape (C, N).")
def _check_cov(student):
    f = _feats(0)
    expected = torch.from_numpy(np.cov(f.numpy(), ddof=1))  # NumPy as the oracle
    assert_close(student(f), expected, rtol=1e-8, what="covariance")


# ---------------------------------------------------------------- 04.whiten
def _whiten_solution(f):
    centred = f - f.mean(dim=1, keepdim=True)
    cov = centred @ centred.T / (f.shape[1] - 1)
    eigenvalues, eigenvectors = torch.linalg.eigh(cov)
    return eigenvectors @ torch.diag(eigenvalues ** -0.5) @ eigenvectors.T @ centred


def _whiten_wrong(f):
    centred = f - f.mean(dim=1, keepdim=True)
    cov = centred @ centred.T / (f.shape[1] - 1)
    eigenvalues, eigenvectors = torch.linalg.eigh(cov)
    return eigenvectors @ torch.diag(eigenvalues ** -1.0) @ eigenvectors.T @ centred  # D^-1, not D^-1/2


@exercise("04.whiten", solution=_whiten_solution, wrong=_whiten_wrong,
          hint="E D^{-1/2} Eᵀ (F − μ), with Σ = E D Eᵀ from torch.linalg.eigh. The result's covariance must be I.")
def _check_whiten(student):
    f = _feats(1)
    out = student(f)
    assert_close(out, _whiten_solution(f), rtol=1e-6, atol=1e-8, what="whitened features")
    cov = np.cov(out.numpy(), ddof=1)
    if not np.allclose(cov, np.eye(len(cov)), atol=1e-8):
        raise AssertionError("the whitened features' covariance is not the identity")


# ---------------------------------------------------------------- 04.wct
def _wct_solution(content, style):
    def eig(f):
        centred = f - f.mean(dim=1, keepdim=True)
        cov = centred @ centred.T / (f.shape[1] - 1)
        lam, vec = torch.linalg.eigh(cov)
        return centred, lam, vec

    cc, lc, ec = eig(content)
    _, ls, es = eig(style)
    whitened = ec @ torch.diag(lc ** -0.5) @ ec.T @ cc
    return es @ torch.diag(ls ** 0.5) @ es.T @ whitened + style.mean(dim=1, keepdim=True)


def _wct_wrong(content, style):
    out = _wct_solution(content, style)
    return out - style.mean(dim=1, keepdim=True)  # forgot to add the style mean back


@exercise("04.wct", solution=_wct_solution, wrong=_wct_wrong,
          hint="Whiten the content, colour with E_s D_s^{1/2} E_sᵀ, then ADD the style's channel means.")
def _check_wct(student):

    c, s = _feats(2), _feats(3, n=50, shift=-1.0)
    expected = wct(c.view(1, 6, 5, 8), s.view(1, 6, 5, 10), preset="exact")[0].reshape(6, 40)
    assert_close(student(c, s), expected, rtol=1e-6, atol=1e-8, what="WCT output")
