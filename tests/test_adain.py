"""AdaIN model: official-layout checkpoints load, shapes, alpha, interpolation, colour preservation, CLI."""

import warnings

import pytest
import torch

from stylelab.features import transforms as T
from stylelab import weights as W
from stylelab.methods.adain import AdaIN


@pytest.fixture(scope="module")
def model():
    vgg = W.synthetic_state_dict("vgg_normalised", seed=1, std=0.05)
    dec = W.synthetic_state_dict("adain_decoder", seed=2, std=0.05)
    return AdaIN.from_official(vgg=vgg, decoder=dec, device="cpu"), vgg, dec


def test_official_layout_checkpoints_load_into_the_right_layers(model):
    m, vgg, dec = model
    assert m.pretrained
    torch.testing.assert_close(m.encoder.conv4_1.weight, vgg["29.weight"])
    torch.testing.assert_close(m.encoder.conv0.bias, vgg["0.bias"])
    torch.testing.assert_close(m.decoder.conv4_1.weight, dec["1.weight"])
    torch.testing.assert_close(m.decoder.conv1_1.bias, dec["28.bias"])
    assert m.encoder.ceil_mode  # Torch models round pooled sizes up


def test_checkpoint_files_load_by_path(tmp_path):
    vgg, dec = tmp_path / "vgg_normalised.pth", tmp_path / "decoder.pth"
    torch.save(W.synthetic_state_dict("vgg_normalised"), vgg)
    torch.save(W.synthetic_state_dict("adain_decoder"), dec)
    assert AdaIN.from_official(vgg=str(vgg), decoder=str(dec)).pretrained


def test_missing_weights_error_and_random_switch(monkeypatch):
    from stylelab.nets import course_pair

    monkeypatch.setattr(course_pair, "available", lambda method: False)  # no course pair either
    with pytest.raises(W.WeightsNotFoundError, match="decoder.pth|vgg_normalised.pth"):
        AdaIN.from_official()
    monkeypatch.setenv("STYLELAB_RANDOM_WEIGHTS", "1")
    with pytest.warns(W.RandomWeightsWarning):
        m = AdaIN.from_official()
    assert not m.pretrained


def test_stylize_shape_alpha_and_interpolation(model):
    m = model[0]
    g = torch.Generator().manual_seed(0)
    c, s1, s2 = (torch.rand(1, 3, *hw, generator=g) for hw in ((30, 34), (24, 24), (32, 16)))
    out = m.stylize(c, s1, clamp=False)
    assert out.shape == (1, 3, 32, 40)  # 8·⌈H/8⌉ × 8·⌈W/8⌉
    # α = 0 decodes the content's own features
    torch.testing.assert_close(m.stylize(c, s1, alpha=0.0, clamp=False), m.decoder(m.encode(c)))
    # α blends in feature space
    t = 0.4 * T.adain(m.encode(c), m.encode(s1)) + 0.6 * m.encode(c)
    torch.testing.assert_close(m.stylize(c, s1, alpha=0.4, clamp=False), m.decoder(t))
    # interpolation with weights (1, 0) is the first style alone
    torch.testing.assert_close(m.stylize(c, [s1, s2], style_weights=[1, 0], clamp=False), out)
    assert not torch.allclose(m.stylize(c, [s1, s2], style_weights=[1, 1], clamp=False), out)


def test_stylize_rounds_sides_up_to_a_multiple_of_8(model):
    """The docstring's contract: (8⌈H/8⌉, 8⌈W/8⌉), also below MIN_SIDE (padded, then cropped to that size, not
    to H × W); the CLI saves the content's H × W (test_cli_transfer_adain)."""
    from stylelab.methods.adain import MIN_SIDE

    m = model[0]
    s = torch.rand(1, 3, 16, 16)
    for h, w in ((30, 34), (5, 12), (1, 30), (8, 16), (MIN_SIDE, 17)):
        assert m.stylize(torch.rand(1, 3, h, w), s).shape[-2:] == (8 * -(-h // 8), 8 * -(-w // 8)), (h, w)
    c = torch.rand(1, 3, 21, 27)  # at or above MIN_SIDE the output is the decoder's, whole (24 × 32)
    torch.testing.assert_close(m.stylize(c, s, clamp=False), m.decoder(T.adain(m.encode(c), m.encode(s))))


def test_preserve_color_uses_coral_and_labels_work(model):
    m = model[0]
    c, s = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16) * 0.3
    expected = m.stylize(c, T.coral(s, c))
    torch.testing.assert_close(m.stylize(c, s, preserve_colour=True), expected)
    with pytest.warns(DeprecationWarning, match="preserve_colour"):  # the old spelling still works, and says so
        torch.testing.assert_close(m.stylize(c, s, preserve_color=True), expected)
    with pytest.raises(TypeError, match="write alpha=0.5"):  # alpha is keyword-only
        m.stylize(c, s, 0.5)
    lab = torch.zeros(16, 16, dtype=torch.long)
    lab[:, 8:] = 1
    out = m.stylize(c, s, content_labels=lab, style_labels=lab)
    assert out.shape == (1, 3, 16, 16) and out.min() >= 0 and out.max() <= 1
    with pytest.raises(ValueError, match="3-channel"):
        m.stylize(c, s, content_labels=torch.zeros(1, 3, 16, 16), style_labels=lab)


def test_cli_transfer_adain(tmp_path, monkeypatch):
    from stylelab import cli
    from stylelab.io import load_image, save_image

    save_image(torch.rand(1, 3, 20, 24), tmp_path / "c.png")
    save_image(torch.rand(1, 3, 16, 16), tmp_path / "s.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = cli.main(["transfer", "--method", "adain", str(tmp_path / "c.png"), str(tmp_path / "s.png"),
                       "-o", str(tmp_path / "o.png"), "--size", "20", "--alpha", "0.5", "--random-weights"])
    assert rc == 0
    assert load_image(tmp_path / "o.png").shape == (1, 3, 20, 24)


def test_widget_callbacks_headless_pixels_and_model(model):
    from stylelab.course.widgets.adain import AdaINExplorer

    g = torch.Generator().manual_seed(0)
    c = torch.rand(1, 3, 16, 16, generator=g)
    styles = {"red": torch.rand(1, 3, 12, 12, generator=g) * torch.tensor([1.0, 0.2, 0.2]).view(1, 3, 1, 1),
              "blue": torch.rand(1, 3, 12, 12, generator=g) * torch.tensor([0.2, 0.2, 1.0]).view(1, 3, 1, 1)}
    ex = AdaINExplorer(c, styles)  # pixel space: AdaIN = mean/std colour transfer
    ctl = ex.controls
    ctl["alpha"].value = 0.3  # moving a slider does not render
    assert ex.runs == 0 and ex.result is None
    ctl["style_a"].value = "blue"
    ctl["run"].click()
    assert ex.runs == 1 and len(ctl["image"].value) > 0
    expected = (0.3 * T.adain(c, styles["blue"]) + 0.7 * c).clamp(0, 1)
    torch.testing.assert_close(ex.result, expected)
    ctl["alpha"].value, ctl["mix"].value, ctl["style_b"].value = 1.0, 1.0, "red"
    ctl["run"].click()
    torch.testing.assert_close(ex.result, T.adain(c, styles["red"]).clamp(0, 1))
    assert ctl["preserve_colour"].layout.display == "none"  # on pixels it has no effect (seen in the browser) …
    ctl["preserve_colour"].value = True
    ctl["run"].click()
    torch.testing.assert_close(ex.result, T.adain(c, T.coral(styles["red"], c)).clamp(0, 1))
    red = ex.result
    ctl["style_b"].value = "blue"
    ctl["run"].click()
    torch.testing.assert_close(ex.result, red, atol=1e-4, rtol=0)  # … every style (of one size) gives the same picture, and it says so
    assert "on pixels: nothing of the style is left" in ctl["status"].value
    # with a model the features are cached and decoded
    m = model[0]
    ex2 = AdaINExplorer(c, styles, model=m)
    assert ex2.controls["preserve_colour"].layout.display is None  # on features it acts: shown
    ex2.controls["alpha"].value = 0.5
    ex2.controls["run"].click()
    torch.testing.assert_close(ex2.result, m.stylize(c, styles["red"], alpha=0.5))
