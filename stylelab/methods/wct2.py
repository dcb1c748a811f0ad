"""WCT²: photorealistic style transfer with Haar wavelet pooling and progressive stylization.

J. Yoo, Y. Uh, S. Chun, B. Kang, J.-W. Ha, "Photorealistic Style Transfer via
Wavelet Transforms", ICCV 2019 (official code: clovaai/WCT2, MIT).

The encoder is the normalised VGG-19 up to ``relu4_1`` with every max pooling
replaced by Haar wavelet pooling (:mod:`stylelab.features.wavelets`): the low band
``LL`` (= 2 × average pooling) goes on through the network, the detail bands
``LH, HL, HH`` are passed to the decoder as skips, and the decoder unpools
with the transposed filters, so nothing is lost on the way. Stylization is
*progressive*: one encoder/decoder pass with WCT applied inside it (at the
encoder outputs, the skips and/or the decoder), not PhotoWCT's cascade of four
autoencoders.

Unpooling options (:mod:`stylelab.nets.wavenets`; official ``model.py``)
    ``"sum"``  decoder feature and skips are summed by exact Haar synthesis.
    ``"cat5"`` the four upsampled bands and the encoder's pre-pool activation
               are concatenated (5·C channels) — the official default.

Where WCT runs, ``transfer_at`` ⊆ {"encoder", "skip", "decoder"} (official ``transfer.py``):
    * ``encoder``: each level's output (cat5: relu1_1..relu4_1; sum: LL1, LL2,
      LL3, relu4_1); the next level encodes the *stylised* feature;
    * ``skip``: each of LH, HL, HH of pool1..pool3 (9 WCTs; cat5's pre-pool
      skips are not stylised);
    * ``decoder``: the inputs of decoder levels 3, 2, 1 (and 4 when the
      encoder is not in ``transfer_at``) against the style's own decoder
      features at those points.

The WCT is the official variant (``stylelab.features.transforms.wct(..., preset="wct2")``):
``Σ + I`` on *both* sides (÷(N−1)), result clamped to the content feature's
[min, max], then ``α T + (1 − α) F_c``. Neither the +I nor the clamp is in the
paper. Differences from the reference code, all deliberate:

* images of any size: inputs are reflect-padded to a multiple of 8 and the
  output is cropped back (the reference crops to a multiple of 16);
* the symmetric eigen-solver (``eigh``) instead of a full SVD on each C×C
  covariance, and the style's colouring matrices are computed once per
  style (:meth:`WCT2.prepare_style`, :func:`stylelab.features.transforms.prepare_wct_style`)
  and reused — for a video, across all frames; each WCT centres its content
  once and applies ``C_s W_c`` in one fused product;
* ``cat5``: "unpool, concatenate 5·C channels, 3×3 convolution" is computed
  at the bands' resolution (:func:`stylelab.features.wavelets.unpool_conv3x3`): the
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

The networks live in :mod:`stylelab.nets.wavenets`. Checkpoints:
``wave_{encoder,decoder}_{sum,cat5}_l4.pth`` from the ``model_checkpoints/``
folder *inside* the clovaai/WCT2 repository (there are no release assets; the
URL points at the in-repo file; see :mod:`stylelab.weights.checkpoints`). Their Haar
filters are stored as parameters; loading checks they equal the fixed filters
and drops them (they are not learned).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import torch
import torch.nn as nn

from ..nets import course_pair
from .. import labels as L
from ..labels import maps as label_maps
from ..media import video
from ..features import transforms as T
from ..features import whitening
from .. import validate as V
from .. import weights as W
from ..device import follow, get_device
from ..nets.encoders import caffe_conv0
from ..memory import MemoryModel
from ..tiling import from_cli
from ..features.wavelet_transfer import wavelet_transfer
from ..nets.wavenets import PAD, Unpool, WaveDecoder, WaveEncoder, check_unpool, load_official
from . import BenchRow, Method, Runner, TransferRun, images_then_keywords, register
from ._wct2_training import train_decoder

__all__ = [
    "WCT2", "WCT2PreparedStyle", "COMPONENTS", "train_decoder", "add_cli_arguments", "run_cli", "run_cli_video",
]

COMPONENTS: tuple[str, ...] = ("encoder", "skip", "decoder")
#: The official WCT choices (float32 eigen-problems). Tests set a float64 copy for exact comparisons.
_CFG = whitening.WCT_PRESETS["wct2"]


@dataclass
class WCT2PreparedStyle:
    """Everything the content pass needs from one style image (see :meth:`WCT2.prepare_style`)."""

    transfer_at: frozenset
    sides: dict  # key → transforms.PreparedStyle; keys ("encoder", level), ("skip", pool, k), ("decoder", level)
    labels: torch.Tensor | None = None  # the style map at the style image's size (unpadded), or None

    @property
    def has_labels(self) -> bool:
        return self.labels is not None


# ============================================================================ the method
def _check_transfer_at(transfer_at) -> frozenset:
    if isinstance(transfer_at, str):
        transfer_at = [transfer_at]
    if transfer_at is None or not isinstance(transfer_at, Iterable):
        raise ValueError(f"transfer_at must be a subset of {COMPONENTS} (a list, or one name), got {transfer_at!r}; "
                         "pass () for a plain reconstruction")
    ta = frozenset(transfer_at)
    bad = ta - set(COMPONENTS)
    if bad:
        raise ValueError(f"transfer_at may hold only {COMPONENTS}; got unknown {sorted(bad)}")
    return ta


class WCT2(nn.Module):
    """The WCT² model: a Haar-pooling encoder, its decoder and progressive WCT.

    Build with :meth:`from_official`. ``pretrained`` says whether real weights
    were loaded (both parts). ``width`` divides every hidden channel count
    (``1``: the published networks; the course's stand-in,
    ``stylelab.course.standin.model("wct2")``, is narrower).
    """

    def __init__(self, unpool: Unpool = "cat5", width: int = 1):
        super().__init__()
        check_unpool(unpool)
        self.unpool = unpool
        self.encoder = WaveEncoder(unpool, width=width)
        self.decoder = WaveDecoder(unpool, width=width)
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
        weights: str | None = None,
    ) -> "WCT2":
        """Load the official checkpoints (``wave_{encoder,decoder}_{unpool}_l4.pth``).

        Args:
            encoder, decoder: ``None`` (registry resolution: explicit path →
                ``$STYLELAB_WEIGHTS_DIR`` → hub cache → download), a path, an
                official-layout state dict, or ``"random"``.
            unpool: ``"cat5"`` (official default) or ``"sum"``.
            random: allow random weights when files are missing (or
                ``$STYLELAB_RANDOM_WEIGHTS=1``); a warning is printed.
            weights: ``"vgg16-course"``: the VGG-16 convolutions with Haar pooling (frozen, not
                retrained) and the ``"sum"`` decoder trained on them here (whatever ``unpool`` says).
                Without it, :func:`stylelab.nets.course_pair.use_pair`'s rule (official files when installed,
                else that pair, else the registry's resolution).
        """
        check_unpool(unpool)
        if course_pair.use_pair("wct2", weights, explicit=encoder is not None or decoder is not None, random=random,
                                unpool=unpool):
            device = get_device(device)
            model = cls(course_pair.WCT2_UNPOOL)
            model.encoder = course_pair.wct2_encoder(device)
            model.decoder = course_pair.decoder(f"wct2_{course_pair.WCT2_UNPOOL}", device)
            model.pretrained = model.encoder_pretrained = model.decoder_pretrained = False
            return course_pair.mark(model.to(device), "wct2", unpool)
        model = cls(unpool)
        e = load_official(model.encoder, encoder, random=random, download=download)
        d = load_official(model.decoder, decoder, random=random, download=download)
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
        """``x`` checked (:func:`stylelab.validate.check_image`), then moved to the model's device and dtype
        (inputs follow the model)."""
        return follow(self, V.check_image(x, name))

    # ---------------------------------------------------------------- reconstruction
    def reconstruct(self, image: torch.Tensor) -> torch.Tensor:
        """Encode and decode without stylization (``(B, 3, H, W)`` → same size)."""
        image = self._check_image(image, "image")
        h, w = image.shape[-2:]
        skips: dict = {}
        x = self.encoder(V.pad_to_size(image, **PAD), skips)
        return self.decoder(x, skips)[..., :h, :w]

    # ---------------------------------------------------------------- style side
    @torch.no_grad()
    def prepare_style(self, style: torch.Tensor, transfer_at=COMPONENTS, style_labels=None) -> WCT2PreparedStyle:
        """Run the style pass once (official ``get_all_feature``) and precompute its colouring matrices.

        The result can be passed as ``style`` to :meth:`stylize` any number of
        times (e.g. for every frame of a video).
        """
        style = self._check_image(style, "style")
        ta = _check_transfer_at(transfer_at)
        x = V.pad_to_size(style, **PAD)
        full = None if style_labels is None else label_maps.fit_labels(follow(self, style_labels), style.shape[-2:], "style_labels")[:1]
        labels = None if full is None else V.pad_to_size(full, **PAD)
        skips: dict = {}
        sides: dict = {}
        for level in (1, 2, 3, 4):
            x = self.encoder.encode(x, skips, level)
            if "encoder" in ta:
                sides[("encoder", level)] = T.prepare_wct_style(x, _CFG, labels)
        if "skip" in ta:
            for pool in ("pool1", "pool2", "pool3"):
                for k in range(3):
                    sides[("skip", pool, k)] = T.prepare_wct_style(skips[pool][k], _CFG, labels)
        if "decoder" in ta:
            if "encoder" not in ta:
                sides[("decoder", 4)] = T.prepare_wct_style(x, _CFG, labels)
            for level in (4, 3, 2):
                x = self.decoder.decode(x, skips, level)
                sides[("decoder", level - 1)] = T.prepare_wct_style(x, _CFG, labels)
        return WCT2PreparedStyle(ta, sides, full)

    # ---------------------------------------------------------------- stylize
    @torch.no_grad()
    @images_then_keywords
    def stylize(
        self,
        content: torch.Tensor,
        style: torch.Tensor | WCT2PreparedStyle,
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
            style: ``(1, 3, H', W')`` image, or a :class:`WCT2PreparedStyle` from
                :meth:`prepare_style` (then ``transfer_at``/``style_labels``
                come from it).
            transfer_at: any subset of ``{"encoder", "skip", "decoder"}``
                (official semantics, module docstring); empty = reconstruction.
            alpha: ``α`` of every WCT: ``α T + (1 − α) F_c``.
            content_labels, style_labels: label maps (``(H, W)`` or
                ``(B, 1, H, W)``) with their images' aspect, resized to them
                (:func:`stylelab.labels.maps.fit_labels`); WCT runs per
                usable label (>10 px in both, ratio < 100), other pixels keep
                their content feature.
            clamp: clamp the output to [0, 1] (the reference does before saving).

        Returns:
            ``(B, 3, H, W)``: the input size is kept (padding, not cropping).
        """
        content = self._check_image(content, "content")
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        if isinstance(style, WCT2PreparedStyle):
            prep = style
        else:
            prep = self.prepare_style(style, transfer_at, style_labels)
        if (content_labels is None) != (not prep.has_labels):
            raise ValueError("pass both content_labels and style_labels, or neither")
        ta = prep.transfer_at
        h, w = content.shape[-2:]
        x = V.pad_to_size(content, **PAD)
        cl, used = None, ()
        if content_labels is not None:
            full = label_maps.fit_labels(follow(self, content_labels), (h, w), "content_labels")
            if full.shape[0] not in (1, content.shape[0]):
                raise ValueError(f"content_labels is a batch of {full.shape[0]} maps for {content.shape[0]} images")
            # which labels: decided once on the maps at the images' size (official utils/io.py)
            used = L.label_report(full, prep.labels, warn=True).used
            cl = V.pad_to_size(full, **PAD)
        skips: dict = {}
        for level in (1, 2, 3, 4):
            x = self.encoder.encode(x, skips, level)
            if "encoder" in ta:
                x = T.wct_prepared(x, prep.sides[("encoder", level)], alpha, cl, used=used)
        if "skip" in ta:
            for pool in ("pool1", "pool2", "pool3"):
                skips[pool] = [T.wct_prepared(skips[pool][k], prep.sides[("skip", pool, k)], alpha, cl, used=used)
                               for k in range(3)]
        for level in (4, 3, 2, 1):
            if "decoder" in ta and ("decoder", level) in prep.sides:
                x = T.wct_prepared(x, prep.sides[("decoder", level)], alpha, cl, used=used)
            x = self.decoder.decode(x, skips, level)
        out = x[..., :h, :w]
        return out.clamp(0, 1) if clamp else out

    def forward(self, content, style, **kwargs):
        return self.stylize(content, style, **kwargs)


# ============================================================================ CLI
def add_cli_arguments(parser) -> None:
    """Options of ``stylelab transfer --method wct2``."""
    parser.add_argument("--unpool", choices=["cat5", "sum"], default="cat5", help="unpooling option (default cat5)")
    parser.add_argument("--transfer-at", nargs="+", choices=list(COMPONENTS), default=list(COMPONENTS),
                        help="where WCT runs (default: encoder skip decoder)")
    parser.add_argument("--alpha", type=V.arg_float(0, 1), default=1.0, help="style strength in [0, 1]")
    parser.add_argument("--encoder-weights", type=V.arg_existing("file"), default=None, help="path of wave_encoder_*_l4.pth")
    parser.add_argument("--decoder-weights", type=V.arg_existing("file"), default=None, help="path of wave_decoder_*_l4.pth")
    parser.add_argument("--weights", choices=[course_pair.NAME], default=None, help="vgg16-course: the offline VGG-16's convolutions with Haar pooling (frozen) and the 'sum' decoder trained on them here (default: the official files when installed, else this pair)")


def _model(run: TransferRun, unpool: str, encoder_weights, decoder_weights, weights) -> WCT2:
    model = WCT2.from_official(encoder_weights, decoder_weights, unpool=unpool, device=run.device,
                               random=True if run.random_weights else None, weights=weights)
    course_pair.say(model, "wct2")
    if not model.pretrained and not getattr(model, "weights_name", None):
        print("warning: WCT2 runs with RANDOM weights: the output is not a stylization.")
    return model


def run_cli(content, style, run: TransferRun, *, unpool: str, transfer_at, alpha: float,
            encoder_weights: str | None, decoder_weights: str | None, weights: str | None):
    """``stylelab transfer --method wct2 CONTENT STYLE -o OUT``; the options of :func:`add_cli_arguments`."""
    cl, sl = run.labels or (None, None)
    model = _model(run, unpool, encoder_weights, decoder_weights, weights)
    if run.tile is not None:  # (the CLI refuses --tile with label maps)
        prep = model.prepare_style(style, transfer_at)  # the style side once, shared by every tile
        return from_cli(run.tile, "wct2", lambda x: model.stylize(x, prep, alpha=alpha), content, style)
    return model.stylize(content, style, transfer_at=transfer_at, alpha=alpha, content_labels=cl, style_labels=sl)


def run_cli_video(frames: torch.Tensor, style: torch.Tensor, run: TransferRun, *, unpool: str, transfer_at,
                  alpha: float, encoder_weights: str | None, decoder_weights: str | None, weights: str | None) -> torch.Tensor:
    """``stylelab transfer --method wct2 --video FRAMES STYLE -o OUT``: every frame ``(T, 3, H, W)``
    stylised with the style prepared once, stabilised by ``run.stabilise`` (the command reads and writes the frames)."""
    model = _model(run, unpool, encoder_weights, decoder_weights, weights)
    prep = model.prepare_style(style, transfer_at)
    return video.stylize_frames(lambda f: model.stylize(f, prep, alpha=alpha), frames, momentum=run.stabilise)


# ============================================================================ registry
def _bench(cfg, device) -> Runner:
    model = WCT2.from_official(unpool="cat5", device=device, random=True if cfg.random_weights else None)
    return Runner(lambda c, s: model.stylize(c, s), model.pretrained, W.checkpoints_of(model))


def _bench_wavelet(bands: str):
    def build(cfg, device) -> Runner:
        return Runner(lambda c, s: wavelet_transfer(c, s, levels=3, bands=bands), None)

    return build


register(Method(
    name="wct2", order=60, summary="WCT², Yoo et al., ICCV 2019: Haar wavelet pooling and progressive WCT",
    add_cli_arguments=add_cli_arguments, run_cli=run_cli, labels=True, run_cli_video=run_cli_video,
    tiles=True,
    # fixed part lowered from 280 MB (2026-12-01 14:15 UTC): the quick cell (256², style 64²) measured 271–293 MiB
    # in five fresh processes, 1.46–1.57× under the old estimate; at 768² and 12 MP in tiles the estimate stays at
    # or above the measured peak (BENCHMARKS.md)
    memory=MemoryModel(230e6, 2250.0, 2100.0, "WCT²"),
    bench=(BenchRow("wct2", "WCT² (cat5, no post-processing)", "feed-forward", _bench,
                    "WCT2.from_official(unpool='cat5').stylize, WCT at encoder, skips and decoder"),
           BenchRow("wavelet-ll", "wavelet WCT, LL band (pixels)", "pixel", _bench_wavelet("LL"),
                    "methods.wct2.wavelet_transfer(bands='LL'), 3 levels"),
           BenchRow("wavelet-all", "wavelet WCT, all bands (pixels)", "pixel", _bench_wavelet("all"),
                    "methods.wct2.wavelet_transfer(bands='all'), 3 levels")),
    checkpoints=tuple(f"wct2_{part}_{opt}" for opt in ("cat5", "sum") for part in ("encoder", "decoder")),
))
