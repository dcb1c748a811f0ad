"""Frame sequences and temporal consistency.

A video here is a ``(T, 3, H, W)`` float tensor of frames, RGB in [0, 1]:
read from a folder of images (:func:`load_frames`), from an array
(:func:`as_frames`), or made from a still image by a slow camera pan
(:func:`pan_frames`) for experiments without video data.

Temporal consistency (no optical flow): the mean absolute frame-to-frame
change ``Δ(V) = 1/(T−1) Σ_t mean|V_{t+1} − V_t|``. A stylization that adds no
flicker changes consecutive frames about as much as the input changes, so
``ratio = Δ(output) / Δ(input)`` near 1 (or below) is stable, well above 1
flickers. WCT² claims stable video without any temporal term thanks to its
lossless wavelet pooling (Yoo et al., ICCV 2019); :func:`temporal_consistency`
measures it against PhotoWCT. The ratio alone rewards degenerate output (a
constant video scores 0), so it is reported with the output's spatial contrast
and warns when that is low.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .io import load_image, save_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def frame_paths(folder: str | os.PathLike) -> list[Path]:
    """Image files of ``folder`` sorted by name (``frame_0001.png`` < ``frame_0002.png``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder of frames: give a folder holding one image per frame.")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)}).")
    return paths


def load_frames(folder: str | os.PathLike, size=None, device=None) -> torch.Tensor:
    """Read every image of ``folder`` (sorted by name) into a ``(T, 3, H, W)`` tensor.

    All frames must have the same size after ``size`` (see :func:`stylelab.io.load_image`).
    """

    frames = [load_image(p, size=size, device=device) for p in frame_paths(folder)]
    shapes = {tuple(f.shape) for f in frames}
    if len(shapes) > 1:
        raise ValueError(f"frames of {folder} have different sizes {sorted(shapes)}; pass size= to resize them.")
    return torch.cat(frames)


def as_frames(video) -> torch.Tensor:
    """A video as ``(T, 3, H, W)`` float in [0, 1] from a tensor ``(T, 3, H, W)`` or an array ``(T, H, W, 3)``
    (uint8 → /255)."""
    if isinstance(video, torch.Tensor):
        x = video
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"a frame tensor must be (T, 3, H, W), got {tuple(x.shape)}")
        return x if x.is_floating_point() else x.float() / 255
    arr = np.asarray(video)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"a frame array must be (T, H, W, 3), got {arr.shape}")
    t = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2)
    return t.float() / 255 if arr.dtype == np.uint8 else t.float()


def save_frames(frames: torch.Tensor, folder: str | os.PathLike, overwrite: bool = False, prefix: str = "frame") -> list[Path]:
    """Write ``(T, 3, H, W)`` frames as ``folder/frame_0000.png``, … (never overwriting unless asked)."""

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [save_image(f, folder / f"{prefix}_{i:04d}.png", overwrite=overwrite) for i, f in enumerate(frames)]


def pan_frames(image: torch.Tensor, n_frames: int = 8, step: int = 2, size: tuple[int, int] | None = None,
               fade: float = 0.0) -> torch.Tensor:
    """A synthetic video: a window sliding ``step`` pixels right per frame over ``image`` ``(1, 3, H, W)``.

    Args:
        size: ``(h, w)`` of the window (default: full height, width − step·(n−1)).
        fade: darken linearly to ``1 − fade`` by the last frame (a "day to dusk" change).
    """
    if image.dim() != 4 or image.shape[0] != 1:
        raise ValueError("image must be (1, 3, H, W)")
    H, W = image.shape[-2:]
    h, w = size or (H, W - step * (n_frames - 1))
    if w + step * (n_frames - 1) > W or h > H or w < 1:
        raise ValueError(f"a {h}×{w} window moving {step} px for {n_frames} frames does not fit in {H}×{W}")
    frames = []
    for t in range(n_frames):
        f = image[0, :, :h, t * step : t * step + w]
        frames.append(f * (1 - fade * t / max(n_frames - 1, 1)))
    return torch.stack(frames)


def stylize_frames(fn: Callable[[torch.Tensor], torch.Tensor], frames, progress: bool = True) -> torch.Tensor:
    """Apply ``fn`` (``(1, 3, H, W)`` → ``(1, 3, H', W')``) to every frame; returns ``(T, 3, H', W')``."""
    from tqdm.auto import tqdm

    frames = as_frames(frames)
    out = [fn(f[None]) for f in tqdm(frames, desc="frames", disable=not progress, leave=False)]
    return torch.cat(out)


def temporal_change(frames: torch.Tensor) -> torch.Tensor:
    """Per step mean absolute change ``mean|V_{t+1} − V_t|``, shape ``(T − 1,)``."""
    frames = as_frames(frames)
    if frames.shape[0] < 2:
        raise ValueError("temporal change needs at least two frames")
    return (frames[1:] - frames[:-1]).abs().flatten(1).mean(1)


#: ``contrast`` below this makes :func:`temporal_consistency` warn that its ratio means nothing.
MIN_CONTRAST = 0.25


def spatial_contrast(frames: torch.Tensor) -> float:
    """Mean over frames and channels of the spatial standard deviation of ``frames`` ``(T, 3, H, W)``."""
    return float(as_frames(frames).flatten(2).std(-1).mean())


def temporal_consistency(input_frames, output_frames) -> dict[str, float]:
    """``{"input": Δ(in), "output": Δ(out), "ratio": Δ(out)/Δ(in), "contrast": C(out)/C(in)}``.

    ``Δ`` is the mean frame-to-frame change (module docstring); ``C`` the
    spatial contrast (:func:`spatial_contrast`). **The ratio rewards degenerate
    output**: a constant video (all black, or one flat colour) never changes and
    scores ratio 0, the "most stable" possible, and a washed-out one scores
    nearly as well. So the contrast ratio comes with it, and when it is below
    :data:`MIN_CONTRAST` a ``UserWarning`` says the stability figure is not
    evidence of a good method. Read the two together. A static clip (the input
    never changes, Δ(in) = 0) has no ratio: ``"ratio"`` is NaN, not ∞
    (:func:`describe_consistency` says so in words).
    """
    a = temporal_change(input_frames)
    b = temporal_change(output_frames)
    if a.shape != b.shape:
        raise ValueError(f"input has {a.shape[0] + 1} frames, output {b.shape[0] + 1}")
    din, dout = float(a.mean()), float(b.mean())
    cin, cout = spatial_contrast(input_frames), spatial_contrast(output_frames)
    contrast = cout / cin if cin > 0 else float("inf")
    ratio = dout / din if din > 0 else float("nan")  # a static clip: no ratio
    if contrast < MIN_CONTRAST:
        warnings.warn(
            f"the output has {contrast:.2f}× the input's spatial contrast: a (nearly) flat video changes little "
            f"between frames whatever the method, so its temporal ratio {ratio:.2f} "
            f"says nothing about stability. Look at the frames.",
            UserWarning, stacklevel=2,
        )
    return {"input": din, "output": dout, "ratio": ratio, "contrast": contrast}


def describe_consistency(input_frames, output_frames) -> str:
    """One line on the temporal consistency of a stylised clip (:func:`temporal_consistency`), for the CLI.

    A single frame has no temporal change and a static clip (Δ(in) = 0) no ratio: the line says
    so instead of printing ∞ or failing after the frames were written.
    """
    if as_frames(input_frames).shape[0] < 2:
        return "one frame: no temporal consistency to measure"
    tc = temporal_consistency(input_frames, output_frames)
    if tc["input"] == 0:
        return f"the input is a static clip (no change between frames): output change {tc['output']:.4f}, no ratio"
    return f"temporal change output/input = {tc['ratio']:.3f}"
