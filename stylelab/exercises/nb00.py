"""Exercises of notebook 00: how checks work."""

import torch

from . import exercise


def _image(seed, shape):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@exercise("00.mean_colour", hint="Average over the two spatial dimensions only (H and W), keep batch and colour.",
          what="mean colour")
def _mean_colour_cases():
    return [(_image(0, (2, 3, 5, 7)),)]


@exercise("00.luminance", what="luminance",
          hint="Luminance Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), kept as one channel: (B, 1, H, W).")
def _luminance_cases():
    return [(_image(1, (2, 3, 4, 6)),)]
