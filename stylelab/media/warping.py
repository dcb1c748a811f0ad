"""Flicker as a number: the warping error along optical flow, with occlusions left out.

A stylised video flickers when a point that moves smoothly in the input
changes colour from one frame to the next in the output. Lai et al. measure it
by following the *input's* motion: the optical flow ``F_{t→t+1}`` is estimated
on the input frames, the next output frame is warped back along it, and the
difference with the current output frame is averaged over the pixels that are
visible in both frames (W.-S. Lai, J.-B. Huang, O. Wang, E. Shechtman,
E. Yumer, M.-H. Yang, "Learning Blind Video Temporal Consistency", ECCV 2018,
Eq. 9)::

    Ô_{t+1}(x) = O_{t+1}(x + F_{t→t+1}(x))                        (bilinear)
    E_warp(O_t, O_{t+1}) = Σ_x M_t(x) ‖O_t(x) − Ô_{t+1}(x)‖²₂ / Σ_x M_t(x)
    E_warp(O) = 1/(T−1) Σ_t E_warp(O_t, O_{t+1})

``‖·‖²₂`` sums the three RGB channels of images in ``[0, 1]``. ``M_t`` is 1
where the flow can be trusted: Ruder, Dosovitskiy & Brox ("Artistic Style
Transfer for Videos", GCPR 2016, Sec. 3.2) mark a pixel occluded when the
forward flow ``w = F_{t→t+1}(x)`` and the backward flow met there,
``ŵ = F_{t+1→t}(x + w)``, do not cancel, and mark motion boundaries where the
flow changes fast::

    |w + ŵ|² > 0.01 (|w|² + |ŵ|²) + 0.5                          (occlusion)
    |∇u|² + |∇v|² > 0.01 |w|² + 0.002                             (motion boundary)

and here also where ``x + w`` leaves the frame (the boundary test is optional:
:func:`clip_flow`). The flow is computed without
any trained network: TV-L1 (Zach, Pock & Bischof, DAGM 2007; Wedel et al.
2009) or iterative Lucas–Kanade, both from scikit-image
(:func:`skimage.registration.optical_flow_tvl1`, ``optical_flow_ilk``) on the
frames' luminance (ITU-R BT.601 weights, as ``skimage.color.rgb2gray``).

Conventions: a flow is ``(2, H, W)`` or ``(T−1, 2, H, W)`` in pixels, channel
0 the row (``v``, down) and channel 1 the column (``u``, right) displacement,
scikit-image's order: ``reference(r, c) ≈ moving(r + v, c + u)``. The flow is
measured once on the input clip (:func:`clip_flow`) and reused for every
stylisation of it, so methods are compared along the same motion.

The same flow, measured on the input, also *reduces* flicker: :func:`blend_along_flow`
averages each output frame with the previous one moved along the motion (where the flow
explains the input), a post-process for any per-frame method (``stylelab transfer --video
--flow-blend``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from .video import as_frames

__all__ = ["optical_flow", "warp", "flow_mask", "ClipFlow", "clip_flow", "warping_errors", "warping_error",
           "blend_along_flow", "DEFAULT_BLEND", "FLOW_METHODS"]

FLOW_METHODS = ("tvl1", "ilk")
_LUMA = (0.2125, 0.7154, 0.0721)  # skimage.color.rgb2gray


def _grey(frame: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` → ``(H, W)`` float32 luminance as a NumPy array (on the CPU)."""
    w = torch.tensor(_LUMA, dtype=frame.dtype, device=frame.device).view(3, 1, 1)
    return (frame * w).sum(0).detach().cpu().float().numpy()


def optical_flow(reference: torch.Tensor, moving: torch.Tensor, method: Literal["tvl1", "ilk"] = "tvl1") -> torch.Tensor:
    """The flow ``(2, H, W)`` (float32, on ``reference``'s device) with ``reference(x) ≈ moving(x + flow(x))``.

    Args:
        reference, moving: ``(3, H, W)`` RGB frames in [0, 1] of one size.
        method: ``"tvl1"`` (TV-L1, robust, the default) or ``"ilk"`` (iterative Lucas–Kanade,
            faster, smoother); scikit-image's defaults for either.
    """
    if reference.shape != moving.shape or reference.dim() != 3 or reference.shape[0] != 3:
        raise ValueError(f"optical_flow takes two (3, H, W) frames of one size, got {tuple(reference.shape)} "
                         f"and {tuple(moving.shape)}")
    from skimage.registration import optical_flow_ilk, optical_flow_tvl1

    solvers = {"tvl1": optical_flow_tvl1, "ilk": optical_flow_ilk}
    if method not in solvers:
        raise ValueError(f"flow method must be one of {FLOW_METHODS}, got {method!r}")
    flow = solvers[method](_grey(reference), _grey(moving))
    return torch.from_numpy(np.ascontiguousarray(flow, dtype=np.float32)).to(reference.device)


def _grid(flow: torch.Tensor) -> torch.Tensor:
    """Sampling positions ``x + flow(x)`` as ``(B, H, W, 2)`` in grid_sample's [-1, 1] (x, y) order."""
    B, _, H, W = flow.shape
    rows = torch.arange(H, dtype=flow.dtype, device=flow.device).view(1, H, 1) + flow[:, 0]
    cols = torch.arange(W, dtype=flow.dtype, device=flow.device).view(1, 1, W) + flow[:, 1]
    return torch.stack((2 * cols / max(W - 1, 1) - 1, 2 * rows / max(H - 1, 1) - 1), -1)


def warp(image: torch.Tensor, flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(image(x + flow(x)), inside)``: ``image`` ``(B, C, H, W)`` sampled bilinearly along ``flow`` ``(B, 2, H, W)``.

    ``inside`` ``(B, H, W)`` is ``True`` where ``x + flow(x)`` lies in the frame (elsewhere the
    sample is the border value and means nothing). Integer flows move pixels exactly.
    """
    if image.dim() != 4 or flow.dim() != 4 or flow.shape[1] != 2 or flow.shape[0] != image.shape[0] \
            or flow.shape[-2:] != image.shape[-2:]:
        raise ValueError(f"warp takes image (B, C, H, W) and flow (B, 2, H, W) of one size, got "
                         f"{tuple(image.shape)} and {tuple(flow.shape)}")
    flow = flow.to(image)
    g = _grid(flow)
    out = F.grid_sample(image, g, mode="bilinear", padding_mode="border", align_corners=True)
    tol = 1e-6
    inside = (g.abs() <= 1 + tol).all(-1)
    return out, inside


def flow_mask(forward: torch.Tensor, backward: torch.Tensor, boundaries: bool = True) -> torch.Tensor:
    """Pixels of frame ``t`` whose flow is trusted, ``(B, H, W)`` bool (module docstring, Ruder et al. 2016).

    Args:
        forward: ``F_{t→t+1}`` ``(B, 2, H, W)``; backward: ``F_{t+1→t}``, same shape.
        boundaries: also leave out motion boundaries.

    False where the forward–backward check fails (occluded or mismatched), where ``x + w`` leaves the
    frame, and (``boundaries``) on motion boundaries.
    """
    back, inside = warp(backward, forward)  # ŵ = F_{t+1→t}(x + w)
    s = forward + back
    w2, b2 = forward.pow(2).sum(1), back.pow(2).sum(1)
    ok = inside & (s.pow(2).sum(1) <= 0.01 * (w2 + b2) + 0.5)
    if boundaries:
        du = torch.zeros_like(forward)
        dv = torch.zeros_like(forward)
        du[..., :, :-1] = forward[..., :, 1:] - forward[..., :, :-1]  # ∂/∂column of (v, u)
        dv[..., :-1, :] = forward[..., 1:, :] - forward[..., :-1, :]  # ∂/∂row
        grad2 = du.pow(2).sum(1) + dv.pow(2).sum(1)
        ok &= grad2 <= 0.01 * w2 + 0.002
    return ok


@dataclass
class ClipFlow:
    """The motion of a clip, measured once on its input frames.

    Attributes:
        forward: ``(T−1, 2, H, W)``, ``F_{t→t+1}``.
        mask: ``(T−1, H, W)`` bool, the pixels of frame ``t`` counted (:func:`flow_mask`).
        method: the flow solver.
    """

    forward: torch.Tensor
    mask: torch.Tensor
    method: str

    @property
    def coverage(self) -> float:
        """Fraction of pixels counted (``Σ M / (T−1)HW``): low means the clip is mostly occluded or too fast."""
        return float(self.mask.float().mean())


def clip_flow(frames: torch.Tensor, method: Literal["tvl1", "ilk"] = "tvl1", boundaries: bool = False) -> ClipFlow:
    """Forward and backward flow between consecutive frames of ``frames`` ``(T, 3, H, W)`` and the trust mask.

    ``boundaries`` (off by default): also leave out Ruder et al.'s motion boundaries. Their threshold
    was set for smooth learned flows; TV-L1's flow is noisy at the pixel scale on textureless regions
    (sky), and the gradient test then drops most of the frame (measured on the camera clip of
    :func:`stylelab.media.video.camera_frames`: 32 % of the pixels kept instead of 98 %). The
    forward–backward check alone already leaves out what is occluded.

    Cost: ``2(T − 1)`` flow solves (TV-L1 ≈ 0.1 s at 100×80 px on one core, growing with the pixels).
    """
    frames = as_frames(frames)
    if frames.shape[0] < 2:
        raise ValueError("the warping error needs at least two frames")
    fwd = torch.stack([optical_flow(a, b, method) for a, b in zip(frames[:-1], frames[1:])])
    bwd = torch.stack([optical_flow(b, a, method) for a, b in zip(frames[:-1], frames[1:])])
    return ClipFlow(fwd, flow_mask(fwd, bwd, boundaries), method)


def warping_errors(output: torch.Tensor, flow: ClipFlow) -> torch.Tensor:
    """``E_warp(O_t, O_{t+1})`` for every ``t``, shape ``(T−1,)`` float64 (module docstring, Lai et al. 2018).

    Args:
        output: ``(T, 3, H, W)`` frames in [0, 1] (a stylisation of the clip ``flow`` was measured on,
            at the input's size).
        flow: :func:`clip_flow` of the input clip.
    """
    output = as_frames(output)
    T1, _, H, W = flow.forward.shape
    if output.shape[0] != T1 + 1 or output.shape[-2:] != (H, W):
        raise ValueError(f"the output has {output.shape[0]} frames of {tuple(output.shape[-2:])}, the flow was measured "
                         f"on {T1 + 1} frames of {(H, W)}: stylise at the input's size (or resize the output)")
    out = output.double()
    nxt, inside = warp(out[1:], flow.forward.to(out.device, torch.float64))
    m = (flow.mask.to(out.device) & inside).double()
    err = (out[:-1] - nxt).pow(2).sum(1)
    n = m.flatten(1).sum(1)
    if (n == 0).any():
        raise ValueError("some frame pair has no trusted pixel (all occluded): the motion is too fast for the flow")
    return (err * m).flatten(1).sum(1) / n


def warping_error(output: torch.Tensor, flow: ClipFlow) -> float:
    """``E_warp(O)``: the mean of :func:`warping_errors` over the clip (lower is steadier)."""
    return float(warping_errors(output, flow).mean())


#: β of :func:`blend_along_flow` when not given (about three frames averaged along the motion).
DEFAULT_BLEND = 0.7


def blend_along_flow(output: torch.Tensor, frames: torch.Tensor, weight: float = DEFAULT_BLEND,
                     method: Literal["tvl1", "ilk"] = "ilk", tolerance: float = 0.05,
                     keep_contrast: bool = True) -> torch.Tensor:
    """A stylised clip smoothed in time along the input's motion (recursive, causal; a post-process).

    ::

        B_0 = O_0,      B_t = O_t + β · M_t ⊙ (B_{t−1}(x + F_{t→t−1}(x)) − O_t)

    ``O``: the per-frame output ``(T, 3, H, W)``; ``F_{t→t−1}``: the flow measured on the *input*
    ``frames`` (:func:`optical_flow`, ``method``); ``β = weight`` in ``[0, 1)`` (``B_t`` is an exponential
    moving average along the motion, about ``1/(1 − β)`` frames); ``M_t(x) ∈ {0, 1}`` is 1 where the
    flow is trusted — the forward–backward check of :func:`flow_mask`, the sample inside the frame —
    and where the flow explains the *input* (``max_c |I_t − I_{t−1}(x + F)| ≤ tolerance``): a
    disocclusion, a new object or a change of light is not blended, so it cannot leave a ghost.
    The idea of Bonneel et al., "Blind Video Temporal Consistency" (SIGGRAPH Asia 2015) and of the
    temporal losses of Ruder et al. (GCPR 2016), applied to the output without any training.

    Blending lowers contrast where the two frames' textures differ (two uncorrelated textures of one
    standard deviation σ blend to ``σ √((1−β)² + β²)``: 0.76 σ at β = 0.7), and the bilinear
    resampling of ``B_{t−1}`` at every frame softens fine texture where the motion is sub-pixel. So
    with ``keep_contrast`` (the default) each blended frame gets back the per-channel mean and
    standard deviation of its per-frame output ``O_t`` (a global affine map per channel, AdaIN on
    the pixels: ``B_t ← (B_t − μ(B_t)) σ(O_t)/σ(B_t) + μ(O_t)``); the recursion carries the corrected
    frame. Measure what is left (the style distance, the sharpness, the SSIM to the per-frame
    output: ``benchmarks/bench_video.py``). The default flow (Lucas–Kanade,
    ``"ilk"``) differs from the TV-L1 flow :func:`clip_flow` measures the warping error with, so a
    lower error is not the measure agreeing with itself. Cost: ``2(T − 1)`` flow solves and warps.
    Returns ``(T, 3, H, W)`` on ``output``'s device (not clamped: ``keep_contrast`` may step a little
    outside [0, 1] where the per-frame output was at its bounds).
    """
    output, frames = as_frames(output), as_frames(frames)
    if output.shape != frames.shape:
        raise ValueError(f"output {tuple(output.shape)} and input frames {tuple(frames.shape)} must have one shape: "
                         "blend at the input's size (stylise at it, or resize the output)")
    if not 0.0 <= float(weight) < 1.0:
        raise ValueError(f"weight must lie in [0, 1) (0: no blending; 0.5: about two frames), got {weight}")
    if tolerance <= 0:
        raise ValueError(f"tolerance must be > 0 (a colour difference in [0, 1]), got {tolerance}")
    frames = frames.to(output.device, output.dtype)
    out = [output[0]]
    for t in range(1, output.shape[0]):
        back = optical_flow(frames[t], frames[t - 1], method)[None].to(output)  # F_{t→t−1}
        fwd = optical_flow(frames[t - 1], frames[t], method)[None].to(output)
        prev, inside = warp(torch.stack((out[-1], frames[t - 1])), back.expand(2, -1, -1, -1))
        trust = flow_mask(back, fwd, boundaries=False)[0] & inside[0]
        trust &= (frames[t] - prev[1]).abs().amax(0) <= tolerance
        b = output[t] + weight * trust.to(output.dtype) * (prev[0] - output[t])
        if keep_contrast:
            mu_o, sd_o = output[t].mean((1, 2), keepdim=True), output[t].std((1, 2), keepdim=True)
            mu_b, sd_b = b.mean((1, 2), keepdim=True), b.std((1, 2), keepdim=True)
            b = (b - mu_b) * (sd_o / sd_b.clamp_min(1e-6)) + mu_o
        out.append(b)
    return torch.stack(out)
