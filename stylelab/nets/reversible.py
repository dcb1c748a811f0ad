"""A small reversible network: an exactly invertible encoder, so no decoder is learnt (CAP-VSTNet's idea).

L. Wen, C. Gao, C. Zou, "CAP-VSTNet: Content Affinity Preserved Versatile Style
Transfer", CVPR 2023. The encoder is a stack of invertible blocks; a feature transform
(e.g. WCT) runs on its output and the *inverse* of the same network maps the result
back to pixels, so nothing of the content is lost on the way (Sec. 3.1). Built here
from the standard exactly invertible pieces:

* **channel padding** (injective): ``x ↦ [x, 0]``, from 3 to ``channels``
  channels (the inverse drops the zeros; CAP-VSTNet pads to 32);
* **squeeze**: ``pixel_unshuffle`` by 2, ``(C, H, W) → (4C, H/2, W/2)``, a permutation;
* **additive coupling** (Dinh, Krueger & Bengio, NICE, 2015; Gomez et al., RevNet, 2017)
  on the two halves ``(x₁, x₂)`` of the channels::

      y₁ = x₁ + F(x₂),   y₂ = x₂ + G(y₁)
      x₂ = y₂ − G(y₁),   x₁ = y₁ − F(x₂)                 (the inverse)

  with ``F``, ``G`` small 3×3 convolution stacks (any function keeps the block invertible).

The inverse is exact in exact arithmetic; in floating point it is exact to rounding
(``tests/test_reversible.py``: ≤ 1e-12 in float64, ≤ 1e-5 in float32). Height and width
must be multiples of ``2^squeezes`` (pad with :func:`stylelab.validate.pad_to_size`).
Trained by :mod:`stylelab.methods.capvst` (``stylelab train --method capvst``), as CAP-VSTNet trains
it: a style loss, a cycle loss and the matting-Laplacian loss of notebook 06
(:class:`stylelab.smoothing.matting.MattingLaplacian`); a small trained network ships in
``data/decoders/capvst_reversible.pt`` (the architecture :data:`stylelab.methods.capvst.ARCH`). Training
changes ``F`` and ``G`` only: any weights keep the inverse exact.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["Coupling", "ReversibleNet"]


def _block(channels: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(channels, hidden, 3, padding=1, padding_mode="reflect"), nn.ReLU(),
                         nn.Conv2d(hidden, channels, 3, padding=1, padding_mode="reflect"))


class Coupling(nn.Module):
    """One additive coupling block on ``(B, C, H, W)`` (``C`` even): ``forward`` and its exact ``inverse``."""

    def __init__(self, channels: int, hidden: int = 32):
        super().__init__()
        if channels % 2:
            raise ValueError(f"a coupling block splits the channels in two: {channels} is odd")
        self.f = _block(channels // 2, hidden)
        self.g = _block(channels // 2, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = x.chunk(2, 1)
        y1 = x1 + self.f(x2)
        return torch.cat((y1, x2 + self.g(y1)), 1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        y1, y2 = y.chunk(2, 1)
        x2 = y2 - self.g(y1)
        return torch.cat((y1 - self.f(x2), x2), 1)


class ReversibleNet(nn.Module):
    """Pad → (squeeze → ``blocks`` couplings) × ``squeezes``: ``(B, 3, H, W) → (B, channels·4^squeezes, H/2^s, W/2^s)``.

    ``inverse(features)`` returns the image; ``inverse(forward(x)) == x`` up to rounding.
    """

    def __init__(self, channels: int = 8, squeezes: int = 2, blocks: int = 2, hidden: int = 32):
        super().__init__()
        if channels < 3:
            raise ValueError(f"channels must be at least 3 (the image's), got {channels}")
        self.channels, self.squeezes = channels, squeezes
        self.stages = nn.ModuleList(
            nn.ModuleList(Coupling(channels * 4 ** (s + 1), hidden) for _ in range(blocks)) for s in range(squeezes))

    def _check(self, x: torch.Tensor) -> None:
        k = 2 ** self.squeezes
        if x.dim() != 4 or x.shape[-2] % k or x.shape[-1] % k:
            raise ValueError(f"expected (B, C, H, W) with H and W multiples of {k}, got {tuple(x.shape)}: "
                             f"pad with stylelab.validate.pad_to_size(x, multiple={k})")

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        self._check(image)
        if image.shape[1] != 3:
            raise ValueError(f"the image must have 3 channels, got {image.shape[1]}")
        x = F.pad(image, (0, 0, 0, 0, 0, self.channels - 3))  # injective channel padding with zeros
        for stage in self.stages:
            x = F.pixel_unshuffle(x, 2)
            for block in stage:
                x = block(x)
        return x

    def inverse(self, features: torch.Tensor) -> torch.Tensor:
        c = self.channels * 4 ** self.squeezes
        if features.dim() != 4 or features.shape[1] != c:
            raise ValueError(f"expected features (B, {c}, h, w) from forward, got {tuple(features.shape)}")
        x = features
        for stage in reversed(self.stages):
            for block in reversed(stage):
                x = block.inverse(x)
            x = F.pixel_shuffle(x, 2)
        return x[:, :3]
