"""Seeing what a trained classifier has learned: saliency maps, class visualisation, feature inversion, fooling images.

Every function takes ``model``: a module mapping images ``(B, 3, H, W)``, RGB
in ``[0, 1]``, to class scores ``(B, K)`` (the unnormalised logits, before the
softmax). A network trained on normalised input is wrapped in
:class:`RGBClassifier`, which normalises first, so that all the optimisation
below happens on pixels a student can look at (and clamps to ``[0, 1]``).
``target`` is a class index per image: an ``int`` (the same for the batch), a
sequence or a ``(B,)`` integer tensor. Inputs follow the model's device and
dtype (``stylelab.device.follow``); results come back there.

The methods, all by differentiating through a trained network:

* :func:`saliency` — Simonyan, Vedaldi & Zisserman, "Deep Inside Convolutional
  Networks: Visualising Image Classification Models and Saliency Maps", ICLR
  workshop 2014, §3: ``M_ij = max_c |∂s_y/∂x_cij|``.
* :func:`class_visualisation` — the same paper's §2 (gradient ascent on
  ``s_y(x) − λ‖x − ½‖²``), with the regularisers of Yosinski, Clune, Nguyen,
  Fuchs & Lipson, "Understanding Neural Networks Through Deep Visualization",
  ICML Deep Learning workshop 2015 (random jitter and periodic Gaussian blur).
* :func:`invert` — Mahendran & Vedaldi, "Understanding Deep Image
  Representations by Inverting Them", CVPR 2015: minimise
  ``‖Φ(x) − Φ₀‖² / ‖Φ₀‖² + λ_TV·TV(x)`` over the image.
* :func:`fooling_image` — Szegedy et al., "Intriguing properties of neural
  networks", ICLR 2014: small targeted gradient steps until the network
  predicts the chosen class; the perturbation's L∞ size is reported.

The two optimisations over an image run through :func:`stylelab.features.optim.minimise_image`
(the one loop); the loss each one minimises is a separate function
(:func:`class_loss`, :func:`inversion_loss`), and the fooling image's step
(:func:`fooling_step`) too, so a notebook can pass its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..device import follow
from ..features.evaluation import gaussian_window
from ..weights.layout import IMAGENET_MEAN, IMAGENET_STD
from ..features.losses import total_variation
from ..features.optim import minimise_image

__all__ = [
    "RGBClassifier", "targets", "predict", "saliency", "saliency_mass", "occlude", "class_loss", "blur", "class_visualisation",
    "inversion_loss", "invert", "fooling_step", "fooling_image", "Fooled",
]

Target = int | Sequence[int] | torch.Tensor


class RGBClassifier(nn.Module):
    """``net((x − mean) / std)``: a classifier trained on normalised input, taking RGB in ``[0, 1]``.

    ``mean`` and ``std`` are per-channel, by default ImageNet's
    (``stylelab.weights.layout.IMAGENET_MEAN`` / ``IMAGENET_STD``, torchvision's
    convention, which ``stylelab.nets.encoders.squeezenet1_1`` takes). The network is put in
    eval mode and its parameters are frozen (the methods here differentiate
    with respect to the image only). ``pretrained`` (default: the network's own
    ``pretrained`` attribute, else false) and ``name`` are kept so a notebook
    can say which network draws a figure.
    """

    def __init__(self, net: nn.Module, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD,
                 *, pretrained: bool | None = None, name: str = "") -> None:
        super().__init__()
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f"mean and std are three per-channel numbers (std > 0), got {mean} and {std}")
        self.net = net.eval().requires_grad_(False)
        p = next(net.parameters(), None)
        kw = {"device": p.device, "dtype": p.dtype} if p is not None else {}
        self.register_buffer("mean", torch.tensor(mean, **kw).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, **kw).view(1, 3, 1, 1), persistent=False)
        self.pretrained = bool(getattr(net, "pretrained", False) if pretrained is None else pretrained)
        self.name = name or type(net).__name__

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        image = follow(self, image)  # the device rule: inputs follow the model
        return self.net((image - self.mean) / self.std)


def _check_image(image: torch.Tensor, what: str = "image") -> None:
    if not isinstance(image, torch.Tensor) or image.dim() != 4 or not image.is_floating_point():
        got = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"the {what} should be a float tensor (B, C, H, W), got {got}; add a batch dimension with x[None]")


def targets(target: Target, batch: int, device=None) -> torch.Tensor:
    """``target`` as a ``(batch,)`` int64 tensor on ``device`` (an ``int`` is repeated for the batch)."""
    t = torch.as_tensor(target, dtype=torch.long, device=device).reshape(-1)
    if t.numel() == 1:
        t = t.expand(batch)
    if t.numel() != batch:
        raise ValueError(f"one target class per image: got {t.numel()} targets for a batch of {batch}")
    return t


def _scores(model: nn.Module, image: torch.Tensor, target: Target) -> tuple[torch.Tensor, torch.Tensor]:
    """``(scores (B, K), the target class score of each image (B,))``, with a clear error for a bad class."""
    scores = model(image)
    if scores.dim() != 2:
        raise ValueError(f"the model should return class scores (B, K), got {tuple(scores.shape)}")
    t = targets(target, scores.shape[0], scores.device)
    if int(t.min()) < 0 or int(t.max()) >= scores.shape[1]:
        raise ValueError(f"target classes must lie in [0, {scores.shape[1]}), got {t.tolist()}")
    return scores, scores.gather(1, t[:, None])[:, 0]


@torch.no_grad()
def predict(model: nn.Module, image: torch.Tensor, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """The top-``k`` classes: ``(probabilities (B, k), indices (B, k))`` of ``softmax(model(image))``."""
    _check_image(image)
    image = follow(model, image)
    return torch.softmax(model(image), dim=1).topk(k, dim=1)


# ============================================================================ saliency
def saliency(model: nn.Module, image: torch.Tensor, target: Target) -> torch.Tensor:
    """The saliency map ``M_ij = max_c |∂s_y(x)/∂x_cij|`` of each image for its class ``y`` → ``(B, H, W)``.

    ``s_y`` is the class score before the softmax (Simonyan et al., ICLR
    workshop 2014, §3.1: the softmax would also reward lowering the other
    classes). The images of a batch are independent (the model has no
    batch statistics in eval mode), so one backward pass of ``Σ_b s_{y_b}(x_b)``
    gives every image's gradient. The model's parameter gradients are untouched.
    """
    _check_image(image)
    x = follow(model, image).detach().requires_grad_(True)
    _, s = _scores(model, x, target)
    (g,) = torch.autograd.grad(s.sum(), x)
    return g.abs().amax(dim=1)


def saliency_mass(smap: torch.Tensor, fraction: float = 0.1) -> torch.Tensor:
    """The share of the total saliency held by the ``fraction`` most salient pixels of each map → ``(B,)``.

    ``smap`` is ``(B, H, W)`` (or ``(H, W)``). A uniform map gives ``fraction``;
    a map concentrated on a few pixels gives nearly 1. Used to measure that a
    saliency map is concentrated, not spread over the whole image.
    """
    m = smap.reshape(smap.shape[0] if smap.dim() == 3 else 1, -1).abs()
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    k = max(1, round(fraction * m.shape[1]))
    return m.topk(k, dim=1).values.sum(1) / m.sum(1).clamp_min(torch.finfo(m.dtype).tiny)


def occlude(image: torch.Tensor, smap: torch.Tensor, fraction: float = 0.2, block: int = 28, *,
            most: bool = True, fill: float = 0.5) -> torch.Tensor:
    """``image`` with the ``fraction`` most (``most=True``) or least salient ``block``×``block`` squares set to ``fill``.

    A block's saliency is the mean of ``smap`` ``(B, H, W)`` over it (edge
    blocks are partial). Region perturbation (Samek, Binder, Montavon,
    Lapuschkin & Müller, "Evaluating the visualization of what a deep neural
    network has learned", IEEE TNNLS 2017): if a saliency map points at what
    the decision depends on, greying its most salient regions lowers the class
    probability much more than greying its least salient ones. Computed on the
    image's device (the map is moved there).
    """
    _check_image(image)
    if smap.shape != (image.shape[0], *image.shape[-2:]):
        raise ValueError(f"the saliency map {tuple(smap.shape)} should be (B, H, W) of the image {tuple(image.shape)}")
    if not 0 < fraction < 1 or block < 1:
        raise ValueError(f"fraction must lie in (0, 1) and block be ≥ 1, got {fraction} and {block}")
    h, w = image.shape[-2:]
    smap = smap.to(device=image.device, dtype=image.dtype)  # computed where the image is
    blocks = F.avg_pool2d(smap[:, None], block, ceil_mode=True)  # (B, 1, h', w')
    flat = blocks.flatten(1)
    k = max(1, round(fraction * flat.shape[1]))
    chosen = flat.topk(k, dim=1, largest=most).indices
    mask = torch.zeros_like(flat).scatter_(1, chosen, 1.0).view_as(blocks)
    mask = mask.repeat_interleave(block, 2).repeat_interleave(block, 3)[..., :h, :w]
    return image * (1 - mask) + fill * mask


# ============================================================================ class visualisation
def class_loss(model: nn.Module, image: torch.Tensor, target: Target, l2: float) -> torch.Tensor:
    """The loss whose minimum is the class visualisation: ``Σ_b [−s_{y_b}(x_b) + λ‖x_b − ½‖²]`` (a scalar).

    Simonyan et al. (2014), §2: maximise ``s_y(x) − λ‖x‖²`` over a mean-free
    image; here pixels are in ``[0, 1]`` and the penalty pulls them to
    mid-grey ½ (close to ImageNet's mean colour 0.485, 0.456, 0.406). The
    squared norm is a sum over every pixel and channel; ``s_y`` is the score
    before the softmax.
    """
    _, s = _scores(model, image, target)
    return -s.sum() + l2 * (image - 0.5).pow(2).sum()


def blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``(B, C, H, W)`` with standard deviation ``sigma`` px, same size (reflected edges).

    The taps are :func:`stylelab.features.evaluation.gaussian_window` (radius ``⌊3.5σ + ½⌋``).
    ``sigma = 0`` returns the image unchanged.
    """
    _check_image(image)
    if sigma == 0:
        return image
    g = gaussian_window(sigma, dtype=image.dtype, device=image.device)
    r, c = g.numel() // 2, image.shape[1]
    if r == 0:
        return image
    mode = "reflect" if min(image.shape[-2:]) > r else "replicate"
    x = F.pad(image, (r, r, r, r), mode=mode)
    x = F.conv2d(x, g.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)
    return F.conv2d(x, g.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)


def class_visualisation(
    model: nn.Module,
    target: Target,
    *,
    size: int | tuple[int, int] = 224,
    steps: int = 200,
    lr: float = 0.08,
    l2: float = 3e-4,
    jitter: int = 12,
    blur_every: int = 5,
    blur_sigma: float = 0.7,
    loss: Callable[[nn.Module, torch.Tensor, Target, float], torch.Tensor] = class_loss,
    init: torch.Tensor | None = None,
    seed: int = 0,
    progress: bool = False,
) -> tuple[torch.Tensor, dict[str, list[float]]]:
    """An image the model scores highly as ``target``: minimise ``loss`` (default :func:`class_loss`) with Adam.

    Each evaluation shifts the image by a random ``(dy, dx) ∈ [−jitter, jitter]²``
    (circularly) before the model sees it, so the gradient is that of the
    shifted image, shifted back (Yosinski et al. 2015's jitter: no pattern that
    works only at one pixel offset survives). Every ``blur_every`` steps the
    image is blurred with σ = ``blur_sigma`` (their periodic Gaussian blur:
    a prior against high frequencies). Pixels are kept in ``[0, 1]``.
    The steps run through :func:`stylelab.features.optim.minimise_image` (Adam,
    ``lr`` in pixel units), ``blur_every`` steps at a time.

    The defaults were chosen on SqueezeNet 1.1 at 160 px (150 steps: the
    result is classified as its target with p > 0.99 for tarantula, goldfish and alp).
    Scale ``jitter`` with the image: at 96 px and 40 steps the default 12 px left
    goldfish at p = 8e-6, 4 px gave 0.91 in one run — short runs are chaotic
    (the class reached changed with the thread count), 150 steps at 160 px are not.
    ``init`` (default: mid-grey plus 1 % noise, seeded) sets the batch and size;
    one image per target class. Returns ``(images (B, 3, H, W), history)``
    with ``history["total"]`` the loss of each step and ``history["score"]``
    the mean target score ``s_y`` of the (unshifted) images after each
    ``blur_every`` steps.
    """
    if steps < 1 or blur_every < 1:
        raise ValueError(f"steps and blur_every must be ≥ 1, got {steps} and {blur_every}")
    p = next(model.parameters(), None)
    device, dtype = (p.device, p.dtype) if p is not None else (torch.device("cpu"), torch.float32)
    gen = torch.Generator().manual_seed(seed)
    if init is None:
        h, w = (size, size) if isinstance(size, int) else size
        init = 0.5 + 0.01 * torch.randn(torch.as_tensor(target).numel(), 3, h, w, generator=gen)
    _check_image(init, "init")
    x = follow(model, init).detach()
    ys = targets(target, x.shape[0], device)

    def objective(image):
        dy, dx = torch.randint(-jitter, jitter + 1, (2,), generator=gen).tolist() if jitter else (0, 0)
        return loss(model, torch.roll(image, shifts=(dy, dx), dims=(2, 3)), ys, l2), {}

    history: dict[str, list[float]] = {"total": [], "score": []}
    done = 0
    while done < steps:
        n = min(blur_every, steps - done)
        x, hist, _ = minimise_image(objective, x, n, optimizer="adam", lr=lr, progress=progress,
                                    desc="class visualisation")
        history["total"] += hist["total"]
        done += n
        if n == blur_every:
            x = blur(x, blur_sigma).clamp(0, 1)
        with torch.no_grad():
            history["score"].append(float(_scores(model, x, ys)[1].mean()))
    return x.to(dtype), history


# ============================================================================ feature inversion
def inversion_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mahendran & Vedaldi's normalised feature loss ``‖Φ(x) − Φ₀‖² / ‖Φ₀‖²`` (a scalar; sums over everything).

    Dividing by ``‖Φ₀‖²`` makes the loss comparable across layers whose
    activations differ by orders of magnitude: 1 means "no better than
    all-zero features", 0 a perfect match.
    """
    if features.shape != target.shape:
        raise ValueError(f"features {tuple(features.shape)} and target {tuple(target.shape)} must have the same shape")
    return (features - target).pow(2).sum() / target.pow(2).sum().clamp_min(torch.finfo(target.dtype).tiny)


def invert(
    feature_fn: Callable[[torch.Tensor], torch.Tensor],
    target: torch.Tensor,
    init: torch.Tensor,
    *,
    steps: int = 200,
    tv_weight: float = 1.0,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = inversion_loss,
    optimizer: str = "lbfgs",
    lr: float = 1.0,
    progress: bool = False,
) -> tuple[torch.Tensor, dict[str, list[float]]]:
    """The image whose features match ``target``: minimise ``loss(Φ(x), Φ₀) + tv_weight · TV(x)`` from ``init``.

    ``feature_fn`` is ``Φ`` (image → features at one layer); ``target`` is
    ``Φ₀ = Φ(x₀)`` of the image to invert; ``init`` sets the start (noise
    for Mahendran & Vedaldi, CVPR 2015). ``TV`` is
    ``stylelab.features.losses.total_variation(x, "squared")`` (their β = 2 prior,
    mean over pixels). Runs :func:`stylelab.features.optim.minimise_image` (L-BFGS by
    default; pixels clamped to ``[0, 1]``). Returns ``(image, history)`` with
    ``history["features"]`` the feature loss and ``history["tv"]`` the prior,
    one entry per evaluation.
    """
    _check_image(init, "init")
    target = target.detach()

    def objective(image):
        rec = loss(feature_fn(image), target)
        tv = total_variation(image, "squared")
        return rec + tv_weight * tv, {"features": rec, "tv": tv}

    image, hist, _ = minimise_image(objective, init.to(target.device), steps, keys=("features", "tv"),
                                    optimizer=optimizer, lr=lr, progress=progress, desc="inverting")
    return image, hist


# ============================================================================ fooling images
def fooling_step(model: nn.Module, image: torch.Tensor, target: Target, lr: float) -> torch.Tensor:
    """One targeted step ``x + lr · g / ‖g‖₂`` with ``g = ∂s_y(x)/∂x``, the norm taken per image → new images.

    ``s_y`` is the target class score (before the softmax). Normalising the
    gradient makes ``lr`` the L2 length of each step in pixel units. The
    result is not clamped (:func:`fooling_image` keeps pixels in ``[0, 1]``).
    """
    _check_image(image)
    x = follow(model, image).detach().requires_grad_(True)
    _, s = _scores(model, x, target)
    (g,) = torch.autograd.grad(s.sum(), x)
    norm = g.flatten(1).norm(dim=1).clamp_min(torch.finfo(g.dtype).tiny).view(-1, 1, 1, 1)
    return (x + lr * g / norm).detach()


@dataclass
class Fooled:
    """A fooling image and its numbers: the image, the perturbation's size, the classes before and after."""

    image: torch.Tensor
    steps: int
    linf: float  # max |x' − x| over pixels and channels, in [0, 1] pixel units
    l2: float  # ‖x' − x‖₂ over the whole image
    before: int  # the class predicted for the original
    after: int  # the class predicted for the fooling image
    target: int

    @property
    def fooled(self) -> bool:
        return self.after == self.target != self.before


def fooling_image(
    model: nn.Module,
    image: torch.Tensor,
    target: int,
    *,
    lr: float = 0.1,
    max_steps: int = 100,
    step: Callable[[nn.Module, torch.Tensor, Target, float], torch.Tensor] = fooling_step,
) -> Fooled:
    """Targeted gradient steps (``step``, default :func:`fooling_step`) until ``model`` predicts ``target``.

    One image ``(1, 3, H, W)``; after each step the pixels are clamped to
    ``[0, 1]``. Stops as soon as the arg-max class is ``target`` or after
    ``max_steps`` (then ``Fooled.fooled`` is false: say so, do not claim it).
    """
    _check_image(image)
    if image.shape[0] != 1:
        raise ValueError(f"fooling_image takes one image (1, 3, H, W), got a batch of {image.shape[0]}")
    x0 = follow(model, image).detach()
    with torch.no_grad():
        before = int(model(x0).argmax(1))
    x, k, after = x0, 0, before
    while after != target and k < max_steps:
        x = step(model, x, target, lr).detach().clamp(0, 1)
        k += 1
        with torch.no_grad():
            after = int(model(x).argmax(1))
    d = x - x0
    return Fooled(x, k, float(d.abs().max()), float(d.norm()), before, after, int(target))
