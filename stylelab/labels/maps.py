"""Label maps as data: read, write, validate, convert colour masks, resize.

Conventions
    * A label map is an integer tensor ``(H, W)`` or ``(B, 1, H, W)``; a 3-D
      tensor ``(B, H, W)`` is a *batch* of maps (never a colour image). One id
      per pixel, any integer (ids are never converted to float, so ids above
      2²⁴ stay exact).
    * Colour-coded masks (Deep Photo Style Transfer's nine colours,
      :data:`DPST_PALETTE`) are converted with :func:`labels_from_rgb`;
      :func:`read_labels` does it for RGB files.
    * Resizing is nearest-neighbour sampling at pixel centres, exactly as PIL's
      ``Image.resize(..., NEAREST)`` that the official code uses
      (:func:`nearest_indices`): output pixel ``x`` reads input pixel
      ``⌊(x + ½) · n_in / n_out⌋``. torch's ``mode="nearest"`` samples
      ``⌊x · n_in / n_out⌋`` instead and picks other rows and columns (at an
      exact 2× reduction: rows 0, 2, 4… instead of 1, 3, 5…).

Which labels a pair of maps uses, and the one per-label loop that transfers
between regions, are in :mod:`stylelab.labels`. Operations layer: torch, NumPy
and PIL, never a model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import torch
from PIL import Image

from ..device import get_device
from ..io import open_image, save_pil
from ._checks import (
    DPST_PALETTE, check_aspect, check_covers, check_labels, fit_labels, labels_from_rgb, labels_to_rgb,
    nearest_indices, resize_labels,
)

__all__ = [
    "DPST_PALETTE", "labels_from_rgb", "labels_to_rgb", "check_labels", "check_aspect", "check_covers",
    "fit_labels", "nearest_indices", "resize_labels", "LOSSY_FORMATS", "read_labels", "read_label_pair",
    "save_labels",
]

# ============================================================================ reading and writing
#: Image formats whose compression changes pixel values (ids, colours): PIL's format names.
LOSSY_FORMATS = ("JPEG", "MPO")
#: A colour holding at least this share of a map's pixels is a *region colour* (the rest: edges, noise).
REGION_SHARE = 0.005
#: A region colour within this L1 distance (RGB in [0, 1], summed) of a DPST colour is that colour.
DPST_TOLERANCE = 0.3


class _Raw:
    """One label file before decoding: single-channel ``ids`` or an ``rgb`` (H, W, 3) uint8 array."""

    def __init__(self, path, ids=None, rgb=None, lossy=False):
        self.path, self.ids, self.rgb, self.lossy = path, ids, rgb, lossy

    @property
    def colour(self) -> bool:
        """A colour mask: three channels that differ somewhere."""
        return self.rgb is not None and self.ids is None

    def as_rgb(self) -> np.ndarray:
        if self.rgb is not None:
            return self.rgb
        if self.ids.size and (int(self.ids.min()) < 0 or int(self.ids.max()) > 255):
            raise ValueError(f"label map {self.path} holds ids {int(self.ids.min())}..{int(self.ids.max())}, but the "
                             "other map of the pair is a colour mask: give both maps as ids or both as colour masks")
        return np.repeat(self.ids.astype(np.uint8)[..., None], 3, -1)


def _read_raw(path, colours: str) -> _Raw:
    img = open_image(path)
    if img.width == 0 or img.height == 0:
        raise ValueError(f"label map {path} is empty ({img.width}×{img.height})")
    with Image.open(path) as header:  # (open_image's copy, EXIF-rotated, has lost the format)
        lossy = header.format in LOSSY_FORMATS
    mode = img.mode
    if colours == "palette":
        return _Raw(path, rgb=np.asarray(img.convert("RGB")), lossy=lossy)
    if mode in ("LA", "PA"):
        return _Raw(path, ids=np.asarray(img)[..., 0], lossy=lossy)
    if mode == "P":  # the indices are the ids; its colours serve when the other map of a pair is a colour mask
        return _Raw(path, ids=np.asarray(img), rgb=np.asarray(img.convert("RGB")), lossy=lossy)
    if mode in ("RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
        rgb = np.asarray(img.convert("RGB"))
        if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():  # a grey map saved as RGB
            return _Raw(path, ids=rgb[..., 0], rgb=rgb, lossy=lossy)
        if colours == "ids":
            raise ValueError(f"{path} is a colour ({mode}) image, not single-channel ids; read it with "
                             "colours='palette' to map DPST's colours to ids, or save the ids as a greyscale PNG")
        return _Raw(path, rgb=rgb, lossy=lossy)
    return _Raw(path, ids=np.asarray(img), lossy=lossy)


def _region_colours(rgb: np.ndarray) -> np.ndarray:
    """The colours holding at least :data:`REGION_SHARE` of the pixels of an (H, W, 3) uint8 map, ``(K, 3)``."""
    packed = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    values, counts = np.unique(packed.reshape(-1), return_counts=True)
    keep = values[counts >= max(1, REGION_SHARE * packed.size)]
    return np.stack([(keep >> 16) & 255, (keep >> 8) & 255, keep & 255], -1).astype(np.uint8)


def _colour_ids(raws: list[_Raw], palette) -> list[torch.Tensor]:
    """Colour masks → ids under one convention for all of ``raws`` (the rule of :func:`read_labels`)."""
    rgbs = [r.as_rgb() for r in raws]
    if palette is None:
        regions = np.unique(np.concatenate([_region_colours(x) for x in rgbs]), axis=0)
        dpst = np.array([c for c, _ in DPST_PALETTE.values()], np.float64)
        dist = np.abs(regions[:, None, :] / 255.0 - dpst[None]).sum(-1)  # (K, 9)
        nearest = dist.argmin(1)
        is_dpst = bool((dist.min(1) <= DPST_TOLERANCE).all()) and len(set(nearest.tolist())) == len(regions)
        if not is_dpst:
            lossy = [str(r.path) for r in raws if r.lossy]
            if lossy:
                raise ValueError(
                    f"label map {lossy[0]} is a lossy (JPEG) colour mask whose colours are not Deep Photo Style "
                    "Transfer's palette, so its regions cannot be told from compression noise: save the map as PNG "
                    "(lossless), or pass palette=[(r, g, b), ...] with its colours")
            palette = [tuple(float(v) / 255 for v in c) for c in regions]  # ids 0..K-1, colours in sorted order
    return [labels_from_rgb(torch.from_numpy(np.array(x)).permute(2, 0, 1), palette) for x in rgbs]


def _decode(raws: list[_Raw], colours: str, palette) -> list[torch.Tensor]:
    """Ids of every map of ``raws`` read under *one* convention (ids, or colours with one numbering)."""
    if colours == "palette" or (colours == "auto" and any(r.colour for r in raws)):
        return _colour_ids(raws, palette)
    lossy = [r for r in raws if r.lossy]
    if lossy:
        raise ValueError(
            f"label map {lossy[0].path} holds ids in a lossy (JPEG) file: compression changes them (ids 0/1 become "
            "0, 0/128/255 gain ids such as 130–139), so they cannot be read exactly. Save the map as PNG (lossless); "
            "a JPEG colour mask in Deep Photo Style Transfer's colours is read with colours='palette'")
    return [check_labels(np.ascontiguousarray(r.ids), f"label map {r.path}") for r in raws]


def read_labels(
    path: str | os.PathLike,
    *,
    colours: Literal["auto", "palette", "ids"] = "auto",
    palette: dict | Sequence | None = None,
    like: torch.Tensor | Sequence[int] | None = None,
    device=None,
) -> torch.Tensor:
    """Read a label-map file as ``(1, 1, H, W)`` int64 ids.

    What the pixels mean, by image mode (``colours="auto"``):

    * single channel (``L``, ``I``, ``I;16``, ``1``, integral ``F``): the ids;
    * palette PNG (``P``, e.g. labelme's ``label.png``): the palette *indices*
      are the ids (FastPhotoStyle reads them so);
    * grey + alpha (``LA``, ``PA``): the grey/index channel; alpha is ignored;
    * ``RGB``/``RGBA``: a colour-coded mask (unless the three channels are equal
      everywhere: a grey map saved as RGB, which gives the ids). Its *region
      colours* (each holding ≥ :data:`REGION_SHARE` of the pixels) decide the
      numbering: when each is within :data:`DPST_TOLERANCE` of a distinct colour
      of Deep Photo Style Transfer's palette (:data:`DPST_PALETTE`, as WCT² reads
      it) every pixel takes its nearest DPST colour's id; otherwise the region
      colours, sorted by (r, g, b), are numbered 0, 1, … and every pixel takes
      its nearest region colour's id (three colours stay three labels). Edge and
      compression pixels go to the nearest colour either way.

    Lossy files (:data:`LOSSY_FORMATS`: JPEG): ids are refused (compression turns
    0/1 into 0 and 0/128/255 into 130–139); a colour mask is read only in DPST's
    colours (the nearest palette colour repairs the noise), else refused.

    ``colours="palette"`` converts any file to RGB and maps colours to ``palette``
    (default DPST's nearest colour); ``colours="ids"`` refuses colour masks.
    A content map and its style map are read under one convention with
    :func:`read_label_pair`.

    Args:
        like: an image ``(B, 3, H, W)`` or its ``(H, W)``: the map must have
            its aspect (:func:`check_aspect`) and is resized to it.
        device: where the result goes (:func:`stylelab.device.get_device`).

    Raises:
        FileNotFoundError: no such file. ValueError: unreadable, empty or
            truncated file, colour mask with ``colours="ids"``, ids in a lossy
            file, wrong aspect.
    """
    return read_label_pair(path, colours=colours, palette=palette, content_like=like, device=device)[0]


def read_label_pair(content_path, style_path=None, *, content_like=None, style_like=None,
                    colours: Literal["auto", "palette", "ids"] = "auto", palette: dict | Sequence | None = None,
                    device=None) -> tuple[torch.Tensor, ...]:
    """Read a content map and its style map under *one* convention: ``(content_ids, style_ids)``.

    The rules are :func:`read_labels`', applied to the pair: when either file is a colour
    mask, both are read as colours (a black/white mask and a black/white/red one give
    black = 0, white = 1, red = 4 in both), with one numbering of the two maps' region
    colours. ``style_path=None`` reads one map (a 1-tuple). ``content_like``/``style_like``:
    the images whose aspect each map must have and whose size it takes (:func:`fit_labels`).
    """
    if colours not in ("auto", "palette", "ids"):
        raise ValueError(f"colours must be 'auto', 'palette' or 'ids', got {colours!r}")
    paths = [content_path] + ([] if style_path is None else [style_path])
    raws = [_read_raw(p, colours) for p in paths]
    out = []
    for raw, lab, like in zip(raws, _decode(raws, colours, palette), (content_like, style_like)):
        lab = check_labels(lab, f"label map {raw.path}")
        if like is not None:
            hw = like.shape[-2:] if isinstance(like, torch.Tensor) else like
            lab = fit_labels(lab, hw, f"label map {raw.path}")
        out.append(lab.to(get_device(device)) if device is not None else lab)
    return tuple(out)


def save_labels(labels, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write one label map as a single-channel PNG that :func:`read_labels` (and the CLI) read back exactly.

    Ids 0–255 are written as 8-bit greyscale, 0–65535 as 16-bit; other ids
    are refused (renumber them). An existing file is never replaced unless
    ``overwrite``; the file is written to a temporary name and moved into place.
    """
    from PIL import Image

    lab = check_labels(labels)
    if lab.shape[0] != 1:
        raise ValueError(f"save_labels writes one map, got a batch of {lab.shape[0]}")
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"label maps are saved as PNG (lossless); got {path.name!r} — use a .png name")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists and was left untouched; choose another name or pass overwrite=True")
    arr = lab[0, 0].cpu().numpy()
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi > 65535:
        raise ValueError(f"ids must be in 0..65535 to be saved as PNG, got {lo}..{hi}; renumber the labels")
    pil = Image.fromarray(arr.astype(np.uint8) if hi <= 255 else arr.astype(np.uint16))  # mode L or I;16
    path.parent.mkdir(parents=True, exist_ok=True)
    save_pil(pil, path, "PNG", overwrite=overwrite)  # refuses a file that appeared meanwhile
    return path


