"""Label maps without a segmentation network (stylelab.labels.auto): valid for every course photo, usable by every method."""

from __future__ import annotations

import pytest
import torch

from stylelab.media import data
from stylelab import labels as L
from stylelab.labels import maps as label_maps
from stylelab.labels.auto import auto_label_pair, auto_labels, superpixels

PHOTOS = data.names("content") + data.names("style_photo")


@pytest.mark.slow
@pytest.mark.parametrize("name", PHOTOS)
def test_every_course_photo_gets_a_valid_map_that_the_readers_and_the_editor_take(name, tmp_path):
    image = data.load(name, size=160)
    lab = auto_labels(image, k=4)
    assert lab.shape == (1, 1, *image.shape[-2:]) and lab.dtype == torch.int64
    label_maps.check_labels(lab)
    ids = torch.unique(lab).tolist()
    assert ids == list(range(len(ids))) and len(ids) >= 2  # consecutive, and more than one region
    path = label_maps.save_labels(lab, tmp_path / f"{name}.png")
    assert torch.equal(label_maps.read_labels(path).view_as(lab), lab)  # the file format the CLI reads
    from stylelab.course.widgets.labels import LabelEditor

    editor = LabelEditor(image, image, content_labels=lab, style_labels=lab)
    assert torch.equal(editor.maps["content"], lab)


def test_pair_labels_are_all_used_by_the_transfer_and_follow_superpixels():
    content, style = data.load("rocket", size=128), data.load("storm", size=128)
    cl, sl = auto_label_pair(content, style, k=4)
    report = L.label_report(cl, sl)
    assert report.dropped == {} and report.used == sorted(torch.unique(torch.cat([cl.flatten(), sl.flatten()])).tolist())
    assert report.content_fraction == 1.0  # every content pixel is stylised
    seg = superpixels(content)
    for s in torch.unique(seg):  # a label region is a union of superpixels: each superpixel has one label
        assert torch.unique(cl[0, 0][seg == s]).numel() == 1
    # deterministic
    assert torch.equal(auto_label_pair(content, style, k=4)[0], cl)


def test_ids_run_from_dark_to_light():
    img = torch.zeros(1, 3, 40, 60)
    img[..., 20:, :] = 0.9  # a dark top, a light bottom
    lab = auto_labels(img, k=2, n_segments=12)
    assert lab[0, 0, 5, 5] == 0 and lab[0, 0, 35, 5] == 1


def test_labels_absent_from_one_image_are_merged_not_dropped():
    a = torch.zeros(1, 3, 40, 40)
    a[..., :, 20:] = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)  # black | red
    b = torch.zeros(1, 3, 40, 40)
    b[..., 20:, :] = torch.tensor([0.0, 0.0, 1.0]).view(1, 3, 1, 1)  # black / blue: no red at all
    cl, sl = auto_label_pair(a, b, k=3, n_segments=16)
    assert L.label_report(cl, sl).dropped == {}


def test_bad_input():
    with pytest.raises(ValueError, match="k must be"):
        auto_labels(torch.rand(1, 3, 8, 8), k=0)
    with pytest.raises(Exception, match="3 channels|channels"):
        auto_labels(torch.rand(1, 1, 8, 8))
