"""Content statistics shared over the whole image: a thread-local record/replay that lets the maths
(:func:`stylelab.features.transforms.adain`, :func:`stylelab.features.whitening.apply_colouring`)
compute a statistic once on a thumbnail and reuse it for every tile (and, in :mod:`stylelab.media.video`,
over frames).

Private: every name here is imported from :mod:`stylelab.tiling`, its one public path.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable



__all__ = ["content_statistics", "statistics_scope", "SharedStatistics"]


_STATE = threading.local()


def content_statistics(kind: str, compute: Callable[[], tuple]):
    """Hook used by the transforms: ``compute()`` normally; recorded or replayed inside :class:`SharedStatistics`.

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

    One scope at a time (tiles: :class:`SharedStatistics`; video frames:
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


class SharedStatistics:
    """The content statistics of one run, recorded once and replayed for every tile.

    Usage::

        shared = SharedStatistics()
        with shared.record():
            fn(thumbnail)
        for tile in tiles:
            with shared.replay():
                fn(tile)
    """

    def __init__(self):
        self.items: list[tuple[str, tuple]] = []
        self.recorded = False
        self._mode: str | None = None
        self._pos = 0

    def _next(self, kind: str, compute):
        if self._mode == "record":
            value = compute()
            self.items.append((kind, value))
            return value
        if self._pos >= len(self.items) or self.items[self._pos][0] != kind:
            raise RuntimeError(
                f"tiled transfer: call {self._pos + 1} asks for {kind!r} statistics but the thumbnail run recorded "
                f"{[k for k, _ in self.items]}; the method must take the same path on every tile (label maps are not "
                f"supported with tiles)")
        value = self.items[self._pos][1]
        self._pos += 1
        return value

    @contextlib.contextmanager
    def _active(self, mode: str):
        self._mode, self._pos = mode, 0
        try:
            with statistics_scope(self):
                yield self
        finally:
            self._mode = None

    def record(self):
        """Context: store every content statistic computed inside (clears earlier ones)."""
        self.items, self.recorded = [], True
        return self._active("record")

    def replay(self):
        """Context: return the recorded statistics, in order, instead of computing them."""
        if not self.recorded:
            raise RuntimeError("nothing recorded: run the method once inside record() first")
        return self._active("replay")
