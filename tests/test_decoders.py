"""Mirror decoders against the official 29-module AdaIN decoder layout."""

import pytest
import torch
import torch.nn as nn

from stylelab.nets import decoders as D
from stylelab.nets import encoders as E
from stylelab import weights as W


def official_adain_decoder() -> nn.Sequential:
    """pytorch-AdaIN's decoder layout (naoto0804/pytorch-AdaIN ``net.py``, ``decoder``), built from scratch."""
    def conv(i, o):
        return [nn.ReflectionPad2d(1), nn.Conv2d(i, o, 3)]

    up = lambda: nn.Upsample(scale_factor=2, mode="nearest")  # noqa: E731
    return nn.Sequential(
        *conv(512, 256), nn.ReLU(), up(),
        *conv(256, 256), nn.ReLU(), *conv(256, 256), nn.ReLU(), *conv(256, 256), nn.ReLU(),
        *conv(256, 128), nn.ReLU(), up(),
        *conv(128, 128), nn.ReLU(), *conv(128, 64), nn.ReLU(), up(),
        *conv(64, 64), nn.ReLU(), *conv(64, 3),
    )


def test_adain_decoder_matches_official_layout():
    seq = official_adain_decoder().eval()
    assert len(seq) == 29
    assert set(seq.state_dict()) == set(W.get("adain_decoder").shapes)
    dec = D.MirrorDecoder(4)
    assert W.load_into(dec, "adain_decoder", seq.state_dict())
    f = torch.randn(1, 512, 5, 6)
    with torch.no_grad():
        torch.testing.assert_close(dec(f), seq(f), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_decoder_channels_mirror_the_encoder(level):
    convs = D.decoder_convs(level)
    assert convs[0][2] == E.channels(f"relu{level}_1") and convs[-1][:2] == ("conv1_1", 3)


@pytest.mark.parametrize("level", [2, 4])
def test_max_unpooling_keeps_odd_sizes(level):
    enc = E.normalised_vgg19(weights="random", last_layer=f"relu{level}_1")
    x = torch.rand(1, 3, 23, 19)
    f = enc(x, f"relu{level}_1", switches=True)
    dec = D.MirrorDecoder(level, unpool="max")
    assert dec(f[f"relu{level}_1"], f.switches).shape == x.shape
    with pytest.raises(ValueError, match="switches"):
        dec(f[f"relu{level}_1"])


def test_bad_level_is_rejected():
    with pytest.raises(ValueError, match="level"):
        D.MirrorDecoder(6)
