# %% [markdown]
# # 09 · After WCT²: exact matching, other whitenings, colour at 12 MP, masks without a network
#
# **Before this notebook:** [03 · AdaIN](03_adain.ipynb) (exercise 03.adain: EFDM matches every order statistic where AdaIN matches two), [04 · WCT](04_wct.ipynb) (exercises 04.whiten and 04.wct: Cholesky is another whitening) and [07 · WCT²](07_wct2.ipynb) (the network and the video it stylises; exercise 07.temporal_change: the warping error refines it).
#
# **Time:** about 1.8 min (106 s) in full mode on a 2-core laptop (measured with the trained networks installed, README, "Full mode: what a student runs"); under 90 s in fast mode (`STYLELAB_FAST=1`).
#
# **What you will learn**
#
# * **EFDM** (Zhang et al., CVPR 2022): matching *every* order statistic of each channel —
#   the whole histogram — by sorting, where AdaIN matches two moments and WCT a covariance;
# * **Cholesky against ZCA whitening** (as CAP-VSTNet, Wen et al., CVPR 2023, whitens): both
#   give identity covariance, they differ by a rotation, and that rotation changes the picture;
# * **colour from a thumbnail** (the idea of Neural Preset, Ke et al., CVPR 2023): stylise
#   256 pixels, fit a per-pixel colour function, apply it to a 12-megapixel photo in seconds;
# * **label maps without a segmentation network**: superpixels grouped by colour, shared by
#   the content and the style;
# * **flicker as a number**: the warping error along optical flow, and how a moving average of
#   the content statistics cuts it;
# * **where the field went** after 2019, and what each newer method needs to run.

# %% [markdown]
# ## The idea in pictures
#
# Each feature transform of the course matches *some* statistics of the style, channel by
# channel or jointly:
#
# ```
#  AdaIN  (2017)   mean, standard deviation of each channel        2 numbers per channel
#  WCT    (2017)   mean vector, full covariance matrix              C + C(C+1)/2 numbers
#  EFDM   (2022)   every sorted value of each channel               N numbers per channel
# ```
#
# Sorting a channel lists its values from smallest to largest. Two channels with the same
# sorted list have the same histogram, mean, variance, skewness, … — everything that does
# not depend on *where* the values are. EFDM gives the content's positions the style's
# sorted values: the darkest content pixel gets the darkest style value, the median gets
# the median, and so on.
#
# ```
#  content values   0.2  0.9  0.5  0.1        ranks    2  4  3  1
#  style, sorted    1.0  3.0  4.0  7.0
#  EFDM output      3.0  7.0  4.0  1.0        (rank r → r-th smallest style value)
# ```

# %% [markdown]
# ## The equations
#
# **EFDM** (paper, Eq. 6 and 9). For one channel of content ``x`` and style ``y`` with N
# positions each, sort both, $x_{\tau_1} \le \dots \le x_{\tau_N}$ and
# $y_{\kappa_1} \le \dots \le y_{\kappa_N}$; then
#
# $$\mathrm{EFDM}(x, y)_{\tau_i} = y_{\kappa_i} \qquad\text{written for autograd as}\qquad x_{\tau_i} + y_{\kappa_i} - \langle x_{\tau_i}\rangle ,$$
#
# with $\langle\cdot\rangle$ the stop-gradient: the value is $y_{\kappa_i}$ and the gradient with
# respect to $x$ is the identity (sorting itself has no useful gradient). With N ≠ M positions
# stylelab reads the style's quantile function at the content's ranks (`stylelab.features.efdm`).
#
# **Whitening is unique only up to a rotation.** Any $W$ with $W\Sigma W^\top = I$ whitens, and
# all of them are $W = Q\,\Sigma^{-1/2}$ with $Q$ orthogonal. WCT (notebook 04) uses ZCA,
# $Q = I$: $W_{\mathrm{ZCA}} = \Sigma^{-1/2} = E D^{-1/2} E^\top$. CAP-VSTNet uses the Cholesky
# factor $\Sigma = L L^\top$ ($L$ lower triangular):
#
# $$W_{\mathrm{chol}} = L_c^{-1}, \qquad C_{\mathrm{chol}} = L_s, \qquad L_s L_c^{-1}\,\Sigma_c\,L_c^{-\top} L_s^\top = \Sigma_s .$$
#
# Both colourings reach the style's covariance; ZCA is the whitening that moves the
# (centred) features least, $W_{\mathrm{ZCA}} = \arg\min_W \mathbb E\lVert Wx - x\rVert^2$
# (Kessy, Lewin & Strimmer, 2018), while Cholesky needs no eigen-decomposition but depends on
# the order of the channels.
#
# **Colour map from a thumbnail.** With $\varphi_d(p)$ every monomial $r^i g^j b^k$,
# $i + j + k \le d$, of a pixel's colour (10 terms for $d = 2$), content thumbnail $c$ and its
# stylisation $s$:
#
# $$A = \arg\min_A \sum_p \lVert A^\top\varphi_d(c_p) - s_p\rVert^2 + \lambda\lVert A\rVert^2, \qquad \mathrm{out}_p = A^\top \varphi_d(x_p)\ \text{ for every pixel } p \text{ of the photo.}$$

# %%
import time
import warnings

import matplotlib.pyplot as plt
import torch

from stylelab.labels import auto as auto_labels
from stylelab.features import colour_fit, efdm, transforms, whitening
from stylelab import course, labels, metrics, viz, weights
from stylelab.features import evaluation
from stylelab.labels import maps as label_maps
from stylelab.media import data
from stylelab.course import standin
from stylelab.device import get_device
from stylelab.course.exercises import drawn_by, use
from stylelab.methods.adain import AdaIN
from stylelab.methods.colour_map import ColourMap
from stylelab.methods.efdm import EFDM

warnings.filterwarnings("ignore", category=weights.RandomWeightsWarning)  # the banners below say it once per model
torch.manual_seed(0)
device = get_device()
size = course.pick(full=256, fast=64)
content_name, style_name = "mountains", "sunset"
content = data.load(content_name, size=(size, size), device=device)
style = data.load(style_name, size=(size, size), device=device)
print(f"device {device}, images {size} px: {content_name} ← {style_name}")

# %% [markdown]
# ## 1 · EFDM: every order statistic
#
# **Exercise 09.efdm** — write EFDM for a content and a style feature of the **same size**
# `(1, C, H, W)`: per channel, put the style's sorted values at the content's rank positions
# (`argsort`, then `scatter` or indexing). The library's version is switched off while your
# function is checked. The next figure calls *your* function on the pixels.

# %%
def my_efdm(content_feat, style_feat):
    raise NotImplementedError  # your code here


efdm_fn = use("09.efdm", my_efdm)

# %% [markdown]
# On pixels (C = 3) EFDM is histogram matching of each colour channel. AdaIN on pixels
# matches only each channel's mean and standard deviation. The histograms below show the
# difference: EFDM's red histogram *is* the style's.

# %%
out_efdm = efdm_fn(content, style)
out_adain = transforms.adain(content, style).clamp(0, 1)
assert torch.equal(out_efdm.flatten(2).sort(-1).values, style.flatten(2).sort(-1).values)  # exact, every channel

fig, axes = plt.subplots(1, 5, figsize=(15, 3))
for ax, img, name in zip(axes, (content, style, out_adain, out_efdm),
                         ("content", "style", "AdaIN on pixels (no network)", f"EFDM on pixels: {drawn_by(efdm_fn)} (no network)")):
    ax.imshow(img[0].permute(1, 2, 0).cpu().clamp(0, 1)), ax.set_title(name, fontsize=9), ax.axis("off")
bins = torch.linspace(0, 1, 65)
for img, name, style_ in ((content, "content", ":"), (style, "style", "-"), (out_adain, "AdaIN", "--"),
                          (out_efdm, "EFDM", "-.")):
    h = torch.histc(img[0, 0].float().cpu(), bins=64, min=0, max=1)
    axes[4].plot(bins[:-1], h / h.sum(), style_, label=name)
axes[4].set_title("red channel histograms", fontsize=9), axes[4].legend(fontsize=7)
fig.tight_layout()

# how far each output's sorted red values are from the style's (a 1-D Wasserstein distance)
w1 = {name: (img[0, 0].flatten().sort().values - style[0, 0].flatten().sort().values).abs().mean().item()
      for name, img in (("AdaIN", out_adain), ("EFDM", out_efdm))}
print("W1(red, style):", {k: f"{v:.4f}" for k, v in w1.items()})
assert w1["EFDM"] == 0 and w1["AdaIN"] > 0

# %% [markdown]
# **With a network.** The method (`stylelab.methods.efdm.EFDM`, `stylelab transfer --method efdm`) puts EFDM
# where AdaIN's layer was: encode with VGG to `relu4_1`, match every channel's histogram,
# decode with AdaIN's decoder (the paper trains its own decoder with the EFDM layer; stylelab
# reuses AdaIN's, so the decoder was not trained on EFDM's outputs). Without the published
# files, the course's stand-in runs (banner). In feature space the match is exact; after the
# decoder it is approximate — the bars compare both transforms' histogram distance at
# `relu4_1` before decoding.

# %%
adain_model = AdaIN.from_official(device=device, random=True)  # random only if the files are missing
if not adain_model.pretrained:
    adain_model = standin.model("adain", device=device)
efdm_model = EFDM.from_model(adain_model)
course.weights_banner(efdm_model, "EFDM (AdaIN's encoder and decoder)")
net = "published AdaIN pair" if efdm_model.pretrained else "stand-in AdaIN pair"
with torch.no_grad():
    cf, sf = efdm_model.encode(content), efdm_model.encode(style)
    t_adain, t_efdm = transforms.adain(cf, sf), efdm.efdm(cf, sf)
    images = [adain_model.stylize(content, style), efdm_model.stylize(content, style)]


def quantile_gap(f, s):
    """Mean |sorted f − sorted s| over channels: 0 when every channel's histogram is the style's."""
    return (f.flatten(2).sort(-1).values - s.flatten(2).sort(-1).values).abs().mean().item()


gaps = {"content": quantile_gap(cf, sf), "AdaIN": quantile_gap(t_adain, sf), "EFDM": quantile_gap(t_efdm, sf)}
assert gaps["EFDM"] == 0 and gaps["AdaIN"] < gaps["content"]
fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
for ax, img, name in zip(axes, images, ("AdaIN", "EFDM")):
    ax.imshow(img[0].permute(1, 2, 0).cpu().clamp(0, 1)), ax.set_title(f"{name} ({net})", fontsize=9), ax.axis("off")
axes[2].bar(list(gaps), list(gaps.values()))
axes[2].set_title(f"relu4_1 histogram gap to the style\n({efdm_model.encoder.__class__.__name__}, {net})", fontsize=9)
fig.tight_layout()

# %% [markdown]
# ## 2 · Cholesky against ZCA whitening
#
# **Exercise 09.cholesky_whiten** — for a feature matrix `f` of shape `(C, N)`: centre it,
# form the unbiased covariance, factor it with `torch.linalg.cholesky` and return
# $L^{-1}(F - \mu)$ (`torch.linalg.solve_triangular`). ZCA's $\Sigma^{-1/2}$ also whitens — and
# the checker rejects it, because it is another rotation. The figure after it whitens the
# content's colours with your function.

# %%
def my_cholesky_whiten(f):
    raise NotImplementedError  # your code here


cholesky_whiten = use("09.cholesky_whiten", my_cholesky_whiten)

# %%
pix = content[0].flatten(1).double().cpu()  # (3, N): the content's colours
centred = pix - pix.mean(1, keepdim=True)
cholesky_key = f"Cholesky (L^-1, {drawn_by(cholesky_whiten)})"
white = {"ZCA (Σ^-1/2, library)": whitening.whiten(content.double().cpu()).view(3, -1),
         cholesky_key: cholesky_whiten(pix)}
moved = {k: (w - centred).pow(2).mean().sqrt().item() for k, w in white.items()}
for k, w in white.items():
    assert torch.allclose(torch.cov(w), torch.eye(3, dtype=torch.float64), atol=1e-6), k  # both whiten
assert moved["ZCA (Σ^-1/2, library)"] < moved[cholesky_key]  # ZCA stays closest to the input

outs = {w: transforms.wct(content.double(), style.double(), whitening=w).clamp(0, 1) for w in ("zca", "cholesky")}
for w, o in outs.items():  # both colourings give the style's colour covariance (before the clamp: exactly)
    raw = transforms.wct(content.double(), style.double(), whitening=w)
    assert torch.allclose(torch.cov(raw[0].flatten(1)), torch.cov(style[0].flatten(1).double()), atol=1e-6)
show = lambda w: ((w - w.min()) / (w.max() - w.min())).view(3, *content.shape[-2:])  # noqa: E731 - display only
viz.show_images([show(w) for w in white.values()] + [outs["zca"][0], outs["cholesky"][0]],
                [f"{k}\nRMS move {moved[k]:.2f}" for k in white] + ["pixel WCT, ZCA (no network)",
                                                                    "pixel WCT, Cholesky (no network)"],
                ncols=4, size=2.6);

# %% [markdown]
# **Reading it.** ZCA's whitened colours still look like the photo (edges, regions): of all
# whitenings it moves the pixels least. Cholesky's first channel (red) is only rescaled, the
# second is made uncorrelated with the first, the third with both — a choice that depends on
# the channel order. After colouring, both outputs have exactly the style's covariance, yet
# they are different pictures: the statistics do not pin down the image. CAP-VSTNet chose
# Cholesky for speed and stable gradients inside its reversible network (section 6 trains a
# small one here).

# %% [markdown]
# ## 3 · Colour at 12 MP from a 256-pixel thumbnail
#
# A photorealistic transfer mostly moves *colours*. Neural Preset (Ke et al., CVPR 2023)
# exploits it: a network looks at a thumbnail, predicts a small colour transform, and the
# transform runs on every pixel at any resolution. Without their trained network we fit the
# colour transform to a WCT² stylisation of the thumbnail (`stylelab.methods.colour_map.ColourMap`, `stylelab
# transfer --method colour-map`): WCT² runs on 256 px whatever the photo's size.

# %%
wct2_model = course.method_model("wct2", device=device)  # the paper's files, else the course pair vgg16-course, else the stand-in
course.weights_banner(wct2_model, "WCT² (the thumbnail's stylisation)")
mapper = ColourMap.from_model(wct2_model, "WCT²")
photo = data.load(content_name, size=course.pick(full=768, fast=96), device=device)
style_img = data.load(style_name, size=course.pick(full=256, fast=64), device=device)
thumb_side = course.pick(full=256, fast=48)

t0 = time.perf_counter()
thumb, stylised = mapper.thumbnail_pair(photo, style_img, thumb_side)
fits = {d: colour_fit.fit(thumb, stylised, d) for d in colour_fit.DEGREES}
mapped = colour_fit.apply(fits[2], photo)
t_map = time.perf_counter() - t0
t0 = time.perf_counter()
with torch.no_grad():
    direct = wct2_model.stylize(photo, style_img)[..., : photo.shape[-2], : photo.shape[-1]].clamp(0, 1)
t_direct = time.perf_counter() - t0
print(f"photo {photo.shape[-1]}×{photo.shape[-2]}: colour map {t_map:.2f} s (thumbnail {thumb.shape[-1]}×{thumb.shape[-2]}), "
      f"WCT² on the whole photo {t_direct:.2f} s")
residuals = [fits[d].residual for d in colour_fit.DEGREES]
assert residuals[0] >= residuals[1] - 1e-9 >= residuals[2] - 2e-9  # a higher degree fits at least as well
ssim_map, ssim_direct = evaluation.ssim(photo, mapped).item(), evaluation.ssim(photo, direct).item()
print(f"SSIM(content, ·): colour map {ssim_map:.3f}, WCT² whole {ssim_direct:.3f}")
viz.assert_not_flat([mapped, direct], what="colour-map panel")

tag = "WCT²" + wct2_model.tag
fig, axes = plt.subplots(1, 5, figsize=(16, 3.2))
for ax, img, name in zip(axes, (thumb, stylised, mapped, direct),
                         (f"thumbnail {thumb.shape[-1]} px", f"{tag} on the thumbnail",
                          f"colour map (degree 2, fitted on {tag}), full size", f"{tag} on the whole photo")):
    ax.imshow(img[0].permute(1, 2, 0).cpu().clamp(0, 1)), ax.set_title(name, fontsize=8), ax.axis("off")
axes[4].bar([f"d={d}" for d in colour_fit.DEGREES], residuals)
axes[4].set_title("RMS fit residual on the thumbnail", fontsize=8)
fig.tight_layout()

# %% [markdown]
# **Reading it.** The colour map keeps the photo's detail *exactly* (it is a function of each
# pixel's colour, SSIM close to the content's structure) and takes the thumbnail stylisation's
# colours; it cannot add texture, which a photorealistic transfer should not add anyway. The
# residual says how much of the thumbnail's stylisation is *not* a function of colour. On a
# 12-megapixel photo the pass over the pixels costs about a second on one core and the
# network still sees 256 px: `BENCHMARKS.md` has the measured time and peak memory of
# `stylelab transfer --method colour-map` on a 4000×3000 photo
# (`python benchmarks/bench_colour_map.py`).

# %% [markdown]
# ## 4 · Label maps without a segmentation network
#
# Notebooks 05–07 used hand-made masks. The official repositories' users ask how to make them
# (WCT2 issues #3 and #37, FastPhotoStyle #55). `stylelab.labels.auto.auto_label_pair` makes a
# pair from the pixels: SLIC superpixels (Achanta et al., TPAMI 2012) in each image, their mean
# Lab colours clustered *together* (so label j means the same colours in both), and labels that
# a transfer would drop merged into their nearest neighbour. It groups colours, not objects — open
# the label editor (`stylelab.course.widgets.labels.edit_labels(content, style, content_labels=…,
# style_labels=…)`, notebook 05) to correct what it gets wrong.

# %%
pair = ("rocket", "storm")
lc_img = data.load(pair[0], size=course.pick(full=256, fast=64), device=device)
ls_img = data.load(pair[1], size=course.pick(full=256, fast=64), device=device)
cl, sl = auto_labels.auto_label_pair(lc_img, ls_img, k=4)
report = labels.label_report(cl, sl)
print(report)
assert not report.dropped and report.content_fraction == 1.0  # every label is used, every pixel stylised
with torch.no_grad():
    plain = wct2_model.stylize(lc_img, ls_img)[..., : lc_img.shape[-2], : lc_img.shape[-1]].clamp(0, 1)
    masked = wct2_model.stylize(lc_img, ls_img, content_labels=cl, style_labels=sl)[
        ..., : lc_img.shape[-2], : lc_img.shape[-1]].clamp(0, 1)
viz.show_images([lc_img[0], ls_img[0], label_maps.labels_to_rgb(cl)[0], label_maps.labels_to_rgb(sl)[0], plain[0], masked[0]],
                ["content", "style", "automatic labels (content)", "automatic labels (style)",
                 f"{tag}, no labels", f"{tag}, automatic labels"], ncols=6, size=2.3);

# %% [markdown]
# ## 5 · Video without flicker: the warping error
#
# Stylise a video frame by frame and it flickers: each frame has its own content statistics,
# so the whitening (WCT) or normalisation (AdaIN) changes a little from frame to frame, and
# the decoder amplifies it. To *measure* flicker, follow the input's motion (Lai et al., ECCV
# 2018): estimate the optical flow $F_{t\to t+1}$ on the input frames (TV-L1, no trained network,
# `stylelab.media.warping.clip_flow`), warp the next output frame back along it, and average the
# squared difference over the pixels the flow can be trusted at (a forward–backward check
# leaves out occlusions, Ruder et al. 2016):
#
# $$E_{\mathrm{warp}}(O_t, O_{t+1}) = \frac{\sum_x M_t(x)\,\lVert O_t(x) - O_{t+1}(x + F_{t\to t+1}(x))\rVert^2}{\sum_x M_t(x)} .$$
#
# The clip is a camera panning and zooming over a course photo (`stylelab.media.video.camera_frames`),
# so it exists offline.
#
# **Exercise 09.warping_errors** — given the output frames `(T, 3, H, W)`, the forward flows
# `(T−1, 2, H, W)` and the trust masks `(T−1, H, W)`, return the `(T−1,)` errors. Use
# `stylelab.media.warping.warp(image, flow)`, which returns the warped image and where the sample
# stayed inside the frame (count only pixels where both hold). The curves below are computed
# by your function.

# %%
from stylelab.media import video, warping


def my_warping_errors(output, forward, mask):
    raise NotImplementedError  # your code here


warping_errors = use("09.warping_errors", my_warping_errors)

# %% [markdown]
# Naive per-frame transfer against two stabilisations, both without training:
#
# 1. `stylelab.media.video` (momentum 0.9): the content statistics follow an exponential moving
#    average over the frames, so the transform changes slowly while the frames change;
# 2. `stylelab.media.warping.blend_along_flow` on top (β = 0.7): each output frame is blended with the
#    previous *blended* frame moved along the input's optical flow,
#    $B_t = O_t + \beta\,M_t \odot (B_{t-1}(x + F_{t\to t-1}(x)) - O_t)$, only where the flow explains the
#    input ($M_t$: the forward–backward check and a colour test; a disocclusion is left alone), and
#    each blended frame gets back its per-frame output's per-channel mean and standard deviation
#    (blending two different textures lowers their contrast). Its flow is Lucas–Kanade, not the
#    TV-L1 flow the error is measured with, so the measure does not simply agree with itself.
#
# Same networks as above (the banners).

# %%
n_frames = course.pick(full=48, fast=6)
clip = video.camera_frames(data.load("mountains", size=400), n_frames=n_frames,
                           size=course.pick(full=(128, 160), fast=(40, 48)))  # the clip of benchmarks/bench_video.py
flow = warping.clip_flow(clip)
print(f"{clip.shape[0]} frames {clip.shape[-1]}×{clip.shape[-2]}, TV-L1 flow, pixels trusted {flow.coverage:.0%}")
video_style = data.load(style_name, size=128)
curves, finals = {}, {}
with torch.no_grad():
    for name, model_ in (("AdaIN", adain_model), ("WCT²", wct2_model)):
        prep = model_.prepare_style(video_style.to(device))

        def frame_fn(f, model_=model_, prep=prep):
            return model_.stylize(f.to(device), prep)[..., : f.shape[-2], : f.shape[-1]].clamp(0, 1).cpu()

        for label, momentum in (("per frame", None), ("stabilised", 0.9)):
            out = video.stylize_frames(frame_fn, clip, progress=False, momentum=momentum)
            curves[f"{name}, {label}"] = warping_errors(out.double(), flow.forward, flow.mask)
            finals[f"{name}, {label}"] = out[-1]
        blended = warping.blend_along_flow(out, clip, weight=0.7).clamp(0, 1)  # on the stabilised output
        curves[f"{name}, stabilised + flow blend"] = warping_errors(blended.double(), flow.forward, flow.mask)
        finals[f"{name}, stabilised + flow blend"] = blended[-1]
curves["input clip"] = warping_errors(clip.double(), flow.forward, flow.mask)
means = {k: float(v.mean()) for k, v in curves.items()}
print({k: f"{v:.5f}" for k, v in means.items()})
# the student's errors are the library's on this clip (no claim about which curve is lower: the networks decide)
assert torch.allclose(curves["input clip"], warping.warping_errors(clip.double(), flow))

fig, axes = plt.subplots(1, 4, figsize=(18, 3.2), gridspec_kw={"width_ratios": [2, 1, 1, 1]})
for k, v in curves.items():
    axes[0].plot(v.numpy(), ":" if "blend" in k else "--" if "stabilised" in k else "-", label=k)
axes[0].set_xlabel("frame t"), axes[0].set_ylabel(f"E_warp(O_t, O_t+1) ({drawn_by(warping_errors)})"), axes[0].legend(fontsize=7)
axes[0].set_title(f"warping error along TV-L1 flow ({net}; WCT²{wct2_model.tag or ' (published)'})",
                  fontsize=8)
for ax, k in zip(axes[1:], ("WCT², per frame", "WCT², stabilised", "WCT², stabilised + flow blend")):
    ax.imshow(finals[k].permute(1, 2, 0).clamp(0, 1)), ax.set_title(f"last frame: {tag}, {k.split(', ')[1]}", fontsize=8)
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# **Reading it.** The input clip's own error is small (the flow explains its motion); per-frame
# stylisation adds flicker on top. Whether the moving average of the content statistics removes
# some of it depends on the method and the network: read it off the curves for the networks named
# above (on the course's stand-ins it does not always). The blend along the flow removes much more,
# and it has a price you must measure beside it: `benchmarks/bench_video.py` (BENCHMARKS.md, 48
# frames of the camera clip with a moving object, 64×80 px, WCT on the course's stand-in networks)
# measured per-frame WCT's warping error cut by 9 % with the moving average alone (style distance
# +24 %), by 73 % with the blend at β = 0.7 on the per-frame output (style distance +38 %, SSIM 0.59
# to the per-frame output; 71 % and +41 % on the averaged output, as drawn here) and by 20 % at
# β = 0.15 (style distance +8.5 %, SSIM 0.98). Flicker and style trade off:
# averaging frames whose textures differ takes texture away, even with each frame's contrast
# restored. So compare at the *same* style distance: per-frame WCT with less style (α < 1) flickers
# less too. Against it, at each row's own style distance, the blend cuts the warping error by 33 %
# (β = 0.3) to 68 % (β = 0.7), while the moving average alone does no better than lowering α
# (+0.3 %): it buys steadiness with style and nothing else on this clip.
# Li et al.'s linear transform (CVPR 2019) and CAP-VSTNet's reversible network are the learned
# answers: both are stable by construction, and both need training.
# Training needs time: `benchmarks/bench_linear.py` (BENCHMARKS.md) trained stylelab's linear transform
# for 9 CPU-minutes (`stylelab train --method linear`, stand-in encoder, relu3_1) and measured a covariance
# error of 0.94 on 16 held-out pairs (exact WCT 0.0005, AdaIN 1.06, untrained 1): 3–5× faster than exact
# WCT, far from its accuracy.

# %% [markdown]
# ## 6 · Where the field went
#
# What came after WCT², what each needs, and whether it runs in this course. We quote no
# speed or quality numbers here: the papers report them on their own GPUs and test sets, and we
# give a figure only where we can point to the table it comes from — read their result tables
# with the questions of notebook 08 (which two numbers, on which device, at which size).
#
# | method | idea | what it needs | here |
# |---|---|---|---|
# | Linear (Li, Liu, Kautz & Yang, CVPR 2019) | a small network predicts WCT's C×C matrix from the two covariances | VGG-19 + trained decoder + the matrix network (MS-COCO, WikiArt) | **yes**, `stylelab.methods.linear` on the stand-in encoder (section 5: trained here for 9 CPU-minutes) |
# | PhotoNAS (An et al., AAAI 2020) | a decoder architecture found by neural architecture search, no post-processing | the searched network and its trained weights | no |
# | PhotoWCT² (Chiu & Gurari, WACV 2022) | a compact WCT² trained block by block, high-frequency residual skips | its trained encoder/decoder | no (WCT² is) |
# | AdaAttN (Liu et al., ICCV 2021) | attention between content and style features, per-point mean and variance | VGG + trained attention and decoder | no |
# | StyTr² (Deng et al., CVPR 2022) | transformer encoders for content and style, a transformer decoder | trained transformers (MS-COCO, WikiArt) | no |
# | EFDM (Zhang et al., CVPR 2022) | exact histogram matching by sorting | AdaIN's networks (a decoder trained with EFDM) | **yes**, section 1 |
# | CAP-VSTNet (Wen, Gao & Zou, CVPR 2023) | a reversible network (nothing lost, no decoder) + Cholesky WCT + matting-Laplacian loss | its trained reversible network | **a small one trained here**, below (its whitening: section 2) |
# | Neural Preset (Ke et al., CVPR 2023) | a network predicts a per-image colour transform (DNCM) from a thumbnail | its trained encoder (self-supervised on photos) | the idea, section 3 |
# | InST (Zhang et al., CVPR 2023), StyleID (Chung, Hyun & Heo, CVPR 2024) | a pretrained text-to-image diffusion model (Stable Diffusion) inverts the style, or injects its attention features | Stable Diffusion weights (gigabytes) and a GPU with many GB of memory | no |
#
# The course's methods need one ImageNet network and small decoders; the diffusion methods
# need a generative model thousands of times larger. Which one is "best" is the question of
# notebook 08: structure kept, style taken, time and memory spent — on your photos and your machine.

# %% [markdown]
# **CAP-VSTNet, trained here** (`stylelab.methods.capvst`). The encoder is a reversible network
# (`stylelab.nets.reversible`: channel padding, squeezes, additive couplings), so its inverse *is* the
# decoder and gives the content back to rounding. Cholesky WCT runs on its 128 feature channels at
# 1/4 resolution. A small network was trained on one CPU thread for 14 min (550 steps,
# `stylelab train --method capvst`, on photos that are not course images; manifest
# `data/decoders/capvst_reversible.json`) with the loss style + 10⁴ × matting + 10³ × cycle, where the
# matting term is notebook 06's $\sum_c V_c^\top \mathcal{L} V_c$ of the output. On the course's four
# photo pairs at 256 px it lowers that loss from 0.0144 (the same network at random init) to
# 0.00207 (`benchmarks/bench_capvst.py`, BENCHMARKS.md) — still 7× above pixel WCT's 0.00029, an
# affine colour map that the matting Laplacian nearly annihilates. It is a small network trained for
# minutes, not the paper's model.

# %%
from stylelab.methods.capvst import CAPVST, matting_loss

cap_models = [CAPVST.untrained(0, device=device), CAPVST.from_file(device=device)]
cap_out = [m.stylize(content, style) for m in cap_models]
cap_loss = [matting_loss(o, content).item() for o in cap_out]
assert cap_loss[1] < cap_loss[0]  # the trained network is more photorealistic than its random init
cap_names = [m.tag.replace(" (", "\n(") for m in cap_models]  # which network drew each picture
viz.show_images([content[0], style[0]] + [o[0] for o in cap_out],
                ["content", "style"] + [f"CAP-VSTNet, {t}\nmatting loss {v:.2g}" for t, v in zip(cap_names, cap_loss)],
                ncols=4, size=3.2);

# %% [markdown]
# ## What to remember
#
# * EFDM matches every sorted value of each channel — the whole histogram — by sorting; its
#   gradient is written as a shift (stop-gradient), because sorting has none.
# * Whitening is defined up to a rotation: ZCA (Σ^{-1/2}) moves the features least and treats
#   channels alike; Cholesky (L^{-1}) is cheaper and depends on the channel order. Both colour
#   to exactly the style's covariance, and the pictures still differ.
# * A photorealistic transfer is nearly a function of colour: fit it on a thumbnail, apply it
#   per pixel — 12 MP in seconds, detail kept exactly, no texture added.
# * Masks can come from superpixels clustered jointly in both images; every label must exist in
#   both, or the transfer drops it.
# * Flicker is measured along the input's optical flow, occlusions left out; averaging the content
#   statistics over frames is one untrained remedy — measure whether it helps your network.
#
# **Papers.** Y. Zhang, M. Li, R. Li, K. Jia, L. Zhang, "Exact Feature Distribution Matching
# for Arbitrary Style Transfer and Domain Generalization", CVPR 2022 · L. Wen, C. Gao, C. Zou,
# "CAP-VSTNet: Content Affinity Preserved Versatile Style Transfer", CVPR 2023 · A. Kessy,
# A. Lewin, K. Strimmer, "Optimal Whitening and Decorrelation", The American Statistician 2018 ·
# Z. Ke, Y. Liu, L. Zhu, N. Zhao, R. W. H. Lau, "Neural Preset for Color Style Transfer",
# CVPR 2023 · R. Achanta et al., "SLIC Superpixels Compared to State-of-the-Art Superpixel
# Methods", TPAMI 2012 · X. Li, S. Liu, J. Kautz, M.-H. Yang, "Learning Linear Transformations
# for Fast Image and Video Style Transfer", CVPR 2019 · W.-S. Lai et al., "Learning Blind Video
# Temporal Consistency", ECCV 2018 · M. Ruder, A. Dosovitskiy, T. Brox, "Artistic Style Transfer for
# Videos", GCPR 2016.

# %% [markdown]
# ## Questionnaire
#
# 1. AdaIN matches two numbers per channel, WCT a covariance, EFDM every sorted value. Which
#    of them matches the *correlations between channels*, and which matches a channel's skewness?
# 2. EFDM's output value is the style's; why does the paper write it as $x + y - \langle x\rangle$,
#    and what gradient does the content receive?
# 3. Two whitening matrices both give identity covariance. What relates them, and which one
#    is closest to the input?
# 4. Permute the content's channels, whiten, permute back. Which whitening gives the same
#    result as whitening directly, and why does the other not?
# 5. Why can a colour map fitted on a 256-pixel thumbnail be applied to a 12-megapixel photo,
#    and what kind of stylisation can it *not* reproduce?
# 6. What does the fit's residual on the thumbnail measure? Why does a higher degree never
#    increase it?
# 7. The automatic labels cluster the superpixels of *both* images together. What would go
#    wrong if each image were clustered on its own?
# 8. Name what a diffusion-based method such as StyleID needs that none of the course's
#    methods needs.
# 9. The warping error compares frame t with frame t+1 *warped back along the flow*. Why not
#    compare them pixel by pixel, and why leave occluded pixels out?
#
# **Further reading.** Section 3 of Zhang et al. (CVPR 2022) on EFDM and its relation to
# histogram matching; Kessy, Lewin & Strimmer (2018) on the five optimal whitenings; Section 3
# of Ke et al. (CVPR 2023) on DNCM; and Wen et al. (CVPR 2023) on reversible networks for
# style transfer.
#
# **Next:** [00 · Start here](00_start_here.ipynb) — this is the last notebook; back to the course map and the start-here status table.
