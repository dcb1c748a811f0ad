"""Seconds per Gatys optimisation step: stylelab against the PyTorch tutorial's formulation.

Both run the tutorial's exact settings (``stylelab.methods.gatys.preset("tutorial")``:
torchvision VGG-19 with max pooling, content conv2_2, style conv1_1…conv3_1,
Gram/(C·H·W) + MSE, weights 1 and 1e6, L-BFGS with PyTorch's defaults, start
from the content, clamp in the closure) on the same weights and images. The
tutorial formulation ("Neural Transfer Using PyTorch", pytorch/tutorials
``advanced_source/neural_style_tutorial.py``) is re-implemented in
:mod:`benchmarks.reference.gatys_tutorial`: transparent loss modules inserted
after the named convolutions of a *copied*, renamed ``nn.Sequential`` that is
truncated after the last loss module. A "step" is one loss evaluation (forward + backward + L-BFGS update),
the unit the tutorial counts; each timed run is one L-BFGS ``.step()`` of
``--evals`` evaluations on both sides.

    python benchmarks/bench_gatys.py                  # CPU (and CUDA when available), 256 and 512 px
    python benchmarks/bench_gatys.py --sizes 128 --evals 6 --repeats 2 --devices cpu

Prints a table with the two timings and their ratio (tutorial / stylelab: >1
means stylelab is faster), plus the relative difference of the loss values
the two compute on the same image (they must agree).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.reference.gatys_tutorial import (  # noqa: E402
    torchvision_features_like, tutorial_loss, tutorial_run,
)
from stylelab.nets.encoders import vgg19  # noqa: E402
from stylelab.methods import gatys  # noqa: E402
from stylelab.metrics import measure as timed  # noqa: E402


# ------------------------------------------------------------------ measurement
def measure(device: str, size: int, evals: int, repeats: int) -> dict:
    dev = torch.device(device)
    g = torch.Generator().manual_seed(0)
    content = torch.rand(1, 3, size, size, generator=g).to(dev)
    style = torch.rand(1, 3, size, size, generator=g).to(dev)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = vgg19(weights="random", last_layer="relu5_4", device=dev)
    cnn = torchvision_features_like(enc).to(dev)
    # one L-BFGS .step() of `evals` evaluations on both sides (the per-evaluation cost is what is compared)
    cfg = gatys.preset("tutorial", steps=evals, stop="exact", lbfgs_max_iter=evals)
    ours_enc = gatys.get_encoder(cfg, dev, random=True)  # cached, truncated at conv3_1
    ours_enc.load_state_dict({k: v for k, v in enc.state_dict().items() if k in ours_enc.state_dict()})

    # the two formulations must compute the same loss
    obj = gatys.GatysObjective(ours_enc, cfg, content, style)
    probe = torch.rand(1, 3, size, size, generator=g).to(dev)
    with torch.no_grad():
        ours_loss = float(obj(probe)[0])
    ref_loss = tutorial_loss(cnn, content, style, probe)

    def run_ours():
        r = gatys.run(content, style, cfg, encoder=ours_enc, progress=False)
        return r.evaluations

    def run_tutorial():
        return tutorial_run(cnn, content, style, content, num_steps=0, max_iter=evals)[1]

    run_ours(), run_tutorial()  # warm-up
    t_ours, t_tut = [], []
    for _ in range(repeats):
        for fn, out in ((run_ours, t_ours), (run_tutorial, t_tut)):
            m = timed(fn, device=dev)
            out.append(m.seconds / m.result)
    return {
        "device": device, "size": size,
        "stylelab": statistics.median(t_ours), "tutorial": statistics.median(t_tut),
        "loss_rel_diff": abs(ours_loss - ref_loss) / abs(ref_loss),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="256,512", help="image sides in px (default 256,512)")
    p.add_argument("--evals", type=int, default=10, help="loss evaluations per timed run (one L-BFGS .step() on each side)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per implementation (median reported)")
    p.add_argument("--devices", default=None, help="comma-separated devices (default: cpu, and cuda when available)")
    args = p.parse_args(argv)
    devices = args.devices.split(",") if args.devices else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads; tutorial preset, "
          f"{args.evals} evaluations per run, median of {args.repeats}")
    print(f"{'device':<7} {'size':>5} {'stylelab s/step':>16} {'tutorial s/step':>16} {'tutorial/stylelab':>18} {'loss rel. diff':>15}")
    for dev in devices:
        for size in (int(s) for s in args.sizes.split(",")):
            r = measure(dev, size, args.evals, args.repeats)
            print(f"{r['device']:<7} {r['size']:>5} {r['stylelab']:>16.4f} {r['tutorial']:>16.4f} "
                  f"{r['tutorial'] / r['stylelab']:>18.2f} {r['loss_rel_diff']:>15.1e}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
