"""AdaIN / WCT transforms: identities in float64, numpy oracles per preset, label maps."""

import numpy as np
import pytest
import scipy.linalg
import torch

from stylelab.features import linalg
from stylelab.features import transforms as T
from stylelab import labels
from stylelab.features import linalg
from stylelab.labels import maps as label_maps
from stylelab.features import whitening

D = torch.float64


def feats(b=1, c=16, h=8, w=9, seed=0, mix=True, offset=2.0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, c, h, w, generator=g, dtype=D)
    if mix:  # correlated channels with different scales
        m = torch.randn(c, c, generator=g, dtype=D)
        x = torch.einsum("ij,bjhw->bihw", m, x)
    return x + offset * torch.randn(1, c, 1, 1, generator=g, dtype=D)


def np_cov(x):  # (C, N) → unbiased covariance, independent of stylelab
    return np.cov(x, rowvar=True, ddof=1)


# ------------------------------------------------------------------ AdaIN
def test_adain_matches_style_moments_exactly_without_eps():
    c, s = feats(2, 16, 8, 8, seed=1), feats(1, 16, 5, 7, seed=2)
    out = T.adain(c, s, eps=0.0)
    mo, so = T.mean_std(out, unbiased=True, eps=0.0)
    ms, ss = T.mean_std(s, unbiased=True, eps=0.0)
    torch.testing.assert_close(mo, ms.expand_as(mo))
    torch.testing.assert_close(so, ss.expand_as(so))


def test_mean_std_agrees_with_numpy():
    x = feats(2, 4, 3, 5, seed=3)
    m, s = T.mean_std(x, unbiased=False, eps=0.1)
    xn = x.flatten(2).numpy()
    np.testing.assert_allclose(m.squeeze().numpy(), xn.mean(-1))
    np.testing.assert_allclose(s.squeeze().numpy(), np.sqrt(xn.var(-1, ddof=0) + 0.1))


@pytest.mark.parametrize("preset", ["pytorch", "official"])
def test_adain_presets_follow_their_references(preset):
    c, s = feats(1, 8, 6, 6, seed=4), feats(1, 8, 4, 5, seed=5)
    cn, sn = c.flatten(2).numpy()[0], s.flatten(2).numpy()[0]
    if preset == "pytorch":  # pytorch-AdaIN calc_mean_std: unbiased var + 1e-5, both sides
        sc = np.sqrt(cn.var(1, ddof=1) + 1e-5)
        ss = np.sqrt(sn.var(1, ddof=1) + 1e-5)
    else:  # Torch: style std biased, no eps; content via batch norm (biased var + 1e-5)
        sc = np.sqrt(cn.var(1, ddof=0) + 1e-5)
        ss = sn.std(1, ddof=0)
    expected = (cn - cn.mean(1, keepdims=True)) / sc[:, None] * ss[:, None] + sn.mean(1, keepdims=True)
    out = T.adain(c, s, preset=preset)
    np.testing.assert_allclose(out.flatten(2).numpy()[0], expected, rtol=1e-12, atol=1e-12)


def test_adain_presets_differ_and_overrides_apply():
    c, s = feats(1, 8, 6, 6, seed=6), feats(1, 8, 4, 5, seed=7)
    a, b = T.adain(c, s, preset="pytorch"), T.adain(c, s, preset="official")
    assert not torch.allclose(a, b, rtol=1e-6, atol=0)
    torch.testing.assert_close(T.adain(c, s, preset="official", unbiased=True, eps=1e-5), a)


def test_adain_alpha_blend_and_errors():
    c, s = feats(1, 8, 6, 6), feats(1, 8, 4, 4, seed=9)
    torch.testing.assert_close(T.adain(c, s, 0.0), c)
    torch.testing.assert_close(T.adain(c, s, 0.3), 0.3 * T.adain(c, s) + 0.7 * c)
    with pytest.raises(ValueError, match="alpha"):
        T.adain(c, s, 1.5)
    with pytest.raises(ValueError, match="channels"):
        T.adain(c, feats(1, 4, 4, 4))
    with pytest.raises(ValueError, match="preset"):
        T.adain(c, s, preset="nope")
    with pytest.raises(ValueError, match="unsqueeze"):
        T.adain(c[0], s)


def test_interpolate_styles_weights():
    c, s1, s2 = feats(1, 8, 6, 6), feats(1, 8, 5, 5, seed=1), feats(1, 8, 7, 4, seed=2)
    torch.testing.assert_close(T.interpolate_styles(c, [s1, s2], [1, 0]), T.adain(c, s1))
    mix = T.interpolate_styles(c, [s1, s2], [3, 1])
    torch.testing.assert_close(mix, 0.75 * T.adain(c, s1) + 0.25 * T.adain(c, s2))
    with pytest.raises(ValueError, match="weights"):
        T.interpolate_styles(c, [s1, s2], [1])


# ------------------------------------------------------------------ whitening / colouring
def test_covariance_agrees_with_numpy():
    x = feats(1, 6, 4, 5)
    np.testing.assert_allclose(linalg.covariance(x)[0].numpy(), np_cov(x.flatten(2)[0].numpy()), rtol=1e-10)
    np.testing.assert_allclose(linalg.covariance(x, unbiased=False)[0].numpy(), np.cov(x.flatten(2)[0].numpy(), ddof=0), rtol=1e-10)


def test_whitening_gives_identity_covariance_and_zero_mean():
    x = feats(2, 16, 8, 8)
    w = whitening.whiten(x)
    for b in range(2):
        np.testing.assert_allclose(np_cov(w.flatten(2)[b].numpy()), np.eye(16), atol=1e-9)
    assert w.flatten(2).mean(-1).abs().max() < 1e-10


def test_exact_wct_reproduces_style_mean_and_covariance():
    c, s = feats(2, 16, 8, 8, seed=1), feats(1, 16, 6, 10, seed=2)
    out = T.wct(c, s, preset="exact")
    sn = s.flatten(2)[0].numpy()
    for b in range(2):
        on = out.flatten(2)[b].numpy()
        np.testing.assert_allclose(np_cov(on), np_cov(sn), rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(on.mean(1), sn.mean(1), atol=1e-10)
    # the two halves compose to the same thing
    torch.testing.assert_close(whitening.colour(whitening.whiten(c), s), out)


def test_eigh_and_svd_agree():
    c, s = feats(1, 12, 6, 6, seed=3), feats(1, 12, 5, 5, seed=4)
    for preset in ("exact", "pytorch_wct"):
        torch.testing.assert_close(T.wct(c, s, preset=preset, method="svd"), T.wct(c, s, preset=preset, method="eigh"))


def _np_wct(c, s, eps_c, eps_s, thr, dtype, clamp=False):
    """Independent NumPy WCT (SVD, per-side absolute threshold) as UniversalStyleTransfer ``test_wct.lua``,
    FastPhotoStyle ``photo_wct.py`` and WCT2 ``utils/core.py`` compute it."""
    c, s = c.astype(dtype), s.astype(dtype)
    mc, ms = c.mean(1, keepdims=True), s.mean(1, keepdims=True)
    cc, sc = c - mc, s - ms
    cov_c = cc @ cc.T / (c.shape[1] - 1) + eps_c * np.eye(len(c), dtype=dtype)
    cov_s = sc @ sc.T / (s.shape[1] - 1) + eps_s * np.eye(len(s), dtype=dtype)
    uc, dc, _ = np.linalg.svd(cov_c)
    us, ds, _ = np.linalg.svd(cov_s)
    kc, ks = (dc >= thr).sum(), (ds >= thr).sum()
    w = uc[:, :kc] @ np.diag(dc[:kc] ** -0.5) @ uc[:, :kc].T
    col = us[:, :ks] @ np.diag(ds[:ks] ** 0.5) @ us[:, :ks].T
    out = col @ (w @ cc) + ms
    return np.clip(out, c.min(), c.max()) if clamp else out


@pytest.mark.parametrize(
    "preset,eps_c,eps_s,dtype,clamp,tol",
    [
        ("official_wct", 0.0, 0.0, np.float32, False, 2e-3),
        ("pytorch_wct", 1.0, 0.0, np.float64, False, 1e-9),
        ("photowct", 1.0, 0.0, np.float32, False, 2e-4),
        ("wct2", 1.0, 1.0, np.float32, True, 2e-4),
    ],
)
def test_presets_compute_what_their_reference_computes(preset, eps_c, eps_s, dtype, clamp, tol):
    c = torch.relu(feats(1, 16, 8, 8, seed=10, offset=0.3)) * 0.1
    s = torch.relu(feats(1, 16, 7, 9, seed=11, offset=0.3))
    s[:, :3] = 0  # dead channels: the style covariance is rank-deficient → truncation matters
    c[:, 0] = 0.05 + 2e-3 * feats(1, 1, 8, 8, seed=14, mix=False, offset=0)[:, 0]  # variance ~4e-6 < 1e-5
    out = T.wct(c, s, preset=preset)
    ref = _np_wct(c[0].flatten(1).numpy(), s[0].flatten(1).numpy(), eps_c, eps_s, 1e-5, dtype, clamp)
    scale = np.abs(ref).max()
    np.testing.assert_allclose(out[0].flatten(1).numpy(), ref, atol=tol * scale, rtol=0)
    if clamp:
        assert out.min() >= c.min() and out.max() <= c.max()


def test_official_threshold_drops_small_eigenvalues_per_side():
    """Eigenvalues < 1e-5 are cut (here on the content side); computed in float64 to be exact."""
    c = torch.relu(feats(1, 16, 8, 8, seed=10, offset=0.3)) * 0.1
    c[:, 0] = 0.05 + 2e-3 * feats(1, 1, 8, 8, seed=14, mix=False, offset=0)[:, 0]
    s = torch.relu(feats(1, 16, 7, 9, seed=11, offset=0.3))
    lam = torch.linalg.eigvalsh(linalg.covariance(c)[0])
    assert 1e-7 < lam[0] < 1e-5 < lam[1]  # exactly one eigenvalue under the cut-off
    out = T.wct(c, s, preset="official_wct", compute_dtype=torch.float64)
    ref = _np_wct(c[0].flatten(1).numpy(), s[0].flatten(1).numpy(), 0.0, 0.0, 1e-5, np.float64)
    np.testing.assert_allclose(out[0].flatten(1).numpy(), ref, rtol=1e-8, atol=1e-8)
    assert not torch.allclose(out, T.wct(c, s, preset="exact"), atol=1e-3)


def test_identity_regularisation_breaks_the_covariance_match():
    """+I is not negligible for O(1) variances (normalised VGG); only 'exact' matches Σ_s."""
    c = torch.relu(feats(1, 16, 10, 10, seed=12, mix=False, offset=0.0)) * 0.5
    s = feats(1, 16, 10, 10, seed=13)
    target = linalg.covariance(s)

    def rel(preset):
        return ((linalg.covariance(T.wct(c, s, preset=preset)) - target).norm() / target.norm()).item()

    assert rel("exact") < 1e-8
    assert rel("pytorch_wct") > 0.05
    assert rel("wct2") > 0.05


def test_wct_alpha_and_dtype_device_preserved():
    c, s = feats(1, 8, 5, 5).float(), feats(1, 8, 4, 4, seed=2).float()
    out = T.wct(c, s, 0.6)
    assert out.dtype == torch.float32 and out.device == c.device
    torch.testing.assert_close(out, 0.6 * T.wct(c, s) + 0.4 * c, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="preset"):
        T.wct(c, s, preset="nope")


# ------------------------------------------------------------------ labels
def test_labelled_wct_transfers_each_region_from_its_style_region():
    c, s = feats(1, 6, 8, 8, seed=1), feats(1, 6, 10, 10, seed=2)
    s[..., 5:, :] += 10.0  # style region 1 has a very different mean
    cl = torch.zeros(8, 8, dtype=torch.long)
    cl[:, 4:] = 1
    sl = torch.zeros(10, 10, dtype=torch.long)
    sl[5:, :] = 1
    out = T.wct(c, s, content_labels=cl, style_labels=sl)
    for lab in (0, 1):
        o = out[0][:, cl == lab].numpy()
        st = s[0][:, sl == lab].numpy()
        np.testing.assert_allclose(o.mean(1), st.mean(1), atol=1e-9)
        np.testing.assert_allclose(np_cov(o), np_cov(st), atol=1e-8)
    # AdaIN with labels: per-region moments
    a = T.adain(c, s, eps=0.0, content_labels=cl, style_labels=sl)
    for lab in (0, 1):
        o, st = a[0][:, cl == lab], s[0][:, sl == lab]
        torch.testing.assert_close(o.mean(1), st.mean(1))
        torch.testing.assert_close(o.std(1), st.std(1))


def test_labels_at_higher_resolution_are_resized_nearest():
    c, s = feats(1, 6, 8, 8, seed=1), feats(1, 6, 8, 8, seed=2)
    cl = torch.zeros(8, 8, dtype=torch.long)
    cl[:, 4:] = 1
    up = cl.repeat_interleave(4, 0).repeat_interleave(4, 1)  # 32×32 image-size map
    torch.testing.assert_close(
        T.wct(c, s, content_labels=up, style_labels=up), T.wct(c, s, content_labels=cl, style_labels=cl)
    )


def test_tiny_regions_keep_their_content_features():
    c, s = feats(1, 4, 8, 8, seed=1), feats(1, 4, 8, 8, seed=2)
    cl = torch.zeros(8, 8, dtype=torch.long)
    cl[0, :5] = 1  # label 1: only 5 pixels in the content (≤ 10)
    sl = torch.zeros(8, 8, dtype=torch.long)
    sl[:4] = 1
    out = T.wct(c, s, content_labels=cl, style_labels=sl)
    torch.testing.assert_close(out[0][:, cl == 1], c[0][:, cl == 1])
    assert not torch.allclose(out[0][:, cl == 0], c[0][:, cl == 0])
    # label 2 exists only in the content: kept
    cl2 = cl.clone()
    cl2[4:, :] = 2
    out2 = T.adain(c, s, content_labels=cl2, style_labels=sl)
    torch.testing.assert_close(out2[0][:, cl2 == 2], c[0][:, cl2 == 2])


def test_usable_labels_rule_is_strict_as_official():
    def lab(counts):
        return torch.cat([torch.full((n,), k) for k, n in counts.items()]).view(1, -1)

    assert labels.usable_labels(lab({0: 11, 1: 500}), lab({0: 11, 1: 6})) == [0]  # 10 px is not enough, 11 is
    assert labels.usable_labels(lab({0: 1100}), lab({0: 11})) == []  # ratio exactly 100: refused
    assert labels.usable_labels(lab({0: 1089}), lab({0: 11})) == [0]  # ratio 99
    assert labels.usable_labels(lab({0: 30}), lab({0: 30}), min_pixels=40) == []
    assert labels.usable_labels(lab({0: 1100}), lab({0: 11}), max_ratio=200) == [0]


def test_three_channel_mask_is_a_clear_error_and_conversion_works():
    rgb = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match="labels_from_rgb"):
        label_maps.check_labels(rgb)
    with pytest.raises(ValueError, match="labels_from_rgb"):
        T.wct(feats(1, 3, 4, 4), feats(1, 3, 4, 4), content_labels=rgb, style_labels=rgb[:, :1])
    with pytest.raises(ValueError, match="labels_from_rgb"):
        label_maps.check_labels(np.zeros((4, 4, 3), dtype=np.uint8))
    # DPST colours → their ids; off-palette colours go to the nearest (L1)
    img = torch.tensor([[0, 0, 1], [0, 1, 0], [1, 0, 0], [1, 1, 1], [0.45, 0.5, 0.55], [0.9, 0.1, 0.95]]).T.view(1, 3, 1, 6)
    assert label_maps.labels_from_rgb(img).flatten().tolist() == [3, 2, 4, 1, 6, 8]
    assert label_maps.labels_from_rgb((img * 255).to(torch.uint8)).flatten().tolist() == [3, 2, 4, 1, 6, 8]
    assert label_maps.labels_from_rgb(img, palette=[(0, 0, 0), (1, 1, 1)]).flatten().tolist() == [0, 0, 0, 1, 0, 1]


def test_check_labels_shapes_and_errors():
    assert label_maps.check_labels(torch.zeros(5, 6, dtype=torch.int32)).shape == (1, 1, 5, 6)
    assert label_maps.check_labels(torch.zeros(2, 1, 5, 6, dtype=torch.uint8)).dtype == torch.long
    with pytest.raises(ValueError, match="non-integer"):
        label_maps.check_labels(torch.full((4, 4), 0.5))
    with pytest.raises(ValueError, match="both"):
        T.adain(feats(), feats(), content_labels=torch.zeros(8, 9, dtype=torch.long))


# ------------------------------------------------------------------ colour preservation
def test_coral_matches_scipy_oracle_and_keeps_dtype():
    g = torch.Generator().manual_seed(0)
    src, tgt = torch.rand(3, 9, 11, generator=g), torch.rand(1, 3, 7, 8, generator=g) * 0.5 + 0.2
    out = T.coral(src, tgt)
    assert out.shape == src.shape and out.dtype == src.dtype
    s = src.reshape(3, -1).double().numpy()
    t = tgt.reshape(3, -1).double().numpy()
    sn = (s - s.mean(1, keepdims=True)) / s.std(1, ddof=1, keepdims=True)
    tn = (t - t.mean(1, keepdims=True)) / t.std(1, ddof=1, keepdims=True)
    cs, ct = sn @ sn.T + np.eye(3), tn @ tn.T + np.eye(3)
    ref = np.real(scipy.linalg.sqrtm(ct) @ np.linalg.inv(scipy.linalg.sqrtm(cs)) @ sn)
    ref = ref * t.std(1, ddof=1, keepdims=True) + t.mean(1, keepdims=True)
    np.testing.assert_allclose(out.reshape(3, -1).numpy(), ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.reshape(3, -1).double().numpy().mean(1), t.mean(1), atol=1e-5)


def test_tiny_rank_deficient_float32_features_stay_finite():
    """Regression: float32 eigh returned NaN on near-zero covariances (random-network features)."""
    g = torch.Generator().manual_seed(0)
    c = torch.relu(torch.randn(1, 64, 12, 12, generator=g)) * 1e-3
    c[:, 10:] = 0  # many dead channels
    s = torch.relu(torch.randn(1, 64, 10, 10, generator=g)) * 1e-3
    for preset in ("official_wct", "photowct", "exact"):
        a = T.wct(c, s, preset=preset)
        assert torch.isfinite(a).all()
        torch.testing.assert_close(a, T.wct(c, s, preset=preset, method="svd"), rtol=1e-3, atol=1e-5)


def test_eigh_failure_falls_back_to_svd(monkeypatch):
    c, s = feats(1, 8, 6, 6, seed=1), feats(1, 8, 6, 6, seed=2)
    expected = T.wct(c, s, method="svd")

    def broken(*a, **k):
        raise torch.linalg.LinAlgError("failed to converge")

    monkeypatch.setattr(torch.linalg, "eigh", broken)
    torch.testing.assert_close(T.wct(c, s, method="eigh"), expected)


@pytest.mark.parametrize("scale", [1.0, 3e-3])
@pytest.mark.parametrize("n_c,n_s", [(10, 12), (10, 50), (50, 12)])
def test_low_rank_path_equals_full_covariance_path(monkeypatch, scale, n_c, n_s):
    """Fewer positions than channels: the N×N Gram route must give the C×C result (all presets)."""
    g = torch.Generator().manual_seed(n_c + n_s)
    c = torch.relu(torch.randn(1, 32, 1, n_c, generator=g, dtype=D)) * scale
    s = torch.relu(torch.randn(1, 32, 1, n_s, generator=g, dtype=D)) * scale
    for preset in whitening.WCT_PRESETS:
        kw = dict(preset=preset, compute_dtype=torch.float64)
        monkeypatch.setattr(linalg, "LOW_RANK", True)
        fast = T.wct(c, s, **kw)
        monkeypatch.setattr(linalg, "LOW_RANK", False)
        torch.testing.assert_close(fast, T.wct(c, s, **kw), rtol=1e-9, atol=1e-12 * max(scale, 1e-3))
        # and for a regulariser below the cut-off (the ε-eigenspace is then dropped)
        kw.update(eps_content=1e-6, eps_style=1e-6, eig_threshold=1e-5)
        full = T.wct(c, s, **kw)
        monkeypatch.setattr(linalg, "LOW_RANK", True)
        torch.testing.assert_close(T.wct(c, s, **kw), full, rtol=1e-9, atol=1e-12)
