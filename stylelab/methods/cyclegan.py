"""CycleGAN: style transfer between two image *collections*, learned without pairs.

Zhu, Park, Isola & Efros, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks", ICCV 2017 (official code:
junyanz/pytorch-CycleGAN-and-pix2pix). Given photos of domain ``A`` and of
domain ``B`` — but no pair showing the same scene in both — learn
``G: A → B`` and ``F: B → A`` with discriminators ``D_B`` (is this a real
``B``?) and ``D_A``:

    L = L_GAN(G, D_B) + L_GAN(F, D_A) + λ_cyc L_cyc(G, F) + λ_id L_id(G, F)

* least-squares adversarial loss (Mao et al., "Least Squares Generative
  Adversarial Networks", ICCV 2017), the official default: the discriminator
  minimises ``½ E[(D(b) − 1)²] + ½ E[D(G(a))²]``, the generator
  ``E[(D(G(a)) − 1)²]``;
* cycle consistency ``L_cyc = E‖F(G(a)) − a‖₁ + E‖G(F(b)) − b‖₁``: translating
  there and back must return the input, so ``G`` cannot map every photo to
  the same convincing ``B`` image. It is zero exactly when ``F ∘ G`` and
  ``G ∘ F`` are the identity on the data — when ``F`` inverts ``G``;
* identity ``L_id = E‖G(b) − b‖₁ + E‖F(a) − a‖₁``: an image already in the
  target domain should pass unchanged (keeps colours; the official code
  weights it ``0.5 · λ_cyc``).

Networks: the generator is Johnson et al.'s transformation network
(:class:`stylelab.nets.transformnet.TransformNet`, instance norm, transposed
convolutions, 7×7 outer convolutions — the paper adopts Johnson's
architecture; the official code uses 9 residual blocks at 256 px, 6 at 128 px
and instance norm without affine parameters, stylelab's has them). The
discriminator is a PatchGAN (Isola et al., "Image-to-Image Translation with
Conditional Adversarial Networks", CVPR 2017): a fully convolutional net
whose every output judges one patch (70×70 px with three stride-2 layers).
Discriminators see a history of generated images
(:class:`ImagePool`, Shrivastava et al., CVPR 2017). Adam ``lr = 2·10⁻⁴``,
``β₁ = 0.5``, constant then linearly decayed to 0.

Images are ``(B, 3, H, W)`` in [0, 1] at the interface; the discriminator
maps them to [−1, 1] as the official code's inputs.
"""

from __future__ import annotations

import random as _random
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn

from ..device import get_device
from ..train import History
from ..train.checkpoint import FORMAT, load_module_state, open_checkpoint, save_checkpoint
from . import Method, TransferRun, register
from .johnson import load, stylize
from ..nets.transformnet import TransformNet

__all__ = [
    "generator", "PatchDiscriminator", "ImagePool", "CycleGAN", "lsgan_loss", "cycle_loss", "identity_loss",
    "train", "load_generator", "add_cli_arguments", "run_cli",
]


def generator(width: int = 64, n_blocks: int = 9) -> TransformNet:
    """CycleGAN's ResNet generator: ``c7s1-w, d2w, d4w, n_blocks × R4w, u2w, uw, c7s1-3`` (Johnson's network)."""
    return TransformNet(width, n_blocks, norm="instance", upsample="transposed", outer_kernel=7)


class PatchDiscriminator(nn.Module):
    """PatchGAN: ``C(w) → C(2w) → … → C(2^{n−1}w, stride 1) → 1-channel map`` of real/fake scores.

    ``C(k)``: 4×4 convolution (stride 2 unless noted) → instance norm (not on
    the first layer) → LeakyReLU(0.2). ``(B, 3, H, W)`` in [0, 1] →
    ``(B, 1, H', W')``, one unbounded score per overlapping patch (least-squares
    targets 1 = real, 0 = fake). With ``n_layers=3`` each score's convolutions
    see a 70×70 window (instance norm's statistics are still image-wide).
    """

    def __init__(self, width: int = 64, n_layers: int = 3):
        super().__init__()
        if width < 1 or n_layers < 1:
            raise ValueError("width and n_layers must be ≥ 1")
        layers: list[nn.Module] = [nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        ch = width
        for i in range(1, n_layers + 1):
            out = width * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(ch, out, 4, stride, 1), nn.InstanceNorm2d(out, affine=True), nn.LeakyReLU(0.2)]
            ch = out
        layers.append(nn.Conv2d(ch, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"PatchDiscriminator expects (B, 3, H, W) images, got {tuple(x.shape)}")
        return self.net(x * 2 - 1)


class ImagePool:
    """A buffer of up to ``size`` generated images; the discriminator is trained on a mix of new and old fakes.

    For each image of a batch: while the pool is not full, store it and
    return it; afterwards, with probability ½ return it, else return a stored
    image and put the new one in its place (Shrivastava et al. 2017; the
    official ``ImagePool``). ``size=0`` disables the pool.
    """

    def __init__(self, size: int = 50, seed: int = 0):
        self.size, self.images = int(size), []
        self.rng = _random.Random(seed)

    def state_dict(self) -> dict:
        """The stored images and the random state (for checkpoints: a resumed run draws as the unbroken one)."""
        return {"size": self.size, "images": [im.detach().cpu() for im in self.images], "rng": self.rng.getstate()}

    def load_state_dict(self, state: dict, device=None) -> None:
        """Restore :meth:`state_dict`'s images (moved to ``device``) and random state."""
        if int(state["size"]) != self.size:
            raise ValueError(f"this pool holds {self.size} images, the saved one {state['size']}: use the same pool_size")
        self.images = [im.to(device) for im in state["images"]]
        self.rng.setstate(state["rng"])

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return batch
        out = []
        for img in batch.detach():
            img = img[None]
            if len(self.images) < self.size:
                self.images.append(img)
                out.append(img)
            elif self.rng.random() < 0.5:
                k = self.rng.randrange(self.size)
                out.append(self.images[k])
                self.images[k] = img
            else:
                out.append(img)
        return torch.cat(out)


def lsgan_loss(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss ``mean (D − t)²`` with target ``t = 1`` (real) or ``0`` (fake)."""
    return (scores - (1.0 if real else 0.0)).pow(2).mean()


def cycle_loss(g, f, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``mean|F(G(a)) − a| + mean|G(F(b)) − b|`` (L1, averaged over elements)."""
    return (f(g(a)) - a).abs().mean() + (g(f(b)) - b).abs().mean()


def identity_loss(g, f, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``mean|G(b) − b| + mean|F(a) − a|``: images already in the target domain pass unchanged."""
    return (g(b) - b).abs().mean() + (f(a) - a).abs().mean()


class CycleGAN(nn.Module):
    """The four networks: ``g`` (A→B), ``f`` (B→A), ``d_a``, ``d_b``. Sizes as :func:`generator` / :class:`PatchDiscriminator`."""

    def __init__(self, width: int = 64, n_blocks: int = 9, d_width: int = 64, d_layers: int = 3):
        super().__init__()
        self.g, self.f = generator(width, n_blocks), generator(width, n_blocks)
        self.d_a, self.d_b = PatchDiscriminator(d_width, d_layers), PatchDiscriminator(d_width, d_layers)
        self.pretrained = False

    @torch.no_grad()
    def a_to_b(self, a: torch.Tensor) -> torch.Tensor:
        return self.g.eval()(a)

    @torch.no_grad()
    def b_to_a(self, b: torch.Tensor) -> torch.Tensor:
        return self.f.eval()(b)


@dataclass
class TrainConfig:
    """Settings of :func:`train` (the official defaults, except the pool, which is scaled to small runs)."""

    steps: int = 1000
    batch_size: int = 1
    lr: float = 2e-4
    beta1: float = 0.5
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    decay_from: float = 0.5
    pool_size: int = 50


def train(model: CycleGAN, domain_a: torch.Tensor, domain_b: torch.Tensor, config: TrainConfig | None = None, *,
          device=None, seed: int | None = 0, progress: bool = True, log_every: int = 10, checkpoint=None,
          resume: bool = True, save_every: int = 100, **overrides) -> History:
    """Train ``model`` on two unpaired image collections.

    Each step draws a batch from each collection and takes (1) one Adam step
    on both generators with ``L_GAN(G) + L_GAN(F) + λ_cyc L_cyc + λ_id·λ_cyc L_id``
    (discriminators fixed), then (2) one Adam step on both discriminators
    with ``½ (D(real) − 1)² + ½ D(pool(fake))²``. The learning rate is
    constant for the first ``decay_from · steps`` steps, then falls linearly
    to 0.

    Args:
        domain_a, domain_b: ``(N_A, 3, H, W)`` and ``(N_B, 3, H, W)`` in [0, 1] (``N_A ≠ N_B`` is fine).
        config: :class:`TrainConfig`; keyword ``overrides`` replace its fields.
        checkpoint: file saved every ``save_every`` steps and at the end, through the
            trainer's one mechanism (:func:`stylelab.train.checkpoint.save_checkpoint`): the four
            networks (``g``, ``f``, ``d_a``, ``d_b``), both optimisers (``g``, ``d``),
            the step, the history, the batch sampler's random state and both image pools.
        resume: continue from ``checkpoint`` if it exists (:func:`stylelab.train.checkpoint.open_checkpoint`:
            a file of another run raises :class:`~stylelab.train.checkpoint.CheckpointConflictError`;
            ``resume=False`` keeps it and saves to a free name). With the same data,
            config and seed, a run interrupted after a save and resumed ends with
            exactly the weights of an unbroken run; ``steps`` is the total, so a
            finished run resumed with a larger ``steps`` trains on (its learning-rate
            schedule is then that of the new total).

    Returns:
        :class:`~stylelab.train.History` ``{"step", "g_gan", "cycle", "identity", "d", "lr"}``,
        one entry per ``log_every`` steps (continued across a resume); ``.checkpoint`` is the file written.
    """
    from tqdm.auto import tqdm


    cfg = config or TrainConfig()
    for k, v in overrides.items():
        if not hasattr(cfg, k):
            raise TypeError(f"unknown CycleGAN training option {k!r}")
        setattr(cfg, k, v)
    for name, d in (("domain_a", domain_a), ("domain_b", domain_b)):
        if d.dim() != 4 or d.shape[1] != 3 or d.shape[0] < 1:
            raise ValueError(f"{name} must be an (N, 3, H, W) image tensor, got {tuple(d.shape)}")
    if cfg.steps < 0 or cfg.batch_size < 1 or save_every < 1 or log_every < 1:
        raise ValueError("steps must be ≥ 0 and batch_size, save_every, log_every ≥ 1")
    device = get_device(device)
    model.to(device)
    domain_a, domain_b = domain_a.to(device), domain_b.to(device)
    gen = torch.Generator().manual_seed(seed if seed is not None else torch.initial_seed() % 2**63)
    opt_g = torch.optim.Adam([*model.g.parameters(), *model.f.parameters()], lr=cfg.lr, betas=(cfg.beta1, 0.999))
    opt_d = torch.optim.Adam([*model.d_a.parameters(), *model.d_b.parameters()], lr=cfg.lr, betas=(cfg.beta1, 0.999))
    pool_a, pool_b = ImagePool(cfg.pool_size, seed or 0), ImagePool(cfg.pool_size, (seed or 0) + 1)
    hist = History({k: [] for k in ("step", "g_gan", "cycle", "identity", "d", "lr")})
    modules = {"g": model.g, "f": model.f, "d_a": model.d_a, "d_b": model.d_b}
    optimizers = {"g": opt_g, "d": opt_d}
    path, state = open_checkpoint(checkpoint, modules, optimizers, resume=resume)
    start = 0
    if state is not None:
        start = int(state["step"])
        hist = History({k: list(v) for k, v in state["history"].items()})
        gen.set_state(state["rng"])
        pool_a.load_state_dict(state["pools"]["a"], device)
        pool_b.load_state_dict(state["pools"]["b"], device)
    hist.checkpoint = path

    def save(step):
        save_checkpoint(path, modules, optimizers, step=step, history=hist, config=asdict(cfg), rng=gen.get_state(),
                        pools={"a": pool_a.state_dict(), "b": pool_b.state_dict()})

    model.train()
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not progress, desc="CycleGAN")
    try:
        for step in bar:
            start = cfg.decay_from * cfg.steps
            rate = cfg.lr * (1.0 if step < start else max(0.0, 1 - (step - start) / max(1.0, cfg.steps - start)))
            for opt in (opt_g, opt_d):
                for group in opt.param_groups:
                    group["lr"] = rate
            a = domain_a[torch.randint(domain_a.shape[0], (cfg.batch_size,), generator=gen).to(device)]
            b = domain_b[torch.randint(domain_b.shape[0], (cfg.batch_size,), generator=gen).to(device)]
            # (1) generators, discriminators frozen
            model.d_a.requires_grad_(False)
            model.d_b.requires_grad_(False)
            fake_b, fake_a = model.g(a), model.f(b)
            g_gan = lsgan_loss(model.d_b(fake_b), True) + lsgan_loss(model.d_a(fake_a), True)
            cyc = (model.f(fake_b) - a).abs().mean() + (model.g(fake_a) - b).abs().mean()
            idt = identity_loss(model.g, model.f, a, b) if cfg.lambda_identity else a.new_zeros(())
            loss_g = g_gan + cfg.lambda_cycle * cyc + cfg.lambda_identity * cfg.lambda_cycle * idt
            if not torch.isfinite(loss_g):
                raise FloatingPointError(f"the generator loss became {loss_g.item()} at step {step}: lower lr")
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            # (2) discriminators, on pooled fakes
            model.d_a.requires_grad_(True)
            model.d_b.requires_grad_(True)
            pb, pa = pool_b(fake_b.detach()), pool_a(fake_a.detach())
            loss_d = 0.5 * (lsgan_loss(model.d_b(b), True) + lsgan_loss(model.d_b(pb), False)) \
                + 0.5 * (lsgan_loss(model.d_a(a), True) + lsgan_loss(model.d_a(pa), False))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            done = step + 1
            if done % log_every == 0 or done == cfg.steps or step == 0:
                for k, v in (("step", done), ("g_gan", g_gan), ("cycle", cyc), ("identity", idt), ("d", loss_d), ("lr", rate)):
                    hist[k].append(float(v.detach()) if isinstance(v, torch.Tensor) else float(v))
                bar.set_postfix(cycle=f"{float(cyc.detach()):.3g}", d=f"{float(loss_d.detach()):.3g}")
            if done % save_every == 0 and done != cfg.steps:
                save(done)
        save(max(cfg.steps, start))
    finally:
        bar.close()
        model.eval()
    return hist


def load_generator(path, direction: str | None = None, device=None) -> TransformNet:
    """A trained generator, frozen, in eval mode, ``.pretrained = True``.

    ``path``: a :func:`train` checkpoint (``direction="a_to_b"``, the default, takes ``G``,
    ``"b_to_a"`` takes ``F``), or a file holding one generator's
    ``state_dict()`` (read by :func:`stylelab.methods.johnson.load`; the
    direction is then the file's, and giving ``direction`` is an error, not ignored).
    A ``stylelab train --method johnson|cin`` checkpoint is refused: it is not a CycleGAN.
    """
    if direction not in (None, "a_to_b", "b_to_a"):
        raise ValueError(f"direction must be 'a_to_b' (G) or 'b_to_a' (F), got {direction!r}")
    path = Path(path).expanduser()
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True) if path.is_file() else None
    except Exception:  # not a torch file: johnson.load says so
        obj = None
    if isinstance(obj, dict) and obj.get("format") == FORMAT and {"g", "f"} <= set(obj.get("modules", {})):
        net = TransformNet.from_state_dict(load_module_state(path, "f" if direction == "b_to_a" else "g"))
        net.pretrained = True
        return net.eval().requires_grad_(False).to(get_device(device))
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        raise ValueError(f"{path} is a training checkpoint of modules {sorted(obj.get('modules', {}))}, not a CycleGAN "
                         "(modules g and f): a johnson/cin model runs with --method johnson or --method cin")
    if direction is not None:
        raise ValueError(f"{path} holds one generator, whose direction is fixed: --direction (direction=) applies to a "
                         "CycleGAN training checkpoint (G and F); drop it")
    return load(path, device=device)


# ============================================================================ CLI
def add_cli_arguments(parser) -> None:
    parser.add_argument("--model", default=None,
                        help="a trained CycleGAN (required): a checkpoint of stylelab.methods.cyclegan.train(..., "
                             "checkpoint=FILE), or one generator saved with torch.save(model.g.state_dict(), FILE)")
    parser.add_argument("--direction", choices=("a_to_b", "b_to_a"), default=None,
                        help="with a training checkpoint: translate A→B (G, default) or B→A (F)")


def run_cli(content, style, run: TransferRun, *, model: str | None, direction: str | None) -> torch.Tensor:
    """``stylelab transfer --method cyclegan --model FILE``; the options of :func:`add_cli_arguments`."""
    if not model:
        raise ValueError("give a trained CycleGAN with --model FILE (train with stylelab.methods.cyclegan.train)")
    if style is not None:
        print("note: a CycleGAN generator carries its target domain; the STYLE image is not used")
    return stylize(load_generator(model, direction, device=run.device), content)


register(Method(
    name="cyclegan", order=70,
    summary="CycleGAN, Zhu et al., ICCV 2017: translate between two image collections (unpaired, cycle-consistent)",
    add_cli_arguments=add_cli_arguments, run_cli=run_cli, needs_style=False,
))
