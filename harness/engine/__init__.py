"""The request engine: runs many :class:`~harness.providers.RequestModel` requests concurrently, with rate
limits, retries, the durable response cache, the Batch API, token usage and cost, and progress display."""

from ..errors import Retryable
from .core import (
    BUDGET_EXHAUSTED,
    FAIL_FAST_AFTER,
    NOT_IN_CACHE,
    RETRY_AFTER_MAX,
    Engine,
    EngineOptions,
    declare_asyncio,
    json_safe,
    paused_gc,
)

__all__ = [
    "BUDGET_EXHAUSTED", "FAIL_FAST_AFTER", "NOT_IN_CACHE", "RETRY_AFTER_MAX", "Engine", "EngineOptions",
    "Retryable", "declare_asyncio", "json_safe", "paused_gc",
]
