"""Segmentation label maps: which labels a pair uses (and why), and the one per-label loop.

Segmentation-guided transfer (Luan et al., "Deep Photo Style Transfer", CVPR 2017;
Li et al., "A Closed-form Solution to Photorealistic Image Stylization", ECCV 2018;
Yoo et al., "Photorealistic Style Transfer via Wavelet Transforms", ICCV 2019)
pairs each region of the content with the region of the style that carries the
same label and transfers statistics only between them. Every method and the
command line use this one module.

Conventions (the maps themselves — shapes, ids, colour masks, PIL-exact
NEAREST resizing — are described in :mod:`stylelab.labels.maps`)
    * A label is *used* when it has more than ``min_pixels = 10`` pixels in both
      maps and the pixel counts differ by less than ``max_ratio = 100`` times
      both ways, counted on the maps at their images' resolution (FastPhotoStyle
      ``photo_wct.py``, WCT² ``utils/io.py``). Pixels of other labels keep their
      content feature. :func:`label_report` says which labels are used, which
      are dropped and why; when none is used nothing is stylised and a
      :class:`LabelWarning` says so.
    * One resolution rule for every method (AdaIN, WCT, PhotoWCT, WCT², DPST)
      and the command line: a map must have its image's aspect and is resized
      to the image's size with PIL's NEAREST convention, as the official code
      resizes its maps (:func:`fit_labels`); a map of another aspect is a
      ``ValueError`` that says so, never a silent stretch.

Reading, writing, validating, colour masks and resizing are in
:mod:`stylelab.labels.maps`; automatic label maps (SLIC superpixels) in
:mod:`stylelab.labels.auto`.
This module is part of the operations layer: it imports torch, never a model.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from .maps import check_covers, check_labels, resize_labels

__all__ = ["LabelWarning", "LabelReport",
    "label_report", "usable_labels", "label_indices", "map_label_regions",
]


class LabelWarning(UserWarning):
    """A label map pair with which part or all of the image is not stylised."""


# ============================================================================ which labels are used
@dataclass
class LabelReport:
    """Which labels a content/style map pair uses, and why the others are dropped.

    Attributes:
        used: ids transferred (each from the style region with the same id).
        dropped: id → reason, for every other id present in either map.
        content_counts, style_counts: id → pixels (at the maps' own resolution).
        content_fraction: share of content pixels whose label is used (what gets stylised).
    """

    used: list[int]
    dropped: dict[int, str]
    content_counts: dict[int, int]
    style_counts: dict[int, int]
    min_pixels: int = 10
    max_ratio: float = 100.0
    content_fraction: float = field(default=0.0)

    @property
    def nothing_stylised(self) -> bool:
        return not self.used

    def __str__(self) -> str:
        lines = [f"labels used: {self.used or 'none'} ({100 * self.content_fraction:.1f} % of the content is stylised)"]
        for lab in sorted(set(self.content_counts) | set(self.style_counts)):
            c, s = self.content_counts.get(lab, 0), self.style_counts.get(lab, 0)
            state = "used" if lab in self.used else f"dropped: {self.dropped[lab]}"
            lines.append(f"  label {lab}: content {c} px, style {s} px — {state}")
        return "\n".join(lines)

    @property
    def unmatched(self) -> dict[str, list[int]]:
        """Labels present in one map only: ``{"content": ids missing from the style, "style": ids missing from the content}``."""
        return {"content": sorted(k for k in self.content_counts if k not in self.style_counts),
                "style": sorted(k for k in self.style_counts if k not in self.content_counts)}

    def warning(self) -> str | None:
        """The :class:`LabelWarning` text when nothing is stylised or a label has no counterpart, else ``None``."""
        if not self.used:
            why = "; ".join(f"label {k}: {v}" for k, v in sorted(self.dropped.items())) or "no labels"
            return (f"no label is usable in both maps (> {self.min_pixels} pixels in each, counts within "
                    f"{self.max_ratio:g}× of each other), so NOTHING is stylised: the output keeps the content. ({why})")
        un = self.unmatched
        if not (un["content"] or un["style"]):
            return None
        parts = [f"label{'s' if len(v) > 1 else ''} {', '.join(map(str, v))} of the {k} map {'are' if len(v) > 1 else 'is'} "
                 f"not in the {'style' if k == 'content' else 'content'} map" for k, v in un.items() if v]
        share = sum(self.content_counts[k] for k in un["content"]) / max(1, sum(self.content_counts.values()))
        return (f"{'; '.join(parts)}: {100 * share:.1f} % of the content has no style region and keeps its content. "
                "Check that both maps use the same ids (or the same colours) for the same regions.")


def _counts(labels) -> dict[int, int]:
    u, c = torch.unique(check_labels(labels), return_counts=True)
    return dict(zip(u.tolist(), c.tolist()))


def label_report(content_labels, style_labels, min_pixels: int = 10, max_ratio: float = 100.0,
                 warn: bool = False) -> LabelReport:
    """Apply the official usability rule and say what it decided (module docstring).

    A label is used when ``n_c > min_pixels``, ``n_s > min_pixels``,
    ``n_c / n_s < max_ratio`` and ``n_s / n_c < max_ratio`` (strict, as
    FastPhotoStyle and WCT²), with ``n`` the pixel counts over the whole map
    (all batch entries) at the resolution given. ``warn``: issue a
    :class:`LabelWarning` when no label is used, or when a label present in one
    map has no counterpart in the other (:attr:`LabelReport.unmatched`).
    """
    cc, sc = _counts(content_labels), _counts(style_labels)
    used, dropped = [], {}
    for lab in sorted(set(cc) | set(sc)):
        nc, ns = cc.get(lab, 0), sc.get(lab, 0)
        if nc == 0:
            dropped[lab] = "not in the content"
        elif ns == 0:
            dropped[lab] = "not in the style"
        elif nc <= min_pixels or ns <= min_pixels:
            side, n = ("content", nc) if nc <= min_pixels else ("style", ns)
            dropped[lab] = f"only {n} px in the {side} (needs > {min_pixels})"
        elif nc / ns >= max_ratio or ns / nc >= max_ratio:
            dropped[lab] = f"pixel counts {nc} vs {ns} differ ≥ {max_ratio:g}×"
        else:
            used.append(int(lab))
    total = sum(cc.values())
    report = LabelReport(used, dropped, cc, sc, min_pixels, max_ratio,
                         sum(cc[k] for k in used) / total if total else 0.0)
    if warn and report.warning() is not None:
        warnings.warn(report.warning(), LabelWarning, stacklevel=3)
    return report


def usable_labels(content_labels, style_labels, min_pixels: int = 10, max_ratio: float = 100.0) -> list[int]:
    """The ids :func:`label_report` uses (FastPhotoStyle's / WCT²'s rule), sorted."""
    return label_report(content_labels, style_labels, min_pixels, max_ratio).used


# ============================================================================ per-label transfer
def label_indices(labels, size: Sequence[int], ids: Sequence[int]) -> dict[int, torch.Tensor]:
    """Flat pixel indices of each id in ``ids`` after resizing one map to a feature size ``(H, W)``.

    ``labels``: one map (``(H, W)`` or ``(1, 1, H, W)``) of the image the features come from
    (:func:`check_covers`: another aspect is a ``ValueError``). Returns ``{id: int64 indices into H·W}``
    for the ids that still have at least one pixel at that size (a region can vanish).
    """
    lab = check_labels(labels)
    if lab.shape[0] != 1:
        raise ValueError(f"label_indices takes one map, got a batch of {lab.shape[0]}")
    check_covers(lab.shape[-2:], size)  # the map of another picture is refused, not stretched
    flat = resize_labels(lab, size).view(-1)
    out = {}
    for i in ids:
        idx = (flat == int(i)).nonzero().squeeze(1)
        if idx.numel():
            out[int(i)] = idx
    return out


def map_label_regions(
    fn: Callable[[int, int, torch.Tensor], torch.Tensor],
    content: torch.Tensor,
    content_labels,
    used: Sequence[int] | Callable[[int, torch.Tensor], Sequence[int]],
) -> torch.Tensor:
    """The per-label loop of every method: ``out[b][:, region l] = fn(b, l, C×N_l columns)``.

    For each sample ``b`` and each id ``l`` of ``used``: gather the content
    features whose content label (resized to the feature size with
    :func:`resize_labels`) is ``l``, transform them, scatter them back
    (FastPhotoStyle's / WCT²'s segment loop). ``fn`` pairs the region with the
    style's (and returns the columns unchanged when the style region vanished
    at this size). Pixels of other labels, and regions with no pixel left at
    this size, keep their content feature; a 1-pixel region is passed to ``fn``
    as a single column.

    Args:
        content: ``(B, C, H, W)`` features.
        content_labels: one map for all samples or one per sample (any resolution).
        used: the ids to transfer, or ``used(b, map of sample b)`` returning them
            (e.g. :func:`label_report` against the style's map).

    Returns:
        ``(B, C, H, W)``, a new tensor.
    """
    cl = check_labels(content_labels, "content_labels").to(content.device)
    B = content.shape[0]
    if cl.shape[0] not in (1, B):
        raise ValueError(
            f"content_labels is a batch of {cl.shape[0]} maps but there are {B} images: give 1 map or {B} "
            "(a 3-D tensor (B, H, W) is a batch of maps; a colour mask needs stylelab.labels.maps.labels_from_rgb)")
    out = content.clone()
    for b in range(B):
        clb = cl[b if cl.shape[0] > 1 else 0]
        ids = list(used(b, clb) if callable(used) else used)
        if not ids:
            continue
        cf = content[b].flatten(1)
        ob = out[b].view(content.shape[1], -1)
        for lab, ci in label_indices(clb, content.shape[-2:], ids).items():
            ob[:, ci] = fn(b, lab, cf[:, ci])
    return out


# Submodules load on first use: stylelab.labels.<module> works after `import stylelab` alone.
from .._lazy import lazy_submodules  # noqa: E402

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
