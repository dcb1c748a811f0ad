"""PhotoWCT with synthetic official-layout weights: loading, the coarse-to-fine order, labels, errors."""

import pytest
import torch

from stylelab import weights as W
from stylelab.methods import photowct as P
from stylelab import transforms as T


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
    with pytest.raises(ValueError, match="resize_labels"):
        model.stylize(c, s, content_labels=torch.zeros(16, 20, dtype=torch.long), style_labels=torch.zeros(24, 32, dtype=torch.long))
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
