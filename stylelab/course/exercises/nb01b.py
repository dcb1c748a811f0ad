"""Exercises of notebook 01b (what a CNN has learned): the saliency map, the class-visualisation loss,
the feature-inversion loss, the fooling step.

The cases carry the weights of a tiny seeded classifier (a 3×3 convolution, tanh,
2×2 average pooling, a linear layer: five classes) instead of a model, which
the stored-number format cannot hold; ``_run_*`` builds the network and calls
the student's function on it as the notebook does on SqueezeNet. Each
exercise's ``answers`` (the ``visualise`` function) is switched off while the
student's function runs, so ``return visualise.saliency(…)`` does not pass.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .. import visualise
from . import exercise

class TinyNet(nn.Module):
    """``linear(avgpool₂(tanh(conv₃ₓ₃(x))))``: class scores ``(B, 5)`` of float64 images of any size ≥ 2×2."""

    def __init__(self, w1, b1, w2, b2):
        super().__init__()
        self.w1, self.b1 = nn.Parameter(w1.clone()), nn.Parameter(b1.clone())
        self.w2, self.b2 = nn.Parameter(w2.clone()), nn.Parameter(b2.clone())

    def forward(self, x):
        h = torch.tanh(F.conv2d(x, self.w1, self.b1, padding=1))
        return F.linear(F.adaptive_avg_pool2d(h, 2).flatten(1), self.w2, self.b2)


def _rand(g, *shape, scale=1.0):
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale


def _net_weights(seed):
    g = torch.Generator().manual_seed(seed)
    return _rand(g, 4, 3, 3, 3, scale=0.6), _rand(g, 4, scale=0.1), _rand(g, 5, 16), _rand(g, 5, scale=0.1)


def _image(seed, shape):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g, dtype=torch.float64)


def _as_tensor(value, what):
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"the {what} should be a tensor, got {type(value).__name__}")
    return value.detach()


def _on_net(student, w1, b1, w2, b2, image, target, *rest):
    """``student(net, image, target, *rest)`` on the tiny network."""
    net = TinyNet(w1, b1, w2, b2)
    return student(net, image.clone(), torch.as_tensor(target, dtype=torch.long), *(float(r) for r in rest))


def _scalar(value, what):
    out = _as_tensor(value, what)
    if out.numel() != 1:
        raise AssertionError(f"the {what} should be one number (summed over the batch), got shape {tuple(out.shape)}")
    return out.reshape(())


# ---------------------------------------------------------------- 01b.saliency
def _run_saliency(student, *inputs):
    return _as_tensor(_on_net(student, *inputs), "saliency map")


@exercise("01b.saliency", fallback=visualise.saliency, answers=(visualise.saliency,),
          rtol=1e-8, atol=1e-12, what="saliency map", run=_run_saliency,
          hint="x = image.clone().requires_grad_(True); score = model(x) at each image's target class "
               "(before any softmax); backpropagate the sum of those scores; return the gradient's absolute "
               "value, maximised over the colour channels → (B, H, W).")
def _saliency_cases():
    w = _net_weights(0)
    return [(*w, _image(1, (1, 3, 6, 6)), (2,)),
            (*w, _image(2, (2, 3, 5, 7)), (4, 0))]  # odd size, a batch with different classes


# ---------------------------------------------------------------- 01b.class_loss
def _run_class_loss(student, *inputs):
    return _scalar(_on_net(student, *inputs), "loss")


@exercise("01b.class_loss", fallback=visualise.class_loss, answers=(visualise.class_loss,),
          rtol=1e-10, atol=1e-12, what="class-visualisation loss", run=_run_class_loss,
          hint="Minimise −(score of the target class, before the softmax) + l2 · Σ (x − 0.5)² over every pixel and "
               "channel; with a batch, sum both terms over the images.")
def _class_loss_cases():
    w = _net_weights(3)
    return [(*w, _image(4, (1, 3, 6, 6)), (1,), 0.05),
            (*w, _image(5, (2, 3, 3, 5)), (3, 3), 0.0)]  # no regulariser; a batch


# ---------------------------------------------------------------- 01b.inversion_loss
def _run_inversion_loss(student, features, target):
    return _scalar(student(features.clone(), target.clone()), "loss")


@exercise("01b.inversion_loss", fallback=visualise.inversion_loss, answers=(visualise.inversion_loss,),
          rtol=1e-10, atol=1e-14, what="inversion loss", run=_run_inversion_loss,
          hint="‖Φ(x) − Φ₀‖² / ‖Φ₀‖²: the squared error summed over everything, divided by the sum of the squared "
               "target features (not a mean).")
def _inversion_loss_cases():
    g = torch.Generator().manual_seed(6)
    t = torch.relu(_rand(g, 1, 8, 5, 5))
    return [(t + 0.1 * _rand(g, 1, 8, 5, 5), t),
            (_rand(g, 2, 1, 3, 4) * 3, _rand(g, 2, 1, 3, 4) * 0.01)]  # one channel; a tiny target (scale matters)


# ---------------------------------------------------------------- 01b.fooling_step
def _run_fooling_step(student, *inputs):
    out = _on_net(student, *inputs)
    if isinstance(out, torch.Tensor) and out.requires_grad:
        raise AssertionError("return the new image detached from the graph (.detach())")
    return _as_tensor(out, "new image")


@exercise("01b.fooling_step", fallback=visualise.fooling_step, answers=(visualise.fooling_step,),
          rtol=1e-8, atol=1e-12, what="new image", run=_run_fooling_step,
          hint="g = gradient of the target class score (before the softmax) w.r.t. the image; "
               "return (image + lr · g / ‖g‖).detach(), with ‖g‖ the L2 norm of each image's own gradient.")
def _fooling_step_cases():
    w = _net_weights(7)
    return [(*w, _image(8, (1, 3, 6, 6)), (0,), 0.3),
            (*w, _image(9, (2, 3, 5, 5)), (1, 4), 0.1)]  # a batch: one norm per image
