"""Exercises of notebook 05 (PhotoWCT): max-unpooling, the closed-form smoothing solve."""

import numpy as np
import torch
import torch.nn.functional as F

from .. import matting
from . import assert_close, exercise


# ---------------------------------------------------------------- 05.max_unpool
def _unpool_solution(pooled, indices, size):
    b, c, h, w = pooled.shape
    out = torch.zeros(b, c, size[0] * size[1], dtype=pooled.dtype)
    out.scatter_(2, indices.flatten(2), pooled.flatten(2))
    return out.view(b, c, size[0], size[1])


def _unpool_wrong(pooled, indices, size):
    return F.interpolate(pooled, size=size, mode="nearest")  # copies the value into all four places


@exercise("05.max_unpool", solution=_unpool_solution, wrong=_unpool_wrong,
          hint="Start from zeros of shape (B, C, H·W) and put each pooled value at its flat index "
               "(tensor.scatter_ along the last dimension); every other position stays 0.")
def _check_unpool(student):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 8, 10, generator=g, dtype=torch.float64)
    pooled, idx = F.max_pool2d(x, 2, 2, return_indices=True)
    expected = F.max_unpool2d(pooled, idx, 2, 2, output_size=(8, 10))  # PyTorch as the oracle
    assert_close(student(pooled, idx, (8, 10)), expected, what="unpooled map")


# ---------------------------------------------------------------- 05.smooth
def _smooth_solution(W, y, beta):
    d = W.sum(axis=1)
    S = W / np.sqrt(np.outer(d, d))
    return (1 - beta) * np.linalg.solve(np.eye(len(d)) - beta * S, y)


def _smooth_wrong(W, y, beta):
    d = W.sum(axis=1)
    S = W / d[:, None]  # random-walk normalisation D⁻¹W instead of D^-1/2 W D^-1/2
    return (1 - beta) * np.linalg.solve(np.eye(len(d)) - beta * S, y)


@exercise("05.smooth", solution=_smooth_solution, wrong=_smooth_wrong,
          hint="d = W·1, S = D^-1/2 W D^-1/2 (divide W_ij by √(d_i d_j)), then r = (1 − β)(I − βS)⁻¹ y "
               "with np.linalg.solve.")
def _check_smooth(student):

    g = torch.Generator().manual_seed(1)
    content = torch.rand(1, 3, 6, 7, generator=g, dtype=torch.float64)
    W = matting.affinity(content).toarray()
    y = torch.rand(42, generator=g, dtype=torch.float64).numpy()
    out = student(W, y, 0.99)
    expected = _smooth_solution(W, y, 0.99)
    assert_close(torch.as_tensor(np.asarray(out, dtype=np.float64)), torch.from_numpy(expected), rtol=1e-7, what="smoothed vector")
