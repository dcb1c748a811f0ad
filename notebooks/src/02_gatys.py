# %% [markdown]
# # 02 · Gatys: style transfer by optimising pixels
#
# **Before this notebook:** [01 · Gram and MMD](01_gram_mmd.ipynb) (exercises 01.gram and 01.style_layer_loss: the style loss you optimise here) and [01b](01b_what_cnns_learn.ipynb) (feature inversion: the content loss); 00.luminance returns for colour preservation.
#
# **Time:** about 5.1 min (304 s) in full mode on a 2-core laptop (measured with the trained networks installed, README, "Full mode: what a student runs"); under 90 s in fast mode (`STYLELAB_FAST=1`).
#
# **What you will learn**
#
# * how Gatys, Ecker & Bethge turn "content" and "style" into two losses on VGG
#   features, and find an image that balances them by gradient descent *on its pixels*;
# * what each knob does: the content/style weight ratio, which layers are matched,
#   where the optimisation starts, L-BFGS vs Adam;
# * how to keep the content's colours (luminance-only transfer, colour histogram
#   matching), and how a histogram loss compares with the Gram loss;
# * the two special cases: **texture synthesis** (style only) and **feature
#   inversion** (content only, one layer);
# * how stylelab's `paper` and `tutorial` presets differ (the PyTorch tutorial is not
#   the paper), and the same method on SqueezeNet, the small network of Stanford's CS231n.
#
# **Which network draws the figures.** The course's rule (`stylelab.course.feature_network`):
# the paper's normalised VGG-19 when its file is on your machine; else the VGG-16 that
# `make lab` installs offline (ImageNet VGG-16 fine-tuned for edge detection: HED); else
# VGG-19 with random weights, labelled as such. The banner below says which one ran; every
# figure title names it, and every sentence below about what a *trained* network does is
# checked by an `assert` on the numbers of the figure when a trained network drew it.

# %%
import time

import matplotlib.pyplot as plt
import torch

from stylelab.features import colour, losses, optim, stats
from stylelab import course, viz, weights
from stylelab.media import data
from stylelab.nets import encoders
from stylelab.course.exercises import drawn_by, use
from stylelab.methods import gatys

torch.manual_seed(0)
# Full mode is sized for a 2-core laptop CPU (under 6 min for the whole notebook): 128 px
# and 40–80 loss evaluations per run. On a GPU try size=512 and steps=500 (the paper's scale).
size = course.pick(full=128, fast=32)
steps = course.pick(full=40, fast=6)  # per experiment below
inv_steps = course.pick(full=80, fast=6)  # feature inversions start from noise: they need more
main_steps = course.pick(full=80, fast=6)  # for the first result, built from your own loss and closure
content_name, style_name = "chelsea", data.names("style_art")[0]
content = data.load(content_name, size=size)
style = data.load(style_name, size=size)

encoder = course.feature_network("relu5_1", pooling="avg")  # the course's rule (see above); Gatys: average pooling
course.weights_banner(encoder)
net, trained = encoder.tag, encoder.pretrained  # figure titles say `net`; claims are checked when `trained`
# The paper's layers; in the fast (CI) mode a shallower set keeps the run short on a CPU. The
# preset follows the network: VGG-16's features are not rescaled like the paper's VGG-19, so its β differs.
cfg = gatys.preset(
    "vgg16" if encoder.arch == "vgg16" else "paper",
    content_layers=course.pick(full={"relu4_2": 1.0}, fast={"relu3_1": 1.0}),
    style_layers=course.pick(full=list(gatys.PAPER_STYLE_LAYERS), fast=["relu1_1", "relu2_1", "relu3_1"]),
    steps=steps,
)
viz.show_images([content, style], titles=[f"content: {content_name}", f"style: {style_name}"], size=3);

# %% [markdown]
# ## The idea in pictures
#
# Push an image through a trained VGG. Deep layers respond to *what* is where (an ear, an
# eye, the outline of the cat); their exact values describe the **content** (the feature
# inversions below measure it). The
# Gram matrices of notebook 01 throw positions away and describe the **style**.
# Gatys et al. start from some image $x$ and change its pixels until its deep features
# look like the content's and its Gram matrices look like the style's.
#
# ## The equations
#
# With $F^l(x)$ the features of layer $l$ ($C_l$ channels, $M_l$ positions), $P^l$
# those of the content image and $A^l$ the Gram matrix of the style image:
#
# $$\mathcal{L}_\text{content} = \tfrac12 \sum_{ij} \big(F^l_{ij}(x) - P^l_{ij}\big)^2, \qquad
# E_l = \frac{1}{4C_l^2M_l^2}\sum_{ij}\big(G^l_{ij}(x) - A^l_{ij}\big)^2,$$
#
# $$\mathcal{L}(x) = \alpha\,\mathcal{L}_\text{content} + \beta \sum_l w_l E_l \;(+\;\gamma\,\mathrm{TV}(x)).$$
#
# The paper uses `relu4_2` for content, `relu1_1 … relu5_1` with $w_l = 1/5$ for
# style, average pooling and L-BFGS from white noise, and **several ratios**
# $\alpha/\beta$: $10^{-3}$ or $10^{-4}$ for the examples (Gatys et al., CVPR 2016, Fig. 3)
# and a range of ratios in the trade-off figure (Fig. 4). `gatys.preset("paper")`
# takes $\alpha/\beta = 10^{-3}$. Its VGG-19 was *normalised*: every filter rescaled so
# its mean activation over ImageNet is one. The offline VGG-16 is used as trained, so its
# shallow layers' Gram terms are about $10^4$ times larger; `gatys.preset("vgg16")` is the
# same method with $\beta = 10$ instead of $10^3$ (the *ratio* depends on the features' scale). One forward pass gives every layer; the targets
# $P^l, A^l$ are computed once.

# %% [markdown]
# ### Exercise 02.gatys_loss — write the loss
#
# `feats` holds the features $F^l$ of the image being optimised (a dictionary
# `{layer: (1, C, H, W)}`), `content_targets` the content's $P^l$ for the content
# layers, and `style_targets` the style's Gram matrices already divided by their
# number of positions, $A^l/M$ (`(1, C, C)`, what `losses.gram_target` returns). Return
# $\alpha\,\mathcal{L}_\text{content} + \beta\,\frac{1}{L}\sum_l E_l$ with equal
# weights $w_l = 1/L$ over the $L$ style layers, where the Gram matrix of the image is
# divided by its own $M$ too (so $E_l = \lVert G/M - A/M\rVert_F^2 / (4C^2)$, the paper's
# $E_l$ when the sizes agree). The next figure is optimised with your function.

# %%
def my_gatys_loss(feats, content_targets, style_targets, alpha, beta):
    raise NotImplementedError  # your code here


gatys_loss = use("02.gatys_loss", my_gatys_loss)

# %% [markdown]
# ### Exercise 02.closure — write the L-BFGS closure
#
# L-BFGS evaluates the loss several times per step (its line search), so PyTorch asks
# for a *closure*: a function without arguments that re-evaluates the loss and its
# gradient. Write `make_closure(optimizer, x, loss_fn)` returning such a function:
# keep the pixels in $[0, 1]$ (clamp `x` in place, without recording the operation for
# autograd), clear the gradients left from the previous evaluation, evaluate
# `loss_fn(x)`, backpropagate, return the loss. The library runs the same closure in
# every optimisation in stylelab (`gatys.run`, DPST).

# %%
def my_make_closure(optimizer, x, loss_fn):
    raise NotImplementedError  # your code here


make_closure = use("02.closure", my_make_closure)

# %% [markdown]
# Now the whole method in a dozen lines, with *your* loss and closure (or the
# library's, as the cells above said): compute the targets once, then let L-BFGS
# change the pixels.

# %%
layers = cfg.layers
with torch.no_grad():
    content_targets = encoder(content, layers=list(cfg.content_layers))
    style_targets = {l: losses.gram_target(f) for l, f in encoder(style, layers=list(cfg.style_layers)).items()}


def optimise_pixels(loss_of_features, start, n_evaluations, features=None):
    """L-BFGS on the pixels of `start`; returns the image and the loss at every evaluation.
    `features(image)` gives the feature dictionary (default: the encoder's at `layers`)."""
    features = features or (lambda image: encoder(image, layers=layers))
    x = start.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x], max_iter=n_evaluations, max_eval=n_evaluations, history_size=50,
                            line_search_fn="strong_wolfe")
    history = []

    def loss_fn(image):
        loss = loss_of_features(features(image))
        history.append(float(loss.detach()))  # detached: float() of a tensor that requires grad warns
        return loss

    opt.step(make_closure(opt, x, loss_fn))
    return x.detach().clamp(0, 1), history


paper_objective = lambda f: gatys_loss(f, content_targets, style_targets, cfg.content_weight, cfg.style_weight)  # noqa: E731
# the same number as the library's GatysObjective for this configuration, at the start image:
with torch.no_grad():
    start_loss = float(paper_objective(encoder(content, layers=layers)))
    assert abs(start_loss - float(gatys.GatysObjective(encoder, cfg, content, style)(content)[0])) <= 1e-4 * start_loss
t0 = time.perf_counter()
first_image, first_history = optimise_pixels(paper_objective, content, main_steps)
vgg_seconds = (time.perf_counter() - t0) / len(first_history)  # per evaluation, for the SqueezeNet comparison below
assert first_history[-1] < first_history[0]
fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
for ax, img, t in zip(axes, [content, style, first_image], ["content", "style", f"result on {net} ({len(first_history)} evaluations, closure: {drawn_by(make_closure)})"]):
    ax.imshow(viz.to_numpy_image(img))
    ax.set_title(t)
    ax.axis("off")
viz.plot_curves({"total loss": first_history}, xlabel="evaluation", ax=axes[3])
axes[3].set_title(f"loss ({drawn_by(gatys_loss)}), minimised");

# %% [markdown]
# ## The content/style trade-off
#
# Only the ratio $\beta/\alpha$ matters (scaling both scales the loss, not its
# minimiser — L-BFGS is nearly scale-free). Small ratios keep the photo, large ones
# paint over it. The numbers depend on the loss normalisation and on the network's
# feature scale: the PyTorch tutorial needs $\beta/\alpha = 10^6$ for a similar balance
# because its Gram matrices are divided by $C\cdot M$ and averaged; VGG-16's unrescaled
# features need $10^{2}$ times less than the paper's VGG-19. Below: the preset's ratio,
# 100 times less and 100 times more, each from the content; the style loss of each
# result is measured with the same (unweighted) Gram loss.

# %%
base = cfg.style_weight
ratios = [base / 100, base, base * 100]  # the middle one is the preset's (the paper's examples: α/β = 10⁻³ or 10⁻⁴)
grid = {r: gatys.run(content, style, cfg, encoder=encoder, style_weight=r, init="content", progress=False) for r in ratios}
for r, res in grid.items():
    assert res.loss < res.history["total"][0], r
style_of = lambda img: float(gatys.GatysObjective(encoder, cfg.replace(style_weight=1.0, content_weight=0.0), content, style)(img)[1]["style"])  # noqa: E731
content_of = lambda img: float(gatys.GatysObjective(encoder, cfg.replace(style_weight=0.0, content_weight=1.0), content, style)(img)[1]["content"])  # noqa: E731
with torch.no_grad():
    trade = {r: (style_of(g.image), content_of(g.image)) for r, g in grid.items()}
for r, (s_, c_) in trade.items():
    print(f"β/α = {r:.0e}: style loss {s_:.3g}, content loss {c_:.3g}")
viz.show_images([content, *[g.image for g in grid.values()]], titles=["content", *[f"{net}: β/α = {r:.0e}" for r in ratios]], size=2.8)
if not course.is_fast():  # at the default settings: more β, less style loss and more content loss (6 steps: too few)
    assert trade[ratios[0]][0] > trade[ratios[1]][0] > trade[ratios[2]][0]
    assert trade[ratios[0]][1] < trade[ratios[1]][1] < trade[ratios[2]][1]

# %% [markdown]
# ## Which layers? Feature inversion tells what a layer keeps
#
# Match the features of **one** layer of the content image, starting from noise, with
# no style term: the result shows what that layer remembers (Mahendran & Vedaldi,
# 2015; Fig. 1 of Gatys et al.). On a trained network, shallow layers keep the pixels
# almost exactly; deeper layers keep the arrangement of objects but not their exact
# colours and textures — which is why the *content* is matched deep (`relu4_2`) and the
# *style* at many depths. Two numbers measure it for each inversion: the **colour error**
# (RMS difference of the chrominance, the I and Q channels of YIQ, from the content's) and
# the **layout** (correlation of the blurred edge map with the content's, against the same
# with the content mirrored left–right: the same edges in other places).
#
# Measured on VGG-16 at the default settings: `relu1_1` gives the photo back (colour error
# ≈ 0.06, layout ≈ 0.9); `relu3_1` keeps the cat's layout (eyes and ears in place: layout
# ≈ 0.3 against ≈ 0.2 mirrored) while its colour error triples; `relu5_1` after 80
# evaluations from noise keeps neither — colours as far off as the noise's, and no layout
# yet: the deepest inversions need hundreds of evaluations and an image prior (Mahendran &
# Vedaldi add one). The asserts below hold these statements to the figure.

# %%
inv_layers = course.pick(full=["relu1_1", "relu3_1", "relu5_1"], fast=["relu1_1", "relu3_1"])
inversions = {l: gatys.invert(content, l, cfg, encoder=encoder, steps=inv_steps, progress=False) for l in inv_layers}
for l, res in inversions.items():
    assert res.loss < res.history["content"][0], l


def colour_error(image):
    """RMS difference of the I and Q (chrominance) channels from the content's."""
    return float((colour.rgb_to_yiq(image)[:, 1:] - colour.rgb_to_yiq(content)[:, 1:]).pow(2).mean().sqrt())


def edge_map(image, blur=8):
    y = colour.luminance(image)
    g = ((y[..., :-1, 1:] - y[..., :-1, :-1]) ** 2 + (y[..., 1:, :-1] - y[..., :-1, :-1]) ** 2).sqrt()
    return torch.nn.functional.avg_pool2d(g, blur).flatten()


def layout(image, reference):
    """Correlation of the blurred edge maps of image and reference."""
    return float(torch.corrcoef(torch.stack([edge_map(image), edge_map(reference)]))[0, 1])


noise = gatys.noise_like(content, 1)
measured = {l: (colour_error(r.image), layout(r.image, content), layout(r.image, content.flip(-1)))
            for l, r in inversions.items()}
print(f"{'':<16} colour error   layout: content   layout: mirrored content")
for l, (ce, lc, lm) in {**measured, "noise": (colour_error(noise), layout(noise, content), layout(noise, content.flip(-1)))}.items():
    print(f"{l:<16} {ce:12.3f} {lc:17.2f} {lm:26.2f}")
viz.show_images([content, *[r.image for r in inversions.values()]],
                titles=["content", *[f"{net}: inverted {l}" for l in inv_layers]], size=2.5)
if trained and not course.is_fast():
    shallow, middle, deep = (measured[l] for l in ("relu1_1", "relu3_1", "relu5_1"))
    assert shallow[0] < 0.1 and shallow[1] > 0.8  # relu1_1: the photo back
    assert middle[0] > 2 * shallow[0] and middle[1] > middle[2] + 0.05  # relu3_1: colours lost, layout kept
    assert deep[0] > 0.9 * colour_error(noise)  # relu5_1: colours as far off as noise's

# %% [markdown]
# The same experiment on the style side: match only the first style layer, or all of
# them. With one shallow layer only colours and fine grain transfer; deeper layers add
# larger structures.

# %%
style_sets = {"relu1_1 only": ["relu1_1"], "all style layers": list(cfg.style_layers)}
by_layers = {k: gatys.run(content, style, cfg, encoder=encoder, style_layers=v, init="content", progress=False)
             for k, v in style_sets.items()}
viz.show_images([style, *[r.image for r in by_layers.values()]], titles=["style", *[f"{net}: {k}" for k in style_sets]], size=2.8);

# %% [markdown]
# ## Where to start
#
# The loss is not convex: the start image decides which minimum you reach. From the
# content the photo's structure survives best; from white noise (the paper's choice)
# every run is different, so stylelab seeds the noise (`seed=`) for reproducibility;
# from the style the content has to fight its way in.

# %%
starts = {init: gatys.run(content, style, cfg, encoder=encoder, init=init, seed=0, progress=False)
          for init in ("content", "noise", "style")}
# same seed, same result (checked on two short runs):
twice = [gatys.run(content, style, cfg, encoder=encoder, init="noise", seed=0, steps=3, progress=False).image for _ in range(2)]
assert torch.equal(twice[0], twice[1])
viz.show_images([r.image for r in starts.values()], titles=[f"{net}, start: {k}" for k in starts], size=2.8);

# %% [markdown]
# ## Keeping the content's colours
#
# Style transfer copies the style's palette along with its brush strokes. Gatys et
# al. (2016, "Preserving Color in Neural Artistic Style Transfer") give two fixes:
#
# 1. **luminance-only transfer** — run the optimisation on luminance images and
#    put the content's colour channels back: in YIQ, $Y$ from the result, $I, Q$ from
#    the content. The style's luminance is first given the content's mean and spread.
# 2. **colour histogram matching** — recolour the *style* image with an affine colour
#    map so its mean colour and colour covariance equal the content's, then transfer.

# %%
lum = gatys.run(content, style, cfg, encoder=encoder, init="content", preserve_colour="luminance", progress=False)
hist = gatys.run(content, style, cfg, encoder=encoder, init="content", preserve_colour="histogram", progress=False)
inside = ((lum.image > 0) & (lum.image < 1)).all(1, keepdim=True).expand(-1, 2, -1, -1)
iq_out, iq_content = colour.rgb_to_yiq(lum.image)[:, 1:], colour.rgb_to_yiq(content)[:, 1:]
assert torch.allclose(iq_out[inside], iq_content[inside], atol=1e-4)  # chrominance kept where RGB stayed in range
viz.show_images([grid[base].image, lum.image, colour.match_colour(style, content), hist.image],
                titles=[f"{net}: plain", "luminance only", "style recoloured", "histogram matching"], size=2.6);

# %% [markdown]
# ## Adding a histogram loss to the Gram loss
#
# Two feature distributions can share a Gram matrix and still differ (notebook 01):
# the Gram loss fixes second moments, not the shape of each channel's value
# distribution. Risser, Wilmot & Barnes (2017) therefore **add** a histogram loss to
# the Gram loss: match each channel's histogram exactly (by sorting, exercise
# 02.match_histogram below), and pull the features towards that matched version,
# $\mathcal{L}_\text{hist} = \sum_l \lVert O^l - R(O^l)\rVert^2$ with $R$ the
# histogram matching, at `relu1_1` and `relu4_1`. Below, your loss plus this term
# (weighted so both are equal at the start), optimised with your closure, against the
# Gram loss alone with the same number of evaluations.

# %%
hist_layers = [l for l in ("relu1_1", "relu4_1") if l in cfg.style_layers]
with torch.no_grad():
    hist_targets = {l: losses.histogram_target(f) for l, f in encoder(style, layers=hist_layers).items()}
    start_feats = encoder(content, layers=layers)
    hist_term = lambda f: sum(losses.histogram_loss(f[l], hist_targets[l]) for l in hist_layers)  # noqa: E731
    hist_weight = float(paper_objective(start_feats)) / float(hist_term(start_feats))
risser_image, risser_history = optimise_pixels(lambda f: paper_objective(f) + hist_weight * hist_term(f), content, steps)
gram_only = grid[base].image  # the preset's ratio, the same number of evaluations, from the content
with torch.no_grad():
    fs = {k: encoder(img, layers=layers) for k, img in {"style": style, "Gram": gram_only, "Gram + histogram": risser_image}.items()}
    hist_dist = {k: float(hist_term(fs[k])) for k in ("Gram", "Gram + histogram")}
print("histogram distance to the style at", ", ".join(hist_layers), {k: f"{v:.3g}" for k, v in hist_dist.items()})
assert hist_dist["Gram + histogram"] < hist_dist["Gram"]  # the added term does what it says
ch = int(fs["style"]["relu1_1"][0].mean((1, 2)).argmax())
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
axes[0].imshow(viz.to_numpy_image(gram_only)); axes[0].set_title(f"{net}: Gram loss"); axes[0].axis("off")
axes[1].imshow(viz.to_numpy_image(risser_image)); axes[1].set_title("Gram + histogram loss"); axes[1].axis("off")
for k, f in fs.items():
    axes[2].hist(f["relu1_1"][0, ch].flatten().numpy(), bins=30, histtype="step", density=True, label=k)
axes[2].set_title(f"relu1_1, channel {ch}")
axes[2].legend(fontsize=8)
fig.tight_layout();

# %% [markdown]
# ## Texture synthesis: style only
#
# Drop the content term and start from noise: the optimisation produces a new image
# with the style's statistics — Gatys et al.'s texture synthesis (NeurIPS 2015). It
# can have any size. (Notebook 01 compares it with random filters on a statistic neither
# optimised.)

# %%
texture = gatys.synthesize_texture(style, size=(size, 2 * size), config=cfg, encoder=encoder, progress=False)
assert texture.image.shape[-2:] == (size, 2 * size) and max(texture.history["content"]) == 0
assert texture.loss < texture.history["style"][0]
print(f"style loss from noise: {texture.history['style'][0]:.3g} → {texture.loss:.3g} "
      f"({texture.history['style'][0] / texture.loss:.0f}× lower) in {texture.evaluations} evaluations")
viz.show_images([style, texture.image], titles=["style", f"{net}: synthesised texture (2× wide)"], size=3);

# %% [markdown]
# ## Coarse to fine
#
# Large images take many iterations, and large-scale structure is hard to reach from
# fine-scale gradients. Gatys et al. (CVPR 2017) first solve at low resolution, then
# upsample the result as the start of the next scale (`scales=`).

# %%
small = max(16, size // 2)
multi = gatys.run(content, style, cfg, encoder=encoder, init="content", scales=(small, size), progress=False)
assert multi.evaluations == 2 * cfg.steps and multi.image.shape == content.shape
viz.show_images([grid[base].image, multi.image], titles=[f"{net}: one scale", f"coarse to fine ({small} → {size})"], size=3);

# %% [markdown]
# ## The same method on SqueezeNet: CS231n's choice for a CPU
#
# Stanford's CS231n assignment runs this method on **SqueezeNet 1.1** (Iandola et al.,
# 2016): 1.2 M parameters against VGG-16's 14.7 M, and far fewer operations per pixel,
# so a CPU can afford it. Its layers have other names (`fire2` … `fire9`: "fire" modules
# of a 1×1 squeeze and parallel 1×1/3×3 expand convolutions). The assignment's choice,
# with its weights: content at `fire2` (6·10⁻²), style at `relu1`, `fire3`, `fire4`,
# `fire5` (3·10⁵, 10³, 15, 3 — shallow layers need large weights), Gram matrices divided
# by $C\cdot H\cdot W$, sums of squares. Below it runs with the L-BFGS loop above, for the
# same number of evaluations as the first result, and the time per evaluation is measured
# against the VGG's.

# %%
if weights.is_installed("squeezenet1_1"):
    squeeze = encoders.squeezenet1_1()
    course.weights_banner(squeeze, "SqueezeNet 1.1 (ImageNet, DeepScale)")
    SQ_CONTENT, SQ_STYLE = {"fire2": 6e-2}, {"relu1": 3e5, "fire3": 1e3, "fire4": 15.0, "fire5": 3.0}
    sq_features = lambda image: encoders.squeezenet_features(squeeze, image, [*SQ_CONTENT, *SQ_STYLE])  # noqa: E731
    with torch.no_grad():
        sq_P = sq_features(content)
        sq_A = {l: stats.gram(f, "elements") for l, f in sq_features(style).items() if l in SQ_STYLE}

    def cs231n_loss(f):
        content_term = sum(w * (f[l] - sq_P[l]).pow(2).sum() for l, w in SQ_CONTENT.items())
        return content_term + sum(w * (stats.gram(f[l], "elements") - sq_A[l]).pow(2).sum() for l, w in SQ_STYLE.items())

    t0 = time.perf_counter()
    sq_image, sq_history = optimise_pixels(cs231n_loss, content, main_steps, features=sq_features)
    sq_seconds = (time.perf_counter() - t0) / len(sq_history)
    print(f"per evaluation at {size} px: SqueezeNet {1e3 * sq_seconds:.0f} ms, {net} {1e3 * vgg_seconds:.0f} ms "
          f"({vgg_seconds / sq_seconds:.1f}× faster); loss {sq_history[0]:.3g} → {min(sq_history):.3g}")
    viz.show_images([first_image, sq_image], titles=[f"{net} ({len(first_history)} evaluations)",
                                                    f"SqueezeNet 1.1, CS231n's layers ({len(sq_history)} evaluations)"], size=3)
    assert min(sq_history) < sq_history[0]
    if not course.is_fast():
        assert min(sq_history) < 0.5 * sq_history[0]
        assert sq_seconds < vgg_seconds  # the reason CS231n chose it: cheaper per evaluation (measured above)
else:
    print("SqueezeNet 1.1 is not installed: `stylelab weights download squeezenet1_1` (no model hub needed).")

# %% [markdown]
# ## The paper and the PyTorch tutorial are not the same method
#
# The popular PyTorch tutorial reproduces the *idea* with different settings. The
# `tutorial` preset holds its exact settings, so you can compare (and
# `benchmarks/bench_gatys.py` checks that stylelab computes the same loss as the
# tutorial's code, at least as fast).

# %%
paper, tut = gatys.preset("paper"), gatys.preset("tutorial")
rows = [(f, getattr(paper, f), getattr(tut, f)) for f in paper.__dataclass_fields__ if getattr(paper, f) != getattr(tut, f)]
for f, a, b in rows:
    print(f"{f:<15} paper: {str(a):<45} tutorial: {b}")
assert tut.content_layers == {"conv2_2": 1.0} and tut.style_weight == 1e6

# %% [markdown]
# ## Try it: weights, start, colour — then press Run
#
# Sliders only change settings; the optimisation runs when you press **Run**, with a
# live preview every few evaluations. The explorer starts at ten times the preset's
# β/α (10⁴ for the paper's VGG-19, 10² for VGG-16), from the content — the controls show
# exactly the settings Run uses. The cell after it runs
# the same explorer once without touching the controls (the static figure for readers
# of the rendered notebook).

# %%
from stylelab.course.widgets.gatys import GatysExplorer

explorer = GatysExplorer(content, style, cfg, encoder=encoder, steps=steps, preview_every=max(1, steps // 4),
                         log_ratio=round(torch.tensor(base).log10().item()) + 1.0, init="content")
explorer.widget()

# %%
used = explorer.settings()
res = explorer.run()
assert used == explorer.settings() and res.config.init == used["init"] == "content"
assert abs(res.config.style_weight / res.config.content_weight - 10 ** used["log_ratio"]) < 1e-6 * 10 ** used["log_ratio"]
viz.show_images([res.image], titles=[f"{net} explorer: β/α = 10^{used['log_ratio']:g}, start: {used['init']}, "
                                     f"{res.evaluations} evaluations"], size=3);

# %% [markdown]
# ## Exercises
#
# **02.total_variation** — the squared total variation $\sum (x_{i,j+1}-x_{i,j})^2 + \sum (x_{i+1,j}-x_{i,j})^2$
# of a batch of images `(B, C, H, W)` (a sum, not a mean). Adding $\gamma\,\mathrm{TV}$
# (`tv_weight=`) smooths away high-frequency noise. The run after it adds your TV to
# your loss and optimises again from the content, with your closure.

# %%
def my_total_variation(image):
    raise NotImplementedError  # your code here


total_variation = use("02.total_variation", my_total_variation)

# %%
with torch.no_grad():  # γ chosen so that γ·TV(content) is a tenth of the loss at the start
    tv_weight = 0.1 * start_loss / float(total_variation(content))
tv_image, tv_history = optimise_pixels(
    lambda f: paper_objective(f) + tv_weight * total_variation(f["image"]), content, main_steps,
    features=lambda image: {**encoder(image, layers=layers), "image": image})
assert tv_history[-1] < tv_history[0]
tv_before, tv_after = float(total_variation(first_image)), float(total_variation(tv_image))
viz.show_images([first_image, tv_image],
                titles=[f"{net}: no TV (TV = {tv_before:.3g})", f"+ γ·TV ({drawn_by(total_variation)}), γ = {tv_weight:.3g} (TV = {tv_after:.3g})"],
                size=3);

# %% [markdown]
# **02.match_histogram** — for two 1-D tensors of the same length, give `x` the values
# of `target` while keeping `x`'s ranking (the heart of the histogram loss).

# %%
def my_match_histogram(x, target):
    raise NotImplementedError  # your code here


match_histogram = use("02.match_histogram", my_match_histogram)

# %% [markdown]
# Applied to each colour channel of the content with the style's values of that channel
# (resampled to the content's number of pixels): the content's layout with the style's
# colour histograms, the pixel-space version of the histogram loss.

# %%
def match_channels(image, target):
    out = torch.empty_like(image)
    for ch in range(3):
        x, t = image[0, ch].flatten(), target[0, ch].flatten().sort().values
        t = t[torch.linspace(0, len(t) - 1, len(x)).round().long()]  # the style's quantiles at the content's count
        out[0, ch] = match_histogram(x, t).view_as(image[0, ch])
    return out


matched = match_channels(content, style)
assert torch.allclose(matched[0, 0].flatten().sort().values.mean(), style[0, 0].mean(), atol=0.02)
viz.show_images([content, style, matched], titles=["content", "style", f"style's channel histograms ({drawn_by(match_histogram)})"],
                size=2.6);

# %% [markdown]
# ## What to remember
#
# * Gatys = optimise the pixels: $\alpha\,$content (deep features) $+\;\beta\,$style
#   (Gram matrices at many depths) $[+\;\gamma\,$TV$]$. Only $\beta/\alpha$ matters,
#   and its scale depends on the normalisation convention.
# * Deeper layers keep arrangement but not colour (measured on the inversions: `relu3_1`),
#   shallow layers keep pixels; style layers at several depths capture structure at
#   several scales.
# * The start image (content, seeded noise, style) picks the local minimum.
# * Colours: transfer on luminance only, or recolour the style first.
# * Texture synthesis and feature inversion are the same optimiser with one term removed.
# * It is slow: hundreds of forward/backward passes per image. The next notebook,
#   [02b · Learning to stylise](02b_learning_to_stylise.ipynb), trains a network to
#   minimise this same loss once, over many photos, so that stylising is one forward pass;
#   AdaIN and WCT (03, 04) then drop the per-style training too.
#
# ## Questionnaire
#
# 1. What is optimised in Gatys' method — the network's weights or something else? What
#    stays fixed?
# 2. Why is the content matched at one deep layer and the style at several depths?
#    What did the feature inversions show?
# 3. Only the ratio β/α matters. Why, and why is the "right" ratio 10³–10⁴ in the paper
#    but 10⁶ in the PyTorch tutorial?
# 4. What does the L-BFGS closure do, why must it clear the gradients, and why is it
#    called several times per step?
# 5. The loss is not convex. What changes when you start from the content, from noise
#    or from the style?
# 6. Why does a histogram loss *add* information to the Gram loss? Give two feature
#    distributions with the same Gram matrix and different histograms.
# 7. How do luminance-only transfer and colour histogram matching keep the content's
#    colours, and which one changes the style image instead of the result?
# 8. Why is this method slow, and what do the methods of notebooks 03–04 give up to be fast?
#
# ## Further reading
#
# * Gatys, Ecker & Bethge (CVPR 2016), Fig. 4 (the content–style trade-off) and Fig. 5
#   (the content layer), against the trade-off and layer figures above.
# * Risser, Wilmot & Barnes (2017): why Gram matrices alone are unstable and
#   how the histogram loss fixes it.
# * Gatys et al. (CVPR 2017), "Controlling Perceptual Factors": colour, scale and space.
# * Stanford CS231n assignment 3, "Style Transfer": the same losses written from scratch.
# * `benchmarks/bench_gatys.py`: the tutorial's loss computed next to the paper's.
#
# **Papers.** Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural
# Networks", CVPR 2016 · Gatys, Ecker & Bethge, "Texture Synthesis Using Convolutional
# Neural Networks", NeurIPS 2015 · Gatys, Bethge, Hertzmann & Shechtman, "Preserving
# Color in Neural Artistic Style Transfer", arXiv 2016 · Gatys et al., "Controlling
# Perceptual Factors in Neural Style Transfer", CVPR 2017 · Mahendran & Vedaldi,
# "Understanding Deep Image Representations by Inverting Them", CVPR 2015 · Risser,
# Wilmot & Barnes, "Stable and Controllable Neural Texture Synthesis and Style
# Transfer Using Histogram Losses", arXiv 2017.
#
# **Next:** [02b · Learning to stylise](02b_learning_to_stylise.ipynb) — train a network to do in one pass what this notebook's optimisation does per image.
