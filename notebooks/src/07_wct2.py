# %% [markdown]
# # 07 · WCT²: wavelet pooling and progressive stylization
#
# **Before this notebook:** [04 · WCT](04_wct.ipynb) (exercise 04.wct: applied to every wavelet band here) and [05](05_photowct.ipynb) (unpooling with switches; exercise 05.max_unpool).
#
# **Time:** about 1.3 min (79 s) in full mode on a 2-core laptop (measured with the trained networks installed, README, "Full mode: what a student runs"); under 90 s in fast mode (`STYLELAB_FAST=1`).
#
# **What you will learn**
#
# * why max pooling loses information a decoder cannot recover, and how **Haar
#   wavelet pooling** pools *without* losing anything: orthonormal filters, perfect
#   reconstruction, and a low band LL that is exactly 2 × average pooling;
# * what the four subbands LL, LH, HL, HH hold, with an interactive **subband explorer**
#   for photos and for encoder features;
# * the "LL only keeps structure" result of WCT², first in pixel space (no network, no
#   weights), then with the WCT² model: stylizing at the **encoder**, the **skips** and
#   the **decoder**, one component at a time;
# * **progressive** stylization (one pass) against a **multi-level** cascade;
# * the style strength α and label maps;
# * how to measure the temporal stability of video stylization without optical flow.

# %% [markdown]
# ## The idea in pictures
#
# PhotoWCT tried to help its decoder by telling it *where* each max was taken
# (max-unpooling). It helped little: a max-pooled feature map keeps one value in four
# and forgets the other three, so edges come back blurred and a smoothing step had to
# clean up afterwards — and that step dominated its running time.
#
# WCT² (Yoo et al., ICCV 2019) swaps every pooling of the encoder for a Haar wavelet
# transform. Each 2×2 block is rewritten in a new basis of four "patterns":
#
# ```
#   block        LL (average)   LH (left↔right)  HL (top↕bottom)  HH (diagonal)
#  [a  b]   →   ½[+1 +1]        ½[−1 +1]          ½[−1 −1]          ½[+1 −1]
#  [c  d]        [+1 +1]         [−1 +1]           [+1 +1]           [−1 +1]
# ```
#
# Four numbers in, four numbers out: nothing is lost. LL continues through the network
# (like pooling would), and LH, HL, HH travel to the decoder as skip connections, which
# puts them back exactly. Because every stage can be undone, one encoder/decoder pass
# with WCT inside it is enough — no cascade of autoencoders, no post-processing.

# %% [markdown]
# ## The equations
#
# With $L = \tfrac{1}{\sqrt 2}[1, 1]$ and $H = \tfrac{1}{\sqrt 2}[-1, 1]$ the 2×2 kernels
# are the outer products $LL = L^\top L$, $LH = L^\top H$, $HL = H^\top L$, $HH = H^\top H$.
# Stacked as the rows $t_k^\top$ of a 4×4 matrix Φ acting on the flattened block (so the
# band coefficients of a block $x$ are $\Phi x$), they are orthonormal: $\Phi\Phi^\top = I$.
# Φ is square, so also $\Phi^\top\Phi = \sum_k t_k t_k^\top = I$, which is the reconstruction:
#
# $$x = \Phi^\top\Phi x = \sum_{X\in\{LL,LH,HL,HH\}} \mathrm{ConvT}_X(\mathrm{Conv}_X(x)),\qquad \lVert x\rVert^2 = \lVert \Phi x\rVert^2 = \sum_X \lVert X\rVert^2 .$$
#
# And $LL = \tfrac12(a+b+c+d) = 2\cdot\mathrm{avgpool}(x)$.
#
# The WCT of WCT² (official code, not in the paper) adds the identity to *both*
# covariances and clamps to the content's range:
#
# $$T = (\Sigma_s + I)^{1/2}(\Sigma_c + I)^{-1/2}(F_c - \mu_c) + \mu_s,\quad T \leftarrow \mathrm{clamp}(T, \min F_c, \max F_c),\quad \text{out} = \alpha T + (1-\alpha)F_c .$$

# %%
import warnings

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

import stylelab
from stylelab import course, viz, weights
from stylelab.media import data, video
from stylelab.features import wavelets
from stylelab.device import get_device
from stylelab.course.exercises import drawn_by, use
from stylelab.methods import wct2
from stylelab.features import wavelet_transfer
from stylelab.course.widgets.subbands import SubbandExplorer

warnings.filterwarnings("ignore", category=weights.RandomWeightsWarning)  # the banners say it once per model
torch.manual_seed(0)
device = get_device()
size = course.pick(full=512, fast=64)
content_name, style_name = data.pairs()[0]
content = data.load(content_name, size=(size, size), device=device)
style = data.load(style_name, size=(size, size), device=device)
print(f"device {device}, {size} px, content {content_name!r}, style {style_name!r}")

# %% [markdown]
# ## 1 · Wavelets are lossless pooling
#
# `stylelab.features.wavelets.haar_dwt` gives the four bands; `haar_idwt` puts them back. We
# check the three properties above on a real photo, in float32.

# %%
x = data.load("astronaut", size=(size, size))
LL, LH, HL, HH = wavelets.haar_dwt(x)
rec = wavelets.haar_idwt(LL, LH, HL, HH)
err = (rec - x).abs().max().item()
assert err < 1e-6, err                                            # perfect reconstruction
assert torch.allclose(LL, 2 * F.avg_pool2d(x, 2), atol=1e-6)      # LL = 2 × average pooling
energy = sum(b.pow(2).sum() for b in (LL, LH, HL, HH))
assert torch.isclose(energy, x.pow(2).sum(), rtol=1e-5)           # energy preserved

# max pooling, then the best a decoder can do without the lost values: copy the max back
mx = F.max_pool2d(x, 2)
from_max = F.interpolate(mx, scale_factor=2, mode="nearest")
from_avg = F.interpolate(LL / 2, scale_factor=2, mode="nearest")  # LL alone
print(f"max |error|: Haar {err:.1e}, max-pool+copy {(from_max - x).abs().max():.3f}, LL only {(from_avg - x).abs().max():.3f}")
viz.show_images([x, from_max, from_avg, rec],
                ["original", "max-pool → nearest", "LL only (avg) → nearest", "Haar: all 4 bands → inverse"],
                size=2.6);

# %% [markdown]
# **Exercise 07.haar_ll** — Haar analysis by hand: compute the LL band of `x`
# `(B, C, H, W)` (even sides) with strided slicing, no convolution. The next figure
# builds a three-level LL pyramid with *your* function (with a reference version until
# yours passes).

# %%
def my_ll(x):
    raise NotImplementedError  # your code here


haar_ll = use("07.haar_ll", my_ll)

# %%
pyramid = [x]
for _ in range(3):
    pyramid.append(haar_ll(pyramid[-1]))
# LL_k is 2^k × the average of a 2^k × 2^k block: divide by 2^k to display it in [0, 1]
viz.show_images([p / 2 ** k for k, p in enumerate(pyramid)], [f"LL{k} ({drawn_by(haar_ll)})" if k else "image" for k in range(4)], size=2.2)
assert all(torch.allclose(pyramid[k + 1], 2 * F.avg_pool2d(pyramid[k], 2), atol=1e-5) for k in range(3))

# %% [markdown]
# The three detail bands are mostly near zero on smooth areas and large on edges:
# that is where max pooling's loss hides. The fraction of the energy per band:

# %%
e = wavelets.band_energy((LL, LH, HL, HH))
fig, ax = plt.subplots(figsize=(4, 2.5))
ax.bar(list(e), [100 * v for v in e.values()])
ax.set_ylabel("% of energy"); ax.set_yscale("log"); ax.set_title("Haar bands of a photo (level 1)")
fig.tight_layout();

# %% [markdown]
# ### Unpooling, then a convolution = a convolution at half resolution
#
# The `cat5` decoder upsamples each band with its transposed Haar filter, stacks the four
# results with the encoder's activation (5·C channels) and runs a 3×3 convolution. Every
# upsampled band is constant up to the sign pattern of its 2×2 filter, so each output
# pixel really reads only 2×2 positions of each band: the same numbers come out of one 2×2
# convolution per output *phase* (even/odd row × even/odd column) on the bands themselves —
# 16·C·K instead of 36·C·K multiply-adds per pixel for the band part, and no 5·C-channel
# tensor. `stylelab.features.wavelets.unpool_conv3x3` does this; the WCT² decoder uses it.

# %%
C, K, h = 32, 32, course.pick(full=64, fast=16)
bands = [torch.randn(1, C, h, h) for _ in range(4)]
original = torch.randn(1, C, 2 * h, 2 * h)
weight, bias = torch.randn(K, 5 * C, 3, 3) / (45 * C) ** 0.5, torch.zeros(K)
stacked = wavelets.WaveUnpool("cat5")(*bands, original=original)                  # (1, 5C, 2h, 2h)
direct = F.conv2d(F.pad(stacked, (1, 1, 1, 1), mode="reflect"), weight, bias)
halfres = wavelets.unpool_conv3x3(*bands, original, weight, bias)
print(f"max |difference| {(direct - halfres).abs().max():.1e}; multiply-adds per output pixel: "
      f"{45 * C * K:,} (upsample + concatenate) vs {25 * C * K:,} (half resolution)")
assert torch.allclose(direct, halfres, atol=1e-5)

# %% [markdown]
# ## 2 · The subband explorer
#
# A static picture first (the bands at level 2 and the reconstruction from LL alone),
# then the explorer: move the level, switch bands on and off, and watch the
# reconstruction and the energy table. The decomposition is computed once; the
# controls only re-synthesise, so it stays quick at 512 px on a CPU.

# %%
ex = SubbandExplorer(x, max_level=4)
ex.level, ex.bands = 2, {"LL"}
ex.figure(size=2.2);

# %%
SubbandExplorer(x, max_level=4).widget()

# %% [markdown]
# The same explorer works on **encoder features** (any number of channels; pick one with
# the channel slider). Here: the pre-pooling activation `conv1_2` of the WCT² encoder.
#
# Without the official weights, the notebook runs the course pair **`vgg16-course`**
# (`stylelab.nets.course_pair`): the offline ImageNet VGG-16's convolutions with Haar pooling
# in place of max pooling — frozen, where the paper retrains its encoder with the new pooling —
# and a `sum` decoder trained in this repository to invert them (the banner gives its photos,
# minutes and how well it reconstructs photos it never saw). Without the offline VGG-16 it
# falls back to the course's **stand-in** (`stylelab.course.standin`: the same architecture at
# 1/8 of its channels, a fixed-seed random encoder and a decoder trained to invert it).

# %%
model = course.method_model("wct2", device=device, unpool="sum")  # the paper's files, else the course's networks
course.weights_banner(model, "WCT² (sum)")
skips = {}
with torch.no_grad():
    model.encoder.encode(x.to(device), skips, 1)
feat = skips["conv1_2"].cpu()
print("conv1_2:", tuple(feat.shape))
SubbandExplorer(feat, max_level=3).widget()

# %% [markdown]
# ## 3 · Wavelet style transfer in pixel space — no network needed
#
# The heart of WCT²'s "LL only keeps structure" figure can be reproduced without any
# weights: decompose content and style into a Haar pyramid, match the colour statistics
# (3×3 WCT) of the coarsest LL band only — or of every band — and synthesise.

# %%
levels = course.pick(full=4, fast=3)
ll_only = wavelet_transfer.wavelet_transfer(content, style, levels=levels, bands="LL")
all_bands = wavelet_transfer.wavelet_transfer(content, style, levels=levels, bands="all")
viz.show_images([content, style, ll_only, all_bands],
                ["content", "style", f"WCT on LL{levels} only", "WCT on every band"], size=2.6);

# %% [markdown]
# Which bands changed? The explorer's `compare=` mode measures ‖B_out − B_in‖/‖B_in‖ per
# band. We compare the results *before* clipping to [0, 1] (`clamp=False`): with LL only,
# the detail bands do not move at all. Clipping the *displayed* image is another matter:
# where the new colours leave [0, 1], clipping flattens edges, and that shows up as
# detail-band change — measured in the last check below.

# %%
raw_ll = wavelet_transfer.wavelet_transfer(content, style, levels=levels, bands="LL", clamp=False)
raw_all = wavelet_transfer.wavelet_transfer(content, style, levels=levels, bands="all", clamp=False)
cmp_ll = SubbandExplorer(content.cpu(), max_level=levels, compare=raw_ll.cpu())
cmp_all = SubbandExplorer(content.cpu(), max_level=levels, compare=raw_all.cpu())
cmp_ll.level = cmp_all.level = levels
ch_ll, ch_all = cmp_ll.band_change(), cmp_all.band_change()
assert max(ch_ll["LH"], ch_ll["HL"], ch_ll["HH"]) < 1e-4 < ch_ll["LL"], ch_ll
assert min(ch_all["LH"], ch_all["HL"], ch_all["HH"]) > 1e-3, ch_all
cmp_clip = SubbandExplorer(content.cpu(), max_level=levels, compare=ll_only.cpu())  # the clipped, displayed image
cmp_clip.level = levels
ch_clip = cmp_clip.band_change()
clip_detail = max(ch_clip["LH"], ch_clip["HL"], ch_clip["HH"])
print("relative change per band, LL only: before clipping "
      + ", ".join(f"{k} {v:.1e}" for k, v in ch_ll.items()) + "; after clipping " + ", ".join(f"{k} {v:.2f}" for k, v in ch_clip.items()))
assert clip_detail > 100 * max(ch_ll["LH"], ch_ll["HL"], ch_ll["HH"]), "clipping is what moves the detail bands"
fig, ax = plt.subplots(figsize=(5, 2.8))
idx = torch.arange(4)
ax.bar(idx - 0.2, list(ch_ll.values()), 0.4, label="LL only")
ax.bar(idx + 0.2, list(ch_all.values()), 0.4, label="every band")
ax.set_xticks(idx, list(ch_ll)); ax.set_ylabel("relative change"); ax.legend(); ax.set_title(f"level {levels}")
fig.tight_layout();

# %% [markdown]
# The detail bands did not move — but that does not mean the picture gained no edges. The
# change LL-only transfer makes is the synthesis of an LL change alone, which is constant
# on every $2^L\times2^L$ block: in pixel space it is a mosaic, and its steps are new edges
# on the block grid.

# %%
change = (raw_ll - content)[0].mean(0).cpu()  # what LL-only transfer added (grey), unclipped
step = 2 ** levels
dx = (change[:, 1:] - change[:, :-1]).abs()  # horizontal steps; a block border lies after columns step-1, 2·step-1, …
on_grid = float(dx[:, step - 1::step].sum() / dx.sum())
grey = content[0].mean(0).cpu()
print(f"LL-only change: {100 * on_grid:.2f}% of its horizontal steps lie on the {step}-px block borders; "
      f"mean step there {float(dx[:, step - 1::step].mean()):.3f}, the content's own mean step "
      f"{float((grey[:, 1:] - grey[:, :-1]).abs().mean()):.3f}")
assert on_grid > 0.99, "the LL-only change must be constant on each 2^L block"

# %% [markdown]
# The explorer below compares the *unclipped* LL-only result (what the transfer did);
# pass `compare=ll_only` instead to see what clipping adds.

# %%
SubbandExplorer(content.cpu(), max_level=levels, compare=raw_ll.cpu()).widget()

# %% [markdown]
# ## 4 · The WCT² model, component by component
#
# `stylelab.methods.wct2.WCT2.from_official(unpool="cat5" | "sum")` loads the official checkpoints
# through the weights registry. `transfer_at` chooses where WCT runs: at the
# **encoder** outputs (low frequencies), at the **skips** (the LH/HL/HH bands of the three
# poolings) and at the **decoder**. The README of the official code suggests `sum` for
# this experiment. On the course pair the statistics are a real VGG-16's but the decoder is
# ours, weaker than the paper's; on the stand-in they are a random encoder's.

# %%
components = [("encoder",), ("skip",), ("decoder",), ("encoder", "skip"), ("encoder", "skip", "decoder")]
msize = course.pick(full=384, fast=64)
c_m, s_m = data.load(content_name, size=(msize, msize), device=device), data.load(style_name, size=(msize, msize), device=device)
outs = {ta: model.stylize(c_m, s_m, transfer_at=ta) for ta in components}
for ta, out in outs.items():
    assert out.shape == c_m.shape
viz.assert_not_flat(list(outs.values()), what="WCT² panel")  # pretrained or stand-in: every panel has contrast
viz.show_images([c_m, s_m] + list(outs.values()), ["content", "style"] + ["+".join(ta) for ta in outs],
                ncols=4, size=2.4);

# %% [markdown]
# Any image size works: stylelab pads to a multiple of 8 and crops back (the reference
# code crops the input instead).

# %%
odd = data.load("coffee", size=course.pick(full=301, fast=45))
out_odd = model.stylize(odd.to(device), s_m, transfer_at=("skip",))
assert out_odd.shape == odd.shape, out_odd.shape
print("input", tuple(odd.shape), "→ output", tuple(out_odd.shape))

# %% [markdown]
# ## 5 · Progressive against multi-level
#
# WCT and PhotoWCT stylize in a **cascade**: stylize, decode, encode again at the next
# level, stylize again… With networks, each round trip adds the *decoder's*
# reconstruction error: a learnt decoder only approximately inverts its encoder. WCT²
# does all levels in **one** pass through an (almost) invertible network. The
# pixel-space analogue: one pyramid with WCT on every band (progressive) versus
# re-running the transfer three times on its own output (cascade). Here the round trip
# itself is exact — the Haar transform loses nothing (checked below, to float32
# rounding) — so any extra drift of the cascade comes from re-applying WCT to an
# already stylized image, not from reconstruction. We count how far each drifts from
# the content's structure: the relative change of the finest detail bands.

# %%
progressive = wavelet_transfer.wavelet_transfer(content, style, levels=3, bands="all")
cascade = content
for lv in (3, 2, 1):
    cascade = wavelet_transfer.wavelet_transfer(cascade, style, levels=lv, bands="all")


def detail_change(y):
    a, b = wavelets.haar_dwt(content), wavelets.haar_dwt(y)
    return sum(float((q - p).norm() / p.norm()) for p, q in zip(a[1:], b[1:])) / 3


round_trip = content
for _ in range(3):  # three analysis/synthesis round trips of a 3-level pyramid, no WCT
    round_trip = wavelets.haar_waverec(*wavelets.haar_wavedec(round_trip, 3))
rt_err = (round_trip - content).abs().max().item()
print(f"3 Haar round trips without WCT: max |error| {rt_err:.1e} (lossless up to float32 rounding)")
assert rt_err < 1e-5
print(f"detail change: progressive {detail_change(progressive):.3f}, cascade {detail_change(cascade):.3f}")
viz.show_images([content, progressive, cascade], ["content", "progressive (1 pass)", "cascade (3 passes)"], size=2.6);

# %% [markdown]
# ## 6 · Style strength α and label maps
#
# Every WCT blends `α T + (1 − α) F_c`. Label maps restrict each WCT to matching
# regions (sky to sky): labels must cover more than 10 pixels in both images with a
# pixel-count ratio below 100, otherwise the region keeps its content features.

# %%
alphas = [0.0, 0.5, 1.0]
row = [wavelet_transfer.wavelet_transfer(content, style, levels=levels, alpha=a) for a in alphas]
viz.show_images(row, [f"pixel, α = {a}" for a in alphas], size=2.4);

# %%
lc, ls = data.pairs(labelled=True)[0]
lsize = course.pick(full=384, fast=64)
c_l, s_l = data.load(lc, size=(lsize, lsize), device=device), data.load(ls, size=(lsize, lsize), device=device)
cl, sl = data.load_labels(lc, size=(lsize, lsize)), data.load_labels(ls, size=(lsize, lsize))
with_labels = wavelet_transfer.wavelet_transfer(c_l, s_l, levels=levels, content_labels=cl, style_labels=sl)
model_labels = model.stylize(c_l, s_l, transfer_at=("skip", "decoder"), content_labels=cl, style_labels=sl)
assert with_labels.shape == c_l.shape and model_labels.shape == c_l.shape
viz.show_images([c_l, s_l, cl[0, 0].float(), with_labels, model_labels],
                ["content", "style", "content labels", "pixel, with labels",
                 "WCT² with labels" + model.tag],
                ncols=5, size=2.2);

# %% [markdown]
# ## 7 · Video: stable without a temporal term
#
# The paper reports that WCT² stylizes video frames independently without flicker. We
# make a short "video" by panning a window over a photo while it darkens, stylize every
# frame, and compare the mean frame-to-frame change of the output with the input's
# (`ratio` ≈ 1 is stable, ≫ 1 flickers). The style's statistics are prepared once
# (`prepare_style`) and reused for every frame. (In the fast mode of the automatic
# tests the "video" has only two frames; with random weights the numbers say nothing
# about the methods.)

# %%
n_frames = course.pick(full=8, fast=2)
vsize = course.pick(full=192, fast=48)
still = data.load(content_name, size=(vsize, vsize + 4 * n_frames))
frames = video.pan_frames(still, n_frames=n_frames, step=4, size=(vsize, vsize), fade=0.3).to(device)
prep = model.prepare_style(s_m, ("skip", "decoder"))
runs = {
    "WCT²" + model.tag: lambda f: model.stylize(f, prep),
    "wavelet LL (pixels)": lambda f: wavelet_transfer.wavelet_transfer(f, style, levels=3),
}
try:
    pwct = course.method_model("photowct", device=device)  # as notebook 05: the paper's, the course pair or the stand-in
    pw_levels = pwct.trained_levels
    course.weights_banner(pwct, "PhotoWCT")
    runs["PhotoWCT" + pwct.tag] = lambda f: pwct.stylize(f, s_m, levels=pw_levels)
    if not course.is_fast():  # PhotoWCT's four autoencoders are slow on a CPU: the smoothed row runs at default settings
        runs["PhotoWCT + smoothing" + pwct.tag] = lambda f: pwct.stylize(f, s_m, levels=pw_levels, smoothing="auto")
except Exception as err:  # not available in this installation
    print(f"PhotoWCT not run: {type(err).__name__}: {str(err).splitlines()[0][:100]}")
results = {name: video.stylize_frames(fn, frames, progress=False) for name, fn in runs.items()}
results["constant black (degenerate)"] = torch.zeros_like(frames)  # the trap: see below
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", UserWarning)
    tc = {name: video.temporal_consistency(frames, out) for name, out in results.items()}
flagged = [name for name, v in tc.items() if v["contrast"] < video.MIN_CONTRAST]
fig, ax = plt.subplots(figsize=(6, 2.8))
bars = ax.barh(list(tc), [v["ratio"] for v in tc.values()],
               color=["tab:red" if n in flagged else "tab:blue" for n in tc])
for bar, v in zip(bars, tc.values()):
    ax.annotate(f" contrast ×{v['contrast']:.2f}", (bar.get_width(), bar.get_y() + bar.get_height() / 2), va="center", fontsize=7)
ax.axvline(1, color="k", lw=0.8); ax.set_xlabel("Δ(output) / Δ(input)")
ax.set_title("temporal change ratio (red: output too flat for the ratio to mean anything)", fontsize=9)
fig.tight_layout()
for name in flagged:
    print(f"⚠ {name}: {tc[name]['contrast']:.2f}× the input's contrast — its low ratio rewards a flat output, not stability")
assert tc["constant black (degenerate)"]["ratio"] == 0 and "constant black (degenerate)" in flagged
assert len(caught) >= len(flagged)
viz.show_images([frames[0], frames[-1]] + [r[-1] for r in results.values()],
                ["frame 0", f"frame {n_frames - 1}"] + list(results), ncols=5, size=2.2);

# %% [markdown]
# **Read the ratio with the contrast.** A constant black video never changes, so it
# scores ratio 0 — "more stable" than any method — while showing nothing. Any metric
# of change rewards an output that does not change, and a washed-out or flat
# stylization (random weights, a collapsed decoder) scores almost as well.
# `video.temporal_consistency` therefore also returns the output's spatial contrast
# relative to the input's and warns below 0.25; the red bars above are such cases.
# A stability claim needs both: a ratio near 1 *and* a contrast near the input's.

# %% [markdown]
# ## Exercises
#
# (07.haar_ll is in section 1, where its pyramid is drawn.)
#
# **07.haar_inverse** — put a block back together from its four bands: return the
# (B, C, 2h, 2w) tensor whose `haar_dwt` is `(LL, LH, HL, HH)`.

# %%
def my_inverse(LL, LH, HL, HH):
    raise NotImplementedError  # your code here


haar_inverse = use("07.haar_inverse", my_inverse)

# %% [markdown]
# Your inverse on the picture of section 1: from all four bands, and from the LL band
# alone (details set to 0) — each 2×2 block then gets one value: block edges appear.

# %%
bands = wavelets.haar_dwt(x)
zeros = [torch.zeros_like(b) for b in bands[1:]]
back_all, back_ll = haar_inverse(*bands), haar_inverse(bands[0], *zeros)
print(f"max |all bands → inverse − x| = {float((back_all - x).abs().max()):.1e}; "
      f"mean |LL only → inverse − x| = {float((back_ll - x).abs().mean()):.3f}")
assert torch.allclose(back_all, x, atol=1e-5)
viz.show_images([x, back_all, back_ll.clamp(0, 1)], ["original", f"all four bands → inverse ({drawn_by(haar_inverse)})",
                                                     f"LL only → inverse (2×2 blocks)"], size=2.6);

# %% [markdown]
# **07.temporal_change** — for frames (T, 3, H, W), return the T − 1 values
# mean |V[t+1] − V[t]|.

# %%
def my_temporal_change(frames):
    raise NotImplementedError  # your code here


temporal_change = use("07.temporal_change", my_temporal_change)

# %% [markdown]
# Your function on the video of section 7: the change between consecutive frames of the
# input and of each output.

# %%
changes = {"input": temporal_change(frames.cpu())}
changes.update({name: temporal_change(out.cpu()) for name, out in results.items()})
fig, ax = plt.subplots(figsize=(6, 2.8))
for name, v in changes.items():
    ax.plot(range(1, len(v) + 1), v.numpy(), "o-", label=name, lw=2.5 if name == "input" else 1)
ax.set_xlabel("frame t")
ax.set_ylabel(f"mean |V[t] − V[t−1]| ({drawn_by(temporal_change)})", fontsize=8)
ax.legend(fontsize=7);

# %% [markdown]
# ## What to remember
#
# * Haar pooling is average pooling (×2) that **keeps** the three detail bands: an
#   orthonormal change of basis, so a decoder with the skips can undo it exactly.
# * Changing only the low band moves colours and tones and leaves the detail bands — the
#   content's edges — untouched, but in pixel space it **adds edges of its own**: the
#   change is constant on each $2^L\times2^L$ block, so its steps sit on the block borders
#   (measured above). WCT²'s "LL only keeps structure" holds for the detail bands, not for
#   the picture's block grid (notebook 08 shows the blocks again).
# * WCT² stylizes progressively in one pass, at the encoder, skips and decoder; the
#   official WCT adds +I to both covariances and clamps to the content range.
# * Temporal stability can be measured without optical flow by comparing frame-to-frame
#   change of output and input.
#
# **Papers.** J. Yoo, Y. Uh, S. Chun, B. Kang, J.-W. Ha, "Photorealistic Style Transfer
# via Wavelet Transforms", ICCV 2019 (code: github.com/clovaai/WCT2, MIT).
# Y. Li, C. Fang, J. Yang, Z. Wang, X. Lu, M.-H. Yang, "Universal Style Transfer via
# Feature Transforms", NeurIPS 2017. Y. Li, M.-Y. Liu, X. Li, M.-H. Yang, J. Kautz,
# "A Closed-form Solution to Photorealistic Image Stylization", ECCV 2018.
# S. Mallat, "A theory for multiresolution signal decomposition: the wavelet
# representation", IEEE TPAMI 1989.

# %% [markdown]
# ## Questionnaire
#
# 1. Max pooling keeps one value in four. What do Haar wavelets keep instead, and why is
#    nothing lost?
# 2. LL is twice the average pool. Where does the factor 2 come from, and what would break
#    if the filters were not scaled to be orthonormal?
# 3. Transferring style on the LL band only leaves the detail bands unchanged, yet the
#    result shows new edges on a $2^L$-px grid. Where do they come from, and which bands carry
#    the content's edges?
# 4. Clipping the displayed result to [0, 1] changed the detail bands. Explain how a
#    pointwise operation on pixels can change a "frequency" band.
# 5. Why does a cascade of autoencoders drift further from the content than one
#    progressive pass through an invertible network, and why does the pixel-space
#    cascade *not* have that reason?
# 6. The WCT of WCT² adds the identity to both covariances and clamps to the content's
#    range. What does each of these do to the output's statistics?
# 7. A constant black video has temporal ratio 0. Name another degenerate output that a
#    stability metric would reward, and a second number that exposes it.
#
# **Further reading.** Read the method section of Yoo et al. (ICCV 2019) and the component-wise
# experiments in their supplementary material; compare with the explorer above. Mallat's
# TPAMI 1989 paper introduces the multiresolution view used here. For evaluation
# metrics that reward degenerate answers, read Theis, van den Oord & Bethge, *A note on
# the evaluation of generative models* (ICLR 2016).
#
# **Next:** [08 · Comparing methods](08_compare.ipynb) — every method of the course side by side: structure kept, style taken, time spent.
