"""stylelab: neural style transfer from Gram matrices to WCT², as a tested library.

Every submodule and subpackage loads on first use as ``stylelab.<name>``
(``stylelab.smoothing.matting``, ``stylelab.labels``, ``stylelab.methods`` …: the names
are read from the package folder, so a new module is reachable with no edit
here). A name has one public path, the module that defines it::

    import stylelab
    stylelab.features.stats.gram(features)
    from stylelab.methods.adain import AdaIN
    AdaIN.from_official()
    stylelab.media.data.load("mountains", size=256)

The top level holds no shortcuts (``stylelab.gram``, ``stylelab.AdaIN`` were removed:
MOVED.md lists their paths). ``import stylelab`` itself imports nothing (no torch):
modules load when first used. ``stylelab/__init__.pyi`` lists the same names for IDEs
and type checkers (written by ``python tools/write_stub.py``; ``tests/test_package.py``
checks it matches). See CONTRIBUTING.md for the folders and conventions.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: The top-level shortcuts that were removed (one public path per name) → the module to import them from,
#: only for the error message of ``stylelab.<old name>``.
_REMOVED = {
    "get_device": "stylelab.device", "load_image": "stylelab.io", "save_image": "stylelab.io",
    "gram": "stylelab.features.stats", "mmd2": "stylelab.features.stats",
    "adain": "stylelab.features.transforms", "wct": "stylelab.features.transforms",
    "smooth": "stylelab.smoothing", "haar_dwt": "stylelab.features.wavelets", "haar_idwt": "stylelab.features.wavelets",
    "AdaIN": "stylelab.methods.adain", "WCT": "stylelab.methods.wct", "WCT2": "stylelab.methods.wct2",
    "PhotoWCT": "stylelab.methods.photowct", "EFDM": "stylelab.methods.efdm", "ColourMap": "stylelab.methods.colour_map",
    "LinearStyle": "stylelab.methods.linear",
}
_REMOVED_MODULES = ("gatys", "johnson", "cin", "cyclegan", "dpst")

_FOUND: frozenset[str] | None = None


def _submodules() -> frozenset[str]:
    """The public submodules and subpackages, listed from the package folder (once, at first use)."""
    global _FOUND
    if _FOUND is None:
        import pkgutil

        _FOUND = frozenset(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return _FOUND


def __getattr__(name: str):
    if name == "__all__":
        return sorted(_submodules())
    if not name.startswith("_") and name in _submodules():
        return importlib.import_module(f"{__name__}.{name}")
    if name in _REMOVED:
        raise AttributeError(f"module 'stylelab' has no attribute {name!r}: import it from the module that defines "
                             f"it, `from {_REMOVED[name]} import {name}` (MOVED.md lists every renamed path)")
    if name in _REMOVED_MODULES:
        raise AttributeError(f"module 'stylelab' has no attribute {name!r}: the method is `stylelab.methods.{name}` "
                             "(MOVED.md lists every renamed path)")
    raise AttributeError(f"module 'stylelab' has no attribute {name!r}")


def __dir__():
    return __getattr__("__all__")
