"""Training WCT²'s decoder (Yoo et al., ICCV 2019) with the shared trainer; re-exported by :mod:`stylelab.methods.wct2`.

The authors released no training code: the loss follows the paper (sec. 3.3)
and the answer in clovaai/WCT2 issue #26 (L2 reconstruction plus a feature loss).
"""

from __future__ import annotations

import torch.nn.functional as F

from .. import train
from .. import validate as V
from ..nets.wavenets import PAD

__all__ = ["train_decoder"]


def train_decoder(
    model,
    images,
    *,
    steps: int = 1000,
    batch_size: int = 8,
    lr: float = 1e-4,
    feature_weight: float = 1.0,
    device=None,
    checkpoint=None,
    resume: bool = True,
    progress: bool = True,
    **fit_kwargs,
) -> dict[str, list[float]]:
    """Train WCT²'s decoder (``model``: a :class:`~stylelab.methods.wct2.WCT2`) to invert its frozen Haar-pooling encoder.

    Loss (Yoo et al., ICCV 2019, sec. 3.3; clovaai/WCT2 issue #26: L2 reconstruction plus a feature loss)::

        total = ‖D(E(x)) − x‖² + feature_weight · ‖E(D(E(x))) − E(x)‖²

    (means over elements; ``E`` is the encoder up to ``relu4_1``, ``D`` the
    decoder with the encoder's skips). The official authors trained on MS-COCO
    and only the decoder: the encoder keeps the normalised-VGG weights. Uses the
    shared trainer :func:`stylelab.train.fit` (same arguments as the other
    decoders; ``fit_kwargs`` go to it). Returns its history
    (``total``, ``reconstruction``, ``feature``).
    """
    enc = model.encoder.requires_grad_(False)
    dec = model.decoder.requires_grad_(True)

    def loss_fn(batch):
        x = V.pad_to_size(batch, **PAD)
        skips: dict = {}
        f = enc(x, skips)
        out = dec(f, skips)
        rec = F.mse_loss(out, x)
        feat = F.mse_loss(enc(out, {}), f)
        return {"total": rec + feature_weight * feat, "reconstruction": rec, "feature": feat}

    history = train.fit(loss_fn, {"encoder": enc, "decoder": dec}, images, steps=steps, batch_size=batch_size,
                        lr=lr, device=device, checkpoint=checkpoint, resume=resume, progress=progress, **fit_kwargs)
    model.decoder.requires_grad_(False)
    model.decoder_pretrained = True
    model.pretrained = bool(getattr(model, "encoder_pretrained", False))
    return history
