"""The tiled transfer's record/replay of content statistics: a handler of the transforms' hook
(:func:`stylelab.features.shared_statistics.content_statistics`).

Private: :class:`SharedStatistics` is imported from :mod:`stylelab.tiling`, its one public path.
"""

from __future__ import annotations

import contextlib

from ..features.shared_statistics import statistics_scope

__all__ = ["SharedStatistics"]


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
