"""Exercises of notebook 00: how checks work."""

import torch

from ...features import colour, stats, transforms
from . import exercise


def _image(seed, shape):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@exercise("00.mean_colour", fallback=lambda image: image.mean(dim=(2, 3)),
          answers=(transforms.mean_std, stats.moments, colour.colour_stats), hint="Average over the two spatial dimensions only (H and W), keep batch and colour.",
          what="mean colour")
def _mean_colour_cases():
    return [(_image(0, (2, 3, 5, 7)),), (_image(2, (1, 3, 1, 5)),)]  # edge: a single row


@exercise("00.luminance", fallback=colour.luminance, answers=(colour.luminance, colour.rgb_to_yiq), what="luminance",
          hint="Luminance Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), kept as one channel: (B, 1, H, W).")
def _luminance_cases():
    return [(_image(1, (2, 3, 4, 6)),), (_image(3, (1, 3, 1, 1)),)]  # edge: one pixel


@exercise("00.contrast", fallback=lambda image: colour.luminance(image).flatten(1).std(1, unbiased=False),
          answers=(transforms.mean_std, stats.moments), what="RMS contrast",
          hint="Y = luminance(image) (B, 1, H, W); the population standard deviation of Y over the H·W pixels of "
               "each image: sqrt(mean((Y − mean Y)²)), one number per image → (B,).")
def _contrast_cases():
    return [(_image(4, (3, 3, 6, 5)),), (_image(5, (1, 3, 1, 1)),)]  # edge: one pixel (contrast 0)
