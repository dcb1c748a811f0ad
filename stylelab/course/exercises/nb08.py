"""Exercises of notebook 08 (comparing methods): SSIM, the Gram style distance, the Pareto front."""

from __future__ import annotations

import torch

from ...features import evaluation
from . import exercise


@exercise("08.ssim_box", answers=(evaluation.ssim, evaluation.ssim_map),
          fallback=lambda x, y: evaluation.ssim(x, y, window="uniform", win_size=7, sample_covariance=False)[0],
          rtol=1e-6, what="SSIM", output=lambda v: torch.as_tensor(v, dtype=torch.float64).reshape(()),
          hint="Take local means with F.avg_pool2d(t, 7, stride=1) (no padding), variances as E[x²] − E[x]², "
               "then average the SSIM map. SSIM is local: global statistics give a different number.")
def _ssim_cases():
    g = torch.Generator().manual_seed(8)
    x = torch.rand(1, 1, 20, 23, generator=g, dtype=torch.float64)
    y = 0.7 * x + 0.3 * torch.rand(1, 1, 20, 23, generator=g, dtype=torch.float64)
    odd = torch.rand(1, 1, 7, 9, generator=g, dtype=torch.float64)  # edge: 7 rows, a single row of windows
    return [(x, y), (odd, odd.flip(-1))]


@exercise("08.gram_distance", fallback=lambda a, s: evaluation.gram_distance(a, s)[0],
          answers=(evaluation.gram_distance,), rtol=1e-9, what="Gram distance",
          output=lambda v: torch.as_tensor(v, dtype=torch.float64).reshape(()),
          hint="Flatten to C × (H·W), G = F Fᵀ / (H·W) for each (the two may have different sizes), "
               "then sum the squared differences and divide by 4 C².")
def _gram_cases():
    g = torch.Generator().manual_seed(80)
    a = torch.randn(1, 6, 5, 7, generator=g, dtype=torch.float64)
    s = torch.randn(1, 6, 9, 4, generator=g, dtype=torch.float64)
    return [(a, s), (torch.randn(1, 1, 3, 3, generator=g, dtype=torch.float64), torch.randn(1, 1, 1, 7, generator=g, dtype=torch.float64))]  # edge: one channel


def _sorted_indices(v):
    return sorted(int(i) for i in v)


@exercise("08.pareto", fallback=evaluation.pareto_front, answers=(evaluation.pareto_front,), rtol=0, atol=0, what="indices of the non-dominated methods", output=_sorted_indices,
          hint="Point i is dominated when some other point has SSIM ≥ and style distance ≤ (one of them strictly). "
               "Return the sorted indices of the points that are not dominated.")
def _pareto_cases():
    return [([(0.9, 5.0), (0.5, 1.0), (0.7, 2.0), (0.6, 3.0), (0.8, 4.5), (0.4, 1.5)],), ([(0.5, 1.0)],)]
