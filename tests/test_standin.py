"""Course stand-ins: fixed-seed random encoder, small trained decoders, non-flat outputs."""

import pytest
import torch

from stylelab.course import standin
from stylelab import viz
from stylelab.nets.decoders import MirrorDecoder


def test_random_encoder_is_reproducible_and_truncations_are_prefixes():
    a, b = standin.random_encoder("relu5_1"), standin.random_encoder("relu5_1")
    for (k, v), (_, w) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(v, w), k
    short = standin.random_encoder("relu2_1")
    assert torch.equal(short.conv2_1.weight, a.conv2_1.weight)
    assert not a.pretrained
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    f = a(x, layers=["relu1_1", "relu4_1"])
    assert 0.05 < float(f["relu1_1"].std()) < 20 and 0.05 < float(f["relu4_1"].std()) < 20  # O(1) activations


def test_narrow_decoder_shapes_and_bad_width():
    d = MirrorDecoder(4, width=16)
    assert d.conv4_1.in_channels == 512 and d.conv1_1.out_channels == 3
    assert d(torch.rand(1, 512, 4, 4)).shape == (1, 3, 32, 32)
    with pytest.raises(ValueError, match="width"):
        MirrorDecoder(2, unpool="max", width=4)


@pytest.mark.parametrize("method", ["adain", "wct", "photowct", "wct2"])
def test_stand_in_models_reconstruct_and_are_not_flat(method):
    from stylelab.media import data

    model = standin.model(method)
    assert model.stand_in.startswith(standin.LABEL) and not model.pretrained
    c, s = data.load("astronaut", size=(64, 64)), data.load("autumn", size=(64, 64))
    kw = {"levels": standin.PHOTOWCT_LEVELS} if method == "photowct" else {}
    out = model.stylize(c, s, **kw)
    assert out.shape == c.shape
    viz.assert_not_flat(out, min_std=0.03)


def test_missing_decoder_file_says_how_to_rebuild(monkeypatch, tmp_path):
    monkeypatch.setenv("STYLELAB_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="train_standin_decoders"):
        standin.decoder(4)


def test_narrow_wct2_layout_and_bad_width():
    from stylelab.nets.wavenets import WaveDecoder, WaveEncoder

    enc, dec = WaveEncoder("cat5", width=8), WaveDecoder("cat5", width=8)
    assert enc.conv1_1.in_channels == 3 and enc.conv4_1.out_channels == 64 and dec.conv1_1.out_channels == 3
    assert dec.conv1_2_2.in_channels == 5 * 8  # cat5 reads the five concatenated bands
    skips = {}
    x = torch.rand(1, 3, 32, 32)
    assert dec(enc(x, skips), skips).shape == x.shape
    assert WaveEncoder("sum").conv4_1.out_channels == 512  # width 1: the published network
    with pytest.raises(ValueError, match="width must divide 64"):
        WaveEncoder("sum", width=3)


@pytest.mark.parametrize("unpool", ["sum", "cat5"])
def test_wct2_stand_in_inverts_its_random_encoder(unpool):
    # the issue: with random weights WCT²'s panels were flat (a channel with std 0); the stand-in's decoder
    # is trained to invert the fixed-seed encoder, the random one is not
    from stylelab.media import data
    from stylelab.methods.wct2 import WCT2

    x = data.load("mountains", size=(64, 64))
    m = standin.model("wct2", unpool=unpool)
    assert m.encoder.conv4_1.out_channels == 512 // standin.WCT2_WIDTH
    for (k, v), w in zip(m.encoder.state_dict().items(), standin.wct2_encoder(unpool).state_dict().values()):
        assert torch.equal(v, w), k  # fixed seed: the same encoder every time
    with torch.no_grad():
        err = float((m.reconstruct(x) - x).abs().mean())
        rnd = WCT2(unpool, width=standin.WCT2_WIDTH).eval()
        rnd.encoder.load_state_dict(m.encoder.state_dict())
        err_random = float((rnd.reconstruct(x).clamp(0, 1) - x).abs().mean())
    assert err < 0.12 and err_random > 3 * err, (err, err_random)
    assert m.stand_in.startswith(standin.LABEL) and "1/8" in m.stand_in
