"""Li et al.'s linear-time MMD² (Gretton's estimator over pairs): unbiased, exact on a set against itself,
differentiable, cheap enough for Gatys' loop, and refused where it does not apply."""

from __future__ import annotations

import pytest
import torch

from stylelab.features import losses, stats
from stylelab.features.linear_time_mmd import mmd2_linear


def _clouds(m, n, c=3, shift=0.7, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(c, m, generator=g, dtype=torch.float64), torch.randn(c, n, generator=g, dtype=torch.float64) + shift


def test_the_mean_over_pairings_is_the_unbiased_u_statistic():
    """M ≠ N: each pairing draws uniform disjoint pairs, so the mean over pairings is the U-statistic of
    ``stats.mmd2(unbiased=True)``; checked against many seeds within 5 standard errors."""
    x, y = _clouds(11, 9)
    exact = float(stats.mmd2(x, y, kernel="gaussian", bandwidth=1.3, unbiased=True))
    draws = torch.stack([mmd2_linear(x, y, bandwidth=1.3, seed=s) for s in range(4000)])
    se = float(draws.std()) / draws.numel() ** 0.5
    assert abs(float(draws.mean()) - exact) < 5 * se, (float(draws.mean()), exact, se)
    assert exact > 10 * se  # the test can tell a shift from none


def test_equal_counts_share_the_pairing_a_set_against_itself_is_zero_and_the_cross_term_skips_i_eq_j():
    x, y = _clouds(10, 10)
    assert float(mmd2_linear(x, x, seed=3)) == 0.0
    k = lambda a, b: stats.kernel_matrix(a, b, "gaussian", bandwidth=0.9)[0]  # noqa: E731
    off = ~torch.eye(10, dtype=torch.bool)
    expected = float(k(x, x)[off].mean() + k(y, y)[off].mean() - 2 * k(x, y)[off].mean())
    draws = torch.stack([mmd2_linear(x, y, bandwidth=0.9, seed=s) for s in range(4000)])
    se = float(draws.std()) / draws.numel() ** 0.5
    assert abs(float(draws.mean()) - expected) < 5 * se


def test_close_to_the_quadratic_estimate_on_large_samples_and_fixed_by_its_seed():
    x, y = _clouds(6000, 5000, c=4, shift=0.5, seed=1)
    quad = float(stats.mmd2(x, y, kernel="gaussian", bandwidth="median", unbiased=True))
    lin = float(mmd2_linear(x, y))  # "median": the same heuristic and seed as stats.median_bandwidth
    assert lin == pytest.approx(quad, rel=0.25)
    assert float(mmd2_linear(x, y, seed=5)) == float(mmd2_linear(x, y, seed=5))
    assert float(mmd2_linear(x, y, seed=5)) != float(mmd2_linear(x, y, seed=6))
    # "mean": Li et al.'s bandwidth, σ² = the pairs' mean squared distance
    assert float(mmd2_linear(x, y, bandwidth="mean")) > 0


def test_gradient_matches_finite_differences_and_reaches_every_paired_position():
    x, y = _clouds(8, 12)
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a: mmd2_linear(a, y, bandwidth=1.1, seed=2), (x,))
    feat = torch.randn(1, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    mmd2_linear(feat, torch.randn(1, 3, 6, 6, dtype=torch.float64)).backward()
    assert (feat.grad.flatten(2).abs().sum(1) > 0).all()  # 16 positions, 8 pairs: every position is in one


def test_batches_and_feature_maps():
    f, s = torch.randn(2, 5, 6, 7), torch.randn(2, 5, 8, 8)
    out = mmd2_linear(f, s)
    assert out.shape == (2,)
    assert torch.allclose(out[1], mmd2_linear(f[1:], s[1:])[0])


def test_the_gatys_loss_and_the_explorer_use_it_for_the_gaussian_kernel():
    f, s = torch.rand(1, 4, 8, 8), torch.rand(1, 4, 8, 8)
    assert float(losses.mmd_loss(f, s, "gaussian", estimator="linear")) == pytest.approx(float(mmd2_linear(f, s)))
    from stylelab.course.widgets.gatys import GatysExplorer
    from stylelab.methods import gatys

    ex = GatysExplorer(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), gatys.preset("paper"), style_loss="mmd",
                       encoder=object())
    conf = ex.config()
    assert (conf.mmd_kernel, conf.mmd_estimator) == ("gaussian", "linear")
    assert "linear-time" in ex.describe()


def test_bad_input_says_what_to_do():
    f, s = torch.rand(1, 4, 8, 8), torch.rand(1, 4, 8, 8)
    with pytest.raises(ValueError, match="Gaussian kernel"):
        losses.mmd_loss(f, s, "poly", estimator="linear")
    with pytest.raises(ValueError, match="'quadratic' or 'linear'"):
        losses.mmd_loss(f, s, "gaussian", estimator="fast")
    with pytest.raises(ValueError, match="at least 2 columns"):
        mmd2_linear(torch.rand(3, 1), torch.rand(3, 5))
    with pytest.raises(ValueError, match="same batch size and channels"):
        mmd2_linear(torch.rand(3, 4), torch.rand(2, 4))
    with pytest.raises(ValueError, match="'median' or 'mean'"):
        mmd2_linear(torch.rand(3, 4), torch.rand(3, 4), bandwidth="silverman")
    from stylelab.methods import gatys

    with pytest.raises(ValueError, match="mmd_estimator"):
        gatys.preset("paper", mmd_estimator="cubic")
