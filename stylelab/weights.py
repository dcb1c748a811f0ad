"""The weights resolver: find, download, validate, convert and load the checkpoints of the table.

The checkpoints themselves are data in :mod:`stylelab.checkpoints` (file
name, URL, licence, official keys and shapes, rename map, SHA-256 prefix);
this module imports nothing else from stylelab, so every model can use it.

Resolution order for a checkpoint (:func:`resolve`):

1. an explicit path given by the caller;
2. the folder named by ``$STYLELAB_WEIGHTS_DIR``;
3. torch's hub cache (``torch.hub.get_dir()/checkpoints``, normally
   ``~/.cache/torch/hub/checkpoints``), where torchvision keeps its downloads too;
4. a download with a progress bar into that cache — unless the checkpoint has
   no public URL (non-commercial licences: the user supplies the file) or
   ``$STYLELAB_OFFLINE=1``.

When everything fails, :class:`WeightsNotFoundError` names the file, the URL,
the licence and where to put the file. Random weights are used only when asked
for explicitly (``random=True`` or ``$STYLELAB_RANDOM_WEIGHTS=1``), with a
warning every time. A corrupt or mismatched file raises
:class:`CheckpointMismatchError` listing missing and unexpected keys and shape
mismatches.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Callable, Mapping

import torch

from .checkpoints import TABLE, Checkpoint

ENV_DIR = "STYLELAB_WEIGHTS_DIR"
ENV_RANDOM = "STYLELAB_RANDOM_WEIGHTS"
ENV_OFFLINE = "STYLELAB_OFFLINE"

#: The checkpoint table (:data:`stylelab.checkpoints.TABLE`), by name.
REGISTRY: dict[str, Checkpoint] = TABLE
#: Former name of :class:`stylelab.checkpoints.Checkpoint`.
WeightSpec = Checkpoint


class WeightsNotFoundError(FileNotFoundError):
    """A checkpoint is neither on disk nor downloadable right now."""


class CheckpointMismatchError(ValueError):
    """A checkpoint file is corrupt, or its keys/shapes are not the expected ones."""


class RandomWeightsWarning(UserWarning):
    """A model runs with random weights: its outputs are not the method's."""


warnings.simplefilter("always", RandomWeightsWarning)


def get(name: str) -> Checkpoint:
    """The table entry ``name``, with the list of names when it is unknown."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"No checkpoint named {name!r}. Known: {', '.join(sorted(REGISTRY))}.") from None


def names() -> list[str]:
    """Names of every checkpoint in the table."""
    return list(REGISTRY)


# ---------------------------------------------------------------------------- switches
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


# ---------------------------------------------------------------------------- locating files
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


def find(name: str, path: str | os.PathLike | None = None) -> Path | None:
    """The file for checkpoint ``name`` if it is already on disk (no download)."""
    spec = get(name)
    if path is not None:
        p = Path(path).expanduser()
        return p if p.is_file() else None
    for d in search_dirs():
        candidate = d / spec.filename
        if candidate.is_file():
            return candidate
    return None


def _not_found_message(spec: WeightSpec, reason: str) -> str:
    where = "\n".join(f"    {d / spec.filename}" for d in search_dirs())
    get_it = (
        f"  Download it from {spec.url}\n  (or run `stylelab weights download {spec.name}` on a machine with internet)"
        if spec.url
        else f"  It has no public download URL: obtain it from {spec.source} yourself"
    )
    return (
        f"Checkpoint {spec.name!r} ({spec.filename}) is not available: {reason}.\n"
        f"{get_it}\n"
        f"  Licence: {spec.license}\n"
        f"  Put the file in one of:\n{where}\n"
        f"  or set ${ENV_DIR} to its folder, or pass its path explicitly.\n"
        f"  To run with RANDOM weights instead (smoke tests only), pass random=True (CLI: --random-weights) or set {ENV_RANDOM}=1."
    )


def download(name: str, progress: bool = True, force: bool = False) -> Path:
    """Download checkpoint ``name`` into the hub cache and return its path."""
    spec = get(name)
    dest = cache_dir() / spec.filename
    if dest.is_file() and not force:
        return dest
    if spec.url is None:
        raise WeightsNotFoundError(_not_found_message(spec, "it cannot be downloaded automatically"))
    if offline():
        raise WeightsNotFoundError(_not_found_message(spec, f"not on disk, and downloads are off (${ENV_OFFLINE}=1)"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        # torch.hub checks the SHA-256 prefix on the temporary file and only then moves it into place.
        torch.hub.download_url_to_file(spec.url, str(dest), hash_prefix=spec.sha256_prefix, progress=progress)
    except RuntimeError as err:
        if "invalid hash value" not in str(err):
            raise WeightsNotFoundError(_not_found_message(spec, f"the download failed (RuntimeError: {err})")) from err
        raise CheckpointMismatchError(
            f"The file downloaded from {spec.url} is not the published {spec.filename}: its SHA-256 does not "
            f"start with {spec.sha256_prefix} ({err}). Nothing was saved; try again, or download it by hand."
        ) from err
    except Exception as err:  # network errors come in many types
        raise WeightsNotFoundError(_not_found_message(spec, f"the download failed ({type(err).__name__}: {err})")) from err
    return dest


def resolve(name: str, path: str | os.PathLike | None = None, download_missing: bool = True) -> Path:
    """Path of checkpoint ``name`` following the resolution order (module docstring)."""
    spec = get(name)
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise WeightsNotFoundError(_not_found_message(spec, f"no file at the given path {p}"))
        return p
    found = find(name)
    if found is not None:
        return found
    if not download_missing:
        raise WeightsNotFoundError(_not_found_message(spec, "not found on disk"))
    return download(name)


# ---------------------------------------------------------------------------- loading
def read_checkpoint(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a ``.pth`` state dict on the CPU, with a clear error for corrupt files."""
    path = Path(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointMismatchError(
            f"{path} ({path.stat().st_size} bytes) could not be read as a PyTorch checkpoint "
            f"({type(err).__name__}: {err}). The file is corrupt or incomplete: delete it and download it again."
        ) from err
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


def load_state_dict(name: str, source=None, download_missing: bool = True) -> dict[str, torch.Tensor]:
    """The validated *official* state dict of checkpoint ``name``.

    ``source`` may be ``None`` (resolution order), a path, or a state dict.
    """
    spec = get(name)
    if isinstance(source, Mapping):
        state = dict(source)
    else:
        state = read_checkpoint(resolve(name, source, download_missing))
    validate(name, state)
    if spec.print_license_on_load:
        print(f"[stylelab] {spec.filename}: licence {spec.license}. {spec.note}", file=sys.stderr)
    return state


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


def load_into(
    module: torch.nn.Module,
    name: str,
    source=None,
    random: bool | None = None,
    download: bool = True,
    strict: bool = True,
    check_fixed: Callable[[Mapping[str, torch.Tensor]], None] | None = None,
) -> bool:
    """Load checkpoint ``name`` into ``module`` (converted to stylelab's names).

    Args:
        source: ``None`` (resolution order), a path, a state dict, or the string
            ``"random"`` (keep the module's random initialisation — explicit).
        random: allow random weights if the checkpoint cannot be found.
        strict: every key of ``module`` must be provided. With ``False`` the
            converted keys must still all belong to ``module`` and cover its
            parameters — only keys the module does not need (e.g. layers past
            a truncation) are dropped.
        check_fixed: for a checkpoint with ``fixed`` tensors (not learned, not
            loaded), a function of the official state dict that raises
            :class:`ValueError` when their values are wrong; required then.

    Returns:
        ``True`` if pretrained weights were loaded, ``False`` for random ones.
    """
    spec = get(name)
    what = f"{type(module).__name__} ({spec.name})"
    record = module.__dict__.setdefault("_stylelab_checkpoints", {})  # read by checkpoints_of
    record[name] = False
    if isinstance(source, str) and source == "random":
        warn_random(what, spec)
        return False
    if spec.fixed and check_fixed is None:
        raise TypeError(f"{spec.name} stores fixed tensors ({', '.join(spec.fixed)}): pass check_fixed=")
    try:
        official = load_state_dict(name, source, download_missing=download)
    except WeightsNotFoundError:
        if source is None and random_allowed(random):
            warn_random(what, spec)
            return False
        raise
    if check_fixed is not None:
        try:
            check_fixed(official)
        except ValueError as err:
            raise CheckpointMismatchError(str(err)) from None
    converted = convert(name, official)
    own = module.state_dict()
    if not strict:
        converted = {k: v for k, v in converted.items() if k in own}
    missing = [k for k in own if k not in converted]
    if missing:
        raise CheckpointMismatchError(f"{spec.filename} lacks weights for {what}: {', '.join(missing[:10])}")
    module.load_state_dict(converted, strict=True)
    record[name] = True
    return True


def synthetic_state_dict(name: str, seed: int = 0, std: float = 0.01) -> dict[str, torch.Tensor]:
    """A random state dict with the official keys and shapes of ``name``.

    For tests and demos: it loads and converts exactly like the real file. The
    values are random, so anything computed with it is not the method's output.
    """
    spec = get(name)
    g = torch.Generator().manual_seed(seed)
    return {k: torch.randn(*shape, generator=g) * std for k, shape in spec.shapes.items()}


def rows() -> list[dict[str, str]]:
    """One row per checkpoint for `stylelab weights list`."""
    out = []
    for spec in (get(n) for n in names()):
        found = find(spec.name)
        out.append({
            "name": spec.name,
            "file": spec.filename,
            "status": f"found: {found}" if found else ("downloadable" if spec.url else "supply it yourself"),
            "license": spec.license,
            "url": spec.url or f"(none) {spec.source}",
            "used_by": spec.used_by,
        })
    return out
