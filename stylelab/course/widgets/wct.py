"""WCT explorer: what the regularisation choices of each implementation do to the output covariance.

:class:`WCTExplorer` (a :class:`~stylelab.course.widgets.base.Explorer`) takes content
and style features (or images: pixels are 3-channel features) and, on **Run**,
applies :func:`stylelab.features.transforms.wct` with the chosen preset, ``ε`` values and
``α``; it reports the relative error ``‖Cov(out) − Σ_s‖ / ‖Σ_s‖`` and draws the
three covariance matrices.
"""

from __future__ import annotations

import torch

from ... import viz
from ...features import transforms as T
from ...features import linalg
from ...features import whitening
from .base import Explorer, png_image, reduce, show_png, shrink_for


#: Longest side of the output picture, drawn under the covariance maps (as wide as they are): a 512² output at 1:1.
OUTPUT_SIDE = 640


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
        if preset not in whitening.WCT_PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(sorted(whitening.WCT_PRESETS))}")
        self.content, self.style, self.decode = content_feat, style_feat, decode
        self.preset, self.alpha, self.override = preset, float(alpha), bool(override)
        self.eps_content, self.eps_style = float(eps_content), float(eps_style)
        self.style_cov = linalg.covariance(style_feat)[0]

    def compute(self) -> dict:
        eps = dict(eps_content=self.eps_content, eps_style=self.eps_style) if self.override else {}
        out = T.wct(self.content, self.style, self.alpha, preset=self.preset, **eps)
        cov = linalg.covariance(out)[0]
        err = float((cov - self.style_cov).norm() / self.style_cov.norm())
        image = self.output_image(out)
        picture, zoom = None, 1
        if image is not None:
            picture, zoom = png_image(reduce(image, shrink_for(*image.shape[-2:], OUTPUT_SIDE)))
        return {"output": out, "cov_error": err, "figure_png": self._figure(out, cov, err), "image_png": picture,
                "image_size": None if image is None else tuple(image.shape[-2:]), "image_zoom": zoom}

    def _figure(self, out, cov, err) -> bytes:
        """The three covariance matrices on **one** colour scale (symmetric about 0, the largest |entry| of the
        three) with one colour bar, so equal colours are equal numbers and an error shows as a colour difference."""
        plt = viz._plt()
        mats = [linalg.covariance(self.content)[0], self.style_cov, cov]
        vmax = max(float(m.abs().max()) for m in mats) or 1.0
        fig, axes = plt.subplots(1, 3, figsize=(6.2, 2.5), layout="constrained")  # fits beside the controls at 1366 px
        eps = f"ε = {self.eps_content:.3g}, {self.eps_style:.3g}" if self.override else "preset ε"
        titles = ["content Σ_c", "style Σ_s", f"output ({self.preset}, {eps})\nrel. error {err:.3f}"]
        for ax, m, title in zip(axes, mats, titles):
            im = ax.imshow(m.detach().cpu().float().numpy(), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.set_title(title, fontsize=9)
            ax.set_xticks([]), ax.set_yticks([])
        fig.colorbar(im, ax=list(axes), shrink=0.85, label="covariance (one scale)")
        return viz.figure_to_png_bytes(fig)

    def output_image(self, out) -> torch.Tensor | None:
        """The picture of the output: ``decode(out)``, or the features themselves when they are 3-channel pixels."""
        if self.decode is not None:
            with torch.no_grad():
                return self.decode(out).clamp(0, 1)
        return out.clamp(0, 1) if out.shape[1] == 3 else None

    # ------------------------------------------------------------------ widget
    def _controls(self, W) -> dict:
        wide = W.Layout(width="280px")
        return {
            "preset": W.Dropdown(options=sorted(whitening.WCT_PRESETS), description="preset", layout=wide),
            "alpha": W.FloatSlider(min=0, max=1, step=0.05, description="α", continuous_update=False, layout=wide),
            "eps_content": W.FloatLogSlider(base=10, min=-6, max=1, description="ε content", continuous_update=False,
                                            layout=wide),
            "eps_style": W.FloatLogSlider(base=10, min=-6, max=1, description="ε style", continuous_update=False,
                                          layout=wide),
            "override": W.Checkbox(description="override the preset's ε", indent=False),
            "image": W.Image(format="png"),
            "output": W.Image(format="png"),
            "caption": W.HTML(),
            "status": W.HTML(value="press Run", layout=wide),
        }  # the base class adds Run

    def _on_change(self, name, value) -> None:
        super()._on_change(name, value)
        self._eps_enabled()
        if self.result is not None:  # the figure no longer shows the settings: say so until Run
            self._c["status"].value = "<b>settings changed — press Run</b>"

    def _eps_enabled(self) -> None:
        """The ε sliders act only while ``override`` is on: they say so (greyed out) when it is off."""
        for k in ("eps_content", "eps_style"):
            self._c[k].disabled = not self.override

    def _show(self) -> None:
        r = self.result
        show_png(self._c["image"], r["figure_png"])
        if r["image_png"] is not None:
            show_png(self._c["output"], r["image_png"])
            h, w = r["image_size"]
            k = shrink_for(h, w, OUTPUT_SIDE)
            z = r["image_zoom"]
            self._c["caption"].value = (f"<small>output, {w}×{h} px" + (f", shown at 1/{k}" if k > 1 else "")
                                        + (f", shown ×{z} (nearest-neighbour)" if z > 1 else "") + "</small>")
        eps = (f"ε = {self.eps_content:.3g} (content), {self.eps_style:.3g} (style)" if self.override
               else "the preset's ε")
        self._c["status"].value = (f"ran: {self.preset}, α = {self.alpha:g}, {eps}; "
                                   f"relative covariance error {r['cov_error']:.4f}")

    def _layout(self, W, c):
        self._eps_enabled()
        controls = W.VBox([c["preset"], c["alpha"], c["override"], c["eps_content"], c["eps_style"], c["run"],
                           c["status"]], layout=W.Layout(width="310px", flex="0 0 310px"))
        pictures = W.VBox([c["image"], W.VBox([c["caption"], c["output"]])])
        return W.HBox([controls, pictures], layout=W.Layout(align_items="flex-start"))
