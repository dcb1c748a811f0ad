"""Layer tables of the networks the course loads: written once, used by the models and the checkpoint table.

Pure data (no torch, no stylelab imports). Everything else is derived from
:data:`BLOCKS`, VGG-19's five blocks, and :data:`VGG16_BLOCKS`, VGG-16's
(Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale
Image Recognition", ICLR 2015), plus SqueezeNet 1.1's fire modules
(:data:`SQUEEZENET1_1_FIRES`):

* the encoders (:mod:`stylelab.nets.encoders`) build their convolutions from
  :func:`vgg_convs`;
* the mirror decoders of AdaIN, WCT and PhotoWCT (:mod:`stylelab.nets.decoders`)
  from :func:`mirror_decoder_convs`;
* WCT²'s Haar-pooling networks (:mod:`stylelab.nets.wavenets`) from
  :func:`wave_encoder_convs` and :func:`wave_decoder_convs`;
* the expected keys and shapes of every official checkpoint
  (:mod:`stylelab.weights.checkpoints`) from the same functions plus the index maps
  below, which say where each convolution sits in the official files.

Names follow the papers: ``conv{b}_{i}`` is the i-th 3×3 convolution of block
b. A decoder convolution carries the name of the encoder convolution it undoes
(the decoder's ``conv4_1`` maps 512 → 256 channels, undoing the encoder's
``conv4_1``, 256 → 512), as in the official checkpoints.
"""

from __future__ import annotations

Blocks = tuple[tuple[int, int], ...]

#: torchvision's input normalisation: the ImageNet mean and standard deviation of RGB in [0, 1].
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)

#: Convolutions per block of VGG-19 and their output channels.
BLOCKS: Blocks = ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512))
#: The same for VGG-16 (configuration D of the paper): three convolutions in blocks 3–5.
VGG16_BLOCKS: Blocks = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
#: The VGG tables by architecture name.
VGG_BLOCKS: dict[str, Blocks] = {"vgg19": BLOCKS, "vgg16": VGG16_BLOCKS}


def _layer_names(blocks: Blocks) -> tuple[str, ...]:
    names = []
    for b, (n_conv, _) in enumerate(blocks, start=1):
        for i in range(1, n_conv + 1):
            names += [f"conv{b}_{i}", f"relu{b}_{i}"]
        names.append(f"pool{b}")
    return tuple(names)


def _torchvision_index(blocks: Blocks) -> dict[str, int]:
    """Index of each convolution in torchvision's ``vgg*().features`` (conv, ReLU per layer; one pool per block)."""
    names = _layer_names(blocks)  # every conv, ReLU and pool is one module of the Sequential
    return {name: i for i, name in enumerate(names) if name.startswith("conv")}


#: Every addressable VGG-19 layer, in forward order (``conv1_1``, ``relu1_1``, …, ``pool5``).
LAYERS: tuple[str, ...] = _layer_names(BLOCKS)
#: The 16 3×3 convolutions, in forward order.
CONVS: tuple[str, ...] = tuple(n for n in LAYERS if n.startswith("conv"))
#: VGG-16's layers (``conv1_1`` … ``pool5``): a subsequence of :data:`LAYERS` with the same names.
VGG16_LAYERS: tuple[str, ...] = _layer_names(VGG16_BLOCKS)
#: VGG-16's 13 3×3 convolutions, in forward order.
VGG16_CONVS: tuple[str, ...] = tuple(n for n in VGG16_LAYERS if n.startswith("conv"))

#: Index of each convolution in torchvision's ``vgg19().features``.
TORCHVISION_INDEX: dict[str, int] = dict(
    zip(CONVS, (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34))
)
#: Index of each convolution in torchvision's ``vgg16().features`` (0, 2, 5, …, 28).
TORCHVISION_VGG16_INDEX: dict[str, int] = _torchvision_index(VGG16_BLOCKS)
#: Where HED's Keras file stores each VGG-16 convolution (kernel ``…/vars/0`` HWIO, bias ``…/vars/1``):
#: Keras 3 names the i-th convolution of a block ``conv2d``, ``conv2d_1``, ``conv2d_2``.
KERAS_HED_VGG16: dict[str, str] = {
    name: f"block{name[4]}/layers/conv2d{'' if name[-1] == '1' else '_' + str(int(name[-1]) - 1)}"
    for name in VGG16_CONVS
}
#: Index of each convolution in the Torch-era ``vgg_normalised`` Sequential
#: (naoto0804/pytorch-AdaIN ``net.py``, ``vgg``; NVIDIA/FastPhotoStyle's converter uses the same).
NORMALISED_INDEX: dict[str, int] = {"conv0": 0} | dict(
    zip(CONVS, (2, 5, 9, 12, 16, 19, 22, 25, 29, 32, 35, 38, 42, 45, 48, 51))
)
#: Positions of the convolutions in the official 29-module AdaIN decoder
#: (naoto0804/pytorch-AdaIN ``net.py``, ``decoder``; file ``decoder.pth``).
ADAIN_DECODER_INDEX: dict[str, int] = {
    "conv4_1": 1, "conv3_4": 5, "conv3_3": 8, "conv3_2": 11, "conv3_1": 14,
    "conv2_2": 18, "conv2_1": 21, "conv1_2": 25, "conv1_1": 28,
}


def block(layer: str) -> int:
    """The block number of a layer name (``"relu4_1"`` → 4, ``"pool3"`` → 3)."""
    return int(layer.lstrip("convrelupool").split("_")[0])


def vgg_convs(last: str | None = None, blocks: Blocks = BLOCKS) -> list[tuple[str, int, int]]:
    """``(name, out_channels, in_channels)`` of a VGG's 3×3 convolutions up to ``last`` (``None``: all), in forward order.

    ``blocks`` is the architecture's table (:data:`BLOCKS` for VGG-19, the
    default; :data:`VGG16_BLOCKS`).
    """
    rows, in_c = [], 3
    for b, (n, c) in enumerate(blocks, start=1):
        for i in range(1, n + 1):
            rows.append((f"conv{b}_{i}", c, in_c))
            in_c = c
            if rows[-1][0] == last:
                return rows
    if last is not None:
        raise ValueError(f"{last!r} is not a convolution of this VGG; names look like 'conv4_1'")
    return rows


def mirror_decoder_convs(level: int) -> list[tuple[str, int, int]]:
    """``(name, out_channels, in_channels)`` of the decoder from ``relu{level}_1``, in forward order.

    The encoder's convolutions up to ``conv{level}_1`` in reverse, each mapping
    its output channels back to its input channels.
    """
    if level not in (1, 2, 3, 4, 5):
        raise ValueError(f"level must be 1..5 (decoding from relu{{level}}_1), got {level}")
    return [(name, in_c, out_c) for name, out_c, in_c in reversed(vgg_convs(f"conv{level}_1"))]


#: WCT²'s Haar poolings: the pooling, the convolution whose (pre-pooling)
#: activation it decomposes, and that activation's channels (clovaai/WCT2 ``model.py``).
WAVE_POOLS: tuple[tuple[str, str, int], ...] = (("pool1", "conv1_2", 64), ("pool2", "conv2_2", 128), ("pool3", "conv3_4", 256))
#: WCT²'s decoder unpooling blocks (``recon_block{b}`` in the official decoder) and their channels.
WAVE_RECON_BLOCKS: tuple[tuple[str, int], ...] = (("recon_block3", 256), ("recon_block2", 128), ("recon_block1", 64))


def _narrow(channels: int, width: int) -> int:
    """A hidden channel count divided by ``width`` (RGB's 3 channels are kept)."""
    if int(width) != width or width < 1 or 64 % width:
        raise ValueError(f"width must divide 64 (1, 2, 4, 8, 16, 32 or 64), got {width!r}")
    return channels if channels == 3 else channels // int(width)


def wave_encoder_convs(width: int = 1) -> list[tuple[str, int, int, int]]:
    """``(name, out, in, kernel)`` of WCT²'s encoder: ``conv0`` (1×1) then VGG-19 up to ``conv4_1``.

    ``width`` divides every hidden channel count (``1``: the published network;
    the course's small stand-in, :mod:`stylelab.course.standin`, uses 8).
    """
    return [("conv0", 3, 3, 1)] + [(name, _narrow(o, width), _narrow(i, width), 3) for name, o, i in vgg_convs("conv4_1")]


def wave_decoder_convs(unpool: str, width: int = 1) -> list[tuple[str, int, int]]:
    """``(name, out, in)`` of WCT²'s decoder from ``relu4_1`` for ``unpool`` ``"sum"`` or ``"cat5"``.

    The level-4 mirror decoder; with ``cat5`` the convolution after each
    unpooling (the last of blocks 3, 2, 1) reads the five concatenated bands
    (5·C channels) and is named with a ``_2`` suffix, as in the official file.
    ``width`` divides every hidden channel count, as in :func:`wave_encoder_convs`.
    """
    if unpool not in ("sum", "cat5"):
        raise ValueError(f"unpool must be 'sum' or 'cat5', got {unpool!r}")
    after_unpool = {conv for _, conv, _ in WAVE_POOLS}
    rows = []
    for name, o, i in mirror_decoder_convs(4):
        o, i = _narrow(o, width), _narrow(i, width)
        if unpool == "cat5" and name in after_unpool:
            name, i = f"{name}_2", 5 * i
        rows.append((name, o, i))
    return rows


#: SqueezeNet 1.1's fire modules (Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x fewer
#: parameters and <0.5MB model size", 2016; v1.1 from DeepScale/SqueezeNet): name, index in torchvision's
#: ``squeezenet1_1().features``, input channels, squeeze channels, expand channels (each of 1×1 and 3×3).
SQUEEZENET1_1_FIRES: tuple[tuple[str, int, int, int, int], ...] = (
    ("fire2", 3, 64, 16, 64), ("fire3", 4, 128, 16, 64), ("fire4", 6, 128, 32, 128), ("fire5", 7, 256, 32, 128),
    ("fire6", 9, 256, 48, 192), ("fire7", 10, 384, 48, 192), ("fire8", 11, 384, 64, 256), ("fire9", 12, 512, 64, 256),
)
#: SqueezeNet 1.1's addressable layers in forward order, with the torchvision module that outputs each
#: (Caffe's names: ``conv1`` 3×3/2 64 channels before its ReLU, ``pool1``/``pool3``/``pool5`` 3×3/2 max-pools,
#: ``conv10`` the 1×1 classifier convolution before its ReLU, ``pool10`` the global average → logits).
SQUEEZENET1_1_LAYERS: tuple[tuple[str, str], ...] = (
    ("conv1", "features.0"), ("relu1", "features.1"), ("pool1", "features.2"),
    ("fire2", "features.3"), ("fire3", "features.4"), ("pool3", "features.5"),
    ("fire4", "features.6"), ("fire5", "features.7"), ("pool5", "features.8"),
    ("fire6", "features.9"), ("fire7", "features.10"), ("fire8", "features.11"), ("fire9", "features.12"),
    ("conv10", "classifier.1"), ("relu10", "classifier.2"), ("pool10", "classifier.3"),
)
