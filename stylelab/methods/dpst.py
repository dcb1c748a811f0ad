"""Deep Photo Style Transfer: Gatys et al. plus a photorealism term from the matting Laplacian.

Luan, Paris, Shechtman, Bala, "Deep Photo Style Transfer", CVPR 2017.

    L_total = α Σ_ℓ L_c^ℓ + Γ Σ_ℓ L_s+^ℓ + λ L_m (+ tv · TV)

* photorealism (matting) term: L_m = Σ_{c∈RGB} V_cᵀ L V_c, V_c the output channel
  (row-major, [0, 1]), L the matting Laplacian of the content
  (:mod:`stylelab.smoothing.matting`). Its gradient is exactly 2 L V_c, computed here with
  the matrix-free operator (O(N) memory, any device) — :func:`photorealism_loss`.
* augmented style loss over segmentation labels: for each label c present in
  both images, Gram matrices of the features masked by the label's (resized)
  mask, G_c = (F M_c)(F M_c)ᵀ / Σ M_c, compared with the style's:
  L_s+^ℓ = Σ_c ‖G_c[O] − G_c[S]‖²_F / C_ℓ² (:func:`augmented_style_loss`).
  Without labels this is a Gram loss over the whole image.

Official implementation (luanfujun/deep-photo-styletransfer ``deepmatting_seg.lua``): VGG-19, content ``relu4_2``, style
``relu1_1 … relu5_1``, content weight 5, style weight 100, λ = 1e4, TV 1e-3,
L-BFGS, **two stages** — 1000 iterations without the Laplacian
(``neuralstyle_seg.lua``), then 1000 with it, initialised from stage 1
(``deepmatting_seg.lua``); the Laplacian is built on the content resized to long
side 700, ε = 1e-7, 3×3 windows. Official λ acts on the 0–255 image divided by
256 (gradient λ·2LV/256²·255² ≈ λ·2LV on [0, 1]), so λ = 1e4 here on [0, 1]
images is the same weight. The VGG here is torchvision's on [0, 1] inputs, not
the Caffe model on 0–255 BGR, so the content/style balance is only approximately
the official one. The official code also post-processes with a GPU-only
"smooth local affine" filter; use :func:`stylelab.smoothing.smooth` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F

from .. import labels as L
from ..labels import maps as label_maps
from ..features import losses, stats
from .. import validate as V
from ..device import follow
from ..nets.encoders import vgg19
from ..smoothing.matting import MattingLaplacian
from ..features.optim import minimise_image
from ..weights import checkpoints_of as _checkpoints_of
from ..memory import MemoryModel
from . import BenchRow, Method, Runner, TransferRun, register
from ._gatys_objective import check_size

__all__ = ["photorealism_loss", "augmented_style_loss", "label_masks", "DPSTConfig", "DPSTResult", "PRESETS", "stylize", "run",
           "add_cli_arguments", "run_cli"]


# ============================================================================ photorealism loss
class _MattingLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, image, op):
        lv = op.matvec(image[0].to(op.image.dtype)).to(image.dtype)  # (3, H, W)
        ctx.save_for_backward(lv)
        return (image[0] * lv).sum()

    @staticmethod
    def backward(ctx, grad):
        (lv,) = ctx.saved_tensors
        return (2 * grad * lv)[None].contiguous(), None


def photorealism_loss(image: torch.Tensor, laplacian: MattingLaplacian) -> torch.Tensor:
    """L_m = Σ_c V_cᵀ L V_c (Luan et al. 2017, Eq. 2), with gradient 2 L V_c.

    Args:
        image: (1, 3, H, W) output image V in [0, 1] (requires grad during optimisation).
        laplacian: :class:`stylelab.smoothing.matting.MattingLaplacian` of the content at H×W
            (build once; the product runs on its device and dtype).

    Returns:
        scalar tensor; backward uses the saved L·V (no second product).
    """
    if image.dim() != 4 or image.shape[:2] != (1, 3):
        raise ValueError(f"image must be (1, 3, H, W), got {tuple(image.shape)}")
    if tuple(image.shape[-2:]) != laplacian.shape:
        raise ValueError(f"image is {tuple(image.shape[-2:])} but the Laplacian was built for {laplacian.shape}; build it from the content at this size")
    return _MattingLoss.apply(image, laplacian)


# ============================================================================ augmented style loss
def label_masks(content_labels, style_labels, min_pixels: int = 10, max_ratio: float = 100.0):
    """Float one-hot masks (K, 1, H, W) of the labels usable in both maps (FastPhotoStyle's rule), and the labels."""
    cl, sl = label_maps.check_labels(content_labels, "content_labels"), label_maps.check_labels(style_labels, "style_labels")
    report = L.label_report(cl, sl, min_pixels, max_ratio)
    used = report.used
    if not used:
        raise ValueError(report.warning() + " — check the maps or run without labels")
    cm = torch.cat([(cl[:1] == l).float() for l in used])
    sm = torch.cat([(sl[:1] == l).float() for l in used])
    return cm, sm, used


def _masked_gram(feat: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """(K, C, C) Gram matrices of feat (1, C, H, W) under masks (K, 1, H', W') resized bilinearly to H×W."""
    m = F.interpolate(masks, size=feat.shape[-2:], mode="bilinear", align_corners=False)
    return stats.gram(feat * m, "none") / m.flatten(1).sum(1).clamp_min(1.0)[:, None, None]  # (K, C, C)


def augmented_style_loss(feat: torch.Tensor, style_feat: torch.Tensor, content_masks: torch.Tensor | None = None,
                         style_masks: torch.Tensor | None = None) -> torch.Tensor:
    """Σ_c ‖G_c[O] − G_c[S]‖²_F / C² for one layer (module docstring).

    Args:
        feat: (1, C, H, W) features of the output; style_feat: (1, C, H', W').
        content_masks, style_masks: (K, 1, ·, ·) masks from :func:`label_masks`
            (any resolution; resized to each feature map). ``None``: one mask of ones.
    """
    if (content_masks is None) != (style_masks is None):
        raise ValueError("pass both masks or neither")
    if content_masks is None:
        content_masks = torch.ones(1, 1, *feat.shape[-2:], device=feat.device, dtype=feat.dtype)
        style_masks = torch.ones(1, 1, *style_feat.shape[-2:], device=feat.device, dtype=feat.dtype)
    if content_masks.shape[0] != style_masks.shape[0]:
        raise ValueError(f"{content_masks.shape[0]} content masks but {style_masks.shape[0]} style masks")
    g = _masked_gram(feat, content_masks.to(feat))
    gs = _masked_gram(style_feat, style_masks.to(feat))
    return (g - gs).pow(2).sum() / feat.shape[1] ** 2


# ============================================================================ optimisation
@dataclass
class DPSTConfig:
    """Weights and schedule. ``PRESETS["official"]`` = Luan et al.'s code (module docstring)."""

    content_layer: str = "relu4_2"
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    content_weight: float = 5.0
    style_weight: float = 100.0
    matting_weight: float = 1e4
    tv_weight: float = 1e-3
    steps: tuple[int, int] = (1000, 1000)  # stage 1 (no Laplacian), stage 2 (with it)
    laplacian_long_side: int | None = 700
    eps: float = 1e-7
    radius: int = 1
    extra: dict = field(default_factory=dict)


PRESETS = {
    "official": DPSTConfig(),
    "tf": DPSTConfig(steps=(2000, 1000), eps=1e-5, laplacian_long_side=None),  # LouieYang: ε 1e-5, 2×max_iter stage 1
}


@dataclass
class DPSTResult:
    """Output of :func:`run`: the image (1, 3, H, W) in [0, 1] and the loss per evaluation
    (``history["loss"]`` the total, ``history["matting"]`` the photorealism term; stage 1, then stage 2)."""

    image: torch.Tensor
    history: dict[str, list[float]]


def stylize(content: torch.Tensor, style: torch.Tensor, **kwargs) -> torch.Tensor:
    """Deep Photo Style Transfer: the image (1, 3, H, W) in [0, 1] (arguments as :func:`run`,
    which also returns the loss history)."""
    return run(content, style, **kwargs).image


def run(content: torch.Tensor, style: torch.Tensor, *, content_labels=None, style_labels=None,
        preset: str | DPSTConfig = "official", steps: tuple[int, int] | None = None, encoder=None,
        init: torch.Tensor | None = None, random: bool | None = None, progress: bool = True, **overrides) -> DPSTResult:
    """Two-stage Deep Photo Style Transfer by L-BFGS on the pixels.

    Stage 1 minimises content + augmented style + TV from the content image (or ``init``);
    stage 2 adds λ·L_m and starts from stage 1's result.

    Args:
        content: (1, 3, H, W); style: (1, 3, H', W') in [0, 1].
        content_labels, style_labels: optional label maps with their image's aspect
            (:mod:`stylelab.labels`; see :func:`label_masks`).
        preset: ``"official"`` / ``"tf"`` or a :class:`DPSTConfig`; ``overrides`` change its fields.
        steps: (stage 1, stage 2) L-BFGS iterations (e.g. ``(0, 100)`` to skip stage 1).
        encoder: a :class:`stylelab.nets.encoders.VGG19Encoder`: the images follow it
            (its device and dtype). Default: torchvision VGG-19 on the content's
            device, pretrained if available (``random`` allows random weights).

    Returns:
        :class:`DPSTResult`: ``.image`` (1, 3, H, W) in [0, 1] and ``.history``
        ``{"loss": [...], "matting": [...]}``.
    """
    content = V.check_image(content, "content", batch=1)  # validate, then follow the model (or the content)
    style = V.check_image(style, "style", batch=1)
    cfg = PRESETS[preset] if isinstance(preset, str) else preset
    cfg = replace(cfg, **overrides)
    steps = tuple(steps or cfg.steps)
    ref = encoder if encoder is not None and next(encoder.parameters(), None) is not None else content
    content, style, init = follow(ref, content, style, init)  # inputs follow the model (or the content)
    dev, dtype = content.device, content.dtype
    enc = encoder or vgg19(last_layer="relu5_1", random=random, device=dev)
    layers = list(dict.fromkeys([cfg.content_layer, *cfg.style_layers]))
    check_size(enc, layers, content.shape[-2:], "content")
    check_size(enc, layers, style.shape[-2:], "style")
    with torch.no_grad():
        cfeat = enc(content, layers=layers)[cfg.content_layer]
        sfeats = enc(style, layers=layers)
    cm = sm = None
    if (content_labels is None) != (style_labels is None):
        raise ValueError("pass both content_labels and style_labels, or neither")
    if content_labels is not None:
        cm, sm, _ = label_masks(label_maps.fit_labels(content_labels, content.shape[-2:], "content_labels"),
                                label_maps.fit_labels(style_labels, style.shape[-2:], "style_labels"))
        cm, sm = cm.to(dev, dtype), sm.to(dev, dtype)
    # The Laplacian: official resizes the content to long side 700 — here it must match the output size.
    lap = MattingLaplacian(content[0].to(torch.float64 if dev.type != "mps" else torch.float32), eps=cfg.eps, radius=cfg.radius)
    x = init if init is not None else content
    history: dict[str, list[float]] = {"loss": [], "matting": []}

    def loss_fn(with_matting):
        def total_loss(image):
            feats = enc(image, layers=layers)
            loss = cfg.content_weight * losses.content_loss(feats[cfg.content_layer], cfeat, "tutorial")  # mean squared error
            for name in cfg.style_layers:
                loss = loss + cfg.style_weight / len(cfg.style_layers) * augmented_style_loss(feats[name], sfeats[name], cm, sm)
            loss = loss + cfg.tv_weight * losses.total_variation(image, "squared", reduction="sum")
            m = photorealism_loss(image, lap) if with_matting else image.new_zeros(())
            return loss + cfg.matting_weight * m, {"matting": m}
        return total_loss

    # Each stage is one L-BFGS call of `steps` iterations that never stops early (official: optim.lbfgs, maxIter).
    for stage, n in enumerate(steps, start=1):
        if n <= 0:
            continue
        x, hist, _ = minimise_image(loss_fn(stage == 2), x, n, keys=("matting",), budget="iterations",
                                    history_size=50, line_search="strong_wolfe", tolerances=(-1, -1),
                                    clamp_each=False, clamp_end=True, progress=progress, desc=f"DPST stage {stage}")
        history["loss"] += hist["total"]
        history["matting"] += hist["matting"]
    return DPSTResult(x.detach(), history)


# ============================================================================ CLI
def add_cli_arguments(parser) -> None:
    parser.add_argument("--preset", default="official", choices=sorted(PRESETS), help="DPST preset (default official)")
    parser.add_argument("--steps", type=V.arg_int_list(minimum=0, length=2), default=None, help="L-BFGS iterations of stage 1,stage 2 (default 1000,1000)")
    parser.add_argument("--matting-weight", type=V.arg_float(0), default=None, help="λ of the photorealism term (default 1e4)")


def run_cli(content, style, run: TransferRun, *, preset: str, steps, matting_weight: float | None) -> torch.Tensor:
    """``stylelab transfer --method dpst``; the options of :func:`add_cli_arguments`."""
    steps = tuple(steps) if steps else None
    over = {} if matting_weight is None else {"matting_weight": matting_weight}
    cl, sl = run.labels or (None, None)
    return stylize(content, style, content_labels=cl, style_labels=sl, preset=preset, steps=steps, **over)


# ============================================================================ registry
def _bench(cfg, device) -> Runner:

    encoder = vgg19(last_layer="relu5_1", device=device, random=True if cfg.random_weights else None).to(cfg.dtype)
    steps = (cfg.iterations, cfg.iterations)
    return Runner(lambda c, s: stylize(c, s, steps=steps, encoder=encoder, progress=False), encoder.pretrained,
                  _checkpoints_of(encoder))


register(Method(
    name="dpst", order=50,
    summary="Deep Photo Style Transfer, Luan et al., CVPR 2017: Gatys plus a matting-Laplacian photorealism term",
    add_cli_arguments=add_cli_arguments, run_cli=run_cli, labels=True,
    # optimisation: activations kept for the backward pass, plus L-BFGS's history (50 by default)
    memory=MemoryModel(360e6, 3600.0, 500.0, "DPST", lbfgs_history=50),
    bench=(BenchRow("dpst", "DPST (2 stages × iterations)", "optimisation", _bench,
                    "dpst.stylize(steps=(iterations, iterations)); the paper's run uses 1000 + 1000"),),
    checkpoints=("vgg19",),
))
