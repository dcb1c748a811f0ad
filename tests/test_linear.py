"""Linear style transfer (Li et al., CVPR 2019): the transform's algebra, its loss, its training path."""

import pytest
import torch
import torch.nn as nn

from stylelab.features import transforms as T
from stylelab.methods import linear
from stylelab.train import fit


def _feats(b, c=8, h=12, w=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(c, c, generator=g, dtype=torch.float64)
    return torch.einsum("dc,bchw->bdhw", mix, torch.randn(b, c, h, w, generator=g, dtype=torch.float64))


def test_covariance_error_is_zero_for_exact_wct_and_not_for_the_content():
    fc, fs = _feats(1, seed=1), _feats(1, seed=2) * 3 + 1
    assert linear.covariance_error(T.wct(fc, fs, preset="exact"), fs).item() < 1e-10
    assert linear.covariance_error(fc, fs).item() > 0.5


def test_transform_is_the_product_of_the_two_matrices_and_keeps_the_style_mean():
    torch.manual_seed(0)
    t = linear.LinearTransform(channels=8, rank=4).double()
    fc, fs = _feats(2, seed=3), _feats(1, seed=4) + 2
    out = t(fc, fs)
    torch.testing.assert_close(out.mean((2, 3)), fs.mean((2, 3)).expand(2, -1))
    # T = T_s T_c, with T_s from the style alone: the same for any content
    cc = fc - fc.mean((2, 3), keepdim=True)
    sc = fs - fs.mean((2, 3), keepdim=True)
    torch.testing.assert_close(t.matrix(fc, fs), t.style_net(sc) @ t.content_net(cc))
    # given the content's matrix, the output is affine in the centred content: Q T P (F_c − μ_c) + μ_s
    m = t.matrix(fc, fs)
    z = t.compress(cc)
    z = z - z.mean((2, 3), keepdim=True)
    y = (m @ z.flatten(2)).view_as(z)
    expect = t.uncompress(y)
    torch.testing.assert_close(out, expect - expect.mean((2, 3), keepdim=True) + fs.mean((2, 3), keepdim=True))
    with pytest.raises(ValueError, match="8-channel"):
        t(_feats(1, c=6), _feats(1, c=6))


class _TinyEncoder(nn.Module):
    """A fixed 3 → 8 channel feature map standing in for VGG's relu3_1 (the loss asks for ``layers=LAYER``)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        torch.nn.init.normal_(self.conv.weight, generator=torch.Generator().manual_seed(0))

    def forward(self, x, layers):
        return {linear.LAYER: torch.relu(self.conv(x))}


@pytest.mark.slow
def test_training_through_fit_lowers_the_covariance_error(tmp_path):
    torch.manual_seed(0)
    enc = _TinyEncoder().requires_grad_(False)
    t = linear.LinearTransform(channels=8, rank=8)
    loss = linear.LinearLoss(enc, t, wct_weight=0.5)
    g = torch.Generator().manual_seed(1)
    images = torch.rand(6, 3, 16, 16, generator=g) * torch.rand(6, 3, 1, 1, generator=g)
    with torch.no_grad():
        before = loss(images[:4])
    hist = fit(loss, {"transform": t}, images, steps=150, batch_size=4, lr=3e-3, lr_decay=0, progress=False, seed=0,
               checkpoint=tmp_path / "lin.ckpt")
    with torch.no_grad():
        after = loss(images[:4])
    assert after["covariance"] < 0.75 * before["covariance"], (before, after)  # measured: 1.00 → 0.62
    assert after["wct"] < 0.75 * before["wct"]
    assert hist["total"][-1] < hist["total"][0]
    with pytest.raises(ValueError, match="at least 2"):
        loss(images[:1])


def test_cli_says_how_to_get_a_transform(tmp_path, capsys):
    from stylelab import io
    from stylelab.cli import main

    io.save_image(torch.rand(1, 3, 16, 16), tmp_path / "c.png")
    code = main(["transfer", "--method", "linear", str(tmp_path / "c.png"), str(tmp_path / "c.png"),
                 "-o", str(tmp_path / "o.png")])
    assert code != 0
    assert "stylelab train --method linear" in capsys.readouterr().err
