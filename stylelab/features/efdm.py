"""Exact feature-distribution matching (EFDM) by sorting.

Y. Zhang, M. Li, R. Li, K. Jia, L. Zhang, "Exact Feature Distribution Matching
for Arbitrary Style Transfer and Domain Generalization", CVPR 2022.

AdaIN matches each channel's first two moments, WCT the covariance; EFDM
matches every order statistic of each channel — the whole one-dimensional
distribution — by *exact histogram matching* (EHM, Coltuc, Bolon & Chassery,
IEEE TIP 2006). For one channel of content ``x`` and style ``y`` with ``N``
positions each, sort both::

    x_{τ_1} ≤ x_{τ_2} ≤ … ≤ x_{τ_N},      y_{κ_1} ≤ y_{κ_2} ≤ … ≤ y_{κ_N}
    EFDM(x, y)_{τ_i} = y_{κ_i}                                  (paper, Eq. 6)

the ``i``-th smallest content value is replaced by the ``i``-th smallest style
value: the output's sorted values *are* the style's sorted values (so every
moment, quantile and histogram matches), and the content's spatial order
(which position holds which rank) is kept. Ties in ``x`` are broken by position
(a stable sort), so the result is deterministic.

**Autograd-friendly form** (paper, Eq. 9): sorting is piecewise constant in
``x``, so the paper writes the output as ::

    EFDM(x, y)_{τ_i} = x_{τ_i} + y_{κ_i} − ⟨x_{τ_i}⟩

with ``⟨·⟩`` the stop-gradient (computed as ``y_{κ_i} + (x_{τ_i} − ⟨x_{τ_i}⟩)``, whose value is
``y_{κ_i}`` to the last bit): the value is ``y_{κ_i}``, the gradient with
respect to ``x`` is the identity (as if the transform were a shift), and the
gradient with respect to ``y`` goes to the matched style values.

**Unequal sizes** (content ``N`` positions, style ``M``; the paper resizes the
features to the same size): the style's empirical quantile function is read at
the content's ranks. Content rank ``i`` (0-based) has quantile ``(i + 1)/N``;
the style's sorted values sit at quantiles ``(j + 1)/M``; the value is
interpolated linearly between them and clamped to ``[y_{κ_1}, y_{κ_M}]`` at
the ends — scikit-image's ``match_histograms`` rule (which the tests use as the
oracle). With ``N = M`` it is exactly the sorted style values.

In pixel space (``C = 3``) EFDM is per-channel histogram matching of colours.
"""

from __future__ import annotations

import torch

from .whitening import blend, check_pair

__all__ = ["efdm", "quantile_values"]


def quantile_values(sorted_style: torch.Tensor, n: int) -> torch.Tensor:
    """The style's values at ``n`` content ranks: ``(…, M)`` sorted values → ``(…, n)`` (module docstring rule).

    ``n == M`` returns ``sorted_style`` itself; otherwise rank ``i`` reads position
    ``p_i = (i + 1)·M/n − 1`` of the sorted values, linearly interpolated, clamped to ``[0, M − 1]``.
    """
    m = sorted_style.shape[-1]
    if n == m:
        return sorted_style
    pos = (torch.arange(1, n + 1, dtype=torch.float64, device=sorted_style.device) * m / n - 1).clamp(0, m - 1)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=m - 1)
    w = (pos - lo).to(sorted_style.dtype)
    return sorted_style[..., lo] * (1 - w) + sorted_style[..., hi] * w


def efdm(content_feat: torch.Tensor, style_feat: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """EFDM of ``content_feat`` to ``style_feat``, per sample and per channel (module docstring).

    ``out_{τ_i} = x_{τ_i} + q_i − ⟨x_{τ_i}⟩`` with ``q`` the sorted style values
    (:func:`quantile_values` when the sizes differ), then ``α·out + (1 − α)·x``.

    Args:
        content_feat: ``(B, C, H, W)`` (features, or an RGB image for colour histogram matching).
        style_feat: ``(B or 1, C, H', W')``; any spatial size.
        alpha: style strength in [0, 1].

    Returns:
        ``(B, C, H, W)`` in the content's dtype and device; differentiable in both inputs (paper, Eq. 9).
    """
    content_feat, style_feat = check_pair(content_feat, style_feat)
    b, c = content_feat.shape[:2]
    x = content_feat.flatten(2)
    y = style_feat.flatten(2).to(x.dtype).expand(b, -1, -1)
    order = x.detach().argsort(dim=-1, stable=True)  # τ: positions of the content's values in increasing order
    target = quantile_values(y.sort(dim=-1).values, x.shape[-1])  # q_i: the i-th smallest (style) value
    matched = torch.zeros_like(target).scatter(-1, order, target)  # q_i at position τ_i
    out = matched + (x - x.detach())  # Eq. 9 written so the value is q exactly (x − ⟨x⟩ = 0 in floating point)
    return blend(alpha, out.view_as(content_feat), content_feat)
