"""VGG-19 encoders against independent oracles: torchvision's own vgg19, and the
official 53-module normalised-VGG Sequential rebuilt from its documented layout."""

import pytest
import torch
import torch.nn as nn
import torchvision

from stylelab import encoders as E
from stylelab import weights as W


def official_vgg_normalised() -> nn.Sequential:
    """The Torch-era layout of vgg_normalised (naoto0804/pytorch-AdaIN ``net.py``, ``vgg``), built from scratch."""
    layers: list[nn.Module] = [nn.Conv2d(3, 3, 1)]
    in_c = 3
    for block, (n, c) in enumerate(E.BLOCKS, start=1):
        for _ in range(n):
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(in_c, c, 3), nn.ReLU()]
            in_c = c
        if block < 5:
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
    return nn.Sequential(*layers)


def test_layer_names_follow_the_papers():
    assert E.LAYERS[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")
    assert len(E.CONVS) == 16 and E.LAYERS[-1] == "pool5"
    assert E.channels("relu4_1") == 512 and E.channels("conv2_2") == 128
    with pytest.raises(ValueError, match="Unknown VGG-19 layer"):
        E.check_layer("relu6_1")


def test_official_sequential_matches_documented_indices():
    seq = official_vgg_normalised()
    assert len(seq) == 53
    conv_idx = [i for i, m in enumerate(seq) if isinstance(m, nn.Conv2d)]
    assert conv_idx == list(E.NORMALISED_INDEX.values())
    assert set(seq.state_dict()) == set(W.get("vgg_normalised").shapes)


def test_torchvision_flavour_equals_torchvision_vgg19():
    ref = torchvision.models.vgg19().eval()
    enc = E.vgg19(weights=ref.state_dict(), last_layer="relu5_1")
    assert enc.pretrained
    x = torch.rand(1, 3, 40, 36)
    normed = (x - torch.tensor(E.IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(E.IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        expect_conv3_1 = ref.features[:11](normed)  # features[10] is conv3_1, before its ReLU
        expect_relu5_1 = ref.features[:30](normed)
        got = enc(x, ["conv3_1", "relu5_1", "pool2"])
    torch.testing.assert_close(got["conv3_1"], expect_conv3_1, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(got["relu5_1"], expect_relu5_1, rtol=1e-4, atol=1e-5)
    assert got["pool2"].shape == (1, 128, 10, 9)


def test_normalised_flavour_equals_official_layout():
    seq = official_vgg_normalised().eval()
    state = seq.state_dict()
    enc = E.normalised_vgg19(weights=state, last_layer="relu4_1", ceil_mode=True)
    x = torch.rand(2, 3, 37, 29)  # odd sizes exercise ceil_mode
    with torch.no_grad():
        expect = seq[:31](x)
        got = enc(x, "relu4_1")["relu4_1"]
    assert got.shape == expect.shape == (2, 512, 5, 4)
    torch.testing.assert_close(got, expect, rtol=1e-4, atol=1e-4)


def test_pre_and_post_relu_and_pooling_options():
    enc = E.VGG19Encoder("torchvision", last_layer="pool2")
    f = enc(torch.rand(1, 3, 16, 16), ["conv2_1", "relu2_1"])
    assert (f["conv2_1"] < 0).any() and (f["relu2_1"] >= 0).all()
    torch.testing.assert_close(f["relu2_1"], f["conv2_1"].clamp_min(0))
    avg = E.VGG19Encoder("torchvision", last_layer="pool1", pooling="avg")
    avg.load_state_dict(enc.state_dict(), strict=False)
    x = torch.rand(1, 3, 16, 16)
    fa = avg(x, ["relu1_2", "pool1"])
    torch.testing.assert_close(fa["pool1"], torch.nn.functional.avg_pool2d(fa["relu1_2"], 2))


def test_truncation_drops_later_layers():
    enc = E.VGG19Encoder("normalised", last_layer="relu3_1")
    names = {k.split(".")[0] for k in enc.state_dict()}
    assert names == {"conv0", "conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"}
    with pytest.raises(ValueError, match="beyond this encoder's last layer"):
        enc(torch.rand(1, 3, 8, 8), "relu4_1")
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        enc(torch.rand(3, 8, 8))


def test_switches_and_restart_from_an_intermediate_layer():
    enc = E.normalised_vgg19(weights="random", last_layer="relu3_1")
    x = torch.rand(1, 3, 21, 17)
    f = enc(x, ["relu2_1", "relu3_1"], switches=True)
    assert set(f.switches) == {"pool1", "pool2"}
    idx, size = f.switches["pool1"]
    assert size[-2:] == (21, 17) and idx.shape == (1, 64, 10, 8)
    again = enc(f["relu2_1"], "relu3_1", start="relu2_1")["relu3_1"]
    torch.testing.assert_close(again, f["relu3_1"])


def test_random_normalised_encoder_gets_the_caffe_front():
    enc = E.normalised_vgg19(weights="random", last_layer="relu1_1")
    assert not enc.pretrained
    x = torch.tensor([0.2, 0.5, 0.9]).view(1, 3, 1, 1)
    bgr255 = torch.tensor([0.9, 0.5, 0.2]) * 255 - torch.tensor(E.CAFFE_BGR_MEAN)
    torch.testing.assert_close(enc.conv0(x).flatten(), bgr255)
