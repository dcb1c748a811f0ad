"""Notebook 01b: reference solutions, wrong answers, independent oracles (autograd's Jacobian, one-hot sums)."""

import torch
import torch.nn.functional as F


def saliency(model, image, target):
    x = image.clone().requires_grad_(True)
    scores = model(x)
    picked = scores[torch.arange(x.shape[0]), target]
    picked.sum().backward()
    return x.grad.abs().amax(dim=1)


def saliency_wrong(model, image, target):
    x = image.clone().requires_grad_(True)
    probs = torch.softmax(model(x), dim=1)  # the softmax's probability, not the raw score
    probs[torch.arange(x.shape[0]), target].sum().backward()
    return x.grad.abs().amax(dim=1)


def class_loss(model, image, target, l2):
    scores = model(image)
    return -scores[torch.arange(image.shape[0]), target].sum() + l2 * ((image - 0.5) ** 2).sum()


def class_loss_wrong(model, image, target, l2):
    scores = model(image)
    return -scores[torch.arange(image.shape[0]), target].sum() + l2 * (image**2).sum()  # pulls to black, not grey


def inversion_loss(features, target):
    return ((features - target) ** 2).sum() / (target**2).sum()


def inversion_loss_wrong(features, target):
    return ((features - target) ** 2).mean()  # not normalised by the target's energy


def fooling_step(model, image, target, lr):
    x = image.clone().requires_grad_(True)
    model(x)[torch.arange(x.shape[0]), target].sum().backward()
    g = x.grad
    norm = g.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    return (x + lr * g / norm).detach()


def fooling_step_wrong(model, image, target, lr):
    x = image.clone().requires_grad_(True)
    model(x)[torch.arange(x.shape[0]), target].sum().backward()
    return (x + lr * x.grad / x.grad.norm()).detach()  # one norm for the whole batch


# ---------------------------------------------------------------- oracles: computed another way
def _score_jacobian(model, image, target):
    """∂s_{y_b}/∂x_b for each image, through autograd's full Jacobian (no backward of a chosen sum)."""
    rows = []
    for b in range(image.shape[0]):
        jac = torch.autograd.functional.jacobian(lambda x: model(x[None])[0], image[b])  # (K, 3, H, W)
        rows.append(jac[int(target[b])])
    return torch.stack(rows)


def saliency_oracle(model, image, target):
    return _score_jacobian(model, image, target).abs().max(dim=1).values


def class_loss_oracle(model, image, target, l2):
    onehot = F.one_hot(target, model(image).shape[1]).to(image.dtype)
    return -(onehot * model(image)).sum() + l2 * F.mse_loss(image, torch.full_like(image, 0.5), reduction="sum")


def inversion_loss_oracle(features, target):
    return F.mse_loss(features, target, reduction="sum") / torch.linalg.vector_norm(target) ** 2


def fooling_step_oracle(model, image, target, lr):
    g = _score_jacobian(model, image, target)
    return image + lr * g / torch.linalg.vector_norm(g, dim=(1, 2, 3), keepdim=True)


SOLUTIONS = {"01b.saliency": saliency, "01b.class_loss": class_loss, "01b.inversion_loss": inversion_loss,
             "01b.fooling_step": fooling_step}
WRONG = {"01b.saliency": saliency_wrong, "01b.class_loss": class_loss_wrong,
         "01b.inversion_loss": inversion_loss_wrong, "01b.fooling_step": fooling_step_wrong}
ORACLES = {"01b.saliency": saliency_oracle, "01b.class_loss": class_loss_oracle,
           "01b.inversion_loss": inversion_loss_oracle, "01b.fooling_step": fooling_step_oracle}
