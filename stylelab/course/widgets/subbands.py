"""The subband explorer: see what each Haar band of an image (or of encoder features) holds.

Logic in :class:`SubbandExplorer` (plain Python, testable without a kernel);
:meth:`SubbandExplorer.widget` builds the ipywidgets layout around it.

* The multi-level Haar decomposition is computed **once** (cached); moving a
  control only re-synthesises from the cached bands (a few additions per
  pixel) and re-encodes PNGs, so it stays responsive at 512 px on a CPU.
* Controls: level (1…``max_level``), band toggles LL / LH / HL / HH, and for
  features a channel slider.
* Reconstruction from the chosen bands: the synthesis of the level-``L``
  pyramid keeping the LL band (if on) and, at every level 1…L, the detail
  bands that are on. All four on gives the input back exactly (lossless
  pooling); LL alone is the 2^L × 2^L block average.
* With ``compare=`` (e.g. a WCT² result of the same size) it shows the same
  reconstruction of the second image and, per band, how much it changed:
  ``‖B_out − B_in‖ / ‖B_in‖``.
"""

from __future__ import annotations

import math

import torch

from ...features import wavelets as Wv
from ...viz import show_images
from .base import Explorer, png_image, reduce, show_png, shrink_for


def _as_batch(x: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() not in (3, 4):
        raise ValueError(f"{name} must be a (1, C, H, W) or (C, H, W) tensor")
    x = x if x.dim() == 4 else x[None]
    if x.shape[0] != 1:
        raise ValueError(f"{name} must hold one image, got a batch of {x.shape[0]}")
    return x.detach().to("cpu", torch.float32)


class SubbandExplorer(Explorer):
    """Headless subband explorer (live: redraws on every change) of ``x`` (``(1, C, H, W)``; C = 3 is shown in colour, else one channel).

    Attributes (set them, or the widget's controls, then read the outputs):
        level: 1…``max_level``.
        bands: set of band names that are on.
        channel: channel shown for features (C ≠ 3).

    Images are shown at their natural size (small ones enlarged by one stated
    integer zoom, nearest-neighbour, the same for every picture).
    """

    SETTINGS = ("level", "channel")
    LIVE = True

    def __init__(self, x: torch.Tensor, max_level: int = 4, compare: torch.Tensor | None = None,
                 names: tuple[str, str] = ("original", "stylized")):
        self.x = _as_batch(x, "x")
        self.names = names
        h, w = self.x.shape[-2:]
        self.max_level = max(1, min(int(max_level), max(1, (min(h, w)).bit_length() - 1)))
        self._pyr = self._decompose(self.x)
        self.compare = None
        if compare is not None:
            self.compare = _as_batch(compare, "compare")
            if self.compare.shape != self.x.shape:
                raise ValueError(f"compare has shape {tuple(self.compare.shape)}, x has {tuple(self.x.shape)}")
            self._pyr_cmp = self._decompose(self.compare)
        self.level = 1
        self.bands = set(Wv.BANDS)
        self.channel = 0
        self._widget = None
        self.shrink = shrink_for(h, w)
        self.zoom = png_image(self.x[0, :1])[1] if self.shrink == 1 else 1

    def settings(self) -> dict:
        """The current settings (level, channel and the set of bands that are on)."""
        return {**super().settings(), "bands": set(self.bands)}

    def _decompose(self, x):
        """Cache ``{L: (LL_L, details[:L], sizes[:L])}`` for every level (one pass)."""
        ll, details, sizes = Wv.haar_wavedec(x, self.max_level)
        out = {}
        cur = x
        for L in range(1, self.max_level + 1):
            cur = Wv.haar_dwt(cur, pad=True)[0]
            out[L] = (cur, details[:L], sizes[:L])
        return out

    # ------------------------------------------------------------ computed outputs
    def _check(self):
        if not 1 <= self.level <= self.max_level:
            raise ValueError(f"level must be in 1..{self.max_level}, got {self.level}")
        unknown = set(self.bands) - set(Wv.BANDS)
        if unknown:
            raise ValueError(f"unknown bands {sorted(unknown)}; use {Wv.BANDS}")

    def level_bands(self, which: str = "x") -> dict[str, torch.Tensor]:
        """The four bands at the current level: ``{"LL": LL_L, "LH": …}`` (the level-L details)."""
        self._check()
        ll, details, _ = (self._pyr if which == "x" else self._pyr_cmp)[self.level]
        lh, hl, hh = details[self.level - 1]
        return {"LL": ll, "LH": lh, "HL": hl, "HH": hh}

    def energies(self, which: str = "x") -> dict[str, float]:
        """Share of each band in the energy of the level-``L`` decomposition (sums to 1)."""
        return Wv.band_energy(self.level_bands(which))

    def reconstruction(self, which: str = "x") -> torch.Tensor:
        """Synthesis from the chosen bands (module docstring); ``(1, C, H, W)``."""
        self._check()
        ll, details, sizes = (self._pyr if which == "x" else self._pyr_cmp)[self.level]
        on = self.bands
        kept = [tuple(b if name in on else None for name, b in zip(("LH", "HL", "HH"), d)) for d in details]
        base = ll if "LL" in on else torch.zeros_like(ll)
        return Wv.haar_waverec(base, kept, sizes)

    def band_change(self) -> dict[str, float]:
        """Relative change ``‖B_cmp − B_x‖ / ‖B_x‖`` of each band at the current level (needs ``compare``)."""
        if self.compare is None:
            raise ValueError("band_change needs a second image: SubbandExplorer(x, compare=stylized)")
        a, b = self.level_bands("x"), self.level_bands("compare")
        return {k: float((b[k] - a[k]).norm() / a[k].norm().clamp_min(1e-12)) for k in Wv.BANDS}

    def _display(self, t: torch.Tensor, detail: bool = False) -> torch.Tensor:
        """What to show: RGB (detail-only views around mid-grey, × :meth:`detail_gain`) or one channel, normalised
        to [0, 1] (a constant channel: mid-grey)."""
        if t.shape[1] == 3:
            return (0.5 + self.detail_gain() * t if detail else t).clamp(0, 1)
        c = min(self.channel, t.shape[1] - 1)
        m = t[0, c]
        lo, hi = float(m.min()), float(m.max())
        if hi == lo:  # a constant map (every band off: nothing) is drawn mid-grey, as the colour views draw it
            return torch.full_like(m, 0.5)
        return (m - lo) / (hi - lo)

    def detail_gain(self) -> float:
        """Gain of the detail-only views of colour images: the 99th percentile of ``|detail|`` is drawn at ±0.45
        around mid-grey (detail bands are small: drawn at gain 1 they are a faint grey; the caption states the gain)."""
        if "LL" in self.bands:
            return 1.0
        key = (self.level, frozenset(self.bands))
        if getattr(self, "_gain_key", None) != key:
            r = self.reconstruction().abs().flatten()
            q = float(torch.quantile(r[:: max(1, r.numel() // 200_000)], 0.99)) if r.numel() else 0.0
            self._gain, self._gain_key = (0.45 / q if q > 1e-8 else 1.0), key
        return self._gain

    def band_mosaic(self) -> torch.Tensor:
        """The four bands of the current level in the usual wavelet layout ``[[LL, LH], [HL, HH]]`` — ``(H', W')`` for
        features (the shown channel, each band normalised), ``(1, 3, H', W')`` for colour (LL / 2^L; details
        ``0.5 + 4·band``)."""
        b = self.level_bands()
        if self.x.shape[1] == 3:
            tiles = [(b["LL"] / 2 ** self.level).clamp(0, 1)] + [(0.5 + 4 * b[k]).clamp(0, 1) for k in ("LH", "HL", "HH")]
        else:
            tiles = [self._display(b[k])[None, None] for k in Wv.BANDS]
        top, bottom = torch.cat(tiles[:2], -1), torch.cat(tiles[2:], -1)
        out = torch.cat([top, bottom], -2)
        return out if self.x.shape[1] == 3 else out[0, 0]

    def used(self) -> str:
        """The bands in use, in order (``"LL+HH"``; ``"nothing"`` when every band is off)."""
        return "+".join(b for b in Wv.BANDS if b in self.bands) or "nothing"

    def images(self) -> dict[str, torch.Tensor]:
        """The displayed arrays: ``original``, ``reconstruction`` (and the compare pair), ``bands`` (:meth:`band_mosaic`)."""
        detail = "LL" not in self.bands
        out = {"original": self._display(self.x), "reconstruction": self._display(self.reconstruction(), detail)}
        if self.compare is not None:
            out["compare"] = self._display(self.compare)
            out["compare_reconstruction"] = self._display(self.reconstruction("compare"), detail)
        out["bands"] = self.band_mosaic()
        return out

    def captions(self) -> dict[str, str]:
        """One caption per picture of :meth:`images`, saying what is drawn (bands in use, level, gain, channel)."""
        gain = "" if "LL" in self.bands or self.x.shape[1] != 3 else f"; details ×{self.detail_gain():.3g} around grey"
        ch = "" if self.x.shape[1] == 3 else f", channel {min(self.channel, self.x.shape[1] - 1)}"
        a, b = self.names
        cap = {"original": f"{a}{ch}", "reconstruction": f"{a} from {self.used()}, level {self.level}{gain}"}
        if self.compare is not None:
            cap["compare"] = f"{b}{ch}"
            cap["compare_reconstruction"] = f"{b} from {self.used()}, level {self.level}{gain}"
        r, z = self._mosaic_scale()
        drawn = f", shown ×{z}" if z > 1 else f", shown at 1/{r}" if r > 1 else ""
        scale = f"LL ÷ {2 ** self.level}, details ×4 around grey" if self.x.shape[1] == 3 else "each band normalised"
        cap["bands"] = f"the four bands at level {self.level}: LL LH / HL HH{ch}<br>{scale}{drawn}"
        return cap

    def summary(self) -> str:
        """HTML table of band energies (and changes) at the current level, of the channel shown (features) or of
        the three colour channels together (colour images)."""
        if self.x.shape[1] == 3:
            e, which = self.energies(), "R, G, B together"
        else:
            c = min(self.channel, self.x.shape[1] - 1)
            e, which = Wv.band_energy({k: v[:, c:c + 1] for k, v in self.level_bands().items()}), f"channel {c}"
        change = self.band_change() if self.compare is not None else None
        rows = "".join(
            f"<tr><td>{b}{' ✓' if b in self.bands else ''}</td><td>{100 * e[b]:.2f}%</td>"
            + (f"<td>{change[b]:.3f}</td>" if change is not None else "")
            + "</tr>"
            for b in Wv.BANDS
        )
        head = "<tr><th>band</th><th>energy</th>" + ("<th>change</th>" if change is not None else "") + "</tr>"
        return f"<b>level {self.level}</b>, energy of {which}<table>{head}{rows}</table>"

    def status(self) -> str:
        """What the pictures show, in words: bands in use, level, size, zoom or reduction."""
        h, w_ = self.x.shape[-2:]
        shown = (f", shown ×{self.zoom} (nearest-neighbour)" if self.zoom > 1
                 else f", shown at 1/{self.shrink} ({self.shrink}×{self.shrink} averages)" if self.shrink > 1 else "")
        note = ("; all four bands: the reconstruction is exact at every level — switch a band off to see what "
                f"level {self.level} keeps") if set(self.bands) == set(Wv.BANDS) else ""
        return f"bands in use: {self.used()} · level {self.level} · {w_}×{h} px{shown}{note}"

    # ------------------------------------------------------------ static figure
    def figure(self, size: float = 2.6):
        """A static figure: the four bands at the current level, the original and the reconstruction."""

        b = self.level_bands()
        shown = [self._display(b["LL"] / 2 ** self.level)] + [self._display(b[k].abs() * 4, False) for k in ("LH", "HL", "HH")]
        imgs = self.images()
        titles = [f"LL{self.level}", f"|LH{self.level}|", f"|HL{self.level}|", f"|HH{self.level}|",
                  "original", f"from {self.used()}"]
        return show_images(shown + [imgs["original"], imgs["reconstruction"]], titles, ncols=6, size=size)

    # ------------------------------------------------------------ widget
    def compute(self) -> dict:
        """The displayed pictures (PNG bytes, natural size × :attr:`zoom` or reduced by :attr:`shrink`), captions,
        the energy table and the status line."""
        png = {}
        for k, v in self.images().items():
            r, z = self._mosaic_scale() if k == "bands" else (self.shrink, self.zoom)
            png[k] = png_image(reduce(v, r), z)[0]
        return {"png": png, "captions": self.captions(), "table": self.summary(), "status": self.status()}

    def _mosaic_scale(self) -> tuple[int, int]:
        """(reduction, zoom) of the band mosaic: the level-L mosaic is 2^(L-1) times smaller than level 1's, so it is
        enlarged back to about level 1's size (nearest-neighbour, never larger), instead of shrinking with the level."""
        f = 2 ** (self.level - 1)
        return max(1, math.ceil(self.shrink / f)), self.zoom * max(1, f // self.shrink)

    def _controls(self, w) -> dict:
        c = {
            "level": w.IntSlider(min=1, max=self.max_level, description="level", continuous_update=False,
                                 layout=w.Layout(width="280px")),
            "channel": w.IntSlider(min=0, max=max(0, self.x.shape[1] - 1), description="channel",
                                   continuous_update=False, layout=w.Layout(width="280px")),
        }
        if self.x.shape[1] == 3:
            c["channel"].layout.display = "none"  # colour images: no channel to pick
        self.band_boxes = {b: w.ToggleButton(value=b in self.bands, description=b, layout=w.Layout(width="136px"))  # "✓ HH off" fits
                           for b in Wv.BANDS}
        for box in self.band_boxes.values():
            self._style_band(box)
            box.observe(self._on_band, names="value")
        self.level_slider = c["level"]
        self.channel_slider = c["channel"] if self.x.shape[1] != 3 else None
        self.image_widgets = {k: w.Image(format="png") for k in self.images()}
        self.caption_widgets = {k: w.HTML() for k in self.image_widgets}
        self.table = w.HTML()
        c.update(bands=self.band_boxes, images=self.image_widgets, table=self.table,
                 status=w.HTML(layout=w.Layout(width="280px")))  # wraps: the status is a sentence
        return c

    @staticmethod
    def _style_band(box) -> None:
        """A band toggle says its state in words and colour: "LH on" (green, ticked) or "LH off" (plain)."""
        name = box.description.split()[0]
        box.description = f"{name} {'on' if box.value else 'off'}"
        box.button_style = "success" if box.value else ""
        box.icon = "check" if box.value else ""

    def _on_band(self, change=None):
        for box in self.band_boxes.values():
            self._style_band(box)
        self.bands = {b for b, box in self.band_boxes.items() if box.value}
        self.render()

    def _show(self) -> None:
        for k, png in self.result["png"].items():
            show_png(self.image_widgets[k], png)
            self.caption_widgets[k].value = f"<small>{self.result['captions'][k]}</small>"
        self.table.value = self.result["table"]
        self._c["status"].value = self.result["status"]

    def _layout(self, w, c):
        titled = [w.VBox([self.caption_widgets[k], im], layout=w.Layout(margin="0 8px 8px 0"))
                  for k, im in self.image_widgets.items()]
        controls = w.VBox([c["level"], w.HBox(list(self.band_boxes.values())[:2]), w.HBox(list(self.band_boxes.values())[2:]),
                           c["channel"], c["status"], self.table], layout=w.Layout(width="310px", flex="0 0 310px"))
        # pictures in a two-column grid beside the controls (reduced so that two fit beside them at 1366 px)
        grid = w.GridBox(titled, layout=w.Layout(grid_template_columns="repeat(2, max-content)"))
        self._widget = w.HBox([controls, grid], layout=w.Layout(align_items="flex-start"))
        return self._widget


def explore(x: torch.Tensor, **kwargs):
    """``SubbandExplorer(x, **kwargs).widget()`` — the one-liner for notebooks."""
    return SubbandExplorer(x, **kwargs).widget()
