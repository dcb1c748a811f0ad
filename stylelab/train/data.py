"""Training images for the trainers: image folders and the resumable stream of shuffled batches.

* :class:`ImageFolder` — every readable image under a folder (recursively),
  resized and cropped to squares; unreadable files are skipped with a warning.
* :func:`as_dataset` — a Dataset, an ``(N, 3, H, W)`` tensor or a folder, as a Dataset.
* :class:`Batches` — endless shuffled batches whose place in the sequence is
  saved in a training checkpoint and restored on resume, so a resumed run
  draws the same batches as an unbroken one (:func:`stylelab.train.fit`).
"""

from __future__ import annotations

import os
import random as _random
import warnings
from pathlib import Path

import torch

from ..io import from_pil, open_image, resize

__all__ = ["IMAGE_EXTENSIONS", "ImageFolder", "as_dataset", "Batches"]

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}


class ImageFolder(torch.utils.data.Dataset):
    """Every image file under ``root`` (recursively), as ``(3, size, size)`` float tensors in [0, 1].

    Args:
        root: a folder (searched recursively for :data:`IMAGE_EXTENSIONS`).
        size: side of the square crops returned.
        crop: ``"random"`` (training; AdaIN's ``RandomCrop``), ``"center"``,
            or ``None`` (resize straight to ``size × size``).
        resize: before cropping, resize to this: an int for the shorter side
            or an ``(H, W)`` pair (AdaIN's training used ``(512, 512)`` then a
            random 256 crop). Default: shorter side = ``size``.
        max_images: use at most this many files (sorted order).

    Files that cannot be read are skipped with a warning (the next file is
    returned instead), so one corrupt JPEG does not end a long run.
    """

    def __init__(self, root, size: int = 256, crop: str | None = "random", resize=None, max_images: int | None = None):
        root = Path(root).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"No folder at {root}: give a folder of training images (searched recursively).")
        if crop not in ("random", "center", None):
            raise ValueError(f"crop must be 'random', 'center' or None, got {crop!r}")
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        if max_images is not None:
            files = files[:max_images]
        if not files:
            raise ValueError(f"{root} holds no image files ({', '.join(sorted(IMAGE_EXTENSIONS))}).")
        self.root, self.files, self.size, self.crop = root, files, int(size), crop
        self.resize = resize if resize is not None else int(size)
        self.bad: set[Path] = set()

    def __len__(self) -> int:
        return len(self.files)

    def _load(self, path: Path) -> torch.Tensor:
        x = from_pil(open_image(path))
        s = self.size
        if self.crop is None:
            return resize(x, (s, s))[0]
        x = resize(x, self.resize, side="short")
        h, w = x.shape[-2:]
        if h < s or w < s:  # too small for the crop: upscale the shorter side
            x = resize(x, s, side="short")
            h, w = x.shape[-2:]
        if self.crop == "random":
            top, left = _random.randint(0, h - s), _random.randint(0, w - s)
        else:
            top, left = (h - s) // 2, (w - s) // 2
        return x[0, :, top : top + s, left : left + s].contiguous()

    def __getitem__(self, index: int) -> torch.Tensor:
        for k in range(len(self.files)):
            path = self.files[(index + k) % len(self.files)]
            if path in self.bad:
                continue
            try:
                return self._load(path)
            except (ValueError, OSError) as err:
                self.bad.add(path)
                warnings.warn(f"skipping unreadable image {path}: {err}", stacklevel=2)
        raise RuntimeError(f"none of the {len(self.files)} files under {self.root} could be read")


class _TensorImages(torch.utils.data.Dataset):
    def __init__(self, images: torch.Tensor):
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"an image tensor for training must be (N, 3, H, W), got {tuple(images.shape)}")
        self.images = images

    def __len__(self):
        return self.images.shape[0]

    def __getitem__(self, i):
        return self.images[i]


def as_dataset(images) -> torch.utils.data.Dataset:
    if isinstance(images, torch.utils.data.Dataset):
        return images
    if isinstance(images, torch.Tensor):
        return _TensorImages(images)
    if isinstance(images, (str, os.PathLike)):
        return ImageFolder(images)
    raise TypeError("images must be a Dataset, an (N, 3, H, W) tensor, or a folder path")


class Batches:
    """Endless shuffled batches of ``dataset``, resumable: ``state_dict()`` / ``load_state_dict()``.

    Epoch ``e`` draws, from ``generator``, a permutation ``π`` of the ``N``
    indices (``torch.randperm``) and a seed for the loader's workers; its
    batches are ``π[0:b], π[b:2b], …`` (the last, incomplete one dropped when
    ``N ≥ b``; one batch of all ``N`` images when ``N < b``), loaded by a
    ``DataLoader`` with ``num_workers`` workers. The state is the generator's
    state at the start of the current epoch and the number of its batches
    already drawn: restoring it redraws the same permutation and skips those
    batches without loading them, so the next batch is the one an unbroken
    run would draw. (Random crops of :class:`ImageFolder` use Python's
    ``random``: with ``num_workers=0`` they come from the main process, whose
    generators :func:`stylelab.train.fit` saves as well; in workers they are
    seeded per epoch, so a resumed epoch crops differently.)
    """

    def __init__(self, dataset, batch_size: int, generator: torch.Generator, num_workers: int = 0):
        self.dataset, self.batch_size, self.generator, self.num_workers = dataset, int(batch_size), generator, num_workers
        self.position = 0
        self._epoch_state: torch.Tensor | None = None
        self._iterator = None

    def _start_epoch(self, skip: int = 0) -> None:
        n, b = len(self.dataset), self.batch_size
        self._epoch_state = self.generator.get_state()
        order = torch.randperm(n, generator=self.generator).tolist()
        worker_seed = int(torch.randint(2**62, (), generator=self.generator))
        chunks = [order[i : i + b] for i in range(0, n, b)]
        if n >= b and len(chunks[-1]) < b:
            chunks.pop()
        loader = torch.utils.data.DataLoader(self.dataset, batch_sampler=chunks[skip:], num_workers=self.num_workers,
                                             generator=torch.Generator().manual_seed(worker_seed))
        self._iterator, self.position = iter(loader), skip

    def __iter__(self):
        return self

    def __next__(self):
        if self._iterator is None:
            self._start_epoch()
        try:
            batch = next(self._iterator)
        except StopIteration:  # a new epoch
            self._start_epoch()
            batch = next(self._iterator)
        self.position += 1
        return batch

    def state_dict(self) -> dict:
        """``{"epoch_rng": generator state at the start of this epoch, "position": batches drawn in it}``."""
        if self._epoch_state is None:
            return {"epoch_rng": self.generator.get_state(), "position": 0}
        return {"epoch_rng": self._epoch_state, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        """Continue where ``state`` was taken: the next batch is the one drawn after it."""
        self.generator.set_state(state["epoch_rng"])
        self._start_epoch(skip=int(state["position"]))
