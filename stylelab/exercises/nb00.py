"""Exercise of notebook 00: how checks work."""

import torch

from . import assert_close, exercise


def _solution(image):
    return image.mean(dim=(2, 3))


def _wrong(image):
    return image.mean(dim=(1, 2, 3))  # averages over colours too


@exercise("00.mean_colour", solution=_solution, wrong=_wrong, hint="Average over the two spatial dimensions only: dim=(2, 3).")
def _check(student):
    x = torch.rand(2, 3, 5, 7, generator=torch.Generator().manual_seed(0))
    assert_close(student(x), x.mean(dim=(2, 3)), what="mean colour")


def _solution_luma(image):
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=image.dtype).view(1, 3, 1, 1)
    return (image * weights).sum(dim=1, keepdim=True)


def _wrong_luma(image):
    return image.mean(dim=1, keepdim=True)  # equal weights are not luminance


@exercise("00.luminance", solution=_solution_luma, wrong=_wrong_luma,
          hint="Luminance Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), kept as one channel: (B, 1, H, W).")
def _check_luma(student):
    x = torch.rand(2, 3, 4, 6, generator=torch.Generator().manual_seed(1))
    w = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    assert_close(student(x), (x * w).sum(dim=1, keepdim=True), what="luminance")
