"""Tiled style transfer with statistics taken once for the whole image.

A 12-megapixel photo does not fit through VGG-19 features on a laptop
(WCT² needs 5.2 GB at one megapixel on a CPU). Cutting it into tiles and
stylising each on its own is not enough: AdaIN and WCT normalise with the
*content's* statistics (channel means, standard deviations, covariances), so
every tile would be normalised differently and the seams would show as
changes of colour and contrast. Chen et al. ("Towards Ultra-Resolution
Neural Style Transfer via Thumbnail Instance Normalization", AAAI 2022) take
those statistics once, from a thumbnail of the whole image, and apply them
unchanged to every patch. Here that idea is applied to each method's own
transform (method-agnostic):

1. **record**: the method runs once on a thumbnail (long side ≤ ``thumbnail``
   px; the whole image when it is that small). Every content-statistics
   computation inside the transforms — :func:`stylelab.features.transforms.adain`'s
   (μ_c, σ_c), :func:`stylelab.features.transforms.wct`'s (W_c, μ_c, clamp range) and
   WCT²'s cached transform — goes through :func:`stylelab.features.shared_statistics.content_statistics`, which
   stores its result in call order;
2. **replay**: the method runs on each tile; the same calls return the stored
   statistics instead of the tile's own, so every tile is whitened and
   coloured with the same matrices (the style side is unchanged);
3. **blend**: tiles overlap by ``overlap`` px; each output pixel is the
   weighted mean of the tiles covering it, with weights that are 0 on the
   ``margin`` px next to a tile border and then ramp linearly to 1 across the
   rest of the overlap (a partition of unity after normalisation), so no
   tile border is visible. Tile origins are multiples
   of ``align`` (8: the three poolings before relu4_1), so pooling grids
   coincide with the whole image's.

**Memory.** ``stylelab transfer --tile auto`` (:func:`from_cli`) takes the
largest tile whose whole-process estimate
(:func:`stylelab.memory.estimate_tiled_bytes`: Python and torch, the weights,
the full-size content and blend accumulators, the thumbnail pass, one tile,
and PhotoWCT's full-size smoothing) fits :func:`tile_budget` — 8 GB, or
``--tile-budget``/``$STYLELAB_TILE_BUDGET``, lowered to what the machine has
available — and refuses with what to change when no tile fits. The style side
is prepared once by the caller (each method's ``prepare_style``): no tile
encodes the style again.

What remains different from a whole-image run with the same statistics is
the *receptive field*: near a tile border the network sees padding instead
of the neighbouring pixels. A network whose receptive-field radius is at
most ``margin`` gives exactly the whole-image result (tested). VGG-19 to
relu4_1 (68 px) plus its mirrored decoder (60 px) sees ≈ 130 px, more than any
practical margin, so for AdaIN, PhotoWCT and WCT² the tiled result differs
from the whole-image one near tile borders by an amount that shrinks as
tiles grow (measured in BENCHMARKS.md); :func:`stylelab.tiling.tiles.seam_energy` measures
whether anything is visible along the borders.
Thumbnail statistics differ from full-resolution ones by the change of
scale (Chen et al. show it is small for natural images); pass
``thumbnail=None`` to take them from the full image when that fits.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from .. import device as D
from .. import memory
from .. import available_memory
from .. import methods as registry
from .. import validate as V
from ..metrics import rss_bytes
from .tiles import blend_window, tile_boxes
from ._statistics import SharedStatistics

__all__ = [
    "SharedStatistics", "stylize_tiled", "choose_tile",
    "tile_budget", "plan", "parse_tile", "from_cli", "TileOptions",
]

# The methods whose ``stylelab transfer`` accepts ``--tile`` (their transforms go through
# :func:`stylelab.features.shared_statistics.content_statistics`) say so on their registration:
# ``Method(tiles=True)``, listed by
# :func:`stylelab.methods.tiled`.


@dataclass(frozen=True)
class TileOptions:
    """The ``--tile`` options of one ``stylelab transfer`` run (:func:`add_cli_arguments`), typed.

    Attributes:
        tile: ``"auto"`` (the largest tile that fits the budget) or the tile side in pixels
            (an int, or its text as given: :func:`parse_tile` checks it).
        overlap: ``--tile-overlap``, px (the blend width).
        thumbnail: ``--thumbnail``: long side of the thumbnail the statistics come from
            (``0``/``None``: the full image).
        budget_gb: ``--tile-budget`` in GB (``None``: ``$STYLELAB_TILE_BUDGET`` or 8 GB).
    """

    tile: int | str = "auto"
    overlap: int = 64
    thumbnail: int | None = 1024
    budget_gb: float | None = None

def stylize_tiled(
    fn: Callable[[torch.Tensor], torch.Tensor],
    content: torch.Tensor,
    *,
    tile: int = 512,
    overlap: int = 64,
    margin: int | None = None,
    thumbnail: int | None = 1024,
    align: int = 8,
    progress: bool = True,
    shared: SharedStatistics | None = None,
) -> torch.Tensor:
    """Run ``fn`` (content (1, 3, h, w) → stylised (1, 3, h, w)) tile by tile with shared statistics.

    Args:
        fn: one method's stylisation of a content crop with a fixed style
            (e.g. ``lambda x: model.stylize(x, style)``); it must return the
            crop's size.
        content: (1, 3, H, W) photo (any size; stays on its device).
        tile: tile side in pixels (multiple of ``align``).
        overlap: overlap of neighbouring tiles in pixels (the blend width).
        margin: pixels at each interior tile border that get no weight
            (default ``overlap // 4``); a network whose receptive-field
            radius is ≤ ``margin`` gives exactly the whole-image result.
        thumbnail: long side of the thumbnail the statistics come from;
            ``None`` = the full image (only when it fits in memory).
        progress: a progress bar over the tiles.
        shared: reuse statistics recorded earlier (the thumbnail run is skipped).

    Returns:
        (1, 3, H, W) float32 tensor on the content's device.
    """
    if content.dim() != 4 or content.shape[0] != 1:
        raise ValueError(f"content must be one image (1, C, H, W), got {tuple(content.shape)}")
    h, w = content.shape[-2:]
    margin = overlap // 4 if margin is None else int(margin)
    if margin < 0 or (overlap > 0 and 2 * margin >= overlap) or (margin and overlap == 0):
        raise ValueError(f"margin must satisfy 0 ≤ 2·margin < overlap, got margin {margin}, overlap {overlap}")
    boxes = tile_boxes(h, w, tile, overlap, align)
    if len(boxes) == 1 and shared is None and (thumbnail is None or max(h, w) <= thumbnail):
        return fn(content).to(content.device, torch.float32)  # one tile, own statistics: the whole-image run
    if shared is None:
        shared = SharedStatistics()
        thumb = content
        if thumbnail is not None and max(h, w) > thumbnail:
            s = thumbnail / max(h, w)
            size = (max(align, round(h * s)), max(align, round(w * s)))
            thumb = F.interpolate(content, size=size, mode="bilinear", antialias=True, align_corners=False)
        with shared.record():
            fn(thumb)
    out = torch.zeros(1, 3, h, w, device=content.device, dtype=torch.float32)
    weight = torch.zeros(1, 1, h, w, device=content.device, dtype=torch.float32)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(boxes), desc=f"tiles ({tile} px, overlap {overlap})", leave=False)
    for box in boxes:
        y0, y1, x0, x1 = box
        with shared.replay():
            part = fn(content[..., y0:y1, x0:x1])
        if tuple(part.shape[-2:]) != (y1 - y0, x1 - x0):
            raise ValueError(f"fn returned {tuple(part.shape[-2:])} for a {y1 - y0}×{x1 - x0} tile: crop it to the input size")
        wgt = blend_window(box, h, w, overlap, margin, device=content.device)
        out[..., y0:y1, x0:x1] += part.to(out) * wgt  # device rule: tiles come back to the content's device
        weight[..., y0:y1, x0:x1] += wgt
        del part
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return out.div_(weight)


def tile_budget(device=None, budget_gb: float | None = None) -> tuple[int, str]:
    """``(bytes, where from)``: the memory budget of a tiled run for the whole process.

    ``min(G, allowed)`` with ``G`` = ``budget_gb`` (``--tile-budget``), else ``$STYLELAB_TILE_BUDGET``
    (GB), else :data:`stylelab.memory.TILE_BUDGET` (8 GB); ``allowed`` = what :func:`stylelab.available_memory.available_bytes` allows: on the
    CPU this process's resident memory now plus :data:`stylelab.memory.HEADROOM` of the available memory, on an
    accelerator :data:`stylelab.memory.HEADROOM` of its free memory.
    """
    source = "--tile-budget"
    if budget_gb is None:
        text = os.environ.get(memory.TILE_BUDGET_ENV, "").strip()
        if text:
            source = f"${memory.TILE_BUDGET_ENV}"
            try:
                budget_gb = float(text.upper().removesuffix("GB").strip())
            except ValueError:
                raise ValueError(f"${memory.TILE_BUDGET_ENV}={text!r}: expected a number of GB, e.g. 6 or 6.5") from None
        else:
            budget_gb, source = memory.TILE_BUDGET / 1e9, "default"
    if not (isinstance(budget_gb, (int, float)) and math.isfinite(budget_gb) and budget_gb > 0):
        raise ValueError(f"the tile budget ({source}) must be a positive, finite number of GB (e.g. 6 or 6.5), "
                         f"got {budget_gb}")
    wanted = int(budget_gb * 1e9)
    dev = D.get_device(device)
    allowed = int(memory.HEADROOM * available_memory.available_bytes(dev))
    if dev.type == "cpu":
        allowed += rss_bytes() or 0
    if allowed < wanted:
        return allowed, f"{budget_gb:g} GB ({source}) lowered to what is available"
    return wanted, f"{source}"


#: On a CPU ``--tile auto`` uses tiles of at most this side, even when larger ones fit the budget. Measured
#: at 4000×3000 on 2 quiet cores (BENCHMARKS.md, "12 MP against the convolution floor"): 1024 px tiles
#: process 1.21× the photo instead of 1.11–1.12×, yet run faster, because each layer's output is smaller
#: (fewer page faults, more of it in cache) and the peak is far lower — WCT² 146 → 119 s wall, peak
#: 5.97 → 2.92 GiB; AdaIN 86 → 81 s, 4.26 → 1.96 GiB (1536 and 2048 px tiles before). An accelerator
#: keeps the largest tile that fits: there, fewer and larger tiles fill the device better.
CPU_TILE_MAX = 1024


def choose_tile(method: str, h: int, w: int, *, budget: int, device=None, style_hw=None, thumbnail: int | None = 1024,
                candidates=(2048, 1536, 1024, 768, 512, 384, 256), **opts) -> tuple[int | None, int]:
    """``(tile, predicted bytes)``: the largest tile side whose whole-process estimate fits ``budget``
    (``tile`` ``None``: the whole image fits, no tiles); on the CPU (``device`` ``None`` or a CPU, the
    memory model's convention) no larger than :data:`CPU_TILE_MAX`.

    The estimate is :func:`stylelab.memory.estimate_tiled_bytes` (process, weights, the full-size
    buffers, the thumbnail's and one tile's activations, PhotoWCT's full-size smoothing: ``opts``
    ``smoothing=``); the whole image is that with one tile of the image's size and no thumbnail.
    Raises :class:`stylelab.memory.MemoryBudgetError` when not even the smallest tile fits, with what
    would make it fit (a smaller thumbnail, another smoothing, a smaller ``--size``, a larger budget).
    """
    def est(tile, **over):
        kw = {"style_hw": style_hw, "device": device, "thumbnail": thumbnail, **opts, **over}
        return memory.estimate_tiled_bytes(method, h, w, tile, **kw)

    whole = est((h, w), thumbnail=None)
    if whole <= budget:
        return None, whole
    if device is None or torch.device(device).type == "cpu":
        candidates = tuple(c for c in candidates if c <= CPU_TILE_MAX) or (min(candidates),)
    for t in candidates:
        if t < max(h, w) and est(t) <= budget:
            return t, est(t)
    t = min(candidates)
    need = est(t)
    if style_hw is not None:  # the content's tiles would fit: the style is the cause, name it
        style_fit = memory.largest_fitting_style(method, h, w, style_hw, budget, tile=t, device=device,
                                                 thumbnail=thumbnail, **opts)
        if style_fit is not None:
            raise _style_refusal(method, h, w, f"in {t} px tiles", style_hw, style_fit, need,
                                 f"{budget / 1e9:.3g} GB", budget)
    fixes = []
    if thumbnail and est(t, thumbnail=min(thumbnail, t)) <= budget:
        fixes.append(f"a smaller thumbnail: --thumbnail {min(thumbnail, t)}")
    if opts.get("smoothing") not in (None, "none"):
        for mode in ("gif", "none"):
            if est(t, smoothing=mode) <= budget:
                fixes.append(f"a lighter smoothing: --smooth {mode} ({method}'s smoothing runs at full size, "
                             f"{memory.format_bytes(need)} with --smooth {opts['smoothing']})")
                break
    fit = memory.largest_fitting_size(method, h, w, budget, tile=t, style_hw=style_hw, device=device,
                                      thumbnail=thumbnail, **opts)
    if fit is not None:
        fixes.append(f"a smaller image: --size {min(fit)} ({fit[1]}×{fit[0]} px)")
    fixes.append(f"a larger budget if the machine has it: --tile-budget GB or ${memory.TILE_BUDGET_ENV}")
    raise memory.MemoryBudgetError(
        f"{method} at {w}×{h} in tiles needs about {memory.format_bytes(need)} even with {t} px tiles "
        f"(whole process), over the budget of {budget / 1e9:.3g} GB. Use " + "; or ".join(fixes) + ".",
        needed=need, available=budget, method=method, size=(h, w), suggestion=fit)


def _style_refusal(method: str, h: int, w: int, how: str, style_hw, style_fit, need: int, budget_text: str,
                   budget: float) -> "memory.MemoryBudgetError":
    """The refusal of a tiled run whose content would fit but whose style does not: it names the style."""
    how = how if how.endswith("and") else how + " with"
    return memory.MemoryBudgetError(
        f"{method} at {w}×{h} {how} a {style_hw[1]}×{style_hw[0]} px style needs about "
        f"{memory.format_bytes(need)} (whole process), over the budget of {budget_text}. "
        + memory.style_advice(style_hw, style_fit),
        needed=need, available=budget, method=method, size=(h, w), suggestion=None, style_suggestion=style_fit)


def plan(opts: TileOptions, method: str, h: int, w: int, *, style_hw, device,
         **estimate_opts) -> tuple[int | None, int, str]:
    """``(tile, predicted bytes, budget text)`` of ``stylelab transfer --tile auto|N`` for an ``h × w`` content.

    The one plan of a tiled CLI run, made before any work (``stylelab transfer`` calls it before it
    loads an image) and again by :func:`from_cli`: ``--tile auto`` picks the tile (:func:`choose_tile`;
    ``None``: the whole image fits); a fixed ``--tile N`` is checked against the same budget
    (``--tile-budget``, ``$STYLELAB_TILE_BUDGET`` or 8 GB, lowered to what is available) and refused
    with a :class:`stylelab.memory.MemoryBudgetError` when its estimate is over it.
    """
    tile = opts.tile
    overlap = int(opts.overlap)
    thumb = opts.thumbnail or None
    budget, source = tile_budget(device, opts.budget_gb)
    est = {"style_hw": style_hw, "device": device, "thumbnail": thumb, **estimate_opts}
    of_budget = f"of budget {budget / 1e9:.3g} GB ({source})"
    if tile == "auto":
        tile, need = choose_tile(method, h, w, budget=budget, **est)
        return tile, need, of_budget
    tile = parse_tile(tile)
    if tile < 2 * overlap + 8 or tile % 8:  # tile_boxes' rule (align 8), in the options' names, before any work
        raise ValueError(f"--tile {tile} with --tile-overlap {overlap}: the tile side must be a multiple of 8 and at "
                         f"least 2·overlap + 8 = {2 * overlap + 8}; use --tile auto, a larger --tile or a smaller "
                         "--tile-overlap")
    need = memory.estimate_tiled_bytes(method, h, w, tile, **est)
    if need > budget:
        style_fit = None if style_hw is None else memory.largest_fitting_style(
            method, h, w, style_hw, budget, tile=tile, **{k: v for k, v in est.items() if k != "style_hw"})
        if style_fit is not None:
            raise _style_refusal(method, h, w, f"with --tile {tile} and", style_hw, style_fit, need,
                                 f"{budget / 1e9:.3g} GB ({source})", budget)
        raise memory.MemoryBudgetError(
            f"{method} at {w}×{h} with --tile {tile} needs about {memory.format_bytes(need)} (whole process), over "
            f"the budget of {budget / 1e9:.3g} GB ({source}). Use --tile auto (the largest tile that fits), a "
            "smaller --tile, or a larger --tile-budget GB if the machine has it.",
            needed=need, available=budget, method=method, size=(h, w), suggestion=None)
    return tile, need, of_budget


def parse_tile(text) -> int:
    """``--tile``'s value as a tile side in pixels (``'auto'`` is handled by :func:`plan`)."""
    try:
        tile = int(text)
    except (TypeError, ValueError):
        raise ValueError(f"--tile takes 'auto' or a tile side in pixels (e.g. 1024), got {text!r}") from None
    if tile < 1:
        raise ValueError(f"--tile takes 'auto' or a positive tile side in pixels (e.g. 1024), got {tile}")
    return tile


def from_cli(opts: TileOptions | None, method: str, fn: Callable[[torch.Tensor], torch.Tensor],
             content: torch.Tensor, style: torch.Tensor, **estimate_opts) -> torch.Tensor:
    """``stylelab transfer … [--tile auto|N]``: ``fn(content)`` whole (``opts`` ``None``), or tiled (:func:`stylize_tiled`).

    ``--tile auto`` picks the tile from the memory estimate and the budget (:func:`choose_tile`,
    :func:`tile_budget`: ``--tile-budget``, ``$STYLELAB_TILE_BUDGET``, 8 GB) and says what it chose
    and the predicted peak; ``--tile-overlap`` and ``--thumbnail`` are passed on. ``estimate_opts``:
    the method's estimate options (PhotoWCT: ``smoothing=``).
    """
    if opts is None:
        return fn(content)
    h, w = content.shape[-2:]
    overlap = int(opts.overlap)
    thumb = opts.thumbnail or None
    tile, need, of_budget = plan(opts, method, h, w, style_hw=tuple(style.shape[-2:]), device=content.device,
                                 **estimate_opts)
    if tile is None:
        print(f"--tile auto: no tiles, {w}×{h} fits whole: predicted peak {need / 2**30:.1f} GiB {of_budget}")
        return fn(content)
    boxes = tile_boxes(h, w, tile, overlap)
    print(f"--tile {opts.tile}: tiles of {tile} px, predicted peak {need / 2**30:.1f} GiB {of_budget}; "
          f"{len(boxes)} tiles, overlap {overlap} px, statistics from a "
          f"{'full-size' if not thumb or max(h, w) <= thumb else f'{thumb} px'} thumbnail")
    return stylize_tiled(fn, content, tile=tile, overlap=overlap, thumbnail=thumb)


def add_cli_arguments(parser) -> None:
    """``--tile``, ``--tile-overlap``, ``--thumbnail``, ``--tile-budget`` of ``stylelab transfer``."""
    parser.add_argument("--tile", default=None,
                        help=f"process in tiles with statistics shared over the whole image ({', '.join(registry.tiled())}): "
                             "'auto' (the largest tile whose predicted peak fits --tile-budget) or a tile side in "
                             "pixels, e.g. 1024")
    parser.add_argument("--tile-overlap", type=V.arg_int(0), default=64,
                        help="overlap of neighbouring tiles in px (default 64; 0: tiles abut, no blending)")
    parser.add_argument("--thumbnail", type=V.arg_int(0), default=1024,
                        help="long side of the thumbnail the statistics come from (default 1024; 0 = full size)")
    parser.add_argument("--tile-budget", type=V.arg_float(0, open_low=True), default=None, metavar="GB",
                        help=f"memory budget of --tile auto for the whole process, in GB (default "
                             f"${memory.TILE_BUDGET_ENV} if set, else {memory.TILE_BUDGET / 1e9:g}; lowered to what "
                             "the machine has available)")


# Submodules load on first use: stylelab.tiling.<module> works after `import stylelab` alone.
from .._lazy import lazy_submodules  # noqa: E402

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
