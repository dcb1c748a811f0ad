"""Gatys et al.: style transfer by optimising the pixels of an image.

Find the image ``x`` minimising

    L(x) = α Σ_l w^c_l L_content^l(x) + β Σ_l w^s_l E_l(x) + γ TV(x)

where ``L_content^l`` compares VGG features of ``x`` with the content image's
and ``E_l`` compares feature *statistics* with the style image's (Gram
matrices by default, or MMD², moments or histograms — see
``stylelab.features.losses``). Gatys, Ecker & Bethge, "Image Style Transfer Using
Convolutional Neural Networks", CVPR 2016; texture synthesis: Gatys, Ecker &
Bethge, "Texture Synthesis Using Convolutional Neural Networks", NeurIPS 2015;
colour preservation: Gatys et al., arXiv 1606.05897 (2016); coarse-to-fine:
Gatys et al., "Controlling Perceptual Factors in Neural Style Transfer",
CVPR 2017; feature inversion: Mahendran & Vedaldi, CVPR 2015.

Presets (:data:`PRESETS`, :func:`preset`):

``"paper"``
    Gatys et al. 2016: normalised VGG-19 with **average** pooling; content
    ``relu4_2`` (the paper's "conv4_2", post-ReLU in Caffe); style
    ``relu1_1 … relu5_1`` with ``w_l = 1/5``; content ``½ Σ (F − P)²``, style
    ``‖G − A‖²/(4 C² M²)``; ``α/β = 10⁻³``; white-noise start; L-BFGS with a
    strong-Wolfe line search (the authors used SciPy's L-BFGS-B, which always
    searches; PyTorch's L-BFGS without one can overshoot), 500 evaluations,
    returning the best image evaluated.
``"tutorial"``
    The PyTorch tutorial (pytorch/tutorials ``neural_style_tutorial.py``):
    torchvision VGG-19 with **max** pooling and ImageNet normalisation; content
    ``conv2_2`` (its ``conv_4``), style ``conv1_1, conv1_2, conv2_1, conv2_2,
    conv3_1`` (its ``conv_1 … conv_5``), all pre-ReLU, each weight 1; content
    ``mean (F − P)²``, style ``mean (G/(CM) − A/(CM))²``; weights 1 and 10⁶;
    start from the content; L-BFGS with PyTorch's defaults (lr 1, 20
    iterations per ``.step``, history 100, no line search); the image is
    clamped to [0, 1] before every evaluation and at the end; the loop runs
    whole ``.step()`` calls while at most 300 evaluations were made
    (``stop="tutorial"``: ≈ 300–320 evaluations). The tutorial uses 512 px on
    CUDA and 128 px otherwise.
``"vgg16"``
    the paper's settings on the offline VGG-16 (:func:`stylelab.nets.encoders.vgg16`,
    ``stylelab weights download vgg16``) with ``β = 10``: its features are Caffe's as
    trained, not rescaled to mean activation one, so the same α/β would be all style.

One forward pass per evaluation gives every content and style layer; the
targets are computed once without gradient; the network is shared, never
copied (that is why it is at least as fast as the tutorial's
"loss modules inside a copied ``nn.Sequential``" formulation —
``benchmarks/bench_gatys.py`` measures it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Literal, Sequence

import torch
import torch.nn.functional as F

from ..features import colour
from .. import validate as V
from ..device import follow
from ..nets.encoders import VGG19Encoder, check_layer
from ..memory import MemoryModel
from ..features.optim import minimise_image
from ..weights import checkpoints_of
from . import _gatys_objective as _objective
from ._gatys_objective import (
    PAPER_STYLE_LAYERS, PRESETS, TUTORIAL_STYLE_LAYERS, GatysConfig, GatysObjective, StyleLoss, check_size,
    get_encoder, min_size, paper_loss, preset,
)

__all__ = [  # the loss's names (defined in ._gatys_objective) stay importable from here
    "StyleLoss", "PAPER_STYLE_LAYERS", "TUTORIAL_STYLE_LAYERS", "GatysConfig", "PRESETS", "preset", "get_encoder",
    "min_size", "check_size", "GatysObjective", "paper_loss", "GatysResult", "noise_like", "optimise", "stylize",
    "run", "synthesize_texture", "invert", "add_cli_arguments", "check_options", "run_cli",
]
from . import BenchRow, Method, Runner, TransferRun, register

# ---------------------------------------------------------------------------- optimisation
@dataclass
class GatysResult:
    """Output of :func:`run`: the image ``(1, 3, H, W)`` in [0, 1], the loss history per evaluation, timing."""

    image: torch.Tensor
    history: dict[str, list[float]]
    evaluations: int
    seconds: float
    config: GatysConfig

    @property
    def loss(self) -> float:
        """Loss of the returned image at the last scale: the lowest evaluated one with ``keep_best``, else the last evaluation."""
        totals = self.history["total"][-self._last_scale_evals:] if self._last_scale_evals else self.history["total"]
        return min(totals) if self.config.keep_best else totals[-1]

    _last_scale_evals: int = 0


def noise_like(image: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Uniform white noise in [0, 1] shaped like ``image``, from a seeded CPU generator (same on every device)."""
    g = torch.Generator().manual_seed(int(seed))
    return torch.rand(image.shape, generator=g, dtype=torch.float32).to(image.device, image.dtype)


def optimise(
    objective: GatysObjective,
    init: torch.Tensor,
    cfg: GatysConfig,
    callback: Callable[[int, torch.Tensor, dict[str, float]], object] | None = None,
    callback_every: int = 10,
    progress: bool = True,
    desc: str = "gatys",
) -> tuple[torch.Tensor, dict[str, list[float]], int]:
    """Minimise ``objective`` over the pixels of ``init`` (copied). Returns ``(image, history, evaluations)``.

    ``image`` is the best evaluated image with ``cfg.keep_best``, else the last iterate.
    The loop is :func:`stylelab.features.optim.minimise_image` with the config's optimiser settings.

    ``callback(evaluation, image, losses)`` is called every ``callback_every``
    evaluations with a detached copy of the current image (for live previews).
    A progress bar (``tqdm.auto``) shows the weighted losses.
    """
    return minimise_image(
        objective, init, cfg.steps, keys=("content", "style", "tv"), optimizer=cfg.optimizer, lr=cfg.learning_rate,
        budget="evaluations" if cfg.stop == "exact" else "tutorial", lbfgs_max_iter=cfg.lbfgs_max_iter,
        history_size=cfg.history_size, line_search=cfg.line_search, clamp_each=cfg.clamp, clamp_end=cfg.clamp,
        keep_best=cfg.keep_best, callback=callback, callback_every=callback_every, progress=progress, desc=desc,
    )


def _resize_to(image: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    if tuple(image.shape[-2:]) == tuple(hw):
        return image
    return F.interpolate(image, size=hw, mode="bilinear", align_corners=False, antialias=True)


def _scaled(hw: tuple[int, int], short: int) -> tuple[int, int]:
    h, w = hw
    s = short / min(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def stylize(content: torch.Tensor | None, style: torch.Tensor | None, config: GatysConfig | str = "paper",
            **kwargs) -> torch.Tensor:
    """Gatys style transfer: the image ``(1, 3, H, W)`` in [0, 1] (arguments as :func:`run`).

    :func:`run` takes the same arguments and returns the whole
    :class:`GatysResult` (loss history, evaluations, seconds).
    """
    return run(content, style, config, **kwargs).image


def run(
    content: torch.Tensor | None,
    style: torch.Tensor | None,
    config: GatysConfig | str = "paper",
    *,
    encoder: VGG19Encoder | None = None,
    size: tuple[int, int] | None = None,
    scales: Sequence[int] | None = None,
    preserve_colour: Literal["luminance", "histogram"] | None = None,
    seed: int = 0,
    init_image: torch.Tensor | None = None,
    callback: Callable | None = None,
    callback_every: int = 10,
    progress: bool = True,
    random: bool | None = None,
    **overrides,
) -> GatysResult:
    """Gatys style transfer (or, with ``content=None``, texture synthesis).

    Args:
        content: ``(1, 3, H, W)`` RGB in [0, 1], or ``None`` for texture
            synthesis (then ``size=(H, W)`` sets the output size, default the
            style's).
        style: ``(1, 3, H', W')``, or ``None`` for feature inversion of the content.
        config: a :class:`GatysConfig` or a preset name; ``overrides`` change
            single fields (``style_weight=1e4``, ``init="content"``, …).
        encoder: a VGG-19 or VGG-16 (:func:`stylelab.course.feature_network`) reaching every
            layer used: the images follow it
            (moved to its device and dtype; the result is there). Default:
            :func:`get_encoder` (cached) on the content's device and dtype.
        scales: coarse-to-fine short-side sizes, e.g. ``(128, 256)``: the result
            at each scale, upsampled, starts the next; the style is scaled by
            the same factor; ``config.steps`` evaluations per scale.
        preserve_colour: ``"luminance"`` (style transfer on the luminance, then
            the content's I/Q channels; the style's luminance is first matched
            to the content's mean and std) or ``"histogram"`` (recolour the style
            with the content's colour mean and covariance first) — see
            ``stylelab.features.colour``.
        seed: seeds the noise start (a private generator: global RNG untouched).
        init_image: start from this image instead of ``config.init``.
        callback: ``callback(evaluation, image, losses)`` every ``callback_every`` evaluations.
        random: allow random VGG weights when the pretrained file is missing.

    Returns:
        :class:`GatysResult` (``.image`` ``(1, 3, H, W)`` in [0, 1]).

    Runs on the encoder's device when one is given, else on the device of
    ``content`` (or ``style``; the other image follows): CUDA, CPU or MPS (float32).
    """
    cfg = preset(config, **overrides) if isinstance(config, str) else config.replace(**overrides)
    if content is None and style is None:
        raise ValueError("stylize needs a content image, a style image, or both.")
    content = None if content is None else V.check_image(content, "content", batch=1)
    style = None if style is None else V.check_image(style, "style", batch=1)
    ref = content if content is not None else style
    if encoder is not None and next(encoder.parameters(), None) is not None:
        content, style, init_image = follow(encoder, content, style, init_image)  # inputs follow the model
    else:
        content, style, init_image = follow(ref, content, style, init_image)  # the other image follows the first
    ref = content if content is not None else style
    device, dtype = ref.device, ref.dtype
    if content is None:  # texture synthesis: no content term, nothing to start from but noise
        cfg = cfg.replace(content_layers={}, init="noise" if cfg.init == "content" else cfg.init)
    if style is None:  # feature inversion: no style term
        cfg = cfg.replace(style_layers={})
    if not cfg.layers:
        raise ValueError("no layers to match: give content_layers (with a content image) or style_layers (with a style image)")
    enc = encoder if encoder is not None else get_encoder(cfg, device, dtype, random=random)
    enc_last = enc.layers
    missing = [n for n in cfg.layers if n not in enc_last]
    if missing:
        raise ValueError(f"the encoder stops at {enc.last_layer!r} but the config needs {', '.join(missing)}")

    full_hw = tuple(content.shape[-2:]) if content is not None else tuple(size or style.shape[-2:])
    c_img, s_img = content, style
    if preserve_colour == "luminance":
        if content is None or style is None:
            raise ValueError("preserve_colour='luminance' needs both a content and a style image")
        c_y = colour.luminance(content)
        c_img = colour.grey3(c_y)
        s_img = colour.grey3(colour.match_luminance(colour.luminance(style), c_y).clamp(0, 1))
    elif preserve_colour == "histogram":
        if content is None or style is None:
            raise ValueError("preserve_colour='histogram' needs both a content and a style image")
        s_img = colour.match_colour(style, content)
    elif preserve_colour is not None:
        raise ValueError(f"preserve_colour must be None, 'luminance' or 'histogram'; got {preserve_colour!r}")

    sizes = [_scaled(full_hw, s) for s in scales] if scales else [full_hw]
    t0 = time.perf_counter()
    history: dict[str, list[float]] = {"total": [], "content": [], "style": [], "tv": []}
    evaluations = 0
    x = None
    for i, hw in enumerate(sizes):
        factor = hw[0] / full_hw[0]
        c_s = _resize_to(c_img, hw) if c_img is not None else None
        s_s = None
        if s_img is not None:
            s_s = s_img if (factor == 1.0 or not scales) else _resize_to(
                s_img, (max(1, round(s_img.shape[-2] * factor)), max(1, round(s_img.shape[-1] * factor))))
        objective = GatysObjective(enc, cfg, c_s, s_s)
        if x is not None:
            start = _resize_to(x, hw)
        elif init_image is not None:
            start = _resize_to(init_image.to(device, dtype), hw)
        elif cfg.init == "content":
            start = c_s
        elif cfg.init == "style":
            start = _resize_to(s_img, hw)
        else:
            start = noise_like(torch.empty(1, 3, *hw, device=device, dtype=dtype), seed)
        x, hist, n = optimise(objective, start, cfg, callback, callback_every, progress,
                              desc=f"gatys {hw[1]}×{hw[0]}" if len(sizes) > 1 else "gatys")
        for k in history:
            history[k] += hist[k]
        evaluations += n
    if preserve_colour == "luminance":
        x = colour.luminance_transfer(content, x, clamp=True)
    return GatysResult(x, history, evaluations, time.perf_counter() - t0, cfg, _last_scale_evals=n)


def synthesize_texture(style: torch.Tensor, size: tuple[int, int] | None = None, config: GatysConfig | str = "paper",
                       **kwargs) -> GatysResult:
    """Texture synthesis (Gatys et al., NeurIPS 2015): match only the style statistics, from white noise."""
    return run(None, style, config, size=size, **kwargs)


def invert(image: torch.Tensor, layer: str = "relu4_2", config: GatysConfig | str = "paper", **kwargs) -> GatysResult:
    """Feature inversion: the image whose ``layer`` features match ``image``'s, from white noise.

    Content loss on ``layer`` only (weight 1, no style, no TV unless given);
    Mahendran & Vedaldi, "Understanding Deep Image Representations by
    Inverting Them", CVPR 2015 (Fig. 1 of Gatys et al. 2016 does the same).
    """
    overrides = {"content_layers": {check_layer(layer): 1.0}, "style_layers": {}, "init": "noise", "content_weight": 1.0}
    overrides.update({k: kwargs.pop(k) for k in list(kwargs) if k in GatysConfig.__dataclass_fields__})
    return run(image, None, config, **overrides, **kwargs)


# ---------------------------------------------------------------------------- CLI
def _parse_layers(text: str | None):
    if text is None:
        return None
    out = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, w = item.partition(":")
        out[name] = float(w) if w else None
    if any(v is None for v in out.values()):
        if not all(v is None for v in out.values()):
            raise ValueError("give a weight for every layer (relu1_1:0.5,relu2_1:0.5) or for none")
        return list(out)
    return out


def add_cli_arguments(parser) -> None:
    """Options of ``stylelab transfer --method gatys``."""
    parser.add_argument("--preset", choices=sorted(PRESETS), default="paper", help="settings to start from (default paper)")
    parser.add_argument("--content-weight", type=V.arg_float(0), default=None, help="α (default: the preset's)")
    parser.add_argument("--style-weight", type=V.arg_float(0), default=None, help="β (default: the preset's)")
    parser.add_argument("--tv-weight", type=V.arg_float(0), default=None, help="total-variation weight γ")
    parser.add_argument("--steps", type=V.arg_int(1), default=None, help="loss evaluations (L-BFGS) / Adam steps per scale")
    parser.add_argument("--optimizer", choices=["lbfgs", "adam"], default=None)
    parser.add_argument("--lr", type=V.arg_float(0, open_low=True), default=None, help="learning rate (Adam ~0.02, L-BFGS 1)")
    parser.add_argument("--init", choices=["content", "noise", "style"], default=None, help="start image")
    parser.add_argument("--content-layers", default=None, help="e.g. relu4_2 or relu4_2:1,relu3_2:0.5")
    parser.add_argument("--style-layers", default=None, help="e.g. relu1_1,relu2_1,relu3_1 (equal weights) or with :w")
    parser.add_argument("--style-loss", choices=["gram", "mmd", "moments", "histogram"], default=None)
    parser.add_argument("--pooling", choices=["avg", "max"], default=None)
    parser.add_argument("--preserve-colour", choices=["luminance", "histogram"], default=None)
    parser.add_argument("--scales", type=V.arg_int_list(minimum=32), default=None, help="coarse-to-fine short sides, e.g. 128,256,512")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def check_options(*, preset: str, scales=None, preserve_colour=None, no_progress: bool = False, **config) -> None:
    """The options' combination, checked before any image is read (e.g. both weights 0)."""
    _objective.preset(preset, **_config_overrides(config))


def run_cli(content: torch.Tensor, style: torch.Tensor, transfer: TransferRun, *, preset: str, scales=None,
            preserve_colour: str | None = None, no_progress: bool = False, **config) -> torch.Tensor:
    """Run ``stylelab transfer --method gatys``; returns the image.

    ``config``: the :class:`GatysConfig` options of :func:`add_cli_arguments` (``content_weight``,
    ``style_weight``, ``tv_weight``, ``steps``, ``optimizer``, ``lr``, ``init``, ``content_layers``,
    ``style_layers``, ``style_loss``, ``pooling``; ``None``: the preset's).
    """
    result = run(content, style, preset, scales=list(scales) if scales else None, preserve_colour=preserve_colour,
                 seed=transfer.seed if transfer.seed is not None else 0, progress=not no_progress,
                 **_config_overrides(config))
    return result.image


#: The :class:`GatysConfig` fields ``stylelab transfer --method gatys`` sets (``--content-layers`` is parsed).
_CONFIG_OPTIONS = ("content_weight", "style_weight", "tv_weight", "steps", "optimizer", "lr", "init", "style_loss",
                   "pooling", "content_layers", "style_layers")


def _config_overrides(config: dict) -> dict:
    """The :class:`GatysConfig` fields the command line sets (options left at ``None`` keep the preset's)."""
    unknown = set(config) - set(_CONFIG_OPTIONS)
    if unknown:
        raise TypeError(f"unknown gatys options: {', '.join(sorted(unknown))}")
    overrides = {}
    for key in _CONFIG_OPTIONS:
        v = config.get(key)
        if key in ("content_layers", "style_layers"):
            v = _parse_layers(v)
        if v is not None:
            overrides[key] = v
    return overrides


# ============================================================================ registry
def _bench(cfg, device) -> Runner:
    config = preset("paper", steps=cfg.iterations)
    encoder = get_encoder(config, device=device, dtype=cfg.dtype, random=True if cfg.random_weights else None)

    return Runner(lambda c, s: stylize(c, s, config, encoder=encoder, progress=False),
                  bool(getattr(encoder, "pretrained", False)), checkpoints_of(encoder))


register(Method(
    name="gatys", order=10, summary="Gatys, Ecker & Bethge, CVPR 2016: optimise the pixels (Gram losses on VGG-19)",
    add_cli_arguments=add_cli_arguments, check_options=check_options, run_cli=run_cli,
    # optimisation: activations kept for the backward pass, plus L-BFGS's history (100 by default)
    memory=MemoryModel(330e6, 2900.0, 500.0, "Gatys", lbfgs_history=100),
    bench=(BenchRow("gatys", "Gatys (L-BFGS, paper preset)", "optimisation", _bench,
                    "gatys.stylize(preset 'paper', steps=iterations): loss evaluations, not L-BFGS outer steps"),),
    checkpoints=("vgg19", "vgg_normalised"),
))
