"""Notebook 08: reference solutions, wrong answers, library oracles."""

import torch.nn.functional as F

from stylelab import metrics
from stylelab.features import evaluation


def ssim_box(x, y):
    """Mean SSIM of two (1, 1, H, W) images in [0, 1] with a 7×7 box window (population covariance)."""
    c1, c2 = 0.01**2, 0.03**2
    box = lambda t: F.avg_pool2d(t, 7, stride=1)  # noqa: E731 - valid 7×7 means
    mx, my = box(x), box(y)
    vx = box(x * x) - mx**2
    vy = box(y * y) - my**2
    vxy = box(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return s.mean()


def ssim_box_wrong(x, y):
    """Global statistics instead of local windows: one SSIM for the whole image."""
    c1, c2 = 0.01**2, 0.03**2
    mx, my = x.mean(), y.mean()
    vx, vy = x.var(unbiased=False), y.var(unbiased=False)
    vxy = ((x - mx) * (y - my)).mean()
    return ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))


def gram_distance(output_feat, style_feat):
    """E_l = ‖G(F) − G(S)‖²_F / (4 C²) with G = F Fᵀ / (H·W), for (1, C, H, W) features."""
    c = output_feat.shape[1]
    f = output_feat.flatten(2)[0]
    s = style_feat.flatten(2)[0]
    gf = f @ f.T / f.shape[1]
    gs = s @ s.T / s.shape[1]
    return ((gf - gs) ** 2).sum() / (4 * c * c)


def gram_distance_wrong(output_feat, style_feat):
    """Forgot to normalise by the number of positions: sizes then change the answer."""
    c = output_feat.shape[1]
    f = output_feat.flatten(2)[0]
    s = style_feat.flatten(2)[0]
    return ((f @ f.T - s @ s.T) ** 2).sum() / (4 * c * c)


def pareto(points):
    """Indices of the points no other point beats on both axes (higher SSIM, lower style distance)."""
    keep = []
    for i, (si, di) in enumerate(points):
        dominated = any(sj >= si and dj <= di and (sj > si or dj < di) for j, (sj, dj) in enumerate(points) if j != i)
        if not dominated:
            keep.append(i)
    return keep


def pareto_wrong(points):
    """Only the best SSIM and the best style distance: misses the compromises in between."""
    best_s = max(range(len(points)), key=lambda i: points[i][0])
    best_d = min(range(len(points)), key=lambda i: points[i][1])
    return sorted({best_s, best_d})


SOLUTIONS = {"08.ssim_box": ssim_box, "08.gram_distance": gram_distance, "08.pareto": pareto}
WRONG = {"08.ssim_box": ssim_box_wrong, "08.gram_distance": gram_distance_wrong, "08.pareto": pareto_wrong}
ORACLES = {
    "08.ssim_box": lambda x, y: evaluation.ssim(x, y, window="uniform", win_size=7, sample_covariance=False)[0],
    "08.gram_distance": lambda a, s: evaluation.gram_distance(a, s)[0],
}
