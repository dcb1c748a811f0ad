"""The memory model: each method's peak memory predicted from the image sizes alone (its
`MemoryModel` from its registration; the smoothing solvers and the tiled runs measured here), the
constants the estimates and the tile budget use, byte formatting.

Private: every name here is imported from :mod:`stylelab.memory`, its one public path (where the
estimates are checked against the memory available).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import methods as registry

__all__ = [
    "FACTOR", "HEADROOM", "MemoryModel", "known_methods", "SMOOTH_AUTO_MAX_PIXELS", "TILE_BUDGET",
    "TILE_BUDGET_ENV", "TILE_FULL_BPP", "PROCESS_BYTES", "format_bytes", "estimate_peak_bytes",
    "estimate_tiled_bytes",
]


#: The estimate is within this factor of the measured peak (either way) for every
#: method and size of ``benchmarks/bench_memory.py``; ``tests/test_memory.py`` checks it.
FACTOR = 1.5

#: Share of the available memory a run may plan to use (the rest: Python, the
#: caller's own tensors, fragmentation).
HEADROOM = 0.8


@dataclass(frozen=True)
class MemoryModel:
    """A method's peak-memory model, declared on its registration (``register(Method(..., memory=...))``).

    ``peak ≈ weights + max(content_bpp · H·W, style_bpp · H'·W') · bytes(dtype) / 4`` (bytes per pixel in
    float32), calibrated on the CPU with ``benchmarks/bench_memory.py`` (see the module docstring).

    Attributes:
        weights: bytes of the weights and the fixed part.
        content_bpp, style_bpp: bytes per content / style pixel (float32).
        label: the method's name in messages (``"WCT²"``).
        lbfgs_history: optimisation methods: the default L-BFGS history; its ``2 · min(history, steps)``
            flat copies of the image are added per content pixel (``history_size``/``steps`` options).
        smooths: the method may smooth its result at full size afterwards (PhotoWCT's ``smoothing``
            option): the estimate is the larger of the network pass and the smoothing solve.
    """

    weights: float
    content_bpp: float
    style_bpp: float
    label: str
    lbfgs_history: int | None = None
    smooths: bool = False


def _model(method: str) -> MemoryModel | None:
    """The registered memory model of ``method`` (``None``: an unknown method or one without a model)."""
    found = registry.registry().get(method)
    return None if found is None else found.memory


def known_methods() -> tuple[str, ...]:
    """Every method :func:`estimate_peak_bytes` knows: the registered methods with a memory model, and ``"smooth"``."""
    return tuple(name for name, m in registry.registry().items() if m.memory is not None) + ("smooth",)


def _tiles(method: str) -> bool:
    found = registry.registry().get(method)
    return bool(found is not None and found.tiles)

#: Per-pixel bytes of the smoothing solvers in float64 (the dtype ``smooth`` is used with).
_SMOOTH_BPP = {"gif": 700.0, "cg": 1200.0}
#: The multigrid smoother (``mode="mg"``, float64 CG, float32 cycle), bytes per pixel: peak resident memory
#: added, measured as ``benchmarks/bench_memory.py --only smooth:mg`` does (BENCHMARKS.md). Up to 4 MP the three
#: channels are solved as one batch with a float32 copy of the stencil: 1.26–1.31, 0.98, 0.93 kB/px at 512²,
#: 1024², 1536² (2026-12-01 afternoon; 1.14–1.39 kB/px before the block CG). Above 4 MP
#: (``solve_multigrid(memory_first=True)``: the stencil's upper half in float32 as its only copy, the block
#: inverses by their upper triangles, one channel at a time): 473 B/px at 2048² and 429 B/px at 4000×3000
#: (peak resident memory added over the float64 inputs, 1 thread, 2026-12-01 14:00 UTC; 0.52 kB/px at 12 MP
#: before those three changes, 0.70 at 2560² before the Galerkin product by block rows).
_SMOOTH_MG_BPP = {"batch": 1000.0, "per channel": 450.0}
#: ``smooth(mode="auto")`` on CPU: the fastest exact solver by image size (pixels), measured side by side by
#: benchmarks/bench_smoothing.py: the direct solve up to 32², ILU-CG up to 192² (the multigrid's set-up costs
#: more below that), the multigrid above. Defined here, where the estimate needs it; stylelab.smoothing uses it.
SMOOTH_AUTO_MAX_PIXELS = {"direct": 32 * 32, "ilu": 192 * 192}


#: What every smoothing run adds before its first pixel (SciPy's sparse modules, work buffers).
_SMOOTH_FIXED = 40e6
#: Bytes per window entry while the sparse Laplacian is assembled (the (2r+1)⁴ values per
#: window, their indices and the summed CSR copy), and the factor's bytes per nonzero of L
#: (SuperLU's fill-in for "direct"; spilu's float32 factor with its drop tolerance for "ilu").
_LAPLACIAN_BYTES_PER_ENTRY = 36.0
_LU_BYTES_PER_NNZ = {"direct": 240.0, "ilu": 8.0}

#: Memory budget of a tiled run (``stylelab transfer --tile auto``), bytes for the whole process: 8 GB,
#: a laptop (issue 16). Lowered by what :func:`available_bytes` allows (:func:`tile_budget`); overridden
#: by ``--tile-budget GB`` or the environment variable :data:`TILE_BUDGET_ENV`.
TILE_BUDGET = 8e9
TILE_BUDGET_ENV = "STYLELAB_TILE_BUDGET"
#: Full-size float32 buffers of a tiled run, bytes per output pixel, alive while the tiles run and
#: while the result is written: the content (3 × 4), the blend accumulators of
#: :func:`stylelab.tiling.stylize_tiled` (colour 3 × 4 + weight 4) and two copies of the result (the
#: final clamp and the conversion for saving, 3 × 4 each): 52 B/px, 0.62 GB at 4000×3000.
TILE_FULL_BPP = 12 + 16 + 24
#: PhotoWCT's smoothing after the tiles runs at full size on float64 copies of the stylised image and
#: of the guide (2 × 3 × 8 B/px), made before the solver starts (the smoothing figures exclude them).
_SMOOTH_INPUT_BPP = 48
#: The process before any image: Python, torch and stylelab imported (measured 718 MiB resident on
#: the CPU build here, mostly torch's shared libraries). Counted in the whole-process tile estimate.
PROCESS_BYTES = 750e6


def format_bytes(n: float) -> str:
    """``1536`` → ``'1.5 KiB'``; binary units, as ``free -h`` and ``nvidia-smi``."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def _dtype_bytes(dtype) -> int:
    if dtype is None:
        return 4
    return torch.empty((), dtype=dtype).element_size() if isinstance(dtype, torch.dtype) else int(dtype)


def _pixels(h, w, tile) -> int:
    if tile is None:
        return int(h) * int(w)
    t = (tile, tile) if isinstance(tile, int) else tuple(tile)
    return min(int(h), int(t[0])) * min(int(w), int(t[1]))


def estimate_peak_bytes(method: str, height: int, width: int, *, style_hw: tuple[int, int] | None = None,
                        tile: int | tuple[int, int] | None = None, device=None, dtype=None, **opts) -> int:
    """Predicted peak memory (bytes) of one run of ``method`` at ``height × width``.

    Args:
        method: one of :func:`known_methods` (a registered method with a memory model, or
            ``"smooth"`` for :func:`stylelab.smoothing.smooth`).
        height, width: the content (output) size in pixels.
        style_hw: the style image's ``(H', W')`` (default: the content's size).
        tile: the tile side (or ``(h, w)``) of a tiled run: the whole process
            (:func:`estimate_tiled_bytes`; ``thumbnail`` in ``opts``); ``None``
            for a whole-image run (activations and weights only).
        device: accepted for symmetry with :func:`check_fits`; the model is the
            same on every device (see the module docstring).
        dtype: the compute dtype (``torch.float64`` doubles the activations);
            default float32, and float64 for ``"smooth"``.
        opts: ``"smooth"``: ``mode`` (``"auto"``, ``"direct"``, ``"ilu"``,
            ``"cg"``, ``"mg"``, ``"gif"``, ``"official"``) and ``radius`` (matting window
            radius, default 1); ``"photowct"``: ``smoothing`` (a smooth mode or
            ``None``); ``"gatys"``/``"dpst"``: ``history_size`` (L-BFGS, default
            100 / 50) and ``steps`` (iterations; the history fills one entry per step).

    Returns:
        The estimate in bytes (an int); see :data:`FACTOR` for its accuracy.
    """
    method = method.lower()
    h, w = int(height), int(width)
    if h <= 0 or width <= 0:
        raise ValueError(f"height and width must be positive, got {height}×{width}")
    sh, sw = (h, w) if style_hw is None else (int(style_hw[0]), int(style_hw[1]))
    if method == "smooth":
        return _smooth_bytes(h, w, dtype=dtype, **opts)
    m = _model(method)
    if m is None:
        raise ValueError(f"unknown method {method!r}; estimate_peak_bytes knows {', '.join(known_methods())}")
    if tile is not None:
        return estimate_tiled_bytes(method, h, w, tile, style_hw=(sh, sw), device=device, dtype=dtype, **opts)
    scale = _dtype_bytes(dtype) / 4
    content_bpp = m.content_bpp
    if m.lbfgs_history is not None:
        # L-BFGS keeps 2 · history_size flat copies of the image (3 values per pixel),
        # filled one per step: min(history, steps).
        hist = int(opts.get("history_size", m.lbfgs_history))
        steps = opts.get("steps")
        steps = sum(steps) if isinstance(steps, (tuple, list)) else steps
        content_bpp += 2 * min(hist, int(steps) if steps is not None else hist) * 3 * 4
    acts = max(content_bpp * h * w, m.style_bpp * sh * sw) * scale
    total = m.weights + acts
    if m.smooths and opts.get("smoothing") not in (None, "none"):
        total = max(total, m.weights + _smooth_bytes(h, w, mode=opts["smoothing"], device=device))
    return int(total)


def estimate_tiled_bytes(method: str, height: int, width: int, tile: int | tuple[int, int], *,
                         thumbnail: int | None = 1024, style_hw: tuple[int, int] | None = None,
                         smoothing: str | None = None, device=None, dtype=None, **_) -> int:
    """Predicted peak of the whole process for a tiled run (:func:`stylelab.tiling.stylize_tiled`)::

        peak ≈ process + weights + 52 B/px · H·W                   (full-size buffers, TILE_FULL_BPP)
               + max(a_c · max(tile px, thumbnail px), a_s · H'·W') (one network pass at a time)

    The network runs once on the thumbnail (long side ``thumbnail``; ``None`` = the whole image,
    so tiles then save nothing) and then once per tile, so the larger of the two sets the
    activations. PhotoWCT with ``smoothing`` (a :func:`stylelab.smoothing.smooth` mode) then smooths
    at full size: ``process + weights + (12 + 48) B/px · H·W + smooth(H, W)`` when that is larger
    (the smoothing does not tile; the tile buffers are gone by then, the float32 content and the
    float64 copies of the result and the guide are left). ``tile``: a side or ``(h, w)``; ``style_hw``: the style's size.
    """
    m = _model(method.lower())
    if m is None:
        raise ValueError(f"unknown method {method!r}; estimate_tiled_bytes knows {', '.join(known_methods()[:-1])}")
    h, w = int(height), int(width)
    sh, sw = (h, w) if style_hw is None else (int(style_hw[0]), int(style_hw[1]))
    if thumbnail and max(h, w) > int(thumbnail):
        s = int(thumbnail) / max(h, w)
        thumb_px = max(1, round(h * s)) * max(1, round(w * s))
    else:
        thumb_px = h * w
    scale = _dtype_bytes(dtype) / 4
    acts = max(m.content_bpp * max(_pixels(h, w, tile), thumb_px), m.style_bpp * sh * sw) * scale
    cpu = device is None or torch.device(device).type == "cpu"
    base = (PROCESS_BYTES if cpu else 0) + m.weights + TILE_FULL_BPP * h * w
    total = base + acts
    if m.smooths and smoothing not in (None, "none"):  # after the tiles: only the content is left
        total = max(total, base - (TILE_FULL_BPP - 12) * h * w + _SMOOTH_INPUT_BPP * h * w
                    + _smooth_bytes(h, w, mode=smoothing, device=device))
    return int(total)


def _smooth_bytes(h: int, w: int, *, mode: str = "auto", radius: int = 1, dtype=None, device=None, **_) -> int:
    n = h * w
    scale = _dtype_bytes(dtype if dtype is not None else torch.float64) / 8
    if mode == "gif":
        return int(_SMOOTH_FIXED + _SMOOTH_BPP["gif"] * n * scale)
    if mode == "auto" or mode == "official":  # the solver smooth's "auto" picks (stylelab.smoothing docstring)
        kind = "cpu" if device is None else torch.device(device).type
        if kind == "cpu":
            mode = next((k for k, top in SMOOTH_AUTO_MAX_PIXELS.items() if n <= top), "mg")
        else:
            mode = "mg" if kind == "cuda" and mode == "auto" else "cg"
    m = (2 * int(radius) + 1) ** 2
    windows = max(1, h - 2 * int(radius)) * max(1, w - 2 * int(radius))
    if mode == "mg":  # O(N): stencil(s), block inverses, coarse levels, CG vectors (measured, radius 1)
        bpp = _SMOOTH_MG_BPP["batch" if n <= 4_000_000 else "per channel"] + 8 * ((4 * int(radius) + 1) ** 2 - 25)
        return int(_SMOOTH_FIXED + bpp * n * scale)
    if mode == "cg":  # matrix-free: the window covariances and a few CG vectors
        return int(_SMOOTH_FIXED + (_SMOOTH_BPP["cg"] + 8 * 3 * 3 * m) * n * scale)
    entries = windows * m * m  # the assembled Laplacian before duplicates are summed
    nnz = n * (4 * int(radius) + 1) ** 2  # after summing: pixels within 2r of each other
    return int(_SMOOTH_FIXED + _LAPLACIAN_BYTES_PER_ENTRY * entries + _LU_BYTES_PER_NNZ.get(mode, 240.0) * nnz)
