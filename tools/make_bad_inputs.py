"""Write the bad-input corpus: small files that test every boundary of stylelab.

    python tools/make_bad_inputs.py [FOLDER]      # default: tests/bad_inputs (not committed)

``tests/test_bad_inputs.py`` calls :func:`make` into a temporary folder, so
nothing binary is committed; run the script to inspect the files by hand.
Every file is a few KB, except ``huge_header.png`` (12000×12000 px of one
grey: about 170 KB on disk, 144 MB decoded by PIL, 1.7 GB as a float RGB
tensor — the case of a small file that must not be converted in full for a
64 px result).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

#: name → short description; :func:`make` writes each.
FILES = {
    "good.png": "a valid 48×40 RGB photo-like image (the control)",
    "good_style.png": "a valid 40×48 RGB image (the control style)",
    "grey.png": "8-bit greyscale (valid: repeated to RGB)",
    "grey16.png": "16-bit greyscale (valid: scaled by 1/65535)",
    "rgba.png": "RGBA with a transparent half (valid: composited over white)",
    "palette.png": "palette image with transparency (valid)",
    "cmyk.jpg": "CMYK JPEG (valid: converted to RGB)",
    "exif_rotated.jpg": "JPEG with EXIF orientation 6 (valid: rotated on load)",
    "tiny_1x1.png": "1×1 px",
    "tiny_3x2.png": "3×2 px",
    "thin_4000x8.png": "4000 px tall, 8 px wide",
    "thin_8x400.png": "8 px tall, 400 px wide",
    "empty.png": "0 bytes",
    "garbage.png": "random bytes with a .png name",
    "truncated.png": "the first half of a valid PNG",
    "text.jpg": "a text file with a .jpg name",
    "huge_header.png": "12000×12000 px grey, one colour (small file, 144 MB decoded)",
    "labels_rgb.png": "a 3-channel colour mask used as a label map",
    "labels_float.tif": "a float label map with non-integer values",
    "labels_garbage.png": "random bytes as a label map",
    "labels_wrong_size.png": "a valid label map of the wrong size (12×10)",
    "code.pth": "a checkpoint that carries a pickled Python object (code)",
    "garbage.pth": "random bytes as a checkpoint",
    "truncated.pth": "the first half of a valid checkpoint",
    "wrong_keys.pth": "a valid checkpoint with keys no model has",
    "not_a_dir": "a plain file, used as a parent folder of an output",
    "a_folder/": "a folder, used as an input image or an output file",
    "decoders_empty/": "an empty folder given as --decoder-dir",
    "data_bad_json/index.json": "a course data index that is not JSON",
    "data_no_images/index.json": "a course data index without an 'images' list",
    "data_no_kind/index.json": "a course data index whose entry lacks 'kind'",
    # issue 27: label maps, video folders, training images, the 12 MP planner
    "labels_bw_rgb.png": "a black/white DPST colour mask (RGB) for good.png (40×48)",
    "labels_bwr_rgb.png": "a black/white/red DPST colour mask for good_style.png (48×40)",
    "labels_ids01.jpg": "greyscale JPEG label map with ids 0/1 (compression erases the 1s)",
    "labels_0_128_255.jpg": "greyscale JPEG label map with ids 0/128/255 (compression adds ids)",
    "labels_three_colours.png": "a colour mask in three colours that are not DPST's (two are nearest to red)",
    "video_one_frame/": "a folder of one frame",
    "video_static/": "a folder of three identical frames (a static clip)",
    "video_frames/": "a folder of three frames of a pan",
    "train_1x1/": "a folder of 1×1 training images",
    "photo_4000x3000.png": "a 4000×3000 photo of one colour (header read only: the README's 12 MP example)",
    "style_666x500.png": "a 666×500 style (a typical style photo)",
    "content_96x64.png": "a 96×64 content",
}


def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x / max(w - 1, 1), y / max(h - 1, 1), 0.5 + 0.0 * x], -1)
    return (255 * np.clip(0.8 * base + 0.2 * rng.random((h, w, 3)), 0, 1)).astype(np.uint8)


def _png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def make(folder: str | Path) -> Path:
    """Write every file of :data:`FILES` into ``folder`` (created); return it."""
    import torch

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    Image.fromarray(_photo(40, 48)).save(root / "good.png")
    Image.fromarray(_photo(48, 40, seed=1)).save(root / "good_style.png")
    Image.fromarray(_photo(40, 48)[..., 0]).save(root / "grey.png")
    Image.fromarray((np.arange(40 * 48).reshape(40, 48) * 30).astype(np.uint16)).save(root / "grey16.png")
    rgba = np.concatenate([_photo(40, 48), np.full((40, 48, 1), 255, np.uint8)], -1)
    rgba[:, :24, 3] = 0
    Image.fromarray(rgba, "RGBA").save(root / "rgba.png")
    pal = Image.fromarray(_photo(40, 48)).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    pal.info["transparency"] = 0
    pal.save(root / "palette.png", transparency=0)
    Image.fromarray(_photo(40, 48)).convert("CMYK").save(root / "cmyk.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(_photo(40, 48)).save(root / "exif_rotated.jpg", exif=exif)
    for name, (h, w) in {"tiny_1x1.png": (1, 1), "tiny_3x2.png": (3, 2), "thin_4000x8.png": (4000, 8),
                         "thin_8x400.png": (8, 400)}.items():
        Image.fromarray(_photo(h, w)).save(root / name)
    (root / "empty.png").write_bytes(b"")
    (root / "garbage.png").write_bytes(np.random.default_rng(0).integers(0, 256, 2048, dtype=np.uint8).tobytes())
    good = (root / "good.png").read_bytes()
    (root / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "text.jpg").write_text("this is not an image\n")
    if not (root / "huge_header.png").exists():
        Image.new("L", (12000, 12000), 128).save(root / "huge_header.png", optimize=True)
    Image.fromarray(_photo(40, 48)).save(root / "labels_rgb.png")
    Image.fromarray(np.full((40, 48), 0.5, np.float32), "F").save(root / "labels_float.tif")
    (root / "labels_garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(root / "labels_wrong_size.png")
    torch.save({"weight": torch.zeros(2), "config": argparse.Namespace(run="code")}, root / "code.pth")
    (root / "garbage.pth").write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    buf = io.BytesIO()
    torch.save({"weight": torch.zeros(1000)}, buf)
    (root / "truncated.pth").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    torch.save({"no.such.layer": torch.zeros(3)}, root / "wrong_keys.pth")
    (root / "not_a_dir").write_text("a file\n")
    (root / "a_folder").mkdir(exist_ok=True)
    (root / "decoders_empty").mkdir(exist_ok=True)
    for sub, text in {
        "data_bad_json": "{ not json",
        "data_no_images": json.dumps({"pairs": []}),
        "data_no_kind": json.dumps({"images": [{"name": "x", "file": "x.png"}]}),
    }.items():
        (root / sub).mkdir(exist_ok=True)
        (root / sub / "index.json").write_text(text)
    _issue27(root)
    return root


def _issue27(root: Path) -> None:
    """The files of issue 27's cases (label maps, frames, training images, the 12 MP planner)."""
    half = np.zeros((40, 48, 3), np.uint8)
    half[:, 24:] = 255  # black | white
    Image.fromarray(half).save(root / "labels_bw_rgb.png")
    bwr = np.zeros((48, 40, 3), np.uint8)
    bwr[16:32] = 255
    bwr[32:] = (255, 0, 0)  # black / white / red
    Image.fromarray(bwr).save(root / "labels_bwr_rgb.png")
    y, x = np.mgrid[0:40, 0:48]
    region = (x + y // 2 > 21).astype(np.uint8) + (x - y // 3 > 30)  # 0 | 1 | 2, borders across the 8×8 blocks
    Image.fromarray((region > 0).astype(np.uint8), "L").save(root / "labels_ids01.jpg", quality=75)
    Image.fromarray(np.array([0, 128, 255], np.uint8)[region], "L").save(root / "labels_0_128_255.jpg", quality=75)
    three = np.zeros((40, 48, 3), np.uint8)
    three[:, :16], three[:, 16:32], three[:, 32:] = (220, 40, 40), (150, 20, 20), (40, 40, 200)
    Image.fromarray(three).save(root / "labels_three_colours.png")
    photo = _photo(40, 64, seed=3)
    for name, frames in {"video_one_frame": [photo[:, :48]], "video_static": [photo[:, :48]] * 3,
                         "video_frames": [photo[:, 2 * t : 2 * t + 48] for t in range(3)]}.items():
        (root / name).mkdir(exist_ok=True)
        for t, f in enumerate(frames):
            Image.fromarray(np.ascontiguousarray(f)).save(root / name / f"frame_{t:04d}.png")
    (root / "train_1x1").mkdir(exist_ok=True)
    for i in range(3):
        Image.new("RGB", (1, 1), (40 * i, 100, 200)).save(root / "train_1x1" / f"t{i}.png")
    if not (root / "photo_4000x3000.png").exists():
        Image.new("L", (4000, 3000), 90).save(root / "photo_4000x3000.png", optimize=True)
    Image.fromarray(_photo(500, 666, seed=4)).save(root / "style_666x500.png")
    Image.fromarray(_photo(64, 96, seed=5)).save(root / "content_96x64.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(Path(__file__).resolve().parent.parent / "tests" / "bad_inputs"))
    args = parser.parse_args(argv)
    root = make(args.folder)
    for name, what in FILES.items():
        print(f"{name:<28} {what}")
    print(f"\nwrote {len(FILES)} entries into {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
