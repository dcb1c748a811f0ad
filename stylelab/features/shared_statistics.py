"""The content-statistics hook of the transforms: a statistic computed normally, or supplied by a scope.

AdaIN's (μ_c, σ_c) (:func:`stylelab.features.transforms.adain`) and WCT's whitening
(:func:`stylelab.features.whitening.apply_colouring`) ask for the content's statistics through
:func:`content_statistics`. Outside any scope it simply calls ``compute()``. Inside
:func:`statistics_scope` a handler answers instead: the tiled transfer
(:class:`stylelab.tiling.SharedStatistics`) records a thumbnail's statistics once and replays them on
every tile (Chen et al., AAAI 2022); the video path (:class:`stylelab.media.video.TemporalStatistics`)
smooths them over frames. The hook lives here, beside the maths that calls it, so the maths stands
below the pipelines that use it (the tiler and the video reader import it; it imports nothing).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable

__all__ = ["content_statistics", "statistics_scope"]


_STATE = threading.local()  # one scope per thread: two transfers in two threads do not see each other's


def content_statistics(kind: str, compute: Callable[[], tuple]):

    """Hook used by the transforms: ``compute()`` normally; recorded or replayed inside :class:`stylelab.tiling.SharedStatistics`.

    ``kind`` names the transform (``"adain"``, ``"wct"``, ``"wct2"``); a replay
    checks that the calls come in the recorded order and raises otherwise
    (the method took a different path on the tile than on the thumbnail).
    """
    stats = getattr(_STATE, "active", None)
    if stats is None:
        return compute()
    return stats._next(kind, compute)


@contextlib.contextmanager
def statistics_scope(handler):
    """Context: every :func:`content_statistics` call inside returns ``handler._next(kind, compute)``.

    One scope at a time (tiles: :class:`stylelab.tiling.SharedStatistics`; video frames:
    :class:`stylelab.media.video.TemporalStatistics`).
    """
    if getattr(_STATE, "active", None) is not None:
        raise RuntimeError("content statistics are already shared or smoothed here (a tiled transfer or a video frame "
                           "inside another is not supported)")
    _STATE.active = handler
    try:
        yield handler
    finally:
        _STATE.active = None
