"""Notebook 02b: reference solutions, wrong answers, library oracles."""

import math

import torch

from stylelab.features import losses
from stylelab.methods import cyclegan
from stylelab.features.norms import ConditionalInstanceNorm2d


def cin(x, gamma, beta, weights, eps=1e-5):
    w = weights / weights.sum()
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    g, b = w @ gamma, w @ beta
    return (x - mean) / torch.sqrt(var + eps) * g[None, :, None, None] + b[None, :, None, None]


def cin_wrong(x, gamma, beta, weights, eps=1e-5):
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    g, b = weights @ gamma, weights @ beta  # weights not normalised to sum 1
    return (x - mean) / torch.sqrt(var + eps) * g[None, :, None, None] + b[None, :, None, None]


def cycle_loss(G, F, a, b):
    return (F(G(a)) - a).abs().mean() + (G(F(b)) - b).abs().mean()


def cycle_loss_wrong(G, F, a, b):
    return (F(G(a)) - a).abs().mean()  # one direction only


def gram_style_loss(out_feat, style_feat):
    def gram(f):
        b, c, h, w = f.shape
        m = f.reshape(b, c, h * w)
        return m @ m.transpose(1, 2) / (c * h * w)

    return (gram(out_feat) - gram(style_feat)).pow(2).sum((1, 2)).mean()


def gram_style_loss_wrong(out_feat, style_feat):
    def gram(f):
        b, c, h, w = f.shape
        m = f.reshape(b, c, h * w)
        return m @ m.transpose(1, 2) / (h * w)  # forgot the channels in the normalisation

    return (gram(out_feat) - gram(style_feat)).pow(2).sum((1, 2)).mean()


def lsgan_d(real_scores, fake_scores):
    return 0.5 * (real_scores - 1).pow(2).mean() + 0.5 * fake_scores.pow(2).mean()


def lsgan_d_wrong(real_scores, fake_scores):
    return (real_scores - 1).pow(2).mean() + fake_scores.pow(2).mean()  # without the ½


def break_even(train_seconds, gatys_seconds, johnson_seconds):
    return math.ceil(train_seconds / (gatys_seconds - johnson_seconds))


def break_even_wrong(train_seconds, gatys_seconds, johnson_seconds):
    return math.ceil(train_seconds / gatys_seconds)  # ignores the network's own time per image


def _cin_oracle(x, gamma, beta, weights):
    layer = ConditionalInstanceNorm2d(x.shape[1], gamma.shape[0]).double()
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
        return layer(x, weights)


def _gram_oracle(out_feat, style_feat):
    c = out_feat.shape[1]
    return losses.gram_loss(out_feat, losses.gram_target(style_feat, "tutorial"), "tutorial") * c * c


SOLUTIONS = {"02b.cin": cin, "02b.cycle_loss": cycle_loss, "02b.gram_style_loss": gram_style_loss,
             "02b.lsgan_d": lsgan_d, "02b.break_even": break_even}
WRONG = {"02b.cin": cin_wrong, "02b.cycle_loss": cycle_loss_wrong, "02b.gram_style_loss": gram_style_loss_wrong,
         "02b.lsgan_d": lsgan_d_wrong, "02b.break_even": break_even_wrong}
ORACLES = {
    "02b.cin": _cin_oracle,
    "02b.cycle_loss": cyclegan.cycle_loss,
    "02b.gram_style_loss": _gram_oracle,
    "02b.lsgan_d": lambda r, f: 0.5 * (cyclegan.lsgan_loss(r, True) + cyclegan.lsgan_loss(f, False)),
}
