"""requirements.lock, pyproject.toml and environment.yml must describe the same environment."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def environment_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s*-\s*([A-Za-z0-9_.\-]+)==([^\s#]+)", line)
        if m:
            pins[_norm(m.group(1))] = m.group(2)
    return pins


def pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += extra
    return [Requirement(r) for r in reqs]


def test_environment_yml_pins_exactly_the_lock():
    assert environment_pins() == lock_pins()


def test_pyproject_and_lock_name_the_same_packages_and_the_pins_satisfy_the_ranges():
    reqs = pyproject_requirements()
    pins = lock_pins()
    assert {_norm(r.name) for r in reqs} == set(pins)
    for r in reqs:
        assert r.specifier.contains(pins[_norm(r.name)]), f"{r} does not admit the pinned {pins[_norm(r.name)]}"


def test_torch_and_torchvision_are_a_matching_pair():
    """torchvision 0.(N+15) is built for torch 2.N (0.29 ↔ 2.14)."""
    pins = lock_pins()
    torch_minor = int(pins["torch"].split(".")[1])
    tv_minor = int(pins["torchvision"].split(".")[1])
    assert tv_minor == torch_minor + 15


def test_installed_environment_matches_the_lock():
    from importlib.metadata import version

    for name, pinned in lock_pins().items():
        assert version(name).split("+")[0] == pinned, f"{name}: installed {version(name)}, lock says {pinned}"


def test_torchvision_imports_and_its_ops_load():
    import torch
    import torchvision

    keep = torchvision.ops.nms(torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([1.0]), 0.5)
    assert keep.tolist() == [0]


def test_the_two_readme_commands_exist():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "make lab" in readme and "make test" in readme
    assert re.search(r"^lab:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make --no-print-directory test" in (ROOT / ".ci" / "run").read_text()
