"""Frame sequences: folder round trip, array conversion, temporal consistency numbers."""

import numpy as np
import pytest
import torch

from stylelab import video


def test_folder_roundtrip_sorted(tmp_path):
    frames = torch.rand(3, 3, 8, 10)
    paths = video.save_frames(frames, tmp_path / "v")
    assert [p.name for p in paths] == ["frame_0000.png", "frame_0001.png", "frame_0002.png"]
    back = video.load_frames(tmp_path / "v")
    assert back.shape == frames.shape
    assert (back - frames).abs().max() <= 0.5 / 255 + 1e-6  # 8-bit quantisation only
    with pytest.raises(FileExistsError):
        video.save_frames(frames, tmp_path / "v")
    with pytest.raises(NotADirectoryError):
        video.load_frames(tmp_path / "missing")


def test_as_frames_from_uint8_array():
    arr = np.zeros((2, 4, 5, 3), dtype=np.uint8)
    arr[1] = 255
    t = video.as_frames(arr)
    assert t.shape == (2, 3, 4, 5) and t[1].min() == 1 and t[0].max() == 0
    with pytest.raises(ValueError, match="T, H, W, 3"):
        video.as_frames(np.zeros((4, 5, 3)))


def test_temporal_change_and_ratio():
    frames = torch.zeros(4, 3, 2, 2)
    for t in range(4):
        frames[t] += 0.1 * t
    torch.testing.assert_close(video.temporal_change(frames), torch.full((3,), 0.1))
    tc = video.temporal_consistency(frames, frames * 2)
    assert abs(tc["ratio"] - 2) < 1e-6 and abs(tc["input"] - 0.1) < 1e-6
    # a stylization that ignores time-varying noise: identity has ratio 1, flicker > 1
    flicker = frames + torch.tensor([0.0, 0.3, 0.0, 0.3]).view(4, 1, 1, 1)
    assert video.temporal_consistency(frames, flicker)["ratio"] > 2


def test_pan_and_stylize_frames():
    img = torch.rand(1, 3, 6, 20)
    v = video.pan_frames(img, n_frames=5, step=2, fade=0.5)
    assert v.shape == (5, 3, 6, 12)
    torch.testing.assert_close(v[2, :, :, :-4], v[0, :, :, 4:] * (0.75 / 1.0))
    out = video.stylize_frames(lambda f: 1 - f, v, progress=False)
    torch.testing.assert_close(out, 1 - v)
    with pytest.raises(ValueError, match="does not fit"):
        video.pan_frames(img, n_frames=20, step=2)


def test_temporal_ratio_warns_when_output_is_degenerate():
    """A constant black video is 'perfectly stable' (ratio 0): the function must say that means nothing."""
    frames = video.pan_frames(torch.rand(1, 3, 8, 24, generator=torch.Generator().manual_seed(0)), n_frames=4, step=2)
    with pytest.warns(UserWarning, match="says nothing about stability"):
        tc = video.temporal_consistency(frames, torch.zeros_like(frames))
    assert tc["ratio"] == 0 and tc["contrast"] == 0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tc = video.temporal_consistency(frames, 1 - frames)  # an honest transform: no warning
    assert abs(tc["contrast"] - 1) < 1e-6 and abs(tc["ratio"] - 1) < 1e-6
