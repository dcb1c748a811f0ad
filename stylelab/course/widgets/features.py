"""Layer / Gram explorer: pick an image and a layer, see its feature maps and Gram matrix.

The logic lives in :class:`FeatureExplorer`; :meth:`FeatureExplorer.widget`
builds the ipywidgets layout. Features of every layer are computed in **one**
forward pass per image and cached, so changing the dropdowns only redraws.

Without an encoder (``encoder=None``) the "layers" are weight-free feature
extractors — ``"pixels"`` (RGB), ``"patches3"`` (3×3 patches, 27 channels) and
``"random_k3"`` … ``"random_k11"`` (random multi-scale filters + ReLU,
``stylelab.features.stats.random_features``) — so the explorer is meaningful without
pretrained weights.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ...features import stats
from ...viz import figure_to_png_bytes, heatmap, to_numpy_image
from .base import Explorer, show_png

#: Layers offered with a VGG encoder (those it reaches are kept).
VGG_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1", "conv4_2", "relu4_2")
#: Weight-free "layers".
SIMPLE_LAYERS = ("pixels", "patches3", "random_k3", "random_k5", "random_k7", "random_k11")


def simple_features(image: torch.Tensor, seed: int = 0, channels: int = 16) -> dict[str, torch.Tensor]:
    """Every weight-free feature map of ``image`` ``(1, 3, H, W)``, keyed as in :data:`SIMPLE_LAYERS`."""
    out = {"pixels": image, "patches3": stats.patches(image, 3)}
    rand = stats.random_features(image, seed=seed, channels=channels, sizes=(3, 5, 7, 11))
    out.update({f"random_{k}": v for k, v in rand.items()})
    return out


class FeatureExplorer(Explorer):
    """Headless-testable controller: image × layer → feature maps and Gram matrix (live: redraws on every change).

    Args:
        images: ``{name: (1, 3, H, W) image}``.
        encoder: a :class:`stylelab.nets.encoders.VGG19Encoder`, or ``None`` for the
            weight-free features of :func:`simple_features`.
        layers: layer names to offer (default: :data:`VGG_LAYERS` the encoder
            reaches, or :data:`SIMPLE_LAYERS`).
        n_maps: feature maps shown (the most active channels).
        normalize: Gram normalisation (``stylelab.features.stats.gram``).

    Attributes:
        image, layer: the settings; ``forward_passes``: how many
        encoder passes were run (one per image); ``png``/``result``: the last drawing.
    """

    SETTINGS = ("image", "layer")
    LIVE = True

    def __init__(self, images: dict[str, torch.Tensor], encoder=None, layers: Sequence[str] | None = None,
                 n_maps: int = 8, normalize: stats.Normalize = "positions"):
        if not images:
            raise ValueError("give at least one image: images={'name': tensor}")
        self.images, self.encoder, self.n_maps, self.normalize = dict(images), encoder, n_maps, normalize
        if layers is None:
            layers = [n for n in VGG_LAYERS if n in encoder.layers] if encoder is not None else list(SIMPLE_LAYERS)
        if not layers:
            raise ValueError("no layers to show: the encoder reaches none of the default layers; pass layers=[...]")
        self.layers = list(layers)
        self.image, self.layer = next(iter(self.images)), self.layers[0]
        self.forward_passes = 0
        self._cache: dict[str, dict[str, torch.Tensor]] = {}
        self.png: bytes | None = None

    # ------------------------------------------------------------------ data
    def features(self, image: str | None = None, layer: str | None = None) -> torch.Tensor:
        """Features ``(1, C, H, W)`` of the current (or given) image at the current (or given) layer."""
        image, layer = image or self.image, layer or self.layer
        if image not in self.images:
            raise KeyError(f"unknown image {image!r}; choose one of {', '.join(self.images)}")
        if layer not in self.layers:
            raise KeyError(f"unknown layer {layer!r}; choose one of {', '.join(self.layers)}")
        if image not in self._cache:
            img = self.images[image]
            with torch.no_grad():
                if self.encoder is None:
                    self._cache[image] = simple_features(img)
                else:
                    dev = next(self.encoder.parameters()).device
                    self._cache[image] = {k: v.cpu() for k, v in self.encoder(img.to(dev), layers=self.layers).items()}
            self.forward_passes += 1
        return self._cache[image][layer]

    def gram(self, image: str | None = None, layer: str | None = None) -> torch.Tensor:
        """The ``(C, C)`` Gram matrix of :meth:`features`."""
        return stats.gram(self.features(image, layer), self.normalize)[0]

    def network(self) -> str:
        """Which network drew the features, for the figure's title: the encoder's ``tag`` ("VGG-16", "RANDOM
        VGG-19" …, set by ``stylelab.course.feature_network``), its class name, or "no network"."""
        if self.encoder is None:
            return "no network (weight-free features)"
        return getattr(self.encoder, "tag", None) or type(self.encoder).__name__

    def top_channels(self) -> list[int]:
        """Indices of the ``n_maps`` channels with the largest mean activation (magnitude)."""
        f = self.features()[0]
        return f.abs().mean((1, 2)).argsort(descending=True)[: self.n_maps].tolist()

    def figure(self):
        """Feature maps of the most active channels (left) and the Gram matrix (right), in separate subfigures
        so no axis, title or colour bar overlaps another (a matplotlib figure)."""
        import matplotlib.pyplot as plt


        f = self.features()[0]
        chans = self.top_channels()
        ncols = 4
        nrows = max(2, (len(chans) + ncols - 1) // ncols)
        fig = plt.figure(figsize=(9.6, 1.9 * nrows + 0.6), layout="constrained")  # ≤ MAX_WIDTH px
        left, right = fig.subfigures(1, 2, width_ratios=[4, 2.6], wspace=0.04)
        axes = left.subplots(nrows, ncols, squeeze=False)
        for ax in axes.flat:
            ax.axis("off")
        for ax, ch in zip(axes.flat, chans):
            ax.imshow(to_numpy_image(f[ch]), cmap="viridis", interpolation="nearest")
            ax.set_title(f"channel {ch}", fontsize=8)
        left.suptitle(f"{self.image}: {self.layer} of {self.network()}, {f.shape[0]} channels at {f.shape[2]}×{f.shape[1]}",
                      fontsize=10)
        ax = right.subplots()
        g = self.gram()
        signed = bool((g < 0).any())
        # a Gram matrix is dominated by a few large (diagonal, high-mean) entries: on a linear scale the rest is
        # black. A log scale (non-negative Grams, e.g. of ReLU features) or a signed square-root scale shows its
        # structure; the colour bar keeps the values.
        scale = "sqrt" if signed else "log"
        heatmap(g, title=f"Gram of {self.layer} ({g.shape[0]}×{g.shape[0]}),\n{scale} colour scale", ax=ax,
                symmetric=signed, cmap="RdBu_r" if signed else "magma", scale=scale)
        return fig

    def compute(self) -> bytes:

        self.png = figure_to_png_bytes(self.figure())
        return self.png

    # ------------------------------------------------------------------ widget
    def _controls(self, W) -> dict:
        return {
            "image": W.Dropdown(options=list(self.images), description="image"),
            "layer": W.Dropdown(options=self.layers, description="layer"),
            "image_out": W.Image(format="png"),
        }

    def _show(self) -> None:
        show_png(self._c["image_out"], self.png)

    def _layout(self, W, c):
        return W.VBox([W.HBox([c["image"], c["layer"]]), c["image_out"]])
