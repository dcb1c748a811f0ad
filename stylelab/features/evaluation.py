"""Evaluating a stylisation: structure kept (SSIM) and style taken (Gram distance).

The WCT² paper (Yoo et al., ICCV 2019) compares photorealistic methods on two
axes: the SSIM between the *content* image and the output (higher = more of the
content's structure survived) and the Gram style loss between the *style* image
and the output (lower = more of the style was taken). :func:`ssim` and
:func:`style_distance` compute those two numbers (:mod:`stylelab.metrics` times
calls and measures their memory).

Everything here runs on the device and dtype of its inputs (CUDA, MPS, CPU). On
MPS use float32: MPS has no float64.
"""

from __future__ import annotations

from typing import Callable, Literal, Sequence

import torch
import torch.nn.functional as F

from ..device import follow
from .stats import gram

__all__ = ["ssim", "ssim_map", "gaussian_window", "gram_distance", "style_distance", "pareto_front",
           "DEFAULT_STYLE_LAYERS"]

#: The style layers of Gatys et al. (2016) and of the WCT² evaluation.
DEFAULT_STYLE_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

# ============================================================================ SSIM
K1, K2 = 0.01, 0.03


def gaussian_window(sigma: float = 1.5, truncate: float = 3.5, dtype=torch.float64, device=None) -> torch.Tensor:
    """The 1-D Gaussian taps ``g[k] ∝ exp(-k²/(2σ²))``, ``|k| ≤ r = int(truncate·σ + 0.5)``, summing to 1.

    With σ = 1.5 this is the 11-tap window of Wang et al. (2004), and the same
    radius rule as ``scipy.ndimage.gaussian_filter`` (which scikit-image uses).
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    r = int(truncate * sigma + 0.5)
    k = torch.arange(-r, r + 1, dtype=dtype, device=device)
    g = torch.exp(-0.5 * (k / sigma) ** 2)
    return g / g.sum()


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> None:
    if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise TypeError(f"ssim takes two tensors, got {type(x).__name__} and {type(y).__name__}")
    if x.dim() != 4 or y.dim() != 4:
        raise ValueError(
            f"ssim expects images of shape (B, C, H, W), got {tuple(x.shape)} and {tuple(y.shape)}; "
            "add a batch dimension with x[None]."
        )
    if x.shape != y.shape:
        raise ValueError(
            f"ssim compares images of the same shape, got {tuple(x.shape)} and {tuple(y.shape)}. "
            "Resize one to the other first, e.g. stylelab.io.resize(output, content.shape[-2:])."
        )


def ssim_map(
    x: torch.Tensor,
    y: torch.Tensor,
    window: Literal["gaussian", "uniform"] = "gaussian",
    sigma: float = 1.5,
    win_size: int | None = None,
    data_range: float = 1.0,
    sample_covariance: bool | None = None,
) -> torch.Tensor:
    """The local SSIM map of Wang et al. (2004), valid region only.

    For local means μ, variances σ² and covariance σ_xy taken under a window w,

        SSIM = (2 μ_x μ_y + C1)(2 σ_xy + C2) / ((μ_x² + μ_y² + C1)(σ_x² + σ_y² + C2)),

    with C1 = (0.01 L)², C2 = (0.03 L)² and L = ``data_range``.

    Args:
        x, y: ``(B, C, H, W)`` images of the same shape (any real dtype; use
            float64 for comparisons at 1e-6).
        window: ``"gaussian"`` (σ = ``sigma``, 11×11 for σ = 1.5, as Wang et
            al. 2004) or ``"uniform"`` (``win_size``×``win_size`` box, default
            7, scikit-image's default).
        sample_covariance: scale variances by N/(N−1) with N = win_size²
            (scikit-image's default for the uniform window). Default: False for
            the Gaussian window (population covariance, as the paper), True for
            the uniform window (as ``skimage.metrics.structural_similarity``).

    Returns:
        ``(B, C, H − 2p, W − 2p)`` map with p = (win_size − 1)//2: only positions
        whose whole window lies inside the image, which is exactly the region
        scikit-image averages (so the padding mode never matters).
    """
    _check_pair(x, y)
    y = follow(x, y)  # device rule: the second image follows the first
    if window == "gaussian":
        g = gaussian_window(sigma, dtype=x.dtype, device=x.device)
        n = g.numel()
        if win_size is not None and win_size != n:
            raise ValueError(f"the Gaussian window with sigma={sigma} has {n} taps; leave win_size=None")
        cov_norm_default = False
    elif window == "uniform":
        n = 7 if win_size is None else int(win_size)
        if n < 1 or n % 2 == 0:
            raise ValueError(f"win_size must be a positive odd integer, got {win_size}")
        g = torch.full((n,), 1.0 / n, dtype=x.dtype, device=x.device)
        cov_norm_default = True
    else:
        raise ValueError(f"window must be 'gaussian' or 'uniform', got {window!r}")
    h, w = x.shape[-2:]
    if h < n or w < n:
        raise ValueError(
            f"the images ({h}×{w}) are smaller than the {n}×{n} SSIM window; use larger images "
            "or a smaller uniform window (window='uniform', win_size=3)."
        )
    use_sample = cov_norm_default if sample_covariance is None else sample_covariance
    cov_norm = (n * n) / (n * n - 1) if use_sample else 1.0
    c = x.shape[1]

    def blur(t: torch.Tensor) -> torch.Tensor:
        # separable filter, one group per channel, "valid" region only
        t = F.conv2d(t, g.view(1, 1, n, 1).expand(c, 1, n, 1), groups=c)
        return F.conv2d(t, g.view(1, 1, 1, n).expand(c, 1, 1, n), groups=c)

    y = y.to(x.dtype)
    mx, my = blur(x), blur(y)
    vx = cov_norm * (blur(x * x) - mx * mx)
    vy = cov_norm * (blur(y * y) - my * my)
    vxy = cov_norm * (blur(x * y) - mx * my)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    return ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))


def ssim(
    x: torch.Tensor,
    y: torch.Tensor,
    window: Literal["gaussian", "uniform"] = "gaussian",
    sigma: float = 1.5,
    win_size: int | None = None,
    data_range: float = 1.0,
    sample_covariance: bool | None = None,
) -> torch.Tensor:
    """Mean structural similarity per image, averaged over channels: ``(B, C, H, W)`` ×2 → ``(B,)``.

    Wang, Bovik, Sheikh & Simoncelli, "Image quality assessment: from error
    visibility to structural similarity", IEEE TIP 2004. The mean is taken over
    the valid region of :func:`ssim_map` and over channels, which equals
    ``skimage.metrics.structural_similarity(x, y, channel_axis=-1,
    data_range=1.0, gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)`` for ``window="gaussian"`` and the
    scikit-image defaults (7×7 box, sample covariance) for ``window="uniform"``.

    1 means identical; values fall as structure differs (range [−1, 1]).
    Differentiable. In the WCT² comparison, ``ssim(content, output)`` measures
    how much of the content's structure a method keeps.
    """
    return ssim_map(x, y, window, sigma, win_size, data_range, sample_covariance).mean(dim=(1, 2, 3))


# ============================================================================ Gram distance
def gram_distance(output_feat: torch.Tensor, style_feat: torch.Tensor) -> torch.Tensor:
    """Gram style distance per image (Gatys et al.'s layer loss E_l): ``(B,)``.

        d(F, S) = ‖G(F) − G(S)‖²_F / (4 C²),   G(F) = F Fᵀ / (H·W)

    for ``(B, C, H, W)`` features (output and style may have different H×W).
    When both have M positions this is E_l = ‖F Fᵀ − S Sᵀ‖²_F / (4 C² M²) of
    Gatys, Ecker & Bethge (CVPR 2016, eq. 4), i.e. the ``"paper"`` convention
    of :func:`stylelab.features.losses.gram_loss`, and it equals the biased MMD² with
    kernel (xᵀy)² divided by 4C² (Li et al., IJCAI 2017). The WCT² paper's
    evaluation reports this loss between the style image and the output.
    A style of batch 1 is broadcast over the output batch.
    """
    if output_feat.dim() != 4 or style_feat.dim() != 4:
        raise ValueError(
            f"gram_distance expects (B, C, H, W) features, got {tuple(output_feat.shape)} and {tuple(style_feat.shape)}"
        )
    if output_feat.shape[1] != style_feat.shape[1]:
        raise ValueError(
            f"the features have {output_feat.shape[1]} and {style_feat.shape[1]} channels; "
            "compare features of the same layer."
        )
    diff = gram(output_feat) - gram(follow(output_feat, style_feat))
    return diff.pow(2).sum(dim=(1, 2)) / (4 * output_feat.shape[1] ** 2)


def style_distance(
    output: torch.Tensor,
    style: torch.Tensor,
    encoder: Callable | None = None,
    layers: Sequence[str] = DEFAULT_STYLE_LAYERS,
    weights: Sequence[float] | None = None,
) -> torch.Tensor:
    """Gram style distance between ``style`` and ``output`` images, per image: ``(B,)``.

        D = Σ_l w_l · gram_distance(φ_l(output), φ_l(style))

    Args:
        output, style: ``(B, 3, H, W)`` and ``(1 or B, 3, H', W')`` RGB in [0, 1].
        encoder: a VGG encoder returning a dict of named features
            (:func:`stylelab.nets.encoders.vgg19`), or ``None`` to compare the
            *pixels* (the 3×3 colour Gram matrix: meaningful without
            pretrained weights, but blind to texture).
        layers: encoder layers (default relu1_1 … relu5_1, Gatys et al. 2016).
        weights: per-layer weights (default 1 each, as the WCT² evaluation).

    Lower is "more of the style taken". An evaluation metric: the encoder runs
    under ``torch.no_grad`` (use :mod:`stylelab.features.losses` to optimise). Absolute values depend on the encoder
    and its weights; compare methods only under the same encoder. With random
    encoder weights the numbers say nothing about the method (say so).
    """
    if output.dim() != 4 or style.dim() != 4:
        raise ValueError(f"expected (B, 3, H, W) images, got {tuple(output.shape)} and {tuple(style.shape)}")
    if encoder is None:
        return gram_distance(output, style)
    if isinstance(encoder, torch.nn.Module):  # device rule: the images follow the encoder
        output, style = follow(encoder, output, style)
    else:
        style = follow(output, style)
    layers = list(layers)
    w = [1.0] * len(layers) if weights is None else list(weights)
    if len(w) != len(layers):
        raise ValueError(f"{len(w)} weights for {len(layers)} layers")
    with torch.no_grad():
        fo = encoder(output, layers)
        fs = encoder(style, layers)
    total = torch.zeros(output.shape[0], dtype=output.dtype, device=output.device)
    for wl, name in zip(w, layers):
        total = total + wl * gram_distance(fo[name], fs[name])
    return total


# ============================================================================ the Pareto front
def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Sorted indices of the non-dominated ``(ssim, style_distance)`` points (higher SSIM, lower distance win).

    Point ``i`` is dominated when some ``j`` has ``ssim_j ≥ ssim_i`` and
    ``distance_j ≤ distance_i`` with at least one strict; the front is the rest
    (the methods no other method beats on both axes of the WCT² evaluation).
    O(n²) comparisons: meant for a table of methods, not a point cloud.
    """
    pts = [(float(s), float(d)) for s, d in points]
    return [i for i, (s, d) in enumerate(pts)
            if not any(s2 >= s and d2 <= d and (s2 > s or d2 < d) for s2, d2 in pts)]
