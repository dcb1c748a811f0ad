"""Exercises of notebook 07 (WCT²): Haar pooling by hand, its inverse, temporal change."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import video, wavelets
from . import assert_close, exercise


def _x(seed=0, shape=(2, 3, 6, 8)):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# ------------------------------------------------------------------ 07.haar_ll
def _ll_solution(x):
    a, b = x[..., 0::2, 0::2], x[..., 0::2, 1::2]
    c, d = x[..., 1::2, 0::2], x[..., 1::2, 1::2]
    return (a + b + c + d) / 2


def _ll_wrong(x):
    return F.avg_pool2d(x, 2)  # the average, not the orthonormal LL (off by a factor 2)


@exercise("07.haar_ll", solution=_ll_solution, wrong=_ll_wrong,
          hint="LL = ½(a + b + c + d) for each 2×2 block [[a, b], [c, d]]: use strided slicing x[..., 0::2, 0::2] etc. "
               "It is twice the average — the factor makes the four filters orthonormal.")
def _check_ll(student):
    x = _x()
    assert_close(student(x), wavelets.haar_dwt(x)[0], rtol=1e-10, atol=1e-12, what="LL band")


# ------------------------------------------------------------------ 07.haar_inverse
def _inverse_solution(LL, LH, HL, HH):
    a = (LL - LH - HL + HH) / 2
    b = (LL + LH - HL - HH) / 2
    c = (LL - LH + HL - HH) / 2
    d = (LL + LH + HL + HH) / 2
    B, C, h, w = LL.shape
    x = LL.new_zeros(B, C, 2 * h, 2 * w)
    x[..., 0::2, 0::2], x[..., 0::2, 1::2], x[..., 1::2, 0::2], x[..., 1::2, 1::2] = a, b, c, d
    return x


def _inverse_wrong(LL, LH, HL, HH):
    return F.interpolate(LL, scale_factor=2, mode="nearest") / 2  # LL only: the details are lost


@exercise("07.haar_inverse", solution=_inverse_solution, wrong=_inverse_wrong,
          hint="Each output pixel is ½ of a signed sum of the four bands, with the signs of its kernel entry: "
               "a = ½(LL − LH − HL + HH), b = ½(LL + LH − HL − HH), c = ½(LL − LH + HL − HH), d = ½(LL + LH + HL + HH).")
def _check_inverse(student):
    x = _x(1)
    assert_close(student(*wavelets.haar_dwt(x)), x, rtol=1e-10, atol=1e-12, what="reconstruction")


# ------------------------------------------------------------------ 07.temporal_change
def _tc_solution(frames):
    return (frames[1:] - frames[:-1]).abs().flatten(1).mean(1)


def _tc_wrong(frames):
    return (frames[1:] - frames[:-1]).pow(2).flatten(1).mean(1)


@exercise("07.temporal_change", solution=_tc_solution, wrong=_tc_wrong,
          hint="For each t, the mean over all pixels and channels of |V[t+1] − V[t]| (absolute, not squared): "
               "a tensor of T − 1 numbers.")
def _check_tc(student):
    frames = torch.rand(5, 3, 4, 6, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert_close(student(frames), video.temporal_change(frames), rtol=1e-10, atol=1e-12, what="temporal change")
