"""stylelab.memory: the estimate against measured peaks, the budget check and its advice."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from stylelab import memory
from stylelab import available_memory

ROOT = Path(__file__).resolve().parent.parent


def test_estimate_grows_with_pixels_and_dtype():
    a = memory.estimate_peak_bytes("adain", 512, 512)
    b = memory.estimate_peak_bytes("adain", 1024, 1024)
    assert b > 3 * (a - memory.estimate_peak_bytes("adain", 1, 1))
    assert memory.estimate_peak_bytes("adain", 512, 512, dtype=torch.float64) > a
    # a tile bounds the activations: a 12 MP image in 512-px tiles (statistics from a 512 px thumbnail) costs one
    # 512² run plus the process and the full-size buffers (stylelab.tiling; tests/test_tiling.py)
    tiled = memory.estimate_peak_bytes("adain", 3000, 4000, tile=512, thumbnail=512, style_hw=(512, 512))
    assert tiled == a + memory.PROCESS_BYTES + memory.TILE_FULL_BPP * 3000 * 4000


def test_the_issue_case_adain_at_size_4000_is_refused_with_a_size_that_fits():
    with pytest.raises(memory.MemoryBudgetError) as err:
        memory.check_fits("adain", 4000, 6000, style_hw=(4000, 4000), available=8 * 2**30)
    e = err.value
    assert e.needed > 0.8 * e.available and e.suggestion is not None
    assert "--size" in str(e) and "--tile auto" in str(e) and "GiB" in str(e)
    sh, sw = e.suggestion
    assert abs(sw / sh - 1.5) < 0.01  # the aspect is kept
    assert memory.check_fits("adain", sh, sw, style_hw=(min(sh, 4000), min(sh, 4000)), available=8 * 2**30) > 0


def test_radius_30_smoothing_is_predicted_in_hundreds_of_gib():
    need = memory.estimate_peak_bytes("smooth", 1000, 1000, mode="direct", radius=30)
    assert need > 100 * 2**30


def test_available_bytes_is_positive_and_below_physical_memory():
    import os

    avail = available_memory.available_bytes("cpu")
    assert 0 < avail <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


@pytest.mark.parametrize("err,oom", [
    (RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 6.1 GB"), True),
    (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), True),
    (MemoryError(), True),
    (RuntimeError("Padding size should be less than the corresponding input dimension"), False),
    (ValueError("not enough memory"), False),
])
def test_is_out_of_memory(err, oom):
    assert memory.is_out_of_memory(err) is oom


def test_advice_for_oom_names_the_figures():
    e = memory.advice_for_oom(RuntimeError("out of memory"), "wct", 3000, 4000)
    assert isinstance(e, memory.MemoryBudgetError) and "ran out of memory" in str(e) and "WCT" in str(e)


def test_unknown_method_is_a_clear_error():
    with pytest.raises(ValueError, match="knows gatys, adain"):
        memory.estimate_peak_bytes("cyclegan", 10, 10)


@pytest.mark.slow
@pytest.mark.parametrize("cell", [("adain", 256, 256), ("wct2", 256, 64), ("smooth:ilu", 192, 192)], ids=str)
def test_estimate_is_within_the_stated_factor_of_the_measured_peak(cell):
    """One fresh subprocess per cell (benchmarks/bench_memory.py; its full table is in BENCHMARKS.md)."""
    spec = importlib.util.spec_from_file_location("bench_memory", ROOT / "benchmarks" / "bench_memory.py")
    bm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bm)
    est, got = bm.estimate(*cell), bm.measure(*cell)
    assert 1 / memory.FACTOR <= est / got <= memory.FACTOR, (est, got)
