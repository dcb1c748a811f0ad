"""Exercises of notebook 06 (Deep Photo / matting Laplacian): one window's Laplacian, the matting loss."""

import numpy as np
import torch

from ...smoothing import matting
from . import exercise


def _window_library(pixels, eps):
    """The library's matting Laplacian of the 3×3 image whose 9 pixels are the rows of ``pixels``."""
    img = torch.from_numpy(np.ascontiguousarray(pixels).reshape(3, 3, 3)).permute(2, 0, 1)[None]
    return matting.laplacian(img, eps=eps).toarray()


@exercise("06.window", fallback=_window_library, answers=(matting.laplacian,), rtol=1e-8, atol=1e-10, what="window Laplacian",
          hint="With n pixels (rows of `pixels`, shape (n, 3)): μ = mean, c = pixels − μ, Σ = cᵀc/n (biased) + (ε/n)·I, "
               "result δ_ij − (1 + c_i Σ⁻¹ c_jᵀ)/n as an (n, n) array.")
def _window_cases():

    g = torch.Generator().manual_seed(0)
    img = torch.rand(1, 3, 3, 3, generator=g, dtype=torch.float64)  # exactly one 3×3 window
    flat = np.full((9, 3), 0.4)  # edge: a flat window (zero colour covariance: only ε keeps Σ invertible)
    return [(np.asarray(matting.to_hwc(img)).reshape(9, 3), 1e-3), (flat, 1e-2)]


@exercise("06.loss", fallback=lambda L, V: sum(v @ L @ v for v in V), rtol=1e-9, what="matting loss", output=lambda v: torch.as_tensor(v, dtype=torch.float64).reshape(()),
          hint="V has one row per colour channel: add V_c L V_cᵀ over the three channels.")
def _loss_cases():

    g = torch.Generator().manual_seed(2)
    img = torch.rand(1, 3, 5, 6, generator=g, dtype=torch.float64)
    L = torch.from_numpy(matting.laplacian(img).toarray())
    return [(L, torch.rand(3, 30, generator=g, dtype=torch.float64)),
            (L, torch.ones(1, 30, dtype=torch.float64) * 0.3)]  # edge: one channel, constant (in the null space: 0)


@exercise("06.loss_gradient", fallback=lambda L, V: 2 * V @ L, rtol=1e-9, what="gradient",
          hint="The gradient of Σ_c V_c L V_cᵀ with respect to V (3 × N): 2 L V_c for each row, as a (3, N) tensor "
               "(L is symmetric).")
def _gradient_cases():
    g = torch.Generator().manual_seed(4)
    img = torch.rand(1, 3, 4, 5, generator=g, dtype=torch.float64)
    L = torch.from_numpy(matting.laplacian(img).toarray())
    return [(L, torch.rand(3, 20, generator=g, dtype=torch.float64)),
            (L, img.flatten(2)[0, :1])]  # edge: one channel, the content itself (locally affine: small)
