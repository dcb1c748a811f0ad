"""CAP-VSTNet (Wen et al., CVPR 2023): the shipped reversible network, its photorealism, its training path."""

import json

import pytest
import torch

from stylelab.media import data
from stylelab.methods import capvst
from stylelab.nets import course_pair as CP
from stylelab.nets.reversible import ReversibleNet
from stylelab.train import fit


def test_shipped_file_matches_its_manifest():
    m = json.loads(capvst.manifest_path().read_text())
    assert CP.sha256(capvst.default_path()) == m["sha256"]
    assert m["architecture"] == capvst.ARCH
    assert capvst.default_path().stat().st_size < 400 * 1024
    held_out = set(data.names())
    assert not {p["file"].rsplit(".", 1)[0].lower() for p in m["photos"]} & held_out  # never a course image


def test_inverse_is_exact_after_loading_the_shipped_network():
    model = capvst.CAPVST.from_file(device="cpu")
    x = data.load("mountains", size=(64, 96))
    assert (model.net.inverse(model.net(x)) - x).abs().max() <= 1e-5
    assert "trained here" in model.tag


def test_trained_network_is_more_photorealistic_than_the_untrained_one():
    """The matting-Laplacian loss of the output on a held-out pair (a course photo and a course style photo,
    never trained on) is lower for the trained network than for the same architecture at random init."""
    c = data.load("mountains", size=(96, 96))
    s = data.load("sunset", size=(96, 96))
    trained = capvst.CAPVST.from_file(device="cpu")
    untrained = capvst.CAPVST.untrained(0, device="cpu")
    lt = capvst.matting_loss(trained.stylize(c, s), c)
    lu = capvst.matting_loss(untrained.stylize(c, s), c)
    assert lt < 0.8 * lu, (float(lt), float(lu))


class _TinyEncoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x, layers):
        f = torch.relu(self.conv(x))
        return {name: f for name in layers}


def _images():
    g = torch.Generator().manual_seed(1)
    smooth = torch.nn.functional.interpolate(torch.rand(6, 3, 4, 4, generator=g), size=(16, 16), mode="bilinear")
    return smooth * torch.rand(6, 3, 1, 1, generator=g) + 0.1 * torch.rand(6, 3, 16, 16, generator=g)


def _run(tmp_path, name, steps, init=0):
    torch.manual_seed(0)
    enc = _TinyEncoder().requires_grad_(False)  # frozen, not in the checkpoint: the same in every run
    torch.manual_seed(init)
    net = ReversibleNet(channels=4, squeezes=1, blocks=1, hidden=4)
    loss = capvst.CAPVSTLoss(enc, net, matting_weight=100.0, cycle_weight=1.0)
    hist = fit(loss, {"net": net}, _images(), steps=steps, batch_size=2, lr=1e-2, lr_decay=0, progress=False,
               seed=0, log_every=1, checkpoint=tmp_path / name, save_every=2)
    return hist, net, loss


def test_training_changes_the_loss_and_resume_equals_the_unbroken_run(tmp_path):
    hist, straight, loss = _run(tmp_path, "a.ckpt", 4)
    assert hist["total"][-1] != hist["total"][0]
    assert set(hist) >= {"style", "matting", "cycle"}
    _run(tmp_path, "b.ckpt", 2)
    hist_b, resumed, _ = _run(tmp_path, "b.ckpt", 4, init=1)  # other initial weights: all comes from the file
    for (k, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=k)
    assert hist_b["total"][-2:] == pytest.approx(hist["total"][-2:])
    # the trained net is still exactly invertible
    x = _images()[:2].double()
    net = straight.double()
    assert (net.inverse(net(x)) - x).abs().max() < 1e-12


def test_bad_input_says_what_to_do():
    enc = _TinyEncoder()
    loss = capvst.CAPVSTLoss(enc, ReversibleNet(channels=4, squeezes=2, blocks=1, hidden=4))
    with pytest.raises(ValueError, match="multiples of 4"):
        loss(torch.rand(2, 3, 18, 17))
    with pytest.raises(ValueError, match="at least 2"):
        loss(torch.rand(1, 3, 16, 16))
    model = capvst.CAPVST.untrained(0, device="cpu")
    with pytest.raises(ValueError, match="multiples of 4"):
        capvst.transfer(model.net, torch.rand(1, 3, 17, 16), torch.rand(1, 3, 16, 16))
    out = model.stylize(torch.rand(1, 3, 33, 27), torch.rand(1, 3, 25, 31))  # stylize pads and crops back
    assert out.shape == (1, 3, 33, 27)
    with pytest.raises(ValueError, match="one shape"):
        capvst.matting_loss(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 9))


def test_cli_names_the_network(tmp_path, capsys):
    from stylelab import io
    from stylelab.cli import main

    io.save_image(data.load("mountains", size=(40, 48)), tmp_path / "c.png")
    io.save_image(data.load("sunset", size=(32, 32)), tmp_path / "s.png")
    code = main(["transfer", "--method", "capvst", str(tmp_path / "c.png"), str(tmp_path / "s.png"),
                 "-o", str(tmp_path / "o.png")])
    assert code == 0
    assert "reversible net trained here" in capsys.readouterr().out
    assert io.load_image(tmp_path / "o.png").shape[-2:] == (40, 48)
