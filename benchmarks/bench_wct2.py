"""WCT² speed: stylelab against the official formulation, and against PhotoWCT + smoothing.

    .venv/bin/python benchmarks/bench_wct2.py                       # CPU: 512 and 1024 px
    .venv/bin/python benchmarks/bench_wct2.py --sizes 512 --unpool sum
    python benchmarks/bench_wct2.py --device cuda --sizes 512 1024 2048 4096

Rows, measured side by side in one run on the same random weights:

* ``official``: the reference formulation (clovaai/WCT2 ``utils/core.py``,
  methods.md §8.4), re-implemented here: every WCT call centres both
  features, forms ``Σ + I`` for content *and* style, runs a full
  ``torch.linalg.svd`` on each (float32), truncates at 1e-5, whitens,
  colours, clamps to the content range; the style pass of ``transfer.py``.
* ``stylelab``: :meth:`stylelab.WCT2.stylize` (``eigh``, style colouring
  matrices computed once per transfer point; low-rank path when a feature
  has fewer positions than channels).
* ``stylelab (style prepared)``: the content pass only, with
  :meth:`WCT2.prepare_style` done beforehand (what a video pays per frame).
* ``PhotoWCT + smoothing``: ``PhotoWCT.stylize(..., smoothing=--smoothing)``
  (stylelab's PhotoWCT, random weights).

The outputs of ``official`` and ``stylelab`` are compared (max |difference|)
so the speed-up is for the same computation; the "WCTs only" rows time just
the 16 feature transforms of one transfer (recorded from the official loop),
the part where the two differ (max relative |Δ| per feature). The seed's figure to beat is
4.7 s at 1024 px (WCT² paper, GPU).

Measured on the shared 2-core development machine (random weights): the 16
WCTs are a minority of the run time at 512 px (~1.2 s of ~5 s for ``sum``,
~1.2 s of ~20 s for ``cat5``, whose 5·C-channel decoder convolutions alone are
~290 GFLOP per decode); the convolutions are identical in both rows. The
``eigh`` + cached-style path is 1.1–1.5× faster on the WCTs on a quiet
machine and up to ~10× under CPU contention (where LAPACK's SVD degrades
most); reusing the prepared style (video) removes the style pass entirely. Times are the median of ``--repeat`` runs
after one warm-up; on CUDA the peak memory is reported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stylelab import weights  # noqa: E402
from stylelab.device import get_device, synchronize  # noqa: E402
from stylelab.methods import wct2 as M  # noqa: E402

warnings.filterwarnings("ignore", category=weights.RandomWeightsWarning)


# ---------------------------------------------------------------------------- official formulation
def _official_svd(feat: torch.Tensor, iden: bool = True):
    n = feat.shape[1]
    mean = feat.mean(1, keepdim=True)
    fc = feat - mean
    cov = fc @ fc.t() / (n - 1) if n > 1 else fc @ fc.t()
    if iden:
        cov = cov + torch.eye(cov.shape[0], device=feat.device, dtype=feat.dtype)
    u, e, vh = torch.linalg.svd(cov, full_matrices=True)
    return fc, mean, u, e, vh.t()


def _rank(e, eps=1e-5):
    k = e.shape[0]
    for i in range(k - 1, -1, -1):
        if e[i] >= eps:
            return i + 1
    return k


def official_wct_core(cont: torch.Tensor, styl: torch.Tensor) -> torch.Tensor:
    """One WCT as ``utils/core.py:wct_core`` computes it (C×N matrices, float32, per-call SVDs)."""
    cmin, cmax = cont.min(), cont.max()
    fc, _, _, c_e, c_v = _official_svd(cont)
    k_c = _rank(c_e)
    fs, s_mean, _, s_e, s_v = _official_svd(styl)
    k_s = _rank(s_e)
    c_d = c_e[:k_c].pow(-0.5)
    step1 = c_v[:, :k_c] * c_d
    whiten = (step1 @ c_v[:, :k_c].t()) @ fc
    s_d = s_e[:k_s].pow(0.5)
    colour = ((s_v[:, :k_s] * s_d) @ s_v[:, :k_s].t()) @ whiten + s_mean
    return colour.clamp(cmin, cmax)


def official_feature_wct(content_feat, style_feat, alpha=1.0):
    c = content_feat[0].flatten(1)
    s = style_feat[0].flatten(1)
    t = official_wct_core(c, s).view_as(content_feat[0])[None]
    return alpha * t + (1 - alpha) * content_feat


@torch.no_grad()
def official_transfer(model: M.WCT2, content, style, transfer_at=M.COMPONENTS, alpha=1.0, feature_wct=None):
    """``transfer.py`` of clovaai/WCT2 (methods.md §8.5) with this model's layers.

    ``feature_wct(content_feat, style_feat, alpha)`` is the WCT step; by default the
    official per-call-SVD float32 core. tests/test_wct2.py passes an SVD float64 one to
    check ``WCT2.stylize`` against this very loop.
    """
    feature_wct = feature_wct or official_feature_wct
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
    return x.clamp(0, 1)


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


def recorded_wct_calls(model, content, style):
    """The (content_feat, style_feat) pairs of every WCT of one official transfer (for the WCT-only rows)."""
    calls = []
    global official_feature_wct
    original = official_feature_wct

    def recording(c, s, alpha=1.0):
        calls.append((c, s))
        return original(c, s, alpha)

    official_feature_wct = recording
    try:
        official_transfer(model, content, style)
    finally:
        official_feature_wct = original
    return calls


def wct_only(calls, which):
    """Run only the WCTs: the official per-call SVD formulation, or stylelab's (eigh, style side computed once)."""
    out = []
    for c, s in calls:
        if which == "official":
            out.append(official_feature_wct(c, s))
        else:
            out.append(M._wct_cached(c, M._style_side(s, None, M._CFG), 1.0, None))
    return out


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
                   help="largest size at which the official row runs (default 512 on CPU, 2048 on GPU)")
    p.add_argument("--no-photowct", action="store_true")
    p.add_argument("--smoothing", default="auto", help="PhotoWCT smoothing mode (stylelab.smoothing.smooth; default auto)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device(args.device)
    sizes = args.sizes or ([512, 1024, 2048, 4096] if device.type == "cuda" else [512, 1024])
    args.baseline_max = args.baseline_max or (2048 if device.type == "cuda" else 512)
    torch.manual_seed(0)
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, random weights")
    print(f"{'method':<34}{'size':>6}{'time s':>10}{'peak GiB':>10}{'vs official':>13}{'max |Δ|':>10}")
    photowct = None
    if not args.no_photowct:
        try:
            from stylelab.methods.photowct import PhotoWCT

            photowct = PhotoWCT.from_official(device=device, random=True)
        except Exception as err:
            print(f"(PhotoWCT row skipped: {type(err).__name__}: {str(err).splitlines()[0][:80]})")
    for unpool in args.unpool:
        model = he_init(M.WCT2.from_official("random", "random", unpool=unpool, device=device))
        for size in sizes:
            g = torch.Generator().manual_seed(size)
            content = torch.rand(1, 3, size, size, generator=g).to(device)
            style = torch.rand(1, 3, size, size, generator=g).to(device)
            base_t = None
            base_out = None
            if size <= args.baseline_max:
                try:
                    base_t, peak, base_out = timed(lambda: official_transfer(model, content, style), device, args.repeat)
                    print(f"{'official formulation (' + unpool + ')':<34}{size:>6}{base_t:>10.2f}{peak:>10.2f}{'1.00×':>13}{'':>10}")
                except torch.cuda.OutOfMemoryError:
                    print(f"{'official formulation (' + unpool + ')':<34}{size:>6}{'OOM':>10}")
                    torch.cuda.empty_cache()
            try:
                t, peak, out = timed(lambda: model.stylize(content, style), device, args.repeat)
                diff = f"{(out - base_out).abs().max().item():.1e}" if base_out is not None else ""
                ratio = f"{base_t / t:.2f}×" if base_t else ""
                print(f"{'stylelab (' + unpool + ')':<34}{size:>6}{t:>10.2f}{peak:>10.2f}{ratio:>13}{diff:>10}")
                prep = model.prepare_style(style)
                t2, peak2, _ = timed(lambda: model.stylize(content, prep), device, args.repeat)
                ratio = f"{base_t / t2:.2f}×" if base_t else ""
                print(f"{'stylelab, style prepared (' + unpool + ')':<34}{size:>6}{t2:>10.2f}{peak2:>10.2f}{ratio:>13}")
            except torch.cuda.OutOfMemoryError:
                print(f"{'stylelab (' + unpool + ')':<34}{size:>6}{'OOM':>10}")
                torch.cuda.empty_cache()
            if base_t is not None:
                calls = recorded_wct_calls(model, content, style)
                tw0, _, o0 = timed(lambda: wct_only(calls, "official"), device, args.repeat)
                tw1, _, o1 = timed(lambda: wct_only(calls, "stylelab"), device, args.repeat)
                d = max(((a - b).abs().max() / a.abs().max().clamp_min(1e-12)).item() for a, b in zip(o0, o1))
                print(f"{'  WCTs only (' + str(len(calls)) + '), official':<34}{size:>6}{tw0:>10.2f}{'':>10}{'1.00×':>13}")
                print(f"{'  WCTs only, stylelab':<34}{size:>6}{tw1:>10.2f}{'':>10}{tw0 / tw1:>12.2f}×{d:>10.1e}")
                del calls, o0, o1
            del base_out
    if photowct is not None:
        for size in sizes:
            g = torch.Generator().manual_seed(size)
            content = torch.rand(1, 3, size, size, generator=g).to(device)
            style = torch.rand(1, 3, size, size, generator=g).to(device)
            try:
                t, peak, _ = timed(lambda: photowct.stylize(content, style, smoothing=args.smoothing), device, args.repeat)
                print(f"{'PhotoWCT + smoothing (' + args.smoothing + ')':<34}{size:>6}{t:>10.2f}{peak:>10.2f}")
            except Exception as err:  # OOM or a solver limit at large sizes
                print(f"{'PhotoWCT + smoothing':<34}{size:>6}  failed: {type(err).__name__}: {str(err)[:60]}")
    print("WCT² paper (seed): 4.7 s at 1024 px on a GPU, no post-processing.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
