"""Feature transforms of feed-forward style transfer: AdaIN and WCT (with labels, α, a style prepared once), CORAL.

The whitening/colouring algebra on one matrix and the WCT presets live in
:mod:`stylelab.features.whitening`; covariances and matrix powers in
:mod:`stylelab.features.linalg`; a style's statistics computed once and applied per
sample and per label region in :mod:`stylelab.features.prepared_style`.

Everything here is a plain function on ``(B, C, H, W)`` tensors that works for
deep features and, unchanged, for pixels (``C = 3``): AdaIN on pixels is
mean/std colour transfer, WCT on pixels is full-covariance colour transfer.

Papers
    * AdaIN — X. Huang and S. Belongie, "Arbitrary Style Transfer in Real-time
      with Adaptive Instance Normalization", ICCV 2017.
    * WCT — Y. Li, C. Fang, J. Yang, Z. Wang, X. Lu, M.-H. Yang, "Universal
      Style Transfer via Feature Transforms", NeurIPS 2017.
    * PhotoWCT — Y. Li et al., "A Closed-form Solution to Photorealistic Image
      Stylization", ECCV 2018.
    * WCT² — J. Yoo et al., "Photorealistic Style Transfer via Wavelet
      Transforms", ICCV 2019.

Conventions
    * Statistics are per sample and per channel over the ``H·W`` positions.
    * ``unbiased=True`` divides by ``N − 1``, ``False`` by ``N``.
    * ``eps`` of :func:`mean_std` is added to the *variance* before the square root.
    * ``eps`` of the WCT functions is added to the *covariance* as ``eps · I``.
    * Label maps are integer tensors ``(H, W)`` or ``(B, 1, H, W)``.

The reference implementations disagree on these small choices and the results
differ visibly, so every choice is a parameter and the ``preset`` argument
names the implementation whose choices you want (see :data:`ADAIN_PRESETS`
and :data:`WCT_PRESETS`).
"""

from __future__ import annotations

from typing import Literal, Sequence

import torch

from .colour import match_colour
from .prepared_style import PreparedStyle, apply_prepared, per_style, prepare_style
from .shared_statistics import content_statistics
from .whitening import blend, check_features, check_pair
from ._wct import prepare_wct_style, wct, wct_prepared

__all__ = [
    "prepare_wct_style", "wct_prepared", "wct", "mean_std", "adain", "prepare_adain_style", "ADAIN_PRESETS",
    "interpolate_styles", "coral",
]


# ============================================================================ AdaIN
def mean_std(feat: torch.Tensor, unbiased: bool = True, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample, per-channel mean and standard deviation over the spatial positions.

    ``μ_bc = (1/N) Σ_n x_bcn`` and ``σ_bc = sqrt(Σ_n (x_bcn − μ_bc)² / D + eps)``
    with ``D = N − 1`` (``unbiased=True``, PyTorch's ``Tensor.var`` default, as
    pytorch-AdaIN's ``calc_mean_std``) or ``D = N`` (``unbiased=False``).

    Args:
        feat: ``(B, C, H, W)`` (or ``(B, C, N)``).
        eps: added to the variance before the square root.

    Returns:
        ``(mean, std)``, each ``(B, C, 1, 1)`` (``(B, C, 1)`` for 3-D input).

    Example:
        >>> import torch
        >>> mean, std = mean_std(torch.tensor([[[1.0, 3.0]]]), eps=0.0)  # (B, C, N) = (1, 1, 2)
        >>> mean.flatten(), std.flatten()  # unbiased: sqrt(((1-2)² + (3-2)²) / (2 − 1))
        (tensor([2.]), tensor([1.4142]))
    """
    if feat.dim() not in (3, 4):
        raise ValueError(f"feat must have shape (B, C, H, W) or (B, C, N), got {tuple(feat.shape)}")
    flat = feat.flatten(2)
    n = flat.shape[-1]
    if unbiased and n < 2:
        raise ValueError("an unbiased variance needs at least 2 positions; pass unbiased=False")
    mean = flat.mean(-1)
    var = flat.var(-1, unbiased=unbiased) + eps
    std = var.sqrt()
    shape = feat.shape[:2] + (1,) * (feat.dim() - 2)
    return mean.view(shape), std.view(shape)


#: AdaIN conventions per implementation: ``(content_unbiased, content_eps, style_unbiased, style_eps)``.
#:
#: * ``"pytorch"`` — naoto0804/pytorch-AdaIN (``function.py``): unbiased
#:   variance + 1e-5 for both content and style.
#: * ``"official"`` — xunhuang1995/AdaIN-style (Torch): the style std is
#:   biased with no eps; the content is normalised by a batch-norm layer in
#:   training mode, i.e. biased variance + 1e-5.
ADAIN_PRESETS: dict[str, tuple[bool, float, bool, float]] = {
    "pytorch": (True, 1e-5, True, 1e-5),
    "official": (False, 1e-5, False, 0.0),
}


def _mean_std_matrix(s: torch.Tensor, unbiased: bool, eps: float):
    """``(μ, σ)`` of the rows of a ``(C, M)`` matrix (a label region), or ``None`` for no position.

    One position has variance 0 (``÷ max(M − 1, 1)``, as :func:`stylelab.features.linalg.covariance`):
    a 1-pixel content region becomes the style region's mean, a 1-pixel style
    region gives its pixel's value (times ``sqrt(eps)/σ_c`` around it). No
    official AdaIN has labels; this is the rule of the WCT references' covariance.
    """
    n = s.shape[-1]
    if n == 0:
        return None
    mean = s.mean(-1, keepdim=True)
    d = max(n - 1, 1) if unbiased else n
    var = (s - mean).pow(2).sum(-1, keepdim=True) / d
    return mean, (var + eps).sqrt()


def _adain_matrix(c: torch.Tensor, style_stats, unbiased: bool, eps: float) -> torch.Tensor:
    """AdaIN of a ``(C, N)`` matrix to the style's ``(μ_s, σ_s)`` (``None``: unchanged)."""
    if style_stats is None or c.shape[-1] == 0:
        return c
    ms, ss = style_stats
    mc, sc = _mean_std_matrix(c, unbiased, eps)
    return (c - mc) / sc.clamp_min(torch.finfo(c.dtype).tiny) * ss + ms


def _adain_convention(preset: str, eps: float | None, unbiased: bool | None) -> tuple[bool, float, bool, float]:
    """``(content_unbiased, content_eps, style_unbiased, style_eps)`` of ``preset`` with the overrides applied."""
    if preset not in ADAIN_PRESETS:
        raise ValueError(f"Unknown AdaIN preset {preset!r}; choose one of {sorted(ADAIN_PRESETS)}.")
    cu, ce, su, se = ADAIN_PRESETS[preset]
    if unbiased is not None:
        cu = su = bool(unbiased)
    if eps is not None:
        ce = se = float(eps)
    return cu, ce, su, se


def prepare_adain_style(style_feat: torch.Tensor, preset: str = "pytorch", style_labels=None, *,
                        eps: float | None = None, unbiased: bool | None = None) -> PreparedStyle:
    """AdaIN's style side ``(μ_s, σ_s)`` (each ``(C, 1)``) of a ``(1, C, H, W)`` style feature, globally or per label.

    Pass the result as ``style_feat`` of :func:`adain` with the same ``preset``/``eps``/``unbiased``:
    the style is encoded and reduced once, then applied to any number of contents (a video's frames,
    the tiles of a 12 MP photo in :mod:`stylelab.tiling`).
    """
    _cu, _ce, su, se = _adain_convention(preset, eps, unbiased)
    check_features(style_feat, "style_feat")
    return prepare_style(style_feat, lambda m: _mean_std_matrix(m, su, se), style_labels, cfg=("adain", su, se))


def adain(
    content_feat: torch.Tensor,
    style_feat: torch.Tensor | PreparedStyle,
    alpha: float = 1.0,
    *,
    preset: Literal["pytorch", "official"] = "pytorch",
    eps: float | None = None,
    unbiased: bool | None = None,
    content_labels: torch.Tensor | None = None,
    style_labels: torch.Tensor | None = None,
    min_pixels: int = 10,
    max_ratio: float = 100.0,
) -> torch.Tensor:
    """Adaptive instance normalisation (Huang & Belongie, ICCV 2017).

    ``AdaIN(x, y) = σ(y) · (x − μ(x)) / σ(x) + μ(y)`` per sample and channel,
    then the blend ``α · AdaIN(x, y) + (1 − α) · x``.

    Args:
        content_feat: ``(B, C, H, W)``.
        style_feat: ``(B, C, H', W')`` or ``(1, C, H', W')`` (shared by all), or its
            :func:`prepare_adain_style` (the style side computed once; same preset).
        alpha: style strength in [0, 1].
        preset: ``"pytorch"`` (naoto0804/pytorch-AdaIN: unbiased variance,
            ``eps = 1e-5`` under the square root for both) or ``"official"``
            (Torch AdaIN-style: style std biased without eps; content
            normalised with the biased variance + 1e-5). See :data:`ADAIN_PRESETS`.
        eps, unbiased: override the preset's value for *both* sides.
        content_labels, style_labels: optional label maps (see
            :func:`stylelab.labels.maps.check_labels`); each usable label (:func:`stylelab.labels.label_report`)
            is transferred from the style region with the same label; pixels
            of other labels keep their content feature. The official Torch
            code has this (``-mask``); the PyTorch port dropped it.
        min_pixels, max_ratio: the label usability rule.

    Returns:
        ``(B, C, H, W)``, same dtype and device as ``content_feat``. With
        ``alpha=1`` each channel has exactly the style's mean and (with the same
        convention, eps aside) standard deviation.

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> content, style = torch.randn(1, 8, 16, 16, generator=g), 3 * torch.randn(1, 8, 12, 12, generator=g) + 2
        >>> out = adain(content, style)  # the style's channel means and standard deviations, the content's layout
        >>> torch.allclose(out.mean((2, 3)), style.mean((2, 3)), atol=1e-4)
        True
        >>> torch.allclose(out.std((2, 3)), style.std((2, 3)), atol=1e-3)
        True
    """
    cu, ce, su, se = _adain_convention(preset, eps, unbiased)
    prepared = style_feat if isinstance(style_feat, PreparedStyle) else None
    if prepared is None:
        content_feat, style_feat = check_pair(content_feat, style_feat)
        if (content_labels is None) != (style_labels is None):
            raise ValueError("pass both content_labels and style_labels, or neither")
    else:
        check_features(content_feat, "content_feat")
        if prepared.cfg != ("adain", su, se):
            raise ValueError(f"the style was prepared with AdaIN convention {prepared.cfg}, not {('adain', su, se)}: "
                             "prepare it with the same preset/eps/unbiased")
        if style_labels is not None or (content_labels is None) != (prepared.labels is None):
            raise ValueError("with a prepared style pass content_labels iff it was prepared with style_labels")
    if content_labels is None:
        # through the tiling hook: a tiled transfer replays the whole image's (μ_c, σ_c) on every tile
        mc, sc = content_statistics("adain", lambda: mean_std(content_feat, cu, ce))
        if prepared is None:
            ms, ss = mean_std(style_feat, su, se)
        else:
            shape = (1, -1) + (1,) * (content_feat.dim() - 2)
            ms, ss = (v.to(content_feat).reshape(shape) for v in prepared.stats)
        out = (content_feat - mc) / sc.clamp_min(torch.finfo(sc.dtype).tiny) * ss + ms
        return blend(alpha, out, content_feat)

    def prepare(style, labels):
        return prepare_style(style, lambda m: _mean_std_matrix(m, su, se), labels)

    def apply(content, prepared, labels):
        fn = lambda c, stats: _adain_matrix(c, stats, cu, ce)  # noqa: E731
        return apply_prepared(content, prepared, fn, labels, min_pixels, max_ratio)

    if prepared is not None:
        return blend(alpha, apply(content_feat, prepared, content_labels), content_feat)
    out = per_style(content_feat, style_feat, content_labels, style_labels, prepare, apply)
    return blend(alpha, out, content_feat)


def interpolate_styles(
    content_feat: torch.Tensor,
    style_feats: Sequence[torch.Tensor],
    weights: Sequence[float] | None = None,
    transform: Literal["adain", "wct"] = "adain",
    alpha: float = 1.0,
    **kwargs,
) -> torch.Tensor:
    """Style interpolation: ``Σ_k w_k T(x, y_k)`` with weights normalised to sum to 1.

    As in pytorch-AdaIN's ``test.py`` (and the AdaIN paper, Fig. 8): the
    content is transformed against each style separately and the transformed
    *features* are mixed (then decoded once). ``alpha`` blends the mixture with
    the content. ``kwargs`` go to :func:`adain` or :func:`wct`.
    """
    if len(style_feats) == 0:
        raise ValueError("give at least one style feature")
    w = torch.ones(len(style_feats), dtype=torch.float64) if weights is None else torch.as_tensor(weights, dtype=torch.float64)
    if w.numel() != len(style_feats) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights must be {len(style_feats)} non-negative numbers with a positive sum, got {weights}")
    w = w / w.sum()
    fn = {"adain": adain, "wct": wct}.get(transform)
    if fn is None:
        raise ValueError(f"transform must be 'adain' or 'wct', got {transform!r}")
    mix = sum(float(wk) * fn(content_feat, s, **kwargs) for wk, s in zip(w, style_feats))
    return blend(alpha, mix, content_feat)


# ============================================================================ labels

# ============================================================================ colour preservation
def coral(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CORAL colour alignment used for AdaIN's ``--preserve_color`` (pytorch-AdaIN ``coral``).

    Recolours ``source`` (the style image) so its RGB mean and covariance match
    ``target``'s (the content image), so the stylised result keeps the content's
    colours (Gatys et al., "Preserving color in neural artistic style transfer",
    2016; Sun et al., "Return of frustratingly easy domain adaptation", AAAI 2016).
    It is :func:`stylelab.features.colour.match_colour` with ``mode="coral"`` (the
    port's conventions: unbiased std, ``Ĉ = X̂ X̂ᵀ + I``), unclamped. Unlike the
    port (CPU float tensors only) this runs on any device and dtype.

    Args:
        source, target: ``(3, H, W)`` or ``(1, 3, H, W)`` images (any sizes).

    Returns:
        ``source``'s shape, dtype and device.

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> style, content = torch.rand(1, 3, 16, 16, generator=g), 0.5 * torch.rand(1, 3, 8, 8, generator=g)
        >>> recoloured = coral(style, content)  # the style's pattern in the content's colours
        >>> torch.allclose(recoloured.mean((2, 3)), content.mean((2, 3)), atol=1e-5)
        True
    """
    def batch(x, name):
        if x.dim() == 4 and x.shape[0] != 1:
            raise ValueError(f"{name}: one image at a time, got batch {x.shape[0]}")
        if x.dim() not in (3, 4) or x.shape[-3] != 3:
            raise ValueError(f"{name} must be (3, H, W) or (1, 3, H, W), got {tuple(x.shape)}")
        return x if x.dim() == 4 else x.unsqueeze(0)

    out = match_colour(batch(source, "source"), batch(target, "target"), mode="coral", clamp=False)
    return out.view_as(source)
