"""Tile geometry for tiled transfer: where the tiles go, how their overlaps blend, and whether a seam shows.

* :func:`tile_boxes`: tiles ``(y0, y1, x0, x1)`` of side ≤ ``tile`` covering an
  H×W image with neighbours overlapping by at least ``overlap`` px, as few
  and as small as that allows (:func:`processed_fraction`: the pixels processed);
* :func:`blend_window`: each tile's weights — 0 on a ``margin`` whose receptive
  field reaches the tile's padding, then a linear ramp over the overlap, so the
  normalised sum Σ wₜ·yₜ / Σ wₜ is a partition of unity;
* :func:`seam_energy`: the mean squared neighbour difference across tile borders
  over the mean elsewhere (≈ 1: no seam shows).

:mod:`stylelab.tiling` runs a method over these tiles with its statistics taken
once for the whole image (Chen et al., "Towards Ultra-Resolution Neural Style
Transfer via Thumbnail Instance Normalization", AAAI 2022).
"""

from __future__ import annotations

import torch

__all__ = ["tile_boxes", "processed_fraction", "blend_window", "seam_energy"]


def _starts(n: int, tile: int, overlap: int, align: int) -> tuple[list[int], int]:
    """``(origins, side)`` of the tiles along one axis of length ``n``: as few tiles as sides ≤ ``tile`` allow,
    all of one side, the smallest multiple of ``align`` that still overlaps neighbours by ≥ ``overlap``.

    With k = 1 + ⌈(n − tile)/step⌉ tiles (step = tile − overlap rounded down to ``align``) the side is about
    (n + (k − 1)·overlap)/k: the overlaps are spread evenly instead of a last tile that mostly repeats
    its neighbour (4000 px in 1024 px tiles: 5 tiles of 856 px, 4280 px processed, not 5 × 1024 = 5120).
    """
    if n <= tile:
        return [0], n
    step_max = (tile - overlap) // align * align
    k = 1 + -(-(n - tile) // step_max)
    side = min(tile, -(-(n + (k - 1) * overlap) // (k * align)) * align)
    while True:  # side = tile always works: its step is ≤ step_max
        step = -(-(n - side) // ((k - 1) * align)) * align
        starts = sorted({min(i * step, n - side) for i in range(k - 1)} | {n - side})
        if all(0 < b - a <= side - overlap for a, b in zip(starts, starts[1:])) or side >= tile:
            return starts, side
        side += align


def tile_boxes(h: int, w: int, tile: int, overlap: int = 64, align: int = 8) -> list[tuple[int, int, int, int]]:
    """Tiles ``(y0, y1, x0, x1)`` of side ≤ ``tile`` covering an h×w image, neighbours overlapping by ≥ ``overlap``.

    As few tiles as the side ``tile`` allows, all of one size, their overlaps spread evenly (:func:`_starts`),
    so the pixels processed stay close to the image's (the tiles of ``--tile auto`` on 4000×3000: 1.04–1.14×).
    Origins are multiples of ``align`` except the last tile of a row/column,
    which ends at the image border (like the whole image, whose padding is at
    the bottom/right).
    """
    if tile < 2 * overlap + align or tile % align:
        raise ValueError(f"tile must be a multiple of {align} and at least 2·overlap + {align} = {2 * overlap + align}, got {tile}")
    if overlap < 0:
        raise ValueError(f"overlap must be ≥ 0, got {overlap}")
    (ys, th), (xs, tw) = _starts(h, tile, overlap, align), _starts(w, tile, overlap, align)
    return [(y, y + th, x, x + tw) for y in ys for x in xs]


def processed_fraction(h: int, w: int, boxes, thumbnail: int | None = None) -> float:
    """Pixels a tiled run processes (every tile, plus the thumbnail its statistics come from) over the image's."""
    area = sum((y1 - y0) * (x1 - x0) for y0, y1, x0, x1 in boxes)
    if thumbnail is not None and max(h, w) > thumbnail and len(boxes) > 1:
        s = thumbnail / max(h, w)
        area += round(h * s) * round(w * s)
    return area / (h * w)


def blend_window(box, h: int, w: int, overlap: int, margin: int = 0, device=None, dtype=torch.float32) -> torch.Tensor:
    """(1, 1, th, tw) weights of one tile.

    1 inside; on each side that borders another tile (not the image's own
    border) the first ``margin`` px get weight 0 (their receptive field
    reaches the tile's padding) and the next ``overlap − margin`` px ramp up
    linearly, (i + ½)/(overlap − margin). With neighbours overlapping by
    ≥ ``overlap`` > 2·``margin`` every pixel keeps a positive total weight.
    """
    y0, y1, x0, x1 = box

    def ramp(n, lo_inner, hi_inner):
        v = torch.ones(n, device=device, dtype=dtype)
        k = min(overlap, n)
        if k:
            r = torch.clamp((torch.arange(k, device=device, dtype=dtype) - margin + 0.5) / max(k - margin, 1), min=0)
            if lo_inner:
                v[:k] = torch.minimum(v[:k], r)
            if hi_inner:
                v[n - k:] = torch.minimum(v[n - k:], r.flip(0))
        return v

    wy = ramp(y1 - y0, y0 > 0, y1 < h)
    wx = ramp(x1 - x0, x0 > 0, x1 < w)
    return (wy[:, None] * wx[None, :])[None, None]


def seam_energy(image: torch.Tensor, boxes, h: int | None = None, w: int | None = None) -> float:
    """Mean squared colour difference across the tile borders over the mean everywhere else.

    For every tile edge inside the image (column c = x0 or x1 of a tile with
    0 < c < W, likewise rows) the difference between pixels c−1 and c, summed
    over colours and squared, is collected; the result is its mean divided
    by the mean of all other neighbour differences. About 1 means the borders
    look like any other column/row; a visible seam (a step of colour or
    contrast) makes it larger. ``image``: (1, C, H, W).
    """
    h = h or image.shape[-2]
    w = w or image.shape[-1]
    x = image.double()
    dx = (x[..., :, 1:] - x[..., :, :-1]).pow(2).sum(1)[0]  # (H, W−1): column c−1 → c stored at c−1
    dy = (x[..., 1:, :] - x[..., :-1, :]).pow(2).sum(1)[0]
    mx = torch.zeros_like(dx, dtype=torch.bool)
    my = torch.zeros_like(dy, dtype=torch.bool)
    for b in boxes:
        for c in (b[2], b[3]):
            if 0 < c < w:
                mx[:, c - 1] = True
        for r in (b[0], b[1]):
            if 0 < r < h:
                my[r - 1, :] = True
    if not (mx.any() or my.any()):
        return 1.0
    seam = torch.cat([dx[mx], dy[my]])
    rest = torch.cat([dx[~mx], dy[~my]])
    return float(seam.mean() / rest.mean().clamp_min(1e-30))
