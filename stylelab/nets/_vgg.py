"""The VGG encoders as modules: layer names and depths, the feature dictionary, Caffe's input layer, and
`VGGEncoder` (VGG-19 and VGG-16, torchvision's normalised or Caffe's BGR flavour, features named as in
the papers).

Private: every name here is imported from :mod:`stylelab.nets.encoders`, its one public path (where the
loaders that fill these networks with weights live).
"""

from __future__ import annotations

from typing import Iterable, Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..device import follow
from ..weights.layout import BLOCKS, IMAGENET_MEAN, IMAGENET_STD, LAYERS, VGG_BLOCKS, VGG16_LAYERS
from ..weights.layout import block as _block

__all__ = [
    "Arch", "Flavour", "CAFFE_BGR_MEAN", "HED_BGR_MEAN", "channels", "check_layer", "depth", "deepest",
    "Features", "VGGEncoder", "VGG19Encoder", "caffe_conv0",
]


Flavour = Literal["torchvision", "normalised", "caffe"]
Arch = Literal["vgg19", "vgg16"]
_ARCH_LAYERS: dict[str, tuple[str, ...]] = {"vgg19": LAYERS, "vgg16": VGG16_LAYERS}

#: Caffe's BGR mean pixel, on the 0–255 scale, that ``conv0`` subtracts.
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
#: The BGR mean pixel HED subtracts (Xie & Tu's Caffe ``deploy``; the offline VGG-16 was fine-tuned with it).
HED_BGR_MEAN = (104.00699, 116.66877, 122.67892)


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


class VGGEncoder(nn.Module):
    """VGG-19 (or VGG-16) truncated after ``last_layer``, returning named features.

    Args:
        flavour: ``"torchvision"``, ``"normalised"`` or ``"caffe"`` (see the module docstring).
        last_layer: deepest layer kept (default: the architecture's last ReLU,
            ``relu5_4`` / ``relu5_3``); parameters of later layers are not
            created, so a ``relu4_1`` encoder is a quarter of the full network.
        pooling: ``"max"`` (as trained) or ``"avg"`` (Gatys et al. 2016 found
            average pooling gives smoother textures).
        ceil_mode: pooling rounds sizes up (the Torch AdaIN/WCT models) instead
            of down (torchvision, FastPhotoStyle).
        padding: ``"reflect"`` or ``"zeros"``; defaults to the flavour's own.
        arch: ``"vgg19"`` or ``"vgg16"`` (the layer table, :data:`stylelab.weights.layout.VGG_BLOCKS`).
        bgr_mean: the mean pixel the ``"caffe"`` flavour's front subtracts.

    The state dict uses stylelab's names: ``conv1_1.weight``, … and, for the
    normalised flavour, ``conv0.weight`` / ``conv0.bias``; the checkpoint
    table (:mod:`stylelab.weights.checkpoints`) maps the official files' keys onto them.
    """

    def __init__(
        self,
        flavour: Flavour = "torchvision",
        last_layer: str | None = None,
        pooling: Literal["max", "avg"] = "max",
        ceil_mode: bool = False,
        padding: Literal["reflect", "zeros"] | None = None,
        arch: Arch = "vgg19",
        bgr_mean: tuple[float, float, float] = CAFFE_BGR_MEAN,
    ):
        super().__init__()
        if flavour not in ("torchvision", "normalised", "caffe"):
            raise ValueError(f"flavour must be 'torchvision', 'normalised' or 'caffe', got {flavour!r}")
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}")
        if arch not in _ARCH_LAYERS:
            raise ValueError(f"arch must be 'vgg19' or 'vgg16', got {arch!r}")
        self.arch = arch
        self.flavour = flavour
        table = _ARCH_LAYERS[arch]
        last_layer = last_layer or [n for n in table if n.startswith("relu")][-1]
        if check_layer(last_layer) not in table:
            raise ValueError(f"{arch.upper()} has no layer {last_layer!r} (its blocks 1–5 have "
                             f"{', '.join(str(n) for n, _ in VGG_BLOCKS[arch])} convolutions).")
        self.last_layer = last_layer
        self.pooling = pooling
        self.ceil_mode = ceil_mode
        self.padding = padding or ("reflect" if flavour == "normalised" else "zeros")
        self.layers: tuple[str, ...] = table[: table.index(last_layer) + 1]
        self.pretrained = False
        if flavour == "normalised":
            self.conv0 = nn.Conv2d(3, 3, kernel_size=1)
        elif flavour == "caffe":  # fixed preprocessing, not learned: buffers outside the state dict
            w, b = caffe_conv0(bgr_mean)
            self.register_buffer("front_weight", w, persistent=False)
            self.register_buffer("front_bias", b, persistent=False)
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
        if self.flavour == "caffe":
            return F.conv2d(image, self.front_weight, self.front_bias)
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
            if check_layer(name) not in _ARCH_LAYERS[self.arch]:
                raise ValueError(f"{self.arch.upper()} has no layer {name!r}; its layers are "
                                 f"{', '.join(n for n in _ARCH_LAYERS[self.arch] if n.startswith('relu'))} (and conv/pool).")
            if name not in self.layers:
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
        return f"arch={self.arch!r}, flavour={self.flavour!r}, last_layer={self.last_layer!r}, pooling={self.pooling!r}"


#: The VGG-19 default of :class:`VGGEncoder` (its name from before VGG-16 joined).
VGG19Encoder = VGGEncoder


def caffe_conv0(bgr_mean: tuple[float, float, float] = CAFFE_BGR_MEAN) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``conv0`` weight (3, 3, 1, 1) and bias (3,) that map RGB in [0,1] to mean-subtracted BGR in [0,255].

    ``x_k = 255·rgb_{2-k} − m_k`` with ``m = bgr_mean``. Used to give randomly
    initialised normalised encoders a realistic front, as the fixed front of
    the ``"caffe"`` flavour (:func:`vgg16`, with :data:`HED_BGR_MEAN`), and to
    check real checkpoints: the official ``vgg_normalised`` files have this
    form, as Caffe's VGG-19 expects BGR input on the 0–255 scale minus the mean pixel.
    """
    w = torch.zeros(3, 3, 1, 1)
    for out_c, in_c in enumerate((2, 1, 0)):
        w[out_c, in_c, 0, 0] = 255.0
    return w, -torch.tensor(bgr_mean, dtype=torch.float32)
