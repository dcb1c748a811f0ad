"""Notebook 06: reference solutions, wrong answers, library oracles."""

import numpy as np


def window(pixels, eps):
    n = pixels.shape[0]
    mu = pixels.mean(axis=0)
    c = pixels - mu
    cov = c.T @ c / n + eps / n * np.eye(3)
    return np.eye(n) - (1 + c @ np.linalg.inv(cov) @ c.T) / n


def window_wrong(pixels, eps):
    n = pixels.shape[0]
    mu = pixels.mean(axis=0)
    c = pixels - mu
    cov = c.T @ c / (n - 1) + eps / n * np.eye(3)  # unbiased covariance: not Levin's
    return np.eye(n) - (1 + c @ np.linalg.inv(cov) @ c.T) / n


def loss(L, V):
    return sum(V[c] @ L @ V[c] for c in range(V.shape[0]))


def loss_wrong(L, V):
    return V[0] @ L @ V[0]  # only the red channel


def _laplacian_of_pixels(pixels, eps):
    import torch

    from stylelab.smoothing import matting

    img = torch.from_numpy(pixels.reshape(3, 3, 3)).permute(2, 0, 1)[None]
    return matting.laplacian(img, eps=eps).toarray()


def loss_gradient(L, V):
    return 2 * V @ L  # L is symmetric: ∂/∂V_c of V_c L V_cᵀ is 2 L V_c


def loss_gradient_wrong(L, V):
    return V @ L  # forgot the factor 2


SOLUTIONS = {"06.window": window, "06.loss": loss, "06.loss_gradient": loss_gradient}
WRONG = {"06.window": window_wrong, "06.loss": loss_wrong, "06.loss_gradient": loss_gradient_wrong}
ORACLES = {"06.window": _laplacian_of_pixels}
