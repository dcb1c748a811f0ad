"""Exercises of notebook 07 (WCT²): Haar pooling by hand, its inverse, temporal change."""

from __future__ import annotations

import torch

from ...media import video
from ...features import wavelets
from . import exercise


def _x(seed=0, shape=(2, 3, 6, 8)):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@exercise("07.haar_ll", fallback=lambda x: wavelets.haar_dwt(x)[0], answers=(wavelets.haar_dwt,), rtol=1e-10, atol=1e-12, what="LL band",
          hint="LL = ½(a + b + c + d) for each 2×2 block [[a, b], [c, d]]: use strided slicing x[..., 0::2, 0::2] etc. "
               "It is twice the average — the factor makes the four filters orthonormal.")
def _ll_cases():
    return [(_x(),), (_x(3, (1, 1, 2, 2)),)]  # edge: one channel, one 2×2 block


def _bands(seed):

    return tuple(wavelets.haar_dwt(_x(seed)))


@exercise("07.haar_inverse", fallback=wavelets.haar_idwt, answers=(wavelets.haar_idwt,), rtol=1e-10, atol=1e-12, what="reconstruction",
          hint="Each output pixel is ½ of a signed sum of the four bands, with the signs of its kernel entry: "
               "a = ½(LL − LH − HL + HH), b = ½(LL + LH − HL − HH), c = ½(LL − LH + HL − HH), d = ½(LL + LH + HL + HH).")
def _inverse_cases():
    return [_bands(1), tuple(wavelets.haar_dwt(_x(4, (1, 1, 2, 2))))]  # edge: one channel, 1×1 bands


@exercise("07.temporal_change", fallback=video.temporal_change, answers=(video.temporal_change,), rtol=1e-10, atol=1e-12, what="temporal change",
          hint="For each t, the mean over all pixels and channels of |V[t+1] − V[t]| (absolute, not squared): "
               "a tensor of T − 1 numbers.")
def _tc_cases():
    g = torch.Generator().manual_seed(2)
    return [(torch.rand(5, 3, 4, 6, generator=g, dtype=torch.float64),),
            (torch.rand(2, 3, 3, 5, generator=g, dtype=torch.float64),)]  # edge: two frames, odd size
