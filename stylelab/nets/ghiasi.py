"""Ghiasi et al.'s arbitrary-style network: a style-prediction network and a style-transfer network.

Ghiasi, Lee, Kudlur, Dumoulin & Shlens, "Exploring the structure of a
real-time, arbitrary neural artistic stylization network", BMVC 2017.
Dumoulin et al.'s conditional instance norm (:mod:`stylelab.features.norms`) keeps a
table of ``(γ, β)`` per style; Ghiasi et al. replace the table by a
*function of the style image*:

    v = P(style)                      P: MobileNetV2 → global mean → 1×1 conv, v ∈ R¹⁰⁰ (the style embedding)
    γ_l = A_l v + a_l,  β_l = B_l v + b_l        in every normalised layer l of the transformer T
    output = T(content; v)

so one network stylises with any style image, and ``v`` is a learned
embedding where nearby vectors are similar styles. Interpolating
``v = α P(style) + (1 − α) P(content)`` weakens the style (Magenta's
``content_blending_ratio``), the counterpart of AdaIN's ``alpha``.

This module holds the networks as the trained files of Magenta's release
(the int8 TensorFlow-Lite conversion, dequantised; ``magenta_arbitrary`` in
the weights registry):

* :class:`StylePredictor`: MobileNetV2 (Sandler et al., CVPR 2018; width 1.0,
  17 inverted-residual blocks, batch norm folded into the convolutions' biases,
  ReLU6) on RGB in [0, 1], TensorFlow's "SAME" padding (a stride-2 convolution
  on an even side pads 0 before and 1 after), then the mean over positions and
  a 1×1 convolution to 100 numbers;
* the transformer: :class:`stylelab.nets.transformnet.TransformNet` with
  :data:`stylelab.nets.transformnet.MAGENTA_ARBITRARY` (conditional instance norm
  with predicted parameters, sigmoid output).

Functions for notebooks: :func:`load` (the pair), :func:`style_vector`
(style image → ``(B, 100)``), :func:`stylize` (content + style image or
vector → image)::

    net = stylelab.nets.ghiasi.load()                 # installed magenta_arbitrary; net.pretrained says so
    v = stylelab.nets.ghiasi.style_vector(net, style)  # (1, 100): the learned style embedding
    out = stylelab.nets.ghiasi.stylize(net, content, style, alpha=0.8)  # or stylize(net, content, v)

Measured on the course images (tests/test_magenta.py): each output's channel
means and standard deviations are nearest those of its own style among the
four course paintings. The release's inputs are 256×256 styles and 384×384
contents; :func:`stylize` resizes the style to 256×256 as the release does,
and takes contents of any size (sides not multiples of 4 are padded and
cropped back).
"""

from __future__ import annotations

from typing import Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import weights
from ..device import follow, get_device
from .transformnet import MAGENTA_ARBITRARY, TransformNet

__all__ = ["StylePredictor", "ArbitraryStyleNet", "load", "style_vector", "stylize", "STYLE_SIZE", "STYLE_DIM",
           "MOBILENET_V2_BLOCKS"]

#: Side of the style image the release's predictor was converted for (its input is 256×256).
STYLE_SIZE = 256
#: Size of the style embedding.
STYLE_DIM = 100
#: MobileNetV2's inverted-residual blocks (Sandler et al., Table 2): (expansion t, output channels, stride).
MOBILENET_V2_BLOCKS: tuple[tuple[int, int, int], ...] = (
    (1, 16, 1),
    (6, 24, 2), (6, 24, 1),
    (6, 32, 2), (6, 32, 1), (6, 32, 1),
    (6, 64, 2), (6, 64, 1), (6, 64, 1), (6, 64, 1),
    (6, 96, 1), (6, 96, 1), (6, 96, 1),
    (6, 160, 2), (6, 160, 1), (6, 160, 1),
    (6, 320, 1),
)


def _same_pad(x: torch.Tensor, k: int, stride: int) -> torch.Tensor:
    """TensorFlow's "SAME" zero padding: output side ``ceil(n / stride)``, the odd pixel after (bottom/right)."""
    pads = []
    for n in (x.shape[-1], x.shape[-2]):
        total = max(k - (stride if n % stride == 0 else n % stride), 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class _InvertedResidual(nn.Module):
    """1×1 expand (t·C, ReLU6) → 3×3 depthwise (stride s, ReLU6) → 1×1 linear projection, ``+ x`` when shapes allow."""

    def __init__(self, cin, t, cout, stride):
        super().__init__()
        mid = cin * t
        self.expand = nn.Conv2d(cin, mid, 1) if t != 1 else None
        self.depthwise = nn.Conv2d(mid, mid, 3, stride, groups=mid)
        self.project = nn.Conv2d(mid, cout, 1)
        self.stride, self.residual = stride, stride == 1 and cin == cout

    def forward(self, x):
        y = F.relu6(self.expand(x)) if self.expand is not None else x
        y = F.relu6(self.depthwise(_same_pad(y, 3, self.stride)))
        y = self.project(y)
        return x + y if self.residual else y


class StylePredictor(nn.Module):
    """Ghiasi et al.'s style-prediction network: ``(B, 3, H, W)`` RGB in [0, 1] → style embedding ``(B, 100)``.

    ``stem`` (3×3 conv 32, stride 2, ReLU6) → the 17 blocks of
    :data:`MOBILENET_V2_BLOCKS` → ``head`` (1×1 conv 1280, ReLU6) → mean over
    positions → ``bottleneck`` (1×1 conv 1280 → 100, no bias). Padding as
    TensorFlow's "SAME".
    """

    def __init__(self, style_dim: int = STYLE_DIM):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, 2)
        blocks, cin = [], 32
        for t, cout, s in MOBILENET_V2_BLOCKS:
            blocks.append(_InvertedResidual(cin, t, cout, s))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Conv2d(cin, 1280, 1)
        self.bottleneck = nn.Conv2d(1280, style_dim, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"the style predictor expects (B, 3, H, W) images, got {tuple(x.shape)}")
        x = F.relu6(self.stem(_same_pad(x, 3, 2)))
        for block in self.blocks:
            x = block(x)
        x = F.relu6(self.head(x)).mean((2, 3), keepdim=True)
        return self.bottleneck(x).flatten(1)


class ArbitraryStyleNet(nn.Module):
    """The pair: ``predictor`` (:class:`StylePredictor`) and ``transformer`` (:class:`TransformNet`,
    :data:`~stylelab.nets.transformnet.MAGENTA_ARBITRARY`). ``net(content, v)`` stylises with an embedding ``v``."""

    def __init__(self):
        super().__init__()
        self.predictor = StylePredictor()
        self.transformer = TransformNet(**MAGENTA_ARBITRARY)
        self.pretrained = False

    def forward(self, content: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
        return self.transformer(content, vector)


def load(source=None, *, device=None, random: bool | None = None) -> ArbitraryStyleNet:
    """Magenta's trained arbitrary-style pair (registry name ``magenta_arbitrary``), frozen, in eval mode.

    Args:
        source: a state dict, or a path to a converted ``.pth`` file; default:
            the installed ``magenta_arbitrary`` (``stylelab weights download
            magenta_arbitrary``; installed now when missing, unless
            ``$STYLELAB_OFFLINE=1``).
        random: allow random weights when the file is missing (default
            ``$STYLELAB_RANDOM_WEIGHTS``): a smoke test only — ``.pretrained`` is
            then ``False`` and a :class:`stylelab.weights.RandomWeightsWarning` says so.

    Returns:
        :class:`ArbitraryStyleNet` on ``get_device(device)``; ``.pretrained`` says
        whether the weights are the trained ones.

    Raises:
        stylelab.weights.WeightsNotFoundError: not installed, and random weights not allowed.
        ValueError: a state dict that is not the pair's.
    """
    net = ArbitraryStyleNet()
    if isinstance(source, Mapping):
        state = dict(source)
    elif source is not None:
        state = weights.read_checkpoint(source)
    else:
        try:
            state = weights.read_checkpoint(weights.resolve("magenta_arbitrary"))
        except weights.WeightsNotFoundError:
            if not weights.random_allowed(random):
                raise
            weights.warn_random("Ghiasi et al.'s arbitrary-style network", weights.get("magenta_arbitrary"))
            state = None
    if state is not None:
        state = {k: torch.as_tensor(v) for k, v in state.items()}
        state.setdefault("transformer.arch", net.transformer.arch)
        missing = sorted(set(net.state_dict()) - set(state))
        unexpected = sorted(set(state) - set(net.state_dict()))
        if missing or unexpected:
            raise ValueError(f"not a magenta_arbitrary state dict: missing {missing[:3]}, unexpected {unexpected[:3]} "
                             f"({len(missing)} and {len(unexpected)} keys)")
        net.load_state_dict(state)
        net.pretrained = True
    return net.eval().requires_grad_(False).to(get_device(device))


@torch.no_grad()
def style_vector(net: ArbitraryStyleNet, style: torch.Tensor, *, resize: bool = True) -> torch.Tensor:
    """The style embedding ``v = P(style)``: ``(B, 3, H, W)`` in [0, 1] → ``(B, 100)``.

    ``resize``: bring the style to 256×256 first (bilinear, antialiased), the
    size the release's predictor was trained and converted at.
    """
    style = follow(net, style)
    if resize and style.shape[-2:] != (STYLE_SIZE, STYLE_SIZE):
        style = F.interpolate(style, size=(STYLE_SIZE, STYLE_SIZE), mode="bilinear", align_corners=False, antialias=True)
    return net.predictor(style)


@torch.no_grad()
def stylize(net: ArbitraryStyleNet, content: torch.Tensor, style: torch.Tensor, *, alpha: float = 1.0) -> torch.Tensor:
    """Stylise ``content`` ``(B, 3, H, W)`` with a style image ``(B or 1, 3, H', W')`` or an embedding ``(B or 1, 100)``.

    ``alpha`` blends the embeddings, ``v = α v_style + (1 − α) P(content)``
    (Ghiasi et al., Sec. 5; 1 = full style, 0 ≈ the network's rendering of
    the content's own style). Returns ``(B, 3, H, W)`` in [0, 1] on the
    network's device.
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    content = follow(net, content)
    v = style_vector(net, style) if style.dim() == 4 else follow(net, style).reshape(-1, STYLE_DIM)
    if alpha < 1.0:
        v = alpha * v + (1.0 - alpha) * style_vector(net, content)
    return net.transformer(content, v)
