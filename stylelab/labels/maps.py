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
import tempfile
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import torch
from PIL import Image

from ..device import get_device
from ..io import open_image

__all__ = [
    "DPST_PALETTE", "LOSSY_FORMATS", "read_labels", "read_label_pair", "save_labels", "labels_from_rgb", "labels_to_rgb", "check_labels",
    "check_aspect", "check_covers", "fit_labels", "nearest_indices", "resize_labels",
]

#: Deep Photo Style Transfer's colour convention for segmentation masks, also read
#: by WCT²'s loader: colour name → (RGB in [0, 1], label id). Other colours map to
#: the nearest palette colour (L1 distance).
DPST_PALETTE: dict[str, tuple[tuple[float, float, float], int]] = {
    "black": ((0.0, 0.0, 0.0), 0),
    "white": ((1.0, 1.0, 1.0), 1),
    "green": ((0.0, 1.0, 0.0), 2),
    "blue": ((0.0, 0.0, 1.0), 3),
    "red": ((1.0, 0.0, 0.0), 4),
    "yellow": ((1.0, 1.0, 0.0), 5),
    "grey": ((0.5, 0.5, 0.5), 6),
    "lightblue": ((0.0, 1.0, 1.0), 7),
    "purple": ((1.0, 0.0, 1.0), 8),
}

_RGB_HINT = (
    "a label map must be single-channel integers (one id per pixel). This looks like a "
    "3-channel (or RGBA) colour mask of shape {shape}: convert it with stylelab.labels.maps.labels_from_rgb(mask) "
    "(Deep Photo Style Transfer's 9 colours by default, or pass palette=[(r, g, b), ...]), "
    "or read the file with stylelab.labels.maps.read_labels(path), which does it for you."
)


# ============================================================================ colour masks
def _palette(palette) -> tuple[list, list[int]]:
    palette = DPST_PALETTE if palette is None else palette
    if isinstance(palette, dict):
        return [c for c, _ in palette.values()], [int(i) for _, i in palette.values()]
    return list(palette), list(range(len(palette)))


def labels_from_rgb(rgb_image, palette: dict | Sequence | None = None) -> torch.Tensor:
    """Convert a colour-coded mask to label ids by nearest palette colour (L1 distance).

    Args:
        rgb_image: ``(B, 3, H, W)`` or ``(3, H, W)`` RGB in [0, 1] (uint8 in
            [0, 255] is accepted too).
        palette: ``{name: ((r, g, b), id)}`` or a sequence of ``(r, g, b)``
            colours in [0, 1] numbered 0, 1, …; default :data:`DPST_PALETTE`
            (Luan et al., CVPR 2017; WCT²'s loader uses the same colours).

    Returns:
        ``(B, 1, H, W)`` int64 ids, on the input's device.
    """
    x = torch.as_tensor(rgb_image)
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"rgb_image must be (B, 3, H, W) or (3, H, W), got {tuple(x.shape)}")
    x = x.float() / 255.0 if not x.is_floating_point() else x.float()  # float32: MPS has no float64
    colours, ids = _palette(palette)
    pal = torch.tensor(colours, dtype=torch.float32, device=x.device)  # (K, 3)
    dist = (x.unsqueeze(1) - pal.view(1, -1, 3, 1, 1)).abs().sum(2)  # (B, K, H, W)
    return torch.tensor(ids, dtype=torch.long, device=x.device)[dist.argmin(1, keepdim=True)]


def labels_to_rgb(labels, palette: dict | Sequence | None = None) -> torch.Tensor:
    """Label ids → ``(B, 3, H, W)`` colours in [0, 1] for display (ids missing from the palette are grey-ish)."""
    lab = check_labels(labels)
    colours, ids = _palette(palette)
    lut = {i: c for c, i in zip(colours, ids)}
    out = torch.empty(lab.shape[0], 3, *lab.shape[-2:], dtype=torch.float32, device=lab.device)
    for v in torch.unique(lab).tolist():
        c = lut.get(v, ((v * 0.618034) % 1.0, (v * 0.414214) % 1.0, (v * 0.732051) % 1.0))
        out.permute(0, 2, 3, 1)[lab[:, 0] == v] = torch.tensor(c, dtype=torch.float32, device=lab.device)
    return out


# ============================================================================ validation
def check_labels(labels, name: str = "label map") -> torch.Tensor:
    """Validate a label map and return it as ``(B, 1, H, W)`` int64 (same device).

    Accepts integer (or bool) tensors and NumPy arrays of shape ``(H, W)``,
    ``(B, H, W)`` — a batch of maps, whatever ``B`` is — or ``(B, 1, H, W)``;
    floating tensors are accepted when they hold whole numbers that their
    dtype represents exactly (below 2²⁴ in float32, 2⁵³ in float64).

    Raises:
        ValueError: a colour mask (``(B, 3|4, H, W)``, or a NumPy ``(H, W, 3|4)``
            array as PIL gives), an empty map, non-integer values.
    """
    if isinstance(labels, np.ndarray):
        if labels.ndim == 3 and labels.shape[-1] in (3, 4):
            raise ValueError(_RGB_HINT.format(shape=labels.shape))
        if labels.dtype == np.uint64 or labels.dtype == np.uint32:
            if labels.size and int(labels.max()) > np.iinfo(np.int64).max:
                raise ValueError(f"{name} holds ids above 2⁶³; renumber the labels")
            labels = labels.astype(np.int64)
        labels = torch.from_numpy(np.array(labels, copy=not labels.flags.writeable or not labels.flags.c_contiguous))
    if not isinstance(labels, torch.Tensor):
        labels = torch.as_tensor(labels)
    x = labels
    if x.dim() == 4 and x.shape[1] in (3, 4):
        raise ValueError(_RGB_HINT.format(shape=tuple(x.shape)))
    if x.dim() == 2:
        x = x[None, None]
    elif x.dim() == 3:
        x = x[:, None]
    elif x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"{name} must be (H, W), (B, H, W) or (B, 1, H, W), got shape {tuple(x.shape)}")
    if x.shape[0] == 0 or x.shape[-1] == 0 or x.shape[-2] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}): a label map needs at least one pixel")
    if x.is_complex():
        raise ValueError(f"{name} must hold integer ids, got {x.dtype}")
    if x.is_floating_point():
        if not bool(torch.isfinite(x).all()) or not torch.equal(x, x.round()):
            raise ValueError(f"{name} holds non-integer values: label maps hold integer ids (one per region); "
                             "pass an integer tensor (e.g. .long() of the ids)")
        bits = round(-np.log2(torch.finfo(x.dtype).eps)) + 1  # significand bits: 24 for float32
        if x.numel() and float(x.abs().max()) > 2.0**bits:
            raise ValueError(f"{name} is {x.dtype} with ids above 2^{bits}, which that dtype cannot hold "
                             "exactly; pass the ids as an integer tensor")
    return x.long()


def check_aspect(label_hw: Sequence[int], image_hw: Sequence[int], name: str = "label map") -> None:
    """Raise :class:`ValueError` unless a ``label_hw`` map covers the same picture as an ``image_hw`` image.

    Both may have been resized from one original, each side rounded to whole
    pixels, so the test allows that rounding and nothing more:
    ``|h_l·w_i − h_i·w_l| ≤ (h_l + w_l + h_i + w_i)/2 + 1``.
    """
    lh, lw = (int(v) for v in label_hw)
    ih, iw = (int(v) for v in image_hw)
    if abs(lh * iw - ih * lw) > (lh + lw + ih + iw) / 2 + 1:
        raise ValueError(
            f"{name} is {lw}×{lh} (W×H) but its image is {iw}×{ih}: the aspect ratios differ "
            f"({lw / lh:.3f} vs {iw / ih:.3f}), so the map does not cover the same picture and stretching it "
            "would put the regions in the wrong place. Make the map from this image (same framing), "
            "or crop image and map the same way."
        )


def check_covers(label_hw: Sequence[int], feature_hw: Sequence[int], name: str = "label map") -> None:
    """Raise :class:`ValueError` unless a ``label_hw`` map can label an ``feature_hw`` feature map of its image.

    The feature-level form of :func:`check_aspect`: a network's features are its image
    divided by a stride ``s`` with each side rounded (poolings floor), so the map fits
    when one scale ``s`` serves both sides within a pixel of rounding on either size:
    ``(h_l − 1)/(h_f + 1) < s < (h_l + 1)/(h_f − 1)`` and the same for the widths.
    A map of another picture (another aspect) is refused, as the methods refuse it.
    """
    (lh, lw), (fh, fw) = ((int(a), int(b)) for a, b in (label_hw, feature_hw))

    def interval(n_l, n_f):
        return (n_l - 1) / (n_f + 1), (n_l + 1) / (n_f - 1) if n_f > 1 else float("inf")

    (a0, a1), (b0, b1) = interval(lh, fh), interval(lw, fw)
    if max(a0, b0) >= min(a1, b1):
        raise ValueError(
            f"{name} is {lw}×{lh} (W×H) but the features it labels are {fw}×{fh}: the aspect ratios differ "
            f"({lw / lh:.3f} vs {fw / fh:.3f}), so the map does not cover the same picture. Give the map of the "
            "image these features come from (its aspect, any resolution).")


def fit_labels(labels, image_hw: Sequence[int], name: str = "label map") -> torch.Tensor:
    """Validate a label map against its image and bring it to the image's ``(H, W)``.

    Same aspect (:func:`check_aspect`) at any resolution; resized with
    :func:`resize_labels`. Returns ``(B, 1, H, W)`` int64.
    """
    lab = check_labels(labels, name)
    check_aspect(lab.shape[-2:], image_hw, name)
    return resize_labels(lab, tuple(int(v) for v in image_hw))


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
    fd, tmp = tempfile.mkstemp(prefix=".stylelab-", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        pil.save(tmp, format="PNG")
        if path.exists() and not overwrite:  # appeared meanwhile
            raise FileExistsError(f"{path} already exists and was left untouched")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


# ============================================================================ resizing
def nearest_indices(n_in: int, n_out: int, device=None) -> torch.Tensor:
    """Source index of each of ``n_out`` output pixels: ``⌊(x + ½) · n_in / n_out⌋`` (pixel centres).

    Computed as PIL's NEAREST resize computes it — the step ``n_in / n_out`` in
    double precision, accumulated from ``½ · step`` — so the indices equal
    PIL's even where ``(x + ½) · n_in / n_out`` is a whole number and rounding
    decides (torch's ``"nearest-exact"`` rounds differently there, e.g.
    ``n_in = 2, n_out = 7``). Returns int64 ``(n_out,)``.
    """
    n_in, n_out = int(n_in), int(n_out)
    if n_in < 1 or n_out < 1:
        raise ValueError(f"sizes must be positive, got {n_in} → {n_out}")
    step = n_in / n_out
    pos = step * 0.5
    idx = []
    for _ in range(n_out):
        idx.append(min(int(pos), n_in - 1))
        pos += step
    return torch.tensor(idx, dtype=torch.long, device=device)


def resize_labels(labels, size: Sequence[int]) -> torch.Tensor:
    """Resize a label map to ``size = (H, W)`` by nearest-neighbour sampling at pixel centres.

    The official convention (PIL ``NEAREST``, :func:`nearest_indices`); the ids
    are gathered, never interpolated, so every id stays exact and no new id
    appears. Any device. Returns ``(B, 1, H, W)`` int64.
    """
    x = check_labels(labels)
    h, w = (int(v) for v in size)
    if h < 1 or w < 1:
        raise ValueError(f"cannot resize a label map to {h}×{w}")
    if (h, w) == tuple(x.shape[-2:]):
        return x
    rows = nearest_indices(x.shape[-2], h, x.device)
    cols = nearest_indices(x.shape[-1], w, x.device)
    return x[:, :, rows[:, None], cols[None, :]]
