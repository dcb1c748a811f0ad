"""Gatys et al. as the PyTorch tutorial formulates it, rebuilt as an independent oracle.

"Neural Transfer Using PyTorch" (pytorch/tutorials, ``advanced_source/neural_style_tutorial.py``):
transparent loss modules inserted after the named convolutions of a *copied*,
renamed ``nn.Sequential`` truncated after the last loss module; Gram matrix
divided by all its elements; L-BFGS. Used by ``tests/test_gatys.py`` and
``benchmarks/bench_gatys.py``. Nothing here is part of the installed package.
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from stylelab.weights.layout import TORCHVISION_INDEX


class Normalization(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean) / self.std


def tutorial_gram(x):
    a, b, c, d = x.size()
    f = x.view(a * b, c * d)
    return torch.mm(f, f.t()).div(a * b * c * d)


class ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target.detach()
        self.loss = None

    def forward(self, x):
        self.loss = F.mse_loss(x, self.target)
        return x


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = tutorial_gram(target_feature).detach()
        self.loss = None

    def forward(self, x):
        self.loss = F.mse_loss(tutorial_gram(x), self.target)
        return x


def tutorial_model(cnn: nn.Sequential, content, style, content_layers=("conv_4",),
                   style_layers=("conv_1", "conv_2", "conv_3", "conv_4", "conv_5")):
    """The tutorial's ``get_style_model_and_losses``: copy, rename, insert loss modules, truncate."""
    cnn = copy.deepcopy(cnn)
    norm = Normalization((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)).to(content.device)
    norm.mean, norm.std = norm.mean.to(content.device, content.dtype), norm.std.to(content.device, content.dtype)
    # (the tutorial builds these on its default device and dtype; here they follow the images)
    model = nn.Sequential(norm)
    content_losses, style_losses = [], []
    i = 0
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = f"conv_{i}"
        elif isinstance(layer, nn.ReLU):
            name = f"relu_{i}"
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d):
            name = f"pool_{i}"
        else:
            name = f"other_{i}"
        model.add_module(name, layer)
        if name in content_layers:
            cl = ContentLoss(model(content).detach())
            model.add_module(f"content_loss_{i}", cl)
            content_losses.append(cl)
        if name in style_layers:
            sl = StyleLoss(model(style).detach())
            model.add_module(f"style_loss_{i}", sl)
            style_losses.append(sl)
    for j in range(len(model) - 1, -1, -1):
        if isinstance(model[j], (ContentLoss, StyleLoss)):
            break
    return model[: j + 1], style_losses, content_losses


def tutorial_run(cnn, content, style, input_img, num_steps=300, style_weight=1e6, content_weight=1.0, max_iter=20):
    """The tutorial's ``run_style_transfer``; returns ``(image, evaluations)``.

    ``max_iter`` is L-BFGS's default 20 in the tutorial; the benchmark sets it to the
    number of timed evaluations so both sides run exactly one ``.step()`` of the same length.
    """
    model, style_losses, content_losses = tutorial_model(cnn, content, style)
    input_img = input_img.clone().requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = torch.optim.LBFGS([input_img], max_iter=max_iter)
    run = [0]
    while run[0] <= num_steps:
        def closure():
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            s = sum(sl.loss for sl in style_losses) * style_weight
            c = sum(cl.loss for cl in content_losses) * content_weight
            loss = s + c
            loss.backward()
            run[0] += 1
            return s + c
        optimizer.step(closure)
    with torch.no_grad():
        input_img.clamp_(0, 1)
    return input_img.detach(), run[0]


def tutorial_loss(cnn, content, style, image, style_weight=1e6, content_weight=1.0) -> float:
    model, sls, cls = tutorial_model(cnn, content, style)
    with torch.no_grad():
        model(image)
    return float(sum(s.loss for s in sls) * style_weight + sum(c.loss for c in cls) * content_weight)


def torchvision_features_like(encoder) -> nn.Sequential:
    """An ``nn.Sequential`` laid out exactly as torchvision's ``vgg19().features`` (zero-padded 3×3
    convolutions, in-place ReLUs, 2×2 max pooling) holding ``encoder``'s weights: the tutorial's ``cnn``."""
    from stylelab.weights.layout import LAYERS

    mods: list[nn.Module] = []
    in_ch = 3
    for name in LAYERS:
        if name.startswith("conv"):
            if not hasattr(encoder, name):
                break
            conv = getattr(encoder, name)
            layer = nn.Conv2d(in_ch, conv.out_channels, 3, padding=1).to(conv.weight.device, conv.weight.dtype)
            with torch.no_grad():
                layer.weight.copy_(conv.weight)
                layer.bias.copy_(conv.bias)
            assert len(mods) == TORCHVISION_INDEX[name]
            mods.append(layer)
            in_ch = conv.out_channels
        elif name.startswith("relu"):
            mods.append(nn.ReLU(inplace=True))
        else:
            mods.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*mods).eval().requires_grad_(False)
