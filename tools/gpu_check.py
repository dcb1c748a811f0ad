#!/usr/bin/env python
"""``make gpu-check``: the CUDA paths of the course, run for real, in under 8 minutes.

On a machine with CUDA, in this order, each part with its own time budget:

1. the unit tests marked ``cuda`` (``pytest -m cuda``);
2. every notebook in full mode (what students run) with ``STYLELAB_DEVICE=cuda``
   under nbval, one at a time, so a slow notebook cannot eat the others' time
   (random weights, downloads off: the device machine may have no network);
3. ``stylelab bench`` on CUDA at 512, 1024, 2048 and 4096 px (random weights:
   the time and memory of the real computation; cells past their budget are
   cut with SIGINT, which keeps the measured cells).

It writes ``gpu_check.md`` (each part's status and seconds, the benchmark
table) into ``--out`` (default ``$OUT`` if set, else a new folder under
``bench-results/``), prints it, and exits non-zero when any part failed.

Without CUDA it says "no CUDA device" and exits with status 2 at once.
``--dry-run`` runs the same three parts on the CPU at toy scale (CUDA tests
collected — they skip —, the first notebook in fast mode, a 32/48 px bench of
two rows): a smoke test of this script on any machine
(``tests/test_gpu_check.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # this checkout's stylelab, whatever is installed
    sys.path.insert(0, str(ROOT))
NO_CUDA = 2  # exit status without a CUDA device

#: Seconds per part (total 450 s, under the 8-minute target with start-up and the report).
BUDGET = {"tests": 90, "notebooks": 260, "bench": 100}
BENCH_SIZES = ("512", "1024", "2048", "4096")


def cuda_summary() -> tuple[bool, str]:
    """(CUDA usable?, one line saying what torch sees)."""
    import torch

    if not torch.cuda.is_available():
        build = torch.version.cuda or "none (CPU-only build)"
        return False, f"torch {torch.__version__}, CUDA build {build}, torch.cuda.is_available() is False"
    props = torch.cuda.get_device_properties(0)
    return True, f"torch {torch.__version__}, {torch.cuda.device_count()} × {props.name} ({props.total_memory / 2**30:.0f} GiB)"


def run_part(cmd: list[str], env: dict, timeout: float, log: Path) -> tuple[str, float, str]:
    """Run ``cmd`` with a wall-clock limit; on overrun send SIGINT (bench keeps its cells), then kill.

    Returns ``(status, seconds, last lines of output)``; status is "ok", "FAILED (rc N)" or "TIMEOUT".
    """
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        status = None
        try:
            rc = proc.wait(timeout=max(1.0, timeout))
        except subprocess.TimeoutExpired:
            status = "TIMEOUT"
            os.killpg(proc.pid, signal.SIGINT)
            try:
                rc = proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                rc = proc.wait()
    seconds = time.perf_counter() - t0
    if status is None:
        status = "ok" if rc == 0 else f"FAILED (rc {rc})"
    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
    return status, seconds, "\n".join(tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=None, help="folder for gpu_check.md and the logs (default $OUT, else bench-results/gpu-check-<time>)")
    parser.add_argument("--dry-run", action="store_true", help="the same parts on the CPU at toy scale (tests this script)")
    parser.add_argument("--budget-scale", type=float, default=1.0, help="multiply every part's time budget")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    ok, seen = cuda_summary()
    if not ok and not args.dry_run:
        print(f"gpu-check: no CUDA device ({seen}). Nothing was run: this check needs a machine with an NVIDIA GPU.",
              file=sys.stderr)
        return NO_CUDA
    device = "cuda" if not args.dry_run else "cpu"
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out or os.environ.get("OUT") or ROOT / "bench-results" / f"gpu-check-{stamp}")
    out.mkdir(parents=True, exist_ok=True)
    report = out / "gpu_check.md"
    if report.exists():
        report = out / f"gpu_check-{stamp}.md"  # never overwrite an earlier report
    budget = {k: v * args.budget_scale for k, v in BUDGET.items()}
    py = sys.executable
    env = dict(os.environ, STYLELAB_DEVICE=device, STYLELAB_RANDOM_WEIGHTS="1", STYLELAB_OFFLINE="1", MPLBACKEND="Agg",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("STYLELAB_FAST", None)  # full mode: what students run
    rows: list[tuple[str, str, float, str]] = []

    # 1. tests marked cuda (only the files that have some: collecting the whole suite takes long)
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                   if "mark.cuda" in p.read_text(encoding="utf-8"))
    status, sec, tail = run_part([py, "-m", "pytest", "-m", "cuda", *files, "-q", "-p", "no:cacheprovider"],
                                 env, budget["tests"], out / "tests.log")
    rows.append(("unit tests marked cuda", status, sec, tail.splitlines()[-1] if tail else ""))

    # 2. notebooks, one at a time, full mode on the device (dry run: the first one, fast mode)
    notebooks = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    nb_env = dict(env)
    if args.dry_run:
        notebooks = notebooks[:1]
        nb_env["STYLELAB_FAST"] = "1"
    deadline = time.perf_counter() + budget["notebooks"]
    for nb in notebooks:
        left = deadline - time.perf_counter()
        if left < 5:
            rows.append((f"notebook {nb.name}", "SKIPPED (notebook budget spent)", 0.0, ""))
            continue
        cmd = [py, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider", "-q",
               str(nb.relative_to(ROOT))]
        status, sec, tail = run_part(cmd, nb_env, left, out / f"{nb.stem}.log")
        rows.append((f"notebook {nb.name}", status, sec, tail.splitlines()[-1] if tail else ""))

    # 3. the benchmark table on the device
    bench_out = out / "bench"
    sizes = BENCH_SIZES if not args.dry_run else ("32", "48")
    cmd = [py, "-m", "stylelab.cli", "bench", "--device", device, "--sizes", *sizes, "--random-weights",
           "--iterations", "10", "--max-seconds", "20", "--out", str(bench_out), "--no-progress"]
    from stylelab import bench  # rows: feed-forward and pixel first, the optimisation rows (slowest) last

    order = bench.method_names("feed-forward") + bench.method_names("pixel") + bench.method_names("optimisation")
    cmd += ["--methods", *(order if not args.dry_run else ["pixel-adain", "adain"])]
    status, sec, tail = run_part(cmd, env, budget["bench"], out / "bench.log")
    rows.append((f"stylelab bench {'/'.join(sizes)} px", status, sec, ""))
    tables = sorted(bench_out.glob("*/results.md"))

    total = time.perf_counter() - start
    lines = [f"# gpu-check {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}" + (" (DRY RUN on the CPU)" if args.dry_run else ""),
             "", f"{seen}; STYLELAB_DEVICE={device}, random weights, total {total:.0f} s "
             f"(budget {sum(budget.values()):.0f} s)", "",
             "| part | status | seconds | last line |", "|---|---|---|---|"]
    lines += [f"| {name} | {status} | {sec:.1f} | {last.replace('|', '/')[:100]} |" for name, status, sec, last in rows]
    lines += ["", f"Logs: {out}", ""]
    if tables:
        lines += ["## stylelab bench", "", tables[-1].read_text(encoding="utf-8")]
    else:
        lines += ["## stylelab bench", "", "no table written (see bench.log)"]
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"wrote {report}")
    failed = [r for r in rows if not r[1].startswith("ok")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
