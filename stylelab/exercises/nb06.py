"""Exercises of notebook 06 (Deep Photo / matting Laplacian): one window's Laplacian, the matting loss."""

import numpy as np
import torch

from .. import matting
from . import assert_close, exercise


# ---------------------------------------------------------------- 06.window
def _window_solution(pixels, eps):
    n = pixels.shape[0]
    mu = pixels.mean(axis=0)
    c = pixels - mu
    cov = c.T @ c / n + eps / n * np.eye(3)
    return np.eye(n) - (1 + c @ np.linalg.inv(cov) @ c.T) / n


def _window_wrong(pixels, eps):
    n = pixels.shape[0]
    mu = pixels.mean(axis=0)
    c = pixels - mu
    cov = c.T @ c / (n - 1) + eps / n * np.eye(3)  # unbiased covariance: not Levin's
    return np.eye(n) - (1 + c @ np.linalg.inv(cov) @ c.T) / n


@exercise("06.window", solution=_window_solution, wrong=_window_wrong,
          hint="With n pixels (rows of `pixels`, shape (n, 3)): μ = mean, c = pixels − μ, Σ = cᵀc/n (biased) + (ε/n)·I, "
               "result δ_ij − (1 + c_i Σ⁻¹ c_jᵀ)/n as an (n, n) array.")
def _check_window(student):

    g = torch.Generator().manual_seed(0)
    img = torch.rand(1, 3, 3, 3, generator=g, dtype=torch.float64)  # exactly one 3×3 window
    pixels = matting.to_hwc(img).reshape(9, 3)
    expected = matting.laplacian(img, eps=1e-3).toarray()  # the full Laplacian of a 3×3 image = its one window
    out = np.asarray(student(pixels, 1e-3), dtype=np.float64)
    assert_close(torch.from_numpy(out), torch.from_numpy(expected), rtol=1e-8, atol=1e-10, what="window Laplacian")


# ---------------------------------------------------------------- 06.loss
def _loss_solution(L, V):
    return sum(V[c] @ L @ V[c] for c in range(V.shape[0]))


def _loss_wrong(L, V):
    return V[0] @ L @ V[0]  # only the red channel


@exercise("06.loss", solution=_loss_solution, wrong=_loss_wrong,
          hint="V has one row per colour channel: add V_c L V_cᵀ over the three channels.")
def _check_loss(student):

    g = torch.Generator().manual_seed(2)
    img = torch.rand(1, 3, 5, 6, generator=g, dtype=torch.float64)
    L = torch.from_numpy(matting.laplacian(img).toarray())
    V = torch.rand(3, 30, generator=g, dtype=torch.float64)
    out = student(L, V)
    assert_close(torch.as_tensor(out, dtype=torch.float64).reshape(()), _loss_solution(L, V).reshape(()), rtol=1e-9, what="matting loss")
