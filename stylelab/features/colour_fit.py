"""A per-pixel colour transform fitted by least squares on a thumbnail, applied to the full photo in one pass.

The idea of Neural Preset's DNCM (Ke et al., "Neural Preset for
Color Style Transfer", CVPR 2023): a photorealistic style transfer of a photo is
close to a function of each pixel's *colour* alone, so estimate that function
where it is cheap — on a thumbnail — and evaluate it per pixel at any size. Their
DNCM is a small colour network whose per-image matrices a trained encoder
predicts from the thumbnail; here, without their trained network, the function
is a polynomial in ``(r, g, b)`` fitted to a (thumbnail, stylised thumbnail)
pair by ridge-regularised least squares (polynomial colour correction, as in
Finlayson, Mackiewicz & Hurlbert, "Color Correction Using Root-Polynomial
Regression", IEEE TIP 2015)::

    φ_d(p) = every monomial r^i g^j b^k with i + j + k ≤ d     (d = 1: 4 terms, 2: 10, 3: 20)
    A = argmin_A  Σ_pixels ‖Aᵀ φ_d(c_p) − s_p‖² + λ ‖A‖²_F   (c: content thumbnail, s: stylised thumbnail)
      = (ΦᵀΦ + λI)⁻¹ Φᵀ S                                    (Φ: P × T, S: P × 3, A: T × 3)
    out_p = clamp(Aᵀ φ_d(x_p), 0, 1)                          (every pixel of the full photo)

``d = 1`` is an affine colour map (``3 × 3`` matrix + offset, the family of
colour-statistics transfers: AdaIN and WCT on pixels are affine), ``d = 2, 3``
bend the tone curves too. The cost of :func:`apply` is ``T × 3`` multiply-adds
per pixel, done in row bands so the extra memory is a band, not the photo's
``T`` feature planes: a 12 MP 8-bit photo goes through in about 0.2 s on one core
(BENCHMARKS.md). On the CPU the pass runs on one thread whatever
``torch.get_num_threads()`` says: it is bound by memory traffic, and every
operation of a band would end on an OpenMP barrier — on a busy 2-core machine
the same pass took 7–35 s with two threads (measured, load average 7).

It cannot add what is not a function of colour: two pixels of the same colour
get the same output, so textures and local contrast the stylisation added to
the thumbnail are lost (the reason it suits photorealistic, not artistic, style
transfer), and what the thumbnail does not contain (colours absent from it) is
extrapolated by the polynomial (``clamp`` then bounds it).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations_with_replacement

import torch

from ..validate import check_image

__all__ = ["ColourTransform", "monomials", "features", "fit", "apply", "DEGREES"]

#: Polynomial degrees :func:`fit` accepts.
DEGREES = (1, 2, 3)


def monomials(degree: int) -> list[tuple[int, ...]]:
    """The monomials of ``φ_d`` as tuples of channel indices (``()`` = 1, ``(0, 2)`` = r·b), in a fixed order."""
    if degree not in DEGREES:
        raise ValueError(f"degree must be one of {DEGREES}, got {degree!r}")
    return [m for k in range(degree + 1) for m in combinations_with_replacement(range(3), k)]


def features(pixels: torch.Tensor, degree: int) -> torch.Tensor:
    """``φ_d`` of ``(P, 3)`` colours → ``(P, T)``, one column per :func:`monomials` entry."""
    cols = []
    for m in monomials(degree):
        col = torch.ones_like(pixels[:, 0])
        for c in m:
            col = col * pixels[:, c]
        cols.append(col)
    return torch.stack(cols, 1)


@dataclass(frozen=True)
class ColourTransform:
    """A fitted colour map: ``coeffs`` ``(T, 3)`` (float64) of the polynomial of ``degree``; ``residual`` is the
    root-mean-square error of the fit on the thumbnail (in [0, 1] units)."""

    coeffs: torch.Tensor
    degree: int
    residual: float


def _pixels(image: torch.Tensor) -> torch.Tensor:
    """``(1, 3, H, W)`` → ``(H·W, 3)``."""
    return image[0].flatten(1).T


def fit(content: torch.Tensor, stylised: torch.Tensor, degree: int = 2, lam: float = 1e-4) -> ColourTransform:
    """Fit ``A`` of the module docstring from ``content`` to ``stylised`` (both ``(1, 3, h, w)`` in [0, 1], same size).

    Solved in float64 from the normal equations (``T ≤ 20`` unknowns per channel);
    ``lam`` (λ) is scaled by the number of pixels, so it does not depend on the thumbnail's size.
    """
    content, stylised = check_image(content, "content", batch=1), check_image(stylised, "stylised", batch=1)
    if content.shape != stylised.shape:
        raise ValueError(f"content {tuple(content.shape)} and stylised {tuple(stylised.shape)} must have one size: "
                         "fit on the thumbnail and its stylisation (resize the stylisation to the thumbnail)")
    if lam < 0:
        raise ValueError(f"lam must be ≥ 0, got {lam}")
    phi = features(_pixels(content).double(), degree)
    s = _pixels(stylised.to(content.device)).double()
    gram = phi.T @ phi + lam * phi.shape[0] * torch.eye(phi.shape[1], dtype=phi.dtype, device=phi.device)
    coeffs = torch.linalg.solve(gram, phi.T @ s)
    residual = float((phi @ coeffs - s).pow(2).mean().sqrt())
    return ColourTransform(coeffs.cpu(), degree, residual)


def apply(transform: ColourTransform, image: torch.Tensor, *, band: int = 64, clamp: bool = True,
          out: torch.Tensor | None = None) -> torch.Tensor:
    """``out_p = Aᵀ φ_d(x_p)`` for every pixel of ``image`` ``(B, 3, H, W)``, in bands of ``band`` rows.

    Each band's monomial planes are written into one ``(T, band·W)`` buffer (rows 1–3 are the
    band's colours themselves, each higher monomial one product of an earlier plane and a colour)
    and multiplied by ``Aᵀ`` (one small matrix product); the extra memory is that buffer and a
    ``(3, band·W)`` result, whatever the photo's size: no full-size float copy and no full-size
    monomial plane. Computed in float32 (float64 for a float64 image) on the image's device
    (≈ 1e-6 from the float64 evaluation).

    ``image`` is a float image in [0, 1] or an 8-bit photo (``uint8``, 0–255, any strides: e.g. the
    channels-last view :func:`stylelab.io.load_image` returns with ``dtype=torch.uint8``): then
    ``x = image / 255`` and the result is ``uint8`` too, ``round(255 · clamp(out, 0, 1))``.
    ``out`` may be given (e.g. ``image`` itself, to overwrite it band by band: no second photo in
    memory). The values of a float image are not checked here (a pass over 12 MP costs more than
    the map): callers check the image once (:meth:`stylelab.methods.colour_map.ColourMap.stylize` does).
    Returns ``(B, 3, H, W)`` of ``image``'s dtype, clamped to [0, 1] unless ``clamp=False`` (float only).
    """
    image = check_image(image, "image", values=False, uint8=True)
    dtype, scale = (torch.float32, 1 / 255) if image.dtype == torch.uint8 else (image.dtype, None)
    if band < 1:
        raise ValueError(f"band must be ≥ 1 row, got {band}")
    out = torch.empty_like(image) if out is None else out
    if out.shape != image.shape or out.dtype != image.dtype:
        raise ValueError(f"out must have the image's shape and dtype {tuple(image.shape)} {image.dtype}, "
                         f"got {tuple(out.shape)} {out.dtype}")
    threads = torch.get_num_threads()
    if image.device.type == "cpu":  # module docstring: one thread is faster here than several
        torch.set_num_threads(1)
    try:
        return _apply_bands(transform, image, out, band, dtype, scale, clamp)
    finally:
        torch.set_num_threads(threads)


def _apply_bands(transform: ColourTransform, image, out, band: int, dtype, scale, clamp: bool) -> torch.Tensor:
    """The loop of :func:`apply` (its arguments checked)."""
    a_t = transform.coeffs.T.to(image.device, dtype).contiguous()  # (3, T)
    terms = monomials(transform.degree)
    h_all, w = image.shape[-2:]
    rows = min(band, h_all)
    planes_all = torch.empty(len(terms), rows * w, dtype=dtype, device=image.device)
    planes_all[0].fill_(1)  # the constant monomial, once
    y_all = torch.empty(3, rows * w, dtype=dtype, device=image.device)
    for b in range(image.shape[0]):
        for y0 in range(0, h_all, rows):
            src = image[b, :, y0:y0 + rows]
            h = src.shape[1]
            n = h * w
            planes, y = planes_all[:, :n], y_all[:, :n]
            planes[1:4].view(3, h, w).copy_(src)  # φ's linear terms: r, g, b (uint8 → float here)
            if scale is not None:
                planes[1:4].mul_(scale)
            for t, m in enumerate(terms[4:], 4):  # r², r·g, …: each plane from an earlier one
                torch.mul(planes[terms.index(m[:-1])], planes[1 + m[-1]], out=planes[t])
            torch.matmul(a_t, planes, out=y)
            if scale is not None:
                y.clamp_(0, 1).mul_(255).add_(0.5)  # round half up when cast to uint8 (truncation)
            elif clamp:
                y.clamp_(0, 1)
            out[b, :, y0:y0 + h].copy_(y.view(3, h, w))
    return out
