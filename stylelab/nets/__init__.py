"""The networks: VGG and SqueezeNet encoders, mirror decoders, WCT²'s wave networks, transformation
networks, Ghiasi's network, CAP-VSTNet's reversible network, the offline course pair.

Each module here is the one public path of its names (CONTRIBUTING.md, Layers)."""

from .._lazy import lazy_submodules

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
