"""Train the ``vgg16-course`` decoders (:mod:`stylelab.nets.course_pair`) and write them to ``data/decoders/``.

Decoders that invert the offline ImageNet VGG-16 (:func:`stylelab.nets.encoders.vgg16`, HED's trunk),
trained here on natural photographs that are NOT the course images (those are the held-out
evaluation set): the photos of two Debian desktop-background packages listed in
:data:`stylelab.nets.course_pair.PHOTOS` (pinned package versions, SHA-256 of every .deb and of every
photo; licences and authors in the manifest ``data/decoders/vgg16-course.json``). The course's
own photos — and the package photos that ``tools/make_data.py`` turned into course images — are
left out.

* ``vgg16_nearest{L}.pt``, L = 1…5: :class:`~stylelab.nets.decoders.MirrorDecoder` at the widths of
  :data:`stylelab.nets.course_pair.WIDTHS` (AdaIN uses L = 4, the WCT cascade all five);
* ``vgg16_max{L}.pt``, L in :data:`stylelab.nets.course_pair.PHOTOWCT_LEVELS`: PhotoWCT's full-width
  max-unpooling decoders;
* ``vgg16_wct2_sum.pt``: WCT²'s decoder (full width: its skips have the encoder's channels, 7 MB in
  float16) for the frozen Haar-pooling encoder built from the VGG-16 convolutions
  (:func:`stylelab.nets.course_pair.wct2_encoder`). It is trained on the features AND the bands divided by
  one scale (:func:`fold` undoes it exactly) from He et al.'s initialisation (``--init kaiming``): a first
  attempt on the raw Caffe-range features from PyTorch's default initialisation reached 6.5 dB in 150 steps;
  this recipe reaches 16 dB on held-out photos in 600.

Recipe (:func:`stylelab.train.fit`, the trainer of ``stylelab train``; Adam, AdaIN's inverse
learning-rate decay ``lr / (1 + 1e-4·step)``): every photo is shrunk to 512 and to 256 px on its longer
side; ``--crops`` random ``--crop``² crops per photo at 512 px and half as many at 256 px (fixed seed);
the frozen encoder's features of every crop are computed once per level (float16 in memory); loss = pixel
MSE ‖g(φ_L(x)) − x‖², ``--batch`` crops per step. Checkpoints live in ``--work`` (default
``~/.cache/stylelab/vgg16-course``), one per job and recipe (:func:`checkpoint_path`): rerunning with
more ``--steps`` continues a run exactly where it stopped (``fit``'s resume). ``--warm-start CKPT``
starts a new recipe from an earlier run's weights (and its feature scale). Files are stored in float16;
the manifest records encoder, layer, width, data, recipe (crop, batch, lr, warm start), steps, time,
seed, SHA-256 and the held-out PSNR (the five course content photos at 256 px).

The shipped files were made in two rounds (both on one thread of a CPU shared with other jobs): round 1,
64 px crops in batches of 8 (``--steps`` as in :data:`DEFAULT_STEPS`); round 2 warm-started from round 1
under a time limit each (``timeout``; then ``--export`` writes the last checkpoint, saved every 100
steps) — the steps reached are in the manifest (``warm_start``, ``steps``; round 1 of nearest4 was saved as
``nearest4.ckpt``, unscaled, by an earlier version of this tool, which now writes ``nearest4-s.ckpt``):

    W=~/.cache/stylelab/vgg16-course
    python tools/train_vgg16_decoders.py                      # round 1: every level, 64 px crops, batch 8
    python tools/train_vgg16_decoders.py --only nearest4 --crop 96 --crops 64 --lr 1e-4 --warm-start $W/nearest4.ckpt --steps N
    python tools/train_vgg16_decoders.py --only nearest5 --crop 96 --warm-start $W/nearest5-s.ckpt --steps N   # nearest3 likewise
    python tools/train_vgg16_decoders.py --only max1 --batch 16 --warm-start $W/max1-s.ckpt --steps N   # nearest1, max2, nearest2 likewise
    python tools/train_vgg16_decoders.py --only nearest5 --crop 96 --warm-start $W/nearest5-s.ckpt --export   # write a run's checkpoint now
    python tools/train_vgg16_decoders.py --only wct2_sum --init kaiming --crop 96 --batch 4 --threads 2 --steps N
    python tools/train_vgg16_decoders.py --check              # PSNR of the stored files on the held-out photos

On a machine with an accelerator the same command trains there (``--device``, default the
device rule of :mod:`stylelab.device`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_standin_decoders import _Indices, _take  # noqa: E402  (the stand-ins' cached-feature helpers)

from stylelab.nets import course_pair as CP  # noqa: E402
from stylelab import train  # noqa: E402
from stylelab.device import get_device  # noqa: E402
from stylelab.nets.wavenets import WaveDecoder  # noqa: E402

DEFAULT_STEPS = {"nearest1": 300, "nearest2": 300, "nearest3": 400, "nearest4": 1700, "nearest5": 400,
                 "max1": 200, "max2": 300, "wct2_sum": 150}
UNSCALED = {"nearest4"}
JOBS = ["nearest4", "nearest1", "nearest2", "nearest3", "nearest5", "max1", "max2", "wct2_sum"]
CROP = 64


def crops(photos: list[torch.Tensor], per_image: int, seed: int = 0, size: int = CROP) -> torch.Tensor:
    """``per_image`` random ``size``² crops of every photo at 512 and (half as many) at 256 px longer side."""
    from stylelab.io import resize

    g = torch.Generator().manual_seed(seed)
    out = []
    for img in photos:
        for side, n in ((512, per_image), (256, max(1, per_image // 2))):
            x = resize(img, side)
            H, W = x.shape[-2:]
            for _ in range(n):
                i = int(torch.randint(0, H - size + 1, (1,), generator=g))
                j = int(torch.randint(0, W - size + 1, (1,), generator=g))
                out.append(x[..., i:i + size, j:j + size])
    return torch.cat(out)


def checkpoint_path(work: Path, job: str, crop: int = CROP, batch: int = 8) -> Path:
    """Where the run of ``job`` with this recipe saves (``{job}-s.ckpt`` for 64 px crops in batches of 8, as
    the first files were trained; ``{job}-c{crop}b{batch}.ckpt`` otherwise); its feature scale is in ``.scale``."""
    return work / (f"{job}-s.ckpt" if (crop, batch) == (CROP, 8) else f"{job}-c{crop}b{batch}.ckpt")


def kaiming_init(dec: torch.nn.Module) -> torch.nn.Module:
    """He et al. (ICCV 2015) initialisation of every hidden convolution (N(0, 2/fan_in), zero bias) and an almost
    silent output convolution (N(0, 1e-4²), bias ½: a mid-grey picture to start from).

    PyTorch's default (uniform with a = √5, variance 1/(3·fan_in)) shrinks the signal by about √6 at each of a
    decoder's ReLU layers; with He's variance it keeps its size. A fresh relu4_1 decoder so initialised (96 px
    crops × 8, lr 1e-3) reached a training-batch PSNR of 17.4 dB in 1,600 steps, which the shipped,
    default-initialised one reached only after 5,200 (two rounds, lr 1e-3 then 1e-4); on held-out photos both
    stay near 14 dB (BENCHMARKS.md, the course pair). WCT²'s decoder is trained from it (``--init kaiming``)."""
    convs = [m for m in dec.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        for m in convs[:-1]:
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
        torch.nn.init.normal_(convs[-1].weight, std=1e-4)
        torch.nn.init.constant_(convs[-1].bias, 0.5)
    return dec


def train_job(job: str, images: torch.Tensor, steps: int, lr: float, work: Path, device, seed: int = 0, *,
              batch: int = 8, warm: Path | None = None, init: str = "default"):
    """Train one decoder (resuming :func:`checkpoint_path`); returns ``(decoder, history)``.

    ``warm``: a checkpoint of an earlier run (any recipe) whose decoder weights start this run when it has no
    checkpoint yet; its feature scale (the ``.scale`` file beside it, 1 when absent) is kept.
    ``init``: ``"default"`` (PyTorch's) or ``"kaiming"`` (:func:`kaiming_init`), for a run that starts fresh."""
    with torch.no_grad():
        if job.startswith("wct2_"):
            enc = CP.wct2_encoder(device="cpu")
            fs, sks = [], []
            for i in range(0, len(images), 64):
                s: dict = {}
                fs.append(enc(images[i:i + 64], s).half())
                sks.append({k: v for k, v in s.items() if k.startswith("pool")})  # "sum" reads the bands only
            feats = torch.cat(fs)
            skips = {k: [torch.cat([s[k][b] for s in sks]).half() for b in range(3)] for k in sks[0]}
        else:
            unpool, level = job[:-1], int(job[-1])
            enc = CP.encoder(f"relu{level}_1", photowct=unpool == "max", device="cpu")
            layer = f"relu{level}_1"
            fs, sws = [], []
            for i in range(0, len(images), 64):
                f = enc(images[i:i + 64], layers=layer, switches=unpool == "max")
                fs.append(f[layer].half())
                sws.append(f.switches)
            feats = torch.cat(fs)
            # pooling switches (int32 in memory, int64 for max_unpool2d) and the pre-pooling sizes
            switches = {k: (torch.cat([s[k][0] for s in sws]).int(), sws[0][k][1]) for k in sws[0]}
    torch.manual_seed(seed)
    dec = CP.new_decoder(job).requires_grad_(True)
    if init == "kaiming":
        kaiming_init(dec)
    # VGG-16's Caffe features are large (relu1_1 spread ≈ 40): the decoder is trained on φ/s (one number per
    # layer, s = the features' standard deviation) and 1/s is folded into its first convolution afterwards
    # (exact: reflection padding commutes with a scalar). It made relu1_1's decoder trainable at all (300
    # steps: MSE 1.8 unscaled, 0.03 scaled) but relu4_1's worse (2400 steps: ~11 dB scaled against ~14 dB
    # unscaled at 1700), so relu4_1 is trained unscaled. WCT²'s decoder adds the encoder's bands: it sees the
    # features AND the bands divided by s, and fold() makes it a decoder of the unscaled ones (a ReLU network
    # is positively homogeneous: scaling its inputs by 1/s scales every hidden activation by 1/s once its
    # hidden biases are divided by s). Unscaled, its Caffe-range inputs (hundreds) made Adam diverge.
    scale = 1.0 if job in UNSCALED else float(feats[:256].float().std())
    crop = images.shape[-1]
    ckpt = checkpoint_path(work, job, crop, batch)
    if warm is not None:
        warm_scale = warm.with_suffix(".scale")
        scale = float(warm_scale.read_text()) if warm_scale.is_file() else 1.0
        if not ckpt.is_file():
            dec.load_state_dict(torch.load(warm, map_location="cpu", weights_only=False)["modules"]["decoder"])
    device = get_device(device)
    target = images.to(device)

    def loss_fn(idx):
        idx = idx.cpu()
        f = feats[idx].to(device).float() / scale
        if job.startswith("wct2_"):
            out = dec(f, {k: [b.to(device).float() / scale for b in v] for k, v in _take(skips, idx).items()})
        elif job.startswith("max"):
            out = dec(f, {k: (ix[idx].to(device).long(), size) for k, (ix, size) in switches.items()})  # reads size[-2:]
        else:
            out = dec(f)
        pixel = F.mse_loss(out, target[idx.to(device)])
        return {"total": pixel, "pixel": pixel.detach()}

    work.mkdir(parents=True, exist_ok=True)
    ckpt.with_suffix(".started").touch(exist_ok=True)  # for --export's time of a run still going on
    ckpt.with_suffix(".scale").write_text(repr(scale))  # for --export
    hist = train.fit(loss_fn, {"decoder": dec}, _Indices(len(images)), steps=steps, batch_size=batch, lr=lr,
                     lr_decay=1e-4, device=device, seed=seed, progress=False, log_every=25,
                     checkpoint=ckpt, save_every=100)
    return fold(dec.eval().requires_grad_(False).cpu(), scale), hist


def fold(dec, scale: float):
    """``dec`` trained on features divided by ``scale``, as a decoder of the features themselves.

    A mirror decoder reads only the feature: its first convolution's weight is divided by ``scale``. WCT²'s
    decoder also adds the encoder's bands at every unpooling, so the whole network is rescaled instead: each hidden
    bias is multiplied by ``scale`` (every hidden activation, and the bands added to it, are then ``scale`` times
    those of training) and the output convolution's weight is divided by it — the same function, exactly."""
    if scale != 1.0 and isinstance(dec, WaveDecoder):
        convs = [getattr(dec, n) for n in dec.names]
        with torch.no_grad():
            for c in convs[:-1]:
                c.bias.mul_(scale)
            convs[-1].weight.div_(scale)
    elif scale != 1.0:
        first = getattr(dec, dec.convs[0])
        with torch.no_grad():
            first.weight.div_(scale)
    dec.input_scale = scale
    return dec


def write_decoder(job: str, dec, hist, *, steps: int, seconds: float, crops: int, lr: float, seed: int = 0,
                  crop: int = CROP, batch: int = 8, warm: dict | None = None, init: str = "default") -> Path:
    """Save ``dec`` in float16 to :func:`stylelab.nets.course_pair.decoder_path` and record it in the manifest.

    ``seconds`` adds to the time already recorded for a resumed run (the file's total training time);
    the loss curve (``hist``) is kept in the manifest for the figure. ``warm`` (:func:`warm_info`): the run
    started from another run's weights; its steps, time (the manifest's entry for ``job`` when that run made
    it) and curve are counted in."""
    path = CP.decoder_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.half() for k, v in dec.state_dict().items()}, path)
    m = CP.manifest() or {}
    m["name"] = CP.NAME
    m["encoder"] = "vgg16 (stylelab.nets.encoders.vgg16: ImageNet VGG-16 fine-tuned by HED; frozen)"
    m["rebuild"] = "python tools/train_vgg16_decoders.py"
    m["photos"] = [{"package": pkg, "version": CP.PACKAGES[pkg][0], "file": f, "sha256": h, "author": a,
                    "license": lic} for pkg, f, h, a, lic in CP.PHOTOS]
    old = m.setdefault("decoders", {}).get(job, {})
    resumed = old.get("steps", 0) < steps and hist["step"] and hist["step"][0] > 1
    level = None if job.startswith("wct2") else int(job[-1])
    seconds += (old.get("seconds", 0.0) if resumed else 0.0)
    curve = {"step": list(hist["step"]), "pixel": list(hist["pixel"])}
    total = steps
    if warm is not None:
        warm_curve = warm["curve"]
        prev = old.get("warm_start") or {}
        warm = {"checkpoint": warm["checkpoint"], "steps": warm["steps"],
                "seconds": prev["seconds"] if prev.get("checkpoint") == warm["checkpoint"] else old.get("seconds", 0.0)}
        seconds += warm["seconds"]
        total += warm["steps"]
        w = warm_curve
        curve = {"step": w["step"] + [warm["steps"] + k for k in curve["step"]], "pixel": w["pixel"] + curve["pixel"]}
    m["decoders"][job] = {
        "file": path.name,
        "layer": f"relu{level}_1" if level else "relu4_1 (Haar pooling, skips)",
        "architecture": type(dec).__name__ + (f"(level={level}, unpool={dec.unpool!r}, width={dec.width})"
                                              if level else f"(unpool={dec.unpool!r}, width=1)"),
        "width": getattr(dec, "width", 1),
        "parameters": sum(p.numel() for p in dec.parameters()),
        "data": f"{len(CP.PHOTOS)} photos, {crops} random {crop} px crops (seed 0)",
        "loss": "pixel MSE",
        "input_scale": round(getattr(dec, "input_scale", 1.0), 4),
        "steps": steps, "batch": batch, "crop": crop, "lr": lr, "lr_decay": 1e-4, "seed": seed, "init": init,
        "warm_start": warm, "steps_total": total,
        "seconds": round(seconds, 1),
        "sha256": CP.sha256(path),
        # mean PSNR of the α = 0 reconstruction of the five course content photos (never trained on), 256 px
        "held_out_psnr": round(held_out_psnr(job, dec), 3),  # 3 decimals: the banner rounds again to 1
        "curve": {"step": curve["step"], "pixel": [round(v, 6) for v in curve["pixel"]]},
    }
    CP.manifest_path().write_text(json.dumps(m, indent=1) + "\n")
    return path


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(-10 * torch.log10(F.mse_loss(a.clamp(0, 1), b)))


def warm_info(warm: Path | None) -> dict | None:
    """What the manifest records of a warm start: the checkpoint's file name, its steps and its loss curve."""
    if warm is None:
        return None
    state = torch.load(warm, map_location="cpu", weights_only=False)
    return {"checkpoint": warm.name, "steps": int(state["step"]),
            "curve": {"step": list(state["history"]["step"]), "pixel": list(state["history"]["pixel"])}}


def held_out_psnr(job: str, dec=None, names=None,
                  size: int = 256) -> float:
    """Mean PSNR of ``dec`` (default: the stored file) reconstructing course content photos (never trained on)."""
    from stylelab.media import data

    dec = CP.decoder(job, "cpu") if dec is None else dec
    if job.startswith("wct2_"):  # WCT2.reconstruct: encode the padded photo with its skips, decode, crop back
        from stylelab.methods.wct2 import WCT2

        wct2 = WCT2(job.split("_")[1])
        wct2.encoder, wct2.decoder = CP.wct2_encoder(device="cpu"), dec
    else:
        unpool, level = job[:-1], int(job[-1])
        enc = CP.encoder(f"relu{level}_1", photowct=unpool == "max", device="cpu")
    out = []
    with torch.no_grad():
        for name in names or data.names("content"):
            x = data.load(name, size=size)
            if job.startswith("wct2_"):
                y = wct2.reconstruct(x)
            else:
                f = enc(x, layers=f"relu{level}_1", switches=unpool == "max")
                y = dec(f[f"relu{level}_1"], f.switches) if unpool == "max" else dec(f[f"relu{level}_1"])
            out.append(psnr(y[..., : x.shape[-2], : x.shape[-1]], x))
    return sum(out) / len(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=None, help="training steps per decoder (default: per decoder, "
                   + ", ".join(f"{k} {v}" for k, v in DEFAULT_STEPS.items()) + ")")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--crops", type=int, default=32, help="random crops per photo at 512 px (half at 256 px)")
    p.add_argument("--crop", type=int, default=CROP, help=f"crop side in pixels (default {CROP})")
    p.add_argument("--batch", type=int, default=8, help="crops per step (default 8)")
    p.add_argument("--warm-start", type=Path, default=None,
                   help="checkpoint of an earlier run (e.g. WORK/nearest4.ckpt) whose decoder starts this run; "
                        "ignored once this recipe's own checkpoint exists (then it resumes)")
    p.add_argument("--init", choices=["default", "kaiming"], default="default",
                   help="initialisation of a fresh run: PyTorch's default or He et al.'s (kaiming_init); default: default")
    p.add_argument("--only", default=None, help="comma-separated subset of " + ",".join(JOBS))
    p.add_argument("--work", type=Path, default=Path.home() / ".cache" / "stylelab" / "vgg16-course",
                   help="checkpoints and the downloaded packages")
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: the device rule)")
    p.add_argument("--export", action="store_true",
                   help="write data/decoders/ from the checkpoints in --work as they are now (a run still going on "
                        "keeps going; its time so far is read from the checkpoint file's age)")
    p.add_argument("--check", action="store_true", help="only report the stored decoders' PSNR on held-out photos")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.check:
        for job in JOBS:
            if CP.decoder_path(job).is_file():
                print(f"{job}: held-out PSNR at 256 px {held_out_psnr(job):.2f} dB", flush=True)
        return
    if args.export:
        for job in JOBS:
            ckpt = checkpoint_path(args.work, job, args.crop, args.batch)
            if ckpt.is_file() and (not args.only or job in args.only.split(",")):
                state = torch.load(ckpt, map_location="cpu", weights_only=False)
                dec = CP.new_decoder(job)
                dec.load_state_dict(state["modules"]["decoder"])
                dec = fold(dec, float(ckpt.with_suffix(".scale").read_text()))
                h = state["history"]
                started = ckpt.with_suffix(".started")
                seconds = ckpt.stat().st_mtime - started.stat().st_mtime if started.is_file() else 0.0
                path = write_decoder(job, dec.eval(), h, steps=int(state["step"]), seconds=seconds,
                                     crops=len(CP.PHOTOS) * (args.crops + args.crops // 2), lr=args.lr,
                                     crop=args.crop, batch=args.batch, warm=warm_info(args.warm_start), init=args.init)
                print(f"{path.name}: exported at step {state['step']}")
        return
    photos = CP.training_photos(args.work / "debs")
    print(f"{len(photos)} training photos", flush=True)
    images = crops(photos, args.crops, size=args.crop)
    print(f"{len(images)} crops of {args.crop} px", flush=True)
    jobs = [j for j in JOBS if not args.only or j in args.only.split(",")]
    for job in jobs:
        steps = args.steps or DEFAULT_STEPS[job]
        t0 = time.perf_counter()
        dec, hist = train_job(job, images, steps, args.lr, args.work, args.device, batch=args.batch,
                              warm=args.warm_start, init=args.init)
        seconds = time.perf_counter() - t0
        path = write_decoder(job, dec, hist, steps=steps, seconds=seconds, crops=len(images), lr=args.lr,
                             crop=args.crop, batch=args.batch, warm=warm_info(args.warm_start), init=args.init)
        print(f"{path.name}: {steps} steps in {seconds:.0f} s (this run), pixel MSE {hist['pixel'][0]:.4f} → "
              f"{hist['pixel'][-1]:.4f} (PSNR {-10 * math.log10(hist['pixel'][-1]):.1f} dB on training crops), "
              f"{path.stat().st_size / 1e6:.2f} MB", flush=True)


if __name__ == "__main__":
    main()
