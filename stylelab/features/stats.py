"""Style as statistics: Gram matrices, MMD² with several kernels, moments.

A feature map ``(B, C, H, W)`` is read as ``M = H·W`` samples (its *columns*),
each a vector in ``R^C``. "Style" is a statement about the distribution of those
samples, whatever their position:

* the **Gram matrix** ``G = F Fᵀ`` (``F`` the ``C × M`` matrix of one image) holds
  the uncentred second moments (Gatys, Ecker & Bethge, CVPR 2016);
* **MMD²** compares two sample sets through a kernel ``k``; with
  ``k(x, y) = (xᵀy)²`` the biased estimate equals ``‖FFᵀ − SSᵀ‖²_F / M²``, so
  Gatys' layer loss ``E_l = ‖G − A‖²_F / (4 C² M²)`` is ``MMD² / (4 C²)``
  (Li, Wang, Liu & Hou, "Demystifying Neural Style Transfer", IJCAI 2017);
* **moments** (per-channel mean and standard deviation) are what AdaIN matches
  (Huang & Belongie, ICCV 2017) and what Li et al. call batch-norm statistics
  matching.

Everything here computes on the device and dtype of its inputs.
"""

from __future__ import annotations

from typing import Literal

import torch

Normalize = Literal["none", "positions", "elements"]
Kernel = Literal["linear", "poly", "gaussian"]

#: The Gram normalisations in use, and who uses them.
GRAM_NORMALIZATIONS: dict[str, str] = {
    "none": "G = F Fᵀ (Gatys et al. 2016 put 1/(4C²M²) into the loss instead)",
    "positions": "G = F Fᵀ / M, M = H·W (pystiche's normalize=True; the TensorFlow tutorial)",
    "elements": "G = F Fᵀ / (C·M) (PyTorch tutorial and DPST: divide by all elements of the feature tensor)",
}


def _as_samples(x: torch.Tensor, what: str = "features") -> torch.Tensor:
    """``(B, C, H, W)`` / ``(B, C, M)`` → ``(B, C, M)``; ``(C, M)`` → ``(1, C, M)``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() == 4:
        return x.flatten(2)
    if x.dim() == 3:
        return x
    if x.dim() == 2:
        return x.unsqueeze(0)
    raise ValueError(
        f"{what} must have shape (B, C, H, W), (B, C, M) or (C, M); got {tuple(x.shape)}. "
        "Add a batch dimension with x[None] for a single (C, H, W) map."
    )


class _GramProduct(torch.autograd.Function):
    """``F Fᵀ`` for ``(B, C, M)`` with the symmetric backward ``(dG + dGᵀ) F``: one matrix product
    instead of autograd's two (the gradient of a Gram loss is the hot spot of Gatys' optimisation)."""

    @staticmethod
    def forward(ctx, f):
        ctx.save_for_backward(f)
        return torch.bmm(f, f.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad):
        (f,) = ctx.saved_tensors
        return torch.bmm(grad + grad.transpose(1, 2), f)


def gram(features: torch.Tensor, normalize: Normalize = "positions") -> torch.Tensor:
    """Gram matrix of feature maps: ``G_ij = Σ_k F_ik F_jk`` (scaled).

    Args:
        features: ``(B, C, H, W)`` or ``(B, C, M)`` (batched, one Gram per image)
            or ``(C, M)``.
        normalize: ``"none"`` → ``F Fᵀ``; ``"positions"`` → ``F Fᵀ / M`` with
            ``M = H·W`` (size-independent: the matrix of uncentred second
            moments); ``"elements"`` → ``F Fᵀ / (C·M)`` as in the PyTorch tutorial
            (which divides by ``B·C·H·W`` of a batch reshaped to ``(B·C, H·W)``;
            per image and for ``B = 1`` this is the same).

    Returns:
        ``(B, C, C)`` for batched input, ``(C, C)`` for ``(C, M)`` input.

    Paper: Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional
    Neural Networks", CVPR 2016, eq. 3 (no normalisation in ``G``; the
    ``1/(4 N² M²)`` sits in the loss, eq. 4).

    Example:
        >>> import torch
        >>> f = torch.arange(6.0).reshape(1, 2, 3)  # one image, C = 2 channels, M = 3 positions
        >>> gram(f)  # F Fᵀ / M
        tensor([[[ 1.6667,  4.6667],
                 [ 4.6667, 16.6667]]])
        >>> gram(f, normalize="none")[0]
        tensor([[ 5., 14.],
                [14., 50.]])
    """
    squeeze = features.dim() == 2
    f = _as_samples(features)
    c, m = f.shape[1], f.shape[2]
    g = _GramProduct.apply(f) if f.requires_grad else torch.bmm(f, f.transpose(1, 2))
    if normalize == "positions":
        g = g / m
    elif normalize == "elements":
        g = g / (c * m)
    elif normalize != "none":
        raise ValueError(f"normalize must be one of {', '.join(map(repr, GRAM_NORMALIZATIONS))}; got {normalize!r}")
    return g[0] if squeeze else g


def moments(features: torch.Tensor, unbiased: bool = False, eps: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation over positions.

    ``μ_c = (1/M) Σ_k F_ck``, ``σ_c = sqrt(Var_c + eps)`` with the biased
    variance ``(1/M) Σ_k (F_ck − μ_c)²`` (``unbiased=True``: divide by ``M − 1``,
    as pytorch-AdaIN does; the official Torch AdaIN uses the biased one).

    Args:
        features: ``(B, C, H, W)``, ``(B, C, M)`` or ``(C, M)``.

    Returns:
        ``(mean, std)``, each ``(B, C)`` (or ``(C,)`` for ``(C, M)`` input).

    Example:
        >>> import torch
        >>> mean, std = moments(torch.tensor([[0.0, 1.0, 2.0], [3.0, 3.0, 3.0]]))  # (C, M)
        >>> mean, std  # biased: sqrt(((0-1)² + 0 + (2-1)²) / 3)
        (tensor([1., 3.]), tensor([0.8165, 0.0000]))
    """
    squeeze = features.dim() == 2
    f = _as_samples(features)
    if unbiased and f.shape[2] < 2:
        raise ValueError("the unbiased variance needs at least 2 positions")
    mean = f.mean(dim=2)
    var = f.var(dim=2, unbiased=unbiased)
    std = (var + eps).sqrt()
    return (mean[0], std[0]) if squeeze else (mean, std)


def median_bandwidth(x: torch.Tensor, y: torch.Tensor, max_samples: int = 2048, seed: int = 0) -> torch.Tensor:
    """The median heuristic: the median pairwise Euclidean distance of the pooled samples.

    ``σ = median{‖z_i − z_j‖ : i < j}`` over ``z = columns of [X, Y]``
    (Gretton et al., JMLR 2012). Computed without gradient; above
    ``max_samples`` pooled columns a seeded random subset is used.

    Args:
        x, y: ``(B, C, M)`` / ``(B, C, N)`` (or ``(C, M)`` / ``(C, N)``).

    Returns:
        ``(B,)`` bandwidths (``()`` for 2-D input).
    """
    squeeze = x.dim() == 2
    x, y = _as_samples(x, "x"), _as_samples(y, "y")
    with torch.no_grad():
        z = torch.cat([x, y], dim=2).transpose(1, 2)  # (B, M+N, C)
        if z.shape[1] > max_samples:
            g = torch.Generator().manual_seed(seed)
            idx = torch.randperm(z.shape[1], generator=g)[:max_samples].to(z.device)
            z = z[:, idx]
        d = torch.cdist(z, z)
        iu = torch.triu_indices(d.shape[1], d.shape[2], offset=1, device=d.device)
        med = d[:, iu[0], iu[1]].median(dim=1).values
    return med[0] if squeeze else med


def kernel_matrix(
    x: torch.Tensor,
    y: torch.Tensor,
    kernel: Kernel = "poly",
    degree: int = 2,
    offset: float = 0.0,
    bandwidth: float | torch.Tensor = 1.0,
) -> torch.Tensor:
    """``K_ij = k(x_i, y_j)`` between the columns of ``x`` ``(B, C, M)`` and ``y`` ``(B, C, N)``.

    Kernels: ``"linear"`` ``xᵀy``; ``"poly"`` ``(xᵀy + offset)^degree``;
    ``"gaussian"`` ``exp(−‖x − y‖² / (2 σ²))`` with ``σ = bandwidth`` (a number
    or a ``(B,)`` tensor).

    Returns:
        ``(B, M, N)``.
    """
    x, y = _as_samples(x, "x"), _as_samples(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same number of channels, got {x.shape[1]} and {y.shape[1]}")
    if kernel == "linear":
        return torch.bmm(x.transpose(1, 2), y)
    if kernel == "poly":
        return (torch.bmm(x.transpose(1, 2), y) + offset) ** degree
    if kernel == "gaussian":
        sigma = torch.as_tensor(bandwidth, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
        d2 = (x * x).sum(1)[:, :, None] + (y * y).sum(1)[:, None, :] - 2 * torch.bmm(x.transpose(1, 2), y)
        return torch.exp(-d2.clamp_min(0) / (2 * sigma**2))
    raise ValueError(f"kernel must be 'linear', 'poly' or 'gaussian', got {kernel!r}")


def mmd2(
    x: torch.Tensor,
    y: torch.Tensor,
    kernel: Kernel = "poly",
    degree: int = 2,
    offset: float = 0.0,
    bandwidth: float | torch.Tensor | Literal["median"] = "median",
    unbiased: bool = False,
) -> torch.Tensor:
    """Squared maximum mean discrepancy between the columns of ``x`` and of ``y``.

    With samples ``x_1..x_M`` (columns of ``x``) and ``y_1..y_N``:

    * biased (V-statistic): ``MMD²_b = (1/M²) Σ_ij k(x_i,x_j) + (1/N²) Σ_ij k(y_i,y_j) − (2/MN) Σ_ij k(x_i,y_j)``;
    * unbiased (U-statistic): the two within-set sums skip ``i = j`` and divide
      by ``M(M−1)`` and ``N(N−1)`` (can be slightly negative).

    Kernels as in :func:`kernel_matrix`. ``"linear"`` gives
    ``‖mean(x) − mean(y)‖²`` (matches first moments); ``"poly"`` with
    ``degree=2, offset=0`` is Gatys' Gram loss: ``MMD²_b = ‖XXᵀ/M − YYᵀ/N‖²_F``;
    ``"gaussian"`` uses ``bandwidth`` (``"median"``: :func:`median_bandwidth`).
    Linear and degree-2 polynomial kernels use the ``C × C`` closed forms
    (``O(C² M)`` time and memory); the others form ``M × N`` kernel matrices.

    Args:
        x: ``(B, C, H, W)``, ``(B, C, M)`` or ``(C, M)``; ``y`` likewise (``N`` columns).

    Returns:
        ``(B,)``, or a scalar for 2-D inputs.

    Papers: Gretton et al., "A Kernel Two-Sample Test", JMLR 2012; Li et al.,
    "Demystifying Neural Style Transfer", IJCAI 2017 (whose code uses a
    randomised linear-time estimator for the Gaussian kernel:
    :func:`stylelab.features.linear_time_mmd.mmd2_linear`; this is the
    exact quadratic-time one).

    Example:
        >>> import torch
        >>> x = torch.randn(4, 50, generator=torch.Generator().manual_seed(0))  # 50 samples of dimension 4
        >>> float(mmd2(x, x))  # a set against itself
        0.0
        >>> shifted = mmd2(x, x + 1.0, kernel="linear")  # ‖mean(x) − mean(x + 1)‖² = 4 · 1²
        >>> round(float(shifted), 4)
        4.0
    """
    squeeze = x.dim() == 2 and y.dim() == 2
    X, Y = _as_samples(x, "x"), _as_samples(y, "y")
    if X.shape[0] != Y.shape[0] or X.shape[1] != Y.shape[1]:
        raise ValueError(f"x and y need the same batch size and channels; got {tuple(X.shape)} and {tuple(Y.shape)}")
    m, n = X.shape[2], Y.shape[2]
    if unbiased and (m < 2 or n < 2):
        raise ValueError("the unbiased MMD² needs at least 2 samples on each side")

    if kernel == "linear" or (kernel == "poly" and degree in (1, 2)):
        # Closed forms over C×C / C-vectors: Σ_ij (x_iᵀy_j) = (Σx)ᵀ(Σy),
        # Σ_ij (x_iᵀy_j)² = ‖XᵀY‖²_F = ⟨XXᵀ, YYᵀ⟩_F.
        c = 0.0 if kernel == "linear" else float(offset)
        d = 1 if kernel == "linear" else degree
        sx, sy = X.sum(2), Y.sum(2)

        gx = torch.bmm(X, X.transpose(1, 2)) if d == 2 else None
        gy = torch.bmm(Y, Y.transpose(1, 2)) if d == 2 else None

        def total(ga, gb, sa, sb, na, nb):
            lin = (sa * sb).sum(1)
            if d == 1:
                return lin + c * na * nb
            quad = (ga * gb).sum((1, 2))
            return quad + 2 * c * lin + c * c * na * nb

        def diag(a):  # Σ_i k(a_i, a_i)
            sq = (a * a).sum(1)
            return ((sq + c) ** d).sum(1)

        kxx, kyy, kxy = total(gx, gx, sx, sx, m, m), total(gy, gy, sy, sy, n, n), total(gx, gy, sx, sy, m, n)
        if unbiased:
            out = (kxx - diag(X)) / (m * (m - 1)) + (kyy - diag(Y)) / (n * (n - 1)) - 2 * kxy / (m * n)
        else:
            out = kxx / m**2 + kyy / n**2 - 2 * kxy / (m * n)
    else:
        if kernel == "gaussian":
            bw = median_bandwidth(X, Y) if isinstance(bandwidth, str) and bandwidth == "median" else bandwidth
            if isinstance(bw, str):
                raise ValueError(f"bandwidth must be a number, a tensor or 'median', got {bandwidth!r}")
            kw = {"bandwidth": bw}
        else:
            kw = {"degree": degree, "offset": offset}
        Kxx, Kyy, Kxy = (kernel_matrix(a, b, kernel, **kw) for a, b in ((X, X), (Y, Y), (X, Y)))
        if unbiased:
            sxx = Kxx.sum((1, 2)) - Kxx.diagonal(dim1=1, dim2=2).sum(1)
            syy = Kyy.sum((1, 2)) - Kyy.diagonal(dim1=1, dim2=2).sum(1)
            out = sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2 * Kxy.mean((1, 2))
        else:
            out = Kxx.mean((1, 2)) + Kyy.mean((1, 2)) - 2 * Kxy.mean((1, 2))
    return out[0] if squeeze else out


def gram_loss_as_mmd(features: torch.Tensor, style_features: torch.Tensor) -> torch.Tensor:
    """Gatys' layer loss ``E_l = ‖G − A‖²_F / (4 C² M²)`` written as ``MMD²_b / (4 C²)`` with ``k = (xᵀy)²``.

    Both inputs ``(B, C, H, W)`` with the same ``H·W``. Returns ``(B,)``.
    """
    c = _as_samples(features).shape[1]
    return mmd2(features, style_features, kernel="poly", degree=2, offset=0.0) / (4 * c**2)


# ---------------------------------------------------------------------- features without training
def patches(image: torch.Tensor, size: int = 3) -> torch.Tensor:
    """Every ``size × size`` patch as a feature vector: ``(B, C, H, W)`` → ``(B, C·size², H', W')``.

    Valid positions only (``H' = H − size + 1``). Gram matrices of patches are
    the local second-order statistics of the Julesz / Portilla–Simoncelli
    tradition, with no network at all.
    """
    if image.dim() != 4:
        raise ValueError(f"patches expects (B, C, H, W), got {tuple(image.shape)}")
    if min(image.shape[-2:]) < size:
        raise ValueError(f"the image ({image.shape[-1]}×{image.shape[-2]}) is smaller than the patch size {size}")
    b, c, h, w = image.shape
    cols = torch.nn.functional.unfold(image, size)
    return cols.reshape(b, c * size * size, h - size + 1, w - size + 1)


def random_filters(in_channels: int = 3, channels: int = 32, sizes: tuple[int, ...] = (3, 5, 7, 11),
                   seed: int = 0, dtype: torch.dtype = torch.float32, device=None) -> list[torch.Tensor]:
    """Seeded random convolution filters, one bank per kernel size: ``[(channels, in_channels, k, k), ...]``.

    Zero-mean Gaussian weights scaled by ``1/sqrt(in_channels·k²)``. Used by
    :func:`random_features`.
    """
    g = torch.Generator().manual_seed(seed)
    banks = []
    for k in sizes:
        w = torch.randn(channels, in_channels, k, k, generator=g, dtype=torch.float64)
        w = w - w.mean((1, 2, 3), keepdim=True)
        banks.append((w / (in_channels * k * k) ** 0.5).to(dtype=dtype, device=device))
    return banks


def random_features(image: torch.Tensor, filters: list[torch.Tensor] | None = None, **kwargs) -> dict[str, torch.Tensor]:
    """Features of a one-layer network of random multi-scale filters + ReLU: ``{"k3": (B, C, H, W), ...}``.

    ``ReLU(w_k * x)`` for each bank ``w_k`` of :func:`random_filters` (or
    ``filters``; ``kwargs`` go to :func:`random_filters`), with reflection
    padding so sizes are kept. Ustyuzhaninov, Brendel, Gatys & Bethge, "What
    does it take to generate natural textures?", ICLR 2017, showed that
    matching Gram matrices of such untrained multi-scale filters already
    synthesises convincing textures.
    """
    if image.dim() != 4:
        raise ValueError(f"random_features expects (B, C, H, W), got {tuple(image.shape)}")
    if filters is None:
        filters = random_filters(image.shape[1], dtype=image.dtype, device=image.device, **kwargs)
    out = {}
    for w in filters:
        k = w.shape[-1]
        pad = k // 2
        x = torch.nn.functional.pad(image, (pad, pad, pad, pad), mode="reflect") if pad else image
        out[f"k{k}"] = torch.relu(torch.nn.functional.conv2d(x, w))
    return out
