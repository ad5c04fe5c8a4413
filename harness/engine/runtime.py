"""Process-level tuning for runs of many requests: the garbage collector and async-library detection."""

from __future__ import annotations

import gc

from ..gcpause import paused_gc as paused_gc  # where the engine and runner have always imported it


class GcTuning:
    """While requests run, collect garbage less often: every response allocates thousands of short-lived
    objects (HTTP client, SDK models), and the default gen-0 threshold (700) makes the collector rescan
    the run's growing state several times per request. Objects alive now (examples, the queued requests)
    are frozen out of the scans. :meth:`restore` undoes it."""

    def __init__(self) -> None:
        self._saved: tuple[int, int, int] | None = None

    def tune(self) -> None:
        if self._saved is None:
            self._saved = gc.get_threshold()
            gc.freeze()
            g0, g1, g2 = self._saved
            gc.set_threshold(max(g0, 20_000), g1, g2)

    def restore(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            gc.unfreeze()
            self._saved = None


def declare_asyncio() -> None:
    """Tell libraries that ask which async library runs (sniffio: httpx2, httpcore2 and anyio ask on every
    request, several times) that it is asyncio, the way ``anyio.run`` does for its own loops: through
    sniffio's context variable, instead of an ``asyncio.current_task()`` lookup per question. Call it at the
    top of the coroutine given to ``asyncio.run``; tasks started from it inherit the answer."""
    try:
        import sniffio
    except ImportError:  # nothing asks then
        return
    sniffio.current_async_library_cvar.set("asyncio")
