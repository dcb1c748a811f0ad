"""stylelab.features.stats: Gram normalisations, the Gram/MMD identity, MMD estimators against direct double sums."""

import pytest
import torch

from stylelab.features import stats

D = torch.float64


def _direct_mmd2(x, y, k, unbiased):
    """Oracle: the textbook double sums over sample pairs, one pair at a time."""
    X, Y = x.T, y.T  # rows = samples
    m, n = len(X), len(Y)
    sxx = sum(k(X[i], X[j]) for i in range(m) for j in range(m) if not (unbiased and i == j))
    syy = sum(k(Y[i], Y[j]) for i in range(n) for j in range(n) if not (unbiased and i == j))
    sxy = sum(k(X[i], Y[j]) for i in range(m) for j in range(n))
    if unbiased:
        return sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2 * sxy / (m * n)
    return sxx / m**2 + syy / n**2 - 2 * sxy / (m * n)


def test_gram_normalisations():
    f = torch.randn(2, 5, 3, 4, dtype=D)
    raw = torch.einsum("bchw,bdhw->bcd", f, f)
    torch.testing.assert_close(stats.gram(f, "none"), raw)
    torch.testing.assert_close(stats.gram(f, "positions"), raw / 12)
    torch.testing.assert_close(stats.gram(f, "elements"), raw / (5 * 12))
    torch.testing.assert_close(stats.gram(f[0].flatten(1), "none"), raw[0])  # (C, M) input
    assert stats.gram(f).shape == (2, 5, 5)


def test_gram_elements_matches_the_tutorial_for_one_image():
    f = torch.randn(1, 6, 4, 5, dtype=D)
    flat = f.view(6, 20)
    torch.testing.assert_close(stats.gram(f, "elements")[0], flat @ flat.T / f.numel())


def test_gram_rejects_bad_input():
    with pytest.raises(ValueError, match="normalize"):
        stats.gram(torch.randn(1, 2, 3, 3), "batch")
    with pytest.raises(ValueError, match="x\\[None\\]"):
        stats.gram(torch.randn(3))


@pytest.mark.parametrize("source", ["random", "image"])
def test_gram_loss_equals_mmd_with_squared_inner_product_kernel(source):
    """E_l = ‖G − A‖²/(4C²M²) = MMD²_b[(xᵀy)²]/(4C²) to 1e-10 relative (Li et al. 2017)."""
    if source == "random":
        f, s = torch.randn(1, 16, 6, 7, dtype=D), torch.randn(1, 16, 6, 7, dtype=D)
    else:  # features of real image structure: smooth ramps through a random 3→16 conv + ReLU
        from skimage import data

        img = torch.from_numpy(data.astronaut()[::16, ::16].copy()).permute(2, 0, 1)[None].to(D) / 255
        sty = torch.from_numpy(data.coffee()[::16, ::16].copy()).permute(2, 0, 1)[None].to(D) / 255
        h, w = min(img.shape[-2], sty.shape[-2]), min(img.shape[-1], sty.shape[-1])
        img, sty = img[..., :h, :w], sty[..., :h, :w]
        w = torch.randn(16, 3, 3, 3, dtype=D)
        f, s = (torch.relu(torch.nn.functional.conv2d(t, w, padding=1)) for t in (img, sty))
    c, m = f.shape[1], f.shape[2] * f.shape[3]
    G, A = stats.gram(f, "none"), stats.gram(s, "none")
    e_l = ((G - A) ** 2).sum() / (4 * c**2 * m**2)
    mmd = stats.mmd2(f, s, kernel="poly", degree=2, offset=0.0)[0]
    rel = abs(e_l - mmd / (4 * c**2)) / e_l
    assert rel < 1e-10
    assert abs(stats.gram_loss_as_mmd(f, s)[0] - e_l) / e_l < 1e-10
    # and with the kernel matrix (no closed form): the same number
    K = lambda a, b: stats.kernel_matrix(a, b, "poly", 2, 0.0).mean()  # noqa: E731
    via_k = K(f, f) + K(s, s) - 2 * K(f, s)
    assert abs(via_k / (4 * c**2) - e_l) / e_l < 1e-10


@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize(
    "kernel,kw,k",
    [
        ("linear", {}, lambda a, b: a @ b),
        ("poly", {"degree": 2, "offset": 0.7}, lambda a, b: (a @ b + 0.7) ** 2),
        ("poly", {"degree": 3, "offset": 1.0}, lambda a, b: (a @ b + 1.0) ** 3),
        ("gaussian", {"bandwidth": 1.3}, lambda a, b: torch.exp(-((a - b) ** 2).sum() / (2 * 1.3**2))),
    ],
)
def test_mmd2_agrees_with_direct_double_sum(kernel, kw, k, unbiased):
    x, y = torch.randn(4, 9, dtype=D), torch.randn(4, 7, dtype=D) + 0.3  # unequal sample counts
    got = stats.mmd2(x, y, kernel=kernel, unbiased=unbiased, **kw)
    want = _direct_mmd2(x, y, k, unbiased)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_median_bandwidth_is_median_pairwise_distance():
    x, y = torch.randn(3, 6, dtype=D), torch.randn(3, 5, dtype=D)
    z = torch.cat([x, y], 1).T
    d = [torch.dist(z[i], z[j]) for i in range(len(z)) for j in range(i + 1, len(z))]
    assert stats.median_bandwidth(x, y) == torch.stack(d).median()
    want = _direct_mmd2(x, y, lambda a, b: torch.exp(-((a - b) ** 2).sum() / (2 * torch.stack(d).median() ** 2)), False)
    torch.testing.assert_close(stats.mmd2(x, y, "gaussian"), want)


def test_linear_mmd_is_squared_mean_difference():
    x, y = torch.randn(5, 11, dtype=D), torch.randn(5, 8, dtype=D)
    torch.testing.assert_close(stats.mmd2(x, y, "linear"), ((x.mean(1) - y.mean(1)) ** 2).sum())


def test_mmd2_properties_and_batches():
    x = torch.randn(2, 4, 3, 3, dtype=D)
    assert torch.allclose(stats.mmd2(x, x, "gaussian"), torch.zeros(2, dtype=D), atol=1e-14)
    y = torch.randn(2, 4, 3, 3, dtype=D)
    batched = stats.mmd2(x, y, "poly", offset=0.5, unbiased=True)
    one = stats.mmd2(x[1].flatten(1), y[1].flatten(1), "poly", offset=0.5, unbiased=True)
    torch.testing.assert_close(batched[1], one)
    with pytest.raises(ValueError, match="kernel"):
        stats.mmd2(x, y, "laplace")
    with pytest.raises(ValueError, match="channels"):
        stats.mmd2(x, torch.randn(2, 5, 3, 3, dtype=D))


def test_mmd2_gradients_gradcheck():
    x = torch.randn(3, 5, dtype=D, requires_grad=True)
    y = torch.randn(3, 4, dtype=D)
    for kernel, kw in (("poly", {"offset": 0.3}), ("linear", {}), ("gaussian", {"bandwidth": 1.5}), ("poly", {"degree": 3})):
        assert torch.autograd.gradcheck(lambda a: stats.mmd2(a, y, kernel, unbiased=True, **kw), (x,))


def test_moments_against_numpy():
    f = torch.randn(2, 3, 4, 5, dtype=D)
    mean, std = stats.moments(f)
    arr = f.numpy().reshape(2, 3, -1)
    torch.testing.assert_close(mean, torch.from_numpy(arr.mean(-1)))
    torch.testing.assert_close(std, torch.from_numpy(arr.std(-1)))
    _, std_u = stats.moments(f, unbiased=True, eps=1e-5)
    torch.testing.assert_close(std_u, torch.from_numpy((arr.var(-1, ddof=1) + 1e-5) ** 0.5))


def test_patches_against_explicit_slicing():
    img = torch.rand(1, 2, 5, 6, dtype=D)
    p = stats.patches(img, 3)
    assert p.shape == (1, 18, 3, 4)
    # channel order: (input channel, dy, dx)
    torch.testing.assert_close(p[0, :, 1, 2].view(2, 3, 3), img[0, :, 1:4, 2:5])
    with pytest.raises(ValueError, match="smaller"):
        stats.patches(torch.rand(1, 3, 2, 2), 3)


def test_random_features_are_seeded_relu_filter_responses():
    img = torch.rand(1, 3, 12, 12, dtype=D)
    a = stats.random_features(img, seed=1, channels=4, sizes=(3, 5))
    b = stats.random_features(img, seed=1, channels=4, sizes=(3, 5))
    c = stats.random_features(img, seed=2, channels=4, sizes=(3, 5))
    assert set(a) == {"k3", "k5"} and a["k5"].shape == (1, 4, 12, 12)
    torch.testing.assert_close(a["k3"], b["k3"])
    assert not torch.allclose(a["k3"], c["k3"])
    w = stats.random_filters(3, 4, (3,), seed=1, dtype=D)[0]
    want = torch.relu(torch.nn.functional.conv2d(torch.nn.functional.pad(img, (1, 1, 1, 1), mode="reflect"), w))
    torch.testing.assert_close(a["k3"], want)


def test_gram_custom_backward_matches_autograd_and_gradchecks():
    f = torch.randn(2, 4, 3, 5, dtype=D, requires_grad=True)
    w = torch.randn(2, 4, 4, dtype=D)
    (stats.gram(f, "none") * w).sum().backward()
    g1 = f.grad.clone()
    f.grad = None
    ff = f.flatten(2)
    (torch.bmm(ff, ff.transpose(1, 2)) * w).sum().backward()
    torch.testing.assert_close(g1, f.grad)
    assert torch.autograd.gradcheck(lambda x: stats.gram(x, "elements"), (f,))
    assert torch.autograd.gradgradcheck(lambda x: stats.gram(x, "none"), (f,))
