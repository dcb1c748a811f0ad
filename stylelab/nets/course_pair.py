"""The course pair ``vgg16-course``: the offline ImageNet VGG-16 and decoders trained here to invert it.

The official AdaIN/WCT/PhotoWCT/WCT² decoders invert VGG-19 and cannot be
downloaded everywhere the course runs. The offline VGG-16
(:func:`stylelab.nets.encoders.vgg16`: ImageNet VGG-16, Simonyan & Zisserman,
ICLR 2015, fine-tuned for edges by HED, Xie & Tu, ICCV 2015) has the same
``relu{L}_1`` taps, so the methods run on real features once a decoder
inverts them. Those decoders are trained in this repository
(``tools/train_vgg16_decoders.py``, :func:`stylelab.train.fit`, pixel loss
``‖g(φ_L(x)) − x‖²``) on the photos of :data:`PHOTOS` — natural photographs
from two Debian desktop-background packages, none of them a course image —
and stored in ``data/decoders/vgg16_*.pt`` (float16) with the manifest
``data/decoders/vgg16-course.json`` (encoder, layer, width, data, steps,
time, seed, SHA-256 of every file; the photos' authors and licences).

* AdaIN and WCT: :class:`~stylelab.nets.decoders.MirrorDecoder` of ``relu{L}_1``
  at the widths :data:`WIDTHS` (hidden channels divided by them).
* PhotoWCT: full-width max-unpooling decoders of levels :data:`PHOTOWCT_LEVELS`
  (max-unpooling needs the encoder's channels); the encoders are VGG-16's, floor pooling.
* WCT²: the encoder is the VGG-16 convolutions with Haar pooling in place of max
  pooling, **frozen, not retrained** (Yoo et al., ICCV 2019, train theirs; VGG-16 has
  no ``conv3_4``: it is the identity here, exact after a ReLU); only the decoder
  (``"sum"`` unpooling, full width) is trained.

The one rule that picks the pair (:func:`use_pair`): a method's ``from_official(weights="vgg16-course")``
(``stylelab transfer --weights vgg16-course``) asks for it; with no weights named, the paper's checkpoints
are used when installed, else this pair when its files are here, else the registry's resolution as before
(download, random weights where allowed). A model built on the pair carries ``.stand_in`` = :func:`label`
(what :func:`stylelab.course.weights_banner` prints), ``.weights_name`` = :data:`NAME` and
``.pretrained = False``: these are **not** the papers' models, whose results are better.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from . import encoders
from ..media.data import data_dir
from .decoders import MirrorDecoder
from .. import validate as V
from .. import weights
from ..device import get_device
from .wavenets import WaveDecoder, WaveEncoder

__all__ = ["NAME", "PHOTOS", "PACKAGES", "WIDTHS", "PHOTOWCT_LEVELS", "WCT2_UNPOOL", "manifest_path", "manifest",
           "available", "label", "encoder", "wct2_encoder", "new_decoder", "decoder_path", "decoder", "OFFICIAL",
           "official_installed", "use_pair", "arg_weights", "say", "mark", "training_photos", "sha256"]

#: The name the methods' constructors and ``stylelab transfer --weights`` take.
NAME = "vgg16-course"
#: Hidden-channel divisor of the mirror decoder of ``relu{L}_1`` (``1`` = the published width).
WIDTHS = {1: 1, 2: 1, 3: 2, 4: 2, 5: 4}
#: PhotoWCT levels with a trained decoder (full width); the others are skipped.
PHOTOWCT_LEVELS = (2, 1)
#: WCT²'s unpooling of the trained decoder.
WCT2_UNPOOL = "sum"

#: Debian packages the training photos come from: name → (version, SHA-256 of the .deb, folder inside).
PACKAGES = {
    "lomiri-wallpapers-16.04": ("20.04.0-2", "a99ff6a3bfe451e4cc0682ecb3cc82e71740626d59e4845ae34a0a0e45421eab",
                                "usr/share/backgrounds"),
    "mate-backgrounds": ("1.26.0-1", "7bf4c2209f34b4f61ba6d24c8b58c28b361e82e4b943aae6d42c030169af9e04",
                         "usr/share/backgrounds/mate/nature"),
}
_L, _M = "lomiri-wallpapers-16.04", "mate-backgrounds"
#: The training photos: (package, file, SHA-256, author, licence). The package photos that
#: ``tools/make_data.py`` made course images of (picosdeeuropa, sunset, aitzgorri, Storm, GreenMeadow)
#: are left out, as are all scikit-image photos: the course images are the held-out evaluation set.
PHOTOS = (
    (_L, "Bridge_by_Sander_Klootwijk.jpg", "bd86b081f9975e2b83527f71e49b9271a8ab40885428395969d9f7d834d7f050", "Sander Klootwijk", "CC-BY-SA-4.0"),
    (_L, "Dragonfly_by_Bolly.jpg", "af5af17841009732def24b09bb1e669a1b09d2b4bdeee7812c371101c30d2bb3", "Bolly", "CC-BY-SA-4.0"),
    (_L, "Picture_0B_by_freespace.jpg", "c8c0ab18e48d9e0419fe42881112137f3afafc27dfddc29ec3a6d54c56d225ad", "Trevor \"Freespace\"", "CC-BY-4.0"),
    (_L, "Picture_1A_by_freespace.jpg", "89e86af38d04daaef975665dc2127e9fa76f0fd68f4eea105a2d0ae3390b010b", "Trevor \"Freespace\"", "CC-BY-4.0"),
    (_L, "Wine_by_Jakkub_Mede.jpg", "d2e96e6d4da40dd804b3d0ce295e94de04a2d7d9b6785d42cd9d92ba58bced74", "Jakub Mede", "CC-BY-4.0"),
    (_L, "analogpattern_by_Peter_Nerlich.jpg", "15372488a192b2be2eafc67bd3ed31cbfca19abe3929e925607fcbc9cb4d4202", "Peter Nerlich", "CC-BY-SA-4.0"),
    (_L, "free_by_Peter_Nerlich.jpg", "85a5453c2fed514c75973016f3d862aca62eb7ca087618822469274ac1092373", "Peter Nerlich", "CC-BY-SA-4.0"),
    (_L, "friends_by_Aitzol_Berasategi.jpg", "cc40e313c74e421edffe3403def413c16878ce14661cce7ec5915baeab35538d", "Aitzol Berasategi", "CC-BY-4.0"),
    (_L, "greentock_by_Peter_Nerlich.jpg", "e7b20e2db9dcd6e2b278ca55873c2110b35d89cd38b04d0b18728726888e6889", "Peter Nerlich", "CC-BY-SA-4.0"),
    (_L, "life_by_Aitzol_Berasategi.jpg", "4c119350ead80201fe256850c3d316309ddfb4bdf10b235ce982dcde0c667c05", "Aitzol Berasategi", "CC-BY-4.0"),
    (_L, "seeding_by_Clements_Engelhardt.jpg", "a5634d1ab5e41a3568e92d4a894a500c92b891f9ff734e50bd224d6e185a605f", "Clemens Engelhardt", "CC0-1.0"),
    (_L, "umang_by_Abhishek_Mudgal.jpg", "bfb425545e77e9f0eb1b037b607fc9ed4a446f3b0f04aa2879be3556073c57ef", "Abhishek Mudgal", "CC-BY-4.0"),
    (_M, "Aqua.jpg", "5c30118205982da441bf7e6a1ada636a8a0be879408140b3148280c665ed6bce", "Charles Barbin", "GPL-2+"),
    (_M, "Blinds.jpg", "f7aac0dcc2e06d0491643e84df3da1d9db7c4610f58806a880d56e074799f600", "Lennart Poettering", "GPL-2+"),
    (_M, "Dune.jpg", "8a67c2cb0be8c46b70c237311a4fa4d2b4ac7d39568135384787801fa5cc9a91", "Marco Cogoni", "GPL-2+"),
    (_M, "FreshFlower.jpg", "972b0a0c4e5e3fa93f4f244fc84bc64b121a5eac3aaa5856f1308c1f38a02f8e", "Jens Ansorg", "GPL-2+"),
    (_M, "Garden.jpg", "d3095ee09d425ef23d27155412136cf14fc3c9af76ca58b452f55e23da324e78", "Charles Barbin", "GPL-2+"),
    (_M, "LadyBird.jpg", "e35a9a4126ef969c90b29c038058c5a575a20eadd84106a37bf1fa9931e7b61d", "Charles Barbin", "GPL-2+"),
    (_M, "RainDrops.jpg", "3e4ea9671c28c90a86cf67b3db9daf18c4741587c596333a7529ca589aaa0c16", "blackcombwhistler07", "GPL-2+"),
    (_M, "TwoWings.jpg", "665e5abf8a5399070a91a9a8e455fe071e5b61697ff78fdeda4e9843ef545aeb", "Charles Barbin", "GPL-2+"),
    (_M, "Wood.jpg", "19c78500ac00a622e19907ab9cc7d06d46fe08c4a6142759a84195696150ec07", "Jean-François Fortin Tam", "GPL-2+"),
    (_M, "YellowFlower.jpg", "254da96256acb7add685679775a04d1e4a5bc8cd13e5a5a3d61351ce198a5306", "Charles Barbin", "GPL-2+"),
)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def manifest_path() -> Path:
    """``data/decoders/vgg16-course.json``."""
    return data_dir() / "decoders" / "vgg16-course.json"


def manifest() -> dict:
    """The manifest: ``{"encoder": …, "photos": [...], "decoders": {job: {file, layer, width, steps, seconds,
    seed, sha256, …}}}`` (``{}`` when the file is missing)."""
    path = manifest_path()
    return json.loads(path.read_text()) if path.is_file() else {}


def decoder_path(job: str) -> Path:
    """``data/decoders/vgg16_{job}.pt`` for ``job`` ``nearest1…5``, ``max1``, ``max2`` or ``wct2_sum``."""
    return data_dir() / "decoders" / f"vgg16_{job}.pt"


def _jobs(method: str) -> list[str]:
    return {"adain": ["nearest4"], "wct": [f"nearest{L}" for L in (5, 4, 3, 2, 1)],
            "photowct": [f"max{L}" for L in PHOTOWCT_LEVELS], "wct2": [f"wct2_{WCT2_UNPOOL}"]}[method]


def available(method: str) -> bool:
    """Whether the course pair can build ``method``: the offline VGG-16 installed and its decoder files present."""
    return weights.is_installed("vgg16") and all(decoder_path(j).is_file() for j in _jobs(method))


def label(method: str | None = None) -> str:
    """What every figure made with the pair says: encoder, photos, training time, and that the papers'
    models are better (from the manifest)."""
    m = manifest()
    jobs = _jobs(method) if method else list(m.get("decoders", {}))
    entries = [m.get("decoders", {}).get(j, {}) for j in jobs]
    minutes = sum(e.get("seconds", 0.0) for e in entries) / 60
    n = len(m.get("photos", PHOTOS))
    psnr = [e["held_out_psnr"] for e in entries if "held_out_psnr" in e]
    quality = ""
    if psnr and len(psnr) == len(entries):
        span = f"{min(psnr):.1f}" if len(psnr) == 1 else f"{min(psnr):.1f}–{max(psnr):.1f}"
        quality = f"; photos it never saw come back at {span} dB PSNR (α = 0)"
    return (f"encoder: ImageNet VGG-16 (HED's fine-tuned trunk); decoder{'s' if len(jobs) > 1 else ''} trained "
            f"here on {n} photos for {minutes:.0f} min of a 2-core CPU, no GPU{quality}; "
            f"the paper's models are better")


def encoder(last_layer: str = "relu5_1", *, photowct: bool = False, device=None) -> encoders.VGGEncoder:
    """The frozen offline VGG-16 up to ``last_layer`` (``photowct``: floor pooling, as FastPhotoStyle)."""
    return encoders.vgg16(last_layer=last_layer, ceil_mode=not photowct, device=device)


def wct2_encoder(device=None) -> WaveEncoder:
    """WCT²'s Haar-pooling encoder (``"sum"``, full width) holding the VGG-16 convolutions, frozen.

    ``conv0`` is VGG-16's fixed front (RGB [0, 1] → BGR 0–255 minus HED's mean); ``conv3_4``, which
    VGG-16 lacks, is the identity (a Dirac kernel, zero bias), exact because its input is a ReLU's output.
    Padding is reflection (WCT²'s), not VGG-16's zeros.
    """
    vgg = encoders.vgg16(last_layer="relu4_1", device="cpu")
    enc = WaveEncoder(WCT2_UNPOOL, width=1)
    state = {k: v for k, v in vgg.state_dict().items()}
    w0, b0 = encoders.caffe_conv0(encoders.HED_BGR_MEAN)
    state["conv0.weight"], state["conv0.bias"] = w0, b0
    eye = torch.zeros(256, 256, 3, 3)
    eye[torch.arange(256), torch.arange(256), 1, 1] = 1.0
    state["conv3_4.weight"], state["conv3_4.bias"] = eye, torch.zeros(256)
    enc.load_state_dict(state)
    enc.pretrained = False
    return enc.eval().requires_grad_(False).to(get_device(device))


def new_decoder(job: str) -> torch.nn.Module:
    """An untrained decoder of ``job`` with the pair's architecture (see :func:`decoder_path`)."""
    if job.startswith("wct2_"):
        return WaveDecoder(job.split("_")[1], width=1)
    unpool, level = job[:-1], int(job[-1])
    return MirrorDecoder(level, unpool=unpool, width=1 if unpool == "max" else WIDTHS[level])


def decoder(job: str, device=None) -> torch.nn.Module:
    """The trained decoder ``job`` in float32, frozen; ``FileNotFoundError`` saying how to rebuild it."""
    path = decoder_path(job)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: rebuild it with `python tools/train_vgg16_decoders.py --only {job}`.")
    dec = new_decoder(job)
    dec.load_state_dict({k: v.float() for k, v in torch.load(path, map_location="cpu", weights_only=True).items()})
    dec.pretrained = False
    dec.stand_in = label()
    return dec.eval().requires_grad_(False).to(get_device(device))


#: The paper's checkpoints each method would load instead (``wct2``: for the unpooling asked for).
OFFICIAL = {"adain": ("vgg_normalised", "adain_decoder"),
            "wct": ("vgg_normalised",) + tuple(f"wct_decoder{L}" for L in (5, 4, 3, 2, 1)),
            "photowct": ("photowct",), "wct2": ("wct2_encoder_{unpool}", "wct2_decoder_{unpool}")}


def official_installed(method: str, unpool: str = "cat5") -> bool:
    """Whether every official checkpoint of ``method`` is on disk (nothing is downloaded)."""
    return all(weights.is_installed(n.format(unpool=unpool)) for n in OFFICIAL[method])


def use_pair(method: str, name: str | None = None, *, explicit: bool = False, random: bool | None = None,
             unpool: str = "cat5") -> bool:
    """The one rule: build ``method`` on this pair?

    ``name == NAME``: yes (``FileNotFoundError`` saying how to rebuild when a file is missing);
    another name: ``ValueError``. No name: yes when no file was given (``explicit``), random weights
    were not asked for (``random=True``), the paper's checkpoints are not installed
    (:func:`official_installed`) and the pair is :func:`available`.
    """
    if name is not None:
        if name != NAME:
            raise ValueError(f"unknown weights {name!r}: the named pair is {NAME!r} (or give checkpoint files)")
        if not weights.is_installed("vgg16"):
            raise FileNotFoundError(f"{NAME} needs the offline VGG-16: `stylelab weights download vgg16` installs it.")
        for job in _jobs(method):
            if not decoder_path(job).is_file():
                raise FileNotFoundError(f"{decoder_path(job)} is missing: rebuild it with "
                                        f"`python tools/train_vgg16_decoders.py --only {job}`.")
        return True
    if explicit or random is True:
        return False
    return not official_installed(method, unpool) and available(method)


def say(model, method: str) -> None:
    """Print, on the command line, that ``model`` runs on the pair and what that means (nothing otherwise)."""
    if getattr(model, "weights_name", None) == NAME:
        print(f"{method}: weights {NAME} — {model.stand_in}")


def arg_weights(text: str) -> str:
    """An argparse ``type=``: :data:`NAME` or the path of an existing file."""
    return text if text == NAME else V.arg_existing("file")(text)


def mark(model: torch.nn.Module, method: str, unpool: str = "cat5") -> torch.nn.Module:
    """Label ``model`` as built on the pair (``.stand_in``, ``.weights_name``, the official checkpoints it
    stands in for, read by :func:`stylelab.weights.checkpoints_of`); frozen, in eval mode."""
    model.weights_name = NAME
    model.stand_in = label(method)
    model._stylelab_checkpoints = {n.format(unpool=unpool): False for n in OFFICIAL[method]}
    return model.eval().requires_grad_(False)


def training_photos(folder: Path) -> list[torch.Tensor]:
    """The :data:`PHOTOS` as ``(1, 3, H, W)`` tensors in [0, 1] (JPEG draft decoding, ≥ 1024 px): fetches each package (``apt-get download
    name=version`` into ``folder`` unless there), checks the .deb's and every photo's SHA-256, unpacks
    with ``dpkg-deb -x``. Raises ``RuntimeError`` on a hash mismatch."""
    import subprocess

    import numpy as np
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    roots = {}
    for pkg, (version, digest, inside) in PACKAGES.items():
        deb = folder / f"{pkg}_{version}_all.deb"
        if not deb.is_file():
            subprocess.run(["apt-get", "download", f"{pkg}={version}"], cwd=folder, check=True,
                           stdout=subprocess.DEVNULL)
        if sha256(deb) != digest:
            raise RuntimeError(f"{deb} has SHA-256 {sha256(deb)}, expected {digest}: delete it and run again.")
        root = folder / f"x_{pkg}"
        if not root.is_dir():
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        roots[pkg] = root / inside
    out = []
    for pkg, file, digest, _, _ in PHOTOS:
        path = roots[pkg] / file
        if sha256(path) != digest:
            raise RuntimeError(f"{path} has SHA-256 {sha256(path)}, expected {digest}")
        with Image.open(path) as img:
            img.draft("RGB", (1024, 1024))  # decode at a reduced scale: the crops are taken at ≤ 512 px
            arr = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
        out.append(torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous())
    return out
