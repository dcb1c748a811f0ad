"""Seconds per Gatys optimisation step: stylelab against the PyTorch tutorial's formulation.

Both run the tutorial's exact settings (``stylelab.methods.gatys.preset("tutorial")``:
torchvision VGG-19 with max pooling, content conv2_2, style conv1_1…conv3_1,
Gram/(C·H·W) + MSE, weights 1 and 1e6, L-BFGS with PyTorch's defaults, start
from the content, clamp in the closure) on the same weights and images. The
tutorial formulation is re-implemented below from its description
(reference/methods.md §3): transparent loss modules inserted after the named
convolutions of a *copied*, renamed ``nn.Sequential`` that is truncated after
the last loss module. A "step" is one loss evaluation (forward + backward + L-BFGS update),
the unit the tutorial counts; each timed run is one L-BFGS ``.step()`` of
``--evals`` evaluations on both sides.

    python benchmarks/bench_gatys.py                  # CPU (and CUDA when available), 256 and 512 px
    python benchmarks/bench_gatys.py --sizes 128 --evals 6 --repeats 2 --devices cpu

Prints a table with the two timings and their ratio (tutorial / stylelab: >1
means stylelab is faster), plus the relative difference of the loss values
the two compute on the same image (they must agree).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stylelab.device import synchronize  # noqa: E402
from stylelab.encoders import TORCHVISION_INDEX, vgg19  # noqa: E402
from stylelab.methods import gatys  # noqa: E402


# ------------------------------------------------------------------ the tutorial's formulation
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
    from stylelab.encoders import LAYERS

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


# ------------------------------------------------------------------ measurement
def measure(device: str, size: int, evals: int, repeats: int) -> dict:
    dev = torch.device(device)
    g = torch.Generator().manual_seed(0)
    content = torch.rand(1, 3, size, size, generator=g).to(dev)
    style = torch.rand(1, 3, size, size, generator=g).to(dev)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = vgg19(weights="random", last_layer="relu5_4", device=dev)
    cnn = torchvision_features_like(enc).to(dev)
    # one L-BFGS .step() of `evals` evaluations on both sides (the per-evaluation cost is what is compared)
    cfg = gatys.preset("tutorial", steps=evals, stop="exact", lbfgs_max_iter=evals)
    ours_enc = gatys.get_encoder(cfg, dev, random=True)  # cached, truncated at conv3_1
    ours_enc.load_state_dict({k: v for k, v in enc.state_dict().items() if k in ours_enc.state_dict()})

    # the two formulations must compute the same loss
    obj = gatys.GatysObjective(ours_enc, cfg, content, style)
    probe = torch.rand(1, 3, size, size, generator=g).to(dev)
    with torch.no_grad():
        ours_loss = float(obj(probe)[0])
    ref_loss = tutorial_loss(cnn, content, style, probe)

    def run_ours():
        r = gatys.run(content, style, cfg, encoder=ours_enc, progress=False)
        return r.evaluations

    def run_tutorial():
        return tutorial_run(cnn, content, style, content, num_steps=0, max_iter=evals)[1]

    run_ours(), run_tutorial()  # warm-up
    t_ours, t_tut = [], []
    for _ in range(repeats):
        for fn, out in ((run_ours, t_ours), (run_tutorial, t_tut)):
            synchronize(dev)
            t0 = time.perf_counter()
            n = fn()
            synchronize(dev)
            out.append((time.perf_counter() - t0) / n)
    return {
        "device": device, "size": size,
        "stylelab": statistics.median(t_ours), "tutorial": statistics.median(t_tut),
        "loss_rel_diff": abs(ours_loss - ref_loss) / abs(ref_loss),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="256,512", help="image sides in px (default 256,512)")
    p.add_argument("--evals", type=int, default=10, help="loss evaluations per timed run (one L-BFGS .step() on each side)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per implementation (median reported)")
    p.add_argument("--devices", default=None, help="comma-separated devices (default: cpu, and cuda when available)")
    args = p.parse_args(argv)
    devices = args.devices.split(",") if args.devices else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads; tutorial preset, "
          f"{args.evals} evaluations per run, median of {args.repeats}")
    print(f"{'device':<7} {'size':>5} {'stylelab s/step':>16} {'tutorial s/step':>16} {'tutorial/stylelab':>18} {'loss rel. diff':>15}")
    for dev in devices:
        for size in (int(s) for s in args.sizes.split(",")):
            r = measure(dev, size, args.evals, args.repeats)
            print(f"{r['device']:<7} {r['size']:>5} {r['stylelab']:>16.4f} {r['tutorial']:>16.4f} "
                  f"{r['tutorial'] / r['stylelab']:>18.2f} {r['loss_rel_diff']:>15.1e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
