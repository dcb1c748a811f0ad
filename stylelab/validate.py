"""Boundary checks for images: one place that says what is wrong and what to do.

Every public entry point that takes an image (the methods' ``stylize``,
:func:`stylelab.methods.gatys.stylize`, :func:`stylelab.methods.dpst.stylize`,
:func:`stylelab.smoothing.smooth`, :func:`stylelab.smoothing.matting.laplacian`,
:func:`stylelab.io.save_image`) calls :func:`check_image` before any work, so
a bad tensor fails at once with one message instead of deep inside torch — or,
worse, silently (one NaN pixel makes AdaIN's whole output NaN).

The rules, applied in this order:

* **type** — a ``torch.Tensor`` (a NumPy array or PIL image is refused with
  the conversion to use); not on the ``meta`` device (it holds no values).
* **shape** — ``(B, 3, H, W)``, or ``(3, H, W)`` which is read as a batch of
  one; no side of size 0.
* **dtype** — *floating tensors of any precision are accepted*; a network
  computes in its weights' dtype, the inputs following the model
  (:func:`stylelab.device.follow`), numerical solvers in the input's dtype. Integer
  and ``bool`` tensors are refused: ``uint8`` images hold 0–255, and the
  division by 255 is the caller's to make (``image.float() / 255``) — a silent
  guess would be wrong for 16-bit or label data. (``check_image(uint8=True)``
  accepts an 8-bit photo as it is, for the few functions that take one: the
  colour map's banded pass and :func:`stylelab.io.save_image`.)
* **finite** — NaN or ±Inf pixels are refused with their count and the first
  position (the count is of pixels, ``(y, x)`` positions, not of values).
* **range** — images hold ``[0, 1]``. A maximum above ``1 + RANGE_SLACK`` is
  refused (a float image in 0–255: divide by 255); so is a minimum below
  ``-RANGE_SLACK`` (a mean/std-normalised or ``[-1, 1]`` image). Small
  excursions — an unclamped decoder output — are accepted.

Images smaller than a network can take (a reflection-padded convolution
needs two pixels after every pooling) are *padded* to the network's minimum
side by :func:`pad_to_size` and the result cropped back — AdaIN, WCT, PhotoWCT
and WCT² all do so, so a 1×1, 3×2 or 4000×8 image gets a result, not torch's
"Padding size should be less than the corresponding input dimension".

Errors are :class:`ImageInputError`, a :class:`ValueError` (and a
:class:`TypeError`, so either ``except`` catches it).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import device as D

__all__ = [
    "RANGE_SLACK",
    "ImageInputError",
    "check_finite",
    "check_image",
    "check_positive",
    "check_size",
    "count_nonfinite",
    "pad_to_size",
]

#: How far outside ``[0, 1]`` an image may go before it is refused (see module docstring).
RANGE_SLACK = 0.5


class ImageInputError(ValueError, TypeError):
    """An image (or an image-like argument) is not what the function takes; the message says what to do."""


def _shape(x) -> str:
    return "×".join(str(int(s)) for s in x.shape) if hasattr(x, "shape") else type(x).__name__


def count_nonfinite(image: torch.Tensor) -> int:
    """Number of pixels of ``(…, C, H, W)`` with at least one NaN/±Inf channel (0 for integer tensors)."""
    if not image.is_floating_point() and not image.is_complex():
        return 0
    bad = ~torch.isfinite(image)
    if image.dim() >= 3:
        bad = bad.any(dim=-3)
    return int(bad.sum())


def check_finite(image: torch.Tensor, what: str = "image") -> torch.Tensor:
    """Raise :class:`ImageInputError` naming the count of NaN/Inf pixels of ``image``; return it unchanged."""
    n = count_nonfinite(image)
    if n:
        bad = ~torch.isfinite(image)
        if image.dim() >= 3:
            bad = bad.any(dim=-3)
        pos = [int(i) for i in torch.nonzero(bad)[0].tolist()]
        total = math.prod(bad.shape)
        where = f"(y, x) = ({pos[-2]}, {pos[-1]})" if len(pos) >= 2 else str(tuple(pos))
        raise ImageInputError(
            f"{what} has {n} non-finite pixel{'s' if n != 1 else ''} (NaN or Inf) out of {total}, the first at {where}. "
            "Fix where they came from, or replace them: torch.nan_to_num(image, nan=0.0, posinf=1.0, neginf=0.0)."
        )
    return image


def check_positive(value, name: str, *, integer: bool = False, allow_zero: bool = False, maximum=None):
    """Return ``value`` if it is a finite number > 0 (≥ 0 with ``allow_zero``), else raise a ``ValueError`` naming ``name``.

    ``integer`` also requires a whole number (``True``/``False`` are refused);
    ``maximum`` an upper bound (inclusive).
    """
    kind = "an integer" if integer else "a number"
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        # NumPy / torch scalars
        try:
            as_num = value.item() if hasattr(value, "item") else None
        except (ValueError, RuntimeError):
            as_num = None
        if as_num is None or isinstance(as_num, bool) or (integer and not float(as_num).is_integer()):
            raise ValueError(f"{name} must be {kind}, got {value!r} ({type(value).__name__})")
        value = int(as_num) if integer else float(as_num)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value!r}")
    return value


def check_image(
    image,
    what: str = "image",
    *,
    channels: int | None = 3,
    batch: int | None = None,
    values: bool = True,
    uint8: bool = False,
) -> torch.Tensor:
    """Check ``image`` against the rules of the module docstring and return it as ``(B, C, H, W)``.

    Args:
        image: the tensor to check.
        what: its name in messages ("content", "style", …).
        channels: the number of channels required (``None``: any).
        batch: the batch size required (``None``: any).
        values: also check the values (finite, in range). This reads the whole
            tensor once; a caller that has just checked it may skip it.
        uint8: also accept a ``uint8`` tensor (an 8-bit photo, 0–255: every value is valid, so
            only type, shape and batch are checked).

    Returns:
        ``image`` itself, with a leading batch axis added when it was ``(C, H, W)``.
        Nothing is copied or converted.
    """
    if not isinstance(image, torch.Tensor):
        name = type(image).__name__
        hint = ""
        if type(image).__module__ == "numpy":
            hint = " For an (H, W, 3) uint8 array: torch.from_numpy(arr).permute(2, 0, 1)[None].float() / 255."
        elif type(image).__module__.startswith("PIL"):
            hint = " Use stylelab.io.from_pil(img)."
        elif image is None:
            hint = " Pass an image tensor (stylelab.io.load_image(path))."
        raise ImageInputError(f"{what} must be a torch tensor of shape (1, 3, H, W), got {name}.{hint}")
    if image.device.type not in D.SUPPORTED_TYPES:
        why = "which holds shapes but no values" if image.device.type == "meta" else "which stylelab does not run on"
        raise ImageInputError(f"{what} is on the {image.device.type!r} device, {why}; "
                              "use a real device ('cpu', 'cuda', 'mps').")
    if image.dim() == 3:
        image = image.unsqueeze(0)
    if image.dim() != 4:
        raise ImageInputError(f"{what} must have shape (B, 3, H, W) or (3, H, W), got {_shape(image)}.")
    b, c, h, w = image.shape
    if channels is not None and c != channels:
        hint = ""
        if c == 1 and channels == 3:
            hint = " For a greyscale image repeat the channel: image.expand(-1, 3, -1, -1)."
        elif c == 4 and channels == 3:
            hint = " For RGBA drop or composite the alpha channel (stylelab.io.load_image composites over white)."
        elif image.shape[-1] in (1, 3, 4) and c > 4:
            hint = " It looks channels-last: use image.permute(0, 3, 1, 2)."
        raise ImageInputError(f"{what} must have {channels} channels (RGB), got shape {_shape(image)}.{hint}")
    if 0 in (b, c, h, w):
        raise ImageInputError(f"{what} is empty (shape {_shape(image)}); every side must be at least 1.")
    if batch is not None and b != batch:
        raise ImageInputError(f"{what} must be a batch of {batch}, got {b} (shape {_shape(image)}); "
                              f"index it ({what}[i:i+1]) or loop over the batch.")
    if uint8 and image.dtype == torch.uint8:
        return image
    if image.is_complex() or not image.is_floating_point():
        hint = " (0–255): pass image.float() / 255" if image.dtype == torch.uint8 else \
            ": convert to float in [0, 1] first (e.g. image.float() / image.max())"
        raise ImageInputError(f"{what} has dtype {image.dtype}; images are float tensors in [0, 1]{hint}.")
    if values:
        check_finite(image, what)
        lo, hi = (float(v) for v in torch.aminmax(image.detach()))
        if lo < -RANGE_SLACK:
            raise ImageInputError(
                f"{what} holds values down to {lo:g}, but images are in [0, 1]; undo any mean/std "
                "normalisation or map [-1, 1] images with (image + 1) / 2."
            )
        if hi > 1 + RANGE_SLACK:
            hint = "it looks like 0–255: divide by 255" if hi <= 255 + RANGE_SLACK else "rescale it to [0, 1]"
            raise ImageInputError(f"{what} holds values up to {hi:g}, but images are in [0, 1]; {hint}.")
    return image


def check_size(hw, min_side: int, what: str = "image", hint: str = "") -> None:
    """Raise :class:`ImageInputError` when either side of ``hw`` (``(H, W)`` or a tensor) is below ``min_side``."""
    if isinstance(hw, torch.Tensor):
        hw = hw.shape[-2:]
    h, w = int(hw[-2]), int(hw[-1])
    if min(h, w) < min_side:
        raise ImageInputError(f"{what} is {w}×{h} px; it needs at least {min_side} px on each side{hint}.")


def pad_to_size(x: torch.Tensor, multiple: int = 1, min_size: int = 1, mode: str = "reflect") -> torch.Tensor:
    """Pad the bottom/right of ``(…, H, W)`` so both sides are multiples of ``multiple`` and ≥ ``min_size``.

    Reflection where the side allows it, else replication (tiny images). Integer
    tensors (label maps) get the *same* padding as their image, by exact index
    gathering (no float round trip: any id survives), so a padded map still
    labels the pixels of the padded image. A tensor that needs nothing is
    returned as is. Crop the result with ``out[..., :H, :W]``.

    Used for images below a network's smallest side (AdaIN, WCT, PhotoWCT) and for
    WCT²'s sides, multiples of 8 and at least 16 (:data:`stylelab.nets.wavenets.PAD`).
    """
    h, w = x.shape[-2:]
    ph, pw = max((-h) % multiple, min_size - h), max((-w) % multiple, min_size - w)
    if not (ph or pw):
        return x
    if mode == "reflect" and (ph >= h or pw >= w):
        mode = "replicate"
    if not x.is_floating_point():  # label maps: the image's padding, by exact integer gathering
        return x[..., _pad_index(h, ph, mode, x.device)[:, None], _pad_index(w, pw, mode, x.device)[None, :]]
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def _pad_index(n: int, pad: int, mode: str, device) -> torch.Tensor:
    """Source index of each of ``n + pad`` positions when padding the end of a length-``n`` axis."""
    i = torch.arange(n + pad, device=device)
    if mode == "reflect":
        return torch.where(i < n, i, 2 * (n - 1) - i)
    if mode != "replicate":
        raise ValueError(f"mode must be 'reflect' or 'replicate' for label maps, got {mode!r}")
    return i.clamp_max(n - 1)


# ----------------------------------------------------------------------------- command-line option types
# argparse calls these while parsing, so a bad option is reported (exit code 2, no
# traceback) before any file is read or any model is built.
def _arg_error(message: str):
    import argparse

    return argparse.ArgumentTypeError(message)


def arg_int(minimum: int = 1, maximum: int | None = None):
    """An argparse ``type=``: an integer in ``[minimum, maximum]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise _arg_error(f"expected a whole number, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
            raise _arg_error(f"must be {bound}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def arg_float(low: float | None = None, high: float | None = None, *, open_low: bool = False, open_high: bool = False):
    """An argparse ``type=``: a finite number in the interval ``low .. high`` (ends open or closed)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise _arg_error(f"expected a number, got {text!r}") from None
        bad = not math.isfinite(value)
        bad |= low is not None and (value <= low if open_low else value < low)
        bad |= high is not None and (value >= high if open_high else value > high)
        if bad:
            lo = "-∞" if low is None else f"{low:g}"
            hi = "∞" if high is None else f"{high:g}"
            interval = f"{'(' if open_low or low is None else '['}{lo}, {hi}{')' if open_high or high is None else ']'}"
            raise _arg_error(f"must be a number in {interval}, got {text}")
        return value

    parse.__name__ = "number"
    return parse


def arg_int_list(allowed=None, minimum: int = 1, length: int | None = None):
    """An argparse ``type=``: comma-separated integers (``"5,4,3"``), each in ``allowed`` or ≥ ``minimum``."""

    def parse(text: str) -> list[int]:
        parts = [p.strip() for p in str(text).split(",") if p.strip()]
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise _arg_error(f"expected comma-separated whole numbers (e.g. 5,4,3), got {text!r}") from None
        if not values:
            raise _arg_error(f"expected at least one number, got {text!r}")
        if length is not None and len(values) != length:
            raise _arg_error(f"expected {length} comma-separated numbers, got {len(values)} in {text!r}")
        bad = [v for v in values if (v not in allowed if allowed is not None else v < minimum)]
        if bad:
            what = f"one of {', '.join(map(str, allowed))}" if allowed is not None else f"at least {minimum}"
            raise _arg_error(f"each value must be {what}; {', '.join(map(str, bad))} is not")
        return values

    parse.__name__ = "list"
    return parse


def arg_existing(kind: str = "file"):
    """An argparse ``type=``: a path to an existing ``"file"`` or ``"folder"``."""
    from pathlib import Path

    def parse(text: str) -> str:
        p = Path(text)
        if not p.exists():
            raise _arg_error(f"{text} does not exist (relative paths start at {Path.cwd()})")
        if kind == "folder" and not p.is_dir():
            raise _arg_error(f"{text} is not a folder")
        if kind == "file" and p.is_dir():
            raise _arg_error(f"{text} is a folder; give a file inside it")
        return text

    parse.__name__ = kind
    return parse
