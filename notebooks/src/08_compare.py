# %% [markdown]
# # 08 · Comparing methods: structure kept, style taken, time spent
#
# **Before this notebook:** notebooks [02](02_gatys.ipynb) to [07](07_wct2.ipynb): it runs every method of the course; exercises 01.gram (the Gram style distance) and 06.window (the local windows SSIM also uses) are the ideas behind its two measurements.
#
# **Time:** about 6.3 min (379 s) in full mode on a 2-core laptop (measured with the trained networks installed, README, "Full mode: what a student runs"); under 90 s in fast mode (`STYLELAB_FAST=1`).
#
# **What you will learn**
#
# * how to put every method of the course side by side on the same content/style pairs;
# * the two numbers the WCT² paper uses to compare photorealistic methods —
#   **SSIM** between the content and the output (how much structure survived) and
#   the **Gram style distance** between the style and the output (how much style was
#   taken) — and why neither alone says which method is "best";
# * how to time a method honestly (device synchronisation, peak memory) and read a
#   time-against-resolution plot on log-log axes;
# * how our measurements compare with the figures published by the authors, and
#   which of them you can trust on your machine.

# %% [markdown]
# ## The idea in pictures
#
# A stylised photo sits between two extremes. Returning the content unchanged keeps
# all of its structure (SSIM = 1) but takes no style; returning the style image takes
# all of the style (distance 0) but none of the structure. Every method is a point in
# between, and a *better* method is one that moves **up and to the right** at once
# (the distance axis is drawn reversed, so that "more style" points right): more
# structure for the same amount of style. The points no other method beats on
# both axes form the *Pareto front*.
#
# *Illustration, not data* (no network drew it): where Yoo et al. (ICCV 2019, experiments,
# their plot of SSIM against the Gram style loss, with trained networks) place the three
# photorealistic methods. WCT² is **better on both axes** there — a higher SSIM *and* a
# lower style loss than PhotoWCT and WCT —, so it alone is on their front.
#
# ```
#  SSIM(content, output) ↑          (illustration after Yoo et al. 2019)
#   1 ┤ ● content itself
#     │                    ○ WCT² (edges kept, style taken)
#     │           ○ PhotoWCT + smoothing
#     │             ○ WCT (textures everywhere)
#   0 ┤                              ● style itself
#     └──────────────────────────────────────── Gram distance(style, output) →
#       large                                  0
# ```
#
# Speed is the third axis. Optimisation methods (Gatys, Deep Photo Style Transfer)
# run hundreds of forward/backward passes per image; feed-forward methods (AdaIN, WCT,
# WCT²) run one pass; PhotoWCT adds a smoothing step that solves a large sparse linear
# system — the step that dominated its running time in the WCT² paper's table.

# %% [markdown]
# ## The equations
#
# **SSIM** (Wang, Bovik, Sheikh & Simoncelli, IEEE TIP 2004). With local means μ,
# variances σ² and covariance σ_xy under an 11×11 Gaussian window (σ = 1.5),
#
# $$\mathrm{SSIM}(x, y) = \frac{(2\mu_x\mu_y + C_1)(2\sigma_{xy} + C_2)}{(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)},\qquad C_1 = (0.01L)^2,\; C_2 = (0.03L)^2,$$
#
# averaged over every position whose window fits in the image and over the colour
# channels (L = 1 for images in [0, 1]). `stylelab.features.evaluation.ssim` equals scikit-image's
# `structural_similarity` with the same settings to 1e-6 (the tests check it).
#
# **Gram style distance** (Gatys, Ecker & Bethge, CVPR 2016) of layer l with C channels,
# features F of the output and S of the style, G(F) = F Fᵀ / (H·W):
#
# $$E_l = \frac{\lVert G(F_l) - G(S_l)\rVert_F^2}{4C_l^2},\qquad D = \sum_{l \in \{\mathrm{relu1\_1},\dots,\mathrm{relu5\_1}\}} E_l .$$
#
# Computed on VGG features it needs trained weights to mean anything: the course's
# network (`stylelab.course.feature_network`: the paper's VGG-19 when you have it, else the
# offline VGG-16 that `make lab` installs; random weights only where neither is, and then
# the plot says "not meaningful"). Computed on the **pixels** (C = 3: the colour Gram
# matrix) it only sees colour statistics — but it is meaningful with no network at all,
# so we show both.

# %%
import warnings

import matplotlib.pyplot as plt
import torch

import stylelab
from stylelab import bench, course, metrics, viz, weights
from stylelab.features import evaluation
from stylelab import methods
from stylelab.media import data
from stylelab.device import get_device
from stylelab.course.exercises import drawn_by, use

warnings.filterwarnings("ignore", category=weights.RandomWeightsWarning)  # the banners below say it once per model
torch.manual_seed(0)
device = get_device()
size = course.pick(full=192, fast=64)  # full mode: ≤ 10 min on two CPU cores (the optimisation rows dominate)
n_pairs = course.pick(full=2, fast=1)
pairs = data.pairs()[:n_pairs]
print(f"device {device}, images {size} px, pairs: {pairs}")

# %% [markdown]
# ## Every method on the course pairs
#
# `stylelab.bench` knows every method of the course as a *row*: `bench.load(key)`
# builds it once (loading weights) and returns a function `(content, style) → image`.
# Pixel-space rows need no weights at all; network rows say on screen whether their
# weights are pretrained. Without pretrained weights, AdaIN, WCT and PhotoWCT would
# decode to flat images, so they run on the course's networks (`course.method_model`):
# the course pair **`vgg16-course`** — the offline ImageNet VGG-16 and decoders trained
# in this repository, far weaker than the paper's — or, without the offline VGG-16, the
# **stand-ins** (`stylelab.course.standin`:
# decoders trained for a fixed-seed random encoder; WCT² at 1/8 of its channels).
# PhotoWCT runs on its levels 2 and 1 there. None of them is a published model. The
# optimisation rows (Gatys, DPST) need no decoder: they run on the course's trained
# network (`course.feature_network`: VGG-19 when you have it, else the offline VGG-16),
# labelled with its name; Gatys starts from the content here (its few evaluations from
# white noise would still show noise). In the fast mode used by the automatic tests only the cheap
# rows run; at default settings every row runs (optimisation rows with 30 loss
# evaluations: enough to see where they go, far from converged).

# %%
pixel_rows = ["pixel-adain", "pixel-wct", "wavelet-ll", "wavelet-all", "pixel-wct-gif", "pixel-efdm", "pixel-colour-map"]
network_rows = course.pick(
    full=[k for k in bench.method_names() if bench.ROWS[k].family in ("feed-forward", "optimisation")
          and k != "photowct-cg"],  # the same exact smoothing as photowct-direct, by another solver
    fast=["adain", "wct2"],
)
rows = pixel_rows + [k for k in network_rows if k not in pixel_rows]
iterations = course.pick(full=30, fast=2)

#: rows with a course network (vgg16-course or stand-in), and the keyword arguments of their stylize call
STAND_IN = {"adain": {}, "wct": {"alpha": 0.6}, "photowct": {"smoothing": None}, "photowct-direct": {"smoothing": "direct"},
            "photowct-cg": {"smoothing": "cg"}, "photowct-gif": {"smoothing": "gif"}, "wct2": {}, "efdm": {},
            "colour-map": {}}
stand_in_models = {}
from stylelab.methods.colour_map import ColourMap
from stylelab.methods.efdm import EFDM

#: notebook 09's methods run on the course network of the method whose networks they reuse
BUILT_ON = {"efdm": ("adain", EFDM.from_model), "colour": ("wct2", lambda m: ColourMap.from_model(m, "WCT²"))}


def stand_in_runner(key):
    """The row on the course's network (`course.method_model`): the pair vgg16-course, else the stand-in."""
    method = key.split("-")[0]
    base, wrap = BUILT_ON.get(method, (method, lambda m: m))
    if method not in stand_in_models:
        net = course.method_model(base, device=device)
        stand_in_models[method] = (wrap(net), net)
    m, net = stand_in_models[method]
    kw = dict(STAND_IN[key], **({"levels": net.trained_levels} if method == "photowct" else {}))
    r = methods.Runner(lambda c, s: m.stylize(c, s, **kw).clamp(0, 1), False, weights.checkpoints_of(m))
    r.stand_in, r.course_tag = net.stand_in, net.tag  # what the banner and the titles say
    if getattr(net, "weights_name", None):
        r.weights_name = net.weights_name
    return r


from stylelab.methods import dpst, gatys


def trained_runner(key):
    """Gatys and DPST on the course's network (avg pooling and the normalised VGG-19 for Gatys, torchvision's for DPST)."""
    enc = course.feature_network("relu5_1", pooling="avg" if key == "gatys" else "max",
                                 flavour="normalised" if key == "gatys" else "torchvision", device=device)
    if key == "gatys":
        # from the content: 30 evaluations from the paper's white noise are far from converged
        cfg = gatys.preset("vgg16" if enc.arch == "vgg16" else "paper", steps=iterations, init="content")
        fn = lambda c, s: gatys.stylize(c, s, cfg, encoder=enc, progress=False)  # noqa: E731
    else:
        fn = lambda c, s: dpst.stylize(c, s, steps=(iterations, iterations), encoder=enc, progress=False)  # noqa: E731
    r = methods.Runner(fn, enc.pretrained, weights.checkpoints_of(enc))
    r.network, r.tag = enc.network, enc.tag
    return r


runners = {}
for key in rows:
    try:
        runners[key] = trained_runner(key) if key in ("gatys", "dpst") else bench.load(key, device=device, iterations=iterations)
    except Exception as err:  # not installed, or weights missing without STYLELAB_RANDOM_WEIGHTS=1
        print(f"– {bench.ROWS[key].label}: not run ({type(err).__name__}: {str(err).splitlines()[0][:90]})")
        continue
    if runners[key].pretrained is False and key in STAND_IN:
        runners[key] = stand_in_runner(key)
    if runners[key].pretrained is not None:
        course.weights_banner(runners[key], bench.ROWS[key].label + (f" on {runners[key].network}" if
                                                                       getattr(runners[key], "network", None) else ""))


def title(key):
    r = runners[key]
    tag = "" if r.pretrained is None else (" ✔" + (f" {r.tag}" if getattr(r, "tag", None) else "") if r.pretrained
                                           else (getattr(r, "course_tag", None) or " (RANDOM weights)"))
    return bench.ROWS[key].label.split(" (")[0] + tag


# %% [markdown]
# Notebook 09's methods are rows too: **EFDM** (every channel's histogram at `relu4_1`, on
# AdaIN's encoder and decoder — their stand-in here), **pixel EFDM** (histogram matching of the
# colours), the **colour map** fitted on a thumbnail stylised by WCT² (the course's network) or by
# pixel WCT, then applied to every pixel, and **CAP-VSTNet**: Cholesky WCT inside a reversible
# network, the small one trained here with notebook 06's matting-Laplacian loss (full mode).

# %%
outputs = {}  # (pair index, key) → image
for i, (content_name, style_name) in enumerate(pairs):
    content = data.load(content_name, size=(size, size), device=device)
    style = data.load(style_name, size=(size, size), device=device)
    for key, runner in runners.items():
        with torch.no_grad() if bench.ROWS[key].family != "optimisation" else torch.enable_grad():
            outputs[i, key] = runner.fn(content, style).detach().clamp(0, 1)
        assert outputs[i, key].shape == content.shape, (key, outputs[i, key].shape)
# every panel that claims to show a method (pixel rows, pretrained or stand-in networks) has contrast
viz.assert_not_flat([img for (i, k), img in outputs.items() if runners[k].pretrained is not False
                     or getattr(runners[k], "stand_in", None)], what="method panel")

for i, (content_name, style_name) in enumerate(pairs):
    images = [data.load(content_name, size=(size, size)), data.load(style_name, size=(size, size))]
    images += [outputs[i, k] for k in runners]
    viz.show_images(images, ["content: " + content_name, "style: " + style_name] + [title(k) for k in runners],
                    ncols=min(6, len(images)), size=2.2);

# %% [markdown]
# Look before you measure: the pixel rows move colours and cannot invent texture. The
# wavelet rows show the price of Haar's box-shaped basis: changing only the coarse LL
# band of a 3-level pyramid recolours whole 8×8 tiles, hence the blocks (WCT² avoids
# them by working on VGG features and decoding). The guided filter makes the
# pixel-WCT result follow the content's edges again. With pretrained weights the network rows show real
# stylisation; the stand-ins show what each method does with random features that a
# decoder learnt to invert (coarser than the published models); rows still on random
# weights show noise-like pictures, which is exactly what the "RANDOM weights" labels
# warn about.

# %% [markdown]
# ## Structure kept against style taken
#
# For each output: SSIM against its content, and the Gram distance to its style, once
# on VGG features (relu1_1 … relu5_1) and once on pixels. The two references — the
# content itself and the style itself — mark the ends of the scale.

# %%
try:
    vgg = course.feature_network("relu5_1", device=device)
    course.weights_banner(vgg)
    vgg_honest = f" ({vgg.tag})" if vgg.pretrained else " — RANDOM VGG: not meaningful"
except weights.WeightsNotFoundError:
    vgg, vgg_honest = None, " — no VGG weights: pixel Gram used instead"
    print("No VGG-19 weights here: the left panel repeats the pixel distance (`stylelab weights download`).")

scores = {}  # key → list of (ssim, vgg distance, pixel distance)
for i, (content_name, style_name) in enumerate(pairs):
    content = data.load(content_name, size=(size, size), device=device)
    style = data.load(style_name, size=(size, size), device=device)
    refs = {"content itself": content, "style itself": style}
    for key, img in [(k, outputs[i, k]) for k in runners] + list(refs.items()):
        s = evaluation.ssim(content, img).item()
        d_vgg = evaluation.style_distance(img, style, encoder=vgg).item()  # encoder=None: pixels
        d_pix = evaluation.style_distance(img, style).item()
        scores.setdefault(key, []).append((s, d_vgg, d_pix))

assert abs(scores["content itself"][0][0] - 1) < 1e-5   # SSIM of an image with itself
assert scores["style itself"][0][1] == 0 and scores["style itself"][0][2] == 0  # distance of the style to itself
if vgg is not None and vgg.pretrained and "gatys" in runners and runners["gatys"].pretrained:
    # on trained features, Gatys (which minimises a Gram loss on the same kind of features) takes style: its
    # output is closer to the style than the content is, on every pair
    assert all(g[1] < c[1] for g, c in zip(scores["gatys"], scores["content itself"])), (scores["gatys"], scores["content itself"])

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for ax, j, name in ((axes[0], 1, "Gram distance on VGG features" + vgg_honest), (axes[1], 2, "Gram distance on pixels (colour)")):
    # the style's distance to itself is 0: draw it a decade left of the smallest other distance
    floor = min(v[j] for vals in scores.values() for v in vals if v[j] > 0) / 10
    for key, vals in scores.items():
        xs = [v[j] if v[j] > 0 else floor for v in vals]
        ys = [v[0] for v in vals]
        label = key if key in ("content itself", "style itself") else title(key)
        marker = "*" if key in ("content itself", "style itself") else "o"
        ax.scatter(xs, ys, marker=marker, s=80 if marker == "*" else 40, label=label)
    ax.annotate("distance 0", (floor, scores["style itself"][0][0]), textcoords="offset points", xytext=(-10, 8),
                fontsize=7)
    ax.set_xscale("log")
    ax.invert_xaxis()  # more style to the right
    ax.set_xlabel(name + "  (→ more style)", fontsize=9)
    ax.set_ylabel("SSIM(content, output)")
    ax.grid(alpha=0.3)
axes[1].legend(fontsize=7, loc="lower left")
fig.suptitle(f"structure kept vs style taken ({size} px, {len(pairs)} pair(s))")
fig.tight_layout()

# "better = up and to the right": on screen the style itself (most style) lies right of the content
# itself (least style), and the content (most structure) above the style
for ax, j in ((axes[0], 1), (axes[1], 2)):
    floor = min(v[j] for vals in scores.values() for v in vals if v[j] > 0) / 10
    (cx, cy), (sx, sy) = (ax.transData.transform((max(scores[k][0][j], floor), scores[k][0][0]))
                          for k in ("content itself", "style itself"))
    assert sx > cx and cy > sy, "more style must point right and more structure up"

# %% [markdown]
# Reading the plot: the content itself sits at the top-left (SSIM 1, far from the
# style), the style itself at the bottom-right (at distance 0, drawn one decade past the
# smallest other distance because a log axis has no 0). On pixels, colour-only transfers (pixel AdaIN/WCT, the LL-band wavelet
# transfer) reach a small colour distance while keeping a high SSIM: they move tones,
# not structure. The WCT² paper (Yoo et al., ICCV 2019, experiments) draws the same plot with
# its trained networks and reports WCT² better on both axes: a higher SSIM *and* a lower
# style loss than PhotoWCT and WCT. Whether the course's networks reproduce that is the
# question the plot above answers only where a trained network drew it (see the banners).

# %% [markdown]
# ## Time against resolution
#
# `bench.run` times one stylisation per cell (model loading excluded), synchronising
# the device before and after so queued GPU work is counted, and records the peak
# memory the call added (CUDA: `max_memory_allocated`; CPU: the process's resident
# memory sampled in a background thread). On log-log axes a method whose cost grows
# like the number of pixels is a line of slope 2 against the image side.
# The same table for every method and size comes from the command line:
# `stylelab bench` (see `BENCHMARKS.md`).

# %%
sizes = course.pick(full=[128, 256, 512], fast=[32, 64])
timed_rows = course.pick(full=[k for k in rows if k not in ("dpst", "photowct-cg", "wavelet-ll")],
                         fast=["pixel-adain", "pixel-wct", "wavelet-all", "pixel-wct-gif", "adain"])
# a cell predicted (from the previous size, ∝ pixels) to take over 15 s is skipped and says so
result = bench.run(sizes=sizes, methods=timed_rows, device=device, iterations=iterations,
                   max_seconds=15.0, progress=False)
fig = result.plot(published=True)
fig.axes[0].set_title(f"time vs resolution on {result.meta['device']} (grey: published, GPU)", fontsize=9);

# %%
ok = [c for c in result.cells if c.status == "ok"]
assert ok and all(c.seconds > 0 for c in ok)
print("\n".join(result.header_lines()))

# %% [markdown]
# **Honest reading.** Times measured with random weights are the same as with
# pretrained weights **for the methods that run a fixed amount of arithmetic** (one network
# pass, a fixed number of optimisation steps), so for them the *time* plot is valid even in
# the automatic tests. It is not for solvers that stop at a tolerance — the conjugate-gradient
# smoothers of PhotoWCT (`photowct-cg`, `mg`) and an L-BFGS run stopped by its tolerance —:
# their iteration count depends on the image the weights produced (measured at 12 MP,
# BENCHMARKS.md: the multigrid CG needed 0 + 4 + 5 iterations on the three colour channels
# of a random-weight output, 89 in all on the trained course pair's — 6 minutes instead of
# seconds). The *pictures* and the VGG style distances are valid only where a
# trained network drew them: the banners above say which (the optimisation rows and the
# VGG distance on the course's trained VGG when installed, the decoder rows on stand-ins
# unless you have the published files). The grey dotted
# lines are the authors' figures, measured on their GPU (WCT² paper, quoted in the
# DEVIEW 2019 talk): WCT² 4.7 s at 1024 px without post-processing; PhotoWCT's smoothing
# 40 s at 512 px, 102 s at 768 px, out of memory at 1024 px — *host* memory: the
# reference smoother is a SciPy sparse factorisation that runs on the CPU, whatever
# GPU runs the network (notebook 05 measures how its factor grows); Deep Photo Style Transfer
# 1021 s at 512 px; and Johnson et al.'s feed-forward network about 1000× faster than
# Gatys' optimisation at 500 iterations (0.05 s against 55 s at 512 px). Compare slopes,
# not absolute values, with a CPU measurement.

# %% [markdown]
# ## Exercises
#
# **08.ssim_box** — SSIM with a 7×7 box window on one grey channel: local means with
# `F.avg_pool2d(t, 7, stride=1)`, variances as E[x²] − E[x]² (population), the SSIM
# formula above, then the mean of the map. Inputs are `(1, 1, H, W)` float64.

# %%
import torch.nn.functional as F


def my_ssim_box(x, y):
    raise NotImplementedError  # your code here


ssim_box = use("08.ssim_box", my_ssim_box)

# %% [markdown]
# **08.gram_distance** — the Gram style distance E_l of one layer for `(1, C, H, W)`
# features of the output and the style (which may have a different H×W).

# %%
def my_gram_distance(output_feat, style_feat):
    raise NotImplementedError  # your code here


gram_distance = use("08.gram_distance", my_gram_distance)

# %% [markdown]
# **08.pareto** — given a list of `(ssim, style_distance)` points, return the sorted
# indices of the methods on the Pareto front: those no other method beats with an SSIM
# at least as high *and* a distance at least as low (one of them strictly).

# %%
def my_pareto(points):
    raise NotImplementedError  # your code here


pareto = use("08.pareto", my_pareto)

# %% [markdown]
# All three together on the first pair of the comparison above: every method's box SSIM
# on the grey (luminance) channel and its Gram distance on the pixels (C = 3), both with
# your functions, and the Pareto front your `pareto` finds among the methods.

# %%
from stylelab.features import colour

c0 = data.load(pairs[0][0], size=(size, size)).double()
s0 = data.load(pairs[0][1], size=(size, size)).double()
candidates = {title(k): outputs[0, k].detach().cpu().double() for k in runners}
candidates.update({"content itself": c0, "style itself": s0})
names_ = list(candidates)
points = [(float(ssim_box(colour.luminance(c0), colour.luminance(img))), float(gram_distance(img, s0)))
          for img in candidates.values()]
front = pareto(points)
assert names_.index("content itself") in front and names_.index("style itself") in front  # each wins one axis
floor = min(d for _, d in points if d > 0) / 10
fig, ax = plt.subplots(figsize=(7, 4.2))
for i, (n, (sv, d)) in enumerate(zip(names_, points)):
    ax.scatter(max(d, floor), sv, s=60 if i in front else 25, color="tab:red" if i in front else "tab:grey")
    ax.annotate(n, (max(d, floor), sv), fontsize=7, xytext=(3, 3), textcoords="offset points")
line = sorted((max(points[i][1], floor), points[i][0]) for i in front)
ax.step([x for x, _ in line], [y for _, y in line], where="post", color="tab:red", lw=1, label=f"Pareto front ({drawn_by(pareto)})")
ax.set_xscale("log")
ax.invert_xaxis()
ax.set_xlabel(f"Gram distance on pixels, {drawn_by(gram_distance)}  (→ more style)")
ax.set_ylabel(f"box SSIM on luminance, {drawn_by(ssim_box)}")
ax.legend(fontsize=8)
ax.set_title(f"{pairs[0][0]} × {pairs[0][1]}: {len(front)} of {len(points)} on the front", fontsize=9)
print("on the front:", ", ".join(names_[i] for i in front))

# %% [markdown]
# ## What to remember
#
# * Compare methods on **two** axes at once: SSIM(content, output) for structure and
#   the Gram distance(style, output) for style. Each alone is won by a trivial answer
#   (return the content, return the style).
# * A style distance on VGG features is only meaningful with pretrained weights; the
#   colour Gram on pixels is weaker but always meaningful.
# * Time with device synchronisation, exclude model loading, report peak memory, and
#   say where you measured: a CPU table and a GPU table are different experiments.
# * Feed-forward methods cost one network pass; PhotoWCT's exact smoothing and the
#   optimisation methods grow much faster with resolution — the reason WCT² dropped
#   post-processing.
#
# **Papers.** Wang, Bovik, Sheikh & Simoncelli, "Image quality assessment: from error
# visibility to structural similarity", IEEE TIP 2004 · Gatys, Ecker & Bethge, "Image
# Style Transfer Using Convolutional Neural Networks", CVPR 2016 · Luan, Paris,
# Shechtman & Bala, "Deep Photo Style Transfer", CVPR 2017 · Li, Liu, Li, Yang & Kautz,
# "A Closed-form Solution to Photorealistic Image Stylization", ECCV 2018 · Yoo, Uh,
# Chun, Kang & Ha, "Photorealistic Style Transfer via Wavelet Transforms", ICCV 2019.

# %% [markdown]
# ## Questionnaire
#
# 1. Which trivial output wins on SSIM alone, and which wins on style distance alone?
# 2. The style-distance axis is drawn reversed. In which corner of the plot is the
#    ideal method, and why is there no single "best" point without a preference?
# 3. Why is a Gram distance on VGG features meaningless with random weights, while the
#    colour Gram on pixels is meaningful?
# 4. Why must a benchmark synchronise the device before stopping the clock on a GPU?
# 5. On log-log axes of time against image side, what slope does a method whose cost
#    grows with the number of pixels have? And an exact sparse factorisation?
# 6. The authors' PhotoWCT smoothing ran out of memory at 1024 px. Which memory, and how
#    would you predict the size at which it happens on your machine?
# 7. For which methods are times measured with random weights valid, and for which not?
#    Pictures never are. Why?
#
# **Further reading.** Read the experiments of Yoo et al. (ICCV 2019) on how they evaluate
# photorealistic transfer, and Wang et al. (IEEE TIP 2004) on what SSIM does and does not
# measure. For honest timing, read the PyTorch "CUDA semantics" notes on asynchronous
# execution. Then pick one claim in a style-transfer paper's results table and write down
# which of the measurements of this notebook would check it.

# %% [markdown]
# ## Appendix · A large photo in tiles, with statistics taken once
#
# *(This section is separate from the comparison above.)* A 12-megapixel photo does
# not fit through VGG features on a laptop: WCT² peaked at 3.54 GiB at 1024² (one
# megapixel) on a CPU, and is predicted at 26.7 GiB for a whole 4000×3000 photo (BENCHMARKS.md,
# the tiling table). Cutting the photo into tiles is not enough on its own, because AdaIN and WCT
# normalise with the **content's** statistics (means, covariances): each tile would be
# whitened differently and the tile borders would show as steps of colour.
# Chen et al. (AAAI 2022, "Thumbnail Instance Normalization") take the statistics once,
# from a thumbnail of the whole photo, and apply them to every tile.
# `stylelab.tiling.stylize_tiled` does this for any method — AdaIN here, on the course's
# networks (`course.method_model`: the paper's files, else the course pair `vgg16-course`,
# else the stand-in; the banner says which): it runs the method on the
# thumbnail and **records** every content statistic, then runs it on each tile and
# **replays** them; overlapping tiles are blended with weights that ramp across the
# overlap. The seam metric compares the colour differences *across* tile borders with
# those everywhere else: about 1 means no border shows.
#
# The course images are 512 px, so the "large photo" below is an upsampled one (its
# fine detail is not real); run it on your own photo (`stylelab.io.load_image(path)`) or
# from the command line: `stylelab transfer --method wct2 photo.jpg style.jpg -o out.png
# --size 3000 --tile auto`.

# %%
from stylelab import tiling
from stylelab.tiling import tiles

big = data.load("mountains", size=course.pick(full=1536, fast=160), device=device)  # short side
style_img = data.load("sunset", size=course.pick(full=512, fast=96), device=device)
tile_model = course.method_model("adain", device=device)  # the paper's, else vgg16-course, else the stand-in
course.weights_banner(tile_model, "AdaIN (tiled)")
prepared = tile_model.prepare_style(style_img)  # the style side once, shared by every tile
tile, overlap = course.pick(full=768, fast=96), course.pick(full=64, fast=24)
H, W = big.shape[-2:]
boxes = tiles.tile_boxes(H, W, tile, overlap)
print(f"photo {W}×{H} ({H * W / 1e6:.1f} MP), {len(boxes)} tiles of ≤{tile} px, overlap {overlap} px")


def stylise(x):
    return tile_model.stylize(x, prepared)


tiled = tiling.stylize_tiled(stylise, big, tile=tile, overlap=overlap, thumbnail=course.pick(full=1024, fast=96))
# The naive alternative: every tile on its own (its own statistics), no overlap.
naive_boxes = tiles.tile_boxes(H, W, tile, 0)
naive = torch.zeros_like(tiled)
for y0, y1, x0, x1 in naive_boxes:
    naive[..., y0:y1, x0:x1] = stylise(big[..., y0:y1, x0:x1]).float()
seam_tiled = tiles.seam_energy(tiled, naive_boxes)
seam_naive = tiles.seam_energy(naive, naive_boxes)
seam_content = tiles.seam_energy(big, naive_boxes)
print(f"seam ratio along the naive tile borders: content {seam_content:.2f}, shared statistics + blending "
      f"{seam_tiled:.2f}, independent tiles {seam_naive:.2f}")
assert seam_tiled < seam_naive, "shared statistics and blending must hide the tile borders better than independent tiles"
assert seam_tiled < 1.5 * seam_content + 0.5, "the tiled result shows its tile borders"
viz.assert_not_flat([tiled, naive], what="tiled AdaIN result")  # a seam metric on a flat image would mean nothing

# %%
y0, y1, x0, x1 = naive_boxes[min(len(naive_boxes) - 1, 1)]
cy, cx = y0 if y0 > 0 else y1, x0 if x0 > 0 else x1  # a tile corner inside the photo
half = min(course.pick(full=96, fast=24), cy, cx, H - cy, W - cx)
crop = (..., slice(max(0, cy - half), cy + half), slice(max(0, cx - half), cx + half))
fig = viz.show_images([big[0], tiled[0], big[crop][0], tiled[crop][0], naive[crop][0]],
                      ["content", f"tiled AdaIN{tile_model.tag}", "content (zoom on a tile corner)", "shared statistics (zoom)",
                       "independent tiles (zoom)"])

# %% [markdown]
# **Reading it.** With independent tiles each tile gets its own whitening and
# colouring, and the corner in the last zoom shows it (a high seam ratio). With
# the statistics shared and the tiles blended, the corner disappears and the detail of
# the photo stays at full resolution, because nothing was downsampled except the
# thumbnail the statistics came from. What is left between a tiled and a whole-image
# run is the network's receptive field (counted layer by layer: each 3×3 convolution widens it by twice
# its stride, each 2×2 pooling by its input stride — VGG-19 to relu4_1 sees 68 px, VGG-16 60 px, and
# AdaIN's mirrored decoder adds 60 px: ≈ 130 px in all): near a tile border the network sees
# padding; the blend weights are zero on a margin there and small across the overlap.
# PhotoWCT's smoothing runs after the tiles, once, at full size: the multigrid solver
# (`stylelab.smoothing.smooth(..., mode="mg")`) needs O(N) memory.
#
# **Paper.** Chen, Wang, Xie, Lu & Luo, "Towards Ultra-Resolution Neural Style Transfer
# via Thumbnail Instance Normalization", AAAI 2022.
#
# **Next:** [09 · After WCT²](09_after_wct2.ipynb) — exact histogram matching (EFDM), other whitenings, colour at 12 MP, masks without a network, and the warping error of a stylised video.
