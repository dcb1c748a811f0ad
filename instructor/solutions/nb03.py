"""Notebook 03: reference solutions, wrong answers, library oracles."""

import torch

from stylelab.features import transforms as T


def instance_norm(x, eps=1e-5):
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps)


def instance_norm_wrong(x, eps=1e-5):
    mean = x.mean(dim=(0, 2, 3), keepdim=True)  # batch norm: statistics shared across the batch
    var = x.var(dim=(0, 2, 3), keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps)


def adain(content, style, eps=1e-5):
    c_mean = content.mean(dim=(2, 3), keepdim=True)
    c_std = (content.var(dim=(2, 3), keepdim=True) + eps).sqrt()
    s_mean = style.mean(dim=(2, 3), keepdim=True)
    s_std = (style.var(dim=(2, 3), keepdim=True) + eps).sqrt()
    return (content - c_mean) / c_std * s_std + s_mean


def adain_wrong(content, style, eps=1e-5):
    c_mean = content.mean(dim=(2, 3), keepdim=True)
    c_std = (content.var(dim=(2, 3), keepdim=True) + eps).sqrt()
    s_std = (style.var(dim=(2, 3), keepdim=True) + eps).sqrt()
    return (content - c_mean) / c_std * s_std + c_mean  # adds back the content's mean


def style_loss(gen_feat, style_feat, eps=1e-5):
    gm, sm = gen_feat.mean(dim=(2, 3)), style_feat.mean(dim=(2, 3))
    gs = (gen_feat.var(dim=(2, 3)) + eps).sqrt()
    ss = (style_feat.var(dim=(2, 3)) + eps).sqrt()
    return torch.nn.functional.mse_loss(gm, sm) + torch.nn.functional.mse_loss(gs, ss)


def style_loss_wrong(gen_feat, style_feat, eps=1e-5):
    gm, sm = gen_feat.mean(dim=(2, 3)), style_feat.mean(dim=(2, 3))
    return torch.nn.functional.mse_loss(gm, sm)  # only the means


def _moment_loss(g, s):
    (gm, gs), (sm, ss) = T.mean_std(g), T.mean_std(s)
    return torch.nn.functional.mse_loss(gm, sm) + torch.nn.functional.mse_loss(gs, ss)


SOLUTIONS = {"03.instance_norm": instance_norm, "03.adain": adain, "03.style_loss": style_loss}
WRONG = {"03.instance_norm": instance_norm_wrong, "03.adain": adain_wrong, "03.style_loss": style_loss_wrong}
ORACLES = {
    "03.instance_norm": lambda x: torch.nn.functional.instance_norm(x, eps=1e-5),
    "03.adain": lambda c, s: T.adain(c, s, preset="pytorch"),
    "03.style_loss": _moment_loss,
}
