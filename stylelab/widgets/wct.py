"""WCT explorer: what the regularisation choices of each implementation do to the output covariance.

:class:`WCTExplorer` (a :class:`~stylelab.widgets.base.Explorer`) takes content
and style features (or images: pixels are 3-channel features) and, on **Run**,
applies :func:`stylelab.transforms.wct` with the chosen preset, ``ε`` values and
``α``; it reports the relative error ``‖Cov(out) − Σ_s‖ / ‖Σ_s‖`` and draws the
three covariance matrices.
"""

from __future__ import annotations

import torch

from .. import viz
from .. import transforms as T
from .base import Explorer, show_png


class WCTExplorer(Explorer):
    """Headless-testable controller.

    Args:
        content_feat, style_feat: ``(1, C, H, W)`` features (or images).
        decode: optional callable mapping the transformed features to an image
            shown beside the matrices (e.g. a decoder); for 3-channel inputs the
            features themselves are shown as an image.

    Settings: ``preset``, ``alpha``, ``override`` (use ``eps_content`` /
    ``eps_style`` instead of the preset's ε), ``eps_content``, ``eps_style``.
    The ε controls always show a number; it is used only while ``override`` is on.

    Attributes:
        result: ``{"output": features, "cov_error": float, "figure_png": bytes}`` after :meth:`render`.
    """

    SETTINGS = ("preset", "alpha", "override", "eps_content", "eps_style")

    def __init__(self, content_feat: torch.Tensor, style_feat: torch.Tensor, decode=None, *, preset: str = "exact",
                 alpha: float = 1.0, override: bool = False, eps_content: float = 1.0, eps_style: float = 1.0):
        if preset not in T.WCT_PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(sorted(T.WCT_PRESETS))}")
        self.content, self.style, self.decode = content_feat, style_feat, decode
        self.preset, self.alpha, self.override = preset, float(alpha), bool(override)
        self.eps_content, self.eps_style = float(eps_content), float(eps_style)
        self.style_cov = T.covariance(style_feat)[0]

    def compute(self) -> dict:
        eps = dict(eps_content=self.eps_content, eps_style=self.eps_style) if self.override else {}
        out = T.wct(self.content, self.style, self.alpha, preset=self.preset, **eps)
        cov = T.covariance(out)[0]
        err = float((cov - self.style_cov).norm() / self.style_cov.norm())
        return {"output": out, "cov_error": err, "figure_png": self._figure(out, cov, err)}

    def _figure(self, out, cov, err) -> bytes:

        plt = viz._plt()
        image = None
        if self.decode is not None:
            with torch.no_grad():
                image = self.decode(out)
        elif out.shape[1] == 3:
            image = out.clamp(0, 1)
        n = 4 if image is not None else 3
        fig, axes = plt.subplots(1, n, figsize=(2.4 * n, 2.6), layout="constrained")  # ≤ MAX_WIDTH px
        viz.heatmap(T.covariance(self.content)[0], "content Σ_c", ax=axes[0], colorbar=False)
        viz.heatmap(self.style_cov, "style Σ_s", ax=axes[1], colorbar=False)
        eps = f"ε = {self.eps_content:g}, {self.eps_style:g}" if self.override else "preset ε"
        viz.heatmap(cov, f"output ({self.preset}, {eps})\nrel. error {err:.3f}", ax=axes[2], colorbar=False)
        if image is not None:
            axes[3].imshow(viz.to_numpy_image(image), interpolation="nearest")
            axes[3].axis("off")
            axes[3].set_title(f"output ({image.shape[-1]}×{image.shape[-2]} px)")
        return viz.figure_to_png_bytes(fig)

    # ------------------------------------------------------------------ widget
    def _controls(self, W) -> dict:
        return {
            "preset": W.Dropdown(options=sorted(T.WCT_PRESETS), description="preset"),
            "alpha": W.FloatSlider(min=0, max=1, step=0.05, description="α", continuous_update=False),
            "eps_content": W.FloatLogSlider(base=10, min=-6, max=1, description="ε content", continuous_update=False),
            "eps_style": W.FloatLogSlider(base=10, min=-6, max=1, description="ε style", continuous_update=False),
            "override": W.Checkbox(description="override the preset's ε"),
            "image": W.Image(format="png"),
        }  # the base class adds Run and the status label ("press Run")

    def _on_change(self, name, value) -> None:
        super()._on_change(name, value)
        if self.result is not None:  # the figure no longer shows the settings: say so until Run
            self._c["status"].value = "settings changed: press Run"

    def _show(self) -> None:
        show_png(self._c["image"], self.result["figure_png"])
        self._c["status"].value = f"relative covariance error: {self.result['cov_error']:.4f}"

    def _layout(self, W, c):
        return W.VBox([W.HBox([c["preset"], c["alpha"]]), W.HBox([c["override"], c["eps_content"], c["eps_style"]]),
                       W.HBox([c["run"], c["status"]]), c["image"]])
