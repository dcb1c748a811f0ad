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
    "bench", "cli", "colour", "course", "data", "decoders", "device", "encoders", "exercises",
    "io", "losses", "matting", "methods", "metrics", "smoothing", "stats", "train", "transforms",
    "video", "viz", "wavelets", "weights", "widgets",
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
    "AdaIN": "methods.adain",
    "WCT": "methods.wct",
    "PhotoWCT": "methods.photowct",
    "WCT2": "methods.wct2",
    "gatys": "methods.gatys",
    "dpst": "methods.dpst",
}

__all__ = sorted(_SUBMODULES | set(_EXPORTS))


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _EXPORTS:
        module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
        # `gatys` and `dpst` are modules of functions; the rest are objects in a module.
        return module if name in ("gatys", "dpst") else getattr(module, name)
    raise AttributeError(f"module 'stylelab' has no attribute {name!r}")


def __dir__():
    return __all__
