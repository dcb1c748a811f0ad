"""The course's images and label maps (``data``), video frames and stabilised per-frame transfer
(``video``), flicker along optical flow (``warping``).

Each module here is the one public path of its names (CONTRIBUTING.md, Layers)."""

from .._lazy import lazy_submodules

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
