"""Measuring style transfer: time and memory of a call.

:func:`measure` times a call with device synchronisation and records its peak
memory (:class:`PeakMemory`). The two numbers of the WCT² paper's evaluation
(Yoo et al., ICCV 2019) — :func:`~stylelab.features.evaluation.ssim` (structure kept) and
:func:`~stylelab.features.evaluation.style_distance` (style taken) — are in :mod:`stylelab.features.evaluation`.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from .device import synchronize

__all__ = [
    "Measurement", "PeakMemory", "measure", "rss_bytes",
]

# ============================================================================ time and memory
def rss_bytes() -> int | None:
    """Current resident set size of this process in bytes (Linux ``/proc/self/statm``), else None."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _release_free_heap() -> None:
    """Return freed heap memory to the OS (glibc ``malloc_trim``) so the RSS baseline is not inflated; no-op elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _maxrss_bytes() -> int:
    """The process's all-time peak RSS (``getrusage``): KiB on Linux, bytes on macOS."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def _high_water_mark_bytes() -> int | None:
    """Peak resident set size of this process's memory map (``VmHWM``, Linux), or None."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _reset_high_water_mark() -> bool:
    """Reset ``VmHWM`` to the current RSS (``/proc/self/clear_refs``); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class PeakMemory:
    """Context manager recording the peak memory a block of code adds on a device.

    * CUDA: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``,
      minus the memory allocated on entry — exact for tensors from PyTorch's
      caching allocator (not cuDNN workspaces outside it, not the CUDA context).
    * CPU on Linux: a background thread samples the resident set size from
      ``/proc/self/statm`` every ``interval`` seconds; the result is the
      highest sample minus the RSS on entry. Torch's CPU allocations are
      invisible to ``tracemalloc``, hence RSS. Limits: a spike shorter than the
      interval can be missed, memory freed by Python but kept by the allocator
      counts as "still used" for later calls (mitigated: freed heap memory is
      returned to the OS with glibc's ``malloc_trim`` before the baseline is
      read), and everything else the process does meanwhile counts too.
      The kernel's high-water mark of the resident set (``VmHWM`` in
      ``/proc/self/status``) backs the sampler up: it is reset on entry
      (writing ``5`` to ``/proc/self/clear_refs``, Linux ≥ 4.0), so on exit it
      is the true peak inside the block, including spikes the sampler misses
      on a busy machine (its thread may not run for tens of milliseconds).
      Where the reset is refused, the mark is used only if it rose inside the
      block. (Not ``getrusage().ru_maxrss``: a process started by
      ``subprocess`` inherits its parent's mark through ``exec``, so in a child
      of a large process it never moves.) A nested ``PeakMemory`` resets the
      mark too, so an enclosing one keeps only its sampled peak from before.
    * CPU elsewhere (macOS, Windows): the increase of ``getrusage().ru_maxrss``
      (bytes on macOS, KiB on Linux — converted). It only moves when the
      process exceeds its all-time peak, so it under-reports after a bigger
      earlier call; ``method`` says ``"ru_maxrss"`` so tables can flag it.
    * MPS: samples ``torch.mps.current_allocated_memory()``.

    Attributes after the block: ``peak_bytes`` (int or None), ``method`` (str).
    """

    def __init__(self, device: torch.device | str | None = None, interval: float = 0.002):
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.interval = interval
        self.peak_bytes: int | None = None
        self.method = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._base = 0
        self._max = 0
        self._hwm_reset = False
        self._hwm_on_entry = 0

    def _sample(self, read: Callable[[], int | None]) -> None:
        while not self._stop.is_set():
            value = read()
            if value is not None and value > self._max:
                self._max = value
            self._stop.wait(self.interval)

    def _start_sampler(self, read: Callable[[], int | None]) -> None:
        self._base = read() or 0
        self._max = self._base
        self._thread = threading.Thread(target=self._sample, args=(read,), daemon=True)
        self._thread.start()

    def __enter__(self) -> "PeakMemory":
        kind = self.device.type
        if kind == "cuda":
            synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
            self.method = "cuda.max_memory_allocated"
        elif kind == "mps":
            self.method = "mps.current_allocated_memory (sampled)"
            self._start_sampler(lambda: int(torch.mps.current_allocated_memory()))
        elif rss_bytes() is not None:
            import gc

            gc.collect()
            _release_free_heap()
            self._hwm_reset = _reset_high_water_mark()
            self._hwm_on_entry = _high_water_mark_bytes() or 0
            self.method = "RSS sampled from /proc/self/statm, with VmHWM" + ("" if self._hwm_reset else " (not reset)")
            self._start_sampler(rss_bytes)
        else:
            self.method = "ru_maxrss"
            self._base = _maxrss_bytes()
        return self

    def __exit__(self, *exc) -> None:
        kind = self.device.type
        if kind == "cuda":
            synchronize(self.device)
            self.peak_bytes = int(torch.cuda.max_memory_allocated(self.device) - self._base)
            return
        if self._thread is not None:
            if kind == "mps":
                synchronize(self.device)
            self._stop.set()
            self._thread.join()
            read = rss_bytes if kind != "mps" else (lambda: int(torch.mps.current_allocated_memory()))
            last = read()
            self._max = max(self._max, last or 0)
            if kind != "mps":
                high_water = _high_water_mark_bytes() or 0
                if self._hwm_reset or high_water > self._hwm_on_entry:  # the mark was set inside the block
                    self._max = max(self._max, high_water)
            self.peak_bytes = max(0, int(self._max - self._base))
        else:
            self.peak_bytes = max(0, _maxrss_bytes() - self._base)


@dataclass
class Measurement:
    """The result of :func:`measure`: median wall-clock seconds, every repeat, peak memory."""

    seconds: float
    times: list[float]
    peak_bytes: int | None
    memory_method: str
    device: str
    result: Any = field(default=None, repr=False)

    @property
    def peak_mib(self) -> float | None:
        return None if self.peak_bytes is None else self.peak_bytes / 2**20


def measure(
    fn: Callable[..., Any],
    *args,
    device: torch.device | str | None = None,
    repeat: int = 1,
    warmup: int = 0,
    keep_result: bool = True,
    **kwargs,
) -> Measurement:
    """Call ``fn(*args, **kwargs)`` and return its wall-clock time and peak memory.

    The clock starts after synchronising ``device`` and stops after
    synchronising it again (:func:`stylelab.device.synchronize`), so queued
    GPU kernels are counted. ``warmup`` untimed calls come first (cuDNN
    autotuning, lazy initialisation); ``seconds`` is the median of ``repeat``
    timed calls. Peak memory (see :class:`PeakMemory`) is taken over the timed
    calls. ``device`` defaults to the device of the first tensor argument.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    if device is None:
        device = next((a.device for a in list(args) + list(kwargs.values()) if isinstance(a, torch.Tensor)), "cpu")
    device = torch.device(device)
    for _ in range(warmup):
        fn(*args, **kwargs)
    times: list[float] = []
    result = None
    with PeakMemory(device) as mem:
        for _ in range(repeat):
            synchronize(device)
            t0 = time.perf_counter()
            result = fn(*args, **kwargs)
            synchronize(device)
            times.append(time.perf_counter() - t0)
    ordered = sorted(times)
    median = ordered[len(ordered) // 2] if len(ordered) % 2 else 0.5 * (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2])
    return Measurement(median, times, mem.peak_bytes, mem.method, str(device), result if keep_result else None)
