"""CAP-VSTNet: WCT inside an exactly invertible network, trained with a matting-Laplacian loss.

L. Wen, C. Gao, C. Zou, "CAP-VSTNet: Content Affinity Preserved Versatile Style Transfer",
CVPR 2023 (official code: linfengWen98/CAP-VSTNet). The network ``f`` is the reversible
:class:`stylelab.nets.reversible.ReversibleNet` (channel padding, squeezes, additive couplings):
its inverse is exact, so no decoder is learnt and nothing of the content is lost on the way.
Transfer, for a content ``c`` and a style ``s`` (``(B, 3, H, W)``, ``(1, 3, H', W')``, RGB in [0, 1])::

    F_c = f(c),  F_s = f(s)                                  ((B, 128, H/4, W/4) for the shipped net)
    T   = L_s L_c⁻¹ (F_c − μ_c) + μ_s,   Σ_c + εI = L_c L_cᵀ,  Σ_s + εI = L_s L_sᵀ     (Cholesky WCT)
    out = f⁻¹(α T + (1 − α) F_c)                              (clamped to [0, 1])

(:func:`stylelab.features.transforms.wct` with ``whitening="cholesky"``, ``ε = 1e-5`` on both sides,
covariances ÷(N−1), float64; the paper's Cholesky WCT). Height and width are padded by reflection to
multiples of 4 and cropped back.

Training (:class:`CAPVSTLoss`, ``stylelab train --method capvst``): each batch's crops ``c_i`` are
styled as their neighbours ``s_i = c_{i+1}`` (the batch rolled by one), ``o_i = T(c_i, s_i)``, and::

    L = λ_s L_s + λ_m L_m + λ_cyc L_cyc,           λ_s = 1, λ_m = 10⁴, λ_cyc = 10³ (defaults)
    L_s   = Σ_{l ∈ relu1_1…relu4_1} ‖μ(φ_l(o)) − μ(φ_l(s))‖² + ‖σ(φ_l(o)) − σ(φ_l(s))‖²   (means over channels)
    L_m   = 1/(B·H·W) Σ_i Σ_{k ∈ R,G,B} o_{i,k}ᵀ 𝓛(c_i) o_{i,k}                           (matting Laplacian)
    L_cyc = ‖T(o, c) − c‖₁   (mean)                                                        (cycle: back to the content)

``φ`` is the frozen offline ImageNet VGG-16 (:func:`stylelab.nets.encoders.vgg16`, HED's trunk, its
caffe 0–255 scale; the paper uses VGG-19, not available offline here); ``𝓛(c)`` is Levin et al.'s
matting Laplacian of the content (:class:`stylelab.smoothing.matting.MattingLaplacian`, ``ε = 1e-7``,
3×3 windows) and ``oᵀ𝓛o`` DPST's photorealism loss (:func:`stylelab.methods.dpst.photorealism_loss`,
Luan et al., CVPR 2017, Eq. 2): small when the output is locally an affine function of the content's
colours, i.e. when edges stay where the content's are. The paper's loss has the same three terms (its
weights and its VGG-19 differ: the defaults here were chosen so that, on photos, the matting and cycle terms
are a sizeable part of the style term at the start of training: style ≈ 400, matting ≈ 0.03, cycle ≈ 0.03). ``L_cyc`` is the paper's cycle consistency: the stylised image, styled back with the
content, should return the content.

The shipped network (``data/decoders/capvst_reversible.pt``, float16; manifest
``data/decoders/capvst_reversible.json``: photos, steps, time, seed, SHA-256) was trained here on CPU on
the photos of :data:`stylelab.nets.course_pair.PHOTOS` (none of them a course image:
``tools/train_capvst.py``). It is a small net trained for minutes, not the paper's model.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
import torch.nn as nn

from .. import validate as V
from ..device import follow, get_device
from ..features import transforms as T
from ..features.transforms import mean_std
from ..media.data import data_dir
from ..nets import encoders
from ..nets.reversible import ReversibleNet
from ..smoothing.matting import MattingLaplacian
from ..train.checkpoint import load_module_state
from . import BenchRow, Method, Runner, TrainJob, TrainRun, TrainSpec, TransferRun, images_then_keywords, register
from .dpst import photorealism_loss

__all__ = ["ARCH", "EPS", "STYLE_LAYERS", "CAPVST", "CAPVSTLoss", "transfer", "matting_loss", "default_path",
           "manifest_path", "add_cli_arguments", "run_cli"]

#: The shipped network's :class:`~stylelab.nets.reversible.ReversibleNet` arguments.
ARCH = {"channels": 8, "squeezes": 2, "blocks": 2, "hidden": 16}
#: ``ε`` added to both covariances of the Cholesky WCT.
EPS = 1e-5
#: The VGG-16 layers of the style loss.
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


def default_path() -> Path:
    """``data/decoders/capvst_reversible.pt``: the shipped network (float16 state dict)."""
    return data_dir() / "decoders" / "capvst_reversible.pt"


def manifest_path() -> Path:
    """``data/decoders/capvst_reversible.json``: how the shipped network was trained, and its SHA-256."""
    return data_dir() / "decoders" / "capvst_reversible.json"


def transfer(net: ReversibleNet, content: torch.Tensor, style: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """``f⁻¹(α · CholeskyWCT(f(c), f(s)) + (1 − α) f(c))`` (module docstring), differentiable, not clamped.

    ``content`` ``(B, 3, H, W)``, ``style`` ``(1 or B, 3, H', W')``, sides multiples of ``2^squeezes``
    (else the network's ``ValueError`` says how to pad) → ``(B, 3, H, W)``.
    """
    fc, fs = net(content), net(style)
    return net.inverse(T.wct(fc, fs, alpha, whitening="cholesky", eps_content=EPS, eps_style=EPS))


def matting_loss(output: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """``1/(B·H·W) Σ_i Σ_k o_{i,k}ᵀ 𝓛(c_i) o_{i,k}`` (module docstring): ``(B, 3, H, W)`` ×2 → scalar.

    The matting Laplacian of each content is built at its size (:class:`MattingLaplacian`, float64,
    ``ε = 1e-7``, radius 1); lower is more photorealistic (0 for an output that is an affine function of
    the content's colours in every 3×3 window).
    """
    if output.shape != content.shape:
        raise ValueError(f"output {tuple(output.shape)} and content {tuple(content.shape)} must have one shape")
    total = output.new_zeros(())
    for o, c in zip(output, content):
        lap = MattingLaplacian(c[None].detach().double())
        total = total + photorealism_loss(o[None], lap)
    return total / (output.shape[0] * output.shape[-2] * output.shape[-1])


class CAPVSTLoss:
    """``stylelab train --method capvst``: the loss ``L`` of the module docstring on a batch of crops.

    Args:
        encoder: the frozen VGG-16 to ``relu4_1``; net: the trainable :class:`ReversibleNet`.
        style_weight, matting_weight, cycle_weight: ``λ_s``, ``λ_m``, ``λ_cyc``.
    """

    def __init__(self, encoder: nn.Module, net: ReversibleNet, style_weight: float = 1.0,
                 matting_weight: float = 1e4, cycle_weight: float = 1e3):
        self.encoder, self.net = encoder, net
        self.style_weight, self.matting_weight, self.cycle_weight = style_weight, matting_weight, cycle_weight

    def __call__(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        if batch.shape[0] < 2:
            raise ValueError("capvst training styles each crop with its neighbour: --batch-size must be at least 2")
        k = 2 ** self.net.squeezes
        if batch.shape[-2] % k or batch.shape[-1] % k:
            raise ValueError(f"capvst training needs crops whose sides are multiples of {k}, got "
                             f"{tuple(batch.shape[-2:])}: pass --size {max(k, batch.shape[-1] // k * k)}")
        style = batch.roll(1, 0)
        out = torch.cat([transfer(self.net, batch[i:i + 1], style[i:i + 1]) for i in range(batch.shape[0])])
        with torch.no_grad():
            s_feats = self.encoder(style, layers=STYLE_LAYERS)
        o_feats = self.encoder(out, layers=STYLE_LAYERS)
        ls = batch.new_zeros(())
        for layer in STYLE_LAYERS:
            (mo, so), (ms, ss) = mean_std(o_feats[layer]), mean_std(s_feats[layer])
            ls = ls + (mo - ms).pow(2).mean() + (so - ss).pow(2).mean()
        lm = matting_loss(out, batch)
        back = torch.cat([transfer(self.net, out[i:i + 1], batch[i:i + 1]) for i in range(batch.shape[0])])
        lc = (back - batch).abs().mean()
        total = self.style_weight * ls + self.matting_weight * lm + self.cycle_weight * lc
        return {"total": total, "style": ls.detach(), "matting": lm.detach(), "cycle": lc.detach()}


class CAPVST(nn.Module):
    """The reversible network with Cholesky WCT in its feature space (module docstring).

    ``.tag`` says which network draws (the shipped trained one, a file, or random weights).
    """

    def __init__(self, net: ReversibleNet, tag: str = "reversible net"):
        super().__init__()
        self.net = net.eval().requires_grad_(False)
        self.tag = tag
        self.pretrained = False  # trained here, not the paper's model

    @classmethod
    def untrained(cls, seed: int = 0, device=None) -> "CAPVST":
        """The shipped architecture (:data:`ARCH`) with PyTorch's default random initialisation under ``seed``."""
        with torch.random.fork_rng(devices=[]):  # the global generator is left as it was
            torch.manual_seed(seed)
            net = ReversibleNet(**ARCH)
        return cls(net, f"untrained reversible net (random init, seed {seed})").to(get_device(device))

    @classmethod
    def from_file(cls, path=None, device=None) -> "CAPVST":
        """The network from ``path`` (default :func:`default_path`): a ``.pt`` state dict (float16 or 32) or a
        ``.ckpt`` of ``stylelab train --method capvst``; loaded in float32. ``FileNotFoundError`` says how to
        rebuild the shipped one."""
        p = Path(path) if path is not None else default_path()
        if not p.is_file():
            raise FileNotFoundError(f"{p} is missing: train it with `python tools/train_capvst.py`.")
        if p.suffix == ".ckpt":
            state = load_module_state(str(p), "net")
        else:
            state = torch.load(p, map_location="cpu", weights_only=True)
        net = ReversibleNet(**ARCH)
        net.load_state_dict({k: v.float() for k, v in state.items()})
        if path is None:
            m = json.loads(manifest_path().read_text())
            tag = f"reversible net trained here ({m['steps']} steps, {m['minutes']:.0f} min CPU)"
        else:
            tag = f"reversible net from {p.name}"
        return cls(net, tag).to(get_device(device))

    @torch.no_grad()
    @images_then_keywords
    def stylize(self, content: torch.Tensor, style: torch.Tensor, *, alpha: float = 1.0) -> torch.Tensor:
        """``(B, 3, H, W)`` content and ``(1, 3, H', W')`` style (RGB in [0, 1]) → ``(B, 3, H, W)`` in [0, 1]."""
        content, style = follow(self, V.check_image(content, "content"), V.check_image(style, "style"))
        k = 2 ** self.net.squeezes
        h, w = content.shape[-2:]
        c = V.pad_to_size(content, multiple=k, min_size=4 * k)
        s = V.pad_to_size(style, multiple=k, min_size=4 * k)
        return transfer(self.net, c, s, alpha)[..., :h, :w].clamp(0, 1)


# ============================================================================ CLI
def add_cli_arguments(parser) -> None:
    parser.add_argument("--alpha", type=V.arg_float(0, 1), default=1.0, help="style strength in [0, 1]")
    parser.add_argument("--net", type=V.arg_existing("file"), default=None,
                        help="the reversible network (.pt or .ckpt of `stylelab train --method capvst`; "
                             "default: the one shipped in data/decoders/capvst_reversible.pt)")


def run_cli(content, style, run: TransferRun, *, alpha: float, net: str | None) -> torch.Tensor:
    if run.random_weights and net is None:
        model = CAPVST.untrained(run.seed or 0, device=run.device)
        warnings.warn("capvst: random weights asked for (--random-weights): the untrained reversible net",
                      stacklevel=2)
    else:
        model = CAPVST.from_file(net, device=run.device)
    print(f"note: capvst drawn by the {model.tag} (not the paper's model)")
    return model.stylize(content, style, alpha=alpha)


def _add_train_arguments(parser) -> None:
    parser.add_argument("--style-weight", type=V.arg_float(0), default=1.0, help="λ_s (default 1)")
    parser.add_argument("--matting-weight", type=V.arg_float(0), default=1e4, help="λ_m (default 10⁴)")
    parser.add_argument("--cycle-weight", type=V.arg_float(0), default=1e3, help="λ_cyc (default 10³)")


def _train_job(images, run: TrainRun, *, style_weight: float, matting_weight: float, cycle_weight: float) -> TrainJob:
    enc = encoders.vgg16(last_layer="relu4_1", device=run.device, random=run.random)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(run.seed if run.seed is not None else torch.initial_seed())
        net = ReversibleNet(**ARCH)
    return TrainJob(CAPVSTLoss(enc, net, style_weight, matting_weight, cycle_weight), {"net": net},
                    "capvst_reversible.ckpt")


# ============================================================================ registry
def _bench(cfg, device) -> Runner:
    """The shipped network (trained here, so neither the paper's weights nor random ones: the runner says which)."""
    model = CAPVST.from_file(device=device)
    r = Runner(lambda c, s: model.stylize(c, s), False)
    r.stand_in, r.weights_name = f"{model.tag}, not the paper's model", "capvst_reversible.pt"  # course.weights_banner's words
    r.course_tag = f" ({model.tag})"
    return r


register(Method(
    name="capvst", order=67,
    summary="CAP-VSTNet, Wen et al., CVPR 2023: Cholesky WCT inside an exactly invertible network "
            "trained here with a matting-Laplacian loss",
    add_cli_arguments=add_cli_arguments, run_cli=run_cli,
    bench=(BenchRow("capvst", "CAP-VSTNet (reversible net trained here)", "feed-forward", _bench,
                    "CAPVST.from_file().stylize"),),
    train=TrainSpec(_train_job, _add_train_arguments,
                    "the reversible network (style, matting-Laplacian and cycle losses; a folder of photos)"),
))
