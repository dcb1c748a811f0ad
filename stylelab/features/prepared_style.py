"""A style's statistics computed once, applied per sample and per label region.

Feed-forward transforms (AdaIN, WCT) split into a *style side* — statistics of
the style feature: ``(μ_s, σ_s)`` or the colouring matrix and mean ``(C_s, μ_s)``
— and a *content side* applied to each content matrix. :func:`prepare_style`
computes the style side once (globally, or for each label of a style label
map), :func:`apply_prepared` applies it to every content sample (globally, or
per used label through :func:`stylelab.labels.map_label_regions`), and
:func:`per_style` runs the pair with one prepared style for a whole batch or
one per sample. Reusing a prepared style is what makes a video or a
multi-content batch cheap (WCT² prepares each transfer point of a style once).

:mod:`stylelab.features.transforms` builds AdaIN and WCT on these; features are
``(B, C, H, W)``, a statistic function takes the ``C × M`` matrix of one style
(region) and returns what the content side needs (``None`` for no position).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..labels import label_indices, label_report, map_label_regions
from ..labels.maps import check_labels

__all__ = ["PreparedStyle", "prepare_style", "apply_prepared", "per_style"]


@dataclass
class PreparedStyle:
    """The statistics of one style feature that a transform needs, computed once.

    ``stats`` are those of the whole feature, ``by_label[k]`` those of the
    pixels with label ``k`` (ids with no pixel left at the feature's
    resolution are absent); ``labels`` is the style label map as given
    (the usability rule counts pixels at that resolution). For WCT the
    statistics are the colouring matrix and mean ``(C_s, μ_s)``
    (:func:`prepare_wct_style`), and reusing them is what makes a video or a
    multi-content batch cheap.
    """

    stats: Any
    by_label: dict[int, Any] = field(default_factory=dict)
    labels: torch.Tensor | None = None
    cfg: Any = None
    method: str = "eigh"


def prepare_style(style_feat: torch.Tensor, stat_fn, style_labels, **extra) -> PreparedStyle:
    """``stat_fn`` of a ``(1, C, H, W)`` style feature, globally or per label of ``style_labels``."""
    if style_feat.dim() != 4 or style_feat.shape[0] != 1:
        raise ValueError(f"prepare one style at a time: expected (1, C, H, W), got {tuple(style_feat.shape)}")
    sf = style_feat[0].flatten(1)
    if style_labels is None:
        return PreparedStyle(stat_fn(sf), **extra)
    sl = check_labels(style_labels)
    if sl.shape[0] != 1:
        raise ValueError(f"style_labels has batch size {sl.shape[0]}; one style takes one label map")
    sl = sl.to(sf.device)
    prepared = PreparedStyle(None, labels=sl, **extra)
    for lab, idx in label_indices(sl, style_feat.shape[-2:], torch.unique(sl).tolist()).items():
        prepared.by_label[lab] = stat_fn(sf[:, idx])
    return prepared


def apply_prepared(content_feat, prepared: PreparedStyle, apply_fn, content_labels, min_pixels, max_ratio,
                    used=None):
    """``apply_fn(C×N content matrix, stats)`` per sample, globally or per used label.

    With labels the one per-label loop (:func:`stylelab.labels.map_label_regions`) runs:
    ``used`` = the ids to transfer, decided once by the caller on the maps at the
    images' size (WCT² pads its maps afterwards), or ``None`` = :func:`stylelab.labels.label_report`
    of this sample's content map and ``prepared.labels`` (a :class:`~stylelab.labels.LabelWarning`
    when none is usable). A used region absent at this feature size on either side,
    and every pixel of another label, keeps its content feature; a 1-pixel region is
    transferred (``apply_fn`` decides what that means).
    """
    if prepared.labels is None or content_labels is None:
        outs = [apply_fn(f.flatten(1), prepared.stats).view_as(f) for f in content_feat]
        return outs[0].unsqueeze(0) if len(outs) == 1 else torch.stack(outs)
    if used is None:
        used = lambda b, clb: label_report(clb, prepared.labels, min_pixels, max_ratio, warn=True).used  # noqa: E731

    def region(b, lab, cols):
        stats = prepared.by_label.get(lab)
        return cols if stats is None else apply_fn(cols, stats)

    return map_label_regions(region, content_feat, content_labels, used)


def per_style(content_feat, style_feat, content_labels, style_labels, prepare, apply):
    """Run ``apply(content, prepare(style, style_labels), content_labels)`` with one prepared style for
    the whole batch, or per sample when each content image has its own style or style label map."""
    sl = None if style_labels is None else check_labels(style_labels)
    if sl is not None and sl.shape[0] not in (1, style_feat.shape[0]):
        raise ValueError(f"style_labels has batch size {sl.shape[0]}, expected 1 or {style_feat.shape[0]}")
    if style_feat.shape[0] == 1 and (sl is None or sl.shape[0] == 1):
        return apply(content_feat, prepare(style_feat, sl), content_labels)
    cl = None if content_labels is None else check_labels(content_labels)
    if cl is not None and cl.shape[0] not in (1, content_feat.shape[0]):
        raise ValueError(f"content_labels has batch size {cl.shape[0]}, expected 1 or {content_feat.shape[0]}")
    outs = []
    for b in range(content_feat.shape[0]):
        sb = b if style_feat.shape[0] > 1 else 0
        prep = prepare(style_feat[sb : sb + 1], None if sl is None else sl[b if sl.shape[0] > 1 else 0 :][:1])
        outs.append(apply(content_feat[b : b + 1], prep, None if cl is None else cl[b if cl.shape[0] > 1 else 0 :][:1]))
    return torch.cat(outs)
