"""Frame sequences: folder round trip, array conversion, temporal consistency numbers."""

import numpy as np
import pytest
import torch

from stylelab.media import video


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


# ---------------------------------------------------------------- stabilised per-frame transfer
from stylelab.features import transforms as T  # noqa: E402
from stylelab.features import whitening
from stylelab.features.whitening import WCT_PRESETS, whitening_matrix  # noqa: E402


def _clip(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(1, 3, 6, 7, generator=g, dtype=torch.float64)
    return torch.cat([base * (1 + 0.2 * t) + 0.1 * torch.rand(1, 3, 6, 7, generator=g, dtype=torch.float64)
                      for t in range(n)])


def test_momentum_zero_is_per_frame_transfer():
    clip, style = _clip(), torch.rand(1, 3, 5, 5, dtype=torch.float64)
    naive = video.stylize_frames(lambda f: T.wct(f, style), clip, progress=False)
    zero = video.stylize_frames(lambda f: T.wct(f, style), clip, progress=False, momentum=0.0)
    torch.testing.assert_close(zero, naive)
    assert (video.stylize_frames(lambda f: T.wct(f, style), clip, progress=False, momentum=0.8) - naive).abs().max() > 1e-3


def test_adain_statistics_follow_the_moving_average():
    clip, style = _clip(3), torch.rand(1, 3, 5, 5, dtype=torch.float64)
    m = 0.7
    out = video.stylize_frames(lambda f: T.adain(f, style), clip, progress=False, momentum=m)
    mu = [f.mean((1, 2), keepdim=True) for f in clip]
    sd = [(f.var((1, 2), keepdim=True) + 1e-5).sqrt() for f in clip]  # the pytorch preset: unbiased + eps
    mbar, sbar = mu[0], sd[0]
    ms, ss = T.mean_std(style)
    for t in range(3):
        if t:
            mbar, sbar = m * mbar + (1 - m) * mu[t], m * sbar + (1 - m) * sd[t]
        torch.testing.assert_close(out[t], ((clip[t] - mbar) / sbar * ss[0] + ms[0]))


def test_wct_whitening_matrix_follows_the_moving_average():
    clip, style = _clip(3), torch.rand(1, 3, 9, 9, dtype=torch.float64)
    m, cfg = 0.6, WCT_PRESETS["exact"]
    out = video.stylize_frames(lambda f: T.wct(f, style), clip, progress=False, momentum=m)
    stats = [whitening_matrix(f.flatten(1), cfg) for f in clip]
    wbar, mubar = stats[0]
    for t in (1, 2):
        wbar, mubar = m * wbar + (1 - m) * stats[t][0], m * mubar + (1 - m) * stats[t][1]
    # T(x) = C_s W̄ (x − μ̄) + μ_s: whiten with the averages, colour with the style (unchanged)
    white = (wbar @ (clip[2].flatten(1) - mubar)).view(1, 3, 6, 7)
    torch.testing.assert_close(out[2:], whitening.colour(white, style))


def test_whitening_does_not_depend_on_eigenvector_sign_or_order():
    """Why no sign/order tracking is needed: E D^{-1/2} Eᵀ is the same for any signs and any order of the pairs."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(5, 40, generator=g, dtype=torch.float64)
    lam, e = torch.linalg.eigh(torch.cov(x))
    w = e @ torch.diag(lam.rsqrt()) @ e.T
    perm = torch.randperm(5, generator=g)
    signs = torch.where(torch.rand(5, generator=g) < 0.5, -1.0, 1.0).double()
    e2, lam2 = (e * signs)[:, perm], lam[perm]
    torch.testing.assert_close(e2 @ torch.diag(lam2.rsqrt()) @ e2.T, w)
    assert (e2 - e).abs().max() > 0.1  # the bases themselves differ


def test_temporal_statistics_refuses_a_changed_path_and_bad_momentum():
    clip, style = _clip(2), torch.rand(1, 3, 5, 5, dtype=torch.float64)
    state = video.TemporalStatistics(0.5)
    with state.frame():
        T.adain(clip[:1], style)
    with pytest.raises(RuntimeError, match="same path"):
        with state.frame():
            T.wct(clip[1:], style)
    with pytest.raises(ValueError, match="momentum"):
        video.TemporalStatistics(1.0)


def test_camera_frames_pan_is_a_shift():
    img = torch.rand(1, 3, 40, 60, dtype=torch.float64)
    # k = 0.6·min(39/19, 59/29) image px per frame px; a shift of 1/k frame px per frame is one image px
    k = 0.6 * min(39 / 19, 59 / 29)
    clip = video.camera_frames(img, n_frames=3, size=(20, 30), shift=(0.0, 1 / k), zoom=1.0)
    ref = video.camera_frames(torch.roll(img, -2, dims=-1), n_frames=1, size=(20, 30), zoom=1.0)
    torch.testing.assert_close(clip[2], ref[0])
    with pytest.raises(ValueError, match="leaves the image"):
        video.camera_frames(img, n_frames=50, size=(20, 30), shift=(0.0, 3.0))


def test_read_and_write_video_gif_and_folder(tmp_path):
    frames = torch.rand(3, 3, 8, 10)
    (p,) = video.write_video(frames, tmp_path / "a.gif")
    back = video.read_video(p)
    assert back.shape == (3, 3, 8, 10)
    with pytest.raises(FileExistsError):
        video.write_video(frames, tmp_path / "a.gif")
    paths = video.write_video(frames, tmp_path / "folder")
    assert len(paths) == 3 and video.read_video(tmp_path / "folder", size=4).shape == (3, 3, 4, 5)
    with pytest.raises(ValueError, match="folder of frames"):
        video.read_video(paths[0])  # one PNG is not a video
    with pytest.raises(FileNotFoundError):
        video.read_video(tmp_path / "missing.mp4")


@pytest.mark.slow
def test_cli_video_file_in_and_out_stabilised_by_default(tmp_path, capsys):
    from stylelab import io
    from stylelab.cli import main

    g = torch.Generator().manual_seed(0)
    video.write_video(video.pan_frames(torch.rand(1, 3, 16, 32, generator=g), n_frames=4, step=2), tmp_path / "in.gif")
    io.save_image(torch.rand(1, 3, 16, 16, generator=g), tmp_path / "style.png")
    common = [str(tmp_path / "in.gif"), str(tmp_path / "style.png"), "--size", "16", "--random-weights"]
    for method in ("adain", "wct2"):
        extra = ["--unpool", "sum", "--transfer-at", "skip"] if method == "wct2" else []
        assert main(["transfer", "--method", method, "--video", *common, *extra, "-o", str(tmp_path / method)]) == 0
        assert "stabilised (EMA m=0.9), blended along the flow (β=0.7)" in capsys.readouterr().out
        assert main(["transfer", "--method", method, "--video", *common, *extra, "--stabilise", "0",
                     "--flow-blend", "0", "-o", str(tmp_path / f"{method}.gif")]) == 0
        out = capsys.readouterr().out
        assert "each frame on its own" in out and "blended" not in out
        a = video.read_video(tmp_path / method)
        assert a.shape == (4, 3, 16, 26)
        # (a GIF writer merges identical consecutive frames, adding up their durations: random weights give some)
        assert video.read_video(tmp_path / f"{method}.gif").shape[1:] == (3, 16, 26)
    with pytest.raises(SystemExit):
        main(["transfer", "--method", "adain", "--video", *common, "--stabilise", "1", "-o", str(tmp_path / "x")])
