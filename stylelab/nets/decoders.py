"""Mirror decoders of the normalised VGG-19: from ``relu{L}_1`` back to an image.

The decoders of AdaIN, WCT and PhotoWCT mirror the encoder: each 3×3
convolution of the encoder up to ``relu{L}_1`` is undone in reverse order, and
each pooling becomes an upsampling — nearest-neighbour ×2 (AdaIN, WCT) or
max-unpooling with the encoder's recorded switches (PhotoWCT, which keeps
edges sharp). Layer names mirror the encoder as in the official checkpoints:
the decoder's ``conv4_1`` maps 512 → 256 channels, undoing the encoder's
``conv4_1`` (256 → 512). Every convolution is preceded by reflection padding
and followed by a ReLU, except the last (``conv1_1``, 64 → 3).

Shapes: ``(B, C_L, H / 2^{L-1}, W / 2^{L-1})`` → ``(B, 3, H, W)``.
"""

from __future__ import annotations

from typing import Literal, Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..device import follow
from ..weights.layout import mirror_decoder_convs

#: ``(name, out_channels, in_channels)`` of the level-``level`` decoder, in forward order.
decoder_convs = mirror_decoder_convs


class MirrorDecoder(nn.Module):
    """Decoder from ``relu{level}_1`` features to an RGB image.

    Args:
        level: 1–5, the encoder layer ``relu{level}_1`` it inverts.
        unpool: ``"nearest"`` (×2 nearest upsampling, AdaIN/WCT) or ``"max"``
            (max-unpooling with switches, PhotoWCT).
        width: divide every hidden channel count by this (the input keeps the
            encoder's ``C_L`` channels, the output 3). ``1`` is the published
            architecture; the course's small stand-in decoders for a
            random-weight encoder (``stylelab.course.course_model``) use 16.
            Max-unpooling needs the encoder's channel counts, so ``width=1`` there.
    """

    def __init__(self, level: int, unpool: Literal["nearest", "max"] = "nearest", width: int = 1):
        super().__init__()
        if unpool not in ("nearest", "max"):
            raise ValueError(f"unpool must be 'nearest' or 'max', got {unpool!r}")
        if int(width) != width or width < 1 or (unpool == "max" and width != 1):
            raise ValueError(f"width must be a positive integer (1 for unpool='max'), got {width!r}")
        self.level = level
        self.unpool = unpool
        self.width = int(width)
        self.pretrained = False
        convs = decoder_convs(level)
        self.convs = [name for name, _, _ in convs]
        for k, (name, out_c, in_c) in enumerate(convs):
            if k > 0:
                in_c = max(8, in_c // self.width)
            if name != "conv1_1":
                out_c = max(8, out_c // self.width)
            self.add_module(name, nn.Conv2d(in_c, out_c, kernel_size=3))

    def forward(
        self,
        feature: torch.Tensor,
        switches: Mapping[str, tuple[torch.Tensor, torch.Size]] | None = None,
    ) -> torch.Tensor:
        """Decode ``feature`` (``relu{level}_1``-like) to an image.

        Args:
            switches: for ``unpool="max"``, the encoder's ``Features.switches``
                of the image being decoded (``{"pool1": (indices, size), …}``).
        """
        feature = follow(self, feature)  # inputs follow the model (stylelab.device)
        if self.unpool == "max" and switches is None and self.level > 1:
            raise ValueError("A max-unpooling decoder needs the encoder's switches: encode with switches=True.")
        x = feature
        for name in self.convs:
            x = getattr(self, name)(F.pad(x, (1, 1, 1, 1), mode="reflect"))
            if name == "conv1_1":
                break
            x = F.relu(x)
            block, idx = name[4:].split("_")
            if idx == "1":  # the first conv of a block: undo the previous block's pooling
                pool = f"pool{int(block) - 1}"
                if self.unpool == "nearest":
                    x = F.interpolate(x, scale_factor=2, mode="nearest")
                else:
                    indices, size = switches[pool]
                    x = F.max_unpool2d(x, indices, 2, 2, output_size=size[-2:])
        return x

    def extra_repr(self) -> str:
        return f"level={self.level}, unpool={self.unpool!r}" + (f", width={self.width}" if self.width != 1 else "")
