"""Figure helpers for the notebooks: image grids, heatmaps, curves, PNG bytes.

All functions take tensors as stylelab uses them — images ``(B, 3, H, W)`` or
``(3, H, W)`` in [0, 1], single-channel maps ``(H, W)`` — and return the
matplotlib ``Figure`` so notebooks can end a cell with ``;`` and tests can
inspect it.
"""

from __future__ import annotations

import io
import math
from typing import Sequence

import numpy as np
import torch


def _plt():
    import matplotlib.pyplot as plt

    return plt


def to_numpy_image(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """Tensor image → ``(H, W, 3)`` or ``(H, W)`` float array for ``imshow`` (RGB clamped to [0, 1])."""
    if isinstance(image, np.ndarray):
        return image
    t = image.detach().to("cpu", torch.float32)
    if t.dim() == 4:
        t = t[0]
    if t.dim() == 3 and t.shape[0] in (1, 3):
        t = t.permute(1, 2, 0)
        if t.shape[-1] == 1:
            t = t[..., 0]
        else:
            t = t.clamp(0, 1)
    return t.numpy()


def show_images(
    images: Sequence[torch.Tensor | np.ndarray],
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    size: float = 3.0,
    suptitle: str | None = None,
    cmap: str = "gray",
):
    """Show images in a grid with titles; returns the figure.

    ``images`` may mix RGB images and single-channel maps (shown with ``cmap``).
    """
    plt = _plt()
    n = len(images)
    if n == 0:
        raise ValueError("show_images needs at least one image")
    ncols = ncols or min(n, 4)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, img in enumerate(images):
        ax = axes.flat[i]
        arr = to_numpy_image(img)
        ax.imshow(arr, cmap=cmap if arr.ndim == 2 else None, interpolation="nearest" if max(arr.shape[:2]) < 64 else "antialiased")
        if titles is not None and i < len(titles):
            ax.set_title(titles[i], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def heatmap(matrix: torch.Tensor | np.ndarray, title: str = "", ax=None, cmap: str = "RdBu_r", symmetric: bool = True,
            colorbar: bool = True, scale: str = "linear"):
    """Show a matrix (e.g. a Gram or covariance matrix) with a diverging colour map.

    ``scale``: ``"linear"``; ``"sqrt"`` (colours ∝ |value|^½, signed about 0 when ``symmetric``); ``"log"``
    (non-negative matrices: colours ∝ log value from the 1st percentile of the positive entries, smaller ones
    drawn at the bottom colour). A Gram matrix of ReLU features is dominated by a few large entries: on a linear
    scale the rest is black. The colour bar reads in the matrix's own values whatever the scale.
    """
    from matplotlib.colors import FuncNorm, LogNorm, PowerNorm

    plt = _plt()
    m = matrix.detach().cpu().float().numpy() if isinstance(matrix, torch.Tensor) else np.asarray(matrix)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 3.5))
    else:
        fig = ax.figure
    vmax = float(np.abs(m).max()) or 1.0
    if scale not in ("linear", "sqrt", "log"):
        raise ValueError(f"scale must be 'linear', 'sqrt' or 'log', got {scale!r}")
    if scale == "log":
        if (m < 0).any():
            raise ValueError("scale='log' needs a non-negative matrix; use scale='sqrt' for a signed one")
        pos = m[m > 0]
        lo = float(np.percentile(pos, 1)) if pos.size else 1e-12
        im = ax.imshow(np.maximum(m, lo), cmap=cmap, norm=LogNorm(vmin=lo, vmax=max(vmax, lo * 10)))
    elif scale == "sqrt" and symmetric:
        norm = FuncNorm((lambda v: np.sign(v) * np.sqrt(np.abs(v)), lambda v: np.sign(v) * np.asarray(v) ** 2),
                        vmin=-vmax, vmax=vmax)
        im = ax.imshow(m, cmap=cmap, norm=norm)
    elif scale == "sqrt":
        lo, hi = float(np.min(m)), float(np.max(m))
        im = ax.imshow(m, cmap=cmap, norm=PowerNorm(0.5, vmin=lo, vmax=hi if hi > lo else lo + 1.0))
    else:
        im = ax.imshow(m, cmap=cmap, vmin=-vmax if symmetric else None, vmax=vmax if symmetric else None)
    ax.set_title(title)
    if colorbar:
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return fig


def plot_curves(curves: dict[str, Sequence[float]], xlabel: str = "step", ylabel: str = "loss", title: str = "", logy: bool = True, ax=None):
    """Plot named curves (e.g. losses per step) on one axis."""
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.5))
    else:
        fig = ax.figure
    for name, ys in curves.items():
        ax.plot(list(ys), label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    fig.tight_layout()
    return fig


def to_png_bytes(image: torch.Tensor | np.ndarray) -> bytes:
    """Encode an image tensor as PNG bytes (for ``ipywidgets.Image``)."""
    from PIL import Image

    arr = to_numpy_image(image)
    if arr.dtype != np.uint8:
        lo, hi = (0.0, 1.0) if arr.ndim == 3 else (float(arr.min()), float(arr.max()) or 1.0)
        arr = np.clip((arr - lo) / ((hi - lo) or 1.0), 0, 1)
        arr = (arr * 255 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def figure_to_png_bytes(fig) -> bytes:
    """Render a matplotlib figure to PNG bytes (and close it)."""
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def assert_not_flat(images: Sequence[torch.Tensor] | torch.Tensor, min_std: float = 0.02, what: str = "panel") -> float:
    """Raise ``AssertionError`` unless every image has spatial contrast in every channel.

    The smallest per-channel standard deviation over the pixels (after clamping
    to [0, 1], as displayed) must exceed ``min_std`` — a flat black, white or
    single-colour image fails. Returns that smallest value. Images are
    ``(B, 3, H, W)`` or ``(3, H, W)``.
    """
    if isinstance(images, torch.Tensor):
        images = [images]
    stds = []
    for img in images:
        t = img.detach().float().clamp(0, 1)
        t = t.reshape(-1, t.shape[-3], t.shape[-2] * t.shape[-1])
        stds.append(float(t.std(-1).min()))
    low = min(stds)
    if low <= min_std:
        raise AssertionError(f"a {what} is flat: smallest per-channel std {low:.3g} ≤ {min_std} (image {stds.index(low)})")
    return low
