# %% [markdown]
# # 05 · PhotoWCT: stylising a photo so that it stays a photo
#
# **Before this notebook:** [04 · WCT](04_wct.ipynb) (exercise 04.wct: the transform PhotoWCT runs at every level) and [03](03_adain.ipynb) (encoder–decoder stylisation).
#
# **Time:** about 33 s in full mode on a 2-core laptop (measured with the trained networks installed, README, "Full mode: what a student runs"); under 90 s in fast mode (`STYLELAB_FAST=1`).
#
# **What you will learn**
#
# * why WCT with an ordinary decoder smears and shifts the structure of a photo;
# * max-unpooling: remembering *where* each maximum was, and putting values back there;
# * the PhotoWCT cascade (levels 4 → 1) and how segmentation labels restrict it;
# * the second step of FastPhotoStyle: closed-form smoothing with the matting affinity,
#   $r^* = (1-\beta)(I-\beta S)^{-1} y$, and its fast guided-filter approximation;
# * what each solver costs as the image grows — and why the reference's exact solve runs
#   out of (host) memory on large photos.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

import stylelab
from stylelab import course, viz
from stylelab.media import data
from stylelab import smoothing as S
from stylelab.features import transforms as T
from stylelab.labels import maps as label_maps

torch.manual_seed(0)
size = course.pick(full=256, fast=48)
content = data.load("astronaut", size=size)
style_name = data.names("style_photo")[0]
style = data.load(style_name, size=size)
viz.show_images([content, style], titles=["content: astronaut", f"style photo: {style_name}"], size=3);

# %% [markdown]
# ## The idea in pictures: where did the edges go?
#
# A VGG encoder halves the resolution at every pooling layer. A decoder that undoes
# this by **nearest upsampling** has to guess where inside each 2×2 block the detail
# was, and it guesses "everywhere": edges become blocky or blurred, and the network
# learns to paint plausible texture instead — fine for paintings, wrong for photos.
# **Max-unpooling** keeps the *switches* (the index of the maximum in each block) and
# puts the value back exactly there. No network needed to see the difference: pool an
# image three times, then bring it back both ways.

# %%
x = content
switches = []
for _ in range(3):
    switches.append(x.shape)
    x, idx = F.max_pool2d(x, 2, 2, return_indices=True)
    switches[-1] = (idx, switches[-1])
pooled = x
nearest, unpooled = pooled, pooled
for idx, shape in reversed(switches):
    nearest = F.interpolate(nearest, size=shape[-2:], mode="nearest")
    unpooled = F.max_unpool2d(unpooled, idx, 2, 2, output_size=shape[-2:])
viz.show_images([content, nearest, unpooled], titles=["content", "3× pool → nearest up", "3× pool → max-unpool"], size=3);

# %% [markdown]
# The unpooled image is sparse (one pixel in 64 survives) but every surviving value
# sits exactly where it came from — the decoder's convolutions then fill in around
# *correct* positions. That is all PhotoWCT changes in the network: the decoders
# $d_1..d_4$ unpool with the switches recorded by the encoder pass of the image being
# decoded.

# %%
assert torch.equal(F.max_pool2d(unpooled, 8, 8), F.max_pool2d(content, 8, 8)), "unpooling must restore each block's max"
assert (unpooled != 0).float().mean() <= 1 / 64 + 1e-6

# %% [markdown]
# ## The PhotoWCT cascade
#
# Style features of all four levels come from one pass of the deepest encoder $e_4$.
# Then, coarse to fine, $L = 4, 3, 2, 1$: encode the current image with $e_L$ (keeping
# its switches), whiten and colour its features with the style's (WCT, with $+I$ added
# to the content covariance as in the reference), decode with $d_L$. Segmentation
# labels make WCT run per region: sky to sky, building to building.
#
# The official weights `photo_wct.pth` are CC BY-NC-SA: stylelab never ships them —
# download them yourself and pass the path to `stylelab.methods.photowct.PhotoWCT.from_official(path)`.
# Without them, the notebook runs the course pair **`vgg16-course`** (`stylelab.nets.course_pair`):
# the offline ImageNet VGG-16 (frozen) and max-unpooling decoders for levels 2 and 1
# trained in this repository — real features, decoders far weaker than the paper's (the
# banner gives their training data and time). Without the offline VGG-16 it uses the
# course's **stand-in** (`stylelab.course.standin`: a fixed-seed *random* encoder, decoders for
# levels 2 and 1). Either runs the cascade on those two levels (`model.trained_levels`).

# %%
model = course.method_model("photowct")  # the paper's file, else the course pair vgg16-course, else the stand-in
levels = model.trained_levels
course.weights_banner(model, "PhotoWCT")
tag = model.tag
steps = model.stylize_steps(content, style, levels=levels)  # {level: image}; the last is the result
stylised = steps[1]
viz.show_images([content, style] + [steps[L].clamp(0, 1) for L in levels],
                titles=["content", "style"] + [f"after level {L}{tag}" for L in levels], size=2.2)
viz.assert_not_flat([steps[L] for L in levels], what="network panel");

# %% [markdown]
# With labels (the course's labelled pair: regions are matched by id):

# %%
c_name, s_name = data.pairs(labelled=True)[0]
c_lab = data.load(c_name, size=size)
s_lab = data.load(s_name, size=size)
cl, sl = data.load_labels(c_name, size=size), data.load_labels(s_name, size=size)
cl = label_maps.resize_labels(cl, c_lab.shape[-2:])
sl = label_maps.resize_labels(sl, s_lab.shape[-2:])
with_labels = model.stylize(c_lab, s_lab, content_labels=cl, style_labels=sl, levels=levels)
viz.show_images([c_lab, cl[0, 0].float() / max(1, cl.max()), s_lab, with_labels.clamp(0, 1)],
                titles=[c_name, "content labels", s_name, f"PhotoWCT with labels{tag}"], size=2.5)
assert with_labels.shape == c_lab.shape
viz.assert_not_flat(with_labels, what="network panel");

# %% [markdown]
# ### Making your own label maps
#
# `LabelEditor` groups each photo's pixels into colour clusters (k-means on CIE Lab
# colour plus a little position, so clusters stay compact), lets you give a cluster a
# label — two clusters with the same label are merged — or paint with a brush, shows
# both photos with their maps side by side and reports the labels PhotoWCT will use
# (more than 10 pixels in both maps, counts within 100× of each other). It saves PNGs
# that every method and `stylelab transfer --content-labels ... --style-labels ...`
# read. Below, the cluster under the top-left pixel (the sky) gets label 1 on both photos.

# %%
from IPython.display import Image as PNG

from stylelab.course.widgets.labels import LabelEditor

editor = LabelEditor(c_lab, s_lab, clusters=4)
for side in ("content", "style"):
    editor.assign(int(editor.cluster_map(side)[0, 0]), label=1, side=side)
report = editor.report()
print(report)
display(PNG(data=editor.render()["figure_png"]))
assert 1 in report.used  # the sky clusters are matched

# %%
editor.widget()  # pick clusters / paint, then "save PNGs" (an existing file is never replaced)

# %% [markdown]
# ## Step 2: closed-form smoothing
#
# Even a good stylisation leaves local inconsistencies: two neighbouring pixels of the
# same wall get different colours. FastPhotoStyle fixes this by asking for an image
# $r$ that stays close to the stylised $y$ while pixels that the **content** says
# belong together (high matting affinity $W_{ij}$) get similar values:
#
# $$\min_r \sum_{ij} W_{ij}\Big\|\frac{r_i}{\sqrt{d_i}} - \frac{r_j}{\sqrt{d_j}}\Big\|^2 + \lambda\sum_i\|r_i - y_i\|^2
# \quad\Rightarrow\quad r^* = (1-\beta)(I-\beta S)^{-1}y,\; S = D^{-1/2}WD^{-1/2},\; \beta = \tfrac{2}{2+\lambda}.$$
#
# The sum runs over *ordered* pairs, so each pair counts twice: the smoothness term is
# $2\,r^\top(I-S)\,r$, and setting the gradient $4(I-S)r + 2\lambda(r-y)$ to zero gives
# $\beta = 2/(2+\lambda)$. Zhou et al. (NeurIPS 2003) write the same term with a factor ½
# and get $\beta = 1/(1+\lambda)$; the reference code sets β directly.
#
# The reference uses $\beta = 0.9999$. To see what it does without pretrained weights,
# make a stylisation with obvious local errors: WCT colour transfer on pixels, done
# independently in 8×8 tiles (so every tile gets a slightly different colour map).

# %%
def tiled_colour_transfer(c, s, tile=8, eps=1e-4):
    """Pixel WCT per tile. ε on the pixel scale: colour variances of a photo in [0, 1] are ~1e-2,
    so the +I of the `photowct` preset (made for VGG features) would wash the colours out."""
    out = torch.empty_like(c)
    for i in range(0, c.shape[-2], tile):
        for j in range(0, c.shape[-1], tile):
            out[..., i:i + tile, j:j + tile] = T.wct(c[..., i:i + tile, j:j + tile], s, preset="exact", eps_content=eps)
    return out.clamp(0, 1)


y = tiled_colour_transfer(content, style)
spread = (y.flatten(2).std(-1) / style.flatten(2).std(-1)).min().item()
grey = (tiled_colour_transfer(content, style, eps=1.0).flatten(2).std(-1) / style.flatten(2).std(-1)).max().item()
print(f"colour spread of y / the style's: {spread:.2f} (ε = 1e-4); with the +I of the photowct preset: {grey:.2f}")
assert spread > 0.6 and grey < 0.5 * spread, "y must carry the style's colour spread; +I on pixels washes it out"
c64, y64 = content.double(), y.double()
exact, info = S.smooth(y64, c64, mode="auto", return_info=True)
fast = S.smooth(y64, c64, mode="gif", gif_radius=max(2, size // 16), gif_eps=1e-3)
viz.show_images([content, y, exact, fast],
                titles=["content", "tiled colour transfer y", f"smoothed ({info.mode})", "guided filter (fast)"], size=3);

# %% [markdown]
# The tile seams disappear in the exact solution, which follows the content's edges;
# the guided filter is a local, much cheaper approximation.
#
# **Exercise 05.smooth** — write the textbook solve: given a dense affinity `W` (N×N
# NumPy array), a vector `y` (N,) and β, return $r = (1-\beta)(I-\beta S)^{-1}y$ with
# $S = D^{-1/2}WD^{-1/2}$, $D = \mathrm{diag}(W\mathbf 1)$. The next cell checks the
# library's image-level solvers against *your* function (against a reference version
# until yours passes), and shows the smoothed channels your function computed.

# %%
from stylelab.smoothing import matting
from stylelab.course.exercises import drawn_by, use


def my_smooth(W, y, beta):
    raise NotImplementedError  # your code here


smooth_dense = use("05.smooth", my_smooth)

# %%
small = 24
cs, ys = F.interpolate(c64, size=(small, small), mode="area"), F.interpolate(y64, size=(small, small), mode="area")
r = S.smooth(ys, cs, mode="direct", clamp=False)
Wm = matting.affinity(cs).toarray()
yours = torch.zeros_like(ys)
for ch in range(3):  # one colour channel at a time: the same system, three right-hand sides
    expected = smooth_dense(Wm, ys[0, ch].numpy().ravel(), 0.9999)
    assert np.abs(r[0, ch].numpy().ravel() - expected).max() < 1e-8, "the image-level solver must match the textbook solve"
    yours[0, ch] = torch.from_numpy(expected).view(small, small)
viz.show_images([cs, ys.clamp(0, 1), yours.clamp(0, 1)], size=2.2,
                titles=[f"content, {small}²", "stylised y", f"smoothed: dense solve, {drawn_by(smooth_dense)}"]);
r_cg = S.smooth(ys, cs, mode="cg", clamp=False, tol=1e-10, max_iter=5000)
assert (r_cg - r).abs().max() < 1e-6, "CG and the direct solve must agree"

# %% [markdown]
# **The reference's border rule.** `photo_smooth.py` crops 2 pixels on every side of
# the stylised image, pads back by edge replication, and crops the result — so its
# output is 4 pixels smaller in each dimension. `mode="official"` reproduces that.

# %%
official = S.smooth(y64, c64, mode="official")
print("input", tuple(y.shape[-2:]), "→ official output", tuple(official.shape[-2:]))
assert official.shape[-2:] == (y.shape[-2] - 4, y.shape[-1] - 4)

# %% [markdown]
# ## What does it cost? Time against resolution
#
# The reference factorises the sparse $N\times N$ system exactly with SciPy (SuperLU or
# UMFPACK). That runs on the **CPU, in host memory**, even when the network ran on a
# GPU — and the factor fills in: its size grows faster than $N$. That is why the
# reference's smoothing failed at 1024 px (out of the machine's RAM, not the GPU's).
# stylelab on CPU uses CG preconditioned with an *incomplete* factorisation (a handful
# of iterations); on GPU a matrix-free CG whose every step is a few box filters. The
# guided filter is linear in $N$. (The benchmark script `benchmarks/bench_smoothing.py`
# measures the large sizes.)
#
# First the memory: count the non-zeros of the exact LU factor that SciPy's SuperLU
# builds for growing images, fit a power law, and extrapolate to a 1024×1024 photo.

# %%
import scipy.sparse as sp
from scipy.sparse.linalg import splu

fill_sizes = course.pick(full=[32, 48, 64, 96], fast=[16, 24, 32])
fill = []
for s_ in fill_sizes:
    cc = F.interpolate(c64, size=(s_, s_), mode="area")
    dvec = matting.window_counts(s_, s_, 1).ravel()
    M = ((1 - 0.9999) * sp.diags(dvec) + 0.9999 * matting.laplacian(cc)).tocsc()  # the matrix solve_direct factorises
    lu = splu(M)
    fill.append(lu.L.nnz + lu.U.nnz)
slope, icpt = np.polyfit(np.log([s_ * s_ for s_ in fill_sizes]), np.log(fill), 1)
gb_1024 = np.exp(icpt) * (1024 * 1024) ** slope * 12 / 1e9  # 8-byte value + 4-byte index per non-zero
print(f"LU non-zeros grow like N^{slope:.2f}; extrapolated to 1024×1024: ≈ {gb_1024:.0f} GB of host memory "
      f"for the factor alone (the matrix itself: {25 * 1024 * 1024 * 12 / 1e9:.1f} GB)")
assert slope > 1.1, "the exact factor must grow faster than the number of pixels"


# %%
sizes = course.pick(full=[64, 128, 192, 256], fast=[24, 32, 40])
times = {"direct (reference)": [], "stylelab ILU-CG": [], "guided filter": []}
for s_ in sizes:
    cc = F.interpolate(c64, size=(s_, s_), mode="area")
    yy = F.interpolate(y64, size=(s_, s_), mode="area")
    for name, mode in [("direct (reference)", "direct"), ("stylelab ILU-CG", "ilu"), ("guided filter", "gif")]:
        t0 = time.perf_counter()
        S.smooth(yy, cc, mode=mode)
        times[name].append(time.perf_counter() - t0)
fig, ax = plt.subplots(figsize=(5.5, 3.5))
for name, ts in times.items():
    ax.loglog([s_ * s_ for s_ in sizes], ts, "o-", label=name)
ax.set_xlabel("pixels N")
ax.set_ylabel("seconds")
ax.set_title("smoothing time vs resolution (this machine)")
ax.legend();

# %% [markdown]
# ## Exercises
#
# **05.max_unpool** — given pooled values `(B, C, h, w)`, the flat indices from
# `max_pool2d(..., return_indices=True)` and the original `(H, W)`, rebuild the
# unpooled map (zeros everywhere except at the switches).

# (05.smooth is above, where the solvers are checked.)

# %%
def my_unpool(pooled, indices, size):
    raise NotImplementedError  # your code here


max_unpool = use("05.max_unpool", my_unpool)

# %% [markdown]
# **05.upsample_nearest** — the other way up: nearest-neighbour upsampling by 2, each value
# copied into its 2×2 block, `(B, C, h, w)` → `(B, C, 2h, 2w)`.

# %%
def my_upsample_nearest(x):
    raise NotImplementedError  # your code here


upsample_nearest = use("05.upsample_nearest", my_upsample_nearest)

# %% [markdown]
# Both of your functions on the content's pixels pooled 2×2 (a crop, enlarged): the
# unpooled map puts each maximum back where it was and leaves the rest 0; nearest
# upsampling spreads it over its block, right at the switch and approximate elsewhere.

# %%
crop = c64[..., : 2 * (min(c64.shape[-2:]) // 4), : 2 * (min(c64.shape[-2:]) // 4)]
pooled, switches = F.max_pool2d(crop, 2, 2, return_indices=True)
unpooled, nearest = max_unpool(pooled, switches, tuple(crop.shape[-2:])), upsample_nearest(pooled)
at_switch = unpooled != 0
assert float((unpooled - crop)[at_switch].abs().max()) == 0  # exact where the maxima were
print(f"switches: {float(at_switch.double().mean()):.0%} of the pixels, where the unpooled map is exact; "
      f"mean |nearest − content| over the other pixels: {float((nearest - crop)[~at_switch].abs().mean()):.3f}")
viz.show_images([crop, unpooled.clamp(0, 1), nearest.clamp(0, 1)], size=2.6,
                titles=["content (crop)", f"max-unpooled ({drawn_by(max_unpool)})", f"nearest ({drawn_by(upsample_nearest)})"]);

# %% [markdown]
# ## What to remember
#
# * Photorealism needs the output's edges where the content's are: max-unpooling keeps
#   the positions; nearest upsampling invents them.
# * PhotoWCT runs WCT coarse to fine (levels 4 → 1), with all style features from one
#   encoder pass; labels restrict the transfer region by region.
# * Smoothing is a linear system: $(I-\beta S)r = (1-\beta)y$ with the matting affinity
#   of the *content*. With β = 0.9999 it is nearly singular — plain CG crawls; a good
#   preconditioner (here an incomplete factorisation) or a direct solve is needed.
# * The reference crops 4 px off the output; its fast mode is a guided filter.
#
# **Papers.** Y. Li, M.-Y. Liu, X. Li, M.-H. Yang & J. Kautz, *A Closed-form Solution to
# Photorealistic Image Stylization*, ECCV 2018. Y. Li et al., *Universal Style Transfer via
# Feature Transforms*, NeurIPS 2017. A. Levin, D. Lischinski & Y. Weiss, *A Closed-Form
# Solution to Natural Image Matting*, TPAMI 2008. K. He, J. Sun & X. Tang, *Guided Image
# Filtering*, ECCV 2010.

# %% [markdown]
# ## Questionnaire
#
# 1. Max-unpooling and nearest upsampling put back the same number of values. Why does
#    only one of them keep edges where they were?
# 2. PhotoWCT takes all style features from one pass of the deepest encoder, but encodes the
#    content anew at every level. Why the difference?
# 3. The smoothing step uses the *content's* affinity, not the stylised image's. What would
#    go wrong the other way round?
# 4. β = 0.9999 makes $(I - \beta S)$ nearly singular. Why does that make plain conjugate
#    gradients slow, and what does a preconditioner change?
# 5. The exact solver runs out of memory on large photos even though the matrix has only
#    25 non-zeros per row. Where does the memory go, and which memory is it (GPU or host)?
# 6. Why does adding the identity to a *pixel* covariance wash colours out? Would the
#    same +I matter on the VGG features of a trained network? (Compare 1 with the
#    eigenvalues of a `relu4_1` covariance — notebook 04 draws them — before you answer.)
# 7. The guided filter is a local approximation of the smoothing. What can a global solve do
#    that a filter with a 3×3 to 15×15 window cannot?
#
# **Further reading.** Read the photorealistic-smoothing section of Li et al. (ECCV 2018) and compare their
# smoothing objective with Zhou et al., *Learning with Local and Global Consistency*
# (NeurIPS 2003), where the same $(I-\beta S)^{-1}$ appears. Switches for unpooling come
# from Zeiler, Taylor & Fergus, *Adaptive Deconvolutional Networks for Mid and High Level
# Feature Learning* (ICCV 2011); Zeiler & Fergus, *Visualizing and Understanding
# Convolutional Networks* (ECCV 2014), made them famous for visualisation. For the cost of sparse direct solvers, look up "fill-in" and
# nested dissection (George, SIAM J. Numer. Anal. 1973): why does a 2-D grid's factor
# grow like $N\log N$ at best?
#
# **Next:** [06 · Deep Photo Style Transfer](06_deep_photo_matting.ipynb) — the matting Laplacian as a loss inside Gatys' optimisation.
