"""Conditional instance normalisation: one feed-forward network for several styles.

Dumoulin, Shlens & Kudlur, "A Learned Representation for Artistic Style",
ICLR 2017. Johnson et al.'s transformation network
(:class:`stylelab.nets.transformnet.TransformNet`) with every normalisation
layer replaced by :class:`stylelab.features.norms.ConditionalInstanceNorm2d`: the
convolutions are shared, and style ``s`` is the row ``(γ^s, β^s)`` of a table
in each layer. Training (:class:`~stylelab.methods.johnson.PerceptualLoss`)
draws a style per image; stylisation picks a row, or mixes rows
(``γ = Σ w_s γ^s``, ``β = Σ w_s β^s``) to interpolate between styles.

``stylelab train --method cin IMAGES --styles FOLDER`` trains one (the images
of FOLDER, sorted, become styles 0, 1, …); ``stylelab transfer --method cin
--model FILE CONTENT --style-index K`` (or ``--mix 0.5,0.5``) applies it —
the same as ``--method johnson`` on a conditional model.

A trained one comes with the course: Magenta's 26-style network (registry
name ``magenta_cin26``, :data:`stylelab.nets.transformnet.MAGENTA_CIN26`;
``stylelab weights download magenta_cin26``)::

    stylelab transfer --method cin --model magenta_cin26 --mix 0=0.5,19=0.5 content.jpg -o out.png
    stylelab transfer --method cin --model magenta_cin26 --list-styles

Without ``--size`` the content keeps its size (a side that is not a multiple
of 4 is reflection-padded for the network and the result cropped back).
"""

from __future__ import annotations

from . import Method, TrainRun, TrainSpec, register
from . import johnson
from .johnson import add_cli_arguments, add_train_arguments, run_cli, train_job

__all__ = ["list_styles_cli"]


def list_styles_cli(argv: list[str]) -> int:
    """``stylelab transfer --method cin --list-styles``: the styles of a CIN model (the command looks this
    name up on the method's module; :func:`stylelab.methods.johnson.list_styles_cli` does the work)."""
    return johnson.list_styles_cli(argv)


def _cin_job(images, run: TrainRun, **options):
    return train_job(images, run, conditional=True, **options)


register(Method(
    name="cin", order=17,
    summary="Conditional instance norm, Dumoulin et al., ICLR 2017: one network, a table of γ, β per style",
    add_cli_arguments=add_cli_arguments, run_cli=run_cli, needs_style=False, keeps_size=True,
    checkpoints=("magenta_cin26",),
    train=TrainSpec(_cin_job, add_train_arguments, "one network for several styles (content images + --styles FOLDER)"),
))
