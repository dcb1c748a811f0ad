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
and warns when that is low. The flicker measured along the motion (optical
flow, occlusions left out) is :func:`stylelab.media.warping.warping_error`.

Stabilised per-frame transfer (:class:`TemporalStatistics`). AdaIN, WCT,
PhotoWCT and WCT² normalise every frame with that frame's *content*
statistics — AdaIN's ``(μ_c, σ_c)``, WCT's ``(μ_c, W_c = (Σ_c + ε_c I)^{-1/2})``
and WCT²'s clamp range — and those jitter from frame to frame even when the
scene barely moves: ``W_c`` amplifies changes along the covariance's small
eigenvalues (``∂λ^{-1/2} = −½ λ^{-3/2} ∂λ``). Stabilisation replaces each
statistic ``s_t`` by its exponential moving average over the frames::

    s̄_1 = s_1,      s̄_t = m · s̄_{t−1} + (1 − m) · s_t

(``m`` = ``momentum``; about ``1/(1 − m)`` frames are averaged). The style side
is computed once for the clip and does not change. The averaged whitening
matrix is a convex combination of symmetric positive semi-definite matrices,
so it stays one. Eigenvectors never enter the average: ``W_c = E D^{-1/2} Eᵀ``
is the same whatever sign or order the eigen-solver gives each eigenvector
(a sign flip ``e → −e`` leaves ``e eᵀ`` unchanged), so per-frame sign and
order changes cannot cause WCT's flicker and need no tracking here (tested in
``tests/test_video.py``). The statistics go through the transforms' one hook
(:func:`stylelab.features.shared_statistics.content_statistics`), so no method is changed.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..io import load_image, resize, save_image
from ..features.shared_statistics import statistics_scope

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: Video files :func:`read_video`/:func:`write_video` handle (GIF through Pillow; the others need
#: imageio's FFmpeg or PyAV plugin, and say so when it is missing).
VIDEO_SUFFIXES = (".gif", ".mp4", ".avi", ".mov", ".mkv", ".webm")


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


def stylize_frames(fn: Callable[[torch.Tensor], torch.Tensor], frames, progress: bool = True,
                   momentum: float | None = None) -> torch.Tensor:
    """Apply ``fn`` (``(1, 3, H, W)`` → ``(1, 3, H', W')``) to every frame; returns ``(T, 3, H', W')``.

    ``momentum``: ``None`` stylises each frame on its own (naive per-frame transfer); a value in
    ``[0, 1)`` runs every frame inside one :class:`TemporalStatistics` (stabilised transfer; ``0`` is
    the naive result again).
    """
    from tqdm.auto import tqdm

    frames = as_frames(frames)
    state = None if momentum is None else TemporalStatistics(momentum)
    out = []
    for f in tqdm(frames, desc="frames", disable=not progress, leave=False):
        if state is None:
            out.append(fn(f[None]))
        else:
            with state.frame():
                out.append(fn(f[None]))
    return torch.cat(out)


class TemporalStatistics:
    """Exponential moving averages of the content statistics over a video's frames (module docstring).

    Usage (what :func:`stylize_frames` does with ``momentum``)::

        state = TemporalStatistics(momentum=0.9)
        for frame in frames:
            with state.frame():
                out = method.stylize(frame, prepared_style)

    The ``k``-th content statistic computed in a frame is averaged with the ``k``-th of the
    frames before (a WCT cascade computes one per level); a frame that computes a different
    sequence (another method, other label maps) raises ``RuntimeError``.

    Attributes:
        momentum: ``m`` in ``s̄_t = m s̄_{t−1} + (1 − m) s_t``, in ``[0, 1)``; 0 = no smoothing.
        frames: frames seen.
    """

    def __init__(self, momentum: float = 0.9):
        if not 0.0 <= float(momentum) < 1.0:
            raise ValueError(f"momentum must lie in [0, 1) (0: each frame on its own; 0.9: about 10 frames "
                             f"averaged), got {momentum}")
        self.momentum = float(momentum)
        self.frames = 0
        self._items: list[tuple[str, tuple]] = []
        self._pos = 0

    def frame(self):
        """Context: one frame's stylisation; its content statistics are averaged with the earlier frames'."""
        self._pos = 0
        self.frames += 1
        return statistics_scope(self)

    def _next(self, kind: str, compute):
        value = compute()
        k, self._pos = self._pos, self._pos + 1
        if k == len(self._items):
            if self.frames > 1:
                raise RuntimeError(f"frame {self.frames} computes more content statistics than the first frame "
                                   f"({len(self._items)}): every frame must take the same path")
            self._items.append((kind, tuple(value)))
            return value
        prev_kind, prev = self._items[k]
        if prev_kind != kind or len(prev) != len(value) or any(
                torch.is_tensor(a) and a.shape != b.shape for a, b in zip(prev, value)):
            raise RuntimeError(f"frame {self.frames}: content statistic {k + 1} is {kind!r} "
                               f"{[tuple(getattr(v, 'shape', ())) for v in value]}, the first frame's was {prev_kind!r} "
                               f"{[tuple(getattr(v, 'shape', ())) for v in prev]}: frames must have one size and "
                               "take the same path")
        m = self.momentum
        avg = tuple(m * a + (1 - m) * b for a, b in zip(prev, value))
        self._items[k] = (kind, avg)
        return avg


def temporal_change(frames: torch.Tensor) -> torch.Tensor:
    """Per step mean absolute change ``mean|V_{t+1} − V_t|``, shape ``(T − 1,)``."""
    frames = as_frames(frames)
    if frames.shape[0] < 2:
        raise ValueError("temporal change needs at least two frames")
    return (frames[1:] - frames[:-1]).abs().flatten(1).mean(1)


#: The momentum of ``stylelab transfer --video --stabilise`` when not given (about ten frames averaged).
DEFAULT_MOMENTUM = 0.9

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


def camera_frames(image: torch.Tensor, n_frames: int = 48, size: tuple[int, int] = (128, 160),
                  shift: tuple[float, float] = (0.2, 0.7), zoom: float = 1.003,
                  sprite: torch.Tensor | None = None, sprite_step: tuple[float, float] = (1.0, -2.5)) -> torch.Tensor:
    """A synthetic clip ``(n_frames, 3, h, w)``: a camera panning and zooming over a still ``image`` ``(1, 3, H, W)``,
    optionally with an object moving on its own.

    Frame ``t`` samples (bilinearly) ``image`` on a ``size = (h, w)`` grid centred ``t·shift`` frame pixels
    (row, column) from the image's centre and scaled by ``zoom^{-t}`` (``zoom > 1`` zooms in); frame 0
    covers 60 % of the largest centred window of that aspect. ``sprite`` ``(1, 3, s, s)``: a disc cut from it is pasted at
    the frame's centre + ``t·sprite_step`` px (independent motion over the moving background, with
    occlusions at its rim).
    """
    if image.dim() != 4 or image.shape[0] != 1 or image.shape[1] != 3:
        raise ValueError(f"image must be (1, 3, H, W), got {tuple(image.shape)}")
    if n_frames < 1:
        raise ValueError("n_frames must be at least 1")
    H, W = image.shape[-2:]
    h, w = size
    k = 0.6 * min((H - 1) / max(h - 1, 1), (W - 1) / max(w - 1, 1))  # image px per frame px in frame 0
    rows = (torch.arange(h, dtype=image.dtype, device=image.device).view(h, 1) - (h - 1) / 2) * k
    cols = (torch.arange(w, dtype=image.dtype, device=image.device).view(1, w) - (w - 1) / 2) * k
    frames = []
    for t in range(n_frames):
        s = zoom ** (-t)
        gy = 2 * ((H - 1) / 2 + rows * s + t * shift[0] * k) / (H - 1) - 1
        gx = 2 * ((W - 1) / 2 + cols * s + t * shift[1] * k) / (W - 1) - 1
        grid = torch.stack((gx.expand(h, w), gy.expand(h, w)), -1)[None]
        if grid.abs().max() > 1:
            raise ValueError(f"the camera leaves the image by frame {t}: fewer frames, a smaller shift/zoom or size")
        f = F.grid_sample(image, grid, mode="bilinear", align_corners=True)
        if sprite is not None:
            f = _paste_disc(f, sprite.to(f), (h / 2 + t * sprite_step[0], w / 2 + t * sprite_step[1]))
        frames.append(f[0])
    return torch.stack(frames)


def _paste_disc(frame: torch.Tensor, sprite: torch.Tensor, centre: tuple[float, float]) -> torch.Tensor:
    """``frame`` ``(1, 3, h, w)`` with a disc of ``sprite`` ``(1, 3, s, s)`` centred at ``centre`` (row, col), cropped."""
    s = sprite.shape[-1]
    r0, c0 = int(round(centre[0] - s / 2)), int(round(centre[1] - s / 2))
    yy, xx = torch.meshgrid(torch.arange(s), torch.arange(s), indexing="ij")
    disc = ((yy - (s - 1) / 2) ** 2 + (xx - (s - 1) / 2) ** 2 <= (s / 2) ** 2).to(frame)
    out = frame.clone()
    h, w = frame.shape[-2:]
    y0, x0, y1, x1 = max(r0, 0), max(c0, 0), min(r0 + s, h), min(c0 + s, w)
    if y0 >= y1 or x0 >= x1:
        return out
    m = disc[y0 - r0:y1 - r0, x0 - c0:x1 - c0]
    patch = sprite[..., y0 - r0:y1 - r0, x0 - c0:x1 - c0]
    out[..., y0:y1, x0:x1] = m * patch + (1 - m) * out[..., y0:y1, x0:x1]
    return out


def read_video(path: str | os.PathLike, size=None, device=None) -> torch.Tensor:
    """A clip ``(T, 3, H, W)`` from a folder of frames (:func:`load_frames`) or a video file (:data:`VIDEO_SUFFIXES`).

    ``size`` as in :func:`stylelab.io.load_image` (an int is the shorter side). GIF is read through
    Pillow; MP4 and the others need imageio's FFmpeg or PyAV plugin (the error says how to install it,
    or to extract the frames to a folder).
    """
    path = Path(path)
    if path.is_dir():
        return load_frames(path, size=size, device=device)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is neither a folder of frames nor a video file")
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ValueError(f"{path}: a video must be a folder of frames or a {'/'.join(VIDEO_SUFFIXES)} file")
    import imageio.v3 as iio

    try:
        arr = iio.imread(path, index=None)
    except Exception as err:  # noqa: BLE001 - a missing plugin or codec, said in words
        raise RuntimeError(f"could not read {path} ({err}). Install a video plugin (pip install av), or extract the "
                           f"frames to a folder of images and pass the folder.") from err
    arr = np.asarray(arr)
    if arr.ndim == 3:  # one frame
        arr = arr[None]
    if arr.ndim == 4 and arr.shape[-1] == 4:  # RGBA GIF frames
        arr = arr[..., :3]
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, -1)
    frames = as_frames(arr)
    return resize(frames, size).to(device or "cpu") if size is not None else frames.to(device or "cpu")


def write_video(frames: torch.Tensor, path: str | os.PathLike, overwrite: bool = False, fps: float = 12.0) -> list[Path]:
    """Write ``(T, 3, H, W)`` frames to a folder of PNGs (:func:`save_frames`) or, for a name ending in one of
    :data:`VIDEO_SUFFIXES`, to that video file (never overwriting unless asked). Returns the paths written.

    A GIF holds 256 colours per frame, and Pillow merges identical consecutive frames into one of their
    summed duration (it plays the same, but reads back with fewer frames): measure on a folder of PNGs."""
    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        return save_frames(frames, path, overwrite=overwrite)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; choose another name or pass overwrite=True (--overwrite).")
    import imageio.v3 as iio

    arr = (as_frames(frames).clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.suffix.lower() == ".gif":
            iio.imwrite(path, arr, duration=1000 / fps, loop=0)
        else:
            iio.imwrite(path, arr, fps=fps)
    except Exception as err:  # noqa: BLE001
        raise RuntimeError(f"could not write {path} ({err}). Install a video plugin (pip install av), or write a "
                           f".gif or a folder of frames.") from err
    return [path]
