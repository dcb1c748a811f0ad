"""Choosing the device a computation runs on.

Order of preference: an explicit argument, then the ``STYLELAB_DEVICE``
environment variable, then CUDA, then Apple's MPS, then the CPU. Every
function in stylelab computes on the device of its inputs; this helper only
decides where models and images *start*.
"""

from __future__ import annotations

import os

import torch

ENV_VAR = "STYLELAB_DEVICE"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def get_device(device: str | torch.device | None = None) -> torch.device:
    """Return the device to use.

    Args:
        device: ``"cuda"``, ``"cuda:1"``, ``"mps"``, ``"cpu"``, ``"auto"``, a
            :class:`torch.device`, or ``None``. ``None`` and ``"auto"`` consult
            ``$STYLELAB_DEVICE`` and then pick CUDA → MPS → CPU.

    Raises:
        RuntimeError: the requested device does not exist on this machine, with
            the devices that do.
    """
    if isinstance(device, torch.device):
        requested = device
    else:
        name = (device or os.environ.get(ENV_VAR, "") or "auto").strip().lower()
        if name == "auto":
            if torch.cuda.is_available():
                return torch.device("cuda")
            if _mps_available():
                return torch.device("mps")
            return torch.device("cpu")
        try:
            requested = torch.device(name)
        except RuntimeError as err:
            raise RuntimeError(
                f"Unknown device {name!r}. Use one of 'auto', 'cpu', 'cuda', 'cuda:N', 'mps' "
                f"(argument or ${ENV_VAR})."
            ) from err
    if requested.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"Device {str(requested)!r} was requested but CUDA is not available here "
                f"(available: {', '.join(available_devices())}). Unset ${ENV_VAR} or pass device='cpu'."
            )
        if requested.index is not None and requested.index >= torch.cuda.device_count():
            raise RuntimeError(
                f"Device {str(requested)!r} does not exist: this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)."
            )
    if requested.type not in ("cpu", "cuda", "mps"):
        raise RuntimeError(
            f"Device {str(requested)!r} cannot run stylelab ('meta' tensors hold no values; other backends are "
            f"untested). Use one of: {', '.join(available_devices())}."
        )
    if requested.type == "mps" and not _mps_available():
        raise RuntimeError(
            f"Device 'mps' was requested but MPS is not available here "
            f"(available: {', '.join(available_devices())})."
        )
    return requested


def available_devices() -> list[str]:
    """Names of the devices torch can use on this machine, CPU last."""
    names = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    if _mps_available():
        names.append("mps")
    names.append("cpu")
    return names


def describe(device: torch.device | None = None) -> str:
    """A one-line human description of ``device`` (GPU name and memory for CUDA)."""
    device = get_device(device)
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{device} ({props.name}, {props.total_memory / 2**30:.0f} GiB)"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({torch.get_num_threads()} threads)"


def synchronize(device: torch.device | str | None) -> None:
    """Wait for queued kernels on ``device`` (needed before reading a timer)."""
    device = torch.device(device) if device is not None else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps" and _mps_available():
        torch.mps.synchronize()
