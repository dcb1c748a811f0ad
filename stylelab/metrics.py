"""Measuring style transfer: structure kept (SSIM), style taken (Gram distance), time and memory.

The WCT² paper (Yoo et al., ICCV 2019) compares photorealistic methods on two
axes: the SSIM between the *content* image and the output (higher = more of the
content's structure survived) and the Gram style loss between the *style* image
and the output (lower = more of the style was taken). :func:`ssim` and
:func:`style_distance` compute those two numbers; :func:`measure` times a call
with device synchronisation and records its peak memory.

Everything here runs on the device and dtype of its inputs (CUDA, MPS, CPU). On
MPS use float32: MPS has no float64.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Sequence

import torch
import torch.nn.functional as F

from .device import follow, synchronize
from .stats import gram

__all__ = [
    "ssim", "ssim_map", "gaussian_window", "gram_distance", "style_distance", "DEFAULT_STYLE_LAYERS",
    "Measurement", "PeakMemory", "measure", "rss_bytes",
]

#: The style layers of Gatys et al. (2016) and of the WCT² evaluation.
DEFAULT_STYLE_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

# ============================================================================ SSIM
K1, K2 = 0.01, 0.03


def gaussian_window(sigma: float = 1.5, truncate: float = 3.5, dtype=torch.float64, device=None) -> torch.Tensor:
    """The 1-D Gaussian taps ``g[k] ∝ exp(-k²/(2σ²))``, ``|k| ≤ r = int(truncate·σ + 0.5)``, summing to 1.

    With σ = 1.5 this is the 11-tap window of Wang et al. (2004), and the same
    radius rule as ``scipy.ndimage.gaussian_filter`` (which scikit-image uses).
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    r = int(truncate * sigma + 0.5)
    k = torch.arange(-r, r + 1, dtype=dtype, device=device)
    g = torch.exp(-0.5 * (k / sigma) ** 2)
    return g / g.sum()


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> None:
    if not (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise TypeError(f"ssim takes two tensors, got {type(x).__name__} and {type(y).__name__}")
    if x.dim() != 4 or y.dim() != 4:
        raise ValueError(
            f"ssim expects images of shape (B, C, H, W), got {tuple(x.shape)} and {tuple(y.shape)}; "
            "add a batch dimension with x[None]."
        )
    if x.shape != y.shape:
        raise ValueError(
            f"ssim compares images of the same shape, got {tuple(x.shape)} and {tuple(y.shape)}. "
            "Resize one to the other first, e.g. stylelab.io.resize(output, content.shape[-2:])."
        )


def ssim_map(
    x: torch.Tensor,
    y: torch.Tensor,
    window: Literal["gaussian", "uniform"] = "gaussian",
    sigma: float = 1.5,
    win_size: int | None = None,
    data_range: float = 1.0,
    sample_covariance: bool | None = None,
) -> torch.Tensor:
    """The local SSIM map of Wang et al. (2004), valid region only.

    For local means μ, variances σ² and covariance σ_xy taken under a window w,

        SSIM = (2 μ_x μ_y + C1)(2 σ_xy + C2) / ((μ_x² + μ_y² + C1)(σ_x² + σ_y² + C2)),

    with C1 = (0.01 L)², C2 = (0.03 L)² and L = ``data_range``.

    Args:
        x, y: ``(B, C, H, W)`` images of the same shape (any real dtype; use
            float64 for comparisons at 1e-6).
        window: ``"gaussian"`` (σ = ``sigma``, 11×11 for σ = 1.5, as Wang et
            al. 2004) or ``"uniform"`` (``win_size``×``win_size`` box, default
            7, scikit-image's default).
        sample_covariance: scale variances by N/(N−1) with N = win_size²
            (scikit-image's default for the uniform window). Default: False for
            the Gaussian window (population covariance, as the paper), True for
            the uniform window (as ``skimage.metrics.structural_similarity``).

    Returns:
        ``(B, C, H − 2p, W − 2p)`` map with p = (win_size − 1)//2: only positions
        whose whole window lies inside the image, which is exactly the region
        scikit-image averages (so the padding mode never matters).
    """
    _check_pair(x, y)
    y = follow(x, y)  # device rule: the second image follows the first
    if window == "gaussian":
        g = gaussian_window(sigma, dtype=x.dtype, device=x.device)
        n = g.numel()
        if win_size is not None and win_size != n:
            raise ValueError(f"the Gaussian window with sigma={sigma} has {n} taps; leave win_size=None")
        cov_norm_default = False
    elif window == "uniform":
        n = 7 if win_size is None else int(win_size)
        if n < 1 or n % 2 == 0:
            raise ValueError(f"win_size must be a positive odd integer, got {win_size}")
        g = torch.full((n,), 1.0 / n, dtype=x.dtype, device=x.device)
        cov_norm_default = True
    else:
        raise ValueError(f"window must be 'gaussian' or 'uniform', got {window!r}")
    h, w = x.shape[-2:]
    if h < n or w < n:
        raise ValueError(
            f"the images ({h}×{w}) are smaller than the {n}×{n} SSIM window; use larger images "
            "or a smaller uniform window (window='uniform', win_size=3)."
        )
    use_sample = cov_norm_default if sample_covariance is None else sample_covariance
    cov_norm = (n * n) / (n * n - 1) if use_sample else 1.0
    c = x.shape[1]

    def blur(t: torch.Tensor) -> torch.Tensor:
        # separable filter, one group per channel, "valid" region only
        t = F.conv2d(t, g.view(1, 1, n, 1).expand(c, 1, n, 1), groups=c)
        return F.conv2d(t, g.view(1, 1, 1, n).expand(c, 1, 1, n), groups=c)

    y = y.to(x.dtype)
    mx, my = blur(x), blur(y)
    vx = cov_norm * (blur(x * x) - mx * mx)
    vy = cov_norm * (blur(y * y) - my * my)
    vxy = cov_norm * (blur(x * y) - mx * my)
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    return ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))


def ssim(
    x: torch.Tensor,
    y: torch.Tensor,
    window: Literal["gaussian", "uniform"] = "gaussian",
    sigma: float = 1.5,
    win_size: int | None = None,
    data_range: float = 1.0,
    sample_covariance: bool | None = None,
) -> torch.Tensor:
    """Mean structural similarity per image, averaged over channels: ``(B, C, H, W)`` ×2 → ``(B,)``.

    Wang, Bovik, Sheikh & Simoncelli, "Image quality assessment: from error
    visibility to structural similarity", IEEE TIP 2004. The mean is taken over
    the valid region of :func:`ssim_map` and over channels, which equals
    ``skimage.metrics.structural_similarity(x, y, channel_axis=-1,
    data_range=1.0, gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False)`` for ``window="gaussian"`` and the
    scikit-image defaults (7×7 box, sample covariance) for ``window="uniform"``.

    1 means identical; values fall as structure differs (range [−1, 1]).
    Differentiable. In the WCT² comparison, ``ssim(content, output)`` measures
    how much of the content's structure a method keeps.
    """
    return ssim_map(x, y, window, sigma, win_size, data_range, sample_covariance).mean(dim=(1, 2, 3))


# ============================================================================ Gram distance
def gram_distance(output_feat: torch.Tensor, style_feat: torch.Tensor) -> torch.Tensor:
    """Gram style distance per image (Gatys et al.'s layer loss E_l): ``(B,)``.

        d(F, S) = ‖G(F) − G(S)‖²_F / (4 C²),   G(F) = F Fᵀ / (H·W)

    for ``(B, C, H, W)`` features (output and style may have different H×W).
    When both have M positions this is E_l = ‖F Fᵀ − S Sᵀ‖²_F / (4 C² M²) of
    Gatys, Ecker & Bethge (CVPR 2016, eq. 4), i.e. the ``"paper"`` convention
    of :func:`stylelab.losses.gram_loss`, and it equals the biased MMD² with
    kernel (xᵀy)² divided by 4C² (Li et al., IJCAI 2017). The WCT² paper's
    evaluation reports this loss between the style image and the output.
    A style of batch 1 is broadcast over the output batch.
    """
    if output_feat.dim() != 4 or style_feat.dim() != 4:
        raise ValueError(
            f"gram_distance expects (B, C, H, W) features, got {tuple(output_feat.shape)} and {tuple(style_feat.shape)}"
        )
    if output_feat.shape[1] != style_feat.shape[1]:
        raise ValueError(
            f"the features have {output_feat.shape[1]} and {style_feat.shape[1]} channels; "
            "compare features of the same layer."
        )
    diff = gram(output_feat) - gram(follow(output_feat, style_feat))
    return diff.pow(2).sum(dim=(1, 2)) / (4 * output_feat.shape[1] ** 2)


def style_distance(
    output: torch.Tensor,
    style: torch.Tensor,
    encoder: Callable | None = None,
    layers: Sequence[str] = DEFAULT_STYLE_LAYERS,
    weights: Sequence[float] | None = None,
) -> torch.Tensor:
    """Gram style distance between ``style`` and ``output`` images, per image: ``(B,)``.

        D = Σ_l w_l · gram_distance(φ_l(output), φ_l(style))

    Args:
        output, style: ``(B, 3, H, W)`` and ``(1 or B, 3, H', W')`` RGB in [0, 1].
        encoder: a VGG encoder returning a dict of named features
            (:func:`stylelab.encoders.vgg19`), or ``None`` to compare the
            *pixels* (the 3×3 colour Gram matrix: meaningful without
            pretrained weights, but blind to texture).
        layers: encoder layers (default relu1_1 … relu5_1, Gatys et al. 2016).
        weights: per-layer weights (default 1 each, as the WCT² evaluation).

    Lower is "more of the style taken". An evaluation metric: the encoder runs
    under ``torch.no_grad`` (use :mod:`stylelab.losses` to optimise). Absolute values depend on the encoder
    and its weights; compare methods only under the same encoder. With random
    encoder weights the numbers say nothing about the method (say so).
    """
    if output.dim() != 4 or style.dim() != 4:
        raise ValueError(f"expected (B, 3, H, W) images, got {tuple(output.shape)} and {tuple(style.shape)}")
    if encoder is None:
        return gram_distance(output, style)
    if isinstance(encoder, torch.nn.Module):  # device rule: the images follow the encoder
        output, style = follow(encoder, output, style)
    else:
        style = follow(output, style)
    layers = list(layers)
    w = [1.0] * len(layers) if weights is None else list(weights)
    if len(w) != len(layers):
        raise ValueError(f"{len(w)} weights for {len(layers)} layers")
    with torch.no_grad():
        fo = encoder(output, layers)
        fs = encoder(style, layers)
    total = torch.zeros(output.shape[0], dtype=output.dtype, device=output.device)
    for wl, name in zip(w, layers):
        total = total + wl * gram_distance(fo[name], fs[name])
    return total


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
      The kernel's high-water mark (``getrusage().ru_maxrss``) backs the
      sampler up: when it rises during the block, the new process peak was
      reached inside it, so the added peak is at least that mark minus the
      entry RSS. This catches spikes the sampler misses on a busy machine
      (its thread may not run for tens of milliseconds); it is exact in a
      fresh process, where nothing earlier set a higher mark.
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
        self._maxrss_on_entry = 0

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
            self.method = "RSS sampled from /proc/self/statm, with ru_maxrss"
            self._maxrss_on_entry = _maxrss_bytes()
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
                high_water = _maxrss_bytes()
                if high_water > self._maxrss_on_entry:  # the process peak was reached inside the block
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
