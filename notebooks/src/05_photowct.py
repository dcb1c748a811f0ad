# %% [markdown]
# # 05 · PhotoWCT: stylising a photo so that it stays a photo
#
# **What you will learn**
#
# * why WCT with an ordinary decoder smears and shifts the structure of a photo;
# * max-unpooling: remembering *where* each maximum was, and putting values back there;
# * the PhotoWCT cascade (levels 4 → 1) and how segmentation labels restrict it;
# * the second step of FastPhotoStyle: closed-form smoothing with the matting affinity,
#   $r^* = (1-\beta)(I-\beta S)^{-1} y$, and its fast guided-filter approximation;
# * what each solver costs as the image grows — and why the reference ran out of memory.

# %%
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

import stylelab
from stylelab import course, data, viz
from stylelab import smoothing as S
from stylelab import transforms as T

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
# download them yourself and pass the path to `stylelab.PhotoWCT.from_official(path)`.
# Without them (and in CI) the model below runs with random weights and says so.

# %%
model = stylelab.PhotoWCT.from_official(random=True)
course.weights_banner(model, "PhotoWCT")
steps = model.stylize_steps(content, style)  # {level: image}; the last is the result
stylised = steps[1]
viz.show_images([content, style] + [steps[L].clamp(0, 1) for L in (4, 3, 2, 1)],
                titles=["content", "style", "after level 4", "level 3", "level 2", "level 1"], size=2.2);

# %% [markdown]
# With labels (the course's labelled pair: regions are matched by id):

# %%
c_name, s_name = data.pairs(labelled=True)[0]
c_lab = data.load(c_name, size=size)
s_lab = data.load(s_name, size=size)
cl, sl = data.load_labels(c_name, size=size), data.load_labels(s_name, size=size)
cl = T.resize_labels(cl, c_lab.shape[-2:])
sl = T.resize_labels(sl, s_lab.shape[-2:])
with_labels = model.stylize(c_lab, s_lab, content_labels=cl, style_labels=sl)
viz.show_images([c_lab, cl[0, 0].float() / max(1, cl.max()), s_lab, with_labels.clamp(0, 1)],
                titles=[c_name, "content labels", s_name, "PhotoWCT with labels"], size=2.5);
assert with_labels.shape == c_lab.shape

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

from stylelab.widgets.labels import LabelEditor

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
# \quad\Rightarrow\quad r^* = (1-\beta)(I-\beta S)^{-1}y,\; S = D^{-1/2}WD^{-1/2},\; \beta = \tfrac{1}{1+\lambda}.$$
#
# The reference uses $\beta = 0.9999$. To see what it does without pretrained weights,
# make a stylisation with obvious local errors: WCT colour transfer on pixels, done
# independently in 8×8 tiles (so every tile gets a slightly different colour map).

# %%
def tiled_colour_transfer(c, s, tile=8):
    out = torch.empty_like(c)
    for i in range(0, c.shape[-2], tile):
        for j in range(0, c.shape[-1], tile):
            out[..., i:i + tile, j:j + tile] = T.wct(c[..., i:i + tile, j:j + tile], s, preset="photowct")
    return out.clamp(0, 1)


y = tiled_colour_transfer(content, style)
c64, y64 = content.double(), y.double()
exact, info = S.smooth(y64, c64, mode="auto", return_info=True)
fast = S.smooth(y64, c64, mode="gif", gif_radius=max(2, size // 16), gif_eps=1e-3)
viz.show_images([content, y, exact, fast],
                titles=["content", "tiled colour transfer y", f"smoothed ({info.mode})", "guided filter (fast)"], size=3);

# %% [markdown]
# The tile seams disappear in the exact solution, which follows the content's edges;
# the guided filter is a local, much cheaper approximation. Check the solution:
# it satisfies $(I-\beta S)\,r = (1-\beta)\,y$ to the solver's tolerance.

# %%
from stylelab import matting

small = 24
cs, ys = F.interpolate(c64, size=(small, small), mode="area"), F.interpolate(y64, size=(small, small), mode="area")
r = S.smooth(ys, cs, mode="direct", clamp=False)
Wm = torch.from_numpy(matting.affinity(cs).toarray())
d = Wm.sum(1)
Sm = Wm / torch.sqrt(d[:, None] * d[None, :])
lhs = (torch.eye(small * small, dtype=torch.float64) - 0.9999 * Sm) @ r[0].reshape(3, -1).T
assert torch.allclose(lhs, (1 - 0.9999) * ys[0].reshape(3, -1).T, atol=1e-10)
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
# The reference factorises the sparse $N\times N$ system exactly (SuperLU): time and
# memory grow faster than $N$, and it ran out of memory at 1024 px on the authors' GPU.
# stylelab on CPU uses CG preconditioned with an *incomplete* factorisation (a handful
# of iterations); on GPU a matrix-free CG whose every step is a few box filters. The
# guided filter is linear in $N$. (The benchmark script `benchmarks/bench_smoothing.py`
# measures the large sizes.)

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

# %%
from stylelab.exercises import check


def my_unpool(pooled, indices, size):
    raise NotImplementedError  # your code here


check("05.max_unpool", my_unpool)

# %% [markdown]
# **05.smooth** — given a dense affinity `W` (N×N NumPy array), a vector `y` (N,) and
# β, return $r = (1-\beta)(I-\beta D^{-1/2}WD^{-1/2})^{-1}y$.

# %%
def my_smooth(W, y, beta):
    raise NotImplementedError  # your code here


check("05.smooth", my_smooth)

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
