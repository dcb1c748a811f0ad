"""Stand-in networks for the course when the pretrained weights are missing.

With random weights the decoders of AdaIN, WCT and PhotoWCT turn any feature
into a flat image (a random decoder has not learnt to invert anything), so a
notebook panel would teach nothing. The stand-ins keep the *architecture* and
the *method* and replace what training provides:

* :func:`random_encoder` — the normalised VGG-19 with **fixed-seed random**
  convolutions (He-normal, ``N(0, 2/fan_in)``, zero bias, drawn from a
  ``torch.Generator`` seeded with :data:`SEED`, so the same on every machine
  and torch version; ``conv1_1`` divided by :data:`INPUT_SCALE` so activations
  are O(1)) and the real, known preprocessing front ``conv0``.
  Random convolutional features still describe an image well enough to be
  inverted (Ustyuzhaninov, Brendel, Gatys & Bethge, ICLR 2017, synthesise
  textures with random filters).
* decoders trained **here**, on the course images in ``data/``, to invert that
  encoder (pixel reconstruction loss, :mod:`stylelab.train`), stored in
  ``data/decoders/`` in float16 and rebuilt by ``tools/train_standin_decoders.py``:
  narrow mirror decoders (``MirrorDecoder(level, width=16)``) for AdaIN and
  WCT, and the full-width max-unpooling decoders of levels 1–2 for PhotoWCT
  (its levels 3–4 would need megabytes).
* WCT²: its decoder sums (``sum``) or concatenates (``cat5``) the encoder's
  Haar skips, so it cannot be narrower than its encoder, and a full-width one
  would need megabytes. Its stand-in is the WCT² architecture at
  1/:data:`WCT2_WIDTH` of the channels (8…64 instead of 64…512): the encoder
  drawn as :func:`random_encoder`'s (:func:`wct2_encoder`), the decoder
  trained here (:func:`wct2_decoder`, ``standin_wct2_{unpool}.pt``). The Haar
  poolings are the real, fixed filters.

:func:`model` builds ``"adain"``, ``"wct"``, ``"photowct"`` or ``"wct2"`` from them. Every
stand-in carries ``.stand_in`` = :data:`LABEL`, which
:func:`stylelab.course.weights_banner` prints: these are **not** the published
models, and their pictures show what the method does with features that carry
meaning — not the quality of the papers' results.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from .. import weights as W
from ..nets.encoders import caffe_conv0, normalised_vgg19
from ..nets.encoders import VGG19Encoder
from ..media.data import data_dir
from ..nets.decoders import MirrorDecoder
from ..device import get_device
from ..methods.adain import AdaIN
from ..methods.wct import WCT
from ..methods.photowct import PhotoWCT
from ..methods.wct2 import WCT2
from ..nets.wavenets import WaveDecoder, WaveEncoder

__all__ = ["LABEL", "SEED", "random_encoder", "decoder", "decoder_path", "model", "PHOTOWCT_LEVELS", "WIDTH",
           "WCT2_WIDTH", "wct2_encoder", "wct2_decoder", "wct2_decoder_path"]

#: What every panel made with a stand-in says on screen.
LABEL = "decoder trained on course images for a random-weight encoder, not the published model"
#: Seed of the random encoder's weights.
SEED = 0
#: Width divisor of the AdaIN/WCT stand-in decoders (:class:`~stylelab.nets.decoders.MirrorDecoder`).
WIDTH = 16
#: ``conv0`` maps RGB in [0, 1] to mean-subtracted BGR in [0, 255] (spread ≈ 64); ``conv1_1`` divides it
#: out so every layer's activations are O(1), as in the published normalised VGG.
INPUT_SCALE = 64.0
#: PhotoWCT levels with a stand-in decoder (full width: max-unpooling needs the encoder's channels).
PHOTOWCT_LEVELS = (2, 1)
#: Channel divisor of the WCT² stand-in, encoder and decoder (8: 8, 16, 32, 64 channels).
WCT2_WIDTH = 8


def _he_normal_(convs, generator: torch.Generator) -> None:
    """Fill ``[(name, conv), ...]`` in this order with He-normal weights ``N(0, 2/fan_in)`` and zero bias;
    ``conv1_1`` divided by :data:`INPUT_SCALE`."""
    with torch.no_grad():
        for name, conv in convs:
            fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
            gain = math.sqrt(2.0 / fan_in) / (INPUT_SCALE if name == "conv1_1" else 1.0)
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * gain)
            conv.bias.zero_()


def random_encoder(last_layer: str = "relu5_1", ceil_mode: bool = False, seed: int = SEED):
    """The normalised VGG-19 up to ``last_layer`` with fixed-seed He-normal random weights.

    Weights are drawn layer by layer in forward order from one generator, so a
    truncated encoder is a prefix of the full one. ``.pretrained`` is ``False``.
    """
    import warnings


    with warnings.catch_warnings():  # the banner of the stand-in says it instead
        warnings.simplefilter("ignore", W.RandomWeightsWarning)
        enc = normalised_vgg19(weights="random", last_layer="relu5_1", ceil_mode=ceil_mode)
    with torch.no_grad():
        w0, b0 = caffe_conv0()
        enc.conv0.weight.copy_(w0)
        enc.conv0.bias.copy_(b0)
    _he_normal_([(name, getattr(enc, name)) for name in enc.layers if name.startswith("conv")],
                torch.Generator().manual_seed(seed))
    if last_layer != "relu5_1":

        short = VGG19Encoder("normalised", last_layer=last_layer, ceil_mode=ceil_mode)
        short.load_state_dict({k: v for k, v in enc.state_dict().items() if k in short.state_dict()})
        short._stylelab_checkpoints = dict(enc._stylelab_checkpoints)
        enc = short
    enc.pretrained = False
    enc.stand_in = "fixed-seed random weights"
    return enc.eval().requires_grad_(False)


def decoder_path(level: int, unpool: str = "nearest") -> Path:
    """``data/decoders/standin_{unpool}{level}.pt`` (see :func:`stylelab.media.data.data_dir`)."""

    return data_dir() / "decoders" / f"standin_{unpool}{level}.pt"


def decoder(level: int, unpool: str = "nearest"):
    """The stand-in decoder of ``relu{level}_1`` (``unpool="max"``: PhotoWCT's), in float32.

    Raises ``FileNotFoundError`` saying how to rebuild the file when it is missing.
    """

    path = decoder_path(level, unpool)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: rebuild it with `python tools/train_standin_decoders.py`.")
    state = torch.load(path, map_location="cpu", weights_only=True)
    dec = MirrorDecoder(level, unpool=unpool, width=1 if unpool == "max" else WIDTH)
    dec.load_state_dict({k: v.float() for k, v in state.items()})
    dec.pretrained = False
    dec.stand_in = LABEL
    return dec.eval().requires_grad_(False)


def wct2_encoder(unpool: str = "cat5", seed: int = SEED) -> WaveEncoder:
    """WCT²'s Haar-pooling encoder at 1/:data:`WCT2_WIDTH` width with fixed-seed He-normal weights
    (drawn as :func:`random_encoder`'s, in forward order) and the real preprocessing ``conv0``."""
    enc = WaveEncoder(unpool, width=WCT2_WIDTH)
    with torch.no_grad():
        w0, b0 = caffe_conv0()
        enc.conv0.weight.copy_(w0)
        enc.conv0.bias.copy_(b0)
    _he_normal_([(n, c) for n, c in enc.named_children() if n != "conv0"], torch.Generator().manual_seed(seed))
    enc.pretrained = False
    return enc.eval().requires_grad_(False)


def wct2_decoder_path(unpool: str = "cat5") -> Path:
    """``data/decoders/standin_wct2_{unpool}.pt``."""
    return data_dir() / "decoders" / f"standin_wct2_{unpool}.pt"


def wct2_decoder(unpool: str = "cat5") -> WaveDecoder:
    """The stand-in WCT² decoder (``unpool`` ``"sum"`` or ``"cat5"``) trained to invert :func:`wct2_encoder`."""
    path = wct2_decoder_path(unpool)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: rebuild it with `python tools/train_standin_decoders.py --only wct2_{unpool}`.")
    dec = WaveDecoder(unpool, width=WCT2_WIDTH)
    dec.load_state_dict({k: v.float() for k, v in torch.load(path, map_location="cpu", weights_only=True).items()})
    dec.pretrained = False
    dec.stand_in = LABEL
    return dec.eval().requires_grad_(False)


def model(method: str, device=None, *, unpool: str = "cat5"):
    """A stand-in ``"adain"``, ``"wct"``, ``"photowct"`` or ``"wct2"`` model; ``.stand_in`` = :data:`LABEL`.

    WCT runs the cascade relu5_1 → relu1_1 with the five stand-in decoders;
    PhotoWCT has decoders for levels :data:`PHOTOWCT_LEVELS` only: call its
    ``stylize(..., levels=standin.PHOTOWCT_LEVELS)``. WCT² (``unpool``
    ``"sum"`` or ``"cat5"``) is the narrow network of :func:`wct2_encoder` /
    :func:`wct2_decoder`, used exactly as :class:`~stylelab.methods.wct2.WCT2`.
    """

    if method == "adain":

        m = AdaIN(random_encoder("relu4_1", ceil_mode=True), decoder(4))
    elif method == "wct":

        m = WCT(random_encoder("relu5_1", ceil_mode=True), {L: decoder(L) for L in (5, 4, 3, 2, 1)})
    elif method == "photowct":

        m = PhotoWCT()
        enc = random_encoder("relu4_1")
        for level in (1, 2, 3, 4):
            e = getattr(m, f"e{level}")
            e.load_state_dict({k: v for k, v in enc.state_dict().items() if k in e.state_dict()})
        for level in PHOTOWCT_LEVELS:
            getattr(m, f"d{level}").load_state_dict(decoder(level, "max").state_dict())
        m.pretrained = False
        m = m.eval().requires_grad_(False)
    elif method == "wct2":
        m = WCT2(unpool, width=WCT2_WIDTH)
        m.encoder.load_state_dict(wct2_encoder(unpool).state_dict())
        m.decoder.load_state_dict(wct2_decoder(unpool).state_dict())
        m.pretrained = m.encoder_pretrained = m.decoder_pretrained = False
        m = m.eval().requires_grad_(False)
    else:
        raise ValueError(f"no stand-in for {method!r}: choose 'adain', 'wct', 'photowct' or 'wct2'")
    # the published checkpoints this stand-in replaces (the weights banner says how to get them)
    replaced = {"adain": ["vgg_normalised", "adain_decoder"], "photowct": ["photowct"],
                "wct": ["vgg_normalised"] + [f"wct_decoder{L}" for L in (5, 4, 3, 2, 1)],
                "wct2": [f"wct2_encoder_{unpool}", f"wct2_decoder_{unpool}"]}[method]
    m._stylelab_checkpoints = {name: False for name in replaced}
    m.stand_in = LABEL if method != "wct2" else f"{LABEL}; WCT² at 1/{WCT2_WIDTH} of its channels"
    return m.to(get_device(device))
