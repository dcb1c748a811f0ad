"""stylelab: neural style transfer from Gram matrices to WCT², as a tested library.

Submodules load on first use (``stylelab.matting``, ``stylelab.wavelets``, …),
and the main functions and classes are available at the top level::

    import stylelab
    stylelab.gram(features)             # stats
    stylelab.adain(content_feat, style_feat)
    stylelab.AdaIN.from_official()      # methods
    stylelab.data.load("mountains", size=256)

See CONTRIBUTING.md for the module map and conventions.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = {
    "aggregation", "bench", "checkpoints", "cli", "colour", "course", "data", "decoders", "device", "encoders", "evaluation",
    "exercises", "grid_stencil", "guided", "io", "layout", "linalg", "losses", "matting", "memory", "methods",
    "metrics", "multigrid", "optim", "smoothing", "smoothing_solvers", "stats", "tiling", "train", "transforms",
    "validate", "video", "visualise", "viz", "wavelet_transfer", "wavelets", "wavenets", "weights", "whitening", "widgets",
}

#: Top-level name → module that defines it.
_EXPORTS = {
    "get_device": "device",
    "load_image": "io",
    "save_image": "io",
    "gram": "stats",
    "mmd2": "stats",
    "adain": "transforms",
    "wct": "transforms",
    "smooth": "smoothing",
    "haar_dwt": "wavelets",
    "haar_idwt": "wavelets",
}
# Each method adds its own top-level name (stylelab.AdaIN, stylelab.gatys…):
# `export` in its registration (stylelab.methods).


def _method_exports() -> dict[str, tuple[str, str | None]]:
    from .methods import exports

    return exports()


def __getattr__(name: str):
    if name == "__all__":
        return sorted(_SUBMODULES | set(_EXPORTS) | set(_method_exports()))
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    if not name.startswith("_"):
        found = _method_exports().get(name)
        if found is not None:
            module = importlib.import_module(found[0])
            return module if found[1] is None else getattr(module, found[1])
    raise AttributeError(f"module 'stylelab' has no attribute {name!r}")


def __dir__():
    return __getattr__("__all__")
