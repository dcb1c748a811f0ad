"""Training-free wavelet style transfer in pixel space: WCT on the Haar sub-bands of the images.

The pixel-space counterpart of WCT²'s observation (J. Yoo et al.,
"Photorealistic Style Transfer via Wavelet Transforms", ICCV 2019) that
changing only the low band ``LL`` moves colours and tones while the detail
bands keep the edges: no network and no weights, only :mod:`stylelab.features.wavelets`
and :func:`stylelab.features.transforms.wct`.
"""

from __future__ import annotations

from typing import Literal

import torch

from . import transforms as T
from . import wavelets as Wv

__all__ = ["wavelet_transfer"]


def wavelet_transfer(
    content: torch.Tensor,
    style: torch.Tensor,
    levels: int = 3,
    bands: Literal["LL", "all"] = "LL",
    alpha: float = 1.0,
    content_labels=None,
    style_labels=None,
    eps: float = 1e-5,
    clamp: bool = True,
) -> torch.Tensor:
    """Training-free wavelet style transfer in pixel space (no network, no weights).

    Both images are decomposed into a ``levels``-level Haar pyramid
    (:func:`stylelab.features.wavelets.haar_wavedec`). WCT (3×3 colour covariance,
    ``Σ + eps·I``, no clamp) then matches the content's coarsest ``LL`` band to
    the style's; with ``bands="all"`` every detail band ``LH, HL, HH`` of every
    level is matched to the style's too. Synthesis gives the result.

    This is the pixel-space version of WCT²'s "LL only" observation: changing
    only the low band moves colours and tones while the content's edges (its
    detail bands) are kept exactly; also transforming the detail bands imports
    the style's texture statistics and softens/alters structure.

    Args:
        content: ``(B, 3, H, W)`` in [0, 1] (any size; odd sides are padded).
        style: ``(1, 3, H', W')``.
        levels: pyramid depth (≥ 1).
        bands: ``"LL"`` or ``"all"``.
        alpha: blend ``α T + (1 − α) band_c`` per transformed band.
        content_labels, style_labels: optional label maps at image resolution.
        clamp: clamp the result to [0, 1].

    Returns:
        ``(B, 3, H, W)``.
    """
    if bands not in ("LL", "all"):
        raise ValueError(f"bands must be 'LL' or 'all', got {bands!r}")
    for name, x in (("content", content), ("style", style)):
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            raise ValueError(f"{name} must be a (B, C, H, W) tensor")
    cll, cdet, sizes = Wv.haar_wavedec(content, levels)
    sll, sdet, _ = Wv.haar_wavedec(style, levels)
    kw = dict(preset="exact", eps_content=eps, eps_style=eps, content_labels=content_labels,
              style_labels=style_labels, compute_dtype=torch.float64 if content.device.type != "mps" else torch.float32)
    ll = T.wct(cll, sll, alpha, **kw)
    if bands == "all":
        cdet = [tuple(T.wct(c, s, alpha, **kw) for c, s in zip(cd, sd)) for cd, sd in zip(cdet, sdet)]
    out = Wv.haar_waverec(ll, cdet, sizes)
    return out.clamp(0, 1) if clamp else out
