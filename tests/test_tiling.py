"""Tiled transfer: tiles cover the image, shared statistics make tiles equal the whole image (exactly for
receptive fields within the margin), the seam metric sees seams, and bad parameters are refused."""

import re

import pytest
import torch
import torch.nn.functional as F

from stylelab import _memory_model, available_memory, methods, tiling
from stylelab.tiling import tiles
from stylelab.features import transforms as T


def _photo(h, w, seed=0):
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h, dtype=torch.float64), torch.linspace(0, 1, w, dtype=torch.float64), indexing="ij")
    base = torch.stack([0.3 + 0.5 * xx * yy, 0.6 - 0.4 * yy, 0.2 + 0.6 * (xx > 0.4).double()])[None]
    return (base + 0.05 * torch.randn(1, 3, h, w, generator=g, dtype=torch.float64)).clamp(0, 1)


@pytest.mark.parametrize("h,w,tile,overlap", [(100, 130, 48, 16), (64, 64, 64, 16), (203, 97, 80, 24)])
def test_tile_boxes_cover_overlap_and_align(h, w, tile, overlap):
    boxes = tiles.tile_boxes(h, w, tile, overlap)
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
    boxes = tiles.tile_boxes(96, 96, 48, 0)
    assert tiles.seam_energy(x, boxes) < 1.5
    stepped = x.clone()
    stepped[..., :, 48:] += 0.1  # a brightness step along the tile border at x = 48
    assert tiles.seam_energy(stepped, boxes) > 1.6  # the column seam triples, the row seam is clean


def test_seam_energy_of_naive_tiles_is_high_and_shared_tiles_low():
    x = _photo(128, 128)
    style = _photo(40, 50, seed=3).flip(1)
    fn = lambda t: T.wct(t, style, preset="exact")  # noqa: E731
    shared = tiling.stylize_tiled(fn, x, tile=64, overlap=16, thumbnail=None, progress=False)
    naive_boxes = tiles.tile_boxes(128, 128, 64, 0)
    naive = torch.zeros_like(x)
    for y0, y1, x0, x1 in naive_boxes:
        naive[..., y0:y1, x0:x1] = fn(x[..., y0:y1, x0:x1])
    whole = fn(x)
    assert tiles.seam_energy(shared, naive_boxes) < 1.2 * tiles.seam_energy(whole, naive_boxes) + 0.05
    assert tiles.seam_energy(naive, naive_boxes) > 1.5 * tiles.seam_energy(whole, naive_boxes)


def test_bad_parameters_and_path_mismatch():
    with pytest.raises(ValueError, match="multiple of 8"):
        tiles.tile_boxes(100, 100, 50, 16)
    with pytest.raises(ValueError, match="at least"):
        tiles.tile_boxes(100, 100, 32, 16)
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


@pytest.mark.slow
def test_cli_tile_runs_and_refuses_other_methods(tmp_path, capsys):
    from stylelab import cli
    from stylelab.media import data
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
    # PhotoWCT's full-size smoothing says what it did: solver, iterations, residual, time
    assert re.search(r"smoothing at 72×72: mg, CG iterations \d+, residual \d\.\de[+-]\d\d, \d+\.\d s", capsys.readouterr().out)
    rc = cli.main(["transfer", "--method", "gatys", str(c), str(s), "-o", str(tmp_path / "g.png"), "--size", "32",
                   "--random-weights", "--tile", "48"])
    assert rc == 1 and not (tmp_path / "g.png").exists()
    rc = cli.main(["transfer", "--method", "adain", str(c), str(s), "-o", str(tmp_path / "b.png"), "--size", "96",
                   "--random-weights", "--tile", "big"])
    assert rc == 1


# ----------------------------------------------------------------------------- --tile auto: the memory budget
_STYLE_HW = (512, 683)


@pytest.mark.parametrize("method,opts", [("adain", {}), ("wct2", {}), ("photowct", {"smoothing": None})])
def test_auto_tile_for_4000x3000_fits_the_budget_and_a_smaller_budget_picks_smaller_tiles(method, opts):
    from stylelab import memory

    tile, need = tiling.choose_tile(method, 3000, 4000, budget=int(8e9), style_hw=_STYLE_HW, **opts)
    assert tile is not None and tile < 4000  # 12 MP does not fit whole in 8 GB
    assert need <= 8e9
    assert need == memory.estimate_tiled_bytes(method, 3000, 4000, tile, style_hw=_STYLE_HW, **opts)
    # the next larger candidate would not have fitted, or is over the CPU's cap: the largest tile that fits is chosen
    larger = [t for t in (2048, 1536, 1024, 768, 512, 384, 256) if tile < t <= tiling.CPU_TILE_MAX]
    if larger:
        assert memory.estimate_tiled_bytes(method, 3000, 4000, min(larger), style_hw=_STYLE_HW, **opts) > 8e9
    small, small_need = tiling.choose_tile(method, 3000, 4000, budget=int(need - 1), style_hw=_STYLE_HW, **opts)
    assert small < tile and small_need < need


def test_auto_tiles_on_the_cpu_are_capped_and_an_accelerator_keeps_the_largest_that_fits():
    """On the CPU 1024 px tiles beat 1536–2048 px ones at 12 MP (faster and a third of the peak, measured in
    BENCHMARKS.md); the cap never makes a plan fail that fitted, and an accelerator is not capped."""
    for method in ("adain", "wct2"):
        cpu, _ = tiling.choose_tile(method, 3000, 4000, budget=int(8e9), style_hw=_STYLE_HW)
        assert cpu == tiling.CPU_TILE_MAX == 1024
        assert tiling.choose_tile(method, 3000, 4000, budget=int(8e9), style_hw=_STYLE_HW, device="cpu")[0] == cpu
        cuda, need = tiling.choose_tile(method, 3000, 4000, budget=int(8e9), style_hw=_STYLE_HW, device="cuda")
        assert cuda > cpu and need <= 8e9
    # a budget that only smaller tiles fit: the largest of them, as without the cap
    from stylelab import memory

    budget = memory.estimate_tiled_bytes("adain", 3000, 4000, 768, style_hw=_STYLE_HW)
    small = tiling.choose_tile("adain", 3000, 4000, budget=budget, style_hw=_STYLE_HW)
    assert small == (768, budget)


def test_tile_estimate_counts_the_full_size_buffers_and_the_thumbnail():
    """Full-size content, blend accumulators and result copies (52 B/px, ≥ 0.6 GB at 12 MP) are counted on top of one
    tile's activations; the thumbnail run counts when it is larger than a tile; the smoothing does not tile."""
    from stylelab import memory

    est = memory.estimate_tiled_bytes
    small = est("adain", 1000, 1000, 256, thumbnail=256, style_hw=(64, 64))
    big = est("adain", 3000, 4000, 256, thumbnail=256, style_hw=(64, 64))
    assert big - small == memory.TILE_FULL_BPP * (12_000_000 - 1_000_000)
    assert memory.TILE_FULL_BPP * 12_000_000 >= 0.6e9
    # the accumulators of stylize_tiled (colour + weight, float32) are within the buffer figure
    assert memory.TILE_FULL_BPP >= 12 + 16
    thumb = est("adain", 3000, 4000, 256, thumbnail=1024, style_hw=(64, 64))
    assert thumb - big == 1200 * (1024 * 768 - 256 * 256)  # AdaIN's 1200 B/px on the thumbnail instead of the tile
    # thumbnail=None: statistics from the full image, a whole-image pass: tiles save nothing
    assert est("adain", 3000, 4000, 256, thumbnail=None) > memory.estimate_peak_bytes("adain", 3000, 4000)
    # PhotoWCT's smoothing runs at full size after the tiles: the same for every tile size
    sm = [est("photowct", 3000, 4000, t, smoothing="mg", style_hw=(512, 512)) for t in (256, 1024)]
    assert sm[0] == sm[1] > est("photowct", 3000, 4000, 1024, style_hw=(512, 512))
    assert sm[0] > memory.estimate_peak_bytes("smooth", 3000, 4000, mode="mg")
    # ... after the tiles only the float32 content is left of the full-size buffers, with the solver's float64 inputs
    assert sm[0] - memory.estimate_peak_bytes("smooth", 3000, 4000, mode="mg") == (
        memory.PROCESS_BYTES + methods.get("photowct").memory.weights + (12 + _memory_model._SMOOTH_INPUT_BPP) * 12_000_000)
    # estimate_peak_bytes(tile=...) is this estimate
    assert memory.estimate_peak_bytes("wct2", 3000, 4000, tile=512, thumbnail=512) == est("wct2", 3000, 4000, 512, thumbnail=512)


def test_stylize_tiled_buffers_are_what_the_estimate_counts():
    """Measured: an identity tiling of a 2000² image adds its float32 accumulators (16 B/px) and the result, within
    the 52 B/px counted (tile-sized temporaries aside)."""
    from stylelab import memory
    from stylelab.metrics import measure

    x = torch.rand(1, 3, 2000, 2000)
    m = measure(tiling.stylize_tiled, lambda t: t.clone(), x, tile=512, overlap=64, thumbnail=256, progress=False)
    if m.memory_method == "ru_maxrss":
        pytest.skip("needs sampled RSS (/proc)")
    assert 14 * x[0, 0].numel() < m.peak_bytes < memory.TILE_FULL_BPP * x[0, 0].numel()


def test_unreachable_budget_says_what_to_do():
    from stylelab import memory

    with pytest.raises(memory.MemoryBudgetError) as err:
        tiling.choose_tile("adain", 3000, 4000, budget=int(1.5e9), style_hw=_STYLE_HW)
    text = str(err.value)
    assert "1.5 GB" in text and "--size" in text and "--tile-budget" in text
    sh, sw = err.value.suggestion
    assert memory.estimate_tiled_bytes("adain", sh, sw, 256, style_hw=_STYLE_HW) <= 1.5e9
    # PhotoWCT with the multigrid smoothing at 12 MP fits the 8 GB laptop budget (issue 16); under a smaller
    # budget the smoothing, which does not tile, is what does not fit, and the message says so
    t, need = tiling.choose_tile("photowct", 3000, 4000, budget=int(8e9), style_hw=_STYLE_HW, smoothing="mg")
    assert t is not None and need <= 8e9
    with pytest.raises(memory.MemoryBudgetError, match="smooth"):
        tiling.choose_tile("photowct", 3000, 4000, budget=int(6e9), style_hw=_STYLE_HW, smoothing="mg")
    # a thumbnail larger than the tiles can be the fix
    t, _ = tiling.choose_tile("wct2", 3000, 4000, budget=int(8e9), style_hw=(256, 256))
    need_thumb = memory.estimate_tiled_bytes("wct2", 3000, 4000, 256, thumbnail=1024, style_hw=(256, 256))
    with pytest.raises(memory.MemoryBudgetError, match="--thumbnail 256"):
        tiling.choose_tile("wct2", 3000, 4000, budget=int(need_thumb - 1), style_hw=(256, 256))


def test_tile_budget_default_option_environment_and_available_memory(monkeypatch):
    from stylelab import memory

    monkeypatch.setattr(memory, "available_bytes", lambda device=None: 100e9)
    monkeypatch.setattr(available_memory, "available_bytes", lambda device=None: 100e9)  # tiling asks it directly
    monkeypatch.delenv(memory.TILE_BUDGET_ENV, raising=False)
    assert tiling.tile_budget("cpu") == (8_000_000_000, "default")
    monkeypatch.setenv(memory.TILE_BUDGET_ENV, "6.5")
    assert tiling.tile_budget("cpu")[0] == 6_500_000_000
    assert tiling.tile_budget("cpu", 3)[0] == 3_000_000_000  # the option wins over the environment
    monkeypatch.setenv(memory.TILE_BUDGET_ENV, "lots")
    with pytest.raises(ValueError, match="number of GB"):
        tiling.tile_budget("cpu")
    monkeypatch.delenv(memory.TILE_BUDGET_ENV)
    monkeypatch.setattr(memory, "available_bytes", lambda device=None: 2e9)  # a small machine: what it allows
    monkeypatch.setattr(available_memory, "available_bytes", lambda device=None: 2e9)  # tiling asks it directly
    budget, source = tiling.tile_budget("cpu")
    assert budget < 8e9 and "available" in source


def test_cli_tile_auto_states_the_budget_and_refuses_an_unreachable_one(tmp_path, capsys, monkeypatch):
    from stylelab import cli, memory
    from stylelab.media import data
    from stylelab.io import save_image

    c, s = tmp_path / "c.png", tmp_path / "s.png"
    save_image(data.load("astronaut", size=96), c)
    save_image(data.load("chelsea", size=64), s)
    base = ["transfer", "--method", "adain", str(c), str(s), "--size", "96", "--random-weights", "--overwrite"]
    monkeypatch.delenv(memory.TILE_BUDGET_ENV, raising=False)
    # a machine with room to spare: the budget is the one asked for, whatever this machine has free right now
    monkeypatch.setattr(memory, "available_bytes", lambda device=None: 64 * 2**30)
    monkeypatch.setattr(available_memory, "available_bytes", lambda device=None: 64 * 2**30)  # tiling asks it directly
    assert cli.main([*base, "-o", str(tmp_path / "a.png"), "--tile", "auto", "--tile-budget", "8"]) == 0
    out = capsys.readouterr().out
    assert "no tiles" in out and "predicted peak" in out and "of budget 8 GB (--tile-budget)" in out
    assert cli.main([*base, "-o", str(tmp_path / "b.png"), "--tile", "48", "--tile-overlap", "16"]) == 0
    assert "tiles of 48 px, predicted peak" in capsys.readouterr().out
    monkeypatch.setenv(memory.TILE_BUDGET_ENV, "0.2")
    from stylelab.methods import adain as A

    def no_weights(*a, **k):
        raise AssertionError("the budget is checked before the weights load")

    monkeypatch.setattr(A.AdaIN, "from_official", classmethod(no_weights))
    assert cli.main([*base, "-o", str(tmp_path / "c.png"), "--tile", "auto"]) == 1
    err = capsys.readouterr().err
    assert "0.2 GB" in err and "--tile-budget" in err


def test_help_documents_the_budget_option_and_variable(capsys):
    from stylelab import cli, memory

    with pytest.raises(SystemExit):
        cli.main(["transfer", "--method", "adain", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--tile-budget GB" in text and memory.TILE_BUDGET_ENV in text


# ----------------------------------------------------------------------------- the style is encoded once
def _run():
    from stylelab.methods import TransferRun

    return TransferRun("cpu", tile=tiling.TileOptions("48", overlap=16, thumbnail=64))


@pytest.mark.slow
def test_adain_tiled_cli_encodes_the_style_once(monkeypatch):
    from stylelab.media import data
    from stylelab.methods import adain as A

    monkeypatch.setenv("STYLELAB_RANDOM_WEIGHTS", "1")
    model = A.AdaIN.from_official("random", "random", random=True)
    monkeypatch.setattr(A.AdaIN, "from_official", classmethod(lambda cls, *a, **k: model))
    content, style = data.load("astronaut", size=96), data.load("chelsea", size=40)
    seen = []
    encode = model.encode
    monkeypatch.setattr(model, "encode", lambda x: seen.append(tuple(x.shape[-2:])) or encode(x))
    out = A.run_cli(content, style, _run(), alpha=1.0, adain_preset="pytorch", preserve_colour=False, vgg=None,
                    decoder=None, weights=None)
    assert out.shape == content.shape
    n_tiles = len(tiles.tile_boxes(*content.shape[-2:], 48, 16))
    assert n_tiles > 1 and len(seen) == n_tiles + 2  # the style once, the thumbnail once, every tile once
    assert seen.count(tuple(style.shape[-2:])) == 1
    # the prepared style gives what the image gives
    x = content[..., :48, :48]
    assert torch.allclose(model.stylize(x, model.prepare_style(style)), model.stylize(x, style), atol=1e-5)


@pytest.mark.slow
def test_photowct_tiled_cli_encodes_and_decomposes_the_style_once(monkeypatch):
    from stylelab.media import data
    from stylelab.features import transforms as TT
    from stylelab.methods import photowct as P

    from stylelab import weights as W

    model = P.PhotoWCT.from_official(W.synthetic_state_dict("photowct", seed=0))
    monkeypatch.setattr(P.PhotoWCT, "from_official", classmethod(lambda cls, *a, **k: model))
    content, style = data.load("astronaut", size=96), data.load("chelsea", size=40)
    e4_inputs, prepared = [], []
    e4 = model.e4.forward
    monkeypatch.setattr(model.e4, "forward", lambda x, *a, **k: e4_inputs.append(tuple(x.shape[-2:])) or e4(x, *a, **k))
    prep = TT.prepare_wct_style
    monkeypatch.setattr(TT, "prepare_wct_style", lambda *a, **k: prepared.append(1) or prep(*a, **k))
    out = P.run_cli(content, style, _run(), weights=None, smooth="none", beta=0.9999)
    assert out.shape == content.shape
    n_tiles = len(tiles.tile_boxes(*content.shape[-2:], 48, 16))
    assert n_tiles > 1 and e4_inputs.count(tuple(style.shape[-2:])) == 1
    assert len(e4_inputs) == n_tiles + 2 and len(prepared) == 4  # one colouring per level, for all tiles
    x = content[..., :48, :48]
    assert torch.allclose(model.stylize(x, model.prepare_style(style)), model.stylize(x, style), atol=1e-5)
