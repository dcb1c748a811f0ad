"""Linear algebra of the feature transforms: covariances, symmetric eigen-problems, matrix powers.

One implementation each, used by WCT, PhotoWCT, WCT², video and colour
transfer (:mod:`stylelab.features.transforms`, :mod:`stylelab.features.colour`):

* :func:`covariance` — ``Σ = (F − μ)(F − μ)ᵀ / D``;
* :func:`sym_eig` — eigen-decomposition of a symmetric PSD matrix, descending;
* :func:`psd_power` — ``E diag(λ^p) Eᵀ`` over the kept eigenvalues: the one
  matrix square root (``p = ½``) and inverse square root (``p = −½``);
* :func:`regularised_power` — ``(Σ + εI)^p`` straight from a ``C × N`` feature
  matrix, through the ``N × N`` Gram matrix when ``N < C`` (:func:`low_rank_power`).

Conventions: ``unbiased=True`` divides by ``N − 1``, ``False`` by ``N``;
``eps`` is added to the covariance as ``eps · I``; eigenvalues below an
absolute ``threshold`` are dropped, or with ``"auto"`` those below
``λ_max · C · machine-eps``.
"""

from __future__ import annotations

from typing import Literal

import torch

__all__ = [
    "covariance", "sym_eig", "keep_eigenvalues", "psd_power", "low_rank_power", "regularised_power",
    "compute_place", "LOW_RANK",
]


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


def keep_eigenvalues(lam: torch.Tensor, threshold) -> torch.Tensor:
    """Boolean mask of the eigenvalues kept: ``λ ≥ threshold`` (absolute) or, for
    ``"auto"``, ``λ > λ_max · C · machine-eps`` (a tiny relative cut-off)."""
    if threshold == "auto":
        tol = lam.max().clamp_min(0) * lam.shape[-1] * torch.finfo(lam.dtype).eps
        return lam > tol
    return lam >= float(threshold)


def psd_power(
    cov: torch.Tensor,
    power: float,
    threshold: float | str | None = "auto",
    method: Literal["eigh", "svd"] = "eigh",
    floor: float | None = None,
) -> torch.Tensor:
    """``E_k diag(λ_k^power) E_kᵀ`` of a symmetric PSD matrix over its kept eigenvalues.

    ``power = ½`` is the principal square root, ``−½`` the inverse square root
    (whitening). ``threshold`` selects the kept eigenvalues
    (:func:`keep_eigenvalues`); ``None`` keeps all of them, each first raised
    to at least ``floor`` (default: the dtype's smallest normal number).
    Works on ``(C, C)`` and batched ``(B, C, C)`` matrices.
    """
    lam, vec = sym_eig(cov, method)
    powered = lam.clamp_min(torch.finfo(lam.dtype).tiny if floor is None else floor) ** power
    if threshold is not None:
        powered = torch.where(keep_eigenvalues(lam, threshold), powered, torch.zeros_like(lam))
    return (vec * powered.unsqueeze(-2)) @ vec.transpose(-1, -2)


#: Use the N × N Gram matrix instead of the C × C covariance when a matrix has
#: fewer positions than channels (deep layers of small images). Same result.
LOW_RANK = True


def low_rank_power(x: torch.Tensor, eps: float, power: float, threshold="auto", unbiased: bool = True,
                   method: str = "eigh") -> torch.Tensor:
    """``(Σ + εI)^power`` over the kept eigenvalues, with ``Σ = X̄X̄ᵀ/D`` of rank ≤ N < C,
    from the ``N × N`` matrix ``G = X̄ᵀX̄/D``: if ``G v = λ v`` then ``u = X̄ v / sqrt(Dλ)``
    is a unit eigenvector of ``Σ`` with eigenvalue ``λ``; every other eigenvalue of
    ``Σ + εI`` is ``ε``. Costs ``O(C N²)`` instead of ``O(C³)``."""
    C, n = x.shape
    xc = x - x.mean(-1, keepdim=True)
    d = max(n - 1, 1) if unbiased else n
    lam, v = sym_eig(xc.transpose(-1, -2) @ xc / d, method)
    lam = lam.clamp_min(0)
    full = torch.cat([lam + eps, lam.new_full((C - n,), eps)])  # the spectrum of Σ + εI
    keep = keep_eigenvalues(full, threshold)
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
    x: torch.Tensor,
    eps: float,
    power: float,
    threshold: float | str = "auto",
    unbiased: bool = True,
    method: str = "eigh",
    centred: bool = False,
) -> torch.Tensor:
    """``(Σ + εI)^power`` over the kept eigenvalues for a ``(C, N)`` matrix ``x``, ``Σ`` its
    channel covariance; ``centred=True`` if ``x`` is already ``F − μ``. ``power`` −½ whitens, +½ colours.

    With fewer positions than channels (``N < C``) it is computed from the
    ``N × N`` Gram matrix (:func:`low_rank_power`, same result, much cheaper).
    """
    if LOW_RANK and x.shape[-1] < x.shape[-2]:
        return low_rank_power(x, eps, power, threshold, unbiased, method)
    cov = covariance(x, unbiased, centred)
    cov = cov + eps * torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
    return psd_power(cov, power, threshold, method)


def compute_place(x: torch.Tensor, dtype: torch.dtype | None) -> tuple[torch.device, torch.dtype]:
    """Where to run the eigen-decomposition: MPS has neither float64 nor ``linalg.eigh``,
    so on MPS the (C×C-sized) work runs on the CPU."""
    dtype = dtype or x.dtype
    device = x.device
    if device.type == "mps":
        device = torch.device("cpu")
    return device, dtype
