"""The course images: files, credits, label maps and the stylelab.media.data API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylelab.media import data

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
MB = 1_000_000

LICENCES = {"public domain", "CC0-1.0", "CC-BY-4.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0", "GPL-2.0-or-later"}


def _make_data_module():
    from tools import make_data

    return make_data


@pytest.fixture(autouse=True)
def _default_data_dir(monkeypatch):
    monkeypatch.delenv(data.ENV_DIR, raising=False)


def _labelled() -> list[str]:
    return [n for n in data.names() if data.info(n)["labels"]]


# ---------------------------------------------------------------- the folder


def test_data_dir_is_the_repo_folder():
    assert data.data_dir().resolve() == DATA.resolve()
    assert (DATA / "index.json").is_file()


def test_total_size_at_most_10_mb():
    """The course data (photos, textures, paintings, labels, index, credits) stays within 10 MB. The trained
    networks in ``data/decoders`` have budgets of their own: the course pair ``vgg16-course`` at most 15 MB
    (its issue; ``tests/test_course_pair.py``), the stand-ins and the small CAP-VSTNet net together 2 MB."""
    files = [p for p in DATA.rglob("*") if p.is_file()]
    course = sum(p.stat().st_size for p in files if "decoders" not in p.relative_to(DATA).parts)
    assert course <= 10 * MB, f"data/ holds {course / MB:.2f} MB of course data"
    other_nets = sum(p.stat().st_size for p in (DATA / "decoders").iterdir()
                     if p.is_file() and not p.name.startswith(("vgg16_", "vgg16-course")))
    assert other_nets <= 2 * MB, f"data/decoders holds {other_nets / MB:.2f} MB besides vgg16-course"


def test_every_file_in_the_folder_is_accounted_for():
    index = json.loads((DATA / "index.json").read_text())
    listed = {e["file"] for e in index["images"]} | {e["labels"] for e in index["images"] if e["labels"]}
    extra = {"index.json", "CREDITS.md", "labels_preview.png"}
    present = {str(p.relative_to(DATA)) for p in DATA.rglob("*") if p.is_file()}
    decoders = {p for p in present if p.startswith("decoders/")}  # stylelab.course.standin, credited in CREDITS.md
    credits = (DATA / "CREDITS.md").read_text()
    assert all(Path(p).stem in credits for p in decoders), sorted(decoders)
    assert present - extra - decoders == listed


def test_required_names_and_kinds():
    for name in ("astronaut", "chelsea", "coffee"):
        assert data.info(name)["kind"] == "content"
    counts = {k: len(data.names(k)) for k in data.KINDS}
    assert counts["content"] >= 4 and counts["texture"] >= 3
    assert counts["style_photo"] >= 3 and counts["style_art"] >= 3
    assert sorted(data.names()) == sorted(sum((data.names(k) for k in data.KINDS), []))
    assert len(set(data.names())) == len(data.names())
    with pytest.raises(ValueError, match="style_photo"):
        data.names("styles")


@pytest.mark.parametrize("name", data.names())
def test_every_image_loads_in_range(name):
    info = data.info(name)
    for key in ("kind", "size", "source", "license", "labels", "file"):
        assert key in info
    x = data.load(name)
    assert x.dtype == torch.float32 and x.dim() == 4 and x.shape[:2] == (1, 3)
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert x.std() > 0.02, "image is (nearly) constant"
    w, h = (int(v) for v in info["size"].split("x"))
    assert (h, w) == tuple(x.shape[-2:])
    assert max(h, w) <= 512
    assert data.path(name).is_file()


# ---------------------------------------------------------------- credits


def test_credits_name_every_image_with_its_licence():
    credits = (DATA / "CREDITS.md").read_text(encoding="utf-8")
    rows = {}
    for line in credits.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 7 and cells[0] in data.names():
            rows[cells[0]] = cells
    assert set(rows) == set(data.names())
    for name, cells in rows.items():
        info = data.info(name)
        assert info["license"] in LICENCES, f"{name}: unexpected licence {info['license']!r}"
        assert cells[4] == info["license"]
        assert info["file"] in cells[2]
        assert info["source"] and info["author"], name
    # Every licence named in the table has its full name or URL in the header.
    for licence in {data.info(n)["license"] for n in data.names()} - {"public domain"}:
        assert re.search(re.escape(licence) + r".*(https?://)", credits), licence


# ---------------------------------------------------------------- label maps


def test_at_least_two_labelled_pairs_share_label_sets():
    labelled = data.pairs(labelled=True)
    assert len(labelled) >= 2
    for content, style in labelled:
        assert data.info(content)["kind"] == "content"
        assert data.info(style)["kind"].startswith("style")
        lc, ls = data.load_labels(content), data.load_labels(style)
        assert set(lc.unique().tolist()) == set(ls.unique().tolist())
        assert data.info(content)["label_names"] == data.info(style)["label_names"]


def test_pairs_name_known_images():
    known = set(data.names())
    pairs = data.pairs()
    assert pairs and all(c in known and s in known for c, s in pairs)
    assert set(data.pairs(labelled=True)) <= set(pairs)
    assert any(data.info(s)["kind"] == "style_art" for _, s in pairs)
    assert any(data.info(s)["kind"] == "style_photo" for _, s in pairs)


@pytest.mark.parametrize("name", _labelled())
def test_label_map_files(name):
    info = data.info(name)
    img = Image.open(DATA / info["labels"])
    assert img.mode == "L", f"{info['labels']} is mode {img.mode}"
    assert img.size == Image.open(data.path(name)).size
    values = np.unique(np.asarray(img))
    k = len(info["label_names"])
    assert values.tolist() == list(range(k)), "labels must be exactly 0..K-1"
    lab = data.load_labels(name)
    assert lab.dtype == torch.int64 and lab.shape == (1, 1, img.height, img.width)
    assert torch.equal(lab[0, 0], torch.from_numpy(np.asarray(img).astype(np.int64)))


@pytest.mark.parametrize("name", _labelled())
def test_sky_is_above_land_and_both_are_sizeable(name):
    names = data.info(name)["label_names"]
    assert names[:2] == ["sky", "land"]
    lab = data.load_labels(name)[0, 0].double()
    rows = torch.arange(lab.shape[0], dtype=torch.float64)[:, None].expand_as(lab)
    sky, land = lab == 0, lab == 1
    assert 0.1 < sky.double().mean() < 0.9
    assert rows[sky].mean() < rows[land].mean() - 0.1 * lab.shape[0]
    # the bottom row is land, the top row mostly sky
    assert land[-1].all()
    assert sky[0].double().mean() > 0.6


@pytest.mark.parametrize("name", _labelled())
def test_label_maps_are_reproduced_by_make_data(name):
    """tools/make_data.py recomputes the committed label map from the committed image."""
    make_data = _make_data_module()
    rules = {item["name"]: item["labels"] for item in make_data.catalogue(make_data.Debs(Path("/nonexistent")))}
    rule, names = rules[name]
    got = make_data.labels_sky_land(Image.open(data.path(name)), rule)
    assert np.array_equal(got, np.asarray(Image.open(data.labels_path(name))))
    assert names == data.info(name)["label_names"]


def test_generated_style_is_reproducible():
    make_data = _make_data_module()
    ours = np.asarray(make_data.make_mosaic())
    committed = np.asarray(Image.open(data.path("mosaic")))
    assert np.array_equal(ours, committed)


# ---------------------------------------------------------------- sizes


@pytest.mark.parametrize("size", [8, 37, 64])
@pytest.mark.parametrize("name", _labelled()[:2] + ["chelsea"])
def test_load_size_and_matching_labels(name, size):
    x = data.load(name, size=size)
    assert min(x.shape[-2:]) == size
    x_long = data.load(name, size=size, side="long")
    assert max(x_long.shape[-2:]) == size
    if data.info(name)["labels"]:
        for side, ref in (("short", x), ("long", x_long)):
            lab = data.load_labels(name, size=size, side=side)
            assert lab.shape == (1, 1, *ref.shape[-2:]) and lab.dtype == torch.int64
            assert set(lab.unique().tolist()) <= set(range(len(data.info(name)["label_names"])))


@pytest.mark.parametrize("name", _labelled())
def test_label_resize_is_nearest_sampling(name):
    """Halving with nearest-exact samples pixel centres: output[i, j] = full[2i+1, 2j+1]."""
    full = data.load_labels(name)
    h, w = full.shape[-2:]
    h2, w2 = h // 2, w // 2
    half = data.load_labels(name, size=(h2, w2))
    assert torch.equal(half, full[..., 1 : 2 * h2 : 2, 1 : 2 * w2 : 2])


def test_device_argument():
    x = data.load("coffee", size=16, device="cpu")
    lab = data.load_labels(_labelled()[0], size=16, device="cpu")
    assert x.device.type == "cpu" and lab.device.type == "cpu"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("fn", [data.path, data.info, data.load, data.load_labels, data.labels_path])
def test_unknown_name_raises_keyerror_listing_known(fn):
    with pytest.raises(KeyError) as err:
        fn("no-such-image")
    message = str(err.value)
    assert "no-such-image" in message
    for known in ("astronaut", "chelsea", "coffee"):
        assert known in message


def test_labels_of_unlabelled_image_say_which_have_them():
    with pytest.raises(ValueError, match="no label map") as err:
        data.load_labels("chelsea")
    assert _labelled()[0] in str(err.value)


def test_env_override(tmp_path, monkeypatch):
    Image.fromarray(np.full((6, 10, 3), 200, np.uint8)).save(tmp_path / "flat.png")
    Image.fromarray(np.array([[0] * 10] * 3 + [[1] * 10] * 3, np.uint8), "L").save(tmp_path / "flat_labels.png")
    index = {
        "images": [
            {"name": "flat", "file": "flat.png", "kind": "texture", "size": "10x6", "source": "test",
             "license": "CC0-1.0", "labels": "flat_labels.png", "label_names": ["a", "b"]}
        ],
        "pairs": [],
    }
    (tmp_path / "index.json").write_text(json.dumps(index))
    monkeypatch.setenv(data.ENV_DIR, str(tmp_path))
    assert data.names() == ["flat"] and data.names("content") == []
    assert data.path("flat") == tmp_path / "flat.png"
    x = data.load("flat", size=3)
    assert x.shape == (1, 3, 3, 5) and torch.allclose(x, torch.full_like(x, 200 / 255))
    assert data.load_labels("flat", size=3).shape == (1, 1, 3, 5)
    with pytest.raises(KeyError, match="flat"):
        data.load("astronaut")


def test_missing_index_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_DIR, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=data.ENV_DIR):
        data.names()


def test_cli_data_list(capsys):
    from stylelab import cli

    assert cli.main(["data", "list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == data.names()
    assert any("labels/" in line for line in lines)


def test_credits_are_generated_from_the_index_and_credit_the_labels_preview():
    """CREDITS.md is what tools/make_data.py writes for index.json; the preview composite names every photo in it."""
    make_data = _make_data_module()
    index = json.loads((DATA / "index.json").read_text())
    credits = (DATA / "CREDITS.md").read_text(encoding="utf-8")
    assert credits == make_data.credits_md(index["images"])
    line = next(ln for ln in credits.splitlines() if ln.startswith("`labels_preview.png`"))
    for name in _labelled():
        info = data.info(name)
        assert f"{name} by {info['author']} ({info['license']})" in line
