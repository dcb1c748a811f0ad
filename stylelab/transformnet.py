"""Johnson et al.'s image transformation network ``f_W`` (the feed-forward methods' generator).

:class:`TransformNet` is the paper's network (supplementary Table 1): a 9×9
convolution, two stride-2 convolutions, five residual blocks, two ×2
upsampling stages and a 9×9 output convolution — reflection padding, as the
official Torch code (jcjohnson/fast-neural-style) and PyTorch's example.
Switches:

* ``norm``: ``"batch"`` (the paper), ``"instance"`` (Ulyanov, Vedaldi &
  Lempitsky 2016: replacing batch by instance norm visibly improves the
  stylisations; the official code's later default) or ``"conditional"``
  (Dumoulin, Shlens & Kudlur, ICLR 2017: one network, ``n_styles`` styles, a
  table of per-style ``γ, β`` in every normalisation layer —
  :class:`stylelab.norms.ConditionalInstanceNorm2d`);
* ``upsample``: ``"transposed"`` (the paper's fractionally-strided
  convolutions) or ``"nearest"`` (nearest ×2 then a 3×3 convolution, which
  avoids checkerboard artefacts — Odena, Dumoulin & Olah, Distill 2016; used by
  Dumoulin et al. and PyTorch's ``fast_neural_style`` example).

Used by :mod:`stylelab.methods.johnson` (one style, or many with conditional
instance norm: :mod:`stylelab.methods.cin`) and as CycleGAN's generator
(:mod:`stylelab.methods.cyclegan`). Johnson, Alahi & Fei-Fei, "Perceptual
Losses for Real-Time Style Transfer and Super-Resolution", ECCV 2016
(supplementary Table 1).
"""

from __future__ import annotations

from typing import Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from .norms import NormKind, make_norm

__all__ = ["TransformNet", "ResidualBlock", "UPSAMPLE_MODES"]

_NORM_CODES = {"batch": 0, "instance": 1, "conditional": 2, "none": 3}
_UP_CODES = {"nearest": 0, "transposed": 1}
#: The ×2 upsampling choices (``upsample=``).
UPSAMPLE_MODES = tuple(_UP_CODES)


class _ConvNorm(nn.Module):
    """Reflection pad → ``k×k`` convolution (stride ``s``) → normalisation → optional ReLU."""

    def __init__(self, cin, cout, k, stride=1, norm: NormKind = "instance", n_styles=1, relu=True):
        super().__init__()
        self.pad = k // 2
        self.conv = nn.Conv2d(cin, cout, k, stride)
        self.norm = make_norm(norm, cout, n_styles)
        self.relu = relu

    def forward(self, x, style=None):
        x = self.conv(F.pad(x, (self.pad,) * 4, mode="reflect"))
        x = self.norm(x, style) if style is not None else self.norm(x)
        return F.relu(x) if self.relu else x


class _Up(nn.Module):
    """×2 upsampling: transposed 3×3 convolution, or nearest ×2 then a 3×3 convolution; → norm → ReLU."""

    def __init__(self, cin, cout, mode, norm, n_styles):
        super().__init__()
        self.mode = mode
        if mode == "transposed":
            self.conv = nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1)
        else:
            self.conv = nn.Conv2d(cin, cout, 3)
        self.norm = make_norm(norm, cout, n_styles)

    def forward(self, x, style=None):
        if self.mode == "transposed":
            x = self.conv(x)
        else:
            x = self.conv(F.pad(F.interpolate(x, scale_factor=2, mode="nearest"), (1, 1, 1, 1), mode="reflect"))
        x = self.norm(x, style) if style is not None else self.norm(x)
        return F.relu(x)


class ResidualBlock(nn.Module):
    """``x + norm(conv(relu(norm(conv(x)))))`` with 3×3 reflection-padded convolutions (He et al., CVPR 2016;
    Johnson et al.'s blocks without the final ReLU, as in Gross & Wilber's study they cite)."""

    def __init__(self, channels: int, norm: NormKind = "instance", n_styles: int = 1):
        super().__init__()
        self.a = _ConvNorm(channels, channels, 3, norm=norm, n_styles=n_styles)
        self.b = _ConvNorm(channels, channels, 3, norm=norm, n_styles=n_styles, relu=False)

    def forward(self, x, style=None):
        return x + self.b(self.a(x, style), style)


class TransformNet(nn.Module):
    """Johnson et al.'s image transformation network ``f_W``: ``(B, 3, H, W)`` in [0, 1] → same shape in [0, 1].

    Layers with ``w = width`` (the paper: ``w = 32``, five residual blocks)::

        9×9 conv w → 3×3 conv 2w, stride 2 → 3×3 conv 4w, stride 2
        → n_residual × ResidualBlock(4w) → ×2 up 2w → ×2 up w → 9×9 conv 3 → (tanh + 1)/2

    each convolution but the last followed by the normalisation ``norm`` and a
    ReLU. The output is the paper's scaled tanh mapped to [0, 1]. Images whose
    sides are not multiples of 4 are reflection-padded and the result cropped
    back, so the output always has the input's size.

    Args:
        norm: ``"batch"``, ``"instance"``, ``"conditional"`` or ``"none"`` (:mod:`stylelab.norms`).
        n_styles: rows of the conditional tables (``norm="conditional"`` only).
        upsample: ``"nearest"`` or ``"transposed"``.
        outer_kernel: side of the first and last convolutions (Johnson et al.:
            9; CycleGAN's generator, which adopts this network: 7).

    Call ``net(x)``, or ``net(x, style)`` for a conditional network with
    ``style`` an index, one index per image, or mixing weights
    (:func:`stylelab.norms.style_weights`). The architecture is stored in the
    state dict (buffer ``arch``), so :meth:`from_state_dict` rebuilds it.
    """

    def __init__(self, width: int = 32, n_residual: int = 5, norm: NormKind = "instance", n_styles: int = 1,
                 upsample: str = "nearest", outer_kernel: int = 9):
        super().__init__()
        if norm not in _NORM_CODES:
            raise ValueError(f"norm must be one of {sorted(_NORM_CODES)}, got {norm!r}")
        if upsample not in _UP_CODES:
            raise ValueError(f"upsample must be 'nearest' or 'transposed', got {upsample!r}")
        if width < 1 or n_residual < 0 or n_styles < 1 or outer_kernel < 1 or outer_kernel % 2 == 0:
            raise ValueError("width ≥ 1, n_residual ≥ 0, n_styles ≥ 1 and an odd outer_kernel are required")
        if n_styles > 1 and norm != "conditional":
            raise ValueError(f"{n_styles} styles need norm='conditional' (a {norm!r} network learns one style)")
        self.width, self.n_residual, self.norm, self.n_styles, self.upsample = width, n_residual, norm, n_styles, upsample
        self.pretrained = False
        self.outer_kernel = outer_kernel
        self.register_buffer("arch", torch.tensor([width, n_residual, _NORM_CODES[norm], _UP_CODES[upsample], n_styles, outer_kernel]))
        w, kw = width, dict(norm=norm, n_styles=n_styles)
        self.down = nn.ModuleList([_ConvNorm(3, w, outer_kernel, **kw), _ConvNorm(w, 2 * w, 3, 2, **kw), _ConvNorm(2 * w, 4 * w, 3, 2, **kw)])
        self.res = nn.ModuleList([ResidualBlock(4 * w, **kw) for _ in range(n_residual)])
        self.up = nn.ModuleList([_Up(4 * w, 2 * w, upsample, **kw), _Up(2 * w, w, upsample, **kw)])
        self.out = nn.Conv2d(w, 3, outer_kernel)

    @property
    def conditional(self) -> bool:
        return self.norm == "conditional"

    @classmethod
    def from_state_dict(cls, state: Mapping[str, torch.Tensor]) -> "TransformNet":
        """Rebuild the network a state dict came from (its ``arch`` buffer) and load the weights."""
        if "arch" not in state:
            raise ValueError("this state dict has no 'arch' entry: it was not saved from a stylelab TransformNet")
        width, n_res, norm, up, n_styles, kernel = (int(v) for v in state["arch"].tolist())
        norms = {code: name for name, code in _NORM_CODES.items()}
        ups = {code: name for name, code in _UP_CODES.items()}
        net = cls(width, n_res, norms[norm], n_styles, ups[up], kernel)
        net.load_state_dict(state)
        return net

    def forward(self, x: torch.Tensor, style=None) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"TransformNet expects (B, 3, H, W) images, got {tuple(x.shape)}")
        if self.conditional and style is None:
            if self.n_styles > 1:
                raise ValueError(f"this network knows {self.n_styles} styles: pass style=INDEX (0…{self.n_styles - 1}) or mixing weights")
            style = 0
        if not self.conditional:
            style = None
        h, w = x.shape[-2:]
        ph, pw = (-h) % 4, (-w) % 4
        if ph or pw:
            if min(h, w) < 2:
                raise ValueError(f"the image is {w}×{h} px; TransformNet needs at least 2 px on each side")
            x = F.pad(x, (0, pw, 0, ph), mode="reflect")
        for layer in self.down:
            x = layer(x, style)
        for block in self.res:
            x = block(x, style)
        for layer in self.up:
            x = layer(x, style)
        x = self.out(F.pad(x, (self.outer_kernel // 2,) * 4, mode="reflect"))
        return ((torch.tanh(x) + 1) / 2)[..., :h, :w]

    def extra_repr(self) -> str:
        return (f"width={self.width}, n_residual={self.n_residual}, norm={self.norm!r}, n_styles={self.n_styles}, "
                f"upsample={self.upsample!r}, outer_kernel={self.outer_kernel}")
