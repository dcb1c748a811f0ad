"""Train the stand-in decoders of ``stylelab.course.standin`` and write them to ``data/decoders/``.

The notebooks use them when the pretrained weights are missing (and in CI):
decoders that invert the fixed-seed random normalised VGG-19 of
:func:`stylelab.course.standin.random_encoder`, trained on the course images only.

* ``standin_nearest{L}.pt``, L = 1…5: ``MirrorDecoder(L, width=16)`` (AdaIN uses L = 4,
  the WCT cascade all five);
* ``standin_max{L}.pt``, L = 1, 2: PhotoWCT's full-width max-unpooling decoders;
* ``standin_wct2_{sum,cat5}.pt``: WCT²'s decoders at 1/8 width, inverting
  :func:`stylelab.course.standin.wct2_encoder` (the encoder's Haar skips are cached with its output).

Recipe (:func:`stylelab.train.fit`: Adam, AdaIN's inverse learning-rate decay,
batch 8, ``--steps`` per decoder): 64×64 random crops (``--crops`` per image,
fixed seed) of every image of ``data/`` (content, style photos, style art,
textures; their 48×48 centres for PhotoWCT's full-width decoders); the frozen
encoder's features of every crop are computed once; loss = pixel MSE ‖g(φ_L(x)) − x‖²
(the feature term of Li et al.'s reconstruction loss is left out: it would
need the encoder's backward pass at every step, too slow for a CPU rebuild).
Files are stored in float16 (a few hundred KB at most each).

    python tools/train_standin_decoders.py                                          # all, 150 steps each
    python tools/train_standin_decoders.py --only nearest3 --steps 1200   # (pixel MSE 0.0225 → 0.0190)
    # the files in data/decoders/ were made by these two commands, in this order (~7 min on one
    # CPU core); more steps for levels 4–5 help a little more, at ~4 and ~7 min per 1000 steps
    nice -n 10 python tools/train_standin_decoders.py --only wct2_cat5 --steps 500 --lr 3e-3   # (MSE 0.337 → 0.0037)
    nice -n 10 python tools/train_standin_decoders.py --only wct2_sum --steps 1500 --lr 3e-3   # (MSE 0.183 → 0.0116)
    # the WCT² files were added later by these two commands (one thread, a shared machine: ~3 and ~2 min)
    python tools/train_standin_decoders.py --check    # reconstruction error of the stored files
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from stylelab.media import data
from stylelab.course import standin
from stylelab import train
from stylelab.nets.decoders import MirrorDecoder
from stylelab.nets.wavenets import WaveDecoder


class _Indices(torch.utils.data.Dataset):
    """Items are crop indices: the loss looks the cached features and pixels up."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.tensor(i)


def crops(size: int = 64, per_image: int = 12, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    out = []
    for kind in data.KINDS:
        for name in data.names(kind):
            img = data.load(name, size=2 * size + size // 2)  # shorter side 160 for 64 px crops
            H, W = img.shape[-2:]
            for _ in range(per_image):
                i = int(torch.randint(0, H - size + 1, (1,), generator=g))
                j = int(torch.randint(0, W - size + 1, (1,), generator=g))
                out.append(img[..., i:i + size, j:j + size])
    return torch.cat(out)


def encode_all(images: torch.Tensor) -> dict:
    """The frozen encoder's features of every crop, once: ``{"nearest": Features, "max": Features}``."""
    layers = [f"relu{L}_1" for L in (1, 2, 3, 4, 5)]
    enc = standin.random_encoder("relu5_1")
    with torch.no_grad():
        feats = {"nearest": enc(images, layers=layers)}
        small = images[..., 8:56, 8:56]  # PhotoWCT's full-width decoders train on 48 px centre crops (cheaper)
        feats["max"] = enc(small, layers=[f"relu{L}_1" for L in standin.PHOTOWCT_LEVELS], switches=True)
        feats["max_images"] = small
    return feats


def _take(tree, idx):
    """``tree`` (tensors, lists of tensors, dicts of those) with every tensor indexed by ``idx`` (the batch)."""
    if isinstance(tree, dict):
        return {k: _take(v, idx) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_take(v, idx) for v in tree]
    return tree[idx]


def train_wct2(images: torch.Tensor, unpool: str, steps: int, lr: float, seed: int = 0):
    """WCT²'s stand-in decoder: pixel MSE ‖g(φ(x), skips(x)) − x‖² with φ = :func:`standin.wct2_encoder`."""
    enc = standin.wct2_encoder(unpool)
    skips: dict = {}
    with torch.no_grad():
        f = enc(images, skips)  # 64-px crops: multiples of 8, no padding needed
    dec = WaveDecoder(unpool, width=standin.WCT2_WIDTH).requires_grad_(True)

    def loss_fn(idx):
        pixel = F.mse_loss(dec(f[idx], _take(skips, idx)), images[idx])
        return {"total": pixel, "pixel": pixel.detach()}

    hist = train.fit(loss_fn, {"decoder": dec}, _Indices(len(images)), steps=steps, batch_size=8, lr=lr,
                     lr_decay=1e-3, device="cpu", seed=seed, progress=False, log_every=max(1, steps // 10))
    return dec.eval().requires_grad_(False), hist


def train_level(images: torch.Tensor, feats: dict, level: int, unpool: str, steps: int, lr: float, seed: int = 0):
    layer = f"relu{level}_1"
    f, sw = feats[unpool][layer], feats[unpool].switches
    target = images if unpool == "nearest" else feats["max_images"]
    dec = MirrorDecoder(level, unpool=unpool, width=1 if unpool == "max" else standin.WIDTH).requires_grad_(True)

    def loss_fn(idx):
        if unpool == "max":
            out = dec(f[idx], {k: (ix[idx], size) for k, (ix, size) in sw.items()})  # the decoder reads size[-2:]
        else:
            out = dec(f[idx])
        pixel = F.mse_loss(out, target[idx])
        return {"total": pixel, "pixel": pixel.detach()}

    hist = train.fit(loss_fn, {"decoder": dec}, _Indices(len(images)), steps=steps, batch_size=8, lr=lr,
                     lr_decay=1e-3, device="cpu", seed=seed, progress=False, log_every=max(1, steps // 10))
    return dec.eval().requires_grad_(False), hist


def check(images: torch.Tensor) -> dict:
    """Mean absolute reconstruction error of every stored decoder on ``images``."""
    errs = {}
    for unpool, levels in (("nearest", (1, 2, 3, 4, 5)), ("max", standin.PHOTOWCT_LEVELS)):
        for level in levels:
            enc = standin.random_encoder(f"relu{level}_1")
            dec = standin.decoder(level, unpool)
            with torch.no_grad():
                feats = enc(images, layers=f"relu{level}_1", switches=unpool == "max")
                out = dec(feats[f"relu{level}_1"], feats.switches) if unpool == "max" else dec(feats[f"relu{level}_1"])
            errs[f"{unpool}{level}"] = float((out - images).abs().mean())
    for unpool in ("sum", "cat5"):
        with torch.no_grad():
            out = standin.model("wct2", unpool=unpool, device="cpu").reconstruct(images)
        errs[f"wct2_{unpool}"] = float((out - images).abs().mean())
    return errs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=150, help="training steps per decoder (default 150)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--crops", type=int, default=8, help="random 64×64 crops per course image")
    p.add_argument("--only", default=None, help="comma-separated subset, e.g. nearest4,max2")
    p.add_argument("--check", action="store_true", help="only report the stored decoders' reconstruction error")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: these small convolutions run slower with more on a busy machine)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    images = crops(per_image=args.crops)
    if args.check:
        for k, v in check(images).items():
            print(f"{k}: mean |x − g(φ(x))| = {v:.4f}")
        return
    jobs = [("nearest", L) for L in (1, 2, 3, 4, 5)] + [("max", L) for L in standin.PHOTOWCT_LEVELS]
    jobs += [("wct2_sum", None), ("wct2_cat5", None)]
    if args.only:
        jobs = [(u, L) for u, L in jobs if f"{u}{L or ''}" in args.only.split(",")]
    feats = None
    for unpool, level in jobs:
        t0 = time.perf_counter()
        if level is None:  # WCT²: its own encoder, skips cached inside
            wave = unpool.split("_")[1]
            dec, hist = train_wct2(images, wave, args.steps, args.lr)
            path = standin.wct2_decoder_path(wave)
        else:
            if feats is None:
                feats = encode_all(images)
                print(f"encoded {len(images)} crops in {time.perf_counter() - t0:.0f} s", flush=True)
                t0 = time.perf_counter()
            dec, hist = train_level(images, feats, level, unpool, args.steps, args.lr)
            path = standin.decoder_path(level, unpool)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({k: v.half() for k, v in dec.state_dict().items()}, path)
        print(f"{path.name}: {args.steps} steps in {time.perf_counter() - t0:.0f} s, pixel MSE "
              f"{hist['pixel'][0]:.4f} → {hist['pixel'][-1]:.4f}, {path.stat().st_size / 1e3:.0f} kB", flush=True)


if __name__ == "__main__":
    main()
