"""Warping error along optical flow: known motions, occlusions, noise."""

import pytest
import torch
import torch.nn.functional as F

from stylelab.media import video, warping


def _texture(h=72, w=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(1, 3, h // 4, w // 4, generator=g, dtype=torch.float64)
    return F.interpolate(x, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)


def _shifted_clip(n=4, step=2, h=48, w=64):
    """A window moving ``step`` px right per frame over a smooth texture: ``V_t(r, c) = I(r, c + t·step)``."""
    img = _texture(h, w + step * n)
    return torch.stack([img[0, :, :, t * step: t * step + w] for t in range(n)]).float()


def test_flow_of_a_shift_is_the_shift():
    clip = _shifted_clip(n=2, step=2)
    for method in warping.FLOW_METHODS:
        f = warping.optical_flow(clip[0], clip[1], method)
        assert f.shape == (2, 48, 64)
        # V_0(r, c) = V_1(r, c − 2): the flow is (0, −2) away from the border where the content leaves
        inner = f[:, 8:-8, 8:-8]
        assert inner[0].abs().mean() < 0.05 and (inner[1] + 2).abs().mean() < 0.05, method


def test_warp_moves_integer_flows_exactly_and_flags_outside():
    img = torch.rand(1, 3, 5, 7, dtype=torch.float64)
    flow = torch.zeros(1, 2, 5, 7, dtype=torch.float64)
    flow[:, 1] = 2.0  # sample two columns to the right
    out, inside = warping.warp(img, flow)
    torch.testing.assert_close(out[..., :5], img[..., 2:])
    assert inside[0, :, :5].all() and not inside[0, :, 5:].any()
    with pytest.raises(ValueError, match="flow"):
        warping.warp(img, flow[:, :1])


def test_forward_backward_check_marks_disagreement_and_leaving_the_frame():
    fwd = torch.zeros(1, 2, 10, 10)
    fwd[:, 1] = 3.0
    bwd = -fwd.clone()
    mask = warping.flow_mask(fwd, bwd)
    assert mask[0, :, :7].all() and not mask[0, :, 7:].any()  # x + 3 leaves the frame at columns 7..9
    bwd[:, :, 2:5, 2:5] = 0.0  # the backward flow does not come back here: occluded in frame t+1
    mask = warping.flow_mask(fwd, bwd, boundaries=False)
    # a pixel x is inconsistent where the backward flow met at x + 3 was zeroed: rows 2..4, columns −1..1
    assert not mask[0, 2:5, 0:2].any() and mask[0, 0, 0:2].all() and mask[0, 5:, :7].all()


def test_a_shifted_clip_has_near_zero_warping_error_and_noise_raises_it():
    clip = _shifted_clip(n=5, step=2)
    flow = warping.clip_flow(clip)
    assert flow.coverage > 0.8
    e_clean = warping.warping_error(clip, flow)
    g = torch.Generator().manual_seed(1)
    noisy = (clip + 0.05 * torch.randn(clip.shape, generator=g)).clamp(0, 1)
    e_noise = warping.warping_error(noisy, flow)
    assert e_clean < 1e-3
    # independent noise of σ = 0.05 per channel: E‖n_t − n_{t+1}‖² ≈ 3 · 2σ² = 0.015 (bilinear sampling shrinks it)
    assert e_noise > 0.005 and e_noise > 20 * e_clean
    # a global brightness flicker on every other frame is caught as well
    flicker = clip * torch.tensor([1.0, 0.8, 1.0, 0.8, 1.0]).view(5, 1, 1, 1)
    assert warping.warping_error(flicker, flow) > 20 * e_clean
    per = warping.warping_errors(clip, flow)
    assert per.shape == (4,) and per.dtype == torch.float64


def test_warping_error_refuses_a_clip_of_another_size():
    clip = _shifted_clip(n=3)
    flow = warping.clip_flow(clip, method="ilk")
    with pytest.raises(ValueError, match="input's size"):
        warping.warping_error(clip[:, :, :40], flow)
    with pytest.raises(ValueError, match="at least two"):
        warping.clip_flow(clip[:1])


def test_camera_clip_with_a_sprite_masks_its_occlusions():
    img = _texture(120, 160).float()
    sprite = torch.ones(1, 3, 16, 16)
    clip = video.camera_frames(img, n_frames=3, size=(48, 64), shift=(0.0, 1.0), zoom=1.0, sprite=sprite,
                               sprite_step=(0.0, -4.0))
    flow = warping.clip_flow(clip)
    # background pixels the sprite uncovers or covers between frames are left out
    assert 0.5 < flow.coverage < 0.999
    assert warping.warping_error(clip, flow) < 5e-3


# ---------------------------------------------------------------- blending along the flow
def test_blend_on_a_static_clip_is_an_exponential_moving_average():
    frames = _texture(40, 48).float().expand(5, -1, -1, -1).contiguous()  # the input never moves
    g = torch.Generator().manual_seed(1)
    out = (frames + 0.1 * torch.randn(frames.shape, generator=g)).clamp(0, 1)  # flicker on a still scene
    assert torch.equal(warping.blend_along_flow(out, frames, weight=0.0, keep_contrast=False), out)
    b = warping.blend_along_flow(out, frames, weight=0.6, keep_contrast=False)
    ref = [out[0]]
    for t in range(1, 5):  # B_t = O_t + β (B_{t−1} − O_t): zero flow, every pixel trusted
        ref.append(out[t] + 0.6 * (ref[-1] - out[t]))
    assert torch.allclose(b, torch.stack(ref), atol=1e-4)


def test_blend_follows_the_motion_cuts_flicker_and_keeps_each_frames_contrast():
    clip = _shifted_clip(n=6, step=2)
    flow = warping.clip_flow(clip)
    g = torch.Generator().manual_seed(2)
    flicker = (clip + 0.08 * torch.randn(clip.shape, generator=g)).clamp(0, 1)
    b = warping.blend_along_flow(flicker, clip, weight=0.7)
    assert warping.warping_error(b, flow) < 0.5 * warping.warping_error(flicker, flow)
    # each frame keeps its per-frame output's per-channel mean and standard deviation
    assert torch.allclose(b.mean((2, 3)), flicker.mean((2, 3)), atol=1e-5)
    assert torch.allclose(b.std((2, 3)), flicker.std((2, 3)), atol=1e-5)
    # an output that already follows the motion is left nearly as it is (no ghost, no blur)
    steady = warping.blend_along_flow(clip, clip, weight=0.7, keep_contrast=False)
    assert (steady - clip)[..., 8:-8, 8:-8].abs().mean() < 0.01


def test_blend_leaves_what_the_flow_does_not_explain():
    frames = _texture(40, 48).float().expand(2, -1, -1, -1).clone()
    frames[1, :, 10:20, 10:20] = torch.tensor([1.0, 0.0, 0.0]).view(3, 1, 1)  # an object appears
    out = torch.stack([torch.zeros(3, 40, 48), torch.ones(3, 40, 48)])
    b = warping.blend_along_flow(out, frames, weight=0.7, keep_contrast=False)
    assert torch.equal(b[1, :, 12:18, 12:18], out[1, :, 12:18, 12:18])  # new content: this frame's output
    assert (b[1, :, 30:, 30:] - 0.3).abs().max() < 1e-4  # elsewhere blended with the previous frame


def test_blend_refuses_bad_arguments():
    clip = _shifted_clip(n=3)
    with pytest.raises(ValueError, match="one shape"):
        warping.blend_along_flow(clip[..., :-1], clip)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        warping.blend_along_flow(clip, clip, weight=1.0)
    with pytest.raises(ValueError, match="tolerance"):
        warping.blend_along_flow(clip, clip, tolerance=0)
