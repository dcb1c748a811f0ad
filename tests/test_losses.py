"""stylelab.features.losses: conventions, histogram matching against scikit-image, gradients (gradcheck), TV."""

import numpy as np
import pytest
import torch

from stylelab.features import losses, stats

D = torch.float64


def test_content_loss_conventions():
    f, p = torch.randn(1, 4, 3, 5, dtype=D), torch.randn(1, 4, 3, 5, dtype=D)
    torch.testing.assert_close(losses.content_loss(f, p, "paper"), 0.5 * ((f - p) ** 2).sum())
    torch.testing.assert_close(losses.content_loss(f, p, "tutorial"), ((f - p) ** 2).mean())
    with pytest.raises(ValueError, match="same size"):
        losses.content_loss(f, p[..., :2])


def test_gram_loss_paper_and_tutorial():
    f, s = torch.randn(1, 6, 4, 4, dtype=D), torch.randn(1, 6, 4, 4, dtype=D)
    c, m = 6, 16
    G, A = stats.gram(f, "none"), stats.gram(s, "none")
    paper = ((G - A) ** 2).sum() / (4 * c**2 * m**2)
    torch.testing.assert_close(losses.gram_loss(f, losses.gram_target(s, "paper"), "paper"), paper)
    tut = (((G - A) / (c * m)) ** 2).mean()
    torch.testing.assert_close(losses.gram_loss(f, losses.gram_target(s, "tutorial"), "tutorial"), tut)
    # the MMD loss with the (xᵀy)² kernel is the paper's Gram loss
    torch.testing.assert_close(losses.mmd_loss(f, s), paper)
    with pytest.raises(ValueError, match="different layers"):
        losses.gram_loss(f, losses.gram_target(torch.randn(1, 5, 4, 4, dtype=D)))


def test_match_histograms_agrees_with_skimage():
    from skimage.exposure import match_histograms

    x = torch.randn(1, 3, 7, 9, dtype=D)
    t = torch.rand(1, 3, 5, 6, dtype=D) ** 2  # different size and distribution
    ours = losses.match_histograms(x, losses.histogram_target(t))[0].permute(1, 2, 0).numpy()
    ref = match_histograms(x[0].permute(1, 2, 0).numpy(), t[0].permute(1, 2, 0).numpy(), channel_axis=-1)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_match_histograms_same_size_is_a_rank_preserving_permutation():
    x, t = torch.randn(1, 2, 6, 6, dtype=D), torch.randn(1, 2, 4, 9, dtype=D)
    r = losses.match_histograms(x, losses.histogram_target(t))
    torch.testing.assert_close(r.flatten(2).sort(2).values, t.flatten(2).sort(2).values)
    assert torch.equal(r.flatten(2).argsort(2), x.flatten(2).argsort(2))


def test_histogram_loss_zero_at_target_and_gradient():
    t = torch.randn(1, 3, 4, 4, dtype=D)
    perm = t.flatten(2)[..., torch.randperm(16)].reshape(t.shape)
    target = losses.histogram_target(t)
    assert losses.histogram_loss(perm, target) == 0
    x = torch.randn(1, 3, 4, 4, dtype=D, requires_grad=True)
    loss = losses.histogram_loss(x, target)
    loss.backward()
    r = losses.match_histograms(x, target)
    torch.testing.assert_close(x.grad, 2 * (x - r).detach() / (3 * 16))


@pytest.mark.parametrize("name", ["content", "gram_paper", "gram_tutorial", "mmd_gauss", "moments", "tv_sq", "tv_l1", "tv_iso"])
def test_custom_losses_pass_gradcheck(name):
    s = torch.randn(1, 3, 4, 5, dtype=D)
    x = torch.randn(1, 3, 4, 5, dtype=D, requires_grad=True)
    fn = {
        "content": lambda a: losses.content_loss(a, s),
        "gram_paper": lambda a: losses.gram_loss(a, losses.gram_target(s)),
        "gram_tutorial": lambda a: losses.gram_loss(a, losses.gram_target(s, "tutorial"), "tutorial"),
        "mmd_gauss": lambda a: losses.mmd_loss(a, s, kernel="gaussian", bandwidth=2.0, unbiased=True),
        "moments": lambda a: losses.moment_loss(a, losses.moment_target(s)),
        "tv_sq": lambda a: losses.total_variation(a),
        "tv_l1": lambda a: losses.total_variation(a, "l1", "sum"),
        "tv_iso": lambda a: losses.total_variation(a, "isotropic"),
    }[name]
    assert torch.autograd.gradcheck(fn, (x,))


def test_moment_loss_zero_iff_moments_match():
    s = torch.randn(1, 4, 5, 5, dtype=D)
    x = (s - s.mean((2, 3), keepdim=True)).flip(-1) + s.mean((2, 3), keepdim=True)  # same moments, other layout
    assert losses.moment_loss(x, losses.moment_target(s)) < 1e-20
    assert losses.moment_loss(s * 2, losses.moment_target(s)) > 0.1


def test_total_variation_values():
    img = torch.zeros(1, 1, 3, 3, dtype=D)
    img[..., 1, 1] = 1.0  # one bright pixel: 4 unit steps
    assert losses.total_variation(img, "squared", "sum") == 4
    assert losses.total_variation(img, "l1", "sum") == 4
    assert losses.total_variation(torch.ones(2, 3, 5, 5)) == 0
    assert losses.total_variation(img, "squared", "mean") == 4 / 9
    with pytest.raises(ValueError, match="kind"):
        losses.total_variation(img, "l3")
