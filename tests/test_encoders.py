"""VGG-19 encoders against independent oracles: torchvision's own vgg19, and the
official 53-module normalised-VGG Sequential rebuilt from its documented layout."""

import pytest
import torch
import torch.nn as nn
import torchvision

from stylelab.nets import encoders as E
from stylelab.weights import layout
from stylelab import weights as W


def official_vgg_normalised() -> nn.Sequential:
    """The Torch-era layout of vgg_normalised (naoto0804/pytorch-AdaIN ``net.py``, ``vgg``), built from scratch."""
    layers: list[nn.Module] = [nn.Conv2d(3, 3, 1)]
    in_c = 3
    for block, (n, c) in enumerate(layout.BLOCKS, start=1):
        for _ in range(n):
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(in_c, c, 3), nn.ReLU()]
            in_c = c
        if block < 5:
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
    return nn.Sequential(*layers)


def test_layer_names_follow_the_papers():
    assert layout.LAYERS[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")
    assert len(layout.CONVS) == 16 and layout.LAYERS[-1] == "pool5"
    assert E.channels("relu4_1") == 512 and E.channels("conv2_2") == 128
    with pytest.raises(ValueError, match="Unknown VGG-19 layer"):
        E.check_layer("relu6_1")


def test_official_sequential_matches_documented_indices():
    seq = official_vgg_normalised()
    assert len(seq) == 53
    conv_idx = [i for i, m in enumerate(seq) if isinstance(m, nn.Conv2d)]
    assert conv_idx == list(layout.NORMALISED_INDEX.values())
    assert set(seq.state_dict()) == set(W.get("vgg_normalised").shapes)


def test_torchvision_flavour_equals_torchvision_vgg19():
    ref = torchvision.models.vgg19().eval()
    enc = E.vgg19(weights=ref.state_dict(), last_layer="relu5_1")
    assert enc.pretrained
    x = torch.rand(1, 3, 40, 36)
    normed = (x - torch.tensor(layout.IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(layout.IMAGENET_STD).view(1, 3, 1, 1)
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


def test_vgg16_has_vgg16s_layers_and_the_vgg19_interface():
    assert E.VGG19Encoder is E.VGGEncoder
    enc = E.vgg16("random")
    assert enc.arch == "vgg16" and enc.last_layer == "relu5_3" and not enc.pretrained
    assert [n for n in enc.layers if n.startswith("conv")] == [
        "conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
        "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3"]
    assert set(enc.state_dict()) == {f"{n}.{p}" for n in enc.layers if n.startswith("conv") for p in ("weight", "bias")}
    enc = E.vgg16("random", last_layer="pool5")
    feats = enc(torch.rand(1, 3, 35, 35), layers=["relu1_1", "relu3_3", "pool5", "relu5_3"])
    assert {k: v.shape[1:] for k, v in feats.items()} == {
        "relu1_1": (64, 35, 35), "relu3_3": (256, 9, 9), "relu5_3": (512, 3, 3), "pool5": (512, 2, 2)}  # ceil pools
    with pytest.raises(ValueError, match="VGG16 has no layer 'relu3_4'"):
        enc(torch.rand(1, 3, 32, 32), layers="relu3_4")
    with pytest.raises(ValueError, match="VGG16 has no layer 'conv5_4'"):
        E.VGGEncoder("caffe", last_layer="conv5_4", arch="vgg16")


def test_the_caffe_front_maps_rgb_to_mean_subtracted_bgr_and_is_not_learned():
    enc = E.VGGEncoder("caffe", last_layer="relu1_1", arch="vgg16", bgr_mean=E.HED_BGR_MEAN)
    rgb = torch.rand(2, 3, 5, 7)
    expected = rgb.flip(1) * 255 - torch.tensor(E.HED_BGR_MEAN).view(1, 3, 1, 1)
    assert torch.allclose(enc.preprocess(rgb), expected, atol=1e-4)
    assert "front_weight" not in enc.state_dict() and not any("front" in n for n, _ in enc.named_parameters())


def test_squeezenet_taps_are_torchvisions_forward_and_keep_pre_relu_values():
    import torchvision

    net = E.squeezenet1_1("random")
    assert isinstance(net, torchvision.models.SqueezeNet) and not net.pretrained
    x = torch.rand(1, 3, 64, 64)
    feats = E.squeezenet_features(net, x, ["conv1", "relu1", "fire5", "pool10"])
    assert (feats["conv1"] < 0).any() and torch.equal(feats["relu1"], feats["conv1"].clamp_min(0))
    assert torch.allclose(feats["pool10"].flatten(1), net(E.normalise_imagenet(x)), atol=1e-6)
    assert feats["fire5"].shape[1] == 256 and E.SQUEEZENET_LAYERS[0] == "conv1" and len(E.SQUEEZENET_LAYERS) == 16
    with pytest.raises(ValueError, match="no layer 'relu4_1'.*fire2"):
        E.squeezenet_features(net, x, "relu4_1")
    classes = E.imagenet_classes()
    assert len(classes) == 1000 and classes[967] == "espresso" and classes[285] == "Egyptian cat"
