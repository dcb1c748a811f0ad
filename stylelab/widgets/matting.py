"""Affinity explorer: pick a pixel, see how strongly the matting Laplacian ties it to its neighbours.

:class:`AffinityExplorer` builds the matting Laplacian of an image once per ε
(:func:`stylelab.matting.laplacian`) and shows, for a chosen pixel i, the
affinities W_ij = −L_ij (j ≠ i) as a map — non-zero only within two window radii,
large where j's colour is explained by the same local affine model as i's.
Row/column sliders pick the pixel (cheap, live); changing ε needs **Rebuild**.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import matting, viz


class AffinityExplorer:
    """Headless-testable controller.

    Args:
        image: (1, 3, H, W) RGB in [0, 1] (keep it small: 32–128 px).
        eps, radius: matting Laplacian parameters.

    Attributes:
        row, col: the chosen pixel. ``result`` after :meth:`render`:
        ``{"affinity": (H, W) array, "row", "col", "figure_png": bytes}``.
    """

    def __init__(self, image: torch.Tensor, eps: float = 1e-7, radius: int = 1):
        self.image = image
        self.h, self.w = image.shape[-2:]
        self.row, self.col = self.h // 2, self.w // 2
        self.radius = radius
        self.eps = eps
        self.L = None
        self.result: dict | None = None
        self._controls = None
        self.rebuild()

    def rebuild(self, eps: float | None = None):
        """(Re)build L for ``eps`` (the expensive step)."""
        if eps is not None:
            self.eps = float(eps)
        self.L = matting.laplacian(self.image, eps=self.eps, radius=self.radius).tocsr()
        return self.L

    def affinity_map(self, row: int, col: int) -> np.ndarray:
        """(H, W) map of W_ij = −L_ij for the pixel i = (row, col) (row-major index row·W + col); W_ii set to 0."""
        if not (0 <= row < self.h and 0 <= col < self.w):
            raise ValueError(f"pixel ({row}, {col}) is outside the {self.h}×{self.w} image")
        i = row * self.w + col
        out = -self.L.getrow(i).toarray().reshape(self.h, self.w)
        out[row, col] = 0.0
        return out

    def render(self) -> dict:
        aff = self.affinity_map(self.row, self.col)
        self.result = {"affinity": aff, "row": self.row, "col": self.col, "figure_png": self._figure(aff)}
        if self._controls is not None:
            self._controls["image"].value = self.result["figure_png"]
        return self.result

    def _figure(self, aff) -> bytes:

        plt = viz._plt()
        fig, axes = plt.subplots(1, 2, figsize=(7, 3.3))
        axes[0].imshow(viz.to_numpy_image(self.image))
        axes[0].plot([self.col], [self.row], "r+", markersize=14, mew=2)
        axes[0].set_title(f"pixel ({self.row}, {self.col})")
        m = np.abs(aff).max() or 1.0
        axes[1].imshow(aff, cmap="RdBu_r", vmin=-m, vmax=m)
        axes[1].set_title(f"affinity W_ij, ε={self.eps:.0e}")
        for ax in axes:
            ax.axis("off")
        fig.tight_layout()
        return viz.figure_to_png_bytes(fig)

    def widget(self):
        import ipywidgets as W

        c = {
            "row": W.IntSlider(value=self.row, min=0, max=self.h - 1, description="row", continuous_update=False),
            "col": W.IntSlider(value=self.col, min=0, max=self.w - 1, description="column", continuous_update=False),
            "eps": W.FloatLogSlider(value=self.eps, base=10, min=-8, max=-1, description="ε", continuous_update=False),
            "rebuild": W.Button(description="Rebuild L", tooltip="recompute the Laplacian for the new ε"),
            "image": W.Image(format="png"),
        }
        self._controls = c

        def on_pixel(change):
            self.row, self.col = c["row"].value, c["col"].value
            self.render()

        def on_rebuild(_):
            self.rebuild(c["eps"].value)
            self.render()

        c["row"].observe(on_pixel, names="value")
        c["col"].observe(on_pixel, names="value")
        c["rebuild"].on_click(on_rebuild)
        self.render()
        return W.VBox([W.HBox([c["row"], c["col"]]), W.HBox([c["eps"], c["rebuild"]]), c["image"]])
