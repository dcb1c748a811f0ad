"""Exercises of notebook 02b (learning to stylise): CIN with mixed tables, Johnson's style loss,
the cycle-consistency loss, the least-squares discriminator loss, the break-even count."""

import math

import torch

from ...features import losses
from ...methods import cyclegan
from ...features.norms import ConditionalInstanceNorm2d
from . import exercise


def _t(seed, *shape, scale=1.0, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift


def _cin_library(x, gamma, beta, weights, eps=1e-5):
    """The library's CIN layer with tables ``gamma``, ``beta`` ``(S, C)``, mixed by ``weights`` ``(S,)``."""
    layer = ConditionalInstanceNorm2d(x.shape[1], gamma.shape[0]).to(x.dtype)
    layer.eps = eps
    with torch.no_grad():
        layer.weight.copy_(gamma)
        layer.bias.copy_(beta)
    return layer(x, weights / weights.sum())


def _gram_library(out_feat, style_feat):
    c = out_feat.shape[1]
    return losses.gram_loss(out_feat, losses.gram_target(style_feat, "tutorial"), "tutorial") * c * c


def _lsgan_library(real_scores, fake_scores):
    return 0.5 * (cyclegan.lsgan_loss(real_scores, True) + cyclegan.lsgan_loss(fake_scores, False))


@exercise("02b.cin", fallback=_cin_library, answers=(ConditionalInstanceNorm2d.forward,), rtol=1e-6, atol=1e-8, what="CIN output",
          hint="Instance-normalise x (biased variance over H, W; eps inside the root), then scale by γ = w·gamma "
               "and shift by β = w·beta, with the weights w normalised to sum 1.")
def _cin_cases():
    w = torch.tensor([0.2, 0.0, 0.6], dtype=torch.float64)  # sums to 0.8: the function must normalise
    return [(_t(0, 2, 4, 5, 6, scale=3.0, shift=1.0), _t(1, 3, 4, shift=1.0), _t(2, 3, 4), w),
            (_t(13, 1, 1, 3, 5, scale=2.0), _t(14, 2, 1), _t(15, 2, 1), torch.tensor([0.0, 3.0], dtype=torch.float64))]  # edge: one channel, one style


def _run_cycle(student, a_mat, a_shift, f_mat, f_shift, xa, xb):
    def G(x):
        return torch.einsum("ij,bjhw->bihw", a_mat, x) + a_shift[None, :, None, None]

    def F(x):
        return torch.einsum("ij,bjhw->bihw", f_mat, x) + f_shift[None, :, None, None]

    return student(G, F, xa, xb)


@exercise("02b.cycle_loss", fallback=cyclegan.cycle_loss, answers=(cyclegan.cycle_loss,), rtol=1e-6, what="cycle loss", run=_run_cycle, output=lambda v: torch.as_tensor(v).reshape(()),
          hint="Both directions, L1 averaged over elements: mean|F(G(a)) − a| + mean|G(F(b)) − b|.")
def _cycle_cases():
    a = torch.eye(3, dtype=torch.float64) + 0.2 * _t(3, 3, 3)
    eye, zero = torch.eye(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    odd = torch.rand(1, 3, 3, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(20))
    return [(a, _t(4, 3, scale=0.1), torch.linalg.inv(a) + 0.05 * _t(5, 3, 3), _t(6, 3, scale=0.1),
             torch.rand(2, 3, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(7)),
             torch.rand(3, 3, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(8))),
            (eye, zero, eye, zero, odd, odd.flip(2))]  # edge: F inverts G exactly (loss 0); one odd-sized image


@exercise("02b.gram_style_loss", fallback=_gram_library, answers=(losses.gram_loss,), rtol=1e-6, what="style loss", output=lambda v: torch.as_tensor(v).reshape(()),
          hint="G = F Fᵀ / (C·H·W) per image (F the C × HW matrix); the loss is the squared Frobenius norm "
               "‖G(ŷ) − G(y)‖² averaged over the batch.")
def _gram_cases():
    return [(_t(9, 2, 6, 5, 7, scale=2.0), _t(10, 1, 6, 8, 4, scale=1.5, shift=0.5)),
            (_t(16, 1, 1, 3, 3), _t(17, 1, 1, 1, 5, shift=1.0))]  # edge: one channel


@exercise("02b.lsgan_d", fallback=_lsgan_library, answers=(cyclegan.lsgan_loss,), rtol=1e-10, what="discriminator loss", output=lambda v: torch.as_tensor(v).reshape(()),
          hint="½ mean (D(real) − 1)² + ½ mean D(fake)²: real patches should score 1, fakes 0.")
def _lsgan_cases():
    return [(_t(11, 2, 1, 4, 4, shift=0.7), _t(12, 3, 1, 4, 4, scale=0.5, shift=0.2)),
            (_t(18, 1, 1, 1, 1), _t(19, 1, 1, 1, 1))]  # edge: one score each (a global discriminator)


@exercise("02b.break_even", fallback=lambda train, t_gatys, t_johnson: math.ceil(train / (t_gatys - t_johnson)),
          rtol=0, atol=0, what="break-even count",
          hint="Training costs T once; each image then saves (t_gatys − t_johnson). n = ⌈T / (t_gatys − t_johnson)⌉.")
def _break_even_cases():
    return [(600.0, 20.0, 0.05), (3600.0, 7.5, 0.5), (10.0, 2.0, 1.0)]
