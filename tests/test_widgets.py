"""The explorer contract (stylelab.course.widgets.base): controls show the values render uses, pictures at their
natural size (tiny ones enlarged by an integer zoom, nearest-neighbour), static figures without overlap."""

import io
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from stylelab.course.widgets import base
from stylelab.course.widgets.adain import AdaINExplorer
from stylelab.course.widgets.features import FeatureExplorer
from stylelab.course.widgets.matting import AffinityExplorer
from stylelab.course.widgets.subbands import SubbandExplorer
from stylelab.course.widgets.wct import WCTExplorer


def _img(seed, h=16, w=16):
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed))


def _explorers():
    styles = {"a": _img(1), "b": _img(2, 12, 20)}
    return {
        "adain": AdaINExplorer(_img(0), styles, alpha=0.4, style_a="b", mix=0.25),
        "wct": WCTExplorer(_img(3, 10, 10).double(), _img(4, 9, 11).double(), preset="wct2", alpha=0.7),
        "matting": AffinityExplorer(_img(5, 10, 12), eps=1e-4),
        "features": FeatureExplorer({"x": _img(6, 20, 24), "y": _img(7, 20, 24)}),
        "subbands": SubbandExplorer(_img(8, 32, 24), max_level=3),
    }


def _control_values(ex):
    return {k: ex.controls[k].value for k in ex.SETTINGS}


@pytest.mark.parametrize("name", list(_explorers()))
def test_controls_show_the_settings_render_uses(name):
    ex = _explorers()[name]
    before = {k: v for k, v in ex.settings().items() if k in ex.SETTINGS}
    assert _control_values(ex) == before  # building the widget changes no setting
    # every control change lands in the setting the next render uses
    for k in ex.SETTINGS:
        ctl = ex.controls[k]
        ctl.value = _other_value(ctl)
        assert getattr(ex, k) == ctl.value == ex.settings()[k], k
    ex.render()
    assert _control_values(ex) == {k: ex.settings()[k] for k in ex.SETTINGS}


def _other_value(ctl):
    """A value the control can show other than its current one."""
    options = getattr(ctl, "options", None)
    if options:
        new = [o for o in options if o != ctl.value][0]
        return new[1] if isinstance(new, tuple) else new
    if isinstance(ctl.value, bool):
        return not ctl.value
    lo, hi = (ctl.base ** ctl.min, ctl.base ** ctl.max) if hasattr(ctl, "base") else (ctl.min, ctl.max)  # log sliders
    return hi if ctl.value != hi else lo


def _shown(box) -> list:
    """Every widget of a layout, depth first."""
    return [box] + [w for child in getattr(box, "children", ()) for w in _shown(child)]


@pytest.mark.parametrize("name", list(_explorers()))
def test_every_control_and_label_is_in_the_layout(name):
    # the WCT explorer built a status label that no layout showed and nothing updated (a live explorer's
    # status stays empty when it has nothing to say, and need not be shown)
    import ipywidgets

    ex = _explorers()[name]
    shown = {id(w) for w in _shown(ex.widget())}
    ex.render()
    hidden = [k for k, w in ex.controls.items() if isinstance(w, ipywidgets.Widget) and id(w) not in shown
              and not (k == "status" and ex.LIVE and w.value == "")]
    assert hidden == []


@pytest.mark.parametrize("name", list(_explorers()))
def test_a_setting_assigned_after_the_widget_is_built_moves_its_control(name):
    # notebook 01 set `explorer.layer = "relu2_1"` in the cell after the widget: the dropdown kept showing
    # relu1_1 while the next redraw used relu2_1 (found in JupyterLab by tools/check_widgets_browser.py)
    ex = _explorers()[name]
    ex.widget()
    runs = ex.runs
    for k in ex.SETTINGS:
        new = _other_value(ex.controls[k])
        setattr(ex, k, new)
        assert ex.controls[k].value == getattr(ex, k) == ex.settings()[k] == new, k
    if ex.LIVE:
        assert ex.runs > runs  # a live explorer redraws with the new settings
    ex.render()
    assert _control_values(ex) == {k: ex.settings()[k] for k in ex.SETTINGS}


def test_a_setting_the_control_cannot_show_is_refused():
    ex = AdaINExplorer(_img(0), {"a": _img(1)}, alpha=1.5)  # the α slider stops at 1
    with pytest.raises(ValueError, match="alpha=1.5"):
        ex.widget()
    ex = AdaINExplorer(_img(0), {"a": _img(1), "b": _img(2)})
    ex.widget()
    with pytest.raises(ValueError, match="alpha=2"):
        ex.alpha = 2.0
    assert ex.alpha == ex.controls["alpha"].value  # the control and Run still agree (on the slider's end, 1)
    with pytest.raises(ValueError, match="style_a='c'"):
        ex.style_a = "c"
    assert ex.style_a == ex.controls["style_a"].value == "a"


def _png_shape(png):
    return np.asarray(Image.open(io.BytesIO(png))).shape[:2]


def test_images_are_shown_at_natural_size_or_a_stated_integer_zoom():
    assert base.zoom_for(16, 16) == 8 and base.zoom_for(64, 96) == 2 and base.zoom_for(300, 200) == 1
    small = torch.rand(1, 3, 12, 20)
    png, zoom = base.png_image(small)
    assert zoom == 8 and _png_shape(png) == (96, 160) and base.png_size(png) == (160, 96)
    arr = np.asarray(Image.open(io.BytesIO(png)))
    assert (arr[::8, ::8] == arr[7::8, 7::8]).all()  # nearest-neighbour: every pixel a sharp 8×8 square
    big = torch.rand(1, 3, 150, 200)
    assert _png_shape(base.png_image(big)[0]) == (150, 200)

    ex = AdaINExplorer(_img(0), {"a": _img(1)})  # a 16×16 result
    ex.controls["run"].click()
    img = ex.controls["image"]
    assert _png_shape(img.value) == (128, 128)
    assert (img.layout.width, img.layout.height) == ("128px", "128px")  # never stretched to the cell width
    assert "×8" in ex.controls["status"].value  # the zoom is stated


def test_adain_result_and_its_controls_fit_one_laptop_cell():
    # found in JupyterLab, full mode: a 770×512 result beside the 310 px controls made 1084 px in a 919 px cell
    from stylelab.course.widgets import adain

    ex = AdaINExplorer(torch.rand(1, 3, 512, 770), {"a": torch.rand(1, 3, 64, 64)})
    ex.controls["run"].click()
    w, h = base.png_size(ex.controls["image"].value)
    assert (w, h) == (385, 256)  # reduced by an integer factor, aspect kept
    assert w + adain.CONTROLS_WIDTH <= base.MAX_WIDTH
    assert "770×512 px, shown at 1/2" in ex.controls["status"].value
    wide = AdaINExplorer(torch.rand(1, 3, 40, 1200), {"a": torch.rand(1, 3, 16, 16)})
    wide.controls["run"].click()  # reduced pictures are never enlarged again by the zoom
    assert base.png_size(wide.controls["image"].value)[0] <= adain.OUTPUT_SIDE


def test_subband_pictures_share_one_zoom_and_keep_their_size():
    ex = SubbandExplorer(_img(8, 32, 24), max_level=3)
    ex.widget()
    for k, im in ex.image_widgets.items():
        w, h = base.png_size(im.value)
        assert (h, w) == (32 * ex.zoom, 24 * ex.zoom) and im.layout.width == f"{w}px", k


def _axes_overlaps(fig, tol=1.0):
    """Pairs of visible axes (with their titles, labels and colour bars) whose drawn extents overlap."""
    from matplotlib.axes import Axes

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(ax, ax.get_tightbbox(renderer)) for ax in fig.findobj(Axes) if ax.get_visible()]
    boxes = [(ax, b) for ax, b in boxes if b is not None and b.width > 0 and b.height > 0]
    out = []
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            dx = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
            dy = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
            if dx > tol and dy > tol:
                out.append((a.get_title() or "?", b.get_title() or "?"))
    return out


@pytest.mark.parametrize("encoder", [False, True])
def test_feature_figure_has_no_overlapping_axes(encoder):
    import matplotlib.pyplot as plt

    if encoder:
        from stylelab.nets.encoders import normalised_vgg19

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            enc = normalised_vgg19(weights="random", last_layer="relu2_1")
        ex = FeatureExplorer({"x": _img(6, 48, 48)}, encoder=enc)
    else:
        ex = FeatureExplorer({"x": _img(6, 48, 48)})
    for layer in ex.layers[:3]:
        ex.layer = layer
        fig = ex.figure()
        assert _axes_overlaps(fig) == [], layer
        # every figure says which network drew it (an untagged encoder: its class name)
        title = fig.subfigs[0]._suptitle.get_text()
        assert (type(enc).__name__ if encoder else "no network") in title and layer in title
        plt.close(fig)
    if encoder:
        enc.tag = "RANDOM VGG-19"
        assert "of RANDOM VGG-19" in ex.figure().subfigs[0]._suptitle.get_text()
        plt.close("all")


def test_the_overlap_check_finds_an_overlap():
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(4, 3))
    fig.add_axes([0.1, 0.1, 0.5, 0.5]).set_title("a")
    fig.add_axes([0.4, 0.4, 0.5, 0.5]).set_title("b")
    assert _axes_overlaps(fig) == [("a", "b")]
    plt.close(fig)


def _all_explorers():
    from stylelab.course.widgets.labels import LabelEditor

    return {**_explorers(), "labels": LabelEditor(_img(9, 40, 48), _img(10, 36, 52), clusters=3)}


@pytest.mark.parametrize("name", list(_all_explorers()))
def test_explorer_pictures_fit_a_laptop_cell_and_their_figures_do_not_overlap(name, monkeypatch):
    # found in JupyterLab (tools/check_widgets_browser.py): 1071-1108 px figures scrolled sideways in a cell
    from matplotlib.figure import Figure

    ex = _all_explorers()[name]
    drawn, save = [], Figure.savefig

    def checked_savefig(fig, *args, **kwargs):
        drawn.append(_axes_overlaps(fig))
        return save(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", checked_savefig)
    ex.widget()
    ex.render()
    assert all(d == [] for d in drawn), drawn
    images = [w for w in _flat(ex.controls) if type(w).__name__ == "Image" and w.value]
    assert images
    for im in images:
        w, h = base.png_size(im.value)
        assert w <= base.MAX_WIDTH, (name, w)
        assert (im.layout.width, im.layout.height) == (f"{w}px", f"{h}px")


def _flat(c):
    for v in (c.values() if isinstance(c, dict) else c):
        yield from (_flat(v) if isinstance(v, (dict, list, tuple)) else (v,))


def test_the_affinity_explorer_renders_once_per_change():
    """Notebook 06 in the browser: an arrow key on the row slider, then Rebuild L (its Run button, which the
    browser check and students press after a change) rendered twice; now once per change, counted headless
    through set_state, the path a front-end message takes."""
    ex = AffinityExplorer(_img(5, 10, 12), eps=1e-4)
    ctl = ex.controls
    assert ex.runs == 1  # the first picture
    for name, value in (("row", ex.row + 1), ("col", ex.col - 1)):
        runs = ex.runs
        ctl[name].set_state({"value": value})  # one arrow key
        assert ex.runs == runs + 1 and ex.result[name] == value
        ctl["run"].click()  # Rebuild L with ε unchanged: the picture is already current
        assert ex.runs == runs + 1 and "already built" in ctl["status"].value
    runs = ex.runs
    ctl["eps"].set_state({"value": 1e-6})
    assert ex.runs == runs and "press Rebuild L" in ctl["status"].value  # ε waits for the button
    ctl["run"].click()
    assert ex.runs == runs + 1 and ex.result["eps"] == 1e-6 and ex._L_eps == 1e-6
    ctl["run"].click()
    assert ex.runs == runs + 1
