"""Losses of image-optimisation style transfer: content, style (Gram / MMD /
moments / histogram) and total variation.

Style losses come in two halves so optimisation stays cheap: a *target* is
computed once from the style features (under ``torch.no_grad``), and the loss
compares the current features with it at every step. Each ``*_target`` /
``*_loss`` pair takes features ``(B, C, H, W)``; the batch of the target is 1 or
the same as the features'.

Conventions (see ``stylelab.features.stats`` for the statistics themselves):

* ``"paper"`` — Gatys, Ecker & Bethge, CVPR 2016: content
  ``½ Σ (F − P)²``; style ``E_l = ‖G − A‖²_F / (4 C² M²)`` with the raw Gram.
  stylelab computes it as ``‖G/M − A/M_s‖²_F / (4 C²)``, identical when the
  style has as many positions as the image, and still meaningful when not.
* ``"tutorial"`` — the PyTorch tutorial (and DPST): content ``mean (F − P)²``;
  style ``mean over C×C of (G/(C·M) − A/(C·M_s))²``.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from . import stats
from .linear_time_mmd import mmd2_linear

Convention = Literal["paper", "tutorial"]


def _check_pair(feat: torch.Tensor, target: torch.Tensor, what: str) -> None:
    if feat.dim() != 4:
        raise ValueError(f"{what}: features must be (B, C, H, W), got {tuple(feat.shape)}")
    if feat.shape[1] != target.shape[1]:
        raise ValueError(f"{what}: the target has {target.shape[1]} channels, the features {feat.shape[1]}; "
                         "were they taken from different layers?")


# ---------------------------------------------------------------------- content
def content_loss(feat: torch.Tensor, content_feat: torch.Tensor, convention: Convention = "paper") -> torch.Tensor:
    """Content loss between features of the image and of the content image.

    ``"paper"``: ``½ Σ_ij (F_ij − P_ij)²`` (Gatys et al. 2016, eq. 1);
    ``"tutorial"``: ``mean (F − P)²`` (``F.mse_loss``). Shapes must match;
    returns a scalar.
    """
    if feat.shape != content_feat.shape:
        raise ValueError(f"content_loss: features {tuple(feat.shape)} and content features "
                         f"{tuple(content_feat.shape)} differ; the image and the content must have the same size.")
    if convention == "paper":
        return 0.5 * (feat - content_feat).pow(2).sum()
    if convention == "tutorial":
        return F.mse_loss(feat, content_feat)
    raise ValueError(f"convention must be 'paper' or 'tutorial', got {convention!r}")


# ---------------------------------------------------------------------- Gram
def gram_target(style_feat: torch.Tensor, convention: Convention = "paper") -> torch.Tensor:
    """The Gram target ``A`` of :func:`gram_loss`: ``A/M`` for ``"paper"``, ``A/(C·M)`` for ``"tutorial"``. ``(B, C, C)``."""
    if convention not in ("paper", "tutorial"):
        raise ValueError(f"convention must be 'paper' or 'tutorial', got {convention!r}")
    return stats.gram(style_feat, "positions" if convention == "paper" else "elements")


def gram_loss(feat: torch.Tensor, target: torch.Tensor, convention: Convention = "paper") -> torch.Tensor:
    """Gram style loss of one layer against a target from :func:`gram_target`.

    ``"paper"``: ``E_l = ‖G/M − A/M_s‖²_F / (4 C²)`` = ``‖G − A‖²_F / (4 C² M²)``
    when ``M = M_s`` (Gatys et al. 2016, eq. 4) = ``MMD²/(4C²)`` with the
    kernel ``(xᵀy)²`` (Li et al. 2017).
    ``"tutorial"``: ``mean_ij (G_ij/(C·M) − A_ij)²`` (PyTorch tutorial).
    Summed over the batch for ``"paper"``; averaged over all entries for
    ``"tutorial"``. Returns a scalar.
    """
    _check_pair(feat, target, "gram_loss")
    c = feat.shape[1]
    if convention == "paper":
        g = stats.gram(feat, "positions")
        return (g - target).pow(2).sum() / (4 * c * c)
    if convention == "tutorial":
        g = stats.gram(feat, "elements")
        return F.mse_loss(g, target.expand_as(g))
    raise ValueError(f"convention must be 'paper' or 'tutorial', got {convention!r}")


# ---------------------------------------------------------------------- MMD
def mmd_loss(
    feat: torch.Tensor,
    style_feat: torch.Tensor,
    kernel: stats.Kernel = "poly",
    degree: int = 2,
    offset: float = 0.0,
    bandwidth="median",
    unbiased: bool = False,
    estimator: str = "quadratic",
) -> torch.Tensor:
    """MMD² style loss (Li et al., IJCAI 2017), divided by ``4 C²`` for the degree-2 polynomial kernel.

    ``loss = MMD²(columns of feat, columns of style_feat) · s`` with
    ``s = 1/(4C²)`` for ``kernel="poly", degree=2`` (so ``offset=0`` gives the
    paper Gram loss exactly) and ``s = 1`` otherwise. For the Gaussian kernel a
    ``"median"`` bandwidth is recomputed (without gradient) from the current
    samples; pass a number to fix it. Summed over the batch; returns a scalar.

    ``estimator="linear"`` (Gaussian kernel only): Gretton's linear-time estimate over seeded pairs of
    positions, Li et al.'s choice (:func:`stylelab.features.linear_time_mmd.mmd2_linear`): ``O(M C)``
    instead of the ``O(M² C)`` kernel matrices, which at 128 px cost ≈ 100× the Gram loss per evaluation.
    """
    _check_pair(feat, style_feat, "mmd_loss")
    style_feat = style_feat.expand(feat.shape[0], *style_feat.shape[1:]) if style_feat.shape[0] == 1 else style_feat
    if estimator == "linear":
        if kernel != "gaussian":
            raise ValueError(f"the linear-time MMD estimator is for the Gaussian kernel (the polynomial and linear kernels "
                             f"have exact closed forms that are cheaper); got kernel={kernel!r}")
        return mmd2_linear(feat, style_feat, bandwidth).sum()
    if estimator != "quadratic":
        raise ValueError(f"estimator must be 'quadratic' or 'linear'; got {estimator!r}")
    scale = 1.0 / (4 * feat.shape[1] ** 2) if kernel == "poly" and degree == 2 else 1.0
    return stats.mmd2(feat, style_feat, kernel, degree, offset, bandwidth, unbiased).sum() * scale


# ---------------------------------------------------------------------- moments
def moment_target(style_feat: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel ``(mean, std)`` of the style, each ``(B, C)`` (biased variance + ``eps``)."""
    return stats.moments(style_feat, unbiased=False, eps=eps)


def moment_loss(feat: torch.Tensor, target: tuple[torch.Tensor, torch.Tensor], eps: float = 1e-5) -> torch.Tensor:
    """Moment matching: ``mean_c (μ_c − μ^s_c)² + mean_c (σ_c − σ^s_c)²`` summed over the batch.

    The AdaIN training style loss per layer (Huang & Belongie, ICCV 2017),
    "batch-norm statistics matching" in Li et al. 2017. ``σ`` uses the biased
    variance plus ``eps`` inside the square root (so the gradient exists for
    constant channels).
    """
    mean, std = stats.moments(feat, unbiased=False, eps=eps)
    tm, ts = target
    if tm.shape[-1] != mean.shape[-1]:
        raise ValueError(f"moment_loss: target has {tm.shape[-1]} channels, features {mean.shape[-1]}")
    return ((mean - tm).pow(2).mean(-1) + (std - ts).pow(2).mean(-1)).sum()


# ---------------------------------------------------------------------- histogram
def histogram_target(style_feat: torch.Tensor) -> torch.Tensor:
    """Sorted values of every channel of the style: ``(B, C, N)``, the target of :func:`histogram_loss`."""
    return stats._as_samples(style_feat, "style_feat").sort(dim=2).values


def match_histograms(x: torch.Tensor, target_sorted: torch.Tensor) -> torch.Tensor:
    """Exact per-channel histogram matching: give each channel of ``x`` the value distribution of the target.

    The value of rank ``k`` (0-based) among the ``M`` values of a channel of
    ``x`` becomes the target's quantile at cumulative probability ``(k+1)/M``,
    linearly interpolated between the target's sorted values placed at
    ``(j+1)/N`` — the same rule as ``skimage.exposure.match_histograms`` for
    distinct values; with ``M = N`` the output is a permutation of the target.
    Ties in ``x`` are broken by position (sorting is stable).

    Args:
        x: ``(B, C, H, W)`` (or ``(B, C, M)``).
        target_sorted: ``(1 or B, C, N)`` from :func:`histogram_target`.

    Returns:
        Tensor shaped like ``x``; not differentiable (used as a fixed target).

    Paper: Risser, Wilmot & Barnes, "Stable and Controllable Neural Texture
    Synthesis and Style Transfer Using Histogram Losses", arXiv 2017.
    """
    with torch.no_grad():
        xs = stats._as_samples(x, "x")
        b, c, m = xs.shape
        t = target_sorted.expand(b, -1, -1) if target_sorted.shape[0] == 1 else target_sorted
        if t.shape[:2] != (b, c):
            raise ValueError(f"match_histograms: target {tuple(target_sorted.shape)} does not fit features {tuple(x.shape)}")
        n = t.shape[2]
        order = xs.argsort(dim=2, stable=True)
        pos = (torch.arange(1, m + 1, device=x.device, dtype=xs.dtype if xs.is_floating_point() else torch.float64)
               * (n / m) - 1).clamp(0, n - 1)
        lo = pos.floor().long()
        hi = (lo + 1).clamp(max=n - 1)
        frac = (pos - lo.to(pos.dtype)).to(t.dtype)
        values = t[..., lo] * (1 - frac) + t[..., hi] * frac  # (B, C, M), in rank order
        out = torch.empty_like(xs)
        out.scatter_(2, order, values)
    return out.reshape(x.shape)


def histogram_loss(feat: torch.Tensor, target_sorted: torch.Tensor) -> torch.Tensor:
    """Histogram loss ``Σ ‖O − R(O)‖²_F / (C·M)``: distance of the features to their histogram-matched version.

    ``R(O)`` = :func:`match_histograms` of ``O`` to the style (held fixed, no
    gradient through it), so the gradient is ``2 (O − R(O)) / (C·M)``
    (Risser et al. 2017, eq. 3, mean instead of sum). Returns a scalar.
    """
    _check_pair(feat, target_sorted, "histogram_loss")
    r = match_histograms(feat, target_sorted)
    return (feat - r).pow(2).sum() / (feat.shape[1] * feat.shape[2] * feat.shape[3])


# ---------------------------------------------------------------------- total variation
def total_variation(image: torch.Tensor, kind: Literal["squared", "l1", "isotropic"] = "squared", reduction: Literal["mean", "sum"] = "mean") -> torch.Tensor:
    """Total variation of ``(B, C, H, W)`` images (smoothness prior).

    With ``dx = x[..., :, 1:] − x[..., :, :-1]`` and ``dy = x[..., 1:, :] − x[..., :-1, :]``:

    * ``"squared"``: ``Σ dx² + Σ dy²`` (the β=2 TV of Mahendran & Vedaldi,
      CVPR 2015, used by Johnson et al. and the TensorFlow tutorial's squared form);
    * ``"l1"``: ``Σ |dx| + Σ |dy|`` (anisotropic; ``tf.image.total_variation``);
    * ``"isotropic"``: ``Σ sqrt(dx² + dy² + 1e-8)`` over the ``(H−1)×(W−1)`` grid.

    ``reduction="mean"`` divides by the number of image elements ``B·C·H·W``.
    Returns a scalar.
    """
    if image.dim() != 4:
        raise ValueError(f"total_variation expects (B, C, H, W), got {tuple(image.shape)}")
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    if kind == "squared":
        tv = dx.pow(2).sum() + dy.pow(2).sum()
    elif kind == "l1":
        tv = dx.abs().sum() + dy.abs().sum()
    elif kind == "isotropic":
        tv = (dx[..., :-1, :].pow(2) + dy[..., :, :-1].pow(2) + 1e-8).sqrt().sum()
    else:
        raise ValueError(f"kind must be 'squared', 'l1' or 'isotropic', got {kind!r}")
    if reduction == "mean":
        return tv / image.numel()
    if reduction == "sum":
        return tv
    raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
