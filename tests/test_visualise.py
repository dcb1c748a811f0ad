"""stylelab.course.visualise: saliency against finite differences, class visualisation raises the class score,
inversion lowers the feature loss, the fooling image reaches its class; and notebook 01b's exercises
cannot be passed by calling the library function that answers them."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # instructor/ at the repository root

from instructor.solutions import SOLUTIONS
from stylelab.course import exercises as X
from stylelab.course import visualise as V
from stylelab.course.exercises import nb01b


def _tiny(seed=0):
    return nb01b.TinyNet(*nb01b._net_weights(seed)).eval()


def _images(seed, shape):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# ---------------------------------------------------------------------------- saliency
def test_saliency_is_the_max_abs_finite_difference_gradient_of_the_class_score():
    net, x, target = _tiny(1), _images(0, (2, 3, 5, 6)), torch.tensor([3, 1])
    smap = V.saliency(net, x, target)
    assert smap.shape == (2, 5, 6)
    h = 1e-6
    grad = torch.zeros_like(x)
    with torch.no_grad():
        for idx in np.ndindex(*x.shape):
            e = torch.zeros_like(x)
            e[idx] = h
            b = idx[0]
            grad[idx] = (net(x + e)[b, target[b]] - net(x - e)[b, target[b]]) / (2 * h)
    torch.testing.assert_close(smap, grad.abs().amax(1), rtol=1e-6, atol=1e-9)
    assert all(p.grad is None for p in net.parameters())  # the model's own gradients untouched


def test_saliency_of_a_batch_is_that_of_each_image_alone_and_an_int_target_is_repeated():
    net, x = _tiny(2), _images(1, (3, 3, 4, 4))
    together = V.saliency(net, x, 2)
    alone = torch.cat([V.saliency(net, x[i:i + 1], [2]) for i in range(3)])
    torch.testing.assert_close(together, alone)


def test_saliency_rejects_bad_input_with_a_clear_message():
    net = _tiny()
    with pytest.raises(ValueError, match="target classes must lie in"):
        V.saliency(net, _images(0, (1, 3, 4, 4)), 7)
    with pytest.raises(ValueError, match="one target class per image"):
        V.saliency(net, _images(0, (2, 3, 4, 4)), [1, 2, 3])
    with pytest.raises(ValueError, match="batch dimension"):
        V.saliency(net, _images(0, (3, 4, 4)), 1)


def test_saliency_mass_uniform_and_concentrated_maps():
    uniform = torch.ones(1, 10, 10)
    assert float(V.saliency_mass(uniform, 0.1)) == pytest.approx(0.1)
    spike = torch.zeros(2, 10, 10)
    spike[:, 3, 4] = 5.0
    torch.testing.assert_close(V.saliency_mass(spike, 0.1), torch.ones(2))


def test_occlude_greys_the_most_or_least_salient_blocks():
    image = torch.ones(1, 3, 10, 12, dtype=torch.float64)
    smap = torch.ones(1, 10, 12, dtype=torch.float64)
    smap[0, 4:8, 4:8] = 9.0  # with block=4 the blocks are rows 0–3 / 4–7 / 8–9 and cols 0–3 / 4–7 / 8–11
    out = V.occlude(image, smap, fraction=1 / 9, block=4)  # 3×3 blocks (the last row partial): one block greyed
    grey = out[0, 0] == 0.5
    assert int(grey.sum()) == 16 and bool(grey[4:8, 4:8].all())
    smap2 = smap.clone()
    smap2[0, 8:, 8:] = 0.0  # the partial corner block is the least salient
    low = V.occlude(image, smap2, fraction=1 / 9, block=4, most=False, fill=0.0)
    assert bool((low[0, :, 8:, 8:] == 0).all()) and int((low[0, 0] == 0).sum()) == 2 * 4
    with pytest.raises(ValueError, match="should be"):
        V.occlude(image, smap[:, :5], 0.2)


def test_rgb_classifier_normalises_then_calls_the_network():
    net = _tiny(3)
    mean, std = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)
    wrapped = V.RGBClassifier(net, mean, std)
    x = _images(2, (1, 3, 4, 4))
    m = torch.tensor(mean, dtype=torch.float64).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float64).view(1, 3, 1, 1)
    torch.testing.assert_close(wrapped(x), net((x - m) / s))
    assert not any(p.requires_grad for p in wrapped.parameters())
    with pytest.raises(ValueError, match="three per-channel"):
        V.RGBClassifier(net, (0.5,), (0.2,))


# ---------------------------------------------------------------------------- blur, class visualisation
def test_blur_matches_scipy_gaussian_filter_and_keeps_constants():
    ndimage = pytest.importorskip("scipy.ndimage")
    x = _images(3, (1, 2, 12, 15))
    got = V.blur(x, 1.2)
    ref = np.stack([ndimage.gaussian_filter(x[0, c].numpy(), 1.2, mode="mirror", truncate=3.5) for c in range(2)])
    np.testing.assert_allclose(got[0].numpy(), ref, rtol=1e-10, atol=1e-12)
    const = torch.full((1, 3, 6, 6), 0.3, dtype=torch.float64)
    torch.testing.assert_close(V.blur(const, 2.0), const)
    assert V.blur(x, 0) is x


def test_class_visualisation_raises_the_target_score_and_stays_an_image():
    net = _tiny(4)
    start = 0.5 + 0.01 * torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        s0 = float(net(start.double())[0, 2])
    img, hist = V.class_visualisation(net, 2, size=16, steps=30, lr=0.05, l2=1e-3, jitter=2, blur_every=10)
    assert img.shape == (1, 3, 16, 16) and float(img.min()) >= 0 and float(img.max()) <= 1
    with torch.no_grad():
        s1 = float(net(img)[0, 2])
    assert s1 > s0 + 0.5, (s0, s1)
    assert len(hist["total"]) == 30 and len(hist["score"]) == 3
    assert hist["total"][-1] < hist["total"][0]


def test_class_visualisation_uses_the_loss_it_is_given():
    net, calls = _tiny(4), []

    def loss(model, image, target, l2):
        calls.append(tuple(image.shape))
        return V.class_loss(model, image, target, l2)

    V.class_visualisation(net, [0, 1], size=(8, 10), steps=4, blur_every=2, loss=loss)
    assert calls == [(2, 3, 8, 10)] * 4


# ---------------------------------------------------------------------------- inversion
def test_inversion_lowers_the_normalised_feature_loss_by_a_factor_ten():
    net = _tiny(5)
    conv = lambda x: torch.tanh(nn.functional.conv2d(x, net.w1.detach(), net.b1.detach(), padding=1))  # noqa: E731
    x0 = _images(4, (1, 3, 12, 12))
    target = conv(x0)
    init = _images(5, (1, 3, 12, 12))
    before = float(V.inversion_loss(conv(init), target))
    img, hist = V.invert(conv, target, init, steps=40, tv_weight=1e-4)
    after = float(V.inversion_loss(conv(img), target))
    assert after < 0.1 * before, (before, after)
    assert set(hist) == {"total", "features", "tv"} and len(hist["features"]) == 40


def test_inversion_loss_is_scale_free_and_checks_shapes():
    f, t = _images(6, (1, 4, 3, 3)), _images(7, (1, 4, 3, 3))
    torch.testing.assert_close(V.inversion_loss(10 * f, 10 * t), V.inversion_loss(f, t))
    assert float(V.inversion_loss(torch.zeros_like(t), t)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same shape"):
        V.inversion_loss(f, t[:, :2])


# ---------------------------------------------------------------------------- fooling
class MeanColour(nn.Module):
    """Class c's score is 10 × the mean of colour channel c: a classifier whose answer is known exactly."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(10.0, dtype=torch.float64))

    def forward(self, x):
        return self.scale * x.mean((2, 3))


def test_fooling_image_reaches_the_target_class_with_a_small_perturbation():
    model = MeanColour()
    x = torch.zeros(1, 3, 8, 8, dtype=torch.float64)
    x[:, 0], x[:, 1], x[:, 2] = 0.6, 0.41, 0.5  # red wins by 0.19
    out = V.fooling_image(model, x, 1, lr=0.2)
    assert out.before == 0 and out.after == 1 and out.fooled
    assert int(model(out.image).argmax()) == 1
    d = out.image - x
    assert out.linf == pytest.approx(float(d.abs().max())) and out.l2 == pytest.approx(float(d.norm()))
    # the gradient of the green score is uniform over the 64 green pixels, so g/‖g‖ is 1/8 there: each step adds
    # lr/8 = 0.025 to every green pixel, and green overtakes red (+0.19) after ⌈0.19 / 0.025⌉ = 8 steps
    assert out.steps == 8 and out.linf == pytest.approx(8 * 0.2 / 8)
    assert float(d[:, [0, 2]].abs().max()) == 0


def test_fooling_image_that_cannot_be_reached_says_so():
    model = MeanColour()
    x = torch.zeros(1, 3, 4, 4, dtype=torch.float64)
    x[:, 0] = 1.0  # red saturated at 1; green cannot pass it while clamped to [0, 1]
    out = V.fooling_image(model, x, 1, lr=0.5, max_steps=20)
    assert not out.fooled and out.steps == 20 and out.after == 0
    with pytest.raises(ValueError, match="one image"):
        V.fooling_image(model, x.repeat(2, 1, 1, 1), 1)


def test_fooling_step_has_length_lr_per_image():
    net, x = _tiny(6), _images(8, (2, 3, 5, 5))
    new = V.fooling_step(net, x, [0, 3], 0.25)
    torch.testing.assert_close((new - x).flatten(1).norm(dim=1), torch.full((2,), 0.25, dtype=torch.float64))


# ---------------------------------------------------------------------------- the exercises of notebook 01b
ONE_LINERS = {
    "01b.saliency": lambda model, image, target: V.saliency(model, image, target),
    "01b.class_loss": lambda model, image, target, l2: V.class_loss(model, image, target, l2),
    "01b.inversion_loss": lambda features, target: V.inversion_loss(features, target),
    "01b.fooling_step": lambda model, image, target, lr: V.fooling_step(model, image, target, lr),
}


@pytest.mark.parametrize("ex_id", sorted(ONE_LINERS))
def test_calling_the_library_does_not_pass_the_exercise(ex_id):
    with pytest.raises(AssertionError, match="write it yourself"):
        X.check(ex_id, ONE_LINERS[ex_id])
    # ... and the library function works again once the check is over
    assert X.get(ex_id).fallback.__code__ is not X._refuse.__code__


@pytest.mark.parametrize("ex_id", sorted(ONE_LINERS))
def test_the_library_computes_the_stored_numbers(ex_id):
    """Outside the checker the library's function gives the reference numbers: the fallback draws the right figure."""
    ex = X.get(ex_id)
    lib = X.get(ex_id).fallback
    for inputs, expected in X.stored_cases(ex):
        if ex_id == "01b.inversion_loss":
            got = lib(*inputs)
        else:
            w, (image, target, *rest) = inputs[:4], inputs[4:]
            got = lib(nb01b.TinyNet(*w), image, torch.as_tensor(target), *rest)
        np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-8, atol=1e-12)


def test_each_exercise_has_an_edge_case_and_the_solution_passes():
    for ex_id in ONE_LINERS:
        assert len(X.get(ex_id).cases()) >= 2
        assert X.check(ex_id, SOLUTIONS[ex_id], quiet=True)


# ---------------------------------------------------------------------------- the device rule
def test_notebook_01b_cells_run_when_the_model_is_on_another_device(monkeypatch):
    """CPU photos, a SqueezeNet placed by get_device on a second device (as on a GPU machine): every call follows."""
    import warnings

    from stylelab.nets import encoders
    from tests.test_device_rule import OTHER, second_device

    photo = torch.rand(1, 3, 40, 48, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings(), second_device(monkeypatch):
        warnings.simplefilter("ignore")  # random weights
        net = encoders.squeezenet1_1(random=True, download=False)
        model = V.RGBClassifier(net)
        assert next(model.parameters()).device.type == OTHER.type
        p, idx = V.predict(model, photo, k=3)
        smap = V.saliency(model, photo, idx[:, 0])
        assert smap.device.type == OTHER.type
        greyed = V.occlude(photo, smap, 0.2, block=8)
        assert greyed.device.type == "cpu"  # computed where the image is
        model(greyed)  # the model takes the CPU image
        img, _ = V.class_visualisation(model, [1, 2], size=32, steps=2, blur_every=1)
        assert img.device.type == OTHER.type
        phi = lambda x: encoders.squeezenet_features(net, x, "fire3")["fire3"]  # noqa: E731
        inv, _ = V.invert(phi, phi(photo), torch.rand_like(photo), steps=2)
        assert inv.device.type == OTHER.type
        fooled = V.fooling_image(model, photo, 3, max_steps=2)
        assert fooled.image.device.type == OTHER.type and fooled.steps <= 2


# ---------------------------------------------------------------------------- the trained SqueezeNet (notebook 01b's claims)
@pytest.fixture
def squeezenet(trained):
    from stylelab.nets import encoders

    trained("squeezenet1_1")
    net = encoders.squeezenet1_1(device="cpu")
    assert net.pretrained
    return net


def test_trained_saliency_points_at_what_the_network_uses(squeezenet):
    """Greying the most salient fifth of the espresso photo (28 px squares) costs far more than the least salient."""
    from stylelab.media import data

    model, x = V.RGBClassifier(squeezenet), data.load("coffee", size=224)
    y = int(V.predict(model, x, k=1)[1][0, 0])
    smap = V.saliency(model, x, y)
    with torch.no_grad():
        p_most, p_least = (float(torch.softmax(model(V.occlude(x, smap, 0.2, 28, most=m)), 1)[0, y]) for m in (True, False))
    assert p_most < 0.2 * p_least, (p_most, p_least)  # measured: 0.028 vs 0.967


def test_trained_fooling_image_turns_the_cat_into_a_goldfish_with_a_few_grey_levels(squeezenet):
    from stylelab.media import data
    from stylelab.nets import encoders

    model, cat = V.RGBClassifier(squeezenet), data.load("chelsea", size=224)
    goldfish = encoders.imagenet_classes().index("goldfish")
    out = V.fooling_image(model, cat, goldfish, lr=0.1)
    rms = float((out.image - cat).pow(2).mean().sqrt())
    assert out.fooled and out.linf < 16 / 255 and rms < 1 / 255, (out.steps, out.linf, rms)  # measured 8.3/255, 0.43/255


def test_trained_class_visualisation_and_inversion(squeezenet):
    """A short ascent makes a picture the network calls goldfish; an early layer inverts to the photo, a deep one
    loses its colour (the notebook's claims at a smaller size)."""
    from stylelab.media import data
    from stylelab.nets import encoders

    model = V.RGBClassifier(squeezenet)
    goldfish = encoders.imagenet_classes().index("goldfish")
    # the notebook's setting (160 px, 150 steps: p = 1.000 there); shorter runs at 96 px were chaotic (the class
    # reached depended on the thread count: goldfish alone, sea snake inside the whole suite)
    img, hist = V.class_visualisation(model, goldfish, size=160, steps=150)
    p = float(torch.softmax(model(img), 1)[0, goldfish])
    assert p > 0.9 and hist["score"][-1] > hist["score"][0], (p, hist["score"])
    x0 = data.load("chelsea", size=64)
    start = 0.4 + 0.2 * torch.rand(x0.shape, generator=torch.Generator().manual_seed(0))
    colour_err = {}
    for layer in ("relu1", "fire7"):
        phi = lambda im, layer=layer: encoders.squeezenet_features(squeezenet, im, layer)[layer]  # noqa: E731
        inv, h = V.invert(phi, phi(x0), start, steps=60)
        assert h["features"][-1] < 0.5 * h["features"][0]
        colour_err[layer] = float((inv.mean((2, 3)) - x0.mean((2, 3))).abs().max())
    assert colour_err["relu1"] < 0.1 * colour_err["fire7"], colour_err
