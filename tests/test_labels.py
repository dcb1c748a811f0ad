"""stylelab.labels: reading every map format, validation, the official resize convention, the usability report."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from stylelab import labels as L
from stylelab.labels import maps as label_maps
from stylelab.features import transforms as T
from stylelab.features import whitening
from stylelab import validate as V


# ---------------------------------------------------------------------------- resize = PIL NEAREST
def test_nearest_indices_equal_pil_for_every_size_pair():
    """PIL's NEAREST (what the official code calls) is the oracle, up- and downscaling, 1..120 px."""
    for n_in in range(1, 121):
        row = np.arange(n_in, dtype=np.int32)[None].repeat(2, 0)
        for n_out in range(1, 121):
            pil = np.asarray(Image.fromarray(row).resize((n_out, 2), Image.NEAREST))[0]
            assert label_maps.nearest_indices(n_in, n_out).tolist() == pil.tolist(), (n_in, n_out)


def test_resize_labels_matches_pil_on_a_map_and_differs_from_torch_nearest():
    g = np.random.default_rng(0)
    m = g.integers(0, 7, size=(37, 53)).astype(np.int32)
    for h, w in [(18, 26), (5, 7), (74, 106), (37, 20), (1, 1)]:
        pil = np.asarray(Image.fromarray(m).resize((w, h), Image.NEAREST))
        assert label_maps.resize_labels(torch.from_numpy(m.astype(np.int64)), (h, w))[0, 0].numpy().tolist() == pil.tolist()
    # at an exact 2× reduction the official convention takes the odd rows/columns; torch "nearest" the even ones
    x = torch.arange(16).view(1, 1, 4, 4)
    assert label_maps.resize_labels(x, (2, 2)).flatten().tolist() == [5, 7, 13, 15]
    assert F.interpolate(x.float(), size=(2, 2), mode="nearest").long().flatten().tolist() == [0, 2, 8, 10]


def test_resize_keeps_large_ids_exact_and_runs_on_the_input_device():
    big = torch.tensor([[2**24 + 1, 2**40 + 3], [-5, 2**62]], dtype=torch.long)
    out = label_maps.resize_labels(big, (4, 4))
    assert set(out.unique().tolist()) == set(big.flatten().tolist())
    assert out.device == big.device and out.dtype == torch.long


# ---------------------------------------------------------------------------- validation
@pytest.mark.parametrize("hw,multiple,min_size", [((5, 7), 8, 16), ((20, 3), 1, 17), ((6, 9), 4, 1), ((1, 1), 1, 9)])
def test_pad_to_size_pads_a_label_map_exactly_as_its_image(hw, multiple, min_size):
    """A padded map labels the padded image's pixels: the oracle is F.pad of the image of source positions."""
    h, w = hw
    ids = torch.randint(0, 5, (1, 1, h, w), generator=torch.Generator().manual_seed(0)) + 2**60  # not exact in float64
    where = torch.arange(h * w, dtype=torch.float64).view(1, 1, h, w)
    source = V.pad_to_size(where, multiple, min_size).long()  # the image path: reflection (replication when tiny)
    got = V.pad_to_size(ids, multiple, min_size)
    assert got.dtype == torch.int64 and got.shape == source.shape
    assert torch.equal(got, ids.flatten()[source])
    assert torch.equal(V.pad_to_size(ids[0, 0], multiple, min_size), got[0, 0])  # (H, W) maps alike


def test_check_labels_shapes_batches_and_errors():
    assert label_maps.check_labels(torch.zeros(5, 6, dtype=torch.int32)).shape == (1, 1, 5, 6)
    # (3, H, W) is a batch of three maps (the documented meaning of 3-D input), never an RGB mask
    assert label_maps.check_labels(torch.zeros(3, 5, 6, dtype=torch.long)).shape == (3, 1, 5, 6)
    assert label_maps.check_labels(torch.zeros(2, 1, 5, 6, dtype=torch.uint8)).dtype == torch.long
    assert label_maps.check_labels(torch.ones(4, 4, dtype=torch.bool)).sum() == 16
    for rgb in (torch.zeros(1, 3, 4, 4), np.zeros((4, 4, 3), dtype=np.uint8), torch.zeros(2, 4, 8, 8)):
        with pytest.raises(ValueError, match="labels_from_rgb"):
            label_maps.check_labels(rgb)
    with pytest.raises(ValueError, match="non-integer"):
        label_maps.check_labels(torch.full((4, 4), 0.5))
    with pytest.raises(ValueError, match="2\\^24"):
        label_maps.check_labels(torch.full((2, 2), 2.0**25))
    for empty in (torch.zeros(0, 0, dtype=torch.long), torch.zeros(1, 1, 0, 5, dtype=torch.long)):
        with pytest.raises(ValueError, match="empty"):
            label_maps.check_labels(empty)


def test_check_aspect_allows_rounding_only():
    label_maps.check_aspect((341, 512), (64, 96))  # 512×341 photo resized to a 96-wide image: rounding only
    label_maps.check_aspect((64, 64), (65, 64))
    with pytest.raises(ValueError, match="aspect"):
        label_maps.check_aspect((64, 64), (96, 64))
    with pytest.raises(ValueError, match="aspect"):
        label_maps.fit_labels(torch.zeros(64, 64, dtype=torch.long), (96, 64))
    assert label_maps.fit_labels(torch.zeros(32, 48, dtype=torch.long), (64, 96)).shape == (1, 1, 64, 96)


def test_labels_from_rgb_palette():
    img = torch.tensor([[[0, 0, 1], [0, 1, 0], [1, 0, 0]], [[1, 1, 1], [0.5, 0.5, 0.5], [1, 0, 1]]]).permute(2, 0, 1)
    assert label_maps.labels_from_rgb(img).flatten().tolist() == [3, 2, 4, 1, 6, 8]
    assert label_maps.labels_from_rgb((img * 255).to(torch.uint8)).flatten().tolist() == [3, 2, 4, 1, 6, 8]
    assert label_maps.labels_from_rgb(img, palette=[(0, 0, 0), (1, 1, 1)]).flatten().tolist() == [0, 0, 0, 1, 0, 1]
    assert label_maps.labels_from_rgb(label_maps.labels_to_rgb(torch.arange(9).view(3, 3))).flatten().tolist() == list(range(9))


# ---------------------------------------------------------------------------- reading files
def _ids():
    return np.array([[0, 0, 1, 1], [2, 2, 1, 1], [0, 3, 3, 1]], dtype=np.uint8)


def test_read_labels_every_format(tmp_path):
    ids = _ids()
    Image.fromarray(ids, "L").save(tmp_path / "l.png")
    pal = Image.fromarray(ids, "P")
    pal.putpalette([v for i in range(256) for v in ((i * 40) % 256, (i * 90) % 256, (i * 10) % 256)])
    pal.save(tmp_path / "p.png")
    Image.fromarray(ids.astype(np.uint16) * 1000).save(tmp_path / "i16.png")
    Image.fromarray(np.stack([ids, np.full_like(ids, 255)], -1), "LA").save(tmp_path / "la.png")
    Image.fromarray(np.repeat(ids[..., None], 3, -1), "RGB").save(tmp_path / "grey_rgb.png")
    dpst = np.array([(0, 0, 0), (255, 255, 255), (0, 255, 0), (0, 0, 255)], dtype=np.uint8)[ids]
    Image.fromarray(dpst, "RGB").save(tmp_path / "dpst.png")
    Image.fromarray(np.concatenate([dpst, np.full_like(dpst[..., :1], 200)], -1), "RGBA").save(tmp_path / "dpst_a.png")
    expect = ids.astype(np.int64)
    for name, want in [("l", expect), ("p", expect), ("i16", expect * 1000), ("la", expect), ("grey_rgb", expect),
                       ("dpst", np.array([0, 1, 2, 3])[ids]), ("dpst_a", np.array([0, 1, 2, 3])[ids])]:
        got = label_maps.read_labels(tmp_path / f"{name}.png")
        assert got.shape == (1, 1, 3, 4) and got.dtype == torch.long, name
        assert got[0, 0].numpy().tolist() == want.tolist(), name
    with pytest.raises(ValueError, match="colour"):
        label_maps.read_labels(tmp_path / "dpst.png", colours="ids")
    # a palette PNG painted in DPST's colours, read by colour
    dp = Image.fromarray(ids, "P")
    dp.putpalette([0, 0, 0, 255, 255, 255, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 12))
    dp.save(tmp_path / "dp.png")
    assert label_maps.read_labels(tmp_path / "dp.png", colours="palette")[0, 0].numpy().tolist() == ids.tolist()


def test_read_labels_bad_files_give_clear_errors(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    for name in ("empty.png", "junk.png"):
        with pytest.raises(ValueError, match="not an image|could not be decoded"):
            label_maps.read_labels(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        label_maps.read_labels(tmp_path / "missing.png")
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "sq.png")
    with pytest.raises(ValueError, match="aspect"):
        label_maps.read_labels(tmp_path / "sq.png", like=(96, 64))
    assert label_maps.read_labels(tmp_path / "sq.png", like=torch.zeros(1, 3, 32, 32)).shape == (1, 1, 32, 32)


def test_save_labels_round_trip_and_never_overwrites(tmp_path):
    lab = torch.from_numpy(_ids().astype(np.int64))
    p = label_maps.save_labels(lab, tmp_path / "m.png")
    assert torch.equal(label_maps.read_labels(p)[0, 0], lab)
    with pytest.raises(FileExistsError):
        label_maps.save_labels(lab * 0, p)
    assert torch.equal(label_maps.read_labels(p)[0, 0], lab)  # untouched
    big = lab * 20000
    assert torch.equal(label_maps.read_labels(label_maps.save_labels(big, tmp_path / "big.png"))[0, 0], big)
    with pytest.raises(ValueError, match="0..65535"):
        label_maps.save_labels(lab + 70000, tmp_path / "huge.png")
    with pytest.raises(ValueError, match="PNG"):
        label_maps.save_labels(lab, tmp_path / "m.jpg")


# ---------------------------------------------------------------------------- which labels are used
def _lab(counts):
    return torch.cat([torch.full((n,), k, dtype=torch.long) for k, n in counts.items()])[None]


def test_usability_rule_is_strict_as_official_and_says_why():
    assert L.usable_labels(_lab({0: 11, 1: 500}), _lab({0: 11, 1: 6})) == [0]  # 10 px is not enough, 11 is
    assert L.usable_labels(_lab({0: 1100}), _lab({0: 11})) == []  # ratio exactly 100: refused
    assert L.usable_labels(_lab({0: 1089}), _lab({0: 11})) == [0]  # ratio 99
    assert L.usable_labels(_lab({0: 30}), _lab({0: 30}), min_pixels=40) == []
    assert L.usable_labels(_lab({0: 1100}), _lab({0: 11}), max_ratio=200) == [0]
    rep = L.label_report(_lab({0: 50, 1: 5, 2: 2000, 3: 40}), _lab({0: 60, 1: 50, 2: 12, 4: 30}))
    assert rep.used == [0]
    assert "only 5 px in the content" in rep.dropped[1]
    assert "differ" in rep.dropped[2] and rep.dropped[3] == "not in the style" and rep.dropped[4] == "not in the content"
    assert abs(rep.content_fraction - 50 / 2095) < 1e-12
    assert "label 2" in str(rep)
    # labels present in one map only (3 in the content, 4 in the style) are warned about (issue 27)
    assert rep.unmatched == {"content": [3], "style": [4]}
    assert "label 3 of the content map is not in the style map" in rep.warning()
    assert "label 4 of the style map is not in the content map" in rep.warning()
    assert L.label_report(_lab({0: 50, 1: 40}), _lab({0: 60, 1: 5})).warning() is None  # both present: no warning


def test_nothing_usable_warns_and_keeps_the_content():
    from stylelab.features import transforms as T
    from stylelab.features import whitening

    c, s = torch.randn(1, 4, 6, 6, dtype=torch.float64), torch.randn(1, 4, 5, 5, dtype=torch.float64)
    with pytest.warns(L.LabelWarning, match="NOTHING is stylised"):
        out = T.wct(c, s, content_labels=torch.zeros(6, 6, dtype=torch.long), style_labels=torch.ones(5, 5, dtype=torch.long))
    assert torch.equal(out, c)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        T.wct(c, s, content_labels=torch.zeros(6, 6, dtype=torch.long), style_labels=torch.zeros(5, 5, dtype=torch.long))


def test_batch_of_maps_mismatch_is_explained():
    from stylelab.features import transforms as T
    from stylelab.features import whitening

    c, s = torch.randn(1, 4, 6, 6), torch.randn(1, 4, 6, 6)
    with pytest.raises(ValueError, match="batch of 3 maps"):
        T.adain(c, s, content_labels=torch.zeros(3, 6, 6, dtype=torch.long), style_labels=torch.zeros(6, 6, dtype=torch.long))


def _wct_labelled(c, s, cl, sl, cfg, used):
    """WCT per used label through the one path (prepared style, the one per-label loop)."""
    return T.wct_prepared(c, T.prepare_wct_style(s, cfg, sl), 1.0, cl, used=used)


def test_one_pixel_regions_follow_the_documented_rule():
    """WCT (every preset) and AdaIN: a 1-pixel content region takes the style region's mean
    (WCT², clamped to the pixel's own range), a 1-pixel style region's value is its pixel."""
    from stylelab.features import transforms as T
    from stylelab.features import whitening

    g = torch.Generator().manual_seed(0)
    c = torch.rand(1, 3, 5, 5, generator=g, dtype=torch.float64)
    s = torch.rand(1, 3, 5, 5, generator=g, dtype=torch.float64)
    cl = torch.zeros(5, 5, dtype=torch.long)
    cl[2, 2] = 1  # one content pixel of label 1
    sl = torch.zeros(5, 5, dtype=torch.long)
    sl[0:3, 0:4] = 1  # 12 style pixels of label 1
    mean1 = s[0].flatten(1)[:, (sl == 1).flatten()].mean(1)
    for preset in ("exact", "photowct", "official_wct", "pytorch_wct"):
        out = _wct_labelled(c, s, cl, sl, whitening.wct_config(preset), [1])
        torch.testing.assert_close(out[0, :, 2, 2], mean1)
    out = _wct_labelled(c, s, cl, sl, whitening.wct_config("wct2"), [1])
    px = c[0, :, 2, 2]
    torch.testing.assert_close(out[0, :, 2, 2], mean1.clamp(px.min(), px.max()))
    out = T.adain(c, s, content_labels=cl, style_labels=sl, min_pixels=0)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[0, :, 2, 2], mean1)
    # a 1-pixel style region: WCT without regularisation gives its pixel
    out = _wct_labelled(s, c, sl, cl, whitening.wct_config("photowct"), [1])
    assert torch.equal(out[0, :, 0, 0], out[0, :, 1, 3]) and torch.allclose(out[0, :, 0, 0], c[0, :, 2, 2])


# ---------------------------------------------------------------- one resolution rule for every method
def _method(name):
    from stylelab.methods.adain import AdaIN
    from stylelab.methods.photowct import PhotoWCT
    from stylelab.methods.wct import WCT
    from stylelab.methods.wct2 import WCT2

    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # random weights: the rule is about the maps, not the pictures
        return {
            "adain": lambda: AdaIN.from_official(device="cpu", random=True),
            "wct": lambda: WCT.from_official(levels=(2, 1), device="cpu", random=True),
            "photowct": lambda: PhotoWCT.from_official("random", device="cpu"),
            "wct2": lambda: WCT2.from_official(unpool="sum", device="cpu", random=True),
        }[name]()


@pytest.mark.parametrize("name", ["adain", "wct", "photowct", "wct2"])
def test_every_method_resizes_maps_of_the_images_aspect_and_refuses_another(name):
    """A map at half its image's resolution gives the result of that map resized to the image with PIL's NEAREST
    (the official convention); a map of another aspect is a clear error (AdaIN and WCT used to accept both silently)."""
    m = _method(name)
    g = torch.Generator().manual_seed(1)
    c, s = torch.rand(1, 3, 32, 48, generator=g), torch.rand(1, 3, 32, 32, generator=g)
    cl = torch.zeros(16, 24, dtype=torch.long)
    cl[:, 7:] = 1
    cl[9:, 16:] = 2  # block edges off the image's pixel grid: the resize convention decides where they land
    sl = torch.zeros(16, 16, dtype=torch.long)
    sl[:, 5:] = 1
    sl[11:, :] = 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        half = m.stylize(c, s, content_labels=cl, style_labels=sl)
        full = m.stylize(c, s, content_labels=label_maps.resize_labels(cl, (32, 48)), style_labels=label_maps.resize_labels(sl, (32, 32)))
        torch.testing.assert_close(half, full, rtol=0, atol=0)
        for bad in ({"content_labels": torch.zeros(32, 32, dtype=torch.long), "style_labels": sl},
                    {"content_labels": cl, "style_labels": torch.zeros(16, 32, dtype=torch.long)}):
            with pytest.raises(ValueError, match="aspect ratios differ"):
                m.stylize(c, s, **bad)


def test_adain_prepared_style_follows_the_same_label_rule():
    m = _method("adain")
    g = torch.Generator().manual_seed(2)
    c, s = torch.rand(1, 3, 32, 48, generator=g), torch.rand(1, 3, 32, 32, generator=g)
    cl, sl = torch.zeros(16, 24, dtype=torch.long), torch.zeros(16, 16, dtype=torch.long)
    cl[:, 9:] = 1
    sl[5:, :] = 1
    torch.testing.assert_close(m.stylize(c, m.prepare_style(s, style_labels=sl), content_labels=cl),
                               m.stylize(c, s, content_labels=cl, style_labels=sl), rtol=0, atol=0)
    with pytest.raises(ValueError, match="aspect ratios differ"):
        m.prepare_style(s, style_labels=torch.zeros(16, 32, dtype=torch.long))
