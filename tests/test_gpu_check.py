"""tools/gpu_check.py (``make gpu-check``): fails fast without CUDA, and its parts run (dry run on the CPU)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "gpu_check.py"


def _run(*args, timeout):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", PYTHONPATH=str(ROOT))  # no CUDA, even on a GPU machine
    env.pop("OUT", None)
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_without_cuda_it_says_so_and_stops(tmp_path):
    t0 = time.perf_counter()
    r = _run("--out", str(tmp_path / "out"), timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "no CUDA device" in r.stderr and "Nothing was run" in r.stderr
    assert not (tmp_path / "out").exists()  # no part started, no report pretending otherwise
    assert time.perf_counter() - t0 < 120


@pytest.mark.slow
def test_dry_run_runs_every_part_and_writes_the_report(tmp_path):
    r = _run("--dry-run", "--out", str(tmp_path), timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report = (tmp_path / "gpu_check.md").read_text()
    assert "DRY RUN" in report and "| unit tests marked cuda | ok |" in report
    assert "| notebook 00_start_here.ipynb | ok |" in report and "| stylelab bench 32/48 px | ok |" in report
    assert "| AdaIN | random |" in report  # the benchmark table itself, with its figures
    assert report.strip() in r.stdout  # printed too
    for log in ("tests.log", "00_start_here.log", "bench.log"):
        assert (tmp_path / log).stat().st_size > 0
