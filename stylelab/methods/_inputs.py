"""The common start of a feed-forward ``stylize``: check the images, follow the model, pad small ones, recolour.

AdaIN and WCT take a content, one style or a list of styles (style
interpolation) and optional label maps, and do the same four things before
their own algorithm (:func:`stylize_inputs`). PhotoWCT (one style, maps
resized to the images) and WCT² (sides padded to multiples of 8) differ in
steps 3–4 and do their own.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import torch

from .. import labels as L
from ..labels import maps as label_maps
from ..features import transforms as T
from .. import validate as V
from ..device import follow

__all__ = ["StylizeInputs", "stylize_inputs"]


class StylizeInputs(NamedTuple):
    """What :func:`stylize_inputs` returns: the padded tensors and the content's size before padding."""

    content: torch.Tensor
    styles: list[torch.Tensor]
    content_labels: torch.Tensor | None
    style_labels: torch.Tensor | None
    size: tuple[int, int]


def stylize_inputs(model: torch.nn.Module, content: torch.Tensor, style: torch.Tensor | Sequence[torch.Tensor],
                   content_labels=None, style_labels=None, *, min_side: int = 1,
                   preserve_colour: bool = False) -> StylizeInputs:
    """Prepare the inputs of ``model.stylize`` (``content`` ``(B, 3, H, W)``, ``style`` an image or a list).

    1. every image is checked (:func:`stylelab.validate.check_image`: dtype, shape,
       range, NaN/Inf) — before it moves, so an error names the caller's tensor;
    2. images and label maps follow the model (:func:`stylelab.device.follow`: its
       device, images also its dtype — the device rule of CONTRIBUTING.md);
    3. label maps are brought to their image's size by the rule every method follows
       (:func:`stylelab.labels.maps.fit_labels`): a map with its image's aspect is resized
       to it (PIL's NEAREST, the official convention), another aspect is a
       ``ValueError``; ``style_labels`` goes with the first style image;
       images below ``min_side`` px are padded (:func:`stylelab.validate.pad_to_size`),
       label maps exactly alike; crop the result to ``size``;
    4. with ``preserve_colour`` every style image is recoloured to the content's colours
       (:func:`stylelab.features.transforms.coral`; one content image only).
    """
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    content = V.check_image(content, "content")
    styles = [V.check_image(s, f"style {i}" if len(styles) > 1 else "style") for i, s in enumerate(styles)]
    content, styles, content_labels, style_labels = follow(model, content, styles, content_labels, style_labels)
    size = tuple(content.shape[-2:])
    if content_labels is not None:  # the one rule of every method: the image's aspect, resized to it
        content_labels = V.pad_to_size(label_maps.fit_labels(content_labels, size, "content_labels"), min_size=min_side)
    if style_labels is not None:
        style_labels = V.pad_to_size(label_maps.fit_labels(style_labels, styles[0].shape[-2:], "style_labels"), min_size=min_side)
    content = V.pad_to_size(content, min_size=min_side)
    styles = [V.pad_to_size(s, min_size=min_side) for s in styles]
    if preserve_colour:
        if content.shape[0] != 1:
            raise ValueError("preserve_colour works on one content image at a time")
        styles = [torch.cat([T.coral(s[i : i + 1], content) for i in range(s.shape[0])]) for s in styles]
    return StylizeInputs(content, styles, content_labels, style_labels, size)
