"""The matting Laplacian (sparse and matrix-free) against pymatting's cf_laplacian, plus its identities."""

import numpy as np
import pytest
import torch

from stylelab.smoothing import matting as M

pymatting = pytest.importorskip("pymatting")


def _img(h, w, seed=0, flat=False):
    g = torch.Generator().manual_seed(seed)
    if flat:  # near-flat photo-like patch: sigma 1e-3 around a colour
        return (torch.tensor([0.4, 0.5, 0.6], dtype=torch.float64)[None, :, None, None]
                + 1e-3 * torch.randn(1, 3, h, w, generator=g, dtype=torch.float64))
    return torch.rand(1, 3, h, w, generator=g, dtype=torch.float64)


CASES = [(7, 9, 1, False), (12, 12, 1, True), (11, 13, 2, False), (10, 12, 2, True)]


@pytest.mark.parametrize("h,w,r,flat", CASES)
def test_sparse_matches_pymatting(h, w, r, flat):
    img = _img(h, w, flat=flat)
    ours = M.laplacian(img, eps=1e-7, radius=r)
    ref = pymatting.cf_laplacian(M.to_hwc(img), epsilon=1e-7, radius=r)
    scale = max(1.0, abs(ref).max())
    assert abs(ours - ref).max() / scale < 1e-8


@pytest.mark.parametrize("h,w,r,flat", CASES)
def test_matvec_matches_pymatting(h, w, r, flat):
    img = _img(h, w, seed=1, flat=flat)
    ref = pymatting.cf_laplacian(M.to_hwc(img), epsilon=1e-7, radius=r)
    v = torch.rand(2, h, w, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    ours = M.laplacian_matvec(img, v, radius=r)
    expected = np.stack([ref @ v[i].numpy().ravel() for i in range(2)]).reshape(2, h, w)
    scale = max(1.0, np.abs(expected).max())
    assert np.abs(ours.numpy() - expected).max() / scale < 1e-8
    # flat vector in row-major order
    flat_out = M.laplacian_matvec(img, v[0].reshape(-1), radius=r)
    assert np.allclose(flat_out.numpy(), expected[0].ravel(), atol=1e-8 * scale)


@pytest.mark.parametrize("r", [1, 2])
def test_diagonal_matches_sparse(r):
    img = _img(9, 11, seed=3)
    op = M.MattingLaplacian(img, radius=r)
    assert np.allclose(op.diagonal().numpy().ravel(), M.laplacian(img, radius=r).diagonal(), atol=1e-9)


@pytest.mark.parametrize("flat", [False, True])
def test_identities_null_symmetric_psd(flat):
    img = _img(10, 12, seed=4, flat=flat)
    L = M.laplacian(img).toarray()
    scale = np.abs(L).max()
    assert np.abs(L @ np.ones(L.shape[0])).max() < 1e-9 * scale  # L·1 = 0
    assert np.abs(L - L.T).max() < 1e-12 * scale  # symmetric
    evals = np.linalg.eigvalsh(L)
    assert evals.min() > -1e-9 * scale  # positive semi-definite
    op = M.MattingLaplacian(img)
    ones = torch.ones(10, 12, dtype=torch.float64)
    assert (op @ ones).abs().max() < 1e-9 * scale


def test_affinity_rows_sum_to_window_counts():
    img = _img(8, 10, seed=5)
    W = M.affinity(img)
    counts = M.window_counts(8, 10)
    assert np.allclose(np.asarray(W.sum(axis=1)).ravel(), counts.ravel())
    assert sorted(set(counts.ravel())) == [1, 2, 3, 4, 6, 9]
    assert np.allclose((np.diag(counts.ravel()) - W.toarray()), M.laplacian(img).toarray())


def test_eps_matters_on_flat_images():
    img = _img(12, 12, flat=True)
    a, b = M.laplacian(img, eps=1e-7).toarray(), M.laplacian(img, eps=1e-5).toarray()
    assert np.abs(a - b).max() / np.abs(a).max() > 0.1


def test_bad_inputs():
    with pytest.raises(ValueError, match="smaller than one"):
        M.laplacian(torch.rand(1, 3, 2, 5))
    with pytest.raises(ValueError, match="batch"):
        M.MattingLaplacian(torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match="RGB"):
        M.laplacian(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="float"):
        M.MattingLaplacian(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError, match="radius"):
        M.laplacian(torch.rand(1, 3, 8, 8), radius=0)
    op = M.MattingLaplacian(torch.rand(1, 3, 8, 8))
    with pytest.raises(ValueError, match="spatial shape"):
        op.matvec(torch.rand(8, 9))


def test_affinity_explorer_widget_callbacks():
    from stylelab.course.widgets.matting import AffinityExplorer

    img = _img(10, 12, seed=7)
    ex = AffinityExplorer(img)
    box = ex.widget()
    assert ex.result["row"] == 5 and ex.result["figure_png"][:4] == b"\x89PNG"
    ex.controls["row"].value = 2
    ex.controls["col"].value = 3
    aff = ex.result["affinity"]
    L = M.laplacian(img).toarray()
    expected = -L[2 * 12 + 3].reshape(10, 12)
    expected[2, 3] = 0
    assert ex.result["row"] == 2 and np.allclose(aff, expected)
    # non-zero only within 2r of the pixel
    ys, xs = np.nonzero(aff)
    assert np.abs(ys - 2).max() <= 2 and np.abs(xs - 3).max() <= 2
    # ε changes only on Rebuild
    ex.controls["eps"].value = 1e-2
    assert np.allclose(ex.result["affinity"], expected)
    ex.controls["rebuild"].click()
    assert ex.eps == pytest.approx(1e-2) and not np.allclose(ex.result["affinity"], expected)
    assert ex.controls["image"].value == ex.result["figure_png"]
    with pytest.raises(ValueError, match="outside"):
        ex.affinity_map(10, 0)
