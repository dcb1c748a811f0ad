"""PhotoWCT: photorealistic WCT with max-unpooling decoders, then closed-form smoothing.

Li, Liu, Li, Yang, Kautz, "A Closed-form Solution to Photorealistic Image
Stylization", ECCV 2018 (NVIDIA/FastPhotoStyle).

Step 1 (stylisation), coarse to fine over levels L = 4, 3, 2, 1 (official ``photo_wct.py``, ``transform``):

    F_s^L = relu{L}_1 of the style, all four from ONE pass of the level-4 encoder e4
    x₄ = content;  F = e_L(x_L) (recording max-pool switches)
    x_{L−1} = d_L( WCT(F, F_s^L), switches of this e_L pass )

WCT is the ``"photowct"`` preset of :func:`stylelab.features.transforms.wct`
(+I on the content covariance only, eigenvalue threshold 1e-5, float32, no α,
no clamp). Max-unpooling puts every value back where the encoder's max was,
so edges stay where they were in the photo — the point of PhotoWCT against
WCT's upsampling decoders, which blur and shift structure.

Step 2 (optional): :func:`stylelab.smoothing.smooth` with the content as guide.

Segmentation (``photo_wct.py``, methods.md §6.2): ``content_labels`` /
``style_labels`` (integer maps with their image's aspect, :mod:`stylelab.labels`)
restrict WCT to matching regions. As the official code: a label is used only
with > 10 pixels in both maps and a count ratio < 100, counted once on the maps
at the images' resolution (:func:`stylelab.labels.label_report`); at every
level both maps are resized to the feature size with PIL's NEAREST convention
(:func:`stylelab.labels.maps.resize_labels`); WCT runs per used label on the
gathered columns; pixels of unused labels, and of regions that have no pixel
left at a level on either side, keep their un-stylised content feature. The
result equals the official algorithm wherever that is well defined
(tests/test_photowct.py builds it as an oracle). Deliberate deviations:

* a region of **one pixel** at some level: the official covariance divides by
  ``N − 1 = 0`` and gives NaN (style side: the SVD fails). Here the covariance
  of one column is 0 (``÷ max(N − 1, 1)``): a 1-pixel content region becomes
  the style region's mean (``Σ_c + I = I`` whitens the zero-centred pixel to
  0), a 1-pixel style region has no kept eigenvalue, so its content region
  becomes the style pixel's value.
* label maps at another resolution than their image are resized to it (same
  aspect required) instead of being refused; a pair with no usable label
  warns (:class:`stylelab.labels.LabelWarning`) instead of silently
  returning the reconstruction.

Weights: ``photo_wct.pth`` (80 tensors, keys ``e1.conv0.weight`` …
``d4.conv1_1.bias``) is CC BY-NC-SA 4.0 and never shipped: pass the file you
downloaded from NVIDIA/FastPhotoStyle to :meth:`PhotoWCT.from_official`.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn

from ..nets import course_pair
from .. import labels as L
from ..labels import maps as label_maps
from .. import smoothing as S
from ..features import transforms as T
from ..features import whitening
from .. import validate as V
from .. import weights as W
from ..nets.decoders import MirrorDecoder
from ..device import follow, get_device
from ..nets.encoders import VGG19Encoder
from ..memory import MemoryModel
from ..smoothing import smooth
from ..tiling import from_cli
from ..train import ReconstructionLoss, fit
from . import BenchRow, Method, Runner, TransferRun, images_then_keywords, register

__all__ = ["PhotoWCT", "add_cli_arguments", "run_cli", "train_decoder", "LEVELS", "MIN_SIDE"]

LEVELS = (4, 3, 2, 1)

#: Smallest side the level-4 autoencoder takes (relu4_1 after three floor-rounded poolings needs
#: 2 px for its reflection padding). Smaller images are padded to it and the result cropped.
MIN_SIDE = 16


class PhotoWCT(nn.Module):
    """Four encoder/decoder pairs ``e1..e4`` / ``d1..d4`` (max-pool switches → max-unpooling).

    ``e{L}`` is the normalised VGG-19 up to ``relu{L}_1`` (floor-mode pooling, as
    FastPhotoStyle); ``d{L}`` the mirror decoder with ``unpool="max"``.
    """

    def __init__(self):
        super().__init__()
        for level in (1, 2, 3, 4):
            self.add_module(f"e{level}", VGG19Encoder("normalised", last_layer=f"relu{level}_1"))
            self.add_module(f"d{level}", MirrorDecoder(level, unpool="max"))
        self.pretrained = False
        #: the levels with a trained decoder, what ``levels=None`` runs (the course pair has fewer)
        self.trained_levels: tuple[int, ...] = LEVELS

    @classmethod
    def from_official(cls, path_or_state_dict=None, device=None, random: bool | None = None) -> "PhotoWCT":
        """Load the user-supplied ``photo_wct.pth`` (prints its CC BY-NC-SA licence) — or the course pair.

        Args:
            path_or_state_dict: a path, a state dict (official layout), ``"random"``,
                or ``None`` to search ``$STYLELAB_WEIGHTS_DIR`` and the torch hub cache;
                ``"vgg16-course"``: the offline VGG-16 (floor pooling) and the max-unpooling decoders
                trained on it here, for levels :data:`stylelab.nets.course_pair.PHOTOWCT_LEVELS` only
                (``trained_levels``). Without a source, :func:`stylelab.nets.course_pair.use_pair`'s rule.
            random: allow random weights when the file is missing (warns).
        """

        name = path_or_state_dict if path_or_state_dict == course_pair.NAME else None
        if course_pair.use_pair("photowct", name, explicit=path_or_state_dict is not None and name is None,
                                random=random):
            device = get_device(device)
            model = cls()
            for level in (1, 2, 3, 4):
                setattr(model, f"e{level}", course_pair.encoder(f"relu{level}_1", photowct=True, device=device))
            for level in course_pair.PHOTOWCT_LEVELS:
                setattr(model, f"d{level}", course_pair.decoder(f"max{level}", device))
            model.trained_levels = tuple(course_pair.PHOTOWCT_LEVELS)
            return course_pair.mark(model.to(device), "photowct")
        model = cls()
        model.pretrained = W.load_into(model, "photowct", path_or_state_dict, random=random, download=False)
        return model.eval().requires_grad_(False).to(get_device(device))

    @torch.no_grad()
    def prepare_style(self, style: torch.Tensor, *, levels: Sequence[int] | None = None, style_labels=None,
                      **wct_kwargs) -> dict:
        """The style side of every level, computed once: ``{L: transforms.PreparedStyle}`` with the colouring
        matrix and mean ``(C_s, μ_s)`` of relu{L}_1 (:func:`stylelab.features.transforms.prepare_wct_style`, the
        ``"photowct"`` preset with ``wct_kwargs``), all from one pass of the coarsest level's encoder.

        Pass it as ``style`` of :meth:`stylize` (the tiles of a tiled transfer, a video's frames): the
        style is neither encoded nor decomposed again. ``style_labels``: the style's map, already
        checked and padded like the image (:meth:`stylize_steps` does this)."""
        levels = self._levels(levels)
        cfg = whitening.wct_config("photowct", **{k: v for k, v in wct_kwargs.items() if k != "method"})
        method = wct_kwargs.get("method", "eigh")
        style = V.pad_to_size(follow(self, V.check_image(style, "style", batch=1)), min_size=2 ** levels[0])
        sfeats = getattr(self, f"e{levels[0]}")(style, layers=[f"relu{l}_1" for l in levels])
        return {level: T.prepare_wct_style(sfeats[f"relu{level}_1"], cfg, style_labels, method) for level in levels}

    @torch.no_grad()
    @images_then_keywords
    def stylize(
        self,
        content: torch.Tensor,
        style: torch.Tensor | dict,
        *,
        content_labels=None,
        style_labels=None,
        levels: Sequence[int] | None = None,
        smoothing: str | None = None,
        beta: float = 0.9999,
        **wct_kwargs,
    ) -> torch.Tensor:
        """PhotoWCT stylisation (coarse → fine), optionally followed by smoothing.

        Inputs follow the model (images and labels are moved to its device,
        images to its dtype); the result is on the model's device.

        Args:
            content: (B, 3, H, W) in [0, 1] (a batch: one image at a time); style: (1, 3, H', W'), or
                :meth:`prepare_style` of it (no labels; ``wct_kwargs`` given there).
            content_labels, style_labels: optional label maps with the content's /
                style's aspect (both or neither; module docstring, :mod:`stylelab.labels`).
            levels: subset of (4, 3, 2, 1), run coarse first (default: ``trained_levels``, all four
                for the official model).
            smoothing: ``None`` (stylisation only, no clamp — as the reference),
                or a :func:`stylelab.smoothing.smooth` mode (``"auto"``, ``"gif"``, …);
                the stylised image is clamped to [0, 1] before smoothing.
            wct_kwargs: overrides of the ``"photowct"`` WCT preset.

        Returns:
            (B, 3, H, W). The image after each level: :meth:`stylize_steps`.
        """
        if "return_steps" in wct_kwargs:
            raise TypeError("stylize returns the image; for the image after each level call stylize_steps(...)")
        steps = self.stylize_steps(content, style, content_labels=content_labels, style_labels=style_labels,
                                   levels=levels, smoothing=smoothing, beta=beta, **wct_kwargs)
        return steps["smoothed"] if smoothing is not None else steps[min(k for k in steps if k != "smoothed")]

    @torch.no_grad()
    @images_then_keywords
    def stylize_steps(
        self,
        content: torch.Tensor,
        style: torch.Tensor,
        *,
        content_labels=None,
        style_labels=None,
        levels: Sequence[int] | None = None,
        smoothing: str | None = None,
        beta: float = 0.9999,
        **wct_kwargs,
    ) -> dict:
        """:meth:`stylize`, keeping every intermediate image: ``{level: (1, 3, H, W)}`` coarse
        first, then ``"smoothed"`` when ``smoothing`` is given (the result is the last entry).

        A batch of ``B`` contents is stylised one image at a time with the one style (and the one
        content map, or map ``b`` of a batch of ``B`` maps); every entry is then ``(B, 3, H, W)``."""
        content = V.check_image(content, "content")  # validate, then follow the model
        if content.shape[0] > 1:
            maps = None if content_labels is None else label_maps.check_labels(content_labels, "content_labels")
            if maps is not None and maps.shape[0] not in (1, content.shape[0]):
                raise ValueError(f"content_labels is a batch of {maps.shape[0]} maps for {content.shape[0]} images: "
                                 f"give 1 map or {content.shape[0]}")
            runs = [self.stylize_steps(content[b : b + 1], style, levels=levels, smoothing=smoothing, beta=beta,
                                       content_labels=None if maps is None else maps[b if maps.shape[0] > 1 else 0],
                                       style_labels=style_labels, **wct_kwargs)
                    for b in range(content.shape[0])]
            return {k: torch.cat([r[k] for r in runs]) for k in runs[0]}
        if (content_labels is None) != (style_labels is None):
            raise ValueError("pass both content_labels and style_labels, or neither")
        levels = self._levels(levels)
        prepared = style if isinstance(style, dict) else None
        if prepared is not None:
            if content_labels is not None or wct_kwargs:
                raise ValueError("a prepared style takes no label maps and no WCT options here: pass them to "
                                 "prepare_style (labels: pass the style image instead)")
            if set(levels) - set(prepared):
                raise ValueError(f"the style was prepared for levels {sorted(prepared)}, not {levels}")
        content = follow(self, content)
        guide, (H0, W0) = content, content.shape[-2:]
        # small images: padded to MIN_SIDE (label maps alike), the result cropped
        need = 2 ** levels[0]  # relu{L}_1 after L − 1 floor-rounded poolings needs 2 px: 2^L (MIN_SIDE for level 4)
        used = cl = None
        if prepared is None:
            style = follow(self, V.check_image(style, "style", batch=1))
            sl = None
            if content_labels is not None:
                cl = label_maps.fit_labels(follow(self, content_labels), content.shape[-2:], "content_labels")
                sl = label_maps.fit_labels(follow(self, style_labels), style.shape[-2:], "style_labels")
                used = L.label_report(cl, sl, warn=True).used  # once, at the images' resolution
                cl, sl = V.pad_to_size(cl, min_size=need), V.pad_to_size(sl, min_size=need)
            prepared = self.prepare_style(style, levels=levels, style_labels=sl, **wct_kwargs)
        content = V.pad_to_size(content, min_size=need)
        x, steps = content, {}
        for level in levels:
            layer = f"relu{level}_1"
            feats = getattr(self, f"e{level}")(x, layers=layer, switches=True)
            csf = T.wct_prepared(feats[layer], prepared[level], 1.0, cl, used=used)
            x = getattr(self, f"d{level}")(csf, feats.switches)
            steps[level] = x[..., :H0, :W0]
        x = x[..., :H0, :W0]
        if smoothing is not None:
            dtype = torch.float64 if x.device.type != "mps" else torch.float32
            x = smooth(x.clamp(0, 1).to(dtype), guide.to(dtype), beta, mode=smoothing).to(guide.dtype)
            steps["smoothed"] = x
        return steps

    forward = stylize

    def _levels(self, levels) -> list[int]:
        """``levels`` (``None``: :attr:`trained_levels`) checked, coarse first; only levels with a trained decoder."""
        levels = _check_levels(self.trained_levels if levels is None else levels)
        if set(levels) - set(self.trained_levels):
            raise ValueError(f"this model has trained decoders for levels {sorted(self.trained_levels)} only, "
                             f"not {levels}: pass levels={tuple(self.trained_levels)}")
        return levels


def _check_levels(levels) -> list[int]:
    """``levels`` as a list, coarse first; a subset of :data:`LEVELS`."""
    out = sorted({int(l) for l in levels}, reverse=True)
    if not out or any(l not in LEVELS for l in out):
        raise ValueError(f"levels must be a subset of (4, 3, 2, 1), got {out}")
    return out


def train_decoder(level: int, images, *, steps: int, model: PhotoWCT | None = None, batch_size: int = 8, lr: float = 1e-4,
                  device=None, checkpoint=None, resume: bool = True, progress: bool = True, feature_weight: float = 1.0):
    """Train the max-unpooling decoder ``d{level}`` to invert ``e{level}`` (Li et al. 2017, Eq. 1).

    Reuses :func:`stylelab.train.fit` with :class:`stylelab.train.ReconstructionLoss`
    (pixel MSE + ``feature_weight`` × feature MSE); the encoder stays frozen.
    Returns ``(model, history)``.
    """

    model = model or PhotoWCT()
    enc, dec = getattr(model, f"e{level}"), getattr(model, f"d{level}")
    enc.requires_grad_(False)
    dec.requires_grad_(True)
    loss = ReconstructionLoss(enc, dec, level, feature_weight=feature_weight)
    history = fit(loss, {"encoder": enc, "decoder": dec}, images, steps=steps, batch_size=batch_size, lr=lr,
                  device=device, checkpoint=checkpoint, resume=resume, progress=progress)
    dec.requires_grad_(False)
    return model, history


# ============================================================================ CLI
def add_cli_arguments(parser) -> None:
    parser.add_argument("--weights", type=course_pair.arg_weights, default=None,
                        help="path of photo_wct.pth (CC BY-NC-SA; you supply it), or vgg16-course: the offline VGG-16 and "
                             "the decoders of levels 2, 1 trained on it here (default: the file when installed, else this pair)")
    parser.add_argument("--smooth", default="auto", choices=["none", "auto", "mg", "ilu", "cg", "direct", "official", "gif"],
                        help="smoothing after stylisation (default auto; none to skip)")
    parser.add_argument("--beta", type=V.arg_float(0, 1, open_low=True, open_high=True), default=0.9999, help="smoothing strength β (default 0.9999)")


def run_cli(content, style, run: TransferRun, *, weights: str | None, smooth: str, beta: float) -> torch.Tensor:
    """``stylelab transfer --method photowct`` (whole image or ``--tile``); the options of :func:`add_cli_arguments`."""
    cl, sl = run.labels or (None, None)
    model = PhotoWCT.from_official(weights, device=run.device)
    course_pair.say(model, "photowct")
    mode = None if smooth == "none" else smooth
    if run.tile is not None:
        if cl is not None:
            raise ValueError("--tile does not support label maps; drop --tile or the labels")
        # WCT tile by tile with shared statistics and the style prepared once; the smoothing then runs once
        # at full size (multigrid: O(N) memory)
        prep = model.prepare_style(style)
        out = from_cli(run.tile, "photowct", lambda x: model.stylize(x, prep)[..., : x.shape[-2], : x.shape[-1]],
                       content, style, smoothing=mode)
        if mode is not None:
            dtype = torch.float64 if out.device.type != "mps" else torch.float32
            out = out.clamp(0, 1).to(dtype)  # the float32 result is dropped before the full-size solve
            # (S.smooth: the option `smooth` names the mode)
            out, info = S.smooth(out, content.to(dtype), beta, mode=mode, progress=True, return_info=True)
            out = out.float()
            print(f"smoothing at {out.shape[-1]}×{out.shape[-2]}: {info.summary()}")
        return out.clamp(0, 1)
    out = model.stylize(content, style, content_labels=cl, style_labels=sl, smoothing=mode, beta=beta)
    return out.clamp(0, 1)


# ============================================================================ registry
def _bench(smoothing: str | None):
    def build(cfg, device) -> Runner:
        model = PhotoWCT.from_official(device=device, random=True if cfg.random_weights else None)
        return Runner(lambda c, s: model.stylize(c, s, smoothing=smoothing).clamp(0, 1), model.pretrained,
                      W.checkpoints_of(model))

    return build


register(Method(
    name="photowct", order=40,
    summary="PhotoWCT, Li et al., ECCV 2018: WCT with max-unpooling decoders, then closed-form smoothing",
    add_cli_arguments=add_cli_arguments, run_cli=run_cli, labels=True, tiles=True,
    memory=MemoryModel(200e6, 1600.0, 700.0, "PhotoWCT", smooths=True),
    estimate_options=lambda *, smooth, **_: {"smoothing": None if smooth == "none" else smooth},
    bench=(BenchRow("photowct", "PhotoWCT (WCT part, no smoothing)", "feed-forward", _bench(None),
                    "PhotoWCT.from_official().stylize(smoothing=None): 4 autoencoders, coarse to fine"),
           BenchRow("photowct-direct", "PhotoWCT + exact smoothing (sparse direct)", "feed-forward", _bench("direct"),
                    "smoothing='direct': SciPy sparse solve on the CPU in float64, as FastPhotoStyle", max_size=768),
           BenchRow("photowct-cg", "PhotoWCT + exact smoothing (coarse-to-fine CG)", "feed-forward", _bench("cg"),
                    "smoothing='cg': matrix-free conjugate gradients on the device"),
           BenchRow("photowct-gif", "PhotoWCT + guided filter (fast)", "feed-forward", _bench("gif"),
                    "smoothing='gif': FastPhotoStyle's --fast approximation")),
    checkpoints=("photowct",),
))
