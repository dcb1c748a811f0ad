"""binder/ describes a CPU-only environment with the lock's versions (Binder's machines have 1-2 GB)."""

import re
import tomllib
from pathlib import Path

from tests.test_packaging import _norm, lock_pins

ROOT = Path(__file__).resolve().parent.parent
ENV = ROOT / "binder" / "environment.yml"


def _lines():
    return [ln.split("#")[0].rstrip() for ln in ENV.read_text().splitlines() if ln.split("#")[0].strip()]


def test_binder_takes_cpu_only_torch_at_the_locked_versions():
    pins = lock_pins()
    conda = dict(re.findall(r"^\s*-\s*([a-z][\w.-]*)=([\w.]+)\s*$", "\n".join(_lines()), re.M))
    assert conda["pytorch-cpu"] == pins["torch"] and conda["torchvision"] == pins["torchvision"]
    assert "conda-forge" in _lines()[2] or any("conda-forge" in ln for ln in _lines())
    text = "\n".join(_lines()).lower()
    assert "cuda" not in text and "nvidia" not in text
    assert not re.search(r"^\s*-\s*(torch|pytorch)\s*[=<>]", text, re.M)  # no other torch next to the CPU build


def test_binder_pip_part_is_what_a_student_needs_at_the_lock_s_pins():
    pins = lock_pins()
    pip = dict((_norm(n), v) for n, v in re.findall(r"^\s*-\s*([A-Za-z][\w.-]*)==([^\s]+)$", "\n".join(_lines()), re.M))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {_norm(re.split(r"[<>=!~ ]", r)[0]) for r in project["dependencies"] + project["optional-dependencies"]["course"]}
    assert set(pip) == needed - {"torch", "torchvision"}
    assert all(pins[n] == v for n, v in pip.items())


def test_postbuild_installs_the_package_without_touching_torch():
    text = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in text


def test_binder_sessions_run_in_fast_mode_which_fits_its_memory():
    lines = [ln.strip() for ln in (ROOT / "binder" / "start").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert "export STYLELAB_FAST=1" in lines and lines[-1] == 'exec "$@"'
