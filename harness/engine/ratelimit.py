"""Per-target rate limiting: requests and tokens per minute, Retry-After pauses and an adaptive in-flight cap.

A *target* is what a provider's limits apply to (one model at one base URL). Every request to a target
goes through one :class:`Limiter`, shared by all the harness models that point at it, so a 429 slows the
whole target down, not just the request that got it. Time is passed in explicitly (``now`` from
:func:`time.monotonic`) so the arithmetic is easy to test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class RateLimit:
    """Requests and tokens per minute; None = unlimited."""

    rpm: float | None = None
    tpm: float | None = None

    def describe(self) -> str:
        parts = [f"{self.rpm:g} rpm" if self.rpm else "", f"{self.tpm:g} tpm" if self.tpm else ""]
        return ", ".join(p for p in parts if p) or "unlimited"


class TokenBucket:
    """A bucket refilled at ``per_minute / 60`` units a second holding one second's worth (at least 1).

    A request larger than the bucket waits for a full bucket and then drives the level negative, so
    the requests after it wait for the debt to be repaid: the long-run rate never exceeds the limit.
    """

    def __init__(self, per_minute: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.level = self.capacity
        self.stamp: float | None = None

    def _refill(self, now: float) -> None:
        if self.stamp is not None:
            self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait(self, now: float, amount: float) -> float:
        """Seconds until ``amount`` may be taken."""
        self._refill(now)
        need = min(amount, self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / self.rate

    def take(self, now: float, amount: float) -> None:
        self._refill(now)
        self.level -= amount

    def give_back(self, amount: float) -> None:
        """Correct an estimate (negative ``amount`` charges more)."""
        self.level = min(self.capacity, self.level + amount)


class Limiter:
    """Admission control for one target.

    ``wait(now, tokens)`` says how long the next request must wait (``inf``: until a request in flight
    finishes); ``admit`` records that it was sent and ``done`` that it finished. ``throttle`` handles a
    429: the target is paused for the server's Retry-After and its in-flight cap is halved (at most once
    per pause); every success then raises the cap again by ``1/cap`` (additive increase, multiplicative
    decrease), up to the engine's concurrency.
    """

    def __init__(self, limit: RateLimit, max_inflight: int) -> None:
        self.requests = TokenBucket(limit.rpm) if limit.rpm else None
        self.tokens = TokenBucket(limit.tpm) if limit.tpm else None
        self.max_inflight = max(1, max_inflight)
        self.cap = float(self.max_inflight)
        self.inflight = 0
        self.paused_until = 0.0
        self._next_decrease = 0.0

    def wait(self, now: float, tokens: float) -> float:
        if self.inflight >= int(self.cap):
            return math.inf
        delay = max(0.0, self.paused_until - now)
        if self.requests is not None:
            delay = max(delay, self.requests.wait(now, 1))
        if self.tokens is not None and tokens > 0:
            delay = max(delay, self.tokens.wait(now, tokens))
        return delay

    def admit(self, now: float, tokens: float) -> None:
        self.inflight += 1
        if self.requests is not None:
            self.requests.take(now, 1)
        if self.tokens is not None and tokens > 0:
            self.tokens.take(now, tokens)

    def done(self, ok: bool, token_correction: float = 0.0) -> None:
        """A request finished; ``token_correction`` = estimated - actual tokens (given back to the bucket)."""
        self.inflight -= 1
        if self.tokens is not None and token_correction:
            self.tokens.give_back(token_correction)
        if ok and self.cap < self.max_inflight:
            self.cap = min(float(self.max_inflight), self.cap + 1.0 / self.cap)

    def throttle(self, now: float, pause: float) -> None:
        """A 429: pause the target for ``pause`` seconds and halve its in-flight cap."""
        self.paused_until = max(self.paused_until, now + max(0.0, pause))
        if now >= self._next_decrease:
            self.cap = max(1.0, self.cap / 2)
            self._next_decrease = now + max(pause, 0.1)
