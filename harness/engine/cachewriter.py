"""The engine's access to the durable response cache (:mod:`harness.engine.cache`).

The cache is opened on first use; responses that arrive in one event-loop turn are committed together at the
start of the next one; every write is guarded: a :class:`sqlite3.Error` (a full disk, a read-only file) is a
notice, and the run goes on without caching (the responses are kept).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .cache import Cache, resolve_cache_path
from .options import EngineOptions

T = TypeVar("T")


class CacheWriter:
    def __init__(self, options: EngineOptions, notice: Callable[[str], None]) -> None:
        self.options = options  # read when the cache is opened: ``cache``, ``cache_path``
        self.notice = notice
        self.cache: Cache | None = None  # open (and writable, as far as is known)
        self._tried = False
        self._unsaved: list[tuple[Any, ...]] = []

    @property
    def path(self) -> Path | None:
        if not self.options.cache:
            return None
        return resolve_cache_path(self.options.cache_path)

    def open(self) -> Cache | None:
        """The cache, opened on first use (None with ``cache=False`` or after a write error)."""
        if not self._tried:
            self._tried = True
            path = self.path
            if path is not None:
                self.cache = Cache.open_for_run(path)
                if self.cache.readonly:
                    self.notice(f"the response cache {path} is read-only: cached responses are used, new ones "
                                "are not stored (a re-run will request them again)")
        return self.cache

    def op(self, op: Callable[[Cache], T]) -> T | None:
        """``op(cache)`` guarded like every cache write: None without a cache; a :class:`sqlite3.Error` (a full
        disk, a read-only file) is a notice and the run goes on without caching."""
        cache = self.open()
        if cache is None:
            return None
        try:
            return op(cache)
        except sqlite3.Error as exc:
            self.failed(exc)
            return None

    def store_now(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Cache responses at once (with any queued ones)."""
        self._unsaved.extend(rows)
        self.flush()

    def store(self, *row: Any) -> None:
        """Queue a response for the cache; the responses that arrive in one event-loop turn are committed
        together at the start of the next one (before anything else can wait on the network)."""
        self._unsaved.append(row)
        if len(self._unsaved) == 1:
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        rows, self._unsaved = self._unsaved, []
        if not rows or self.cache is None:
            return
        try:
            self.cache.put_many(rows)
        except sqlite3.Error as exc:  # a full disk must not end the run: go on without caching
            self.failed(exc)

    def failed(self, exc: sqlite3.Error) -> None:
        """A cache operation failed: say so once and go on without caching (the responses are kept)."""
        cache, self.cache = self.cache, None
        self._unsaved = []
        if cache is None:
            return
        self.notice(f"could not write to the response cache {cache.path} ({exc}); going on without caching")
        try:
            cache.close()
        except sqlite3.Error:
            pass

    def close(self) -> None:
        """Commit what is queued and close the cache (it reopens on next use)."""
        self.flush()
        if self.cache is not None:
            self.cache.close()
            self.cache = None
            self._tried = False
