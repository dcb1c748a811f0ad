"""PhotoWCT with synthetic official-layout weights: loading, the coarse-to-fine order, labels, errors."""

import pytest
import torch

from stylelab import weights as W
from stylelab.methods import photowct as P
from stylelab.features import transforms as T
from stylelab.features import whitening


@pytest.fixture(scope="module")
def model():
    sd = W.synthetic_state_dict("photowct", seed=0, std=0.05)
    return P.PhotoWCT.from_official(sd, device="cpu")


def _imgs(h=32, w=40):
    g = torch.Generator().manual_seed(0)
    return torch.rand(1, 3, h, w, generator=g), torch.rand(1, 3, 24, 32, generator=g)


def test_official_layout_has_80_tensors_and_loads(model, capsys):
    sd = W.synthetic_state_dict("photowct", seed=1)
    assert len(sd) == 80
    assert sd["d4.conv4_1.weight"].shape == (256, 512, 3, 3)
    assert sd["e4.conv3_4.weight"].shape == (256, 256, 3, 3)
    m = P.PhotoWCT.from_official(sd, device="cpu")
    assert "CC BY-NC-SA" in capsys.readouterr().err  # licence printed on load
    assert m.pretrained
    assert torch.equal(m.d4.conv4_1.weight, sd["d4.conv4_1.weight"])
    bad = dict(sd)
    bad.pop("e2.conv1_2.weight")
    with pytest.raises(W.CheckpointMismatchError):
        P.PhotoWCT.from_official(bad, device="cpu")


def test_stylize_matches_manual_cascade(model):
    c, s = _imgs()
    steps = model.stylize_steps(c, s)
    out = model.stylize(c, s)
    torch.testing.assert_close(out, steps[1], rtol=0, atol=0)
    assert out.shape == c.shape and torch.isfinite(out).all()
    # reproduce FastPhotoStyle's photo_wct.py transform by hand: style features from e4 only; switches from each stage's input
    sf = model.e4(s, layers=["relu4_1", "relu3_1", "relu2_1", "relu1_1"])
    x = c
    for L in (4, 3, 2, 1):
        f = getattr(model, f"e{L}")(x, layers=f"relu{L}_1", switches=True)
        cs = T.wct(f[f"relu{L}_1"], sf[f"relu{L}_1"], 1.0, preset="photowct")
        x = getattr(model, f"d{L}")(cs, f.switches)
        assert torch.allclose(steps[L], x, atol=1e-5)
    assert torch.allclose(out, x, atol=1e-5)


def test_max_unpooling_keeps_positions(model):
    # decoding an encoded image's switches puts activations back at the argmax positions
    c, _ = _imgs(16, 16)
    f = model.e2(c, layers="relu2_1", switches=True)
    idx, size = f.switches["pool1"]
    pooled = torch.nn.functional.max_pool2d(torch.ones(size), 2, 2)
    un = torch.nn.functional.max_unpool2d(pooled, idx, 2, 2, output_size=size[-2:])
    assert (un != 0).sum() == pooled.numel()  # one non-zero per 2×2 block


def test_labels_restrict_transfer(model):
    c, s = _imgs()
    cl = torch.zeros(32, 40, dtype=torch.long)
    cl[:, 20:] = 1
    sl = torch.zeros(24, 32, dtype=torch.long)
    sl[12:] = 1
    out = model.stylize(c, s, content_labels=cl, style_labels=sl)
    assert out.shape == c.shape and torch.isfinite(out).all()
    # labels that are unusable everywhere (no overlap) leave the content features untouched at every level
    none_used = model.stylize(c, s, content_labels=torch.zeros(32, 40, dtype=torch.long), style_labels=torch.ones(24, 32, dtype=torch.long), levels=(1,))
    f = model.e1(c, layers="relu1_1", switches=True)
    assert torch.allclose(none_used, model.d1(f["relu1_1"], f.switches), atol=1e-6)
    assert not torch.allclose(out, model.stylize(c, s), atol=1e-4)


def test_bad_labels_give_clear_errors(model):
    c, s = _imgs()
    with pytest.raises(ValueError, match="labels_from_rgb"):
        model.stylize(c, s, content_labels=torch.zeros(1, 3, 32, 40), style_labels=torch.zeros(24, 32))
    with pytest.raises(ValueError, match="aspect"):  # a square map on a 40×32 photo: never stretched
        model.stylize(c, s, content_labels=torch.zeros(32, 32, dtype=torch.long), style_labels=torch.zeros(24, 32, dtype=torch.long))
    with pytest.raises(ValueError, match="both"):
        model.stylize(c, s, content_labels=torch.zeros(32, 40, dtype=torch.long))
    with pytest.raises(ValueError, match="levels"):
        model.stylize(c, s, levels=(5,))


def test_stylize_then_smooth(model):
    c, s = _imgs(20, 24)
    out = model.stylize(c, s, smoothing="direct")
    assert out.shape == c.shape and out.min() >= 0 and out.max() <= 1
    assert out.dtype == c.dtype


def test_random_weights_need_permission(monkeypatch, tmp_path):
    monkeypatch.setenv("STYLELAB_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.delenv("STYLELAB_RANDOM_WEIGHTS", raising=False)
    monkeypatch.setattr(W, "search_dirs", lambda: [tmp_path])
    with pytest.raises(W.WeightsNotFoundError):
        P.PhotoWCT.from_official(None, device="cpu", random=False)
    with pytest.warns(W.RandomWeightsWarning):
        m = P.PhotoWCT.from_official(None, device="cpu", random=True)
    assert not m.pretrained


def test_cli_transfer(tmp_path, monkeypatch):
    from stylelab import cli
    from stylelab.io import save_image, load_image

    c, s = _imgs(24, 24)
    save_image(c, tmp_path / "c.png")
    save_image(s, tmp_path / "s.png")
    torch.save(W.synthetic_state_dict("photowct"), tmp_path / "photo_wct.pth")
    rc = cli.main(["transfer", "--method", "photowct", str(tmp_path / "c.png"), str(tmp_path / "s.png"), "-o", str(tmp_path / "o.png"),
                   "--size", "24", "--weights", str(tmp_path / "photo_wct.pth"), "--smooth", "gif"])
    assert rc == 0
    assert load_image(tmp_path / "o.png").shape == (1, 3, 24, 24)


# ---------------------------------------------------------------------------- the official algorithm as oracle
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _official_segments as O  # noqa: E402

from stylelab.media import data  # noqa: E402
from stylelab import labels as L  # noqa: E402


def _official_photowct(m, c, s, cseg, sseg, resize=O.pil_resize):
    """FastPhotoStyle's ``transform`` with segments on stylelab's (verified) encoders/decoders, float64."""
    label_set = O.official_label_set(cseg, sseg)
    sf = m.e4(s, layers=[f"relu{lv}_1" for lv in P.LEVELS])
    x = c
    for lv in P.LEVELS:
        f = getattr(m, f"e{lv}")(x, layers=f"relu{lv}_1", switches=True)
        cs = O.segment_loop(O.photowct_core, f[f"relu{lv}_1"], sf[f"relu{lv}_1"], cseg, sseg, label_set)
        x = getattr(m, f"d{lv}")(cs, f.switches)
    return x


def _cases():
    """A course sky/land pair at an odd size, and irregular generated maps with a small region
    (12 px in the content, 16 in the style: used) that vanishes at levels 3 and 4."""
    cn, sn = data.pairs(labelled=True)[0]
    yield (data.load(cn, size=(45, 61)), data.load(sn, size=(52, 56)),
           data.load_labels(cn, size=(45, 61))[0, 0].numpy(), data.load_labels(sn, size=(52, 56))[0, 0].numpy())
    cn, sn = data.pairs(labelled=True)[2]
    cseg, sseg = O.irregular_maps(50, 66, seed=1), O.irregular_maps(41, 59, seed=2)
    cseg[1:4, 31:35] = 5  # placed so that no region is exactly one pixel at any level (official: NaN)
    sseg[0:4, 19:23] = 5
    assert [O.region_sizes(cseg, 50 >> k, 66 >> k, [5])[5] for k in range(4)] == [12, 4, 0, 0]
    yield data.load(cn, size=(50, 66)), data.load(sn, size=(41, 59)), cseg, sseg


@pytest.mark.slow
def test_labels_equal_the_official_algorithm(model):
    """Equal to FastPhotoStyle's segment handling wherever it is well defined (no 1-pixel region)."""
    m = model.double()
    try:
        for c, s, cseg, sseg in _cases():
            c, s = c.double(), s.double()
            ref = _official_photowct(m, c, s, cseg, sseg)
            assert torch.isfinite(ref).all()  # well defined here: no region of exactly one pixel
            ours = m.stylize(c, s, content_labels=torch.from_numpy(cseg.astype(np.int64)),
                             style_labels=torch.from_numpy(sseg.astype(np.int64)), compute_dtype=torch.float64)
            scale = float(ref.abs().max())
            err = float((ours - ref).abs().max())
            assert err <= 1e-9 * scale, err
            # the comparison can fail: without labels the output is far from the oracle
            assert float((m.stylize(c, s, compute_dtype=torch.float64) - ref).abs().max()) > 1e-3 * scale
    finally:
        model.float()


def test_one_pixel_regions_deviate_from_the_official_nan_as_documented(model):
    """Official: ÷(N−1) = 0/0 → NaN. Here: a 1-pixel content region becomes its style region's mean,
    a 1-pixel style region gives its content region the style pixel (module docstring)."""
    g = torch.Generator().manual_seed(3)
    cf = torch.rand(1, 8, 6, 6, generator=g, dtype=torch.float64)
    sf = torch.rand(1, 8, 6, 6, generator=g, dtype=torch.float64)
    cseg = np.zeros((6, 6), np.int64)
    cseg[2, 3] = 1
    sseg = np.zeros((6, 6), np.int64)
    sseg[:3] = 1
    ref = O.segment_loop(O.photowct_core, cf, sf, cseg, sseg, [0, 1])
    assert torch.isnan(ref[0, :, 2, 3]).all() and torch.isfinite(ref[0, :, 5]).all()
    cfg = whitening.wct_config("photowct", compute_dtype=torch.float64)
    ours = T.wct_prepared(cf, T.prepare_wct_style(sf, cfg, torch.from_numpy(sseg)), 1.0, torch.from_numpy(cseg),
                          used=[0, 1])
    torch.testing.assert_close(ours[0, :, 2, 3], sf[0, :, :3].mean((1, 2)))
    keep = torch.ones(6, 6, dtype=torch.bool)
    keep[2, 3] = False
    torch.testing.assert_close(ours[0][:, keep], ref[0][:, keep])  # everywhere else: the official values
    # style side: one style pixel of label 1
    ref = O.segment_loop(O.photowct_core, sf, cf, sseg, cseg, [0, 1])
    assert torch.isnan(ref[0, :, :3]).all()
    ours = T.wct_prepared(sf, T.prepare_wct_style(cf, cfg, torch.from_numpy(cseg)), 1.0, torch.from_numpy(sseg),
                          used=[0, 1])
    torch.testing.assert_close(ours[0, :, :3], cf[0, :, 2, 3][:, None, None].expand(8, 3, 6))
    # the whole method with such maps: finite where the official code gives NaN
    c, s = _imgs(32, 40)
    cl = torch.zeros(32, 40, dtype=torch.long)
    cl[2:6, 2:6] = 1  # 16 px: used; one pixel at 1/8 size (level 4)
    sl = torch.zeros(24, 32, dtype=torch.long)
    sl[12:, :] = 1
    m = model.double()
    try:
        official = _official_photowct(m, c.double(), s.double(), cl.numpy(), sl.numpy())
        assert torch.isnan(official).any()
        out = m.stylize(c.double(), s.double(), content_labels=cl, style_labels=sl)
        assert torch.isfinite(out).all()
    finally:
        model.float()
