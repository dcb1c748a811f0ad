"""Shared test settings: deterministic, offline, no stray random-weight permission."""

import os

import pytest
import torch

os.environ.setdefault("MPLBACKEND", "Agg")


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
