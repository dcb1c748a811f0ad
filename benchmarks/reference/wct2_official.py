"""WCT² as the official code computes it (clovaai/WCT2, MIT), rebuilt as an independent oracle.

J. Yoo et al., "Photorealistic Style Transfer via Wavelet Transforms", ICCV 2019.
Used by ``tests/test_wct2.py`` (``WCT2.stylize`` must equal this loop) and by
``benchmarks/bench_wct2.py`` (which times both side by side). Nothing here is
part of the installed package.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn as nn

from stylelab.features import wavelets as Wv
from stylelab.methods.wct2 import COMPONENTS
from stylelab.nets.wavenets import POOL_CHANNELS, SKIP_ORIGINAL, WaveDecoder, WaveEncoder

__all__ = ["official_transfer", "ReferenceEncoder", "ReferenceDecoder", "ReferenceLayers", "reference_feature_wct"]


# ---------------------------------------------------------------------------- the official loop
@torch.no_grad()
def official_transfer(model, content, style, transfer_at=COMPONENTS, alpha=1.0, feature_wct=None, clamp=True):
    """``WCT2.transfer`` of the official code (clovaai/WCT2 ``transfer.py``) with this model's layers.

    ``model`` is anything with ``encoder.encode`` and ``decoder.decode`` (:class:`ReferenceLayers`
    for the official code). ``feature_wct(content_feat, style_feat, alpha)`` is the WCT step;
    by default the reference's (:func:`reference_feature_wct`). tests/test_wct2.py passes an SVD
    float64 one to check ``WCT2.stylize`` against this very loop (and a per-label one; ``clamp=False``
    skips the final clamp to [0, 1] so that random weights' saturated outputs still compare values).
    """
    feature_wct = feature_wct or reference_feature_wct
    enc, dec = model.encoder, model.decoder
    skips, feats = {}, {"encoder": {}, "decoder": {}}
    x = style
    for level in (1, 2, 3, 4):
        x = enc.encode(x, skips, level)
        if "encoder" in transfer_at:
            feats["encoder"][level] = x
    if "encoder" not in transfer_at:
        feats["decoder"][4] = x
    for level in (4, 3, 2):
        x = dec.decode(x, skips, level)
        if "decoder" in transfer_at:
            feats["decoder"][level - 1] = x
    cs, x = {}, content
    for level in (1, 2, 3, 4):
        x = enc.encode(x, cs, level)
        if "encoder" in transfer_at:
            x = feature_wct(x, feats["encoder"][level], alpha)
    if "skip" in transfer_at:
        for p in ("pool1", "pool2", "pool3"):
            cs[p] = [feature_wct(cs[p][k], skips[p][k], alpha) for k in range(3)]
    for level in (4, 3, 2, 1):
        if "decoder" in transfer_at and level in feats["decoder"]:
            x = feature_wct(x, feats["decoder"][level], alpha)
        x = dec.decode(x, cs, level)
    return x.clamp(0, 1) if clamp else x


# ---------------------------------------------------------------------------- the reference's own layers
# ``official_transfer`` above runs on whatever encoder/decoder it is given. To time "the official code"
# rather than "the official WCT on stylelab's layers", these classes rebuild the reference modules'
# *operations* from clovaai/WCT2 ``model.py`` (``WavePool``, ``WaveUnpool``, ``WaveEncoder``, ``WaveDecoder``; same weights): Haar pooling as four depthwise stride-2 2×2
# convolutions whose weights are expanded views of one kernel, unpooling as four depthwise transposed
# convolutions (summed, or concatenated with the pre-pool activation), ReflectionPad2d + conv + in-place
# ReLU; and the WCT step of ``utils/core.py`` (``feature_wct``) op for op (clone, centre twice, Σ + I, ``torch.svd(some=False)``,
# diagonal-matrix products, whitening and colouring as two products, clamp, α-blend always computed).
class _ReferenceHaar(nn.Module):
    def __init__(self, channels: int, transpose: bool):
        super().__init__()
        layer = nn.ConvTranspose2d if transpose else nn.Conv2d
        kernels = Wv.haar_filters()
        self.bands = nn.ModuleList()
        for band in Wv.BANDS:
            m = layer(channels, channels, 2, stride=2, groups=channels, bias=False).requires_grad_(False)
            m.weight.data = kernels[band][None, None].expand(channels, 1, 2, 2)
            self.bands.append(m)


class ReferenceEncoder(WaveEncoder):
    """:class:`stylelab.nets.wavenets.WaveEncoder`'s levels with the reference implementation's layers."""

    def __init__(self, unpool):
        super().__init__(unpool)
        self.pad = nn.ReflectionPad2d(1)
        self.pools = nn.ModuleDict({p: _ReferenceHaar(c, False) for p, c in POOL_CHANNELS.items()})

    def _c(self, name, x):
        return torch.relu_(getattr(self, name)(self.pad(x)))

    def _pool(self, x, skips, pool):
        ll, lh, hl, hh = (m(x) for m in self.pools[pool].bands)
        skips[SKIP_ORIGINAL[pool]] = x
        skips[pool] = [lh, hl, hh]
        return ll


class ReferenceDecoder(WaveDecoder):
    """:class:`stylelab.nets.wavenets.WaveDecoder`'s levels with the reference implementation's layers."""

    def __init__(self, unpool):
        super().__init__(unpool, fused_unpool=False)
        self.pad = nn.ReflectionPad2d(1)
        self.unpools = nn.ModuleDict({p: _ReferenceHaar(c, True) for p, c in POOL_CHANNELS.items()})

    def _c(self, name, x):
        return torch.relu_(getattr(self, name)(self.pad(x)))

    def _up(self, x, skips, pool):
        ups = [m(b) for m, b in zip(self.unpools[pool].bands, [x, *skips[pool]])]
        if self.unpool == "sum":
            return ups[0] + ups[1] + ups[2] + ups[3]
        return torch.cat([*ups, skips[SKIP_ORIGINAL[pool]]], dim=1)


class ReferenceLayers(nn.Module):
    """The reference implementation's encoder and decoder carrying ``model``'s weights."""

    def __init__(self, model: M.WCT2):
        super().__init__()
        self.encoder = ReferenceEncoder(model.unpool)
        self.decoder = ReferenceDecoder(model.unpool)
        self.encoder.load_state_dict(model.encoder.state_dict(), strict=False)
        self.decoder.load_state_dict(model.decoder.state_dict(), strict=False)
        self.to(model.device, model.encoder.conv1_1.weight.dtype).eval().requires_grad_(False)


def _reference_svd(feat, iden=True):
    mean = feat.mean(1).unsqueeze(1).expand_as(feat)
    f = feat.clone()
    f -= mean
    n = feat.shape[1]
    cov = torch.mm(f, f.t()).div(n - 1) if n > 1 else torch.mm(f, f.t())
    if iden:
        cov += torch.eye(feat.shape[0], device=feat.device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.svd is deprecated; the reference calls it
        return torch.svd(cov, some=False)


def _reference_rank(values, eps=1e-5):
    for i in range(values.shape[0] - 1, -1, -1):
        if values[i] >= eps:
            return i + 1
    return values.shape[0]


def reference_feature_wct(content_feat, style_feat, alpha=1.0):
    """The WCT step of the reference (clovaai/WCT2 ``utils/core.py``, ``wct_core``), operation for operation."""
    cont = content_feat.squeeze(0).reshape(content_feat.shape[1], -1).clone()
    cmin, cmax = cont.min(), cont.max()
    cont -= cont.mean(1).unsqueeze(1).expand_as(cont)
    _, c_e, c_v = _reference_svd(cont)
    styl = style_feat.squeeze(0).reshape(style_feat.shape[1], -1).clone()
    s_mean = styl.mean(1)
    _, s_e, s_v = _reference_svd(styl)
    k_s = _reference_rank(s_e)
    ede = torch.mm(torch.mm(s_v[:, :k_s], torch.diag(s_e[:k_s].pow(0.5))), s_v[:, :k_s].t())
    k_c = _reference_rank(c_e)
    step2 = torch.mm(torch.mm(c_v[:, :k_c], torch.diag(c_e[:k_c].pow(-0.5))), c_v[:, :k_c].t())
    target = torch.mm(ede, torch.mm(step2, cont))
    target = target + s_mean.unsqueeze(1).expand_as(target)
    target.clamp_(cmin, cmax)
    target = target.view_as(content_feat)
    return alpha * target + (1 - alpha) * content_feat
