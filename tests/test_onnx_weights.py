"""The "onnx" weights reader on small synthetic ONNX models built with onnx.helper; onnxruntime is the oracle."""

import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from stylelab.weights.onnx_weights import MAGENTA_ARBITRARY_KEYS, MAGENTA_CIN26_KEYS, convert, read_onnx  # noqa: E402


def _model(nodes, inputs, outputs, initializers, opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _ort_run(model, feeds):
    ort = pytest.importorskip("onnxruntime")
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.log_severity_level = 1, 3
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def _qdq_conv_model(rng):
    """x → Conv(W = DQ(W_int8, per-channel scale, zero point), b = DQ(b_int32)) → y; plus a Constant node."""
    w_q = rng.integers(-128, 128, (4, 3, 3, 3)).astype(np.int8)
    w_s = rng.uniform(0.001, 0.02, 4).astype(np.float32)
    w_zp = rng.integers(-5, 5, 4).astype(np.int8)
    b_q = rng.integers(-1000, 1000, 4).astype(np.int32)
    b_s = rng.uniform(1e-5, 1e-4, 4).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((w_q, "conv/weights"), (w_s, "w_scale"), (w_zp, "w_zp"), (b_q, "conv/bias"), (b_s, "b_scale"),
              (np.zeros(4, np.int32), "b_zp"))]
    gamma = rng.normal(size=(2, 4)).astype(np.float32)
    nodes = [
        helper.make_node("Constant", [], ["norm.gamma"], value=numpy_helper.from_array(gamma)),
        helper.make_node("DequantizeLinear", ["conv/weights", "w_scale", "w_zp"], ["w_dq"], axis=0),
        helper.make_node("DequantizeLinear", ["conv/bias", "b_scale", "b_zp"], ["b_dq"], axis=0),
        helper.make_node("Conv", ["x", "w_dq", "b_dq"], ["y"], pads=[1, 1, 1, 1]),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 5, 5])
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("y", "w_dq", "b_dq", "norm.gamma")]
    return _model(nodes, [x], outs, inits), dict(w_q=w_q, w_s=w_s, w_zp=w_zp, b_q=b_q, b_s=b_s, gamma=gamma)


def test_qdq_weights_are_dequantised_as_onnxruntime_does_and_named_after_their_source():
    rng = np.random.default_rng(0)
    model, p = _qdq_conv_model(rng)
    got = read_onnx(model.SerializeToString())
    x = rng.uniform(size=(1, 3, 5, 5)).astype(np.float32)
    y, w_dq, b_dq, gamma = _ort_run(model, {"x": x})
    np.testing.assert_array_equal(got["conv/weights"], w_dq)  # the oracle: onnxruntime's DequantizeLinear
    np.testing.assert_array_equal(got["conv/bias"], b_dq)
    np.testing.assert_array_equal(got["norm.gamma"], gamma)  # a Constant node's value
    manual = (p["w_q"].astype(np.float32) - p["w_zp"][:, None, None, None]) * p["w_s"][:, None, None, None]
    np.testing.assert_allclose(got["conv/weights"], manual, rtol=1e-6)
    assert got["conv/weights"].dtype == np.float32
    # scales and zero points are quantisation parameters, not weights
    assert set(got) == {"conv/weights", "conv/bias", "norm.gamma"}
    # the dequantised weights reproduce the graph's output
    torch = pytest.importorskip("torch")
    ours = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(got["conv/weights"]),
                                      torch.from_numpy(got["conv/bias"]), padding=1)
    np.testing.assert_allclose(ours.numpy(), y, atol=1e-5)


def test_per_tensor_uint8_and_a_quantize_dequantize_pair_on_a_float_weight():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(6, 2)).astype(np.float32)
    u = rng.integers(0, 256, (3, 3)).astype(np.uint8)
    inits = [numpy_helper.from_array(w, "fc/w"), numpy_helper.from_array(np.array(0.02, np.float32), "s"),
             numpy_helper.from_array(np.array(3, np.int8), "zp"), numpy_helper.from_array(u, "table"),
             numpy_helper.from_array(np.array(0.5, np.float32), "s2"), numpy_helper.from_array(np.array(128, np.uint8), "zp2")]
    nodes = [helper.make_node("QuantizeLinear", ["fc/w", "s", "zp"], ["w_q"]),
             helper.make_node("DequantizeLinear", ["w_q", "s", "zp"], ["w_dq"]),
             helper.make_node("DequantizeLinear", ["table", "s2", "zp2"], ["t_dq"])]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("w_dq", "t_dq")]
    model = _model(nodes, [], outs, inits)
    got = read_onnx(model.SerializeToString())
    w_dq, t_dq = _ort_run(model, {})
    np.testing.assert_array_equal(got["fc/w"], w_dq)  # the rounded weight, under the float weight's name
    assert not np.array_equal(got["fc/w"], w)  # (rounding happened)
    np.testing.assert_array_equal(got["table"], t_dq)
    np.testing.assert_array_equal(got["table"], (u.astype(np.float32) - 128) * 0.5)
    assert set(got) == {"fc/w", "table"}


def test_activation_quantisation_is_not_a_weight_and_plain_initializers_pass_through():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    inits = [numpy_helper.from_array(np.array(0.1, np.float32), "act_s"),
             numpy_helper.from_array(np.array(0, np.int8), "act_zp"),
             numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "plain"),
             numpy_helper.from_array(np.array([1, 2], np.int64), "shape")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "act_s", "act_zp"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "act_s", "act_zp"], ["xd"])]
    model = _model(nodes, [x], [helper.make_tensor_value_info("xd", TensorProto.FLOAT, [2])], inits)
    got = read_onnx(model.SerializeToString())
    assert set(got) == {"plain", "shape"}
    np.testing.assert_array_equal(got["plain"], np.arange(6).reshape(2, 3))
    assert got["shape"].dtype == np.int64


def test_reading_runs_nothing_and_refuses_external_data(tmp_path):
    """Reading parses protobuf only: an operator no runtime knows is read past, onnxruntime is never imported,
    and a tensor pointing at another file is refused instead of opened."""
    w = numpy_helper.from_array(np.ones((2, 2), np.float32), "w")
    node = helper.make_node("RunMe", ["w"], ["y"], domain="evil.example")
    model = helper.make_model(helper.make_graph([node], "g", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                                                initializer=[w]),
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("evil.example", 1)])
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    code = ("import sys; from stylelab.weights.onnx_weights import read_onnx; "
            f"a = read_onnx({str(path)!r}); assert list(a) == ['w'], a; "
            "assert 'onnxruntime' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr

    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(4, dtype=np.float32).tobytes())
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4])
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value="secret.bin")
    ext = helper.make_model(helper.make_graph([], "g", [], [], initializer=[t]))
    (tmp_path / "ext.onnx").write_bytes(ext.SerializeToString())
    with pytest.raises(ValueError, match="external data"):
        read_onnx(tmp_path / "ext.onnx")


def test_bad_input_says_what_is_wrong(tmp_path):
    with pytest.raises(ValueError, match="not an ONNX model|holds no ONNX graph"):
        read_onnx(b"\x00\xffthis is not protobuf\x00" * 10)
    with pytest.raises(TypeError, match="bytes or a path"):
        read_onnx(12)
    # one constant dequantised to two different tensors is ambiguous
    inits = [numpy_helper.from_array(np.array([1, 2], np.int8), "q"),
             numpy_helper.from_array(np.array(0.5, np.float32), "s1"),
             numpy_helper.from_array(np.array(0.25, np.float32), "s2")]
    nodes = [helper.make_node("DequantizeLinear", ["q", "s1"], ["a"]), helper.make_node("DequantizeLinear", ["q", "s2"], ["b"])]
    model = _model(nodes, [], [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in "ab"], inits)
    with pytest.raises(ValueError, match="two different"):
        read_onnx(model.SerializeToString())


def test_convert_renames_reshapes_linear_weights_and_names_missing_tensors():
    arrays = {"a/weights": np.ones((3, 5, 1, 1), np.float32), "b": np.zeros(3, np.float64), "extra": np.ones(2)}
    out = convert(arrays, {"a/weights": "n.gamma.weight", "b": "n.gamma.bias"})
    assert out["n.gamma.weight"].shape == (3, 5) and out["n.gamma.bias"].dtype == np.float32
    assert set(out) == {"n.gamma.weight", "n.gamma.bias"}
    with pytest.raises(ValueError, match="missing"):
        convert(arrays, {"nope": "x"})


def test_key_maps_are_one_to_one():
    for keys in (MAGENTA_CIN26_KEYS, MAGENTA_ARBITRARY_KEYS):
        assert len(set(keys.values())) == len(keys)
