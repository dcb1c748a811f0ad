"""stylelab.features.colour: YIQ round trip, luminance-only transfer keeps chrominance, colour histogram matching."""

import pytest
import torch

from stylelab.features import colour

D = torch.float64


def test_yiq_round_trip_and_luminance():
    img = torch.rand(2, 3, 5, 6, dtype=D)
    torch.testing.assert_close(colour.yiq_to_rgb(colour.rgb_to_yiq(img)), img, rtol=0, atol=1e-14)
    r, g, b = img.unbind(1)
    torch.testing.assert_close(colour.luminance(img)[:, 0], 0.299 * r + 0.587 * g + 0.114 * b)
    grey = torch.rand(1, 1, 4, 4, dtype=D).expand(1, 3, 4, 4)
    torch.testing.assert_close(colour.rgb_to_yiq(grey)[:, 1:], torch.zeros(1, 2, 4, 4, dtype=D), atol=1e-6, rtol=0)


def test_luminance_transfer_keeps_content_chrominance_exactly():
    content, stylised = torch.rand(1, 3, 8, 8, dtype=D), torch.rand(1, 3, 8, 8, dtype=D)
    out = colour.luminance_transfer(content, stylised)
    torch.testing.assert_close(colour.rgb_to_yiq(out)[:, 1:], colour.rgb_to_yiq(content)[:, 1:], rtol=0, atol=1e-14)
    torch.testing.assert_close(colour.luminance(out), colour.luminance(stylised), rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="same size"):
        colour.luminance_transfer(content, stylised[..., :4])


def test_match_luminance_moments():
    ys, yc = torch.rand(1, 1, 6, 7, dtype=D), torch.rand(1, 1, 5, 5, dtype=D) * 0.3 + 0.2
    out = colour.match_luminance(ys, yc)
    torch.testing.assert_close(out.mean(), yc.mean())
    torch.testing.assert_close(out.std(unbiased=False), yc.std(unbiased=False))


@pytest.mark.parametrize("mode", ["pca", "cholesky"])
def test_match_colour_gives_target_mean_and_covariance(mode):
    g = torch.Generator().manual_seed(1)
    src = torch.rand(1, 3, 9, 10, generator=g, dtype=D)
    mix = torch.tensor([[1.0, 0.3, 0.0], [0.2, 0.8, 0.1], [0.0, 0.4, 0.5]], dtype=D)
    tgt = torch.einsum("ij,bjhw->bihw", mix, torch.rand(1, 3, 7, 8, generator=g, dtype=D))
    out = colour.match_colour(src, tgt, mode=mode, eps=0.0, clamp=False)
    (mo, co), (mt, ct) = colour.colour_stats(out), colour.colour_stats(tgt)
    torch.testing.assert_close(mo, mt)
    torch.testing.assert_close(co, ct)


def test_bad_shapes_say_what_to_do():
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        colour.rgb_to_yiq(torch.rand(3, 4, 4))
    with pytest.raises(ValueError, match="mode"):
        colour.match_colour(torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 4), mode="lab")
