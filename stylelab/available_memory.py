"""Memory a device can still give a run: free CUDA memory, MPS's budget, or the host's available memory.

On the CPU, ``MemAvailable`` from ``/proc/meminfo`` (what the kernel can hand
out without swapping), capped by this process's cgroup limit (v2, then v1) so
a container's limit is respected; ``psutil`` or ``sysconf`` elsewhere.
:mod:`stylelab.memory` compares its peak-memory estimates with this figure.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .device import get_device

__all__ = ["available_bytes"]


def _cgroup_limit() -> int | None:
    """Memory left under this process's cgroup limit (v2, then v1), or None."""
    for limit_f, usage_f in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                             ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_f).read_text().strip()
            usage = int(Path(usage_f).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or not limit.isdigit() or int(limit) >= 1 << 60:
            return None
        return max(0, int(limit) - usage)
    return None


def _cpu_available() -> int:
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            import psutil  # optional

            avail = int(psutil.virtual_memory().available)
        except ImportError:
            try:
                avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            except (ValueError, OSError, AttributeError):
                avail = 1 << 62  # unknown: do not refuse
    cg = _cgroup_limit()
    return min(avail, cg) if cg is not None else avail


def available_bytes(device=None) -> int:
    """Bytes the device can still give: free CUDA memory, MPS's recommended budget
    minus what is allocated, or the host's available memory (``MemAvailable``,
    capped by a cgroup limit) for the CPU."""
    dev = get_device(device)
    if dev.type == "cuda":
        free, _total = torch.cuda.mem_get_info(dev)
        # memory cached by this process's allocator is free for its own tensors
        return int(free + torch.cuda.memory_reserved(dev) - torch.cuda.memory_allocated(dev))
    if dev.type == "mps":
        try:
            return int(torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory())
        except (AttributeError, RuntimeError):
            return _cpu_available()
    return _cpu_available()
