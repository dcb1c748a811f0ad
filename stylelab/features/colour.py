"""Colour preservation for style transfer.

Two recipes from Gatys, Bethge, Hertzmann & Shechtman, "Preserving Color in
Neural Artistic Style Transfer", arXiv 1606.05897 (2016), also in Gatys et al.,
"Controlling Perceptual Factors in Neural Style Transfer", CVPR 2017:

1. **Luminance-only transfer** — transfer style on the luminance channel only
   and keep the content's colour channels: convert to YIQ, stylise ``Y``,
   recombine with the content's ``I, Q`` (:func:`luminance_transfer`). The
   style's luminance is first matched to the content's mean and standard
   deviation (:func:`match_luminance`).
2. **Colour histogram matching** — recolour the *style* image with an affine map
   ``x' = A x + b`` so its pixel mean and covariance equal the content's, then
   run ordinary style transfer (:func:`match_colour`).

Images are ``(B, 3, H, W)`` RGB in [0, 1]; functions work in the input's
dtype and device.
"""

from __future__ import annotations

from typing import Literal

import torch

from ..device import follow
from .linalg import psd_power

#: RGB → YIQ (NTSC 1953, FCC coefficients). Rows: Y, I, Q.
RGB_TO_YIQ = (
    (0.299, 0.587, 0.114),
    (0.595716, -0.274453, -0.321263),
    (0.211456, -0.522591, 0.311135),
)


def _check_image(image: torch.Tensor, what: str = "image") -> None:
    if not isinstance(image, torch.Tensor) or image.dim() != 4 or image.shape[1] != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"{what} must be a (B, 3, H, W) RGB tensor, got {shape}")


def _matrix(image: torch.Tensor) -> torch.Tensor:
    return torch.tensor(RGB_TO_YIQ, dtype=image.dtype, device=image.device)


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    """``(B, 3, H, W)`` RGB → YIQ (``Y`` in [0, 1]; ``I, Q`` signed). Linear, exactly invertible."""
    _check_image(image)
    return torch.einsum("ij,bjhw->bihw", _matrix(image), image)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """YIQ → RGB, the exact inverse of :func:`rgb_to_yiq` (no clamping)."""
    _check_image(image)
    inv = torch.linalg.inv(torch.tensor(RGB_TO_YIQ, dtype=torch.float64)).to(image.device, image.dtype)
    return torch.einsum("ij,bjhw->bihw", inv, image)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """``Y = 0.299 R + 0.587 G + 0.114 B`` as a ``(B, 1, H, W)`` map."""
    return rgb_to_yiq(image)[:, :1]


def grey3(y: torch.Tensor) -> torch.Tensor:
    """A ``(B, 1, H, W)`` luminance map repeated to a 3-channel grey image (what the network sees)."""
    if y.dim() != 4 or y.shape[1] != 1:
        raise ValueError(f"expected a (B, 1, H, W) luminance map, got {tuple(y.shape)}")
    return y.expand(-1, 3, -1, -1).contiguous()


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor) -> torch.Tensor:
    """``Y_s' = (σ_c / σ_s)(Y_s − μ_s) + μ_c``: give the style's luminance the content's mean and std.

    Biased standard deviations over all pixels of each image (Gatys et al.
    2016, "Preserving Color", eq. 1). Shapes ``(B, 1, H, W)``.
    """
    ms, ss = style_y.mean((1, 2, 3), keepdim=True), style_y.std((1, 2, 3), unbiased=False, keepdim=True)
    mc, sc = content_y.mean((1, 2, 3), keepdim=True), content_y.std((1, 2, 3), unbiased=False, keepdim=True)
    return (style_y - ms) * (sc / ss.clamp_min(1e-12)) + mc


def luminance_transfer(content: torch.Tensor, stylised: torch.Tensor, clamp: bool = False) -> torch.Tensor:
    """Keep the content's colour: ``Y`` from ``stylised``, ``I, Q`` from ``content``.

    ``stylised`` may be RGB ``(B, 3, H, W)`` (its luminance is taken) or a
    luminance map ``(B, 1, H, W)``. Without ``clamp`` the result's ``I, Q`` equal
    the content's exactly (to rounding); clamping to [0, 1] for display can
    change them slightly where RGB leaves the cube.

    Example:
        >>> import torch
        >>> content = torch.tensor([0.8, 0.2, 0.2]).view(1, 3, 1, 1).expand(1, 3, 4, 4)  # red
        >>> stylised = torch.full((1, 3, 4, 4), 0.5)  # grey: the style's luminance, no colour
        >>> out = luminance_transfer(content, stylised)
        >>> torch.allclose(luminance(out), luminance(stylised), atol=1e-6)  # luminance from the stylised image
        True
        >>> torch.allclose(rgb_to_yiq(out)[:, 1:], rgb_to_yiq(content)[:, 1:], atol=1e-6)  # chroma (I, Q) from the content
        True
    """
    _check_image(content, "content")
    stylised = follow(content, stylised)  # device rule: the second image follows the first
    y = stylised if stylised.dim() == 4 and stylised.shape[1] == 1 else luminance(stylised)
    if y.shape[-2:] != content.shape[-2:]:
        raise ValueError(f"stylised {tuple(y.shape[-2:])} and content {tuple(content.shape[-2:])} must have the same size")
    yiq = rgb_to_yiq(content)
    out = yiq_to_rgb(torch.cat([y.to(yiq.dtype), yiq[:, 1:]], dim=1))
    return out.clamp(0, 1) if clamp else out


def _coral_matrix(cs, n_s: int, ct, n_t: int, eye) -> torch.Tensor:
    """``diag(σ_t) Ĉ_t^{1/2} Ĉ_s^{-1/2} diag(σ_s)^{-1}`` from biased covariances of ``n_s``/``n_t`` pixels."""
    def std_and_chat(cov, n):
        std = (cov.diagonal(dim1=-2, dim2=-1) * n / max(n - 1, 1)).sqrt().clamp_min(1e-12)  # unbiased
        return std, n * cov / (std[..., :, None] * std[..., None, :]) + eye

    std_s, chat_s = std_and_chat(cs, n_s)
    std_t, chat_t = std_and_chat(ct, n_t)
    a = psd_power(chat_t, 0.5, None) @ psd_power(chat_s, -0.5, None)
    return std_t[..., :, None] * a / std_s[..., None, :]


def colour_stats(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel mean ``(B, 3)`` and biased covariance ``(B, 3, 3)`` (``÷ H·W``) of RGB images."""
    _check_image(image)
    x = image.flatten(2)
    mu = x.mean(2)
    xc = x - mu[..., None]
    return mu, xc @ xc.transpose(1, 2) / x.shape[2]


def match_colour(
    source: torch.Tensor,
    target: torch.Tensor,
    mode: Literal["pca", "cholesky", "coral"] = "pca",
    eps: float = 1e-5,
    clamp: bool = True,
) -> torch.Tensor:
    """Colour histogram matching: affine ``x' = A (x − μ_s) + μ_t`` so ``source`` gets ``target``'s colour mean and covariance.

    ``"pca"`` (symmetric): ``A = Σ_t^{1/2} Σ_s^{-1/2}`` (eigendecomposition);
    ``"cholesky"``: ``A = L_t L_s^{-1}`` with ``Σ = L Lᵀ``. Both make
    ``Cov(x') = Σ_t`` exactly when ``eps = 0`` (``eps`` is added to the
    eigenvalues / diagonal of ``Σ_s`` and ``Σ_t`` for flat images). Biased
    covariances.
    ``"coral"``: pytorch-AdaIN's ``coral`` (its ``--preserve_color``; Sun et al.,
    "Return of Frustratingly Easy Domain Adaptation", AAAI 2016): each channel
    standardised by its mean and *unbiased* std ``σ``, ``Ĉ = X̂X̂ᵀ + I`` (not
    divided by N), ``A = diag(σ_t) Ĉ_t^{1/2} Ĉ_s^{-1/2} diag(σ_s)^{-1}``;
    ``eps`` is not used (the ``+ I`` regularises). Used for style transfer by recolouring the *style* image with
    the content's colours first (Gatys et al., CVPR 2017, sec. 5.1; the
    symmetric form is their "image analogies" variant).

    Args:
        source: ``(B, 3, H, W)`` image to recolour (the style).
        target: ``(1 or B, 3, H', W')`` whose colours it should get (the content).
        clamp: clamp the result to [0, 1] (set ``False`` to keep the exact statistics).

    The 3×3 map ``A`` is computed without gradient (this is preprocessing).

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> source, target = torch.rand(1, 3, 16, 16, generator=g), 0.2 + 0.5 * torch.rand(1, 3, 8, 8, generator=g)
        >>> out = match_colour(source, target, eps=0.0, clamp=False)  # "pca": Cov(out) = Cov(target)
        >>> torch.allclose(out.mean((2, 3)), target.mean((2, 3)), atol=1e-5)
        True
    """
    _check_image(source, "source")
    _check_image(target, "target")
    target = follow(source, target)  # device rule: the second image follows the first
    if mode not in ("pca", "cholesky", "coral"):
        raise ValueError(f"mode must be 'pca', 'cholesky' or 'coral', got {mode!r}")
    mu_s, cov_s = colour_stats(source)
    mu_t, cov_t = colour_stats(target)
    # The 3×3 factorisations run on the CPU in float64 (tiny; MPS has no eigh and no float64).
    cs, ct = cov_s.detach().cpu().double(), cov_t.detach().cpu().double()
    eye = torch.eye(3, dtype=torch.float64)
    if mode == "pca":
        a = psd_power(ct + eps * eye, 0.5, None, floor=1e-12) @ psd_power(cs + eps * eye, -0.5, None, floor=1e-12)
    elif mode == "coral":
        a = _coral_matrix(cs, source[0, 0].numel(), ct, target[0, 0].numel(), eye)
    else:
        a = torch.linalg.cholesky(ct + eps * eye) @ torch.linalg.inv(torch.linalg.cholesky(cs + eps * eye))
    a = a.to(source.device, source.dtype)
    x = source.flatten(2) - mu_s[..., None]
    out = (a @ x + mu_t[..., None]).reshape(source.shape)
    return out.clamp(0, 1) if clamp else out
