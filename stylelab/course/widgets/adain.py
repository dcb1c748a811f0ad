"""AdaIN explorer: α, two-style interpolation and colour preservation, rendered on a Run button.

The logic lives in :class:`AdaINExplorer` (a :class:`~stylelab.course.widgets.base.Explorer`).
Encoder features are computed once per image; sliders only change settings,
and the (expensive) decoding runs when Run is pressed. Without a model
(``model=None``) the same controls drive AdaIN on *pixels* (mean/std colour
transfer), which needs no weights. The result is shown at its natural size, or reduced
by an integer factor (stated) so that it fits beside the controls in a 1366-px window.
"""

from __future__ import annotations

import torch

from ...features import transforms as T
from .base import MAX_WIDTH, Explorer, png_image, reduce, show_png, shrink_for

#: Width (px) of the column of controls left of the picture.
CONTROLS_WIDTH = 310
#: Longest side (px) of the result as shown: the picture and the controls together fit :data:`MAX_WIDTH`.
OUTPUT_SIDE = MAX_WIDTH - CONTROLS_WIDTH - 30


class AdaINExplorer(Explorer):
    """Headless-testable controller for AdaIN.

    Args:
        content: ``(1, 3, H, W)`` image.
        styles: ``{name: (1, 3, H', W') image}`` (at least one).
        model: an :class:`stylelab.methods.adain.AdaIN`, or ``None`` for pixel-space AdaIN.
        alpha, style_a, style_b, mix, preserve_colour: initial settings
            (``mix`` = weight of ``style_b`` in [0, 1]; defaults 1, first style, last style, 0, off).

    Attributes:
        the settings (:meth:`settings`); ``result``: the last rendered
        ``(1, 3, H, W)`` image (``None`` before the first run); ``runs``: renders so far.
    """

    SETTINGS = ("alpha", "style_a", "style_b", "mix", "preserve_colour")

    def __init__(self, content: torch.Tensor, styles: dict[str, torch.Tensor], model=None, *, alpha: float = 1.0,
                 style_a: str | None = None, style_b: str | None = None, mix: float = 0.0, preserve_colour: bool = False):
        if not styles:
            raise ValueError("give at least one style image: styles={'name': image}")
        self.content, self.styles, self.model = content, dict(styles), model
        names = list(self.styles)
        self.alpha, self.mix, self.preserve_colour = float(alpha), float(mix), bool(preserve_colour)
        self.style_a, self.style_b = style_a or names[0], style_b or names[-1]
        for s in (self.style_a, self.style_b):
            if s not in self.styles:
                raise KeyError(f"unknown style {s!r}; choose one of {', '.join(names)}")
        self._cache: dict = {}

    def _feat(self, key, image):
        if self.model is None:
            return image
        if key not in self._cache:
            with torch.no_grad():
                self._cache[key] = self.model.encode(image)
        return self._cache[key]

    def compute(self) -> torch.Tensor:
        """The image for the current settings."""
        if not 0.0 <= self.mix <= 1.0:
            raise ValueError(f"mix must lie in [0, 1], got {self.mix}")
        styles = [self.styles[self.style_a], self.styles[self.style_b]]
        keys = [("s", self.style_a), ("s", self.style_b)]
        if self.preserve_colour:
            styles = [T.coral(s, self.content) for s in styles]
            keys = [("pc", k[1]) for k in keys]
        cf = self._feat(("c",), self.content)
        sfs = [self._feat(k, s) for k, s in zip(keys, styles)]
        t = T.interpolate_styles(cf, sfs, [1.0 - self.mix, self.mix], "adain", alpha=self.alpha)
        with torch.no_grad():
            out = t if self.model is None else self.model.decoder(t)
        return out.clamp(0, 1)

    def describe(self) -> str:
        """What the picture shows, in words: where AdaIN ran, α, the styles actually used and the colour option."""
        where = "AdaIN on pixels (no network: each colour channel's mean and spread)" if self.model is None \
            else "AdaIN on the encoder's features, decoded"
        styles = (self.style_a if self.mix == 0 else self.style_b if self.mix == 1
                  else f"{1 - self.mix:.2f} × {self.style_a} + {self.mix:.2f} × {self.style_b}")
        colour = ("" if not self.preserve_colour else "; colour preserved (on pixels: nothing of the style is left)"
                  if self.model is None else "; colour preserved")
        return f"{where}; α = {self.alpha:g}; style: {styles}{colour}"

    # ------------------------------------------------------------------ widget
    def _controls(self, W) -> dict:
        names = list(self.styles)
        wide = W.Layout(width="280px")
        return {
            "alpha": W.FloatSlider(min=0, max=1, step=0.05, description="α", continuous_update=False, layout=wide),
            "style_a": W.Dropdown(options=names, description="style A", layout=wide),
            "style_b": W.Dropdown(options=names, description="style B", layout=wide),
            "mix": W.FloatSlider(min=0, max=1, step=0.05, description="A → B", continuous_update=False, layout=wide),
            "preserve_colour": W.Checkbox(description="preserve colour", indent=False),
            "where": W.HTML(),
            "status": W.HTML(value="press Run", layout=wide),
            "image": W.Image(format="png"),
        }

    def _enable(self) -> None:
        """Style B acts only when the mix is above 0 (and style A only below 1): the unused one is greyed out."""
        self._c["style_b"].disabled = self.mix == 0
        self._c["style_a"].disabled = self.mix == 1
        self._c["where"].value = ("<small>runs on <b>pixels</b> (no network)</small>" if self.model is None
                                  else "<small>runs on the encoder's features</small>")
        # on pixels, colour preservation leaves nothing of the style: its colours are first matched to the content's
        # (CORAL), and pixel AdaIN moves only colour statistics, so every style gives the same picture. A control
        # that makes the other controls dead is not shown.
        self._c["preserve_colour"].layout.display = "none" if self.model is None else None

    def _on_change(self, name, value) -> None:
        super()._on_change(name, value)
        self._enable()
        if self.result is not None:  # the picture no longer shows the settings: say so until Run
            self._c["status"].value = "<b>settings changed — press Run</b>"

    def _show(self) -> None:
        h, w = self.result.shape[-2:]
        k = shrink_for(h, w, OUTPUT_SIDE)
        png, zoom = png_image(reduce(self.result, k), None if k == 1 else 1)
        show_png(self._c["image"], png)
        self._c["status"].value = (f"{self.describe()}; {w}×{h} px"
                                   + (f", shown at 1/{k}" if k > 1 else "")
                                   + (f", shown ×{zoom} (nearest-neighbour)" if zoom > 1 else ""))

    def _layout(self, W, c):
        self._enable()
        controls = W.VBox([c["where"], c["style_a"], c["style_b"], c["mix"], c["alpha"], c["preserve_colour"], c["run"],
                           c["status"]], layout=W.Layout(width=f"{CONTROLS_WIDTH}px", flex=f"0 0 {CONTROLS_WIDTH}px"))
        return W.HBox([controls, c["image"]], layout=W.Layout(align_items="flex-start"))
