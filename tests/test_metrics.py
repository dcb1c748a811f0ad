"""stylelab.metrics: SSIM against scikit-image, Gram distance against the loss, timing and memory."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from stylelab import metrics
from stylelab.features import evaluation

skm = pytest.importorskip("skimage.metrics")


def _pair(seed=0, shape=(1, 3, 24, 31)):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g, dtype=torch.float64)
    # y: a blurred, shifted, noisy version of x so SSIM is neither 0 nor 1
    y = (0.6 * x + 0.3 * torch.roll(x, 1, dims=-1) + 0.1 * torch.rand(shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    return x, y


def _np(t):
    return t[0].permute(1, 2, 0).numpy()


@pytest.mark.parametrize("shape", [(1, 3, 24, 31), (1, 3, 11, 11), (1, 1, 17, 13)])
def test_ssim_gaussian_matches_skimage(shape):
    x, y = _pair(1, shape)
    ours = evaluation.ssim(x, y, window="gaussian").item()
    ref = skm.structural_similarity(
        _np(x), _np(y), channel_axis=-1, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, data_range=1.0,
    )
    assert abs(ours - ref) < 1e-6, (ours, ref)
    assert 0.05 < ours < 0.99  # a non-trivial comparison


@pytest.mark.parametrize("shape", [(1, 3, 24, 31), (1, 3, 7, 9)])
def test_ssim_uniform_matches_skimage_defaults(shape):
    x, y = _pair(2, shape)
    ours = evaluation.ssim(x, y, window="uniform").item()
    ref = skm.structural_similarity(_np(x), _np(y), channel_axis=-1, data_range=1.0)
    assert abs(ours - ref) < 1e-6, (ours, ref)


def test_ssim_batch_is_per_image_and_identity_is_one():
    x1, y1 = _pair(3)
    x2, y2 = _pair(4)
    both = evaluation.ssim(torch.cat([x1, x2]), torch.cat([y1, y2]))
    assert both.shape == (2,)
    assert torch.allclose(both, torch.cat([evaluation.ssim(x1, y1), evaluation.ssim(x2, y2)]), atol=1e-12)
    assert torch.allclose(evaluation.ssim(x1, x1), torch.ones(1, dtype=torch.float64), atol=1e-12)
    assert evaluation.ssim(x1, y1).item() == pytest.approx(evaluation.ssim(y1, x1).item(), abs=1e-12)  # symmetric


def test_ssim_map_shape_and_gradient():
    x, y = _pair(5, (1, 3, 16, 16))
    m = evaluation.ssim_map(x, y)
    assert m.shape == (1, 3, 6, 6)  # 11×11 window: 5 px lost on each side
    x = x.clone().requires_grad_(True)
    torch.autograd.gradcheck(lambda a: evaluation.ssim(a, y), (x,), eps=1e-6, atol=1e-5)


def test_ssim_errors_are_helpful():
    x, _ = _pair()
    with pytest.raises(ValueError, match="same shape"):
        evaluation.ssim(x, x[..., :20])
    with pytest.raises(ValueError, match="smaller than"):
        evaluation.ssim(x[..., :8, :8], x[..., :8, :8])
    with pytest.raises(ValueError, match="batch dimension"):
        evaluation.ssim(x[0], x[0])
    with pytest.raises(ValueError, match="odd"):
        evaluation.ssim(x, x, window="uniform", win_size=4)
    with pytest.raises(ValueError, match="window"):
        evaluation.ssim(x, x, window="box")


def test_gaussian_window_is_wang_2004():
    g = evaluation.gaussian_window(1.5)
    assert g.numel() == 11
    assert g.sum().item() == pytest.approx(1.0)
    from scipy.ndimage import gaussian_filter1d

    impulse = np.zeros(21)
    impulse[10] = 1.0
    ref = gaussian_filter1d(impulse, 1.5, truncate=3.5)[5:16]
    assert np.allclose(g.numpy(), ref, atol=1e-12)


# ----------------------------------------------------------------------------- Gram distance
def test_gram_distance_equals_explicit_formula_and_mmd():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2, 5, 6, 7, generator=g, dtype=torch.float64)
    s = torch.randn(1, 5, 4, 9, generator=g, dtype=torch.float64)
    d = evaluation.gram_distance(a, s)
    assert d.shape == (2,)
    for i in range(2):
        fa, fs = a[i].reshape(5, -1), s[0].reshape(5, -1)
        ga, gs = fa @ fa.T / fa.shape[1], fs @ fs.T / fs.shape[1]
        assert d[i].item() == pytest.approx(((ga - gs) ** 2).sum().item() / (4 * 25), rel=1e-12)
        # biased MMD² with the kernel (xᵀy)² equals ‖G_a − G_s‖²_F (position-normalised Grams)
        kaa = (fa.T @ fa).pow(2).mean()
        kss = (fs.T @ fs).pow(2).mean()
        kas = (fa.T @ fs).pow(2).mean()
        assert (kaa + kss - 2 * kas).item() / (4 * 25) == pytest.approx(d[i].item(), rel=1e-9)
    assert evaluation.gram_distance(s, s).item() == 0.0
    with pytest.raises(ValueError, match="channels"):
        evaluation.gram_distance(a, s[:, :3])


def test_gram_distance_matches_stylelab_gram_loss():
    losses = pytest.importorskip("stylelab.features.losses")
    g = torch.Generator().manual_seed(1)
    s = torch.randn(1, 6, 7, 3, generator=g, dtype=torch.float64)
    a = torch.randn(2, 6, 5, 5, generator=g, dtype=torch.float64)
    target = losses.gram_target(s, "paper")
    for i in range(2):  # same size or not: the paper convention normalises by each image's positions
        ref = losses.gram_loss(a[i : i + 1], target, "paper")
        assert evaluation.gram_distance(a[i : i + 1], s).item() == pytest.approx(ref.item(), rel=1e-12)
    # summed over the batch, as gram_loss does
    assert evaluation.gram_distance(a, s).sum().item() == pytest.approx(losses.gram_loss(a, target, "paper").item(), rel=1e-12)
    # same number of positions: the raw-Gram formula of Gatys et al. eq. 4
    b = torch.randn(1, 6, 3, 7, generator=g, dtype=torch.float64)
    fb, fs = b.reshape(6, -1), s.reshape(6, -1)
    raw = ((fb @ fb.T - fs @ fs.T) ** 2).sum() / (4 * 36 * 21**2)
    assert evaluation.gram_distance(b, s).item() == pytest.approx(raw.item(), rel=1e-12)


def test_style_distance_pixels_and_encoder():
    g = torch.Generator().manual_seed(2)
    out = torch.rand(1, 3, 32, 32, generator=g, dtype=torch.float64)
    sty = torch.rand(1, 3, 40, 24, generator=g, dtype=torch.float64)
    # encoder=None compares the colour Gram matrices directly
    assert torch.allclose(evaluation.style_distance(out, sty), evaluation.gram_distance(out, sty))
    assert evaluation.style_distance(sty, sty).item() == 0.0

    from stylelab.nets.encoders import normalised_vgg19

    enc = normalised_vgg19(weights="random", last_layer="relu2_1").double()
    layers = ("relu1_1", "relu2_1")
    d = evaluation.style_distance(out, sty, encoder=enc, layers=layers, weights=(1.0, 2.0))
    fo, fs = enc(out, layers), enc(sty, layers)
    expected = evaluation.gram_distance(fo["relu1_1"], fs["relu1_1"]) + 2 * evaluation.gram_distance(fo["relu2_1"], fs["relu2_1"])
    assert torch.allclose(d, expected, rtol=1e-12)
    assert d.item() > 0
    with pytest.raises(ValueError, match="weights"):
        evaluation.style_distance(out, sty, encoder=enc, layers=layers, weights=(1.0,))


# ----------------------------------------------------------------------------- time and memory
def test_measure_times_and_returns_result():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2

    x = torch.ones(3)
    m = metrics.measure(f, x, repeat=3, warmup=1)
    assert len(calls) == 4 and len(m.times) == 3
    assert m.seconds >= 0 and sorted(m.times)[1] == m.seconds
    assert torch.equal(m.result, x * 2)
    assert m.device == "cpu"
    with pytest.raises(ValueError, match="repeat"):
        metrics.measure(f, x, repeat=0)


@pytest.mark.skipif(metrics.rss_bytes() is None, reason="needs /proc/self/statm (Linux)")
def test_peak_memory_sees_a_large_cpu_allocation():
    n = 64 * 2**20  # 64 MiB of float64, touched so it is resident

    def allocate():
        t = torch.ones(n // 8, dtype=torch.float64)
        time.sleep(0.05)  # long enough for the sampler
        return float(t[-1])

    m = metrics.measure(allocate, device="cpu")
    assert m.memory_method.startswith("RSS")
    assert m.peak_bytes is not None and m.peak_bytes > 0.8 * n, m.peak_mib
    small = metrics.measure(lambda: torch.ones(10).sum(), device="cpu")
    assert small.peak_bytes < 0.5 * n


@pytest.mark.skipif(not metrics._reset_high_water_mark(), reason="needs /proc/self/clear_refs (Linux ≥ 4.0)")
def test_peak_memory_catches_a_spike_the_sampler_misses():
    """A spike freed before the sampler wakes (here: a 30 s interval) is still counted, through the
    kernel's high-water mark reset on entry — also after a larger earlier peak in the same process, which
    hides it from ``ru_maxrss`` (and a subprocess inherits its parent's ``ru_maxrss``). The sampler alone
    reports ~0 here: how the WCT² memory cell read 1.52× low on a loaded machine."""
    big = torch.ones(2**26, dtype=torch.float64)  # 512 MiB: an earlier, larger peak
    del big
    with metrics.PeakMemory("cpu", interval=30) as pm:
        t = torch.ones(2**25, dtype=torch.float64)  # 256 MiB, touched, freed before the next sample
        del t
    assert "VmHWM" in pm.method
    assert pm.peak_bytes > 0.8 * 2**28, pm.peak_bytes


def test_measure_synchronises_around_the_clock(monkeypatch):
    events = []
    monkeypatch.setattr(metrics, "synchronize", lambda device: events.append(("sync", str(device))))
    metrics.measure(lambda: events.append(("call", "")), device="cpu", repeat=2)
    calls = [i for i, e in enumerate(events) if e[0] == "call"]
    assert len(calls) == 2
    for i in calls:  # every timed call is bracketed by synchronisations of the device
        assert events[i - 1] == ("sync", "cpu") and events[i + 1] == ("sync", "cpu")


@pytest.mark.cuda
def test_peak_memory_on_cuda():
    n = 64 * 2**20
    m = metrics.measure(lambda: torch.empty(n, dtype=torch.uint8, device="cuda").fill_(1).sum(), device="cuda")
    assert m.memory_method == "cuda.max_memory_allocated"
    assert n <= m.peak_bytes < 2 * n
