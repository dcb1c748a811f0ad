"""Image optimisation: minimise a loss over the pixels of an image (Gatys, DPST, texture synthesis, inversion).

One loop for every optimisation-based method. The caller gives
``loss_fn(image) -> (total, parts)`` (a scalar and a dict of named scalar
terms, all on the image's device) and a start image; :func:`minimise_image`
runs L-BFGS (as Gatys et al., CVPR 2016, and Luan et al., CVPR 2017) or Adam
on a copy of it and returns the result with the history of every evaluation.

Budgets (``budget``), because the reference codes count differently:

``"evaluations"``  stop after exactly ``steps`` loss evaluations (an
                   L-BFGS line search that asks for more is cut short);
``"tutorial"``     the PyTorch tutorial's loop: whole ``optimizer.step()``
                   calls while fewer than ``steps`` evaluations were made
                   (``≤ steps + max_iter``);
``"iterations"``   one L-BFGS ``step()`` of ``steps`` iterations (DPST's
                   ``optim.lbfgs`` with ``maxIter``), evaluations as the line
                   search needs them.

Losses are recorded without a host synchronisation per evaluation (one
``tolist`` at the end), and the best image is selected on the device.
"""

from __future__ import annotations

from typing import Callable, Literal, Sequence

import torch
from tqdm.auto import tqdm

__all__ = ["make_closure", "minimise_image"]

Budget = Literal["evaluations", "tutorial", "iterations"]


class _BudgetSpent(Exception):
    """Raised inside the L-BFGS closure to stop exactly at ``steps`` evaluations."""


def make_closure(optimizer: torch.optim.Optimizer, x: torch.Tensor, loss_fn: Callable[[torch.Tensor], torch.Tensor],
                 clamp: bool = True) -> Callable[[], torch.Tensor]:
    """The closure ``optimizer.step(closure)`` calls: clamp ``x`` to [0, 1] in place, zero the gradients,
    evaluate ``loss_fn(x)``, backpropagate, return the loss (a 0-dimensional tensor).

    L-BFGS calls it several times per step (its line search); Adam once. The clamp
    is done under ``torch.no_grad()`` (it is not part of the graph), and ``clamp=False``
    skips it. :func:`minimise_image` runs every method's optimisation through this
    closure, with its book-keeping (budget, history, best image) inside ``loss_fn``.
    """

    def closure():
        if clamp:
            with torch.no_grad():
                x.clamp_(0, 1)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(x)
        loss.backward()
        return loss

    return closure


def minimise_image(
    loss_fn: Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, torch.Tensor]]],
    init: torch.Tensor,
    steps: int,
    *,
    keys: Sequence[str] = (),
    optimizer: Literal["lbfgs", "adam"] = "lbfgs",
    lr: float = 1.0,
    budget: Budget = "evaluations",
    lbfgs_max_iter: int = 20,
    history_size: int = 100,
    line_search: str | None = None,
    tolerances: tuple[float, float] | None = None,
    clamp_each: bool = True,
    clamp_end: bool = True,
    keep_best: bool = False,
    callback: Callable[[int, torch.Tensor, dict[str, float]], object] | None = None,
    callback_every: int = 10,
    progress: bool = True,
    desc: str = "optimising",
) -> tuple[torch.Tensor, dict[str, list[float]], int]:
    """Minimise ``loss_fn`` over the pixels of ``init`` (copied). Returns ``(image, history, evaluations)``.

    Args:
        loss_fn: ``image -> (total, parts)``; ``parts[k]`` for each ``k`` in ``keys`` is recorded.
        steps: the budget (module docstring); Adam: optimiser steps.
        optimizer, lr: ``"lbfgs"`` (``lbfgs_max_iter`` iterations per ``step()``,
            ``history_size``, ``line_search`` ``None`` or ``"strong_wolfe"``,
            ``tolerances = (tolerance_grad, tolerance_change)``, default
            PyTorch's; negative values never stop early) or ``"adam"``.
        clamp_each: clamp the image to [0, 1] before each evaluation (Adam: after each step).
        clamp_end: clamp the returned image to [0, 1].
        keep_best: return the evaluated image with the lowest total, else the last iterate.
        callback: ``callback(evaluation, image, losses)`` every ``callback_every``
            evaluations (and at the last of the budget), with a detached copy of the image.
        progress: a ``tqdm`` bar showing the first terms.

    Returns:
        ``image`` (``init``'s shape, detached), ``history`` (``{"total": [...], key: [...]}``, one
        entry per evaluation) and the number of evaluations.
    """
    if budget not in ("evaluations", "tutorial", "iterations"):
        raise ValueError(f"budget must be 'evaluations', 'tutorial' or 'iterations', got {budget!r}")
    names = ("total", *keys)
    x = init.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
    records: list[torch.Tensor] = []
    count = [0]
    best: dict = {"loss": None, "image": None}
    bar = tqdm(total=steps, desc=desc, disable=not progress, leave=False)
    exact = budget == "evaluations"

    def evaluate(image):
        """``loss_fn`` with the book-keeping: count, best image, history, progress, callback."""
        total, parts = loss_fn(image)
        count[0] += 1
        if keep_best:  # without a host sync: select on the device
            t = total.detach()
            if best["loss"] is None:
                best["loss"], best["image"] = t.clone(), image.detach().clone()
            else:
                better = t < best["loss"]
                best["image"] = torch.where(better, image.detach(), best["image"])
                best["loss"] = torch.minimum(t, best["loss"])
        records.append(torch.stack([total.detach()] + [parts[k].detach().to(total.dtype) for k in keys]))
        bar.update(1)
        if count[0] % max(1, callback_every) == 0 or count[0] == steps:
            if progress or callback is not None:
                vals = records[-1].tolist()
                if progress:
                    bar.set_postfix({k: f"{v:.3g}" for k, v in list(zip(names, vals))[:3]}, refresh=False)
                if callback is not None:
                    callback(count[0], image.detach().clone(), dict(zip(names, vals)))
        return total

    if optimizer == "lbfgs":
        tol = {} if tolerances is None else {"tolerance_grad": tolerances[0], "tolerance_change": tolerances[1]}
        max_iter = steps if budget == "iterations" else lbfgs_max_iter
        opt = torch.optim.LBFGS([x], lr=lr, max_iter=max_iter, history_size=history_size,
                                line_search_fn=line_search, **tol)
        evaluation = make_closure(opt, x, evaluate, clamp=clamp_each)

        def closure():
            if exact and count[0] >= steps:
                raise _BudgetSpent  # a line search asked for more evaluations than the budget has
            return evaluation()

        if budget == "iterations":
            opt.step(closure)
        else:
            group = opt.param_groups[0]
            while count[0] < steps if exact else count[0] <= steps:
                if exact:
                    left = steps - count[0]
                    group["max_iter"] = min(lbfgs_max_iter, left)
                    group["max_eval"] = left if line_search else min(lbfgs_max_iter * 5 // 4, left)
                before = count[0]
                try:
                    opt.step(closure)
                except _BudgetSpent:
                    break
                if count[0] == before:  # converged: L-BFGS made no evaluation
                    break
    elif optimizer == "adam":
        opt = torch.optim.Adam([x], lr=lr)
        closure = make_closure(opt, x, evaluate, clamp=clamp_each)
        for _ in range(steps):
            opt.step(closure)
            if clamp_each:
                with torch.no_grad():
                    x.clamp_(0, 1)
    else:
        raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {optimizer!r}")
    bar.close()
    out = best["image"] if keep_best and best["image"] is not None else x.detach()
    if clamp_end:
        out = out.clamp(0, 1)
    hist = torch.stack(records).T.tolist() if records else [[] for _ in names]
    return out, dict(zip(names, hist)), count[0]
