"""The training checkpoint: one file format and one mechanism for every trainer.

:func:`open_checkpoint` says where a run saves and restores the state it
resumes from; :func:`save_checkpoint` writes it atomically. Both are used by
:func:`stylelab.train.fit` and by trainers with their own loop (CycleGAN's two
optimisers, :func:`stylelab.methods.cyclegan.train`). A file that belongs to
another run (other modules or shapes, or not a stylelab checkpoint) is never
overwritten: :class:`CheckpointConflictError`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Mapping

import torch
import torch.nn as nn

from ..io import unique_path

__all__ = ["FORMAT", "CheckpointConflictError", "open_checkpoint", "save_checkpoint", "load_module_state"]

FORMAT = "stylelab-train-v1"


class CheckpointConflictError(ValueError):
    """A checkpoint file exists but belongs to a different training run."""


def _signature(modules: Mapping[str, nn.Module]) -> str:
    """Identifies a run by its modules' names, parameter names and shapes."""
    h = hashlib.sha1()
    for name in sorted(modules):
        for key, t in modules[name].state_dict().items():
            h.update(f"{name}.{key}:{tuple(t.shape)};".encode())
    return h.hexdigest()[:16]


def _save(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)  # atomic: a crash never leaves half a checkpoint


def check_writable(path: Path, what: str = "checkpoint") -> Path:
    """Raise before any training unless ``path`` can be written (its folder exists or can be made, and takes files).

    Tried for real (a temporary file is created and removed in the nearest existing folder), so a
    read-only file system, a folder without permission or a parent that is a file fail now with the
    path named, not at the first save after hours of work.
    """
    if path.is_dir():
        raise IsADirectoryError(f"{what} {path} is a folder; give a file name (e.g. {path / 'run.ckpt'})")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(f"{what} {path} cannot be written: {folder} is a file, not a folder; "
                                 "choose another --checkpoint path")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".stylelab-", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise PermissionError(f"{what} {path} cannot be written ({err.strerror or err} in {folder}); "
                              "choose a writable --checkpoint path") from err
    return path


def _read(path: Path) -> dict:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)  # never unpickle arbitrary code
    except Exception as err:
        raise CheckpointConflictError(
            f"{path} exists but is not a readable checkpoint ({type(err).__name__}: {err}). "
            "Choose another checkpoint path; stylelab will not overwrite it."
        ) from err
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointConflictError(
            f"{path} exists and is not a stylelab training checkpoint (a pretrained file?). "
            "Choose another checkpoint path; stylelab will not overwrite it."
        )
    return obj


def load_module_state(checkpoint, name: str = "decoder") -> dict[str, torch.Tensor]:
    """The state dict of module ``name`` saved by :func:`stylelab.train.fit` in ``checkpoint`` (for ``load_state_dict``)."""
    obj = _read(Path(checkpoint))
    if name not in obj["modules"]:
        raise KeyError(f"{checkpoint} holds modules {sorted(obj['modules'])}, not {name!r}")
    return obj["modules"][name]


def open_checkpoint(checkpoint, modules: Mapping[str, nn.Module], optimizers: Mapping[str, torch.optim.Optimizer],
                    *, resume: bool = True) -> tuple[Path | None, dict | None]:
    """Where a training run saves, and the state it resumes from (the one checkpoint mechanism of every trainer).

    ``checkpoint=None``: no file, ``(None, None)``. A file that does not exist
    yet: ``(path, None)``. An existing file with ``resume=True``: it must be a
    checkpoint of the same run — the same module names, parameter names and
    shapes (its ``signature``) and the same optimiser names — else
    :class:`CheckpointConflictError`; the saved weights are loaded into
    ``modules`` and the optimiser states into ``optimizers`` (in place), and
    the whole saved dictionary is returned (``step``, ``history``, ``config``
    and whatever else the trainer saved) as ``(path, state)``. With
    ``resume=False`` the file is kept and the run writes to a free name
    ``name-1.pth`` instead (with a warning): ``(new_path, None)``.
    """
    path = Path(checkpoint).expanduser() if checkpoint is not None else None
    if path is None:
        return path, None
    if not path.exists():
        return check_writable(path), None
    if not resume:
        new = unique_path(path)
        warnings.warn(f"{path} exists and resume=False: saving this run to {new} instead", stacklevel=3)
        return check_writable(new), None
    state = _read(check_writable(path))
    if "optimizers" not in state and "optimizer" in state:  # files written before trainers had several optimisers
        state["optimizers"] = {"adam": state.pop("optimizer")}
    if state.get("signature") != _signature(modules) or set(state.get("optimizers", {})) != set(optimizers):
        raise CheckpointConflictError(
            f"{path} belongs to a different training run (modules {sorted(state.get('modules', {}))}, "
            f"optimisers {sorted(state.get('optimizers', {}))}; this run has {sorted(modules)}, {sorted(optimizers)}, "
            "or other shapes). Give a new checkpoint path, or delete the file yourself."
        )
    for name, m in modules.items():
        m.load_state_dict(state["modules"][name])
    for name, opt in optimizers.items():
        opt.load_state_dict(state["optimizers"][name])
    return path, state


def save_checkpoint(path, modules: Mapping[str, nn.Module], optimizers: Mapping[str, torch.optim.Optimizer], *,
                    step: int, history: Mapping, config: Mapping, **extra) -> None:
    """Write a training checkpoint atomically (nothing when ``path`` is ``None``).

    The file holds ``{"format", "signature", "step", "config", "history",
    "modules": {name: state_dict}, "optimizers": {name: state_dict}, **extra}``
    on the CPU, readable with ``torch.load(..., weights_only=True)``; ``extra``
    is trainer-specific state (random-number generators, image pools), plain
    tensors, numbers, strings, lists, tuples and dicts only.
    """
    if path is None:
        return
    _save(Path(path), {
        "format": FORMAT, "signature": _signature(modules), "step": int(step), "config": dict(config),
        "history": dict(history),
        "modules": {n: {k: v.detach().cpu() for k, v in m.state_dict().items()} for n, m in modules.items()},
        "optimizers": {n: opt.state_dict() for n, opt in optimizers.items()},
        **extra,
    })
