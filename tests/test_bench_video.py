"""The video benchmark's comparison "at the same style distance": each stabilised row against the per-frame
curve (α = 1 … α < 1), interpolated at the row's own style distance."""

from __future__ import annotations

import pytest

from benchmarks import bench_video


def _row(sd, e, momentum=None, blend=None, alpha=None):
    r = {"clip": "c", "method": "wct", "style_distance": sd, "e_warp": e, "momentum": momentum, "blend": blend}
    if alpha is not None:
        r["alpha"] = alpha
    return r


def test_a_stabilised_row_is_compared_with_per_frame_transfer_at_its_own_style_distance(capsys):
    rows = [_row(1.0, 0.20), _row(1.5, 0.10, blend=0.7), _row(2.0, 0.04, blend=0.9), _row(1.2, 0.16, alpha=0.8),
            _row(1.8, 0.12, alpha=0.6)]
    bench_video.same_style_distance(rows, "c", "wct")
    # 1.5 lies between α = 0.8 (1.2, 0.16) and α = 0.6 (1.8, 0.12): per frame there 0.14, the blend 0.10
    assert rows[1]["matched_naive"] == pytest.approx(0.14)
    assert rows[1]["matched_change"] == pytest.approx(0.10 / 0.14 - 1)
    assert rows[2]["matched_change"] is None  # beyond the curve: not extrapolated, and said
    assert "outside the per-frame curve" in capsys.readouterr().out
    # the per-frame rows at α < 1 are not "naive": changes are still against α = 1
    assert bench_video._is_naive(rows[0]) and not bench_video._is_naive(rows[3]) and not bench_video._is_naive(rows[1])
