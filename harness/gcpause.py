"""Pausing the cyclic garbage collector while many small objects that all stay alive are built (a million held-out
rows, the data checks' rows, thousands of requests and responses): it would otherwise rescan them again and again.
A module of its own, with no imports, so the data checks use it without loading the engine."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the collector for the ``with`` block (nested pauses are fine: the outermost one turns it back on)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
