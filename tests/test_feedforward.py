"""Feed-forward stylisation: instance / conditional instance norm, Johnson's network and its perceptual loss,
training through stylelab.train.fit with checkpoints, the CLI, and CycleGAN's losses and training loop."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stylelab import train
from stylelab.train import checkpoint as train_checkpoint
from stylelab.cli import main
from stylelab.io import save_image
from stylelab.methods import cyclegan as CG
from stylelab.methods import johnson as J
from stylelab.nets import transformnet
from stylelab.features.norms import ConditionalInstanceNorm2d, make_norm, style_weights


def _x(seed=0, shape=(3, 5, 7, 9), dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=dtype) * 4 + 2


# ---------------------------------------------------------------- instance norm
def test_instance_norm_output_has_zero_mean_unit_std_per_sample_and_channel():
    x = _x()
    norm = make_norm("instance", 5).double()
    y = norm(x)  # γ = 1, β = 0 at initialisation
    np.testing.assert_allclose(y.mean((2, 3)).detach().numpy(), 0.0, atol=1e-12)
    var = y.var((2, 3), unbiased=False).detach()
    np.testing.assert_allclose(var.numpy(), (x.var((2, 3), unbiased=False) / (x.var((2, 3), unbiased=False) + 1e-5)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), 1.0, atol=1e-5)


def test_instance_norm_ignores_the_rest_of_the_batch_batch_norm_does_not():
    x = _x()
    inorm, bnorm = make_norm("instance", 5).double(), make_norm("batch", 5).double()
    torch.testing.assert_close(inorm(x[:1]), inorm(x)[:1])
    assert not torch.allclose(bnorm(x[:1]), bnorm(x)[:1])


def test_cin_with_one_style_equals_instance_norm_with_that_affine():
    x = _x(1)
    cin = ConditionalInstanceNorm2d(5, n_styles=4).double()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        cin.weight.copy_(torch.randn(4, 5, generator=g, dtype=torch.float64))
        cin.bias.copy_(torch.randn(4, 5, generator=g, dtype=torch.float64))
    for s in range(4):
        inorm = make_norm("instance", 5).double()
        with torch.no_grad():
            inorm.weight.copy_(cin.weight[s])
            inorm.bias.copy_(cin.bias[s])
        torch.testing.assert_close(cin(x, s), inorm(x), rtol=1e-12, atol=1e-12)
    # one style per image, and a mixture = instance norm with the mixed affine (CIN is linear in the tables)
    idx = torch.tensor([2, 0, 3])
    torch.testing.assert_close(cin(x, idx), torch.cat([cin(x[i : i + 1], int(s)) for i, s in enumerate(idx)]))
    w = torch.tensor([0.25, 0.0, 0.75, 0.0], dtype=torch.float64)
    mixed = F.instance_norm(x, weight=w @ cin.weight, bias=w @ cin.bias, eps=1e-5)
    torch.testing.assert_close(cin(x, w), mixed, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(cin(x, [1, 0, 3, 0]), mixed)  # weights are normalised to sum 1


@pytest.mark.parametrize("bad, match", [(4, "out of range"), (torch.tensor([0, 1]), "indices for a batch of 3"),
                                        (torch.tensor([0.5, 0.5]), r"\(S,\) or \(B, S\)"),
                                        (torch.tensor([1.0, -1.0, 0, 0]), "non-negative"),
                                        (torch.zeros(4), "all be zero")])
def test_style_selection_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        style_weights(bad, 4, 3)


def test_make_norm_rejects_unknown_kind():
    with pytest.raises(ValueError, match="norm must be one of"):
        make_norm("layer", 4)


# ---------------------------------------------------------------- the transformation network
@pytest.mark.parametrize("upsample", ["nearest", "transposed"])
@pytest.mark.parametrize("hw", [(16, 16), (13, 22)])
def test_transform_net_keeps_the_size_and_range(upsample, hw):
    torch.manual_seed(0)
    net = transformnet.TransformNet(4, n_residual=1, upsample=upsample)
    y = net(torch.rand(2, 3, *hw))
    assert y.shape == (2, 3, *hw)
    assert 0 <= y.min() and y.max() <= 1


def test_transform_net_rebuilds_from_its_state_dict():
    torch.manual_seed(0)
    net = transformnet.TransformNet(4, n_residual=2, norm="conditional", n_styles=3, upsample="transposed", outer_kernel=7)
    copy = transformnet.TransformNet.from_state_dict(net.state_dict())
    assert copy.extra_repr() == net.extra_repr()
    x = torch.rand(1, 3, 12, 12)
    torch.testing.assert_close(copy(x, 2), net(x, 2))


def test_transform_net_bad_input():
    with pytest.raises(ValueError, match="norm must be"):
        transformnet.TransformNet(norm="group")
    with pytest.raises(ValueError, match="need norm='conditional'"):
        transformnet.TransformNet(n_styles=2)
    with pytest.raises(ValueError, match="expects \\(B, 3, H, W\\)"):
        transformnet.TransformNet(4, 1)(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="pass style=INDEX"):
        transformnet.TransformNet(4, 1, norm="conditional", n_styles=2)(torch.rand(1, 3, 8, 8))
    with pytest.raises(ValueError, match="no 'arch'"):
        transformnet.TransformNet.from_state_dict({})


# ---------------------------------------------------------------- the perceptual loss and training
def _tiny_setup(norm="instance", n_styles=1, size=24):
    torch.manual_seed(0)
    net = transformnet.TransformNet(4, n_residual=1, norm=norm, n_styles=n_styles)
    enc = J.RandomFilterEncoder(channels=8, sizes=(3, 5))
    g = torch.Generator().manual_seed(1)
    styles = [torch.rand(1, 3, size, size, generator=g) ** (1 + 2 * s) for s in range(n_styles)]
    contents = torch.rand(2, 3, size, size, generator=g)
    loss = J.PerceptualLoss.balanced(net, enc, styles, contents, style_ratio=3.0, content_layers={"k3": 1.0},
                                     style_layers={"k3": 1.0, "k5": 1.0})
    return net, loss, contents


def test_balanced_weights_make_the_trivial_answers_cost_one():
    net, loss, contents = _tiny_setup()
    flat = contents.mean((2, 3), keepdim=True).expand_as(contents)
    c = sum(F.mse_loss(loss.encoder(flat, layers="k3")["k3"], loss.encoder(contents, layers="k3")["k3"]) for _ in [0])
    assert loss.content_weight * float(c) == pytest.approx(1.0, rel=1e-5)


def test_perceptual_loss_matches_its_equation():
    net, loss, contents = _tiny_setup()
    out = net(contents)
    got = loss(contents)
    fo, fc = loss.encoder(out, layers=["k3", "k5"]), loss.encoder(contents, layers=["k3"])
    content = F.mse_loss(fo["k3"], fc["k3"])
    style = 0
    for l in ("k3", "k5"):
        c, m = fo[l].shape[1], fo[l].shape[2] * fo[l].shape[3]
        g = fo[l].flatten(2) @ fo[l].flatten(2).transpose(1, 2) / (c * m)
        style = style + ((g - loss.targets[l]) ** 2).mean()
    expected = loss.content_weight * content + loss.style_weight * style
    torch.testing.assert_close(got["total"], expected, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("norm, n_styles", [("instance", 1), ("batch", 1), ("conditional", 2)])
def test_training_lowers_the_loss(norm, n_styles):
    net, loss, contents = _tiny_setup(norm, n_styles)

    def evaluate():  # on the training batch, with batch statistics for batch norm (its running averages lag behind)
        loss.generator.manual_seed(5)
        net.train()
        with torch.no_grad():
            return float(loss(contents)["total"])

    before = evaluate()
    train.fit(loss, {"transformer": net}, contents, steps=15, batch_size=2, lr=3e-3, lr_decay=0, progress=False,
              seed=0, device="cpu")
    assert evaluate() < 0.5 * before


def test_perceptual_loss_bad_input():
    net = transformnet.TransformNet(4, 1)
    enc = J.RandomFilterEncoder(channels=4, sizes=(3,))
    s = torch.rand(1, 3, 16, 16)
    with pytest.raises(ValueError, match="network that learns 1"):
        J.PerceptualLoss(net, enc, [s, s], content_layers={"k3": 1}, style_layers={"k3": 1})
    with pytest.raises(ValueError, match=r"\(1, 3, H, W\)"):
        J.PerceptualLoss(net, enc, [s[0]], content_layers={"k3": 1}, style_layers={"k3": 1})
    with pytest.raises(ValueError, match="has layers"):
        J.PerceptualLoss(net, enc, [s], content_layers={"k3": 1}, style_layers={"relu1_1": 1})


@pytest.mark.slow
def test_checkpoint_round_trip_and_resume(tmp_path):
    net, loss, contents = _tiny_setup("batch")
    ckpt = tmp_path / "j.ckpt"
    h1 = train.fit(loss, {"transformer": net}, contents, steps=3, batch_size=2, lr=1e-2, progress=False, seed=0,
                   checkpoint=ckpt, device="cpu")
    assert h1["step"][-1] == 3
    loaded = J.load(ckpt)
    assert loaded.pretrained and loaded.norm == "batch"
    x = torch.rand(1, 3, 20, 20)
    torch.testing.assert_close(loaded(x), J.stylize(net, x), rtol=0, atol=0)  # running statistics included
    # resume: a second call continues from step 3 to step 5 with the same modules
    h2 = train.fit(loss, {"transformer": net}, contents, steps=5, batch_size=2, lr=1e-2, progress=False, seed=0,
                   checkpoint=ckpt, device="cpu")
    assert h1["step"] == [1, 3] and h2["step"] == [1, 3, 4, 5]  # the history continues; the first new step is 4
    assert torch.load(ckpt, weights_only=True)["step"] == 5
    # a plain state-dict file loads too
    torch.save(net.state_dict(), tmp_path / "plain.pth")
    torch.testing.assert_close(J.load(tmp_path / "plain.pth")(x), J.stylize(net, x), rtol=0, atol=0)


def test_load_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="stylelab train --method johnson"):
        J.load(tmp_path / "missing.ckpt")
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable model file"):
        J.load(junk)
    torch.save({"weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="no 'arch'"):
        J.load(tmp_path / "other.pth")


# ---------------------------------------------------------------- CLI
@pytest.fixture()
def folders(tmp_path):
    g = torch.Generator().manual_seed(0)
    photos, styles = tmp_path / "photos", tmp_path / "styles"
    photos.mkdir()
    styles.mkdir()
    for i in range(2):
        save_image(torch.rand(1, 3, 40, 48, generator=g), photos / f"p{i}.png")
        save_image(torch.rand(1, 3, 32, 32, generator=g) ** (1 + i), styles / f"s{i}.png")
    return tmp_path, photos, styles


def test_cli_train_and_transfer_johnson(folders, capsys):
    tmp, photos, styles = folders
    ckpt, out = tmp / "j.ckpt", tmp / "out.png"
    common = ["--steps", "2", "--size", "32", "--resize", "36", "--batch-size", "2", "--width", "4",
              "--encoder", "random-filters", "--seed", "0", "--device", "cpu"]
    assert main(["train", "--method", "johnson", str(photos), "--styles", str(styles / "s0.png"), "--checkpoint", str(ckpt), *common]) == 0
    assert ckpt.exists() and "trained to step 2" in capsys.readouterr().out
    assert main(["transfer", "--method", "johnson", str(photos / "p0.png"), "--model", str(ckpt), "-o", str(out),
                 "--size", "24", "--device", "cpu"]) == 0
    from stylelab.io import load_image

    assert load_image(out).shape == (1, 3, 24, 29)  # 40×48 with the shorter side at 24
    # johnson with a folder of two styles is an error that names cin
    assert main(["train", "--method", "johnson", str(photos), "--styles", str(styles), "--checkpoint", str(tmp / "x.ckpt"), *common]) == 1
    assert "--method cin" in capsys.readouterr().err


def test_cli_train_and_transfer_cin_with_mixing(folders, capsys):
    tmp, photos, styles = folders
    ckpt = tmp / "cin.ckpt"
    assert main(["train", "--method", "cin", str(photos), "--styles", str(styles), "--checkpoint", str(ckpt),
                 "--steps", "2", "--size", "32", "--resize", "36", "--batch-size", "2", "--width", "4",
                 "--encoder", "random-filters", "--device", "cpu"]) == 0
    assert J.load(ckpt).n_styles == 2
    base = ["transfer", "--method", "johnson", str(photos / "p1.png"), "--model", str(ckpt), "--size", "24", "--device", "cpu"]
    assert main([*base, "-o", str(tmp / "a.png"), "--mix", "0.3,0.7"]) == 0
    assert main([*base, "-o", str(tmp / "b.png"), "--style-index", "1"]) == 0
    assert main([*base, "-o", str(tmp / "c.png"), "--style-index", "5"]) == 1
    assert "out of range" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # refused while parsing, naming the option (issue 27)
        main([*base, "-o", str(tmp / "d.png"), "--mix", "half,half"])
    assert exc.value.code == 2 and "--mix" in capsys.readouterr().err


def test_cli_bad_input(folders, capsys):
    tmp, photos, styles = folders
    assert main(["transfer", "--method", "johnson", str(photos / "p0.png"), "--model", str(tmp / "none.ckpt"),
                 "-o", str(tmp / "o.png"), "--device", "cpu"]) == 1
    assert "stylelab train --method johnson" in capsys.readouterr().err
    assert main(["transfer", "--method", "gatys", str(photos / "p0.png"), "-o", str(tmp / "o.png")]) == 1
    assert "needs a STYLE image" in capsys.readouterr().err
    assert main(["train", "--method", "johnson", str(photos), "--steps", "1", "--encoder", "random-filters"]) == 1
    assert "needs --styles" in capsys.readouterr().err


# ---------------------------------------------------------------- CycleGAN
class _Affine(torch.nn.Module):
    """An exactly invertible colour map ``x ↦ A x + b`` per pixel (a 1×1 convolution)."""

    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x):
        return torch.einsum("ij,bjhw->bihw", self.a, x) + self.b[None, :, None, None]


def test_cycle_loss_is_zero_for_inverse_generators_and_positive_otherwise():
    g = torch.Generator().manual_seed(0)
    a = torch.eye(3, dtype=torch.float64) + 0.3 * torch.randn(3, 3, generator=g, dtype=torch.float64)
    b = torch.randn(3, generator=g, dtype=torch.float64)
    G = _Affine(a, b)
    Finv = _Affine(torch.linalg.inv(a), -torch.linalg.solve(a, b))
    xa, xb = torch.rand(2, 3, 8, 8, dtype=torch.float64, generator=g), torch.rand(3, 3, 8, 8, dtype=torch.float64, generator=g)
    assert float(CG.cycle_loss(G, Finv, xa, xb)) < 1e-13
    assert float(CG.cycle_loss(G, G, xa, xb)) > 1e-2
    ident = _Affine(torch.eye(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64))
    assert float(CG.identity_loss(ident, ident, xa, xb)) == 0.0


def test_lsgan_targets():
    s = torch.tensor([0.0, 1.0, 2.0])
    assert float(CG.lsgan_loss(s, True)) == pytest.approx((1 + 0 + 1) / 3)
    assert float(CG.lsgan_loss(s, False)) == pytest.approx((0 + 1 + 4) / 3)


def test_patch_discriminator_shapes_and_receptive_field():
    d = CG.PatchDiscriminator(8, 3)
    assert d(torch.rand(2, 3, 64, 64)).shape == (2, 1, 6, 6)
    # the convolutions see 70×70 windows: without the (image-wide) instance norm statistics, the corner
    # score does not move when pixels outside its window change
    for m in d.modules():
        if isinstance(m, torch.nn.InstanceNorm2d):
            m.forward = lambda x: x
    # the corner score's 70×70 window starts 1 + 2 + 4 + 8 + 8 = 23 px of padding before the image: rows/cols -23…46
    x = torch.rand(1, 3, 128, 128)
    y = x.clone()
    y[..., 47:, :] = 0
    y[..., :, 47:] = 0
    assert torch.equal(d(x)[0, 0, 0, 0], d(y)[0, 0, 0, 0])
    z = x.clone()
    z[..., 46, 46] = 5.0
    assert not torch.equal(d(x)[0, 0, 0, 0], d(z)[0, 0, 0, 0])
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        d(torch.rand(1, 1, 64, 64))


def test_image_pool_mixes_history():
    pool = CG.ImagePool(2, seed=0)
    first = pool(torch.zeros(2, 3, 1, 1))
    assert torch.equal(first, torch.zeros(2, 3, 1, 1))
    outs = torch.cat([pool(torch.full((1, 3, 1, 1), float(i))) for i in range(1, 40)])
    assert (outs == 0).any() and len(pool.images) == 2
    assert torch.equal(CG.ImagePool(0)(torch.ones(1, 3, 1, 1)), torch.ones(1, 3, 1, 1))


def test_cyclegan_training_lowers_the_cycle_loss_and_is_reproducible():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    a = torch.rand(6, 3, 16, 16, generator=g)
    b = (a.flip(0) * torch.tensor([1.0, 0.7, 0.4])[:, None, None]).clamp(0, 1)  # a colour-cast domain

    def run():
        torch.manual_seed(0)
        model = CG.CycleGAN(width=4, n_blocks=1, d_width=4, d_layers=2)
        return model, CG.train(model, a, b, steps=40, batch_size=2, lr=2e-3, progress=False, log_every=1, seed=0)

    model, h = run()
    assert np.mean(h["cycle"][-5:]) < 0.8 * np.mean(h["cycle"][:5])
    _, h2 = run()
    assert h2["cycle"] == h["cycle"]
    assert model.a_to_b(a).shape == a.shape


class _Interrupted(Exception):
    pass


def test_cyclegan_checkpoint_round_trip_and_resume_continues_the_same_run(folders):
    tmp = folders[0]
    g = torch.Generator().manual_seed(0)
    a = torch.rand(6, 3, 16, 16, generator=g)
    b = (a.flip(0) * torch.tensor([1.0, 0.7, 0.4])[:, None, None]).clamp(0, 1)
    kw = dict(steps=6, batch_size=2, lr=2e-3, pool_size=3, progress=False, log_every=1, seed=0, device="cpu")

    def fresh(init_seed=0):
        torch.manual_seed(init_seed)
        return CG.CycleGAN(width=4, n_blocks=1, d_width=4, d_layers=2)

    straight = fresh()
    h = CG.train(straight, a, b, **kw)
    # the same run, interrupted in step 4 (G runs three times a step) after the save at step 3
    ckpt, calls = tmp / "cg.ckpt", []

    def crash(module, inputs):
        calls.append(1)
        if len(calls) > 9:
            raise _Interrupted

    broken = fresh()
    broken.g.register_forward_pre_hook(crash)
    with pytest.raises(_Interrupted):
        CG.train(broken, a, b, checkpoint=ckpt, save_every=3, **kw)
    saved = torch.load(ckpt, weights_only=True)
    assert saved["step"] == 3 and set(saved["modules"]) == {"g", "f", "d_a", "d_b"} and set(saved["optimizers"]) == {"g", "d"}
    assert len(saved["pools"]["a"]["images"]) == 3  # full: which fakes the discriminators see depends on it
    # resume into networks with other initial weights: everything comes from the file, and the run ends
    # exactly where the unbroken one did (weights, optimiser moments, sampler and pools restored)
    resumed = fresh(init_seed=1)
    h2 = CG.train(resumed, a, b, checkpoint=ckpt, save_every=3, **kw)
    assert h2["step"] == h["step"] == [1, 2, 3, 4, 5, 6] and h2["cycle"] == h["cycle"] and h2["d"] == h["d"]
    assert h2.checkpoint == ckpt and torch.load(ckpt, weights_only=True)["step"] == 6
    for (name, p), q in zip(straight.named_parameters(), resumed.parameters()):
        torch.testing.assert_close(q, p, rtol=0, atol=0, msg=name)
    # round trip: both generators load from the checkpoint, and the CLI translates with either
    x = torch.rand(1, 3, 16, 16)
    torch.testing.assert_close(CG.load_generator(ckpt)(x), straight.a_to_b(x), rtol=0, atol=0)
    torch.testing.assert_close(CG.load_generator(ckpt, "b_to_a")(x), straight.b_to_a(x), rtol=0, atol=0)
    assert CG.load_generator(ckpt).pretrained
    save_image(x, tmp / "x.png")
    assert main(["transfer", "--method", "cyclegan", str(tmp / "x.png"), "--model", str(ckpt), "--direction", "b_to_a",
                 "-o", str(tmp / "y.png"), "--device", "cpu"]) == 0
    # a finished run resumed with more steps trains on; another run's file is refused, never overwritten
    h3 = CG.train(resumed, a, b, checkpoint=ckpt, **{**kw, "steps": 8})
    assert h3["step"] == [1, 2, 3, 4, 5, 6, 7, 8] and torch.load(ckpt, weights_only=True)["step"] == 8
    before = ckpt.read_bytes()
    with pytest.raises(train_checkpoint.CheckpointConflictError, match="different training run"):
        CG.train(CG.CycleGAN(width=8, n_blocks=1, d_width=4, d_layers=2), a, b, checkpoint=ckpt, **kw)
    assert ckpt.read_bytes() == before
    with pytest.warns(UserWarning, match="saving this run to"):
        h4 = CG.train(fresh(), a, b, checkpoint=ckpt, resume=False, **{**kw, "steps": 1})
    assert h4.checkpoint == tmp / "cg-1.ckpt" and ckpt.read_bytes() == before
    with pytest.raises(ValueError, match="direction"):
        CG.load_generator(ckpt, "sideways")


def test_cyclegan_bad_input():
    m = CG.CycleGAN(width=4, n_blocks=1, d_width=4, d_layers=1)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        CG.train(m, torch.rand(3, 16, 16), torch.rand(2, 3, 16, 16), steps=1, progress=False)
    with pytest.raises(TypeError, match="unknown CycleGAN training option"):
        CG.train(m, torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16), stpes=1, progress=False)


def test_course_crops_are_reproducible_and_checked():
    from stylelab.media import data

    a = data.crops(["chelsea", "coffee"], 3, 16, image_size=32, seed=1)
    assert a.shape == (3, 3, 16, 16) and torch.equal(a, data.crops(["chelsea", "coffee"], 3, 16, image_size=32, seed=1))
    full = data.load("coffee", size=32)
    crop = a[1]  # from coffee: it must occur in the image
    hits = [(i, j) for i in range(full.shape[-2] - 15) for j in range(full.shape[-1] - 15)
            if torch.equal(full[0, :, i : i + 16, j : j + 16], crop)]
    assert hits
    with pytest.raises(ValueError, match="smaller than the crop size"):
        data.crops(["chelsea"], 1, 64, image_size=32)
