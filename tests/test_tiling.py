"""Tiled transfer: tiles cover the image, shared statistics make tiles equal the whole image (exactly for
receptive fields within the margin), the seam metric sees seams, and bad parameters are refused."""

import pytest
import torch
import torch.nn.functional as F

from stylelab import tiling, transforms as T


def _photo(h, w, seed=0):
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h, dtype=torch.float64), torch.linspace(0, 1, w, dtype=torch.float64), indexing="ij")
    base = torch.stack([0.3 + 0.5 * xx * yy, 0.6 - 0.4 * yy, 0.2 + 0.6 * (xx > 0.4).double()])[None]
    return (base + 0.05 * torch.randn(1, 3, h, w, generator=g, dtype=torch.float64)).clamp(0, 1)


@pytest.mark.parametrize("h,w,tile,overlap", [(100, 130, 48, 16), (64, 64, 64, 16), (203, 97, 80, 24)])
def test_tile_boxes_cover_overlap_and_align(h, w, tile, overlap):
    boxes = tiling.tile_boxes(h, w, tile, overlap)
    cover = torch.zeros(h, w)
    for y0, y1, x0, x1 in boxes:
        assert y1 - y0 <= tile and x1 - x0 <= tile
        assert (y0 % 8 == 0 or y1 == h) and (x0 % 8 == 0 or x1 == w)
        cover[y0:y1, x0:x1] += 1
    assert cover.min() >= 1
    ys = sorted({(b[0], b[1]) for b in boxes})
    for (a0, a1), (b0, b1) in zip(ys, ys[1:]):
        assert a1 - b0 >= overlap  # neighbours overlap by at least `overlap`


def test_blending_is_a_partition_of_unity():
    x = _photo(90, 121)
    out = tiling.stylize_tiled(lambda t: t, x, tile=48, overlap=16, progress=False)
    assert torch.allclose(out.double(), x, atol=1e-6)


@pytest.mark.parametrize("h,w", [(72, 96), (101, 67), (128, 128)])
@pytest.mark.parametrize("kind", ["wct", "adain"])
def test_pointwise_transform_tiled_equals_whole(h, w, kind):
    """Pixel-space WCT/AdaIN (receptive field 1 px): with shared statistics tiles give the whole-image result
    exactly; with each tile's own statistics they do not."""
    x = _photo(h, w)
    style = _photo(40, 50, seed=3).flip(1)
    fn = (lambda t: T.wct(t, style, preset="exact")) if kind == "wct" else (lambda t: T.adain(t, style))
    whole = fn(x)
    tiled = tiling.stylize_tiled(fn, x, tile=48, overlap=16, thumbnail=None, progress=False)
    assert (tiled.double() - whole).abs().max() < 1e-5
    naive = tiling.stylize_tiled(fn, x, tile=48, overlap=16, thumbnail=None, progress=False,
                                 shared=_IdentityStats())
    assert (naive.double() - whole).abs().max() > 1e-2


class _IdentityStats(tiling.SharedStatistics):
    """Replays nothing: every tile computes its own statistics (the naive tiling)."""

    def _next(self, kind, compute):
        return compute()

    def replay(self):
        return self._active("replay")


def test_convolution_network_within_margin_is_exact():
    """conv(3×3)² → AdaIN → conv(3×3)²: receptive-field radius 4 ≤ margin 6 ⇒ tiled == whole."""
    torch.manual_seed(0)
    c1, c2 = torch.nn.Conv2d(3, 8, 3, padding=1).double(), torch.nn.Conv2d(8, 8, 3, padding=1).double()
    c3, c4 = torch.nn.Conv2d(8, 8, 3, padding=1).double(), torch.nn.Conv2d(8, 3, 3, padding=1).double()
    style = torch.randn(1, 8, 10, 10, dtype=torch.float64) * 2 + 1

    @torch.no_grad()
    def fn(t):
        f = c2(F.relu(c1(t)))
        return c4(F.relu(c3(T.adain(f, style))))

    for h, w in [(96, 120), (75, 130)]:
        x = _photo(h, w)
        whole = fn(x)
        tiled = tiling.stylize_tiled(fn, x, tile=56, overlap=16, margin=6, thumbnail=None, progress=False)
        assert (tiled.double() - whole).abs().max() < 1e-5
        # with margin 0 the border pixels (which see zero padding) leak in: a small but nonzero difference
        leaky = tiling.stylize_tiled(fn, x, tile=56, overlap=16, margin=0, thumbnail=None, progress=False)
        assert 1e-6 < (leaky.double() - whole).abs().max() < 0.5 * whole.abs().max()


def test_thumbnail_statistics_converge_to_full_ones():
    """A thumbnail averages away fine detail (here: noise), so its covariance is smaller; the error shrinks as
    the thumbnail grows and is zero when it is the whole image."""
    x = _photo(256, 192)
    style = _photo(40, 50, seed=3).flip(1)
    fn = lambda t: T.wct(t, style, preset="exact")  # noqa: E731
    full = tiling.stylize_tiled(fn, x, tile=96, overlap=16, thumbnail=None, progress=False).double()
    errs = [((tiling.stylize_tiled(fn, x, tile=96, overlap=16, thumbnail=t, progress=False).double() - full).norm()
             / full.norm()).item() for t in (64, 128, 256)]
    assert errs[0] > errs[1] > 0 and errs[2] < 1e-6


def test_seam_energy_sees_a_seam():
    x = _photo(96, 96)
    boxes = tiling.tile_boxes(96, 96, 48, 0)
    assert tiling.seam_energy(x, boxes) < 1.5
    stepped = x.clone()
    stepped[..., :, 48:] += 0.1  # a brightness step along the tile border at x = 48
    assert tiling.seam_energy(stepped, boxes) > 1.6  # the column seam triples, the row seam is clean


def test_seam_energy_of_naive_tiles_is_high_and_shared_tiles_low():
    x = _photo(128, 128)
    style = _photo(40, 50, seed=3).flip(1)
    fn = lambda t: T.wct(t, style, preset="exact")  # noqa: E731
    shared = tiling.stylize_tiled(fn, x, tile=64, overlap=16, thumbnail=None, progress=False)
    naive_boxes = tiling.tile_boxes(128, 128, 64, 0)
    naive = torch.zeros_like(x)
    for y0, y1, x0, x1 in naive_boxes:
        naive[..., y0:y1, x0:x1] = fn(x[..., y0:y1, x0:x1])
    whole = fn(x)
    assert tiling.seam_energy(shared, naive_boxes) < 1.2 * tiling.seam_energy(whole, naive_boxes) + 0.05
    assert tiling.seam_energy(naive, naive_boxes) > 1.5 * tiling.seam_energy(whole, naive_boxes)


def test_bad_parameters_and_path_mismatch():
    with pytest.raises(ValueError, match="multiple of 8"):
        tiling.tile_boxes(100, 100, 50, 16)
    with pytest.raises(ValueError, match="at least"):
        tiling.tile_boxes(100, 100, 32, 16)
    x = _photo(64, 64)
    with pytest.raises(ValueError, match="margin"):
        tiling.stylize_tiled(lambda t: t, x, tile=48, overlap=16, margin=8, progress=False)
    with pytest.raises(ValueError, match="crop"):
        tiling.stylize_tiled(lambda t: t[..., :-1, :], x, tile=48, overlap=16, progress=False)
    with pytest.raises(ValueError, match="one image"):
        tiling.stylize_tiled(lambda t: t, x.expand(2, 3, 64, 64), tile=48, overlap=16, progress=False)
    shared = tiling.SharedStatistics()
    with pytest.raises(RuntimeError, match="nothing recorded"):
        with shared.replay():
            pass
    style = _photo(20, 20, seed=1)
    with shared.record():
        T.adain(x, style)
    with pytest.raises(RuntimeError, match="same path"):
        with shared.replay():
            T.wct(x, style)


def test_cli_tile_runs_and_refuses_other_methods(tmp_path):
    from stylelab import cli, data
    from stylelab.io import save_image

    c, s = tmp_path / "c.png", tmp_path / "s.png"
    save_image(data.load("astronaut", size=96), c)
    save_image(data.load("chelsea", size=64), s)
    out = tmp_path / "o.png"
    rc = cli.main(["transfer", "--method", "adain", str(c), str(s), "-o", str(out), "--size", "96",
                   "--random-weights", "--tile", "48", "--tile-overlap", "16"])
    assert rc == 0 and out.exists()
    for method, extra in (("wct2", []), ("photowct", ["--smooth", "mg"])):
        o = tmp_path / f"{method}.png"
        rc = cli.main(["transfer", "--method", method, str(c), str(s), "-o", str(o), "--size", "72",
                       "--random-weights", "--tile", "48", "--tile-overlap", "16", *extra])
        assert rc == 0 and o.exists()
    rc = cli.main(["transfer", "--method", "gatys", str(c), str(s), "-o", str(tmp_path / "g.png"), "--size", "32",
                   "--random-weights", "--tile", "48"])
    assert rc == 1 and not (tmp_path / "g.png").exists()
    rc = cli.main(["transfer", "--method", "adain", str(c), str(s), "-o", str(tmp_path / "b.png"), "--size", "96",
                   "--random-weights", "--tile", "big"])
    assert rc == 1
