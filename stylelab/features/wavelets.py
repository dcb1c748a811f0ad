"""Haar wavelets: lossless 2×2 pooling (analysis) and its exact inverse (synthesis).

With the 1-D filters of WCT² (Yoo et al., "Photorealistic Style Transfer via
Wavelet Transforms", ICCV 2019; official code clovaai/WCT2 ``model.py``, ``get_wav``)

    L = (1/√2) [1, 1],      H = (1/√2) [−1, 1],

the four 2×2 kernels are the outer products (rows = vertical index i,
columns = horizontal index j)::

    LL = LᵀL = ½ [[ 1,  1], [ 1,  1]]      LH = LᵀH = ½ [[−1,  1], [−1,  1]]
    HL = HᵀL = ½ [[−1, −1], [ 1,  1]]      HH = HᵀH = ½ [[ 1, −1], [−1,  1]]

Each band is a depthwise stride-2 "convolution" (no flip, as ``Conv2d``) with
its kernel. For the 2×2 block ``[[a, b], [c, d]]`` of every channel:
``LL = (a+b+c+d)/2``, ``LH = (−a+b−c+d)/2`` (horizontal change: responds to
vertical edges), ``HL = (−a−b+c+d)/2`` (vertical change: horizontal edges),
``HH = (a−b−c+d)/2`` (diagonal).

The four kernels are an orthonormal basis of 2×2 blocks (ΦΦᵀ = I), so

* synthesis (the transposed convolutions summed, WCT²'s ``WaveUnpool('sum')``)
  inverts analysis exactly, and energy is preserved:
  ‖x‖² = ‖LL‖² + ‖LH‖² + ‖HL‖² + ‖HH‖²;
* ``LL = 2 × avg_pool2d(x, 2)`` — wavelet pooling is average pooling that keeps
  the three detail bands instead of throwing them away (max pooling throws
  away 3/4 of the values *and* where they were).

**PyWavelets mapping.** ``cA, (cH, cV, cD) = pywt.dwt2(x, "haar")`` on a
2-D array with even sides gives ``cA = LL``, ``cH = −HL``, ``cV = −LH``,
``cD = HH`` (pywt's "horizontal detail" cH is our HL with the opposite sign,
its "vertical detail" cV our LH with the opposite sign). ``tests/test_wavelets.py``
checks this against PyWavelets.

**Odd sides.** Analysis needs even sides. ``pad=True`` reflect-pads the
bottom/right by one pixel where a side is odd (replicate for a side of 1);
pass the original size to :func:`haar_idwt` (``size=``) to crop it back, so
the padded path is still lossless.

All functions compute on the device and dtype of their input (CPU, CUDA, MPS;
float16/32/64) and accept any number of channels: shape ``(..., H, W)``.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

BANDS: tuple[str, ...] = ("LL", "LH", "HL", "HH")

#: The 2×2 kernels of the official WCT² code (clovaai/WCT2 ``model.py``, ``get_wav``), as nested lists (float64-exact values ±0.5).
KERNELS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "LL": ((0.5, 0.5), (0.5, 0.5)),
    "LH": ((-0.5, 0.5), (-0.5, 0.5)),
    "HL": ((-0.5, -0.5), (0.5, 0.5)),
    "HH": ((0.5, -0.5), (-0.5, 0.5)),
}


def haar_filters(dtype: torch.dtype = torch.float32, device=None) -> dict[str, torch.Tensor]:
    """The four 2×2 Haar kernels ``{"LL": (2, 2), …}`` built from L = (1/√2)[1, 1], H = (1/√2)[−1, 1]."""
    s = 1.0 / math.sqrt(2.0)
    L = torch.tensor([s, s], dtype=torch.float64)
    H = torch.tensor([-s, s], dtype=torch.float64)
    pairs = {"LL": (L, L), "LH": (L, H), "HL": (H, L), "HH": (H, H)}
    return {k: torch.outer(a, b).to(dtype=dtype, device=device) for k, (a, b) in pairs.items()}


def _check(x: torch.Tensor, name: str = "x") -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (..., H, W), got {type(x).__name__}")
    if x.dim() < 2:
        raise ValueError(f"{name} must have shape (..., H, W) with at least 2 dimensions, got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor (got {x.dtype}); convert with .float()")


def pad_to_even(x: torch.Tensor) -> torch.Tensor:
    """Pad the bottom/right by one pixel where ``H`` or ``W`` is odd (reflect; replicate for a side of 1)."""
    h, w = x.shape[-2:]
    ph, pw = h % 2, w % 2
    if not (ph or pw):
        return x
    shape = x.shape
    flat = x.reshape(-1, 1, h, w)
    mode = "reflect" if min(h, w) > 1 else "replicate"
    out = F.pad(flat, (0, pw, 0, ph), mode=mode)
    return out.reshape(*shape[:-2], h + ph, w + pw)


def haar_dwt(x: torch.Tensor, pad: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One level of Haar analysis (WCT²'s ``WavePool``): ``x → (LL, LH, HL, HH)``.

    Args:
        x: ``(..., H, W)`` float tensor (any channels; e.g. ``(B, C, H, W)``).
        pad: allow odd ``H``/``W`` by padding one row/column (see module docstring).

    Returns:
        Four tensors of shape ``(..., ⌈H/2⌉, ⌈W/2⌉)``. For each block
        ``[[a, b], [c, d]]``: ``LL = (a+b+c+d)/2``, ``LH = (−a+b−c+d)/2``,
        ``HL = (−a−b+c+d)/2``, ``HH = (a−b−c+d)/2``.

    Example:
        >>> import torch
        >>> LL, LH, HL, HH = haar_dwt(torch.ones(1, 1, 4, 4))  # a flat image: all its energy in LL
        >>> LL.shape, LL[0, 0, 0, 0].item(), float(LH.abs().max() + HL.abs().max() + HH.abs().max())
        (torch.Size([1, 1, 2, 2]), 2.0, 0.0)
    """
    _check(x)
    h, w = x.shape[-2:]
    if h % 2 or w % 2:
        if not pad:
            raise ValueError(
                f"haar_dwt needs even height and width, got {h}×{w}. Pass pad=True (and size=(H, W) "
                "to haar_idwt to crop back), or crop/resize the input."
            )
        x = pad_to_even(x)
    a = x[..., 0::2, 0::2]
    b = x[..., 0::2, 1::2]
    c = x[..., 1::2, 0::2]
    d = x[..., 1::2, 1::2]
    s, t = a + d, b + c
    u, v = d - a, b - c
    return 0.5 * (s + t), 0.5 * (u + v), 0.5 * (u - v), 0.5 * (s - t)


def _interleave(a, b, c, d) -> torch.Tensor:
    """Blocks ``[[a, b], [c, d]]`` → ``(..., 2h, 2w)``."""
    top = torch.stack((a, b), dim=-1)  # (..., h, w, 2)
    bottom = torch.stack((c, d), dim=-1)
    out = torch.stack((top, bottom), dim=-3)  # (..., h, 2, w, 2)
    *lead, h, _, w, _ = out.shape
    return out.reshape(*lead, 2 * h, 2 * w)


def haar_idwt(
    LL: torch.Tensor,
    LH: torch.Tensor | None,
    HL: torch.Tensor | None,
    HH: torch.Tensor | None,
    size: Sequence[int] | None = None,
) -> torch.Tensor:
    """Haar synthesis (WCT²'s ``WaveUnpool('sum')``), the exact inverse of :func:`haar_dwt`.

    ``x = Σ_X ConvTranspose_X(X)`` for X in LL, LH, HL, HH; per block
    ``a = (LL−LH−HL+HH)/2``, ``b = (LL+LH−HL−HH)/2``, ``c = (LL−LH+HL−HH)/2``,
    ``d = (LL+LH+HL+HH)/2``. A band given as ``None`` counts as zeros (to
    reconstruct from chosen bands only).

    Args:
        LL, LH, HL, HH: ``(..., h, w)`` tensors of equal shape.
        size: ``(H, W)`` of the signal before padding: the output is cropped to it.

    Returns:
        ``(..., 2h, 2w)`` (or ``(..., H, W)`` with ``size``).

    Example:
        >>> import torch
        >>> x = torch.rand(2, 3, 6, 8, generator=torch.Generator().manual_seed(0))
        >>> torch.allclose(haar_idwt(*haar_dwt(x)), x, atol=1e-6)  # perfect reconstruction
        True
    """
    _check(LL, "LL")
    zero = torch.zeros_like(LL)
    bands = [zero if t is None else t for t in (LH, HL, HH)]
    for name, t in zip(("LH", "HL", "HH"), bands):
        if t.shape != LL.shape:
            raise ValueError(f"all bands need the same shape: LL is {tuple(LL.shape)}, {name} is {tuple(t.shape)}")
    LH, HL, HH = bands
    p, q = LL + HH, LH + HL
    r, s = LL - HH, LH - HL
    out = _interleave(0.5 * (p - q), 0.5 * (r + s), 0.5 * (r - s), 0.5 * (p + q))
    if size is not None:
        h, w = int(size[0]), int(size[1])
        if h > out.shape[-2] or w > out.shape[-1] or h < out.shape[-2] - 1 or w < out.shape[-1] - 1:
            raise ValueError(f"size {h}×{w} does not match bands of {tuple(LL.shape[-2:])} (expected 2h or 2h−1)")
        out = out[..., :h, :w]
    return out


def haar_upsample_bands(LL, LH, HL, HH) -> tuple[torch.Tensor, ...]:
    """Each band through its own transposed convolution (WCT²'s ``WaveUnpool('cat5')`` parts).

    ``ConvT_X(X)[..., 2p+i, 2q+j] = K_X[i, j] · X[..., p, q]``; the four
    results sum to :func:`haar_idwt`. Shapes ``(..., h, w)`` → ``(..., 2h, 2w)`` each.
    """
    out = []
    for name, band in zip(BANDS, (LL, LH, HL, HH)):
        k = torch.tensor(KERNELS[name], dtype=band.dtype, device=band.device)
        t = band[..., :, None, :, None] * k[:, None, :]
        *lead, h, _, w, _ = t.shape
        out.append(t.reshape(*lead, 2 * h, 2 * w))
    return tuple(out)


def haar_wavedec(x: torch.Tensor, levels: int = 1, pad: bool = True):
    """Multi-level Haar analysis of the LL band.

    Returns:
        ``(LL_L, details, sizes)``: the coarsest LL, a list of ``(LH, HL, HH)``
        per level (finest first), and the input size at each level (for exact
        cropping in :func:`haar_waverec`).
    """
    _check(x)
    if levels < 1:
        raise ValueError(f"levels must be ≥ 1, got {levels}")
    details, sizes = [], []
    ll = x
    for _ in range(levels):
        if min(ll.shape[-2:]) < 2 and not pad:
            raise ValueError(f"too many levels ({levels}) for an input of {tuple(x.shape[-2:])}")
        sizes.append(tuple(ll.shape[-2:]))
        ll, lh, hl, hh = haar_dwt(ll, pad=pad)
        details.append((lh, hl, hh))
    return ll, details, sizes


def haar_waverec(LL: torch.Tensor, details, sizes=None) -> torch.Tensor:
    """Inverse of :func:`haar_wavedec` (detail bands may be ``None`` to drop them)."""
    x = LL
    for i in reversed(range(len(details))):
        lh, hl, hh = details[i]
        x = haar_idwt(x, lh, hl, hh, size=None if sizes is None else sizes[i])
    return x


def band_energy(bands: dict[str, torch.Tensor] | Sequence[torch.Tensor]) -> dict[str, float]:
    """Fraction of the total energy Σx² in each band (they sum to 1 because the transform is orthonormal)."""
    if not isinstance(bands, dict):
        bands = dict(zip(BANDS, bands))
    e = {k: float(v.double().pow(2).sum()) for k, v in bands.items() if v is not None}
    total = sum(e.values()) or 1.0
    return {k: v / total for k, v in e.items()}


class WavePool(nn.Module):
    """Haar wavelet pooling as a module: ``x → (LL, LH, HL, HH)`` (no parameters; see :func:`haar_dwt`).

    Unlike the official module, the fixed filters are not stored as
    parameters: loaders check the official checkpoints' filters instead
    (:func:`check_official_filters`).
    """

    def __init__(self, pad: bool = False):
        super().__init__()
        self.pad = pad

    def forward(self, x):
        return haar_dwt(x, pad=self.pad)


class WaveUnpool(nn.Module):
    """Haar unpooling: ``"sum"`` (exact inverse) or ``"cat5"`` (the four upsampled bands + ``original``, 5C channels)."""

    def __init__(self, option: str = "sum"):
        super().__init__()
        if option not in ("sum", "cat5"):
            raise ValueError(f"option must be 'sum' or 'cat5', got {option!r}")
        self.option = option

    def forward(self, LL, LH, HL, HH, original=None):
        if self.option == "sum":
            return haar_idwt(LL, LH, HL, HH)
        if original is None:
            raise ValueError("WaveUnpool('cat5') needs the encoder's pre-pooling activation `original`")
        return torch.cat([*haar_upsample_bands(LL, LH, HL, HH), original], dim=-3)


# ============================================================================ unpool + convolution at half resolution
def polyphase_unpool_weight(weight: torch.Tensor, channels: int) -> torch.Tensor:
    """The kernel that lets :func:`unpool_conv3x3` skip the upsampled bands.

    ``weight`` ``(K, 5C, 3, 3)`` is a 3×3 convolution over WCT²'s ``cat5``
    unpooling ``[ConvT_LL(LL), ConvT_LH(LH), ConvT_HL(HL), ConvT_HH(HH), original]``;
    its first ``4C`` input channels (``W_X``, one ``(K, C, 3, 3)`` block per band)
    only ever see upsampled bands, whose value at ``(2i+p, 2j+q)`` is
    ``K_X[p, q] · X[i, j]``. So output pixel ``(2i+p, 2j+q)`` (phase ``(p, q)``)
    reads each band at just 2×2 low-resolution positions: for tap ``dy`` the
    row ``r = p + dy`` lands in block row ``i + ⌊r/2⌋`` at phase ``r mod 2``.
    Collecting the taps gives, per output phase, a 2×2 kernel over the bands::

        V[(p,q), k, (X,c), a, b] = Σ_{dy: ⌊(p+dy)/2⌋+1−p = a} Σ_{dx: ⌊(q+dx)/2⌋+1−q = b}
                                    W_X[k, c, dy+1, dx+1] · K_X[(p+dy) mod 2, (q+dx) mod 2]

    Returns:
        ``(4K, 4C, 2, 2)``, output channels phase-major ``(p, q) ∈ (0,0), (0,1),
        (1,0), (1,1)``, input channels band-major ``LL, LH, HL, HH`` (same dtype,
        device and autograd graph as ``weight``).
    """
    if weight.dim() != 4 or weight.shape[-2:] != (3, 3) or weight.shape[1] < 4 * channels:
        raise ValueError(f"expected a (K, ≥4·{channels}, 3, 3) weight, got {tuple(weight.shape)}")
    k = weight.shape[0]
    filters = haar_filters(weight.dtype, weight.device)
    out = weight.new_zeros(2, 2, k, 4, channels, 2, 2)
    for p in (0, 1):
        for q in (0, 1):
            for dy in (-1, 0, 1):
                a, py = (p + dy) // 2 + 1 - p, (p + dy) % 2
                for dx in (-1, 0, 1):
                    b, px = (q + dx) // 2 + 1 - q, (q + dx) % 2
                    for x, band in enumerate(BANDS):
                        w_x = weight[:, x * channels:(x + 1) * channels, dy + 1, dx + 1]
                        out[p, q, :, x, :, a, b] += w_x * filters[band][py, px]
    return out.reshape(4 * k, 4 * channels, 2, 2)


def unpool_conv3x3(
    LL: torch.Tensor,
    LH: torch.Tensor,
    HL: torch.Tensor,
    HH: torch.Tensor,
    original: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    polyphase: torch.Tensor | None = None,
) -> torch.Tensor:
    """``conv3×3(reflect_pad₁(WaveUnpool("cat5")(LL, LH, HL, HH, original)), weight) + bias``, exactly,
    without building the ``5C``-channel upsampled tensor.

    The band part runs at the bands' resolution as one 2×2 convolution per
    output phase (:func:`polyphase_unpool_weight`): ``16·C·K`` multiply-adds
    per output pixel instead of ``36·C·K``, and no upsampling, concatenation
    or padding of ``4C`` full-resolution channels. Reflection padding of the
    upsampled map equals *replicate* padding of the bands (the reflected
    row −1 is row 1, the other phase of the same 2×2 block), so borders are
    exact too. (For ``"sum"`` unpooling the same rewrite costs more than it
    saves: the summed bands share one 3×3 kernel, 9·C·K per pixel.)

    Args:
        LL, LH, HL, HH: ``(B, C, h, w)`` bands.
        original: ``(B, C', 2h, 2w)``, the encoder's pre-pooling activation.
        weight: ``(K, 4C + C', 3, 3)``; bias ``(K,)`` or ``None``.
        polyphase: ``polyphase_unpool_weight(weight, C)`` if already computed.

    Returns:
        ``(B, K, 2h, 2w)`` (no activation).
    """
    c = LL.shape[-3]
    h, w = LL.shape[-2:]
    if original.shape[-2:] != (2 * h, 2 * w):
        raise ValueError(f"original is {tuple(original.shape[-2:])}, expected {(2 * h, 2 * w)} for bands of {(h, w)}")
    if polyphase is None:
        polyphase = polyphase_unpool_weight(weight, c)
    k = weight.shape[0]
    bands = F.pad(torch.cat([LL, LH, HL, HH], dim=-3), (1, 1, 1, 1), mode="replicate")
    z = F.conv2d(bands, polyphase)  # (B, 4K, h+1, w+1); phase (p, q) is the window starting at (p, q)
    out = F.conv2d(F.pad(original, (1, 1, 1, 1), mode="reflect"), weight[:, 4 * c:], bias)
    for n, (p, q) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        out[..., p::2, q::2] += z[:, n * k:(n + 1) * k, p:p + h, q:q + w]
    return out


def check_official_filters(state_dict, prefix: str, channels: int, atol: float = 1e-6) -> None:
    """Check ``{prefix}.{LL,LH,HL,HH}.weight`` hold the fixed Haar kernel in every channel.

    The official WCT² checkpoints store the filters as parameters of shape
    ``(C, 1, 2, 2)``; they must equal :data:`KERNELS` (they are not learned).

    Raises:
        ValueError: naming the band whose filter differs.
    """
    expected = haar_filters(torch.float64)
    for band in BANDS:
        key = f"{prefix}.{band}.weight"
        if key not in state_dict:
            raise ValueError(f"missing Haar filter {key!r}")
        w = state_dict[key].detach().to("cpu", torch.float64)
        if tuple(w.shape) != (channels, 1, 2, 2):
            raise ValueError(f"{key} has shape {tuple(w.shape)}, expected {(channels, 1, 2, 2)}")
        err = (w - expected[band]).abs().max().item()
        if err > atol:
            raise ValueError(
                f"{key} is not the fixed Haar {band} filter (max difference {err:.3g}): this is not an official "
                "WCT² checkpoint, or it was modified."
            )
