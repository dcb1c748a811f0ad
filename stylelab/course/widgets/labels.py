"""Label-map authoring: make the content and style segmentation maps that every method and the CLI accept.

:class:`LabelEditor` (an :class:`~stylelab.course.widgets.base.Explorer`) holds one label
map per image and two ways to edit it:

* **colour clusters** ("superpixels"): k-means on each pixel's CIE Lab colour
  plus ``compactness`` × its position (the SLIC idea, Achanta et al., TPAMI
  2012, without the local search window), fitted on a copy downsampled to
  ``work_size`` and applied to every pixel by nearest centre. Pick a cluster
  and assign it a label; assigning several clusters the same label merges them;
* a round **brush** of ``brush`` pixels radius at ``(row, col)``.

The figure shows both images with their maps side by side (DPST colours,
:func:`stylelab.labels.maps.labels_to_rgb`) and the cluster borders of the side being
edited; the report under it is :func:`stylelab.labels.label_report` — the labels
the methods will use, and why the others are dropped. :meth:`LabelEditor.save`
writes single-channel PNGs with :func:`stylelab.labels.maps.save_labels` (never over
an existing file), which :func:`stylelab.labels.maps.read_labels`, every method and
``stylelab transfer --content-labels/--style-labels`` read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ... import labels as L
from ...labels import maps as label_maps
from ... import viz
from .base import Explorer, show_png

SIDES = ("content", "style")


def rgb_to_lab(image: torch.Tensor) -> torch.Tensor:
    """sRGB in [0, 1] ``(B, 3, H, W)`` → CIE L*a*b* (D65), ``L`` in [0, 100].

    sRGB decoding (IEC 61966-2-1), linear RGB → XYZ (sRGB primaries, D65), then
    ``L = 116 f(Y/Yn) − 16``, ``a = 500 (f(X/Xn) − f(Y/Yn))``, ``b = 200 (f(Y/Yn) − f(Z/Zn))``
    with ``f(t) = t^{1/3}`` above ``(6/29)³`` and linear below.
    """
    x = image.clamp(0, 1)
    lin = torch.where(x > 0.04045, ((x + 0.055) / 1.055) ** 2.4, x / 12.92)
    m = torch.tensor([[0.412453, 0.357580, 0.180423],
                      [0.212671, 0.715160, 0.072169],
                      [0.019334, 0.119193, 0.950227]], dtype=x.dtype, device=x.device)
    xyz = torch.einsum("ij,bjhw->bihw", m, lin)
    white = torch.tensor([0.95047, 1.0, 1.08883], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    t = xyz / white
    d = 6 / 29
    f = torch.where(t > d**3, t.clamp_min(1e-12) ** (1 / 3), t / (3 * d * d) + 4 / 29)
    return torch.cat([116 * f[:, 1:2] - 16, 500 * (f[:, 0:1] - f[:, 1:2]), 200 * (f[:, 1:2] - f[:, 2:3])], 1)


def _features(image: torch.Tensor, compactness: float) -> torch.Tensor:
    """``(H·W, 5)``: Lab / 100 and ``compactness`` × (row, col) / longest side."""
    lab = rgb_to_lab(image)[0] / 100.0
    h, w = lab.shape[-2:]
    s = float(max(h, w))
    rows = torch.arange(h, dtype=lab.dtype, device=lab.device).view(h, 1).expand(h, w) / s
    cols = torch.arange(w, dtype=lab.dtype, device=lab.device).view(1, w).expand(h, w) / s
    pos = torch.stack([rows, cols]) * compactness
    return torch.cat([lab, pos]).flatten(1).T


def kmeans(x: torch.Tensor, k: int, iters: int = 30, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's k-means of the rows of ``x`` ``(N, D)`` with k-means++ seeding; returns ``(centres (k, D), labels (N,))``.

    Stops when no assignment changes (then every point is nearest its own centre and every
    centre is the mean of its points) or after ``iters`` rounds. An emptied cluster keeps its centre.
    """
    n = x.shape[0]
    k = max(1, min(int(k), n))
    g = torch.Generator(device="cpu").manual_seed(seed)
    centres = [x[int(torch.randint(n, (1,), generator=g))]]
    d2 = ((x - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        p = d2.double().cpu()
        idx = int(torch.multinomial(p / p.sum(), 1, generator=g)) if float(p.sum()) > 0 else int(torch.randint(n, (1,), generator=g))
        centres.append(x[idx])
        d2 = torch.minimum(d2, ((x - x[idx]) ** 2).sum(1))
    c = torch.stack(centres)
    assign = torch.cdist(x, c).argmin(1)
    for _ in range(iters):
        sums = torch.zeros_like(c).index_add_(0, assign, x)
        counts = torch.bincount(assign, minlength=k).to(x.dtype)
        c = torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], c)
        new = torch.cdist(x, c).argmin(1)
        if torch.equal(new, assign):
            break
        assign = new
    return c, assign


class LabelEditor(Explorer):
    """Headless-testable label-map editor for a content/style pair (module docstring).

    Args:
        content, style: ``(1, 3, H, W)`` images in [0, 1].
        content_labels, style_labels: starting maps (any format :func:`stylelab.labels.maps.check_labels`
            takes, with the image's aspect); default all 0.
        clusters, compactness: k-means settings; ``work_size``: long side the clusters are fitted at.

    Settings (controls): ``side`` ("content"/"style", the map being edited), ``clusters``,
    ``compactness``, ``cluster`` (the one :meth:`assign` gives a label), ``label``, ``row``, ``col``,
    ``brush``. ``result`` after :meth:`render`: ``{"report": LabelReport, "figure_png": bytes}``.
    """

    SETTINGS = ("side", "clusters", "compactness", "cluster", "label", "row", "col", "brush")
    LIVE = True

    def __init__(self, content: torch.Tensor, style: torch.Tensor, content_labels=None, style_labels=None,
                 clusters: int = 6, compactness: float = 0.5, work_size: int = 96, seed: int = 0):
        self.images = {}
        for side, img in zip(SIDES, (content, style)):
            if not isinstance(img, torch.Tensor) or img.dim() != 4 or img.shape[:2] != (1, 3):
                raise ValueError(f"{side} must be a (1, 3, H, W) image tensor")
            self.images[side] = img.detach().to("cpu", torch.float32)
        self.maps = {}
        for side, lab in zip(SIDES, (content_labels, style_labels)):
            hw = self.images[side].shape[-2:]
            self.maps[side] = (torch.zeros(1, 1, *hw, dtype=torch.long) if lab is None
                               else label_maps.fit_labels(lab, hw, f"{side}_labels").cpu()[:1].clone())
        self.work_size, self.seed = int(work_size), int(seed)
        self.side, self.clusters, self.compactness = "content", int(clusters), float(compactness)
        self.cluster, self.label, self.brush = 0, 1, 4
        self.row, self.col = (int(v) // 2 for v in self.images["content"].shape[-2:])
        self._cache: dict = {}
        self._undo: list = []

    # ------------------------------------------------------------------ clusters
    def cluster_map(self, side: str | None = None) -> torch.Tensor:
        """``(H, W)`` cluster ids of ``side`` for the current ``clusters``/``compactness`` (cached)."""
        side = side or self.side
        key = (side, int(self.clusters), float(self.compactness))
        if key not in self._cache:
            img = self.images[side]
            h, w = img.shape[-2:]
            scale = min(1.0, self.work_size / max(h, w))
            small = img if scale == 1.0 else torch.nn.functional.interpolate(
                img, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="area")
            # positions are divided by the long side, so compactness means the same at both sizes
            centres, _ = kmeans(_features(small, self.compactness), self.clusters, seed=self.seed)
            self._cache[key] = torch.cdist(_features(img, self.compactness), centres).argmin(1).view(h, w)
        return self._cache[key]

    # ------------------------------------------------------------------ edits
    def _edit(self, side: str, mask: torch.Tensor, label: int) -> int:
        if side not in SIDES:
            raise ValueError(f"side must be 'content' or 'style', got {side!r}")
        if int(label) < 0 or int(label) > 65535:
            raise ValueError(f"labels are ids 0..65535 (what a PNG map holds), got {label}")
        self._undo.append((side, self.maps[side].clone()))
        self.maps[side][0, 0][mask] = int(label)
        if self._c is not None:
            self.render()
        return int(mask.sum())

    def assign(self, cluster: int | None = None, label: int | None = None, side: str | None = None) -> int:
        """Give every pixel of ``cluster`` the id ``label`` on ``side`` (defaults: the settings); returns the pixel count."""
        side = side or self.side
        cluster = self.cluster if cluster is None else int(cluster)
        if not 0 <= cluster < int(self.clusters):
            raise ValueError(f"cluster must be in 0..{int(self.clusters) - 1}, got {cluster}")
        return self._edit(side, self.cluster_map(side) == cluster, self.label if label is None else label)

    def paint(self, row: int | None = None, col: int | None = None, radius: int | None = None,
              label: int | None = None, side: str | None = None) -> int:
        """Brush: every pixel within ``radius`` of ``(row, col)`` gets ``label``; returns the pixel count."""
        side = side or self.side
        row, col = (self.row if row is None else row), (self.col if col is None else col)
        r = self.brush if radius is None else radius
        h, w = self.maps[side].shape[-2:]
        yy = torch.arange(h).view(h, 1)
        xx = torch.arange(w).view(1, w)
        return self._edit(side, (yy - row) ** 2 + (xx - col) ** 2 <= r * r, self.label if label is None else label)

    def undo(self) -> bool:
        """Revert the last edit (``False`` if there is none)."""
        if not self._undo:
            return False
        side, old = self._undo.pop()
        self.maps[side] = old
        if self._c is not None:
            self.render()
        return True

    # ------------------------------------------------------------------ outputs
    def report(self) -> L.LabelReport:
        """Which labels the methods will use with these two maps, and why the others are dropped."""
        return L.label_report(self.maps["content"], self.maps["style"])

    def save(self, content_path, style_path) -> tuple[Path, Path]:
        """Write both maps as PNGs (:func:`stylelab.labels.maps.save_labels`); an existing file is never replaced."""
        content_path, style_path = Path(content_path), Path(style_path)
        for p in (content_path, style_path):
            if p.exists():
                raise FileExistsError(f"{p} already exists and was left untouched; choose another name")
        if content_path.resolve() == style_path.resolve():
            raise ValueError("give the content and the style map different file names")
        return label_maps.save_labels(self.maps["content"], content_path), label_maps.save_labels(self.maps["style"], style_path)

    def compute(self) -> dict:
        return {"report": self.report(), "figure_png": self._figure()}

    def _label_colour(self):
        """RGB in [0, 1] of the current ``label`` as the label maps are drawn (:func:`stylelab.labels.maps.labels_to_rgb`)."""
        rgb = label_maps.labels_to_rgb(torch.full((1, 1, 1, 1), int(self.label), dtype=torch.long))
        return tuple(float(v) for v in rgb.flatten()[:3])

    def _on_change(self, name, value) -> None:
        if name == "clusters" and self._c is not None:
            # the cluster slider spans exactly the clusters that exist (0 … clusters − 1)
            slider = self._c["cluster"]
            object.__setattr__(self, "clusters", int(value))
            if self.cluster > int(value) - 1:
                slider.value = int(value) - 1  # its observer writes `cluster` back
            slider.max = int(value) - 1
        if name == "side" and self._c is not None:
            self._fit_position_sliders(value)
        super()._on_change(name, value)

    def _fit_position_sliders(self, side: str) -> None:
        """The row and col sliders span the edited image (no dead range when the two images differ in size)."""
        h, w = self.images[side].shape[-2:]
        for name, top in (("row", h - 1), ("col", w - 1)):
            slider = self._c[name]
            if getattr(self, name) > top:
                slider.value = top  # its observer writes the setting back
            slider.max = top

    def _figure(self) -> bytes:
        plt = viz._plt()
        fig, axes = plt.subplots(2, 2, figsize=(6.4, 5.6))  # a 2×2 grid beside the controls (≤ MAX_WIDTH px)
        axes = axes.flatten()  # content, content labels, style, style labels
        for i, side in enumerate(SIDES):
            img = viz.to_numpy_image(self.images[side])
            lab = viz.to_numpy_image(label_maps.labels_to_rgb(self.maps[side]))
            axes[2 * i].imshow(img, interpolation="nearest")
            if side == self.side:
                cm = self.cluster_map(side).numpy()
                edge = np.zeros(cm.shape, bool)
                edge[1:] |= cm[1:] != cm[:-1]
                edge[:, 1:] |= cm[:, 1:] != cm[:, :-1]
                axes[2 * i].contour(edge, levels=[0.5], colors="white", linewidths=0.5)
                sel = cm == min(int(self.cluster), int(self.clusters) - 1)
                if sel.any():  # the selected cluster, outlined in the colour of the label it would get
                    axes[2 * i].contourf(sel, levels=[0.5, 1.5], colors=[self._label_colour()], alpha=0.45)
                    axes[2 * i].contour(sel, levels=[0.5], colors="yellow", linewidths=1.2)
                # the brush: its circle, at its radius, in the label's colour
                axes[2 * i].add_patch(plt.Circle((self.col, self.row), self.brush, fill=False, lw=1.5,
                                                 ec=self._label_colour()))
                axes[2 * i].plot([self.col], [self.row], "r+", markersize=10, mew=2)
            title = f"{side} (editing: cluster {self.cluster}, label {self.label})" if side == self.side else side
            axes[2 * i].set_title(title, fontsize=9)
            axes[2 * i + 1].imshow(0.35 * img + 0.65 * lab, interpolation="nearest")
            axes[2 * i + 1].set_title(f"{side} labels", fontsize=9)
        for ax in axes:
            ax.axis("off")
        fig.tight_layout()
        return viz.figure_to_png_bytes(fig)

    # ------------------------------------------------------------------ widget
    def _controls(self, W) -> dict:
        hmax, wmax = (v - 1 for v in self.images[self.side].shape[-2:])  # the edited image's (changes with side)
        c = {
            "side": W.ToggleButtons(options=list(SIDES), description="edit"),
            "clusters": W.IntSlider(min=2, max=16, description="clusters", continuous_update=False),
            "compactness": W.FloatSlider(min=0.0, max=3.0, step=0.1, description="compactness", continuous_update=False,
                                         style={"description_width": "initial"}),
            "cluster": W.IntSlider(min=0, max=int(self.clusters) - 1, description="cluster", continuous_update=False),
            "label": W.IntSlider(min=0, max=8, description="label", continuous_update=False),
            "row": W.IntSlider(min=0, max=hmax, description="row", continuous_update=False),
            "col": W.IntSlider(min=0, max=wmax, description="col", continuous_update=False),
            "brush": W.IntSlider(min=1, max=64, description="brush", continuous_update=False),
            "assign": W.Button(description="cluster → label", layout=W.Layout(width="130px")),
            "paint": W.Button(description="paint brush", layout=W.Layout(width="100px")),
            "undo": W.Button(description="undo", layout=W.Layout(width="70px")),
            "content_path": W.Text(value="content_labels.png", description="content →"),
            "style_path": W.Text(value="style_labels.png", description="style →"),
            "save": W.Button(description="save PNGs", button_style="success"),
            "figure": W.Image(format="png"),
            "report": W.HTML(),
        }
        c["assign"].on_click(lambda _: self._try(self.assign))
        c["paint"].on_click(lambda _: self._try(self.paint))
        c["undo"].on_click(lambda _: self._try(self.undo))
        c["save"].on_click(lambda _: self._try(lambda: self.save(c["content_path"].value, c["style_path"].value),
                                               "saved"))
        return c

    def _try(self, fn, done: str | None = None):
        try:
            out = fn()
        except (ValueError, FileExistsError, OSError) as err:
            self._c["status"].value = f"error: {err}"
            return None
        if done:
            self._c["status"].value = f"{done}: {', '.join(str(p) for p in out)}"
        return out

    def _show(self) -> None:
        show_png(self._c["figure"], self.result["figure_png"])
        rep = self.result["report"]
        self._c["report"].value = "<pre>" + str(rep) + ("\n" + rep.warning() if rep.warning() else "") + "</pre>"

    def _layout(self, W, c: dict):
        for k in ("clusters", "compactness", "cluster", "label", "row", "col", "brush", "content_path", "style_path"):
            c[k].layout.width = "290px"
        c["side"].style.button_width = "100px"
        edit = W.VBox([c["side"], c["clusters"], c["compactness"], c["cluster"], c["label"], c["row"], c["col"],
                       c["brush"], W.HBox([c["assign"], c["paint"], c["undo"]]), c["content_path"], c["style_path"],
                       c["save"], c["status"]], layout=W.Layout(width="310px", flex="0 0 310px"))
        return W.VBox([W.HBox([edit, c["figure"]], layout=W.Layout(align_items="flex-start")), c["report"]])


def edit_labels(content: torch.Tensor, style: torch.Tensor, **kwargs):
    """``LabelEditor(content, style, **kwargs).widget()`` — the one-liner for notebooks."""
    return LabelEditor(content, style, **kwargs).widget()
