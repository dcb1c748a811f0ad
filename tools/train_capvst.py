"""Train CAP-VSTNet's reversible network (:mod:`stylelab.methods.capvst`) and write it to ``data/decoders/``.

The training photos are those of the ``vgg16-course`` decoders (:data:`stylelab.nets.course_pair.PHOTOS`:
22 photos of two Debian desktop-background packages, none of them a course image — the course's
photos are the held-out evaluation set), fetched and checked by
:func:`stylelab.nets.course_pair.training_photos`, shrunk to ``--longer`` px and written as PNG to
``--work``/photos. Training is ``stylelab train --method capvst`` (:func:`stylelab.train.fit`: random
``--size``² crops of the photos resized to ``--resize`` on the shorter side; checkpoints and resume as
every method). ``--export`` then writes the run's network as a float16 state dict
``data/decoders/capvst_reversible.pt`` and the manifest ``capvst_reversible.json`` (photos, recipe,
steps, minutes, seed, SHA-256)::

    python tools/train_capvst.py --steps 550            # train (rerun with more steps to continue)
    python tools/train_capvst.py --steps 550 --export --minutes 14.4   # the shipped file
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from stylelab.cli import main as cli
from stylelab.methods import capvst
from stylelab.nets import course_pair as CP
from stylelab.train.checkpoint import load_module_state

RECIPE = {"size": 96, "resize": 192, "batch_size": 4, "lr": 5e-4, "lr_decay": 0.0, "seed": 0}


def photos(work: Path, longer: int) -> Path:
    from stylelab.io import resize, save_image

    out = work / "photos"
    if not out.is_dir() or len(list(out.glob("*.png"))) < len(CP.PHOTOS):
        out.mkdir(parents=True, exist_ok=True)
        for (pkg, file, *_), img in zip(CP.PHOTOS, CP.training_photos(work / "debs")):
            h, w = img.shape[-2:]
            s = longer / max(h, w)
            save_image(resize(img, (round(h * s), round(w * s))), out / (Path(file).stem + ".png"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path.home() / ".cache" / "stylelab" / "capvst")
    ap.add_argument("--longer", type=int, default=384)
    ap.add_argument("--steps", type=int, default=550)
    ap.add_argument("--export", action="store_true", help="write data/decoders/capvst_reversible.{pt,json}")
    ap.add_argument("--minutes", type=float, default=None, help="training time to record (--export)")
    args = ap.parse_args()
    ckpt = args.work / "capvst_reversible.ckpt"
    if args.export:
        state = {k: v.half() for k, v in load_module_state(str(ckpt), "net").items()}
        torch.save(state, capvst.default_path())
        run = torch.load(ckpt, map_location="cpu", weights_only=False)
        m = {"name": "capvst_reversible", "method": "capvst (stylelab.methods.capvst)",
             "architecture": capvst.ARCH, "rebuild": "python tools/train_capvst.py",
             "photos": [{"package": p, "version": CP.PACKAGES[p][0], "file": f, "sha256": h, "author": a,
                         "license": lic} for p, f, h, a, lic in CP.PHOTOS],
             "held_out": "the course images (data/content, data/style_*): never trained on",
             "recipe": dict(RECIPE, longer=args.longer, loss="style 1, matting 1e4, cycle 1e3 (capvst defaults)",
                            encoder="vgg16 relu1_1..relu4_1 (frozen)"),
             "steps": int(run["step"]), "minutes": args.minutes,
             "machine": "one thread of a shared 2-core CPU", "dtype": "float16",
             "last_losses": {k: v[-1] for k, v in run["history"].items() if k not in ("step", "lr") and v},
             "sha256": CP.sha256(capvst.default_path())}
        capvst.manifest_path().write_text(json.dumps(m, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {capvst.default_path()} ({capvst.default_path().stat().st_size} bytes), step {m['steps']}")
        return 0
    folder = photos(args.work, args.longer)
    r = RECIPE
    return cli(["train", "--method", "capvst", str(folder), "--steps", str(args.steps), "--size", str(r["size"]),
                "--resize", str(r["resize"]), "--batch-size", str(r["batch_size"]), "--lr", str(r["lr"]),
                "--lr-decay", str(r["lr_decay"]), "--seed", str(r["seed"]), "--save-every", "50",
                "--checkpoint", str(ckpt)])


if __name__ == "__main__":
    sys.exit(main())
