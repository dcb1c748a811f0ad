"""Exercises of notebook 02 (Gatys optimisation): the loss, the L-BFGS closure, total variation, histogram matching."""

import torch

from ...features import losses, optim
from ...methods import gatys
from . import exercise


def _rand(seed, shape, kind="rand"):
    g = torch.Generator().manual_seed(seed)
    f = torch.rand if kind == "rand" else torch.randn
    return f(*shape, generator=g, dtype=torch.float64)


# ---------------------------------------------------------------- 02.gatys_loss
LAYERS = ("a", "b", "c")  # stand-ins for relu layer names: the loss does not care what the layers are


def _run_gatys_loss(student, fa, fb, fc, pc, sa, sb, alpha, beta):
    """Inputs are stored flat; the student's function gets the dictionaries the notebook gives it."""
    feats = {"a": fa, "b": fb, "c": fc}
    content_targets = {"c": pc}
    style_targets = {"a": sa, "b": sb}
    return student(feats, content_targets, style_targets, alpha, beta)


@exercise("02.gatys_loss", fallback=gatys.paper_loss, answers=(gatys.paper_loss,), rtol=1e-9, atol=1e-12, what="total loss", run=_run_gatys_loss,
          hint="α·Σ_content ½ Σ (F − P)²  +  β·(1/L)·Σ_style ‖F Fᵀ/M − A‖²_F / (4 C²), where A = style_targets[layer] "
               "is the style's Gram already divided by its M, and L = len(style_targets).")
def _gatys_loss_cases():
    fa, fb, fc = _rand(0, (1, 4, 6, 5), "randn"), _rand(1, (1, 6, 3, 4), "randn"), _rand(2, (1, 8, 2, 3), "randn")
    pc = _rand(3, (1, 8, 2, 3), "randn")
    sa = _rand(4, (1, 4, 7, 7), "randn").flatten(2)
    sb = _rand(5, (1, 6, 4, 4), "randn").flatten(2)
    sa, sb = sa @ sa.transpose(1, 2) / sa.shape[-1], sb @ sb.transpose(1, 2) / sb.shape[-1]
    one = _rand(8, (1, 1, 3, 3), "randn")  # edge: a single-channel style layer
    return [(fa, fb, fc, pc, sa, sb, 1.0, 1e3), (one, fb, fc, pc, (one.flatten(2) ** 2).mean(-1, keepdim=True) * 2, sb, 2.0, 10.0)]


# ---------------------------------------------------------------- 02.closure
def _objective(x, target):
    """A small non-quadratic loss whose minimiser lies partly outside [0, 1] (so clamping matters)."""
    return ((x - target) ** 2).sum() + 0.1 * (x**4).sum()


def _run_closure(student, x0, target, steps):
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x], max_iter=int(steps), history_size=10, line_search_fn="strong_wolfe")
    calls = []

    def loss_fn(image):
        calls.append(1)
        return _objective(image, target)

    closure = student(opt, x, loss_fn)
    if not callable(closure):
        raise AssertionError("make_closure should return a function (the closure) that L-BFGS can call")
    returned = closure()
    if not isinstance(returned, torch.Tensor) or returned.dim() != 0:
        raise AssertionError("the closure should return the loss (a 0-dimensional tensor)")
    opt.step(closure)
    if not calls:
        raise AssertionError("the closure never called loss_fn")
    return x.detach()


@exercise("02.closure", fallback=optim.make_closure, answers=(optim.make_closure,), rtol=1e-6, atol=1e-9, what="optimised pixels", run=_run_closure,
          hint="Inside closure(): clamp x to [0, 1] in place under torch.no_grad(), optimizer.zero_grad(), "
               "loss = loss_fn(x), loss.backward(), return loss.")
def _closure_cases():
    return [(_rand(6, (1, 3, 4, 5)), _rand(7, (1, 3, 4, 5)) * 1.6 - 0.3, 15),
            (_rand(9, (1, 1, 3, 1)), _rand(10, (1, 1, 3, 1)) * 3 - 1, 4)]  # edge: one channel, one column


# ---------------------------------------------------------------- 02.total_variation
@exercise("02.total_variation", fallback=lambda x: losses.total_variation(x, "squared", "sum"),
          answers=(losses.total_variation,), rtol=1e-10, what="total variation",
          hint="Sum the squared differences between horizontal neighbours AND between vertical neighbours.")
def _tv_cases():
    return [(_rand(0, (2, 3, 5, 8)),), (_rand(11, (1, 1, 1, 6)),)]  # edge: one row (no vertical neighbours)


# ---------------------------------------------------------------- 02.match_histogram
@exercise("02.match_histogram", answers=(losses.match_histograms, losses.histogram_target),
          fallback=lambda x, t: losses.match_histograms(x.view(1, 1, -1), losses.histogram_target(t.view(1, 1, -1))).view(-1),
          rtol=0, atol=1e-14, what="matched values",
          hint="Sort the target; the k-th smallest value of x takes the k-th smallest target value, at x's position.")
def _hist_cases():
    g = torch.Generator().manual_seed(3)
    x, t = torch.randn(40, generator=g, dtype=torch.float64), torch.rand(40, generator=g, dtype=torch.float64) ** 3
    return [(x, t), (x[:7] * -2, t[:7])]  # edge: odd length, order reversed
