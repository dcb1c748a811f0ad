# %% [markdown]
# # 04 · WCT: whitening and colouring the feature covariance
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
from stylelab import course, data, viz
from stylelab import transforms as T

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
    viz.heatmap(T.covariance(img)[0], f"RGB covariance: {title}", ax=ax, colorbar=False)
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
# ## Whitening made visible on VGG features
#
# We take VGG-19 features of both images (random weights in CI: then the channels
# are random filters, but all identities below still hold).

# %%
encoder = stylelab.encoders.normalised_vgg19(last_layer="relu5_1", random=True)
course.weights_banner(encoder, "normalised VGG-19")
layer = course.pick(full="relu4_1", fast="relu2_1")
with torch.no_grad():
    cf = encoder(content, layers=layer)[layer].double()
    sf = encoder(style, layers=layer)[layer].double()
whitened = T.whiten(cf)
out = T.wct(cf, sf, preset="exact")
print(f"{layer}: {cf.shape[1]} channels × {cf.shape[2] * cf.shape[3]} positions")

k = 32  # show the first k channels
fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
for ax, (mat, title) in zip(axes, [(T.covariance(cf)[0], "content Σ_c"), (T.covariance(whitened)[0], "whitened: ≈ I"),
                                   (T.covariance(sf)[0], "style Σ_s"), (T.covariance(out)[0], "after colouring: = Σ_s")]):
    viz.heatmap(mat[:k, :k], title, ax=ax, colorbar=False)
fig.tight_layout();

# %% [markdown]
# Checks. The covariance of the whitened features is a *projector*: the identity on
# every direction in which the content varies (dead ReLU channels of a random
# network have none, and whitening cannot invent variation there).

# %%
P = T.covariance(whitened)[0]
assert torch.allclose(P @ P, P, atol=1e-6), "Cov(whitened) should be a projector"
rank = int(torch.linalg.matrix_rank(T.covariance(cf)[0]))
print(f"content covariance rank {rank} of {cf.shape[1]}; trace of Cov(whitened) = {P.trace():.1f}")
if rank == cf.shape[1]:
    Ss = T.covariance(sf)[0]
    assert torch.allclose(T.covariance(out)[0], Ss, atol=1e-6 * Ss.abs().max())

# %% [markdown]
# **Eigenvalue spectra.** Feature covariances are dominated by a few directions; the
# tail falls by orders of magnitude — which is why $D^{-1/2}$ must be handled with care.

# %%
fig, ax = plt.subplots(figsize=(5, 3.2))
for mat, name in [(T.covariance(cf)[0], "content"), (T.covariance(sf)[0], "style"), (T.covariance(out)[0], "WCT output")]:
    lam = torch.linalg.eigvalsh(mat).flip(0).clamp_min(1e-16)
    ax.semilogy(lam.numpy(), label=name)
ax.axhline(1e-5, color="grey", ls=":", label="official cut-off 1e-5")
ax.set_xlabel("index")
ax.set_ylabel("eigenvalue")
ax.legend()
ax.set_title(f"spectra at {layer}");

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
# The identity looks like a harmless ε — but normalised-VGG features have variances of
# order one, so it changes the result. Measure the relative error
# $\lVert \mathrm{Cov}(F_{cs}) - \Sigma_s\rVert / \lVert\Sigma_s\rVert$ for each preset:

# %%
presets = list(T.WCT_PRESETS)
def cov_error(c, s, preset):
    Ss = T.covariance(s)[0]
    return float((T.covariance(T.wct(c, s, preset=preset))[0] - Ss).norm() / Ss.norm())

# pixels scaled like VGG features (variance ~1) and the VGG features themselves
px_c, px_s = content.double() * 4, style.double() * 4
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

# %% [markdown]
# Try it yourself: pick a preset, override the ε values, press **Run**. (Pixels
# here, so it is meaningful without pretrained weights.)

# %%
from stylelab.widgets.wct import WCTExplorer

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
# files. In CI all five are random: the pictures only show the mechanics.

# %%
model = stylelab.WCT.from_official(random=True)
course.weights_banner(model, "WCT (encoder + 5 decoders)")
steps = model.stylize_steps(content, style, alpha=0.6)  # {level: image}; the last is the result
result = steps[1]
viz.show_images([content, style, *steps.values()], titles=["content", "style", *[f"after relu{l}_1" for l in steps]],
                ncols=7, size=2);

# %%
alphas = [0.2, 0.6, 1.0]
viz.show_images([model.stylize(content, style, alpha=a) for a in alphas], titles=[f"α = {a}" for a in alphas], size=2.5);

# %% [markdown]
# ## WCT without a network: patches as features
#
# We can still see texture transfer without any trained weights. Take every 3×3 patch
# of the image as a 27-dimensional feature vector: its covariance holds the colour
# correlations *and* how neighbouring pixels co-vary — second-order texture statistics
# in Julesz' sense. WCT those vectors, put the patches back (averaging the overlaps),
# and do it coarse to fine, like the cascade.

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
viz.show_images([content, style, wct_px, patch_wct(content, style).clamp(0, 1), fine.clamp(0, 1)],
                titles=["content", "style", "WCT on pixels", "WCT on 3×3 patches", "coarse → fine patches"], ncols=5, size=2.4);

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
from stylelab.exercises import check


def my_covariance(f):
    raise NotImplementedError  # your code here


check("04.covariance", my_covariance)

# %% [markdown]
# **04.whiten** — whiten a (C, N) matrix with `torch.linalg.eigh` (assume every
# eigenvalue is positive).

# %%
def my_whiten(f):
    raise NotImplementedError  # your code here


check("04.whiten", my_whiten)

# %% [markdown]
# **04.wct** — the whole transform for (C, N) content and (C, M) style matrices, no
# regularisation.

# %%
def my_wct(content_f, style_f):
    raise NotImplementedError  # your code here


check("04.wct", my_wct)

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
# * On pixels WCT is full-covariance colour transfer; on patches it already moves texture.
#
# **Papers.** Y. Li, C. Fang, J. Yang, Z. Wang, X. Lu & M.-H. Yang, *Universal Style
# Transfer via Feature Transforms*, NeurIPS 2017. Y. Li et al., *A Closed-form Solution
# to Photorealistic Image Stylization*, ECCV 2018. J. Yoo et al., *Photorealistic Style
# Transfer via Wavelet Transforms*, ICCV 2019. B. Julesz, *Visual Pattern Discrimination*,
# IRE Trans. Information Theory, 1962.
