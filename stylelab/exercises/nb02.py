"""Exercises of notebook 02 (Gatys optimisation): total variation, luminance-only transfer, histogram matching."""

import torch

from ..colour import luminance_transfer, rgb_to_yiq, yiq_to_rgb
from ..losses import histogram_target, match_histograms, total_variation
from . import assert_close, exercise


def _img(seed, shape=(1, 3, 6, 7)):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g, dtype=torch.float64)


# ---------------------------------------------------------------- 02.total_variation
def _tv_solution(image):
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return (dx**2).sum() + (dy**2).sum()


def _tv_wrong(image):
    dx = image[..., :, 1:] - image[..., :, :-1]
    return 2 * (dx**2).sum()  # only horizontal differences


@exercise("02.total_variation", solution=_tv_solution, wrong=_tv_wrong,
          hint="Sum the squared differences between horizontal neighbours AND between vertical neighbours.")
def _check_tv(student):

    x = _img(0, (2, 3, 5, 8))
    assert_close(student(x), total_variation(x, "squared", "sum"), rtol=1e-10, what="total variation")


# ---------------------------------------------------------------- 02.luminance_transfer
def _lum_solution(content, stylised):

    y = rgb_to_yiq(stylised)[:, :1]
    iq = rgb_to_yiq(content)[:, 1:]
    return yiq_to_rgb(torch.cat([y, iq], dim=1))


def _lum_wrong(content, stylised):

    y = rgb_to_yiq(content)[:, :1]  # swapped: the content's luminance with the stylised colours
    iq = rgb_to_yiq(stylised)[:, 1:]
    return yiq_to_rgb(torch.cat([y, iq], dim=1))


@exercise("02.luminance_transfer", solution=_lum_solution, wrong=_lum_wrong,
          hint="Convert both to YIQ; keep Y of the stylised image and I, Q of the content; convert back (no clamping).")
def _check_lum(student):

    c, s = _img(1), _img(2)
    assert_close(student(c, s), luminance_transfer(c, s), rtol=1e-10, atol=1e-12, what="recombined image")


# ---------------------------------------------------------------- 02.match_histogram
def _hist_solution(x, target):
    order = x.argsort()
    out = torch.empty_like(x)
    out[order] = target.sort().values
    return out


def _hist_wrong(x, target):
    return target.sort().values  # right values, but lost the positions of x


@exercise("02.match_histogram", solution=_hist_solution, wrong=_hist_wrong,
          hint="Sort the target; the k-th smallest value of x takes the k-th smallest target value, at x's position.")
def _check_hist(student):

    g = torch.Generator().manual_seed(3)
    x, t = torch.randn(40, generator=g, dtype=torch.float64), torch.rand(40, generator=g, dtype=torch.float64) ** 3
    expected = match_histograms(x.view(1, 1, 40), histogram_target(t.view(1, 1, 40))).view(40)
    assert_close(student(x, t), expected, rtol=0, atol=1e-14, what="matched values")
