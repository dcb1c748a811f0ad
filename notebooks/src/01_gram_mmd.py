# %% [markdown]
# # 01 · Style as statistics: Gram matrices and MMD
#
# **Before this notebook:** [00 · Start here](00_start_here.ipynb) (how exercises work; exercises 00.mean_colour and 00.luminance: statistics that sum over positions).
#
# **Time:** about 1.2 min (70 s) in full mode on a 2-core laptop (measured with the trained networks installed, README, "Full mode: what a student runs"); under 90 s in fast mode (`STYLELAB_FAST=1`).
#
# **What you will learn**
#
# * why a *texture* can be described by statistics that forget *where* things are,
#   and which statistics are rich enough (pixels → patches → filter banks → CNN features);
# * the Gram matrix of a feature map, and the three normalisations you will meet in
#   papers and tutorials;
# * that Gatys' Gram loss is exactly a **maximum mean discrepancy** (MMD²) with the
#   kernel $(x^\top y)^2$ — checked numerically to $10^{-10}$;
# * what other kernels (linear, polynomial, Gaussian) and plain moment matching keep
#   and lose;
# * that even **random, untrained filters** give textures when their Gram matrices
#   are matched — and how far a **trained** network's features go beyond them, measured
#   on a statistic that neither optimised.
#
# **Which network draws the figures.** The course's rule (`stylelab.course.feature_network`):
# the paper's normalised VGG-19 when its file is on your machine; else the VGG-16 that
# `make lab` installs offline (ImageNet VGG-16 fine-tuned for edge detection: HED); else
# VGG-19 with random weights, labelled. The banner says which one ran and the figure titles
# name it; claims about trained features are checked by `assert`s when a trained network drew them.

# %%
import matplotlib.pyplot as plt
import torch

import stylelab
from stylelab import course, viz
from stylelab.media import data
from stylelab.features import losses, stats
from stylelab.methods import gatys

torch.manual_seed(0)
size = course.pick(full=128, fast=48)
texture_names = data.names("texture")
textures = {n: data.load(n, size=(size, size)) for n in texture_names}
viz.show_images(list(textures.values()), titles=texture_names, size=2.2);

# %% [markdown]
# ## The idea in pictures
#
# Look at brick, grass or gravel: move your eye anywhere and it "looks the same".
# Julesz conjectured in the 1960s that such textures are perceived through
# **statistics** that are the same everywhere in the image, and later work
# (Portilla & Simoncelli, 2000) made this concrete with hand-designed filter
# statistics. A statistic of this kind throws away positions: it is computed from
# the *bag* of local measurements.
#
# The simplest bag is the bag of pixels. Its second-order statistic is the $3\times3$
# matrix of products of colour channels. Shuffle the pixels of a texture and this
# matrix does not change at all — but the picture is destroyed. Pixel statistics are
# *invariant to position* (good) but far too poor (bad).

# %%
name = texture_names[0]
tex = textures[name]
g = torch.Generator().manual_seed(0)
perm = torch.randperm(size * size, generator=g)
shuffled = tex.flatten(2)[..., perm].reshape(tex.shape)
G_tex, G_shuf = stats.gram(tex)[0], stats.gram(shuffled)[0]
assert torch.allclose(G_tex, G_shuf, atol=1e-6)  # same pixel Gram matrix...
centred = lambda im: im - im.mean((2, 3), keepdim=True)  # remove the mean colour: look at co-variation
P_tex = stats.gram(stats.patches(centred(tex), 3))[0]
P_shuf = stats.gram(stats.patches(centred(shuffled), 3))[0]
assert (P_tex - P_shuf).norm() > 0.2 * P_tex.norm()  # ...but very different 3×3-patch statistics

viz.show_images([tex, shuffled], titles=[name, "pixels shuffled"], size=2.6)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
viz.heatmap(G_tex, "pixel Gram (3×3): identical", ax=axes[0], symmetric=False, cmap="magma")
viz.heatmap(P_tex, f"centred 3×3-patch Gram of {name}", ax=axes[1])
viz.heatmap(P_shuf, "centred 3×3-patch Gram, shuffled", ax=axes[2])
fig.tight_layout();

# %% [markdown]
# Patches remember a little about neighbours; filters at several scales remember
# more; the feature maps of a deep network remember most. Gatys, Ecker & Bethge
# (NeurIPS 2015) took the last step: describe a texture by the correlations between
# the feature channels of VGG-19, layer by layer.
#
# ## The equation: the Gram matrix
#
# A feature map of one image at layer $l$ has $C$ channels and $M = H\cdot W$
# positions. Write it as a matrix $F \in \mathbb{R}^{C\times M}$: each *column* is
# the feature vector at one position. The Gram matrix sums products over positions:
#
# $$G_{ij} = \sum_{k=1}^{M} F_{ik}\,F_{jk}, \qquad G = F F^\top \in \mathbb{R}^{C\times C}.$$
#
# It is an (uncentred) covariance of the channels: positions are summed away. Papers and
# tutorials scale it differently, and the scale changes what a "style weight" means:

# %%
for key, text in stats.GRAM_NORMALIZATIONS.items():
    print(f"normalize={key!r:<12} {text}")
f = torch.randn(1, 4, 5, 6)
assert torch.allclose(stats.gram(f, "elements") * 4, stats.gram(f, "positions"))

# %% [markdown]
# ### Exercise 01.gram — write the Gram matrix
#
# For a batch of feature maps `(B, C, H, W)` return `(B, C, C)`: $G = FF^\top$ divided by
# the number of positions $M = H\cdot W$ (`normalize="positions"`, the course default).
# The heatmaps below are drawn with your function.

# %%
from stylelab.course.exercises import drawn_by, use


def my_gram(features):
    raise NotImplementedError  # your code here


gram = use("01.gram", my_gram)

# %% [markdown]
# ## Gram matrices of real features
#
# Now the same on the features of a trained network: the paper's *normalised* VGG-19
# (Gatys et al. rescaled its filters so each has mean activation one over ImageNet) when
# you have it, else the offline VGG-16 (its features as trained: larger in shallow layers).
# With neither, the cell runs with **random** weights and says so; the algebra that follows
# holds for any weights.

# %%
encoder = course.feature_network("relu5_1", pooling="avg")
course.weights_banner(encoder)
net, trained = encoder.tag, encoder.pretrained  # titles say `net`; claims about trained features are checked if `trained`
layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]
with torch.no_grad():
    feats = {n: encoder(t, layers=layers) for n, t in textures.items()}

fig, axes = plt.subplots(len(textures), len(layers), figsize=(2.7 * len(layers), 2.5 * len(textures)))
for r, (n, fd) in enumerate(feats.items()):
    for c_, layer in enumerate(layers):
        G = gram(fd[layer])[0][:32, :32]
        viz.heatmap(G, f"{n} · {layer}" if r == 0 or c_ == 0 else layer, ax=axes[r, c_], symmetric=False,
                    cmap="magma", colorbar=False, scale="log")
        axes[r, c_].axis("off")
fig.suptitle(f"{net}: Gram matrices (first 32 channels) of each texture at four layers, log colour scale ({drawn_by(gram)})")
fig.tight_layout();

# %% [markdown]
# A single number per pair of textures: the Gram (style) distance, per layer and summed
# over the four layers. The Gram matrix is uncentred, so the mean and spread of the
# features — colour and contrast at `relu1_1` — weigh heavily: the only green texture
# (meadow) is far from the three grey ones at every layer. Among the grey ones the deeper
# layers of the trained network tell the arrangement apart: grass and gravel (irregular
# grain) come out nearest each other, the regular brick wall farther.

# %%
names_ = list(textures)
per_layer = torch.zeros(len(layers), len(names_), len(names_))
for k, l in enumerate(layers):
    for i, a in enumerate(names_):
        for j, b in enumerate(names_):
            per_layer[k, i, j] = losses.gram_loss(feats[a][l], losses.gram_target(feats[b][l]))
dist = per_layer.sum(0)
assert torch.allclose(dist, dist.T, rtol=1e-4, atol=1e-8) and torch.all(dist.diagonal() < 1e-6 * dist.max())
fig, ax = plt.subplots(figsize=(4.5, 3.8))
viz.heatmap(dist.log10().clamp(min=-8), f"{net}: log₁₀ Gram distance", ax=ax, symmetric=False, cmap="viridis")
ax.set_xticks(range(len(names_)), names_, rotation=45)
ax.set_yticks(range(len(names_)), names_)
nearest = {l: {a: names_[int(per_layer[k, i].masked_fill(torch.eye(len(names_))[i].bool(), float("inf")).argmin())]
               for i, a in enumerate(names_)} for k, l in enumerate(layers)}
for l in layers:
    print(f"{l}: nearest texture of each: {nearest[l]}")
if trained and not course.is_fast():
    g, grey = names_.index("meadow"), [i for i, n in enumerate(names_) if n != "meadow"]
    for k in range(len(layers)):  # meadow: farther from every grey texture than the grey ones are from each other
        assert per_layer[k, g, grey].min() > per_layer[k][grey][:, grey].max(), layers[k]
    assert all(nearest[l]["grass"] == "gravel" and nearest[l]["gravel"] == "grass" for l in ("relu3_1", "relu4_1"))

# %% [markdown]
# **Layer statistics.** What do the layers' feature vectors look like as a bag? For each
# layer: the mean activation, the share of active (non-zero) units after the ReLU, and the
# *effective rank* of the channel covariance, $\exp(-\sum_i p_i \log p_i)$ with $p_i$ the
# eigenvalues divided by their sum — how many directions the variation really uses. On the
# trained network the first layer's variation is nearly all in a handful of directions
# (colour and brightness: an effective rank below 10 of 64 channels), while each deeper
# layer spreads it over more than 15: the statistics the Gram matrices compare grow richer
# with depth.

# %%
def effective_rank(f):
    lam = torch.linalg.eigvalsh(torch.cov(f[0].flatten(1).double())).clamp(min=0)
    p = lam[lam > 0] / lam.sum()
    return float(torch.exp(-(p * p.log()).sum()))


probe = texture_names[1]
layer_stats = {l: (float(feats[probe][l].mean()), float((feats[probe][l] > 0).float().mean()), effective_rank(feats[probe][l]))
               for l in layers}
print(f"{net}, {probe}: {'layer':<8} {'mean':>8} {'active':>7} {'effective rank':>15}")
for l, (m_, a_, r_) in layer_stats.items():
    print(f"{'':<{len(net) + len(probe) + 3}}{l:<8} {m_:8.3g} {a_:7.2f} {r_:15.1f} (of {feats[probe][l].shape[1]})")
if trained and not course.is_fast():
    assert layer_stats["relu1_1"][2] < 10 and all(layer_stats[l][2] > 15 for l in layers[1:])

# %% [markdown]
# ## Why the Gram matrix works: it is an MMD
#
# Li, Wang, Liu & Hou ("Demystifying Neural Style Transfer", IJCAI 2017) read the
# columns $f_1,\dots,f_M$ of $F$ (generated image) and $s_1,\dots,s_M$ of $S$ (style
# image) as **two samples** from two distributions, and compare them with the
# maximum mean discrepancy of a kernel $k$:
#
# $$\mathrm{MMD}^2 = \frac{1}{M^2}\sum_{a,b} k(f_a, f_b) + \frac{1}{M^2}\sum_{a,b} k(s_a, s_b) - \frac{2}{M^2}\sum_{a,b} k(f_a, s_b).$$
#
# Choose $k(x, y) = (x^\top y)^2$. Expand one term:
# $\sum_{a,b} (f_a^\top f_b)^2 = \sum_{a,b}\sum_{i,j} F_{ia}F_{ib}F_{ja}F_{jb} = \sum_{i,j} G_{ij}^2$,
# and likewise the cross term gives $\sum_{ij} G_{ij}A_{ij}$ with $A = SS^\top$. So
#
# $$\mathrm{MMD}^2 = \frac{1}{M^2}\,\lVert G - A\rVert_F^2, \qquad
# E_l = \frac{1}{4C^2M^2}\lVert G-A\rVert_F^2 = \frac{\mathrm{MMD}^2}{4C^2}.$$
#
# Gatys' style loss *is* a distance between feature distributions — it asks the
# generated image's bag of feature vectors to look like the style's bag.
#
# ### Exercise 01.style_layer_loss — write Gatys' layer loss
#
# $E_l = \lVert G-A\rVert_F^2/(4C^2M^2)$ with the *raw* Gram matrices $G = FF^\top$,
# $A = SS^\top$ of two `(1, C, H, W)` feature maps of the same size. The cell after it
# compares your $E_l$ with two MMD computations, in float64, on the features above.

# %%
def my_layer_loss(features, style_features):
    raise NotImplementedError  # your code here


layer_loss = use("01.style_layer_loss", my_layer_loss)

# %%
a_name, b_name = names_[0], names_[1]
e_by_layer = {}
for layer in layers:
    F_ = feats[a_name][layer].double()
    S_ = feats[b_name][layer].double()
    C, M = F_.shape[1], F_.shape[2] * F_.shape[3]
    e_gatys = layer_loss(F_, S_)  # the paper's E_l (your function, or the library's)
    mmd_closed = stats.mmd2(F_, S_, kernel="poly", degree=2, offset=0.0)[0]  # closed form
    K = lambda x, y: stats.kernel_matrix(x, y, "poly", 2, 0.0).mean()  # explicit M×M kernel matrices
    mmd_direct = K(F_, F_) + K(S_, S_) - 2 * K(F_, S_)
    rel = [float(abs(e_gatys - m / (4 * C**2)) / e_gatys) for m in (mmd_closed, mmd_direct)]
    assert max(rel) < 1e-10, rel
    e_by_layer[layer] = float(e_gatys)
    print(f"{layer}: E_l = {e_gatys:.6e}   MMD²/(4C²) relative differences: {rel[0]:.1e}, {rel[1]:.1e}")

# %%
fig, ax = plt.subplots(figsize=(5, 2.6))
ax.bar(list(e_by_layer), list(e_by_layer.values()))
ax.set_yscale("log")
ax.set_ylabel("$E_l$")
ax.set_title(f"{net}: {a_name} vs {b_name}, layer loss $E_l$ ({drawn_by(layer_loss)})", fontsize=9);

# %% [markdown]
# ## Other kernels, and plain moments
#
# Once style is "distance between distributions", the kernel is a design choice
# (Li et al. tried several):
#
# | kernel $k(x,y)$ | what $\mathrm{MMD}^2$ matches |
# |---|---|
# | linear $x^\top y$ | the **means**: $\mathrm{MMD}^2 = \lVert \bar f - \bar s\rVert^2$ |
# | $(x^\top y)^2$ | all second moments $E[ff^\top]$: the Gram matrix |
# | $(x^\top y + c)^2$ | second moments **and** means (weighted by $2c$) |
# | Gaussian $e^{-\lVert x-y\rVert^2/2\sigma^2}$ | every moment: MMD² = 0 only for equal distributions |
#
# and **moment matching** (per-channel mean and standard deviation — what AdaIN will
# do in notebook 03) keeps only the diagonal of the covariance. The biased estimator
# above includes the $a=b$ terms; the unbiased one drops them (and can be
# negative). Below: the distance from the first texture to every texture under each
# choice, each normalised by its largest value.

# %%
layer = "relu2_1"
choices = {
    "linear": lambda x, y: stats.mmd2(x, y, "linear"),
    "poly c=0 (Gram)": lambda x, y: stats.mmd2(x, y, "poly"),
    "poly c=1": lambda x, y: stats.mmd2(x, y, "poly", offset=1.0),
    "gaussian (median σ)": lambda x, y: stats.mmd2(x, y, "gaussian"),
    "moments": lambda x, y: losses.moment_loss(x, losses.moment_target(y)).reshape(1),
}
ref = feats[names_[0]][layer]
table = {k: torch.stack([fn(ref, feats[n][layer])[0] for n in names_]) for k, fn in choices.items()}
fig, ax = plt.subplots(figsize=(8, 3.2))
width = 0.8 / len(table)
for i, (k, v) in enumerate(table.items()):
    ax.bar(torch.arange(len(names_)) + i * width, (v / v.max()).clamp(min=0), width, label=k)
ax.set_xticks(torch.arange(len(names_)) + 0.4 - width / 2, [f"{names_[0]} ↔ {n}" for n in names_])
ax.set_ylabel("normalised MMD² / loss")
ax.legend(fontsize=8)
fig.tight_layout()
assert all(float(v[0]) < 1e-6 * float(v.abs().max()) + 1e-12 for k, v in table.items() if k != "gaussian (median σ)")

# %% [markdown]
# The unbiased estimator agrees with the biased one up to the diagonal terms; with
# many positions the difference is small:

# %%
b = stats.mmd2(ref, feats[names_[1]][layer], "gaussian")
u = stats.mmd2(ref, feats[names_[1]][layer], "gaussian", unbiased=True)
print(f"Gaussian MMD² at {layer}: biased {float(b):.4g}, unbiased {float(u):.4g}")
assert float(u) <= float(b)

# %% [markdown]
# ## Without pretrained weights: textures from random filters
#
# Is the *trained* network essential? Ustyuzhaninov, Brendel, Gatys & Bethge (ICLR
# 2017) matched Gram matrices of a **single layer of random filters** at several
# scales and still got convincing textures. Below we synthesise a texture by
# optimising the pixels of a noise image so that its statistics match the texture's —
# once with pixel statistics only, once with 3×3 patches, once with random filters of
# sizes 3 to 11. This is Gatys' texture synthesis with the VGG replaced by something
# you can write in three lines.

# %%
def synthesize(target, features, steps, seed=0, style="gram"):
    """Optimise a noise image so its `features` statistics match `target`'s (L-BFGS on pixels)."""
    with torch.no_grad():
        t_feats = features(target)
        targets = {k: (losses.gram_target(v) if style == "gram" else losses.moment_target(v)) for k, v in t_feats.items()}
    x = gatys.noise_like(target, seed).requires_grad_(True)
    opt = torch.optim.LBFGS([x], max_iter=steps, history_size=20, line_search_fn="strong_wolfe")
    history, scale = [], []

    def closure():
        opt.zero_grad()
        fs = features(x.clamp(0, 1))
        if style == "gram":
            loss = sum(losses.gram_loss(fs[k], targets[k]) for k in fs)
        else:
            loss = sum(losses.moment_loss(fs[k], targets[k]) for k in fs)
        if not scale:  # measure the loss relative to its start: L-BFGS's tolerances are absolute
            scale.append(loss.detach())
        loss = loss / scale[0]
        loss.backward()
        history.append(float(loss.detach()))  # detached: float() of a tensor that requires grad warns
        return loss

    opt.step(closure)
    return x.detach().clamp(0, 1), history


steps = course.pick(full=200, fast=25)
filters = stats.random_filters(3, channels=course.pick(full=64, fast=16), sizes=(3, 5, 7, 11), seed=0)
extractors = {
    "pixels": lambda im: {"pixels": im},
    "3×3 patches": lambda im: {"patches": stats.patches(im, 3)},
    "random filters": lambda im: stats.random_features(im, filters),
}
target = textures[texture_names[0]]
synth = {k: synthesize(target, fn, steps) for k, fn in extractors.items()}
for k, (img, hist) in synth.items():
    assert hist[-1] < 0.5 * hist[0], k  # each optimisation at least halved its loss
viz.show_images([target, *[v[0] for v in synth.values()]], titles=["target", *[f"Gram of {k}" for k in synth]], size=2.6);

# %% [markdown]
# What do the three results keep of the target? Two measurements that none of the
# optimisations targeted:
#
# * the **radially averaged power spectrum** of the grey image — how much energy sits at
#   each spatial frequency, so "fine grain" is the share of energy in the upper half of
#   the frequencies;
# * a **held-out Gram distance**: the Gram loss under a *different* bank of random
#   filters (other seed, other sizes) that no optimisation saw.
#
# Neither is neutral. Both are **second-order statistics of the same family as the
# random-filter Gram**: the power spectrum is the Fourier transform of the image's
# autocorrelation (Wiener–Khinchin), i.e. the Gram of all shifted copies of the grey image,
# and the held-out distance is a random-filter Gram with other filters. They therefore
# favour the random-filter method by construction; read them as "how well is the
# second-order structure kept", not as a verdict on texture quality. A measure outside
# this family (a trained classifier's judgement, or people's) is the question at the end.
#
# The same machinery with *moments only* (per-channel mean and standard deviation of
# the random features, ignoring how channels co-vary) is measured alongside.

# %%
def radial_spectrum(image):
    """Mean power |FFT|² of the grey, mean-free image at each integer radius 1 … min(H, W)/2 − 1."""
    g = image.mean(1)[0]
    power = torch.fft.fftshift(torch.fft.fft2(g - g.mean())).abs() ** 2
    h, w = power.shape
    yy, xx = torch.meshgrid(torch.arange(h) - h // 2, torch.arange(w) - w // 2, indexing="ij")
    r = (yy**2 + xx**2).sqrt().round().long().flatten()
    n = min(h, w) // 2
    return (torch.bincount(r, power.flatten()) / torch.bincount(r).clamp(min=1))[1:n]


def fine_share(image):
    """Share of the spectrum's energy in the upper half of the frequencies."""
    s = radial_spectrum(image)
    return float(s[len(s) // 2:].sum() / s.sum())


def spectrum_error(image):
    """RMS difference of log-spectra from the target's (0 = the same energy at every scale)."""
    return float((radial_spectrum(image).log() - radial_spectrum(target).log()).pow(2).mean().sqrt())


held_out = stats.random_filters(3, channels=64, sizes=(3, 5, 9, 15), seed=123)


def held_out_distance(image):
    a, b = stats.random_features(image, held_out), stats.random_features(target, held_out)
    return float(sum(losses.gram_loss(a[k], losses.gram_target(b[k])) for k in a))


moments_only, hist = synthesize(target, extractors["random filters"], steps, style="moments")
assert hist[-1] < hist[0]
results = {**{f"Gram of {k}": v[0] for k, v in synth.items()}, "random filters: mean+std": moments_only}
table = {k: (fine_share(v), spectrum_error(v), held_out_distance(v)) for k, v in results.items()}
print(f"{'':<28} fine-grain share  log-spectrum error  held-out Gram distance")
print(f"{'target':<28} {fine_share(target):16.3f}")
for k, (fs_, se, hd) in table.items():
    print(f"{k:<28} {fs_:16.3f} {se:19.2f} {hd:23.3g}")
viz.show_images([target, *results.values()], titles=["target", *results], size=2.6)
fig, ax = plt.subplots(figsize=(5, 3))
for k, img in {"target": target, **results}.items():
    ax.loglog(radial_spectrum(img).numpy(), label=k, lw=2.5 if k == "target" else 1.2)
ax.set_xlabel("spatial frequency (radius in the FFT)")
ax.set_ylabel("power")
ax.legend(fontsize=7);

# %% [markdown]
# What the numbers (and the pictures) show:
#
# * **Pixels** keep the colour distribution and nothing else: the result is white
#   noise, far from the target at every frequency.
# * **3×3 patches do not add fine grain here — they remove it.** Matching the Gram
#   matrix of 27-dimensional patch vectors from noise produced soft blobs: the share of
#   fine-grain energy falls well below the target's (checked below).
# * **Random multi-scale filters** come closest: their spectrum follows the target's
#   and the held-out distance drops by orders of magnitude.
# * **Moments alone are not clearly weaker on this texture.** Matching only each
#   random channel's mean and spread lands close to the Gram result — by eye and by the
#   two measurements (the held-out distance within a factor of four of the Gram
#   result's, closer still at the default full-mode settings). With many filters at several scales, the means and spreads of the
#   channels already constrain the texture a lot; on this texture the cross-channel
#   terms of the Gram matrix add little. (AdaIN, notebook 03, relies on exactly this.)

# %%
gram_rf, patch, pix = table["Gram of random filters"], table["Gram of 3×3 patches"], table["Gram of pixels"]
moments = table["random filters: mean+std"]
assert patch[0] < 0.5 * fine_share(target)  # patches remove fine grain
assert gram_rf[1] < min(patch[1], pix[1]) and gram_rf[2] < min(patch[2], pix[2])  # random filters: closest
assert moments[2] < 4 * gram_rf[2] and moments[1] < 2 * gram_rf[1] + 0.1  # moments: close to the Gram result

# %% [markdown]
# ### And a trained network?
#
# The same synthesis with the Gram matrices of the trained network above (`relu1_1 …
# relu5_1`, Gatys et al.'s texture synthesis: `gatys.synthesize_texture`, notebook 02),
# measured with the same two statistics that neither optimisation saw (and that, being
# second-order statistics like the random-filter Gram, favour the random filters). What it shows, on
# the offline VGG-16 at the default settings (100 evaluations, 128 px): the rows of bricks
# and their mortar lines come back — a layout the random filters do not produce — but with
# a fine, coloured noise on top, and **both held-out measurements rank it behind the random
# filters** (log-spectrum error about 0.6 against 0.3; held-out Gram distance orders of
# magnitude larger). The uncentred Gram matrices of VGG-16's unrescaled features are
# dominated by their large means, so colour noise costs them little; a budget of 100
# evaluations does not remove it. Trained features are not automatically the better
# texture statistic — what they add is structure at the scale of objects, which these two
# measurements do not reward. (With random weights, the banner above says so and the
# comparison is not checked.)

# %%
tex_cfg = gatys.preset("vgg16" if encoder.arch == "vgg16" else "paper", steps=course.pick(full=100, fast=6))
trained_texture = gatys.synthesize_texture(target, config=tex_cfg, encoder=encoder, progress=False)
assert trained_texture.loss < trained_texture.history["style"][0]
table[f"Gram of {net} features"] = (fine_share(trained_texture.image), spectrum_error(trained_texture.image),
                                    held_out_distance(trained_texture.image))
print(f"{'':<28} fine-grain share  log-spectrum error  held-out Gram distance")
for k in ("Gram of random filters", f"Gram of {net} features"):
    print(f"{k:<28} {table[k][0]:16.3f} {table[k][1]:19.2f} {table[k][2]:23.3g}")
viz.show_images([target, synth["random filters"][0], trained_texture.image],
                titles=["target", "Gram of random filters", f"Gram of {net} features"], size=2.6)
if trained and encoder.arch == "vgg16" and not course.is_fast():
    vgg_row = table[f"Gram of {net} features"]
    assert vgg_row[1] > gram_rf[1] and vgg_row[2] > gram_rf[2]  # measured: behind random filters on both

# %% [markdown]
# ## Explore: feature maps and Gram matrices layer by layer
#
# Pick an image and a layer. Features of every layer are computed once per image;
# the dropdowns only redraw. (With `encoder=None` the same explorer shows the
# weight-free features: pixels, patches and random filters.) A static figure follows
# for readers of the rendered notebook.

# %%
from stylelab.course.widgets.features import FeatureExplorer

explorer = FeatureExplorer({**textures, "astronaut": data.load("astronaut", size=(size, size))}, encoder=encoder)
explorer.widget()

# %%
explorer.layer = "relu2_1"
explorer.figure();

# %%
FeatureExplorer(textures, encoder=None).figure();

# %% [markdown]
# ## Exercise
#
# **01.mmd_linear** — the biased MMD² with the linear kernel $k(x,y)=x^\top y$
# between the columns of `x` `(C, M)` and `y` `(C, N)`. (Then convince yourself it
# equals the squared distance of the column means.)

# %%
def my_mmd_linear(x, y):
    raise NotImplementedError  # your code here


mmd_linear = use("01.mmd_linear", my_mmd_linear)

# %% [markdown]
# Between every pair of textures at `relu4_1` (a few hundred positions, so the M×N
# kernel matrices fit in memory), with your function; the assert checks the claim above.

# %%
layer = "relu4_1"
cols = {n: feats[n][layer][0].flatten(1).double() for n in names_}
lin = torch.tensor([[float(mmd_linear(cols[a], cols[b])) for b in names_] for a in names_])
mean_gap = torch.tensor([[float(((cols[a].mean(1) - cols[b].mean(1)) ** 2).sum()) for b in names_] for a in names_])
assert torch.allclose(lin, mean_gap, rtol=1e-6, atol=1e-9 * float(mean_gap.max()))
fig, ax = plt.subplots(figsize=(4.5, 3.8))
viz.heatmap(lin, f"{net}: linear MMD² at {layer} ({drawn_by(mmd_linear)})", ax=ax, symmetric=False, cmap="viridis")
ax.set_xticks(range(len(names_)), names_, rotation=45)
ax.set_yticks(range(len(names_)), names_);

# %% [markdown]
# ## What to remember
#
# * A texture is described by statistics that **sum over positions**; the question is
#   *which* measurements go into the bag: pixels < patches < filter banks < CNN features.
# * Gram matrix $G = FF^\top$ (channels × channels). Normalisations differ between
#   paper ($1/(4C^2M^2)$ in the loss), PyTorch tutorial ($G/(CM)$ then a mean) and
#   others ($G/M$) — the style weight must be read together with the normalisation.
# * Gram loss = $\mathrm{MMD}^2/(4C^2)$ with $k(x,y)=(x^\top y)^2$: style transfer
#   **matches feature distributions**. Other kernels match other things: linear → means,
#   Gaussian → everything, moments → per-channel mean and spread.
# * Random multi-scale filters already carry much of the texture information.
#
# ## Questionnaire
#
# 1. Why must a texture statistic forget *where* things are? What does shuffling the
#    pixels of a texture keep and destroy?
# 2. Write the Gram matrix of a `(C, H, W)` feature map as a matrix product. What are
#    its rows and columns, and why is it an uncentred covariance?
# 3. Three normalisations of the Gram matrix appear in papers and tutorials. Why does
#    the choice change the "right" style weight but not the method?
# 4. Show that Gatys' layer loss equals MMD² with the kernel $(x^\top y)^2$, divided by
#    $4C^2$. What does that say the loss compares?
# 5. What does MMD² match with a linear kernel, with $(x^\top y + c)^2$, with a
#    Gaussian kernel? Which of them is zero only for identical distributions?
# 6. The figures above: which statistics reproduced the texture's fine grain, and which
#    removed it? Both measurements are second-order statistics, like the random-filter
#    Gram: which method do they favour, and what measurement would not favour it?
# 7. Why do random, untrained filters already give textures?
#
# ## Further reading
#
# * Gatys, Ecker & Bethge (NeurIPS 2015), Fig. 1–2: textures from each VGG layer.
# * Li, Wang, Liu & Hou (IJCAI 2017): the MMD derivation done here, and their results
#   with other kernels.
# * Ustyuzhaninov et al. (ICLR 2017): how far random filters go, and what they miss.
# * Gretton et al. (JMLR 2012), section 2: MMD as a two-sample test.
#
# **Papers.** Julesz, "Visual pattern discrimination", IRE Trans. Inf. Theory 1962 ·
# Portilla & Simoncelli, IJCV 2000 · Gatys, Ecker & Bethge, "Texture Synthesis Using
# Convolutional Neural Networks", NeurIPS 2015 · Gatys, Ecker & Bethge, "Image Style
# Transfer Using Convolutional Neural Networks", CVPR 2016 · Li, Wang, Liu & Hou,
# "Demystifying Neural Style Transfer", IJCAI 2017 · Gretton et al., "A Kernel
# Two-Sample Test", JMLR 2012 · Ustyuzhaninov, Brendel, Gatys & Bethge, "What does it
# take to generate natural textures?", ICLR 2017.
#
# **Next:** [01b · What has a CNN learned?](01b_what_cnns_learn.ipynb) — saliency maps, class visualisation,
# feature inversion and a fooling image on a trained classifier; then [02 · Gatys](02_gatys.ipynb) — optimise
# an image to match content *and* style.
