"""Closed-form smoothing: solvers agree with each other and with a dense oracle; official border rule; guided filter."""

import numpy as np
import pytest
import torch

from stylelab.smoothing import matting
from stylelab import smoothing as S
from stylelab.smoothing import solvers as smoothing_solvers
from stylelab.smoothing import guided


def _pair(h=18, w=22, seed=0):
    g = torch.Generator().manual_seed(seed)
    # a piecewise-smooth "photo": two colour regions plus a little noise
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h, dtype=torch.float64), torch.linspace(0, 1, w, dtype=torch.float64), indexing="ij")
    mask = (xx + 0.3 * yy > 0.55).double()
    base = torch.stack([0.2 + 0.6 * mask, 0.5 + 0.2 * yy, 0.7 - 0.5 * mask * xx])[None]
    content = (base + 0.02 * torch.randn(1, 3, h, w, generator=g, dtype=torch.float64)).clamp(0, 1)
    stylized = (content.flip(1) * 0.8 + 0.1 + 0.1 * torch.randn(1, 3, h, w, generator=g, dtype=torch.float64)).clamp(0, 1)
    return stylized, content


def test_direct_matches_dense_closed_form():
    """r = (1−β)(I − βS)⁻¹ y with S = D^-1/2 W D^-1/2 built densely from the affinity."""
    y, c = _pair(12, 14)
    beta = 0.999
    W = matting.affinity(c).toarray()
    d = W.sum(1)
    Sm = W / np.sqrt(np.outer(d, d))
    A = np.eye(len(d)) - beta * Sm
    expected = np.stack([(1 - beta) * np.linalg.solve(A, ch.ravel()) for ch in y[0].numpy()]).reshape(y.shape)
    ours = S.smooth(y, c, beta, mode="direct", clamp=False)
    assert np.abs(ours.numpy() - expected).max() < 1e-9


def _rounding_growth(y, c, beta=0.9999):
    """max over channels of ‖M‖₂‖z‖/‖b‖ for the smoothing system M z = b (dense; small images only)."""
    L = matting.laplacian(c).toarray()
    d = matting.window_counts(*y.shape[-2:], 1).ravel()
    M = (1 - beta) * np.diag(d) + beta * L
    b = (1 - beta) * np.sqrt(d)[None] * y[0].reshape(y.shape[1], -1).numpy()
    z = np.linalg.solve(M, b.T).T
    return float((np.linalg.norm(M, 2) * np.linalg.norm(z, axis=1) / np.linalg.norm(b, axis=1)).max())


@pytest.mark.parametrize("mode", ["cg", "ilu", "mg"])
def test_iterative_solvers_agree_with_direct(mode):
    y, c = _pair()
    direct = S.smooth(y, c, mode="direct", clamp=False)
    out, info = S.smooth(y, c, mode=mode, clamp=False, return_info=True, tol=1e-10, min_size=6, max_iter=3000)
    # info.residual is the true residual ‖b − Mz‖/‖b‖, recomputed from z; CG stops when its recursively updated
    # residual is ≤ tol, and in float64 the two differ by the rounding of the k steps' products: at most about
    # k·u·‖M‖‖z‖/‖b‖ (Greenbaum, "Estimating the attainable accuracy of recursive computed residual methods",
    # SIAM J. Matrix Anal. Appl. 1997), typically √k·u·‖M‖‖z‖/‖b‖ (independent roundings add like a random
    # walk). Here ‖M‖‖z‖/‖b‖ ≈ 1.1e4 (κ(M) ≈ 1.4e4: 1 − β = 1e-4) and "cg" takes ~250 Jacobi steps: √k·u·… ≈ 4e-11
    # (measured gap 7e-12: 1.07e-10). The worst case k·u·… ≈ 6e-10 would let a solve stopped at 1e-9 pass
    # (its true residual: 7.1e-10); this one does not.
    gap = np.sqrt(sum(info.iterations)) * np.finfo(np.float64).eps * _rounding_growth(y, c)
    assert gap < 1e-10
    assert info.converged and info.residual <= 1e-10 + gap
    assert sum(info.iterations) > 0
    assert (out - direct).abs().max() < 1e-6


def test_cg_float32_converges_to_documented_tolerance():
    y, c = _pair()
    direct = S.smooth(y, c, mode="direct", clamp=False)
    out, info = S.smooth(y.float(), c.float(), mode="cg", clamp=False, return_info=True, max_iter=3000)
    assert out.dtype == torch.float32
    # CG stops on its recursive residual ≤ 1e-5; the true residual (reported) stalls near k·u₃₂·‖M‖‖z‖/‖b‖
    # (see above; u₃₂ = 1.2e-7): measured 2.5e-2 here, while the pixels are within 2e-3 of the direct solve
    assert info.converged and info.residual <= 0.1
    assert (out.double() - direct).abs().max() < 1e-2


def test_official_mode_output_size_and_border_rule():
    y, c = _pair(20, 24)
    out = S.smooth(y, c, mode="official", clamp=False)
    assert out.shape == (1, 3, 16, 20)
    # the outer 2-px ring of the stylised image is discarded and replaced by replication
    y2 = y.clone()
    y2[..., :2, :] = 0.0
    y2[..., :, -2:] = 1.0
    assert torch.equal(S.smooth(y2, c, mode="official", clamp=False), out)
    # and it equals a plain solve on the replicated, 8-bit inputs, cropped by 2 px
    yq = torch.floor(y * 255) / 255
    yp = torch.nn.functional.pad(yq[..., 2:-2, 2:-2], (2, 2, 2, 2), mode="replicate")
    cr = torch.nn.functional.interpolate(c, size=(16, 20), mode="bilinear", antialias=True, align_corners=False)
    cp = torch.nn.functional.pad(torch.round(cr * 255) / 255, (2, 2, 2, 2), mode="replicate")
    ref = smoothing_solvers.solve_direct(yp, cp)[..., 2:-2, 2:-2]
    assert (out - ref).abs().max() < 1e-12


def _brute_box_mean(x, r):
    h, w = x.shape[-2:]
    out = np.zeros_like(x)
    for i in range(h):
        for j in range(w):
            out[..., i, j] = x[..., max(0, i - r):i + r + 1, max(0, j - r):j + r + 1].mean(axis=(-2, -1))
    return out


def test_box_mean_matches_brute_force():
    x = torch.rand(2, 9, 11, dtype=torch.float64)
    for r in (1, 3, 20):
        assert np.allclose(guided.box_mean(x, r).numpy(), _brute_box_mean(x.numpy(), r))


def test_guided_filter_matches_brute_force_and_identity():
    y, c = _pair(9, 11)
    r, eps = 2, 1e-3
    I = c[0].numpy()
    p = y[0].numpy()
    h, w = I.shape[1:]
    A = np.zeros((3, 3, h, w))
    B = np.zeros((3, h, w))
    for i in range(h):
        for j in range(w):
            win = I[:, max(0, i - r):i + r + 1, max(0, j - r):j + r + 1].reshape(3, -1)
            mu = win.mean(1)
            cov = np.cov(win, bias=True) + eps * np.eye(3)
            for ch in range(3):
                pw = p[ch, max(0, i - r):i + r + 1, max(0, j - r):j + r + 1].ravel()
                a = np.linalg.solve(cov, (win * pw).mean(1) - mu * pw.mean())
                A[ch, :, i, j] = a
                B[ch, i, j] = pw.mean() - a @ mu
    expected = (_brute_box_mean(A, r) * I[None]).sum(1) + _brute_box_mean(B, r)
    ours = guided.guided_filter(y, c, radius=r, eps=eps)
    assert np.abs(ours[0].numpy() - expected).max() < 1e-10
    # guiding an image by itself with a tiny eps returns it
    same = guided.guided_filter(c, c, radius=2, eps=1e-12)
    assert (same - c).abs().max() < 1e-5
    # and gif mode is this filter
    assert torch.allclose(S.smooth(y, c, mode="gif", gif_radius=2, gif_eps=1e-3, clamp=False), ours)


def test_bad_inputs():
    y, c = _pair(10, 10)
    with pytest.raises(ValueError, match="mode"):
        S.smooth(y, c, mode="fast")
    with pytest.raises(ValueError, match="beta"):
        S.smooth(y, c, beta=1.0)
    with pytest.raises(ValueError, match=r"stylized must have shape \(B, 3, H, W\) or \(3, H, W\)"):
        S.smooth(y[0, 0], c)
    with pytest.raises(ValueError, match="float"):
        S.smooth((y * 255).to(torch.uint8), c)
    with pytest.raises(ValueError, match=r"stylized must be a batch of 1, got 2.*loop over the batch"):
        S.smooth(torch.cat([y, y]), torch.cat([c, c]))


def test_cli_smooth(tmp_path):
    from stylelab import cli
    from stylelab.io import save_image, load_image

    y, c = _pair(16, 20)
    save_image(y.float(), tmp_path / "y.png")
    save_image(c.float(), tmp_path / "c.png")
    rc = cli.main(["smooth", str(tmp_path / "y.png"), str(tmp_path / "c.png"), "-o", str(tmp_path / "o.png"), "--mode", "official"])
    assert rc == 0
    assert load_image(tmp_path / "o.png").shape == (1, 3, 12, 16)


def test_solve_affinity_is_the_textbook_dense_solve_and_matches_smooth_direct():
    import numpy as np

    from stylelab.smoothing import matting
    from stylelab.smoothing import smooth
    from stylelab.smoothing.solvers import solve_affinity

    g = torch.Generator().manual_seed(3)
    content = torch.rand(1, 3, 7, 6, generator=g, dtype=torch.float64)
    y = torch.rand(1, 3, 7, 6, generator=g, dtype=torch.float64)
    W = matting.affinity(content).toarray()
    d = W.sum(1)
    S = W / np.sqrt(np.outer(d, d))
    dense = 0.1 * np.linalg.solve(np.eye(42) - 0.9 * S, y[0].reshape(3, -1).numpy().T)  # an independent dense oracle
    assert np.abs(solve_affinity(W, y[0].reshape(3, -1).numpy().T, 0.9) - dense).max() < 1e-10
    r = smooth(y, content, 0.9, mode="direct", clamp=False)
    assert np.abs(r[0].reshape(3, -1).numpy().T - dense).max() < 1e-8
    import pytest

    with pytest.raises(ValueError, match="positive sum"):
        solve_affinity(np.zeros((3, 3)), np.ones(3))


@pytest.mark.parametrize("hw,solver", [((20, 30), "direct"), ((100, 120), "ilu"), ((200, 201), "mg")], ids=str)
def test_auto_picks_the_fastest_exact_solver_for_the_size(hw, solver):
    """``mode="auto"`` on CPU follows stylelab.memory.SMOOTH_AUTO_MAX_PIXELS (measured by bench_smoothing.py),
    and every choice agrees with the direct solve to the multigrid's error target (1e-3)."""
    from stylelab import memory

    y, c = _pair(*hw)
    out, info = S.smooth(y, c, clamp=False, return_info=True)
    assert info.mode == ("auto" if solver == "auto" else f"auto/{solver}")
    assert memory.estimate_peak_bytes("smooth", *hw, mode="auto", device="cpu") == \
        memory.estimate_peak_bytes("smooth", *hw, mode=solver, device="cpu")
    if solver != "direct":
        assert (out - S.smooth(y, c, mode="direct", clamp=False)).abs().max() <= 1e-3
