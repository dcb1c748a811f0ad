"""Notebook 07: reference solutions, wrong answers, library oracles."""

import torch.nn.functional as F

from stylelab.media import video
from stylelab.features import wavelets


def haar_ll(x):
    a, b = x[..., 0::2, 0::2], x[..., 0::2, 1::2]
    c, d = x[..., 1::2, 0::2], x[..., 1::2, 1::2]
    return (a + b + c + d) / 2


def haar_ll_wrong(x):
    return F.avg_pool2d(x, 2)  # the average, not the orthonormal LL (off by a factor 2)


def haar_inverse(LL, LH, HL, HH):
    a = (LL - LH - HL + HH) / 2
    b = (LL + LH - HL - HH) / 2
    c = (LL - LH + HL - HH) / 2
    d = (LL + LH + HL + HH) / 2
    B, C, h, w = LL.shape
    x = LL.new_zeros(B, C, 2 * h, 2 * w)
    x[..., 0::2, 0::2], x[..., 0::2, 1::2], x[..., 1::2, 0::2], x[..., 1::2, 1::2] = a, b, c, d
    return x


def haar_inverse_wrong(LL, LH, HL, HH):
    return F.interpolate(LL, scale_factor=2, mode="nearest") / 2  # LL only: the details are lost


def temporal_change(frames):
    return (frames[1:] - frames[:-1]).abs().flatten(1).mean(1)


def temporal_change_wrong(frames):
    return (frames[1:] - frames[:-1]).pow(2).flatten(1).mean(1)


SOLUTIONS = {"07.haar_ll": haar_ll, "07.haar_inverse": haar_inverse, "07.temporal_change": temporal_change}
WRONG = {"07.haar_ll": haar_ll_wrong, "07.haar_inverse": haar_inverse_wrong, "07.temporal_change": temporal_change_wrong}
ORACLES = {
    "07.haar_ll": lambda x: wavelets.haar_dwt(x)[0],
    "07.haar_inverse": lambda *bands: wavelets.haar_idwt(*bands),
    "07.temporal_change": video.temporal_change,
}
