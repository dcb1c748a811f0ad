"""Gatys explorer: weight sliders, start image and colour options, optimisation on a Run button.

The logic lives in :class:`GatysExplorer`; :meth:`GatysExplorer.widget`
builds the layout. Moving a slider only changes a setting; the optimisation
(expensive) runs when **Run** is pressed, with live previews through the
method's callback.
"""

from __future__ import annotations

import torch

from ..methods import gatys
from ..viz import figure_to_png_bytes, plot_curves, to_png_bytes


class GatysExplorer:
    """Headless-testable controller for :func:`stylelab.methods.gatys.stylize`.

    Args:
        content, style: ``(1, 3, H, W)`` images (kept small: this optimises pixels).
        config: the base :class:`~stylelab.methods.gatys.GatysConfig` or preset name.
        encoder: the VGG-19 to use (default: the config's, cached).
        preview_every: evaluations between live previews.

    Attributes:
        log_ratio: ``log10(β/α)``, the style/content trade-off (α stays the config's).
        log_tv: ``log10`` of the TV weight (``None`` or ≤ −9: no TV).
        steps, init, preserve_colour, style_loss: the other settings.
        result: the last :class:`~stylelab.methods.gatys.GatysResult`; ``runs``: Run presses.
    """

    def __init__(self, content: torch.Tensor, style: torch.Tensor, config="paper", encoder=None,
                 steps: int = 50, preview_every: int = 10):
        self.content, self.style, self.encoder = content, style, encoder
        self.base = gatys.preset(config) if isinstance(config, str) else config
        ratio = self.base.style_weight / self.base.content_weight
        self.log_ratio = round(float(torch.tensor(ratio).log10()), 1)
        self.log_tv = -10.0
        self.steps, self.init, self.preserve_colour, self.style_loss = steps, self.base.init, "none", self.base.style_loss
        self.preview_every = preview_every
        self.result: gatys.GatysResult | None = None
        self.previews = 0
        self.runs = 0
        self._controls = None

    def config(self) -> gatys.GatysConfig:
        """The :class:`GatysConfig` the current settings describe."""
        return self.base.replace(
            style_weight=self.base.content_weight * 10.0 ** self.log_ratio,
            tv_weight=0.0 if self.log_tv <= -9 else 10.0 ** self.log_tv,
            steps=int(self.steps), init=self.init, style_loss=self.style_loss,
        )

    def _preview(self, i, image, losses):
        self.previews += 1
        if self._controls is not None:

            self._controls["image"].value = to_png_bytes(image)
            self._controls["status"].value = f"evaluation {i}: total {losses['total']:.3g}"

    def run(self) -> gatys.GatysResult:
        """Optimise with the current settings (the Run button)."""
        pc = None if self.preserve_colour == "none" else self.preserve_colour
        self.result = gatys.stylize(self.content, self.style, self.config(), encoder=self.encoder,
                                    preserve_colour=pc, callback=self._preview, callback_every=self.preview_every,
                                    progress=False)
        self.runs += 1
        if self._controls is not None:

            self._controls["image"].value = to_png_bytes(self.result.image)
            h = {k: v for k, v in self.result.history.items() if k != "total" and max(v, default=0) > 0}
            self._controls["curves"].value = figure_to_png_bytes(plot_curves(h, xlabel="evaluation", title="weighted losses"))
            self._controls["status"].value = f"done: {self.result.evaluations} evaluations in {self.result.seconds:.1f} s"
        return self.result

    def widget(self):
        """Sliders and dropdowns (no computation on change) and a Run button."""
        import ipywidgets as W

        c = {
            "log_ratio": W.FloatSlider(value=self.log_ratio, min=-2, max=8, step=0.5, description="log₁₀ β/α",
                                       continuous_update=False),
            "log_tv": W.FloatSlider(value=self.log_tv, min=-10, max=2, step=0.5, description="log₁₀ TV",
                                    continuous_update=False),
            "steps": W.IntSlider(value=self.steps, min=5, max=500, step=5, description="evaluations",
                                 continuous_update=False),
            "init": W.Dropdown(options=["content", "noise", "style"], value=self.init, description="start"),
            "preserve_colour": W.Dropdown(options=["none", "luminance", "histogram"], value=self.preserve_colour,
                                          description="colour"),
            "style_loss": W.Dropdown(options=["gram", "mmd", "moments", "histogram"], value=self.style_loss,
                                     description="style loss"),
            "run": W.Button(description="Run", button_style="primary"),
            "status": W.Label(value="press Run"),
            "image": W.Image(format="png"),
            "curves": W.Image(format="png"),
        }
        for name in ("log_ratio", "log_tv", "steps", "init", "preserve_colour", "style_loss"):
            c[name].observe(lambda ch, n=name: setattr(self, n, ch["new"]), names="value")
        c["run"].on_click(lambda _: self.run())
        self._controls = c
        return W.VBox([
            W.HBox([c["log_ratio"], c["log_tv"], c["steps"]]),
            W.HBox([c["init"], c["preserve_colour"], c["style_loss"]]),
            W.HBox([c["run"], c["status"]]),
            W.HBox([c["image"], c["curves"]]),
        ])

    @property
    def controls(self) -> dict:
        """The widgets by name (after :meth:`widget`)."""
        if self._controls is None:
            self.widget()
        return self._controls
