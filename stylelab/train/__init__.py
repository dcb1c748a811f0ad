"""Decoder training shared by every feed-forward method.

* :func:`fit` — a generic loop: Adam with AdaIN's inverse learning-rate decay
  ``lr_t = lr / (1 + lr_decay · t)``, a tqdm bar showing the losses,
  checkpoints (modules + optimiser + step + history) and resume. It never
  overwrites a checkpoint that belongs to a different run.
* :class:`ImageFolder` and the resumable batch stream live in
  :mod:`stylelab.train.data`; the checkpoint mechanism (:func:`open_checkpoint`,
  :func:`save_checkpoint`, also used by trainers with their own loop such as
  :func:`stylelab.methods.cyclegan.train`) in :mod:`stylelab.train.checkpoint`.
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

import random as _random
from pathlib import Path
from typing import Callable, Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import validate as V
from ..device import get_device
from .checkpoint import open_checkpoint, save_checkpoint
from .data import Batches, as_dataset
from ..features.transforms import adain, mean_std

__all__ = ["fit", "History", "AdaINLoss", "ReconstructionLoss",
]


class History(dict):
    """``{"step": [...], "lr": [...], "total": [...], ...}``; ``.checkpoint`` is the file actually written (or ``None``)."""

    checkpoint: Path | None = None


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
        device: where to train (default :func:`stylelab.device.get_device`); the
            modules are moved there.
        checkpoint: file to save to every ``save_every`` steps and at the end
            (:func:`save_checkpoint`; the optimiser is saved as ``"adam"``).
        resume: continue from ``checkpoint`` if it exists (:func:`open_checkpoint`):
            weights, optimiser state, step, history and the random state — the
            batch stream's place (:class:`~stylelab.train.data.Batches`), Python's
            ``random`` (:class:`ImageFolder`'s crops) and torch's CPU generator
            (e.g. :class:`AdaINLoss`'s style draws) — so that, with
            ``num_workers=0``, a run interrupted after a save and resumed sees
            the same batches and ends with the weights of an unbroken run.
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
    V.check_positive(lr, "lr (--lr)")
    V.check_positive(lr_decay, "lr_decay (--lr-decay)", allow_zero=True)
    if not modules:
        raise ValueError("modules must name at least one nn.Module to train, e.g. {'decoder': decoder}")
    device = get_device(device)
    dataset = as_dataset(images)
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
    batches = Batches(dataset, batch_size, gen, num_workers)
    if state is not None and "rng" in state:  # files written before the sampler was saved start a new order
        batches.load_state_dict(state["rng"]["batches"])
        _random.setstate(_python_random_state(state["rng"]["python"]))
        torch.set_rng_state(state["rng"]["torch"])
    config = {"batch_size": batch_size, "lr": lr, "lr_decay": lr_decay, "steps": steps}

    def save(step):
        rng = {"batches": batches.state_dict(), "python": _random.getstate(), "torch": torch.get_rng_state()}
        save_checkpoint(path, modules, optimizers, step=step, history=history, config=config, rng=rng)

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
                    f"the loss became {total.item()} at step {step}: lower --lr (now {lr}), check the loss weights "
                    "or check the training images (an image of one colour carries no content)"
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


def _python_random_state(saved) -> tuple:
    """``random.getstate()`` back from a checkpoint (saved as nested tuples, possibly read back as lists)."""
    version, internal, gauss = saved
    return int(version), tuple(int(v) for v in internal), gauss


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
        decoder: the trainable :class:`~stylelab.nets.decoders.MirrorDecoder` (level 4).
        styles: a Dataset or an ``(N, 3, H, W)`` tensor of style images
            (same crop size as the content batches).
    """

    LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")

    def __init__(self, encoder, decoder, styles, content_weight: float = 1.0, style_weight: float = 10.0):
        self.encoder, self.decoder = encoder, decoder
        self.styles = as_dataset(styles)
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


# Submodules load on first use: stylelab.train.<module> works after `import stylelab` alone.
from .._lazy import lazy_submodules  # noqa: E402

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
