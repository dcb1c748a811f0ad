"""Notebook 02: reference solutions, wrong answers, library oracles."""

import torch

from stylelab.features import losses, optim
from stylelab.methods import gatys


def gatys_loss(feats, content_targets, style_targets, alpha, beta):
    content = sum(0.5 * ((feats[k] - p) ** 2).sum() for k, p in content_targets.items())
    style = 0.0
    for k, a in style_targets.items():
        _, c, h, w = feats[k].shape
        f = feats[k].reshape(1, c, h * w)
        g = f @ f.transpose(1, 2) / (h * w)
        style = style + ((g - a) ** 2).sum() / (4 * c * c)
    return alpha * content + beta * style / len(style_targets)


def gatys_loss_wrong(feats, content_targets, style_targets, alpha, beta):
    content = sum(0.5 * ((feats[k] - p) ** 2).sum() for k, p in content_targets.items())
    style = 0.0
    for k, a in style_targets.items():
        _, c, h, w = feats[k].shape
        f = feats[k].reshape(1, c, h * w)
        style = style + ((f @ f.transpose(1, 2) / (h * w) - a) ** 2).sum() / (4 * c * c)
    return alpha * content + beta * style  # forgot the layer weights w_l = 1/L


def make_closure(optimizer, x, loss_fn):
    def closure():
        with torch.no_grad():
            x.clamp_(0, 1)
        optimizer.zero_grad()
        loss = loss_fn(x)
        loss.backward()
        return loss

    return closure


def make_closure_wrong(optimizer, x, loss_fn):
    def closure():
        with torch.no_grad():
            x.clamp_(0, 1)
        loss = loss_fn(x)  # forgot optimizer.zero_grad(): gradients pile up over evaluations
        loss.backward()
        return loss

    return closure


def total_variation(image):
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return (dx**2).sum() + (dy**2).sum()


def total_variation_wrong(image):
    dx = image[..., :, 1:] - image[..., :, :-1]
    return 2 * (dx**2).sum()  # only horizontal differences


def match_histogram(x, target):
    order = x.argsort()
    out = torch.empty_like(x)
    out[order] = target.sort().values
    return out


def match_histogram_wrong(x, target):
    return target.sort().values  # right values, but lost the positions of x


SOLUTIONS = {"02.gatys_loss": gatys_loss, "02.closure": make_closure, "02.total_variation": total_variation,
             "02.match_histogram": match_histogram}
WRONG = {"02.gatys_loss": gatys_loss_wrong, "02.closure": make_closure_wrong,
         "02.total_variation": total_variation_wrong, "02.match_histogram": match_histogram_wrong}
ORACLES = {
    "02.gatys_loss": gatys.paper_loss,
    "02.closure": optim.make_closure,
    "02.total_variation": lambda x: losses.total_variation(x, "squared", "sum"),
    "02.match_histogram": lambda x, t: losses.match_histograms(x.view(1, 1, -1), losses.histogram_target(t.view(1, 1, -1))).view(-1),
}
