"""VGG-19 with features named as in the papers.

Two flavours share one module, :class:`VGG19Encoder`:

``"torchvision"``
    torchvision's VGG-19 (ImageNet weights ``IMAGENET1K_V1``): zero padding,
    input normalised by the ImageNet mean and standard deviation inside the
    module. Used by the Gatys tutorial and Deep Photo Style Transfer's
    descendants.
``"normalised"``
    the "normalised VGG" of the Gatys / AdaIN / WCT / PhotoWCT / WCT² family:
    a 1×1 convolution ``conv0`` in front that maps RGB in [0, 1] to Caffe's
    mean-subtracted BGR in [0, 255], reflection padding before every 3×3
    convolution, and weights rescaled so each filter's mean activation over
    ImageNet is one (Gatys et al., NeurIPS 2015).

Layer names follow the papers: ``conv{b}_{i}`` is the *pre*-activation output
of the i-th convolution of block b, ``relu{b}_{i}`` the same after the ReLU,
``pool{b}`` the output of block b's pooling. Both flavours take RGB images in
[0, 1] of shape ``(B, 3, H, W)``.
"""

from __future__ import annotations

from typing import Iterable, Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import weights as W
from .device import follow, get_device
from .layout import BLOCKS, CONVS, LAYERS, NORMALISED_INDEX, TORCHVISION_INDEX
from .layout import block as _block

__all__ = [
    "BLOCKS", "LAYERS", "CONVS", "TORCHVISION_INDEX", "NORMALISED_INDEX", "IMAGENET_MEAN", "IMAGENET_STD",
    "CAFFE_BGR_MEAN", "channels", "check_layer", "depth", "deepest", "Features", "VGG19Encoder", "vgg19",
    "normalised_vgg19", "caffe_conv0",
]

Flavour = Literal["torchvision", "normalised"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Caffe's BGR mean pixel, on the 0–255 scale, that ``conv0`` subtracts.
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)


def channels(layer: str) -> int:
    """Number of channels of ``layer`` (``"relu4_1"`` → 512)."""
    check_layer(layer)
    return BLOCKS[_block(layer) - 1][1]


def check_layer(layer: str) -> str:
    """Return ``layer`` if it names a VGG-19 layer, else raise a helpful error."""
    if layer not in LAYERS:
        close = [n for n in LAYERS if n.split("_")[0][-1:] == layer.split("_")[0][-1:]][:6]
        raise ValueError(
            f"Unknown VGG-19 layer {layer!r}. Names look like 'conv4_2' (before the ReLU), "
            f"'relu4_2' (after) or 'pool3'" + (f"; e.g. {', '.join(close)}." if close else ".")
        )
    return layer


def depth(layer: str) -> int:
    """Position of ``layer`` in forward order (for "truncate after the deepest")."""
    return LAYERS.index(check_layer(layer))


def deepest(layers: Iterable[str]) -> str:
    """The deepest of ``layers`` in forward order."""
    return max(layers, key=depth)


class Features(dict):
    """A ``dict`` of named features ``{layer: (B, C, H, W) tensor}``.

    ``switches`` holds, for each max-pooling layer passed, the pair
    ``(indices, input_size)`` that max-unpooling needs (only when the encoder
    was called with ``switches=True``).
    """

    switches: dict[str, tuple[torch.Tensor, torch.Size]]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.switches = {}


class VGG19Encoder(nn.Module):
    """VGG-19 truncated after ``last_layer``, returning named features.

    Args:
        flavour: ``"torchvision"`` or ``"normalised"`` (see the module docstring).
        last_layer: deepest layer kept; parameters of later layers are not
            created, so a ``relu4_1`` encoder is a quarter of the full network.
        pooling: ``"max"`` (as trained) or ``"avg"`` (Gatys et al. 2016 found
            average pooling gives smoother textures).
        ceil_mode: pooling rounds sizes up (the Torch AdaIN/WCT models) instead
            of down (torchvision, FastPhotoStyle).
        padding: ``"reflect"`` or ``"zeros"``; defaults to the flavour's own.

    The state dict uses stylelab's names: ``conv1_1.weight``, … and, for the
    normalised flavour, ``conv0.weight`` / ``conv0.bias``; the checkpoint
    table (:mod:`stylelab.checkpoints`) maps the official files' keys onto them.
    """

    def __init__(
        self,
        flavour: Flavour = "torchvision",
        last_layer: str = "relu5_4",
        pooling: Literal["max", "avg"] = "max",
        ceil_mode: bool = False,
        padding: Literal["reflect", "zeros"] | None = None,
    ):
        super().__init__()
        if flavour not in ("torchvision", "normalised"):
            raise ValueError(f"flavour must be 'torchvision' or 'normalised', got {flavour!r}")
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}")
        self.flavour = flavour
        self.last_layer = check_layer(last_layer)
        self.pooling = pooling
        self.ceil_mode = ceil_mode
        self.padding = padding or ("reflect" if flavour == "normalised" else "zeros")
        self.layers: tuple[str, ...] = LAYERS[: depth(last_layer) + 1]
        self.pretrained = False
        if flavour == "normalised":
            self.conv0 = nn.Conv2d(3, 3, kernel_size=1)
        else:
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        in_ch = 3
        for name in self.layers:
            if name.startswith("conv"):
                out_ch = BLOCKS[_block(name) - 1][1]
                self.add_module(name, nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=0))
                in_ch = out_ch

    # ------------------------------------------------------------------ helpers
    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] → what the first 3×3 convolution expects."""
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"expected images of shape (B, 3, H, W), got {tuple(image.shape)}")
        if self.flavour == "normalised":
            return self.conv0(image)
        return (image - self.mean) / self.std

    def _conv(self, name: str, x: torch.Tensor) -> torch.Tensor:
        conv = getattr(self, name)
        if self.padding != "reflect":  # zero padding inside the convolution: no padded copy (Gatys speed)
            return F.conv2d(x, conv.weight, conv.bias, padding=1)
        return conv(F.pad(x, (1, 1, 1, 1), mode="reflect"))

    def _pool(self, x: torch.Tensor, with_indices: bool):
        if self.pooling == "avg":
            return F.avg_pool2d(x, 2, 2, ceil_mode=self.ceil_mode), None
        if with_indices:
            return F.max_pool2d(x, 2, 2, ceil_mode=self.ceil_mode, return_indices=True)
        return F.max_pool2d(x, 2, 2, ceil_mode=self.ceil_mode), None

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        image: torch.Tensor,
        layers: Iterable[str] | str | None = None,
        switches: bool = False,
        start: str | None = None,
    ) -> Features:
        """Run the network up to the deepest requested layer.

        Args:
            image: ``(B, 3, H, W)`` RGB in [0, 1] — or, with ``start``, a feature.
            layers: layer names to return (default: ``last_layer`` only).
            switches: also record max-pooling indices in ``Features.switches``.
            start: begin *after* this layer, feeding ``image`` in as its output
                (used to re-encode from an intermediate feature).

        Returns:
            :class:`Features` mapping each requested name to its tensor, on
            the encoder's device (``image`` is moved to its device and dtype).
        """
        image = follow(self, image)  # inputs follow the model (stylelab.device)
        wanted = [layers] if isinstance(layers, str) else list(layers or [self.last_layer])
        for name in wanted:
            if check_layer(name) not in self.layers:
                raise ValueError(
                    f"Layer {name!r} lies beyond this encoder's last layer {self.last_layer!r}; "
                    f"build it with last_layer={deepest(wanted)!r}."
                )
        stop = deepest(wanted)
        out = Features()
        if start is None:
            x = self.preprocess(image)
            begin = 0
        else:
            x = image
            begin = self.layers.index(check_layer(start)) + 1
        for name in self.layers[begin : self.layers.index(stop) + 1]:
            kind = name[:4]
            if kind == "conv":
                x = self._conv(name, x)
            elif kind == "relu":
                x = F.relu(x)
            else:
                size = x.shape
                x, idx = self._pool(x, switches)
                if idx is not None:
                    out.switches[name] = (idx, size)
            if name in wanted:
                out[name] = x
        return out

    def extra_repr(self) -> str:
        return f"flavour={self.flavour!r}, last_layer={self.last_layer!r}, pooling={self.pooling!r}"


# ---------------------------------------------------------------------- loading
def _load(encoder: VGG19Encoder, registry_name: str, weights, random: bool | None, download: bool) -> VGG19Encoder:
    encoder.pretrained = W.load_into(encoder, registry_name, weights, random=random, download=download, strict=False)
    if not encoder.pretrained and encoder.flavour == "normalised":
        # A random normalised VGG still gets the real, known preprocessing front.
        w, b = caffe_conv0()
        with torch.no_grad():
            encoder.conv0.weight.copy_(w)
            encoder.conv0.bias.copy_(b)
    return encoder.eval().requires_grad_(False)


def vgg19(
    weights: str | dict | None = None,
    last_layer: str = "relu5_4",
    pooling: Literal["max", "avg"] = "max",
    device: torch.device | str | None = None,
    random: bool | None = None,
    download: bool = True,
) -> VGG19Encoder:
    """torchvision's VGG-19 (``IMAGENET1K_V1``) as a named-feature encoder, frozen, in eval mode.

    Args:
        weights: ``None`` for the registry's pretrained file (found or
            downloaded), a path, a state dict, or ``"random"``.
        random: allow random weights when the file cannot be had (also
            ``$STYLELAB_RANDOM_WEIGHTS=1``); a warning is printed each time.
    """
    enc = VGG19Encoder("torchvision", last_layer=last_layer, pooling=pooling)
    return _load(enc, "vgg19", weights, random, download).to(get_device(device))


def normalised_vgg19(
    weights: str | dict | None = None,
    last_layer: str = "relu4_1",
    pooling: Literal["max", "avg"] = "max",
    ceil_mode: bool = False,
    device: torch.device | str | None = None,
    random: bool | None = None,
    download: bool = True,
) -> VGG19Encoder:
    """The normalised VGG-19 of AdaIN/WCT (official ``vgg_normalised.pth``), frozen, in eval mode.

    ``ceil_mode=True`` reproduces the Torch models' pooling (AdaIN's outputs
    are then 8·⌈H/8⌉ × 8·⌈W/8⌉). See :func:`vgg19` for the other arguments.
    """
    enc = VGG19Encoder("normalised", last_layer=last_layer, pooling=pooling, ceil_mode=ceil_mode)
    return _load(enc, "vgg_normalised", weights, random, download).to(get_device(device))


def caffe_conv0() -> tuple[torch.Tensor, torch.Tensor]:
    """The ``conv0`` weight (3, 3, 1, 1) and bias (3,) that map RGB in [0,1] to mean-subtracted BGR in [0,255].

    Used to give randomly initialised normalised encoders a realistic front
    (and to check real checkpoints: the official ``vgg_normalised`` files have this form, as
    Caffe's VGG-19 expects BGR input on the 0–255 scale minus the mean pixel).
    """
    w = torch.zeros(3, 3, 1, 1)
    for out_c, in_c in enumerate((2, 1, 0)):
        w[out_c, in_c, 0, 0] = 255.0
    return w, -torch.tensor(CAFFE_BGR_MEAN)
