#!/usr/bin/env python3
"""Run course notebooks the way a student does and print how long each takes.

    python tools/time_notebooks.py                     # every notebook, full mode (the default settings)
    python tools/time_notebooks.py 02_gatys --slowest 8
    python tools/time_notebooks.py --fast              # the CI mode (STYLELAB_FAST=1)
    python tools/time_notebooks.py --threads 1         # a bound that holds on a busy machine

Each notebook runs in a fresh kernel (nbclient) with random weights allowed
when no checkpoint is installed, downloads off and the Agg backend. The
table gives, per notebook, the wall-clock time, the CPU time of the kernel
process (on a shared machine wall time grows with the load; CPU time much
less so) and the 1-minute load average before and after, then the totals.
The kernel's peak resident memory (VmHWM, read after every cell) is listed too:
it is what a Binder or JupyterHub memory limit has to hold. ``--slowest N`` lists each notebook's N slowest cells (wall time from the
execution timestamps nbclient records, and the kernel's CPU time per cell),
which is where to look when a notebook is slow. On a shared machine, torch's
threads spin while they wait for a core, so both wall and CPU time grow with
the load; with ``--threads 1`` nothing spins, the kernel's CPU time barely
depends on the load, and it bounds the notebook's quiet wall time from above
(a second core can only make the wall time shorter).
Budget (README): ≤ 10 min per notebook and ≤ 30 min for the course in full mode
on two CPU cores. Nothing is written back to the notebooks.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def _kernel_cpu_seconds() -> float | None:
    """User + system CPU time of this process's children (the kernel), or None without psutil."""
    try:
        import psutil
    except ImportError:
        return None
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            t = child.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _kernel_peak_mib() -> float | None:
    """Largest peak resident set (VmHWM, Linux) among this process's children — the kernel — in MiB."""
    try:
        import psutil
    except ImportError:
        return None
    peak = None
    for child in psutil.Process().children(recursive=True):
        try:
            for line in Path(f"/proc/{child.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    kib = int(line.split()[1])
                    peak = max(peak or 0.0, kib / 1024)
        except (OSError, ValueError):
            pass
    return peak


def _cell_seconds(cell) -> float | None:
    ex = cell.get("metadata", {}).get("execution", {})
    start, end = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def run_one(path: Path, timeout: int) -> dict:
    """Execute one notebook; return wall/CPU seconds, loads, status and per-cell times."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    cpu: dict = {"cells": {}}

    def after_cell(cell_index, **_):  # read the kernel's CPU time and peak memory after each cell (it is gone after the last)
        peak = _kernel_peak_mib()
        if peak is not None:
            cpu["peak"] = max(cpu.get("peak", 0.0), peak)
        now = _kernel_cpu_seconds()
        if now is not None:
            cpu["cells"][cell_index] = now - cpu.get("end", 0.0)
            cpu["end"] = now

    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
        on_cell_executed=after_cell,
    )
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    status = "ok"
    try:
        client.execute()
    except CellExecutionError as err:
        status = "FAILED: " + str(err).strip().splitlines()[-1][:80]
    except Exception as err:  # timeout, dead kernel
        status = f"FAILED: {type(err).__name__}: {str(err)[:80]}"
    wall = time.perf_counter() - t0
    cells = [(i, _cell_seconds(c), cpu["cells"].get(i), "".join(c["source"]).strip().splitlines()[0][:60] if c["source"] else "")
             for i, c in enumerate(nb.cells) if c["cell_type"] == "code"]
    return {"name": path.stem, "wall": wall, "cpu": cpu.get("end"), "peak": cpu.get("peak"), "load0": load0, "load1": os.getloadavg()[0],
            "status": status, "cells": cells}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="*", help="names like 02_gatys (default: every notebook)")
    ap.add_argument("--fast", action="store_true", help="STYLELAB_FAST=1 (the CI mode) instead of full mode")
    ap.add_argument("--slowest", type=int, default=0, metavar="N", help="list each notebook's N slowest cells")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per cell before giving up (default 1800)")
    ap.add_argument("--threads", type=int, default=0, metavar="N",
                    help="run each kernel with N torch/OpenMP threads (default: torch's choice). With --threads 1 the "
                         "kernel's CPU time is a load-proof upper bound on its quiet wall time on any number of cores")
    args = ap.parse_args(argv)

    os.environ.update(STYLELAB_RANDOM_WEIGHTS="1", STYLELAB_OFFLINE="1", MPLBACKEND="Agg")
    if args.fast:
        os.environ["STYLELAB_FAST"] = "1"
    else:
        os.environ.pop("STYLELAB_FAST", None)
    if args.threads:
        os.environ.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)

    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.notebooks:
        wanted = [n.removesuffix(".ipynb") for n in args.notebooks]
        paths = [p for p in paths if p.stem in wanted]
        missing = set(wanted) - {p.stem for p in paths}
        if missing:
            raise SystemExit(f"no notebook {', '.join(sorted(missing))} in {NOTEBOOKS}")

    mode = "fast" if args.fast else "full"
    print(f"# {mode} mode, {os.cpu_count()} CPUs visible, torch threads: {args.threads or 'default'}; "
          f"load average at start {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    for path in paths:
        r = run_one(path, args.timeout)
        rows.append(r)
        cpu = f"{r['cpu']:.0f}" if r["cpu"] is not None else "?"
        peak = f"{r['peak']:.0f}" if r["peak"] is not None else "?"
        print(f"  {r['name']:<28} {r['wall']:7.0f} s wall  {cpu:>6} s CPU  {peak:>6} MiB peak  load {r['load0']:.1f}→{r['load1']:.1f}  "
              f"{r['status']}", flush=True)
        if args.slowest:
            timed = sorted((c for c in r["cells"] if c[1] is not None), key=lambda c: -c[1])[: args.slowest]
            for i, sec, cpu_s, first in timed:
                cpu_txt = f"{cpu_s:7.1f} s CPU" if cpu_s is not None else ""
                print(f"      cell {i:>3}  {sec:7.1f} s wall {cpu_txt}  {first}")

    print(f"\n| notebook ({mode} mode) | wall (s) | kernel CPU (s) | kernel peak RSS (MiB) | load 1 min (start→end) | status |")
    print("|---|---:|---:|---:|---|---|")
    for r in rows:
        cpu = f"{r['cpu']:.0f}" if r["cpu"] is not None else "?"
        peak = f"{r['peak']:.0f}" if r["peak"] is not None else "?"
        print(f"| {r['name']} | {r['wall']:.0f} | {cpu} | {peak} | {r['load0']:.1f}→{r['load1']:.1f} | {r['status']} |")
    total = sum(r["wall"] for r in rows)
    cpu_total = sum(r["cpu"] or 0 for r in rows)
    peak_max = max((r["peak"] for r in rows if r["peak"] is not None), default=None)
    print(f"| **total** | **{total:.0f}** | **{cpu_total:.0f}** | max {peak_max or 0:.0f} | | |")
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
