# %% [markdown]
# # 04 · WCT: whitening and colouring the feature covariance
#
# **Before this notebook:** [03 · AdaIN](03_adain.ipynb) (exercise 03.adain: WCT generalises it from variances to covariances) and [01](01_gram_mmd.ipynb) (the Gram matrix: an uncentred covariance; exercise 01.gram).
#
# **Time:** about 59 s in full mode on a 2-core laptop (measured with the trained networks installed, README, "Full mode: what a student runs"); under 90 s in fast mode (`STYLELAB_FAST=1`).
#
# **What you will learn**
#
# * how to remove *all* second-order statistics of an image's features — the
#   whitening transform — and put another image's back — the colouring transform;
# * what that looks like: covariance matrices before and after, eigenvalue spectra,
#   whitened feature maps;
# * why WCT goes beyond AdaIN (full covariance, not just per-channel variances);
# * the five-level cascade of Universal Style Transfer and its α;
# * that the public implementations regularise the covariance differently, and by
#   how much that moves the output away from the style's statistics;
# * WCT without any network: full-covariance colour transfer and patch-space texture.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

import stylelab
from stylelab import course, viz
from stylelab.media import data
from stylelab.features import transforms as T
from stylelab.features import linalg
from stylelab.features import whitening

torch.manual_seed(0)
size = course.pick(full=512, fast=64)
content = data.load("astronaut", size=size)
style_name = data.names("style_art")[0]
style = data.load(style_name, size=size)
viz.show_images([content, style], titles=["content: astronaut", f"style: {style_name}"], size=3);

# %% [markdown]
# ## The idea in pictures: colours first
#
# Treat the three colour channels as features. AdaIN matched each channel's mean and
# spread separately; but colours are *correlated* (in a sunset, red and green rise
# together). The covariance matrix of the RGB values records those correlations.
# WCT first **whitens** the content — removes its mean and makes its covariance the
# identity — and then **colours** it with the style's covariance and mean.

# %%
adain_px = T.adain(content, style).clamp(0, 1)
wct_px = T.wct(content, style, preset="exact").clamp(0, 1)
viz.show_images([content, style, adain_px, wct_px],
                titles=["content", "style", "AdaIN on pixels (diagonal)", "WCT on pixels (full covariance)"], size=2.6)

fig, axes = plt.subplots(1, 4, figsize=(13, 3))
for ax, (img, title) in zip(axes, [(content, "content"), (style, "style"), (adain_px, "AdaIN"), (wct_px, "WCT")]):
    viz.heatmap(linalg.covariance(img)[0], f"RGB covariance: {title}", ax=ax, colorbar=False)
fig.tight_layout();

# %% [markdown]
# AdaIN copies the diagonal of the style's covariance (the variances) but keeps
# the content's correlations; WCT copies the whole matrix.

# %% [markdown]
# ## The equations
#
# Write the features of one image as a matrix $F \in \mathbb{R}^{C\times N}$ ($N = H\cdot W$
# positions), with channel means $\mu$ and covariance $\Sigma = (F-\mu)(F-\mu)^\top/(N-1)$.
# Decompose $\Sigma_c = E_c D_c E_c^\top$ (eigenvectors $E_c$, eigenvalues $D_c$). Then
#
# $$\hat F_c = E_c\,D_c^{-1/2}\,E_c^\top\,(F_c - \mu_c) \qquad\text{(whitening: } \mathrm{Cov}(\hat F_c) = I)$$
#
# $$F_{cs} = E_s\,D_s^{1/2}\,E_s^\top\,\hat F_c + \mu_s \qquad\text{(colouring: } \mathrm{Cov}(F_{cs}) = \Sigma_s)$$
#
# and the result is blended, $\alpha F_{cs} + (1-\alpha) F_c$, and decoded
# (Li, Fang, Yang, Wang, Lu & Yang, NeurIPS 2017). $D^{-1/2}$ needs every eigenvalue
# to be positive: tiny ones are dropped, or an identity is added to $\Sigma$ — and
# that choice is where the implementations part ways (below).

# %% [markdown]
# **Exercise 04.wct** — write the whole transform for a `(C, N)` content matrix and a
# `(C, M)` style matrix, without regularisation (assume every eigenvalue is positive):
# centre, whiten with $E_c D_c^{-1/2} E_c^\top$, colour with $E_s D_s^{1/2} E_s^\top$, add
# $\mu_s$ (`torch.linalg.eigh` gives $E, D$). The next figure recolours a photo with *your*
# function (with a reference version until yours passes).

# %%
from stylelab.course.exercises import drawn_by, use


def my_wct(content_f, style_f):
    raise NotImplementedError  # your code here


wct_step = use("04.wct", my_wct)

# %%
pair_c, pair_s = data.pairs()[0]
c2, s2 = data.load(pair_c, size=size).double(), data.load(pair_s, size=size).double()
mine = wct_step(c2[0].flatten(1), s2[0].flatten(1)).reshape(c2.shape).clamp(0, 1)
viz.show_images([c2, s2, mine], titles=[pair_c, pair_s, f"WCT on pixels ({drawn_by(wct_step)})"], size=2.6)
# the output's colour covariance is the style's (up to the clamp to [0, 1])
print(f"colour covariance: output vs style, relative difference "
      f"{float((linalg.covariance(mine)[0] - linalg.covariance(s2)[0]).norm() / linalg.covariance(s2)[0].norm()):.3f}")
assert torch.allclose(mine, T.wct(c2, s2, preset="exact").clamp(0, 1), atol=1e-6)  # the same as the library's WCT

# %% [markdown]
# ## Whitening made visible on VGG features
#
# We take the features of both images from the course's trained network
# (`stylelab.course.feature_network`: the paper's normalised VGG-19 when you have it, else
# the offline VGG-16; random weights only where neither is installed — then the channels
# are random filters, the banner says so, and only the identities below still hold).

# %%
encoder = course.feature_network("relu5_1")
course.weights_banner(encoder)
net, trained = encoder.tag, encoder.pretrained  # titles say `net`; claims about trained features are checked if `trained`
layer = course.pick(full="relu4_1", fast="relu2_1")
with torch.no_grad():
    cf = encoder(content, layers=layer)[layer].double()
    sf = encoder(style, layers=layer)[layer].double()
whitened = whitening.whiten(cf)
out = T.wct(cf, sf, preset="exact")
print(f"{layer}: {cf.shape[1]} channels × {cf.shape[2] * cf.shape[3]} positions")

k = 32  # show the first k channels
fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
for ax, (mat, title) in zip(axes, [(linalg.covariance(cf)[0], "content Σ_c"), (linalg.covariance(whitened)[0], "whitened: ≈ I"),
                                   (linalg.covariance(sf)[0], "style Σ_s"), (linalg.covariance(out)[0], "after colouring: = Σ_s")]):
    viz.heatmap(mat[:k, :k], title, ax=ax, colorbar=False)
fig.suptitle(f"{net} features at {layer}")
fig.tight_layout();

# %% [markdown]
# Checks. The covariance of the whitened features is a *projector*: the identity on
# every direction in which the content varies (a channel that is zero all over this
# image — a "dead" ReLU — has none, and whitening cannot invent variation there).

# %%
P = linalg.covariance(whitened)[0]
assert torch.allclose(P @ P, P, atol=1e-6), "Cov(whitened) should be a projector"
rank = int(torch.linalg.matrix_rank(linalg.covariance(cf)[0]))
print(f"content covariance rank {rank} of {cf.shape[1]}; trace of Cov(whitened) = {P.trace():.1f}")
if rank == cf.shape[1]:
    Ss = linalg.covariance(sf)[0]
    assert torch.allclose(linalg.covariance(out)[0], Ss, atol=1e-6 * Ss.abs().max())

# %% [markdown]
# **Eigenvalue spectra.** The covariance of trained features is dominated by a few
# directions and its tail falls by orders of magnitude — which is why $D^{-1/2}$ must be
# handled with care. Measured on the offline VGG-16 at `relu4_1` (512 px): the ten largest
# eigenvalues hold about 60 % of the variance, the 100th is about 200 times smaller than the
# first, and channels that never fire on this image (two of 512) give exact zeros (checked below).

# %%
fig, ax = plt.subplots(figsize=(5, 3.2))
for mat, name in [(linalg.covariance(cf)[0], "content"), (linalg.covariance(sf)[0], "style"), (linalg.covariance(out)[0], "WCT output")]:
    lam = torch.linalg.eigvalsh(mat).flip(0).clamp_min(1e-16)
    ax.semilogy(lam.numpy(), label=name)
ax.axhline(1e-5, color="grey", ls=":", label="official cut-off 1e-5")
ax.set_xlabel("index")
ax.set_ylabel("eigenvalue")
ax.legend()
ax.set_title(f"{net}: spectra at {layer}")
lam_c = torch.linalg.eigvalsh(linalg.covariance(cf)[0]).flip(0)
top10, decay = float(lam_c[:10].sum() / lam_c.sum()), float(lam_c[0] / lam_c[min(99, len(lam_c) - 1)])
print(f"content at {layer}: λ₁ = {lam_c[0]:.3g}, top-10 share of the variance {top10:.2f}, λ₁/λ₁₀₀ = {decay:.0f}")
if trained and not course.is_fast():
    assert top10 > 0.4 and decay > 50  # a few directions dominate; the tail falls by orders of magnitude

# %% [markdown]
# **Whitened feature maps.** Each map still shows *where* things are (the content),
# but every channel now has unit variance and no channel predicts another (no style).

# %%
chans = [0, 1, 2, 3]
maps = [cf[0, i] for i in chans] + [whitened[0, i] for i in chans]
viz.show_images(maps, titles=[f"content ch {i}" for i in chans] + [f"whitened ch {i}" for i in chans],
                ncols=4, size=2.2, cmap="viridis");

# %% [markdown]
# ## A teaching moment: what the implementations actually compute
#
# | preset | implementation | regularisation | dtype | extra |
# |---|---|---|---|---|
# | `official_wct` | UniversalStyleTransfer (Torch) | none; eigenvalues < 1e-5 dropped, each side | float32 | α = 0.6 by default |
# | `pytorch_wct` | PytorchWCT | **+I** on the content covariance | float64 | α = 1 |
# | `photowct` | FastPhotoStyle | **+I** on the content covariance | float32 | no α |
# | `wct2` | WCT² | **+I** on both covariances | float32 | clamp to content range |
# | `exact` | stylelab | none; relative cut-off | float64 | output covariance = Σ_s |
#
# The identity looks like a harmless ε — but whether it is harmless depends on the
# eigenvalues it is added to, not on its own size. Compare: pixels in [0, 1] have colour
# variances of about 1e-2; the features here are printed below. Wherever the leading
# eigenvalues are not ≫ 1, `+I` changes the result. Measure the relative error
# $\lVert \mathrm{Cov}(F_{cs}) - \Sigma_s\rVert / \lVert\Sigma_s\rVert$ for each preset.
# On the offline VGG-16 (its features as trained, leading eigenvalues in the thousands)
# the `+I` of `pytorch_wct` and `photowct` costs under 5 % at `relu4_1`, while `wct2`'s
# `+I` on both covariances costs about 20 %; the paper's *normalised* VGG-19 has far
# smaller feature variances, so there the same `+I` weighs much more.

# %%
presets = list(whitening.WCT_PRESETS)
def cov_error(c, s, preset):
    Ss = linalg.covariance(s)[0]
    return float((linalg.covariance(T.wct(c, s, preset=preset))[0] - Ss).norm() / Ss.norm())

# pixels ×4 (colour variances of order one) and the VGG features themselves
px_c, px_s = content.double() * 4, style.double() * 4
for name, x in [("RGB ×4", px_c), (f"{layer} features", cf)]:
    lam = torch.linalg.eigvalsh(linalg.covariance(x)[0])
    print(f"{name}: largest covariance eigenvalue {lam.max():.2g}, mean channel variance {lam.mean():.2g}")
lam_ft = torch.linalg.eigvalsh(linalg.covariance(cf)[0])
err_px = [cov_error(px_c, px_s, p) for p in presets]
err_ft = [cov_error(cf, sf, p) for p in presets]
fig, ax = plt.subplots(figsize=(7, 3.2))
xs = torch.arange(len(presets)).float()
ax.bar(xs - 0.2, err_px, 0.4, label="RGB ×4 (3 channels)")
ax.bar(xs + 0.2, err_ft, 0.4, label=f"{layer} features")
ax.set_xticks(xs.tolist(), presets)
ax.set_ylabel("relative covariance error")
ax.legend()
ax.set_title("how far each preset's output is from the style covariance");
assert err_px[presets.index("exact")] < 1e-8
# +I hurts in proportion to how small the eigenvalues are next to 1
if lam_ft.max() < 1:
    assert err_ft[presets.index("photowct")] > err_px[presets.index("photowct")], (err_ft, err_px)
if trained and encoder.arch == "vgg16" and not course.is_fast():  # the VGG-16 numbers stated above
    assert lam_ft.max() > 1e3 and err_ft[presets.index("photowct")] < 0.05 < 0.1 < err_ft[presets.index("wct2")]

# %% [markdown]
# Try it yourself: pick a preset, override the ε values, press **Run**. (Pixels
# here, so it is meaningful without pretrained weights.)

# %%
from stylelab.course.widgets.wct import WCTExplorer

wct_explorer = WCTExplorer(px_c / 4, px_s / 4)
wct_explorer.render()
wct_explorer.widget()

# %% [markdown]
# ## The multi-level cascade
#
# One level of WCT at `relu5_1` transfers coarse structure; at `relu1_1` only colour
# and fine texture. Universal Style Transfer chains five autoencoders, coarse to fine:
# at each level the *current image* is encoded again, WCT'd with the style's features
# of that level, and decoded. stylelab's WCT decoders are trained by you
# (`stylelab train --method wct --level L`); the official ones exist only as Torch
# files. Without them, the notebook runs the course pair **`vgg16-course`**
# (`stylelab.nets.course_pair`): the offline ImageNet VGG-16, frozen, and five decoders
# trained in this repository to invert its `relu1_1 … relu5_1` — real features, but
# decoders far weaker than the paper's (the banner gives their training data and time).
# Without the offline VGG-16 it uses the course's **stand-in** (`stylelab.course.standin`: five
# small decoders that invert a fixed-seed *random* encoder). Either way the cascade's
# mechanics — and what α does — become visible; neither is the published model.

# %%
model = course.method_model("wct")  # the paper's files, else the course pair vgg16-course, else the stand-in
course.weights_banner(model, "WCT (encoder + 5 decoders)")
tag = model.tag
# relu5_1 sees the image at 1/16 of its side: at 64 px that is 4×4 positions, too few to decode anything
csize = course.pick(full=size, fast=128)
content_c, style_c = data.load("astronaut", size=csize), data.load(style_name, size=csize)
steps = model.stylize_steps(content_c, style_c, alpha=0.6)  # {level: image}; the last is the result
result = steps[1]
viz.show_images([content_c, style_c, *steps.values()], titles=["content", "style", *[f"after relu{l}_1{tag}" for l in steps]],
                ncols=7, size=2)
# every step has contrast — except, on the course pair, the coarse steps: its relu5_1 / relu4_1 decoders are
# weak (the banner's PSNR) and decode a small image to an almost flat one; there the finer steps are checked
on_pair = hasattr(model, "weights_name")  # the course pair vgg16-course (else the paper's or the stand-in: every step)
viz.assert_not_flat([img for L, img in steps.items() if L <= 3 or not on_pair], what="network panel");

# %%
alphas = [0.2, 0.6, 1.0]
by_alpha = [model.stylize(content_c, style_c, alpha=a) for a in alphas]
viz.show_images(by_alpha, titles=[f"α = {a}{tag}" for a in alphas], size=2.5)
viz.assert_not_flat(by_alpha, what="network panel")
# how far the mean colour of each output is from the style's
gap = [float((o.mean((-2, -1)) - style_c.mean((-2, -1))).norm()) for o in by_alpha]
print("distance of the mean colour to the style's:", ", ".join(f"α={a}: {g:.3f}" for a, g in zip(alphas, gap)))

# %% [markdown]
# ## WCT without a network: patches as features
#
# Can we move texture without any trained weights? Take every 3×3 patch of the image
# as a 27-dimensional feature vector: its covariance holds the colour correlations
# *and* how neighbouring pixels co-vary — second-order texture statistics in Julesz'
# sense. WCT those vectors, put the patches back (averaging the overlaps), and do it
# coarse to fine, like the cascade. Then measure instead of guessing.

# %%
def patch_wct(content_img, style_img, k=3, preset="exact"):
    B, C, H, W = content_img.shape
    cf = F.unfold(content_img, k, padding=k // 2).view(B, C * k * k, H, W)
    sf = F.unfold(style_img, k, padding=k // 2).view(1, C * k * k, *style_img.shape[-2:])
    out = T.wct(cf.double(), sf.double(), preset=preset).float().view(B, C * k * k, H * W)
    ones = F.fold(torch.ones_like(out), (H, W), k, padding=k // 2)
    return F.fold(out, (H, W), k, padding=k // 2) / ones


half = F.interpolate(content, scale_factor=0.5, mode="bilinear", antialias=True)
half_s = F.interpolate(style, scale_factor=0.5, mode="bilinear", antialias=True)
coarse = F.interpolate(patch_wct(half, half_s, k=5), size=content.shape[-2:], mode="bilinear")
fine = patch_wct(coarse.clamp(0, 1), style, k=3)
patch3 = patch_wct(content, style).clamp(0, 1)
viz.show_images([content, style, wct_px, patch3, fine.clamp(0, 1)],
                titles=["content", "style", "WCT on pixels", "WCT on 3×3 patches", "coarse → fine patches"], ncols=5, size=2.4);


def detail_energy(x):
    """Mean energy of the three level-1 Haar detail bands: how much fine texture an image has."""
    x = x[..., : x.shape[-2] // 2 * 2, : x.shape[-1] // 2 * 2]
    return float(sum(b.pow(2).mean() for b in stylelab.features.wavelets.haar_dwt(x)[1:]))


moved = float((wct_px - content).abs().mean())
patch_vs_pixel = float((patch3 - wct_px).abs().mean())
print(f"mean |change| from the content: pixel WCT {moved:.3f}; patch WCT differs from pixel WCT by {patch_vs_pixel:.3f}")
print("fine-detail energy: " + ", ".join(f"{n} {detail_energy(x):.1e}" for n, x in
      [("content", content), ("style", style), ("pixel WCT", wct_px), ("3×3 patches", patch3), ("coarse → fine", fine.clamp(0, 1))]))
assert patch_vs_pixel < 0.25 * moved, "patch WCT should stay close to pixel WCT"
assert detail_energy(fine.clamp(0, 1)) < detail_energy(patch3), "the coarse → fine pass should be smoother"

# %% [markdown]
# **What the numbers say.** The 3×3-patch result differs from pixel WCT by a small
# fraction of how far either moved from the content: it is still, to the eye, a colour
# transfer. Its fine-detail energy sits a little closer to the style's than pixel WCT's,
# but averaging the nine overlapping estimates of every pixel cancels most of what the
# neighbour correlations add, and the coarse → fine pass, with its bilinear upsampling,
# is smoother still. Moving texture needs features whose channels respond to texture:
# the VGG cascade above.

# %% [markdown]
# ## Spatial control
#
# Label maps work as in notebook 03: WCT runs separately for each label present (with
# enough pixels) in both images.

# %%
c_name, s_name = data.pairs(labelled=True)[0]
c_img, s_img = data.load(c_name, size=size), data.load(s_name, size=size)
c_lab, s_lab = data.load_labels(c_name, size=size), data.load_labels(s_name, size=size)
per_label = T.wct(c_img, s_img, content_labels=c_lab, style_labels=s_lab).clamp(0, 1)
viz.show_images([c_img, s_img, T.wct(c_img, s_img).clamp(0, 1), per_label],
                titles=[c_name, s_name, "WCT on pixels, global", "WCT on pixels, per label"], size=2.5);

# %% [markdown]
# ## Exercises
#
# **04.covariance** — the unbiased covariance of a feature matrix `f` of shape (C, N).

# %%
def my_covariance(f):
    raise NotImplementedError  # your code here


covariance = use("04.covariance", my_covariance)

# %% [markdown]
# The colour covariances of the pair above and of the WCT output, computed with your
# function, on one colour scale: the output's is the style's.

# %%
covs = {pair_c: covariance(c2[0].flatten(1)), pair_s: covariance(s2[0].flatten(1)),
        "WCT output": covariance(mine[0].flatten(1))}
vmax = max(float(v.abs().max()) for v in covs.values())
fig, axes = plt.subplots(1, 3, figsize=(10, 3))
for ax, (n, v) in zip(axes, covs.items()):
    im = ax.imshow(v.numpy(), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.set_xticks(range(3), list("RGB"))
    ax.set_yticks(range(3), list("RGB"))
    ax.set_title(f"covariance: {n}\n({drawn_by(covariance)})", fontsize=9)
fig.colorbar(im, ax=axes, fraction=0.02);

# %% [markdown]
# **04.whiten** — whiten a (C, N) matrix with `torch.linalg.eigh` (assume every
# eigenvalue is positive).

# %%
def my_whiten(f):
    raise NotImplementedError  # your code here


whiten = use("04.whiten", my_whiten)

# %% [markdown]
# The content's pixels whitened by your function (shown as 0.5 + 0.15·x): colour
# correlations removed, layout kept — and their covariance, by your `covariance`, is I.

# %%
white = whiten(c2[0].flatten(1))
assert torch.allclose(covariance(white), torch.eye(3, dtype=white.dtype), atol=1e-6)
viz.show_images([c2, (0.5 + 0.15 * white.reshape(c2.shape)).clamp(0, 1)], titles=[pair_c, f"whitened ({drawn_by(whiten)})"], size=2.6);

# %% [markdown]
# ## What to remember
#
# * Whitening removes the mean and *all* correlations between channels; colouring
#   installs the style's. AdaIN is the special case that only looks at the diagonal.
# * The eigen-decomposition is the delicate part: tiny eigenvalues must be cut or
#   regularised, and the references do it differently — only the unregularised
#   transform reproduces the style covariance; `+I` visibly does not.
# * The cascade re-encodes the current image at every level, coarse to fine; α blends
#   at each level (0.6 in the official code).
# * On pixels WCT is full-covariance colour transfer. On overlapping 3×3 patches it
#   is still mostly colour transfer: averaging the overlaps cancels most of what the
#   neighbour correlations add. Texture needs features that respond to texture — the
#   VGG cascade with its decoders.
#
# **Papers.** Y. Li, C. Fang, J. Yang, Z. Wang, X. Lu & M.-H. Yang, *Universal Style
# Transfer via Feature Transforms*, NeurIPS 2017. Y. Li et al., *A Closed-form Solution
# to Photorealistic Image Stylization*, ECCV 2018. J. Yoo et al., *Photorealistic Style
# Transfer via Wavelet Transforms*, ICCV 2019. B. Julesz, *Visual Pattern Discrimination*,
# IRE Trans. Information Theory, 1962.

# %% [markdown]
# ## Questionnaire
#
# 1. AdaIN matches a diagonal of the covariance; WCT matches all of it. Give an example
#    of two images with the same per-channel means and variances whose colours still
#    look different. Which statistic tells them apart?
# 2. Why is the covariance of whitened features a *projector* rather than the identity
#    when some channels never vary? What happens to those directions in the colouring step?
# 3. The official WCT drops eigenvalues below 1e-5; PytorchWCT adds the identity. For which
#    features is each choice harmless, and for which does it change the result? (Hint: the
#    answer depends on the size of the eigenvalues, not on the size of ε.)
# 4. Why does the cascade *re-encode* the current image at every level instead of
#    encoding the content once?
# 5. What does α = 0.6 blend, and at how many places in the cascade?
# 6. Patch WCT on overlapping 3×3 patches came out close to pixel WCT. Which step of
#    `patch_wct` undoes most of what the 27-dimensional covariance adds?
# 7. Label maps make WCT run per region. What goes wrong with a region of 5 pixels, and
#    what does the usability rule do about it?
#
# **Further reading.** Read the method section of Li et al. (NeurIPS 2017) and compare their
# Figure on "whitening" with the whitened maps above. Look up Kessy, Lewin & Strimmer,
# *Optimal Whitening and Decorrelation* (The American Statistician, 2018): ZCA — the
# whitening used here — is one of infinitely many; why is it the one that keeps the
# content's layout? Then read how the official Torch code (`test_wct.lua` in
# Yijunmaverick/UniversalStyleTransfer) handles eigenvalues, and find the preset above
# that reproduces it.
#
# **Next:** [05 · PhotoWCT](05_photowct.ipynb) — stylise a photo so that it stays a photo: unpooling and closed-form smoothing.
