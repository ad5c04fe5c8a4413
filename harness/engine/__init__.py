"""The request engine: runs many :class:`~harness.providers.RequestModel` requests concurrently, with rate
limits, retries, the durable response cache, the Batch API, token usage and cost, and progress display.

:class:`Engine` (:mod:`.core`) is the entry point; docs/architecture.md says what each module owns.
"""

from ..errors import Retryable
from ..jsonio import json_safe
from .core import Engine
from .options import BUDGET_EXHAUSTED, NOT_IN_CACHE, EngineOptions
from .retry import FAIL_FAST_AFTER, RETRY_AFTER_MAX
from .runtime import declare_asyncio, paused_gc

__all__ = [
    "BUDGET_EXHAUSTED", "FAIL_FAST_AFTER", "NOT_IN_CACHE", "RETRY_AFTER_MAX", "Engine", "EngineOptions",
    "Retryable", "declare_asyncio", "json_safe", "paused_gc",
]
