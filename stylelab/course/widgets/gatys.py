"""Gatys explorer: weight sliders, start image and colour options, optimisation on a Run button.

The logic lives in :class:`GatysExplorer` (a :class:`~stylelab.course.widgets.base.Explorer`);
moving a slider only changes a setting; the optimisation (expensive) runs when
**Run** is pressed, with live previews through the method's callback. The
result is shown at its natural size (small results enlarged by a stated
integer zoom, nearest-neighbour).
"""

from __future__ import annotations

import math

import torch

from ...methods import gatys
from ...viz import figure_to_png_bytes, plot_curves
from .base import Explorer, png_image, show_png

INITS = ("content", "noise", "style")
COLOUR = ("none", "luminance", "histogram")
STYLE_LOSSES = ("gram", "mmd", "moments", "histogram")
#: The TV slider's lowest position, and the only one that means "no TV term": every other step is a real weight,
#: ``10^log_tv`` times the content weight α (like β/α: weights whose first steps already act against α·content).
TV_OFF = 0.0


class GatysExplorer(Explorer):
    """Headless-testable controller for :func:`stylelab.methods.gatys.run`.

    Args:
        content, style: ``(1, 3, H, W)`` images (kept small: this optimises pixels).
        config: the base :class:`~stylelab.methods.gatys.GatysConfig` or preset name.
        encoder: the VGG-19 to use (default: the config's, cached).
        steps: loss evaluations per Run.
        log_ratio: ``log10(β/α)`` (default: the config's ratio, rounded to the slider's 0.5 grid).
        init, preserve_colour, style_loss, log_tv: the other settings (defaults: the config's; no TV:
            ``log_tv`` = :data:`TV_OFF`, the slider's lowest position, is the only "off").
        preview_every: evaluations between live previews.

    Attributes:
        the settings above (:meth:`settings`); ``result``: the last
        :class:`~stylelab.methods.gatys.GatysResult`; ``runs``: Run presses;
        ``previews``: live previews drawn.
    """

    SETTINGS = ("log_ratio", "log_tv", "steps", "init", "preserve_colour", "style_loss")

    def __init__(self, content: torch.Tensor, style: torch.Tensor, config="paper", encoder=None,
                 steps: int = 50, preview_every: int = 10, *, log_ratio: float | None = None,
                 init: str | None = None, preserve_colour: str = "none", style_loss: str | None = None,
                 log_tv: float = TV_OFF):
        self.content, self.style, self.encoder = content, style, encoder
        self.base = gatys.preset(config) if isinstance(config, str) else config
        if log_ratio is None:
            log_ratio = round(2 * math.log10(self.base.style_weight / self.base.content_weight)) / 2
        self.log_ratio, self.log_tv, self.steps = float(log_ratio), float(log_tv), int(steps)
        self.init = init or self.base.init
        self.preserve_colour = preserve_colour
        self.style_loss = style_loss or self.base.style_loss
        for name, value, allowed in (("init", self.init, INITS), ("preserve_colour", preserve_colour, COLOUR),
                                     ("style_loss", self.style_loss, STYLE_LOSSES)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        self.preview_every = preview_every
        self.previews = 0

    def config(self) -> gatys.GatysConfig:
        """The :class:`GatysConfig` the current settings describe."""
        return self.base.replace(
            style_weight=self.base.content_weight * 10.0 ** self.log_ratio,
            tv_weight=0.0 if self.log_tv <= TV_OFF else self.base.content_weight * 10.0 ** self.log_tv,
            steps=int(self.steps), init=self.init, style_loss=self.style_loss,
            # "mmd" with the default quadratic kernel is the Gram loss times a constant (Li et al., IJCAI 2017): the
            # same picture. The explorer offers the Gaussian kernel, a loss that is not the Gram's (unless the base
            # configuration already chose an MMD kernel), with Li et al.'s linear-time estimator: every pair of
            # positions cost 45 s per evaluation at 128 px on a CPU (0.4 s for the Gram loss), a Run half an hour.
            **({"mmd_kernel": "gaussian", "mmd_estimator": "linear"}
               if self.style_loss == "mmd" and self.base.style_loss != "mmd" else {}),
        )

    def _preview(self, i, image, losses):
        self.previews += 1
        if self._c is not None:
            show_png(self._c["image"], png_image(image)[0])
            self._c["status"].value = f"evaluation {i}: total {losses['total']:.3g}"

    def compute(self) -> gatys.GatysResult:
        pc = None if self.preserve_colour == "none" else self.preserve_colour
        return gatys.run(self.content, self.style, self.config(), encoder=self.encoder, preserve_colour=pc,
                         callback=self._preview, callback_every=self.preview_every, progress=False)

    def run(self) -> gatys.GatysResult:
        """Optimise with the current settings (the Run button) — :meth:`render`."""
        return self.render()

    def describe(self) -> str:
        """The settings a run uses, in words (the status line after Run)."""
        conf = self.config()
        tv = "TV off" if conf.tv_weight == 0 else f"TV {conf.tv_weight:.3g}"
        return (f"β/α = 10^{self.log_ratio:g}, {tv}, {conf.steps} evaluations, start: {self.init}, "
                f"colour: {self.preserve_colour}, style loss: {self._loss_name()}")

    def _loss_name(self) -> str:
        conf = self.config()
        if self.style_loss != "mmd":
            return self.style_loss
        how = ", linear-time estimate" if conf.mmd_estimator == "linear" else ""
        return f"MMD ({conf.mmd_kernel} kernel{how})"

    # ------------------------------------------------------------------ widget
    def _controls(self, W) -> dict:
        wide = W.Layout(width="280px")
        return {
            "log_ratio": W.FloatSlider(min=-2, max=8, step=0.5, description="log₁₀ β/α", continuous_update=False,
                                       layout=wide),
            # no number readout: "0.00" would read as a weight at the position that means off; the note says
            "log_tv": W.FloatSlider(min=TV_OFF, max=8, step=0.5, description="log₁₀ TV/α", continuous_update=False,
                                    readout=False, layout=wide),
            "steps": W.IntSlider(min=5, max=500, step=5, description="evaluations", continuous_update=False,
                                 layout=wide),
            "init": W.Dropdown(options=list(INITS), description="start", layout=wide),
            "preserve_colour": W.Dropdown(options=list(COLOUR), description="colour", layout=wide),
            "style_loss": W.Dropdown(options=list(STYLE_LOSSES), description="style loss", layout=wide),
            "tv_note": W.HTML(),
            "loss_note": W.HTML(),
            "status": W.HTML(value="press Run", layout=wide),
            "image": W.Image(format="png"),
            "curves": W.Image(format="png"),
        }

    def _tv_note(self) -> None:
        conf = self.config()
        self._c["tv_note"].value = ("<small>TV: off (the slider's lowest position)</small>" if conf.tv_weight == 0
                                    else f"<small>TV: log₁₀ TV/α = {self.log_tv:g}, TV weight "
                                         f"{conf.tv_weight:.3g}</small>")
        self._c["loss_note"].value = f"<small>style loss: {self._loss_name()}</small>"

    def _on_change(self, name, value) -> None:
        super()._on_change(name, value)
        self._tv_note()
        if self.result is not None:  # the picture no longer shows the settings: say so until Run
            self._c["status"].value = "<b>settings changed — press Run</b>"

    def _show(self) -> None:

        r = self.result
        png, zoom = png_image(r.image)
        show_png(self._c["image"], png)
        h = {k: v for k, v in r.history.items() if k != "total" and max(v, default=0) > 0}
        net = getattr(self.encoder, "tag", None)  # which network drew it (stylelab.course.feature_network's tag)
        fig = plot_curves(h, xlabel="evaluation", title="weighted losses" + (f" ({net})" if net else ""))
        fig.set_size_inches(4, 3)
        show_png(self._c["curves"], figure_to_png_bytes(fig))
        hh, ww = r.image.shape[-2:]
        shown = f"{ww}×{hh} px" + (f", shown ×{zoom}" if zoom > 1 else "")
        where = f" on {net}" if net else ""
        self._c["status"].value = (f"done{where}: {r.evaluations} evaluations in {r.seconds:.1f} s ({shown}); "
                                   f"{self.describe()}")

    def _layout(self, W, c):
        self._tv_note()
        controls = W.VBox([c["log_ratio"], c["log_tv"], c["tv_note"], c["steps"], c["init"], c["preserve_colour"],
                           c["style_loss"], c["loss_note"], c["run"], c["status"]], layout=W.Layout(width="310px", flex="0 0 310px"))
        pictures = W.HBox([c["image"], c["curves"]], layout=W.Layout(align_items="flex-start", flex_flow="row wrap"))
        return W.HBox([controls, pictures], layout=W.Layout(align_items="flex-start"))
