# %% [markdown]
# # 01b · What has a CNN learned? Saliency, class visualisation, inversion, fooling images
#
# **Before this notebook:** [00 · Start here](00_start_here.ipynb); [01](01_gram_mmd.ipynb) helps (feature maps of a network, layer names). No earlier exercise is needed.
#
# **Time:** about 1.1 min (65 s) in full mode on a 2-core laptop (measured with the trained networks installed, README, "Full mode: what a student runs"); under 90 s in fast mode (`STYLELAB_FAST=1`).
#
# Style transfer rests on one bet: the features of a network trained to *classify*
# photographs describe images well enough to rebuild them. Before we spend the rest
# of the course on that bet, we look inside such a network with four tools — each
# one the gradient of something with respect to the **pixels**, the same gradient
# that Gatys' method (notebook 02) follows.
#
# **What you will learn**
#
# * the **saliency map** (Simonyan, Vedaldi & Zisserman 2014): which pixels the class
#   score is most sensitive to, and how to test that a map points at what matters;
# * **class visualisation** by gradient ascent on the class score, and why it needs
#   regularisation (an L2 penalty, random jitter, periodic blur — Yosinski et al. 2015);
# * **feature inversion** (Mahendran & Vedaldi 2015): the image whose features at one
#   layer match a photo's — what each layer keeps and what it throws away;
# * a **fooling image** (Szegedy et al. 2014): a change of a few grey levels that makes
#   the network see a goldfish in a cat.
#
# **Prerequisites:** notebook 00 (how exercises work). No earlier exercise is needed;
# the total-variation prior met here comes back in notebook 02.
#
# **Run time (full mode):** about 1 minute on a 2-core laptop — 47 s of kernel CPU time with
# one torch thread (`python tools/time_notebooks.py --threads 1 01b_what_cnns_learn`, trained
# SqueezeNet; an upper bound on the quiet wall time). Most of it is the feature inversion.
#
# **The network.** SqueezeNet 1.1 (Iandola et al. 2016), the small ImageNet classifier
# that Stanford's CS231n uses for this assignment: 1.2 M parameters, fast on a CPU.
# `make lab` installs its trained weights (DeepScale's original ImageNet weights, BSD);
# without them the cells run on **random** weights and every figure says so.

# %%
import matplotlib.pyplot as plt
import torch

from stylelab import course, viz, weights
from stylelab.media import data
from stylelab.nets import encoders
from stylelab.features import losses
from stylelab.course import visualise
from stylelab.course.exercises import drawn_by, use

torch.manual_seed(0)
trained = weights.is_installed("squeezenet1_1")
net = encoders.squeezenet1_1(random=not trained, download=False)
course.weights_banner(net, "SqueezeNet 1.1")
model = visualise.RGBClassifier(net)  # takes RGB in [0, 1], normalises with ImageNet's mean and std
WHO = "SqueezeNet 1.1, trained on ImageNet" if model.pretrained else "SqueezeNet 1.1 with RANDOM weights (not trained)"
classes = encoders.imagenet_classes()
print("Every figure below is drawn by:", WHO)
if not model.pretrained:
    print("⚠ The claims in the text are about the TRAINED network; with random weights they are not checked.")

# %% [markdown]
# ## What does it see in the course's photos?
#
# The classifier maps an image to 1000 **scores** $s_k(x)$ (one per ImageNet class); the
# softmax turns them into probabilities $p_k = e^{s_k}/\sum_j e^{s_j}$. SqueezeNet ends
# with global average pooling, so it accepts any image size; we use the photos at 224 px
# on their short side, close to the 227 px crops it was trained on.

# %%
photo_names = ["chelsea", "coffee", "mountains"]
photos = {n: data.load(n, size=224) for n in photo_names}
top = {}
for n, x in photos.items():
    p, idx = visualise.predict(model, x, k=3)
    top[n] = [(classes[int(i)], float(q)) for q, i in zip(p[0], idx[0])]
    print(f"{n:<10} " + " · ".join(f"{c} {q:.2f}" for c, q in top[n]))
if model.pretrained:  # what the trained network does, checked
    assert top["chelsea"][0][0] in {"Egyptian cat", "tabby", "tiger cat"}, top["chelsea"]
    assert top["coffee"][0][0] == "espresso" and top["coffee"][0][1] >= 0.9, top["coffee"]
    assert top["mountains"][0][0] == "alp", top["mountains"]
label = {n: classes.index(top[n][0][0]) for n in photo_names}  # each photo's top-1 class
viz.show_images(list(photos.values()), titles=[f"{n}: {top[n][0][0]} ({top[n][0][1]:.2f})" for n in photo_names],
                size=3.3, suptitle=WHO);

# %% [markdown]
# ## 1 · Saliency: which pixels does the score depend on?
#
# Near an image $x_0$ the score is almost linear, $s_y(x) \approx s_y(x_0) + w^\top (x - x_0)$
# with $w = \partial s_y / \partial x\,|_{x_0}$: a pixel with a large $|w|$ changes the score
# most. Simonyan et al. take, for each pixel, the largest magnitude over the three colour
# channels:
#
# $$M_{ij} = \max_{c}\;\left|\frac{\partial s_y}{\partial x_{c,i,j}}\right|, \qquad M \in \mathbb{R}^{H\times W}.$$
#
# Use the **score** $s_y$, not the probability $p_y$: $p_y$ can also rise by *lowering* the
# other classes' scores, so its gradient mixes in evidence against everything else.
#
# ### Exercise 01b.saliency — write the saliency map
#
# `model(x)` gives scores `(B, 1000)`; `target` is a `(B,)` tensor of class indices.
# Make a copy of the images that requires gradients, pick each image's target score,
# backpropagate their sum (the images of a batch do not interact), and return
# $M$ as `(B, H, W)`. The maps below are drawn with your function.

# %%
def my_saliency(model, image, target):
    raise NotImplementedError  # your code here


saliency = use("01b.saliency", my_saliency)

# %%
maps = {n: saliency(model, photos[n], torch.tensor([label[n]]))[0].detach() for n in photo_names}
fig, axes = plt.subplots(2, 3, figsize=(12, 5.6))
for k, n in enumerate(photo_names):
    axes[0, k].imshow(viz.to_numpy_image(photos[n][0]))
    axes[0, k].set_title(f"{n}: {top[n][0][0]}")
    axes[1, k].imshow(maps[n].cpu(), cmap="hot")
    axes[1, k].set_title(f"saliency of '{top[n][0][0]}'")
for ax in axes.flat:
    ax.axis("off")
fig.suptitle(f"Saliency maps ({drawn_by(saliency)}) — {WHO}")
fig.tight_layout();

# %% [markdown]
# Raw gradients are speckled — neighbouring pixels can have very different sensitivities —
# so "the map highlights the cat" is easy to *see* and easy to be fooled by. A test that
# does not rely on the eye (**region perturbation**, Samek et al. 2017): grey out the
# 20 % most salient 28×28 squares and, separately, the 20 % least salient ones. If the map
# points at what the decision uses, the first must hurt the class probability far more.

# %%
rows, occluded, titles = [], [], []
for n in photo_names:
    x, y = photos[n], label[n]
    most = visualise.occlude(x, maps[n][None], fraction=0.2, block=28, most=True)
    least = visualise.occlude(x, maps[n][None], fraction=0.2, block=28, most=False)
    with torch.no_grad():
        p = [float(torch.softmax(model(im), 1)[0, y]) for im in (x, most, least)]
    rows.append((n, *p, float(visualise.saliency_mass(maps[n], 0.1))))
    occluded += [most, least]
    titles += [f"{n}, most salient greyed\np = {p[1]:.3f}", f"{n}, least salient greyed\np = {p[2]:.3f}"]
print(f"{'photo':<10} {'p(class)':>8} {'most salient greyed':>20} {'least salient greyed':>21} {'mass in top 10 %':>17}")
for n, p0, pm, pl, mass in rows:
    print(f"{n:<10} {p0:8.3f} {pm:20.3f} {pl:21.3f} {mass:17.2f}")
if model.pretrained:  # the trained network's maps point at what it uses: greying them costs much more
    assert all(pm < 0.5 * pl for _, _, pm, pl, _ in rows), rows
viz.show_images(occluded, titles=titles, ncols=6, size=2.4, suptitle=f"Region perturbation of the saliency maps ({drawn_by(saliency)}) — {WHO}");

# %% [markdown]
# ## 2 · Class visualisation: what image maximises a class score?
#
# Turn the question around: start from grey and change the *pixels* to raise one class
# score. Plain ascent on $s_y$ finds high-frequency patterns no photograph contains (the
# network has never been asked about such images). Simonyan et al. add an L2 penalty; we
# minimise
#
# $$L(x) = -\,s_y(x) + \lambda \,\lVert x - \tfrac12 \rVert_2^2$$
#
# ($\tfrac12$: mid-grey, close to ImageNet's mean colour) and, following Yosinski et al.,
# shift the image by a random offset of up to 12 px before each step (**jitter**: a pattern
# must work wherever it lands) and blur it a little every 5 steps (a prior against the
# highest frequencies). The optimiser is Adam on the pixels, through the course's one
# image-optimisation loop (`stylelab.features.optim.minimise_image`, met again in notebook 02).
#
# ### Exercise 01b.class_loss — write the loss that the ascent minimises
#
# `my_class_loss(model, image, target, l2)` returns the scalar $L$ above, summed over the
# images of the batch (`target` is a `(B,)` tensor). The pictures below are optimised
# with your loss.

# %%
def my_class_loss(model, image, target, l2):
    raise NotImplementedError  # your code here


class_loss = use("01b.class_loss", my_class_loss)

# %%
vis_size = course.pick(full=160, fast=64)
vis_steps = course.pick(full=150, fast=10)
vis_names = ["tarantula", "goldfish", "alp"]
vis_targets = [classes.index(c) for c in vis_names]
visuals, hist = visualise.class_visualisation(model, vis_targets, size=vis_size, steps=vis_steps, loss=class_loss)
p_vis = torch.softmax(model(visuals), 1).detach()
got = [float(p_vis[i, t]) for i, t in enumerate(vis_targets)]
print("p(target) of each visualisation:", ", ".join(f"{c} {q:.3f}" for c, q in zip(vis_names, got)))
print(f"mean target score: {hist['score'][0]:.1f} after {min(5, vis_steps)} steps → {hist['score'][-1]:.1f} after {vis_steps}")
if model.pretrained:  # the ascent raised the scores; in full mode the network sees each class in its picture
    assert hist["score"][-1] > hist["score"][0], hist["score"]
    assert course.FAST or min(got) > 0.9, got
else:  # a random SqueezeNet's final ReLU is mostly zero: no score, no gradient, nothing to ascend
    print("random weights: the scores hardly move, so these pictures show nothing about any class")
viz.show_images(list(visuals), titles=[f"{c} (p = {q:.2f})" for c, q in zip(vis_names, got)], size=3.2,
                suptitle=f"Class visualisations (loss: {drawn_by(class_loss)}) — {WHO}");

# %% [markdown]
# Are jitter and blur needed? The same ascent without them (and with the same loss):

# %%
plain, _ = visualise.class_visualisation(model, vis_targets[1:2], size=vis_size, steps=vis_steps, loss=class_loss,
                                         jitter=0, blur_every=vis_steps + 1)
tv_plain, tv_reg = float(losses.total_variation(plain)), float(losses.total_variation(visuals[1:2]))
p_plain = float(torch.softmax(model(plain), 1)[0, vis_targets[1]])
print(f"total variation: without jitter/blur {tv_plain:.4f}, with {tv_reg:.4f} ({tv_plain / tv_reg:.0f}×); "
      f"p({vis_names[1]}) without: {p_plain:.3f}")
if model.pretrained and not course.FAST:  # both are "goldfish" to the network; only one has large-scale structure
    assert tv_plain > 5 * tv_reg and p_plain > 0.9, (tv_plain, tv_reg, p_plain)
viz.show_images([plain[0], visuals[1]], size=3.2,
                titles=[f"no jitter, no blur: p = {p_plain:.2f}, TV {tv_plain:.3f}", f"jitter + blur: p = {got[1]:.2f}, TV {tv_reg:.3f}"],
                suptitle=f"'{vis_names[1]}' (loss: {drawn_by(class_loss)}) — {WHO}");

# %% [markdown]
# Both images are goldfish with near certainty *to the network* (the numbers above); only the
# regularised one has structure at a scale we can read — its total variation is many times
# smaller. The network's decision does not need that structure: a first hint of the fooling
# images in section 4.
#
# ## 3 · Feature inversion: what does each layer keep?
#
# Take the photo's features $\Phi_0 = \Phi_l(x_0)$ at layer $l$ and look for *any* image
# with the same features, starting from noise (Mahendran & Vedaldi 2015):
#
# $$x^\star = \arg\min_x \; \frac{\lVert \Phi_l(x) - \Phi_0 \rVert^2}{\lVert \Phi_0 \rVert^2} \;+\; \lambda_{TV}\, \mathrm{TV}(x).$$
#
# Dividing by $\lVert\Phi_0\rVert^2$ makes the loss comparable across layers whose
# activations differ by orders of magnitude: 1 means "as far as all-zero features". The
# total-variation prior $\mathrm{TV}(x) = \sum (\Delta_x x)^2 + (\Delta_y x)^2$ (squared
# differences of neighbours, `stylelab.features.losses.total_variation`) picks, among the many
# images with those features, a smooth one. Whatever the inversion gets right, the layer
# kept; whatever differs from the photo, the layer discarded.
#
# ### Exercise 01b.inversion_loss — write the normalised feature loss
#
# `my_inversion_loss(features, target)`: the squared error summed over everything,
# divided by the squared norm of `target`. The inversions below minimise your loss.

# %%
def my_inversion_loss(features, target):
    raise NotImplementedError  # your code here


inversion_loss = use("01b.inversion_loss", my_inversion_loss)

# %%
inv_size = course.pick(full=128, fast=48)
inv_steps = course.pick(full=200, fast=12)
inv_layers = ["relu1", "fire3", "fire5", "fire7", "fire9"]  # from the first convolution to the last fire module
x0 = data.load("chelsea", size=inv_size)
start = (0.4 + 0.2 * torch.rand(x0.shape, generator=torch.Generator().manual_seed(0))).to(x0.device)
inverted, inv_rows = {}, []
for layer in inv_layers:
    phi = lambda image, layer=layer: encoders.squeezenet_features(net, image, layer)[layer]  # noqa: E731
    target = phi(x0).detach()
    img, h = visualise.invert(phi, target, start, steps=inv_steps, loss=inversion_loss)
    inverted[layer] = img
    rms = float((img.cpu() - x0.cpu()).pow(2).mean().sqrt())
    colour = float((img.cpu().mean((2, 3)) - x0.cpu().mean((2, 3))).abs().max())
    inv_rows.append((layer, h["features"][0], h["features"][-1], rms, colour))
print(f"{'layer':<6} {'feature loss: start':>20} {'end':>7} {'pixel RMS error':>16} {'mean-colour error':>18}")
for layer, f0, f1, rms, colour in inv_rows:
    print(f"{layer:<6} {f0:20.3f} {f1:7.3f} {rms:16.3f} {colour:18.3f}")
lowered = course.pick(full=0.5, fast=1.0)  # the optimisation lowers every feature loss (any weights; fast: a few steps)
assert all(f1 < lowered * f0 for _, f0, f1, _, _ in inv_rows), inv_rows
if model.pretrained and not course.FAST:  # shallow layers keep the photo; from fire5 on the colour is lost
    assert inv_rows[0][3] < 0.1 * inv_rows[-1][3], inv_rows  # pixel error: relu1 vs fire9
    assert all(inv_rows[0][4] < 0.1 * row[4] for row in inv_rows[2:]), inv_rows  # mean colour: relu1 vs fire5…fire9
viz.show_images([x0] + list(inverted.values()), titles=["photo"] + [f"from {l}" for l in inv_layers], ncols=6,
                size=2.4, suptitle=f"Inverting the features of one layer (loss: {drawn_by(inversion_loss)}) — {WHO}");

# %% [markdown]
# The first layers are nearly invertible: a few hundred steps rebuild the photo (the
# table's pixel error at `relu1`). From the middle of the network on, the mean colour is
# lost (the table's last column), and the deepest fire modules keep little that a pixel
# comparison can see. Look for the cat's eyes in each inversion: up to which layer are they
# where they were? That is the property Gatys' content loss relies on when it uses a middle
# layer — deep enough to forgive changes of colour and texture, shallow enough to keep the layout.
#
# ## 4 · A fooling image
#
# The class visualisations showed that the network is sure of a class on images that look
# like nothing. The converse: push a *photo* towards another class with small normalised
# gradient steps on that class's score,
#
# $$x \leftarrow \mathrm{clip}_{[0,1]}\Big(x + \eta\,\frac{g}{\lVert g\rVert_2}\Big), \qquad g = \frac{\partial s_{t}}{\partial x},$$
#
# and stop as soon as the network's top class is the target $t$.
#
# ### Exercise 01b.fooling_step — write one step
#
# `my_fooling_step(model, image, target, lr)` returns the new images (no clipping: the
# loop does it), detached from the graph; the norm is taken **per image**. The fooling
# image below is made with your step.

# %%
def my_fooling_step(model, image, target, lr):
    raise NotImplementedError  # your code here


fooling_step = use("01b.fooling_step", my_fooling_step)

# %%
fool_target = classes.index("goldfish")
cat = photos["chelsea"]
fooled = visualise.fooling_image(model, cat, fool_target, lr=0.1, max_steps=course.pick(full=100, fast=40),
                                 step=fooling_step)
delta = fooled.image.cpu() - cat.cpu()  # the fooling image lives on the model's device (a GPU, if any)
rms = float(delta.pow(2).mean().sqrt())
p_after = float(torch.softmax(model(fooled.image), 1)[0, fool_target])
print(f"{classes[fooled.before]} → {classes[fooled.after]} after {fooled.steps} steps "
      f"(p(goldfish) = {p_after:.2f}); fooled: {fooled.fooled}")
print(f"perturbation: L∞ = {fooled.linf:.4f} = {255 * fooled.linf:.1f}/255, RMS = {255 * rms:.2f}/255 grey levels")
if model.pretrained:  # a change of a few grey levels (RMS under one) turns the cat into a goldfish
    assert fooled.fooled and fooled.linf < 16 / 255 and rms < 1 / 255, (fooled.steps, fooled.linf, rms)
elif not fooled.fooled:
    print("The random network was not fooled within the step budget: its scores hardly depend on the image.")
amplified = (0.5 + delta / (2 * delta.abs().max().clamp_min(1e-12))).clamp(0, 1)
viz.show_images([cat, fooled.image, amplified],
                titles=[f"{classes[fooled.before]}", f"→ {classes[fooled.after]}",
                        f"difference × {0.5 / max(fooled.linf, 1e-12):.0f}"],
                size=3.3, suptitle=f"A fooling image (step: {drawn_by(fooling_step)}) — {WHO}");

# %% [markdown]
# ## What to remember
#
# * Every tool here is a **gradient with respect to the pixels** through a frozen network:
#   of a class score (saliency, class visualisation, fooling images) or of a feature
#   distance (inversion). Gatys' style transfer is the last one with a second, statistical
#   term.
# * A saliency map is a first-order, local explanation; test it (greying the most salient
#   regions must hurt the class far more than the least salient) instead of trusting its look.
# * Maximising a class score alone gives patterns, not objects: the regularisers (L2,
#   jitter, blur) decide what the picture looks like, and the network is equally sure of
#   both versions.
# * Shallow layers keep nearly everything; deep layers keep arrangement, not colour or
#   exact detail — the property content losses rely on.
# * A perturbation of a few grey levels can change the class: the network's decision does
#   not rest on what we see.
#
# ## Questionnaire
#
# 1. Why is the saliency map computed from the score $s_y$ and not the probability $p_y$?
#    What could the gradient of $p_y$ reward that has nothing to do with class $y$?
# 2. Why does one backward pass of $\sum_b s_{y_b}(x_b)$ give every image's saliency in a
#    batch? Which layer type would break this (think of training mode)?
# 3. The region-perturbation test greys squares rather than single pixels. Why would greying
#    the 20 % most salient *pixels* be a weaker test?
# 4. In class visualisation, what does each regulariser (L2 towards grey, jitter, blur)
#    prevent? Which would you drop first on a GPU with many more steps, and why?
# 5. The regularised and unregularised goldfish are both classified with near certainty.
#    What does that say about how much of a class visualisation is the network, and how
#    much is the prior?
# 6. Why divide the inversion loss by $\lVert\Phi_0\rVert^2$? What goes wrong when comparing
#    inversions from several layers without it?
# 7. From which layer would you take the content loss of a style transfer that should keep
#    the layout but repaint the colours? Point to the numbers in the inversion table.
# 8. The fooling image's perturbation is measured in L∞ and RMS. Which one corresponds to
#    "no pixel changed by more than a few grey levels"? Why is a targeted step normalised?
#
# ## Further reading
#
# * Stanford CS231n, assignment 3 "Network Visualization": saliency maps, fooling images and
#   class visualisation on SqueezeNet — the exercises above follow its shape.
# * Olah, Mordvintsev & Schubert, "Feature Visualization", Distill 2017: what regularisers
#   and parameterisations do to class visualisations.
# * Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018: maps that look right
#   on a network whose weights were randomised — compare this notebook's figures with
#   and without trained weights.
# * Goodfellow, Shlens & Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR
#   2015: why small steps suffice (the network is nearly linear in its input).
#
# **Papers.** Simonyan, Vedaldi & Zisserman, "Deep Inside Convolutional Networks:
# Visualising Image Classification Models and Saliency Maps", ICLR workshop 2014 ·
# Yosinski, Clune, Nguyen, Fuchs & Lipson, "Understanding Neural Networks Through Deep
# Visualization", ICML Deep Learning workshop 2015 · Mahendran & Vedaldi, "Understanding
# Deep Image Representations by Inverting Them", CVPR 2015 · Szegedy et al., "Intriguing
# properties of neural networks", ICLR 2014 · Samek, Binder, Montavon, Lapuschkin & Müller,
# "Evaluating the visualization of what a deep neural network has learned", IEEE TNNLS 2017 ·
# Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and
# <0.5MB model size", 2016.
#
# **Next:** [02 · Gatys](02_gatys.ipynb) — optimise an image to match the content *and* the style of two others.
