"""AdaIN explorer: α, two-style interpolation and colour preservation, rendered on a Run button.

The logic lives in :class:`AdaINExplorer`; :meth:`AdaINExplorer.widget` builds
the ipywidgets layout. Encoder features are computed once per image; sliders
only change settings, and the (expensive) decoding runs when Run is pressed.
Without a model (``model=None``) the same controls drive AdaIN on *pixels*
(mean/std colour transfer), which needs no weights.
"""

from __future__ import annotations

import torch

from .. import transforms as T
from ..viz import to_png_bytes


class AdaINExplorer:
    """Headless-testable controller for AdaIN.

    Args:
        content: ``(1, 3, H, W)`` image.
        styles: ``{name: (1, 3, H', W') image}`` (at least one).
        model: an :class:`stylelab.AdaIN`, or ``None`` for pixel-space AdaIN.

    Attributes:
        alpha, style_a, style_b, mix, preserve_color: the current settings
            (``mix`` = weight of ``style_b`` in [0, 1]).
        result: the last rendered ``(1, 3, H, W)`` image (``None`` before the first run).
        runs: number of renders so far.
    """

    def __init__(self, content: torch.Tensor, styles: dict[str, torch.Tensor], model=None):
        if not styles:
            raise ValueError("give at least one style image: styles={'name': image}")
        self.content, self.styles, self.model = content, dict(styles), model
        names = list(self.styles)
        self.alpha, self.style_a, self.style_b, self.mix, self.preserve_color = 1.0, names[0], names[-1], 0.0, False
        self.result: torch.Tensor | None = None
        self.runs = 0
        self._cache: dict = {}
        self._controls = None

    def _feat(self, key, image):
        if self.model is None:
            return image
        if key not in self._cache:
            with torch.no_grad():
                self._cache[key] = self.model.encode(image)
        return self._cache[key]

    def render(self) -> torch.Tensor:
        """Compute the image for the current settings (stores it in :attr:`result`)."""
        if not 0.0 <= self.mix <= 1.0:
            raise ValueError(f"mix must lie in [0, 1], got {self.mix}")
        styles = [self.styles[self.style_a], self.styles[self.style_b]]
        keys = [("s", self.style_a), ("s", self.style_b)]
        if self.preserve_color:
            styles = [T.coral(s, self.content) for s in styles]
            keys = [("pc", k[1]) for k in keys]
        cf = self._feat(("c",), self.content)
        sfs = [self._feat(k, s) for k, s in zip(keys, styles)]
        t = T.interpolate_styles(cf, sfs, [1.0 - self.mix, self.mix], "adain", alpha=self.alpha)
        with torch.no_grad():
            out = t if self.model is None else self.model.decoder(t)
        self.result = out.clamp(0, 1)
        self.runs += 1
        self._show()
        return self.result

    def _show(self):
        if self._controls is not None and self.result is not None:

            self._controls["image"].value = to_png_bytes(self.result)

    def widget(self):
        """The ipywidgets layout: sliders/dropdowns set values; **Run** renders."""
        import ipywidgets as W

        names = list(self.styles)
        c = {
            "alpha": W.FloatSlider(value=self.alpha, min=0, max=1, step=0.05, description="α", continuous_update=False),
            "style_a": W.Dropdown(options=names, value=self.style_a, description="style A"),
            "style_b": W.Dropdown(options=names, value=self.style_b, description="style B"),
            "mix": W.FloatSlider(value=self.mix, min=0, max=1, step=0.05, description="A → B", continuous_update=False),
            "preserve_color": W.Checkbox(value=self.preserve_color, description="preserve colour"),
            "run": W.Button(description="Run", button_style="primary"),
            "image": W.Image(format="png"),
        }
        for name in ("alpha", "style_a", "style_b", "mix", "preserve_color"):
            c[name].observe(lambda ch, n=name: setattr(self, n, ch["new"]), names="value")
        c["run"].on_click(lambda _: self.render())
        self._controls = c
        self._show()
        return W.VBox([W.HBox([c["style_a"], c["style_b"]]), W.HBox([c["alpha"], c["mix"]]),
                       W.HBox([c["preserve_color"], c["run"]]), c["image"]])

    @property
    def controls(self) -> dict:
        """The widgets by name (after :meth:`widget`)."""
        if self._controls is None:
            self.widget()
        return self._controls
