"""Label maps as tensors: colour masks to ids and back (Deep Photo Style Transfer's palette), the checks of a
map (dtype, shape, aspect, coverage) and NEAREST resizing.

Private: every name here is imported from :mod:`stylelab.labels.maps`, its one public path (where maps are
read and written).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch


__all__ = [
    "DPST_PALETTE", "labels_from_rgb", "labels_to_rgb", "check_labels", "check_aspect", "check_covers",
    "fit_labels", "nearest_indices", "resize_labels",
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
