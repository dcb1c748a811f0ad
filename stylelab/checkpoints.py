"""The checkpoint table: every pretrained file the course uses, as data, in one place.

Each :class:`Checkpoint` records the official file name, where it comes from
(URL, source, licence), the keys and shapes the *official* file holds, how its
keys become stylelab's (a rename map: the conversion is data too), the tensors
it stores that are fixed rather than learned, and, where the publisher gives
one, the prefix of the file's SHA-256 (torchvision puts it in the file name:
``vgg19-dcbb9e9d.pth``), checked on download as ``torch.hub`` does.

Shapes are derived from the layer tables of :mod:`stylelab.layout`, the same
tables the models are built from; ``tests/test_checkpoints.py`` checks that
each model's ``state_dict`` matches its entry after conversion.

:mod:`stylelab.weights` finds, downloads, validates and loads these files.
Adding a checkpoint = one entry in :data:`TABLE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .layout import (
    ADAIN_DECODER_INDEX, NORMALISED_INDEX, TORCHVISION_INDEX, WAVE_POOLS, WAVE_RECON_BLOCKS,
    mirror_decoder_convs, vgg_convs, wave_decoder_convs, wave_encoder_convs,
)

Shapes = Mapping[str, tuple[int, ...]]

#: The Haar sub-bands whose 2×2 filters WCT²'s official files store (see :mod:`stylelab.wavelets`).
HAAR_BANDS = ("LL", "LH", "HL", "HH")


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
    """Keys/shapes of a stylelab-named :class:`~stylelab.decoders.MirrorDecoder` of ``level``."""
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
            used_by="stylelab.encoders.vgg19 (Gatys, DPST)",
        ),
        Checkpoint(
            name="vgg_normalised",
            filename="vgg_normalised.pth",
            url=f"{_ADAIN_RELEASE}/vgg_normalised.pth",
            license="MIT (naoto0804/pytorch-AdaIN; converted from Gatys et al.'s normalised VGG-19)",
            source="release v0.0.0 of github.com/naoto0804/pytorch-AdaIN",
            shapes=vgg_normalised_shapes(),
            rename={str(i): name for name, i in NORMALISED_INDEX.items()},
            used_by="stylelab.encoders.normalised_vgg19 (AdaIN, WCT)",
        ),
        Checkpoint(
            name="adain_decoder",
            filename="decoder.pth",
            url=f"{_ADAIN_RELEASE}/decoder.pth",
            license="MIT (naoto0804/pytorch-AdaIN; converted from xunhuang1995/AdaIN-style's decoder.t7)",
            source="release v0.0.0 of github.com/naoto0804/pytorch-AdaIN",
            shapes=adain_decoder_shapes(),
            rename={str(i): name for name, i in ADAIN_DECODER_INDEX.items()},
            used_by="stylelab.AdaIN",
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
            used_by="stylelab.WCT",
        ))
    rows.append(Checkpoint(
        name="photowct",
        filename="photo_wct.pth",
        url=None,
        license="CC BY-NC-SA 4.0 (NVIDIA/FastPhotoStyle; non-commercial, share-alike)",
        source="PhotoWCTModels/photo_wct.pth in https://github.com/NVIDIA/FastPhotoStyle — download it yourself "
               "and pass the path (stylelab never ships it)",
        shapes=photowct_shapes(),
        used_by="stylelab.PhotoWCT",
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
                used_by="stylelab.WCT2",
                note="The Haar filters in the file are checked against the fixed filters and not loaded.",
            ))
    return rows


#: Every checkpoint, by name.
TABLE: dict[str, Checkpoint] = {c.name: c for c in _entries()}
