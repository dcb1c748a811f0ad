"""The feature/Gram explorer and the Gatys explorer, driven headlessly through their controls."""

import warnings

import pytest
import torch

from stylelab.features import stats
from stylelab.nets.encoders import normalised_vgg19
from stylelab.course.widgets.features import SIMPLE_LAYERS, FeatureExplorer, simple_features
from stylelab.course.widgets.gatys import GatysExplorer


def _img(seed, h=20, w=24):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, h, w, generator=g)


def test_feature_explorer_without_weights_follows_the_dropdowns():
    ex = FeatureExplorer({"a": _img(0), "b": _img(1)})
    assert ex.layers == list(SIMPLE_LAYERS)
    c = ex.controls
    c["layer"].value = "patches3"
    assert ex.layer == "patches3" and ex.features().shape == (1, 27, 18, 22)
    torch.testing.assert_close(ex.gram(), stats.gram(stats.patches(_img(0), 3))[0])
    c["image"].value = "b"
    c["layer"].value = "pixels"
    torch.testing.assert_close(ex.gram(), stats.gram(_img(1))[0])
    assert c["image_out"].value[:4] == b"\x89PNG" and ex.png == c["image_out"].value
    assert ex.forward_passes == 2  # one per image, whatever the number of layer changes


def test_feature_explorer_with_an_encoder_caches_one_pass_per_image():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = normalised_vgg19(weights="random", last_layer="relu2_1")
    ex = FeatureExplorer({"a": _img(0)}, encoder=enc, n_maps=4)
    assert ex.layers == ["relu1_1", "relu2_1"]
    c = ex.controls
    c["layer"].value = "relu2_1"
    with torch.no_grad():
        want = enc(_img(0), layers="relu2_1")["relu2_1"]
    torch.testing.assert_close(ex.features(), want)
    assert ex.gram().shape == (128, 128) and len(ex.top_channels()) == 4
    c["layer"].value = "relu1_1"
    assert ex.forward_passes == 1
    with pytest.raises(KeyError, match="choose one of"):
        ex.features(layer="relu5_1")


def test_simple_features_shapes_and_determinism():
    f1, f2 = simple_features(_img(0)), simple_features(_img(0))
    assert set(f1) == set(SIMPLE_LAYERS)
    for k in f1:
        torch.testing.assert_close(f1[k], f2[k])
    assert f1["random_k11"].shape == (1, 16, 20, 24) and (f1["random_k5"] >= 0).all()


def test_gatys_explorer_sliders_set_config_and_run_button_optimises():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = normalised_vgg19(weights="random", last_layer="relu2_1", pooling="avg")
    cfg = {"content_layers": {"relu2_1": 1.0}, "style_layers": ["relu1_1", "relu2_1"]}
    from stylelab.methods import gatys

    ex = GatysExplorer(_img(0), _img(1), gatys.preset("paper", **cfg), encoder=enc, steps=5, preview_every=2)
    c = ex.controls
    c["log_ratio"].value = 4.0
    c["log_tv"].value = 3.0
    c["steps"].value = 10
    c["init"].value = "content"
    assert ex.runs == 0 and ex.result is None  # sliders never run the optimisation
    conf = ex.config()
    assert conf.style_weight == pytest.approx(1e4) and conf.tv_weight == pytest.approx(1e3 * conf.content_weight) and conf.steps == 10
    c["run"].click()
    assert ex.runs == 1 and ex.result.evaluations == 10 and ex.previews == 5
    assert ex.result.loss < ex.result.history["total"][0]
    assert c["image"].value[:4] == b"\x89PNG" and c["curves"].value[:4] == b"\x89PNG"
    assert "10 evaluations" in c["status"].value
