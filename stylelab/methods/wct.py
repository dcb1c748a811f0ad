"""WCT: universal style transfer via feature transforms (Li et al., NeurIPS 2017).

Five autoencoders (normalised VGG-19 up to ``relu{L}_1`` and a mirror decoder,
L = 5…1) run as a cascade, coarse to fine: at each level the *current image*
(the content first, then the previous level's output) is re-encoded, its
features are whitened and coloured with the style's features of the same
level (:func:`stylelab.features.transforms.wct`), blended with ``α`` and decoded.

Weights. The encoders are truncations of the same ``vgg_normalised.pth`` as
AdaIN. The official decoders (``feature_invertor_conv{L}_1.t7``) exist only as
Torch7 files behind Google-Drive links (Yijunmaverick/UniversalStyleTransfer README); stylelab does not ship
or download them. Two ways to get decoders:

1. train your own: ``stylelab train --method wct --level L IMAGES`` (see
   :mod:`stylelab.train`), then pass the ``.ckpt`` files to
   :meth:`WCT.from_official` (``decoders={5: "wct_decoder5.ckpt", ...}``), or
   put ``stylelab_wct_decoder{L}.pth`` state dicts (stylelab names) in
   ``$STYLELAB_WEIGHTS_DIR`` (registry names ``wct_decoder1`` … ``wct_decoder5``);
2. convert the Torch files with :func:`convert_t7_decoder`, which needs the
   optional PyPI package ``torchfile`` (0.1.0, not a stylelab dependency:
   ``pip install torchfile``). It reads the ``nn.Sequential``, takes its
   ``SpatialConvolution`` layers in order and maps them onto
   :class:`~stylelab.nets.decoders.MirrorDecoder` names; save the result with
   ``torch.save(state, "stylelab_wct_decoder4.pth")``. (Not verified here on the
   real files, which could not be downloaded.)
"""

from __future__ import annotations

import os
from typing import Sequence

import torch
import torch.nn as nn

from ..nets import course_pair
from ..features import transforms as T
from ..features import whitening
from .. import validate as V
from ..media import video
from .. import weights as W
from ..nets.decoders import MirrorDecoder, decoder_convs
from ..device import get_device
from ..nets.encoders import normalised_vgg19
from ..memory import MemoryModel
from ..smoothing import smooth
from ..train import ReconstructionLoss
from ..train.checkpoint import load_module_state
from . import BenchRow, Method, Runner, TrainJob, TrainRun, TrainSpec, TransferRun, images_then_keywords, register, renamed
from ._inputs import stylize_inputs

__all__ = ["WCT", "convert_t7_decoder", "add_cli_arguments", "run_cli", "OFFICIAL_ALPHA", "MIN_SIDE"]

#: Smallest side the five-level cascade takes: relu{L}_1 sees ⌈H/2^(L−1)⌉ px (ceil-mode pooling)
#: and its reflection padding needs 2, so a cascade from level L needs 2^(L−1) + 1 px (17 from
#: relu5_1; :func:`min_side`). Smaller images are padded to it and the result cropped.
MIN_SIDE = 17


def min_side(level: int) -> int:
    """Smallest image side the encoder takes up to relu{level}_1 (2 for level 1, 2^(level−1) + 1 above)."""
    return max(2, 2 ** (int(level) - 1) + 1)

#: The official Torch code's default α (``test_wct.lua``); PytorchWCT uses 1.
OFFICIAL_ALPHA = 0.6


def convert_t7_decoder(path, level: int) -> dict[str, torch.Tensor]:
    """Read an official Torch7 WCT decoder (``feature_invertor_conv{L}_1.t7``) into stylelab names.

    Needs the optional package ``torchfile`` (``pip install torchfile``). The
    Sequential's ``SpatialConvolution`` modules are taken in order and must
    match the mirror decoder's convolutions in number and shape.
    """
    try:
        import torchfile  # type: ignore
    except ImportError as err:
        raise ImportError(
            "Reading .t7 files needs the optional package torchfile: `pip install torchfile`, "
            "or train stylelab's own decoders with `stylelab train --method wct`."
        ) from err
    import numpy as np

    obj = torchfile.load(str(path))
    convs = []

    def walk(m):
        name = getattr(m, "_typename", b"")
        name = name.decode() if isinstance(name, bytes) else str(name)
        if "SpatialConvolution" in name:
            convs.append(m)
        for child in (getattr(m, "modules", None) or []):
            walk(child)

    walk(obj)
    expected = decoder_convs(level)
    if len(convs) != len(expected):
        raise W.CheckpointMismatchError(
            f"{path} has {len(convs)} convolutions; a level-{level} decoder has {len(expected)}. Is it the right level?"
        )
    out = {}
    for m, (name, out_c, in_c) in zip(convs, expected):
        w = torch.from_numpy(np.asarray(m.weight, dtype=np.float32)).reshape(out_c, in_c, 3, 3)
        out[f"{name}.weight"] = w
        out[f"{name}.bias"] = torch.from_numpy(np.asarray(m.bias, dtype=np.float32)).reshape(out_c)
    return out


class WCT(nn.Module):
    """The five-level WCT cascade.

    Args:
        encoder: normalised VGG-19 up to ``relu{max(levels)}_1``.
        decoders: ``{level: MirrorDecoder(level)}``.
    """

    def __init__(self, encoder, decoders: dict[int, MirrorDecoder]):
        super().__init__()
        self.encoder = encoder
        self.decoders = nn.ModuleDict({str(k): v for k, v in decoders.items()})

    @property
    def levels(self) -> list[int]:
        return sorted((int(k) for k in self.decoders), reverse=True)

    @property
    def pretrained(self) -> bool:
        return bool(self.encoder.pretrained and all(getattr(d, "pretrained", False) for d in self.decoders.values()))

    @classmethod
    def from_official(
        cls,
        vgg=None,
        decoders: dict | None = None,
        levels: Sequence[int] = (5, 4, 3, 2, 1),
        device=None,
        random: bool | None = None,
        download: bool = True,
        weights: str | None = None,
    ) -> "WCT":
        """Encoder from ``vgg_normalised.pth``, decoders from the ``wct_decoder{L}`` registry entries.

        Args:
            vgg: ``None`` (registry), a path, an official state dict, or ``"random"``.
            decoders: ``{level: source}`` where a source is a path to a
                stylelab-named ``.pth`` state dict, a :func:`stylelab.train.fit`
                checkpoint ``*.ckpt``, a state dict, or ``"random"``; missing
                levels follow the registry's resolution order.
            random: allow random weights when files are missing (warns).
            weights: ``"vgg16-course"``: the offline VGG-16 and the decoders trained on it here; without
                it, :func:`stylelab.nets.course_pair.use_pair`'s rule (official files when installed, else that pair).
        """

        levels = sorted(set(int(l) for l in levels), reverse=True)
        if not levels or any(l not in (1, 2, 3, 4, 5) for l in levels):
            raise ValueError(f"levels must be a subset of 1..5, got {levels}")
        decoders = dict(decoders or {})
        device = get_device(device)
        if course_pair.use_pair("wct", weights, explicit=vgg is not None or bool(decoders), random=random):
            model = cls(course_pair.encoder(f"relu{levels[0]}_1", device=device),
                        {L: course_pair.decoder(f"nearest{L}", device) for L in levels})
            return course_pair.mark(model, "wct")
        enc = normalised_vgg19(weights=vgg, last_layer=f"relu{levels[0]}_1", ceil_mode=True, random=random,
                               download=download, device=device)
        decs = {}
        for level in levels:
            dec = MirrorDecoder(level)
            src = decoders.get(level)
            if isinstance(src, (str, os.PathLike)) and str(src).endswith(".ckpt"):

                dec.load_state_dict(load_module_state(src, "decoder"))
                dec.pretrained = True
            else:
                dec.pretrained = W.load_into(dec, f"wct_decoder{level}", src, random=random, download=download)
            decs[level] = dec.eval().requires_grad_(False)
        return cls(enc, decs).to(device)

    @torch.no_grad()
    @images_then_keywords
    def stylize(
        self,
        content: torch.Tensor,
        style: torch.Tensor | Sequence[torch.Tensor],
        *,
        alpha: float = 1.0,
        style_weights: Sequence[float] | None = None,
        preserve_colour: bool = False,
        levels: Sequence[int] | None = None,
        preset: str = "official_wct",
        content_labels: torch.Tensor | None = None,
        style_labels: torch.Tensor | None = None,
        clamp: bool = True,
        preserve_color: bool | None = None,
        **wct_kwargs,
    ) -> torch.Tensor:
        """Run the cascade ``relu5_1 → … → relu1_1`` (or the given ``levels``, coarse first).

        Inputs follow the model (images and labels are moved to its device,
        images to its dtype); the result is on the model's device.

        Args:
            alpha: blend at every level (the official default is
                :data:`OFFICIAL_ALPHA` = 0.6; PytorchWCT uses 1).
            preset: regularisation preset of :func:`stylelab.features.transforms.wct`
                (default ``"official_wct"``); ``wct_kwargs`` override its parts.
            style: one image, or a list of images mixed with ``style_weights``
                at every level (:func:`stylelab.features.transforms.interpolate_styles`).
            preserve_colour: recolour the style(s) to the content's colour
                statistics first (:func:`stylelab.features.transforms.coral`);
                ``preserve_color`` is its deprecated alias.
            content_labels, style_labels: label maps for spatial control (single style);
                each must have its image's aspect and is resized to the image
                (:func:`stylelab.labels.maps.fit_labels`).

        Returns:
            ``(B, 3, H, W)`` (cropped to the content's size). The image after
            each level: :meth:`stylize_steps`.
        """
        if "return_steps" in wct_kwargs:
            raise TypeError("stylize returns the image; for the image after each level call stylize_steps(...)")
        preserve_colour = renamed(preserve_colour, preserve_color, "preserve_colour", "preserve_color", default=False)
        steps = self.stylize_steps(content, style, alpha=alpha, style_weights=style_weights,
                                   preserve_colour=preserve_colour, levels=levels, preset=preset,
                                   content_labels=content_labels, style_labels=style_labels, clamp=clamp, **wct_kwargs)
        return steps[min(steps)]

    @torch.no_grad()
    @images_then_keywords
    def stylize_steps(
        self,
        content: torch.Tensor,
        style: torch.Tensor | Sequence[torch.Tensor],
        *,
        alpha: float = 1.0,
        style_weights: Sequence[float] | None = None,
        preserve_colour: bool = False,
        levels: Sequence[int] | None = None,
        preset: str = "official_wct",
        content_labels: torch.Tensor | None = None,
        style_labels: torch.Tensor | None = None,
        clamp: bool = True,
        **wct_kwargs,
    ) -> dict[int, torch.Tensor]:
        """:meth:`stylize`, keeping the image after every level: ``{level: (B, 3, H, W)}``
        in the order run (coarse first); the last (finest) level's image is the result."""
        levels = sorted(levels or self.levels, reverse=True)
        missing = [l for l in levels if str(l) not in self.decoders]
        if missing:
            raise ValueError(f"no decoder for level(s) {missing}; this model has {self.levels}")
        need = min_side(max(levels))  # small images: padded to this, the result cropped
        content, styles, content_labels, style_labels, (H0, W0) = stylize_inputs(
            self, content, style, content_labels, style_labels, min_side=need, preserve_colour=preserve_colour)
        H, W_ = content.shape[-2:]
        if len(styles) > 1 and content_labels is not None:
            raise ValueError("spatial control with labels takes a single style image")
        names = [f"relu{l}_1" for l in levels]
        sfeats = [self.encoder(s, layers=names) for s in styles]
        x, steps = content, {}
        for level in levels:
            layer = f"relu{level}_1"
            cf = self.encoder(x, layers=layer)[layer]
            if len(styles) == 1:
                csf = T.wct(cf, sfeats[0][layer], alpha, preset=preset, content_labels=content_labels,
                            style_labels=style_labels, **wct_kwargs)
            else:
                csf = T.interpolate_styles(cf, [f[layer] for f in sfeats], style_weights, "wct", alpha=alpha,
                                           preset=preset, **wct_kwargs)
            x = self.decoders[str(level)](csf)[..., :H, :W_]
            if clamp:
                x = x.clamp(0, 1)
            steps[level] = x[..., :H0, :W0]
        return steps

    forward = stylize


# ============================================================================ CLI
def add_cli_arguments(parser) -> None:
    parser.add_argument("--alpha", type=V.arg_float(0, 1), default=OFFICIAL_ALPHA, help="style strength per level (default 0.6, official)")
    parser.add_argument("--wct-preset", choices=sorted(whitening.WCT_PRESETS), default="official_wct", help="regularisation preset")
    parser.add_argument("--levels", type=V.arg_int_list(allowed=(1, 2, 3, 4, 5)), default=[5, 4, 3, 2, 1], help="comma-separated levels, coarse first (default 5,4,3,2,1)")
    parser.add_argument("--vgg", type=V.arg_existing("file"), default=None, help="path of vgg_normalised.pth (default: registry)")
    parser.add_argument("--decoder-dir", type=V.arg_existing("folder"), default=None,
                        help="folder with stylelab_wct_decoder{L}.pth or wct_decoder{L}.ckpt (default: registry)")
    parser.add_argument("--weights", choices=[course_pair.NAME], default=None, help="vgg16-course: the offline VGG-16 and the decoders trained on it here (default: the official files when installed, else this pair)")


def _decoder_files(decoder_dir: str | None, levels) -> dict[int, str]:
    """The decoder file of every level in ``--decoder-dir``; a level without one is an error (not random weights)."""
    from pathlib import Path

    decoders, missing = {}, []
    if decoder_dir:
        for level in levels:
            names = (f"wct_decoder{level}.ckpt", f"stylelab_wct_decoder{level}.pth")
            found = [Path(decoder_dir) / n for n in names if (Path(decoder_dir) / n).is_file()]
            if found:
                decoders[level] = str(found[0])
            else:
                missing.append(f"level {level} ({' or '.join(names)})")
    if missing:
        raise FileNotFoundError(f"--decoder-dir {decoder_dir} has no decoder for {', '.join(missing)}. "
                                "Train it (stylelab train --method wct --level L), or choose --levels among those present.")
    return decoders


def check_options(*, levels, decoder_dir: str | None, **_) -> None:
    """Checks of ``stylelab transfer --method wct`` options that argparse cannot make (before any work)."""
    _decoder_files(decoder_dir, levels)


def run_cli(content, style, run: TransferRun, *, alpha: float, wct_preset: str, levels, vgg: str | None,
            decoder_dir: str | None, weights: str | None) -> torch.Tensor:
    """``stylelab transfer --method wct`` (whole image only); the options of :func:`add_cli_arguments`."""
    model = WCT.from_official(vgg=vgg, decoders=_decoder_files(decoder_dir, levels), levels=list(levels),
                              device=run.device, weights=weights)
    course_pair.say(model, "wct")
    cl, sl = run.labels or (None, None)
    return model.stylize(content, style, alpha=alpha, preset=wct_preset, content_labels=cl, style_labels=sl)


def run_cli_video(frames, style, run: TransferRun, *, alpha: float, wct_preset: str, levels, vgg: str | None,
                  decoder_dir: str | None, weights: str | None) -> torch.Tensor:
    """``stylelab transfer --method wct --video FRAMES STYLE -o OUT``: the cascade on every frame ``(T, 3, H, W)``,
    stabilised by ``run.stabilise`` (:func:`stylelab.media.video.stylize_frames`)."""
    model = WCT.from_official(vgg=vgg, decoders=_decoder_files(decoder_dir, levels), levels=list(levels),
                              device=run.device, weights=weights)
    course_pair.say(model, "wct")
    return video.stylize_frames(lambda f: model.stylize(f, style, alpha=alpha, preset=wct_preset), frames,
                                momentum=run.stabilise)


# ============================================================================ registry
def _bench(cfg, device) -> Runner:
    model = WCT.from_official(device=device, random=True if cfg.random_weights else None)
    return Runner(lambda c, s: model.stylize(c, s, alpha=OFFICIAL_ALPHA), model.pretrained, W.checkpoints_of(model))


def _bench_pixel(cfg, device) -> Runner:
    return Runner(lambda c, s: T.wct(c, s).clamp(0, 1), None)


def _bench_pixel_gif(cfg, device) -> Runner:
    """Pixel WCT, then the guided filter of FastPhotoStyle's fast mode: a photorealistic pipeline without weights."""

    def run(c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        y = T.wct(c, s).clamp(0, 1)
        dt = torch.float64 if c.device.type != "mps" else torch.float32  # as PhotoWCT.stylize(smoothing=...)
        return smooth(y.to(dt), c.to(dt), mode="gif").to(c.dtype)

    return Runner(run, None)


def _add_train_arguments(parser) -> None:
    parser.add_argument("--level", type=int, default=4, choices=[1, 2, 3, 4, 5], help="decoder of relu{level}_1 (default 4)")
    parser.add_argument("--feature-weight", type=V.arg_float(0), default=1.0, help="feature-loss weight (default 1)")


def _train_job(images, run: TrainRun, *, level: int, feature_weight: float) -> TrainJob:

    enc = normalised_vgg19(last_layer=f"relu{level}_1", random=run.random, device=run.device)
    dec = MirrorDecoder(level)
    loss = ReconstructionLoss(enc, dec, level, feature_weight=feature_weight)
    return TrainJob(loss, {"decoder": dec}, f"wct_decoder{level}.ckpt")


register(Method(
    name="wct", order=30, summary="WCT, Li et al., NeurIPS 2017: whitening and colouring at five levels",
    add_cli_arguments=add_cli_arguments, check_options=check_options, run_cli=run_cli,
    run_cli_video=run_cli_video, labels=True,
    memory=MemoryModel(320e6, 1700.0, 500.0, "WCT"),  # (no tiles: its five levels are not run through tiling)
    bench=(BenchRow("wct", "WCT (5 levels, α = 0.6)", "feed-forward", _bench,
                    "WCT.from_official().stylize cascade relu5_1 → relu1_1"),
           BenchRow("pixel-wct", "pixel WCT (colour covariance)", "pixel", _bench_pixel, "transforms.wct on RGB pixels"),
           BenchRow("pixel-wct-gif", "pixel WCT + guided filter", "pixel", _bench_pixel_gif,
                    "transforms.wct on pixels, then smoothing.smooth(mode='gif')")),
    train=TrainSpec(_train_job, _add_train_arguments, "the decoder of relu{level}_1 (content images)"),
    checkpoints=("vgg_normalised",) + tuple(f"wct_decoder{level}" for level in (1, 2, 3, 4, 5)),
))
