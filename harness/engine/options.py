"""The engine's settings (``harness run``'s request options) and the reasons it gives for unsent requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .ratelimit import RateLimit

BUDGET_EXHAUSTED = "budget exhausted"
NOT_IN_CACHE = "not in cache"


@dataclass
class EngineOptions:
    concurrency: int = 32
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    timeout: float | None = 120.0  # seconds per attempt; None = the provider's own
    rate_limit: RateLimit = field(default_factory=RateLimit)  # --rpm/--tpm: override for every target
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)  # suite: model name, provider or "default"
    cache: bool = True
    cache_path: Path | None = None  # None = default_cache_path()
    refresh: bool = False  # ignore cached responses (still store new ones)
    offline: bool = False  # answer from the cache only; uncached examples fail with "not in cache"
    batch: bool = False
    poll_interval: float = 30.0
    max_cost: float | None = None
    progress: str = "off"  # auto | bar | plain | off (see harness.engine.progress)
