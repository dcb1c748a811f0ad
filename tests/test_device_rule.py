"""The device rule (stylelab.device), checked without a GPU.

A cell written on a CPU must run unchanged on CUDA: models are placed by
``get_device``, inputs follow the model, figures and files accept any device.
A CPU-only machine has one device, so :func:`second_device` makes another:
a tensor moved or created on it is an :class:`Elsewhere` — CPU data that
reports another device — and any operation mixing it with a plain CPU tensor
raises the error CUDA raises ("Expected all tensors to be on the same
device"). ``get_device()`` picks that device, as it picks CUDA on a GPU
machine, so the cells that fail there fail here (checked: on the code before
the rule, AdaIN.from_official() + CPU images fails in this harness exactly as
on a GPU).

The second device is *labelled* "meta" because torch's meta device has a
no-op device guard (a tensor labelled "cuda" makes torch initialise CUDA);
its data are real, so results are compared with the CPU's, bit for bit.
"""

from __future__ import annotations

import contextlib
import copy
import warnings

import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_map

import stylelab
from stylelab import device as D

OTHER = torch.device("meta")


def _other(d) -> bool:
    return d is not None and torch.device(d).type == OTHER.type


def _mismatch(where) -> RuntimeError:
    return RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                        f"{OTHER} and cpu! (second device, in {where})")


def _devices(args, kwargs) -> set[str]:
    seen = set()

    def look(t):
        if isinstance(t, Elsewhere):
            seen.add("other")
        elif isinstance(t, torch.Tensor) and t.dim() > 0:  # 0-dim CPU tensors mix with any device, as in torch
            seen.add("cpu")

    tree_map(look, (args, kwargs))
    return seen


#: Operations that accept a CPU tensor beside a CUDA one in torch too (copies, CPU index tensors).
_MIXING_ALLOWED = {torch.ops.aten.copy_.default, torch.ops.aten.index.Tensor, torch.ops.aten.index_put_.default,
                   torch.ops.aten.index_put.default}


class Elsewhere(torch.Tensor):
    """CPU data in a tensor that reports the second device; mixing it with CPU tensors fails as on a GPU."""

    @staticmethod
    def __new__(cls, inner: torch.Tensor):
        r = torch.Tensor._make_wrapper_subclass(cls, inner.shape, strides=inner.stride(), dtype=inner.dtype,
                                                device=OTHER, requires_grad=inner.requires_grad,
                                                storage_offset=inner.storage_offset())
        r.inner = inner
        return r

    def __repr__(self):
        return f"Elsewhere({self.inner!r})"

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        seen = _devices(args, kwargs)
        if func in _MIXING_ALLOWED:
            seen.discard("cpu")
        if func is torch.ops.aten._to_copy.default:
            x, dev = args[0], kwargs.get("device")
            out = func(x.inner if isinstance(x, Elsewhere) else x, **{k: v for k, v in kwargs.items() if k != "device"})
            keep = isinstance(x, Elsewhere) if dev is None else _other(dev)
            return Elsewhere(out) if keep else out
        if len(seen) > 1:
            raise _mismatch(func)
        args, kwargs = tree_map(lambda t: t.inner if isinstance(t, Elsewhere) else t, (args, kwargs))
        if _other(kwargs.get("device")):
            kwargs["device"] = torch.device("cpu")
        out = func(*args, **kwargs)
        if "other" in seen:
            return tree_map(lambda t: Elsewhere(t) if isinstance(t, torch.Tensor) else t, out)
        return out


class _SecondDeviceMode(TorchFunctionMode):
    """Routes ``.to(OTHER)``, ``.cpu()`` and ``device=OTHER`` factories to :class:`Elsewhere`."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.Tensor.to:
            x = args[0]
            if len(args) > 1 and isinstance(args[1], torch.Tensor):
                dev, dtype = args[1].device, args[1].dtype
            else:
                dev, dtype, _, _ = torch._C._nn._parse_to(*args[1:], **kwargs)
            inner = x.inner if isinstance(x, Elsewhere) else x
            if _other(dev) or (dev is None and isinstance(x, Elsewhere)):
                out = inner.to(dtype=dtype or inner.dtype)
                return x if isinstance(x, Elsewhere) and out is inner else Elsewhere(out)
            if dev is not None and isinstance(x, Elsewhere):
                return inner.to(dtype=dtype or inner.dtype)
            return func(*args, **kwargs)
        if func is torch.Tensor.cpu:
            return args[0].inner if isinstance(args[0], Elsewhere) else args[0]
        if func in (torch.Tensor.tolist, torch.Tensor.item) and isinstance(args[0], Elsewhere):
            return func(args[0].inner)  # allowed on CUDA too (a synchronising copy); .numpy() is not
        name = getattr(func, "__name__", "")
        if func not in (torch.Tensor.copy_, torch.Tensor.__setitem__) and not name.startswith("_") \
                and len(_devices(args, kwargs)) > 1:  # checked here too: some kernels look at devices first
            raise _mismatch(name or func)
        if _other(kwargs.get("device")):
            out = func(*args, **dict(kwargs, device="cpu"))
            return tree_map(lambda t: Elsewhere(t) if isinstance(t, torch.Tensor) else t, out)
        return func(*args, **kwargs)


@contextlib.contextmanager
def second_device(monkeypatch):
    """A second device exists and ``get_device()`` picks it (as it picks CUDA on a GPU machine)."""
    monkeypatch.setenv(D.ENV_VAR, str(OTHER))
    monkeypatch.setattr(D, "SUPPORTED_TYPES", (*D.SUPPORTED_TYPES, OTHER.type))  # the stand-in device exists here
    old = torch.__future__.get_swap_module_params_on_conversion()
    torch.__future__.set_swap_module_params_on_conversion(True)  # lets Module.to put Elsewhere parameters in
    try:
        with _SecondDeviceMode():
            yield
    finally:
        torch.__future__.set_swap_module_params_on_conversion(old)


def _imgs(h=32, w=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, h, w, generator=g), torch.rand(1, 3, 24, 32, generator=g)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # random-weight warnings
        yield


# ---------------------------------------------------------------- the harness itself
def test_the_second_device_fails_like_cuda_on_a_mismatch(monkeypatch):
    with second_device(monkeypatch):
        x = torch.rand(2, 3).to(OTHER)
        assert x.device == OTHER and D.get_device() == OTHER
        with pytest.raises(RuntimeError, match="same device"):
            x + torch.rand(2, 3)
        conv = torch.nn.Conv2d(3, 4, 3).to(OTHER)
        with pytest.raises(RuntimeError, match="same device"):
            conv(torch.rand(1, 3, 8, 8))
        inp = torch.rand(1, 3, 8, 8)
        y = conv(inp.to(OTHER))
        assert y.device == OTHER
        expected = torch.nn.functional.conv2d(inp, conv.weight.cpu(), conv.bias.cpu())  # the same numbers on the CPU
        assert y.cpu().device.type == "cpu"
    torch.testing.assert_close(y.cpu(), expected, rtol=0, atol=0)


# ---------------------------------------------------------------- rule 1 + 2: models placed by get_device, inputs follow
def _models():
    """Each model class of the registry, built on the CPU with random weights, and a call to run on it."""
    c, s = _imgs()
    cl = torch.zeros(32, 40, dtype=torch.long)
    cl[:, 20:] = 1
    sl = torch.zeros(24, 32, dtype=torch.long)
    sl[:, 16:] = 1
    yield "AdaIN", lambda dev: stylelab.methods.adain.AdaIN.from_official("random", "random", device=dev), \
        lambda m: m.stylize(c, s, alpha=0.7, content_labels=cl, style_labels=sl)
    yield "WCT", lambda dev: stylelab.methods.wct.WCT.from_official("random", {L: "random" for L in (2, 1)}, levels=(2, 1), device=dev), \
        lambda m: m.stylize(c, s, alpha=0.6, preserve_colour=True)
    yield "PhotoWCT", lambda dev: stylelab.methods.photowct.PhotoWCT.from_official("random", device=dev), \
        lambda m: m.stylize(c, s, content_labels=cl, style_labels=sl, levels=(2, 1))
    yield "WCT2", lambda dev: stylelab.methods.wct2.WCT2.from_official("random", "random", unpool="sum", device=dev), \
        lambda m: m.stylize(c, s, content_labels=cl, style_labels=sl)
    yield "encoder", lambda dev: stylelab.nets.encoders.normalised_vgg19("random", last_layer="relu2_1", device=dev), \
        lambda m: m(c, layers="relu2_1")["relu2_1"]
    yield "vgg16", lambda dev: stylelab.nets.encoders.vgg16("random", last_layer="relu2_1", device=dev), \
        lambda m: m(c, layers="relu2_1")["relu2_1"]
    yield "squeezenet1_1", lambda dev: stylelab.nets.encoders.squeezenet1_1("random", device=dev), \
        lambda m: stylelab.nets.encoders.squeezenet_features(m, c, "fire3")["fire3"]


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n, _, _ in _models()])
def test_models_land_on_the_best_device_and_cpu_inputs_follow_them(monkeypatch, name):
    build, call = next((b, f) for n, b, f in _models() if n == name)
    torch.manual_seed(0)
    cpu_model = build("cpu")
    expected = call(cpu_model)
    with second_device(monkeypatch):
        torch.manual_seed(0)
        placed = build(None)  # device=None → get_device() → the second device
        assert D.device_of(placed).type == OTHER.type, f"{name}.from_official() did not use get_device()"
        model = copy.deepcopy(cpu_model).to(OTHER)  # same weights as the CPU model
        out = call(model)  # CPU images, a model elsewhere: must not raise
        assert out.device.type == OTHER.type
        out = out.cpu()
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


@pytest.mark.slow
def test_optimisation_methods_follow_their_encoder(monkeypatch):
    from stylelab.methods import dpst, gatys

    c, s = _imgs(24, 24)
    shallow = {"content_layers": {"relu2_1": 1.0}, "style_layers": ["relu1_1", "relu2_1"]}
    enc = stylelab.nets.encoders.normalised_vgg19("random", last_layer="relu2_1", pooling="avg", device="cpu")
    venc = stylelab.nets.encoders.vgg19("random", last_layer="relu5_1", device="cpu")
    expected = gatys.stylize(c, s, "paper", encoder=enc, steps=2, progress=False, **shallow)
    expected_dpst = dpst.stylize(c, s, encoder=venc, steps=(1, 1), progress=False)
    with second_device(monkeypatch):
        assert D.device_of(gatys.get_encoder(gatys.preset("paper", **shallow), random=True)).type == OTHER.type
        out = gatys.stylize(c, s, "paper", encoder=copy.deepcopy(enc).to(OTHER), steps=2, progress=False, **shallow)
        out_dpst = dpst.stylize(c, s, encoder=copy.deepcopy(venc).to(OTHER), steps=(1, 1), progress=False)
        assert out.device.type == OTHER.type and out_dpst.device.type == OTHER.type
        out, out_dpst = out.cpu(), out_dpst.cpu()
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    torch.testing.assert_close(out_dpst, expected_dpst, rtol=0, atol=0)


# ---------------------------------------------------------------- rule 3 + 4: functions and figures in a notebook cell
def test_a_cpu_cell_runs_on_other(monkeypatch, tmp_path):
    """Notebook 03's pattern: load on the CPU, model from from_official(), stylise, measure, smooth, show, save."""
    from stylelab.features import colour
    from stylelab import io, metrics, smoothing, viz
    from stylelab.features import evaluation

    content, style = _imgs()
    with second_device(monkeypatch):
        model = stylelab.methods.adain.AdaIN.from_official("random", "random")
        out = model.stylize(content, style)[..., :32, :40]
        assert out.device.type == OTHER.type
        assert 0 <= float(evaluation.ssim(out, content)) <= 1
        assert float(evaluation.ssim(content, out)) == pytest.approx(float(evaluation.ssim(out, content)))
        smoothed = smoothing.smooth(out.double(), content, mode="gif")
        assert smoothed.device.type == OTHER.type
        assert colour.luminance_transfer(content, out).device.type == "cpu"  # follows its first image
        assert colour.match_colour(out, content).device.type == OTHER.type
        assert viz.to_numpy_image(out).shape == (32, 40, 3)
        viz.show_images([content, style, out])
        io.save_image(out, tmp_path / "out.png")
    import matplotlib.pyplot as plt

    plt.close("all")
    assert (tmp_path / "out.png").stat().st_size > 0


def test_follow_moves_images_and_keeps_label_dtypes():
    m = torch.nn.Conv2d(3, 3, 1).double()
    img, lab = torch.rand(1, 3, 4, 4), torch.zeros(4, 4, dtype=torch.long)
    a, b, none, seq = D.follow(m, img, lab, None, [img])
    assert a.dtype == torch.float64 and b.dtype == torch.long and none is None and seq[0].dtype == torch.float64
    assert D.follow(img, lab) is lab and D.device_of(torch.nn.ReLU()) == torch.device("cpu")
