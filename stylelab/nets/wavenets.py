"""WCT²'s networks: the normalised VGG-19 up to ``relu4_1`` with Haar wavelet pooling, and its decoder.

J. Yoo, Y. Uh, S. Chun, B. Kang, J.-W. Ha, "Photorealistic Style Transfer via
Wavelet Transforms", ICCV 2019; official code clovaai/WCT2 (``model.py``:
``WaveEncoder``, ``WaveDecoder``, ``WavePool``, ``WaveUnpool``).

Every max pooling of the encoder is a Haar analysis (:mod:`stylelab.features.wavelets`):
the low band ``LL`` goes on through the network, the detail bands
``LH, HL, HH`` are kept as skips, and the decoder unpools with the transposed
filters, so nothing is lost on the way. Two unpooling options, as in the
official code:

``"sum"``  decoder feature and skips are summed by exact Haar synthesis;
``"cat5"`` the four upsampled bands and the encoder's pre-pooling activation
           are concatenated (5·C channels) — the official default.

Layer tables: :func:`stylelab.weights.layout.wave_encoder_convs` and
:func:`stylelab.weights.layout.wave_decoder_convs`. Checkpoints
``wave_{encoder,decoder}_{sum,cat5}_l4.pth`` (:mod:`stylelab.weights.checkpoints`)
store the Haar filters as parameters; :func:`load_official` checks they equal
the fixed filters and does not load them (they are not learned).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..features import wavelets as Wv
from ..device import follow
from .. import weights as W
from .encoders import caffe_conv0
from ..weights.layout import WAVE_POOLS, WAVE_RECON_BLOCKS, wave_decoder_convs, wave_encoder_convs

__all__ = ["Unpool", "WaveEncoder", "WaveDecoder", "PAD", "load_official", "synthetic_checkpoint"]

Unpool = Literal["sum", "cat5"]
#: Channels of the activation each Haar pooling decomposes.
POOL_CHANNELS: dict[str, int] = {pool: c for pool, _, c in WAVE_POOLS}
#: The convolution whose (pre-pooling) activation each pooling decomposes (``cat5`` concatenates it back).
SKIP_ORIGINAL: dict[str, str] = {pool: conv for pool, conv, _ in WAVE_POOLS}


def check_unpool(unpool: str) -> None:
    if unpool not in ("sum", "cat5"):
        raise ValueError(f"unpool must be 'sum' or 'cat5', got {unpool!r}")


def _pad_conv(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    if conv.kernel_size[0] == 1:
        return conv(x)
    return conv(F.pad(x, (1, 1, 1, 1), mode="reflect"))


class WaveEncoder(nn.Module):
    """Normalised VGG-19 up to ``relu4_1`` with Haar pooling (official ``WaveEncoder``).

    ``encode(x, skips, level)`` runs one level as the official code does and
    fills ``skips`` with ``{"conv1_2": …, "pool1": [LH, HL, HH], …}``.
    Shapes: level outputs for ``(B, 3, H, W)`` input are, for ``sum``,
    (64, H/2), (128, H/4), (256, H/8), (512, H/8); for ``cat5``
    (64, H), (128, H/2), (256, H/4), (512, H/8). ``width`` divides every
    channel count (``1``: the published network; 8: the course's stand-in).
    """

    def __init__(self, unpool: Unpool = "cat5", width: int = 1):
        super().__init__()
        check_unpool(unpool)
        self.unpool, self.width = unpool, width
        for name, o, i, k in wave_encoder_convs(width):
            self.add_module(name, nn.Conv2d(i, o, k))

    def _c(self, name, x):
        return F.relu(_pad_conv(getattr(self, name), x), inplace=True)

    def _pool(self, x, skips, pool):
        ll, lh, hl, hh = Wv.haar_dwt(x)
        skips[SKIP_ORIGINAL[pool]] = x
        skips[pool] = [lh, hl, hh]
        return ll

    def encode(self, x: torch.Tensor, skips: dict, level: int) -> torch.Tensor:
        if level not in (1, 2, 3, 4):
            raise ValueError(f"level must be 1..4, got {level}")
        if self.unpool == "sum":
            if level == 1:
                x = self._c("conv1_2", self._c("conv1_1", self.conv0(x)))
                return self._pool(x, skips, "pool1")
            if level == 2:
                return self._pool(self._c("conv2_2", self._c("conv2_1", x)), skips, "pool2")
            if level == 3:
                for n in ("conv3_1", "conv3_2", "conv3_3", "conv3_4"):
                    x = self._c(n, x)
                return self._pool(x, skips, "pool3")
            return self._c("conv4_1", x)
        if level == 1:
            return self._c("conv1_1", self.conv0(x))
        if level == 2:
            return self._c("conv2_1", self._pool(self._c("conv1_2", x), skips, "pool1"))
        if level == 3:
            return self._c("conv3_1", self._pool(self._c("conv2_2", x), skips, "pool2"))
        for n in ("conv3_2", "conv3_3", "conv3_4"):
            x = self._c(n, x)
        return self._c("conv4_1", self._pool(x, skips, "pool3"))

    def forward(self, x: torch.Tensor, skips: dict | None = None) -> torch.Tensor:
        x = follow(self, x)  # inputs follow the model (stylelab.device)
        skips = {} if skips is None else skips
        for level in (1, 2, 3, 4):
            x = self.encode(x, skips, level)
        return x


class WaveDecoder(nn.Module):
    """WCT²'s decoder from ``relu4_1`` (512 channels, H/8) back to RGB, unpooling with the skips.

    ``decode(x, skips, level)``: 4 → conv4_1, unpool3, conv3_4(_2), conv3_3,
    conv3_2; 3 → conv3_1, unpool2, conv2_2(_2); 2 → conv2_1, unpool1,
    conv1_2(_2); 1 → conv1_1 (no ReLU).

    With ``cat5`` and ``fused_unpool=True`` (default) each "unpool, then 3×3
    convolution over the 5C channels" is computed at the bands' resolution
    by :func:`stylelab.features.wavelets.unpool_conv3x3` (same result, ~2× less work);
    ``fused_unpool=False`` builds the concatenated tensor as the official code does.
    ``width`` divides every hidden channel count (must match the encoder's).
    """

    def __init__(self, unpool: Unpool = "cat5", fused_unpool: bool = True, width: int = 1):
        super().__init__()
        check_unpool(unpool)
        self.unpool, self.width = unpool, width
        self.fused_unpool = fused_unpool
        self.names = [n for n, _, _ in wave_decoder_convs(unpool, width)]
        for name, o, i in wave_decoder_convs(unpool, width):
            self.add_module(name, nn.Conv2d(i, o, 3))
        self._unpool = Wv.WaveUnpool(unpool)
        self._polyphase_cache: dict = {}

    def _c(self, name, x):
        return F.relu(_pad_conv(getattr(self, name), x), inplace=True)

    def _skips(self, skips, pool):
        if pool not in skips:
            raise ValueError(f"the decoder needs the encoder's skips for {pool}: pass the skips dict encode() filled")
        return skips[pool]

    def _up(self, x, skips, pool):
        lh, hl, hh = self._skips(skips, pool)
        return self._unpool(x, lh, hl, hh, skips.get(SKIP_ORIGINAL[pool]))

    def _polyphase(self, name: str, channels: int) -> torch.Tensor:
        """:func:`wavelets.polyphase_unpool_weight` of ``name``, cached while its weight is unchanged."""
        w = getattr(self, name).weight
        if torch.is_grad_enabled() and w.requires_grad:  # training: part of the graph, never cached
            return Wv.polyphase_unpool_weight(w, channels)
        key = (w.data_ptr(), w._version, w.device, w.dtype)
        hit = self._polyphase_cache.get(name)
        if hit is None or hit[0] != key:
            hit = self._polyphase_cache[name] = (key, Wv.polyphase_unpool_weight(w.detach(), channels))
        return hit[1]

    def _up_conv(self, x, skips, pool, name):
        """ReLU(conv ``name`` (unpool ``pool`` (x, skips)))."""
        if self.unpool == "sum" or not self.fused_unpool:
            return self._c(name, self._up(x, skips, pool))
        lh, hl, hh = self._skips(skips, pool)
        original = skips.get(SKIP_ORIGINAL[pool])
        if original is None:
            raise ValueError("WaveUnpool('cat5') needs the encoder's pre-pooling activation `original`")
        conv = getattr(self, name)
        out = Wv.unpool_conv3x3(x, lh, hl, hh, original, conv.weight, conv.bias, self._polyphase(name, x.shape[-3]))
        return F.relu(out, inplace=True)

    def decode(self, x: torch.Tensor, skips: dict, level: int) -> torch.Tensor:
        s = "_2" if self.unpool == "cat5" else ""
        if level == 4:
            x = self._up_conv(self._c("conv4_1", x), skips, "pool3", f"conv3_4{s}")
            for n in ("conv3_3", "conv3_2"):
                x = self._c(n, x)
            return x
        if level == 3:
            return self._up_conv(self._c("conv3_1", x), skips, "pool2", f"conv2_2{s}")
        if level == 2:
            return self._up_conv(self._c("conv2_1", x), skips, "pool1", f"conv1_2{s}")
        if level == 1:
            return _pad_conv(self.conv1_1, x)
        raise ValueError(f"level must be 1..4, got {level}")

    def forward(self, x: torch.Tensor, skips: dict) -> torch.Tensor:
        for level in (4, 3, 2, 1):
            x = self.decode(x, skips, level)
        return x


#: WCT²'s padding (:func:`stylelab.validate.pad_to_size` keywords): sides divisible by 8 (three
#: Haar poolings) and at least 16 (the reflection padding of the ``H/8`` features needs two pixels).
PAD = {"multiple": 8, "min_size": 16}


# ============================================================================ official checkpoints
def _haar_check(prefixes: dict[str, int]):
    def check(state_dict) -> None:
        for prefix, channels in prefixes.items():
            Wv.check_official_filters(state_dict, prefix, channels)
    return check


def load_official(module: WaveEncoder | WaveDecoder, source=None, random: bool | None = None, download: bool = True) -> bool:
    """Load ``wave_{encoder,decoder}_{unpool}_l4.pth`` into ``module`` (see :func:`stylelab.weights.load_into`
    for ``source``); the file's Haar filters must equal the fixed ones. Returns whether real weights were loaded."""
    part = "encoder" if isinstance(module, WaveEncoder) else "decoder"
    haar = POOL_CHANNELS if part == "encoder" else dict(WAVE_RECON_BLOCKS)
    return W.load_into(module, f"wct2_{part}_{module.unpool}", source, random=random, download=download,
                       check_fixed=_haar_check(haar))


def synthetic_checkpoint(name: str, seed: int = 0, std: float = 0.05) -> dict[str, torch.Tensor]:
    """A random state dict in the official layout of ``name`` *with the true Haar filters*
    (``stylelab.weights.synthetic_state_dict`` randomises every tensor, which
    :func:`load_official` rightly rejects). For tests and demos; the outputs are not WCT²'s."""
    sd = W.synthetic_state_dict(name, seed=seed, std=std)
    f = Wv.haar_filters()
    for k, v in sd.items():
        band = k.split(".")[-2] if k.count(".") == 2 else None
        if band in Wv.KERNELS and (k.startswith("pool") or k.startswith("recon_block")):
            sd[k] = f[band].expand(v.shape[0], 1, 2, 2).clone()
    if "conv0.weight" in sd:
        w, b = caffe_conv0()
        sd["conv0.weight"], sd["conv0.bias"] = w, b
    return sd
