"""EFDM (Zhang et al., CVPR 2022): exact histogram matching by sorting, in feature and pixel space."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.exposure import match_histograms

from stylelab.media import data
from stylelab.features.efdm import efdm, quantile_values
from stylelab.methods.efdm import EFDM


def _sorted(x):
    return x.flatten(2).sort(-1).values


def test_equal_sizes_the_output_s_sorted_values_are_the_style_s_exactly():
    g = torch.Generator().manual_seed(0)
    c = torch.randn(2, 16, 9, 7, generator=g, dtype=torch.float64)
    s = torch.randn(1, 16, 7, 9, generator=g, dtype=torch.float64) ** 3  # a skewed distribution, other shape
    out = efdm(c, s)
    assert torch.equal(_sorted(out), _sorted(s).expand(2, -1, -1))
    # the content's order is kept: each position holds the rank it had
    assert torch.equal(out.flatten(2).argsort(-1), c.flatten(2).argsort(-1))


def test_pixel_space_is_per_channel_histogram_matching_as_scikit_image():
    content = data.load("mountains", size=48).double()
    style = data.load("sunset", size=40).double()  # another number of pixels: the quantile rule
    out = efdm(content, style)
    ref = match_histograms(content[0].permute(1, 2, 0).numpy(), style[0].permute(1, 2, 0).numpy(), channel_axis=-1)
    # scikit-image groups equal values (np.unique); jpeg pixels repeat, so compare on distinct-valued data too
    c = torch.rand(1, 3, 30, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    s = torch.rand(1, 3, 17, 23, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    ref2 = match_histograms(c[0].permute(1, 2, 0).numpy(), s[0].permute(1, 2, 0).numpy(), channel_axis=-1)
    assert np.abs(efdm(c, s)[0].permute(1, 2, 0).numpy() - ref2).max() < 1e-12
    # on the photo the two agree except where the content has ties (then ranks are split by position)
    assert np.mean(np.abs(out[0].permute(1, 2, 0).numpy() - ref)) < 0.02
    same = data.load("sunset", size=40).double()
    assert torch.equal(_sorted(efdm(data.load("mountains", size=(40, 60)).double(), same)), _sorted(same))


def test_quantile_rule_is_identity_for_equal_sizes_and_monotone_otherwise():
    v = torch.linspace(-1, 2, 11, dtype=torch.float64).view(1, 1, 11)
    assert quantile_values(v, 11) is v
    up = quantile_values(v, 37)
    assert (up.diff(dim=-1) >= 0).all() and up[..., -1] == v[..., -1] and up[..., 0] >= v[..., 0]


def test_autograd_form_identity_gradient_to_the_content_and_gradient_to_the_style():
    g = torch.Generator().manual_seed(3)
    c = torch.randn(1, 4, 5, 5, generator=g, dtype=torch.float64, requires_grad=True)
    s = torch.randn(1, 4, 5, 5, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(1, 4, 5, 5, generator=g, dtype=torch.float64)
    (efdm(c, s) * w).sum().backward()
    assert torch.equal(c.grad, w)  # paper Eq. 9: x + y_κ − ⟨x⟩
    # the style receives w at the position each of its values was sent to: the same multiset
    assert torch.allclose(s.grad.flatten().sort().values, w.flatten().sort().values)


def test_alpha_blends_and_bad_input_says_what_to_do():
    c, s = torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8)
    assert torch.equal(efdm(c, s, 0.0), c)
    assert torch.allclose(efdm(c, s, 0.5), 0.5 * efdm(c, s) + 0.5 * c)
    with pytest.raises(ValueError, match="channels"):
        efdm(c, torch.rand(1, 4, 8, 8))
    with pytest.raises(ValueError, match="alpha"):
        efdm(c, s, 1.5)
    with pytest.raises(ValueError, match="unsqueeze"):
        efdm(c[0], s)


def test_the_method_matches_relu4_1_histograms_and_decodes(monkeypatch):
    from stylelab.course import standin

    model = EFDM.from_model(standin.model("adain"))
    assert model.stand_in and not model.pretrained
    content, style = data.load("mountains", size=(64, 64)), data.load("sunset", size=(64, 64))  # equal sizes: exact
    out = model.stylize(content, style)
    assert out.shape == content.shape and 0 <= out.min() and out.max() <= 1
    cf, sf = model.encode(content), model.encode(style)
    assert torch.equal(_sorted(efdm(cf, sf)), _sorted(sf))
    assert not torch.allclose(out, model.stylize(content, style, alpha=0.0))
