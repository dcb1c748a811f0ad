"""AdaIN: arbitrary style transfer in real time (Huang & Belongie, ICCV 2017).

``image = g(α · AdaIN(φ(c), φ(s)) + (1 − α) · φ(c))`` with ``φ`` the normalised
VGG-19 up to ``relu4_1`` (pooling rounded up, as the Torch models) and ``g`` its
mirror decoder (nearest upsampling). Weights: ``vgg_normalised.pth`` and
``decoder.pth`` from release v0.0.0 of naoto0804/pytorch-AdaIN (MIT), through
:mod:`stylelab.weights` (registry names ``"vgg_normalised"``, ``"adain_decoder"``).

Beyond the PyTorch port: style interpolation (several styles with weights),
spatial control with label maps (the official Torch ``-mask`` feature, which
the port dropped) and colour preservation by CORAL on any device.
"""

from __future__ import annotations

import os
from typing import Sequence

import torch
import torch.nn as nn

from ..labels import maps as label_maps
from ..features import transforms as T
from ..features import prepared_style
from .. import validate as V
from ..nets import course_pair
from ..media import video
from .. import weights as W
from ..nets.decoders import MirrorDecoder
from ..device import follow, get_device
from ..nets.encoders import VGG19Encoder, normalised_vgg19
from ..tiling import from_cli
from ..train import AdaINLoss
from ..train.data import ImageFolder
from ..train.checkpoint import load_module_state
from ..weights import checkpoints_of as _checkpoints_of
from ..memory import MemoryModel
from . import BenchRow, Method, Runner, TrainJob, TrainRun, TrainSpec, TransferRun, images_then_keywords, register, renamed
from ._inputs import stylize_inputs

__all__ = ["AdaIN", "MIN_SIDE", "add_cli_arguments", "run_cli"]

#: Smallest side the network takes: relu4_1 sees ⌈H/8⌉ px and its reflection padding needs 2.
#: Smaller images are padded to it and the result cropped.
MIN_SIDE = 9


class AdaIN(nn.Module):
    """Encoder (normalised VGG to ``relu4_1``) + AdaIN + decoder.

    Build with :meth:`from_official`. ``.pretrained`` is true only when both
    networks hold pretrained weights.
    """

    layer = "relu4_1"

    def __init__(self, encoder: VGG19Encoder, decoder: MirrorDecoder):
        super().__init__()
        if decoder.level != 4:
            raise ValueError(f"AdaIN decodes relu4_1: it needs a level-4 decoder, got level {decoder.level}")
        self.encoder, self.decoder = encoder, decoder

    @property
    def pretrained(self) -> bool:
        return bool(getattr(self.encoder, "pretrained", False) and getattr(self.decoder, "pretrained", False))

    @classmethod
    def from_official(cls, vgg=None, decoder=None, device=None, random: bool | None = None, download: bool = True,
                      weights: str | None = None) -> "AdaIN":
        """Load the official checkpoints — or the course pair (:mod:`stylelab.nets.course_pair`).

        Args:
            vgg: ``vgg_normalised.pth``: ``None`` (registry resolution order:
                ``$STYLELAB_WEIGHTS_DIR``, hub cache, download), a path, a state
                dict in the official layout, or ``"random"``.
            decoder: ``decoder.pth`` likewise (or a :func:`stylelab.train.fit`
                checkpoint ``*.ckpt`` of a trained AdaIN decoder).
            random: allow random weights when a file is missing (also
                ``$STYLELAB_RANDOM_WEIGHTS=1``); a warning is printed.
            weights: ``"vgg16-course"``: the offline VGG-16 and the decoder trained on it here. Without
                it the one rule of :func:`stylelab.nets.course_pair.use_pair` applies: the official files when
                installed, else that pair when present, else the registry's resolution.
        """

        device = get_device(device)
        if course_pair.use_pair("adain", weights, explicit=vgg is not None or decoder is not None, random=random):
            model = cls(course_pair.encoder("relu4_1", device=device), course_pair.decoder("nearest4", device))
            return course_pair.mark(model, "adain")
        enc = normalised_vgg19(weights=vgg, last_layer="relu4_1", ceil_mode=True, random=random, download=download,
                               device=device)
        dec = MirrorDecoder(4, unpool="nearest")
        if isinstance(decoder, (str, os.PathLike)) and str(decoder).endswith(".ckpt"):

            dec.load_state_dict(load_module_state(decoder, "decoder"))
            dec.pretrained = True
        else:
            dec.pretrained = W.load_into(dec, "adain_decoder", decoder, random=random, download=download)
        model = cls(enc, dec.eval().requires_grad_(False))
        return model.to(device)

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` → relu4_1 ``(B, 512, ⌈H/8⌉, ⌈W/8⌉)`` (the image follows the model's device and dtype)."""
        return self.encoder(follow(self, image), layers=self.layer)[self.layer]

    @torch.no_grad()
    def prepare_style(self, style: torch.Tensor, *, preset: str = "pytorch", style_labels=None) -> prepared_style.PreparedStyle:
        """Encode ``style`` ``(1, 3, H', W')`` once and keep AdaIN's style side ``(μ_s, σ_s)`` of relu4_1
        (:func:`stylelab.features.transforms.prepare_adain_style`); pass it as ``style`` of :meth:`stylize` with
        the same ``preset`` (every tile of a tiled transfer, every frame of a video reuses it)."""
        style = follow(self, V.check_image(style, "style", batch=1))
        if style_labels is not None:  # the one label rule (stylelab.labels.maps.fit_labels), as in stylize
            style_labels = V.pad_to_size(label_maps.fit_labels(follow(self, style_labels), style.shape[-2:], "style_labels"),
                                         min_size=MIN_SIDE)
        style = V.pad_to_size(style, min_size=MIN_SIDE)
        return T.prepare_adain_style(self.encode(style), preset, style_labels)

    @torch.no_grad()
    @images_then_keywords
    def stylize(
        self,
        content: torch.Tensor,
        style: torch.Tensor | Sequence[torch.Tensor] | prepared_style.PreparedStyle,
        *,
        alpha: float = 1.0,
        style_weights: Sequence[float] | None = None,
        preserve_colour: bool = False,
        content_labels: torch.Tensor | None = None,
        style_labels: torch.Tensor | None = None,
        preset: str = "pytorch",
        clamp: bool = True,
        preserve_color: bool | None = None,
    ) -> torch.Tensor:
        """Stylise ``content`` ``(B, 3, H, W)`` with ``style``.

        Inputs follow the model: images and label maps are moved to its device
        (images to its dtype) and the result is on the model's device.

        Args:
            style: one ``(1 or B, 3, H', W')`` image, a list of images for
                style interpolation with ``style_weights`` (normalised to sum 1),
                or :meth:`prepare_style` of one image (not re-encoded; its labels
                and ``preset`` were given there).
            alpha: content/style trade-off in [0, 1] (feature-space blend).
            preserve_colour: recolour the style to the content's colours first
                (:func:`stylelab.features.transforms.coral`, as pytorch-AdaIN's ``--preserve_color``).
                ``preserve_color`` is its deprecated alias.
            content_labels, style_labels: label maps for spatial control (see
                :func:`stylelab.features.transforms.adain`); single style only. Each must have its
                image's aspect and is resized to the image (:func:`stylelab.labels.maps.fit_labels`).
            preset: AdaIN statistics convention (``"pytorch"`` or ``"official"``).
            clamp: clamp the output to [0, 1].

        Images are checked first (:func:`stylelab.validate.check_image`); images below :data:`MIN_SIDE` px are padded
        (:func:`stylelab.validate.pad_to_size`) and the result cropped to the size below.

        Returns:
            the decoder's output, ``(B, 3, 8⌈H/8⌉, 8⌈W/8⌉)``: the encoder's poolings round up (ceil mode, as
            the Torch models), so each side is the content's rounded *up* to a multiple of 8, never cropped
            to ``H × W`` (e.g. 30 × 34 → 32 × 40, 5 × 12 → 8 × 16). The extra rows and columns are at the
            bottom and right; ``out[..., :H, :W]`` is the content's frame, which is what ``stylelab transfer``
            saves.
        """
        preserve_colour = renamed(preserve_colour, preserve_color, "preserve_colour", "preserve_color", default=False)
        if isinstance(style, prepared_style.PreparedStyle):
            if preserve_colour or style_labels is not None:
                raise ValueError("a prepared style is fixed: recolour the style (transforms.coral) and pass "
                                 "style_labels to prepare_style before preparing it")
            content, _, content_labels, _, (H, W_) = stylize_inputs(self, content, [], content_labels, None,
                                                                     min_side=MIN_SIDE)
            t = T.adain(self.encode(content), style, alpha, preset=preset, content_labels=content_labels)
            out = self.decoder(t)[..., : 8 * -(-H // 8), : 8 * -(-W_ // 8)]
            return out.clamp(0, 1) if clamp else out
        content, styles, content_labels, style_labels, (H, W_) = stylize_inputs(
            self, content, style, content_labels, style_labels, min_side=MIN_SIDE, preserve_colour=preserve_colour)
        cf = self.encode(content)
        sfs = [self.encode(s) for s in styles]
        if len(sfs) == 1:
            t = T.adain(cf, sfs[0], alpha, preset=preset, content_labels=content_labels, style_labels=style_labels)
        else:
            if content_labels is not None:
                raise ValueError("spatial control with labels takes a single style image")
            t = T.interpolate_styles(cf, sfs, style_weights, "adain", alpha=alpha, preset=preset)
        out = self.decoder(t)[..., : 8 * -(-H // 8), : 8 * -(-W_ // 8)]
        return out.clamp(0, 1) if clamp else out

    forward = stylize


# ============================================================================ CLI
def add_cli_arguments(parser) -> None:
    parser.add_argument("--alpha", type=V.arg_float(0, 1), default=1.0, help="style strength in [0, 1] (default 1)")
    parser.add_argument("--preserve-colour", "--preserve-color", dest="preserve_colour", action="store_true",
                        help="keep the content's colours (CORAL on the style first)")
    parser.add_argument("--adain-preset", choices=sorted(T.ADAIN_PRESETS), default="pytorch",
                        help="statistics convention: pytorch port (default) or the official Torch code")
    parser.add_argument("--vgg", type=V.arg_existing("file"), default=None, help="path of vgg_normalised.pth (default: registry)")
    parser.add_argument("--decoder", type=V.arg_existing("file"), default=None, help="path of decoder.pth or a trained .ckpt (default: registry)")
    parser.add_argument("--weights", choices=[course_pair.NAME], default=None, help="vgg16-course: the offline VGG-16 and the decoder trained on it here (default: the official files when installed, else this pair)")


def run_cli(content, style, run: TransferRun, *, alpha: float, preserve_colour: bool, adain_preset: str,
            vgg: str | None, decoder: str | None, weights: str | None) -> torch.Tensor:
    """``stylelab transfer --method adain`` (whole image or ``--tile``); the options of :func:`add_cli_arguments`."""
    cl, sl = run.labels or (None, None)  # read and checked by the CLI (never with --tile)
    model = AdaIN.from_official(vgg=vgg, decoder=decoder, device=run.device, weights=weights)
    course_pair.say(model, "adain")
    if preserve_colour:  # recolour the style once for the whole photo (as stylize does), not per tile
        style = T.coral(style, content)
    # the style encoded once, shared by the thumbnail and every tile (and the whole-image run)
    prep = model.prepare_style(style, preset=adain_preset, style_labels=sl)

    def fn(x):
        out = model.stylize(x, prep, alpha=alpha, preset=adain_preset, content_labels=cl)
        return out[..., : x.shape[-2], : x.shape[-1]]

    return from_cli(run.tile, "adain", fn, content, style)


def run_cli_video(frames, style, run: TransferRun, *, alpha: float, preserve_colour: bool, adain_preset: str,
                  vgg: str | None, decoder: str | None, weights: str | None) -> torch.Tensor:
    """``stylelab transfer --method adain --video FRAMES STYLE -o OUT``: every frame ``(T, 3, H, W)`` with the
    style encoded once, stabilised by ``run.stabilise`` (:func:`stylelab.media.video.stylize_frames`)."""
    model = AdaIN.from_official(vgg=vgg, decoder=decoder, device=run.device, weights=weights)
    course_pair.say(model, "adain")
    if preserve_colour:  # one recolouring for the clip (its first frame's colours), not one per frame
        style = T.coral(style, frames[:1])
    prep = model.prepare_style(style, preset=adain_preset)

    def fn(x):
        return model.stylize(x, prep, alpha=alpha, preset=adain_preset)[..., : x.shape[-2], : x.shape[-1]]

    return video.stylize_frames(fn, frames, momentum=run.stabilise)


# ============================================================================ registry
def _bench(cfg, device) -> Runner:
    model = AdaIN.from_official(device=device, random=True if cfg.random_weights else None)
    return Runner(lambda c, s: model.stylize(c, s), model.pretrained, _checkpoints_of(model))


def _bench_pixel(cfg, device) -> Runner:
    return Runner(lambda c, s: T.adain(c, s).clamp(0, 1), None)


def _add_train_arguments(parser) -> None:
    parser.add_argument("--styles", help="folder of style images, e.g. WikiArt (required)")
    parser.add_argument("--style-weight", type=V.arg_float(0), default=10.0, help="style weight (default 10)")


def _train_job(images, run: TrainRun, *, styles: str | None, style_weight: float) -> TrainJob:

    if not styles:
        raise ValueError("--method adain needs --styles FOLDER (style images)")
    if run.size < MIN_SIDE:  # the crops go through VGG to relu4_1 and back, unpadded
        raise ValueError(f"--size {run.size}: AdaIN's network trains on crops of at least {MIN_SIDE} px; "
                         f"give --size {MIN_SIDE} or more (default 256)")
    enc = normalised_vgg19(last_layer="relu4_1", random=run.random, device=run.device)
    dec = MirrorDecoder(4)
    style_images = ImageFolder(styles, size=run.size, crop="random", resize=run.resize)
    loss = AdaINLoss(enc, dec, style_images, style_weight=style_weight)
    return TrainJob(loss, {"decoder": dec}, "adain_decoder.ckpt")


register(Method(
    name="adain", order=20, summary="AdaIN, Huang & Belongie, ICCV 2017: match channel mean and std, one decoder",
    add_cli_arguments=add_cli_arguments, run_cli=run_cli, run_cli_video=run_cli_video, labels=True,
    tiles=True,
    memory=MemoryModel(60e6, 1200.0, 1100.0, "AdaIN"),
    bench=(BenchRow("adain", "AdaIN", "feed-forward", _bench, "AdaIN.from_official().stylize"),
           BenchRow("pixel-adain", "pixel AdaIN (colour mean/std)", "pixel", _bench_pixel,
                    "transforms.adain on RGB pixels")),
    train=TrainSpec(_train_job, _add_train_arguments, "the decoder of relu4_1 (content images + --styles)"),
    checkpoints=("vgg_normalised", "adain_decoder"),
))
