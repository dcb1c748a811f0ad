"""Label-map editor: Lab conversion against scikit-image, k-means fixed point, edits, report, saving, headless widget."""

import numpy as np
import pytest
import torch

from stylelab.media import data
from stylelab import labels as L
from stylelab.labels import maps as label_maps
from stylelab.course.widgets.labels import LabelEditor, kmeans, rgb_to_lab


def _two_tone(h=20, w=24):
    img = torch.empty(1, 3, h, w)
    img[..., : h // 2, :] = torch.tensor([0.3, 0.5, 0.9]).view(1, 3, 1, 1)  # sky
    img[..., h // 2:, :] = torch.tensor([0.2, 0.6, 0.1]).view(1, 3, 1, 1)  # land
    return img + 0.02 * torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))


def test_rgb_to_lab_matches_scikit_image():
    skc = pytest.importorskip("skimage.color")
    x = torch.rand(1, 3, 7, 9, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ref = skc.rgb2lab(x[0].permute(1, 2, 0).numpy())
    np.testing.assert_allclose(rgb_to_lab(x)[0].permute(1, 2, 0).numpy(), ref, atol=2e-3)


def test_kmeans_reaches_a_lloyd_fixed_point():
    x = torch.randn(300, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    c, a = kmeans(x, 6, iters=200, seed=3)
    assert torch.equal(torch.cdist(x, c).argmin(1), a)  # every point is nearest its own centre
    for j in range(6):
        torch.testing.assert_close(c[j], x[a == j].mean(0))  # every centre is the mean of its points
    c2, a2 = kmeans(x, 6, iters=200, seed=3)
    assert torch.equal(a, a2)  # deterministic


def test_clusters_separate_sky_and_land_and_assign_merges():
    ed = LabelEditor(_two_tone(), _two_tone(16, 16), clusters=2, compactness=0.0)
    cm = ed.cluster_map("content")
    assert set(cm[:10].unique().tolist()) | set(cm[10:].unique().tolist()) == {0, 1}
    assert cm[:10].unique().numel() == 1 and cm[10:].unique().numel() == 1
    sky = int(cm[0, 0])
    assert ed.assign(sky, 3) == 240
    assert torch.equal(ed.maps["content"][0, 0] == 3, cm == sky)
    ed.assign(1 - sky, 3)  # merging: both clusters now carry label 3
    assert (ed.maps["content"] == 3).all()
    assert ed.undo() and torch.equal(ed.maps["content"][0, 0] == 3, cm == sky)
    with pytest.raises(ValueError, match="cluster"):
        ed.assign(5, 1)


def test_brush_paints_a_disc_and_report_is_label_report():
    ed = LabelEditor(_two_tone(), _two_tone(16, 16))
    n = ed.paint(10, 12, 3, label=2, side="style")
    yy, xx = np.mgrid[:16, :16]
    want = (yy - 10) ** 2 + (xx - 12) ** 2 <= 9
    assert n == want.sum() and np.array_equal(ed.maps["style"][0, 0].numpy() == 2, want)
    ed.paint(5, 5, 3, label=2, side="content")
    rep = ed.report()
    ref = L.label_report(ed.maps["content"], ed.maps["style"])
    assert rep.used == ref.used == [0, 2] and rep.dropped == ref.dropped


def test_save_writes_maps_every_method_reads_and_never_overwrites(tmp_path):
    ed = LabelEditor(_two_tone(), _two_tone(16, 16), clusters=2, compactness=0.0)
    ed.assign(int(ed.cluster_map("content")[0, 0]), 1, side="content")
    ed.assign(int(ed.cluster_map("style")[0, 0]), 1, side="style")
    cp, sp = ed.save(tmp_path / "c.png", tmp_path / "s.png")
    assert torch.equal(label_maps.read_labels(cp), ed.maps["content"]) and torch.equal(label_maps.read_labels(sp), ed.maps["style"])
    before = cp.read_bytes()
    ed.paint(0, 0, 30, label=4, side="content")
    with pytest.raises(FileExistsError):
        ed.save(tmp_path / "c.png", tmp_path / "s2.png")
    assert cp.read_bytes() == before and not (tmp_path / "s2.png").exists()
    assert L.label_report(label_maps.read_labels(cp), label_maps.read_labels(sp)).used  # a usable pair was saved


def test_widget_controls_show_the_settings_and_buttons_edit(tmp_path):
    pytest.importorskip("ipywidgets")
    from stylelab.course.widgets.base import png_size

    c = data.load(data.pairs(labelled=True)[0][0], size=48)
    s = data.load(data.pairs(labelled=True)[0][1], size=40)
    ed = LabelEditor(c, s, clusters=4)
    ed.widget()
    assert {k: ed.controls[k].value for k in ed.SETTINGS} == ed.settings()
    first = ed.result["figure_png"]
    w, h = png_size(first)
    assert ed.controls["figure"].layout.width == f"{w}px"  # shown at its natural size
    ed.controls["label"].value = 5
    ed.controls["cluster"].value = 2
    ed.controls["assign"].click()
    assert (ed.maps["content"] == 5).sum() == (ed.cluster_map("content") == 2).sum()
    assert ed.result["figure_png"] != first and "label 5" in ed.controls["report"].value
    ed.controls["side"].value = "style"
    ed.controls["paint"].click()
    assert (ed.maps["style"] == 5).any()
    ed.controls["content_path"].value = str(tmp_path / "c.png")
    ed.controls["style_path"].value = str(tmp_path / "s.png")
    ed.controls["save"].click()
    assert "saved" in ed.controls["status"].value and (tmp_path / "c.png").exists()
    ed.controls["save"].click()  # again: refused, nothing replaced
    assert "error" in ed.controls["status"].value


def test_row_and_col_sliders_span_the_image_being_edited():
    # seen in the browser (05): the sliders spanned the larger image, a dead range on the smaller one
    pytest.importorskip("ipywidgets")
    g = torch.Generator().manual_seed(0)
    ed = LabelEditor(torch.rand(1, 3, 30, 50, generator=g), torch.rand(1, 3, 20, 24, generator=g), clusters=3)
    ed.widget()
    row, col = ed.controls["row"], ed.controls["col"]
    assert (row.max, col.max) == (29, 49) and (ed.row, ed.col) == (15, 25)
    ed.controls["side"].value = "style"
    assert (row.max, col.max) == (19, 23)
    assert (ed.row, ed.col) == (15, 23) == (row.value, col.value)  # moved inside the style image
    ed.controls["paint"].click()
    assert ed.maps["style"][0, 0, 15, 23] == ed.label
    ed.controls["side"].value = "content"
    assert (row.max, col.max) == (29, 49)
