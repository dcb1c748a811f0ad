"""Whitening and colouring: the linear algebra of WCT on one feature matrix, and its presets.

Y. Li, C. Fang, J. Yang, Z. Wang, X. Lu, M.-H. Yang, "Universal Style Transfer
via Feature Transforms", NeurIPS 2017, eqs. 2–3. For a content matrix
``F_c`` (``C × N``) and a style matrix ``F_s`` (``C × M``)::

    Σ_c + ε_c I = E_c D_c E_cᵀ,      Σ_s + ε_s I = E_s D_s E_sᵀ     (÷(N−1))
    W_c = E_c D_c^{-1/2} E_cᵀ  (whitening),   C_s = E_s D_s^{1/2} E_sᵀ  (colouring)
    T = C_s W_c (F_c − μ_c) + μ_s

**Which whitening.** Any ``W`` with ``W Σ_c Wᵀ = I`` whitens, and every such
``W`` is ``Q Σ_c^{-1/2}`` for an orthogonal ``Q``: whitening is unique only up to
a rotation. ``whitening="zca"`` (the default, Li et al.) takes ``Q = I``, the
symmetric ``W = Σ^{-1/2}``: of all whitenings it moves the centred features
least, ``argmin_W E‖W x − x‖²`` (Kessy, Lewin & Strimmer, "Optimal Whitening
and Decorrelation", The American Statistician 2018), and it treats every
channel alike (it commutes with a permutation of the channels).
``whitening="cholesky"`` (as CAP-VSTNet, Wen et al., CVPR 2023, does) factors
``Σ_c + ε_c I = L_c L_cᵀ`` (``L`` lower triangular) and takes ``W = L_c⁻¹`` and
``C_s = L_s``: no eigen-decomposition (cheaper, stable gradients), and still
``C_s W_c Σ_c W_cᵀ C_sᵀ = Σ_s``, but the result depends on the channels'
order (the first channel is only rescaled, the last one is decorrelated from
all others). It needs ``Σ + εI`` positive definite (``ε > 0`` when ``N ≤ C``).

The reference implementations differ in ``ε``, the eigenvalue cut-off, the
clamp and the dtype: :class:`WCTConfig` holds these choices and
:data:`WCT_PRESETS` names them after the implementations. The transforms on
``(B, C, H, W)`` features (with labels, α and a style prepared once) are in
:mod:`stylelab.features.transforms`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import torch

from .linalg import compute_place, covariance, regularised_power
from .shared_statistics import content_statistics

__all__ = [
    "WCTConfig", "WCT_PRESETS", "wct_config", "whitening_matrix", "colouring_matrix", "colouring_or_none",
    "apply_colouring", "wct_matrix", "whiten", "WHITENINGS", "cholesky_factor", "colour", "check_features", "check_pair", "blend",
]


# ============================================================================ checks
def check_features(x: torch.Tensor, name: str) -> torch.Tensor:
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


def check_pair(content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    check_features(content, "content_feat")
    check_features(style, "style_feat")
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


def blend(alpha: float, transformed: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1] (1 = full style, 0 = content), got {alpha}")
    if alpha == 1.0:
        return transformed
    return alpha * transformed + (1.0 - alpha) * content


# ============================================================================ presets and matrices
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
        whitening: ``"zca"`` (``Σ^{∓1/2}`` by eigen-decomposition, Li et al.) or
            ``"cholesky"`` (``L⁻¹`` and ``L`` of ``Σ + εI = L Lᵀ``, CAP-VSTNet); module docstring.
    """

    eps_content: float = 0.0
    eps_style: float = 0.0
    eig_threshold: float | str = "auto"
    clamp: bool = False
    compute_dtype: torch.dtype | None = torch.float64
    unbiased: bool = True
    whitening: str = "zca"

    def __post_init__(self):
        if self.whitening not in WHITENINGS:
            raise ValueError(f"whitening must be one of {WHITENINGS}, got {self.whitening!r}")


#: The whitenings :class:`WCTConfig` offers (module docstring).
WHITENINGS = ("zca", "cholesky")


#: WCT presets named after the implementations (official files: UniversalStyleTransfer ``test_wct.lua``,
#: PytorchWCT ``util.py``, FastPhotoStyle ``photo_wct.py``, WCT2 ``utils/core.py``):
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


def cholesky_factor(x: torch.Tensor, eps: float, unbiased: bool = True, centred: bool = False) -> torch.Tensor:
    """``L`` (lower triangular, positive diagonal) with ``Σ + εI = L Lᵀ``, ``Σ`` the channel covariance of
    a ``(C, N)`` matrix (``centred=True``: ``x`` is already ``F − μ``).

    Raises ``ValueError`` when ``Σ + εI`` is not positive definite (fewer positions than channels,
    constant channels): pass ``eps > 0`` or use ``whitening="zca"``, which drops null directions.
    """
    cov = covariance(x, unbiased, centred)
    cov = cov + eps * torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
    lower, info = torch.linalg.cholesky_ex(cov)
    if int(info) != 0:
        raise ValueError(
            f"Cholesky whitening needs a positive-definite covariance; this one ({x.shape[-2]} channels, "
            f"{x.shape[-1]} positions, eps={eps}) is singular: give eps > 0 (e.g. eps_content=1e-5) "
            "or use whitening='zca'")
    return lower


def _power(x: torch.Tensor, eps: float, power: float, cfg: WCTConfig, method: str, centred: bool = False):
    """``(Σ + εI)^{power}`` (ZCA) or its Cholesky counterpart ``L⁻¹`` (power −½) / ``L`` (power +½)."""
    if cfg.whitening == "zca":
        return regularised_power(x, eps, power, cfg.eig_threshold, cfg.unbiased, method, centred=centred)
    lower = cholesky_factor(x, eps, cfg.unbiased, centred)
    if power > 0:
        return lower
    eye = torch.eye(lower.shape[-1], dtype=lower.dtype, device=lower.device)
    return torch.linalg.solve_triangular(lower, eye, upper=False)


def whitening_matrix(content: torch.Tensor, cfg: WCTConfig, method: str = "eigh") -> tuple[torch.Tensor, torch.Tensor]:
    """``(W, μ_c)`` for a matrix ``(C, N)``: ``W = E_c D_c^{-1/2} E_cᵀ`` of ``Σ_c + ε_c I``
    (:func:`stylelab.features.linalg.regularised_power`; the ``N × N`` route when ``N < C``), or
    ``W = L_c⁻¹`` with ``whitening="cholesky"``."""
    return _power(content, cfg.eps_content, -0.5, cfg, method), content.mean(-1, keepdim=True)


def colouring_matrix(style: torch.Tensor, cfg: WCTConfig, method: str = "eigh") -> tuple[torch.Tensor, torch.Tensor]:
    """``(C_s, μ_s)`` for a matrix ``(C, M)``: ``C_s = E_s D_s^{1/2} E_sᵀ`` of ``Σ_s + ε_s I``
    (``C_s = L_s`` with ``whitening="cholesky"``)."""
    return _power(style, cfg.eps_style, 0.5, cfg, method), style.mean(-1, keepdim=True)


def colouring_or_none(style: torch.Tensor, cfg: WCTConfig, method: str):
    """:func:`colouring_matrix` in the compute dtype/place, or ``None`` for no position.

    One position (a label region reduced to one pixel) has covariance 0
    (``÷ max(M − 1, 1)``), so ``Σ_s + ε_s I = ε_s I``: it colours with ``√ε_s I`` and
    its pixel as the mean (what the WCT² code computes; FastPhotoStyle divides by
    ``M − 1`` and produces NaN there).
    """
    if style.shape[-1] == 0:
        return None
    device, dtype = compute_place(style, cfg.compute_dtype)
    return colouring_matrix(style.to(device, dtype), cfg, method)


def apply_colouring(content: torch.Tensor, col, cfg: WCTConfig, method: str) -> torch.Tensor:
    """``C_s W_c (F_c − μ_c) + μ_s`` for one ``(C, N)`` matrix, clamped to ``[min F_c, max F_c]`` if ``cfg.clamp``.

    One pass centres ``F_c``; the covariance and the product both reuse it,
    ``(C_s W_c)`` is formed first (C³ instead of a second C²·N product) and
    ``addmm`` adds ``μ_s``. Computed in ``cfg.compute_dtype``, returned in the input's.
    """
    if col is None or content.shape[-1] == 0:
        return content
    device, dtype = compute_place(content, cfg.compute_dtype)
    x = content.to(device, dtype)

    def stats():
        mu = x.mean(-1, keepdim=True)
        w = _power(x - mu, cfg.eps_content, -0.5, cfg, method, centred=True)
        return (mu, w, *torch.aminmax(content)) if cfg.clamp else (mu, w)

    # through the statistics hook (features.shared_statistics): a tiled transfer replays the whole image's
    # (μ_c, W_c, clamp range) on every tile
    mu, w, *clamp_range = content_statistics("wct", stats)
    xc = x - mu
    cs, mu_s = (t.to(device, dtype) for t in col)
    out = torch.addmm(mu_s, cs @ w, xc).to(content.device, content.dtype)
    if cfg.clamp:
        out.clamp_(*clamp_range)
    return out


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
    if content.shape[-1] == 0:
        return content
    return apply_colouring(content, colouring_or_none(style, cfg, method), cfg, method)


# ============================================================================ WCT on features, step by step
def whiten(
    feat: torch.Tensor,
    eps: float = 0.0,
    eig_threshold: float | str = "auto",
    *,
    unbiased: bool = True,
    compute_dtype: torch.dtype | None = torch.float64,
    method: Literal["eigh", "svd"] = "eigh",
    whitening: str = "zca",
) -> torch.Tensor:
    """Whitening: ``Ŵ = E D^{-1/2} Eᵀ (F − μ)`` with ``Σ + ε I = E D Eᵀ`` (Li et al. 2017, Eq. 2);
    ``whitening="cholesky"``: ``Ŵ = L⁻¹ (F − μ)`` with ``Σ + ε I = L Lᵀ`` (CAP-VSTNet, Wen et al. 2023).

    With ``eps = 0`` and a full-rank covariance the result has covariance ``I``
    and zero mean: all correlation structure (the "style") is removed, the
    spatial arrangement (the "content") stays.

    Args:
        feat: ``(B, C, H, W)``.
        eps: added to the covariance's diagonal.
        eig_threshold: eigenvalues below it are dropped (``"auto"`` = relative cut-off).

    Returns:
        ``(B, C, H, W)`` whitened features (input dtype and device).

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> feat = torch.randn(1, 3, 10, 10, generator=g, dtype=torch.float64) * torch.tensor([1.0, 5, 10]).view(1, 3, 1, 1)
        >>> w = whiten(feat)
        >>> torch.allclose(torch.cov(w.flatten(2)[0]), torch.eye(3, dtype=torch.float64))  # unbiased covariance I
        True
        >>> torch.allclose(w.mean((2, 3)), torch.zeros(1, 3, dtype=torch.float64))
        True
    """
    check_features(feat, "feat")
    cfg = WCTConfig(eps_content=eps, eig_threshold=eig_threshold, compute_dtype=compute_dtype, unbiased=unbiased,
                    whitening=whitening)
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
    whitening: str = "zca",
) -> torch.Tensor:
    """Colouring: ``E_s D_s^{1/2} E_sᵀ Ŵ + μ_s`` with ``Σ_s + ε I = E_s D_s E_sᵀ`` (Li et al. 2017, Eq. 3);
    ``whitening="cholesky"``: ``L_s Ŵ + μ_s`` with ``Σ_s + ε I = L_s L_sᵀ``.

    Args:
        whitened: ``(B, C, H, W)`` output of :func:`whiten`.
        style_feat: ``(B, C, H', W')`` or ``(1, C, H', W')``.

    Returns:
        ``(B, C, H, W)``: if ``whitened`` has identity covariance, the result has
        the style's mean and covariance.

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> content = torch.randn(1, 3, 10, 10, generator=g, dtype=torch.float64)
        >>> style = torch.randn(1, 3, 8, 8, generator=g, dtype=torch.float64) + torch.tensor([1.0, 2, 3]).view(1, 3, 1, 1)
        >>> out = colour(whiten(content), style)  # whitening then colouring: WCT
        >>> torch.allclose(torch.cov(out.flatten(2)[0]), torch.cov(style.flatten(2)[0]))
        True
        >>> torch.allclose(out.mean((2, 3)), style.mean((2, 3)))
        True
    """
    whitened, style_feat = check_pair(whitened, style_feat)
    cfg = WCTConfig(eps_style=eps, eig_threshold=eig_threshold, compute_dtype=compute_dtype, unbiased=unbiased,
                    whitening=whitening)
    out = []
    for b, x in enumerate(whitened.flatten(2)):
        s = style_feat[b if style_feat.shape[0] > 1 else 0].flatten(1)
        device, dtype = compute_place(x, cfg.compute_dtype)
        col, mu = colouring_matrix(s.to(device, dtype), cfg, method)
        out.append((col @ x.to(device, dtype) + mu).to(whitened.device, whitened.dtype))
    return torch.stack(out).view_as(whitened)
