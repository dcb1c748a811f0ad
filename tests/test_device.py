import pytest
import torch

from stylelab import device as D


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert D.get_device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(D, "_mps_available", lambda: True)
    assert D.get_device().type == "mps"
    monkeypatch.setattr(D, "_mps_available", lambda: False)
    assert D.get_device() == torch.device("cpu")


def test_environment_variable_and_argument_override(monkeypatch):
    monkeypatch.setenv("STYLELAB_DEVICE", "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert D.get_device().type == "cpu"  # env beats auto-detection
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert D.get_device("cuda").type == "cuda"  # argument beats env


def test_unavailable_device_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        D.get_device("cuda")
    monkeypatch.setattr(D, "_mps_available", lambda: False)
    with pytest.raises(RuntimeError, match="MPS is not available"):
        D.get_device("mps")
    with pytest.raises(RuntimeError, match="Unknown device"):
        D.get_device("tpu7")


def test_describe_and_available_devices():
    assert D.available_devices()[-1] == "cpu"
    assert D.describe("cpu").startswith("cpu")
