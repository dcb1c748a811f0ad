"""Shared test settings: deterministic, offline, no stray random-weight permission; the trained-weights helper."""

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("MPLBACKEND", "Agg")

#: Where the set-up (`make lab`, `make test`: `stylelab weights download …`) installed the trained weights,
#: read once before each test isolates the weights cache (below).
TRAINED_DIRS: list[Path] = (
    [Path(os.environ["STYLELAB_WEIGHTS_DIR"]).expanduser()] if os.environ.get("STYLELAB_WEIGHTS_DIR") else []
) + [Path(torch.hub.get_dir()) / "checkpoints"]
#: CI sets STYLELAB_REQUIRE_TRAINED=1 after its set-up installed them: a missing file then fails, never skips.
REQUIRE_TRAINED = os.environ.get("STYLELAB_REQUIRE_TRAINED", "").strip().lower() in {"1", "true", "yes", "on"}


def require_trained(monkeypatch, *names: str) -> Path:
    """Point the weights resolver at the installed trained checkpoints ``names`` (one folder holding them all).

    Skips the test with the reason when they are not installed, or fails it
    when ``$STYLELAB_REQUIRE_TRAINED=1`` (CI), so that a broken install step
    cannot pass silently. Returns the folder.
    """
    from stylelab import weights as W

    files = [W.get(n).filename for n in names]
    for folder in TRAINED_DIRS:
        if all((folder / f).is_file() for f in files):
            monkeypatch.setenv("STYLELAB_WEIGHTS_DIR", str(folder))
            return folder
    missing = [n for n, f in zip(names, files) if not any((d / f).is_file() for d in TRAINED_DIRS)]
    reason = (f"trained weights {', '.join(missing or names)} not installed in {', '.join(map(str, TRAINED_DIRS))} "
              f"(`stylelab weights download {' '.join(missing or names)}`; `make lab` installs them)")
    if REQUIRE_TRAINED:
        pytest.fail(f"{reason}; STYLELAB_REQUIRE_TRAINED=1 demands them (CI: the set-up's install step failed)")
    pytest.skip(reason)


@pytest.fixture
def trained(monkeypatch):
    """``trained("squeezenet1_1", "vgg16")`` in a test: :func:`require_trained` with this test's monkeypatch."""
    return lambda *names: require_trained(monkeypatch, *names)


@pytest.fixture(autouse=True)
def _isolate_env(monkeypatch, tmp_path_factory):
    """Every test starts offline, without the random-weights switch, with an empty weights cache."""
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")
    monkeypatch.delenv("STYLELAB_RANDOM_WEIGHTS", raising=False)
    monkeypatch.delenv("STYLELAB_WEIGHTS_DIR", raising=False)
    monkeypatch.delenv("STYLELAB_DEVICE", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch_home")))
    torch.manual_seed(0)
    yield


def pytest_collection_modifyitems(config, items):
    skip_cuda = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "cuda" in item.keywords and not torch.cuda.is_available():
            item.add_marker(skip_cuda)
