"""Maths on feature maps and images: statistics, linear algebra, AdaIN, WCT, colour, norms, losses,
wavelets, the optimisation loop, the evaluation numbers. Stands on the base modules and ``labels``;
imports no network and no pipeline (the tiler and the video path stand above it and hand their
statistics in through ``shared_statistics``).

Each module here is the one public path of its names (CONTRIBUTING.md, Layers)."""

from .._lazy import lazy_submodules

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
