"""Deep Photo Style Transfer: the matting loss and its exact gradient, the augmented style loss, a tiny run."""

import numpy as np
import pytest
import torch

from stylelab.smoothing import matting
from stylelab.methods import dpst


def _img(h, w, seed=0):
    return torch.rand(1, 3, h, w, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def test_photorealism_loss_value_and_gradient_match_autograd():
    content, out = _img(9, 11), _img(9, 11, seed=1)
    L = torch.from_numpy(matting.laplacian(content).toarray())
    op = matting.MattingLaplacian(content)
    v = out.clone().requires_grad_(True)
    loss = dpst.photorealism_loss(v, op)
    loss.backward()
    ref_v = out.clone().requires_grad_(True)
    flat = ref_v[0].reshape(3, -1)
    ref = sum(flat[c] @ L @ flat[c] for c in range(3))  # Σ_c V_cᵀ L V_c with a dense L, row-major
    ref.backward()
    assert abs(loss.item() - ref.item()) < 1e-9 * max(1.0, abs(ref.item()))
    assert torch.allclose(v.grad, ref_v.grad, atol=1e-9)
    assert torch.allclose(v.grad[0].reshape(3, -1), 2 * (L @ out[0].reshape(3, -1).T).T, atol=1e-9)  # = 2 L V


def test_photorealism_loss_gradcheck_and_properties():
    content = _img(7, 8)
    op = matting.MattingLaplacian(content)
    v = _img(7, 8, seed=2).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: dpst.photorealism_loss(x, op), (v,))
    assert dpst.photorealism_loss(content, op) >= -1e-9  # PSD
    # a locally affine recolouring of the content costs (almost) nothing: c' = A c + b
    A = torch.tensor([[0.5, 0.2, 0.1], [0.0, 0.9, 0.0], [0.3, 0.0, 0.4]], dtype=torch.float64)
    recol = torch.einsum("ij,bjhw->bihw", A, content) + 0.1
    assert dpst.photorealism_loss(recol, op) < 1e-4 * dpst.photorealism_loss(_img(7, 8, seed=3), op)
    with pytest.raises(ValueError, match="Laplacian was built"):
        dpst.photorealism_loss(_img(8, 8), op)


def test_augmented_style_loss_reduces_to_gram_loss_and_respects_labels():
    g = torch.Generator().manual_seed(0)
    f, s = torch.randn(1, 4, 6, 8, generator=g), torch.randn(1, 4, 5, 7, generator=g)
    plain = dpst.augmented_style_loss(f, s)
    from stylelab.features import stats

    G, A = stats.gram(f, "positions")[0], stats.gram(s, "positions")[0]
    assert torch.allclose(plain, (G - A).pow(2).sum() / 16, rtol=1e-5)
    cl = torch.zeros(6, 8, dtype=torch.long)
    cl[:, 4:] = 1
    sl = torch.zeros(5, 7, dtype=torch.long)
    sl[:, 3:] = 1
    cm, sm, used = dpst.label_masks(cl, sl, min_pixels=5)
    assert used == [0, 1] and cm.shape == (2, 1, 6, 8)
    # style features outside label 0's region do not affect label 0's term
    s2 = s.clone()
    s2[..., 3:] += 5
    l0 = dpst.augmented_style_loss(f, s, cm[:1], sm[:1])
    assert torch.allclose(l0, dpst.augmented_style_loss(f, s2, cm[:1], sm[:1]))
    with pytest.raises(ValueError, match="no label"):
        dpst.label_masks(torch.zeros(6, 8, dtype=torch.long), torch.ones(5, 7, dtype=torch.long))
    with pytest.raises(ValueError, match="labels_from_rgb"):
        dpst.label_masks(torch.zeros(1, 3, 6, 8), sl)


def test_two_stage_run_lowers_matting_term():
    from stylelab.nets.encoders import vgg19

    enc = vgg19(weights="random", last_layer="relu5_1")
    content, style = _img(24, 24).float(), _img(24, 24, seed=5).float()
    start = (content + 0.3 * torch.randn(content.shape, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    result = dpst.run(content, style, encoder=enc, steps=(2, 6), init=start, progress=False)
    out, hist = result.image, result.history
    torch.testing.assert_close(dpst.stylize(content, style, encoder=enc, steps=(2, 6), init=start, progress=False), out)
    assert out.shape == content.shape and 0 <= out.min() and out.max() <= 1
    m = [v for v in hist["matting"] if v > 0]
    assert m and m[-1] < m[0]


def test_cli_transfer_dpst(tmp_path, monkeypatch):
    from stylelab import cli
    from stylelab.io import load_image, save_image

    monkeypatch.setenv("STYLELAB_OFFLINE", "1")
    save_image(_img(24, 24).float(), tmp_path / "c.png")
    save_image(_img(24, 24, seed=9).float(), tmp_path / "s.png")
    rc = cli.main(["transfer", "--method", "dpst", str(tmp_path / "c.png"), str(tmp_path / "s.png"), "-o", str(tmp_path / "o.png"),
                   "--size", "24", "--random-weights", "--steps", "0,2"])
    assert rc == 0
    assert load_image(tmp_path / "o.png").shape == (1, 3, 24, 24)
