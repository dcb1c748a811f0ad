# %% [markdown]
# # 00 · Start here
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
# `stylelab.data` holds a small set of photographs, textures and paintings with
# their sources and licences (see `data/CREDITS.md`); two content/style pairs
# come with segmentation label maps for masked transfer.

# %%
from stylelab import data, viz

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
# | 02 Gatys | optimise an image to match content and style features | texture synthesis with random filters |
# | 03 AdaIN | instance normalisation; match channel means and variances | AdaIN on pixels = mean/std colour transfer |
# | 04 WCT | whitening and colouring: match the full covariance | WCT on pixels = covariance colour transfer |
# | 05 PhotoWCT | max-unpooling and closed-form smoothing for photos | smoothing a pixel-space colour transfer |
# | 06 Deep Photo | the matting Laplacian as a photorealism loss | the Laplacian of any photo |
# | 07 WCT² | Haar wavelet pooling, progressive stylization | wavelet-space transfer |
# | 08 Compare | every method side by side, with metrics and timings | pixel-space variants |
#
# ## How exercises work
#
# Each notebook ends with a few exercises. You write a function in the cell
# marked *your code*, and `stylelab.exercises.check` tests it against the
# library on random inputs. Until you replace the `NotImplementedError`, the
# check just reminds you; a wrong answer raises an error with a hint.
# Instructors: `stylelab.exercises.solution("01.gram")` prints a reference
# solution.

# %%
from stylelab.exercises import check


def my_first_answer(image):
    """Return the mean colour of an image of shape (B, 3, H, W) as (B, 3)."""
    raise NotImplementedError  # your code here, e.g. image.mean(dim=(2, 3))


check("00.mean_colour", my_first_answer)


# %%
def my_luminance(image):
    """Return the luminance Y = 0.299 R + 0.587 G + 0.114 B of (B, 3, H, W) images as (B, 1, H, W)."""
    raise NotImplementedError  # your code here


check("00.luminance", my_luminance)

# %% [markdown]
# ## Running the course
#
# * `make lab` — creates `.venv` from pinned versions (first time only) and opens
#   JupyterLab on this folder.
# * `make test` — runs every unit test, then every notebook in the **fast mode**
#   (`STYLELAB_FAST=1`: small images, few iterations, random weights allowed).
#   You can run a notebook the same way yourself to try it quickly.
# * On a CPU laptop the notebooks default to sizes that finish in minutes; on a
#   GPU raise the sizes where a notebook suggests it.
#
# ## What to remember
#
# * Images are `(B, 3, H, W)` tensors in [0, 1]; features are dictionaries keyed
#   by the papers' layer names (`relu4_1`).
# * Every result computed with random weights is labelled as such.
#
# **Papers:** Gatys, Ecker & Bethge, *Image Style Transfer Using CNNs*, CVPR 2016 ·
# Li et al., *Demystifying Neural Style Transfer*, IJCAI 2017 · Huang & Belongie,
# *AdaIN*, ICCV 2017 · Li et al., *Universal Style Transfer via Feature
# Transforms*, NeurIPS 2017 · Luan et al., *Deep Photo Style Transfer*, CVPR 2017 ·
# Li et al., *A Closed-form Solution to Photorealistic Image Stylization*, ECCV
# 2018 · Yoo et al., *Photorealistic Style Transfer via Wavelet Transforms*, ICCV 2019.
