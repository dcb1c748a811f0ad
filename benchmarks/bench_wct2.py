"""WCT² speed: stylelab against the official code's operations, and against PhotoWCT + smoothing.

    .venv/bin/python benchmarks/bench_wct2.py --sizes 512 --repeat 3          # CPU, the issue's setting
    .venv/bin/python benchmarks/bench_wct2.py                                 # CPU: 512 and 1024 px
    python benchmarks/bench_wct2.py --device cuda --sizes 512 1024 2048 4096

Rows, measured side by side in one process on the same random weights:

* ``reference``: the official code's operations (clovaai/WCT2 ``model.py``,
  ``transfer.py``, ``utils/core.py``) rebuilt in :mod:`benchmarks.reference.wct2_official`: Haar pooling/unpooling as depthwise (transposed)
  convolutions, ``cat5`` unpooling by concatenating 5·C full-resolution
  channels, and every WCT call centring both features, forming ``Σ + I`` for
  content *and* style and running ``torch.svd(some=False)`` on each (float32),
  then whitening and colouring as separate products, clamp, α-blend.
* ``stylelab``: :meth:`stylelab.methods.wct2.WCT2.stylize`: Haar by reshapes, ``cat5``
  unpool + convolution at half resolution
  (:func:`stylelab.features.wavelets.unpool_conv3x3`, exact), ``eigh`` with the style's
  colouring matrices computed once per transfer point, one fused product per
  WCT (:func:`stylelab.features.transforms.wct_prepared`).
* ``stylelab, style prepared``: the content pass only, after
  :meth:`WCT2.prepare_style` (what a video pays per frame).
* ``WCTs only``: just the 16 feature transforms of one transfer (recorded
  from the reference loop), reference against stylelab.
* ``PhotoWCT + smoothing``: stylelab's PhotoWCT (random weights) with
  ``--smoothing``.

``max |Δ|`` compares each output with the reference's (float32 rounding through
a deep random network: ~1e-3 on images in [0, 1]). ``--count-macs`` also prints
the multiply-adds of every convolution each row runs, and the rate one large
3×3 convolution reaches on this machine: MACs ÷ that rate is the least time
the convolutions alone can take. Times are the median of ``--repeat`` runs
(after a warm-up on GPUs); on CUDA the peak memory is reported. The WCT²
paper (Yoo et al., ICCV 2019) reports 4.7 s at 1024 px on a GPU.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.reference.wct2_official import ReferenceLayers, official_transfer, reference_feature_wct  # noqa: E402
from stylelab.features import transforms as T  # noqa: E402
from stylelab import weights  # noqa: E402
from stylelab.device import get_device  # noqa: E402
from stylelab.methods import wct2 as M  # noqa: E402
from stylelab.methods.photowct import PhotoWCT  # noqa: E402
from stylelab.metrics import measure  # noqa: E402

warnings.filterwarnings("ignore", category=weights.RandomWeightsWarning)


def he_init(model: M.WCT2, seed: int = 0) -> M.WCT2:
    """Variance-preserving random weights (He et al. 2015) so features keep a realistic scale through
    all layers (PyTorch's default init shrinks them; some random draws then give non-finite covariances)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, m in list(model.encoder.named_children()) + list(model.decoder.named_children()):
            if isinstance(m, torch.nn.Conv2d) and name != "conv0":
                fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
                w = torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5
                m.weight.copy_(w.to(m.weight.device))
                m.bias.zero_()
    return model


def recorded_wct_calls(layers, content, style):
    """The (content_feat, style_feat) pairs of every WCT of one reference transfer (for the WCT-only rows)."""
    calls = []

    def recording(c, s, alpha=1.0):
        calls.append((c, s))
        return reference_feature_wct(c, s, alpha)

    official_transfer(layers, content, style, feature_wct=recording)
    return calls


def wct_only(calls, which):
    """Run only the WCTs: the reference's (per-call SVDs), or stylelab's (eigh, style side computed once)."""
    if which == "reference":
        return [reference_feature_wct(c, s) for c, s in calls]
    return [T.wct_prepared(c, T.prepare_wct_style(s, M._CFG)) for c, s in calls]


def count_conv_macs(fn) -> int:
    """Multiply-adds of every ``conv2d``/``conv_transpose2d`` that ``fn()`` runs (dispatcher-level count)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    ops = counter.get_flop_counts().get("Global", {})
    return sum(v for k, v in ops.items() if "conv" in str(k)) // 2


def conv_peak_rate(device, repeat: int = 3) -> float:
    """GMAC/s of one large 3×3 convolution (256 → 256 channels at 128×128): the machine's practical peak."""
    x = torch.randn(1, 256, 130, 130, device=device)
    w = torch.randn(256, 256, 3, 3, device=device)
    t, _, _ = timed(lambda: torch.nn.functional.conv2d(x, w), device, repeat + 1)
    return 256 * 256 * 9 * 128 * 128 / t / 1e9


# ---------------------------------------------------------------------------- timing
def timed(fn, device, repeat):
    """``(median seconds, peak GiB on CUDA else nan, output)`` by :func:`stylelab.metrics.measure`
    (a warm-up call first on GPUs; on the CPU the first run is representative)."""
    m = measure(fn, device=device, repeat=repeat, warmup=0 if device.type == "cpu" else 1)
    peak = m.peak_bytes / 2**30 if device.type == "cuda" and m.peak_bytes is not None else float("nan")
    return m.seconds, peak, m.result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=None, help="square sizes (default 512 1024; GPU adds 2048 4096)")
    p.add_argument("--unpool", nargs="+", default=["cat5", "sum"], choices=["cat5", "sum"])
    p.add_argument("--device", default=None)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--baseline-max", type=int, default=None,
                   help="largest size at which the reference row runs (default 512 on CPU, 2048 on GPU)")
    p.add_argument("--no-photowct", action="store_true")
    p.add_argument("--count-macs", action="store_true", help="also count convolution multiply-adds per row")
    p.add_argument("--smoothing", default="auto", help="PhotoWCT smoothing mode (stylelab.smoothing.smooth; default auto)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device(args.device)
    sizes = args.sizes or ([512, 1024, 2048, 4096] if device.type == "cuda" else [512, 1024])
    args.baseline_max = args.baseline_max or (2048 if device.type == "cuda" else 512)
    torch.manual_seed(0)
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, random weights, "
          f"median of {args.repeat}")
    rate = None
    if args.count_macs:
        rate = conv_peak_rate(device)
        print(f"one 256→256 3×3 convolution at 128×128 runs at {rate:.0f} GMAC/s here")
    print(f"{'method':<34}{'size':>6}{'time s':>10}{'peak GiB':>10}{'vs reference':>13}{'max |Δ|':>10}"
          + (f"{'conv GMAC':>11}{'conv floor s':>13}" if rate else ""))

    def row(name, size, t, peak, ratio="", diff="", macs=None):
        extra = f"{macs / 1e9:>11.0f}{macs / 1e9 / rate:>13.2f}" if macs is not None and rate else ""
        print(f"{name:<34}{size:>6}{t:>10.2f}{peak:>10.2f}{ratio:>13}{diff:>10}{extra}", flush=True)

    photowct = None
    if not args.no_photowct:
        try:
            photowct = PhotoWCT.from_official(device=device, random=True)
        except Exception as err:
            print(f"(PhotoWCT row skipped: {type(err).__name__}: {str(err).splitlines()[0][:80]})")
    for unpool in args.unpool:
        model = he_init(M.WCT2.from_official("random", "random", unpool=unpool, device=device))
        layers = ReferenceLayers(model)
        for size in sizes:
            g = torch.Generator().manual_seed(size)
            content = torch.rand(1, 3, size, size, generator=g).to(device)
            style = torch.rand(1, 3, size, size, generator=g).to(device)
            base_t = base_out = None
            run_ref = lambda: official_transfer(layers, content, style)  # noqa: E731
            run_sl = lambda: model.stylize(content, style)  # noqa: E731
            if size <= args.baseline_max:
                try:
                    base_t, peak, base_out = timed(run_ref, device, args.repeat)
                    row(f"reference ({unpool})", size, base_t, peak, "1.00×",
                        macs=count_conv_macs(run_ref) if rate else None)
                except torch.cuda.OutOfMemoryError:
                    print(f"{'reference (' + unpool + ')':<34}{size:>6}{'OOM':>10}")
                    torch.cuda.empty_cache()
            try:
                t, peak, out = timed(run_sl, device, args.repeat)
                diff = f"{(out - base_out).abs().max().item():.1e}" if base_out is not None else ""
                row(f"stylelab ({unpool})", size, t, peak, f"{base_t / t:.2f}×" if base_t else "", diff,
                    macs=count_conv_macs(run_sl) if rate else None)
                prep = model.prepare_style(style)
                t2, peak2, _ = timed(lambda: model.stylize(content, prep), device, args.repeat)
                row(f"stylelab, style prepared ({unpool})", size, t2, peak2, f"{base_t / t2:.2f}×" if base_t else "")
            except torch.cuda.OutOfMemoryError:
                print(f"{'stylelab (' + unpool + ')':<34}{size:>6}{'OOM':>10}")
                torch.cuda.empty_cache()
            if base_t is not None:
                calls = recorded_wct_calls(layers, content, style)
                tw0, _, o0 = timed(lambda: wct_only(calls, "reference"), device, args.repeat)
                tw1, _, o1 = timed(lambda: wct_only(calls, "stylelab"), device, args.repeat)
                d = max(((a - b).abs().max() / a.abs().max().clamp_min(1e-12)).item() for a, b in zip(o0, o1))
                row(f"  WCTs only ({len(calls)}), reference", size, tw0, float("nan"), "1.00×")
                row("  WCTs only, stylelab", size, tw1, float("nan"), f"{tw0 / tw1:.2f}×", f"{d:.1e}")
                del calls, o0, o1
            del base_out
    if photowct is not None:
        for size in sizes:
            g = torch.Generator().manual_seed(size)
            content = torch.rand(1, 3, size, size, generator=g).to(device)
            style = torch.rand(1, 3, size, size, generator=g).to(device)
            try:
                t, peak, _ = timed(lambda: photowct.stylize(content, style, smoothing=args.smoothing), device, args.repeat)
                row(f"PhotoWCT + smoothing ({args.smoothing})", size, t, peak)
            except Exception as err:  # OOM or a solver limit at large sizes
                print(f"{'PhotoWCT + smoothing':<34}{size:>6}  failed: {type(err).__name__}: {str(err)[:60]}")
    print("WCT² paper (Yoo et al., ICCV 2019): 4.7 s at 1024 px on a GPU, no post-processing.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
