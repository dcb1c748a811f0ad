"""WCT² speed: stylelab against the official code's operations, and against PhotoWCT + smoothing.

    .venv/bin/python benchmarks/bench_wct2.py --sizes 512 --repeat 3          # CPU, the issue's setting
    .venv/bin/python benchmarks/bench_wct2.py                                 # CPU: 512 and 1024 px
    python benchmarks/bench_wct2.py --device cuda --sizes 512 1024 2048 4096

Rows, measured side by side in one process on the same random weights:

* ``reference``: the official code's operations (clovaai/WCT2, methods.md
  §8.1-8.5) rebuilt here: Haar pooling/unpooling as depthwise (transposed)
  convolutions, ``cat5`` unpooling by concatenating 5·C full-resolution
  channels, and every WCT call centring both features, forming ``Σ + I`` for
  content *and* style and running ``torch.svd(some=False)`` on each (float32),
  then whitening and colouring as separate products, clamp, α-blend.
* ``stylelab``: :meth:`stylelab.WCT2.stylize`: Haar by reshapes, ``cat5``
  unpool + convolution at half resolution
  (:func:`stylelab.wavelets.unpool_conv3x3`, exact), ``eigh`` with the style's
  colouring matrices computed once per transfer point, one fused product per
  WCT (:func:`stylelab.methods.wct2._apply_matrix`).
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
(after a warm-up on GPUs); on CUDA the peak memory is reported. The seed's
figure to beat is 4.7 s at 1024 px (WCT² paper, GPU).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stylelab import weights  # noqa: E402
from stylelab.device import get_device, synchronize  # noqa: E402
from stylelab import wavelets as Wv  # noqa: E402
from stylelab.methods import wct2 as M  # noqa: E402

warnings.filterwarnings("ignore", category=weights.RandomWeightsWarning)


# ---------------------------------------------------------------------------- the official loop
@torch.no_grad()
def official_transfer(model, content, style, transfer_at=M.COMPONENTS, alpha=1.0, feature_wct=None, clamp=True):
    """``transfer.py`` of clovaai/WCT2 (methods.md §8.5) with this model's layers.

    ``model`` is anything with ``encoder.encode`` and ``decoder.decode`` (:class:`ReferenceLayers`
    for the official code). ``feature_wct(content_feat, style_feat, alpha)`` is the WCT step;
    by default the reference's (:func:`reference_feature_wct`). tests/test_wct2.py passes an SVD
    float64 one to check ``WCT2.stylize`` against this very loop (and a per-label one; ``clamp=False``
    skips the final clamp to [0, 1] so that random weights' saturated outputs still compare values).
    """
    feature_wct = feature_wct or reference_feature_wct
    enc, dec = model.encoder, model.decoder
    skips, feats = {}, {"encoder": {}, "decoder": {}}
    x = style
    for level in (1, 2, 3, 4):
        x = enc.encode(x, skips, level)
        if "encoder" in transfer_at:
            feats["encoder"][level] = x
    if "encoder" not in transfer_at:
        feats["decoder"][4] = x
    for level in (4, 3, 2):
        x = dec.decode(x, skips, level)
        if "decoder" in transfer_at:
            feats["decoder"][level - 1] = x
    cs, x = {}, content
    for level in (1, 2, 3, 4):
        x = enc.encode(x, cs, level)
        if "encoder" in transfer_at:
            x = feature_wct(x, feats["encoder"][level], alpha)
    if "skip" in transfer_at:
        for p in ("pool1", "pool2", "pool3"):
            cs[p] = [feature_wct(cs[p][k], skips[p][k], alpha) for k in range(3)]
    for level in (4, 3, 2, 1):
        if "decoder" in transfer_at and level in feats["decoder"]:
            x = feature_wct(x, feats["decoder"][level], alpha)
        x = dec.decode(x, cs, level)
    return x.clamp(0, 1) if clamp else x


# ---------------------------------------------------------------------------- the reference's own layers
# ``official_transfer`` above runs on whatever encoder/decoder it is given. To time "the official code"
# rather than "the official WCT on stylelab's layers", these classes rebuild the reference modules'
# *operations* from methods.md §8.1-8.2 (same weights): Haar pooling as four depthwise stride-2 2×2
# convolutions whose weights are expanded views of one kernel, unpooling as four depthwise transposed
# convolutions (summed, or concatenated with the pre-pool activation), ReflectionPad2d + conv + in-place
# ReLU; and the WCT step of §8.4 op for op (clone, centre twice, Σ + I, ``torch.svd(some=False)``,
# diagonal-matrix products, whitening and colouring as two products, clamp, α-blend always computed).
class _ReferenceHaar(nn.Module):
    def __init__(self, channels: int, transpose: bool):
        super().__init__()
        layer = nn.ConvTranspose2d if transpose else nn.Conv2d
        kernels = Wv.haar_filters()
        self.bands = nn.ModuleList()
        for band in Wv.BANDS:
            m = layer(channels, channels, 2, stride=2, groups=channels, bias=False).requires_grad_(False)
            m.weight.data = kernels[band][None, None].expand(channels, 1, 2, 2)
            self.bands.append(m)


class ReferenceEncoder(M.WaveEncoder):
    """:class:`stylelab.methods.wct2.WaveEncoder`'s levels with the reference implementation's layers."""

    def __init__(self, unpool):
        super().__init__(unpool)
        self.pad = nn.ReflectionPad2d(1)
        self.pools = nn.ModuleDict({p: _ReferenceHaar(c, False) for p, c in M._POOL_CHANNELS.items()})

    def _c(self, name, x):
        return torch.relu_(getattr(self, name)(self.pad(x)))

    def _pool(self, x, skips, pool):
        ll, lh, hl, hh = (m(x) for m in self.pools[pool].bands)
        skips[M._SKIP_ORIGINAL[pool]] = x
        skips[pool] = [lh, hl, hh]
        return ll


class ReferenceDecoder(M.WaveDecoder):
    """:class:`stylelab.methods.wct2.WaveDecoder`'s levels with the reference implementation's layers."""

    def __init__(self, unpool):
        super().__init__(unpool, fused_unpool=False)
        self.pad = nn.ReflectionPad2d(1)
        self.unpools = nn.ModuleDict({p: _ReferenceHaar(c, True) for p, c in M._POOL_CHANNELS.items()})

    def _c(self, name, x):
        return torch.relu_(getattr(self, name)(self.pad(x)))

    def _up(self, x, skips, pool):
        ups = [m(b) for m, b in zip(self.unpools[pool].bands, [x, *skips[pool]])]
        if self.unpool == "sum":
            return ups[0] + ups[1] + ups[2] + ups[3]
        return torch.cat([*ups, skips[M._SKIP_ORIGINAL[pool]]], dim=1)


class ReferenceLayers(nn.Module):
    """The reference implementation's encoder and decoder carrying ``model``'s weights."""

    def __init__(self, model: M.WCT2):
        super().__init__()
        self.encoder = ReferenceEncoder(model.unpool)
        self.decoder = ReferenceDecoder(model.unpool)
        self.encoder.load_state_dict(model.encoder.state_dict(), strict=False)
        self.decoder.load_state_dict(model.decoder.state_dict(), strict=False)
        self.to(model.device, model.encoder.conv1_1.weight.dtype).eval().requires_grad_(False)


def _reference_svd(feat, iden=True):
    mean = feat.mean(1).unsqueeze(1).expand_as(feat)
    f = feat.clone()
    f -= mean
    n = feat.shape[1]
    cov = torch.mm(f, f.t()).div(n - 1) if n > 1 else torch.mm(f, f.t())
    if iden:
        cov += torch.eye(feat.shape[0], device=feat.device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.svd is deprecated; the reference calls it
        return torch.svd(cov, some=False)


def _reference_rank(values, eps=1e-5):
    for i in range(values.shape[0] - 1, -1, -1):
        if values[i] >= eps:
            return i + 1
    return values.shape[0]


def reference_feature_wct(content_feat, style_feat, alpha=1.0):
    """The WCT step of the reference (``utils/core.py``, methods.md §8.4), operation for operation."""
    cont = content_feat.squeeze(0).reshape(content_feat.shape[1], -1).clone()
    cmin, cmax = cont.min(), cont.max()
    cont -= cont.mean(1).unsqueeze(1).expand_as(cont)
    _, c_e, c_v = _reference_svd(cont)
    styl = style_feat.squeeze(0).reshape(style_feat.shape[1], -1).clone()
    s_mean = styl.mean(1)
    _, s_e, s_v = _reference_svd(styl)
    k_s = _reference_rank(s_e)
    ede = torch.mm(torch.mm(s_v[:, :k_s], torch.diag(s_e[:k_s].pow(0.5))), s_v[:, :k_s].t())
    k_c = _reference_rank(c_e)
    step2 = torch.mm(torch.mm(c_v[:, :k_c], torch.diag(c_e[:k_c].pow(-0.5))), c_v[:, :k_c].t())
    target = torch.mm(ede, torch.mm(step2, cont))
    target = target + s_mean.unsqueeze(1).expand_as(target)
    target.clamp_(cmin, cmax)
    target = target.view_as(content_feat)
    return alpha * target + (1 - alpha) * content_feat


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
    return [M._wct_cached(c, M._style_side(s, None, M._CFG), 1.0, None) for c, s in calls]


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
    if device.type != "cpu":
        fn()  # warm-up (kernels, allocator); on the CPU the first run is representative
    times = []
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for _ in range(repeat):
        synchronize(device)
        t0 = time.perf_counter()
        out = fn()
        synchronize(device)
        times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
    return statistics.median(times), peak, out


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
            from stylelab.methods.photowct import PhotoWCT

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
    print("WCT² paper (seed): 4.7 s at 1024 px on a GPU, no post-processing.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
