"""The smoothing system's sparse solvers on the assembled matrix: SciPy's direct solve, ILU-preconditioned CG,
plain CG, and the report every solver fills (:class:`SmoothInfo`).

Private: every name here is imported from :mod:`stylelab.smoothing.solvers`, its one public path (with the
multigrid and coarse-to-fine solvers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .matting import MattingLaplacian, laplacian, window_counts
from .multigrid import pcg

__all__ = ["SmoothInfo", "solve_affinity", "solve_direct", "solve_ilu", "solve_cg"]


@dataclass
class SmoothInfo:
    """What a solve did: solver, iterations per pyramid level (fine → coarse), final relative residual, seconds.

    ``residual`` is the largest channel's ‖b − M z‖/‖b‖ recomputed from the returned solution (the
    true residual), not CG's recursively updated one, which drifts from it by rounding.
    """

    mode: str
    iterations: list[int] = field(default_factory=list)
    residual: float = float("nan")
    seconds: float = 0.0
    converged: bool = True
    setup_seconds: float = float("nan")  # the multigrid's set-up (stencil, hierarchy), part of ``seconds``

    def summary(self) -> str:
        """One line for the command line: solver, CG iterations (per level or channel), residual, seconds."""
        its = "+".join(str(i) for i in self.iterations) or "-"
        setup = f" (set-up {self.setup_seconds:.1f} s)" if self.setup_seconds == self.setup_seconds else ""
        return f"{self.mode}, CG iterations {its}, residual {self.residual:.1e}, {self.seconds:.1f} s{setup}"


def solve_affinity(W, y: np.ndarray, beta: float = 0.9999) -> np.ndarray:
    """``r = (1−β)(I − β D^{-1/2} W D^{-1/2})^{-1} y`` for an explicit affinity matrix (Li et al., ECCV 2018, Eq. 5).

    Args:
        W: ``(N, N)`` symmetric non-negative affinity, dense NumPy or SciPy sparse;
            ``D = diag(W·1)``.
        y: ``(N,)`` or ``(N, C)`` values to smooth.

    Returns:
        ``r`` with the shape of ``y`` (float64). A sparse direct solve on the CPU:
        the textbook form, for small problems and checks; :func:`smooth` is the
        image-level entry point.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    W = sp.csr_matrix(W, dtype=np.float64)
    d = np.asarray(W.sum(axis=1)).ravel()
    if W.shape[0] != W.shape[1] or np.any(d <= 0):
        raise ValueError("W must be a square affinity matrix whose every row has a positive sum")
    inv_sqrt = sp.diags(1.0 / np.sqrt(d))
    M = (sp.identity(W.shape[0]) - beta * (inv_sqrt @ W @ inv_sqrt)).tocsc()
    y = np.asarray(y, dtype=np.float64)
    return (1 - beta) * np.asarray(spsolve(M, y)).reshape(y.shape)


def solve_direct(y: torch.Tensor, content: torch.Tensor, beta: float = 0.9999, eps: float = 1e-7, radius: int = 1) -> torch.Tensor:
    """r = (1−β)(I − βS)⁻¹ y by a sparse direct solve (SciPy ``factorized``, float64, CPU).

    Args:
        y: (C, H, W) or (1, C, H, W) stylised channels; content: (1, 3, H, W).

    Returns:
        r with the shape, dtype and device of ``y``. Memory grows like N^1.5:
        practical up to about 512×512 on a laptop.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import factorized

    shape = y.shape
    yy = y.reshape(-1, *shape[-2:])
    h, w = shape[-2:]
    L = laplacian(content, eps=eps, radius=radius)
    dvec = window_counts(h, w, radius).ravel()
    M = ((1 - beta) * sp.diags(dvec) + beta * L).tocsc()
    solve = factorized(M)
    sq = np.sqrt(dvec)
    yn = yy.detach().to("cpu", torch.float64).reshape(yy.shape[0], -1).numpy()
    out = np.stack([sq * solve((1 - beta) * sq * c) for c in yn])
    return torch.from_numpy(out).reshape(shape).to(y.device, y.dtype)


def solve_ilu(
    y: torch.Tensor,
    content: torch.Tensor,
    beta: float = 0.9999,
    eps: float = 1e-7,
    radius: int = 1,
    *,
    tol: float = 1e-6,
    drop_tol: float = 1e-4,
    fill_factor: float = 10.0,
    max_iter: int = 500,
    info: SmoothInfo | None = None,
) -> torch.Tensor:
    """r = (1−β)(I − βS)⁻¹ y by CG preconditioned with an incomplete LU factorisation (CPU, float64).

    The SPD system M z = (1−β) D^{1/2} y, M = (1−β)D + βL, is built explicitly
    (:func:`stylelab.smoothing.matting.laplacian`), ILU-factorised with SuperLU
    (``scipy.sparse.linalg.spilu`` in float32, drop tolerance ``drop_tol``,
    symmetric minimum-degree ordering, no pivoting since M is SPD) and solved
    by CG in float64 to a relative residual ``tol`` — a block CG with the colour channels as columns, so each step is
    one sparse product and one pair of triangular solves for all channels. The
    incomplete factor costs O(N·fill) instead of the exact factor's ~N^1.5,
    and 10–15 iterations suffice at β = 0.9999 (1e-6). If the
    preconditioned iteration fails, the factor is redone in float64, then
    with a tenfold smaller drop tolerance, then the exact :func:`solve_direct`
    is used (``info.mode`` says so).
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import spilu

    shape = y.shape
    h, w = shape[-2:]
    yy = y.detach().to("cpu", torch.float64).reshape(-1, h * w).numpy()
    L = laplacian(content, eps=eps, radius=radius)
    dvec = window_counts(h, w, radius).ravel()
    M = ((1 - beta) * sp.diags(dvec) + beta * L).tocsc()
    sq = np.sqrt(dvec)
    # The preconditioner is factorised in float32 (faster, half the memory; CG itself runs in float64 and
    # corrects its rounding); on breakdown retry in float64, then with a smaller drop tolerance.
    for dt, ftype in ((drop_tol, np.float32), (drop_tol, np.float64), (drop_tol / 10, np.float64)):
        try:
            fac = spilu(M.astype(ftype), drop_tol=dt, fill_factor=fill_factor, permc_spec="MMD_AT_PLUS_A",
                        diag_pivot_thresh=0.0, options=dict(SymmetricMode=True))  # SPD: no pivoting needed
        except RuntimeError:
            continue

        class ilu:  # noqa: N801 - a tiny adapter: float64 in, float64 out
            @staticmethod
            def solve(r, fac=fac, ftype=ftype):
                return fac.solve(r.astype(ftype, copy=False)).astype(np.float64, copy=False)
        # Block PCG: every channel is a column; one sparse product and one ILU solve per step for all of them.
        B = ((1 - beta) * sq[:, None] * yy.T).copy()  # (N, C)
        bn = np.maximum(np.linalg.norm(B, axis=0), 1e-300)
        Z = np.zeros_like(B)
        R = B.copy()
        P_ = ilu.solve(R)
        Q_ = P_.copy()
        rz = (R * P_).sum(0)
        it, res = 0, 1.0
        while it < max_iter:
            MQ = M @ Q_
            alpha = rz / np.where((Q_ * MQ).sum(0) == 0, 1e-300, (Q_ * MQ).sum(0))
            Z += alpha * Q_
            R -= alpha * MQ
            it += 1
            res = float((np.linalg.norm(R, axis=0) / bn).max())
            if not np.isfinite(res) or res <= tol:
                break
            P_ = ilu.solve(R)
            rz_new = (R * P_).sum(0)
            Q_ = P_ + (rz_new / np.where(rz == 0, 1e-300, rz)) * Q_
            rz = rz_new
        if np.isfinite(res) and res <= tol:
            if info is not None:
                info.iterations.append(it)
                info.residual = float((np.linalg.norm(B - M @ Z, axis=0) / bn).max())
            out = (sq[:, None] * Z).T
            return torch.from_numpy(np.ascontiguousarray(out)).reshape(shape).to(y.device, y.dtype)
    if info is not None:
        info.iterations.append(0)
        info.residual = 0.0
        info.mode += "→direct"
    return solve_direct(y, content, beta, eps, radius)


def solve_cg(
    y: torch.Tensor,
    content: torch.Tensor,
    beta: float = 0.9999,
    eps: float = 1e-7,
    radius: int = 1,
    *,
    tol: float | None = None,
    max_iter: int = 2000,
    x0: torch.Tensor | None = None,
    progress: bool = False,
    info: SmoothInfo | None = None,
) -> torch.Tensor:
    """r = (1−β)(I − βS)⁻¹ y by Jacobi-preconditioned CG on the matrix-free operator.

    Solves M z = (1−β) D^{1/2} y with M = (1−β)D + βL (symmetric positive
    definite), r = D^{1/2} z; all channels at once, each with its own step sizes.
    Stops when every channel's relative residual ‖M z − b‖/‖b‖ ≤ ``tol``
    (default 1e-8 in float64, 1e-5 in float32) or after ``max_iter`` iterations.

    Args:
        y: (C, H, W) stylised channels on any device; content: (1, 3, H, W) same device.
        x0: optional starting guess for r, shape of ``y``.
        info: a :class:`SmoothInfo` whose ``iterations``/``residual`` are appended to.
    """
    if tol is None:
        tol = 1e-8 if y.dtype == torch.float64 else 1e-5
    op = MattingLaplacian(content.to(y.dtype), eps=eps, radius=radius)
    d = op.counts
    sq = d.sqrt()
    b = (1 - beta) * sq * y

    def M(v):
        return (1 - beta) * d * v + beta * op.matvec(v)

    pinv = 1.0 / ((1 - beta) * d + beta * op.diagonal())
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_iter, desc="smoothing (CG)", leave=False)

    def callback(it, res):
        if bar is not None and (it % 10 == 0 or it == max_iter):
            bar.update(10)
            bar.set_postfix(residual=f"{res:.1e}")

    # the one CG loop (stylelab.smoothing.multigrid.pcg), with the Jacobi preconditioner r ↦ r / diag(M)
    z, it, res = pcg(M, b, lambda r: pinv * r, x0=None if x0 is None else x0 / sq, tol=tol, max_iter=max_iter,
                     callback=callback)
    if bar is not None:
        bar.close()
    if info is not None:
        info.iterations.append(it)
        info.residual = res
        # pcg stopped on its recursive residual ≤ tol before max_iter; res is the true one (may differ by rounding)
        info.converged = info.converged and res == res and (it < max_iter or res <= tol)
    return sq * z
