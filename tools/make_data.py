"""Build the course images in ``data/`` reproducibly.

    python tools/make_data.py            # rebuild data/ (downloads two Debian packages)
    python tools/make_data.py --debs DIR # use .deb files (or extracted trees) already in DIR
    python tools/make_data.py --check    # rebuild into a temporary folder and compare

Sources, all with a licence that allows redistribution (details in the
generated ``data/CREDITS.md``):

* photos shipped inside scikit-image (``skimage.data``: astronaut, chelsea,
  coffee, rocket, brick, grass, gravel — public domain or CC0);
* Debian desktop-background packages, fetched with ``apt-get download`` and
  unpacked with ``dpkg -x`` (``lomiri-wallpapers-16.04``, CC-BY-4.0/CC0 photos;
  ``lomiri-wallpapers-20.04``, CC-BY-SA-3.0; ``mate-backgrounds``, GPL-2+);
* painting-like style images generated here from a seeded random generator
  (brush strokes along a swirling flow field, a Voronoi mosaic, pointillist
  dots), dedicated to the public domain (CC0-1.0).

Every photo is resized to at most 512 px on its longer side (Lanczos) and
saved as JPEG quality 90; generated images and label maps are PNG. Label
maps are single-channel 8-bit PNGs with values 0..K-1 computed below from
colour rules plus morphology (sky = 0, land = 1 for the landscape pairs), and
``data/labels_preview.png`` shows them over their photos for checking by eye.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
MAX_SIDE = 512
JPEG_QUALITY = 90
SEED = 20240601

SKIMAGE_URL = "https://scikit-image.org/docs/stable/api/skimage.data.html"
DEBIAN_URL = "https://packages.debian.org/bookworm/{pkg}"

# --------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------

#: Debian packages used, and where their images live inside the package.
DEBS = {
    "lomiri-wallpapers-16.04": "usr/share/backgrounds",
    "lomiri-wallpapers-20.04": "usr/share/backgrounds",
    "mate-backgrounds": "usr/share/backgrounds/mate",
}


def _skimage(name: str) -> Image.Image:
    import skimage.data

    arr = getattr(skimage.data, name)()
    return Image.fromarray(arr)


class Debs:
    """Finds files inside Debian packages, downloading and unpacking them on demand."""

    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="stylelab-debs-"))
        self.versions: dict[str, str] = {}

    def root(self, pkg: str) -> Path:
        extracted = self.folder / f"x_{pkg}"
        if not extracted.is_dir():
            debs = sorted(glob.glob(str(self.folder / f"{pkg}_*.deb")))
            if not debs:
                print(f"  apt-get download {pkg}", file=sys.stderr)
                subprocess.run(["apt-get", "download", pkg], cwd=self.folder, check=True, stdout=subprocess.DEVNULL)
                debs = sorted(glob.glob(str(self.folder / f"{pkg}_*.deb")))
            subprocess.run(["dpkg", "-x", debs[-1], str(extracted)], check=True)
        if pkg not in self.versions:
            debs = sorted(glob.glob(str(self.folder / f"{pkg}_*.deb")))
            self.versions[pkg] = Path(debs[-1]).name.split("_")[1] if debs else "unknown"
        return extracted

    def open(self, pkg: str, file: str) -> Image.Image:
        img = Image.open(self.root(pkg) / DEBS[pkg] / file)
        img.draft("RGB", (MAX_SIDE * 2, MAX_SIDE * 2))  # fast JPEG decode at reduced scale
        return img.convert("RGB")


def _shrink(img: Image.Image, max_side: int = MAX_SIDE) -> Image.Image:
    img = img.convert("RGB") if img.mode not in ("RGB", "L") else img
    scale = max_side / max(img.size)
    if scale < 1:
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(size, Image.LANCZOS)
    return img


def _crop_frac(img: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = img.size
    return img.crop((round(left * w), round(top * h), round(right * w), round(bottom * h)))


# --------------------------------------------------------------------------
# Generated painting-like styles (CC0)
# --------------------------------------------------------------------------


def _value_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Smooth noise in [0, 1]: random values on a coarse grid, bicubically upsampled."""
    coarse = rng.random((cells + 3, cells + 3)).astype(np.float32)
    big = Image.fromarray(coarse, "F").resize((w + w // cells * 3, h + h // cells * 3), Image.BICUBIC)
    arr = np.asarray(big)[:h, :w]
    return (arr - arr.min()) / (arr.max() - arr.min() + 1e-12)


def make_brushstrokes(w: int = 512, h: int = 384) -> Image.Image:
    """Short thick strokes following a swirling flow field, night-sky palette."""
    rng = np.random.default_rng(SEED + 1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    centres = [(0.3 * w, 0.3 * h, 1.0), (0.72 * w, 0.25 * h, -1.0), (0.55 * w, 0.8 * h, 1.0)]
    angle = 0.25 * np.pi * (_value_noise(rng, h, w, 4) - 0.5)
    for cx, cy, spin in centres:
        r2 = (xx - cx) ** 2 + (yy - cy) ** 2
        angle = angle + spin * np.exp(-r2 / (2 * (0.18 * w) ** 2)) * (np.arctan2(yy - cy, xx - cx) + np.pi / 2)
    tone = 0.6 * _value_noise(rng, h, w, 3) + 0.4 * (yy / h)
    palette = np.array(
        [[18, 32, 84], [34, 70, 140], [70, 120, 190], [120, 170, 210], [230, 200, 90], [245, 225, 140], [40, 60, 40]],
        dtype=np.float32,
    )
    img = Image.new("RGB", (w, h), (25, 40, 90))
    draw = ImageDraw.Draw(img)
    for _ in range(9000):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        a = angle[int(y), int(x)]
        length = rng.uniform(8, 22)
        dx, dy = np.cos(a) * length / 2, np.sin(a) * length / 2
        t = tone[int(y), int(x)]
        # mostly blues; warm stars near the swirl centres; dark ground at the bottom
        near = min(((x - cx) ** 2 + (y - cy) ** 2) ** 0.5 / (0.12 * w) for cx, cy, _ in centres)
        if near < 1 and rng.random() < 0.7:
            idx = rng.choice([4, 5])
        elif y > 0.85 * h and rng.random() < 0.6:
            idx = 6
        else:
            idx = int(np.clip(t * 4 + rng.normal(0, 0.7), 0, 3))
        colour = np.clip(palette[idx] + rng.normal(0, 14, 3), 0, 255).astype(int)
        draw.line([(x - dx, y - dy), (x + dx, y + dy)], fill=tuple(colour), width=int(rng.integers(3, 7)))
    return img.filter(ImageFilter.SMOOTH)


def make_mosaic(w: int = 512, h: int = 384) -> Image.Image:
    """Voronoi tiles with dark grout, coloured from a concentric sun-and-sea design."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(SEED + 2)
    n = 900
    pts = np.stack([rng.uniform(0, w, n), rng.uniform(0, h, n)], 1)
    yy, xx = np.mgrid[0:h, 0:w]
    grid = np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float32)
    dist, idx = cKDTree(pts).query(grid, k=2)
    cell = idx[:, 0].reshape(h, w)
    grout = (dist[:, 1] - dist[:, 0]).reshape(h, w) < 2.2
    # design sampled at each tile centre
    cx, cy = pts[:, 0] / w, pts[:, 1] / h
    r = np.hypot(cx - 0.5, cy - 0.42)
    rings = np.floor(r * 9) % 3
    base = np.where(
        (r < 0.17)[:, None],
        np.array([240, 180, 40]),
        np.where((rings == 0)[:, None], np.array([200, 70, 40]), np.where((rings == 1)[:, None], np.array([30, 110, 150]), np.array([235, 225, 200]))),
    ).astype(np.float32)
    base = np.clip(base + rng.normal(0, 18, base.shape), 0, 255)
    out = base[cell]
    out[grout] = [40, 32, 28]
    return Image.fromarray(out.astype(np.uint8), "RGB")


def make_pointillism(w: int = 512, h: int = 384) -> Image.Image:
    """Dots of pure colour building a sunny field under a sky, on pale paper."""
    rng = np.random.default_rng(SEED + 3)
    img = Image.new("RGB", (w, h), (245, 238, 220))
    draw = ImageDraw.Draw(img)
    horizon = 0.45 * h + 25 * np.sin(np.linspace(0, 3 * np.pi, w))
    sky = np.array([[90, 150, 220], [150, 200, 240], [250, 240, 200], [200, 120, 200]])
    field = np.array([[60, 150, 60], [230, 200, 40], [220, 90, 40], [30, 90, 50], [120, 190, 80]])
    for _ in range(14000):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        pal = sky if y < horizon[int(x)] else field
        weights = np.ones(len(pal))
        if pal is field and y > 0.75 * h:
            weights[[1, 2]] = 3.0  # flowers in the foreground
        colour = pal[rng.choice(len(pal), p=weights / weights.sum())]
        colour = np.clip(colour + rng.normal(0, 10, 3), 0, 255).astype(int)
        rad = rng.uniform(2.0, 4.0)
        draw.ellipse([x - rad, y - rad, x + rad, y + rad], fill=tuple(colour))
    return img


# --------------------------------------------------------------------------
# Label maps (sky = 0, land = 1)
# --------------------------------------------------------------------------


def _hsv(img: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    hsv = np.asarray(img.convert("RGB").convert("HSV"), dtype=np.float32) / 255.0
    return rgb, hsv[..., 0], hsv[..., 1], hsv[..., 2]


def _sky_from_top(sky_like: np.ndarray, smooth: int = 9) -> np.ndarray:
    """Sky = the part of each column above its first non-sky pixel, horizon median-smoothed.

    ``sky_like`` is a boolean (H, W) guess. Small holes are closed first so
    that a cloud or a thin wire does not end the sky early.
    """
    from scipy import ndimage

    h, w = sky_like.shape
    pad = 4  # replicate the border so that morphology does not invent sky or land along the edges
    padded = np.pad(sky_like, pad, mode="edge")
    padded = ndimage.binary_closing(padded, structure=np.ones((5, 5)))
    padded = ndimage.binary_opening(padded, structure=np.ones((3, 3)))
    sky_like = padded[pad:-pad, pad:-pad]
    land = ~sky_like
    first_land = np.where(land.any(0), land.argmax(0), h)
    horizon = ndimage.median_filter(first_land, size=smooth, mode="nearest")
    rows = np.arange(h)[:, None]
    return rows < horizon[None, :]


def _horizon_dp(img: Image.Image, band: tuple[float, float], max_step: int = 3, step_cost: float = 0.0,
                sigma: float = 1.5) -> np.ndarray:
    """Horizon row per column: the path through ``band`` that follows the strongest dark-below-bright edge.

    Dynamic programming over columns (like a seam in seam carving): the score
    of a row is the drop in smoothed brightness from the row above to the row
    below, the path moves at most ``max_step`` rows between columns and pays
    ``step_cost`` per row moved. ``band`` = (top, bottom) as fractions of H.
    """
    from scipy import ndimage

    rgb = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    h, w, _ = rgb.shape
    smooth = ndimage.gaussian_filter(rgb, (sigma, sigma, 0))
    score = np.full((h, w), -1e9, np.float32)
    score[1:-1] = (smooth[:-2] - smooth[2:]).sum(-1)
    lo, hi = int(band[0] * h), int(band[1] * h)
    score[:lo] = -1e9
    score[hi:] = -1e9
    acc = score[:, 0].copy()
    back = np.zeros((h, w), np.int32)
    rows = np.arange(h)
    for x in range(1, w):
        best = np.full(h, -np.inf, np.float32)
        arg = np.zeros(h, np.int32)
        for d in range(-max_step, max_step + 1):
            shifted = np.full(h, -np.inf, np.float32)
            if d >= 0:
                shifted[d:] = acc[: h - d]
            else:
                shifted[:d] = acc[-d:]
            shifted -= step_cost * abs(d)
            better = shifted > best
            best[better] = shifted[better]
            arg[better] = (rows - d)[better]
        acc = best + score[:, x]
        back[:, x] = arg
    y = int(acc.argmax())
    path = np.zeros(w, np.int64)
    for x in range(w - 1, -1, -1):
        path[x] = y
        y = back[y, x]
    return path


def labels_sky_land(img: Image.Image, rule: str) -> np.ndarray:
    """(H, W) uint8 label map: 0 = sky, 1 = land (mountains, ground, water)."""
    rgb, hue, sat, val = _hsv(img)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    h = rgb.shape[0]
    if rule == "blue_or_cloud":  # clear blue sky with white clouds above rock and grass
        sky = _sky_from_top(((b > r + 0.08) & (b > 0.45)) | ((val > 0.8) & (sat < 0.18)))
    elif rule == "sunset":  # glowing sky above hazy hills: strongest edge, kept smooth across the sun's glare
        sky = np.arange(h)[:, None] < _horizon_dp(img, (0.3, 0.7), step_cost=0.15)[None, :]
    elif rule == "ridge":  # pale hazy sky above pale grey peaks: colour cannot tell, the ridge edge can
        sky = np.arange(h)[:, None] < _horizon_dp(img, (0.05, 0.5))[None, :]
    elif rule == "bluish":  # storm: blue-grey clouds, dark or light, above a green-brown plain
        sky = _sky_from_top((b > r + 0.05) | (val > 0.6), smooth=31)
    elif rule == "twilight":  # rocket: deep-blue sky around towers, rocket and pad (not column-wise)
        from scipy import ndimage

        blue = (b > r + 0.07) & (b > 0.12)
        blue = ndimage.binary_opening(blue, structure=np.ones((2, 2)))
        # drop specks of either class smaller than 30 pixels
        lab, n = ndimage.label(blue)
        sizes = ndimage.sum(blue, lab, range(1, n + 1))
        blue = np.isin(lab, 1 + np.flatnonzero(sizes >= 30))
        lab, n = ndimage.label(~blue)
        sizes = ndimage.sum(~blue, lab, range(1, n + 1))
        sky = ~np.isin(lab, 1 + np.flatnonzero(sizes >= 30))
    else:
        raise ValueError(f"unknown label rule {rule!r}")
    return np.where(sky, 0, 1).astype(np.uint8)


# --------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------

SKY_LAND = ["sky", "land"]


def catalogue(debs: Debs) -> list[dict]:
    """Every image: name, kind, how to make it, and its credits."""
    sk = lambda name, desc, licence, author: dict(  # noqa: E731
        source=f"scikit-image {_skimage_version()} `skimage.data.{name}()`",
        url=SKIMAGE_URL,
        license=licence,
        author=author,
        description=desc,
    )

    def deb(pkg, file, author, licence, desc):
        def make():
            return debs.open(pkg, file)

        return make, dict(
            source=f"Debian package {pkg} (@VERSION@), /{DEBS[pkg]}/{file}",
            package=pkg,
            url=DEBIAN_URL.format(pkg=pkg),
            license=licence,
            author=author,
            description=desc,
        )

    gen = dict(
        source="generated by tools/make_data.py",
        url="",
        license="CC0-1.0",
        author="stylelab authors",
    )

    items = []

    def add(name, kind, make, credits, fmt="jpg", labels=None):
        items.append(dict(name=name, kind=kind, make=make, credits=credits, fmt=fmt, labels=labels))

    # content photos
    add("astronaut", "content", lambda: _skimage("astronaut"),
        sk("astronaut", "portrait of astronaut Eileen Collins (NASA)", "public domain", "NASA"))
    add("chelsea", "content", lambda: _skimage("chelsea"),
        sk("chelsea", "Chelsea the cat", "CC0-1.0", "Stefan van der Walt"))
    add("coffee", "content", lambda: _skimage("coffee"),
        sk("coffee", "a cup of coffee on a wooden table (indoor object)", "CC0-1.0", "Rachel Michetti"))
    add("rocket", "content", lambda: _skimage("rocket"),
        sk("rocket", "Falcon 9 with DSCOVR on the pad at dusk: towers against a deep-blue sky (land label = ground and structures)", "public domain", "SpaceX"),
        labels=("twilight", SKY_LAND))
    make, cred = deb("lomiri-wallpapers-16.04", "picosdeeuropa_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0",
                     "Picos de Europa: rocky peaks under a blue sky with clouds, meadow in front")
    add("mountains", "content", make, cred, labels=("blue_or_cloud", SKY_LAND))

    # photographic styles
    make, cred = deb("lomiri-wallpapers-16.04", "sunset_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0",
                     "sunset over hills: glowing sky, dark ridge and ground")
    add("sunset", "style_photo", make, cred, labels=("sunset", SKY_LAND))
    make, cred = deb("lomiri-wallpapers-16.04", "aitzgorri_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0",
                     "Aitzgorri in autumn: orange beech forest, green meadow, grey peaks, pale sky")
    add("autumn", "style_photo", make, cred, labels=("ridge", SKY_LAND))
    make, cred = deb("mate-backgrounds", "nature/Storm.jpg", "Sergey Nazarov", "GPL-2.0-or-later",
                     "storm clouds over a dark plain, blue-grey mood")
    add("storm", "style_photo", make, cred, labels=("bluish", SKY_LAND))
    make, cred = deb("lomiri-wallpapers-20.04", "Infinite-Sea_by_Aury88.jpg", "Aury88", "CC-BY-SA-3.0",
                     "night: the Milky Way above a calm sea, purple and orange (digital image; centre crop)")
    add("night", "style_photo", lambda m=make: _crop_frac(m(), 0.0, 0.125, 1.0, 0.875), cred)

    # artistic styles
    add("brushstrokes", "style_art", make_brushstrokes,
        dict(gen, description="swirling brush strokes in blues and yellows (night-sky painting)"), fmt="png")
    add("mosaic", "style_art", make_mosaic,
        dict(gen, description="Voronoi tile mosaic of a sun over rings, dark grout"), fmt="png")
    add("pointillism", "style_art", make_pointillism,
        dict(gen, description="pointillist dots: a flowery field under a summer sky"), fmt="png")
    make, cred = deb("mate-backgrounds", "abstract/Elephants.jpg", "Wyng Stancikaite", "GPL-2.0-or-later",
                     "Elephants: a psychedelic painting of swirling figures")
    add("elephants", "style_art", make, cred)

    # textures
    add("brick", "texture", lambda: _skimage("brick"),
        sk("brick", "brick wall (greyscale)", "CC0-1.0", "cc0textures.com (Bricks25)"))
    add("grass", "texture", lambda: _skimage("grass"),
        sk("grass", "grass (greyscale)", "CC0-1.0", "linolafett (DeviantArt)"))
    add("gravel", "texture", lambda: _skimage("gravel"),
        sk("gravel", "gravel (greyscale)", "CC0-1.0", "cc0textures.com (Gravel04)"))
    make, cred = deb("mate-backgrounds", "nature/GreenMeadow.jpg", "Timothy Schellhase, Lapo Calamandrei", "GPL-2.0-or-later",
                     "green grass blades, colour texture (centre crop)")
    add("meadow", "texture", lambda m=make: _crop_frac(m(), 0.1, 0.1, 0.9, 0.9), cred)
    return items


#: Course pairs (content, style). Labelled ones first: both images share {sky, land}.
PAIRS = [
    ("mountains", "sunset"),
    ("mountains", "autumn"),
    ("rocket", "storm"),
    ("mountains", "night"),
    ("chelsea", "brushstrokes"),
    ("astronaut", "mosaic"),
    ("coffee", "pointillism"),
    ("astronaut", "elephants"),
    ("rocket", "brushstrokes"),
]


def _skimage_version() -> str:
    import skimage

    return skimage.__version__


# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------


def build(out: Path, debs: Debs) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    previews = []
    for item in catalogue(debs):
        name, kind = item["name"], item["kind"]
        img = _shrink(item["make"]())
        if kind != "texture" or img.mode != "L":
            img = img.convert("RGB")
        file = f"{kind}/{name}.{item['fmt']}"
        (out / kind).mkdir(exist_ok=True)
        if item["fmt"] == "jpg":
            img.save(out / file, quality=JPEG_QUALITY, optimize=True)
        else:
            img.save(out / file, optimize=True)
        credits = dict(item["credits"])
        pkg = credits.pop("package", None)
        if pkg:
            credits["source"] = credits["source"].replace("@VERSION@", debs.versions[pkg])
        entry = dict(name=name, file=file, kind=kind, size=f"{img.width}x{img.height}", **credits,
                     labels="", label_names=[])
        if item["labels"]:
            rule, label_names = item["labels"]
            # labels are computed on the saved (decoded) image so they match what load() returns
            saved = Image.open(out / file).convert("RGB")
            lab = labels_sky_land(saved, rule)
            lfile = f"labels/{name}.png"
            (out / "labels").mkdir(exist_ok=True)
            Image.fromarray(lab, "L").save(out / lfile, optimize=True)
            entry["labels"] = lfile
            entry["label_names"] = label_names
            previews.append((name, saved, lab))
        entries.append(entry)
        print(f"  {name:<14} {kind:<12} {entry['size']:>8}  {(out / file).stat().st_size / 1024:6.0f} KiB", file=sys.stderr)
    index = {
        "description": "stylelab course images; built by tools/make_data.py (do not edit by hand)",
        "kinds": ["content", "style_photo", "style_art", "texture"],
        "images": entries,
        "pairs": [list(p) for p in PAIRS],
    }
    (out / "index.json").write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "CREDITS.md").write_text(credits_md(entries), encoding="utf-8")
    _preview(previews, out / "labels_preview.png")
    return entries


def _preview(previews, path: Path) -> None:
    """Label maps tinted over their photos (sky blue, land orange), for checking by eye."""
    tiles = []
    for name, img, lab in previews:
        thumb = img.copy()
        thumb.thumbnail((256, 256))
        small = np.asarray(Image.fromarray(lab).resize(thumb.size, Image.NEAREST))
        tint = np.array([[60, 120, 255], [255, 140, 0], [0, 200, 0], [200, 0, 200]], dtype=np.float32)[small]
        arr = 0.55 * np.asarray(thumb, dtype=np.float32) + 0.45 * tint
        tiles.append(Image.fromarray(arr.astype(np.uint8)))
    if not tiles:
        return
    w = sum(t.width for t in tiles) + 4 * (len(tiles) - 1)
    h = max(t.height for t in tiles)
    sheet = Image.new("RGB", (w, h), "white")
    x = 0
    for t in tiles:
        sheet.paste(t, (x, 0))
        x += t.width + 4
    sheet.save(path, optimize=True)


def credits_md(entries: list[dict]) -> str:
    lines = [
        "# Credits for the course images",
        "",
        "Generated by `tools/make_data.py` together with `index.json`; rebuild rather than edit.",
        "Every photo was resized to at most 512 px on its longer side (some cropped, as noted",
        "in the description) and re-encoded; the label maps in `labels/` are derived works",
        "computed by `tools/make_data.py` and share the licence of their photo.",
        "",
        "Licences: public domain; CC0-1.0 <https://creativecommons.org/publicdomain/zero/1.0/>;",
        "CC-BY-4.0 <https://creativecommons.org/licenses/by/4.0/>;",
        "CC-BY-SA-3.0 <https://creativecommons.org/licenses/by-sa/3.0/>;",
        "GPL-2.0-or-later <https://www.gnu.org/licenses/old-licenses/gpl-2.0.html> (full texts of the",
        "Debian ones in each package's `/usr/share/doc/PKG/copyright`).",
        "",
        "| name | kind | file | author | licence | source | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        src = e["source"] + (f" <{e['url']}>" if e["url"] else "")
        lines.append(
            f"| {e['name']} | {e['kind']} | `{e['file']}`{' + `' + e['labels'] + '`' if e['labels'] else ''} "
            f"| {e['author']} | {e['license']} | {src} | {e['description']} |"
        )
    lines += ["", *preview_credit(entries), "", *STANDIN_CREDITS, "", *COURSE_PAIR_CREDITS, "", *CAPVST_CREDITS, ""]
    return "\n".join(lines)


def preview_credit(entries: list[dict]) -> list[str]:
    """The credit of ``labels_preview.png``: a composite of every labelled photo, so it carries each one's
    author and licence (CC-BY asks for the credit; GPL-2.0-or-later and CC-BY-SA for the same licence)."""
    shown = [e for e in entries if e["labels"]]
    parts = [f"{e['name']} by {e['author']} ({e['license']})" for e in shown]
    return [
        "`labels_preview.png` is a contact sheet made by `tools/make_data.py`: the photos "
        + ", ".join(parts)
        + ", each with its label map tinted over it, side by side. It is a derived work of each of "
        "those photos and is distributed under each one's licence as listed in the table above "
        "(for the GPL-2.0-or-later and CC-BY-SA parts, under those licences).",
    ]


#: The stand-in decoders in ``decoders/`` are not built here but by ``tools/train_standin_decoders.py``.
STANDIN_CREDITS = [
    "## Stand-in decoders (`decoders/`)",
    "",
    "`standin_nearest1.pt`, `standin_nearest2.pt`, `standin_nearest3.pt`, `standin_nearest4.pt`, `standin_nearest5.pt`,",
    "`standin_max1.pt` and `standin_max2.pt` in `decoders/`:",
    "small decoders (float16 state dicts) trained by the stylelab authors with `tools/train_standin_decoders.py`",
    "on 64×64 crops of the course images above, to invert `stylelab.course.standin.random_encoder` — a normalised",
    "VGG-19 with fixed-seed random weights. They are **not** the published AdaIN/WCT/PhotoWCT models and",
    "contain none of their weights; the notebooks use them, labelled as stand-ins, when the pretrained files",
    "are missing. Licence: CC0-1.0 for the weights themselves; they were fitted to the images listed above.",
    "",
    "`standin_wct2_sum.pt` and `standin_wct2_cat5.pt` in `decoders/`: WCT² decoders at 1/8 of the published",
    "channels (float16 state dicts), trained the same way by the stylelab authors with",
    "`tools/train_standin_decoders.py --only wct2_sum,wct2_cat5`, to invert `stylelab.course.standin.wct2_encoder` — WCT²'s",
    "Haar-pooling encoder at 1/8 width with fixed-seed random weights. They are **not** the published WCT² models",
    "(clovaai/WCT2) and contain none of their weights. Licence: CC0-1.0; fitted to the images listed above.",
]


#: The course pair's decoders in ``decoders/`` are built by ``tools/train_vgg16_decoders.py`` (issue 25).
COURSE_PAIR_CREDITS = [
    "## The course pair `vgg16-course` (`decoders/vgg16*`)",
    "",
    "`vgg16_nearest1.pt`, `vgg16_nearest2.pt`, `vgg16_nearest3.pt`, `vgg16_nearest4.pt`, `vgg16_nearest5.pt`,",
    "`vgg16_max1.pt`, `vgg16_max2.pt` and `vgg16_wct2_sum.pt` in `decoders/`: decoders (float16 state dicts) trained",
    "by the stylelab authors with `tools/train_vgg16_decoders.py` to invert the offline ImageNet VGG-16",
    "(`stylelab.nets.encoders.vgg16`; for `vgg16_wct2_sum.pt`, its convolutions with Haar pooling),",
    "on 22 photographs from the Debian packages `lomiri-wallpapers-16.04` and `mate-backgrounds`, none of them a",
    "course image above. Every training photo, its author and its licence (CC BY, CC BY-SA, CC0, GPL-2.0-or-later)",
    "is listed in `vgg16-course.json`, the manifest that also records each file's layer, width, steps, time, seed",
    "and SHA-256; `vgg16-course-curves.png` shows the training's loss curves, drawn by the same tool. They are",
    "**not** the published AdaIN/WCT/PhotoWCT/WCT² models and contain none of their weights. Licence: MIT (this",
    "project) for the weights; they were fitted to the photos listed in the manifest.",
]


#: CAP-VSTNet's reversible network in ``decoders/`` is trained by ``tools/train_capvst.py`` (issue 29).
CAPVST_CREDITS = [
    "## CAP-VSTNet's reversible network (`decoders/capvst_reversible*`)",
    '',
    '`capvst_reversible.pt` in `decoders/`: a small reversible network (float16 state dict,',
    '`stylelab.nets.reversible.ReversibleNet`) trained by the stylelab authors with `tools/train_capvst.py`',
    '(`stylelab train --method capvst`: style loss on the offline VGG-16, matting-Laplacian and cycle losses)',
    'on crops of the same 22 package photographs as the course pair, none of them a course image.',
    '`capvst_reversible.json`, its manifest, lists the photos with authors and licences and records the recipe,',
    'steps, time, seed and SHA-256. It is **not** the published CAP-VSTNet model (linfengWen98/CAP-VSTNet) and',
    'contains none of its weights. Licence: MIT (this project) for the weights; fitted to the photos listed in',
    'the manifest.',
]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data", help="output folder (default: data/)")
    parser.add_argument("--debs", type=Path, default=None,
                        help="folder holding (or receiving) the Debian .deb files; default: a temporary folder")
    parser.add_argument("--check", action="store_true", help="build into a temporary folder and compare with --out")
    args = parser.parse_args(argv)
    debs = Debs(args.debs)
    try:
        return _run(args, debs)
    finally:
        if args.debs is None:
            shutil.rmtree(debs.folder, ignore_errors=True)


def _run(args, debs: Debs) -> int:
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            build(Path(tmp), debs)
            new, old = _digest(Path(tmp)), _digest(args.out)
        diff = sorted(k for k in set(new) | set(old) if new.get(k) != old.get(k))
        print("identical" if not diff else "differs: " + ", ".join(diff))
        return int(bool(diff))
    if args.out.exists():
        for sub in ("content", "style_photo", "style_art", "texture", "labels"):
            shutil.rmtree(args.out / sub, ignore_errors=True)
    entries = build(args.out, debs)
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"wrote {len(entries)} images to {args.out} ({total / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
