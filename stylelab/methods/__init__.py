"""The method registry: one module per style-transfer method, each registering itself.

A method is one file, ``stylelab/methods/<name>.py``. Besides the method
itself (a class with ``from_official`` and ``stylize``, or a module of
functions with ``stylize``) it ends with one :func:`register` call that
declares, once, everything the rest of the library needs to know about it::

    register(Method(
        name="adain", order=20, summary="AdaIN (Huang & Belongie, ICCV 2017)",
        add_cli_arguments=add_cli_arguments,             # its options of `stylelab transfer`
        check_options=None,                              # checks argparse cannot make, before any work
        run_cli=run_cli,                                 # run_cli(content, style, run, **options) -> image
        labels=True,                                     # accepts --content-labels/--style-labels
        tiles=True,                                      # accepts --tile (run_cli hands run.tile to tiling.from_cli)
        memory=MemoryModel(60e6, 1200.0, 1100.0, "AdaIN"),  # its peak-memory model (stylelab.memory)
        bench=(BenchRow("adain", "AdaIN", "feed-forward", _bench),),  # rows of stylelab bench
        train=TrainSpec(...),                            # stylelab train --method adain
        checkpoints=("vgg_normalised", "adain_decoder"),  # names in stylelab.weights
    ))

Everything that lists methods or asks what one can do reads this registry:
``stylelab transfer`` and ``stylelab train`` (their ``--method`` choices,
each method's options, which shared options it accepts), ``stylelab bench``
(its rows, in ``order``), :mod:`stylelab.memory` (the memory model, and
whether its advice may propose ``--tile auto``) and :mod:`stylelab.tiling` (the
methods ``--tile`` works with). A method's class or functions are imported from its
module (``from stylelab.methods.adain import AdaIN``). Modules are found by listing this package: adding a
method is adding its file (plus its checkpoints and its tests), nothing else.
Helper modules that are not methods start with an underscore.

Typed options, never the argparse namespace: ``stylelab transfer`` calls
``run_cli(content, style, run, **options)`` where ``run`` is a
:class:`TransferRun` (device, label maps, tile options, seed, random-weights
switch: what the command itself read and checked) and ``options`` are the
method's own options, one keyword per option that ``add_cli_arguments`` adds
(its ``dest``: ``--adain-preset`` → ``adain_preset``). ``check_options(**options)``
and ``run_cli_video(frames, style, run, **options)`` take the same keywords.
``tests/test_methods_registry.py`` checks that the signatures name exactly
those options.

This module imports no other stylelab module (only the package machinery,
``stylelab._lazy``): it is a table that the method modules fill in (read by low
layers such as :mod:`stylelab.memory` without an upward import; the method
modules are imported, by name, at first use).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Method", "BenchRow", "Runner", "TrainSpec", "TrainJob", "TrainRun", "TransferRun", "register", "registry", "get",
           "names", "option_names", "tiled", "bench_rows", "renamed", "images_then_keywords"]


@dataclass(frozen=True)
class TrainRun:
    """What ``stylelab train`` hands a method's ``TrainSpec.build`` besides the images and its own options.

    Attributes:
        device: where the networks train.
        random: ``True`` with ``--random-weights`` (random loss-network weights allowed), else ``None``.
        size: ``--size``, the crop side; resize: ``--resize``, the shorter side before the crop.
        seed: ``--seed`` (``None``: not given).
    """

    device: Any
    random: bool | None = None
    size: int = 256
    resize: int = 512
    seed: int | None = None


@dataclass(frozen=True)
class TransferRun:
    """What ``stylelab transfer`` hands a method's ``run_cli`` besides the images and the method's own options.

    Attributes:
        device: the device the images are on (models go there too).
        labels: ``(content map, style map)`` read and checked by the command
            (:func:`stylelab.labels.maps.read_label_pair`), or ``None``; only for
            methods registered with ``labels=True``.
        tile: the ``--tile`` options (:class:`stylelab.tiling.TileOptions`), or
            ``None`` for a whole-image run; only for methods with ``tiles=True``
            (hand it to :func:`stylelab.tiling.from_cli`). Never together with labels.
        seed: ``--seed`` (``None``: not given).
        random_weights: ``--random-weights`` (random weights allowed, smoke test only).
        stabilise: ``--video`` only: the momentum of the moving average of the content statistics over
            the frames (``--stabilise``; ``None``: each frame on its own). ``run_cli_video`` hands it to
            :func:`stylelab.media.video.stylize_frames` as ``momentum``.
    """

    device: Any
    labels: tuple[Any, Any] | None = None
    tile: Any = None
    seed: int | None = None
    random_weights: bool = False
    stabilise: float | None = None


@dataclass
class Runner:
    """A loaded method for the benchmark: ``fn(content, style) -> image``.

    ``pretrained`` says whether its weights are pretrained (``None``: the
    method has no weights).
    """

    fn: Callable[..., Any]
    pretrained: bool | None
    #: ``{registry name: pretrained?}`` of the checkpoints it loaded (``stylelab.weights.checkpoints_of``),
    #: which ``stylelab.course.weights_banner`` turns into advice on getting the real files
    checkpoints: dict[str, bool] = field(default_factory=dict)


@dataclass
class BenchRow:
    """One row of ``stylelab bench``.

    ``build(config, device)`` loads what the row needs once (models, weights)
    and returns a :class:`Runner`. ``config`` is a
    :class:`stylelab.bench.BenchConfig`; a builder reads its ``iterations``
    (optimisation steps), ``random_weights`` (random weights allowed) and
    ``dtype``. It raises ``ImportError`` when something it needs is not
    installed and :class:`stylelab.weights.WeightsNotFoundError` when its
    weights are missing.

    ``family`` is ``"optimisation"``, ``"feed-forward"`` or ``"pixel"``;
    ``max_size`` skips larger cells (e.g. a solver whose memory grows too fast).
    """

    key: str
    label: str
    family: str
    build: Callable[[Any, Any], Runner]
    note: str = ""
    max_size: int | None = None


@dataclass
class TrainJob:
    """What ``stylelab train`` optimises: the loss (a callable ``batch -> {"total": …}``
    as :func:`stylelab.train.fit` takes), the modules it saves, and the default checkpoint file."""

    loss: Callable[..., Any]
    modules: dict
    checkpoint: str


@dataclass
class TrainSpec:
    """``stylelab train --method NAME``: options and the job.

    ``add_arguments(parser)`` adds the method's own options (the shared ones —
    images, steps, batch size, learning rate, crop, checkpoint, device — are
    the command's); ``build(images, run, **options)`` returns a
    :class:`TrainJob` for the content images ``images`` (a
    :class:`stylelab.train.data.ImageFolder`), or raises ``ValueError`` with what
    to pass: ``run`` is a :class:`TrainRun`, ``options`` the method's own
    options by keyword (:func:`option_names` with ``command="train"``).
    ``help`` is one line for ``--help``.
    """

    build: Callable[..., TrainJob]
    add_arguments: Callable[[Any], None] | None = None
    help: str = ""


@dataclass
class Method:
    """One registered method (module docstring).

    Attributes:
        name: the ``--method`` name (lower case, as the file).
        order: position in tables and lists (chronological by paper, roughly).
        summary: one line: the method and its paper.
        add_cli_arguments: adds the method's own options of ``stylelab transfer``
            to an argparse parser (their ``dest`` names are :func:`option_names`).
        check_options: ``check_options(**options)``: the checks of those options
            that argparse cannot make (a combination, a file in a folder), run
            before any image is read; raises ``ValueError``/``FileNotFoundError``.
        run_cli: ``run_cli(content, style, run, **options) -> image``: ``run`` a
            :class:`TransferRun`, ``options`` the method's own options by keyword.
        run_cli_video: ``run_cli_video(frames, style, run, **options) -> frames``
            (``(T, 3, H, W)`` in, the same out) for ``stylelab transfer --video``;
            ``None``: no ``--video``.
        labels: ``stylelab transfer`` accepts ``--content-labels``/``--style-labels``
            (read by :mod:`stylelab.labels`; ``run_cli`` finds them in ``run.labels``).
        tiles: ``stylelab transfer`` accepts ``--tile`` (its ``run_cli`` hands
            ``run.tile`` to :func:`stylelab.tiling.from_cli`), and the
            out-of-memory advice of :mod:`stylelab.memory` proposes ``--tile auto``.
        memory: its peak-memory model (:class:`stylelab.memory.MemoryModel`):
            ``stylelab transfer`` checks the run fits before any work and turns an
            out-of-memory into advice; ``None``: no estimate (no check).
        estimate_options: ``estimate_options(**options) -> dict``: the keywords of
            :func:`stylelab.memory.estimate_peak_bytes` that the method's options imply
            (PhotoWCT: ``smoothing=`` from ``--smooth``); ``None``: none.
        bench: its rows of the benchmark table.
        train: its decoder training for ``stylelab train`` (or ``None``).
        checkpoints: the :mod:`stylelab.weights` names it loads.
        needs_style: ``stylelab transfer`` requires a STYLE image (``False`` for
            methods whose trained network holds its style, e.g. ``johnson``).
        keeps_size: without ``--size``, ``stylelab transfer`` keeps the content's
            size instead of reducing its shorter side to 512 (feed-forward networks
            whose cost is linear in the pixels: ``johnson``, ``cin``).
        reads_uint8: ``stylelab transfer`` reads the content as 8-bit values
            (``load_image(dtype=torch.uint8)``, 0–255, a quarter of float32's memory) and
            ``run_cli`` returns ``uint8`` (written as it is): a method that works on a large
            photo in row bands (``colour_map``).
        module: the defining module (filled in by :func:`register`).
    """

    name: str
    order: int
    summary: str
    add_cli_arguments: Callable[[Any], None] | None = None
    check_options: Callable[..., None] | None = None
    run_cli: Callable[..., Any] | None = None
    run_cli_video: Callable[..., Any] | None = None
    labels: bool = False
    tiles: bool = False
    memory: Any = None
    estimate_options: Callable[..., dict] | None = None
    bench: tuple[BenchRow, ...] = ()
    train: TrainSpec | None = None
    checkpoints: tuple[str, ...] = ()
    needs_style: bool = True
    keeps_size: bool = False
    reads_uint8: bool = False
    module: str = field(default="", compare=False)


def images_then_keywords(fn):
    """Decorator of ``stylize(self, content, style, *, ...)``: a third positional argument
    (``alpha`` passed by position, as stylelab once allowed) is a ``TypeError`` that says what to write."""
    import functools

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        if len(args) > 2:
            raise TypeError(f"{type(self).__name__}.{fn.__name__} takes the content and the style by position and the "
                            f"rest by keyword: write alpha={args[2]!r} (or the option's name), not a third positional argument")
        return fn(self, *args, **kwargs)

    return wrapper


def renamed(new_value, old_value, new: str, old: str, default=None):
    """Resolve a keyword that was renamed (``preserve_color`` → ``preserve_colour``).

    Returns ``new_value``, or ``old_value`` when only the old name was given, with a
    ``DeprecationWarning`` that names the new spelling; both at once is a ``TypeError``.
    """
    if old_value is None:
        return new_value
    if new_value is not None and new_value != default:
        raise TypeError(f"pass {new}= only (the old name {old}= is a deprecated alias of it)")
    import warnings

    warnings.warn(f"{old}= is deprecated: use {new}= (one spelling across stylelab)", DeprecationWarning, stacklevel=3)
    return old_value


_REGISTRY: dict[str, Method] = {}
_UNAVAILABLE: dict[str, str] = {}
_DISCOVERED = False


def register(method: Method, module: str | None = None) -> Method:
    """Add ``method`` to the registry (called once, at the end of its module).

    ``module`` defaults to the module of its ``run_cli`` (or of the caller).
    Registering a second method under a taken name is an error.
    """
    if not method.name or method.name != method.name.lower() or not method.name.replace("_", "").isalnum():
        raise ValueError(f"a method name is lower-case letters, digits and '_', got {method.name!r}")
    if module is None:
        import sys

        module = sys._getframe(1).f_globals.get("__name__", "")
    method.module = module
    old = _REGISTRY.get(method.name)
    if old is not None and old.module != method.module:
        raise ValueError(f"method {method.name!r} is registered twice ({old.module} and {method.module})")
    _REGISTRY[method.name] = method
    return method


def _discover() -> None:
    """Import every module of this package once (each registers its method)."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"{__name__}.{info.name}")
        except ImportError as err:  # a missing optional third-party package: the method is listed as unavailable
            if (err.name or "").startswith("stylelab"):
                raise
            _UNAVAILABLE[info.name] = f"needs {err.name or err}"
    _DISCOVERED = True


def registry() -> dict[str, Method]:
    """Every registered method, name → :class:`Method`, in ``order``."""
    _discover()
    return dict(sorted(_REGISTRY.items(), key=lambda kv: (kv[1].order, kv[0])))


def names() -> list[str]:
    """The method names, in ``order``."""
    return list(registry())


def get(name: str) -> Method:
    """The method called ``name``; ``ValueError`` listing the choices otherwise."""
    reg = registry()
    if name not in reg:
        extra = f" ({name}: {_UNAVAILABLE[name]})" if name in _UNAVAILABLE else ""
        raise ValueError(f"unknown method {name!r}{extra}; choose from {', '.join(reg)}")
    return reg[name]


def option_names(method: Method | str, command: str = "transfer") -> tuple[str, ...]:
    """The ``dest`` names of a method's own options of ``stylelab transfer`` (what ``add_cli_arguments`` adds)
    or, with ``command="train"``, of ``stylelab train`` (what ``train.add_arguments`` adds).

    These are the keywords its ``run_cli``, ``check_options`` and ``run_cli_video`` (or ``train.build``) receive.
    """
    method = get(method) if isinstance(method, str) else method
    if command not in ("transfer", "train"):
        raise ValueError(f"command is 'transfer' or 'train', got {command!r}")
    add = method.add_cli_arguments if command == "transfer" else (method.train and method.train.add_arguments)
    if add is None:
        return ()
    parser = argparse.ArgumentParser(add_help=False)
    add(parser)
    return tuple(a.dest for a in parser._actions)


def tiled() -> tuple[str, ...]:
    """The methods that accept ``--tile`` (registered with ``tiles=True``), in ``order``."""
    return tuple(name for name, m in registry().items() if m.tiles)


def bench_rows() -> list[BenchRow]:
    """Every method's benchmark rows: methods in ``order``, the pixel-space variants last."""
    rows = [row for m in registry().values() for row in m.bench]
    return sorted(rows, key=lambda r: r.family == "pixel")  # stable: keeps the method order within each group


# Submodules load on first use: stylelab.methods.<module> works after `import stylelab` alone.
from .._lazy import lazy_submodules  # noqa: E402

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
