"""The weights registry: resolution order, validation, conversion, errors, random switch.

Real checkpoints cannot be downloaded here, so every test uses synthetic state
dicts with the official key names and shapes (``synthetic_state_dict``)."""

import dataclasses

import pytest
import torch
from torchvision.models import VGG19_Weights

from stylelab.nets import decoders as D
from stylelab.nets import encoders as E
from stylelab import weights as W


@pytest.fixture
def vgg_file(tmp_path):
    path = tmp_path / "vgg_normalised.pth"
    torch.save(W.synthetic_state_dict("vgg_normalised"), path)
    return path


def test_registry_lists_every_course_checkpoint_with_licence():
    names = W.names()
    for required in ("vgg19", "vgg_normalised", "adain_decoder", "squeezenet1_1", "vgg16", "magenta_cin26",
                     "magenta_arbitrary"):
        assert required in names
    for n in names:
        spec = W.get(n)
        # the Magenta entries' shapes are declared with their networks (tests/test_checkpoints.py)
        assert spec.license and spec.filename and (spec.shapes or n.startswith("magenta_")) and spec.source
    assert W.get("vgg19").url == VGG19_Weights.IMAGENET1K_V1.url
    assert len(W.get("vgg_normalised").shapes) == 34 and len(W.get("adain_decoder").shapes) == 18
    with pytest.raises(KeyError, match="Known"):
        W.get("vgg_abnormal")


def test_synthetic_official_checkpoints_load_and_convert(vgg_file):
    enc = E.normalised_vgg19(weights=str(vgg_file), last_layer="relu5_4")
    assert enc.pretrained
    official = torch.load(vgg_file)
    torch.testing.assert_close(enc.conv4_1.weight, official["29.weight"])
    torch.testing.assert_close(enc.conv0.bias, official["0.bias"])
    dec = D.MirrorDecoder(4)
    sd = W.synthetic_state_dict("adain_decoder", seed=3)
    assert W.load_into(dec, "adain_decoder", sd)
    torch.testing.assert_close(dec.conv3_1.weight, sd["14.weight"])


def test_resolution_order_path_then_env_dir_then_hub_cache(tmp_path, vgg_file, monkeypatch):
    assert W.resolve("vgg_normalised", vgg_file) == vgg_file
    env_dir = tmp_path / "weights"
    env_dir.mkdir()
    (env_dir / "vgg_normalised.pth").write_bytes(vgg_file.read_bytes())
    cache = W.cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "vgg_normalised.pth").write_bytes(vgg_file.read_bytes())
    assert W.resolve("vgg_normalised") == cache / "vgg_normalised.pth"
    monkeypatch.setenv("STYLELAB_WEIGHTS_DIR", str(env_dir))
    assert W.resolve("vgg_normalised") == env_dir / "vgg_normalised.pth"


def test_download_goes_to_the_hub_cache(vgg_file, monkeypatch):
    monkeypatch.delenv("STYLELAB_OFFLINE")
    spec = dataclasses.replace(W.get("vgg_normalised"), url=vgg_file.as_uri())
    monkeypatch.setitem(W.REGISTRY, "vgg_normalised", spec)
    path = W.resolve("vgg_normalised")
    assert path == W.cache_dir() / "vgg_normalised.pth" and path.read_bytes() == vgg_file.read_bytes()


def test_offline_error_names_file_url_licence_and_destination():
    with pytest.raises(W.WeightsNotFoundError) as info:
        E.normalised_vgg19()
    msg = str(info.value)
    spec = W.get("vgg_normalised")
    for needle in (spec.filename, spec.url, "MIT", str(W.cache_dir()), "STYLELAB_WEIGHTS_DIR", "STYLELAB_RANDOM_WEIGHTS"):
        assert needle in msg


def test_failed_download_is_the_same_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("STYLELAB_OFFLINE")
    spec = dataclasses.replace(W.get("vgg19"), url=(tmp_path / "nowhere.pth").as_uri())
    monkeypatch.setitem(W.REGISTRY, "vgg19", spec)
    with pytest.raises(W.WeightsNotFoundError, match="download failed"):
        E.vgg19()


def test_random_weights_need_the_explicit_switch(monkeypatch):
    with pytest.raises(W.WeightsNotFoundError):
        E.normalised_vgg19(last_layer="relu1_1")
    with pytest.warns(W.RandomWeightsWarning, match="RANDOM"):
        assert not E.normalised_vgg19(last_layer="relu1_1", random=True).pretrained
    monkeypatch.setenv("STYLELAB_RANDOM_WEIGHTS", "1")
    with pytest.warns(W.RandomWeightsWarning):
        assert not E.normalised_vgg19(last_layer="relu1_1").pretrained
    # the warning comes every time, not once per session
    with pytest.warns(W.RandomWeightsWarning):
        E.normalised_vgg19(last_layer="relu1_1")
    # an explicitly given file that is missing is an error even with the switch
    with pytest.raises(W.WeightsNotFoundError, match="no file at the given path"):
        E.normalised_vgg19(weights="/nonexistent/vgg.pth")


def test_mismatched_checkpoint_lists_missing_unexpected_and_shapes(tmp_path):
    sd = W.synthetic_state_dict("vgg_normalised")
    del sd["29.weight"]
    sd["99.weight"] = torch.zeros(1)
    sd["2.weight"] = torch.zeros(64, 3, 5, 5)
    with pytest.raises(W.CheckpointMismatchError) as info:
        E.normalised_vgg19(weights=sd)
    msg = str(info.value)
    assert "missing keys (1)" in msg and "29.weight" in msg
    assert "unexpected keys (1)" in msg and "99.weight" in msg
    assert "shape mismatches (1)" in msg and "expected (64, 3, 3, 3), got (64, 3, 5, 5)" in msg
    # the decoder file given where the encoder is expected
    with pytest.raises(W.CheckpointMismatchError, match="missing keys"):
        E.normalised_vgg19(weights=W.synthetic_state_dict("adain_decoder"))


def test_torchvision_classifier_keys_are_allowed_but_unused():
    sd = W.synthetic_state_dict("vgg19")
    sd["classifier.6.bias"] = torch.zeros(1000)
    enc = E.vgg19(weights=sd, last_layer="relu1_1")
    assert enc.pretrained and set(enc.state_dict()) == {"conv1_1.weight", "conv1_1.bias"}


def test_corrupt_file_gets_a_clear_error(tmp_path, vgg_file):
    bad = tmp_path / "vgg_normalised.pth"
    bad.write_bytes(vgg_file.read_bytes()[:1000])  # truncated download
    with pytest.raises(W.CheckpointMismatchError, match="corrupt or incomplete"):
        E.normalised_vgg19(weights=str(bad))
    notdict = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], notdict)
    with pytest.raises(W.CheckpointMismatchError, match="state dict"):
        E.normalised_vgg19(weights=str(notdict))
