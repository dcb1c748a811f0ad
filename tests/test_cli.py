"""The `stylelab` command: help, weights, data, and safe output handling."""

import subprocess
import sys

import pytest
import torch

from stylelab import cli, io
from stylelab import weights as W


def run(*args):
    return subprocess.run([sys.executable, "-m", "stylelab.cli", *args], capture_output=True, text=True, timeout=120)


def test_help_lists_the_commands():
    r = run("--help")
    assert r.returncode == 0
    for cmd in ("transfer", "weights", "data"):
        assert cmd in r.stdout


def test_weights_list_shows_every_checkpoint_with_licence_and_url(capsys):
    assert cli.main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    for name in W.names():
        spec = W.get(name)
        assert name in out and spec.filename in out
        assert (spec.url or "(none)") in out
    assert "licence:" in out


def test_weights_where_reports_missing_and_found(capsys, tmp_path, monkeypatch):
    assert cli.main(["weights", "where", "vgg_normalised"]) == 1
    assert "not found" in capsys.readouterr().out
    torch.save(W.synthetic_state_dict("vgg_normalised"), tmp_path / "vgg_normalised.pth")
    monkeypatch.setenv("STYLELAB_WEIGHTS_DIR", str(tmp_path))
    assert cli.main(["weights", "where", "vgg_normalised"]) == 0
    assert str(tmp_path) in capsys.readouterr().out


def test_weights_download_offline_fails_clearly(capsys):
    assert cli.main(["weights", "download", "vgg_normalised"]) == 1
    assert "downloads are off" in capsys.readouterr().err


def test_data_list(capsys):
    assert cli.main(["data", "list"]) == 0
    assert "chelsea" in capsys.readouterr().out


def test_transfer_never_overwrites_an_existing_output(tmp_path, capsys):
    c = io.save_image(torch.rand(1, 3, 16, 16), tmp_path / "c.png")
    out = tmp_path / "mine.png"
    out.write_bytes(b"the user's own file")
    code = cli.main(["transfer", "--method", "adain", str(c), str(c), "-o", str(out)])
    assert code == 1 and out.read_bytes() == b"the user's own file"
    assert "--overwrite" in capsys.readouterr().err


def test_transfer_rejects_unknown_method_and_missing_files(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["transfer", "--method", "nope", "a.png", "b.png", "-o", "c.png"])
    code = cli.main(["transfer", "--method", "adain", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "c.png")])
    assert code == 1 and "No image at" in capsys.readouterr().err
