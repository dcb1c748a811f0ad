"""Exercises of notebook 03 (AdaIN): instance normalisation, AdaIN, the moment style loss."""

import torch

from ..transforms import adain, mean_std
from . import assert_close, exercise


def _feats(seed, shape=(2, 8, 6, 7), scale=3.0, shift=1.5):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift


# ---------------------------------------------------------------- 03.instance_norm
def _in_solution(x, eps=1e-5):
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps)


def _in_wrong(x, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)  # batch norm: statistics shared across the batch
    var = x.var(dim=(0, 2, 3), keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps)


@exercise("03.instance_norm", solution=_in_solution, wrong=_in_wrong,
          hint="Per sample AND per channel: mean and (biased) variance over dims (2, 3) only, eps inside the square root.")
def _check_in(student):
    x = _feats(0)
    expected = torch.nn.functional.instance_norm(x, eps=1e-5)  # independent oracle
    assert_close(student(x), expected, rtol=1e-6, atol=1e-8, what="normalised features")


# ---------------------------------------------------------------- 03.adain
def _adain_solution(content, style, eps=1e-5):
    c_mean = content.mean(dim=(2, 3), keepdim=True)
    c_std = (content.var(dim=(2, 3), keepdim=True) + eps).sqrt()
    s_mean = style.mean(dim=(2, 3), keepdim=True)
    s_std = (style.var(dim=(2, 3), keepdim=True) + eps).sqrt()
    return (content - c_mean) / c_std * s_std + s_mean


def _adain_wrong(content, style, eps=1e-5):
    c_mean = content.mean(dim=(2, 3), keepdim=True)
    c_std = (content.var(dim=(2, 3), keepdim=True) + eps).sqrt()
    s_mean = style.mean(dim=(2, 3), keepdim=True)
    s_std = (style.var(dim=(2, 3), keepdim=True) + eps).sqrt()
    return (content - c_mean) / c_std * s_std + c_mean  # adds back the content's mean


@exercise("03.adain", solution=_adain_solution, wrong=_adain_wrong,
          hint="σ(y)·(x − μ(x))/σ(x) + μ(y): the *style's* mean goes back in; use unbiased variance + 1e-5 under the root.")
def _check_adain(student):

    c, s = _feats(1), _feats(2, shape=(2, 8, 5, 9), scale=0.5, shift=-2.0)
    assert_close(student(c, s), adain(c, s, preset="pytorch"), rtol=1e-6, atol=1e-8, what="AdaIN output")


# ---------------------------------------------------------------- 03.style_loss
def _sl_solution(gen_feat, style_feat, eps=1e-5):
    gm, sm = gen_feat.mean(dim=(2, 3)), style_feat.mean(dim=(2, 3))
    gs = (gen_feat.var(dim=(2, 3)) + eps).sqrt()
    ss = (style_feat.var(dim=(2, 3)) + eps).sqrt()
    return torch.nn.functional.mse_loss(gm, sm) + torch.nn.functional.mse_loss(gs, ss)


def _sl_wrong(gen_feat, style_feat, eps=1e-5):
    gm, sm = gen_feat.mean(dim=(2, 3)), style_feat.mean(dim=(2, 3))
    return torch.nn.functional.mse_loss(gm, sm)  # only the means


@exercise("03.style_loss", solution=_sl_solution, wrong=_sl_wrong,
          hint="AdaIN's style loss at one layer: MSE of the channel means PLUS MSE of the channel standard deviations.")
def _check_sl(student):

    g, s = _feats(3), _feats(4, scale=2.0, shift=0.3)
    (gm, gs), (sm, ss) = mean_std(g), mean_std(s)
    expected = torch.nn.functional.mse_loss(gm, sm) + torch.nn.functional.mse_loss(gs, ss)
    out = student(g, s)
    assert_close(torch.as_tensor(out).reshape(()), expected, rtol=1e-6, what="style loss")
