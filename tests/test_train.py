"""Decoder trainer: image folders, a short run lowers the loss, checkpoints/resume, no overwriting, CLI."""

import warnings

import pytest
import torch

from stylelab import train
from stylelab.train import data as train_data
from stylelab.train import checkpoint as train_checkpoint
from stylelab.nets.decoders import MirrorDecoder
from stylelab.nets.encoders import normalised_vgg19
from stylelab.io import save_image


def _encoder(layer):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return normalised_vgg19(weights="random", last_layer=layer)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "imgs"
    (root / "sub").mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    for i in range(3):
        save_image(torch.rand(1, 3, 20 + i, 24, generator=g), root / f"a{i}.png")
    save_image(torch.rand(1, 3, 30, 18, generator=g), root / "sub" / "b.jpg")
    (root / "broken.png").write_bytes(b"not an image")
    (root / "notes.txt").write_text("ignored")
    return root


def test_image_folder_recursive_crops_and_skips_unreadable(folder):
    ds = train_data.ImageFolder(folder, size=16, crop="random")
    assert len(ds) == 5  # 4 images + the broken one (found by extension)
    names = [p.name for p in ds.files]
    assert "b.jpg" in names and "notes.txt" not in names
    i = names.index("broken.png")
    with pytest.warns(UserWarning, match="skipping unreadable"):
        x = ds[i]
    assert x.shape == (3, 16, 16) and 0 <= x.min() and x.max() <= 1
    assert all(ds[k].shape == (3, 16, 16) for k in range(len(ds)))
    assert train_data.ImageFolder(folder, size=12, crop=None)[0].shape == (3, 12, 12)
    with pytest.raises(FileNotFoundError):
        train_data.ImageFolder(folder / "nope")


@pytest.mark.slow
def test_short_reconstruction_run_lowers_the_loss():
    torch.manual_seed(0)
    enc, dec = _encoder("relu1_1"), MirrorDecoder(1)
    images = torch.rand(4, 3, 12, 12)
    hist = train.fit(train.ReconstructionLoss(enc, dec), {"decoder": dec}, images, steps=40, batch_size=4,
                     lr=3e-3, progress=False, log_every=1, device="cpu", seed=0)
    assert hist["step"] == list(range(1, 41))
    assert sum(hist["total"][-5:]) / 5 < 0.5 * sum(hist["total"][:5]) / 5
    assert all(not p.requires_grad for p in enc.parameters())  # the encoder stayed frozen
    assert not dec.training  # back in eval mode


@pytest.mark.slow
def test_adain_loss_definition_and_gradients_reach_only_the_decoder():
    from stylelab.features.transforms import adain, mean_std

    torch.manual_seed(0)
    enc, dec = _encoder("relu4_1"), MirrorDecoder(4)
    c, s = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    loss = train.AdaINLoss(enc, dec, s[:1])  # one style image: the drawn batch is that image twice
    out = loss(c)
    t = adain(enc(c, "relu4_1")["relu4_1"], enc(s[:1].expand(2, -1, -1, -1), "relu4_1")["relu4_1"])
    g = enc(dec(t), layers=loss.LAYERS)
    sf = enc(s[:1].expand(2, -1, -1, -1), layers=loss.LAYERS)
    content = torch.nn.functional.mse_loss(g["relu4_1"], t)
    style = sum(torch.nn.functional.mse_loss(a, b) for l in loss.LAYERS for a, b in zip(mean_std(g[l]), mean_std(sf[l])))
    torch.testing.assert_close(out["content"], content)
    torch.testing.assert_close(out["style"], style)
    torch.testing.assert_close(out["total"], content + 10 * style)
    out["total"].backward()
    assert dec.conv4_1.weight.grad is not None and enc.conv4_1.weight.grad is None


def test_checkpoint_resume_continues_the_same_run(tmp_path):
    torch.manual_seed(0)
    enc, dec = _encoder("relu1_1"), MirrorDecoder(1)
    ck = tmp_path / "run.ckpt"
    imgs = torch.rand(4, 3, 8, 8)
    loss = train.ReconstructionLoss(enc, dec)
    h1 = train.fit(loss, {"decoder": dec}, imgs, steps=3, batch_size=2, checkpoint=ck, progress=False, log_every=1, device="cpu")
    state = torch.load(ck, weights_only=False)
    assert state["step"] == 3 and set(state) >= {"modules", "optimizers", "history", "signature"}
    dec2 = MirrorDecoder(1)  # fresh weights: resume must restore the saved ones
    h2 = train.fit(train.ReconstructionLoss(enc, dec2), {"decoder": dec2}, imgs, steps=5, batch_size=2,
                   checkpoint=ck, progress=False, log_every=1, device="cpu")
    assert h2["step"] == [1, 2, 3, 4, 5] and h2["total"][:3] == h1["total"]
    assert torch.load(ck, weights_only=False)["step"] == 5
    torch.testing.assert_close(train_checkpoint.load_module_state(ck)["conv1_1.weight"], dec2.conv1_1.weight)


class _Interrupted(Exception):
    pass


def test_resume_then_finish_equals_the_unbroken_run(folder, tmp_path):
    """Random crops (Python's random), shuffled batches (the sampler) and the loss's own draws (torch's generator)
    all continue after a resume in the middle of an epoch: the history and the weights equal an unbroken run's."""
    enc = _encoder("relu1_1")
    data = train_data.ImageFolder(folder, size=12, crop="random")  # 5 files: 2 batches of 2 an epoch
    kw = dict(steps=7, batch_size=2, lr=1e-2, progress=False, log_every=1, device="cpu", seed=3)

    def run(checkpoint=None, crash_after=None, init=0):
        torch.manual_seed(init)
        dec = MirrorDecoder(1)
        inner, seen = train.ReconstructionLoss(enc, dec), []

        def loss(batch):
            if crash_after is not None and len(seen) == crash_after:
                raise _Interrupted
            seen.append(batch.clone())
            return inner(batch + 0.05 * torch.rand_like(batch))  # draws from torch's global generator

        torch.manual_seed(100)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the broken file is skipped with a warning
            hist = train.fit(loss, {"decoder": dec}, data, checkpoint=checkpoint, save_every=3, **kw)
        return hist, dec, seen

    h, straight, batches = run()
    ck = tmp_path / "r.ckpt"
    with pytest.raises(_Interrupted):
        run(ck, crash_after=4)  # dies in step 5, after the save at step 3 (the middle of the second epoch)
    assert torch.load(ck, weights_only=True)["step"] == 3
    h2, resumed, later = run(ck, init=1)  # other initial weights and global seed: all comes from the file
    assert len(later) == 4
    for a, b in zip(later, batches[3:]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)  # the same crops in the same order
    assert h2["step"] == h["step"] == list(range(1, 8)) and h2["total"] == h["total"]
    for (name, p), q in zip(straight.named_parameters(), resumed.parameters()):
        torch.testing.assert_close(q, p, rtol=0, atol=0, msg=name)


def test_a_checkpoint_from_before_several_optimisers_still_resumes(tmp_path):
    # files written before train_checkpoint.save_checkpoint held {"optimizers": {...}} had one "optimizer" entry
    torch.manual_seed(0)
    enc, dec = _encoder("relu1_1"), MirrorDecoder(1)
    ck, imgs = tmp_path / "old.ckpt", torch.rand(4, 3, 8, 8)
    train.fit(train.ReconstructionLoss(enc, dec), {"decoder": dec}, imgs, steps=2, batch_size=2, checkpoint=ck,
              progress=False, device="cpu")
    state = torch.load(ck, weights_only=True)
    state["optimizer"] = state.pop("optimizers")["adam"]
    torch.save(state, ck)
    dec2 = MirrorDecoder(1)
    h = train.fit(train.ReconstructionLoss(enc, dec2), {"decoder": dec2}, imgs, steps=3, batch_size=2, checkpoint=ck,
                  progress=False, log_every=1, device="cpu")
    assert h["step"][-1] == 3 and set(torch.load(ck, weights_only=True)["optimizers"]) == {"adam"}
    with pytest.raises(train_checkpoint.CheckpointConflictError, match="optimisers"):  # same modules, other optimisers
        train_checkpoint.open_checkpoint(ck, {"decoder": dec2}, {"g": torch.optim.Adam(dec2.parameters())})


def test_never_overwrites_another_runs_checkpoint(tmp_path):
    enc = _encoder("relu2_1")
    imgs = torch.rand(2, 3, 8, 8)
    ck = tmp_path / "run.ckpt"
    d1 = MirrorDecoder(1)
    train.fit(train.ReconstructionLoss(enc, d1, level=1), {"decoder": d1}, imgs, steps=1, batch_size=2,
              checkpoint=ck, progress=False, device="cpu")
    before = ck.read_bytes()
    d2 = MirrorDecoder(2)  # a different run (other shapes)
    with pytest.raises(train_checkpoint.CheckpointConflictError, match="different training run"):
        train.fit(train.ReconstructionLoss(enc, d2), {"decoder": d2}, imgs, steps=1, batch_size=2, checkpoint=ck,
                  progress=False, device="cpu")
    with pytest.warns(UserWarning, match="run-1.ckpt"):
        hist = train.fit(train.ReconstructionLoss(enc, d2), {"decoder": d2}, imgs, steps=1, batch_size=2, checkpoint=ck,
                  resume=False, progress=False, device="cpu")
    assert ck.read_bytes() == before and (tmp_path / "run-1.ckpt").exists()
    assert hist.checkpoint == tmp_path / "run-1.ckpt"
    foreign = tmp_path / "decoder.pth"  # a pretrained file, not a training checkpoint
    torch.save(d1.state_dict(), foreign)
    with pytest.raises(train_checkpoint.CheckpointConflictError, match="not a stylelab training checkpoint"):
        train.fit(train.ReconstructionLoss(enc, d1, level=1), {"decoder": d1}, imgs, steps=1, batch_size=2,
                  checkpoint=foreign, progress=False, device="cpu")


def test_bad_inputs_have_clear_errors():
    dec = MirrorDecoder(1)
    with pytest.raises(TypeError, match="'total'"):
        train.fit(lambda b: {"loss": dec(b.repeat(1, 22, 1, 1)[:, :64]).mean()}, {"decoder": dec}, torch.rand(2, 3, 8, 8), steps=1,
                  progress=False, device="cpu")
    with pytest.raises(ValueError, match="requires grad"):
        train.fit(lambda b: {"total": b.mean()}, {"decoder": dec.requires_grad_(False)}, torch.rand(2, 3, 8, 8),
                  steps=1, progress=False, device="cpu")


def test_cli_train_wct(folder, tmp_path, monkeypatch):
    from stylelab import cli

    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = cli.main(["train", "--method", "wct", "--level", "1", str(folder), "--steps", "2", "--batch-size", "2",
                       "--size", "16", "--resize", "16", "--random-weights", "--device", "cpu"])
    assert rc == 0 and (tmp_path / "wct_decoder1.ckpt").exists()


def test_cli_train_adain(folder, tmp_path, monkeypatch):
    from stylelab import cli

    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cli.main(["train", "--method", "adain", str(folder), "--steps", "1", "--batch-size", "2",
                         "--size", "16", "--resize", "16", "--random-weights", "--device", "cpu"]) == 1  # no --styles
        rc = cli.main(["train", "--method", "adain", str(folder), "--styles", str(folder), "--steps", "1",
                       "--batch-size", "2", "--size", "16", "--resize", "16", "--random-weights", "--device", "cpu"])
    assert rc == 0
    assert set(train_checkpoint.load_module_state(tmp_path / "adain_decoder.ckpt")) == set(MirrorDecoder(4).state_dict())


@pytest.mark.cuda
def test_fit_and_transforms_run_on_cuda():
    from stylelab.features import transforms as T
    from stylelab.features import whitening

    enc, dec = _encoder("relu1_1").cuda(), MirrorDecoder(1)
    hist = train.fit(train.ReconstructionLoss(enc, dec), {"decoder": dec}, torch.rand(2, 3, 8, 8), steps=2,
                     batch_size=2, progress=False, device="cuda")
    assert len(hist["total"]) == 2 and next(dec.parameters()).is_cuda
    c, s = torch.rand(1, 16, 8, 8, device="cuda"), torch.rand(1, 16, 8, 8, device="cuda")
    for preset in whitening.WCT_PRESETS:
        assert T.wct(c, s, preset=preset).is_cuda
    assert T.coral(torch.rand(3, 8, 8, device="cuda"), torch.rand(3, 8, 8, device="cuda")).is_cuda
