"""Exercises of notebook 03 (AdaIN): instance normalisation, AdaIN, the moment style loss."""

import torch

import torch.nn.functional as F

from ...features import losses, stats
from ...features import transforms as T
from . import exercise


def _feats(seed, shape=(2, 8, 6, 7), scale=3.0, shift=1.5):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift


@exercise("03.instance_norm", fallback=lambda x: F.instance_norm(x, eps=1e-5),
          answers=(F.instance_norm, T.mean_std, stats.moments), rtol=1e-6, atol=1e-8, what="normalised features",
          hint="Per sample AND per channel: mean and (biased) variance over dims (2, 3) only, eps inside the square root.")
def _in_cases():
    return [(_feats(0),), (_feats(5, (1, 1, 3, 5)),)]  # edge: one channel, odd size


@exercise("03.adain", fallback=lambda c, s: T.adain(c, s, preset="pytorch"), answers=(T.adain,),
          rtol=1e-6, atol=1e-8, what="AdaIN output",
          hint="σ(y)·(x − μ(x))/σ(x) + μ(y): the *style's* mean goes back in; use unbiased variance + 1e-5 under the root.")
def _adain_cases():
    return [(_feats(1), _feats(2, shape=(2, 8, 5, 9), scale=0.5, shift=-2.0)),
            (_feats(6, (1, 1, 3, 3)), _feats(7, (1, 1, 1, 5), scale=0.2))]  # edge: one channel


def _moment_loss_library(g, s):
    (gm, gs), (sm, ss) = T.mean_std(g), T.mean_std(s)
    return F.mse_loss(gm, sm) + F.mse_loss(gs, ss)


@exercise("03.style_loss", fallback=_moment_loss_library, answers=(T.mean_std, stats.moments, losses.moment_loss),
          rtol=1e-6, what="style loss", output=lambda v: torch.as_tensor(v).reshape(()),
          hint="AdaIN's style loss at one layer: MSE of the channel means PLUS MSE of the channel standard deviations.")
def _sl_cases():
    return [(_feats(3), _feats(4, scale=2.0, shift=0.3)), (_feats(8, (1, 1, 3, 5)), _feats(9, (1, 1, 2, 2)))]  # edge: one channel
