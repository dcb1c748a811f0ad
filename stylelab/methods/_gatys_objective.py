"""The loss of Gatys et al.'s image optimisation: its settings, presets, encoder and objective.

``L(x) = α Σ_l w^c_l L_content^l(x) + β Σ_l w^s_l E_l(x) + γ TV(x)`` — what
:func:`stylelab.methods.gatys.run` minimises over the pixels of ``x``
(with :func:`stylelab.features.optim.minimise_image`). This module holds the *what*:

* :class:`GatysConfig` — every setting, and :data:`PRESETS` (the paper, the
  PyTorch tutorial), :func:`preset`;
* :func:`get_encoder` — the VGG-19 a config needs, truncated and cached;
* :class:`GatysObjective` — ``L(x)`` for one content/style pair: targets
  computed once, one forward pass per evaluation, the style term by Gram
  matrices, MMD², moments or histograms (:mod:`stylelab.features.losses`);
* :func:`paper_loss` — the paper's loss written out from feature dictionaries
  (the pieces the objective assembles; exercise 02.gatys_loss's fallback).

Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural
Networks", CVPR 2016 (eqs. 1, 4, 5, 7); the losses' conventions are in
:mod:`stylelab.features.losses`. Every name is re-exported by :mod:`stylelab.methods.gatys`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal, Mapping

import torch

from ..features import losses
from .. import validate as V
from ..device import get_device
from ..nets.encoders import VGG19Encoder, check_layer, deepest, depth, normalised_vgg19, vgg16, vgg19

__all__ = [
    "StyleLoss", "PAPER_STYLE_LAYERS", "TUTORIAL_STYLE_LAYERS", "GatysConfig", "PRESETS", "preset", "get_encoder",
    "min_size", "check_size", "GatysObjective", "paper_loss",
]

StyleLoss = Literal["gram", "mmd", "moments", "histogram"]
PAPER_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
TUTORIAL_STYLE_LAYERS = ("conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1")


@dataclass
class GatysConfig:
    """Every setting of the optimisation (see :data:`PRESETS`).

    Attributes:
        content_layers / style_layers: ``{layer: weight}`` with the papers'
            layer names (``relu4_2`` post-ReLU, ``conv2_2`` pre-ReLU).
        content_weight (α), style_weight (β), tv_weight (γ): loss weights.
        style_loss: ``"gram"``, ``"mmd"`` (kernel in ``mmd_kernel``,
            ``mmd_degree``, ``mmd_offset``, ``mmd_bandwidth``; ``mmd_estimator``
            ``"quadratic"`` (every pair) or ``"linear"`` (Gaussian kernel only: Li et al.'s
            linear-time estimate, :mod:`stylelab.features.linear_time_mmd`)), ``"moments"`` or
            ``"histogram"``.
        convention: ``"paper"`` or ``"tutorial"`` normalisation of the content and
            Gram losses (``stylelab.features.losses``).
        encoder: ``"normalised"`` or ``"torchvision"`` VGG-19, or ``"vgg16"`` (the offline VGG-16,
            :func:`stylelab.nets.encoders.vgg16`: Caffe features as trained, not rescaled, so its
            losses — and the right ``style_weight`` — are on another scale; preset ``"vgg16"``);
            ``pooling``: ``"avg"``/``"max"``.
        optimizer: ``"lbfgs"`` or ``"adam"``; ``lr`` (``None``: 1 for L-BFGS, 0.02 for
            Adam on pixels in [0, 1]); ``lbfgs_max_iter``,
            ``history_size``, ``line_search`` (``None`` or ``"strong_wolfe"``).
        steps: loss evaluations (L-BFGS) or Adam steps, per scale.
        stop: ``"exact"`` stops after exactly ``steps`` evaluations;
            ``"tutorial"`` runs whole L-BFGS ``.step()`` calls while the count is
            ``≤ steps`` (as the PyTorch tutorial).
        init: ``"content"``, ``"noise"`` (uniform in [0, 1], seeded) or ``"style"``
            (resized to the content's size).
        clamp: clamp the image to [0, 1] before each evaluation (and at the end).
        keep_best: return the evaluated image with the lowest loss (L-BFGS without
            a line search can end on an overshoot); ``False`` returns the last
            iterate, as the tutorial does.
    """

    content_layers: dict[str, float] = field(default_factory=lambda: {"relu4_2": 1.0})
    style_layers: dict[str, float] = field(default_factory=lambda: {n: 0.2 for n in PAPER_STYLE_LAYERS})
    content_weight: float = 1.0
    style_weight: float = 1e3
    tv_weight: float = 0.0
    style_loss: StyleLoss = "gram"
    convention: losses.Convention = "paper"
    mmd_kernel: str = "poly"
    mmd_degree: int = 2
    mmd_offset: float = 0.0
    mmd_bandwidth: float | str = "median"
    mmd_estimator: Literal["quadratic", "linear"] = "quadratic"
    encoder: Literal["normalised", "torchvision", "vgg16"] = "normalised"
    pooling: Literal["avg", "max"] = "avg"
    optimizer: Literal["lbfgs", "adam"] = "lbfgs"
    lr: float | None = None
    lbfgs_max_iter: int = 20
    history_size: int = 100
    line_search: str | None = None
    steps: int = 500
    stop: Literal["exact", "tutorial"] = "exact"
    init: Literal["content", "noise", "style"] = "noise"
    clamp: bool = True
    keep_best: bool = True

    def __post_init__(self):
        self.content_layers = _layer_weights(self.content_layers, "content_layers")
        self.style_layers = _layer_weights(self.style_layers, "style_layers")
        for name, allowed in (
            ("style_loss", ("gram", "mmd", "moments", "histogram")),
            ("mmd_estimator", ("quadratic", "linear")),
            ("convention", ("paper", "tutorial")),
            ("encoder", ("normalised", "torchvision", "vgg16")),
            ("pooling", ("avg", "max")),
            ("optimizer", ("lbfgs", "adam")),
            ("stop", ("exact", "tutorial")),
            ("init", ("content", "noise", "style")),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {getattr(self, name)!r}")
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")
        for name in ("content_weight", "style_weight", "tv_weight"):
            V.check_positive(getattr(self, name), f"{name} (--{name.replace('_', '-')})", allow_zero=True)
        if self.content_weight == 0 and self.style_weight == 0:
            raise ValueError("content_weight and style_weight are both 0: nothing would be optimised and the result "
                             "would be the starting image; give --content-weight or --style-weight a value > 0")

    def replace(self, **changes) -> "GatysConfig":
        """A copy with ``changes`` applied (unknown names raise ``TypeError``)."""
        return dataclasses.replace(self, **changes)

    @property
    def learning_rate(self) -> float:
        """``lr``, or the optimiser's default when ``lr`` is ``None``."""
        return self.lr if self.lr is not None else (1.0 if self.optimizer == "lbfgs" else 0.02)

    @property
    def layers(self) -> list[str]:
        """Every layer the objective reads, in forward order."""
        return sorted(set(self.content_layers) | set(self.style_layers), key=depth)


def _layer_weights(spec, what: str) -> dict[str, float]:
    """``{name: w}`` as is; a name or list of names → equal weights ``1/n``."""
    if spec is None:
        return {}
    if isinstance(spec, str):
        spec = [s for s in spec.split(",") if s]
    if isinstance(spec, Mapping):
        out = {check_layer(k): float(v) for k, v in spec.items()}
    else:
        names = list(spec)
        out = {check_layer(n): 1.0 / len(names) for n in names} if names else {}
    return out


PRESETS: dict[str, GatysConfig] = {
    "paper": GatysConfig(line_search="strong_wolfe"),
    # The paper's settings on the offline VGG-16 (same layer names): its Caffe features are not rescaled
    # to mean activation one, so the Gram terms of its shallow layers are ~10⁴× larger and β is 10, not
    # 10³ — chosen so that 80 evaluations from noise at 128 px keep the content recognisable (notebook 02).
    "vgg16": GatysConfig(line_search="strong_wolfe", encoder="vgg16", style_weight=10.0),
    "tutorial": GatysConfig(
        content_layers={"conv2_2": 1.0},
        style_layers={n: 1.0 for n in TUTORIAL_STYLE_LAYERS},
        content_weight=1.0,
        style_weight=1e6,
        convention="tutorial",
        encoder="torchvision",
        pooling="max",
        optimizer="lbfgs",
        lr=1.0,
        lbfgs_max_iter=20,
        history_size=100,
        line_search=None,
        steps=300,
        stop="tutorial",
        init="content",
        clamp=True,
        keep_best=False,
    ),
}


def preset(name: str = "paper", **overrides) -> GatysConfig:
    """A fresh :class:`GatysConfig` of preset ``name`` with ``overrides`` applied."""
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; choose one of {', '.join(PRESETS)}.")
    return PRESETS[name].replace(**overrides)


# ---------------------------------------------------------------------------- encoder
_ENCODERS: dict[tuple, VGG19Encoder] = {}


def get_encoder(cfg: GatysConfig, device=None, dtype: torch.dtype = torch.float32, random: bool | None = None,
                weights=None) -> VGG19Encoder:
    """The VGG-19 (or, ``cfg.encoder="vgg16"``, VGG-16) that ``cfg`` needs, truncated after its deepest
    layer, cached per settings.

    ``random`` / ``weights`` as in :func:`stylelab.nets.encoders.vgg19` (random
    weights only when allowed, with a warning). Cached encoders are frozen and
    shared, never copied.
    """
    device = get_device(device)
    if dtype == torch.float64 and device.type == "mps":
        raise ValueError("MPS has no float64; use float32 on MPS.")
    last = deepest(cfg.layers) if cfg.layers else "relu1_1"
    key = (cfg.encoder, cfg.pooling, last, str(device), dtype, random, weights if isinstance(weights, str) else id(weights))
    if key not in _ENCODERS:
        build = {"torchvision": vgg19, "normalised": normalised_vgg19, "vgg16": vgg16}[cfg.encoder]
        enc = build(weights=weights, last_layer=last, pooling=cfg.pooling, device=device, random=random)
        _ENCODERS[key] = enc.to(dtype)
    return _ENCODERS[key]


# ---------------------------------------------------------------------------- objective
def min_size(encoder: VGG19Encoder, layers) -> int:
    """Smallest image side the encoder can take to reach the deepest of ``layers``.

    A layer of block ``b`` sees the image after ``b − 1`` poolings; a reflection-padded
    convolution needs at least 2 pixels there, a zero-padded one 1.
    """
    last = deepest(layers)
    block = int(last.lstrip("convrelupool").split("_")[0])
    pools = block if last.startswith("pool") else block - 1
    return 2 ** pools * (2 if encoder.padding == "reflect" else 1)


def check_size(encoder: VGG19Encoder, layers, hw, what: str = "image") -> None:
    """Raise a ``ValueError`` saying how large ``what`` must be when it is too small for ``layers``."""
    need = min_size(encoder, layers)
    if min(hw) < need:
        raise ValueError(f"the {what} is {hw[-1]}×{hw[-2]} px, too small for layer {deepest(layers)!r} "
                         f"of this encoder: use at least {need} px on the short side, or shallower layers.")


class GatysObjective:
    """The loss ``L(x)`` of one content/style pair, with targets computed once.

    Args:
        encoder: a :class:`~stylelab.nets.encoders.VGG19Encoder` reaching every layer of ``cfg``.
        cfg: the settings.
        content: ``(1, 3, H, W)`` or ``None`` (texture synthesis: no content term).
        style: ``(1, 3, H', W')`` or ``None`` (feature inversion: no style term).

    Calling it on an image ``(B, 3, H, W)`` runs **one** forward pass and
    returns ``(total, parts)`` with ``parts = {"content", "style", "tv"}``
    (weighted, as in ``total``) as tensors.
    """

    def __init__(self, encoder: VGG19Encoder, cfg: GatysConfig, content: torch.Tensor | None, style: torch.Tensor | None):
        self.encoder, self.cfg = encoder, cfg
        self.content_layers = dict(cfg.content_layers) if content is not None else {}
        self.style_layers = dict(cfg.style_layers) if style is not None else {}
        if not self.content_layers and not self.style_layers:
            raise ValueError("Nothing to optimise: give a content image with content layers, or a style image with style layers.")
        self.layers = sorted(set(self.content_layers) | set(self.style_layers), key=depth)
        for img, what in ((content, "content"), (style, "style")):
            if img is not None:
                check_size(encoder, self.layers, img.shape[-2:], what)
        with torch.no_grad():
            self.content_targets = (
                {k: v.detach() for k, v in encoder(content, layers=list(self.content_layers)).items()}
                if self.content_layers else {}
            )
            self.style_targets = (
                {k: self._style_target(v.detach()) for k, v in encoder(style, layers=list(self.style_layers)).items()}
                if self.style_layers else {}
            )

    def _style_target(self, feat: torch.Tensor):
        kind = self.cfg.style_loss
        if kind == "gram":
            return losses.gram_target(feat, self.cfg.convention)
        if kind == "moments":
            return losses.moment_target(feat)
        if kind == "histogram":
            return losses.histogram_target(feat)
        return feat  # mmd: the samples themselves

    def _style_term(self, feat: torch.Tensor, target) -> torch.Tensor:
        c = self.cfg
        if c.style_loss == "gram":
            return losses.gram_loss(feat, target, c.convention)
        if c.style_loss == "moments":
            return losses.moment_loss(feat, target)
        if c.style_loss == "histogram":
            return losses.histogram_loss(feat, target)
        return losses.mmd_loss(feat, target, c.mmd_kernel, c.mmd_degree, c.mmd_offset, c.mmd_bandwidth,
                               estimator=c.mmd_estimator)

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        feats = self.encoder(image, layers=self.layers)
        zero = image.new_zeros(())
        content = zero
        for name, w in self.content_layers.items():
            content = content + w * losses.content_loss(feats[name], self.content_targets[name], self.cfg.convention)
        style = zero
        for name, w in self.style_layers.items():
            style = style + w * self._style_term(feats[name], self.style_targets[name])
        parts = {"content": self.cfg.content_weight * content, "style": self.cfg.style_weight * style}
        parts["tv"] = self.cfg.tv_weight * losses.total_variation(image) if self.cfg.tv_weight else zero
        return parts["content"] + parts["style"] + parts["tv"], parts



def paper_loss(feats: dict[str, torch.Tensor], content_targets: dict[str, torch.Tensor],
               style_targets: dict[str, torch.Tensor], content_weight: float, style_weight: float) -> torch.Tensor:
    """The paper's loss written out from feature dictionaries (the pieces :class:`GatysObjective` assembles).

    ``α Σ_{l∈content} ½ Σ_ij (F^l_ij − P^l_ij)²  +  β (1/L) Σ_{l∈style} ‖G^l/M_l − A^l‖²_F / (4 C_l²)``

    with ``G^l = F^l F^lᵀ``, ``A^l = gram_target(style features, "paper")`` (the
    style's Gram divided by its number of positions) and equal style-layer weights
    ``1/L`` — Gatys, Ecker & Bethge, CVPR 2016, eqs. 1, 4, 5 (``convention="paper"``).
    ``feats`` holds ``(1, C, H, W)`` features of the image being optimised at every
    layer named in the two target dictionaries. Returns a scalar.
    """
    content = sum(losses.content_loss(feats[k], p, "paper") for k, p in content_targets.items())
    style = sum(losses.gram_loss(feats[k], a, "paper") for k, a in style_targets.items())
    return content_weight * content + style_weight * style / max(1, len(style_targets))
