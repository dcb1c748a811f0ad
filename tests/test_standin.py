"""Course stand-ins: fixed-seed random encoder, small trained decoders, non-flat outputs."""

import pytest
import torch

from stylelab import standin, viz
from stylelab.decoders import MirrorDecoder


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


@pytest.mark.parametrize("method", ["adain", "wct", "photowct"])
def test_stand_in_models_reconstruct_and_are_not_flat(method):
    from stylelab import data

    model = standin.model(method)
    assert model.stand_in == standin.LABEL and not model.pretrained
    c, s = data.load("astronaut", size=(64, 64)), data.load("autumn", size=(64, 64))
    kw = {"levels": standin.PHOTOWCT_LEVELS} if method == "photowct" else {}
    out = model.stylize(c, s, **kw)
    assert out.shape == c.shape
    viz.assert_not_flat(out, min_std=0.03)


def test_missing_decoder_file_says_how_to_rebuild(monkeypatch, tmp_path):
    monkeypatch.setenv("STYLELAB_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="train_standin_decoders"):
        standin.decoder(4)
