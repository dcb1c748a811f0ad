"""stylelab: neural style transfer from Gram matrices to WCT², as a tested library.

Every submodule and subpackage loads on first use as ``stylelab.<name>``
(``stylelab.smoothing.matting``, ``stylelab.labels``, ``stylelab.methods`` …: the names
are read from the package folder, so a new module is reachable with no edit
here), and the main functions and classes are available at the top level::

    import stylelab
    stylelab.gram(features)             # stats
    stylelab.adain(content_feat, style_feat)
    stylelab.AdaIN.from_official()      # methods
    stylelab.media.data.load("mountains", size=256)

``import stylelab`` itself imports nothing (no torch): names load when first
used. ``stylelab/__init__.pyi`` lists the same names for IDEs and type
checkers (written by ``python tools/write_stub.py``; ``tests/test_package.py``
checks it matches). See CONTRIBUTING.md for the module map and conventions.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: Top-level name → module that defines it.
_EXPORTS = {
    "get_device": "device",
    "load_image": "io",
    "save_image": "io",
    "gram": "features.stats",
    "mmd2": "features.stats",
    "adain": "features.transforms",
    "wct": "features.transforms",
    "smooth": "smoothing",
    "haar_dwt": "features.wavelets",
    "haar_idwt": "features.wavelets",
}
# Each method adds its own top-level name (stylelab.AdaIN, stylelab.gatys…):
# `export` in its registration (stylelab.methods).

_FOUND: frozenset[str] | None = None


def _submodules() -> frozenset[str]:
    """The public submodules and subpackages, listed from the package folder (once, at first use)."""
    global _FOUND
    if _FOUND is None:
        import pkgutil

        _FOUND = frozenset(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return _FOUND


def _method_exports() -> dict[str, tuple[str, str | None]]:
    return importlib.import_module(f"{__name__}.methods").exports()


def __getattr__(name: str):
    if name == "__all__":
        return sorted(_submodules() | set(_EXPORTS) | set(_method_exports()))
    if name.startswith("_"):
        raise AttributeError(f"module 'stylelab' has no attribute {name!r}")
    if name in _submodules():
        return importlib.import_module(f"{__name__}.{name}")
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    found = _method_exports().get(name)
    if found is not None:
        module = importlib.import_module(found[0])
        return module if found[1] is None else getattr(module, found[1])
    raise AttributeError(f"module 'stylelab' has no attribute {name!r}")


def __dir__():
    return __getattr__("__all__")
