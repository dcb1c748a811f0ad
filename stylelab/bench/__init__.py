"""The benchmark table: seconds and peak memory of every method at every resolution.

Rows are methods (Gatys, AdaIN, WCT, PhotoWCT with each smoother, DPST, WCT²,
and the pixel-space variants), columns are square images of 128 … 1024 px
(plus 2048 and 4096 on a GPU). Each cell is the wall-clock time of one
stylisation (model loading excluded, device synchronised, see
:func:`stylelab.metrics.measure`) and the peak memory it added
(:class:`stylelab.metrics.PeakMemory`: ``torch.cuda.max_memory_allocated`` on
CUDA, sampled RSS on the CPU).

    stylelab bench --quick                       # 64 and 96 px, 2 iterations, seconds
    stylelab bench --sizes 128 256 512           # CPU-friendly
    stylelab bench --device cuda                 # adds 2048 and 4096 px

Results go to a new timestamped folder under ``--out`` (default
``bench-results/``) — ``results.csv`` (one row per cell), ``results.md`` (the
table with the machine, device, torch version and weights on top),
``time_vs_size.png`` (log-log) and ``meta.json``. Existing results are never
overwritten.

In Python::

    from stylelab import bench
    result = bench.run(sizes=[64, 96], methods=["pixel-adain", "adain"], random_weights=True)
    print(result.to_markdown()); result.plot()

A cell is skipped (and says why) when the method is not installed, its
pretrained weights are missing and random weights were not allowed, a smaller
size already ran out of memory, or the time predicted from the previous size
exceeds ``max_seconds``. Ctrl-C (SIGINT) stops a run early and keeps the cells
measured so far (the table then says it was interrupted).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import gc
import os
import platform
from dataclasses import dataclass

import torch

from .. import __version__, metrics
from ..media import data
from .. import weights as W
from .table import BenchResult, Cell
from ..device import describe, get_device
from ..memory import is_out_of_memory
from ..methods import BenchRow, Runner, bench_rows

__all__ = [
    "BenchConfig", "ROWS", "method_names", "load", "run", "default_sizes",
    "inputs", "add_cli",
]

CPU_SIZES = (128, 256, 512, 768, 1024)
GPU_SIZES = CPU_SIZES + (2048, 4096)
QUICK_SIZES = (64, 96)

def default_sizes(device: torch.device | str | None = None, quick: bool = False) -> tuple[int, ...]:
    """Column sizes: 64/96 px in quick mode, 128–1024 px, plus 2048/4096 px on CUDA."""
    if quick:
        return QUICK_SIZES
    return GPU_SIZES if torch.device(get_device(device)).type == "cuda" else CPU_SIZES


@dataclass
class BenchConfig:
    """Settings shared by every row.

    Attributes:
        iterations: optimisation steps for Gatys and DPST (their time is for
            this many steps; the papers use hundreds to a thousand).
        random_weights: allow random weights where pretrained files are missing
            (the table then says so per row).
        dtype: float32 everywhere (MPS has no float64).
        max_seconds: skip a cell whose time predicted from the previous size
            (scaled by the pixel ratio) exceeds this; ``None`` never skips.
        seed: seed for random weights and synthetic inputs.
    """

    iterations: int = 50
    random_weights: bool = False
    dtype: torch.dtype = torch.float32
    max_seconds: float | None = 300.0
    seed: int = 0


# ============================================================================ methods
#: Row key → :class:`stylelab.methods.BenchRow`, in table order: the methods in registry order,
#: the pixel-space variants last (each method module declares its rows, :mod:`stylelab.methods`).
ROWS: dict[str, BenchRow] = {row.key: row for row in bench_rows()}


def method_names(family: str | None = None) -> list[str]:
    """Keys of every row (of one ``family``: "optimisation", "feed-forward", "pixel"), in table order."""
    return [k for k, m in ROWS.items() if family is None or m.family == family]


def load(key: str, device: torch.device | str | None = None, random_weights: bool | None = None,
         iterations: int = 50) -> Runner:
    """Build the method of row ``key`` once: ``runner.fn(content, style) -> image``, ``runner.pretrained``.

    ``pretrained`` is ``None`` for methods without weights. Raises ``ImportError``
    when the method is not installed and ``WeightsNotFoundError`` when its
    weights are missing and random weights are not allowed
    (``random_weights`` or ``$STYLELAB_RANDOM_WEIGHTS``).
    """

    if key not in ROWS:
        raise ValueError(f"unknown method {key!r}; choose from {', '.join(method_names())}")
    cfg = BenchConfig(iterations=iterations, random_weights=W.random_allowed(random_weights))
    return ROWS[key].build(cfg, get_device(device))


# ============================================================================ inputs
def inputs(size: int, device: torch.device | str | None = None, dtype: torch.dtype = torch.float32,
           seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, str]:
    """A content/style pair at ``size``×``size``: the course's first pair, or synthetic images when data/ is missing.

    Returns ``(content, style, source)`` with ``source`` naming what was used.
    """
    try:

        pairs = data.pairs()
        content_name, style_name = pairs[0] if pairs else ("astronaut", "coffee")
        content = data.load(content_name, size=(size, size))
        style = data.load(style_name, size=(size, size))
        source = f"{content_name} / {style_name}"
    except (FileNotFoundError, KeyError, ValueError, ImportError):
        g = torch.Generator().manual_seed(seed)
        y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
        base = torch.stack([x, y, 0.5 * (x + y)])[None]
        content = (0.8 * base + 0.2 * torch.rand(1, 3, size, size, generator=g)).clamp(0, 1)
        style = torch.rand(1, 3, size, size, generator=g) ** 2
        source = "synthetic (course data not built)"
    return content.to(device or "cpu", dtype), style.to(device or "cpu", dtype), source


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPU cores"


def _free(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()


# ============================================================================ running
def run(
    sizes: list[int] | tuple[int, ...] | None = None,
    methods: list[str] | None = None,
    device: torch.device | str | None = None,
    quick: bool = False,
    iterations: int | None = None,
    random_weights: bool | None = None,
    max_seconds: float | None = 300.0,
    progress: bool = True,
    warmup: bool = True,
) -> BenchResult:
    """Measure every (method, size) cell and return a :class:`BenchResult`.

    Args:
        sizes: image sides in pixels (square images); default
            :func:`default_sizes` for the device and mode.
        methods: row keys (:func:`method_names`); default all.
        quick: 64/96 px, 2 optimisation iterations, random weights allowed —
            a smoke test of the whole table in seconds.
        iterations: optimisation steps for Gatys/DPST (default 50, quick 2).
        random_weights: allow random weights (default: quick mode or
            ``$STYLELAB_RANDOM_WEIGHTS``).
        max_seconds: skip cells predicted to take longer (see module docstring).
        warmup: run each feed-forward/pixel method once at the smallest size
            before timing (first-call overheads: allocator, cuDNN autotuning,
            lazy imports); optimisation methods amortise them over iterations.
    """
    from tqdm.auto import tqdm


    dev = get_device(device)
    sizes = list(sizes or default_sizes(dev, quick))
    if any(int(s) < 16 for s in sizes):
        raise ValueError(f"sizes must be at least 16 px, got {sizes}")
    keys = list(methods or method_names())
    unknown = [k for k in keys if k not in ROWS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {', '.join(method_names())}")
    allow_random = W.random_allowed(random_weights if random_weights is not None else (True if quick else None))
    cfg = BenchConfig(iterations=iterations or (2 if quick else 50), random_weights=allow_random,
                      max_seconds=max_seconds)
    _, _, source = inputs(16, "cpu")
    cells: list[Cell] = []
    weights_used: dict[str, str] = {}
    bar = tqdm(total=len(keys) * len(sizes), desc="bench", disable=not progress)
    interrupted = False
    try:
        for key in keys:
            method = ROWS[key]
            runner, reason = _build(method, cfg, dev)
            weights = "" if runner is None else ("—" if runner.pretrained is None else ("pretrained" if runner.pretrained else "random"))
            if weights:
                weights_used[method.label] = weights
            last: tuple[int, float] | None = None
            stop: str | None = reason
            # optimisation rows amortise first-call overheads over their iterations: no warm-up run
            if runner is not None and warmup and method.family != "optimisation":
                try:
                    c, s, _ = inputs(min(sizes), dev, cfg.dtype, cfg.seed)
                    with torch.no_grad() if method.family != "optimisation" else contextlib.nullcontext():
                        runner.fn(c, s)
                except Exception as err:  # reported in the first cell below
                    stop = _reason(err)
            for size in sizes:
                bar.set_postfix_str(f"{key} {size}px")
                cell = Cell(key, method.label, method.family, size, weights=weights)
                if stop is None and last is not None and cfg.max_seconds is not None:
                    predicted = last[1] * (size / last[0]) ** 2
                    if predicted > cfg.max_seconds:
                        stop = f"skipped (>{cfg.max_seconds:.0f} s predicted)"
                if stop is None and method.max_size is not None and size > method.max_size:
                    stop = f"skipped (> {method.max_size} px for this row)"
                if stop is not None:
                    cell.status = stop if stop.startswith(("skipped", "OOM", "n/a", "error", "no ")) else f"n/a: {stop}"
                    if stop.startswith("OOM"):
                        cell.status = "OOM"
                else:
                    try:
                        c, s, _ = inputs(size, dev, cfg.dtype, cfg.seed)
                        with torch.no_grad() if method.family != "optimisation" else contextlib.nullcontext():
                            m = metrics.measure(runner.fn, c, s, device=dev, keep_result=False)
                        cell.seconds, cell.peak_mib, cell.memory_method = m.seconds, m.peak_mib, m.memory_method
                        last = (size, m.seconds)
                    except Exception as err:
                        if is_out_of_memory(err):
                            cell.status = stop = "OOM"
                        else:
                            cell.status = stop = _reason(err)
                    finally:
                        _free(dev)
                cells.append(cell)
                bar.update(1)
            del runner
            _free(dev)
    except KeyboardInterrupt:  # Ctrl-C (or timeout -s INT): keep what was measured
        interrupted = True
    bar.close()
    mem_methods = sorted({c.memory_method for c in cells if c.memory_method})
    meta = {
        "machine": _machine(),
        "device": describe(dev),
        "torch": torch.__version__,
        "stylelab": __version__,
        "python": platform.python_version(),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": quick,
        "iterations": cfg.iterations,
        "inputs": source,
        "memory_method": ", ".join(mem_methods) or "—",
        "weights": _weights_summary(weights_used),
        "interrupted": interrupted,
    }
    return BenchResult(cells, sizes, meta)


def _weights_summary(used: dict[str, str]) -> str:
    random_rows = [k for k, v in used.items() if v == "random"]
    pre = [k for k, v in used.items() if v == "pretrained"]
    if not random_rows and not pre:
        return "no method needed weights"
    parts = []
    if pre:
        parts.append(f"pretrained: {', '.join(pre)}")
    if random_rows:
        parts.append(f"RANDOM (timing only, pictures meaningless): {', '.join(random_rows)}")
    return "; ".join(parts)


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"error: {type(err).__name__}" + (f": {text[:80]}" if text else "")


def _build(method: BenchRow, cfg: BenchConfig, device: torch.device) -> tuple[Runner | None, str | None]:
    """Load a method; ``(None, reason)`` when it cannot run here."""

    try:
        return method.build(cfg, device), None
    except ImportError as err:
        return None, f"n/a: not installed ({err.name or err})"
    except W.WeightsNotFoundError:
        return None, "no weights (pass --random-weights)"
    except Exception as err:
        if is_out_of_memory(err):
            return None, "OOM"
        return None, _reason(err)


# ============================================================================ CLI
def add_cli(subparsers) -> None:
    """Register ``stylelab bench``."""
    p = subparsers.add_parser(
        "bench",
        help="time and memory of every method at every resolution (CSV, Markdown, log-log plot)",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--quick", action="store_true", help="64/96 px, 2 iterations, random weights: a smoke test of every row")
    p.add_argument("--sizes", type=int, nargs="+", default=None,
                   help="image sides in px (default 128 256 512 768 1024; + 2048 4096 on CUDA)")
    p.add_argument("--methods", nargs="+", default=None, metavar="METHOD",
                   help=f"rows to run (default all): {', '.join(method_names())}")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: best available)")
    p.add_argument("--iterations", type=int, default=None, help="optimisation steps for Gatys/DPST (default 50; quick 2)")
    p.add_argument("--max-seconds", type=float, default=300.0,
                   help="skip cells predicted to take longer than this (default 300; 0 = never skip)")
    p.add_argument("--out", default="bench-results", help="folder for results (a new timestamped subfolder each run)")
    p.add_argument("--random-weights", action="store_true", help="allow random weights where pretrained files are missing")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cli)


def _cli(args) -> int:
    result = run(
        sizes=args.sizes, methods=args.methods, device=args.device, quick=args.quick,
        iterations=args.iterations, random_weights=True if args.random_weights else None,
        max_seconds=None if args.max_seconds == 0 else args.max_seconds, progress=not args.no_progress,
    )
    folder = result.save(args.out)
    print(result.to_markdown())
    print(f"wrote {folder}/results.csv, results.md, time_vs_size.png, meta.json")
    return 0


# Submodules load on first use: stylelab.bench.<module> works after `import stylelab` alone.
from .._lazy import lazy_submodules  # noqa: E402

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
