"""WCT²: official checkpoint layout, encoder/decoder semantics, transfer_at subsets, sizes, pixel-space transfer."""

import itertools

import pytest
import torch

# The official transfer.py loop lives once, in benchmarks.reference, shared with the benchmark that times it.
from benchmarks.reference import wct2_official as _bench
from stylelab.features import transforms as T
from stylelab.features import whitening
from stylelab import labels
from stylelab.features import linalg
from stylelab import validate as V
from stylelab.features import wavelets as Wv
from stylelab import weights as W
from stylelab.methods import wct2 as M
from stylelab.features import wavelet_transfer
from stylelab.nets import wavenets

SUBSETS = [s for r in range(0, 4) for s in itertools.combinations(M.COMPONENTS, r)]


@pytest.fixture(scope="module", params=["sum", "cat5"])
def model(request):
    u = request.param
    return M.WCT2.from_official(wavenets.synthetic_checkpoint(f"wct2_encoder_{u}", seed=1),
                                wavenets.synthetic_checkpoint(f"wct2_decoder_{u}", seed=2), unpool=u).double()


def _images(h=24, w=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(1, 3, h, w, generator=g, dtype=torch.float64),
            torch.rand(1, 3, 16, 24, generator=g, dtype=torch.float64))


def test_registry_shapes_match_the_official_files():
    enc = W.get("wct2_encoder_sum").shapes
    assert len(enc) == 32 and enc == W.get("wct2_encoder_cat5").shapes
    assert enc["pool3.HH.weight"] == (256, 1, 2, 2) and enc["conv4_1.weight"] == (512, 256, 3, 3)
    dec = W.get("wct2_decoder_cat5").shapes
    assert len(dec) == 30 and dec["conv3_4_2.weight"] == (256, 1280, 3, 3)
    assert dec["conv2_2_2.weight"] == (128, 640, 3, 3) and dec["conv1_2_2.weight"] == (64, 320, 3, 3)
    assert len(W.get("wct2_decoder_sum").shapes) == 30 and "conv3_4.weight" in W.get("wct2_decoder_sum").shapes
    assert W.get("wct2_decoder_sum").url.endswith("model_checkpoints/wave_decoder_sum_l4.pth")


@pytest.mark.parametrize("unpool", ["sum", "cat5"])
def test_synthetic_official_checkpoints_load_and_values_arrive(unpool):
    es = wavenets.synthetic_checkpoint(f"wct2_encoder_{unpool}", seed=3)
    ds = wavenets.synthetic_checkpoint(f"wct2_decoder_{unpool}", seed=4)
    m = M.WCT2.from_official(es, ds, unpool=unpool)
    assert m.pretrained
    torch.testing.assert_close(m.encoder.conv3_2.weight, es["conv3_2.weight"])
    name = "conv2_2_2" if unpool == "cat5" else "conv2_2"
    torch.testing.assert_close(getattr(m.decoder, name).weight, ds[f"{name}.weight"])
    # random Haar filters (what weights.synthetic_state_dict gives) are rejected with a clear message
    bad = dict(es)
    bad["pool2.LH.weight"] = torch.randn(128, 1, 2, 2)
    with pytest.raises(W.CheckpointMismatchError, match="pool2.LH"):
        M.WCT2.from_official(bad, ds, unpool=unpool)
    # the other option's decoder does not fit
    other = "sum" if unpool == "cat5" else "cat5"
    with pytest.raises(W.CheckpointMismatchError):
        M.WCT2.from_official(es, wavenets.synthetic_checkpoint(f"wct2_decoder_{other}"), unpool=unpool)


def test_encoder_levels_match_the_official_encoder(model):
    x, _ = _images(32, 16)
    skips = {}
    shapes = []
    f = x
    for level in (1, 2, 3, 4):
        f = model.encoder.encode(f, skips, level)
        shapes.append(tuple(f.shape[1:]))
    if model.unpool == "sum":
        assert shapes == [(64, 16, 8), (128, 8, 4), (256, 4, 2), (512, 4, 2)]
    else:
        assert shapes == [(64, 32, 16), (128, 16, 8), (256, 8, 4), (512, 4, 2)]
    assert [len(skips[p]) for p in ("pool1", "pool2", "pool3")] == [3, 3, 3]
    # pooling is Haar: the pooled LL plus the skips reconstruct the pre-pool activation exactly
    # (re-derive LL of conv1_2 and compare with its synthesis)
    ll = Wv.haar_dwt(skips["conv1_2"])[0]
    torch.testing.assert_close(Wv.haar_idwt(ll, *skips["pool1"]), skips["conv1_2"], rtol=0, atol=1e-12)


def _official_reference(model, content, style, transfer_at, alpha=1.0):
    """The official transfer.py loop on the reference's own layers (depthwise-convolution Haar, 5C
    concatenation) as the benchmark times it, with an SVD float64 WCT step."""
    def svd_wct(c, s, a):
        return T.wct(c, s, a, preset="wct2", method="svd", compute_dtype=torch.float64)

    layers = _bench.ReferenceLayers(model)
    return _bench.official_transfer(layers, content, style, transfer_at, alpha, feature_wct=svd_wct)


def test_reference_wct_step_matches_svd_float64(model):
    """The benchmark's op-for-op copy of the reference WCT computes the same transform."""
    g = torch.Generator().manual_seed(0)
    c = torch.randn(1, 6, 5, 7, generator=g, dtype=torch.float64).relu()
    s = torch.randn(1, 6, 4, 9, generator=g, dtype=torch.float64).relu() * 2
    torch.testing.assert_close(_bench.reference_feature_wct(c, s, 0.7),
                               T.wct(c, s, 0.7, preset="wct2", method="svd", compute_dtype=torch.float64))


@pytest.mark.slow
def test_fused_cat5_decoder_equals_concatenation_and_tracks_weights():
    """cat5's unpool + conv at half resolution gives the official decoder's output, gradients included,
    and its cached kernel follows new weights."""
    es, ds = wavenets.synthetic_checkpoint("wct2_encoder_cat5", seed=5), wavenets.synthetic_checkpoint("wct2_decoder_cat5", seed=6)
    fused = M.WCT2.from_official(es, ds, unpool="cat5").double()
    plain = M.WCT2.from_official(es, ds, unpool="cat5").double()
    plain.decoder.fused_unpool = False
    x = torch.rand(2, 3, 24, 16, dtype=torch.float64)
    skips: dict = {}
    f = fused.encoder(x, skips)
    torch.testing.assert_close(fused.decoder(f, skips), plain.decoder(f, skips), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(fused.reconstruct(x[:1, :, :17, :11]), plain.reconstruct(x[:1, :, :17, :11]))
    # new weights (as load_state_dict or an optimiser step writes them) invalidate the cached kernel
    with torch.no_grad():
        for m in (fused, plain):
            m.decoder.conv2_2_2.weight.mul_(-0.5)
    torch.testing.assert_close(fused.decoder(f, skips), plain.decoder(f, skips), rtol=1e-10, atol=1e-12)
    # training: the same gradients reach the decoder's weights
    grads = []
    for m in (fused, plain):
        m.decoder.requires_grad_(True)
        m.decoder.zero_grad()
        m.decoder(f, skips).square().mean().backward()
        grads.append(m.decoder.conv1_2_2.weight.grad.clone())
        m.decoder.requires_grad_(False)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-9, atol=1e-12)


@pytest.mark.slow
def test_every_transfer_at_subset_runs(model):
    content, style = _images(16, 24)
    outs = {}
    for subset in SUBSETS:
        out = model.stylize(content, style, transfer_at=subset, clamp=False)
        assert out.shape == content.shape and torch.isfinite(out).all()
        outs[subset] = out
    # each component changes the result
    assert all(not torch.allclose(outs[()], outs[(c,)]) for c in M.COMPONENTS)


@pytest.mark.slow
@pytest.mark.parametrize("subset", [M.COMPONENTS, ("skip", "decoder")], ids="+".join)
def test_stylize_matches_official_loop_with_svd(model, subset, monkeypatch):
    monkeypatch.setattr(M, "_CFG", whitening.wct_config("wct2", compute_dtype=torch.float64))
    content, style = _images(16, 24)
    out = model.stylize(content, style, transfer_at=subset, alpha=0.8)
    ref = _official_reference(model, content, style, subset, alpha=0.8)
    torch.testing.assert_close(out, ref, rtol=1e-7, atol=1e-9)


@pytest.mark.slow
def test_empty_transfer_is_reconstruction_and_sizes_are_kept(model):
    content, style = _images(21, 13)
    out = model.stylize(content, style, transfer_at=(), clamp=False)
    assert out.shape == content.shape
    torch.testing.assert_close(out, model.reconstruct(content))
    for hw in [(9, 30), (8, 8), (5, 3)]:
        c = torch.rand(1, 3, *hw, dtype=torch.float64)
        assert model.stylize(c, style).shape == c.shape


def test_prepared_style_reused_equals_fresh(model):
    content, style = _images()
    prep = model.prepare_style(style, ("encoder", "skip"))
    torch.testing.assert_close(model.stylize(content, prep), model.stylize(content, style, transfer_at=("encoder", "skip")))


def test_labels_match_transforms_wct_per_segment_and_errors(model, monkeypatch):
    monkeypatch.setattr(M, "_CFG", whitening.wct_config("wct2", compute_dtype=torch.float64))
    content, style = _images(32, 32)
    cl = torch.zeros(32, 32, dtype=torch.long)
    cl[:, 16:] = 1
    sl = torch.zeros(16, 24, dtype=torch.long)
    sl[8:] = 1
    # the prepared WCT equals transforms.wct with labels, at one transfer point
    feat_c = torch.randn(1, 8, 16, 16, dtype=torch.float64)
    feat_s = torch.randn(1, 8, 8, 12, dtype=torch.float64)
    side = T.prepare_wct_style(feat_s, M._CFG, sl)
    ours = T.wct_prepared(feat_c, side, 0.7, cl, used=labels.usable_labels(cl, sl))  # decided once, as WCT2.stylize
    torch.testing.assert_close(ours, T.wct_prepared(feat_c, side, 0.7, cl))  # decided here: the same ids
    ref = T.wct(feat_c, feat_s, 0.7, preset="wct2", content_labels=cl, style_labels=sl, compute_dtype=torch.float64)
    assert not torch.allclose(ours, feat_c)
    torch.testing.assert_close(ours, ref)
    out = model.stylize(content, style, content_labels=cl, style_labels=sl)
    assert out.shape == content.shape
    with pytest.raises(ValueError, match="both"):
        model.stylize(content, style, content_labels=cl)
    with pytest.raises(ValueError, match="transfer_at"):
        model.stylize(content, style, transfer_at=("encoder", "bottleneck"))
    with pytest.raises(ValueError, match=r"content must have 3 channels \(RGB\)"):
        model.stylize(content[:, :2], style)


def test_alpha_zero_encoder_only_is_reconstruction(model):
    content, style = _images()
    torch.testing.assert_close(model.stylize(content, style, alpha=0.0, clamp=False), model.reconstruct(content))


def test_random_weights_flagged(monkeypatch):
    m = M.WCT2.from_official("random", "random", unpool="sum")
    assert not m.pretrained
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")
    monkeypatch.delenv("STYLELAB_RANDOM_WEIGHTS", raising=False)
    monkeypatch.setenv("STYLELAB_WEIGHTS_DIR", "/nonexistent")
    monkeypatch.setattr(M.course_pair, "available", lambda method: False)  # no course pair either
    with pytest.raises(W.WeightsNotFoundError, match="wave_encoder_sum_l4.pth"):
        M.WCT2.from_official(unpool="sum", download=False)


def test_pixel_wavelet_transfer_ll_only_keeps_details_and_matches_colour():
    g = torch.Generator().manual_seed(0)
    content = torch.rand(1, 3, 32, 24, generator=g, dtype=torch.float64) * 0.5 + 0.25
    style = torch.rand(1, 3, 16, 16, generator=g, dtype=torch.float64) * 0.3
    out = wavelet_transfer.wavelet_transfer(content, style, levels=2, bands="LL", clamp=False)
    assert out.shape == content.shape
    _, cdet, _ = Wv.haar_wavedec(content, 2)
    oll, odet, _ = Wv.haar_wavedec(out, 2)
    sll, _, _ = Wv.haar_wavedec(style, 2)
    for cd, od in zip(cdet, odet):  # details are the content's exactly
        for c, o in zip(cd, od):
            torch.testing.assert_close(o, c)
    # the coarse band now has the style's mean colour and covariance
    torch.testing.assert_close(oll.mean((2, 3)), sll.mean((2, 3)), rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(linalg.covariance(oll[0].flatten(1)), linalg.covariance(sll[0].flatten(1)), rtol=1e-3, atol=1e-5)
    allb = wavelet_transfer.wavelet_transfer(content, style, levels=2, bands="all")
    assert not torch.allclose(allb, out)
    with pytest.raises(ValueError, match="bands"):
        wavelet_transfer.wavelet_transfer(content, style, bands="LH")


def test_cli_arguments_parse():
    from stylelab.cli import build_parser

    args = build_parser("wct2").parse_args(
        ["transfer", "--method", "wct2", "c.png", "s.png", "-o", "o.png", "--unpool", "sum", "--transfer-at", "skip", "decoder"])
    assert args.unpool == "sum" and args.transfer_at == ["skip", "decoder"] and not args.video


@pytest.mark.slow
def test_train_decoder_reduces_loss_with_shared_trainer():
    torch.manual_seed(0)
    m = M.WCT2.from_official("random", "random", unpool="sum")
    images = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        before = torch.nn.functional.mse_loss(m.reconstruct(images), images).item()
    hist = M.train_decoder(m, images, steps=8, batch_size=4, lr=1e-3, feature_weight=1e-4, device="cpu",
                           progress=False, log_every=1)
    with torch.no_grad():
        after = torch.nn.functional.mse_loss(m.reconstruct(images), images).item()
    assert {"total", "reconstruction", "feature"} <= set(hist)
    assert after < 0.5 * before, (before, after)
    assert not any(p.requires_grad for p in m.parameters())


@pytest.mark.slow
def test_cli_video_writes_frames_and_reports_consistency(tmp_path, capsys):
    from stylelab import io
    from stylelab.media import video
    from stylelab.cli import main

    video.save_frames(video.pan_frames(torch.rand(1, 3, 16, 28), n_frames=3, step=2), tmp_path / "frames")
    io.save_image(torch.rand(1, 3, 16, 16), tmp_path / "style.png")
    rc = main(["transfer", "--method", "wct2", "--video", str(tmp_path / "frames"), str(tmp_path / "style.png"),
               "-o", str(tmp_path / "out"), "--size", "16", "--unpool", "sum", "--transfer-at", "skip", "--random-weights"])
    assert rc == 0
    out = video.load_frames(tmp_path / "out")
    assert out.shape == (3, 3, 16, 24)
    assert "temporal change" in capsys.readouterr().out


# ---------------------------------------------------------------------------- labels against the official algorithm
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _official_segments as O  # noqa: E402

from benchmarks import bench_wct2  # noqa: E402  (he_init: the benchmark's random weights that do not saturate)
from stylelab.media import data  # noqa: E402


def _official_with_labels(model, content, style, cseg, sseg, label_set, transfer_at, alpha):
    """WCT²'s transfer.py with segments: the benchmark's official loop, whose WCT step is the official
    per-label loop (PIL NEAREST maps, ``reference_feature_wct`` per region), then the α-blend."""
    def core(cv, sv):
        return _bench.reference_feature_wct(cv[None, :, :, None], sv[None, :, :, None], 1.0).reshape(cv.shape)

    def feature_wct(cf, sf, a):
        return a * O.segment_loop(core, cf, sf, cseg, sseg, label_set) + (1 - a) * cf

    return _bench.official_transfer(_bench.ReferenceLayers(model), content, style, transfer_at, alpha,
                                    feature_wct=feature_wct, clamp=False)


@pytest.mark.slow
@pytest.mark.parametrize("unpool", ["cat5", "sum"])
def test_labels_equal_the_official_algorithm(unpool, monkeypatch):
    """Within 1e-4 of the official code (float64 here: ~1e-9) on a course sky/land pair, and on
    irregular maps at an odd size (padding) whose small regions shrink to one pixel or vanish."""
    monkeypatch.setattr(M, "_CFG", whitening.wct_config("wct2", compute_dtype=torch.float64))
    model = bench_wct2.he_init(M.WCT2.from_official(wavenets.synthetic_checkpoint(f"wct2_encoder_{unpool}", seed=1),
                                                wavenets.synthetic_checkpoint(f"wct2_decoder_{unpool}", seed=2),
                                                unpool=unpool)).double()
    cn, sn = data.pairs(labelled=True)[0]
    cases = [(data.load(cn, size=(48, 64)), data.load(sn, size=(64, 48)),
              data.load_labels(cn, size=(48, 64))[0, 0].numpy(), data.load_labels(sn, size=(64, 48))[0, 0].numpy())]
    cn, sn = data.pairs(labelled=True)[2]
    cseg, sseg = O.irregular_maps(45, 61, seed=3), O.irregular_maps(40, 52, seed=4)
    cseg[9:13, 4:8] = 5  # 16 px each: used; one pixel or none at 1/8 size
    sseg[2:6, 2:6] = 5
    cseg[30:42, 40:41] = 6  # a 1-pixel-wide sliver (12 px), and its style region of 12 px
    sseg[20:23, 40:44] = 6
    cases.append((data.load(cn, size=(45, 61)), data.load(sn, size=(40, 52)), cseg, sseg))
    one_pixel = 0
    for c, s, cseg, sseg in cases:
        c, s = c.double(), s.double()
        label_set = O.official_label_set(cseg, sseg)
        cl, sl = torch.from_numpy(cseg.astype(np.int64)), torch.from_numpy(sseg.astype(np.int64))
        # the official code crops to a multiple of 16; stylelab pads: run the official algorithm on the padded
        # image and maps (label set from the unpadded maps) and compare the crop
        cp, sp = V.pad_to_size(c, **wavenets.PAD), V.pad_to_size(s, **wavenets.PAD)
        clp, slp = V.pad_to_size(cl, **wavenets.PAD).numpy(), V.pad_to_size(sl, **wavenets.PAD).numpy()
        one_pixel += sum(v == 1 for v in O.region_sizes(clp, cp.shape[-2] // 8, cp.shape[-1] // 8, label_set).values())
        one_pixel += sum(v == 1 for v in O.region_sizes(slp, sp.shape[-2] // 8, sp.shape[-1] // 8, label_set).values())
        ref = _official_with_labels(model, cp, sp, clp, slp, label_set, M.COMPONENTS, 0.9)[..., :c.shape[-2], :c.shape[-1]]
        ours = model.stylize(c, s, content_labels=cl, style_labels=sl, alpha=0.9, clamp=False)
        scale = float(ref.abs().max())  # unclamped: random weights saturate [0, 1]
        assert float((ours - ref).abs().max()) < 1e-9 * scale
        assert float((model.stylize(c, s, alpha=0.9, clamp=False) - ref).abs().max()) > 1e-2 * scale  # labels matter
    assert one_pixel >= 1  # the case the issue found: a region of one pixel at the coarsest level
