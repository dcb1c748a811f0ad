# %% [markdown]
# # 00 · Start here
#
# **Before this notebook:** nothing but Python and a little PyTorch (tensors, `nn.Module`, autograd); no earlier notebook.
#
# **Time:** about 6 s in full mode on a 2-core laptop (measured with the trained networks installed, README, "Full mode: what a student runs"); under 90 s in fast mode (`STYLELAB_FAST=1`).
#
# **What you will learn:** how this course is organised, how to run it on a laptop
# CPU or on a GPU, whether pretrained weights are available on your machine, and
# how exercises are checked. Nothing here needs a GPU or the internet.
#
# The course follows one thread: *style is a set of statistics of deep features*.
# We start with Gram matrices (second-order statistics) and show that matching
# them is a kernel two-sample test (MMD). Optimising an image to match them is
# Gatys' method; matching only means and variances in one feed-forward pass is
# AdaIN; matching the full covariance is WCT. Photographs need more: PhotoWCT
# and Deep Photo Style Transfer add an *affinity* (matting Laplacian) that keeps
# edges where the photo has them, and WCT² replaces pooling with wavelets so
# nothing is lost on the way.

# %% [markdown]
# ## Your installation
#
# The table below is computed on your machine: library versions, the device
# stylelab will use (CUDA → Apple MPS → CPU; set `STYLELAB_DEVICE=cpu` to force
# one), and which pretrained checkpoints are on disk.

# %%
import stylelab
import stylelab.features.colour
from stylelab import course

rows = course.status()
width = max(len(k) for k, _ in rows)
print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
assert not dict(rows)["torchvision"].startswith("BROKEN"), "torchvision does not import: see README, Troubleshooting"

# %% [markdown]
# ### Pretrained weights
#
# Every network in the course is a VGG-19 encoder, sometimes with a decoder. The
# methods are only meaningful with **pretrained** weights; with random weights
# the code still runs (that is how the course is tested automatically) and
# every notebook says so above its results.
#
# * On a machine with internet, `stylelab weights download` (in a terminal)
#   fetches every checkpoint with a public URL into torch's cache.
# * Two checkpoints are under a non-commercial licence (PhotoWCT) or live in
#   another project's repository (WCT²): `stylelab weights list` says where to
#   get each one and where to put it.
# * Offline, copy the files into a folder and set `STYLELAB_WEIGHTS_DIR` to it.

# %%
from stylelab import weights

for row in weights.rows():
    print(f"{row['name']:<20} {row['status']:<24} {row['license'][:60]}")

# %% [markdown]
# ## The course images
#
# `stylelab.media.data` holds a small set of photographs, textures and paintings with
# their sources and licences (see `data/CREDITS.md`); two content/style pairs
# come with segmentation label maps for masked transfer.

# %%
from stylelab.media import data
from stylelab import viz

size = course.pick(full=256, fast=64)
shown = data.names("content")[:3] + data.names("texture")[:1] + data.names("style_art")[:2]
viz.show_images([data.load(n, size=size) for n in shown], titles=shown, ncols=3, size=2.5);

# %%
content_name, style_name = data.pairs(labelled=True)[0]
viz.show_images(
    [data.load(content_name, size=size), data.load_labels(content_name, size=size)[0, 0],
     data.load(style_name, size=size), data.load_labels(style_name, size=size)[0, 0]],
    titles=[content_name, "its labels", style_name, "its labels"], ncols=4, size=2.5, cmap="tab10",
);

# %% [markdown]
# ## Course map
#
# | notebook | idea | runs without pretrained weights |
# |---|---|---|
# | 01 Gram & MMD | style as second-order statistics; Gram loss = MMD with a quadratic kernel | pixel, patch and random-filter statistics |
# | 01b What a CNN learned | saliency, class visualisation, feature inversion, a fooling image on SqueezeNet 1.1 | runs on random weights, labelled (its lessons need the trained network, which `make lab` installs) |
# | 02 Gatys | optimise an image to match content and style features | none: it runs on the course's trained VGG-16 (`make lab` installs it); without it, on random VGG weights, labelled |
# | 02b Learning to stylise | train a network instead (Johnson, instance norm, CIN), CycleGAN between collections | perceptual loss on random filters |
# | 03 AdaIN | instance normalisation; match channel means and variances | AdaIN on pixels = mean/std colour transfer |
# | 04 WCT | whitening and colouring: match the full covariance | WCT on pixels = covariance colour transfer |
# | 05 PhotoWCT | max-unpooling and closed-form smoothing for photos | smoothing a pixel-space colour transfer |
# | 06 Deep Photo | the matting Laplacian as a photorealism loss | the Laplacian of any photo |
# | 07 WCT² | Haar wavelet pooling, progressive stylization | wavelet-space transfer |
# | 08 Compare | every method side by side, with metrics and timings | pixel-space variants |
#
# ## How exercises work
#
# The exercises sit where the method is built, in the manner of Stanford's CS231n:
# you write the piece that matters in the cell marked *your code*, a checker
# compares your function's output on fixed, seeded inputs with **stored reference
# numbers** (`stylelab/course/exercises/reference/`), and the notebook then **uses your
# function** for its next figure. Until you replace the `NotImplementedError`, the
# check reminds you and the figure is drawn with a reference version instead — the
# cell says so. A wrong answer stops with an error and a hint. While your function is
# checked, the library function that would answer the exercise in one call is
# switched off: calling it fails with "write it yourself".
#
# Try it. First the mean colour of a batch of images, `(B, 3, H, W)` → `(B, 3)`: the
# swatches below are painted with your function.

# %%
import torch

from stylelab.course.exercises import drawn_by, use


def my_mean_colour(image):
    """Return the mean colour of an image of shape (B, 3, H, W) as (B, 3)."""
    raise NotImplementedError  # your code here


mean_colour = use("00.mean_colour", my_mean_colour)

# %%
swatches = [mean_colour(data.load(n, size=size))[0][:, None, None].expand(3, 8, 8) for n in shown]
viz.show_images(swatches, titles=[f"mean colour of {n}" for n in shown[:-1]] + [f"{shown[-1]} ({drawn_by(mean_colour)})"], ncols=6, size=1.5);

# %% [markdown]
# Now the luminance $Y = 0.299R + 0.587G + 0.114B$ (ITU-R BT.601), the brightness
# channel that notebook 02 keeps when it preserves a photo's colours. The figure
# below is drawn with whichever function `use` returned.

# %%
def my_luminance(image):
    """Return the luminance of (B, 3, H, W) RGB images as (B, 1, H, W)."""
    raise NotImplementedError  # your code here


luminance = use("00.luminance", my_luminance)

# %%
greys = [luminance(data.load(n, size=size))[0, 0] for n in shown]
assert all(g.dim() == 2 and 0 <= float(g.min()) and float(g.max()) <= 1 for g in greys)
viz.show_images(greys, titles=[f"Y of {n} ({drawn_by(luminance)})" for n in shown], ncols=3, size=2.5, cmap="gray");

# %% [markdown]
# Last, the RMS contrast of an image: the standard deviation of its luminance over
# the pixels (population, divide by H·W), `(B, 3, H, W)` → `(B,)`. Use your
# `luminance` (or the one `use` gave you). The bar chart ranks the course images by it.

# %%
def my_contrast(image):
    """Return the RMS contrast (std of the luminance over H·W) of (B, 3, H, W) images as (B,)."""
    raise NotImplementedError  # your code here


contrast = use("00.contrast", my_contrast)

# %%
import matplotlib.pyplot as plt

names = data.names("content") + data.names("style_art")
values = torch.cat([contrast(data.load(n, size=size)) for n in names])
order = values.argsort(descending=True).tolist()
fig, ax = plt.subplots(figsize=(7, 2.5))
ax.bar([names[i] for i in order], [float(values[i]) for i in order])
ax.set_ylabel("RMS contrast of Y")
ax.tick_params(axis="x", rotation=60)
ax.set_title(f"Course images by contrast ({drawn_by(contrast)})");

# %% [markdown]
# ## Running the course
#
# * `make lab` — creates `.venv` from pinned versions (first time only) and opens
#   JupyterLab on this folder.
# * `make test` — runs every unit test, then every notebook in the **fast mode**
#   (`STYLELAB_FAST=1`: small images, few iterations, random weights allowed).
#   You can run a notebook the same way yourself to try it quickly.
# * At their default settings (the **full mode**, what you run) the notebooks are
#   sized for a 2-core laptop CPU: at most 10 minutes each and 30 minutes for the
#   whole course (the README lists measured times; `make notebooks-time` measures
#   them on your machine). On a GPU raise the sizes where a notebook suggests it.
#
# ## What to remember
#
# * Images are `(B, 3, H, W)` tensors in [0, 1]; features are dictionaries keyed
#   by the papers' layer names (`relu4_1`).
# * Every result computed with random weights is labelled as such.
# * Exercises are checked against stored numbers, and the notebook then uses your
#   function: a finished exercise changes the figures that follow it.
#
# ## Questionnaire
#
# 1. In which order does stylelab choose a device, and how do you force the CPU?
# 2. Why can every notebook run without pretrained weights, and what does that mean
#    for how you read a figure whose banner says "random weights"?
# 3. What shape and value range does a course image have, and what are the keys of a
#    feature dictionary? Why `relu4_1` rather than "layer 20"?
# 4. What does the fast mode (`STYLELAB_FAST=1`) change, and why should you not judge
#    a method from a fast-mode figure?
# 5. How does an exercise decide that your function is right? Why compare with stored
#    numbers on fixed, seeded inputs rather than with a library call you could import?
# 6. What does a cell that *uses* your function draw while your function still
#    raises `NotImplementedError`? And when your answer is wrong?
# 7. Why are the luminance weights 0.299, 0.587, 0.114 and not ⅓ each?
#
# ## Further reading
#
# * Stanford CS231n, assignment 3 "Style Transfer": how numeric checks against stored
#   values drive an exercise (and the loss functions you will write in notebook 02).
# * C. Poynton, "Frequently Asked Questions about Color" (luma, RGB and Y′): where the
#   BT.601 weights come from.
# * The PyTorch tutorial "Neural Transfer Using PyTorch" — read it after notebook 02 and
#   list what it does differently from the paper.
#
# **Papers:** Gatys, Ecker & Bethge, *Image Style Transfer Using CNNs*, CVPR 2016 ·
# Li et al., *Demystifying Neural Style Transfer*, IJCAI 2017 · Huang & Belongie,
# *AdaIN*, ICCV 2017 · Li et al., *Universal Style Transfer via Feature
# Transforms*, NeurIPS 2017 · Luan et al., *Deep Photo Style Transfer*, CVPR 2017 ·
# Li et al., *A Closed-form Solution to Photorealistic Image Stylization*, ECCV
# 2018 · Yoo et al., *Photorealistic Style Transfer via Wavelet Transforms*, ICCV 2019.
#
# **Next:** [01 · Style as statistics](01_gram_mmd.ipynb) — Gram matrices and MMD: what a "style" is, measured.
