"""Linear style transfer: a small network predicts the transformation matrix (Li et al., CVPR 2019).

X. Li, S. Liu, J. Kautz, M.-H. Yang, "Learning Linear Transformations for Fast
Image and Video Style Transfer", CVPR 2019 (official code: sunshineatnoon/LinearStyleTransfer).
WCT (:func:`stylelab.features.transforms.wct`) computes ``T = C_s W_c`` by two eigen-decompositions per
image pair; here ``T`` is *predicted* from the two covariances, with no eigen-problem::

    F̄_c = F_c − μ_c,  F̄_s = F_s − μ_s                              (C × N features at relu3_1)
    z_c = P F̄_c                                                   (compress: 1×1 conv C → r)
    T_c = fc_c(cov(g_c(F̄_c))),   T_s = fc_s(cov(g_s(F̄_s)))         (r × r each)
    T   = T_s T_c
    out = Q (T z_c) + μ_s                                          (uncompress: 1×1 conv r → C)

``g`` is a small CNN (C → 64 by 1×1, then 3×3 convs to 32 and r channels), ``cov`` the
``r × r`` covariance over the positions (÷N), ``fc`` one fully connected layer on its
``r²`` entries. Every step is linear in ``F̄_c`` once the matrices are known, so the
output is an affine map of the content feature, and ``T`` for a video's style is computed
once per frame without an eigen-solver: the paper's argument for its stability on video.

Training (the paper: a decoder-side style loss; here, on the features directly): the
loss is the relative covariance error of the output plus ``λ`` times its relative
distance to exact WCT's output,

    L = ‖Σ(out) − Σ_s‖_F / ‖Σ_s‖_F + λ ‖out − WCT(F_c, F_s)‖ / ‖WCT(F_c, F_s)‖

(the first says "the style's second-order statistics", which many matrices satisfy;
the second picks WCT's among them, the one closest to the content). Pairs are the
batch's crops against the same crops rolled by one (``x_i`` styled as ``x_{i+1}``).
The transfer runs on the course's stand-in pair (:mod:`stylelab.course.standin`: fixed-seed
random VGG-19 to relu3_1 and its decoder trained on the course images): what the
method does to features, not the published model's pictures.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from ..course import standin
from ..features import transforms as T
from .. import validate as V
from ..device import follow, get_device
from ..features.linalg import covariance
from ..train.checkpoint import load_module_state
from . import Method, TrainJob, TrainRun, TrainSpec, TransferRun, images_then_keywords, register

__all__ = ["LinearTransform", "LinearStyle", "LinearLoss", "covariance_error", "LAYER", "add_cli_arguments", "run_cli"]

#: The encoder layer the transform works on (the paper's ``r31`` model).
LAYER = "relu3_1"


def covariance_error(out_feat: torch.Tensor, style_feat: torch.Tensor) -> torch.Tensor:
    """``‖Σ(out) − Σ(style)‖_F / ‖Σ(style)‖_F`` per sample, ``(B,)`` (unbiased covariances over positions).

    0 for exact WCT (up to rounding, when the content covariance has full rank).
    """
    so, ss = covariance(out_feat), covariance(style_feat.expand(out_feat.shape[0], -1, -1, -1))
    return (so - ss).flatten(1).norm(dim=1) / ss.flatten(1).norm(dim=1).clamp_min(1e-12)


class _MatrixNet(nn.Module):
    """``g`` then ``fc``: centred features ``(B, C, H, W)`` → an ``r × r`` matrix ``(B, r, r)``."""

    def __init__(self, channels: int, rank: int):
        super().__init__()
        self.rank = rank
        self.g = nn.Sequential(nn.Conv2d(channels, 64, 1), nn.ReLU(), nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(),
                               nn.Conv2d(32, rank, 3, padding=1))
        self.fc = nn.Linear(rank * rank, rank * rank)

    def forward(self, centred: torch.Tensor) -> torch.Tensor:
        y = self.g(centred).flatten(2)
        cov = y @ y.transpose(1, 2) / y.shape[-1]
        return self.fc(cov.flatten(1)).view(-1, self.rank, self.rank)


class LinearTransform(nn.Module):
    """The transformation module (module docstring) on ``C``-channel features with rank ``r``.

    ``forward(content_feat, style_feat)``: ``(B, C, H, W)`` and ``(1 or B, C, H', W')`` → ``(B, C, H, W)``.
    """

    def __init__(self, channels: int = 256, rank: int = 16):
        super().__init__()
        self.channels, self.rank = channels, rank
        self.content_net = _MatrixNet(channels, rank)
        self.style_net = _MatrixNet(channels, rank)
        self.compress = nn.Conv2d(channels, rank, 1)
        self.uncompress = nn.Conv2d(rank, channels, 1)

    def matrix(self, content_feat: torch.Tensor, style_feat: torch.Tensor) -> torch.Tensor:
        """``T = T_s T_c``, ``(B, r, r)``."""
        c = content_feat - content_feat.mean((2, 3), keepdim=True)
        s = style_feat - style_feat.mean((2, 3), keepdim=True)
        ts = self.style_net(s).expand(c.shape[0], -1, -1)
        return ts @ self.content_net(c)

    def forward(self, content_feat: torch.Tensor, style_feat: torch.Tensor) -> torch.Tensor:
        content_feat, style_feat = T.check_pair(content_feat, style_feat)
        if content_feat.shape[1] != self.channels:
            raise ValueError(f"this transform works on {self.channels}-channel features ({LAYER}), "
                             f"got {content_feat.shape[1]}")
        mu_c = content_feat.mean((2, 3), keepdim=True)
        mu_s = style_feat.mean((2, 3), keepdim=True)
        z = self.compress(content_feat - mu_c)  # the bias of compress is removed by centring z below
        z = z - z.mean((2, 3), keepdim=True)
        B, r, H, W = z.shape
        t = self.matrix(content_feat, style_feat)
        y = (t @ z.flatten(2)).view(B, r, H, W)
        out = self.uncompress(y)
        return out - out.mean((2, 3), keepdim=True) + mu_s


class LinearLoss:
    """``stylelab train --method linear``: the loss of the module docstring on a batch of images.

    Args:
        encoder: the feature network to ``LAYER`` (frozen); transform: the :class:`LinearTransform`.
        wct_weight: ``λ``.
    """

    def __init__(self, encoder: nn.Module, transform: LinearTransform, wct_weight: float = 1.0):
        self.encoder, self.transform, self.wct_weight = encoder, transform, wct_weight

    def __call__(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        if batch.shape[0] < 2:
            raise ValueError("linear training pairs the crops of a batch: --batch-size must be at least 2")
        with torch.no_grad():
            f = self.encoder(batch, layers=LAYER)[LAYER]
            s = f.roll(1, 0)
            target = torch.cat([T.wct(f[i:i + 1], s[i:i + 1], preset="exact") for i in range(f.shape[0])])
        out = self.transform(f, s)
        cov = covariance_error(out, s).mean()
        dist = ((out - target).flatten(1).norm(dim=1) / target.flatten(1).norm(dim=1).clamp_min(1e-12)).mean()
        return {"total": cov + self.wct_weight * dist, "covariance": cov, "wct": dist}


class LinearStyle(nn.Module):
    """Encoder → :class:`LinearTransform` → decoder, on the course's stand-in pair at relu3_1 (module docstring)."""

    def __init__(self, transform: LinearTransform, encoder=None, decoder=None):
        super().__init__()
        self.encoder = encoder if encoder is not None else standin.random_encoder(LAYER)
        self.decoder = decoder if decoder is not None else standin.decoder(3)
        self.transform = transform.eval().requires_grad_(False)
        self.pretrained = False
        self.stand_in = standin.LABEL

    @classmethod
    def from_file(cls, path, device=None) -> "LinearStyle":
        """The transform from a :func:`stylelab.train.fit` checkpoint (``"transform"``) or a saved state dict."""
        path = str(path)
        state = load_module_state(path, "transform") if path.endswith(".ckpt") else torch.load(
            path, map_location="cpu", weights_only=True)
        rank = state["compress.weight"].shape[0]
        t = LinearTransform(state["compress.weight"].shape[1], rank)
        t.load_state_dict({k: v.float() for k, v in state.items()})
        return cls(t).to(get_device(device))

    @torch.no_grad()
    @images_then_keywords
    def stylize(self, content: torch.Tensor, style: torch.Tensor, *, alpha: float = 1.0) -> torch.Tensor:
        """``(B, 3, H, W)`` content and ``(1, 3, H', W')`` style (RGB in [0, 1]) → ``(B, 3, H, W)`` in [0, 1]."""
        content, style = follow(self, V.check_image(content, "content"), V.check_image(style, "style"))
        h, w = content.shape[-2:]
        x = V.pad_to_size(content, min_size=8)
        fc = self.encoder(x, layers=LAYER)[LAYER]
        fs = self.encoder(V.pad_to_size(style, min_size=8), layers=LAYER)[LAYER]
        out = T.blend(alpha, self.transform(fc, fs), fc)
        return self.decoder(out)[..., :h, :w].clamp(0, 1)


# ============================================================================ CLI
def add_cli_arguments(parser) -> None:
    parser.add_argument("--alpha", type=V.arg_float(0, 1), default=1.0, help="style strength in [0, 1]")
    parser.add_argument("--transform", type=V.arg_existing("file"), required=False, default=None,
                        help="the trained transform (.ckpt of `stylelab train --method linear`, or a .pt state dict)")


def run_cli(content, style, run: TransferRun, *, alpha: float, transform: str | None) -> torch.Tensor:
    if transform is None:
        raise ValueError("--method linear needs --transform FILE: train one with `stylelab train --method linear IMAGES`.")
    model = LinearStyle.from_file(transform, device=run.device)
    print(f"note: linear transform on the stand-in pair ({standin.LABEL})")
    return model.stylize(content, style, alpha=alpha)


def _add_train_arguments(parser) -> None:
    parser.add_argument("--rank", type=V.arg_int(1), default=16, help="r, the compressed width (default 16)")
    parser.add_argument("--wct-weight", type=V.arg_float(0), default=1.0, help="λ of the WCT term (default 1)")


def _train_job(images, run: TrainRun, *, rank: int, wct_weight: float) -> TrainJob:
    enc = standin.random_encoder(LAYER).to(run.device)
    transform = LinearTransform(256, rank)  # relu3_1 of VGG-19 has 256 channels
    return TrainJob(LinearLoss(enc, transform, wct_weight), {"transform": transform}, "linear_transform.ckpt")


register(Method(
    name="linear", order=65,
    summary="Linear style transfer, Li et al., CVPR 2019: a small network predicts WCT's matrix (stand-in pair)",
    add_cli_arguments=add_cli_arguments, run_cli=run_cli,
    train=TrainSpec(_train_job, _add_train_arguments, "the transformation network at relu3_1 (image pairs of a folder)"),
))
