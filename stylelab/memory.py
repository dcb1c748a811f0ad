"""Memory: predicted before the work, not discovered by the allocator.

:func:`estimate_peak_bytes` predicts the peak memory of a method from the image
sizes alone (for a file, from its header: :func:`stylelab.io.image_size` reads no
pixels), :func:`stylelab.available_memory.available_bytes` says how much the device can give, and
:func:`check_fits` compares the two and raises :class:`MemoryBudgetError` —
with the figures and a size that fits, or the tiled path — before anything is
allocated. :func:`advice_for_oom` turns an out-of-memory raised during a run
into the same advice.

The model of the peak
---------------------
Feed-forward methods run under ``torch.no_grad``: activations are freed as
soon as the next layer has used them, and the peak is reached in one layer at
full resolution — in the decoders' last stage, where an upsampled 128-channel
map, its reflection-padded copy and the 64-channel output are alive at once
(≈ 320 floats per pixel, before the allocator's slack). Content and style are
encoded one after the other, so the peak is the larger of the two phases::

    peak ≈ weights + max(a_c · H·W, a_s · H'·W') · bytes(dtype) / 4

Optimisation methods (Gatys, DPST) keep every activation for the backward pass
and L-BFGS keeps ``2 · history`` copies of the image, so their per-pixel cost
is larger. The matting Laplacian with a window radius ``r`` holds
``(2r+1)⁴`` entries per window (the number that makes ``radius=30`` ask for
hundreds of GiB). Each method declares its model on its registration
(:class:`MemoryModel` in ``register(Method(..., memory=...))``, in
``stylelab/methods/<name>.py``); the smoothing's is below. The coefficients were measured on the CPU (peak
resident memory added, :class:`stylelab.metrics.PeakMemory`) with
``benchmarks/bench_memory.py``; BENCHMARKS.md lists estimate against
measurement and the factor (:data:`FACTOR`) the test holds them to. On CUDA the
caching allocator's peak is lower than the CPU's resident peak, so the
estimate errs on the safe side.
"""

from __future__ import annotations


import torch

from .available_memory import available_bytes
from ._memory_model import (
    FACTOR, HEADROOM, MemoryModel, PROCESS_BYTES, SMOOTH_AUTO_MAX_PIXELS, TILE_BUDGET, TILE_BUDGET_ENV,
    TILE_FULL_BPP, _model, _tiles, estimate_peak_bytes, estimate_tiled_bytes, format_bytes, known_methods,
)

__all__ = [
    "FACTOR", "HEADROOM", "MemoryModel", "known_methods", "SMOOTH_AUTO_MAX_PIXELS", "TILE_BUDGET",
    "TILE_BUDGET_ENV", "TILE_FULL_BPP", "PROCESS_BYTES", "format_bytes", "estimate_peak_bytes",
    "estimate_tiled_bytes", "MemoryBudgetError", "advice_for_oom", "check_fits", "decode_bytes",
    "is_out_of_memory", "largest_fitting_size", "largest_fitting_style", "style_advice",
]

class MemoryBudgetError(MemoryError):
    """A run would need more memory than the device has; the message gives the figures and what to do.

    Attributes: ``needed`` and ``available`` (bytes), ``method``, ``size``
    (``(H, W)``) and ``suggestion`` (a smaller ``(H, W)`` that fits, or ``None``);
    ``style_suggestion``: when the *style* is the cause (the content alone would fit), the
    largest style ``(H', W')`` with which the run fits, else ``None``.
    """

    def __init__(self, message: str, *, needed: int, available: int, method: str,
                 size: tuple[int, int], suggestion: tuple[int, int] | None,
                 style_suggestion: tuple[int, int] | None = None):
        super().__init__(message)
        self.needed, self.available, self.method = needed, available, method
        self.size, self.suggestion, self.style_suggestion = size, suggestion, style_suggestion


# ----------------------------------------------------------------------------- the check
def largest_fitting_size(method: str, height: int, width: int, budget: float, **kwargs) -> tuple[int, int] | None:
    """The largest ``(h, w)`` with the aspect of ``height × width`` whose estimate is within ``budget`` (None if none ≥ 16 px)."""
    lo, hi = 0.0, 1.0
    style_hw = kwargs.pop("style_hw", None)

    def fits(s):
        hh, ww = max(1, round(height * s)), max(1, round(width * s))
        shw = None if style_hw is None else (max(1, round(style_hw[0] * min(1.0, s))), max(1, round(style_hw[1] * min(1.0, s))))
        return estimate_peak_bytes(method, hh, ww, style_hw=shw, **kwargs) <= budget

    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    h, w = int(height * lo), int(width * lo)
    return (h, w) if min(h, w) >= 16 else None


def largest_fitting_style(method: str, height: int, width: int, style_hw: tuple[int, int], budget: float,
                          **kwargs) -> tuple[int, int] | None:
    """The largest style ``(H', W')``, ``style_hw``'s aspect and at most its size, with which ``method`` on a
    ``height × width`` content is estimated within ``budget`` (``kwargs``: :func:`estimate_peak_bytes`'s,
    e.g. ``tile=``, ``thumbnail=``).

    ``None`` when the run does not fit even with a style of 16 px (the content is the cause) or
    when the style is not the cause (it already fits at ``style_hw``)."""
    sh, sw = int(style_hw[0]), int(style_hw[1])

    def shw(s):
        return max(1, round(sh * s)), max(1, round(sw * s))

    def fits(s):
        return estimate_peak_bytes(method, height, width, style_hw=shw(s), **kwargs) <= budget

    if fits(1.0) or not fits(16 / max(1, min(sh, sw))):
        return None
    lo, hi = 16 / max(1, min(sh, sw)), 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return shw(lo)


def style_advice(style_hw: tuple[int, int], fit: tuple[int, int]) -> str:
    """The sentence of a refusal whose cause is the style: its size and the ``--style-size`` that fits."""
    return (f"The cause is the style at {style_hw[1]}×{style_hw[0]} px (with a smaller style the content fits). "
            f"Use a smaller style: --style-size {min(fit)} (library: load the style with size={min(fit)}) gives "
            f"{fit[1]}×{fit[0]} px, which fits.")


def _advice(method: str, size: tuple[int, int], needed: int, available: int, budget: float,
            suggestion: tuple[int, int] | None, what: str) -> str:
    m = _model(method)
    label = m.label if m is not None else method
    h, w = size
    text = (f"{label} at {w}×{h} px {what} about {format_bytes(needed)}, but {format_bytes(available)} is available "
            f"(planning uses {HEADROOM:.0%} of it).")
    fixes = []
    if suggestion is not None:
        sh, sw = suggestion
        fixes.append(f"Use a smaller image: --size {min(sh, sw)} (library: size={min(sh, sw)}) gives {sw}×{sh} px, which fits.")
    if _tiles(method):  # declared on the method's registration, as --tile's acceptance
        fixes.append("Or process it in tiles: --tile auto.")
    if not fixes:
        fixes.append("Free memory, or use a machine with more.")
    return " ".join([text, *fixes])


def check_fits(method: str, height: int, width: int, *, style_hw=None, tile=None, device=None,
               available: int | None = None, **opts) -> int:
    """Raise :class:`MemoryBudgetError` unless ``method`` at ``height × width`` fits on ``device``.

    The run is planned to use at most :data:`HEADROOM` of :func:`available_bytes`
    (or of ``available`` when given). Returns the estimate (bytes) when it fits.
    """
    needed = estimate_peak_bytes(method, height, width, style_hw=style_hw, tile=tile, device=device, **opts)
    avail = available_bytes(device) if available is None else int(available)
    budget = HEADROOM * avail
    if needed <= budget:
        return needed
    style_fit = None if style_hw is None else largest_fitting_style(
        method, height, width, style_hw, budget, tile=tile, device=device, **opts)
    if style_fit is not None:  # the content alone fits: name the style, not the content's --size
        m = _model(method)
        label = m.label if m is not None else method
        raise MemoryBudgetError(
            f"{label} at {int(width)}×{int(height)} px with a {style_hw[1]}×{style_hw[0]} px style would need about "
            f"{format_bytes(needed)}, but {format_bytes(avail)} is available (planning uses {HEADROOM:.0%} of it). "
            + style_advice(style_hw, style_fit),
            needed=needed, available=avail, method=method, size=(int(height), int(width)), suggestion=None,
            style_suggestion=style_fit)
    suggestion = None if tile is not None else largest_fitting_size(
        method, height, width, budget, style_hw=style_hw, device=device, **opts)
    raise MemoryBudgetError(
        _advice(method, (int(height), int(width)), needed, avail, budget, suggestion, "would need"),
        needed=needed, available=avail, method=method, size=(int(height), int(width)), suggestion=suggestion)


def is_out_of_memory(err: BaseException) -> bool:
    """True for the allocator's out-of-memory errors (CUDA, MPS, CPU), whatever their class."""
    if isinstance(err, (MemoryError, getattr(torch, "OutOfMemoryError", MemoryError))):
        return True
    text = str(err).lower()
    return isinstance(err, RuntimeError) and ("out of memory" in text or "not enough memory" in text
                                              or "failed to allocate" in text or "can't allocate memory" in text)


def advice_for_oom(err: BaseException, method: str, height: int, width: int, *, style_hw=None,
                   device=None, **opts) -> MemoryBudgetError:
    """The :class:`MemoryBudgetError` to raise (``from err``) when ``err`` is an out-of-memory of a run."""
    if isinstance(err, MemoryBudgetError):
        return err
    try:
        needed = estimate_peak_bytes(method, height, width, style_hw=style_hw, device=device, **opts)
    except ValueError:
        needed = 0
    avail = available_bytes(device)
    budget = HEADROOM * avail
    suggestion = largest_fitting_size(method, height, width, min(budget, 0.5 * max(needed, 1)),
                                      style_hw=style_hw, device=device, **opts) if method in known_methods() else None
    msg = _advice(method, (int(height), int(width)), needed, avail, budget, suggestion, "ran out of memory; it needs")
    return MemoryBudgetError(msg, needed=needed, available=avail, method=method,
                             size=(int(height), int(width)), suggestion=suggestion)


# ----------------------------------------------------------------------------- files
def decode_bytes(height: int, width: int, bands: int = 4, bytes_per_band: int = 1) -> int:
    """Bytes PIL needs to hold a decoded ``height × width`` image (``bands`` × ``bytes_per_band`` per pixel).

    The size itself comes from the file's header: :func:`stylelab.io.image_size`.
    """
    return int(height) * int(width) * int(bands) * int(bytes_per_band)
