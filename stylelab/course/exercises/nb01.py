"""Exercises of notebook 01 (style as statistics): the Gram matrix, Gatys' layer loss, the linear-kernel MMD²."""

import torch

from ...features import losses, stats
from . import exercise


def _feats(seed, shape=(2, 6, 5, 7)):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


@exercise("01.gram", fallback=stats.gram, answers=(stats.gram,), rtol=1e-10, atol=1e-12, what="Gram matrix",
          hint="Flatten to (B, C, H·W), multiply by its transpose on the channel side (result C×C), divide by H·W.")
def _gram_cases():
    return [(_feats(0),), (_feats(5, (1, 3, 4, 9)),), (_feats(6, (1, 1, 3, 5)),)]  # edge: one channel


@exercise("01.style_layer_loss", answers=(losses.gram_loss, stats.gram_loss_as_mmd),
          fallback=lambda f, s: losses.gram_loss(f, losses.gram_target(s, "paper"), "paper"),
          rtol=1e-10, atol=1e-14, what="layer style loss",
          hint="E_l = Σ (G − A)² / (4 C² M²) with the raw Gram matrices G = F Fᵀ, A = S Sᵀ and M = H·W.")
def _layer_loss_cases():
    return [(_feats(1, (1, 5, 4, 6)), _feats(2, (1, 5, 4, 6))),
            (_feats(7, (1, 1, 3, 3)), _feats(8, (1, 1, 3, 3)))]  # edge: one channel


@exercise("01.mmd_linear", fallback=lambda x, y: stats.mmd2(x, y, kernel="linear"), answers=(stats.mmd2,),
          rtol=1e-10, atol=1e-12, what="MMD²",
          hint="Biased MMD² = mean k(x,x') + mean k(y,y') − 2·mean k(x,y), with k(a,b) = aᵀb over the columns.")
def _mmd_linear_cases():
    return [(_feats(3, (4, 9)), _feats(4, (4, 6)) + 0.5), (_feats(9, (1, 1)), _feats(10, (1, 3)))]  # edge: 1-d, one sample
