"""The thumbnail colour map (stylelab.features.colour_fit, stylelab.methods.colour_map)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from stylelab import cli
from stylelab.media import data
from stylelab.features import colour_fit as CF
from stylelab.features import transforms as T
from stylelab.methods.colour_map import ColourMap


def _image(h=40, w=50, seed=0):
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_monomials_are_every_product_up_to_the_degree():
    for d, n in ((1, 4), (2, 10), (3, 20)):
        terms = CF.monomials(d)
        assert len(terms) == n == len(set(terms))
    with pytest.raises(ValueError, match="degree"):
        CF.monomials(4)


@pytest.mark.parametrize("degree", [1, 2, 3])
def test_fit_recovers_a_polynomial_colour_map_exactly(degree):
    x = _image()
    a = 0.02 * torch.randn(len(CF.monomials(degree)), 3, generator=torch.Generator().manual_seed(degree),
                           dtype=torch.float64)
    a[0] += 0.5  # an image in [0, 1], as fit requires
    target = (CF.features(x[0].flatten(1).T, degree) @ a).T.reshape(1, 3, 40, 50)
    fitted = CF.fit(x, target, degree, lam=0.0)
    assert torch.allclose(fitted.coeffs, a, atol=1e-8) and fitted.residual < 1e-9
    # and the full-size pass evaluates it (in bands; float64 here)
    assert torch.allclose(CF.apply(fitted, x, band=7, clamp=False), target, atol=1e-9)


def test_features_against_an_independent_numpy_expansion():
    x = _image(5, 6)[0].flatten(1).T.numpy()
    cols = [np.ones(len(x))] + [np.prod(x[:, list(m)], 1) for k in (1, 2) for m in
                                itertools.combinations_with_replacement(range(3), k)]
    assert np.allclose(CF.features(torch.from_numpy(x), 2).numpy(), np.stack(cols, 1))


def test_pixel_wct_is_affine_so_a_degree_1_map_reproduces_it():
    c, s = _image(seed=1), _image(30, 30, seed=2) ** 2
    target = T.wct(c, s)  # exact WCT on pixels: out = C_s W (x − μ) + μ_s
    fitted = CF.fit(c, target, 1, lam=0.0)
    assert fitted.residual < 1e-10
    assert torch.allclose(CF.apply(fitted, c, clamp=False), target, atol=1e-10)


def test_banded_in_place_apply_equals_one_pass_float32():
    x = _image(37, 23).float()
    t = CF.fit(x, (x * 0.8 + 0.1).flip(1), 2)
    whole = CF.apply(t, x, band=1000)
    assert torch.equal(CF.apply(t, x, band=5), whole)
    y = x.clone()
    assert CF.apply(t, y, out=y) is y and torch.equal(y, whole)
    assert 0 <= whole.min() and whole.max() <= 1


def test_the_method_fits_on_a_thumbnail_and_keeps_the_full_size():
    model = ColourMap.from_official("pixel-wct")
    content, style = data.load("mountains", size=300), data.load("sunset", size=128)
    thumb, stylised = model.thumbnail_pair(content, style, thumbnail=64)
    assert max(thumb.shape[-2:]) == 64 and stylised.shape == thumb.shape
    out = model.stylize(content, style, thumbnail=64, degree=1)
    assert out.shape == content.shape
    # the map transfers the style's colour statistics to the full photo (as pixel WCT would)
    ref = T.wct(content.double(), style.double()).clamp(0, 1).float()
    assert (out - ref).abs().mean() < 0.5 * (content - ref).abs().mean()


def test_bad_inputs_say_what_to_do():
    x = _image()
    with pytest.raises(ValueError, match="one size"):
        CF.fit(x, _image(20, 20))
    with pytest.raises(ValueError, match="base must be one of"):
        ColourMap.from_official("dpst")
    with pytest.raises(ValueError, match="at least 8"):
        ColourMap.from_official("pixel-wct").stylize(x.float(), x.float(), thumbnail=2)


def test_cli_takes_colour_map_with_a_hyphen(tmp_path):
    out = tmp_path / "o.png"
    code = cli.main(["transfer", "--method", "colour-map", str(data.path("rocket")), str(data.path("storm")),
                     "-o", str(out), "--base", "pixel-wct", "--degree", "1"])
    assert code == 0 and out.exists()
    from stylelab.io import image_size, load_image

    assert load_image(out).shape[-2:] == load_image(data.path("rocket")).shape[-2:]  # keeps the content's size
    # the command reads the photo as 8-bit and writes the library's uint8 result as it is
    photo = load_image(data.path("rocket"), dtype=torch.uint8)
    style = load_image(data.path("storm"), size=min(512, *image_size(data.path("storm"))))  # never enlarged
    ref = ColourMap.from_official("pixel-wct").stylize(photo, style, degree=1)
    assert torch.equal(load_image(out, dtype=torch.uint8), ref)


def test_uint8_apply_is_the_float_apply_rounded_in_place_on_a_channels_last_view():
    g = torch.Generator().manual_seed(3)
    hwc = torch.randint(0, 256, (45, 31, 3), dtype=torch.uint8, generator=g)
    u = hwc.permute(2, 0, 1)[None]  # what load_image(dtype=torch.uint8) returns: a view of an (H, W, 3) array
    x = u.double() / 255
    t = CF.fit(x, (x * 0.7 + 0.2).flip(1) ** 1.5, 3)
    ref = (CF.apply(t, x).clamp(0, 1) * 255).round()  # float64, one pass
    out = CF.apply(t, u, band=4)
    assert out.dtype == torch.uint8 and out.shape == u.shape
    assert (out.double() - ref).abs().max() <= 1  # float32 against float64: a tie may round the other way
    assert (out.double() != ref).double().mean() < 0.01
    y = CF.apply(t, u, band=7, out=u)  # overwrites the photo band by band: the same result
    assert y is u and torch.equal(hwc.permute(2, 0, 1)[None], out)
    with pytest.raises(ValueError, match="dtype"):
        CF.apply(t, u, out=torch.empty(u.shape))


def test_uint8_photo_gives_the_float_photos_result_without_a_float_copy():
    from stylelab.methods.colour_map import _block_mean

    model = ColourMap.from_official("pixel-wct")
    content = (data.load("mountains", size=300) * 255).round().byte()
    style = data.load("sunset", size=128)
    x = content.float() / 255
    for k in (1, 3, 7):  # banded block means = one avg_pool2d over the whole photo
        ref = torch.nn.functional.avg_pool2d(x, k) if k > 1 else x
        assert torch.allclose(_block_mean(content, k, rows=10), ref, atol=1e-6)
    a = model.stylize(content, style, thumbnail=64)
    b = model.stylize(x, style, thumbnail=64)
    assert a.dtype == torch.uint8 and a.shape == content.shape
    assert (a.float() - (b * 255).round()).abs().max() <= 1
    with pytest.raises(ValueError, match="dtype"):  # a uint8 style is refused (only the photo may be 8-bit)
        model.stylize(x, (style * 255).byte(), thumbnail=64)
