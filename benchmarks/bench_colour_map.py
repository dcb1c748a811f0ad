"""``stylelab transfer --method colour-map`` on a 12 MP photo: wall time, CPU time and peak memory of the command.

    python benchmarks/bench_colour_map.py                     # 4000×3000, both bases, 3 repeats, 2 threads
    python benchmarks/bench_colour_map.py --size 6000x4000 --repeats 1 --bases pixel-wct

Each run is the whole command a user types, in a fresh process (``python -m stylelab.cli
transfer --method colour-map PHOTO STYLE -o OUT.jpg``): Python and torch start-up, reading the
JPEG, the thumbnail and its stylisation, the fit, the pass over every pixel and writing the JPEG.
The photo is a course image enlarged to ``--size`` (bicubic, written once as JPEG quality 92).
``resource.getrusage``/``os.wait4`` give each child's CPU time (user + system) and peak resident
memory (``ru_maxrss``: everything the process held — torch's libraries included — at its
peak). A first row runs only the start-up (importing stylelab and its method registry) so the
memory and time the work adds can be read off. WCT² runs with RANDOM weights
(``--random-weights``, synthetic, the official layout): the arithmetic — hence time and memory —
is that of the trained network, the picture is not. The load average is printed: on a shared
machine the wall time is inflated by the other processes, the CPU time much less.

``--stages`` then runs the same work once more in one process, stage by stage (import, decode,
thumbnail, base method, fit, the banded pass, JPEG and PNG encoding at two compression levels),
with each stage's wall and CPU seconds and the resident memory after it and at the peak so far.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h or w)


def run(cmd: list[str], env: dict) -> tuple[float, float, float, int]:
    """``(wall s, cpu s, peak RSS GB, return code)`` of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(err[-2000:], file=sys.stderr)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024 / 1e9, code


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=_size, default=(4000, 3000), help="photo WxH (default 4000x3000 = 12 MP)")
    ap.add_argument("--bases", nargs="+", default=["pixel-wct", "wct2"], help="thumbnail methods (--base)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[2],
                    help="OMP/torch threads of each run, one row set per value (default 2: two cores)")
    ap.add_argument("--stages", action="store_true", help="also time each stage in one process (module docstring)")
    ap.add_argument("--stage-child", nargs=3, metavar=("PHOTO", "STYLE", "BASE"), help=argparse.SUPPRESS)
    ap.add_argument("--content", default="mountains")
    ap.add_argument("--style", default="sunset")
    args = ap.parse_args()
    if args.stage_child:
        return stages(*args.stage_child)

    from PIL import Image

    from stylelab.media import data

    w, h = args.size
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo.jpg"
        Image.open(data.path(args.content)).convert("RGB").resize((w, h), Image.BICUBIC).save(photo, quality=92)
        print(f"# {w}×{h} ({w * h / 1e6:.1f} MP) JPEG, style {args.style}; {os.cpu_count()} CPUs visible; "
              f"load average at start {_load()}; torch {_torch_version()}")
        rows = [("start-up only (import stylelab, registry)",
                 [sys.executable, "-c", "import stylelab.cli, stylelab.media.data; stylelab.methods.registry()"])]
        for base in args.bases:
            out = Path(tmp) / f"out-{base}.jpg"
            rows.append((f"colour-map --base {base}", [
                sys.executable, "-m", "stylelab.cli", "transfer", "--method", "colour-map", str(photo),
                str(data.path(args.style)), "-o", str(out), "--base", base, "--overwrite", "--random-weights"]))
        print(f"{'run':<44} {'threads':>7} {'wall s (median)':>16} {'CPU s (median)':>15} {'peak RSS GB (max)':>18} "
              f"{'load':>14}")
        for threads in args.threads:
            env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS=str(threads),
                       MKL_NUM_THREADS=str(threads), STYLELAB_OFFLINE="1")
            for name, cmd in rows:
                load = _load()
                results = [run(cmd, env) for _ in range(args.repeats)]
                if any(r[3] for r in results):
                    print(f"{name:<44} FAILED")
                    continue
                print(f"{name:<44} {threads:>7} {statistics.median(r[0] for r in results):>16.2f} "
                      f"{statistics.median(r[1] for r in results):>15.2f} {max(r[2] for r in results):>18.3f} "
                      f"{load:>14}")
        if args.stages:
            env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS=str(args.threads[0]), STYLELAB_OFFLINE="1")
            for base in args.bases:
                print(f"\n# stages, --base {base}, {args.threads[0]} threads, one process:", flush=True)
                subprocess.run([sys.executable, __file__, "--stage-child", str(photo), str(data.path(args.style)),
                                base], env=env, check=True)
        print(f"# load average at end {_load()}")
    return 0


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def stages(photo: str, style_path: str, base: str) -> int:
    """The work of ``stylelab transfer --method colour-map`` stage by stage, in this process (module docstring)."""
    import resource
    import warnings

    rows, clock = [], [time.perf_counter(), time.process_time()]

    def stage(name: str) -> None:
        status = Path("/proc/self/status")
        now = next((int(line.split()[1]) / 1e6 for line in status.read_text().splitlines()
                    if line.startswith("VmRSS")), float("nan")) if status.exists() else float("nan")
        rows.append((name, time.perf_counter() - clock[0], time.process_time() - clock[1], now,
                     resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6))
        clock[:] = time.perf_counter(), time.process_time()

    import torch

    stage("import torch")
    import stylelab.cli  # noqa: F401 - what the command imports
    from stylelab.features import colour_fit
    from stylelab.io import load_image, resize, save_image, to_pil
    from stylelab.methods import colour_map

    stage("import stylelab.cli, colour_map")
    content = load_image(photo, dtype=torch.uint8)
    stage("decode JPEG → uint8 (1, 3, H, W)")
    style = load_image(style_path, size=512)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the random-weights warning
        model = colour_map.ColourMap.from_official(base, random=True if base == "wct2" else None)
    stage("read the style, build the base")
    k = max(content.shape[-2:]) // 256
    thumb = resize(colour_map._block_mean(content, k), 256, side="long")
    stage("thumbnail (banded block mean)")
    with torch.no_grad():
        stylised = model.base(thumb, resize(style, 256, side="long"))[..., : thumb.shape[-2], : thumb.shape[-1]]
    stage(f"{base} on the 256 px thumbnail")
    transform = colour_fit.fit(thumb, stylised.float())
    stage("fit (least squares)")
    colour_fit.apply(transform, content, out=content)
    stage("apply (uint8 row bands, in place)")
    with tempfile.TemporaryDirectory() as tmp:
        save_image(content, Path(tmp) / "out.jpg")
        stage("encode JPEG (quality 95, save_image)")
        pil = to_pil(content)
        stage("to PIL (for the PNG rows)")
        for level in (1, 6):
            pil.save(Path(tmp) / f"out{level}.png", compress_level=level)
            stage(f"encode PNG, compress_level={level}")
    print(f"{'stage':<40} {'wall s':>7} {'CPU s':>7} {'RSS GB':>7} {'peak GB':>8}")
    for name, wall, cpu, now, peak in rows:
        print(f"{name:<40} {wall:>7.2f} {cpu:>7.2f} {now:>7.3f} {peak:>8.3f}")
    print(f"load average {_load()}")
    return 0


def _torch_version() -> str:
    import torch

    return torch.__version__


if __name__ == "__main__":
    sys.exit(main())
