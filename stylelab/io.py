"""Images in and out.

Every image in stylelab is a float tensor of shape ``(B, 3, H, W)`` (or
``(3, H, W)`` where a docstring says so), RGB in ``[0, 1]``. :func:`load_image`
accepts anything PIL reads — RGB, RGBA, greyscale, palette, 16-bit, EXIF-rotated
photos — and :func:`save_image` never overwrites a file unless asked to.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from . import device as D
from . import validate as V
from .memory import decode_bytes, format_bytes
from .available_memory import available_bytes

Side = Literal["short", "long"]
Size = int | tuple[int, int] | None

#: Images with more pixels than this are refused unless ``max_pixels`` is raised:
#: a 100-megapixel float image alone takes 1.2 GB, and every method needs many
#: times that. Pass ``size=`` to shrink on load.
MAX_PIXELS = 100_000_000


def _to_rgb_array(img: Image.Image, background: tuple[int, int, int]) -> np.ndarray:
    """PIL image of any mode → float32 array (H, W, 3) in [0, 1]."""
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        arr = np.asarray(img, dtype=np.uint16).astype(np.float32) / 65535.0
        return np.repeat(arr[..., None], 3, axis=2)
    if mode == "I":  # 32-bit integer; 16-bit PNGs often arrive as "I"
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        arr = np.clip(arr / top, 0, 1).astype(np.float32)
        return np.repeat(arr[..., None], 3, axis=2)
    if mode == "F":
        arr = np.clip(np.asarray(img, dtype=np.float32), 0, 1)
        return np.repeat(arr[..., None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "RGBa"):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3:4]
        bg = np.asarray(background, dtype=np.float32) / 255.0
        return rgba[..., :3] * alpha + bg * (1 - alpha)
    if mode in ("RGB;16", "RGB48"):  # pragma: no cover - rare PIL modes
        img = img.convert("RGB")
    arr = np.asarray(img if mode == "RGB" else img.convert("RGB"), dtype=np.float32)
    arr /= 255.0  # in place: a 12 MP photo is not held twice in float
    return arr


def from_pil(img: Image.Image, background: tuple[int, int, int] = (255, 255, 255),
             dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """PIL image → ``(1, 3, H, W)`` float32 tensor in [0, 1].

    Transparent pixels are composited over ``background`` (white by default).
    ``dtype=torch.uint8``: 8-bit values 0–255 instead, a channels-last view of one
    ``(H, W, 3)`` array (an 8-bit RGB or greyscale file is not converted to float at all;
    other modes go through the float path and are rounded).
    """
    if dtype == torch.uint8:
        if img.mode in ("RGB", "L"):
            arr = np.array(img if img.mode == "RGB" else img.convert("RGB"))  # writable (asarray's is not)
        else:
            arr = _to_rgb_array(img, background)
            arr = (arr * 255 + 0.5).astype(np.uint8)
    elif dtype == torch.float32:
        arr = _to_rgb_array(img, background)
    else:
        raise ValueError(f"dtype must be torch.float32 or torch.uint8, got {dtype}")
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).unsqueeze(0)


def to_pil(image: torch.Tensor) -> Image.Image:
    """``(1, 3, H, W)``, ``(3, H, W)`` or ``(H, W)`` tensor in [0, 1] → 8-bit PIL image (values clamped).

    A ``uint8`` tensor (0–255, e.g. from ``load_image(dtype=torch.uint8)``) is taken as it is.
    """
    t = image.detach().cpu() if image.dtype == torch.uint8 else image.detach().to("cpu", torch.float32)
    if t.dim() == 4:
        if t.shape[0] != 1:
            raise ValueError(f"to_pil takes one image, got a batch of {t.shape[0]}; index it first.")
        t = t[0]
    if t.dim() == 3 and t.shape[0] == 1:
        t = t[0]
    # one float copy (the clamp), scaled in place: a 12 MP result is not held three more times in float
    arr = t.numpy() if t.dtype == torch.uint8 else t.clamp(0, 1).mul_(255.0).add_(0.5).to(torch.uint8).numpy()
    if arr.ndim == 3:
        if arr.shape[0] != 3:
            raise ValueError(f"expected 3 channels (RGB), got shape {tuple(image.shape)}")
        return Image.fromarray(np.ascontiguousarray(arr.transpose(1, 2, 0)), "RGB")
    return Image.fromarray(arr, "L")


def target_size(height: int, width: int, size: Size, side: Side = "short") -> tuple[int, int]:
    """The ``(H, W)`` an image of ``height × width`` gets for a requested ``size``.

    ``size`` an int scales the ``side`` ("short" or "long") to that many pixels
    keeping the aspect ratio; a pair ``(H, W)`` is taken as is; ``None`` keeps
    the size.
    """
    if size is None:
        return height, width
    if isinstance(size, Sequence) and not isinstance(size, str):
        if len(size) != 2:
            raise ValueError(f"size must be an int or an (H, W) pair, got {size!r}")
        th, tw = (V.check_positive(v, "each side of size", integer=True) for v in size)
        return int(th), int(tw)
    size = int(V.check_positive(size, "size", integer=True))
    if side not in ("short", "long"):
        raise ValueError(f"side must be 'short' or 'long', got {side!r}")
    ref = min(height, width) if side == "short" else max(height, width)
    scale = size / ref
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(image: torch.Tensor, size: Size, side: Side = "short", mode: str = "bilinear") -> torch.Tensor:
    """Resize a ``(B, C, H, W)`` tensor (antialiased when shrinking).

    Args:
        size: int (length of the ``side``), ``(H, W)``, or ``None`` for no change.
        side: "short" or "long".
        mode: ``"bilinear"``, ``"bicubic"`` or ``"nearest"`` (use nearest for label maps).
    """
    h, w = image.shape[-2:]
    th, tw = target_size(h, w, size, side)
    if (th, tw) == (h, w):
        return image
    if mode == "nearest":
        return F.interpolate(image, size=(th, tw), mode="nearest-exact")
    out = F.interpolate(image, size=(th, tw), mode=mode, align_corners=False, antialias=True)
    return out.clamp(0, 1) if image.is_floating_point() and image.min() >= 0 and image.max() <= 1 else out


#: Files with more pixels than this are shrunk by an integer factor right after decoding
#: (``Image.reduce``, a box filter; JPEG decodes at a reduced scale directly with
#: ``Image.draft``) when the requested size is at least 4× smaller, so that a 12000×12000
#: PNG asked for at 64 px never becomes a 1.7 GB float array.
REDUCE_ABOVE_PIXELS = 16_000_000


def open_image(path: str | os.PathLike) -> Image.Image:
    """Open an image file with EXIF orientation applied; clear errors for bad files."""
    return _open(path)[0]


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"No image at {path}. Check the path (relative paths start at {Path.cwd()}).")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give the path of an image file inside it.")


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(H, W)`` of an image file from its header, EXIF rotation applied — no pixel is decoded.

    Raises the same clear errors as :func:`load_image` for missing, unreadable
    or non-image files.
    """
    path = Path(path)
    _check_readable(path)
    try:
        with Image.open(path) as img:  # reads the header only
            w, h = img.size
            try:
                if img.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                    h, w = w, h
            except Exception:  # noqa: BLE001 - a broken EXIF block must not stop loading (exif_transpose copes)
                pass
    except UnidentifiedImageError as err:
        raise ValueError(
            f"{path} is not an image PIL can read (corrupt, or not an image). "
            "Open it in an image viewer, or re-save it as PNG or JPEG."
        ) from err
    except Image.DecompressionBombError as err:
        raise ValueError(
            f"{path} is larger than PIL's safety limit ({err}). If you trust the file, raise "
            "PIL.Image.MAX_IMAGE_PIXELS first, and load it with a smaller size=."
        ) from err
    except PermissionError as err:
        raise PermissionError(f"{path} cannot be read (permission denied); check the file's permissions.") from err
    except (OSError, SyntaxError) as err:
        raise ValueError(f"{path} could not be read ({err}); the file is probably truncated or corrupt.") from err
    return h, w


def _open(path, size: Size = None, side: Side = "short", max_pixels: int | None = None):
    """:func:`open_image` that checks the size from the header before decoding.

    Returns ``(image, (th, tw))``: the decoded image (shrunk by an integer
    factor when that is safe, see :data:`REDUCE_ABOVE_PIXELS`) and the size
    the caller resizes it to.
    """
    path = Path(path)
    h, w = image_size(path)
    try:
        img = Image.open(path)
        th, tw = target_size(h, w, size, side)
        if max_pixels is not None and th * tw > max_pixels:
            raise MemoryError(
                f"{path} would be {tw}×{th} = {th * tw / 1e6:.0f} megapixels, above the limit of "
                f"{max_pixels / 1e6:.0f} MP (it would need several GB per copy). Pass a smaller size=, "
                f"e.g. size=1024 (CLI: --size 1024), or raise max_pixels= if you have the memory."
            )
        need = decode_bytes(h, w, len(img.getbands()), 2 if img.mode.startswith("I;16") else 1)
        if need > 1 << 28 and need > 0.8 * available_bytes("cpu"):
            raise MemoryError(
                f"{path} is {w}×{h} px (from its header): decoding it needs {format_bytes(need)}, more than the "
                f"memory available ({format_bytes(available_bytes('cpu'))}). Shrink the file first, or free memory."
            )
        # A large file asked for at a much smaller size is decoded at a reduced scale.
        factor = min(max(h, w) // max(th, tw), min(h, w) // min(th, tw))
        if h * w > REDUCE_ABOVE_PIXELS and factor >= 4 and img.format == "JPEG":
            img.draft("RGB", (img.width * 2 // factor, img.height * 2 // factor))  # 1/2, 1/4 or 1/8 scale
        img.load()
        if h * w > REDUCE_ABOVE_PIXELS and factor >= 4:
            k = min(max(img.width, img.height) // max(th, tw), min(img.width, img.height) // min(th, tw)) // 2
            if k >= 2:
                if img.mode == "P":
                    img = img.convert("RGBA" if "transparency" in img.info else "RGB")
                try:
                    img = img.reduce(k)
                except (ValueError, NotImplementedError):  # modes reduce() does not take (16-bit)
                    pass
    except PermissionError as err:
        raise PermissionError(f"{path} cannot be read (permission denied); check the file's permissions.") from err
    except (OSError, SyntaxError) as err:
        raise ValueError(f"{path} could not be decoded ({err}); the file is probably truncated or corrupt.") from err
    return ImageOps.exif_transpose(img), (th, tw)


def load_image(
    path: str | os.PathLike,
    size: Size = None,
    side: Side = "short",
    device: torch.device | str | None = None,
    background: tuple[int, int, int] = (255, 255, 255),
    max_pixels: int = MAX_PIXELS,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Read an image file into a ``(1, 3, H, W)`` float32 tensor, RGB in [0, 1].

    Any mode PIL opens works: greyscale is repeated to three channels, palette
    images are expanded, 16-bit images are scaled by 1/65535, transparency is
    composited over ``background`` and the EXIF orientation is applied.

    The size is checked from the file's header before a pixel is decoded: a
    file too large for ``max_pixels`` or for the memory is refused, and a
    large file asked for at a much smaller size is decoded at a reduced scale
    (:data:`REDUCE_ABOVE_PIXELS`).

    Args:
        size: resize on load: an int for the ``side`` ("short" or "long") in
            pixels, an ``(H, W)`` pair, or ``None`` for the file's size.
        device: where the tensor goes (default CPU); checked by
            :func:`stylelab.device.get_device` (a device this machine lacks is a clear error).
        max_pixels: refuse images that would exceed this many pixels after
            resizing (see :data:`MAX_PIXELS`).
        dtype: ``torch.uint8`` reads 8-bit values 0–255 (:func:`from_pil`): a quarter of the
            float32 memory, for code that works on a large photo in bands (the colour map of
            :mod:`stylelab.methods.colour_map`); :func:`save_image` writes it back as it is.
    """
    device = D.get_device(device) if device is not None else None  # before any decoding
    img, (th, tw) = _open(path, size, side, max_pixels)
    tensor = from_pil(img, background, dtype)
    del img  # the decoded file is not held next to the tensor
    if tensor.shape[-2:] != (th, tw) and dtype == torch.uint8:
        tensor = resize(tensor.float() / 255, (th, tw)).mul_(255).add_(0.5).to(torch.uint8)
    tensor = resize(tensor, (th, tw))
    return tensor.to(device) if device is not None else tensor


def unique_path(path: str | os.PathLike) -> Path:
    """The first free ``name-1.ext``, ``name-2.ext``, … next to ``path`` (which is taken): never overwrites."""
    path = Path(path)
    stem, suffix = path.stem, path.suffix
    i = 1
    while True:
        candidate = path.with_name(f"{stem}-{i}{suffix}")
        if not candidate.exists():
            return candidate
        i += 1


def output_path(path: str | os.PathLike, overwrite: bool = False, rename: bool = False) -> Path:
    """The file :func:`save_image` writes for ``path``, checked before any work: call it first.

    A missing suffix becomes ``.png`` (the name returned is the one written);
    the suffix must be a format PIL writes; the parent must be a folder (it is
    created if missing — but a *file* in its place is an error); an existing
    folder at ``path`` is an error even with ``overwrite``; an existing file
    raises :class:`FileExistsError` unless ``overwrite`` (or, with ``rename``,
    the first free ``name-1.png``, ``name-2.png``, … is returned).
    """
    path = Path(path)
    if path.is_dir():  # before the suffix is added: `-o results` naming a folder is not `results.png`
        raise IsADirectoryError(f"{path} is a folder; give a file name for the output (e.g. {path / 'out.png'}).")
    if path.suffix == "":
        path = path.with_suffix(".png")
    if Image.registered_extensions().get(path.suffix.lower()) not in Image.SAVE:
        raise ValueError(f"{path}: unknown image format {path.suffix!r}; use .png or .jpg.")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give a file name for the output (e.g. {path / 'out.png'}).")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(f"cannot write {path}: {parent} is a file, not a folder. Choose another output path.")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise PermissionError(f"cannot write {path}: the folder {parent} is not writable. Choose another output path.")
            break
    if path.exists() and not overwrite:
        if rename:
            return unique_path(path)
        raise FileExistsError(
            f"{path} already exists and was left untouched. Choose another name, "
            "or pass overwrite=True (CLI: --overwrite) to replace it."
        )
    return path


def save_image(
    image: torch.Tensor,
    path: str | os.PathLike,
    overwrite: bool = False,
    rename: bool = False,
) -> Path:
    """Write a ``(1, 3, H, W)`` or ``(3, H, W)`` tensor in [0, 1] (or ``uint8``, 0–255) to ``path``.

    The image is checked first (:func:`stylelab.validate.check_image`): an
    image with NaN or Inf pixels, or a float image in 0–255, is refused — never written as
    a plausible-looking black or white file. Values are then clamped to
    [0, 1]; the format follows the suffix (PNG if none). The file is written
    to a temporary name first and moved into place, so a crash never leaves
    half a file.

    Args:
        overwrite: replace an existing file. Without it an existing file raises
            :class:`FileExistsError` — unless ``rename`` is true, in which case
            ``name-1.png``, ``name-2.png``, … is used instead.

    Returns:
        The path written.
    """
    image = V.check_image(image, "the image to save", channels=None, batch=1, uint8=True)
    if image.shape[1] not in (1, 3):
        raise V.ImageInputError(f"save_image writes RGB or greyscale images, got shape {tuple(image.shape)}")
    path = output_path(path, overwrite=overwrite, rename=rename)
    path.parent.mkdir(parents=True, exist_ok=True)
    pil = to_pil(image)
    fmt = Image.registered_extensions()[path.suffix.lower()]
    save_pil(pil, path, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return path


def save_pil(pil: Image.Image, path: Path, fmt: str, *, overwrite: bool = True, **params) -> None:
    """Write ``pil`` to ``path`` as ``fmt`` atomically: to a temporary file in the same folder, then moved
    into place, so a crash never leaves half a file. The file gets the permissions a plainly created file
    would (``0o666`` less the umask), not the owner-only ones of a temporary file. ``overwrite=False``: an
    existing ``path`` (e.g. one that appeared meanwhile) raises :class:`FileExistsError` and is left untouched."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".stylelab-", suffix=path.suffix, dir=path.parent)
    except OSError as err:
        raise OSError(err.errno, f"cannot write {path}: {err.strerror}. Choose another output path.") from None
    os.close(fd)
    try:
        pil.save(tmp, format=fmt, **params)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        if not overwrite and path.exists():
            raise FileExistsError(f"{path} already exists and was left untouched")
        os.replace(tmp, path)
    except FileExistsError:
        raise
    except OSError as err:
        raise OSError(err.errno, f"cannot write {path}: {err.strerror or err}. Choose another output path.") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
