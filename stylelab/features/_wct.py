"""WCT on features (Li et al., NeurIPS 2017): a style prepared once, applied with α, per label region and
per sample; the whitening/colouring algebra itself is in :mod:`stylelab.features.whitening`.

Private: every name here is imported from :mod:`stylelab.features.transforms`, its one public path.
"""

from __future__ import annotations

from typing import Literal

import torch

from .prepared_style import PreparedStyle, apply_prepared, per_style, prepare_style
from .whitening import WCTConfig, apply_colouring, blend, check_features, colouring_or_none, check_pair, wct_config

__all__ = ["prepare_wct_style", "wct_prepared", "wct"]


def prepare_wct_style(
    style_feat: torch.Tensor, cfg: WCTConfig | str = "exact", style_labels=None, method: str = "eigh"
) -> PreparedStyle:
    """The colouring matrices ``(C_s, μ_s)`` of a ``(1, C, H, W)`` style feature (global and per label),
    for :func:`wct_prepared`. ``cfg`` is a :class:`WCTConfig` or a preset name."""
    cfg = wct_config(cfg) if isinstance(cfg, str) else cfg
    return prepare_style(style_feat, lambda s: colouring_or_none(s, cfg, method), style_labels, cfg=cfg, method=method)


def wct_prepared(
    content_feat: torch.Tensor,
    prepared: PreparedStyle,
    alpha: float = 1.0,
    content_labels=None,
    min_pixels: int = 10,
    max_ratio: float = 100.0,
    used=None,
) -> torch.Tensor:
    """:func:`wct` of ``content_feat`` ``(B, C, H, W)`` with a style prepared by :func:`prepare_wct_style`.

    The whitening of each content matrix is computed here; the style side is
    reused (WCT² prepares each transfer point of a style once, for every frame
    of a video). Labels: pass ``content_labels`` iff the style was prepared with labels;
    ``used``: the label ids to transfer, decided once by the caller (WCT² and PhotoWCT decide
    on the maps at the images' size), or ``None`` = the usability rule on
    ``content_labels`` and the prepared style's map (``min_pixels``, ``max_ratio``).
    """
    check_features(content_feat, "content_feat")
    if (prepared.labels is None) != (content_labels is None):
        raise ValueError("pass both content_labels and style_labels, or neither")
    cfg, method = prepared.cfg, prepared.method
    out = apply_prepared(content_feat, prepared, lambda c, col: apply_colouring(c, col, cfg, method),
                          content_labels, min_pixels, max_ratio, used)
    return blend(alpha, out, content_feat)


# ============================================================================ WCT on features
def wct(
    content_feat: torch.Tensor,
    style_feat: torch.Tensor,
    alpha: float = 1.0,
    *,
    preset: str = "exact",
    eps_content: float | None = None,
    eps_style: float | None = None,
    eig_threshold: float | str | None = None,
    clamp: bool | None = None,
    compute_dtype: torch.dtype | None = None,
    method: Literal["eigh", "svd"] = "eigh",
    content_labels: torch.Tensor | None = None,
    style_labels: torch.Tensor | None = None,
    min_pixels: int = 10,
    max_ratio: float = 100.0,
    whitening: str | None = None,
) -> torch.Tensor:
    """Whitening and colouring transform (Li et al., NeurIPS 2017); ``whitening="cholesky"`` replaces
    ``Σ^{∓1/2}`` by Cholesky factors (:mod:`stylelab.features.whitening`, CAP-VSTNet).

    Per sample, with ``F_c`` the content features as a ``C × N`` matrix and
    ``F_s`` the style's ``C × M``::

        Σ_c + ε_c I = E_c D_c E_cᵀ,      Σ_s + ε_s I = E_s D_s E_sᵀ     (÷(N−1))
        T = E_s D_s^{1/2} E_sᵀ · E_c D_c^{-1/2} E_cᵀ (F_c − μ_c) + μ_s
        T ← clamp(T, min F_c, max F_c)                                 (if clamp)
        out = α T + (1 − α) F_c

    Eigenvalues below ``eig_threshold`` are dropped on each side separately.

    Presets (:data:`WCT_PRESETS`) set ε, the threshold, clamping and the
    dtype of the named implementation; explicit keyword arguments override
    them. ``alpha`` is independent of the preset: the official WCT uses
    α = 0.6 by default, PytorchWCT and WCT² α = 1, PhotoWCT has no α (use 1).
    Only ``"exact"`` makes the output covariance equal the style's: the
    identity the others add is not small for normalised-VGG features, whose
    variances are O(1) (normalised VGG: each filter's mean activation is one).

    Args:
        content_feat: ``(B, C, H, W)``.
        style_feat: ``(B, C, H', W')`` or ``(1, C, H', W')`` (any spatial size).
        alpha: style strength in [0, 1].
        method: ``"eigh"`` (symmetric eigen-solver) or ``"svd"`` (as the
            references' ``torch.svd``); results agree up to rounding.
        content_labels, style_labels: optional label maps (see
            :func:`stylelab.labels.maps.check_labels`), at any resolution (resized with NEAREST to
            the feature size). WCT runs per usable label (:func:`stylelab.labels.label_report`,
            evaluated at the maps' given resolution) between the content and
            style pixels with that label; pixels of unused labels keep their
            content feature (PhotoWCT's rule, ``photo_wct.py``).
        min_pixels, max_ratio: the label usability rule.

    Returns:
        ``(B, C, H, W)`` in the input's dtype and device. On MPS the C×C
        eigen-problems run on the CPU (MPS has no float64 and no ``eigh``).
        When a side has fewer positions than channels the eigen-problem is
        solved on the ``N × N`` Gram matrix instead (:data:`LOW_RANK`).
        If ``eigh`` fails (float32, nearly singular), SVD is used.

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> content = torch.randn(1, 4, 16, 16, generator=g, dtype=torch.float64)
        >>> style = torch.randn(1, 4, 12, 12, generator=g, dtype=torch.float64) * torch.tensor([1.0, 2, 3, 4]).view(1, 4, 1, 1)
        >>> out = wct(content, style)  # "exact" preset: the style's mean and covariance, exactly
        >>> cov = lambda f: torch.cov(f.flatten(2)[0])
        >>> torch.allclose(cov(out), cov(style)), torch.allclose(out.mean((2, 3)), style.mean((2, 3)))
        (True, True)
    """
    content_feat, style_feat = check_pair(content_feat, style_feat)
    cfg = wct_config(
        preset, eps_content=eps_content, eps_style=eps_style, eig_threshold=eig_threshold,
        clamp=clamp, compute_dtype=compute_dtype, whitening=whitening,
    )
    if method not in ("eigh", "svd"):
        raise ValueError(f"method must be 'eigh' or 'svd', got {method!r}")
    if (content_labels is None) != (style_labels is None):
        raise ValueError("pass both content_labels and style_labels, or neither")

    def prepare(style, labels):
        return prepare_wct_style(style, cfg, labels, method)

    def apply(content, prepared, labels):
        return wct_prepared(content, prepared, 1.0, labels, min_pixels, max_ratio)

    t = per_style(content_feat, style_feat, content_labels, style_labels, prepare, apply)
    return blend(alpha, t, content_feat)
