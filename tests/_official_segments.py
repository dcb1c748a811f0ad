"""The official segmentation handling, rebuilt from its description as a test oracle (no stylelab label code).

FastPhotoStyle ``photo_wct.py`` and WCT² ``utils/core.py`` / ``utils/io.py`` (methods.md §6.2, §8.4):

* the labels used are those of the content map with > 10 pixels in both maps and a pixel-count
  ratio < 100 both ways, counted once on the maps at the images' resolution;
* at every transfer point both maps are resized to the feature size with PIL ``NEAREST``;
* per used label the content and style columns are gathered, transformed by the method's WCT
  core, and scattered back; labels with no pixel at that size on either side are skipped; every
  other column keeps the content feature.

The WCT cores: FastPhotoStyle's ``__wct_core`` (÷(N−1), +I on the content only, SVD, eigenvalues
≥ 1e-5 kept, scanning from the smallest) and WCT²'s (the benchmark's op-for-op
``reference_feature_wct``). Everything in float64.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def pil_resize(seg: np.ndarray, h: int, w: int) -> np.ndarray:
    """PIL NEAREST resize of an integer map (mode ``I``), as the official code does."""
    return np.asarray(Image.fromarray(seg.astype(np.int32)).resize((w, h), Image.NEAREST))


def official_label_set(cseg: np.ndarray, sseg: np.ndarray) -> list[int]:
    out = []
    for lab in np.unique(cseg):
        a, b = int((cseg == lab).sum()), int((sseg == lab).sum())
        if a > 10 and b > 10 and a / b < 100 and b / a < 100:
            out.append(int(lab))
    return out


def segment_loop(core, cfeat: torch.Tensor, sfeat: torch.Tensor, cseg: np.ndarray, sseg: np.ndarray,
                 label_set) -> torch.Tensor:
    """Official per-label loop on ``(1, C, h, w)`` features; returns the ``(1, C, h, w)`` target."""
    C, h, w = cfeat.shape[1:]
    cmap = pil_resize(cseg, h, w).reshape(-1)
    smap = pil_resize(sseg, *sfeat.shape[-2:]).reshape(-1)
    cv = cfeat[0].reshape(C, -1)
    sv = sfeat[0].reshape(C, -1)
    target = cv.clone()
    for lab in label_set:
        ci = np.where(cmap == lab)[0]
        si = np.where(smap == lab)[0]
        if ci.size == 0 or si.size == 0:
            continue
        ci_t, si_t = torch.from_numpy(ci), torch.from_numpy(si)
        target[:, ci_t] = core(cv[:, ci_t], sv[:, si_t])
    return target.view_as(cfeat)


def region_sizes(seg: np.ndarray, h: int, w: int, label_set) -> dict[int, int]:
    m = pil_resize(seg, h, w)
    return {lab: int((m == lab).sum()) for lab in label_set}


def _rank(values: torch.Tensor, eps: float = 1e-5) -> int:
    """Last index with a singular value ≥ eps, scanning from the end; all of them if none is."""
    for i in range(values.shape[0] - 1, -1, -1):
        if values[i] >= eps:
            return i + 1
    return values.shape[0]


def photowct_core(cont: torch.Tensor, styl: torch.Tensor) -> torch.Tensor:
    """FastPhotoStyle's WCT of a ``(C, N)`` content and ``(C, M)`` style matrix (methods.md §6.2)."""
    C, n = cont.shape
    c_mean = cont.mean(1, keepdim=True)
    cc = cont - c_mean
    ccov = cc @ cc.T / (n - 1) + torch.eye(C, dtype=cont.dtype)  # n = 1: 0/0 = NaN, as the official code
    s_mean = styl.mean(1, keepdim=True)
    sc = styl - s_mean
    scov = sc @ sc.T / (styl.shape[1] - 1)
    if not (torch.isfinite(ccov).all() and torch.isfinite(scov).all()):
        return torch.full_like(cont, float("nan"))
    _, c_e, c_v = torch.svd(ccov, some=False)
    _, s_e, s_v = torch.svd(scov, some=False)
    kc, ks = _rank(c_e), _rank(s_e)
    whiten = c_v[:, :kc] @ torch.diag(c_e[:kc].pow(-0.5)) @ c_v[:, :kc].T @ cc
    colour = s_v[:, :ks] @ torch.diag(s_e[:ks].pow(0.5)) @ s_v[:, :ks].T
    return colour @ whiten + s_mean


def irregular_maps(h: int, w: int, seed: int, labels=(0, 1, 2)) -> np.ndarray:
    """A map of irregular regions: the arg-max of smoothed random fields, one per label."""
    g = torch.Generator().manual_seed(seed)
    fields = torch.rand(len(labels), 1, max(h // 6, 2), max(w // 6, 2), generator=g, dtype=torch.float64)
    fields = torch.nn.functional.interpolate(fields, size=(h, w), mode="bicubic", align_corners=False)
    return np.asarray(labels)[fields[:, 0].argmax(0).numpy()]
