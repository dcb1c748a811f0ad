# %% [markdown]
# # 03 · AdaIN: style as the mean and spread of each feature channel
#
# **Before this notebook:** [01](01_gram_mmd.ipynb) (moments as a style statistic), [02](02_gatys.ipynb) (exercise 02.gatys_loss: content and style losses on VGG features — AdaIN's decoder is trained with the same content loss and a style loss on means and spreads) and [02b](02b_learning_to_stylise.ipynb) (instance norm and CIN; exercise 02b.cin).
#
# **Time:** about 3.4 min (202 s) in full mode on a 2-core laptop (measured with the trained networks installed, README, "Full mode: what a student runs"); under 90 s in fast mode (`STYLELAB_FAST=1`).
#
# **What you will learn**
#
# * why *instance* normalisation removes the style of an image, and how putting
#   new per-channel statistics back (conditional IN, then **adaptive** IN) puts a
#   new style in — all in one feed-forward pass instead of Gatys' optimisation;
# * what AdaIN does on raw pixels (it is plain mean/std colour transfer) and on
#   VGG features (texture as well as colour);
# * the knobs a user gets for free: the content/style trade-off α, mixing several
#   styles, restricting styles to regions with label maps, keeping the content's
#   colours;
# * that two well-known implementations compute slightly different things, and
#   which one stylelab reproduces with which preset;
# * how the decoder is trained (content loss on the AdaIN target, moment style loss)
#   — and you will run a few training steps yourself.

# %%
import torch

import stylelab
from stylelab import course, viz
from stylelab.media import data
from stylelab.features import transforms as T
from stylelab import labels
from stylelab.labels import maps as label_maps

torch.manual_seed(0)
size = course.pick(full=512, fast=128)  # AdaIN at relu4_1 sees 1/8 of the side: 64 px leaves 8×8 positions
content = data.load("chelsea", size=size)
style_names = data.names("style_art")[:3]
styles = {n: data.load(n, size=size) for n in style_names}
viz.show_images([content, *styles.values()], titles=["content: chelsea", *style_names], size=2.5);

# %% [markdown]
# ## The idea in pictures
#
# Two images can share every object and differ in "style": brighter, bluer, more
# contrast, rougher brush strokes. Many of those differences live in *simple
# statistics of each channel* — its mean and its standard deviation over the whole
# image. Ulyanov, Vedaldi & Lempitsky (2016; notebook 02b) found that feed-forward
# stylisation networks work much better with **instance normalisation** (IN) than with
# batch normalisation. Huang & Belongie (ICCV 2017, Section 4 and Fig. 1) asked why: the
# usual explanation, invariance to the content's *contrast*, is not enough — IN still wins
# when every training image is contrast-normalised first, and the gap closes only when
# the images are *style*-normalised. Their reading: IN divides out the per-image,
# per-channel statistics, so it throws away most of the style before the network has to
# deal with it.
#
# If removing the statistics removes the style, then *inserting* another image's
# statistics should insert its style. Start with the three colour channels of a
# photograph: normalise each channel of the content, then rescale it with the
# style's standard deviation and shift it by the style's mean.

# %% [markdown]
# ### Exercise 03.adain — write AdaIN
#
# $\mathrm{AdaIN}(x, y) = \sigma(y)\,\frac{x-\mu(x)}{\sigma(x)} + \mu(y)$ per sample and
# per channel, over the $H\cdot W$ positions, with the PyTorch port's convention
# (below): the unbiased variance plus `eps = 1e-5` under the square root, for both
# inputs. The figure after it is computed with your function.

# %%
from stylelab.course.exercises import drawn_by, use


def my_adain(content_feat, style_feat, eps=1e-5):
    raise NotImplementedError  # your code here


adain = use("03.adain", my_adain)

# %%
pixel_adain = {n: adain(content, s).clamp(0, 1) for n, s in styles.items()}
for n, s in styles.items():  # the palette moved: each channel's mean is now the style's (before clipping)
    assert torch.allclose(adain(content, s).mean((2, 3)), s.mean((2, 3)), atol=1e-4)
viz.show_images([content, *pixel_adain.values()], titles=["content", *[f"AdaIN on pixels ← {n} ({drawn_by(adain)})" for n in style_names]], size=2.5);

# %% [markdown]
# On pixels this is the classic **mean/std colour transfer** (Reinhard et al., 2001,
# did it in a decorrelated colour space): the palette moves, the brush strokes do
# not. On deep features (a VGG channel responds to an edge orientation, a blob, a
# texture) the same two numbers per channel describe *textures*, and the decoder
# paints them back.

# %% [markdown]
# ## The equations
#
# For features $x \in \mathbb{R}^{B\times C\times H\times W}$ with per-sample,
# per-channel mean $\mu(x)$ and standard deviation $\sigma(x)$ over the $H\cdot W$
# positions:
#
# $$\mathrm{IN}(x) = \gamma\,\frac{x-\mu(x)}{\sigma(x)} + \beta \qquad \text{(Ulyanov et al., 2016; learned } \gamma,\beta)$$
#
# $$\mathrm{CIN}(x; s) = \gamma_s\,\frac{x-\mu(x)}{\sigma(x)} + \beta_s \qquad \text{(Dumoulin et al., ICLR 2017: one } (\gamma_s,\beta_s) \text{ per style } s)$$
#
# $$\mathrm{AdaIN}(x, y) = \sigma(y)\,\frac{x-\mu(x)}{\sigma(x)} + \mu(y) \qquad \text{(Huang \& Belongie, ICCV 2017: no parameters)}$$
#
# CIN needs a table of learned parameters for every style it knows; AdaIN *computes*
# them from any style image $y$, so it works for styles never seen in training.
# The output is decoded by a network $g$: $\;\text{image} = g\big(\alpha\,\mathrm{AdaIN}(f(c), f(s)) + (1-\alpha)\,f(c)\big)$
# with $f$ the VGG-19 encoder up to `relu4_1`.
#
# **Conventions matter.** $\sigma$ needs a variance and an $\varepsilon$. The
# PyTorch port (naoto0804/pytorch-AdaIN) uses the unbiased variance ($\div(N-1)$)
# plus $10^{-5}$ for both images; the original Torch code uses the *biased*
# variance without $\varepsilon$ for the style and a batch-norm layer (biased + $10^{-5}$)
# for the content. `stylelab.features.transforms.adain(..., preset="pytorch" | "official")` gives either.

# %% [markdown]
# ### CIN is AdaIN with a lookup table
#
# Give CIN one $(\gamma_s, \beta_s)$ per style — here we simply *store* each style's
# channel statistics — and it produces exactly what AdaIN computes on the fly.

# %%
def cin(x, gamma, beta, eps=1e-5):
    """Conditional instance norm with per-style scale gamma and shift beta, both (1, C, 1, 1)."""
    mean, std = T.mean_std(x, unbiased=True, eps=eps)
    return gamma * (x - mean) / std + beta


table = {}  # the "trained" parameters of a CIN network that knows three styles
for name, s in styles.items():
    mu, sigma = T.mean_std(s, unbiased=True, eps=1e-5)
    table[name] = (sigma, mu)

for name, s in styles.items():
    gamma, beta = table[name]
    assert torch.allclose(cin(content, gamma, beta), T.adain(content, s), atol=1e-6)
print("CIN with a table of per-style (γ, β) = AdaIN with statistics computed from the style image")

# %% [markdown]
# ### What AdaIN guarantees
#
# With $\alpha = 1$ the output has, channel by channel, exactly the style's mean and
# standard deviation (with $\varepsilon = 0$; with $\varepsilon > 0$ up to a tiny
# shrinkage). Everything else — where things are — comes from the content.

# %%
x = torch.randn(1, 16, 20, 20, dtype=torch.float64) * 3 + 1
y = torch.randn(1, 16, 9, 13, dtype=torch.float64) * 0.5 - 2
out = T.adain(x, y, eps=0.0)
(mo, so), (ms, ss) = T.mean_std(out, eps=0.0), T.mean_std(y, eps=0.0)
assert torch.allclose(mo, ms) and torch.allclose(so, ss)

official, port = T.adain(x, y, preset="official"), T.adain(x, y, preset="pytorch")
print(f"largest difference official vs PyTorch port on 20×20 features: {(official - port).abs().max():.2e}")

# %% [markdown]
# The two conventions differ by terms of order $1/(HW)$ and $\varepsilon$: invisible
# in a picture, but larger than a default `allclose` tolerance — which matters when
# you compare your implementation with someone else's. The difference shrinks as
# the feature maps grow:

# %%
import matplotlib.pyplot as plt

sides = [4, 8, 16, 32, 64]
gaps = []
for side in sides:
    a = torch.randn(1, 8, side, side, dtype=torch.float64)
    b = torch.randn(1, 8, side, side, dtype=torch.float64) * 2
    gaps.append((T.adain(a, b, preset="official") - T.adain(a, b, preset="pytorch")).abs().max().item())
fig, ax = plt.subplots(figsize=(4.5, 3))
ax.loglog([s * s for s in sides], gaps, "o-")
ax.set_xlabel("positions H·W")
ax.set_ylabel("max |official − port|")
ax.set_title("two AdaIN conventions");

# %% [markdown]
# ## The AdaIN network
#
# `stylelab.methods.adain.AdaIN.from_official()` loads the released `vgg_normalised.pth` and
# `decoder.pth` (pytorch-AdaIN, MIT). If they are not on this machine the notebook
# runs the course pair **`vgg16-course`** (`stylelab.nets.course_pair`): the offline ImageNet
# VGG-16, frozen, and a decoder trained in this repository to invert its `relu4_1` —
# real features, but a decoder far weaker than the paper's (the banner below gives its
# training data and time). Without the offline VGG-16 it falls back to the course's
# **stand-in** (`stylelab.course.standin`: a random encoder and a decoder trained to invert it).
# `course.method_model` is that one rule. Run `stylelab weights download` for the real thing.

# %%
model = course.method_model("adain")  # the paper's files, else the course pair vgg16-course, else the stand-in
course.weights_banner(model, "AdaIN (VGG encoder + decoder)")
style = styles[style_names[0]]
alphas = [0.0, 0.25, 0.5, 0.75, 1.0]
outs = [model.stylize(content, style, alpha=a) for a in alphas]
tag = model.tag
viz.show_images([style, *outs], titles=["style", *[f"α = {a}{tag}" for a in alphas]], ncols=6, size=2.2)
viz.assert_not_flat(outs, what="network panel");

# %% [markdown]
# ### Try it: α, two styles, colour preservation
#
# The explorer caches the encoder features; the sliders only change settings and
# **Run** decodes. Without the paper's pretrained weights it runs AdaIN on pixels
# (`model=None`): each colour channel's mean and spread. There the colour-preservation
# box is hidden — matching the style's colours to the content's first would leave
# nothing of the style for pixel AdaIN to move (question: why exactly?).

# %%
from stylelab.course.widgets.adain import AdaINExplorer

explorer = AdaINExplorer(content, styles, model=model if model.pretrained else None)
explorer.render()
explorer.widget()

# %% [markdown]
# ## Style interpolation
#
# AdaIN of the content against each style, mixed with weights that sum to one, then
# decoded once: $\;g\big(\sum_k w_k\,\mathrm{AdaIN}(f(c), f(s_k))\big)$. On pixels
# (left row) the palette slides from one painting to the other; the network (right
# row) does the same with textures.

# %%
a_name, b_name = style_names[0], style_names[1]
ws = course.pick(full=[0.0, 0.25, 0.5, 0.75, 1.0], fast=[0.0, 0.5, 1.0])
pix = [T.interpolate_styles(content, [styles[a_name], styles[b_name]], [1 - w, w]).clamp(0, 1) for w in ws]
net = [model.stylize(content, [styles[a_name], styles[b_name]], style_weights=[1 - w, w]) for w in ws]
viz.show_images(pix + net, titles=[f"pixels {1 - w:.2f}·{a_name} + {w:.2f}·{b_name}" for w in ws] + [f"network{tag}, w = {w}" for w in ws],
                ncols=len(ws), size=2.2);

# %% [markdown]
# ## Spatial control with label maps
#
# The original Torch code could give different regions different styles; the
# PyTorch port dropped it. stylelab brings it back for both AdaIN and WCT: label maps
# (one integer per pixel) for content and style, each with its image's aspect ratio
# (a map at another resolution is resized to its image, nearest label); each label takes
# its statistics from the style pixels with the *same* label. A label is used only
# if it has more than 10 pixels in both maps and neither map has 100× more of it
# than the other (the rule FastPhotoStyle and WCT² use); other pixels keep the content.

# %%
c_name, s_name = data.pairs(labelled=True)[0]
c_img, s_img = data.load(c_name, size=size), data.load(s_name, size=size)
c_lab, s_lab = data.load_labels(c_name, size=size), data.load_labels(s_name, size=size)
print("labels used:", labels.usable_labels(c_lab, s_lab))
global_pix = T.adain(c_img, s_img).clamp(0, 1)
masked_pix = T.adain(c_img, s_img, content_labels=c_lab, style_labels=s_lab).clamp(0, 1)
masked_net = model.stylize(c_img, s_img, content_labels=c_lab, style_labels=s_lab)
viz.show_images([c_img, c_lab[0, 0], s_img, s_lab[0, 0], global_pix, masked_pix, masked_net],
                titles=[c_name, "content labels", s_name, "style labels", "pixels: global", "pixels: per label", f"network{tag}: per label"],
                ncols=4, size=2.3, cmap="tab10");

# %% [markdown]
# A 3-channel colour mask is refused with a message that says how to convert it
# (`stylelab.labels.maps.labels_from_rgb`, using Deep Photo Style Transfer's nine colours):

# %%
try:
    label_maps.check_labels(torch.zeros(1, 3, 8, 8))
except ValueError as err:
    message = str(err)
assert "labels_from_rgb" in message

# %% [markdown]
# ## Keeping the content's colours
#
# Recolour the *style* image first so its RGB mean and covariance match the
# content's (CORAL, as pytorch-AdaIN's `--preserve_color`), then stylise: textures
# come from the painting, colours stay the photograph's.

# %%
recoloured = T.coral(style, content)
viz.show_images([content, style, recoloured, model.stylize(content, style), model.stylize(content, style, preserve_colour=True)],
                titles=["content", "style", "style recoloured (CORAL)", f"AdaIN{tag}", f"AdaIN{tag}, colours kept"], ncols=5, size=2.3);

# %% [markdown]
# ## Training the decoder — a short demo
#
# The decoder $g$ is trained with the encoder frozen. For a content batch $c$ and a
# style batch $s$, with $t = \mathrm{AdaIN}(f(c), f(s))$:
#
# $$\mathcal{L}_c = \lVert f(g(t)) - t\rVert^2 ,\qquad \mathcal{L}_s = \sum_{i=1}^{4}\lVert \mu(\phi_i(g(t))) - \mu(\phi_i(s))\rVert^2 + \lVert \sigma(\phi_i(g(t))) - \sigma(\phi_i(s))\rVert^2$$
#
# over `relu1_1 … relu4_1`, total $\mathcal{L}_c + 10\,\mathcal{L}_s$. The content
# target is $t$, not $f(c)$: the decoder must reproduce the *stylised* features. The
# real recipe is 160 000 steps on MS-COCO and WikiArt (`stylelab train --method adain`);
# here we run a handful of steps on a few course images with a fresh decoder —
# **a demo of the mechanics, not a trained model**.

# %%
from stylelab import train
from stylelab.nets.decoders import MirrorDecoder

crop = course.pick(full=128, fast=32)
steps = course.pick(full=100, fast=4)
contents = torch.cat([data.load(n, size=(crop, crop)) for n in data.names("content")])
style_batch = torch.cat([data.load(n, size=(crop, crop)) for n in data.names("style_art")])
decoder = MirrorDecoder(4)
loss = train.AdaINLoss(model.encoder, decoder, style_batch)
history = train.fit(loss, {"decoder": decoder}, contents, steps=steps, batch_size=2, lr=1e-4,
                    log_every=1, device="cpu", seed=0, progress=False)
print(f"DEMO: {steps} steps on {len(contents)} images of {crop}×{crop} px — nowhere near a trained decoder.")
viz.plot_curves({"total": history["total"], "content": history["content"], "style ×10": [10 * v for v in history["style"]]},
                title="AdaIN decoder training (demo)");
assert len(history["total"]) == steps and all(torch.isfinite(torch.tensor(history["total"])))

# %% [markdown]
# ## Exercises
#
# Replace each `raise NotImplementedError` with your code and run the cell.
#
# **03.instance_norm** — instance normalisation with the *biased* variance and
# `eps` inside the square root. The figure after it normalises the course images' pixels
# with your function (shown as 0.5 + 0.2·IN(x)): the palettes are gone, the layouts stay.

# %%
def my_instance_norm(x, eps=1e-5):
    """x: (B, C, H, W) → each sample's each channel normalised to mean 0, std 1."""
    raise NotImplementedError  # your code here


instance_norm = use("03.instance_norm", my_instance_norm)

# %%
shown_in = {"content": content, **styles}
normalised = {n: instance_norm(x) for n, x in shown_in.items()}
assert all(float(v.mean((2, 3)).abs().max()) < 1e-4 for v in normalised.values())
viz.show_images([*shown_in.values(), *[(0.5 + 0.2 * v).clamp(0, 1) for v in normalised.values()]],
                titles=[*shown_in, *[f"IN({n}), {drawn_by(instance_norm)}" for n in shown_in]], ncols=len(shown_in), size=2.2);

# %% [markdown]
# **03.style_loss** — AdaIN's style loss at one layer: mean-squared error between
# the channel means plus mean-squared error between the channel standard deviations
# (unbiased variance + `eps`).

# %%
def my_moment_style_loss(gen_feat, style_feat, eps=1e-5):
    raise NotImplementedError  # your code here


moment_style_loss = use("03.style_loss", my_moment_style_loss)

# %% [markdown]
# Your loss on pixels, for each style: the content against the style, and AdaIN's
# pixel output (above) against the style. AdaIN matches exactly these moments, so its
# bar is near zero — what is left comes from clipping to [0, 1].

# %%
import numpy as np

before = [float(moment_style_loss(content, s)) for s in styles.values()]
after = [float(moment_style_loss(pixel_adain[n], s)) for n, s in styles.items()]
assert all(a < b for a, b in zip(after, before))
fig, ax = plt.subplots(figsize=(6, 2.6))
pos = np.arange(len(styles))
ax.bar(pos - 0.2, before, 0.4, label="content vs style")
ax.bar(pos + 0.2, after, 0.4, label="AdaIN on pixels vs style")
ax.set_xticks(pos, list(styles))
ax.set_ylabel(f"moment style loss ({drawn_by(moment_style_loss)})")
ax.legend();

# %% [markdown]
# ## What to remember
#
# * Instance normalisation removes per-channel statistics, and with them much of an
#   image's style; AdaIN puts another image's statistics back — one pass, any style.
# * On pixels AdaIN is mean/std colour transfer; on VGG features it transfers textures.
# * α, style mixtures, label maps and colour preservation all act on the features
#   before one decoding pass.
# * Small conventions (biased or unbiased variance, where ε goes) differ between
#   implementations: choose one explicitly when you compare numbers.
# * AdaIN matches only means and variances — channels stay uncorrelated with each
#   other. Notebook 04 (WCT) matches the full covariance.
#
# ## Questionnaire
#
# 1. What does instance normalisation remove from a feature map, and why does that
#    remove much of an image's style?
# 2. CIN needs a table of (γ, β) per style; AdaIN needs none. Where do AdaIN's γ and β
#    come from, and what does that buy?
# 3. On raw pixels AdaIN is a classic colour transfer. What can it not move that it
#    moves on VGG features?
# 4. Why is the decoder's content target $t = \mathrm{AdaIN}(f(c), f(s))$ and not
#    $f(c)$?
# 5. Two implementations differ by biased vs unbiased variance and where ε goes. How
#    large is the difference, how does it scale with $H\cdot W$, and when does it matter?
# 6. α blends features, not images. Why is $g(\alpha t + (1-\alpha) f(c))$ different
#    from $\alpha\,g(t) + (1-\alpha)\,c$?
# 7. With label maps, when is a label left unstylised, and why that rule?
#
# ## Further reading
#
# * Huang & Belongie (ICCV 2017), Section 6: the architecture and the training
#   losses, then the content–style trade-off of their runtime controls (Section 7)
#   against the α figure above.
# * Dumoulin, Shlens & Kudlur (ICLR 2017): how many styles one network learns with CIN.
# * naoto0804/pytorch-AdaIN, `function.py`: find `calc_mean_std` and its ε; compare with
#   `stylelab.features.transforms.mean_std`.
# * Notebook 02b (learning to stylise) trains feed-forward networks with IN and CIN.
#
# **Papers.** X. Huang & S. Belongie, *Arbitrary Style Transfer in Real-time with
# Adaptive Instance Normalization*, ICCV 2017. D. Ulyanov, A. Vedaldi & V. Lempitsky,
# *Instance Normalization: The Missing Ingredient for Fast Stylization*, 2016.
# V. Dumoulin, J. Shlens & M. Kudlur, *A Learned Representation for Artistic Style*,
# ICLR 2017. E. Reinhard et al., *Color Transfer between Images*, IEEE CG&A 2001.
# L. A. Gatys et al., *Preserving Color in Neural Artistic Style Transfer*, 2016.
#
# **Next:** [04 · WCT](04_wct.ipynb) — match the whole covariance, not only the means and spreads.
