import numpy as np
import pytest
import torch
from PIL import Image

from stylelab import io


def _save(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


@pytest.fixture
def rgb_array():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(20, 30, 3), dtype=np.uint8)


def test_rgb_roundtrip_exact(tmp_path, rgb_array):
    p = _save(Image.fromarray(rgb_array), tmp_path / "a.png")
    t = io.load_image(p)
    assert t.shape == (1, 3, 20, 30) and t.dtype == torch.float32
    assert torch.equal((t[0].permute(1, 2, 0) * 255).round().byte(), torch.from_numpy(rgb_array))
    out = io.save_image(t, tmp_path / "b.png")
    assert np.array_equal(np.asarray(Image.open(out)), rgb_array)


def test_greyscale_palette_and_rgba(tmp_path, rgb_array):
    grey = io.load_image(_save(Image.fromarray(rgb_array[..., 0]), tmp_path / "g.png"))
    assert grey.shape == (1, 3, 20, 30) and torch.equal(grey[:, 0], grey[:, 2])
    pal = Image.fromarray(rgb_array).convert("P", palette=Image.ADAPTIVE, colors=8)
    t = io.load_image(_save(pal, tmp_path / "p.png"))
    expected = np.asarray(pal.convert("RGB"), dtype=np.float32) / 255
    assert np.allclose(t[0].permute(1, 2, 0).numpy(), expected)
    rgba = np.dstack([rgb_array, np.zeros((20, 30), np.uint8)])  # fully transparent
    t = io.load_image(_save(Image.fromarray(rgba, "RGBA"), tmp_path / "t.png"))
    assert torch.allclose(t, torch.ones_like(t))  # composited over white
    t = io.load_image(tmp_path / "t.png", background=(0, 0, 0))
    assert t.abs().max() == 0


def test_sixteen_bit(tmp_path):
    arr = np.linspace(0, 65535, 12 * 10).reshape(12, 10).astype(np.uint16)
    p = tmp_path / "d.png"
    Image.fromarray(arr).save(p)
    t = io.load_image(p)
    assert t.shape == (1, 3, 12, 10)
    assert torch.allclose(t[0, 1], torch.from_numpy(arr.astype(np.float32) / 65535), atol=1e-6)


def test_exif_rotation_is_applied(tmp_path, rgb_array):
    img = Image.fromarray(rgb_array)  # 30 wide, 20 high
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    p = tmp_path / "r.jpg"
    img.save(p, exif=exif.tobytes(), quality=95)
    t = io.load_image(p)
    assert t.shape[-2:] == (30, 20)


def test_resize_by_short_or_long_side(tmp_path, rgb_array):
    p = _save(Image.fromarray(rgb_array), tmp_path / "a.png")
    assert io.load_image(p, size=10).shape[-2:] == (10, 15)
    assert io.load_image(p, size=15, side="long").shape[-2:] == (10, 15)
    assert io.load_image(p, size=(7, 9)).shape[-2:] == (7, 9)
    with pytest.raises(ValueError, match="side"):
        io.load_image(p, size=10, side="middle")


def test_save_never_overwrites_unless_asked(tmp_path):
    img = torch.rand(1, 3, 8, 8)
    p = io.save_image(img, tmp_path / "out.png")
    before = p.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        io.save_image(torch.zeros(1, 3, 8, 8), p)
    assert p.read_bytes() == before
    q = io.save_image(torch.zeros(1, 3, 8, 8), p, rename=True)
    assert q.name == "out-1.png" and p.read_bytes() == before
    io.save_image(torch.zeros(1, 3, 8, 8), p, overwrite=True)
    assert p.read_bytes() != before
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".stylelab-")]  # no temp files left


def test_saved_files_get_the_permissions_of_a_plainly_created_file(tmp_path):
    """Outputs go through a temporary file (owner-only, 0600); the result must be readable as any new file is."""
    import os

    from stylelab.labels.maps import save_labels

    old = os.umask(0o022)
    try:
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
        want = plain.stat().st_mode & 0o777
        img = io.save_image(torch.rand(1, 3, 8, 8), tmp_path / "out.jpg")
        lab = save_labels(torch.zeros(1, 1, 8, 8, dtype=torch.long), tmp_path / "labels.png")
    finally:
        os.umask(old)
    assert want == 0o644
    assert img.stat().st_mode & 0o777 == want and lab.stat().st_mode & 0o777 == want


def test_bad_inputs_get_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No image at"):
        io.load_image(tmp_path / "missing.png")
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(ValueError, match="corrupt|not an image"):
        io.load_image(bad)
    notimg = tmp_path / "notes.png"
    notimg.write_text("hello")
    with pytest.raises(ValueError, match="not an image"):
        io.load_image(notimg)
    big = _save(Image.new("RGB", (100, 100)), tmp_path / "big.png")
    with pytest.raises(MemoryError, match="size="):
        io.load_image(big, max_pixels=5000)
    assert io.load_image(big, size=50, max_pixels=5000).shape[-2:] == (50, 50)
    with pytest.raises(ValueError, match="batch"):
        io.to_pil(torch.rand(2, 3, 4, 4))


def test_uint8_load_is_the_float_load_rounded_and_saves_back_exactly(tmp_path, rgb_array):
    p = _save(Image.fromarray(rgb_array), tmp_path / "a.png")
    u = io.load_image(p, dtype=torch.uint8)
    assert u.shape == (1, 3, 20, 30) and u.dtype == torch.uint8
    assert torch.equal(u[0].permute(1, 2, 0), torch.from_numpy(rgb_array))  # no float detour, bit for bit
    u[0, 0, 0, 0] = 7  # writable (the CLI overwrites it in place)
    out = io.save_image(u, tmp_path / "b.png")
    back = np.asarray(Image.open(out))
    assert back[0, 0, 0] == 7 and np.array_equal(back[1:], rgb_array[1:])
    # other modes go through the float path and are rounded: the same values as the float load
    grey = _save(Image.fromarray(rgb_array[..., 0]), tmp_path / "g.png")
    assert torch.equal(io.load_image(grey, dtype=torch.uint8), (io.load_image(grey) * 255).round().byte())
    rgba = _save(Image.fromarray(np.dstack([rgb_array, rgb_array[..., :1]]), "RGBA"), tmp_path / "t.png")
    assert torch.equal(io.load_image(rgba, dtype=torch.uint8), (io.load_image(rgba) * 255 + 0.5).byte())
    small = io.load_image(p, size=10, dtype=torch.uint8)  # resized through float, rounded back
    assert small.dtype == torch.uint8 and small.shape == (1, 3, 10, 15)
    assert (small.float() - io.load_image(p, size=10) * 255).abs().max() <= 0.5 + 1e-3
    with pytest.raises(ValueError, match="dtype"):
        io.load_image(p, dtype=torch.float64)
    with pytest.raises(ValueError, match="batch of 1"):
        io.save_image(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), tmp_path / "c.png")
