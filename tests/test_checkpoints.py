"""The checkpoint table is data: every model's state_dict matches its entry, and downloads check published hashes."""

import dataclasses
import hashlib

import pytest
import torch

from stylelab.weights import checkpoints as C
from stylelab.nets import decoders as D
from stylelab.nets import encoders as E
from stylelab.nets import wavenets as WN
from stylelab import weights as W
from stylelab.methods.photowct import PhotoWCT


#: Entries whose networks are declared with the model that loads them (the Magenta networks):
#: their ``shapes`` stay empty until then, and from then on they need a model here.
DECLARED_ELSEWHERE = {"magenta_cin26", "magenta_arbitrary"}


def _models():
    """Every table entry → a freshly built stylelab module it loads into."""
    import torchvision

    out = {
        "vgg19": E.VGG19Encoder("torchvision", last_layer="relu5_4"),
        "vgg_normalised": E.VGG19Encoder("normalised", last_layer="relu5_4"),
        "vgg16": E.VGGEncoder("caffe", arch="vgg16"),
        "squeezenet1_1": torchvision.models.squeezenet1_1(),
        "adain_decoder": D.MirrorDecoder(4),
        "photowct": PhotoWCT(),
    }
    out |= {f"wct_decoder{level}": D.MirrorDecoder(level) for level in (1, 2, 3, 4, 5)}
    for unpool in ("sum", "cat5"):
        out[f"wct2_encoder_{unpool}"] = WN.WaveEncoder(unpool)
        out[f"wct2_decoder_{unpool}"] = WN.WaveDecoder(unpool)
    return out


def test_every_entry_has_a_model_and_the_converted_keys_and_shapes_are_the_models():
    models = _models()
    pending = {n for n in DECLARED_ELSEWHERE if n in C.TABLE and not C.TABLE[n].shapes and n not in models}
    assert set(models) | pending == set(C.TABLE) == set(W.names())
    for name, module in models.items():
        spec = C.TABLE[name]
        converted = W.convert(name, {k: torch.empty(s) for k, s in spec.shapes.items()})
        own = {k: tuple(v.shape) for k, v in module.state_dict().items()}
        assert {k: tuple(v.shape) for k, v in converted.items()} == own, name


def test_official_layouts_are_counted_as_published():
    sizes = {n: len(s.shapes) for n, s in C.TABLE.items()}
    assert sizes["vgg19"] == 32 and sizes["vgg_normalised"] == 34 and sizes["adain_decoder"] == 18
    assert sizes["photowct"] == 80
    assert sizes["wct2_encoder_cat5"] == sizes["wct2_encoder_sum"] == 32 and sizes["wct2_decoder_cat5"] == 30
    assert sizes["vgg16"] == 26 and sizes["squeezenet1_1"] == 52
    # torchvision's own state dict is what the vgg19 entry expects (classifier optional)
    import torchvision

    tv = torchvision.models.vgg19().state_dict()
    W.validate("vgg19", tv)
    assert {k: tuple(v.shape) for k, v in tv.items() if k.startswith("features.")} == dict(C.TABLE["vgg19"].shapes)


def test_torchvision_file_name_carries_its_hash_prefix():
    spec = C.TABLE["vgg19"]
    assert spec.sha256_prefix and spec.filename == f"vgg19-{spec.sha256_prefix}.pth"


def _serve(tmp_path, monkeypatch, sha256_prefix):
    src = tmp_path / "src.pth"
    torch.save(W.synthetic_state_dict("vgg_normalised"), src)
    monkeypatch.delenv("STYLELAB_OFFLINE", raising=False)
    spec = dataclasses.replace(W.get("vgg_normalised"), url=src.as_uri(), sha256_prefix=sha256_prefix)
    monkeypatch.setitem(W.REGISTRY, "vgg_normalised", spec)
    return src


def test_download_with_the_right_hash_prefix_is_kept(tmp_path, monkeypatch):
    src = _serve(tmp_path, monkeypatch, None)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    _serve(tmp_path, monkeypatch, digest[:8])
    path = W.download("vgg_normalised", progress=False)
    assert path.read_bytes() == src.read_bytes()


def test_download_with_a_wrong_hash_is_refused_and_nothing_is_saved(tmp_path, monkeypatch):
    _serve(tmp_path, monkeypatch, "00000000")
    with pytest.raises(W.CheckpointMismatchError, match="SHA-256"):
        W.download("vgg_normalised", progress=False)
    assert not (W.cache_dir() / "vgg_normalised.pth").exists()
    assert not [p for p in W.cache_dir().glob("*") if "vgg_normalised" in p.name]


def test_fixed_tensors_need_a_check():
    enc = WN.WaveEncoder("sum")
    with pytest.raises(TypeError, match="check_fixed"):
        W.load_into(enc, "wct2_encoder_sum", WN.synthetic_checkpoint("wct2_encoder_sum"))
    assert WN.load_official(enc, WN.synthetic_checkpoint("wct2_encoder_sum"))
