"""Exercises of notebook 05 (PhotoWCT): max-unpooling, the closed-form smoothing solve."""

import numpy as np
import torch
import torch.nn.functional as F

from ...smoothing import matting, solvers as smoothing_solvers
from . import exercise


@exercise("05.max_unpool", fallback=lambda p, i, size: F.max_unpool2d(p, i, 2, 2, output_size=size),
          answers=(F.max_unpool2d,), what="unpooled map",
          hint="Start from zeros of shape (B, C, H·W) and put each pooled value at its flat index "
               "(tensor.scatter_ along the last dimension); every other position stays 0.")
def _unpool_cases():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 8, 10, generator=g, dtype=torch.float64)
    pooled, idx = F.max_pool2d(x, 2, 2, return_indices=True)
    odd = torch.randn(1, 1, 7, 5, generator=g, dtype=torch.float64)  # edge: one channel, odd size (last row/col dropped)
    p2, i2 = F.max_pool2d(odd, 2, 2, return_indices=True)
    return [(pooled, idx, (8, 10)), (p2, i2, (7, 5))]


@exercise("05.smooth", fallback=smoothing_solvers.solve_affinity, answers=(smoothing_solvers.solve_affinity,),
          rtol=1e-7, what="smoothed vector",
          hint="d = W·1, S = D^-1/2 W D^-1/2 (divide W_ij by √(d_i d_j)), then r = (1 − β)(I − βS)⁻¹ y "
               "with np.linalg.solve.")
def _smooth_cases():

    g = torch.Generator().manual_seed(1)
    content = torch.rand(1, 3, 6, 7, generator=g, dtype=torch.float64)
    W = np.asarray(matting.affinity(content).toarray())
    y = torch.rand(42, generator=g, dtype=torch.float64).numpy()
    small = torch.rand(1, 3, 3, 3, generator=g, dtype=torch.float64)  # edge: one window, a weak smoothing
    return [(W, y, 0.99), (np.asarray(matting.affinity(small).toarray()), torch.rand(9, generator=g, dtype=torch.float64).numpy(), 0.5)]


@exercise("05.upsample_nearest", fallback=lambda x: F.interpolate(x, scale_factor=2, mode="nearest"),
          answers=(F.interpolate,), what="upsampled map",
          hint="Each value fills a 2×2 block: (B, C, h, w) → (B, C, 2h, 2w); repeat_interleave along both spatial dims.")
def _upsample_cases():
    g = torch.Generator().manual_seed(3)
    return [(torch.randn(2, 3, 3, 4, generator=g, dtype=torch.float64),),
            (torch.randn(1, 1, 1, 1, generator=g, dtype=torch.float64),)]  # edge: one channel, one value
