"""The C heap's policy for large tensors: keep freed memory for the next tensor instead of returning it.

On Linux, glibc's ``malloc`` serves every block above a threshold (128 KiB,
rising to at most 32 MiB) with a fresh ``mmap`` and gives it back with
``munmap`` when it is freed. A convolutional network on a large image frees
and allocates feature maps of tens to hundreds of MB at every layer, so every
layer's output is a new mapping whose pages the kernel must fault in and zero,
one 4 KiB page at a time. Measured on the 2-core CPU of BENCHMARKS.md
(AdaIN at 768², 1 thread, one process each): 1.31 M minor page faults per
image and 1.9 s of system time for 4.2 s of user time; with the policy below
83 k faults and 0.12 s, the same peak memory (1.27 vs 1.30 GiB), 4.74 s
wall instead of 8.62 s (load 0.8–1.5). At 12 MP the faults were 100–550 s of system time per run.

:func:`keep_freed_memory` sets ``mallopt(M_MMAP_MAX, 0)`` (large blocks come
from the heap, like small ones) and ``mallopt(M_TRIM_THRESHOLD, 2³¹ − 1)``
(the heap's free top is not returned to the kernel), so a freed feature map's
pages, already faulted in, serve the next one.

**The cost, and why it is opt-in** (``STYLELAB_KEEP_FREED=1`` for the ``stylelab`` command; importing
stylelab changes nothing): the heap cannot hand holes back, and a large tensor that fits no hole extends
it, so the peak grows. Measured: AdaIN at 768² 1.27 → 1.30 GiB; WCT² in 512 px tiles on 1024×768
1.09 → 1.22 GiB (and 1.54 M → 87 k faults, system 2.7 → 0.2 s); WCT² at 4000×3000 in 6 tiles of
1536×1376 **8.46 GiB**, over the 8 GB that ``--tile auto`` plans for (predicted 6.4 GiB; 2 threads,
``benchmarks/bench_12mp.py``). Until :mod:`stylelab.memory` accounts for it, the default stays glibc's.
With the 1024 px tiles that ``--tile auto`` now takes on a CPU the trade is smaller (4000×3000, 2 quiet
threads, glibc's default → this policy): AdaIN 81 → 52 s wall, peak 1.96 → 2.13 GiB; WCT² 119 → 83 s,
2.92 → 3.97 GiB (system time 57 → 0 s and 68 → 4 s).
The process also keeps its high-water mark until it exits (wrong for a notebook kernel). The same
policy is glibc's environment ``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1  # glibc's <malloc.h> parameter numbers
_M_MMAP_MAX = -4


def keep_freed_memory() -> bool:
    """Keep freed heap memory in the process (glibc on Linux); ``True`` when applied, ``False`` elsewhere.

    Call it once, early, in a program (not a library or a notebook): see the module docstring.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other C libraries have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
