"""Closed-form photorealistic smoothing (FastPhotoStyle's second step) and the guided filter.

Li, Liu, Li, Yang, Kautz, "A Closed-form Solution to Photorealistic Image
Stylization", ECCV 2018. Given the stylised image y and the content image I,
the smoothed image r minimises

    Σ_ij W_ij ‖r_i/√d_i − r_j/√d_j‖² + λ Σ_i ‖r_i − y_i‖²,

with W the matting *affinity* of the content (:func:`stylelab.smoothing.matting.affinity`,
3×3 windows, ε = 1e-7) and d = W·1 (the number of windows covering each pixel).
The minimiser is, per colour channel,

    r* = (1 − β) (I − β S)⁻¹ y,   S = D^{-1/2} W D^{-1/2},   β = 2/(2 + λ)

(the sum runs over ordered pairs, so the smoothness term is 2 rᵀ(I − S) r; with the
factor ½ of Zhou et al., NeurIPS 2003, β = 1/(1 + λ)), and the official code
(``photo_smooth.py``) sets β = 0.9999 directly (λ ≈ 2e-4).

Solvers (``mode``):

* ``"direct"`` — sparse LU/Cholesky of the explicit matrix (SciPy; CPU, float64):
  the reference's method.
* ``"ilu"`` — (CPU) conjugate gradients on the explicit SPD system, preconditioned
  by an incomplete LU factorisation (:func:`solve_ilu`): 10–15 block iterations
  to a relative residual of 1e-6, O(N·fill) memory; most of its time is the
  factorisation (SuperLU, one thread).
* ``"mg"`` — (any device) conjugate gradients preconditioned by an aggregation
  multigrid cycle (:func:`solve_multigrid`, :mod:`stylelab.smoothing.multigrid`): the
  matting Laplacian is assembled as a 25-point stencil (no sparse matrix), the
  coarse unknowns are local affine colour models on 4×4 blocks, every level is
  a Galerkin product, and the cycle runs in float32 inside a block CG in
  float64 (the three colour channels share one Krylov space). It
  stops when the largest pixel error is estimated below ``atol`` (default
  1e-3, a quarter of an 8-bit step; checked against the direct solve in the
  tests and the benchmark): 10–20 iterations at 128–512 px, O(N) memory
  (0.6–1.3 kB per pixel, :mod:`stylelab.memory`), so it is the solver that
  reaches 12 MP, and on CPU the fastest above about 200×200 pixels (at 512 px
  11.6× less CPU time than the direct solve, max error 2e-4,
  ``benchmarks/bench_smoothing.py``; BENCHMARKS.md).
* ``"cg"`` — (GPU; any device) preconditioned conjugate gradients on the matrix-free operator
  (:class:`stylelab.smoothing.matting.MattingLaplacian`), on the input's device. We solve
  the symmetric positive-definite form M z = (1−β) D^{1/2} y with
  M = D − βW = (1−β) D + β L and r = D^{1/2} z. Because 1−β = 1e-4, M is nearly
  singular on locally-affine signals and plain CG needs ~1000 iterations; here
  CG starts from a **coarse-to-fine** guess: the same problem is solved on a
  half-resolution pyramid (recursively, directly at the coarsest level), the
  coarse solution is turned into local affine colour models (a guided filter
  at the coarse level), and those models are upsampled and applied to the
  full-resolution content — so the start already follows the content's edges.
  Jacobi (diagonal) preconditioning does the rest. Measured on CPU this still
  needs several hundred iterations at β = 0.9999 (the coarse problem is only a
  rough guess, max error ~0.1), so it is the GPU path: every step is a few
  box filters, O(N) memory.
* ``"gif"`` — the fast approximation: a colour guided filter
  (He, Sun, Tang, "Guided Image Filtering", ECCV 2010/TPAMI 2013) of y guided by I
  (FastPhotoStyle ``photo_gif.py``: r = 35, ε = 1e-3).
* ``"official"`` — the reference's border rule around an exact solve: y is
  quantised to 8 bits (``mul(255).byte()``, truncation), its 2-pixel border is
  cropped and replaced by edge replication, the content is resized to
  (H−4)×(W−4) and replicate-padded by 2, and the result is cropped by 2 px, so the
  output is **(H−4)×(W−4)** (NVIDIA/FastPhotoStyle ``photo_smooth.py``).
* ``"auto"`` — on CPU the fastest exact solver for the size (measured side by
  side, :data:`AUTO_MAX_PIXELS`): direct up to 32×32, ILU-CG up to 192×192,
  multigrid above; CUDA: multigrid; MPS (float32, no float64 eigen-solvers):
  matrix-free coarse-to-fine CG.

Precision: use float64 on CPU/CUDA for tolerances below ~1e-6. In float32 (and
on MPS, which has no float64) CG's recursive residual reaches 1e-5 (the default
``tol`` is raised to 1e-5 for float32 inputs) but the true residual, which
``SmoothInfo.residual`` reports, stalls near 1e-2 (rounding: ~k·u·κ(M)); the
pixels are then within about 2e-3 of the float64 solve (``tests/test_smoothing.py``).
"""

from __future__ import annotations

import time
import warnings

import torch
import torch.nn.functional as F

from .. import validate as V
from ..device import get_device
from .guided import guided_filter
from ..io import image_size, load_image, output_path, save_image
from .matting import check_params
from ..memory import SMOOTH_AUTO_MAX_PIXELS, check_fits
from .solvers import SmoothInfo, solve_direct, solve_ilu, solve_multigrid, solve_pyramid

# The solvers live in stylelab.smoothing.solvers and the filters in stylelab.smoothing.guided; their public names are
# importable from here too (the notebooks and the course text use stylelab.smoothing.X).
__all__ = ["smooth", "check_smooth_options", "add_cli"]

MODES = ("auto", "ilu", "mg", "cg", "direct", "official", "gif")
#: ``mode="auto"`` on CPU: the solver for images up to so many pixels, the multigrid above (stylelab.memory).
AUTO_MAX_PIXELS = SMOOTH_AUTO_MAX_PIXELS


# ----------------------------------------------------------------------------- public
def check_smooth_options(*, beta: float = 0.9999, eps: float = 1e-7, radius: int = 1, tol: float | None = None,
                         atol: float | None = None, max_iter: int = 1000, min_size: int = 32, gif_radius: int = 35,
                         gif_eps: float = 1e-3) -> None:
    """Raise a ``ValueError`` naming the first option of :func:`smooth` that is out of range.

    β ∈ (0, 1); ε > 0 and an integer radius ≥ 1 (:func:`stylelab.smoothing.matting.check_params`);
    ``tol`` and ``atol`` in (0, 1) or ``None`` (a tolerance ≤ 0 is never reached: the solver
    would run to ``max_iter`` on every level); ``max_iter`` and ``min_size``
    positive integers; the guided filter's radius ≥ 1 and ε > 0.
    """
    if not (isinstance(beta, (int, float)) and 0.0 < beta < 1.0):
        raise ValueError(f"beta must be in (0, 1) (FastPhotoStyle uses 0.9999), got {beta!r}")
    check_params(eps, radius)
    if tol is not None and not (isinstance(tol, (int, float)) and 0.0 < tol < 1.0):
        raise ValueError(f"tol (the relative residual to reach) must be in (0, 1), e.g. 1e-6; got {tol!r}")
    if atol is not None and not (isinstance(atol, (int, float)) and 0.0 < atol < 1.0):
        raise ValueError(f"atol (the largest pixel error allowed) must be in (0, 1), e.g. 1e-3; got {atol!r}")
    V.check_positive(max_iter, "max_iter", integer=True)
    V.check_positive(min_size, "min_size", integer=True)
    V.check_positive(gif_radius, "gif_radius", integer=True)
    V.check_positive(gif_eps, "gif_eps")


def smooth(
    stylized: torch.Tensor,
    content: torch.Tensor,
    beta: float = 0.9999,
    *,
    mode: str = "auto",
    eps: float = 1e-7,
    radius: int = 1,
    tol: float | None = None,
    atol: float | None = None,
    max_iter: int = 1000,
    min_size: int = 32,
    gif_radius: int = 35,
    gif_eps: float = 1e-3,
    clamp: bool = True,
    progress: bool = False,
    return_info: bool = False,
):
    """Photorealistic smoothing r* = (1−β)(I − βS)⁻¹ y of a stylised photo (Li et al., ECCV 2018).

    Args:
        stylized: (1, 3, H, W) stylised image y in [0, 1].
        content: (1, 3, H', W') content photo; resized (bilinear, antialiased) to
            H×W if its size differs (the reference does the same).
        beta: β = 2/(2+λ) (module docstring); 0.9999 as in FastPhotoStyle. Must be in (0, 1).
        mode: ``"auto"``, ``"mg"``, ``"ilu"``, ``"cg"``, ``"direct"``, ``"official"`` or ``"gif"``
            (module docstring).
        eps, radius: matting affinity parameters (1e-7, 3×3 windows).
        tol: CG relative-residual tolerance (default: 1e-6 for ``"ilu"``, 1e-8
            for ``"cg"`` in float64, 1e-5 in float32; ``"mg"``: see ``atol``).
        atol: ``"mg"``: the largest absolute error of the result, estimated from
            CG's updates (:func:`solve_multigrid`); default 1e-3 when ``tol`` is
            not given.
        max_iter: CG iterations per pyramid level.
        min_size: coarsest pyramid level's shorter side (solved directly on CPU float64).
        gif_radius, gif_eps: guided-filter parameters for ``mode="gif"``.
        clamp: clip the result to [0, 1].
        return_info: also return a :class:`SmoothInfo` (iterations, residual, time).

    Returns:
        (1, 3, H, W) tensor on the input's device and dtype — (H−4)×(W−4) in
        ``"official"`` mode — and the info when ``return_info``. An image with
        fewer than 2r+1 rows or columns holds no matting window: W = 0, and the
        minimiser of the energy is the stylised image itself (returned as is).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    check_smooth_options(beta=beta, eps=eps, radius=radius, tol=tol, atol=atol, max_iter=max_iter, min_size=min_size,
                         gif_radius=gif_radius, gif_eps=gif_eps)
    y = V.check_image(stylized, "stylized", batch=1)
    c = V.check_image(content, "content", batch=1).to(y.device, y.dtype)
    h, w = y.shape[-2:]
    if mode in ("auto", "official", "direct", "ilu") and y.device.type == "cpu":
        # refuse before assembling a Laplacian that cannot fit
        check_fits("smooth", h, w, device=y.device, mode=mode, radius=radius)
    t0 = time.perf_counter()
    info = SmoothInfo(mode=mode)
    if mode == "official":
        if min(h, w) < 9:
            raise ValueError(f"official mode crops 2 px per side; the image must be at least 9×9, got {h}×{w}")
        y = torch.floor((y * 255).clamp(0, 255)) / 255
        y = F.pad(y[..., 2:-2, 2:-2], (2, 2, 2, 2), mode="replicate")
        c = F.interpolate(c, size=(h - 4, w - 4), mode="bilinear", antialias=True, align_corners=False)
        c = F.pad(torch.round(c.clamp(0, 1) * 255) / 255, (2, 2, 2, 2), mode="replicate")
    elif tuple(c.shape[-2:]) != (h, w):
        c = F.interpolate(c, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
    if mode == "gif":
        out = guided_filter(y, c, radius=gif_radius, eps=gif_eps)
    elif min(h, w) < 2 * radius + 1:
        # No (2r+1)² window fits: W = 0, only the data term λ‖r − y‖² is left, and its minimiser is r = y.
        out = y.clone()
        info.mode = f"{mode}/identity (no {2 * radius + 1}×{2 * radius + 1} window fits)"
        info.iterations.append(0)
        info.residual = 0.0
    else:
        solver = mode
        if mode in ("auto", "official"):
            if y.device.type == "cpu":
                solver = next((k for k, top in AUTO_MAX_PIXELS.items() if h * w <= top), "mg")
            else:
                solver = "mg" if y.dtype == torch.float64 else "cg"
        info.mode = mode if mode == solver else f"{mode}/{solver}"
        if solver == "direct":
            out = solve_direct(y, c, beta, eps, radius)
            info.iterations.append(0)
            info.residual = 0.0
        elif solver == "ilu":
            out = solve_ilu(y, c, beta, eps, radius, tol=1e-6 if tol is None else tol, info=info)
        elif solver == "mg":
            out = solve_multigrid(y, c, beta, eps, radius, tol=tol, atol=atol, info=info, progress=progress)
        else:
            out = solve_pyramid(y, c, beta, eps, radius, tol, max_iter, min_size, info, progress)
    if mode == "official":
        out = out[..., 2:-2, 2:-2]
    if clamp:
        out = out.clamp(0, 1)
    info.seconds = time.perf_counter() - t0
    if not info.converged:
        warnings.warn(f"the smoothing stopped before its target ({info.summary()}): the result is the last "
                      "iterate; a larger max_iter, or mode='ilu'/'direct' on a smaller image, may reach it",
                      RuntimeWarning, stacklevel=2)
    return (out, info) if return_info else out


# ----------------------------------------------------------------------------- CLI
def _cli(args) -> int:

    device = get_device(args.device)
    out_path = output_path(args.output, overwrite=args.overwrite)  # checked before any work
    h, w = image_size(args.stylized)
    image_size(args.content)
    if device.type == "cpu" and args.mode in ("auto", "official", "direct", "ilu"):
        check_fits("smooth", h, w, device=device, mode=args.mode)
    stylized = load_image(args.stylized, device=device)
    content = load_image(args.content, device=device)
    if device.type != "mps":
        stylized, content = stylized.double(), content.double()
    out, info = smooth(stylized, content, beta=args.beta, mode=args.mode, tol=args.tol, progress=True, return_info=True)
    path = save_image(out.float(), out_path, overwrite=args.overwrite)
    print(f"wrote {path} ({out.shape[-1]}×{out.shape[-2]}, {info.summary()})")
    return 0


def add_cli(subparsers) -> None:
    """Register ``stylelab smooth STYLIZED CONTENT -o OUT [--mode ...]``."""
    p = subparsers.add_parser("smooth", help="photorealistic smoothing of a stylised photo (FastPhotoStyle step 2)")
    p.add_argument("stylized", help="stylised image file")
    p.add_argument("content", help="content photo file (resized to the stylised image's size)")
    p.add_argument("-o", "--output", required=True, help="output image file")
    p.add_argument("--mode", default="auto", choices=MODES, help="solver (default auto: on CPU direct up to 32², ILU-CG up to 192², multigrid CG above)")
    p.add_argument("--beta", type=V.arg_float(0, 1, open_low=True, open_high=True), default=0.9999, help="β = 2/(2+λ) (default 0.9999, as FastPhotoStyle)")
    p.add_argument("--tol", type=V.arg_float(0, 1, open_low=True, open_high=True), default=None, help="CG relative residual tolerance")
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    p.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    p.set_defaults(func=_cli)


# Submodules load on first use: stylelab.smoothing.<module> works after `import stylelab` alone.
from .._lazy import lazy_submodules  # noqa: E402

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
