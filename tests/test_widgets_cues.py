"""What the explorers say on screen (issue 26): every toggle's state, the values a run used, a "press Run" cue
after a change, no control range that does nothing, magnitudes compared on one colour scale."""

import io
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from stylelab import viz
from stylelab.course.widgets.adain import AdaINExplorer
from stylelab.course.widgets.gatys import TV_OFF, GatysExplorer
from stylelab.course.widgets.labels import LabelEditor
from stylelab.course.widgets.matting import AffinityExplorer
from stylelab.course.widgets.wct import WCTExplorer


def _img(seed, h=16, w=16):
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed))


def test_wct_explorer_asks_for_run_after_a_change_and_greys_out_unused_eps():
    ex = WCTExplorer(_img(0, 10, 10).double(), _img(1, 9, 11).double(), preset="wct2")
    c = ex.controls
    assert c["eps_content"].disabled and c["eps_style"].disabled  # used only while override is on
    c["run"].click()
    assert "relative covariance error" in c["status"].value and "wct2" in c["status"].value
    c["alpha"].value = 0.5
    assert "press Run" in c["status"].value and ex.runs == 1
    c["override"].value = True
    assert not c["eps_content"].disabled
    c["eps_style"].value = 1.26e-3
    c["run"].click()
    assert "0.00126" in c["status"].value  # the ε used, not a rounded "1e-03"
    w, h = Image.open(io.BytesIO(c["output"].value)).size
    assert (w, h) == (80, 80) and "×8" in c["caption"].value  # pixels shown as the output picture, zoom stated


def test_wct_covariances_share_one_colour_scale_with_a_colour_bar():
    ex = WCTExplorer(_img(0, 10, 10).double(), 3 * _img(1, 9, 11).double(), preset="exact", alpha=0.0)
    plt = viz._plt()
    captured = {}
    orig = plt.Figure.colorbar

    def spy(fig, mappable, *a, **k):
        captured["norm"] = (mappable.norm.vmin, mappable.norm.vmax)
        captured["axes"] = k.get("ax")
        return orig(fig, mappable, *a, **k)

    plt.Figure.colorbar = spy
    try:
        ex.render()
    finally:
        plt.Figure.colorbar = orig
    assert len(captured["axes"]) == 3  # one colour bar for the three matrices
    vmax = max(float(m.abs().max()) for m in (ex.style_cov, viz_cov(ex.content), viz_cov(ex.result["output"])))
    assert captured["norm"] == pytest.approx((-vmax, vmax))


def viz_cov(x):
    from stylelab.features import transforms as T
    from stylelab.features import linalg

    return linalg.covariance(x)[0]


def test_gatys_tv_slider_has_one_off_position_and_every_other_step_is_a_weight():
    ex = GatysExplorer(_img(0), _img(1), "paper", steps=5)
    c = ex.controls
    assert c["log_tv"].min == TV_OFF and ex.config().tv_weight == 0 and "TV: off" in c["tv_note"].value
    assert not c["log_tv"].readout  # a "0.00" readout at off read as a weight (seen in the browser); the note says
    weights = []
    for v in np.arange(TV_OFF, c["log_tv"].max + 1e-9, c["log_tv"].step):
        c["log_tv"].value = float(v)
        weights.append(ex.config().tv_weight)
    assert weights[0] == 0 and all(w > 0 for w in weights[1:]) and len(set(weights)) == len(weights)
    assert "log₁₀ TV/α = 8, TV weight" in c["tv_note"].value  # the value used, written out


def test_gatys_explorer_says_changed_press_run_after_a_run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from stylelab.nets.encoders import normalised_vgg19

        enc = normalised_vgg19(weights="random", last_layer="relu2_1", pooling="avg")
    from stylelab.methods import gatys

    cfg = gatys.preset("paper", content_layers={"relu2_1": 1.0}, style_layers=["relu1_1", "relu2_1"])
    ex = GatysExplorer(_img(0), _img(1), cfg, encoder=enc, steps=5, preview_every=5)
    c = ex.controls
    c["run"].click()
    assert c["status"].value.startswith("done") and "TV off" in c["status"].value and "start: noise" in c["status"].value
    enc.tag = "RANDOM VGG-19"  # as stylelab.course.feature_network sets it: the status names the network
    c["run"].click()
    assert c["status"].value.startswith("done on RANDOM VGG-19:")
    c["init"].value = "content"
    assert "changed — press Run" in c["status"].value and ex.runs == 2


def test_adain_style_b_is_greyed_out_while_the_mix_is_zero_and_pixels_are_named():
    ex = AdaINExplorer(_img(0), {"a": _img(1), "b": _img(2)})
    c = ex.controls
    assert c["style_b"].disabled and not c["style_a"].disabled and "pixels" in c["where"].value
    c["run"].click()
    assert "AdaIN on pixels" in c["status"].value and "style: a" in c["status"].value
    c["mix"].value = 0.5
    assert not c["style_b"].disabled and "press Run" in c["status"].value
    c["mix"].value = 1.0
    assert c["style_a"].disabled
    c["run"].click()
    assert "style: b" in c["status"].value


def test_label_editor_cluster_slider_spans_the_clusters_that_exist():
    ed = LabelEditor(_img(0, 24, 24), _img(1, 24, 24), clusters=4, work_size=24)
    c = ed.controls
    assert (c["cluster"].min, c["cluster"].max) == (0, 3)
    c["cluster"].value = 3
    c["clusters"].value = 2
    assert c["cluster"].max == 1 and ed.cluster == 1 and ed.clusters == 2
    c["clusters"].value = 9
    assert c["cluster"].max == 8
    assert ed.assign() > 0  # the selected cluster exists and has pixels


def test_affinity_explorer_states_the_eps_it_used_to_three_digits():
    ex = AffinityExplorer(_img(0, 10, 12), eps=1.26e-7)
    c = ex.controls
    assert "1.26e-07" in c["status"].value
    c["eps"].value = 3.16e-5
    assert "3.16e-05" in c["status"].value and "1.26e-07" in c["status"].value  # asked for, and still shown
    c["run"].click()
    assert c["status"].value == "L built with ε = 3.16e-05"


def test_heatmap_scales_keep_values_on_the_colour_bar():
    m = np.diag([100.0, 1.0, 0.01])
    fig = viz.heatmap(m, "g", symmetric=False, cmap="magma", scale="sqrt")
    viz.figure_to_png_bytes(fig)  # the colour bar draws (its ticks go through the norm's inverse)
    im = fig.axes[0].images[0]
    # on a square-root scale the entry 1 (1 % of the largest) is drawn at 10 % of the colour range, not 1 %
    assert im.norm(1.0) == pytest.approx(0.1, abs=1e-3) and im.norm(100.0) == pytest.approx(1.0)
    fig = viz.heatmap(np.array([[-4.0, 1.0], [1.0, 4.0]]), scale="sqrt")
    viz.figure_to_png_bytes(fig)
    sym = fig.axes[0].images[0]
    assert sym.norm(-4.0) == pytest.approx(0.0) and sym.norm(0.0) == pytest.approx(0.5) and sym.norm(1.0) == pytest.approx(0.75)
    g = np.full((4, 4), 1.0)
    g[0, 0] = 1e4
    fig = viz.heatmap(g, symmetric=False, cmap="magma", scale="log")
    viz.figure_to_png_bytes(fig)
    lg = fig.axes[0].images[0]
    assert lg.norm(1.0) == pytest.approx(0.0) and lg.norm(100.0) == pytest.approx(0.5) and lg.norm(1e4) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="non-negative"):
        viz.heatmap(-g, scale="log")


def test_feature_explorer_gram_draws_for_every_weight_free_layer():
    from stylelab.course.widgets.features import SIMPLE_LAYERS, FeatureExplorer

    ex = FeatureExplorer({"x": _img(6, 20, 24)})
    for layer in SIMPLE_LAYERS:
        ex.layer = layer
        assert ex.render()[:4] == b"\x89PNG"


def test_gatys_mmd_option_is_a_loss_other_than_the_gram():
    ex = GatysExplorer(_img(0), _img(1), "paper", steps=5)
    c = ex.controls
    c["style_loss"].value = "mmd"
    assert ex.config().mmd_kernel == "gaussian" and "gaussian kernel" in c["loss_note"].value
    assert "MMD (gaussian kernel, linear-time estimate)" in ex.describe()  # Li et al.'s estimator: a Run in seconds, not half an hour
