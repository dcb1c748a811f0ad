"""Exercises of notebook 08 (comparing methods): SSIM, the Gram style distance, the Pareto front."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import metrics
from . import assert_close, exercise


# ----------------------------------------------------------------------------- 08.ssim_box
def _ssim_box_solution(x, y):
    """Mean SSIM of two (1, 1, H, W) images in [0, 1] with a 7×7 box window (population covariance)."""
    c1, c2 = 0.01**2, 0.03**2
    box = lambda t: F.avg_pool2d(t, 7, stride=1)  # noqa: E731 - valid 7×7 means
    mx, my = box(x), box(y)
    vx = box(x * x) - mx**2
    vy = box(y * y) - my**2
    vxy = box(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return s.mean()


def _ssim_box_wrong(x, y):
    """Global statistics instead of local windows: one SSIM for the whole image."""
    c1, c2 = 0.01**2, 0.03**2
    mx, my = x.mean(), y.mean()
    vx, vy = x.var(unbiased=False), y.var(unbiased=False)
    vxy = ((x - mx) * (y - my)).mean()
    return ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))


@exercise("08.ssim_box", solution=_ssim_box_solution, wrong=_ssim_box_wrong,
          hint="Take local means with F.avg_pool2d(t, 7, stride=1) (no padding), variances as E[x²] − E[x]², "
               "then average the SSIM map. SSIM is local: global statistics give a different number.")
def _check_ssim_box(student):

    g = torch.Generator().manual_seed(8)
    x = torch.rand(1, 1, 20, 23, generator=g, dtype=torch.float64)
    y = (0.7 * x + 0.3 * torch.rand(1, 1, 20, 23, generator=g, dtype=torch.float64))
    expected = metrics.ssim(x, y, window="uniform", win_size=7, sample_covariance=False)[0]
    assert_close(torch.as_tensor(student(x, y), dtype=torch.float64).reshape(()), expected, rtol=1e-6, what="SSIM")


# ----------------------------------------------------------------------------- 08.gram_distance
def _gram_solution(output_feat, style_feat):
    """E_l = ‖G(F) − G(S)‖²_F / (4 C²) with G = F Fᵀ / (H·W), for (1, C, H, W) features."""
    c = output_feat.shape[1]
    f = output_feat.flatten(2)[0]
    s = style_feat.flatten(2)[0]
    gf = f @ f.T / f.shape[1]
    gs = s @ s.T / s.shape[1]
    return ((gf - gs) ** 2).sum() / (4 * c * c)


def _gram_wrong(output_feat, style_feat):
    """Forgot to normalise by the number of positions: sizes then change the answer."""
    c = output_feat.shape[1]
    f = output_feat.flatten(2)[0]
    s = style_feat.flatten(2)[0]
    return ((f @ f.T - s @ s.T) ** 2).sum() / (4 * c * c)


@exercise("08.gram_distance", solution=_gram_solution, wrong=_gram_wrong,
          hint="Flatten to C × (H·W), G = F Fᵀ / (H·W) for each (the two may have different sizes), "
               "then sum the squared differences and divide by 4 C².")
def _check_gram(student):

    g = torch.Generator().manual_seed(80)
    a = torch.randn(1, 6, 5, 7, generator=g, dtype=torch.float64)
    s = torch.randn(1, 6, 9, 4, generator=g, dtype=torch.float64)
    assert_close(torch.as_tensor(student(a, s), dtype=torch.float64).reshape(()), metrics.gram_distance(a, s)[0],
                 rtol=1e-9, what="Gram distance")


# ----------------------------------------------------------------------------- 08.pareto
def _pareto_solution(points):
    """Indices of the points no other point beats on both axes (higher SSIM, lower style distance)."""
    keep = []
    for i, (si, di) in enumerate(points):
        dominated = any(
            sj >= si and dj <= di and (sj > si or dj < di) for j, (sj, dj) in enumerate(points) if j != i
        )
        if not dominated:
            keep.append(i)
    return keep


def _pareto_wrong(points):
    """Only the best SSIM and the best style distance: misses the compromises in between."""
    best_s = max(range(len(points)), key=lambda i: points[i][0])
    best_d = min(range(len(points)), key=lambda i: points[i][1])
    return sorted({best_s, best_d})


@exercise("08.pareto", solution=_pareto_solution, wrong=_pareto_wrong,
          hint="Point i is dominated when some other point has SSIM ≥ and style distance ≤ (one of them strictly). "
               "Return the sorted indices of the points that are not dominated.")
def _check_pareto(student):
    points = [(0.9, 5.0), (0.5, 1.0), (0.7, 2.0), (0.6, 3.0), (0.8, 4.5), (0.4, 1.5)]
    got = sorted(int(i) for i in student(points))
    assert got == [0, 1, 2, 4], f"the non-dominated methods are not {got}"
    assert sorted(int(i) for i in student([(0.5, 1.0)])) == [0], "a single method is always on the front"
