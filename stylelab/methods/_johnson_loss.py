"""Johnson et al.'s perceptual loss (ECCV 2016): the content and style layers, the loss network's
features (pretrained VGG, or fixed random filters when none is at hand) and :class:`PerceptualLoss`.

Private: every name here is imported from :mod:`stylelab.methods.johnson`, its one public path.
"""

from __future__ import annotations

from typing import Mapping

import torch
import torch.nn as nn

from ..features import losses, stats
from ..nets.transformnet import TransformNet

__all__ = ["CONTENT_LAYERS", "STYLE_LAYERS", "RandomFilterEncoder", "PerceptualLoss"]


#: Johnson et al.'s layers, moved from VGG-16 to VGG-19 (last ReLU of each block).
CONTENT_LAYERS = {"relu2_2": 1.0}
STYLE_LAYERS = {"relu1_2": 1.0, "relu2_2": 1.0, "relu3_4": 1.0, "relu4_4": 1.0}

# ============================================================================ encoders
class RandomFilterEncoder(nn.Module):
    """Untrained features for the perceptual loss when no pretrained VGG is at hand.

    One layer of seeded random multi-scale filters + ReLU
    (:func:`stylelab.features.stats.random_features`; Ustyuzhaninov, Brendel, Gatys &
    Bethge, ICLR 2017, synthesise textures by matching Gram matrices of such
    features). Called like a VGG encoder, ``enc(image, layers=[...])`` returns
    ``{"k3": (B, channels, H, W), "k5": ..., "k7": ..., "k11": ...}``.
    ``pretrained`` is ``False``: say so on screen.
    """

    def __init__(self, channels: int = 32, sizes: tuple[int, ...] = (3, 5, 7, 11), seed: int = 0):
        super().__init__()
        self.pretrained = False
        self.layers = tuple(f"k{k}" for k in sizes)
        for k, bank in zip(sizes, stats.random_filters(3, channels, sizes, seed=seed)):
            self.register_buffer(f"k{k}", bank)
        self.requires_grad_(False)

    def forward(self, image: torch.Tensor, layers=None) -> dict[str, torch.Tensor]:
        wanted = [layers] if isinstance(layers, str) else list(layers or self.layers)
        unknown = [n for n in wanted if n not in self.layers]
        if unknown:
            raise ValueError(f"RandomFilterEncoder has layers {self.layers}, not {unknown}")
        banks = [getattr(self, n) for n in wanted]
        return dict(zip(wanted, stats.random_features(image, filters=[b.to(image.dtype) for b in banks]).values()))


# ============================================================================ the loss
class PerceptualLoss:
    """Johnson et al.'s training loss, a ``loss_fn`` for :func:`stylelab.train.fit`.

    For a batch of content images ``x`` ``(B, 3, H, W)``, with ``ŷ = net(x, s)``
    and a style ``s_b`` per image (always 0 with one style; drawn uniformly
    from the table when the network is conditional)::

        content = Σ_j w_j · mean (φ_j(ŷ) − φ_j(x))²                  (feature loss)
        style   = Σ_l w_l · mean_{C×C} (G_l(ŷ) − G_l(y_{s_b}))²,  G = φφᵀ/(C·H·W)
        total   = content_weight · content + style_weight · style + tv_weight · TV(ŷ)

    (``losses.content_loss`` / ``losses.gram_loss`` with the ``"tutorial"``
    normalisation; ``losses.total_variation``). The style Gram targets are
    computed once, one per style image, each at its own size.

    Args:
        net: the :class:`TransformNet` being trained.
        encoder: a frozen feature extractor called as ``encoder(img, layers=[...])``
            — a :class:`~stylelab.nets.encoders.VGG19Encoder` or a :class:`RandomFilterEncoder`.
        styles: one style image ``(1, 3, H', W')``, or a list of them / an
            ``(S, 3, H', W')`` tensor for a conditional network (row ``s`` of the
            tables learns ``styles[s]``).
        seed: seeds the style draws (reproducible runs).

    Returns (on call) ``{"total", "content", "style", "tv"}``, the last three
    weighted and detached, as :func:`~stylelab.train.fit` logs them.
    """

    def __init__(self, net: TransformNet, encoder, styles, *, content_layers: Mapping[str, float] | None = None,
                 style_layers: Mapping[str, float] | None = None, content_weight: float = 1.0,
                 style_weight: float = 1e5, tv_weight: float = 1e-3, seed: int = 0):
        self.net, self.encoder = net, encoder
        self.content_layers = dict(content_layers if content_layers is not None else CONTENT_LAYERS)
        self.style_layers = dict(style_layers if style_layers is not None else STYLE_LAYERS)
        self.content_weight, self.style_weight, self.tv_weight = float(content_weight), float(style_weight), float(tv_weight)
        images = list(styles) if isinstance(styles, (list, tuple)) else [s[None] for s in styles]
        if not images:
            raise ValueError("give at least one style image")
        for s in images:
            if s.dim() != 4 or s.shape[:2] != (1, 3):
                raise ValueError(f"style images must be (1, 3, H, W) each, got {tuple(s.shape)}")
        n_net = net.n_styles if net.conditional else 1
        if len(images) != n_net:
            raise ValueError(f"{len(images)} style image(s) for a network that learns {n_net} "
                             "(build TransformNet(norm='conditional', n_styles=S) for several styles)")
        with torch.no_grad():
            per_style = [encoder(s, layers=list(self.style_layers)) for s in images]
            self.targets = {l: torch.cat([losses.gram_target(f[l], "tutorial") for f in per_style]) for l in self.style_layers}
        self.n_styles = len(images)
        self.generator = torch.Generator().manual_seed(seed)

    @classmethod
    def balanced(cls, net: TransformNet, encoder, styles, contents: torch.Tensor, *, style_ratio: float = 1.0,
                 tv_ratio: float = 0.0, content_layers=None, style_layers=None, seed: int = 0) -> "PerceptualLoss":
        """A loss whose weights are set from the data, so the same ``style_ratio`` means the same on any encoder.

        The feature and Gram terms have units that depend on the encoder's scale
        (a Caffe-scale VGG's features are ~255× a [0, 1]-scale one's, its Gram
        terms ~255⁴×). Measure each term on trivial answers for the
        ``contents`` ``(N, 3, H, W)``:

        * ``c₀`` = feature loss of the flat mean-colour image (all content lost);
        * ``s₀`` = style loss of the content photos themselves, averaged over styles
          (no style gained);
        * ``t₀`` = total variation of the content photos;

        and set ``content_weight = 1/c₀``, ``style_weight = style_ratio/s₀``,
        ``tv_weight = tv_ratio/t₀``. The chosen weights are in ``.content_weight`` etc.
        """
        probe = cls(net, encoder, styles, content_layers=content_layers, style_layers=style_layers,
                    content_weight=1.0, style_weight=1.0, tv_weight=1.0, seed=seed)
        with torch.no_grad():
            flat = contents.mean((2, 3), keepdim=True).expand_as(contents)
            feats = probe.encoder(contents, layers=sorted(set(probe.content_layers) | set(probe.style_layers)))
            flat_feats = probe.encoder(flat, layers=list(probe.content_layers))
            c0 = sum(w * losses.content_loss(flat_feats[l], feats[l], "tutorial") for l, w in probe.content_layers.items())
            s0 = sum(w * losses.gram_loss(feats[l], t[s : s + 1].to(contents.dtype), "tutorial")
                     for l, w in probe.style_layers.items() for s, t in ((s, probe.targets[l]) for s in range(probe.n_styles)))
            s0 = s0 / probe.n_styles
            t0 = losses.total_variation(contents)
        for name, v in (("c₀ (content lost)", c0), ("s₀ (style of the photos)", s0)):
            if not float(v) > 0:
                raise ValueError(f"cannot balance the loss: {name} is {float(v)}; give varied content images")
        probe.content_weight = 1.0 / float(c0)
        probe.style_weight = style_ratio / float(s0)
        probe.tv_weight = tv_ratio / float(t0) if tv_ratio else 0.0
        return probe

    def draw_styles(self, batch: int) -> torch.Tensor:
        """Style index of each image of a batch: ``(B,)`` int64 (zeros for one style)."""
        if self.n_styles == 1:
            return torch.zeros(batch, dtype=torch.long)
        return torch.randint(self.n_styles, (batch,), generator=self.generator)

    def _terms(self, out: torch.Tensor, content_feats, targets: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        feats = self.encoder(out, layers=sorted(set(self.content_layers) | set(self.style_layers)))
        content = sum(w * losses.content_loss(feats[l], content_feats[l], "tutorial") for l, w in self.content_layers.items())
        style = sum(w * losses.gram_loss(feats[l], targets[l], "tutorial") for l, w in self.style_layers.items())
        parts = {"content": self.content_weight * content, "style": self.style_weight * style,
                 "tv": self.tv_weight * losses.total_variation(out)}
        return {"total": parts["content"] + parts["style"] + parts["tv"], **parts}

    def __call__(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        idx = self.draw_styles(x.shape[0]).to(x.device)
        out = self.net(x, idx if self.net.conditional else None)
        with torch.no_grad():
            content_feats = self.encoder(x, layers=list(self.content_layers))
        terms = self._terms(out, content_feats, {l: t.to(out.dtype)[idx] for l, t in self.targets.items()})
        return {"total": terms["total"], **{k: v.detach() for k, v in terms.items() if k != "total"}}

    def objective(self, content: torch.Tensor, style: int = 0):
        """The same loss as a function of the pixels of one image: Gatys-style image optimisation.

        Returns ``f(x) -> (total, {"content", "style", "tv"})`` with the content
        features of ``content`` ``(1, 3, H, W)`` and the Gram targets of style
        ``style`` fixed — the form :func:`stylelab.methods.gatys.optimise`
        minimises. Image optimisation solves this problem once per image; the
        network solves it on average over the training images (the amortisation).
        """
        if not 0 <= style < self.n_styles:
            raise ValueError(f"style must be in 0…{self.n_styles - 1}, got {style}")
        with torch.no_grad():
            content_feats = self.encoder(content, layers=list(self.content_layers))
        targets = {l: t[style : style + 1].to(content.dtype) for l, t in self.targets.items()}

        def f(x: torch.Tensor):
            terms = self._terms(x, content_feats, targets)
            return terms["total"], {k: v for k, v in terms.items() if k != "total"}

        return f
