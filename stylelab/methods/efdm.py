"""EFDM: exact feature-distribution matching (Zhang, Li, Li, Jia & Zhang, CVPR 2022).

``image = g(α · EFDM(φ(c), φ(s)) + (1 − α) · φ(c))``: AdaIN's architecture with
the AdaIN layer replaced by exact histogram matching of every ``relu4_1``
channel (:func:`stylelab.features.efdm.efdm`, the equations there). ``φ`` is the
normalised VGG-19 to ``relu4_1`` and ``g`` its mirror decoder: the paper
trains ``g`` with the EFDM layer in AdaIN's training loop; stylelab uses the
pair :class:`~stylelab.methods.adain.AdaIN` loads (``AdaIN.from_official``:
the released AdaIN decoder, or the course's stand-in), so the pictures are
EFDM's transform decoded by AdaIN's decoder — the decoder inverts ``relu4_1``
whatever statistic was matched, but it was not trained on EFDM's outputs.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .. import validate as V
from ..device import follow
from ..features.efdm import efdm
from ..weights import checkpoints_of as _checkpoints_of
from . import BenchRow, Method, Runner, images_then_keywords, register
from ._inputs import stylize_inputs
from . import adain as _adain  # a module reference: the registry may import efdm while adain is importing

__all__ = ["EFDM", "add_cli_arguments", "run_cli"]


class EFDM(nn.Module):
    """Encoder to ``relu4_1`` + EFDM + decoder (module docstring); build with :meth:`from_official`
    or :meth:`from_model` (any AdaIN model: the published one or ``stylelab.course.standin.model("adain")``)."""

    layer = "relu4_1"

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    @property
    def pretrained(self) -> bool:
        return bool(getattr(self.encoder, "pretrained", False) and getattr(self.decoder, "pretrained", False))

    @classmethod
    def from_model(cls, model) -> "EFDM":
        """EFDM on the encoder and decoder of ``model`` (shared, not copied); keeps its ``stand_in`` label."""
        out = cls(model.encoder, model.decoder)
        if getattr(model, "stand_in", None):
            out.stand_in = model.stand_in
        out._stylelab_checkpoints = _checkpoints_of(model)
        return out

    @classmethod
    def from_official(cls, vgg=None, decoder=None, device=None, random: bool | None = None,
                      download: bool = True) -> "EFDM":
        """AdaIN's released pair (:meth:`stylelab.methods.adain.AdaIN.from_official`, same arguments)."""
        return cls.from_model(_adain.AdaIN.from_official(vgg=vgg, decoder=decoder, device=device, random=random,
                                                  download=download))

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` → relu4_1 ``(B, 512, ⌈H/8⌉, ⌈W/8⌉)``."""
        return self.encoder(follow(self, image), layers=self.layer)[self.layer]

    @torch.no_grad()
    @images_then_keywords
    def stylize(self, content: torch.Tensor, style: torch.Tensor, *, alpha: float = 1.0,
                clamp: bool = True) -> torch.Tensor:
        """Stylise ``content`` ``(B, 3, H, W)`` with one ``style`` ``(1 or B, 3, H', W')``.

        Returns ``(B, 3, H, W)`` on the model's device (sides padded to :data:`stylelab.methods.adain.MIN_SIDE` when smaller,
        decoded at ``8⌈H/8⌉ × 8⌈W/8⌉`` and cropped to ``H × W``).
        """
        content, styles, _, _, (H, W_) = stylize_inputs(self, content, style, min_side=_adain.MIN_SIDE)
        t = efdm(self.encode(content), self.encode(styles[0]), alpha)
        out = self.decoder(t)[..., :H, :W_]
        return out.clamp(0, 1) if clamp else out

    forward = stylize


# ============================================================================ CLI
def add_cli_arguments(parser) -> None:
    parser.add_argument("--alpha", type=V.arg_float(0, 1), default=1.0, help="style strength in [0, 1] (default 1)")
    parser.add_argument("--vgg", type=V.arg_existing("file"), default=None,
                        help="path of vgg_normalised.pth (default: registry)")
    parser.add_argument("--decoder", type=V.arg_existing("file"), default=None,
                        help="path of AdaIN's decoder.pth or a trained .ckpt (default: registry)")


def run_cli(content, style, run, *, alpha: float, vgg: str | None, decoder: str | None) -> torch.Tensor:
    """``stylelab transfer --method efdm`` (a :class:`stylelab.methods.TransferRun`; the options of
    :func:`add_cli_arguments`)."""
    model = EFDM.from_official(vgg=vgg, decoder=decoder, device=run.device)
    return model.stylize(content, style, alpha=alpha)


# ============================================================================ registry
def _bench(cfg, device) -> Runner:
    model = EFDM.from_official(device=device, random=True if cfg.random_weights else None)
    return Runner(lambda c, s: model.stylize(c, s), model.pretrained, _checkpoints_of(model))


def _bench_pixel(cfg, device) -> Runner:
    return Runner(lambda c, s: efdm(c, s).clamp(0, 1), None)


register(Method(
    name="efdm", order=62,
    summary="EFDM, Zhang et al., CVPR 2022: exact histogram matching of every channel (sorting), AdaIN's decoder",
    add_cli_arguments=add_cli_arguments, run_cli=run_cli,
    bench=(BenchRow("efdm", "EFDM", "feed-forward", _bench, "EFDM.from_official().stylize"),
           BenchRow("pixel-efdm", "pixel EFDM (colour histograms)", "pixel", _bench_pixel,
                    "efdm.efdm on RGB pixels")),
    checkpoints=("vgg_normalised", "adain_decoder"),
))
