"""Label maps without a segmentation network: superpixels grouped by colour, jointly for a content/style pair.

Segmentation-guided transfer (notebooks 05–07) needs a label map per image with the
same ids for corresponding regions (sky = sky). The official code asks users for
masks drawn by hand or by a segmentation network (WCT2 issues #3, #37; FastPhotoStyle
#55). A usable map can be made from the pixels alone:

1. **superpixels**: SLIC (Achanta, Shaji, Smith, Lucchi, Fua & Süsstrunk, "SLIC
   Superpixels Compared to State-of-the-Art Superpixel Methods", TPAMI 2012) cuts
   each image into about ``n_segments`` compact regions that follow its edges
   (``skimage.segmentation.slic``, k-means in CIE Lab + position, ``compactness``
   weighting position);
2. **one colour vocabulary for both images**: the mean Lab colour of every
   superpixel of *both* images is clustered into ``k`` groups by k-means
   (``scipy.cluster.vq.kmeans2``, k-means++ seeding, fixed ``seed``), so label ``j``
   means "colours like centre ``j``" in the content and in the style alike;
3. **every label usable**: a label the transfer would drop
   (:func:`stylelab.labels.label_report`: ≤ ``min_pixels`` pixels on a side, absent from
   one image, or pixel counts ``max_ratio`` times apart) is merged into the label
   whose centre is nearest in Lab, smallest first, until all remaining labels are used;
4. ids are renumbered ``0 … k'−1`` by increasing lightness ``L*`` (dark to bright).

Each label region is a union of superpixels, so its borders follow the image's
edges. The result is a ``(1, 1, H, W)`` int64 map in the format
:func:`stylelab.labels.maps.check_labels`, :func:`stylelab.labels.maps.save_labels` /
:func:`~stylelab.labels.maps.read_labels`, the label editor
(:class:`stylelab.course.widgets.labels.LabelEditor`, to correct it by hand) and
``stylelab transfer --content-labels/--style-labels`` read. It groups *colours*,
not objects: a blue car and the sky share a label. scikit-image is needed
(``pip install scikit-image``).
"""

from __future__ import annotations

import numpy as np
import torch

from . import label_report
from ..validate import check_image

__all__ = ["superpixels", "auto_labels", "auto_label_pair"]


def _skimage():
    try:
        import skimage.color
        import skimage.segmentation
    except ImportError as err:  # pragma: no cover - scikit-image is a course dependency
        raise ImportError("automatic label maps need scikit-image: pip install scikit-image") from err
    return skimage


def _lab(image: torch.Tensor) -> np.ndarray:
    """``(1, 3, H, W)`` in [0, 1] → ``(H, W, 3)`` float64 CIE Lab (D65)."""
    return _skimage().color.rgb2lab(image[0].detach().to("cpu", torch.float64).permute(1, 2, 0).numpy())


def superpixels(image: torch.Tensor, n_segments: int = 150, compactness: float = 10.0) -> torch.Tensor:
    """SLIC superpixels of ``image`` ``(1, 3, H, W)``: ``(H, W)`` int64 ids ``0 … n−1`` (module docstring, step 1)."""
    image = check_image(image, "image", batch=1)
    if n_segments < 1:
        raise ValueError(f"n_segments must be ≥ 1, got {n_segments}")
    rgb = image[0].detach().to("cpu", torch.float64).permute(1, 2, 0).numpy()
    seg = _skimage().segmentation.slic(rgb, n_segments=n_segments, compactness=compactness, start_label=0,
                                       channel_axis=-1, convert2lab=True)
    _, seg = np.unique(seg, return_inverse=True)  # consecutive ids
    return torch.from_numpy(seg.reshape(rgb.shape[:2]).astype(np.int64))


def _segment_means(lab: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Mean Lab of each superpixel: ``(n, 3)``."""
    n = int(seg.max()) + 1
    counts = np.bincount(seg.ravel(), minlength=n).astype(np.float64)
    return np.stack([np.bincount(seg.ravel(), lab[..., c].ravel(), minlength=n) for c in range(3)], 1) / counts[:, None]


def auto_label_pair(content: torch.Tensor, style: torch.Tensor | None = None, k: int = 4, *, n_segments: int = 150,
                    compactness: float = 10.0, min_pixels: int = 10, max_ratio: float = 100.0,
                    seed: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Label maps ``(1, 1, H, W)`` of ``content`` and ``style`` with shared ids (module docstring, steps 1–4).

    ``style=None`` labels the content alone (step 3 then only merges labels of ≤ ``min_pixels``
    pixels). Every label of the result is used by :func:`stylelab.labels.label_report` with the same
    ``min_pixels``/``max_ratio``. Returns ``(content_labels, style_labels or None)`` on the content's device.
    """
    if k < 1:
        raise ValueError(f"k must be ≥ 1, got {k}")
    images = [check_image(content, "content", batch=1)] + ([] if style is None else [check_image(style, "style", batch=1)])
    labs = [_lab(img) for img in images]
    segs = [superpixels(img, n_segments, compactness).numpy() for img in images]
    means = [_segment_means(lab, seg) for lab, seg in zip(labs, segs)]
    from scipy.cluster.vq import kmeans2

    allm = np.concatenate(means)
    k = min(k, len(allm))
    centres, assign = kmeans2(allm, k, minit="++", seed=seed)
    splits = np.cumsum([len(m) for m in means])[:-1]
    seg_labels = np.split(assign, splits)
    maps = [lab_of_seg[seg] for lab_of_seg, seg in zip(seg_labels, segs)]
    while True:  # step 3: merge the smallest dropped label into the nearest remaining centre
        present = sorted(set(np.unique(np.concatenate([m.ravel() for m in maps])).tolist()))
        if len(maps) == 2:
            dropped = label_report(torch.from_numpy(maps[0]), torch.from_numpy(maps[1]), min_pixels, max_ratio).dropped
        else:
            u, c = np.unique(maps[0], return_counts=True)
            dropped = {int(a): "small" for a, b in zip(u, c) if b <= min_pixels}
        if not dropped or len(present) == 1:
            break
        sizes = {lab: sum(int((m == lab).sum()) for m in maps) for lab in dropped}
        worst = min(sizes, key=lambda lab: (sizes[lab], lab))
        others = [lab for lab in present if lab != worst]
        target = others[int(np.argmin(((centres[others] - centres[worst]) ** 2).sum(1)))]
        maps = [np.where(m == worst, target, m) for m in maps]
    # step 4: renumber by lightness
    present = sorted(set(np.unique(np.concatenate([m.ravel() for m in maps])).tolist()), key=lambda lab: centres[lab, 0])
    lut = np.zeros(k, dtype=np.int64)
    lut[present] = np.arange(len(present))
    out = [torch.from_numpy(lut[m]).view(1, 1, *m.shape).to(content.device) for m in maps]
    return out[0], (out[1] if style is not None else None)


def auto_labels(image: torch.Tensor, k: int = 4, **kwargs) -> torch.Tensor:
    """The label map ``(1, 1, H, W)`` of one image (:func:`auto_label_pair` with no style)."""
    return auto_label_pair(image, None, k, **kwargs)[0]
