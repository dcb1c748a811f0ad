"""Notebook 04: reference solutions, wrong answers, library oracles."""

import numpy as np
import torch

from stylelab.features import transforms as T


def covariance(f):
    centred = f - f.mean(dim=1, keepdim=True)
    return centred @ centred.T / (f.shape[1] - 1)


def covariance_wrong(f):
    return f @ f.T / (f.shape[1] - 1)  # forgot to centre


def whiten(f):
    centred = f - f.mean(dim=1, keepdim=True)
    cov = centred @ centred.T / (f.shape[1] - 1)
    eigenvalues, eigenvectors = torch.linalg.eigh(cov)
    return eigenvectors @ torch.diag(eigenvalues ** -0.5) @ eigenvectors.T @ centred


def whiten_wrong(f):
    centred = f - f.mean(dim=1, keepdim=True)
    cov = centred @ centred.T / (f.shape[1] - 1)
    eigenvalues, eigenvectors = torch.linalg.eigh(cov)
    return eigenvectors @ torch.diag(eigenvalues ** -1.0) @ eigenvectors.T @ centred  # D^-1, not D^-1/2


def wct(content, style):
    def eig(f):
        centred = f - f.mean(dim=1, keepdim=True)
        cov = centred @ centred.T / (f.shape[1] - 1)
        lam, vec = torch.linalg.eigh(cov)
        return centred, lam, vec

    cc, lc, ec = eig(content)
    _, ls, es = eig(style)
    whitened = ec @ torch.diag(lc ** -0.5) @ ec.T @ cc
    return es @ torch.diag(ls.clamp_min(0) ** 0.5) @ es.T @ whitened + style.mean(dim=1, keepdim=True)  # rank-deficient style: λ ≈ −1e-16 → 0


def wct_wrong(content, style):
    return wct(content, style) - style.mean(dim=1, keepdim=True)  # forgot to add the style mean back


SOLUTIONS = {"04.covariance": covariance, "04.whiten": whiten, "04.wct": wct}
WRONG = {"04.covariance": covariance_wrong, "04.whiten": whiten_wrong, "04.wct": wct_wrong}
ORACLES = {
    "04.covariance": lambda f: torch.from_numpy(np.cov(f.numpy(), ddof=1)),
    "04.wct": lambda c, s: T.wct(c.view(1, c.shape[0], 1, -1), s.view(1, s.shape[0], 1, -1), preset="exact")[0].reshape(c.shape),
}
