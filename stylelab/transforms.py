"""Feature transforms of feed-forward style transfer: AdaIN and WCT, their pieces, label maps.

Everything here is a plain function on ``(B, C, H, W)`` tensors that works for
deep features and, unchanged, for pixels (``C = 3``): AdaIN on pixels is
mean/std colour transfer, WCT on pixels is full-covariance colour transfer.

Papers
    * AdaIN — X. Huang and S. Belongie, "Arbitrary Style Transfer in Real-time
      with Adaptive Instance Normalization", ICCV 2017.
    * WCT — Y. Li, C. Fang, J. Yang, Z. Wang, X. Lu, M.-H. Yang, "Universal
      Style Transfer via Feature Transforms", NeurIPS 2017.
    * PhotoWCT — Y. Li et al., "A Closed-form Solution to Photorealistic Image
      Stylization", ECCV 2018.
    * WCT² — J. Yoo et al., "Photorealistic Style Transfer via Wavelet
      Transforms", ICCV 2019.

Conventions
    * Statistics are per sample and per channel over the ``H·W`` positions.
    * ``unbiased=True`` divides by ``N − 1``, ``False`` by ``N``.
    * ``eps`` of :func:`mean_std` is added to the *variance* before the square root.
    * ``eps`` of the WCT functions is added to the *covariance* as ``eps · I``.
    * Label maps are integer tensors ``(H, W)`` or ``(B, 1, H, W)``.

The reference implementations disagree on these small choices and the results
differ visibly, so every choice is a parameter and the ``preset`` argument
names the implementation whose choices you want (see :data:`ADAIN_PRESETS`
and :data:`WCT_PRESETS`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Sequence

import torch

__all__ = [
    "mean_std", "adain", "ADAIN_PRESETS", "covariance", "whiten", "colour", "wct", "WCT_PRESETS",
    "WCTConfig", "wct_config", "wct_matrix", "whitening_matrix", "colouring_matrix", "check_labels", "resize_labels", "usable_labels",
    "labels_from_rgb", "DPST_PALETTE", "interpolate_styles", "coral", "sym_eig",
]


# ============================================================================ helpers
def _check_feat(x: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (B, C, H, W), got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(
            f"{name} must have shape (B, C, H, W), got {tuple(x.shape)}"
            + (" — add a batch dimension with .unsqueeze(0)" if x.dim() == 3 else "")
        )
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}; use .float()")
    return x


def _pair(content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    _check_feat(content, "content_feat")
    _check_feat(style, "style_feat")
    if content.shape[1] != style.shape[1]:
        raise ValueError(
            f"content_feat has {content.shape[1]} channels but style_feat has {style.shape[1]}: "
            "encode both images with the same layer."
        )
    if style.shape[0] not in (1, content.shape[0]):
        raise ValueError(
            f"style_feat has batch size {style.shape[0]}, content_feat {content.shape[0]}: "
            "use one style for all, or one per content image."
        )
    if style.device != content.device:
        raise ValueError(f"content_feat is on {content.device} but style_feat on {style.device}; move one.")
    return content, style


def _blend(alpha: float, transformed: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1] (1 = full style, 0 = content), got {alpha}")
    if alpha == 1.0:
        return transformed
    return alpha * transformed + (1.0 - alpha) * content


# ============================================================================ AdaIN
def mean_std(feat: torch.Tensor, unbiased: bool = True, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample, per-channel mean and standard deviation over the spatial positions.

    ``μ_bc = (1/N) Σ_n x_bcn`` and ``σ_bc = sqrt(Σ_n (x_bcn − μ_bc)² / D + eps)``
    with ``D = N − 1`` (``unbiased=True``, PyTorch's ``Tensor.var`` default, as
    pytorch-AdaIN's ``calc_mean_std``) or ``D = N`` (``unbiased=False``).

    Args:
        feat: ``(B, C, H, W)`` (or ``(B, C, N)``).
        eps: added to the variance before the square root.

    Returns:
        ``(mean, std)``, each ``(B, C, 1, 1)`` (``(B, C, 1)`` for 3-D input).
    """
    if feat.dim() not in (3, 4):
        raise ValueError(f"feat must have shape (B, C, H, W) or (B, C, N), got {tuple(feat.shape)}")
    flat = feat.flatten(2)
    n = flat.shape[-1]
    if unbiased and n < 2:
        raise ValueError("an unbiased variance needs at least 2 positions; pass unbiased=False")
    mean = flat.mean(-1)
    var = flat.var(-1, unbiased=unbiased) + eps
    std = var.sqrt()
    shape = feat.shape[:2] + (1,) * (feat.dim() - 2)
    return mean.view(shape), std.view(shape)


#: AdaIN conventions per implementation: ``(content_unbiased, content_eps, style_unbiased, style_eps)``.
#:
#: * ``"pytorch"`` — naoto0804/pytorch-AdaIN (``function.py``): unbiased
#:   variance + 1e-5 for both content and style.
#: * ``"official"`` — xunhuang1995/AdaIN-style (Torch): the style std is
#:   biased with no eps; the content is normalised by a batch-norm layer in
#:   training mode, i.e. biased variance + 1e-5.
ADAIN_PRESETS: dict[str, tuple[bool, float, bool, float]] = {
    "pytorch": (True, 1e-5, True, 1e-5),
    "official": (False, 1e-5, False, 0.0),
}


def _adain_matrix(c: torch.Tensor, s: torch.Tensor, cu: bool, ce: float, su: bool, se: float) -> torch.Tensor:
    """AdaIN on matrices ``(C, N)``, ``(C, M)`` (label regions).

    A region of one pixel has variance 0 (``÷ max(N − 1, 1)``, as :func:`covariance`):
    a 1-pixel content region becomes the style region's mean, a 1-pixel style
    region gives its pixel's value (times ``sqrt(eps)/σ_c`` around it). No
    official AdaIN has labels; this is the rule of the WCT references' covariance.
    """
    if c.shape[-1] == 0 or s.shape[-1] == 0:
        return c

    def var(x, unbiased):
        d = max(x.shape[-1] - 1, 1) if unbiased else x.shape[-1]
        return (x - x.mean(-1, keepdim=True)).pow(2).sum(-1, keepdim=True) / d

    mc = c.mean(-1, keepdim=True)
    sc = (var(c, cu) + ce).sqrt()
    ms = s.mean(-1, keepdim=True)
    ss = (var(s, su) + se).sqrt()
    return (c - mc) / sc.clamp_min(torch.finfo(c.dtype).tiny) * ss + ms


def adain(
    content_feat: torch.Tensor,
    style_feat: torch.Tensor,
    alpha: float = 1.0,
    *,
    preset: Literal["pytorch", "official"] = "pytorch",
    eps: float | None = None,
    unbiased: bool | None = None,
    content_labels: torch.Tensor | None = None,
    style_labels: torch.Tensor | None = None,
    min_pixels: int = 10,
    max_ratio: float = 100.0,
) -> torch.Tensor:
    """Adaptive instance normalisation (Huang & Belongie, ICCV 2017).

    ``AdaIN(x, y) = σ(y) · (x − μ(x)) / σ(x) + μ(y)`` per sample and channel,
    then the blend ``α · AdaIN(x, y) + (1 − α) · x``.

    Args:
        content_feat: ``(B, C, H, W)``.
        style_feat: ``(B, C, H', W')`` or ``(1, C, H', W')`` (shared by all).
        alpha: style strength in [0, 1].
        preset: ``"pytorch"`` (naoto0804/pytorch-AdaIN: unbiased variance,
            ``eps = 1e-5`` under the square root for both) or ``"official"``
            (Torch AdaIN-style: style std biased without eps; content
            normalised with the biased variance + 1e-5). See :data:`ADAIN_PRESETS`.
        eps, unbiased: override the preset's value for *both* sides.
        content_labels, style_labels: optional label maps (see
            :func:`stylelab.labels.check_labels`); each usable label (:func:`stylelab.labels.label_report`)
            is transferred from the style region with the same label; pixels
            of other labels keep their content feature. The official Torch
            code has this (``-mask``); the PyTorch port dropped it.
        min_pixels, max_ratio: the label usability rule.

    Returns:
        ``(B, C, H, W)``, same dtype and device as ``content_feat``. With
        ``alpha=1`` each channel has exactly the style's mean and (with the same
        convention, eps aside) standard deviation.
    """
    content_feat, style_feat = _pair(content_feat, style_feat)
    if preset not in ADAIN_PRESETS:
        raise ValueError(f"Unknown AdaIN preset {preset!r}; choose one of {sorted(ADAIN_PRESETS)}.")
    cu, ce, su, se = ADAIN_PRESETS[preset]
    if unbiased is not None:
        cu = su = bool(unbiased)
    if eps is not None:
        ce = se = float(eps)
    if (content_labels is None) != (style_labels is None):
        raise ValueError("pass both content_labels and style_labels, or neither")
    if content_labels is None:
        mc, sc = mean_std(content_feat, cu, ce)
        ms, ss = mean_std(style_feat, su, se)
        out = (content_feat - mc) / sc.clamp_min(torch.finfo(sc.dtype).tiny) * ss + ms
        return _blend(alpha, out, content_feat)
    fn = lambda c, s: _adain_matrix(c, s, cu, ce, su, se)  # noqa: E731
    out = _labelled(fn, content_feat, style_feat, content_labels, style_labels, min_pixels, max_ratio)
    return _blend(alpha, out, content_feat)


def interpolate_styles(
    content_feat: torch.Tensor,
    style_feats: Sequence[torch.Tensor],
    weights: Sequence[float] | None = None,
    transform: Literal["adain", "wct"] = "adain",
    alpha: float = 1.0,
    **kwargs,
) -> torch.Tensor:
    """Style interpolation: ``Σ_k w_k T(x, y_k)`` with weights normalised to sum to 1.

    As in pytorch-AdaIN's ``test.py`` (and the AdaIN paper, Fig. 8): the
    content is transformed against each style separately and the transformed
    *features* are mixed (then decoded once). ``alpha`` blends the mixture with
    the content. ``kwargs`` go to :func:`adain` or :func:`wct`.
    """
    if len(style_feats) == 0:
        raise ValueError("give at least one style feature")
    w = torch.ones(len(style_feats), dtype=torch.float64) if weights is None else torch.as_tensor(weights, dtype=torch.float64)
    if w.numel() != len(style_feats) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weights must be {len(style_feats)} non-negative numbers with a positive sum, got {weights}")
    w = w / w.sum()
    fn = {"adain": adain, "wct": wct}.get(transform)
    if fn is None:
        raise ValueError(f"transform must be 'adain' or 'wct', got {transform!r}")
    mix = sum(float(wk) * fn(content_feat, s, **kwargs) for wk, s in zip(w, style_feats))
    return _blend(alpha, mix, content_feat)


# ============================================================================ covariance & eigen
def covariance(feat_matrix: torch.Tensor, unbiased: bool = True, centred: bool = False) -> torch.Tensor:
    """Channel covariance ``Σ = (F − μ)(F − μ)ᵀ / D`` with ``D = N − 1`` (unbiased) or ``N``.

    Args:
        feat_matrix: ``(C, N)``, ``(B, C, N)`` or ``(B, C, H, W)`` (flattened to
            ``N = H·W`` positions).
        centred: the input is already ``F − μ`` (saves a pass over it).

    Returns:
        ``(C, C)`` or ``(B, C, C)``.
    """
    x = feat_matrix.flatten(2) if feat_matrix.dim() == 4 else feat_matrix
    if x.dim() not in (2, 3):
        raise ValueError(f"expected (C, N), (B, C, N) or (B, C, H, W), got {tuple(feat_matrix.shape)}")
    n = x.shape[-1]
    xc = x if centred else x - x.mean(-1, keepdim=True)
    d = max(n - 1, 1) if unbiased else n
    return xc @ xc.transpose(-1, -2) / d


def sym_eig(cov: torch.Tensor, method: Literal["eigh", "svd"] = "eigh") -> tuple[torch.Tensor, torch.Tensor]:
    """Eigen-decomposition ``Σ = E diag(λ) Eᵀ`` of a symmetric PSD matrix, eigenvalues *descending*.

    ``"eigh"`` uses :func:`torch.linalg.eigh` (symmetric solver, faster);
    ``"svd"`` uses :func:`torch.linalg.svd` as the reference implementations do
    (``torch.svd``); for a PSD matrix the singular values are the eigenvalues.
    ``"eigh"`` falls back to SVD when the symmetric solver fails (it can, in
    float32, on the nearly singular covariances of random or sparse features).
    """
    if method == "eigh":
        # Scale to unit size first (LAPACK's float32 eigh can return NaN on matrices with
        # tiny entries, e.g. the features of a random network); fall back to SVD if it still fails.
        scale = cov.abs().amax(dim=(-2, -1), keepdim=True).clamp_min(torch.finfo(cov.dtype).tiny)
        try:
            lam, vec = torch.linalg.eigh(cov / scale)
            if bool(torch.isfinite(lam).all()):
                return lam.flip(-1) * scale.squeeze(-1), vec.flip(-1)
        except torch.linalg.LinAlgError:  # "failed to converge": ill-conditioned float32 input
            pass
        method = "svd"
    if method == "svd":
        u, s, _ = torch.linalg.svd(cov)
        return s, u
    raise ValueError(f"method must be 'eigh' or 'svd', got {method!r}")


def _keep(lam: torch.Tensor, threshold) -> torch.Tensor:
    """Boolean mask of the eigenvalues kept: ``λ ≥ threshold`` (absolute) or, for
    ``"auto"``, ``λ > λ_max · C · machine-eps`` (a tiny relative cut-off)."""
    if threshold == "auto":
        tol = lam.max().clamp_min(0) * lam.shape[-1] * torch.finfo(lam.dtype).eps
        return lam > tol
    return lam >= float(threshold)


def _matrix_power(cov: torch.Tensor, power: float, threshold, method: str) -> torch.Tensor:
    """``E_k diag(λ_k^power) E_kᵀ`` over the kept eigenvalues."""
    lam, vec = sym_eig(cov, method)
    keep = _keep(lam, threshold)
    lam_k = torch.where(keep, lam.clamp_min(torch.finfo(lam.dtype).tiny) ** power, torch.zeros_like(lam))
    return (vec * lam_k.unsqueeze(-2)) @ vec.transpose(-1, -2)


# ============================================================================ WCT presets
@dataclass(frozen=True)
class WCTConfig:
    """The small choices of a WCT implementation.

    Attributes:
        eps_content, eps_style: ``ε`` in ``Σ + ε·I`` for each side.
        eig_threshold: eigenvalues below it are dropped (absolute), or
            ``"auto"`` (relative: ``λ_max · C · machine-eps``).
        clamp: clamp the result to the content feature's [min, max] (WCT²).
        compute_dtype: dtype of the covariance/eigen computation (``None`` =
            the input's).
        unbiased: covariance divided by ``N − 1`` (all references) or ``N``.
    """

    eps_content: float = 0.0
    eps_style: float = 0.0
    eig_threshold: float | str = "auto"
    clamp: bool = False
    compute_dtype: torch.dtype | None = torch.float64
    unbiased: bool = True


#: WCT presets named after the implementations (methods.md §5, §6.2, §8.4):
#:
#: ``official_wct``  Yijunmaverick/UniversalStyleTransfer (Torch): no identity,
#:                   ÷(N−1), eigenvalues < 1e-5 dropped per side, float32. Its α default is 0.6.
#: ``pytorch_wct``   sunshineatnoon/PytorchWCT: +I on the content covariance only, float64.
#: ``photowct``      NVIDIA/FastPhotoStyle: +I on content only, threshold 1e-5, float32 (no α there).
#: ``wct2``          clovaai/WCT2: +I on both sides, clamp to the content's [min, max], float32.
#: ``exact``         no regularisation, relative eigen-threshold, float64: the output
#:                   covariance equals the style's (when the content covariance has full rank).
WCT_PRESETS: dict[str, WCTConfig] = {
    "official_wct": WCTConfig(0.0, 0.0, 1e-5, False, torch.float32),
    "pytorch_wct": WCTConfig(1.0, 0.0, 1e-5, False, torch.float64),
    "photowct": WCTConfig(1.0, 0.0, 1e-5, False, torch.float32),
    "wct2": WCTConfig(1.0, 1.0, 1e-5, True, torch.float32),
    "exact": WCTConfig(0.0, 0.0, "auto", False, torch.float64),
}


def wct_config(preset: str = "exact", **overrides) -> WCTConfig:
    """The :class:`WCTConfig` of ``preset`` with the non-``None`` ``overrides`` applied."""
    if preset not in WCT_PRESETS:
        raise ValueError(f"Unknown WCT preset {preset!r}; choose one of {sorted(WCT_PRESETS)}.")
    return replace(WCT_PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None})


def compute_place(x: torch.Tensor, dtype: torch.dtype | None) -> tuple[torch.device, torch.dtype]:
    """Where to run the eigen-decomposition: MPS has neither float64 nor ``linalg.eigh``,
    so on MPS the (C×C-sized) work runs on the CPU."""
    dtype = dtype or x.dtype
    device = x.device
    if device.type == "mps":
        device = torch.device("cpu")
    return device, dtype


#: Use the N × N Gram matrix instead of the C × C covariance when a matrix has
#: fewer positions than channels (deep layers of small images). Same result.
LOW_RANK = True


def _low_rank_power(x: torch.Tensor, eps: float, power: float, threshold, unbiased: bool, method: str) -> torch.Tensor:
    """``(Σ + εI)^power`` over the kept eigenvalues, with ``Σ = X̄X̄ᵀ/D`` of rank ≤ N < C,
    from the ``N × N`` matrix ``G = X̄ᵀX̄/D``: if ``G v = λ v`` then ``u = X̄ v / sqrt(Dλ)``
    is a unit eigenvector of ``Σ`` with eigenvalue ``λ``; every other eigenvalue of
    ``Σ + εI`` is ``ε``."""
    C, n = x.shape
    xc = x - x.mean(-1, keepdim=True)
    d = max(n - 1, 1) if unbiased else n
    lam, v = sym_eig(xc.transpose(-1, -2) @ xc / d, method)
    lam = lam.clamp_min(0)
    full = torch.cat([lam + eps, lam.new_full((C - n,), eps)])  # the spectrum of Σ + εI
    keep = _keep(full, threshold)
    nonzero = lam > lam.max() * n * torch.finfo(lam.dtype).eps  # directions that Σ actually has
    k_top = keep[:n] & nonzero
    u = xc @ v[:, k_top] / torch.sqrt(d * lam[k_top])
    rest_kept = bool(keep[n:].all()) if C > n else False  # the ε-eigenspace: all equal, kept or not together
    coef = (lam[k_top] + eps) ** power
    if rest_kept and eps > 0:
        base = eps ** power
        return (u * (coef - base)) @ u.transpose(-1, -2) + base * torch.eye(C, dtype=x.dtype, device=x.device)
    return (u * coef) @ u.transpose(-1, -2)


def regularised_power(
    x: torch.Tensor, eps: float, power: float, cfg: WCTConfig, method: str = "eigh", centred: bool = False
) -> torch.Tensor:
    """``(Σ + εI)^power`` over the kept eigenvalues (``cfg.eig_threshold``) for a ``(C, N)`` matrix ``x``,
    ``Σ`` its channel covariance; ``centred=True`` if ``x`` is already ``F − μ``. ``power`` −½ whitens, +½ colours."""
    if LOW_RANK and x.shape[-1] < x.shape[-2]:
        return _low_rank_power(x, eps, power, cfg.eig_threshold, cfg.unbiased, method)
    cov = covariance(x, cfg.unbiased, centred)
    cov = cov + eps * torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
    return _matrix_power(cov, power, cfg.eig_threshold, method)


def whitening_matrix(content: torch.Tensor, cfg: WCTConfig, method: str = "eigh") -> tuple[torch.Tensor, torch.Tensor]:
    """``(W, μ_c)`` for a matrix ``(C, N)``: ``W = E_c D_c^{-1/2} E_cᵀ`` of ``Σ_c + ε_c I``.

    With fewer positions than channels (``N < C``) it is computed from the
    ``N × N`` Gram matrix (same result, much cheaper; see :data:`LOW_RANK`).
    """
    return regularised_power(content, cfg.eps_content, -0.5, cfg, method), content.mean(-1, keepdim=True)


def colouring_matrix(style: torch.Tensor, cfg: WCTConfig, method: str = "eigh") -> tuple[torch.Tensor, torch.Tensor]:
    """``(C_s, μ_s)`` for a matrix ``(C, M)``: ``C_s = E_s D_s^{1/2} E_sᵀ`` of ``Σ_s + ε_s I`` (low-rank path as above)."""
    return regularised_power(style, cfg.eps_style, 0.5, cfg, method), style.mean(-1, keepdim=True)


def wct_matrix(content: torch.Tensor, style: torch.Tensor, cfg: WCTConfig | None = None, method: str = "eigh") -> torch.Tensor:
    """WCT of one content matrix ``(C, N)`` with one style matrix ``(C, M)``.

    ``out = C_s W (F_c − μ_c) + μ_s``, clamped to ``[min F_c, max F_c]`` if
    ``cfg.clamp``. Computed in ``cfg.compute_dtype``, returned in the input's.

    One column (a label region reduced to one pixel) has covariance 0
    (``÷ max(N − 1, 1)``), so ``Σ + εI = εI``: a 1-pixel content region becomes
    ``μ_s`` (then clamped), a 1-pixel style region colours with ``√ε_s I`` and
    its pixel as mean. That is what the WCT² code computes (its covariance is
    ``FFᵀ`` without division when ``N = 1``); FastPhotoStyle divides by ``N − 1``
    and produces NaN there (see :class:`stylelab.methods.photowct.PhotoWCT`).
    """
    cfg = cfg or WCT_PRESETS["exact"]
    if content.shape[-1] == 0 or style.shape[-1] == 0:
        return content
    device, dtype = compute_place(content, cfg.compute_dtype)
    c = content.to(device, dtype)
    s = style.to(device, dtype)
    w, mu_c = whitening_matrix(c, cfg, method)
    col, mu_s = colouring_matrix(s, cfg, method)
    out = (col @ (w @ (c - mu_c)) + mu_s).to(content.device, content.dtype)
    if cfg.clamp:
        out = out.clamp(content.min(), content.max())
    return out


# ============================================================================ WCT on features
def whiten(
    feat: torch.Tensor,
    eps: float = 0.0,
    eig_threshold: float | str = "auto",
    *,
    unbiased: bool = True,
    compute_dtype: torch.dtype | None = torch.float64,
    method: Literal["eigh", "svd"] = "eigh",
) -> torch.Tensor:
    """Whitening: ``Ŵ = E D^{-1/2} Eᵀ (F − μ)`` with ``Σ + ε I = E D Eᵀ`` (Li et al. 2017, Eq. 2).

    With ``eps = 0`` and a full-rank covariance the result has covariance ``I``
    and zero mean: all correlation structure (the "style") is removed, the
    spatial arrangement (the "content") stays.

    Args:
        feat: ``(B, C, H, W)``.
        eps: added to the covariance's diagonal.
        eig_threshold: eigenvalues below it are dropped (``"auto"`` = relative cut-off).

    Returns:
        ``(B, C, H, W)`` whitened features (input dtype and device).
    """
    _check_feat(feat, "feat")
    cfg = WCTConfig(eps_content=eps, eig_threshold=eig_threshold, compute_dtype=compute_dtype, unbiased=unbiased)
    out = []
    for x in feat.flatten(2):
        device, dtype = compute_place(x, cfg.compute_dtype)
        xc = x.to(device, dtype)
        w, mu = whitening_matrix(xc, cfg, method)
        out.append((w @ (xc - mu)).to(feat.device, feat.dtype))
    return torch.stack(out).view_as(feat)


def colour(
    whitened: torch.Tensor,
    style_feat: torch.Tensor,
    eps: float = 0.0,
    eig_threshold: float | str = "auto",
    *,
    unbiased: bool = True,
    compute_dtype: torch.dtype | None = torch.float64,
    method: Literal["eigh", "svd"] = "eigh",
) -> torch.Tensor:
    """Colouring: ``E_s D_s^{1/2} E_sᵀ Ŵ + μ_s`` with ``Σ_s + ε I = E_s D_s E_sᵀ`` (Li et al. 2017, Eq. 3).

    Args:
        whitened: ``(B, C, H, W)`` output of :func:`whiten`.
        style_feat: ``(B, C, H', W')`` or ``(1, C, H', W')``.

    Returns:
        ``(B, C, H, W)``: if ``whitened`` has identity covariance, the result has
        the style's mean and covariance.
    """
    whitened, style_feat = _pair(whitened, style_feat)
    cfg = WCTConfig(eps_style=eps, eig_threshold=eig_threshold, compute_dtype=compute_dtype, unbiased=unbiased)
    out = []
    for b, x in enumerate(whitened.flatten(2)):
        s = style_feat[b if style_feat.shape[0] > 1 else 0].flatten(1)
        device, dtype = compute_place(x, cfg.compute_dtype)
        col, mu = colouring_matrix(s.to(device, dtype), cfg, method)
        out.append((col @ x.to(device, dtype) + mu).to(whitened.device, whitened.dtype))
    return torch.stack(out).view_as(whitened)


def wct(
    content_feat: torch.Tensor,
    style_feat: torch.Tensor,
    alpha: float = 1.0,
    *,
    preset: str = "exact",
    eps_content: float | None = None,
    eps_style: float | None = None,
    eig_threshold: float | str | None = None,
    clamp: bool | None = None,
    compute_dtype: torch.dtype | None = None,
    method: Literal["eigh", "svd"] = "eigh",
    content_labels: torch.Tensor | None = None,
    style_labels: torch.Tensor | None = None,
    min_pixels: int = 10,
    max_ratio: float = 100.0,
) -> torch.Tensor:
    """Whitening and colouring transform (Li et al., NeurIPS 2017).

    Per sample, with ``F_c`` the content features as a ``C × N`` matrix and
    ``F_s`` the style's ``C × M``::

        Σ_c + ε_c I = E_c D_c E_cᵀ,      Σ_s + ε_s I = E_s D_s E_sᵀ     (÷(N−1))
        T = E_s D_s^{1/2} E_sᵀ · E_c D_c^{-1/2} E_cᵀ (F_c − μ_c) + μ_s
        T ← clamp(T, min F_c, max F_c)                                 (if clamp)
        out = α T + (1 − α) F_c

    Eigenvalues below ``eig_threshold`` are dropped on each side separately.

    Presets (:data:`WCT_PRESETS`) set ε, the threshold, clamping and the
    dtype of the named implementation; explicit keyword arguments override
    them. ``alpha`` is independent of the preset: the official WCT uses
    α = 0.6 by default, PytorchWCT and WCT² α = 1, PhotoWCT has no α (use 1).
    Only ``"exact"`` makes the output covariance equal the style's: the
    identity the others add is not small for normalised-VGG features, whose
    variances are O(1) (methods.md §12.1).

    Args:
        content_feat: ``(B, C, H, W)``.
        style_feat: ``(B, C, H', W')`` or ``(1, C, H', W')`` (any spatial size).
        alpha: style strength in [0, 1].
        method: ``"eigh"`` (symmetric eigen-solver) or ``"svd"`` (as the
            references' ``torch.svd``); results agree up to rounding.
        content_labels, style_labels: optional label maps (see
            :func:`stylelab.labels.check_labels`), at any resolution (resized with NEAREST to
            the feature size). WCT runs per usable label (:func:`stylelab.labels.label_report`,
            evaluated at the maps' given resolution) between the content and
            style pixels with that label; pixels of unused labels keep their
            content feature (PhotoWCT's rule, ``photo_wct.py``).
        min_pixels, max_ratio: the label usability rule.

    Returns:
        ``(B, C, H, W)`` in the input's dtype and device. On MPS the C×C
        eigen-problems run on the CPU (MPS has no float64 and no ``eigh``).
        When a side has fewer positions than channels the eigen-problem is
        solved on the ``N × N`` Gram matrix instead (:data:`LOW_RANK`).
        If ``eigh`` fails (float32, nearly singular), SVD is used.
    """
    content_feat, style_feat = _pair(content_feat, style_feat)
    cfg = wct_config(
        preset, eps_content=eps_content, eps_style=eps_style, eig_threshold=eig_threshold,
        clamp=clamp, compute_dtype=compute_dtype,
    )
    if method not in ("eigh", "svd"):
        raise ValueError(f"method must be 'eigh' or 'svd', got {method!r}")
    fn = lambda c, s: wct_matrix(c, s, cfg, method)  # noqa: E731
    if (content_labels is None) != (style_labels is None):
        raise ValueError("pass both content_labels and style_labels, or neither")
    if content_labels is None:
        out = []
        for b in range(content_feat.shape[0]):
            s = style_feat[b if style_feat.shape[0] > 1 else 0]
            out.append(fn(content_feat[b].flatten(1), s.flatten(1)).view_as(content_feat[b]))
        t = torch.stack(out)
    else:
        t = _labelled(fn, content_feat, style_feat, content_labels, style_labels, min_pixels, max_ratio)
    return _blend(alpha, t, content_feat)


# ============================================================================ labels
# Label maps live in stylelab.labels (one implementation for every method and the CLI);
# these names stay importable from here because the notebooks call them as T.<name>.
from .labels import DPST_PALETTE, check_labels, labels_from_rgb, resize_labels, usable_labels  # noqa: E402


def _labelled(fn, content, style, content_labels, style_labels, min_pixels, max_ratio) -> torch.Tensor:
    """Apply ``fn(C×N content, C×M style) → C×N`` per usable label, per sample (:func:`stylelab.labels.transfer_per_label`)."""
    from .labels import transfer_per_label

    return transfer_per_label(fn, content, style, content_labels, style_labels, None, min_pixels, max_ratio)


# ============================================================================ colour preservation
def _sqrtm_psd(m: torch.Tensor) -> torch.Tensor:
    u, s, vh = torch.linalg.svd(m)
    return u @ torch.diag_embed(s.sqrt()) @ vh


def coral(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CORAL colour alignment used for AdaIN's ``--preserve_color`` (pytorch-AdaIN ``coral``).

    Recolours ``source`` (the style image) so its RGB mean and covariance match
    ``target``'s (the content image), so the stylised result keeps the content's
    colours (Gatys et al., "Preserving color in neural artistic style transfer",
    2016; Sun et al., "Return of frustratingly easy domain adaptation", AAAI 2016).

    As in the port: each channel is standardised with its mean and *unbiased*
    std; ``Ĉ = X̂ X̂ᵀ + I`` (not divided by N) for both images;
    ``out = (Ĉ_t^{1/2} Ĉ_s^{-1/2} X̂_s) · σ_t + μ_t`` with matrix square roots
    by SVD. Unlike the port (CPU float tensors only) this runs on any device
    and dtype (on MPS the 3×3 algebra runs on the CPU).

    Args:
        source, target: ``(3, H, W)`` or ``(1, 3, H, W)`` images (any sizes).

    Returns:
        ``source``'s shape, dtype and device.
    """
    def flat(x, name):
        if x.dim() == 4:
            if x.shape[0] != 1:
                raise ValueError(f"{name}: one image at a time, got batch {x.shape[0]}")
            x = x[0]
        if x.dim() != 3 or x.shape[0] != 3:
            raise ValueError(f"{name} must be (3, H, W) or (1, 3, H, W), got {tuple(x.shape)}")
        return x.reshape(3, -1)

    s, t = flat(source, "source"), flat(target, "target")
    dev = torch.device("cpu") if s.device.type == "mps" else s.device
    s64, t64 = s.to(dev, torch.float64), t.to(dev, torch.float64)
    ms, ss = s64.mean(1, keepdim=True), s64.std(1, keepdim=True)
    mt, st = t64.mean(1, keepdim=True), t64.std(1, keepdim=True)
    sn = (s64 - ms) / ss.clamp_min(1e-12)
    tn = (t64 - mt) / st.clamp_min(1e-12)
    eye = torch.eye(3, dtype=torch.float64, device=dev)
    cs, ct = sn @ sn.T + eye, tn @ tn.T + eye
    out = _sqrtm_psd(ct) @ torch.linalg.inv(_sqrtm_psd(cs)) @ sn
    out = out * st + mt
    return out.to(source.device, source.dtype).view_as(source)
