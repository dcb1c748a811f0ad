"""Multigrid for the matting-Laplacian smoothing: stencil identities, Galerkin products, an SPD preconditioner,
agreement with SciPy's direct solve, and errors on bad parameters. Speed is in benchmarks/bench_smoothing.py."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stylelab.media import data
from stylelab.smoothing import matting
from stylelab import smoothing as S
from stylelab.smoothing import solvers as smoothing_solvers
from stylelab.smoothing.aggregation import block_basis as _block_basis, galerkin as _galerkin
from stylelab.smoothing.multigrid import Multigrid, _colour_bound, _lanczos_lambda_max, pcg
from stylelab.smoothing.grid_stencil import BlockStencil, BlockJacobi


def _photo(h, w, seed=0):
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h, dtype=torch.float64), torch.linspace(0, 1, w, dtype=torch.float64), indexing="ij")
    mask = (xx + 0.3 * yy > 0.55).double()
    base = torch.stack([0.2 + 0.6 * mask, 0.5 + 0.2 * yy, 0.7 - 0.5 * mask * xx])[None]
    content = (base + 0.02 * torch.randn(1, 3, h, w, generator=g, dtype=torch.float64)).clamp(0, 1)
    content[..., : h // 3, : w // 3] = 0.5  # an exactly flat corner: dropped colour candidates
    stylized = (content.flip(1) * 0.8 + 0.1 + 0.1 * torch.randn(1, 3, h, w, generator=g, dtype=torch.float64)).clamp(0, 1)
    return stylized, content


def _system(content, beta=0.9999):
    op = matting.MattingLaplacian(content)
    st = op.stencil() * beta
    st[2, 2] += (1 - beta) * op.counts
    return BlockStencil(st[:, :, None, None]), torch.cat([torch.ones_like(content[0, :1]), content[0]])[None]


@pytest.mark.parametrize("h,w,r", [(9, 11, 1), (13, 10, 2)])
def test_stencil_equals_sparse_laplacian(h, w, r):
    _, c = _photo(h, w)
    st = matting.MattingLaplacian(c, radius=r).stencil()
    dense = BlockStencil(st[:, :, None, None]).dense().numpy()
    ref = matting.laplacian(c, radius=r).toarray()
    assert np.abs(dense - ref).max() < 1e-10 * max(1.0, np.abs(ref).max())  # the flat corner makes Δ large


@pytest.mark.parametrize("h,w,r", [(9, 11, 1), (13, 10, 2)])
def test_upper_stencil_built_directly_is_the_upper_half_of_the_full_one(h, w, r):
    """stencil(upper=True) equals the upper half of stencil() (offsets k²//2 … k²−1) and, as
    BlockStencil.from_upper, is the same operator as the sparse Laplacian."""
    _, c = _photo(h, w)
    op = matting.MattingLaplacian(c, radius=r)
    full, up = op.stencil(), op.stencil(upper=True)
    k = 4 * r + 1
    assert up.shape == (k * k // 2 + 1, h, w)
    assert torch.allclose(up, full.reshape(k * k, h, w)[k * k // 2:], rtol=0, atol=1e-12 * float(full.abs().max()))
    dense = BlockStencil.from_upper(up).dense().numpy()
    ref = matting.laplacian(c, radius=r).toarray()
    assert np.abs(dense - ref).max() < 1e-10 * max(1.0, np.abs(ref).max())
    with pytest.raises(ValueError, match="upper must have shape"):
        BlockStencil.from_upper(torch.zeros(12, h, w))


def test_block_stencil_apply_matches_dense():
    g = torch.Generator().manual_seed(1)
    coef = torch.randn(3, 3, 4, 4, 5, 6, generator=g, dtype=torch.float64)
    A = BlockStencil(coef)
    x = torch.randn(2, 4, 5, 6, generator=g, dtype=torch.float64)
    flat = x.permute(0, 2, 3, 1).reshape(2, -1)
    want = (A.dense() @ flat.T).T.reshape(2, 5, 6, 4).permute(0, 3, 1, 2)
    assert torch.allclose(A.apply(x), want, atol=1e-12)


def test_symmetric_storage_is_the_same_operator():
    """symmetric=True keeps 13 of the 25 offsets; products, rows, offsets, Galerkin and block-Jacobi inverses
    built from it equal those of the full stencil (and a non-symmetric operator would not: the test can fail)."""
    _, c = _photo(13, 18)
    A, B = _system(c)
    As = BlockStencil(A.coef, symmetric=True)
    assert As._half.numel() == 13 * 13 * 18
    x = torch.randn(3, 1, 13, 18, dtype=torch.float64)
    assert torch.allclose(As.apply(x), A.apply(x), atol=1e-12)
    assert torch.equal(As.dense(), A.dense())
    assert torch.equal(As.coef_rows(3, 9), A.coef_rows(3, 9))
    assert all(torch.equal(As.offset_coef(i, j), A.offset_coef(i, j)) for i in range(5) for j in range(5))
    Q, R, keep = _block_basis(torch.nn.functional.pad(B, (0, 2, 0, 3)), 4)
    assert torch.allclose(_galerkin(As, Q, 4, keep).dense(), _galerkin(A, Q, 4, keep).dense(), atol=1e-12)
    assert torch.allclose(BlockJacobi(As, 4, 2)(x), BlockJacobi(A, 4, 2)(x), atol=1e-12)
    assert torch.allclose(As.to(torch.float32).apply(x.float()).double(), A.apply(x), atol=1e-5)
    skew = A.coef.clone()
    skew[0, 0] += 0.1  # A no longer symmetric: its upper half describes another operator
    assert not torch.allclose(BlockStencil(skew, symmetric=True).apply(x), BlockStencil(skew).apply(x))
    with pytest.raises(ValueError, match="one unknown per node"):
        BlockStencil(torch.zeros(3, 3, 2, 2, 4, 4), symmetric=True)


def test_galerkin_is_pt_a_p():
    """The coarse stencil equals Pᵀ A P with P the dense block interpolation (Q padded to 4×4 blocks)."""
    _, c = _photo(10, 13)
    A, B = _system(c)
    Q, R, keep = _block_basis(torch.nn.functional.pad(B, (0, 3, 0, 2)), 4)
    Ac = _galerkin(A, Q, 4, keep)
    hc, wc = 3, 4
    P = torch.zeros(10 * 13, hc * wc * 4, dtype=torch.float64)
    for J in range(hc * wc):
        jy, jx = divmod(J, wc)
        for a in range(4):
            col = torch.zeros(12, 16, dtype=torch.float64)
            col[jy * 4:jy * 4 + 4, jx * 4:jx * 4 + 4] = Q[0, a, jy * 4:jy * 4 + 4, jx * 4:jx * 4 + 4]
            P[:, J * 4 + a] = col[:10, :13].reshape(-1)
    want = P.T @ A.dense() @ P
    want += torch.diag((~keep).permute(1, 2, 0).reshape(-1).double())  # dropped candidates: identity
    assert torch.allclose(Ac.dense(), want, atol=1e-10)
    # block row by block row (how the 12 MP level is built: bounded temporaries), and from the half stencil
    assert torch.allclose(_galerkin(A, Q, 4, keep, rows=1).dense(), want, atol=1e-10)
    assert torch.allclose(_galerkin(BlockStencil(A.coef, symmetric=True), Q, 4, keep, rows=2).dense(), want, atol=1e-10)
    # orthonormal kept columns: Qᵀ Q = I on each block (kept part)
    QtQ = P.T @ P
    assert torch.allclose(QtQ, torch.diag(keep.permute(1, 2, 0).reshape(-1).double()), atol=1e-10)


def test_block_jacobi_inverts_the_diagonal_blocks():
    _, c = _photo(9, 10)
    A, _ = _system(c)
    bj = BlockJacobi(A, 4, shift=2)
    Ad = A.dense()
    part = (torch.arange(9)[:, None] + 2) // 4 * 100 + (torch.arange(10)[None] + 2) // 4  # block id per pixel
    same = part.reshape(-1)[:, None] == part.reshape(-1)[None]
    want = torch.linalg.inv(torch.where(same, Ad, torch.zeros_like(Ad)))
    eye = torch.eye(90, dtype=torch.float64).reshape(90, 1, 9, 10)
    got = bj(eye).reshape(90, 90).T
    assert torch.allclose(got, want, atol=1e-8 * want.abs().max())
    # an operator stored by its upper half keeps the upper triangle of each block inverse: the same map
    sym = BlockJacobi(BlockStencil(A.coef, symmetric=True), 4, shift=2)
    assert sym.symmetric and sym.inv.shape[0] == 136 and bj.inv.shape[0] == 256
    assert torch.allclose(sym(eye).reshape(90, 90).T, want, atol=1e-8 * want.abs().max())
    x = torch.randn(2, 3, 1, 9, 10, dtype=torch.float64)  # leading dimensions
    assert torch.allclose(sym(x), bj(x), atol=1e-10)


def _smoothed_lambda_max(A, smoother):
    """The exact largest eigenvalue of D_B⁻¹A, from the dense matrix (small A only)."""
    h, w = A.shape
    n = A.m * h * w
    eye = torch.eye(n, dtype=torch.float64).reshape(n, A.m, h, w)
    C = torch.linalg.cholesky(smoother(eye).reshape(n, n))  # D_B⁻¹ = C Cᵀ: D_B⁻¹A is similar to Cᵀ A C
    return torch.linalg.eigvalsh(C.T @ A.apply(eye).reshape(n, n) @ C)[-1].item()


def test_smoother_damping_keeps_every_partition_contracting():
    # An 8-bit photo upscaled 8× (bilinear, as a phone's digital zoom or a resized upload): flat ramps of
    # quantised colour, where block-Jacobi's λ_max(D_B⁻¹A) reaches 2.3 here (3.6 at one spot of a 12 MP
    # upscale). A 6-step power iteration on one partition said < 1.9, so ω = 1 and the smoother diverged on
    # that mode (ω·λ > 2).
    crop = data.load("mountains").double()[..., 200:205, 300:305]
    content = (F.interpolate(crop, scale_factor=8, mode="bilinear", align_corners=False).clamp(0, 1) * 255).round() / 255
    A, B = _system(content)
    mg = Multigrid(A, B, coarse_size=200)
    assert len(mg.levels) >= 3
    for depth, level in enumerate(mg.levels[:-1]):
        lams = [_smoothed_lambda_max(level.A, sm) for sm in level.smoothers]
        # the colouring bound (blocks of 4 colours): λ_max ≤ 4
        assert _colour_bound(level.A.radius, level.f) == 4 and max(lams) <= 4 + 1e-9
        # the damping keeps both partitions' sweeps contracting in the A-norm, with some margin
        assert level.omega * max(lams) < 1.97, (depth, level.omega, lams)
        for lam, sm in zip(lams, level.smoothers):  # Lanczos' estimate is close (within 5 %) to the truth
            assert abs(_lanczos_lambda_max(level.A, sm) - lam) <= 0.05 * lam
    assert max(_smoothed_lambda_max(A, sm) for sm in mg.levels[0].smoothers) > 2.2  # (a case where it matters)


def test_colour_bound_holds_for_a_wide_stencil_on_small_blocks():
    # blocks couple with their neighbours up to ⌈radius/s⌉ blocks away: (⌈radius/s⌉ + 1)² colours
    assert _colour_bound(2, 4) == 4 and _colour_bound(1, 2) == 4 and _colour_bound(2, 2) == 4
    assert _colour_bound(2, 1) == 9 and _colour_bound(4, 2) == 9
    # an SPD 5×5 stencil (the 3×3 box's autocorrelation, whose Fourier transform |sinc|² ≥ 0, plus 1e-3 I) with
    # point blocks (s = 1): for the constant vector xᵀAx / xᵀDx → 81/9 = 9 in the interior, far above 4
    box = torch.ones(3, 3, dtype=torch.float64)
    K = F.conv2d(F.pad(box, (2, 2, 2, 2))[None, None], box[None, None])[0, 0]  # (5, 5): 1 2 3 2 1 ⊗ 1 2 3 2 1
    K[2, 2] += 1e-3
    A = BlockStencil(K[:, :, None, None, None, None].expand(5, 5, 1, 1, 24, 24).clone())
    sm = BlockJacobi(A, 1)
    lam = _smoothed_lambda_max(A, sm)
    assert 8 < lam <= 9
    assert 8 < _lanczos_lambda_max(A, sm) <= 9  # not capped at 4


@pytest.mark.parametrize("cycle,w_levels", [("V", None), ("W", None), ("W", 1)])
def test_preconditioner_is_symmetric_positive_definite(cycle, w_levels):
    _, c = _photo(24, 21)
    A, B = _system(c)
    mg = Multigrid(A, B, coarse_size=40, cycle=cycle, w_levels=w_levels)
    assert len(mg.levels) >= 3
    n = 24 * 21
    M = mg(torch.eye(n, dtype=torch.float64).reshape(n, 1, 24, 21)).reshape(n, n)
    assert torch.allclose(M, M.T, atol=1e-10 * M.abs().max())
    assert torch.linalg.eigvalsh((M + M.T) / 2).min() > 0
    # a good preconditioner: the spectrum of M·A is clustered (condition number ≪ that of A)
    ev = torch.linalg.eigvals(M @ A.dense()).real
    assert ev.max() / ev.min() < 0.01 * torch.linalg.cond(A.dense())


@pytest.mark.parametrize("h,w", [(33, 47), (64, 50)])
def test_multigrid_solve_equals_direct(h, w):
    y, c = _photo(h, w)
    direct = smoothing_solvers.solve_direct(y, c)
    out, info = S.smooth(y, c, mode="mg", tol=1e-9, clamp=False, return_info=True)
    assert info.converged and info.residual <= 1e-9 and info.iterations[0] < 60
    assert (out - direct).abs().max() < 1e-7
    # channel by channel gives the same numbers
    one = smoothing_solvers.solve_multigrid(y, c, tol=1e-9, channels_at_once=False)
    assert (one - direct).abs().max() < 1e-7
    # the 12 MP path (memory_first: the upper half of M in float32 is the only copy, for CG and cycle) solves the
    # system with float32-rounded coefficients: equal to that system's dense solve, and near the float64 one
    lean = smoothing_solvers.solve_multigrid(y, c, tol=1e-9, memory_first=True)
    beta = 0.9999
    op = matting.MattingLaplacian(c)
    up = op.stencil(upper=True) * beta
    up[0] += (1 - beta) * op.counts
    M32 = BlockStencil.from_upper(up.float()).dense().double()
    sq = op.counts.sqrt()
    b = ((1 - beta) * sq * y[0]).reshape(3, -1).T
    rounded = sq * torch.linalg.solve(M32, b).T.reshape(3, h, w)
    assert (lean[0] - rounded).abs().max() < 1e-7
    assert 1e-9 < (lean - direct).abs().max() < 1e-4


@pytest.mark.parametrize("photo,size,atol", [("synthetic", 64, 1e-3), ("astronaut", 96, 1e-3), ("astronaut", 160, 1e-4)])
def test_default_stopping_meets_the_absolute_error_target(photo, size, atol):
    """The multigrid's stopping rule (update-based error estimate ≤ atol/3) leaves max|r − r_direct| ≤ atol."""
    if photo == "synthetic":
        y, c = _photo(size, size)
    else:
        from stylelab.media import data

        c = data.load(photo, size=size).double().clamp(0, 1)
        g = torch.Generator().manual_seed(0)
        y = (c.flip(1) * 0.7 + 0.2 + 0.05 * torch.randn(c.shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    direct = smoothing_solvers.solve_direct(y, c)
    kw = {} if atol == 1e-3 else {"atol": atol}  # 1e-3 is the default
    out, info = S.smooth(y, c, mode="mg", clamp=False, return_info=True, **kw)
    assert info.converged and info.iterations[0] < 60
    assert (out - direct).abs().max() <= atol
    with pytest.raises(ValueError, match="atol"):
        S.smooth(y, c, mode="mg", atol=0.0)


def test_tail_estimate_of_the_remaining_error():
    """CG's remaining error from geometric updates u_k = ρ^k: u·ρ/(1−ρ), at least 2u, ρ capped at 0.95."""
    from stylelab.smoothing.solvers import _tail_estimate

    ups = [torch.tensor([0.85 ** k, 0.5 ** k], dtype=torch.float64) for k in range(8)]
    est = _tail_estimate(ups)
    assert torch.allclose(est, torch.tensor([0.85 ** 7 * 0.85 / 0.15, 2 * 0.5 ** 7], dtype=torch.float64))
    assert torch.equal(_tail_estimate(ups[:1]), 2 * ups[0])  # no rate yet
    growing = [torch.tensor([1.0]), torch.tensor([2.0])]
    assert torch.allclose(_tail_estimate(growing), torch.tensor([2.0 * 19]))  # ρ capped at 0.95
    assert float(_tail_estimate([torch.tensor([1.0]), torch.tensor([0.0])])) == 0.0


def test_memory_first_path_meets_the_absolute_error_target():
    """The > 4 MP path (float32 upper-half stencil, one channel at a time: slower per-channel CG) stops within atol."""
    from stylelab.media import data

    c = data.load("astronaut", size=160).double().clamp(0, 1)
    y = data.load("chelsea", size=160).double().clamp(0, 1)[..., :160, :160]
    c = c[..., :160, :160]
    direct = smoothing_solvers.solve_direct(y, c)
    info = smoothing_solvers.SmoothInfo("mg")
    out = smoothing_solvers.solve_multigrid(y, c, memory_first=True, info=info)
    assert info.converged and len(info.iterations) == 3
    assert (out - direct).abs().max() <= 1e-3


@pytest.mark.parametrize("block", [False, True])
def test_pcg_stops_on_a_breakdown_with_the_last_finite_iterate(block):
    """A preconditioner that is not SPD (here −I after two good steps, or NaN) stops CG instead of filling x with
    NaN; the caller sees the residual of the last iterate (the smoothing then warns that it did not converge)."""
    _, c = _photo(20, 24)
    A, _ = _system(c)
    b = torch.randn(3, 1, 20, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    # (block CG A-orthogonalises whatever directions it gets, so −I only slows it down: NaN is its breakdown)
    for bad in ((lambda r: torch.full_like(r, float("nan"))),) if block else (lambda r: -r, lambda r: r * float("nan")):
        calls = [0]

        def precond(r):
            calls[0] += 1
            return r.clone() if calls[0] <= 2 else bad(r)

        x, it, res = pcg(A.apply, b, precond, tol=1e-12, max_iter=50, block=block)
        assert torch.isfinite(x).all() and 1 <= it <= 3 and 0 < res < 1


def test_multigrid_solve_recovers_from_a_smoother_that_diverges(monkeypatch):
    """The safety net behind the λ_max estimate: should it miss a mode (the 6-step power iteration it replaced said
    1.9 where λ_max was 3.6, on an 8× upscaled photo at 12 MP), ω·λ_max ≥ 2, the cycle is indefinite and CG breaks
    down (rᵀz < 0; it used to fill the image with NaN). Simulated with ω = 3: the solve halves ω until CG converges,
    reaches the error target, and says so."""
    import stylelab.smoothing.solvers as SS

    real = SS.Multigrid

    class Overdamped(real):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            for level in self.levels:
                level.omega = 3.0

    monkeypatch.setattr(SS, "Multigrid", Overdamped)
    y, c = _photo(48, 40)
    direct = smoothing_solvers.solve_direct(y, c)
    for memory_first in (True, False):
        info = smoothing_solvers.SmoothInfo("mg")
        out = smoothing_solvers.solve_multigrid(y, c, memory_first=memory_first, channels_at_once=False, info=info)
        assert torch.isfinite(out).all() and info.converged and "damping halved" in info.mode
        assert (out - direct).abs().max() <= 1e-3


def test_a_channel_of_zeros_is_solved_exactly_without_a_breakdown():
    """A saturated channel (y = 0, as PhotoWCT's clamp gives) has b = 0: solved at once, not a breakdown."""
    y, c = _photo(40, 36)
    y[:, 2] = 0.0
    for memory_first in (True, False):
        info = smoothing_solvers.SmoothInfo("mg")
        out = smoothing_solvers.solve_multigrid(y, c, memory_first=memory_first, channels_at_once=False, info=info)
        assert info.converged and info.mode == "mg" and info.iterations[2] == 0 and out[:, 2].abs().max() == 0


def test_smoothing_warns_when_it_stops_before_its_target():
    y, c = _photo(96, 96)
    with pytest.warns(RuntimeWarning, match="stopped before its target"):
        S.smooth(y, c, mode="cg", max_iter=1, tol=1e-12)


def test_pcg_identity_preconditioner_solves_spd_system():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(30, 30, generator=g, dtype=torch.float64)
    K = X @ X.T + 30 * torch.eye(30, dtype=torch.float64)
    b = torch.randn(2, 5, 6, generator=g, dtype=torch.float64)
    x, it, res = pcg(lambda v: (v.reshape(2, 30) @ K).reshape(2, 5, 6), b, lambda r: r, tol=1e-12, max_iter=100)
    assert res <= 1e-12 and torch.allclose((x.reshape(2, 30) @ K).reshape(2, 5, 6), b, atol=1e-9)


def test_block_pcg_solves_every_column_and_survives_dependent_columns():
    """block=True: the columns share one Krylov space (k×k coefficients); equal columns (a grey image's three
    channels) make PᵀAP singular, which the pseudo-inverse absorbs instead of breaking down."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(30, 30, generator=g, dtype=torch.float64)
    K = X @ X.T + 0.1 * torch.eye(30, dtype=torch.float64)  # ill-conditioned enough to need several steps
    apply = lambda v: (v.reshape(v.shape[0], 30) @ K).reshape(v.shape)  # noqa: E731
    b = torch.randn(3, 5, 6, generator=g, dtype=torch.float64)
    x1, it1, res1 = pcg(apply, b, lambda r: r, tol=1e-10, max_iter=200)
    xb, itb, resb = pcg(apply, b, lambda r: r, tol=1e-10, max_iter=200, block=True)
    assert resb <= 1e-9 and torch.allclose(xb, x1, atol=1e-7)
    assert itb < it1  # a 3-column block space: fewer iterations than each column alone
    same = b[:1].expand(3, 5, 6).clone()
    xs, its, ress = pcg(apply, same, lambda r: r, tol=1e-10, max_iter=200, block=True)
    assert ress <= 1e-9 and torch.allclose(xs, x1[:1].expand(3, 5, 6), atol=1e-7)


def test_bad_parameters():
    _, c = _photo(12, 12)
    A, B = _system(c)
    with pytest.raises(ValueError, match="shape"):
        BlockStencil(torch.zeros(4, 4, 1, 1, 5, 5))
    with pytest.raises(ValueError, match="candidates"):
        Multigrid(A, B[:, :, :5])
    with pytest.raises(ValueError, match="nu"):
        Multigrid(A, B, nu=0)
    with pytest.raises(ValueError, match="cycle"):
        Multigrid(A, B, cycle="F")
    with pytest.raises(ValueError, match="operator acts on"):
        A.apply(torch.zeros(1, 1, 5, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="beta"):
        S.smooth(c, c, 1.0, mode="mg")
    with pytest.raises(ValueError, match="mode"):
        S.smooth(c, c, mode="multigrid")


@pytest.mark.parametrize("fine_dtype", [torch.float32, torch.float64])
def test_float32_cycle_inside_float64_cg_reaches_float64_accuracy(fine_dtype):
    """The smoothing's set-up: a float32 cycle (the finest level in float32, or in float64 above 4 MP to keep one
    copy of the stencil) preconditioning the Polak–Ribière CG in float64 still solves to a residual of 1e-10."""
    y, c = _photo(40, 44)
    A, B = _system(c)
    mg = Multigrid(A, B, dtype=torch.float32, fine_dtype=fine_dtype, w_levels=1)
    assert mg.levels[0].A.coef.dtype == fine_dtype and mg.levels[1].A.coef.dtype == torch.float32
    b = y[0, :, None]  # three right-hand sides at once
    x, it, res = pcg(A.apply, b, mg, tol=1e-10, max_iter=100)
    want = torch.linalg.solve(A.dense(), b.reshape(3, -1).T).T.reshape(b.shape)
    assert res <= 1e-10 and it < 60 and torch.allclose(x, want, rtol=0, atol=1e-8 * want.abs().max())
