"""Haar analysis/synthesis: exact inverse, PyWavelets agreement, pooling identities."""

import numpy as np
import pytest
import pywt
import torch
import torch.nn.functional as F

from stylelab.features import wavelets as W


@pytest.mark.parametrize("shape", [(1, 3, 8, 8), (2, 5, 6, 10), (4, 2), (3, 1, 2, 16)])
def test_synthesis_inverts_analysis_float32_and_float64(shape):
    g = torch.Generator().manual_seed(0)
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 2e-6)):
        x = torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)
        bands = W.haar_dwt(x)
        assert all(b.shape[-2:] == (shape[-2] // 2, shape[-1] // 2) for b in bands)
        y = W.haar_idwt(*bands)
        assert y.dtype == dtype and y.shape == x.shape
        assert (y - x).abs().max().item() < tol * max(1.0, x.abs().max().item())
        # orthonormal: energy preserved
        e = sum(b.double().pow(2).sum() for b in bands)
        assert torch.isclose(e, x.double().pow(2).sum(), rtol=1e-6)


@pytest.mark.parametrize("hw", [(7, 9), (5, 8), (1, 6), (9, 1), (3, 3)])
def test_odd_sides_padded_path_is_lossless(hw):
    x = torch.randn(2, 3, *hw, dtype=torch.float64)
    with pytest.raises(ValueError, match="pad=True"):
        W.haar_dwt(x)
    bands = W.haar_dwt(x, pad=True)
    assert bands[0].shape[-2:] == ((hw[0] + 1) // 2, (hw[1] + 1) // 2)
    y = W.haar_idwt(*bands, size=hw)
    torch.testing.assert_close(y, x, rtol=0, atol=1e-12)


def test_multilevel_roundtrip_odd_size():
    x = torch.randn(1, 4, 37, 22, dtype=torch.float64)
    ll, details, sizes = W.haar_wavedec(x, levels=3)
    assert ll.shape[-2:] == (5, 3)
    torch.testing.assert_close(W.haar_waverec(ll, details, sizes), x, rtol=0, atol=1e-12)


def test_bands_match_pywavelets_under_documented_mapping():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 10))
    cA, (cH, cV, cD) = pywt.dwt2(x, "haar")
    LL, LH, HL, HH = (b.numpy() for b in W.haar_dwt(torch.from_numpy(x)))
    np.testing.assert_allclose(LL, cA, atol=1e-12)
    np.testing.assert_allclose(LH, -cV, atol=1e-12)
    np.testing.assert_allclose(HL, -cH, atol=1e-12)
    np.testing.assert_allclose(HH, cD, atol=1e-12)
    # and the inverse agrees with pywt.idwt2 under the same mapping
    rec = pywt.idwt2((cA, (cH, cV, cD)), "haar")
    np.testing.assert_allclose(W.haar_idwt(*(torch.from_numpy(b) for b in (LL, LH, HL, HH))).numpy(), rec, atol=1e-12)


def test_multilevel_matches_pywt_wavedec2():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 24))
    coeffs = pywt.wavedec2(x, "haar", level=3)
    ll, details, _ = W.haar_wavedec(torch.from_numpy(x), levels=3)
    np.testing.assert_allclose(ll.numpy(), coeffs[0], atol=1e-12)
    for (lh, hl, hh), (cH, cV, cD) in zip(reversed(details), coeffs[1:]):
        np.testing.assert_allclose(hl.numpy(), -cH, atol=1e-12)
        np.testing.assert_allclose(lh.numpy(), -cV, atol=1e-12)
        np.testing.assert_allclose(hh.numpy(), cD, atol=1e-12)


def test_ll_is_twice_average_pooling_and_kernels_from_filters():
    x = torch.randn(2, 3, 8, 12, dtype=torch.float64)
    torch.testing.assert_close(W.haar_dwt(x)[0], 2 * F.avg_pool2d(x, 2), rtol=0, atol=1e-12)
    f = W.haar_filters(torch.float64)
    for name, k in W.KERNELS.items():
        torch.testing.assert_close(f[name], torch.tensor(k, dtype=torch.float64), rtol=0, atol=1e-15)
    # depthwise stride-2 Conv2d with each kernel (the official WavePool) gives the same bands
    C = x.shape[1]
    for name, band in zip(W.BANDS, W.haar_dwt(x)):
        weight = f[name].expand(C, 1, 2, 2)
        torch.testing.assert_close(F.conv2d(x, weight, stride=2, groups=C), band, rtol=0, atol=1e-12)
    # the four kernels are orthonormal
    B = torch.stack([f[n].flatten() for n in W.BANDS])
    torch.testing.assert_close(B @ B.T, torch.eye(4, dtype=torch.float64), rtol=0, atol=1e-15)


def test_upsample_bands_equal_transposed_convs_and_sum_to_idwt():
    x = torch.randn(1, 3, 6, 8, dtype=torch.float64)
    bands = W.haar_dwt(x)
    ups = W.haar_upsample_bands(*bands)
    f = W.haar_filters(torch.float64)
    for name, band, up in zip(W.BANDS, bands, ups):
        ref = F.conv_transpose2d(band, f[name].expand(3, 1, 2, 2), stride=2, groups=3)
        torch.testing.assert_close(up, ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(sum(ups), x, rtol=0, atol=1e-12)
    cat = W.WaveUnpool("cat5")(*bands, original=x)
    assert cat.shape == (1, 15, 6, 8)


def test_band_energy_sums_to_one_and_errors():
    x = torch.randn(1, 2, 8, 8)
    e = W.band_energy(W.haar_dwt(x))
    assert set(e) == set(W.BANDS) and abs(sum(e.values()) - 1) < 1e-9
    with pytest.raises(TypeError, match="floating"):
        W.haar_dwt(torch.ones(4, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match="same shape"):
        W.haar_idwt(torch.zeros(2, 2), torch.zeros(2, 3), None, None)


def test_check_official_filters():
    f = W.haar_filters()
    sd = {f"pool1.{b}.weight": f[b].expand(4, 1, 2, 2).clone() for b in W.BANDS}
    W.check_official_filters(sd, "pool1", 4)
    sd["pool1.HL.weight"] = sd["pool1.HL.weight"] * -1
    with pytest.raises(ValueError, match="HL"):
        W.check_official_filters(sd, "pool1", 4)


def _cat5_conv_oracle(bands, original, weight, bias):
    """The official formulation: four depthwise transposed convolutions, concatenation, reflection pad, 3×3 conv."""
    f = W.haar_filters(weight.dtype)
    c = bands[0].shape[1]
    ups = [F.conv_transpose2d(b, f[n].expand(c, 1, 2, 2), stride=2, groups=c) for n, b in zip(W.BANDS, bands)]
    x = torch.cat([*ups, original], dim=1)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), weight, bias)


@pytest.mark.parametrize("b,c,c_orig,k,h,w", [(1, 3, 3, 4, 4, 4), (2, 2, 5, 3, 3, 5), (1, 4, 4, 2, 1, 2), (1, 1, 1, 1, 2, 7)])
def test_unpool_conv3x3_equals_official_cat5_formulation(b, c, c_orig, k, h, w):
    g = torch.Generator().manual_seed(h * 10 + w)
    bands = [torch.randn(b, c, h, w, generator=g, dtype=torch.float64) for _ in range(4)]
    original = torch.randn(b, c_orig, 2 * h, 2 * w, generator=g, dtype=torch.float64)
    weight = torch.randn(k, 4 * c + c_orig, 3, 3, generator=g, dtype=torch.float64)
    bias = torch.randn(k, generator=g, dtype=torch.float64)
    ref = _cat5_conv_oracle(bands, original, weight, bias)
    out = W.unpool_conv3x3(*bands, original, weight, bias)
    assert out.shape == (b, k, 2 * h, 2 * w)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)  # borders included: replicate ≡ reflect here
    # float32 with the kernel precomputed, no bias
    pp = W.polyphase_unpool_weight(weight.float(), c)
    assert pp.shape == (4 * k, 4 * c, 2, 2)
    out32 = W.unpool_conv3x3(*[x.float() for x in bands], original.float(), weight.float(), None, polyphase=pp)
    torch.testing.assert_close(out32, _cat5_conv_oracle(bands, original, weight, None).float(), rtol=1e-5, atol=1e-5)


def test_unpool_conv3x3_gradients_and_errors():
    g = torch.Generator().manual_seed(0)
    bands = [torch.randn(1, 2, 2, 3, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(4)]
    original = torch.randn(1, 1, 4, 6, generator=g, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(2, 9, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(2, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *a: W.unpool_conv3x3(*a), (*bands, original, weight, bias))
    # the gradient of the weight equals the official formulation's (training the decoder is unchanged)
    gw = torch.autograd.grad(W.unpool_conv3x3(*bands, original, weight, bias).square().sum(), weight)[0]
    gr = torch.autograd.grad(_cat5_conv_oracle(bands, original, weight, bias).square().sum(), weight)[0]
    torch.testing.assert_close(gw, gr, rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="original"):
        W.unpool_conv3x3(*bands, original[..., :5], weight, bias)
    with pytest.raises(ValueError, match="weight"):
        W.polyphase_unpool_weight(weight[:, :7], 2)
