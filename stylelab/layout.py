"""Layer tables of the networks the course loads: written once, used by the models and the checkpoint table.

Pure data (no torch, no stylelab imports). Everything else is derived from
:data:`BLOCKS`, VGG-19's five blocks (Simonyan and Zisserman, "Very Deep
Convolutional Networks for Large-Scale Image Recognition", ICLR 2015):

* the encoders (:mod:`stylelab.encoders`) build their convolutions from
  :func:`vgg_convs`;
* the mirror decoders of AdaIN, WCT and PhotoWCT (:mod:`stylelab.decoders`)
  from :func:`mirror_decoder_convs`;
* WCT²'s Haar-pooling networks (:mod:`stylelab.wavenets`) from
  :func:`wave_encoder_convs` and :func:`wave_decoder_convs`;
* the expected keys and shapes of every official checkpoint
  (:mod:`stylelab.checkpoints`) from the same functions plus the index maps
  below, which say where each convolution sits in the official files.

Names follow the papers: ``conv{b}_{i}`` is the i-th 3×3 convolution of block
b. A decoder convolution carries the name of the encoder convolution it undoes
(the decoder's ``conv4_1`` maps 512 → 256 channels, undoing the encoder's
``conv4_1``, 256 → 512), as in the official checkpoints.
"""

from __future__ import annotations

#: Convolutions per block of VGG-19 and their output channels.
BLOCKS: tuple[tuple[int, int], ...] = ((2, 64), (2, 128), (4, 256), (4, 512), (4, 512))


def _layer_names() -> list[str]:
    names = []
    for b, (n_conv, _) in enumerate(BLOCKS, start=1):
        for i in range(1, n_conv + 1):
            names += [f"conv{b}_{i}", f"relu{b}_{i}"]
        names.append(f"pool{b}")
    return names


#: Every addressable VGG-19 layer, in forward order (``conv1_1``, ``relu1_1``, …, ``pool5``).
LAYERS: tuple[str, ...] = tuple(_layer_names())
#: The 16 3×3 convolutions, in forward order.
CONVS: tuple[str, ...] = tuple(n for n in LAYERS if n.startswith("conv"))

#: Index of each convolution in torchvision's ``vgg19().features``.
TORCHVISION_INDEX: dict[str, int] = dict(
    zip(CONVS, (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34))
)
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


def vgg_convs(last: str = "conv5_4") -> list[tuple[str, int, int]]:
    """``(name, out_channels, in_channels)`` of VGG-19's 3×3 convolutions up to ``last``, in forward order."""
    rows, in_c = [], 3
    for b, (n, c) in enumerate(BLOCKS, start=1):
        for i in range(1, n + 1):
            rows.append((f"conv{b}_{i}", c, in_c))
            in_c = c
            if rows[-1][0] == last:
                return rows
    if last not in CONVS:
        raise ValueError(f"{last!r} is not a VGG-19 convolution; names look like 'conv4_1'")
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
    the course's small stand-in, :mod:`stylelab.standin`, uses 8).
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
