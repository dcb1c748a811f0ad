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

from .device import follow
from .encoders import BLOCKS

#: Positions of the convolutions in the official 29-module AdaIN decoder (``decoder.pth``).
ADAIN_DECODER_INDEX: dict[str, int] = {
    "conv4_1": 1, "conv3_4": 5, "conv3_3": 8, "conv3_2": 11, "conv3_1": 14,
    "conv2_2": 18, "conv2_1": 21, "conv1_2": 25, "conv1_1": 28,
}


def decoder_convs(level: int) -> list[tuple[str, int, int]]:
    """``(name, out_channels, in_channels)`` of the level-``level`` decoder, in forward order."""
    if level not in (1, 2, 3, 4, 5):
        raise ValueError(f"level must be 1..5 (decoding from relu{{level}}_1), got {level}")
    # encoder convs up to conv{level}_1, with their (in, out) channels
    enc, in_c = [], 3
    for b, (n, c) in enumerate(BLOCKS, start=1):
        for i in range(1, n + 1):
            enc.append((f"conv{b}_{i}", in_c, c))
            in_c = c
            if (b, i) == (level, 1):
                return [(name, cin, cout) for name, cin, cout in reversed(enc)]
    raise AssertionError("unreachable")


class MirrorDecoder(nn.Module):
    """Decoder from ``relu{level}_1`` features to an RGB image.

    Args:
        level: 1–5, the encoder layer ``relu{level}_1`` it inverts.
        unpool: ``"nearest"`` (×2 nearest upsampling, AdaIN/WCT) or ``"max"``
            (max-unpooling with switches, PhotoWCT).
    """

    def __init__(self, level: int, unpool: Literal["nearest", "max"] = "nearest"):
        super().__init__()
        if unpool not in ("nearest", "max"):
            raise ValueError(f"unpool must be 'nearest' or 'max', got {unpool!r}")
        self.level = level
        self.unpool = unpool
        self.pretrained = False
        self.convs = [name for name, _, _ in decoder_convs(level)]
        for name, out_c, in_c in decoder_convs(level):
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
        return f"level={self.level}, unpool={self.unpool!r}"


def convert_adain_decoder(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Official AdaIN ``decoder.pth`` (keys ``"1.weight"``, …) → :class:`MirrorDecoder` (level 4) names."""
    out = {}
    for name, idx in ADAIN_DECODER_INDEX.items():
        for p in ("weight", "bias"):
            out[f"{name}.{p}"] = state_dict[f"{idx}.{p}"]
    return out
