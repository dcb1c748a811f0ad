"""The course pair ``vgg16-course``: files match the manifest, decoders reconstruct photos they never saw,
the one rule that picks it, and the frozen WCT² encoder built from VGG-16."""

import pytest
import torch
import torch.nn.functional as F

from stylelab.nets import course_pair as CP
from stylelab.media import data


#: PSNR floors (dB) of each shipped decoder's reconstruction (α = 0) of two held-out course photos at 256 px,
#: a little under what the shipped files reach (chelsea / mountains: relu1_1 29.1 / 29.9, relu2_1 22.0 / 19.4,
#: relu3_1 19.2 / 14.5, relu4_1 15.3 / 13.3, relu5_1 16.7 / 12.9, max1 27.6 / 28.7, max2 25.7 / 25.0,
#: WCT²'s sum decoder 24.1 / 22.4 dB; BENCHMARKS.md); AdaIN's relu4_1 decoder is far below the 20 dB the issue
#: aims for.
FLOORS = {"nearest1": 28.5, "nearest2": 19.0, "nearest3": 14.0, "nearest4": 13.0, "nearest5": 12.5,
          "max1": 27.0, "max2": 24.5, "wct2_sum": 21.5}
HELD_OUT = ("chelsea", "mountains")


def test_manifest_hashes_match_the_files_and_stay_small():
    m = CP.manifest()
    assert m["name"] == CP.NAME and len(m["photos"]) == len(CP.PHOTOS)
    total = 0
    for job, entry in m["decoders"].items():
        path = CP.decoder_path(job)
        assert path.name == entry["file"]
        assert CP.sha256(path) == entry["sha256"], f"{path.name} does not match the manifest: rebuild or re-export"
        state = torch.load(path, map_location="cpu", weights_only=True)
        assert all(v.dtype == torch.float16 for v in state.values())
        total += path.stat().st_size
    assert total <= 15e6


def test_training_photos_are_not_course_images():
    import json

    index = json.loads((data.data_dir() / "index.json").read_text())
    used = {img["source"].split("/")[-1] for img in index["images"]}
    assert not used & {file for _, file, _, _, _ in CP.PHOTOS}
    assert all(lic for *_, lic in CP.PHOTOS)


@pytest.mark.parametrize("job", sorted(FLOORS))
def test_decoder_reconstructs_held_out_photos(job, trained):
    trained("vgg16")
    if not CP.decoder_path(job).is_file():
        pytest.skip(f"{job} is not shipped")
    unpool, level = (job[:-1], int(job[-1])) if not job.startswith("wct2") else ("wct2", 4)
    for name in HELD_OUT:
        x = data.load(name, size=256)
        with torch.no_grad():
            if unpool == "wct2":
                from stylelab.methods.wct2 import WCT2

                y = WCT2.from_official(weights=CP.NAME, device="cpu").reconstruct(x)
            else:
                enc = CP.encoder(f"relu{level}_1", photowct=unpool == "max", device="cpu")
                f = enc(x, layers=f"relu{level}_1", switches=unpool == "max")
                dec = CP.decoder(job, "cpu")
                y = dec(f[f"relu{level}_1"], f.switches) if unpool == "max" else dec(f[f"relu{level}_1"])
        psnr = float(-10 * torch.log10(F.mse_loss(y[..., : x.shape[-2], : x.shape[-1]].clamp(0, 1), x)))
        assert psnr >= FLOORS[job], f"{job} on {name}: {psnr:.2f} dB < floor {FLOORS[job]}"


def test_the_rule(monkeypatch):
    with pytest.raises(ValueError, match="vgg16-course"):
        CP.use_pair("adain", "vgg19-course")
    monkeypatch.setattr(CP, "available", lambda method: True)
    monkeypatch.setattr(CP, "official_installed", lambda method, unpool="cat5": False)
    assert CP.use_pair("adain")
    assert not CP.use_pair("adain", explicit=True)  # files given: they are used
    assert not CP.use_pair("adain", random=True)  # random weights asked for
    monkeypatch.setattr(CP, "official_installed", lambda method, unpool="cat5": True)
    assert not CP.use_pair("adain")  # the paper's checkpoints first
    monkeypatch.setattr(CP, "available", lambda method: False)
    assert not CP.use_pair("wct")


def test_adain_on_the_pair_says_what_it_is(trained):
    trained("vgg16")
    from stylelab.course import weights_banner
    from stylelab.methods.adain import AdaIN

    if not CP.available("adain"):
        pytest.skip("no relu4_1 decoder shipped")
    m = AdaIN.from_official(weights=CP.NAME, device="cpu")
    assert not m.pretrained and m.weights_name == CP.NAME and m.encoder.pretrained
    text = weights_banner(m, "AdaIN")
    assert "ImageNet VGG-16" in text and "photos" in text and "paper's models are better" in text


def test_wct2_encoder_is_vgg16_with_an_identity_conv3_4(trained):
    trained("vgg16")
    enc = CP.wct2_encoder("cpu")
    x = torch.relu(torch.randn(1, 256, 6, 5))
    torch.testing.assert_close(torch.relu(enc.conv3_4(F.pad(x, (1, 1, 1, 1), mode="reflect"))), x)
    vgg = CP.encoder("relu4_1", device="cpu")
    torch.testing.assert_close(enc.conv4_1.weight, vgg.conv4_1.weight)
    assert not any(p.requires_grad for p in enc.parameters())


def test_notebooks_network_rule(monkeypatch, trained):
    """``course.method_model``: the pair where :func:`use_pair` says so, else the stand-in; titles get a tag."""
    trained("vgg16")
    from stylelab import course
    from stylelab.course import standin

    monkeypatch.setattr(CP, "official_installed", lambda method, unpool="cat5": False)
    if not CP.available("photowct"):
        pytest.skip("no PhotoWCT decoders shipped")
    m = course.method_model("photowct", device="cpu")
    assert m.tag == f" ({CP.NAME})" and m.weights_name == CP.NAME and m.trained_levels == CP.PHOTOWCT_LEVELS
    assert "photos" in m.stand_in
    monkeypatch.setattr(CP, "available", lambda method: False)
    m = course.method_model("photowct", device="cpu")
    assert m.tag == " (stand-in)" and m.stand_in == standin.LABEL and m.trained_levels == standin.PHOTOWCT_LEVELS
    assert not hasattr(m, "weights_name")
    with pytest.raises(ValueError, match="adain"):
        course.method_model("gatys")


def _trainer():
    """``tools/train_vgg16_decoders.py``, the command that rebuilds the pair."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "tools" / "train_vgg16_decoders.py"
    spec = importlib.util.spec_from_file_location("train_vgg16_decoders", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fold_turns_a_decoder_of_scaled_features_into_one_of_the_features():
    """Decoders are trained on φ/s (and WCT²'s on bands/s too); ``fold`` must give the same function of φ."""
    from stylelab.nets.decoders import MirrorDecoder
    from stylelab.nets.wavenets import WaveDecoder

    T = _trainer()
    torch.manual_seed(0)
    s = 37.5
    wave = T.kaiming_init(WaveDecoder("sum")).eval()
    with torch.no_grad():  # nonzero biases everywhere, so that a wrong bias rule shows
        for name in wave.names:
            getattr(wave, name).bias.normal_(0, 0.1)
    f = torch.relu(torch.randn(1, 512, 4, 4)) * s
    skips = {f"pool{k}": [torch.randn(1, c, r, r) * s for _ in range(3)]
             for k, c, r in ((1, 64, 16), (2, 128, 8), (3, 256, 4))}
    with torch.no_grad():
        want = wave(f / s, {k: [b / s for b in v] for k, v in skips.items()})
        T.fold(wave, s)
        torch.testing.assert_close(wave(f, skips), want, rtol=1e-4, atol=1e-5)
    mirror = MirrorDecoder(2, width=4).eval()
    g = torch.relu(torch.randn(1, 128, 6, 6)) * s
    with torch.no_grad():
        want = mirror(g / s)
        T.fold(mirror, s)
        torch.testing.assert_close(mirror(g), want, rtol=1e-4, atol=1e-5)
    assert mirror.input_scale == s


def test_kaiming_init_keeps_the_signal_and_starts_mid_grey():
    from stylelab.nets.decoders import MirrorDecoder

    T = _trainer()
    torch.manual_seed(0)
    dec = T.kaiming_init(MirrorDecoder(3, width=2))
    convs = [getattr(dec, n) for n in dec.convs]
    for c in convs[:-1]:
        fan_in = c.weight[0].numel()
        assert abs(float(c.weight.std()) - (2 / fan_in) ** 0.5) < 0.1 * (2 / fan_in) ** 0.5
        assert not c.bias.any()
    with torch.no_grad():
        out = dec(torch.relu(torch.randn(2, 256, 8, 8)))
    assert (out - 0.5).abs().max() < 0.05  # an almost silent output layer: grey to start from
