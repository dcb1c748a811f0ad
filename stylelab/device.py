"""Choosing the device a computation runs on, and the device rule.

The rule (the same on CUDA, MPS and the CPU, so that a notebook cell written
on a laptop runs unchanged on a GPU machine):

1. **Models are placed by** :func:`get_device`: every loader
   (``from_official(device=None)``, ``encoders.vgg19(device=None)``,
   ``gatys.get_encoder``…) puts its model on ``get_device(device)``: the
   argument, else ``$STYLELAB_DEVICE``, else CUDA → MPS → CPU.
2. **Inputs follow the model**: a model's public entry points (``stylize``,
   ``encode``, ``forward``…) and functions given a model (``encoder=``) move
   their image and label inputs to the model's device, images also to its
   floating dtype (:func:`follow`). The result comes back on the model's device.
3. **Functions without a model** compute on the device and dtype of their
   first image; other image/label arguments are moved there (``smooth(image,
   guide)``, ``metrics.ssim(output, reference)``). Feature-level operations
   (``transforms``, ``stats``, ``losses``) compute where their inputs are.
4. Figures and files (:mod:`stylelab.viz`, :mod:`stylelab.io`) accept tensors
   on any device.

Moving a tensor that is already in place costs nothing (``Tensor.to`` returns it).
"""

from __future__ import annotations

import os

import torch

ENV_VAR = "STYLELAB_DEVICE"
#: Device types stylelab runs on; any other (``"meta"``: tensors without values) is refused by :func:`get_device`.
SUPPORTED_TYPES: tuple[str, ...] = ("cpu", "cuda", "mps")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def get_device(device: str | int | torch.device | None = None) -> torch.device:
    """Return the device to use: the one check every ``device=`` argument of stylelab goes through.

    Args:
        device: ``"cuda"``, ``"cuda:1"``, ``"mps"``, ``"cpu"``, ``"auto"``, a
            :class:`torch.device`, an integer ``N`` (torch's convention: CUDA
            device ``N``, so ``0`` is ``"cuda:0"``, never the CPU), or ``None``.
            ``None`` and ``"auto"`` consult ``$STYLELAB_DEVICE`` and then pick
            CUDA → MPS → CPU.

    Raises:
        RuntimeError: the requested device does not exist on this machine, with
            the devices that do.
        TypeError: ``device`` is none of the above (e.g. ``True`` or a float).
    """
    if isinstance(device, torch.device):
        requested = device
    elif isinstance(device, int) and not isinstance(device, bool):
        if device < 0:
            raise RuntimeError(f"Device {device} does not exist: an integer device is a CUDA index (0, 1, …); "
                               f"use one of: {', '.join(available_devices())}.")
        requested = torch.device("cuda", device)
    elif device is not None and not isinstance(device, str):
        raise TypeError(f"device must be a name ('cpu', 'cuda', 'cuda:N', 'mps', 'auto'), a torch.device or a CUDA "
                        f"index, got {device!r} ({type(device).__name__})")
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
    if requested.type not in SUPPORTED_TYPES:
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


def device_of(obj) -> torch.device:
    """The device of a tensor, or of a module's first parameter (or buffer); CPU for a module without any."""
    if isinstance(obj, torch.Tensor):
        return obj.device
    for t in obj.parameters():
        return t.device
    for t in obj.buffers():
        return t.device
    return torch.device("cpu")


def _floating_dtype(obj) -> torch.dtype | None:
    if isinstance(obj, torch.Tensor):
        return obj.dtype if obj.is_floating_point() else None
    for t in obj.parameters():
        if t.is_floating_point():
            return t.dtype
    return None


def follow(ref, *tensors, dtype: bool = True):
    """Move ``tensors`` to the device of ``ref`` (a module or a tensor): rule 2/3 of the module docstring.

    Floating tensors (images, features) also take ``ref``'s floating dtype
    unless ``dtype=False``; integer tensors (label maps) keep theirs. ``None``
    passes through and lists/tuples are followed element by element. Returns
    the moved tensors (one value for one argument, a tuple otherwise).
    """
    device = device_of(ref)
    target = _floating_dtype(ref) if dtype else None

    def move(t):
        if t is None:
            return None
        if isinstance(t, (list, tuple)):
            return type(t)(move(x) for x in t)
        if not isinstance(t, torch.Tensor):
            return t
        if target is not None and t.is_floating_point():
            return t.to(device=device, dtype=target)
        return t.to(device)

    out = tuple(move(t) for t in tensors)
    return out[0] if len(out) == 1 else out


def synchronize(device: torch.device | str | None) -> None:
    """Wait for queued kernels on ``device`` (needed before reading a timer)."""
    device = torch.device(device) if device is not None else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps" and _mps_available():
        torch.mps.synchronize()
