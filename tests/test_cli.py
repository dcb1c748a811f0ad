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


@pytest.mark.slow
def test_transfer_label_maps_go_through_stylelab_labels(tmp_path, capsys):
    """Every method reads --content-labels/--style-labels the same way; a map of another aspect, an
    unreadable map or half a pair is an error before any work, with no traceback and no output file."""
    import numpy as np
    import torch
    from PIL import Image

    from stylelab.io import save_image

    save_image(torch.rand(1, 3, 64, 96), tmp_path / "c.png")
    save_image(torch.rand(1, 3, 48, 48), tmp_path / "s.png")
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "square.png")
    dpst = np.zeros((32, 48, 3), np.uint8)
    dpst[16:] = (0, 0, 255)
    Image.fromarray(dpst).save(tmp_path / "c_rgb.png")
    (tmp_path / "empty.png").write_bytes(b"")
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(tmp_path / "s_ids.png")
    out = tmp_path / "o.png"
    base = ["transfer", "--size", "48", "--random-weights", str(tmp_path / "c.png"), str(tmp_path / "s.png"), "-o", str(out)]
    for method in ("photowct", "wct2", "adain", "wct"):
        rc = cli.main(base[:1] + ["--method", method] + base[1:] + ["--content-labels", str(tmp_path / "square.png"),
                                                                     "--style-labels", str(tmp_path / "s_ids.png")])
        err = capsys.readouterr().err
        assert rc == 1 and "aspect" in err and "Traceback" not in err and not out.exists(), method
    rc = cli.main(base[:1] + ["--method", "wct2"] + base[1:] + ["--content-labels", str(tmp_path / "empty.png"),
                                                                 "--style-labels", str(tmp_path / "s_ids.png")])
    assert rc == 1 and "not an image" in capsys.readouterr().err and not out.exists()
    rc = cli.main(base[:1] + ["--method", "wct2"] + base[1:] + ["--content-labels", str(tmp_path / "c_rgb.png")])
    assert rc == 1 and "both" in capsys.readouterr().err
    rc = cli.main(base[:1] + ["--method", "gatys"] + base[1:] + ["--content-labels", str(tmp_path / "c_rgb.png"),
                                                                  "--style-labels", str(tmp_path / "s_ids.png")])
    assert rc == 1 and "does not use label maps" in capsys.readouterr().err
    # a DPST colour mask for the content and single-channel ids for the style: accepted, report printed
    rc = cli.main(base[:1] + ["--method", "wct2", "--unpool", "sum"] + base[1:] + [
        "--content-labels", str(tmp_path / "c_rgb.png"), "--style-labels", str(tmp_path / "s_ids.png")])
    printed = capsys.readouterr()
    assert rc == 0 and out.exists()
    assert "label 0" in printed.out and "label 3" in printed.out  # black → 0, blue → 3; only 0 is in the style
