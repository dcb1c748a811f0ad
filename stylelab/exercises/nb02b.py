"""Exercises of notebook 02b (learning to stylise): CIN with mixed tables, Johnson's style loss,
the cycle-consistency loss, the least-squares discriminator loss, the break-even count."""

import torch

from . import exercise


def _t(seed, *shape, scale=1.0, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift


@exercise("02b.cin", rtol=1e-6, atol=1e-8, what="CIN output",
          hint="Instance-normalise x (biased variance over H, W; eps inside the root), then scale by γ = w·gamma "
               "and shift by β = w·beta, with the weights w normalised to sum 1.")
def _cin_cases():
    w = torch.tensor([0.2, 0.0, 0.6], dtype=torch.float64)  # sums to 0.8: the function must normalise
    return [(_t(0, 2, 4, 5, 6, scale=3.0, shift=1.0), _t(1, 3, 4, shift=1.0), _t(2, 3, 4), w)]


def _run_cycle(student, a_mat, a_shift, f_mat, f_shift, xa, xb):
    def G(x):
        return torch.einsum("ij,bjhw->bihw", a_mat, x) + a_shift[None, :, None, None]

    def F(x):
        return torch.einsum("ij,bjhw->bihw", f_mat, x) + f_shift[None, :, None, None]

    return student(G, F, xa, xb)


@exercise("02b.cycle_loss", rtol=1e-6, what="cycle loss", run=_run_cycle, output=lambda v: torch.as_tensor(v).reshape(()),
          hint="Both directions, L1 averaged over elements: mean|F(G(a)) − a| + mean|G(F(b)) − b|.")
def _cycle_cases():
    a = torch.eye(3, dtype=torch.float64) + 0.2 * _t(3, 3, 3)
    return [(a, _t(4, 3, scale=0.1), torch.linalg.inv(a) + 0.05 * _t(5, 3, 3), _t(6, 3, scale=0.1),
             torch.rand(2, 3, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(7)),
             torch.rand(3, 3, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(8)))]


@exercise("02b.gram_style_loss", rtol=1e-6, what="style loss", output=lambda v: torch.as_tensor(v).reshape(()),
          hint="G = F Fᵀ / (C·H·W) per image (F the C × HW matrix); the loss is the squared Frobenius norm "
               "‖G(ŷ) − G(y)‖² averaged over the batch.")
def _gram_cases():
    return [(_t(9, 2, 6, 5, 7, scale=2.0), _t(10, 1, 6, 8, 4, scale=1.5, shift=0.5))]


@exercise("02b.lsgan_d", rtol=1e-10, what="discriminator loss", output=lambda v: torch.as_tensor(v).reshape(()),
          hint="½ mean (D(real) − 1)² + ½ mean D(fake)²: real patches should score 1, fakes 0.")
def _lsgan_cases():
    return [(_t(11, 2, 1, 4, 4, shift=0.7), _t(12, 3, 1, 4, 4, scale=0.5, shift=0.2))]


@exercise("02b.break_even", rtol=0, atol=0, what="break-even count",
          hint="Training costs T once; each image then saves (t_gatys − t_johnson). n = ⌈T / (t_gatys − t_johnson)⌉.")
def _break_even_cases():
    return [(600.0, 20.0, 0.05), (3600.0, 7.5, 0.5), (10.0, 2.0, 1.0)]
