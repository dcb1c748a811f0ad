"""WCT²: photorealistic style transfer with Haar wavelet pooling and progressive stylization.

J. Yoo, Y. Uh, S. Chun, B. Kang, J.-W. Ha, "Photorealistic Style Transfer via
Wavelet Transforms", ICCV 2019 (official code: clovaai/WCT2, MIT).

The encoder is the normalised VGG-19 up to ``relu4_1`` with every max pooling
replaced by Haar wavelet pooling (:mod:`stylelab.wavelets`): the low band
``LL`` (= 2 × average pooling) goes on through the network, the detail bands
``LH, HL, HH`` are passed to the decoder as skips, and the decoder unpools
with the transposed filters, so nothing is lost on the way. Stylization is
*progressive*: one encoder/decoder pass with WCT applied inside it (at the
encoder outputs, the skips and/or the decoder), not PhotoWCT's cascade of four
autoencoders.

Unpooling options (methods.md §8.1–8.2)
    ``"sum"``  decoder feature and skips are summed by exact Haar synthesis.
    ``"cat5"`` the four upsampled bands and the encoder's pre-pool activation
               are concatenated (5·C channels) — the official default.

Where WCT runs, ``transfer_at`` ⊆ {"encoder", "skip", "decoder"} (§8.5):
    * ``encoder``: each level's output (cat5: relu1_1..relu4_1; sum: LL1, LL2,
      LL3, relu4_1); the next level encodes the *stylised* feature;
    * ``skip``: each of LH, HL, HH of pool1..pool3 (9 WCTs; cat5's pre-pool
      skips are not stylised);
    * ``decoder``: the inputs of decoder levels 3, 2, 1 (and 4 when the
      encoder is not in ``transfer_at``) against the style's own decoder
      features at those points.

The WCT is the official variant (``stylelab.transforms.wct(..., preset="wct2")``):
``Σ + I`` on *both* sides (÷(N−1)), result clamped to the content feature's
[min, max], then ``α T + (1 − α) F_c``. Neither the +I nor the clamp is in the
paper. Differences from the reference code, all deliberate:

* images of any size: inputs are reflect-padded to a multiple of 8 and the
  output is cropped back (the reference crops to a multiple of 16);
* the symmetric eigen-solver (``eigh``) instead of a full SVD on each C×C
  covariance, and the style's colouring matrices are computed once per
  style (:meth:`WCT2.prepare_style`) and reused — for a video, across all
  frames; each WCT centres its content once and applies ``C_s W_c`` in one
  fused product;
* ``cat5``: "unpool, concatenate 5·C channels, 3×3 convolution" is computed
  at the bands' resolution (:func:`stylelab.wavelets.unpool_conv3x3`): the
  same numbers with 25·C·K instead of 45·C·K multiply-adds per pixel and no
  5·C-channel tensor.

Label maps (``content_labels``/``style_labels``, :mod:`stylelab.labels`) as the
reference (``utils/io.py``, ``utils/core.py``): the labels used are decided
once on the maps at the images' size (> 10 pixels in both, count ratio < 100);
at every transfer point both maps are resized to the feature size with PIL's
NEAREST convention and WCT runs per used region, including regions of a single
pixel (their covariance is 0, so ``Σ + I = I``: the pixel's own value is the
style mean, or the style region's mean replaces a 1-pixel content region, then
the clamp); pixels of other labels, and regions absent at that size on either
side, keep their content feature; then the α-blend. A map must have its
image's aspect (resized to it if the resolution differs). With padding, the
maps are padded like their image (reflection, exact integer copies) and the
labels used are still counted on the unpadded maps.

The result equals the reference within float32 rounding (tests compare the
whole pipeline with the reference's own layers in float64 to 1e-7).
``benchmarks/bench_wct2.py`` times both side by side: on 2 CPU cores at
512 px, 1.8× (``cat5``) and 1.4× (``sum``) faster end to end, 3.6× / 2.8×
with the style prepared. Almost all the remaining time is convolutions that
both sides must compute (BENCHMARKS.md).

Checkpoints: ``wave_{encoder,decoder}_{sum,cat5}_l4.pth`` from the
``model_checkpoints/`` folder *inside* the clovaai/WCT2 repository (there are
no release assets; the URL points at the in-repo file). Their Haar filters are
stored as parameters; the converters check they equal the fixed filters and
drop them (they are not learned).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal, Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import labels as L
from .. import transforms as T
from .. import wavelets as Wv
from .. import weights as W
from ..encoders import caffe_conv0
from ..device import follow, get_device
from . import BenchRow, Method, Runner, images_then_keywords, register

Unpool = Literal["sum", "cat5"]
COMPONENTS: tuple[str, ...] = ("encoder", "skip", "decoder")
_POOL_CHANNELS = {"pool1": 64, "pool2": 128, "pool3": 256}
_SKIP_ORIGINAL = {"pool1": "conv1_2", "pool2": "conv2_2", "pool3": "conv3_4"}

#: Encoder convolutions ``(name, out, in, kernel)`` in forward order.
ENCODER_CONVS: tuple[tuple[str, int, int, int], ...] = (
    ("conv0", 3, 3, 1), ("conv1_1", 64, 3, 3), ("conv1_2", 64, 64, 3),
    ("conv2_1", 128, 64, 3), ("conv2_2", 128, 128, 3),
    ("conv3_1", 256, 128, 3), ("conv3_2", 256, 256, 3), ("conv3_3", 256, 256, 3), ("conv3_4", 256, 256, 3),
    ("conv4_1", 512, 256, 3),
)


def decoder_convs(unpool: Unpool) -> tuple[tuple[str, int, int], ...]:
    """Decoder convolutions ``(name, out, in)`` in forward order for ``unpool`` (methods.md §8.2)."""
    k = 5 if unpool == "cat5" else 1
    sfx = "_2" if unpool == "cat5" else ""
    return (
        ("conv4_1", 256, 512), (f"conv3_4{sfx}", 256, 256 * k), ("conv3_3", 256, 256), ("conv3_2", 256, 256),
        ("conv3_1", 128, 256), (f"conv2_2{sfx}", 128, 128 * k), ("conv2_1", 64, 128),
        (f"conv1_2{sfx}", 64, 64 * k), ("conv1_1", 3, 64),
    )


def _check_unpool(unpool: str) -> None:
    if unpool not in ("sum", "cat5"):
        raise ValueError(f"unpool must be 'sum' or 'cat5', got {unpool!r}")


# ============================================================================ weights
def official_encoder_shapes() -> dict[str, tuple[int, ...]]:
    """Keys/shapes of ``wave_encoder_{sum,cat5}_l4.pth`` (32 tensors, identical for both options)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, o, i, k in ENCODER_CONVS:
        shapes[f"{name}.weight"] = (o, i, k, k)
        shapes[f"{name}.bias"] = (o,)
        if name in ("conv1_2", "conv2_2", "conv3_4"):
            pool = {"conv1_2": "pool1", "conv2_2": "pool2", "conv3_4": "pool3"}[name]
            for band in Wv.BANDS:
                shapes[f"{pool}.{band}.weight"] = (o, 1, 2, 2)
    return shapes


def official_decoder_shapes(unpool: Unpool) -> dict[str, tuple[int, ...]]:
    """Keys/shapes of ``wave_decoder_{unpool}_l4.pth`` (30 tensors, 12 of them Haar filters)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, o, i in decoder_convs(unpool):
        shapes[f"{name}.weight"] = (o, i, 3, 3)
        shapes[f"{name}.bias"] = (o,)
    for block, c in (("recon_block3", 256), ("recon_block2", 128), ("recon_block1", 64)):
        for band in Wv.BANDS:
            shapes[f"{block}.{band}.weight"] = (c, 1, 2, 2)
    return shapes


def _convert(state_dict: Mapping[str, torch.Tensor], haar: dict[str, int]) -> dict[str, torch.Tensor]:
    for prefix, channels in haar.items():
        try:
            Wv.check_official_filters(state_dict, prefix, channels)
        except ValueError as err:
            raise W.CheckpointMismatchError(str(err)) from None
    drop = tuple(f"{p}." for p in haar)
    return {k: v for k, v in state_dict.items() if not k.startswith(drop)}


def convert_official_encoder(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Official WCT² encoder → :class:`WaveEncoder` (checks and drops the fixed Haar filters)."""
    return _convert(state_dict, _POOL_CHANNELS)


def convert_official_decoder(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Official WCT² decoder → :class:`WaveDecoder` (checks and drops the fixed Haar filters)."""
    return _convert(state_dict, {"recon_block3": 256, "recon_block2": 128, "recon_block1": 64})


_URL = "https://github.com/clovaai/WCT2/raw/master/model_checkpoints/{}"
for _opt in ("sum", "cat5"):
    for _part in ("encoder", "decoder"):
        _file = f"wave_{_part}_{_opt}_l4.pth"
        W.register(W.WeightSpec(
            name=f"wct2_{_part}_{_opt}",
            filename=_file,
            url=_URL.format(_file),
            license="MIT (clovaai/WCT2)",
            source="model_checkpoints/ folder inside github.com/clovaai/WCT2 (in-repo file, no release asset)",
            shapes=official_encoder_shapes() if _part == "encoder" else official_decoder_shapes(_opt),
            converter=f"stylelab.methods.wct2:convert_official_{_part}",
            used_by="stylelab.WCT2",
            note="The Haar filters in the file are checked against the fixed filters and not loaded.",
        ))


def synthetic_checkpoint(name: str, seed: int = 0, std: float = 0.05) -> dict[str, torch.Tensor]:
    """A random state dict in the official layout of ``name`` *with the true Haar filters*
    (``stylelab.weights.synthetic_state_dict`` randomises every tensor, which the
    converter rightly rejects). For tests and demos; the outputs are not WCT²'s."""
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


# ============================================================================ modules
def _pad_conv(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    if conv.kernel_size[0] == 1:
        return conv(x)
    return conv(F.pad(x, (1, 1, 1, 1), mode="reflect"))


class WaveEncoder(nn.Module):
    """Normalised VGG-19 up to ``relu4_1`` with Haar pooling (methods.md §8.2).

    ``encode(x, skips, level)`` runs one level as the official code does and
    fills ``skips`` with ``{"conv1_2": …, "pool1": [LH, HL, HH], …}``.
    Shapes: level outputs for ``(B, 3, H, W)`` input are, for ``sum``,
    (64, H/2), (128, H/4), (256, H/8), (512, H/8); for ``cat5``
    (64, H), (128, H/2), (256, H/4), (512, H/8).
    """

    def __init__(self, unpool: Unpool = "cat5"):
        super().__init__()
        _check_unpool(unpool)
        self.unpool = unpool
        for name, o, i, k in ENCODER_CONVS:
            self.add_module(name, nn.Conv2d(i, o, k))

    def _c(self, name, x):
        return F.relu(_pad_conv(getattr(self, name), x), inplace=True)

    def _pool(self, x, skips, pool):
        ll, lh, hl, hh = Wv.haar_dwt(x)
        skips[_SKIP_ORIGINAL[pool]] = x
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
    by :func:`stylelab.wavelets.unpool_conv3x3` (same result, ~2× less work);
    ``fused_unpool=False`` builds the concatenated tensor as the official code does.
    """

    def __init__(self, unpool: Unpool = "cat5", fused_unpool: bool = True):
        super().__init__()
        _check_unpool(unpool)
        self.unpool = unpool
        self.fused_unpool = fused_unpool
        self.names = [n for n, _, _ in decoder_convs(unpool)]
        for name, o, i in decoder_convs(unpool):
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
        return self._unpool(x, lh, hl, hh, skips.get(_SKIP_ORIGINAL[pool]))

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
        original = skips.get(_SKIP_ORIGINAL[pool])
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


# ============================================================================ WCT with a cached style side
#: The official WCT² choices (float32 eigen-problems). Tests set a float64 copy for exact comparisons.
_CFG = T.WCT_PRESETS["wct2"]


@dataclass
class _StyleSide:
    """Colouring matrices ``E_s (D_s)^{1/2} E_sᵀ`` and means of one style feature (global and per label)."""

    colour: tuple[torch.Tensor, torch.Tensor] | None
    by_label: dict[int, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)


def _low_rank_power(x: torch.Tensor, eps: float, power: float, unbiased: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """``((Σ + εI)^power, μ)`` for ``x`` of shape ``(C, N)`` with ``N ≤ C``, via the ``N × N`` Gram matrix.

    ``Σ = U Λ Uᵀ`` has rank < N, so ``(Σ + εI)^p = ε^p I + U ((Λ + ε)^p − ε^p) Uᵀ``
    exactly; ``U = X_c V Λ^{-1/2} / √D`` from the eigenvectors ``V`` of
    ``X_cᵀ X_c / D``. Costs ``O(C N²)`` instead of ``O(C³)``.
    """
    mu = x.mean(-1, keepdim=True)
    xc = x - mu
    d = max(x.shape[-1] - 1, 1) if unbiased else x.shape[-1]
    lam, v = torch.linalg.eigh(xc.T @ xc / d)
    keep = lam > lam.max().clamp_min(0) * x.shape[-1] * torch.finfo(lam.dtype).eps
    lam, v = lam[keep], v[:, keep]
    u = (xc @ v) / (lam * d).sqrt()
    scale = (lam + eps) ** power - eps**power
    eye = torch.eye(x.shape[0], dtype=x.dtype, device=x.device)
    return eps**power * eye + (u * scale) @ u.T, mu


def _power(x: torch.Tensor, cfg: T.WCTConfig, side: str, centred: torch.Tensor | None = None):
    """``(matrix, mean)``: whitening (content) or colouring (style) of a ``(C, N)`` matrix.

    ``centred``: ``x − mean(x)`` if the caller already has it (saves a pass over ``x``;
    the caller has the mean then, and ``None`` is returned in its place).
    """
    eps = cfg.eps_content if side == "content" else cfg.eps_style
    thr = cfg.eig_threshold
    if x.shape[-1] <= x.shape[0] and eps > 0 and (thr == "auto" or eps >= float(thr)):
        return _low_rank_power(x, eps, -0.5 if side == "content" else 0.5, cfg.unbiased)
    if centred is None:
        fn = T.whitening_matrix if side == "content" else T.colouring_matrix
        return fn(x, cfg)
    return T.regularised_power(centred, eps, -0.5 if side == "content" else 0.5, cfg, centred=True), None


def _colouring(style_matrix: torch.Tensor, cfg: T.WCTConfig):
    """Colouring matrix and mean of a ``(C, M)`` style matrix; ``M = 1`` gives ``(√ε I, the pixel)`` (module docstring)."""
    device, dtype = T.compute_place(style_matrix, cfg.compute_dtype)
    return _power(style_matrix.to(device, dtype), cfg, "style")


def _style_side(style_feat: torch.Tensor, style_labels, cfg: T.WCTConfig) -> _StyleSide:
    """Colouring of one style feature: global, or per label id present at this feature size.

    ``style_labels``: the (padded) style map at the padded image's size, or ``None``.
    """
    if style_feat.shape[0] != 1:
        raise ValueError(f"WCT² takes one style image; got a batch of {style_feat.shape[0]}")
    sf = style_feat[0].flatten(1)
    if style_labels is None:
        return _StyleSide(_colouring(sf, cfg))
    ids = torch.unique(style_labels).tolist()
    regions = L.label_indices(style_labels, style_feat.shape[-2:], ids)
    return _StyleSide(None, {lab: _colouring(sf[:, idx.to(sf.device)], cfg) for lab, idx in regions.items()})


def _apply_matrix(c: torch.Tensor, col, cfg: T.WCTConfig) -> torch.Tensor:
    """``C_s W_c (F_c − μ_c) + μ_s`` clamped to [min F_c, max F_c]; ``c`` is ``(C, N)``.

    One pass centres ``F_c``; the covariance and the transform both reuse it
    (``addmm`` adds ``μ_s``), and the clamp is in place.
    """
    if col is None or c.shape[-1] == 0:
        return c
    device, dtype = T.compute_place(c, cfg.compute_dtype)
    x = c.to(device, dtype)
    xc = x - x.mean(-1, keepdim=True)
    w, _ = _power(x, cfg, "content", centred=xc)
    cs, mu_s = col
    out = torch.addmm(mu_s, cs @ w, xc)
    if cfg.clamp:
        lo, hi = torch.aminmax(x)
        out.clamp_(lo, hi)
    return out.to(c.device, c.dtype)


def _wct_cached(content_feat, side: _StyleSide, alpha: float, content_labels=None, used=(), cfg=None) -> torch.Tensor:
    """``transforms.wct(content, style, alpha, preset="wct2", labels…)`` with the style side precomputed.

    With labels: ``content_labels`` is the (padded) content map (batch 1 or B) and ``used`` the ids
    to transfer (decided once, at full resolution); each used region present at this feature size
    on both sides gets WCT with its style region (official ``wct_core_segment``), the rest keeps
    the content feature.
    """
    cfg = cfg or _CFG
    if content_labels is None:
        outs = [_apply_matrix(f.flatten(1), side.colour, cfg) for f in content_feat]
        out = torch.stack(outs).view_as(content_feat) if len(outs) > 1 else outs[0].view_as(content_feat)
    else:
        out = content_feat.clone()
        for b in range(content_feat.shape[0]):
            cf = content_feat[b].flatten(1)
            ob = out[b].view(cf.shape)
            clb = content_labels[b if content_labels.shape[0] > 1 else 0]
            for lab, ci in L.label_indices(clb, content_feat.shape[-2:], used).items():
                if lab in side.by_label:
                    ci = ci.to(cf.device)
                    ob[:, ci] = _apply_matrix(cf[:, ci], side.by_label[lab], cfg)
    if alpha == 1:
        return out
    return torch.lerp(content_feat, out, alpha)


@dataclass
class PreparedStyle:
    """Everything the content pass needs from one style image (see :meth:`WCT2.prepare_style`)."""

    transfer_at: frozenset
    sides: dict  # key → _StyleSide; keys ("encoder", level), ("skip", pool, k), ("decoder", level)
    labels: torch.Tensor | None = None  # the style map at the style image's size (unpadded), or None

    @property
    def has_labels(self) -> bool:
        return self.labels is not None


# ============================================================================ the method
def _check_transfer_at(transfer_at) -> frozenset:
    if isinstance(transfer_at, str):
        transfer_at = [transfer_at]
    ta = frozenset(transfer_at)
    bad = ta - set(COMPONENTS)
    if bad:
        raise ValueError(f"transfer_at may hold only {COMPONENTS}; got unknown {sorted(bad)}")
    return ta


def pad_to_multiple(x: torch.Tensor, multiple: int = 8, mode: str = "reflect", min_size: int = 16) -> torch.Tensor:
    """Pad the bottom/right of ``(B, C, H, W)`` so both sides are multiples of ``multiple`` and ≥ ``min_size``.

    Reflection where the side allows it, else replication (tiny images). WCT²
    needs sides divisible by 8 (three Haar poolings) and at least 16 (the
    reflection padding of the ``H/8`` features needs two pixels).
    """
    h, w = x.shape[-2:]
    ph, pw = max((-h) % multiple, min_size - h), max((-w) % multiple, min_size - w)
    if not (ph or pw):
        return x
    if mode == "reflect" and (ph >= h or pw >= w):
        mode = "replicate"
    if not x.is_floating_point():  # label maps: the same padding as their image, by exact integer gathering
        h_idx = _pad_index(h, ph, mode, x.device)
        w_idx = _pad_index(w, pw, mode, x.device)
        return x[..., h_idx[:, None], w_idx[None, :]]
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def _pad_index(n: int, pad: int, mode: str, device) -> torch.Tensor:
    """Source index of each of ``n + pad`` positions when padding the end of a length-``n`` axis."""
    i = torch.arange(n + pad, device=device)
    if mode == "reflect":
        return torch.where(i < n, i, 2 * (n - 1) - i)
    return i.clamp_max(n - 1)


class WCT2(nn.Module):
    """The WCT² model: a Haar-pooling encoder, its decoder and progressive WCT.

    Build with :meth:`from_official`. ``pretrained`` says whether real weights
    were loaded (both parts).
    """

    def __init__(self, unpool: Unpool = "cat5"):
        super().__init__()
        _check_unpool(unpool)
        self.unpool = unpool
        self.encoder = WaveEncoder(unpool)
        self.decoder = WaveDecoder(unpool)
        self.pretrained = False

    @classmethod
    def from_official(
        cls,
        encoder: str | Mapping | None = None,
        decoder: str | Mapping | None = None,
        unpool: Unpool = "cat5",
        device: torch.device | str | None = None,
        random: bool | None = None,
        download: bool = True,
    ) -> "WCT2":
        """Load the official checkpoints (``wave_{encoder,decoder}_{unpool}_l4.pth``).

        Args:
            encoder, decoder: ``None`` (registry resolution: explicit path →
                ``$STYLELAB_WEIGHTS_DIR`` → hub cache → download), a path, an
                official-layout state dict, or ``"random"``.
            unpool: ``"cat5"`` (official default) or ``"sum"``.
            random: allow random weights when files are missing (or
                ``$STYLELAB_RANDOM_WEIGHTS=1``); a warning is printed.
        """
        _check_unpool(unpool)
        model = cls(unpool)
        e = W.load_into(model.encoder, f"wct2_encoder_{unpool}", encoder, random=random, download=download)
        d = W.load_into(model.decoder, f"wct2_decoder_{unpool}", decoder, random=random, download=download)
        if not e:
            w, b = caffe_conv0()
            with torch.no_grad():
                model.encoder.conv0.weight.copy_(w)
                model.encoder.conv0.bias.copy_(b)
        model.pretrained = bool(e and d)
        model.encoder_pretrained, model.decoder_pretrained = bool(e), bool(d)
        return model.eval().requires_grad_(False).to(get_device(device))

    @property
    def device(self) -> torch.device:
        return self.encoder.conv0.weight.device

    def _check_image(self, x, name) -> torch.Tensor:
        """``x`` checked as a ``(B, 3, H, W)`` image and moved to the model's device and dtype (inputs follow the model)."""
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"{name} must be a (B, 3, H, W) image tensor, got {getattr(x, 'shape', type(x))}")
        return follow(self, x)

    # ---------------------------------------------------------------- reconstruction
    def reconstruct(self, image: torch.Tensor) -> torch.Tensor:
        """Encode and decode without stylization (``(B, 3, H, W)`` → same size)."""
        image = self._check_image(image, "image")
        h, w = image.shape[-2:]
        skips: dict = {}
        x = self.encoder(pad_to_multiple(image), skips)
        return self.decoder(x, skips)[..., :h, :w]

    # ---------------------------------------------------------------- style side
    @torch.no_grad()
    def prepare_style(self, style: torch.Tensor, transfer_at=COMPONENTS, style_labels=None) -> PreparedStyle:
        """Run the style pass once (official ``get_all_feature``) and precompute its colouring matrices.

        The result can be passed as ``style`` to :meth:`stylize` any number of
        times (e.g. for every frame of a video).
        """
        style = self._check_image(style, "style")
        ta = _check_transfer_at(transfer_at)
        x = pad_to_multiple(style)
        full = None if style_labels is None else L.fit_labels(follow(self, style_labels), style.shape[-2:], "style_labels")[:1]
        labels = None if full is None else pad_to_multiple(full)
        skips: dict = {}
        sides: dict = {}
        for level in (1, 2, 3, 4):
            x = self.encoder.encode(x, skips, level)
            if "encoder" in ta:
                sides[("encoder", level)] = _style_side(x, labels, _CFG)
        if "skip" in ta:
            for pool in ("pool1", "pool2", "pool3"):
                for k in range(3):
                    sides[("skip", pool, k)] = _style_side(skips[pool][k], labels, _CFG)
        if "decoder" in ta:
            if "encoder" not in ta:
                sides[("decoder", 4)] = _style_side(x, labels, _CFG)
            for level in (4, 3, 2):
                x = self.decoder.decode(x, skips, level)
                sides[("decoder", level - 1)] = _style_side(x, labels, _CFG)
        return PreparedStyle(ta, sides, full)

    # ---------------------------------------------------------------- stylize
    @torch.no_grad()
    @images_then_keywords
    def stylize(
        self,
        content: torch.Tensor,
        style: torch.Tensor | PreparedStyle,
        *,
        transfer_at: Iterable[str] | str = COMPONENTS,
        alpha: float = 1.0,
        content_labels=None,
        style_labels=None,
        clamp: bool = True,
    ) -> torch.Tensor:
        """Progressive WCT² stylization of ``content`` (``(B, 3, H, W)``, RGB in [0, 1]).

        Inputs follow the model (images and labels are moved to its device,
        images to its dtype); the result is on the model's device.

        Args:
            style: ``(1, 3, H', W')`` image, or a :class:`PreparedStyle` from
                :meth:`prepare_style` (then ``transfer_at``/``style_labels``
                come from it).
            transfer_at: any subset of ``{"encoder", "skip", "decoder"}``
                (official semantics, module docstring); empty = reconstruction.
            alpha: ``α`` of every WCT: ``α T + (1 − α) F_c``.
            content_labels, style_labels: label maps (``(H, W)`` or
                ``(B, 1, H, W)``) at the images' resolution; WCT runs per
                usable label (>10 px in both, ratio < 100), other pixels keep
                their content feature.
            clamp: clamp the output to [0, 1] (the reference does before saving).

        Returns:
            ``(B, 3, H, W)``: the input size is kept (padding, not cropping).
        """
        content = self._check_image(content, "content")
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        if isinstance(style, PreparedStyle):
            prep = style
        else:
            prep = self.prepare_style(style, transfer_at, style_labels)
        if (content_labels is None) != (not prep.has_labels):
            raise ValueError("pass both content_labels and style_labels, or neither")
        ta = prep.transfer_at
        h, w = content.shape[-2:]
        x = pad_to_multiple(content)
        cl, used = None, ()
        if content_labels is not None:
            full = L.fit_labels(follow(self, content_labels), (h, w), "content_labels")
            if full.shape[0] not in (1, content.shape[0]):
                raise ValueError(f"content_labels is a batch of {full.shape[0]} maps for {content.shape[0]} images")
            # which labels: decided once on the maps at the images' size (official utils/io.py)
            used = L.label_report(full, prep.labels, warn=True).used
            cl = pad_to_multiple(full)
        skips: dict = {}
        for level in (1, 2, 3, 4):
            x = self.encoder.encode(x, skips, level)
            if "encoder" in ta:
                x = _wct_cached(x, prep.sides[("encoder", level)], alpha, cl, used)
        if "skip" in ta:
            for pool in ("pool1", "pool2", "pool3"):
                skips[pool] = [_wct_cached(skips[pool][k], prep.sides[("skip", pool, k)], alpha, cl, used)
                               for k in range(3)]
        for level in (4, 3, 2, 1):
            if "decoder" in ta and ("decoder", level) in prep.sides:
                x = _wct_cached(x, prep.sides[("decoder", level)], alpha, cl, used)
            x = self.decoder.decode(x, skips, level)
        out = x[..., :h, :w]
        return out.clamp(0, 1) if clamp else out

    def forward(self, content, style, **kwargs):
        return self.stylize(content, style, **kwargs)


# ============================================================================ pixel space
def wavelet_transfer(
    content: torch.Tensor,
    style: torch.Tensor,
    levels: int = 3,
    bands: Literal["LL", "all"] = "LL",
    alpha: float = 1.0,
    content_labels=None,
    style_labels=None,
    eps: float = 1e-5,
    clamp: bool = True,
) -> torch.Tensor:
    """Training-free wavelet style transfer in pixel space (no network, no weights).

    Both images are decomposed into a ``levels``-level Haar pyramid
    (:func:`stylelab.wavelets.haar_wavedec`). WCT (3×3 colour covariance,
    ``Σ + eps·I``, no clamp) then matches the content's coarsest ``LL`` band to
    the style's; with ``bands="all"`` every detail band ``LH, HL, HH`` of every
    level is matched to the style's too. Synthesis gives the result.

    This is the pixel-space version of WCT²'s "LL only" observation: changing
    only the low band moves colours and tones while the content's edges (its
    detail bands) are kept exactly; also transforming the detail bands imports
    the style's texture statistics and softens/alters structure.

    Args:
        content: ``(B, 3, H, W)`` in [0, 1] (any size; odd sides are padded).
        style: ``(1, 3, H', W')``.
        levels: pyramid depth (≥ 1).
        bands: ``"LL"`` or ``"all"``.
        alpha: blend ``α T + (1 − α) band_c`` per transformed band.
        content_labels, style_labels: optional label maps at image resolution.
        clamp: clamp the result to [0, 1].

    Returns:
        ``(B, 3, H, W)``.
    """
    if bands not in ("LL", "all"):
        raise ValueError(f"bands must be 'LL' or 'all', got {bands!r}")
    for name, x in (("content", content), ("style", style)):
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            raise ValueError(f"{name} must be a (B, C, H, W) tensor")
    cll, cdet, sizes = Wv.haar_wavedec(content, levels)
    sll, sdet, _ = Wv.haar_wavedec(style, levels)
    kw = dict(preset="exact", eps_content=eps, eps_style=eps, content_labels=content_labels,
              style_labels=style_labels, compute_dtype=torch.float64 if content.device.type != "mps" else torch.float32)
    ll = T.wct(cll, sll, alpha, **kw)
    if bands == "all":
        cdet = [tuple(T.wct(c, s, alpha, **kw) for c, s in zip(cd, sd)) for cd, sd in zip(cdet, sdet)]
    out = Wv.haar_waverec(ll, cdet, sizes)
    return out.clamp(0, 1) if clamp else out


# ============================================================================ training
def train_decoder(
    model: WCT2,
    images,
    *,
    steps: int = 1000,
    batch_size: int = 8,
    lr: float = 1e-4,
    feature_weight: float = 1.0,
    device=None,
    checkpoint=None,
    resume: bool = True,
    progress: bool = True,
    **fit_kwargs,
) -> dict[str, list[float]]:
    """Train WCT²'s decoder to invert its frozen Haar-pooling encoder.

    Loss (paper §3.3 / official issue #26: L2 reconstruction plus a feature loss)::

        total = ‖D(E(x)) − x‖² + feature_weight · ‖E(D(E(x))) − E(x)‖²

    (means over elements; ``E`` is the encoder up to ``relu4_1``, ``D`` the
    decoder with the encoder's skips). The official authors trained on MS-COCO
    and only the decoder: the encoder keeps the normalised-VGG weights. Uses the
    shared trainer :func:`stylelab.train.fit` (same arguments as the other
    decoders; ``fit_kwargs`` go to it). Returns its history
    (``total``, ``reconstruction``, ``feature``).
    """
    from .. import train

    enc = model.encoder.requires_grad_(False)
    dec = model.decoder.requires_grad_(True)

    def loss_fn(batch):
        x = pad_to_multiple(batch)
        skips: dict = {}
        f = enc(x, skips)
        out = dec(f, skips)
        rec = F.mse_loss(out, x)
        feat = F.mse_loss(enc(out, {}), f)
        return {"total": rec + feature_weight * feat, "reconstruction": rec, "feature": feat}

    history = train.fit(loss_fn, {"encoder": enc, "decoder": dec}, images, steps=steps, batch_size=batch_size,
                        lr=lr, device=device, checkpoint=checkpoint, resume=resume, progress=progress, **fit_kwargs)
    model.decoder.requires_grad_(False)
    model.decoder_pretrained = True
    model.pretrained = bool(getattr(model, "encoder_pretrained", False))
    return history


# ============================================================================ CLI
def add_cli_arguments(parser) -> None:
    """Options of ``stylelab transfer --method wct2``."""
    parser.add_argument("--unpool", choices=["cat5", "sum"], default="cat5", help="unpooling option (default cat5)")
    parser.add_argument("--transfer-at", nargs="+", choices=list(COMPONENTS), default=list(COMPONENTS),
                        help="where WCT runs (default: encoder skip decoder)")
    parser.add_argument("--alpha", type=float, default=1.0, help="style strength in [0, 1]")
    parser.add_argument("--encoder-weights", default=None, help="path of wave_encoder_*_l4.pth")
    parser.add_argument("--decoder-weights", default=None, help="path of wave_decoder_*_l4.pth")
    parser.add_argument("--video", action="store_true",
                        help="CONTENT is a folder of frames and -o a folder; also prints temporal consistency")


def _model_from_args(args, device) -> WCT2:
    model = WCT2.from_official(args.encoder_weights, args.decoder_weights, unpool=args.unpool, device=device,
                               random=True if getattr(args, "random_weights", False) else None)
    if not model.pretrained:
        print("warning: WCT2 runs with RANDOM weights: the output is not a stylization.")
    return model


def run_cli(args, content, style, device):
    """``stylelab transfer --method wct2 CONTENT STYLE -o OUT``."""
    cl, sl = getattr(args, "labels", None) or (None, None)
    model = _model_from_args(args, device)
    return model.stylize(content, style, transfer_at=args.transfer_at, alpha=args.alpha, content_labels=cl, style_labels=sl)


def run_cli_video(args, device) -> int:
    """``stylelab transfer --method wct2 --video FRAMES_DIR STYLE -o OUT_DIR``: stylize every frame."""
    from .. import video
    from ..io import load_image

    frames = video.load_frames(args.content, size=args.size, device=device)
    style = load_image(args.style, size=args.style_size or args.size, device=device)
    model = _model_from_args(args, device)
    prep = model.prepare_style(style, args.transfer_at)
    out = video.stylize_frames(lambda f: model.stylize(f, prep, alpha=args.alpha), frames)
    paths = video.save_frames(out, args.output, overwrite=args.overwrite)
    tc = video.temporal_consistency(frames, out)
    print(f"wrote {len(paths)} frames to {args.output}; temporal change output/input = {tc['ratio']:.3f}")
    return 0


# ============================================================================ registry
def _bench(cfg, device) -> Runner:
    model = WCT2.from_official(unpool="cat5", device=device, random=True if cfg.random_weights else None)
    return Runner(lambda c, s: model.stylize(c, s), model.pretrained)


def _bench_wavelet(bands: str):
    def build(cfg, device) -> Runner:
        return Runner(lambda c, s: wavelet_transfer(c, s, levels=3, bands=bands), None)

    return build


register(Method(
    name="wct2", order=60, summary="WCT², Yoo et al., ICCV 2019: Haar wavelet pooling and progressive WCT",
    export="WCT2", add_cli_arguments=add_cli_arguments, run_cli=run_cli, labels=True, run_cli_video=run_cli_video,
    bench=(BenchRow("wct2", "WCT² (cat5, no post-processing)", "feed-forward", _bench,
                    "WCT2.from_official(unpool='cat5').stylize, WCT at encoder, skips and decoder"),
           BenchRow("wavelet-ll", "wavelet WCT, LL band (pixels)", "pixel", _bench_wavelet("LL"),
                    "methods.wct2.wavelet_transfer(bands='LL'), 3 levels"),
           BenchRow("wavelet-all", "wavelet WCT, all bands (pixels)", "pixel", _bench_wavelet("all"),
                    "methods.wct2.wavelet_transfer(bands='all'), 3 levels")),
    checkpoints=tuple(f"wct2_{part}_{opt}" for opt in ("cat5", "sum") for part in ("encoder", "decoder")),
))
