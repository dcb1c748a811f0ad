"""The one skeleton every explorer follows: settings as plain attributes, one ``render`` contract.

An explorer is a plain Python object (testable without a kernel or browser):

* its **settings** are attributes named in :attr:`Explorer.SETTINGS`;
  :meth:`Explorer.settings` returns them — exactly the values :meth:`render`
  uses;
* :meth:`Explorer.render` computes from the current settings (subclasses
  implement :meth:`Explorer.compute`), stores :attr:`result`, counts
  :attr:`runs` and refreshes the widget if one was built;
* :meth:`Explorer.widget` builds the ipywidgets layout. Every setting gets a
  control whose initial value **is** the attribute's value, each change of
  a control writes the attribute back, and assigning a setting in Python
  after the widget is built (``explorer.layer = "relu2_1"`` in a later cell)
  moves its control too, so the controls always show what Run will use.
  Cheap explorers (``LIVE = True``) re-render on every change; expensive
  ones get a **Run** button.

Pictures are shown at their natural size: :func:`png_image` encodes an image
at its own pixel size (tiny ones enlarged by a stated integer zoom with
nearest-neighbour, so each pixel stays a sharp square) and :func:`show_png`
sets the ``Image`` widget's width and height to exactly that size, so the
browser never stretches it to the cell width.
"""

from __future__ import annotations

import io
import math
import struct
from typing import Any

import numpy as np
import torch

from ...viz import to_numpy_image

#: Images whose short side is below this are enlarged by an integer zoom (nearest-neighbour).
MIN_DISPLAY_SIDE = 128
#: Images are never enlarged above this short side by the zoom.
MAX_ZOOM = 8
#: Widest figure (px) an explorer draws: it fits a JupyterLab cell beside the file browser on a
#: 1366-px laptop screen without a horizontal scroll bar (figures are saved at 90 dpi: 10 inches).
MAX_WIDTH = 900


def zoom_for(height: int, width: int, min_side: int = MIN_DISPLAY_SIDE) -> int:
    """Integer zoom that brings the short side to at least ``min_side`` (1 if it already is; at most :data:`MAX_ZOOM`)."""
    short = max(1, min(height, width))
    return int(min(MAX_ZOOM, max(1, math.ceil(min_side / short))))


#: Longest side (px) of a picture an explorer shows beside others: two of them side by side plus a column of
#: controls fit a 1366-px laptop window. Larger pictures are shown reduced by an integer factor (:func:`shrink_for`).
PICTURE_SIDE = 320


def shrink_for(height: int, width: int, max_side: int = PICTURE_SIDE) -> int:
    """Integer reduction that brings the long side to at most ``max_side`` (1 if it already is)."""
    return max(1, math.ceil(max(height, width) / max_side))


def reduce(image: torch.Tensor, factor: int) -> torch.Tensor:
    """``image`` ``(1, C, H, W)`` or ``(H, W)`` reduced by the integer ``factor``: each output pixel is the mean of a
    ``factor × factor`` block (the last partial block too). ``factor = 1`` returns ``image`` unchanged."""
    if factor == 1:
        return image
    x = image[None, None] if image.dim() == 2 else image
    y = torch.nn.functional.avg_pool2d(x.float(), factor, ceil_mode=True)
    return y[0, 0] if image.dim() == 2 else y


def png_image(image: torch.Tensor | np.ndarray, zoom: int | None = None) -> tuple[bytes, int]:
    """PNG bytes of an image at its natural size × ``zoom`` (nearest-neighbour), and the zoom used.

    ``image``: ``(1, 3, H, W)``, ``(3, H, W)``, ``(H, W)`` tensors or ``(H, W[, 3])`` arrays in [0, 1].
    ``zoom=None`` picks :func:`zoom_for` (1 for images of 128 px and more).
    """
    from PIL import Image


    arr = to_numpy_image(image)
    arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
    h, w = arr.shape[:2]
    zoom = zoom_for(h, w) if zoom is None else int(zoom)
    if zoom < 1:
        raise ValueError(f"zoom must be a positive integer, got {zoom}")
    if zoom > 1:
        arr = arr.repeat(zoom, axis=0).repeat(zoom, axis=1)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue(), zoom


def png_size(png: bytes) -> tuple[int, int]:
    """``(width, height)`` of PNG bytes, read from the IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not PNG data")
    return struct.unpack(">II", png[16:24])


def show_png(widget, png: bytes) -> None:
    """Put ``png`` into an ``ipywidgets.Image`` displayed at exactly its pixel size (never stretched)."""
    w, h = png_size(png)
    widget.value = png
    widget.layout.width, widget.layout.height = f"{w}px", f"{h}px"
    widget.layout.max_width = "none"
    widget.layout.object_fit = "none"


class Explorer:
    """Base class of the course explorers (see the module docstring for the contract).

    Subclasses set :attr:`SETTINGS`, implement :meth:`compute` (returns the result),
    :meth:`_controls` (the ipywidgets controls, one per setting, built from the
    current attribute values, plus any output widgets), :meth:`_show` (update the
    output widgets from :attr:`result`) and :meth:`_layout` (arrange them).
    """

    #: Names of the attributes the controls edit; ``settings()`` returns them.
    SETTINGS: tuple[str, ...] = ()
    #: Re-render on every control change (cheap explorers) instead of on a Run button.
    LIVE: bool = False

    result: Any = None
    runs: int = 0
    _c: dict | None = None

    # ------------------------------------------------------------------ contract
    def settings(self) -> dict[str, Any]:
        """The current settings: exactly what :meth:`render` will use."""
        return {k: getattr(self, k) for k in self.SETTINGS}

    def compute(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def render(self):
        """Compute from the current settings, store :attr:`result`, refresh the widget; returns the result."""
        self.result = self.compute()
        self.runs = self.runs + 1
        if self._c is not None:
            self._show()
        return self.result

    def run(self):
        """What the Run button does: :meth:`render` (an explorer whose picture can already be current overrides it)."""
        return self.render()

    # ------------------------------------------------------------------ widget
    def _controls(self, W) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _show(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _layout(self, W, c: dict):  # pragma: no cover - abstract
        raise NotImplementedError

    def widget(self):
        """Build (or rebuild) the layout. Controls start at the current settings and write them back."""
        import ipywidgets as W

        c = self._controls(W)
        missing = [k for k in self.SETTINGS if k not in c]
        if missing:
            raise TypeError(f"{type(self).__name__}._controls builds no control for {missing}")
        for name in self.SETTINGS:
            self._put(c, name, getattr(self, name))
            c[name].observe(lambda ch, n=name: self._on_change(n, ch["new"]), names="value")
        if not self.LIVE:
            c.setdefault("run", W.Button(description="Run", button_style="primary"))
            c["run"].on_click(lambda _: self.run())
        c.setdefault("status", W.Label(value="" if self.LIVE else "press Run"))
        self._c = c
        if self.LIVE or self.result is not None:
            self.render() if self.LIVE else self._show()
        return self._layout(W, c)

    def _put(self, c: dict, name: str, want) -> None:
        """Show ``want`` on the control of setting ``name``; a value the control cannot show is an error."""
        from traitlets import TraitError

        try:
            c[name].value = want
        except TraitError as err:
            raise ValueError(f"{type(self).__name__}: {name}={want!r} is not a value its control offers ({err}); "
                             "choose one it can show") from None
        if c[name].value != want and not (isinstance(want, float) and math.isclose(c[name].value, want)):
            raise ValueError(f"{type(self).__name__}: {name}={want!r} is outside what its control offers "
                             f"(it would show {c[name].value!r}); choose a value the control can show")

    def __setattr__(self, name: str, value) -> None:
        # A setting assigned in Python once the widget exists moves its control first (whose observer writes
        # the attribute back and, for LIVE explorers, re-renders): the controls never lag behind Run's values.
        c = self.__dict__.get("_c")
        if c is not None and name in self.SETTINGS:
            self._put(c, name, value)
        object.__setattr__(self, name, value)

    def _on_change(self, name: str, value) -> None:
        setattr(self, name, value)
        if self.LIVE:
            self.render()

    @property
    def controls(self) -> dict:
        """The widgets by name (builds the widget on first use)."""
        if self._c is None:
            self.widget()
        return self._c
