"""Exercises of notebook 01 (style as statistics): the Gram matrix, Gatys' layer loss, the linear-kernel MMD²."""

import torch

from ..losses import gram_loss, gram_target
from ..stats import gram, mmd2
from . import assert_close, exercise


def _feats(seed, shape=(2, 6, 5, 7)):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


# ---------------------------------------------------------------- 01.gram
def _gram_solution(features):
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    return f @ f.transpose(1, 2) / (h * w)


def _gram_wrong(features):
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    return f.transpose(1, 2) @ f / (h * w)  # positions × positions: a "Gram" of the pixels, not the channels


@exercise("01.gram", solution=_gram_solution, wrong=_gram_wrong,
          hint="Flatten to (B, C, H·W), multiply by its transpose on the channel side (result C×C), divide by H·W.")
def _check_gram(student):

    x = _feats(0)
    assert_close(student(x), gram(x, normalize="positions"), rtol=1e-10, atol=1e-12, what="Gram matrix")


# ---------------------------------------------------------------- 01.style_layer_loss
def _layer_loss_solution(features, style_features):
    _, c, h, w = features.shape
    m = h * w
    f = features.reshape(-1, c, m)
    s = style_features.reshape(-1, c, m)
    g = f @ f.transpose(1, 2)
    a = s @ s.transpose(1, 2)
    return ((g - a) ** 2).sum() / (4 * c**2 * m**2)


def _layer_loss_wrong(features, style_features):
    _, c, h, w = features.shape
    f = features.reshape(-1, c, h * w)
    s = style_features.reshape(-1, c, h * w)
    return ((f @ f.transpose(1, 2) - s @ s.transpose(1, 2)) ** 2).mean()  # mean over C² only: misses 1/(4M²)


@exercise("01.style_layer_loss", solution=_layer_loss_solution, wrong=_layer_loss_wrong,
          hint="E_l = Σ (G − A)² / (4 C² M²) with the raw Gram matrices G = F Fᵀ, A = S Sᵀ and M = H·W.")
def _check_layer_loss(student):

    f, s = _feats(1, (1, 5, 4, 6)), _feats(2, (1, 5, 4, 6))
    expected = gram_loss(f, gram_target(s, "paper"), "paper")
    assert_close(student(f, s), expected, rtol=1e-10, atol=1e-14, what="layer style loss")


# ---------------------------------------------------------------- 01.mmd_linear
def _mmd_linear_solution(x, y):
    m, n = x.shape[1], y.shape[1]
    kxx = (x.T @ x).sum() / m**2
    kyy = (y.T @ y).sum() / n**2
    kxy = (x.T @ y).sum() / (m * n)
    return kxx + kyy - 2 * kxy


def _mmd_linear_wrong(x, y):
    m, n = x.shape[1], y.shape[1]
    return (x.T @ x).sum() / m**2 + (y.T @ y).sum() / n**2 - (x.T @ y).sum() / (m * n)  # cross term once, not twice


@exercise("01.mmd_linear", solution=_mmd_linear_solution, wrong=_mmd_linear_wrong,
          hint="Biased MMD² = mean k(x,x') + mean k(y,y') − 2·mean k(x,y), with k(a,b) = aᵀb over the columns.")
def _check_mmd_linear(student):

    x, y = _feats(3, (4, 9)), _feats(4, (4, 6)) + 0.5
    assert_close(student(x, y), mmd2(x, y, kernel="linear"), rtol=1e-10, atol=1e-12, what="MMD²")
