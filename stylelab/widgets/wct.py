"""WCT explorer: what the regularisation choices of each implementation do to the output covariance.

:class:`WCTExplorer` takes content and style features (or images: pixels are
3-channel features) and, on **Run**, applies :func:`stylelab.transforms.wct`
with the chosen preset, ``ε`` values and ``α``; it reports the relative error
``‖Cov(out) − Σ_s‖ / ‖Σ_s‖`` and draws the three covariance matrices.
"""

from __future__ import annotations

import torch

from .. import viz
from .. import transforms as T


class WCTExplorer:
    """Headless-testable controller.

    Args:
        content_feat, style_feat: ``(1, C, H, W)`` features (or images).
        decode: optional callable mapping the transformed features to an image
            shown beside the matrices (e.g. a decoder); for 3-channel inputs the
            features themselves are shown as an image.

    Attributes:
        preset, alpha, eps_content, eps_style: settings (``eps_* = None`` means the preset's).
        result: ``{"output": features, "cov_error": float, "figure_png": bytes}`` after :meth:`render`.
    """

    def __init__(self, content_feat: torch.Tensor, style_feat: torch.Tensor, decode=None):
        self.content, self.style, self.decode = content_feat, style_feat, decode
        self.preset, self.alpha = "exact", 1.0
        self.eps_content: float | None = None
        self.eps_style: float | None = None
        self.result: dict | None = None
        self._controls = None
        self.style_cov = T.covariance(style_feat)[0]

    def render(self) -> dict:
        out = T.wct(self.content, self.style, self.alpha, preset=self.preset,
                    eps_content=self.eps_content, eps_style=self.eps_style)
        cov = T.covariance(out)[0]
        err = float((cov - self.style_cov).norm() / self.style_cov.norm())
        self.result = {"output": out, "cov_error": err, "figure_png": self._figure(out, cov, err)}
        self._show()
        return self.result

    def _figure(self, out, cov, err) -> bytes:

        plt = viz._plt()
        image = None
        if self.decode is not None:
            with torch.no_grad():
                image = self.decode(out)
        elif out.shape[1] == 3:
            image = out.clamp(0, 1)
        n = 4 if image is not None else 3
        fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3))
        viz.heatmap(T.covariance(self.content)[0], "content Σ_c", ax=axes[0], colorbar=False)
        viz.heatmap(self.style_cov, "style Σ_s", ax=axes[1], colorbar=False)
        viz.heatmap(cov, f"output ({self.preset})\nrel. error {err:.3f}", ax=axes[2], colorbar=False)
        if image is not None:
            axes[3].imshow(viz.to_numpy_image(image))
            axes[3].axis("off")
            axes[3].set_title("output")
        return viz.figure_to_png_bytes(fig)

    def _show(self):
        if self._controls is not None and self.result is not None:
            self._controls["image"].value = self.result["figure_png"]
            self._controls["error"].value = f"relative covariance error: {self.result['cov_error']:.4f}"

    def widget(self):
        import ipywidgets as W

        c = {
            "preset": W.Dropdown(options=sorted(T.WCT_PRESETS), value=self.preset, description="preset"),
            "alpha": W.FloatSlider(value=self.alpha, min=0, max=1, step=0.05, description="α", continuous_update=False),
            "eps_content": W.FloatLogSlider(value=1.0, base=10, min=-6, max=1, description="ε content", continuous_update=False),
            "eps_style": W.FloatLogSlider(value=1.0, base=10, min=-6, max=1, description="ε style", continuous_update=False),
            "override": W.Checkbox(value=False, description="override the preset's ε"),
            "run": W.Button(description="Run", button_style="primary"),
            "error": W.Label(""),
            "image": W.Image(format="png"),
        }
        c["preset"].observe(lambda ch: setattr(self, "preset", ch["new"]), names="value")
        c["alpha"].observe(lambda ch: setattr(self, "alpha", ch["new"]), names="value")

        def eps_changed(_=None):
            on = c["override"].value
            self.eps_content = c["eps_content"].value if on else None
            self.eps_style = c["eps_style"].value if on else None

        for name in ("eps_content", "eps_style", "override"):
            c[name].observe(eps_changed, names="value")
        c["run"].on_click(lambda _: self.render())
        self._controls = c
        self._show()
        return W.VBox([W.HBox([c["preset"], c["alpha"]]), W.HBox([c["override"], c["eps_content"], c["eps_style"]]),
                       W.HBox([c["run"], c["error"]]), c["image"]])

    @property
    def controls(self) -> dict:
        if self._controls is None:
            self.widget()
        return self._controls
