"""Affinity explorer: pick a pixel, see how strongly the matting Laplacian ties it to its neighbours.

:class:`AffinityExplorer` (a :class:`~stylelab.course.widgets.base.Explorer`) builds the
matting Laplacian of an image once per ε (:func:`stylelab.smoothing.matting.laplacian`) and
shows, for a chosen pixel i, the affinities W_ij = −L_ij (j ≠ i) as a map —
non-zero only within two window radii, large where j's colour is explained by the
same local affine model as i's. Row/column sliders pick the pixel (cheap, live);
a new ε is used when **Rebuild L** is pressed (the figure's title names the ε it shows).
"""

from __future__ import annotations

import numpy as np
import torch

from ...smoothing import matting
from ... import viz
from .base import Explorer, show_png


class AffinityExplorer(Explorer):
    """Headless-testable controller.

    Args:
        image: (1, 3, H, W) RGB in [0, 1] (keep it small: 32–128 px).
        eps, radius: matting Laplacian parameters.

    Attributes:
        row, col, eps: the settings. ``result`` after :meth:`render`:
        ``{"affinity": (H, W) array, "row", "col", "eps", "figure_png": bytes}``.
    """

    SETTINGS = ("row", "col", "eps")

    def __init__(self, image: torch.Tensor, eps: float = 1e-7, radius: int = 1):
        self.image = image
        self.h, self.w = image.shape[-2:]
        self.row, self.col = self.h // 2, self.w // 2
        self.radius = radius
        self.eps = float(eps)
        self.L = None
        self._L_eps = None
        self.rebuild()

    def rebuild(self, eps: float | None = None):
        """(Re)build L for ``eps`` (default: the current setting) — the expensive step."""
        if eps is not None:
            self.eps = float(eps)
        self.L = matting.laplacian(self.image, eps=self.eps, radius=self.radius).tocsr()
        self._L_eps = self.eps
        return self.L

    def affinity_map(self, row: int, col: int) -> np.ndarray:
        """(H, W) map of W_ij = −L_ij for the pixel i = (row, col) (row-major index row·W + col); W_ii set to 0."""
        if not (0 <= row < self.h and 0 <= col < self.w):
            raise ValueError(f"pixel ({row}, {col}) is outside the {self.h}×{self.w} image")
        i = row * self.w + col
        out = -self.L.getrow(i).toarray().reshape(self.h, self.w)
        out[row, col] = 0.0
        return out

    def compute(self) -> dict:
        if self._L_eps != self.eps:
            self.rebuild()
        aff = self.affinity_map(self.row, self.col)
        return {"affinity": aff, "row": self.row, "col": self.col, "eps": self.eps, "figure_png": self._figure(aff)}

    def _figure(self, aff) -> bytes:

        plt = viz._plt()
        fig, axes = plt.subplots(1, 2, figsize=(6.2, 3.0))
        axes[0].imshow(viz.to_numpy_image(self.image), interpolation="nearest")
        axes[0].plot([self.col], [self.row], "r+", markersize=14, mew=2)
        axes[0].set_title(f"pixel ({self.row}, {self.col}) of {self.w}×{self.h}")
        m = np.abs(aff).max() or 1.0
        im = axes[1].imshow(aff, cmap="RdBu_r", vmin=-m, vmax=m, interpolation="nearest")
        fig.colorbar(im, ax=axes[1], fraction=0.046, pad=0.04)
        axes[1].set_title(f"affinity W_ij, ε = {self.eps:.3g}")
        for ax in axes:
            ax.axis("off")
        fig.tight_layout()
        return viz.figure_to_png_bytes(fig)

    # ------------------------------------------------------------------ widget
    def _controls(self, W) -> dict:
        rebuild = W.Button(description="Rebuild L", tooltip="recompute the Laplacian for the new ε")
        return {
            "rebuild": rebuild,
            "row": W.IntSlider(min=0, max=self.h - 1, description="row", continuous_update=False),
            "col": W.IntSlider(min=0, max=self.w - 1, description="column", continuous_update=False),
            "eps": W.FloatLogSlider(base=10, min=-8, max=-1, description="ε", continuous_update=False),
            "run": rebuild,  # the base class's Run button: run() below
            "image": W.Image(format="png"),
            "status": W.HTML(),  # wraps (a Label would be cut): the status names the ε in use
        }

    def _on_change(self, name, value) -> None:
        setattr(self, name, value)
        if name in ("row", "col"):
            self.render()
        elif self._c is not None:
            self._c["status"].value = f"ε changed to {self.eps:.3g} — press Rebuild L (the picture shows ε = {self._L_eps:.3g})"

    def run(self):
        """**Rebuild L**: render with the new ε; nothing to do when L is already built for it.

        The row and column sliders render at once, so after a pixel change the
        picture is already current: pressing Rebuild L (as the browser check and
        students do after any change) used to render the same figure a second time.
        """
        shown = None if self.result is None else (self.result["row"], self.result["col"], self.result["eps"])
        if shown == (self.row, self.col, self.eps) and self._L_eps == self.eps:
            if self._c is not None:
                self._c["status"].value = f"L is already built with ε = {self.eps:.3g}"
            return self.result
        return self.render()

    def widget(self):
        box = super().widget()
        self.render()
        return box

    def _show(self) -> None:
        show_png(self._c["image"], self.result["figure_png"])
        self._c["status"].value = f"L built with ε = {self.result['eps']:.3g}"

    def _layout(self, W, c):
        for k in ("row", "col", "eps"):
            c[k].layout.width = "280px"
        c["status"].layout.width = "280px"
        controls = W.VBox([c["row"], c["col"], c["eps"], c["run"], c["status"]],
                          layout=W.Layout(width="310px", flex="0 0 310px"))
        return W.HBox([controls, c["image"]], layout=W.Layout(align_items="flex-start"))
