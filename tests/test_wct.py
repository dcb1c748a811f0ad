"""WCT cascade: registry entries, decoder loading (state dicts, trained checkpoints), cascade semantics, CLI."""

import warnings

import pytest
import torch

from stylelab.features import transforms as T
from stylelab import weights as W
from stylelab.nets.decoders import MirrorDecoder
from stylelab.methods.wct import WCT, convert_t7_decoder


@pytest.fixture(scope="module")
def model():
    vgg = W.synthetic_state_dict("vgg_normalised", seed=1, std=0.05)
    decs = {l: W.synthetic_state_dict(f"wct_decoder{l}", seed=l, std=0.05) for l in (1, 2, 3)}
    return WCT.from_official(vgg=vgg, decoders=decs, levels=(3, 2, 1)), decs


def test_registry_has_one_decoder_per_level_with_mirror_shapes():
    for level in range(1, 6):
        spec = W.get(f"wct_decoder{level}")
        assert spec.url is None  # never downloaded: trained or converted by the user
        own = {k: tuple(v.shape) for k, v in MirrorDecoder(level).state_dict().items()}
        assert own == dict(spec.shapes)


def test_decoders_load_into_the_right_levels(model):
    m, decs = model
    assert m.pretrained and m.levels == [3, 2, 1]
    torch.testing.assert_close(m.decoders["2"].conv2_1.weight, decs[2]["conv2_1.weight"])
    assert m.encoder.last_layer == "relu3_1"


def test_cascade_reencodes_the_previous_output(model):
    m = model[0]
    g = torch.Generator().manual_seed(0)
    c, s = torch.rand(1, 3, 21, 26, generator=g), torch.rand(1, 3, 16, 20, generator=g)
    steps = m.stylize_steps(c, s, alpha=0.6, clamp=False)
    out = m.stylize(c, s, alpha=0.6, clamp=False)
    torch.testing.assert_close(out, steps[1], rtol=0, atol=0)
    assert out.shape == c.shape and list(steps) == [3, 2, 1]
    # level 1 step = decode(WCT(encode(output of level 2)))
    f = m.encoder(steps[2], layers="relu1_1")["relu1_1"]
    sf = m.encoder(s, layers="relu1_1")["relu1_1"]
    expected = m.decoders["1"](T.wct(f, sf, 0.6, preset="official_wct"))[..., :21, :26]
    torch.testing.assert_close(steps[1], expected)
    # alpha = 0 at a single level just reconstructs
    torch.testing.assert_close(
        m.stylize(c, s, alpha=0.0, levels=[1], clamp=False), m.decoders["1"](m.encoder(c, layers="relu1_1")["relu1_1"])
    )
    with pytest.raises(ValueError, match="no decoder"):
        m.stylize(c, s, levels=[5])
    # style interpolation: weights (0, 1) select the second style; colour preservation recolours the style
    s2 = torch.rand(1, 3, 20, 16, generator=g)
    torch.testing.assert_close(m.stylize(c, [s, s2], style_weights=[0, 1], levels=[2, 1]), m.stylize(c, s2, levels=[2, 1]))
    torch.testing.assert_close(m.stylize(c, s, preserve_colour=True, levels=[1]), m.stylize(c, T.coral(s, c), levels=[1]))


def test_trained_checkpoint_loads(tmp_path):
    from stylelab.train import ReconstructionLoss, fit
    from stylelab.nets.encoders import normalised_vgg19

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = normalised_vgg19(weights="random", last_layer="relu1_1")
    dec = MirrorDecoder(1)
    fit(ReconstructionLoss(enc, dec), {"decoder": dec}, torch.rand(2, 3, 8, 8), steps=2, batch_size=2,
        checkpoint=tmp_path / "wct_decoder1.ckpt", progress=False, device="cpu")
    m = WCT.from_official(vgg="random", decoders={1: tmp_path / "wct_decoder1.ckpt"}, levels=[1])
    torch.testing.assert_close(m.decoders["1"].conv1_1.weight, dec.conv1_1.weight)


def test_missing_decoders_say_how_to_get_them():
    with pytest.raises(W.WeightsNotFoundError, match="stylelab train --method wct"):
        WCT.from_official(vgg="random", levels=[2])


def test_t7_converter_needs_torchfile(tmp_path):
    try:
        import torchfile  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install torchfile"):
            convert_t7_decoder(tmp_path / "x.t7", 1)
    else:  # pragma: no cover - torchfile is optional
        pytest.skip("torchfile installed; no .t7 test file available")


def test_cli_transfer_wct(tmp_path):
    from stylelab import cli
    from stylelab.io import load_image, save_image

    save_image(torch.rand(1, 3, 18, 20), tmp_path / "c.png")
    save_image(torch.rand(1, 3, 16, 16), tmp_path / "s.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = cli.main(["transfer", "--method", "wct", str(tmp_path / "c.png"), str(tmp_path / "s.png"),
                       "-o", str(tmp_path / "o.png"), "--size", "18", "--levels", "2,1", "--random-weights"])
    assert rc == 0
    assert load_image(tmp_path / "o.png").shape == (1, 3, 18, 20)


def test_widget_callbacks_headless():
    from stylelab.course.widgets.wct import WCTExplorer

    g = torch.Generator().manual_seed(0)
    c = torch.rand(1, 3, 12, 12, generator=g, dtype=torch.float64)
    s = torch.rand(1, 3, 10, 10, generator=g, dtype=torch.float64) ** 2
    ex = WCTExplorer(c, s)
    ctl = ex.controls
    assert ctl["status"].value == "press Run"
    ctl["run"].click()
    assert ctl["status"].value.startswith("ran: exact, α = 1")  # the status names the settings used
    assert ctl["status"].value.endswith(f"relative covariance error {ex.result['cov_error']:.4f}")
    assert ex.result["cov_error"] < 1e-8 and ex.result["figure_png"][:4] == b"\x89PNG"
    assert ctl["image"].value == ex.result["figure_png"]
    ctl["preset"].value = "wct2"
    assert ex.result["cov_error"] < 1e-8  # nothing recomputed before Run, and the status says so
    assert "press Run" in ctl["status"].value
    ctl["run"].click()
    torch.testing.assert_close(ex.result["output"], T.wct(c, s, preset="wct2"))
    ctl["override"].value = True
    ctl["eps_content"].value = 1e-6
    ctl["eps_style"].value = 1e-6
    ctl["preset"].value = "exact"
    ctl["alpha"].value = 0.5
    ctl["run"].click()
    torch.testing.assert_close(ex.result["output"], T.wct(c, s, 0.5, eps_content=1e-6, eps_style=1e-6))
    assert "relative covariance error" in ctl["status"].value
