"""Subband explorer: callbacks driven headlessly by setting control values."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from stylelab.features import wavelets as Wv
from stylelab.course.widgets.subbands import SubbandExplorer


def _img(h=32, w=24, c=3, seed=0):
    return torch.rand(1, c, h, w, generator=torch.Generator().manual_seed(seed))


def _png(b):
    return np.asarray(Image.open(io.BytesIO(b)))


def test_all_bands_reconstruct_exactly_and_ll_only_is_block_average():
    x = _img()
    ex = SubbandExplorer(x, max_level=3)
    for L in (1, 2, 3):
        ex.level = L
        ex.bands = set(Wv.BANDS)
        torch.testing.assert_close(ex.reconstruction(), x, rtol=0, atol=1e-5)
        ex.bands = {"LL"}
        k = 2**L
        ref = torch.nn.functional.avg_pool2d(x, k).repeat_interleave(k, -2).repeat_interleave(k, -1)
        torch.testing.assert_close(ex.reconstruction(), ref, rtol=0, atol=1e-5)
        assert abs(sum(ex.energies().values()) - 1) < 1e-9


def test_widget_callbacks_update_images_and_table():
    x = _img()
    ex = SubbandExplorer(x, max_level=3, compare=x.flip(-1))
    ui = ex.widget()
    assert ui is ex._widget
    before = ex.image_widgets["reconstruction"].value
    z = ex.zoom  # small images are shown enlarged by an integer zoom, nearest-neighbour
    assert _png(before).shape[:2] == (32 * z, 24 * z)
    assert np.abs(_png(before)[::z, ::z].astype(int) - (x[0].permute(1, 2, 0).numpy() * 255).round()).max() <= 1
    ex.band_boxes["LL"].value = False  # details only
    assert ex.bands == {"LH", "HL", "HH"}
    after = ex.image_widgets["reconstruction"].value
    assert after != before
    ex.level_slider.value = 2
    assert ex.level == 2 and "level 2" in ex.table.value and "change" in ex.table.value
    torch.testing.assert_close(ex.reconstruction(), x - ex._pyr[2][0].repeat_interleave(4, -2).repeat_interleave(4, -1) / 4,
                               rtol=0, atol=1e-5)
    ch = ex.band_change()
    assert set(ch) == set(Wv.BANDS) and all(v > 0 for v in ch.values())


def test_features_channel_slider_and_errors():
    f = torch.randn(1, 8, 16, 16)
    ex = SubbandExplorer(f, max_level=2)
    ex.widget()
    first = ex.image_widgets["original"].value
    ex.channel_slider.value = 5
    assert ex.channel == 5 and ex.image_widgets["original"].value != first
    with pytest.raises(ValueError, match="compare"):
        ex.band_change()
    with pytest.raises(ValueError, match="one image"):
        SubbandExplorer(torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match="level=9 is outside"):  # the slider stops at max_level
        ex.level = 9
    assert ex.level == ex.level_slider.value == 2
    plain = SubbandExplorer(f, max_level=2)  # no widget: the computation itself refuses the level
    plain.level = 9
    with pytest.raises(ValueError, match="level"):
        plain.reconstruction()


def test_static_figure():
    fig = SubbandExplorer(_img(16, 16), max_level=2).figure()
    assert len(fig.axes) == 6


def test_toggles_say_their_state_and_the_caption_names_the_bands_in_use():
    ex = SubbandExplorer(_img(32, 32), max_level=2)
    ex.widget()
    assert [b.description for b in ex.band_boxes.values()] == ["LL on", "LH on", "HL on", "HH on"]
    ex.band_boxes["LH"].value = False
    assert ex.band_boxes["LH"].description == "LH off" and ex.band_boxes["LH"].button_style == ""
    assert ex.band_boxes["LL"].button_style == "success"
    assert "LL+HL+HH" in ex.caption_widgets["reconstruction"].value and "LL+HL+HH" in ex._c["status"].value
    assert "LH ✓" not in ex.table.value and "HL ✓" in ex.table.value


def test_level_changes_the_picture_even_with_every_band_on():
    ex = SubbandExplorer(_img(32, 32), max_level=3)
    ex.widget()
    assert ex.bands == set(Wv.BANDS) and "exact at every level" in ex._c["status"].value
    before = ex.image_widgets["bands"].value
    ex.level_slider.value = 2
    assert ex.image_widgets["bands"].value != before  # the band mosaic of level 2
    mosaic = ex.band_mosaic()
    assert mosaic.shape[-2:] == (2 * 8, 2 * 8)  # four 8×8 bands of a 32-px image at level 2


def test_detail_only_views_are_drawn_with_a_stated_gain():
    x = _img(32, 32)
    ex = SubbandExplorer(x, max_level=2)
    ex.bands = {"LH", "HL", "HH"}
    shown = ex.images()["reconstruction"]
    spread = float((shown - 0.5).abs().flatten().quantile(0.99))
    assert 0.35 < spread <= 0.5  # the 99th percentile reaches ±0.45 around grey, not a faint ±0.05
    assert f"×{ex.detail_gain():.3g}" in ex.captions()["reconstruction"]
    ex.bands = set(Wv.BANDS)
    assert ex.detail_gain() == 1.0 and "×" not in ex.captions()["reconstruction"]


def test_energy_table_follows_the_channel_slider():
    f = torch.randn(1, 4, 16, 16)
    f[:, 2] = f[:, 2].mean()  # a flat channel: all its energy is in LL
    ex = SubbandExplorer(f, max_level=2)
    ex.widget()
    ex.channel_slider.value = 2
    assert "channel 2" in ex.table.value and "100.00%" in ex.table.value
    ex.channel_slider.value = 1
    assert "channel 1" in ex.table.value and "100.00%" not in ex.table.value


def test_large_pictures_are_reduced_to_fit_two_beside_the_controls():
    from stylelab.course.widgets.base import PICTURE_SIDE

    x = _img(512, 384)
    ex = SubbandExplorer(x, max_level=2, compare=x.flip(-1))
    ex.widget()
    assert ex.shrink == 2 and "shown at 1/2" in ex._c["status"].value
    for k, im in ex.image_widgets.items():
        w, h = Image.open(io.BytesIO(im.value)).size
        assert max(w, h) <= PICTURE_SIDE, (k, w, h)
    assert type(ex._widget.children[1]).__name__ == "GridBox"  # pictures in a grid beside the controls


def test_band_mosaic_keeps_its_size_at_every_level_and_its_caption_says_how_it_is_drawn():
    # found in JupyterLab (tools/check_widgets_browser.py): the level-L mosaic shrank by 2^(L-1) (64 px at level 2)
    for hw in [(64, 64), (512, 384)]:
        ex = SubbandExplorer(_img(*hw), max_level=4)
        ex.widget()
        sizes = set()
        for L in range(1, ex.max_level + 1):
            ex.level_slider.value = L
            sizes.add(Image.open(io.BytesIO(ex.image_widgets["bands"].value)).size)
            cap = ex.captions()["bands"]
            assert f"level {L}" in cap and f"LL ÷ {2 ** L}" in cap and "details ×4" in cap
        assert len(sizes) == 1, (hw, sizes)
        assert sizes == {Image.open(io.BytesIO(ex.image_widgets["original"].value)).size}
        # level 4: 64 px → 4×4 bands drawn ×16; 512×384 px (reduced to 1/2 at level 1) → 32×24 bands drawn ×4
        assert ("shown ×16" if hw == (64, 64) else "shown ×4") in cap


def test_every_band_off_draws_mid_grey_for_colour_and_feature_maps():
    # seen in the browser: "nothing" drew black for feature maps, mid-grey for colour images
    for x in (_img(), torch.randn(1, 8, 16, 16)):
        ex = SubbandExplorer(x, max_level=2)
        ex.bands = ()
        assert ex.used() == "nothing"
        shown = ex.images()["reconstruction"]
        assert torch.equal(shown, torch.full_like(shown, 0.5)), x.shape
