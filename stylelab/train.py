"""Decoder training shared by every feed-forward method.

* :class:`ImageFolder` — every readable image under a folder (recursively),
  resized and cropped to squares; unreadable files are skipped with a warning.
* :func:`fit` — a generic loop: Adam with AdaIN's inverse learning-rate decay
  ``lr_t = lr / (1 + lr_decay · t)``, a tqdm bar showing the losses,
  checkpoints (modules + optimiser + step + history) and resume. It never
  overwrites a checkpoint that belongs to a different run.
* :func:`open_checkpoint` / :func:`save_checkpoint` — that checkpoint
  mechanism on its own, for trainers with their own loop (CycleGAN's two
  optimisers, :func:`stylelab.methods.cyclegan.train`).
* Losses: :class:`AdaINLoss` (Huang & Belongie, ICCV 2017: content
  ``‖φ₄(g(t)) − t‖²`` + 10 × moment style loss over relu1_1…relu4_1) and
  :class:`ReconstructionLoss` (Li et al., NeurIPS 2017: pixel
  ``‖g(φ_L(x)) − x‖²`` + λ feature ``‖φ_L(g(φ_L(x))) − φ_L(x)‖²``; with
  max-unpooling decoders it passes the encoder's switches, as PhotoWCT needs).
* ``stylelab train --method NAME``: the command (:mod:`stylelab.cli`) runs :func:`fit` on the
  loss a method registers (:class:`stylelab.methods.TrainSpec`).

The PhotoWCT and WCT² authors never released training code; this trainer
works for their decoders too (write a ``loss_fn`` and pass the modules).
"""

from __future__ import annotations

import hashlib
import os
import random as _random
import warnings
from pathlib import Path
from typing import Callable, Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from .device import get_device
from .io import from_pil, open_image, resize, unique_path
from .transforms import adain, mean_std

__all__ = [
    "ImageFolder", "fit", "History", "AdaINLoss", "ReconstructionLoss", "load_module_state",
    "IMAGE_EXTENSIONS", "CheckpointConflictError", "open_checkpoint", "save_checkpoint",
]

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
FORMAT = "stylelab-train-v1"


class History(dict):
    """``{"step": [...], "lr": [...], "total": [...], ...}``; ``.checkpoint`` is the file actually written (or ``None``)."""

    checkpoint: Path | None = None


class CheckpointConflictError(ValueError):
    """A checkpoint file exists but belongs to a different training run."""


# ============================================================================ data
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


def _as_dataset(images) -> torch.utils.data.Dataset:
    if isinstance(images, torch.utils.data.Dataset):
        return images
    if isinstance(images, torch.Tensor):
        return _TensorImages(images)
    if isinstance(images, (str, os.PathLike)):
        return ImageFolder(images)
    raise TypeError("images must be a Dataset, an (N, 3, H, W) tensor, or a folder path")


def _batches(dataset, batch_size: int, generator: torch.Generator, num_workers: int = 0):
    """Endless shuffled batches (a new epoch when the data run out)."""
    while True:
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=batch_size, shuffle=True, drop_last=len(dataset) >= batch_size,
            num_workers=num_workers, generator=generator,
        )
        yield from loader


# ============================================================================ checkpoints
def _signature(modules: Mapping[str, nn.Module]) -> str:
    """Identifies a run by its modules' names, parameter names and shapes."""
    h = hashlib.sha1()
    for name in sorted(modules):
        for key, t in modules[name].state_dict().items():
            h.update(f"{name}.{key}:{tuple(t.shape)};".encode())
    return h.hexdigest()[:16]


def _save(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)  # atomic: a crash never leaves half a checkpoint


def _read(path: Path) -> dict:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)  # never unpickle arbitrary code
    except Exception as err:
        raise CheckpointConflictError(
            f"{path} exists but is not a readable checkpoint ({type(err).__name__}: {err}). "
            "Choose another checkpoint path; stylelab will not overwrite it."
        ) from err
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointConflictError(
            f"{path} exists and is not a stylelab training checkpoint (a pretrained file?). "
            "Choose another checkpoint path; stylelab will not overwrite it."
        )
    return obj


def load_module_state(checkpoint, name: str = "decoder") -> dict[str, torch.Tensor]:
    """The state dict of module ``name`` saved by :func:`fit` in ``checkpoint`` (for ``load_state_dict``)."""
    obj = _read(Path(checkpoint))
    if name not in obj["modules"]:
        raise KeyError(f"{checkpoint} holds modules {sorted(obj['modules'])}, not {name!r}")
    return obj["modules"][name]


def open_checkpoint(checkpoint, modules: Mapping[str, nn.Module], optimizers: Mapping[str, torch.optim.Optimizer],
                    *, resume: bool = True) -> tuple[Path | None, dict | None]:
    """Where a training run saves, and the state it resumes from (the one checkpoint mechanism of every trainer).

    ``checkpoint=None``: no file, ``(None, None)``. A file that does not exist
    yet: ``(path, None)``. An existing file with ``resume=True``: it must be a
    checkpoint of the same run — the same module names, parameter names and
    shapes (its ``signature``) and the same optimiser names — else
    :class:`CheckpointConflictError`; the saved weights are loaded into
    ``modules`` and the optimiser states into ``optimizers`` (in place), and
    the whole saved dictionary is returned (``step``, ``history``, ``config``
    and whatever else the trainer saved) as ``(path, state)``. With
    ``resume=False`` the file is kept and the run writes to a free name
    ``name-1.pth`` instead (with a warning): ``(new_path, None)``.
    """
    path = Path(checkpoint).expanduser() if checkpoint is not None else None
    if path is None or not path.exists():
        return path, None
    if not resume:
        new = unique_path(path)
        warnings.warn(f"{path} exists and resume=False: saving this run to {new} instead", stacklevel=3)
        return new, None
    state = _read(path)
    if "optimizers" not in state and "optimizer" in state:  # files written before trainers had several optimisers
        state["optimizers"] = {"adam": state.pop("optimizer")}
    if state.get("signature") != _signature(modules) or set(state.get("optimizers", {})) != set(optimizers):
        raise CheckpointConflictError(
            f"{path} belongs to a different training run (modules {sorted(state.get('modules', {}))}, "
            f"optimisers {sorted(state.get('optimizers', {}))}; this run has {sorted(modules)}, {sorted(optimizers)}, "
            "or other shapes). Give a new checkpoint path, or delete the file yourself."
        )
    for name, m in modules.items():
        m.load_state_dict(state["modules"][name])
    for name, opt in optimizers.items():
        opt.load_state_dict(state["optimizers"][name])
    return path, state


def save_checkpoint(path, modules: Mapping[str, nn.Module], optimizers: Mapping[str, torch.optim.Optimizer], *,
                    step: int, history: Mapping, config: Mapping, **extra) -> None:
    """Write a training checkpoint atomically (nothing when ``path`` is ``None``).

    The file holds ``{"format", "signature", "step", "config", "history",
    "modules": {name: state_dict}, "optimizers": {name: state_dict}, **extra}``
    on the CPU, readable with ``torch.load(..., weights_only=True)``; ``extra``
    is trainer-specific state (random-number generators, image pools), plain
    tensors, numbers, strings, lists, tuples and dicts only.
    """
    if path is None:
        return
    _save(Path(path), {
        "format": FORMAT, "signature": _signature(modules), "step": int(step), "config": dict(config),
        "history": dict(history),
        "modules": {n: {k: v.detach().cpu() for k, v in m.state_dict().items()} for n, m in modules.items()},
        "optimizers": {n: opt.state_dict() for n, opt in optimizers.items()},
        **extra,
    })


# ============================================================================ the loop
def fit(
    loss_fn: Callable[[torch.Tensor], Mapping[str, torch.Tensor]],
    modules: Mapping[str, nn.Module],
    images,
    *,
    steps: int,
    batch_size: int = 8,
    lr: float = 1e-4,
    lr_decay: float = 5e-5,
    device=None,
    checkpoint=None,
    resume: bool = True,
    save_every: int = 1000,
    progress: bool = True,
    log_every: int = 10,
    seed: int | None = None,
    num_workers: int = 0,
) -> History:
    """Optimise the trainable parameters of ``modules`` to minimise ``loss_fn``.

    Each step draws a batch ``x`` (``(batch_size, 3, H, W)``, on ``device``),
    computes ``losses = loss_fn(x)`` — a dict of scalar tensors with a
    ``"total"`` key — and takes an Adam step on ``losses["total"]`` with the
    learning rate ``lr / (1 + lr_decay · step)`` (pytorch-AdaIN's schedule).
    Only parameters with ``requires_grad`` are optimised (freeze encoders with
    ``.requires_grad_(False)``); modules with trainable parameters are put in
    train mode during the run and back in eval mode after.

    Args:
        images: a Dataset of ``(3, H, W)`` tensors, an ``(N, 3, H, W)`` tensor,
            or a folder (:class:`ImageFolder`).
        steps: total number of steps (a resumed run continues to ``steps``).
        device: where to train (default :func:`stylelab.get_device`); the
            modules are moved there.
        checkpoint: file to save to every ``save_every`` steps and at the end
            (:func:`save_checkpoint`; the optimiser is saved as ``"adam"``).
        resume: continue from ``checkpoint`` if it exists (:func:`open_checkpoint`).
            A file from a different run (other modules/shapes, or not a
            stylelab checkpoint) raises :class:`CheckpointConflictError`. With
            ``resume=False`` an existing file is kept and the new run saves
            under a free name ``name-1.pth`` (with a warning).
        log_every: record the losses in the history every this many steps.

    Returns:
        :class:`History` ``{"step": [...], "lr": [...], "total": [...], <other losses>: [...]}``
        with ``.checkpoint``, the path written (a new name when ``resume=False`` avoided one).
    """
    from tqdm.auto import tqdm


    if steps < 0 or batch_size < 1 or log_every < 1 or save_every < 1:
        raise ValueError("steps must be ≥ 0 and batch_size, log_every, save_every ≥ 1")
    if not modules:
        raise ValueError("modules must name at least one nn.Module to train, e.g. {'decoder': decoder}")
    device = get_device(device)
    dataset = _as_dataset(images)
    for m in modules.values():
        m.to(device)
    params = [p for m in modules.values() for p in m.parameters() if p.requires_grad]
    if not params:
        raise ValueError("no parameter of `modules` requires grad: nothing to train")
    trainable = [m for m in modules.values() if any(p.requires_grad for p in m.parameters())]
    optimizer = torch.optim.Adam(params, lr=lr)
    optimizers = {"adam": optimizer}
    history = History(step=[], lr=[])
    start = 0
    path, state = open_checkpoint(checkpoint, modules, optimizers, resume=resume)
    if state is not None:
        start = int(state["step"])
        history = History({k: list(v) for k, v in state["history"].items()})

    gen = torch.Generator().manual_seed(seed if seed is not None else torch.initial_seed() % 2**63)
    if seed is not None:
        _random.seed(seed)
    batches = _batches(dataset, batch_size, gen, num_workers)
    config = {"batch_size": batch_size, "lr": lr, "lr_decay": lr_decay, "steps": steps}

    def save(step):
        save_checkpoint(path, modules, optimizers, step=step, history=history, config=config)

    history.checkpoint = path
    for m in trainable:
        m.train()
    bar = tqdm(range(start, steps), initial=start, total=steps, disable=not progress, desc="training")
    try:
        for step in bar:
            rate = lr / (1.0 + lr_decay * step)
            for g in optimizer.param_groups:
                g["lr"] = rate
            batch = next(batches)
            if isinstance(batch, (list, tuple)):  # (images, labels) datasets such as torchvision's ImageFolder
                batch = batch[0]
            batch = batch.to(device, non_blocking=True)
            losses = loss_fn(batch)
            if not isinstance(losses, Mapping) or "total" not in losses:
                raise TypeError("loss_fn must return a dict of scalar tensors with a 'total' key")
            total = losses["total"]
            if not torch.isfinite(total):
                raise FloatingPointError(
                    f"the loss became {total.item()} at step {step}: lower lr (now {lr}) or check the inputs"
                )
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
            done = step + 1
            if done % log_every == 0 or done == steps or step == start:
                history["step"].append(done)
                history["lr"].append(rate)
                for k, v in losses.items():
                    history.setdefault(k, []).append(float(v.detach()))
                bar.set_postfix({k: f"{float(v.detach()):.3g}" for k, v in losses.items()})
            if done % save_every == 0 and done != steps:
                save(done)
        save(max(steps, start))
    finally:
        bar.close()
        for m in trainable:
            m.eval()
    return history


# ============================================================================ losses
class AdaINLoss:
    """AdaIN's training loss (Huang & Belongie 2017, Eq. 11–13; pytorch-AdaIN ``net.py``).

    For content ``x`` and a style batch ``y`` drawn from ``styles``:
    ``t = AdaIN(φ₄(x), φ₄(y))`` (relu4_1, "pytorch" preset), ``g(t)`` decoded,

    * content: ``MSE(φ₄(g(t)), t)`` — the target is ``t``, not ``φ₄(x)``;
    * style: ``Σ_{i ∈ relu1_1..relu4_1} MSE(μ(φ_i(g(t))), μ(φ_i(y))) + MSE(σ(·), σ(·))``
      (unbiased variance + 1e-5);
    * total = ``content_weight · content + style_weight · style`` (1 and 10).

    Args:
        encoder: a frozen normalised VGG up to ``relu4_1``.
        decoder: the trainable :class:`~stylelab.decoders.MirrorDecoder` (level 4).
        styles: a Dataset or an ``(N, 3, H, W)`` tensor of style images
            (same crop size as the content batches).
    """

    LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")

    def __init__(self, encoder, decoder, styles, content_weight: float = 1.0, style_weight: float = 10.0):
        self.encoder, self.decoder = encoder, decoder
        self.styles = _as_dataset(styles)
        self.content_weight, self.style_weight = content_weight, style_weight

    def _style_batch(self, n: int, device) -> torch.Tensor:
        idx = torch.randint(len(self.styles), (n,)).tolist()
        return torch.stack([self.styles[i] for i in idx]).to(device)

    def __call__(self, content: torch.Tensor) -> dict[str, torch.Tensor]:

        style = self._style_batch(content.shape[0], content.device)
        with torch.no_grad():
            s_feats = self.encoder(style, layers=self.LAYERS)
            c4 = self.encoder(content, layers="relu4_1")["relu4_1"]
            t = adain(c4, s_feats["relu4_1"])
        out = self.decoder(t)
        g_feats = self.encoder(out, layers=self.LAYERS)
        content_loss = F.mse_loss(g_feats["relu4_1"], t)
        style_loss = content.new_zeros(())
        for layer in self.LAYERS:
            mg, sg = mean_std(g_feats[layer])
            ms, ss = mean_std(s_feats[layer])
            style_loss = style_loss + F.mse_loss(mg, ms) + F.mse_loss(sg, ss)
        total = self.content_weight * content_loss + self.style_weight * style_loss
        return {"total": total, "content": content_loss.detach(), "style": style_loss.detach()}


class ReconstructionLoss:
    """Reconstruction loss for a WCT / PhotoWCT decoder at ``relu{level}_1`` (Li et al. 2017, Eq. 1).

    ``L = ‖g(φ(x)) − x‖² + λ ‖φ(g(φ(x))) − φ(x)‖²`` (means over elements), with
    ``φ`` the frozen encoder up to ``relu{level}_1`` and ``g`` the decoder. A
    max-unpooling decoder (``decoder.unpool == "max"``) gets the encoder's
    pooling switches.
    """

    def __init__(self, encoder, decoder, level: int | None = None, feature_weight: float = 1.0):
        self.encoder, self.decoder = encoder, decoder
        self.level = int(level if level is not None else decoder.level)
        self.layer = f"relu{self.level}_1"
        self.feature_weight = feature_weight

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        use_switches = getattr(self.decoder, "unpool", "nearest") == "max"
        with torch.no_grad():
            feats = self.encoder(images, layers=self.layer, switches=use_switches)
        f = feats[self.layer]
        out = self.decoder(f, feats.switches) if use_switches else self.decoder(f)
        pixel = F.mse_loss(out, images)
        feature = F.mse_loss(self.encoder(out, layers=self.layer)[self.layer], f)
        return {"total": pixel + self.feature_weight * feature, "pixel": pixel.detach(), "feature": feature.detach()}
