"""Normalisation layers of feed-forward stylisation networks: batch, instance and conditional instance norm.

For a batch of feature maps ``x`` of shape ``(B, C, H, W)``:

* **batch norm** (Ioffe & Szegedy, ICML 2015) normalises every channel with
  statistics pooled over the batch *and* the positions,
  ``μ_c = mean_{b,h,w} x_bchw``; at test time it uses running averages, so an
  image's output depends on the images it was trained with;
* **instance norm** (Ulyanov, Vedaldi & Lempitsky, "Instance Normalization: The
  Missing Ingredient for Fast Stylization", arXiv 1607.08022, 2016; and
  "Improved Texture Networks", CVPR 2017) uses each image's own statistics,
  ``μ_bc = mean_{h,w} x_bchw``, ``σ²_bc = mean_{h,w} (x_bchw − μ_bc)²`` (biased),
  the same at training and test time:

      IN(x)_bchw = γ_c (x_bchw − μ_bc) / sqrt(σ²_bc + eps) + β_c

  It removes each image's per-channel contrast and mean — much of its "style" —
  before the network has to deal with it;
* **conditional instance norm** (Dumoulin, Shlens & Kudlur, "A Learned
  Representation for Artistic Style", ICLR 2017) keeps one ``(γ^s, β^s)`` pair
  per style ``s`` in a table (``weight``, ``bias``: ``(S, C)``):

      CIN(x; s) = γ^s (x − μ(x)) / σ(x) + β^s

  The rest of the network is shared by all ``S`` styles; a new style costs
  ``2·C`` numbers per layer. Mixing the tables, ``γ = Σ_s w_s γ^s`` and
  ``β = Σ_s w_s β^s`` with ``Σ w_s = 1``, interpolates between styles;
* **conditional instance norm with predicted parameters** (Ghiasi, Lee,
  Kudlur, Dumoulin & Shlens, "Exploring the structure of a real-time,
  arbitrary neural artistic stylization network", BMVC 2017): no table; each
  layer maps a style embedding ``v`` (``(B, D)``, computed from the style
  image by a style-prediction network) to its own ``γ = A v + a``,
  ``β = B v + b`` (:class:`PredictedInstanceNorm2d`), so any style image
  gives parameters — the table of the previous layer becomes a learned
  function.

Everything computes on the device and dtype of its inputs.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["NormKind", "NORMS", "ConditionalInstanceNorm2d", "PredictedInstanceNorm2d", "make_norm", "style_weights"]

NormKind = Literal["batch", "instance", "conditional", "predicted", "none"]
#: The normalisation layers :func:`make_norm` builds, and who used them.
NORMS: dict[str, str] = {
    "batch": "nn.BatchNorm2d — Johnson et al. 2016's transformation network",
    "instance": "nn.InstanceNorm2d(affine=True) — Ulyanov et al. 2016/2017",
    "conditional": "ConditionalInstanceNorm2d — Dumoulin et al. 2017 (one γ, β per style)",
    "predicted": "PredictedInstanceNorm2d — Ghiasi et al. 2017 (γ, β computed from a style embedding)",
    "none": "nn.Identity — no normalisation",
}


def style_weights(style, n_styles: int, batch: int, dtype=torch.float32, device=None) -> torch.Tensor:
    """Turn a style selection into mixing weights ``(B, S)`` (rows sum to 1).

    Args:
        style: an ``int`` (one style for the whole batch), a ``(B,)`` integer
            tensor (one style per image), a float ``(S,)`` tensor or list of
            mixing weights (the same mixture for every image; normalised to sum
            1) or a float ``(B, S)`` tensor (one mixture per image, normalised).
        n_styles: ``S``, the size of the table.
        batch: ``B``.

    Raises:
        ValueError: an index outside ``0…S−1``, weights of the wrong length,
            negative weights or weights summing to zero.
    """
    if isinstance(style, (list, tuple)):
        style = torch.tensor(style, dtype=torch.float64)
    if isinstance(style, int) or (isinstance(style, torch.Tensor) and not style.is_floating_point()):
        idx = torch.as_tensor(style, device=device).long().reshape(-1)
        if idx.numel() == 1:
            idx = idx.expand(batch)
        if idx.numel() != batch:
            raise ValueError(f"got {idx.numel()} style indices for a batch of {batch}: give one index or one per image")
        if (idx < 0).any() or (idx >= n_styles).any():
            raise ValueError(f"style index out of range: this network knows styles 0…{n_styles - 1}, got {idx.tolist()}")
        return F.one_hot(idx, n_styles).to(dtype)
    if not isinstance(style, torch.Tensor):
        raise TypeError(f"style must be an int, an integer tensor of indices or float mixing weights, got {type(style).__name__}")
    w = style.to(device=device, dtype=dtype)
    if w.dim() == 1:
        w = w.unsqueeze(0).expand(batch, -1)
    if w.dim() != 2 or w.shape != (batch, n_styles):
        raise ValueError(f"mixing weights must be (S,) or (B, S) = ({batch}, {n_styles}); got {tuple(style.shape)}")
    if (w < 0).any():
        raise ValueError("mixing weights must be non-negative")
    total = w.sum(1, keepdim=True)
    if (total <= 0).any():
        raise ValueError("mixing weights must not all be zero")
    return w / total


class ConditionalInstanceNorm2d(nn.Module):
    """Instance norm with a table of per-style scales and shifts (Dumoulin et al., ICLR 2017).

    ``CIN(x; w)_bc = γ_bc · (x_bc − μ_bc) / sqrt(σ²_bc + eps) + β_bc`` with
    ``γ_b = w_b · weight`` and ``β_b = w_b · bias``: ``w_b`` is one row of
    :func:`style_weights` — a one-hot row picks style ``s``, a convex
    combination mixes styles. Statistics per sample and channel, biased
    variance, ``eps`` inside the square root (as ``F.instance_norm``).

    Args:
        channels: ``C``.
        n_styles: ``S``, rows of the tables ``weight`` (γ, initialised to 1)
            and ``bias`` (β, initialised to 0), each ``(S, C)``.
    """

    def __init__(self, channels: int, n_styles: int, eps: float = 1e-5):
        super().__init__()
        if n_styles < 1 or channels < 1:
            raise ValueError(f"channels and n_styles must be ≥ 1, got {channels}, {n_styles}")
        self.channels, self.n_styles, self.eps = int(channels), int(n_styles), float(eps)
        self.weight = nn.Parameter(torch.ones(n_styles, channels))
        self.bias = nn.Parameter(torch.zeros(n_styles, channels))

    def forward(self, x: torch.Tensor, style=0) -> torch.Tensor:
        """``x`` ``(B, C, H, W)``; ``style`` as in :func:`style_weights`. Returns ``(B, C, H, W)``."""
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f"expected (B, {self.channels}, H, W) features, got {tuple(x.shape)}")
        w = style_weights(style, self.n_styles, x.shape[0], dtype=self.weight.dtype, device=x.device)
        gamma, beta = w @ self.weight, w @ self.bias  # (B, C)
        y = F.instance_norm(x, eps=self.eps)
        return y * gamma[:, :, None, None].to(x.dtype) + beta[:, :, None, None].to(x.dtype)

    def extra_repr(self) -> str:
        return f"{self.channels}, n_styles={self.n_styles}, eps={self.eps}"


class PredictedInstanceNorm2d(nn.Module):
    """Instance norm whose scale and shift are affine functions of a style embedding (Ghiasi et al., BMVC 2017).

    ``PIN(x; v)_bc = γ_bc · (x_bc − μ_bc) / sqrt(σ²_bc + eps) + β_bc`` with
    ``γ_b = A v_b + a`` (``gamma``: ``nn.Linear(D, C)``) and
    ``β_b = B v_b + b`` (``beta``). Statistics per sample and channel, biased
    variance, ``eps`` inside the square root (as Magenta's TensorFlow code,
    ``tf.nn.moments`` then ``tf.nn.batch_normalization``, and ``F.instance_norm``).

    Args:
        channels: ``C``.
        style_dim: ``D``, the size of the style embedding (Ghiasi et al.: 100).
    """

    def __init__(self, channels: int, style_dim: int, eps: float = 1e-5):
        super().__init__()
        if channels < 1 or style_dim < 1:
            raise ValueError(f"channels and style_dim must be ≥ 1, got {channels}, {style_dim}")
        self.channels, self.style_dim, self.eps = int(channels), int(style_dim), float(eps)
        self.gamma = nn.Linear(style_dim, channels)
        self.beta = nn.Linear(style_dim, channels)
        nn.init.zeros_(self.gamma.weight), nn.init.ones_(self.gamma.bias)  # starts as plain instance norm
        nn.init.zeros_(self.beta.weight), nn.init.zeros_(self.beta.bias)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, C, H, W)``; ``style`` the embedding ``(B, D)`` or ``(D,)`` (one for the batch)."""
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f"expected (B, {self.channels}, H, W) features, got {tuple(x.shape)}")
        if not isinstance(style, torch.Tensor) or not style.is_floating_point():
            raise TypeError(f"this layer takes a float style embedding of size {self.style_dim} (from the style "
                            f"predictor), not {type(style).__name__}")
        v = style.reshape(-1, style.shape[-1]) if style.dim() != 1 else style[None]
        if v.shape[-1] != self.style_dim or v.shape[0] not in (1, x.shape[0]):
            raise ValueError(f"style embedding must be ({self.style_dim},) or (B, {self.style_dim}) with B = "
                             f"{x.shape[0]}; got {tuple(style.shape)}")
        v = v.to(device=x.device, dtype=self.gamma.weight.dtype)
        gamma, beta = self.gamma(v), self.beta(v)  # (B or 1, C)
        y = F.instance_norm(x, eps=self.eps)
        return y * gamma[:, :, None, None].to(x.dtype) + beta[:, :, None, None].to(x.dtype)

    def extra_repr(self) -> str:
        return f"{self.channels}, style_dim={self.style_dim}, eps={self.eps}"


def make_norm(kind: NormKind, channels: int, n_styles: int = 1, style_dim: int = 0) -> nn.Module:
    """The normalisation layer ``kind`` (see :data:`NORMS`) for ``channels`` channels.

    ``"instance"`` is ``nn.InstanceNorm2d(affine=True)`` without running
    statistics (the same computation at training and test time);
    ``"conditional"`` needs ``n_styles``, ``"predicted"`` the embedding size ``style_dim``.
    """
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "conditional":
        return ConditionalInstanceNorm2d(channels, n_styles)
    if kind == "predicted":
        return PredictedInstanceNorm2d(channels, style_dim)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {kind!r}")
