"""Colour-only style transfer from a thumbnail (Neural Preset's idea, Ke et al., CVPR 2023, without its network).

1. reduce the content to a thumbnail (long side ``thumbnail``, 256 px by default: the size Neural
   Preset's encoder sees);
2. stylise the thumbnail with a photorealistic method (``base``: WCT², Yoo et al. ICCV 2019, by
   default; ``"pixel-wct"``: WCT on the pixels' colours, no network);
3. fit a polynomial colour transform thumbnail → stylised thumbnail by least squares
   (:func:`stylelab.features.colour_fit.fit`, the equations there);
4. apply it to every pixel of the full-size content in one pass (:func:`stylelab.features.colour_fit.apply`).

The network runs at thumbnail size whatever the photo's size, so memory and time are those of
the thumbnail plus one cheap pass over the pixels: a 12 MP photo takes seconds on a laptop CPU
(BENCHMARKS.md), where WCT² at full size would need tens of GB. What it gives up: the output
is a function of each pixel's colour, so it keeps the content's detail exactly and can add no
texture.

Neural Preset (Ke et al., CVPR 2023) predicts the colour transform (its DNCM) with
a trained encoder instead of fitting it to a stylised thumbnail; this module has no part of
their network or weights.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..features import transforms as T
from .. import validate as V
from ..features.colour_fit import DEGREES, ColourTransform
from ..features.colour_fit import apply as apply_colour
from ..features.colour_fit import fit as fit_colour
from ..io import resize
from ..weights import checkpoints_of as _checkpoints_of
from . import BenchRow, Method, Runner, images_then_keywords, register
from . import wct2 as _wct2  # a module reference: the registry may import this module while wct2 is importing

__all__ = ["ColourMap", "BASES", "add_cli_arguments", "run_cli"]

#: The photorealistic methods :meth:`ColourMap.from_official` can stylise the thumbnail with.
BASES = ("wct2", "pixel-wct")


def _pixel_wct(content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """WCT on RGB pixels (``exact`` preset): the content's colour covariance made the style's."""
    return T.wct(content, style.to(content.device, content.dtype)).clamp(0, 1)


class ColourMap:
    """A thumbnail stylised by ``base`` and its colour map applied at full size (module docstring).

    Args:
        base: ``fn(thumbnail (1, 3, h, w), style) -> (1, 3, ≥h, ≥w)`` image in [0, 1] (cropped to ``h × w``).
        name: what drew the thumbnail, for banners and titles (``.network``).
        pretrained: whether ``base`` runs trained weights (``None``: it has none).
    """

    def __init__(self, base: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], *, name: str,
                 pretrained: bool | None, checkpoints: dict | None = None):
        self.base, self.network, self.pretrained = base, name, pretrained
        self.checkpoints = dict(checkpoints or {})

    @classmethod
    def from_official(cls, base: str = "wct2", device=None, random: bool | None = None,
                      download: bool = True) -> "ColourMap":
        """``base="wct2"``: :meth:`stylelab.methods.wct2.WCT2.from_official` (its weights, same arguments);
        ``"pixel-wct"``: no network."""
        if base == "pixel-wct":
            return cls(_pixel_wct, name="WCT on pixels (no network)", pretrained=None)
        if base != "wct2":
            raise ValueError(f"base must be one of {BASES}, got {base!r}")
        model = _wct2.WCT2.from_official(device=device, random=random, download=download)
        return cls(model.stylize, name="WCT²", pretrained=model.pretrained, checkpoints=_checkpoints_of(model))

    @classmethod
    def from_model(cls, model, name: str | None = None) -> "ColourMap":
        """Any model with ``stylize(content, style)`` as the base (a stand-in keeps its label in ``.network``)."""
        label = name or type(model).__name__
        if getattr(model, "stand_in", None):
            label += " (stand-in)"
        return cls(model.stylize, name=label, pretrained=getattr(model, "pretrained", None),
                   checkpoints=_checkpoints_of(model))

    def thumbnail_pair(self, content: torch.Tensor, style: torch.Tensor, thumbnail: int = 256):
        """``(thumbnail, stylised thumbnail)``, both ``(1, 3, h, w)`` with long side ``thumbnail`` (never enlarged).

        The content (float in [0, 1], or an 8-bit ``uint8`` photo) is averaged over ``k × k`` blocks
        (``k = ⌊long side / thumbnail⌋``: one pass over the photo, in bands of rows, with no full-size
        float copy) and then resized with antialiasing; the style is reduced to the same long side (its
        colour statistics need no more), and ``base`` stylises the thumbnail with it.
        """
        content = V.check_image(content, "content", batch=1, uint8=True)
        style = V.check_image(style, "style", batch=1)
        if thumbnail < 8:
            raise ValueError(f"thumbnail must be at least 8 px, got {thumbnail}")
        k = max(content.shape[-2:]) // thumbnail
        thumb = _block_mean(content, k if k >= 2 and min(content.shape[-2:]) >= 2 * k else 1)
        thumb = resize(thumb, thumbnail, side="long") if max(thumb.shape[-2:]) > thumbnail else thumb
        style = resize(style, thumbnail, side="long") if max(style.shape[-2:]) > thumbnail else style
        with torch.no_grad():
            stylised = self.base(thumb, style)[..., : thumb.shape[-2], : thumb.shape[-1]]
        return thumb, stylised.to(thumb.device, thumb.dtype)

    def fit(self, content: torch.Tensor, style: torch.Tensor, *, thumbnail: int = 256, degree: int = 2,
            lam: float = 1e-4) -> ColourTransform:
        """The colour transform :meth:`stylize` applies (steps 1–3 of the module docstring)."""
        return fit_colour(*self.thumbnail_pair(content, style, thumbnail), degree=degree, lam=lam)

    @images_then_keywords
    def stylize(self, content: torch.Tensor, style: torch.Tensor, *, thumbnail: int = 256, degree: int = 2,
                lam: float = 1e-4, out: torch.Tensor | None = None) -> torch.Tensor:
        """Stylise ``content`` ``(1, 3, H, W)`` (any size) with ``style``; returns ``(1, 3, H, W)`` in [0, 1].

        ``content`` may be an 8-bit photo (``uint8``, 0–255, e.g. ``load_image(path, dtype=torch.uint8)``):
        the result is then ``uint8`` too, and no full-size float image exists at any point (the lean
        path of ``stylelab transfer``). ``out``: where to write the result (``content`` itself overwrites
        it band by band: no second photo in memory).
        """
        transform = self.fit(content, style, thumbnail=thumbnail, degree=degree, lam=lam)
        return apply_colour(transform, content, out=out)

    __call__ = stylize


def _block_mean(content: torch.Tensor, k: int, rows: int = 256) -> torch.Tensor:
    """``(1, 3, H, W)`` float or ``uint8`` → float ``(1, 3, ⌊H/k⌋, ⌊W/k⌋)``: the means of ``k × k`` blocks (0–255
    scaled to [0, 1]), computed about ``rows`` rows at a time so no full-size float copy is made (``k = 1``:
    the image itself as float)."""
    dtype = torch.float32 if content.dtype == torch.uint8 else content.dtype
    scale = 1 / 255 if content.dtype == torch.uint8 else 1.0
    if k == 1:
        return content.to(dtype) * scale if scale != 1.0 else content
    step = k * max(1, rows // k)
    bottom = content.shape[-2] // k * k
    return torch.cat([F.avg_pool2d(content[..., y0:min(y0 + step, bottom), :].to(dtype), k) * scale
                      for y0 in range(0, bottom, step)], -2)


# ============================================================================ CLI
def add_cli_arguments(parser) -> None:
    parser.add_argument("--base", choices=BASES, default="wct2",
                        help="the photorealistic method run on the thumbnail (default wct2; pixel-wct needs no weights)")
    parser.add_argument("--map-thumbnail", type=V.arg_int(8), default=256,
                        help="long side of the thumbnail the colour map is fitted on (default 256)")
    parser.add_argument("--degree", type=int, choices=DEGREES, default=2,
                        help="degree of the colour polynomial: 1 affine, 2 (default), 3")


def run_cli(content, style, run, *, base: str, map_thumbnail: int, degree: int) -> torch.Tensor:
    """``stylelab transfer --method colour-map`` (a :class:`stylelab.methods.TransferRun`; the options of
    :func:`add_cli_arguments`): the content, read as 8-bit (``reads_uint8``), is overwritten by its
    result band by band."""
    model = ColourMap.from_official(base, device=run.device)
    transform = model.fit(content, style, thumbnail=map_thumbnail, degree=degree)
    print(f"colour map of degree {degree} fitted on a {map_thumbnail} px thumbnail stylised by "
          f"{model.network}: rms residual {transform.residual:.4f}")
    return apply_colour(transform, content, out=content)  # in place: the photo is not held twice


# ============================================================================ registry
def _bench(base):
    def build(cfg, device) -> Runner:
        model = ColourMap.from_official(base, device=device, random=True if cfg.random_weights else None)
        return Runner(lambda c, s: model.stylize(c, s), model.pretrained, model.checkpoints)
    return build


register(Method(
    name="colour_map", order=75,
    summary="colour map from a thumbnail (Neural Preset's idea, Ke et al., CVPR 2023): WCT² on a 256 px "
            "thumbnail, a least-squares colour polynomial applied to every pixel (12 MP in seconds)",
    add_cli_arguments=add_cli_arguments, run_cli=run_cli, keeps_size=True, reads_uint8=True,
    bench=(BenchRow("colour-map", "colour map (WCT² thumbnail)", "feed-forward", _bench("wct2"),
                    "ColourMap.from_official().stylize"),
           BenchRow("pixel-colour-map", "colour map (pixel-WCT thumbnail)", "pixel", _bench("pixel-wct"),
                    "ColourMap.from_official('pixel-wct').stylize")),
    checkpoints=("wct2_encoder_cat5", "wct2_decoder_cat5"),
))
