"""Cholesky against ZCA whitening (stylelab.features.whitening): both whiten exactly; ZCA moves the features least."""

from __future__ import annotations

import pytest
import torch

from stylelab.features import transforms as T
from stylelab.features import whitening as whitening_mod
from stylelab.features.linalg import covariance
from stylelab.features.whitening import WCTConfig, cholesky_factor, colouring_matrix, whitening_matrix


def _features(c=8, n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(c, c, generator=g, dtype=torch.float64)
    return (mix @ torch.randn(c, n, generator=g, dtype=torch.float64) + 3).view(1, c, 20, n // 20)


@pytest.mark.parametrize("whitening", ["zca", "cholesky"])
def test_both_whitenings_give_identity_covariance_and_zero_mean_in_float64(whitening):
    w = whitening_mod.whiten(_features(), whitening=whitening)
    eye = torch.eye(8, dtype=torch.float64)
    assert (covariance(w[0].flatten(1)) - eye).abs().max() < 1e-6
    assert w.flatten(2).mean(-1).abs().max() < 1e-10


@pytest.mark.parametrize("whitening", ["zca", "cholesky"])
def test_both_colourings_give_the_style_covariance(whitening):
    c, s = _features(seed=1), _features(seed=2)
    out = T.wct(c, s, whitening=whitening)
    assert torch.allclose(covariance(out[0].flatten(1)), covariance(s[0].flatten(1)), atol=1e-8)
    assert torch.allclose(out.flatten(2).mean(-1), s.flatten(2).mean(-1), atol=1e-10)
    col = whitening_mod.colour(whitening_mod.whiten(c, whitening=whitening), s, whitening=whitening)
    assert torch.allclose(covariance(col[0].flatten(1)), covariance(s[0].flatten(1)), atol=1e-8)


def test_cholesky_matrices_are_the_triangular_factor_and_its_inverse():
    x = _features()[0].flatten(1)
    cfg = WCTConfig(whitening="cholesky")
    lower = cholesky_factor(x, 0.0)
    assert torch.equal(lower, lower.tril()) and (lower.diagonal() > 0).all()
    assert torch.allclose(lower @ lower.T, covariance(x), atol=1e-10)
    w, _ = whitening_matrix(x, cfg)
    assert torch.allclose(w @ lower, torch.eye(8, dtype=torch.float64), atol=1e-10)
    assert torch.equal(colouring_matrix(x, cfg)[0], lower)


def test_zca_is_the_whitening_closest_to_the_input_in_least_squares():
    """Kessy, Lewin & Strimmer (2018): among W with W Σ Wᵀ = I, i.e. W = Q Σ^{-1/2}, ZCA (Q = I) minimises
    E‖W x − x‖². Checked against Cholesky and against random rotations of ZCA."""
    x = _features()[0].flatten(1)
    xc = x - x.mean(-1, keepdim=True)
    w_zca, _ = whitening_matrix(x, WCTConfig())
    w_chol, _ = whitening_matrix(x, WCTConfig(whitening="cholesky"))

    def dist(w):
        return (w @ xc - xc).pow(2).sum().item()

    g = torch.Generator().manual_seed(5)
    rotations = [torch.linalg.qr(torch.randn(8, 8, generator=g, dtype=torch.float64))[0] for _ in range(20)]
    for q in rotations:  # every whitening of the family whitens …
        assert torch.allclose(covariance(q @ w_zca @ xc), torch.eye(8, dtype=torch.float64), atol=1e-8)
    assert dist(w_zca) < dist(w_chol)
    assert all(dist(w_zca) <= dist(q @ w_zca) for q in rotations)  # … and ZCA moves the features least


def test_zca_commutes_with_a_channel_permutation_cholesky_does_not():
    c, s = _features(seed=1), _features(seed=2)
    perm = torch.tensor([3, 0, 7, 1, 6, 2, 5, 4])
    for whitening, equivariant in (("zca", True), ("cholesky", False)):
        a = whitening_mod.whiten(c, whitening=whitening)[:, perm]
        b = whitening_mod.whiten(c[:, perm], whitening=whitening)
        assert torch.allclose(a, b, atol=1e-8) == equivariant, whitening
    # yet after colouring with the same rule both give the style covariance: the choice changes the image,
    # not the statistics
    a, b = T.wct(c, s, whitening="zca"), T.wct(c, s, whitening="cholesky")
    assert not torch.allclose(a, b, atol=1e-3)


def test_singular_covariance_says_what_to_do():
    x = torch.rand(1, 16, 2, 3, dtype=torch.float64)  # 6 positions, 16 channels: rank ≤ 5
    with pytest.raises(ValueError, match="eps > 0"):
        whitening_mod.whiten(x, whitening="cholesky")
    assert torch.isfinite(whitening_mod.whiten(x, eps=1e-3, whitening="cholesky")).all()
    with pytest.raises(ValueError, match="whitening must be one of"):
        WCTConfig(whitening="pca")
